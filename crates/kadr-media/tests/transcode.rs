#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Transcoding real and generated inputs, checked with ffprobe as a player would see them:
//! every rung decodes to its end at its planned size, lasts as long as the source, has its
//! keyframes at the same timestamps as every other rung, and the master lists them properly.

mod fixtures;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use fixtures::{bunny, clip, ffprobe, rotated};
use kadr_media::hls::{RungOutput, write_playlists};
use kadr_media::plan::{DEFAULT_LADDER, plan};
use kadr_media::probe::probe;
use kadr_media::transcode::{Settings, transcode};

/// Transcodes `input` and checks what a player would see. Returns the outputs.
fn transcode_and_check(input: &Path, out: &Path) -> Vec<RungOutput> {
    let p = probe(input).unwrap();
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
    )
    .unwrap();
    let outs = done.rungs;
    write_playlists(out, &outs, p.video.fps).unwrap();
    assert_eq!(outs.len(), ladder.rungs.len());

    let source_duration: f64 = ffprobe(
        &["-show_entries", "format=duration", "-of", "csv=p=0"],
        input,
    )
    .parse()
    .unwrap();
    let mut keyframes: Option<String> = None;
    for (o, rung) in outs.iter().zip(&ladder.rungs) {
        let playlist = o.dir.join("index.m3u8");
        let dims = ffprobe(
            &[
                "-select_streams",
                "v:0",
                "-show_entries",
                "stream=width,height",
                "-of",
                "csv=p=0",
            ],
            &playlist,
        );
        // HLS inputs list the stream once per program too.
        let dims = dims.lines().find(|l| !l.is_empty()).unwrap_or("");
        assert_eq!(
            dims,
            format!("{},{}", rung.width, rung.height),
            "{}",
            rung.name
        );
        // Decodes to the end without an error.
        let decode = Command::new("ffmpeg")
            .args(["-v", "error", "-i"])
            .arg(&playlist)
            .args(["-f", "null", "-"])
            .output()
            .unwrap();
        assert!(
            decode.status.success() && decode.stderr.is_empty(),
            "{}: {}",
            rung.name,
            String::from_utf8_lossy(&decode.stderr)
        );
        let duration: f64 = ffprobe(
            &["-show_entries", "format=duration", "-of", "csv=p=0"],
            &playlist,
        )
        .parse()
        .unwrap();
        assert!(
            (duration - source_duration).abs() <= 0.1,
            "{}: {duration} vs {source_duration}\n{}",
            rung.name,
            std::fs::read_to_string(&playlist).unwrap_or_default()
        );
        let keys = ffprobe(
            &[
                "-select_streams",
                "v:0",
                "-skip_frame",
                "nokey",
                "-show_entries",
                "frame=pts_time",
                "-of",
                "csv=p=0",
            ],
            &playlist,
        );
        match &keyframes {
            None => keyframes = Some(keys),
            Some(first) => assert_eq!(
                &keys, first,
                "keyframes of {} differ from the top rung",
                rung.name
            ),
        }
    }
    // A poster, large and small, and a storyboard with cues into its sheets.
    let images = done.images.expect("images");
    let poster = ffprobe(
        &["-show_entries", "stream=width,height", "-of", "csv=p=0"],
        &out.join("images").join(&images.poster),
    );
    assert_eq!(
        poster,
        format!("{},{}", images.poster_size.0, images.poster_size.1)
    );
    assert!(
        images.poster_size.0 <= 1280 && images.poster_size.0 >= outs.last().unwrap().rung.width
    );
    assert!(out.join("images").join(&images.poster_small).is_file());
    // The candidate frames: four, at rising times within the video, each a picture in two
    // sizes; the poster is one of them, byte for byte.
    assert_eq!(images.frames.len(), 4, "{:?}", images.frames);
    let poster_bytes = std::fs::read(out.join("images").join(&images.poster)).unwrap();
    let mut same_as_poster = 0;
    for (i, f) in images.frames.iter().enumerate() {
        assert_eq!(f.index, i);
        assert!(f.secs >= 0.0 && f.secs <= source_duration, "{f:?}");
        if i > 0 {
            assert!(f.secs > images.frames[i - 1].secs, "{:?}", images.frames);
        }
        let size = ffprobe(
            &["-show_entries", "stream=width,height", "-of", "csv=p=0"],
            &out.join("images").join(&f.file),
        );
        assert_eq!(size, format!("{},{}", f.size.0, f.size.1));
        let small = ffprobe(
            &["-show_entries", "stream=width", "-of", "csv=p=0"],
            &out.join("images").join(&f.small_file),
        );
        assert_eq!(small, "320");
        let bytes = std::fs::read(out.join("images").join(&f.file)).unwrap();
        same_as_poster += usize::from(bytes == poster_bytes);
    }
    assert_eq!(same_as_poster, 1, "the poster is one of the frames");
    let vtt = std::fs::read_to_string(out.join("images").join(&images.storyboard_vtt)).unwrap();
    assert!(vtt.starts_with("WEBVTT"));
    let cues = vtt.matches("#xywh=").count();
    assert!(
        cues >= 1 && cues >= (source_duration / 2.0).floor() as usize,
        "{cues} cues for {source_duration} s:\n{vtt}"
    );
    assert!(vtt.contains("00:00:00.000 --> 00:00:0"), "{vtt}");
    for sheet in &images.storyboard_sheets {
        assert!(out.join("images").join(sheet).is_file());
    }
    let master = std::fs::read_to_string(out.join("master.m3u8")).unwrap();
    for o in &outs {
        let line = master
            .lines()
            .find(|l| l.contains(&format!("RESOLUTION={}x{}", o.rung.width, o.rung.height)))
            .unwrap_or_else(|| panic!("{} missing from the master: {master}", o.rung.name));
        for attr in [
            "BANDWIDTH=",
            "AVERAGE-BANDWIDTH=",
            "CODECS=\"avc1.",
            "FRAME-RATE=",
        ] {
            assert!(line.contains(attr), "{attr} in {line}");
        }
    }
    outs
}

