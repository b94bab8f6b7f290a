//! Comments: top-level comments and one level of replies, under the video's visibility and
//! its owner's policy (open, every comment held, or off).
//!
//! - A comment is held (seen by its author, the video's owner and moderators only) when the
//!   video's policy holds every comment, or when `moderation.hold_comments` holds those of
//!   unverified users. An edit by an author whose comments are held goes back to held.
//! - Its author edits it; its author, the video's owner and moderators delete it (a top-level
//!   comment takes its replies with it). The owner pins one top-level comment.
//! - Counts (a video's comments, a comment's replies and likes) move through
//!   [`crate::counters`]; a reply notifies the comment's author through a `notify` job.
//! - Each user posts at most `community.comments_per_minute` comments.

use std::time::Duration;

use kadr_config::Config;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::codes::Code;
use crate::counters;
use crate::entities::user;
use crate::error::DomainError;
use crate::fields::plain_text;
use crate::notifications::{self, NewNotification};
use crate::ratings::count_action;
use crate::state::{CommentPolicy, Counter, Moderation, NotificationType, Privacy};
use crate::throttle::{self, Verdict};
use crate::visibility::{Facts, Viewer};

/// Longest comment, in characters.
pub const COMMENT_MAX: usize = 5_000;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// A comment's text: trimmed, 1 to 5000 characters, line breaks allowed.
pub fn check_body(text: &str) -> Result<String, DomainError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(DomainError::invalid("body", "A comment needs some text"));
    }
    plain_text("body", t, true)?;
    if t.chars().count() > COMMENT_MAX {
        return Err(DomainError::invalid(
            "body",
            "A comment has at most 5000 characters",
        ));
    }
    Ok(t.to_owned())
}

/// What the rules look at of a video.
#[derive(Debug, Clone, FromQueryResult)]
pub struct VideoOf {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub privacy: Privacy,
    pub moderation: Moderation,
    pub playable: bool,
    pub comment_policy: CommentPolicy,
    pub pinned_comment_id: Option<Uuid>,
    /// Visible comments and replies, as last folded.
    pub comment_count: i64,
    pub withheld: bool,
}

impl VideoOf {
    pub fn facts(&self) -> Facts {
        Facts {
            owner: self.owner_id,
            privacy: self.privacy,
            moderation: self.moderation,
            playable: self.playable,
            withheld: self.withheld,
        }
    }
}

const VIDEO_COLUMNS: &str = "v.id, v.owner_id, v.privacy, v.moderation, v.playable,
    v.comment_policy, v.pinned_comment_id, v.comment_count, v.withheld";

/// A video `viewer` may see, with what the comment rules need (not found otherwise).
pub async fn video(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
) -> Result<VideoOf, DomainError> {
    VideoOf::find_by_statement(stmt(
        &format!("SELECT {VIDEO_COLUMNS} FROM videos v WHERE v.id = $1"),
        vec![id.into()],
    ))
    .one(db)
    .await?
    .filter(|v| v.facts().visible_to(viewer))
    .ok_or(DomainError::NotFound)
}

/// A comment and its video, as the rules see them.
#[derive(Debug, Clone, FromQueryResult)]
pub struct CommentOf {
    pub comment_id: Uuid,
    pub author_id: Uuid,
    pub parent_id: Option<Uuid>,
    pub held: bool,
    /// Its author is suspended, banned or leaving: moderators only.
    pub comment_withheld: bool,
    pub id: Uuid,
    pub owner_id: Uuid,
    pub privacy: Privacy,
    pub moderation: Moderation,
    pub playable: bool,
    pub comment_policy: CommentPolicy,
    pub pinned_comment_id: Option<Uuid>,
    pub comment_count: i64,
    pub withheld: bool,
}

impl CommentOf {
    fn video(&self) -> VideoOf {
        VideoOf {
            id: self.id,
            owner_id: self.owner_id,
            privacy: self.privacy,
            moderation: self.moderation,
            playable: self.playable,
            comment_policy: self.comment_policy,
            pinned_comment_id: self.pinned_comment_id,
            comment_count: self.comment_count,
            withheld: self.withheld,
        }
    }
}

