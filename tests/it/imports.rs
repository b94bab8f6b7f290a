//! Imports from URLs through real processes: a video fetched from an origin on loopback keeps
//! its original date and is found again by its external id; the outbound guard refuses
//! internal addresses at the door (literal ones, in every notation) and in the worker (names
//! that resolve to loopback, redirects that end there) while a trap listener records nothing,
//! and lets the one allowed internal host through; the source's faults fail the import with
//! stable codes; and a fetch killed with SIGKILL resumes with `Range` instead of starting over.

use std::process::Command;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, Backend, Kadr, Stack, call, command, creator, get_json, http, login,
    register_and_login, sha256_file, source_sha256, testsrc, until, wait_ready,
};
use crate::origin::Origin;

async fn import(base: &str, token: &str, body: Value) -> (u16, Value) {
    call(
        http()
            .post(format!("{base}/api/v1/videos/import"))
            .bearer_auth(token),
        Some(body),
    )
    .await
}

/// Polls the import until it leaves `queued`/`fetching`.
async fn settled(base: &str, token: &str, id: &str, secs: u64) -> Value {
    let started = Instant::now();
    loop {
        let (status, v) = get_json(&format!("{base}/api/v1/imports/{id}"), Some(token)).await;
        assert_eq!(status, 200, "{v}");
        if !matches!(v["state"].as_str(), Some("queued" | "fetching")) {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "import still {v}"
        );
        tokio::time::sleep(Duration::from_millis(150)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn url_import_keeps_its_date_and_its_external_id() {
    let origin = Origin::start("127.0.0.1").await;
    let stack = Stack::start(
        Backend::Local,
        &[
            ("KADR_OUTBOUND__ALLOW", "[\"127.0.0.1\"]"),
            ("KADR_UPLOAD__MAX_SIZE_BYTES", "2000000"),
        ],
    )
    .await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let token = creator(&base, &admin, "archivist").await;
    let clip = stack.dir.path().join("episode-12.mp4");
    testsrc(&clip, "320x240", 15, 2, &[]);
    origin.file("episode-12.mp4", std::fs::read(&clip).unwrap());

    let body = json!({
        "url": origin.url("/file/episode-12.mp4"),
        "external_id": "archive/ep-12",
        "original_date": "2019-05-01",
        "tags": ["архив"],
    });
    let (status, first) = import(&base, &token, body.clone()).await;
    assert_eq!(status, 202, "{first}");
    // A worker may have begun already.
    assert!(
        matches!(
            first["state"].as_str(),
            Some("queued" | "fetching" | "fetched")
        ),
        "{first}"
    );
    assert_eq!(first["source"], "url");
    let id = first["id"].as_str().unwrap().to_owned();
    let video = first["video_id"].as_str().unwrap().to_owned();

    let done = settled(&base, &token, &id, 60).await;
    assert_eq!(done["state"], "fetched", "{done}");
    let size = std::fs::metadata(&clip).unwrap().len();
    assert_eq!(done["bytes_done"], size);
    assert_eq!(done["bytes_total"], size);
    let ready = wait_ready(&base, &token, &video).await;
    // The title came from the URL's file name; the date is the original one.
    assert_eq!(ready["title"], "episode-12");
    assert!(
        ready["published_at"]
            .as_str()
            .unwrap()
            .starts_with("2019-05-01"),
        "{ready}"
    );
    let (sha, n) = source_sha256(&base, &token, &video).await;
    assert_eq!((sha, n), (sha256_file(&clip), size));

    // The same external id again: the first import, no second video.
    let (status, again) = import(&base, &token, body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    let (_, page) = get_json(
        &format!("{base}/api/v1/imports?external_id=archive/ep-12"),
        Some(&token),
    )
    .await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
    let (_, all) = get_json(&format!("{base}/api/v1/imports"), Some(&token)).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 1, "{all}");

    // An import is not news: nobody subscribed to the channel is told.
    let fan = register_and_login(&base, "fan-of-archives").await;
    // A user's first channel is named after them.
    let handle = "archivist";
    let (s, v) = call(
        http()
            .put(format!("{base}/api/v1/channels/{handle}/subscription"))
            .bearer_auth(&fan),
        None,
    )
    .await;
    assert_eq!((s, &v["subscribed"]), (200, &json!(true)), "{v}");
    let older = json!({
        "url": origin.url("/file/episode-12.mp4"),
        "external_id": "archive/ep-11",
        "original_date": "2018-03-04T10:00:00Z",
        "title": "Эпизод 11",
    });
    let (status, second) = import(&base, &token, older).await;
    assert_eq!(status, 202, "{second}");
    let second_video = second["video_id"].as_str().unwrap().to_owned();
    wait_ready(&base, &token, &second_video).await;
    // On the channel, the older original comes after the newer one, although imported later.
    let (_, listed) = get_json(&format!("{base}/api/v1/channels/{handle}/videos"), None).await;
    let order: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        vec![video.as_str(), second_video.as_str()],
        "{listed}"
    );
    // Give the announcer time to have run; the fan has no notification of either.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, notes) = get_json(&format!("{base}/api/v1/notifications"), Some(&fan)).await;
    let items = notes["items"].as_array().cloned().unwrap_or_default();
    assert!(
        items.iter().all(|n| n["type"] != "new_video"),
        "imports announced: {notes}"
    );

    // The source's faults, with stable codes.
    origin.file("big.mp4", vec![7u8; 3_000_000]);
    for (path, code) in [
        ("/file/missing.mp4", "source_unavailable"),
        ("/status/403", "source_unavailable"),
        ("/file/big.mp4", "source_too_large"),
    ] {
        let (status, v) = import(&base, &token, json!({ "url": origin.url(path) })).await;
        assert_eq!(status, 202, "{v}");
        let id = v["id"].as_str().unwrap();
        let end = settled(&base, &token, id, 60).await;
        assert_eq!(end["state"], "failed", "{path}: {end}");
        assert_eq!(end["failure"]["code"], code, "{path}: {end}");
        let (_, vid) = get_json(
            &format!("{base}/api/v1/videos/{}", v["video_id"].as_str().unwrap()),
            Some(&token),
        )
        .await;
        assert_eq!(vid["status"], "failed", "{vid}");
        assert_eq!(vid["failure"]["code"], code, "{vid}");
    }
    // Nothing of the too-large file was kept.
    assert!(origin.sent() < 3_000_000 + 2 * size + 1_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbound_guard_reaches_nothing_internal() {
    // The trap listens on 127.0.0.1 and must see no connection at all. The one internal host
    // allowed is 127.0.0.2, standing in for an operator's media server.
    let trap = Origin::start("127.0.0.1").await;
    let allowed = Origin::start("127.0.0.2").await;
    let stack = Stack::start(
        Backend::Local,
        &[("KADR_OUTBOUND__ALLOW", "[\"127.0.0.2\"]")],
    )
    .await;
    let base = stack.url("");
    let token = register_and_login(&base, "curious").await;
    let p = trap.addr.port();

    // Refused at the door: literal internal addresses in every notation, other schemes,
    // credentials.
    for url in [
        format!("http://127.0.0.1:{p}/file/x"),
        format!("http://2130706433:{p}/file/x"),
        format!("http://0177.0.0.1:{p}/file/x"),
        format!("http://0x7f.0.0.1:{p}/file/x"),
        format!("http://0x7f000001:{p}/file/x"),
        format!("http://127.1:{p}/file/x"),
        format!("http://0.0.0.0:{p}/file/x"),
        format!("http://0:{p}/file/x"),
        format!("http://[::1]:{p}/file/x"),
        format!("http://[::ffff:127.0.0.1]:{p}/file/x"),
        format!("http://[::ffff:7f00:1]:{p}/file/x"),
        format!("http://[64:ff9b::7f00:1]:{p}/file/x"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[fd00:ec2::254]/latest/meta-data/".to_owned(),
        "http://100.100.100.200/latest/meta-data/".to_owned(),
        "http://10.0.0.1/a.mp4".to_owned(),
        "http://172.16.0.1/a.mp4".to_owned(),
        "http://192.168.1.1/a.mp4".to_owned(),
        "http://100.64.0.1/a.mp4".to_owned(),
        "http://224.0.0.1/a.mp4".to_owned(),
        "http://[fe80::1]/a.mp4".to_owned(),
        "ftp://example.org/a.mp4".to_owned(),
        "file:///etc/passwd".to_owned(),
        "gopher://example.org/".to_owned(),
        "http://user:secret@example.org/a.mp4".to_owned(),
        "not a url".to_owned(),
    ] {
        let (status, v) = import(&base, &token, json!({ "url": url })).await;
        assert_eq!(status, 400, "{url}: {v}");
        assert_eq!(v["code"], "url_not_allowed", "{url}: {v}");
        assert_eq!(v["field"], "url", "{url}: {v}");
    }

    // Accepted at the door (names, or an allowed host), refused by the worker after
    // resolving or on a redirect.
    let to_trap = format!("http://127.0.0.1:{p}/file/x");
    let encode = |u: &str| u.replace(':', "%3A").replace('/', "%2F");
    for url in [
        format!("http://localhost:{p}/file/x"),
        format!("http://LOCALHOST.:{p}/file/x"),
        allowed.url(&format!("/redirect?to={}", encode(&to_trap))),
        allowed.url(&format!(
            "/redirect?to={}",
            encode(&format!("http://localhost:{p}/file/x"))
        )),
        allowed.url(&format!(
            "/redirect?to={}",
            encode(&format!("http://[::ffff:127.0.0.1]:{p}/file/x"))
        )),
    ] {
        let (status, v) = import(&base, &token, json!({ "url": url })).await;
        assert_eq!(status, 202, "{url}: {v}");
        let end = settled(&base, &token, v["id"].as_str().unwrap(), 60).await;
        assert_eq!(end["state"], "failed", "{url}: {end}");
        assert_eq!(end["failure"]["code"], "source_not_allowed", "{url}: {end}");
    }
    assert_eq!(trap.connections(), 0, "the trap was reached");

    // The allowed internal host is reached.
    let clip = stack.dir.path().join("internal.mp4");
    testsrc(&clip, "320x240", 15, 2, &[]);
    allowed.file("internal.mp4", std::fs::read(&clip).unwrap());
    let (status, v) = import(
        &base,
        &token,
        json!({ "url": allowed.url("/file/internal.mp4") }),
    )
    .await;
    assert_eq!(status, 202, "{v}");
    let end = settled(&base, &token, v["id"].as_str().unwrap(), 60).await;
    assert_eq!(end["state"], "fetched", "{end}");
    assert_eq!(trap.connections(), 0, "the trap was reached");
}

fn env(cmd: &mut Command, db: &str, dir: &std::path::Path) {
    cmd.env("KADR_DATABASE__URL", db)
        .env("KADR_STORAGE__LOCAL__ROOT", dir.join("media"))
        .env("KADR_DATA_DIR", dir.join("var"))
        .env("KADR_UPLOAD_API__LISTEN", "127.0.0.1:0")
        .env("KADR_WORKER__LISTEN", "127.0.0.1:0")
        .env("KADR_WORKER__KINDS", "[\"fetch\"]")
        .env("KADR_OUTBOUND__ALLOW", "[\"127.0.0.1\"]")
        .env("KADR_QUEUE__LEASE_SECS", "4")
        .env("KADR_QUEUE__HEARTBEAT_SECS", "1")
        .env("KADR_QUEUE__POLL_INTERVAL_MS", "200")
        .env("KADR_QUEUE__BACKOFF_BASE_SECS", "0")
        .env("KADR_ADMIN_PASSWORD", "imports-admin-1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fetch_killed_with_sigkill_resumes_where_it_was() {
    let tdb = kadr_db::testing::TestDatabase::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut migrate = command(&["migrate", "up"]);
    env(&mut migrate, tdb.url(), dir.path());
    assert!(migrate.output().unwrap().status.success());
    let mut api = command(&["upload-api"]);
    env(&mut api, tdb.url(), dir.path());
    let api = tokio::task::spawn_blocking(move || Kadr::start(api))
        .await
        .unwrap();
    let base = api.url("");
    let token = register_and_login(&base, "resumer").await;

    // 24 MiB at 4 MiB/s: about six seconds to fetch, so the kill lands in the middle.
    const SIZE: usize = 24 * 1024 * 1024;
    let body: Vec<u8> = (0..SIZE).map(|i| (i * 31 % 251) as u8).collect();
    let origin = Origin::start("127.0.0.1").await;
    origin.file("big.bin", body.clone());
    origin.throttle(4 * 1024 * 1024);
    let (status, v) = import(&base, &token, json!({ "url": origin.url("/file/big.bin") })).await;
    assert_eq!(status, 202, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let video = v["video_id"].as_str().unwrap().to_owned();

    let (db_url, root) = (tdb.url().to_owned(), dir.path().to_owned());
    let worker = move || {
        let mut cmd = command(&["worker"]);
        env(&mut cmd, &db_url, &root);
        Kadr::start(cmd)
    };
    let first = tokio::task::spawn_blocking(worker.clone()).await.unwrap();
    // Kill once a quarter of the file was reported.
    let started = Instant::now();
    let before_kill = loop {
        let (_, v) = get_json(&format!("{base}/api/v1/imports/{id}"), Some(&token)).await;
        let done = v["bytes_done"].as_u64().unwrap_or(0);
        if done >= SIZE as u64 / 4 {
            assert_ne!(
                v["state"], "fetched",
                "finished before the kill; slow it down"
            );
            break done;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{v}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    kill(Pid::from_raw(first.pid() as i32), Signal::SIGKILL).unwrap();
    drop(first);
    let sent_before = origin.sent();
    let _second = tokio::task::spawn_blocking(worker).await.unwrap();
    let end = settled(&base, &token, &id, 90).await;
    assert_eq!(end["state"], "fetched", "{end}");

    // The second request asked for the rest, with the validator of the first.
    let seen = origin.seen();
    let resumed = seen
        .iter()
        .filter_map(|s| s.range.as_deref())
        .filter_map(|r| {
            r.strip_prefix("bytes=")?
                .strip_suffix('-')?
                .parse::<u64>()
                .ok()
        })
        .collect::<Vec<_>>();
    assert_eq!(resumed.len(), 1, "{seen:?}");
    assert!(
        resumed[0] >= before_kill && resumed[0] < SIZE as u64,
        "resumed at {} after {before_kill} reported",
        resumed[0]
    );
    assert!(seen.iter().any(|s| s.if_range.is_some()), "{seen:?}");
    // Not started over: what was sent after the kill is the rest of the file.
    let after = origin.sent() - sent_before;
    assert!(
        after <= SIZE as u64 - resumed[0] + 64 * 1024,
        "sent {after} after the kill"
    );
    // The stored original is the file, byte for byte.
    let (sha, n) = source_sha256(&base, &token, &video).await;
    use sha2::Digest;
    assert_eq!(n, SIZE as u64);
    assert_eq!(sha, crate::common::hex(&sha2::Sha256::digest(&body)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_import_is_resumed_by_its_external_id() {
    let stack = Stack::start(Backend::Local, &[]).await;
    let base = stack.url("");
    let token = register_and_login(&base, "uploader-of-archives").await;
    let clip = stack.dir.path().join("local-7.mp4");
    testsrc(&clip, "320x240", 15, 2, &[]);
    let bytes = std::fs::read(&clip).unwrap();
    let body = json!({
        "size": bytes.len(),
        "filename": "Выпуск 7.mp4",
        "external_id": "local-7",
        "original_date": "2015-09-30T12:00:00+03:00",
    });
    // Neither or both of url and size: refused.
    let (status, v) = import(&base, &token, json!({ "title": "nothing" })).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_field")),
        "{v}"
    );
    let (status, v) = import(
        &base,
        &token,
        json!({ "url": "https://example.org/a.mp4", "size": 5 }),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("invalid_field")),
        "{v}"
    );

    let (status, first) = import(&base, &token, body.clone()).await;
    assert_eq!(status, 201, "{first}");
    assert_eq!(first["source"], "upload");
    assert_eq!(first["state"], "queued");
    let upload = first["upload_url"].as_str().unwrap().to_owned();
    let half = bytes.len() / 2;
    let patch = |offset: usize, data: Vec<u8>| {
        http()
            .patch(&upload)
            .bearer_auth(&token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(data)
            .send()
    };
    let res = patch(0, bytes[..half].to_vec()).await.unwrap();
    assert_eq!(res.status().as_u16(), 204);

    // Run again (the client died): the same import, the same upload, where it was.
    let (status, again) = import(&base, &token, body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    assert_eq!(again["upload_url"], first["upload_url"]);
    let head = http()
        .head(&upload)
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(head.headers()["upload-offset"], half.to_string().as_str());
    // A thumbnail before the file is whole: it waits for the video.
    let picture = stack.dir.path().join("thumb.jpg");
    let made = Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "color=c=red:s=640x360",
        ])
        .args(["-frames:v", "1"])
        .arg(&picture)
        .status()
        .unwrap();
    assert!(made.success());
    let thumb = format!(
        "{base}/api/v1/imports/{}/thumbnail",
        first["id"].as_str().unwrap()
    );
    let res = http()
        .put(&thumb)
        .bearer_auth(&token)
        .header("Content-Type", "image/jpeg")
        .body(std::fs::read(&picture).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 202);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["status"], "waiting", "{v}");
    // Not a picture: refused at the door.
    let res = http()
        .put(&thumb)
        .bearer_auth(&token)
        .header("Content-Type", "image/jpeg")
        .body(b"<html>not a picture</html>".to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 415);

    let res = patch(half, bytes[half..].to_vec()).await.unwrap();
    assert_eq!(res.status().as_u16(), 204);

    let id = first["id"].as_str().unwrap();
    let done = settled(&base, &token, id, 30).await;
    assert_eq!(done["state"], "fetched", "{done}");
    assert_eq!(done["upload_url"], Value::Null, "{done}");
    assert_eq!(done["bytes_done"], bytes.len());
    let video = first["video_id"].as_str().unwrap();
    let ready = wait_ready(&base, &token, video).await;
    assert_eq!(ready["title"], "Выпуск 7");
    // The waiting thumbnail became the poster once the video was ready.
    let shown = until(
        &format!("{base}/api/v1/videos/{video}"),
        Some(&token),
        "the thumbnail as poster",
        |v| {
            v["images"]["poster"]
                .as_str()
                .is_some_and(|p| p.contains("/images/custom_"))
        },
    )
    .await;
    assert_eq!(shown["status"], "ready");
    assert!(
        ready["published_at"]
            .as_str()
            .unwrap()
            .starts_with("2015-09-30T09:00:00"),
        "{ready}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_imports_copy_inside_the_server_or_stream_from_another() {
    s3_imports(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn s3_imports_on_seaweedfs() {
    s3_imports(Backend::Seaweed).await;
}

/// Imports from a bucket beside Kadr's on its own S3 server (copied inside it) and from another
/// S3 server (streamed), on `backend`.
async fn s3_imports(backend: Backend) {
    use kadr_storage::{S3Options, Storage};
    // The archive's bucket: on a shared cluster, one of this run's own.
    let bucket = match backend {
        Backend::Seaweed => format!(
            "archive-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        ),
        _ => "archive".to_owned(),
    };
    // A second S3 server stands for another platform's storage.
    let foreign = kadr_storage::testing::S3TestServer::start().await.unwrap();
    let foreign_env = |k: &str| format!("KADR_IMPORT__SOURCES__ELSEWHERE__{k}");
    let env = [
        (
            "KADR_IMPORT__SOURCES__ARCHIVE__BUCKETS".to_owned(),
            format!("[\"{bucket}\"]"),
        ),
        (foreign_env("BUCKETS"), format!("[\"{}\"]", foreign.bucket)),
        (foreign_env("ENDPOINT"), foreign.endpoint().to_owned()),
        (foreign_env("ACCESS_KEY_ID"), foreign.access_key_id.clone()),
        (
            foreign_env("SECRET_ACCESS_KEY"),
            foreign.secret_access_key.clone(),
        ),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let stack = Stack::start(backend, &env).await;
    let Some(s3) = &stack.s3 else {
        panic!("the S3 backend needs its test server")
    };
    let base = stack.url("");
    let token = register_and_login(&base, "broadcaster").await;
    let clip = stack.dir.path().join("show.mp4");
    testsrc(&clip, "320x240", 15, 2, &[]);
    let bytes = std::fs::read(&clip).unwrap();

    // A bucket beside Kadr's on the same server, and one on the other server.
    let archive = Storage::s3(S3Options {
        bucket: bucket.clone(),
        ..s3.options()
    })
    .await
    .unwrap();
    if let Storage::S3(a) = &archive {
        a.create_bucket().await.unwrap();
    }
    archive
        .put_bytes("shows/Выпуск 1.mp4", bytes.clone().into(), None)
        .await
        .unwrap();
    let elsewhere = Storage::s3(foreign.options()).await.unwrap();
    elsewhere
        .put_bytes("exports/ep2.mp4", bytes.clone().into(), None)
        .await
        .unwrap();

    // Refused at the door: unknown sources, buckets not listed (Kadr's own among them), keys.
    for url in [
        "s3://nowhere/archive/shows/a.mp4".to_owned(),
        format!("s3://archive/{}/sources/x", s3.bucket),
        "s3://archive/other/shows/a.mp4".to_owned(),
        format!("s3://archive/{bucket}/../secret"),
        format!("s3://archive/{bucket}"),
    ] {
        let (status, v) = import(&base, &token, json!({ "url": url })).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (400, Some("url_not_allowed")),
            "{url}: {v}"
        );
    }

    for (url, title) in [
        (
            format!("s3://archive/{bucket}/shows/Выпуск 1.mp4"),
            "Выпуск 1",
        ),
        (
            format!("s3://elsewhere/{}/exports/ep2.mp4", foreign.bucket),
            "ep2",
        ),
    ] {
        let (status, v) = import(&base, &token, json!({ "url": url })).await;
        assert_eq!(status, 202, "{url}: {v}");
        assert_eq!(v["source"], "s3");
        let end = settled(&base, &token, v["id"].as_str().unwrap(), 60).await;
        assert_eq!(end["state"], "fetched", "{url}: {end}");
        let video = v["video_id"].as_str().unwrap();
        let ready = wait_ready(&base, &token, video).await;
        assert_eq!(ready["title"], title);
        let (sha, n) = source_sha256(&base, &token, video).await;
        assert_eq!((sha, n), (sha256_file(&clip), bytes.len() as u64));
    }
    // The first was copied inside the S3 server; the second streamed.
    let log = stack.kadr.log();
    assert_eq!(
        log.matches("import copied inside the S3 server").count(),
        1,
        "{log}"
    );
    // A missing object fails the import with a stable code.
    let (_, v) = import(
        &base,
        &token,
        json!({ "url": format!("s3://archive/{bucket}/shows/missing.mp4") }),
    )
    .await;
    let end = settled(&base, &token, v["id"].as_str().unwrap(), 60).await;
    assert_eq!(end["failure"]["code"], "source_unavailable", "{end}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_catalogue_is_reviewed_as_a_batch() {
    let origin = Origin::start("127.0.0.1").await;
    let stack = Stack::start(
        Backend::Local,
        &[("KADR_OUTBOUND__ALLOW", "[\"127.0.0.1\"]")],
    )
    .await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let token = register_and_login(&base, "new-broadcaster").await;
    let clip = stack.dir.path().join("item.mp4");
    testsrc(&clip, "320x240", 15, 2, &[]);
    origin.file("item.mp4", std::fs::read(&clip).unwrap());

    let (status, batch) = call(
        http()
            .post(format!("{base}/api/v1/imports/batches"))
            .bearer_auth(&token),
        Some(json!({ "name": "Архив 2015–2019" })),
    )
    .await;
    assert_eq!(status, 201, "{batch}");
    let batch_id = batch["id"].as_str().unwrap().to_owned();
    // Somebody else's batch cannot be named.
    let other = register_and_login(&base, "someone-else").await;
    let (status, v) = import(
        &base,
        &other,
        json!({ "url": origin.url("/file/item.mp4"), "batch": batch_id }),
    )
    .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("batch")), "{v}");

    let mut members = Vec::new();
    for n in 0..3 {
        let (status, v) = import(
            &base,
            &token,
            json!({ "url": origin.url("/file/item.mp4"), "batch": batch_id, "title": format!("Выпуск {n}") }),
        )
        .await;
        assert_eq!(status, 202, "{v}");
        members.push(v["video_id"].as_str().unwrap().to_owned());
    }
    let (_, alone) = import(
        &base,
        &token,
        json!({ "url": origin.url("/file/item.mp4") }),
    )
    .await;
    let alone = alone["video_id"].as_str().unwrap().to_owned();
    for v in members.iter().chain([&alone]) {
        wait_ready(&base, &token, v).await;
    }

    // The queue shows the lone video, not the batch's members; the batch is listed instead.
    let (_, queue) = get_json(&format!("{base}/api/v1/moderation/queue"), Some(&admin)).await;
    let queued: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert!(queued.contains(&alone.as_str()), "{queue}");
    assert!(
        members.iter().all(|m| !queued.contains(&m.as_str())),
        "{queue}"
    );
    let (_, batches) = get_json(&format!("{base}/api/v1/moderation/batches"), Some(&admin)).await;
    let b = &batches["items"][0];
    assert_eq!(b["id"], batch["id"], "{batches}");
    assert_eq!(
        (
            b["pending"].as_i64(),
            b["ready"].as_i64(),
            b["total"].as_i64()
        ),
        (Some(3), Some(3), Some(3))
    );
    assert_eq!(b["owner"]["username"], "new-broadcaster");
    // Not for users.
    let (status, _) = get_json(&format!("{base}/api/v1/moderation/batches"), Some(&token)).await;
    assert_eq!(status, 403);

    // A sample, the same for the same seed.
    let sample_url = format!("{base}/api/v1/moderation/batches/{batch_id}/sample?size=2&seed=x");
    let (_, s1) = get_json(&sample_url, Some(&admin)).await;
    let (_, s2) = get_json(&sample_url, Some(&admin)).await;
    assert_eq!(s1["items"].as_array().unwrap().len(), 2, "{s1}");
    assert_eq!(crate::common::ids(&s1), crate::common::ids(&s2));
    assert!(
        crate::common::ids(&s1)
            .iter()
            .all(|id| members.contains(id))
    );

    // Approved together; viewers see them.
    let (status, done) = call(
        http()
            .post(format!(
                "{base}/api/v1/moderation/batches/{batch_id}/approve"
            ))
            .bearer_auth(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(
        (done["decided"].as_i64(), done["still_pending"].as_i64()),
        (Some(3), Some(0))
    );
    for m in &members {
        let (status, v) = get_json(&format!("{base}/api/v1/videos/{m}"), None).await;
        assert_eq!(status, 200, "shown to everyone: {v}");
        let (_, v) = get_json(&format!("{base}/api/v1/videos/{m}"), Some(&token)).await;
        assert_eq!(v["moderation"]["state"], "approved", "{v}");
    }
    // A member arriving after the approval is approved once it is ready.
    let (_, late) = import(
        &base,
        &token,
        json!({ "url": origin.url("/file/item.mp4"), "batch": batch_id }),
    )
    .await;
    let late = late["video_id"].as_str().unwrap().to_owned();
    let ready = wait_ready(&base, &token, &late).await;
    let approved = if ready["moderation"]["state"] == "approved" {
        ready
    } else {
        until(
            &format!("{base}/api/v1/videos/{late}"),
            Some(&token),
            "late member approved",
            |v| v["moderation"]["state"] == "approved",
        )
        .await
    };
    assert_eq!(approved["moderation"]["state"], "approved");
    let (_, batches) = get_json(&format!("{base}/api/v1/moderation/batches"), Some(&admin)).await;
    assert_eq!(batches["items"].as_array().unwrap().len(), 0, "{batches}");

    // Rejecting a batch needs a reason, and rejects every member still pending.
    let (_, second) = call(
        http()
            .post(format!("{base}/api/v1/imports/batches"))
            .bearer_auth(&token),
        Some(json!({})),
    )
    .await;
    let second_id = second["id"].as_str().unwrap().to_owned();
    let (_, v) = import(
        &base,
        &token,
        json!({ "url": origin.url("/file/item.mp4"), "batch": second_id }),
    )
    .await;
    let rejected = v["video_id"].as_str().unwrap().to_owned();
    let reject = format!("{base}/api/v1/moderation/batches/{second_id}/reject");
    let (status, v) = call(http().post(&reject).bearer_auth(&admin), Some(json!({}))).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("reason_required")),
        "{v}"
    );
    let (status, done) = call(
        http().post(&reject).bearer_auth(&admin),
        Some(json!({ "reason": "Чужие записи" })),
    )
    .await;
    assert_eq!((status, done["decided"].as_i64()), (200, Some(1)), "{done}");
    let (_, v) = get_json(&format!("{base}/api/v1/videos/{rejected}"), Some(&token)).await;
    assert_eq!(v["moderation"]["state"], "rejected", "{v}");
    assert_eq!(v["moderation"]["reason"], "Чужие записи");
    // The rejection stands: a member arriving after it is rejected once it is ready, with
    // the batch's reason, and never waits in the queue.
    let (_, late) = import(
        &base,
        &token,
        json!({ "url": origin.url("/file/item.mp4"), "batch": second_id }),
    )
    .await;
    let late = late["video_id"].as_str().unwrap().to_owned();
    wait_ready(&base, &token, &late).await;
    let v = until(
        &format!("{base}/api/v1/videos/{late}"),
        Some(&token),
        "late member rejected",
        |v| v["moderation"]["state"] != "pending",
    )
    .await;
    assert_eq!(v["moderation"]["state"], "rejected", "{v}");
    assert_eq!(v["moderation"]["reason"], "Чужие записи");
    let (status, _) = get_json(&format!("{base}/api/v1/videos/{late}"), None).await;
    assert_eq!(status, 404, "not shown to anyone else");
    let (_, queue) = get_json(&format!("{base}/api/v1/moderation/queue"), Some(&admin)).await;
    assert!(!crate::common::ids(&queue).contains(&late), "{queue}");
    // Approving it afterwards lifts the rejection for what becomes ready from then on.
    let (status, _) = call(
        http()
            .post(format!(
                "{base}/api/v1/moderation/batches/{second_id}/approve"
            ))
            .bearer_auth(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, later) = import(
        &base,
        &token,
        json!({ "url": origin.url("/file/item.mp4"), "batch": second_id }),
    )
    .await;
    let later = later["video_id"].as_str().unwrap().to_owned();
    wait_ready(&base, &token, &later).await;
    let v = until(
        &format!("{base}/api/v1/videos/{later}"),
        Some(&token),
        "later member approved",
        |v| v["moderation"]["state"] != "pending",
    )
    .await;
    assert_eq!(v["moderation"]["state"], "approved", "{v}");
}

/// `import.max_pending` holds when a client races twenty requests past it, counts per owner,
/// and frees a place when an import ends (here: its video is deleted) — read from the count the
/// database keeps, which must not drift.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pending_limit_holds_under_a_race_and_frees_as_imports_end() {
    let origin = Origin::start("127.0.0.1").await;
    let stack = Stack::start(
        Backend::Local,
        &[
            ("KADR_OUTBOUND__ALLOW", "[\"127.0.0.1\"]"),
            ("KADR_IMPORT__MAX_PENDING", "5"),
            // No worker fetches: what is imported stays queued.
            ("KADR_WORKER__KINDS", "[\"transcode\"]"),
        ],
    )
    .await;
    let base = stack.url("");
    let alice = register_and_login(&base, "alice-archive").await;
    let bob = register_and_login(&base, "bob-archive").await;
    let body = |n: usize| json!({ "url": origin.url(&format!("/file/e{n}.mp4")), "external_id": format!("e{n}") });

    let answers = futures::future::join_all((0..20).map(|n| import(&base, &alice, body(n)))).await;
    let accepted: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 202)
        .map(|(_, v)| v)
        .collect();
    let refused: Vec<&Value> = answers
        .iter()
        .filter(|(s, _)| *s == 429)
        .map(|(_, v)| v)
        .collect();
    assert_eq!(accepted.len(), 5, "{answers:?}");
    assert_eq!(refused.len(), 15, "{answers:?}");
    assert!(refused.iter().all(|v| v["code"] == "too_many_imports"));
    // Refused requests leave nothing behind.
    let (_, mine) = get_json(&format!("{base}/api/v1/imports?limit=100"), Some(&alice)).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 5, "{mine}");

    // Asking again for one already made is not a new import: answered, not refused.
    let first = accepted[0];
    let n: usize = first["external_id"].as_str().unwrap()[1..].parse().unwrap();
    let (status, again) = import(&base, &alice, body(n)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["id"], first["id"]);
    // Another owner has places of their own.
    let (status, theirs) = import(&base, &bob, body(100)).await;
    assert_eq!(status, 202, "{theirs}");

    // A deleted video ends its import: one place frees, and only one.
    let video = first["video_id"].as_str().unwrap();
    let (status, _) = call(
        http()
            .delete(format!("{base}/api/v1/videos/{video}"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, next) = import(&base, &alice, body(50)).await;
    assert_eq!(status, 202, "{next}");
    let (status, over) = import(&base, &alice, body(51)).await;
    assert_eq!(status, 429, "{over}");
    assert_eq!(over["code"], "too_many_imports");
}
