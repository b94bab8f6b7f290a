//! The actix glue shared by Kadr's services: the request context, binding and graceful stop,
//! `/healthz`, `/readyz`, `/metrics`, RFC 7807 errors, extractors, CORS and the request
//! guards. What is not HTTP (context, shutdown, tracing, the metrics registry) is in
//! `kadr-runtime`.

pub mod auth;
pub mod body;
pub mod client;
pub mod guard;
pub mod metrics;
pub mod problem;
pub mod schema;

use kadr_core::Code;
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::time::Duration;

use actix_web::middleware::from_fn;
use actix_web::{App, HttpResponse, HttpServer, web};
use kadr_config::Config;
use kadr_runtime::{Context, StartError};
use serde_json::json;
use tokio_util::sync::CancellationToken;

pub use problem::{ApiError, Problem};

/// What every request handler can reach: the runtime context (config, database, storage;
/// reached through `Deref`) and the parsed `server.trusted_proxies`.
#[derive(Clone)]
pub struct AppContext {
    pub rt: Context,
    pub proxies: Arc<client::Proxies>,
}

impl std::ops::Deref for AppContext {
    type Target = Context;

    fn deref(&self) -> &Context {
        &self.rt
    }
}

impl AppContext {
    pub fn new(rt: Context) -> AppContext {
        AppContext {
            proxies: Arc::new(client::Proxies::new(&rt.config.server)),
            rt,
        }
    }

    /// Connects to the configured database and opens the configured storage.
    pub async fn open(config: Config) -> Result<AppContext, StartError> {
        Ok(AppContext::new(Context::open(config).await?))
    }

    /// The client's address: the socket's, or a trusted proxy's word for it.
    pub fn client_ip(&self, req: &actix_web::HttpRequest) -> Option<std::net::IpAddr> {
        client::client_ip(req, &self.proxies)
    }

    /// `scheme://host[:port]` for absolute URLs (`server.public_url` when set).
    pub fn base_url(&self, req: &actix_web::HttpRequest) -> String {
        client::base_url(req, &self.config.server, &self.proxies)
    }
}

/// A bound, not yet running HTTP server (and its internal metrics listener, when
/// `server.metrics_listen` is set).
pub struct Server {
    server: actix_web::dev::Server,
    addr: SocketAddr,
    metrics: Option<(actix_web::dev::Server, SocketAddr)>,
}

/// `/metrics` (and `/healthz`) alone on `server.metrics_listen`, for scrapers on an internal
/// network.
fn bind_metrics(listen: SocketAddr) -> Result<(actix_web::dev::Server, SocketAddr), StartError> {
    let err = |source| StartError::Bind {
        addr: listen,
        source,
    };
    let listener = TcpListener::bind(listen).map_err(err)?;
    let addr = listener.local_addr().map_err(err)?;
    let server = HttpServer::new(|| {
        App::new()
            .route("/healthz", web::get().to(healthz))
            .configure(metrics::configure)
    })
    .disable_signals()
    .workers(1)
    .listen(listener)
    .map_err(err)?
    .run();
    Ok((server, addr))
}

/// Binds `listen` (port 0 picks a free port) and builds the app: health, readiness and metrics
/// routes, problem+json errors, then the routes added by `configure`.
pub fn bind<F>(listen: SocketAddr, ctx: AppContext, configure: F) -> Result<Server, StartError>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let listener = TcpListener::bind(listen).map_err(|source| StartError::Bind {
        addr: listen,
        source,
    })?;
    serve(listener, ctx, configure)
}

