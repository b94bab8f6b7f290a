//! Accounts and tokens: registration, login (rate-limited), logout, the first admin, and the
//! admin's role/verified switch.

use kadr_core::Code;
use kadr_core::state::Role;
use std::net::IpAddr;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, SaltString};
use base64::Engine;
use chrono::Utc;
use kadr_core::auth::{TOKEN_PREFIX, token_hash};
use kadr_core::entities::{api_token, channel, user};
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, SqlErr,
    TransactionTrait,
};
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

fn invalid(field: &str, title: &str) -> ApiError {
    ApiError::bad_request(Code::InvalidField, title.to_owned()).field(field)
}

fn validate_username(name: &str) -> Result<(), ApiError> {
    let count = name.chars().count();
    if !kadr_core::fields::USERNAME_LEN.contains(&count) {
        return Err(invalid("username", "A username has 3 to 32 characters"));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(invalid(
            "username",
            "A username has letters, digits, '_', '.' and '-' only",
        ));
    }
    Ok(())
}

fn validate_email(email: &str) -> Result<(), ApiError> {
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if ok {
        Ok(())
    } else {
        Err(invalid("email", "Not an e-mail address"))
    }
}

fn validate_password(password: &str) -> Result<(), ApiError> {
    let count = password.chars().count();
    if kadr_core::fields::PASSWORD_LEN.contains(&count) {
        Ok(())
    } else {
        Err(invalid("password", "A password has 8 to 256 characters"))
    }
}

/// argon2id, under the process's hashing limit (see [`crate::password`]).
pub async fn hash_password(password: String) -> Result<String, ApiError> {
    crate::password::hash(password).await
}

/// Maps unique-index violations to 409s naming the field.
fn conflict_or_internal(err: DbErr) -> ApiError {
    if let Some(SqlErr::UniqueConstraintViolation(msg)) = err.sql_err() {
        if msg.contains("users_email_key") {
            return ApiError::new(
                Code::EmailTaken,
                "That e-mail address is already registered",
            )
            .field("email");
        }
        if msg.contains("users_username_key") || msg.contains("channels_handle_key") {
            return ApiError::new(Code::UsernameTaken, "That username is taken").field("username");
        }
    }
    err.into()
}

