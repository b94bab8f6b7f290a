#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The downloads and the audio-only rendition made in the same pass as the ladder, checked
//! with ffprobe: the MP4 is faststart (`moov` before `mdat`), holds H.264 + AAC as long as the
//! source and the very packets of its rung; the M4A holds AAC only; the master's last variant
//! is audio-only; a silent video gets neither M4A nor audio rendition.

mod fixtures;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use fixtures::{bunny, clip, ffprobe};
use kadr_media::fmp4::top_level_boxes;
use kadr_media::hls::write_playlists;
use kadr_media::plan::{DEFAULT_LADDER, plan};
use kadr_media::probe::probe;
use kadr_media::transcode::{DownloadKind, Settings, Transcoded, transcode};

fn duration(input: &Path) -> f64 {
    ffprobe(
        &["-show_entries", "format=duration", "-of", "csv=p=0"],
        input,
    )
    .parse()
    .unwrap()
}

fn codecs(input: &Path) -> Vec<String> {
    ffprobe(
        &["-show_entries", "stream=codec_name", "-of", "csv=p=0"],
        input,
    )
    .lines()
    .filter(|l| !l.is_empty())
    .map(str::to_owned)
    .collect()
}

/// Sizes of the video packets, as ffprobe reads them.
fn video_packets(input: &Path) -> Vec<u64> {
    ffprobe(
        &[
            "-select_streams",
            "v:0",
            "-show_entries",
            "packet=size",
            "-of",
            "csv=p=0",
        ],
        input,
    )
    .lines()
    .filter_map(|l| l.trim().parse().ok())
    .collect()
}

fn faststart(path: &Path) {
    let boxes: Vec<String> = top_level_boxes(path)
        .unwrap()
        .iter()
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .collect();
    assert_eq!(boxes.first().map(String::as_str), Some("ftyp"), "{boxes:?}");
    let moov = boxes.iter().position(|b| b == "moov").expect("a moov box");
    let mdat = boxes.iter().position(|b| b == "mdat").expect("an mdat box");
    assert!(moov < mdat, "moov after mdat: {boxes:?}");
}

fn run(input: &Path, out: &Path, settings: &Settings) -> Transcoded {
    let p = probe(input).unwrap();
    let (w, h) = p.video.display_size();
    let ladder = plan(w, h, p.duration_secs, &DEFAULT_LADDER);
    let done = transcode(
        input,
        &p,
        &ladder.rungs,
        settings,
        out,
        &Arc::new(AtomicBool::new(false)),
        &|_| {},
    )
    .unwrap();
    let mut renditions = done.rungs.clone();
    renditions.extend(done.audio.clone());
    write_playlists(out, &renditions, p.video.fps).unwrap();
    done
}

