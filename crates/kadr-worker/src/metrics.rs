//! The worker's Prometheus metrics: jobs by outcome, queue wait, transcoding speed, and the
//! work waiting (`kadr_queue_depth`, `kadr_queue_oldest_seconds` and `kadr_queue_running` by
//! kind, refreshed by [`QueueDepth`] every [`QUEUE_DEPTH_EVERY`]; what autoscalers and alerts
//! read).

use std::collections::BTreeSet;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use kadr_queue::runner::{BoxFuture, Control, Periodic};
use kadr_runtime::Context;
use prometheus::{Gauge, GaugeVec, Histogram, HistogramOpts, IntCounterVec, IntGaugeVec, Opts};

struct Metrics {
    jobs: IntCounterVec,
    playable: Histogram,
    first_segment: Histogram,
    queue_wait: Histogram,
    realtime: Gauge,
    decode_fps: Gauge,
    ladder_secs: Histogram,
    queue_depth: IntGaugeVec,
    queue_oldest: GaugeVec,
    queue_running: IntGaugeVec,
}

static METRICS: LazyLock<Option<Metrics>> = LazyLock::new(|| {
    let jobs = IntCounterVec::new(
        Opts::new("worker_jobs_total", "Transcode jobs by outcome"),
        &["outcome"],
    )
    .ok()?;
    let queue_wait = Histogram::with_opts(
        HistogramOpts::new("worker_queue_wait_seconds", "Time from enqueue to claim").buckets(
            vec![
                0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0,
            ],
        ),
    )
    .ok()?;
    let realtime = Gauge::new(
        "worker_transcode_speed_ratio",
        "Media seconds transcoded per wall second, last job (decode and every rung)",
    )
    .ok()?;
    let decode_fps = Gauge::new(
        "worker_decode_fps",
        "Source frames decoded (and carried through every rung) per second, last job",
    )
    .ok()?;
    let ladder_secs = Histogram::with_opts(
        HistogramOpts::new(
            "worker_full_ladder_seconds",
            "Wall time to transcode the whole ladder",
        )
        .buckets(vec![
            1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0,
        ]),
    )
    .ok()?;
    let playable = Histogram::with_opts(
        HistogramOpts::new(
            "worker_enqueue_to_playable_seconds",
            "Time from the upload's completion to playable",
        )
        .buckets(vec![0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 20.0, 60.0, 300.0]),
    )
    .ok()?;
    let first_segment = Histogram::with_opts(
        HistogramOpts::new(
            "worker_first_segment_seconds",
            "Time from the transcode's start to its first segment",
        )
        .buckets(vec![0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0]),
    )
    .ok()?;
    let queue_depth = IntGaugeVec::new(
        Opts::new(
            "queue_depth",
            "Jobs ready to run now (queued, due, not leased), by kind; the same figure on every worker",
        ),
        &["kind"],
    )
    .ok()?;
    let queue_oldest = GaugeVec::new(
        Opts::new(
            "queue_oldest_seconds",
            "Seconds since the oldest ready job of a kind became due; 0 when none waits",
        ),
        &["kind"],
    )
    .ok()?;
    let queue_running = IntGaugeVec::new(
        Opts::new(
            "queue_running",
            "Jobs leased by a worker now, by kind; the same figure on every worker",
        ),
        &["kind"],
    )
    .ok()?;
    let r = kadr_runtime::metrics::registry();
    r.register(Box::new(queue_depth.clone())).ok()?;
    r.register(Box::new(queue_running.clone())).ok()?;
    r.register(Box::new(queue_oldest.clone())).ok()?;
    r.register(Box::new(playable.clone())).ok()?;
    r.register(Box::new(first_segment.clone())).ok()?;
    r.register(Box::new(jobs.clone())).ok()?;
    r.register(Box::new(queue_wait.clone())).ok()?;
    r.register(Box::new(realtime.clone())).ok()?;
    r.register(Box::new(decode_fps.clone())).ok()?;
    r.register(Box::new(ladder_secs.clone())).ok()?;
    Some(Metrics {
        jobs,
        playable,
        first_segment,
        queue_wait,
        realtime,
        decode_fps,
        ladder_secs,
        queue_depth,
        queue_oldest,
        queue_running,
    })
});

