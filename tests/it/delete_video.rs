//! Deleting a video: owner or admin only; its upload in progress is terminated and every
//! stored byte goes, on both backends.

use std::time::{Duration, Instant};

use crate::common::{ADMIN_PASSWORD, Backend, Stack, http, login, register_and_login};

async fn stored_objects(stack: &Stack) -> usize {
    match &stack.s3 {
        Some(s3) => {
            let storage = kadr_storage::Storage::s3(s3.options()).await.unwrap();
            storage.list("").await.unwrap().len() + s3.unfinished_uploads().await.unwrap()
        }
        None => {
            fn files(dir: &std::path::Path) -> usize {
                std::fs::read_dir(dir)
                    .map(|entries| {
                        entries
                            .map(|e| {
                                let p = e.unwrap().path();
                                if p.is_dir() { files(&p) } else { 1 }
                            })
                            .sum()
                    })
                    .unwrap_or(0)
            }
            files(&stack.dir.path().join("var/media/originals"))
                + files(&stack.dir.path().join("var/media/uploads"))
        }
    }
}

async fn upload(base: &str, token: &str, size: usize, send: usize) -> (String, String) {
    let res = http()
        .post(format!("{base}/api/v1/uploads"))
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", size.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let url = res.headers()["location"].to_str().unwrap().to_owned();
    let video = res.headers()["kadr-video-id"].to_str().unwrap().to_owned();
    let res = http()
        .patch(&url)
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(vec![9u8; send])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    (url, video)
}

