//! The transcoding daemon (`kadr worker`, also run inside `kadr all`).
//!
//! It claims `transcode` jobs from the queue (leased, heart-beaten), probes the original,
//! plans the ladder, transcodes in one pass with `kadr-media`, uploads the HLS ladder to
//! storage and marks the video ready, in the same transaction that completes the job. The
//! input's faults fail the video with a stable code and are never retried; ours (storage,
//! database) are retried with backoff. On shutdown it stops claiming, gives running jobs
//! `worker.shutdown_grace_secs` to finish, then cancels them and hands them back.

mod metrics;
mod publish;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kadr_config::{Config, TranscodeConfig};
use kadr_core::entities::video;
use kadr_http::AppContext;
use kadr_media::MediaError;
use kadr_media::hls::RungOutput;
use kadr_media::plan::{LadderRung, plan};
use kadr_media::probe::{Limits, Probe, check_limits, probe};
use kadr_media::transcode::{Settings, transcode};
use kadr_queue::{FailOutcome, Job, Queue, QueueSettings};
use kadr_runtime::Context;
use kadr_runtime::StartError;
use kadr_storage::Storage;
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, Statement, TransactionTrait};
use serde::Deserialize;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

#[derive(Debug, Deserialize)]
struct TranscodeJob {
    video_id: Uuid,
}

/// Runs the daemon with its own health server at `worker.listen` until `shutdown`.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), StartError> {
    let listen = config.worker.listen;
    let ctx = Context::open(config).await?;
    let daemon = start_daemon(ctx.clone(), shutdown.clone());
    // The only HTTP the worker serves: health, readiness and metrics.
    let server = kadr_http::bind(listen, AppContext::new(ctx), |_| {})?;
    let served = server
        .run_until(shutdown)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen,
            source,
        });
    let _ = daemon.await;
    served
}

/// Starts `worker.concurrency` job loops; the handle ends when all have stopped.
/// Removes work directories left by jobs that died with their process (nothing written in them
/// for an hour: another worker sharing the data directory may be writing in a younger one).
async fn sweep_work_dirs(config: &Config) {
    let root = config.data_dir.join("work");
    let Ok(mut dirs) = tokio::fs::read_dir(&root).await else {
        return;
    };
    let idle = |m: &std::fs::Metadata| {
        m.modified()
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|e| e > Duration::from_secs(3600))
    };
    let mut removed = 0;
    while let Ok(Some(entry)) = dirs.next_entry().await {
        let path = entry.path();
        let mut quiet = entry.metadata().await.is_ok_and(|m| idle(&m));
        if let Ok(mut inner) = tokio::fs::read_dir(&path).await {
            while let Ok(Some(e)) = inner.next_entry().await {
                quiet &= e.metadata().await.is_ok_and(|m| idle(&m));
            }
        }
        if quiet && tokio::fs::remove_dir_all(&path).await.is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "leftover work directories removed");
    }
}

pub fn start_daemon(ctx: Context, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    metrics::register();
    let name = format!(
        "worker-{}-{}-{:08x}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "local".to_owned()),
        std::process::id(),
        rand::random::<u32>()
    );
    let queue = Queue::new(ctx.db.clone(), QueueSettings::from(&ctx.config.queue), name);
    let slots = ctx.config.worker.concurrency.max(1);
    tokio::spawn(async move {
        sweep_work_dirs(&ctx.config).await;
        let mut loops = Vec::new();
        for _ in 0..slots {
            loops.push(tokio::spawn(job_loop(
                ctx.clone(),
                queue.clone(),
                shutdown.clone(),
            )));
        }
        for l in loops {
            let _ = l.await;
        }
        tracing::info!("worker stopped");
    })
}

async fn job_loop(ctx: Context, queue: Queue, shutdown: CancellationToken) {
    let mut waiter = queue.waiter(kadr_queue::queues::TRANSCODE);
    loop {
        let job = match waiter.next(&shutdown).await {
            Ok(Some(job)) => job,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot claim jobs; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(queue.settings().poll_interval) => continue,
                }
            }
        };
        let wait = (chrono::Utc::now() - job.run_at)
            .to_std()
            .unwrap_or_default();
        metrics::queue_wait(wait);
        run_job(&ctx, &queue, job, &shutdown).await;
    }
}

