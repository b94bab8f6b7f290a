//! Keeping people safe: reports and the moderators' queue of them (grouped by target),
//! sanctions on users (warn, suspend, ban, reinstate), the moderators' record, and blocks
//! between users.

use actix_web::{HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use kadr_core::reports::{self, Resolution};
use kadr_core::standing::{self, Sanction};
use kadr_core::state::{ModerationAction, ReportReason, ReportTarget};
use kadr_http::auth::{AuthUser, SignedIn};
use kadr_http::{ApiError, AppContext};
use sea_orm::{FromQueryResult, TransactionTrait};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::cursor::{self, Cursor};
use crate::listing::{PageQuery, db_err};
use crate::model::stmt;
use crate::moderation::require_moderator;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/reports", web::post().to(report))
        .route("/api/v1/me/blocks", web::get().to(blocks))
        .route("/api/v1/me/blocks/{username}", web::put().to(block))
        .route("/api/v1/me/blocks/{username}", web::delete().to(unblock))
        .route("/api/v1/moderation/reports", web::get().to(queue))
        .route(
            "/api/v1/moderation/reports/{target_type}/{target_id}",
            web::get().to(case),
        )
        .route(
            "/api/v1/moderation/reports/{target_type}/{target_id}/resolve",
            web::post().to(resolve),
        )
        .route(
            "/api/v1/moderation/users/{id}/sanctions",
            web::post().to(sanction),
        )
        .route("/api/v1/moderation/log", web::get().to(log));
}

fn target(text: &str) -> Result<ReportTarget, ApiError> {
    ReportTarget::parse(text).ok_or_else(|| {
        kadr_core::DomainError::invalid("target_type", "target_type is video, comment or channel")
            .into()
    })
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewReport {
    #[schema(schema_with = kadr_http::schema::report_target)]
    target_type: String,
    target_id: Uuid,
    #[schema(schema_with = kadr_http::schema::report_reason)]
    reason: String,
    /// What is wrong, in my words (at most 2000 characters).
    #[schema(max_length = 2000)]
    details: Option<String>,
}

/// A report received.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Reported {
    pub id: Uuid,
}

