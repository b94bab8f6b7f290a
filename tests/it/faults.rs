//! Faults a scaled-out Kadr survives, on the replicated topology of `replicas.rs`: Postgres
//! restarted during an upload and a transcode, SeaweedFS stopped for 30 s during a transcode
//! and an upload, a worker killed on the same job until its attempts are spent. Requests fail
//! with 503 while a part is away, then everything goes on without restarting Kadr: no
//! acknowledged byte lost, no video failed that should not be, no job left hanging.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::common::{ADMIN_PASSWORD, Kadr, get_json, sha256_file, source_sha256};
use crate::replicas::{
    Cluster, S3Place, eventually, long_clip, query, register, running_transcode, seaweed, sigkill,
    token, tus_create, tus_offset, tus_patch, video_status,
};

async fn verified_user(upload_api: &Kadr, name: &str) -> String {
    register(&upload_api.url(""), name).await;
    let t = token(&upload_api.url(""), name).await;
    let admin = crate::common::login(&upload_api.url(""), "admin", ADMIN_PASSWORD).await;
    crate::common::admin_sets(&upload_api.url(""), &admin, &t, json!({ "verified": true })).await;
    t
}

async fn video_of_upload(cluster: &Cluster, path: &str) -> String {
    let id = path.rsplit('/').next().unwrap();
    let rows = query(
        &cluster.db().await,
        &format!("SELECT video_id::text AS v FROM uploads WHERE id = '{id}'"),
    )
    .await;
    rows[0].try_get::<String>("", "v").unwrap()
}

