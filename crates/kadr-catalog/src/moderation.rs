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
use serde::{Deserialize, Serialize};
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
        )
        .route("/api/v1/moderation/batches", web::get().to(batches))
        .route(
            "/api/v1/moderation/batches/{id}/sample",
            web::get().to(batch_sample),
        )
        .route(
            "/api/v1/moderation/batches/{id}/approve",
            web::post().to(approve_batch),
        )
        .route(
            "/api/v1/moderation/batches/{id}/reject",
            web::post().to(reject_batch),
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

/// Videos waiting for a decision, oldest first, but for members of import batches (reviewed as
/// batches). Private videos are shown to admins only.
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
    // Members of import batches are reviewed as batches (`/api/v1/moderation/batches`).
    let filter = format!(
        "v.moderation = '{}'{private}{after}
         AND NOT EXISTS (SELECT 1 FROM imports i WHERE i.video_id = v.id AND i.batch_id IS NOT NULL)",
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

/// An import batch waiting for moderators.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchJson {
    pub id: Uuid,
    pub name: String,
    pub owner: BatchOwner,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    /// Members waiting for a decision.
    pub pending: i64,
    /// Of those, the ones ready to approve now.
    pub ready: i64,
    /// Every member.
    pub total: i64,
    /// Approved as a whole: members are approved as they become ready.
    pub approved_at: Option<chrono::DateTime<chrono::FixedOffset>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchOwner {
    pub id: Uuid,
    pub username: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchPage {
    pub items: Vec<BatchJson>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// 1 to 100 (default 20).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// Import batches with members waiting for a decision, oldest first (their members are not
/// in the video queue).
#[utoipa::path(get, path = "/api/v1/moderation/batches", tag = "moderation", operation_id = "moderation_batches", params(BatchQuery),
    responses((status = 200, body = BatchPage), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn batches(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    q: web::Query<BatchQuery>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(&auth)?;
    let limit = q.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(
            Code::InvalidLimit,
            "limit is from 1 to 100",
        ));
    }
    let rows =
        kadr_core::batches::waiting(&ctx.db, auth.user.is_admin(), q.cursor, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    let items: Vec<BatchJson> = rows
        .into_iter()
        .take(limit as usize)
        .map(|b| BatchJson {
            id: b.id,
            name: b.name,
            owner: BatchOwner {
                id: b.owner_id,
                username: b.owner_username,
            },
            created_at: b.created_at,
            pending: b.pending,
            ready: b.ready,
            total: b.total,
            approved_at: b.approved_at,
        })
        .collect();
    let next_cursor = if more {
        items.last().map(|b| b.id)
    } else {
        None
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(BatchPage { items, next_cursor }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SampleQuery {
    /// How many members to look at (1 to 100, default 10).
    pub size: Option<u64>,
    /// The same seed gives the same sample (default: a new one each time).
    #[param(max_length = 64)]
    pub seed: Option<String>,
}

/// A random sample of a batch's members still pending, to watch before deciding on the whole.
#[utoipa::path(get, path = "/api/v1/moderation/batches/{id}/sample", tag = "moderation", operation_id = "moderation_batch_sample",
    params(("id" = Uuid, Path, description = "Batch id"), SampleQuery),
    responses((status = 200, body = VideoPage), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404, description = "Not a batch id", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn batch_sample(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    q: web::Query<SampleQuery>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(&auth)?;
    let size = q.size.unwrap_or(10);
    if !(1..=100).contains(&size) {
        return Err(ApiError::bad_request(
            Code::InvalidLimit,
            "size is from 1 to 100",
        ));
    }
    let seed = match &q.seed {
        Some(s) if s.len() <= 64 => s.clone(),
        Some(_) => {
            return Err(
                ApiError::bad_request(Code::InvalidField, "A seed is at most 64 bytes")
                    .field("seed"),
            );
        }
        None => Uuid::new_v4().to_string(),
    };
    let mut values = Vec::new();
    let filter = kadr_core::batches::sample_filter(
        path.into_inner(),
        &seed,
        size,
        auth.user.is_admin(),
        &mut values,
    );
    let viewer = auth.viewer();
    let page = listing(
        &ctx,
        &api,
        &req,
        &viewer,
        &filter,
        "v.created_at, v.id",
        values,
        size,
        |r: &crate::model::VideoRow| Cursor::Time {
            t: r.created_at,
            id: r.id,
        },
    )
    .await?;
    Ok(private_page(&page))
}

/// What a decision on a batch did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchDecided {
    /// Members decided now.
    pub decided: i64,
    /// Members still pending: after an approval, those not ready yet (approved as they
    /// become ready).
    pub still_pending: i64,
}

/// Approves a batch: every member ready now, and the others as they become ready.
#[utoipa::path(post, path = "/api/v1/moderation/batches/{id}/approve", tag = "moderation", operation_id = "approve_batch",
    params(("id" = Uuid, Path, description = "Batch id")), request_body(content = Option<Decision>, description = "Optional"),
    responses((status = 200, body = BatchDecided), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn approve_batch(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    body: Option<web::Json<Decision>>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.and_then(|b| b.into_inner().reason);
    decide_batch(
        &ctx,
        &api,
        &auth,
        path.into_inner(),
        ModerationState::Approved,
        reason,
    )
    .await
}

/// Rejects every member of a batch still pending, and the others as they become ready (a reason
/// is required: the owner sees it).
#[utoipa::path(post, path = "/api/v1/moderation/batches/{id}/reject", tag = "moderation", operation_id = "reject_batch",
    params(("id" = Uuid, Path, description = "Batch id")), request_body = Decision,
    responses((status = 200, body = BatchDecided), (status = 400, description = "No reason given", content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn reject_batch(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<Decision>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.into_inner().reason;
    decide_batch(
        &ctx,
        &api,
        &auth,
        path.into_inner(),
        ModerationState::Rejected,
        reason,
    )
    .await
}

async fn decide_batch(
    ctx: &AppContext,
    api: &Api,
    auth: &AuthUser,
    batch: Uuid,
    decision: ModerationState,
    reason: Option<String>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(auth)?;
    let done = kadr_core::batches::decide(
        &ctx.db,
        &ctx.config,
        &auth.user,
        batch,
        decision,
        reason.as_deref(),
    )
    .await?;
    // Media access decided before is looked up again.
    api.access.forget_all();
    tracing::info!(batch = %batch, by = %auth.user.id, decision = %decision, decided = done.decided, "batch moderation decision");
    Ok(HttpResponse::Ok().json(BatchDecided {
        decided: done.decided,
        still_pending: done.still_pending,
    }))
}
