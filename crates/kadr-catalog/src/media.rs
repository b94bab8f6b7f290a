//! Media delivery under `/media/{video}/…`: HLS playlists, init and media segments, poster,
//! storyboard.
//!
//! - Who: a listed video's media is open to anyone; any other video's needs a token from the
//!   playback or detail endpoint (see [`crate::token`]). No token → 404; a bad, expired or
//!   other video's token → 403.
//! - What: only the names the worker writes are served (`hls/master.m3u8`,
//!   `hls/<rung>/{index.m3u8,init.mp4,seg_N.m4s}`, `images/{poster,poster_small}.jpg`,
//!   `images/storyboard.vtt`, `images/storyboard_N.jpg`); anything else, traversal included,
//!   is 404 before storage is touched.
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
}

impl Kind {
    fn content_type(self) -> &'static str {
        match self {
            Kind::Master | Kind::MediaPlaylist => "application/vnd.apple.mpegurl",
            Kind::Init => "video/mp4",
            Kind::Segment => "video/iso.segment",
            Kind::Jpeg => "image/jpeg",
            Kind::Vtt => "text/vtt; charset=utf-8",
        }
    }

    /// Text the api answers itself (URIs inside may need the token).
    fn is_text(self) -> bool {
        matches!(self, Kind::Master | Kind::MediaPlaylist | Kind::Vtt)
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

/// The kind of `tail` (the path below `/media/{video}/`), if it is one the worker writes.
pub fn classify(tail: &str) -> Option<Kind> {
    let parts: Vec<&str> = tail.split('/').collect();
    match parts.as_slice() {
        ["hls", "master.m3u8"] => Some(Kind::Master),
        ["hls", rung, file] if rung_name(rung) => match *file {
            "index.m3u8" => Some(Kind::MediaPlaylist),
            "init.mp4" => Some(Kind::Init),
            f if numbered(f, "seg_", ".m4s") => Some(Kind::Segment),
            _ => None,
        },
        ["images", "poster.jpg" | "poster_small.jpg"] => Some(Kind::Jpeg),
        ["images", "storyboard.vtt"] => Some(Kind::Vtt),
        ["images", f] if numbered(f, "storyboard_", ".jpg") => Some(Kind::Jpeg),
        _ => None,
    }
}

/// Storage key of `tail` of `video`: `hls/{video}/…` or `images/{video}/…`.
pub fn storage_key(video: Uuid, tail: &str) -> Option<String> {
    kadr_core::keys::media(video, tail)
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
                if let Some(rest) = l.strip_prefix("#EXT-X-MAP:URI=\"") {
                    match rest.split_once('"') {
                        Some((uri, after)) => format!("#EXT-X-MAP:URI=\"{}\"{after}", add(uri)),
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
}

fn token_refused(e: TokenError) -> ApiError {
    match e {
        TokenError::Expired => ApiError::new(Code::TokenExpired, "The media link has expired")
            .detail("ask the playback endpoint for a new one"),
        TokenError::Malformed | TokenError::Invalid | TokenError::OutOfScope => {
            ApiError::new(Code::InvalidToken, "The media link is not valid")
        }
    }
}

fn storage_err(e: StorageError) -> ApiError {
    match e {
        StorageError::NotFound { .. } => ApiError::not_found(),
        other => ApiError::unavailable(format!("storage: {other}")),
    }
}

fn cache_control(kind: Kind, signed: bool, ready: bool) -> &'static str {
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
    let key = storage_key(id, &tail).ok_or_else(ApiError::not_found)?;
    let access = api.access.get(&ctx, id).await?;
    // A token is checked against the video's current epoch: one issued before a privacy or
    // moderation change no longer opens anything. A bad token is refused whether or not the
    // video exists, so a refusal tells nothing of it.
    if let Some(t) = &q.token {
        let epoch = access.as_ref().map_or(0, |a| a.media_epoch);
        api.signer
            .verify(t, id, epoch, &tail)
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
        return text(&ctx, &req, kind, &key, q.token.as_deref(), cc).await;
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
async fn text(
    ctx: &AppContext,
    req: &HttpRequest,
    kind: Kind,
    key: &str,
    token: Option<&str>,
    cc: &'static str,
) -> Result<HttpResponse, ApiError> {
    let obj = ctx.storage.get(key, None).await.map_err(storage_err)?;
    let bytes: Vec<u8> = obj
        .body
        .map_ok(|b| b.to_vec())
        .try_concat()
        .await
        .map_err(|e| ApiError::unavailable(format!("storage: {e}")))?;
    let raw = String::from_utf8_lossy(&bytes);
    let body = match token {
        Some(t) => with_token(kind, &raw, t),
        None => raw.into_owned(),
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
        assert_eq!(classify("images/poster.jpg"), Some(Kind::Jpeg));
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
