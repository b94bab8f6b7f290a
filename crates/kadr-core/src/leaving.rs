//! Deleting an account. The user asks (repeating their username and password); from that
//! moment they are signed out everywhere and everything they made is withheld. A
//! `delete_account` job then removes it: their channels (each video through the video
//! deletion and its cleanup job), their comments with the replies under them, and finally the
//! user, whose ratings, likes and subscriptions leave the counts as they go. Rows without a
//! foreign key to the user (notifications, feed items) are deleted explicitly.

use kadr_config::Config;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait};
use uuid::Uuid;

use crate::codes::Code;
use crate::entities::user;
use crate::error::DomainError;
use crate::state::{Counter, Role};

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// The payload of a `delete_account` job.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct DeleteAccount {
    pub user_id: Uuid,
}

/// Starts deleting `user`'s account (see the module). Administrators hand over the role
/// first. Returns the sessions revoked.
pub async fn start(
    db: &DatabaseConnection,
    config: &Config,
    user: &user::Model,
) -> Result<Vec<Uuid>, DomainError> {
    if user.role == Role::Admin {
        return Err(DomainError::refused(
            Code::Forbidden,
            "An administrator's account is deleted after another administrator removes the role",
        ));
    }
    let tx = db.begin().await?;
    let fresh = tx
        .query_one_raw(stmt(
            "UPDATE users SET deleting_at = now(), updated_at = now()
             WHERE id = $1 AND deleting_at IS NULL RETURNING id",
            vec![user.id.into()],
        ))
        .await?
        .is_some();
    let revoked = crate::standing::revoke_all(&tx, user.id, None).await?;
    if fresh {
        crate::standing::withhold(&tx, user.id, true).await?;
        crate::jobs::enqueue(
            &tx,
            config,
            crate::jobs::DELETE_ACCOUNT,
            &DeleteAccount { user_id: user.id },
            Some(user.id.to_string()),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(revoked)
}

/// One step of an account's deletion: a channel's worth of videos, or a batch of comments, or
/// the user at last. `true` when the account is gone.
pub async fn step(
    db: &DatabaseConnection,
    config: &Config,
    user: Uuid,
    batch: u64,
) -> Result<bool, DomainError> {
    let leaving = db
        .query_one_raw(stmt(
            "SELECT 1 AS one FROM users WHERE id = $1 AND deleting_at IS NOT NULL",
            vec![user.into()],
        ))
        .await?
        .is_some();
    if !leaving {
        return Ok(true);
    }
    // Channels: hidden, then emptied and removed one after another.
    db.execute_raw(stmt(
        "UPDATE channels SET deleting_at = now(), updated_at = now()
         WHERE owner_id = $1 AND deleting_at IS NULL",
        vec![user.into()],
    ))
    .await?;
    let channel = db
        .query_one_raw(stmt(
            "SELECT id FROM channels WHERE owner_id = $1 ORDER BY id LIMIT 1",
            vec![user.into()],
        ))
        .await?;
    if let Some(ch) = channel {
        let ch: Uuid = ch.try_get("", "id")?;
        crate::channels::delete_step(db, config, ch, batch).await?;
        return Ok(false);
    }
    // Their comments that have replies: removed with the replies, so the counts follow.
    let threads = db
        .query_all_raw(stmt(
            &format!(
                "SELECT m.id FROM comments m WHERE m.author_id = $1 AND m.parent_id IS NULL
                 AND EXISTS (SELECT 1 FROM comments r WHERE r.parent_id = m.id) LIMIT {batch}"
            ),
            vec![user.into()],
        ))
        .await?;
    if !threads.is_empty() {
        let tx = db.begin().await?;
        for t in threads {
            crate::comments::remove(&tx, t.try_get("", "id")?).await?;
        }
        tx.commit().await?;
        return Ok(false);
    }
    let tx = db.begin().await?;
    // What the cascade removes leaves the counts too (their comments were uncounted when
    // withheld).
    tx.execute_raw(stmt(
        &format!(
            "INSERT INTO counter_deltas (counter, target, delta)
             SELECT CASE WHEN rating = 1 THEN '{likes}' ELSE '{dislikes}' END, video_id, -1
               FROM video_ratings WHERE user_id = $1
             UNION ALL
             SELECT '{comment_likes}', comment_id, -1 FROM comment_likes WHERE user_id = $1
             UNION ALL
             SELECT '{subscribers}', channel_id, -1 FROM subscriptions WHERE user_id = $1",
            likes = Counter::VideoLikes.as_str(),
            dislikes = Counter::VideoDislikes.as_str(),
            comment_likes = Counter::CommentLikes.as_str(),
            subscribers = Counter::ChannelSubscribers.as_str(),
        ),
        vec![user.into()],
    ))
    .await?;
    for sql in [
        "DELETE FROM notifications WHERE user_id = $1",
        "DELETE FROM feed_items WHERE user_id = $1",
        "DELETE FROM users WHERE id = $1",
    ] {
        tx.execute_raw(stmt(sql, vec![user.into()])).await?;
    }
    tx.commit().await?;
    Ok(true)
}
