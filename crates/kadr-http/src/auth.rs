//! Bearer-token authentication shared by the services.
//!
//! Tokens are opaque random strings handed out by the upload API; only their SHA-256 is
//! stored. [`AuthUser`] requires a valid token (401 otherwise); [`MaybeUser`] accepts
//! anonymous requests but still refuses a bad token.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use actix_web::{FromRequest, HttpRequest, web};
use kadr_db::entities::{api_token, user};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::{ApiError, AppContext};

/// Prefix of every token, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "kadr_";

/// SHA-256 of a token: what is stored and looked up.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// The authenticated caller and the token it used.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: user::Model,
    pub token_id: uuid::Uuid,
}

/// The caller, when a token was given. For reads: the token's lookup may be reused for
/// `auth.cache_secs`.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

impl AuthUser {
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.is_admin() {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "Administrators only",
            ))
        }
    }
}

pub fn unauthorized(detail: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "Authentication required",
    )
    .detail(detail)
}

fn bearer(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("authorization") else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("the Authorization header is not valid text"))?;
    match value.split_once(' ') {
        Some((scheme, token))
            if scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty() =>
        {
            Ok(Some(token.trim().to_owned()))
        }
        _ => Err(unauthorized("use `Authorization: Bearer <token>`")),
    }
}

/// Token lookups reused by reads ([`MaybeUser`]) for `auth.cache_secs`, process-wide (the
/// services of `kadr all` share it), keyed by the token's hash.
struct Reused {
    at: Instant,
    expires_at: chrono::DateTime<chrono::FixedOffset>,
    user: AuthUser,
}

static REUSED: LazyLock<Mutex<HashMap<Vec<u8>, Reused>>> = LazyLock::new(Default::default);

/// Most lookups kept; past it the table starts over.
const REUSED_MAX: usize = 100_000;

/// A revoked token: no longer reused by this process.
pub fn forget_token(token_id: uuid::Uuid) {
    if let Ok(mut r) = REUSED.lock() {
        r.retain(|_, e| e.user.token_id != token_id);
    }
}

/// A user whose role or standing changed: their tokens are looked up again.
pub fn forget_user(user_id: uuid::Uuid) {
    if let Ok(mut r) = REUSED.lock() {
        r.retain(|_, e| e.user.user.id != user_id);
    }
}

async fn lookup(
    ctx: &AppContext,
    hash: Vec<u8>,
) -> Result<(AuthUser, chrono::DateTime<chrono::FixedOffset>), ApiError> {
    let now = chrono::Utc::now();
    let found = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash))
        .find_also_related(user::Entity)
        .one(&ctx.db)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    match found {
        Some((t, Some(u))) if t.revoked_at.is_none() && t.expires_at > now => Ok((
            AuthUser {
                user: u,
                token_id: t.id,
            },
            t.expires_at,
        )),
        Some((t, Some(_))) if t.revoked_at.is_none() => Err(unauthorized("the token has expired")),
        _ => Err(unauthorized("the token is not valid")),
    }
}

/// The caller of `req`, if it gave a token. With `reuse` (reads), a lookup of the same token
/// younger than `auth.cache_secs` is reused while the token has not expired.
async fn authenticate(req: HttpRequest, reuse: bool) -> Result<Option<AuthUser>, ApiError> {
    let Some(token) = bearer(&req)? else {
        return Ok(None);
    };
    let ctx = req
        .app_data::<web::Data<AppContext>>()
        .ok_or_else(|| ApiError::internal(&"application context missing"))?;
    let ttl = if reuse {
        Duration::from_secs(ctx.config.auth.cache_secs)
    } else {
        Duration::ZERO
    };
    let hash = token_hash(&token);
    if !ttl.is_zero()
        && let Ok(r) = REUSED.lock()
        && let Some(e) = r.get(&hash)
        && e.at.elapsed() < ttl
        && e.expires_at > chrono::Utc::now()
    {
        return Ok(Some(e.user.clone()));
    }
    let at = Instant::now();
    let (user, expires_at) = lookup(ctx, hash.clone()).await?;
    if !ttl.is_zero()
        && let Ok(mut r) = REUSED.lock()
    {
        if r.len() >= REUSED_MAX {
            r.clear();
        }
        r.insert(
            hash,
            Reused {
                at,
                expires_at,
                user: user.clone(),
            },
        );
    }
    Ok(Some(user))
}

impl FromRequest for AuthUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(req, false)
                .await?
                .ok_or_else(|| unauthorized("no bearer token was given"))
        })
    }
}

impl FromRequest for MaybeUser {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { authenticate(req, true).await.map(MaybeUser) })
    }
}
