//! Comments on a video: pages of top-level comments (newest or top) with the pinned one first,
//! replies (oldest first), the held ones for the video's owner and moderators, and writing,
//! editing, deleting, approving, pinning and liking comments. The rules are in
//! `kadr_core::comments`.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use kadr_core::Code;
use kadr_core::comments::{VideoOf, reviews};
use kadr_core::state::CommentPolicy;
use kadr_core::visibility::Viewer;
use kadr_http::auth::{AuthUser, MaybeUser, SignedIn};
use kadr_http::{ApiError, AppContext};
use sea_orm::FromQueryResult;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cursor::{self, Cursor};
use crate::listing::{PageQuery, db_err};
use crate::model::stmt;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos/{id}/comments", web::get().to(list))
        .route("/api/v1/videos/{id}/comments", web::post().to(post))
        .route("/api/v1/videos/{id}/comments/held", web::get().to(held))
        .route("/api/v1/moderation/comments", web::get().to(queue))
        .route("/api/v1/comments/{id}", web::get().to(one))
        .route("/api/v1/comments/{id}", web::patch().to(edit))
        .route("/api/v1/comments/{id}", web::delete().to(delete))
        .route("/api/v1/comments/{id}/replies", web::get().to(replies))
        .route("/api/v1/comments/{id}/approve", web::post().to(approve))
        .route("/api/v1/comments/{id}/pin", web::put().to(pin))
        .route("/api/v1/comments/{id}/pin", web::delete().to(unpin))
        .route("/api/v1/comments/{id}/like", web::put().to(like))
        .route("/api/v1/comments/{id}/like", web::delete().to(unlike));
}

/// Who wrote a comment.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Author {
    pub id: Uuid,
    pub username: String,
    /// Their first channel, for a link (none when they have none left).
    pub channel_handle: Option<String>,
}

/// A comment. `body` is plain text: show it as text (links and `1:23` timestamps may be
/// made clickable), never as HTML.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentJson {
    pub id: Uuid,
    pub video_id: Uuid,
    /// The comment it replies to.
    pub parent_id: Option<Uuid>,
    pub body: String,
    pub author: Author,
    pub created_at: DateTime<FixedOffset>,
    /// When it was last edited.
    pub edited_at: Option<DateTime<FixedOffset>>,
    pub likes: i64,
    /// Visible replies (top-level comments).
    pub replies: i64,
    /// Waiting for the video's owner or a moderator.
    pub held: bool,
    /// Pinned by the video's owner.
    pub pinned: bool,
    /// Written by the video's owner.
    pub by_owner: bool,
    /// Whether the caller liked it (signed-in callers only).
    pub liked: Option<bool>,
}

/// A page of comments.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CommentPage {
    pub items: Vec<CommentJson>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// The pinned comment, on the first page of top-level comments.
    pub pinned: Option<CommentJson>,
    /// The video's visible comments and replies.
    pub count: i64,
    /// `open`, `hold` or `off` (no comments shown or taken).
    #[schema(schema_with = kadr_http::schema::comment_policy)]
    pub policy: String,
}

#[derive(Debug, FromQueryResult)]
struct CommentRow {
    id: Uuid,
    video_id: Uuid,
    parent_id: Option<Uuid>,
    body: String,
    held: bool,
    like_count: i64,
    reply_count: i64,
    created_at: DateTime<FixedOffset>,
    edited_at: Option<DateTime<FixedOffset>>,
    author_id: Uuid,
    author_name: String,
    author_handle: Option<String>,
    liked: Option<bool>,
}

/// The columns of a comment; `$1` is the caller (or NULL).
const COMMENT_COLUMNS: &str = "m.id, m.video_id, m.parent_id, m.body, m.held, m.like_count,
    m.reply_count, m.created_at, m.edited_at, m.author_id, u.username AS author_name,
    (SELECT ch.handle FROM channels ch WHERE ch.owner_id = m.author_id AND ch.deleting_at IS NULL
     ORDER BY ch.created_at, ch.id LIMIT 1) AS author_handle,
    CASE WHEN $1::uuid IS NULL THEN NULL
         ELSE EXISTS (SELECT 1 FROM comment_likes l WHERE l.comment_id = m.id AND l.user_id = $1)
    END AS liked";

