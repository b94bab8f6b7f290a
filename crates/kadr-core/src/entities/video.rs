use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::state::{Moderation, Privacy, Stage, VideoStatus};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "videos")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub channel_id: Uuid,
    pub owner_id: Uuid,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub language: Option<String>,
    /// `public`, `unlisted` or `private`.
    pub privacy: Privacy,
    /// `awaiting_upload`, `queued`, `processing`, `ready` or `failed`.
    pub status: VideoStatus,
    pub stage: Option<Stage>,
    pub progress: i16,
    pub playable: bool,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    /// `pending`, `approved` or `rejected`.
    pub moderation: Moderation,
    pub moderation_reason: Option<String>,
    pub moderated_by: Option<Uuid>,
    pub moderated_at: Option<DateTimeWithTimeZone>,
    pub duration_ms: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub fps: Option<f64>,
    pub rotation: i16,
    pub is_short: bool,
    pub source_size_bytes: Option<i64>,
    pub view_count: i64,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
    pub published_at: Option<DateTimeWithTimeZone>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
