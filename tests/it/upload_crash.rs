//! An upload-api process is killed with SIGKILL in the middle of an upload; another one is
//! started on the same database and storage, and the official client (tus-js-client, with its
//! retries) resumes and finishes: the original has the same SHA-256, on disk and on S3.

use std::time::{Duration, Instant};

use crate::common::{
    Backend, Kadr, command, make_file, register_and_login, s3_env, sha256_file, source_sha256,
};
use kadr_db::testing::TestDatabase;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sea_orm::{ConnectionTrait, Database, DatabaseBackend, Statement};

const MIB: usize = 1024 * 1024;

async fn killed_mid_upload(backend: Backend) {
    let tdb = TestDatabase::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s3 = crate::common::s3_server(backend).await;
    let media = dir.path().join("media");
    let upload_api = |listen: &str| {
        let mut cmd = command(&["upload-api"]);
        cmd.env("KADR_DATABASE__URL", tdb.url())
            .env("KADR_UPLOAD_API__LISTEN", listen)
            .env("KADR_STORAGE__LOCAL__ROOT", &media)
            .env("KADR_ADMIN_PASSWORD", "not-used-here-1");
        if let Some(s3) = &s3 {
            s3_env(&mut cmd, s3);
        }
        cmd
    };
    let mut migrate = command(&["migrate", "up"]);
    migrate.env("KADR_DATABASE__URL", tdb.url());
    assert!(migrate.output().unwrap().status.success());

    let first = {
        let cmd = upload_api("127.0.0.1:0");
        tokio::task::spawn_blocking(move || Kadr::start(cmd))
            .await
            .unwrap()
    };
    let addr = first.addr;
    let base = first.url("");
    let token = register_and_login(&base, "crash-test").await;
    let file = dir.path().join("upload-200MiB.bin");
    make_file(&file, 200 * MIB, 42);

    // Small chunks so the upload spans many requests.
    let client = tokio::process::Command::new("node")
        .arg(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tus/upload.mjs"))
        .args([
            &format!("{base}/api/v1/uploads"),
            &token,
            file.to_str().unwrap(),
            &(MIB + 1).to_string(),
            "0",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();

    // Kill the server once a good part is durably stored.
    let db = Database::connect(tdb.url()).await.unwrap();
    let started = Instant::now();
    let killed_at = loop {
        let row = db
            .query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT offset_bytes, length FROM uploads ORDER BY created_at DESC LIMIT 1",
            ))
            .await
            .unwrap();
        if let Some(row) = row {
            let offset: i64 = row.try_get("", "offset_bytes").unwrap();
            let length: i64 = row.try_get("", "length").unwrap();
            assert!(
                offset < length,
                "the upload finished before the kill; make it slower"
            );
            if offset >= 32 * MIB as i64 {
                kill(Pid::from_raw(first.pid() as i32), Signal::SIGKILL).unwrap();
                break offset;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the upload never got going"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    drop(first);

    // Another process on the same address, database and storage.
    let second = {
        let cmd = upload_api(&addr.to_string());
        tokio::task::spawn_blocking(move || Kadr::start(cmd))
            .await
            .unwrap()
    };
    let out = tokio::time::timeout(Duration::from_secs(300), client.wait_with_output())
        .await
        .expect("the client finished")
        .unwrap();
    assert!(
        out.status.success(),
        "client: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: serde_json::Value = serde_json::from_str(
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .lines()
            .last()
            .unwrap(),
    )
    .unwrap();
    assert!(
        result["retries"].as_u64().unwrap() >= 1,
        "the client saw the crash: {result}"
    );

    // One upload, resumed (not restarted), complete, and byte for byte the file.
    let row = db
        .query_one_raw(Statement::from_string(
            DatabaseBackend::Postgres,
            "SELECT count(*) AS n, min(state) AS state, min(video_id::text) AS video FROM uploads",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 1);
    assert_eq!(row.try_get::<String>("", "state").unwrap(), "complete");
    let video: String = row.try_get("", "video").unwrap();
    assert!(
        result["url"].as_str().unwrap().ends_with(
            &db.query_one_raw(Statement::from_string(
                DatabaseBackend::Postgres,
                "SELECT id::text AS id FROM uploads"
            ))
            .await
            .unwrap()
            .unwrap()
            .try_get::<String>("", "id")
            .unwrap()
        )
    );
    let (sha, len) = source_sha256(&second.url(""), &token, &video).await;
    assert_eq!(len, 200 * MIB as u64);
    assert_eq!(sha, sha256_file(&file), "killed at offset {killed_at}");
    if let Some(s3) = &s3 {
        assert_eq!(s3.unfinished_uploads().await.unwrap(), 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_upload_on_local_disk() {
    killed_mid_upload(Backend::Local).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_upload_on_s3() {
    killed_mid_upload(Backend::S3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn sigkill_mid_upload_on_seaweedfs() {
    killed_mid_upload(Backend::Seaweed).await;
}
