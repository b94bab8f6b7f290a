//! Channels: a channel by its handle, and its listed videos.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use kadr_core::visibility::LISTED;
use kadr_http::auth::MaybeUser;
use kadr_http::{ApiError, AppContext};
use sea_orm::FromQueryResult;
use serde::Serialize;
use uuid::Uuid;

use crate::Api;
use crate::cursor;
use crate::listing::{PageQuery, by_time, db_err, listing, time_after};
use crate::model::{VideoPage, stmt};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/channels/{handle}", web::get().to(channel))
        .route(
            "/api/v1/channels/{handle}/videos",
            web::get().to(channel_videos),
        );
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
