//! Media delivery under `/media/{video}/…`: HLS playlists, init and media segments, poster,
//! storyboard.
//!
//! - Who: a listed video's media is open to anyone; any other video's needs a token from the
//!   playback or detail endpoint (see [`crate::token`]). No token → 404; a bad, expired or
//!   other video's token → 403.
//! - What: only the names the worker writes are served (`hls/master.m3u8`,
//!   `hls/<rung>/{index.m3u8,init.mp4,seg_N.m4s}`, `images/{poster,poster_small}.jpg`,
//!   `images/storyboard.vtt`, `images/storyboard_N.jpg`; the audio-only rendition is the rung
//!   `audio`); anything else, traversal included, is 404 before storage is touched. Download
//!   files (`downloads/…`) have a route of their own, in the `downloads` module.
//! - How: playlists and the storyboard VTT are always answered by the api (with the token
//!   added to every URI inside when one was used). Segments, init segments and images come
//!   from disk with Range, ETag and 304 on the local backend, and as a 302 to a presigned URL
//!   (or to `storage.cdn_base_url` for listed videos) on S3.

use kadr_core::Code;
use kadr_core::state::{Moderation, Privacy, VideoStatus};
use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures::TryStreamExt;
use kadr_http::{ApiError, AppContext};
use kadr_storage::{Storage, StorageError};
use sea_orm::{ConnectionTrait, FromQueryResult};
use serde::Deserialize;
use uuid::Uuid;

use crate::Api;
use crate::model::stmt;
use crate::token::TokenError;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/media/channels/{id}/{file}", web::get().to(channel_image))
        .route("/media/channels/{id}/{file}", web::head().to(channel_image))
        .route("/media/{id}/{tail:.*}", web::get().to(serve))
        .route("/media/{id}/{tail:.*}", web::head().to(serve));
}

/// What a media path names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Master,
    MediaPlaylist,
    Init,
    Segment,
    Jpeg,
    Vtt,
    /// A caption rendition's playlist, written from its row.
    SubsPlaylist,
    /// A caption segment or whole file (stored; its path names its revision).
    Subtitle,
    /// A picture at a time and width (`thumbnail.jpg?t=&w=`), made on first request.
    Still,
    /// The silent hover preview (`images/preview.mp4`).
    Preview,
}

impl Kind {
    fn content_type(self) -> &'static str {
        match self {
            Kind::Master | Kind::MediaPlaylist => "application/vnd.apple.mpegurl",
            Kind::Init | Kind::Preview => "video/mp4",
            Kind::Segment => "video/iso.segment",
            Kind::Jpeg | Kind::Still => "image/jpeg",
            Kind::Vtt | Kind::Subtitle => "text/vtt; charset=utf-8",
            Kind::SubsPlaylist => "application/vnd.apple.mpegurl",
        }
    }

    /// Text the api answers itself (URIs inside may need the token).
    fn is_text(self) -> bool {
        matches!(
            self,
            Kind::Master | Kind::MediaPlaylist | Kind::Vtt | Kind::SubsPlaylist
        )
    }
}

fn numbered(name: &str, prefix: &str, suffix: &str) -> bool {
    name.strip_prefix(prefix)
        .and_then(|r| r.strip_suffix(suffix))
        .is_some_and(|n| !n.is_empty() && n.len() <= 9 && n.bytes().all(|b| b.is_ascii_digit()))
}

fn rung_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 16
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A caption language as it appears in paths: a lower-cased tag.
fn caption_lang(lang: &str) -> bool {
    kadr_core::subtitles::language_key(lang).is_some_and(|k| k == lang)
}

/// The kind of `tail` (the path below `/media/{video}/`), if it is one the worker writes.
pub fn classify(tail: &str) -> Option<Kind> {
    let parts: Vec<&str> = tail.split('/').collect();
    match parts.as_slice() {
        ["hls", "master.m3u8"] => Some(Kind::Master),
        ["hls", "subs", lang, "index.m3u8"] if caption_lang(lang) => Some(Kind::SubsPlaylist),
        ["hls", "subs", lang, rev, file]
            if caption_lang(lang)
                && rev.len() == 36
                && Uuid::parse_str(rev).is_ok()
                && (*file == "full.vtt" || numbered(file, "seg_", ".vtt")) =>
        {
            Some(Kind::Subtitle)
        }
        ["hls", rung, file] if rung_name(rung) => match *file {
            "index.m3u8" => Some(Kind::MediaPlaylist),
            "init.mp4" => Some(Kind::Init),
            f if numbered(f, "seg_", ".m4s") => Some(Kind::Segment),
            _ => None,
        },
        // The poster in use, the candidate frames and uploaded posters (each its own name).
        ["images", f] if kadr_core::posters::is_file(f) => Some(Kind::Jpeg),
        ["images", kadr_core::posters::PREVIEW] => Some(Kind::Preview),
        ["thumbnail.jpg"] => Some(Kind::Still),
        ["images", "storyboard.vtt"] => Some(Kind::Vtt),
        ["images", f] if numbered(f, "storyboard_", ".jpg") => Some(Kind::Jpeg),
        _ => None,
    }
}