/// Reports a video, comment or channel I can see, for moderators to look at; I am told what
/// they decided. One open report per target and reporter; `community.reports_per_hour`.
#[utoipa::path(post, path = "/api/v1/reports", tag = "safety", operation_id = "safety_report", request_body = NewReport,
    responses((status = 201, body = Reported), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 404),
        (status = 409, description = "Reported already, or my own", content_type = "application/problem+json"),
        (status = 429, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn report(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    body: web::Json<NewReport>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let kind = target(&b.target_type)?;
    let reason = ReportReason::parse(&b.reason).ok_or_else(|| {
        kadr_core::DomainError::invalid("reason", "reason is one of the listed reasons")
    })?;
    let id = reports::report(
        &ctx.db,
        &ctx.config,
        &auth.user,
        kind,
        b.target_id,
        reason,
        b.details.as_deref().unwrap_or_default(),
    )
    .await?;
    tracing::info!(report = %id, by = %auth.user.id, target = %b.target_id, "reported");
    Ok(HttpResponse::Created().json(Reported { id }))
}

/// A user I blocked.
#[derive(Debug, Serialize, utoipa::ToSchema, FromQueryResult)]
pub struct Blocked {
    pub id: Uuid,
    pub username: String,
    pub blocked_at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BlockedPage {
    pub items: Vec<Blocked>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The users I blocked, latest first.
#[utoipa::path(get, path = "/api/v1/me/blocks", tag = "safety", operation_id = "safety_blocks", params(PageQuery),
    responses((status = 200, body = BlockedPage), (status = 400, content_type = "application/problem+json"), (status = 401)),
    security(("bearer" = [])))]
pub async fn blocks(
    ctx: web::Data<AppContext>,
    auth: SignedIn,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = cursor::limit(q.limit)?;
    let mut values: Vec<sea_orm::Value> = vec![auth.user.id.into()];
    let after = Cursor::after(
        q.cursor.as_deref(),
        "time",
        "b.created_at",
        "b.blocked_id",
        "<",
        &mut values,
    )?;
    let found = Blocked::find_by_statement(stmt(
        format!(
            "SELECT u.id, u.username, b.created_at AS blocked_at
             FROM user_blocks b JOIN users u ON u.id = b.blocked_id
             WHERE b.user_id = $1{after} ORDER BY b.created_at DESC, b.blocked_id DESC LIMIT {}",
            limit + 1
        ),
        values,
    ))
    .all(&ctx.db)
    .await
    .map_err(db_err)?;
    let (items, next_cursor) = cursor::split(found, limit, |b| {
        Some(Cursor::Time {
            t: b.blocked_at,
            id: b.id,
        })
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(BlockedPage { items, next_cursor }))
}

/// Blocks a user: I no longer see their comments, and they cannot comment on my videos.
#[utoipa::path(put, path = "/api/v1/me/blocks/{username}", tag = "safety", operation_id = "safety_block",
    params(("username" = String, Path, description = "Who to block")),
    responses((status = 204), (status = 401), (status = 404), (status = 409, description = "Myself", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn block(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    kadr_core::blocks::block(&ctx.db, auth.user.id, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Lifts a block.
#[utoipa::path(delete, path = "/api/v1/me/blocks/{username}", tag = "safety", operation_id = "safety_unblock",
    params(("username" = String, Path, description = "Who to unblock")),
    responses((status = 204), (status = 401), (status = 404)),
    security(("bearer" = [])))]
pub async fn unblock(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    kadr_core::blocks::unblock(&ctx.db, auth.user.id, &path).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// How many reports gave one reason.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReasonCount {
    #[schema(schema_with = kadr_http::schema::report_reason)]
    pub reason: String,
    pub count: i64,
}

/// Someone named in a report or the record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Person {
    pub id: Uuid,
    /// `null` once the account is gone.
    pub username: Option<String>,
}

/// Everything reported about one target, waiting for a moderator.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportCase {
    #[schema(schema_with = kadr_http::schema::report_target)]
    pub target_type: String,
    pub target_id: Uuid,
    /// Open reports.
    pub reports: i64,
    pub reasons: Vec<ReasonCount>,
    pub first_reported_at: DateTime<FixedOffset>,
    pub last_reported_at: DateTime<FixedOffset>,
    /// The video's title, the comment's text (its start) or the channel's name; `null` when
    /// it is gone.
    pub summary: Option<String>,
    /// The video it is or is on (videos and comments).
    pub video_id: Option<Uuid>,
    /// Its author.
    pub subject: Option<Person>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportCasePage {
    pub items: Vec<ReportCase>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, FromQueryResult)]
struct CaseRow {
    target_type: String,
    target_id: Uuid,
    reports: i64,
    reasons: Vec<String>,
    first_at: DateTime<FixedOffset>,
    last_at: DateTime<FixedOffset>,
    subject_id: Option<Uuid>,
    subject_name: Option<String>,
    summary: Option<String>,
    video_id: Option<Uuid>,
}

const CASES: &str =
    "SELECT g.*, (SELECT username FROM users WHERE id = g.subject_id) AS subject_name,
    CASE g.target_type
        WHEN 'video' THEN (SELECT title FROM videos WHERE id = g.target_id)
        WHEN 'comment' THEN (SELECT left(body, 300) FROM comments WHERE id = g.target_id)
        ELSE (SELECT display_name || ' (@' || handle || ')' FROM channels WHERE id = g.target_id)
    END AS summary,
    CASE g.target_type
        WHEN 'video' THEN g.target_id
        WHEN 'comment' THEN (SELECT video_id FROM comments WHERE id = g.target_id)
    END AS video_id
    FROM (SELECT target_type, target_id, count(*) AS reports,
                 array_agg(reason ORDER BY created_at) AS reasons,
                 min(created_at) AS first_at, max(created_at) AS last_at,
                 (array_agg(subject_id ORDER BY created_at))[1] AS subject_id
          FROM reports WHERE resolved_at IS NULL{target} GROUP BY target_type, target_id) g";

impl CaseRow {
    fn json(self) -> ReportCase {
        let mut reasons: Vec<ReasonCount> = Vec::new();
        for r in self.reasons {
            match reasons.iter_mut().find(|c| c.reason == r) {
                Some(c) => c.count += 1,
                None => reasons.push(ReasonCount {
                    reason: r,
                    count: 1,
                }),
            }
        }
        reasons.sort_by_key(|c| std::cmp::Reverse(c.count));
        ReportCase {
            target_type: self.target_type,
            target_id: self.target_id,
            reports: self.reports,
            reasons,
            first_reported_at: self.first_at,
            last_reported_at: self.last_at,
            summary: self.summary,
            video_id: self.video_id,
            subject: self.subject_id.map(|id| Person {
                id,
                username: self.subject_name,
            }),
        }
    }
}

/// Reported targets waiting for a decision, the longest waiting first (moderators).
#[utoipa::path(get, path = "/api/v1/moderation/reports", tag = "moderation", operation_id = "safety_queue", params(PageQuery),
    responses((status = 200, body = ReportCasePage), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn queue(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    q: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(&auth)?;
    let limit = cursor::limit(q.limit)?;
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let after = Cursor::after(
        q.cursor.as_deref(),
        "time",
        "c.first_at",
        "c.target_id",
        ">",
        &mut values,
    )?;
    let found = CaseRow::find_by_statement(stmt(
        format!(
            "SELECT * FROM ({}) c WHERE TRUE{after} ORDER BY c.first_at, c.target_id LIMIT {}",
            CASES.replace("{target}", ""),
            limit + 1
        ),
        values,
    ))
    .all(&ctx.db)
    .await
    .map_err(db_err)?;
    let (found, next_cursor) = cursor::split(found, limit, |c| {
        Some(Cursor::Time {
            t: c.first_at,
            id: c.target_id,
        })
    });
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(ReportCasePage {
            items: found.into_iter().map(CaseRow::json).collect(),
            next_cursor,
        }))
}

/// One report, as moderators read it.
#[derive(Debug, Serialize, utoipa::ToSchema, FromQueryResult)]
pub struct ReportJson {
    pub id: Uuid,
    pub reporter_id: Uuid,
    pub reporter_name: String,
    #[schema(schema_with = kadr_http::schema::report_reason)]
    pub reason: String,
    pub details: String,
    pub created_at: DateTime<FixedOffset>,
}

/// A target's open reports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaseJson {
    pub case: ReportCase,
    /// Its open reports, oldest first (the first 500).
    pub items: Vec<ReportJson>,
}

/// A reported target and its open reports (moderators).
#[utoipa::path(get, path = "/api/v1/moderation/reports/{target_type}/{target_id}", tag = "moderation", operation_id = "safety_case",
    params(("target_type" = String, Path, description = "video, comment or channel"), ("target_id" = Uuid, Path, description = "Its id")),
    responses((status = 200, body = CaseJson), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404)),
    security(("bearer" = [])))]
