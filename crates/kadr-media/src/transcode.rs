//! One decode, every rung in one pass: the decoder thread feeds a scaler cascade (each rung
//! scaled from the next larger one), each rung has its own encoder thread and HLS muxer (fMP4
//! segments, audio encoded once and muxed into every rung), all joined by bounded channels.
//! Keyframes are forced at the same timestamps in every rung (every `gop_secs`), so segments
//! line up across the ladder.
//!
//! ```text
//! demux+decode ─frames─▶ cascade (rotate/convert, scale 1080→720→…) ─▶ encoder+muxer per rung
//!      └──── AAC packets (encoded once) ─────────────────────────────────▶ every muxer
//! ```

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use ffmpeg::format::Pixel;
use ffmpeg::{Dictionary, Packet, Rational, codec, filter, frame, picture};
use ffmpeg_next as ffmpeg;

use crate::MediaError;
use crate::hls::{RungOutput, read_rung_dir};
use crate::images::{ImageTap, Images, Pictures};
use crate::plan::Rung;
use crate::probe::{Limits, Probe};

/// Encoding settings shared by every rung.
#[derive(Debug, Clone)]
pub struct Settings {
    pub segment_secs: f64,
    /// The first two segments are this long (keyframes are forced at their ends), so a player
    /// can start sooner; at most `segment_secs`.
    pub first_segment_secs: f64,
    pub gop_secs: f64,
    pub preset: String,
    pub crf: u8,
    pub audio_kbps: u32,
    /// Checked on what is decoded, whatever the headers claimed.
    pub limits: Limits,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            segment_secs: 4.0,
            first_segment_secs: 1.0,
            gop_secs: 2.0,
            preset: "veryfast".to_owned(),
            crf: 23,
            audio_kbps: 128,
            limits: Limits::default(),
        }
    }
}

/// How many frames may wait between two stages.
const QUEUE: usize = 8;

enum ToEncoder {
    Start {
        audio: Option<(codec::Parameters, Rational)>,
    },
    Video(frame::Video),
    Audio(Packet),
    End,
}

enum ToCascade {
    Video(frame::Video),
    End,
}

fn internal(what: &str) -> impl Fn(ffmpeg::Error) -> MediaError + '_ {
    move |e| MediaError::Internal(format!("{what}: {e}"))
}

/// Decoding, filtering and scaling fail on what the input holds: its fault, never retried.
fn undecodable(what: &str) -> impl Fn(ffmpeg::Error) -> MediaError + '_ {
    move |e| {
        MediaError::input(
            "undecodable",
            format!("The video cannot be decoded ({what}: {e})"),
        )
    }
}

/// What a transcode produced.
#[derive(Debug, Clone)]
pub struct Transcoded {
    pub rungs: Vec<RungOutput>,
    /// Poster and storyboard in `out_dir/images`, when any picture was seen.
    pub images: Option<Images>,
}

