//! Downloads through `kadr all`: the MP4 and M4A a transcode makes in its one pass, listed at
//! `/api/v1/videos/{id}/downloads` and served under `/media/{id}/downloads/…` with the title
//! as the file name; `downloadable: false` hides them from viewers (list and file) but not
//! from the owner; a private video's URLs are signed and refused without their token; the
//! audio-only rendition is the master's last variant.

use std::process::Command;

use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, call, creator, get_json, http, login, register_and_login,
    upload_with, wait_ready,
};

/// A clip with sound: testsrc2 and a sine tone, H.264 + AAC.
fn clip_with_audio(path: &std::path::Path, secs: u32) {
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=640x360:rate=25")
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args([
            "-t",
            &secs.to_string(),
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "96k",
        ])
        .arg(path)
        .status()
        .expect("the ffmpeg CLI is needed to make test inputs");
    assert!(status.success());
}

/// The types of the top-level boxes of an MP4 held in memory.
fn top_level_boxes(data: &[u8]) -> Vec<String> {
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= data.len() {
        let size32 = u32::from_be_bytes(data[at..at + 4].try_into().unwrap()) as usize;
        let kind = String::from_utf8_lossy(&data[at + 4..at + 8]).into_owned();
        let size = match size32 {
            0 => data.len() - at,
            1 => u64::from_be_bytes(data[at + 8..at + 16].try_into().unwrap()) as usize,
            n => n,
        };
        out.push(kind);
        if size < 8 {
            break;
        }
        at += size;
    }
    out
}

fn faststart(data: &[u8]) {
    let boxes = top_level_boxes(data);
    assert_eq!(boxes.first().map(String::as_str), Some("ftyp"), "{boxes:?}");
    let moov = boxes.iter().position(|b| b == "moov").expect("moov");
    let mdat = boxes.iter().position(|b| b == "mdat").expect("mdat");
    assert!(moov < mdat, "{boxes:?}");
}

struct Got {
    status: u16,
    headers: reqwest::header::HeaderMap,
    body: Vec<u8>,
}

async fn fetch(url: &str, range: Option<&str>) -> Got {
    let mut req = http().get(url);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let body = res.bytes().await.unwrap().to_vec();
    Got {
        status,
        headers,
        body,
    }
}

impl Got {
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
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

fn item<'a>(list: &'a Value, kind: &str) -> &'a Value {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} in {list}"))
}

