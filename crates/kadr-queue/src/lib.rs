//! Kadr's job queue, on Postgres.
//!
//! - [`enqueue`] runs on any connection or transaction, so a job is created in the same
//!   transaction as the rows it is about and a `NOTIFY` goes out when that commits.
//! - [`Queue::claim`] takes the next due job with `FOR UPDATE SKIP LOCKED`: concurrent claimers
//!   never get the same job. A claim holds a lease that [`Heartbeat`] renews; a job whose
//!   worker died is claimed again once its lease lapses.
//! - [`Queue::fail`] retries with exponential backoff up to the job's `max_attempts`, then
//!   leaves the job `failed` with its reason; a non-retryable failure goes there at once.
//! - [`Queue::next`] waits for work: `LISTEN` for prompt pick-up, with polling as fallback.
//!
//! The attempt number works as a fencing token: a worker whose lease lapsed cannot heartbeat,
//! complete or fail a job that someone else has claimed since.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, QueryResult, Statement, Value,
};
use serde::{Serialize, de::DeserializeOwned};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

pub mod depth;
pub mod runner;

/// The queues Kadr uses.
pub mod queues {
    /// Transcodes of uploaded videos: enqueued when an upload completes, run by the worker.
    pub const TRANSCODE: &str = "transcode";
    /// Storage clean-ups (a deleted video's media): run by the worker.
    pub const CLEANUP: &str = "cleanup";
}

/// The channel `NOTIFY`ed on enqueue; the payload is the queue name.
pub const NOTIFY_CHANNEL: &str = "kadr_jobs";

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("job payload: {0}")]
    Payload(#[from] serde_json::Error),
    #[error("lease on job {job} lost: another worker holds it now or it was finished")]
    LeaseLost { job: Uuid },
}

/// Timing settings of a queue.
#[derive(Debug, Clone)]
pub struct QueueSettings {
    pub lease: Duration,
    pub heartbeat: Duration,
    pub poll_interval: Duration,
    pub max_attempts: i32,
    pub backoff_base: Duration,
    pub backoff_max: Duration,
}

impl From<&kadr_config::QueueConfig> for QueueSettings {
    fn from(c: &kadr_config::QueueConfig) -> Self {
        QueueSettings {
            lease: Duration::from_secs(c.lease_secs),
            heartbeat: Duration::from_secs(c.heartbeat_secs),
            poll_interval: Duration::from_millis(c.poll_interval_ms),
            max_attempts: c.max_attempts,
            backoff_base: Duration::from_secs(c.backoff_base_secs),
            backoff_max: Duration::from_secs(c.backoff_max_secs),
        }
    }
}

impl QueueSettings {
    /// Delay before attempt `attempts + 1`: base · 2^(attempts−1), capped, with ±10 % jitter.
    pub fn backoff(&self, attempts: i32) -> Duration {
        let exp = attempts.saturating_sub(1).clamp(0, 30) as u32;
        let raw = self.backoff_base.saturating_mul(2u32.saturating_pow(exp));
        let capped = raw.min(self.backoff_max);
        let jitter = rand::random_range(0.9..=1.1);
        capped.mul_f64(jitter).min(self.backoff_max)
    }
}

/// A job to enqueue.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub queue: String,
    pub payload: serde_json::Value,
    /// While a job with this key is queued or running in the same queue, another is not added.
    pub dedupe_key: Option<String>,
    pub priority: i16,
    pub max_attempts: Option<i32>,
    pub run_at: Option<DateTime<Utc>>,
    /// Whose job this is (a user): claims take turns between keys, so one key's hundred jobs
    /// do not hold back another's first.
    pub fair_key: Option<String>,
}

impl NewJob {
    pub fn new(queue: &str, payload: &impl Serialize) -> Result<NewJob, QueueError> {
        Ok(NewJob {
            queue: queue.to_owned(),
            payload: serde_json::to_value(payload)?,
            dedupe_key: None,
            priority: 0,
            max_attempts: None,
            run_at: None,
            fair_key: None,
        })
    }

