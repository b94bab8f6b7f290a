//! One rung: x264 and its HLS (fMP4) muxer, and for the download rung a progressive MP4
//! muxer fed the same packets.

use std::path::Path;
use std::sync::mpsc::Receiver;

use ffmpeg::format::Pixel;
use ffmpeg::{Dictionary, Packet, Rational, codec};
use ffmpeg_next as ffmpeg;

use crate::MediaError;
use crate::colour::Colour;
use crate::hls::{RungOutput, read_rung_dir};
use crate::plan::Rung;

use super::progressive::{DownloadFile, DownloadKind, Progressive};
use super::{Settings, ToEncoder, internal};

/// FFmpeg's HLS muxer writing into `dir`. FFmpeg's own playlist is not used (segments are
/// timed from their fragments); a list of one keeps `hls_init_time` in effect only for the
/// first segments.
pub(super) fn open_hls(dir: &Path) -> Result<ffmpeg::format::context::Output, MediaError> {
    let playlist = dir.join("ffmpeg.m3u8");
    ffmpeg::format::output_as(&playlist, "hls").map_err(internal("creating the HLS muxer"))
}

/// The HLS muxer's options: fMP4 segments cut every `segment_secs` (the first ones shorter).
pub(super) fn hls_options(dir: &Path, settings: &Settings) -> Dictionary<'static> {
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
    mux
}

/// One rung: x264 and an HLS (fMP4) muxer in `dir`; with `mp4`, also a progressive MP4 of
/// the same packets at that path. The stream is tagged `colour`.
pub(super) fn encode_rung(
    rung: &Rung,
    fps: f64,
    colour: Colour,
    settings: &Settings,
    dir: &Path,
    mp4: Option<&Path>,
    rx: Receiver<ToEncoder>,
) -> Result<(RungOutput, Option<DownloadFile>), MediaError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| MediaError::Internal(format!("creating {}: {e}", dir.display())))?;
    let audio = match rx.recv() {
        Ok(ToEncoder::Start { audio }) => audio,
        Ok(_) | Err(_) => return Err(MediaError::Internal("the decoder never started".to_owned())),
    };
    let mut octx = open_hls(dir)?;

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
    // x264 writes these into the VUI and the muxers into `colr`: players then know a
    // tone-mapped HDR source is BT.709 SDR now, and a small rung of an HD source keeps the
    // HD matrix it was scaled with instead of being guessed BT.601 by its size.
    colour.tag_encoder(&mut enc);
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
    octx.write_header_with(hls_options(dir, settings))
        .map_err(internal("writing the HLS header"))?;
    let mut download = match mp4 {
        Some(path) => Some(Progressive::open(
            path,
            DownloadKind::Mp4,
            Some((
                codec::Parameters::from(&encoder),
                tb,
                (rung.width, rung.height),
            )),
            audio.as_ref(),
        )?),
        None => None,
    };
    let out_vtb = octx
        .stream(vstream)
        .map(|s| s.time_base())
        .ok_or_else(|| MediaError::Internal("video stream vanished".to_owned()))?;
    let out_atb = astream.and_then(|(i, _)| octx.stream(i).map(|s| s.time_base()));

    let mut packet = Packet::empty();
    let mut write_video = |encoder: &mut ffmpeg::encoder::Video,
                           octx: &mut ffmpeg::format::context::Output,
                           download: &mut Option<Progressive>| {
        while encoder.receive_packet(&mut packet).is_ok() {
            if let Some(d) = download.as_mut() {
                d.video(&packet)?;
            }
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
                write_video(&mut encoder, &mut octx, &mut download)?;
            }
            Ok(ToEncoder::Audio(mut p)) => {
                if let Some(d) = download.as_mut() {
                    d.audio(&p)?;
                }
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
    write_video(&mut encoder, &mut octx, &mut download)?;
    octx.write_trailer()
        .map_err(internal("finishing the HLS output"))?;
    let download = download.map(Progressive::finish).transpose()?;
    Ok((read_rung_dir(rung, dir)?, download))
}
