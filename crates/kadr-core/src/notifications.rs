//! Notifications: written by jobs only (a `notify` job per event that happens in a request,
//! the transcode's own job, the counters' fold, the announcement's fan-out), never inline in a
//! request. A notification about a video or comment the user may no longer see is left out
//! when read; those older than `community.notification_days` are pruned.

use kadr_config::Config;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;
use crate::jobs;
use crate::state::NotificationType;

/// One notification, as a `notify` job carries it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NewNotification {
    pub user_id: Uuid,
    #[serde(rename = "type")]
    pub kind: NotificationType,
    pub video_id: Option<Uuid>,
    pub comment_id: Option<Uuid>,
    pub actor_id: Option<Uuid>,
    #[serde(default)]
    pub data: serde_json::Value,
}

/// Writes `n` (from a job).
pub async fn insert(db: &impl ConnectionTrait, n: &NewNotification) -> Result<(), DomainError> {
    let data = if n.data.is_null() {
        serde_json::json!({})
    } else {
        n.data.clone()
    };
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO notifications (user_id, type, video_id, comment_id, actor_id, data)
         VALUES ($1, $2, $3, $4, $5, $6)",
        [
            n.user_id.into(),
            n.kind.as_str().into(),
            n.video_id.into(),
            n.comment_id.into(),
            n.actor_id.into(),
            data.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// Asks for `n` to be written by a `notify` job, in `db` (the caller's transaction).
pub async fn enqueue(
    db: &impl ConnectionTrait,
    config: &Config,
    n: &NewNotification,
) -> Result<(), DomainError> {
    jobs::enqueue(db, config, jobs::NOTIFY, n, None).await
}

/// Marks `user`'s notifications read: the given ones, or all. Returns how many changed.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user: Uuid,
    ids: Option<&[i64]>,
) -> Result<u64, DomainError> {
    let done = match ids {
        Some(ids) => {
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE notifications SET read_at = now()
                 WHERE user_id = $1 AND id = ANY($2) AND read_at IS NULL",
                [user.into(), ids.to_vec().into()],
            ))
            .await?
        }
        None => {
            db.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE notifications SET read_at = now() WHERE user_id = $1 AND read_at IS NULL",
                [user.into()],
            ))
            .await?
        }
    };
    Ok(done.rows_affected())
}

/// Removes notifications older than `days` (a periodic kind of the worker).
pub async fn prune(db: &impl ConnectionTrait, days: u32) -> Result<u64, DomainError> {
    let done = db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "DELETE FROM notifications WHERE created_at < now() - make_interval(days => $1)",
            [i32::try_from(days).unwrap_or(i32::MAX).into()],
        ))
        .await?;
    Ok(done.rows_affected())
}
