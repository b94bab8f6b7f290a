//! The hover preview: a few seconds of silent H.264 that a video card plays on hover, cut
//! from short windows spread over the video (four windows of a second at 20, 40, 60 and 80 %
//! of the duration the header claims; a video shorter than [`SHORT_SECS`] gives its first
//! seconds), at a reduced frame rate, made in the same pass as the ladder.
//!
//! The tap sits on the scaler thread and is offered the smallest rung's pictures; it keeps the
//! few that fall on the preview's clock, scales them to fit [`MAX_SIDE`] and hands them over a
//! bounded channel to an encoder thread (x264 and a `+faststart` MP4 muxer, shared with the
//! downloads). Nothing is decoded again. The windows come from the claimed duration, but the
//! number of pictures kept is bounded by the windows' slots and by [`MAX_FRAMES`] whatever
//! the file holds: a file longer than it claims still gives at most that many.

use std::path::Path;
use std::sync::mpsc::{Receiver, SyncSender};

use ffmpeg::format::Pixel;
use ffmpeg::software::scaling::{Context as Scaler, Flags};
use ffmpeg::{Dictionary, Packet, Rational, codec, frame, picture};
use ffmpeg_next as ffmpeg;

use crate::MediaError;

use super::internal;
use super::progressive::FastStart;

/// The preview's file name, beside the poster and storyboard (`out_dir/images`).
pub const PREVIEW_FILE: &str = "preview.mp4";
/// The preview fits a square of this side: 320×180 for 16:9, 180×320 for a phone's 9:16. Cards
/// are at most about this wide, and a vertical video stays vertical. Never upscaled.
pub const MAX_SIDE: u32 = 320;
/// Windows spread over the video, each this long.
const WINDOWS: [f64; 4] = [0.2, 0.4, 0.6, 0.8];
const WINDOW_SECS: f64 = 1.0;
/// A video claimed shorter than this has no room for spread windows: its first
/// `WINDOWS.len() × WINDOW_SECS` seconds are the preview.
pub const SHORT_SECS: f64 = 6.0;
/// The preview's rate is the source's divided by a whole number (every second picture of
/// 30 fps, 25 → 12.5), at most this: motion reads as motion on a card, at a third of the
/// pictures of a 30 fps ladder rung.
pub const MAX_FPS: f64 = 15.0;
/// Nor below this, so a source claiming a silly rate cannot stretch one picture over seconds.
const MIN_FPS: f64 = 5.0;
/// Whatever the input claims, the preview never holds more pictures than this (its windows
/// at the highest rate hold exactly as many).
pub const MAX_FRAMES: u64 = 60;
/// x264 for a picture a few hundred pixels wide: a slower preset costs little here (at most
/// sixty small pictures: about 0.1 CPU-s more than `veryfast`) and every card of a page
/// downloads the file. Measured on 4 s of 320×180: `medium` at CRF 30 is 38 KB at SSIM 0.945,
/// `veryfast` at CRF 28 40 KB at 0.940.
const PRESET: &str = "medium";
const CRF: &str = "30";
/// Pictures waiting for the preview's encoder; each is at most 320×320.
const QUEUE: usize = 8;

/// The preview a transcode made, in `out_dir/images`.
#[derive(Debug, Clone, PartialEq)]
pub struct Preview {
    /// Its file name in `out_dir/images` ([`PREVIEW_FILE`]).
    pub file: String,
    /// Width and height in pixels (even, at most [`MAX_SIDE`] each).
    pub size: (u32, u32),
    /// Pictures it holds (at most [`MAX_FRAMES`]).
    pub frames: u64,
    /// How long it plays.
    pub duration_secs: f64,
    pub bytes: u64,
}

/// What to do with a picture.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pick {
    /// Keep it as the preview's picture number `n` on the preview's clock (`n / fps` s).
    Keep(u64),
    Skip,
    /// Past the last window or the cap: nothing more will be kept.
    Done,
}

/// Decides which pictures make the preview, from their times alone (so it is tested without
/// pictures). Windows are measured from the first picture offered.
#[derive(Debug, Clone)]
pub(super) struct Picker {
    /// Window starts, seconds after the first picture, increasing.
    starts: Vec<f64>,
    window_secs: f64,
    fps: f64,
    /// Slots (pictures at `fps`) in a window.
    slots: u64,
    first: Option<f64>,
    /// The window being filled: (index, its first slot used, its last slot used).
    current: Option<(usize, u64, u64)>,
    /// The preview's picture number of the current window's first slot used.
    base: u64,
    kept: u64,
}

