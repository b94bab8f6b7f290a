//! Server messages in the client's language: problems answered in Russian or Arabic when the
//! client's Accept-Language asks for them (the catalog and the upload API alike), the code,
//! field and detail unchanged; English otherwise.

use kadr_core::Code;
use kadr_core::locale::{Locale, code_title};

use crate::common::{Backend, Stack, http, register_and_login};

async fn ask(
    req: reqwest::RequestBuilder,
    accept_language: &str,
) -> (u16, Option<String>, serde_json::Value) {
    let res = req
        .header("accept-language", accept_language)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let lang = res
        .headers()
        .get("content-language")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    (status, lang, res.json().await.unwrap_or_default())
}

#[tokio::test]
async fn problems_speak_the_clients_language() {
    let stack = Stack::start(Backend::Local, &[]).await;
    let base = stack.url("");
    let c = http();
    let missing = format!("{base}/api/v1/videos/{}", uuid::Uuid::now_v7());

    let (s, lang, p) = ask(c.get(&missing), "ar-EG,ar;q=0.9,en;q=0.5").await;
    assert_eq!((s, lang.as_deref()), (404, Some("ar")));
    assert_eq!(p["title"], code_title(Code::NotFound, Locale::Ar));
    assert_eq!(p["code"], "not_found");
    assert!(
        p["title"]
            .as_str()
            .unwrap()
            .chars()
            .any(|c| ('\u{0600}'..='\u{06FF}').contains(&c))
    );

    let (s, lang, p) = ask(c.get(&missing), "ru-RU, en;q=0.1").await;
    assert_eq!((s, lang.as_deref()), (404, Some("ru")));
    assert_eq!(p["title"], code_title(Code::NotFound, Locale::Ru));

    // English, and languages we do not speak, get the handler's own words.
    for header in ["en-GB", "fr-FR, de;q=0.5", ""] {
        let (s, lang, p) = ask(c.get(&missing), header).await;
        assert_eq!((s, lang), (404, None), "{header}");
        assert_eq!(p["title"], "Not found", "{header}");
    }

    // A refused field keeps its code and field; the English words move to the detail.
    let token = register_and_login(&base, "ayşe").await;
    let (s, _, p) = ask(
        c.post(format!("{base}/api/v1/playlists"))
            .bearer_auth(&token)
            .json(&serde_json::json!({ "title": "", "privacy": "public" })),
        "ru",
    )
    .await;
    assert_eq!(s, 400, "{p}");
    assert_eq!(p["code"], "invalid_field");
    assert_eq!(p["field"], "title");
    assert_eq!(p["title"], code_title(Code::InvalidField, Locale::Ru));
    assert!(p["detail"].as_str().unwrap().contains("title"), "{p}");

    // The upload API too.
    let (s, lang, p) = ask(c.get(format!("{base}/api/v1/me")), "ar").await;
    assert_eq!((s, lang.as_deref()), (401, Some("ar")), "{p}");
    assert_eq!(
        p["title"],
        code_title(
            Code::parse(p["code"].as_str().unwrap()).unwrap(),
            Locale::Ar
        )
    );
}

/// A user's languages are kept on the account: the interface language (the web UI uses it on
/// every device) and the language new uploads are marked with when they name none.
#[tokio::test]
async fn users_keep_their_languages() {
    let stack = Stack::start(Backend::Local, &[]).await;
    let base = stack.url("");
    let token = register_and_login(&base, "layla").await;
    let me = format!("{base}/api/v1/me");
    let (s, v) = crate::common::get_json(&me, Some(&token)).await;
    assert_eq!(s, 200);
    assert!(
        v["ui_language"].is_null() && v["video_language"].is_null(),
        "{v}"
    );

    let patch = |body: serde_json::Value| {
        let (me, token) = (me.clone(), token.clone());
        async move { crate::common::call(http().patch(me).bearer_auth(token), Some(body)).await }
    };
    let (s, v) = patch(serde_json::json!({ "ui_language": "ar", "video_language": "ar-EG" })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (&v["ui_language"], &v["video_language"]),
        (&"ar".into(), &"ar-EG".into())
    );
    // Other fields stay when one changes; languages Kadr has no interface in are refused.
    for (body, field) in [
        (serde_json::json!({ "ui_language": "de" }), "ui_language"),
        (serde_json::json!({ "ui_language": "AR" }), "ui_language"),
        (serde_json::json!({ "ui_language": 7 }), ""),
        (
            serde_json::json!({ "video_language": "ru RU" }),
            "video_language",
        ),
    ] {
        let (s, e) = patch(body.clone()).await;
        assert_eq!(s, 400, "{body}: {e}");
        if !field.is_empty() {
            assert_eq!(e["field"], field, "{e}");
        }
    }
    let (_, v) = crate::common::get_json(&me, Some(&token)).await;
    assert_eq!(
        (&v["ui_language"], &v["video_language"]),
        (&"ar".into(), &"ar-EG".into())
    );

    // An upload naming no language gets hers; one naming its own keeps it.
    let clip = stack.dir.path().join("clip.mp4");
    crate::common::testsrc(&clip, "160x120", 10, 1, &[]);
    let mine = crate::common::upload_with(&stack, &token, &clip, &["--title", "بلا لغة"]);
    let other = crate::common::upload_with(
        &stack,
        &token,
        &clip,
        &["--title", "По-русски", "--language", "ru"],
    );
    let (_, a) =
        crate::common::get_json(&format!("{base}/api/v1/videos/{mine}"), Some(&token)).await;
    let (_, b) =
        crate::common::get_json(&format!("{base}/api/v1/videos/{other}"), Some(&token)).await;
    assert_eq!(
        (&a["language"], &b["language"]),
        (&"ar-EG".into(), &"ru".into())
    );

    // null goes back to the browser's language and to none.
    let (s, v) = patch(serde_json::json!({ "ui_language": null, "video_language": null })).await;
    assert_eq!(s, 200, "{v}");
    assert!(
        v["ui_language"].is_null() && v["video_language"].is_null(),
        "{v}"
    );
}
