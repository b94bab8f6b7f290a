//! Browsing: the catalog (newest or most viewed), one video, editing it, my videos, the shorts
//! feed and the playback description. Lists are keyset-paginated (`listing`), anonymous ones
//! served from the page cache (`page_cache`); channels are in `channels`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use kadr_core::Code;
use kadr_core::state::{CommentPolicy, VideoStatus};
use kadr_core::videos::{Current, GivenFields};
use kadr_http::auth::{AuthUser, MaybeUser, SignedIn};
use kadr_http::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cursor::{self, Cursor};
use crate::listing::{
    ListQuery, PageQuery, by_created, by_time, listing, private_page, time_after, visible_row,
};
use crate::model::{VideoJson, VideoPage, VideoRow};
use crate::page_cache::cached;
use crate::{Api, base_url};
use kadr_core::visibility::LISTED;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos", web::get().to(list))
        .route("/api/v1/videos/{id}", web::get().to(detail))
        .route("/api/v1/videos/{id}", web::patch().to(update))
        .route("/api/v1/videos/{id}/playback", web::get().to(playback))
        .route("/api/v1/me/videos", web::get().to(my_videos))
        .route("/api/v1/shorts", web::get().to(shorts));
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
        .json(VideoJson::of(row, &viewer, &api, &base).with_chapters()))
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
    /// Who may comment: `open`, `hold` (every comment waits for you) or `off`.
    #[schema(schema_with = kadr_http::schema::comment_policy_given)]
    pub comments: Option<String>,
    /// Origins whose pages may embed the video (at most 20, like `https://news.example.org`);
    /// `[]` nowhere; `["*"]` as the site allows (`site.embed_origins`). The site's rule is
    /// never widened.
    pub embed_origins: Option<Vec<String>>,
    /// Viewers may download the MP4/M4A files (when the transcode makes them).
    pub downloadable: Option<bool>,
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
    let current = Current {
        title: &row.title,
        description: &row.description,
        tags: &row.tags,
        moderation: row.moderation,
    };
    let asked = GivenFields {
        title: body.title.as_deref(),
        description: body.description.as_deref(),
        tags: body.tags.as_deref(),
        language: body.language.as_deref(),
        privacy: body.privacy.as_deref(),
        channel: None,
    };
    let policy = match body.comments.as_deref() {
        None => None,
        Some(p) => Some(CommentPolicy::parse(p).ok_or_else(|| {
            ApiError::bad_request(Code::InvalidField, "comments is open, hold or off")
                .field("comments")
        })?),
    };
    let origins = match &body.embed_origins {
        Some(list) => Some(kadr_core::videos::check_embed_origins(list)?),
        None => None,
    };
    if kadr_core::videos::edit(&ctx.db, &ctx.config, &auth.user, id, &current, &asked).await? {
        api.access.forget(id);
    }
    if let Some(p) = policy {
        kadr_core::comments::set_policy(&ctx.db, id, p).await?;
    }
    kadr_core::videos::set_sharing(&ctx.db, id, origins, body.downloadable).await?;
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
            poster: img(&kadr_core::posters::file(&row.poster, false)),
            poster_small: img(&kadr_core::posters::file(&row.poster, true)),
            storyboard: img("storyboard.vtt"),
            expires_at,
            live_edge: !ready,
        }))
}

/// Every video of mine, in any state, newest first.
#[utoipa::path(get, path = "/api/v1/me/videos", tag = "catalog", params(PageQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401)), security(("bearer" = [])))]
pub async fn my_videos(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: SignedIn,
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
