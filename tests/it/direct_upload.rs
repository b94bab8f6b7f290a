//! Direct uploads: parts PUT straight to S3 with presigned URLs, completed through the upload
//! API, which accepts exactly the planned parts. The protocol as a client sees it (resume by
//! listing, missing and wrong-sized parts named, idempotent completion), the limits enforced
//! up front, hostile requests, `kadr upload --direct` resuming after the client is killed,
//! and the fallback to tus where direct uploads are not offered.

use std::time::Duration;

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, admin_sets, command, get_json, http, login, register_and_login,
    send_json, sha256_file, source_sha256, upload_with, wait_ready,
};

const MIB: u64 = 1024 * 1024;

/// A real video of a bit over 12 MiB (three 5 MiB parts at the minimum part size).
fn big_clip(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("direct.mp4");
    // Noise keeps the encoder from making it small.
    let status = command_ffmpeg()
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=640x360:rate=25,noise=alls=40:allf=t")
        .args([
            "-t",
            "6",
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
        ])
        .args(["-b:v", "18M", "-maxrate", "18M", "-bufsize", "4M"])
        .arg(&path)
        .status()
        .expect("the ffmpeg CLI is needed to make test inputs");
    assert!(status.success());
    let len = std::fs::metadata(&path).unwrap().len();
    assert!(len > 10 * MIB, "{len} bytes: too small for three parts");
    path
}

fn command_ffmpeg() -> std::process::Command {
    std::process::Command::new("ffmpeg")
}

fn slice(file: &std::path::Path, from: u64, len: u64) -> Vec<u8> {
    let all = std::fs::read(file).unwrap();
    all[from as usize..(from + len) as usize].to_vec()
}