/// Storage key of `tail` of `video`: `hls/{video}/…` or `images/{video}/…`.
pub fn storage_key(video: Uuid, tail: &str) -> Option<String> {
    kadr_core::keys::media(video, tail)
}

/// The master playlist with a subtitle rendition per caption language: an `EXT-X-MEDIA`
/// of `TYPE=SUBTITLES` in the group `subs` for each, and every variant naming the group.
pub fn with_subtitles(master: &str, captions: &[kadr_core::captions::CaptionRow]) -> String {
    if captions.is_empty() {
        return master.to_owned();
    }
    // Quoted-string attributes may hold neither quotes nor line ends.
    let quoted = |s: &str| s.replace(['"', '\r', '\n'], "'");
    let mut media = String::new();
    for c in captions {
        media.push_str(&format!(
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"{}\",LANGUAGE=\"{}\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"subs/{}/index.m3u8\"\n",
            quoted(&c.label),
            quoted(&c.lang),
            c.lang_key
        ));
    }
    let mut out = String::with_capacity(master.len() + media.len() + 256);
    let mut placed = false;
    for line in master.lines() {
        if line.starts_with("#EXT-X-STREAM-INF:") {
            if !placed {
                out.push_str(&media);
                placed = true;
            }
            out.push_str(line);
            if !line.contains("SUBTITLES=") {
                out.push_str(",SUBTITLES=\"subs\"");
            }
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Adds `?token=` to every URI in a playlist or storyboard VTT.
pub fn with_token(kind: Kind, text: &str, token: &str) -> String {
    let add = |uri: &str| {
        let sep = if uri.contains('?') { '&' } else { '?' };
        format!("{uri}{sep}token={token}")
    };
    let mut out = String::with_capacity(text.len() + 64);
    for line in text.lines() {
        let l = line.trim_end();
        let rewritten = match kind {
            Kind::Vtt => match l.split_once("#xywh=") {
                Some((uri, frag)) if !l.contains("-->") => format!("{}#xywh={frag}", add(uri)),
                _ => l.to_owned(),
            },
            _ => {
                if l.starts_with('#') && l.contains("URI=\"") {
                    // EXT-X-MAP and EXT-X-MEDIA name their file in a URI attribute.
                    match l.split_once("URI=\"") {
                        Some((before, rest)) => match rest.split_once('"') {
                            Some((uri, after)) => format!("{before}URI=\"{}\"{after}", add(uri)),
                            None => l.to_owned(),
                        },
                        None => l.to_owned(),
                    }
                } else if !l.is_empty() && !l.starts_with('#') {
                    add(l)
                } else {
                    l.to_owned()
                }
            }
        };
        out.push_str(&rewritten);
        out.push('\n');
    }
    out
}

/// What media access needs to know of a video.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct Access {
    pub privacy: Privacy,
    pub moderation: Moderation,
    pub playable: bool,
    pub status: VideoStatus,
    /// Signed into media tokens: a change of privacy or moderation makes older tokens invalid.
    pub media_epoch: i32,
    /// Its owner is suspended, banned or leaving (the epoch moved when it was withheld).
    pub withheld: bool,
}

impl Access {
    pub fn listed(&self) -> bool {
        kadr_core::visibility::listed(self.playable, self.privacy, self.moderation, self.withheld)
    }
}

/// A short-lived per-process cache of [`Access`], so segment requests do not each query the
/// database. Changes reach it within the TTL (the catalog's own edits at once).
pub struct AccessCache {
    /// `None` when `api.media_access_cache_ms` is 0: every request asks the database.
    entries: Option<moka::sync::Cache<Uuid, Option<Access>>>,
}

/// Most videos remembered; past it the least used go first, never the whole table.
const CACHE_MAX: u64 = 100_000;

/// Media files smaller than this are read synchronously (segments are a few MiB at most).
const SYNC_READ_BELOW: u64 = 16 * 1024 * 1024;

impl AccessCache {
    pub fn new(ttl: Duration) -> AccessCache {
        AccessCache {
            entries: (!ttl.is_zero()).then(|| {
                moka::sync::Cache::builder()
                    .max_capacity(CACHE_MAX)
                    .time_to_live(ttl)
                    .build()
            }),
        }
    }

    pub fn forget(&self, video: Uuid) {
        if let Some(e) = &self.entries {
            e.invalidate(&video);
        }
    }

    /// Everything remembered (a decision on many videos at once).
    pub fn forget_all(&self) {
        if let Some(e) = &self.entries {
            e.invalidate_all();
        }
    }

    pub async fn get(&self, ctx: &AppContext, video: Uuid) -> Result<Option<Access>, ApiError> {
        if let Some(found) = self.entries.as_ref().and_then(|e| e.get(&video)) {
            return Ok(found);
        }
        let found = Access::find_by_statement(stmt(
            "SELECT privacy, moderation, playable, status, media_epoch, withheld FROM videos WHERE id = $1"
                .to_owned(),
            vec![video.into()],
        ))
        .one(&ctx.db)
        .await?;
        if let Some(e) = &self.entries {
            e.insert(video, found.clone());
        }
        Ok(found)
    }
}

#[derive(Debug, Deserialize)]
pub struct MediaQuery {
    pub token: Option<String>,
    /// `thumbnail.jpg`: the time, seconds.
    pub t: Option<String>,
    /// `thumbnail.jpg`: the width (160, 320, 640 or 1280).
    pub w: Option<String>,
}

/// Requests waiting for a still to be made, per process: past it, 503 `busy`.
static WAITING_FOR_STILLS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(16);
/// How long a request waits for the worker to make a still.
const STILL_WAIT: Duration = Duration::from_secs(15);

/// A still of a ready video: from storage when made before, else asked of the worker and
/// waited for.
async fn still(
    ctx: &AppContext,
    req: &HttpRequest,
    id: Uuid,
    q: &MediaQuery,
    cc: &'static str,
    public: bool,
) -> Result<HttpResponse, ApiError> {
    let (Some(t), Some(w)) = (q.t.as_deref(), q.w.as_deref()) else {
        return Err(ApiError::bad_request(
            Code::InvalidQuery,
            "thumbnail.jpg takes t (seconds) and w (160, 320, 640 or 1280)",
        ));
    };
    let (secs, width) = kadr_core::stills::asked(&ctx.db, id, t, w).await?;
    let key = kadr_core::keys::still(id, secs, width);
    if ctx.storage.head(&key).await.is_ok() {
        return deliver(ctx, req, &key, Kind::Still, cc, public).await;
    }
    let Ok(_slot) = WAITING_FOR_STILLS.try_acquire() else {
        return Err(
            ApiError::new(Code::Busy, "Too many pictures are being made; try again").retry_after(1),
        );
    };
    kadr_core::stills::request(&ctx.db, &ctx.config, id, secs, width).await?;
    let started = std::time::Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(150)).await;
        match ctx.storage.head(&key).await {
            Ok(_) => return deliver(ctx, req, &key, Kind::Still, cc, public).await,
            Err(StorageError::NotFound { .. }) => {}
            Err(e) => return Err(storage_err(e)),
        }
        if started.elapsed() > STILL_WAIT {
            return Err(ApiError::new(
                Code::Unavailable,
                "The picture is not made yet; try again shortly",
            )
            .retry_after(2));
        }
    }
}

