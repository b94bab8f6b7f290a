//! tus 1.0 at /api/v1/uploads against bad input, on both backends: every refusal has its
//! status and problem code, and none of them moves the stored offset.

use std::time::Duration;

use crate::common::{Backend, Stack, http, register_and_login, source_sha256};
use base64::Engine;
use reqwest::{Method, RequestBuilder};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::Digest;

const MIB: usize = 1024 * 1024;

struct Tus {
    base: String,
    token: String,
}

impl Tus {
    fn req(&self, method: Method, url: &str) -> RequestBuilder {
        http()
            .request(method, url)
            .bearer_auth(&self.token)
            .header("Tus-Resumable", "1.0.0")
    }

    async fn create(&self, length: usize, metadata: &str) -> reqwest::Response {
        self.req(Method::POST, &format!("{}/api/v1/uploads", self.base))
            .header("Upload-Length", length.to_string())
            .header("Upload-Metadata", metadata)
            .send()
            .await
            .unwrap()
    }

    async fn patch(
        &self,
        url: &str,
        offset: usize,
        body: Vec<u8>,
        extra: &[(&str, String)],
    ) -> reqwest::Response {
        let mut r = self
            .req(Method::PATCH, url)
            .header("Upload-Offset", offset.to_string())
            .header("Content-Type", "application/offset+octet-stream");
        for (k, v) in extra {
            r = r.header(*k, v);
        }
        r.body(body).send().await.unwrap()
    }

    async fn offset(&self, url: &str) -> u64 {
        let res = self.req(Method::HEAD, url).send().await.unwrap();
        assert_eq!(res.status().as_u16(), 200);
        assert_eq!(res.headers()["cache-control"], "no-store");
        res.headers()["upload-offset"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap()
    }
}

async fn problem(res: reqwest::Response) -> (u16, String) {
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
    (status, v["code"].as_str().unwrap_or("").to_owned())
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn bytes(n: usize, seed: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

async fn scalar(db: &DatabaseConnection, sql: &str) -> String {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            sql,
        ))
        .await
        .unwrap()
        .unwrap();
    row.try_get::<String>("", "v").unwrap()
}

fn id_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

async fn bad_input_is_refused_and_loses_nothing(backend: Backend) {
    let stack = Stack::start(
        backend,
        &[
            ("KADR_UPLOAD__MAX_SIZE_BYTES", "50000000"),
            ("KADR_UPLOAD__USER_QUOTA_BYTES", "62000000"),
            ("KADR_UPLOAD__JANITOR_INTERVAL_SECS", "1"),
        ],
    )
    .await;
    let base = stack.url("");
    let tus = Tus {
        base: base.clone(),
        token: register_and_login(&base, &format!("owner-{backend:?}")).await,
    };
    let other = Tus {
        base: base.clone(),
        token: register_and_login(&base, &format!("other-{backend:?}")).await,
    };
    let uploads = format!("{base}/api/v1/uploads");

    // Discovery.
    let res = http()
        .request(Method::OPTIONS, &uploads)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 204);
    let h = res.headers();
    assert_eq!(h["tus-version"], "1.0.0");
    assert_eq!(h["tus-max-size"], "50000000");
    assert_eq!(h["tus-checksum-algorithm"], "sha1,sha256");
    for ext in [
        "creation",
        "creation-with-upload",
        "termination",
        "checksum",
        "expiration",
    ] {
        assert!(
            h["tus-extension"]
                .to_str()
                .unwrap()
                .split(',')
                .any(|e| e == ext),
            "{ext}"
        );
    }

