//! Accounts and tokens: registration, login (rate-limited), logout, the first admin, and the
//! admin's role/verified switch.

use kadr_core::Code;
use kadr_core::state::Role;
use std::net::IpAddr;
use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use base64::Engine;
use kadr_core::entities::user;
use kadr_core::{DomainError, accounts};
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use kadr_core::throttle::{self, Verdict};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/users", web::post().to(register))
        .route("/api/v1/me", web::get().to(me))
        .route("/api/v1/auth/token", web::post().to(login))
        .route("/api/v1/auth/token", web::delete().to(logout))
        .route(
            "/api/v1/admin/users/{id}",
            web::patch().to(admin_update_user),
        );
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Register {
    #[schema(schema_with = kadr_http::schema::username)]
    username: String,
    email: String,
    #[schema(schema_with = kadr_http::schema::password)]
    password: String,
}

/// A user as the API shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UserView {
    pub id: Uuid,
    pub username: String,
    #[schema(schema_with = kadr_http::schema::role)]
    pub role: String,
    pub verified: bool,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
}

impl From<&user::Model> for UserView {
    fn from(u: &user::Model) -> Self {
        UserView {
            id: u.id,
            username: u.username.clone(),
            role: u.role.as_str().to_owned(),
            verified: u.verified,
            created_at: u.created_at,
        }
    }
}

/// Creates an account and its channel (the handle is the username).
#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = Register,
    responses((status = 201, description = "The user and its channel"), (status = 400, content_type = "application/problem+json"), (status = 409, description = "Username or e-mail taken", content_type = "application/problem+json")))]
async fn register(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: web::Json<Register>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let username = body.username.trim();
    let email = body.email.trim().to_lowercase();
    accounts::check_username(username)?;
    accounts::check_email(&email)?;
    accounts::check_password(&body.password)?;
    // Counted before the costly part, per address (IPv6 by /64), in Postgres for every replica.
    let key = format!("register:{}", client_ip(&ctx, &req));
    let per_hour = ctx.config.auth.register_max_per_hour;
    if let Verdict::Blocked(wait) =
        throttle::attempt(&ctx.db, &key, per_hour, Duration::from_secs(3600)).await?
    {
        return Err(throttle::too_many(
            Code::TooManyRegistrations,
            "Too many new accounts from your address",
            wait,
        )
        .into());
    }
    let hash = crate::password::hash(body.password).await?;
    let user = accounts::create_user(&ctx.db, username, &email, hash, Role::User, false).await?;
    tracing::info!(user = %user.id, username = %user.username, "user registered");
    // The address is checked by mail when mail is set up (the account works meanwhile).
    if ctx.config.mail.enabled()
        && let Err(e) = kadr_core::mail::enqueue(
            &ctx.db,
            &ctx.config,
            user.id,
            kadr_core::state::TokenPurpose::EmailVerification,
        )
        .await
    {
        tracing::warn!(user = %user.id, error = %e, "could not ask for the address check mail");
    }
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(json!({ "user": UserView::from(&user), "channel": { "handle": user.username } })))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = crate::account::MeView), (status = 401)), security(("bearer" = [])))]
async fn me(ctx: web::Data<AppContext>, auth: AuthUser) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(crate::account::MeView::of(&auth.user, &ctx.config))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    #[schema(schema_with = kadr_http::schema::login_name)]
    username: String,
    password: String,
    #[serde(default)]
    token_name: Option<String>,
}

/// A new bearer token: send it as `Authorization: Bearer <token>`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenJson {
    pub token: String,
    #[schema(schema_with = kadr_http::schema::bearer)]
    pub token_type: &'static str,
    pub expires_at: chrono::DateTime<chrono::FixedOffset>,
    pub user: UserView,
}

/// The client's address as limits count it (a trusted proxy's word; IPv6 by /64).
fn client_ip(ctx: &AppContext, req: &HttpRequest) -> String {
    kadr_http::client::address_key(ctx.client_ip(req).unwrap_or(IpAddr::from([0, 0, 0, 0])))
}

/// A bearer token for the account (failed attempts are limited per account and address).
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "accounts", request_body = Login,
    responses((status = 200, body = TokenJson, description = "A bearer token and its expiry"), (status = 401, content_type = "application/problem+json"), (status = 429, content_type = "application/problem+json")))]
