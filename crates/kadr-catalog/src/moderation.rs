//! The moderation queue. With `moderation.require_review` (the default), videos of unverified
//! users wait as `pending`; verified users', moderators' and admins' are approved when
//! created. Moderators and admins approve or reject (with a reason the owner sees); every
//! decision is kept in `moderation_decisions` with who and when.

use actix_web::{HttpRequest, HttpResponse, web};
use kadr_core::Code;
use kadr_core::review::Decision as DecisionRule;
use kadr_core::state::{Moderation as ModerationState, Privacy};
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use sea_orm::TransactionTrait;
use serde::Deserialize;
use uuid::Uuid;

use crate::cursor::{self, Cursor};
use crate::listing::{PageQuery, listing, private_page, visible_row};
use crate::model::{VideoJson, VideoPage};
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

/// Moderators and administrators only (403 otherwise).
pub(crate) fn require_moderator(auth: &AuthUser) -> Result<(), ApiError> {
    if auth.user.is_moderator() {
        Ok(())
    } else {
        Err(ApiError::new(
            Code::Forbidden,
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
        String::new()
    } else {
        format!(" AND v.privacy <> '{}'", Privacy::Private.as_str())
    };
    let filter = format!(
        "v.moderation = '{}'{private}{after}",
        ModerationState::Pending.as_str()
    );
    let oldest_first = |r: &crate::model::VideoRow| Cursor::Time {
        t: r.created_at,
        id: r.id,
    };
    let viewer = auth.viewer();
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
    #[schema(schema_with = kadr_http::schema::reason_given)]
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/moderation/videos/{id}/approve", tag = "moderation",
    params(("id" = Uuid, Path, description = "Video id")), request_body(content = Option<Decision>, description = "Optional"),
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
        ModerationState::Approved,
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
        ModerationState::Rejected,
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
    decision: ModerationState,
    reason: Option<String>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(auth)?;
    let viewer = auth.viewer();
    // Moderators decide on what they can see: not private videos (admins excepted), and
    // nothing is approved before its media is complete.
    let row = visible_row(ctx, id, &viewer).await?;
    let decision = DecisionRule::check(decision, reason.as_deref(), row.status)?;
    let tx = ctx.db.begin().await?;
    decision.record(&tx, &ctx.config, &auth.user, id).await?;
    tx.commit().await?;
    api.access.forget(id);
    tracing::info!(video = %id, by = %auth.user.id, decision = %decision.decision, "moderation decision");
    let row = visible_row(ctx, id, &viewer).await?;
    Ok(HttpResponse::Ok().json(VideoJson::of(row, &viewer, api, &base_url(req))))
}
