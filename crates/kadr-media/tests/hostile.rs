#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Hostile uploads: files whose bytes ask FFmpeg to open other files or URLs, files that lie
//! about their length, and pictures over the limit hidden inside small files. Each ends with
//! its code, and a listener the inputs point at records no connection.

mod fixtures;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use fixtures::{bunny, ffmpeg};
use kadr_media::MediaError;
use kadr_media::plan::{DEFAULT_LADDER, plan};
use kadr_media::probe::{Limits, check_limits, probe};
use kadr_media::transcode::{Settings, Transcoded, transcode};

/// A TCP listener on loopback that counts the connections it is offered.
fn listener() -> (u16, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = Arc::clone(&hits);
    std::thread::spawn(move || {
        for conn in l.incoming() {
            counted.fetch_add(1, Ordering::SeqCst);
            drop(conn);
        }
    });
    (port, hits)
}

/// What the worker does with an upload: probe, check the limits, transcode the planned ladder.
fn run(input: &Path, out: &Path, limits: &Limits) -> Result<Transcoded, MediaError> {
    let p = probe(input)?;
    check_limits(&p, limits)?;
    let (w, h) = p.video.display_size();
    let ladder = plan(w, h, p.duration_secs, &DEFAULT_LADDER);
    let settings = Settings {
        limits: limits.clone(),
        ..Settings::default()
    };
    transcode(
        input,
        &p,
        &ladder.rungs,
        &settings,
        out,
        &Arc::new(AtomicBool::new(false)),
        &|_| {},
    )
}

fn code(r: Result<Transcoded, MediaError>) -> String {
    match r {
        Err(MediaError::Input { code, .. }) => code.to_owned(),
        Err(other) => format!("not an input fault: {other}"),
        Ok(_) => "transcoded".to_owned(),
    }
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn files_that_point_elsewhere_are_not_videos_and_open_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let (port, hits) = listener();
    let url = format!("http://127.0.0.1:{port}");
    // A real video next to the upload: a playlist or script naming it must not read it.
    let local = bunny();
    let local = local.canonicalize().unwrap();
    let local = local.display();
    let corpus = [
        (
            "hls-remote",
            format!(
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\n{url}/seg0.ts\n#EXT-X-ENDLIST\n"
            ),
        ),
        (
            "hls-local",
            format!(
                "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:6\n#EXTINF:5.3,\nfile://{local}\n#EXTINF:5.3,\n{local}\n#EXT-X-ENDLIST\n"
            ),
        ),
        (
            "hls-master",
            format!("#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000\n{url}/variant.m3u8\n"),
        ),
        (
            "dash",
            format!(
                r#"<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S" minBufferTime="PT2S" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
 <Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="100000" codecs="avc1.64001f" width="640" height="360">
  <BaseURL>{url}/video.mp4</BaseURL></Representation></AdaptationSet></Period></MPD>
"#
            ),
        ),
        (
            "ffconcat",
            format!("ffconcat version 1.0\nfile '{url}/a.mp4'\nfile '{local}'\n"),
        ),
        (
            "sdp",
            format!(
                "v=0\no=- 0 0 IN IP4 127.0.0.1\ns=x\nc=IN IP4 127.0.0.1\nt=0 0\nm=video {port} RTP/AVP 96\na=rtpmap:96 H264/90000\n"
            ),
        ),
    ];
    for (name, text) in &corpus {
        let input = write(d, name, text);
        let got = code(run(
            &input,
            &d.join(format!("out-{name}")),
            &Limits::default(),
        ));
        assert_eq!(got, "not_a_video", "{name}");
    }
    // A single picture is not a video either (and image demuxers are not opened).
    let png = ffmpeg(
        d,
        "picture.png",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240",
            "-frames:v",
            "1",
        ],
    );
    let renamed = d.join("picture");
    std::fs::rename(&png, &renamed).unwrap();
    assert_eq!(
        code(run(&renamed, &d.join("out-png"), &Limits::default())),
        "not_a_video"
    );
    // Give a stray connection time to arrive before counting.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(hits.load(Ordering::SeqCst), 0, "the listener was contacted");
}

