//! Stills: a published video's picture at a time and width (`/media/{id}/thumbnail.jpg?t=&w=`),
//! made by a `thumbnail` job the first time it is asked for and kept in storage. Times are
//! whole seconds and widths come from a short list, so one video has at most
//! `duration × WIDTHS.len()` of them and storage cannot be filled by asking.

use kadr_config::Config;
use sea_orm::{ConnectionTrait, FromQueryResult};
use uuid::Uuid;

use crate::error::DomainError;
use crate::jobs::{self, THUMBNAIL, ThumbnailJob};

/// The widths a still can have.
pub const WIDTHS: [u32; 4] = [160, 320, 640, 1280];

/// The still asked for by `t` (seconds) and `w` of a video lasting `duration_secs`: `t`
/// rounded to a whole second within the video, `w` one of [`WIDTHS`].
pub fn snap(t: &str, w: &str, duration_secs: f64) -> Result<(u32, u32), DomainError> {
    let secs: f64 = t
        .trim()
        .parse()
        .ok()
        .filter(|s: &f64| s.is_finite() && *s >= 0.0)
        .ok_or_else(|| DomainError::invalid("t", "t is a time in seconds, 0 or more"))?;
    let width: u32 = w
        .trim()
        .parse()
        .ok()
        .filter(|w| WIDTHS.contains(w))
        .ok_or_else(|| DomainError::invalid("w", "w is 160, 320, 640 or 1280"))?;
    let last = (duration_secs - 0.5).floor().max(0.0);
    Ok((secs.round().min(last) as u32, width))
}

#[derive(Debug, sea_orm::FromQueryResult)]
struct Length {
    duration_ms: Option<i64>,
}

/// The still of `video` that `t` and `w` ask for ([`snap`] within its length); not found when
/// the video has no known length.
pub async fn asked(
    db: &impl ConnectionTrait,
    video: Uuid,
    t: &str,
    w: &str,
) -> Result<(u32, u32), DomainError> {
    let length = Length::find_by_statement(sea_orm::Statement::from_sql_and_values(
        sea_orm::DbBackend::Postgres,
        "SELECT duration_ms FROM videos WHERE id = $1",
        vec![video.into()],
    ))
    .one(db)
    .await?
    .and_then(|l| l.duration_ms)
    .ok_or(DomainError::NotFound)?;
    snap(t, w, length as f64 / 1000.0)
}

/// Asks the worker for a still (once per video, time and width while one is queued).
pub async fn request(
    db: &impl ConnectionTrait,
    config: &Config,
    video: Uuid,
    at_secs: u32,
    width: u32,
) -> Result<(), DomainError> {
    jobs::enqueue(
        db,
        config,
        THUMBNAIL,
        &ThumbnailJob {
            video_id: video,
            at_secs,
            width,
        },
        Some(format!("{video}:{at_secs}:{width}")),
    )
    .await
}

/// A media playlist's init segment and its media segments with where each starts.
#[derive(Debug, PartialEq)]
pub struct Segments {
    pub init: Option<String>,
    pub segments: Vec<(f64, String)>,
}

/// Reads an HLS media playlist (our own rungs'): the `EXT-X-MAP` URI and each segment's URI
/// with its start time.
pub fn media_playlist(text: &str) -> Segments {
    let mut init = None;
    let mut segments = Vec::new();
    let mut at = 0.0;
    let mut next: Option<f64> = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("#EXT-X-MAP:URI=\"") {
            init = rest.split('"').next().map(str::to_owned);
        } else if let Some(rest) = line.strip_prefix("#EXTINF:") {
            next = rest.split(',').next().and_then(|d| d.parse().ok());
        } else if !line.is_empty() && !line.starts_with('#') {
            let d = next.take().unwrap_or(0.0);
            segments.push((at, line.to_owned()));
            at += d;
        }
    }
    Segments { init, segments }
}

/// The variants of a master playlist with a picture: (width, height, URI).
pub fn variants(master: &str) -> Vec<(u32, u32, String)> {
    let mut out = Vec::new();
    let mut size: Option<(u32, u32)> = None;
    for line in master.lines().map(str::trim) {
        if let Some(attrs) = line.strip_prefix("#EXT-X-STREAM-INF:") {
            size = attrs
                .split(',')
                .find_map(|a| a.strip_prefix("RESOLUTION="))
                .and_then(|r| r.split_once('x'))
                .and_then(|(w, h)| Some((w.parse().ok()?, h.parse().ok()?)));
        } else if !line.is_empty()
            && !line.starts_with('#')
            && let Some((w, h)) = size.take()
        {
            out.push((w, h, line.to_owned()));
        }
    }
    out
}

/// The rung to take a still `width` wide from: the narrowest at least that wide, else the
/// widest.
pub fn pick(variants: &[(u32, u32, String)], width: u32) -> Option<&(u32, u32, String)> {
    variants
        .iter()
        .filter(|v| v.0 >= width)
        .min_by_key(|v| v.0)
        .or_else(|| variants.iter().max_by_key(|v| v.0))
}

/// The segment holding `secs`.
pub fn segment_at(s: &Segments, secs: f64) -> Option<&str> {
    s.segments
        .iter()
        .rev()
        .find(|(start, _)| *start <= secs + 1e-6)
        .or_else(|| s.segments.first())
        .map(|(_, uri)| uri.as_str())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn times_round_and_widths_come_from_the_list() {
        assert_eq!(snap("1.4", "320", 10.0).unwrap(), (1, 320));
        assert_eq!(snap("1.6", "160", 10.0).unwrap(), (2, 160));
        assert_eq!(snap("999", "640", 10.0).unwrap(), (9, 640));
        assert_eq!(snap("0", "1280", 0.3).unwrap(), (0, 1280));
        for (t, w) in [
            ("-1", "320"),
            ("NaN", "320"),
            ("inf", "320"),
            ("x", "320"),
            ("1", "333"),
            ("1", "0"),
            ("1", ""),
        ] {
            assert!(snap(t, w, 10.0).is_err(), "{t} {w}");
        }
    }

    #[test]
    fn playlists_name_the_segment_and_the_rung() {
        let media = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:1.000,\nseg_00000.m4s\n#EXTINF:1.000,\nseg_00001.m4s\n#EXTINF:4.000,\nseg_00002.m4s\n#EXT-X-ENDLIST\n";
        let s = media_playlist(media);
        assert_eq!(s.init.as_deref(), Some("init.mp4"));
        assert_eq!(segment_at(&s, 0.0), Some("seg_00000.m4s"));
        assert_eq!(segment_at(&s, 1.5), Some("seg_00001.m4s"));
        assert_eq!(segment_at(&s, 2.0), Some("seg_00002.m4s"));
        assert_eq!(segment_at(&s, 99.0), Some("seg_00002.m4s"));
        let master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1,RESOLUTION=1280x720,CODECS=\"avc1\"\n720p/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=2,RESOLUTION=640x360\n360p/index.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=3,CODECS=\"mp4a.40.2\"\naudio/index.m3u8\n";
        let v = variants(master);
        assert_eq!(v.len(), 2);
        assert_eq!(pick(&v, 320).unwrap().2, "360p/index.m3u8");
        assert_eq!(pick(&v, 640).unwrap().2, "360p/index.m3u8");
        assert_eq!(pick(&v, 1280).unwrap().2, "720p/index.m3u8");
        assert_eq!(pick(&v, 4000).unwrap().2, "720p/index.m3u8");
    }
}
