//! Sharing and discovery through `kadr all`, as a messenger, a news site and a crawler see
//! them without JavaScript: the preview tags in `/watch/{id}`, `/c/{handle}` and playlist
//! pages, oEmbed, the embed page's framing rule, robots.txt and the sitemaps, and chapters.
//! What anyone with the link may not see leaves no trace in any of them.

use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, call, clip, creator, get_json, http, login, register_and_login,
    testsrc, upload_with, wait_ready,
};

/// A built UI of our own, so the test reads what the server writes into it.
const INDEX: &str = "<!doctype html><html><head><meta charset=\"utf-8\"><title>Kadr</title></head><body><div id=\"app\"></div></body></html>";
const EMBED: &str = "<!doctype html><html><head><title>Kadr player</title></head><body><div id=\"player\"></div></body></html>";

struct Page {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: String,
}

async fn page(url: &str) -> Page {
    let res = http().get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.text().await.unwrap();
    Page {
        status,
        headers,
        body,
    }
}

impl Page {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `content` of `<meta property|name="{key}">`.
    fn meta(&self, key: &str) -> Option<String> {
        for attr in ["property", "name"] {
            let open = format!("<meta {attr}=\"{key}\" content=\"");
            if let Some(i) = self.body.find(&open) {
                let rest = &self.body[i + open.len()..];
                return rest.split('"').next().map(str::to_owned);
            }
        }
        None
    }

    fn frame_ancestors(&self) -> String {
        let csp = self.header("content-security-policy").unwrap_or_default();
        csp.split(';')
            .map(str::trim)
            .find_map(|d| d.strip_prefix("frame-ancestors "))
            .unwrap_or_default()
            .to_owned()
    }
}

