//! One decode, every rung in one pass: the decoder thread feeds a scaler cascade (each rung
//! scaled from the next larger one), each rung has its own encoder thread and HLS muxer (fMP4
//! segments, audio encoded once and muxed into every rung), all joined by bounded channels.
//! Keyframes are forced at the same timestamps in every rung (every `gop_secs`), so segments
//! line up across the ladder.
//!
//! ```text
//! demux+decode+rotate/convert ─frames─▶ cascade (scale 1080→720→…) ─▶ encoder+muxer per rung
//!      └──── AAC packets (encoded once) ─────────────────────────────────▶ every muxer
//!                                                   └──▶ audio-only rendition + M4A
//! ```
//!
//! Downloads come from the same packets (`progressive`): the download rung's thread feeds a
//! second, progressive MP4 muxer the H.264 packets its x264 makes and the AAC packets it gets;
//! an audio-only thread muxes the AAC packets into their own HLS rendition and an M4A.
//! The hover preview (`preview`) is cut from the smallest rung's pictures on the scaler thread
//! and encoded by a thread of its own into `out_dir/images/preview.mp4`.
//!
//! Modules: `decode` (demux, decode, the limits on what decodes), `graph` (the filter graphs:
//! rotation and conversion, audio resampling), `cascade` (the scalers), `encode` (x264 and the
//! muxer of one rung), `keyframes` (the clock that aligns keyframes across rungs), `audio`
//! (AAC, encoded once), `progressive` (the MP4 and M4A downloads, the audio-only rendition),
//! `preview` (the hover preview).

mod audio;
mod cascade;
mod decode;
mod encode;
mod graph;
mod keyframes;
mod preview;
mod progressive;

pub use preview::{PREVIEW_FILE, Preview};
pub use progressive::{DownloadFile, DownloadKind, downloads_dir};

use cascade::run_cascade;
use encode::encode_rung;

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::sync_channel;

use ffmpeg::{Packet, Rational, codec, frame};
use ffmpeg_next as ffmpeg;

use crate::MediaError;
use crate::hls::RungOutput;
use crate::images::{ImageTap, Images};
use crate::plan::{AUDIO_RUNG, Rung, download_rung};
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
    /// Also a progressive MP4 (`+faststart`) of the largest rung whose short side is at most
    /// this (the smallest rung when all are larger), muxed from that rung's own packets;
    /// `None`: no MP4.
    pub mp4_download_max_height: Option<u32>,
    /// Also, when the video has sound, an audio-only HLS rendition and an M4A from the AAC
    /// packets every rung gets.
    pub audio_only: bool,
    /// Also a hover preview for video cards: a few seconds of silent H.264 from windows
    /// spread over the video, at most 320 px on its long side, in `out_dir/images`.
    pub preview: bool,
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
            mp4_download_max_height: Some(720),
            audio_only: true,
            preview: true,
            limits: Limits::default(),
        }
    }
}

/// How many frames may wait between two stages.
pub(super) const QUEUE: usize = 8;

pub(super) enum ToEncoder {
    Start {
        audio: Option<(codec::Parameters, Rational)>,
    },
    Video(frame::Video),
    Audio(Packet),
    End,
}

pub(super) enum ToCascade {
    Video(frame::Video),
    End,
}

pub(super) fn internal(what: &str) -> impl Fn(ffmpeg::Error) -> MediaError + '_ {
    move |e| MediaError::Internal(format!("{what}: {e}"))
}

/// Decoding, filtering and scaling fail on what the input holds: its fault, never retried.
pub(super) fn undecodable(what: &str) -> impl Fn(ffmpeg::Error) -> MediaError + '_ {
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
    /// The audio-only rendition in `out_dir/audio` (last in the master), when asked for and
    /// the video has sound.
    pub audio: Option<RungOutput>,
    /// The MP4 and M4A in `out_dir/downloads`, as asked for (no M4A without sound).
    pub downloads: Vec<DownloadFile>,
    /// Poster and storyboard in `out_dir/images`, when any picture was seen.
    pub images: Option<Images>,
    /// The hover preview in `out_dir/images` ([`PREVIEW_FILE`]), when asked for and made. Its
    /// failure is logged and leaves this empty: the video is playable without it.
    pub preview: Option<Preview>,
}

