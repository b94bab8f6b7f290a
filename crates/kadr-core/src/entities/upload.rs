use sea_orm::entity::prelude::*;

use crate::state::{UploadBackend, UploadState};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "uploads")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub video_id: Uuid,
    pub owner_id: Uuid,
    /// Declared size (tus `Upload-Length`).
    pub length: i64,
    /// Bytes durably stored: what HEAD reports.
    pub offset_bytes: i64,
    pub filename: Option<String>,
    pub metadata: Json,
    /// Where the original ends up.
    pub storage_key: String,
    /// `s3` (multipart parts + tail pieces) or `local` (one appended file).
    pub backend: UploadBackend,
    pub part_size: i64,
    pub multipart_id: Option<String>,
    /// Completed parts: `[{"n": 1, "etag": "…"}]`, part n holding bytes [(n−1)·part_size, n·part_size).
    pub parts: Json,
    /// Bytes past the last part, as small objects: `[{"offset": …, "size": …}]`.
    pub pieces: Json,
    pub lock_token: Option<Uuid>,
    pub locked_until: Option<DateTimeWithTimeZone>,
    /// `active`, `complete`, `aborted` or `expired`.
    pub state: UploadState,
    pub expires_at: DateTimeWithTimeZone,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
    pub completed_at: Option<DateTimeWithTimeZone>,
    /// The client sends the parts straight to storage (presigned URLs); not a tus upload.
    pub direct: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