/// Why a running job was stopped from outside, besides a shutdown or a lost lease.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// The video was deleted: nothing is published for it any more.
    Deleted,
    /// No picture decoded for `worker.stall_timeout_secs`.
    Stalled,
    /// Over the wall-clock budget (`worker.budget_factor` × duration).
    OverBudget,
}

/// What the watcher of a running job reads: progress and the budget, set by the job.
#[derive(Default)]
struct JobClock {
    /// Milliseconds since the job started at the last decoded picture (0: not decoding yet).
    progress_ms: std::sync::atomic::AtomicU64,
    /// Milliseconds since the job started after which it is over budget (0: no budget yet).
    deadline_ms: std::sync::atomic::AtomicU64,
    /// Why the job was stopped, when the watcher stopped it.
    stop: std::sync::Mutex<Option<Stop>>,
}

impl JobClock {
    fn stopped(&self) -> Option<Stop> {
        *self.stop.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Runs one job with its lease renewed, cancelling it if the lease is lost, the shutdown
/// grace runs out, its video is deleted, it stalls or it runs over its budget.
async fn run_job(ctx: &Context, queue: &Queue, job: Job, shutdown: &CancellationToken) {
    let heartbeat = queue.keep_alive(&job);
    let cancel = Arc::new(AtomicBool::new(false));
    let clock = Arc::new(JobClock::default());
    let lost = heartbeat.lost();
    let grace = Duration::from_secs(ctx.config.worker.shutdown_grace_secs);
    let started = Instant::now();
    let video_id = job.payload::<TranscodeJob>().ok().map(|p| p.video_id);
    let watcher = {
        let (cancel, clock, shutdown, db) = (
            cancel.clone(),
            clock.clone(),
            shutdown.clone(),
            ctx.db.clone(),
        );
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
                        && matches!(video_exists(&db, id).await, Ok(false))
                    {
                        return Stop::Deleted;
                    }
                }
            };
            tokio::select! {
                _ = lost.cancelled() => {}
                _ = async {
                    shutdown.cancelled().await;
                    tracing::info!(grace = ?grace, "shutting down: the running transcode may finish within the grace");
                    tokio::time::sleep(grace).await;
                } => {}
                why = watch => {
                    *clock.stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
                }
            }
            cancel.store(true, Ordering::Relaxed);
        })
    };
    let result = process(ctx, &job, &cancel, &clock, started).await;
    watcher.abort();
    drop(heartbeat);
    let result = match (clock.stopped(), video_id) {
        (Some(Stop::Deleted), Some(id)) => {
            // Deleted while it ran: whatever was published goes, and the job is done.
            forget(ctx, id).await;
            Ok(None)
        }
        (Some(why @ (Stop::Stalled | Stop::OverBudget)), _) => {
            let (code, message) = match why {
                Stop::Stalled => (
                    "stalled",
                    format!(
                        "The transcode decoded nothing for {} s",
                        ctx.config.worker.stall_timeout_secs
                    ),
                ),
                _ => (
                    "too_slow",
                    "The transcode ran over its time budget".to_owned(),
                ),
            };
            // Retried once (a busy machine), then the input's fault.
            if job.attempt >= 2 {
                Err(MediaError::input(code, message).into())
            } else {
                Err(JobError::Other(format!("{code}: {message}")))
            }
        }
        _ => result,
    };
    if let Err(e) = settle(ctx, queue, &job, result).await {
        tracing::error!(job = %job.id, error = %e, "could not record the outcome of a job");
    }
    tracing::debug!(job = %job.id, secs = started.elapsed().as_secs_f64(), "job finished");
}

/// Why a job did not complete.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Media(#[from] MediaError),
    #[error("storage: {0}")]
    Storage(#[from] kadr_storage::StorageError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Other(String),
}

