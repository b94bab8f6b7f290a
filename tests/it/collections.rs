//! Community, part 2, what people collect, through `kadr all`: playlists (order, moves,
//! "Watch later", limits), watch history with resume positions, related videos worked out by
//! the worker, and the visibility rule over all three.

use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, call, clip, creator, get_json, http, ids, login,
    register_and_login, testsrc, until, upload_with, wait_ready,
};

const ENV: &[(&str, &str)] = &[
    ("KADR_COMMUNITY__FOLD_INTERVAL_MS", "200"),
    ("KADR_COMMUNITY__ANNOUNCE_INTERVAL_MS", "200"),
    ("KADR_AUTH__REGISTER_MAX_PER_HOUR", "1000"),
];

async fn patch_video(base: &str, token: &str, video: &str, body: Value) {
    let (status, v) = call(
        http()
            .patch(format!("{base}/api/v1/videos/{video}"))
            .bearer_auth(token),
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{v}");
}

async fn entries(base: &str, playlist: &str, token: Option<&str>) -> (u16, Vec<String>) {
    let (status, page) =
        get_json(&format!("{base}/api/v1/playlists/{playlist}/videos"), token).await;
    if status != 200 {
        return (status, Vec::new());
    }
    (status, ids(&page))
}

/// [`entries`] once it is what `ok` wants (anonymous readers share pages for up to a second,
/// see the page cache), or as it is after 10 s.
async fn settled(
    base: &str,
    playlist: &str,
    token: Option<&str>,
    ok: impl Fn(&(u16, Vec<String>)) -> bool,
) -> (u16, Vec<String>) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got = entries(base, playlist, token).await;
        if ok(&got) || std::time::Instant::now() > deadline {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn playlists_keep_their_order_and_show_only_what_each_viewer_may_see() {
    let stack = Stack::start(Backend::Local, ENV).await;
    let base = stack.url("");
    let c = http();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let bob = register_and_login(&base, "bob").await;
    let moderator = register_and_login(&base, "mod").await;
    crate::common::admin_sets(&base, &admin, &moderator, json!({ "role": "moderator" })).await;
    let file = clip(&stack, "clip.mp4");
    let v: Vec<String> = (1..=3)
        .map(|i| upload_with(&stack, &alice, &file, &["--title", &format!("Серия {i}")]))
        .collect();
    for id in &v {
        wait_ready(&base, &alice, id).await;
    }

    // A public playlist with all three, in the order added.
    let (status, p) = call(
        c.post(format!("{base}/api/v1/playlists"))
            .bearer_auth(&alice),
        Some(json!({ "title": "Сериал", "privacy": "public", "description": "Все серии" })),
    )
    .await;
    assert_eq!(status, 201, "{p}");
    assert_eq!(p["channel_handle"], "alice");
    let pl = p["id"].as_str().unwrap().to_owned();
    for id in &v {
        let (status, e) = call(
            c.put(format!("{base}/api/v1/playlists/{pl}/videos/{id}"))
                .bearer_auth(&alice),
            None,
        )
        .await;
        assert_eq!((status, &e["added"]), (200, &json!(true)), "{e}");
    }
    let (_, again) = call(
        c.put(format!("{base}/api/v1/playlists/{pl}/videos/{}", v[0]))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!(again["added"], false, "a video is in a playlist once");
    assert_eq!(entries(&base, &pl, None).await, (200, v.clone()));

    // Moves: to the top, after another; removal; the order holds after each.
    let mv = |video: String, after: Option<String>| {
        let (c, base, pl, alice) = (c.clone(), base.clone(), pl.clone(), alice.clone());
        async move {
            let (status, e) = call(
                c.post(format!("{base}/api/v1/playlists/{pl}/videos/{video}/move"))
                    .bearer_auth(&alice),
                Some(json!({ "after": after })),
            )
            .await;
            assert_eq!(status, 204, "{e}");
        }
    };
    mv(v[2].clone(), None).await;
    assert_eq!(
        entries(&base, &pl, Some(&bob)).await.1,
        [v[2].clone(), v[0].clone(), v[1].clone()]
    );
    mv(v[0].clone(), Some(v[1].clone())).await;
    assert_eq!(
        entries(&base, &pl, Some(&bob)).await.1,
        [v[2].clone(), v[1].clone(), v[0].clone()]
    );
    // Many moves into the same gap run it out: the playlist is renumbered, order kept.
    for _ in 0..40 {
        mv(v[0].clone(), Some(v[2].clone())).await;
        mv(v[1].clone(), Some(v[2].clone())).await;
    }
    assert_eq!(
        entries(&base, &pl, Some(&bob)).await.1,
        [v[2].clone(), v[1].clone(), v[0].clone()]
    );
    let (status, _) = call(
        c.delete(format!("{base}/api/v1/playlists/{pl}/videos/{}", v[1]))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        entries(&base, &pl, Some(&bob)).await.1,
        [v[2].clone(), v[0].clone()]
    );
    // Pages follow the order.
    let (_, first) = get_json(
        &format!("{base}/api/v1/playlists/{pl}/videos?limit=1"),
        None,
    )
    .await;
    assert_eq!(ids(&first), vec![v[2].clone()]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = get_json(
        &format!("{base}/api/v1/playlists/{pl}/videos?limit=1&cursor={cursor}"),
        None,
    )
    .await;
    assert_eq!(ids(&second), vec![v[0].clone()]);
    assert!(second["next_cursor"].is_null());

    // Only its owner changes it; the channel page lists it.
    let (status, e) = call(
        c.put(format!("{base}/api/v1/playlists/{pl}/videos/{}", v[1]))
            .bearer_auth(&bob),
        None,
    )
    .await;
    assert_eq!((status, e["code"].as_str()), (403, Some("forbidden")));
    let (_, on_channel) = get_json(&format!("{base}/api/v1/channels/alice/playlists"), None).await;
    assert_eq!(ids(&on_channel), vec![pl.clone()]);
    assert!(
        on_channel["items"][0]["thumbnail"]
            .as_str()
            .unwrap()
            .contains(&v[2])
    );

    // The visibility matrix over entries: a private and a rejected video drop out for whoever
    // may not see them; the playlist tells nothing of them.
    crate::common::call(
        c.put(format!("{base}/api/v1/playlists/{pl}/videos/{}", v[1]))
            .bearer_auth(&alice),
        None,
    )
    .await;
    patch_video(&base, &alice, &v[1], json!({ "privacy": "private" })).await;
    let (status, e) = call(
        c.post(format!("{base}/api/v1/moderation/videos/{}/reject", v[0]))
            .bearer_auth(&moderator),
        Some(json!({ "reason": "нет" })),
    )
    .await;
    assert_eq!(status, 200, "{e}");
    let viewers: [(&str, Option<&str>, Vec<String>); 5] = [
        ("anonymous", None, vec![v[2].clone()]),
        ("other", Some(&bob), vec![v[2].clone()]),
        (
            "moderator",
            Some(&moderator),
            vec![v[2].clone(), v[0].clone()],
        ),
        (
            "owner",
            Some(&alice),
            vec![v[2].clone(), v[0].clone(), v[1].clone()],
        ),
        (
            "admin",
            Some(&admin),
            vec![v[2].clone(), v[0].clone(), v[1].clone()],
        ),
    ];
    for (name, token, want) in &viewers {
        assert_eq!(
            settled(&base, &pl, *token, |g| g.0 == 200 && g.1 == *want).await,
            (200, want.clone()),
            "{name}"
        );
    }
    // A private playlist: its owner and admins only, the same 404 as none.
    let (status, _) = call(
        c.patch(format!("{base}/api/v1/playlists/{pl}"))
            .bearer_auth(&alice),
        Some(json!({ "privacy": "private" })),
    )
    .await;
    assert_eq!(status, 200);
    for (name, token, _) in &viewers {
        let sees = matches!(*name, "owner" | "admin");
        let want = if sees { 200 } else { 404 };
        let (s, _) = get_json(&format!("{base}/api/v1/playlists/{pl}"), *token).await;
        assert_eq!(s, want, "{name} reads the private playlist");
        assert_eq!(
            settled(&base, &pl, *token, |g| g.0 == want).await.0,
            want,
            "{name}"
        );
    }
    let (_, on_channel) = get_json(&format!("{base}/api/v1/channels/alice/playlists"), None).await;
    assert!(ids(&on_channel).is_empty());

    // Watch later: always there, private, not deletable or renamable.
    let (status, wl) = get_json(&format!("{base}/api/v1/me/watch-later"), Some(&bob)).await;
    assert_eq!(status, 200, "{wl}");
    assert_eq!(
        (&wl["watch_later"], &wl["privacy"]),
        (&json!(true), &json!("private"))
    );
    let wl = wl["id"].as_str().unwrap().to_owned();
    let (status, _) = call(
        c.put(format!("{base}/api/v1/playlists/{wl}/videos/{}", v[2]))
            .bearer_auth(&bob),
        None,
    )
    .await;
    assert_eq!(status, 200);
    for (req, body) in [
        (c.delete(format!("{base}/api/v1/playlists/{wl}")), None),
        (
            c.patch(format!("{base}/api/v1/playlists/{wl}")),
            Some(json!({ "privacy": "public" })),
        ),
    ] {
        let (status, e) = call(req.bearer_auth(&bob), body).await;
        assert_eq!((status, e["code"].as_str()), (409, Some("watch_later")));
    }
    let (_, mine) = get_json(
        &format!("{base}/api/v1/me/playlists?video={}", v[2]),
        Some(&bob),
    )
    .await;
    assert_eq!(ids(&mine), vec![wl.clone()]);
    assert_eq!(mine["items"][0]["contains"], true);
    // A video Bob may not see cannot be added (404, as if it did not exist).
    let (status, _) = call(
        c.put(format!("{base}/api/v1/playlists/{wl}/videos/{}", v[1]))
            .bearer_auth(&bob),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // 5,000 entries at most.
    let db = stack.db().await;
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(&format!(
        "UPDATE playlists SET item_count = 5000 WHERE id = '{wl}'"
    ))
    .await
    .unwrap();
    let (status, e) = call(
        c.put(format!("{base}/api/v1/playlists/{wl}/videos/{}", v[0]))
            .bearer_auth(&admin),
        None,
    )
    .await;
    assert_eq!(
        (status, e["code"].as_str()),
        (409, Some("playlist_full")),
        "{e}"
    );

    // An unverified user's playlist waits for a moderator, like a video; so do later changes
    // of its words.
    let (status, bobs) = call(
        c.post(format!("{base}/api/v1/playlists")).bearer_auth(&bob),
        Some(json!({ "title": "Подборка Боба", "privacy": "public" })),
    )
    .await;
    assert_eq!(status, 201, "{bobs}");
    assert_eq!(bobs["moderation"]["state"], "pending");
    let bobs = bobs["id"].as_str().unwrap().to_owned();
    let bobs_url = format!("{base}/api/v1/playlists/{bobs}");
    assert_eq!(get_json(&bobs_url, None).await.0, 404);
    assert_eq!(get_json(&bobs_url, Some(&alice)).await.0, 404);
    let (_, q) = get_json(
        &format!("{base}/api/v1/moderation/playlists"),
        Some(&moderator),
    )
    .await;
    assert_eq!(ids(&q), vec![bobs.clone()]);
    let (status, e) = call(
        c.post(format!("{base}/api/v1/moderation/playlists/{bobs}/reject"))
            .bearer_auth(&moderator),
        Some(json!({})),
    )
    .await;
    assert_eq!((status, e["code"].as_str()), (400, Some("reason_required")));
    let (status, _) = call(
        c.post(format!("{base}/api/v1/moderation/playlists/{bobs}/approve"))
            .bearer_auth(&moderator),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(get_json(&bobs_url, None).await.0, 200);
    let (status, _) = call(
        c.patch(&bobs_url).bearer_auth(&bob),
        Some(json!({ "title": "КУПИТЕ СЛОНА" })),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(get_json(&bobs_url, None).await.0, 404, "back to review");
    call(
        c.post(format!("{base}/api/v1/moderation/playlists/{bobs}/reject"))
            .bearer_auth(&moderator),
        Some(json!({ "reason": "реклама" })),
    )
    .await;
    let (_, mine) = get_json(&bobs_url, Some(&bob)).await;
    assert_eq!(
        (&mine["moderation"]["state"], &mine["moderation"]["reason"]),
        (&json!("rejected"), &json!("реклама"))
    );
    until(
        &format!("{base}/api/v1/me/notifications"),
        Some(&bob),
        "the decision on the playlist",
        |n| {
            n["items"]
                .as_array()
                .unwrap()
                .iter()
                .any(|i| i["type"] == "moderation" && i["data"]["playlist_id"] == bobs.as_str())
        },
    )
    .await;

    // Bad input: a cursor of another list, an unknown privacy, an empty title.
    let (status, e) = get_json(
        &format!(
            "{base}/api/v1/playlists/{wl}/videos?cursor={}",
            first["next_cursor"].as_str().unwrap().replace('e', "f")
        ),
        Some(&bob),
    )
    .await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid_cursor")));
    for body in [
        json!({ "title": "x", "privacy": "secret" }),
        json!({ "title": "  " }),
        json!({ "title": "x".repeat(151) }),
    ] {
        let (status, e) = call(
            c.post(format!("{base}/api/v1/playlists")).bearer_auth(&bob),
            Some(body),
        )
        .await;
        assert_eq!((status, e["code"].as_str()), (400, Some("invalid_field")));
    }
}

#[tokio::test]
async fn history_resumes_and_related_videos_leave_out_what_was_watched() {
    let stack = Stack::start(Backend::Local, ENV).await;
    let base = stack.url("");
    let c = http();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let carol = creator(&base, &admin, "carol").await;
    let bob = register_and_login(&base, "bob").await;
    // 20 s, so a position in the middle is worth resuming.
    let long = stack.dir.path().join("long.mp4");
    testsrc(&long, "320x240", 10, 20, &[]);
    let short = clip(&stack, "clip.mp4");
    let cats = upload_with(
        &stack,
        &alice,
        &long,
        &["--title", "Кошки играют", "--tags", "кошки,котята"],
    );
    let train = upload_with(&stack, &alice, &short, &["--title", "Поезд едет"]);
    let hidden = upload_with(&stack, &alice, &short, &["--title", "Кошки спят"]);
    let carols = upload_with(&stack, &carol, &short, &["--title", "Кошки на крыше"]);
    let unrelated = upload_with(&stack, &carol, &short, &["--title", "Футбол"]);
    for (owner, id) in [
        (&alice, &cats),
        (&alice, &train),
        (&alice, &hidden),
        (&carol, &carols),
        (&carol, &unrelated),
    ] {
        wait_ready(&base, owner, id).await;
    }
    patch_video(&base, &alice, &hidden, json!({ "privacy": "private" })).await;

    // Resume: where Bob stopped, in the middle; nothing near the start or the end.
    let pos = |video: String, ms: i64| {
        let (c, base, bob) = (c.clone(), base.clone(), bob.clone());
        async move {
            call(
                c.put(format!("{base}/api/v1/videos/{video}/position"))
                    .bearer_auth(&bob),
                Some(json!({ "position_ms": ms })),
            )
            .await
        }
    };
    let (status, saved) = pos(cats.clone(), 8_000).await;
    assert_eq!((status, &saved["saved"]), (200, &json!(true)), "{saved}");
    let (_, at) = get_json(&format!("{base}/api/v1/videos/{cats}/position"), Some(&bob)).await;
    assert_eq!(at["position_ms"], 8_000);
    let (_, at) = get_json(&format!("{base}/api/v1/videos/{cats}/position"), None).await;
    assert!(
        at["position_ms"].is_null(),
        "anonymous viewers resume nowhere"
    );
    let (_, cw) = get_json(&format!("{base}/api/v1/me/continue-watching"), Some(&bob)).await;
    assert_eq!(ids(&cw), vec![cats.clone()]);
    assert_eq!(cw["items"][0]["resume_secs"], 8.0);
    pos(train.clone(), 500).await;
    let (_, h) = get_json(&format!("{base}/api/v1/me/history"), Some(&bob)).await;
    assert_eq!(ids(&h), [train.clone(), cats.clone()], "latest first");
    pos(cats.clone(), 19_500).await;
    let (_, at) = get_json(&format!("{base}/api/v1/videos/{cats}/position"), Some(&bob)).await;
    assert!(at["position_ms"].is_null(), "watched to the end: {at}");
    let (_, cw) = get_json(&format!("{base}/api/v1/me/continue-watching"), Some(&bob)).await;
    assert!(ids(&cw).is_empty());
    for bad in [
        json!({ "position_ms": -1 }),
        json!({ "position_ms": null }),
        json!({ "position_ms": 172_800_001i64 }),
    ] {
        let (status, e) = call(
            c.put(format!("{base}/api/v1/videos/{cats}/position"))
                .bearer_auth(&bob),
            Some(bad),
        )
        .await;
        assert_eq!((status, e["code"].as_str()), (400, Some("invalid_field")));
    }
    // A video Bob may not see: no position, no history entry.
    let (status, _) = pos(hidden.clone(), 1_000).await;
    assert_eq!(status, 404);

    // Related videos (worked out by the worker): the channel's first, then similar titles,
    // never the video itself, a private one, or what Bob just watched.
    let related_url = format!("{base}/api/v1/videos/{cats}/related");
    let rel = until(&related_url, None, "related videos", |p| {
        ids(p).contains(&carols)
    })
    .await;
    let got = ids(&rel);
    assert_eq!(got[0], train, "the channel's own first: {got:?}");
    assert!(!got.contains(&cats) && !got.contains(&hidden), "{got:?}");
    assert!(!got.contains(&unrelated), "nothing in common: {got:?}");
    let (_, rel) = get_json(&format!("{related_url}?exclude={carols}"), None).await;
    assert!(!ids(&rel).contains(&carols));
    let (_, rel) = get_json(&related_url, Some(&bob)).await;
    assert!(!ids(&rel).contains(&train), "Bob watched it just now");
    let (status, e) = get_json(&format!("{related_url}?exclude=nope"), None).await;
    assert_eq!((status, e["code"].as_str()), (400, Some("invalid_field")));
    let (status, _) = get_json(
        &format!("{base}/api/v1/videos/{hidden}/related"),
        Some(&bob),
    )
    .await;
    assert_eq!(status, 404);

    // Paused: nothing is written; history entries go one by one or all at once.
    let (status, _) = call(
        c.put(format!("{base}/api/v1/me/history/paused"))
            .bearer_auth(&bob),
        Some(json!({ "paused": true })),
    )
    .await;
    assert_eq!(status, 200);
    let (_, saved) = pos(carols.clone(), 1_000).await;
    assert_eq!(saved["saved"], false);
    let (_, me) = get_json(&format!("{base}/api/v1/me"), Some(&bob)).await;
    assert_eq!(me["history_paused"], true);
    call(
        c.put(format!("{base}/api/v1/me/history/paused"))
            .bearer_auth(&bob),
        Some(json!({ "paused": false })),
    )
    .await;
    pos(carols.clone(), 1_000).await;
    let (_, h) = get_json(&format!("{base}/api/v1/me/history"), Some(&bob)).await;
    assert_eq!(ids(&h), [carols.clone(), cats.clone(), train.clone()]);
    // Bob's history shows only what he may still see.
    patch_video(&base, &alice, &train, json!({ "privacy": "private" })).await;
    let (_, h) = get_json(&format!("{base}/api/v1/me/history"), Some(&bob)).await;
    assert_eq!(ids(&h), [carols.clone(), cats.clone()]);
    call(
        c.delete(format!("{base}/api/v1/me/history/{cats}"))
            .bearer_auth(&bob),
        None,
    )
    .await;
    let (_, h) = get_json(&format!("{base}/api/v1/me/history"), Some(&bob)).await;
    assert_eq!(ids(&h), vec![carols.clone()]);
    let (status, _) = call(
        c.delete(format!("{base}/api/v1/me/history"))
            .bearer_auth(&bob),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (_, h) = get_json(&format!("{base}/api/v1/me/history"), Some(&bob)).await;
    assert!(ids(&h).is_empty());
    let (status, _) = get_json(&format!("{base}/api/v1/me/history"), None).await;
    assert_eq!(status, 401);
}
