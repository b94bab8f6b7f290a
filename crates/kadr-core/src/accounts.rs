//! Accounts: the rules of names, addresses and passwords, a user with their channel, bearer
//! tokens issued and revoked, and an administrator's change of a role.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, QuerySelect, SqlErr, TransactionTrait,
};
use uuid::Uuid;

use crate::auth::{TOKEN_PREFIX, token_hash};
use crate::codes::Code;
use crate::entities::{api_token, channel, user};
use crate::error::DomainError;
use crate::fields::{PASSWORD_LEN, USERNAME_LEN};
use crate::state::{Role, TokenKind};

/// The longest username a sign-in looks up.
pub const LOGIN_NAME_MAX: usize = 64;
/// The longest password a sign-in hashes, in bytes.
pub const LOGIN_PASSWORD_MAX_BYTES: usize = 1024;
/// The longest token name.
pub const TOKEN_NAME_MAX: usize = 100;

/// 3 to 32 letters, digits, `_`, `.` and `-` (any script: Cyrillic and Arabic names too).
pub fn check_username(name: &str) -> Result<(), DomainError> {
    if !USERNAME_LEN.contains(&name.chars().count()) {
        return Err(DomainError::invalid(
            "username",
            "A username has 3 to 32 characters",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(DomainError::invalid(
            "username",
            "A username has letters, digits, '_', '.' and '-' only",
        ));
    }
    Ok(())
}

pub fn check_email(email: &str) -> Result<(), DomainError> {
    let ok = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid("email", "Not an e-mail address"))
    }
}

pub fn check_password(password: &str) -> Result<(), DomainError> {
    if PASSWORD_LEN.contains(&password.chars().count()) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "password",
            "A password has 8 to 256 characters",
        ))
    }
}

/// What a sign-in gives: nothing else is done for a name, password or token name no account
/// could have.
pub fn check_login(
    username: &str,
    password: &str,
    token_name: Option<&str>,
) -> Result<(), DomainError> {
    if username.chars().count() > LOGIN_NAME_MAX {
        return Err(DomainError::invalid(
            "username",
            "A username has at most 64 characters",
        ));
    }
    crate::fields::plain_text("username", username, false)?;
    if password.len() > LOGIN_PASSWORD_MAX_BYTES {
        return Err(DomainError::invalid(
            "password",
            "A password has at most 1024 bytes",
        ));
    }
    if let Some(name) = token_name {
        crate::fields::plain_text("token_name", name, false)?;
        if name.chars().count() > TOKEN_NAME_MAX {
            return Err(DomainError::invalid(
                "token_name",
                "A token name has at most 100 characters",
            ));
        }
    }
    Ok(())
}

/// Unique-index violations as 409s naming the field.
fn taken(err: DbErr) -> DomainError {
    if let Some(SqlErr::UniqueConstraintViolation(msg)) = err.sql_err() {
        if msg.contains("users_email_key") {
            return DomainError::refused(
                Code::EmailTaken,
                "That e-mail address is already registered",
            )
            .field("email");
        }
        if msg.contains("users_username_key") || msg.contains("channels_handle_key") {
            return DomainError::refused(Code::UsernameTaken, "That username is taken")
                .field("username");
        }
    }
    err.into()
}

/// A new user and their channel (its handle is the username), in one transaction.
pub async fn create_user(
    db: &DatabaseConnection,
    username: &str,
    email: &str,
    password_hash: String,
    role: Role,
    verified: bool,
) -> Result<user::Model, DomainError> {
    let tx = db.begin().await?;
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
        ..Default::default()
    }
    .insert(&tx)
    .await
    .map_err(taken)?;
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
    .map_err(taken)?;
    tx.commit().await?;
    Ok(user)
}

/// The user signing in as `name` (case does not matter).
pub async fn by_name(
    db: &impl ConnectionTrait,
    name: &str,
) -> Result<Option<user::Model>, DomainError> {
    Ok(user::Entity::find()
        .filter(sea_orm::sea_query::Expr::cust_with_values(
            "lower(username) = $1",
            [name.trim().to_lowercase()],
        ))
        .one(db)
        .await?)
}

/// A token as handed out, once: only its hash is kept.
#[derive(Debug, Clone)]
pub struct Issued {
    pub id: Uuid,
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::FixedOffset>,
}

/// A new bearer token of `user`, valid `ttl_hours`: a sign-in session.
pub async fn issue_token(
    db: &impl ConnectionTrait,
    user: Uuid,
    name: Option<String>,
    user_agent: &str,
    ttl_hours: u64,
) -> Result<Issued, DomainError> {
    insert_token(
        db,
        user,
        name,
        user_agent,
        ttl_hours,
        TokenKind::Session,
        None,
    )
    .await
}

