//! What an input is, read with libavformat before any decoding: container, streams, duration,
//! picture size, frame rate (variable too), rotation, pixel format, colour (HDR or not, Dolby
//! Vision), audio.

use std::path::Path;

use ffmpeg::codec::packet::side_data::Type as SideDataType;
use ffmpeg::media::Type as MediaType;
use ffmpeg_next as ffmpeg;
use serde::Serialize;

use crate::MediaError;
use crate::colour::{Colour, DolbyVision};

/// What [`probe`] found.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Probe {
    /// The demuxer's name, e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    pub duration_secs: f64,
    pub streams: usize,
    pub video: VideoStream,
    pub audio: Option<AudioStream>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoStream {
    pub index: usize,
    pub codec: String,
    /// Size as stored.
    pub width: u32,
    pub height: u32,
    /// Clockwise rotation to apply for display: 0, 90, 180 or 270.
    pub rotation: u32,
    pub pixel_format: String,
    pub bit_depth: u8,
    /// Average frame rate.
    pub fps: f64,
    /// Frame timing varies (the average and the base rate disagree).
    pub variable_frame_rate: bool,
    /// Primaries, transfer (HDR or not), matrix and range, as the stream declares them.
    pub colour: Colour,
    /// The Dolby Vision configuration, when the container declares one.
    pub dolby_vision: Option<DolbyVision>,
}

impl VideoStream {
    /// Size as displayed, rotation applied.
    pub fn display_size(&self) -> (u32, u32) {
        if self.rotation % 180 == 90 {
            (self.height, self.width)
        } else {
            (self.width, self.height)
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AudioStream {
    pub index: usize,
    pub codec: String,
    pub channels: u16,
    pub sample_rate: u32,
}

/// Limits checked before any decoding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Limits {
    pub max_duration_secs: f64,
    /// Width × height of the stored picture.
    pub max_pixels: u64,
    pub max_fps: f64,
    pub max_streams: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_duration_secs: 6.0 * 3600.0,
            max_pixels: 4096 * 2304,
            max_fps: 120.0,
            max_streams: 16,
        }
    }
}

fn rational(r: ffmpeg::Rational) -> f64 {
    if r.denominator() == 0 {
        0.0
    } else {
        f64::from(r.numerator()) / f64::from(r.denominator())
    }
}

/// Clockwise display rotation from a display matrix (nine native-endian i32, 16.16 fixed).
fn rotation_from_matrix(data: &[u8]) -> Option<u32> {
    if data.len() < 36 {
        return None;
    }
    let m: Vec<f64> = data
        .chunks_exact(4)
        .take(9)
        .map(|c| f64::from(i32::from_ne_bytes([c[0], c[1], c[2], c[3]])))
        .collect();
    let scale0 = m[0].hypot(m[3]);
    let scale1 = m[1].hypot(m[4]);
    if scale0 == 0.0 || scale1 == 0.0 {
        return None;
    }
    // As FFmpeg's own tools read it: the clockwise turn that displays the picture upright.
    let cw = (m[1] / scale1)
        .atan2(m[0] / scale0)
        .to_degrees()
        .rem_euclid(360.0);
    Some(((cw / 90.0).round() as u32 % 4) * 90)
}

fn bit_depth(pixel_format: &str) -> u8 {
    for depth in [16u8, 14, 12, 10, 9] {
        if pixel_format.contains(&format!("p{depth}"))
            || pixel_format.contains(&format!("{depth}le"))
            || pixel_format.contains(&format!("{depth}be"))
        {
            return depth;
        }
    }
    8
}

/// Reads what `input` (a local file) holds, opened under [`crate::input`]'s whitelists.
/// Nothing is decoded here, so no pixel limit applies yet: [`check_limits`] follows.
pub fn probe(input: &Path) -> Result<Probe, MediaError> {
    let mut ctx = crate::input::open(input, None)?;
    let container = ctx.format().name().to_owned();
    let streams = ctx.streams().count();
    let duration_secs = if ctx.duration() > 0 {
        ctx.duration() as f64 / f64::from(ffmpeg::ffi::AV_TIME_BASE)
    } else {
        0.0
    };

    let vstream = ctx
        .streams()
        .filter(|s| s.parameters().medium() == MediaType::Video)
        // Cover art is a picture, not the video.
        .find(|s| {
            !s.disposition()
                .contains(ffmpeg::format::stream::Disposition::ATTACHED_PIC)
        })
        .ok_or_else(|| MediaError::input("no_video_stream", "The file has no video stream"))?;
    let codec_name = vstream.parameters().id().name().to_owned();
    let decoder = crate::input::open_decoder(vstream.parameters(), u64::MAX, false)?
        .video()
        .map_err(|_| {
            MediaError::input(
                "unsupported_codec",
                format!("The video codec {codec_name} cannot be decoded"),
            )
        })?;
    let pixel_format = format!("{:?}", decoder.format()).to_lowercase();
    let rotation = vstream
        .side_data()
        .find(|sd| sd.kind() == SideDataType::DisplayMatrix)
        .and_then(|sd| rotation_from_matrix(sd.data()))
        .unwrap_or(0);
    let dolby_vision = vstream
        .side_data()
        .find(|sd| sd.kind() == SideDataType::DOVI_CONF)
        .and_then(|sd| DolbyVision::from_side_data(sd.data()));
    if let Some(dv) = &dolby_vision {
        dv.check()?;
    }
    let avg = rational(vstream.avg_frame_rate());
    let base = rational(vstream.rate());
    let fps = if avg > 0.0 { avg } else { base };
    let video = VideoStream {
        index: vstream.index(),
        codec: codec_name,
        width: decoder.width(),
        height: decoder.height(),
        rotation,
        bit_depth: bit_depth(&pixel_format),
        pixel_format,
        fps,
        variable_frame_rate: avg > 0.0 && base > 0.0 && (avg - base).abs() / base > 0.01,
        colour: Colour::of_decoder(&decoder),
        dolby_vision,
    };
    let audio = ctx
        .streams()
        .find(|s| s.parameters().medium() == MediaType::Audio)
        .and_then(|s| {
            let name = s.parameters().id().name().to_owned();
            let a = crate::input::open_decoder(s.parameters(), u64::MAX, false)
                .ok()?
                .audio()
                .ok()?;
            Some(AudioStream {
                index: s.index(),
                codec: name,
                channels: a.channels(),
                sample_rate: a.rate(),
            })
        });
    if video.width == 0 || video.height == 0 {
        return Err(MediaError::input(
            "no_video_stream",
            "The video stream has no picture size",
        ));
    }
    if let Some(reached) = ends_early(&mut ctx, video.index, duration_secs) {
        return Err(MediaError::input(
            "truncated",
            format!(
                "The file ends early: its pictures stop before {reached:.1} s of {duration_secs:.1} s"
            ),
        ));
    }
    Ok(Probe {
        container,
        duration_secs,
        streams,
        video,
        audio,
    })
}

