//! Counts written without a hot row: a like, a comment or a subscription appends a change
//! (`counter_deltas`) in its own transaction, and the worker's `fold_counts` adds the changes
//! up into the counted rows every `community.fold_interval_ms`, one update per row per pass
//! however many changes it had. Nothing is lost: a change is deleted in the transaction that
//! adds it to its count. Folding is also where a video's like milestones are noticed (and its
//! owner notified, from the job).

use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};
use uuid::Uuid;

use crate::error::DomainError;
use crate::state::{Counter, NotificationType};

/// Appends changes to counts, in `db` (the caller's transaction).
pub async fn add(
    db: &impl ConnectionTrait,
    changes: &[(Counter, Uuid, i32)],
) -> Result<(), DomainError> {
    let changes: Vec<&(Counter, Uuid, i32)> = changes.iter().filter(|c| c.2 != 0).collect();
    if changes.is_empty() {
        return Ok(());
    }
    let counters: Vec<String> = changes.iter().map(|c| c.0.as_str().to_owned()).collect();
    let targets: Vec<Uuid> = changes.iter().map(|c| c.1).collect();
    let deltas: Vec<i32> = changes.iter().map(|c| c.2).collect();
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "INSERT INTO counter_deltas (counter, target, delta)
         SELECT * FROM unnest($1::text[], $2::uuid[], $3::int[])",
        [counters.into(), targets.into(), deltas.into()],
    ))
    .await?;
    Ok(())
}

/// The milestone at or below `n` likes: 10, 100, 1000, … (0 below 10), in SQL.
const MILESTONE: &str =
    "CASE WHEN {n} >= 10 THEN (10::bigint ^ (length(({n})::text) - 1))::bigint ELSE 0 END";

fn milestone_sql(n: &str) -> String {
    MILESTONE.replace("{n}", n)
}

/// The milestone at or below `n` likes, as [`fold`] computes it.
pub fn milestone(n: i64) -> i64 {
    if n < 10 {
        0
    } else {
        10i64.pow(n.to_string().len() as u32 - 1)
    }
}

/// Folds up to `batch` changes into their counts, in one transaction; like milestones newly
/// reached notify the video's owner. Returns how many changes were folded.
pub async fn fold(db: &sea_orm::DatabaseConnection, batch: i64) -> Result<u64, DomainError> {
    let tx = db.begin().await?;
    let new_m = milestone_sql("x.like_count + s.likes");
    let sql = format!(
        "WITH taken AS (
            DELETE FROM counter_deltas WHERE id IN (
                SELECT id FROM counter_deltas ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING counter, target, delta),
         sums AS (
            SELECT target,
                coalesce(sum(delta) FILTER (WHERE counter = '{vl}'), 0)::bigint AS likes,
                coalesce(sum(delta) FILTER (WHERE counter = '{vd}'), 0)::bigint AS dislikes,
                coalesce(sum(delta) FILTER (WHERE counter = '{vc}'), 0)::bigint AS comments,
                coalesce(sum(delta) FILTER (WHERE counter = '{cs}'), 0)::bigint AS subscribers,
                coalesce(sum(delta) FILTER (WHERE counter = '{cl}'), 0)::bigint AS comment_likes,
                coalesce(sum(delta) FILTER (WHERE counter = '{cr}'), 0)::bigint AS replies,
                bool_or(counter IN ('{vl}', '{vd}', '{vc}')) AS video,
                bool_or(counter = '{cs}') AS channel,
                bool_or(counter IN ('{cl}', '{cr}')) AS comment
            FROM taken GROUP BY target),
         vs AS (
            SELECT s.*, x.like_milestone AS old_m, {new_m} AS reached
            FROM sums s JOIN videos x ON x.id = s.target WHERE s.video),
         v AS (
            UPDATE videos SET like_count = like_count + vs.likes,
                dislike_count = dislike_count + vs.dislikes,
                comment_count = comment_count + vs.comments,
                like_milestone = greatest(like_milestone, vs.reached)
            FROM vs WHERE videos.id = vs.target
            RETURNING videos.id, videos.owner_id, vs.old_m, vs.reached),
         n AS (
            INSERT INTO notifications (user_id, type, video_id, data)
            SELECT owner_id, '{lm}', id, jsonb_build_object('likes', reached)
            FROM v WHERE reached > old_m),
         c AS (
            UPDATE channels SET subscriber_count = subscriber_count + s.subscribers
            FROM sums s WHERE s.channel AND channels.id = s.target),
         m AS (
            UPDATE comments SET like_count = like_count + s.comment_likes,
                reply_count = reply_count + s.replies
            FROM sums s WHERE s.comment AND comments.id = s.target)
         SELECT (SELECT count(*) FROM taken) AS folded",
        vl = Counter::VideoLikes.as_str(),
        vd = Counter::VideoDislikes.as_str(),
        vc = Counter::VideoComments.as_str(),
        cs = Counter::ChannelSubscribers.as_str(),
        cl = Counter::CommentLikes.as_str(),
        cr = Counter::CommentReplies.as_str(),
        lm = NotificationType::LikeMilestone.as_str(),
    );
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            sql,
            [batch.into()],
        ))
        .await?;
    tx.commit().await?;
    let folded: i64 = match row {
        Some(r) => r.try_get("", "folded")?,
        None => 0,
    };
    Ok(folded as u64)
}

/// Folds every pending change, `batch` at a time.
pub async fn fold_all(db: &sea_orm::DatabaseConnection, batch: i64) -> Result<u64, DomainError> {
    let mut total = 0;
    loop {
        let n = fold(db, batch).await?;
        total += n;
        if (n as i64) < batch {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::milestone;

    #[test]
    fn milestones_are_powers_of_ten() {
        assert_eq!(milestone(0), 0);
        assert_eq!(milestone(9), 0);
        assert_eq!(milestone(10), 10);
        assert_eq!(milestone(99), 10);
        assert_eq!(milestone(100), 100);
        assert_eq!(milestone(123_456), 100_000);
    }
}
