//! HLS playlists written by us: media playlists per rung and the master playlist with
//! BANDWIDTH (measured peak), AVERAGE-BANDWIDTH, CODECS, RESOLUTION and FRAME-RATE. Audio is
//! muxed into every rung, so the master lists variants only; the audio-only rendition (when
//! made) is the last variant, with `CODECS="mp4a.40.2"` and no RESOLUTION, for slow links and
//! listeners.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::MediaError;
use crate::plan::Rung;

/// One media segment of a rung.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Segment {
    pub uri: String,
    pub duration: f64,
    pub bytes: u64,
}

/// What one rung produced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RungOutput {
    pub rung: Rung,
    pub dir: PathBuf,
    pub init: String,
    pub segments: Vec<Segment>,
    /// RFC 6381 codecs of the rung, e.g. `avc1.64001f,mp4a.40.2`.
    pub codecs: String,
}

impl RungOutput {
    pub fn duration(&self) -> f64 {
        self.segments.iter().map(|s| s.duration).sum()
    }

    /// The highest bit rate of any segment, bits per second.
    pub fn peak_bandwidth(&self) -> u64 {
        self.segments
            .iter()
            .filter(|s| s.duration > 0.0)
            .map(|s| (s.bytes as f64 * 8.0 / s.duration).ceil() as u64)
            .max()
            .unwrap_or(0)
    }

    /// The bit rate over the whole rung, bits per second.
    pub fn average_bandwidth(&self) -> u64 {
        let d = self.duration();
        if d <= 0.0 {
            return 0;
        }
        let bytes: u64 = self.segments.iter().map(|s| s.bytes).sum();
        (bytes as f64 * 8.0 / d).ceil() as u64
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> MediaError + '_ {
    move |e| MediaError::Internal(format!("{}: {e}", path.display()))
}

/// Reads what a rung's muxer wrote in `dir`: the init segment and every closed media segment
/// (`seg_*.m4s`; the muxer writes `.tmp` and renames when done), in order, each timed from its
/// own fragments.
pub fn read_rung_dir(rung: &Rung, dir: &Path) -> Result<RungOutput, MediaError> {
    let init = "init.mp4".to_owned();
    let init_path = dir.join(&init);
    let init_bytes = std::fs::read(&init_path).map_err(io(&init_path))?;
    let track = crate::fmp4::timing_track(&init_bytes)
        .ok_or_else(|| MediaError::Internal(format!("{}: no track", init_path.display())))?;
    let mut segments = Vec::new();
    for uri in closed_segments(dir).map_err(io(dir))? {
        let path = dir.join(&uri);
        segments.push(timed_segment(&path, uri, &track)?);
    }
    Ok(RungOutput {
        rung: rung.clone(),
        dir: dir.to_owned(),
        init,
        segments,
        codecs: codecs_of_init(&init_bytes),
    })
}

/// The names of the closed media segments in `dir`, in order.
pub fn closed_segments(dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("seg_") && n.ends_with(".m4s"))
        .collect();
    names.sort();
    Ok(names)
}

/// A closed media segment at `path`, timed from its fragment headers (the media is not read).
pub fn timed_segment(
    path: &Path,
    uri: String,
    track: &crate::fmp4::VideoTrack,
) -> Result<Segment, MediaError> {
    let size = std::fs::metadata(path).map_err(io(path))?.len();
    let headers = crate::fmp4::read_headers(path).map_err(io(path))?;
    let duration = crate::fmp4::segment_secs(&headers, track)
        .ok_or_else(|| MediaError::Internal(format!("{}: unreadable fragment", path.display())))?;
    Ok(Segment {
        uri,
        duration,
        bytes: size,
    })
}

