//! Reports: anyone signed in reports a video, comment or channel they can see, with a reason
//! from a list and words of their own. Open reports wait in the moderators' queue grouped by
//! target; a moderator settles every open report of a target at once — dismiss, remove the
//! content, or warn, suspend or ban its author — the action goes into the record, and each
//! reporter is told the outcome through a notification.

use std::time::Duration;

use kadr_config::Config;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, SqlErr, Statement, TransactionTrait,
};
use serde_json::json;
use uuid::Uuid;

use crate::codes::Code;
use crate::entities::user;
use crate::error::DomainError;
use crate::notifications::{self, NewNotification};
use crate::standing::{self, Entry, Sanction};
use crate::state::{
    ModerationAction, NotificationType, ObjectType, ReportOutcome, ReportReason, ReportTarget,
};
use crate::throttle::{self, Verdict};
use crate::visibility::Viewer;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Longest text with a report.
pub const DETAILS_MAX: usize = 2000;

impl ReportTarget {
    pub fn object(self) -> ObjectType {
        match self {
            ReportTarget::Video => ObjectType::Video,
            ReportTarget::Comment => ObjectType::Comment,
            ReportTarget::Channel => ObjectType::Channel,
        }
    }
}

/// Who made the target, if `viewer` may see it (not found otherwise).
async fn author_of(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    target: ReportTarget,
    id: Uuid,
) -> Result<Uuid, DomainError> {
    match target {
        ReportTarget::Video => {
            let v = crate::comments::video(db, viewer, id).await?;
            Ok(v.owner_id)
        }
        ReportTarget::Comment => {
            let c = crate::comments::comment(db, viewer, id, false).await?;
            Ok(c.author_id)
        }
        ReportTarget::Channel => {
            let found = db
                .query_one_raw(stmt(
                    "SELECT owner_id FROM channels
                     WHERE id = $1 AND deleting_at IS NULL AND (NOT withheld OR $2)",
                    vec![id.into(), viewer.moderator.into()],
                ))
                .await?;
            found
                .map(|r| r.try_get::<Uuid>("", "owner_id"))
                .transpose()?
                .ok_or(DomainError::NotFound)
        }
    }
}

fn already(err: DbErr) -> DomainError {
    if let Some(SqlErr::UniqueConstraintViolation(msg)) = err.sql_err()
        && msg.contains("reports_open_key")
    {
        return DomainError::refused(
            Code::AlreadyReported,
            "You reported this already; a moderator will look at it",
        );
    }
    err.into()
}

/// `reporter` reports `target` `id`, which they can see. Limited by
/// `community.reports_per_hour`.
pub async fn report(
    db: &DatabaseConnection,
    config: &Config,
    reporter: &user::Model,
    target: ReportTarget,
    id: Uuid,
    reason: ReportReason,
    details: &str,
) -> Result<Uuid, DomainError> {
    let details = details.trim();
    crate::fields::plain_text("details", details, true)?;
    if details.chars().count() > DETAILS_MAX {
        return Err(DomainError::invalid(
            "details",
            "A report's text has at most 2000 characters",
        ));
    }
    let viewer = Viewer::user(reporter);
    let subject = author_of(db, &viewer, target, id).await?;
    if subject == reporter.id {
        return Err(DomainError::refused(
            Code::OwnAccount,
            "Nobody reports their own things",
        ));
    }
    if let Verdict::Blocked(wait) = throttle::attempt(
        db,
        &format!("report:{}", reporter.id),
        config.community.reports_per_hour,
        Duration::from_secs(3600),
    )
    .await?
    {
        return Err(throttle::too_many(
            Code::TooManyActions,
            "Too many reports this hour",
            wait,
        ));
    }
    let report_id = Uuid::now_v7();
    db.execute_raw(stmt(
        "INSERT INTO reports (id, reporter_id, target_type, target_id, subject_id, reason, details)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            report_id.into(),
            reporter.id.into(),
            target.as_str().into(),
            id.into(),
            subject.into(),
            reason.as_str().into(),
            details.into(),
        ],
    ))
    .await
    .map_err(already)?;
    Ok(report_id)
}

/// What a moderator decides on a target's open reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Dismiss,
    /// The video rejected (its owner sees the reason), the comment deleted, the channel
    /// deleted through its job.
    Remove,
    Sanction(Sanction),
}

impl Resolution {
    pub fn outcome(self) -> ReportOutcome {
        match self {
            Resolution::Dismiss => ReportOutcome::Dismissed,
            Resolution::Remove => ReportOutcome::Removed,
            Resolution::Sanction(Sanction::Warn) => ReportOutcome::Warned,
            Resolution::Sanction(Sanction::Suspend { .. }) => ReportOutcome::Suspended,
            Resolution::Sanction(Sanction::Ban) => ReportOutcome::Banned,
        }
    }
}

