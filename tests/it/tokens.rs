//! Tokens made for scripts and integrations: scopes checked on every route (the same table the
//! OpenAPI document states), never reaching the account itself, not beyond the account's role,
//! listed with their scopes and last use, revoked like sessions.

use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, call, get_json, http, login, register_and_login,
};

async fn make(base: &str, session: &str, body: Value) -> (u16, Value) {
    call(
        http()
            .post(format!("{base}/api/v1/me/tokens"))
            .bearer_auth(session),
        Some(body),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scoped_tokens_do_what_their_scopes_say() {
    let stack = Stack::start(Backend::Local, &[]).await;
    let base = stack.url("");
    let session = register_and_login(&base, "integrator").await;

    // Refused shapes.
    for (body, code) in [
        (
            json!({ "name": "x", "scopes": ["read", "everything"] }),
            "invalid_field",
        ),
        (json!({ "name": "x", "scopes": [] }), "invalid_field"),
        (json!({ "name": "", "scopes": ["read"] }), "invalid_field"),
        (
            json!({ "name": "x", "scopes": ["read"], "kind": "session" }),
            "invalid_field",
        ),
        (
            json!({ "name": "x", "scopes": ["read"], "expires_in_days": 0 }),
            "invalid_field",
        ),
    ] {
        let (status, v) = make(&base, &session, body.clone()).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (400, Some(code)),
            "{body}: {v}"
        );
    }
    // Not beyond the account's role.
    let (status, v) = make(
        &base,
        &session,
        json!({ "name": "mod", "scopes": ["moderate"] }),
    )
    .await;
    assert_eq!(
        (status, v["code"].as_str()),
        (403, Some("forbidden")),
        "{v}"
    );

    let (status, made) = make(
        &base,
        &session,
        json!({ "name": "Новостная CMS", "kind": "integration", "scopes": ["upload", "read"], "expires_in_days": 30 }),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    assert_eq!(made["scopes"], json!(["read", "upload"]));
    assert_eq!(made["kind"], "integration");
    let token = made["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("kadr_"));

    // Listed with its scopes, unused so far.
    let (_, list) = get_json(&format!("{base}/api/v1/me/sessions"), Some(&session)).await;
    let row = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == made["id"])
        .unwrap()
        .clone();
    assert_eq!(row["kind"], "integration");
    assert_eq!(row["name"], "Новостная CMS");
    assert_eq!(row["scopes"], json!(["read", "upload"]));
    assert_eq!(row["last_used_at"], Value::Null);

    // What the scopes allow.
    let (status, v) = call(
        http()
            .post(format!("{base}/api/v1/videos/import"))
            .bearer_auth(&token),
        Some(json!({ "size": 10, "filename": "a.mp4", "external_id": "cms-1" })),
    )
    .await;
    assert_eq!(status, 201, "upload scope: {v}");
    let video = v["video_id"].as_str().unwrap().to_owned();
    let (status, _) = get_json(&format!("{base}/api/v1/imports"), Some(&token)).await;
    assert_eq!(status, 200, "read scope");
    let (status, _) = get_json(&format!("{base}/api/v1/me/notifications"), Some(&token)).await;
    assert_eq!(status, 200, "read scope");

    // What they do not.
    let forbidden = [
        (
            http()
                .patch(format!("{base}/api/v1/videos/{video}"))
                .bearer_auth(&token),
            Some(json!({ "title": "edited" })),
            "manage",
        ),
        (
            http()
                .put(format!("{base}/api/v1/videos/{video}/rating"))
                .bearer_auth(&token),
            Some(json!({ "rating": "like" })),
            "interact",
        ),
        (
            http()
                .delete(format!("{base}/api/v1/videos/{video}"))
                .bearer_auth(&token),
            None,
            "manage",
        ),
        (
            http()
                .post(format!("{base}/api/v1/moderation/videos/{video}/approve"))
                .bearer_auth(&token),
            None,
            "moderate",
        ),
        (
            http()
                .post(format!("{base}/api/v1/webhooks"))
                .bearer_auth(&token),
            Some(json!({ "url": "https://example.org/hook", "events": ["video.ready"] })),
            "webhooks",
        ),
    ];
    for (req, body, scope) in forbidden {
        let (status, v) = call(req, body).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (403, Some("insufficient_scope")),
            "{scope}: {v}"
        );
        assert!(
            v["detail"].as_str().unwrap().contains(scope),
            "{scope}: {v}"
        );
    }
    // Never the account itself, whatever the scopes.
    for (req, body) in [
        (
            http()
                .get(format!("{base}/api/v1/me/sessions"))
                .bearer_auth(&token),
            None,
        ),
        (
            http()
                .post(format!("{base}/api/v1/me/tokens"))
                .bearer_auth(&token),
            Some(json!({ "name": "more", "scopes": ["upload"] })),
        ),
        (
            http()
                .post(format!("{base}/api/v1/me/password"))
                .bearer_auth(&token),
            Some(json!({ "current_password": "x", "new_password": "yyyyyyyyyyyy" })),
        ),
        (
            http()
                .patch(format!("{base}/api/v1/me"))
                .bearer_auth(&token),
            Some(json!({ "display_name": "taken over" })),
        ),
    ] {
        let (status, v) = call(req, body).await;
        assert_eq!(
            (status, v["code"].as_str()),
            (403, Some("insufficient_scope")),
            "{v}"
        );
    }

    // Its use is recorded; revoked like a session, it is refused.
    let (_, list) = get_json(&format!("{base}/api/v1/me/sessions"), Some(&session)).await;
    let row = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == made["id"])
        .unwrap()
        .clone();
    assert!(row["last_used_at"].is_string(), "{row}");
    let (status, _) = call(
        http()
            .delete(format!(
                "{base}/api/v1/me/sessions/{}",
                made["id"].as_str().unwrap()
            ))
            .bearer_auth(&session),
        None,
    )
    .await;
    assert_eq!(status, 204);
    let (status, v) = call(
        http()
            .post(format!("{base}/api/v1/videos/import"))
            .bearer_auth(&token),
        Some(json!({ "size": 10, "external_id": "cms-2" })),
    )
    .await;
    assert_eq!(status, 401, "{v}");

    // An administrator may give a token the admin scope, and it works where that is needed.
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let (status, made) = make(
        &base,
        &admin,
        json!({ "name": "user sync", "scopes": ["admin"] }),
    )
    .await;
    assert_eq!(status, 201, "{made}");
    let (status, v) = get_json(
        &format!("{base}/api/v1/admin/users"),
        made["token"].as_str(),
    )
    .await;
    assert_eq!(status, 200, "{v}");
}

