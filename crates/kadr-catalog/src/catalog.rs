//! Browsing: the catalog (newest or most viewed), one video, editing it, channels, my videos,
//! the shorts feed and the playback description. Lists are keyset-paginated.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use kadr_core::Code;
use kadr_core::state::{Moderation, VideoStatus};
use kadr_core::{fields, review};
use kadr_http::auth::{AuthUser, MaybeUser};
use kadr_http::{ApiError, AppContext};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cursor::{self, Cursor};
use crate::model::{COLUMNS, FROM, VideoJson, VideoPage, VideoRow, page, stmt};
use crate::{Api, base_url};
use kadr_core::visibility::{LISTED, Viewer};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos", web::get().to(list))
        .route("/api/v1/videos/{id}", web::get().to(detail))
        .route("/api/v1/videos/{id}", web::patch().to(update))
        .route("/api/v1/videos/{id}/playback", web::get().to(playback))
        .route("/api/v1/channels/{handle}", web::get().to(channel))
        .route(
            "/api/v1/channels/{handle}/videos",
            web::get().to(channel_videos),
        )
        .route("/api/v1/me/videos", web::get().to(my_videos))
        .route("/api/v1/shorts", web::get().to(shorts));
}

/// Catalog and search pages (the front page above all) are the same for every viewer who
/// neither moderates nor owns a video on them: each is kept for a second, so a crowd on the
/// front page costs one query a second, not one per request (a page slow to build is kept
/// longer). When a page turns stale, one request rebuilds it while the others are still
/// served the previous page, or wait for the build when that page is too old; so there is no
/// stampede of identical queries. Moderators, and owners of a video on the page, get a page
/// built for them (they see its moderation state).
pub struct PageCache {
    ttl: std::time::Duration,
    entries: std::sync::Mutex<std::collections::HashMap<String, CachedPage>>,
}

struct CachedPage {
    /// When `body` was built.
    at: std::time::Instant,
    /// How long `body` is fresh: the cache's TTL, longer for a page that is slow to build.
    ttl: std::time::Duration,
    /// `None` until the first build of this page ends.
    body: Option<web::Bytes>,
    /// The owners of the page's videos.
    owners: Vec<Uuid>,
    /// When the build under way, if any, started.
    building_since: Option<std::time::Instant>,
    /// Wakes the requests waiting for the build under way (a subscription is taken under the
    /// lock, so no wake-up is missed).
    built: tokio::sync::watch::Sender<()>,
}

/// Most pages kept (search makes the key space open-ended; a page is some tens of KiB).
const PAGE_CACHE_MAX: usize = 4_096;

/// How much older than its TTL a page may be served while another request rebuilds it.
const STALE_FACTOR: u32 = 5;

/// A page is kept fresh at least this many times as long as its build took, so an expensive
/// page (a common word's search over millions of videos) is not rebuilt every second.
const BUILD_COST_FACTOR: u32 = 10;

/// The longest a page is kept fresh.
const MAX_TTL: std::time::Duration = std::time::Duration::from_secs(30);

/// How long a request waits for another's build of the same page before building it too.
const BUILD_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

enum Lookup {
    Serve(web::Bytes),
    Build,
    /// The asking viewer owns a video on the page: build one for them, leave the cache be.
    Own,
    /// Another request is building this page, and there is none recent enough to serve.
    Wait(tokio::sync::watch::Receiver<()>),
}

impl PageCache {
    pub fn new(ttl: std::time::Duration) -> PageCache {
        PageCache {
            ttl,
            entries: Default::default(),
        }
    }

