//! Playlists: a user's ordered lists of videos (public, unlisted or private), each shown on
//! one of their channels when public, and every user's built-in private "Watch later".
//!
//! A playlist holds at most [`MAX_ITEMS`] videos, each once. Order is kept in `position`
//! with gaps, so a move writes one row; when a gap runs out the playlist is renumbered.
//! Entries are read through the visibility rule: a video the viewer may not see is left out
//! and tells nothing (not even that it is there).
//!
//! A playlist's title and description are seen by others, so they follow the moderation rule
//! of videos (`kadr_core::review`): an untrusted owner's new playlist, and their later edits
//! of its words, wait for a moderator (seen meanwhile by the owner and moderators only).

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::codes::Code;
use crate::entities::user;
use crate::error::DomainError;
use crate::fields;
use crate::state::{Moderation, ModerationAction, NotificationType, ObjectType, Privacy, Standing};
use crate::visibility::Viewer;
use kadr_config::Config;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Most videos in one playlist.
pub const MAX_ITEMS: i32 = 5000;
/// Most playlists one user keeps.
pub const MAX_PER_USER: i64 = 500;
/// Longest title.
pub const TITLE_MAX: usize = 150;
/// Longest description.
pub const DESCRIPTION_MAX: usize = 5000;
/// The gap between neighbours when appended or renumbered.
const GAP: i64 = 1 << 16;

/// A playlist as the domain sees it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct PlaylistRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub channel_id: Option<Uuid>,
    pub title: String,
    pub description: String,
    pub privacy: Privacy,
    pub watch_later: bool,
    pub item_count: i32,
    pub created_at: chrono::DateTime<chrono::FixedOffset>,
    pub updated_at: chrono::DateTime<chrono::FixedOffset>,
    /// Its owner's standing: a suspended or banned owner's playlists are withheld.
    pub owner_standing: Standing,
    pub moderation: Moderation,
    /// Why it was rejected, shown to its owner.
    pub moderation_reason: Option<String>,
}

/// The columns of [`PlaylistRow`] over `playlists p JOIN users u`.
pub const COLUMNS: &str = "p.id, p.owner_id, p.channel_id, p.title, p.description, p.privacy,
    p.watch_later, p.item_count, p.created_at, p.updated_at, u.standing AS owner_standing,
    p.moderation, p.moderation_reason";

impl PlaylistRow {
    /// Whether `viewer` may see it: public and unlisted ones anyone (with the link) once
    /// approved, and moderators before; private ones their owner and admins; a suspended or
    /// banned owner's, moderators only.
    pub fn visible_to(&self, viewer: &Viewer) -> bool {
        if viewer.admin {
            return true;
        }
        if self.owner_standing != Standing::Active {
            return viewer.moderator && self.privacy != Privacy::Private;
        }
        if viewer.owns(self.owner_id) {
            return true;
        }
        if self.privacy == Privacy::Private {
            return false;
        }
        self.moderation == Moderation::Approved || viewer.moderator
    }
}

/// A title: trimmed, 1 to 150 characters of plain text.
pub fn check_title(title: &str) -> Result<String, DomainError> {
    let t = title.trim();
    fields::plain_text("title", t, false)?;
    if t.is_empty() || t.chars().count() > TITLE_MAX {
        return Err(DomainError::invalid(
            "title",
            "A playlist's title has 1 to 150 characters",
        ));
    }
    Ok(t.to_owned())
}

/// A description: at most 5000 characters.
pub fn check_description(text: &str) -> Result<String, DomainError> {
    fields::plain_text("description", text, true)?;
    if text.chars().count() > DESCRIPTION_MAX {
        return Err(DomainError::invalid(
            "description",
            "A playlist's description has at most 5000 characters",
        ));
    }
    Ok(text.trim_end().to_owned())
}