/// What a successful job leaves to record.
struct Done {
    video_id: Uuid,
    outs: Vec<RungOutput>,
    master_key: String,
    images: Vec<PublishedImage>,
}

/// A poster or storyboard file in storage.
struct PublishedImage {
    kind: &'static str,
    key: String,
    content_type: &'static str,
    size: Option<(i32, i32)>,
}

/// Whether the video still exists.
async fn video_exists(db: &sea_orm::DatabaseConnection, id: Uuid) -> Result<bool, sea_orm::DbErr> {
    Ok(db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT 1 AS one FROM videos WHERE id = $1",
            [id.into()],
        ))
        .await?
        .is_some())
}

/// Removes what was published for a deleted video (its cleanup job may have run before the
/// last segment landed); the reconciliation sweep catches anything this misses.
async fn forget(ctx: &Context, id: Uuid) {
    let _ = tokio::fs::remove_dir_all(work_dir(&ctx.config, id)).await;
    for prefix in kadr_core::keys::video_prefixes(id) {
        if let Err(e) = ctx.storage.delete_prefix(&prefix).await {
            tracing::warn!(video = %id, prefix, error = %e, "could not remove a deleted video's media");
        }
    }
    tracing::info!(video = %id, "video deleted during its transcode; its media removed");
}

async fn process(
    ctx: &Context,
    job: &Job,
    cancel: &Arc<AtomicBool>,
    clock: &Arc<JobClock>,
    started: Instant,
) -> Result<Option<Done>, JobError> {
    let payload: TranscodeJob = job.payload().map_err(|e| JobError::Other(e.to_string()))?;
    let id = payload.video_id;
    let Some(v) = video::Entity::find_by_id(id).one(&ctx.db).await? else {
        // Deleted meanwhile: nothing to do.
        return Ok(None);
    };
    exec(
        ctx,
        "UPDATE videos SET status = 'processing', stage = 'probing', progress = 0, failure_code = NULL,
             failure_message = NULL, updated_at = now() WHERE id = $1",
        vec![id.into()],
    )
    .await?;
    if v.source_size_bytes == Some(0) {
        return Err(MediaError::input("empty_file", "The file is empty").into());
    }
    let work = work_dir(&ctx.config, id);
    let _ = tokio::fs::remove_dir_all(&work).await;
    tokio::fs::create_dir_all(&work)
        .await
        .map_err(|e| JobError::Other(format!("creating {}: {e}", work.display())))?;
    let input = input_of(&ctx.storage, &kadr_core::keys::source(v.id), &work).await?;

    let (ladder_config, limits, settings) = media_settings(&ctx.config.transcode)?;
    let probed = {
        let input = input.clone();
        tokio::task::spawn_blocking(move || -> Result<Probe, MediaError> {
            let p = probe(&input)?;
            check_limits(&p, &limits)?;
            Ok(p)
        })
        .await
        .map_err(|e| JobError::Other(e.to_string()))??
    };
    tracing::debug!(video = %id, since_enqueue = ?(chrono::Utc::now() - job.run_at).to_std().unwrap_or_default(), "probed");
    let (w, h) = probed.video.display_size();
    let ladder = plan(w, h, probed.duration_secs, &ladder_config);
    // The wall-clock budget, from what the header claims (the decoder holds the real length
    // to the limit).
    let budget = (probed.duration_secs * ctx.config.worker.budget_factor)
        .max(ctx.config.worker.budget_min_secs as f64);
    clock.deadline_ms.store(
        started.elapsed().as_millis() as u64 + (budget * 1000.0) as u64,
        Ordering::Relaxed,
    );
    exec(
        ctx,
        "UPDATE videos SET stage = 'transcoding', duration_ms = $2, width = $3, height = $4, fps = $5,
             rotation = $6, is_short = $7, updated_at = now() WHERE id = $1",
        vec![
            id.into(),
            ((probed.duration_secs * 1000.0).round() as i64).into(),
            (w as i32).into(),
            (h as i32).into(),
            probed.video.fps.into(),
            (probed.video.rotation as i16).into(),
            ladder.is_short.into(),
        ],
    )
    .await?;

    // Progress: the decoder reports positions; the database hears at most once a second.
    let (tx, mut rx) = tokio::sync::watch::channel(0.0f64);
    let duration = probed.duration_secs.max(0.001);
    let reporter = {
        let db = ctx.db.clone();
        tokio::spawn(async move {
            let mut last = -1i16;
            loop {
                if rx.changed().await.is_err() {
                    return;
                }
                let pct = ((*rx.borrow_and_update() / duration) * 100.0).clamp(0.0, 99.0) as i16;
                if pct != last {
                    last = pct;
                    let _ = db
                        .execute_raw(Statement::from_sql_and_values(
                            DbBackend::Postgres,
                            "UPDATE videos SET progress = $2, updated_at = now() WHERE id = $1",
                            [id.into(), pct.into()],
                        ))
                        .await;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        })
    };
    // Segments are published while the ladder is encoded; the video becomes playable as soon
    // as every rung has its first one.
    let stop_publishing = CancellationToken::new();
    let publisher = {
        let mut publisher = publish::Publisher::new(
            (*ctx.storage).clone(),
            id,
            &ladder.rungs,
            &work,
            probed.video.fps,
        );
        let (db, stop) = (ctx.db.clone(), stop_publishing.clone());
        let run_at = job.run_at;
        tokio::spawn(async move {
            loop {
                let stopping = stop.is_cancelled();
                if publisher.sweep().await? {
                    db.execute_raw(Statement::from_sql_and_values(
                        DbBackend::Postgres,
                        "UPDATE videos SET playable = true, updated_at = now() WHERE id = $1",
                        [id.into()],
                    ))
                    .await?;
                    let since_enqueue = (chrono::Utc::now() - run_at).to_std().unwrap_or_default();
                    metrics::playable(since_enqueue);
                    tracing::info!(video = %id, secs = since_enqueue.as_secs_f64(), "playable");
                }
                if stopping {
                    return Ok::<_, JobError>(publisher);
                }
                tokio::select! {
                    _ = stop.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                }
            }
        })
    };
    let started = Instant::now();
    let outs = {
        let (input, work, cancel, rungs) = (
            input.clone(),
            work.clone(),
            cancel.clone(),
            ladder.rungs.clone(),
        );
        let probed = probed.clone();
        let clock = clock.clone();
        clock.progress_ms.store(
            started.elapsed().as_millis().max(1) as u64,
            Ordering::Relaxed,
        );
        tokio::task::spawn_blocking(move || {
            let report = move |secs: f64| {
                clock.progress_ms.store(
                    started.elapsed().as_millis().max(1) as u64,
                    Ordering::Relaxed,
                );
                let _ = tx.send(secs);
            };
            transcode(&input, &probed, &rungs, &settings, &work, &cancel, &report)
        })
        .await
        .map_err(|e| JobError::Other(e.to_string()))?
    };
    reporter.abort();
    stop_publishing.cancel();
    let published = publisher
        .await
        .map_err(|e| JobError::Other(e.to_string()))?;
    let done = outs?;
    let outs = done.rungs;
    let mut publisher = published?;
    metrics::transcoded(probed.duration_secs, probed.video.fps, started.elapsed());
    if let Some(first) = publisher.first_segment_at {
        metrics::first_segment(first.saturating_duration_since(started));
    }
    exec(
        ctx,
        "UPDATE videos SET stage = 'publishing', updated_at = now() WHERE id = $1",
        vec![id.into()],
    )
    .await?;
    publisher.finish(&outs).await?;
    let master_key = publisher.master_key();
    let mut images = Vec::new();
    if let Some(img) = &done.images {
        let dir = work.join("images");
        let poster_size = Some((img.poster_size.0 as i32, img.poster_size.1 as i32));
        let mut files = vec![
            ("poster", &img.poster, "image/jpeg", poster_size),
            ("poster_small", &img.poster_small, "image/jpeg", None),
            ("storyboard_vtt", &img.storyboard_vtt, "text/vtt", None),
        ];
        for sheet in &img.storyboard_sheets {
            files.push(("storyboard", sheet, "image/jpeg", None));
        }
        for (kind, name, content_type, size) in files {
            let key = kadr_core::keys::image(id, name);
            upload_file(&ctx.storage, &dir.join(name), &key).await?;
            images.push(PublishedImage {
                kind,
                key,
                content_type,
                size,
            });
        }
    }
    let _ = tokio::fs::remove_dir_all(&work).await;
    Ok(Some(Done {
        video_id: id,
        outs,
        master_key,
        images,
    }))
}

/// Records the outcome: ready (with the job completed in the same transaction), failed for
/// the input's faults, retried for ours, handed back when cancelled.
async fn settle(
    ctx: &Context,
    queue: &Queue,
    job: &Job,
    result: Result<Option<Done>, JobError>,
) -> Result<(), JobError> {
    match result {
        Ok(None) => {
            queue
                .complete(job)
                .await
                .map_err(|e| JobError::Other(e.to_string()))?;
            Ok(())
        }
        Ok(Some(done)) => {
            let tx = ctx.db.begin().await?;
            tx.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM renditions WHERE video_id = $1",
                [done.video_id.into()],
            ))
            .await?;
            for o in &done.outs {
                tx.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "INSERT INTO renditions (id, video_id, name, width, height, fps, codecs, bandwidth,
                         avg_bandwidth, playlist_key, segments, complete)
                     VALUES ($1, $2, $3, $4, $5, (SELECT fps FROM videos WHERE id = $2), $6, $7, $8, $9, $10, true)",
                    [
                        Uuid::now_v7().into(),
                        done.video_id.into(),
                        o.rung.name.clone().into(),
                        (o.rung.width as i32).into(),
                        (o.rung.height as i32).into(),
                        o.codecs.clone().into(),
                        (o.peak_bandwidth() as i64).into(),
                        (o.average_bandwidth() as i64).into(),
                        kadr_core::keys::rung_playlist(done.video_id, &o.rung.name).into(),
                        (o.segments.len() as i32).into(),
                    ],
                ))
                .await?;
            }
            tx.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "DELETE FROM images WHERE video_id = $1",
                [done.video_id.into()],
            ))
            .await?;
            for image in &done.images {
                tx.execute_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "INSERT INTO images (id, video_id, kind, storage_key, content_type, width, height)
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    [
                        Uuid::now_v7().into(),
                        done.video_id.into(),
                        image.kind.into(),
                        image.key.clone().into(),
                        image.content_type.into(),
                        image.size.map(|s| s.0).into(),
                        image.size.map(|s| s.1).into(),
                    ],
                ))
                .await?;
            }
            tx.execute_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "UPDATE videos SET status = 'ready', playable = true, progress = 100, stage = NULL,
                     failure_code = NULL, failure_message = NULL, updated_at = now(),
                     published_at = COALESCE(published_at, now())
                 WHERE id = $1",
                [done.video_id.into()],
            ))
            .await?;
            kadr_queue::complete_on(&tx, job)
                .await
                .map_err(|e| JobError::Other(e.to_string()))?;
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
            Ok(())
        }
        Err(JobError::Media(MediaError::Cancelled)) => {
            queue
                .release(job)
                .await
                .map_err(|e| JobError::Other(e.to_string()))?;
            if let Ok(p) = job.payload::<TranscodeJob>() {
                exec(
                    ctx,
                    "UPDATE videos SET status = 'queued', stage = NULL, updated_at = now() WHERE id = $1",
                    vec![p.video_id.into()],
                )
                .await?;
            }
            tracing::info!(job = %job.id, "transcode cancelled and handed back");
            Ok(())
        }
        Err(JobError::Media(MediaError::Input { code, message })) => {
            fail_video(ctx, job, code, &message).await?;
            queue
                .fail(job, &format!("{code}: {message}"), false)
                .await
                .map_err(|e| JobError::Other(e.to_string()))?;
            metrics::job("failed");
            tracing::info!(job = %job.id, code, message, "input refused");
            Ok(())
        }
        Err(e) => {
            let message = e.to_string();
            tracing::warn!(job = %job.id, attempt = job.attempt, error = %message, "transcode failed");
            let outcome = queue
                .fail(job, &message, true)
                .await
                .map_err(|e| JobError::Other(e.to_string()))?;
            if outcome == FailOutcome::Failed {
                fail_video(
                    ctx,
                    job,
                    "processing_failed",
                    "Kadr could not process this video after several attempts; try again later",
                )
                .await?;
                metrics::job("failed");
            } else if let Ok(p) = job.payload::<TranscodeJob>() {
                exec(
                    ctx,
                    "UPDATE videos SET status = 'queued', stage = NULL, updated_at = now() WHERE id = $1",
                    vec![p.video_id.into()],
                )
                .await?;
            }
            Ok(())
        }
    }
}