/// Whether `viewer` may see a comment of `video`: the video is visible to them, and a held
/// comment only to its author, the video's owner and moderators.
pub fn comment_visible(viewer: &Viewer, video: &VideoOf, author: Uuid, held: bool) -> bool {
    video.facts().visible_to(viewer)
        && (!held || viewer.owns(author) || viewer.manages(video.owner_id) || viewer.moderator)
}

/// Whether `viewer` may approve held comments of `video` and see them all.
pub fn reviews(viewer: &Viewer, video: &VideoOf) -> bool {
    viewer.manages(video.owner_id) || viewer.moderator
}

/// A comment `viewer` may see (not found otherwise), locked for the transaction when `lock`.
pub async fn comment(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    lock: bool,
) -> Result<CommentOf, DomainError> {
    let lock = if lock { " FOR UPDATE OF m" } else { "" };
    let found = CommentOf::find_by_statement(stmt(
        &format!(
            "SELECT m.id AS comment_id, m.author_id, m.parent_id, m.held,
                    m.withheld AS comment_withheld, {VIDEO_COLUMNS}
             FROM comments m JOIN videos v ON v.id = m.video_id WHERE m.id = $1{lock}"
        ),
        vec![id.into()],
    ))
    .one(db)
    .await?
    .filter(|c| {
        (!c.comment_withheld || viewer.moderator)
            && comment_visible(viewer, &c.video(), c.author_id, c.held)
    });
    found.ok_or(DomainError::NotFound)
}

/// Whether a comment of `author` on `video` waits for approval.
fn held_for(config: &Config, author: &user::Model, video: &VideoOf) -> bool {
    if author.id == video.owner_id || author.is_moderator() {
        return false;
    }
    video.comment_policy == CommentPolicy::Hold
        || (config.moderation.hold_comments && !author.verified)
}

/// What posting a comment did.
#[derive(Debug, Clone, Copy)]
pub struct Posted {
    pub id: Uuid,
    pub held: bool,
}

/// Posts a comment (a reply when `parent` is given) on a video `author` may see.
pub async fn post(
    db: &DatabaseConnection,
    config: &Config,
    author: &user::Model,
    video_id: Uuid,
    parent: Option<Uuid>,
    body: &str,
) -> Result<Posted, DomainError> {
    let viewer = Viewer::user(author);
    let body = check_body(body)?;
    let video = video(db, &viewer, video_id).await?;
    if video.comment_policy == CommentPolicy::Off {
        return Err(DomainError::refused(
            Code::CommentsOff,
            "Comments are turned off for this video",
        ));
    }
    if crate::blocks::blocks(db, video.owner_id, author.id).await? {
        return Err(DomainError::refused(
            Code::Blocked,
            "The video's owner blocked you: you cannot comment on their videos",
        ));
    }
    let verdict = throttle::attempt(
        db,
        &format!("comment:{}", author.id),
        config.community.comments_per_minute,
        Duration::from_secs(60),
    )
    .await?;
    if let Verdict::Blocked(wait) = verdict {
        return Err(throttle::too_many(
            Code::TooManyActions,
            "Too many comments",
            wait,
        ));
    }
    let tx = db.begin().await?;
    let parent = match parent {
        Some(p) => {
            let c = comment(&tx, &viewer, p, false).await?;
            if c.id != video.id {
                return Err(DomainError::NotFound);
            }
            if c.parent_id.is_some() {
                return Err(DomainError::refused(
                    Code::NotAReply,
                    "Replies go to top-level comments",
                )
                .field("parent_id"));
            }
            Some(c)
        }
        None => None,
    };
    let held = held_for(config, author, &video);
    let id = Uuid::now_v7();
    tx.execute_raw(stmt(
        "INSERT INTO comments (id, video_id, author_id, parent_id, body, held)
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            id.into(),
            video.id.into(),
            author.id.into(),
            parent.as_ref().map(|p| p.comment_id).into(),
            body.into(),
            held.into(),
        ],
    ))
    .await?;
    if !held {
        published(&tx, config, &video, id, author.id, parent.as_ref()).await?;
    }
    tx.commit().await?;
    Ok(Posted { id, held })
}

