//! `POST /api/v1/videos/upload` (multipart/form-data): the file and its metadata in one
//! request, streamed to storage; refusals leave no video and no bytes behind. Both backends.

use crate::common::{Backend, Stack, bunny, http, register_and_login, sha256_file, source_sha256};
use reqwest::multipart::{Form, Part};

async fn simple_upload(backend: Backend) {
    let stack = Stack::start(backend, &[("KADR_UPLOAD__MAX_SIZE_BYTES", "2000000")]).await;
    let base = stack.url("");
    let token = register_and_login(&base, &format!("simple-{backend:?}")).await;
    let url = format!("{base}/api/v1/videos/upload");
    let clip = std::fs::read(bunny()).unwrap();

    let form = Form::new()
        .text("title", "أرنب كبير")
        .text("privacy", "unlisted")
        .text("tags", "رسوم,animation")
        .part("file", Part::bytes(clip.clone()).file_name("bunny.mp4"));
    let res = http()
        .post(&url)
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["title"], "أرنب كبير");
    assert_eq!(body["status"], "queued");
    assert_eq!(body["size"], clip.len());
    let video = body["id"].as_str().unwrap();
    assert_eq!(
        source_sha256(&base, &token, video).await.0,
        sha256_file(&bunny())
    );

    // The title falls back to the file name.
    let form = Form::new().part(
        "file",
        Part::bytes(vec![1u8; 1000]).file_name("Без названия.mov"),
    );
    let res = http()
        .post(&url)
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["title"],
        "Без названия"
    );

    // Too large, declared up front: refused before a byte is stored.
    let form = Form::new().part(
        "file",
        Part::bytes(vec![0u8; 3_000_000]).file_name("big.mp4"),
    );
    let res = http()
        .post(&url)
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 413);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["code"],
        "too_large"
    );

    // Too large, streamed without a length: refused once the limit is passed.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..30).map(|_| Ok(vec![7u8; 100_000])).collect();
    let part = Part::stream(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .file_name("streamed.mp4");
    let res = http()
        .post(&url)
        .bearer_auth(&token)
        .multipart(Form::new().part("file", part))
        .send()
        .await;
    // The server may answer and close before the client finished sending.
    if let Ok(res) = res {
        assert_eq!(res.status().as_u16(), 413);
    }

    // Bad metadata: the stored file is removed again.
    let form = Form::new()
        .text("privacy", "secret")
        .part("file", Part::bytes(vec![1u8; 1000]).file_name("x.mp4"));
    let res = http()
        .post(&url)
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["field"],
        "privacy"
    );
    let form = Form::new().text("title", "no file");
    let res = http()
        .post(&url)
        .bearer_auth(&token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 400);
    assert_eq!(
        res.json::<serde_json::Value>().await.unwrap()["field"],
        "file"
    );
    let res = http()
        .post(&url)
        .multipart(Form::new().text("title", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);

    // Only the two accepted files are stored.
    let stored = match &stack.s3 {
        None => std::fs::read_dir(stack.dir.path().join("var/media/originals"))
            .unwrap()
            .filter(|d| d.as_ref().unwrap().path().join("source").is_file())
            .count(),
        Some(s3) => {
            assert_eq!(s3.unfinished_uploads().await.unwrap(), 0);
            let storage = kadr_storage::Storage::s3(s3.options()).await.unwrap();
            storage.list("originals/").await.unwrap().len()
        }
    };
    assert_eq!(stored, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_upload_on_local_disk() {
    simple_upload(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simple_upload_on_s3() {
    simple_upload(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn simple_upload_on_seaweedfs() {
    simple_upload(Backend::Seaweed).await;
}
