//! The rules of uploading: the size limit and the quota, the caps on uploads in progress and
//! videos waiting, the rows of a new video and its upload, and what completing an upload
//! records (video queued, storage accounted, transcode enqueued, back to review when the
//! owner is not trusted) in one transaction.
//!
//! Storage is never called inside an open transaction: the service prepares an upload's
//! storage first ([`Staging`]) and gives it back when the rows are refused.

use chrono::Utc;
use kadr_config::Config;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, EntityTrait, QueryFilter, Statement,
};
use serde_json::json;
use uuid::Uuid;

use crate::codes::Code;
use crate::entities::{upload, user, video};
use crate::error::DomainError;
use crate::jobs;
use crate::keys;
use crate::review;
use crate::state::WebhookEvent;
use crate::state::{UploadBackend, UploadState, VideoStatus};
use crate::videos::VideoFields;
use crate::webhooks::Event;

/// 413: the quota cannot hold `size` more bytes.
pub fn quota_exceeded(size: i64) -> DomainError {
    DomainError::refused(Code::QuotaExceeded, "Your storage quota is used up")
        .detail(format!("this file needs {size} bytes more than is left"))
}

/// 409: a video has at most one upload being written or written.
pub fn video_has_upload() -> DomainError {
    DomainError::refused(Code::VideoHasUpload, "This video already has an upload")
}

/// A user's quota in bytes (0: none): their own when an administrator set one, otherwise
/// `upload.user_quota_bytes`.
pub fn quota_of(config: &Config, own: Option<i64>) -> u64 {
    own.map_or(config.upload.user_quota_bytes, |q| q.max(0) as u64)
}

/// The declared length of every upload in progress of user `u`, as SQL.
fn uploading_bytes_sql() -> String {
    format!(
        "COALESCE((SELECT sum(length) FROM uploads WHERE owner_id = u.id AND state = '{}'), 0)",
        UploadState::Active.as_str()
    )
}

/// What the quota counts: the originals stored for the user (renditions are not counted) and
/// the declared length of every upload in progress.
fn used_sql() -> String {
    let active = UploadState::Active.as_str();
    let queued = VideoStatus::Queued.as_str();
    format!(
        "SELECT u.storage_used_bytes + {uploading} AS used,
        (SELECT count(*) FROM uploads WHERE owner_id = u.id AND state = '{active}') AS uploading,
        (SELECT count(*) FROM videos WHERE owner_id = u.id AND status = '{queued}') AS waiting,
        u.quota_bytes
        FROM users u WHERE u.id = $1",
        uploading = uploading_bytes_sql()
    )
}

/// Refuses `size` unless it fits the per-upload limit and the owner's quota (counting uploads
/// still in progress): a pre-check before storage is prepared, not a reservation.
pub async fn check_limits<C: ConnectionTrait>(
    db: &C,
    config: &Config,
    owner: &user::Model,
    size: i64,
) -> Result<(), DomainError> {
    let max = config.upload.max_size_bytes;
    if size < 0 {
        return Err(DomainError::refused(
            Code::InvalidUploadLength,
            "The upload size must be a number of bytes",
        ));
    }
    if size as u64 > max {
        return Err(
            DomainError::refused(Code::TooLarge, "The file is larger than allowed")
                .detail(format!("{size} bytes; the limit is {max} bytes")),
        );
    }
    let room = quota_room(db, config, owner).await?;
    if size as u64 > room {
        return Err(quota_exceeded(size));
    }
    Ok(())
}

/// Bytes the owner may still add (u64::MAX without a quota); a pre-check, not a reservation.
pub async fn quota_room<C: ConnectionTrait>(
    db: &C,
    config: &Config,
    owner: &user::Model,
) -> Result<u64, DomainError> {
    let quota = quota_of(config, owner.quota_bytes);
    if quota == 0 {
        return Ok(u64::MAX);
    }
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT (used)::bigint AS used FROM ({}) q", used_sql()),
            [owner.id.into()],
        ))
        .await?;
    let used: i64 = row
        .and_then(|r| r.try_get::<i64>("", "used").ok())
        .unwrap_or(0);
    Ok(quota.saturating_sub(used.max(0) as u64))
}