/// Transcodes `input` into `out_dir/<rung name>/` (init segment, media segments, FFmpeg's own
/// playlist) and `out_dir/images/`. Returns what each rung holds. `progress` gets the decoded position in seconds;
/// setting `cancel` stops the work with [`MediaError::Cancelled`].
pub fn transcode(
    input: &Path,
    probe: &Probe,
    rungs: &[Rung],
    settings: &Settings,
    out_dir: &Path,
    cancel: &Arc<AtomicBool>,
    progress: &(dyn Fn(f64) + Sync),
) -> Result<Transcoded, MediaError> {
    crate::init()?;
    if rungs.is_empty() {
        return Err(MediaError::Internal("no rungs to encode".to_owned()));
    }
    let mut enc_tx = Vec::new();
    let mut enc_rx = Vec::new();
    for _ in rungs {
        let (tx, rx) = sync_channel::<ToEncoder>(QUEUE * 4);
        enc_tx.push(tx);
        enc_rx.push(rx);
    }
    let (cascade_tx, cascade_rx) = sync_channel::<ToCascade>(QUEUE);

    std::thread::scope(|scope| {
        let mut encoders = Vec::new();
        for ((rung, rx), i) in rungs.iter().zip(enc_rx).zip(0..) {
            let dir = out_dir.join(&rung.name);
            let fps = probe.video.fps;
            encoders.push(
                std::thread::Builder::new()
                    .name(format!("kadr-enc-{i}"))
                    .spawn_scoped(scope, move || encode_rung(rung, fps, settings, &dir, rx))
                    .map_err(|e| {
                        MediaError::Internal(format!("starting an encoder thread: {e}"))
                    })?,
            );
        }
        let cascade_senders = enc_tx.clone();
        let duration = probe.duration_secs;
        let cascade = std::thread::Builder::new()
            .name("kadr-scale".to_owned())
            .spawn_scoped(scope, move || {
                run_cascade(rungs, cascade_rx, &cascade_senders, ImageTap::new(duration))
            })
            .map_err(|e| MediaError::Internal(format!("starting the scaler thread: {e}")))?;

        let decoded = decode(
            input,
            probe,
            settings,
            &cascade_tx,
            &enc_tx,
            cancel,
            progress,
        );
        // Whatever happened, let the other stages finish.
        let _ = cascade_tx.send(ToCascade::End);
        drop(cascade_tx);
        drop(enc_tx);
        let cascaded = cascade
            .join()
            .map_err(|_| MediaError::Internal("the scaler thread panicked".to_owned()))?;
        let mut outputs = Vec::new();
        let mut first_err = None;
        for e in encoders {
            match e.join() {
                Ok(Ok(out)) => outputs.push(out),
                Ok(Err(err)) => {
                    first_err.get_or_insert(err);
                }
                Err(_) => {
                    first_err.get_or_insert(MediaError::Internal(
                        "an encoder thread panicked".to_owned(),
                    ));
                }
            }
        }
        let end_secs = decoded?;
        let pictures = cascaded?;
        if let Some(e) = first_err {
            return Err(e);
        }
        // The muxer times the last segment up to its last picture; it lasts to the end of
        // the media (the last picture's display time, or the audio if longer).
        for o in &mut outputs {
            let before: f64 = o.segments.iter().rev().skip(1).map(|s| s.duration).sum();
            if let Some(last) = o.segments.last_mut()
                && end_secs > before
            {
                last.duration = end_secs - before;
            }
        }
        let images = pictures.finish(&out_dir.join("images"), end_secs)?;
        Ok(Transcoded {
            rungs: outputs,
            images,
        })
    })
}

/// Demuxes and decodes; sends pictures to the cascade and encoded audio to every rung.
/// Returns where the media ends, in seconds from its first picture.
fn decode(
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
struct VideoPath<'a> {
    keys: KeyframeClock,
    tb: Rational,
    rotation: u32,
    /// The stream's frame rate, to time pictures that come without timestamps.
    fps: f64,
    /// Rotation and conversion, built for the shape of the pictures it is fed; rebuilt when
    /// that changes mid-stream (phones do this).
    filter: Option<(Shape, filter::Graph)>,
    cascade: &'a SyncSender<ToCascade>,
    first_secs: Option<f64>,
    last_secs: f64,
    frames: u64,
    guard: DecodedLimits,
}

/// What a filter graph's input is built for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Shape {
    width: u32,
    height: u32,
    format: Pixel,
}

/// The limits, held on what is decoded: pictures (size, count, rate, timestamps) and audio.
struct DecodedLimits {
    limits: Limits,
    max_frames: u64,
    /// Pictures seen in the current two-second window of media time.
    window_start: Option<f64>,
    window_frames: u64,
    max_window_frames: u64,
}

/// The window the frame rate is held over.
const RATE_WINDOW_SECS: f64 = 2.0;