async fn insert_token(
    db: &impl ConnectionTrait,
    user: Uuid,
    name: Option<String>,
    user_agent: &str,
    ttl_hours: u64,
    kind: TokenKind,
    scopes: Option<Vec<String>>,
) -> Result<Issued, DomainError> {
    use base64::Engine;
    let random: [u8; 32] = rand::random();
    let token = format!(
        "{TOKEN_PREFIX}{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
    );
    let now = Utc::now();
    let expires_at =
        now + chrono::Duration::hours(i64::try_from(ttl_hours).unwrap_or(i64::MAX / 3600));
    let id = Uuid::now_v7();
    api_token::ActiveModel {
        id: Set(id),
        user_id: Set(user),
        token_hash: Set(token_hash(&token)),
        name: Set(name.unwrap_or_default()),
        created_at: Set(now.fixed_offset()),
        expires_at: Set(expires_at.fixed_offset()),
        // Issued at sign-in, which is a use; a token made on purpose is unused until used.
        last_used_at: Set((kind == TokenKind::Session).then(|| now.fixed_offset())),
        revoked_at: Set(None),
        user_agent: Set(user_agent
            .chars()
            .filter(|c| !c.is_control())
            .take(200)
            .collect()),
        kind: Set(kind),
        scopes: Set(scopes),
    }
    .insert(db)
    .await?;
    Ok(Issued {
        id,
        token,
        expires_at: expires_at.fixed_offset(),
    })
}

/// Most tokens made on purpose one account keeps (sessions apart).
pub const MAX_MADE_TOKENS: u64 = 50;

/// A token made on purpose: for a person's scripts (`personal`) or for another system
/// (`integration`), named, with its scopes, valid `days`. Scopes beyond the account's role
/// (moderate, admin) are refused.
pub async fn make_token(
    db: &impl ConnectionTrait,
    user: &user::Model,
    name: &str,
    kind: TokenKind,
    scopes: &[crate::scopes::Scope],
    days: u32,
) -> Result<Issued, DomainError> {
    use crate::scopes::Scope;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            "A token's name is 1 to 100 characters, without control characters",
        ));
    }
    if kind == TokenKind::Session {
        return Err(DomainError::invalid(
            "kind",
            "A token is personal or integration",
        ));
    }
    if scopes.is_empty() {
        return Err(DomainError::invalid(
            "scopes",
            "A token needs at least one scope",
        ));
    }
    if !(1..=3650).contains(&days) {
        return Err(DomainError::invalid(
            "expires_in_days",
            "A token lives 1 to 3650 days",
        ));
    }
    if (scopes.contains(&Scope::Moderate) && !user.role.moderates())
        || (scopes.contains(&Scope::Admin) && !user.is_admin())
    {
        return Err(DomainError::refused(
            Code::Forbidden,
            "The account does not have the rights these scopes name",
        ));
    }
    use sea_orm::PaginatorTrait;
    let made = api_token::Entity::find()
        .filter(api_token::Column::UserId.eq(user.id))
        .filter(api_token::Column::Kind.ne(TokenKind::Session))
        .filter(api_token::Column::RevokedAt.is_null())
        .filter(api_token::Column::ExpiresAt.gt(Utc::now()))
        .count(db)
        .await?;
    if made >= MAX_MADE_TOKENS {
        return Err(
            DomainError::refused(Code::TooManyTokens, "The account keeps too many tokens")
                .detail(format!("revoke one first (at most {MAX_MADE_TOKENS})")),
        );
    }
    let issued = insert_token(
        db,
        user.id,
        Some(name.to_owned()),
        "",
        u64::from(days) * 24,
        kind,
        Some(scopes.iter().map(|s| s.as_str().to_owned()).collect()),
    )
    .await?;
    Ok(issued)
}

/// Revokes a token.
pub async fn revoke_token(db: &impl ConnectionTrait, token: Uuid) -> Result<(), DomainError> {
    api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::current_timestamp(),
        )
        .filter(api_token::Column::Id.eq(token))
        .exec(db)
        .await?;
    Ok(())
}

/// What an administrator changes of a user.
#[derive(Debug, Clone, Default)]
pub struct AdminChange {
    pub role: Option<Role>,
    pub verified: Option<bool>,
    /// `Some(None)`: back to `upload.user_quota_bytes`; `Some(Some(0))`: no limit.
    pub quota_bytes: Option<Option<i64>>,
}

