//! Watch history and resume positions. The player saves where the viewer is every few seconds
//! and when they leave; the next visit resumes there. History can be paused (nothing is
//! written), cleared, or trimmed entry by entry; at most `community.history_max` entries are
//! kept per user (the oldest go first). Read through the visibility rule like every list.

use kadr_config::Config;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::entities::user;
use crate::error::DomainError;
use crate::visibility::Viewer;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// The largest position taken (48 hours; no video is longer).
pub const POSITION_MAX_MS: i64 = 48 * 3600 * 1000;

/// Within this much of the end a video counts as watched: it resumes from the start and
/// leaves "continue watching".
pub const FINISHED_WITHIN_MS: i64 = 10_000;

/// Saves `user`'s position in `video` (one they can see). Nothing is written while their
/// history is paused. Returns whether it was saved.
pub async fn save(
    db: &impl ConnectionTrait,
    config: &Config,
    user: &user::Model,
    video: Uuid,
    position_ms: i64,
) -> Result<bool, DomainError> {
    if !(0..=POSITION_MAX_MS).contains(&position_ms) {
        return Err(DomainError::invalid(
            "position_ms",
            "A position is 0 to 172800000 ms",
        ));
    }
    let v = crate::comments::video(db, &Viewer::user(user), video).await?;
    if user.history_paused {
        return Ok(false);
    }
    let fresh = db
        .query_one_raw(stmt(
            "INSERT INTO watch_history AS h (user_id, video_id, position_ms, duration_ms)
             SELECT $1, $2, $3, duration_ms FROM videos WHERE id = $2
             ON CONFLICT (user_id, video_id) DO UPDATE
                 SET position_ms = $3, duration_ms = EXCLUDED.duration_ms, watched_at = now()
             RETURNING (xmax = 0) AS fresh",
            vec![user.id.into(), v.id.into(), position_ms.into()],
        ))
        .await?
        .map(|r| r.try_get::<bool>("", "fresh"))
        .transpose()?
        .unwrap_or(false);
    if fresh {
        // A new entry: the oldest past the limit go.
        db.execute_raw(stmt(
            "DELETE FROM watch_history WHERE user_id = $1 AND (watched_at, video_id) <= (
                 SELECT watched_at, video_id FROM watch_history WHERE user_id = $1
                 ORDER BY watched_at DESC, video_id DESC OFFSET $2 LIMIT 1)",
            vec![
                user.id.into(),
                i64::from(config.community.history_max).into(),
            ],
        ))
        .await?;
    }
    Ok(true)
}

/// Where `user` stopped in `video`: `None` when never watched or watched to the end.
pub async fn resume_at(
    db: &impl ConnectionTrait,
    user: Uuid,
    video: Uuid,
) -> Result<Option<i64>, DomainError> {
    let row = db
        .query_one_raw(stmt(
            "SELECT position_ms, duration_ms FROM watch_history WHERE user_id = $1 AND video_id = $2",
            vec![user.into(), video.into()],
        ))
        .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let at: i64 = row.try_get("", "position_ms")?;
    let duration: Option<i64> = row.try_get("", "duration_ms")?;
    Ok(unfinished(at, duration).then_some(at))
}

/// Whether a position is worth resuming: past the first seconds and short of the end.
pub fn unfinished(at: i64, duration: Option<i64>) -> bool {
    at >= 5_000 && duration.is_none_or(|d| at < d - FINISHED_WITHIN_MS)
}

/// The SQL form of [`unfinished`] over `watch_history h`.
pub const UNFINISHED_SQL: &str =
    "h.position_ms >= 5000 AND (h.duration_ms IS NULL OR h.position_ms < h.duration_ms - 10000)";

/// Removes one entry of `user`'s history.
pub async fn remove(db: &impl ConnectionTrait, user: Uuid, video: Uuid) -> Result<(), DomainError> {
    db.execute_raw(stmt(
        "DELETE FROM watch_history WHERE user_id = $1 AND video_id = $2",
        vec![user.into(), video.into()],
    ))
    .await?;
    Ok(())
}

/// Clears `user`'s history. Returns how many entries went.
pub async fn clear(db: &impl ConnectionTrait, user: Uuid) -> Result<u64, DomainError> {
    Ok(db
        .execute_raw(stmt(
            "DELETE FROM watch_history WHERE user_id = $1",
            vec![user.into()],
        ))
        .await?
        .rows_affected())
}

/// Pauses or resumes the recording of `user`'s history.
pub async fn set_paused(
    db: &impl ConnectionTrait,
    user: Uuid,
    paused: bool,
) -> Result<(), DomainError> {
    db.execute_raw(stmt(
        "UPDATE users SET history_paused = $2, updated_at = now() WHERE id = $1",
        vec![user.into(), paused.into()],
    ))
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_resumes() {
        assert!(!unfinished(2_000, Some(60_000)), "the first seconds");
        assert!(unfinished(30_000, Some(60_000)));
        assert!(!unfinished(55_000, Some(60_000)), "the last seconds");
        assert!(unfinished(30_000, None));
        assert_eq!(
            UNFINISHED_SQL,
            format!(
                "h.position_ms >= 5000 AND (h.duration_ms IS NULL OR h.position_ms < h.duration_ms - {FINISHED_WITHIN_MS})"
            )
        );
    }
}
