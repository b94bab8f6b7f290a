//! What a transcode's end records: ready (with the job completed in the same transaction),
//! failed for the input's faults, queued again for ours, handed back when stopped.

use kadr_core::Failure;
use kadr_core::jobs::Transcode;
use kadr_core::transcodes::{self, Download, Picture, Rendition};
use kadr_media::MediaError;
use kadr_media::hls::RungOutput;
use kadr_queue::runner::Outcome;
use kadr_queue::{Job, Queue};
use kadr_runtime::Context;
use sea_orm::TransactionTrait;
use uuid::Uuid;

use crate::files::work_dir;
use crate::{JobError, metrics};

/// What a successful transcode leaves to record.
#[derive(Debug)]
pub struct Done {
    pub video_id: Uuid,
    pub outs: Vec<RungOutput>,
    pub master_key: String,
    pub pictures: Vec<Picture>,
    pub downloads: Vec<Download>,
}

/// The stable code of an input fault reported by the media crate (every code it reports is
/// one of [`Failure`]; a test holds it to that).
pub fn failure_of(code: &str) -> Failure {
    Failure::parse(code).unwrap_or(Failure::Undecodable)
}

/// Records the outcome: the job first, through the queue's calls fenced by the attempt (a job
/// whose lease was lost is another worker's now, and its video is left alone), then the video.
/// The runner has nothing left to do.
pub async fn settle(
    ctx: &Context,
    queue: &Queue,
    job: &Job,
    result: Result<Option<Done>, JobError>,
) -> Outcome {
    match settle_or_err(ctx, queue, job, result).await {
        Ok(outcome) => outcome,
        Err(e) => {
            // The lease lapsed meanwhile, or the database is away: whoever holds the job now
            // (or this job once its lease lapses) records it.
            tracing::warn!(error = %e, "could not record the outcome of a transcode");
            Outcome::Settled
        }
    }
}

/// What the end of an attempt does to its video and its job: the state transitions, decided
/// without touching anything so they can be tested on their own.
#[derive(Debug)]
pub enum Plan {
    /// Ready, in the transaction that completes the job.
    Ready(Done),
    /// Nothing to record (the video is gone): the job is done.
    Finished,
    /// Stopped from outside (shutdown, lost lease): the video is queued again and the job
    /// handed back without counting the attempt.
    HandBack,
    /// The input's fault: the video fails with `code`, the job fails for good.
    Refuse { code: Failure, message: String },
    /// Ours, with attempts left: the video is queued again and the job retried.
    Retry(String),
    /// Ours, on the last attempt: the video fails as `processing_failed` and so does the job.
    GiveUp(String),
}

/// The plan for an attempt that ended with `result`.
pub fn plan(result: Result<Option<Done>, JobError>, attempts_left: bool) -> Plan {
    match result {
        Ok(None) => Plan::Finished,
        Ok(Some(done)) => Plan::Ready(done),
        Err(JobError::Media(MediaError::Cancelled)) => Plan::HandBack,
        Err(JobError::Media(MediaError::Input { code, message })) => Plan::Refuse {
            code: failure_of(code),
            message,
        },
        Err(e) if attempts_left => Plan::Retry(e.to_string()),
        Err(e) => Plan::GiveUp(e.to_string()),
    }
}

