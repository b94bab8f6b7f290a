//! What the catalog answers with: one row shape read from Postgres, one JSON shape for a video
//! (with its media URLs, signed when the video is not public).

use chrono::{DateTime, FixedOffset};
use kadr_core::state::{Moderation as ModerationState, Privacy, Stage, VideoStatus};
use sea_orm::{DbBackend, FromQueryResult, Statement};
use serde::Serialize;
use uuid::Uuid;

use crate::{Api, base_url};
use kadr_core::visibility::{Facts, Viewer};

/// The columns every video query selects (`videos v JOIN channels c`).
pub const COLUMNS: &str =
    "v.id, v.channel_id, v.owner_id, v.title, v.description, v.tags, v.language,
    v.privacy, v.status, v.stage, v.progress, v.playable, v.failure_code, v.failure_message,
    v.moderation, v.moderation_reason, v.moderated_at, v.duration_ms, v.width, v.height, v.fps,
    v.is_short, v.source_size_bytes, v.view_count, v.created_at, v.updated_at, v.published_at, v.media_epoch,
    v.like_count, v.dislike_count, v.comment_count, v.comment_policy, v.withheld,
    v.embed_origins, v.downloadable, v.poster, v.preview,
    c.handle AS channel_handle, c.display_name AS channel_name, NULL::timestamptz AS sort_at,
    NULL::real AS rank, NULL::bigint AS seq, NULL::bigint AS resume_ms";

/// The position column outside lists in an order of their own (playlists).
pub const NO_SEQ: &str = "NULL::bigint AS seq";

/// The resume column outside history.
pub const NO_RESUME: &str = "NULL::bigint AS resume_ms";

/// The sort-time column outside lists sorted by something other than the video's own times
/// (the feed, liked videos).
pub const NO_SORT_AT: &str = "NULL::timestamptz AS sort_at";

/// The rank column outside search.
pub const NO_RANK: &str = "NULL::real AS rank";

pub const FROM: &str = "videos v JOIN channels c ON c.id = v.channel_id";

#[derive(Debug, Clone, FromQueryResult)]
pub struct VideoRow {
    pub id: Uuid,
    pub channel_id: Uuid,
    pub owner_id: Uuid,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub language: Option<String>,
    pub privacy: Privacy,
    pub status: VideoStatus,
    pub stage: Option<Stage>,
    pub progress: i16,
    pub playable: bool,
    pub failure_code: Option<String>,
    pub failure_message: Option<String>,
    pub moderation: ModerationState,
    pub moderation_reason: Option<String>,
    pub moderated_at: Option<DateTime<FixedOffset>>,
    pub duration_ms: Option<i64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub fps: Option<f64>,
    pub is_short: bool,
    pub source_size_bytes: Option<i64>,
    pub view_count: i64,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    pub published_at: Option<DateTime<FixedOffset>>,
    /// Bumped on every privacy or moderation change; signed into media tokens.
    pub media_epoch: i32,
    pub like_count: i64,
    pub dislike_count: i64,
    pub comment_count: i64,
    pub comment_policy: kadr_core::state::CommentPolicy,
    /// Its owner is suspended, banned or leaving.
    pub withheld: bool,
    /// Its own embedding origins (`None`: the site's).
    pub embed_origins: Option<Vec<String>>,
    pub downloadable: bool,
    /// The poster in use, by the stem of its files (`kadr_core::posters`).
    pub poster: String,
    /// A hover preview was made.
    pub preview: bool,
    pub channel_handle: String,
    pub channel_name: String,
    /// When it entered the list being read (liked, put in the feed), in such lists only.
    pub sort_at: Option<DateTime<FixedOffset>>,
    /// Search rank, in search results only.
    pub rank: Option<f32>,
    /// Its place in a list in an order of its own (a playlist), in such lists only.
    pub seq: Option<i64>,
    /// Where the viewer stopped, in history only.
    pub resume_ms: Option<i64>,
}

