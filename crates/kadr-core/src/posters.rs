//! Which poster viewers see: the transcoder's pick (`poster`), one of the candidate frames it
//! kept (`frame_N`), or a picture the owner uploaded (`custom_N`, made into JPEGs by the
//! worker). `videos.poster` holds that stem; the files are `images/{video}/{stem}.jpg` and
//! `{stem}_small.jpg`. Every choice is a new file name, so media URLs stay cacheable as
//! immutable and a new poster reaches viewers at once.
//!
//! Picking a frame shows a moment of the video itself, which was reviewed with it: it does not
//! go back to review. An uploaded picture is something new viewers see: by an owner who is
//! not trusted, it sends an approved video back to review, like a new title.
//!
//! An uploaded picture is made asynchronously. Each request takes the next number of
//! `videos.poster_asked`; a picture lands only if no later request came, so the last request
//! wins whatever order the work finishes in.

use kadr_config::Config;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, Statement, TransactionTrait,
    Value,
};
use uuid::Uuid;

use crate::codes::Code;
use crate::entities::user;
use crate::error::DomainError;
use crate::jobs::{self, Cleanup};
use crate::keys;
use crate::review;
use crate::state::{ImageKind, JobState, Moderation};

/// The transcoder's own pick.
pub const AUTO: &str = "poster";
/// The hover preview's file name under `images/{video}/`.
pub const PREVIEW: &str = "preview.mp4";

fn stmt(sql: &str, values: Vec<Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// The file of poster `stem`, large or small.
pub fn file(stem: &str, small: bool) -> String {
    if small {
        format!("{stem}_small.jpg")
    } else {
        format!("{stem}.jpg")
    }
}

/// The stem of candidate frame `n`.
pub fn frame_stem(n: u32) -> String {
    format!("frame_{n}")
}

/// The stem of uploaded picture number `n`.
pub fn custom_stem(n: i32) -> String {
    format!("custom_{n}")
}

/// Whether `name` is a poster file a media URL may name: `poster`, `frame_N` or `custom_N`,
/// each `.jpg` or `_small.jpg`.
pub fn is_file(name: &str) -> bool {
    let Some(stem) = name.strip_suffix(".jpg") else {
        return false;
    };
    let stem = stem.strip_suffix("_small").unwrap_or(stem);
    let number = |s: &str, most: usize| {
        !s.is_empty() && s.len() <= most && s.bytes().all(|b| b.is_ascii_digit())
    };
    stem == AUTO
        || stem.strip_prefix("frame_").is_some_and(|n| number(n, 2))
        || stem.strip_prefix("custom_").is_some_and(|n| number(n, 9))
}

/// What the poster is, as its owner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Auto,
    Frame(u32),
    Custom,
}

impl Source {
    pub fn of(stem: &str) -> Source {
        if let Some(n) = stem
            .strip_prefix("frame_")
            .and_then(|n| n.parse::<u32>().ok())
        {
            Source::Frame(n)
        } else if stem.starts_with("custom_") {
            Source::Custom
        } else {
            Source::Auto
        }
    }
}