impl DecodedLimits {
    fn new(limits: &Limits) -> Self {
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

    fn pixels(&self, width: u32, height: u32) -> Result<(), MediaError> {
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

    fn too_long(&self) -> MediaError {
        MediaError::input(
            "too_long",
            format!(
                "The video lasts longer than {:.0} s, the most accepted",
                self.limits.max_duration_secs
            ),
        )
    }

    /// A picture at `secs`, `since_first` after the first, the `frames`-th.
    fn picture(&mut self, secs: f64, since_first: f64, frames: u64) -> Result<(), MediaError> {
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

    fn audio(&self, end_secs: f64) -> Result<(), MediaError> {
        // A second of slack: audio may start a little before the pictures.
        if end_secs > self.limits.max_duration_secs + 1.0 {
            return Err(self.too_long());
        }
        Ok(())
    }
}

impl VideoPath<'_> {
    fn drain(&mut self, dec: &mut ffmpeg::decoder::Video) -> Result<(), MediaError> {
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
            let shape = Shape {
                width: decoded.width(),
                height: decoded.height(),
                format: decoded.format(),
            };
            let wanted = !self.rotation.is_multiple_of(360) || shape.format != Pixel::YUV420P;
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
                self.filter = Some((shape, video_filter(&decoded, self.tb, self.rotation)?));
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

    fn drain_filter(&mut self) -> Result<(), MediaError> {
        loop {
            let mut out = frame::Video::empty();
            let got = match self.filter.as_mut().and_then(|(_, g)| g.get("out")) {
                Some(mut sink) => sink.sink().frame(&mut out).is_ok(),
                None => false,
            };
            if !got {
                return Ok(());
            }
            self.emit(out)?;
        }
    }

    fn flush(&mut self) -> Result<(), MediaError> {
        if let Some(mut src) = self.filter.as_mut().and_then(|(_, g)| g.get("in")) {
            let _ = src.source().flush();
        }
        self.drain_filter()
    }

    fn emit(&mut self, mut f: frame::Video) -> Result<(), MediaError> {
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

/// Rotation and conversion to 8-bit 4:2:0, when the decoded pictures need them.
fn video_filter(
    pic: &frame::Video,
    tb: Rational,
    rotation: u32,
) -> Result<filter::Graph, MediaError> {
    let mut steps: Vec<&str> = match rotation {
        90 => vec!["transpose=clock"],
        180 => vec!["hflip", "vflip"],
        270 => vec!["transpose=cclock"],
        _ => vec![],
    };
    if pic.format() != Pixel::YUV420P || steps.is_empty() {
        steps.push("format=yuv420p");
    }
    let mut graph = filter::Graph::new();
    let aspect = pic.aspect_ratio();
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
        pic.width(),
        pic.height(),
        pic.format()
            .descriptor()
            .map(|d| d.name())
            .unwrap_or("yuv420p"),
        tb.numerator(),
        tb.denominator().max(1),
        aspect.numerator().max(1),
        aspect.denominator().max(1)
    );
    let buffer = filter::find("buffer")
        .ok_or_else(|| MediaError::Internal("no buffer filter".to_owned()))?;
    let sink = filter::find("buffersink")
        .ok_or_else(|| MediaError::Internal("no buffersink filter".to_owned()))?;
    graph
        .add(&buffer, "in", &args)
        .map_err(internal("video filter input"))?;
    graph
        .add(&sink, "out", "")
        .map_err(internal("video filter output"))?;
    graph
        .output("in", 0)
        .and_then(|p| p.input("out", 0))
        .and_then(|p| p.parse(&steps.join(",")))
        .map_err(internal("video filter graph"))?;
    graph
        .validate()
        .map_err(undecodable("video filter graph"))?;
    Ok(graph)
}

/// Forces a keyframe at every multiple of the GOP length, by timestamp, so every rung has its
/// keyframes at the same times whatever the frame rate; also where the muxer makes its first two
/// cuts (`first_segment`, twice that), which need not lie on that grid.
struct KeyframeClock {
    every: f64,
    /// Offsets from the first picture still to be forced off the grid, ascending.
    extra: Vec<f64>,
    start: Option<f64>,
    next: f64,
}

impl KeyframeClock {
    fn new(every: f64, first_segment: f64) -> Self {
        let mut extra: Vec<f64> = [first_segment, first_segment * 2.0]
            .into_iter()
            .filter(|e| *e > 0.0 && ((e / every) - (e / every).round()).abs() > 1e-6)
            .collect();
        extra.dedup();
        KeyframeClock {
            every,
            extra,
            start: None,
            next: 0.0,
        }
    }

    fn is_key(&mut self, secs: f64) -> bool {
        let Some(start) = self.start else {
            self.start = Some(secs);
            self.next = secs + self.every;
            return true;
        };
        let due = self.extra.len();
        self.extra.retain(|e| secs < start + e - 1e-3);
        let mut key = self.extra.len() != due;
        while secs >= self.next - 1e-3 {
            self.next += self.every;
            key = true;
        }
        key
    }
}

/// Audio: decoded, resampled to 48 kHz stereo in frames of the encoder's size, encoded to
/// AAC once.
struct AudioChain {
    index: usize,
    decoder: ffmpeg::decoder::Audio,
    filter: filter::Graph,
    encoder: ffmpeg::encoder::Audio,
    /// End of the last encoded audio, in seconds.
    end_secs: f64,
}

impl AudioChain {
    fn new(
        ictx: &ffmpeg::format::context::Input,
        index: usize,
        kbps: u32,
        max_pixels: u64,
    ) -> Result<AudioChain, MediaError> {
        let stream = ictx
            .stream(index)
            .ok_or_else(|| MediaError::Internal("the probed audio stream is gone".to_owned()))?;
        let in_tb = stream.time_base();
        let mut decoder = crate::input::open_decoder(stream.parameters(), max_pixels, false)?
            .audio()
            .map_err(internal("audio decoder"))?;
        decoder
            .set_parameters(stream.parameters())
            .map_err(internal("audio decoder"))?;
        let aac = ffmpeg::encoder::find(codec::Id::AAC)
            .ok_or_else(|| MediaError::Internal("no AAC encoder".to_owned()))?;
        let mut enc = codec::Context::new_with_codec(aac)
            .encoder()
            .audio()
            .map_err(internal("AAC encoder"))?;
        enc.set_rate(48_000);
        enc.set_channel_layout(ffmpeg::ChannelLayout::STEREO);
        enc.set_format(ffmpeg::format::Sample::F32(
            ffmpeg::format::sample::Type::Planar,
        ));
        enc.set_bit_rate(kbps as usize * 1000);
        enc.set_time_base((1, 48_000));
        enc.set_flags(codec::Flags::GLOBAL_HEADER);
        let encoder = enc
            .open_as(aac)
            .map_err(internal("opening the AAC encoder"))?;

        let layout = if decoder.channel_layout().is_empty() {
            ffmpeg::ChannelLayout::default(i32::from(decoder.channels()))
        } else {
            decoder.channel_layout()
        };
        let args = format!(
            "time_base={}/{}:sample_rate={}:sample_fmt={}:channel_layout=0x{:x}",
            in_tb.numerator(),
            in_tb.denominator().max(1),
            decoder.rate(),
            decoder.format().name(),
            layout.bits()
        );
        let mut graph = filter::Graph::new();
        let abuffer = filter::find("abuffer")
            .ok_or_else(|| MediaError::Internal("no abuffer filter".to_owned()))?;
        let asink = filter::find("abuffersink")
            .ok_or_else(|| MediaError::Internal("no abuffersink filter".to_owned()))?;
        graph
            .add(&abuffer, "in", &args)
            .map_err(internal("audio filter input"))?;
        graph
            .add(&asink, "out", "")
            .map_err(internal("audio filter output"))?;
        graph
            .output("in", 0)
            .and_then(|p| p.input("out", 0))
            .and_then(|p| {
                p.parse("aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo")
            })
            .map_err(internal("audio filter graph"))?;
        graph.validate().map_err(internal("audio filter graph"))?;
        if let Some(mut out) = graph.get("out") {
            out.sink().set_frame_size(encoder.frame_size());
        }
        Ok(AudioChain {
            index,
            decoder,
            filter: graph,
            encoder,
            end_secs: 0.0,
        })
    }

    fn push(
        &mut self,
        packet: &Packet,
        encoders: &[SyncSender<ToEncoder>],
    ) -> Result<(), MediaError> {
        if self.decoder.send_packet(packet).is_err() {
            // A damaged audio packet: skip it, as players do.
            return Ok(());
        }
        self.drain_decoder(encoders)
    }

    fn drain_decoder(&mut self, encoders: &[SyncSender<ToEncoder>]) -> Result<(), MediaError> {
        let mut f = frame::Audio::empty();
        while self.decoder.receive_frame(&mut f).is_ok() {
            let ts = f.timestamp();
            f.set_pts(ts);
            if let Some(mut src) = self.filter.get("in") {
                src.source().add(&f).map_err(internal("audio filtering"))?;
            }
            self.drain_filter(encoders)?;
        }
        Ok(())
    }

    fn drain_filter(&mut self, encoders: &[SyncSender<ToEncoder>]) -> Result<(), MediaError> {
        let mut f = frame::Audio::empty();
        while self
            .filter
            .get("out")
            .is_some_and(|mut o| o.sink().frame(&mut f).is_ok())
        {
            self.encoder
                .send_frame(&f)
                .map_err(internal("AAC encoding"))?;
            self.drain_encoder(encoders)?;
        }
        Ok(())
    }

    fn drain_encoder(&mut self, encoders: &[SyncSender<ToEncoder>]) -> Result<(), MediaError> {
        let mut p = Packet::empty();
        while self.encoder.receive_packet(&mut p).is_ok() {
            if let Some(pts) = p.pts() {
                self.end_secs = self.end_secs.max((pts + p.duration()) as f64 / 48_000.0);
            }
            for tx in encoders {
                let _ = tx.send(ToEncoder::Audio(p.clone()));
            }
        }
        Ok(())
    }

    fn finish(&mut self, encoders: &[SyncSender<ToEncoder>]) -> Result<(), MediaError> {
        let _ = self.decoder.send_eof();
        self.drain_decoder(encoders)?;
        if let Some(mut src) = self.filter.get("in") {
            let _ = src.source().flush();
        }
        self.drain_filter(encoders)?;
        let _ = self.encoder.send_eof();
        self.drain_encoder(encoders)
    }
}

/// The scaler cascade: rung 0 from the decoded picture, each next rung from the previous one.
fn run_cascade(
    rungs: &[Rung],
    rx: Receiver<ToCascade>,
    encoders: &[SyncSender<ToEncoder>],
    mut tap: ImageTap,
) -> Result<Pictures, MediaError> {
    let result = cascade_loop(rungs, rx, encoders, &mut tap);
    for tx in encoders {
        let _ = tx.send(ToEncoder::End);
    }
    result.map(|()| tap.into_pictures())
}

fn cascade_loop(
    rungs: &[Rung],
    rx: Receiver<ToCascade>,
    encoders: &[SyncSender<ToEncoder>],
    tap: &mut ImageTap,
) -> Result<(), MediaError> {
    let mut scalers: Vec<Option<ffmpeg::software::scaling::Context>> =
        rungs.iter().map(|_| None).collect();
    let last = rungs.len() - 1;
    // The largest rung's pictures are offered for the poster, the smallest's for the
    // storyboard, on their way to the encoders.
    let mut send = |rung: usize, f: frame::Video| {
        let secs = f.pts().unwrap_or(0) as f64 / 90_000.0;
        if rung == 0 {
            tap.offer_poster(secs, &f)?;
        }
        if rung == last {
            tap.offer_tile(secs, &f)?;
        }
        encoders[rung]
            .send(ToEncoder::Video(f))
            .map_err(|_| MediaError::Internal("an encoder stopped".to_owned()))
    };
    while let Ok(ToCascade::Video(decoded)) = rx.recv() {
        // `current` is the picture the next rung is made from; `owner` the rung it belongs to.
        let mut current = decoded;
        let mut owner: Option<usize> = None;
        for (i, rung) in rungs.iter().enumerate() {
            let fits = current.width() == rung.width
                && current.height() == rung.height
                && current.format() == Pixel::YUV420P;
            if fits {
                if let Some(o) = owner {
                    send(o, current.clone())?;
                }
                owner = Some(i);
                continue;
            }
            // A picture of another size than the last (a resolution change mid-stream) gets
            // a scaler of its own: every rung keeps its planned size.
            let stale = scalers[i].as_ref().is_some_and(|s| {
                let input = s.input();
                input.width != current.width()
                    || input.height != current.height()
                    || input.format != current.format()
            });
            if stale {
                scalers[i] = None;
            }
            let scaler = match &mut scalers[i] {
                Some(s) => s,
                slot => slot.insert(
                    ffmpeg::software::scaling::Context::get(
                        current.format(),
                        current.width(),
                        current.height(),
                        Pixel::YUV420P,
                        rung.width,
                        rung.height,
                        ffmpeg::software::scaling::Flags::BICUBIC,
                    )
                    .map_err(undecodable("creating a scaler"))?,
                ),
            };
            let mut scaled = frame::Video::new(Pixel::YUV420P, rung.width, rung.height);
            scaler
                .run(&current, &mut scaled)
                .map_err(undecodable("scaling"))?;
            scaled.set_pts(current.pts());
            scaled.set_kind(current.kind());
            // The larger picture goes to its encoder once the smaller one is made from it.
            if let Some(o) = owner {
                send(o, current)?;
            }
            current = scaled;
            owner = Some(i);
        }
        if let Some(o) = owner {
            send(o, current)?;
        }
    }
    Ok(())
}

/// One rung: x264 and an HLS (fMP4) muxer in `dir`.
fn encode_rung(
    rung: &Rung,
    fps: f64,
    settings: &Settings,
    dir: &Path,
    rx: Receiver<ToEncoder>,
) -> Result<RungOutput, MediaError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| MediaError::Internal(format!("creating {}: {e}", dir.display())))?;
    let audio = match rx.recv() {
        Ok(ToEncoder::Start { audio }) => audio,
        Ok(_) | Err(_) => return Err(MediaError::Internal("the decoder never started".to_owned())),
    };
    // FFmpeg's own playlist is not used (segments are timed from their fragments); a list of
    // one keeps `hls_init_time` in effect only for the first segments.
    let playlist = dir.join("ffmpeg.m3u8");
    let mut octx =
        ffmpeg::format::output_as(&playlist, "hls").map_err(internal("creating the HLS muxer"))?;

    let x264 = ffmpeg::encoder::find_by_name("libx264")
        .ok_or_else(|| MediaError::Internal("FFmpeg has no libx264 encoder".to_owned()))?;
    let mut enc = codec::Context::new_with_codec(x264)
        .encoder()
        .video()
        .map_err(internal("x264"))?;
    let tb = Rational::new(1, 90_000);
    enc.set_width(rung.width);
    enc.set_height(rung.height);
    enc.set_format(Pixel::YUV420P);
    enc.set_time_base(tb);
    if fps > 0.0 {
        enc.set_frame_rate(Some(Rational::from(fps)));
    }
    // Keyframes come from the forced pictures; the natural interval is kept out of their way.
    enc.set_gop(((fps.max(1.0) * settings.gop_secs * 4.0).round() as u32).max(1));
    enc.set_flags(codec::Flags::GLOBAL_HEADER);
    let mut opts = Dictionary::new();
    opts.set("preset", &settings.preset);
    opts.set("crf", &settings.crf.to_string());
    opts.set("profile", "high");
    opts.set("maxrate", &format!("{}k", rung.max_kbps));
    opts.set("bufsize", &format!("{}k", rung.max_kbps * 2));
    opts.set("sc_threshold", "0");
    opts.set("forced-idr", "1");
    let mut encoder = enc
        .open_as_with(x264, opts)
        .map_err(internal("opening x264"))?;

    let vstream = {
        let mut s = octx
            .add_stream(x264)
            .map_err(internal("adding the video stream"))?;
        s.set_parameters(&encoder);
        s.set_time_base(tb);
        s.index()
    };
    let astream = match &audio {
        Some((params, atb)) => {
            let mut s = octx
                .add_stream(ffmpeg::encoder::find(codec::Id::AAC))
                .map_err(internal("adding the audio stream"))?;
            s.set_parameters(params.clone());
            s.set_time_base(*atb);
            Some((s.index(), *atb))
        }
        None => None,
    };
    let mut mux = Dictionary::new();
    mux.set("hls_time", &settings.segment_secs.to_string());
    mux.set("hls_segment_type", "fmp4");
    mux.set("hls_list_size", "1");
    if settings.first_segment_secs > 0.0 && settings.first_segment_secs < settings.segment_secs {
        mux.set("hls_init_time", &settings.first_segment_secs.to_string());
    }
    mux.set("hls_flags", "independent_segments+temp_file");
    mux.set("hls_fmp4_init_filename", "init.mp4");
    mux.set(
        "hls_segment_filename",
        &dir.join("seg_%05d.m4s").to_string_lossy(),
    );
    octx.write_header_with(mux)
        .map_err(internal("writing the HLS header"))?;
    let out_vtb = octx
        .stream(vstream)
        .map(|s| s.time_base())
        .ok_or_else(|| MediaError::Internal("video stream vanished".to_owned()))?;
    let out_atb = astream.and_then(|(i, _)| octx.stream(i).map(|s| s.time_base()));

    let mut packet = Packet::empty();
    let mut write_video = |encoder: &mut ffmpeg::encoder::Video,
                           octx: &mut ffmpeg::format::context::Output| {
        while encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(vstream);
            packet.rescale_ts(tb, out_vtb);
            packet
                .write_interleaved(octx)
                .map_err(internal("writing video"))?;
        }
        Ok::<(), MediaError>(())
    };
    loop {
        match rx.recv() {
            Ok(ToEncoder::Video(f)) => {
                encoder.send_frame(&f).map_err(internal("x264"))?;
                write_video(&mut encoder, &mut octx)?;
            }
            Ok(ToEncoder::Audio(mut p)) => {
                if let (Some((index, atb)), Some(out)) = (astream, out_atb) {
                    p.set_stream(index);
                    p.rescale_ts(atb, out);
                    p.write_interleaved(&mut octx)
                        .map_err(internal("writing audio"))?;
                }
            }
            Ok(ToEncoder::Start { .. }) => {}
            Ok(ToEncoder::End) | Err(_) => break,
        }
    }
    encoder.send_eof().map_err(internal("x264"))?;
    write_video(&mut encoder, &mut octx)?;
    octx.write_trailer()
        .map_err(internal("finishing the HLS output"))?;
    read_rung_dir(rung, dir)
}

#[cfg(test)]
mod tests {
    use super::KeyframeClock;

