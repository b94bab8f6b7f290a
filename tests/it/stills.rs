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
