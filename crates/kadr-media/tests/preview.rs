#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The hover preview made in the same pass as the ladder, checked with ffprobe and ffmpeg as a
//! browser would meet it: H.264 alone (no sound), at most 320 px on its long side, `moov`
//! before `mdat`, a few seconds long, cut from several parts of the video, bounded whatever
//! the file claims, vertical videos vertical.

mod fixtures;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use fixtures::{bunny, clip, ffmpeg, ffprobe, rotated};
use kadr_media::fmp4::top_level_boxes;
use kadr_media::plan::{DEFAULT_LADDER, plan};
use kadr_media::probe::probe;
use kadr_media::transcode::{PREVIEW_FILE, Preview, Settings, Transcoded, transcode};

/// The most pictures a preview holds (four windows of a second at 15 fps).
const CAP: u64 = 60;

fn run(input: &Path, out: &Path, settings: &Settings) -> Transcoded {
    let p = probe(input).unwrap();
    let (w, h) = p.video.display_size();
    let ladder = plan(w, h, p.duration_secs, &DEFAULT_LADDER);
    transcode(
        input,
        &p,
        &ladder.rungs,
        settings,
        out,
        &Arc::new(AtomicBool::new(false)),
        &|_| {},
    )
    .unwrap()
}

/// What ffprobe finds in a preview, after checking what every preview must be.
struct Seen {
    width: u32,
    height: u32,
    frames: u64,
    secs: f64,
}

/// Checks the preview `done` reports against the file itself: one H.264 stream and nothing
/// else, even sides of at most 320, faststart, decodes cleanly, as many pictures as reported.
fn check(out: &Path, preview: &Preview) -> Seen {
    let path = out.join("images").join(PREVIEW_FILE);
    assert_eq!(preview.file, PREVIEW_FILE);
    assert_eq!(preview.bytes, std::fs::metadata(&path).unwrap().len());

    let streams = ffprobe(
        &[
            "-count_frames",
            "-show_entries",
            "stream=codec_type,codec_name,width,height,pix_fmt,nb_read_frames",
            "-of",
            "csv=p=0",
        ],
        &path,
    );
    let lines: Vec<&str> = streams.lines().collect();
    assert_eq!(lines.len(), 1, "one stream, no audio: {streams}");
    let f: Vec<&str> = lines[0].split(',').collect();
    // codec_name, codec_type, width, height, pix_fmt, nb_read_frames (ffprobe's order).
    assert_eq!(&f[..2], ["h264", "video"], "{streams}");
    assert_eq!(f[4], "yuv420p", "{streams}");
    let (width, height): (u32, u32) = (f[2].parse().unwrap(), f[3].parse().unwrap());
    let frames: u64 = f[5].parse().unwrap();
    assert!(width <= 320 && height <= 320, "{width}×{height}");
    assert!(width % 2 == 0 && height % 2 == 0, "{width}×{height}");
    assert_eq!(preview.size, (width, height));
    assert_eq!(preview.frames, frames);
    assert!((1..=CAP).contains(&frames), "{frames} pictures");

    // Faststart: the browser reads the index before the pictures.
    let boxes: Vec<String> = top_level_boxes(&path)
        .unwrap()
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert_eq!(boxes.first().map(String::as_str), Some("ftyp"), "{boxes:?}");
    let moov = boxes.iter().position(|b| b == "moov").expect("a moov box");
    let mdat = boxes.iter().position(|b| b == "mdat").expect("an mdat box");
    assert!(moov < mdat, "moov after mdat: {boxes:?}");

    let decode = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        decode.status.success() && decode.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&decode.stderr)
    );
    let secs: f64 = ffprobe(
        &["-show_entries", "format=duration", "-of", "csv=p=0"],
        &path,
    )
    .parse()
    .unwrap();
    assert!(
        (secs - preview.duration_secs).abs() < 0.1,
        "{secs} vs {}",
        preview.duration_secs
    );
    Seen {
        width,
        height,
        frames,
        secs,
    }
}

#[test]
fn the_shared_clip_gives_its_first_seconds_small_silent_and_faststart() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    // 1280×720, 25 fps, 5.3 s with sound: shorter than the spread windows need.
    let done = run(&bunny(), out, &Settings::default());
    let preview = done.preview.as_ref().expect("a preview");
    let seen = check(out, preview);
    assert_eq!((seen.width, seen.height), (320, 180));
    // Its first 4 s at 12.5 fps.
    assert_eq!(seen.frames, 50);
    assert!((3.9..=4.2).contains(&seen.secs), "{} s", seen.secs);
    // A hover preview is small: a few tens of kilobytes.
    assert!(preview.bytes < 200_000, "{} bytes", preview.bytes);
    // The rest of the pass is as before: 720p down to 240p, poster and storyboard.
    assert!(done.images.is_some());
    assert_eq!(done.rungs.len(), 4);
}

/// Four seconds of each colour after the other, with sound.
fn quarters(dir: &Path) -> std::path::PathBuf {
    let colours = ["red", "lime", "blue", "white"];
    let mut graph = String::new();
    for (i, c) in colours.iter().enumerate() {
        graph.push_str(&format!("color=c={c}:s=640x360:r=25:d=5[c{i}];"));
    }
    graph.push_str("[c0][c1][c2][c3]concat=n=4:v=1:a=0[v]");
    ffmpeg(
        dir,
        "quarters.mp4",
        &[
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000:duration=20",
            "-filter_complex",
            &graph,
            "-map",
            "[v]",
            "-map",
            "0:a",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
        ],
    )
}

