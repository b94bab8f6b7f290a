//! URL imports (`fetch` jobs): the file at an import's URL, downloaded through the outbound
//! guard into `{data_dir}/fetch/{import}.part`, then stored as the video's original and
//! landed like a completed upload (`kadr_core::imports::land`), which queues its transcode.
//!
//! - **Resumable.** Beside the part file, `{import}.json` keeps the URL and the validator
//!   (`ETag`, else `Last-Modified`) of the response being written. A later attempt (after a
//!   crash, a stall, a shutdown) asks for the rest with `Range` and `If-Range`; a server that
//!   answers 200 instead (no ranges, or the file changed) is read from the start again.
//! - **Bounded.** The file may not pass `upload.max_size_bytes` nor what is left of the
//!   owner's quota (refused from `Content-Length` before a byte is read, and counted while
//!   reading); a body that sends nothing for `import.stall_secs` is dropped and retried; the
//!   whole import, attempts together, may take `import.max_secs`.
//! - **Faults.** The source's faults (a refused address, a 4xx answer, too large, too slow)
//!   fail the import and its video with a stable code and are not retried; ours and passing
//!   ones (5xx, connection lost) are retried with the queue's backoff, and fail the import as
//!   `source_unavailable` once every attempt is spent.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use kadr_core::Failure;
use kadr_core::imports::{self, Landed};
use kadr_core::jobs::FetchJob;
use kadr_outbound::reqwest::{StatusCode, header};
use kadr_queue::Job;
use kadr_queue::runner::{BoxFuture, Control, Handler, Outcome};
use kadr_runtime::Context;
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use uuid::Uuid;

/// How often the bytes received are written to the import's row.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Fetches imported files.
pub struct Fetches {
    pub ctx: Context,
    pub client: kadr_outbound::Client,
}

/// What is known of a part file: the response it comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct PartMeta {
    url: String,
    /// `ETag` (strong only) or `Last-Modified`, for `If-Range`.
    validator: Option<String>,
    total: Option<u64>,
}

/// Why an attempt ended without the whole file.
enum Stop {
    /// The source's fault: the import fails with this code.
    Source(Failure, String),
    /// Passing or ours: another attempt resumes.
    Again(String),
    /// Shutdown or a lost lease.
    Released,
}

fn part_path(ctx: &Context, id: Uuid) -> PathBuf {
    ctx.config.data_dir.join("fetch").join(format!("{id}.part"))
}

fn meta_path(part: &Path) -> PathBuf {
    part.with_extension("json")
}

async fn read_meta(part: &Path) -> Option<PartMeta> {
    let text = tokio::fs::read(meta_path(part)).await.ok()?;
    serde_json::from_slice(&text).ok()
}

async fn write_meta(part: &Path, meta: &PartMeta) -> Result<(), Stop> {
    let text = serde_json::to_vec(meta).map_err(|e| Stop::Again(format!("part meta: {e}")))?;
    tokio::fs::write(meta_path(part), text)
        .await
        .map_err(|e| Stop::Again(format!("writing the part's meta: {e}")))
}

async fn remove_part(part: &Path) {
    let _ = tokio::fs::remove_file(part).await;
    let _ = tokio::fs::remove_file(meta_path(part)).await;
}

/// The validator `If-Range` may carry: a strong `ETag`, else `Last-Modified`.
fn validator(headers: &header::HeaderMap) -> Option<String> {
    let etag = headers
        .get(header::ETAG)
        .and_then(|v| v.to_str().ok())
        .filter(|e| !e.starts_with("W/"));
    etag.or_else(|| {
        headers
            .get(header::LAST_MODIFIED)
            .and_then(|v| v.to_str().ok())
    })
    .map(str::to_owned)
}

/// `bytes START-END/TOTAL` → (START, TOTAL).
fn content_range(headers: &header::HeaderMap) -> Option<(u64, Option<u64>)> {
    let v = headers.get(header::CONTENT_RANGE)?.to_str().ok()?;
    let rest = v.trim().strip_prefix("bytes ")?;
    let (span, total) = rest.split_once('/')?;
    let (start, _) = span.split_once('-')?;
    Some((start.trim().parse().ok()?, total.trim().parse().ok()))
}

