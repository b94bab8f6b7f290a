//! Playlists: create, edit, delete; add, remove and move videos; read them in order (a page
//! of a 5,000-entry playlist reads its index from the position on); "Watch later"; a
//! channel's playlists. Entries a viewer may not see are left out without a trace.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use kadr_core::playlists::{self, Fields, PlaylistRow};
use kadr_core::state::Privacy;
use kadr_core::visibility::{LISTED, Viewer, visible_sql};
use kadr_http::auth::{AuthUser, MaybeUser, SignedIn};
use kadr_http::{ApiError, AppContext};
use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cursor::{self, Cursor};
use crate::listing::{db_err, rows};
use crate::model::{COLUMNS, NO_SEQ, VideoPage, page, stmt};
use crate::{Api, base_url};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/playlists", web::post().to(create))
        .route("/api/v1/playlists/{id}", web::get().to(one))
        .route("/api/v1/playlists/{id}", web::patch().to(update))
        .route("/api/v1/playlists/{id}", web::delete().to(delete))
        .route("/api/v1/playlists/{id}/videos", web::get().to(videos))
        .route("/api/v1/playlists/{id}/videos/{video}", web::put().to(add))
        .route(
            "/api/v1/playlists/{id}/videos/{video}",
            web::delete().to(remove),
        )
        .route(
            "/api/v1/playlists/{id}/videos/{video}/move",
            web::post().to(move_video),
        )
        .route("/api/v1/me/playlists", web::get().to(mine))
        .route("/api/v1/me/watch-later", web::get().to(watch_later))
        .route(
            "/api/v1/channels/{handle}/playlists",
            web::get().to(of_channel),
        )
        .route("/api/v1/moderation/playlists", web::get().to(queue))
        .route(
            "/api/v1/moderation/playlists/{id}/approve",
            web::post().to(approve),
        )
        .route(
            "/api/v1/moderation/playlists/{id}/reject",
            web::post().to(reject),
        );
}

/// Who owns a playlist.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlaylistOwner {
    pub id: Uuid,
    pub username: String,
}

/// A playlist.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlaylistJson {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    #[schema(schema_with = kadr_http::schema::privacy)]
    pub privacy: String,
    /// The built-in "Watch later" (private; cannot be renamed or deleted).
    pub watch_later: bool,
    /// Entries, as its owner sees them (some may be hidden from others).
    pub count: i32,
    pub owner: PlaylistOwner,
    /// The channel it is shown on.
    pub channel_handle: Option<String>,
    /// The poster of its first listed video.
    pub thumbnail: Option<String>,
    /// The caller owns it.
    pub mine: bool,
    /// Its review: an untrusted owner's words wait for a moderator (owner and moderators
    /// only).
    pub moderation: Option<crate::model::Moderation>,
    /// Whether it holds the video asked about (`?video=` on my playlists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contains: Option<bool>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

#[derive(Debug, FromQueryResult)]
struct Row {
    id: Uuid,
    owner_id: Uuid,
    channel_id: Option<Uuid>,
    title: String,
    description: String,
    privacy: Privacy,
    watch_later: bool,
    item_count: i32,
    created_at: DateTime<FixedOffset>,
    updated_at: DateTime<FixedOffset>,
    owner_standing: kadr_core::state::Standing,
    moderation: kadr_core::state::Moderation,
    moderation_reason: Option<String>,
    owner_name: String,
    channel_handle: Option<String>,
    first_listed: Option<Uuid>,
    /// Its poster's stem.
    first_poster: Option<String>,
    contains: Option<bool>,
}

/// What a playlist's card shows beyond the playlist; `$1` is the video asked about (or NULL).
fn columns() -> String {
    format!(
        "{}, u.username AS owner_name,
         (SELECT ch.handle FROM channels ch WHERE ch.id = p.channel_id) AS channel_handle,
         (SELECT v.id FROM playlist_items i JOIN videos v ON v.id = i.video_id
          WHERE i.playlist_id = p.id AND {LISTED} ORDER BY i.position LIMIT 1) AS first_listed,
         (SELECT v.poster FROM playlist_items i JOIN videos v ON v.id = i.video_id
          WHERE i.playlist_id = p.id AND {LISTED} ORDER BY i.position LIMIT 1) AS first_poster,
         CASE WHEN $1::uuid IS NULL THEN NULL
              ELSE EXISTS (SELECT 1 FROM playlist_items i WHERE i.playlist_id = p.id AND i.video_id = $1)
         END AS contains",
        playlists::COLUMNS
    )
}

