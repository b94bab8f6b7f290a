//! Posters through `kadr all`: the frames the transcoder proposed, picked by the owner and
//! shown to viewers under a new URL each time; a picture of the owner's own, checked at the
//! door (format, size, bombs), made by the worker in the video's shape and shown once made;
//! the last request wins over a picture still being made; the review rule for pictures; and
//! back to the transcoder's pick.

use std::path::Path;
use std::process::Command;

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::{Value, json};

use crate::common::{
    ADMIN_PASSWORD, Backend, Stack, call, creator, get_json, http, login, register_and_login,
    testsrc, until, upload_with, wait_ready,
};

/// A one-picture image of `colour` (`size` like `800x600`) in `ext`'s format, by the ffmpeg CLI.
fn picture(dir: &Path, name: &str, colour: &str, size: &str) -> Vec<u8> {
    let path = dir.join(name);
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!("color=c={colour}:s={size}"))
        .args(["-frames:v", "1"])
        .arg(&path)
        .status()
        .expect("ffmpeg");
    assert!(status.success());
    std::fs::read(path).unwrap()
}

/// The mean colour of a JPEG, as ffmpeg decodes it scaled to one pixel.
fn mean_rgb(jpeg: &[u8], dir: &Path) -> [u8; 3] {
    let path = dir.join("mean.jpg");
    std::fs::write(&path, jpeg).unwrap();
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(&path)
        .args([
            "-vf",
            "scale=1:1",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ])
        .output()
        .expect("ffmpeg");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    [out.stdout[0], out.stdout[1], out.stdout[2]]
}

async fn bytes(url: &str) -> (u16, String, Vec<u8>) {
    let res = http().get(url).send().await.unwrap();
    let status = res.status().as_u16();
    let cc = res
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    (status, cc, res.bytes().await.unwrap().to_vec())
}

async fn put_picture(
    base: &str,
    token: &str,
    id: &str,
    ctype: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    call(
        http()
            .put(format!("{base}/api/v1/videos/{id}/poster/image"))
            .bearer_auth(token)
            .header("content-type", ctype)
            .body(body),
        None,
    )
    .await
}

async fn choose(base: &str, token: &str, id: &str, body: Value) -> (u16, Value) {
    call(
        http()
            .put(format!("{base}/api/v1/videos/{id}/poster"))
            .bearer_auth(token),
        Some(body),
    )
    .await
}

fn dims(jpeg: &[u8]) -> (usize, usize) {
    let s = imagesize::blob_size(jpeg).unwrap();
    (s.width, s.height)
}