/// H.264 in MPEG-TS of `w`×`h` for `secs`, its timestamps starting at `offset` seconds, so
/// that files made this way and joined end to end play on as one stream.
fn ts_part(dir: &Path, name: &str, w: u32, h: u32, secs: f64, offset: f64) -> Vec<u8> {
    let src = format!("testsrc2=size={w}x{h}:rate=25");
    let (secs, offset) = (secs.to_string(), offset.to_string());
    let path = ffmpeg(
        dir,
        name,
        &[
            "-f",
            "lavfi",
            "-i",
            &src,
            "-t",
            &secs,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-g",
            "25",
            "-output_ts_offset",
            &offset,
            "-f",
            "mpegts",
        ],
    );
    std::fs::read(path).unwrap()
}

#[test]
fn a_raw_stream_longer_than_the_limit_stops_there() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let raw = ffmpeg(
        d,
        "raw.h264",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-t",
            "8",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-f",
            "h264",
        ],
    );
    let limits = Limits {
        max_duration_secs: 3.0,
        ..Limits::default()
    };
    assert_eq!(code(run(&raw, &d.join("out"), &limits)), "too_long");
    // Under a limit it fits, it transcodes.
    let loose = Limits {
        max_duration_secs: 60.0,
        ..Limits::default()
    };
    assert_eq!(code(run(&raw, &d.join("out-ok"), &loose)), "transcoded");
}

#[test]
fn a_container_lying_about_its_duration_stops_at_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let honest = ffmpeg(
        d,
        "honest.mkv",
        &[
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=320x240:rate=25",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            "8",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-c:a",
            "aac",
        ],
    );
    // Matroska's Duration (element 0x4489, an 8-byte float in milliseconds) set to one second.
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
    let limits = Limits {
        max_duration_secs: 4.0,
        ..Limits::default()
    };
    assert_eq!(code(run(&lying, &d.join("out"), &limits)), "too_long");
}

#[test]
fn a_huge_picture_inside_a_small_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut bytes = ts_part(d, "a.ts", 320, 240, 1.0, 0.0);
    bytes.extend(ts_part(d, "b.ts", 1600, 1200, 0.4, 1.0));
    bytes.extend(ts_part(d, "c.ts", 320, 240, 1.0, 1.4));
    let input = d.join("hidden.ts");
    std::fs::write(&input, &bytes).unwrap();
    let p = probe(&input).unwrap();
    assert_eq!((p.video.width, p.video.height), (320, 240));
    let limits = Limits {
        max_pixels: 1_000_000,
        ..Limits::default()
    };
    assert_eq!(
        code(run(&input, &d.join("out"), &limits)),
        "too_many_pixels"
    );
}

#[test]
fn a_resolution_change_keeps_the_planned_ladder() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut bytes = ts_part(d, "a.ts", 640, 360, 2.0, 0.0);
    bytes.extend(ts_part(d, "b.ts", 480, 480, 2.0, 2.0));
    bytes.extend(ts_part(d, "c.ts", 320, 180, 2.0, 4.0));
    let input = d.join("changing.ts");
    std::fs::write(&input, &bytes).unwrap();
    let out = d.join("out");
    let done = run(&input, &out, &Limits::default()).unwrap();
    assert!(!done.rungs.is_empty());
    for rung in &done.rungs {
        let name = &rung.rung.name;
        let total: f64 = rung.segments.iter().map(|s| s.duration).sum();
        assert!((total - 6.0).abs() < 0.5, "{name}: {total} s");
        // Every segment decodes at the rung's planned size.
        for seg in &rung.segments {
            let joined = d.join(format!("{name}-{}.mp4", seg.uri));
            let mut data = std::fs::read(rung.dir.join(&rung.init)).unwrap();
            data.extend(std::fs::read(rung.dir.join(&seg.uri)).unwrap());
            std::fs::write(&joined, data).unwrap();
            let probe = std::process::Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-select_streams",
                    "v:0",
                    "-show_entries",
                    "frame=width,height",
                    "-of",
                    "csv=p=0",
                ])
                .arg(&joined)
                .output()
                .unwrap();
            let sizes = String::from_utf8_lossy(&probe.stdout);
            let want = format!("{},{}", rung.rung.width, rung.rung.height);
            assert!(
                !sizes.trim().is_empty()
                    && sizes
                        .lines()
                        .map(|l| l.trim().trim_end_matches(','))
                        .filter(|l| !l.is_empty())
                        .all(|l| l == want),
                "{name}/{}: {sizes}",
                seg.uri
            );
        }
    }
}