    /// What the request for page `key` by `user` does: serve a page, build it, or wait for
    /// the build under way. Exactly one request builds a page at a time (unless a build
    /// outlasts [`BUILD_WAIT`], when the next request takes it over).
    fn lookup(&self, key: &str, user: Option<Uuid>) -> Lookup {
        let Ok(mut e) = self.entries.lock() else {
            return Lookup::Build;
        };
        let now = std::time::Instant::now();
        let Some(p) = e.get_mut(key) else {
            if e.len() >= PAGE_CACHE_MAX {
                let old = self.ttl * STALE_FACTOR;
                e.retain(|_, p| p.at.elapsed() < old.max(p.ttl) || p.building_since.is_some());
                if e.len() >= PAGE_CACHE_MAX {
                    e.clear();
                }
            }
            e.insert(
                key.to_owned(),
                CachedPage {
                    at: now,
                    ttl: self.ttl,
                    body: None,
                    owners: Vec::new(),
                    building_since: Some(now),
                    built: tokio::sync::watch::Sender::new(()),
                },
            );
            return Lookup::Build;
        };
        if let Some(body) = &p.body {
            if user.is_some_and(|u| p.owners.contains(&u)) {
                return Lookup::Own;
            }
            let age = p.at.elapsed();
            if age < p.ttl || (p.building_since.is_some() && age < p.ttl * STALE_FACTOR) {
                return Lookup::Serve(body.clone());
            }
        }
        match p.building_since {
            Some(since) if since.elapsed() < BUILD_WAIT => Lookup::Wait(p.built.subscribe()),
            _ => {
                p.building_since = Some(now);
                Lookup::Build
            }
        }
    }

    /// Keeps `body`, whose build took `took`.
    fn put(&self, key: String, body: web::Bytes, owners: Vec<Uuid>, took: std::time::Duration) {
        let ttl = (took * BUILD_COST_FACTOR).clamp(self.ttl, MAX_TTL.max(self.ttl));
        if let Ok(mut e) = self.entries.lock() {
            let built = match e.remove(&key) {
                Some(p) => p.built,
                None => tokio::sync::watch::Sender::new(()),
            };
            built.send_replace(());
            e.insert(
                key,
                CachedPage {
                    at: std::time::Instant::now(),
                    ttl,
                    body: Some(body),
                    owners,
                    building_since: None,
                    built,
                },
            );
        }
    }

    /// A build failed: wake its waiters and let the next request try.
    fn abandon(&self, key: &str) {
        if let Ok(mut e) = self.entries.lock()
            && let Some(p) = e.get_mut(key)
        {
            p.building_since = None;
            p.built.send_replace(());
            if p.body.is_none() {
                e.remove(key);
            }
        }
    }
}

fn json_page(body: web::Bytes, anonymous: bool) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((
            "Cache-Control",
            if anonymous {
                "public, max-age=1"
            } else {
                "private, no-cache"
            },
        ))
        .body(body)
}

/// Serves a listing from the page cache, or builds it with `make` (called with the viewer
/// it is built for: anonymous for the cache).
pub(crate) async fn cached<F, Fut>(
    api: &Api,
    viewer: &Viewer,
    req: &HttpRequest,
    make: F,
) -> Result<HttpResponse, ApiError>
where
    F: Fn(Viewer) -> Fut,
    Fut: std::future::Future<Output = Result<VideoPage, ApiError>>,
{
    let anonymous = viewer.user.is_none();
    let own = || async {
        let page = make(viewer.clone()).await?;
        let body = serde_json::to_vec(&page).map_err(|e| ApiError::internal(&e))?;
        Ok(json_page(body.into(), false))
    };
    if viewer.moderator || viewer.admin {
        return own().await;
    }
    let key = format!("{}{}", base_url(req), req.uri());
    // A crowd asking for a page with none recent enough to serve waits for one build, not one
    // each.
    let mut waited = false;
    loop {
        match api.pages.lookup(&key, viewer.user) {
            Lookup::Serve(body) => return Ok(json_page(body, anonymous)),
            Lookup::Own => return own().await,
            Lookup::Wait(mut built) if !waited => {
                waited = true;
                let _ = tokio::time::timeout(BUILD_WAIT, built.changed()).await;
            }
            _ => break,
        }
    }
    let started = std::time::Instant::now();
    let built = match make(Viewer::default()).await {
        Ok(page) => serde_json::to_vec(&page)
            .map(|body| (body, page.owners))
            .map_err(|e| ApiError::internal(&e)),
        Err(e) => Err(e),
    };
    match built {
        Ok((body, owners)) => {
            let body = web::Bytes::from(body);
            let mine = viewer.user.is_some_and(|u| owners.contains(&u));
            api.pages.put(key, body.clone(), owners, started.elapsed());
            if mine {
                return own().await;
            }
            Ok(json_page(body, anonymous))
        }
        Err(e) => {
            api.pages.abandon(&key);
            Err(e)
        }
    }
}

