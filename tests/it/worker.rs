//! The worker inside `kadr all`, end to end: an upload becomes an HLS ladder in storage and a
//! `ready` video; broken files end `failed` with their codes while the next good file is
//! transcoded. On local disk and on S3.

use std::time::{Duration, Instant};

use crate::common::{Backend, Stack, bunny, register_and_login};
use sea_orm::{ConnectionTrait, DatabaseConnection};

async fn get(db: &DatabaseConnection, sql: &str) -> Option<sea_orm::QueryResult> {
    db.query_one_raw(sea_orm::Statement::from_string(
        sea_orm::DatabaseBackend::Postgres,
        sql,
    ))
    .await
    .unwrap()
}

/// Uploads a file with `kadr upload`; returns the video id.
fn upload(stack: &Stack, token: &str, file: &std::path::Path) -> String {
    crate::common::upload_with(stack, token, file, &["--title", "t"])
}

/// Waits until the video leaves processing; returns (status, failure code).
async fn settled(db: &DatabaseConnection, video: &str) -> (String, Option<String>) {
    let started = Instant::now();
    loop {
        let row = get(
            db,
            &format!("SELECT status, failure_code FROM videos WHERE id = '{video}'"),
        )
        .await
        .unwrap();
        let status: String = row.try_get("", "status").unwrap();
        if status == "ready" || status == "failed" {
            return (status, row.try_get("", "failure_code").unwrap());
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "still {status}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn upload_to_ladder(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let token = register_and_login(&stack.url(""), &format!("worker-{backend:?}")).await;
    let db = stack.db().await;

    // Broken files first: each fails with its code, and is not retried.
    let empty = stack.dir.path().join("empty.mp4");
    std::fs::write(&empty, b"").unwrap();
    let text = stack.dir.path().join("notes.mp4");
    std::fs::write(&text, "не видео\n".repeat(1000)).unwrap();
    let whole = stack.dir.path().join("whole.mp4");
    crate::common::testsrc(&whole, "640x360", 25, 8, &["-movflags", "+faststart"]);
    let bytes = std::fs::read(&whole).unwrap();
    let truncated = stack.dir.path().join("truncated.mp4");
    std::fs::write(&truncated, &bytes[..bytes.len() / 3]).unwrap();
    let mut zeroed = bytes.clone();
    let mdat = zeroed.windows(4).position(|w| w == b"mdat").unwrap() + 4;
    zeroed[mdat..].iter_mut().for_each(|b| *b = 0);
    let undecodable = stack.dir.path().join("undecodable.mp4");
    std::fs::write(&undecodable, &zeroed).unwrap();
    let huge = stack.dir.path().join("huge.y4m");
    let mut header = b"YUV4MPEG2 W30000 H30000 F25:1 Ip A1:1 C420jpeg\nFRAME\n".to_vec();
    header.extend(vec![0u8; 4096]);
    std::fs::write(&huge, header).unwrap();
    // (Text may pass for a container without pictures: either code says what is wrong.)
    let cases: [(&std::path::Path, &[&str]); 5] = [
        (&empty, &["empty_file"]),
        (&text, &["not_a_video", "no_video_stream"]),
        (&truncated, &["truncated"]),
        (&undecodable, &["undecodable"]),
        (&huge, &["not_a_video", "too_many_pixels"]),
    ];
    for (file, want) in cases {
        let video = upload(&stack, &token, file);
        let (status, code) = settled(&db, &video).await;
        assert_eq!(status, "failed");
        assert!(want.contains(&code.as_deref().unwrap_or("")), "{code:?}");
        let row = get(
            &db,
            &format!("SELECT failure_message FROM videos WHERE id = '{video}'"),
        )
        .await
        .unwrap();
        assert!(
            !row.try_get::<String>("", "failure_message")
                .unwrap()
                .is_empty()
        );
    }

    // Then the shared clip: a full ladder.
    let video = upload(&stack, &token, &bunny());
    let (status, code) = settled(&db, &video).await;
    assert_eq!((status.as_str(), code), ("ready", None));
    let row = get(
        &db,
        &format!("SELECT playable, progress, width, height, duration_ms, is_short FROM videos WHERE id = '{video}'"),
    )
    .await
    .unwrap();
    assert!(row.try_get::<bool>("", "playable").unwrap());
    assert_eq!(row.try_get::<i16>("", "progress").unwrap(), 100);
    assert_eq!(
        (
            row.try_get::<i32>("", "width").unwrap(),
            row.try_get::<i32>("", "height").unwrap()
        ),
        (1280, 720)
    );
    assert!((row.try_get::<i64>("", "duration_ms").unwrap() - 5312).abs() < 100);
    assert!(!row.try_get::<bool>("", "is_short").unwrap());
    let rungs = get(&db, &format!("SELECT string_agg(name, ',' ORDER BY height DESC) AS n FROM renditions WHERE video_id = '{video}'"))
        .await
        .unwrap();
    assert_eq!(
        rungs.try_get::<String>("", "n").unwrap(),
        "720p,480p,360p,240p"
    );

    let keys: Vec<String> = match &stack.s3 {
        Some(s3) => kadr_storage::Storage::s3(s3.options())
            .await
            .unwrap()
            .list(&format!("hls/{video}/"))
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.key)
            .collect(),
        None => {
            let root = stack.dir.path().join("var/media");
            let master = root.join(format!("hls/{video}/master.m3u8"));
            // Every variant of the published ladder decodes to its end.
            let out = std::process::Command::new("ffmpeg")
                .args(["-v", "error", "-i"])
                .arg(&master)
                .args(["-map", "0:v", "-f", "null", "-"])
                .output()
                .unwrap();
            assert!(
                out.status.success() && out.stderr.is_empty(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            kadr_storage::Storage::local(kadr_storage::LocalOptions { root })
                .await
                .unwrap()
                .list(&format!("hls/{video}/"))
                .await
                .unwrap()
                .into_iter()
                .map(|m| m.key)
                .collect()
        }
    };
    for rung in ["720p", "480p", "360p", "240p"] {
        for file in ["index.m3u8", "init.mp4", "seg_00000.m4s", "seg_00001.m4s"] {
            let key = format!("hls/{video}/{rung}/{file}");
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
    }
    assert!(keys.contains(&format!("hls/{video}/master.m3u8")));
    // Poster, the four candidate frames, the hover preview and the storyboard, in storage
    // and in the database.
    let images = get(
        &db,
        &format!(
            "SELECT string_agg(kind, ',' ORDER BY kind) AS k FROM images WHERE video_id = '{video}'"
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        images.try_get::<String>("", "k").unwrap(),
        "frame,frame,frame,frame,frame_small,frame_small,frame_small,frame_small,\
         poster,poster_small,preview,storyboard,storyboard_vtt"
    );
    // A longer video is playable before its ladder is done: every rung's playlist grows
    // (EVENT) and the master lists them all while the video is still processing.
    let long = stack.dir.path().join("long.mp4");
    crate::common::testsrc(&long, "1280x720", 30, 24, &[]);
    let video = upload(&stack, &token, &long);
    let started = Instant::now();
    let early = loop {
        let row = get(
            &db,
            &format!("SELECT status, playable FROM videos WHERE id = '{video}'"),
        )
        .await
        .unwrap();
        let status: String = row.try_get("", "status").unwrap();
        assert_ne!(status, "ready", "never seen playable before ready");
        if row.try_get::<bool>("", "playable").unwrap() {
            break status;
        }
        assert!(started.elapsed() < Duration::from_secs(120));
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(early, "processing");
    let storage = match &stack.s3 {
        Some(s3) => kadr_storage::Storage::s3(s3.options()).await.unwrap(),
        None => kadr_storage::Storage::local(kadr_storage::LocalOptions {
            root: stack.dir.path().join("var/media"),
        })
        .await
        .unwrap(),
    };
    let read = |key: String| {
        let storage = storage.clone();
        async move {
            let obj = storage.get(&key, None).await.unwrap();
            let bytes: Vec<u8> = futures::StreamExt::collect::<Vec<_>>(obj.body)
                .await
                .into_iter()
                .flat_map(|c| c.unwrap().to_vec())
                .collect();
            String::from_utf8(bytes).unwrap()
        }
    };
    let master = read(format!("hls/{video}/master.m3u8")).await;
    assert_eq!(master.matches("#EXT-X-STREAM-INF").count(), 4, "{master}");
    for rung in ["720p", "480p", "360p", "240p"] {
        let media = read(format!("hls/{video}/{rung}/index.m3u8")).await;
        assert!(
            media.contains("#EXT-X-PLAYLIST-TYPE:EVENT") && media.contains("seg_00000.m4s"),
            "{media}"
        );
        assert!(!media.contains("#EXT-X-ENDLIST"));
    }
    let (status, _) = settled(&db, &video).await;
    assert_eq!(status, "ready");
    let media = read(format!("hls/{video}/720p/index.m3u8")).await;
    assert!(media.contains("#EXT-X-PLAYLIST-TYPE:VOD") && media.ends_with("#EXT-X-ENDLIST\n"));
    // 24 s: two short segments first (playable sooner), then 4 s ones.
    let durations: Vec<f64> = media
        .lines()
        .filter_map(|l| l.strip_prefix("#EXTINF:"))
        .map(|d| d.trim_end_matches(',').parse().unwrap())
        .collect();
    assert_eq!(
        durations,
        [1.0, 1.0, 4.0, 4.0, 4.0, 4.0, 4.0, 2.0],
        "{media}"
    );

    // The worker's metrics count what it did.
    let metrics = crate::common::get(&stack.url("/metrics")).await.2;
    let value = |name: &str| -> f64 {
        metrics
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|v| v.trim().parse().ok()))
            .unwrap_or_else(|| panic!("{name} missing from:\n{metrics}"))
    };
    assert_eq!(value("kadr_worker_jobs_total{outcome=\"done\"} "), 2.0);
    assert_eq!(value("kadr_worker_jobs_total{outcome=\"failed\"} "), 5.0);
    assert_eq!(value("kadr_worker_queue_wait_seconds_count "), 7.0);
    // A truncated file may be playable for a moment before its end shows it is truncated.
    assert!(value("kadr_worker_enqueue_to_playable_seconds_count ") >= 2.0);
    assert!(value("kadr_worker_first_segment_seconds_count ") >= 2.0);
    assert!(value("kadr_worker_full_ladder_seconds_count ") >= 2.0);
    assert!(value("kadr_worker_decode_fps ") > 0.0);

    // Nothing is left in the worker's scratch space.
    let work = stack.dir.path().join("var/work");
    assert_eq!(std::fs::read_dir(&work).map(|d| d.count()).unwrap_or(0), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_on_local_disk() {
    upload_to_ladder(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn worker_on_s3() {
    upload_to_ladder(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn worker_on_seaweedfs() {
    upload_to_ladder(Backend::Seaweed).await;
}

/// Uploads whose bytes are a playlist or a concat script naming a local listener and another
/// file on the worker's machine: each ends `failed` with `not_a_video`, and the listener sees
/// no connection. On local disk and on S3 (where the worker reads a local copy, never a URL).
async fn hostile_uploads_open_nothing(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let base = stack.url("");
    let token = register_and_login(&base, &format!("hostile-{backend:?}")).await;
    let db = stack.db().await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counted = hits.clone();
    std::thread::spawn(move || {
        for c in listener.incoming() {
            counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            drop(c);
        }
    });
    let local = bunny().canonicalize().unwrap();
    let local = local.display();
    let dir = tempfile::tempdir().unwrap();
    let files = [
        (
            "playlist.mp4",
            format!(
                "#EXTM3U\n#EXT-X-TARGETDURATION:6\n#EXTINF:5,\nhttp://127.0.0.1:{port}/a.ts\n#EXTINF:5,\nfile://{local}\n#EXT-X-ENDLIST\n"
            ),
        ),
        (
            "script.mp4",
            format!("ffconcat version 1.0\nfile 'http://127.0.0.1:{port}/b.mp4'\nfile '{local}'\n"),
        ),
    ];
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let video = upload(&stack, &token, &path);
        assert_eq!(
            settled(&db, &video).await,
            ("failed".to_owned(), Some("not_a_video".to_owned())),
            "{name}"
        );
    }
    assert_eq!(hits.load(std::sync::atomic::Ordering::SeqCst), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_uploads_on_local_disk() {
    hostile_uploads_open_nothing(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_uploads_on_s3() {
    hostile_uploads_open_nothing(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn hostile_uploads_on_seaweedfs() {
    hostile_uploads_open_nothing(Backend::Seaweed).await;
}
