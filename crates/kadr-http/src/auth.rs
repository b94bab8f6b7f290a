//! Bearer-token authentication shared by the services.
//!
//! Tokens are opaque random strings handed out by the upload API; only their SHA-256 is
//! stored. [`AuthUser`] requires a valid token (401 otherwise); [`MaybeUser`] accepts
//! anonymous requests but still refuses a bad token.

use std::future::Future;
use std::pin::Pin;
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use actix_web::{FromRequest, HttpRequest, web};
use kadr_core::Code;
use kadr_core::auth::token_hash;
use kadr_core::entities::user;
use kadr_core::scopes::{self, Scope};
use kadr_core::visibility::Viewer;

use crate::{ApiError, AppContext};

pub use kadr_core::auth::TOKEN_PREFIX;

/// The authenticated caller and the token it used.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: user::Model,
    pub token_id: uuid::Uuid,
    /// What the token may do; none: a sign-in session (everything the account may).
    pub scopes: Option<Vec<Scope>>,
}

/// The caller, when a token was given. For reads: the token's lookup may be reused for
/// `auth.cache_secs`.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<AuthUser>);

impl MaybeUser {
    /// Who is asking, for the visibility rule.
    pub fn viewer(&self) -> Viewer {
        self.0.as_ref().map(AuthUser::viewer).unwrap_or_default()
    }
}

impl AuthUser {
    /// Who is asking, for the visibility rule.
    pub fn viewer(&self) -> Viewer {
        Viewer::user(&self.user)
    }

    /// Whether the token is a sign-in session (not one made for scripts or integrations).
    pub fn is_session(&self) -> bool {
        self.scopes.is_none()
    }

    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.user.is_admin() {
            Ok(())
        } else {
            Err(ApiError::new(Code::Forbidden, "Administrators only"))
        }
    }
}

pub fn unauthorized(detail: &str) -> ApiError {
    kadr_core::auth::unauthorized(detail).into()
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
/// services of `kadr all` share it), keyed by the token's hash. Bounded: past
/// [`REUSED_MAX`] the least useful entries are evicted, never the whole table.
#[derive(Clone)]
struct Reused {
    at: Instant,
    expires_at: chrono::DateTime<chrono::FixedOffset>,
    user: AuthUser,
}

/// Most lookups kept.
const REUSED_MAX: u64 = 100_000;

static REUSED: LazyLock<moka::sync::Cache<Vec<u8>, Reused>> = LazyLock::new(|| {
    moka::sync::Cache::builder()
        .max_capacity(REUSED_MAX)
        // No lookup is reused past an hour, whatever `auth.cache_secs` says.
        .time_to_live(Duration::from_secs(3600))
        .support_invalidation_closures()
        .build()
});

/// A revoked token: no longer reused by this process.
pub fn forget_token(token_id: uuid::Uuid) {
    let _ = REUSED.invalidate_entries_if(move |_, e| e.user.token_id == token_id);
}

/// A user whose role or standing changed: their tokens are looked up again.
pub fn forget_user(user_id: uuid::Uuid) {
    let _ = REUSED.invalidate_entries_if(move |_, e| e.user.user.id == user_id);
}

/// The caller of `req`, if it gave a token that may do what the route needs
/// (`kadr_core::scopes`: 403 `insufficient_scope` otherwise).
async fn authenticate(req: HttpRequest, reuse: bool) -> Result<Option<AuthUser>, ApiError> {
    let found = look_up(&req, reuse).await?;
    if let Some(user) = &found
        && user.scopes.is_some()
    {
        let pattern = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
        let need = scopes::needed(req.method().as_str(), &pattern);
        if !scopes::allows(user.scopes.as_deref(), need) {
            return Err(scopes::insufficient(need).into());
        }
    }
    Ok(found)
}

/// The caller of `req`, if it gave a token. With `reuse` (reads), a lookup of the same token
/// younger than `auth.cache_secs` is reused while the token has not expired.
async fn look_up(req: &HttpRequest, reuse: bool) -> Result<Option<AuthUser>, ApiError> {
    let Some(token) = bearer(req)? else {
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
        && let Some(e) = REUSED.get(&hash)
        && e.at.elapsed() < ttl
        && e.expires_at > chrono::Utc::now()
    {
        tracing::Span::current().record("user", tracing::field::display(e.user.user.id));
        return Ok(Some(e.user));
    }
    let at = Instant::now();
    let found = kadr_core::auth::caller(&ctx.db, hash.clone()).await?;
    tracing::Span::current().record("user", tracing::field::display(found.user.id));
    let user = AuthUser {
        user: found.user,
        token_id: found.token_id,
        scopes: found.scopes,
    };
    if !ttl.is_zero() {
        REUSED.insert(
            hash,
            Reused {
                at,
                expires_at: found.expires_at,
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

/// A signed-in caller, for reads that need one (my feed, my notifications): like
/// [`AuthUser`], but the token's lookup may be reused for `auth.cache_secs`, as for
/// [`MaybeUser`] (a revoked token keeps reading for at most that long; writes take
/// [`AuthUser`], looked up every time).
pub struct SignedIn(pub AuthUser);

impl std::ops::Deref for SignedIn {
    type Target = AuthUser;

    fn deref(&self) -> &AuthUser {
        &self.0
    }
}

impl FromRequest for SignedIn {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            authenticate(req, true)
                .await?
                .map(SignedIn)
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