/// A candidate frame.
#[derive(Debug, Clone, FromQueryResult)]
pub struct FrameRow {
    pub storage_key: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

impl FrameRow {
    /// Its number, from its file name.
    pub fn index(&self) -> Option<u32> {
        self.storage_key
            .rsplit('/')
            .next()?
            .strip_prefix("frame_")?
            .strip_suffix(".jpg")?
            .parse()
            .ok()
    }
}

/// The poster's state for its owner.
#[derive(Debug, Clone)]
pub struct State {
    /// The stem in use.
    pub stem: String,
    /// An uploaded picture is being made.
    pub pending: bool,
    /// Why the last uploaded picture was refused, when nothing was asked after it.
    pub refused: Option<String>,
    /// The candidate frames, by number.
    pub frames: Vec<(u32, FrameRow)>,
}

#[derive(Debug, FromQueryResult)]
struct PosterRow {
    poster: String,
    poster_asked: i32,
    moderation: Moderation,
}

#[derive(Debug, FromQueryResult)]
struct LatestJob {
    state: JobState,
    last_error: Option<String>,
    asked: Option<i32>,
}

#[derive(Debug, FromQueryResult)]
struct Landed {
    asked: i32,
}

/// What the worker's failure says to the owner: the reason when the picture was at fault
/// (`not a picture: …`), never our own errors.
fn refusal(last_error: &str) -> String {
    match last_error.strip_prefix(REFUSED) {
        Some(why) => why.trim().to_owned(),
        None => "The picture could not be made; send it again".to_owned(),
    }
}

/// How the worker starts the failure of a picture at fault (see [`refusal`]).
pub const REFUSED: &str = "not a picture:";

/// The stem in use, and whether an upload is being made after it.
pub async fn state(db: &impl ConnectionTrait, video: Uuid) -> Result<State, DomainError> {
    let row = PosterRow::find_by_statement(stmt(
        "SELECT poster, poster_asked, moderation FROM videos WHERE id = $1",
        vec![video.into()],
    ))
    .one(db)
    .await?
    .ok_or(DomainError::NotFound)?;
    // The latest upload's job says whether a picture is being made, or why the last one
    // was refused (only when nothing was asked after it).
    // The queue is written out so the partial index `jobs_poster_video_idx` applies.
    let latest = LatestJob::find_by_statement(stmt(
        &format!(
            "SELECT state, last_error, (payload->>'asked')::int AS asked FROM jobs
             WHERE queue = '{}' AND payload->>'video_id' = $1
             ORDER BY created_at DESC LIMIT 1",
            jobs::POSTER
        ),
        vec![video.to_string().into()],
    ))
    .one(db)
    .await?;
    // Only the latest request's job counts: one overtaken by a frame or another picture is
    // neither pending nor refused as far as the owner is concerned.
    let latest = latest.filter(|j| j.asked == Some(row.poster_asked));
    let pending = latest
        .as_ref()
        .is_some_and(|j| j.state == JobState::Queued || j.state == JobState::Running);
    let refused = latest
        .filter(|j| j.state == JobState::Failed)
        .map(|j| refusal(j.last_error.as_deref().unwrap_or_default()));
    let frames = FrameRow::find_by_statement(stmt(
        "SELECT storage_key, width, height FROM images WHERE video_id = $1 AND kind = $2",
        vec![video.into(), ImageKind::Frame.as_str().into()],
    ))
    .all(db)
    .await?;
    let mut frames: Vec<(u32, FrameRow)> = frames
        .into_iter()
        .filter_map(|f| f.index().map(|i| (i, f)))
        .collect();
    frames.sort_by_key(|(i, _)| *i);
    Ok(State {
        stem: row.poster,
        pending,
        refused,
        frames,
    })
}

/// The keys of uploaded picture `stem`'s files.
fn custom_keys(video: Uuid, stem: &str) -> Vec<String> {
    vec![
        keys::image(video, &file(stem, false)),
        keys::image(video, &file(stem, true)),
    ]
}

/// In `tx`: the video's poster becomes `stem`; an uploaded picture it replaces goes (its rows
/// now, its files by a cleanup job).
async fn switch(
    tx: &impl ConnectionTrait,
    config: &Config,
    video: Uuid,
    old: &str,
    stem: &str,
) -> Result<(), DomainError> {
    tx.execute_raw(stmt(
        "UPDATE videos SET poster = $2, updated_at = now() WHERE id = $1",
        vec![video.into(), stem.into()],
    ))
    .await?;
    if old != stem && matches!(Source::of(old), Source::Custom) {
        let gone = custom_keys(video, old);
        tx.execute_raw(stmt(
            "DELETE FROM images WHERE video_id = $1 AND storage_key = ANY($2)",
            vec![video.into(), gone.clone().into()],
        ))
        .await?;
        jobs::enqueue_cleanup(
            tx,
            config,
            &Cleanup {
                prefixes: gone,
                multipart: Vec::new(),
            },
        )
        .await?;
    }
    Ok(())
}

async fn lock(tx: &impl ConnectionTrait, video: Uuid) -> Result<PosterRow, DomainError> {
    PosterRow::find_by_statement(stmt(
        "SELECT poster, poster_asked, moderation FROM videos WHERE id = $1 FOR UPDATE",
        vec![video.into()],
    ))
    .one(tx)
    .await?
    .ok_or(DomainError::NotFound)
}

/// Shows candidate frame `n` (or, with `None`, the transcoder's pick) as the poster. Any
/// upload still being made is overtaken.
pub async fn choose(
    db: &DatabaseConnection,
    config: &Config,
    video: Uuid,
    frame: Option<u32>,
) -> Result<(), DomainError> {
    let tx = db.begin().await?;
    let row = lock(&tx, video).await?;
    let stem = match frame {
        None => AUTO.to_owned(),
        Some(n) => {
            let stem = frame_stem(n);
            let exists = FrameRow::find_by_statement(stmt(
                "SELECT storage_key, width, height FROM images
                 WHERE video_id = $1 AND kind = $2 AND storage_key = $3",
                vec![
                    video.into(),
                    ImageKind::Frame.as_str().into(),
                    keys::image(video, &file(&stem, false)).into(),
                ],
            ))
            .one(&tx)
            .await?;
            if exists.is_none() {
                return Err(DomainError::invalid(
                    "frame",
                    format!("The video has no frame {n}; pick one of its frames"),
                ));
            }
            stem
        }
    };
    tx.execute_raw(stmt(
        "UPDATE videos SET poster_asked = poster_asked + 1 WHERE id = $1",
        vec![video.into()],
    ))
    .await?;
    switch(&tx, config, video, &row.poster, &stem).await?;
    tx.commit().await?;
    Ok(())
}

/// Takes the number of a new uploaded picture and enqueues the `poster` job that makes it
/// from `source_key` (already stored), in one transaction.
pub async fn ask_custom(
    db: &DatabaseConnection,
    config: &Config,
    editor: &user::Model,
    video: Uuid,
    source_key: String,
) -> Result<i32, DomainError> {
    let tx = db.begin().await?;
    lock(&tx, video).await?;
    let now = state(&tx, video).await?;
    if now.pending {
        return Err(DomainError::refused(
            Code::PosterPending,
            "The previous picture is still being made",
        ));
    }
    let asked = enqueue_custom(&tx, config, editor.id, video, source_key).await?;
    tx.commit().await?;
    Ok(asked)
}

/// Takes the number of a new picture for `video`'s poster and enqueues the `poster` job that
/// makes it from `source_key`, in the caller's transaction (the video's row locked by it).
pub async fn enqueue_custom(
    tx: &impl ConnectionTrait,
    config: &Config,
    editor: Uuid,
    video: Uuid,
    source_key: String,
) -> Result<i32, DomainError> {
    let asked = Landed::find_by_statement(stmt(
        "UPDATE videos SET poster_asked = poster_asked + 1 WHERE id = $1
         RETURNING poster_asked AS asked",
        vec![video.into()],
    ))
    .one(tx)
    .await?
    .ok_or(DomainError::NotFound)?
    .asked;
    jobs::enqueue(
        tx,
        config,
        jobs::POSTER,
        &jobs::PosterJob {
            video_id: video,
            asked,
            source_key,
            editor,
        },
        None,
    )
    .await?;
    Ok(asked)
}

/// A made picture, as the worker stored it.
#[derive(Debug, Clone)]
pub struct Made {
    pub width: i32,
    pub height: i32,
    pub small_width: i32,
    pub small_height: i32,
}

/// What became of a made picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// It is the poster now.
    Shown { back_to_review: bool },
    /// A later request came first (its files are to be removed), or the video is gone.
    Overtaken,
}