    pub fn fair_key(mut self, key: impl Into<String>) -> Self {
        self.fair_key = Some(key.into());
        self
    }

    pub fn dedupe_key(mut self, key: impl Into<String>) -> Self {
        self.dedupe_key = Some(key.into());
        self
    }

    pub fn priority(mut self, priority: i16) -> Self {
        self.priority = priority;
        self
    }

    pub fn max_attempts(mut self, n: i32) -> Self {
        self.max_attempts = Some(n);
        self
    }
}

/// Adds a job on `conn` (a pool or the caller's transaction). Returns `None` when a live job
/// with the same dedupe key already exists.
pub async fn enqueue<C: ConnectionTrait>(
    conn: &C,
    job: NewJob,
    default_max_attempts: i32,
) -> Result<Option<Uuid>, QueueError> {
    let id = Uuid::now_v7();
    let row = conn
        .query_one_raw(stmt(
            "INSERT INTO jobs (id, queue, payload, dedupe_key, priority, max_attempts, run_at,
                 fair_key)
             VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, now()), $8)
             ON CONFLICT (queue, dedupe_key)
                 WHERE dedupe_key IS NOT NULL AND state IN ('queued', 'running')
             DO NOTHING
             RETURNING id",
            vec![
                id.into(),
                job.queue.clone().into(),
                job.payload.into(),
                job.dedupe_key.into(),
                job.priority.into(),
                job.max_attempts.unwrap_or(default_max_attempts).into(),
                job.run_at.into(),
                job.fair_key.into(),
            ],
        ))
        .await?;
    if row.is_none() {
        return Ok(None);
    }
    // Delivered when the surrounding transaction commits; dropped if it rolls back.
    conn.execute_raw(stmt(
        "SELECT pg_notify($1, $2)",
        vec![NOTIFY_CHANNEL.into(), job.queue.into()],
    ))
    .await?;
    Ok(Some(id))
}

/// A claimed job. Pass it back to [`Queue::complete`], [`Queue::fail`] or [`Queue::release`].
#[derive(Debug, Clone)]
pub struct Job {
    pub id: Uuid,
    pub queue: String,
    pub payload: serde_json::Value,
    /// This attempt's number, starting at 1.
    pub attempt: i32,
    pub max_attempts: i32,
    /// When the job was enqueued or last became due.
    pub run_at: DateTime<Utc>,
    pub worker: String,
}

impl Job {
    pub fn payload<T: DeserializeOwned>(&self) -> Result<T, QueueError> {
        Ok(serde_json::from_value(self.payload.clone())?)
    }

    /// Whether a retryable failure of this attempt would be retried.
    pub fn has_attempts_left(&self) -> bool {
        self.attempt < self.max_attempts
    }

    /// Every attempt was spent by workers that died (their leases lapsed): this claim is
    /// only to record the failure.
    pub fn is_exhausted(&self) -> bool {
        self.attempt > self.max_attempts
    }
}

/// The state of a job as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobStatus {
    pub state: String,
    pub attempts: i32,
    pub last_error: Option<String>,
}

/// What happened to a failed attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    Retrying { after: Duration },
    Failed,
}

/// A handle on the queue table for claimers.
#[derive(Debug, Clone)]
pub struct Queue {
    db: DatabaseConnection,
    settings: QueueSettings,
    worker: String,
    /// Wake-ups from `NOTIFY`, shared by every waiter of this queue (and its clones): one
    /// listening connection per process, not one per job loop.
    wakeups: std::sync::Arc<std::sync::Mutex<Option<tokio::sync::broadcast::Sender<String>>>>,
}

impl Queue {
    /// `worker` names this claimer in `locked_by` (host, pid and a random suffix are good).
    pub fn new(
        db: DatabaseConnection,
        settings: QueueSettings,
        worker: impl Into<String>,
    ) -> Queue {
        Queue {
            db,
            settings,
            worker: worker.into(),
            wakeups: Default::default(),
        }
    }

