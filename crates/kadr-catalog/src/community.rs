//! What a signed-in viewer follows and is told: the subscription feed (and its shorts), liked
//! videos, ratings, and notifications.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use kadr_core::Code;
use kadr_core::ratings::Rating;
use kadr_core::state::NotificationType;
use kadr_core::visibility::{LISTED, visible_sql};
use kadr_http::auth::{AuthUser, MaybeUser, SignedIn};
use kadr_http::{ApiError, AppContext};
use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cursor::{self, Cursor};
use crate::listing::{PageQuery, Through, db_err, private_page, visible_row};
use crate::model::{VideoPage, stmt};
use crate::{Api, base_url};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/me/feed", web::get().to(feed))
        .route("/api/v1/me/feed/shorts", web::get().to(feed_shorts))
        .route("/api/v1/me/liked", web::get().to(liked))
        .route("/api/v1/videos/{id}/rating", web::get().to(my_rating))
        .route("/api/v1/videos/{id}/rating", web::put().to(rate))
        .route("/api/v1/me/notifications", web::get().to(notifications))
        .route(
            "/api/v1/me/notifications/unread",
            web::get().to(unread_count),
        )
        .route("/api/v1/me/notifications/read", web::post().to(mark_read));
}

/// The subscription feed: listed videos of the channels I follow, newest first.
#[utoipa::path(get, path = "/api/v1/me/feed", tag = "community", params(PageQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn feed(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: SignedIn,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    feed_page(&ctx, &api, &req, &auth, false, &q).await
}

/// The shorts of the channels I follow, newest first.
#[utoipa::path(get, path = "/api/v1/me/feed/shorts", tag = "community", params(PageQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn feed_shorts(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: SignedIn,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    feed_page(&ctx, &api, &req, &auth, true, &q).await
}

/// Videos I liked, latest like first (those I may no longer see are left out).
#[utoipa::path(get, path = "/api/v1/me/liked", tag = "community", params(PageQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn liked(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: SignedIn,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let viewer = auth.viewer();
    let mut values: Vec<sea_orm::Value> = vec![auth.user.id.into()];
    let visible = visible_sql(&viewer, &mut values);
    let through = Through {
        from: "video_ratings r JOIN videos v ON v.id = r.video_id
               JOIN channels c ON c.id = v.channel_id",
        sort_at: "r.rated_at",
        id: "r.video_id",
    };
    let filter = format!("r.user_id = $1 AND r.rating = 1 AND {visible}");
    let page = through
        .page(
            &ctx,
            &api,
            &req,
            &viewer,
            &filter,
            values,
            q.cursor.as_deref(),
            limit,
        )
        .await?;
    Ok(private_page(&page))
}

/// My rating of a video.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingJson {
    /// `like`, `dislike` or `none`.
    #[schema(schema_with = kadr_http::schema::rating)]
    pub rating: String,
}

/// My rating of a video (`none` for anonymous callers).
#[utoipa::path(get, path = "/api/v1/videos/{id}/rating", tag = "community",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 200, body = RatingJson), (status = 404)))]
pub async fn my_rating(
    ctx: web::Data<AppContext>,
    user: MaybeUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.viewer();
    let row = visible_row(&ctx, path.into_inner(), &viewer).await?;
    let rating = match viewer.user {
        Some(u) => kadr_core::ratings::of(&ctx.db, u, row.id).await?,
        None => Rating::None,
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(RatingJson {
            rating: rating.as_str().to_owned(),
        }))
}