fn db_err(e: sea_orm::DbErr) -> ApiError {
    ApiError::internal(&e)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// `new` (default) or `popular`.
    pub sort: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

pub(crate) async fn rows(
    ctx: &AppContext,
    sql: String,
    values: Vec<sea_orm::Value>,
) -> Result<Vec<VideoRow>, ApiError> {
    VideoRow::find_by_statement(stmt(sql, values))
        .all(&ctx.db)
        .await
        .map_err(db_err)
}

/// One page of a listing as `viewer` sees it: the rows `WHERE {filter} ORDER BY {order}`
/// (`values` bound in order), with the cursor of the next page taken by `key`.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn listing(
    ctx: &AppContext,
    api: &Api,
    req: &HttpRequest,
    viewer: &Viewer,
    filter: &str,
    order: &str,
    values: Vec<sea_orm::Value>,
    limit: u64,
    key: impl Fn(&VideoRow) -> Cursor,
) -> Result<VideoPage, ApiError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM {FROM} WHERE {filter} ORDER BY {order} LIMIT {}",
        limit + 1
    );
    let found = rows(ctx, sql, values).await?;
    Ok(page(found, limit, viewer, api, req, key))
}

/// A page only its viewer may see.
pub(crate) fn private_page(page: &VideoPage) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(page)
}

fn by_time(r: &VideoRow) -> Cursor {
    Cursor::Time {
        t: r.published_at.unwrap_or(r.created_at),
        id: r.id,
    }
}

fn by_created(r: &VideoRow) -> Cursor {
    Cursor::Time {
        t: r.created_at,
        id: r.id,
    }
}

/// ` AND (col, v.id) < (…)`: the page after a time cursor, newest first.
fn time_after(
    cursor: Option<&str>,
    col: &str,
    values: &mut Vec<sea_orm::Value>,
) -> Result<String, ApiError> {
    Cursor::after(cursor, "time", col, "v.id", "<", values)
}

/// The catalog: listed videos, newest or most viewed first.
#[utoipa::path(get, path = "/api/v1/videos", tag = "catalog", params(ListQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad sort, cursor or limit", content_type = "application/problem+json")))]
pub async fn list(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    q: web::Query<ListQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let viewer = user.viewer();
    let popular = match q.sort.as_deref() {
        None | Some("new") => false,
        Some("popular") => true,
        Some(_) => {
            return Err(
                ApiError::bad_request(Code::InvalidSort, "sort is new or popular").field("sort"),
            );
        }
    };
    let (ctx, api, req, q) = (&ctx, &api, &req, &q);
    cached(api, &viewer, req, |viewer| async move {
        let mut values: Vec<sea_orm::Value> = Vec::new();
        if popular {
            let after = Cursor::after(
                q.cursor.as_deref(),
                "views",
                "v.view_count",
                "v.id",
                "<",
                &mut values,
            )?;
            let by_views = |r: &VideoRow| Cursor::Views {
                n: r.view_count,
                id: r.id,
            };
            let filter = format!("{LISTED}{after}");
            let order = "v.view_count DESC, v.id DESC";
            listing(
                ctx, api, req, &viewer, &filter, order, values, limit, by_views,
            )
            .await
        } else {
            let after = time_after(q.cursor.as_deref(), "v.published_at", &mut values)?;
            let filter = format!("{LISTED}{after}");
            let order = "v.published_at DESC, v.id DESC";
            listing(
                ctx, api, req, &viewer, &filter, order, values, limit, by_time,
            )
            .await
        }
    })
    .await
}

/// The shorts feed: listed videos of at most 180 s that are not landscape, newest first.
#[utoipa::path(get, path = "/api/v1/shorts", tag = "catalog", params(PageQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json")))]
pub async fn shorts(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let mut values = Vec::new();
    let after = time_after(q.cursor.as_deref(), "v.published_at", &mut values)?;
    let filter = format!("{LISTED} AND v.is_short{after}");
    let viewer = user.viewer();
    let (ctx, api) = (&ctx, &api);
    cached(api, &viewer, &req, |viewer| {
        let order = "v.published_at DESC, v.id DESC";
        let (req, filter, values) = (&req, &filter, values.clone());
        async move {
            listing(
                ctx, api, req, &viewer, filter, order, values, limit, by_time,
            )
            .await
        }
    })
    .await
}