#[tokio::test]
async fn owners_pick_a_frame_or_send_a_picture_and_viewers_see_it() {
    let stack = Stack::start(
        Backend::Local,
        &[("KADR_AUTH__REGISTER_MAX_PER_HOUR", "1000")],
    )
    .await;
    let base = stack.url("");
    let dir = stack.dir.path().to_owned();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let vera = creator(&base, &admin, "vera").await;
    let other = register_and_login(&base, "oleg").await;
    let clip = dir.join("clip.mp4");
    testsrc(&clip, "640x360", 15, 6, &[]);
    let id = upload_with(&stack, &vera, &clip, &["--title", "Кадры"]);
    wait_ready(&base, &vera, &id).await;
    let poster_url = format!("{base}/api/v1/videos/{id}/poster");

    // Only its owner manages the poster.
    assert_eq!(get_json(&poster_url, None).await.0, 401);
    assert_eq!(get_json(&poster_url, Some(&other)).await.0, 404);
    let (s, p) = get_json(&poster_url, Some(&vera)).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        (&p["source"], &p["pending"]),
        (&json!("auto"), &json!(false)),
        "{p}"
    );
    let frames = p["frames"].as_array().unwrap().clone();
    assert_eq!(frames.len(), 4, "{p}");
    // Four different moments, each a picture in two sizes; the transcoder's pick is one.
    let (_, _, auto) = bytes(p["url"].as_str().unwrap()).await;
    let mut pictures = Vec::new();
    for (i, f) in frames.iter().enumerate() {
        assert_eq!(f["index"], i, "{f}");
        let (s, cc, big) = bytes(f["url"].as_str().unwrap()).await;
        assert_eq!(s, 200);
        assert!(cc.contains("immutable"), "{cc}");
        assert_eq!(dims(&big), (640, 360));
        let (s, _, small) = bytes(f["small_url"].as_str().unwrap()).await;
        assert_eq!((s, dims(&small)), (200, (320, 180)));
        pictures.push(big);
    }
    assert!(
        pictures.contains(&auto),
        "the automatic poster is one of the frames"
    );
    for i in 1..pictures.len() {
        assert_ne!(
            pictures[i],
            pictures[i - 1],
            "frames {} and {i} are the same",
            i - 1
        );
    }

    // The hover preview the same pass made: a short silent MP4 that plays while it loads.
    let (_, v) = get_json(&format!("{base}/api/v1/videos/{id}"), None).await;
    let preview = v["images"]["preview"]
        .as_str()
        .expect("a preview")
        .to_owned();
    let res = http().get(&preview).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    assert_eq!(res.headers()["content-type"], "video/mp4");
    let mp4 = res.bytes().await.unwrap();
    assert_eq!(&mp4[4..8], b"ftyp");
    let moov = mp4.windows(4).position(|w| w == b"moov").unwrap();
    let mdat = mp4.windows(4).position(|w| w == b"mdat").unwrap();
    assert!(moov < mdat, "faststart");
    assert!(mp4.len() < 200_000, "{} bytes", mp4.len());

    // Picking frame 3: the video's poster is that frame, under a name of its own.
    let (s, p) = choose(&base, &vera, &id, json!({ "frame": 3 })).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        (&p["source"], &p["frame"]),
        (&json!("frame"), &json!(3)),
        "{p}"
    );
    let (_, v) = get_json(&format!("{base}/api/v1/videos/{id}"), None).await;
    let shown = v["images"]["poster"].as_str().unwrap().to_owned();
    assert!(shown.contains("/images/frame_3.jpg"), "{shown}");
    assert_eq!(bytes(&shown).await.2, pictures[3]);
    assert!(
        v["images"]["poster_small"]
            .as_str()
            .unwrap()
            .contains("frame_3_small.jpg"),
        "{v}"
    );
    // The link preview shows it too.
    let (_, _, page) = bytes(&format!("{base}/watch/{id}")).await;
    assert!(
        String::from_utf8_lossy(&page).contains(&format!("/media/{id}/images/frame_3.jpg")),
        "og:image follows the chosen poster"
    );
    // No such frame, or no frame at all: refused.
    assert_eq!(
        choose(&base, &vera, &id, json!({ "frame": 7 })).await.0,
        400
    );
    assert_eq!(
        choose(&base, &vera, &id, json!({ "frame": "3" })).await.0,
        400
    );
    assert_eq!(
        choose(&base, &vera, &id, json!({ "frame": -1 })).await.0,
        400
    );
    assert_eq!(
        choose(&base, &other, &id, json!({ "frame": 1 })).await.0,
        404
    );

    // Pictures refused at the door, with a stable code and nothing stored.
    let png = picture(&dir, "red.png", "red", "800x600");
    let mut bomb = png.clone();
    bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let tiny = picture(&dir, "tiny.png", "red", "100x100");
    for (what, ctype, body) in [
        ("a bomb's header", "image/png", bomb),
        ("too small", "image/png", tiny),
        (
            "not a picture",
            "image/png",
            b"<svg onload=alert(1)/>".to_vec(),
        ),
        ("an SVG", "image/svg+xml", b"<svg/>".to_vec()),
    ] {
        let (s, e) = put_picture(&base, &vera, &id, ctype, body).await;
        assert_eq!(s, 415, "{what}: {e}");
        let code = e["code"].as_str().unwrap_or_default();
        assert!(
            code == "not_an_image" || code == "unsupported_media_type",
            "{what}: {e}"
        );
    }
    assert_eq!(
        put_picture(&base, &other, &id, "image/png", png.clone())
            .await
            .0,
        404
    );
    let (s, p) = get_json(&poster_url, Some(&vera)).await;
    assert_eq!(
        (s, &p["source"], &p["pending"]),
        (200, &json!("frame"), &json!(false))
    );

    // A picture of her own (4:3, red): made in the video's 16:9 shape and shown once made.
    let (s, a) = put_picture(&base, &vera, &id, "image/png", png.clone()).await;
    assert_eq!((s, &a["status"]), (202, &json!("processing")), "{a}");
    let p = until(&poster_url, Some(&vera), "the picture is made", |p| {
        p["source"] == "custom" && p["pending"] == false
    })
    .await;
    assert!(p["refused"].is_null(), "{p}");
    let custom = p["url"].as_str().unwrap().to_owned();
    let (s, cc, big) = bytes(&custom).await;
    assert_eq!(s, 200);
    assert!(cc.contains("immutable"), "{cc}");
    assert_eq!(dims(&big), (1280, 720));
    let [r, g, b] = mean_rgb(&big, &dir);
    assert!(r > 200 && g < 60 && b < 60, "red, as sent: {r} {g} {b}");
    let (_, _, small) = bytes(p["small_url"].as_str().unwrap()).await;
    assert_eq!(dims(&small), (320, 180));
    let (s, v) = get_json(&format!("{base}/api/v1/videos/{id}"), None).await;
    assert_eq!(s, 200, "a verified owner's picture needs no review: {v}");
    assert_eq!(v["images"]["poster"].as_str().unwrap(), custom);

    // A picture whose header is fine but whose body is cut: taken, then refused by the worker
    // without touching the poster shown; the owner is told why.
    let blue = picture(&dir, "blue.png", "blue", "800x600");
    let mut cut = picture(&dir, "noise.png", "green", "800x600");
    cut.truncate(cut.len() / 2);
    let (s, _) = put_picture(&base, &vera, &id, "image/png", cut).await;
    assert_eq!(s, 202);
    let p = until(
        &poster_url,
        Some(&vera),
        "the cut picture is refused",
        |p| p["pending"] == false && !p["refused"].is_null(),
    )
    .await;
    assert_eq!(p["url"].as_str().unwrap(), custom, "{p}");
    assert!(p["refused"].as_str().unwrap().contains("picture"), "{p}");

    // The last request wins: a frame picked while a picture is still being made stays.
    let (s, _) = put_picture(&base, &vera, &id, "image/png", blue).await;
    assert_eq!(s, 202);
    let (s, _) = choose(&base, &vera, &id, json!({ "frame": 1 })).await;
    assert_eq!(s, 200);
    let p = until(&poster_url, Some(&vera), "the picture's job is done", |p| {
        p["pending"] == false
    })
    .await;
    assert_eq!(
        (&p["source"], &p["frame"]),
        (&json!("frame"), &json!(1)),
        "{p}"
    );
    // The replaced picture goes from storage.
    let started = std::time::Instant::now();
    loop {
        if bytes(&custom).await.0 == 404 {
            break;
        }
        assert!(started.elapsed().as_secs() < 30, "{custom} stays");
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }

    // Back to the transcoder's pick.
    let (s, p) = call(http().delete(&poster_url).bearer_auth(&vera), None).await;
    assert_eq!((s, &p["source"]), (200, &json!("auto")), "{p}");
    let (_, v) = get_json(&format!("{base}/api/v1/videos/{id}"), None).await;
    assert!(
        v["images"]["poster"]
            .as_str()
            .unwrap()
            .contains("/images/poster.jpg")
    );

    // The last request wins whatever order the work finishes in: a picture made after a
    // later choice (forced here by landing it by hand after the choice) is dropped.
    let db = stack.db().await;
    let config = kadr_config::Config::default();
    let owner = kadr_core::entities::user::Entity::find()
        .filter(kadr_core::entities::user::Column::Username.eq("vera"))
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let video = uuid::Uuid::parse_str(&id).unwrap();
    let source = kadr_core::keys::poster_incoming(video, uuid::Uuid::now_v7());
    let early = kadr_core::posters::ask_custom(&db, &config, &owner, video, source)
        .await
        .unwrap();
    let (s, _) = choose(&base, &vera, &id, json!({ "frame": 2 })).await;
    assert_eq!(s, 200);
    let made = kadr_core::posters::Made {
        width: 1280,
        height: 720,
        small_width: 320,
        small_height: 180,
    };
    let landed = kadr_core::posters::land_custom(&db, &config, &owner, video, early, &made)
        .await
        .unwrap();
    assert_eq!(landed, kadr_core::posters::Outcome::Overtaken);
    let (_, p) = get_json(&poster_url, Some(&vera)).await;
    assert_eq!(
        (&p["source"], &p["frame"], &p["pending"]),
        (&json!("frame"), &json!(2), &json!(false)),
        "{p}"
    );
}