pub fn register() {
    LazyLock::force(&METRICS);
}

pub fn job(outcome: &str) {
    if let Some(m) = METRICS.as_ref() {
        m.jobs.with_label_values(&[outcome]).inc();
    }
}

pub fn queue_wait(wait: Duration) {
    if let Some(m) = METRICS.as_ref() {
        m.queue_wait.observe(wait.as_secs_f64());
    }
}

pub fn transcoded(media_secs: f64, fps: f64, took: Duration) {
    if let Some(m) = METRICS.as_ref() {
        m.ladder_secs.observe(took.as_secs_f64());
        if took.as_secs_f64() > 0.0 {
            m.realtime.set(media_secs / took.as_secs_f64());
            m.decode_fps.set(media_secs * fps / took.as_secs_f64());
        }
    }
}

pub fn playable(since_enqueue: Duration) {
    if let Some(m) = METRICS.as_ref() {
        m.playable.observe(since_enqueue.as_secs_f64());
    }
}

pub fn first_segment(after: Duration) {
    if let Some(m) = METRICS.as_ref() {
        m.first_segment.observe(after.as_secs_f64());
    }
}

/// How often [`QueueDepth`] reads the queue.
pub const QUEUE_DEPTH_EVERY: Duration = Duration::from_secs(5);

/// The queued kinds, shown at 0 while nothing waits so a query on one of them (an
/// autoscaler's) always finds a series.
const QUEUED_KINDS: &[&str] = &[
    kadr_core::jobs::TRANSCODE,
    kadr_core::jobs::CLEANUP,
    kadr_core::jobs::NOTIFY,
    kadr_core::jobs::FANOUT,
    kadr_core::jobs::CHANNEL_IMAGE,
    kadr_core::jobs::DELETE_CHANNEL,
    kadr_core::jobs::MAIL,
    kadr_core::jobs::DELETE_ACCOUNT,
    kadr_core::jobs::FETCH,
    kadr_core::jobs::THUMBNAIL,
    kadr_core::jobs::POSTER,
    kadr_core::jobs::WEBHOOK,
];

/// A periodic pass setting `kadr_queue_depth`, `kadr_queue_oldest_seconds` and
/// `kadr_queue_running` from one query.
/// A kind seen once stays, at 0 when its queue is empty; on a failed read the gauges keep
/// their last values (the log says why).
pub struct QueueDepth {
    ctx: Context,
    seen: Arc<Mutex<BTreeSet<String>>>,
}

impl QueueDepth {
    pub fn new(ctx: Context) -> QueueDepth {
        let seen = QUEUED_KINDS.iter().map(|k| (*k).to_owned()).collect();
        QueueDepth {
            ctx,
            seen: Arc::new(Mutex::new(seen)),
        }
    }
}

impl Periodic for QueueDepth {
    fn run(&self, _control: Control) -> BoxFuture<()> {
        let (ctx, seen) = (self.ctx.clone(), self.seen.clone());
        Box::pin(async move { refresh_depth(&ctx, &seen).await })
    }
}

async fn refresh_depth(ctx: &Context, seen: &Mutex<BTreeSet<String>>) {
    let Some(m) = METRICS.as_ref() else { return };
    let depths = match kadr_queue::depth::ready_by_kind(&ctx.db).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read the queue depth");
            return;
        }
    };
    let mut seen = match seen.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    };
    seen.extend(depths.iter().map(|d| d.kind.clone()));
    for kind in seen.iter() {
        let found = depths.iter().find(|d| &d.kind == kind);
        m.queue_depth
            .with_label_values(&[kind.as_str()])
            .set(found.map_or(0, |d| d.ready));
        m.queue_oldest
            .with_label_values(&[kind.as_str()])
            .set(found.map_or(0.0, |d| d.oldest_secs));
        m.queue_running
            .with_label_values(&[kind.as_str()])
            .set(found.map_or(0, |d| d.running));
    }
}