/// An administrator's change of a user's role, verified flag and quota, each recorded in the
/// moderators' record.
pub async fn update_user(
    db: &DatabaseConnection,
    admin: &user::Model,
    id: Uuid,
    change: &AdminChange,
) -> Result<user::Model, DomainError> {
    use crate::standing::{Entry, record};
    use crate::state::{ModerationAction, ObjectType};
    if change.quota_bytes.flatten().is_some_and(|q| q < 0) {
        return Err(DomainError::invalid(
            "quota_bytes",
            "A quota is 0 or more bytes",
        ));
    }
    let tx = db.begin().await?;
    let found = user::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&tx)
        .await?
        .ok_or(DomainError::NotFound)?;
    let mut entries = Vec::new();
    let mut active: user::ActiveModel = found.clone().into();
    if let Some(role) = change.role.filter(|r| *r != found.role) {
        active.role = Set(role);
        let mut e = Entry::new(ModerationAction::Role, Some(id), "");
        e.data = serde_json::json!({ "from": found.role.as_str(), "to": role.as_str() });
        entries.push(e);
    }
    if let Some(verified) = change.verified.filter(|v| *v != found.verified) {
        active.verified = Set(verified);
        let mut e = Entry::new(ModerationAction::Verified, Some(id), "");
        e.data = serde_json::json!({ "to": verified });
        entries.push(e);
    }
    if let Some(quota) = change.quota_bytes.filter(|q| *q != found.quota_bytes) {
        active.quota_bytes = Set(quota);
        let mut e = Entry::new(ModerationAction::Quota, Some(id), "");
        e.data = serde_json::json!({ "from": found.quota_bytes, "to": quota });
        entries.push(e);
    }
    active.updated_at = Set(Utc::now().fixed_offset());
    let updated = active.update(&tx).await?;
    for e in entries {
        record(&tx, Some(admin), &e.object(ObjectType::User, id)).await?;
    }
    tx.commit().await?;
    Ok(updated)
}

/// Whether the user `name` exists.
pub async fn exists(db: &impl ConnectionTrait, name: &str) -> Result<bool, DomainError> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(db)
        .await?
        .is_some())
}

/// One session (a token) as its owner sees it.
#[derive(Debug, Clone, sea_orm::FromQueryResult)]
pub struct Session {
    pub id: Uuid,
    pub name: String,
    pub user_agent: String,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    pub last_used_at: Option<chrono::DateTime<chrono::FixedOffset>>,
    pub expires_at: chrono::DateTime<chrono::FixedOffset>,
    pub kind: TokenKind,
    pub scopes: Option<Vec<String>>,
}

/// `user`'s live sessions (tokens neither revoked nor expired), newest first.
pub async fn sessions(db: &impl ConnectionTrait, user: Uuid) -> Result<Vec<Session>, DomainError> {
    use sea_orm::FromQueryResult;
    Ok(
        Session::find_by_statement(sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            "SELECT id, name, user_agent, created_at, last_used_at, expires_at, kind, scopes
         FROM api_tokens
         WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
         ORDER BY created_at DESC, id DESC LIMIT 1000",
            [user.into()],
        ))
        .all(db)
        .await?,
    )
}

/// Revokes `user`'s session `id` (not theirs, or gone: not found).
pub async fn revoke_session(
    db: &impl ConnectionTrait,
    user: Uuid,
    id: Uuid,
) -> Result<(), DomainError> {
    let done = api_token::Entity::update_many()
        .col_expr(
            api_token::Column::RevokedAt,
            sea_orm::sea_query::Expr::current_timestamp(),
        )
        .filter(api_token::Column::Id.eq(id))
        .filter(api_token::Column::UserId.eq(user))
        .filter(api_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    if done.rows_affected == 0 {
        return Err(DomainError::NotFound);
    }
    Ok(())
}

/// Sets `user`'s password hash and signs out every session but `keep`. Returns the sessions
/// revoked.
pub async fn set_password(
    db: &DatabaseConnection,
    user: Uuid,
    password_hash: String,
    keep: Option<Uuid>,
) -> Result<Vec<Uuid>, DomainError> {
    let tx = db.begin().await?;
    tx.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1",
        [user.into(), password_hash.into()],
    ))
    .await?;
    // A reset link asked for before is no longer good.
    tx.execute_raw(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "UPDATE account_tokens SET used_at = now()
         WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL",
        [
            user.into(),
            crate::state::TokenPurpose::PasswordReset.as_str().into(),
        ],
    ))
    .await?;
    let revoked = crate::standing::revoke_all(&tx, user, keep).await?;
    tx.commit().await?;
    Ok(revoked)
}