/// Records uploaded picture number `asked` (its files stored under [`custom_stem`]) as the
/// poster, unless a later request came: then its files go with a cleanup job.
pub async fn land_custom(
    db: &DatabaseConnection,
    config: &Config,
    editor: &user::Model,
    video: Uuid,
    asked: i32,
    made: &Made,
) -> Result<Outcome, DomainError> {
    let stem = custom_stem(asked);
    let tx = db.begin().await?;
    let row = match lock(&tx, video).await {
        Ok(r) => r,
        Err(DomainError::NotFound) => return Ok(Outcome::Overtaken),
        Err(e) => return Err(e),
    };
    if row.poster_asked != asked {
        jobs::enqueue_cleanup(
            &tx,
            config,
            &Cleanup {
                prefixes: custom_keys(video, &stem),
                multipart: Vec::new(),
            },
        )
        .await?;
        tx.commit().await?;
        return Ok(Outcome::Overtaken);
    }
    for (kind, small, w, h) in [
        (ImageKind::Custom, false, made.width, made.height),
        (
            ImageKind::CustomSmall,
            true,
            made.small_width,
            made.small_height,
        ),
    ] {
        tx.execute_raw(stmt(
            "INSERT INTO images (id, video_id, kind, storage_key, content_type, width, height)
             VALUES ($1, $2, $3, $4, 'image/jpeg', $5, $6)
             ON CONFLICT (storage_key) DO NOTHING",
            vec![
                Uuid::now_v7().into(),
                video.into(),
                kind.as_str().into(),
                keys::image(video, &file(&stem, small)).into(),
                w.into(),
                h.into(),
            ],
        ))
        .await?;
    }
    switch(&tx, config, video, &row.poster, &stem).await?;
    let back_to_review =
        review::edit_returns_to_review(&config.moderation, editor, row.moderation, true);
    if back_to_review {
        tx.execute_raw(stmt(
            "UPDATE videos SET moderation = $2, moderation_reason = $3, updated_at = now()
             WHERE id = $1",
            vec![
                video.into(),
                Moderation::Pending.as_str().into(),
                review::BACK_TO_REVIEW.into(),
            ],
        ))
        .await?;
    }
    tx.commit().await?;
    Ok(Outcome::Shown { back_to_review })
}