fn length(headers: &header::HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

fn too_large(limit: u64, quota: bool) -> Stop {
    Stop::Source(
        Failure::SourceTooLarge,
        if quota {
            format!("the file is larger than what is left of your quota ({limit} bytes)")
        } else {
            format!("the file is larger than this server takes ({limit} bytes)")
        },
    )
}

impl Fetches {
    /// Downloads the rest of `url` into `part`; the file's size when it is whole.
    async fn download(
        &self,
        id: Uuid,
        url: &str,
        part: &Path,
        limit: u64,
        quota_bound: bool,
        control: &Control,
    ) -> Result<u64, Stop> {
        let parsed = url::Url::parse(url)
            .map_err(|e| Stop::Source(Failure::SourceNotAllowed, format!("not a URL: {e}")))?;
        if let Some(dir) = part.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(|e| Stop::Again(format!("creating {}: {e}", dir.display())))?;
        }
        let meta = read_meta(part).await.filter(|m| m.url == url);
        let have = match &meta {
            Some(_) => tokio::fs::metadata(part).await.map_or(0, |m| m.len()),
            None => 0,
        };
        let mut headers = header::HeaderMap::new();
        let resume = meta
            .as_ref()
            .and_then(|m| m.validator.clone())
            .filter(|_| have > 0);
        if let Some(v) = &resume
            && let (Ok(range), Ok(if_range)) = (
                header::HeaderValue::from_str(&format!("bytes={have}-")),
                header::HeaderValue::from_str(v),
            )
        {
            headers.insert(header::RANGE, range);
            headers.insert(header::IF_RANGE, if_range);
        }
        let response = match self.client.get(&parsed, headers).await {
            Ok(r) => r,
            Err(kadr_outbound::Error::Refused(why)) => {
                return Err(Stop::Source(Failure::SourceNotAllowed, why.to_string()));
            }
            Err(e) => return Err(Stop::Again(e.to_string())),
        };
        let status = response.status();
        let (start, total) = match status {
            StatusCode::PARTIAL_CONTENT if resume.is_some() => {
                match content_range(response.headers()) {
                    Some((s, t)) if s == have => (have, t),
                    // Not the range asked for: start over.
                    _ => {
                        remove_part(part).await;
                        return Err(Stop::Again("the server sent another range".to_owned()));
                    }
                }
            }
            StatusCode::OK => (0, length(response.headers())),
            StatusCode::RANGE_NOT_SATISFIABLE
                if resume.is_some() && meta.as_ref().and_then(|m| m.total) == Some(have) =>
            {
                // Everything had arrived.
                return Ok(have);
            }
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                return Err(Stop::Again(format!("the source answered {s}")));
            }
            s => {
                remove_part(part).await;
                return Err(Stop::Source(
                    Failure::SourceUnavailable,
                    format!("the source answered {s}"),
                ));
            }
        };
        if let Some(t) = total
            && t > limit
        {
            remove_part(part).await;
            return Err(too_large(limit, quota_bound));
        }
        let meta = PartMeta {
            url: url.to_owned(),
            validator: validator(response.headers()),
            total,
        };
        let mut file = if start == 0 {
            // A fresh body: the meta first, so a crash leaves a part that names its source.
            write_meta(part, &meta).await?;
            tokio::fs::File::create(part).await
        } else {
            tokio::fs::OpenOptions::new().append(true).open(part).await
        }
        .map_err(|e| Stop::Again(format!("opening {}: {e}", part.display())))?;
        let mut done = start;
        let mut body = response.bytes_stream();
        let stall = Duration::from_secs(self.ctx.config.import.stall_secs);
        let mut reported = Instant::now();
        loop {
            let next = tokio::select! {
                _ = control.stop().cancelled() => {
                    let _ = file.flush().await;
                    return Err(Stop::Released);
                }
                n = tokio::time::timeout(stall, body.next()) => n,
            };
            let chunk = match next {
                Err(_) => {
                    let _ = file.flush().await;
                    return Err(Stop::Again(format!(
                        "nothing arrived for {} s",
                        stall.as_secs()
                    )));
                }
                Ok(None) => break,
                Ok(Some(Err(e))) => {
                    let _ = file.flush().await;
                    return Err(Stop::Again(format!("the transfer broke: {e}")));
                }
                Ok(Some(Ok(c))) => c,
            };
            done += chunk.len() as u64;
            if done > limit {
                drop(file);
                remove_part(part).await;
                return Err(too_large(limit, quota_bound));
            }
            file.write_all(&chunk)
                .await
                .map_err(|e| Stop::Again(format!("writing {}: {e}", part.display())))?;
            if reported.elapsed() >= PROGRESS_EVERY {
                reported = Instant::now();
                let _ = imports::progress(&self.ctx.db, id, done, total).await;
            }
        }
        file.flush()
            .await
            .map_err(|e| Stop::Again(format!("writing {}: {e}", part.display())))?;
        file.sync_all()
            .await
            .map_err(|e| Stop::Again(format!("syncing {}: {e}", part.display())))?;
        if let Some(t) = total
            && done != t
        {
            return Err(Stop::Again(format!(
                "the body ended at {done} of {t} bytes"
            )));
        }
        let _ = imports::progress(&self.ctx.db, id, done, Some(done)).await;
        Ok(done)
    }

    /// Stores the object an `s3://SOURCE/BUCKET/KEY` names under `key`: on Kadr's own
    /// endpoint copied inside the S3 server (no byte through Kadr), from another endpoint
    /// streamed (about two parts in memory). The object's size is checked first.
    async fn copy_s3(&self, url: &str, key: &str, limit: u64, quota: bool) -> Result<u64, Stop> {
        use kadr_storage::{S3Options, Storage, StorageError};
        let ctx = &self.ctx;
        let loc = imports::s3_location(&ctx.config, url)
            .map_err(|e| Stop::Source(Failure::SourceNotAllowed, e.to_string()))?;
        let Some(src) = ctx.config.import.sources.get(&loc.source) else {
            return Err(Stop::Source(
                Failure::SourceNotAllowed,
                "the S3 source is no longer configured".to_owned(),
            ));
        };
        let source = match (&src.endpoint, ctx.storage.as_ref()) {
            (None, Storage::S3(own)) => Storage::S3(own.with_bucket(&loc.bucket)),
            (None, Storage::Local(_)) => {
                return Err(Stop::Source(
                    Failure::SourceNotAllowed,
                    "the S3 source names no endpoint and Kadr's storage is not S3".to_owned(),
                ));
            }
            (Some(endpoint), _) => {
                let s3 = &ctx.config.storage.s3;
                Storage::s3(S3Options {
                    endpoint: Some(endpoint.clone()),
                    bucket: loc.bucket.clone(),
                    region: src.region.clone(),
                    access_key_id: src.access_key_id.clone(),
                    secret_access_key: src
                        .secret_access_key
                        .as_ref()
                        .map(|s| s.expose().to_owned()),
                    path_style: src.path_style,
                    part_size: s3.part_size_mib * 1024 * 1024,
                    connect_timeout: Duration::from_secs(s3.connect_timeout_secs),
                    read_timeout: Duration::from_secs(s3.read_timeout_secs),
                    attempt_timeout: Duration::from_secs(s3.attempt_timeout_secs),
                    max_attempts: s3.max_attempts,
                })
                .await
                .map_err(|e| Stop::Again(format!("the S3 source: {e}")))?
            }
        };
        let missing = |e: StorageError| match e {
            StorageError::NotFound { .. } => Stop::Source(
                Failure::SourceUnavailable,
                "no such object in the source".to_owned(),
            ),
            StorageError::InvalidKey { .. } => Stop::Source(
                Failure::SourceUnavailable,
                "not a key Kadr reads".to_owned(),
            ),
            e => Stop::Again(format!("the S3 source: {e}")),
        };
        let meta = source.head(&loc.key).await.map_err(missing)?;
        if meta.size > limit {
            return Err(too_large(limit, quota));
        }
        /// CopyObject's limit.
        const COPY_MAX: u64 = 5 * 1024 * 1024 * 1024;
        if let (None, Storage::S3(own)) = (&src.endpoint, ctx.storage.as_ref())
            && meta.size <= COPY_MAX
        {
            let copied = own
                .copy_from_bucket(&loc.bucket, &loc.key, key)
                .await
                .map_err(missing)?;
            tracing::info!(
                key,
                bytes = copied.size,
                "import copied inside the S3 server"
            );
            return Ok(copied.size);
        }
        let object = source.get(&loc.key, None).await.map_err(missing)?;
        let stored = ctx
            .storage
            .put_stream(key, object.body, None)
            .await
            .map_err(|e| Stop::Again(format!("storing the file: {e}")))?;
        if stored.size > limit {
            let _ = ctx.storage.delete(key).await;
            return Err(too_large(limit, quota));
        }
        Ok(stored.size)
    }

    /// One attempt: `Ok(true)` when the import landed and its job was completed with it.
    async fn attempt(&self, job: &Job, control: &Control) -> Result<bool, Stop> {
        let work: FetchJob = job
            .payload()
            .map_err(|e| Stop::Source(Failure::ProcessingFailed, format!("unreadable job: {e}")))?;
        let ctx = &self.ctx;
        let Some(fetch) = imports::begin(&ctx.db, work.import_id)
            .await
            .map_err(|e| Stop::Again(format!("database: {e}")))?
        else {
            // Fetched, failed or deleted already.
            remove_part(&part_path(ctx, work.import_id)).await;
            return Ok(false);
        };
        let part = part_path(ctx, fetch.id);
        let elapsed = (chrono::Utc::now() - fetch.started_at.to_utc())
            .to_std()
            .unwrap_or_default();
        let budget = Duration::from_secs(ctx.config.import.max_secs);
        let Some(left) = budget.checked_sub(elapsed).filter(|d| !d.is_zero()) else {
            remove_part(&part).await;
            return Err(Stop::Source(
                Failure::FetchTimedOut,
                format!("longer than {} s", budget.as_secs()),
            ));
        };
        use sea_orm::EntityTrait;
        let Some(owner) = kadr_core::entities::user::Entity::find_by_id(fetch.owner_id)
            .one(&ctx.db)
            .await
            .map_err(|e| Stop::Again(format!("database: {e}")))?
        else {
            // The account is gone, and its imports with it.
            remove_part(&part).await;
            return Ok(false);
        };
        let room = kadr_core::uploads::quota_room(&ctx.db, &ctx.config, &owner)
            .await
            .map_err(|e| Stop::Again(format!("database: {e}")))?;
        let max = ctx.config.upload.max_size_bytes;
        let limit = max.min(room);
        let url = fetch.location.clone().unwrap_or_default();
        let key = kadr_core::keys::source(fetch.video_id);
        let s3 = url.starts_with("s3://");
        let work = async {
            if s3 {
                self.copy_s3(&url, &key, limit, room < max).await
            } else {
                let size = self
                    .download(fetch.id, &url, &part, limit, room < max, control)
                    .await?;
                crate::files::adopt_file(&ctx.storage, &part, &key)
                    .await
                    .map_err(|e| Stop::Again(format!("storing the file: {e}")))?;
                Ok(size)
            }
        };
        let size = match tokio::time::timeout(left, work).await {
            Ok(r) => r?,
            Err(_) => {
                return Err(if job.has_attempts_left() {
                    Stop::Again("over this attempt's time".to_owned())
                } else {
                    Stop::Source(
                        Failure::FetchTimedOut,
                        format!("longer than {} s", budget.as_secs()),
                    )
                });
            }
        };
        let filename = if s3 {
            url.rsplit('/').next().map(str::to_owned)
        } else {
            url::Url::parse(&url).ok().and_then(|u| {
                u.path_segments()
                    .and_then(|mut s| s.next_back().map(str::to_owned))
                    .filter(|s| !s.is_empty())
            })
        };
        let backend = match ctx.storage.as_ref() {
            kadr_storage::Storage::Local(_) => kadr_core::state::UploadBackend::Local,
            kadr_storage::Storage::S3(_) => kadr_core::state::UploadBackend::S3,
        };
        match imports::land(
            &ctx.db,
            &ctx.config,
            fetch.id,
            backend,
            size,
            filename,
            Some(job),
        )
        .await
        {
            Ok(Landed::Queued) => {
                tracing::info!(import = %fetch.id, video = %fetch.video_id, bytes = size, "import fetched; transcode queued");
                remove_part(&part).await;
                return Ok(true);
            }
            Ok(Landed::Already) => {}
            Ok(Landed::Gone) => {
                let _ = ctx.storage.delete(&key).await;
            }
            Err(e) => {
                return Err(match e.code() {
                    Some(kadr_core::Code::QuotaExceeded) => {
                        let _ = ctx.storage.delete(&key).await;
                        too_large(room, true)
                    }
                    _ => Stop::Again(format!("landing: {e}")),
                });
            }
        }
        remove_part(&part).await;
        Ok(false)
    }
}