/// RFC 6381 codecs of a rung from its init segment: H.264 from the avcC box, plus AAC when
/// the rung carries audio; AAC alone for the audio-only rendition.
pub fn codecs_of_init(init: &[u8]) -> String {
    let has_audio = init.windows(4).any(|w| w == b"mp4a");
    if has_audio && crate::fmp4::video_track(init).is_none() {
        return "mp4a.40.2".to_owned();
    }
    let mut codecs = avc1_codec(init).unwrap_or_else(|| "avc1.640028".to_owned());
    if has_audio {
        codecs.push_str(",mp4a.40.2");
    }
    codecs
}

/// `avc1.PPCCLL` from the avcC box of an init segment.
pub fn avc1_codec(init: &[u8]) -> Option<String> {
    let at = init.windows(4).position(|w| w == b"avcC")?;
    let cfg = init.get(at + 4..at + 8)?;
    Some(format!("avc1.{:02x}{:02x}{:02x}", cfg[1], cfg[2], cfg[3]))
}

/// A rung's media playlist: VOD once `ended`, EVENT while it still grows.
pub fn media_playlist(out: &RungOutput, ended: bool) -> String {
    let target = out
        .segments
        .iter()
        .map(|s| s.duration)
        .fold(0.0f64, f64::max)
        .ceil()
        .max(1.0) as u64;
    let mut m = String::new();
    let _ = writeln!(m, "#EXTM3U");
    let _ = writeln!(m, "#EXT-X-VERSION:7");
    let _ = writeln!(m, "#EXT-X-TARGETDURATION:{target}");
    let _ = writeln!(m, "#EXT-X-MEDIA-SEQUENCE:0");
    let _ = writeln!(
        m,
        "#EXT-X-PLAYLIST-TYPE:{}",
        if ended { "VOD" } else { "EVENT" }
    );
    let _ = writeln!(m, "#EXT-X-INDEPENDENT-SEGMENTS");
    let _ = writeln!(m, "#EXT-X-MAP:URI=\"{}\"", out.init);
    for s in &out.segments {
        let _ = writeln!(m, "#EXTINF:{:.6},", s.duration);
        let _ = writeln!(m, "{}", s.uri);
    }
    if ended {
        let _ = writeln!(m, "#EXT-X-ENDLIST");
    }
    m
}

/// The master playlist: one variant per rung, largest first, at `<rung>/index.m3u8` (the
/// audio-only rendition, if among `outs`, last).
pub fn master_playlist(outs: &[RungOutput], fps: f64) -> String {
    let measured: Vec<Variant<'_>> = outs
        .iter()
        .map(|o| Variant {
            rung: &o.rung,
            codecs: &o.codecs,
            bandwidth: o.peak_bandwidth(),
            average_bandwidth: o.average_bandwidth(),
        })
        .collect();
    master_of(&measured, fps)
}

/// A variant of the master playlist.
#[derive(Debug, Clone)]
pub struct Variant<'a> {
    pub rung: &'a Rung,
    pub codecs: &'a str,
    /// Peak and average bit rates, bits per second.
    pub bandwidth: u64,
    pub average_bandwidth: u64,
}

