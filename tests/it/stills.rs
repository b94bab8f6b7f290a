//! Stills: `/media/{id}/thumbnail.jpg?t=&w=` as a chapter list or a share card would ask for
//! it: a picture at whole seconds and a width from a short list, made by the worker from the
//! published rungs the first time and served from storage after, signed like the video's
//! other pictures, refused for anything outside the rules.

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, call, creator, get_json, http, login, testsrc, upload_with,
    wait_ready,
};

async fn fetch(url: &str) -> (u16, String, Vec<u8>) {
    let res = http().get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let ct = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, ct, res.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn stills_are_made_once_at_whole_seconds_and_fixed_widths() {
    let stack = Stack::start(Backend::Local, &[]).await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let clip = stack.dir.path().join("clip.mp4");
    testsrc(&clip, "640x360", 15, 10, &[]);
    let id = upload_with(&stack, &alice, &clip, &["--title", "Кадры"]);
    wait_ready(&base, &alice, &id).await;
    let at = |t: &str, w: &str| format!("{base}/media/{id}/thumbnail.jpg?t={t}&w={w}");

    let (s, ct, two) = fetch(&at("2", "320")).await;
    assert_eq!((s, ct.as_str()), (200, "image/jpeg"));
    let size = imagesize::blob_size(&two).unwrap();
    assert_eq!((size.width, size.height), (320, 180));
    // Rounded to the second: the same picture, from storage.
    let started = std::time::Instant::now();
    let (_, _, again) = fetch(&at("2.3", "320")).await;
    assert_eq!(again, two);
    assert!(started.elapsed().as_millis() < 2000);
    // Another time, another picture (the test pattern moves).
    let (_, _, seven) = fetch(&at("7", "320")).await;
    assert_ne!(seven, two);
    // Other widths from the list; never wider than the largest rung.
    let (_, _, small) = fetch(&at("2", "160")).await;
    assert_eq!(imagesize::blob_size(&small).unwrap().width, 160);
    let (_, _, big) = fetch(&at("2", "1280")).await;
    assert!(imagesize::blob_size(&big).unwrap().width <= 640);
    // Past the end: the last second.
    assert_eq!(fetch(&at("999", "160")).await.0, 200);

    // Many at once for a new one: all answered with the same picture.
    let url = at("5", "640");
    let many: Vec<_> = (0..12).map(|_| fetch(&url)).collect();
    let got = futures::future::join_all(many).await;
    assert!(
        got.iter().all(|g| g.0 == 200 && g.2 == got[0].2),
        "{:?}",
        got.iter().map(|g| g.0).collect::<Vec<_>>()
    );

    // Outside the rules.
    for (t, w) in [("2", "333"), ("-1", "320"), ("x", "320"), ("NaN", "320")] {
        let (s, _) = get_json(&at(t, w), None).await;
        assert_eq!(s, 400, "{t} {w}");
    }
    let (s, p) = get_json(&format!("{base}/media/{id}/thumbnail.jpg"), None).await;
    assert_eq!((s, p["code"].as_str()), (400, Some("invalid_query")));

    // A private video's stills: its image token opens them, nothing else does.
    let (s, v) = call(
        http()
            .patch(format!("{base}/api/v1/videos/{id}"))
            .bearer_auth(&alice),
        Some(serde_json::json!({ "privacy": "private" })),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(fetch(&at("2", "320")).await.0, 404);
    let (_, pb) = get_json(&format!("{base}/api/v1/videos/{id}/playback"), Some(&alice)).await;
    let poster = pb["poster"].as_str().unwrap();
    let token = poster.split("token=").nth(1).unwrap();
    let (s, _, signed) = fetch(&format!("{}&token={token}", at("2", "320"))).await;
    assert_eq!(s, 200);
    assert_eq!(signed, two);
    let hls_token = pb["hls"].as_str().unwrap().split("token=").nth(1).unwrap();
    assert_eq!(
        fetch(&format!("{}&token={hls_token}", at("2", "320")))
            .await
            .0,
        403,
        "an hls token opens no picture"
    );
}

/// When no worker makes stills (all busy, or none running that kind), requests wait at most
/// 15 s each and at most 16 wait per api process: the rest are told at once to come back,
/// and nothing else on the server is held up.
#[tokio::test]
async fn waiting_for_stills_is_bounded() {
    let stack = Stack::start(
        Backend::Local,
        // Every kind but `thumbnail`: stills are asked for and never made.
        &[(
            "KADR_WORKER__KINDS",
            "[\"transcode\", \"cleanup\", \"reconcile\", \"notify\", \"fanout\"]",
        )],
    )
    .await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let clip = stack.dir.path().join("clip.mp4");
    testsrc(&clip, "320x240", 15, 3, &[]);
    let id = upload_with(&stack, &alice, &clip, &["--title", "Ждём"]);
    wait_ready(&base, &alice, &id).await;

    let asks: Vec<_> = (0..24)
        .map(|i| {
            let url = format!("{base}/media/{id}/thumbnail.jpg?t={}&w=160", i % 3);
            async move {
                let started = std::time::Instant::now();
                let res = http().get(&url).send().await.unwrap();
                let status = res.status().as_u16();
                let retry = res
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                let body: serde_json::Value = res.json().await.unwrap_or_default();
                (
                    status,
                    retry,
                    body["code"].as_str().unwrap_or_default().to_owned(),
                    started.elapsed(),
                )
            }
        })
        .collect();
    // Meanwhile the catalog answers as usual.
    let catalog = async {
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        let started = std::time::Instant::now();
        let (s, _) = get_json(&format!("{base}/api/v1/videos/{id}"), None).await;
        (s, started.elapsed())
    };
    let (got, (catalog_status, catalog_took)) =
        tokio::join!(futures::future::join_all(asks), catalog);
    assert_eq!(catalog_status, 200);
    assert!(
        catalog_took.as_secs() < 5,
        "the catalog waited {catalog_took:?}"
    );
    let busy: Vec<_> = got.iter().filter(|g| g.2 == "busy").collect();
    let waited: Vec<_> = got.iter().filter(|g| g.2 == "unavailable").collect();
    assert_eq!(busy.len() + waited.len(), 24, "{got:?}");
    assert_eq!(waited.len(), 16, "at most 16 wait: {got:?}");
    for b in &busy {
        assert_eq!(b.0, 503);
        assert!(b.1.is_some(), "Retry-After: {b:?}");
        assert!(b.3.as_secs() < 5, "told at once: {b:?}");
    }
    for w in &waited {
        assert_eq!(w.0, 503);
        assert!(w.1.is_some(), "Retry-After: {w:?}");
        assert!(
            (14..30).contains(&w.3.as_secs()),
            "waited about 15 s: {w:?}"
        );
    }
}
