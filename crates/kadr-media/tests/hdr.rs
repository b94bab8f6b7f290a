#![allow(clippy::unwrap_used, clippy::expect_used)]
//! HDR sources come out as BT.709 SDR: HLG and PQ clips (and BT.2020 SDR) made with the FFmpeg
//! CLI from a test pattern, transcoded by Kadr, decoded back and compared, region by region,
//! with the same source converted by the FFmpeg CLI with the documented chain. The naive
//! conversion (what Kadr did before: only the bit depth reduced) is checked to be far off, so
//! the comparison can fail. The ladder's colour tags are read with ffprobe. Dolby Vision is
//! declared by a `dvcC` box written into the clips: profile 8 goes the HDR10/HLG way, profile
//! 5 is refused.

mod fixtures;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use fixtures::{clip, ffmpeg, ffprobe};
use kadr_media::MediaError;
use kadr_media::colour::Dynamic;
use kadr_media::hls::write_playlists;
use kadr_media::plan::{DEFAULT_LADDER, plan};
use kadr_media::probe::probe;
use kadr_media::transcode::{Settings, Transcoded, transcode};

const W: usize = 640;
const H: usize = 360;

/// The tone-mapping chain of docs/ARCHITECTURE.md, as one would type it for the CLI.
fn cli_tonemap(tin: &str) -> String {
    format!(
        "zscale=tin={tin}:pin=bt2020:min=bt2020nc:rin=tv:t=linear:p=bt2020:npl=100,\
         format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=mobius:desat=0,\
         zscale=t=bt709:m=bt709:r=tv,format=yuv420p"
    )
}

/// What Kadr did before: the pictures' bits reduced, their colour read as BT.709.
const NAIVE: &str = "format=yuv420p";

/// A 2 s, 640×360, 10-bit clip of `testsrc2` converted by zscale to `transfer` with BT.2020
/// primaries and matrix, SDR's white put at 203 nits (ITU-R BT.2408's HDR reference white,
/// what phones grade to), encoded by `codec` and tagged as phones tag theirs.
fn wide_clip(dir: &Path, name: &str, transfer: &str, codec: &[&str]) -> PathBuf {
    let vf = format!(
        "zscale=tin=bt709:pin=bt709:min=bt709:rin=tv:t={transfer}:p=bt2020:m=bt2020nc:r=tv:npl=203,\
         format=yuv420p10le"
    );
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=640x360:rate=25",
        "-t",
        "2",
        "-vf",
        &vf,
        "-an",
        "-color_primaries",
        "bt2020",
        "-color_trc",
        transfer,
        "-colorspace",
        "bt2020nc",
        "-color_range",
        "tv",
    ];
    args.extend_from_slice(codec);
    ffmpeg(dir, name, &args)
}

fn pq_clip(dir: &Path, name: &str) -> PathBuf {
    // HEVC with HDR10 metadata, as an Android phone records it.
    wide_clip(
        dir,
        name,
        "smpte2084",
        &[
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-crf",
            "14",
            "-tag:v",
            "hvc1",
            "-x265-params",
            "log-level=error:hdr10=1:colorprim=bt2020:transfer=smpte2084:colormatrix=bt2020nc:\
             master-display=G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1):\
             max-cll=1000,400",
        ],
    )
}

fn hlg_clip(dir: &Path, name: &str, codec: &str) -> PathBuf {
    let mut args = vec!["-c:v", codec, "-preset", "ultrafast", "-crf", "14"];
    if codec == "libx265" {
        args.extend_from_slice(&["-tag:v", "hvc1", "-x265-params", "log-level=error"]);
    }
    wide_clip(dir, name, "arib-std-b67", &args)
}

fn run(input: &Path, out: &Path) -> Result<Transcoded, MediaError> {
    let p = probe(input)?;
    let (w, h) = p.video.display_size();
    let ladder = plan(w, h, p.duration_secs, &DEFAULT_LADDER);
    let done = transcode(
        input,
        &p,
        &ladder.rungs,
        &Settings::default(),
        out,
        &Arc::new(AtomicBool::new(false)),
        &|_| {},
    )?;
    write_playlists(out, &done.rungs, p.video.fps)?;
    Ok(done)
}

