//! My account: profile, password, sessions, deletion, and what goes by mail (password reset,
//! address check); the features a client may offer; the administrators' list of users.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use kadr_core::entities::user;
use kadr_core::state::TokenPurpose;
use kadr_core::throttle::{self, Verdict};
use kadr_core::{Code, accounts};
use kadr_http::auth::{AuthUser, SignedIn};
use kadr_http::{ApiError, AppContext};
use sea_orm::{FromQueryResult, TransactionTrait};
use serde::{Deserialize, Deserializer, Serialize};
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/me", web::patch().to(update_me))
        .route("/api/v1/me/password", web::post().to(change_password))
        .route("/api/v1/me/sessions", web::get().to(sessions))
        .route("/api/v1/me/sessions/{id}", web::delete().to(revoke_session))
        .route("/api/v1/me/tokens", web::post().to(make_token))
        .route("/api/v1/me/deletion", web::post().to(delete_me))
        .route(
            "/api/v1/me/email/verification",
            web::post().to(send_verification),
        )
        .route("/api/v1/auth/password-reset", web::post().to(ask_reset))
        .route(
            "/api/v1/auth/password-reset/confirm",
            web::post().to(confirm_reset),
        )
        .route(
            "/api/v1/auth/email-verification",
            web::post().to(verify_email),
        )
        .route("/api/v1/features", web::get().to(features))
        .route("/api/v1/admin/users", web::get().to(admin_users));
}

/// `null` kept apart from absent: `Some(None)` for an explicit `null`.
pub fn some<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}

/// Me, as I see myself.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub bio: String,
    pub email: String,
    /// The address answered its check mail.
    pub email_verified: bool,
    #[schema(schema_with = kadr_http::schema::role)]
    pub role: String,
    pub verified: bool,
    /// Watch history is not recorded.
    pub history_paused: bool,
    /// The interface language I chose (`en`, `ru`, `ar`); `null`: the browser's.
    pub ui_language: Option<String>,
    /// The language my uploads are marked with when they name none.
    pub video_language: Option<String>,
    pub storage_used_bytes: i64,
    /// Bytes I may store; `null`: no limit.
    pub quota_bytes: Option<u64>,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
}

impl MeView {
    pub fn of(u: &user::Model, config: &kadr_config::Config) -> MeView {
        let quota = kadr_core::uploads::quota_of(config, u.quota_bytes);
        MeView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            bio: u.bio.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            role: u.role.as_str().to_owned(),
            verified: u.verified,
            history_paused: u.history_paused,
            ui_language: u.ui_language.clone(),
            video_language: u.video_language.clone(),
            storage_used_bytes: u.storage_used_bytes,
            quota_bytes: (quota > 0).then_some(quota),
            created_at: u.created_at,
        }
    }
}

/// A user as administrators see them.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AdminUserView {
    pub id: Uuid,
    pub username: String,
    pub display_name: String,
    pub email: String,
    pub email_verified: bool,
    #[schema(schema_with = kadr_http::schema::role)]
    pub role: String,
    pub verified: bool,
    /// `active`, `suspended` or `banned`.
    #[schema(schema_with = kadr_http::schema::standing)]
    pub standing: String,
    pub suspended_until: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub storage_used_bytes: i64,
    /// Their own quota when set (0: no limit); `null`: `upload.user_quota_bytes`.
    pub quota_bytes: Option<i64>,
    /// The quota in force (`null`: no limit).
    pub effective_quota_bytes: Option<u64>,
    /// Being deleted.
    pub leaving: bool,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
}