/// Reserves `size` bytes of the owner's quota in `tx`, and a place among their uploads in
/// progress (`new_upload`) and videos waiting to transcode. The user's row stays locked
/// until `tx` ends, so parallel creations are counted one after another and cannot together
/// exceed the quota. Call it first in the transaction: rows inserted before it would hold
/// key-share locks on the user's row, and two such transactions would deadlock.
pub async fn reserve(
    tx: &DatabaseTransaction,
    config: &Config,
    owner: Uuid,
    size: i64,
    new_upload: bool,
) -> Result<(), DomainError> {
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE",
        [owner.into()],
    ))
    .await?;
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT used::bigint AS used, uploading::bigint AS uploading,
                        waiting::bigint AS waiting FROM ({}) q",
                used_sql()
            ),
            [owner.into()],
        ))
        .await?
        .ok_or_else(|| DomainError::Internal("the uploader's row is gone".to_owned()))?;
    let used: i64 = row.try_get("", "used")?;
    let uploading: i64 = row.try_get("", "uploading")?;
    let waiting: i64 = row.try_get("", "waiting")?;
    let quota = quota_of(config, row.try_get("", "quota_bytes")?);
    let limits = &config.upload;
    if quota > 0 && (used.max(0) as u64).saturating_add(size.max(0) as u64) > quota {
        return Err(quota_exceeded(size));
    }
    if new_upload && uploading as u64 >= limits.max_uploads_in_progress {
        return Err(DomainError::refused(
            Code::TooManyUploads,
            "You have too many uploads in progress",
        )
        .detail(format!(
            "finish or cancel one first (at most {})",
            limits.max_uploads_in_progress
        )));
    }
    if waiting as u64 >= limits.max_videos_waiting {
        return Err(DomainError::refused(
            Code::TooManyWaiting,
            "Too many of your videos are waiting to be transcoded",
        )
        .detail(format!(
            "wait until some are done (at most {} waiting)",
            limits.max_videos_waiting
        ))
        .retry_after(60));
    }
    Ok(())
}

/// Inserts a video owned by `owner` in the channel its fields name (or the owner's first), under an id chosen beforehand
/// (its storage is prepared under that id first). Its moderation state follows the owner.
pub async fn insert_video(
    tx: &DatabaseTransaction,
    config: &Config,
    owner: &user::Model,
    fields: VideoFields,
    id: Uuid,
) -> Result<video::Model, DomainError> {
    let channel = crate::channels::for_upload(tx, owner, fields.channel.as_deref()).await?;
    let now = Utc::now().fixed_offset();
    let made = video::ActiveModel {
        id: Set(id),
        channel_id: Set(channel),
        owner_id: Set(owner.id),
        title: Set(fields.title),
        description: Set(fields.description),
        tags: Set(fields.tags),
        // Unsaid, the language the owner marks their videos with.
        language: Set(fields.language.or_else(|| owner.video_language.clone())),
        privacy: Set(fields.privacy),
        status: Set(VideoStatus::AwaitingUpload),
        moderation: Set(review::initial_state(&config.moderation, owner)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(tx)
    .await?;
    crate::webhooks::emit(
        tx,
        config,
        Event::video(WebhookEvent::VideoCreated, owner.id, id),
    )
    .await?;
    Ok(made)
}

/// An existing video of `owner` that is to receive its upload now: locked until `tx` ends
/// (two creations for one video queue here; the unique index on live uploads settles any that
/// slip past), refused when it already has one.
pub async fn video_awaiting_upload(
    tx: &DatabaseTransaction,
    owner: Uuid,
    id: Uuid,
) -> Result<video::Model, DomainError> {
    use sea_orm::QuerySelect;
    let v = video::Entity::find_by_id(id)
        .lock_exclusive()
        .one(tx)
        .await?
        .filter(|v| v.owner_id == owner)
        .ok_or(DomainError::NotFound)?;
    let busy = upload::Entity::find()
        .filter(upload::Column::VideoId.eq(v.id))
        .filter(upload::Column::State.is_in([UploadState::Active, UploadState::Complete]))
        .one(tx)
        .await?;
    if v.status != VideoStatus::AwaitingUpload || busy.is_some() {
        return Err(video_has_upload());
    }
    Ok(v)
}

/// Where an upload's bytes will go, prepared in storage before its rows are written.
#[derive(Debug, Clone)]
pub struct Staging {
    pub video_id: Uuid,
    pub backend: UploadBackend,
    pub part_size: i64,
    /// The S3 multipart upload, on S3.
    pub multipart_id: Option<String>,
    /// The client sends the parts to storage itself ([`crate::direct`]).
    pub direct: bool,
}

/// Creates the upload resource for `video`, into what was staged for it. The caller has
/// [`reserve`]d its length first in `tx`.
pub async fn insert_upload(
    tx: &DatabaseTransaction,
    config: &Config,
    video: &video::Model,
    staging: &Staging,
    length: i64,
    filename: Option<String>,
    metadata: serde_json::Value,
) -> Result<upload::Model, DomainError> {
    if staging.video_id != video.id {
        return Err(DomainError::Internal(
            "an upload staged for another video".to_owned(),
        ));
    }
    let now = Utc::now();
    let expires = now + chrono::Duration::hours(config.upload.expiration_hours as i64);
    upload::ActiveModel {
        id: Set(Uuid::now_v7()),
        video_id: Set(video.id),
        owner_id: Set(video.owner_id),
        length: Set(length),
        offset_bytes: Set(0),
        filename: Set(filename),
        metadata: Set(metadata),
        storage_key: Set(keys::source(video.id)),
        backend: Set(staging.backend),
        part_size: Set(staging.part_size),
        multipart_id: Set(staging.multipart_id.clone()),
        parts: Set(json!([])),
        pieces: Set(json!([])),
        lock_token: Set(None),
        locked_until: Set(None),
        state: Set(UploadState::Active),
        expires_at: Set(expires.fixed_offset()),
        created_at: Set(now.fixed_offset()),
        updated_at: Set(now.fixed_offset()),
        completed_at: Set(None),
        direct: Set(staging.direct),
    }
    .insert(tx)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => video_has_upload(),
        _ => e.into(),
    })
}

