//! Just enough ISO BMFF to time fMP4 segments: the video track's id and timescale from an
//! init segment, and the decode span of that track in a media segment (`tfdt` plus the sample
//! durations of every `trun`). Segment durations come from the segments themselves, so they
//! do not depend on what FFmpeg's muxer happens to list in its own playlist.

/// The top-level boxes of the file at `path` except `mdat`, whose media bytes are skipped
/// unread: enough to time a segment without reading it whole.
pub fn read_headers(path: &std::path::Path) -> std::io::Result<Vec<u8>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let end = f.metadata()?.len();
    let mut out = Vec::new();
    let mut at = 0u64;
    while end - at >= 8 {
        let mut head = [0u8; 16];
        f.read_exact(&mut head[..8])?;
        let (header, size) = match u32_at(&head, 0).unwrap_or(0) {
            0 => (8, end - at),
            1 => {
                f.read_exact(&mut head[8..16])?;
                (16, u64_at(&head, 8).unwrap_or(0))
            }
            n => (8, u64::from(n)),
        };
        if size < header || size > end - at {
            break;
        }
        if &head[4..8] == b"mdat" {
            f.seek(SeekFrom::Current((size - header) as i64))?;
        } else {
            out.extend_from_slice(&head[..header as usize]);
            let mut payload = vec![0u8; (size - header) as usize];
            f.read_exact(&mut payload)?;
            out.extend_from_slice(&payload);
        }
        at += size;
    }
    Ok(out)
}

/// The boxes directly inside `data`: (four-character type, payload).
fn boxes(data: &[u8]) -> Boxes<'_> {
    Boxes { rest: data }
}

struct Boxes<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Boxes<'a> {
    type Item = ([u8; 4], &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        let size = u32_at(self.rest, 0)? as u64;
        let kind: [u8; 4] = self.rest.get(4..8)?.try_into().ok()?;
        let (header, size) = match size {
            0 => (8, self.rest.len() as u64),
            1 => (16, u64_at(self.rest, 8)?),
            n => (8, n),
        };
        if size < header || size > self.rest.len() as u64 {
            self.rest = &[];
            return None;
        }
        let (this, rest) = self.rest.split_at(size as usize);
        self.rest = rest;
        Some((kind, this.get(header as usize..)?))
    }
}

fn child<'a>(data: &'a [u8], kind: &[u8; 4]) -> Option<&'a [u8]> {
    boxes(data).find(|(k, _)| k == kind).map(|(_, b)| b)
}

fn u32_at(data: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(data.get(at..at + 4)?.try_into().ok()?))
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    Some(u64::from_be_bytes(data.get(at..at + 8)?.try_into().ok()?))
}

/// The video track of an init segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VideoTrack {
    pub id: u32,
    pub timescale: u32,
    /// `trex` default sample duration, used when a fragment states none.
    pub default_duration: u32,
}

/// The video track of an fMP4 init segment, if it has one.
pub fn video_track(init: &[u8]) -> Option<VideoTrack> {
    track_of(init, b"vide")
}

/// The track a segment is timed by: the video track, or the sound track of an audio-only
/// rendition (the `VideoTrack` shape serves both).
pub fn timing_track(init: &[u8]) -> Option<VideoTrack> {
    track_of(init, b"vide").or_else(|| track_of(init, b"soun"))
}

/// The first track of an fMP4 init segment whose handler is `handler` (`vide`, `soun`).
fn track_of(init: &[u8], handler: &[u8; 4]) -> Option<VideoTrack> {
    let moov = child(init, b"moov")?;
    let (id, timescale) = boxes(moov)
        .filter(|(k, _)| k == b"trak")
        .find_map(|(_, trak)| {
            let tkhd = child(trak, b"tkhd")?;
            let id = if tkhd.first()? == &1 {
                u32_at(tkhd, 20)?
            } else {
                u32_at(tkhd, 12)?
            };
            let mdia = child(trak, b"mdia")?;
            if child(mdia, b"hdlr")?.get(8..12)? != handler {
                return None;
            }
            let mdhd = child(mdia, b"mdhd")?;
            let timescale = if mdhd.first()? == &1 {
                u32_at(mdhd, 20)?
            } else {
                u32_at(mdhd, 12)?
            };
            Some((id, timescale))
        })?;
    let default_duration = child(moov, b"mvex")
        .and_then(|mvex| {
            boxes(mvex)
                .filter(|(k, _)| k == b"trex")
                .find(|(_, t)| u32_at(t, 4) == Some(id))
                .and_then(|(_, t)| u32_at(t, 12))
        })
        .unwrap_or(0);
    (timescale > 0).then_some(VideoTrack {
        id,
        timescale,
        default_duration,
    })
}