pub async fn case(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<(String, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(&auth)?;
    let (kind, id) = path.into_inner();
    let kind = target(&kind)?;
    let found = CaseRow::find_by_statement(stmt(
        CASES.replace("{target}", " AND target_type = $1 AND target_id = $2"),
        vec![kind.as_str().into(), id.into()],
    ))
    .one(&ctx.db)
    .await
    .map_err(db_err)?
    .ok_or_else(ApiError::not_found)?;
    let items = ReportJson::find_by_statement(stmt(
        "SELECT r.id, r.reporter_id, u.username AS reporter_name, r.reason, r.details, r.created_at
         FROM reports r JOIN users u ON u.id = r.reporter_id
         WHERE r.target_type = $1 AND r.target_id = $2 AND r.resolved_at IS NULL
         ORDER BY r.created_at LIMIT 500"
            .to_owned(),
        vec![kind.as_str().into(), id.into()],
    ))
    .all(&ctx.db)
    .await
    .map_err(db_err)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(CaseJson {
            case: found.json(),
            items,
        }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// `dismiss`, `remove` (the video rejected, the comment deleted, the channel deleted),
    /// or `warn`, `suspend`, `ban` its author.
    #[schema(schema_with = kadr_http::schema::resolution)]
    action: String,
    /// Why (kept in the record; the user sees it with a warning, suspension, ban or removed
    /// video).
    #[schema(max_length = 2000)]
    reason: Option<String>,
    /// A suspension's length, 1 to 3650 days.
    #[schema(minimum = 1, maximum = 3650)]
    days: Option<u32>,
}

/// What a decision did.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Decided {
    /// Its entry in the moderators' record.
    pub action_id: Uuid,
    /// Reports it closed (each reporter is told).
    pub reports: usize,
}

/// Decides on every open report of a target at once; the record keeps it and each reporter
/// is notified of the outcome (moderators).
#[utoipa::path(post, path = "/api/v1/moderation/reports/{target_type}/{target_id}/resolve", tag = "moderation", operation_id = "safety_resolve",
    params(("target_type" = String, Path, description = "video, comment or channel"), ("target_id" = Uuid, Path, description = "Its id")),
    request_body = ResolveBody,
    responses((status = 200, body = Decided), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "Its author is a moderator", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn resolve(
    ctx: web::Data<AppContext>,
    api: web::Data<crate::Api>,
    auth: AuthUser,
    path: web::Path<(String, Uuid)>,
    body: web::Json<ResolveBody>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(&auth)?;
    let (kind, id) = path.into_inner();
    let kind = target(&kind)?;
    let b = body.into_inner();
    let resolution = match b.action.as_str() {
        "dismiss" => Resolution::Dismiss,
        "remove" => Resolution::Remove,
        "warn" => Resolution::Sanction(Sanction::Warn),
        "suspend" => Resolution::Sanction(standing::suspension(b.days)?),
        "ban" => Resolution::Sanction(Sanction::Ban),
        _ => {
            return Err(kadr_core::DomainError::invalid(
                "action",
                "action is dismiss, remove, warn, suspend or ban",
            )
            .into());
        }
    };
    let settled = reports::resolve(
        &ctx.db,
        &ctx.config,
        &auth.user,
        kind,
        id,
        resolution,
        b.reason.as_deref().unwrap_or_default(),
    )
    .await?;
    if let Some(u) = settled.sanctioned {
        kadr_http::auth::forget_user(u);
    }
    if kind == ReportTarget::Video {
        api.access.forget(id);
    }
    tracing::info!(by = %auth.user.id, target = %id, action = %b.action, reports = settled.reports, "reports resolved");
    Ok(HttpResponse::Ok().json(Decided {
        action_id: settled.action_id,
        reports: settled.reports,
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SanctionBody {
    /// `warn`, `suspend` (for `days`), `ban`, or `reinstate` (lifts a suspension or ban).
    #[schema(schema_with = kadr_http::schema::sanction)]
    action: String,
    #[schema(max_length = 2000)]
    reason: Option<String>,
    #[schema(minimum = 1, maximum = 3650)]
    days: Option<u32>,
}

/// Warns, suspends, bans or reinstates a user (moderators; moderators themselves only by
/// administrators). A suspension or ban signs them out and withholds what they made.
#[utoipa::path(post, path = "/api/v1/moderation/users/{id}/sanctions", tag = "moderation", operation_id = "safety_sanction",
    params(("id" = Uuid, Path, description = "User id")), request_body = SanctionBody,
    responses((status = 200, body = Decided), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403), (status = 404),
        (status = 409, description = "A moderator or administrator, or myself", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn sanction(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<SanctionBody>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(&auth)?;
    let user = path.into_inner();
    let b = body.into_inner();
    let reason = b.reason.as_deref().unwrap_or_default();
    let tx = ctx.db.begin().await?;
    let action_id = match b.action.as_str() {
        "reinstate" => {
            standing::reinstate(&tx, &ctx.config, Some(&auth.user), user, reason).await?
        }
        other => {
            let s = match other {
                "warn" => Sanction::Warn,
                "suspend" => standing::suspension(b.days)?,
                "ban" => Sanction::Ban,
                _ => {
                    return Err(kadr_core::DomainError::invalid(
                        "action",
                        "action is warn, suspend, ban or reinstate",
                    )
                    .into());
                }
            };
            let object = Some((kadr_core::state::ObjectType::User, user));
            standing::sanction(&tx, &ctx.config, &auth.user, user, s, reason, object).await?
        }
    };
    tx.commit().await?;
    kadr_http::auth::forget_user(user);
    tracing::info!(by = %auth.user.id, user = %user, action = %b.action, "user sanctioned");
    Ok(HttpResponse::Ok().json(Decided {
        action_id,
        reports: 0,
    }))
}

/// One entry of the moderators' record.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogEntry {
    pub id: Uuid,
    /// Who did it (`null`: the system, e.g. a suspension that ran out).
    pub actor: Option<Person>,
    #[schema(schema_with = kadr_http::schema::moderation_action)]
    pub action: String,
    #[schema(schema_with = kadr_http::schema::object_type)]
    pub object_type: Option<String>,
    pub object_id: Option<Uuid>,
    /// The user it was about.
    pub subject: Option<Person>,
    pub reason: String,
    /// A suspension's end.
    pub until: Option<DateTime<FixedOffset>>,
    /// Details: a role's or quota's change (`from`, `to`).
    #[schema(value_type = Object)]
    pub data: serde_json::Value,
    pub created_at: DateTime<FixedOffset>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LogPage {
    pub items: Vec<LogEntry>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, FromQueryResult)]
struct LogRow {
    id: Uuid,
    actor_id: Option<Uuid>,
    actor_name: String,
    action: String,
    object_type: Option<String>,
    object_id: Option<Uuid>,
    subject_id: Option<Uuid>,
    subject_name: Option<String>,
    reason: String,
    until: Option<DateTime<FixedOffset>>,
    data: serde_json::Value,
    created_at: DateTime<FixedOffset>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct LogQuery {
    /// Only entries about this user.
    pub subject: Option<Uuid>,
    /// Only entries of this action.
    pub action: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

/// The moderators' record: who did what, when and why, newest first (moderators).
#[utoipa::path(get, path = "/api/v1/moderation/log", tag = "moderation", operation_id = "safety_log", params(LogQuery),
    responses((status = 200, body = LogPage), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403)),
    security(("bearer" = [])))]
pub async fn log(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    q: web::Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    require_moderator(&auth)?;
    let limit = cursor::limit(q.limit)?;
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut filter = String::from("TRUE");
    if let Some(s) = q.subject {
        values.push(s.into());
        filter.push_str(&format!(" AND a.subject_id = ${}", values.len()));
    }
    if let Some(a) = &q.action {
        let a = ModerationAction::parse(a).ok_or_else(|| {
            kadr_core::DomainError::invalid("action", "not an action of the record")
        })?;
        values.push(a.as_str().into());
        filter.push_str(&format!(" AND a.action = ${}", values.len()));
    }
    let after = Cursor::after(
        q.cursor.as_deref(),
        "time",
        "a.created_at",
        "a.id",
        "<",
        &mut values,
    )?;
    let found = LogRow::find_by_statement(stmt(
        format!(
            "SELECT a.*, (SELECT username FROM users WHERE id = a.subject_id) AS subject_name
             FROM moderation_actions a WHERE {filter}{after}
             ORDER BY a.created_at DESC, a.id DESC LIMIT {}",
            limit + 1
        ),
        values,
    ))
    .all(&ctx.db)
    .await
    .map_err(db_err)?;
    let (found, next_cursor) = cursor::split(found, limit, |r| {
        Some(Cursor::Time {
            t: r.created_at,
            id: r.id,
        })
    });
    let items = found
        .into_iter()
        .map(|r| LogEntry {
            id: r.id,
            actor: r.actor_id.map(|id| Person {
                id,
                username: Some(r.actor_name.clone()),
            }),
            action: r.action,
            object_type: r.object_type,
            object_id: r.object_id,
            subject: r.subject_id.map(|id| Person {
                id,
                username: r.subject_name,
            }),
            reason: r.reason,
            until: r.until,
            data: r.data,
            created_at: r.created_at,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(LogPage { items, next_cursor }))
}