const COMMENT_FROM: &str = "comments m JOIN users u ON u.id = m.author_id";

impl CommentRow {
    fn json(self, video: &VideoOf) -> CommentJson {
        CommentJson {
            pinned: video.pinned_comment_id == Some(self.id),
            by_owner: self.author_id == video.owner_id,
            id: self.id,
            video_id: self.video_id,
            parent_id: self.parent_id,
            body: self.body,
            author: Author {
                id: self.author_id,
                username: self.author_name,
                channel_handle: self.author_handle,
            },
            created_at: self.created_at,
            edited_at: self.edited_at,
            likes: self.like_count.max(0),
            replies: self.reply_count.max(0),
            held: self.held,
            liked: self.liked,
        }
    }
}

/// Comments matching `filter` as `viewer` (bound as `$1`) sees them: without those withheld
/// (their author is suspended or banned; moderators see them) and those of users the viewer
/// blocked.
async fn comment_rows(
    ctx: &AppContext,
    viewer: &Viewer,
    filter: &str,
    order: &str,
    values: Vec<sea_orm::Value>,
    limit: u64,
) -> Result<Vec<CommentRow>, ApiError> {
    let withheld = if viewer.moderator {
        ""
    } else {
        " AND NOT m.withheld"
    };
    let blocked = if viewer.user.is_some() {
        " AND NOT EXISTS (SELECT 1 FROM user_blocks b WHERE b.user_id = $1 AND b.blocked_id = m.author_id)"
    } else {
        ""
    };
    CommentRow::find_by_statement(stmt(
        format!(
            "SELECT {COMMENT_COLUMNS} FROM {COMMENT_FROM} WHERE ({filter}){withheld}{blocked} \
             ORDER BY {order} LIMIT {limit}"
        ),
        values,
    ))
    .all(&ctx.db)
    .await
    .map_err(db_err)
}

/// One comment as `viewer` may see it.
async fn comment_json(
    ctx: &AppContext,
    viewer: &Viewer,
    id: Uuid,
) -> Result<CommentJson, ApiError> {
    let c = kadr_core::comments::comment(&ctx.db, viewer, id, false).await?;
    let video = kadr_core::comments::video(&ctx.db, viewer, c.id).await?;
    let row = comment_rows(
        ctx,
        viewer,
        "m.id = $2",
        "m.id",
        vec![viewer.user.into(), id.into()],
        1,
    )
    .await?
    .into_iter()
    .next()
    .ok_or_else(ApiError::not_found)?;
    Ok(row.json(&video))
}

fn page_of(
    rows: Vec<CommentRow>,
    limit: u64,
    video: &VideoOf,
    key: impl Fn(&CommentRow) -> Cursor,
) -> (Vec<CommentJson>, Option<String>) {
    let (rows, next) = cursor::split(rows, limit, |r| Some(key(r)));
    (rows.into_iter().map(|r| r.json(video)).collect(), next)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct CommentQuery {
    /// `new` (default) or `top` (most liked).
    pub sort: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// A video's top-level comments, newest or most liked first; the pinned one comes with the
/// first page. Comments turned off: none.
#[utoipa::path(get, path = "/api/v1/videos/{id}/comments", tag = "comments", operation_id = "list_comments",
    params(("id" = Uuid, Path, description = "Video id"), CommentQuery),
    responses((status = 200, body = CommentPage), (status = 400, description = "Bad sort, cursor or limit", content_type = "application/problem+json"), (status = 404)))]