/// [`bind`] on a listener bound already (so the caller knows the port before the app starts).
pub fn serve<F>(listener: TcpListener, ctx: AppContext, configure: F) -> Result<Server, StartError>
where
    F: Fn(&mut web::ServiceConfig) + Clone + Send + 'static,
{
    let listen = listener.local_addr().map_err(|source| StartError::Bind {
        addr: SocketAddr::from(([0, 0, 0, 0], 0)),
        source,
    })?;
    let addr = listener.local_addr().map_err(|source| StartError::Bind {
        addr: listen,
        source,
    })?;
    let workers = match ctx.config.server.http_workers {
        0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
        n => n,
    };
    let timeout = ctx.config.server.shutdown_timeout_secs;
    let server_config = ctx.config.server.clone();
    let metrics_here = server_config.metrics_listen.is_none();
    let config = ctx.config.clone();
    let in_flight = web::Data::new(Arc::new(guard::InFlight::default()));
    let data = web::Data::new(ctx);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .app_data(in_flight.clone())
            .app_data(web::JsonConfig::default().error_handler(problem::json_error_handler))
            .app_data(web::QueryConfig::default().error_handler(problem::query_error_handler))
            .app_data(web::PathConfig::default().error_handler(problem::path_error_handler))
            .wrap(from_fn(problem::localize))
            .wrap(cors())
            .wrap(from_fn(metrics::record))
            .wrap(from_fn(guard::request))
            .wrap(guard::security_headers(&config))
            .wrap(from_fn(guard::framing))
            .route("/healthz", web::get().to(healthz))
            .route("/readyz", web::get().to(readyz))
            .configure(|cfg| {
                if metrics_here {
                    metrics::configure(cfg);
                }
            })
            .configure(configure.clone())
            .default_service(web::to(problem::not_found_route))
    })
    .disable_signals()
    .shutdown_timeout(timeout)
    .client_request_timeout(Duration::from_millis(
        server_config.request_header_timeout_ms,
    ))
    .client_disconnect_timeout(Duration::from_secs(1))
    .keep_alive(Duration::from_secs(server_config.keep_alive_secs))
    .workers(workers)
    .listen(listener)
    .map_err(|source| StartError::Bind {
        addr: listen,
        source,
    })?
    .run();
    let metrics = match server_config.metrics_listen {
        Some(at) => Some(bind_metrics(at)?),
        None => None,
    };
    Ok(Server {
        server,
        addr,
        metrics,
    })
}

impl Server {
    /// The address actually bound.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves until `shutdown` is cancelled, then stops gracefully: in-flight requests get the
    /// configured shutdown timeout.
    pub async fn run_until(self, shutdown: CancellationToken) -> std::io::Result<()> {
        tracing::info!(addr = %self.addr, "listening on http://{}", self.addr);
        let handle = self.server.handle();
        let metrics = self.metrics.map(|(server, addr)| {
            tracing::info!(addr = %addr, "metrics on http://{addr}/metrics");
            let handle = server.handle();
            (tokio::spawn(server), handle)
        });
        let metrics_handle = metrics.as_ref().map(|(_, h)| h.clone());
        let stopper = tokio::spawn(async move {
            shutdown.cancelled().await;
            if let Some(h) = metrics_handle {
                h.stop(true).await;
            }
            handle.stop(true).await;
        });
        let result = self.server.await;
        stopper.abort();
        if let Some((task, handle)) = metrics {
            handle.stop(false).await;
            let _ = task.await;
        }
        result
    }
}

/// Browsers on other origins (players, upload pages) may call every API: authentication is
/// by bearer token, never by cookie, so no credentials are shared.
fn cors() -> actix_cors::Cors {
    actix_cors::Cors::default()
        .allow_any_origin()
        .allowed_methods(["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"])
        .allow_any_header()
        .expose_headers([
            "Location",
            "Upload-Offset",
            "Upload-Length",
            "Upload-Expires",
            "Upload-Metadata",
            "Tus-Resumable",
            "Tus-Version",
            "Tus-Extension",
            "Tus-Max-Size",
            "Tus-Checksum-Algorithm",
            "Kadr-Video-Id",
            "Content-Range",
            "Accept-Ranges",
            "ETag",
            "Retry-After",
        ])
        .max_age(86_400)
}

/// `GET /healthz`: the process is up.
async fn healthz() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(json!({ "status": "ok" }))
}

/// `GET /readyz`: the database and the storage answer.
async fn readyz(ctx: web::Data<AppContext>) -> Result<HttpResponse, ApiError> {
    let limit = Duration::from_secs(3);
    let (db, storage) = tokio::join!(
        tokio::time::timeout(limit, kadr_db::ping(&ctx.db)),
        tokio::time::timeout(limit, ctx.storage.check()),
    );
    let db = flatten(db);
    let storage = flatten(storage);
    if db.is_ok() && storage.is_ok() {
        return Ok(HttpResponse::Ok()
            .insert_header(("Cache-Control", "no-store"))
            .json(json!({ "status": "ready", "database": "ok", "storage": "ok" })));
    }
    // The log gets the causes; the answer names only what is down.
    let mut down = Vec::new();
    if let Err(e) = db {
        tracing::warn!(error = %e, "not ready: database");
        down.push("database");
    }
    if let Err(e) = storage {
        tracing::warn!(error = %e, "not ready: storage");
        down.push("storage");
    }
    Err(ApiError::new(Code::Unavailable, "Service unavailable")
        .detail(format!("not answering: {}", down.join(", ")))
        .retry_after(5))
}

fn flatten<E: std::fmt::Display>(
    r: Result<Result<(), E>, tokio::time::error::Elapsed>,
) -> Result<(), String> {
    match r {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(e.to_string()),
        Err(_) => Err("no answer within 3 s".to_owned()),
    }
}
