//! How much work waits: per kind (the `queue` column), the jobs ready to run now and the age of
//! the oldest of them. A job is ready when it is `queued` and due (`run_at <= now()`); jobs
//! held by a worker (`running`), waiting out a retry's backoff or finished are not counted.
//!
//! One query grouped by kind, over the `jobs_ready_idx` partial index (`state = 'queued'`):
//! its cost follows the jobs waiting, not the jobs ever run.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, Statement};

/// The ready jobs of one kind.
#[derive(Debug, Clone, PartialEq)]
pub struct Depth {
    /// The kind (queue name).
    pub kind: String,
    /// Jobs ready to run now, not leased.
    pub ready: i64,
    /// Seconds since the oldest ready job became due (its enqueue, or the end of its backoff).
    pub oldest_secs: f64,
}

/// Ready jobs per kind, kinds with none left out, sorted by kind.
pub async fn ready_by_kind<C: ConnectionTrait>(conn: &C) -> Result<Vec<Depth>, DbErr> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT queue, count(*)::bigint AS ready,
                 greatest(extract(epoch FROM now() - min(run_at)), 0)::float8 AS oldest_secs
             FROM jobs
             WHERE state = 'queued' AND run_at <= now()
             GROUP BY queue
             ORDER BY queue",
        ))
        .await?;
    rows.iter()
        .map(|r| {
            Ok(Depth {
                kind: r.try_get("", "queue")?,
                ready: r.try_get("", "ready")?,
                oldest_secs: r.try_get("", "oldest_secs")?,
            })
        })
        .collect()
}