impl AdminUserView {
    pub fn of(u: &user::Model, config: &kadr_config::Config) -> AdminUserView {
        let quota = kadr_core::uploads::quota_of(config, u.quota_bytes);
        AdminUserView {
            id: u.id,
            username: u.username.clone(),
            display_name: u.display_name.clone(),
            email: u.email.clone(),
            email_verified: u.email_verified,
            role: u.role.as_str().to_owned(),
            verified: u.verified,
            standing: u.standing.as_str().to_owned(),
            suspended_until: u.suspended_until,
            storage_used_bytes: u.storage_used_bytes,
            quota_bytes: u.quota_bytes,
            effective_quota_bytes: (quota > 0).then_some(quota),
            leaving: u.deleting_at.is_some(),
            created_at: u.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MePatch {
    /// At most 100 characters.
    display_name: Option<String>,
    /// At most 1000 characters.
    bio: Option<String>,
    /// A new address: unverified until its check mail is answered (one is sent when mail is
    /// set up).
    email: Option<String>,
    /// The interface language: `en`, `ru` or `ar`; `null` follows the browser.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>, example = "ar")]
    ui_language: Option<Option<String>>,
    /// The language my uploads are marked with when they name none (a BCP 47 tag); `null`:
    /// none.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<String>, example = "ru")]
    video_language: Option<Option<String>>,
}

/// Edits my profile.
#[utoipa::path(patch, path = "/api/v1/me", tag = "accounts", request_body = MePatch,
    responses((status = 200, body = MeView), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 409, description = "E-mail taken", content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn update_me(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    body: web::Json<MePatch>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    let tx = ctx.db.begin().await?;
    let changed = accounts::update_profile(
        &tx,
        &auth.user,
        &accounts::Profile {
            display_name: b.display_name.as_deref(),
            bio: b.bio.as_deref(),
            email: b.email.as_deref(),
            ui_language: b.ui_language.as_ref().map(|l| l.as_deref()),
            video_language: b.video_language.as_ref().map(|l| l.as_deref()),
        },
    )
    .await?;
    if changed && ctx.config.mail.enabled() {
        kadr_core::mail::enqueue(
            &tx,
            &ctx.config,
            auth.user.id,
            TokenPurpose::EmailVerification,
        )
        .await?;
    }
    tx.commit().await?;
    kadr_http::auth::forget_user(auth.user.id);
    let me = accounts::by_name(&ctx.db, &auth.user.username)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(MeView::of(&me, &ctx.config)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    current_password: String,
    #[schema(schema_with = kadr_http::schema::password)]
    new_password: String,
}

/// Changes my password; every other session is signed out (this one stays).
#[utoipa::path(post, path = "/api/v1/me/password", tag = "accounts", request_body = PasswordChange,
    responses((status = 204), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403, description = "The current password is wrong", content_type = "application/problem+json"), (status = 429, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn change_password(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    body: web::Json<PasswordChange>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    accounts::check_password(&b.new_password)?;
    if b.current_password.len() > accounts::LOGIN_PASSWORD_MAX_BYTES {
        return Err(wrong_password());
    }
    check_own_password(&ctx, &auth, b.current_password).await?;
    let hash = crate::password::hash(b.new_password).await?;
    let revoked = accounts::set_password(&ctx.db, auth.user.id, hash, Some(auth.token_id)).await?;
    for t in revoked {
        kadr_http::auth::forget_token(t);
    }
    tracing::info!(user = %auth.user.id, "password changed");
    Ok(HttpResponse::NoContent().finish())
}

fn wrong_password() -> ApiError {
    ApiError::new(Code::WrongPassword, "The current password is wrong").field("current_password")
}

/// Checks the caller's own password, counted like sign-ins (a stolen token cannot guess it
/// faster than a login form).
async fn check_own_password(
    ctx: &AppContext,
    auth: &AuthUser,
    password: String,
) -> Result<(), ApiError> {
    let key = format!("password:{}", auth.user.id);
    let window = Duration::from_secs(ctx.config.auth.login_window_secs);
    if let Verdict::Blocked(wait) =
        throttle::attempt(&ctx.db, &key, ctx.config.auth.login_max_failures, window).await?
    {
        return Err(
            throttle::too_many(Code::TooManyAttempts, "Too many wrong passwords", wait).into(),
        );
    }
    if !crate::password::verify(password, auth.user.password_hash.clone()).await? {
        return Err(wrong_password());
    }
    throttle::clear(&ctx.db, &key).await?;
    Ok(())
}

/// One of my sessions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionJson {
    pub id: Uuid,
    /// The name given at sign-in.
    pub name: String,
    /// The client that signed in.
    pub user_agent: String,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    /// To the hour.
    pub last_used_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub expires_at: chrono::DateTime<chrono::FixedOffset>,
    /// The session making this request.
    pub current: bool,
    /// `session` (signed in), `personal` or `integration` (made on purpose, with scopes).
    #[schema(example = "session")]
    pub kind: String,
    /// What a token made on purpose may do (`read`, `upload`, `manage`, `interact`,
    /// `moderate`, `admin`, `webhooks`); absent for sessions, which may do everything.
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionList {
    pub items: Vec<SessionJson>,
}

/// My sessions and tokens (signed-in sessions, and tokens made for scripts and
/// integrations), newest first.
#[utoipa::path(get, path = "/api/v1/me/sessions", tag = "accounts",
    responses((status = 200, body = SessionList), (status = 401)), security(("bearer" = [])))]
async fn sessions(ctx: web::Data<AppContext>, auth: SignedIn) -> Result<HttpResponse, ApiError> {
    let items = accounts::sessions(&ctx.db, auth.user.id)
        .await?
        .into_iter()
        .map(|s| SessionJson {
            current: s.id == auth.token_id,
            id: s.id,
            name: s.name,
            user_agent: s.user_agent,
            created_at: s.created_at,
            last_used_at: s.last_used_at,
            expires_at: s.expires_at,
            kind: s.kind.as_str().to_owned(),
            scopes: s.scopes,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(SessionList { items }))
}

/// Signs one of my sessions out.
#[utoipa::path(delete, path = "/api/v1/me/sessions/{id}", tag = "accounts",
    params(("id" = Uuid, Path, description = "Session id")),
    responses((status = 204), (status = 401), (status = 404)), security(("bearer" = [])))]
async fn revoke_session(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    accounts::revoke_session(&ctx.db, auth.user.id, id).await?;
    kadr_http::auth::forget_token(id);
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Deletion {
    password: String,
    /// My username, repeated.
    confirm: String,
}

/// Deletes my account: signed out everywhere and hidden at once; channels, videos, comments
/// and everything else removed by a job.
#[utoipa::path(post, path = "/api/v1/me/deletion", tag = "accounts", request_body = Deletion,
    responses((status = 202), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403, content_type = "application/problem+json"), (status = 429, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn delete_me(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    body: web::Json<Deletion>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    if !b.confirm.trim().eq_ignore_ascii_case(&auth.user.username) {
        return Err(ApiError::new(
            Code::ConfirmationRequired,
            "Deleting your account removes everything you made: repeat your username in `confirm`",
        )
        .field("confirm"));
    }
    if b.password.len() > accounts::LOGIN_PASSWORD_MAX_BYTES {
        return Err(wrong_password().field("password"));
    }
    check_own_password(&ctx, &auth, b.password)
        .await
        .map_err(|e| e.field("password"))?;
    let revoked = kadr_core::leaving::start(&ctx.db, &ctx.config, &auth.user).await?;
    for t in revoked {
        kadr_http::auth::forget_token(t);
    }
    kadr_http::auth::forget_user(auth.user.id);
    tracing::info!(user = %auth.user.id, "account deletion started");
    Ok(HttpResponse::Accepted().finish())
}

/// Counts a mail asked for by `account` (when known) and from the caller's address.
async fn count_mail(
    ctx: &AppContext,
    req: &HttpRequest,
    account: Option<Uuid>,
) -> Result<(), ApiError> {
    let per_hour = ctx.config.mail.per_hour;
    let address = kadr_http::client::address_key(
        ctx.client_ip(req)
            .unwrap_or(std::net::IpAddr::from([0, 0, 0, 0])),
    );
    let mut keys = vec![(format!("mail-ip:{address}"), per_hour.saturating_mul(5))];
    if let Some(a) = account {
        keys.push((format!("mail:{a}"), per_hour));
    }
    for (key, max) in keys {
        if let Verdict::Blocked(wait) =
            throttle::attempt(&ctx.db, &key, max, Duration::from_secs(3600)).await?
        {
            return Err(throttle::too_many(
                Code::TooManyMails,
                "Too many mails asked for; try again later",
                wait,
            )
            .into());
        }
    }
    Ok(())
}

/// Sends me a mail to check my address.
#[utoipa::path(post, path = "/api/v1/me/email/verification", tag = "accounts",
    responses((status = 202), (status = 401), (status = 429, content_type = "application/problem+json"), (status = 409, description = "Mail is not set up", content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn send_verification(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !ctx.config.mail.enabled() {
        return Err(kadr_core::mail::off().into());
    }
    count_mail(&ctx, &req, Some(auth.user.id)).await?;
    kadr_core::mail::enqueue(
        &ctx.db,
        &ctx.config,
        auth.user.id,
        TokenPurpose::EmailVerification,
    )
    .await?;
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetAsk {
    /// A username or an e-mail address.
    login: String,
}

/// Asks for a password-reset mail. The answer is the same whether the account exists or not.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "accounts", request_body = ResetAsk,
    responses((status = 202), (status = 400, content_type = "application/problem+json"), (status = 429, content_type = "application/problem+json"), (status = 409, description = "Mail is not set up", content_type = "application/problem+json")))]
async fn ask_reset(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: web::Json<ResetAsk>,
) -> Result<HttpResponse, ApiError> {
    if !ctx.config.mail.enabled() {
        return Err(kadr_core::mail::off().into());
    }
    let login = body.into_inner().login;
    let login = login.trim();
    if login.is_empty() || login.chars().count() > 254 {
        return Err(
            kadr_core::DomainError::invalid("login", "A username or an e-mail address").into(),
        );
    }
    kadr_core::fields::plain_text("login", login, false)?;
    let found = if login.contains('@') {
        accounts::by_email(&ctx.db, login).await?
    } else {
        accounts::by_name(&ctx.db, login).await?
    };
    count_mail(&ctx, &req, found.as_ref().map(|u| u.id)).await?;
    if let Some(u) = found.filter(|u| u.deleting_at.is_none()) {
        kadr_core::mail::enqueue(&ctx.db, &ctx.config, u.id, TokenPurpose::PasswordReset).await?;
        tracing::info!(user = %u.id, "password reset asked for");
    }
    Ok(HttpResponse::Accepted().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetConfirm {
    /// From the link in the mail.
    token: String,
    #[schema(schema_with = kadr_http::schema::password)]
    password: String,
}

/// Sets a new password with the token from a reset mail; every session is signed out.
#[utoipa::path(post, path = "/api/v1/auth/password-reset/confirm", tag = "accounts", request_body = ResetConfirm,
    responses((status = 204), (status = 400, description = "Bad password, or a token that is not valid", content_type = "application/problem+json")))]
async fn confirm_reset(
    ctx: web::Data<AppContext>,
    body: web::Json<ResetConfirm>,
) -> Result<HttpResponse, ApiError> {
    let b = body.into_inner();
    accounts::check_password(&b.password)?;
    let hash = crate::password::hash(b.password).await?;
    let tx = ctx.db.begin().await?;
    let user = kadr_core::mail::redeem(&tx, b.token.trim(), TokenPurpose::PasswordReset).await?;
    tx.commit().await?;
    // The mail reached the address: it is checked too.
    let revoked = accounts::set_password(&ctx.db, user, hash, None).await?;
    kadr_core::mail::mark_verified(&ctx.db, user).await?;
    for t in revoked {
        kadr_http::auth::forget_token(t);
    }
    kadr_http::auth::forget_user(user);
    tracing::info!(user = %user, "password reset");
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyEmail {
    /// From the link in the mail.
    token: String,
}

/// Confirms an address with the token from its check mail.
#[utoipa::path(post, path = "/api/v1/auth/email-verification", tag = "accounts", request_body = VerifyEmail,
    responses((status = 204), (status = 400, description = "A token that is not valid", content_type = "application/problem+json")))]
async fn verify_email(
    ctx: web::Data<AppContext>,
    body: web::Json<VerifyEmail>,
) -> Result<HttpResponse, ApiError> {
    let tx = ctx.db.begin().await?;
    let user = kadr_core::mail::verify_email(&tx, body.token.trim()).await?;
    tx.commit().await?;
    kadr_http::auth::forget_user(user);
    Ok(HttpResponse::NoContent().finish())
}

/// What this server offers, for clients to show or hide.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Features {
    /// Mail is set up: password reset by mail and address checks work.
    pub mail: bool,
    /// Direct uploads to storage (`/api/v1/direct-uploads`) are offered.
    pub direct_upload: bool,
}

#[utoipa::path(get, path = "/api/v1/features", tag = "accounts",
    responses((status = 200, body = Features)))]
async fn features(ctx: web::Data<AppContext>) -> HttpResponse {
    HttpResponse::Ok().json(Features {
        mail: ctx.config.mail.enabled(),
        direct_upload: crate::direct::offered(&ctx),
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UserQuery {
    /// The start of a username or e-mail address (any case).
    pub q: Option<String>,
    /// `active`, `suspended` or `banned`.
    pub standing: Option<String>,
    pub cursor: Option<String>,
    /// 1 to 100, default 24.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserPage {
    pub items: Vec<AdminUserView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// Users, newest first, found by the start of their name or address (administrators).
#[utoipa::path(get, path = "/api/v1/admin/users", tag = "accounts", params(UserQuery),
    responses((status = 200, body = UserPage), (status = 400, content_type = "application/problem+json"), (status = 401), (status = 403)),
    security(("bearer" = [])))]
async fn admin_users(
    ctx: web::Data<AppContext>,
    auth: SignedIn,
    q: web::Query<UserQuery>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let limit = u64::from(q.limit.unwrap_or(24));
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(Code::InvalidLimit, "limit is 1 to 100").field("limit"));
    }
    let mut values: Vec<sea_orm::Value> = Vec::new();
    let mut filter = String::from("TRUE");
    if let Some(text) = q.q.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        kadr_core::fields::plain_text("q", text, false)?;
        // A prefix: `%` and `_` typed in are taken literally.
        let escaped: String = text
            .to_lowercase()
            .chars()
            .take(100)
            .flat_map(|c| match c {
                '%' | '_' | '\\' => vec!['\\', c],
                c => vec![c],
            })
            .collect();
        values.push(format!("{escaped}%").into());
        let n = values.len();
        filter.push_str(&format!(
            " AND (lower(username) LIKE ${n} OR lower(email) LIKE ${n})"
        ));
    }
    if let Some(s) = &q.standing {
        let standing = kadr_core::state::Standing::parse(s).ok_or_else(|| {
            kadr_core::DomainError::invalid("standing", "standing is active, suspended or banned")
        })?;
        values.push(standing.as_str().into());
        filter.push_str(&format!(" AND standing = ${}", values.len()));
    }
    if let Some(c) = &q.cursor {
        let (t, id) = decode_cursor(c)?;
        values.push(t.into());
        values.push(id.into());
        filter.push_str(&format!(
            " AND (created_at, id) < (${}, ${})",
            values.len() - 1,
            values.len()
        ));
    }
    let mut rows = user::Model::find_by_statement(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        format!(
            "SELECT * FROM users WHERE {filter} ORDER BY created_at DESC, id DESC LIMIT {}",
            limit + 1
        ),
        values,
    ))
    .all(&ctx.db)
    .await?;
    let next_cursor = if rows.len() as u64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|u| encode_cursor(u.created_at, u.id))
    } else {
        None
    };
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "private, no-store"))
        .json(UserPage {
            items: rows
                .iter()
                .map(|u| AdminUserView::of(u, &ctx.config))
                .collect(),
            next_cursor,
        }))
}

