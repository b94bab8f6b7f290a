//! Throwaway databases for tests.
//!
//! With `KADR_TEST_DATABASE_URL` set (a server where the user may create databases), each test
//! gets a fresh database on that server. Without it, each test starts its own throwaway cluster
//! in a temporary directory, stopped and removed when the [`TestDatabase`] is dropped.

use std::sync::atomic::{AtomicU32, Ordering};

use sqlx::postgres::PgConnectOptions;

use crate::embedded::{
    EmbeddedError, EmbeddedOptions, EmbeddedPostgres, create_database_if_missing,
};

/// Environment variable naming a shared test server.
pub const TEST_DATABASE_URL_ENV: &str = "KADR_TEST_DATABASE_URL";

/// A fresh, empty database; its cluster (if it started one) lives as long as it does.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    // Field order matters: the cluster stops before its directory is removed.
    cluster: Option<EmbeddedPostgres>,
    _dir: Option<tempfile::TempDir>,
}

impl TestDatabase {
    pub async fn new() -> Result<TestDatabase, EmbeddedError> {
        static COUNTER: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "kadr_test_{}_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0)
        );
        if let Ok(server) = std::env::var(TEST_DATABASE_URL_ENV) {
            let opts: PgConnectOptions = server.parse()?;
            create_database_if_missing(opts, &name).await?;
            let url = replace_database(&server, &name);
            return Ok(TestDatabase {
                url,
                cluster: None,
                _dir: None,
            });
        }
        let dir = tempfile::Builder::new()
            .prefix("kadr-test-pg-")
            .tempdir()
            .map_err(|source| EmbeddedError::Io {
                what: "creating a temporary directory".to_owned(),
                source,
            })?;
        let cluster =
            EmbeddedPostgres::start(dir.path(), EmbeddedOptions { throwaway: true }).await?;
        let url = cluster.create_database(&name).await?;
        Ok(TestDatabase {
            url,
            cluster: Some(cluster),
            _dir: Some(dir),
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The cluster this test started, if it started one.
    pub fn cluster(&self) -> Option<&EmbeddedPostgres> {
        self.cluster.as_ref()
    }
}

/// `postgres://u@h/old?x=y` → `postgres://u@h/new?x=y`.
fn replace_database(url: &str, database: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            u.set_path(database);
            u.to_string()
        }
        Err(_) => url.to_owned(),
    }
}