/// The playlist `id` if `viewer` may see it (not found otherwise), locked when `lock`.
pub async fn get(
    db: &impl ConnectionTrait,
    viewer: &Viewer,
    id: Uuid,
    lock: bool,
) -> Result<PlaylistRow, DomainError> {
    let lock = if lock { " FOR UPDATE OF p" } else { "" };
    PlaylistRow::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM playlists p JOIN users u ON u.id = p.owner_id WHERE p.id = $1{lock}"),
        vec![id.into()],
    ))
    .one(db)
    .await?
    .filter(|p| p.visible_to(viewer))
    .ok_or(DomainError::NotFound)
}

/// The playlist `id` that `by` manages (its owner, or an admin), locked for the transaction.
async fn managed(
    db: &impl ConnectionTrait,
    by: &user::Model,
    id: Uuid,
) -> Result<PlaylistRow, DomainError> {
    let p = get(db, &Viewer::user(by), id, true).await?;
    if p.owner_id != by.id && !by.is_admin() {
        // Seeing a public playlist does not make it yours: refused, not hidden.
        return Err(DomainError::refused(
            Code::Forbidden,
            "Only its owner changes a playlist",
        ));
    }
    Ok(p)
}

/// The channel of `owner` a playlist is shown on: the one named by `handle`, or their first.
async fn channel_of(
    db: &impl ConnectionTrait,
    owner: Uuid,
    handle: Option<&str>,
) -> Result<Option<Uuid>, DomainError> {
    let unknown = || {
        DomainError::refused(Code::UnknownChannel, "That channel is not one of yours")
            .field("channel")
    };
    if handle.is_some_and(|h| !crate::fields::could_name(h)) {
        return Err(unknown());
    }
    let row = match handle {
        Some(h) => db
            .query_one_raw(stmt(
                "SELECT id FROM channels WHERE owner_id = $1 AND lower(handle) = lower($2)
                 AND deleting_at IS NULL",
                vec![owner.into(), h.trim().into()],
            ))
            .await?
            .ok_or_else(unknown)
            .map(Some)?,
        None => {
            db.query_one_raw(stmt(
                "SELECT id FROM channels WHERE owner_id = $1 AND deleting_at IS NULL
                 ORDER BY created_at, id LIMIT 1",
                vec![owner.into()],
            ))
            .await?
        }
    };
    row.map(|r| r.try_get::<Uuid>("", "id"))
        .transpose()
        .map_err(Into::into)
}

/// What a playlist's owner sets.
#[derive(Debug, Clone, Default)]
pub struct Fields<'a> {
    pub title: Option<&'a str>,
    pub description: Option<&'a str>,
    pub privacy: Option<Privacy>,
    /// The handle of the owner's channel it is shown on.
    pub channel: Option<&'a str>,
}

/// Creates a playlist of `owner` (at most [`MAX_PER_USER`], counted under a lock on the owner).
pub async fn create(
    db: &DatabaseConnection,
    config: &Config,
    owner: &user::Model,
    f: &Fields<'_>,
) -> Result<Uuid, DomainError> {
    let title = check_title(f.title.unwrap_or_default())?;
    let description = check_description(f.description.unwrap_or_default())?;
    let privacy = f.privacy.unwrap_or(Privacy::Private);
    let tx = db.begin().await?;
    tx.execute_raw(stmt(
        "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
        vec![owner.id.into()],
    ))
    .await?;
    let n: i64 = tx
        .query_one_raw(stmt(
            "SELECT count(*) AS n FROM playlists WHERE owner_id = $1",
            vec![owner.id.into()],
        ))
        .await?
        .map(|r| r.try_get("", "n"))
        .transpose()?
        .unwrap_or(0);
    if n >= MAX_PER_USER {
        return Err(DomainError::refused(
            Code::TooManyPlaylists,
            "You have 500 playlists: delete one first",
        ));
    }
    let channel = channel_of(&tx, owner.id, f.channel).await?;
    let id = Uuid::now_v7();
    tx.execute_raw(stmt(
        "INSERT INTO playlists (id, owner_id, channel_id, title, description, privacy, moderation)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        vec![
            id.into(),
            owner.id.into(),
            channel.into(),
            title.into(),
            description.into(),
            privacy.as_str().into(),
            crate::review::initial_state(&config.moderation, owner)
                .as_str()
                .into(),
        ],
    ))
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// The title of every user's "Watch later" (the UI shows its own words for it).
pub const WATCH_LATER_TITLE: &str = "Watch later";