impl Handler for Fetches {
    fn run(&self, job: Job, control: Control) -> BoxFuture<Outcome> {
        let this = Fetches {
            ctx: self.ctx.clone(),
            client: self.client.clone(),
        };
        Box::pin(async move {
            let id = job.payload::<FetchJob>().ok().map(|w| w.import_id);
            match this.attempt(&job, &control).await {
                Ok(true) => Outcome::Settled,
                Ok(false) => Outcome::Done,
                Err(Stop::Released) => Outcome::Release,
                Err(Stop::Again(why)) if job.has_attempts_left() => {
                    tracing::info!(import = ?id, why, "fetch will be tried again");
                    Outcome::Retry(why)
                }
                Err(Stop::Again(why)) => this.give_up(id, Failure::SourceUnavailable, &why).await,
                Err(Stop::Source(code, why)) => this.give_up(id, code, &why).await,
            }
        })
    }

    fn exhausted(&self, job: Job, reason: String) -> BoxFuture<Outcome> {
        let this = Fetches {
            ctx: self.ctx.clone(),
            client: self.client.clone(),
        };
        Box::pin(async move {
            let id = job.payload::<FetchJob>().ok().map(|w| w.import_id);
            this.give_up(id, Failure::SourceUnavailable, &reason).await
        })
    }
}

