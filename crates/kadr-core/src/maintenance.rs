//! The storage side of ending uploads and deleting videos, and the sweeps the worker runs:
//! removing what an unfinished upload stored, expiring uploads nobody finished, and the
//! cleanup of a deleted video's bytes.

use kadr_storage::{Storage, StorageError};
use sea_orm::ConnectionTrait;

use crate::entities::upload;
use crate::error::DomainError;
use crate::jobs::Cleanup;
use crate::keys;
use crate::state::UploadState;
use crate::uploads;

/// Removes everything an unfinished upload stored: the S3 multipart upload, pieces, the local
/// file.
pub async fn discard(storage: &Storage, up: &upload::Model) -> Result<(), StorageError> {
    if let (Storage::S3(s3), Some(id)) = (storage, &up.multipart_id) {
        s3.abort_multipart(&up.storage_key, id).await?;
    }
    storage.delete_prefix(&keys::upload_prefix(up.id)).await?;
    Ok(())
}

/// Why an upload could not be ended.
#[derive(Debug, thiserror::Error)]
pub enum EndError {
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error(transparent)]
    Domain(#[from] DomainError),
}

/// Removes what `up` stored, then marks it `state` (aborted or expired).
pub async fn end_upload(
    db: &impl ConnectionTrait,
    storage: &Storage,
    up: &upload::Model,
    state: UploadState,
) -> Result<(), EndError> {
    discard(storage, up).await?;
    uploads::mark_ended(db, up.id, state).await?;
    tracing::info!(upload = %up.id, video = %up.video_id, state = %state, "upload ended");
    Ok(())
}

/// One sweep: up to `batch` expired uploads that no request is writing to are removed and
/// marked expired. Returns how many.
pub async fn expire_uploads(
    db: &impl ConnectionTrait,
    storage: &Storage,
    batch: u64,
) -> Result<usize, DomainError> {
    let expired = uploads::expired(db, batch).await?;
    let mut ended = 0;
    for up in &expired {
        match end_upload(db, storage, up, UploadState::Expired).await {
            Ok(()) => ended += 1,
            Err(e) => {
                tracing::warn!(upload = %up.id, error = %e, "could not clean up an expired upload")
            }
        }
    }
    Ok(ended)
}

/// Removes what a cleanup job names: S3 multipart uploads first, then every prefix.
pub async fn clean(storage: &Storage, job: &Cleanup) -> Result<(), StorageError> {
    if let Storage::S3(s3) = storage {
        for m in &job.multipart {
            s3.abort_multipart(&m.key, &m.upload_id).await?;
        }
    }
    for prefix in &job.prefixes {
        storage.delete_prefix(prefix).await?;
    }
    Ok(())
}
