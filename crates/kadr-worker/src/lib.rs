//! The worker (`kadr worker`, also run inside `kadr all`): every kind of background work, on
//! one runner (`kadr_queue::runner`).
//!
//! - `transcode` jobs: probe the original, plan the ladder, transcode in one pass with
//!   `kadr-media`, publish segments as they close, and mark the video ready in the transaction
//!   that completes the job. The input's faults fail the video with a stable code and are
//!   never retried; ours (storage, database) are retried with backoff.
//! - `cleanup` jobs: a deleted video's bytes.
//! - `fetch` jobs: an imported video's file from its URL, through the outbound guard, resumed
//!   with `Range` after a crash (`fetch`).
//! - `webhook` jobs: a signed event POSTed to an endpoint, retried on its own schedule
//!   (`webhooks`).
//! - Periodic sweeps: expired uploads, idle attempt limits, reconciliation of storage with the
//!   database.
//!
//! `worker.kinds` limits a worker to some of these. On shutdown it stops claiming, gives
//! running jobs `worker.shutdown_grace_secs` to finish, then stops them and hands them back.
//!
//! Modules: `job` (the transcode job and its watch), `pipeline` (the steps), `outcome` (what
//! the end records), `publish` (segments and playlists to storage), `files` (work
//! directories), `sweeps` (the other kinds), `metrics`.

mod accounts;
mod clock;
mod community;
mod fetch;
mod files;
mod job;
mod metrics;
mod outcome;
mod pipeline;
mod posters;
mod publish;
mod stills;
mod sweeps;
mod webhooks;

use std::time::Duration;

use kadr_config::Config;
use kadr_http::AppContext;
use kadr_queue::runner::Runner;
use kadr_queue::{Queue, QueueSettings};
use kadr_runtime::{Context, StartError};
use tokio_util::sync::CancellationToken;

