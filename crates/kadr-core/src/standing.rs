//! A user's standing and the moderators' record.
//!
//! Moderators warn, suspend (until a date) or ban a user, and reinstate them. A suspension or
//! ban revokes every token of the user in the same transaction (each replica's reused lookups
//! end within `auth.cache_secs`; the one acting forgets them at once) and withholds their
//! content (videos, comments, channels: hidden from everyone but moderators, media URLs
//! signed before no longer valid), which comes back when they are reinstated. A suspension
//! ends by itself ([`lift_expired`], run by the worker). Every action is recorded in
//! `moderation_actions` with who, when and why, and the user is notified.

use chrono::{DateTime, FixedOffset};
use kadr_config::Config;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use serde_json::json;
use uuid::Uuid;

use crate::codes::Code;
use crate::entities::user;
use crate::error::DomainError;
use crate::notifications::{self, NewNotification};
use crate::state::{Counter, ModerationAction, NotificationType, ObjectType, Role, Standing};

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Longest reason kept with an action.
pub const REASON_MAX: usize = 2000;

/// A moderator's reason: plain text, at most 2000 characters.
pub fn check_reason(reason: &str) -> Result<String, DomainError> {
    let r = reason.trim();
    crate::fields::plain_text("reason", r, true)?;
    if r.chars().count() > REASON_MAX {
        return Err(DomainError::invalid(
            "reason",
            "A reason has at most 2000 characters",
        ));
    }
    Ok(r.to_owned())
}

/// One entry of the moderators' record.
#[derive(Debug, Clone)]
pub struct Entry {
    pub action: ModerationAction,
    pub object: Option<(ObjectType, Uuid)>,
    pub subject: Option<Uuid>,
    pub reason: String,
    pub until: Option<DateTime<FixedOffset>>,
    pub data: serde_json::Value,
}

impl Entry {
    pub fn new(action: ModerationAction, subject: Option<Uuid>, reason: &str) -> Entry {
        Entry {
            action,
            object: None,
            subject,
            reason: reason.to_owned(),
            until: None,
            data: json!({}),
        }
    }

    pub fn object(mut self, kind: ObjectType, id: Uuid) -> Entry {
        self.object = Some((kind, id));
        self
    }
}

/// Records `entry` as done by `actor` (`None`: the system, e.g. a suspension running out).
pub async fn record(
    db: &impl ConnectionTrait,
    actor: Option<&user::Model>,
    entry: &Entry,
) -> Result<Uuid, DomainError> {
    let id = Uuid::now_v7();
    db.execute_raw(stmt(
        "INSERT INTO moderation_actions
            (id, actor_id, actor_name, action, object_type, object_id, subject_id, reason, until, data)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        vec![
            id.into(),
            actor.map(|a| a.id).into(),
            actor.map_or("system", |a| a.username.as_str()).into(),
            entry.action.as_str().into(),
            entry.object.map(|(k, _)| k.as_str()).into(),
            entry.object.map(|(_, id)| id).into(),
            entry.subject.into(),
            entry.reason.clone().into(),
            entry.until.into(),
            entry.data.clone().into(),
        ],
    ))
    .await?;
    Ok(id)
}

/// What a moderator does to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sanction {
    Warn,
    Suspend { until: DateTime<FixedOffset> },
    Ban,
}

impl Sanction {
    pub fn action(self) -> ModerationAction {
        match self {
            Sanction::Warn => ModerationAction::Warn,
            Sanction::Suspend { .. } => ModerationAction::Suspend,
            Sanction::Ban => ModerationAction::Ban,
        }
    }
}

/// Longest suspension, in days.
pub const SUSPEND_DAYS_MAX: u32 = 3650;

/// A suspension of `days` (1 to 3650) from now.
pub fn suspension(days: Option<u32>) -> Result<Sanction, DomainError> {
    let days = days.ok_or_else(|| {
        DomainError::invalid("days", "A suspension needs `days` (1 to 3650)").field("days")
    })?;
    if !(1..=SUSPEND_DAYS_MAX).contains(&days) {
        return Err(DomainError::invalid(
            "days",
            "A suspension lasts 1 to 3650 days",
        ));
    }
    Ok(Sanction::Suspend {
        until: (chrono::Utc::now() + chrono::Duration::days(i64::from(days))).fixed_offset(),
    })
}

/// The user `id`, locked for the transaction.
async fn locked_user(db: &impl ConnectionTrait, id: Uuid) -> Result<user::Model, DomainError> {
    use sea_orm::{EntityTrait, QuerySelect};
    user::Entity::find_by_id(id)
        .lock_exclusive()
        .one(db)
        .await?
        .ok_or(DomainError::NotFound)
}