    // Creation refusals.
    let res = http()
        .post(&uploads)
        .header("Tus-Resumable", "1.0.0")
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await, (401, "unauthorized".into()));
    let res = http()
        .post(&uploads)
        .bearer_auth(&tus.token)
        .header("Upload-Length", "10")
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await, (412, "unsupported_tus_version".into()));
    assert_eq!(
        problem(tus.create(60_000_000, "").await).await,
        (413, "too_large".into())
    );
    assert_eq!(
        problem(tus.create(10, "filename !!!notbase64").await).await,
        (400, "invalid_metadata".into())
    );
    assert_eq!(
        problem(tus.create(10, &format!("privacy {}", b64("secret"))).await).await,
        (400, "invalid_field".into())
    );

    // A 10 MiB upload with a Cyrillic title.
    let length = 10 * MIB;
    let data = bytes(length, 7);
    let res = tus
        .create(
            length,
            &format!(
                "filename {},title {}",
                b64("клип.mp4"),
                b64("Клип о кролике")
            ),
        )
        .await;
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(res.headers()["tus-resumable"], "1.0.0");
    assert!(res.headers().contains_key("upload-expires"));
    let url = res.headers()["location"].to_str().unwrap().to_owned();
    let video = res.headers()["kadr-video-id"].to_str().unwrap().to_owned();
    assert!(url.starts_with(&uploads));

    // Other people and unknown ids see nothing.
    assert_eq!(
        other
            .req(Method::HEAD, &url)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        problem(other.patch(&url, 0, bytes(10, 1), &[]).await)
            .await
            .0,
        404
    );
    assert_eq!(
        other
            .req(Method::DELETE, &url)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    let unknown = format!("{uploads}/01a20000-0000-7000-8000-000000000000");
    assert_eq!(
        tus.req(Method::HEAD, &unknown)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        tus.req(Method::HEAD, &format!("{uploads}/../users"))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );

    // PATCH refusals leave the offset where it was.
    let res = tus
        .req(Method::PATCH, &url)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/octet-stream")
        .body(bytes(10, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await, (415, "unsupported_media_type".into()));
    let res = http()
        .patch(&url)
        .bearer_auth(&tus.token)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(bytes(10, 1))
        .send()
        .await
        .unwrap();
    assert_eq!(problem(res).await, (412, "unsupported_tus_version".into()));
    assert_eq!(
        problem(tus.patch(&url, 5, bytes(10, 1), &[]).await).await,
        (409, "offset_mismatch".into())
    );
    assert_eq!(
        problem(
            tus.patch(
                &url,
                0,
                bytes(10, 1),
                &[("Upload-Checksum", "md5 AAAA".into())]
            )
            .await
        )
        .await,
        (400, "invalid_checksum".into())
    );
    // A checksum mismatch over 9 MiB (past the first S3 part) discards all of it.
    let first = &data[..9 * MIB];
    let wrong = b64_digest_sha256(&data[1..9 * MIB + 1]);
    let res = tus
        .patch(
            &url,
            0,
            first.to_vec(),
            &[("Upload-Checksum", format!("sha256 {wrong}"))],
        )
        .await;
    assert_eq!(problem(res).await, (460, "checksum_mismatch".into()));
    assert_eq!(tus.offset(&url).await, 0);
    let right = base64::engine::general_purpose::STANDARD.encode(sha1::Sha1::digest(first));
    let res = tus
        .patch(
            &url,
            0,
            first.to_vec(),
            &[("Upload-Checksum", format!("sha1 {right}"))],
        )
        .await;
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(
        res.headers()["upload-offset"],
        (9 * MIB).to_string().as_str()
    );
    assert_eq!(tus.offset(&url).await, 9 * MIB as u64);
    // Past Upload-Length.
    assert_eq!(
        problem(tus.patch(&url, 9 * MIB, bytes(2 * MIB, 3), &[]).await).await,
        (400, "exceeds_length".into())
    );
    assert_eq!(tus.offset(&url).await, 9 * MIB as u64);
    // The rest, in two requests: the upload completes.
    let res = tus
        .patch(&url, 9 * MIB, data[9 * MIB..9 * MIB + 1000].to_vec(), &[])
        .await;
    assert_eq!(res.status().as_u16(), 204);
    let res = tus
        .patch(&url, 9 * MIB + 1000, data[9 * MIB + 1000..].to_vec(), &[])
        .await;
    assert_eq!(res.status().as_u16(), 204);
    assert_eq!(res.headers()["upload-offset"], length.to_string().as_str());
    assert!(
        !res.headers().contains_key("upload-expires"),
        "complete uploads do not expire"
    );
    let (sha, len) = source_sha256(&base, &tus.token, &video).await;
    assert_eq!(
        (sha, len),
        (
            crate::common::hex(&sha2::Sha256::digest(&data)),
            length as u64
        )
    );
    // The other user cannot download it.
    let res = http()
        .get(format!("{base}/api/v1/videos/{video}/source"))
        .bearer_auth(&other.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 404);
    // Ranged download.
    let res = http()
        .get(format!("{base}/api/v1/videos/{video}/source"))
        .bearer_auth(&tus.token)
        .header("Range", "bytes=100-199")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 206);
    assert_eq!(
        res.headers()["content-range"],
        format!("bytes 100-199/{length}").as_str()
    );
    assert_eq!(res.bytes().await.unwrap().as_ref(), &data[100..200]);

    // Completion queued the transcode in the same transaction; the worker in `kadr all` takes
    // it and, the bytes being no video, fails the video with a reason and does not retry.
    let db = stack.db().await;
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT title AS v FROM videos WHERE id = '{video}'")
        )
        .await,
        "Клип о кролике"
    );
    let started = std::time::Instant::now();
    loop {
        let status = scalar(
            &db,
            &format!("SELECT status AS v FROM videos WHERE id = '{video}'"),
        )
        .await;
        if status == "failed" {
            break;
        }
        assert!(
            ["queued", "processing"].contains(&status.as_str()),
            "{status}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "never processed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        scalar(
            &db,
            &format!("SELECT failure_code AS v FROM videos WHERE id = '{video}'")
        )
        .await,
        "not_a_video"
    );
    assert_eq!(
        scalar(&db, &format!("SELECT state AS v FROM jobs WHERE payload->>'video_id' = '{video}' AND queue = 'transcode'")).await,
        "failed"
    );
    assert_eq!(
        scalar(&db, &format!("SELECT attempts::text AS v FROM jobs WHERE payload->>'video_id' = '{video}' AND queue = 'transcode'")).await,
        "1"
    );

    // Quota: 10 MiB used of 62 MB; active uploads count too.
    let res = tus.create(50_000_000, "").await;
    assert_eq!(res.status().as_u16(), 201);
    let big = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        problem(tus.create(2_000_000, "").await).await,
        (413, "quota_exceeded".into())
    );
    // Termination frees it.
    assert_eq!(
        tus.patch(&big, 0, bytes(6 * MIB, 9), &[])
            .await
            .status()
            .as_u16(),
        204
    );
    assert_eq!(
        tus.req(Method::DELETE, &big)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        204
    );
    assert_eq!(
        tus.req(Method::HEAD, &big)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        problem(tus.patch(&big, 6 * MIB, bytes(10, 1), &[]).await)
            .await
            .0,
        404
    );

    // creation-with-upload: the whole body in the POST.
    let small = bytes(1000, 5);
    let res = tus
        .req(Method::POST, &uploads)
        .header("Upload-Length", "1000")
        .header("Content-Type", "application/offset+octet-stream")
        .body(small.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 201);
    assert_eq!(res.headers()["upload-offset"], "1000");
    let small_video = res.headers()["kadr-video-id"].to_str().unwrap().to_owned();
    assert_eq!(source_sha256(&base, &tus.token, &small_video).await.1, 1000);

    // Expiry: an upload past its time answers 410 and the janitor cleans it up.
    let res = tus.create(6 * MIB, "").await;
    let stale = res.headers()["location"].to_str().unwrap().to_owned();
    assert_eq!(
        tus.patch(&stale, 0, bytes(100, 2), &[])
            .await
            .status()
            .as_u16(),
        204
    );
    db.execute_unprepared(&format!(
        "UPDATE uploads SET expires_at = now() - interval '1 minute' WHERE id = '{}'",
        id_of(&stale)
    ))
    .await
    .unwrap();
    assert_eq!(
        problem(tus.req(Method::HEAD, &stale).send().await.unwrap())
            .await
            .0,
        410
    );
    let mut state = String::new();
    for _ in 0..100 {
        state = scalar(
            &db,
            &format!(
                "SELECT state AS v FROM uploads WHERE id = '{}'",
                id_of(&stale)
            ),
        )
        .await;
        if state == "expired" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(state, "expired");
    assert_eq!(
        problem(tus.req(Method::HEAD, &stale).send().await.unwrap())
            .await
            .0,
        410
    );
    if let Some(s3) = &stack.s3 {
        assert_eq!(
            s3.unfinished_uploads().await.unwrap(),
            0,
            "terminated and expired multipart uploads are aborted"
        );
    } else {
        let left = stack.dir.path().join("var/media/uploads");
        let files = walk(&left);
        assert!(files.is_empty(), "no upload files left: {files:?}");
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flat_map(|e| {
            let p = e.unwrap().path();
            if p.is_dir() { walk(&p) } else { vec![p] }
        })
        .collect()
}

fn b64_digest_sha256(data: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(data))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_local_disk() {
    bad_input_is_refused_and_loses_nothing(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_on_s3() {
    bad_input_is_refused_and_loses_nothing(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn bad_input_on_seaweedfs() {
    bad_input_is_refused_and_loses_nothing(Backend::Seaweed).await;
}

/// A PATCH whose body breaks after its last byte (a client that timed out just as it
/// finished): every byte arrived, so the upload is complete, not left "active" with an offset
/// equal to its length (which tus clients read as done, and nothing would ever finish it).
async fn a_body_broken_after_its_last_byte_completes(backend: Backend) {
    let stack = Stack::start(backend, &[]).await;
    let base = stack.url("");
    let tus = Tus {
        base: base.clone(),
        token: register_and_login(&base, &format!("broken-{backend:?}")).await,
    };
    let len = 3 * MIB / 2;
    let res = tus.create(len, "filename Y2xpcC5tcDQ=").await;
    assert_eq!(res.status().as_u16(), 201);
    let url = res.headers()["location"].to_str().unwrap().to_owned();
    let data: Vec<u8> = (0..len).map(|i| (i * 7 % 251) as u8).collect();
    // Chunked (no Content-Length): the connection drops after the last byte, before the end
    // of the chunked body.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = vec![
        Ok(data[..MIB].to_vec()),
        Ok(data[MIB..].to_vec()),
        Err(std::io::Error::other("client gave up")),
    ];
    let sent = tus
        .req(Method::PATCH, &url)
        .header("Upload-Offset", "0")
        .header("Content-Type", "application/offset+octet-stream")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await;
    assert!(sent.is_err(), "the body was cut: {sent:?}");
    // What the client sees when it comes back, and what the server did with it (once the
    // server is done with the broken request).
    let db = stack.db().await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let offset = tus.offset(&url).await;
    let state = scalar(&db, "SELECT state AS v FROM uploads").await;
    if offset == len as u64 {
        assert_eq!(
            state, "complete",
            "every byte arrived: the upload is complete"
        );
    } else {
        // Kept less: the client sends the rest and the upload completes.
        let res = tus
            .patch(&url, offset as usize, data[offset as usize..].to_vec(), &[])
            .await;
        assert_eq!(res.status().as_u16(), 204);
        assert_eq!(
            scalar(&db, "SELECT state AS v FROM uploads").await,
            "complete"
        );
    }
    let status = scalar(&db, "SELECT status AS v FROM videos").await;
    assert_ne!(status, "awaiting_upload");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_body_after_the_last_byte_on_local_disk() {
    a_body_broken_after_its_last_byte_completes(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_body_after_the_last_byte_on_s3() {
    a_body_broken_after_its_last_byte_completes(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn broken_body_after_the_last_byte_on_seaweedfs() {
    a_body_broken_after_its_last_byte_completes(Backend::Seaweed).await;
}
