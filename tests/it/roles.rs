//! The `kadr` binary as an operator runs it: `kadr all` with its own Postgres, each role on its
//! own against Postgres + S3, configuration errors, and clean shutdown.

use std::time::Duration;

use crate::common::{Kadr, command, get, process_alive};
use kadr_db::testing::TestDatabase;
use kadr_storage::testing::S3TestServer;
use sea_orm::{ConnectionTrait, Database};

fn postmaster_pid(data_dir: &std::path::Path) -> Option<i32> {
    std::fs::read_to_string(data_dir.join("postgres/postmaster.pid"))
        .ok()?
        .lines()
        .next()?
        .trim()
        .parse()
        .ok()
}

fn embedded_url(data_dir: &std::path::Path) -> String {
    let sock = data_dir.canonicalize().unwrap().join("postgres");
    format!("postgres://kadr@localhost/kadr?host={}", sock.display())
}

#[tokio::test]
async fn all_runs_its_own_postgres_stops_cleanly_and_reuses_the_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("var");
    let start = || {
        Kadr::start(command(&[
            "all",
            "--data-dir",
            data.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ]))
    };

    let kadr = start();
    let (status, _, body) = get(&kadr.url("/readyz")).await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"database\":\"ok\""), "{body}");
    let (status, _, _) = get(&kadr.url("/healthz")).await;
    assert_eq!(status, 200);

    // Postgres runs from the data dir, on a unix socket only.
    let pg = postmaster_pid(&data).expect("postmaster.pid in <data-dir>/postgres");
    assert!(process_alive(pg));
    let cmdline = std::fs::read_to_string(format!("/proc/{pg}/cmdline")).unwrap();
    assert!(
        cmdline.contains("listen_addresses=\0"),
        "no TCP: {cmdline:?}"
    );
    assert!(data.join("postgres/.s.PGSQL.5432").exists());

    // Migrations ran at start; leave a mark to find after the restart.
    let db = Database::connect(embedded_url(&data)).await.unwrap();
    db.execute_unprepared(
        "INSERT INTO users (id, username, email, password_hash) \
         VALUES (gen_random_uuid(), 'marker', 'marker@example.org', 'x')",
    )
    .await
    .unwrap();
    db.close().await.unwrap();

    let (status, elapsed) = kadr.terminate(Duration::from_secs(10));
    assert!(status.success(), "{status}");
    assert!(elapsed < Duration::from_secs(10));
    assert!(!process_alive(pg), "postgres {pg} left running");
    assert!(postmaster_pid(&data).is_none());

    // A second start reuses the cluster and its data.
    let initdb_marker = std::fs::metadata(data.join("postgres/PG_VERSION"))
        .unwrap()
        .modified()
        .unwrap();
    let kadr = start();
    let (status, _, _) = get(&kadr.url("/readyz")).await;
    assert_eq!(status, 200);
    let db = Database::connect(embedded_url(&data)).await.unwrap();
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM users WHERE username = 'marker'",
        ))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 1);
    db.close().await.unwrap();
    assert_eq!(
        std::fs::metadata(data.join("postgres/PG_VERSION"))
            .unwrap()
            .modified()
            .unwrap(),
        initdb_marker
    );
    let (status, _) = kadr.terminate(Duration::from_secs(10));
    assert!(status.success());
}

#[test]
fn bad_config_exits_2_naming_the_key() {
    let out = command(&["all", "--data-dir", "/nonexistent"])
        .env("KADR_SERVER__LISTEN", "not-an-address")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(
        err.contains("server.listen") && err.contains("KADR_SERVER__LISTEN"),
        "{err}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("kadr.toml");
    std::fs::write(&file, "[queue]\nmax_attempts = \"many\"\n").unwrap();
    let out = command(&["--config", file.to_str().unwrap(), "worker"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("queue.max_attempts") && err.contains("kadr.toml"),
        "{err}"
    );

    let out = command(&["api"])
        .env("KADR_STORAGE__BACKEND", "ftp")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("storage.backend"));
}

#[test]
fn config_prints_the_effective_config_with_secrets_redacted() {
    let out = command(&["config"])
        .env("KADR_STORAGE__BACKEND", "s3")
        .env("KADR_STORAGE__S3__ACCESS_KEY_ID", "AKIDEXAMPLE")
        .env(
            "KADR_STORAGE__S3__SECRET_ACCESS_KEY",
            "wJalrXUtnFEMI-very-secret",
        )
        .env(
            "KADR_DATABASE__URL",
            "postgres://kadr:db-password@db.internal/kadr",
        )
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("backend = \"s3\""), "{text}");
    assert!(text.contains("AKIDEXAMPLE"));
    assert!(
        !text.contains("very-secret") && !text.contains("db-password"),
        "{text}"
    );
    assert!(
        text.contains("postgres://kadr:<redacted>@db.internal/kadr"),
        "{text}"
    );
}