/// Why a transcode did not complete.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Media(#[from] kadr_media::MediaError),
    #[error("storage: {0}")]
    Storage(#[from] kadr_storage::StorageError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error(transparent)]
    Domain(#[from] kadr_core::DomainError),
    #[error("queue: {0}")]
    Queue(#[from] kadr_queue::QueueError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// A blocking task (probe, transcode) or the publisher panicked or was cancelled.
    #[error("task: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("config: {0}")]
    Config(#[from] kadr_config::ConfigError),
    /// What the transcoder wrote is not what was expected (an init segment without a video
    /// track, a segment without timing): ours to retry.
    #[error("output: {0}")]
    Output(String),
    /// The watch stopped the transcode (stalled, over budget) on an attempt that is retried.
    #[error("{code}: {message}")]
    Stopped {
        code: kadr_core::Failure,
        message: String,
    },
}

impl JobError {
    pub(crate) fn io(what: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> JobError {
        move |source| JobError::Io {
            what: what.to_string(),
            source,
        }
    }
}

/// Runs the worker with its own health server at `worker.listen` until `shutdown`.
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

/// The runner with every kind this worker runs (`worker.kinds`).
pub fn runner(ctx: &Context) -> Runner {
    let name = format!(
        "worker-{}-{}-{:08x}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "local".to_owned()),
        std::process::id(),
        rand::random::<u32>()
    );
    let queue = Queue::new(ctx.db.clone(), QueueSettings::from(&ctx.config.queue), name);
    let w = &ctx.config.worker;
    let u = &ctx.config.upload;
    let grace = Duration::from_secs(w.shutdown_grace_secs);
    let janitor = Duration::from_secs(u.janitor_interval_secs.max(1));
    let mut runner = Runner::new(queue);
    if w.runs("transcode") {
        runner = runner.queued(
            kadr_core::jobs::TRANSCODE,
            w.concurrency,
            grace,
            job::Transcodes(ctx.clone()),
        );
    }
    if w.runs("cleanup") {
        runner = runner.queued(
            kadr_core::jobs::CLEANUP,
            1,
            grace,
            sweeps::CleanupJobs(ctx.clone()),
        );
    }
    if w.runs("expire_uploads") {
        runner = runner.periodic(
            "expire_uploads",
            janitor,
            Duration::ZERO,
            sweeps::ExpireUploads(ctx.clone()),
        );
    }
    if w.runs("sweep_throttle") {
        runner = runner.periodic(
            "sweep_throttle",
            janitor,
            Duration::ZERO,
            sweeps::SweepThrottle(ctx.clone()),
        );
    }
    if w.runs(kadr_core::jobs::NOTIFY) {
        runner = runner.queued(
            kadr_core::jobs::NOTIFY,
            2,
            grace,
            community::Notify(ctx.clone()),
        );
    }
    if w.runs(kadr_core::jobs::FANOUT) {
        runner = runner.queued(
            kadr_core::jobs::FANOUT,
            1,
            grace,
            community::Fanouts(ctx.clone()),
        );
    }
    if w.runs(kadr_core::jobs::CHANNEL_IMAGE) {
        runner = runner.queued(
            kadr_core::jobs::CHANNEL_IMAGE,
            1,
            grace,
            community::ChannelImages(ctx.clone()),
        );
    }
    if w.runs(kadr_core::jobs::DELETE_CHANNEL) {
        runner = runner.queued(
            kadr_core::jobs::DELETE_CHANNEL,
            1,
            grace,
            community::DeleteChannels(ctx.clone()),
        );
    }
    if w.runs(kadr_core::jobs::THUMBNAIL) {
        runner = runner.queued(
            kadr_core::jobs::THUMBNAIL,
            1,
            grace,
            stills::Stills(ctx.clone()),
        );
    }
    if w.runs(kadr_core::jobs::POSTER) {
        runner = runner.queued(
            kadr_core::jobs::POSTER,
            1,
            grace,
            posters::Posters(ctx.clone()),
        );
    }
    if w.runs(kadr_core::jobs::FETCH) {
        let policy = kadr_outbound::Policy::from_config(&ctx.config.outbound);
        match kadr_outbound::Client::new(policy) {
            Ok(client) => {
                runner = runner.queued_per_key(
                    kadr_core::jobs::FETCH,
                    ctx.config.import.concurrency,
                    ctx.config.import.per_owner,
                    grace,
                    fetch::Fetches {
                        ctx: ctx.clone(),
                        client,
                    },
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "no outbound client: URL imports are not fetched")
            }
        }
    }
    if w.runs(kadr_core::jobs::WEBHOOK) {
        let policy = kadr_outbound::Policy::from_config(&ctx.config.outbound);
        match kadr_outbound::Client::new(policy) {
            Ok(client) => {
                runner = runner.queued_per_key(
                    kadr_core::jobs::WEBHOOK,
                    ctx.config.webhooks.concurrency,
                    ctx.config.webhooks.per_endpoint,
                    grace,
                    webhooks::Deliveries {
                        ctx: ctx.clone(),
                        client,
                    },
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "no outbound client: webhooks are not delivered")
            }
        }
        if ctx.config.webhooks.log_days > 0 {
            runner = runner.periodic(
                "prune_webhooks",
                community::PRUNE_EVERY,
                community::PRUNE_EVERY,
                webhooks::Prune(ctx.clone()),
            );
        }
    }
    if w.runs(kadr_core::jobs::MAIL) {
        runner = runner.queued(kadr_core::jobs::MAIL, 2, grace, accounts::Mail(ctx.clone()));
    }
    if w.runs(kadr_core::jobs::DELETE_ACCOUNT) {
        runner = runner.queued(
            kadr_core::jobs::DELETE_ACCOUNT,
            1,
            grace,
            accounts::DeleteAccounts(ctx.clone()),
        );
    }
    if w.runs("lift_suspensions") {
        runner = runner.periodic(
            "lift_suspensions",
            accounts::LIFT_EVERY,
            Duration::ZERO,
            accounts::LiftSuspensions(ctx.clone()),
        );
    }
    if w.runs("relate") {
        runner = runner.periodic(
            "relate",
            accounts::RELATE_EVERY,
            Duration::ZERO,
            accounts::Relate(ctx.clone()),
        );
    }
    let cm = &ctx.config.community;
    if w.runs("fold_counts") {
        let every = Duration::from_millis(cm.fold_interval_ms);
        runner = runner.periodic(
            "fold_counts",
            every,
            Duration::ZERO,
            community::FoldCounts(ctx.clone()),
        );
    }
    if w.runs("announce") {
        let every = Duration::from_millis(cm.announce_interval_ms);
        runner = runner.periodic(
            "announce",
            every,
            Duration::ZERO,
            community::Announce(ctx.clone()),
        );
    }
    if w.runs("prune_notifications") {
        runner = runner.periodic(
            "prune_notifications",
            community::PRUNE_EVERY,
            community::PRUNE_EVERY,
            community::PruneNotifications(ctx.clone()),
        );
    }
    // 0 turns reconciliation off; the first pass comes one interval after start.
    if w.runs("reconcile") && u.reconcile_interval_secs > 0 {
        let every = Duration::from_secs(u.reconcile_interval_secs);
        runner = runner.periodic("reconcile", every, every, sweeps::Reconcile(ctx.clone()));
    }
    // Every worker, whatever its kinds: the work waiting, for /metrics (autoscaling, alerts).
    runner.periodic(
        "queue_depth",
        metrics::QUEUE_DEPTH_EVERY,
        Duration::ZERO,
        metrics::QueueDepth::new(ctx.clone()),
    )
}

/// Starts the worker's runner; the handle ends when every kind has stopped after `shutdown`.
pub fn start_daemon(ctx: Context, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
    metrics::register();
    let runner = runner(&ctx);
    tracing::info!(kinds = ?runner.kinds(), "worker starting");
    tokio::spawn(async move {
        files::sweep_work_dirs(&ctx.config).await;
        let _ = runner.start(shutdown).await;
        tracing::info!("worker stopped");
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every code the media crate reports for an input fault is a documented failure code.
    #[test]
    fn media_failure_codes_are_documented() {
        let mut dirs =
            vec![std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../kadr-media/src")];
        let mut files = Vec::new();
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    files.push(path);
                }
            }
        }
        let mut found = Vec::new();
        for path in files {
            let text = std::fs::read_to_string(path).unwrap();
            for (i, _) in text.match_indices("MediaError::input(") {
                let rest = text[i + "MediaError::input(".len()..].trim_start();
                if let Some(lit) = rest.strip_prefix('"') {
                    found.push(lit[..lit.find('"').unwrap()].to_owned());
                }
            }
        }
        assert!(found.len() >= 10, "{found:?}");
        for code in &found {
            assert!(
                kadr_core::Failure::parse(code).is_some(),
                "kadr-media reports {code}, which kadr_core::Failure does not list"
            );
        }
        assert_eq!(outcome::failure_of("too_long"), kadr_core::Failure::TooLong);
    }

    #[test]
    fn kinds_follow_the_config() {
        let all: Vec<&str> = kadr_config::WORKER_KINDS.to_vec();
        let mut w = kadr_config::WorkerConfig::default();
        assert!(all.iter().all(|k| w.runs(k)));
        w.kinds = vec!["transcode".to_owned()];
        assert!(w.runs("transcode") && !w.runs("cleanup"));
        // The confined unit never runs what reaches other servers, whatever its kinds say.
        w.kinds = vec![];
        w.outbound = false;
        assert!(w.runs("transcode") && !w.runs("fetch") && !w.runs("mail") && !w.runs("webhook"));
        w.kinds = vec!["fetch".to_owned()];
        assert!(!w.runs("fetch"));
    }
}