async fn put(url: &str, body: Vec<u8>) -> u16 {
    http()
        .put(url)
        .body(body)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn urls(base: &str, token: &str, id: &str, parts: &[u64]) -> (u16, serde_json::Value) {
    send_json(
        http()
            .post(format!("{base}/api/v1/direct-uploads/{id}/urls"))
            .bearer_auth(token),
        &serde_json::json!({ "parts": parts }),
    )
    .await
}

async fn complete(base: &str, token: &str, id: &str) -> (u16, serde_json::Value) {
    let res = http()
        .post(format!("{base}/api/v1/direct-uploads/{id}/complete"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (
        status,
        serde_json::from_str(&res.text().await.unwrap()).unwrap_or_default(),
    )
}

async fn direct_protocol(backend: Backend) {
    let stack = Stack::start(
        backend,
        &[
            ("KADR_STORAGE__S3__PART_SIZE_MIB", "5"),
            ("KADR_UPLOAD__MAX_SIZE_BYTES", "100000000"),
        ],
    )
    .await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = register_and_login(&base, "alice").await;
    admin_sets(
        &base,
        &admin,
        &alice,
        serde_json::json!({ "verified": true }),
    )
    .await;
    let (_, features) = get_json(&format!("{base}/api/v1/features"), None).await;
    assert_eq!(features["direct_upload"], true, "{features}");

    let file = big_clip(stack.dir.path());
    let size = std::fs::metadata(&file).unwrap().len();
    let (status, up) = send_json(
        http()
            .post(format!("{base}/api/v1/direct-uploads"))
            .bearer_auth(&alice),
        &serde_json::json!({ "size": size, "filename": "Прямая загрузка.mp4" }),
    )
    .await;
    assert_eq!(status, 201, "{up}");
    let id = up["id"].as_str().unwrap().to_owned();
    let video = up["video_id"].as_str().unwrap().to_owned();
    let part = up["part_size"].as_u64().unwrap();
    let count = up["part_count"].as_u64().unwrap();
    assert_eq!(part, 5 * MIB);
    assert_eq!(count, size.div_ceil(part));
    assert_eq!(up["urls"].as_array().unwrap().len() as u64, count);
    // The title comes from the file name; the video waits for its file.
    let (_, v) = get_json(&format!("{base}/api/v1/videos/{video}"), Some(&alice)).await;
    assert_eq!(v["title"], "Прямая загрузка", "{v}");
    assert_eq!(v["status"], "awaiting_upload", "{v}");

    // Part 1 straight to storage; no token goes with it.
    let url1 = up["urls"][0]["url"].as_str().unwrap();
    assert!(url1.contains("X-Amz-Signature"), "{url1}");
    assert!(
        !url1.starts_with(&base),
        "a storage URL, not Kadr's: {url1}"
    );
    assert_eq!(put(url1, slice(&file, 0, part)).await, 200);

    // A client that restarted asks what storage holds.
    let (status, shown) =
        get_json(&format!("{base}/api/v1/direct-uploads/{id}"), Some(&alice)).await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(
        shown["parts"],
        serde_json::json!([{ "part": 1, "size": part }]),
        "{shown}"
    );
    assert_eq!(shown["state"], "active");

    // Completing with parts missing names them; nothing is queued.
    let (status, p) = complete(&base, &alice, &id).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("upload_incomplete")),
        "{p}"
    );
    assert!(p["detail"].as_str().unwrap().contains("2, 3"), "{p}");

    // A part of another size than planned is refused by storage itself (the URL signs the
    // size); the part stays missing.
    let (status, list) = urls(&base, &alice, &id, &[2, 3]).await;
    assert_eq!(status, 200, "{list}");
    let url2 = list["urls"][0]["url"].as_str().unwrap().to_owned();
    let url3 = list["urls"][1]["url"].as_str().unwrap().to_owned();
    assert_eq!(put(&url2, slice(&file, part, part - 1)).await, 403);
    assert_eq!(
        put(&url3, slice(&file, 2 * part, size - 2 * part)).await,
        200
    );
    let (status, p) = complete(&base, &alice, &id).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("upload_incomplete")),
        "{p}"
    );
    assert!(
        p["detail"].as_str().unwrap().ends_with("missing parts: 2"),
        "{p}"
    );
    let (_, v) = get_json(&format!("{base}/api/v1/videos/{video}"), Some(&alice)).await;
    assert_eq!(v["status"], "awaiting_upload", "{v}");

    // Sent again whole, the upload completes, and completing again answers the same.
    assert_eq!(put(&url2, slice(&file, part, part)).await, 200);
    let (status, done) = complete(&base, &alice, &id).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["video_id"], video.as_str());
    assert_eq!(done["size"], size);
    let (status, again) = complete(&base, &alice, &id).await;
    assert_eq!(
        (status, &again["video_id"]),
        (200, &done["video_id"]),
        "{again}"
    );
    // No more URLs for a complete upload.
    let (status, p) = urls(&base, &alice, &id, &[1]).await;
    assert_eq!(
        (status, p["code"].as_str()),
        (409, Some("upload_complete")),
        "{p}"
    );

    // The stored original is the file, and it plays.
    let (sha, len) = source_sha256(&base, &alice, &video).await;
    assert_eq!((sha, len), (sha256_file(&file), size));
    wait_ready(&base, &alice, &video).await;
    let (_, v) = get_json(&format!("{base}/api/v1/videos/{video}"), None).await;
    assert_eq!(v["status"], "ready", "{v}");

    // Nobody else sees or completes it; tus does not take it.
    let mallory = register_and_login(&base, "mallory").await;
    let (status, _) = get_json(
        &format!("{base}/api/v1/direct-uploads/{id}"),
        Some(&mallory),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = complete(&base, &mallory, &id).await;
    assert_eq!(status, 404);
    let res = http()
        .head(format!("{base}/api/v1/uploads/{id}"))
        .bearer_auth(&alice)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    if let Some(s3) = &stack.s3 {
        assert_eq!(s3.unfinished_uploads().await.unwrap(), 0);
    }
}

// The in-process s3s-fs server lists no parts (ListParts answers an empty list), so direct
// uploads run on the real cluster only: SeaweedFS in `make test`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn direct_upload_on_seaweedfs() {
    direct_protocol(Backend::Seaweed).await;
}