/// Likes or dislikes a video, or takes the rating back (`none`). The counts follow within
/// `community.fold_interval_ms`.
#[utoipa::path(put, path = "/api/v1/videos/{id}/rating", tag = "community",
    params(("id" = Uuid, Path, description = "Video id")), request_body = RatingJson,
    responses((status = 200, body = RatingJson), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 404),
        (status = 429, description = "Too many ratings", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn rate(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<RatingJson>,
) -> Result<HttpResponse, ApiError> {
    let rating = Rating::parse(&body.rating).ok_or_else(|| {
        ApiError::bad_request(Code::InvalidField, "rating is like, dislike or none").field("rating")
    })?;
    let id = path.into_inner();
    // Whether the caller may see it, from the media access cache when fresh.
    let access = api.access.get(&ctx, id).await?;
    let visible = match access {
        Some(a) if a.listed() => true,
        _ => visible_row(&ctx, id, &auth.viewer()).await.is_ok(),
    };
    if !visible {
        return Err(ApiError::not_found());
    }
    kadr_core::ratings::rate(&ctx.db, &ctx.config, &auth.user, id, rating).await?;
    Ok(HttpResponse::Ok().json(RatingJson {
        rating: rating.as_str().to_owned(),
    }))
}

/// A notification.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationJson {
    pub id: i64,
    #[serde(rename = "type")]
    #[schema(schema_with = kadr_http::schema::notification_type)]
    pub kind: String,
    pub created_at: DateTime<FixedOffset>,
    pub read: bool,
    /// The video it is about.
    pub video: Option<NotifiedVideo>,
    /// The comment it is about (a reply).
    pub comment: Option<NotifiedComment>,
    /// Who did it (the replying user, the moderator's role is not shown).
    pub actor: Option<String>,
    /// `likes` (a milestone), `decision` and `reason` (moderation), `code` (a failure).
    #[schema(value_type = NotificationData)]
    pub data: serde_json::Value,
}

