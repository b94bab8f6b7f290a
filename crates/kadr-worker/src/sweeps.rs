//! The worker's other kinds of work: the cleanup of a deleted video's bytes (queued), and the
//! periodic sweeps (expired uploads, idle attempt limits, reconciliation of storage with the
//! database). Each is idempotent: a pass cut short by a shutdown is done again next time.

use std::time::Duration;

use kadr_core::jobs::Cleanup;
use kadr_queue::Job;
use kadr_queue::runner::{BoxFuture, Control, Handler, Outcome, Periodic};
use kadr_runtime::Context;

/// Runs `cleanup` jobs: S3 multipart uploads aborted, then every prefix removed.
pub struct CleanupJobs(pub Context);

impl Handler for CleanupJobs {
    fn run(&self, job: Job, _control: Control) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let work = match job.payload::<Cleanup>() {
                Ok(w) => w,
                Err(e) => return Outcome::Fail(format!("unreadable cleanup job: {e}")),
            };
            match kadr_core::maintenance::clean(&ctx.storage, &work).await {
                Ok(()) => {
                    tracing::info!(prefixes = work.prefixes.len(), "media removed");
                    Outcome::Done
                }
                Err(e) => Outcome::Retry(format!("storage: {e}")),
            }
        })
    }
}

/// Uploads past their expiry that nobody is writing to: their bytes removed, marked expired.
pub struct ExpireUploads(pub Context);

impl Periodic for ExpireUploads {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let ctx = self.0.clone();
        Box::pin(async move {
            match kadr_core::maintenance::expire_uploads(&ctx.db, &ctx.storage, 100).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(uploads = n, "expired uploads cleaned up"),
                Err(e) => tracing::warn!(error = %e, "upload expiry sweep failed"),
            }
        })
    }
}

/// Attempt limits idle for a day and not blocked are forgotten.
pub struct SweepThrottle(pub Context);

impl Periodic for SweepThrottle {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let ctx = self.0.clone();
        Box::pin(async move {
            if let Err(e) = kadr_core::throttle::sweep(&ctx.db).await {
                tracing::warn!(error = %e, "sweeping attempt limits failed");
            }
        })
    }
}

/// Objects no row owns are removed once older than the grace; ready videos whose media is
/// missing are reported.
pub struct Reconcile(pub Context);

impl Periodic for Reconcile {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let ctx = self.0.clone();
        Box::pin(async move {
            let grace = Duration::from_secs(ctx.config.upload.reconcile_grace_secs);
            if let Err(e) = kadr_core::reconcile::reconcile(&ctx.db, &ctx.storage, grace).await {
                tracing::warn!(error = %e, "reconciliation failed");
            }
        })
    }
}
