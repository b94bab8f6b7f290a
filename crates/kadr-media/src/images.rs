//! Pictures made on the way through the cascade, without decoding again: a poster from a
//! representative frame (not black, not flat), large and small; the other candidate frames,
//! kept so the owner can pick one instead (`frame_N.jpg`, `frame_N_small.jpg`); and a
//! storyboard (sprite sheets of frames at a fixed interval, with a WebVTT file of `#xywh`
//! cues) for previews on the seek bar.

use std::fmt::Write as _;
use std::path::Path;

use ffmpeg::format::Pixel;
use ffmpeg::frame;
use ffmpeg::software::scaling::{Context as Scaler, Flags};
use ffmpeg_next as ffmpeg;
use image::{RgbImage, codecs::jpeg::JpegEncoder};

use crate::MediaError;

/// Widest poster.
const POSTER_MAX_WIDTH: u32 = 1280;
const POSTER_SMALL_WIDTH: u32 = 320;
const TILE_WIDTH: u32 = 160;
const SHEET_COLUMNS: u32 = 10;
const SHEET_ROWS: u32 = 10;
/// Where the poster's candidates are, as parts of the duration; each is kept as a frame the
/// owner may pick.
const CANDIDATES: [f64; 4] = [0.1, 0.25, 0.5, 0.75];
/// Storyboards have at most this many tiles (the interval grows for long videos).
const MAX_TILES: f64 = 300.0;

/// The files [`ImageTap::finish`] wrote, by name in the output directory.
#[derive(Debug, Clone, PartialEq)]
pub struct Images {
    pub poster: String,
    pub poster_small: String,
    pub poster_size: (u32, u32),
    pub storyboard_sheets: Vec<String>,
    pub storyboard_vtt: String,
    /// The candidate frames, in time order (the poster is one of them).
    pub frames: Vec<Frame>,
}

/// A candidate frame the owner may pick as the poster: `frame_{index}.jpg` and
/// `frame_{index}_small.jpg`.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub index: usize,
    pub secs: f64,
    pub file: String,
    pub small_file: String,
    pub size: (u32, u32),
}

/// Looks at pictures as they pass and keeps what the poster and storyboard need. It lives on
/// the scaler thread (its scalers cannot move); [`ImageTap::into_pictures`] hands the result
/// over.
pub struct ImageTap {
    pictures: Pictures,
    candidates: Vec<f64>,
    settled: bool,
    every: f64,
    next_tile: f64,
    poster_scaler: Option<Scaler>,
    tile_scaler: Option<Scaler>,
}

/// The pictures kept for the poster and the storyboard.
#[derive(Debug, Default)]
pub struct Pictures {
    best: Option<(f64, RgbImage)>,
    /// Every candidate looked at, with its time.
    frames: Vec<(f64, RgbImage)>,
    tiles: Vec<(f64, RgbImage)>,
    last_secs: f64,
}

fn internal(what: &'static str) -> impl Fn(ffmpeg::Error) -> MediaError {
    move |e| MediaError::Internal(format!("{what}: {e}"))
}

/// Mean and spread of the luma plane, sampled.
fn luma_stats(f: &frame::Video) -> (f64, f64) {
    let (w, h, stride) = (f.width() as usize, f.height() as usize, f.stride(0));
    let data = f.data(0);
    let (mut n, mut sum, mut sq) = (0f64, 0f64, 0f64);
    for y in (0..h).step_by(8) {
        for x in (0..w).step_by(8) {
            if let Some(&v) = data.get(y * stride + x) {
                let v = f64::from(v);
                n += 1.0;
                sum += v;
                sq += v * v;
            }
        }
    }
    if n == 0.0 {
        return (0.0, 0.0);
    }
    let mean = sum / n;
    (mean, (sq / n - mean * mean).max(0.0).sqrt())
}

