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
