//! Checks of what types alone cannot say: each section checks itself and names the key at
//! fault; [`Config::validate`] runs them all.

use crate::schema::{
    ApiConfig, AuthConfig, CommunityConfig, Config, DatabaseConfig, ImportConfig, LogConfig,
    MailConfig, OutboundConfig, QueueConfig, ServerConfig, SiteConfig, StorageBackend,
    StorageConfig, TranscodeConfig, UploadConfig, WebhooksConfig, WorkerConfig, parse_net,
};
use crate::{ConfigError, WORKER_KINDS};

/// Each of `(key, value)` must be at least 1.
fn at_least_one(values: &[(&str, u64)]) -> Result<(), ConfigError> {
    match values.iter().find(|(_, v)| *v == 0) {
        Some((key, _)) => Err(ConfigError::invalid(key, "must be at least 1")),
        None => Ok(()),
    }
}

fn http_url(u: &str) -> bool {
    u.starts_with("https://") || u.starts_with("http://")
}

impl Config {
    /// Checks values that types alone cannot.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.data_dir.as_os_str().is_empty() {
            return Err(ConfigError::invalid("data_dir", "must not be empty"));
        }
        self.server.validate()?;
        self.api.validate()?;
        self.worker.validate()?;
        self.database.validate()?;
        self.storage.validate()?;
        self.queue.validate()?;
        self.upload.validate()?;
        self.auth.validate()?;
        self.transcode.validate()?;
        self.community.validate()?;
        self.mail.validate()?;
        self.site.validate()?;
        self.outbound.validate()?;
        self.import.validate(&self.storage)?;
        self.webhooks.validate()?;
        self.log.validate()
    }
}

/// `scheme://host[:port]` with nothing after it, and no characters that would end a CSP
/// source expression.
fn plain_origin(o: &str) -> bool {
    let Some(rest) = o
        .strip_prefix("https://")
        .or_else(|| o.strip_prefix("http://"))
    else {
        return false;
    };
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '*' | '[' | ']'))
}

impl SiteConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.name.trim().is_empty() || self.name.chars().count() > 60 {
            return Err(ConfigError::invalid("site.name", "1 to 60 characters"));
        }
        for o in &self.embed_origins {
            if o != "*" && !plain_origin(o) {
                return Err(ConfigError::invalid(
                    "site.embed_origins",
                    format!("{o:?} is not \"*\" or an origin like https://news.example.org"),
                ));
            }
        }
        at_least_one(&[("site.sitemap_cache_secs", self.sitemap_cache_secs)])
    }
}

impl OutboundConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        for a in &self.allow {
            let host = a.trim().trim_end_matches('.');
            // A name: letters, digits, dots and dashes (no scheme, port or path).
            let name = !host.is_empty()
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-'));
            if parse_net(a).is_err() && !name {
                return Err(ConfigError::invalid(
                    "outbound.allow",
                    format!("{a:?} is not a host name, an address or a CIDR block"),
                ));
            }
        }
        if self.max_redirects > 20 {
            return Err(ConfigError::invalid("outbound.max_redirects", "at most 20"));
        }
        at_least_one(&[("outbound.connect_timeout_secs", self.connect_timeout_secs)])
    }
}

impl ImportConfig {
    pub fn validate(&self, storage: &StorageConfig) -> Result<(), ConfigError> {
        for (name, src) in &self.sources {
            let key = format!("import.sources.{name}");
            if name.is_empty()
                || name.len() > 40
                || !name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            {
                return Err(ConfigError::invalid(
                    &key,
                    "a source's name is 1 to 40 lower-case letters, digits, - or _",
                ));
            }
            if src.buckets.is_empty() || src.buckets.iter().any(|b| b.trim().is_empty()) {
                return Err(ConfigError::invalid(
                    &format!("{key}.buckets"),
                    "name the buckets imports may read",
                ));
            }
            if src.access_key_id.is_some() != src.secret_access_key.is_some() {
                return Err(ConfigError::invalid(
                    &format!("{key}.secret_access_key"),
                    "give both the access key id and the secret, or neither",
                ));
            }
            match &src.endpoint {
                Some(e) if !http_url(e) => {
                    return Err(ConfigError::invalid(
                        &format!("{key}.endpoint"),
                        "an http:// or https:// URL",
                    ));
                }
                Some(_) => {}
                None => {
                    if storage.backend != StorageBackend::S3 {
                        return Err(ConfigError::invalid(
                            &format!("{key}.endpoint"),
                            "without an endpoint a source is Kadr's own S3 storage, and storage.backend is not s3",
                        ));
                    }
                    // Kadr's own bucket holds every user's originals, private ones too.
                    if src.buckets.contains(&storage.s3.bucket) {
                        return Err(ConfigError::invalid(
                            &format!("{key}.buckets"),
                            "Kadr's own storage bucket cannot be an import source",
                        ));
                    }
                }
            }
        }
        at_least_one(&[
            ("import.concurrency", self.concurrency as u64),
            ("import.per_owner", self.per_owner as u64),
            ("import.max_secs", self.max_secs),
            ("import.stall_secs", self.stall_secs),
            ("import.max_pending", self.max_pending),
        ])
    }
}