    /// A receiver of the queue names jobs were enqueued in, from the one listening connection
    /// (started by the first subscriber, ended when the last one is gone).
    fn subscribe(&self) -> tokio::sync::broadcast::Receiver<String> {
        let mut guard = match self.wakeups.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(tx) = guard.as_ref() {
            return tx.subscribe();
        }
        let (tx, rx) = tokio::sync::broadcast::channel(1024);
        *guard = Some(tx.clone());
        tokio::spawn(listen_loop(self.clone(), tx));
        rx
    }

    pub fn settings(&self) -> &QueueSettings {
        &self.settings
    }

    /// Enqueue on the pool (outside any transaction).
    pub async fn enqueue(&self, job: NewJob) -> Result<Option<Uuid>, QueueError> {
        enqueue(&self.db, job, self.settings.max_attempts).await
    }

    /// Claims the next due job of `queue`, if any.
    pub async fn claim(&self, queue: &str) -> Result<Option<Job>, QueueError> {
        self.reap_expired(queue).await?;
        let row = self
            .db
            .query_one_raw(stmt(
                // Turns: a job's place among its key's due jobs, plus the key's running jobs.
                // The first job of a key with nothing running goes before anyone's second.
                "WITH running AS (
                     SELECT fair_key, count(*) AS n FROM jobs
                     WHERE queue = $1 AND state = 'running' AND fair_key IS NOT NULL
                     GROUP BY fair_key
                 ), ranked AS (
                     SELECT j.id, j.priority, j.run_at,
                         coalesce(r.n, 0) + row_number() OVER (
                             PARTITION BY coalesce(j.fair_key, j.id::text) ORDER BY j.run_at, j.id
                         ) AS turn
                     FROM jobs j LEFT JOIN running r ON r.fair_key = j.fair_key
                     WHERE j.queue = $1 AND j.state = 'queued' AND j.run_at <= now()
                     ORDER BY j.priority DESC, turn, j.run_at, j.id
                     LIMIT 32
                 ), next AS (
                     SELECT j.id FROM jobs j JOIN ranked k ON k.id = j.id
                     -- Checked again on the row as locked: another claimer may have taken it
                     -- since `ranked` read it.
                     WHERE j.state = 'queued'
                     ORDER BY k.priority DESC, k.turn, k.run_at, j.id
                     LIMIT 1
                     FOR UPDATE OF j SKIP LOCKED
                 )
                 UPDATE jobs j
                 SET state = 'running', attempts = j.attempts + 1, locked_by = $2,
                     lease_expires_at = now() + make_interval(secs => $3),
                     heartbeat_at = now(), started_at = now(), updated_at = now()
                 FROM next WHERE j.id = next.id
                 RETURNING j.id, j.queue, j.payload, j.attempts, j.max_attempts, j.run_at",
                vec![
                    queue.into(),
                    self.worker.clone().into(),
                    self.settings.lease.as_secs_f64().into(),
                ],
            ))
            .await?;
        row.map(|r| self.job_from_row(&r)).transpose()
    }

    /// Claims the next due job of `queue`, if any, leaving alone the jobs of a `fair_key` that
    /// has `per_key` jobs running already (across every worker): a key's jobs wait their turn
    /// in the queue, in order, instead of being claimed and put back.
    pub async fn claim_limited(
        &self,
        queue: &str,
        per_key: Option<usize>,
    ) -> Result<Option<Job>, QueueError> {
        match per_key {
            None => self.claim(queue).await,
            Some(n) => Ok(self.claim_batch(queue, n, 1).await?.into_iter().next()),
        }
    }

    /// Claims up to `max` due jobs of `queue` at once (one statement, one commit), at most
    /// `per_key` running per `fair_key` counting those already running. The oldest first,
    /// read in the ready index's order: the claim looks at a short prefix of the queue, never
    /// ranks the whole backlog, so it stays cheap with thousands waiting.
    pub async fn claim_batch(
        &self,
        queue: &str,
        per_key: usize,
        max: usize,
    ) -> Result<Vec<Job>, QueueError> {
        self.reap_expired(queue).await?;
        let rows = self
            .db
            .query_all_raw(stmt(
                "WITH running AS (
                     SELECT fair_key, count(*) AS n FROM jobs
                     WHERE queue = $1 AND state = 'running' AND fair_key IS NOT NULL
                     GROUP BY fair_key
                 ), candidates AS (
                     SELECT j.id, j.fair_key, j.priority, j.run_at FROM jobs j
                     WHERE j.queue = $1 AND j.state = 'queued' AND j.run_at <= now()
                       AND (j.fair_key IS NULL OR j.fair_key NOT IN (
                                SELECT fair_key FROM running WHERE n >= $4))
                     ORDER BY j.priority DESC, j.run_at, j.id
                     LIMIT 64
                     FOR UPDATE OF j SKIP LOCKED
                 ), ranked AS (
                     SELECT c.id, c.priority, c.run_at,
                         coalesce(r.n, 0) + row_number() OVER (
                             PARTITION BY coalesce(c.fair_key, c.id::text) ORDER BY c.run_at, c.id
                         ) AS turn
                     FROM candidates c LEFT JOIN running r ON r.fair_key = c.fair_key
                 ), next AS (
                     SELECT id FROM ranked WHERE turn <= $4
                     ORDER BY priority DESC, run_at, id LIMIT $5
                 )
                 UPDATE jobs j
                 SET state = 'running', attempts = j.attempts + 1, locked_by = $2,
                     lease_expires_at = now() + make_interval(secs => $3),
                     heartbeat_at = now(), started_at = now(), updated_at = now()
                 FROM next WHERE j.id = next.id
                 RETURNING j.id, j.queue, j.payload, j.attempts, j.max_attempts, j.run_at",
                vec![
                    queue.into(),
                    self.worker.clone().into(),
                    self.settings.lease.as_secs_f64().into(),
                    (per_key.clamp(1, i64::MAX as usize) as i64).into(),
                    (max.clamp(1, 64) as i64).into(),
                ],
            ))
            .await?;
        let mut jobs = rows
            .iter()
            .map(|r| self.job_from_row(r))
            .collect::<Result<Vec<_>, _>>()?;
        jobs.sort_by(|a, b| a.run_at.cmp(&b.run_at).then(a.id.cmp(&b.id)));
        Ok(jobs)
    }

    fn job_from_row(&self, r: &QueryResult) -> Result<Job, QueueError> {
        Ok(Job {
            id: r.try_get("", "id")?,
            queue: r.try_get("", "queue")?,
            payload: r.try_get("", "payload")?,
            attempt: r.try_get("", "attempts")?,
            max_attempts: r.try_get("", "max_attempts")?,
            run_at: r.try_get("", "run_at")?,
            worker: self.worker.clone(),
        })
    }

    /// Jobs whose lease lapsed (their worker died or hung) go back to the queue. One that was
    /// on its last attempt goes back too: its next claim has `attempt > max_attempts`, and the
    /// runner then only records the failure through its handler ([`runner::Handler::exhausted`])
    /// — so what the job was working on (a video) ends failed too, instead of waiting forever.
    pub async fn reap_expired(&self, queue: &str) -> Result<u64, QueueError> {
        let res = self
            .db
            .execute_raw(stmt(
                "UPDATE jobs SET state = 'queued',
                     last_error = 'lease expired: the worker stopped renewing it (attempt '
                                  || attempts || ' of ' || max_attempts || ')',
                     locked_by = NULL, lease_expires_at = NULL, run_at = now(), updated_at = now()
                 WHERE queue = $1 AND state = 'running' AND lease_expires_at < now()",
                vec![queue.into()],
            ))
            .await?;
        if res.rows_affected() > 0 {
            tracing::warn!(
                queue,
                jobs = res.rows_affected(),
                "reclaimed jobs whose lease lapsed"
            );
        }
        Ok(res.rows_affected())
    }

    /// Renews the lease of `job`; fails with [`QueueError::LeaseLost`] if it is no longer ours.
    pub async fn heartbeat(&self, job: &Job) -> Result<(), QueueError> {
        let res = self
            .db
            .execute_raw(stmt(
                "UPDATE jobs SET lease_expires_at = now() + make_interval(secs => $4),
                                 heartbeat_at = now(), updated_at = now()
                 WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'",
                vec![
                    job.id.into(),
                    job.worker.clone().into(),
                    job.attempt.into(),
                    self.settings.lease.as_secs_f64().into(),
                ],
            ))
            .await?;
        expect_one(res.rows_affected(), job)
    }

    /// Starts renewing the lease of `job` in the background until the handle is dropped.
    pub fn keep_alive(&self, job: &Job) -> Heartbeat {
        let lost = CancellationToken::new();
        let stop = CancellationToken::new();
        let queue = self.clone();
        let job = job.clone();
        let (lost2, stop2) = (lost.clone(), stop.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(queue.settings.heartbeat);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            tick.tick().await;
            loop {
                tokio::select! {
                    _ = stop2.cancelled() => return,
                    _ = tick.tick() => {}
                }
                match queue.heartbeat(&job).await {
                    Ok(()) => {}
                    Err(QueueError::LeaseLost { .. }) => {
                        tracing::warn!(job = %job.id, "lease lost; stopping this attempt");
                        lost2.cancel();
                        return;
                    }
                    // A passing database error: try again next tick while the lease lasts.
                    Err(e) => tracing::warn!(job = %job.id, error = %e, "heartbeat failed"),
                }
            }
        });
        Heartbeat { lost, stop }
    }

    /// Marks `job` done.
    pub async fn complete(&self, job: &Job) -> Result<(), QueueError> {
        complete_on(&self.db, job).await
    }

    /// Records a failed attempt: retried after a backoff while attempts remain and the failure
    /// is `retryable`, otherwise the job ends `failed` with `error` as its reason.
    pub async fn fail(
        &self,
        job: &Job,
        error: &str,
        retryable: bool,
    ) -> Result<FailOutcome, QueueError> {
        if retryable && job.has_attempts_left() {
            let after = self.settings.backoff(job.attempt);
            let res = self
                .db
                .execute_raw(stmt(
                    "UPDATE jobs SET state = 'queued', last_error = $4, locked_by = NULL,
                         lease_expires_at = NULL, run_at = now() + make_interval(secs => $5),
                         updated_at = now()
                     WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'",
                    vec![
                        job.id.into(),
                        job.worker.clone().into(),
                        job.attempt.into(),
                        error.into(),
                        after.as_secs_f64().into(),
                    ],
                ))
                .await?;
            expect_one(res.rows_affected(), job)?;
            Ok(FailOutcome::Retrying { after })
        } else {
            fail_on(&self.db, job, error).await?;
            Ok(FailOutcome::Failed)
        }
    }

    /// Hands `job` back without counting the attempt (shutdown before it could finish).
    pub async fn release(&self, job: &Job) -> Result<(), QueueError> {
        let res = self
            .db
            .execute_raw(stmt(
                "UPDATE jobs SET state = 'queued', attempts = attempts - 1, locked_by = NULL,
                     lease_expires_at = NULL, run_at = now(), updated_at = now()
                 WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'",
                vec![job.id.into(), job.worker.clone().into(), job.attempt.into()],
            ))
            .await?;
        expect_one(res.rows_affected(), job)?;
        notify(&self.db, &job.queue).await
    }

    /// The stored state of a job.
    pub async fn status(&self, id: Uuid) -> Result<Option<JobStatus>, QueueError> {
        let row = self
            .db
            .query_one_raw(stmt(
                "SELECT state, attempts, last_error FROM jobs WHERE id = $1",
                vec![id.into()],
            ))
            .await?;
        row.map(|r| {
            Ok(JobStatus {
                state: r.try_get("", "state")?,
                attempts: r.try_get("", "attempts")?,
                last_error: r.try_get("", "last_error")?,
            })
        })
        .transpose()
    }

    /// A waiter that claims jobs of `queue` as they come.
    pub fn waiter(&self, queue: &str) -> Waiter {
        Waiter {
            queue: self.clone(),
            name: queue.to_owned(),
            wakeups: None,
            per_key: None,
        }
    }
}

