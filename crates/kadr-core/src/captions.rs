//! A video's captions: one file per language, kept as WebVTT whole and in segments for the
//! HLS subtitle rendition, their words in the search.
//!
//! Captions are something viewers see, so the moderation rule for edits applies: a file sent
//! by an owner who is not trusted sends an approved video back to review, like a new title.
//! Every file sent gets a new revision (a fresh id in its storage keys): its objects are
//! written before the row points at them, the previous revision's objects are removed by a
//! cleanup job enqueued in the same transaction, and two uploads at once never mix.

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, Statement, TransactionTrait,
};
use uuid::Uuid;

use crate::codes::Code;
use crate::entities::user;
use crate::error::DomainError;
use crate::jobs::{self, Cleanup};
use crate::keys;
use crate::review;
use crate::state::Moderation;
use crate::subtitles::{self, Captions};
use kadr_config::Config;

/// Languages one video may have captions in.
pub const MAX_LANGUAGES: i64 = 20;
/// Length of a subtitle segment, seconds.
pub const SEGMENT_SECS: u32 = 30;
/// Longest label, characters.
pub const MAX_LABEL_CHARS: usize = 40;
/// Caption text of all languages kept in the search vector, characters.
const MAX_SEARCH_CHARS: i64 = 200_000;

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

#[derive(Debug, Clone, FromQueryResult)]
pub struct CaptionRow {
    pub video_id: Uuid,
    pub lang: String,
    pub lang_key: String,
    pub label: String,
    pub revision: Uuid,
    pub segment_secs: i32,
    pub segments: i32,
    pub covers_ms: i64,
    pub cues: i32,
    pub source_format: String,
    pub updated_at: chrono::DateTime<chrono::FixedOffset>,
}

const COLUMNS: &str = "video_id, lang, lang_key, label, revision, segment_secs, segments, \
    covers_ms, cues, source_format, updated_at";

impl CaptionRow {
    /// The media path (below `/media/{video}/`) of segment `n`, or of the whole file.
    pub fn segment_path(&self, n: usize) -> String {
        format!(
            "hls/subs/{}/{}/{}",
            self.lang_key,
            self.revision,
            keys::caption_segment_name(n)
        )
    }

    pub fn full_path(&self) -> String {
        format!("hls/subs/{}/{}/full.vtt", self.lang_key, self.revision)
    }

    /// The rendition's media playlist, its URIs relative to `hls/subs/{lang}/`.
    pub fn playlist(&self) -> String {
        let len = i64::from(self.segment_secs.max(1)) * 1000;
        let mut out = format!(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{}\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n",
            self.segment_secs
        );
        for n in 0..self.segments.max(0) {
            let from = i64::from(n) * len;
            let secs = ((self.covers_ms - from).clamp(1, len)) as f64 / 1000.0;
            out.push_str(&format!(
                "#EXTINF:{secs:.3},\n{}/{}\n",
                self.revision,
                keys::caption_segment_name(n as usize)
            ));
        }
        out.push_str("#EXT-X-ENDLIST\n");
        out
    }
}

/// A video's captions, by language.
pub async fn list(db: &impl ConnectionTrait, video: Uuid) -> Result<Vec<CaptionRow>, DomainError> {
    Ok(CaptionRow::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM captions WHERE video_id = $1 ORDER BY lang_key"),
        vec![video.into()],
    ))
    .all(db)
    .await?)
}

/// One language's captions (`lang_key` lower-cased).
pub async fn one(
    db: &impl ConnectionTrait,
    video: Uuid,
    lang_key: &str,
) -> Result<Option<CaptionRow>, DomainError> {
    Ok(CaptionRow::find_by_statement(stmt(
        &format!("SELECT {COLUMNS} FROM captions WHERE video_id = $1 AND lang_key = $2"),
        vec![video.into(), lang_key.into()],
    ))
    .one(db)
    .await?)
}

/// A caption file read and cut, ready to be stored and recorded.
#[derive(Debug)]
pub struct Prepared {
    pub video: Uuid,
    pub lang: String,
    pub lang_key: String,
    pub label: String,
    pub revision: Uuid,
    pub format: subtitles::Format,
    pub cues: usize,
    pub covers_ms: u64,
    /// Storage key and body of every object: the whole file, then the segments.
    pub files: Vec<(String, String)>,
    pub plain: String,
}

impl Prepared {
    /// Where its objects are stored.
    pub fn prefix(&self) -> String {
        keys::caption_revision_prefix(self.video, &self.lang_key, self.revision)
    }
}

#[derive(Debug, FromQueryResult)]
struct Count {
    n: i64,
}

