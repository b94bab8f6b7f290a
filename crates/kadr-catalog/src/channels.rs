//! Channels: a channel by its handle (about: subscribers, views, links, pictures), its listed
//! videos and shorts, creating, editing and deleting channels, subscriptions, and my channels.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use kadr_core::channels::{ChannelFields, Link};
use kadr_core::visibility::LISTED;
use kadr_http::auth::{AuthUser, MaybeUser, SignedIn};
use kadr_http::{ApiError, AppContext};
use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cursor::{self, Cursor};
use crate::listing::{PageQuery, by_time, db_err, listing, time_after};
use crate::model::{VideoPage, stmt};
use crate::{Api, base_url};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/channels", web::post().to(create))
        .route("/api/v1/channels/{handle}", web::get().to(channel))
        .route("/api/v1/channels/{handle}", web::patch().to(update))
        .route("/api/v1/channels/{handle}", web::delete().to(delete))
        .route(
            "/api/v1/channels/{handle}/videos",
            web::get().to(channel_videos),
        )
        .route(
            "/api/v1/channels/{handle}/subscription",
            web::put().to(subscribe),
        )
        .route(
            "/api/v1/channels/{handle}/subscription",
            web::delete().to(unsubscribe),
        )
        .route("/api/v1/me/channels", web::get().to(my_channels))
        .route("/api/v1/me/subscriptions", web::get().to(my_subscriptions));
}

/// A link on a channel's page.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkJson {
    /// 1 to 60 characters.
    #[schema(max_length = 60)]
    pub title: String,
    /// An `http://` or `https://` address.
    #[schema(max_length = 500)]
    pub url: String,
}

/// A channel's picture in two sizes.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Picture {
    pub url: String,
    pub small: Option<String>,
}

/// A channel, as its page shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelJson {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub description: String,
    pub links: Vec<LinkJson>,
    pub created_at: DateTime<FixedOffset>,
    /// Subscribers, counted every `community.fold_interval_ms`.
    pub subscribers: i64,
    /// Views of its videos.
    pub views: i64,
    /// Square, 256 px (small: 88 px).
    pub avatar: Option<Picture>,
    /// 2048 × 340 px (small: 1024 × 170).
    pub banner: Option<Picture>,
    /// Whether the caller is subscribed (signed-in callers only).
    pub subscribed: Option<bool>,
    /// Whether the caller owns it.
    pub mine: bool,
    /// Who owns it (to block them, to report them).
    pub owner: ChannelOwner,
}

/// The owner of a channel.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelOwner {
    pub id: Uuid,
    pub username: String,
}

#[derive(Debug, FromQueryResult)]
struct ChannelRow {
    id: Uuid,
    owner_id: Uuid,
    handle: String,
    display_name: String,
    description: String,
    links: serde_json::Value,
    created_at: DateTime<FixedOffset>,
    subscriber_count: i64,
    view_count: i64,
    images: Option<serde_json::Value>,
    subscribed: Option<bool>,
    sort_at: Option<DateTime<FixedOffset>>,
    owner_name: String,
}

/// The columns of a channel as [`ChannelJson`] needs them; `$1` is the caller (or NULL).
const CHANNEL_COLUMNS: &str = "c.id, c.owner_id, c.handle, c.display_name, c.description,
    c.links, c.created_at, c.subscriber_count, c.view_count,
    (SELECT u.username FROM users u WHERE u.id = c.owner_id) AS owner_name,
    (SELECT jsonb_object_agg(i.image, i.version) FROM channel_images i WHERE i.channel_id = c.id)
        AS images,
    CASE WHEN $1::uuid IS NULL THEN NULL
         ELSE EXISTS (SELECT 1 FROM subscriptions s WHERE s.user_id = $1 AND s.channel_id = c.id)
    END AS subscribed";

