//! Accounts: the rules of names, addresses and passwords, a user with their channel, bearer
//! tokens issued and revoked, and an administrator's change of a role.

use chrono::Utc;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, QueryFilter, SqlErr, TransactionTrait,
};
use uuid::Uuid;

use crate::auth::{TOKEN_PREFIX, token_hash};
use crate::codes::Code;
use crate::entities::{api_token, channel, user};
use crate::error::DomainError;
use crate::fields::{PASSWORD_LEN, USERNAME_LEN};
use crate::state::Role;

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
    pub token: String,
    pub expires_at: chrono::DateTime<chrono::FixedOffset>,
}

/// A new bearer token of `user`, valid `ttl_hours`.
pub async fn issue_token(
    db: &impl ConnectionTrait,
    user: Uuid,
    name: Option<String>,
    ttl_hours: u64,
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
    api_token::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(user),
        token_hash: Set(token_hash(&token)),
        name: Set(name.unwrap_or_default()),
        created_at: Set(now.fixed_offset()),
        expires_at: Set(expires_at.fixed_offset()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(Issued {
        token,
        expires_at: expires_at.fixed_offset(),
    })
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

/// An administrator's change of a user's role and verified flag.
pub async fn update_user(
    db: &impl ConnectionTrait,
    id: Uuid,
    role: Option<Role>,
    verified: Option<bool>,
) -> Result<user::Model, DomainError> {
    let found = user::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)?;
    let mut active: user::ActiveModel = found.into();
    if let Some(role) = role {
        active.role = Set(role);
    }
    if let Some(verified) = verified {
        active.verified = Set(verified);
    }
    active.updated_at = Set(Utc::now().fixed_offset());
    Ok(active.update(db).await?)
}

/// Whether the user `name` exists.
pub async fn exists(db: &impl ConnectionTrait, name: &str) -> Result<bool, DomainError> {
    Ok(user::Entity::find()
        .filter(user::Column::Username.eq(name))
        .one(db)
        .await?
        .is_some())
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