/// Where pictures must still be found for a file not to count as cut short: the same rule
/// the transcode applies to what it decoded.
pub fn truncation_point(duration_secs: f64) -> Option<f64> {
    (duration_secs > 2.0).then_some(duration_secs * 0.9 - 1.0)
}

/// Whether the pictures stop well before the duration the header claims (an upload cut
/// short): a seek near the end finds no picture before the end of the file. Returns the
/// point looked for. Anything inconclusive (no seeking, a read error) is left to the
/// transcode, so a file is only refused here on evidence.
fn ends_early(
    ctx: &mut ffmpeg::format::context::Input,
    vindex: usize,
    duration_secs: f64,
) -> Option<f64> {
    let target = truncation_point(duration_secs)?;
    let (tb, start) = {
        let s = ctx.stream(vindex)?;
        let start = s.start_time();
        (
            f64::from(s.time_base()),
            if start == ffmpeg::ffi::AV_NOPTS_VALUE {
                0
            } else {
                start
            },
        )
    };
    let start_secs = start as f64 * tb;
    let ts = ((start_secs + target) * f64::from(ffmpeg::ffi::AV_TIME_BASE)) as i64;
    // The keyframe at or before the point; then read forward to it.
    ctx.seek(ts, ..ts.saturating_add(1)).ok()?;
    let mut packet = ffmpeg::Packet::empty();
    // Bounded: a keyframe interval's worth of packets of every stream is plenty.
    for _ in 0..5_000 {
        match packet.read(ctx) {
            Ok(()) => {
                if packet.stream() == vindex
                    && let Some(t) = packet.pts().or(packet.dts())
                    && (t - start) as f64 * tb >= target
                {
                    return None;
                }
            }
            Err(ffmpeg::Error::Eof) => return Some(target),
            Err(ffmpeg::Error::InvalidData) => {}
            Err(_) => return None,
        }
    }
    None
}

/// Refuses inputs over the limits, before any decoding.
pub fn check_limits(p: &Probe, limits: &Limits) -> Result<(), MediaError> {
    if p.streams > limits.max_streams {
        return Err(MediaError::input(
            "too_many_streams",
            format!(
                "The file has {} streams; at most {} are accepted",
                p.streams, limits.max_streams
            ),
        ));
    }
    let pixels = u64::from(p.video.width) * u64::from(p.video.height);
    if pixels > limits.max_pixels {
        return Err(MediaError::input(
            "too_many_pixels",
            format!(
                "The picture is {}×{}; at most {} pixels are accepted",
                p.video.width, p.video.height, limits.max_pixels
            ),
        ));
    }
    if p.duration_secs > limits.max_duration_secs {
        return Err(MediaError::input(
            "too_long",
            format!(
                "The video lasts {:.0} s; at most {:.0} s are accepted",
                p.duration_secs, limits.max_duration_secs
            ),
        ));
    }
    if p.video.fps > limits.max_fps {
        return Err(MediaError::input(
            "too_many_frames_per_second",
            format!(
                "The video has {:.1} frames per second; at most {:.0} are accepted",
                p.video.fps, limits.max_fps
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matrix(deg_ccw: f64) -> Vec<u8> {
        let (s, c) = deg_ccw.to_radians().sin_cos();
        let f = |x: f64| ((x * 65536.0).round() as i32).to_ne_bytes();
        [
            f(c),
            f(-s),
            f(0.0),
            f(s),
            f(c),
            f(0.0),
            f(0.0),
            f(0.0),
            (1i32 << 30).to_ne_bytes(),
        ]
        .concat()
    }

    #[test]
    fn rotation_from_display_matrix() {
        assert_eq!(rotation_from_matrix(&matrix(0.0)), Some(0));
        assert_eq!(rotation_from_matrix(&matrix(90.0)), Some(270));
        assert_eq!(rotation_from_matrix(&matrix(-90.0)), Some(90));
        assert_eq!(rotation_from_matrix(&matrix(180.0)), Some(180));
        assert_eq!(rotation_from_matrix(&[0; 8]), None);
    }

    #[test]
    fn bit_depth_from_pixel_format() {
        assert_eq!(bit_depth("yuv420p"), 8);
        assert_eq!(bit_depth("yuv420p10le"), 10);
        assert_eq!(bit_depth("yuv422p12be"), 12);
        assert_eq!(bit_depth("nv12"), 8);
    }
}
