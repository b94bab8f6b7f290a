//! Kadr's database layer: the connection pool, the embedded Postgres cluster, and throwaway
//! clusters for tests.

pub mod embedded;

pub mod testing;

use std::time::Duration;

use kadr_config::DatabaseConfig;
pub use sea_orm::DatabaseConnection;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbErr};

/// Opens a pool on `url` with the pool settings of `config`.
/// Every statement of the pool is cut off after `database.statement_timeout_ms`, so a stuck
/// query cannot hold a connection (and the request waiting on it) forever.
pub async fn connect(url: &str, config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    connect_with_timeout(url, config, config.statement_timeout_ms).await
}

/// A pool for migrations, which may rewrite whole tables: no statement timeout.
pub async fn connect_for_migrations(
    url: &str,
    config: &DatabaseConfig,
) -> Result<DatabaseConnection, DbErr> {
    connect_with_timeout(url, config, 0).await
}

async fn connect_with_timeout(
    url: &str,
    config: &DatabaseConfig,
    statement_timeout_ms: u64,
) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(config.max_connections)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
        .acquire_timeout(Duration::from_secs(config.connect_timeout_secs))
        .sqlx_logging(false)
        .map_sqlx_postgres_opts(move |o| {
            o.options([("statement_timeout", format!("{statement_timeout_ms}ms"))])
        });
    Database::connect(opts).await
}

/// Readiness: the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}
