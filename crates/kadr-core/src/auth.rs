//! Bearer tokens: opaque random strings handed out at sign-in, of which only the SHA-256 is
//! stored.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use sha2::{Digest, Sha256};

use crate::codes::Code;
use crate::entities::{api_token, user};
use crate::error::DomainError;

/// Prefix of every token, so leaked tokens are easy to recognise and scan for.
pub const TOKEN_PREFIX: &str = "kadr_";

/// SHA-256 of a token: what is stored and looked up.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

/// Who a valid token belongs to.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: user::Model,
    pub token_id: uuid::Uuid,
    pub expires_at: chrono::DateTime<chrono::FixedOffset>,
    /// What the token may do; none: a sign-in session (everything the account may).
    pub scopes: Option<Vec<crate::scopes::Scope>>,
}

/// 401 with words for why.
pub fn unauthorized(detail: &str) -> DomainError {
    DomainError::refused(Code::Unauthorized, "Authentication required").detail(detail)
}

/// The owner of the token whose hash is `hash`: refused when there is none, or it was revoked
/// or has expired.
pub async fn caller<C: ConnectionTrait>(db: &C, hash: Vec<u8>) -> Result<Caller, DomainError> {
    let now = chrono::Utc::now();
    let found = api_token::Entity::find()
        .filter(api_token::Column::TokenHash.eq(hash))
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    match found {
        Some((t, Some(u))) if t.revoked_at.is_none() && t.expires_at > now => {
            // Tokens of a suspended or banned account are revoked with the sanction; this
            // also covers a token issued in a race with it.
            crate::standing::check_active(u.standing, u.suspended_until)?;
            if u.deleting_at.is_some() {
                return Err(unauthorized("the account is being deleted"));
            }
            // When it was last used, for the list of sessions: to the hour, so a busy token
            // writes once an hour, not with every request.
            if t.last_used_at
                .is_none_or(|at| now - at.to_utc() > chrono::Duration::hours(1))
            {
                db.execute_raw(sea_orm::Statement::from_sql_and_values(
                    sea_orm::DbBackend::Postgres,
                    "UPDATE api_tokens SET last_used_at = now() WHERE id = $1",
                    [t.id.into()],
                ))
                .await?;
            }
            // A name no longer known grants nothing.
            let scopes = t.scopes.map(|names| {
                names
                    .iter()
                    .filter_map(|n| crate::scopes::Scope::parse(n))
                    .collect()
            });
            Ok(Caller {
                user: u,
                token_id: t.id,
                expires_at: t.expires_at,
                scopes,
            })
        }
        Some((t, Some(_))) if t.revoked_at.is_none() => Err(unauthorized("the token has expired")),
        _ => Err(unauthorized("the token is not valid")),
    }
}
