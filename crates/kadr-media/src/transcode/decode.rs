//! Demux and decode: pictures to the cascade, encoded audio to every rung, and the limits
//! held on what is decoded.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::SyncSender;

use ffmpeg::format::Pixel;
use ffmpeg::{Rational, codec, filter, frame, picture};
use ffmpeg_next as ffmpeg;

use crate::MediaError;
use crate::colour::{Colour, Conversion};
use crate::probe::{Limits, Probe};

use super::audio::AudioChain;
use super::graph::video_filter;
use super::keyframes::KeyframeClock;
use super::{Settings, ToCascade, ToEncoder, undecodable};

/// Demuxes and decodes; sends pictures to the cascade and encoded audio to every rung.
/// Returns where the media ends, in seconds from its first picture.
pub(super) fn decode(
    input: &Path,
    probe: &Probe,
    settings: &Settings,
    cascade: &SyncSender<ToCascade>,
    encoders: &[SyncSender<ToEncoder>],
    cancel: &Arc<AtomicBool>,
    progress: &(dyn Fn(f64) + Sync),
) -> Result<f64, MediaError> {
    // The interrupt callback lets a cancel stop FFmpeg even inside a blocking read.
    let ictx = crate::input::open(input, Some(Arc::clone(cancel)));
    let mut ictx = ictx?;
    let limits = &settings.limits;
    let vindex = probe.video.index;
    let vstream = ictx
        .stream(vindex)
        .ok_or_else(|| MediaError::Internal("the probed video stream is gone".to_owned()))?;
    let vtb = vstream.time_base();
    let mut vdec = crate::input::open_decoder(vstream.parameters(), limits.max_pixels, true)?
        .video()
        .map_err(|e| {
            MediaError::input(
                "unsupported_codec",
                format!("The video cannot be decoded: {e}"),
            )
        })?;

    let mut audio = match &probe.audio {
        Some(a) => match AudioChain::new(&ictx, a.index, settings.audio_kbps, limits.max_pixels) {
            Ok(chain) => Some(chain),
            Err(e) => {
                tracing::warn!(error = %e, "audio cannot be decoded; the ladder will be silent");
                None
            }
        },
        None => None,
    };
    let audio_params = audio
        .as_ref()
        .map(|a| (codec::Parameters::from(&a.encoder), a.encoder.time_base()));
    for tx in encoders {
        let _ = tx.send(ToEncoder::Start {
            audio: audio_params.clone(),
        });
    }

    let mut video = VideoPath {
        keys: KeyframeClock::new(settings.gop_secs, settings.first_segment_secs),
        tb: vtb,
        rotation: probe.video.rotation,
        stream_colour: probe.video.colour,
        fps: if probe.video.fps > 0.0 {
            probe.video.fps
        } else {
            25.0
        },
        filter: None,
        cascade,
        first_secs: None,
        last_secs: 0.0,
        frames: 0,
        guard: DecodedLimits::new(limits),
    };
    let mut bad_packets = 0u64;
    for (stream, packet) in ictx.packets() {
        if cancel.load(Ordering::Relaxed) {
            return Err(MediaError::Cancelled);
        }
        if stream.index() == vindex {
            if vdec.send_packet(&packet).is_err() {
                // A decoder refusing a picture over `max_pixels` leaves its size behind.
                video.guard.pixels(vdec.width(), vdec.height())?;
                bad_packets += 1;
                continue;
            }
            video.drain(&mut vdec)?;
            progress(video.last_secs);
        } else if let Some(a) = audio.as_mut()
            && stream.index() == a.index
        {
            a.push(&packet, encoders)?;
            video.guard.audio(a.end_secs)?;
        }
    }
    let _ = vdec.send_eof();
    video.drain(&mut vdec)?;
    video.flush()?;
    if let Some(a) = audio.as_mut() {
        a.finish(encoders)?;
    }
    if video.frames == 0 {
        return Err(MediaError::input(
            "undecodable",
            format!("No picture could be decoded ({bad_packets} damaged packets)"),
        ));
    }
    let seen = video.last_secs - video.first_secs.unwrap_or(0.0);
    if crate::probe::truncation_point(probe.duration_secs).is_some_and(|at| seen < at) {
        return Err(MediaError::input(
            "truncated",
            format!(
                "The file ends early: pictures stop at {seen:.1} s of {:.1} s",
                probe.duration_secs
            ),
        ));
    }
    progress(video.last_secs);
    let first = video.first_secs.unwrap_or(0.0);
    let frame = if probe.video.fps > 0.0 {
        1.0 / probe.video.fps
    } else {
        0.0
    };
    let audio_end = audio.as_ref().map_or(0.0, |a| a.end_secs - first);
    Ok((seen + frame).max(audio_end))
}

