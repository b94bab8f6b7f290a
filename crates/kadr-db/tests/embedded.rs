#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The embedded cluster: first start initialises, a second start reuses the data, a crash's
//! leftovers (stale pid file, orphaned postmaster) are handled, and a stop leaves no process.

use std::time::Duration;

use kadr_db::embedded::{EmbeddedError, EmbeddedOptions, EmbeddedPostgres, PgBinaries};
use sea_orm::{ConnectionTrait, Database, Statement};

async fn count_rows(url: &str) -> i64 {
    let db = Database::connect(url).await.unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            sea_orm::DatabaseBackend::Postgres,
            "SELECT count(*) AS n FROM marks",
        ))
        .await
        .unwrap()
        .unwrap();
    let n: i64 = row.try_get("", "n").unwrap();
    db.close().await.unwrap();
    n
}

fn alive(pid: u32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), None).is_ok()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| {
                s.rsplit(')')
                    .next()
                    .unwrap_or("")
                    .trim_start()
                    .starts_with('Z')
            })
            .unwrap_or(true)
}

#[tokio::test]
async fn start_stop_restart_reuses_data_and_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let opts = EmbeddedOptions { throwaway: true };

    let pg = EmbeddedPostgres::start(dir.path(), opts.clone())
        .await
        .unwrap();
    assert!(pg.url().contains("host="), "unix socket URL: {}", pg.url());
    assert!(!pg.url().contains("127.0.0.1"));
    let db = Database::connect(pg.url()).await.unwrap();
    db.execute_unprepared("CREATE TABLE marks (id int); INSERT INTO marks VALUES (1)")
        .await
        .unwrap();
    db.close().await.unwrap();
    let pid = pg.pid().unwrap();
    pg.stop(Duration::from_secs(10)).await.unwrap();
    assert!(!alive(pid), "postmaster {pid} still running after stop");
    assert!(!dir.path().join("postgres/postmaster.pid").exists());

    // Second start: same cluster, same data.
    let pg = EmbeddedPostgres::start(dir.path(), opts.clone())
        .await
        .unwrap();
    assert_eq!(count_rows(pg.url()).await, 1);

    // Crash: the postmaster is killed outright and leaves its pid file behind.
    let pid = pg.pid().unwrap();
    std::mem::forget(pg);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid as i32),
        nix::sys::signal::Signal::SIGKILL,
    )
    .unwrap();
    // Reap it as init would have once the crashed owner was gone.
    nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid as i32), None).unwrap();
    // Children of a killed postmaster leave shortly after; give them a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(dir.path().join("postgres/postmaster.pid").exists());
    let pg = EmbeddedPostgres::start(dir.path(), opts.clone())
        .await
        .unwrap();
    assert_eq!(count_rows(pg.url()).await, 1);

    // Orphan: the process that owned the cluster vanished but its postmaster still runs.
    let orphan = pg.pid().unwrap();
    std::mem::forget(pg);
    assert!(alive(orphan));
    let pg = EmbeddedPostgres::start(dir.path(), opts).await.unwrap();
    assert!(!alive(orphan), "the orphaned postmaster was stopped");
    assert_eq!(count_rows(pg.url()).await, 1);
    pg.stop(Duration::from_secs(10)).await.unwrap();
}

#[test]
fn missing_binaries_say_how_to_install() {
    let err = PgBinaries::find_in(vec![std::path::PathBuf::from("/nonexistent")]).unwrap_err();
    assert!(matches!(err, EmbeddedError::BinariesNotFound));
    assert!(
        err.to_string().contains("apt-get install postgresql"),
        "{err}"
    );
}

#[tokio::test]
async fn test_databases_are_isolated() {
    let a = kadr_db::testing::TestDatabase::new().await.unwrap();
    let db = Database::connect(a.url()).await.unwrap();
    db.execute_unprepared("CREATE TABLE marks (id int)")
        .await
        .unwrap();
    let b = kadr_db::testing::TestDatabase::new().await.unwrap();
    assert_ne!(a.url(), b.url());
    let other = Database::connect(b.url()).await.unwrap();
    assert!(
        other
            .execute_unprepared("SELECT * FROM marks")
            .await
            .is_err()
    );
}
