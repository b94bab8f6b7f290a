//! Captions through `kadr all`: SRT and WebVTT files per language, refused with the line at
//! fault when broken, served as HLS subtitle renditions in the master (checked with ffprobe,
//! as a player would read them), as segments and as a whole file; their words in the search;
//! replaced, removed, limited; the moderation rule for what viewers see; signed for videos
//! that are not public.

use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, call, creator, get_json, http, login, register_and_login,
    testsrc, upload_with, wait_ready,
};

const SRT: &str = "1\r\n00:00:01,000 --> 00:00:04,000\r\nПривет, <i>мир</i>!\r\n\r\n2\r\n00:00:12,500 --> 00:00:14,000\r\nЗаповедник «Кедровая падь»\r\n\r\n3\r\n00:00:29,000 --> 00:00:33,000\r\nна стыке отрезков\r\n";

const VTT: &str = "WEBVTT\n\nNOTE made by hand\n\n00:00:02.000 --> 00:00:05.000 line:0\nHello, <b>world</b>\n\n00:00:40.000 --> 00:00:41.000\nplatypus\n";

async fn put(
    base: &str,
    token: &str,
    video: &str,
    lang: &str,
    content_type: &str,
    body: impl Into<reqwest::Body>,
) -> (u16, Value) {
    let res = http()
        .put(format!("{base}/api/v1/videos/{video}/captions/{lang}"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

async fn text(url: &str) -> (u16, String) {
    let res = http().get(url).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

fn absolute(base_url: &str, relative: &str) -> String {
    let dir = &base_url[..base_url.rfind('/').unwrap() + 1];
    let (path, query) = match base_url.split_once('?') {
        Some((_, q)) if !relative.contains('?') => (relative, Some(q)),
        _ => (relative, None),
    };
    match query {
        Some(q) => format!("{dir}{path}?{q}"),
        None => format!("{dir}{path}"),
    }
}

/// Whether ffprobe, reading the HLS master at `url`, finds the subtitle rendition at `uri`
/// in `lang`: as a WebVTT stream, or, with FFmpeg 5.1 (Debian 12), which parses subtitle
/// renditions but does not demux them, by the notice naming that rendition.
fn ffprobe_finds_subtitles(url: &str, uri: &str, lang: &str) -> bool {
    let out = std::process::Command::new("ffprobe")
        .args(["-v", "verbose", "-show_streams", "-of", "json", url])
        .output()
        .expect("ffprobe");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let as_stream = v["streams"].as_array().unwrap().iter().any(|s| {
        s["codec_type"] == "subtitle"
            && s["codec_name"] == "webvtt"
            && s["tags"]["language"] == lang
    });
    let noticed = String::from_utf8_lossy(&out.stderr)
        .contains(&format!("Can't support the subtitle(uri: {uri}"));
    as_stream || noticed
}

/// The ids the search finds for `q`, once `ok` holds (anonymous pages are shared for a
/// second), or as they are after 10 s.
async fn search(base: &str, q: &str, ok: impl Fn(&[String]) -> bool) -> Vec<String> {
    let started = std::time::Instant::now();
    loop {
        let (_, found) = get_json(&format!("{base}/api/v1/search?q={q}"), None).await;
        let ids: Vec<String> = found["items"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        if ok(&ids) || started.elapsed().as_secs() > 10 {
            return ids;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn captions_become_subtitle_renditions_and_follow_the_rules() {
    let stack = Stack::start(
        Backend::Local,
        &[("KADR_AUTH__REGISTER_MAX_PER_HOUR", "1000")],
    )
    .await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let long = stack.dir.path().join("long.mp4");
    testsrc(&long, "320x240", 15, 35, &[]);
    let id = upload_with(&stack, &alice, &long, &["--title", "Тайга"]);
    wait_ready(&base, &alice, &id).await;

    // A broken file is refused with the line at fault; nothing is kept.
    let broken =
        "1\n00:00:01,000 --> 00:00:02,000\nfine\n\n2\n00:00:05,000 --> 00:00:03,000\nbackwards\n";
    let (s, e) = put(&base, &alice, &id, "ru", "application/x-subrip", broken).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (400, Some("invalid_captions")),
        "{e}"
    );
    assert!(e["detail"].as_str().unwrap().starts_with("line 6:"), "{e}");
    let (s, e) = put(&base, &alice, &id, "russian", "text/vtt", VTT).await;
    assert_eq!((s, e["field"].as_str()), (400, Some("lang")), "{e}");
    let (s, _) = put(&base, &alice, &id, "ru", "image/png", SRT).await;
    assert_eq!(s, 415);
    let (s, e) = put(
        &base,
        &alice,
        &id,
        "ru",
        "text/vtt",
        vec![b'a'; 3 * 1024 * 1024],
    )
    .await;
    assert_eq!(
        (s, e["code"].as_str()),
        (413, Some("body_too_large")),
        "{e}"
    );
    let (_, list) = get_json(&format!("{base}/api/v1/videos/{id}/captions"), None).await;
    assert_eq!(list["items"], json!([]));
    // Nobody but the owner (or an admin) sends captions.
    let bob = register_and_login(&base, "bob").await;
    let (s, _) = put(&base, &bob, &id, "ru", "text/vtt", VTT).await;
    assert_eq!(s, 404);

    // SRT in Russian, WebVTT in English with a label of its own.
    let (s, ru) = put(&base, &alice, &id, "ru", "application/x-subrip", SRT).await;
    assert_eq!(s, 201, "{ru}");
    assert_eq!(
        (ru["lang"].as_str(), ru["label"].as_str()),
        (Some("ru"), Some("Русский"))
    );
    assert_eq!(
        (ru["cues"].as_i64(), ru["format"].as_str()),
        (Some(3), Some("srt"))
    );
    assert_eq!(
        ru["back_to_review"], false,
        "a verified owner publishes directly"
    );
    let res = http()
        .put(format!(
            "{base}/api/v1/videos/{id}/captions/en?label=English%20(CC)"
        ))
        .bearer_auth(&alice)
        .header("content-type", "text/vtt")
        .body(VTT)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 201);
    let (_, list) = get_json(&format!("{base}/api/v1/videos/{id}/captions"), None).await;
    let labels: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["English (CC)", "Русский"]);

    // The whole file, as WebVTT.
    let full = ru["url"].as_str().unwrap();
    let (s, vtt) = text(full).await;
    assert_eq!(s, 200);
    assert!(
        vtt.starts_with("WEBVTT\n\n1\n00:00:01.000 --> 00:00:04.000\nПривет, <i>мир</i>!\n"),
        "{vtt}"
    );

    // The master lists both as subtitle renditions; ffprobe reads them as a player would.
    let (_, pb) = get_json(&format!("{base}/api/v1/videos/{id}/playback"), None).await;
    let master_url = pb["hls"].as_str().unwrap().to_owned();
    let (_, master) = text(&master_url).await;
    assert!(
        master.contains(
            "#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID=\"subs\",NAME=\"Русский\",LANGUAGE=\"ru\""
        ),
        "{master}"
    );
    assert!(
        master.contains("NAME=\"English (CC)\",LANGUAGE=\"en\""),
        "{master}"
    );
    for line in master
        .lines()
        .filter(|l| l.starts_with("#EXT-X-STREAM-INF"))
    {
        assert!(line.ends_with(",SUBTITLES=\"subs\""), "{line}");
    }
    assert!(ffprobe_finds_subtitles(
        &master_url,
        "subs/ru/index.m3u8",
        "ru"
    ));
    assert!(ffprobe_finds_subtitles(
        &master_url,
        "subs/en/index.m3u8",
        "en"
    ));

    // The rendition: 30 s segments over the whole video; a cue crossing a boundary is in both.
    let ru_playlist = absolute(&master_url, "subs/ru/index.m3u8");
    let (s, pl) = text(&ru_playlist).await;
    assert_eq!(s, 200);
    assert!(
        pl.contains("#EXT-X-TARGETDURATION:30") && pl.ends_with("#EXT-X-ENDLIST\n"),
        "{pl}"
    );
    let segments: Vec<&str> = pl.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(segments.len(), 2, "{pl}");
    let (_, first) = text(&absolute(&ru_playlist, segments[0])).await;
    let (_, second) = text(&absolute(&ru_playlist, segments[1])).await;
    assert!(
        first.contains("Заповедник «Кедровая падь»") && first.contains("на стыке"),
        "{first}"
    );
    assert!(
        second.contains("3\n00:00:29.000 --> 00:00:33.000\nна стыке отрезков"),
        "{second}"
    );
    assert!(!second.contains("Привет"));

    // Caption words are found by the search.
    assert_eq!(
        search(&base, "platypus", |f| !f.is_empty()).await,
        vec![id.clone()]
    );
    assert_eq!(
        search(&base, "Кедровая", |f| !f.is_empty()).await,
        vec![id.clone()]
    );

    // Replaced: a new revision; the old one's files go.
    let (s, again) = put(
        &base,
        &alice,
        &id,
        "RU",
        "text/vtt",
        "WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nНовая версия\n",
    )
    .await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(again["lang"], "RU");
    let (_, pl2) = text(&ru_playlist).await;
    assert_ne!(pl, pl2);
    let old = absolute(&ru_playlist, segments[0]);
    let started = std::time::Instant::now();
    while text(&old).await.0 != 404 {
        assert!(
            started.elapsed().as_secs() < 30,
            "the old revision's files stay"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(
        search(&base, "Кедровая", |f| f.is_empty()).await.is_empty(),
        "the old words left the search"
    );

    // Removed.
    let res = http()
        .delete(format!("{base}/api/v1/videos/{id}/captions/en"))
        .bearer_auth(&alice)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    let (_, master) = text(&master_url).await;
    assert!(!master.contains("LANGUAGE=\"en\""), "{master}");
    assert_eq!(
        text(&absolute(&master_url, "subs/en/index.m3u8")).await.0,
        404
    );
    assert!(search(&base, "platypus", |f| f.is_empty()).await.is_empty());

    // At most 20 languages.
    for (i, lang) in [
        "de", "fr", "es", "it", "pt", "pl", "tr", "uk", "kk", "uz", "az", "hy", "ka", "he", "fa",
        "hi", "ja", "ko", "zh",
    ]
    .iter()
    .enumerate()
    {
        let (s, v) = put(&base, &alice, &id, lang, "text/vtt", VTT).await;
        assert_eq!(s, 201, "{i} {lang}: {v}");
    }
    let (s, e) = put(&base, &alice, &id, "ar", "text/vtt", VTT).await;
    assert_eq!(
        (s, e["code"].as_str()),
        (409, Some("too_many_captions")),
        "{e}"
    );
    let (s, _) = put(&base, &alice, &id, "de", "text/vtt", VTT).await;
    assert_eq!(s, 200, "replacing one is not adding");
}

#[tokio::test]
async fn captions_go_through_review_and_are_signed_like_the_video() {
    let stack = Stack::start(
        Backend::Local,
        &[("KADR_AUTH__REGISTER_MAX_PER_HOUR", "1000")],
    )
    .await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let carol = register_and_login(&base, "carol").await;
    let clip = stack.dir.path().join("clip.mp4");
    testsrc(&clip, "320x240", 15, 3, &[]);
    let id = upload_with(&stack, &carol, &clip, &["--title", "Проверяемое"]);
    wait_ready(&base, &carol, &id).await;
    let (s, v) = call(
        http()
            .post(format!("{base}/api/v1/moderation/videos/{id}/approve"))
            .bearer_auth(&admin),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = get_json(&format!("{base}/api/v1/videos/{id}"), None).await;
    assert_eq!(v["status"], "ready");

    // An unverified owner's captions change what viewers see: back to review.
    let (s, c) = put(&base, &carol, &id, "ru", "text/vtt", VTT).await;
    assert_eq!((s, &c["back_to_review"]), (201, &json!(true)), "{c}");
    let (s, _) = get_json(&format!("{base}/api/v1/videos/{id}"), None).await;
    assert_eq!(
        s, 404,
        "withheld from viewers until a moderator looks again"
    );
    let (_, mine) = get_json(&format!("{base}/api/v1/videos/{id}"), Some(&carol)).await;
    assert_eq!(mine["moderation"]["state"], "pending", "{mine}");

    // Its captions are signed like its media: no token, nothing.
    let (_, list) = get_json(&format!("{base}/api/v1/videos/{id}/captions"), Some(&carol)).await;
    let url = list["items"][0]["url"].as_str().unwrap().to_owned();
    assert!(url.contains("token="), "{url}");
    assert_eq!(text(&url).await.0, 200);
    let bare = url.split('?').next().unwrap();
    assert_eq!(text(bare).await.0, 404);
    let (_, pb) = get_json(&format!("{base}/api/v1/videos/{id}/playback"), Some(&carol)).await;
    let (_, master) = text(pb["hls"].as_str().unwrap()).await;
    assert!(
        master.contains("URI=\"subs/ru/index.m3u8?token="),
        "{master}"
    );
    let (s, _) = get_json(&format!("{base}/api/v1/videos/{id}/captions"), None).await;
    assert_eq!(s, 404);
}
