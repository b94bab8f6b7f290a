//! Downloads made in the same pass: a progressive MP4 muxer fed the packets a rung's x264
//! already makes (and the AAC packets every rung gets), and the audio-only rendition (fMP4
//! segments) with its M4A, fed the same AAC packets. Nothing is decoded or encoded twice: the
//! extra cost is muxing and, at the end, the faststart rewrite (the `moov` box moved before
//! `mdat`, one more read and write of the file).

use std::path::{Path, PathBuf};
use std::sync::mpsc::Receiver;

use ffmpeg::{Dictionary, Packet, Rational, codec};
use ffmpeg_next as ffmpeg;

use crate::MediaError;
use crate::hls::{RungOutput, read_rung_dir};
use crate::plan::Rung;

use super::encode::{hls_options, open_hls};
use super::{Settings, ToEncoder, internal};

/// What a download file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownloadKind {
    /// H.264 + AAC (when the video has sound), progressive, `moov` first.
    Mp4,
    /// AAC alone in an MP4 container, `moov` first.
    M4a,
}

impl DownloadKind {
    /// Its file name, in `out_dir/downloads/` and in storage.
    pub fn file_name(self) -> &'static str {
        match self {
            DownloadKind::Mp4 => "video.mp4",
            DownloadKind::M4a => "audio.m4a",
        }
    }
}

/// A finished download file.
#[derive(Debug, Clone, PartialEq)]
pub struct DownloadFile {
    pub kind: DownloadKind,
    pub path: PathBuf,
    pub bytes: u64,
    /// The picture's size (the MP4's rung).
    pub size: Option<(u32, u32)>,
}

/// Where the downloads are written below the output directory.
pub fn downloads_dir(out_dir: &Path) -> PathBuf {
    out_dir.join("downloads")
}

/// A muxer of the MP4 family (`mp4`, `ipod`) with `+faststart`, fed packets already encoded:
/// the downloads, and the hover preview (`preview`). On close FFmpeg moves the `moov` box
/// before `mdat`, so a browser can start playing before the whole file has arrived.
pub(super) struct FastStart {
    octx: ffmpeg::format::context::Output,
    path: PathBuf,
    /// (output stream, the packets' time base, the stream's time base after the header).
    video: Option<(usize, Rational, Rational)>,
    audio: Option<(usize, Rational, Rational)>,
}

impl FastStart {
    /// Opens `path` as `format` with a video stream like `video` (its encoder's parameters and
    /// time base) and an audio stream like `audio`, either optional.
    pub(super) fn open(
        path: &Path,
        format: &str,
        video: Option<(codec::Parameters, Rational)>,
        audio: Option<&(codec::Parameters, Rational)>,
    ) -> Result<FastStart, MediaError> {
        let failed = |what: &str, e: ffmpeg::Error| {
            MediaError::Internal(format!("{what} {}: {e}", path.display()))
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| MediaError::Internal(format!("creating {}: {e}", dir.display())))?;
        }
        let mut octx =
            ffmpeg::format::output_as(&path, format).map_err(|e| failed("creating", e))?;
        let video = match video {
            Some((params, tb)) => {
                let mut s = octx
                    .add_stream(ffmpeg::encoder::find(codec::Id::H264))
                    .map_err(|e| failed("adding a video stream to", e))?;
                s.set_parameters(params);
                s.set_time_base(tb);
                Some((s.index(), tb))
            }
            None => None,
        };
        let audio = match audio {
            Some((params, tb)) => {
                let mut s = octx
                    .add_stream(ffmpeg::encoder::find(codec::Id::AAC))
                    .map_err(|e| failed("adding an audio stream to", e))?;
                s.set_parameters(params.clone());
                s.set_time_base(*tb);
                Some((s.index(), *tb))
            }
            None => None,
        };
        let mut opts = Dictionary::new();
        opts.set("movflags", "+faststart");
        octx.write_header_with(opts)
            .map_err(|e| failed("writing the header of", e))?;
        let with_out_tb = |s: Option<(usize, Rational)>| {
            s.and_then(|(i, tb)| octx.stream(i).map(|st| (i, tb, st.time_base())))
        };
        let (video, audio) = (with_out_tb(video), with_out_tb(audio));
        Ok(FastStart {
            octx,
            path: path.to_owned(),
            video,
            audio,
        })
    }

    /// Writes a copy of a video packet in the encoder's time base.
    pub(super) fn video(&mut self, packet: &Packet) -> Result<(), MediaError> {
        if let Some(s) = self.video {
            self.write(packet, s)?;
        }
        Ok(())
    }

    /// Writes a copy of an AAC packet in the audio encoder's time base.
    pub(super) fn audio(&mut self, packet: &Packet) -> Result<(), MediaError> {
        if let Some(s) = self.audio {
            self.write(packet, s)?;
        }
        Ok(())
    }

    fn write(
        &mut self,
        packet: &Packet,
        (index, from, to): (usize, Rational, Rational),
    ) -> Result<(), MediaError> {
        let mut p = packet.clone();
        p.set_stream(index);
        p.set_position(-1);
        p.rescale_ts(from, to);
        p.write_interleaved(&mut self.octx)
            .map_err(|e| MediaError::Internal(format!("writing {}: {e}", self.path.display())))
    }

    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Writes the trailer (moving `moov` before `mdat`); returns the file's size in bytes.
    pub(super) fn finish(mut self) -> Result<u64, MediaError> {
        self.octx
            .write_trailer()
            .map_err(|e| MediaError::Internal(format!("finishing {}: {e}", self.path.display())))?;
        std::fs::metadata(&self.path)
            .map(|m| m.len())
            .map_err(|e| MediaError::Internal(format!("{}: {e}", self.path.display())))
    }
}