/// Waits for jobs of one queue: woken by `NOTIFY`, polling as fallback.
#[derive(Debug)]
pub struct Waiter {
    queue: Queue,
    name: String,
    wakeups: Option<tokio::sync::broadcast::Receiver<String>>,
    per_key: Option<usize>,
}

impl Waiter {
    /// Claims with [`Queue::claim_limited`]: at most `n` running jobs per `fair_key`.
    pub fn per_key(mut self, n: Option<usize>) -> Waiter {
        self.per_key = n;
        self
    }

    /// Claims the next job, waiting for one; `None` once `shutdown` is cancelled.
    pub async fn next(&mut self, shutdown: &CancellationToken) -> Result<Option<Job>, QueueError> {
        Ok(self
            .next_batch(shutdown, &tokio::sync::Notify::new(), 1)
            .await?
            .into_iter()
            .next())
    }

    /// Claims up to `max` jobs at once (one, unless [`Waiter::per_key`] is set), waiting for
    /// at least one; empty once `shutdown` is cancelled. Also tries again when `also` is
    /// notified (say, a job of a limited key finished in this process: its next one may be
    /// claimed now).
    pub async fn next_batch(
        &mut self,
        shutdown: &CancellationToken,
        also: &tokio::sync::Notify,
        max: usize,
    ) -> Result<Vec<Job>, QueueError> {
        if self.wakeups.is_none() {
            self.wakeups = Some(self.queue.subscribe());
        }
        loop {
            if shutdown.is_cancelled() {
                return Ok(Vec::new());
            }
            let got = match self.per_key {
                Some(n) => self.queue.claim_batch(&self.name, n, max).await?,
                None => self.queue.claim(&self.name).await?.into_iter().collect(),
            };
            if !got.is_empty() {
                return Ok(got);
            }
            let name = &self.name;
            let wakeups = &mut self.wakeups;
            let notified = async {
                loop {
                    match wakeups.as_mut() {
                        Some(rx) => match rx.recv().await {
                            Ok(queue) if queue == *name => return,
                            Ok(_) => {}
                            // Missed some: one of them may have been ours.
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => return,
                            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                                std::future::pending::<()>().await
                            }
                        },
                        None => std::future::pending::<()>().await,
                    }
                }
            };
            tokio::select! {
                _ = shutdown.cancelled() => return Ok(Vec::new()),
                _ = notified => {}
                _ = also.notified() => {}
                _ = tokio::time::sleep(self.queue.settings.poll_interval) => {}
            }
        }
    }
}

