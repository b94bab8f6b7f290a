//! Colour: how the source's pictures are described (primaries, transfer, matrix, range),
//! whether they are HDR, how they are brought to what the ladder carries, and the tags the
//! encoders write.
//!
//! The ladder is 8-bit H.264 for every player, so it is SDR. HDR sources (PQ, as HDR10 and
//! Dolby Vision 8.1 phones record, and HLG, as iPhones and many Android phones record, Dolby
//! Vision 8.4 included) are tone-mapped to BT.709 with zscale and tonemap before the scaler
//! cascade; left alone they would play washed out (PQ or HLG code values shown as BT.709
//! gamma, BT.2020 primaries shown as BT.709 ones). BT.2020 sources with an SDR transfer get a
//! gamut conversion to BT.709. Everything else is scaled as it is and keeps its own tags.
//! Dolby Vision profile 5 has no base layer any player can show without Dolby's own
//! reshaping (its pictures are IPTPQc2): it is refused rather than shown green and purple.

use ffmpeg::color::{Primaries, Range, Space, TransferCharacteristic as Transfer};
use ffmpeg::frame;
use ffmpeg_next as ffmpeg;
use serde::Serialize;
use serde::ser::SerializeStruct;

use crate::MediaError;

/// The tone-mapping operator. Mobius keeps the picture linear up to 30 % of the peak and
/// rolls off above it: a phone's picture, graded with diffuse white near 203 nits (ITU-R
/// BT.2408), comes back at its SDR brightness with its highlights compressed, not clipped.
/// Measured on a test pattern made HDR that way, against the SDR original (8-bit means, Y
/// 120.7, saturation 73.1): mobius 123.6 / 67.9, reinhard 117.8 / 64.6, hable 99.0 / 54.4
/// (hable's filmic toe and shoulder darken the whole picture by a sixth).
pub const TONEMAP_OPERATOR: &str = "mobius";

/// Nominal peak luminance zscale maps linear 1.0 to, in nits: SDR's reference white, so
/// `tonemap` sees HDR above SDR as values above 1.0. HLG needs nothing of its own: zimg
/// applies HLG's OOTF for its nominal 1000-nit display, and `tonemap` assumes a 1000-nit
/// peak where the pictures carry no mastering metadata (PQ's HDR10 metadata, when present,
/// gives the real peak).
pub const NOMINAL_PEAK_NITS: u32 = 100;

/// How the pictures' light is coded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Dynamic {
    Sdr,
    /// SMPTE ST 2084 (HDR10, Dolby Vision 8.1's base).
    Pq,
    /// ARIB STD-B67 (Dolby Vision 8.4's base).
    Hlg,
}

/// What a picture's colour is, as FFmpeg reads it from the bitstream or the container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Colour {
    pub primaries: Primaries,
    pub transfer: Transfer,
    pub matrix: Space,
    pub range: Range,
}

/// What the pictures need before the cascade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conversion {
    /// Scaled as they are; the ladder keeps the source's tags.
    None,
    /// BT.2020 SDR: primaries and matrix converted to BT.709.
    Gamut,
    /// HDR: tone-mapped to BT.709 SDR.
    ToneMap(Dynamic),
}

impl Colour {
    /// SDR HD video, what the ladder carries after any conversion.
    pub const BT709: Colour = Colour {
        primaries: Primaries::BT709,
        transfer: Transfer::BT709,
        matrix: Space::BT709,
        range: Range::MPEG,
    };

    pub fn of_frame(f: &frame::Video) -> Colour {
        Colour {
            primaries: f.color_primaries(),
            transfer: f.color_transfer_characteristic(),
            matrix: f.color_space(),
            range: f.color_range(),
        }
    }

    pub fn of_decoder(d: &ffmpeg::decoder::Video) -> Colour {
        Colour {
            primaries: d.color_primaries(),
            transfer: d.color_transfer_characteristic(),
            matrix: d.color_space(),
            range: d.color_range(),
        }
    }

    /// `self`, with what it leaves unspecified taken from `other` (a picture's own tags,
    /// completed by its stream's).
    pub fn or(self, other: Colour) -> Colour {
        Colour {
            primaries: if self.primaries == Primaries::Unspecified {
                other.primaries
            } else {
                self.primaries
            },
            transfer: if self.transfer == Transfer::Unspecified {
                other.transfer
            } else {
                self.transfer
            },
            matrix: if self.matrix == Space::Unspecified {
                other.matrix
            } else {
                self.matrix
            },
            range: if self.range == Range::Unspecified {
                other.range
            } else {
                self.range
            },
        }
    }

    pub fn dynamic(&self) -> Dynamic {
        match self.transfer {
            Transfer::SMPTE2084 => Dynamic::Pq,
            Transfer::ARIB_STD_B67 => Dynamic::Hlg,
            _ => Dynamic::Sdr,
        }
    }

    pub fn conversion(&self) -> Conversion {
        match self.dynamic() {
            Dynamic::Sdr
                if self.primaries == Primaries::BT2020
                    || matches!(self.matrix, Space::BT2020NCL | Space::BT2020CL) =>
            {
                Conversion::Gamut
            }
            Dynamic::Sdr => Conversion::None,
            hdr => Conversion::ToneMap(hdr),
        }
    }