async fn delete_removes_everything(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let base = stack.url("");
    let owner = register_and_login(&base, &format!("del-owner-{backend:?}")).await;
    let other = register_and_login(&base, &format!("del-other-{backend:?}")).await;
    let mib = 1024 * 1024;

    let (_, done) = upload(&base, &owner, 6 * mib, 6 * mib).await;
    // In progress: on S3 a multipart upload with one part and a piece.
    let (pending_url, pending) = upload(&base, &owner, 20 * mib, 9 * mib).await;
    assert!(stored_objects(&stack).await > 0);

    let del = |video: &str, token: &str| {
        http()
            .delete(format!("{base}/api/v1/videos/{video}"))
            .bearer_auth(token.to_owned())
            .send()
    };
    assert_eq!(del(&done, &other).await.unwrap().status().as_u16(), 404);
    assert_eq!(
        http()
            .delete(format!("{base}/api/v1/videos/{done}"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        401
    );
    assert_eq!(del(&done, &owner).await.unwrap().status().as_u16(), 204);
    assert_eq!(del(&done, &owner).await.unwrap().status().as_u16(), 404);
    let source = http()
        .get(format!("{base}/api/v1/videos/{done}/source"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(source.status().as_u16(), 404);

    // An admin may delete anyone's video; the upload in progress is terminated.
    let admin = login(&base, "admin", ADMIN_PASSWORD).await;
    assert_eq!(del(&pending, &admin).await.unwrap().status().as_u16(), 204);
    let head = http()
        .head(&pending_url)
        .bearer_auth(&owner)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(head.status().as_u16(), 404);

    // The cleanup jobs remove every byte.
    let started = Instant::now();
    while stored_objects(&stack).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "media left behind"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_on_local_disk() {
    delete_removes_everything(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_on_s3() {
    delete_removes_everything(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn delete_on_seaweedfs() {
    delete_removes_everything(Backend::Seaweed).await;
}

/// Objects stored for `video` under every prefix the platform writes for it.
async fn media_of(stack: &Stack, video: &str) -> usize {
    let prefixes = [
        format!("originals/{video}/"),
        format!("hls/{video}/"),
        format!("images/{video}/"),
    ];
    let mut n = 0;
    match &stack.s3 {
        Some(s3) => {
            let storage = kadr_storage::Storage::s3(s3.options()).await.unwrap();
            for p in &prefixes {
                n += storage.list(p).await.unwrap().len();
            }
        }
        None => {
            let storage = kadr_storage::Storage::local(kadr_storage::LocalOptions {
                root: stack.dir.path().join("var/media"),
            })
            .await
            .unwrap();
            for p in &prefixes {
                n += storage.list(p).await.unwrap().len();
            }
        }
    }
    n
}

/// Deleting a video while the worker transcodes it: the transcode stops, nothing more is
/// published, and the listing for its id ends empty.
async fn delete_during_transcode(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let base = stack.url("");
    let base = base.trim_end_matches('/').to_owned();
    let owner = register_and_login(&base, &format!("mid-{backend:?}")).await;
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("long.mp4");
    crate::common::testsrc(&clip, "854x480", 25, 40, &[]);
    let video = crate::common::upload_with(&stack, &owner, &clip, &["--title", "Long"]);
    // Wait until segments are being published, and the transcode is still running.
    let started = Instant::now();
    loop {
        let (_, v) =
            crate::common::get_json(&format!("{base}/api/v1/videos/{video}"), Some(&owner)).await;
        assert_ne!(
            v["status"], "ready",
            "the transcode finished before the delete; make it longer"
        );
        if v["playable"] == true {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(120), "{v}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(media_of(&stack, &video).await > 0);
    let res = http()
        .delete(format!("{base}/api/v1/videos/{video}"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let started = Instant::now();
    while media_of(&stack, &video).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "media of the deleted video left behind"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // And nothing arrives afterwards.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(media_of(&stack, &video).await, 0);
    assert!(
        stack
            .kadr
            .log()
            .contains("video deleted during its transcode"),
        "the worker did not stop the transcode"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_during_transcode_on_local_disk() {
    delete_during_transcode(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_during_transcode_on_s3() {
    delete_during_transcode(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn delete_during_transcode_on_seaweedfs() {
    delete_during_transcode(Backend::Seaweed).await;
}

/// Objects no row owns (a crash, a write that raced a delete) are removed by the
/// reconciliation pass; what rows own stays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconciliation_removes_what_no_row_owns() {
    let stack = Stack::start(
        Backend::Local,
        &[
            ("KADR_UPLOAD__JANITOR_INTERVAL_SECS", "1"),
            ("KADR_UPLOAD__RECONCILE_INTERVAL_SECS", "1"),
            ("KADR_UPLOAD__RECONCILE_GRACE_SECS", "0"),
        ],
    )
    .await;
    let base = stack.url("");
    let owner = register_and_login(&base, "reconcile-owner").await;
    // A real upload in progress: its bytes must stay.
    let (_, kept) = upload(&base, &owner, 2 * 1024 * 1024, 1024 * 1024).await;
    let media = stack.dir.path().join("var/media");
    let stray = uuid::Uuid::new_v4();
    for key in [
        format!("originals/{stray}/source"),
        format!("hls/{stray}/240p/seg_00000.m4s"),
        format!("images/{stray}/poster.jpg"),
        format!("uploads/{stray}/data"),
    ] {
        let path = media.join(&key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"left behind").unwrap();
    }
    let strays = || {
        ["originals", "hls", "images", "uploads"]
            .iter()
            .filter(|top| {
                walk(&media.join(top).join(stray.to_string()))
                    .iter()
                    .any(|p| p.is_file())
            })
            .count()
    };
    let started = Instant::now();
    while strays() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "stray objects were not removed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        walk(&media.join("uploads")).iter().any(|p| p.is_file()),
        "the upload in progress of video {kept} lost its bytes"
    );
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Deleting a video while its last PATCH streams: whatever the PATCH answers, nothing of the
/// video is left in storage once the dust settles, and nothing is transcoded.
async fn delete_during_the_last_patch(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let base = stack.url("");
    let base = base.trim_end_matches('/').to_owned();
    let owner = register_and_login(&base, &format!("last-{backend:?}")).await;
    let mib = 1024 * 1024;
    let (url, video) = upload(&base, &owner, 7 * mib, 6 * mib).await;
    // The last MiB, in two halves with a pause between them.
    let (tx, rx) = futures::channel::mpsc::channel::<Result<Vec<u8>, std::io::Error>>(1);
    let patch = {
        let (url, owner) = (url.clone(), owner.clone());
        tokio::spawn(async move {
            http()
                .patch(&url)
                .bearer_auth(owner)
                .header("Tus-Resumable", "1.0.0")
                .header("Upload-Offset", (6 * mib).to_string())
                .header("Content-Type", "application/offset+octet-stream")
                .header("Content-Length", mib.to_string())
                .body(reqwest::Body::wrap_stream(rx))
                .send()
                .await
                .map(|r| r.status().as_u16())
        })
    };
    let mut tx = tx;
    use futures::SinkExt;
    tx.send(Ok(vec![1u8; mib / 2])).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let res = http()
        .delete(format!("{base}/api/v1/videos/{video}"))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let _ = tx.send(Ok(vec![2u8; mib / 2])).await;
    drop(tx);
    let answered = patch.await.unwrap();
    let started = Instant::now();
    while media_of(&stack, &video).await > 0 || stored_objects(&stack).await > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "media left behind (the last PATCH answered {answered:?})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(media_of(&stack, &video).await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_during_the_last_patch_on_local_disk() {
    delete_during_the_last_patch(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_during_the_last_patch_on_s3() {
    delete_during_the_last_patch(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn delete_during_the_last_patch_on_seaweedfs() {
    delete_during_the_last_patch(Backend::Seaweed).await;
}
