//! The catalog and streaming API end to end, through `kadr all`: an upload becomes a listed,
//! playable video that FFmpeg plays over HTTP on both storage backends; the visibility rule
//! and signed media URLs across every kind of video and viewer; search in Russian and Arabic;
//! views, moderation, shorts, pagination and the OpenAPI document.

use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, bunny, get_json, http, login, register_and_login, send_json,
    testsrc, upload_with, wait_ready,
};
use base64::Engine;
use hmac::Mac;
use serde_json::{Value, json};

async fn user_id(base: &str, token: &str) -> String {
    let (_, me) = get_json(&format!("{base}/api/v1/me"), Some(token)).await;
    me["id"].as_str().unwrap().to_owned()
}

async fn decide(base: &str, token: &str, id: &str, what: &str, reason: Option<&str>) -> Value {
    let (status, v) = send_json(
        http()
            .post(format!("{base}/api/v1/moderation/videos/{id}/{what}"))
            .bearer_auth(token),
        &json!({ "reason": reason }),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

/// Every item of the listing at `url` (which has a query already), one per page, following
/// the cursors.
async fn walk(url: &str, token: Option<&str>) -> Vec<String> {
    let mut seen = Vec::new();
    let mut next = format!("{url}&limit=1");
    loop {
        let (status, page) = get_json(&next, token).await;
        assert_eq!(status, 200, "{page}");
        assert!(ids(&page).len() <= 1);
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(c) => next = format!("{url}&limit=1&cursor={c}"),
            None => return seen,
        }
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect()
}

/// GET without following redirects: (status, headers, body).
async fn fetch(url: &str, headers: &[(&str, &str)]) -> (u16, reqwest::header::HeaderMap, Vec<u8>) {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut req = client.get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let h = res.headers().clone();
    (status, h, res.bytes().await.unwrap().to_vec())
}

/// The URIs of a playlist (lines that are not tags), resolved against its URL.
fn uris(playlist_url: &str, text: &str) -> Vec<String> {
    let base = reqwest::Url::parse(playlist_url).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| base.join(l).unwrap().to_string())
        .collect()
}

/// Master → first variant → first segment, each fetched: returns their statuses.
async fn walk_hls(master: &str) -> (u16, u16, u16) {
    let (s1, _, body) = fetch(master, &[]).await;
    if s1 != 200 {
        return (s1, 0, 0);
    }
    let variant = uris(master, &String::from_utf8_lossy(&body))[0].clone();
    let (s2, _, body) = fetch(&variant, &[]).await;
    let seg = uris(&variant, &String::from_utf8_lossy(&body))[0].clone();
    let (s3, _, _) = fetch(&seg, &[]).await;
    (s1, s2, s3)
}

/// Decodes the first video stream at `url` to its end with the ffmpeg CLI; returns how far
/// it got, in seconds.
fn decode_to_end(url: &str) -> f64 {
    let out = std::process::Command::new("ffmpeg")
        .args([
            "-v", "error", "-nostats", "-i", url, "-map", "0:v:0", "-f", "null", "-",
        ])
        .args(["-progress", "pipe:1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let progress = String::from_utf8_lossy(&out.stdout);
    let us: i64 = progress
        .lines()
        .filter_map(|l| l.strip_prefix("out_time_us="))
        .filter_map(|v| v.trim().parse().ok())
        .next_back()
        .unwrap();
    us as f64 / 1e6
}

async fn upload_to_player(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let base = stack.url("");
    let base = base.trim_end_matches('/');
    let alice = register_and_login(base, "алиса").await;
    let admin = login(base, "admin", ADMIN_PASSWORD).await;

    let id = upload_with(
        &stack,
        &alice,
        &bunny(),
        &["--title", "Большой кролик", "--tags", "мультфильм,кролик"],
    );
    let v = wait_ready(base, &alice, &id).await;
    assert_eq!(v["playable"], true);
    assert_eq!(v["moderation"]["state"], "pending", "{v}");
    // Waiting for review: not listed, and nobody else can see it.
    let (_, list) = get_json(&format!("{base}/api/v1/videos"), None).await;
    assert!(!ids(&list).contains(&id));
    assert_eq!(
        get_json(&format!("{base}/api/v1/videos/{id}"), None)
            .await
            .0,
        404
    );

    let approved = decide(base, &admin, &id, "approve", None).await;
    assert_eq!(approved["moderation"]["state"], "approved");
    // Anonymous pages are kept for a second: the video is listed within that.
    let started = Instant::now();
    loop {
        let (_, list) = get_json(&format!("{base}/api/v1/videos"), None).await;
        if ids(&list).contains(&id) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "{list}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The page is shared with signed-in viewers, except that its owner and moderators get
    // one of their own, which tells them its moderation state.
    let bob = register_and_login(base, "боб").await;
    let item = |list: &Value| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["id"] == id.as_str())
            .cloned()
            .unwrap()
    };
    for (token, sees) in [(&bob, false), (&alice, true), (&admin, true)] {
        let (_, list) = get_json(&format!("{base}/api/v1/videos"), Some(token)).await;
        let state = item(&list)["moderation"]["state"].clone();
        assert_eq!(state.as_str() == Some("approved"), sees, "{list}");
    }
    let (status, v) = get_json(&format!("{base}/api/v1/videos/{id}"), None).await;
    assert_eq!(status, 200);
    assert_eq!(v["channel"]["handle"], "алиса");
    assert!(
        v["moderation"].is_null(),
        "only owner and moderators see it"
    );
    let duration = v["duration_secs"].as_f64().unwrap();
    assert!((duration - 5.3).abs() < 0.2, "{duration}");

    let (status, playback) = get_json(&format!("{base}/api/v1/videos/{id}/playback"), None).await;
    assert_eq!(status, 200, "{playback}");
    let master = playback["hls"].as_str().unwrap().to_owned();
    assert!(!master.contains("token="), "public media needs no token");
    let (status, headers, body) = fetch(&master, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(
        headers["content-type"].to_str().unwrap(),
        "application/vnd.apple.mpegurl"
    );
    let variants = uris(&master, &String::from_utf8_lossy(&body));
    assert_eq!(
        variants.len(),
        5,
        "720p source: 720p, 480p, 360p, 240p and the audio-only rendition"
    );
    assert!(
        variants[4].contains("/hls/audio/index.m3u8"),
        "{variants:?}"
    );
    // A player over HTTP: every rung decodes to its end (the audio-only one has no picture).
    for rung in variants.iter().filter(|v| !v.contains("/hls/audio/")) {
        let rung = rung.clone();
        let reached = tokio::task::spawn_blocking(move || decode_to_end(&rung))
            .await
            .unwrap();
        assert!((reached - duration).abs() < 0.2, "{reached} of {duration}");
    }
    let whole = master.clone();
    let reached = tokio::task::spawn_blocking(move || decode_to_end(&whole))
        .await
        .unwrap();
    assert!((reached - duration).abs() < 0.2);

    // Segments and images: streamed with Range/ETag on disk, redirected on S3.
    let (_, _, rung_body) = fetch(&variants[0], &[]).await;
    let segment = uris(&variants[0], &String::from_utf8_lossy(&rung_body))[0].clone();
    let (status, headers, bytes) = fetch(&segment, &[]).await;
    match backend {
        Backend::Local => {
            assert_eq!(status, 200);
            assert_eq!(
                headers["cache-control"],
                "public, max-age=31536000, immutable"
            );
            let etag = headers["etag"].to_str().unwrap().to_owned();
            let (status, _, _) = fetch(&segment, &[("if-none-match", &etag)]).await;
            assert_eq!(status, 304);
            let (status, headers, part) = fetch(&segment, &[("range", "bytes=100-199")]).await;
            assert_eq!(status, 206);
            assert_eq!(part, bytes[100..200]);
            assert!(
                headers["content-range"]
                    .to_str()
                    .unwrap()
                    .starts_with("bytes 100-199/")
            );
        }
        Backend::S3 | Backend::Seaweed => {
            assert_eq!(status, 302);
            let to = headers["location"].to_str().unwrap().to_owned();
            assert!(to.contains("X-Amz-Signature"), "{to}");
            let (status, _, from_s3) = fetch(&to, &[]).await;
            assert_eq!(status, 200);
            assert!(from_s3.len() > 1000);
        }
    }
    for image in ["poster", "poster_small", "storyboard"] {
        let url = playback[image].as_str().unwrap();
        let (status, _, _) = fetch(url, &[]).await;
        assert!(
            status == 200 || (backend != Backend::Local && image != "storyboard" && status == 302),
            "{image}: {status}"
        );
    }
    // CORS for players on other origins.
    let (_, headers, _) = fetch(&master, &[("origin", "https://player.example")]).await;
    assert!(headers.contains_key("access-control-allow-origin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_to_player_on_local_disk() {
    upload_to_player(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_to_player_on_s3() {
    upload_to_player(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn upload_to_player_on_seaweedfs() {
    upload_to_player(Backend::Seaweed).await;
}

const SECRET: &str = "a media secret for the tests, at least 32 chars";

/// A media token made the way the api makes them, for tokens it would never hand out.
fn forge(video: &str, epoch: i32, scope: &str, expires: u64) -> String {
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(b"kadr-media-v2\n");
    mac.update(uuid::Uuid::parse_str(video).unwrap().as_bytes());
    mac.update(b"\n");
    mac.update(epoch.to_string().as_bytes());
    mac.update(b"\n");
    mac.update(scope.as_bytes());
    mac.update(b"\n");
    mac.update(expires.to_string().as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{expires}.{scope}.{sig}")
}

/// A raw HTTP/1.1 GET, so the path reaches the server exactly as written (no client-side
/// normalisation of `..`). Returns the status.
fn raw_get(addr: &str, path: &str) -> u16 {
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visibility_tokens_search_views_moderation() {
    let stack = Stack::start(
        Backend::Local,
        &[
            ("KADR_API__MEDIA_SECRET", SECRET),
            ("KADR_API__VIEWS_FLUSH_SECS", "1"),
        ],
    )
    .await;
    let base = stack.url("");
    let base = base.trim_end_matches('/').to_owned();
    let base = base.as_str();
    let dir = tempfile::tempdir().unwrap();
    let vertical = dir.path().join("vertical.mp4");
    let landscape = dir.path().join("landscape.mp4");
    testsrc(&vertical, "240x320", 25, 2, &[]);
    testsrc(&landscape, "320x240", 25, 2, &[]);

    let alice = register_and_login(base, "alice").await;
    let bob = register_and_login(base, "bob").await;
    let carol = register_and_login(base, "carol").await;
    let admin = login(base, "admin", ADMIN_PASSWORD).await;
    let (status, _) = send_json(
        http()
            .patch(format!(
                "{base}/api/v1/admin/users/{}",
                user_id(base, &carol).await
            ))
            .bearer_auth(&admin),
        &json!({ "role": "moderator" }),
    )
    .await;
    assert_eq!(status, 200);

    // Five videos of alice (unverified: each starts pending).
    let up = |title: &str, privacy: &str, file: &std::path::Path| {
        upload_with(
            &stack,
            &alice,
            file,
            &["--title", title, "--privacy", privacy],
        )
    };
    let public = up("Кошки играют в саду matrixpub", "public", &vertical);
    let unlisted = up("matrixunl", "unlisted", &landscape);
    let private = up("matrixpriv", "private", &landscape);
    let pending = up("matrixpend", "public", &landscape);
    let rejected = up("matrixrej", "public", &landscape);
    for v in [&public, &unlisted, &private, &pending, &rejected] {
        wait_ready(base, &alice, v).await;
    }
    // The moderator sees the queue; other users may not.
    let (status, queue) = get_json(&format!("{base}/api/v1/moderation/queue"), Some(&carol)).await;
    assert_eq!(status, 200);
    let queued = ids(&queue);
    assert!(
        queued.contains(&pending) && !queued.contains(&private),
        "{queue}"
    );
    // Oldest first, page by page.
    let queue_url = format!("{base}/api/v1/moderation/queue?");
    assert_eq!(walk(&queue_url, Some(&carol)).await, queued);
    assert_eq!(
        get_json(&format!("{base}/api/v1/moderation/queue"), Some(&bob))
            .await
            .0,
        403
    );
    for v in [&public, &unlisted, &private] {
        decide(base, &admin, v, "approve", None).await;
    }
    // Rejecting needs a reason, which the owner sees.
    let (status, problem) = send_json(
        http()
            .post(format!("{base}/api/v1/moderation/videos/{rejected}/reject"))
            .bearer_auth(&carol),
        &json!({}),
    )
    .await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("reason_required"))
    );
    decide(base, &carol, &rejected, "reject", Some("Нарушение правил")).await;
    let (_, seen) = get_json(&format!("{base}/api/v1/videos/{rejected}"), Some(&alice)).await;
    assert_eq!(seen["moderation"]["state"], "rejected");
    assert_eq!(seen["moderation"]["reason"], "Нарушение правил");
    // Every decision is kept with who and when.
    let db = stack.db().await;
    let row = sea_orm::ConnectionTrait::query_one_raw(
        &db,
        sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!(
                "SELECT u.username, d.decision, d.reason, d.created_at IS NOT NULL AS dated
                 FROM moderation_decisions d JOIN users u ON u.id = d.moderator_id
                 WHERE d.video_id = '{rejected}'"
            ),
        ),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(row.try_get::<String>("", "username").unwrap(), "carol");
    assert_eq!(row.try_get::<String>("", "decision").unwrap(), "rejected");
    assert!(row.try_get::<bool>("", "dated").unwrap());

    // The matrix: who sees which video, everywhere.
    let viewers: [(&str, Option<&str>); 5] = [
        ("anonymous", None),
        ("owner", Some(&alice)),
        ("other", Some(&bob)),
        ("moderator", Some(&carol)),
        ("admin", Some(&admin)),
    ];
    let expected = [
        (&public, "anonymous owner other moderator admin"),
        (&unlisted, "anonymous owner other moderator admin"),
        (&private, "owner admin"),
        (&pending, "owner moderator admin"),
        (&rejected, "owner moderator admin"),
    ];
    for (name, token) in viewers {
        let (_, list) = get_json(&format!("{base}/api/v1/videos?limit=100"), token).await;
        let (_, found) = get_json(&format!("{base}/api/v1/search?q=matrix"), token).await;
        for (video, who) in expected {
            let listed = video == &public;
            assert_eq!(ids(&list).contains(video), listed, "{name} list {video}");
            assert_eq!(ids(&found).contains(video), listed, "{name} search {video}");
            let visible = who.split(' ').any(|w| w == name);
            let detail = get_json(&format!("{base}/api/v1/videos/{video}"), token)
                .await
                .0;
            assert_eq!(
                detail,
                if visible { 200 } else { 404 },
                "{name} detail {video}"
            );
            let (status, playback) =
                get_json(&format!("{base}/api/v1/videos/{video}/playback"), token).await;
            if visible {
                assert_eq!(status, 200, "{name} playback {video}");
                let hls = playback["hls"].as_str().unwrap();
                assert_eq!(hls.contains("token="), !listed, "{hls}");
                assert_eq!(walk_hls(hls).await, (200, 200, 200), "{name} hls {video}");
                let poster = playback["poster"].as_str().unwrap();
                assert_eq!(fetch(poster, &[]).await.0, 200, "{name} poster {video}");
            } else {
                assert_eq!(status, 404, "{name} playback {video}");
            }
            // Without a token only the listed video's media is served.
            let media = |p: &str| format!("{base}/media/{video}/{p}");
            let open = if listed { 200 } else { 404 };
            assert_eq!(fetch(&media("hls/master.m3u8"), &[]).await.0, open);
            assert_eq!(fetch(&media("hls/240p/index.m3u8"), &[]).await.0, open);
            assert_eq!(fetch(&media("hls/240p/init.mp4"), &[]).await.0, open);
            assert_eq!(fetch(&media("hls/240p/seg_00000.m4s"), &[]).await.0, open);
            assert_eq!(fetch(&media("images/poster.jpg"), &[]).await.0, open);
            assert_eq!(fetch(&media("images/storyboard.vtt"), &[]).await.0, open);
        }
    }

    // Tokens: the owner's link to the private video works for its playlists (which carry the
    // token inside), segments and images; tampered, expired, cross-video and out-of-scope
    // tokens are refused on every kind of file.
    let (_, playback) = get_json(
        &format!("{base}/api/v1/videos/{private}/playback"),
        Some(&alice),
    )
    .await;
    let hls = playback["hls"].as_str().unwrap().to_owned();
    let token = hls.split("token=").nth(1).unwrap().to_owned();
    let (_, _, master) = fetch(&hls, &[]).await;
    assert!(String::from_utf8_lossy(&master).contains(&format!("index.m3u8?token={token}")));
    let (_, _, media_playlist) = fetch(
        &format!("{base}/media/{private}/hls/240p/index.m3u8?token={token}"),
        &[],
    )
    .await;
    let text = String::from_utf8_lossy(&media_playlist);
    assert!(text.contains(&format!("init.mp4?token={token}")), "{text}");
    assert!(
        text.contains(&format!("seg_00000.m4s?token={token}")),
        "{text}"
    );
    let (_, _, vtt) = fetch(playback["storyboard"].as_str().unwrap(), &[]).await;
    assert!(String::from_utf8_lossy(&vtt).contains("?token="));

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    // The video's media epoch, signed into its tokens.
    let epoch: i32 = sea_orm::ConnectionTrait::query_one_raw(
        &db,
        sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            format!("SELECT media_epoch FROM videos WHERE id = '{private}'"),
        ),
    )
    .await
    .unwrap()
    .unwrap()
    .try_get("", "media_epoch")
    .unwrap();
    let mut tampered = token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let (_, unlisted_playback) =
        get_json(&format!("{base}/api/v1/videos/{unlisted}/playback"), None).await;
    let other_video = unlisted_playback["hls"]
        .as_str()
        .unwrap()
        .split("token=")
        .nth(1)
        .unwrap()
        .to_owned();
    let files = [
        "hls/master.m3u8",
        "hls/240p/index.m3u8",
        "hls/240p/init.mp4",
        "hls/240p/seg_00000.m4s",
        "images/poster.jpg",
        "images/storyboard.vtt",
    ];
    // The test's own signing is right: a fresh forged token opens everything.
    for f in files {
        let url = format!(
            "{base}/media/{private}/{f}?token={}",
            forge(&private, epoch, "", now + 60)
        );
        assert_eq!(fetch(&url, &[]).await.0, 200, "{f}");
    }
    for f in files {
        for (what, bad, code) in [
            ("tampered", tampered.clone(), "invalid_token"),
            (
                "expired",
                forge(&private, epoch, "", now - 1),
                "token_expired",
            ),
            ("other video's", other_video.clone(), "invalid_token"),
            ("garbage", "x.y.z".to_owned(), "invalid_token"),
        ] {
            let (status, _, body) =
                fetch(&format!("{base}/media/{private}/{f}?token={bad}"), &[]).await;
            let problem: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            assert_eq!(
                (status, problem["code"].as_str()),
                (403, Some(code)),
                "{what} on {f}"
            );
        }
    }
    let images_only = forge(&private, epoch, "images", now + 60);
    assert_eq!(
        fetch(
            &format!("{base}/media/{private}/images/poster.jpg?token={images_only}"),
            &[]
        )
        .await
        .0,
        200
    );
    assert_eq!(
        fetch(
            &format!("{base}/media/{private}/hls/master.m3u8?token={images_only}"),
            &[]
        )
        .await
        .0,
        403
    );

    // Paths outside what the worker writes, traversal included, are 404.
    let addr = base.trim_start_matches("http://");
    for path in [
        format!("/media/{public}/hls/../../originals/{public}/source"),
        format!("/media/{public}/hls/%2e%2e/%2e%2e/originals/{public}/source"),
        format!("/media/{public}/hls/240p/..%2f..%2f..%2fmaster.m3u8"),
        format!("/media/{public}/images/../hls/master.m3u8"),
        format!("/media/{public}/hls/240p/seg_00000.m4s.tmp"),
        "/media/not-a-uuid/hls/master.m3u8".to_owned(),
        "/media/../etc/passwd".to_owned(),
    ] {
        assert_eq!(raw_get(addr, &path), 404, "{path}");
    }
    assert_eq!(
        raw_get(addr, &format!("/media/{public}/hls/master.m3u8")),
        200
    );

    // Search: a word of a Cyrillic title, its other forms, and the last word as a prefix.
    let search_as = |q: &str, token: Option<String>| {
        let url = reqwest::Url::parse_with_params(&format!("{base}/api/v1/search"), [("q", q)])
            .unwrap()
            .to_string();
        async move { ids(&get_json(&url, token.as_deref()).await.1) }
    };
    let search = |q: &str| search_as(q, None);
    for q in ["кошки", "Кошка", "играют", "сад", "кошки игр", "саду кош"]
    {
        assert_eq!(search(q).await, std::slice::from_ref(&public), "{q}");
    }
    assert!(search("собаки").await.is_empty());
    let (status, problem) = get_json(&format!("{base}/api/v1/search?q=%20%3B%20"), None).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid_query"))
    );
    // Retitled in Arabic (by its owner only): found by an Arabic word, no longer by Russian.
    let arabic = json!({ "title": "القطط تلعب في الحديقة", "tags": ["حيوانات"] });
    let retitle = |token: &str| {
        send_json(
            http()
                .patch(format!("{base}/api/v1/videos/{public}"))
                .bearer_auth(token),
            &arabic,
        )
    };
    assert_eq!(retitle(&bob).await.0, 404);
    let (status, v) = retitle(&alice).await;
    assert_eq!(
        (status, v["title"].as_str()),
        (200, Some("القطط تلعب في الحديقة"))
    );
    // Alice is not verified: the new title waits for review, unlisted until approved.
    assert_eq!(v["moderation"]["state"], "pending", "{v}");
    assert_eq!(
        get_json(&format!("{base}/api/v1/videos/{public}"), None)
            .await
            .0,
        404
    );
    decide(base, &carol, &public, "approve", None).await;
    for q in ["الحديقة", "القطط", "تلعب الحدي", "حيوانات"] {
        assert_eq!(search(q).await, std::slice::from_ref(&public), "{q}");
    }
    // Its owner sees the old title gone at once: the cached page holds her video, so she gets
    // a page of her own. Everyone else shares result pages cached for a second, which may be
    // served a few seconds stale while one request rebuilds them.
    assert!(search_as("кошки", Some(alice.clone())).await.is_empty());
    let deadline = Instant::now() + Duration::from_secs(8);
    while !search("кошки").await.is_empty()
        || !search_as("кошки", Some(bob.clone())).await.is_empty()
    {
        assert!(Instant::now() < deadline, "stale search page kept");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Views: once per viewer per window, written in batches.
    let view = |token: Option<&str>| {
        let mut req = http().post(format!("{base}/api/v1/videos/{public}/views"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            (
                status,
                res.json::<Value>().await.unwrap()["counted"].clone(),
            )
        }
    };
    assert_eq!(view(None).await, (202, json!(true)));
    assert_eq!(view(None).await, (202, json!(false)));
    assert_eq!(view(Some(&bob)).await, (202, json!(true)));
    assert_eq!(view(Some(&bob)).await, (202, json!(false)));
    let started = Instant::now();
    loop {
        let (_, v) = get_json(&format!("{base}/api/v1/videos/{public}"), None).await;
        if v["views"] == 2 {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "{v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // A second api replica on the same database knows who was counted.
    let replica = {
        let sock = stack
            .dir
            .path()
            .join("var/postgres")
            .canonicalize()
            .unwrap();
        let mut cmd = crate::common::command(&["api"]);
        cmd.env(
            "KADR_DATABASE__URL",
            format!("postgres://kadr@localhost/kadr?host={}", sock.display()),
        )
        .env("KADR_API__LISTEN", "127.0.0.1:0")
        .env("KADR_API__MEDIA_SECRET", SECRET)
        .env(
            "KADR_STORAGE__LOCAL__ROOT",
            stack.dir.path().join("var/media"),
        );
        tokio::task::spawn_blocking(move || crate::common::Kadr::start(cmd))
            .await
            .unwrap()
    };
    for token in [None, Some(bob.as_str())] {
        let mut req = http().post(replica.url(&format!("/api/v1/videos/{public}/views")));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status().as_u16(), 202);
        let v: Value = res.json().await.unwrap();
        assert_eq!(
            v["counted"],
            json!(false),
            "{token:?} counted again on a replica"
        );
    }
    drop(replica);
    assert_eq!(
        http()
            .post(format!("{base}/api/v1/videos/{private}/views"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );

    // Shorts and pagination: approve the landscape one too; only the vertical is a short.
    decide(base, &admin, &pending, "approve", None).await;
    let (_, shorts) = get_json(&format!("{base}/api/v1/shorts"), None).await;
    assert_eq!(ids(&shorts), std::slice::from_ref(&public));
    let seen = walk(&format!("{base}/api/v1/videos?sort=new"), None).await;
    assert_eq!(
        seen,
        [pending.clone(), public.clone()],
        "newest first, each once"
    );
    let (_, popular) = get_json(&format!("{base}/api/v1/videos?sort=popular"), None).await;
    assert_eq!(ids(&popular)[0], public, "the viewed one first");
    let popular_url = format!("{base}/api/v1/videos?sort=popular");
    assert_eq!(walk(&popular_url, None).await, ids(&popular));
    // A cursor handed out by another listing is refused.
    let (_, newest) = get_json(&format!("{base}/api/v1/videos?limit=1"), None).await;
    let by_time = newest["next_cursor"].as_str().unwrap();
    let (status, problem) = get_json(&format!("{popular_url}&cursor={by_time}"), None).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
    let (status, problem) = get_json(&format!("{base}/api/v1/videos?cursor=bogus"), None).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (400, Some("invalid_cursor"))
    );
    let (_, mine) = get_json(&format!("{base}/api/v1/me/videos"), Some(&alice)).await;
    assert_eq!(ids(&mine).len(), 5, "all of mine, any state");
    let (status, channel) = get_json(&format!("{base}/api/v1/channels/alice/videos"), None).await;
    assert_eq!(status, 200);
    assert_eq!(ids(&channel).len(), 2);

    // The OpenAPI document and its page.
    let (status, doc) = get_json(&format!("{base}/api/openapi.json"), None).await;
    assert_eq!(status, 200);
    assert!(
        doc["openapi"].as_str().unwrap().starts_with("3.1"),
        "{}",
        doc["openapi"]
    );
    for p in [
        "/api/v1/videos",
        "/api/v1/search",
        "/api/v1/videos/{id}/playback",
        "/api/v1/moderation/queue",
        "/api/v1/users",
        "/api/v1/auth/token",
        "/api/v1/uploads",
        "/api/v1/uploads/{id}",
        "/api/v1/videos/upload",
    ] {
        assert!(doc["paths"][p].is_object(), "{p} missing");
    }
    // Both services' operations on a shared path.
    let videos = &doc["paths"]["/api/v1/videos"];
    assert!(
        videos["get"].is_object() && videos["post"].is_object(),
        "{videos}"
    );
    let (status, ctype, _) = crate::common::get(&format!("{base}/api/docs")).await;
    assert_eq!((status, ctype.starts_with("text/html")), (200, true));
}
