//! Blocks between users: a user blocks another, whose comments they no longer see and who may
//! no longer comment on their videos (nor notify them by replying). The blocked user is not
//! told.

use sea_orm::{ConnectionTrait, DbBackend, Statement};
use uuid::Uuid;

use crate::codes::Code;
use crate::error::DomainError;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Whether `user` blocked `other`.
pub async fn blocks(
    db: &impl ConnectionTrait,
    user: Uuid,
    other: Uuid,
) -> Result<bool, DomainError> {
    Ok(db
        .query_one_raw(stmt(
            "SELECT 1 AS one FROM user_blocks WHERE user_id = $1 AND blocked_id = $2",
            vec![user.into(), other.into()],
        ))
        .await?
        .is_some())
}

/// `user` blocks the user named `name` (again is no change). Not found when there is no such
/// user (or they are leaving).
pub async fn block(db: &impl ConnectionTrait, user: Uuid, name: &str) -> Result<Uuid, DomainError> {
    let other = user_id(db, name).await?;
    if other == user {
        return Err(DomainError::refused(
            Code::OwnAccount,
            "Nobody blocks themselves",
        ));
    }
    db.execute_raw(stmt(
        "INSERT INTO user_blocks (user_id, blocked_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        vec![user.into(), other.into()],
    ))
    .await?;
    Ok(other)
}

/// `user` lifts a block (no block is no change).
pub async fn unblock(db: &impl ConnectionTrait, user: Uuid, name: &str) -> Result<(), DomainError> {
    let other = user_id(db, name).await?;
    db.execute_raw(stmt(
        "DELETE FROM user_blocks WHERE user_id = $1 AND blocked_id = $2",
        vec![user.into(), other.into()],
    ))
    .await?;
    Ok(())
}

/// The id of the user named `name` (any case), not found otherwise.
pub async fn user_id(db: &impl ConnectionTrait, name: &str) -> Result<Uuid, DomainError> {
    if !crate::fields::could_name(name) {
        return Err(DomainError::NotFound);
    }
    db.query_one_raw(stmt(
        "SELECT id FROM users WHERE lower(username) = lower($1) AND deleting_at IS NULL",
        vec![name.trim().into()],
    ))
    .await?
    .map(|r| r.try_get::<Uuid>("", "id"))
    .transpose()?
    .ok_or(DomainError::NotFound)
}