#[tokio::test]
async fn each_role_runs_on_its_own_against_postgres_and_s3() {
    let tdb = TestDatabase::new().await.unwrap();
    let s3 = S3TestServer::start().await.unwrap();
    let env = |cmd: &mut std::process::Command| {
        cmd.env("KADR_DATABASE__URL", tdb.url())
            .env("KADR_STORAGE__BACKEND", "s3")
            .env("KADR_STORAGE__S3__ENDPOINT", s3.endpoint())
            .env("KADR_STORAGE__S3__BUCKET", &s3.bucket)
            .env("KADR_STORAGE__S3__ACCESS_KEY_ID", &s3.access_key_id)
            .env("KADR_STORAGE__S3__SECRET_ACCESS_KEY", &s3.secret_access_key)
            .env(
                "KADR_API__MEDIA_SECRET",
                "a-media-key-shared-by-every-api-replica",
            )
            .env("KADR_UPLOAD_API__LISTEN", "127.0.0.1:0")
            .env("KADR_API__LISTEN", "127.0.0.1:0")
            .env("KADR_WORKER__LISTEN", "127.0.0.1:0");
    };

    let mut migrate = command(&["migrate", "up"]);
    env(&mut migrate);
    let out = migrate.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut status = command(&["migrate", "status"]);
    env(&mut status);
    let out = status.output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("applied m20261123_000001_initial"), "{text}");

    for role in ["upload-api", "api", "worker"] {
        let mut cmd = command(&[role]);
        env(&mut cmd);
        let kadr = Kadr::start(cmd);
        let (code, _, body) = get(&kadr.url("/readyz")).await;
        assert_eq!(code, 200, "{role}: {body}");
        let (code, ctype, body) = get(&kadr.url("/metrics")).await;
        assert_eq!(code, 200);
        assert!(ctype.starts_with("text/plain"));
        assert!(
            body.contains(
                "kadr_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"200\"} 1"
            ),
            "{body}"
        );
        let (status, elapsed) = kadr.terminate(Duration::from_secs(10));
        assert!(status.success(), "{role}: {status}");
        assert!(elapsed < Duration::from_secs(10));
    }
}

#[tokio::test]
async fn readyz_fails_with_a_problem_when_storage_is_unreachable() {
    let tdb = TestDatabase::new().await.unwrap();
    // A port nobody listens on.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut cmd = command(&["api"]);
    cmd.env("KADR_DATABASE__URL", tdb.url())
        .env("KADR_API__LISTEN", "127.0.0.1:0")
        .env("KADR_STORAGE__BACKEND", "s3")
        .env("KADR_STORAGE__S3__ENDPOINT", format!("http://{closed}"))
        .env("KADR_STORAGE__S3__ACCESS_KEY_ID", "x")
        .env("KADR_STORAGE__S3__SECRET_ACCESS_KEY", "y")
        .env(
            "KADR_API__MEDIA_SECRET",
            "a-media-key-shared-by-every-api-replica",
        );
    let kadr = Kadr::start(cmd);
    let (code, _, _) = get(&kadr.url("/healthz")).await;
    assert_eq!(code, 200, "the process is up");
    let (code, ctype, body) = get(&kadr.url("/readyz")).await;
    assert_eq!(code, 503);
    assert_eq!(ctype, "application/problem+json");
    let problem: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(problem["code"], "unavailable");
    assert!(
        problem["detail"].as_str().unwrap().contains("storage"),
        "{body}"
    );
    assert!(
        !problem["detail"].as_str().unwrap().contains("database"),
        "{body}"
    );
}

/// Replicas of `kadr api` on S3 must share one media key: without `api.media_secret` the role
/// refuses to start and says why (`kadr all`, one process, keeps its key in its data dir).
#[test]
fn api_on_s3_needs_a_media_secret() {
    let out = command(&["api"])
        .env("KADR_DATABASE__URL", "postgres://kadr@127.0.0.1:1/kadr")
        .env("KADR_API__LISTEN", "127.0.0.1:0")
        .env("KADR_STORAGE__BACKEND", "s3")
        .env("KADR_STORAGE__S3__ENDPOINT", "http://127.0.0.1:1")
        .env("KADR_STORAGE__S3__ACCESS_KEY_ID", "x")
        .env("KADR_STORAGE__S3__SECRET_ACCESS_KEY", "y")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("KADR_API__MEDIA_SECRET"), "{err}");
    assert!(err.contains("every api replica"), "{err}");
}

#[test]
fn roles_other_than_all_need_a_database_url() {
    let out = command(&["api"])
        .env("KADR_API__LISTEN", "127.0.0.1:0")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("KADR_DATABASE__URL"));
}

/// `kadr all` keeps its embedded Postgres running: killed, it is started again on the same
/// data; requests answer 503 meanwhile and then work again, with nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn all_restarts_its_postgres_when_it_dies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("var");
    let mut cmd = command(&[
        "all",
        "--data-dir",
        data.to_str().unwrap(),
        "--listen",
        "127.0.0.1:0",
    ]);
    cmd.env("KADR_ADMIN_PASSWORD", crate::common::ADMIN_PASSWORD);
    let kadr = Kadr::start(cmd);
    let base = kadr.url("");
    let token = crate::common::register_and_login(&base, "survivor").await;
    let first = postmaster_pid(&data).unwrap();
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(first),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    let started = std::time::Instant::now();
    loop {
        let again = postmaster_pid(&data).filter(|p| *p != first && process_alive(*p));
        let (status, _, _) = get(&kadr.url("/readyz")).await;
        if again.is_some() && status == 200 {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "Postgres not back: {}",
            kadr.log()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(kadr.log().contains("starting it again"), "{}", kadr.log());
    // The account made before is there; its token still works.
    let (status, me) = crate::common::get_json(&format!("{base}/api/v1/me"), Some(&token)).await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "survivor");
    let (status, elapsed) = kadr.terminate(Duration::from_secs(30));
    assert!(status.success(), "{status}");
    assert!(elapsed < Duration::from_secs(30));
    let last = postmaster_pid(&data);
    assert!(
        last.is_none_or(|p| !process_alive(p)),
        "Postgres left running"
    );
}