    /// The filters (zscale, tonemap) that bring these pictures to BT.709 SDR 8-bit 4:2:0,
    /// or `None` when they are scaled as they are. Every input property is given to zscale
    /// explicitly (a picture whose own tags are missing is described by its stream's and
    /// our defaults), and so is every output one: zscale otherwise copies unspecified ones
    /// from the picture and finds "no path between colorspaces".
    pub fn filter_chain(&self) -> Option<String> {
        let (tin, default_primaries) = match self.conversion() {
            Conversion::None => return None,
            Conversion::ToneMap(Dynamic::Pq) => ("smpte2084", "bt2020"),
            Conversion::ToneMap(_) => ("arib-std-b67", "bt2020"),
            Conversion::Gamut => (sdr_transfer_name(self.transfer), "bt2020"),
        };
        let input = format!(
            "tin={tin}:pin={p}:min={m}:rin={r}",
            p = primaries_name(self.primaries).unwrap_or(default_primaries),
            m = matrix_name(self.matrix).unwrap_or("bt2020nc"),
            r = if self.range == Range::JPEG {
                "pc"
            } else {
                "tv"
            },
        );
        Some(match self.conversion() {
            Conversion::ToneMap(_) => format!(
                "zscale={input}:t=linear:p=bt2020:npl={NOMINAL_PEAK_NITS},format=gbrpf32le,\
                 zscale=p=bt709,tonemap=tonemap={TONEMAP_OPERATOR}:desat=0,\
                 zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
            ),
            _ => format!("zscale={input}:t=bt709:p=bt709:m=bt709:r=tv,format=yuv420p"),
        })
    }

    /// The tags of the ladder made from pictures of this colour, decoded as 8-bit 4:2:0
    /// (`yuv420p`) or not: BT.709 when they are converted; otherwise their own, with the range
    /// the filter graph leaves them in (only `yuv420p` pictures skip the conversion to it,
    /// which makes them limited).
    pub fn ladder(&self, yuv420p: bool) -> Colour {
        if self.conversion() != Conversion::None {
            return Colour::BT709;
        }
        Colour {
            range: if yuv420p && self.range == Range::JPEG {
                Range::JPEG
            } else {
                Range::MPEG
            },
            ..*self
        }
    }

    /// Tags these as the encoder's, which x264 writes into the stream's VUI.
    pub fn tag_encoder(&self, enc: &mut ffmpeg::encoder::video::Video) {
        enc.set_color_primaries(self.primaries);
        enc.set_color_transfer_characteristic(self.transfer);
        enc.set_colorspace(self.matrix);
        enc.set_color_range(self.range);
    }
}

/// zscale's names for the primaries it is given, where the source's are ones it knows.
fn primaries_name(p: Primaries) -> Option<&'static str> {
    Some(match p {
        Primaries::BT709 => "bt709",
        Primaries::BT2020 => "bt2020",
        Primaries::SMPTE170M => "smpte170m",
        Primaries::BT470BG => "bt470bg",
        Primaries::SMPTE431 => "smpte431",
        Primaries::SMPTE432 => "smpte432",
        _ => return None,
    })
}

fn matrix_name(m: Space) -> Option<&'static str> {
    Some(match m {
        Space::BT709 => "bt709",
        Space::BT2020NCL => "bt2020nc",
        Space::BT2020CL => "bt2020c",
        Space::SMPTE170M => "smpte170m",
        Space::BT470BG => "bt470bg",
        _ => return None,
    })
}

/// An SDR transfer zscale knows; BT.709's curve otherwise (BT.2020's SDR curves are it).
fn sdr_transfer_name(t: Transfer) -> &'static str {
    match t {
        Transfer::BT2020_10 => "bt2020-10",
        Transfer::BT2020_12 => "bt2020-12",
        Transfer::SMPTE170M => "smpte170m",
        Transfer::IEC61966_2_1 => "iec61966-2-1",
        _ => "bt709",
    }
}

impl Serialize for Colour {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Colour", 5)?;
        st.serialize_field("primaries", &self.primaries.name())?;
        st.serialize_field("transfer", &self.transfer.name())?;
        st.serialize_field("matrix", &self.matrix.name())?;
        st.serialize_field("range", &self.range.name())?;
        st.serialize_field("dynamic", &self.dynamic())?;
        st.end()
    }
}

/// A Dolby Vision configuration record (`dvcC`/`dvvC`, FFmpeg's `AVDOVIDecoderConfigurationRecord`:
/// eight bytes, the profile third and the base layer's compatibility last).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DolbyVision {
    pub profile: u8,
    /// 0: none (profile 5); 1: HDR10; 2: SDR; 4: HLG; 6: Blu-ray HDR10.
    pub base_compatibility: u8,
}