fn encode_cursor(t: chrono::DateTime<chrono::FixedOffset>, id: Uuid) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{}|{id}", t.to_rfc3339()))
}

fn decode_cursor(c: &str) -> Result<(chrono::DateTime<chrono::FixedOffset>, Uuid), ApiError> {
    use base64::Engine;
    let bad = || {
        ApiError::bad_request(
            Code::InvalidCursor,
            "The cursor is not one this API handed out",
        )
        .field("cursor")
    };
    let text = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(bad)?;
    let (t, id) = text.split_once('|').ok_or_else(bad)?;
    Ok((
        chrono::DateTime::parse_from_rfc3339(t).map_err(|_| bad())?,
        id.parse().map_err(|_| bad())?,
    ))
}

/// A token to make for scripts or another system.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What it is for (shown in the list): "newsroom CMS", "nightly import".
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// `personal` (your own scripts) or `integration` (another system).
    #[serde(default)]
    #[schema(example = "integration")]
    pub kind: Option<String>,
    /// What it may do: `read`, `upload`, `manage`, `interact`, `moderate` (moderators),
    /// `admin` (administrators), `webhooks`. It never reaches the account itself (password,
    /// sessions and tokens, deletion, settings).
    #[schema(example = json!(["read", "upload"]))]
    pub scopes: Vec<String>,
    /// Days until it expires (1 to 3650; default 365).
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3650)]
    pub expires_in_days: Option<u32>,
}