/// The pictures of `input` as 8-bit 4:2:0, through `vf` when given, decoded by the CLI.
fn raw(input: &Path, vf: Option<&str>) -> Vec<u8> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-i"])
        .arg(input);
    if let Some(vf) = vf {
        cmd.args(["-vf", vf]);
    }
    let out = cmd
        .args(["-f", "rawvideo", "-pix_fmt", "yuv420p", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Means of Y, U and V over a 4×4 grid of regions, over all frames: 48 numbers, Y's first.
/// Also the mean saturation (distance of U, V from grey) for the report.
struct Stats {
    regions: Vec<f64>,
    saturation: f64,
    frames: usize,
}

fn stats(raw: &[u8]) -> Stats {
    let frame = W * H * 3 / 2;
    assert_eq!(raw.len() % frame, 0, "not whole {W}×{H} frames");
    let frames = raw.len() / frame;
    assert!(frames > 0);
    let mut sums = vec![0.0; 48];
    let mut counts = vec![0.0; 48];
    let mut saturation = 0.0;
    for f in raw.chunks_exact(frame) {
        let (y, uv) = f.split_at(W * H);
        let (u, v) = uv.split_at(W * H / 4);
        for (plane, (data, w, h)) in [(y, W, H), (u, W / 2, H / 2), (v, W / 2, H / 2)]
            .into_iter()
            .enumerate()
        {
            for (i, px) in data.iter().enumerate() {
                let (x, yy) = (i % w, i / w);
                let region = plane * 16 + (yy * 4 / h) * 4 + x * 4 / w;
                sums[region] += f64::from(*px);
                counts[region] += 1.0;
            }
        }
        saturation += u
            .iter()
            .zip(v)
            .map(|(a, b)| (f64::from(*a) - 128.0).hypot(f64::from(*b) - 128.0))
            .sum::<f64>()
            / u.len() as f64;
    }
    Stats {
        regions: sums.iter().zip(&counts).map(|(s, c)| s / c).collect(),
        saturation: saturation / frames as f64,
        frames,
    }
}

/// The largest difference between two sets of region means, in 8-bit code values.
fn worst(a: &Stats, b: &Stats) -> f64 {
    a.regions
        .iter()
        .zip(&b.regions)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max)
}

/// Region means (and the mean saturation) within 2 code values of the reference: x264 at CRF
/// 23 moved them by at most 0.2 on these clips. The naive conversion must be off by 5× that
/// somewhere (it was 39 to 67 off).
const TOLERANCE: f64 = 2.0;
const NAIVE_AT_LEAST: f64 = 5.0 * TOLERANCE;

fn colour_tags(path: &Path) -> String {
    let tags = ffprobe(
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "stream=color_range,color_space,color_transfer,color_primaries",
            "-of",
            "default=nw=1",
        ],
        path,
    );
    // HLS inputs list the stream once per program too.
    let mut lines: Vec<&str> = tags.lines().filter(|l| !l.is_empty()).collect();
    lines.dedup();
    lines.truncate(4);
    lines.join(",")
}

const BT709_TAGS: &str =
    "color_range=tv,color_space=bt709,color_transfer=bt709,color_primaries=bt709";

/// Transcodes `input`, then compares the top rung (the source's size) with the CLI's
/// conversion through `reference` and with the naive one; checks every output's tags.
fn check_against_cli(input: &Path, out: &Path, reference: &str) -> (f64, f64) {
    let done = run(input, out).unwrap();
    let top = &done.rungs[0];
    assert_eq!((top.rung.width, top.rung.height), (W as u32, H as u32));
    let playlist = top.dir.join("index.m3u8");
    assert!(playlist.is_file(), "{}", playlist.display());

    let kadr = stats(&raw(&playlist, None));
    let cli = stats(&raw(input, Some(reference)));
    let naive = stats(&raw(input, Some(NAIVE)));
    assert_eq!(kadr.frames, cli.frames);
    let off = worst(&kadr, &cli);
    let naive_off = worst(&naive, &cli);
    eprintln!(
        "{}: Kadr vs CLI worst region {off:.2}, naive vs CLI {naive_off:.2}; \
         mean Y Kadr {:.1} CLI {:.1} naive {:.1}; saturation Kadr {:.1} CLI {:.1} naive {:.1}",
        input.display(),
        kadr.regions[..16].iter().sum::<f64>() / 16.0,
        cli.regions[..16].iter().sum::<f64>() / 16.0,
        naive.regions[..16].iter().sum::<f64>() / 16.0,
        kadr.saturation,
        cli.saturation,
        naive.saturation
    );
    assert!(
        off <= TOLERANCE,
        "Kadr's output is {off:.2} code values from the CLI's"
    );
    assert!(
        naive_off >= NAIVE_AT_LEAST,
        "the naive conversion is only {naive_off:.2} from the CLI's: the test cannot fail"
    );
    assert!((kadr.saturation - cli.saturation).abs() <= TOLERANCE);

    for o in &done.rungs {
        assert_eq!(
            colour_tags(&o.dir.join("index.m3u8")),
            BT709_TAGS,
            "{}",
            o.rung.name
        );
    }
    for d in &done.downloads {
        assert_eq!(colour_tags(&d.path), BT709_TAGS, "{}", d.path.display());
    }
    (off, naive_off)
}

