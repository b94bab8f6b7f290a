//! The catalog and streaming service (`kadr api`, also mounted by `kadr all`): browse,
//! search, shorts, channels, views, playback (HLS and images under `/media/…`, signed for
//! videos that are not public), the moderation queue and the OpenAPI document.

pub mod captions;
pub mod catalog;
pub mod channels;
pub mod comments;
pub mod community;
pub mod cursor;
pub mod downloads;
pub mod history;
pub mod listing;
pub mod media;
pub mod model;
pub mod moderation;
pub mod openapi;
pub mod page_cache;
pub mod playlists;
pub mod posters;
pub mod safety;
pub mod search;
pub mod share;
pub mod token;
pub mod views;
pub mod webhooks;
pub mod webui;

use std::sync::Arc;
use std::time::Duration;

use actix_web::{HttpRequest, web};
use kadr_config::Config;
use kadr_http::AppContext;
use kadr_runtime::StartError;
use tokio_util::sync::CancellationToken;

use crate::media::AccessCache;
use crate::model::VideoRow;
use crate::token::MediaSigner;
use crate::views::Views;

/// The service's shared state: the media URL signer, the view buffer and the cache of who
/// may fetch which video's media. One per process, shared by every HTTP worker.
#[derive(Clone)]
pub struct Api {
    pub signer: Arc<MediaSigner>,
    pub views: Arc<Views>,
    pub access: Arc<AccessCache>,
    /// Anonymous catalog pages, kept for a second.
    pub pages: Arc<page_cache::PageCache>,
    /// The OpenAPI document served at `/api/openapi.json`.
    pub doc: Arc<utoipa::openapi::OpenApi>,
    /// Everyone sees dislike counts (`community.public_dislikes`).
    pub public_dislikes: bool,
    /// Where each sitemap file starts, walked at most once per `site.sitemap_cache_secs`.
    pub sitemaps: Arc<share::SitemapCache>,
}

impl Api {
    /// Adds another service's paths to the OpenAPI document (`kadr all` adds the upload API's).
    pub fn with_doc(mut self, other: utoipa::openapi::OpenApi) -> Api {
        self.doc = Arc::new(openapi::merged(other));
        self
    }

    /// `?token=…` for a media URL under `scope` of a video that is not listed; empty for a
    /// listed one, whose media anyone may fetch.
    pub fn media_query(&self, row: &VideoRow, scope: &str) -> String {
        if row.facts().listed() {
            String::new()
        } else {
            format!(
                "?token={}",
                self.signer.sign(row.id, row.media_epoch, scope).0
            )
        }
    }
}

/// `scheme://host` for absolute URLs handed to players: `server.public_url`, or where the
/// server listens; never the request's `Host` (see `kadr_http::client`).
pub fn base_url(req: &HttpRequest) -> String {
    match req.app_data::<web::Data<AppContext>>() {
        Some(ctx) => ctx.base_url(req),
        None => String::new(),
    }
}

/// Loads the media key and starts the view-count flusher. The handle ends after `shutdown`,
/// once the last buffered views are written.
pub fn start(
    ctx: &AppContext,
    shutdown: CancellationToken,
) -> Result<(Api, tokio::task::JoinHandle<()>), StartError> {
    let c = &ctx.config.api;
    let signer = MediaSigner::load(
        c.media_secret.as_ref().map(|s| s.expose()),
        &ctx.config.data_dir.join("media.key"),
        Duration::from_secs(c.media_token_ttl_secs),
    )
    .map_err(|e| StartError::Other(format!("media signing key: {e}")))?;
    let api = Api {
        signer: Arc::new(signer),
        views: Arc::new(Views::new(Duration::from_secs(c.view_window_secs))),
        access: Arc::new(AccessCache::new(Duration::from_millis(
            c.media_access_cache_ms,
        ))),
        pages: Arc::new(page_cache::PageCache::new(Duration::from_secs(1))),
        doc: Arc::new(openapi::document()),
        public_dislikes: ctx.config.community.public_dislikes,
        sitemaps: Arc::new(share::SitemapCache::default()),
    };
    let flusher = views::spawn_flusher(
        ctx.db.clone(),
        api.views.clone(),
        Duration::from_secs(c.views_flush_secs),
        shutdown,
    );
    Ok((api, flusher))
}

/// Adds this service's routes; `kadr all` mounts them beside the other services'.
pub fn configure(cfg: &mut web::ServiceConfig, api: &Api) {
    cfg.app_data(web::Data::new(api.clone()));
    // First: segment requests, the most frequent by far, are matched against every route
    // registered before theirs (actix tries each pattern in order, a regex per dynamic one).
    // Downloads' own route goes before the catch-all media route.
    downloads::configure_media(cfg);
    media::configure(cfg);
    downloads::configure(cfg);
    catalog::configure(cfg);
    captions::configure(cfg);
    posters::configure(cfg);
    channels::configure(cfg);
    comments::configure(cfg);
    community::configure(cfg);
    playlists::configure(cfg);
    history::configure(cfg);
    safety::configure(cfg);
    search::configure(cfg);
    views::configure(cfg);
    moderation::configure(cfg);
    webhooks::configure(cfg);
    openapi::configure(cfg);
    share::configure(cfg);
    webui::configure(cfg);
}

/// Runs the service on its own at `api.listen` until `shutdown` is cancelled.
pub async fn run(config: Config, shutdown: CancellationToken) -> Result<(), StartError> {
    let listen = config.api.listen;
    if config.storage.backend == kadr_config::StorageBackend::S3
        && config.api.media_secret.is_none()
    {
        // Without a configured key each process would make its own in its data_dir, and a
        // media URL signed by one api replica would be refused by the others.
        return Err(StartError::Other(
            "api.media_secret (KADR_API__MEDIA_SECRET) must be set when media is on S3: \
             every api replica signs and checks media URLs with it, and a key made by one \
             process alone would make the URLs it signs fail on the others"
                .to_owned(),
        ));
    }
    let ctx = AppContext::open(config).await?;
    let (api, flusher) = start(&ctx, shutdown.clone())?;
    let server = kadr_http::bind(listen, ctx, move |cfg| configure(cfg, &api))?;
    let result = server
        .run_until(shutdown)
        .await
        .map_err(|source| StartError::Bind {
            addr: listen,
            source,
        });
    let _ = flusher.await;
    result
}