impl Picker {
    /// Windows for a video whose header claims `claimed_secs` and `source_fps` (either may be
    /// zero, negative or not a number: a file's claims).
    pub(super) fn new(claimed_secs: f64, source_fps: f64) -> Picker {
        let claimed = if claimed_secs.is_finite() {
            claimed_secs.max(0.0)
        } else {
            0.0
        };
        let (starts, window_secs) = if claimed >= SHORT_SECS {
            (WINDOWS.iter().map(|f| claimed * f).collect(), WINDOW_SECS)
        } else {
            (vec![0.0], WINDOW_SECS * WINDOWS.len() as f64)
        };
        let fps = if source_fps.is_finite() && source_fps > 0.0 {
            let step = (source_fps / MAX_FPS).ceil().max(1.0);
            (source_fps / step).clamp(MIN_FPS, MAX_FPS)
        } else {
            MAX_FPS
        };
        let slots = ((window_secs * fps).ceil() as u64).max(1);
        Picker {
            starts,
            window_secs,
            fps,
            slots,
            first: None,
            current: None,
            base: 0,
            kept: 0,
        }
    }

    /// The preview's frame rate.
    pub(super) fn fps(&self) -> f64 {
        self.fps
    }

    /// What to do with the picture shown at `secs`.
    pub(super) fn pick(&mut self, secs: f64) -> Pick {
        if self.kept >= MAX_FRAMES {
            return Pick::Done;
        }
        if !secs.is_finite() {
            return Pick::Skip;
        }
        let first = *self.first.get_or_insert(secs);
        let t = secs - first;
        let last_end = self.starts.last().map_or(0.0, |s| s + self.window_secs);
        if t >= last_end {
            return Pick::Done;
        }
        // The last window that has begun; before the first, nothing.
        let Some(w) = self.starts.iter().rposition(|s| t >= *s) else {
            return Pick::Skip;
        };
        let offset = t - self.starts[w];
        if offset >= self.window_secs {
            return Pick::Skip;
        }
        // Timestamps are rounded to 1/90000 s: a hair of slack keeps an exact division
        // (every second picture of 30 fps) from landing a picture one slot early or late.
        let slot = ((offset * self.fps + 1e-3).floor() as u64).min(self.slots - 1);
        let n = match self.current {
            Some((cw, first_slot, last_slot)) if cw == w => {
                if slot <= last_slot {
                    return Pick::Skip;
                }
                self.current = Some((w, first_slot, slot));
                self.base + (slot - first_slot)
            }
            // Time went back into an earlier window: already filled.
            Some((cw, _, _)) if cw > w => return Pick::Skip,
            // A new window follows the last one's last picture at once, so the preview runs
            // on without a gap (or a frozen picture) at the cut.
            previous => {
                if let Some((_, first_slot, last_slot)) = previous {
                    self.base += last_slot - first_slot + 1;
                }
                self.current = Some((w, slot, slot));
                self.base
            }
        };
        self.kept += 1;
        Pick::Keep(n)
    }
}

/// The preview's picture size for pictures of `width`×`height`: fits [`MAX_SIDE`], keeps the
/// shape, even sides, never larger than the pictures.
pub(super) fn preview_size(width: u32, height: u32) -> (u32, u32) {
    let (w, h) = (f64::from(width.max(1)), f64::from(height.max(1)));
    let scale = (f64::from(MAX_SIDE) / w.max(h)).min(1.0);
    let even =
        |x: f64, side: u32| (((x / 2.0).round() as u32) * 2).clamp(2, MAX_SIDE.min(side.max(2)));
    (even(w * scale, width), even(h * scale, height))
}

/// On the scaler thread: offered the smallest rung's pictures, sends the preview's to the
/// encoder thread. It fails quietly (a warning, no preview): the ladder matters more than the
/// card's animation.
pub(super) struct PreviewTap {
    picker: Picker,
    tx: Option<SyncSender<frame::Video>>,
    scaler: Option<Scaler>,
}

impl PreviewTap {
    pub(super) fn new(picker: Picker, tx: SyncSender<frame::Video>) -> PreviewTap {
        PreviewTap {
            picker,
            tx: Some(tx),
            scaler: None,
        }
    }