/// A token, shown once.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MadeToken {
    pub id: Uuid,
    /// The bearer token itself: shown only now, only its hash is kept.
    pub token: String,
    pub name: String,
    pub kind: String,
    pub scopes: Vec<String>,
    pub expires_at: chrono::DateTime<chrono::FixedOffset>,
}

/// Makes a token with scopes for scripts or an integration (from a signed-in session only).
/// It is listed among the sessions and revoked like one.
#[utoipa::path(post, path = "/api/v1/me/tokens", tag = "accounts", operation_id = "make_token", request_body = NewToken,
    responses((status = 201, body = MadeToken),
        (status = 400, content_type = "application/problem+json"),
        (status = 401, content_type = "application/problem+json"),
        (status = 403, description = "`insufficient_scope`: not from a signed-in session; `forbidden`: scopes beyond the account's role", content_type = "application/problem+json"),
        (status = 409, description = "`too_many_tokens`", content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn make_token(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    body: web::Json<NewToken>,
) -> Result<HttpResponse, ApiError> {
    use kadr_core::state::TokenKind;
    let kind = match body.kind.as_deref().unwrap_or("personal") {
        "personal" => TokenKind::Personal,
        "integration" => TokenKind::Integration,
        _ => {
            return Err(ApiError::bad_request(
                Code::InvalidField,
                "A token is personal or integration",
            )
            .field("kind"));
        }
    };
    let scopes = kadr_core::scopes::parse_list(&body.scopes)?;
    let issued = accounts::make_token(
        &ctx.db,
        &auth.user,
        &body.name,
        kind,
        &scopes,
        body.expires_in_days.unwrap_or(365),
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Cache-Control", "no-store"))
        .json(MadeToken {
            id: issued.id,
            token: issued.token,
            name: body.name.trim().to_owned(),
            kind: kind.as_str().to_owned(),
            scopes: scopes.iter().map(|s| s.as_str().to_owned()).collect(),
            expires_at: issued.expires_at,
        }))
}