/// Transcodes `input` into `out_dir/<rung name>/` (init segment, media segments, FFmpeg's own
/// playlist), `out_dir/audio/` (the audio-only rendition), `out_dir/downloads/` and
/// `out_dir/images/` (poster, storyboard, hover preview). Returns what each rung holds.
/// `progress` gets the decoded position in seconds; setting `cancel` stops the work with
/// [`MediaError::Cancelled`].
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
    // One channel per rung, then one for the audio-only stage: the cascade sends pictures by
    // rung index and the end to all; the decoder sends audio to all.
    let audio_only = settings.audio_only && probe.audio.is_some();
    let mut enc_tx = Vec::new();
    let mut enc_rx = Vec::new();
    for _ in 0..rungs.len() + usize::from(audio_only) {
        let (tx, rx) = sync_channel::<ToEncoder>(QUEUE * 4);
        enc_tx.push(tx);
        enc_rx.push(rx);
    }
    let audio_rx = if audio_only { enc_rx.pop() } else { None };
    let (cascade_tx, cascade_rx) = sync_channel::<ToCascade>(QUEUE);
    let downloads = downloads_dir(out_dir);
    let mp4_rung = settings
        .mp4_download_max_height
        .and_then(|h| download_rung(rungs, h));
    let mp4_path = downloads.join(DownloadKind::Mp4.file_name());
    let m4a_path = downloads.join(DownloadKind::M4a.file_name());
    let images_dir = out_dir.join("images");
    let preview_path = images_dir.join(PREVIEW_FILE);

    std::thread::scope(|scope| {
        let mut encoders = Vec::new();
        for ((rung, rx), i) in rungs.iter().zip(enc_rx).zip(0..) {
            let dir = out_dir.join(&rung.name);
            let fps = probe.video.fps;
            let colour = probe
                .video
                .colour
                .ladder(probe.video.pixel_format == "yuv420p");
            let mp4 = (mp4_rung == Some(i)).then_some(mp4_path.as_path());
            encoders.push(
                std::thread::Builder::new()
                    .name(format!("kadr-enc-{i}"))
                    .spawn_scoped(scope, move || {
                        encode_rung(rung, fps, colour, settings, &dir, mp4, rx)
                    })
                    .map_err(|e| {
                        MediaError::Internal(format!("starting an encoder thread: {e}"))
                    })?,
            );
        }
        let audio_stage = match audio_rx {
            Some(rx) => {
                let dir = out_dir.join(AUDIO_RUNG);
                let m4a = m4a_path.as_path();
                Some(
                    std::thread::Builder::new()
                        .name("kadr-audio".to_owned())
                        .spawn_scoped(scope, move || {
                            progressive::audio_only(settings, &dir, Some(m4a), rx)
                        })
                        .map_err(|e| {
                            MediaError::Internal(format!("starting the audio thread: {e}"))
                        })?,
                )
            }
            None => None,
        };
        // The preview's windows come from the claimed duration; its picker bounds what it
        // keeps whatever the file holds.
        let mut preview_feed = None;
        let preview_stage = if settings.preview {
            let picker = preview::Picker::new(probe.duration_secs, probe.video.fps);
            let fps = picker.fps();
            let (tx, rx) = preview::channel();
            preview_feed = Some((picker, tx));
            let path = preview_path.as_path();
            Some(
                std::thread::Builder::new()
                    .name("kadr-preview".to_owned())
                    .spawn_scoped(scope, move || preview::encode(path, fps, rx))
                    .map_err(|e| {
                        MediaError::Internal(format!("starting the preview thread: {e}"))
                    })?,
            )
        } else {
            None
        };
        let cascade_senders = enc_tx.clone();
        let duration = probe.duration_secs;
        let cascade = std::thread::Builder::new()
            .name("kadr-scale".to_owned())
            .spawn_scoped(scope, move || {
                // Taps live on this thread: their scalers cannot move between threads.
                let preview = preview_feed.map(|(picker, tx)| preview::PreviewTap::new(picker, tx));
                run_cascade(
                    rungs,
                    cascade_rx,
                    &cascade_senders,
                    ImageTap::new(duration),
                    preview,
                )
            })
            .map_err(|e| MediaError::Internal(format!("starting the scaler thread: {e}")))?;

        let decoded = decode::decode(
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
        let mut files = Vec::new();
        let mut first_err = None;
        for e in encoders {
            match e.join() {
                Ok(Ok((out, mp4))) => {
                    outputs.push(out);
                    files.extend(mp4);
                }
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
        let mut audio = None;
        if let Some(stage) = audio_stage {
            match stage.join() {
                Ok(Ok(Some(a))) => {
                    audio = Some(a.rendition);
                    files.extend(a.m4a);
                }
                Ok(Ok(None)) => {}
                Ok(Err(err)) => {
                    first_err.get_or_insert(err);
                }
                Err(_) => {
                    first_err.get_or_insert(MediaError::Internal(
                        "the audio thread panicked".to_owned(),
                    ));
                }
            }
        }
        // The cascade is done, so the preview's channel is closed and its thread ends.
        let preview = match preview_stage.map(|s| s.join()) {
            None => None,
            Some(Ok(Ok(p))) => p,
            Some(Ok(Err(e))) => {
                tracing::warn!(error = %e, "the hover preview could not be made");
                None
            }
            Some(Err(_)) => {
                tracing::warn!("the hover preview's thread panicked");
                None
            }
        };
        if preview.is_none() {
            // Half a file is worse than none: the worker must not find one.
            let _ = std::fs::remove_file(&preview_path);
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
        let images = pictures.finish(&images_dir, end_secs)?;
        Ok(Transcoded {
            rungs: outputs,
            audio,
            downloads: files,
            images,
            preview,
        })
    })
}
