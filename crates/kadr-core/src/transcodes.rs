//! What a transcode records about its video: processing and its stages, what probing found,
//! progress, playable, and the end (ready with its renditions and pictures, in the transaction
//! that completes the job; failed with a code; queued again for another attempt).

use kadr_config::Config;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, FromQueryResult,
    Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::codes::Failure;
use crate::error::DomainError;
use crate::keys;
use crate::state::{DownloadFormat, ImageKind, NotificationType, Stage, VideoStatus, WebhookEvent};
use crate::webhooks::{self, Event};

/// Tells the video's owner's webhooks of `kind`, in `tx`.
async fn tell(
    tx: &impl ConnectionTrait,
    config: &Config,
    id: Uuid,
    kind: WebhookEvent,
) -> Result<(), DomainError> {
    let Some(row) = tx
        .query_one_raw(stmt(
            "SELECT owner_id FROM videos WHERE id = $1".to_owned(),
            vec![id.into()],
        ))
        .await?
    else {
        return Ok(());
    };
    let owner: Uuid = row.try_get("", "owner_id")?;
    webhooks::emit(tx, config, Event::video(kind, owner, id)).await
}

fn stmt(sql: String, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Whether the video still exists (a deleted one stops its transcode).
pub async fn video_exists(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DomainError> {
    Ok(db
        .query_one_raw(stmt(
            "SELECT 1 AS one FROM videos WHERE id = $1".to_owned(),
            vec![id.into()],
        ))
        .await?
        .is_some())
}

/// Processing begins (probing): any earlier failure is forgotten.
pub async fn start(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DomainError> {
    db.execute_raw(stmt(
        format!(
            "UPDATE videos SET status = '{}', stage = '{}', progress = 0, failure_code = NULL,
                 failure_message = NULL, updated_at = now() WHERE id = $1",
            VideoStatus::Processing.as_str(),
            Stage::Probing.as_str()
        ),
        vec![id.into()],
    ))
    .await?;
    Ok(())
}

/// What probing found, recorded as transcoding begins.
#[derive(Debug, Clone, PartialEq)]
pub struct Probed {
    pub duration_ms: i64,
    pub width: i32,
    pub height: i32,
    pub fps: f64,
    pub rotation: i16,
    pub is_short: bool,
}

pub async fn probed(db: &impl ConnectionTrait, id: Uuid, p: &Probed) -> Result<(), DomainError> {
    db.execute_raw(stmt(
        format!(
            "UPDATE videos SET stage = '{}', duration_ms = $2, width = $3, height = $4, fps = $5,
                 rotation = $6, is_short = $7, updated_at = now() WHERE id = $1",
            Stage::Transcoding.as_str()
        ),
        vec![
            id.into(),
            p.duration_ms.into(),
            p.width.into(),
            p.height.into(),
            p.fps.into(),
            p.rotation.into(),
            p.is_short.into(),
        ],
    ))
    .await?;
    Ok(())
}

/// The ladder is encoded; what is left goes to storage.
pub async fn publishing(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DomainError> {
    db.execute_raw(stmt(
        format!(
            "UPDATE videos SET stage = '{}', updated_at = now() WHERE id = $1",
            Stage::Publishing.as_str()
        ),
        vec![id.into()],
    ))
    .await?;
    Ok(())
}

/// Percent done, 0 to 99 while transcoding.
pub async fn progress(db: &impl ConnectionTrait, id: Uuid, pct: i16) -> Result<(), DomainError> {
    db.execute_raw(stmt(
        "UPDATE videos SET progress = $2, updated_at = now() WHERE id = $1".to_owned(),
        vec![id.into(), pct.clamp(0, 99).into()],
    ))
    .await?;
    Ok(())
}

/// Every rung has its first segment: players can start (and webhooks hear
/// `video.playable`, once per time it becomes so).
pub async fn playable(
    db: &DatabaseConnection,
    config: &Config,
    id: Uuid,
) -> Result<(), DomainError> {
    let tx = db.begin().await?;
    let became = tx
        .query_one_raw(stmt(
            "UPDATE videos SET playable = true, updated_at = now()
             WHERE id = $1 AND NOT playable RETURNING owner_id"
                .to_owned(),
            vec![id.into()],
        ))
        .await?;
    if let Some(row) = became {
        let owner: Uuid = row.try_get("", "owner_id")?;
        webhooks::emit(
            &tx,
            config,
            Event::video(WebhookEvent::VideoPlayable, owner, id),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// One rendition of the ladder, complete.
#[derive(Debug, Clone)]
pub struct Rendition {
    pub name: String,
    pub width: i32,
    pub height: i32,
    pub codecs: String,
    pub bandwidth: i64,
    pub avg_bandwidth: i64,
    pub segments: i32,
}

/// A poster or storyboard file in storage.
#[derive(Debug, Clone)]
pub struct Picture {
    pub kind: ImageKind,
    pub key: String,
    pub content_type: &'static str,
    pub size: Option<(i32, i32)>,
}

/// A download file in storage (`downloads/{video}/…`).
#[derive(Debug, Clone)]
pub struct Download {
    pub format: DownloadFormat,
    pub key: String,
    pub size_bytes: i64,
    pub size: Option<(i32, i32)>,
}

/// Records a finished transcode in `tx` (the caller completes the job in it too): the
/// renditions, pictures and downloads replace any earlier ones and the video is ready and
/// published.
pub async fn ready(
    tx: &DatabaseTransaction,
    config: &Config,
    id: Uuid,
    renditions: &[Rendition],
    pictures: &[Picture],
    downloads: &[Download],
) -> Result<(), DomainError> {
    tx.execute_raw(stmt(
        "DELETE FROM downloads WHERE video_id = $1".to_owned(),
        vec![id.into()],
    ))
    .await?;
    for d in downloads {
        tx.execute_raw(stmt(
            "INSERT INTO downloads (video_id, format, storage_key, size_bytes, width, height)
             VALUES ($1, $2, $3, $4, $5, $6)"
                .to_owned(),
            vec![
                id.into(),
                d.format.as_str().into(),
                d.key.clone().into(),
                d.size_bytes.into(),
                d.size.map(|s| s.0).into(),
                d.size.map(|s| s.1).into(),
            ],
        ))
        .await?;
    }
    tx.execute_raw(stmt(
        "DELETE FROM renditions WHERE video_id = $1".to_owned(),
        vec![id.into()],
    ))
    .await?;
    for r in renditions {
        tx.execute_raw(stmt(
            "INSERT INTO renditions (id, video_id, name, width, height, fps, codecs, bandwidth,
                 avg_bandwidth, playlist_key, segments, complete)
             VALUES ($1, $2, $3, $4, $5, (SELECT fps FROM videos WHERE id = $2), $6, $7, $8, $9, $10, true)"
                .to_owned(),
            vec![
                Uuid::now_v7().into(),
                id.into(),
                r.name.clone().into(),
                r.width.into(),
                r.height.into(),
                r.codecs.clone().into(),
                r.bandwidth.into(),
                r.avg_bandwidth.into(),
                keys::rung_playlist(id, &r.name).into(),
                r.segments.into(),
            ],
        ))
        .await?;
    }
    // The owner's uploaded poster stays: it is not the transcoder's.
    tx.execute_raw(stmt(
        format!(
            "DELETE FROM images WHERE video_id = $1 AND kind NOT IN ('{}', '{}')",
            ImageKind::Custom.as_str(),
            ImageKind::CustomSmall.as_str()
        ),
        vec![id.into()],
    ))
    .await?;
    for p in pictures {
        tx.execute_raw(stmt(
            "INSERT INTO images (id, video_id, kind, storage_key, content_type, width, height)
             VALUES ($1, $2, $3, $4, $5, $6, $7)"
                .to_owned(),
            vec![
                Uuid::now_v7().into(),
                id.into(),
                p.kind.as_str().into(),
                p.key.clone().into(),
                p.content_type.into(),
                p.size.map(|s| s.0).into(),
                p.size.map(|s| s.1).into(),
            ],
        ))
        .await?;
    }
    // A chosen frame the new pass did not make again: back to the transcoder's pick.
    let made: Vec<String> = pictures
        .iter()
        .filter(|p| p.kind == ImageKind::Frame)
        .map(|p| p.key.clone())
        .collect();
    let poster: Option<String> = PosterStem::find_by_statement(stmt(
        "SELECT poster FROM videos WHERE id = $1".to_owned(),
        vec![id.into()],
    ))
    .one(tx)
    .await?
    .map(|r| r.poster);
    if let Some(stem) = poster
        && matches!(
            crate::posters::Source::of(&stem),
            crate::posters::Source::Frame(_)
        )
        && !made.contains(&keys::image(id, &crate::posters::file(&stem, false)))
    {
        tx.execute_raw(stmt(
            "UPDATE videos SET poster = $2 WHERE id = $1".to_owned(),
            vec![id.into(), crate::posters::AUTO.into()],
        ))
        .await?;
    }
    // A short video may finish before the publisher saw it playable: its webhooks hear
    // `video.playable` here, before `video.ready`.
    let was_playable = tx
        .query_one_raw(stmt(
            "SELECT playable FROM videos WHERE id = $1".to_owned(),
            vec![id.into()],
        ))
        .await?
        .map(|r| r.try_get::<bool>("", "playable"))
        .transpose()?
        .unwrap_or(true);
    tx.execute_raw(stmt(
        format!(
            "UPDATE videos SET status = '{}', playable = true, progress = 100, stage = NULL,
                 preview = $2,
                 failure_code = NULL, failure_message = NULL, updated_at = now(),
                 published_at = COALESCE(published_at, least(coalesce(original_at, now()), now()))
             WHERE id = $1",
            VideoStatus::Ready.as_str()
        ),
        vec![
            id.into(),
            pictures.iter().any(|p| p.kind == ImageKind::Preview).into(),
        ],
    ))
    .await?;
    // The owner is told, from the transcode's own job.
    tx.execute_raw(stmt(
        format!(
            "INSERT INTO notifications (user_id, type, video_id)
             SELECT owner_id, '{}', id FROM videos WHERE id = $1",
            NotificationType::Processed.as_str()
        ),
        vec![id.into()],
    ))
    .await?;
    if !was_playable {
        tell(tx, config, id, WebhookEvent::VideoPlayable).await?;
    }
    tell(tx, config, id, WebhookEvent::VideoReady).await
}

#[derive(Debug, FromQueryResult)]
struct PosterStem {
    poster: String,
}

/// Handed back or to be retried: queued again.
pub async fn requeue(db: &impl ConnectionTrait, id: Uuid) -> Result<(), DomainError> {
    db.execute_raw(stmt(
        format!(
            "UPDATE videos SET status = '{}', stage = NULL, updated_at = now() WHERE id = $1",
            VideoStatus::Queued.as_str()
        ),
        vec![id.into()],
    ))
    .await?;
    Ok(())
}

/// Failed with `code` and words for the uploader (and webhooks hear `video.failed`).
pub async fn fail(
    db: &DatabaseConnection,
    config: &Config,
    id: Uuid,
    code: Failure,
    message: &str,
) -> Result<(), DomainError> {
    let tx = db.begin().await?;
    tx.execute_raw(stmt(
        format!(
            "UPDATE videos SET status = '{}', playable = false, stage = NULL, failure_code = $2,
                 failure_message = $3, updated_at = now() WHERE id = $1",
            VideoStatus::Failed.as_str()
        ),
        vec![id.into(), code.as_str().into(), message.into()],
    ))
    .await?;
    tx.execute_raw(stmt(
        format!(
            "INSERT INTO notifications (user_id, type, video_id, data)
             SELECT owner_id, '{}', id, jsonb_build_object('code', $2::text) FROM videos WHERE id = $1",
            NotificationType::ProcessingFailed.as_str()
        ),
        vec![id.into(), code.as_str().into()],
    ))
    .await?;
    tell(&tx, config, id, WebhookEvent::VideoFailed).await?;
    tx.commit().await?;
    Ok(())
}
