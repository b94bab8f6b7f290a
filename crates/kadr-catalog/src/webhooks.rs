//! Webhook endpoints under `/api/v1/webhooks`: a signed-in user registers URLs that hear what
//! happens to their videos (administrators may register endpoints hearing every user's,
//! `all_users`). Each endpoint is its owner's alone: anyone else gets 404. The URL passes the
//! outbound guard here (400 `url_not_allowed`) and again when the worker connects. The rules
//! are in `kadr_core::webhooks`.

use actix_web::http::header;
use actix_web::{HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use kadr_core::Code;
use kadr_core::webhooks::{self, Delivery, Endpoint, NewEndpoint, Patch};
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cursor::{self, Cursor};
use crate::listing::PageQuery;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/webhooks", web::post().to(create))
        .route("/api/v1/webhooks", web::get().to(list))
        .route("/api/v1/webhooks/{id}", web::get().to(show))
        .route("/api/v1/webhooks/{id}", web::patch().to(update))
        .route("/api/v1/webhooks/{id}", web::delete().to(delete))
        .route("/api/v1/webhooks/{id}/rotate", web::post().to(rotate))
        .route("/api/v1/webhooks/{id}/ping", web::post().to(ping))
        .route(
            "/api/v1/webhooks/{id}/deliveries",
            web::get().to(deliveries),
        )
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver",
            web::post().to(redeliver),
        );
}

/// A webhook endpoint (its secret is shown only when it is made, and when rotated).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointJson {
    pub id: Uuid,
    pub url: String,
    pub description: String,
    /// Event types it hears, or `["*"]` for all.
    pub events: Vec<String>,
    /// Hears every user's events (administrators' endpoints only).
    pub all_users: bool,
    pub enabled: bool,
    /// Why it was disabled (by its owner, or after failing for too long).
    pub disabled_reason: Option<String>,
    pub disabled_at: Option<DateTime<FixedOffset>>,
    /// Who disabled it: `owner`, or `failures` (Kadr, after every attempt failed for
    /// `webhooks.disable_after_secs`); null while enabled.
    #[schema(schema_with = kadr_http::schema::webhook_disabled_by)]
    pub disabled_by: Option<String>,
    /// Since when every attempt to reach it has failed (none while deliveries arrive).
    pub failing_since: Option<DateTime<FixedOffset>>,
    /// After a rotation: until when deliveries carry a second signature by the previous secret.
    pub previous_secret_until: Option<DateTime<FixedOffset>>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

impl From<Endpoint> for EndpointJson {
    fn from(e: Endpoint) -> Self {
        EndpointJson {
            id: e.id,
            url: e.url,
            description: e.description,
            events: e.events,
            all_users: e.all_users,
            enabled: e.enabled,
            disabled_reason: e.disabled_reason,
            disabled_at: e.disabled_at,
            disabled_by: e.disabled_by,
            failing_since: e.failing_since,
            previous_secret_until: e.previous_secret_until,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

/// An endpoint with its secret: keep it, it is not shown again.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointWithSecret {
    #[serde(flatten)]
    pub endpoint: EndpointJson,
    /// `whsec_` and 32 random bytes (base64url): the key of the `Kadr-Signature` HMAC.
    pub secret: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EndpointList {
    pub items: Vec<EndpointJson>,
}

/// A new endpoint.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// `http://` or `https://`; internal addresses are refused unless `outbound.allow` lets
    /// them through.
    #[schema(max_length = 2048, example = "https://cms.example.org/hooks/kadr")]
    pub url: String,
    /// Event types to hear (see the README), or `["*"]` (the default) for all.
    #[serde(default)]
    pub events: Option<Vec<String>>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub description: Option<String>,
    /// Hear every user's events (administrators only).
    #[serde(default)]
    pub all_users: bool,
}

/// What to change; what is left out stays.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatchBody {
    #[schema(max_length = 2048)]
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// `true` enables it again (its failures forgotten); `false` disables it and fails its
    /// pending deliveries.
    pub enabled: Option<bool>,
    #[schema(max_length = 500)]
    pub description: Option<String>,
}

/// One event sent to an endpoint: the delivery log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryJson {
    pub id: Uuid,
    /// The event's id (`Kadr-Event-Id`): the same on every delivery of the event.
    pub event_id: Uuid,
    #[schema(schema_with = kadr_http::schema::webhook_event)]
    pub event_type: String,
    /// `pending` (being attempted, or waiting for its next attempt), `delivered` or `failed`.
    #[schema(schema_with = kadr_http::schema::delivery_state)]
    pub state: String,
    pub attempts: i32,
    /// The HTTP status of the last attempt, when it got an answer.
    pub last_status: Option<i32>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    /// How long the last attempt took.
    pub last_duration_ms: Option<i32>,
    pub created_at: DateTime<FixedOffset>,
    pub last_attempt_at: Option<DateTime<FixedOffset>>,
    pub next_attempt_at: Option<DateTime<FixedOffset>>,
    pub delivered_at: Option<DateTime<FixedOffset>>,
    /// The delivery this one repeats (a manual redelivery).
    pub redelivery_of: Option<Uuid>,
}