/// What a notification carries besides its video and comment, by type.
#[derive(Debug, Serialize, utoipa::ToSchema)]
#[allow(dead_code)]
pub struct NotificationData {
    /// `like_milestone`: the likes reached (10, 100, 1000, …).
    pub likes: Option<i64>,
    /// `moderation`: `approved` or `rejected`.
    #[schema(schema_with = kadr_http::schema::moderation)]
    pub decision: Option<String>,
    /// `moderation`: the moderator's reason.
    pub reason: Option<String>,
    /// `processing_failed`: the failure code.
    #[schema(schema_with = kadr_http::schema::failure_code)]
    pub code: Option<String>,
    /// `report_resolved`: what the moderators decided.
    #[schema(schema_with = kadr_http::schema::report_outcome)]
    pub outcome: Option<String>,
    /// `report_resolved`: what I reported (`video`, `comment`, `channel`) and its id.
    pub target_type: Option<String>,
    pub target_id: Option<Uuid>,
    /// `standing`: my account's standing now (`active`, `suspended`, `banned`); `warning`
    /// and `standing` carry the moderator's `reason`.
    #[schema(schema_with = kadr_http::schema::standing_given)]
    pub standing: Option<String>,
    /// `standing`: when a suspension ends.
    pub until: Option<DateTime<FixedOffset>>,
    /// `webhook_disabled`: which endpoint, and its URL (`reason` says why).
    pub endpoint_id: Option<Uuid>,
    pub url: Option<String>,
    /// `moderation` of a playlist: which, and its title then.
    pub playlist_id: Option<Uuid>,
    pub playlist_title: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotifiedVideo {
    pub id: Uuid,
    pub title: String,
    pub channel_handle: String,
    pub channel_name: String,
    /// Small poster, for ready videos.
    pub poster_small: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotifiedComment {
    pub id: Uuid,
    /// The first 200 characters.
    pub excerpt: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationPage {
    pub items: Vec<NotificationJson>,
    pub next_cursor: Option<String>,
    /// Unread notifications among the newest 100.
    pub unread: i64,
}

#[derive(Debug, FromQueryResult)]
struct NotificationRow {
    id: i64,
    kind: NotificationType,
    created_at: DateTime<FixedOffset>,
    read_at: Option<DateTime<FixedOffset>>,
    video_id: Option<Uuid>,
    title: Option<String>,
    channel_handle: Option<String>,
    channel_name: Option<String>,
    ready: Option<bool>,
    listed: Option<bool>,
    media_epoch: Option<i32>,
    poster: Option<String>,
    comment_id: Option<Uuid>,
    excerpt: Option<String>,
    actor: Option<String>,
    data: serde_json::Value,
}

/// The notifications `viewer` may see of: those about a video they may see (and a comment
/// that still exists and they may see), or about nothing.
fn notification_filter(
    viewer: &kadr_core::visibility::Viewer,
    values: &mut Vec<sea_orm::Value>,
) -> String {
    let visible = visible_sql(viewer, values);
    format!(
        "n.user_id = $1
         AND (n.video_id IS NULL OR (v.id IS NOT NULL AND {visible}))
         AND (n.comment_id IS NULL OR (m.id IS NOT NULL AND (NOT m.held OR m.author_id = $1 OR v.owner_id = $1)))"
    )
}

const NOTIFICATION_FROM: &str = "notifications n
    LEFT JOIN videos v ON v.id = n.video_id
    LEFT JOIN channels c ON c.id = v.channel_id
    LEFT JOIN comments m ON m.id = n.comment_id
    LEFT JOIN users a ON a.id = n.actor_id";

async fn unread(ctx: &AppContext, auth: &AuthUser) -> Result<i64, ApiError> {
    let mut values: Vec<sea_orm::Value> = vec![auth.user.id.into()];
    let filter = notification_filter(&auth.viewer(), &mut values);
    let row = ctx
        .db
        .query_one_raw(stmt(
            format!(
                "SELECT count(*) FILTER (WHERE u.read_at IS NULL) AS n FROM (
                     SELECT n.read_at FROM {NOTIFICATION_FROM}
                     WHERE {filter} ORDER BY n.id DESC LIMIT 100) u"
            ),
            values,
        ))
        .await
        .map_err(db_err)?;
    Ok(match row {
        Some(r) => r.try_get("", "n").map_err(db_err)?,
        None => 0,
    })
}

use sea_orm::ConnectionTrait;

/// My notifications, newest first, with the unread count.
#[utoipa::path(get, path = "/api/v1/me/notifications", tag = "community", params(PageQuery),
    responses((status = 200, body = NotificationPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn notifications(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: SignedIn,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let mut values: Vec<sea_orm::Value> = vec![auth.user.id.into()];
    let filter = notification_filter(&auth.viewer(), &mut values);
    let after = Cursor::after_seq(q.cursor.as_deref(), "n.id", &mut values)?;
    let rows = NotificationRow::find_by_statement(stmt(
        format!(
            "SELECT n.id, n.type AS kind, n.created_at, n.read_at, n.video_id, v.title,
                    c.handle AS channel_handle, c.display_name AS channel_name,
                    v.status = '{ready}' AS ready, ({LISTED}) AS listed,
                    v.media_epoch, v.poster, n.comment_id, left(m.body, 200) AS excerpt,
                    a.username AS actor, n.data
             FROM {NOTIFICATION_FROM}
             WHERE {filter}{after} ORDER BY n.id DESC LIMIT {}",
            limit + 1,
            ready = kadr_core::state::VideoStatus::Ready.as_str()
        ),
        values,
    ))
    .all(&ctx.db)
    .await
    .map_err(db_err)?;
    let (rows, next_cursor) = cursor::split(rows, limit, |r| Some(Cursor::Seq { n: r.id }));
    let base = base_url(&req);
    let items = rows
        .into_iter()
        .map(|r| {
            let video = match (r.video_id, r.title) {
                (Some(id), Some(title)) => {
                    let poster_small = (r.ready == Some(true)).then(|| {
                        let q = if r.listed == Some(true) {
                            String::new()
                        } else {
                            format!(
                                "?token={}",
                                api.signer.sign(id, r.media_epoch.unwrap_or(0), "images").0
                            )
                        };
                        let stem = r.poster.as_deref().unwrap_or(kadr_core::posters::AUTO);
                        let file = kadr_core::posters::file(stem, true);
                        format!("{base}/media/{id}/images/{file}{q}")
                    });
                    Some(NotifiedVideo {
                        id,
                        title,
                        channel_handle: r.channel_handle.unwrap_or_default(),
                        channel_name: r.channel_name.unwrap_or_default(),
                        poster_small,
                    })
                }
                _ => None,
            };
            NotificationJson {
                id: r.id,
                kind: r.kind.as_str().to_owned(),
                created_at: r.created_at,
                read: r.read_at.is_some(),
                video,
                comment: match (r.comment_id, r.excerpt) {
                    (Some(id), Some(excerpt)) => Some(NotifiedComment { id, excerpt }),
                    _ => None,
                },
                actor: r.actor,
                data: r.data,
            }
        })
        .collect();
    let page = NotificationPage {
        items,
        next_cursor,
        unread: unread(&ctx, &auth).await?,
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(page))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UnreadJson {
    /// Unread notifications among the newest 100.
    pub unread: i64,
}

/// How many of my notifications are unread (for the header's badge).
#[utoipa::path(get, path = "/api/v1/me/notifications/unread", tag = "community",
    responses((status = 200, body = UnreadJson), (status = 401)), security(("bearer" = [])))]
pub async fn unread_count(
    ctx: web::Data<AppContext>,
    auth: SignedIn,
) -> Result<HttpResponse, ApiError> {
    let unread = unread(&ctx, &auth).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(UnreadJson { unread }))
}

/// Which notifications to mark read.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// These (at most 100); when absent, all of mine.
    #[schema(max_items = 100)]
    pub ids: Option<Vec<i64>>,
}

/// Marks notifications read.
#[utoipa::path(post, path = "/api/v1/me/notifications/read", tag = "community", request_body = MarkRead,
    responses((status = 200, body = UnreadJson), (status = 400, content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn mark_read(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    body: web::Json<MarkRead>,
) -> Result<HttpResponse, ApiError> {
    if body.ids.as_ref().is_some_and(|i| i.len() > 100) {
        return Err(
            ApiError::bad_request(Code::InvalidField, "At most 100 ids at once").field("ids"),
        );
    }
    kadr_core::notifications::mark_read(&ctx.db, auth.user.id, body.ids.as_deref()).await?;
    let unread = unread(&ctx, &auth).await?;
    Ok(HttpResponse::Ok().json(UnreadJson { unread }))
}

/// The subscription feed's page, for `feed` (all, or shorts only).
async fn feed_page(
    ctx: &AppContext,
    api: &Api,
    req: &HttpRequest,
    auth: &AuthUser,
    shorts: bool,
    q: &PageQuery,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    // The page is taken from the user's own feed rows in index order, each checked (still
    // subscribed, still listed) by a subquery that cannot become a join: however the planner
    // estimates a user's feed, it walks it newest first and stops at the page's end (a join
    // let it sort a 10,000-item feed for every page: 0.4 s).
    let mut values: Vec<sea_orm::Value> = vec![auth.user.id.into()];
    let after = Cursor::after(
        q.cursor.as_deref(),
        "time",
        "f.published_at",
        "f.video_id",
        "<",
        &mut values,
    )?;
    let shorts = if shorts { " AND f.is_short" } else { "" };
    let columns =
        crate::model::COLUMNS.replace(crate::model::NO_SORT_AT, "f.published_at AS sort_at");
    let sql = format!(
        "SELECT {columns} FROM (
             SELECT f.published_at, f.video_id FROM feed_items f
             WHERE f.user_id = $1{shorts}{after}
               AND coalesce((SELECT true FROM subscriptions s
                             WHERE s.user_id = f.user_id AND s.channel_id = f.channel_id), false)
               AND coalesce((SELECT true FROM videos v WHERE v.id = f.video_id AND {LISTED}), false)
             ORDER BY f.published_at DESC, f.video_id DESC LIMIT {}) f
         JOIN videos v ON v.id = f.video_id JOIN channels c ON c.id = v.channel_id
         ORDER BY f.published_at DESC, f.video_id DESC",
        limit + 1
    );
    let found = crate::listing::rows(ctx, sql, values).await?;
    let page = crate::model::page(
        found,
        limit,
        &auth.viewer(),
        api,
        req,
        crate::listing::by_sort_at,
    );
    Ok(private_page(&page))
}