/// How often the listener checks whether anyone still listens.
const LISTEN_IDLE_CHECK: Duration = Duration::from_secs(5);

/// Holds the queue's one `LISTEN` connection, forwarding each notification's payload (a
/// queue name) to the waiters; reconnects after a lost connection (the poll interval covers
/// the gap) and ends when no waiter is left.
async fn listen_loop(queue: Queue, tx: tokio::sync::broadcast::Sender<String>) {
    let no_one_left = |tx: &tokio::sync::broadcast::Sender<String>| {
        let mut guard = match queue.wakeups.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        };
        if tx.receiver_count() == 0 {
            *guard = None;
            true
        } else {
            false
        }
    };
    loop {
        if no_one_left(&tx) {
            return;
        }
        let pool = queue.db.get_postgres_connection_pool();
        let mut listener = match sea_orm::sqlx::postgres::PgListener::connect_with(pool).await {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!(error = %e, "LISTEN unavailable; polling for jobs");
                tokio::time::sleep(queue.settings.poll_interval.max(Duration::from_secs(1))).await;
                continue;
            }
        };
        if let Err(e) = listener.listen(NOTIFY_CHANNEL).await {
            tracing::warn!(error = %e, "LISTEN failed; polling for jobs");
            tokio::time::sleep(queue.settings.poll_interval.max(Duration::from_secs(1))).await;
            continue;
        }
        loop {
            tokio::select! {
                n = listener.recv() => match n {
                    Ok(n) => {
                        let _ = tx.send(n.payload().to_owned());
                    }
                    // Lost: connect again.
                    Err(_) => break,
                },
                _ = tokio::time::sleep(LISTEN_IDLE_CHECK) => {
                    if no_one_left(&tx) {
                        return;
                    }
                }
            }
        }
    }
}

