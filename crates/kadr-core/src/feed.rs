//! Telling subscribers about a new video: fan-out on write, in batches.
//!
//! - `announce` (periodic, every `community.announce_interval_ms`) finds listed videos not yet
//!   announced (a partial index holds exactly those), marks them announced and enqueues a
//!   `fanout` job for each. Every path by which a video becomes listed (transcode, approval,
//!   a privacy change) is covered, since the announcer looks at the state, not at events. A
//!   video is announced once, the first time it is listed.
//! - `fanout` writes a feed item and a notification for each subscriber of the video's channel,
//!   `community.fanout_batch` subscribers per transaction in subscriber order; the position is
//!   saved in the same transaction (`fanouts.after_user`), so a crash or a shutdown resumes
//!   where it stopped and writes nothing twice. A video that stops being listed stops its
//!   fan-out.
//!
//! Reads stay cheap whatever the channel's size: a user's feed is one index range of their
//! own rows (joined with the video, the rule applied as it is now).

use kadr_config::Config;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use uuid::Uuid;

use crate::error::DomainError;
use crate::jobs;
use crate::state::NotificationType;
use crate::visibility::LISTED;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Marks up to `limit` newly listed videos announced and enqueues their fan-outs. Returns
/// how many.
pub async fn announce(
    db: &DatabaseConnection,
    config: &Config,
    limit: u64,
) -> Result<u64, DomainError> {
    let tx = db.begin().await?;
    let rows = tx
        .query_all_raw(stmt(
            &format!(
                "UPDATE videos SET announced_at = now() WHERE id IN (
                     SELECT v.id FROM videos v WHERE v.announced_at IS NULL AND {LISTED}
                     ORDER BY v.published_at LIMIT {limit} FOR UPDATE SKIP LOCKED)
                 RETURNING id, channel_id"
            ),
            vec![],
        ))
        .await?;
    for row in &rows {
        let video: Uuid = row.try_get("", "id")?;
        let channel: Uuid = row.try_get("", "channel_id")?;
        tx.execute_raw(stmt(
            "INSERT INTO fanouts (video_id, channel_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            vec![video.into(), channel.into()],
        ))
        .await?;
        jobs::enqueue(
            &tx,
            config,
            jobs::FANOUT,
            &jobs::Fanout { video_id: video },
            Some(video.to_string()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(rows.len() as u64)
}

/// One batch of a video's fan-out. Returns `(subscribers written, finished)`.
pub async fn fanout_step(
    db: &DatabaseConnection,
    video: Uuid,
    batch: u32,
) -> Result<(u64, bool), DomainError> {
    let tx = db.begin().await?;
    let row = tx
        .query_one_raw(stmt(
            &format!(
                "SELECT f.after_user, f.done_at IS NOT NULL AS done, v.channel_id, v.owner_id,
                        v.published_at, v.is_short, ({LISTED}) AS listed
                 FROM fanouts f JOIN videos v ON v.id = f.video_id
                 WHERE f.video_id = $1 FOR UPDATE OF f"
            ),
            vec![video.into()],
        ))
        .await?;
    let Some(row) = row else {
        // The video was deleted: nothing to tell.
        tx.execute_raw(stmt(
            "UPDATE fanouts SET done_at = now() WHERE video_id = $1",
            vec![video.into()],
        ))
        .await?;
        tx.commit().await?;
        return Ok((0, true));
    };
    let done: bool = row.try_get("", "done")?;
    let listed: bool = row.try_get("", "listed")?;
    let published: Option<chrono::DateTime<chrono::FixedOffset>> =
        row.try_get("", "published_at")?;
    let Some(published) = published.filter(|_| listed && !done) else {
        tx.execute_raw(stmt(
            "UPDATE fanouts SET done_at = coalesce(done_at, now()) WHERE video_id = $1",
            vec![video.into()],
        ))
        .await?;
        tx.commit().await?;
        return Ok((0, true));
    };
    let after: Option<Uuid> = row.try_get("", "after_user")?;
    let channel: Uuid = row.try_get("", "channel_id")?;
    let owner: Uuid = row.try_get("", "owner_id")?;
    let short: bool = row.try_get("", "is_short")?;
    let written = tx
        .query_one_raw(stmt(
            &format!(
                "WITH subs AS (
                    SELECT user_id FROM subscriptions
                    WHERE channel_id = $1 AND ($2::uuid IS NULL OR user_id > $2)
                    ORDER BY user_id LIMIT {batch}),
                 f AS (
                    INSERT INTO feed_items (user_id, published_at, video_id, channel_id, is_short)
                    SELECT user_id, $3, $4, $1, $5 FROM subs ON CONFLICT DO NOTHING),
                 n AS (
                    INSERT INTO notifications (user_id, type, video_id, actor_id)
                    SELECT user_id, '{new_video}', $4, $6 FROM subs)
                 SELECT count(*) AS n,
                        (SELECT user_id FROM subs ORDER BY user_id DESC LIMIT 1) AS last
                 FROM subs",
                new_video = NotificationType::NewVideo.as_str()
            ),
            vec![
                channel.into(),
                after.into(),
                published.into(),
                video.into(),
                short.into(),
                owner.into(),
            ],
        ))
        .await?;
    let (n, last) = match written {
        Some(r) => (
            r.try_get::<i64>("", "n")?,
            r.try_get::<Option<Uuid>>("", "last")?,
        ),
        None => (0, None),
    };
    let finished = n < i64::from(batch);
    tx.execute_raw(stmt(
        "UPDATE fanouts SET after_user = coalesce($2, after_user),
             done_at = CASE WHEN $3 THEN now() ELSE NULL END
         WHERE video_id = $1",
        vec![video.into(), last.into(), finished.into()],
    ))
    .await?;
    tx.commit().await?;
    Ok((n as u64, finished))
}

/// Forgets finished fan-outs older than a day.
pub async fn sweep(db: &impl ConnectionTrait) -> Result<u64, DomainError> {
    let done = db
        .execute_raw(stmt(
            "DELETE FROM fanouts WHERE done_at < now() - interval '1 day'",
            vec![],
        ))
        .await?;
    Ok(done.rows_affected())
}

/// Runs a video's fan-out to the end (tests and one-off runs).
pub async fn fanout_all(
    db: &DatabaseConnection,
    video: Uuid,
    batch: u32,
) -> Result<u64, DomainError> {
    let mut total = 0;
    loop {
        let (n, finished) = fanout_step(db, video, batch).await?;
        total += n;
        if finished {
            return Ok(total);
        }
    }
}
