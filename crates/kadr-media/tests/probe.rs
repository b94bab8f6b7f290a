#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Probing real and generated inputs, and refusing broken ones with stable codes.

mod fixtures;

use fixtures::{bunny, clip, ffmpeg, rotated};
use kadr_media::MediaError;
use kadr_media::probe::{Limits, check_limits, probe};

fn code(e: MediaError) -> &'static str {
    match e {
        MediaError::Input { code, .. } => code,
        other => panic!("expected an input fault, got {other:?}"),
    }
}

#[test]
fn the_shared_clip() {
    let p = probe(&bunny()).unwrap();
    assert_eq!((p.video.width, p.video.height), (1280, 720));
    assert_eq!(p.video.codec, "h264");
    assert_eq!(p.video.rotation, 0);
    assert_eq!(p.video.bit_depth, 8);
    assert!((p.duration_secs - 5.3).abs() < 0.2, "{}", p.duration_secs);
    let audio = p.audio.clone().unwrap();
    assert_eq!(audio.codec, "aac");
    check_limits(&p, &Limits::default()).unwrap();
}

#[test]
fn generated_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();

    let p = probe(&clip(d, "vertical.mp4", 1080, 1920, 30, 1.0, &[])).unwrap();
    assert_eq!(p.video.display_size(), (1080, 1920));

    let plain = clip(d, "plain.mp4", 1280, 720, 30, 1.0, &[]);
    let (rotated, turn) = rotated(d, "rotated.mp4", &plain, 90);
    let p = probe(&rotated).unwrap();
    assert_eq!((p.video.width, p.video.height), (1280, 720));
    assert_eq!(p.video.rotation, turn);
    assert_eq!(p.video.display_size(), (720, 1280));

    let p = probe(&clip(
        d,
        "tenbit.mp4",
        640,
        360,
        25,
        1.0,
        &[
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p10le",
        ],
    ))
    .unwrap();
    assert_eq!(p.video.bit_depth, 10);

    let p = probe(&clip(d, "silent.mp4", 640, 360, 25, 1.0, &["-an"])).unwrap();
    assert!(p.audio.is_none());

    let p = probe(&clip(
        d,
        "hevc.mp4",
        640,
        360,
        25,
        1.0,
        &["-c:v", "libx265", "-preset", "ultrafast", "-tag:v", "hvc1"],
    ))
    .unwrap();
    assert_eq!(p.video.codec, "hevc");
    let p = probe(&clip(
        d,
        "vp9.webm",
        640,
        360,
        25,
        1.0,
        &[
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-c:a",
            "libopus",
        ],
    ))
    .unwrap();
    assert_eq!(p.video.codec, "vp9");
    assert_eq!(p.audio.unwrap().codec, "opus");

    let p = probe(&clip(d, "fast.mp4", 1920, 1080, 60, 0.5, &[])).unwrap();
    assert!((p.video.fps - 60.0).abs() < 0.01);

    // Variable frame rate: frames dropped irregularly, timestamps kept.
    let p = probe(&clip(
        d,
        "vfr.mp4",
        640,
        360,
        30,
        2.0,
        &[
            "-vf",
            "select='not(mod(n\\,3))+between(n\\,20\\,40)'",
            "-fps_mode",
            "vfr",
        ],
    ))
    .unwrap();
    assert!(p.video.variable_frame_rate, "{:?}", p.video);
}

#[test]
fn broken_inputs_have_stable_codes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let empty = d.join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    assert_eq!(code(probe(&empty).unwrap_err()), "empty_file");

    let text = d.join("notes.mp4");
    std::fs::write(&text, "Это не видео, а текст.\n".repeat(100)).unwrap();
    assert_eq!(code(probe(&text).unwrap_err()), "not_a_video");

    let audio = ffmpeg(
        d,
        "audio.m4a",
        &["-f", "lavfi", "-i", "sine", "-t", "1", "-c:a", "aac"],
    );
    assert_eq!(code(probe(&audio).unwrap_err()), "no_video_stream");

    // An upload cut short (the index at the front claims more than is there) is refused
    // before any decoding, so it never becomes playable; cut at 95 % it is still whole enough.
    let src = bunny();
    let fast = ffmpeg(
        d,
        "fast.mp4",
        &[
            "-i",
            src.to_str().unwrap(),
            "-c",
            "copy",
            "-movflags",
            "+faststart",
        ],
    );
    let whole = std::fs::read(fast).unwrap();
    let cut = d.join("cut.mp4");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let e = probe(&cut).unwrap_err();
    assert_eq!(code(e.clone()), "truncated", "{e}");
    std::fs::write(&cut, &whole[..whole.len() * 98 / 100]).unwrap();
    assert!(probe(&cut).is_ok());

    // A header that claims 30000×30000.
    let huge = d.join("huge.y4m");
    let mut bytes = b"YUV4MPEG2 W30000 H30000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".to_vec();
    bytes.extend(vec![0u8; 4096]);
    std::fs::write(&huge, bytes).unwrap();
    // FFmpeg itself refuses a picture that size; either way it is the input's fault.
    let refused = match probe(&huge) {
        Ok(p) => code(check_limits(&p, &Limits::default()).unwrap_err()),
        Err(e) => code(e),
    };
    assert!(
        ["too_many_pixels", "not_a_video"].contains(&refused),
        "{refused}"
    );

    let p = probe(&bunny()).unwrap();
    let strict = Limits {
        max_duration_secs: 2.0,
        ..Limits::default()
    };
    assert_eq!(code(check_limits(&p, &strict).unwrap_err()), "too_long");
    let strict = Limits {
        max_pixels: 640 * 360,
        ..Limits::default()
    };
    assert_eq!(
        code(check_limits(&p, &strict).unwrap_err()),
        "too_many_pixels"
    );
    let strict = Limits {
        max_fps: 10.0,
        ..Limits::default()
    };
    assert_eq!(
        code(check_limits(&p, &strict).unwrap_err()),
        "too_many_frames_per_second"
    );

    // A missing input is our fault, not the uploader's.
    assert!(!probe(&d.join("missing.mp4")).unwrap_err().is_input_fault());
}
