//! Kadr's database layer: the connection pool, the embedded Postgres cluster, and throwaway
//! clusters for tests.

pub mod embedded;
pub mod entities;
pub mod testing;

use std::time::Duration;

use kadr_config::DatabaseConfig;
pub use sea_orm::DatabaseConnection;
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbErr};

/// Opens a pool on `url` with the pool settings of `config`.
pub async fn connect(url: &str, config: &DatabaseConfig) -> Result<DatabaseConnection, DbErr> {
    let mut opts = ConnectOptions::new(url.to_owned());
    opts.max_connections(config.max_connections)
        .min_connections(0)
        .connect_timeout(Duration::from_secs(config.connect_timeout_secs))
        .acquire_timeout(Duration::from_secs(config.connect_timeout_secs))
        .sqlx_logging(false);
    Database::connect(opts).await
}

/// Readiness: the database answers a trivial query.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.execute_unprepared("SELECT 1").await.map(|_| ())
}
