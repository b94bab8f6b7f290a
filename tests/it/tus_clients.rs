//! The official tus clients upload to Kadr, are interrupted mid-way, resume from the offset
//! the server reports, and the original downloads with the same SHA-256: tus-js-client (Node)
//! and tuspy (Python, with sha1 checksums), on local disk and on S3.

use std::path::{Path, PathBuf};

use crate::common::{
    Backend, Stack, bunny, http, make_file, register_and_login, sha256_file, source_sha256,
};

#[derive(Debug, Clone, Copy)]
enum Client {
    TusJs,
    TusPy,
}

const MIB: usize = 1024 * 1024;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs a client script; returns the upload URL and the offset the resumed upload started at.
async fn upload(
    client: Client,
    endpoint: &str,
    token: &str,
    file: &Path,
    chunk: usize,
    stop: usize,
) -> (String, u64) {
    let mut cmd = match client {
        Client::TusJs => {
            assert!(
                repo().join("tests/tus/node_modules/tus-js-client").is_dir(),
                "tus-js-client is not installed: run `make test-deps`"
            );
            let mut c = tokio::process::Command::new("node");
            c.arg(repo().join("tests/tus/upload.mjs"));
            c
        }
        Client::TusPy => {
            let python = repo().join("target/tus-venv/bin/python");
            assert!(
                python.is_file(),
                "tuspy is not installed: run `make test-deps`"
            );
            let mut c = tokio::process::Command::new(python);
            c.arg(repo().join("tests/tus/upload.py"));
            c
        }
    };
    let out = cmd
        .args([
            endpoint,
            token,
            file.to_str().unwrap(),
            &chunk.to_string(),
            &stop.to_string(),
        ])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{client:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let line = String::from_utf8_lossy(&out.stdout);
    let v: serde_json::Value = serde_json::from_str(line.trim().lines().last().unwrap()).unwrap();
    (
        v["url"].as_str().unwrap().to_owned(),
        v["resumedFrom"].as_u64().unwrap(),
    )
}

async fn video_of(upload_url: &str, token: &str) -> String {
    let res = http()
        .head(upload_url)
        .bearer_auth(token)
        .header("Tus-Resumable", "1.0.0")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.headers()["kadr-video-id"].to_str().unwrap().to_owned()
}

async fn upload_interrupt_resume(backend: Backend, client: Client) {
    let stack = Stack::start(backend, &[]).await;
    let base = stack.url("");
    let token = register_and_login(&base, &format!("{client:?}-{backend:?}").to_lowercase()).await;
    let big = stack.dir.path().join("generated-200MiB.bin");
    make_file(&big, 200 * MIB, 0x6b61_6472);
    // Chunk sizes that are not multiples of S3's 5 MiB part floor.
    let big_chunk = match client {
        Client::TusJs => 3 * MIB + 7,
        Client::TusPy => 7 * MIB + 3,
    };
    let cases = [(bunny(), 300_007, 500_000), (big, big_chunk, 90 * MIB)];
    for (file, chunk, stop) in cases {
        let size = std::fs::metadata(&file).unwrap().len();
        let (url, resumed_from) = upload(
            client,
            &stack.url("/api/v1/uploads"),
            &token,
            &file,
            chunk,
            stop,
        )
        .await;
        assert!(
            resumed_from >= stop as u64 && resumed_from < size,
            "{client:?} really stopped mid-way and resumed: from {resumed_from} of {size}"
        );
        let video = video_of(&url, &token).await;
        let (sha, len) = source_sha256(&base, &token, &video).await;
        assert_eq!(len, size, "{}", file.display());
        assert_eq!(sha, sha256_file(&file), "{} on {backend:?}", file.display());
    }
    if let Some(s3) = &stack.s3 {
        assert_eq!(
            s3.unfinished_uploads().await.unwrap(),
            0,
            "no multipart upload left behind"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tus_js_client_on_local_disk() {
    upload_interrupt_resume(Backend::Local, Client::TusJs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tus_js_client_on_s3() {
    upload_interrupt_resume(Backend::S3, Client::TusJs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn tus_js_client_on_seaweedfs() {
    upload_interrupt_resume(Backend::Seaweed, Client::TusJs).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tuspy_on_local_disk() {
    upload_interrupt_resume(Backend::Local, Client::TusPy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tuspy_on_s3() {
    upload_interrupt_resume(Backend::S3, Client::TusPy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn tuspy_on_seaweedfs() {
    upload_interrupt_resume(Backend::Seaweed, Client::TusPy).await;
}