async fn others(
    db: &impl ConnectionTrait,
    video: Uuid,
    lang_key: &str,
) -> Result<i64, DomainError> {
    let c = Count::find_by_statement(stmt(
        "SELECT count(*) AS n FROM captions WHERE video_id = $1 AND lang_key <> $2",
        vec![video.into(), lang_key.into()],
    ))
    .one(db)
    .await?;
    Ok(c.map_or(0, |c| c.n))
}

fn too_many() -> DomainError {
    DomainError::refused(
        Code::TooManyCaptions,
        format!("A video has captions in at most {MAX_LANGUAGES} languages"),
    )
}

/// Reads `bytes` (WebVTT or SRT) as the `lang` captions of `video` lasting `duration_ms`.
pub async fn prepare(
    db: &impl ConnectionTrait,
    video: Uuid,
    duration_ms: Option<i64>,
    lang: &str,
    label: Option<&str>,
    bytes: &[u8],
) -> Result<Prepared, DomainError> {
    let lang = lang.trim();
    let lang_key = subtitles::language_key(lang).ok_or_else(|| {
        DomainError::invalid(
            "lang",
            "The language is a BCP 47 tag such as ru, en, ar or pt-BR",
        )
    })?;
    let label = match label.map(str::trim).filter(|l| !l.is_empty()) {
        Some(l) => {
            crate::fields::plain_text("label", l, false)?;
            if l.chars().count() > MAX_LABEL_CHARS {
                return Err(DomainError::invalid(
                    "label",
                    format!("A label has at most {MAX_LABEL_CHARS} characters"),
                ));
            }
            l.to_owned()
        }
        None => subtitles::language_name(&lang_key).map_or_else(|| lang.to_owned(), str::to_owned),
    };
    let captions: Captions = subtitles::parse(bytes).map_err(|e| {
        DomainError::refused(Code::InvalidCaptions, "The caption file cannot be used")
            .detail(e.to_string())
            .field("file")
    })?;
    if others(db, video, &lang_key).await? >= MAX_LANGUAGES {
        return Err(too_many());
    }
    let revision = Uuid::now_v7();
    let covers_ms = captions
        .end_ms()
        .max(duration_ms.unwrap_or(0).max(0) as u64);
    let mut files = vec![(
        keys::caption_file(video, &lang_key, revision, "full.vtt"),
        captions.to_vtt(),
    )];
    for (n, body) in captions
        .segments(SEGMENT_SECS, covers_ms)
        .into_iter()
        .enumerate()
    {
        files.push((
            keys::caption_file(video, &lang_key, revision, &keys::caption_segment_name(n)),
            body,
        ));
    }
    Ok(Prepared {
        video,
        lang: lang.to_owned(),
        lang_key,
        label,
        revision,
        format: captions.format,
        cues: captions.cues.len(),
        covers_ms,
        files,
        plain: captions.plain_text(),
    })
}

/// What recording a file did.
#[derive(Debug)]
pub struct Recorded {
    /// It replaced a file of the same language.
    pub replaced: bool,
    /// The video went back to review.
    pub back_to_review: bool,
}

#[derive(Debug, FromQueryResult)]
struct VideoState {
    moderation: Moderation,
}

#[derive(Debug, FromQueryResult)]
struct Revision {
    revision: Uuid,
}