pub async fn list(
    ctx: web::Data<AppContext>,
    user: MaybeUser,
    path: web::Path<Uuid>,
    q: web::Query<CommentQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let top = match q.sort.as_deref() {
        None | Some("new") => false,
        Some("top") => true,
        Some(_) => {
            return Err(
                ApiError::bad_request(Code::InvalidSort, "sort is new or top").field("sort"),
            );
        }
    };
    let viewer = user.viewer();
    let video = kadr_core::comments::video(&ctx.db, &viewer, path.into_inner()).await?;
    let policy = video.comment_policy.as_str().to_owned();
    let count = video.comment_count.max(0);
    if video.comment_policy == CommentPolicy::Off && !reviews(&viewer, &video) {
        return Ok(HttpResponse::Ok().json(CommentPage {
            items: Vec::new(),
            next_cursor: None,
            pinned: None,
            count: 0,
            policy,
        }));
    }
    let mut values: Vec<sea_orm::Value> = vec![viewer.user.into(), video.id.into()];
    let (after, order) = if top {
        (
            Cursor::after(
                q.cursor.as_deref(),
                "likes",
                "m.like_count",
                "m.id",
                "<",
                &mut values,
            )?,
            "m.like_count DESC, m.id DESC",
        )
    } else {
        (
            Cursor::after(
                q.cursor.as_deref(),
                "time",
                "m.created_at",
                "m.id",
                "<",
                &mut values,
            )?,
            "m.created_at DESC, m.id DESC",
        )
    };
    let filter = format!("m.video_id = $2 AND m.parent_id IS NULL AND NOT m.held{after}");
    let rows = comment_rows(&ctx, &viewer, &filter, order, values, limit + 1).await?;
    let (items, next_cursor) = page_of(rows, limit, &video, |r| {
        if top {
            Cursor::Likes {
                n: r.like_count,
                id: r.id,
            }
        } else {
            Cursor::Time {
                t: r.created_at,
                id: r.id,
            }
        }
    });
    let pinned = match (q.cursor.is_none(), video.pinned_comment_id) {
        (true, Some(id)) => comment_json(&ctx, &viewer, id).await.ok(),
        _ => None,
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(CommentPage {
            items,
            next_cursor,
            pinned,
            count,
            policy,
        }))
}

/// Replies to a comment, oldest first (held ones for their author, the video's owner and
/// moderators).
#[utoipa::path(get, path = "/api/v1/comments/{id}/replies", tag = "comments", operation_id = "comment_replies",
    params(("id" = Uuid, Path, description = "Comment id"), PageQuery),
    responses((status = 200, body = CommentPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 404)))]