/// What a comment's becoming visible does: the counts, a reply's notification, and the
/// `comment.created` webhook event.
async fn published(
    tx: &impl ConnectionTrait,
    config: &Config,
    video: &VideoOf,
    id: Uuid,
    author: Uuid,
    parent: Option<&CommentOf>,
) -> Result<(), DomainError> {
    let mut changes = vec![(Counter::VideoComments, video.id, 1)];
    if let Some(p) = parent {
        changes.push((Counter::CommentReplies, p.comment_id, 1));
        if p.author_id != author && !crate::blocks::blocks(tx, p.author_id, author).await? {
            notifications::enqueue(
                tx,
                config,
                &NewNotification {
                    user_id: p.author_id,
                    kind: NotificationType::CommentReply,
                    video_id: Some(video.id),
                    comment_id: Some(id),
                    actor_id: Some(author),
                    data: serde_json::Value::Null,
                },
            )
            .await?;
        }
    }
    // The video's owner's webhooks hear of it (the comment's text is read through the API).
    crate::webhooks::emit(
        tx,
        config,
        crate::webhooks::Event::video(
            crate::state::WebhookEvent::CommentCreated,
            video.owner_id,
            video.id,
        )
        .data(serde_json::json!({ "comment": {
            "id": id,
            "author_id": author,
            "parent_id": parent.map(|p| p.comment_id),
        }})),
    )
    .await?;
    counters::add(tx, &changes).await
}

