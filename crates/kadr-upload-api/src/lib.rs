//! The upload service (`kadr upload-api`): accounts and tokens, video creation, tus 1.0
//! resumable uploads that never lose an acknowledged byte, and the original's download.

pub mod accounts;
pub mod janitor;
pub mod password;
pub mod reconcile;
pub mod simple;
pub mod staging;
pub mod store;
pub mod throttle;
pub mod tus;
pub mod urls;
pub mod videos;

use actix_web::web;
use kadr_config::Config;
use kadr_http::AppContext;
use kadr_runtime::StartError;
use tokio_util::sync::CancellationToken;

/// Adds this service's routes; `kadr all` mounts them beside the other services'.
pub fn configure(cfg: &mut web::ServiceConfig) {
    accounts::configure(cfg);
    simple::configure(cfg);
    videos::configure(cfg);
    tus::configure(cfg);
}

/// What the service does besides answering requests: the first admin account, the janitor
/// of expired uploads and the storage cleanup jobs. `kadr all` calls this too. The handle
/// ends when both background tasks have stopped after `shutdown`.
pub async fn start_background(
    ctx: &AppContext,
    shutdown: CancellationToken,
) -> tokio::task::JoinHandle<()> {
    password::configure(ctx.config.auth.hash_concurrency);
    if let Err(e) = accounts::ensure_admin(ctx).await {
        tracing::error!(error = %e, "could not create the admin account");
    }
    let sweeper = janitor::spawn(ctx.clone(), shutdown.clone());
    let cleaner = janitor::spawn_cleanup(ctx.clone(), shutdown);
    tokio::spawn(async move {
        let _ = tokio::join!(sweeper, cleaner);
    })
}

/// Runs the service on its own at `upload_api.listen` until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), StartError> {
    let listen = config.upload_api.listen;
    let ctx = AppContext::open(config).await?;
    let janitor = start_background(&ctx, shutdown.clone()).await;
    let server = kadr_http::bind(listen, ctx, configure)?;
    let result = server
        .run_until(shutdown)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen,
            source,
        });
    let _ = janitor.await;
    result
}

/// The upload API's part of the OpenAPI document (merged into `/api/openapi.json` when the
/// services share a process).
#[derive(utoipa::OpenApi)]
#[openapi(
    paths(
        accounts::register,
        accounts::me,
        accounts::login,
        accounts::logout,
        accounts::admin_update_user,
        videos::create,
        videos::delete,
        videos::source,
        simple::upload,
        tus::options,
        tus::create,
        tus::head,
        tus::patch,
        tus::terminate,
    ),
    components(schemas(accounts::UserView, videos::NewVideo)),
    tags(
        (name = "accounts", description = "Accounts and tokens"),
        (name = "uploads", description = "Creating, uploading and deleting videos"),
        (name = "tus", description = "tus 1.0.0 resumable uploads"),
    )
)]
pub struct UploadApiDoc;

/// The upload API's OpenAPI paths.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <UploadApiDoc as utoipa::OpenApi>::openapi()
}