    /// Offers the picture shown at `secs`.
    pub(super) fn offer(&mut self, secs: f64, f: &frame::Video) {
        if self.tx.is_none() {
            return;
        }
        let n = match self.picker.pick(secs) {
            Pick::Keep(n) => n,
            Pick::Skip => return,
            // Closing the channel lets the encoder finish now, long before the ladder.
            Pick::Done => {
                self.tx = None;
                return;
            }
        };
        let mut p = match self.scaled(f) {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "the hover preview cannot be made");
                self.tx = None;
                return;
            }
        };
        p.set_pts(Some(ticks(n, self.picker.fps())));
        // The ladder's keyframe marks are not the preview's.
        p.set_kind(picture::Type::None);
        // A send fails only when the encoder gave up; it has said why.
        if self.tx.as_ref().is_some_and(|tx| tx.send(p).is_err()) {
            self.tx = None;
        }
    }

    fn scaled(&mut self, f: &frame::Video) -> Result<frame::Video, MediaError> {
        let (w, h) = preview_size(f.width(), f.height());
        if (w, h) == (f.width(), f.height()) && f.format() == Pixel::YUV420P {
            return Ok(f.clone());
        }
        // The rung keeps its size, but a scaler is only ever used for what it was made for.
        let stale = self.scaler.as_ref().is_some_and(|s| {
            let i = s.input();
            (i.width, i.height, i.format) != (f.width(), f.height(), f.format())
        });
        if stale {
            self.scaler = None;
        }
        let scaler = match &mut self.scaler {
            Some(s) => s,
            slot => slot.insert(
                Scaler::get(
                    f.format(),
                    f.width(),
                    f.height(),
                    Pixel::YUV420P,
                    w,
                    h,
                    Flags::BICUBIC,
                )
                .map_err(internal("the preview's scaler"))?,
            ),
        };
        let mut out = frame::Video::new(Pixel::YUV420P, w, h);
        scaler
            .run(f, &mut out)
            .map_err(internal("scaling a preview picture"))?;
        Ok(out)
    }
}

/// The preview's encoder works on a 1/90000 clock, like the rungs'.
const TB: Rational = Rational(1, 90_000);

fn ticks(n: u64, fps: f64) -> i64 {
    (n as f64 * 90_000.0 / fps).round() as i64
}

/// A channel for the tap and the receiving end for [`encode`].
pub(super) fn channel() -> (SyncSender<frame::Video>, Receiver<frame::Video>) {
    std::sync::mpsc::sync_channel(QUEUE)
}

/// The encoder thread: x264 and a faststart MP4 muxer at `path`, opened at the first picture
/// (whose size the tap chose). No picture, no file.
pub(super) fn encode(
    path: &Path,
    fps: f64,
    rx: Receiver<frame::Video>,
) -> Result<Option<Preview>, MediaError> {
    let mut open: Option<(ffmpeg::encoder::Video, FastStart, (u32, u32))> = None;
    let mut frames = 0u64;
    let mut last_pts = 0i64;
    let mut packet = Packet::empty();
    let frame_ticks = ticks(1, fps);
    let mut drain = |encoder: &mut ffmpeg::encoder::Video, mux: &mut FastStart| {
        while encoder.receive_packet(&mut packet).is_ok() {
            // The muxer times each picture until the next; the last one needs its own length
            // or the preview ends a picture short.
            packet.set_duration(frame_ticks);
            mux.video(&packet)?;
        }
        Ok::<(), MediaError>(())
    };
    while let Ok(f) = rx.recv() {
        if frames >= MAX_FRAMES {
            break;
        }
        let (encoder, mux, _) = match &mut open {
            Some(o) => o,
            slot => slot.insert(open_encoder(path, fps, f.width(), f.height())?),
        };
        last_pts = f.pts().unwrap_or(last_pts);
        encoder.send_frame(&f).map_err(internal("x264 (preview)"))?;
        drain(encoder, mux)?;
        frames += 1;
    }
    let Some((mut encoder, mut mux, size)) = open else {
        return Ok(None);
    };
    encoder.send_eof().map_err(internal("x264 (preview)"))?;
    drain(&mut encoder, &mut mux)?;
    let bytes = mux.finish()?;
    Ok(Some(Preview {
        file: PREVIEW_FILE.to_owned(),
        size,
        frames,
        duration_secs: (last_pts + frame_ticks) as f64 / 90_000.0,
        bytes,
    }))
}

