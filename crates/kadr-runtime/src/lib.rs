//! What every Kadr process runs on, whatever it serves: the context (config, database,
//! storage), start-up errors, the process-wide shutdown signal, tracing and the metrics
//! registry. Nothing here knows HTTP.

pub mod metrics;
pub mod shutdown;
pub mod telemetry;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use kadr_config::{Config, StorageBackend};
use kadr_storage::{LocalOptions, S3Options, Storage, StorageError};
use sea_orm::DatabaseConnection;

/// Configuration, database and storage: what every service and job works with.
#[derive(Clone)]
pub struct Context {
    pub config: Arc<Config>,
    pub db: DatabaseConnection,
    pub storage: Arc<Storage>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(
        "database.url is not set: `kadr all` runs its own Postgres, the other roles need \
         KADR_DATABASE__URL (or database.url in the config file)"
    )]
    NoDatabaseUrl,
    #[error("cannot connect to the database: {0}")]
    Database(#[from] sea_orm::DbErr),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    /// Anything else a service needs before it can start.
    #[error("{0}")]
    Other(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

impl Context {
    /// Connects to the configured database and opens the configured storage.
    pub async fn open(config: Config) -> Result<Context, StartError> {
        let url = config
            .database
            .url
            .as_ref()
            .ok_or(StartError::NoDatabaseUrl)?;
        let db = kadr_db::connect(url.expose(), &config.database).await?;
        let storage = open_storage(&config).await?;
        Ok(Context {
            config: Arc::new(config),
            db,
            storage: Arc::new(storage),
        })
    }

    pub fn shutdown_timeout(&self) -> Duration {
        Duration::from_secs(self.config.server.shutdown_timeout_secs)
    }
}

/// The storage backend named by `storage.backend`.
pub async fn open_storage(config: &Config) -> Result<Storage, StorageError> {
    match config.storage.backend {
        StorageBackend::Local => {
            Storage::local(LocalOptions {
                root: config.local_storage_root(),
            })
            .await
        }
        StorageBackend::S3 => {
            let s3 = &config.storage.s3;
            Storage::s3(S3Options {
                endpoint: s3.endpoint.clone(),
                bucket: s3.bucket.clone(),
                region: s3.region.clone(),
                access_key_id: s3.access_key_id.clone(),
                secret_access_key: s3.secret_access_key.as_ref().map(|s| s.expose().to_owned()),
                path_style: s3.path_style,
                part_size: s3.part_size_mib * 1024 * 1024,
                connect_timeout: Duration::from_secs(s3.connect_timeout_secs),
                read_timeout: Duration::from_secs(s3.read_timeout_secs),
                attempt_timeout: Duration::from_secs(s3.attempt_timeout_secs),
                max_attempts: s3.max_attempts,
            })
            .await
        }
    }
}