/// `owner`'s "Watch later", made the first time it is asked for.
pub async fn watch_later(db: &impl ConnectionTrait, owner: Uuid) -> Result<Uuid, DomainError> {
    db.execute_raw(stmt(
        "INSERT INTO playlists (id, owner_id, title, privacy, watch_later)
         VALUES ($1, $2, $3, $4, true) ON CONFLICT (owner_id) WHERE watch_later DO NOTHING",
        vec![
            Uuid::now_v7().into(),
            owner.into(),
            WATCH_LATER_TITLE.into(),
            Privacy::Private.as_str().into(),
        ],
    ))
    .await?;
    db.query_one_raw(stmt(
        "SELECT id FROM playlists WHERE owner_id = $1 AND watch_later",
        vec![owner.into()],
    ))
    .await?
    .map(|r| r.try_get::<Uuid>("", "id"))
    .transpose()?
    .ok_or_else(|| DomainError::Internal("watch later was not created".to_owned()))
}

fn watch_later_refused() -> DomainError {
    DomainError::refused(
        Code::WatchLater,
        "Watch later stays private: it cannot be renamed, shared or deleted",
    )
}

/// Edits a playlist `by` manages.
pub async fn update(
    db: &DatabaseConnection,
    config: &Config,
    by: &user::Model,
    id: Uuid,
    f: &Fields<'_>,
) -> Result<(), DomainError> {
    let title = f.title.map(check_title).transpose()?;
    let description = f.description.map(check_description).transpose()?;
    let tx = db.begin().await?;
    let p = managed(&tx, by, id).await?;
    if p.watch_later
        && (title.is_some()
            || f.privacy.is_some_and(|x| x != Privacy::Private)
            || f.channel.is_some())
    {
        return Err(watch_later_refused());
    }
    let channel = match f.channel {
        Some(h) => channel_of(&tx, p.owner_id, Some(h)).await?,
        None => p.channel_id,
    };
    let words_changed = title.as_ref().is_some_and(|t| *t != p.title)
        || description.as_ref().is_some_and(|d| *d != p.description);
    // Changed words of an approved (or rejected) playlist go back to review.
    let moderation = if words_changed
        && p.moderation != Moderation::Pending
        && crate::review::edit_returns_to_review(&config.moderation, by, Moderation::Approved, true)
    {
        Moderation::Pending
    } else {
        p.moderation
    };
    tx.execute_raw(stmt(
        "UPDATE playlists SET title = $2, description = $3, privacy = $4, channel_id = $5,
         moderation = $6, updated_at = now() WHERE id = $1",
        vec![
            id.into(),
            title.unwrap_or(p.title).into(),
            description.unwrap_or(p.description).into(),
            f.privacy.unwrap_or(p.privacy).as_str().into(),
            channel.into(),
            moderation.as_str().into(),
        ],
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a playlist `by` manages (never "Watch later").
pub async fn delete(
    db: &DatabaseConnection,
    by: &user::Model,
    id: Uuid,
) -> Result<(), DomainError> {
    let tx = db.begin().await?;
    let p = managed(&tx, by, id).await?;
    if p.watch_later {
        return Err(watch_later_refused());
    }
    tx.execute_raw(stmt("DELETE FROM playlists WHERE id = $1", vec![id.into()]))
        .await?;
    tx.commit().await?;
    Ok(())
}

/// Adds `video` (which `by` can see) at the end of a playlist `by` manages; a video already
/// there stays where it is. Returns whether it was added.
pub async fn add(
    db: &DatabaseConnection,
    by: &user::Model,
    id: Uuid,
    video: Uuid,
) -> Result<bool, DomainError> {
    crate::comments::video(db, &Viewer::user(by), video).await?;
    let tx = db.begin().await?;
    let p = managed(&tx, by, id).await?;
    let there = tx
        .query_one_raw(stmt(
            "SELECT 1 AS one FROM playlist_items WHERE playlist_id = $1 AND video_id = $2",
            vec![id.into(), video.into()],
        ))
        .await?
        .is_some();
    if there {
        return Ok(false);
    }
    if p.item_count >= MAX_ITEMS {
        return Err(DomainError::refused(
            Code::PlaylistFull,
            "A playlist holds at most 5000 videos",
        ));
    }
    tx.execute_raw(stmt(
        &format!(
            "INSERT INTO playlist_items (playlist_id, video_id, position)
             SELECT $1, $2, coalesce(max(position), 0) + {GAP} FROM playlist_items WHERE playlist_id = $1"
        ),
        vec![id.into(), video.into()],
    ))
    .await?;
    tx.execute_raw(stmt(
        "UPDATE playlists SET item_count = item_count + 1, updated_at = now() WHERE id = $1",
        vec![id.into()],
    ))
    .await?;
    tx.commit().await?;
    Ok(true)
}

/// Removes `video` from a playlist `by` manages (not there: no change).
pub async fn remove(
    db: &DatabaseConnection,
    by: &user::Model,
    id: Uuid,
    video: Uuid,
) -> Result<(), DomainError> {
    let tx = db.begin().await?;
    managed(&tx, by, id).await?;
    let gone = tx
        .execute_raw(stmt(
            "DELETE FROM playlist_items WHERE playlist_id = $1 AND video_id = $2",
            vec![id.into(), video.into()],
        ))
        .await?
        .rows_affected();
    if gone > 0 {
        tx.execute_raw(stmt(
            "UPDATE playlists SET item_count = greatest(0, item_count - 1), updated_at = now()
             WHERE id = $1",
            vec![id.into()],
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn position_of(
    db: &impl ConnectionTrait,
    id: Uuid,
    video: Uuid,
) -> Result<Option<i64>, DomainError> {
    Ok(db
        .query_one_raw(stmt(
            "SELECT position FROM playlist_items WHERE playlist_id = $1 AND video_id = $2",
            vec![id.into(), video.into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "position"))
        .transpose()?)
}

/// The free position right after `after` (the start when `None`) for `moving`, if the gap
/// there holds one.
async fn slot(
    db: &impl ConnectionTrait,
    id: Uuid,
    moving: Uuid,
    after: Option<i64>,
) -> Result<Option<i64>, DomainError> {
    let low = after.unwrap_or(0);
    let next: Option<i64> = db
        .query_one_raw(stmt(
            "SELECT min(position) AS p FROM playlist_items
             WHERE playlist_id = $1 AND position > $2 AND video_id <> $3",
            vec![id.into(), low.into(), moving.into()],
        ))
        .await?
        .map(|r| r.try_get::<Option<i64>>("", "p"))
        .transpose()?
        .flatten();
    Ok(match next {
        None => Some(low + GAP),
        Some(high) if high - low >= 2 => Some(low + (high - low) / 2),
        Some(_) => None,
    })
}

/// Moves `video` right after `after` (to the top when `None`) in a playlist `by` manages.
pub async fn move_item(
    db: &DatabaseConnection,
    by: &user::Model,
    id: Uuid,
    video: Uuid,
    after: Option<Uuid>,
) -> Result<(), DomainError> {
    if after == Some(video) {
        return Ok(());
    }
    let tx = db.begin().await?;
    managed(&tx, by, id).await?;
    if position_of(&tx, id, video).await?.is_none() {
        return Err(DomainError::NotFound);
    }
    let after_pos =
        match after {
            Some(a) => Some(position_of(&tx, id, a).await?.ok_or_else(|| {
                DomainError::invalid("after", "That video is not in the playlist")
            })?),
            None => None,
        };
    let mut at = slot(&tx, id, video, after_pos).await?;
    if at.is_none() {
        renumber(&tx, id).await?;
        let after_pos = match after {
            Some(a) => position_of(&tx, id, a).await?,
            None => None,
        };
        at = slot(&tx, id, video, after_pos).await?;
    }
    let at = at.ok_or_else(|| DomainError::Internal("no room after renumbering".to_owned()))?;
    tx.execute_raw(stmt(
        "UPDATE playlist_items SET position = $3 WHERE playlist_id = $1 AND video_id = $2",
        vec![id.into(), video.into(), at.into()],
    ))
    .await?;
    tx.execute_raw(stmt(
        "UPDATE playlists SET updated_at = now() WHERE id = $1",
        vec![id.into()],
    ))
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Spreads a playlist's positions [`GAP`] apart again, keeping the order. Two statements: the
/// unique order index is checked row by row, so the first moves every entry to a negative
/// position no entry holds.
async fn renumber(tx: &impl ConnectionTrait, id: Uuid) -> Result<(), DomainError> {
    tx.execute_raw(stmt(
        "UPDATE playlist_items i SET position = -r.n FROM (
             SELECT video_id, row_number() OVER (ORDER BY position) AS n
             FROM playlist_items WHERE playlist_id = $1) r
         WHERE i.playlist_id = $1 AND i.video_id = r.video_id",
        vec![id.into()],
    ))
    .await?;
    tx.execute_raw(stmt(
        &format!("UPDATE playlist_items SET position = -position * {GAP} WHERE playlist_id = $1"),
        vec![id.into()],
    ))
    .await?;
    Ok(())
}

/// The playlists `video` is in among those of `owner` (for the "save to" dialog).
pub async fn containing(
    db: &impl ConnectionTrait,
    owner: Uuid,
    video: Uuid,
) -> Result<Vec<Uuid>, DomainError> {
    let rows = db
        .query_all_raw(stmt(
            "SELECT p.id FROM playlists p JOIN playlist_items i ON i.playlist_id = p.id
             WHERE p.owner_id = $1 AND i.video_id = $2",
            vec![owner.into(), video.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get::<Uuid>("", "id").map_err(Into::into))
        .collect()
}

/// A moderator's decision on a playlist waiting for review (moderators; private ones admins
/// only): recorded, and its owner told.
pub async fn decide(
    db: &DatabaseConnection,
    config: &Config,
    moderator: &user::Model,
    id: Uuid,
    decision: Moderation,
    reason: Option<&str>,
) -> Result<(), DomainError> {
    if !moderator.is_moderator() {
        return Err(DomainError::refused(
            Code::Forbidden,
            "Moderators and administrators only",
        ));
    }
    let reason = reason.map(str::trim).filter(|r| !r.is_empty());
    if let Some(r) = reason {
        crate::standing::check_reason(r)?;
    }
    if decision == Moderation::Rejected && reason.is_none() {
        return Err(DomainError::refused(
            Code::ReasonRequired,
            "Say why the playlist is rejected: its owner sees it",
        )
        .field("reason"));
    }
    let tx = db.begin().await?;
    let p = get(&tx, &crate::visibility::Viewer::user(moderator), id, true).await?;
    tx.execute_raw(stmt(
        "UPDATE playlists SET moderation = $2, moderation_reason = $3 WHERE id = $1",
        vec![id.into(), decision.as_str().into(), reason.into()],
    ))
    .await?;
    let action = if decision == Moderation::Approved {
        ModerationAction::Approve
    } else {
        ModerationAction::Reject
    };
    crate::standing::record(
        &tx,
        Some(moderator),
        &crate::standing::Entry::new(action, Some(p.owner_id), reason.unwrap_or_default())
            .object(ObjectType::Playlist, id),
    )
    .await?;
    if p.owner_id != moderator.id {
        crate::notifications::enqueue(
            &tx,
            config,
            &crate::notifications::NewNotification {
                user_id: p.owner_id,
                kind: NotificationType::Moderation,
                video_id: None,
                comment_id: None,
                actor_id: Some(moderator.id),
                data: serde_json::json!({
                    "decision": decision.as_str(),
                    "reason": reason,
                    "playlist_id": id,
                    "playlist_title": p.title,
                }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
