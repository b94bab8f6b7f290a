//! The configuration's shape: one struct per section, as in `config/default.toml`. The
//! values of every key come from that file, compiled in ([`crate::defaults`]); nothing here
//! repeats them.

use std::net::SocketAddr;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::{ConfigError, Secret};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    pub community: CommunityConfig,
    pub mail: MailConfig,
    pub site: SiteConfig,
    pub outbound: OutboundConfig,
    pub import: ImportConfig,
    pub webhooks: WebhooksConfig,
    /// Password of the `admin` account created on first start (`KADR_ADMIN_PASSWORD`); unset
    /// means a generated one, printed once.
    pub admin_password: Option<Secret>,
}

/// Settings shared by every role's HTTP server; `listen` is the address of `kadr all`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
pub(crate) fn parse_net(s: &str) -> Result<ipnet::IpNet, String> {
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
#[serde(deny_unknown_fields)]
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
    /// Caption text feeds the search (at a lower weight than titles, tags and descriptions).
    pub search_captions: bool,
    /// The built web UI (`npm run build` in `web/`), served at `/`; relative paths are from the
    /// working directory.
    pub web_dir: PathBuf,
}

/// The transcoding daemon (`kadr worker`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// Whether this worker may run the kinds that reach servers users or operators name
    /// ([`OUTBOUND_KINDS`]). The confined transcode unit sets it false, whatever `kinds`
    /// says; a separate worker with network rules of its own runs them.
    pub outbound: bool,
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
    "notify",
    "fanout",
    "channel_image",
    "delete_channel",
    "fold_counts",
    "announce",
    "prune_notifications",
    "mail",
    "delete_account",
    "thumbnail",
    "poster",
    "lift_suspensions",
    "relate",
    "fetch",
    "webhook",
];

/// The kinds that reach servers beyond the database and storage (URL imports, mail,
/// webhooks): run
/// them on workers allowed outbound network, never in the confined transcode unit
/// (`worker.outbound = false`).
pub const OUTBOUND_KINDS: &[&str] = &["fetch", "mail", "webhook"];

impl WorkerConfig {
    /// Whether this worker runs `kind`.
    pub fn runs(&self, kind: &str) -> bool {
        (self.kinds.is_empty() || self.kinds.iter().any(|k| k == kind))
            && (self.outbound || !OUTBOUND_KINDS.contains(&kind))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    Local,
    S3,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageConfig {
    /// `local` (files under `storage.local.root`) or `s3` (any S3-compatible server).
    pub backend: StorageBackend,
    pub local: LocalStorageConfig,
    pub s3: S3Config,
    /// Base URL of a CDN in front of the bucket: segment and image requests are redirected
    /// there (`<cdn_base_url>/<key>`) instead of to presigned URLs. Public videos only.
    pub cdn_base_url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocalStorageConfig {
    /// Directory holding media; unset means `<data_dir>/media`.
    pub root: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// `pretty` for a terminal, `json` for log collectors.
    pub format: LogFormat,
    /// A tracing filter such as `info` or `kadr_queue=debug,info`; `RUST_LOG` wins when set.
    pub level: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// On the S3 backend, offer direct uploads (parts sent by the client straight to the
    /// bucket with presigned URLs; clients must be able to reach `storage.s3.endpoint`).
    pub direct: bool,
    /// How long a presigned part URL of a direct upload stays valid.
    pub direct_url_ttl_secs: u64,
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModerationConfig {
    /// New videos of unverified users wait for a moderator; verified users, moderators and
    /// admins publish directly.
    pub require_review: bool,
    /// An unverified owner's change to what viewers see (title, description, tags) sends an
    /// approved video back to the queue.
    pub review_edits: bool,
    /// Comments by unverified users wait for the video's owner or a moderator.
    pub hold_comments: bool,
}

/// How the site presents itself to the rest of the web: link previews, embeds, search engines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteConfig {
    /// The site's name in link previews (`og:site_name`), oEmbed and page titles.
    pub name: String,
    /// Origins allowed to frame `/embed/…` pages (`frame-ancestors`): `"*"` for any web page,
    /// or origins such as `https://news.example.org`; empty = no embedding anywhere. An owner
    /// can narrow it per video; every other page stays unframeable.
    pub embed_origins: Vec<String>,
    /// Search engines welcome: `robots.txt` allows the public pages and names the sitemap.
    /// Off: `robots.txt` disallows everything and no sitemap is served.
    pub indexable: bool,
    /// How long a sitemap index is reused before the video table is walked again.
    pub sitemap_cache_secs: u64,
}

/// Requests Kadr makes to addresses users name (URL imports, webhooks): every one goes through
/// the guard that refuses loopback, private, link-local, metadata and other internal
/// addresses, after resolution and on every redirect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// Internal hosts let through anyway: host names (`media.internal`) or addresses and
    /// CIDR blocks (`10.20.0.0/16`). Empty: none.
    pub allow: Vec<String>,
    /// Redirects followed per request, each checked again.
    pub max_redirects: usize,
    /// Time to connect to a host.
    pub connect_timeout_secs: u64,
}

impl OutboundConfig {
    /// The allowed host names (lower case, without a trailing dot).
    pub fn allowed_hosts(&self) -> Vec<String> {
        self.allow
            .iter()
            .filter(|a| parse_net(a).is_err())
            .map(|a| a.trim().trim_end_matches('.').to_ascii_lowercase())
            .collect()
    }

    /// The allowed addresses and blocks (validation has checked them).
    pub fn allowed_nets(&self) -> Vec<ipnet::IpNet> {
        self.allow
            .iter()
            .filter_map(|a| parse_net(a).ok())
            .collect()
    }
}

/// Videos imported from elsewhere: fetched from URLs by workers running `fetch`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportConfig {
    /// `fetch` jobs one worker runs at once.
    pub concurrency: usize,
    /// `fetch` jobs of one owner running at once across every worker: the rest of a large
    /// catalogue waits its turn, in order, while other owners' imports go ahead.
    pub per_owner: usize,
    /// The longest one fetch may take, resumed attempts included.
    pub max_secs: u64,
    /// A fetch that receives nothing for this long is dropped and tried again later.
    pub stall_secs: u64,
    /// Imports one account may have waiting or fetching at once.
    pub max_pending: u64,
    /// Named S3 sources imports may copy from (`s3://NAME/BUCKET/KEY`).
    #[serde(default)]
    pub sources: std::collections::BTreeMap<String, ImportSourceConfig>,
}

/// An S3 endpoint imports may read from, and which of its buckets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportSourceConfig {
    /// Its endpoint; unset: Kadr's own storage endpoint, where objects are copied inside the
    /// S3 server (no byte through Kadr) with Kadr's own credentials.
    #[serde(default)]
    pub endpoint: Option<String>,
    #[serde(default = "default_region")]
    pub region: String,
    /// The buckets imports may name (required: never every bucket the credentials reach).
    #[serde(default)]
    pub buckets: Vec<String>,
    #[serde(default)]
    pub access_key_id: Option<String>,
    #[serde(default)]
    pub secret_access_key: Option<Secret>,
    #[serde(default = "default_true")]
    pub path_style: bool,
}

