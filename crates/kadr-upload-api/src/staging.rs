//! The storage side of an upload around its rows: prepared before the transaction that
//! creates them ([`stage`]), given back when they are refused ([`unstage`]), and cleared of
//! leftovers when the upload completes ([`complete`]).

use kadr_core::entities::upload;
use kadr_core::state::UploadBackend;
use kadr_core::uploads::{self, Staging};
use kadr_http::{ApiError, AppContext};
use kadr_storage::Storage;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use crate::store::{self, LOCAL_CHECKPOINT, UploadLock};

/// The backend uploads go to, as recorded on their rows.
pub fn backend(storage: &Storage) -> UploadBackend {
    match storage {
        Storage::S3(_) => UploadBackend::S3,
        Storage::Local(_) => UploadBackend::Local,
    }
}

/// Prepares storage for the original of `video_id` (on S3, its multipart upload).
pub async fn stage(ctx: &AppContext, video_id: Uuid) -> Result<Staging, ApiError> {
    let key = kadr_core::keys::source(video_id);
    Ok(match &*ctx.storage {
        Storage::S3(s3) => {
            let id = s3
                .create_multipart(&key, Some("application/octet-stream"))
                .await
                .map_err(|e| ApiError::unavailable(format!("storage: {e}")))?;
            Staging {
                video_id,
                backend: UploadBackend::S3,
                part_size: (ctx.config.storage.s3.part_size_mib * 1024 * 1024) as i64,
                multipart_id: Some(id),
                direct: false,
            }
        }
        Storage::Local(_) => Staging {
            video_id,
            backend: UploadBackend::Local,
            part_size: LOCAL_CHECKPOINT,
            multipart_id: None,
            direct: false,
        },
    })
}

/// Gives back what [`stage`] prepared, when the upload was refused after all.
pub async fn unstage(ctx: &AppContext, staging: Staging) {
    if let (Storage::S3(s3), Some(id)) = (&*ctx.storage, &staging.multipart_id) {
        let key = kadr_core::keys::source(staging.video_id);
        if let Err(e) = s3.abort_multipart(&key, id).await {
            tracing::warn!(key, error = %e, "could not abort a refused upload's multipart upload");
        }
    }
}

/// Records a finished upload in one transaction (upload complete, video queued, storage
/// accounted, transcode job enqueued), fenced by the request's lease; then removes the
/// upload's leftovers.
pub async fn complete(
    ctx: &AppContext,
    lock: &UploadLock,
    up: &upload::Model,
) -> Result<(), ApiError> {
    let tx = ctx.db.begin().await?;
    if !uploads::mark_complete(&tx, up.id, lock.token()).await? {
        drop(tx);
        // Deleted while its last bytes were stored: the delete's cleanup may have run before
        // the original landed, so what this request stored goes now.
        if let Ok(false) = kadr_core::transcodes::video_exists(&ctx.db, up.video_id).await {
            for prefix in [
                kadr_core::keys::originals_prefix(up.video_id),
                kadr_core::keys::upload_prefix(up.id),
            ] {
                if let Err(e) = ctx.storage.delete_prefix(&prefix).await {
                    tracing::warn!(upload = %up.id, error = %e, "could not remove a deleted video's upload");
                }
            }
        }
        return Err(store::WriteError::LockLost.into());
    }
    uploads::finish_video(&tx, &ctx.config, up.video_id, up.owner_id, up.length).await?;
    tx.commit().await?;
    if let Err(e) = ctx
        .storage
        .delete_prefix(&kadr_core::keys::upload_prefix(up.id))
        .await
    {
        tracing::warn!(upload = %up.id, error = %e, "could not remove an upload's leftovers");
    }
    tracing::info!(upload = %up.id, video = %up.video_id, bytes = up.length, "upload complete; transcode queued");
    Ok(())
}

/// The caller's upload of the given kind (`direct`, or tus): 404 for unknown uploads, other
/// people's, the other kind's and terminated ones; 410 for expired ones.
pub async fn owned_upload(
    ctx: &AppContext,
    owner: Uuid,
    id: Uuid,
    direct: bool,
) -> Result<upload::Model, ApiError> {
    use kadr_core::state::UploadState;
    use sea_orm::EntityTrait;
    let up = upload::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|u| u.owner_id == owner && u.direct == direct)
        .ok_or_else(ApiError::not_found)?;
    let expired = || ApiError::new(kadr_core::Code::UploadExpired, "The upload expired");
    match up.state {
        UploadState::Aborted => Err(ApiError::not_found().detail("the upload was terminated")),
        UploadState::Expired => Err(expired()),
        UploadState::Active if up.expires_at < chrono::Utc::now() => Err(expired()),
        _ => Ok(up),
    }
}
