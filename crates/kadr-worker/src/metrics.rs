//! The worker's Prometheus metrics: jobs by outcome, queue wait, transcoding speed.

use std::sync::LazyLock;
use std::time::Duration;

use prometheus::{Gauge, Histogram, HistogramOpts, IntCounterVec, Opts};

struct Metrics {
    jobs: IntCounterVec,
    playable: Histogram,
    first_segment: Histogram,
    queue_wait: Histogram,
    realtime: Gauge,
    decode_fps: Gauge,
    ladder_secs: Histogram,
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
    let r = kadr_runtime::metrics::registry();
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