#[test]
fn pq_is_tone_mapped_like_the_cli_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pq = pq_clip(d, "pq.mp4");
    let p = probe(&pq).unwrap();
    assert_eq!(p.video.colour.dynamic(), Dynamic::Pq);
    assert_eq!(p.video.bit_depth, 10);
    check_against_cli(&pq, &d.join("out"), &cli_tonemap("smpte2084"));
}

#[test]
fn hlg_is_tone_mapped_like_the_cli_does() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // iPhones record HLG in HEVC; 10-bit H.264 takes the same path through another decoder.
    for codec in ["libx265", "libx264"] {
        let hlg = hlg_clip(d, &format!("hlg-{codec}.mp4"), codec);
        let p = probe(&hlg).unwrap();
        assert_eq!(p.video.colour.dynamic(), Dynamic::Hlg);
        check_against_cli(
            &hlg,
            &d.join(format!("out-{codec}")),
            &cli_tonemap("arib-std-b67"),
        );
    }
}

#[test]
fn bt2020_sdr_is_converted_to_bt709() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let wide = wide_clip(
        d,
        "bt2020.mp4",
        "bt2020-10",
        &["-c:v", "libx264", "-preset", "ultrafast", "-crf", "14"],
    );
    let p = probe(&wide).unwrap();
    assert_eq!(p.video.colour.dynamic(), Dynamic::Sdr);
    check_against_cli(
        &wide,
        &d.join("out"),
        "zscale=tin=bt2020-10:pin=bt2020:min=bt2020nc:rin=tv:t=bt709:p=bt709:m=bt709:r=tv,\
         format=yuv420p",
    );
}

#[test]
fn sdr_keeps_its_pictures_and_its_tags() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let sdr = clip(
        d,
        "sdr.mp4",
        640,
        360,
        25,
        2.0,
        &[
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-crf",
            "14",
            "-color_primaries",
            "bt709",
            "-color_trc",
            "bt709",
            "-colorspace",
            "bt709",
        ],
    );
    let done = run(&sdr, &d.join("out")).unwrap();
    let playlist = done.rungs[0].dir.join("index.m3u8");
    let kadr = stats(&raw(&playlist, None));
    let source = stats(&raw(&sdr, None));
    assert!(worst(&kadr, &source) <= TOLERANCE);
    assert_eq!(colour_tags(&playlist), BT709_TAGS);

    // An untagged source stays untagged (players guess as they did for the source). Its
    // limited range is H.264's default: x264 writes no signal type for it alone.
    let plain = clip(d, "plain.mp4", 640, 360, 25, 1.0, &["-an"]);
    let done = run(&plain, &d.join("out-plain")).unwrap();
    assert_eq!(
        colour_tags(&done.rungs[0].dir.join("index.m3u8")),
        "color_range=unknown,color_space=unknown,color_transfer=unknown,color_primaries=unknown"
    );
}