impl WebhooksConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[
            ("webhooks.max_endpoints", self.max_endpoints),
            ("webhooks.timeout_secs", self.timeout_secs),
            ("webhooks.backoff_base_ms", self.backoff_base_ms),
            ("webhooks.backoff_max_secs", self.backoff_max_secs),
            ("webhooks.retry_secs", self.retry_secs),
            ("webhooks.disable_after_secs", self.disable_after_secs),
            ("webhooks.concurrency", self.concurrency as u64),
            ("webhooks.per_endpoint", self.per_endpoint as u64),
        ])?;
        if self.timeout_secs > 60 {
            return Err(ConfigError::invalid("webhooks.timeout_secs", "at most 60"));
        }
        // A pending delivery is never pruned, but the log should outlast the retries.
        if self.log_days > 0 && u64::from(self.log_days) * 86_400 < self.retry_secs {
            return Err(ConfigError::invalid(
                "webhooks.log_days",
                "0 (keep for ever) or at least webhooks.retry_secs in days",
            ));
        }
        if self.rotation_overlap_secs > 7 * 86_400 {
            return Err(ConfigError::invalid(
                "webhooks.rotation_overlap_secs",
                "at most 7 days (604800)",
            ));
        }
        Ok(())
    }
}

impl ServerConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        for p in &self.trusted_proxies {
            parse_net(p).map_err(|e| ConfigError::invalid("server.trusted_proxies", e))?;
        }
        if let Some(u) = &self.public_url
            && (!http_url(u) || u.trim_end_matches('/').matches('/').count() > 2)
        {
            return Err(ConfigError::invalid(
                "server.public_url",
                "an http:// or https:// origin, without a path",
            ));
        }
        at_least_one(&[
            (
                "server.request_header_timeout_ms",
                self.request_header_timeout_ms,
            ),
            ("server.body_idle_timeout_secs", self.body_idle_timeout_secs),
            (
                "server.max_requests_per_address",
                self.max_requests_per_address as u64,
            ),
        ])
    }
}

impl ApiConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(s) = &self.media_secret
            && s.expose().len() < 32
        {
            return Err(ConfigError::invalid(
                "api.media_secret",
                "at least 32 characters",
            ));
        }
        at_least_one(&[
            ("api.media_token_ttl_secs", self.media_token_ttl_secs),
            ("api.presign_ttl_secs", self.presign_ttl_secs),
            ("api.views_flush_secs", self.views_flush_secs),
            ("api.search_candidates", u64::from(self.search_candidates)),
        ])
    }
}

impl WorkerConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[("worker.concurrency", self.concurrency as u64)])?;
        if let Some(k) = self
            .kinds
            .iter()
            .find(|k| !WORKER_KINDS.contains(&k.as_str()))
        {
            return Err(ConfigError::invalid(
                "worker.kinds",
                format!("{k:?} is not one of {}", WORKER_KINDS.join(", ")),
            ));
        }
        Ok(())
    }
}

impl DatabaseConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(url) = &self.url {
            let u = url.expose();
            if !(u.starts_with("postgres://") || u.starts_with("postgresql://")) {
                return Err(ConfigError::invalid(
                    "database.url",
                    "must start with postgres:// or postgresql://",
                ));
            }
        }
        at_least_one(&[("database.max_connections", u64::from(self.max_connections))])
    }
}

impl StorageConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        let s3 = &self.s3;
        if self.backend == StorageBackend::S3 && s3.bucket.trim().is_empty() {
            return Err(ConfigError::invalid(
                "storage.s3.bucket",
                "must be set when storage.backend = \"s3\"",
            ));
        }
        if let Some(endpoint) = &s3.endpoint
            && !http_url(endpoint)
        {
            return Err(ConfigError::invalid(
                "storage.s3.endpoint",
                "must be an http:// or https:// URL",
            ));
        }
        if s3.part_size_mib < 5 || s3.part_size_mib > 5 * 1024 {
            return Err(ConfigError::invalid(
                "storage.s3.part_size_mib",
                "must be between 5 and 5120",
            ));
        }
        if s3.access_key_id.is_some() != s3.secret_access_key.is_some() {
            return Err(ConfigError::invalid(
                "storage.s3.secret_access_key",
                "storage.s3.access_key_id and storage.s3.secret_access_key are set together",
            ));
        }
        if let Some(u) = &self.cdn_base_url
            && !http_url(u)
        {
            return Err(ConfigError::invalid(
                "storage.cdn_base_url",
                "an http:// or https:// URL",
            ));
        }
        Ok(())
    }
}

