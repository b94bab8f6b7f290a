//! `kadr import` through real processes: a manifest of local files and URLs (served by an
//! origin on loopback) killed with SIGKILL in the middle of an upload and run again imports
//! every row exactly once, with its dates, captions and thumbnail, and a complete report; a
//! manifest with bad rows (CSV and JSON Lines) imports the good ones and reports each bad one
//! with its line and reason; and an archive written by the real yt-dlp (PyPI, pinned in
//! tests/import/requirements.txt, installed by `make test-deps`) from HTML pages on loopback
//! imports with its titles, dates, captions and thumbnails.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value;

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, command, creator, get_json, http, login, register_and_login,
    testsrc, until, wait_ready,
};
use crate::origin::Origin;

const VTT: &str = "WEBVTT\n\n00:00:00.500 --> 00:00:01.500\nПривет, мир\n";
const SRT: &str = "1\n00:00:00,500 --> 00:00:01,500\nHello, world\n";

fn import_cmd(base: &str, token: &str, args: &[&str]) -> Command {
    let mut cmd = command(&["import"]);
    cmd.args(args)
        .env("KADR_SERVER_URL", base)
        .env("KADR_TOKEN", token);
    cmd
}

fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out: Output = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The report as (line → record), checking its header.
fn report(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
    assert_eq!(
        header,
        [
            "line",
            "external_id",
            "video_id",
            "status",
            "code",
            "message"
        ]
    );
    r.records()
        .map(|rec| {
            let rec = rec.unwrap();
            header
                .iter()
                .cloned()
                .zip(rec.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

fn picture(path: &Path, colour: &str) {
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("color=c={colour}:s=640x360"))
        .args(["-frames:v", "1"])
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

/// A clip of noise that x264 cannot shrink (lossless): about `secs` × 4.6 MB, large enough
/// for an upload to be caught half-way.
fn noise_clip(path: &Path, secs: u32) {
    let ok = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("nullsrc=s=640x480:r=15,geq=lum='random(1)*255':cb=128:cr=128")
        .args(["-t", &secs.to_string()])
        .args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-qp",
            "0",
            "-pix_fmt",
            "yuv420p",
        ])
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

/// Every import of the user, all pages.
async fn imports(base: &str, token: &str) -> Vec<Value> {
    let mut all = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(c) => format!("{base}/api/v1/imports?limit=100&cursor={c}"),
            None => format!("{base}/api/v1/imports?limit=100"),
        };
        let (status, page) = get_json(&url, Some(token)).await;
        assert_eq!(status, 200, "{page}");
        all.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return all,
        }
    }
}

