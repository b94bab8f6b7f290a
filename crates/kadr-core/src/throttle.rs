//! Attempt limits kept in Postgres, so they hold across every replica: failed logins per
//! (account, address) and per address, registrations per address.
//!
//! An attempt is counted before the work it guards (the password check, the new account), so a
//! burst of concurrent guesses gets no more tries than a serial one. Past its limit a key is
//! blocked, for a time that doubles with every further attempt (2 s, 4 s, … up to an hour);
//! a window without attempts starts it over. A success clears the (account, address) key only,
//! so nobody can lock an account out from somewhere else.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use crate::codes::Code;
use crate::error::DomainError;

/// A counted attempt: allowed, or refused for this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allowed,
    Blocked(Duration),
}

/// The longest a key stays blocked.
const MAX_BLOCK_SECS: i64 = 3600;

/// How long a key is blocked after `attempts` attempts against a limit of `max`.
pub fn block_secs(attempts: i64, max: i64) -> i64 {
    let over = attempts - max;
    if over <= 0 {
        0
    } else {
        1i64.checked_shl(u32::try_from(over.min(12)).unwrap_or(12))
            .unwrap_or(MAX_BLOCK_SECS)
            .min(MAX_BLOCK_SECS)
    }
}

/// Counts one attempt of key `$1` in a window of `$2` seconds, returning `attempts` and
/// `blocked_for` (seconds): a statement other statements can hold as a CTE, so the attempt is
/// counted in the same statement as the work it guards.
pub const COUNT: &str =
    "INSERT INTO auth_throttle AS t (key, attempts, window_start, blocked_until)
             VALUES ($1, 1, now(), NULL)
             ON CONFLICT (key) DO UPDATE SET
                 attempts = CASE WHEN t.window_start < now() - make_interval(secs => $2)
                                  AND coalesce(t.blocked_until, '-infinity') < now()
                                 THEN 1 ELSE t.attempts + 1 END,
                 window_start = CASE WHEN t.window_start < now() - make_interval(secs => $2)
                                      AND coalesce(t.blocked_until, '-infinity') < now()
                                     THEN now() ELSE t.window_start END
             RETURNING attempts::bigint AS attempts,
                 greatest(0, extract(epoch FROM coalesce(blocked_until, now()) - now()))::bigint
                     AS blocked_for";

/// A window in seconds, as [`COUNT`] binds it.
pub fn window_secs(window: Duration) -> f64 {
    i64::try_from(window.as_secs())
        .unwrap_or(i64::MAX / 2)
        .max(1) as f64
}

/// Counts one attempt against `key` (at most `max` within `window`) and says whether it may go
/// on. One statement: concurrent attempts are counted one after another by the row lock.
pub async fn attempt(
    db: &impl ConnectionTrait,
    key: &str,
    max: u32,
    window: Duration,
) -> Result<Verdict, DomainError> {
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            COUNT,
            [key.into(), window_secs(window).into()],
        ))
        .await?
        .ok_or_else(|| DomainError::Internal("the throttle returned no row".to_owned()))?;
    let attempts: i64 = row.try_get("", "attempts")?;
    let blocked_for: i64 = row.try_get("", "blocked_for")?;
    settle(db, key, max, attempts, blocked_for).await
}

/// The verdict on an attempt counted by [`COUNT`] (`attempts`, `blocked_for` as it returned
/// them): past the limit the key is blocked, longer with every further attempt.
pub async fn settle(
    db: &impl ConnectionTrait,
    key: &str,
    max: u32,
    attempts: i64,
    blocked_for: i64,
) -> Result<Verdict, DomainError> {
    let block = block_secs(attempts, i64::from(max));
    if block > 0 {
        // Blocked from now on, longer with every attempt past the limit.
        db.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE auth_throttle SET blocked_until = greatest(blocked_until, now() + make_interval(secs => $2))
             WHERE key = $1",
            [key.into(), (block as f64).into()],
        ))
        .await?;
        let wait = block.max(blocked_for).max(1);
        return Ok(Verdict::Blocked(Duration::from_secs(wait as u64)));
    }
    if blocked_for > 0 {
        return Ok(Verdict::Blocked(Duration::from_secs(blocked_for as u64)));
    }
    Ok(Verdict::Allowed)
}

/// Forgets `key` (a successful login clears its (account, address) key).
pub async fn clear(db: &impl ConnectionTrait, key: &str) -> Result<(), DomainError> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "DELETE FROM auth_throttle WHERE key = $1",
        [key.into()],
    ))
    .await?;
    Ok(())
}

/// Takes back one counted attempt of `key` (a success does not count against an address).
pub async fn refund(db: &impl ConnectionTrait, key: &str) -> Result<(), DomainError> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE auth_throttle SET attempts = greatest(0, attempts - 1) WHERE key = $1",
        [key.into()],
    ))
    .await?;
    Ok(())
}

/// Removes keys idle for a day and not blocked (a periodic task of the worker).
pub async fn sweep(db: &impl ConnectionTrait) -> Result<u64, sea_orm::DbErr> {
    let done = db
        .execute_raw(Statement::from_string(
            DbBackend::Postgres,
            "DELETE FROM auth_throttle WHERE window_start < now() - interval '1 day'
                 AND coalesce(blocked_until, '-infinity') < now()",
        ))
        .await?;
    Ok(done.rows_affected())
}

/// 429 with `Retry-After`.
pub fn too_many(code: Code, title: &str, wait: Duration) -> DomainError {
    let secs = wait.as_secs().max(1);
    DomainError::refused(code, title.to_owned())
        .detail(format!("try again in {secs} s"))
        .retry_after(secs)
}

#[cfg(test)]
mod tests {
    use super::block_secs;

    #[test]
    fn backoff_doubles_past_the_limit_and_is_capped() {
        assert_eq!(block_secs(10, 10), 0);
        assert_eq!(block_secs(11, 10), 2);
        assert_eq!(block_secs(12, 10), 4);
        assert_eq!(block_secs(15, 10), 32);
        assert_eq!(block_secs(1_000, 10), 3600);
    }
}
