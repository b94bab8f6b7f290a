//! One runner for every kind of background work.
//!
//! - A **queued kind** takes jobs from its queue: one claimer takes a job whenever one of its
//!   `concurrency` slots is free, and each job runs in its own task that renews its lease
//!   while its handler runs and records what the handler answered ([`Outcome`]). The
//!   handler's [`Control`] is cancelled when the lease is lost or when the shutdown grace is
//!   over, and the job is handed back.
//! - A **periodic kind** runs its handler every `interval` (idempotent sweeps); a shutdown stops
//!   it where it is.
//!
//! Every run is in a tracing span naming the kind, the job and its attempt, so each log line
//! can be tied to what caused it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use crate::{Job, Queue};

/// A boxed future, as handlers return.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// What became of a job, as its handler tells the runner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Done: the job is completed.
    Done,
    /// Failed on our side (storage, database): retried with backoff while attempts remain.
    Retry(String),
    /// Failed for good (the job itself is at fault): not retried.
    Fail(String),
    /// Stopped on request (shutdown, lost lease): handed back for another attempt.
    Release,
    /// The handler recorded the outcome itself (say, completed the job in the transaction that
    /// stored its results).
    Settled,
}

/// What a running job's handler can watch, and the queue it came from (a handler that records
/// its own outcome, [`Outcome::Settled`], does it through this queue's fenced calls).
#[derive(Debug, Clone)]
pub struct Control {
    stop: CancellationToken,
    queue: Option<Queue>,
}

impl Control {
    /// Cancelled when the job must stop: its lease was lost, or the shutdown grace is over.
    pub fn stop(&self) -> &CancellationToken {
        &self.stop
    }

    /// The queue the job came from (none for periodic kinds).
    pub fn queue(&self) -> Option<&Queue> {
        self.queue.as_ref()
    }

    /// A control for running a handler outside the runner (tests, one-off runs).
    pub fn standalone(stop: CancellationToken) -> Control {
        Control { stop, queue: None }
    }
}

/// Runs jobs of one queue.
pub trait Handler: Send + Sync + 'static {
    fn run(&self, job: Job, control: Control) -> BoxFuture<Outcome>;

    /// A job whose every attempt ended with its worker gone (leases lapsed): it is not run
    /// again. The handler records what that means for its subject (say, the video fails) and
    /// answers the job's outcome; by default the job fails with `reason`.
    fn exhausted(&self, job: Job, reason: String) -> BoxFuture<Outcome> {
        let _ = job;
        Box::pin(async move { Outcome::Fail(reason) })
    }
}

/// Runs one pass of a periodic kind.
pub trait Periodic: Send + Sync + 'static {
    fn run(&self, control: Control) -> BoxFuture<()>;
}

enum Work {
    Queued {
        concurrency: usize,
        per_key: Option<usize>,
        grace: Duration,
        handler: Arc<dyn Handler>,
    },
    Periodic {
        interval: Duration,
        first_after: Duration,
        task: Arc<dyn Periodic>,
    },
}

struct Kind {
    name: &'static str,
    work: Work,
}

/// The kinds a process runs, and the queue they take jobs from.
pub struct Runner {
    queue: Queue,
    kinds: Vec<Kind>,
}

impl Runner {
    pub fn new(queue: Queue) -> Runner {
        Runner {
            queue,
            kinds: Vec::new(),
        }
    }

    /// Jobs of the queue `name`, `concurrency` at a time. On shutdown a running job gets
    /// `grace` to finish before it is stopped and handed back.
    pub fn queued(
        mut self,
        name: &'static str,
        concurrency: usize,
        grace: Duration,
        handler: impl Handler,
    ) -> Runner {
        self.kinds.push(Kind {
            name,
            work: Work::Queued {
                concurrency: concurrency.max(1),
                per_key: None,
                grace,
                handler: Arc::new(handler),
            },
        });
        self
    }

    /// As [`Runner::queued`], with at most `per_key` jobs of one `fair_key` running at once
    /// across every worker ([`Queue::claim_limited`]): one key's backlog takes at most that
    /// many of the slots, and waits in the queue, in order, for the rest.
    pub fn queued_per_key(
        mut self,
        name: &'static str,
        concurrency: usize,
        per_key: usize,
        grace: Duration,
        handler: impl Handler,
    ) -> Runner {
        self.kinds.push(Kind {
            name,
            work: Work::Queued {
                concurrency: concurrency.max(1),
                per_key: Some(per_key.max(1)),
                grace,
                handler: Arc::new(handler),
            },
        });
        self
    }

    /// A pass of `task` every `interval`, the first after `first_after`.
    pub fn periodic(
        mut self,
        name: &'static str,
        interval: Duration,
        first_after: Duration,
        task: impl Periodic,
    ) -> Runner {
        self.kinds.push(Kind {
            name,
            work: Work::Periodic {
                interval: interval.max(Duration::from_millis(10)),
                first_after,
                task: Arc::new(task),
            },
        });
        self
    }