/// One video by id, whoever may see it (404 otherwise).
pub(crate) async fn visible_row(
    ctx: &AppContext,
    id: Uuid,
    viewer: &Viewer,
) -> Result<VideoRow, ApiError> {
    let found = rows(
        ctx,
        format!("SELECT {COLUMNS} FROM {FROM} WHERE v.id = $1"),
        vec![id.into()],
    )
    .await?
    .into_iter()
    .next()
    .filter(|r| r.facts().visible_to(viewer));
    found.ok_or_else(ApiError::not_found)
}

/// A video's metadata, status, channel and image URLs.
#[utoipa::path(get, path = "/api/v1/videos/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 200, body = VideoJson), (status = 404, description = "No such video, or not visible to the caller", content_type = "application/problem+json")))]
pub async fn detail(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.viewer();
    let row = visible_row(&ctx, path.into_inner(), &viewer).await?;
    let base = base_url(&req);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(VideoJson::of(row, &viewer, &api, &base)))
}

/// What may be changed: any subset of these.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VideoPatch {
    #[schema(schema_with = kadr_http::schema::title_given)]
    pub title: Option<String>,
    #[schema(schema_with = kadr_http::schema::description_given)]
    pub description: Option<String>,
    #[schema(schema_with = kadr_http::schema::tags_given)]
    pub tags: Option<Vec<String>>,
    pub language: Option<String>,
    #[schema(schema_with = kadr_http::schema::privacy_given)]
    pub privacy: Option<String>,
}

/// Edits a video (owner or admin).
#[utoipa::path(patch, path = "/api/v1/videos/{id}", tag = "catalog",
    params(("id" = Uuid, Path, description = "Video id")), request_body = VideoPatch,
    responses((status = 200, body = VideoJson), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 404)),
    security(("bearer" = [])))]
pub async fn update(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Json<VideoPatch>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let viewer = auth.viewer();
    let row = visible_row(&ctx, id, &viewer).await?;
    if !viewer.manages(row.owner_id) {
        return Err(ApiError::not_found());
    }
    let mut sets = Vec::new();
    let mut values: Vec<sea_orm::Value> = vec![id.into()];
    let mut set = |col: &str, v: sea_orm::Value| {
        values.push(v);
        sets.push(format!("{col} = ${}", values.len()));
    };
    // Whether the edit changes what viewers see (a field given with its current value does not).
    let mut visible_change = false;
    if let Some(t) = &body.title {
        let t = fields::title(t)?;
        visible_change |= t != row.title;
        set("title", t.into());
    }
    if let Some(d) = &body.description {
        let d = fields::description(d)?;
        visible_change |= d != row.description;
        set("description", d.into());
    }
    if let Some(t) = &body.tags {
        let t = fields::tags(t)?;
        visible_change |= t != row.tags;
        set("tags", t.into());
    }
    if let Some(l) = &body.language {
        set("language", fields::language(l)?.into());
    }
    if let Some(p) = &body.privacy {
        set("privacy", fields::privacy(p)?.as_str().into());
    }
    if review::edit_returns_to_review(
        &ctx.config.moderation,
        &auth.user,
        row.moderation,
        visible_change,
    ) {
        set("moderation", Moderation::Pending.as_str().into());
        set("moderation_reason", review::BACK_TO_REVIEW.into());
    }
    if !sets.is_empty() {
        let sql = format!(
            "UPDATE videos SET {}, updated_at = now() WHERE id = $1",
            sets.join(", ")
        );
        ctx.db
            .execute_raw(stmt(sql, values))
            .await
            .map_err(db_err)?;
        api.access.forget(id);
    }
    let row = visible_row(&ctx, id, &viewer).await?;
    Ok(HttpResponse::Ok().json(VideoJson::of(row, &viewer, &api, &base_url(&req))))
}