pub(crate) fn token_refused(e: TokenError) -> ApiError {
    match e {
        TokenError::Expired => ApiError::new(Code::TokenExpired, "The media link has expired")
            .detail("ask the playback endpoint for a new one"),
        TokenError::Malformed | TokenError::Invalid | TokenError::OutOfScope => {
            ApiError::new(Code::InvalidToken, "The media link is not valid")
        }
    }
}

pub(crate) fn storage_err(e: StorageError) -> ApiError {
    match e {
        StorageError::NotFound { .. } => ApiError::not_found(),
        other => ApiError::unavailable(format!("storage: {other}")),
    }
}

fn cache_control(kind: Kind, signed: bool, ready: bool) -> &'static str {
    if kind == Kind::Still {
        // Made again from the same media it is the same picture; a day, as media may be
        // remade.
        return if signed {
            "private, max-age=86400"
        } else {
            "public, max-age=86400"
        };
    }
    if kind == Kind::SubsPlaylist {
        // Points at the current revision of a file its owner may replace at any time.
        return if signed {
            "private, max-age=30"
        } else {
            "public, max-age=30"
        };
    }
    match (kind.is_text() && kind != Kind::Vtt, signed, ready) {
        // Segments, init segments and images never change under their names.
        (false, false, _) => "public, max-age=31536000, immutable",
        (false, true, _) => "private, max-age=31536000, immutable",
        // Playlists: short while they can still grow.
        (true, false, false) => "public, max-age=1",
        (true, false, true) => "public, max-age=300",
        (true, true, false) => "private, max-age=1",
        (true, true, true) => "private, max-age=300",
    }
}