    /// The names of the kinds registered, in order.
    pub fn kinds(&self) -> Vec<&'static str> {
        self.kinds.iter().map(|k| k.name).collect()
    }

    /// Starts every kind; the handle ends when all have stopped after `shutdown`.
    pub fn start(self, shutdown: CancellationToken) -> tokio::task::JoinHandle<()> {
        let mut tasks = Vec::new();
        for kind in self.kinds {
            match kind.work {
                Work::Queued {
                    concurrency,
                    per_key,
                    grace,
                    handler,
                } => tasks.push(tokio::spawn(job_loop(
                    self.queue.clone(),
                    kind.name,
                    (concurrency, per_key),
                    grace,
                    handler,
                    shutdown.clone(),
                ))),
                Work::Periodic {
                    interval,
                    first_after,
                    task,
                } => tasks.push(tokio::spawn(periodic_loop(
                    kind.name,
                    interval,
                    first_after,
                    task,
                    shutdown.clone(),
                ))),
            }
        }
        tokio::spawn(async move {
            for t in tasks {
                let _ = t.await;
            }
        })
    }
}

/// One claimer per kind, running up to `concurrency` jobs at once: it claims only while a
/// slot is free, so a wake-up costs one claim, not one per idle slot (a kind with 32 slots
/// would otherwise send 32 claims to the database for every job enqueued).
async fn job_loop(
    queue: Queue,
    kind: &'static str,
    (concurrency, per_key): (usize, Option<usize>),
    grace: Duration,
    handler: Arc<dyn Handler>,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(concurrency));
    // A job ending here may let its key's next one be claimed: look again at once.
    let ended = Arc::new(tokio::sync::Notify::new());
    let mut running = tokio::task::JoinSet::new();
    let mut waiter = queue.waiter(kind).per_key(per_key);
    loop {
        while running.try_join_next().is_some() {}
        let first = tokio::select! {
            _ = shutdown.cancelled() => break,
            s = slots.clone().acquire_owned() => match s {
                Ok(s) => s,
                Err(_) => break,
            },
        };
        // A kind limited per key claims as many jobs as it has free slots, in one statement.
        let mut free = vec![first];
        while per_key.is_some() && free.len() < 16 {
            match slots.clone().try_acquire_owned() {
                Ok(s) => free.push(s),
                Err(_) => break,
            }
        }
        let jobs = match waiter.next_batch(&shutdown, &ended, free.len()).await {
            Ok(jobs) if jobs.is_empty() => break,
            Ok(jobs) => jobs,
            Err(e) => {
                tracing::warn!(kind, error = %e, "cannot claim jobs; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(queue.settings().poll_interval) => continue,
                }
            }
        };
        for (job, slot) in jobs.into_iter().zip(free) {
            let span = tracing::info_span!("job", kind, job = %job.id, attempt = job.attempt);
            let (queue, handler, shutdown) = (queue.clone(), handler.clone(), shutdown.clone());
            let ended = ended.clone();
            running.spawn(
                async move {
                    run_one(&queue, job, grace, handler.as_ref(), &shutdown).await;
                    drop(slot);
                    if per_key.is_some() {
                        ended.notify_one();
                    }
                }
                .instrument(span),
            );
        }
    }
    // Running jobs finish (or are stopped after their grace and handed back).
    while running.join_next().await.is_some() {}
}

/// Runs one job with its lease renewed, stopping it when the lease is lost or the shutdown
/// grace runs out, and records its outcome.
async fn run_one(
    queue: &Queue,
    job: Job,
    grace: Duration,
    handler: &dyn Handler,
    shutdown: &CancellationToken,
) {
    let started = std::time::Instant::now();
    let heartbeat = queue.keep_alive(&job);
    let stop = CancellationToken::new();
    let stopper = {
        let (stop, lost, shutdown) = (stop.clone(), heartbeat.lost(), shutdown.clone());
        tokio::spawn(async move {
            tokio::select! {
                _ = lost.cancelled() => {}
                _ = async {
                    shutdown.cancelled().await;
                    tracing::info!(grace = ?grace, "shutting down: the running job may finish within the grace");
                    tokio::time::sleep(grace).await;
                } => {}
            }
            stop.cancel();
        })
    };
    let control = Control {
        stop,
        queue: Some(queue.clone()),
    };
    let outcome = if job.is_exhausted() {
        let reason = format!(
            "its worker stopped (lease expired) on each of its {} attempts",
            job.max_attempts
        );
        tracing::warn!(reason, "a job out of attempts; recording its failure");
        handler.exhausted(job.clone(), reason).await
    } else {
        handler.run(job.clone(), control).await
    };
    stopper.abort();
    drop(heartbeat);
    let recorded = match &outcome {
        Outcome::Done => queue.complete(&job).await,
        Outcome::Retry(why) => queue.fail(&job, why, true).await.map(|_| ()),
        Outcome::Fail(why) => queue.fail(&job, why, false).await.map(|_| ()),
        Outcome::Release => queue.release(&job).await,
        Outcome::Settled => Ok(()),
    };
    match recorded {
        Ok(()) => tracing::debug!(
            outcome = ?outcome,
            secs = started.elapsed().as_secs_f64(),
            "job finished"
        ),
        // The lease lapsed meanwhile: whoever holds it now records the outcome.
        Err(e) => tracing::warn!(error = %e, "could not record a job's outcome"),
    }
}

async fn periodic_loop(
    kind: &'static str,
    interval: Duration,
    first_after: Duration,
    task: Arc<dyn Periodic>,
    shutdown: CancellationToken,
) {
    let mut next = tokio::time::Instant::now() + first_after;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep_until(next) => {}
        }
        next = tokio::time::Instant::now() + interval;
        let span = tracing::info_span!("task", kind);
        let pass = task.run(Control::standalone(shutdown.clone()));
        // A pass is idempotent: a shutdown stops it where it is.
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = pass.instrument(span) => {}
        }
    }
}