fn default_region() -> String {
    "us-east-1".to_owned()
}

fn default_true() -> bool {
    true
}

/// Signed webhooks: endpoints users register, delivered by workers running `webhook`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhooksConfig {
    /// Endpoints one user may register.
    pub max_endpoints: u64,
    /// An attempt that has no 2xx answer within this long has failed.
    pub timeout_secs: u64,
    /// The first retry comes this long after a failed attempt; each later one twice as long
    /// after the one before (with ±10 % jitter) ...
    pub backoff_base_ms: u64,
    /// ... up to this long.
    pub backoff_max_secs: u64,
    /// A delivery is retried for this long after its event; then it fails for good.
    pub retry_secs: u64,
    /// An endpoint whose every attempt has failed for this long is disabled, and its owner
    /// notified.
    pub disable_after_secs: u64,
    /// After a rotation, the previous secret signs deliveries too for this long.
    pub rotation_overlap_secs: u64,
    /// Deliveries one worker makes at once.
    pub concurrency: usize,
    /// Deliveries running at once to one endpoint, across every worker (the others wait in
    /// the queue, in order): a slow endpoint does not hold back the others.
    pub per_endpoint: usize,
    /// Finished deliveries (delivered, or failed for good) stay in the log this many days,
    /// and events as long as a delivery of theirs does; 0 keeps them for ever.
    pub log_days: u32,
}

/// Channels, subscriptions, ratings, comments and notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommunityConfig {
    /// Channels one user may own.
    pub max_channels: u32,
    /// Everyone sees a video's dislike count (otherwise its owner and admins only).
    pub public_dislikes: bool,
    /// Comments one user may post per minute.
    pub comments_per_minute: u32,
    /// Ratings, comment likes and subscription changes one user may make per minute.
    pub actions_per_minute: u32,
    /// How often the worker folds counter changes into the counts (ms).
    pub fold_interval_ms: u64,
    /// How often the worker looks for newly listed videos to announce (ms).
    pub announce_interval_ms: u64,
    /// Subscribers written per transaction when a video is announced.
    pub fanout_batch: u32,
    /// Notifications older than this are removed (days).
    pub notification_days: u32,
    /// Reports one user may file per hour.
    pub reports_per_hour: u32,
    /// Entries of watch history kept per user (the oldest go first).
    pub history_max: u32,
}

/// Mail through SMTP, sent by the worker's `mail` jobs: password resets and address checks.
/// Without `smtp_url` these features are off (and say so).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailConfig {
    /// `smtp://host:25` (STARTTLS when offered is not required), `smtp://host:587?tls=required`,
    /// `smtps://user:password@host:465`. Unset: no mail.
    pub smtp_url: Option<Secret>,
    /// The sender, `Name <address>`.
    pub from: String,
    /// A password-reset link is valid this long (minutes).
    pub reset_minutes: u32,
    /// An address-check link is valid this long (hours).
    pub verify_hours: u32,
    /// Mails one account or address may ask for per hour.
    pub per_hour: u32,
    /// One SMTP conversation may take this long.
    pub timeout_secs: u64,
}

impl MailConfig {
    /// Whether mail is configured.
    pub fn enabled(&self) -> bool {
        self.smtp_url.as_ref().is_some_and(|u| !u.is_empty())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
    /// A progressive MP4 download made in the same pass, from one rung's packets.
    pub mp4_download: bool,
    /// The MP4's rung: the largest whose short side is at most this.
    pub mp4_download_max_height: u32,
    /// An audio-only HLS rendition and an M4A download, when the video has sound.
    pub audio_only: bool,
    /// A few silent seconds from across the video (`preview.mp4`) to play on hover.
    pub preview: bool,
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
    /// Directory of the local storage backend.
    pub fn local_storage_root(&self) -> PathBuf {
        self.storage
            .local
            .root
            .clone()
            .unwrap_or_else(|| self.data_dir.join("media"))
    }
}