/// RFC 5987 percent-encoding, as the server writes `filename*`.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[tokio::test]
async fn downloads_are_listed_served_faststart_and_follow_the_rules() {
    let stack = Stack::start(
        Backend::Local,
        &[("KADR_AUTH__REGISTER_MAX_PER_HOUR", "1000")],
    )
    .await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let bob = register_and_login(&base, "bob").await;
    let file = stack.dir.path().join("sound.mp4");
    clip_with_audio(&file, 4);
    let title = "Кот и قطة: день 1";
    let public = upload_with(&stack, &alice, &file, &["--title", title]);
    let private = upload_with(&stack, &alice, &file, &["--title", "Секрет"]);
    wait_ready(&base, &alice, &public).await;
    wait_ready(&base, &alice, &private).await;
    let (s, v) = patch(&base, &alice, &private, json!({ "privacy": "private" })).await;
    assert_eq!(s, 200, "{v}");

    // The list, for anyone: an MP4 of the rung at most 720p and an M4A, unsigned.
    let list_url = format!("{base}/api/v1/videos/{public}/downloads");
    let (s, list) = get_json(&list_url, None).await;
    assert_eq!(s, 200, "{list}");
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "{list}");
    let mp4 = item(&list, "mp4");
    assert_eq!(
        (mp4["width"].as_i64(), mp4["height"].as_i64()),
        (Some(640), Some(360))
    );
    let m4a = item(&list, "m4a");
    assert!(m4a.get("width").is_none(), "{m4a}");
    let mp4_url = mp4["url"].as_str().unwrap().to_owned();
    assert_eq!(
        mp4_url,
        format!("{base}/media/{public}/downloads/video.mp4")
    );

    // The MP4: whole, faststart, saved under the title.
    let got = fetch(&mp4_url, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), "video/mp4");
    assert_eq!(got.body.len() as i64, mp4["size_bytes"].as_i64().unwrap());
    faststart(&got.body);
    let disposition = got.header("content-disposition");
    assert!(disposition.starts_with("attachment; "), "{disposition}");
    // The title is the name, less what file systems refuse (the colon).
    assert!(
        disposition.ends_with(&format!("filename*=UTF-8''{}", pct("Кот и قطة день 1.mp4"))),
        "{disposition}"
    );
    assert!(disposition.contains("filename=\""), "{disposition}");
    // A player on disk reads it: H.264 + AAC as long as the source.
    let saved = stack.dir.path().join("saved.mp4");
    std::fs::write(&saved, &got.body).unwrap();
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-show_entries",
            "stream=codec_name:format=duration",
        ])
        .args(["-of", "csv=p=0"])
        .arg(&saved)
        .output()
        .unwrap();
    let probe = String::from_utf8_lossy(&probe.stdout).into_owned();
    assert!(probe.contains("h264") && probe.contains("aac"), "{probe}");
    let secs: f64 = probe
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .next()
        .unwrap();
    assert!((secs - 4.0).abs() < 0.2, "{probe}");
    // Ranges.
    let part = fetch(&mp4_url, Some("bytes=0-99")).await;
    assert_eq!(part.status, 206);
    assert_eq!(part.body, got.body[..100]);
    // The M4A: AAC in MP4, faststart.
    let got = fetch(m4a["url"].as_str().unwrap(), None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), "audio/mp4");
    faststart(&got.body);
    assert!(got.header("content-disposition").ends_with(".m4a"));

    // The master's last variant is the audio-only rendition, and it is served.
    let master = fetch(&format!("{base}/media/{public}/hls/master.m3u8"), None).await;
    let master = String::from_utf8(master.body).unwrap();
    let lines: Vec<&str> = master.lines().collect();
    assert_eq!(lines.last(), Some(&"audio/index.m3u8"), "{master}");
    assert!(
        lines[lines.len() - 2].contains("CODECS=\"mp4a.40.2\"")
            && !lines[lines.len() - 2].contains("RESOLUTION"),
        "{master}"
    );
    let audio = fetch(&format!("{base}/media/{public}/hls/audio/index.m3u8"), None).await;
    assert_eq!(audio.status, 200);
    let audio = String::from_utf8(audio.body).unwrap();
    assert!(audio.contains("#EXT-X-ENDLIST"), "{audio}");
    let init = fetch(&format!("{base}/media/{public}/hls/audio/init.mp4"), None).await;
    assert_eq!(init.status, 200);

    // Not downloadable: viewers get 404 from the list and the file; the owner and admins
    // still see them, through signed URLs.
    let (s, v) = patch(&base, &alice, &public, json!({ "downloadable": false })).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(get_json(&list_url, None).await.0, 404);
    assert_eq!(get_json(&list_url, Some(&bob)).await.0, 404);
    assert_eq!(fetch(&mp4_url, None).await.status, 404);
    let (s, mine) = get_json(&list_url, Some(&alice)).await;
    assert_eq!(s, 200, "{mine}");
    let signed = item(&mine, "mp4")["url"].as_str().unwrap().to_owned();
    assert!(signed.contains("?token="), "{signed}");
    assert_eq!(fetch(&signed, None).await.status, 200);
    assert_eq!(get_json(&list_url, Some(&admin)).await.0, 200);
    // The video itself is still there for everyone.
    assert_eq!(
        get_json(&format!("{base}/api/v1/videos/{public}"), None)
            .await
            .0,
        200
    );
    // Downloadable again: the owner's token of meanwhile no longer opens it (another
    // epoch), the plain URL does.
    let (s, _) = patch(&base, &alice, &public, json!({ "downloadable": true })).await;
    assert_eq!(s, 200);
    assert_eq!(fetch(&mp4_url, None).await.status, 200);
    assert_eq!(fetch(&signed, None).await.status, 403);

    // A private video: only its owner sees the list; its URLs are signed and refused without
    // their token (404) or with a forged one (403).
    let plist = format!("{base}/api/v1/videos/{private}/downloads");
    assert_eq!(get_json(&plist, None).await.0, 404);
    assert_eq!(get_json(&plist, Some(&bob)).await.0, 404);
    let (s, mine) = get_json(&plist, Some(&alice)).await;
    assert_eq!(s, 200, "{mine}");
    let url = item(&mine, "mp4")["url"].as_str().unwrap().to_owned();
    let (plain, token) = url.split_once("?token=").expect("a signed URL");
    assert_eq!(fetch(&url, None).await.status, 200);
    assert_eq!(fetch(plain, None).await.status, 404);
    let forged = format!("{plain}?token={}x", token);
    assert_eq!(fetch(&forged, None).await.status, 403);
    // An hls token does not open downloads.
    let (_, playback) = get_json(
        &format!("{base}/api/v1/videos/{private}/playback"),
        Some(&alice),
    )
    .await;
    let hls_token = playback["hls"]
        .as_str()
        .unwrap()
        .split_once("?token=")
        .unwrap()
        .1
        .to_owned();
    assert_eq!(
        fetch(&format!("{plain}?token={hls_token}"), None)
            .await
            .status,
        403
    );
    // Made not downloadable, the token handed out before stops at once.
    let (s, _) = patch(&base, &alice, &private, json!({ "downloadable": false })).await;
    assert_eq!(s, 200);
    assert_eq!(fetch(&url, None).await.status, 403);
    // Names the worker does not write are not served.
    assert_eq!(
        fetch(&format!("{base}/media/{public}/downloads/source"), None)
            .await
            .status,
        404
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_s3_a_download_is_a_presigned_redirect_naming_the_file() {
    presigned_download(Backend::S3).await;
}

/// On SeaweedFS, which honours the response overrides: the file arrives named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn on_seaweedfs_the_presigned_download_carries_the_name() {
    presigned_download(Backend::Seaweed).await;
}

async fn presigned_download(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let base = stack.url("");
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let alice = creator(&base, &admin, "alice").await;
    let file = stack.dir.path().join("sound.mp4");
    clip_with_audio(&file, 2);
    let id = upload_with(&stack, &alice, &file, &["--title", "Море"]);
    wait_ready(&base, &alice, &id).await;
    let (s, list) = get_json(&format!("{base}/api/v1/videos/{id}/downloads"), None).await;
    assert_eq!(s, 200, "{list}");
    let url = item(&list, "mp4")["url"].as_str().unwrap().to_owned();
    let no_redirects = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let res = no_redirects.get(&url).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 302);
    let location = res.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.contains("response-content-disposition=")
            && location.contains("response-content-type=video%2Fmp4"),
        "{location}"
    );
    let got = fetch(&location, None).await;
    assert_eq!(got.status, 200, "{location}");
    faststart(&got.body);
    // s3s-fs (the in-process server) ignores the overrides; SeaweedFS answers with them.
    if backend == Backend::Seaweed {
        assert_eq!(got.header("content-type"), "video/mp4");
        assert_eq!(
            got.header("content-disposition"),
            "attachment; filename=\"____.mp4\"; filename*=UTF-8''%D0%9C%D0%BE%D1%80%D0%B5.mp4"
        );
    }
}
