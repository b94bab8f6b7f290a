//! How much work waits: per kind (the `queue` column), the jobs ready to run now, the age of
//! the oldest of them, and the jobs workers hold. A job is ready when it is `queued` and due
//! (`run_at <= now()`); jobs waiting out a retry's backoff or finished are not counted.
//!
//! One query grouped by kind, each half over its partial index (`jobs_ready_idx` on
//! `state = 'queued'`, `jobs_lease_idx` on `state = 'running'`): its cost follows the jobs
//! waiting and running, not the jobs ever run.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// The ready jobs of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Depth {
    /// The kind (queue name).
    pub kind: String,
    /// Jobs ready to run now, not leased.
    pub ready: i64,
    /// Jobs leased by a worker now (running, or held by a worker that died and not yet
    /// reclaimed).
    pub running: i64,
    /// Seconds since the oldest ready job became due (its enqueue, or the end of its backoff).
    pub oldest_secs: f64,
}

/// Ready and running jobs per kind, kinds with neither left out, sorted by kind.
pub async fn ready_by_kind<C: ConnectionTrait>(conn: &C) -> Result<Vec<Depth>, DbErr> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT queue,
                 count(*) FILTER (WHERE state = 'queued')::bigint AS ready,
                 count(*) FILTER (WHERE state = 'running')::bigint AS running,
                 coalesce(greatest(extract(epoch FROM
                     now() - min(run_at) FILTER (WHERE state = 'queued')), 0), 0)::float8
                     AS oldest_secs
             FROM (
                 SELECT queue, state, run_at FROM jobs
                 WHERE state = 'queued' AND run_at <= now()
                 UNION ALL
                 SELECT queue, state, run_at FROM jobs WHERE state = 'running'
             ) AS live
             GROUP BY queue
             ORDER BY queue",
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Depth {
                kind: r.try_get("", "queue")?,
                ready: r.try_get("", "ready")?,
                running: r.try_get("", "running")?,
                oldest_secs: r.try_get("", "oldest_secs")?,
            })
        })
        .collect()
}
