//! The filter graphs: one helper builds `source → chain → sink`; the video's colour conversion
//! (HDR tone mapping), rotation and conversion to 8-bit 4:2:0 and the audio's resampling use it.

use ffmpeg::format::Pixel;
use ffmpeg::{Rational, filter, frame};
use ffmpeg_next as ffmpeg;

use crate::MediaError;

use super::{internal, undecodable};

/// The two ends of a graph: the source and sink filters of one media type.
pub(super) struct Ends {
    source: &'static str,
    sink: &'static str,
}

impl Ends {
    pub(super) const VIDEO: Ends = Ends {
        source: "buffer",
        sink: "buffersink",
    };
    pub(super) const AUDIO: Ends = Ends {
        source: "abuffer",
        sink: "abuffersink",
    };
}

/// A graph `source(args) → chain → sink`, the one shape Kadr uses: the source is named `in`,
/// the sink `out`. A chain that does not fit what is fed is reported by `invalid` (the input's
/// fault for video, ours for audio); anything else is ours.
pub(super) fn linear(
    ends: Ends,
    args: &str,
    chain: &str,
    what: &'static str,
    invalid: impl Fn(ffmpeg::Error) -> MediaError,
) -> Result<filter::Graph, MediaError> {
    let find = |name: &str| {
        filter::find(name).ok_or_else(|| MediaError::Internal(format!("no {name} filter")))
    };
    let mut graph = filter::Graph::new();
    graph
        .add(&find(ends.source)?, "in", args)
        .map_err(internal(what))?;
    graph
        .add(&find(ends.sink)?, "out", "")
        .map_err(internal(what))?;
    graph
        .output("in", 0)
        .and_then(|p| p.input("out", 0))
        .and_then(|p| p.parse(chain))
        .map_err(internal(what))?;
    graph.validate().map_err(invalid)?;
    Ok(graph)
}

/// Colour conversion (HDR tone mapping, BT.2020 to BT.709: `colour`), rotation and conversion
/// to 8-bit 4:2:0, when the decoded pictures need them. The colour chain comes first: it ends
/// in 8-bit 4:2:0, so the rotation moves a quarter of the bytes it would on 10-bit pictures.
pub(super) fn video_filter(
    pic: &frame::Video,
    tb: Rational,
    rotation: u32,
    colour: Option<&str>,
) -> Result<filter::Graph, MediaError> {
    let mut steps: Vec<&str> = colour.into_iter().collect();
    match rotation {
        90 => steps.push("transpose=clock"),
        180 => steps.extend(["hflip", "vflip"]),
        270 => steps.push("transpose=cclock"),
        _ => {}
    }
    if (pic.format() != Pixel::YUV420P && colour.is_none()) || steps.is_empty() {
        steps.push("format=yuv420p");
    }
    let aspect = pic.aspect_ratio();
    let args = format!(
        "video_size={}x{}:pix_fmt={}:time_base={}/{}:pixel_aspect={}/{}",
        pic.width(),
        pic.height(),
        pic.format()
            .descriptor()
            .map(|d| d.name())
            .unwrap_or("yuv420p"),
        tb.numerator(),
        tb.denominator().max(1),
        aspect.numerator().max(1),
        aspect.denominator().max(1)
    );
    linear(
        Ends::VIDEO,
        &args,
        &steps.join(","),
        "video filter graph",
        undecodable("video filter graph"),
    )
}
