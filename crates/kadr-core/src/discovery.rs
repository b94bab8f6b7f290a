//! What link previews and search engines are shown, read from the database: a channel's
//! preview, a playlist's cover video, and the sitemaps' listed videos and channels in id
//! order (UUIDv7: upload order), walked by index only. The markup is the catalog's.

use chrono::{DateTime, FixedOffset};
use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement, Value};
use uuid::Uuid;

use crate::error::DomainError;
use crate::visibility::{LISTED, Viewer, visible_sql};

fn stmt(sql: impl Into<String>, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// Channels a sitemap or a preview may name.
const LISTED_CHANNELS: &str = "c.deleting_at IS NULL AND NOT c.withheld";

/// A channel as its link preview shows it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct ChannelPreview {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
    pub description: String,
    pub avatar_version: Option<i32>,
    pub avatar_width: Option<i32>,
    pub avatar_height: Option<i32>,
}

/// The channel `handle` (any case), unless it is being deleted or withheld.
pub async fn channel_preview(
    db: &impl ConnectionTrait,
    handle: &str,
) -> Result<Option<ChannelPreview>, DomainError> {
    Ok(ChannelPreview::find_by_statement(stmt(
        format!(
            "SELECT c.id, c.handle, c.display_name, c.description,
                    i.version AS avatar_version, i.width AS avatar_width, i.height AS avatar_height
             FROM channels c
             LEFT JOIN channel_images i ON i.channel_id = c.id AND i.image = 'avatar'
             WHERE lower(c.handle) = lower($1) AND {LISTED_CHANNELS}"
        ),
        vec![handle.into()],
    ))
    .one(db)
    .await?)
}

#[derive(Debug, FromQueryResult)]
struct IdRow {
    id: Uuid,
}

/// The first ready video of playlist `id` that anyone may see: its cover.
pub async fn playlist_cover(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<Uuid>, DomainError> {
    let mut values = Vec::new();
    let open = visible_sql(&Viewer::default(), &mut values);
    values.push(id.into());
    let first = IdRow::find_by_statement(stmt(
        format!(
            "SELECT v.id FROM playlist_items i JOIN videos v ON v.id = i.video_id
             WHERE i.playlist_id = ${} AND {open} AND v.status = 'ready'
             ORDER BY i.position LIMIT 1",
            values.len()
        ),
        values,
    ))
    .one(db)
    .await?;
    Ok(first.map(|r| r.id))
}

/// What a sitemap lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listed {
    Videos,
    Channels,
}

impl Listed {
    fn table(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Listed::Videos => ("videos v", "v.id", LISTED),
            Listed::Channels => ("channels c", "c.id", LISTED_CHANNELS),
        }
    }
}

/// Files in a sitemap index at most (the protocol's limit).
const MAX_FILES: usize = 50_000;

/// Where every `per`-entry file of `what` starts: nil, then each full file's last id while
/// rows come after it. File `n` holds the ids after `starts[n]` up to and including
/// `starts[n + 1]`.
pub async fn boundaries(
    db: &impl ConnectionTrait,
    what: Listed,
    per: i64,
) -> Result<Vec<Uuid>, DomainError> {
    let (table, id, filter) = what.table();
    let mut starts = vec![Uuid::nil()];
    while starts.len() < MAX_FILES {
        let after = starts.last().copied().unwrap_or_default();
        // The last id of this file, and whether any come after it.
        let next = IdRow::find_by_statement(stmt(
            format!(
                "SELECT {id} AS id FROM {table} WHERE {filter} AND {id} > $1
                 ORDER BY {id} OFFSET $2 LIMIT 2"
            ),
            vec![after.into(), (per - 1).into()],
        ))
        .all(db)
        .await?;
        match next.as_slice() {
            [last, _] => starts.push(last.id),
            _ => break,
        }
    }
    Ok(starts)
}

/// A listed video as a video sitemap entry shows it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SitemapVideo {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub duration_ms: Option<i64>,
    pub view_count: i64,
    pub ready: bool,
    pub published_at: Option<DateTime<FixedOffset>>,
    pub updated_at: DateTime<FixedOffset>,
    pub channel_handle: String,
    pub channel_name: String,
    /// The poster's stem (`crate::posters`).
    pub poster: String,
}

/// A listed channel as a sitemap entry names it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct SitemapChannel {
    pub id: Uuid,
    pub handle: String,
}

/// The id bounds of one page of a file: after `after`, up to and including `to`.
fn page_bounds(id: &str, after: Uuid, to: Option<Uuid>, limit: i64) -> (String, Vec<Value>) {
    let mut values: Vec<Value> = vec![after.into(), limit.into()];
    let upto = match to {
        Some(to) => {
            values.push(to.into());
            format!(" AND {id} <= $3")
        }
        None => String::new(),
    };
    (upto, values)
}

/// Up to `limit` listed videos after `after` (and up to `to`), in id order.
pub async fn sitemap_videos(
    db: &impl ConnectionTrait,
    after: Uuid,
    to: Option<Uuid>,
    limit: i64,
) -> Result<Vec<SitemapVideo>, DomainError> {
    let (upto, values) = page_bounds("v.id", after, to, limit);
    Ok(SitemapVideo::find_by_statement(stmt(
        format!(
            "SELECT v.id, v.title, v.description, v.tags, v.duration_ms, v.view_count,
                    v.status = 'ready' AS ready, v.published_at, v.updated_at,
                    c.handle AS channel_handle, c.display_name AS channel_name, v.poster
             FROM videos v JOIN channels c ON c.id = v.channel_id
             WHERE {LISTED} AND v.id > $1{upto} ORDER BY v.id LIMIT $2"
        ),
        values,
    ))
    .all(db)
    .await?)
}

/// Up to `limit` listed channels after `after` (and up to `to`), in id order.
pub async fn sitemap_channels(
    db: &impl ConnectionTrait,
    after: Uuid,
    to: Option<Uuid>,
    limit: i64,
) -> Result<Vec<SitemapChannel>, DomainError> {
    let (upto, values) = page_bounds("c.id", after, to, limit);
    Ok(SitemapChannel::find_by_statement(stmt(
        format!(
            "SELECT c.id, c.handle FROM channels c
             WHERE {LISTED_CHANNELS} AND c.id > $1{upto} ORDER BY c.id LIMIT $2"
        ),
        values,
    ))
    .all(db)
    .await?)
}
