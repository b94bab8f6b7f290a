//! The HLS ladder for one source: which rungs, at what size and bitrate cap.
//!
//! Rungs are chosen by the short side of the picture as displayed (after rotation), so vertical
//! and square videos get the same ladder as landscape ones. Nothing is upscaled: rungs above the
//! source are dropped, and when the source's short side falls between two rungs, the source's
//! own size becomes the top rung. Dimensions are even (4:2:0 chroma needs it) and keep the
//! display aspect ratio.

use serde::{Deserialize, Serialize};

/// One rung of the configured ladder: a short-side height and its bitrate cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LadderRung {
    /// Short side in pixels (1080, 720, …).
    pub short_side: u32,
    /// Peak bitrate cap in kbit/s (VBV maxrate; the buffer is twice that).
    pub max_kbps: u32,
}

/// The default ladder: 1080/720/480/360/240 with the caps of GUIDE §4.
pub const DEFAULT_LADDER: [LadderRung; 5] = [
    LadderRung {
        short_side: 1080,
        max_kbps: 5000,
    },
    LadderRung {
        short_side: 720,
        max_kbps: 3000,
    },
    LadderRung {
        short_side: 480,
        max_kbps: 1500,
    },
    LadderRung {
        short_side: 360,
        max_kbps: 800,
    },
    LadderRung {
        short_side: 240,
        max_kbps: 400,
    },
];

/// A rung to encode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rung {
    /// `720p`-style name: the short side and `p`.
    pub name: String,
    /// Output size as displayed (rotation already applied).
    pub width: u32,
    pub height: u32,
    pub max_kbps: u32,
}

/// The name of the audio-only rendition (`hls/{video}/audio/…`).
pub const AUDIO_RUNG: &str = "audio";

impl Rung {
    /// The audio-only rendition: no picture, `max_kbps` the AAC rate.
    pub fn audio_only(kbps: u32) -> Rung {
        Rung {
            name: AUDIO_RUNG.to_owned(),
            width: 0,
            height: 0,
            max_kbps: kbps,
        }
    }

    /// The audio-only rendition (it has no picture).
    pub fn is_audio_only(&self) -> bool {
        self.width == 0 || self.height == 0
    }

    pub fn short_side(&self) -> u32 {
        self.width.min(self.height)
    }
}

/// The rung the progressive MP4 download is made from: the largest whose short side is at most
/// `max_short_side`, else (every rung is larger) the smallest. `rungs` go largest first.
pub fn download_rung(rungs: &[Rung], max_short_side: u32) -> Option<usize> {
    rungs
        .iter()
        .position(|r| !r.is_audio_only() && r.short_side() <= max_short_side)
        .or_else(|| rungs.iter().rposition(|r| !r.is_audio_only()))
}

/// What a source will be turned into.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    /// Largest first; each rung is scaled from the one before it.
    pub rungs: Vec<Rung>,
    /// Short and vertical (or square): listed in the shorts feed.
    pub is_short: bool,
}

/// Longest video that counts as a short.
pub const SHORT_MAX_SECS: f64 = 180.0;

fn even(x: f64) -> u32 {
    let v = (x / 2.0).round() as i64 * 2;
    v.max(2) as u32
}

fn even_down(x: f64) -> u32 {
    ((x / 2.0).floor() as u32 * 2).max(2)
}

