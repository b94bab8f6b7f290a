//! The jobs the domain enqueues, with their payloads: a transcode per uploaded video, and a
//! cleanup of every stored byte of a deleted video. Enqueued in the caller's transaction, so
//! a job exists exactly when what asked for it was committed.

use kadr_config::Config;
use kadr_queue::NewJob;
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::DomainError;

pub use kadr_queue::queues::{CLEANUP, TRANSCODE};

/// One notification to write (`notify` jobs: replies, moderation decisions).
pub const NOTIFY: &str = "notify";
/// A newly listed video told to its channel's subscribers, in batches (`fanout` jobs).
pub const FANOUT: &str = "fanout";
/// An uploaded channel picture checked and resized (`channel_image` jobs).
pub const CHANNEL_IMAGE: &str = "channel_image";
/// A channel's videos removed, then the channel (`delete_channel` jobs).
pub const DELETE_CHANNEL: &str = "delete_channel";
/// A mail to a user: a password reset or an address check (`mail` jobs).
pub const MAIL: &str = "mail";
/// An account removed with everything it made (`delete_account` jobs).
pub const DELETE_ACCOUNT: &str = "delete_account";
/// A still picture of a published video at a time and width (`thumbnail` jobs).
pub const THUMBNAIL: &str = "thumbnail";

/// A poster the owner uploaded, made into its sizes (`poster` jobs).
pub const POSTER: &str = "poster";
/// Fetches an imported video's file from its URL ([`FetchJob`]); runs only on workers allowed
/// outbound network.
pub const FETCH: &str = "fetch";

/// Delivers one webhook event to one endpoint (`kadr_core::webhooks::DeliveryJob`); runs
/// only on workers allowed outbound network.
pub const WEBHOOK: &str = "webhook";

/// The payload of a `fetch` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FetchJob {
    pub import_id: Uuid,
}

/// The payload of a `poster` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PosterJob {
    pub video_id: Uuid,
    /// Its request's number (`videos.poster_asked`): it lands only if no later one came.
    pub asked: i32,
    /// Storage key of the uploaded file (removed once done).
    pub source_key: String,
    /// Who sent it (the review rule depends on them).
    pub editor: Uuid,
}

/// The payload of a `thumbnail` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ThumbnailJob {
    pub video_id: Uuid,
    /// Whole seconds from the start.
    pub at_secs: u32,
    pub width: u32,
}

/// The payload of a `delete_channel` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DeleteChannel {
    pub channel_id: Uuid,
}

/// The payload of a `fanout` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Fanout {
    pub video_id: Uuid,
}

/// The payload of a `channel_image` job: the uploaded file, where it waits, and what to make.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ChannelImageJob {
    pub channel_id: Uuid,
    /// `avatar` or `banner`.
    pub image: String,
    /// Storage key of the uploaded file (removed once done).
    pub source_key: String,
}

/// The payload of a `transcode` job.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Transcode {
    pub video_id: Uuid,
}

/// The payload of a `cleanup` job: what to remove.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Cleanup {
    pub prefixes: Vec<String>,
    pub multipart: Vec<Multipart>,
}

/// An S3 multipart upload to abort.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Multipart {
    pub key: String,
    pub upload_id: String,
}

fn queue_error(e: kadr_queue::QueueError) -> DomainError {
    match e {
        kadr_queue::QueueError::Db(e) => DomainError::Db(e),
        other => DomainError::Internal(other.to_string()),
    }
}

/// Enqueues a job of `queue` with `payload` in `db` (a transaction, usually), at most one live
/// per `dedupe` key.
pub async fn enqueue<C: ConnectionTrait>(
    db: &C,
    config: &Config,
    queue: &str,
    payload: &impl Serialize,
    dedupe: Option<String>,
) -> Result<(), DomainError> {
    let mut job = NewJob::new(queue, payload).map_err(queue_error)?;
    if let Some(key) = dedupe {
        job = job.dedupe_key(key);
    }
    kadr_queue::enqueue(db, job, config.queue.max_attempts)
        .await
        .map_err(queue_error)?;
    Ok(())
}

/// Enqueues the transcode of `video_id` (one per video; fair among owners).
pub async fn enqueue_transcode<C: ConnectionTrait>(
    db: &C,
    config: &Config,
    video_id: Uuid,
    owner_id: Uuid,
) -> Result<(), DomainError> {
    let job = NewJob::new(TRANSCODE, &Transcode { video_id })
        .map_err(queue_error)?
        .dedupe_key(video_id.to_string())
        .fair_key(owner_id.to_string());
    kadr_queue::enqueue(db, job, config.queue.max_attempts)
        .await
        .map_err(queue_error)?;
    Ok(())
}

/// Enqueues the fetch of import `import_id` (one per import; fair among owners, so that one
/// owner's catalogue does not hold back another's single import).
pub async fn enqueue_fetch<C: ConnectionTrait>(
    db: &C,
    config: &Config,
    import_id: Uuid,
    owner_id: Uuid,
) -> Result<(), DomainError> {
    let job = NewJob::new(FETCH, &FetchJob { import_id })
        .map_err(queue_error)?
        .dedupe_key(format!("fetch:{import_id}"))
        .fair_key(owner_id.to_string());
    kadr_queue::enqueue(db, job, config.queue.max_attempts)
        .await
        .map_err(queue_error)?;
    Ok(())
}

/// Enqueues the removal of `cleanup`.
pub async fn enqueue_cleanup<C: ConnectionTrait>(
    db: &C,
    config: &Config,
    cleanup: &Cleanup,
) -> Result<(), DomainError> {
    let job = NewJob::new(CLEANUP, cleanup).map_err(queue_error)?;
    kadr_queue::enqueue(db, job, config.queue.max_attempts)
        .await
        .map_err(queue_error)?;
    Ok(())
}