/// Converts `f` to an RGB image of `w`×`h` with a scaler made on first use.
fn to_rgb(
    scaler: &mut Option<Scaler>,
    f: &frame::Video,
    w: u32,
    h: u32,
) -> Result<RgbImage, MediaError> {
    let s = match scaler {
        Some(s) => s,
        slot => slot.insert(
            Scaler::get(
                f.format(),
                f.width(),
                f.height(),
                Pixel::RGB24,
                w,
                h,
                Flags::BICUBIC,
            )
            .map_err(internal("image scaler"))?,
        ),
    };
    let mut rgb = frame::Video::new(Pixel::RGB24, w, h);
    s.run(f, &mut rgb).map_err(internal("scaling a picture"))?;
    let stride = rgb.stride(0);
    let data = rgb.data(0);
    let mut img = RgbImage::new(w, h);
    for y in 0..h as usize {
        let row = &data[y * stride..y * stride + w as usize * 3];
        for (x, px) in row.chunks_exact(3).enumerate() {
            img.put_pixel(x as u32, y as u32, image::Rgb([px[0], px[1], px[2]]));
        }
    }
    Ok(img)
}

fn even(x: f64) -> u32 {
    ((x / 2.0).round() as u32 * 2).max(2)
}

impl ImageTap {
    pub fn new(duration_secs: f64) -> ImageTap {
        let d = duration_secs.max(0.0);
        // Candidates for the poster: a little in, then further; the first that is neither
        // dark nor flat wins.
        let candidates = CANDIDATES
            .iter()
            .map(|f| (d * f).min(d - 0.5).max(0.0))
            .collect();
        let every = (d / MAX_TILES).max(2.0).ceil();
        ImageTap {
            pictures: Pictures::default(),
            candidates,
            settled: false,
            every,
            next_tile: 0.0,
            poster_scaler: None,
            tile_scaler: None,
        }
    }

    pub fn into_pictures(self) -> Pictures {
        self.pictures
    }

    /// Offers the largest rung's picture at `secs` for the poster.
    pub fn offer_poster(&mut self, secs: f64, f: &frame::Video) -> Result<(), MediaError> {
        self.pictures.last_secs = self.pictures.last_secs.max(secs);
        if self.candidates.first().is_none_or(|c| secs + 1e-3 < *c) {
            return Ok(());
        }
        // Every candidate is converted: the ones not chosen stay as frames to pick from. Only
        // the (up to) four candidate moments are, so this costs four conversions per video.
        self.candidates.remove(0);
        let w = f.width().min(POSTER_MAX_WIDTH);
        let h = even(f64::from(f.height()) * f64::from(w) / f64::from(f.width()));
        let img = to_rgb(&mut self.poster_scaler, f, w, h)?;
        self.pictures.frames.push((secs, img.clone()));
        if self.settled {
            return Ok(());
        }
        let (mean, spread) = luma_stats(f);
        // Close to mid-grey and with detail scores best.
        let score = spread - (mean - 128.0).abs() / 4.0;
        let good = (40.0..=215.0).contains(&mean) && spread > 12.0;
        if good || self.pictures.best.as_ref().is_none_or(|(s, _)| score > *s) {
            self.pictures.best = Some((score, img));
        }
        if good {
            self.settled = true;
        }
        Ok(())
    }

    /// Offers the smallest rung's picture at `secs` for the storyboard.
    pub fn offer_tile(&mut self, secs: f64, f: &frame::Video) -> Result<(), MediaError> {
        self.pictures.last_secs = self.pictures.last_secs.max(secs);
        if secs + 1e-3 < self.next_tile {
            return Ok(());
        }
        while self.next_tile <= secs + 1e-3 {
            self.next_tile += self.every;
        }
        let h = even(f64::from(f.height()) * f64::from(TILE_WIDTH) / f64::from(f.width()));
        let tile = to_rgb(&mut self.tile_scaler, f, TILE_WIDTH, h)?;
        self.pictures.tiles.push((secs, tile));
        // The interval was chosen from the duration the header claims; a file longer than it
        // said would keep every tile. Past twice the budget, every other one goes and the
        // interval doubles, so the storyboard stays bounded whatever the input.
        if self.pictures.tiles.len() as f64 > 2.0 * MAX_TILES {
            let mut i = 0usize;
            self.pictures.tiles.retain(|_| {
                i += 1;
                i % 2 == 1
            });
            self.every *= 2.0;
        }
        Ok(())
    }
}