/// Creates a user and its default channel in one transaction.
pub async fn create_user(
    ctx: &AppContext,
    username: &str,
    email: &str,
    password_hash: String,
    role: Role,
    verified: bool,
) -> Result<user::Model, ApiError> {
    let tx = ctx.db.begin().await?;
    let now = Utc::now().fixed_offset();
    let user = user::ActiveModel {
        id: Set(Uuid::now_v7()),
        username: Set(username.to_owned()),
        email: Set(email.to_owned()),
        password_hash: Set(password_hash),
        role: Set(role),
        verified: Set(verified),
        storage_used_bytes: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await
    .map_err(conflict_or_internal)?;
    channel::ActiveModel {
        id: Set(Uuid::now_v7()),
        owner_id: Set(user.id),
        handle: Set(username.to_owned()),
        display_name: Set(username.to_owned()),
        description: Set(String::new()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(&tx)
    .await
    .map_err(conflict_or_internal)?;
    tx.commit().await?;
    Ok(user)
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
    validate_username(username)?;
    validate_email(&email)?;
    validate_password(&body.password)?;
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
    let hash = hash_password(body.password).await?;
    let user = create_user(&ctx, username, &email, hash, Role::User, false).await?;
    tracing::info!(user = %user.id, username = %user.username, "user registered");
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/users/{}", user.id)))
        .json(json!({ "user": UserView::from(&user), "channel": { "handle": user.username } })))
}

#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    responses((status = 200, body = UserView), (status = 401)), security(("bearer" = [])))]
async fn me(auth: AuthUser) -> HttpResponse {
    HttpResponse::Ok().json(UserView::from(&auth.user))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Login {
    username: String,
    password: String,
    #[serde(default)]
    token_name: Option<String>,
}

/// A new bearer token: send it as `Authorization: Bearer <token>`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenJson {
    pub token: String,
    /// Always `Bearer`.
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
    // Lengths first: nothing else is done for a name or password no account can have.
    if body.username.chars().count() > 64 {
        return Err(invalid("username", "A username has at most 64 characters"));
    }
    kadr_core::fields::plain_text("username", &body.username, false)?;
    if let Some(name) = &body.token_name {
        kadr_core::fields::plain_text("token_name", name, false)?;
    }
    if body.password.len() > 1024 {
        return Err(invalid("password", "A password has at most 256 characters"));
    }
    if body
        .token_name
        .as_ref()
        .is_some_and(|n| n.chars().count() > 100)
    {
        return Err(invalid(
            "token_name",
            "A token name has at most 100 characters",
        ));
    }
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
    let found = user::Entity::find()
        .filter(sea_orm::sea_query::Expr::cust_with_values(
            "lower(username) = $1",
            [body.username.trim().to_lowercase()],
        ))
        .one(&ctx.db)
        .await?;
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

    let random: [u8; 32] = rand::random();
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    );
    let now = Utc::now();
    let expires_at = now
        + chrono::Duration::hours(i64::try_from(auth.token_ttl_hours).unwrap_or(i64::MAX / 3600));
    api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user.id),
        token_hash: Set(token_hash(&token)),
        name: Set(body.token_name.unwrap_or_default()),
        created_at: Set(now.fixed_offset()),
        expires_at: Set(expires_at.fixed_offset()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&ctx.db)
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header(("Cache-Control", "no-store"))
        .json(TokenJson {
            token,
            token_type: "Bearer",
            expires_at: expires_at.fixed_offset(),
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
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::current_timestamp(),
        )
        .filter(api_token::Column::Id.eq(auth.token_id))
        .exec(&ctx.db)
        .await?;
    kadr_http::auth::forget_token(auth.token_id);
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct AdminUpdate {
    #[schema(schema_with = kadr_http::schema::role_given)]
    role: Option<String>,
    verified: Option<bool>,
}

/// Sets a user's role and verified flag (admins).
#[utoipa::path(patch, path = "/api/v1/admin/users/{id}", tag = "accounts", request_body = AdminUpdate,
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, body = UserView), (status = 400, content_type = "application/problem+json"), (status = 403), (status = 404)), security(("bearer" = [])))]
async fn admin_update_user(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<AdminUpdate>,
) -> Result<HttpResponse, ApiError> {
    auth.require_admin()?;
    let body = body.into_inner();
    let role = match &body.role {
        Some(r) => Some(
            Role::parse(r)
                .ok_or_else(|| invalid("role", "role is one of user, moderator, admin"))?,
        ),
        None => None,
    };
    let found = user::Entity::find_by_id(path.into_inner())
        .one(&ctx.db)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let mut active: user::ActiveModel = found.into();
    if let Some(role) = role {
        active.role = Set(role);
    }
    if let Some(verified) = body.verified {
        active.verified = Set(verified);
    }
    active.updated_at = Set(Utc::now().fixed_offset());
    let updated = active.update(&ctx.db).await?;
    kadr_http::auth::forget_user(updated.id);
    tracing::info!(admin = %auth.user.id, user = %updated.id, role = %updated.role, verified = updated.verified, "user updated by admin");
    Ok(HttpResponse::Ok().json(UserView::from(&updated)))
}

/// Creates the `admin` account on first start, with `KADR_ADMIN_PASSWORD` or a generated
/// password written to `<data_dir>/admin-password` (readable by its owner only); the log says
/// where, never what.
pub async fn ensure_admin(ctx: &AppContext) -> Result<(), ApiError> {
    let exists = user::Entity::find()
        .filter(user::Column::Username.eq("admin"))
        .one(&ctx.db)
        .await?
        .is_some();
    if exists {
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
    let hash = hash_password(password.clone()).await?;
    match create_user(
        ctx,
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
        Err(e) if e.status == StatusCode::CONFLICT => Ok(()),
        Err(e) => Err(e),
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