/// Where a player starts: the master playlist, poster and storyboard, signed when needed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Playback {
    pub id: Uuid,
    /// HLS master playlist (fMP4, H.264 + AAC in every variant).
    pub hls: String,
    pub poster: Option<String>,
    pub poster_small: Option<String>,
    /// WebVTT thumbnails with `#xywh` cues.
    pub storyboard: Option<String>,
    /// When the signed URLs stop working; absent for public videos.
    pub expires_at: Option<DateTime<FixedOffset>>,
    /// The ladder is still growing (an EVENT playlist); `false` once the video is ready.
    pub live_edge: bool,
}

#[utoipa::path(get, path = "/api/v1/videos/{id}/playback", tag = "playback",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 200, body = Playback), (status = 404), (status = 409, description = "Not playable yet", content_type = "application/problem+json")))]
pub async fn playback(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.viewer();
    let row = visible_row(&ctx, path.into_inner(), &viewer).await?;
    if !row.playable {
        return Err(
            ApiError::new(Code::NotPlayable, "The video cannot be played yet")
                .detail(format!("status: {}", row.status)),
        );
    }
    let base = base_url(&req);
    let facts = row.facts();
    let hls_q = api.media_query(&row, "hls");
    let img_q = api.media_query(&row, "images");
    let ready = row.status == VideoStatus::Ready;
    let img = |f: &str| ready.then(|| format!("{base}/media/{}/images/{f}{img_q}", row.id));
    let expires_at = (!facts.listed()).then(|| {
        let at =
            chrono::Utc::now() + chrono::Duration::from_std(api.signer.ttl()).unwrap_or_default();
        at.fixed_offset()
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(Playback {
            id: row.id,
            hls: format!("{base}/media/{}/hls/master.m3u8{hls_q}", row.id),
            poster: img("poster.jpg"),
            poster_small: img("poster_small.jpg"),
            storyboard: img("storyboard.vtt"),
            expires_at,
            live_edge: !ready,
        }))
}

#[derive(Debug, Serialize, FromQueryResult, utoipa::ToSchema)]
pub struct ChannelJson {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub description: String,
    pub created_at: DateTime<FixedOffset>,
}

async fn find_channel(ctx: &AppContext, handle: &str) -> Result<ChannelJson, ApiError> {
    // No handle holds control characters or is that long: nothing to look up.
    if handle.len() > 256 || handle.chars().any(char::is_control) {
        return Err(ApiError::not_found());
    }
    ChannelJson::find_by_statement(stmt(
        "SELECT id, handle, display_name, description, created_at FROM channels
         WHERE lower(handle) = lower($1)"
            .to_owned(),
        vec![handle.into()],
    ))
    .one(&ctx.db)
    .await
    .map_err(db_err)?
    .ok_or_else(ApiError::not_found)
}

#[utoipa::path(get, path = "/api/v1/channels/{handle}", tag = "catalog",
    params(("handle" = String, Path, description = "Channel handle")),
    responses((status = 200, body = ChannelJson), (status = 404)))]
pub async fn channel(
    ctx: web::Data<AppContext>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    Ok(HttpResponse::Ok().json(find_channel(&ctx, &path).await?))
}

/// A channel's listed videos, newest first.
#[utoipa::path(get, path = "/api/v1/channels/{handle}/videos", tag = "catalog",
    params(("handle" = String, Path, description = "Channel handle"), PageQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 404)))]
