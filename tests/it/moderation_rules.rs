//! Moderation cannot be bypassed, through `kadr all`: a video that is not ready cannot be
//! approved; an unverified owner's edit of what viewers see sends an approved video back to
//! review; a video has one upload (racing creations: exactly one wins); and media links issued
//! before a rejection, a privacy change or a delete stop working right after it.

use std::time::{Duration, Instant};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, get_json, http, login, register_and_login, send_json, testsrc,
    upload_with, wait_ready,
};
use serde_json::{Value, json};

async fn decide(
    base: &str,
    token: &str,
    id: &str,
    what: &str,
    reason: Option<&str>,
) -> (u16, Value) {
    send_json(
        http()
            .post(format!("{base}/api/v1/moderation/videos/{id}/{what}"))
            .bearer_auth(token),
        &json!({ "reason": reason }),
    )
    .await
}

async fn patch(base: &str, token: &str, id: &str, body: Value) -> Value {
    let (status, v) = send_json(
        http()
            .patch(format!("{base}/api/v1/videos/{id}"))
            .bearer_auth(token),
        &body,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    v
}

async fn status_of(url: &str) -> u16 {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(url)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// The media URLs a viewer was handed: the master playlist and the poster.
async fn media_urls(base: &str, token: Option<&str>, id: &str) -> [String; 2] {
    let (status, p) = get_json(&format!("{base}/api/v1/videos/{id}/playback"), token).await;
    assert_eq!(status, 200, "{p}");
    let hls = p["hls"].as_str().unwrap().to_owned();
    assert!(hls.contains("token="), "{hls}");
    [hls, p["poster"].as_str().unwrap().to_owned()]
}

/// Polls until every URL answers something other than 200 (within `within`); returns the codes.
async fn refused_within(urls: &[String], within: Duration) -> Vec<u16> {
    let started = Instant::now();
    loop {
        let mut codes = Vec::new();
        for u in urls {
            codes.push(status_of(u).await);
        }
        if codes.iter().all(|c| *c != 200) || started.elapsed() > within {
            return codes;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn moderation_cannot_be_bypassed() {
    let stack = Stack::start(
        Backend::Local,
        &[
            (
                "KADR_API__MEDIA_SECRET",
                "a media secret for the tests, at least 32 chars",
            ),
            ("KADR_API__MEDIA_ACCESS_CACHE_MS", "500"),
        ],
    )
    .await;
    let base = stack.url("");
    let base = base.trim_end_matches('/');
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    testsrc(&clip, "320x240", 25, 2, &[]);
    let alice = register_and_login(base, "alice").await;
    let bob = register_and_login(base, "bob").await;
    let admin = login(base, "admin", ADMIN_PASSWORD).await;

    // A video with nothing uploaded yet cannot be approved.
    let (status, created) = send_json(
        http()
            .post(format!("{base}/api/v1/videos"))
            .bearer_auth(&alice),
        &json!({ "title": "Not yet" }),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let empty = created["id"].as_str().unwrap().to_owned();
    let (status, problem) = decide(base, &admin, &empty, "approve", None).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (409, Some("not_ready")),
        "{problem}"
    );

    // Two tus creations racing for that video: exactly one gets it.
    let meta = format!(
        "video_id {}",
        base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &empty)
    );
    let creations = (0..8).map(|_| {
        let meta = meta.clone();
        let token = alice.clone();
        let url = format!("{base}/api/v1/uploads");
        async move {
            http()
                .post(url)
                .bearer_auth(token)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Length", "1000")
                .header("Upload-Metadata", meta)
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        }
    });
    let mut codes = futures::future::join_all(creations).await;
    codes.sort_unstable();
    assert_eq!(codes, [201, 409, 409, 409, 409, 409, 409, 409]);

    // Alice (unverified) uploads; approved videos are listed.
    let up = |title: &str, privacy: &str| {
        upload_with(
            &stack,
            &alice,
            &clip,
            &["--title", title, "--privacy", privacy],
        )
    };
    let edited = up("Первое название", "public");
    let quiet = up("Quiet edit", "public");
    let to_reject = up("To reject", "unlisted");
    let to_hide = up("To hide", "unlisted");
    let to_delete = up("To delete", "unlisted");
    for v in [&edited, &quiet, &to_reject, &to_hide, &to_delete] {
        wait_ready(base, &alice, v).await;
        let (status, v) = decide(base, &admin, v, "approve", None).await;
        assert_eq!(status, 200, "{v}");
    }
    // Whether anonymous viewers find the video listed, once their page (kept a second) has
    // caught up: polled for up to three seconds until it says `want`.
    let listed = |id: String, want: bool| async move {
        let started = Instant::now();
        loop {
            let (_, page) = get_json(&format!("{base}/api/v1/videos?limit=100"), None).await;
            let found = page["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|v| v["id"].as_str() == Some(id.as_str()));
            if found == want || started.elapsed() > Duration::from_secs(3) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    };
    assert!(listed(edited.clone(), true).await);

    // A new title from the unverified owner: back to review, unlisted, and she is told why.
    let after = patch(
        base,
        &alice,
        &edited,
        json!({ "title": "Совсем другое название" }),
    )
    .await;
    assert_eq!(after["moderation"]["state"], "pending", "{after}");
    assert!(
        after["moderation"]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("review")),
        "{after}"
    );
    assert!(!listed(edited.clone(), false).await);
    // Approved again, it is back.
    assert_eq!(decide(base, &admin, &edited, "approve", None).await.0, 200);
    assert!(listed(edited.clone(), true).await);
    // Changing only what viewers do not see, or sending the same title, keeps the decision.
    let same = patch(
        base,
        &alice,
        &quiet,
        json!({ "title": "Quiet edit", "language": "ru" }),
    )
    .await;
    assert_eq!(same["moderation"]["state"], "approved", "{same}");
    // A verified owner's edits publish directly.
    let (_, me) = get_json(&format!("{base}/api/v1/me"), Some(&alice)).await;
    let (status, _) = send_json(
        http()
            .patch(format!(
                "{base}/api/v1/admin/users/{}",
                me["id"].as_str().unwrap()
            ))
            .bearer_auth(&admin),
        &json!({ "verified": true }),
    )
    .await;
    assert_eq!(status, 200);
    let trusted = patch(
        base,
        &alice,
        &quiet,
        json!({ "description": "Теперь с описанием" }),
    )
    .await;
    assert_eq!(trusted["moderation"]["state"], "approved", "{trusted}");

    // Media links handed out before a change stop working right after it (the access cache
    // here is 0.5 s): a rejection, a change to private, a delete.
    let rejected_urls = media_urls(base, Some(&bob), &to_reject).await;
    let hidden_urls = media_urls(base, None, &to_hide).await;
    let deleted_urls = media_urls(base, Some(&alice), &to_delete).await;
    for u in rejected_urls
        .iter()
        .chain(&hidden_urls)
        .chain(&deleted_urls)
    {
        assert_eq!(status_of(u).await, 200, "{u}");
    }
    // Media answers carry the security headers too.
    let res = http().get(&rejected_urls[0]).send().await.unwrap();
    let h = res.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    let csp = h["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let (status, _) = decide(base, &admin, &to_reject, "reject", Some("Нарушение")).await;
    assert_eq!(status, 200);
    patch(base, &alice, &to_hide, json!({ "privacy": "private" })).await;
    let (status, _) = send_json(
        http()
            .delete(format!("{base}/api/v1/videos/{to_delete}"))
            .bearer_auth(&alice),
        &json!({}),
    )
    .await;
    assert!((200..300).contains(&status), "delete: {status}");
    for (what, urls) in [
        ("rejected", &rejected_urls),
        ("made private", &hidden_urls),
        ("deleted", &deleted_urls),
    ] {
        let codes = refused_within(urls, Duration::from_secs(3)).await;
        assert!(
            codes.iter().all(|c| [403, 404].contains(c)),
            "{what}: {codes:?}"
        );
    }
    // The owner still plays her private video with a link issued now.
    let fresh = media_urls(base, Some(&alice), &to_hide).await;
    for u in &fresh {
        assert_eq!(status_of(u).await, 200, "{u}");
    }
}