/// A download being written: its muxer and what it will be said to hold.
pub(super) struct Progressive {
    mux: FastStart,
    kind: DownloadKind,
    size: Option<(u32, u32)>,
}

impl Progressive {
    /// Opens `path` with a video stream like `video` (its encoder's parameters, time base and
    /// picture size) and an audio stream like `audio`, either optional.
    pub(super) fn open(
        path: &Path,
        kind: DownloadKind,
        video: Option<(codec::Parameters, Rational, (u32, u32))>,
        audio: Option<&(codec::Parameters, Rational)>,
    ) -> Result<Progressive, MediaError> {
        let format = match kind {
            DownloadKind::Mp4 => "mp4",
            DownloadKind::M4a => "ipod",
        };
        let size = video.as_ref().map(|v| v.2);
        let mux = FastStart::open(path, format, video.map(|(p, tb, _)| (p, tb)), audio)?;
        Ok(Progressive { mux, kind, size })
    }

    pub(super) fn video(&mut self, packet: &Packet) -> Result<(), MediaError> {
        self.mux.video(packet)
    }

    pub(super) fn audio(&mut self, packet: &Packet) -> Result<(), MediaError> {
        self.mux.audio(packet)
    }

    /// Closes the file and says what was made.
    pub(super) fn finish(self) -> Result<DownloadFile, MediaError> {
        let path = self.mux.path().to_owned();
        let bytes = self.mux.finish()?;
        Ok(DownloadFile {
            kind: self.kind,
            path,
            bytes,
            size: self.size,
        })
    }
}

/// What the audio-only stage made.
#[derive(Debug, Clone)]
pub(super) struct AudioOutputs {
    pub(super) rendition: RungOutput,
    pub(super) m4a: Option<DownloadFile>,
}

/// The audio-only rendition (an HLS fMP4 muxer in `dir`, cut like the rungs) and the M4A at
/// `m4a`, both fed the AAC packets every rung gets. Nothing when the video has no sound.
pub(super) fn audio_only(
    settings: &Settings,
    dir: &Path,
    m4a: Option<&Path>,
    rx: Receiver<ToEncoder>,
) -> Result<Option<AudioOutputs>, MediaError> {
    let audio = match rx.recv() {
        Ok(ToEncoder::Start { audio }) => audio,
        Ok(_) | Err(_) => return Err(MediaError::Internal("the decoder never started".to_owned())),
    };
    let Some((params, atb)) = audio else {
        // Silent: no rendition and no M4A. Whatever else arrives is not for us.
        return Ok(None);
    };
    std::fs::create_dir_all(dir)
        .map_err(|e| MediaError::Internal(format!("creating {}: {e}", dir.display())))?;
    let mut octx = open_hls(dir)?;
    let stream = {
        let mut s = octx
            .add_stream(ffmpeg::encoder::find(codec::Id::AAC))
            .map_err(internal("adding the audio-only stream"))?;
        s.set_parameters(params.clone());
        s.set_time_base(atb);
        s.index()
    };
    octx.write_header_with(hls_options(dir, settings))
        .map_err(internal("writing the audio-only HLS header"))?;
    let out_tb = octx
        .stream(stream)
        .map(|s| s.time_base())
        .ok_or_else(|| MediaError::Internal("audio stream vanished".to_owned()))?;
    let mut m4a = match m4a {
        Some(path) => Some(Progressive::open(
            path,
            DownloadKind::M4a,
            None,
            Some(&(params, atb)),
        )?),
        None => None,
    };
    loop {
        match rx.recv() {
            Ok(ToEncoder::Audio(mut p)) => {
                if let Some(m) = m4a.as_mut() {
                    m.audio(&p)?;
                }
                p.set_stream(stream);
                p.rescale_ts(atb, out_tb);
                p.write_interleaved(&mut octx)
                    .map_err(internal("writing audio-only"))?;
            }
            Ok(ToEncoder::Video(_) | ToEncoder::Start { .. }) => {}
            Ok(ToEncoder::End) | Err(_) => break,
        }
    }
    octx.write_trailer()
        .map_err(internal("finishing the audio-only HLS output"))?;
    let rendition = read_rung_dir(&Rung::audio_only(settings.audio_kbps), dir)?;
    let m4a = m4a.map(Progressive::finish).transpose()?;
    Ok(Some(AudioOutputs { rendition, m4a }))
}