#[test]
fn mp4_m4a_and_audio_rendition_from_the_same_pass() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path();
    let source = bunny();
    let source_secs = duration(&source);
    let done = run(&source, out, &Settings::default());

    // The MP4: the 720p rung (the largest at most 720), faststart, H.264 + AAC, whole.
    let mp4 = done
        .downloads
        .iter()
        .find(|d| d.kind == DownloadKind::Mp4)
        .expect("an MP4");
    assert_eq!(mp4.size, Some((1280, 720)));
    assert_eq!(mp4.path, out.join("downloads/video.mp4"));
    assert_eq!(mp4.bytes, std::fs::metadata(&mp4.path).unwrap().len());
    faststart(&mp4.path);
    assert_eq!(codecs(&mp4.path), ["h264", "aac"]);
    let secs = duration(&mp4.path);
    assert!(
        (secs - source_secs).abs() <= 0.15,
        "{secs} vs {source_secs}"
    );
    let decode = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&mp4.path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        decode.status.success() && decode.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&decode.stderr)
    );
    // The same packets as the rung's segments: nothing was encoded twice.
    let rung = done.rungs.iter().find(|r| r.rung.name == "720p").unwrap();
    assert_eq!(
        video_packets(&mp4.path),
        video_packets(&rung.dir.join("index.m3u8"))
    );

    // The M4A: AAC alone, faststart, as long as the source.
    let m4a = done
        .downloads
        .iter()
        .find(|d| d.kind == DownloadKind::M4a)
        .expect("an M4A");
    assert_eq!(m4a.size, None);
    faststart(&m4a.path);
    assert_eq!(codecs(&m4a.path), ["aac"]);
    let secs = duration(&m4a.path);
    assert!(
        (secs - source_secs).abs() <= 0.15,
        "{secs} vs {source_secs}"
    );

    // The audio-only rendition: AAC segments of its own, last in the master, no RESOLUTION.
    let audio = done.audio.as_ref().expect("an audio-only rendition");
    assert_eq!(audio.rung.name, "audio");
    assert_eq!(audio.codecs, "mp4a.40.2");
    assert!(!audio.segments.is_empty());
    let playlist = out.join("audio/index.m3u8");
    // HLS inputs list the stream once per program too.
    let found = codecs(&playlist);
    assert!(
        !found.is_empty() && found.iter().all(|c| c == "aac"),
        "{found:?}"
    );
    let secs = duration(&playlist);
    assert!(
        (secs - source_secs).abs() <= 0.15,
        "{secs} vs {source_secs}"
    );
    let master = std::fs::read_to_string(out.join("master.m3u8")).unwrap();
    let lines: Vec<&str> = master.lines().collect();
    assert_eq!(lines.last(), Some(&"audio/index.m3u8"), "{master}");
    let inf = lines[lines.len() - 2];
    assert!(
        inf.starts_with("#EXT-X-STREAM-INF:BANDWIDTH=")
            && inf.contains(",AVERAGE-BANDWIDTH=")
            && inf.ends_with(",CODECS=\"mp4a.40.2\"")
            && !inf.contains("RESOLUTION"),
        "{inf}"
    );
    let average: u64 = inf
        .split("AVERAGE-BANDWIDTH=")
        .nth(1)
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .unwrap();
    assert!((100_000..200_000).contains(&average), "{inf}");
    // Every video rung is still there, as before, ahead of it.
    for r in &done.rungs {
        assert!(
            master.contains(&format!("RESOLUTION={}x{}", r.rung.width, r.rung.height)),
            "{master}"
        );
    }
    // A player reading the master sees the audio-only variant's stream (a program of its
    // own: ffprobe lists a program per variant).
    let programs = ffprobe(
        &["-show_entries", "program_stream=codec_type", "-of", "flat"],
        &out.join("master.m3u8"),
    );
    // Lines like `programs.program.3.streams.stream.0.codec_type="audio"`.
    let mut kinds: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for line in programs.lines() {
        let Some(rest) = line.strip_prefix("programs.program.") else {
            continue;
        };
        let Some((program, kind)) = rest.split_once(".streams.stream.") else {
            continue;
        };
        if let Some((_, value)) = kind.split_once("codec_type=") {
            kinds
                .entry(program.to_owned())
                .or_default()
                .push(value.trim_matches('"').to_owned());
        }
    }
    let audio_only_programs = kinds.values().filter(|k| *k == &["audio"]).count();
    assert_eq!(audio_only_programs, 1, "{programs}");
}

#[test]
fn a_silent_video_gets_no_m4a_and_no_audio_rendition() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let silent = clip(d, "silent.mp4", 640, 360, 25, 3.0, &["-an"]);
    let out = d.join("out");
    let done = run(&silent, &out, &Settings::default());
    assert!(done.audio.is_none());
    assert!(!out.join("audio").exists());
    assert_eq!(done.downloads.len(), 1, "{:?}", done.downloads);
    let mp4 = &done.downloads[0];
    assert_eq!(mp4.kind, DownloadKind::Mp4);
    assert_eq!(mp4.size, Some((640, 360)));
    faststart(&mp4.path);
    assert_eq!(codecs(&mp4.path), ["h264"]);
    let master = std::fs::read_to_string(out.join("master.m3u8")).unwrap();
    assert!(!master.contains("mp4a"), "{master}");
}

#[test]
fn nothing_more_when_turned_off() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let input = clip(d, "in.mp4", 854, 480, 25, 2.0, &[]);
    let out = d.join("out");
    let settings = Settings {
        mp4_download_max_height: None,
        audio_only: false,
        ..Settings::default()
    };
    let done = run(&input, &out, &settings);
    assert!(done.downloads.is_empty());
    assert!(done.audio.is_none());
    assert!(!out.join("downloads").exists());
    assert!(!out.join("audio").exists());
    let master = std::fs::read_to_string(out.join("master.m3u8")).unwrap();
    assert!(!master.contains("audio/index.m3u8"));
    // The MP4 from a smaller rung when asked: the largest at most 360.
    let out = d.join("out-360");
    let settings = Settings {
        mp4_download_max_height: Some(360),
        audio_only: false,
        ..Settings::default()
    };
    let done = run(&input, &out, &settings);
    assert_eq!(done.downloads.len(), 1);
    assert_eq!(done.downloads[0].size, Some((640, 360)));
    assert_eq!(codecs(&done.downloads[0].path), ["h264", "aac"]);
}