/// Decoded pictures on their way to the cascade: filtered if needed, timestamps moved to the
/// encoders' 1/90000 clock, keyframes marked.
pub(super) struct VideoPath<'a> {
    keys: KeyframeClock,
    tb: Rational,
    rotation: u32,
    /// The colour the stream declares, for pictures that leave theirs unspecified.
    stream_colour: Colour,
    /// The stream's frame rate, to time pictures that come without timestamps.
    fps: f64,
    /// Colour conversion, rotation and conversion, built for the shape and colour of the
    /// pictures it is fed; rebuilt when that changes mid-stream (phones do this).
    filter: Option<(Shape, filter::Graph)>,
    cascade: &'a SyncSender<ToCascade>,
    first_secs: Option<f64>,
    last_secs: f64,
    frames: u64,
    guard: DecodedLimits,
}

/// What a filter graph's input is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Shape {
    width: u32,
    height: u32,
    format: Pixel,
    colour: Colour,
}

/// The limits, held on what is decoded: pictures (size, count, rate, timestamps) and audio.
pub(super) struct DecodedLimits {
    limits: Limits,
    max_frames: u64,
    /// Pictures seen in the current two-second window of media time.
    window_start: Option<f64>,
    window_frames: u64,
    max_window_frames: u64,
}

/// The window the frame rate is held over.
pub(super) const RATE_WINDOW_SECS: f64 = 2.0;

impl DecodedLimits {
    pub(super) fn new(limits: &Limits) -> Self {
        let max_frames = (limits.max_duration_secs * limits.max_fps).ceil().max(1.0) as u64;
        // Variable frame rates burst a little over their average.
        let max_window_frames = (limits.max_fps * RATE_WINDOW_SECS * 1.25).ceil() as u64 + 8;
        DecodedLimits {
            limits: limits.clone(),
            max_frames,
            window_start: None,
            window_frames: 0,
            max_window_frames,
        }
    }