/// Waits for `video` to be ready, failing at once if it is ever seen failed.
async fn ready_never_failed(api: &Kadr, token: &str, video: &str, limit: Duration) {
    let started = Instant::now();
    loop {
        let status = video_status(api, token, video).await;
        assert_ne!(status, "failed", "the video was failed by a passing outage");
        if status == "ready" {
            return;
        }
        assert!(
            started.elapsed() < limit,
            "not ready within {limit:?} ({status})"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn wait_running(cluster: &Cluster, video: &str) -> (String, u32) {
    let db = cluster.db().await;
    let started = Instant::now();
    loop {
        if let Some(found) = running_transcode(&db, video).await {
            return found;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "no worker took the transcode"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn postgres_restarted_during_an_upload_and_a_transcode() {
    let mut cluster = Cluster::start(S3Place::shared().await, &[]).await;
    let up = cluster.spawn("upload-api");
    let api = cluster.spawn("api");
    let _worker = cluster.spawn("worker");
    let alice = verified_user(&up, "alice").await;

    let clip = long_clip(cluster.dir.path(), 20);
    let bytes = std::fs::read(&clip).unwrap();
    let len = bytes.len() as u64;
    let third = len / 3;
    let path = tus_create(&up, &alice, "Through an outage", len).await;
    assert_eq!(
        tus_patch(&up, &alice, &path, 0, bytes[..third as usize].to_vec()).await,
        Ok(third)
    );

    // Postgres goes away: requests answer 503 (not hang, not 500), readiness says so.
    cluster.stop_postgres().await;
    let next = bytes[third as usize..(2 * third) as usize].to_vec();
    assert_eq!(
        tus_patch(&up, &alice, &path, third, next.clone()).await,
        Err(503)
    );
    assert_eq!(tus_offset(&up, &alice, &path).await, Err(503));
    let (status, problem) = get_json(&api.url("/api/v1/videos?sort=new"), None).await;
    assert_eq!(
        (status, problem["code"].as_str()),
        (503, Some("unavailable")),
        "{problem}"
    );
    for k in [&up, &api] {
        let (status, _) = get_json(&k.url("/readyz"), None).await;
        assert_eq!(status, 503);
    }

    // Back: the same processes serve again; the acknowledged third is there, the refused
    // PATCH left nothing; the upload completes.
    cluster.start_postgres().await;
    eventually(
        Duration::from_secs(60),
        "the upload API serves again",
        || async { tus_offset(&up, &alice, &path).await.is_ok() },
    )
    .await;
    assert_eq!(tus_offset(&up, &alice, &path).await, Ok(third));
    assert_eq!(
        tus_patch(&up, &alice, &path, third, next).await,
        Ok(2 * third)
    );
    assert_eq!(
        tus_patch(
            &up,
            &alice,
            &path,
            2 * third,
            bytes[(2 * third) as usize..].to_vec()
        )
        .await,
        Ok(len)
    );
    let video = video_of_upload(&cluster, &path).await;

    // And again while the transcode runs: it goes on or is retried, and ends ready.
    wait_running(&cluster, &video).await;
    cluster.stop_postgres().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    cluster.start_postgres().await;
    ready_never_failed(&api, &alice, &video, Duration::from_secs(240)).await;
    let (sha, size) = source_sha256(&up.url(""), &alice, &video).await;
    assert_eq!((sha, size), (sha256_file(&clip), len));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS; this test starts its own too)"]
async fn seaweedfs_stopped_for_30_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let s3_dir = dir.path().join("seaweed");
    // The production backoff (5 s doubling): retries outlast a 30 s outage.
    let cluster = Cluster::start(
        S3Place::own(&s3_dir),
        &[
            ("KADR_QUEUE__BACKOFF_BASE_SECS", "5"),
            ("KADR_QUEUE__BACKOFF_MAX_SECS", "60"),
        ],
    )
    .await;
    let up = cluster.spawn("upload-api");
    let api = cluster.spawn("api");
    let _worker = cluster.spawn("worker");
    let bob = verified_user(&up, "bob").await;

    // Video A is transcoding, upload B is a third in, when storage goes away.
    let clip = long_clip(cluster.dir.path(), 20);
    let bytes = std::fs::read(&clip).unwrap();
    let len = bytes.len() as u64;
    let path_a = tus_create(&up, &bob, "A", len).await;
    assert_eq!(
        tus_patch(&up, &bob, &path_a, 0, bytes.clone()).await,
        Ok(len)
    );
    let video_a = video_of_upload(&cluster, &path_a).await;
    let third = len / 3;
    let path_b = tus_create(&up, &bob, "B", len).await;
    assert_eq!(
        tus_patch(&up, &bob, &path_b, 0, bytes[..third as usize].to_vec()).await,
        Ok(third)
    );
    wait_running(&cluster, &video_a).await;
    seaweed("stop", &s3_dir);
    let down = Instant::now();
    let next = bytes[third as usize..].to_vec();
    assert_eq!(
        tus_patch(&up, &bob, &path_b, third, next.clone()).await,
        Err(503)
    );
    let (status, _) = get_json(&api.url("/readyz"), None).await;
    assert_eq!(status, 503);
    tokio::time::sleep(Duration::from_secs(30).saturating_sub(down.elapsed())).await;
    seaweed("start", &s3_dir);

    // B resumes where its acknowledged bytes end; A is retried and ends ready; B too.
    eventually(
        Duration::from_secs(60),
        "upload B answers again",
        || async { tus_offset(&up, &bob, &path_b).await.is_ok() },
    )
    .await;
    assert_eq!(tus_offset(&up, &bob, &path_b).await, Ok(third));
    assert_eq!(tus_patch(&up, &bob, &path_b, third, next).await, Ok(len));
    let video_b = video_of_upload(&cluster, &path_b).await;
    ready_never_failed(&api, &bob, &video_a, Duration::from_secs(300)).await;
    ready_never_failed(&api, &bob, &video_b, Duration::from_secs(300)).await;
    let (sha, _) = source_sha256(&up.url(""), &bob, &video_b).await;
    assert_eq!(sha, sha256_file(&clip));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs KADR_TEST_S3_ENDPOINT (make test starts SeaweedFS)"]
async fn a_worker_killed_on_every_attempt_fails_the_job_clearly() {
    let cluster = Cluster::start(
        S3Place::shared().await,
        &[("KADR_QUEUE__MAX_ATTEMPTS", "5")],
    )
    .await;
    let up = cluster.spawn("upload-api");
    let api = cluster.spawn("api");
    let carol = verified_user(&up, "carol").await;
    let clip = long_clip(cluster.dir.path(), 20);
    let bytes = std::fs::read(&clip).unwrap();
    let len = bytes.len() as u64;
    let path = tus_create(&up, &carol, "Killer clip", len).await;
    assert_eq!(tus_patch(&up, &carol, &path, 0, bytes).await, Ok(len));
    let video = video_of_upload(&cluster, &path).await;

    // Five workers in turn, each killed while it runs the transcode.
    let mut job = String::new();
    for attempt in 1..=5 {
        let worker = cluster.spawn("worker");
        let started = Instant::now();
        loop {
            let (id, pid) = wait_running(&cluster, &video).await;
            if pid == worker.pid() {
                job = id;
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "attempt {attempt} not taken"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        sigkill(&worker);
        assert_ne!(video_status(&api, &carol, &video).await, "ready");
    }
    // The next worker takes it only to record the failure: the video fails with a reason,
    // nothing is left running or queued.
    let _last = cluster.spawn("worker");
    eventually(
        Duration::from_secs(60),
        "the video fails after its attempts",
        || async { video_status(&api, &carol, &video).await == "failed" },
    )
    .await;
    let (_, v) = get_json(&api.url(&format!("/api/v1/videos/{video}")), Some(&carol)).await;
    assert!(
        v.to_string().contains("stopped on every attempt"),
        "a clear reason: {v}"
    );
    let row = &query(
        &cluster.db().await,
        &format!("SELECT state, attempts, last_error FROM jobs WHERE id = '{job}'"),
    )
    .await[0];
    assert_eq!(row.try_get::<String>("", "state").unwrap(), "failed");
    let error: String = row.try_get("", "last_error").unwrap();
    assert!(
        error.contains("lease expired") && error.contains("5 attempts"),
        "{error}"
    );
}