async fn serve(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<MediaQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, tail) = path.into_inner();
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found())?;
    let kind = classify(&tail).ok_or_else(ApiError::not_found)?;
    // A still's key depends on its query (see `still`).
    let key = match kind {
        Kind::Still => String::new(),
        _ => storage_key(id, &tail).ok_or_else(ApiError::not_found)?,
    };
    let access = api.access.get(&ctx, id).await?;
    // A token is checked against the video's current epoch: one issued before a privacy or
    // moderation change no longer opens anything. A bad token is refused whether or not the
    // video exists, so a refusal tells nothing of it.
    if let Some(t) = &q.token {
        let epoch = access.as_ref().map_or(0, |a| a.media_epoch);
        // A still is a picture: the `images` scope opens it.
        let scoped = if kind == Kind::Still {
            "images/thumbnail.jpg"
        } else {
            tail.as_str()
        };
        api.signer
            .verify(t, id, epoch, scoped)
            .map_err(token_refused)?;
    }
    let access = access.ok_or_else(ApiError::not_found)?;
    let signed = q.token.is_some();
    if !signed && !access.listed() {
        return Err(ApiError::not_found());
    }
    let ready = access.status == VideoStatus::Ready;
    let cc = cache_control(kind, signed, ready);
    if kind.is_text() {
        return text(&ctx, &req, id, kind, &key, &tail, q.token.as_deref(), cc).await;
    }
    if kind == Kind::Still {
        if !ready {
            return Err(ApiError::not_found());
        }
        return still(&ctx, &req, id, &q, cc, access.listed()).await;
    }
    deliver(&ctx, &req, &key, kind, cc, access.listed()).await
}

/// A channel's picture: `/media/channels/{channel}/{avatar,avatar_small,banner,banner_small}.jpg`
/// (`?v=` in the URLs the API hands out changes with every new picture).
async fn channel_image(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, file) = path.into_inner();
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found())?;
    let image = file
        .strip_suffix(".jpg")
        .and_then(kadr_core::state::ChannelImage::parse)
        .ok_or_else(ApiError::not_found)?;
    let row = ctx
        .db
        .query_one_raw(stmt(
            "SELECT i.storage_key FROM channel_images i JOIN channels c ON c.id = i.channel_id
             WHERE i.channel_id = $1 AND i.image = $2 AND c.deleting_at IS NULL AND NOT c.withheld"
                .to_owned(),
            vec![id.into(), image.as_str().into()],
        ))
        .await?
        .ok_or_else(ApiError::not_found)?;
    let key: String = row.try_get("", "storage_key")?;
    let cc = if req.query_string().starts_with("v=") {
        "public, max-age=31536000, immutable"
    } else {
        "public, max-age=300"
    };
    deliver(&ctx, &req, &key, Kind::Jpeg, cc, true).await
}

/// Sends a stored file: from disk with ETag and ranges (local storage), or a redirect to a
/// presigned URL, or to the CDN for media anyone may fetch (`public`).
async fn deliver(
    ctx: &AppContext,
    req: &HttpRequest,
    key: &str,
    kind: Kind,
    cc: &'static str,
    public: bool,
) -> Result<HttpResponse, ApiError> {
    match &*ctx.storage {
        Storage::Local(local) => {
            let file = local.file_path(key).map_err(storage_err)?;
            let named = actix_files::NamedFile::open_async(&file)
                .await
                .map_err(|_| ApiError::not_found())?;
            let mime: mime::Mime = kind
                .content_type()
                .parse()
                .unwrap_or(mime::APPLICATION_OCTET_STREAM);
            let mut resp = named
                .set_content_type(mime)
                .use_etag(true)
                .use_last_modified(true)
                .disable_content_disposition()
                // Segments come from the page cache: read them on the worker thread rather
                // than hopping to the blocking pool for every 64 KiB chunk.
                .read_mode_threshold(SYNC_READ_BELOW)
                .into_response(req);
            resp.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
            Ok(resp)
        }
        Storage::S3(_) => {
            let cdn = ctx
                .config
                .storage
                .cdn_base_url
                .as_deref()
                .filter(|_| public);
            let to = match cdn {
                Some(base) => format!("{}/{key}", base.trim_end_matches('/')),
                None => ctx
                    .storage
                    .presign_get(key, Duration::from_secs(ctx.config.api.presign_ttl_secs))
                    .await
                    .map_err(storage_err)?
                    .ok_or_else(|| ApiError::internal(&"no presigned URL on S3"))?,
            };
            Ok(HttpResponse::Found()
                .insert_header((header::LOCATION, to))
                .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
                .finish())
        }
    }
}

