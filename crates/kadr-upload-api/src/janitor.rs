//! Ends uploads: terminated by their owner, or expired and swept by the janitor.

use std::time::Duration;

use kadr_core::entities::upload;
use kadr_core::state::UploadState;
use kadr_http::{ApiError, AppContext};
use kadr_queue::{Queue, QueueSettings};
use kadr_storage::Storage;
use tokio_util::sync::CancellationToken;

use crate::store;

pub use kadr_core::jobs::{Cleanup, Multipart};

async fn clean(storage: &Storage, job: &Cleanup) -> Result<(), kadr_storage::StorageError> {
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

/// Runs cleanup jobs as they come, until shutdown.
pub fn spawn_cleanup(ctx: AppContext, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let name = format!(
            "upload-api-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        );
        let queue = Queue::new(ctx.db.clone(), QueueSettings::from(&ctx.config.queue), name);
        let mut waiter = queue.waiter(kadr_queue::queues::CLEANUP);
        loop {
            let job = match waiter.next(&shutdown).await {
                Ok(Some(job)) => job,
                Ok(None) => return,
                Err(e) => {
                    tracing::warn!(error = %e, "cleanup queue unavailable");
                    tokio::select! {
                        _ = shutdown.cancelled() => return,
                        _ = tokio::time::sleep(queue.settings().poll_interval) => continue,
                    }
                }
            };
            let outcome = match job.payload::<Cleanup>() {
                Err(e) => queue
                    .fail(&job, &format!("unreadable cleanup job: {e}"), false)
                    .await
                    .map(|_| ()),
                Ok(work) => match clean(&ctx.storage, &work).await {
                    Ok(()) => {
                        tracing::info!(job = %job.id, prefixes = work.prefixes.len(), "media removed");
                        queue.complete(&job).await
                    }
                    Err(e) => queue
                        .fail(&job, &format!("storage: {e}"), true)
                        .await
                        .map(|_| ()),
                },
            };
            if let Err(e) = outcome {
                tracing::warn!(job = %job.id, error = %e, "could not record a cleanup job's outcome");
            }
        }
    })
}

/// Removes what `up` stored and marks it `state` (`aborted` or `expired`).
pub async fn end_upload(
    ctx: &AppContext,
    up: &upload::Model,
    state: UploadState,
) -> Result<(), ApiError> {
    store::discard(&ctx.storage, up)
        .await
        .map_err(|e| ApiError::unavailable(format!("storage: {e}")))?;
    kadr_core::uploads::mark_ended(&ctx.db, up.id, state).await?;
    tracing::info!(upload = %up.id, video = %up.video_id, state = %state, "upload ended");
    Ok(())
}

/// One sweep: expired uploads that no request is writing to are cleaned up.
pub async fn sweep(ctx: &AppContext) -> Result<usize, ApiError> {
    let expired = kadr_core::uploads::expired(&ctx.db, 100).await?;
    let mut ended = 0;
    for up in &expired {
        match end_upload(ctx, up, UploadState::Expired).await {
            Ok(()) => ended += 1,
            Err(e) => {
                tracing::warn!(upload = %up.id, error = %e, "could not clean up an expired upload")
            }
        }
    }
    Ok(ended)
}

/// Sweeps every `upload.janitor_interval_secs` until shutdown.
pub fn spawn(ctx: AppContext, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick =
            tokio::time::interval(Duration::from_secs(ctx.config.upload.janitor_interval_secs));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first reconciliation one interval after start, not at once.
        let mut last_reconciled = std::time::Instant::now();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = tick.tick() => {}
            }
            let pass = async {
                match sweep(&ctx).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(uploads = n, "expired uploads cleaned up"),
                    Err(e) => tracing::warn!(error = %e, "upload janitor sweep failed"),
                }
                if let Err(e) = crate::throttle::sweep(&ctx.db).await {
                    tracing::warn!(error = %e, "sweeping attempt limits failed");
                }
                let every = ctx.config.upload.reconcile_interval_secs;
                if every > 0 && last_reconciled.elapsed().as_secs() >= every {
                    last_reconciled = std::time::Instant::now();
                    let grace = Duration::from_secs(ctx.config.upload.reconcile_grace_secs);
                    if let Err(e) = crate::reconcile::reconcile(&ctx, grace).await {
                        tracing::warn!(error = %e, "reconciliation failed");
                    }
                }
            };
            // A pass is idempotent: a shutdown stops it where it is.
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = pass => {}
            }
        }
    })
}
