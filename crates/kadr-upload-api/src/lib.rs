//! The upload service (`kadr upload-api`): accounts and tokens, video creation, tus 1.0
//! resumable uploads that never lose an acknowledged byte, and the original's download.

pub mod account;
pub mod accounts;
pub mod direct;
pub mod imports;
pub mod password;
pub mod pictures;
pub mod simple;
pub mod staging;
pub mod store;
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
    account::configure(cfg);
    simple::configure(cfg);
    direct::configure(cfg);
    videos::configure(cfg);
    tus::configure(cfg);
    pictures::configure(cfg);
    imports::configure(cfg);
}

/// What the service needs before it answers: the password hashing limit and the first admin
/// account. `kadr all` calls this too. The service runs no background work: what it asks for
/// (transcodes, cleanups) it enqueues, and the worker runs it with the sweeps.
pub async fn prepare(ctx: &AppContext) {
    password::configure(ctx.config.auth.hash_concurrency);
    if let Err(e) = accounts::ensure_admin(ctx).await {
        tracing::error!(error = %e, "could not create the admin account");
    }
}

/// Runs the service on its own at `upload_api.listen` until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), StartError> {
    let listen = config.upload_api.listen;
    let ctx = AppContext::open(config).await?;
    prepare(&ctx).await;
    let server = kadr_http::bind(listen, ctx, configure)?;
    server
        .run_until(shutdown)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen,
            source,
        })
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
        account::update_me,
        account::change_password,
        account::sessions,
        account::revoke_session,
        account::make_token,
        account::delete_me,
        account::send_verification,
        account::ask_reset,
        account::confirm_reset,
        account::verify_email,
        account::features,
        account::admin_users,
        videos::create,
        videos::delete,
        videos::source,
        simple::upload,
        direct::create,
        direct::show,
        direct::abort,
        direct::urls,
        direct::complete,
        tus::options,
        tus::create,
        tus::head,
        tus::patch,
        tus::terminate,
        pictures::upload,
        pictures::remove,
        pictures::upload_poster,
        imports::create,
        imports::show,
        imports::list,
        imports::thumbnail,
        imports::create_batch,
    ),
    components(schemas(accounts::UserView, account::MeView, account::AdminUserView, account::MePatch, account::PasswordChange, account::SessionJson, account::SessionList, account::NewToken, account::MadeToken, account::Deletion, account::ResetAsk, account::ResetConfirm, account::VerifyEmail, account::Features, account::UserPage, videos::NewVideo, direct::DirectNew, direct::DirectUpload, direct::PartUrl, direct::StoredPart, direct::UrlRequest, direct::UrlList, direct::Completed, pictures::PictureAccepted, pictures::PictureBytes, imports::UrlImport, imports::ImportView, imports::ImportFailure, imports::ImportPage, imports::ThumbnailAccepted, imports::NewBatch, imports::BatchView)),
    tags(
        (name = "accounts", description = "Accounts and tokens"),
        (name = "uploads", description = "Creating, uploading and deleting videos"),
        (name = "tus", description = "tus 1.0.0 resumable uploads"),
        (name = "imports", description = "Videos imported from URLs and catalogues"),
    )
)]
pub struct UploadApiDoc;

/// The upload API's OpenAPI paths.
pub fn openapi() -> utoipa::openapi::OpenApi {
    <UploadApiDoc as utoipa::OpenApi>::openapi()
}