impl ChannelRow {
    fn json(self, base: &str, me: Option<Uuid>) -> ChannelJson {
        let version = |image: &str| {
            self.images
                .as_ref()
                .and_then(|i| i.get(image))
                .and_then(serde_json::Value::as_i64)
        };
        let url =
            |image: &str, v: i64| format!("{base}/media/channels/{}/{image}.jpg?v={v}", self.id);
        let picture = |large: &str, small: &str| {
            version(large).map(|v| Picture {
                url: url(large, v),
                small: version(small).map(|s| url(small, s)),
            })
        };
        ChannelJson {
            avatar: picture("avatar", "avatar_small"),
            banner: picture("banner", "banner_small"),
            id: self.id,
            handle: self.handle,
            display_name: self.display_name,
            description: self.description,
            links: serde_json::from_value(self.links).unwrap_or_default(),
            created_at: self.created_at,
            subscribers: self.subscriber_count.max(0),
            views: self.view_count.max(0),
            subscribed: self.subscribed,
            mine: me == Some(self.owner_id),
            owner: ChannelOwner {
                id: self.owner_id,
                username: self.owner_name,
            },
        }
    }
}

fn caller(user: &MaybeUser) -> Option<Uuid> {
    user.0.as_ref().map(|a| a.user.id)
}

async fn find(ctx: &AppContext, handle: &str, me: Option<Uuid>) -> Result<ChannelRow, ApiError> {
    if !kadr_core::fields::could_name(handle) {
        return Err(ApiError::not_found());
    }
    ChannelRow::find_by_statement(stmt(
        format!(
            "SELECT {CHANNEL_COLUMNS}, NULL::timestamptz AS sort_at FROM channels c
             WHERE lower(c.handle) = lower($2) AND c.deleting_at IS NULL AND NOT c.withheld"
        ),
        vec![me.into(), handle.into()],
    ))
    .one(&ctx.db)
    .await
    .map_err(db_err)?
    .ok_or_else(ApiError::not_found)
}

async fn by_id(ctx: &AppContext, id: Uuid, me: Option<Uuid>) -> Result<ChannelRow, ApiError> {
    ChannelRow::find_by_statement(stmt(
        format!(
            "SELECT {CHANNEL_COLUMNS}, NULL::timestamptz AS sort_at FROM channels c
             WHERE c.id = $2 AND c.deleting_at IS NULL AND NOT c.withheld"
        ),
        vec![me.into(), id.into()],
    ))
    .one(&ctx.db)
    .await
    .map_err(db_err)?
    .ok_or_else(ApiError::not_found)
}

/// A channel: about (subscribers, views, joined), links and pictures.
#[utoipa::path(get, path = "/api/v1/channels/{handle}", tag = "channels",
    params(("handle" = String, Path, description = "Channel handle")),
    responses((status = 200, body = ChannelJson), (status = 404)))]
