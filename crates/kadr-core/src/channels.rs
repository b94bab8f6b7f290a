//! Channels: a user owns up to `community.max_channels` of them and uploads into one. Each has
//! a handle (its address, `/c/{handle}`), a display name, a description, links and pictures.
//! Deleting one hides it at once and removes its videos through a job.

use chrono::Utc;
use kadr_config::Config;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, FromQueryResult, SqlErr,
    Statement, TransactionTrait,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::codes::Code;
use crate::entities::user;
use crate::error::DomainError;
use crate::fields::plain_text;
use crate::jobs;

/// A handle's length, in characters.
pub const HANDLE_LEN: std::ops::RangeInclusive<usize> = 3..=32;
/// Longest display name, in characters.
pub const DISPLAY_NAME_MAX: usize = 100;
/// Longest channel description, in characters.
pub const CHANNEL_DESCRIPTION_MAX: usize = 5_000;
/// Most links on a channel.
pub const LINKS_MAX: usize = 5;
/// Longest link title, in characters.
pub const LINK_TITLE_MAX: usize = 60;
/// Longest link URL, in bytes.
pub const LINK_URL_MAX: usize = 500;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// A link shown on a channel's page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Link {
    pub title: String,
    pub url: String,
}

/// 3 to 32 letters (any script), digits, `_`, `.` and `-`, beginning with a letter or digit.
pub fn check_handle(handle: &str) -> Result<String, DomainError> {
    let h = handle.trim();
    if !HANDLE_LEN.contains(&h.chars().count()) {
        return Err(DomainError::invalid(
            "handle",
            "A handle has 3 to 32 characters",
        ));
    }
    let ok = h
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '_' | '.' | '-'))
        && h.chars().next().is_some_and(char::is_alphanumeric);
    if !ok {
        return Err(DomainError::invalid(
            "handle",
            "A handle has letters, digits, '_', '.' and '-', and begins with a letter or digit",
        ));
    }
    Ok(h.to_owned())
}

pub fn check_display_name(name: &str) -> Result<String, DomainError> {
    let n = name.trim();
    if n.is_empty() || n.chars().count() > DISPLAY_NAME_MAX {
        return Err(DomainError::invalid(
            "display_name",
            "A display name has 1 to 100 characters",
        ));
    }
    plain_text("display_name", n, false)?;
    Ok(n.to_owned())
}

pub fn check_description(text: &str) -> Result<String, DomainError> {
    plain_text("description", text, true)?;
    if text.chars().count() > CHANNEL_DESCRIPTION_MAX {
        return Err(DomainError::invalid(
            "description",
            "A channel description has at most 5000 characters",
        ));
    }
    Ok(text.to_owned())
}

/// At most 5 links, each an `http(s)://` URL with a host and a title of 1 to 60 characters.
pub fn check_links(links: &[Link]) -> Result<Vec<Link>, DomainError> {
    if links.len() > LINKS_MAX {
        return Err(DomainError::invalid(
            "links",
            "A channel has at most 5 links",
        ));
    }
    let mut out = Vec::with_capacity(links.len());
    for l in links {
        let title = l.title.trim();
        let url = l.url.trim();
        if title.is_empty() || title.chars().count() > LINK_TITLE_MAX {
            return Err(DomainError::invalid(
                "links",
                "A link's title has 1 to 60 characters",
            ));
        }
        plain_text("links", title, false)?;
        if !safe_url(url) {
            return Err(DomainError::invalid(
                "links",
                "A link is an http:// or https:// address of at most 500 characters",
            ));
        }
        out.push(Link {
            title: title.to_owned(),
            url: url.to_owned(),
        });
    }
    Ok(out)
}

/// An `http(s)://host…` URL without spaces, quotes, angle brackets or control characters: safe
/// to put in an `href` (never `javascript:` or `data:`).
pub fn safe_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    let Some(rest) = rest else { return false };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    url.len() <= LINK_URL_MAX
        && !host.is_empty()
        && !url.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | '`' | '\\')
        })
}

/// What a channel is described with; `None` keeps the current value.
#[derive(Debug, Default)]
pub struct ChannelFields<'a> {
    pub handle: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub description: Option<&'a str>,
    pub links: Option<&'a [Link]>,
}