/// The colour of each decoded picture of `path`, as the nearest of red, green, blue, white.
fn colours(path: &Path) -> Vec<&'static str> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args([
            "-vf",
            "scale=4:4",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .unwrap();
    assert!(out.status.success());
    let refs = [
        ("red", [255.0, 0.0, 0.0]),
        ("green", [0.0, 255.0, 0.0]),
        ("blue", [0.0, 0.0, 255.0]),
        ("white", [255.0, 255.0, 255.0]),
    ];
    out.stdout
        .chunks_exact(4 * 4 * 3)
        .map(|picture| {
            let mut mean = [0f64; 3];
            for px in picture.chunks_exact(3) {
                for c in 0..3 {
                    mean[c] += f64::from(px[c]) / 16.0;
                }
            }
            let dist = |r: &[f64; 3]| (0..3).map(|c| (mean[c] - r[c]).powi(2)).sum::<f64>();
            refs.iter()
                .min_by(|a, b| dist(&a.1).total_cmp(&dist(&b.1)))
                .map(|(name, _)| *name)
                .unwrap()
        })
        .collect()
}

#[test]
fn pictures_come_from_windows_spread_over_the_video() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = quarters(d);
    let out = d.join("out");
    let done = run(&input, &out, &Settings::default());
    let seen = check(&out, done.preview.as_ref().expect("a preview"));
    assert_eq!((seen.width, seen.height), (320, 180));
    // Windows of a second at 4, 8, 12 and 16 s; 25 fps → 12.5 fps: 13 pictures each.
    assert_eq!(seen.frames, 52);
    assert!((4.0..=4.3).contains(&seen.secs), "{} s", seen.secs);
    let found = colours(&out.join("images").join(PREVIEW_FILE));
    assert_eq!(found.len() as u64, seen.frames);
    let mut runs: Vec<(&str, usize)> = Vec::new();
    for c in found {
        match runs.last_mut() {
            Some((last, n)) if *last == c => *n += 1,
            _ => runs.push((c, 1)),
        }
    }
    // Each quarter of the video, in order, a window's worth of pictures each.
    let order: Vec<&str> = runs.iter().map(|(c, _)| *c).collect();
    assert_eq!(order, ["red", "green", "blue", "white"], "{runs:?}");
    assert!(runs.iter().all(|(_, n)| (12..=14).contains(n)), "{runs:?}");
}

#[test]
fn a_two_second_clip_gives_all_of_itself() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = clip(d, "short.mp4", 640, 360, 30, 2.0, &[]);
    let out = d.join("out");
    let done = run(&input, &out, &Settings::default());
    let seen = check(&out, done.preview.as_ref().expect("a preview"));
    assert_eq!((seen.width, seen.height), (320, 180));
    // Every second picture of 30 fps.
    assert_eq!(seen.frames, 30);
    assert!((1.9..=2.1).contains(&seen.secs), "{} s", seen.secs);
}

#[test]
fn a_file_longer_than_it_claims_stays_within_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // 40 s at 60 fps in Matroska, then its Duration (element 0x4489, an 8-byte float in
    // milliseconds) set to claim one second.
    let honest = ffmpeg(
        d,
        "honest.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=192x108:rate=60",
            "-t",
            "40",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ],
    );
    let mut bytes = std::fs::read(&honest).unwrap();
    let at = bytes
        .windows(3)
        .position(|w| w == [0x44, 0x89, 0x88])
        .expect("a Duration element");
    bytes[at + 3..at + 11].copy_from_slice(&1000.0f64.to_be_bytes());
    let lying = d.join("lying.mkv");
    std::fs::write(&lying, &bytes).unwrap();
    let claimed = probe(&lying).unwrap().duration_secs;
    assert!(claimed < 1.5, "the header claims {claimed} s");

    let out = d.join("out");
    let done = run(&lying, &out, &Settings::default());
    // The whole 40 s went through the ladder…
    let rung = &done.rungs[0];
    let ladder_secs: f64 = rung.segments.iter().map(|s| s.duration).sum();
    assert!(ladder_secs > 39.0, "{ladder_secs} s");
    // …and the preview is still its first seconds, at most the cap.
    let seen = check(&out, done.preview.as_ref().expect("a preview"));
    assert_eq!((seen.width, seen.height), (192, 108), "never upscaled");
    assert_eq!(seen.frames, CAP);
    assert!(seen.secs <= 4.1, "{} s", seen.secs);
}

#[test]
fn vertical_videos_stay_vertical() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let phone = clip(d, "phone.mp4", 360, 640, 25, 2.0, &[]);
    let out = d.join("out");
    let done = run(&phone, &out, &Settings::default());
    let seen = check(&out, done.preview.as_ref().expect("a preview"));
    assert_eq!((seen.width, seen.height), (180, 320));

    // A landscape picture the phone marked to be shown turned a quarter.
    let landscape = clip(d, "landscape.mp4", 640, 360, 25, 2.0, &[]);
    let (turned, _) = rotated(d, "turned.mp4", &landscape, 90);
    let out = d.join("out-turned");
    let done = run(&turned, &out, &Settings::default());
    let seen = check(&out, done.preview.as_ref().expect("a preview"));
    assert_eq!((seen.width, seen.height), (180, 320));
}

#[test]
fn no_preview_when_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = clip(d, "in.mp4", 640, 360, 25, 2.0, &[]);
    let out = d.join("out");
    let settings = Settings {
        preview: false,
        ..Settings::default()
    };
    let done = run(&input, &out, &settings);
    assert!(done.preview.is_none());
    assert!(!out.join("images").join(PREVIEW_FILE).exists());
    // The poster and storyboard are still made.
    assert!(done.images.is_some());
}