/// Plans the ladder for a picture displayed at `width`×`height` lasting `duration_secs`.
/// `ladder` is ordered from the largest rung down.
pub fn plan(width: u32, height: u32, duration_secs: f64, ladder: &[LadderRung]) -> Plan {
    let (w, h) = (f64::from(width.max(2)), f64::from(height.max(2)));
    let short = w.min(h);
    let portrait = h > w;
    // Size of a rung whose short side is `s`, aspect kept, both sides even.
    let sized = |s: f64| {
        let long = s * w.max(h) / short;
        if portrait {
            (even(s), even(long))
        } else {
            (even(long), even(s))
        }
    };
    let mut rungs: Vec<Rung> = Vec::new();
    let fitting: Vec<&LadderRung> = ladder
        .iter()
        .filter(|r| f64::from(r.short_side) <= short)
        .collect();
    let top_fits_exactly = fitting
        .first()
        .is_some_and(|r| f64::from(r.short_side) >= short - 1.0);
    let above = ladder
        .iter()
        .rev()
        .find(|r| f64::from(r.short_side) > short);
    // The source sits between rungs (or below them all): its own size leads. A source above
    // the whole ladder gets the ladder only.
    if above.is_some() && !top_fits_exactly {
        let below = fitting.first();
        // Rounded down, so the source is never enlarged by a pixel.
        let (width, height) = (even_down(w), even_down(h));
        let own_pixels = f64::from(width) * f64::from(height);
        let cap = match (below, above) {
            (Some(b), Some(a)) => {
                let (bw, bh) = sized(f64::from(b.short_side));
                let scaled = f64::from(b.max_kbps) * own_pixels / (f64::from(bw) * f64::from(bh));
                scaled.min(f64::from(a.max_kbps))
            }
            (Some(b), None) => {
                let (bw, bh) = sized(f64::from(b.short_side));
                f64::from(b.max_kbps) * own_pixels / (f64::from(bw) * f64::from(bh))
            }
            (None, Some(a)) => {
                let (aw, ah) = sized(f64::from(a.short_side));
                f64::from(a.max_kbps) * own_pixels / (f64::from(aw) * f64::from(ah))
            }
            (None, None) => 400.0,
        };
        rungs.push(Rung {
            name: format!("{}p", width.min(height)),
            width,
            height,
            max_kbps: cap.round().max(100.0) as u32,
        });
    }
    for r in fitting {
        let (width, height) = sized(f64::from(r.short_side));
        rungs.push(Rung {
            name: format!("{}p", r.short_side),
            width,
            height,
            max_kbps: r.max_kbps,
        });
    }
    Plan {
        rungs,
        is_short: duration_secs <= SHORT_MAX_SECS && width <= height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sizes(p: &Plan) -> Vec<(u32, u32)> {
        p.rungs.iter().map(|r| (r.width, r.height)).collect()
    }

    #[test]
    fn full_hd_gets_the_whole_ladder() {
        let p = plan(1920, 1080, 60.0, &DEFAULT_LADDER);
        assert_eq!(
            sizes(&p),
            vec![
                (1920, 1080),
                (1280, 720),
                (854, 480),
                (640, 360),
                (426, 240)
            ]
        );
        assert_eq!(p.rungs[0].name, "1080p");
        assert_eq!(p.rungs[0].max_kbps, 5000);
        assert!(!p.is_short);
    }

    #[test]
    fn no_upscaling_and_the_source_size_leads_between_rungs() {
        // The shared clip: 1280x720 exactly on a rung.
        let p = plan(1280, 720, 5.3, &DEFAULT_LADDER);
        assert_eq!(
            sizes(&p),
            vec![(1280, 720), (854, 480), (640, 360), (426, 240)]
        );
        // 853x479: between 480 and 360, odd sizes made even.
        let p = plan(853, 479, 10.0, &DEFAULT_LADDER);
        assert_eq!(sizes(&p), vec![(852, 478), (642, 360), (428, 240)]);
        assert_eq!(p.rungs[0].name, "478p");
        assert!(
            p.rungs[0].max_kbps > 800 && p.rungs[0].max_kbps <= 1500,
            "{:?}",
            p.rungs[0]
        );
        // Tiny sources get one rung of their own size.
        let p = plan(160, 120, 3.0, &DEFAULT_LADDER);
        assert_eq!(sizes(&p), vec![(160, 120)]);
    }

    #[test]
    fn vertical_and_square_videos_get_a_proper_ladder() {
        let p = plan(1080, 1920, 30.0, &DEFAULT_LADDER);
        assert_eq!(
            sizes(&p),
            vec![
                (1080, 1920),
                (720, 1280),
                (480, 854),
                (360, 640),
                (240, 426)
            ]
        );
        assert!(p.is_short);
        let p = plan(1080, 1080, 200.0, &DEFAULT_LADDER);
        assert_eq!(sizes(&p)[0], (1080, 1080));
        assert!(!p.is_short, "longer than 3 minutes");
        assert!(
            plan(720, 720, 15.0, &DEFAULT_LADDER).is_short,
            "square counts"
        );
    }

    #[test]
    fn sources_above_the_ladder_get_the_ladder() {
        let p = plan(3840, 2160, 10.0, &DEFAULT_LADDER);
        assert_eq!(sizes(&p)[0], (1920, 1080));
        assert_eq!(p.rungs.len(), 5);
    }

    #[test]
    fn every_size_is_even() {
        for (w, h) in [
            (853, 479),
            (1001, 777),
            (3, 3),
            (4096, 2160),
            (2160, 3840),
            (641, 359),
        ] {
            for r in plan(w, h, 10.0, &DEFAULT_LADDER).rungs {
                assert!(r.width % 2 == 0 && r.height % 2 == 0, "{w}x{h} -> {r:?}");
                assert!(
                    r.width <= w.max(2) + 1 && r.height <= h.max(2) + 1,
                    "no upscaling: {w}x{h} -> {r:?}"
                );
            }
        }
    }

    #[test]
    fn the_download_rung() {
        let rung = |w: u32, h: u32| Rung {
            name: format!("{}p", w.min(h)),
            width: w,
            height: h,
            max_kbps: 1,
        };
        let ladder = [
            rung(1920, 1080),
            rung(1280, 720),
            rung(854, 480),
            rung(640, 360),
        ];
        assert_eq!(download_rung(&ladder, 720), Some(1));
        assert_eq!(download_rung(&ladder, 1080), Some(0));
        assert_eq!(download_rung(&ladder, 500), Some(2));
        // Every rung is larger: the smallest.
        assert_eq!(download_rung(&ladder, 200), Some(3));
        // Vertical: by the short side.
        assert_eq!(
            download_rung(&[rung(1080, 1920), rung(720, 1280)], 720),
            Some(1)
        );
        assert_eq!(download_rung(&[], 720), None);
        assert!(Rung::audio_only(128).is_audio_only());
        assert!(!rung(640, 360).is_audio_only());
    }
}