/// The counts a comment leaving takes with it: itself when it was counted (visible: not held,
/// not withheld), and its counted replies.
async fn unpublished(tx: &impl ConnectionTrait, c: &CommentOf) -> Result<(), DomainError> {
    let replies: i64 = if c.parent_id.is_none() {
        tx.query_one_raw(stmt(
            "SELECT count(*) AS n FROM comments WHERE parent_id = $1 AND NOT held AND NOT withheld",
            vec![c.comment_id.into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0)
    } else {
        0
    };
    let counted = !c.held && !c.comment_withheld;
    let gone = i64::from(counted) + replies;
    if gone == 0 {
        return Ok(());
    }
    let mut changes = vec![(
        Counter::VideoComments,
        c.id,
        -i32::try_from(gone).unwrap_or(i32::MAX),
    )];
    if let Some(p) = c.parent_id
        && counted
    {
        changes.push((Counter::CommentReplies, p, -1));
    }
    counters::add(tx, &changes).await
}

/// Edits a comment (its author only); it is marked edited, and held again when its author's
/// comments are held.
pub async fn edit(
    db: &DatabaseConnection,
    config: &Config,
    author: &user::Model,
    id: Uuid,
    body: &str,
) -> Result<bool, DomainError> {
    let viewer = Viewer::user(author);
    let body = check_body(body)?;
    let tx = db.begin().await?;
    let c = comment(&tx, &viewer, id, true).await?;
    if c.author_id != author.id {
        return Err(DomainError::refused(
            Code::Forbidden,
            "Only its author edits a comment",
        ));
    }
    let held = c.held || held_for(config, author, &c.video());
    if held && !c.held {
        unpublished(&tx, &c).await?;
    }
    tx.execute_raw(stmt(
        "UPDATE comments SET body = $2, held = $3, edited_at = now() WHERE id = $1",
        vec![id.into(), body.into(), held.into()],
    ))
    .await?;
    tx.commit().await?;
    Ok(held)
}

/// Deletes a comment: its author, the video's owner, moderators and admins may.
pub async fn delete(
    db: &DatabaseConnection,
    by: &user::Model,
    id: Uuid,
) -> Result<(), DomainError> {
    let viewer = Viewer::user(by);
    let tx = db.begin().await?;
    let c = comment(&tx, &viewer, id, true).await?;
    if c.author_id != by.id && !reviews(&viewer, &c.video()) {
        return Err(DomainError::refused(
            Code::Forbidden,
            "Only its author, the video's owner or a moderator deletes a comment",
        ));
    }
    remove(&tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a comment and its replies in `tx` whoever asks (the rules are the caller's), with
/// the counts. `false` when there was none.
pub async fn remove(tx: &impl ConnectionTrait, id: Uuid) -> Result<bool, DomainError> {
    let everyone = Viewer {
        user: None,
        moderator: true,
        admin: true,
    };
    let c = match comment(tx, &everyone, id, true).await {
        Ok(c) => c,
        Err(DomainError::NotFound) => return Ok(false),
        Err(e) => return Err(e),
    };
    unpublished(tx, &c).await?;
    tx.execute_raw(stmt("DELETE FROM comments WHERE id = $1", vec![id.into()]))
        .await?;
    Ok(true)
}

/// Approves a held comment (the video's owner, moderators and admins).
pub async fn approve(
    db: &DatabaseConnection,
    config: &Config,
    by: &user::Model,
    id: Uuid,
) -> Result<(), DomainError> {
    let viewer = Viewer::user(by);
    let tx = db.begin().await?;
    let c = comment(&tx, &viewer, id, true).await?;
    if !reviews(&viewer, &c.video()) {
        return Err(DomainError::refused(
            Code::Forbidden,
            "Only the video's owner or a moderator approves comments",
        ));
    }
    if !c.held {
        return Ok(());
    }
    tx.execute_raw(stmt(
        "UPDATE comments SET held = false WHERE id = $1",
        vec![id.into()],
    ))
    .await?;
    let parent = match c.parent_id {
        Some(p) => {
            // The parent as a moderator sees it: its author is told of the reply.
            let staff = Viewer {
                user: None,
                moderator: true,
                admin: true,
            };
            Some(comment(&tx, &staff, p, false).await?)
        }
        None => None,
    };
    published(&tx, config, &c.video(), id, c.author_id, parent.as_ref()).await?;
    tx.commit().await?;
    Ok(())
}

/// Pins a top-level, visible comment on its video, or unpins (the video's owner and admins).
pub async fn pin(
    db: &DatabaseConnection,
    by: &user::Model,
    id: Uuid,
    on: bool,
) -> Result<(), DomainError> {
    let viewer = Viewer::user(by);
    let c = comment(db, &viewer, id, false).await?;
    if !viewer.manages(c.owner_id) {
        return Err(DomainError::refused(
            Code::Forbidden,
            "Only the video's owner pins a comment",
        ));
    }
    if on && (c.parent_id.is_some() || c.held) {
        return Err(DomainError::refused(
            Code::NotAReply,
            "Only a visible top-level comment can be pinned",
        ));
    }
    let sql = if on {
        "UPDATE videos SET pinned_comment_id = $2 WHERE id = $1"
    } else {
        "UPDATE videos SET pinned_comment_id = NULL WHERE id = $1 AND pinned_comment_id = $2"
    };
    db.execute_raw(stmt(sql, vec![c.id.into(), id.into()]))
        .await?;
    Ok(())
}

/// Likes a comment `user` may see, or takes the like back. Returns whether it changed.
pub async fn like(
    db: &DatabaseConnection,
    config: &Config,
    user: &user::Model,
    id: Uuid,
    on: bool,
) -> Result<bool, DomainError> {
    let viewer = Viewer::user(user);
    comment(db, &viewer, id, false).await?;
    let tx = db.begin().await?;
    count_action(&tx, config, user.id).await?;
    let sql = if on {
        "INSERT INTO comment_likes (comment_id, user_id) VALUES ($1, $2)
         ON CONFLICT DO NOTHING RETURNING 1 AS changed"
    } else {
        "DELETE FROM comment_likes WHERE comment_id = $1 AND user_id = $2 RETURNING 1 AS changed"
    };
    let changed = tx
        .query_one_raw(stmt(sql, vec![id.into(), user.id.into()]))
        .await?
        .is_some();
    if changed {
        counters::add(&tx, &[(Counter::CommentLikes, id, if on { 1 } else { -1 })]).await?;
    }
    tx.commit().await?;
    Ok(changed)
}

/// Sets who may comment on a video (its owner and admins).
pub async fn set_policy(
    db: &impl ConnectionTrait,
    video: Uuid,
    policy: CommentPolicy,
) -> Result<(), DomainError> {
    db.execute_raw(stmt(
        "UPDATE videos SET comment_policy = $2, updated_at = now() WHERE id = $1",
        vec![video.into(), policy.as_str().into()],
    ))
    .await?;
    Ok(())
}
