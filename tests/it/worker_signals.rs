//! `kadr worker` and signals: killed with SIGKILL mid-transcode, its job is claimed by a second
//! worker once the lease lapses and the video ends ready; with SIGTERM it exits within its
//! grace, hands the job back, and the job completes later.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::{Kadr, command, register_and_login};
use kadr_db::testing::TestDatabase;
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};

struct Setup {
    tdb: TestDatabase,
    dir: tempfile::TempDir,
    api: Kadr,
    token: String,
}

fn env(cmd: &mut Command, tdb: &TestDatabase, dir: &std::path::Path) {
    cmd.env("KADR_DATABASE__URL", tdb.url())
        .env("KADR_STORAGE__LOCAL__ROOT", dir.join("media"))
        .env("KADR_DATA_DIR", dir.join("var"))
        .env("KADR_UPLOAD_API__LISTEN", "127.0.0.1:0")
        .env("KADR_WORKER__LISTEN", "127.0.0.1:0")
        .env("KADR_QUEUE__LEASE_SECS", "4")
        .env("KADR_QUEUE__HEARTBEAT_SECS", "1")
        .env("KADR_QUEUE__POLL_INTERVAL_MS", "200")
        .env("KADR_QUEUE__BACKOFF_BASE_SECS", "0")
        .env("KADR_ADMIN_PASSWORD", "signals-admin-1");
}

async fn setup() -> Setup {
    let tdb = TestDatabase::new().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut migrate = command(&["migrate", "up"]);
    env(&mut migrate, &tdb, dir.path());
    assert!(migrate.output().unwrap().status.success());
    let mut api = command(&["upload-api"]);
    env(&mut api, &tdb, dir.path());
    let api = tokio::task::spawn_blocking(move || Kadr::start(api))
        .await
        .unwrap();
    let token = register_and_login(&api.url(""), "signals").await;
    Setup {
        tdb,
        dir,
        api,
        token,
    }
}

fn worker(s: &Setup, grace: &str) -> Kadr {
    let mut cmd = command(&["worker"]);
    env(&mut cmd, &s.tdb, s.dir.path());
    cmd.env("KADR_WORKER__SHUTDOWN_GRACE_SECS", grace);
    Kadr::start(cmd)
}

/// A 40 s 720p clip: long enough to be caught mid-transcode.
fn upload_long(s: &Setup) -> String {
    let file = s.dir.path().join("long.mp4");
    crate::common::testsrc(&file, "1280x720", 30, 40, &[]);
    crate::common::upload_to(
        &s.api.url(""),
        &s.dir.path().join("state"),
        &s.token,
        &file,
        &["--title", "long"],
    )
}

async fn row(db: &DatabaseConnection, sql: &str) -> sea_orm::QueryResult {
    db.query_one_raw(sea_orm::Statement::from_string(
        sea_orm::DatabaseBackend::Postgres,
        sql,
    ))
    .await
    .unwrap()
    .unwrap()
}

async fn wait_for(db: &DatabaseConnection, video: &str, what: &str, secs: u64) {
    let started = Instant::now();
    loop {
        let r = row(
            db,
            &format!("SELECT status, progress FROM videos WHERE id = '{video}'"),
        )
        .await;
        let status: String = r.try_get("", "status").unwrap();
        let progress: i16 = r.try_get("", "progress").unwrap();
        let reached = match what {
            "transcoding" => status == "processing" && progress > 0,
            other => status == other,
        };
        if reached {
            return;
        }
        assert_ne!(status, "failed");
        assert!(
            started.elapsed() < Duration::from_secs(secs),
            "waiting for {what}, still {status} {progress}%"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_transcode_then_another_worker_finishes() {
    let s = setup().await;
    let db = Database::connect(s.tdb.url()).await.unwrap();
    let video = upload_long(&s);
    let first = worker(&s, "30");
    wait_for(&db, &video, "transcoding", 60).await;
    kill(Pid::from_raw(first.pid() as i32), Signal::SIGKILL).unwrap();
    drop(first);
    let _second = worker(&s, "30");
    wait_for(&db, &video, "ready", 180).await;
    let job = row(
        &db,
        &format!("SELECT state, attempts FROM jobs WHERE payload->>'video_id' = '{video}'"),
    )
    .await;
    assert_eq!(job.try_get::<String>("", "state").unwrap(), "done");
    assert_eq!(
        job.try_get::<i32>("", "attempts").unwrap(),
        2,
        "claimed again after the lease lapsed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_mid_transcode_exits_within_the_grace_and_the_job_completes_later() {
    let s = setup().await;
    let db = Database::connect(s.tdb.url()).await.unwrap();
    let video = upload_long(&s);
    let first = worker(&s, "1");
    wait_for(&db, &video, "transcoding", 60).await;
    let (status, took) = first.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(6),
        "took {took:?} with a 1 s grace"
    );
    let job = row(
        &db,
        &format!("SELECT state, attempts FROM jobs WHERE payload->>'video_id' = '{video}'"),
    )
    .await;
    assert_eq!(
        job.try_get::<String>("", "state").unwrap(),
        "queued",
        "handed back"
    );
    assert_eq!(
        job.try_get::<i32>("", "attempts").unwrap(),
        0,
        "the cancelled attempt does not count"
    );
    let v = row(
        &db,
        &format!("SELECT status FROM videos WHERE id = '{video}'"),
    )
    .await;
    assert_eq!(v.try_get::<String>("", "status").unwrap(), "queued");

    let _second = worker(&s, "30");
    wait_for(&db, &video, "ready", 180).await;
}
