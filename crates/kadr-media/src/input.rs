//! Opening an upload with FFmpeg, as hostile input.
//!
//! libavformat picks a demuxer from the bytes, and several demuxers open other files or URLs
//! named inside the input (HLS and DASH playlists, concat scripts, image-sequence patterns,
//! references inside QuickTime files). An upload is only ever read as itself:
//! - the input is a local file, opened through the `file` protocol and no other, so nothing
//!   inside it can reach the network (`protocol_whitelist`);
//! - only the containers people really upload are demuxed (`format_whitelist`): anything else,
//!   playlists and scripts included, is refused as `not_a_video` before its header is read;
//! - only the decoders below are opened, by libavformat's stream analysis and by our own
//!   decoders (`codec_whitelist`);
//! - a decoder refuses pictures over the pixel limit (`max_pixels`) before allocating them.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use ffmpeg::{Dictionary, codec};
use ffmpeg_next as ffmpeg;

use crate::MediaError;

/// Demuxers an upload may be read with (any of the names FFmpeg gives a demuxer matches).
/// Never playlists, manifests, concat scripts, image sequences, pipes or devices.
pub const FORMATS: &[&str] = &[
    "mov",
    "mp4",
    "m4a",
    "3gp",
    "3g2",
    "mj2", // QuickTime / MP4 family
    "matroska",
    "webm",
    "avi",
    "mpegts",
    "mpeg", // program stream (.mpg, .vob)
    "flv",
    "ogg",
    "mxf",
    "asf", // wmv, asf
    "ivf",
    "dv", // raw elementary streams, as cameras and encoders write them
    "h264",
    "hevc",
    "m4v",
    "mpegvideo",
];

/// Decoders (by FFmpeg's decoder name) that may be opened for an upload.
pub const DECODERS: &[&str] = &[
    // video
    "h264",
    "hevc",
    "vp8",
    "vp9",
    "libdav1d",
    "libaom-av1",
    "av1",
    "mpeg4",
    "msmpeg4v1",
    "msmpeg4v2",
    "msmpeg4",
    "mpeg1video",
    "mpeg2video",
    "h263",
    "h263p",
    "flv",
    "vp6",
    "vp6f",
    "vp6a",
    "wmv1",
    "wmv2",
    "wmv3",
    "vc1",
    "prores",
    "dnxhd",
    "mjpeg",
    "theora",
    "dvvideo",
    "ffv1",
    "rawvideo",
    // audio
    "aac",
    "aac_fixed",
    "aac_latm",
    "mp3float",
    "mp3",
    "mp2float",
    "mp2",
    "ac3",
    "ac3_fixed",
    "eac3",
    "opus",
    "libopus",
    "vorbis",
    "flac",
    "alac",
    "wmav1",
    "wmav2",
    "wmapro",
    "amrnb",
    "amrwb",
    "dca",
    "pcm_s16le",
    "pcm_s16be",
    "pcm_s24le",
    "pcm_s24be",
    "pcm_s32le",
    "pcm_f32le",
    "pcm_u8",
    "pcm_alaw",
    "pcm_mulaw",
];

/// More streams than this and FFmpeg stops reading the header; the configured limit
/// (`transcode.max_streams`, at most this) is checked after probing, with its own code.
pub const MAX_STREAMS: usize = 64;

fn format_options() -> Dictionary<'static> {
    let mut o = Dictionary::new();
    o.set("protocol_whitelist", "file");
    o.set("format_whitelist", &FORMATS.join(","));
    o.set("codec_whitelist", &DECODERS.join(","));
    o.set("max_streams", &MAX_STREAMS.to_string());
    o
}

/// Opens `path` (a local file, never a URL) for demuxing under the whitelists above.
/// `cancel` stops FFmpeg even inside a blocking read.
pub fn open(
    path: &Path,
    cancel: Option<Arc<AtomicBool>>,
) -> Result<ffmpeg::format::context::Input, MediaError> {
    crate::init()?;
    match std::fs::metadata(path) {
        Ok(meta) if meta.len() == 0 => {
            return Err(MediaError::input("empty_file", "The file is empty"));
        }
        Ok(meta) if !meta.is_file() => {
            return Err(MediaError::Internal(format!(
                "input {} is not a file",
                path.display()
            )));
        }
        Ok(_) => {}
        // Our fault (the original went missing), not the input's.
        Err(e) => {
            return Err(MediaError::Internal(format!(
                "input {}: {e}",
                path.display()
            )));
        }
    }
    // `file:` so that a path that looks like a URL is still read as a file.
    let url = format!("file:{}", path.display());
    let flag = cancel.clone();
    let opened = ffmpeg::format::input_with_interrupt_and_dictionary(
        &url,
        move || flag.as_ref().is_some_and(|c| c.load(Ordering::Relaxed)),
        format_options(),
    );
    opened.map_err(|e| {
        if cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return MediaError::Cancelled;
        }
        match e {
            ffmpeg::Error::InvalidData => {
                MediaError::input("not_a_video", "The file is not a video Kadr can read")
            }
            other => MediaError::input(
                "not_a_video",
                format!("The file cannot be read as a video: {other}"),
            ),
        }
    })
}

/// Whether FFmpeg would open `decoder` for an upload.
pub fn decoder_allowed(decoder: &str) -> bool {
    DECODERS.contains(&decoder)
}

/// Opens the decoder for a stream's parameters: only a whitelisted decoder, and for video
/// one that refuses pictures over `max_pixels`.
/// `threaded` lets the decoder use every core.
pub fn open_decoder(
    params: codec::Parameters,
    max_pixels: u64,
    threaded: bool,
) -> Result<codec::decoder::Opened, MediaError> {
    let mut ctx = codec::Context::from_parameters(params)
        .map_err(|e| MediaError::Internal(format!("codec parameters: {e}")))?;
    if threaded {
        ctx.set_threading(codec::threading::Config::count(0));
    }
    let id = ctx.id();
    let unsupported = || {
        MediaError::input(
            "unsupported_codec",
            format!("The codec {} is not accepted", id.name()),
        )
    };
    let decoder = ffmpeg::decoder::find(id).ok_or_else(unsupported)?;
    if !decoder_allowed(decoder.name()) {
        return Err(unsupported());
    }
    let mut opts = Dictionary::new();
    opts.set("codec_whitelist", &DECODERS.join(","));
    opts.set(
        "max_pixels",
        &max_pixels.clamp(1, i32::MAX as u64).to_string(),
    );
    ctx.decoder().open_as_with(decoder, opts).map_err(|e| {
        MediaError::input(
            "unsupported_codec",
            format!("{} cannot be decoded: {e}", id.name()),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_format_that_opens_other_files() {
        for bad in [
            "hls",
            "applehttp",
            "dash",
            "concat",
            "image2",
            "image2pipe",
            "tee",
            "lavfi",
            "sdp",
            "rtsp",
            "webm_dash_manifest",
        ] {
            assert!(!FORMATS.contains(&bad), "{bad} must not be whitelisted");
        }
    }
}
