//! Kadr configuration.
//!
//! Layers, each overriding the one before: compiled defaults ([`Config::default`]) →
//! `config/default.toml` (when present in the working directory) → an optional file given with
//! `--config` → environment variables `KADR_<SECTION>__<KEY>` (for example
//! `KADR_DATABASE__URL`, `KADR_STORAGE__S3__BUCKET`).
//!
//! Secrets are held in [`Secret`], whose `Debug` output is redacted, and [`Config::redacted`]
//! gives a printable copy for `kadr config` and for logs.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The defaults file looked for in the working directory.
pub const DEFAULTS_FILE: &str = "config/default.toml";
/// Prefix of every environment variable read as configuration.
pub const ENV_PREFIX: &str = "KADR_";

/// A configuration error, always naming the key it is about.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("invalid config: `{key}`: {message}{origin}")]
    Invalid {
        key: String,
        message: String,
        origin: String,
    },
    #[error("config file {path}: {message}")]
    File { path: PathBuf, message: String },
}

impl ConfigError {
    fn invalid(key: &str, message: impl Into<String>) -> Self {
        ConfigError::Invalid {
            key: key.to_owned(),
            message: message.into(),
            origin: String::new(),
        }
    }

    /// The dotted key the error is about, when there is one.
    pub fn key(&self) -> Option<&str> {
        match self {
            ConfigError::Invalid { key, .. } => Some(key),
            ConfigError::File { .. } => None,
        }
    }
}

/// A string that never shows up in logs or `Debug` output.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The secret value itself: call only where it is used, never to print it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn redacted(&self) -> Secret {
        if self.0.is_empty() {
            Secret::default()
        } else {
            Secret(REDACTED.to_owned())
        }
    }
}

const REDACTED: &str = "<redacted>";

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            write!(f, "\"{REDACTED}\"")
        }
    }
}

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Where `kadr all` keeps its embedded Postgres cluster and local media (`KADR_DATA_DIR`).
    pub data_dir: PathBuf,
    pub server: ServerConfig,
    pub upload_api: ServiceConfig,
    pub api: ApiConfig,
    pub worker: WorkerConfig,
    pub database: DatabaseConfig,
    pub storage: StorageConfig,
    pub queue: QueueConfig,
    pub log: LogConfig,
    pub auth: AuthConfig,
    pub upload: UploadConfig,
    pub moderation: ModerationConfig,
    pub transcode: TranscodeConfig,
    /// Password of the `admin` account created on first start (`KADR_ADMIN_PASSWORD`); unset
    /// means a generated one, printed once.
    pub admin_password: Option<Secret>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./var"),
            server: ServerConfig::default(),
            upload_api: ServiceConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            },
            api: ApiConfig::default(),
            worker: WorkerConfig::default(),
            database: DatabaseConfig::default(),
            storage: StorageConfig::default(),
            queue: QueueConfig::default(),
            log: LogConfig::default(),
            auth: AuthConfig::default(),
            upload: UploadConfig::default(),
            moderation: ModerationConfig::default(),
            transcode: TranscodeConfig::default(),
            admin_password: None,
        }
    }
}

/// Settings shared by every role's HTTP server; `listen` is the address of `kadr all`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address of `kadr all`, which serves every API and the web UI on one port.
    pub listen: SocketAddr,
    /// HTTP worker threads per server; 0 means one per core.
    pub http_workers: usize,
    /// How long a shutdown may take before remaining work is abandoned.
    pub shutdown_timeout_secs: u64,
    /// The address people reach Kadr at (`https://video.example.org`), used for every absolute
    /// URL. Unset: the address the server listens on. Never taken from a request's `Host`.
    pub public_url: Option<String>,
    /// Reverse proxies (addresses or CIDR blocks) whose `X-Forwarded-For` / `Forwarded` headers
    /// are believed; everyone else's client address is the socket's.
    pub trusted_proxies: Vec<String>,
    /// Serve `/metrics` here instead of on the public listener (e.g. `127.0.0.1:9100`).
    pub metrics_listen: Option<SocketAddr>,
    /// A client has this long to send a request's headers.
    pub request_header_timeout_ms: u64,
    /// A request body that sends nothing for this long is cut off (408).
    pub body_idle_timeout_secs: u64,
    /// After the first `body_idle_timeout_secs`, a body slower than this on average is cut off.
    pub body_min_bytes_per_sec: u64,
    /// Idle keep-alive connections are closed after this long.
    pub keep_alive_secs: u64,
    /// Requests one client address may have in flight at once (429 beyond).
    pub max_requests_per_address: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            http_workers: 0,
            shutdown_timeout_secs: 10,
            public_url: None,
            trusted_proxies: Vec::new(),
            metrics_listen: None,
            request_header_timeout_ms: 5000,
            body_idle_timeout_secs: 30,
            body_min_bytes_per_sec: 1024,
            keep_alive_secs: 15,
            max_requests_per_address: 64,
        }
    }
}

