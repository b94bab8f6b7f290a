//! Import batches: the videos one run of a catalogue import brought in. An import by an
//! account that is not trusted does not flood the moderation queue one video at a time: the
//! queue leaves batch members out, and moderators see the batch instead, look at a sample of
//! it, and approve or reject it together.
//!
//! Approving a batch approves every member that is ready now and, as the batch remembers the
//! approval, every member that becomes ready later (in the transaction that makes it ready).
//! Rejecting rejects every member still pending. Each video's decision is recorded as a
//! single decision is (its row in `moderation_decisions`, its standing entry); the owner gets
//! one notification for the batch, not one per video.

use chrono::{DateTime, FixedOffset};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, Statement,
    TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use kadr_config::Config;

use crate::entities::user;
use crate::error::DomainError;
use crate::review::Decision;
use crate::state::{Moderation, Privacy, VideoStatus};

/// Videos decided per transaction.
const CHUNK: i64 = 500;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// A batch as its owner sees it.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct Batch {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<FixedOffset>,
}

/// Starts a batch for `owner`.
pub async fn create<C: ConnectionTrait>(
    db: &C,
    owner: Uuid,
    name: &str,
) -> Result<Batch, DomainError> {
    let name = name.trim();
    if name.chars().count() > 200 || name.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "name",
            "A batch's name is at most 200 characters, without control characters",
        ));
    }
    Batch::find_by_statement(stmt(
        "INSERT INTO import_batches (id, owner_id, name) VALUES ($1, $2, $3)
         RETURNING id, name, created_at",
        vec![Uuid::now_v7().into(), owner.into(), name.into()],
    ))
    .one(db)
    .await?
    .ok_or_else(|| DomainError::Internal("a new batch is gone".to_owned()))
}

/// Whether `batch` is one of `owner`'s.
pub async fn owned<C: ConnectionTrait>(
    db: &C,
    owner: Uuid,
    batch: Uuid,
) -> Result<bool, DomainError> {
    Ok(db
        .query_one_raw(stmt(
            "SELECT 1 AS one FROM import_batches WHERE id = $1 AND owner_id = $2",
            vec![batch.into(), owner.into()],
        ))
        .await?
        .is_some())
}

/// A batch waiting for moderators.
#[derive(Debug, Clone, FromQueryResult, Serialize)]
pub struct Waiting {
    pub id: Uuid,
    pub name: String,
    pub owner_id: Uuid,
    pub owner_username: String,
    pub created_at: DateTime<FixedOffset>,
    /// Members waiting for a decision.
    pub pending: i64,
    /// Of those, the ones ready (approvable now).
    pub ready: i64,
    /// Every member.
    pub total: i64,
    /// The batch was approved: members becoming ready are approved as they do.
    pub approved_at: Option<DateTime<FixedOffset>>,
}

/// The members `viewer` moderates: private videos are for administrators.
fn visible(admin: bool) -> String {
    if admin {
        String::new()
    } else {
        format!(" AND v.privacy <> '{}'", Privacy::Private.as_str())
    }
}

/// Batches with members waiting for a decision, oldest first, after `after` (a batch id).
pub async fn waiting<C: ConnectionTrait>(
    db: &C,
    admin: bool,
    after: Option<Uuid>,
    limit: u64,
) -> Result<Vec<Waiting>, DomainError> {
    let pending = Moderation::Pending.as_str();
    let ready = VideoStatus::Ready.as_str();
    let seen = visible(admin);
    Ok(Waiting::find_by_statement(stmt(
        &format!(
            "SELECT b.id, b.name, b.owner_id, u.username AS owner_username, b.created_at,
                    b.approved_at, s.pending, s.ready, s.total
             FROM import_batches b JOIN users u ON u.id = b.owner_id
             CROSS JOIN LATERAL (
                 SELECT count(*) FILTER (WHERE v.moderation = '{pending}'{seen}) AS pending,
                        count(*) FILTER (WHERE v.moderation = '{pending}' AND v.status = '{ready}'{seen}) AS ready,
                        count(*) AS total
                 FROM imports i JOIN videos v ON v.id = i.video_id WHERE i.batch_id = b.id) s
             WHERE s.pending > 0 AND ($1::uuid IS NULL OR b.id > $1)
             ORDER BY b.id LIMIT $2"
        ),
        vec![after.into(), (limit as i64).into()],
    ))
    .all(db)
    .await?)
}

/// The filter (on `videos v`) of a sample of `size` members of `batch` still pending, the
/// same sample for the same `seed`; its values follow `values`.
pub fn sample_filter(
    batch: Uuid,
    seed: &str,
    size: u64,
    admin: bool,
    values: &mut Vec<sea_orm::Value>,
) -> String {
    values.push(batch.into());
    let b = values.len();
    values.push(seed.to_owned().into());
    let s = values.len();
    format!(
        "v.id IN (SELECT v.id FROM imports i JOIN videos v ON v.id = i.video_id
                  WHERE i.batch_id = ${b} AND v.moderation = '{}'{}
                  ORDER BY md5(v.id::text || ${s}) LIMIT {size})",
        Moderation::Pending.as_str(),
        visible(admin)
    )
}

/// What a decision on a batch did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Decided {
    /// Members decided now.
    pub decided: i64,
    /// Members still pending (approval: not ready yet; they are approved as they become
    /// ready).
    pub still_pending: i64,
}