#[tokio::test]
async fn a_picture_from_an_owner_who_is_not_trusted_goes_back_to_review() {
    let stack = Stack::start(
        Backend::Local,
        &[("KADR_AUTH__REGISTER_MAX_PER_HOUR", "1000")],
    )
    .await;
    let base = stack.url("");
    let dir = stack.dir.path().to_owned();
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    let carol = register_and_login(&base, "carol").await;
    let clip = dir.join("clip.mp4");
    testsrc(&clip, "360x640", 15, 3, &[]);
    let id = upload_with(&stack, &carol, &clip, &["--title", "Вертикальное"]);
    wait_ready(&base, &carol, &id).await;
    let (s, v) = call(
        http()
            .post(format!("{base}/api/v1/moderation/videos/{id}/approve"))
            .bearer_auth(&admin),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let poster_url = format!("{base}/api/v1/videos/{id}/poster");

    // A frame of the approved video itself: no review.
    let (s, p) = choose(&base, &carol, &id, json!({ "frame": 2 })).await;
    assert_eq!(s, 200, "{p}");
    assert_eq!(
        get_json(&format!("{base}/api/v1/videos/{id}"), None)
            .await
            .0,
        200
    );

    // A picture of her own: made in the vertical video's shape, then held for review.
    let png = picture(&dir, "green.png", "green", "1000x1000");
    assert_eq!(
        put_picture(&base, &carol, &id, "image/png", png).await.0,
        202
    );
    let p = until(&poster_url, Some(&carol), "the picture is made", |p| {
        p["source"] == "custom" && p["pending"] == false
    })
    .await;
    let (_, _, big) = bytes(p["url"].as_str().unwrap()).await;
    assert_eq!(dims(&big), (720, 1280));
    assert_eq!(
        get_json(&format!("{base}/api/v1/videos/{id}"), None)
            .await
            .0,
        404,
        "withheld from viewers until a moderator looks again"
    );
    let (_, mine) = get_json(&format!("{base}/api/v1/videos/{id}"), Some(&carol)).await;
    assert_eq!(mine["moderation"]["state"], "pending", "{mine}");
    // The moderator sees the new picture.
    let (_, seen) = get_json(&format!("{base}/api/v1/videos/{id}"), Some(&admin)).await;
    let file = p["url"]
        .as_str()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    assert!(file.starts_with("custom_"), "{p}");
    assert!(
        seen["images"]["poster"].as_str().unwrap().contains(&file),
        "{seen}"
    );
}