/// Whether `actor` may sanction `subject`: not themselves; moderators and admins are only
/// sanctioned by an admin, and admins by nobody (an admin changes the role first).
fn may_sanction(actor: &user::Model, subject: &user::Model) -> Result<(), DomainError> {
    if actor.id == subject.id {
        return Err(DomainError::refused(
            Code::OwnAccount,
            "Nobody sanctions themselves",
        ));
    }
    let allowed = match subject.role {
        Role::User => true,
        Role::Moderator => actor.is_admin(),
        Role::Admin => false,
    };
    if allowed {
        Ok(())
    } else {
        Err(DomainError::refused(
            Code::ModeratorTarget,
            "Moderators and administrators are not sanctioned this way: change their role first",
        ))
    }
}

/// Warns, suspends or bans `subject` in `tx` (see the module), recording it (about `object`,
/// when a report led to it). Returns the record's id.
pub async fn sanction(
    tx: &impl ConnectionTrait,
    config: &Config,
    actor: &user::Model,
    subject: Uuid,
    sanction: Sanction,
    reason: &str,
    object: Option<(ObjectType, Uuid)>,
) -> Result<Uuid, DomainError> {
    let reason = check_reason(reason)?;
    let subject = locked_user(tx, subject).await?;
    may_sanction(actor, &subject)?;
    let (standing, until) = match sanction {
        Sanction::Warn => (None, None),
        Sanction::Suspend { until } => (Some(Standing::Suspended), Some(until)),
        Sanction::Ban => (Some(Standing::Banned), None),
    };
    if let Some(standing) = standing {
        tx.execute_raw(stmt(
            "UPDATE users SET standing = $2, suspended_until = $3, updated_at = now() WHERE id = $1",
            vec![subject.id.into(), standing.as_str().into(), until.into()],
        ))
        .await?;
        revoke_all(tx, subject.id, None).await?;
        withhold(tx, subject.id, true).await?;
    }
    let mut entry = Entry::new(sanction.action(), Some(subject.id), &reason);
    entry.object = object;
    entry.until = until;
    let id = record(tx, Some(actor), &entry).await?;
    let kind = if standing.is_some() {
        NotificationType::Standing
    } else {
        NotificationType::Warning
    };
    notifications::enqueue(
        tx,
        config,
        &NewNotification {
            user_id: subject.id,
            kind,
            video_id: None,
            comment_id: None,
            actor_id: None,
            data: json!({
                "standing": standing.map_or("active", Standing::as_str),
                "until": until,
                "reason": reason,
            }),
        },
    )
    .await?;
    Ok(id)
}

/// Lifts `subject`'s suspension or ban in `tx` (by `actor`; `None`: a suspension ran out):
/// their content comes back (unless the account is being deleted). Not found when the user
/// is in good standing.
pub async fn reinstate(
    tx: &impl ConnectionTrait,
    config: &Config,
    actor: Option<&user::Model>,
    subject: Uuid,
    reason: &str,
) -> Result<Uuid, DomainError> {
    let reason = check_reason(reason)?;
    let subject = locked_user(tx, subject).await?;
    if subject.standing == Standing::Active {
        return Err(DomainError::NotFound);
    }
    if let Some(actor) = actor {
        may_sanction(actor, &subject)?;
    }
    tx.execute_raw(stmt(
        "UPDATE users SET standing = $2, suspended_until = NULL, updated_at = now() WHERE id = $1",
        vec![subject.id.into(), Standing::Active.as_str().into()],
    ))
    .await?;
    if subject.deleting_at.is_none() {
        withhold(tx, subject.id, false).await?;
    }
    let id = record(
        tx,
        actor,
        &Entry::new(ModerationAction::Reinstate, Some(subject.id), &reason),
    )
    .await?;
    notifications::enqueue(
        tx,
        config,
        &NewNotification {
            user_id: subject.id,
            kind: NotificationType::Standing,
            video_id: None,
            comment_id: None,
            actor_id: None,
            data: json!({ "standing": Standing::Active.as_str(), "reason": reason }),
        },
    )
    .await?;
    Ok(id)
}