pub async fn replies(
    ctx: web::Data<AppContext>,
    user: MaybeUser,
    path: web::Path<Uuid>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let viewer = user.viewer();
    let parent = kadr_core::comments::comment(&ctx.db, &viewer, path.into_inner(), false).await?;
    let video = kadr_core::comments::video(&ctx.db, &viewer, parent.id).await?;
    let mut values: Vec<sea_orm::Value> = vec![viewer.user.into(), parent.comment_id.into()];
    let after = Cursor::after(
        q.cursor.as_deref(),
        "time",
        "m.created_at",
        "m.id",
        ">",
        &mut values,
    )?;
    // Held replies: the caller's own, or all of them for those who review.
    let held = if reviews(&viewer, &video) {
        "TRUE".to_owned()
    } else {
        "(NOT m.held OR m.author_id = $1)".to_owned()
    };
    let filter = format!("m.parent_id = $2 AND {held}{after}");
    let rows = comment_rows(
        &ctx,
        &viewer,
        &filter,
        "m.created_at, m.id",
        values,
        limit + 1,
    )
    .await?;
    let (items, next_cursor) = page_of(rows, limit, &video, |r| Cursor::Time {
        t: r.created_at,
        id: r.id,
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(CommentPage {
            items,
            next_cursor,
            pinned: None,
            count: parent_replies(&ctx, parent.comment_id).await?,
            policy: video.comment_policy.as_str().to_owned(),
        }))
}

async fn parent_replies(ctx: &AppContext, id: Uuid) -> Result<i64, ApiError> {
    use sea_orm::ConnectionTrait;
    let row = ctx
        .db
        .query_one_raw(stmt(
            "SELECT reply_count FROM comments WHERE id = $1".to_owned(),
            vec![id.into()],
        ))
        .await
        .map_err(db_err)?;
    Ok(match row {
        Some(r) => r.try_get::<i64>("", "reply_count").map_err(db_err)?.max(0),
        None => 0,
    })
}

/// Comments waiting for approval on a video, oldest first (its owner and moderators).
#[utoipa::path(get, path = "/api/v1/videos/{id}/comments/held", tag = "comments", operation_id = "held_comments",
    params(("id" = Uuid, Path, description = "Video id"), PageQuery),
    responses((status = 200, body = CommentPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn held(
    ctx: web::Data<AppContext>,
    auth: SignedIn,
    path: web::Path<Uuid>,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let viewer = auth.viewer();
    let video = kadr_core::comments::video(&ctx.db, &viewer, path.into_inner()).await?;
    if !reviews(&viewer, &video) {
        return Err(ApiError::new(
            Code::Forbidden,
            "The video's owner and moderators only",
        ));
    }
    let mut values: Vec<sea_orm::Value> = vec![viewer.user.into(), video.id.into()];
    let after = Cursor::after(
        q.cursor.as_deref(),
        "time",
        "m.created_at",
        "m.id",
        ">",
        &mut values,
    )?;
    let filter = format!("m.video_id = $2 AND m.held{after}");
    let rows = comment_rows(
        &ctx,
        &viewer,
        &filter,
        "m.created_at, m.id",
        values,
        limit + 1,
    )
    .await?;
    let (items, next_cursor) = page_of(rows, limit, &video, |r| Cursor::Time {
        t: r.created_at,
        id: r.id,
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(CommentPage {
            items,
            next_cursor,
            pinned: None,
            count: video.comment_count.max(0),
            policy: video.comment_policy.as_str().to_owned(),
        }))
}

/// Held comments on every video the moderator may see, oldest first (moderators and admins).
#[utoipa::path(get, path = "/api/v1/moderation/comments", tag = "moderation", operation_id = "held_comment_queue",
    params(PageQuery),
    responses((status = 200, body = CommentPage), (status = 400, description = "Bad cursor or limit", content_type = "application/problem+json"), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn queue(
    ctx: web::Data<AppContext>,
    auth: SignedIn,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let viewer = auth.viewer();
    if !viewer.moderator {
        return Err(ApiError::new(
            Code::Forbidden,
            "Moderators and administrators only",
        ));
    }
    let mut values: Vec<sea_orm::Value> = vec![viewer.user.into()];
    let visible = kadr_core::visibility::visible_sql(&viewer, &mut values);
    let after = Cursor::after(
        q.cursor.as_deref(),
        "time",
        "m.created_at",
        "m.id",
        ">",
        &mut values,
    )?;
    let filter = format!(
        "m.held AND EXISTS (SELECT 1 FROM videos v WHERE v.id = m.video_id AND {visible}){after}"
    );
    let rows = comment_rows(
        &ctx,
        &viewer,
        &filter,
        "m.created_at, m.id",
        values,
        limit + 1,
    )
    .await?;
    let (rows, next_cursor) = cursor::split(rows, limit, |r| {
        Some(Cursor::Time {
            t: r.created_at,
            id: r.id,
        })
    });
    // Each video read once, however many of its comments wait.
    let mut videos: std::collections::HashMap<Uuid, VideoOf> = std::collections::HashMap::new();
    let mut items = Vec::with_capacity(rows.len());
    for r in rows {
        let video = match videos.get(&r.video_id) {
            Some(v) => v.clone(),
            None => {
                let v = kadr_core::comments::video(&ctx.db, &viewer, r.video_id).await?;
                videos.insert(r.video_id, v.clone());
                v
            }
        };
        items.push(r.json(&video));
    }
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(CommentPage {
            count: items.len() as i64,
            items,
            next_cursor,
            pinned: None,
            policy: CommentPolicy::Hold.as_str().to_owned(),
        }))
}

/// A comment.
#[utoipa::path(get, path = "/api/v1/comments/{id}", tag = "comments", operation_id = "get_comment",
    params(("id" = Uuid, Path, description = "Comment id")),
    responses((status = 200, body = CommentJson), (status = 404)))]
pub async fn one(
    ctx: web::Data<AppContext>,
    user: MaybeUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let c = comment_json(&ctx, &user.viewer(), path.into_inner()).await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-cache"))
        .json(c))
}

/// A new comment, or a reply to a top-level comment.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    /// Plain text, 1 to 5000 characters.
    #[schema(schema_with = kadr_http::schema::comment_body)]
    pub body: String,
    /// The top-level comment this replies to.
    pub parent_id: Option<Uuid>,
}