/// The document states the scope of every operation that takes a token, from the same table
/// the services check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_states_each_routes_scope() {
    let stack = Stack::start(Backend::Local, &[]).await;
    let (status, doc) = get_json(&stack.url("/api/openapi.json"), None).await;
    assert_eq!(status, 200);
    let mut seen = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let Some(security) = op["security"].as_array() else {
                continue;
            };
            for req in security {
                if let Some(scopes) = req.get("bearer") {
                    seen += 1;
                    let want = match kadr_core::scopes::needed(method, path) {
                        kadr_core::scopes::Need::Scope(s) => json!([s.as_str()]),
                        kadr_core::scopes::Need::Session => json!(["session"]),
                        kadr_core::scopes::Need::Any => json!([]),
                    };
                    assert_eq!(scopes, &want, "{method} {path}");
                    assert!(op["responses"].get("403").is_some(), "{method} {path}");
                }
            }
        }
    }
    assert!(seen > 60, "{seen} operations take a token");
    let op = &doc["paths"]["/api/v1/videos/import"]["post"];
    assert_eq!(op["security"][0]["bearer"], json!(["upload"]));
    let op = &doc["paths"]["/api/v1/me/tokens"]["post"];
    assert_eq!(op["security"][0]["bearer"], json!(["session"]));
    let description = doc["components"]["securitySchemes"]["bearer"]["description"]
        .as_str()
        .unwrap();
    for s in kadr_core::scopes::Scope::ALL {
        assert!(description.contains(&format!("`{}`", s.as_str())));
    }
}