/// Revokes every token of `user` but `keep`. Returns the ids revoked (for the caller's
/// process to forget at once).
pub async fn revoke_all(
    db: &impl ConnectionTrait,
    user: Uuid,
    keep: Option<Uuid>,
) -> Result<Vec<Uuid>, DomainError> {
    let rows = db
        .query_all_raw(stmt(
            "UPDATE api_tokens SET revoked_at = now()
             WHERE user_id = $1 AND revoked_at IS NULL AND id IS DISTINCT FROM $2
             RETURNING id",
            vec![user.into(), keep.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get::<Uuid>("", "id").map_err(DomainError::from))
        .collect()
}

/// Withholds (`on`) or restores everything `user` made visible: videos (their media epoch
/// moves, so media URLs signed before stop working), comments (the counts follow) and
/// channels.
pub async fn withhold(tx: &impl ConnectionTrait, user: Uuid, on: bool) -> Result<(), DomainError> {
    let sign: i32 = if on { -1 } else { 1 };
    // The counts of visible comments: what is withheld leaves them, what is restored returns.
    tx.execute_raw(stmt(
        &format!(
            "INSERT INTO counter_deltas (counter, target, delta)
             SELECT '{videos}', video_id, $3 * count(*)::int FROM comments
             WHERE author_id = $1 AND NOT held AND withheld <> $2 GROUP BY video_id
             UNION ALL
             SELECT '{replies}', parent_id, $3 * count(*)::int FROM comments
             WHERE author_id = $1 AND NOT held AND withheld <> $2 AND parent_id IS NOT NULL
             GROUP BY parent_id",
            videos = Counter::VideoComments.as_str(),
            replies = Counter::CommentReplies.as_str(),
        ),
        vec![user.into(), on.into(), sign.into()],
    ))
    .await?;
    for sql in [
        "UPDATE videos SET withheld = $2, media_epoch = media_epoch + 1, updated_at = now()
         WHERE owner_id = $1 AND withheld <> $2",
        "UPDATE comments SET withheld = $2 WHERE author_id = $1 AND withheld <> $2",
        "UPDATE channels SET withheld = $2 WHERE owner_id = $1 AND withheld <> $2",
    ] {
        tx.execute_raw(stmt(sql, vec![user.into(), on.into()]))
            .await?;
    }
    Ok(())
}

/// Ends suspensions whose time is up (up to `batch`), each in its own transaction. Returns
/// how many.
pub async fn lift_expired(
    db: &DatabaseConnection,
    config: &Config,
    batch: u64,
) -> Result<u64, DomainError> {
    let due = db
        .query_all_raw(stmt(
            &format!(
                "SELECT id FROM users WHERE standing = '{}' AND suspended_until <= now()
                 ORDER BY suspended_until LIMIT {batch}",
                Standing::Suspended.as_str()
            ),
            vec![],
        ))
        .await?;
    let mut lifted = 0;
    for row in due {
        let id: Uuid = row.try_get("", "id")?;
        let tx = db.begin().await?;
        // Another worker may have lifted it, or a moderator changed it meanwhile.
        let still = tx
            .query_one_raw(stmt(
                &format!(
                    "SELECT 1 AS one FROM users WHERE id = $1 AND standing = '{}'
                     AND suspended_until <= now() FOR UPDATE SKIP LOCKED",
                    Standing::Suspended.as_str()
                ),
                vec![id.into()],
            ))
            .await?
            .is_some();
        if still {
            reinstate(&tx, config, None, id, "The suspension ended").await?;
            tx.commit().await?;
            lifted += 1;
        }
    }
    Ok(lifted)
}

/// Whether a user in `standing` (suspended until `until`) may act; the refusal otherwise.
pub fn check_active(
    standing: Standing,
    until: Option<DateTime<FixedOffset>>,
) -> Result<(), DomainError> {
    match standing {
        Standing::Active => Ok(()),
        Standing::Suspended if until.is_some_and(|u| u <= chrono::Utc::now()) => Ok(()),
        Standing::Suspended => Err(DomainError::refused(
            Code::AccountSuspended,
            "This account is suspended",
        )
        .detail(match until {
            Some(u) => format!("suspended until {}", u.to_rfc3339()),
            None => "suspended".to_owned(),
        })),
        Standing::Banned => Err(DomainError::refused(
            Code::AccountBanned,
            "This account is banned",
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn standing_decides_who_may_act() {
        assert!(check_active(Standing::Active, None).is_ok());
        let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).fixed_offset();
        let future = (chrono::Utc::now() + chrono::Duration::days(1)).fixed_offset();
        assert!(check_active(Standing::Suspended, Some(past)).is_ok());
        assert_eq!(
            check_active(Standing::Suspended, Some(future))
                .unwrap_err()
                .code(),
            Some(Code::AccountSuspended)
        );
        assert_eq!(
            check_active(Standing::Banned, None).unwrap_err().code(),
            Some(Code::AccountBanned)
        );
        assert!(suspension(None).is_err());
        assert!(suspension(Some(0)).is_err());
        assert!(suspension(Some(3651)).is_err());
        assert!(matches!(
            suspension(Some(7)).unwrap(),
            Sanction::Suspend { .. }
        ));
        assert!(check_reason(&"x".repeat(2001)).is_err());
        assert_eq!(check_reason("  spam  ").unwrap(), "spam");
    }
}