/// What settling a target's reports did.
#[derive(Debug, Clone)]
pub struct Settled {
    pub action_id: Uuid,
    pub reports: usize,
    /// The user sanctioned, whose tokens this process should forget at once.
    pub sanctioned: Option<Uuid>,
}

/// Settles every open report of `target` `id` with `resolution` (moderators), recording it
/// and notifying each reporter. Not found when it has no open report.
pub async fn resolve(
    db: &DatabaseConnection,
    config: &Config,
    moderator: &user::Model,
    target: ReportTarget,
    id: Uuid,
    resolution: Resolution,
    reason: &str,
) -> Result<Settled, DomainError> {
    if !moderator.is_moderator() {
        return Err(DomainError::refused(
            Code::Forbidden,
            "Moderators and administrators only",
        ));
    }
    let reason = standing::check_reason(reason)?;
    let tx = db.begin().await?;
    let open = tx
        .query_all_raw(stmt(
            "SELECT reporter_id, subject_id FROM reports
             WHERE target_type = $1 AND target_id = $2 AND resolved_at IS NULL
             ORDER BY created_at FOR UPDATE",
            vec![target.as_str().into(), id.into()],
        ))
        .await?;
    if open.is_empty() {
        return Err(DomainError::NotFound);
    }
    let mut reporters = Vec::with_capacity(open.len());
    let mut subject = None;
    for r in &open {
        reporters.push(r.try_get::<Uuid>("", "reporter_id")?);
        subject = subject.or(r.try_get::<Option<Uuid>>("", "subject_id")?);
    }
    let object = Some((target.object(), id));
    let mut sanctioned = None;
    let action_id = match resolution {
        Resolution::Dismiss => {
            let mut e = Entry::new(ModerationAction::Dismiss, subject, &reason);
            e.object = object;
            standing::record(&tx, Some(moderator), &e).await?
        }
        Resolution::Remove => {
            remove(&tx, config, moderator, target, id, &reason).await?;
            let mut e = Entry::new(ModerationAction::Remove, subject, &reason);
            e.object = object;
            standing::record(&tx, Some(moderator), &e).await?
        }
        Resolution::Sanction(s) => {
            let subject = subject.ok_or(DomainError::NotFound)?;
            let action =
                standing::sanction(&tx, config, moderator, subject, s, &reason, object).await?;
            if s != Sanction::Warn {
                sanctioned = Some(subject);
            }
            action
        }
    };
    let outcome = resolution.outcome();
    tx.execute_raw(stmt(
        "UPDATE reports SET resolved_at = now(), outcome = $3, action_id = $4
         WHERE target_type = $1 AND target_id = $2 AND resolved_at IS NULL",
        vec![
            target.as_str().into(),
            id.into(),
            outcome.as_str().into(),
            action_id.into(),
        ],
    ))
    .await?;
    for reporter in &reporters {
        notifications::enqueue(
            &tx,
            config,
            &NewNotification {
                user_id: *reporter,
                kind: NotificationType::ReportResolved,
                // Not tied to the target: what was removed is gone or hidden, and the
                // reporter is told all the same.
                video_id: None,
                comment_id: None,
                actor_id: None,
                data: json!({
                    "outcome": outcome.as_str(),
                    "target_type": target.as_str(),
                    "target_id": id,
                }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Settled {
        action_id,
        reports: reporters.len(),
        sanctioned,
    })
}

/// Removes what was reported, in `tx`.
async fn remove(
    tx: &sea_orm::DatabaseTransaction,
    config: &Config,
    moderator: &user::Model,
    target: ReportTarget,
    id: Uuid,
    reason: &str,
) -> Result<(), DomainError> {
    match target {
        ReportTarget::Video => {
            let reason = if reason.is_empty() {
                "Removed after reports"
            } else {
                reason
            };
            // Rejected, not deleted: its owner sees why, and a moderator can undo it.
            let exists = tx
                .query_one_raw(stmt(
                    "UPDATE videos SET media_epoch = media_epoch + 1 WHERE id = $1 RETURNING id",
                    vec![id.into()],
                ))
                .await?
                .is_some();
            if exists {
                let decision = crate::review::Decision {
                    decision: crate::state::Moderation::Rejected,
                    reason: Some(reason.to_owned()),
                };
                decision.record(tx, config, moderator, id).await?;
            }
        }
        ReportTarget::Comment => {
            crate::comments::remove(tx, id).await?;
        }
        ReportTarget::Channel => {
            crate::channels::remove(tx, config, id).await?;
        }
    }
    Ok(())
}
