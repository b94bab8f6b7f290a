//! Abusive clients against `kadr all`: bursts of registrations and logins, a form with a
//! hundred thousand fields, parallel creations against the quota, thousands of one-byte tus
//! PATCHes on S3, and a storage server that accepts connections and never answers. Each gets a
//! clear answer with a stable code, memory stays bounded, and other requests are served.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use crate::common::{Backend, Kadr, Stack, command, http, register_and_login, send_json};
use serde_json::json;

/// Peak resident memory of a process, in MiB.
fn peak_rss_mib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap();
    kb / 1024
}

fn tally(codes: &[u16]) -> BTreeMap<u16, usize> {
    let mut t = BTreeMap::new();
    for c in codes {
        *t.entry(*c).or_insert(0) += 1;
    }
    t
}

/// A client whose requests leave from `ip` (any 127.0.0.0/8 address reaches loopback).
fn client_from(ip: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(Some(ip.parse().unwrap()))
        .pool_max_idle_per_host(0)
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn bursts_of_registrations_and_logins_are_bounded() {
    let stack = Stack::start(
        Backend::Local,
        &[
            // The per-address request cap would answer most of the burst first; lift it so
            // the limits below are what is tested.
            ("KADR_SERVER__MAX_REQUESTS_PER_ADDRESS", "5000"),
            ("KADR_AUTH__REGISTER_MAX_PER_HOUR", "5"),
            ("KADR_AUTH__LOGIN_MAX_FAILURES", "10"),
        ],
    )
    .await;
    let base = stack.url("");
    let base = base.trim_end_matches('/').to_owned();
    let pid = stack.kadr.pid();
    let before = peak_rss_mib(pid);

    // 1,000 registrations at once from one address: five accounts, the rest refused.
    let attacker = client_from("127.0.0.3");
    let regs = (0..1000).map(|i| {
        let c = attacker.clone();
        let url = format!("{base}/api/v1/users");
        async move {
            let body = json!({
                "username": format!("bot{i}"),
                "email": format!("bot{i}@example.org"),
                "password": "correct horse battery",
            });
            let res = c.post(url).json(&body).send().await.unwrap();
            let retry = res.headers().contains_key("retry-after");
            (res.status().as_u16(), retry)
        }
    });
    let answers = futures::future::join_all(regs).await;
    let codes: Vec<u16> = answers.iter().map(|(c, _)| *c).collect();
    let t = tally(&codes);
    assert!(
        t.keys().all(|c| [201, 429, 503].contains(c)),
        "registrations: {t:?}"
    );
    assert_eq!(t.get(&201).copied().unwrap_or(0), 5, "registrations: {t:?}");
    assert!(
        answers.iter().all(|(c, retry)| *c == 201 || *retry),
        "a refusal without Retry-After"
    );

    // Another address still registers.
    let alice = register_and_login(&base, "alice").await;
    assert!(!alice.is_empty());

    // 1,000 concurrent wrong passwords for alice from one address: no more tries than ten
    // serial ones would get.
    let guesses = (0..1000).map(|i| {
        let c = attacker.clone();
        let url = format!("{base}/api/v1/auth/token");
        async move {
            let body = json!({ "username": "alice", "password": format!("guess number {i}") });
            c.post(url)
                .json(&body)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let t = tally(&futures::future::join_all(guesses).await);
    assert!(
        t.keys().all(|c| [401, 429, 503].contains(c)),
        "logins: {t:?}"
    );
    let tried = t.get(&401).copied().unwrap_or(0);
    assert!(
        (1..=10).contains(&tried),
        "{tried} passwords were checked: {t:?}"
    );
    // The attacker's address is blocked, even with the right password ...
    let (status, body) = send_json(
        attacker.post(format!("{base}/api/v1/auth/token")),
        &json!({ "username": "alice", "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (429, Some("too_many_attempts"))
    );
    // ... but alice, from her own address, is not locked out.
    let (status, body) = send_json(
        client_from("127.0.0.4").post(format!("{base}/api/v1/auth/token")),
        &json!({ "username": "alice", "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    let peak = peak_rss_mib(pid);
    // Two thousand requests in flight at once (connection buffers, the argon2 instances
    // allowed to run): measured about 310 MiB above the start.
    assert!(
        peak < before + 450,
        "peak RSS grew from {before} MiB to {peak} MiB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn password_hashing_under_load_answers_503_not_unbounded_memory() {
    let stack = Stack::start(
        Backend::Local,
        &[
            ("KADR_SERVER__MAX_REQUESTS_PER_ADDRESS", "5000"),
            ("KADR_AUTH__REGISTER_MAX_PER_HOUR", "100000"),
            ("KADR_AUTH__HASH_CONCURRENCY", "1"),
        ],
    )
    .await;
    let base = stack.url("");
    let base = base.trim_end_matches('/').to_owned();
    let pid = stack.kadr.pid();
    let before = peak_rss_mib(pid);
    let c = http();
    let regs = (0..300).map(|i| {
        let c = c.clone();
        let url = format!("{base}/api/v1/users");
        async move {
            let body = json!({
                "username": format!("user{i}"),
                "email": format!("user{i}@example.org"),
                "password": "correct horse battery",
            });
            let res = c.post(url).json(&body).send().await.unwrap();
            let retry = res.headers().contains_key("retry-after");
            let status = res.status().as_u16();
            let code = res.json::<serde_json::Value>().await.unwrap_or_default()["code"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (status, retry, code)
        }
    });
    let answers = futures::future::join_all(regs).await;
    let t = tally(&answers.iter().map(|a| a.0).collect::<Vec<_>>());
    assert!(t.keys().all(|c| [201, 503].contains(c)), "{t:?}");
    assert!(t.get(&201).is_some_and(|n| *n >= 1), "{t:?}");
    assert!(t.get(&503).is_some_and(|n| *n >= 1), "{t:?}");
    assert!(
        answers
            .iter()
            .filter(|a| a.0 == 503)
            .all(|a| a.1 && a.2 == "busy"),
        "a 503 without Retry-After or code busy"
    );
    let peak = peak_rss_mib(pid);
    assert!(
        peak < before + 200,
        "peak RSS grew from {before} MiB to {peak} MiB"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_and_quotas_hold() {
    let stack = Stack::start(
        Backend::Local,
        &[
            ("KADR_UPLOAD__USER_QUOTA_BYTES", "1000"),
            ("KADR_UPLOAD__MAX_UPLOADS_IN_PROGRESS", "100"),
        ],
    )
    .await;
    let base = stack.url("");
    let base = base.trim_end_matches('/').to_owned();
    let pid = stack.kadr.pid();
    let token = register_and_login(&base, "alice").await;

    // A form with 100,000 fields: refused, memory bounded.
    let before = peak_rss_mib(pid);
    let boundary = "kadrboundary";
    let mut form = String::new();
    for i in 0..100_000 {
        form.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"tags\"\r\n\r\ntag{i}\r\n"
        ));
    }
    form.push_str(&format!("--{boundary}--\r\n"));
    // Sent without a length (chunked), so nothing is refused before the form is read.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = form
        .into_bytes()
        .chunks(64 * 1024)
        .map(|c| Ok(c.to_vec()))
        .collect();
    let res = http()
        .post(format!("{base}/api/v1/videos/upload"))
        .bearer_auth(&token)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (status, body["code"].as_str()),
        (413, Some("too_many_fields")),
        "{body}"
    );
    let peak = peak_rss_mib(pid);
    assert!(
        peak < before + 100,
        "peak RSS grew from {before} MiB to {peak} MiB"
    );

    // Twenty creations of 100 bytes at once against a 1000-byte quota: exactly ten fit.
    let creates = (0..20).map(|i| {
        let (url, token) = (format!("{base}/api/v1/videos"), token.clone());
        async move {
            send_json(
                http().post(url).bearer_auth(token),
                &json!({ "title": format!("Видео {i}"), "size": 100 }),
            )
            .await
        }
    });
    let answers = futures::future::join_all(creates).await;
    let t = tally(&answers.iter().map(|a| a.0).collect::<Vec<_>>());
    assert_eq!(t, BTreeMap::from([(201, 10), (413, 10)]), "{answers:?}");
    assert!(
        answers
            .iter()
            .filter(|a| a.0 == 413)
            .all(|a| a.1["code"] == "quota_exceeded")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_in_progress_are_capped() {
    let stack = Stack::start(
        Backend::Local,
        &[("KADR_UPLOAD__MAX_UPLOADS_IN_PROGRESS", "3")],
    )
    .await;
    let base = stack.url("");
    let base = base.trim_end_matches('/').to_owned();
    let token = register_and_login(&base, "alice").await;
    let creates = (0..8).map(|_| {
        let (url, token) = (format!("{base}/api/v1/uploads"), token.clone());
        async move {
            http()
                .post(url)
                .bearer_auth(token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", "1000")
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let t = tally(&futures::future::join_all(creates).await);
    assert_eq!(t, BTreeMap::from([(201, 3), (429, 5)]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_byte_patches_on_s3_leave_one_piece() {
    let stack = Stack::start(Backend::S3, &[]).await;
    let base = stack.url("");
    let base = base.trim_end_matches('/').to_owned();
    let token = register_and_login(&base, "alice").await;
    // Ten thousand take about 7 minutes in a debug build (measured: at most one piece held
    // throughout); the suite sends two thousand unless KADR_TEST_TINY_PATCHES says more.
    let n: usize = std::env::var("KADR_TEST_TINY_PATCHES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let data: Vec<u8> = (0..n).map(|i| (i * 7 % 251) as u8).collect();
    let c = http();
    let res = c
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(&token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", n.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    let upload_id = location.rsplit('/').next().unwrap().to_owned();
    let storage = kadr_storage::Storage::s3(stack.s3.as_ref().unwrap().options())
        .await
        .unwrap();
    let prefix = format!("uploads/{upload_id}/");
    let mut most = 0usize;
    let started = Instant::now();
    for (i, b) in data.iter().enumerate() {
        let res = c
            .patch(&location)
            .bearer_auth(&token)
            .header("Tus-Resumable", "1.0.0")
            .header("Upload-Offset", i.to_string())
            .header("Content-Type", "application/offset+octet-stream")
            .body(vec![*b])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 204, "PATCH {i}");
        if i % 500 == 499 && i + 1 < n {
            most = most.max(storage.list(&prefix).await.unwrap().len());
        }
    }
    let took = started.elapsed();
    assert!(most <= 1, "{most} objects held the upload's tail");
    // The original is exactly what was sent, and nothing is left under the upload.
    let mut got = Vec::new();
    let mut obj = storage
        .get(
            &format!(
                "originals/{}/source",
                video_of(&base, &token, &location).await
            ),
            None,
        )
        .await
        .unwrap();
    use futures::StreamExt;
    while let Some(chunk) = obj.body.next().await {
        got.extend_from_slice(&chunk.unwrap());
    }
    assert!(
        got == data,
        "the stored original differs from what was sent"
    );
    assert!(storage.list(&prefix).await.unwrap().is_empty());
    eprintln!("{n} one-byte PATCHes in {took:?}");
}

/// The video an upload belongs to (tus HEAD does not say; the creation did).
async fn video_of(base: &str, token: &str, _location: &str) -> String {
    let (_, page) = crate::common::get_json(&format!("{base}/api/v1/me/videos"), Some(token)).await;
    page["items"][0]["id"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_storage_fails_in_bounded_time_and_the_rest_stays_up() {
    // S3 that accepts connections and never answers.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_addr = hung.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in hung.incoming().flatten() {
            held.push(conn);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(&[
        "all",
        "--data-dir",
        dir.path().join("var").to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    cmd.env("KADR_ADMIN_PASSWORD", crate::common::ADMIN_PASSWORD)
        .env("KADR_STORAGE__BACKEND", "s3")
        .env("KADR_STORAGE__S3__ENDPOINT", format!("http://{hung_addr}"))
        .env("KADR_STORAGE__S3__ACCESS_KEY_ID", "x")
        .env("KADR_STORAGE__S3__SECRET_ACCESS_KEY", "y")
        .env("KADR_STORAGE__S3__CONNECT_TIMEOUT_SECS", "1")
        .env("KADR_STORAGE__S3__READ_TIMEOUT_SECS", "1")
        .env("KADR_STORAGE__S3__ATTEMPT_TIMEOUT_SECS", "2")
        .env("KADR_STORAGE__S3__MAX_ATTEMPTS", "2");
    let kadr = tokio::task::spawn_blocking(move || Kadr::start(cmd))
        .await
        .unwrap();
    let base = kadr.url("");
    let base = base.trim_end_matches('/').to_owned();
    let token = register_and_login(&base, "alice").await;

    let started = Instant::now();
    let creation = {
        let (url, token) = (format!("{base}/api/v1/uploads"), token.clone());
        tokio::spawn(async move {
            let res = http()
                .post(url)
                .bearer_auth(token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", "1000")
                .send()
                .await
                .unwrap();
            let retry = res.headers().contains_key("retry-after");
            (res.status().as_u16(), retry, res.text().await.unwrap())
        })
    };
    // While it waits on the storage, the catalog and health answer at once.
    tokio::time::sleep(Duration::from_millis(300)).await;
    for path in ["/api/v1/videos", "/healthz", "/api/v1/me"] {
        let t = Instant::now();
        let res = http()
            .get(format!("{base}{path}"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{path}");
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "{path} took {:?}",
            t.elapsed()
        );
    }
    let (status, retry, body) = creation.await.unwrap();
    let took = started.elapsed();
    assert_eq!(status, 503, "{body}");
    assert!(retry, "no Retry-After");
    assert!(took < Duration::from_secs(20), "the creation took {took:?}");
    assert!(!body.contains(&hung_addr.to_string()), "{body}");
    // Readiness says what is down, in bounded time.
    let t = Instant::now();
    let res = http().get(format!("{base}/readyz")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    assert!(t.elapsed() < Duration::from_secs(5));
}