fn open_encoder(
    path: &Path,
    fps: f64,
    width: u32,
    height: u32,
) -> Result<(ffmpeg::encoder::Video, FastStart, (u32, u32)), MediaError> {
    let x264 = ffmpeg::encoder::find_by_name("libx264")
        .ok_or_else(|| MediaError::Internal("FFmpeg has no libx264 encoder".to_owned()))?;
    let mut enc = codec::Context::new_with_codec(x264)
        .encoder()
        .video()
        .map_err(internal("x264 (preview)"))?;
    enc.set_width(width);
    enc.set_height(height);
    enc.set_format(Pixel::YUV420P);
    enc.set_time_base(TB);
    enc.set_frame_rate(Some(Rational::from(fps)));
    // One keyframe at the start (and x264's own at the cuts between windows): nobody seeks
    // in a preview, and every keyframe costs bytes.
    enc.set_gop(MAX_FRAMES as u32);
    // MP4 keeps the parameter sets in its header.
    enc.set_flags(codec::Flags::GLOBAL_HEADER);
    let mut opts = Dictionary::new();
    opts.set("preset", PRESET);
    opts.set("crf", CRF);
    opts.set("profile", "high");
    // One thread: the pictures are small and the ladder's encoders want the cores.
    opts.set("threads", "1");
    let encoder = enc
        .open_as_with(x264, opts)
        .map_err(internal("opening x264 (preview)"))?;
    let mux = FastStart::open(
        path,
        "mp4",
        Some((codec::Parameters::from(&encoder), TB)),
        None,
    )?;
    Ok((encoder, mux, (width, height)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offers pictures at `fps` from `start` for `secs`; returns the picture numbers kept.
    fn run(picker: &mut Picker, start: f64, fps: f64, secs: f64) -> Vec<u64> {
        let mut kept = Vec::new();
        let mut i = 0u64;
        loop {
            let t = start + i as f64 / fps;
            if t > start + secs {
                break;
            }
            // Timestamps as the decode thread makes them: on a 1/90000 clock.
            let t = (t * 90_000.0).round() / 90_000.0;
            match picker.pick(t) {
                Pick::Keep(n) => kept.push(n),
                Pick::Skip => {}
                Pick::Done => break,
            }
            i += 1;
        }
        kept
    }

    #[test]
    fn four_windows_at_half_of_thirty_fps_numbered_without_gaps() {
        let mut p = Picker::new(100.0, 30.0);
        assert_eq!(p.fps(), 15.0);
        let kept = run(&mut p, 3.0, 30.0, 100.0);
        assert_eq!(kept, (0..60).collect::<Vec<_>>());
    }

    #[test]
    fn pictures_come_from_each_window() {
        let mut p = Picker::new(50.0, 25.0);
        assert_eq!(p.fps(), 12.5);
        let mut from = Vec::new();
        for i in 0..50 * 25 {
            let t = f64::from(i) / 25.0;
            if let Pick::Keep(_) = p.pick(t) {
                from.push(t);
            }
        }
        for start in [10.0, 20.0, 30.0, 40.0] {
            let n = from
                .iter()
                .filter(|t| **t >= start && **t < start + 1.0)
                .count();
            assert_eq!(n, 13, "window at {start}: {from:?}");
        }
        assert_eq!(from.len(), 52);
    }

    #[test]
    fn short_and_unknown_durations_give_the_first_seconds() {
        for claimed in [2.0, 0.0, -5.0, f64::NAN, f64::INFINITY] {
            let mut p = Picker::new(claimed, 24.0);
            let kept = run(&mut p, 0.0, 24.0, 10.0);
            // 4 s at 12 fps.
            assert_eq!(kept, (0..48).collect::<Vec<_>>(), "claimed {claimed}");
        }
    }

    #[test]
    fn lies_and_floods_stay_within_the_cap() {
        // A file claiming 1 s that runs for an hour at 1000 fps, timestamps jumping back.
        let mut p = Picker::new(1.0, 1000.0);
        let mut kept = 0;
        for i in 0..3_600_000u64 {
            let t = (i % 7_000) as f64 / 1000.0 + (i / 7_000) as f64 * 0.5;
            match p.pick(t) {
                Pick::Keep(_) => kept += 1,
                Pick::Skip => {}
                Pick::Done => break,
            }
        }
        assert!(kept <= MAX_FRAMES, "{kept}");
        // A claimed rate of nonsense still gives a sane clock.
        for fps in [0.0, -1.0, f64::NAN, 1e-9, 1e12] {
            let p = Picker::new(30.0, fps);
            assert!(
                (MIN_FPS..=MAX_FPS).contains(&p.fps()),
                "{fps} → {}",
                p.fps()
            );
        }
        // Numbers only grow, whatever the timestamps do.
        let mut p = Picker::new(20.0, 30.0);
        let mut last = None;
        for t in [
            0.0,
            4.0,
            4.1,
            3.9,
            8.5,
            4.2,
            8.6,
            8.6,
            12.0,
            f64::NAN,
            16.2,
            2.0,
        ] {
            if let Pick::Keep(n) = p.pick(t) {
                assert!(last.is_none_or(|l| n > l), "{n} after {last:?}");
                last = Some(n);
            }
        }
        // Each window's first picture follows the last window's last.
        assert_eq!(last, Some(6));
    }

    #[test]
    fn sizes_fit_keep_their_shape_and_never_grow() {
        assert_eq!(preview_size(426, 240), (320, 180));
        assert_eq!(preview_size(1920, 1080), (320, 180));
        assert_eq!(preview_size(240, 426), (180, 320));
        assert_eq!(preview_size(360, 640), (180, 320));
        assert_eq!(preview_size(320, 320), (320, 320));
        assert_eq!(preview_size(160, 90), (160, 90));
        assert_eq!(preview_size(4000, 2), (320, 2));
        assert_eq!(preview_size(0, 0), (2, 2));
    }
}
