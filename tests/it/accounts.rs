//! Accounts and tokens as a user and an admin meet them: registration (Cyrillic and Arabic
//! names), conflicts, validation, login limits, logout, the first admin, role changes, and
//! the moderation state new videos start in.

use crate::common::{ADMIN_PASSWORD, Backend, Stack, http, login, register_and_login, send_json};
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_tokens_and_admin() {
    let stack = Stack::start(Backend::Local, &[("KADR_AUTH__LOGIN_MAX_FAILURES", "3")]).await;
    let base = stack.url("");
    let users = format!("{base}/api/v1/users");
    let c = http();

    // Registration in any script.
    let (status, body) = send_json(
        c.post(&users),
        &json!({ "username": "Мария", "email": "maria@example.org", "password": "пароль-надёжный" }),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["user"]["username"], "Мария");
    assert_eq!(body["user"]["role"], "user");
    assert_eq!(body["channel"]["handle"], "Мария");
    assert!(body["user"].get("password_hash").is_none());
    let (status, _) = send_json(
        c.post(&users),
        &json!({ "username": "مريم", "email": "maryam@example.org", "password": "كلمة-سر-طويلة" }),
    )
    .await;
    assert_eq!(status, 201);

    // Conflicts and bad input name the field.
    let (status, body) = send_json(
        c.post(&users),
        &json!({ "username": "мария", "email": "other@example.org", "password": "long enough" }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str(), body["field"].as_str()),
        (409, Some("username_taken"), Some("username"))
    );
    let (status, body) = send_json(
        c.post(&users),
        &json!({ "username": "maria2", "email": "MARIA@example.org", "password": "long enough" }),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (409, Some("email_taken")));
    let (status, body) = send_json(
        c.post(&users),
        &json!({ "username": "x1y", "email": "x@example.org" }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str(), body["field"].as_str()),
        (400, Some("invalid_body"), Some("password"))
    );
    let (status, body) = send_json(
        c.post(&users),
        &json!({ "username": "short", "email": "s@example.org", "password": "1234" }),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("password")));
    let res = c
        .post(&users)
        .header("content-type", "application/json")
        .body("{\"username\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(res.headers()["content-type"], "application/problem+json");

    // Tokens: use, logout, reuse refused.
    let token = login(&base, "МАРИЯ", "пароль-надёжный").await;
    assert!(token.starts_with("kadr_"));
    let me = c
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 200);
    assert_eq!(
        me.json::<serde_json::Value>().await.unwrap()["username"],
        "Мария"
    );
    // Reads may reuse a token's lookup for a few seconds; a sign-out still ends it at once.
    let catalog = |token: String| {
        let req = c.get(format!("{base}/api/v1/videos")).bearer_auth(token);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(catalog(token.clone()).await, 200);
    let res = c
        .delete(format!("{base}/api/v1/auth/token"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let me = c
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 401);
    assert_eq!(catalog(token.clone()).await, 401);
    let me = c
        .get(format!("{base}/api/v1/me"))
        .bearer_auth("kadr_forged")
        .send()
        .await
        .unwrap();
    assert_eq!(me.status().as_u16(), 401);

    // Failed logins are limited per account (3 here; an address gets 15): after 3, even the
    // right password waits.
    for _ in 0..3 {
        let (status, body) = send_json(
            c.post(format!("{base}/api/v1/auth/token")),
            &json!({ "username": "Мария", "password": "wrong password" }),
        )
        .await;
        assert_eq!(
            (status, body["code"].as_str()),
            (401, Some("invalid_credentials"))
        );
    }
    let res = c
        .post(format!("{base}/api/v1/auth/token"))
        .header("content-type", "application/json")
        .body(json!({ "username": "Мария", "password": "пароль-надёжный" }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429);
    assert!(res.headers().contains_key("retry-after"));
    // Unknown names answer like wrong passwords.
    let (status, body) = send_json(
        c.post(format!("{base}/api/v1/auth/token")),
        &json!({ "username": "nobody-here", "password": "whatever" }),
    )
    .await;
    assert_eq!(
        (status, body["code"].as_str()),
        (401, Some("invalid_credentials"))
    );

    // The first admin exists with the configured password and manages roles.
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = register_and_login(&base, "alice").await;
    let alice_id = c
        .get(format!("{base}/api/v1/me"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap()
        .json::<serde_json::Value>()
        .await
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let admin_users = format!("{base}/api/v1/admin/users/{alice_id}");
    let (status, body) = send_json(
        c.patch(&admin_users).bearer_auth(&alice),
        &json!({ "verified": true }),
    )
    .await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, body) = send_json(
        c.patch(&admin_users).bearer_auth(&admin),
        &json!({ "role": "superuser" }),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("role")));
    let (status, _) = send_json(
        c.patch(format!(
            "{base}/api/v1/admin/users/01a20000-0000-7000-8000-000000000000"
        ))
        .bearer_auth(&admin),
        &json!({ "verified": true }),
    )
    .await;
    assert_eq!(status, 404);

    // Unverified uploads wait for review; verified ones are approved at once.
    let new_video = json!({ "title": "Первое видео", "privacy": "public" });
    let (status, body) = send_json(
        c.post(format!("{base}/api/v1/videos")).bearer_auth(&alice),
        &new_video,
    )
    .await;
    assert_eq!(
        (status, body["moderation"].as_str()),
        (201, Some("pending"))
    );
    assert_eq!(body["status"], "awaiting_upload");
    assert_eq!(body["upload"]["metadata"]["video_id"], body["id"]);
    let (status, body) = send_json(
        c.patch(&admin_users).bearer_auth(&admin),
        &json!({ "verified": true }),
    )
    .await;
    assert_eq!((status, body["verified"].as_bool()), (200, Some(true)));
    let (status, body) = send_json(
        c.post(format!("{base}/api/v1/videos")).bearer_auth(&alice),
        &json!({ "title": "Второе видео", "size": 5 }),
    )
    .await;
    assert_eq!(
        (status, body["moderation"].as_str()),
        (201, Some("approved"))
    );
    // With a size the tus upload exists already: PATCH it directly.
    let upload = body["upload"]["url"].as_str().unwrap().to_owned();
    let res = c
        .patch(&upload)
        .bearer_auth(&alice)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(res.headers()["upload-offset"], "5");

    // Video fields are checked.
    let (status, body) = send_json(
        c.post(format!("{base}/api/v1/videos")).bearer_auth(&alice),
        &json!({ "title": "  " }),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("title")));
    let (status, body) = send_json(
        c.post(format!("{base}/api/v1/videos")).bearer_auth(&alice),
        &json!({ "title": "x", "colour": "red" }),
    )
    .await;
    assert_eq!((status, body["field"].as_str()), (400, Some("colour")));
    let (status, _) = send_json(
        c.post(format!("{base}/api/v1/videos")),
        &json!({ "title": "x" }),
    )
    .await;
    assert_eq!(status, 401);
}