/// The types of the top-level boxes of the file at `path`, in order (a progressive MP4 made
/// for downloads is `ftyp`, `moov`, …, `mdat`: playable while it downloads).
pub fn top_level_boxes(path: &std::path::Path) -> std::io::Result<Vec<[u8; 4]>> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path)?;
    let end = f.metadata()?.len();
    let mut out = Vec::new();
    let mut at = 0u64;
    while end - at >= 8 {
        let mut head = [0u8; 16];
        f.read_exact(&mut head[..8])?;
        let (header, size) = match u32_at(&head, 0).unwrap_or(0) {
            0 => (8, end - at),
            1 => {
                f.read_exact(&mut head[8..16])?;
                (16, u64_at(&head, 8).unwrap_or(0))
            }
            n => (8, u64::from(n)),
        };
        if size < header || size > end - at {
            break;
        }
        out.push([head[4], head[5], head[6], head[7]]);
        f.seek(SeekFrom::Current((size - header) as i64))?;
        at += size;
    }
    Ok(out)
}

/// The decode span of `track` in a media segment: (start, duration) in the track's timescale.
pub fn segment_span(segment: &[u8], track: &VideoTrack) -> Option<(u64, u64)> {
    let mut start: Option<u64> = None;
    let mut duration = 0u64;
    for (_, moof) in boxes(segment).filter(|(k, _)| k == b"moof") {
        for (_, traf) in boxes(moof).filter(|(k, _)| k == b"traf") {
            let tfhd = child(traf, b"tfhd")?;
            if u32_at(tfhd, 4)? != track.id {
                continue;
            }
            let flags = u32_at(tfhd, 0)? & 0x00ff_ffff;
            let mut at = 8;
            if flags & 0x01 != 0 {
                at += 8;
            }
            if flags & 0x02 != 0 {
                at += 4;
            }
            let default_duration = if flags & 0x08 != 0 {
                u32_at(tfhd, at)?
            } else {
                track.default_duration
            };
            if let Some(tfdt) = child(traf, b"tfdt") {
                let base = if tfdt.first()? == &1 {
                    u64_at(tfdt, 4)?
                } else {
                    u64::from(u32_at(tfdt, 4)?)
                };
                start.get_or_insert(base);
            }
            for (_, trun) in boxes(traf).filter(|(k, _)| k == b"trun") {
                duration += trun_duration(trun, default_duration)?;
            }
        }
    }
    Some((start?, duration))
}

fn trun_duration(trun: &[u8], default_duration: u32) -> Option<u64> {
    let flags = u32_at(trun, 0)? & 0x00ff_ffff;
    let count = u32_at(trun, 4)? as usize;
    let mut at = 8;
    if flags & 0x01 != 0 {
        at += 4;
    }
    if flags & 0x04 != 0 {
        at += 4;
    }
    if flags & 0x100 == 0 {
        return Some(count as u64 * u64::from(default_duration));
    }
    let per_sample = 4 * [0x100, 0x200, 0x400, 0x800]
        .iter()
        .filter(|f| flags & **f != 0)
        .count();
    let mut total = 0u64;
    for i in 0..count {
        total += u64::from(u32_at(trun, at + i * per_sample)?);
    }
    Some(total)
}