/// The record of a file that arrived whole, in one request.
pub async fn insert_upload_record(
    tx: &DatabaseTransaction,
    video: &video::Model,
    backend: UploadBackend,
    part_size: i64,
    length: i64,
    filename: Option<String>,
) -> Result<upload::Model, DomainError> {
    let now = Utc::now().fixed_offset();
    Ok(upload::ActiveModel {
        id: Set(Uuid::now_v7()),
        video_id: Set(video.id),
        owner_id: Set(video.owner_id),
        length: Set(length),
        offset_bytes: Set(length),
        filename: Set(filename),
        metadata: Set(json!({})),
        storage_key: Set(keys::source(video.id)),
        backend: Set(backend),
        part_size: Set(part_size),
        multipart_id: Set(None),
        parts: Set(json!([])),
        pieces: Set(json!([])),
        lock_token: Set(None),
        locked_until: Set(None),
        state: Set(UploadState::Complete),
        expires_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        completed_at: Set(Some(now)),
        direct: Set(false),
    }
    .insert(tx)
    .await?)
}

/// Marks an upload complete in `tx`, fenced by the writer's lease (`lock_token`): false when
/// the lease was lost (another request took the upload over) or it is no longer active.
pub async fn mark_complete(
    tx: &DatabaseTransaction,
    upload_id: Uuid,
    lock_token: Uuid,
) -> Result<bool, DomainError> {
    let done = tx
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE uploads SET offset_bytes = length, state = '{complete}', completed_at = now(),
                     updated_at = now(), lock_token = NULL, locked_until = NULL, pieces = '[]'
                 WHERE id = $1 AND lock_token = $2 AND state = '{active}'",
                complete = UploadState::Complete.as_str(),
                active = UploadState::Active.as_str(),
            ),
            [upload_id.into(), lock_token.into()],
        ))
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends an active upload as `state` (aborted or expired), after its bytes were removed.
pub async fn mark_ended<C: ConnectionTrait>(
    db: &C,
    upload_id: Uuid,
    state: UploadState,
) -> Result<(), DomainError> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "UPDATE uploads SET state = $2, lock_token = NULL, locked_until = NULL, parts = '[]',
                 pieces = '[]', updated_at = now()
             WHERE id = $1 AND state = '{}'",
            UploadState::Active.as_str()
        ),
        [upload_id.into(), state.as_str().into()],
    ))
    .await?;
    Ok(())
}

/// Active uploads past their expiry that no request is writing to, oldest first.
pub async fn expired<C: ConnectionTrait>(
    db: &C,
    limit: u64,
) -> Result<Vec<upload::Model>, DomainError> {
    Ok(upload::Entity::find()
        .from_raw_sql(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT * FROM uploads
                 WHERE state = '{}' AND expires_at < now()
                   AND (lock_token IS NULL OR locked_until < now())
                 ORDER BY expires_at LIMIT $1",
                UploadState::Active.as_str()
            ),
            [(limit as i64).into()],
        ))
        .all(db)
        .await?)
}

