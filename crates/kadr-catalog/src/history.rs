//! What a viewer watched and where they stopped (resume, "continue watching", history), and
//! the videos related to one being watched.

use actix_web::{HttpRequest, HttpResponse, web};
use kadr_core::history;
use kadr_core::visibility::{LISTED, visible_sql};
use kadr_http::auth::{AuthUser, MaybeUser, SignedIn};
use kadr_http::{ApiError, AppContext};
use sea_orm::ConnectionTrait;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::Api;
use crate::cursor;
use crate::listing::{PageQuery, Through, private_page, rows, visible_row};
use crate::model::{COLUMNS, NO_RESUME, VideoPage, page};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos/{id}/position", web::get().to(position))
        .route("/api/v1/videos/{id}/position", web::put().to(save_position))
        .route("/api/v1/videos/{id}/related", web::get().to(related))
        .route("/api/v1/me/history", web::get().to(list))
        .route("/api/v1/me/history", web::delete().to(clear))
        .route("/api/v1/me/history/paused", web::put().to(pause))
        .route("/api/v1/me/history/{video}", web::delete().to(remove))
        .route(
            "/api/v1/me/continue-watching",
            web::get().to(continue_watching),
        );
}

/// Where I stopped in a video.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Position {
    /// Milliseconds from the start; `null` (when read): start from the beginning (never
    /// watched, or watched to the end).
    #[schema(minimum = 0, maximum = 172_800_000)]
    pub position_ms: Option<i64>,
}

/// Where I stopped in a video (`null` for anonymous callers, and when there is nothing to
/// resume).
#[utoipa::path(get, path = "/api/v1/videos/{id}/position", tag = "history", operation_id = "history_position",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 200, body = Position), (status = 404)))]
pub async fn position(
    ctx: web::Data<AppContext>,
    user: MaybeUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.viewer();
    let row = visible_row(&ctx, path.into_inner(), &viewer).await?;
    let at = match viewer.user {
        Some(u) => history::resume_at(&ctx.db, u, row.id).await?,
        None => None,
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(Position { position_ms: at }))
}

/// Whether a position was kept.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Saved {
    /// `false` while my history is paused.
    pub saved: bool,
}

/// Saves where I am in a video (the player calls it every few seconds and when leaving); the
/// video enters my history unless it is paused.
#[utoipa::path(put, path = "/api/v1/videos/{id}/position", tag = "history", operation_id = "history_save_position", request_body = Position,
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 200, body = Saved), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 404)),
    security(("bearer" = [])))]
pub async fn save_position(
    ctx: web::Data<AppContext>,
    auth: SignedIn,
    path: web::Path<Uuid>,
    body: web::Json<Position>,
) -> Result<HttpResponse, ApiError> {
    let at = body.position_ms.ok_or_else(|| {
        kadr_core::DomainError::invalid("position_ms", "Give the position in milliseconds")
    })?;
    let saved = history::save(&ctx.db, &ctx.config, &auth.user, path.into_inner(), at).await?;
    Ok(HttpResponse::Ok().json(Saved { saved }))
}

fn through() -> Through<'static> {
    Through {
        from: "watch_history h JOIN videos v ON v.id = h.video_id
               JOIN channels c ON c.id = v.channel_id",
        sort_at: "h.watched_at",
        id: "h.video_id",
    }
}

/// My watch history, latest first, each with where I stopped (videos I may no longer see are
/// left out).
#[utoipa::path(get, path = "/api/v1/me/history", tag = "history", operation_id = "history_list", params(PageQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn list(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: SignedIn,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    history_page(&ctx, &api, &auth, &req, &q, false).await
}

/// Videos I started and did not finish, latest first.
#[utoipa::path(get, path = "/api/v1/me/continue-watching", tag = "history", operation_id = "history_continue_watching", params(PageQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn continue_watching(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: SignedIn,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    history_page(&ctx, &api, &auth, &req, &q, true).await
}

async fn history_page(
    ctx: &AppContext,
    api: &Api,
    auth: &SignedIn,
    req: &HttpRequest,
    q: &PageQuery,
    unfinished: bool,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let viewer = auth.viewer();
    let mut values: Vec<sea_orm::Value> = vec![auth.user.id.into()];
    let visible = visible_sql(&viewer, &mut values);
    let extra = if unfinished {
        format!(" AND {}", history::UNFINISHED_SQL)
    } else {
        String::new()
    };
    let filter = format!("h.user_id = $1 AND {visible}{extra}");
    let page = through()
        .page_with(
            ctx,
            api,
            req,
            &viewer,
            &filter,
            values,
            q.cursor.as_deref(),
            limit,
            &[(NO_RESUME, "h.position_ms AS resume_ms")],
        )
        .await?;
    Ok(private_page(&page))
}

/// Clears my watch history.
#[utoipa::path(delete, path = "/api/v1/me/history", tag = "history", operation_id = "history_clear",
    responses((status = 204), (status = 401)), security(("bearer" = [])))]
pub async fn clear(ctx: web::Data<AppContext>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    history::clear(&ctx.db, auth.user.id).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Takes one video out of my history.
#[utoipa::path(delete, path = "/api/v1/me/history/{video}", tag = "history", operation_id = "history_remove",
    params(("video" = Uuid, Path, description = "Video id")),
    responses((status = 204), (status = 401), (status = 404, description = "Not a video id")), security(("bearer" = [])))]