/// Limits hold before any byte is stored; bad requests get their codes; a part beyond the
/// plan spoils nothing but is refused at completion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn direct_uploads_are_bounded_on_seaweedfs() {
    let stack = Stack::start(
        Backend::Seaweed,
        &[
            ("KADR_UPLOAD__MAX_SIZE_BYTES", "20000000"),
            ("KADR_UPLOAD__USER_QUOTA_BYTES", "30000000"),
            ("KADR_UPLOAD__MAX_UPLOADS_IN_PROGRESS", "2"),
        ],
    )
    .await;
    let base = stack.url("");
    let bob = register_and_login(&base, "bob").await;
    let create = |size: serde_json::Value| {
        let bob = bob.clone();
        let base = base.clone();
        async move {
            send_json(
                http()
                    .post(format!("{base}/api/v1/direct-uploads"))
                    .bearer_auth(&bob),
                &serde_json::json!({ "size": size }),
            )
            .await
        }
    };
    for (size, status, code) in [
        (serde_json::json!(20_000_001), 413, "too_large"),
        (serde_json::json!(0), 400, "invalid_upload_length"),
        (serde_json::json!(-1), 400, "invalid_upload_length"),
    ] {
        let (s, p) = create(size.clone()).await;
        assert_eq!((s, p["code"].as_str()), (status, Some(code)), "{size}: {p}");
    }
    let (s, p) = create(serde_json::json!("12")).await;
    assert_eq!(s, 400, "{p}");
    // The quota counts uploads in progress by their declared size.
    let (s, first) = create(serde_json::json!(16_000_000)).await;
    assert_eq!(s, 201, "{first}");
    let (s, p) = create(serde_json::json!(16_000_000)).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (413, Some("quota_exceeded")),
        "{p}"
    );
    let (s, _) = create(serde_json::json!(1_000_000)).await;
    assert_eq!(s, 201);
    let (s, p) = create(serde_json::json!(1_000)).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (429, Some("too_many_uploads")),
        "{p}"
    );
    // Abandoning one frees its place (and its share of the quota); abandoned, it is gone.
    let small = {
        use sea_orm::ConnectionTrait;
        let row = stack
            .db()
            .await
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DatabaseBackend::Postgres,
                "SELECT id::text AS id FROM uploads WHERE direct AND length = 1000000",
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<String>("", "id").unwrap()
    };
    let abandon = |id: String| {
        let (bob, base) = (bob.clone(), base.clone());
        async move {
            http()
                .delete(format!("{base}/api/v1/direct-uploads/{id}"))
                .bearer_auth(&bob)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    };
    assert_eq!(abandon(small.clone()).await, 204);
    assert_eq!(abandon(small.clone()).await, 404);
    let (s, _) = get_json(&format!("{base}/api/v1/direct-uploads/{small}"), Some(&bob)).await;
    assert_eq!(s, 404);
    let (s, p) = create(serde_json::json!(1_000_000)).await;
    assert_eq!(s, 201, "{p}");

    let id = first["id"].as_str().unwrap();
    let count = first["part_count"].as_u64().unwrap();
    for bad in [
        serde_json::json!([0]),
        serde_json::json!([count + 1]),
        serde_json::json!([]),
    ] {
        let (s, p) = send_json(
            http()
                .post(format!("{base}/api/v1/direct-uploads/{id}/urls"))
                .bearer_auth(&bob),
            &serde_json::json!({ "parts": bad }),
        )
        .await;
        assert_eq!(
            (s, p["code"].as_str()),
            (400, Some("invalid_field")),
            "{bad}: {p}"
        );
    }
    let many: Vec<u64> = (1..=101).collect();
    let (s, _) = urls(&base, &bob, id, &many).await;
    assert_eq!(s, 400);
    // Bytes past the plan cannot be stored: a URL takes exactly its part's planned size, so
    // neither the quota nor the bucket can be overrun through them.
    let part = first["part_size"].as_u64().unwrap();
    let all: Vec<u64> = (1..=count).collect();
    let (_, list) = urls(&base, &bob, id, &all).await;
    for u in list["urls"].as_array().unwrap() {
        let n = u["part"].as_u64().unwrap();
        let len = if n < count {
            part
        } else {
            16_000_000 - part * (count - 1)
        };
        let url = u["url"].as_str().unwrap();
        assert_eq!(put(url, vec![7u8; len as usize + 1]).await, 403, "part {n}");
        if n < count {
            assert_eq!(put(url, vec![7u8; len as usize]).await, 200);
        }
    }
    let (s, p) = complete(&base, &bob, id).await;
    assert_eq!(
        (s, p["code"].as_str()),
        (409, Some("upload_incomplete")),
        "{p}"
    );
    // Unknown ids are 404; deleting the video ends its upload and its parts.
    let (s, _) = complete(&base, &bob, &uuid::Uuid::new_v4().to_string()).await;
    assert_eq!(s, 404);
    let video = first["video_id"].as_str().unwrap();
    let res = http()
        .delete(format!("{base}/api/v1/videos/{video}"))
        .bearer_auth(&bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let (s, _) = complete(&base, &bob, id).await;
    assert_eq!(s, 404);
    let s3 = stack.s3.as_ref().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    // The second upload (1 MB, never sent) is still there; the deleted one's parts go.
    while s3.unfinished_uploads().await.unwrap() != 1 {
        assert!(
            std::time::Instant::now() < deadline,
            "the deleted upload's parts stay"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// On local storage the server offers no direct uploads: the API says so with a stable code,
/// and `kadr upload --direct` falls back to tus.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_s3_direct_falls_back_to_tus() {
    let stack = Stack::start(Backend::Local, &[]).await;
    let base = stack.url("");
    let carol = register_and_login(&base, "carol").await;
    let (_, features) = get_json(&format!("{base}/api/v1/features"), None).await;
    assert_eq!(features["direct_upload"], false, "{features}");
    let (s, p) = send_json(
        http()
            .post(format!("{base}/api/v1/direct-uploads"))
            .bearer_auth(&carol),
        &serde_json::json!({ "size": 1000 }),
    )
    .await;
    assert_eq!(
        (s, p["code"].as_str()),
        (409, Some("direct_upload_off")),
        "{p}"
    );
    let clip = crate::common::bunny();
    let id = upload_with(&stack, &carol, &clip, &["--direct"]);
    let (sha, _) = source_sha256(&base, &carol, &id).await;
    assert_eq!(sha, sha256_file(&clip));
}

/// `kadr upload --direct`: killed mid-upload, run again, it sends only what storage lacks and
/// the original arrives whole.
async fn cli_resumes(backend: Backend) {
    let stack = Stack::start(backend, &[("KADR_STORAGE__S3__PART_SIZE_MIB", "5")]).await;
    let base = stack.url("");
    let dave = register_and_login(&base, "dave").await;
    let file = big_clip(stack.dir.path());
    let state = stack.dir.path().join("state");
    // Killed as soon as its upload exists: by then it has sent none, some or all of the
    // parts (the machine decides); the second run must finish from whatever storage holds.
    let mut child = command(&["upload", "--direct", file.to_str().unwrap()])
        .env("KADR_SERVER_URL", &base)
        .env("KADR_TOKEN", &dave)
        .env("XDG_STATE_HOME", &state)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Once it has remembered its upload (the file a second run reads), it is killed.
    let remembered = state.join("kadr/uploads.json");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let video = loop {
        let text = std::fs::read_to_string(&remembered).unwrap_or_default();
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&text)
            && let Some(r) = v["uploads"].as_object().and_then(|u| u.values().next())
        {
            break r["video_id"].as_str().unwrap().to_owned();
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no upload was started"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    };
    child.kill().unwrap();
    child.wait().unwrap();
    let out = command(&["upload", "--direct", file.to_str().unwrap()])
        .env("KADR_SERVER_URL", &base)
        .env("KADR_TOKEN", &dave)
        .env("XDG_STATE_HOME", &state)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("resuming video"), "{err}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        video,
        "the same video, resumed"
    );
    let (sha, _) = source_sha256(&base, &dave, &video).await;
    assert_eq!(sha, sha256_file(&file));
    wait_ready(&base, &dave, &video).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn cli_direct_resumes_on_seaweedfs() {
    cli_resumes(Backend::Seaweed).await;
}
