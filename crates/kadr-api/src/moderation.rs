//! The moderation queue. With `moderation.require_review` (the default), videos of unverified
//! users wait as `pending`; verified users', moderators' and admins' are approved when
//! created. Moderators and admins approve or reject (with a reason the owner sees); every
//! decision is kept in `moderation_decisions` with who and when.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use kadr_http::auth::AuthUser;
use kadr_http::review;
use kadr_http::{ApiError, AppContext};
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde::Deserialize;
use uuid::Uuid;

use crate::catalog::{PageQuery, listing, private_page, visible_row};
use crate::cursor::{self, Cursor};
use crate::model::{VideoJson, VideoPage, stmt};
use crate::visibility::Viewer;
use crate::{Api, base_url};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/moderation/queue", web::get().to(queue))
        .route(
            "/api/v1/moderation/videos/{id}/approve",
            web::post().to(approve),
        )
        .route(
            "/api/v1/moderation/videos/{id}/reject",
            web::post().to(reject),
        );
}

fn require_moderator(auth: &AuthUser) -> Result<(), ApiError> {
    if auth.user.is_moderator() {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Moderators and administrators only",
        ))
    }
}

/// Videos waiting for a decision, oldest first. Private videos are shown to admins only.
#[utoipa::path(get, path = "/api/v1/moderation/queue", tag = "moderation", params(PageQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn queue(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(&auth)?;
    let limit = cursor::limit(q.limit)?;
    let mut values: Vec<sea_orm::Value> = Vec::new();
    // Oldest first.
    let after = Cursor::after(
        q.cursor.as_deref(),
        "time",
        "v.created_at",
        "v.id",
        ">",
        &mut values,
    )?;
    let private = if auth.user.is_admin() {
        ""
    } else {
        " AND v.privacy <> 'private'"
    };
    let filter = format!("v.moderation = 'pending'{private}{after}");
    let oldest_first = |r: &crate::model::VideoRow| Cursor::Time {
        t: r.created_at,
        id: r.id,
    };
    let viewer = Viewer::from_auth(&auth);
    let order = "v.created_at, v.id";
    let page = listing(
        &ctx,
        &api,
        &req,
        &viewer,
        &filter,
        order,
        values,
        limit,
        oldest_first,
    );
    Ok(private_page(&page.await?))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// Why: required to reject (shown to the owner), optional to approve.
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/moderation/videos/{id}/approve", tag = "moderation",
    params(("id" = Uuid, Path, description = "Video id")), request_body(content = Decision, description = "Optional"),
    responses((status = 200, body = VideoJson), (status = 403), (status = 404), (status = 409, description = "The video is not ready", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn approve(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: Option<web::Json<Decision>>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.and_then(|b| b.into_inner().reason);
    decide(
        &ctx,
        &api,
        &auth,
        &req,
        path.into_inner(),
        "approved",
        reason,
    )
    .await
}

#[utoipa::path(post, path = "/api/v1/moderation/videos/{id}/reject", tag = "moderation",
    params(("id" = Uuid, Path, description = "Video id")), request_body = Decision,
    responses((status = 200, body = VideoJson), (status = 400, description = "No reason given", content_type = "application/problem+json"), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn reject(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Json<Decision>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.into_inner().reason;
    decide(
        &ctx,
        &api,
        &auth,
        &req,
        path.into_inner(),
        "rejected",
        reason,
    )
    .await
}

async fn decide(
    ctx: &AppContext,
    api: &Api,
    auth: &AuthUser,
    req: &HttpRequest,
    id: Uuid,
    decision: &str,
    reason: Option<String>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(auth)?;
    let viewer = Viewer::from_auth(auth);
    // Moderators decide on what they can see: not private videos (admins excepted), and
    // nothing is approved before its media is complete.
    let row = visible_row(ctx, id, &viewer).await?;
    if decision == review::APPROVED && !review::approvable(&row.status) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "not_ready",
            "Only a video that is ready can be approved: watch it first",
        )
        .detail(format!("status: {}", row.status)));
    }
    let reason = reason
        .map(|r| r.trim().to_owned())
        .filter(|r| !r.is_empty());
    if let Some(r) = &reason {
        kadr_http::fields::plain_text("reason", r, true)?;
    }
    if let Some(r) = &reason
        && r.chars().count() > 1000
    {
        return Err(
            ApiError::bad_request("invalid_field", "A reason has at most 1000 characters")
                .field("reason"),
        );
    }
    if decision == "rejected" && reason.is_none() {
        return Err(ApiError::bad_request(
            "reason_required",
            "Say why the video is rejected: the owner sees it",
        )
        .field("reason"));
    }
    let err = |e: sea_orm::DbErr| ApiError::internal(&e);
    let tx = ctx.db.begin().await.map_err(err)?;
    tx.execute_raw(stmt(
        "UPDATE videos SET moderation = $2, moderation_reason = $3, moderated_by = $4,
             moderated_at = now(), updated_at = now() WHERE id = $1"
            .to_owned(),
        vec![
            id.into(),
            decision.into(),
            reason.clone().into(),
            auth.user.id.into(),
        ],
    ))
    .await
    .map_err(err)?;
    tx.execute_raw(stmt(
        "INSERT INTO moderation_decisions (id, video_id, moderator_id, decision, reason)
         VALUES ($1, $2, $3, $4, $5)"
            .to_owned(),
        vec![
            Uuid::now_v7().into(),
            id.into(),
            auth.user.id.into(),
            decision.into(),
            reason.into(),
        ],
    ))
    .await
    .map_err(err)?;
    tx.commit().await.map_err(err)?;
    api.access.forget(id);
    tracing::info!(video = %id, by = %auth.user.id, decision, "moderation decision");
    let row = visible_row(ctx, id, &viewer).await?;
    Ok(HttpResponse::Ok().json(VideoJson::of(row, &viewer, api, &base_url(req))))
}