impl Pictures {
    /// Writes the poster, small poster, storyboard sheets and VTT into `dir`.
    pub fn finish(self, dir: &Path, end_secs: f64) -> Result<Option<Images>, MediaError> {
        let Some((_, poster)) = self
            .best
            .or_else(|| self.tiles.first().map(|(_, t)| (0.0, t.clone())))
        else {
            return Ok(None);
        };
        std::fs::create_dir_all(dir)
            .map_err(|e| MediaError::Internal(format!("{}: {e}", dir.display())))?;
        write_jpeg(&dir.join("poster.jpg"), &poster, 85)?;
        let small = small_of(&poster);
        write_jpeg(&dir.join("poster_small.jpg"), &small, 80)?;
        let mut frames = Vec::new();
        for (index, (secs, img)) in self.frames.iter().enumerate() {
            let file = format!("frame_{index}.jpg");
            let small_file = format!("frame_{index}_small.jpg");
            write_jpeg(&dir.join(&file), img, 85)?;
            write_jpeg(&dir.join(&small_file), &small_of(img), 80)?;
            frames.push(Frame {
                index,
                secs: *secs,
                file,
                small_file,
                size: (img.width(), img.height()),
            });
        }

        let mut sheets = Vec::new();
        let mut vtt = String::from("WEBVTT\n\n");
        let per_sheet = (SHEET_COLUMNS * SHEET_ROWS) as usize;
        let end = end_secs.max(self.last_secs);
        for (sheet_no, chunk) in self.tiles.chunks(per_sheet).enumerate() {
            let (tw, th) = (chunk[0].1.width(), chunk[0].1.height());
            let cols = SHEET_COLUMNS.min(chunk.len() as u32);
            let rows = (chunk.len() as u32).div_ceil(SHEET_COLUMNS);
            let mut sheet = RgbImage::new(tw * cols, th * rows);
            let name = format!("storyboard_{sheet_no}.jpg");
            for (i, (at, tile)) in chunk.iter().enumerate() {
                // The first cue covers the video from its very start.
                let start = if sheet_no == 0 && i == 0 { 0.0 } else { *at };
                let (x, y) = (
                    (i as u32 % SHEET_COLUMNS) * tw,
                    (i as u32 / SHEET_COLUMNS) * th,
                );
                image::imageops::replace(&mut sheet, tile, i64::from(x), i64::from(y));
                let index = sheet_no * per_sheet + i;
                let stop = self
                    .tiles
                    .get(index + 1)
                    .map_or(end, |(t, _)| *t)
                    .max(start + 0.001);
                let _ = write!(
                    vtt,
                    "{} --> {}\n{name}#xywh={x},{y},{tw},{th}\n\n",
                    vtt_time(start),
                    vtt_time(stop)
                );
            }
            write_jpeg(&dir.join(&name), &sheet, 75)?;
            sheets.push(name);
        }
        std::fs::write(dir.join("storyboard.vtt"), vtt)
            .map_err(|e| MediaError::Internal(format!("writing the storyboard cues: {e}")))?;
        Ok(Some(Images {
            poster: "poster.jpg".to_owned(),
            poster_small: "poster_small.jpg".to_owned(),
            poster_size: (poster.width(), poster.height()),
            storyboard_sheets: sheets,
            storyboard_vtt: "storyboard.vtt".to_owned(),
            frames,
        }))
    }
}

/// `img` at the small poster's width.
fn small_of(img: &RgbImage) -> RgbImage {
    let h = even(f64::from(img.height()) * f64::from(POSTER_SMALL_WIDTH) / f64::from(img.width()));
    image::imageops::resize(
        img,
        POSTER_SMALL_WIDTH,
        h,
        image::imageops::FilterType::Triangle,
    )
}

/// `img` as JPEG bytes.
pub fn jpeg_bytes(img: &RgbImage, quality: u8) -> Result<Vec<u8>, MediaError> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .map_err(|e| MediaError::Internal(format!("encoding a JPEG: {e}")))?;
    Ok(out)
}

fn write_jpeg(path: &Path, img: &RgbImage, quality: u8) -> Result<(), MediaError> {
    let file = std::fs::File::create(path)
        .map_err(|e| MediaError::Internal(format!("{}: {e}", path.display())))?;
    let mut out = std::io::BufWriter::new(file);
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .map_err(|e| MediaError::Internal(format!("encoding {}: {e}", path.display())))
}

fn vtt_time(secs: f64) -> String {
    let ms = (secs.max(0.0) * 1000.0).round() as u64;
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vtt_times() {
        assert_eq!(vtt_time(0.0), "00:00:00.000");
        assert_eq!(vtt_time(3725.5), "01:02:05.500");
    }
}