impl ServerConfig {
    /// The trusted proxies, parsed (validation has checked them).
    pub fn proxies(&self) -> Vec<ipnet::IpNet> {
        self.trusted_proxies
            .iter()
            .filter_map(|p| parse_net(p).ok())
            .collect()
    }
}

/// An address (a /32 or /128) or a CIDR block.
fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
    let s = s.trim();
    s.parse::<ipnet::IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
        .map_err(|_| format!("{s:?} is not an address or a CIDR block"))
}

/// A service run on its own (`kadr upload-api`, `kadr api`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceConfig {
    pub listen: SocketAddr,
}

/// The catalog and streaming service (`kadr api`, also mounted by `kadr all`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Address of `kadr api` when run on its own.
    pub listen: SocketAddr,
    /// HMAC-SHA256 key signing media URLs of unlisted and private videos. Unset: a random key
    /// kept in `<data_dir>/media.key` (every api instance must share one key).
    pub media_secret: Option<Secret>,
    /// How long a signed media URL stays valid (the web player renews its URLs before then).
    pub media_token_ttl_secs: u64,
    /// How long a presigned storage URL (S3 redirects) stays valid: a segment URL handed out
    /// keeps working this long whatever happens to the video.
    pub presign_ttl_secs: u64,
    /// How long the api reuses what it read of a video's access (privacy, moderation, media
    /// epoch) for media requests: a rejected, hidden or deleted video stops serving within it.
    pub media_access_cache_ms: u64,
    /// A viewer counts once per video within this window.
    pub view_window_secs: u64,
    /// Buffered view counts are written this often.
    pub views_flush_secs: u64,
    /// Search ranks only this many of the newest matches.
    pub search_candidates: u32,
    /// The built web UI (`npm run build` in `web/`), served at `/`; relative paths are from the
    /// working directory.
    pub web_dir: PathBuf,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8082)),
            media_secret: None,
            media_token_ttl_secs: 4 * 3600,
            presign_ttl_secs: 300,
            media_access_cache_ms: 2000,
            view_window_secs: 1800,
            views_flush_secs: 5,
            search_candidates: 1000,
            web_dir: PathBuf::from("web/dist"),
        }
    }
}

/// The transcoding daemon (`kadr worker`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WorkerConfig {
    /// Address of the worker's own `/healthz`, `/readyz` and `/metrics`.
    pub listen: SocketAddr,
    /// Jobs run at once.
    pub concurrency: usize,
    /// On shutdown, how long a running job may take to finish before it is handed back.
    pub shutdown_grace_secs: u64,
    /// A transcode that decodes no picture for this long is stopped (retried once, then
    /// failed as `stalled`).
    pub stall_timeout_secs: u64,
    /// A transcode may take this many times the video's duration ...
    pub budget_factor: f64,
    /// ... and at least this long, before it is stopped (retried once, then failed as
    /// `too_slow`).
    pub budget_min_secs: u64,
    /// The kinds of work this worker runs ([`WORKER_KINDS`]); empty runs them all. A worker
    /// limited to `transcode` can be confined without network access beyond the database
    /// and storage, while jobs that need outbound network run elsewhere.
    pub kinds: Vec<String>,
}