/// Longest display name and bio.
pub const DISPLAY_NAME_MAX: usize = 100;
pub const BIO_MAX: usize = 1000;

/// What a user changes of their profile.
#[derive(Debug, Clone, Default)]
pub struct Profile<'a> {
    pub display_name: Option<&'a str>,
    pub bio: Option<&'a str>,
    /// A new address: unverified until its check mail is answered.
    pub email: Option<&'a str>,
    /// The interface language (`Some(None)`: follow the browser again).
    pub ui_language: Option<Option<&'a str>>,
    /// The language of my videos by default (`Some(None)`: none).
    pub video_language: Option<Option<&'a str>>,
}

/// Edits `user`'s profile. Returns whether the address changed.
pub async fn update_profile(
    db: &impl ConnectionTrait,
    user: &user::Model,
    p: &Profile<'_>,
) -> Result<bool, DomainError> {
    let mut active: user::ActiveModel = user.clone().into();
    if let Some(name) = p.display_name {
        let name = name.trim();
        crate::fields::plain_text("display_name", name, false)?;
        if name.chars().count() > DISPLAY_NAME_MAX {
            return Err(DomainError::invalid(
                "display_name",
                "A display name has at most 100 characters",
            ));
        }
        active.display_name = Set(name.to_owned());
    }
    if let Some(bio) = p.bio {
        crate::fields::plain_text("bio", bio, true)?;
        if bio.chars().count() > BIO_MAX {
            return Err(DomainError::invalid(
                "bio",
                "A bio has at most 1000 characters",
            ));
        }
        active.bio = Set(bio.trim_end().to_owned());
    }
    let mut changed_email = false;
    if let Some(email) = p.email {
        let email = email.trim().to_lowercase();
        check_email(&email)?;
        if email != user.email {
            active.email = Set(email);
            active.email_verified = Set(false);
            changed_email = true;
        }
    }
    if let Some(lang) = p.ui_language {
        let lang = match lang.map(str::trim).filter(|l| !l.is_empty()) {
            None => None,
            Some(l) => Some(
                crate::locale::Locale::parse(l)
                    .filter(|found| found.as_str() == l)
                    .ok_or_else(|| {
                        DomainError::invalid(
                            "ui_language",
                            "The interface is in en, ru or ar (or null: the browser's)",
                        )
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        active.ui_language = Set(lang);
    }
    if let Some(lang) = p.video_language {
        let lang = crate::fields::language(lang.unwrap_or("")).map_err(|_| {
            DomainError::invalid(
                "video_language",
                "video_language is a BCP 47 tag such as ru, en or ar",
            )
        })?;
        active.video_language = Set(lang);
    }
    active.updated_at = Set(Utc::now().fixed_offset());
    active.update(db).await.map_err(taken)?;
    Ok(changed_email)
}

/// The user with address `email` (case does not matter), if any.
pub async fn by_email(
    db: &impl ConnectionTrait,
    email: &str,
) -> Result<Option<user::Model>, DomainError> {
    Ok(user::Entity::find()
        .filter(sea_orm::sea_query::Expr::cust_with_values(
            "lower(email) = $1",
            [email.trim().to_lowercase()],
        ))
        .one(db)
        .await?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn names_addresses_and_passwords_follow_the_rules() {
        for ok in ["ivan", "Иван_Петров", "محمد.علي", "a-b"] {
            assert!(check_username(ok).is_ok(), "{ok}");
        }
        for bad in ["ab", "имя с пробелом", "semi;colon", &"x".repeat(33)] {
            assert_eq!(
                check_username(bad).unwrap_err().code(),
                Some(Code::InvalidField),
                "{bad}"
            );
        }
        assert!(check_email("a@b.example").is_ok());
        for bad in ["a@b", "@b.example", "a b@c.example", "a@b@c.example"] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
        assert!(check_password("eight ch").is_ok());
        assert!(check_password("seven c").is_err());
        assert!(check_password(&"п".repeat(256)).is_ok());
        assert!(check_password(&"п".repeat(257)).is_err());
        assert!(check_login("ivan", "pw", Some("laptop")).is_ok());
        assert!(check_login(&"x".repeat(65), "pw", None).is_err());
        assert!(check_login("iv\0an", "pw", None).is_err());
        assert!(check_login("ivan", &"p".repeat(1025), None).is_err());
        assert!(check_login("ivan", "pw", Some(&"t".repeat(101))).is_err());
    }
}
