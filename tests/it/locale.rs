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