/// Comments on a video (or replies). It may be held for the video's owner or a moderator:
/// `held` says so.
#[utoipa::path(post, path = "/api/v1/videos/{id}/comments", tag = "comments", operation_id = "post_comment",
    params(("id" = Uuid, Path, description = "Video id")), request_body = NewComment,
    responses((status = 201, body = CommentJson), (status = 400, content_type = "application/problem+json"), (status = 401),
        (status = 403, description = "Comments are off", content_type = "application/problem+json"), (status = 404),
        (status = 429, description = "Too many comments", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn post(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<NewComment>,
) -> Result<HttpResponse, ApiError> {
    let posted = kadr_core::comments::post(
        &ctx.db,
        &ctx.config,
        &auth.user,
        path.into_inner(),
        body.parent_id,
        &body.body,
    )
    .await?;
    let c = comment_json(&ctx, &auth.viewer(), posted.id).await?;
    Ok(HttpResponse::Created().json(c))
}

/// A comment's new text.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentEdit {
    #[schema(schema_with = kadr_http::schema::comment_body)]
    pub body: String,
}

/// Edits my comment; it is marked edited.
#[utoipa::path(patch, path = "/api/v1/comments/{id}", tag = "comments", operation_id = "edit_comment",
    params(("id" = Uuid, Path, description = "Comment id")), request_body = CommentEdit,
    responses((status = 200, body = CommentJson), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn edit(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<CommentEdit>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    kadr_core::comments::edit(&ctx.db, &ctx.config, &auth.user, id, &body.body).await?;
    Ok(HttpResponse::Ok().json(comment_json(&ctx, &auth.viewer(), id).await?))
}

/// Deletes a comment (its author, the video's owner, moderators); a top-level comment's
/// replies go with it.
#[utoipa::path(delete, path = "/api/v1/comments/{id}", tag = "comments", operation_id = "delete_comment",
    params(("id" = Uuid, Path, description = "Comment id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn delete(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    kadr_core::comments::delete(&ctx.db, &auth.user, path.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Approves a held comment (the video's owner, moderators).
#[utoipa::path(post, path = "/api/v1/comments/{id}/approve", tag = "comments", operation_id = "approve_comment",
    params(("id" = Uuid, Path, description = "Comment id")),
    responses((status = 200, body = CommentJson), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn approve(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    kadr_core::comments::approve(&ctx.db, &ctx.config, &auth.user, id).await?;
    Ok(HttpResponse::Ok().json(comment_json(&ctx, &auth.viewer(), id).await?))
}

async fn pinning(
    ctx: &AppContext,
    auth: &AuthUser,
    id: Uuid,
    on: bool,
) -> Result<HttpResponse, ApiError> {
    kadr_core::comments::pin(&ctx.db, &auth.user, id, on).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Pins a top-level comment on its video (the video's owner; one at a time).
#[utoipa::path(put, path = "/api/v1/comments/{id}/pin", tag = "comments", operation_id = "pin_comment",
    params(("id" = Uuid, Path, description = "Comment id")),
    responses((status = 204), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn pin(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    pinning(&ctx, &auth, path.into_inner(), true).await
}

/// Unpins a comment.
#[utoipa::path(delete, path = "/api/v1/comments/{id}/pin", tag = "comments", operation_id = "unpin_comment",
    params(("id" = Uuid, Path, description = "Comment id")),
    responses((status = 204), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn unpin(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    pinning(&ctx, &auth, path.into_inner(), false).await
}

async fn liking(
    ctx: &AppContext,
    auth: &AuthUser,
    id: Uuid,
    on: bool,
) -> Result<HttpResponse, ApiError> {
    kadr_core::comments::like(&ctx.db, &ctx.config, &auth.user, id, on).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Likes a comment (idempotent).
#[utoipa::path(put, path = "/api/v1/comments/{id}/like", tag = "comments", operation_id = "like_comment",
    params(("id" = Uuid, Path, description = "Comment id")),
    responses((status = 204), (status = 401), (status = 404), (status = 429, description = "Too many likes", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn like(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    liking(&ctx, &auth, path.into_inner(), true).await
}

/// Takes back my like of a comment.
#[utoipa::path(delete, path = "/api/v1/comments/{id}/like", tag = "comments", operation_id = "unlike_comment",
    params(("id" = Uuid, Path, description = "Comment id")),
    responses((status = 204), (status = 401), (status = 404), (status = 429, description = "Too many likes", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn unlike(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    liking(&ctx, &auth, path.into_inner(), false).await
}