impl QueueConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.heartbeat_secs == 0 || self.heartbeat_secs * 2 > self.lease_secs {
            return Err(ConfigError::invalid(
                "queue.heartbeat_secs",
                "must be at least 1 and at most half of queue.lease_secs",
            ));
        }
        if self.max_attempts < 1 {
            return Err(ConfigError::invalid(
                "queue.max_attempts",
                "must be at least 1",
            ));
        }
        if self.poll_interval_ms < 10 {
            return Err(ConfigError::invalid(
                "queue.poll_interval_ms",
                "must be at least 10",
            ));
        }
        Ok(())
    }
}

impl UploadConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[
            ("upload.max_size_bytes", self.max_size_bytes),
            ("upload.expiration_hours", self.expiration_hours),
            ("upload.janitor_interval_secs", self.janitor_interval_secs),
            ("upload.direct_url_ttl_secs", self.direct_url_ttl_secs),
        ])
    }
}

impl AuthConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[("auth.token_ttl_hours", self.token_ttl_hours)])
    }
}

impl TranscodeConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.rungs()?;
        if self.segment_secs < 1.0 || self.gop_secs <= 0.0 || self.segment_secs < self.gop_secs {
            return Err(ConfigError::invalid(
                "transcode.segment_secs",
                "at least 1 and at least transcode.gop_secs (which is above 0)",
            ));
        }
        let first = self.first_segment_secs;
        if !(first >= 0.5 && first <= self.segment_secs) {
            return Err(ConfigError::invalid(
                "transcode.first_segment_secs",
                "between 0.5 and transcode.segment_secs",
            ));
        }
        if self.crf > 51 {
            return Err(ConfigError::invalid("transcode.crf", "x264's CRF is 0..51"));
        }
        if !(16..=4320).contains(&self.mp4_download_max_height) {
            return Err(ConfigError::invalid(
                "transcode.mp4_download_max_height",
                "a short side of 16..4320",
            ));
        }
        Ok(())
    }
}

impl LogConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        tracing_subscriber::EnvFilter::try_new(&self.level)
            .map_err(|e| ConfigError::invalid("log.level", e.to_string()))?;
        Ok(())
    }
}

impl CommunityConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[
            ("community.max_channels", u64::from(self.max_channels)),
            (
                "community.comments_per_minute",
                u64::from(self.comments_per_minute),
            ),
            (
                "community.actions_per_minute",
                u64::from(self.actions_per_minute),
            ),
            ("community.fold_interval_ms", self.fold_interval_ms),
            ("community.announce_interval_ms", self.announce_interval_ms),
            ("community.fanout_batch", u64::from(self.fanout_batch)),
            (
                "community.notification_days",
                u64::from(self.notification_days),
            ),
            (
                "community.reports_per_hour",
                u64::from(self.reports_per_hour),
            ),
            ("community.history_max", u64::from(self.history_max)),
        ])?;
        if self.max_channels > 100 {
            return Err(ConfigError::invalid(
                "community.max_channels",
                "at most 100",
            ));
        }
        if self.fanout_batch > 100_000 {
            return Err(ConfigError::invalid(
                "community.fanout_batch",
                "at most 100000",
            ));
        }
        Ok(())
    }
}

impl MailConfig {
    pub fn validate(&self) -> Result<(), ConfigError> {
        at_least_one(&[
            ("mail.reset_minutes", u64::from(self.reset_minutes)),
            ("mail.verify_hours", u64::from(self.verify_hours)),
            ("mail.per_hour", u64::from(self.per_hour)),
            ("mail.timeout_secs", self.timeout_secs),
        ])?;
        if let Some(url) = self.smtp_url.as_ref().filter(|u| !u.is_empty()) {
            let u = url.expose();
            if !(u.starts_with("smtp://") || u.starts_with("smtps://")) {
                return Err(ConfigError::invalid(
                    "mail.smtp_url",
                    "smtp://host:port or smtps://host:port",
                ));
            }
        }
        let from = self.from.trim();
        let address = from
            .rsplit_once('<')
            .map_or(from, |(_, a)| a.trim_end_matches('>'));
        if !address.contains('@') || from.chars().any(char::is_control) {
            return Err(ConfigError::invalid(
                "mail.from",
                "a sender such as `Kadr <noreply@video.example.org>`",
            ));
        }
        Ok(())
    }
}
