//! Community, part 2, keeping people safe, through `kadr all`: the life of a report (filed,
//! grouped in the moderators' queue, settled, the reporter told), sanctions that take effect
//! across the API at once and can be undone, a suspension that ends by itself, blocks, and
//! the moderators' record.

use std::time::Duration;

use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, admin_sets, call, clip, creator, get_json, http, ids, login,
    post_comment, register_and_login, send_json, until, upload_with, user_id, wait_ready,
};

const ENV: &[(&str, &str)] = &[
    ("KADR_COMMUNITY__FOLD_INTERVAL_MS", "200"),
    ("KADR_COMMUNITY__ANNOUNCE_INTERVAL_MS", "200"),
    ("KADR_AUTH__REGISTER_MAX_PER_HOUR", "1000"),
    ("KADR_COMMUNITY__REPORTS_PER_HOUR", "5"),
];

fn has_notification(n: &Value, kind: &str, pred: impl Fn(&Value) -> bool) -> bool {
    n["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["type"] == kind && pred(i))
}

async fn report(base: &str, token: &str, kind: &str, id: &str, reason: &str) -> (u16, Value) {
    call(
        http().post(format!("{base}/api/v1/reports")).bearer_auth(token),
        Some(json!({ "target_type": kind, "target_id": id, "reason": reason, "details": "см. выше" })),
    )
    .await
}

#[tokio::test]
async fn reports_are_grouped_settled_and_their_reporters_told() {
    let stack = Stack::start(Backend::Local, ENV).await;
    let base = stack.url("");
    let c = http();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let bob = register_and_login(&base, "bob").await;
    let carol = register_and_login(&base, "carol").await;
    let moderator = register_and_login(&base, "mod").await;
    admin_sets(&base, &admin, &moderator, json!({ "role": "moderator" })).await;
    let file = clip(&stack, "clip.mp4");
    let video = upload_with(&stack, &alice, &file, &["--title", "Обсуждение"]);
    wait_ready(&base, &alice, &video).await;
    let (_, spam) = post_comment(&base, &carol, &video, "КУПИТЕ СЛОНА", None).await;
    let spam = spam["id"].as_str().unwrap().to_owned();
    let (_, fine) = post_comment(&base, &carol, &video, "хорошее видео", None).await;
    let fine = fine["id"].as_str().unwrap().to_owned();

    // Two reports of the spam, one of the other comment; one open report per reporter.
    assert_eq!(report(&base, &alice, "comment", &spam, "spam").await.0, 201);
    assert_eq!(
        report(&base, &bob, "comment", &spam, "harassment").await.0,
        201
    );
    let (status, v) = report(&base, &bob, "comment", &spam, "spam").await;
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("already_reported"))
    );
    assert_eq!(report(&base, &bob, "comment", &fine, "other").await.0, 201);
    // Not one's own, not what one cannot see, not a reason off the list.
    let (status, v) = report(&base, &carol, "comment", &spam, "spam").await;
    assert_eq!((status, v["code"].as_str()), (409, Some("own_account")));
    let (status, _) = report(
        &base,
        &bob,
        "video",
        "00000000-0000-7000-8000-000000000000",
        "spam",
    )
    .await;
    assert_eq!(status, 404);
    let (status, v) = report(&base, &bob, "video", &video, "boring").await;
    assert_eq!((status, v["field"].as_str()), (400, Some("reason")));
    let (status, _) = report(&base, "", "video", &video, "spam").await;
    assert_eq!(status, 401);

    // Moderators only; grouped by target, the longest waiting first.
    let queue_url = format!("{base}/api/v1/moderation/reports");
    let (status, _) = get_json(&queue_url, Some(&bob)).await;
    assert_eq!(status, 403);
    let (status, q) = get_json(&queue_url, Some(&moderator)).await;
    assert_eq!(status, 200, "{q}");
    let cases = q["items"].as_array().unwrap();
    assert_eq!(cases.len(), 2, "{q}");
    assert_eq!(cases[0]["target_id"], spam.as_str());
    assert_eq!(cases[0]["reports"], 2);
    assert_eq!(cases[0]["summary"], "КУПИТЕ СЛОНА");
    assert_eq!(cases[0]["video_id"], video.as_str());
    assert_eq!(cases[0]["subject"]["username"], "carol");
    assert_eq!(cases[1]["target_id"], fine.as_str());
    let (_, case) = get_json(&format!("{queue_url}/comment/{spam}"), Some(&moderator)).await;
    assert_eq!(case["items"].as_array().unwrap().len(), 2, "{case}");
    assert_eq!(case["items"][0]["reporter_name"], "alice");

    // Remove: the comment is gone, both reporters are told, the case leaves the queue.
    let (status, d) = call(
        c.post(format!("{queue_url}/comment/{spam}/resolve"))
            .bearer_auth(&moderator),
        Some(json!({ "action": "remove", "reason": "реклама" })),
    )
    .await;
    assert_eq!((status, &d["reports"]), (200, &json!(2)), "{d}");
    let (status, _) = get_json(&format!("{base}/api/v1/comments/{spam}"), None).await;
    assert_eq!(status, 404);
    for reporter in [&alice, &bob] {
        until(
            &format!("{base}/api/v1/me/notifications"),
            Some(reporter),
            "the outcome",
            |n| {
                has_notification(n, "report_resolved", |i| {
                    i["data"]["outcome"] == "removed" && i["data"]["target_type"] == "comment"
                })
            },
        )
        .await;
    }
    // Dismiss the other: the comment stays.
    let (status, _) = call(
        c.post(format!("{queue_url}/comment/{fine}/resolve"))
            .bearer_auth(&moderator),
        Some(json!({ "action": "dismiss" })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = get_json(&format!("{base}/api/v1/comments/{fine}"), None).await;
    assert_eq!(status, 200);
    let (_, q) = get_json(&queue_url, Some(&moderator)).await;
    assert!(ids_of_cases(&q).is_empty(), "{q}");
    let (status, _) = call(
        c.post(format!("{queue_url}/comment/{fine}/resolve"))
            .bearer_auth(&moderator),
        Some(json!({ "action": "dismiss" })),
    )
    .await;
    assert_eq!(status, 404, "nothing open is left to settle");
    // Settled reports may be filed again.
    assert_eq!(report(&base, &bob, "comment", &fine, "spam").await.0, 201);

    // A report of a video, settled by a warning of its owner: the video stays, Alice is warned.
    assert_eq!(
        report(&base, &bob, "video", &video, "misinformation")
            .await
            .0,
        201
    );
    let (status, _) = call(
        c.post(format!("{queue_url}/video/{video}/resolve"))
            .bearer_auth(&moderator),
        Some(json!({ "action": "warn", "reason": "проверьте факты" })),
    )
    .await;
    assert_eq!(status, 200);
    until(
        &format!("{base}/api/v1/me/notifications"),
        Some(&alice),
        "the warning",
        |n| has_notification(n, "warning", |i| i["data"]["reason"] == "проверьте факты"),
    )
    .await;
    // Removing a reported video rejects it (its owner sees why; a moderator can undo it).
    assert_eq!(
        report(&base, &carol, "video", &video, "copyright").await.0,
        201
    );
    let (status, _) = call(
        c.post(format!("{queue_url}/video/{video}/resolve"))
            .bearer_auth(&moderator),
        Some(json!({ "action": "remove", "reason": "чужая музыка" })),
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = get_json(&format!("{base}/api/v1/videos/{video}"), None).await;
    assert_eq!(status, 404);
    let (_, v) = get_json(&format!("{base}/api/v1/videos/{video}"), Some(&alice)).await;
    assert_eq!(
        (&v["moderation"]["state"], &v["moderation"]["reason"]),
        (&json!("rejected"), &json!("чужая музыка"))
    );

    // Per-user report limit (5 an hour here).
    let mut last = 0;
    for _ in 0..5 {
        last = report(
            &base,
            &carol,
            "channel",
            &channel_id(&base, "alice").await,
            "spam",
        )
        .await
        .0;
    }
    assert_eq!(last, 429, "past community.reports_per_hour");

    // The record: who, when, why.
    let (status, log) = get_json(&format!("{base}/api/v1/moderation/log"), Some(&moderator)).await;
    assert_eq!(status, 200, "{log}");
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for want in ["remove", "dismiss", "warn", "reject", "role"] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    let warn = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "warn")
        .unwrap();
    assert_eq!(warn["actor"]["username"], "mod");
    assert_eq!(warn["subject"]["username"], "alice");
    assert_eq!(warn["reason"], "проверьте факты");
    let (_, only) = get_json(
        &format!("{base}/api/v1/moderation/log?action=dismiss"),
        Some(&moderator),
    )
    .await;
    assert_eq!(only["items"].as_array().unwrap().len(), 1);
}

fn ids_of_cases(q: &Value) -> Vec<String> {
    q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["target_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn channel_id(base: &str, handle: &str) -> String {
    let (_, ch) = get_json(&format!("{base}/api/v1/channels/{handle}"), None).await;
    ch["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_ban_takes_effect_everywhere_and_is_undone_by_reinstating() {
    let stack = Stack::start(Backend::Local, ENV).await;
    let base = stack.url("");
    let c = http();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let carol = creator(&base, &admin, "carol").await;
    let moderator = register_and_login(&base, "mod").await;
    admin_sets(&base, &admin, &moderator, json!({ "role": "moderator" })).await;
    let carol_second = login(&base, "carol", "correct horse battery").await;
    let file = clip(&stack, "clip.mp4");
    let alices = upload_with(&stack, &alice, &file, &["--title", "Алиса"]);
    let carols = upload_with(&stack, &carol, &file, &["--title", "Кэрол"]);
    wait_ready(&base, &alice, &alices).await;
    wait_ready(&base, &carol, &carols).await;
    let (_, comment) = post_comment(&base, &carol, &alices, "привет", None).await;
    let comment = comment["id"].as_str().unwrap().to_owned();
    until(
        &format!("{base}/api/v1/videos/{alices}"),
        None,
        "the comment counted",
        |v| v["comments"] == 1,
    )
    .await;
    let (_, playback) = get_json(&format!("{base}/api/v1/videos/{carols}/playback"), None).await;
    let master = playback["hls"].as_str().unwrap_or_default().to_owned();
    let carol_id = user_id(&base, &carol).await;
    let sanctions = format!("{base}/api/v1/moderation/users/{carol_id}/sanctions");

    // Not by a plain user; moderators are not banned by moderators; not oneself.
    let (status, _) = call(
        c.post(&sanctions).bearer_auth(&alice),
        Some(json!({ "action": "ban" })),
    )
    .await;
    assert_eq!(status, 403);
    let mod_id = user_id(&base, &moderator).await;
    let (status, v) = call(
        c.post(format!("{base}/api/v1/moderation/users/{mod_id}/sanctions"))
            .bearer_auth(&moderator),
        Some(json!({ "action": "ban" })),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("own_account")));
    let admin_id = user_id(&base, &admin).await;
    let (status, v) = call(
        c.post(format!(
            "{base}/api/v1/moderation/users/{admin_id}/sanctions"
        ))
        .bearer_auth(&moderator),
        Some(json!({ "action": "ban" })),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (409, Some("moderator_target"))
    );

    // The ban.
    let (status, v) = call(
        c.post(&sanctions).bearer_auth(&moderator),
        Some(json!({ "action": "ban", "reason": "спам" })),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    // Every token of Carol's stops at once (on this replica), and no new one is issued.
    for t in [&carol, &carol_second] {
        let (status, _) = get_json(&format!("{base}/api/v1/me"), Some(t)).await;
        assert_eq!(status, 401);
        let (status, _) = post_comment(&base, t, &alices, "ещё", None).await;
        assert_eq!(status, 401);
        let (status, _) = call(
            c.put(format!("{base}/api/v1/videos/{alices}/rating"))
                .bearer_auth(t),
            Some(json!({ "rating": "like" })),
        )
        .await;
        assert_eq!(status, 401);
        let (status, _) = call(
            c.post(format!("{base}/api/v1/videos")).bearer_auth(t),
            Some(json!({ "title": "new" })),
        )
        .await;
        assert_eq!(status, 401, "no uploads");
    }
    let (status, v) = send_json(
        c.post(format!("{base}/api/v1/auth/token")),
        &json!({ "username": "carol", "password": "correct horse battery" }),
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (401, Some("account_banned")));
    let (status, v) = send_json(
        c.post(format!("{base}/api/v1/auth/token")),
        &json!({ "username": "carol", "password": "wrong password!" }),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("invalid_credentials")),
        "only who knows the password learns of the ban"
    );
    // Her content is hidden from everyone but moderators: video, media, channel, comment.
    hidden_everywhere(&base, &alice, &carols, &comment, &alices, &master, true).await;
    let (status, _) = get_json(&format!("{base}/api/v1/videos/{carols}"), Some(&moderator)).await;
    assert_eq!(status, 200, "moderators still see it");
    until(
        &format!("{base}/api/v1/videos/{alices}"),
        None,
        "the count without her comment",
        |v| v["comments"] == 0,
    )
    .await;

    // Reinstated: everything comes back, and she signs in again.
    let (status, _) = call(
        c.post(&sanctions).bearer_auth(&moderator),
        Some(json!({ "action": "reinstate", "reason": "ошибка" })),
    )
    .await;
    assert_eq!(status, 200);
    hidden_everywhere(&base, &alice, &carols, &comment, &alices, &master, false).await;
    until(
        &format!("{base}/api/v1/videos/{alices}"),
        None,
        "the count with her comment",
        |v| v["comments"] == 1,
    )
    .await;
    let carol = login(&base, "carol", "correct horse battery").await;
    until(
        &format!("{base}/api/v1/me/notifications"),
        Some(&carol),
        "told of the ban and the reinstatement",
        |n| {
            has_notification(n, "standing", |i| i["data"]["standing"] == "banned")
                && has_notification(n, "standing", |i| i["data"]["standing"] == "active")
        },
    )
    .await;

    // A suspension ends by itself (the worker lifts it once its time is up).
    let (status, v) = call(
        c.post(&sanctions).bearer_auth(&moderator),
        Some(json!({ "action": "suspend", "days": 3, "reason": "остыньте" })),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (status, v) = send_json(
        c.post(format!("{base}/api/v1/auth/token")),
        &json!({ "username": "carol", "password": "correct horse battery" }),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (401, Some("account_suspended"))
    );
    assert!(v["detail"].as_str().unwrap().contains("suspended until"));
    let (status, _) = get_json(&format!("{base}/api/v1/videos/{carols}"), None).await;
    assert_eq!(status, 404);
    let db = stack.db().await;
    use sea_orm::ConnectionTrait;
    db.execute_unprepared(&format!(
        "UPDATE users SET suspended_until = now() - interval '1 second' WHERE id = '{carol_id}'"
    ))
    .await
    .unwrap();
    until(
        &format!("{base}/api/v1/videos/{carols}"),
        None,
        "the suspension lifted",
        |v| v["id"] == carols.as_str(),
    )
    .await;
    login(&base, "carol", "correct horse battery").await;
    let (_, log) = get_json(
        &format!("{base}/api/v1/moderation/log?subject={carol_id}"),
        Some(&moderator),
    )
    .await;
    let actions: Vec<&str> = log["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["reinstate", "suspend", "reinstate", "ban", "verified"]
    );
    assert!(log["items"][0]["actor"].is_null(), "the system lifted it");
}

/// Whether Carol's things are hidden (`true`) or shown, to anyone and to Alice.
async fn hidden_everywhere(
    base: &str,
    alice: &str,
    carols: &str,
    comment: &str,
    alices: &str,
    master: &str,
    hidden: bool,
) {
    let want = if hidden { 404 } else { 200 };
    for token in [None, Some(alice)] {
        let (status, _) = get_json(&format!("{base}/api/v1/videos/{carols}"), token).await;
        assert_eq!(status, want, "the video");
        let (status, _) = get_json(&format!("{base}/api/v1/channels/carol"), token).await;
        assert_eq!(status, want, "the channel");
        let (status, _) = get_json(&format!("{base}/api/v1/comments/{comment}"), token).await;
        assert_eq!(status, want, "the comment");
        let (_, list) = get_json(&format!("{base}/api/v1/videos/{alices}/comments"), token).await;
        assert_eq!(
            list["items"].as_array().unwrap().is_empty(),
            hidden,
            "{list}"
        );
        // The catalog's pages are shared for up to a second (the page cache).
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (_, all) = get_json(&format!("{base}/api/v1/videos?limit=100"), token).await;
            if ids(&all).contains(&carols.to_owned()) != hidden {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the catalog: {all}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
    if !master.is_empty() {
        // Media access facts are reused for up to api.media_access_cache_ms.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let (status, _, _) = crate::common::get(master).await;
            if (status == 200) != hidden {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "media: {status}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test]
async fn blocked_users_comments_are_hidden_from_who_blocked_them() {
    let stack = Stack::start(Backend::Local, ENV).await;
    let base = stack.url("");
    let c = http();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let bob = register_and_login(&base, "bob").await;
    let troll = register_and_login(&base, "troll").await;
    let file = clip(&stack, "clip.mp4");
    let video = upload_with(&stack, &alice, &file, &["--title", "Блоки"]);
    wait_ready(&base, &alice, &video).await;
    let (_, t) = post_comment(&base, &troll, &video, "ерунда", None).await;
    let troll_comment = t["id"].as_str().unwrap().to_owned();
    let comments = |token: Option<String>| {
        let url = format!("{base}/api/v1/videos/{video}/comments");
        async move {
            let (_, l) = get_json(&url, token.as_deref()).await;
            ids(&l)
        }
    };
    assert_eq!(
        comments(Some(alice.clone())).await,
        vec![troll_comment.clone()]
    );

    let (status, _) = call(
        c.put(format!("{base}/api/v1/me/blocks/troll"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, v) = call(
        c.put(format!("{base}/api/v1/me/blocks/alice"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!((status, v["code"].as_str()), (409, Some("own_account")));
    let (status, _) = call(
        c.put(format!("{base}/api/v1/me/blocks/nobody-here"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!(status, 404);
    // Hidden from Alice only.
    assert!(comments(Some(alice.clone())).await.is_empty());
    assert_eq!(
        comments(Some(bob.clone())).await,
        vec![troll_comment.clone()]
    );
    assert_eq!(comments(None).await, vec![troll_comment.clone()]);
    // The troll cannot comment on Alice's videos (nor reply there); Bob still can.
    let (status, v) = post_comment(&base, &troll, &video, "снова", None).await;
    assert_eq!((status, v["code"].as_str()), (403, Some("blocked")));
    let (status, _) = post_comment(&base, &bob, &video, "норм", None).await;
    assert_eq!(status, 201);
    let (_, blocks) = get_json(&format!("{base}/api/v1/me/blocks"), Some(&alice)).await;
    assert_eq!(blocks["items"][0]["username"], "troll");
    // Lifted: all as before.
    let (status, _) = call(
        c.delete(format!("{base}/api/v1/me/blocks/troll"))
            .bearer_auth(&alice),
        None,
    )
    .await;
    assert_eq!(status, 204);
    assert!(comments(Some(alice.clone())).await.contains(&troll_comment));
    let (status, _) = post_comment(&base, &troll, &video, "мир", None).await;
    assert_eq!(status, 201);
}
