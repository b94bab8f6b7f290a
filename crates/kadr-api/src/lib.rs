//! The catalog and streaming service (`kadr api`): browse, search, playback and the web UI.
//!
//! Its routes arrive with the catalog issue; until then it serves the shared health, readiness
//! and metrics endpoints.

use actix_web::web;
use kadr_config::Config;
use kadr_http::{AppContext, StartError};
use tokio_util::sync::CancellationToken;

/// Adds this service's routes; `kadr all` mounts them beside the other services'.
pub fn configure(_cfg: &mut web::ServiceConfig) {}

/// Runs the service on its own at `api.listen` until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), StartError> {
    let listen = config.api.listen;
    let ctx = AppContext::open(config).await?;
    let server = kadr_http::bind(listen, ctx, configure)?;
    server
        .run_until(shutdown)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })
}