impl From<Delivery> for DeliveryJson {
    fn from(d: Delivery) -> Self {
        DeliveryJson {
            id: d.id,
            event_id: d.event_id,
            event_type: d.event_type.as_str().to_owned(),
            state: d.state.as_str().to_owned(),
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            last_duration_ms: d.last_duration_ms,
            created_at: d.created_at,
            last_attempt_at: d.last_attempt_at,
            next_attempt_at: d.next_attempt_at,
            delivered_at: d.delivered_at,
            redelivery_of: d.redelivery_of,
        }
    }
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<DeliveryJson>,
    pub next_cursor: Option<String>,
}

/// The URL as the outbound guard allows it (400 `url_not_allowed` otherwise).
fn guarded(ctx: &AppContext, url: &str) -> Result<String, ApiError> {
    webhooks::check_url_length(url.trim())?;
    let policy = kadr_outbound::Policy::from_config(&ctx.config.outbound);
    let url = kadr_outbound::check_url(&policy, url)
        .map(|u| u.to_string())
        .map_err(|why| {
            ApiError::bad_request(Code::UrlNotAllowed, "Webhooks cannot be sent to this URL")
                .detail(why.to_string())
                .field("url")
        })?;
    // Written out (percent-encoded, punycode) it may have grown.
    webhooks::check_url_length(&url)?;
    Ok(url)
}

fn private(mut r: actix_web::HttpResponseBuilder) -> actix_web::HttpResponseBuilder {
    r.insert_header((header::CACHE_CONTROL, "private, no-store"));
    r
}

/// Registers an endpoint; the answer holds its secret, shown this once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "create_webhook",
    request_body = CreateBody,
    responses((status = 201, body = EndpointWithSecret),
        (status = 400, description = "A field is refused, or the URL is not one Kadr sends to (`url_not_allowed`)", content_type = "application/problem+json"),
        (status = 401, content_type = "application/problem+json"),
        (status = 403, description = "`all_users` by someone who is not an administrator", content_type = "application/problem+json"),
        (status = 409, description = "`too_many_webhooks`", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    body: web::Json<CreateBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let url = guarded(&ctx, &body.url)?;
    let (endpoint, secret) = webhooks::create(
        &ctx.db,
        &ctx.config,
        &auth.user,
        NewEndpoint {
            url,
            events: body
                .events
                .unwrap_or_else(|| vec![webhooks::ALL_EVENTS.to_owned()]),
            description: body.description.unwrap_or_default(),
            all_users: body.all_users,
        },
    )
    .await?;
    Ok(private(HttpResponse::Created())
        .insert_header((
            header::LOCATION,
            format!("/api/v1/webhooks/{}", endpoint.id),
        ))
        .json(EndpointWithSecret {
            endpoint: endpoint.into(),
            secret,
        }))
}

/// My endpoints, oldest first.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    responses((status = 200, body = EndpointList), (status = 401, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn list(ctx: web::Data<AppContext>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    let items = webhooks::list(&ctx.db, auth.user.id)
        .await?
        .into_iter()
        .map(EndpointJson::from)
        .collect();
    Ok(private(HttpResponse::Ok()).json(EndpointList { items }))
}

/// One of my endpoints.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "show_webhook",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, body = EndpointJson), (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn show(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let e = webhooks::get(&ctx.db, auth.user.id, path.into_inner())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(private(HttpResponse::Ok()).json(EndpointJson::from(e)))
}