/// Renews a job's lease until dropped; `lost()` fires if the lease was lost.
#[derive(Debug)]
pub struct Heartbeat {
    lost: CancellationToken,
    stop: CancellationToken,
}

impl Heartbeat {
    /// Cancelled when another worker took the job over: stop working on it.
    pub fn lost(&self) -> CancellationToken {
        self.lost.clone()
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Marks `job` done on `conn`, e.g. in the transaction that stores the job's results.
pub async fn complete_on<C: ConnectionTrait>(conn: &C, job: &Job) -> Result<(), QueueError> {
    let res = conn
        .execute_raw(stmt(
            "UPDATE jobs SET state = 'done', finished_at = now(), locked_by = NULL,
                 lease_expires_at = NULL, updated_at = now()
             WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'",
            vec![job.id.into(), job.worker.clone().into(), job.attempt.into()],
        ))
        .await?;
    expect_one(res.rows_affected(), job)
}

/// Fails `job` for good on `conn` (the input's fault: never retried).
pub async fn fail_on<C: ConnectionTrait>(
    conn: &C,
    job: &Job,
    error: &str,
) -> Result<(), QueueError> {
    let res = conn
        .execute_raw(stmt(
            "UPDATE jobs SET state = 'failed', last_error = $4, finished_at = now(),
                 locked_by = NULL, lease_expires_at = NULL, updated_at = now()
             WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'",
            vec![
                job.id.into(),
                job.worker.clone().into(),
                job.attempt.into(),
                error.into(),
            ],
        ))
        .await?;
    expect_one(res.rows_affected(), job)
}

/// Puts `job` back in the queue, due at `run_at`, without counting the attempt, on `conn`
/// (e.g. the transaction that records why): for kinds that keep their own retry schedule.
pub async fn postpone_on<C: ConnectionTrait>(
    conn: &C,
    job: &Job,
    run_at: DateTime<Utc>,
) -> Result<(), QueueError> {
    let res = conn
        .execute_raw(stmt(
            "UPDATE jobs SET state = 'queued', attempts = attempts - 1, locked_by = NULL,
                 lease_expires_at = NULL, run_at = $4, updated_at = now()
             WHERE id = $1 AND locked_by = $2 AND attempts = $3 AND state = 'running'",
            vec![
                job.id.into(),
                job.worker.clone().into(),
                job.attempt.into(),
                run_at.into(),
            ],
        ))
        .await?;
    expect_one(res.rows_affected(), job)
}

/// Makes the queued jobs of `queue` with these dedupe keys due now (say, the waiting retries
/// of a server that answers again). Returns how many were brought forward.
pub async fn hasten<C: ConnectionTrait>(
    conn: &C,
    queue: &str,
    dedupe_keys: &[String],
) -> Result<u64, QueueError> {
    if dedupe_keys.is_empty() {
        return Ok(0);
    }
    let res = conn
        .execute_raw(stmt(
            "UPDATE jobs SET run_at = now(), updated_at = now()
             WHERE queue = $1 AND state = 'queued' AND run_at > now()
               AND dedupe_key IN (SELECT jsonb_array_elements_text($2))",
            vec![queue.into(), serde_json::json!(dedupe_keys).into()],
        ))
        .await?;
    if res.rows_affected() > 0 {
        notify(conn, queue).await?;
    }
    Ok(res.rows_affected())
}

async fn notify<C: ConnectionTrait>(conn: &C, queue: &str) -> Result<(), QueueError> {
    conn.execute_raw(stmt(
        "SELECT pg_notify($1, $2)",
        vec![NOTIFY_CHANNEL.into(), queue.into()],
    ))
    .await?;
    Ok(())
}

fn expect_one(rows: u64, job: &Job) -> Result<(), QueueError> {
    if rows == 1 {
        Ok(())
    } else {
        Err(QueueError::LeaseLost { job: job.id })
    }
}

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}
