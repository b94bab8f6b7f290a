//! A still picture at any time of a published video, for `thumbnail.jpg?t=&w=`: read from
//! the rung's own init segment and the one media segment holding that time (no source, no
//! second decode of the whole video), decoded from the segment's keyframe to the first
//! picture at or after the time, scaled to the asked width and encoded as JPEG.

use std::path::Path;

use ffmpeg::format::Pixel;
use ffmpeg::media::Type;
use ffmpeg::software::scaling::{Context as Scaler, Flags};
use ffmpeg::{frame, util::error::EAGAIN};
use ffmpeg_next as ffmpeg;

use crate::MediaError;
use crate::images::jpeg_bytes;
use crate::input;

/// Largest picture decoded for a still (a published rung is never larger).
const MAX_PIXELS: u64 = 4096 * 2304;

fn internal(what: &'static str) -> impl Fn(ffmpeg::Error) -> MediaError {
    move |e| MediaError::Internal(format!("{what}: {e}"))
}

/// The picture at `at_secs` (media time) of the fMP4 file at `path` (an init segment followed
/// by a media segment), `width` pixels wide, as JPEG. The picture shown at that time: the
/// last whose timestamp is at or before it, or the first of the file when it starts later.
pub fn still_at(path: &Path, at_secs: f64, width: u32) -> Result<Vec<u8>, MediaError> {
    let mut ictx = input::open(path, None)?;
    let stream = ictx
        .streams()
        .best(Type::Video)
        .ok_or_else(|| MediaError::Internal("the segment has no video".to_owned()))?;
    let index = stream.index();
    let tb = f64::from(stream.time_base());
    let opened = input::open_decoder(stream.parameters(), MAX_PIXELS, false)?;
    let mut decoder = opened
        .video()
        .map_err(internal("opening the video decoder"))?;
    let mut shown: Option<frame::Video> = None;
    let mut decoded = frame::Video::empty();
    // Takes every picture the decoder has ready; true once one is past the time.
    let mut drain = |decoder: &mut ffmpeg::decoder::Video,
                     shown: &mut Option<frame::Video>|
     -> Result<bool, MediaError> {
        loop {
            match decoder.receive_frame(&mut decoded) {
                Ok(()) => {
                    let secs = decoded
                        .timestamp()
                        .or(decoded.pts())
                        .map_or(0.0, |p| p as f64 * tb);
                    if secs > at_secs + 1e-3 && shown.is_some() {
                        return Ok(true);
                    }
                    *shown = Some(decoded.clone());
                    if secs > at_secs + 1e-3 {
                        return Ok(true);
                    }
                }
                Err(ffmpeg::Error::Other { errno }) if errno == EAGAIN => return Ok(false),
                Err(ffmpeg::Error::Eof) => return Ok(true),
                Err(e) => return Err(MediaError::Internal(format!("decoding a still: {e}"))),
            }
        }
    };
    let mut done = false;
    for (s, packet) in ictx.packets() {
        if s.index() != index {
            continue;
        }
        decoder
            .send_packet(&packet)
            .map_err(internal("decoding a still"))?;
        if drain(&mut decoder, &mut shown)? {
            done = true;
            break;
        }
    }
    if !done {
        let _ = decoder.send_eof();
        drain(&mut decoder, &mut shown)?;
    }
    let f =
        shown.ok_or_else(|| MediaError::Internal("the segment decoded to nothing".to_owned()))?;
    let w = width.clamp(16, f.width().max(16)) & !1;
    let h = ((f64::from(f.height()) * f64::from(w) / f64::from(f.width().max(1))).round() as u32)
        .max(2)
        & !1;
    let mut scaler = Scaler::get(
        f.format(),
        f.width(),
        f.height(),
        Pixel::RGB24,
        w,
        h,
        Flags::BICUBIC,
    )
    .map_err(internal("still scaler"))?;
    let mut rgb = frame::Video::new(Pixel::RGB24, w, h);
    scaler
        .run(&f, &mut rgb)
        .map_err(internal("scaling a still"))?;
    let stride = rgb.stride(0);
    let data = rgb.data(0);
    let mut img = image::RgbImage::new(w, h);
    for y in 0..h as usize {
        let row = &data[y * stride..y * stride + w as usize * 3];
        for (x, px) in row.chunks_exact(3).enumerate() {
            img.put_pixel(x as u32, y as u32, image::Rgb([px[0], px[1], px[2]]));
        }
    }
    jpeg_bytes(&img, 85)
}