async fn fail_video(ctx: &Context, job: &Job, code: &str, message: &str) -> Result<(), JobError> {
    let Ok(p) = job.payload::<TranscodeJob>() else {
        return Ok(());
    };
    exec(
        ctx,
        "UPDATE videos SET status = 'failed', playable = false, stage = NULL, failure_code = $2,
             failure_message = $3, updated_at = now() WHERE id = $1",
        vec![p.video_id.into(), code.into(), message.into()],
    )
    .await?;
    // Nothing half-made stays behind.
    for prefix in kadr_core::keys::derived_prefixes(p.video_id) {
        ctx.storage.delete_prefix(&prefix).await?;
    }
    let _ = tokio::fs::remove_dir_all(work_dir(&ctx.config, p.video_id)).await;
    Ok(())
}

/// The `[transcode]` section in `kadr-media`'s terms.
fn media_settings(c: &TranscodeConfig) -> Result<(Vec<LadderRung>, Limits, Settings), JobError> {
    let ladder = c
        .rungs()
        .map_err(|e| JobError::Other(e.to_string()))?
        .into_iter()
        .map(|(short_side, max_kbps)| LadderRung {
            short_side,
            max_kbps,
        })
        .collect();
    let limits = Limits {
        max_duration_secs: c.max_duration_secs,
        max_pixels: c.max_pixels,
        max_fps: c.max_fps,
        max_streams: c.max_streams,
    };
    let settings = Settings {
        segment_secs: c.segment_secs,
        first_segment_secs: c.first_segment_secs,
        gop_secs: c.gop_secs,
        preset: c.preset.clone(),
        crf: c.crf,
        audio_kbps: c.audio_kbps,
        limits: limits.clone(),
    };
    Ok((ladder, limits, settings))
}