/// The longest side of an uploaded poster, and the small one's width (as the transcoder's).
const LARGE_SIDE: u32 = 1280;
const SMALL_WIDTH: u32 = 320;

fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32 * 2).max(2)
}

/// The sizes an uploaded poster is made in, large and small: the video's shape (a picture of
/// another shape is cropped around its centre), the longest side 1280 and the small one 320
/// wide, like the transcoder's own posters. 16:9 when the video's size is not known.
pub fn sizes(video: Option<(i32, i32)>) -> [(u32, u32); 2] {
    let (w, h) = match video {
        Some((w, h)) if w > 0 && h > 0 => (f64::from(w), f64::from(h)),
        _ => (16.0, 9.0),
    };
    // A shape past 1:4 either way is clamped: a poster is never a sliver.
    let ratio = (w / h).clamp(0.25, 4.0);
    let large = if ratio >= 1.0 {
        (LARGE_SIDE, even(f64::from(LARGE_SIDE) / ratio))
    } else {
        (even(f64::from(LARGE_SIDE) * ratio), LARGE_SIDE)
    };
    let small = (SMALL_WIDTH, even(f64::from(SMALL_WIDTH) / ratio));
    [large, small]
}

#[derive(Debug, FromQueryResult)]
struct Shape {
    width: Option<i32>,
    height: Option<i32>,
    poster_asked: i32,
}

/// What a `poster` job needs to know before it works: the video's picture size (when known)
/// and whether its request is still the latest. `None`: the video is gone.
pub struct Asked {
    pub shape: Option<(i32, i32)>,
    /// A later request came: the job has nothing left to make.
    pub overtaken: bool,
}

pub async fn asked(
    db: &impl ConnectionTrait,
    video: Uuid,
    asked: i32,
) -> Result<Option<Asked>, DomainError> {
    let row = Shape::find_by_statement(stmt(
        "SELECT width, height, poster_asked FROM videos WHERE id = $1",
        vec![video.into()],
    ))
    .one(db)
    .await?;
    Ok(row.map(|r| Asked {
        shape: r.width.zip(r.height),
        overtaken: r.poster_asked != asked,
    }))
}

/// The size of the poster in use (for link previews).
pub async fn size(
    db: &impl ConnectionTrait,
    video: Uuid,
    stem: &str,
) -> Result<Option<(i32, i32)>, DomainError> {
    let row = FrameRow::find_by_statement(stmt(
        "SELECT storage_key, width, height FROM images WHERE storage_key = $1",
        vec![keys::image(video, &file(stem, false)).into()],
    ))
    .one(db)
    .await?;
    Ok(row.and_then(|r| Some((r.width?, r.height?))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poster_files() {
        for ok in [
            "poster.jpg",
            "poster_small.jpg",
            "frame_0.jpg",
            "frame_3_small.jpg",
            "custom_12.jpg",
            "custom_123456789_small.jpg",
        ] {
            assert!(is_file(ok), "{ok}");
        }
        for bad in [
            "poster.png",
            "frame_.jpg",
            "frame_123.jpg",
            "frame_-1.jpg",
            "custom_1234567890.jpg",
            "custom_1_small_small.jpg",
            "../poster.jpg",
            "frame_1.jpg.tmp",
            "preview.mp4",
            "storyboard_0.jpg",
        ] {
            assert!(!is_file(bad), "{bad}");
        }
        assert_eq!(file("frame_2", true), "frame_2_small.jpg");
        assert_eq!(Source::of("frame_2"), Source::Frame(2));
        assert_eq!(Source::of("custom_7"), Source::Custom);
        assert_eq!(Source::of("poster"), Source::Auto);
    }

    #[test]
    fn poster_sizes() {
        assert_eq!(sizes(Some((1920, 1080))), [(1280, 720), (320, 180)]);
        assert_eq!(sizes(Some((1080, 1920))), [(720, 1280), (320, 568)]);
        assert_eq!(sizes(None), [(1280, 720), (320, 180)]);
        assert_eq!(sizes(Some((0, 0))), [(1280, 720), (320, 180)]);
        // A sliver of a video still gets a poster of sane shape.
        assert_eq!(sizes(Some((10_000, 10))), [(1280, 320), (320, 80)]);
        assert_eq!(sizes(Some((10, 10_000))), [(320, 1280), (320, 1280)]);
    }
}