const FROM: &str = "playlists p JOIN users u ON u.id = p.owner_id";

impl Row {
    fn rule(&self) -> PlaylistRow {
        PlaylistRow {
            id: self.id,
            owner_id: self.owner_id,
            channel_id: self.channel_id,
            title: self.title.clone(),
            description: self.description.clone(),
            privacy: self.privacy,
            watch_later: self.watch_later,
            item_count: self.item_count,
            created_at: self.created_at,
            updated_at: self.updated_at,
            owner_standing: self.owner_standing,
            moderation: self.moderation,
            moderation_reason: self.moderation_reason.clone(),
        }
    }

    fn json(self, base: &str, viewer: &Viewer) -> PlaylistJson {
        PlaylistJson {
            moderation: (viewer.manages(self.owner_id) || viewer.moderator).then(|| {
                crate::model::Moderation {
                    state: self.moderation.as_str().to_owned(),
                    reason: self.moderation_reason.clone(),
                    decided_at: None,
                }
            }),
            mine: viewer.owns(self.owner_id),
            thumbnail: self.first_listed.map(|v| {
                let stem = self
                    .first_poster
                    .as_deref()
                    .unwrap_or(kadr_core::posters::AUTO);
                let file = kadr_core::posters::file(stem, true);
                format!("{base}/media/{v}/images/{file}")
            }),
            id: self.id,
            title: self.title,
            description: self.description,
            privacy: self.privacy.as_str().to_owned(),
            watch_later: self.watch_later,
            count: self.item_count,
            owner: PlaylistOwner {
                id: self.owner_id,
                username: self.owner_name,
            },
            channel_handle: self.channel_handle,
            contains: self.contains,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

async fn fetch(ctx: &AppContext, viewer: &Viewer, id: Uuid) -> Result<Row, ApiError> {
    Row::find_by_statement(stmt(
        format!("SELECT {} FROM {FROM} WHERE p.id = $2", columns()),
        vec![Option::<Uuid>::None.into(), id.into()],
    ))
    .one(&ctx.db)
    .await
    .map_err(db_err)?
    .filter(|r| r.rule().visible_to(viewer))
    .ok_or_else(ApiError::not_found)
}

fn private(json: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(json)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaylistCreate {
    #[schema(schema_with = kadr_http::schema::playlist_title)]
    title: String,
    #[schema(schema_with = kadr_http::schema::playlist_description_given)]
    description: Option<String>,
    /// Default `private`.
    #[schema(schema_with = kadr_http::schema::privacy_given)]
    privacy: Option<String>,
    /// The handle of my channel it is shown on (default: my first).
    #[schema(schema_with = kadr_http::schema::handle_given)]
    channel: Option<String>,
}

fn privacy(given: Option<&str>) -> Result<Option<Privacy>, ApiError> {
    given
        .map(|p| kadr_core::fields::privacy(p).map_err(ApiError::from))
        .transpose()
}

/// Creates a playlist (at most 500 per user).
#[utoipa::path(post, path = "/api/v1/playlists", tag = "playlists", operation_id = "playlist_create", request_body = PlaylistCreate,
    responses((status = 201, body = PlaylistJson), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 409, description = "500 playlists already", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn create(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    body: web::Json<PlaylistCreate>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let id = playlists::create(
        &ctx.db,
        &ctx.config,
        &auth.user,
        &Fields {
            title: Some(&b.title),
            description: b.description.as_deref(),
            privacy: privacy(b.privacy.as_deref())?,
            channel: b.channel.as_deref(),
        },
    )
    .await?;
    let viewer = auth.viewer();
    let row = fetch(&ctx, &viewer, id).await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/playlists/{id}")))
        .json(row.json(&base_url(&req), &viewer)))
}

/// A playlist: public and unlisted ones anyone with the link, private ones their owner.
#[utoipa::path(get, path = "/api/v1/playlists/{id}", tag = "playlists", operation_id = "playlist_one",
    params(("id" = Uuid, Path, description = "Playlist id")),
    responses((status = 200, body = PlaylistJson), (status = 404)))]
pub async fn one(
    ctx: web::Data<AppContext>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.viewer();
    let row = fetch(&ctx, &viewer, path.into_inner()).await?;
    Ok(private(row.json(&base_url(&req), &viewer)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlaylistPatch {
    #[schema(schema_with = kadr_http::schema::playlist_title_given)]
    title: Option<String>,
    #[schema(schema_with = kadr_http::schema::playlist_description_given)]
    description: Option<String>,
    #[schema(schema_with = kadr_http::schema::privacy_given)]
    privacy: Option<String>,
    #[schema(schema_with = kadr_http::schema::handle_given)]
    channel: Option<String>,
}

/// Edits a playlist (its owner). "Watch later" keeps its name and stays private.
#[utoipa::path(patch, path = "/api/v1/playlists/{id}", tag = "playlists", operation_id = "playlist_update", request_body = PlaylistPatch,
    params(("id" = Uuid, Path, description = "Playlist id")),
    responses((status = 200, body = PlaylistJson), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404), (status = 409, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn update(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Json<PlaylistPatch>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let id = path.into_inner();
    playlists::update(
        &ctx.db,
        &ctx.config,
        &auth.user,
        id,
        &Fields {
            title: b.title.as_deref(),
            description: b.description.as_deref(),
            privacy: privacy(b.privacy.as_deref())?,
            channel: b.channel.as_deref(),
        },
    )
    .await?;
    let viewer = auth.viewer();
    let row = fetch(&ctx, &viewer, id).await?;
    Ok(private(row.json(&base_url(&req), &viewer)))
}

/// Deletes a playlist (its owner; not "Watch later").
#[utoipa::path(delete, path = "/api/v1/playlists/{id}", tag = "playlists", operation_id = "playlist_delete",
    params(("id" = Uuid, Path, description = "Playlist id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404), (status = 409, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn delete(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    playlists::delete(&ctx.db, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EntriesQuery {
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A playlist's videos in order (those the caller may not see are left out).
#[utoipa::path(get, path = "/api/v1/playlists/{id}/videos", tag = "playlists", operation_id = "playlist_videos",
    params(("id" = Uuid, Path, description = "Playlist id"), EntriesQuery),
    responses((status = 200, body = VideoPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 404)))]
pub async fn videos(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    q: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let viewer = user.viewer();
    let id = path.into_inner();
    let cursor = q.cursor.clone();
    let (ctx, api, req) = (&ctx, &api, &req);
    let make = |viewer: Viewer| {
        let cursor = cursor.clone();
        async move {
            // The playlist itself first: one the caller may not see has no entries to show.
            playlists::get(&ctx.db, &viewer, id, false).await?;
            let mut values: Vec<sea_orm::Value> = vec![id.into()];
            let after = Cursor::after_pos(cursor.as_deref(), "i.position", &mut values)?;
            let visible = visible_sql(&viewer, &mut values);
            let columns = COLUMNS.replace(NO_SEQ, "i.position AS seq");
            let sql = format!(
                "SELECT {columns} FROM playlist_items i JOIN videos v ON v.id = i.video_id
                 JOIN channels c ON c.id = v.channel_id
                 WHERE i.playlist_id = $1 AND {visible}{after} ORDER BY i.position LIMIT {}",
                limit + 1
            );
            let found = rows(ctx, sql, values).await?;
            Ok(page(found, limit, &viewer, api, req, |r| Cursor::Pos {
                n: r.seq.unwrap_or(0),
            }))
        }
    };
    // Anonymous readers share pages through the page cache (a public playlist read by a
    // crowd costs a query a second); signed-in ones may see entries others do not.
    if viewer.user.is_none() {
        return crate::page_cache::cached(api, &viewer, req, make).await;
    }
    let page = make(viewer).await?;
    Ok(private(page))
}

fn ids(path: web::Path<(Uuid, Uuid)>) -> (Uuid, Uuid) {
    path.into_inner()
}

/// Whether a video is in a playlist.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Entry {
    pub playlist_id: Uuid,
    pub video_id: Uuid,
    /// It was not there before.
    pub added: bool,
}

/// Adds a video (one the caller can see) at the end; one already there stays where it is.
#[utoipa::path(put, path = "/api/v1/playlists/{id}/videos/{video}", tag = "playlists", operation_id = "playlist_add",
    params(("id" = Uuid, Path, description = "Playlist id"), ("video" = Uuid, Path, description = "Video id")),
    responses((status = 200, body = Entry), (status = 401), (status = 403), (status = 404), (status = 409, description = "5,000 videos already", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn add(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, video) = ids(path);
    let added = playlists::add(&ctx.db, &auth.user, id, video).await?;
    Ok(HttpResponse::Ok().json(Entry {
        playlist_id: id,
        video_id: video,
        added,
    }))
}

/// Takes a video out of a playlist.
#[utoipa::path(delete, path = "/api/v1/playlists/{id}/videos/{video}", tag = "playlists", operation_id = "playlist_remove",
    params(("id" = Uuid, Path, description = "Playlist id"), ("video" = Uuid, Path, description = "Video id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn remove(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    let (id, video) = ids(path);
    playlists::remove(&ctx.db, &auth.user, id, video).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Move {
    /// The video it goes right after; `null` puts it first.
    after: Option<Uuid>,
}

/// Moves a video within a playlist.
#[utoipa::path(post, path = "/api/v1/playlists/{id}/videos/{video}/move", tag = "playlists", operation_id = "playlist_move_video", request_body = Move,
    params(("id" = Uuid, Path, description = "Playlist id"), ("video" = Uuid, Path, description = "Video id")),
    responses((status = 204), (status = 400, description = "`after` is not in the playlist", content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn move_video(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<(Uuid, Uuid)>,
    body: web::Json<Move>,
) -> Result<HttpResponse, ApiError> {
    let (id, video) = ids(path);
    playlists::move_item(&ctx.db, &auth.user, id, video, body.after).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// A list of playlists.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlaylistPage {
    pub items: Vec<PlaylistJson>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MineQuery {
    /// Say of each playlist whether it holds this video (`contains`).
    pub video: Option<Uuid>,
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

async fn list(
    ctx: &AppContext,
    req: &HttpRequest,
    viewer: &Viewer,
    filter: &str,
    mut values: Vec<sea_orm::Value>,
    cursor: Option<&str>,
    limit: u64,
) -> Result<PlaylistPage, ApiError> {
    // Watch later first, then the latest changed.
    let after = Cursor::after(cursor, "time", "p.updated_at", "p.id", "<", &mut values)?;
    let found = Row::find_by_statement(stmt(
        format!(
            "SELECT {} FROM {FROM} WHERE {filter}{after}
             ORDER BY p.watch_later DESC, p.updated_at DESC, p.id DESC LIMIT {}",
            columns(),
            limit + 1
        ),
        values,
    ))
    .all(&ctx.db)
    .await
    .map_err(db_err)?;
    let (found, next_cursor) = cursor::split(found, limit, |r| {
        // Watch later heads the first page only: after it, every other playlist follows.
        let t = if r.watch_later {
            DateTime::parse_from_rfc3339("9999-12-31T00:00:00Z").unwrap_or(r.updated_at)
        } else {
            r.updated_at
        };
        Some(Cursor::Time { t, id: r.id })
    });
    let base = base_url(req);
    Ok(PlaylistPage {
        items: found
            .into_iter()
            .filter(|r| r.rule().visible_to(viewer))
            .map(|r| r.json(&base, viewer))
            .collect(),
        next_cursor,
    })
}

/// My playlists, "Watch later" first.
#[utoipa::path(get, path = "/api/v1/me/playlists", tag = "playlists", operation_id = "playlist_mine", params(MineQuery),
    responses((status = 200, body = PlaylistPage), (status = 400, content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn mine(
    ctx: web::Data<AppContext>,
    auth: SignedIn,
    req: HttpRequest,
    q: web::Query<MineQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    playlists::watch_later(&ctx.db, auth.user.id).await?;
    let viewer = auth.viewer();
    let values = vec![q.video.into(), auth.user.id.into()];
    let cursor = q.cursor.as_deref();
    // Watch later comes first on the first page; a cursor continues by time.
    let filter = if cursor.is_some() {
        "p.owner_id = $2 AND NOT p.watch_later"
    } else {
        "p.owner_id = $2"
    };
    let page = list(&ctx, &req, &viewer, filter, values, cursor, limit).await?;
    Ok(private(page))
}

/// My "Watch later" (made the first time it is asked for).
#[utoipa::path(get, path = "/api/v1/me/watch-later", tag = "playlists", operation_id = "playlist_watch_later",
    responses((status = 200, body = PlaylistJson), (status = 401)),
    security(("bearer" = [])))]
pub async fn watch_later(
    ctx: web::Data<AppContext>,
    auth: SignedIn,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let id = playlists::watch_later(&ctx.db, auth.user.id).await?;
    let viewer = auth.viewer();
    let row = fetch(&ctx, &viewer, id).await?;
    Ok(private(row.json(&base_url(&req), &viewer)))
}

/// A channel's public playlists (its owner sees all of theirs shown there).
#[utoipa::path(get, path = "/api/v1/channels/{handle}/playlists", tag = "playlists", operation_id = "playlist_of_channel",
    params(("handle" = String, Path, description = "Channel handle"), EntriesQuery),
    responses((status = 200, body = PlaylistPage), (status = 400, content_type = "application/problem+json"), (status = 404)))]
pub async fn of_channel(
    ctx: web::Data<AppContext>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<String>,
    q: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let ch = kadr_core::channels::by_handle(&ctx.db, &path).await?;
    let viewer = user.viewer();
    let public = Privacy::Public.as_str();
    let approved = kadr_core::state::Moderation::Approved.as_str();
    let filter = if viewer.manages(ch.owner_id) {
        "p.channel_id = $2".to_owned()
    } else {
        format!("p.channel_id = $2 AND p.privacy = '{public}' AND p.moderation = '{approved}'")
    };
    let values = vec![Option::<Uuid>::None.into(), ch.id.into()];
    let page = list(
        &ctx,
        &req,
        &viewer,
        &filter,
        values,
        q.cursor.as_deref(),
        limit,
    )
    .await?;
    Ok(private(page))
}

/// Playlists waiting for review, the longest waiting first (moderators; private ones to
/// admins only).
#[utoipa::path(get, path = "/api/v1/moderation/playlists", tag = "moderation", operation_id = "playlist_queue", params(EntriesQuery),
    responses((status = 200, body = PlaylistPage), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn queue(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    q: web::Query<EntriesQuery>,
) -> Result<HttpResponse, ApiError> {
    crate::moderation::require_moderator(&auth)?;
    let limit = cursor::limit(q.limit)?;
    let viewer = auth.viewer();
    let mut values: Vec<sea_orm::Value> = vec![Option::<Uuid>::None.into()];
    let after = Cursor::after(
        q.cursor.as_deref(),
        "time",
        "p.updated_at",
        "p.id",
        ">",
        &mut values,
    )?;
    let private = if viewer.admin {
        String::new()
    } else {
        format!(" AND p.privacy <> '{}'", Privacy::Private.as_str())
    };
    let found = Row::find_by_statement(stmt(
        format!(
            "SELECT {} FROM {FROM} WHERE p.moderation = '{}'{private}{after}
             ORDER BY p.updated_at, p.id LIMIT {}",
            columns(),
            kadr_core::state::Moderation::Pending.as_str(),
            limit + 1
        ),
        values,
    ))
    .all(&ctx.db)
    .await
    .map_err(db_err)?;
    let (found, next_cursor) = cursor::split(found, limit, |r| {
        Some(Cursor::Time {
            t: r.updated_at,
            id: r.id,
        })
    });
    let base = base_url(&req);
    Ok(private_json(PlaylistPage {
        items: found.into_iter().map(|r| r.json(&base, &viewer)).collect(),
        next_cursor,
    }))
}

fn private_json(json: impl Serialize) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(json)
}

/// Approves a playlist waiting for review.
#[utoipa::path(post, path = "/api/v1/moderation/playlists/{id}/approve", tag = "moderation", operation_id = "playlist_approve",
    params(("id" = Uuid, Path, description = "Playlist id")), request_body(content = Option<crate::moderation::Decision>, description = "Optional"),
    responses((status = 200, body = PlaylistJson), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn approve(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: Option<web::Json<crate::moderation::Decision>>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.and_then(|b| b.into_inner().reason);
    decide(
        &ctx,
        &auth,
        &req,
        path.into_inner(),
        kadr_core::state::Moderation::Approved,
        reason,
    )
    .await
}

/// Rejects a playlist waiting for review (its owner sees the reason).
#[utoipa::path(post, path = "/api/v1/moderation/playlists/{id}/reject", tag = "moderation", operation_id = "playlist_reject",
    params(("id" = Uuid, Path, description = "Playlist id")), request_body = crate::moderation::Decision,
    responses((status = 200, body = PlaylistJson), (status = 400, description = "No reason given", content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn reject(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Json<crate::moderation::Decision>,
) -> Result<HttpResponse, ApiError> {
    let reason = body.into_inner().reason;
    decide(
        &ctx,
        &auth,
        &req,
        path.into_inner(),
        kadr_core::state::Moderation::Rejected,
        reason,
    )
    .await
}

async fn decide(
    ctx: &AppContext,
    auth: &AuthUser,
    req: &HttpRequest,
    id: Uuid,
    decision: kadr_core::state::Moderation,
    reason: Option<String>,
) -> Result<HttpResponse, ApiError> {
    playlists::decide(
        &ctx.db,
        &ctx.config,
        &auth.user,
        id,
        decision,
        reason.as_deref(),
    )
    .await?;
    tracing::info!(playlist = %id, by = %auth.user.id, decision = %decision, "playlist decision");
    let viewer = auth.viewer();
    let row = fetch(ctx, &viewer, id).await?;
    Ok(private_json(row.json(&base_url(req), &viewer)))
}