    fn keys(clock: &mut KeyframeClock, fps: f64, secs: f64) -> Vec<f64> {
        let mut out = Vec::new();
        let mut n = 0u32;
        loop {
            let t = 0.5 + f64::from(n) / fps;
            if t - 0.5 > secs {
                return out;
            }
            if clock.is_key(t) {
                out.push(((t - 0.5) * 1000.0).round() / 1000.0);
            }
            n += 1;
        }
    }

    #[test]
    fn keyframes_on_the_grid_and_at_the_first_cuts() {
        assert_eq!(
            keys(&mut KeyframeClock::new(2.0, 2.0), 30.0, 9.0),
            [0.0, 2.0, 4.0, 6.0, 8.0]
        );
        assert_eq!(
            keys(&mut KeyframeClock::new(2.0, 1.0), 30.0, 7.0),
            [0.0, 1.0, 2.0, 4.0, 6.0]
        );
        assert_eq!(
            keys(&mut KeyframeClock::new(2.0, 1.5), 10.0, 5.0),
            [0.0, 1.5, 2.0, 3.0, 4.0]
        );
        // A gap in the timestamps: one keyframe, then the grid again.
        let mut clock = KeyframeClock::new(2.0, 2.0);
        assert!(clock.is_key(0.0));
        assert!(!clock.is_key(1.0));
        assert!(clock.is_key(5.1));
        assert!(!clock.is_key(5.9));
        assert!(clock.is_key(6.0));
    }
}