async fn patch(base: &str, token: &str, video: &str, body: Value) -> (u16, Value) {
    call(
        http()
            .patch(format!("{base}/api/v1/videos/{video}"))
            .bearer_auth(token),
        Some(body),
    )
    .await
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `kadr all` serving our own built UI (kept with the stack) with `env`.
async fn with_ui(env: &[(&str, &str)]) -> (Stack, tempfile::TempDir) {
    let web = tempfile::tempdir().unwrap();
    std::fs::write(web.path().join("index.html"), INDEX).unwrap();
    std::fs::write(web.path().join("embed.html"), EMBED).unwrap();
    let dir = web.path().to_str().unwrap().to_owned();
    let mut all = vec![("KADR_API__WEB_DIR", dir.as_str())];
    all.extend_from_slice(env);
    (Stack::start(Backend::Local, &all).await, web)
}

#[tokio::test]
async fn previews_embeds_and_sitemaps_show_only_what_anyone_may_see() {
    let (stack, _web) = with_ui(&[
        ("KADR_SITE__NAME", "Кадр ТВ"),
        ("KADR_AUTH__REGISTER_MAX_PER_HOUR", "1000"),
        // Each sitemap request walks the list again, so the test sees changes at once.
        ("KADR_SITE__SITEMAP_CACHE_SECS", "1"),
    ])
    .await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let file = clip(&stack, "clip.mp4");
    let title = "Волга & \"Ока\" <река> — الفيلم";
    // Long enough for three chapters of at least 10 s.
    let long = stack.dir.path().join("long.mp4");
    testsrc(&long, "320x240", 15, 31, &[]);
    let public = upload_with(&stack, &alice, &long, &["--title", title]);
    let unlisted = upload_with(&stack, &alice, &file, &["--title", "Только по ссылке"]);
    let private = upload_with(&stack, &alice, &file, &["--title", "Секретное видео"]);
    for id in [&public, &unlisted, &private] {
        wait_ready(&base, &alice, id).await;
    }
    let description = "Прогулка по реке.\n\n0:00 Начало\n0:10 Середина\n0:20 Конец\n";
    let (s, v) = patch(
        &base,
        &alice,
        &public,
        json!({ "description": description, "tags": ["река", "nature"] }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        patch(&base, &alice, &unlisted, json!({ "privacy": "unlisted" }))
            .await
            .0,
        200
    );
    assert_eq!(
        patch(&base, &alice, &private, json!({ "privacy": "private" }))
            .await
            .0,
        200
    );
    // An unverified user's upload waits for review.
    let bob = register_and_login(&base, "bob").await;
    let pending = upload_with(&stack, &bob, &file, &["--title", "Ждёт проверки"]);
    wait_ready(&base, &bob, &pending).await;

    // Chapters from the description, on the video's own page only.
    let (_, detail) = get_json(&format!("{base}/api/v1/videos/{public}"), None).await;
    assert_eq!(
        detail["chapters"],
        json!([
            { "start": 0, "title": "Начало" },
            { "start": 10, "title": "Середина" },
            { "start": 20, "title": "Конец" },
        ]),
        "{detail}"
    );
    let (_, list) = get_json(&format!("{base}/api/v1/videos?limit=10"), None).await;
    assert!(list["items"][0].get("chapters").is_none(), "{list}");

    // The watch page of a public video, as curl sees it.
    let w = page(&format!("{base}/watch/{public}")).await;
    assert_eq!(w.status, 200);
    assert_eq!(unescape(&w.meta("og:title").unwrap()), title);
    assert!(w.body.contains(&format!(
        "<title>{} — Кадр ТВ</title>",
        "Волга &amp; &quot;Ока&quot; &lt;река&gt; — الفيلم"
    )));
    assert!(!w.body.contains("<река>"), "the title is escaped");
    assert_eq!(w.meta("og:site_name").as_deref(), Some("Кадр ТВ"));
    assert_eq!(w.meta("og:type").as_deref(), Some("video.other"));
    assert_eq!(
        w.meta("og:description").as_deref(),
        Some("Прогулка по реке. 0:00 Начало 0:10 Середина 0:20 Конец")
    );
    assert_eq!(w.meta("og:url"), Some(format!("{base}/watch/{public}")));
    assert_eq!(
        w.meta("og:video:url"),
        Some(format!("{base}/embed/{public}"))
    );
    assert_eq!(w.meta("og:video:type").as_deref(), Some("text/html"));
    assert_eq!(w.meta("og:video:width").as_deref(), Some("1280"));
    assert_eq!(w.meta("og:video:height").as_deref(), Some("960"));
    assert_eq!(w.meta("video:duration").as_deref(), Some("31"));
    assert_eq!(w.meta("twitter:card").as_deref(), Some("player"));
    assert_eq!(
        w.meta("twitter:player"),
        Some(format!("{base}/embed/{public}"))
    );
    assert!(
        w.body
            .contains("<meta property=\"video:tag\" content=\"река\">")
    );
    assert_eq!(w.meta("robots"), None);
    assert_eq!(w.header("x-robots-tag"), None);
    let poster = unescape(&w.meta("og:image").unwrap());
    let img = http().get(&poster).send().await.unwrap();
    assert_eq!(img.status(), 200, "{poster}");
    assert_eq!(img.headers()["content-type"], "image/jpeg");
    assert!(w.meta("og:image:width").is_some());
    assert!(w.body.contains(&format!(
        "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"{base}/api/v1/oembed?format=json&amp;url="
    )));
    assert!(
        w.body.contains("<div id=\"app\"></div>"),
        "the app itself is there"
    );
    // Other pages cannot be framed.
    assert_eq!(w.frame_ancestors(), "'none'");
    assert_eq!(w.header("x-frame-options"), Some("DENY"));

    // oEmbed.
    let watch_url = format!("{base}/watch/{public}");
    let (s, o) = get_json(
        &format!("{base}/api/v1/oembed?url={}&format=json", enc(&watch_url)),
        None,
    )
    .await;
    assert_eq!(s, 200, "{o}");
    assert_eq!(
        (o["type"].as_str(), o["version"].as_str()),
        (Some("video"), Some("1.0"))
    );
    assert_eq!(o["title"], title);
    assert_eq!(o["provider_name"], "Кадр ТВ");
    assert_eq!(o["author_name"], "alice");
    assert_eq!(o["author_url"], format!("{base}/c/alice"));
    assert_eq!(
        (o["width"].as_u64(), o["height"].as_u64()),
        (Some(560), Some(420))
    );
    assert!(
        o["thumbnail_url"]
            .as_str()
            .unwrap()
            .ends_with("/images/poster.jpg")
    );
    assert!(
        o["thumbnail_width"].is_u64() && o["thumbnail_height"].is_u64(),
        "{o}"
    );
    let html = o["html"].as_str().unwrap();
    assert!(
        html.starts_with("<iframe width=\"560\" height=\"420\""),
        "{html}"
    );
    assert!(
        html.contains(&format!("src=\"{base}/embed/{public}\"")),
        "{html}"
    );
    assert!(
        html.contains("&quot;Ока&quot; &lt;река&gt;"),
        "the title is escaped: {html}"
    );
    let (_, small) = get_json(
        &format!("{base}/api/v1/oembed?url={}&maxwidth=320", enc(&watch_url)),
        None,
    )
    .await;
    assert_eq!(
        (small["width"].as_u64(), small["height"].as_u64()),
        (Some(320), Some(240))
    );
    let (s, e) = get_json(
        &format!("{base}/api/v1/oembed?url={}&format=xml", enc(&watch_url)),
        None,
    )
    .await;
    assert_eq!((s, e["code"].as_str()), (501, Some("format_unsupported")));
    for other in [
        format!("https://elsewhere.example/watch/{public}"),
        format!("{base}/watch/{private}"),
        format!("{base}/watch/{pending}"),
        format!("{base}/c/alice"),
        "not a url".to_owned(),
    ] {
        let (s, _) = get_json(&format!("{base}/api/v1/oembed?url={}", enc(&other)), None).await;
        assert_eq!(s, 404, "{other}");
    }

    // The embed page: framable by any site by default, with no X-Frame-Options to say
    // otherwise; kept out of search results.
    let e = page(&format!("{base}/embed/{public}")).await;
    assert_eq!(e.status, 200);
    assert!(e.body.contains("<div id=\"player\"></div>"));
    assert_eq!(e.frame_ancestors(), "*");
    assert_eq!(e.header("x-frame-options"), None);
    assert_eq!(e.header("x-robots-tag"), Some("noindex"));
    // The owner narrows it to one site: only that site may frame it, and previews stop
    // offering the inline player (and oEmbed its iframe).
    let (s, v) = patch(
        &base,
        &alice,
        &public,
        json!({ "embed_origins": ["https://News.example/"] }),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["embed_origins"], json!(["https://news.example"]));
    let e = page(&format!("{base}/embed/{public}")).await;
    assert_eq!(e.frame_ancestors(), "https://news.example");
    assert_eq!(e.header("x-frame-options"), None);
    let w = page(&format!("{base}/watch/{public}")).await;
    assert_eq!(w.meta("og:video:url"), None);
    assert_eq!(
        w.meta("twitter:card").as_deref(),
        Some("summary_large_image")
    );
    let (s, _) = get_json(
        &format!("{base}/api/v1/oembed?url={}", enc(&watch_url)),
        None,
    )
    .await;
    assert_eq!(s, 404);
    // Nowhere.
    patch(&base, &alice, &public, json!({ "embed_origins": [] })).await;
    let e = page(&format!("{base}/embed/{public}")).await;
    assert_eq!(e.frame_ancestors(), "'none'");
    assert_eq!(e.header("x-frame-options"), Some("DENY"));
    // Bad origins are refused, naming the field; the site's rule again with ["*"].
    let (s, v) = patch(
        &base,
        &alice,
        &public,
        json!({ "embed_origins": ["https://a.example; script-src *"] }),
    )
    .await;
    assert_eq!(
        (s, v["field"].as_str()),
        (400, Some("embed_origins")),
        "{v}"
    );
    let (_, v) = patch(&base, &alice, &public, json!({ "embed_origins": ["*"] })).await;
    assert_eq!(v["embed_origins"], json!(["*"]));
    assert_eq!(
        page(&format!("{base}/embed/{public}"))
            .await
            .frame_ancestors(),
        "*"
    );
    // Others do not see the owner's setting.
    let (_, anon) = get_json(&format!("{base}/api/v1/videos/{public}"), None).await;
    assert!(anon.get("embed_origins").is_none(), "{anon}");
    assert_eq!(anon["downloadable"], true);

    // Unlisted: a preview (sharing the link is its point), but noindex.
    let u = page(&format!("{base}/watch/{unlisted}")).await;
    assert_eq!(u.meta("og:title").as_deref(), Some("Только по ссылке"));
    assert_eq!(u.meta("robots").as_deref(), Some("noindex"));
    assert_eq!(u.header("x-robots-tag"), Some("noindex"));
    let poster = unescape(&u.meta("og:image").unwrap());
    assert!(
        poster.contains("token="),
        "an unlisted video's poster is signed: {poster}"
    );
    assert_eq!(http().get(&poster).send().await.unwrap().status(), 200);
    assert_eq!(
        page(&format!("{base}/embed/{unlisted}"))
            .await
            .frame_ancestors(),
        "*"
    );

    // Private and pending: nothing of them, for anyone without the right to see them.
    for (id, words) in [(&private, "Секретное"), (&pending, "Ждёт проверки")] {
        let p = page(&format!("{base}/watch/{id}")).await;
        assert_eq!(
            p.status, 200,
            "the app's page, which says it is not available"
        );
        assert!(!p.body.contains(words), "{}", p.body);
        assert!(!p.body.contains("og:"), "{}", p.body);
        assert!(!p.body.contains("/images/"), "{}", p.body);
        assert_eq!(p.body, INDEX);
        let e = page(&format!("{base}/embed/{id}")).await;
        assert_eq!(e.frame_ancestors(), "'none'");
    }
    // Nor for a made-up id or a malformed one.
    assert_eq!(
        page(&format!("{base}/watch/{}", uuid::Uuid::now_v7()))
            .await
            .body,
        INDEX
    );
    assert_eq!(
        page(&format!("{base}/watch/%3Cscript%3E")).await.body,
        INDEX
    );

    // A channel page.
    let c = page(&format!("{base}/c/alice")).await;
    assert_eq!(c.meta("og:type").as_deref(), Some("profile"));
    assert_eq!(c.meta("og:title").as_deref(), Some("alice"));
    assert_eq!(c.meta("og:url"), Some(format!("{base}/c/alice")));
    assert_eq!(page(&format!("{base}/c/nobody")).await.body, INDEX);

    // A public playlist: its first video's poster; a private one: nothing.
    let (s, p) = call(
        http()
            .post(format!("{base}/api/v1/playlists"))
            .bearer_auth(&alice),
        Some(json!({ "title": "Реки России", "privacy": "public" })),
    )
    .await;
    assert_eq!(s, 201, "{p}");
    let pl = p["id"].as_str().unwrap().to_owned();
    for id in [&private, &public] {
        call(
            http()
                .put(format!("{base}/api/v1/playlists/{pl}/videos/{id}"))
                .bearer_auth(&alice),
            None,
        )
        .await;
    }
    let pp = page(&format!("{base}/playlist/{pl}")).await;
    assert_eq!(pp.meta("og:title").as_deref(), Some("Реки России"));
    let image = pp.meta("og:image").unwrap();
    assert!(
        image.contains(&public) && !image.contains(&private),
        "{image}"
    );
    let (s, o) = get_json(
        &format!(
            "{base}/api/v1/oembed?url={}",
            enc(&format!("{base}/playlist/{pl}"))
        ),
        None,
    )
    .await;
    assert_eq!(s, 200, "{o}");
    assert!(
        o["html"]
            .as_str()
            .unwrap()
            .contains(&format!("/embed/playlist/{pl}"))
    );
    assert_eq!(
        page(&format!("{base}/embed/playlist/{pl}"))
            .await
            .frame_ancestors(),
        "*"
    );
    call(
        http()
            .patch(format!("{base}/api/v1/playlists/{pl}"))
            .bearer_auth(&alice),
        Some(json!({ "privacy": "private" })),
    )
    .await;
    let pp = page(&format!("{base}/playlist/{pl}")).await;
    assert_eq!(pp.body, INDEX);
    assert_eq!(
        page(&format!("{base}/embed/playlist/{pl}"))
            .await
            .frame_ancestors(),
        "'none'"
    );

    // robots.txt and the sitemaps: the listed video and the channel, nothing else.
    let r = page(&format!("{base}/robots.txt")).await;
    assert!(
        r.body.contains(&format!("Sitemap: {base}/sitemap.xml")),
        "{}",
        r.body
    );
    assert!(r.body.contains("Disallow: /api/"));
    let index = page(&format!("{base}/sitemap.xml")).await;
    assert_eq!(index.status, 200);
    assert!(
        index
            .header("content-type")
            .unwrap()
            .starts_with("application/xml")
    );
    for file in ["pages.xml", "videos-0.xml", "channels-0.xml"] {
        assert!(
            index
                .body
                .contains(&format!("<loc>{base}/sitemaps/{file}</loc>")),
            "{}",
            index.body
        );
    }
    assert!(!index.body.contains("videos-1.xml"));
    let videos = page(&format!("{base}/sitemaps/videos-0.xml")).await;
    assert_eq!(videos.status, 200);
    assert!(videos.body.starts_with("<?xml"));
    assert!(videos.body.trim_end().ends_with("</urlset>"));
    assert!(
        videos
            .body
            .contains(&format!("<loc>{base}/watch/{public}</loc>")),
        "{}",
        videos.body
    );
    assert!(videos.body.contains(&format!(
        "<video:player_loc>{base}/embed/{public}</video:player_loc>"
    )));
    assert!(
        videos.body.contains(
            "<video:title>Волга &amp; &quot;Ока&quot; &lt;река&gt; — الفيلم</video:title>"
        )
    );
    assert!(videos.body.contains("<video:tag>река</video:tag>"));
    for hidden in [&unlisted, &private, &pending] {
        assert!(
            !videos.body.contains(hidden.as_str()),
            "{hidden} is not listed"
        );
    }
    assert_eq!(videos.body.matches("<url>").count(), 1);
    let channels = page(&format!("{base}/sitemaps/channels-0.xml")).await;
    assert!(
        channels
            .body
            .contains(&format!("<loc>{base}/c/alice</loc>")),
        "{}",
        channels.body
    );
    assert_eq!(
        page(&format!("{base}/sitemaps/videos-1.xml")).await.status,
        404
    );
    assert_eq!(
        page(&format!("{base}/sitemaps/videos-x.xml")).await.status,
        404
    );
    // Made private, it leaves the sitemap.
    patch(&base, &alice, &public, json!({ "privacy": "private" })).await;
    let videos = page(&format!("{base}/sitemaps/videos-0.xml")).await;
    assert!(!videos.body.contains(&public), "{}", videos.body);
    assert_eq!(page(&format!("{base}/watch/{public}")).await.body, INDEX);
}

#[tokio::test]
async fn a_closed_site_keeps_crawlers_out_and_embeds_nowhere() {
    let (stack, _web) = with_ui(&[
        ("KADR_SITE__INDEXABLE", "false"),
        ("KADR_SITE__EMBED_ORIGINS", "[\"https://intranet.example\"]"),
    ])
    .await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let id = upload_with(
        &stack,
        &alice,
        &clip(&stack, "clip.mp4"),
        &["--title", "Внутреннее"],
    );
    wait_ready(&base, &alice, &id).await;
    assert_eq!(
        page(&format!("{base}/robots.txt")).await.body,
        "User-agent: *\nDisallow: /\n"
    );
    assert_eq!(page(&format!("{base}/sitemap.xml")).await.status, 404);
    assert_eq!(
        page(&format!("{base}/sitemaps/videos-0.xml")).await.status,
        404
    );
    assert_eq!(
        page(&format!("{base}/embed/{id}")).await.frame_ancestors(),
        "https://intranet.example"
    );
    // An owner cannot widen the site's rule.
    patch(
        &base,
        &alice,
        &id,
        json!({ "embed_origins": ["https://elsewhere.example"] }),
    )
    .await;
    assert_eq!(
        page(&format!("{base}/embed/{id}")).await.frame_ancestors(),
        "'none'"
    );
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
