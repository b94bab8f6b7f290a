//! The `transcode` job: the pipeline run under a watch that stops it when its video is deleted,
//! when it decodes nothing for `worker.stall_timeout_secs`, or when it runs past its budget
//! (`worker.budget_factor` × duration); the runner stops it too when its lease is lost or the
//! shutdown grace is over.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kadr_core::Failure;
use kadr_core::jobs::Transcode;
use kadr_media::MediaError;
use kadr_queue::Job;
use kadr_queue::runner::{BoxFuture, Control, Handler, Outcome};
use kadr_runtime::Context;
use tracing::Instrument;

use crate::clock::{JobClock, Stop};
use crate::{JobError, metrics, outcome, pipeline};

/// Runs `transcode` jobs.
pub struct Transcodes(pub Context);

impl Handler for Transcodes {
    fn run(&self, job: Job, control: Control) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        let video = job.payload::<Transcode>().ok().map(|p| p.video_id);
        let span = tracing::info_span!("transcode", video = video.map(tracing::field::display));
        Box::pin(async move { run(&ctx, job, control).await }.instrument(span))
    }

    /// Every attempt's worker died (killed, out of memory) before finishing: the video fails
    /// with the reason, rather than waiting for a transcode nobody will run.
    fn exhausted(&self, job: Job, reason: String) -> BoxFuture<Outcome> {
        let ctx = self.0.clone();
        Box::pin(async move {
            match job.payload::<Transcode>() {
                Ok(t) => match outcome::give_up(&ctx, t.video_id).await {
                    Ok(()) => Outcome::Fail(reason),
                    // Not recorded: handed back, the next claim tries again.
                    Err(e) => {
                        tracing::warn!(error = %e, "could not record the failure; handing the job back");
                        Outcome::Release
                    }
                },
                Err(_) => Outcome::Fail(reason),
            }
        })
    }
}

async fn run(ctx: &Context, job: Job, control: Control) -> Outcome {
    let wait = (chrono::Utc::now() - job.run_at)
        .to_std()
        .unwrap_or_default();
    metrics::queue_wait(wait);
    let cancel = Arc::new(AtomicBool::new(false));
    let clock = Arc::new(JobClock::default());
    let started = Instant::now();
    let video_id = job.payload::<Transcode>().ok().map(|p| p.video_id);
    let watcher = {
        let (cancel, clock, db) = (cancel.clone(), clock.clone(), ctx.db.clone());
        let stop = control.stop().clone();
        let stall = Duration::from_secs(ctx.config.worker.stall_timeout_secs.max(1));
        tokio::spawn(async move {
            let watch = async {
                let mut tick = tokio::time::interval(Duration::from_millis(500));
                loop {
                    tick.tick().await;
                    let now = started.elapsed().as_millis() as u64;
                    let progress = clock.progress_ms.load(Ordering::Relaxed);
                    if progress > 0 && now.saturating_sub(progress) > stall.as_millis() as u64 {
                        return Stop::Stalled;
                    }
                    let deadline = clock.deadline_ms.load(Ordering::Relaxed);
                    if deadline > 0 && now > deadline {
                        return Stop::OverBudget;
                    }
                    if let Some(id) = video_id
                        && matches!(
                            kadr_core::transcodes::video_exists(&db, id).await,
                            Ok(false)
                        )
                    {
                        return Stop::Deleted;
                    }
                }
            };
            tokio::select! {
                _ = stop.cancelled() => {}
                why = watch => clock.set_stopped(why),
            }
            cancel.store(true, Ordering::Relaxed);
        })
    };
    let result = pipeline::process(ctx, &job, &cancel, &clock, started).await;
    watcher.abort();
    let result = match (clock.stopped(), video_id) {
        (Some(Stop::Deleted), Some(id)) => {
            // Deleted while it ran: whatever was published goes, and the job is done.
            outcome::forget(ctx, id).await;
            Ok(None)
        }
        (Some(why @ (Stop::Stalled | Stop::OverBudget)), _) => Err(stopped(
            why,
            job.attempt,
            ctx.config.worker.stall_timeout_secs,
        )),
        _ => result,
    };
    match control.queue() {
        Some(queue) => outcome::settle(ctx, queue, &job, result).await,
        // Run outside the runner: nothing to record the job's outcome in.
        None => kadr_queue::runner::Outcome::Release,
    }
}

/// The error of a transcode its watch stopped for stalling or running over budget: retried
/// once (a busy machine), then the input's fault.
fn stopped(why: Stop, attempt: i32, stall_secs: u64) -> JobError {
    let (code, message) = match why {
        Stop::Stalled => (
            Failure::Stalled,
            format!("The transcode decoded nothing for {stall_secs} s"),
        ),
        _ => (
            Failure::TooSlow,
            "The transcode ran over its time budget".to_owned(),
        ),
    };
    if attempt >= 2 {
        MediaError::input(code.as_str(), message).into()
    } else {
        JobError::Stopped { code, message }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stalled_or_slow_transcode_is_retried_once_then_refused() {
        assert!(matches!(
            stopped(Stop::Stalled, 1, 120),
            JobError::Stopped {
                code: Failure::Stalled,
                ..
            }
        ));
        match stopped(Stop::Stalled, 2, 120) {
            JobError::Media(MediaError::Input { code, message }) => {
                assert_eq!(code, "stalled");
                assert!(message.contains("120 s"), "{message}");
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            stopped(Stop::OverBudget, 3, 120),
            JobError::Media(MediaError::Input {
                code: "too_slow",
                ..
            })
        ));
    }
}
