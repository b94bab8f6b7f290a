//! Channel pictures (avatars, banners) from an uploaded JPEG, PNG or WebP: decoded under
//! limits (sides, memory) so a decompression bomb is refused before it is unpacked, cropped
//! to the target's shape around the centre, resized, and encoded as JPEG.

use std::io::Cursor;

use image::imageops::FilterType;
use image::{ImageFormat, ImageReader, Limits};

use crate::images::jpeg_bytes;

/// The largest side decoded.
pub const MAX_SIDE: u32 = 8192;
/// The most memory one decode may take.
const MAX_ALLOC: u64 = 512 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum PictureError {
    /// The file is at fault: not a picture Kadr takes, too large, or broken.
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Internal(String),
}

/// One size made: its JPEG bytes.
#[derive(Debug)]
pub struct Made {
    pub width: u32,
    pub height: u32,
    pub jpeg: Vec<u8>,
}

/// Decodes `data` (JPEG, PNG or WebP, by its bytes) and makes each of `sizes`, cropped to
/// fill it.
pub fn make(data: &[u8], sizes: &[(u32, u32)]) -> Result<Vec<Made>, PictureError> {
    let mut reader = ImageReader::new(Cursor::new(data))
        .with_guessed_format()
        .map_err(|e| PictureError::Internal(e.to_string()))?;
    match reader.format() {
        Some(ImageFormat::Jpeg | ImageFormat::Png | ImageFormat::WebP) => {}
        _ => {
            return Err(PictureError::Invalid(
                "not a JPEG, PNG or WebP picture".to_owned(),
            ));
        }
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_ALLOC);
    reader.limits(limits);
    let picture = reader
        .decode()
        .map_err(|e| PictureError::Invalid(format!("the picture does not decode: {e}")))?
        .into_rgb8();
    let mut out = Vec::with_capacity(sizes.len());
    for &(w, h) in sizes {
        let img = image::DynamicImage::ImageRgb8(picture.clone())
            .resize_to_fill(w, h, FilterType::Lanczos3)
            .into_rgb8();
        let jpeg = jpeg_bytes(&img, 85).map_err(|e| PictureError::Internal(e.to_string()))?;
        out.push(Made {
            width: img.width(),
            height: img.height(),
            jpeg,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn png(w: u32, h: u32) -> Vec<u8> {
        let img = image::RgbImage::from_fn(w, h, |x, y| {
            image::Rgb([(x % 256) as u8, (y % 256) as u8, 90])
        });
        let mut out = Vec::new();
        image::DynamicImage::ImageRgb8(img)
            .write_to(&mut Cursor::new(&mut out), ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn crops_and_resizes_to_each_size() {
        let made = make(&png(640, 480), &[(256, 256), (88, 88)]).unwrap();
        assert_eq!((made[0].width, made[0].height), (256, 256));
        assert_eq!((made[1].width, made[1].height), (88, 88));
        assert_eq!(&made[0].jpeg[..3], &[0xff, 0xd8, 0xff]);
    }

    #[test]
    fn refuses_bombs_and_strangers() {
        // A PNG whose header claims 20000 × 20000 pixels.
        let mut bomb = png(2, 2);
        bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
        assert!(matches!(
            make(&bomb, &[(8, 8)]),
            Err(PictureError::Invalid(_))
        ));
        assert!(matches!(
            make(b"<svg/>", &[(8, 8)]),
            Err(PictureError::Invalid(_))
        ));
        let mut cut = png(64, 64);
        cut.truncate(cut.len() / 2);
        assert!(matches!(
            make(&cut, &[(8, 8)]),
            Err(PictureError::Invalid(_))
        ));
    }
}