pub async fn channel(
    ctx: web::Data<AppContext>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let me = caller(&user);
    let row = find(&ctx, &path, me).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(row.json(&base_url(&req), me)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ChannelVideosQuery {
    /// `all` (default), `videos` (no shorts) or `shorts`.
    pub kind: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A channel's listed videos, newest first: all of them, or its videos or its shorts.
#[utoipa::path(get, path = "/api/v1/channels/{handle}/videos", tag = "channels",
    params(("handle" = String, Path, description = "Channel handle"), ChannelVideosQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad kind, cursor or limit", content_type = "application/problem+json"), (status = 404)))]
pub async fn channel_videos(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<ChannelVideosQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let kind = match q.kind.as_deref() {
        None | Some("all") => "",
        Some("videos") => " AND NOT v.is_short",
        Some("shorts") => " AND v.is_short",
        Some(_) => {
            return Err(ApiError::bad_request(
                kadr_core::Code::InvalidQuery,
                "kind is all, videos or shorts",
            )
            .field("kind"));
        }
    };
    let ch = kadr_core::channels::by_handle(&ctx.db, &path).await?;
    let mut values: Vec<sea_orm::Value> = vec![ch.id.into()];
    let after = time_after(q.cursor.as_deref(), "v.published_at", &mut values)?;
    let filter = format!("v.channel_id = $1 AND {LISTED}{kind}{after}");
    let order = "v.published_at DESC, v.id DESC";
    let viewer = user.viewer();
    let page = listing(
        &ctx, &api, &req, &viewer, &filter, order, values, limit, by_time,
    )
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

/// A new channel.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelCreate {
    /// Its address: `/c/{handle}`. Letters of any script, digits, `_`, `.`, `-`.
    #[schema(schema_with = kadr_http::schema::handle)]
    pub handle: String,
    /// Defaults to the handle.
    #[schema(schema_with = kadr_http::schema::display_name_given)]
    pub display_name: Option<String>,
    #[schema(schema_with = kadr_http::schema::channel_description_given)]
    pub description: Option<String>,
    /// At most 5.
    #[schema(max_items = 5)]
    pub links: Option<Vec<LinkJson>>,
}

/// What may be changed of a channel: any subset of these.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChannelPatch {
    #[schema(schema_with = kadr_http::schema::handle_given)]
    pub handle: Option<String>,
    #[schema(schema_with = kadr_http::schema::display_name_given)]
    pub display_name: Option<String>,
    #[schema(schema_with = kadr_http::schema::channel_description_given)]
    pub description: Option<String>,
    #[schema(max_items = 5)]
    pub links: Option<Vec<LinkJson>>,
}

fn links(given: Option<&Vec<LinkJson>>) -> Option<Vec<Link>> {
    given.map(|l| {
        l.iter()
            .map(|l| Link {
                title: l.title.clone(),
                url: l.url.clone(),
            })
            .collect()
    })
}

/// Creates a channel (at most `community.max_channels` per user).
#[utoipa::path(post, path = "/api/v1/channels", tag = "channels", operation_id = "create_channel", request_body = ChannelCreate,
    responses((status = 201, body = ChannelJson), (status = 400, content_type = "application/problem+json"), (status = 401),
        (status = 409, description = "Handle taken, or too many channels", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    body: web::Json<ChannelCreate>,
) -> Result<HttpResponse, ApiError> {
    let links = links(body.links.as_ref());
    let fields = ChannelFields {
        handle: Some(&body.handle),
        display_name: body.display_name.as_deref(),
        description: body.description.as_deref(),
        links: links.as_deref(),
    };
    let id = kadr_core::channels::create(&ctx.db, &ctx.config, &auth.user, &fields).await?;
    let me = Some(auth.user.id);
    let row = by_id(&ctx, id, me).await?;
    Ok(HttpResponse::Created().json(row.json(&base_url(&req), me)))
}

/// Edits a channel (its owner or an admin).
#[utoipa::path(patch, path = "/api/v1/channels/{handle}", tag = "channels", operation_id = "update_channel",
    params(("handle" = String, Path, description = "Channel handle")), request_body = ChannelPatch,
    responses((status = 200, body = ChannelJson), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 404),
        (status = 409, description = "Handle taken", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Json<ChannelPatch>,
) -> Result<HttpResponse, ApiError> {
    let links = links(body.links.as_ref());
    let fields = ChannelFields {
        handle: body.handle.as_deref(),
        display_name: body.display_name.as_deref(),
        description: body.description.as_deref(),
        links: links.as_deref(),
    };
    let id = kadr_core::channels::update(&ctx.db, &auth.user, &path, &fields).await?;
    let me = Some(auth.user.id);
    let row = by_id(&ctx, id, me).await?;
    Ok(HttpResponse::Ok().json(row.json(&base_url(&req), me)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteQuery {
    /// The channel's handle again: deleting removes every video of the channel.
    pub confirm: Option<String>,
}

/// Deletes a channel and all its videos (its owner or an admin; not the owner's last
/// channel). The channel disappears at once; its videos are removed by a job.
#[utoipa::path(delete, path = "/api/v1/channels/{handle}", tag = "channels", operation_id = "delete_channel",
    params(("handle" = String, Path, description = "Channel handle"), DeleteQuery),
    responses((status = 202, description = "Deletion started"), (status = 400, description = "`confirm` missing or wrong", content_type = "application/problem+json"), (status = 401), (status = 404),
        (status = 409, description = "The owner's last channel", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn delete(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<String>,
    q: web::Query<DeleteQuery>,
) -> Result<HttpResponse, ApiError> {
    kadr_core::channels::delete(
        &ctx.db,
        &ctx.config,
        &auth.user,
        &path,
        q.confirm.as_deref(),
    )
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

/// Whether the caller is subscribed, and the channel's count.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionJson {
    pub subscribed: bool,
    /// The channel's subscribers as last counted, with this change.
    pub subscribers: i64,
}

async fn subscription(
    ctx: &AppContext,
    auth: &AuthUser,
    handle: &str,
    on: bool,
) -> Result<HttpResponse, ApiError> {
    let ch = kadr_core::channels::by_handle(&ctx.db, handle).await?;
    let changed = if on {
        kadr_core::subscriptions::subscribe(&ctx.db, &ctx.config, &auth.user, &ch).await?
    } else {
        kadr_core::subscriptions::unsubscribe(&ctx.db, &ctx.config, &auth.user, &ch).await?
    };
    let row = by_id(ctx, ch.id, Some(auth.user.id)).await?;
    let change = match (changed, on) {
        (false, _) => 0,
        (true, true) => 1,
        (true, false) => -1,
    };
    Ok(HttpResponse::Ok().json(SubscriptionJson {
        subscribed: on,
        subscribers: (row.subscriber_count + change).max(0),
    }))
}

/// Subscribes to a channel (idempotent).
#[utoipa::path(put, path = "/api/v1/channels/{handle}/subscription", tag = "channels", operation_id = "subscribe",
    params(("handle" = String, Path, description = "Channel handle")),
    responses((status = 200, body = SubscriptionJson), (status = 401), (status = 404),
        (status = 409, description = "One's own channel", content_type = "application/problem+json"),
        (status = 429, description = "Too many changes", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn subscribe(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    subscription(&ctx, &auth, &path, true).await
}

/// Unsubscribes from a channel (idempotent).
#[utoipa::path(delete, path = "/api/v1/channels/{handle}/subscription", tag = "channels", operation_id = "unsubscribe",
    params(("handle" = String, Path, description = "Channel handle")),
    responses((status = 200, body = SubscriptionJson), (status = 401), (status = 404),
        (status = 429, description = "Too many changes", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn unsubscribe(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    subscription(&ctx, &auth, &path, false).await
}

/// A list of channels.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelList {
    pub items: Vec<ChannelJson>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// My channels, oldest first (the first is where uploads go by default).
#[utoipa::path(get, path = "/api/v1/me/channels", tag = "channels",
    responses((status = 200, body = ChannelList), (status = 401)), security(("bearer" = [])))]
pub async fn my_channels(
    ctx: web::Data<AppContext>,
    auth: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let me = Some(auth.user.id);
    let rows = ChannelRow::find_by_statement(stmt(
        format!(
            "SELECT {CHANNEL_COLUMNS}, NULL::timestamptz AS sort_at FROM channels c
             WHERE c.owner_id = $1 AND c.deleting_at IS NULL ORDER BY c.created_at, c.id"
        ),
        vec![me.into()],
    ))
    .all(&ctx.db)
    .await
    .map_err(db_err)?;
    let base = base_url(&req);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(ChannelList {
            items: rows.into_iter().map(|r| r.json(&base, me)).collect(),
            next_cursor: None,
        }))
}

/// The channels I am subscribed to, latest first.
#[utoipa::path(get, path = "/api/v1/me/subscriptions", tag = "channels", params(PageQuery),
    responses((status = 200, body = ChannelList), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn my_subscriptions(
    ctx: web::Data<AppContext>,
    auth: SignedIn,
    req: HttpRequest,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let me = Some(auth.user.id);
    let mut values: Vec<sea_orm::Value> = vec![me.into()];
    let after = Cursor::after(
        q.cursor.as_deref(),
        "time",
        "s.created_at",
        "s.channel_id",
        "<",
        &mut values,
    )?;
    let rows = ChannelRow::find_by_statement(stmt(
        format!(
            "SELECT {CHANNEL_COLUMNS}, s.created_at AS sort_at
             FROM subscriptions s JOIN channels c ON c.id = s.channel_id
             WHERE s.user_id = $1 AND c.deleting_at IS NULL AND NOT c.withheld{after}
             ORDER BY s.created_at DESC, s.channel_id DESC LIMIT {}",
            limit + 1
        ),
        values,
    ))
    .all(&ctx.db)
    .await
    .map_err(db_err)?;
    let (rows, next_cursor) = cursor::split(rows, limit, |r| {
        r.sort_at.map(|t| Cursor::Time { t, id: r.id })
    });
    let base = base_url(&req);
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(ChannelList {
            items: rows.into_iter().map(|r| r.json(&base, me)).collect(),
            next_cursor,
        }))
}