/// The video duration of a media segment, seconds.
pub fn segment_secs(segment: &[u8], track: &VideoTrack) -> Option<f64> {
    segment_span(segment, track).map(|(_, d)| d as f64 / f64::from(track.timescale))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn bx(kind: &[u8; 4], payload: &[u8]) -> Vec<u8> {
        let mut v = ((payload.len() + 8) as u32).to_be_bytes().to_vec();
        v.extend_from_slice(kind);
        v.extend_from_slice(payload);
        v
    }

    fn full(version: u8, flags: u32, rest: &[u8]) -> Vec<u8> {
        let mut v = (u32::from(version) << 24 | flags).to_be_bytes().to_vec();
        v.extend_from_slice(rest);
        v
    }

    fn init() -> Vec<u8> {
        let mut tkhd = vec![0u8; 8];
        tkhd.extend(7u32.to_be_bytes());
        tkhd.extend([0u8; 72]);
        let mut mdhd = vec![0u8; 8];
        mdhd.extend(90_000u32.to_be_bytes());
        mdhd.extend([0u8; 8]);
        let mut hdlr = vec![0u8; 4];
        hdlr.extend(b"vide");
        hdlr.extend([0u8; 13]);
        let mdia = [
            bx(b"mdhd", &full(0, 0, &mdhd)),
            bx(b"hdlr", &full(0, 0, &hdlr)),
        ]
        .concat();
        let trak = [bx(b"tkhd", &full(0, 3, &tkhd)), bx(b"mdia", &mdia)].concat();
        let mut trex = 7u32.to_be_bytes().to_vec();
        trex.extend(1u32.to_be_bytes());
        trex.extend(3000u32.to_be_bytes());
        trex.extend([0u8; 8]);
        let moov = [
            bx(b"mvhd", &[0u8; 100]),
            bx(b"trak", &trak),
            bx(b"mvex", &bx(b"trex", &full(0, 0, &trex))),
        ]
        .concat();
        [bx(b"ftyp", b"iso6"), bx(b"moov", &moov)].concat()
    }

    fn segment(per_sample: bool) -> Vec<u8> {
        let tfhd = full(0, 0x02_0000, &7u32.to_be_bytes());
        let tfdt = full(1, 0, &180_000u64.to_be_bytes());
        let trun = if per_sample {
            let mut t = 3u32.to_be_bytes().to_vec();
            t.extend(0i32.to_be_bytes());
            for d in [3000u32, 3000, 6000] {
                t.extend(d.to_be_bytes());
                t.extend(100u32.to_be_bytes());
            }
            full(0, 0x301, &t)
        } else {
            full(0, 0, &4u32.to_be_bytes())
        };
        let traf = [bx(b"tfhd", &tfhd), bx(b"tfdt", &tfdt), bx(b"trun", &trun)].concat();
        let moof = [bx(b"mfhd", &[0u8; 8]), bx(b"traf", &traf)].concat();
        [
            bx(b"styp", b"msdh"),
            bx(b"moof", &moof),
            bx(b"mdat", &[1, 2, 3]),
        ]
        .concat()
    }

    #[test]
    fn times_a_segment() {
        let track = video_track(&init()).unwrap();
        assert_eq!(
            track,
            VideoTrack {
                id: 7,
                timescale: 90_000,
                default_duration: 3000
            }
        );
        assert_eq!(
            segment_span(&segment(true), &track),
            Some((180_000, 12_000))
        );
        assert_eq!(
            segment_span(&segment(false), &track),
            Some((180_000, 12_000))
        );
        assert!((segment_secs(&segment(true), &track).unwrap() - 12_000.0 / 90_000.0).abs() < 1e-9);
    }

    #[test]
    fn headers_skip_the_media() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("seg.m4s");
        let mut seg = segment(true);
        seg.extend(bx(b"mdat", &vec![7u8; 100_000]));
        std::fs::write(&path, &seg).unwrap();
        let heads = read_headers(&path).unwrap();
        assert!(heads.len() < 1000, "{}", heads.len());
        let track = video_track(&init()).unwrap();
        assert_eq!(segment_span(&heads, &track), segment_span(&seg, &track));
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(video_track(b"not an mp4 at all"), None);
        let track = video_track(&init()).unwrap();
        assert_eq!(
            segment_span(&[0, 0, 0, 200, b'm', b'o', b'o', b'f'], &track),
            None
        );
        assert_eq!(segment_span(&[], &track), None);
    }
}