pub async fn channel_videos(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let ch = find_channel(&ctx, &path).await?;
    let mut values: Vec<sea_orm::Value> = vec![ch.id.into()];
    let after = time_after(q.cursor.as_deref(), "v.published_at", &mut values)?;
    let filter = format!("v.channel_id = $1 AND {LISTED}{after}");
    let order = "v.published_at DESC, v.id DESC";
    let viewer = user.viewer();
    let page = listing(
        &ctx, &api, &req, &viewer, &filter, order, values, limit, by_time,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// Every video of mine, in any state, newest first.
#[utoipa::path(get, path = "/api/v1/me/videos", tag = "catalog", params(PageQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401)), security(("bearer" = [])))]
pub async fn my_videos(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let mut values: Vec<sea_orm::Value> = vec![auth.user.id.into()];
    let after = time_after(q.cursor.as_deref(), "v.created_at", &mut values)?;
    let filter = format!("v.owner_id = $1{after}");
    let order = "v.created_at DESC, v.id DESC";
    let viewer = auth.viewer();
    let page = listing(
        &ctx, &api, &req, &viewer, &filter, order, values, limit, by_created,
    )
    .await?;
    Ok(private_page(&page))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const ZERO: std::time::Duration = std::time::Duration::ZERO;

    /// Keeps a page with no owners that took no time to build.
    fn keep(cache: &PageCache, key: &str, body: &'static [u8]) {
        cache.put(
            key.to_owned(),
            web::Bytes::from_static(body),
            Vec::new(),
            ZERO,
        );
    }

    #[test]
    fn one_rebuild_while_others_get_the_stale_page() {
        let cache = PageCache::new(std::time::Duration::from_millis(50));
        assert!(matches!(cache.lookup("k", None), Lookup::Build));
        keep(&cache, "k", b"v1");
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v1"));
        std::thread::sleep(std::time::Duration::from_millis(60));
        // Stale: the first request rebuilds, the next ones still get v1.
        assert!(matches!(cache.lookup("k", None), Lookup::Build));
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v1"));
        cache.abandon("k");
        assert!(matches!(cache.lookup("k", None), Lookup::Build));
        keep(&cache, "k", b"v2");
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v2"));
        // Too old to serve even while rebuilding: one request rebuilds, the others wait for it.
        std::thread::sleep(std::time::Duration::from_millis(300));
        assert!(matches!(cache.lookup("k", None), Lookup::Build));
        assert!(matches!(cache.lookup("k", None), Lookup::Wait(_)));
        assert!(matches!(cache.lookup("k", None), Lookup::Wait(_)));
        keep(&cache, "k", b"v3");
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v3"));
    }

    #[tokio::test]
    async fn a_first_build_is_waited_for_not_repeated() {
        let cache = PageCache::new(std::time::Duration::from_secs(1));
        assert!(matches!(cache.lookup("k", None), Lookup::Build));
        let Lookup::Wait(mut first) = cache.lookup("k", None) else {
            panic!("a second request should wait for the first build")
        };
        let Lookup::Wait(mut second) = cache.lookup("k", None) else {
            panic!("so should a third")
        };
        keep(&cache, "k", b"v1");
        first.changed().await.unwrap();
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v1"));
        // A failed first build wakes its waiters and lets the next request build.
        assert!(matches!(cache.lookup("j", None), Lookup::Build));
        let Lookup::Wait(mut waiting) = cache.lookup("j", None) else {
            panic!("waits")
        };
        cache.abandon("j");
        waiting.changed().await.unwrap();
        assert!(matches!(cache.lookup("j", None), Lookup::Build));
        second.changed().await.unwrap();
    }

    #[test]
    fn an_owner_of_a_video_on_the_page_gets_their_own() {
        let cache = PageCache::new(std::time::Duration::from_secs(1));
        let (owner, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert!(matches!(cache.lookup("k", Some(other)), Lookup::Build));
        cache.put(
            "k".to_owned(),
            web::Bytes::from_static(b"v1"),
            vec![owner],
            ZERO,
        );
        assert!(matches!(cache.lookup("k", Some(other)), Lookup::Serve(b) if b == "v1"));
        assert!(matches!(cache.lookup("k", None), Lookup::Serve(b) if b == "v1"));
        assert!(matches!(cache.lookup("k", Some(owner)), Lookup::Own));
        // The owner's own build leaves the shared page as it was.
        assert!(matches!(cache.lookup("k", Some(other)), Lookup::Serve(b) if b == "v1"));
    }

    #[test]
    fn a_page_slow_to_build_is_kept_longer() {
        let cache = PageCache::new(std::time::Duration::from_millis(20));
        assert!(matches!(cache.lookup("slow", None), Lookup::Build));
        let took = std::time::Duration::from_millis(10);
        cache.put(
            "slow".to_owned(),
            web::Bytes::from_static(b"s"),
            Vec::new(),
            took,
        );
        assert!(matches!(cache.lookup("fast", None), Lookup::Build));
        keep(&cache, "fast", b"f");
        std::thread::sleep(std::time::Duration::from_millis(40));
        // Past the cache's TTL, within ten times the slow build.
        assert!(matches!(cache.lookup("slow", None), Lookup::Serve(b) if b == "s"));
        assert!(matches!(cache.lookup("fast", None), Lookup::Build));
    }
}