impl Fetches {
    async fn give_up(&self, id: Option<Uuid>, code: Failure, why: &str) -> Outcome {
        let Some(id) = id else {
            return Outcome::Fail(why.to_owned());
        };
        tracing::info!(import = %id, code = code.as_str(), why, "import failed");
        match imports::fail(&self.ctx.db, &self.ctx.config, id, code, why).await {
            Ok(()) => {
                remove_part(&part_path(&self.ctx, id)).await;
                Outcome::Fail(format!("{code}: {why}"))
            }
            Err(e) => Outcome::Retry(format!("database: {e}")),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn content_range_is_read() {
        let mut h = header::HeaderMap::new();
        h.insert(
            header::CONTENT_RANGE,
            header::HeaderValue::from_static("bytes 100-199/1000"),
        );
        assert_eq!(content_range(&h), Some((100, Some(1000))));
        h.insert(
            header::CONTENT_RANGE,
            header::HeaderValue::from_static("bytes 5-9/*"),
        );
        assert_eq!(content_range(&h), Some((5, None)));
        h.insert(
            header::CONTENT_RANGE,
            header::HeaderValue::from_static("items 1-2/3"),
        );
        assert_eq!(content_range(&h), None);
    }

    #[test]
    fn weak_etags_do_not_resume() {
        let mut h = header::HeaderMap::new();
        h.insert(header::ETAG, header::HeaderValue::from_static("W/\"abc\""));
        assert_eq!(validator(&h), None);
        h.insert(
            header::LAST_MODIFIED,
            header::HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(
            validator(&h).as_deref(),
            Some("Wed, 21 Oct 2015 07:28:00 GMT")
        );
        h.insert(header::ETAG, header::HeaderValue::from_static("\"v1\""));
        assert_eq!(validator(&h).as_deref(), Some("\"v1\""));
    }
}
