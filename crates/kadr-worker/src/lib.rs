//! The transcoding daemon (`kadr worker`).
//!
//! The transcoding pipeline arrives with the worker issue; until then the daemon serves its
//! health, readiness and metrics endpoints on `worker.listen` and claims no jobs, so queued
//! transcodes wait safely in the queue.

use kadr_config::Config;
use kadr_http::{AppContext, StartError};
use tokio_util::sync::CancellationToken;

/// Runs the daemon until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), StartError> {
    let listen = config.worker.listen;
    let ctx = AppContext::open(config).await?;
    let server = kadr_http::bind(listen, ctx, |_| {})?;
    server
        .run_until(shutdown)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })
}