async fn login(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    body: web::Json<Login>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    accounts::check_login(&body.username, &body.password, body.token_name.as_deref())?;
    let auth = &ctx.config.auth;
    let window = Duration::from_secs(auth.login_window_secs);
    let address = client_ip(&ctx, &req);
    // Per (account, address): nobody can lock the admin out from elsewhere. Per address: an
    // address may be shared by many people (NAT, an office), so it gets five times as many.
    // Both are counted before the password is checked, so concurrent guesses get no more
    // tries than serial ones.
    let account_key = format!("login:{}|{address}", body.username.trim().to_lowercase());
    let address_key = format!("login-ip:{address}");
    for (key, max) in [
        (&account_key, auth.login_max_failures),
        (&address_key, auth.login_max_failures.saturating_mul(5)),
    ] {
        if let Verdict::Blocked(wait) = throttle::attempt(&ctx.db, key, max, window).await? {
            return Err(
                throttle::too_many(Code::TooManyAttempts, "Too many failed logins", wait).into(),
            );
        }
    }
    let found = accounts::by_name(&ctx.db, &body.username).await?;
    // Verify against a real hash even for unknown names, so timing does not tell them apart.
    let (hash, user) = match found {
        Some(u) => (u.password_hash.clone(), Some(u)),
        None => (dummy_hash().to_owned(), None),
    };
    let ok = crate::password::verify(body.password, hash).await?;
    let Some(user) = user.filter(|_| ok) else {
        // The attempt stays counted.
        return Err(ApiError::new(
            Code::InvalidCredentials,
            "Wrong username or password",
        ));
    };
    throttle::clear(&ctx.db, &account_key).await?;
    throttle::refund(&ctx.db, &address_key).await?;
    // Only who knows the password learns that the account is suspended or banned.
    kadr_core::standing::check_active(user.standing, user.suspended_until)?;
    if user.deleting_at.is_some() {
        return Err(ApiError::new(
            Code::InvalidCredentials,
            "Wrong username or password",
        ));
    }
    let agent = req
        .headers()
        .get("user-agent")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let issued = accounts::issue_token(
        &ctx.db,
        user.id,
        body.token_name,
        agent,
        auth.token_ttl_hours,
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenJson {
            token: issued.token,
            token_type: "Bearer",
            expires_at: issued.expires_at,
            user: UserView::from(&user),
        }))
}

/// A valid argon2id hash of a random password, computed once.
fn dummy_hash() -> &'static str {
    static HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    HASH.get_or_init(|| {
        let salt_bytes: [u8; 16] = rand::random();
        let pw: [u8; 16] = rand::random();
        match SaltString::encode_b64(&salt_bytes) {
            Ok(salt) => Argon2::default()
                .hash_password(&pw, &salt)
                .map(|h| h.to_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        }
    })
}

/// Revokes the token used.
#[utoipa::path(delete, path = "/api/v1/auth/token", tag = "accounts",
    responses((status = 204), (status = 401)), security(("bearer" = [])))]
async fn logout(ctx: web::Data<AppContext>, auth: AuthUser) -> Result<HttpResponse, ApiError> {
    accounts::revoke_token(&ctx.db, auth.token_id).await?;
    kadr_http::auth::forget_token(auth.token_id);
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AdminUpdate {
    #[schema(schema_with = kadr_http::schema::role_given)]
    role: Option<String>,
    verified: Option<bool>,
    /// Bytes this user may store (0: no limit); `null` goes back to `upload.user_quota_bytes`.
    #[serde(default, deserialize_with = "crate::account::some")]
    #[schema(value_type = Option<i64>, minimum = 0)]
    quota_bytes: Option<Option<i64>>,
}

/// Sets a user's role, verified flag and quota (admins); each change is recorded.
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "accounts", request_body = AdminUpdate,
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = crate::account::AdminUserView), (status = 400, content_type = "application/problem+json"), (status = 403), (status = 404)), security(("bearer" = [])))]
async fn admin_update_user(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<AdminUpdate>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let body = body.into_inner();
    let role = match &body.role {
        Some(r) => Some(Role::parse(r).ok_or_else(|| {
            DomainError::invalid("role", "role is one of user, moderator, admin")
        })?),
        None => None,
    };
    let change = accounts::AdminChange {
        role,
        verified: body.verified,
        quota_bytes: body.quota_bytes,
    };
    let updated = accounts::update_user(&ctx.db, &auth.user, path.into_inner(), &change).await?;
    kadr_http::auth::forget_user(updated.id);
    tracing::info!(admin = %auth.user.id, user = %updated.id, role = %updated.role, verified = updated.verified, "user updated by admin");
    Ok(HttpResponse::Ok().json(crate::account::AdminUserView::of(&updated, &ctx.config)))
}

/// Creates the `admin` account on first start, with `KADR_ADMIN_PASSWORD` or a generated
/// password written to `<data_dir>/admin-password` (readable by its owner only); the log says
/// where, never what.
pub async fn ensure_admin(ctx: &AppContext) -> Result<(), ApiError> {
    if accounts::exists(&ctx.db, "admin").await? {
        return Ok(());
    }
    let (password, generated) = match &ctx.config.admin_password {
        Some(p) if !p.is_empty() => (p.expose().to_owned(), false),
        _ => {
            let bytes: [u8; 18] = rand::random();
            (
                base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes),
                true,
            )
        }
    };
    let hash = crate::password::hash(password.clone()).await?;
    match accounts::create_user(
        &ctx.db,
        "admin",
        "admin@localhost.invalid",
        hash,
        Role::Admin,
        true,
    )
    .await
    {
        Ok(_) => {
            if generated {
                let file = ctx.config.data_dir.join("admin-password");
                write_private(&file, &password)
                    .map_err(|e| ApiError::internal(&format!("writing {}: {e}", file.display())))?;
                tracing::warn!(
                    file = %file.display(),
                    "created the admin account with a generated password, written to {} \
                     (set KADR_ADMIN_PASSWORD to choose it)",
                    file.display()
                );
            } else {
                tracing::info!("created the admin account");
            }
            Ok(())
        }
        // Another process created it first.
        Err(e) if e.code() == Some(Code::UsernameTaken) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Writes `text` to `path`, readable and writable by its owner only (created so, never widened).
fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    f.set_permissions(std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")?;
    f.sync_all()
}