#[test]
fn the_shared_clip() {
    let dir = tempfile::tempdir().unwrap();
    let outs = transcode_and_check(&bunny(), dir.path());
    assert_eq!(outs[0].rung.name, "720p");
    assert!(outs[0].codecs.ends_with(",mp4a.40.2"));
}

#[test]
fn vertical_rotated_odd_tenbit_silent() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let vertical = clip(d, "vertical.mp4", 1080, 1920, 30, 3.0, &[]);
    let outs = transcode_and_check(&vertical, &d.join("out-vertical"));
    assert_eq!((outs[0].rung.width, outs[0].rung.height), (1080, 1920));

    let plain = clip(d, "plain.mp4", 1280, 720, 30, 3.0, &[]);
    let (turned, _) = rotated(d, "rotated.mp4", &plain, 90);
    let outs = transcode_and_check(&turned, &d.join("out-rotated"));
    assert_eq!((outs[0].rung.width, outs[0].rung.height), (720, 1280));

    let odd = clip(d, "odd.mp4", 853, 479, 25, 3.0, &[]);
    transcode_and_check(&odd, &d.join("out-odd"));

    let tenbit = clip(
        d,
        "tenbit.mp4",
        640,
        360,
        25,
        3.0,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p10le",
        ],
    );
    transcode_and_check(&tenbit, &d.join("out-tenbit"));

    let silent = clip(d, "silent.mp4", 640, 360, 25, 3.0, &["-an"]);
    let outs = transcode_and_check(&silent, &d.join("out-silent"));
    assert!(!outs[0].codecs.contains("mp4a"));
}

#[test]
fn fast_variable_and_other_codecs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fast = clip(d, "fast.mp4", 1920, 1080, 60, 2.0, &[]);
    let outs = transcode_and_check(&fast, &d.join("out-fast"));
    assert_eq!(outs.len(), 5);

    let vfr = clip(
        d,
        "vfr.mp4",
        640,
        360,
        30,
        6.0,
        &[
            "-vf",
            "select='not(mod(n\\,3))+between(n\\,40\\,90)'",
            "-fps_mode",
            "vfr",
        ],
    );
    transcode_and_check(&vfr, &d.join("out-vfr"));

    let hevc = clip(
        d,
        "hevc.mp4",
        640,
        360,
        25,
        3.0,
        &["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1"],
    );
    transcode_and_check(&hevc, &d.join("out-hevc"));
    let vp9 = clip(
        d,
        "vp9.webm",
        640,
        360,
        25,
        3.0,
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-c:a",
            "libopus",
        ],
    );
    transcode_and_check(&vp9, &d.join("out-vp9"));
}

fn input_fault(input: &Path, out: &Path) -> &'static str {
    let p = match probe(input) {
        Ok(p) => p,
        Err(kadr_media::MediaError::Input { code, .. }) => return code,
        Err(e) => panic!("{e}"),
    };
    let (w, h) = p.video.display_size();
    let ladder = plan(w, h, p.duration_secs, &DEFAULT_LADDER);
    match transcode(
        input,
        &p,
        &ladder.rungs,
        &Settings::default(),
        out,
        &Arc::new(AtomicBool::new(false)),
        &|_| {},
    ) {
        Err(kadr_media::MediaError::Input { code, .. }) => code,
        other => panic!("expected an input fault, got {other:?}"),
    }
}

#[test]
fn broken_inputs_fail_with_their_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // Index first (faststart), then cut: the file claims more than it holds.
    let whole = clip(
        d,
        "whole.mp4",
        640,
        360,
        25,
        8.0,
        &["-movflags", "+faststart"],
    );
    let bytes = std::fs::read(&whole).unwrap();
    let truncated = d.join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    assert_eq!(
        input_fault(&truncated, &d.join("out-truncated")),
        "truncated"
    );

    // Every picture's data overwritten: nothing decodes.
    let mut damaged = bytes.clone();
    let mdat = damaged.windows(4).position(|w| w == b"mdat").unwrap() + 4;
    for b in &mut damaged[mdat..] {
        *b = 0;
    }
    let undecodable = d.join("undecodable.mp4");
    std::fs::write(&undecodable, &damaged).unwrap();
    assert_eq!(
        input_fault(&undecodable, &d.join("out-undecodable")),
        "undecodable"
    );

    // The same process goes on to transcode a good file.
    transcode_and_check(&whole, &d.join("out-whole"));
}

/// A cancel stops the transcode part-way with `Cancelled`, not an input fault.
#[test]
fn cancel_stops_part_way() {
    let dir = tempfile::tempdir().unwrap();
    let input = bunny();
    let p = probe(&input).unwrap();
    let (w, h) = p.video.display_size();
    let ladder = plan(w, h, p.duration_secs, &DEFAULT_LADDER);
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let reached = std::sync::Mutex::new(0.0f64);
    let result = transcode(
        &input,
        &p,
        &ladder.rungs,
        &Settings::default(),
        dir.path(),
        &cancel,
        &|secs| {
            *reached.lock().unwrap() = secs;
            if secs >= 1.0 {
                flag.store(true, Ordering::Relaxed);
            }
        },
    );
    assert!(
        matches!(result, Err(kadr_media::MediaError::Cancelled)),
        "{result:?}"
    );
    let at = *reached.lock().unwrap();
    assert!(at >= 1.0 && at < p.duration_secs - 1.0, "stopped at {at} s");
}