    pub(super) fn pixels(&self, width: u32, height: u32) -> Result<(), MediaError> {
        let pixels = u64::from(width) * u64::from(height);
        if pixels > self.limits.max_pixels {
            return Err(MediaError::input(
                "too_many_pixels",
                format!(
                    "A picture in the file is {width}×{height}; at most {} pixels are accepted",
                    self.limits.max_pixels
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn too_long(&self) -> MediaError {
        MediaError::input(
            "too_long",
            format!(
                "The video lasts longer than {:.0} s, the most accepted",
                self.limits.max_duration_secs
            ),
        )
    }

    /// A picture at `secs`, `since_first` after the first, the `frames`-th.
    pub(super) fn picture(
        &mut self,
        secs: f64,
        since_first: f64,
        frames: u64,
    ) -> Result<(), MediaError> {
        if since_first > self.limits.max_duration_secs || frames > self.max_frames {
            return Err(self.too_long());
        }
        match self.window_start {
            Some(start) if secs >= start && secs < start + RATE_WINDOW_SECS => {
                self.window_frames += 1;
            }
            // Time moved on, or back: a new window.
            _ => {
                self.window_start = Some(secs);
                self.window_frames = 1;
            }
        }
        if self.window_frames > self.max_window_frames {
            return Err(MediaError::input(
                "too_many_frames_per_second",
                format!(
                    "The video has more than {:.0} frames per second",
                    self.limits.max_fps
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn audio(&self, end_secs: f64) -> Result<(), MediaError> {
        // A second of slack: audio may start a little before the pictures.
        if end_secs > self.limits.max_duration_secs + 1.0 {
            return Err(self.too_long());
        }
        Ok(())
    }
}

impl VideoPath<'_> {
    pub(super) fn drain(&mut self, dec: &mut ffmpeg::decoder::Video) -> Result<(), MediaError> {
        let mut decoded = frame::Video::empty();
        loop {
            match dec.receive_frame(&mut decoded) {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return Ok(());
                }
                Err(_) => {
                    self.guard.pixels(dec.width(), dec.height())?;
                    return Ok(());
                }
            }
            self.guard.pixels(decoded.width(), decoded.height())?;
            let pts = decoded.timestamp();
            decoded.set_pts(pts);
            // HDR is told by the picture's own tags, completed by the stream's.
            let colour = Colour::of_frame(&decoded).or(self.stream_colour);
            let shape = Shape {
                width: decoded.width(),
                height: decoded.height(),
                format: decoded.format(),
                colour,
            };
            let wanted = !self.rotation.is_multiple_of(360)
                || shape.format != Pixel::YUV420P
                || colour.conversion() != Conversion::None;
            if self
                .filter
                .as_ref()
                .is_some_and(|(s, _)| !wanted || *s != shape)
            {
                // The pictures changed shape: what the old graph holds goes first.
                self.flush()?;
                self.filter = None;
            }
            if wanted && self.filter.is_none() {
                let chain = colour.filter_chain();
                let graph = video_filter(&decoded, self.tb, self.rotation, chain.as_deref())?;
                self.filter = Some((shape, graph));
            }
            match self.filter.as_mut() {
                Some((_, graph)) => {
                    graph
                        .get("in")
                        .ok_or_else(|| MediaError::Internal("filter input missing".to_owned()))?
                        .source()
                        .add(&decoded)
                        .map_err(undecodable("filtering"))?;
                    self.drain_filter()?;
                }
                None => self.emit(std::mem::replace(&mut decoded, frame::Video::empty()))?,
            }
        }
    }

    pub(super) fn drain_filter(&mut self) -> Result<(), MediaError> {
        loop {
            let mut out = frame::Video::empty();
            let got = match self.filter.as_mut().and_then(|(_, g)| g.get("out")) {
                Some(mut sink) => sink.sink().frame(&mut out),
                None => return Ok(()),
            };
            match got {
                Ok(()) => {}
                Err(ffmpeg::Error::Eof) => return Ok(()),
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::EAGAIN => {
                    return Ok(());
                }
                // Memory running out is ours (retried), not the file's.
                Err(ffmpeg::Error::Other { errno }) if errno == ffmpeg::util::error::ENOMEM => {
                    return Err(MediaError::Internal("filtering: out of memory".to_owned()));
                }
                // The graph runs its filters here: zscale refusing the pictures (a file that
                // claims a colour its pictures cannot be converted from) ends the transcode
                // as the input's fault rather than dropping every picture.
                Err(e) => return Err(undecodable("filtering")(e)),
            }
            self.emit(out)?;
        }
    }

    pub(super) fn flush(&mut self) -> Result<(), MediaError> {
        if let Some(mut src) = self.filter.as_mut().and_then(|(_, g)| g.get("in")) {
            let _ = src.source().flush();
        }
        self.drain_filter()
    }

    pub(super) fn emit(&mut self, mut f: frame::Video) -> Result<(), MediaError> {
        // A raw elementary stream carries no timestamps: its pictures follow one another at
        // the frame rate.
        let secs = match f.pts() {
            Some(p) => p as f64 * f64::from(self.tb),
            None if self.frames == 0 => 0.0,
            None => self.last_secs + 1.0 / self.fps,
        };
        let first = *self.first_secs.get_or_insert(secs);
        self.guard.picture(secs, secs - first, self.frames + 1)?;
        f.set_pts(Some((secs * 90_000.0).round() as i64));
        f.set_kind(if self.keys.is_key(secs) {
            picture::Type::I
        } else {
            picture::Type::None
        });
        self.last_secs = secs;
        self.frames += 1;
        self.cascade
            .send(ToCascade::Video(f))
            .map_err(|_| MediaError::Internal("the scaler stopped".to_owned()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::mpsc::sync_channel;

    use ffmpeg::color::{Primaries, Range, Space, TransferCharacteristic};

    use super::*;

    fn pq_picture() -> frame::Video {
        let mut f = frame::Video::new(Pixel::YUV420P10LE, 64, 36);
        f.set_color_primaries(Primaries::BT2020);
        f.set_color_transfer_characteristic(TransferCharacteristic::SMPTE2084);
        f.set_color_space(Space::BT2020NCL);
        f.set_color_range(Range::MPEG);
        f.set_pts(Some(0));
        f
    }

    fn path(cascade: &SyncSender<ToCascade>, stream_colour: Colour) -> VideoPath<'_> {
        VideoPath {
            keys: KeyframeClock::new(2.0, 1.0),
            tb: Rational::new(1, 25),
            rotation: 0,
            stream_colour,
            fps: 25.0,
            filter: None,
            cascade,
            first_secs: None,
            last_secs: 0.0,
            frames: 0,
            guard: DecodedLimits::new(&Limits::default()),
        }
    }

    #[test]
    fn a_pq_picture_comes_out_tone_mapped_and_tagged_bt709() {
        crate::init().unwrap();
        let (tx, rx) = sync_channel(4);
        let mut video = path(&tx, Colour::of_frame(&pq_picture()));
        let pic = pq_picture();
        let chain = Colour::of_frame(&pic).filter_chain();
        let graph = video_filter(&pic, video.tb, 0, chain.as_deref()).unwrap();
        video.filter = Some((
            Shape {
                width: 64,
                height: 36,
                format: pic.format(),
                colour: Colour::of_frame(&pic),
            },
            graph,
        ));
        let (_, g) = video.filter.as_mut().unwrap();
        g.get("in").unwrap().source().add(&pic).unwrap();
        video.flush().unwrap();
        let Ok(ToCascade::Video(out)) = rx.try_recv() else {
            panic!("no picture came out");
        };
        assert_eq!(out.format(), Pixel::YUV420P);
        assert_eq!(Colour::of_frame(&out), Colour::BT709);
    }

    #[test]
    fn a_graph_failing_on_the_pictures_is_the_inputs_fault_not_silence() {
        crate::init().unwrap();
        let (tx, _rx) = sync_channel(4);
        let mut video = path(&tx, Colour::BT709);
        // A picture that says nothing of its colour, into a zscale told only its output's:
        // zimg finds no path between the two when the picture arrives, not when the graph
        // is built, and that error surfaces at the sink.
        let mut pic = frame::Video::new(Pixel::YUV420P10LE, 64, 36);
        pic.set_pts(Some(0));
        let graph = video_filter(
            &pic,
            video.tb,
            0,
            Some("zscale=t=linear:p=bt2020,format=gbrpf32le"),
        )
        .unwrap();
        video.filter = Some((
            Shape {
                width: 64,
                height: 36,
                format: pic.format(),
                colour: Colour::of_frame(&pic),
            },
            graph,
        ));
        let (_, g) = video.filter.as_mut().unwrap();
        g.get("in").unwrap().source().add(&pic).unwrap();
        match video.drain_filter() {
            Err(MediaError::Input { code, message }) => {
                assert_eq!(code, "undecodable");
                assert!(message.contains("filtering"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
