//! What the watch of a running transcode reads and the pipeline writes: progress, budget,
//! and why the watch stopped it.

use std::sync::atomic::AtomicU64;

/// Why a running transcode was stopped by its watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// The video was deleted: nothing is published for it any more.
    Deleted,
    /// No picture decoded for `worker.stall_timeout_secs`.
    Stalled,
    /// Over the wall-clock budget (`worker.budget_factor` × duration).
    OverBudget,
}

/// What the watch of a running job reads: progress and the budget, set by the pipeline.
#[derive(Default)]
pub struct JobClock {
    /// Milliseconds since the job started at the last decoded picture (0: not decoding yet).
    pub progress_ms: AtomicU64,
    /// Milliseconds since the job started after which it is over budget (0: no budget yet).
    pub deadline_ms: AtomicU64,
    /// Why the job was stopped, when the watch stopped it.
    stop: std::sync::Mutex<Option<Stop>>,
}

impl JobClock {
    pub fn stopped(&self) -> Option<Stop> {
        *self.stop.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn set_stopped(&self, why: Stop) {
        *self.stop.lock().unwrap_or_else(|p| p.into_inner()) = Some(why);
    }
}