async fn exec(ctx: &Context, sql: &str, values: Vec<sea_orm::Value>) -> Result<(), JobError> {
    ctx.db
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            values,
        ))
        .await?;
    Ok(())
}

fn work_dir(config: &Config, id: Uuid) -> PathBuf {
    config.data_dir.join("work").join(id.to_string())
}

/// Where FFmpeg reads the original: always a local file, never a URL (FFmpeg opens only the
/// `file` protocol). On disk, the stored file itself; on S3, a copy streamed into the job's
/// work directory.
async fn input_of(storage: &Storage, key: &str, work: &Path) -> Result<PathBuf, JobError> {
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    match storage {
        Storage::Local(local) => Ok(local.file_path(key)?),
        Storage::S3(_) => {
            let path = work.join("source");
            let io = |e: std::io::Error| JobError::Other(format!("{}: {e}", path.display()));
            let mut object = storage.get(key, None).await?;
            let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
            while let Some(chunk) = object.body.next().await {
                let chunk = chunk.map_err(|e| JobError::Other(format!("reading {key}: {e}")))?;
                file.write_all(&chunk).await.map_err(io)?;
            }
            file.flush().await.map_err(io)?;
            Ok(path)
        }
    }
}

async fn upload_file(storage: &Storage, path: &Path, key: &str) -> Result<(), JobError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(|e| JobError::Other(format!("{}: {e}", path.display())))?;
    let body = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
    storage.put_stream(key, Box::pin(body), None).await?;
    Ok(())
}