/// Changes one of my endpoints: its URL, events, description, or whether it is enabled.
#[utoipa::path(patch, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "update_webhook",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    request_body = PatchBody,
    responses((status = 200, body = EndpointJson),
        (status = 400, description = "A field is refused, or the URL is not one Kadr sends to (`url_not_allowed`)", content_type = "application/problem+json"),
        (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<PatchBody>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let url = body.url.as_deref().map(|u| guarded(&ctx, u)).transpose()?;
    let e = webhooks::update(
        &ctx.db,
        auth.user.id,
        path.into_inner(),
        Patch {
            url,
            events: body.events,
            enabled: body.enabled,
            description: body.description,
        },
    )
    .await?;
    Ok(private(HttpResponse::Ok()).json(EndpointJson::from(e)))
}

/// Removes one of my endpoints and its delivery log.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", operation_id = "delete_webhook",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 204), (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn delete(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    webhooks::delete(&ctx.db, auth.user.id, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A new secret for one of my endpoints (shown this once). The previous one keeps signing
/// too, as a second `v1=` in `Kadr-Signature`, for `webhooks.rotation_overlap_secs` (24 h).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/rotate", tag = "webhooks", operation_id = "rotate_webhook_secret",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 200, body = EndpointWithSecret), (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn rotate(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let (endpoint, secret) =
        webhooks::rotate(&ctx.db, &ctx.config, auth.user.id, path.into_inner()).await?;
    Ok(private(HttpResponse::Ok()).json(EndpointWithSecret {
        endpoint: endpoint.into(),
        secret,
    }))
}

/// Sends a `ping` event to one of my endpoints, to test it; follow it in the delivery log.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/ping", tag = "webhooks", operation_id = "ping_webhook",
    params(("id" = Uuid, Path, description = "Endpoint id")),
    responses((status = 202, description = "The delivery, queued", body = DeliveryJson),
        (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json"),
        (status = 409, description = "`webhook_disabled`", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn ping(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let d = webhooks::ping(&ctx.db, &ctx.config, auth.user.id, path.into_inner()).await?;
    Ok(private(HttpResponse::Accepted()).json(DeliveryJson::from(d)))
}

/// The delivery log of one of my endpoints, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", operation_id = "list_webhook_deliveries",
    params(("id" = Uuid, Path, description = "Endpoint id"), PageQuery),
    responses((status = 200, body = DeliveryPage),
        (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"),
        (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn deliveries(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let limit = cursor::limit(q.limit)?;
    let after = match q.cursor.as_deref().map(Cursor::decode).transpose()? {
        None => None,
        Some(Cursor::Time { t, id }) => Some((t, id)),
        Some(_) => {
            return Err(ApiError::bad_request(
                Code::InvalidCursor,
                "The cursor is for another listing",
            )
            .field("cursor"));
        }
    };
    if webhooks::get(&ctx.db, auth.user.id, id).await?.is_none() {
        return Err(ApiError::not_found());
    }
    let rows = webhooks::deliveries(&ctx.db, auth.user.id, id, after, limit + 1).await?;
    let (rows, next_cursor) = cursor::split(rows, limit, |d| {
        Some(Cursor::Time {
            t: d.created_at,
            id: d.id,
        })
    });
    Ok(private(HttpResponse::Ok()).json(DeliveryPage {
        items: rows.into_iter().map(DeliveryJson::from).collect(),
        next_cursor,
    }))
}

/// Sends a delivery's event again now, as a new delivery with the same event id (also when
/// the first failed for good).
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{delivery}/redeliver", tag = "webhooks",
    operation_id = "redeliver_webhook",
    params(("id" = Uuid, Path, description = "Endpoint id"), ("delivery" = Uuid, Path, description = "Delivery id")),
    responses((status = 202, description = "The new delivery, queued", body = DeliveryJson),
        (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json"),
        (status = 409, description = "`webhook_disabled`", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn redeliver(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, delivery) = path.into_inner();
    let d = webhooks::redeliver(&ctx.db, &ctx.config, auth.user.id, id, delivery).await?;
    Ok(private(HttpResponse::Accepted()).json(DeliveryJson::from(d)))
}