/// A channel as the domain hands it around.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ChannelRow {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub handle: String,
    pub display_name: String,
}

fn handle_taken(err: DbErr) -> DomainError {
    if let Some(SqlErr::UniqueConstraintViolation(msg)) = err.sql_err()
        && msg.contains("channels_handle_key")
    {
        return DomainError::refused(Code::HandleTaken, "That handle is taken").field("handle");
    }
    err.into()
}

/// Creates a channel of `owner`: at most `community.max_channels`, counted under a lock on the
/// owner, so parallel creations cannot pass the limit.
pub async fn create(
    db: &DatabaseConnection,
    config: &Config,
    owner: &user::Model,
    fields: &ChannelFields<'_>,
) -> Result<Uuid, DomainError> {
    let handle = check_handle(fields.handle.unwrap_or(""))?;
    let display_name = check_display_name(fields.display_name.unwrap_or(&handle))?;
    let description = check_description(fields.description.unwrap_or(""))?;
    let links = check_links(fields.links.unwrap_or(&[]))?;
    let links = serde_json::to_value(&links).map_err(|e| DomainError::Internal(e.to_string()))?;
    let tx = db.begin().await?;
    tx.execute_raw(stmt(
        "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
        vec![owner.id.into()],
    ))
    .await?;
    let count = tx
        .query_one_raw(stmt(
            "SELECT count(*) AS n FROM channels WHERE owner_id = $1 AND deleting_at IS NULL",
            vec![owner.id.into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if count >= i64::from(config.community.max_channels) {
        return Err(DomainError::refused(
            Code::TooManyChannels,
            format!(
                "A user owns at most {} channels",
                config.community.max_channels
            ),
        ));
    }
    let id = Uuid::now_v7();
    tx.execute_raw(stmt(
        "INSERT INTO channels (id, owner_id, handle, display_name, description, links)
         VALUES ($1, $2, $3, $4, $5, $6)",
        vec![
            id.into(),
            owner.id.into(),
            handle.into(),
            display_name.into(),
            description.into(),
            links.into(),
        ],
    ))
    .await
    .map_err(handle_taken)?;
    tx.commit().await?;
    Ok(id)
}

/// A channel by its handle (case does not matter), unless it is being deleted.
pub async fn by_handle(db: &impl ConnectionTrait, handle: &str) -> Result<ChannelRow, DomainError> {
    if !crate::fields::could_name(handle) {
        return Err(DomainError::NotFound);
    }
    ChannelRow::find_by_statement(stmt(
        "SELECT id, owner_id, handle, display_name FROM channels
         WHERE lower(handle) = lower($1) AND deleting_at IS NULL AND NOT withheld",
        vec![handle.into()],
    ))
    .one(db)
    .await?
    .ok_or(DomainError::NotFound)
}

/// A channel `by` manages (its owner, or an admin), by handle.
pub async fn managed(
    db: &impl ConnectionTrait,
    by: &user::Model,
    handle: &str,
) -> Result<ChannelRow, DomainError> {
    let ch = by_handle(db, handle).await?;
    if ch.owner_id != by.id && !by.is_admin() {
        return Err(DomainError::NotFound);
    }
    Ok(ch)
}

/// Edits a channel `by` manages.
pub async fn update(
    db: &DatabaseConnection,
    by: &user::Model,
    handle: &str,
    fields: &ChannelFields<'_>,
) -> Result<Uuid, DomainError> {
    let ch = managed(db, by, handle).await?;
    let mut sets = Vec::new();
    let mut values: Vec<sea_orm::Value> = vec![ch.id.into()];
    if let Some(h) = fields.handle {
        values.push(check_handle(h)?.into());
        sets.push(format!("handle = ${}", values.len()));
    }
    if let Some(n) = fields.display_name {
        values.push(check_display_name(n)?.into());
        sets.push(format!("display_name = ${}", values.len()));
    }
    if let Some(d) = fields.description {
        values.push(check_description(d)?.into());
        sets.push(format!("description = ${}", values.len()));
    }
    if let Some(l) = fields.links {
        let links = serde_json::to_value(check_links(l)?)
            .map_err(|e| DomainError::Internal(e.to_string()))?;
        values.push(links.into());
        sets.push(format!("links = ${}", values.len()));
    }
    if sets.is_empty() {
        return Ok(ch.id);
    }
    db.execute_raw(stmt(
        &format!(
            "UPDATE channels SET {}, updated_at = now() WHERE id = $1",
            sets.join(", ")
        ),
        values,
    ))
    .await
    .map_err(handle_taken)?;
    Ok(ch.id)
}

/// Starts deleting a channel `by` manages: `confirm` must repeat its handle, and its owner
/// keeps at least one channel. The channel is hidden at once; a `delete_channel` job removes
/// its videos (each through the video deletion, with its cleanup job), then the channel.
pub async fn delete(
    db: &DatabaseConnection,
    config: &Config,
    by: &user::Model,
    handle: &str,
    confirm: Option<&str>,
) -> Result<Uuid, DomainError> {
    let tx = db.begin().await?;
    let ch = managed(&tx, by, handle).await?;
    if confirm.is_none_or(|c| !c.trim().eq_ignore_ascii_case(&ch.handle) && c.trim() != ch.handle) {
        return Err(DomainError::refused(
            Code::ConfirmationRequired,
            "Deleting a channel removes all its videos: repeat its handle in `confirm`",
        )
        .field("confirm"));
    }
    tx.execute_raw(stmt(
        "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
        vec![ch.owner_id.into()],
    ))
    .await?;
    let left = tx
        .query_one_raw(stmt(
            "SELECT count(*) AS n FROM channels WHERE owner_id = $1 AND deleting_at IS NULL",
            vec![ch.owner_id.into()],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    if left <= 1 {
        return Err(DomainError::refused(
            Code::LastChannel,
            "A user keeps at least one channel",
        ));
    }
    tx.execute_raw(stmt(
        "UPDATE channels SET deleting_at = now(), updated_at = now() WHERE id = $1",
        vec![ch.id.into()],
    ))
    .await?;
    jobs::enqueue(
        &tx,
        config,
        jobs::DELETE_CHANNEL,
        &jobs::DeleteChannel { channel_id: ch.id },
        Some(ch.id.to_string()),
    )
    .await?;
    tx.commit().await?;
    Ok(ch.id)
}

/// A moderator's removal of a channel in `tx`: hidden at once and deleted by its job, like an
/// owner's deletion, even when it is its owner's last (they may create another).
pub async fn remove(
    tx: &impl ConnectionTrait,
    config: &Config,
    id: Uuid,
) -> Result<(), DomainError> {
    let found = tx
        .query_one_raw(stmt(
            "UPDATE channels SET deleting_at = now(), updated_at = now()
             WHERE id = $1 AND deleting_at IS NULL RETURNING id",
            vec![id.into()],
        ))
        .await?;
    if found.is_some() {
        jobs::enqueue(
            tx,
            config,
            jobs::DELETE_CHANNEL,
            &jobs::DeleteChannel { channel_id: id },
            Some(id.to_string()),
        )
        .await?;
    }
    Ok(())
}

/// One step of a channel's deletion: up to `batch` of its videos deleted (each with its
/// cleanup job); once none is left, the channel itself. `true` when the channel is gone.
pub async fn delete_step(
    db: &DatabaseConnection,
    config: &Config,
    channel_id: Uuid,
    batch: u64,
) -> Result<bool, DomainError> {
    let tx = db.begin().await?;
    let owner = tx
        .query_one_raw(stmt(
            "SELECT owner_id FROM channels WHERE id = $1 AND deleting_at IS NOT NULL FOR UPDATE",
            vec![channel_id.into()],
        ))
        .await?;
    let Some(owner) = owner else {
        return Ok(true);
    };
    let owner: Uuid = owner.try_get("", "owner_id")?;
    let owner = user::Entity::find_by_id(owner).one(&tx).await?;
    let ids = tx
        .query_all_raw(stmt(
            &format!("SELECT id FROM videos WHERE channel_id = $1 ORDER BY id LIMIT {batch}"),
            vec![channel_id.into()],
        ))
        .await?;
    if ids.is_empty() {
        tx.execute_raw(stmt(
            "DELETE FROM channels WHERE id = $1",
            vec![channel_id.into()],
        ))
        .await?;
        jobs::enqueue_cleanup(
            &tx,
            config,
            &jobs::Cleanup {
                prefixes: vec![crate::keys::channel_prefix(channel_id)],
                multipart: Vec::new(),
            },
        )
        .await?;
        tx.commit().await?;
        return Ok(true);
    }
    if let Some(owner) = owner {
        for row in ids {
            let id: Uuid = row.try_get("", "id")?;
            crate::videos::delete(&tx, config, &owner, id).await?;
        }
    }
    tx.commit().await?;
    Ok(false)
}

/// The channel an upload goes to: `asked` (a handle or id of one of `owner`'s channels), or
/// the owner's first channel.
pub async fn for_upload(
    db: &impl ConnectionTrait,
    owner: &user::Model,
    asked: Option<&str>,
) -> Result<Uuid, DomainError> {
    let asked = asked.map(str::trim).filter(|a| !a.is_empty());
    if asked.is_some_and(|a| !crate::fields::could_name(a)) {
        return Err(
            DomainError::refused(Code::UnknownChannel, "That channel is not one of yours")
                .field("channel"),
        );
    }
    let found = match asked {
        Some(a) => {
            let by_id = Uuid::parse_str(a).ok();
            db.query_one_raw(stmt(
                "SELECT id FROM channels WHERE owner_id = $1 AND deleting_at IS NULL
                   AND (lower(handle) = lower($2) OR id = $3)",
                vec![owner.id.into(), a.to_owned().into(), by_id.into()],
            ))
            .await?
        }
        None => {
            db.query_one_raw(stmt(
                "SELECT id FROM channels WHERE owner_id = $1 AND deleting_at IS NULL
                 ORDER BY created_at, id LIMIT 1",
                vec![owner.id.into()],
            ))
            .await?
        }
    };
    match found {
        Some(row) => Ok(row.try_get("", "id")?),
        None => Err(
            DomainError::refused(Code::UnknownChannel, "That channel is not one of yours")
                .field("channel"),
        ),
    }
}

/// Records a new picture of a channel (the worker made it): the previous one's key is
/// returned for removal.
pub async fn set_image(
    db: &impl ConnectionTrait,
    channel_id: Uuid,
    image: crate::state::ChannelImage,
    key: &str,
    width: i32,
    height: i32,
) -> Result<Option<String>, DomainError> {
    let old = db
        .query_one_raw(stmt(
            "SELECT storage_key FROM channel_images WHERE channel_id = $1 AND image = $2",
            vec![channel_id.into(), image.as_str().into()],
        ))
        .await?
        .map(|r| r.try_get::<String>("", "storage_key"))
        .transpose()?;
    db.execute_raw(stmt(
        "INSERT INTO channel_images (channel_id, image, storage_key, width, height, version)
         VALUES ($1, $2, $3, $4, $5, 1)
         ON CONFLICT (channel_id, image) DO UPDATE SET storage_key = excluded.storage_key,
             width = excluded.width, height = excluded.height,
             version = channel_images.version + 1, created_at = now()",
        vec![
            channel_id.into(),
            image.as_str().into(),
            key.into(),
            width.into(),
            height.into(),
        ],
    ))
    .await?;
    Ok(old.filter(|o| o != key))
}

/// Removes a channel's pictures of one kind (avatar or banner, both sizes); their keys are
/// returned for removal from storage.
pub async fn clear_images(
    db: &impl ConnectionTrait,
    channel_id: Uuid,
    images: &[crate::state::ChannelImage],
) -> Result<Vec<String>, DomainError> {
    let names: Vec<String> = images.iter().map(|i| i.as_str().to_owned()).collect();
    let rows = db
        .query_all_raw(stmt(
            "DELETE FROM channel_images WHERE channel_id = $1 AND image = ANY($2)
             RETURNING storage_key",
            vec![channel_id.into(), names.into()],
        ))
        .await?;
    rows.iter()
        .map(|r| r.try_get::<String>("", "storage_key").map_err(Into::into))
        .collect()
}

/// When `now` is, for keys that must differ between uploads.
pub fn stamp() -> i64 {
    Utc::now().timestamp_millis()
}