impl VideoRow {
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

pub fn stmt(sql: String, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChannelRef {
    pub id: Uuid,
    pub handle: String,
    pub display_name: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Failure {
    /// A stable code such as `truncated` or `not_a_video`.
    #[schema(schema_with = kadr_http::schema::failure_code)]
    pub code: String,
    pub message: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Moderation {
    #[schema(schema_with = kadr_http::schema::moderation)]
    pub state: String,
    /// Why it was rejected, shown to the owner.
    pub reason: Option<String>,
    pub decided_at: Option<DateTime<FixedOffset>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Images {
    pub poster: String,
    pub poster_small: String,
    /// WebVTT with `#xywh` cues into the storyboard sprite sheets.
    pub storyboard: String,
    /// A few silent seconds from across the video (MP4, at most 320 px wide) to play on
    /// hover; absent for videos transcoded without one.
    pub preview: Option<String>,
}

/// A video as the catalog shows it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VideoJson {
    pub id: Uuid,
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub language: Option<String>,
    #[schema(schema_with = kadr_http::schema::privacy)]
    pub privacy: String,
    #[schema(schema_with = kadr_http::schema::video_status)]
    pub status: String,
    pub stage: Option<String>,
    /// 0 to 100 while processing.
    pub progress: i16,
    /// A player can start: the master playlist and a first segment of every rung exist.
    pub playable: bool,
    /// Why processing failed (owner and admins only).
    pub failure: Option<Failure>,
    /// Moderation state (owner, moderators and admins only).
    pub moderation: Option<Moderation>,
    pub channel: ChannelRef,
    pub duration_secs: Option<f64>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub fps: Option<f64>,
    /// Size of the uploaded file, bytes.
    pub size_bytes: Option<i64>,
    /// At most 180 s and not landscape.
    pub is_short: bool,
    pub views: i64,
    /// Likes, counted every `community.fold_interval_ms`.
    pub likes: i64,
    /// Dislikes: for the owner and admins, or everyone with `community.public_dislikes`.
    pub dislikes: Option<i64>,
    /// Visible comments and replies.
    pub comments: i64,
    /// `open`, `hold` (every comment waits for the owner) or `off`.
    #[schema(schema_with = kadr_http::schema::comment_policy)]
    pub comment_policy: String,
    pub created_at: DateTime<FixedOffset>,
    pub published_at: Option<DateTime<FixedOffset>>,
    /// Poster and storyboard, once the video is ready.
    pub images: Option<Images>,
    /// Where I stopped watching (my history and "continue watching" only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resume_secs: Option<f64>,
    /// Viewers may download the MP4/M4A files when the transcode made them.
    pub downloadable: bool,
    /// Origins whose pages may embed it (owner and admins only): `["*"]` follows the site's
    /// `site.embed_origins`, `[]` is nowhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub embed_origins: Option<Vec<String>>,
    /// Chapters read from the description (`0:00 Intro` lines; see the README), on a single
    /// video's page only: absent from lists.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chapters: Option<Vec<ChapterJson>>,
}

/// A chapter: where it starts and its title.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ChapterJson {
    /// Seconds from the beginning.
    pub start: u32,
    pub title: String,
}

impl VideoJson {
    /// With its chapters, for the video's own page.
    pub fn with_chapters(mut self) -> VideoJson {
        let chapters = kadr_core::chapters::parse(&self.description, self.duration_secs);
        self.chapters = Some(
            chapters
                .into_iter()
                .map(|c| ChapterJson {
                    start: c.start,
                    title: c.title,
                })
                .collect(),
        );
        self
    }
}

impl VideoJson {
    pub fn of(row: VideoRow, viewer: &Viewer, api: &Api, base: &str) -> VideoJson {
        let manages = viewer.manages(row.owner_id);
        let images = (row.status == VideoStatus::Ready).then(|| {
            let q = api.media_query(&row, "images");
            let url = |f: &str| format!("{base}/media/{}/images/{f}{q}", row.id);
            Images {
                poster: url(&kadr_core::posters::file(&row.poster, false)),
                poster_small: url(&kadr_core::posters::file(&row.poster, true)),
                storyboard: url("storyboard.vtt"),
                preview: row.preview.then(|| url(kadr_core::posters::PREVIEW)),
            }
        });
        VideoJson {
            id: row.id,
            title: row.title,
            description: row.description,
            tags: row.tags,
            language: row.language,
            privacy: row.privacy.as_str().to_owned(),
            status: row.status.as_str().to_owned(),
            stage: row.stage.map(|s| s.as_str().to_owned()),
            progress: row.progress,
            playable: row.playable,
            failure: match (manages, row.failure_code) {
                (true, Some(code)) => Some(Failure {
                    code,
                    message: row.failure_message.unwrap_or_default(),
                }),
                _ => None,
            },
            moderation: (manages || viewer.moderator).then_some(Moderation {
                state: row.moderation.as_str().to_owned(),
                reason: row.moderation_reason,
                decided_at: row.moderated_at,
            }),
            channel: ChannelRef {
                id: row.channel_id,
                handle: row.channel_handle,
                display_name: row.channel_name,
            },
            duration_secs: row.duration_ms.map(|ms| ms as f64 / 1000.0),
            width: row.width,
            height: row.height,
            fps: row.fps,
            size_bytes: row.source_size_bytes,
            is_short: row.is_short,
            views: row.view_count,
            likes: row.like_count.max(0),
            dislikes: (manages || api.public_dislikes).then_some(row.dislike_count.max(0)),
            comments: row.comment_count.max(0),
            comment_policy: row.comment_policy.as_str().to_owned(),
            created_at: row.created_at,
            published_at: row.published_at,
            images,
            resume_secs: row.resume_ms.map(|ms| ms as f64 / 1000.0),
            downloadable: row.downloadable,
            embed_origins: manages
                .then(|| row.embed_origins.unwrap_or_else(|| vec!["*".to_owned()])),
            chapters: None,
        }
    }
}

/// A page of videos and the cursor of the next one.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct VideoPage {
    pub items: Vec<VideoJson>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Who owns each video on the page (not sent): a page shared between viewers is rebuilt
    /// for a viewer who owns one of them, since owners see more of their videos.
    #[serde(skip)]
    pub owners: Vec<Uuid>,
}

/// Turns rows into a page: `rows` holds up to `limit + 1` rows, the extra one only telling
/// that a next page exists.
pub fn page(
    rows: Vec<VideoRow>,
    limit: u64,
    viewer: &Viewer,
    api: &Api,
    req: &actix_web::HttpRequest,
    key: impl Fn(&VideoRow) -> crate::cursor::Cursor,
) -> VideoPage {
    let (rows, next_cursor) = crate::cursor::split(rows, limit, |r| Some(key(r)));
    let base = base_url(req);
    VideoPage {
        owners: rows.iter().map(|r| r.owner_id).collect(),
        items: rows
            .into_iter()
            .map(|r| VideoJson::of(r, viewer, api, &base))
            .collect(),
        next_cursor,
    }
}