pub async fn remove(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    history::remove(&ctx.db, auth.user.id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Paused {
    /// While paused, nothing I watch is recorded (and nothing resumes).
    pub paused: bool,
}

/// Pauses or resumes my watch history.
#[utoipa::path(put, path = "/api/v1/me/history/paused", tag = "history", operation_id = "history_pause", request_body = Paused,
    responses((status = 200, body = Paused), (status = 400, content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn pause(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    body: web::Json<Paused>,
) -> Result<HttpResponse, ApiError> {
    history::set_paused(&ctx.db, auth.user.id, body.paused).await?;
    kadr_http::auth::forget_user(auth.user.id);
    Ok(HttpResponse::Ok().json(Paused {
        paused: body.paused,
    }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RelatedQuery {
    /// Videos to leave out (what the viewer just watched), comma-separated ids, at most 50.
    pub exclude: Option<String>,
    /// 1 to 50, default 20.
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<u32>,
}

/// The channel's newest videos considered.
const FROM_CHANNEL: i64 = 8;
/// The latest videos of a signed-in caller's history left out ("just watched").
const JUST_WATCHED: i64 = 5;

/// Videos related to one: a few of its channel's newest, then those whose titles and tags
/// share the most words with it; without it, and without what the caller just watched (given
/// in `exclude`, and the 5 latest of a signed-in caller's history).
#[utoipa::path(get, path = "/api/v1/videos/{id}/related", tag = "history", operation_id = "history_related",
    params(("id" = Uuid, Path, description = "Video id"), RelatedQuery),
    responses((status = 200, body = VideoPage), (status = 400, content_type = "application/problem+json"), (status = 404)))]
pub async fn related(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    q: web::Query<RelatedQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = i64::from(q.limit.unwrap_or(20));
    if !(1..=50).contains(&limit) {
        return Err(
            ApiError::bad_request(kadr_core::Code::InvalidLimit, "limit is 1 to 50").field("limit"),
        );
    }
    let mut exclude: Vec<Uuid> = Vec::new();
    if let Some(list) = q.exclude.as_deref().filter(|l| !l.is_empty()) {
        for id in list.split(',').take(50) {
            exclude.push(id.trim().parse().map_err(|_| {
                kadr_core::DomainError::invalid(
                    "exclude",
                    "exclude holds video ids, comma-separated",
                )
            })?);
        }
    }
    let viewer = user.viewer();
    let id = path.into_inner();
    let (ctx, api, req) = (&ctx, &api, &req);
    let make = |viewer: kadr_core::visibility::Viewer| {
        let mut exclude = exclude.clone();
        async move {
            let video = visible_row(ctx, id, &viewer).await?;
            exclude.push(video.id);
            if let Some(u) = viewer.user {
                let recent = ctx
                    .db
                    .query_all_raw(crate::model::stmt(
                        format!(
                            "SELECT video_id FROM watch_history WHERE user_id = $1
                             ORDER BY watched_at DESC LIMIT {JUST_WATCHED}"
                        ),
                        vec![u.into()],
                    ))
                    .await?;
                for r in recent {
                    exclude.push(r.try_get("", "video_id")?);
                }
            }
            let similar = kadr_core::related::stored(&ctx.db, video.id).await?;
            let found = rows(
                ctx,
                related_sql(limit),
                vec![video.channel_id.into(), similar.into(), exclude.into()],
            )
            .await?;
            Ok(page(found, limit as u64, &viewer, api, req, |_| {
                crate::cursor::Cursor::Seq { n: 0 }
            }))
        }
    };
    // Anonymous viewers share the answer through the page cache (the watch page of a popular
    // video asks for it with every view); signed-in ones leave their own history out.
    if viewer.user.is_none() {
        return crate::page_cache::cached(api, &viewer, req, make).await;
    }
    let page = make(viewer).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(page))
}

/// The related videos' query: `$1` the channel, `$2` the stored list, `$3` what to leave out.
fn related_sql(limit: i64) -> String {
    format!(
        "WITH own AS (
             SELECT v.id, 0 AS part, row_number() OVER () AS n FROM (
                 SELECT v.id FROM videos v WHERE v.channel_id = $1 AND {LISTED}
                 AND NOT v.id = ANY($3) ORDER BY v.published_at DESC, v.id DESC LIMIT {FROM_CHANNEL}) v
         ),
         alike AS (
             SELECT s.id, 1 AS part, s.n FROM unnest($2::uuid[]) WITH ORDINALITY AS s(id, n)
             WHERE NOT s.id = ANY($3) AND s.id NOT IN (SELECT id FROM own)
         ),
         picked AS (
             SELECT id, part, n FROM (
                 SELECT * FROM own WHERE n <= 4
                 UNION ALL SELECT * FROM alike
                 UNION ALL SELECT * FROM own WHERE n > 4
             ) a
         )
         SELECT {COLUMNS} FROM picked p JOIN videos v ON v.id = p.id
             JOIN channels c ON c.id = v.channel_id
         WHERE {LISTED}
         ORDER BY (CASE WHEN p.part = 0 AND p.n <= 4 THEN 0 WHEN p.part = 1 THEN 1 ELSE 2 END), p.n
         LIMIT {limit}"
    )
}