/// A copy of `input` (an MP4 with one HEVC track and its `moov` last, as FFmpeg writes it)
/// with a Dolby Vision configuration box (`dvcC`) of `profile` and base-layer
/// compatibility `compat` in its sample entry, as a phone's Dolby Vision recording has.
/// Only the boxes around it grow: `mdat` comes first, so no chunk offset moves.
fn with_dolby_vision(input: &Path, out: &Path, profile: u8, compat: u8) {
    let mut data = std::fs::read(input).unwrap();
    let path: [(&[u8; 4], usize); 7] = [
        (b"moov", 0),
        (b"trak", 0),
        (b"mdia", 0),
        (b"minf", 0),
        (b"stbl", 0),
        (b"stsd", 8),  // version, flags and entry count before the entries
        (b"hvc1", 78), // the visual sample entry's fields before its boxes
    ];
    let (mut start, mut end) = (0, data.len());
    let mut found = Vec::new();
    for (name, skip) in path {
        let mut at = start;
        loop {
            assert!(at + 8 <= end, "no {} box", String::from_utf8_lossy(name));
            let size = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
            if &data[at + 4..at + 8] == name {
                found.push(at);
                start = at + 8 + skip;
                end = at + size;
                break;
            }
            at += size;
        }
    }
    // dvcC: version 1.0; profile (7 bits), level (6), rpu, el, bl present; compatibility
    // (4 bits) and reserved bits; reserved words to 24 bytes.
    let bits: u16 = (u16::from(profile) << 9) | (6 << 3) | 0b101;
    let mut dvcc = vec![0, 0, 0, 32, b'd', b'v', b'c', b'C', 1, 0];
    dvcc.extend_from_slice(&bits.to_be_bytes());
    dvcc.push(compat << 4);
    dvcc.resize(32, 0);
    for at in &found {
        let size = u32::from_be_bytes(data[*at..*at + 4].try_into().unwrap()) + 32;
        data[*at..*at + 4].copy_from_slice(&size.to_be_bytes());
    }
    data.splice(end..end, dvcc);
    std::fs::write(out, data).unwrap();
}

#[test]
fn dolby_vision_with_an_hdr10_or_hlg_base_is_tone_mapped_profile_5_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pq = pq_clip(d, "pq.mp4");
    let hlg = hlg_clip(d, "hlg.mp4", "libx265");

    // Profile 8.1: an HDR10 base.
    let dv81 = d.join("dv81.mp4");
    with_dolby_vision(&pq, &dv81, 8, 1);
    assert!(
        ffprobe(&["-show_entries", "stream_side_data=dv_profile"], &dv81).contains("dv_profile=8")
    );
    let p = probe(&dv81).unwrap();
    let dv = p.video.dolby_vision.unwrap();
    assert_eq!((dv.profile, dv.base_compatibility), (8, 1));
    check_against_cli(&dv81, &d.join("out81"), &cli_tonemap("smpte2084"));

    // Profile 8.4: an HLG base.
    let dv84 = d.join("dv84.mp4");
    with_dolby_vision(&hlg, &dv84, 8, 4);
    assert_eq!(probe(&dv84).unwrap().video.colour.dynamic(), Dynamic::Hlg);
    check_against_cli(&dv84, &d.join("out84"), &cli_tonemap("arib-std-b67"));

    // Profile 5: nothing to show without Dolby's reshaping; refused, not shown wrong.
    let dv5 = d.join("dv5.mp4");
    with_dolby_vision(&pq, &dv5, 5, 0);
    match probe(&dv5) {
        Err(e @ MediaError::Input { code, .. }) => {
            assert_eq!(code, "unsupported_codec");
            assert!(e.to_string().contains("profile 5"), "{e}");
        }
        other => panic!("profile 5 was not refused: {other:?}"),
    }
}

#[test]
fn hdr_claims_on_8_bit_and_damaged_files_never_panic() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 8-bit 4:2:0 pictures tagged HLG: no bit depth to reduce, still tone-mapped.
    let eight = clip(
        d,
        "hlg8.mp4",
        320,
        180,
        25,
        1.0,
        &[
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-color_primaries",
            "bt2020",
            "-color_trc",
            "arib-std-b67",
            "-colorspace",
            "bt2020nc",
        ],
    );
    assert_eq!(probe(&eight).unwrap().video.colour.dynamic(), Dynamic::Hlg);
    let done = run(&eight, &d.join("out8")).unwrap();
    assert_eq!(
        colour_tags(&done.rungs[0].dir.join("index.m3u8")),
        BT709_TAGS
    );

    // A PQ clip with garbage through the middle of its pictures: a result or the input's
    // fault, never ours and never a panic.
    let pq = pq_clip(d, "pq.mp4");
    let mut bytes = std::fs::read(&pq).unwrap();
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid - 4000..mid + 4000] {
        *b = 0xa5;
    }
    let damaged = d.join("damaged.mp4");
    std::fs::write(&damaged, bytes).unwrap();
    match run(&damaged, &d.join("out-damaged")) {
        Ok(_) => {}
        Err(e) => assert!(e.is_input_fault(), "{e}"),
    }
}