/// Points the video's `lang` captions at `p`'s stored objects (sent by `editor`), in one
/// transaction with the removal of the previous file and the moderation rule.
pub async fn record(
    db: &DatabaseConnection,
    config: &Config,
    editor: &user::Model,
    p: &Prepared,
) -> Result<Recorded, DomainError> {
    let tx = db.begin().await?;
    let state = VideoState::find_by_statement(stmt(
        "SELECT moderation FROM videos WHERE id = $1 FOR UPDATE",
        vec![p.video.into()],
    ))
    .one(&tx)
    .await?
    .ok_or(DomainError::NotFound)?;
    if others(&tx, p.video, &p.lang_key).await? >= MAX_LANGUAGES {
        return Err(too_many());
    }
    let old = Revision::find_by_statement(stmt(
        "SELECT revision FROM captions WHERE video_id = $1 AND lang_key = $2",
        vec![p.video.into(), p.lang_key.clone().into()],
    ))
    .one(&tx)
    .await?;
    let segments = p.files.len().saturating_sub(1) as i32;
    tx.execute_raw(stmt(
        "INSERT INTO captions (video_id, lang, lang_key, label, revision, segment_secs, segments,
                               covers_ms, cues, source_format, plain, uploaded_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
         ON CONFLICT (video_id, lang_key) DO UPDATE SET
             lang = EXCLUDED.lang, label = EXCLUDED.label, revision = EXCLUDED.revision,
             segment_secs = EXCLUDED.segment_secs, segments = EXCLUDED.segments,
             covers_ms = EXCLUDED.covers_ms, cues = EXCLUDED.cues,
             source_format = EXCLUDED.source_format, plain = EXCLUDED.plain,
             uploaded_by = EXCLUDED.uploaded_by, updated_at = now()",
        vec![
            p.video.into(),
            p.lang.clone().into(),
            p.lang_key.clone().into(),
            p.label.clone().into(),
            p.revision.into(),
            (SEGMENT_SECS as i32).into(),
            segments.into(),
            (p.covers_ms as i64).into(),
            (p.cues as i32).into(),
            p.format.as_str().into(),
            p.plain.clone().into(),
            editor.id.into(),
        ],
    ))
    .await?;
    if let Some(old) = &old {
        jobs::enqueue_cleanup(
            &tx,
            config,
            &Cleanup {
                prefixes: vec![keys::caption_revision_prefix(
                    p.video,
                    &p.lang_key,
                    old.revision,
                )],
                multipart: Vec::new(),
            },
        )
        .await?;
    }
    let back_to_review =
        review::edit_returns_to_review(&config.moderation, editor, state.moderation, true);
    if back_to_review {
        tx.execute_raw(stmt(
            "UPDATE videos SET moderation = $2, moderation_reason = $3, updated_at = now()
             WHERE id = $1",
            vec![
                p.video.into(),
                Moderation::Pending.as_str().into(),
                review::BACK_TO_REVIEW.into(),
            ],
        ))
        .await?;
    }
    refresh_search(&tx, config, p.video).await?;
    tx.commit().await?;
    Ok(Recorded {
        replaced: old.is_some(),
        back_to_review,
    })
}

/// Removes the video's `lang_key` captions; their objects go with a cleanup job.
pub async fn remove(
    db: &DatabaseConnection,
    config: &Config,
    video: Uuid,
    lang_key: &str,
) -> Result<(), DomainError> {
    let tx = db.begin().await?;
    let gone = Revision::find_by_statement(stmt(
        "DELETE FROM captions WHERE video_id = $1 AND lang_key = $2 RETURNING revision",
        vec![video.into(), lang_key.into()],
    ))
    .one(&tx)
    .await?
    .ok_or(DomainError::NotFound)?;
    jobs::enqueue_cleanup(
        &tx,
        config,
        &Cleanup {
            prefixes: vec![keys::caption_revision_prefix(
                video,
                lang_key,
                gone.revision,
            )],
            multipart: Vec::new(),
        },
    )
    .await?;
    refresh_search(&tx, config, video).await?;
    tx.commit().await?;
    Ok(())
}

/// The video's caption words in its search vector (weight D, every language's stems), or
/// none when `api.search_captions` is off.
async fn refresh_search(
    db: &impl ConnectionTrait,
    config: &Config,
    video: Uuid,
) -> Result<(), DomainError> {
    let (sql, values) = if config.api.search_captions {
        (
            "UPDATE videos SET caption_search = (
             SELECT CASE WHEN t IS NULL THEN NULL ELSE setweight(
                 to_tsvector('simple'::regconfig, t) || to_tsvector('russian'::regconfig, t)
                 || to_tsvector('english'::regconfig, t) || to_tsvector('arabic'::regconfig, t),
                 'D') END
             FROM (SELECT left(string_agg(plain, ' ' ORDER BY lang_key), $2::int) AS t
                   FROM captions WHERE video_id = $1) s)
         WHERE id = $1",
            vec![video.into(), MAX_SEARCH_CHARS.into()],
        )
    } else {
        (
            "UPDATE videos SET caption_search = NULL WHERE id = $1",
            vec![video.into()],
        )
    };
    db.execute_raw(stmt(sql, values)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_playlist_names_every_segment_of_its_revision() {
        let row = CaptionRow {
            video_id: Uuid::nil(),
            lang: "ru".to_owned(),
            lang_key: "ru".to_owned(),
            label: "Русский".to_owned(),
            revision: Uuid::from_u128(7),
            segment_secs: 30,
            segments: 3,
            covers_ms: 61_500,
            cues: 4,
            source_format: "srt".to_owned(),
            updated_at: chrono::DateTime::default(),
        };
        let p = row.playlist();
        let r = Uuid::from_u128(7);
        assert_eq!(
            p,
            format!(
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:30\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n\
                 #EXTINF:30.000,\n{r}/seg_00000.vtt\n#EXTINF:30.000,\n{r}/seg_00001.vtt\n#EXTINF:1.500,\n{r}/seg_00002.vtt\n#EXT-X-ENDLIST\n"
            )
        );
        assert_eq!(
            row.segment_path(2),
            format!("hls/subs/ru/{r}/seg_00002.vtt")
        );
    }
}
