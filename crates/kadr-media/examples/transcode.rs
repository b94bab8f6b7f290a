//! Transcodes a file the way the worker does (probe, limits, the default ladder), for
//! measuring what a setting costs without building the whole of Kadr:
//!
//! ```text
//! cargo run --release -p kadr-media --example transcode -- IN OUT_DIR [--no-preview]
//!     [--no-mp4-download] [--no-audio-only]
//! ```
//!
//! Prints the wall time and what was made; time it with `/usr/bin/time` for CPU.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use kadr_media::plan::{DEFAULT_LADDER, plan};
use kadr_media::probe::{check_limits, probe};
use kadr_media::transcode::{Settings, transcode};

fn main() -> ExitCode {
    let mut paths = Vec::new();
    let mut settings = Settings::default();
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "--no-preview" => settings.preview = false,
            "--no-mp4-download" => settings.mp4_download_max_height = None,
            "--no-audio-only" => settings.audio_only = false,
            flag if flag.starts_with("--") => {
                eprintln!("unknown flag {flag}");
                return ExitCode::from(2);
            }
            path => paths.push(PathBuf::from(path)),
        }
    }
    let [input, out] = paths.as_slice() else {
        eprintln!(
            "usage: transcode IN OUT_DIR [--no-preview] [--no-mp4-download] [--no-audio-only]"
        );
        return ExitCode::from(2);
    };
    let started = Instant::now();
    let done = probe(input)
        .and_then(|p| check_limits(&p, &settings.limits).map(|()| p))
        .and_then(|p| {
            let (w, h) = p.video.display_size();
            let ladder = plan(w, h, p.duration_secs, &DEFAULT_LADDER);
            transcode(
                input,
                &p,
                &ladder.rungs,
                &settings,
                out,
                &Arc::new(AtomicBool::new(false)),
                &|_| {},
            )
        });
    match done {
        Ok(done) => {
            println!("wall {:.2} s", started.elapsed().as_secs_f64());
            for r in &done.rungs {
                println!("rung {} {}x{}", r.rung.name, r.rung.width, r.rung.height);
            }
            for d in &done.downloads {
                println!("download {} {} bytes", d.path.display(), d.bytes);
            }
            match &done.preview {
                Some(p) => println!(
                    "preview {} {}x{} {} frames {:.2} s {} bytes",
                    p.file, p.size.0, p.size.1, p.frames, p.duration_secs, p.bytes
                ),
                None => println!("preview none"),
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("transcode failed: {e}");
            ExitCode::FAILURE
        }
    }
}
