use sea_orm::entity::prelude::*;
use serde::Serialize;

use crate::state::{Role, Standing};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: Uuid,
    pub username: String,
    pub email: String,
    #[serde(skip)]
    pub password_hash: String,
    /// `user`, `moderator` or `admin`.
    pub role: Role,
    pub verified: bool,
    pub storage_used_bytes: i64,
    pub created_at: DateTimeWithTimeZone,
    pub updated_at: DateTimeWithTimeZone,
    /// `active`, `suspended` (until `suspended_until`) or `banned`.
    pub standing: Standing,
    pub suspended_until: Option<DateTimeWithTimeZone>,
    pub display_name: String,
    pub bio: String,
    pub email_verified: bool,
    /// Overrides `upload.user_quota_bytes` (0 = no limit).
    pub quota_bytes: Option<i64>,
    pub history_paused: bool,
    /// Being deleted by jobs.
    pub deleting_at: Option<DateTimeWithTimeZone>,
    /// The interface language chosen (`en`, `ru`, `ar`); `None`: the browser's.
    pub ui_language: Option<String>,
    /// The language new uploads are marked with when they name none.
    pub video_language: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    pub fn is_moderator(&self) -> bool {
        self.role.moderates()
    }
}