async fn settle_or_err(
    ctx: &Context,
    queue: &Queue,
    job: &Job,
    result: Result<Option<Done>, JobError>,
) -> Result<Outcome, JobError> {
    let video = job.payload::<Transcode>().ok().map(|p| p.video_id);
    match plan(result, job.has_attempts_left()) {
        Plan::Finished => {
            queue.complete(job).await?;
            Ok(Outcome::Settled)
        }
        Plan::Ready(done) => {
            let renditions: Vec<Rendition> = done
                .outs
                .iter()
                .map(|o| Rendition {
                    name: o.rung.name.clone(),
                    width: o.rung.width as i32,
                    height: o.rung.height as i32,
                    codecs: o.codecs.clone(),
                    bandwidth: o.peak_bandwidth() as i64,
                    avg_bandwidth: o.average_bandwidth() as i64,
                    segments: o.segments.len() as i32,
                })
                .collect();
            let tx = ctx.db.begin().await?;
            transcodes::ready(
                &tx,
                &ctx.config,
                done.video_id,
                &renditions,
                &done.pictures,
                &done.downloads,
            )
            .await?;
            // An imported video's own thumbnail, sent before it was ready.
            kadr_core::imports::thumbnail_due(&tx, &ctx.config, done.video_id).await?;
            // A member of an import batch a moderator approved or rejected as a whole.
            kadr_core::batches::decision_due(&tx, &ctx.config, done.video_id).await?;
            kadr_queue::complete_on(&tx, job).await?;
            tx.commit().await?;
            metrics::job("done");
            let since_enqueue = (chrono::Utc::now() - job.run_at)
                .to_std()
                .unwrap_or_default();
            tracing::info!(
                video = %done.video_id,
                master = %done.master_key,
                rungs = done.outs.len(),
                secs = since_enqueue.as_secs_f64(),
                "video ready"
            );
            Ok(Outcome::Settled)
        }
        Plan::HandBack => {
            queue.release(job).await?;
            if let Some(id) = video {
                transcodes::requeue(&ctx.db, id).await?;
            }
            tracing::info!("transcode stopped and handed back");
            Ok(Outcome::Settled)
        }
        Plan::Refuse { code, message } => {
            queue
                .fail(job, &format!("{code}: {message}"), false)
                .await?;
            if let Some(id) = video {
                fail_video(ctx, id, code, &message).await?;
            }
            metrics::job("failed");
            tracing::info!(code = %code, message, "input refused");
            Ok(Outcome::Settled)
        }
        Plan::Retry(message) => {
            queue.fail(job, &message, true).await?;
            tracing::warn!(error = %message, "transcode failed; it will be retried");
            if let Some(id) = video {
                transcodes::requeue(&ctx.db, id).await?;
            }
            Ok(Outcome::Settled)
        }
        Plan::GiveUp(message) => {
            queue.fail(job, &message, false).await?;
            tracing::warn!(error = %message, "transcode failed on its last attempt");
            if let Some(id) = video {
                fail_video(
                    ctx,
                    id,
                    Failure::ProcessingFailed,
                    "Kadr could not process this video after several attempts; try again later",
                )
                .await?;
            }
            metrics::job("failed");
            Ok(Outcome::Settled)
        }
    }
}

/// Fails the video of a transcode whose workers all died mid-way.
pub async fn give_up(ctx: &Context, id: Uuid) -> Result<(), JobError> {
    metrics::job("failed");
    tracing::warn!(video = %id, "transcode abandoned: its worker died on every attempt");
    fail_video(
        ctx,
        id,
        Failure::ProcessingFailed,
        "Kadr could not process this video: its transcoder stopped on every attempt",
    )
    .await
}

/// Fails the video with `code`; nothing half-made stays behind.
async fn fail_video(ctx: &Context, id: Uuid, code: Failure, message: &str) -> Result<(), JobError> {
    transcodes::fail(&ctx.db, &ctx.config, id, code, message).await?;
    for prefix in kadr_core::keys::derived_prefixes(id) {
        ctx.storage.delete_prefix(&prefix).await?;
    }
    let _ = tokio::fs::remove_dir_all(work_dir(&ctx.config, id)).await;
    Ok(())
}

/// Removes what was published for a deleted video (its cleanup job may have run before the
/// last segment landed); the reconciliation sweep catches anything this misses.
pub async fn forget(ctx: &Context, id: Uuid) {
    let _ = tokio::fs::remove_dir_all(work_dir(&ctx.config, id)).await;
    for prefix in kadr_core::keys::video_prefixes(id) {
        if let Err(e) = ctx.storage.delete_prefix(&prefix).await {
            tracing::warn!(video = %id, prefix, error = %e, "could not remove a deleted video's media");
        }
    }
    tracing::info!(video = %id, "video deleted during its transcode; its media removed");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn other() -> Result<Option<Done>, JobError> {
        Err(JobError::Io {
            what: "reading the original".into(),
            source: std::io::Error::from(std::io::ErrorKind::TimedOut),
        })
    }

    #[test]
    fn each_ending_moves_the_video_where_it_belongs() {
        assert!(matches!(plan(Ok(None), true), Plan::Finished));
        assert!(matches!(
            plan(Err(MediaError::Cancelled.into()), false),
            Plan::HandBack
        ));
        // The input's faults fail the video at once, whatever attempts are left.
        match plan(
            Err(MediaError::input("too_long", "6 h at most").into()),
            true,
        ) {
            Plan::Refuse { code, message } => {
                assert_eq!(code, Failure::TooLong);
                assert_eq!(message, "6 h at most");
            }
            p => panic!("{p:?}"),
        }
        // Ours: retried while attempts remain, then given up.
        assert!(matches!(plan(other(), true), Plan::Retry(m) if m.contains("timed out")));
        assert!(matches!(plan(other(), false), Plan::GiveUp(_)));
        // A code the media crate might invent is still a documented one.
        assert_eq!(failure_of("something_new"), Failure::Undecodable);
    }
}