impl DolbyVision {
    pub fn from_side_data(data: &[u8]) -> Option<DolbyVision> {
        match data {
            [_, _, profile, _, _, _, _, compat, ..] => Some(DolbyVision {
                profile: *profile,
                base_compatibility: *compat,
            }),
            _ => None,
        }
    }

    /// Whether the base layer is a picture players can show by itself: the HDR10, SDR or
    /// HLG base of profiles 7, 8 and 9 is decoded and handled like any PQ, SDR or HLG video
    /// (the Dolby Vision metadata is left aside); profile 5's base needs Dolby's reshaping.
    pub fn check(&self) -> Result<(), MediaError> {
        if self.profile == 5 || (self.base_compatibility == 0 && self.profile != 7) {
            // `unsupported_codec`, one of the failure codes every layer knows: to a player
            // without Dolby's decoder, profile 5 is a codec of its own.
            return Err(MediaError::input(
                "unsupported_codec",
                format!(
                    "Dolby Vision profile {} has no HDR10, HLG or SDR base picture to show; \
                     export the video as HDR10, HLG or SDR",
                    self.profile
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn colour(p: Primaries, t: Transfer, m: Space) -> Colour {
        Colour {
            primaries: p,
            transfer: t,
            matrix: m,
            range: Range::MPEG,
        }
    }

    #[test]
    fn hdr_is_tone_mapped_bt2020_sdr_converted_the_rest_untouched() {
        let pq = colour(Primaries::BT2020, Transfer::SMPTE2084, Space::BT2020NCL);
        assert_eq!(pq.conversion(), Conversion::ToneMap(Dynamic::Pq));
        let chain = pq.filter_chain().unwrap_or_default();
        assert!(chain.starts_with("zscale=tin=smpte2084:pin=bt2020:min=bt2020nc:rin=tv:"));
        assert!(chain.contains("tonemap=tonemap=mobius:desat=0"));
        assert!(chain.ends_with("zscale=t=bt709:m=bt709:r=tv,format=yuv420p"));
        assert_eq!(pq.ladder(false), Colour::BT709);

        // An HLG stream whose pictures say nothing of primaries or matrix: BT.2020 assumed.
        let hlg = colour(
            Primaries::Unspecified,
            Transfer::ARIB_STD_B67,
            Space::Unspecified,
        );
        assert_eq!(hlg.conversion(), Conversion::ToneMap(Dynamic::Hlg));
        assert!(
            hlg.filter_chain()
                .unwrap_or_default()
                .starts_with("zscale=tin=arib-std-b67:pin=bt2020:min=bt2020nc:")
        );

        let wide = colour(Primaries::BT2020, Transfer::BT2020_10, Space::BT2020NCL);
        assert_eq!(wide.conversion(), Conversion::Gamut);
        assert_eq!(
            wide.filter_chain().as_deref(),
            Some(
                "zscale=tin=bt2020-10:pin=bt2020:min=bt2020nc:rin=tv:t=bt709:p=bt709:m=bt709:\
                 r=tv,format=yuv420p"
            )
        );

        let sdr = colour(Primaries::BT709, Transfer::BT709, Space::BT709);
        assert_eq!(sdr.conversion(), Conversion::None);
        assert_eq!(sdr.filter_chain(), None);
        let untagged = colour(
            Primaries::Unspecified,
            Transfer::Unspecified,
            Space::Unspecified,
        );
        assert_eq!(untagged.conversion(), Conversion::None);
        assert_eq!(untagged.ladder(true).matrix, Space::Unspecified);
    }

    #[test]
    fn ladder_range_follows_the_scaler() {
        let full = Colour {
            range: Range::JPEG,
            ..Colour::BT709
        };
        assert_eq!(full.ladder(true).range, Range::JPEG);
        // Converted to 8-bit 4:2:0 by the filter graph (yuvj420p, 10-bit): limited.
        assert_eq!(full.ladder(false).range, Range::MPEG);
        let limited = Colour {
            range: Range::Unspecified,
            ..Colour::BT709
        };
        assert_eq!(limited.ladder(true).range, Range::MPEG);
    }

    #[test]
    fn frame_tags_completed_by_the_stream() {
        let stream = colour(Primaries::BT2020, Transfer::SMPTE2084, Space::BT2020NCL);
        let frame = colour(Primaries::Unspecified, Transfer::Unspecified, Space::BT709);
        let c = frame.or(stream);
        assert_eq!(c.transfer, Transfer::SMPTE2084);
        assert_eq!(c.matrix, Space::BT709);
    }

    #[test]
    fn dolby_vision_profiles() {
        let dv = |p, c| DolbyVision::from_side_data(&[1, 0, p, 6, 1, 0, 1, c]);
        assert!(dv(8, 1).is_some_and(|d| d.check().is_ok()));
        assert!(dv(8, 4).is_some_and(|d| d.check().is_ok()));
        assert!(dv(8, 2).is_some_and(|d| d.check().is_ok()));
        assert!(dv(7, 6).is_some_and(|d| d.check().is_ok()));
        assert!(dv(5, 0).is_some_and(|d| d.check().is_err()));
        assert_eq!(DolbyVision::from_side_data(&[1, 0, 5]), None);
    }
}