/// Playlists and the storyboard VTT: read from storage, the token added inside when one was
/// used, with an ETag of the bytes served.
#[allow(clippy::too_many_arguments)]
async fn text(
    ctx: &AppContext,
    req: &HttpRequest,
    video: Uuid,
    kind: Kind,
    key: &str,
    tail: &str,
    token: Option<&str>,
    cc: &'static str,
) -> Result<HttpResponse, ApiError> {
    let raw = if kind == Kind::SubsPlaylist {
        let lang = tail.split('/').nth(2).unwrap_or_default();
        kadr_core::captions::one(&ctx.db, video, lang)
            .await?
            .ok_or_else(ApiError::not_found)?
            .playlist()
    } else {
        let obj = ctx.storage.get(key, None).await.map_err(storage_err)?;
        let bytes: Vec<u8> = obj
            .body
            .map_ok(|b| b.to_vec())
            .try_concat()
            .await
            .map_err(|e| ApiError::unavailable(format!("storage: {e}")))?;
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        if kind == Kind::Master {
            with_subtitles(&raw, &kadr_core::captions::list(&ctx.db, video).await?)
        } else {
            raw
        }
    };
    let body = match token {
        Some(t) => with_token(kind, &raw, t),
        None => raw,
    };
    let etag = {
        use sha2::Digest as _;
        let d = sha2::Sha256::digest(body.as_bytes());
        format!("\"{}\"", hex16(&d[..8]))
    };
    let matches = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    let mut resp = if matches {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    resp.insert_header((header::CACHE_CONTROL, cc))
        .insert_header((header::ETAG, etag))
        .insert_header((header::CONTENT_TYPE, kind.content_type()));
    if matches || req.method() == actix_web::http::Method::HEAD {
        return Ok(resp.finish());
    }
    Ok(resp.body(body))
}

fn hex16(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_worker_names_are_served() {
        assert_eq!(classify("hls/master.m3u8"), Some(Kind::Master));
        assert_eq!(classify("hls/720p/index.m3u8"), Some(Kind::MediaPlaylist));
        assert_eq!(classify("hls/720p/init.mp4"), Some(Kind::Init));
        assert_eq!(classify("hls/240p/seg_00012.m4s"), Some(Kind::Segment));
        // The audio-only rendition.
        assert_eq!(classify("hls/audio/index.m3u8"), Some(Kind::MediaPlaylist));
        assert_eq!(classify("hls/audio/init.mp4"), Some(Kind::Init));
        assert_eq!(classify("hls/audio/seg_00003.m4s"), Some(Kind::Segment));
        assert_eq!(classify("images/poster.jpg"), Some(Kind::Jpeg));
        assert_eq!(classify("images/frame_2_small.jpg"), Some(Kind::Jpeg));
        assert_eq!(classify("images/custom_14.jpg"), Some(Kind::Jpeg));
        assert_eq!(classify("images/preview.mp4"), Some(Kind::Preview));
        assert_eq!(
            classify("images/incoming/0191d1f0-0000-7000-8000-000000000000"),
            None
        );
        assert_eq!(classify("images/storyboard_0.jpg"), Some(Kind::Jpeg));
        assert_eq!(classify("images/storyboard.vtt"), Some(Kind::Vtt));
        for bad in [
            "",
            "hls",
            "hls/",
            "hls/../master.m3u8",
            "hls/../../originals/x/source",
            "hls/720p/../../images/poster.jpg",
            "hls/..%2f/index.m3u8",
            "hls/720P/index.m3u8",
            "hls/720p/seg_.m4s",
            "hls/720p/seg_1.m4s/",
            "hls/720p/seg_-1.m4s",
            "hls/720p/x/seg_1.m4s",
            "originals/source",
            "images/../hls/master.m3u8",
            "images/storyboard_1.jpg.tmp",
            "/etc/passwd",
            "hls//master.m3u8",
            // Downloads are served by their own route, never by this one.
            "downloads/video.mp4",
        ] {
            assert_eq!(classify(bad), None, "{bad}");
        }
        let v = Uuid::from_u128(9);
        assert_eq!(
            storage_key(v, "hls/720p/init.mp4").as_deref(),
            Some(format!("hls/{v}/720p/init.mp4").as_str())
        );
    }

    #[test]
    fn caption_paths() {
        let r = Uuid::now_v7();
        assert_eq!(classify("hls/subs/ru/index.m3u8"), Some(Kind::SubsPlaylist));
        assert_eq!(
            classify("hls/subs/pt-br/index.m3u8"),
            Some(Kind::SubsPlaylist)
        );
        assert_eq!(
            classify(&format!("hls/subs/ru/{r}/seg_00003.vtt")),
            Some(Kind::Subtitle)
        );
        assert_eq!(
            classify(&format!("hls/subs/ru/{r}/full.vtt")),
            Some(Kind::Subtitle)
        );
        for bad in [
            "hls/subs/RU/index.m3u8".to_owned(),
            "hls/subs/../index.m3u8".to_owned(),
            format!("hls/subs/ru/{r}/seg_1.m4s"),
            format!("hls/subs/ru/{r}/other.vtt"),
            "hls/subs/ru/v1/seg_00001.vtt".to_owned(),
            format!("hls/subs/ru/{r}/../../x"),
        ] {
            assert_eq!(classify(&bad), None, "{bad}");
        }
        let v = Uuid::from_u128(9);
        assert_eq!(
            storage_key(v, &format!("hls/subs/ru/{r}/seg_00003.vtt")),
            Some(format!("captions/{v}/ru/{r}/seg_00003.vtt"))
        );
    }

    #[test]
    fn the_master_names_every_caption_language() {
        let row = |lang: &str, label: &str| kadr_core::captions::CaptionRow {
            video_id: Uuid::nil(),
            lang: lang.to_owned(),
            lang_key: lang.to_ascii_lowercase(),
            label: label.to_owned(),
            revision: Uuid::nil(),
            segment_secs: 30,
            segments: 1,
            covers_ms: 1000,
            cues: 1,
            source_format: "vtt".to_owned(),
            updated_at: chrono::DateTime::default(),
        };
        let master = "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1\"\n720p/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2\n360p/index.m3u8\n";
        let out = with_subtitles(master, &[row("ru", "Русский"), row("pt-BR", "Port\"uguês")]);
        assert_eq!(
            out,
            "#EXTM3U\n#EXT-X-INDEPENDENT-SEGMENTS\n\
             #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Русский\",LANGUAGE=\"ru\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"subs/ru/index.m3u8\"\n\
             #EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Port'uguês\",LANGUAGE=\"pt-BR\",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,URI=\"subs/pt-br/index.m3u8\"\n\
             #EXT-X-STREAM-INF:BANDWIDTH=1,CODECS=\"avc1\",SUBTITLES=\"subs\"\n720p/index.m3u8\n\
             #EXT-X-STREAM-INF:BANDWIDTH=2,SUBTITLES=\"subs\"\n360p/index.m3u8\n"
        );
        assert_eq!(with_subtitles(master, &[]), master);
        let signed = with_token(Kind::Master, &out, "T");
        assert!(
            signed.contains("URI=\"subs/ru/index.m3u8?token=T\""),
            "{signed}"
        );
    }

    #[test]
    fn tokens_go_into_every_uri() {
        let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8\n";
        assert_eq!(
            with_token(Kind::Master, master, "T"),
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n720p/index.m3u8?token=T\n"
        );
        let media =
            "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1.0,\nseg_00000.m4s\n#EXT-X-ENDLIST\n";
        assert_eq!(
            with_token(Kind::MediaPlaylist, media, "T"),
            "#EXTM3U\n#EXT-X-MAP:URI=\"init.mp4?token=T\"\n#EXTINF:1.0,\nseg_00000.m4s?token=T\n#EXT-X-ENDLIST\n"
        );
        let vtt = "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard_0.jpg#xywh=0,0,160,90\n";
        assert_eq!(
            with_token(Kind::Vtt, vtt, "T"),
            "WEBVTT\n\n00:00:00.000 --> 00:00:02.000\nstoryboard_0.jpg?token=T#xywh=0,0,160,90\n"
        );
    }
}
