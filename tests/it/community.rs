//! Community, part 1, through `kadr all`: channels (several per user, uploads into one, pictures,
//! deletion), subscriptions with the feed and new-video notifications, ratings with exact
//! counts, comments under their rules, and the visibility rule over all of it.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, admin_sets, call, clip, creator, get_json, http, ids, login,
    post_comment, register_and_login, testsrc, until, upload_with, wait_ready,
};

/// Fast folds and announcements, room for many accounts.
const ENV: &[(&str, &str)] = &[
    ("KADR_COMMUNITY__FOLD_INTERVAL_MS", "200"),
    ("KADR_COMMUNITY__ANNOUNCE_INTERVAL_MS", "200"),
    ("KADR_COMMUNITY__MAX_CHANNELS", "3"),
    ("KADR_AUTH__REGISTER_MAX_PER_HOUR", "1000"),
];

async fn start(extra: &[(&str, &str)]) -> Stack {
    let mut env = ENV.to_vec();
    env.extend_from_slice(extra);
    Stack::start(Backend::Local, &env).await
}

#[tokio::test]
async fn channels_subscriptions_feed_and_notifications() {
    let stack = start(&[]).await;
    let base = stack.url("");
    let c = http();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let bob = register_and_login(&base, "bob").await;

    // A second channel; handles are unique whatever their case; a user has at most 3.
    let (status, ch) = call(
        c.post(format!("{base}/api/v1/channels")).bearer_auth(&alice),
        Some(json!({ "handle": "Музыка-Алисы", "display_name": "Музыка", "description": "<script>alert(1)</script>",
                     "links": [{ "title": "Сайт", "url": "https://example.org/alice" }] })),
    )
    .await;
    assert_eq!(status, 201, "{ch}");
    assert_eq!(ch["description"], "<script>alert(1)</script>");
    assert_eq!(ch["mine"], true);
    let (status, v) = call(
        c.post(format!("{base}/api/v1/channels")).bearer_auth(&bob),
        Some(json!({ "handle": "музыка-алисы" })),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("handle_taken")));
    for (handle, links, field) in [
        ("x", json!([]), "handle"),
        ("<b>bold</b>", json!([]), "handle"),
        (
            "links-js",
            json!([{ "title": "t", "url": "javascript:alert(1)" }]),
            "links",
        ),
        (
            "links-quote",
            json!([{ "title": "t", "url": "https://e.org/\"onmouseover=alert(1)" }]),
            "links",
        ),
    ] {
        let (status, v) = call(
            c.post(format!("{base}/api/v1/channels"))
                .bearer_auth(&alice),
            Some(json!({ "handle": handle, "links": links })),
        )
        .await;
        assert_eq!(
            (status, v["code"].as_str(), v["field"].as_str()),
            (400, Some("invalid_field"), Some(field)),
            "{handle}"
        );
    }
    let (status, _) = call(
        c.post(format!("{base}/api/v1/channels"))
            .bearer_auth(&alice),
        Some(json!({ "handle": "alice-third" })),
    )
    .await;
    assert_eq!(status, 201);
    let (status, v) = call(
        c.post(format!("{base}/api/v1/channels"))
            .bearer_auth(&alice),
        Some(json!({ "handle": "alice-fourth" })),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("too_many_channels"))
    );
    let (_, mine) = get_json(&format!("{base}/api/v1/me/channels"), Some(&alice)).await;
    let handles: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, ["alice", "Музыка-Алисы", "alice-third"]);

    // Nobody uploads into someone else's channel.
    let (status, v) = call(
        c.post(format!("{base}/api/v1/videos")).bearer_auth(&bob),
        Some(json!({ "title": "t", "channel": "alice" })),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (400, Some("unknown_channel")));

    // Bob subscribes (not to himself).
    let sub = format!(
        "{base}/api/v1/channels/%D0%BC%D1%83%D0%B7%D1%8B%D0%BA%D0%B0-%D0%B0%D0%BB%D0%B8%D1%81%D1%8B/subscription"
    );
    let (status, v) = call(c.put(&sub).bearer_auth(&bob), None).await;
    assert_eq!((status, &v["subscribed"]), (200, &json!(true)), "{v}");
    let (status, v) = call(c.put(&sub).bearer_auth(&bob), None).await;
    assert_eq!(status, 200, "subscribing twice is fine: {v}");
    let (status, v) = call(
        c.put(format!("{base}/api/v1/channels/bob/subscription"))
            .bearer_auth(&bob),
        None,
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("own_channel")));

    // Alice uploads into her second channel: it lands there, in Bob's feed and notifications.
    let file = clip(&stack, "clip.mp4");
    let video = upload_with(
        &stack,
        &alice,
        &file,
        &["--title", "Новая песня", "--channel", "Музыка-Алисы"],
    );
    let v = wait_ready(&base, &alice, &video).await;
    assert_eq!(v["channel"]["handle"], "Музыка-Алисы");
    let (_, first) = get_json(&format!("{base}/api/v1/channels/alice/videos"), None).await;
    assert!(ids(&first).is_empty(), "{first}");
    let feed = until(
        &format!("{base}/api/v1/me/feed"),
        Some(&bob),
        "the feed",
        |f| ids(f).contains(&video),
    )
    .await;
    assert_eq!(feed["items"][0]["title"], "Новая песня");
    let n = until(
        &format!("{base}/api/v1/me/notifications"),
        Some(&bob),
        "the notification",
        |n| {
            n["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["type"] == "new_video")
        },
    )
    .await;
    let item = &n["items"][0];
    assert_eq!(
        (&item["video"]["id"], &item["read"], &n["unread"]),
        (&json!(video), &json!(false), &json!(1))
    );
    let (status, v) = call(
        c.post(format!("{base}/api/v1/me/notifications/read"))
            .bearer_auth(&bob),
        Some(json!({})),
    )
    .await;
    assert_eq!((status, &v["unread"]), (200, &json!(0)), "{v}");
    // The owner was told the video was processed; nobody else.
    let (_, an) = get_json(&format!("{base}/api/v1/me/notifications"), Some(&alice)).await;
    assert!(
        an["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["type"] == "processed" && i["video"]["id"] == json!(video)),
        "{an}"
    );
    let (_, admin_n) = get_json(&format!("{base}/api/v1/me/notifications"), Some(&admin)).await;
    assert!(admin_n["items"].as_array().unwrap().is_empty(), "{admin_n}");

    // The subscriber count, exact once folded; my subscriptions.
    let chan = format!(
        "{base}/api/v1/channels/%D0%9C%D1%83%D0%B7%D1%8B%D0%BA%D0%B0-%D0%90%D0%BB%D0%B8%D1%81%D1%8B"
    );
    until(&chan, Some(&bob), "one subscriber", |c| {
        c["subscribers"] == 1 && c["subscribed"] == true
    })
    .await;
    let (_, subs) = get_json(&format!("{base}/api/v1/me/subscriptions"), Some(&bob)).await;
    assert_eq!(subs["items"][0]["handle"], "Музыка-Алисы");

    // A vertical short: in the feed, in the shorts of the feed and on the channel's shorts
    // tab; the landscape video is on its videos tab only.
    let vertical = stack.dir.path().join("short.mp4");
    testsrc(&vertical, "240x320", 15, 2, &[]);
    let short = upload_with(
        &stack,
        &alice,
        &vertical,
        &["--title", "Шортс", "--channel", "Музыка-Алисы"],
    );
    wait_ready(&base, &alice, &short).await;
    until(
        &format!("{base}/api/v1/me/feed/shorts"),
        Some(&bob),
        "the short",
        |f| ids(f) == vec![short.clone()],
    )
    .await;
    let (_, feed) = get_json(&format!("{base}/api/v1/me/feed"), Some(&bob)).await;
    assert_eq!(ids(&feed), vec![short.clone(), video.clone()]);
    let tab = |kind: &str| format!("{chan}/videos?kind={kind}");
    let (_, shorts) = get_json(&tab("shorts"), None).await;
    assert_eq!(ids(&shorts), vec![short.clone()]);
    let (_, videos) = get_json(&tab("videos"), None).await;
    assert_eq!(ids(&videos), vec![video.clone()]);
    let (status, v) = get_json(&tab("reels"), None).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("kind")));

    // Unsubscribing empties the feed at once.
    let (status, _) = call(c.delete(&sub).bearer_auth(&bob), None).await;
    assert_eq!(status, 200);
    let (_, feed) = get_json(&format!("{base}/api/v1/me/feed"), Some(&bob)).await;
    assert!(ids(&feed).is_empty(), "{feed}");
    until(&chan, None, "no subscriber", |c| c["subscribers"] == 0).await;
    // Subscribing again brings the channel's newest videos back.
    call(c.put(&sub).bearer_auth(&bob), None).await;
    let (_, feed) = get_json(&format!("{base}/api/v1/me/feed"), Some(&bob)).await;
    assert_eq!(ids(&feed), vec![short.clone(), video.clone()]);

    // Deleting a channel: confirmed by its handle, never the last one; it goes at once and
    // its videos follow.
    let del = format!("{base}/api/v1/channels/alice-third");
    let (status, v) = call(c.delete(&del).bearer_auth(&alice), None).await;
    assert_eq!(
        (status, v["code"].as_str()),
        (400, Some("confirmation_required"))
    );
    let (status, _) = call(
        c.delete(format!("{del}?confirm=alice-third"))
            .bearer_auth(&bob),
        None,
    )
    .await;
    assert_eq!(status, 404, "not Bob's");
    let (status, _) = call(
        c.delete(format!("{del}?confirm=alice-third"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!(status, 202);
    let (status, _) = get_json(&del, None).await;
    assert_eq!(status, 404);
    let del2 = format!(
        "{chan}?confirm=%D0%9C%D1%83%D0%B7%D1%8B%D0%BA%D0%B0-%D0%90%D0%BB%D0%B8%D1%81%D1%8B"
    );
    let (status, _) = call(c.delete(&del2).bearer_auth(&alice), None).await;
    assert_eq!(status, 202);
    let started = Instant::now();
    loop {
        let (status, _) = get_json(&format!("{base}/api/v1/videos/{video}"), Some(&alice)).await;
        if status == 404 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the video stayed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let (_, feed) = get_json(&format!("{base}/api/v1/me/feed"), Some(&bob)).await;
    assert!(ids(&feed).is_empty(), "{feed}");
    let (status, v) = call(
        c.delete(format!("{base}/api/v1/channels/alice?confirm=alice"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("last_channel")));
}

#[tokio::test]
async fn channel_pictures_are_checked_and_resized_by_the_worker() {
    let stack = start(&[]).await;
    let base = stack.url("");
    let c = http();
    let alice = register_and_login(&base, "alice").await;
    let png = stack.dir.path().join("avatar.png");
    let status = std::process::Command::new("ffmpeg")
        .args([
            "-v",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "testsrc2=size=640x360",
            "-frames:v",
            "1",
        ])
        .arg(&png)
        .status()
        .unwrap();
    assert!(status.success());
    let bytes = std::fs::read(&png).unwrap();
    let url = format!("{base}/api/v1/channels/alice/pictures/avatar");

    // Lies about the type, HTML, a decompression bomb's header: refused before any decoding.
    let (status, v) = call(
        c.put(&url)
            .bearer_auth(&alice)
            .header("content-type", "image/png")
            .body("<svg onload=alert(1)>"),
        None,
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (415, Some("not_an_image")));
    let mut bomb = bytes.clone();
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let (status, v) = call(
        c.put(&url)
            .bearer_auth(&alice)
            .header("content-type", "image/png")
            .body(bomb),
        None,
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (415, Some("not_an_image")));
    let (status, v) = call(
        c.put(&url)
            .bearer_auth(&alice)
            .header("content-type", "text/html")
            .body(bytes.clone()),
        None,
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (status, _) = call(
        c.put(format!("{base}/api/v1/channels/alice/pictures/avatar"))
            .header("content-type", "image/png")
            .body(bytes.clone()),
        None,
    )
    .await;
    assert_eq!(status, 401);

    let (status, v) = call(
        c.put(&url)
            .bearer_auth(&alice)
            .header("content-type", "image/png")
            .body(bytes),
        None,
    )
    .await;
    assert_eq!((status, &v["width"]), (202, &json!(640)), "{v}");
    let ch = until(
        &format!("{base}/api/v1/channels/alice"),
        None,
        "the avatar",
        |c| !c["avatar"].is_null(),
    )
    .await;
    let res = reqwest::get(ch["avatar"]["url"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "image/jpeg");
    let jpeg = res.bytes().await.unwrap();
    let dims = imagesize::blob_size(&jpeg).unwrap();
    assert_eq!((dims.width, dims.height), (256, 256));
    let small = reqwest::get(ch["avatar"]["small"].as_str().unwrap())
        .await
        .unwrap();
    let dims = imagesize::blob_size(&small.bytes().await.unwrap()).unwrap();
    assert_eq!((dims.width, dims.height), (88, 88));

    let (status, _) = call(c.delete(&url).bearer_auth(&alice), None).await;
    assert_eq!(status, 204);
    let (_, ch) = get_json(&format!("{base}/api/v1/channels/alice"), None).await;
    assert!(ch["avatar"].is_null(), "{ch}");

    // Twenty 9 MiB pictures sent at once, each trickling for 7 s: at most eight are held in
    // memory, the others are told to come back (503 `busy`), and memory stays bounded.
    let rss = |pid: u32| -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap()
            / 1024
    };
    let pid = stack.kadr.pid();
    let before = rss(pid);
    let senders = (0..20).map(|_| {
        let (c, url, alice) = (c.clone(), url.clone(), alice.clone());
        async move {
            let chunks = futures::stream::unfold(0u32, |i| async move {
                if i == 9 {
                    return None;
                }
                tokio::time::sleep(Duration::from_millis(700)).await;
                let mut chunk = vec![0u8; 1024 * 1024];
                if i == 0 {
                    chunk[..8].copy_from_slice(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]);
                }
                Some((Ok::<_, std::io::Error>(chunk), i + 1))
            });
            c.put(&url)
                .bearer_auth(&alice)
                .header("content-type", "image/png")
                .body(reqwest::Body::wrap_stream(chunks))
                .send()
                .await
                .map(|r| r.status().as_u16())
                .unwrap_or(0)
        }
    });
    let watch = async {
        let mut peak = 0;
        for _ in 0..80 {
            peak = peak.max(rss(pid));
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        peak
    };
    let (codes, peak) = futures::join!(futures::future::join_all(senders), watch);
    let busy = codes.iter().filter(|c| **c == 503).count();
    assert!(busy >= 10, "{codes:?}");
    assert!(codes.iter().all(|c| matches!(c, 503 | 415)), "{codes:?}");
    assert!(
        peak < before + 150,
        "RSS went from {before} MiB to {peak} MiB"
    );
}

#[tokio::test]
async fn ratings_are_counted_exactly_without_a_hot_row() {
    let stack = start(&[("KADR_COMMUNITY__ACTIONS_PER_MINUTE", "30")]).await;
    let base = stack.url("");
    let c = http();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let file = clip(&stack, "clip.mp4");
    let video = upload_with(&stack, &alice, &file, &["--title", "Лайки"]);
    wait_ready(&base, &alice, &video).await;
    let rating = format!("{base}/api/v1/videos/{video}/rating");
    let detail = format!("{base}/api/v1/videos/{video}");

    // Twelve viewers like it at once; one of them sends five likes at once: twelve likes.
    let mut viewers = Vec::new();
    for i in 0..12 {
        viewers.push(register_and_login(&base, &format!("viewer{i}")).await);
    }
    let mut calls = Vec::new();
    for t in viewers.iter().chain(std::iter::repeat_n(&viewers[0], 4)) {
        calls.push(call(
            c.put(&rating).bearer_auth(t),
            Some(json!({ "rating": "like" })),
        ));
    }
    for (status, v) in futures::future::join_all(calls).await {
        assert_eq!(status, 200, "{v}");
    }
    until(&detail, None, "12 likes", |v| v["likes"] == 12).await;
    // The owner was told of the 10th like.
    until(
        &format!("{base}/api/v1/me/notifications"),
        Some(&alice),
        "a milestone",
        |n| {
            n["items"].as_array().unwrap().iter().any(|i| {
                i["type"] == "like_milestone"
                    && i["data"]["likes"] == 10
                    && i["video"]["id"] == json!(video)
            })
        },
    )
    .await;

    // A like changed to a dislike; dislikes are the owner's to see.
    let (status, v) = call(
        c.put(&rating).bearer_auth(&viewers[1]),
        Some(json!({ "rating": "dislike" })),
    )
    .await;
    assert_eq!((status, &v["rating"]), (200, &json!("dislike")));
    let (_, mine) = get_json(&rating, Some(&viewers[1])).await;
    assert_eq!(mine["rating"], "dislike");
    let (_, anon) = get_json(&rating, None).await;
    assert_eq!(anon["rating"], "none");
    let owner = until(&detail, Some(&alice), "11 and 1", |v| {
        v["likes"] == 11 && v["dislikes"] == 1
    })
    .await;
    assert_eq!(owner["dislikes"], 1);
    let (_, public) = get_json(&detail, Some(&viewers[2])).await;
    assert!(public["dislikes"].is_null(), "{public}");
    let (status, v) = call(
        c.put(&rating).bearer_auth(&viewers[1]),
        Some(json!({ "rating": "meh" })),
    )
    .await;
    assert_eq!((status, v["field"].as_str()), (400, Some("rating")));

    // Liked videos: the like, and not after taking it back.
    let (_, liked) = get_json(&format!("{base}/api/v1/me/liked"), Some(&viewers[2])).await;
    assert_eq!(ids(&liked), vec![video.clone()]);
    call(
        c.put(&rating).bearer_auth(&viewers[2]),
        Some(json!({ "rating": "none" })),
    )
    .await;
    let (_, liked) = get_json(&format!("{base}/api/v1/me/liked"), Some(&viewers[2])).await;
    assert!(ids(&liked).is_empty());
    until(&detail, None, "10 likes", |v| v["likes"] == 10).await;

    // A flood of changes from one user is cut off, with a stable code and Retry-After.
    let mut refused = None;
    for i in 0..40 {
        let r = if i % 2 == 0 { "like" } else { "none" };
        let res = c
            .put(&rating)
            .bearer_auth(&viewers[3])
            .json(&json!({ "rating": r }))
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            refused = Some(res);
            break;
        }
    }
    let res = refused.expect("30 changes a minute");
    assert!(res.headers().contains_key("retry-after"));
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["code"], "too_many_actions");

    // A video nobody else may see cannot be rated by them.
    let private = upload_with(
        &stack,
        &alice,
        &file,
        &["--title", "Тайное", "--privacy", "private"],
    );
    wait_ready(&base, &alice, &private).await;
    let (status, _) = call(
        c.put(format!("{base}/api/v1/videos/{private}/rating"))
            .bearer_auth(&viewers[4]),
        Some(json!({ "rating": "like" })),
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn comments_follow_their_rules() {
    let stack = start(&[("KADR_COMMUNITY__COMMENTS_PER_MINUTE", "12")]).await;
    let base = stack.url("");
    let c = http();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let bob = register_and_login(&base, "bob").await;
    let carol = register_and_login(&base, "carol").await;
    let file = clip(&stack, "clip.mp4");
    let video = upload_with(
        &stack,
        &alice,
        &file,
        &["--title", "<img src=x onerror=alert(1)>"],
    );
    let v = wait_ready(&base, &alice, &video).await;
    assert_eq!(
        v["title"], "<img src=x onerror=alert(1)>",
        "titles are text"
    );
    let list = format!("{base}/api/v1/videos/{video}/comments");

    // Plain text, kept as written: markup stays text for the page to show as text.
    let xss =
        "<script>alert(1)</script> \"><img src=x onerror=alert(2)> javascript:alert(3) see 1:23";
    let (status, top) = post_comment(&base, &bob, &video, xss, None).await;
    assert_eq!(status, 201, "{top}");
    assert_eq!(
        (&top["body"], &top["held"], &top["author"]["username"]),
        (&json!(xss), &json!(false), &json!("bob"))
    );
    let top_id = top["id"].as_str().unwrap().to_owned();
    for (body, field) in [("   ", "body"), ("\u{0}", "body")] {
        let (status, v) = post_comment(&base, &bob, &video, body, None).await;
        assert_eq!((status, v["field"].as_str()), (400, Some(field)), "{v}");
    }
    let (status, v) = post_comment(&base, &bob, &video, &"я".repeat(5001), None).await;
    assert_eq!((status, v["field"].as_str()), (400, Some("body")), "{v}");

    // One level of replies; a reply tells the comment's author (by a job).
    let (status, reply) = post_comment(&base, &alice, &video, "Спасибо!", Some(&top_id)).await;
    assert_eq!((status, &reply["by_owner"]), (201, &json!(true)), "{reply}");
    let reply_id = reply["id"].as_str().unwrap().to_owned();
    let (status, v) = post_comment(&base, &carol, &video, "deeper", Some(&reply_id)).await;
    assert_eq!((status, v["code"].as_str()), (400, Some("not_a_reply")));
    until(
        &format!("{base}/api/v1/me/notifications"),
        Some(&bob),
        "the reply",
        |n| {
            n["items"].as_array().unwrap().iter().any(|i| {
                i["type"] == "comment_reply"
                    && i["comment"]["id"] == json!(reply_id)
                    && i["actor"] == "alice"
            })
        },
    )
    .await;
    let (_, replies) = get_json(&format!("{base}/api/v1/comments/{top_id}/replies"), None).await;
    assert_eq!(ids(&replies), vec![reply_id.clone()]);

    // Editing: the author only, marked edited.
    let edit = format!("{base}/api/v1/comments/{top_id}");
    let (status, v) = call(
        c.patch(&edit).bearer_auth(&carol),
        Some(json!({ "body": "hijacked" })),
    )
    .await;
    assert_eq!(status, 403, "{v}");
    let (status, v) = call(
        c.patch(&edit).bearer_auth(&bob),
        Some(json!({ "body": "исправлено" })),
    )
    .await;
    assert_eq!((status, &v["body"]), (200, &json!("исправлено")));
    assert!(!v["edited_at"].is_null());

    // Likes on comments order the top sort; keyset pages.
    let mut ids_new = Vec::new();
    for i in 0..5 {
        let (status, v) = post_comment(&base, &carol, &video, &format!("comment {i}"), None).await;
        assert_eq!(status, 201, "{v}");
        ids_new.push(v["id"].as_str().unwrap().to_owned());
    }
    let (status, _) = call(
        c.put(format!("{base}/api/v1/comments/{}/like", ids_new[1]))
            .bearer_auth(&bob),
        None,
    )
    .await;
    assert_eq!(status, 204);
    call(
        c.put(format!("{base}/api/v1/comments/{}/like", ids_new[1]))
            .bearer_auth(&alice),
        None,
    )
    .await;
    call(
        c.put(format!("{base}/api/v1/comments/{}/like", ids_new[3]))
            .bearer_auth(&bob),
        None,
    )
    .await;
    let top_page = until(
        &format!("{list}?sort=top&limit=2"),
        Some(&bob),
        "top",
        // Both likes folded: the counts are folded in passes, the second may come later.
        |p| {
            p["items"][0]["id"] == json!(ids_new[1])
                && p["items"][0]["likes"] == 2
                && p["items"][1]["likes"] == 1
        },
    )
    .await;
    assert_eq!(top_page["items"][1]["id"], json!(ids_new[3]));
    assert_eq!(top_page["items"][0]["liked"], true);
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let url = match &cursor {
            Some(cur) => format!("{list}?limit=2&cursor={cur}"),
            None => format!("{list}?limit=2"),
        };
        let (_, p) = get_json(&url, None).await;
        seen.extend(ids(&p));
        match p["next_cursor"].as_str() {
            Some(cur) => cursor = Some(cur.to_owned()),
            None => break,
        }
    }
    let mut want: Vec<String> = ids_new.iter().rev().cloned().collect();
    want.push(top_id.clone());
    assert_eq!(seen, want, "newest first, every top-level comment once");
    let count = until(&list, None, "the count", |p| p["count"] == 7).await;
    assert_eq!(count["policy"], "open");

    // Pinning: the owner's, shown first on the first page.
    let (status, _) = call(
        c.put(format!("{base}/api/v1/comments/{top_id}/pin"))
            .bearer_auth(&bob),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) = call(
        c.put(format!("{base}/api/v1/comments/{reply_id}/pin"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!(status, 400, "a reply is not pinned");
    let (status, _) = call(
        c.put(format!("{base}/api/v1/comments/{top_id}/pin"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, p) = get_json(&list, None).await;
    assert_eq!(
        (&p["pinned"]["id"], &p["pinned"]["pinned"]),
        (&json!(top_id), &json!(true))
    );

    // Deleting: the video's owner may delete anyone's comment; others may not.
    let del = format!("{base}/api/v1/comments/{}", ids_new[0]);
    let (status, _) = call(c.delete(&del).bearer_auth(&bob), None).await;
    assert_eq!(status, 403);
    let (status, _) = call(c.delete(&del).bearer_auth(&alice), None).await;
    assert_eq!(status, 204);
    let (status, _) = get_json(&del, None).await;
    assert_eq!(status, 404);
    // A top-level comment takes its replies with it; the count follows.
    let (status, _) = call(c.delete(&edit).bearer_auth(&bob), None).await;
    assert_eq!(status, 204);
    let (status, _) = get_json(&format!("{base}/api/v1/comments/{reply_id}"), None).await;
    assert_eq!(status, 404);
    until(&list, None, "4 left", |p| {
        p["count"] == 4 && p["pinned"].is_null()
    })
    .await;

    // Held for the owner: only its author, the owner and moderators see it until approved.
    call(
        c.patch(format!("{base}/api/v1/videos/{video}"))
            .bearer_auth(&alice),
        Some(json!({ "comments": "hold" })),
    )
    .await;
    let (status, held) = post_comment(&base, &bob, &video, "ждёт", None).await;
    assert_eq!((status, &held["held"]), (201, &json!(true)), "{held}");
    let held_id = held["id"].as_str().unwrap().to_owned();
    let (_, p) = get_json(&list, None).await;
    assert!(!ids(&p).contains(&held_id));
    for (who, status) in [
        (None, 404),
        (Some(&carol), 404),
        (Some(&bob), 200),
        (Some(&alice), 200),
        (Some(&admin), 200),
    ] {
        let (s, _) = get_json(
            &format!("{base}/api/v1/comments/{held_id}"),
            who.map(|t| t.as_str()),
        )
        .await;
        assert_eq!(s, status, "{who:?}");
    }
    let (status, _) = get_json(&format!("{list}/held"), Some(&bob)).await;
    assert_eq!(status, 403);
    let (_, h) = get_json(&format!("{list}/held"), Some(&alice)).await;
    assert_eq!(ids(&h), vec![held_id.clone()]);
    let (status, _) = call(
        c.post(format!("{base}/api/v1/comments/{held_id}/approve"))
            .bearer_auth(&bob),
        None,
    )
    .await;
    assert_eq!(status, 403);
    let (status, v) = call(
        c.post(format!("{base}/api/v1/comments/{held_id}/approve"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!((status, &v["held"]), (200, &json!(false)));
    let (_, p) = get_json(&list, None).await;
    assert_eq!(ids(&p)[0], held_id);

    // Off: no comments shown or taken.
    call(
        c.patch(format!("{base}/api/v1/videos/{video}"))
            .bearer_auth(&alice),
        Some(json!({ "comments": "off" })),
    )
    .await;
    let (status, v) = post_comment(&base, &carol, &video, "hello?", None).await;
    assert_eq!((status, v["code"].as_str()), (403, Some("comments_off")));
    let (_, p) = get_json(&list, None).await;
    assert!(ids(&p).is_empty() && p["policy"] == "off", "{p}");
    call(
        c.patch(format!("{base}/api/v1/videos/{video}"))
            .bearer_auth(&alice),
        Some(json!({ "comments": "open" })),
    )
    .await;

    // A flood of comments from one user is cut off.
    let mut last = (0, Value::Null);
    for i in 0..15 {
        last = post_comment(&base, &carol, &video, &format!("flood {i}"), None).await;
        if last.0 == 429 {
            break;
        }
    }
    assert_eq!(
        (last.0, last.1["code"].as_str()),
        (429, Some("too_many_actions"))
    );
}

#[tokio::test]
async fn unverified_users_comments_wait_when_configured() {
    let stack = start(&[("KADR_MODERATION__HOLD_COMMENTS", "true")]).await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let bob = register_and_login(&base, "bob").await;
    let file = clip(&stack, "clip.mp4");
    let video = upload_with(&stack, &alice, &file, &[]);
    wait_ready(&base, &alice, &video).await;
    let (_, v) = post_comment(&base, &bob, &video, "новичок", None).await;
    assert_eq!(v["held"], true, "{v}");
    let held = v["id"].as_str().unwrap().to_owned();
    // Moderators find it in their queue; nobody else has one.
    let queue = format!("{base}/api/v1/moderation/comments");
    let (status, _) = get_json(&queue, Some(&bob)).await;
    assert_eq!(status, 403);
    let (status, q) = get_json(&queue, Some(&admin)).await;
    assert_eq!((status, ids(&q)), (200, vec![held.clone()]));
    let (status, _) = call(
        http()
            .post(format!("{base}/api/v1/comments/{held}/approve"))
            .bearer_auth(&admin),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (_, q) = get_json(&queue, Some(&admin)).await;
    assert!(ids(&q).is_empty(), "{q}");
    let (_, v) = post_comment(&base, &alice, &video, "verified", None).await;
    assert_eq!(v["held"], false, "{v}");
    // An edit of a published comment by someone whose comments are held waits again.
    admin_sets(&base, &admin, &bob, json!({ "verified": true })).await;
    let (_, v) = post_comment(&base, &bob, &video, "now verified", None).await;
    assert_eq!(v["held"], false, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    admin_sets(&base, &admin, &bob, json!({ "verified": false })).await;
    let (status, v) = call(
        http()
            .patch(format!("{base}/api/v1/comments/{id}"))
            .bearer_auth(&bob),
        Some(json!({ "body": "changed" })),
    )
    .await;
    assert_eq!((status, &v["held"]), (200, &json!(true)), "{v}");
}

/// The visibility rule over comments, ratings and notifications: whoever may not see a video
/// gets 404 for its comments, cannot rate it, and is not shown notifications about it.
#[tokio::test]
async fn the_visibility_matrix_covers_comments_ratings_and_notifications() {
    let stack = start(&[]).await;
    let base = stack.url("");
    let c = http();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = register_and_login(&base, "alice").await; // unverified: reviewed
    let bob = register_and_login(&base, "bob").await;
    let moderator = register_and_login(&base, "mod").await;
    admin_sets(&base, &admin, &moderator, json!({ "role": "moderator" })).await;
    let file = clip(&stack, "clip.mp4");
    let video = upload_with(&stack, &alice, &file, &["--title", "Матрица"]);
    wait_ready(&base, &alice, &video).await;
    let (status, v) = call(
        c.post(format!("{base}/api/v1/moderation/videos/{video}/approve"))
            .bearer_auth(&moderator),
        None,
    )
    .await;
    assert_eq!(status, 200, "{v}");
    // Bob comments, Alice replies: Bob is notified of the reply.
    let (_, top) = post_comment(&base, &bob, &video, "вопрос", None).await;
    let top_id = top["id"].as_str().unwrap().to_owned();
    let (_, reply) = post_comment(&base, &alice, &video, "ответ", Some(&top_id)).await;
    assert_eq!(reply["held"], false, "{reply}");
    until(
        &format!("{base}/api/v1/me/notifications"),
        Some(&bob),
        "the reply",
        |n| {
            n["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["type"] == "comment_reply")
        },
    )
    .await;
    // Alice was told of the approval (by a job).
    until(
        &format!("{base}/api/v1/me/notifications"),
        Some(&alice),
        "the decision",
        |n| {
            n["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["type"] == "moderation" && i["data"]["decision"] == "approved")
        },
    )
    .await;
    let viewers: [(&str, Option<&str>); 4] = [
        ("anonymous", None),
        ("owner", Some(&alice)),
        ("other", Some(&bob)),
        ("moderator", Some(&moderator)),
    ];

    let patch = |body: Value| {
        let c = c.clone();
        let (base, video, alice) = (base.clone(), video.clone(), alice.clone());
        async move {
            let (status, v) = call(
                c.patch(format!("{base}/api/v1/videos/{video}"))
                    .bearer_auth(&alice),
                Some(body),
            )
            .await;
            assert_eq!(status, 200, "{v}");
        }
    };
    // (state, who sees it), in order; each step changes the video from the one before.
    let steps: [(&str, &str); 4] = [
        ("private", "owner"),
        ("unlisted", "anonymous owner other moderator"),
        ("pending", "owner moderator"),
        ("rejected", "owner moderator"),
    ];
    for (state, who) in steps {
        match state {
            "private" => patch(json!({ "privacy": "private" })).await,
            "unlisted" => patch(json!({ "privacy": "unlisted" })).await,
            // An unverified owner's edit of the title sends it back to review.
            "pending" => patch(json!({ "privacy": "public", "title": "Матрица 2" })).await,
            _ => {
                let (status, v) = call(
                    c.post(format!("{base}/api/v1/moderation/videos/{video}/reject"))
                        .bearer_auth(&moderator),
                    Some(json!({ "reason": "нет" })),
                )
                .await;
                assert_eq!(status, 200, "{v}");
            }
        }
        for (name, token) in viewers {
            let sees = who.split(' ').any(|w| w == name);
            let want = if sees { 200 } else { 404 };
            let (s, _) = get_json(&format!("{base}/api/v1/videos/{video}/comments"), token).await;
            assert_eq!(s, want, "{state}: {name} lists comments");
            let (s, _) = get_json(&format!("{base}/api/v1/comments/{top_id}"), token).await;
            assert_eq!(s, want, "{state}: {name} reads a comment");
            let (s, _) = get_json(&format!("{base}/api/v1/comments/{top_id}/replies"), token).await;
            assert_eq!(s, want, "{state}: {name} reads replies");
            if let Some(t) = token {
                let (s, _) = call(
                    c.put(format!("{base}/api/v1/videos/{video}/rating"))
                        .bearer_auth(t),
                    Some(json!({ "rating": "like" })),
                )
                .await;
                assert_eq!(s, want, "{state}: {name} rates");
                let (s, v) = post_comment(&base, t, &video, "?", None).await;
                assert_eq!(
                    s,
                    if sees { 201 } else { 404 },
                    "{state}: {name} comments: {v}"
                );
            }
        }
        // Bob's notification about the reply shows only while Bob may see the video.
        let (_, n) = get_json(&format!("{base}/api/v1/me/notifications"), Some(&bob)).await;
        let shown = n["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["type"] == "comment_reply");
        assert_eq!(shown, who.contains("other"), "{state}: {n}");
        let (_, u) = get_json(
            &format!("{base}/api/v1/me/notifications/unread"),
            Some(&bob),
        )
        .await;
        assert_eq!(
            u["unread"],
            if who.contains("other") { 1 } else { 0 },
            "{state}: {u}"
        );
        // No title or poster of it leaks into anyone's list they may not see.
        assert!(
            !n.to_string().contains("Матрица 2") || who.contains("other"),
            "{state}: {n}"
        );
    }
}