/// Decides every pending member of `batch` that `by` moderates: approval takes the ready
/// ones now and the rest as they become ready; rejection takes them all.
pub async fn decide(
    db: &DatabaseConnection,
    config: &Config,
    by: &user::Model,
    batch: Uuid,
    decision: Moderation,
    reason: Option<&str>,
) -> Result<Decided, DomainError> {
    let owner = db
        .query_one_raw(stmt(
            "SELECT owner_id FROM import_batches WHERE id = $1",
            vec![batch.into()],
        ))
        .await?
        .ok_or(DomainError::NotFound)?
        .try_get::<Uuid>("", "owner_id")?;
    // Checked once as a decision on a ready video: the reason's rules.
    let rule = Decision::check(decision, reason, VideoStatus::Ready)?;
    let admin = by.is_admin();
    let approve = decision == Moderation::Approved;
    // The decision stands for members that become ready later.
    if approve {
        db.execute_raw(stmt(
            "UPDATE import_batches SET approved_by = $2, approved_at = now(), approval_reason = $3,
                 rejected_by = NULL, rejected_at = NULL, rejection_reason = NULL
             WHERE id = $1",
            vec![batch.into(), by.id.into(), rule.reason.clone().into()],
        ))
        .await?;
    } else {
        db.execute_raw(stmt(
            "UPDATE import_batches SET rejected_by = $2, rejected_at = now(), rejection_reason = $3,
                 approved_by = NULL, approved_at = NULL, approval_reason = NULL
             WHERE id = $1",
            vec![batch.into(), by.id.into(), rule.reason.clone().into()],
        ))
        .await?;
    }
    let ready_only = if approve {
        format!(" AND v.status = '{}'", VideoStatus::Ready.as_str())
    } else {
        String::new()
    };
    let mut done = Decided::default();
    let mut first: Option<Uuid> = None;
    loop {
        let tx = db.begin().await?;
        let ids: Vec<Uuid> = tx
            .query_all_raw(stmt(
                &format!(
                    "SELECT v.id FROM imports i JOIN videos v ON v.id = i.video_id
                     WHERE i.batch_id = $1 AND v.moderation = '{}'{}{ready_only}
                     ORDER BY v.id LIMIT {CHUNK} FOR UPDATE OF v",
                    Moderation::Pending.as_str(),
                    visible(admin)
                ),
                vec![batch.into()],
            ))
            .await?
            .iter()
            .map(|r| r.try_get::<Uuid>("", "id"))
            .collect::<Result<_, _>>()?;
        if ids.is_empty() {
            break;
        }
        for id in &ids {
            rule.record_quietly(&tx, config, by, *id).await?;
        }
        tx.commit().await?;
        first = first.or(ids.first().copied());
        done.decided += ids.len() as i64;
        if (ids.len() as i64) < CHUNK {
            break;
        }
    }
    done.still_pending = db
        .query_one_raw(stmt(
            &format!(
                "SELECT count(*) AS n FROM imports i JOIN videos v ON v.id = i.video_id
                 WHERE i.batch_id = $1 AND v.moderation = '{}'{}",
                Moderation::Pending.as_str(),
                visible(admin)
            ),
            vec![batch.into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    // One notice for the batch.
    if done.decided > 0 && owner != by.id {
        crate::notifications::enqueue(
            db,
            config,
            &crate::notifications::NewNotification {
                user_id: owner,
                kind: crate::state::NotificationType::Moderation,
                video_id: first,
                comment_id: None,
                actor_id: Some(by.id),
                data: serde_json::json!({
                    "decision": decision.as_str(),
                    "reason": rule.reason,
                    "batch": batch,
                    "count": done.decided,
                }),
            },
        )
        .await?;
    }
    Ok(done)
}

/// In the transaction that makes `video` ready: approved or rejected now if its batch was.
pub async fn decision_due(
    tx: &sea_orm::DatabaseTransaction,
    config: &Config,
    video: Uuid,
) -> Result<(), DomainError> {
    let Some(row) = tx
        .query_one_raw(stmt(
            &format!(
                "SELECT b.approved_at IS NOT NULL AS approved,
                        coalesce(b.approved_by, b.rejected_by) AS decided_by,
                        coalesce(b.approval_reason, b.rejection_reason) AS reason
                 FROM imports i
                 JOIN import_batches b ON b.id = i.batch_id
                 JOIN videos v ON v.id = i.video_id
                 WHERE i.video_id = $1
                   AND (b.approved_at IS NOT NULL OR b.rejected_at IS NOT NULL)
                   AND v.moderation = '{}'",
                Moderation::Pending.as_str()
            ),
            vec![video.into()],
        ))
        .await?
    else {
        return Ok(());
    };
    let decision = if row.try_get::<bool>("", "approved")? {
        Moderation::Approved
    } else {
        Moderation::Rejected
    };
    let by: Option<Uuid> = row.try_get("", "decided_by")?;
    let reason: Option<String> = row.try_get("", "reason")?;
    let Some(by) = by else { return Ok(()) };
    let Some(moderator) = crate::entities::user::Entity::find_by_id(by)
        .one(tx)
        .await?
    else {
        return Ok(());
    };
    // A moderator who has lost the role since decides nothing more.
    if !moderator.is_moderator() {
        return Ok(());
    }
    let rule = Decision::check(decision, reason.as_deref(), VideoStatus::Ready)?;
    rule.record_quietly(tx, config, &moderator, video).await
}