/// Every kind of work a worker can run: queued jobs (`transcode`, `cleanup`) and periodic
/// sweeps (`expire_uploads` every `upload.janitor_interval_secs`, `sweep_throttle` with it,
/// `reconcile` every `upload.reconcile_interval_secs`).
pub const WORKER_KINDS: &[&str] = &[
    "transcode",
    "cleanup",
    "expire_uploads",
    "sweep_throttle",
    "reconcile",
];

impl WorkerConfig {
    /// Whether this worker runs `kind`.
    pub fn runs(&self, kind: &str) -> bool {
        self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind)
    }
}

impl Default for WorkerConfig {
    fn default() -> Self {
        WorkerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8083)),
            concurrency: 1,
            shutdown_grace_secs: 30,
            stall_timeout_secs: 120,
            budget_factor: 10.0,
            budget_min_secs: 600,
            kinds: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `postgres://user:password@host:port/db`. Unset: `kadr all` runs its own Postgres from
    /// the system's binaries in `<data_dir>/postgres`; the other roles require it.
    pub url: Option<Secret>,
    pub max_connections: u32,
    pub connect_timeout_secs: u64,
    /// A statement running longer is cancelled (`statement_timeout`); 0 = no limit.
    /// Migrations run without it.
    pub statement_timeout_ms: u64,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: None,
            max_connections: 10,
            connect_timeout_secs: 10,
            statement_timeout_ms: 30_000,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Local,
    S3,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// `local` (files under `storage.local.root`) or `s3` (any S3-compatible server).
    pub backend: StorageBackend,
    pub local: LocalStorageConfig,
    pub s3: S3Config,
    /// Base URL of a CDN in front of the bucket: segment and image requests are redirected
    /// there (`<cdn_base_url>/<key>`) instead of to presigned URLs. Public videos only.
    pub cdn_base_url: Option<String>,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            backend: StorageBackend::Local,
            local: LocalStorageConfig::default(),
            s3: S3Config::default(),
            cdn_base_url: None,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalStorageConfig {
    /// Directory holding media; unset means `<data_dir>/media`.
    pub root: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct S3Config {
    /// Endpoint URL of an S3-compatible server (MinIO, Garage); unset means AWS.
    pub endpoint: Option<String>,
    pub bucket: String,
    pub region: String,
    /// Static credentials; unset means the AWS default provider chain.
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<Secret>,
    /// Path-style addressing (`endpoint/bucket/key`), needed by most self-hosted servers.
    pub path_style: bool,
    /// Multipart part size in MiB (at least 5).
    pub part_size_mib: usize,
    /// Connecting to S3 may take this long.
    pub connect_timeout_secs: u64,
    /// An S3 answer may pause this long between reads.
    pub read_timeout_secs: u64,
    /// One S3 request (an attempt, before the SDK's retry) may take this long to answer.
    pub attempt_timeout_secs: u64,
    /// Attempts per S3 request, the first included (the SDK backs off between them).
    pub max_attempts: u32,
}

impl Default for S3Config {
    fn default() -> Self {
        S3Config {
            endpoint: None,
            bucket: "kadr".to_owned(),
            region: "us-east-1".to_owned(),
            access_key_id: None,
            secret_access_key: None,
            path_style: true,
            part_size_mib: 8,
            connect_timeout_secs: 5,
            read_timeout_secs: 20,
            attempt_timeout_secs: 60,
            max_attempts: 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QueueConfig {
    /// A claimed job whose heartbeat is older than this goes back to the queue.
    pub lease_secs: u64,
    /// How often a running job renews its lease.
    pub heartbeat_secs: u64,
    /// Polling interval when no notification arrives.
    pub poll_interval_ms: u64,
    /// Attempts before a job fails for good.
    pub max_attempts: i32,
    /// First retry delay; doubles each attempt up to `backoff_max_secs`.
    pub backoff_base_secs: u64,
    pub backoff_max_secs: u64,
}

impl Default for QueueConfig {
    fn default() -> Self {
        QueueConfig {
            lease_secs: 120,
            heartbeat_secs: 5,
            poll_interval_ms: 2000,
            max_attempts: 5,
            backoff_base_secs: 5,
            backoff_max_secs: 600,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` for a terminal, `json` for log collectors.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `kadr_queue=debug,info`; `RUST_LOG` wins when set.
    pub level: String,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Pretty,
            level: "info".to_owned(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Lifetime of a token from `POST /api/v1/auth/token`.
    pub token_ttl_hours: u64,
    /// Failed logins allowed per account within `login_window_secs`; an address (shared by
    /// many behind NAT) gets five times as many.
    pub login_max_failures: u32,
    pub login_window_secs: u64,
    /// New accounts one address (IPv6: one /64) may create per hour.
    pub register_max_per_hour: u32,
    /// Password hashes computed at once (argon2id, 19 MiB each); 0 = one per core. Requests
    /// beyond a short queue get 503 with `Retry-After`.
    pub hash_concurrency: usize,
    /// How long a process may reuse a token lookup for reads (catalog, search, watch pages);
    /// 0 = every request looks its token up. Sign-outs and role changes reach the process
    /// that made them at once, other processes within this time.
    pub cache_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            token_ttl_hours: 720,
            login_max_failures: 10,
            login_window_secs: 900,
            register_max_per_hour: 20,
            hash_concurrency: 0,
            cache_secs: 5,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UploadConfig {
    /// Largest upload accepted (tus `Tus-Max-Size`).
    pub max_size_bytes: u64,
    /// Storage each user may fill with originals (renditions are not counted); uploads in
    /// progress count with their declared length; 0 = unlimited.
    pub user_quota_bytes: u64,
    /// Uploads one user may have in progress at once.
    pub max_uploads_in_progress: u64,
    /// Videos of one user that may wait for the transcoder at once.
    pub max_videos_waiting: u64,
    /// Unfinished uploads are aborted and cleaned up after this long.
    pub expiration_hours: u64,
    /// How often the janitor looks for expired uploads.
    pub janitor_interval_secs: u64,
    /// How often storage is reconciled with the database (objects no row owns removed);
    /// 0 = never.
    pub reconcile_interval_secs: u64,
    /// Objects no row owns are removed only once this old (a write may be under way).
    pub reconcile_grace_secs: u64,
}

impl Default for UploadConfig {
    fn default() -> Self {
        UploadConfig {
            max_size_bytes: 10 * 1024 * 1024 * 1024,
            user_quota_bytes: 100 * 1024 * 1024 * 1024,
            max_uploads_in_progress: 10,
            max_videos_waiting: 50,
            expiration_hours: 24,
            janitor_interval_secs: 300,
            reconcile_interval_secs: 6 * 3600,
            reconcile_grace_secs: 3600,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ModerationConfig {
    /// New videos of unverified users wait for a moderator; verified users, moderators and
    /// admins publish directly.
    pub require_review: bool,
    /// An unverified owner's change to what viewers see (title, description, tags) sends an
    /// approved video back to the queue.
    pub review_edits: bool,
}

impl Default for ModerationConfig {
    fn default() -> Self {
        ModerationConfig {
            require_review: true,
            review_edits: true,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TranscodeConfig {
    /// The ladder, largest first: `"<short side>:<peak kbit/s>"` per rung.
    pub ladder: Vec<String>,
    /// Inputs over these limits fail before any decoding.
    pub max_duration_secs: f64,
    pub max_pixels: u64,
    pub max_fps: f64,
    pub max_streams: usize,
    pub segment_secs: f64,
    /// The first segments' length, shorter so a video is playable sooner.
    pub first_segment_secs: f64,
    pub gop_secs: f64,
    /// x264 preset.
    pub preset: String,
    /// x264 CRF, capped by each rung's peak rate.
    pub crf: u8,
    pub audio_kbps: u32,
}

impl Default for TranscodeConfig {
    fn default() -> Self {
        TranscodeConfig {
            ladder: ["1080:5000", "720:3000", "480:1500", "360:800", "240:400"]
                .map(str::to_owned)
                .to_vec(),
            max_duration_secs: 21_600.0,
            max_pixels: 4096 * 2304,
            max_fps: 120.0,
            max_streams: 16,
            segment_secs: 4.0,
            first_segment_secs: 1.0,
            gop_secs: 2.0,
            preset: "veryfast".to_owned(),
            crf: 23,
            audio_kbps: 128,
        }
    }
}

impl TranscodeConfig {
    /// The ladder as (short side, peak kbit/s) pairs, largest first.
    pub fn rungs(&self) -> Result<Vec<(u32, u32)>, ConfigError> {
        let bad = |m: String| ConfigError::invalid("transcode.ladder", m);
        let mut out: Vec<(u32, u32)> = Vec::new();
        for r in &self.ladder {
            let (side, kbps) = r
                .split_once(':')
                .ok_or_else(|| bad(format!("`{r}` is not `<short side>:<kbit/s>`")))?;
            let side: u32 = side
                .trim()
                .parse()
                .map_err(|_| bad(format!("`{r}`: bad short side")))?;
            let kbps: u32 = kbps
                .trim()
                .parse()
                .map_err(|_| bad(format!("`{r}`: bad bit rate")))?;
            if !(16..=4320).contains(&side) || kbps == 0 {
                return Err(bad(format!(
                    "`{r}`: short side 16..4320 and a bit rate above 0"
                )));
            }
            if out.last().is_some_and(|(prev, _)| *prev <= side) {
                return Err(bad("rungs go from the largest down".to_owned()));
            }
            out.push((side, kbps));
        }
        if out.is_empty() {
            return Err(bad("at least one rung".to_owned()));
        }
        Ok(out)
    }
}

impl Config {
    /// Loads the layered configuration; `file` is the `--config` argument.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        Self::load_from(
            Path::new(DEFAULTS_FILE),
            file,
            Env::prefixed(ENV_PREFIX).split("__"),
        )
    }

    /// Like [`Config::load`] with an explicit defaults file and environment provider.
    pub fn load_from(
        defaults_file: &Path,
        file: Option<&Path>,
        env: Env,
    ) -> Result<Config, ConfigError> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if defaults_file.is_file() {
            figment = figment.merge(Toml::file(defaults_file));
        }
        if let Some(path) = file {
            if !path.is_file() {
                return Err(ConfigError::File {
                    path: path.to_owned(),
                    message: "no such file".to_owned(),
                });
            }
            figment = figment.merge(Toml::file(path));
        }
        let config: Config = figment.merge(env).extract().map_err(from_figment)?;
        config.validate()?;
        Ok(config)
    }

    /// Checks values that types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("data_dir", "must not be empty"));
        }
        if let Some(url) = &self.database.url {
            let u = url.expose();
            if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                return Err(ConfigError::invalid(
                    "database.url",
                    "must start with postgres:// or postgresql://",
                ));
            }
        }
        if self.database.max_connections == 0 {
            return Err(ConfigError::invalid(
                "database.max_connections",
                "must be at least 1",
            ));
        }
        if self.storage.backend == StorageBackend::S3 && self.storage.s3.bucket.trim().is_empty() {
            return Err(ConfigError::invalid(
                "storage.s3.bucket",
                "must be set when storage.backend = \"s3\"",
            ));
        }
        if let Some(endpoint) = &self.storage.s3.endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(ConfigError::invalid(
                "storage.s3.endpoint",
                "must be an http:// or https:// URL",
            ));
        }
        if self.storage.s3.part_size_mib < 5 || self.storage.s3.part_size_mib > 5 * 1024 {
            return Err(ConfigError::invalid(
                "storage.s3.part_size_mib",
                "must be between 5 and 5120",
            ));
        }
        if self.storage.s3.access_key_id.is_some() != self.storage.s3.secret_access_key.is_some() {
            return Err(ConfigError::invalid(
                "storage.s3.secret_access_key",
                "storage.s3.access_key_id and storage.s3.secret_access_key are set together",
            ));
        }
        if self.queue.heartbeat_secs == 0 || self.queue.heartbeat_secs * 2 > self.queue.lease_secs {
            return Err(ConfigError::invalid(
                "queue.heartbeat_secs",
                "must be at least 1 and at most half of queue.lease_secs",
            ));
        }
        if self.queue.max_attempts < 1 {
            return Err(ConfigError::invalid(
                "queue.max_attempts",
                "must be at least 1",
            ));
        }
        if self.queue.poll_interval_ms < 10 {
            return Err(ConfigError::invalid(
                "queue.poll_interval_ms",
                "must be at least 10",
            ));
        }
        if self.upload.max_size_bytes == 0 {
            return Err(ConfigError::invalid(
                "upload.max_size_bytes",
                "must be at least 1",
            ));
        }
        if self.upload.expiration_hours == 0 {
            return Err(ConfigError::invalid(
                "upload.expiration_hours",
                "must be at least 1",
            ));
        }
        if self.upload.janitor_interval_secs == 0 {
            return Err(ConfigError::invalid(
                "upload.janitor_interval_secs",
                "must be at least 1",
            ));
        }
        if self.auth.token_ttl_hours == 0 {
            return Err(ConfigError::invalid(
                "auth.token_ttl_hours",
                "must be at least 1",
            ));
        }
        self.transcode.rungs()?;
        if self.transcode.segment_secs < 1.0
            || self.transcode.gop_secs <= 0.0
            || self.transcode.segment_secs < self.transcode.gop_secs
        {
            return Err(ConfigError::invalid(
                "transcode.segment_secs",
                "at least 1 and at least transcode.gop_secs (which is above 0)",
            ));
        }
        let first = self.transcode.first_segment_secs;
        if !(first >= 0.5 && first <= self.transcode.segment_secs) {
            return Err(ConfigError::invalid(
                "transcode.first_segment_secs",
                "between 0.5 and transcode.segment_secs",
            ));
        }
        if let Some(s) = &self.api.media_secret
            && s.expose().len() < 32
        {
            return Err(ConfigError::invalid(
                "api.media_secret",
                "at least 32 characters",
            ));
        }
        for (key, v) in [
            ("api.media_token_ttl_secs", self.api.media_token_ttl_secs),
            ("api.presign_ttl_secs", self.api.presign_ttl_secs),
            ("api.views_flush_secs", self.api.views_flush_secs),
            (
                "api.search_candidates",
                u64::from(self.api.search_candidates),
            ),
        ] {
            if v == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1"));
            }
        }
        for p in &self.server.trusted_proxies {
            parse_net(p).map_err(|e| ConfigError::invalid("server.trusted_proxies", e))?;
        }
        if let Some(u) = &self.server.public_url
            && (!(u.starts_with("https://") || u.starts_with("http://"))
                || u.trim_end_matches('/').matches('/').count() > 2)
        {
            return Err(ConfigError::invalid(
                "server.public_url",
                "an http:// or https:// origin, without a path",
            ));
        }
        for (key, v) in [
            (
                "server.request_header_timeout_ms",
                self.server.request_header_timeout_ms,
            ),
            (
                "server.body_idle_timeout_secs",
                self.server.body_idle_timeout_secs,
            ),
            (
                "server.max_requests_per_address",
                self.server.max_requests_per_address as u64,
            ),
        ] {
            if v == 0 {
                return Err(ConfigError::invalid(key, "must be at least 1"));
            }
        }
        if let Some(u) = &self.storage.cdn_base_url
            && !(u.starts_with("https://") || u.starts_with("http://"))
        {
            return Err(ConfigError::invalid(
                "storage.cdn_base_url",
                "an http:// or https:// URL",
            ));
        }
        if self.transcode.crf > 51 {
            return Err(ConfigError::invalid("transcode.crf", "x264's CRF is 0..51"));
        }
        if self.worker.concurrency == 0 {
            return Err(ConfigError::invalid(
                "worker.concurrency",
                "must be at least 1",
            ));
        }
        if let Some(k) = self
            .worker
            .kinds
            .iter()
            .find(|k| !WORKER_KINDS.contains(&k.as_str()))
        {
            return Err(ConfigError::invalid(
                "worker.kinds",
                format!("{k:?} is not one of {}", WORKER_KINDS.join(", ")),
            ));
        }
        tracing_subscriber::EnvFilter::try_new(&self.log.level)
            .map_err(|e| ConfigError::invalid("log.level", e.to_string()))?;
        Ok(())
    }

    /// Directory of the local storage backend.
    pub fn local_storage_root(&self) -> PathBuf {
        self.storage
            .local
            .root
            .clone()
            .unwrap_or_else(|| self.data_dir.join("media"))
    }

    /// A copy with every secret replaced, for printing and logging.
    pub fn redacted(&self) -> Config {
        let mut c = self.clone();
        c.api.media_secret = c.api.media_secret.as_ref().map(Secret::redacted);
        c.admin_password = c.admin_password.as_ref().map(Secret::redacted);
        c.database.url = c
            .database
            .url
            .as_ref()
            .map(|u| Secret(redact_url(u.expose())));
        c.storage.s3.secret_access_key = c
            .storage
            .s3
            .secret_access_key
            .as_ref()
            .map(Secret::redacted);
        c
    }

    /// The effective configuration as TOML, secrets redacted (`kadr config`).
    pub fn to_redacted_toml(&self) -> Result<String, ConfigError> {
        toml::to_string_pretty(&self.redacted())
            .map_err(|e| ConfigError::invalid("", e.to_string()))
    }
}

/// Replaces the password of a URL such as `postgres://user:pw@host/db`.
pub fn redact_url(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_owned();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let Some(at) = authority.rfind('@') else {
        return url.to_owned();
    };
    let userinfo = &authority[..at];
    match userinfo.find(':') {
        Some(colon) => format!(
            "{}{}:{}{}",
            &url[..scheme_end + 3],
            &userinfo[..colon],
            REDACTED,
            &rest[at..]
        ),
        None => url.to_owned(),
    }
}

fn from_figment(err: figment::Error) -> ConfigError {
    let key = err.path.join(".");
    let origin = match &err.metadata {
        Some(md) => match &md.source {
            Some(figment::Source::File(path)) => format!(" (in {})", path.display()),
            _ if md.name.contains("environment") => {
                let var = format!("{ENV_PREFIX}{}", err.path.join("__")).to_uppercase();
                format!(" (from environment variable {var})")
            }
            _ => String::new(),
        },
        None => String::new(),
    };
    ConfigError::Invalid {
        key: if key.is_empty() {
            "<root>".to_owned()
        } else {
            key
        },
        message: err.kind.to_string(),
        origin,
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::result_large_err)]
    use super::*;

    fn no_env() -> Env {
        Env::prefixed("KADR_UNIT_TEST_NOTHING_").split("__")
    }

    #[test]
    fn defaults_file_matches_compiled_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/default.toml");
        let text = std::fs::read_to_string(&path).unwrap();
        let file: toml::Value = toml::from_str(&text).unwrap();
        let compiled = toml::Value::try_from(Config::default()).unwrap();
        assert_eq!(
            file, compiled,
            "config/default.toml and Config::default() disagree; update the file"
        );
        // Every key in the file must also be accepted by the parser.
        let parsed: Config = toml::from_str(&text).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn layers_override_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let defaults = dir.path().join("default.toml");
        std::fs::write(&defaults, "[queue]\nmax_attempts = 7\nlease_secs = 60\n").unwrap();
        let file = dir.path().join("site.toml");
        std::fs::write(&file, "[queue]\nmax_attempts = 9\n").unwrap();
        figment::Jail::expect_with(|jail| {
            jail.set_env("KADR_QUEUE__LEASE_SECS", "90");
            jail.set_env("KADR_STORAGE__S3__BUCKET", "videos");
            jail.set_env("KADR_STORAGE__S3__PATH_STYLE", "false");
            let c = Config::load_from(&defaults, Some(&file), Env::prefixed("KADR_").split("__"))
                .unwrap();
            assert_eq!(c.queue.max_attempts, 9);
            assert_eq!(c.queue.lease_secs, 90);
            assert_eq!(c.storage.s3.bucket, "videos");
            assert!(!c.storage.s3.path_style);
            Ok(())
        });
    }

    #[test]
    fn bad_value_names_the_key_and_the_variable() {
        figment::Jail::expect_with(|jail| {
            jail.set_env("KADR_SERVER__LISTEN", "not-an-address");
            let err = Config::load_from(
                Path::new("/nonexistent"),
                None,
                Env::prefixed("KADR_").split("__"),
            )
            .unwrap_err();
            assert_eq!(err.key(), Some("server.listen"));
            let text = err.to_string();
            assert!(text.contains("server.listen"), "{text}");
            assert!(text.contains("KADR_SERVER__LISTEN"), "{text}");
            assert!(!text.contains('\n'), "one line: {text}");
            Ok(())
        });
    }

    #[test]
    fn unknown_key_in_a_section_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.toml");
        std::fs::write(&file, "[storage]\nbakend = \"s3\"\n").unwrap();
        let err = Config::load_from(Path::new("/nonexistent"), Some(&file), no_env()).unwrap_err();
        assert_eq!(err.key(), Some("storage.bakend"));
        assert!(err.to_string().contains("bakend"), "{err}");
        assert!(err.to_string().contains("site.toml"), "{err}");
    }

    #[test]
    fn ladder_is_checked() {
        let mut c = Config::default();
        assert_eq!(c.transcode.rungs().unwrap()[0], (1080, 5000));
        c.transcode.ladder = vec!["720:3000".into(), "1080:5000".into()];
        assert_eq!(c.validate().unwrap_err().key(), Some("transcode.ladder"));
        c.transcode.ladder = vec!["720-3000".into()];
        assert_eq!(c.validate().unwrap_err().key(), Some("transcode.ladder"));
    }

    #[test]
    fn validation_names_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("site.toml");
        std::fs::write(&file, "[queue]\nlease_secs = 4\nheartbeat_secs = 5\n").unwrap();
        let err = Config::load_from(Path::new("/nonexistent"), Some(&file), no_env()).unwrap_err();
        assert_eq!(err.key(), Some("queue.heartbeat_secs"));
        std::fs::write(
            &file,
            "[storage]\nbackend = \"s3\"\n[storage.s3]\nbucket = \" \"\n",
        )
        .unwrap();
        let err = Config::load_from(Path::new("/nonexistent"), Some(&file), no_env()).unwrap_err();
        assert_eq!(err.key(), Some("storage.s3.bucket"));
        std::fs::write(&file, "[database]\nurl = \"mysql://x\"\n").unwrap();
        let err = Config::load_from(Path::new("/nonexistent"), Some(&file), no_env()).unwrap_err();
        assert_eq!(err.key(), Some("database.url"));
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let err = Config::load_from(
            Path::new("/nonexistent"),
            Some(Path::new("/no/such.toml")),
            no_env(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("/no/such.toml"));
    }

    #[test]
    fn secrets_are_redacted_in_debug_and_printout() {
        let mut c = Config::default();
        c.database.url = Some(Secret::new("postgres://kadr:hunter2@db:5432/kadr"));
        c.storage.s3.access_key_id = Some("AKIA".to_owned());
        c.storage.s3.secret_access_key = Some(Secret::new("s3cr3t-value"));
        c.admin_password = Some(Secret::new("adm1n-pass"));
        c.api.media_secret = Some(Secret::new("media-key-that-is-long-enough-32+"));
        let debug = format!("{c:?}");
        for secret in ["hunter2", "s3cr3t-value", "adm1n-pass", "media-key-that"] {
            assert!(!debug.contains(secret), "{debug}");
        }
        let printed = c.to_redacted_toml().unwrap();
        for secret in ["hunter2", "s3cr3t-value", "adm1n-pass", "media-key-that"] {
            assert!(!printed.contains(secret), "{printed}");
        }
        assert!(
            printed.contains("postgres://kadr:<redacted>@db:5432/kadr"),
            "{printed}"
        );
        assert!(printed.contains("AKIA"));
    }

    #[test]
    fn redact_url_keeps_url_without_password() {
        assert_eq!(
            redact_url("postgres://kadr@/kadr?host=/tmp"),
            "postgres://kadr@/kadr?host=/tmp"
        );
        assert_eq!(
            redact_url("postgres://u:p@h/d"),
            "postgres://u:<redacted>@h/d"
        );
    }
}