/// The master playlist of `variants`, largest first, at `<rung>/index.m3u8`; an audio-only
/// variant goes last whatever its place in `variants`.
pub fn master_of(variants: &[Variant<'_>], fps: f64) -> String {
    let mut m = String::new();
    let _ = writeln!(m, "#EXTM3U");
    let _ = writeln!(m, "#EXT-X-VERSION:7");
    let _ = writeln!(m, "#EXT-X-INDEPENDENT-SEGMENTS");
    let ordered = variants
        .iter()
        .filter(|v| !v.rung.is_audio_only())
        .chain(variants.iter().filter(|v| v.rung.is_audio_only()));
    for o in ordered {
        if o.rung.is_audio_only() {
            let _ = writeln!(
                m,
                "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{}\"",
                o.bandwidth, o.average_bandwidth, o.codecs
            );
            let _ = writeln!(m, "{}/index.m3u8", o.rung.name);
            continue;
        }
        let _ = write!(
            m,
            "#EXT-X-STREAM-INF:BANDWIDTH={},AVERAGE-BANDWIDTH={},CODECS=\"{}\",RESOLUTION={}x{}",
            o.bandwidth, o.average_bandwidth, o.codecs, o.rung.width, o.rung.height
        );
        if fps > 0.0 {
            let _ = write!(m, ",FRAME-RATE={fps:.3}");
        }
        let _ = writeln!(m);
        let _ = writeln!(m, "{}/index.m3u8", o.rung.name);
    }
    m
}

/// Writes every rung's `index.m3u8` (VOD) and `master.m3u8` into `out_dir`.
pub fn write_playlists(out_dir: &Path, outs: &[RungOutput], fps: f64) -> Result<(), MediaError> {
    for o in outs {
        let path = o.dir.join("index.m3u8");
        std::fs::write(&path, media_playlist(o, true)).map_err(io(&path))?;
    }
    let path = out_dir.join("master.m3u8");
    std::fs::write(&path, master_playlist(outs, fps)).map_err(io(&path))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out() -> RungOutput {
        RungOutput {
            rung: Rung {
                name: "720p".to_owned(),
                width: 1280,
                height: 720,
                max_kbps: 3000,
            },
            dir: PathBuf::from("/x"),
            init: "init.mp4".to_owned(),
            segments: vec![
                Segment {
                    uri: "seg_00000.m4s".to_owned(),
                    duration: 4.0,
                    bytes: 1_000_000,
                },
                Segment {
                    uri: "seg_00001.m4s".to_owned(),
                    duration: 1.3,
                    bytes: 100_000,
                },
            ],
            codecs: "avc1.64001f,mp4a.40.2".to_owned(),
        }
    }

    #[test]
    fn bandwidths() {
        let o = out();
        assert_eq!(o.peak_bandwidth(), 2_000_000);
        assert_eq!(
            o.average_bandwidth(),
            (1_100_000.0f64 * 8.0 / 5.3).ceil() as u64
        );
    }

    #[test]
    fn playlists() {
        let o = out();
        let media = media_playlist(&o, true);
        assert!(media.contains("#EXT-X-TARGETDURATION:4\n"));
        assert!(media.contains("#EXT-X-MAP:URI=\"init.mp4\""));
        assert!(media.ends_with("seg_00001.m4s\n#EXT-X-ENDLIST\n"));
        assert!(!media_playlist(&o, false).contains("ENDLIST"));
        let master = master_playlist(&[o], 29.97);
        assert!(master.contains(
            "#EXT-X-STREAM-INF:BANDWIDTH=2000000,AVERAGE-BANDWIDTH=1660378,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=29.970\n720p/index.m3u8\n"
        ), "{master}");
    }

    #[test]
    fn the_audio_only_variant_is_last_without_a_resolution() {
        let video = out();
        let mut audio = out();
        audio.rung = Rung::audio_only(128);
        audio.codecs = "mp4a.40.2".to_owned();
        audio.segments.truncate(1);
        audio.segments[0].bytes = 66_000;
        let master = master_playlist(&[audio, video], 30.0);
        let lines: Vec<&str> = master.lines().collect();
        assert_eq!(lines[lines.len() - 1], "audio/index.m3u8", "{master}");
        assert_eq!(
            lines[lines.len() - 2],
            "#EXT-X-STREAM-INF:BANDWIDTH=132000,AVERAGE-BANDWIDTH=132000,CODECS=\"mp4a.40.2\""
        );
        assert_eq!(lines[lines.len() - 3], "720p/index.m3u8");
    }

    #[test]
    fn codec_from_avcc() {
        let mut init = b"....ftypiso6....avcC".to_vec();
        init.extend([1, 0x64, 0x00, 0x1f, 0xff]);
        assert_eq!(avc1_codec(&init).as_deref(), Some("avc1.64001f"));
        assert_eq!(avc1_codec(b"nothing here"), None);
    }
}