/// The video part of completion, in the caller's transaction: queued with its size, the
/// owner's storage accounted, its transcode enqueued (fair among owners). A source arriving
/// after a decision is not what was decided on: unless the owner publishes directly, the
/// video goes back to review.
pub async fn finish_video(
    tx: &DatabaseTransaction,
    config: &Config,
    video_id: Uuid,
    owner_id: Uuid,
    size: i64,
) -> Result<(), DomainError> {
    queue_video(tx, config, video_id, owner_id, size).await?;
    // Last: the owner's row stays locked from here to the commit (and, for an import, then
    // their count of pending imports: always in this order).
    add_storage(tx, owner_id, size).await?;
    // A catalogue import whose file the client uploaded: its file is here.
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "UPDATE imports SET state = '{fetched}', bytes_done = $2, bytes_total = $2,
                 updated_at = now()
             WHERE video_id = $1 AND state <> '{fetched}'",
            fetched = crate::state::ImportState::Fetched.as_str(),
        ),
        [video_id.into(), size.into()],
    ))
    .await?;
    Ok(())
}

/// [`finish_video`] but for the owner's storage ([`add_storage`]): the caller checks the
/// quota and adds to it afterwards, as late as it can.
pub async fn queue_video(
    tx: &DatabaseTransaction,
    config: &Config,
    video_id: Uuid,
    owner_id: Uuid,
    size: i64,
) -> Result<(), DomainError> {
    let owner = user::Entity::find_by_id(owner_id)
        .one(tx)
        .await?
        .ok_or_else(|| DomainError::Internal("the video's owner is gone".to_owned()))?;
    let trusted = review::trusted(&config.moderation, &owner);
    let pending = crate::state::Moderation::Pending.as_str();
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "UPDATE videos SET status = '{queued}', source_size_bytes = $2, progress = 0, updated_at = now(),
                 moderation = CASE WHEN $3 THEN moderation ELSE '{pending}' END,
                 moderation_reason = CASE WHEN $3 OR moderation = '{pending}' THEN moderation_reason
                                          ELSE $4 END
             WHERE id = $1",
            queued = VideoStatus::Queued.as_str(),
        ),
        [
            video_id.into(),
            size.into(),
            trusted.into(),
            review::BACK_TO_REVIEW.into(),
        ],
    ))
    .await?;
    jobs::enqueue_transcode(tx, config, video_id, owner_id).await?;
    crate::webhooks::emit(
        tx,
        config,
        Event::video(WebhookEvent::UploadCompleted, owner_id, video_id),
    )
    .await
}

/// Counts `size` more bytes against `owner`'s storage in `tx`, refused when that passes their
/// quota (with what their active uploads hold): one statement, which locks their row until
/// `tx` ends, for the end of a transaction.
pub async fn charge_quota(
    tx: &DatabaseTransaction,
    config: &Config,
    owner: Uuid,
    size: i64,
) -> Result<(), DomainError> {
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "UPDATE users u SET storage_used_bytes = storage_used_bytes + $2, updated_at = now()
                 WHERE id = $1
                 RETURNING (u.storage_used_bytes - $2 + {})::bigint AS used, u.quota_bytes",
                uploading_bytes_sql()
            ),
            [owner.into(), size.into()],
        ))
        .await?
        .ok_or_else(|| DomainError::Internal("the owner's row is gone".to_owned()))?;
    let used: i64 = row.try_get::<Option<i64>>("", "used")?.unwrap_or(0);
    let quota = quota_of(config, row.try_get("", "quota_bytes")?);
    if quota > 0 && (used.max(0) as u64).saturating_add(size.max(0) as u64) > quota {
        return Err(quota_exceeded(size));
    }
    Ok(())
}

/// Counts `size` more bytes against `owner`'s quota, in `tx` (locking their row until it ends).
pub async fn add_storage(
    tx: &DatabaseTransaction,
    owner_id: Uuid,
    size: i64,
) -> Result<(), DomainError> {
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE users SET storage_used_bytes = storage_used_bytes + $2, updated_at = now() WHERE id = $1",
        [owner_id.into(), size.into()],
    ))
    .await?;
    Ok(())
}