async fn videos_of(stack: &Stack, username: &str) -> i64 {
    let db = stack.db().await;
    let row = sea_orm::ConnectionTrait::query_one_raw(
        &db,
        sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!(
                "SELECT count(*) AS n FROM videos v JOIN users u ON u.id = v.owner_id
                 WHERE u.username = '{username}'"
            ),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    row.try_get::<i64>("", "n").unwrap()
}

async fn caption_langs(base: &str, token: &str, video: &str) -> Vec<String> {
    let (status, v) = get_json(
        &format!("{base}/api/v1/videos/{video}/captions"),
        Some(token),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let mut langs: Vec<String> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["lang"].as_str().unwrap().to_owned())
        .collect();
    langs.sort();
    langs
}

async fn poster_is_custom(base: &str, token: &str, video: &str) -> Value {
    until(
        &format!("{base}/api/v1/videos/{video}"),
        Some(token),
        "the thumbnail as poster",
        |v| {
            v["images"]["poster"]
                .as_str()
                .is_some_and(|p| p.contains("/images/custom_"))
        },
    )
    .await
}

/// A row of the killed-and-resumed manifest and what the server must show of it.
struct Row {
    external_id: &'static str,
    date: &'static str,
    title: &'static str,
    captions: &'static [&'static str],
    thumbnail: bool,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_killed_half_way_and_run_again_imports_every_row_once() {
    let origin = Origin::start("127.0.0.1").await;
    let stack = Stack::start(
        Backend::Local,
        &[("KADR_OUTBOUND__ALLOW", "[\"127.0.0.1\"]")],
    )
    .await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    // Verified: the videos are published without review, their date the original one.
    let token = creator(&base, &admin, "broadcaster").await;

    let dir = stack.dir.path().join("catalogue");
    std::fs::create_dir_all(dir.join("clips")).unwrap();
    std::fs::create_dir_all(dir.join("subs")).unwrap();
    for name in ["a", "c", "f", "h", "b", "d", "e", "g", "i"] {
        testsrc(
            &dir.join(format!("clips/{name}.mp4")),
            "320x240",
            15,
            2,
            &[],
        );
    }
    for name in ["b", "d", "e", "g", "i"] {
        let body = std::fs::read(dir.join(format!("clips/{name}.mp4"))).unwrap();
        origin.file(&format!("{name}.mp4"), body);
    }
    // The upload the kill interrupts: ~28 MB, sent 1 MiB per request.
    let big = dir.join("clips/big.mp4");
    noise_clip(&big, 6);
    let big_size = std::fs::metadata(&big).unwrap().len();
    assert!(big_size > 12 * 1024 * 1024, "{big_size}");
    std::fs::write(dir.join("subs/a.ru.vtt"), VTT).unwrap();
    std::fs::write(dir.join("subs/a.en.srt"), SRT).unwrap();
    std::fs::write(dir.join("subs/big.ru.vtt"), VTT).unwrap();
    picture(&dir.join("thumb.jpg"), "red");
    let remote_thumb = stack.dir.path().join("remote-thumb.png");
    picture(&remote_thumb, "green");
    origin.file("thumb.png", std::fs::read(&remote_thumb).unwrap());

    let u = |name: &str| origin.url(&format!("/file/{name}.mp4"));
    let thumb_url = origin.url("/file/thumb.png");
    let csv_text = format!(
        "source,external_id,title,description,tags,language,privacy,channel,original_date,captions,thumbnail\n\
         clips/a.mp4,ep-1,Заповедник «Кедровая падь»,\"Первый выпуск,\nс переносом строки\",природа|архив,ru,public,,2019-05-01,ru=subs/a.ru.vtt|en=subs/a.en.srt,thumb.jpg\n\
         {b},ep-2,Выпуск 2,,,,,,2018-03-04T10:00:00Z,,{thumb_url}\n\
         ./clips/c.mp4,,Выпуск 3,,,,,,2017-01-02,,\n\
         {d},ep-4,Выпуск 4,,,,,,2016-06-07,,\n\
         clips/big.mp4,ep-5,Большой выпуск,,шум,,,,2015-09-30T12:00:00+03:00,ru=subs/big.ru.vtt,thumb.jpg\n\
         {e},ep-6,Выпуск 6,,,,,,2014-02-03,,\n\
         clips/f.mp4,ep-7,Выпуск 7,,,,unlisted,,2013-04-05,,\n\
         {g},ep-8,Выпуск 8,,,,,,2012-07-08,,\n\
         clips/h.mp4,ep-9,Выпуск 9,,,,,,2011-10-11,,\n\
         {i},ep-10,Выпуск 10,,,,,,2010-12-13,,\n",
        b = u("b"),
        d = u("d"),
        e = u("e"),
        g = u("g"),
        i = u("i"),
    );
    let manifest = dir.join("catalogue.csv");
    std::fs::write(&manifest, csv_text).unwrap();
    let rows = [
        Row {
            external_id: "ep-1",
            date: "2019-05-01",
            title: "Заповедник «Кедровая падь»",
            captions: &["en", "ru"],
            thumbnail: true,
        },
        Row {
            external_id: "ep-2",
            date: "2018-03-04T10:00:00",
            title: "Выпуск 2",
            captions: &[],
            thumbnail: true,
        },
        Row {
            external_id: "file:clips/c.mp4",
            date: "2017-01-02",
            title: "Выпуск 3",
            captions: &[],
            thumbnail: false,
        },
        Row {
            external_id: "ep-4",
            date: "2016-06-07",
            title: "Выпуск 4",
            captions: &[],
            thumbnail: false,
        },
        Row {
            external_id: "ep-5",
            date: "2015-09-30T09:00:00",
            title: "Большой выпуск",
            captions: &["ru"],
            thumbnail: true,
        },
        Row {
            external_id: "ep-6",
            date: "2014-02-03",
            title: "Выпуск 6",
            captions: &[],
            thumbnail: false,
        },
        Row {
            external_id: "ep-7",
            date: "2013-04-05",
            title: "Выпуск 7",
            captions: &[],
            thumbnail: false,
        },
        Row {
            external_id: "ep-8",
            date: "2012-07-08",
            title: "Выпуск 8",
            captions: &[],
            thumbnail: false,
        },
        Row {
            external_id: "ep-9",
            date: "2011-10-11",
            title: "Выпуск 9",
            captions: &[],
            thumbnail: false,
        },
        Row {
            external_id: "ep-10",
            date: "2010-12-13",
            title: "Выпуск 10",
            captions: &[],
            thumbnail: false,
        },
    ];

    // One row at a time, 1 MiB per upload request: killed while the big file is on its way.
    let mut child = import_cmd(
        &base,
        &token,
        &[
            manifest.to_str().unwrap(),
            "--concurrency",
            "1",
            "--chunk-mib",
            "1",
        ],
    )
    .stdout(Stdio::null())
    .stderr(Stdio::null())
    .spawn()
    .unwrap();
    let started = Instant::now();
    let interrupted_at = 'kill: loop {
        for i in imports(&base, &token).await {
            if i["external_id"] == "ep-5"
                && let Some(upload) = i["upload_url"].as_str()
            {
                let res = http()
                    .head(upload)
                    .bearer_auth(&token)
                    .header("Tus-Resumable", "1.0.0")
                    .send()
                    .await
                    .unwrap();
                let offset: u64 = res.headers()["upload-offset"]
                    .to_str()
                    .unwrap()
                    .parse()
                    .unwrap();
                assert!(offset < big_size, "the upload ended before the kill");
                if offset >= 2 * 1024 * 1024 {
                    kill(Pid::from_raw(child.id() as i32), Signal::SIGKILL).unwrap();
                    child.wait().unwrap();
                    break 'kill offset;
                }
            }
        }
        assert!(
            child.try_wait().unwrap().is_none(),
            "the import ended before it could be killed"
        );
        assert!(started.elapsed() < Duration::from_secs(120));
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    eprintln!("import killed with {interrupted_at} of {big_size} bytes uploaded");
    let before = imports(&base, &token).await;
    assert!(
        before.len() >= 5 && before.len() < rows.len(),
        "killed half-way: {} imports",
        before.len()
    );
    assert!(!manifest.with_file_name("catalogue.report.csv").exists());

    // Run again: what was done is skipped, the big upload resumes, the rest is imported.
    let (code, stdout, stderr) = run(&mut import_cmd(
        &base,
        &token,
        &[manifest.to_str().unwrap(), "--concurrency", "3"],
    ));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    let lines = report(&manifest.with_file_name("catalogue.report.csv"));
    assert_eq!(lines.len(), rows.len(), "{lines:?}");
    let mut skipped = 0;
    for (line, row) in lines.iter().zip(&rows) {
        assert_eq!(line["external_id"], row.external_id, "{line:?}");
        assert!(
            matches!(line["status"].as_str(), "imported" | "skipped"),
            "{line:?}"
        );
        assert_eq!(line["code"], "", "{line:?}");
        assert_eq!(line["video_id"].len(), 36, "{line:?}");
        skipped += usize::from(line["status"] == "skipped");
    }
    assert!(skipped >= 3, "{lines:?}");
    assert!(
        stdout.contains(&format!(
            "{} imported, {skipped} skipped, 0 failed",
            rows.len() - skipped
        )),
        "{stdout}"
    );
    // Manifest lines: the description of line 2 spans two lines, so ep-2 is on line 4.
    let line_of: Vec<&str> = lines.iter().map(|l| l["line"].as_str()).collect();
    assert_eq!(
        line_of,
        ["2", "4", "5", "6", "7", "8", "9", "10", "11", "12"]
    );
    let big_line = &lines[4];
    assert_eq!(big_line["status"], "imported", "{big_line:?}");
    assert!(
        big_line["message"].contains("resumed at"),
        "the big upload was resumed, not restarted: {big_line:?}"
    );

    // No duplicates: one import and one video per row.
    let after = imports(&base, &token).await;
    assert_eq!(after.len(), rows.len());
    let ids: HashSet<&str> = after
        .iter()
        .map(|i| i["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), rows.len());
    assert_eq!(videos_of(&stack, "broadcaster").await, rows.len() as i64);
    let resumed = after.iter().find(|i| i["external_id"] == "ep-5").unwrap();
    assert_eq!(resumed["bytes_done"], big_size, "{resumed}");
    assert!(interrupted_at < big_size);

    // Everything arrived: ready, with its date, captions and thumbnail.
    for (line, row) in lines.iter().zip(&rows) {
        let video = &line["video_id"];
        let ready = wait_ready(&base, &token, video).await;
        assert_eq!(ready["title"], row.title, "{ready}");
        assert!(
            ready["published_at"]
                .as_str()
                .unwrap()
                .starts_with(row.date),
            "{}: {ready}",
            row.external_id
        );
        assert_eq!(caption_langs(&base, &token, video).await, row.captions);
        if row.thumbnail {
            poster_is_custom(&base, &token, video).await;
        }
    }
    let first = wait_ready(&base, &token, &lines[0]["video_id"]).await;
    assert_eq!(first["tags"], serde_json::json!(["природа", "архив"]));
    assert_eq!(first["description"], "Первый выпуск,\nс переносом строки");

    // A third run finds nothing to do.
    let (code, stdout, stderr) = run(&mut import_cmd(
        &base,
        &token,
        &[manifest.to_str().unwrap()],
    ));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("0 imported, {} skipped, 0 failed", rows.len())),
        "{stdout}"
    );
    assert_eq!(imports(&base, &token).await.len(), rows.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_rows_are_reported_and_the_good_ones_imported() {
    let origin = Origin::start("127.0.0.1").await;
    let stack = Stack::start(
        Backend::Local,
        &[("KADR_OUTBOUND__ALLOW", "[\"127.0.0.1\"]")],
    )
    .await;
    let base = stack.url("");
    let token = register_and_login(&base, "careless").await;
    let dir = stack.dir.path().join("manifests");
    std::fs::create_dir_all(&dir).unwrap();
    testsrc(&dir.join("good.mp4"), "320x240", 15, 2, &[]);
    origin.file("good.mp4", std::fs::read(dir.join("good.mp4")).unwrap());
    std::fs::write(dir.join("ru.vtt"), VTT).unwrap();
    let good_url = origin.url("/file/good.mp4");
    let gone_url = origin.url("/file/gone.mp4");

    // CSV: two good rows among bad ones.
    let csv_text = format!(
        "source,external_id,title,original_date,captions\n\
         good.mp4,csv-good,Хороший,2019-05-01,ru=ru.vtt\n\
         ,csv-nosource,Без источника,,\n\
         missing.mp4,csv-missing,,,\n\
         good.mp4,csv-date,,01.05.2019,\n\
         good.mp4,csv-captions,,,ru:ru.vtt\n\
         good.mp4,csv-dup,,,\n\
         {good_url},csv-dup,,,\n\
         {good_url},csv-url,По ссылке,2018-01-01,\n\
         {gone_url},csv-gone,,,\n\
         good.mp4,csv-short,\n"
    );
    let manifest = dir.join("rows.csv");
    std::fs::write(&manifest, csv_text).unwrap();
    let (code, stdout, stderr) = run(&mut import_cmd(
        &base,
        &token,
        &[manifest.to_str().unwrap()],
    ));
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2 imported, 0 skipped, 8 failed — see"),
        "{stdout}"
    );
    let lines = report(&dir.join("rows.report.csv"));
    let got: Vec<(&str, &str, &str, &str)> = lines
        .iter()
        .map(|l| {
            (
                l["line"].as_str(),
                l["external_id"].as_str(),
                l["status"].as_str(),
                l["code"].as_str(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("2", "csv-good", "imported", ""),
            ("3", "csv-nosource", "failed", "missing_source"),
            ("4", "csv-missing", "failed", "file_not_found"),
            ("5", "csv-date", "failed", "bad_date"),
            ("6", "csv-captions", "failed", "bad_captions"),
            ("7", "csv-dup", "failed", "duplicate_external_id"),
            ("8", "csv-dup", "failed", "duplicate_external_id"),
            ("9", "csv-url", "imported", ""),
            ("10", "csv-gone", "failed", "source_unavailable"),
            ("11", "", "failed", "bad_row"),
        ],
        "{lines:?}"
    );
    for l in &lines {
        if l["status"] == "failed" {
            assert!(!l["message"].is_empty(), "{l:?}");
        }
    }
    assert!(lines[2]["message"].contains("missing.mp4"), "{lines:?}");
    assert!(lines[3]["message"].contains("01.05.2019"), "{lines:?}");
    assert!(lines[5]["message"].contains("line 8"), "{lines:?}");
    assert!(lines[6]["message"].contains("line 7"), "{lines:?}");
    assert!(stderr.contains("line 5:"), "{stderr}");
    // Each bad row is named on the terminal too.
    for n in ["3", "4", "5", "6", "7", "8", "10", "11"] {
        assert!(stderr.contains(&format!("line {n}: ")), "{n}: {stderr}");
    }

    // JSON Lines: the same, with a malformed line and an unknown key.
    let jsonl = format!(
        "{{\"source\":\"good.mp4\",\"external_id\":\"jl-good\",\"title\":\"Строка JSON\",\"tags\":[\"а\",\"б\"],\"captions\":{{\"ru\":\"ru.vtt\"}},\"original_date\":\"2017-07-07\"}}\n\
         {{\"source\":\"good.mp4\",\"external_id\":\"jl-broken\",\n\
         \n\
         {{\"source\":\"good.mp4\",\"external_id\":\"jl-key\",\"titel\":\"опечатка\"}}\n\
         {{\"source\":\"good.mp4\",\"external_id\":\"jl-tags\",\"tags\":\"а|б\"}}\n\
         {{\"source\":\"nowhere.mp4\",\"external_id\":\"jl-missing\"}}\n\
         {{\"source\":\"{good_url}\",\"external_id\":\"jl-url\",\"original_date\":\"2016-02-29\"}}\n\
         {{\"source\":\"good.mp4\",\"external_id\":\"jl-date\",\"original_date\":\"вчера\"}}\n"
    );
    let manifest = dir.join("rows.jsonl");
    std::fs::write(&manifest, jsonl).unwrap();
    let report_path = dir.join("jsonl-report.csv");
    let (code, stdout, stderr) = run(&mut import_cmd(
        &base,
        &token,
        &[
            manifest.to_str().unwrap(),
            "--report",
            report_path.to_str().unwrap(),
        ],
    ));
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    let lines = report(&report_path);
    let got: Vec<(&str, &str, &str)> = lines
        .iter()
        .map(|l| (l["line"].as_str(), l["status"].as_str(), l["code"].as_str()))
        .collect();
    assert_eq!(
        got,
        [
            ("1", "imported", ""),
            ("2", "failed", "bad_json"),
            ("4", "failed", "unknown_key"),
            ("5", "failed", "bad_row"),
            ("6", "failed", "file_not_found"),
            ("7", "imported", ""),
            ("8", "failed", "bad_date"),
        ],
        "{lines:?}"
    );
    assert!(lines[2]["message"].contains("titel"), "{lines:?}");
    assert!(
        stdout.contains("2 imported, 0 skipped, 5 failed"),
        "{stdout}"
    );

    // Only the good rows became videos, with what their rows said.
    let all = imports(&base, &token).await;
    let mut names: Vec<&str> = all
        .iter()
        .map(|i| i["external_id"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(
        names,
        ["csv-gone", "csv-good", "csv-url", "jl-good", "jl-url"]
    );
    assert_eq!(videos_of(&stack, "careless").await, 5);
    let jl = lines[0]["video_id"].clone();
    let ready = wait_ready(&base, &token, &jl).await;
    assert_eq!(ready["title"], "Строка JSON");
    assert_eq!(ready["tags"], serde_json::json!(["а", "б"]));
    assert_eq!(caption_langs(&base, &token, &jl).await, ["ru"]);

    // An unverified account's rows went into a batch per run, for moderators to review
    // together; none of them is in the one-by-one queue.
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let (_, batches) = get_json(&format!("{base}/api/v1/moderation/batches"), Some(&admin)).await;
    let names: Vec<&str> = batches["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"bad.csv") || names.iter().any(|n| n.ends_with(".csv")),
        "{batches}"
    );
    let (_, queue) = get_json(&format!("{base}/api/v1/moderation/queue"), Some(&admin)).await;
    assert_eq!(queue["items"].as_array().unwrap().len(), 0, "{queue}");

    // --dry-run reads and checks only.
    let (code, stdout, _) = run(&mut import_cmd(
        &base,
        &token,
        &[manifest.to_str().unwrap(), "--dry-run"],
    ));
    assert_eq!(code, Some(1));
    assert!(stdout.contains("2 rows ready to import, 5 bad"), "{stdout}");
    assert_eq!(imports(&base, &token).await.len(), 5);
}

/// yt-dlp from `make test-deps`.
fn ytdlp() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/ytdlp-venv/bin/yt-dlp");
    assert!(
        p.is_file(),
        "yt-dlp is missing at {}: run `make test-deps` (it installs the version pinned in \
         tests/import/requirements.txt into target/ytdlp-venv)",
        p.display()
    );
    p
}

/// An episode page as a catalogue would publish it. yt-dlp's generic extractor takes a
/// page's `<video>` before its JSON-LD, so the JSON-LD `VideoObject` (name, description,
/// keywords, uploadDate, thumbnailUrl) is on the episode page and its `contentUrl` names the
/// player page with the `<video>`, its poster and its `<track>`: yt-dlp merges the two.
fn episode_pages(origin: &Origin, n: u32, name: &str, date: &str, lang: &str) {
    let poster = origin.url(&format!("/file/poster-{n}.jpg"));
    let player = origin.url(&format!("/page/player-{n}"));
    let ld = serde_json::json!({
        "@context": "https://schema.org",
        "@type": "VideoObject",
        "name": name,
        "description": format!("Описание: {name}"),
        "keywords": "архив, природа",
        "uploadDate": date,
        "thumbnailUrl": poster,
        "contentUrl": player,
    });
    origin.page(
        &format!("episode-{n}"),
        &format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{name} — архив</title>\
             <script type=\"application/ld+json\">{ld}</script></head>\
             <body><h1>{name}</h1><iframe src=\"{player}\"></iframe></body></html>"
        ),
    );
    origin.page(
        &format!("player-{n}"),
        &format!(
            "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>player</title></head><body>\
             <video controls poster=\"{poster}\">\
             <source src=\"{}\" type=\"video/mp4\">\
             <track kind=\"subtitles\" srclang=\"{lang}\" label=\"{lang}\" src=\"{}\">\
             </video></body></html>",
            origin.url(&format!("/file/clip-{n}.mp4")),
            origin.url(&format!("/file/clip-{n}.{lang}.vtt")),
        ),
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yt_dlp_archive_imports_with_its_dates_captions_and_thumbnails() {
    let ytdlp = ytdlp();
    let origin = Origin::start("127.0.0.1").await;
    let stack = Stack::start(Backend::Local, &[]).await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let token = creator(&base, &admin, "archive-keeper").await;

    let work = stack.dir.path().join("made");
    std::fs::create_dir_all(&work).unwrap();
    let episodes = [
        (1, "Заповедник «Кедровая падь»", "2019-05-01", "ru"),
        (2, "Песчаные дюны", "2016-08-15", "en"),
    ];
    for (n, name, date, lang) in episodes {
        let clip = work.join(format!("clip-{n}.mp4"));
        testsrc(&clip, "320x240", 15, 2, &[]);
        origin.file(&format!("clip-{n}.mp4"), std::fs::read(&clip).unwrap());
        let poster = work.join(format!("poster-{n}.jpg"));
        picture(&poster, if n == 1 { "blue" } else { "yellow" });
        origin.file(&format!("poster-{n}.jpg"), std::fs::read(&poster).unwrap());
        origin.file(
            &format!("clip-{n}.{lang}.vtt"),
            format!("WEBVTT\n\n00:00:00.500 --> 00:00:01.500\n{name}\n").into_bytes(),
        );
        episode_pages(&origin, n, name, date, lang);
    }

    let archive = stack.dir.path().join("archive");
    let out = Command::new(&ytdlp)
        .args([
            "--ignore-config",
            "--no-cache-dir",
            "--no-progress",
            "--write-info-json",
            "--write-subs",
            "--write-thumbnail",
            "-P",
        ])
        .arg(&archive)
        .arg(origin.url("/page/episode-1"))
        .arg(origin.url("/page/episode-2"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "yt-dlp failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // What yt-dlp wrote: each video's info, media, captions and thumbnail under one stem.
    let mut files: Vec<String> = std::fs::read_dir(&archive)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    for (n, name, date, lang) in episodes {
        let stem = format!("{name} [player-{n}-1]");
        for f in [
            format!("{stem}.info.json"),
            format!("{stem}.mp4"),
            format!("{stem}.{lang}.vtt"),
            format!("{stem}.jpg"),
        ] {
            assert!(
                files.contains(&f),
                "yt-dlp gave less than expected: no {f} among {files:?}"
            );
        }
        let info: Value = serde_json::from_slice(
            &std::fs::read(archive.join(format!("{stem}.info.json"))).unwrap(),
        )
        .unwrap();
        assert_eq!(info["title"], name, "{info}");
        assert_eq!(info["upload_date"], date.replace('-', ""), "{info}");
        assert_eq!(info["tags"].as_array().unwrap().len(), 2, "{info}");
    }

    let (code, stdout, stderr) = run(&mut import_cmd(&base, &token, &[archive.to_str().unwrap()]));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("2 imported, 0 skipped, 0 failed"),
        "{stdout}"
    );
    let lines = report(&stack.dir.path().join("archive.report.csv"));
    assert_eq!(lines.len(), 2, "{lines:?}");
    for (n, name, date, lang) in episodes {
        let line = lines
            .iter()
            .find(|l| l["external_id"] == format!("html5mediaembed:player-{n}-1"))
            .unwrap_or_else(|| panic!("episode {n}: {lines:?}"));
        assert_eq!(line["line"], format!("{name} [player-{n}-1].info.json"));
        let video = &line["video_id"];
        let ready = wait_ready(&base, &token, video).await;
        assert_eq!(ready["title"], name, "{ready}");
        assert_eq!(ready["description"], format!("Описание: {name}"), "{ready}");
        assert_eq!(
            ready["tags"],
            serde_json::json!(["архив", "природа"]),
            "{ready}"
        );
        assert!(
            ready["published_at"].as_str().unwrap().starts_with(date),
            "{ready}"
        );
        assert_eq!(caption_langs(&base, &token, video).await, [lang]);
        poster_is_custom(&base, &token, video).await;
    }

    // Again: nothing to do.
    let (code, stdout, stderr) = run(&mut import_cmd(&base, &token, &[archive.to_str().unwrap()]));
    assert_eq!(code, Some(0), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("0 imported, 2 skipped, 0 failed"),
        "{stdout}"
    );
    assert_eq!(videos_of(&stack, "archive-keeper").await, 2);
}
