//! The S3 backend (AWS S3 or any S3-compatible server).

use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::BehaviorVersion;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::config::{
    Credentials, Region, RequestChecksumCalculation, ResponseChecksumValidation,
};
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::{ByteStream, DateTime};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier};
use bytes::{Bytes, BytesMut};
use futures::StreamExt;

use crate::{
    BodyStream, ByteRange, GetObject, ObjectMeta, StorageError, content_type_for_key, validate_key,
};

/// The smallest part S3 accepts (except for the last part of an upload).
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;
/// The part size used when none is configured.
pub const DEFAULT_PART_SIZE: usize = 8 * 1024 * 1024;
/// The largest part S3 accepts.
const MAX_PART_SIZE: usize = 5 * 1024 * 1024 * 1024;

/// Options of the S3 backend.
#[derive(Clone)]
pub struct S3Options {
    /// Endpoint URL of an S3-compatible server (`http://127.0.0.1:9000`);
    /// `None` for AWS S3.
    pub endpoint: Option<String>,
    /// The bucket holding the objects; it must exist.
    pub bucket: String,
    /// Region to sign requests for (`us-east-1` suits most S3-compatible servers).
    pub region: String,
    /// Access key id; with the secret key, or both `None` to use the standard
    /// AWS chain (environment, profile files, instance metadata).
    pub access_key_id: Option<String>,
    /// Secret access key, given together with `access_key_id`.
    pub secret_access_key: Option<String>,
    /// Address buckets as `endpoint/bucket/key` instead of `bucket.endpoint/key`
    /// (needed by most self-hosted servers).
    pub path_style: bool,
    /// Size of the parts of a streamed upload in bytes: at least 5 MiB
    /// ([`MIN_PART_SIZE`]), by default 8 MiB ([`DEFAULT_PART_SIZE`]). A streamed
    /// upload holds about two parts in memory.
    pub part_size: usize,
    /// Connecting may take this long.
    pub connect_timeout: Duration,
    /// An answer may pause this long between reads.
    pub read_timeout: Duration,
    /// One attempt may take this long to answer.
    pub attempt_timeout: Duration,
    /// Attempts per request, the first included.
    pub max_attempts: u32,
}

impl Default for S3Options {
    fn default() -> Self {
        S3Options {
            endpoint: None,
            bucket: String::new(),
            region: "us-east-1".to_owned(),
            access_key_id: None,
            secret_access_key: None,
            path_style: false,
            part_size: DEFAULT_PART_SIZE,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(20),
            attempt_timeout: Duration::from_secs(60),
            max_attempts: 3,
        }
    }
}

/// Keeps the secret key out of logs.
impl std::fmt::Debug for S3Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Options")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field(
                "secret_access_key",
                &self.secret_access_key.as_ref().map(|_| "<redacted>"),
            )
            .field("path_style", &self.path_style)
            .field("part_size", &self.part_size)
            .finish()
    }
}

/// A part uploaded with [`S3Storage::upload_part`], as needed to complete the
/// upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedPart {
    /// The part's number, from 1 to 10000.
    pub part_number: i32,
    /// The ETag the server returned for the part.
    pub etag: String,
}

/// A part of an unfinished multipart upload, as [`S3Storage::list_parts`] reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedPart {
    /// The part's number, from 1 to 10000.
    pub part_number: i32,
    /// The part's ETag, as completing the upload needs it.
    pub etag: String,
    /// The part's size in bytes.
    pub size: u64,
}

/// Objects in an S3 bucket.
#[derive(Debug, Clone)]
pub struct S3Storage {
    client: Client,
    bucket: Arc<str>,
    part_size: usize,
}

impl S3Storage {
    pub(crate) async fn new(opts: S3Options) -> Result<S3Storage, StorageError> {
        let invalid = |msg: &str| Err(StorageError::InvalidOptions(msg.to_owned()));
        if opts.bucket.is_empty() {
            return invalid("the S3 bucket name is empty");
        }
        if opts.region.is_empty() {
            return invalid("the S3 region is empty");
        }
        if !(MIN_PART_SIZE..=MAX_PART_SIZE).contains(&opts.part_size) {
            return Err(StorageError::InvalidOptions(format!(
                "the S3 part size must be between 5 MiB and 5 GiB, not {} bytes",
                opts.part_size
            )));
        }
        if let Some(endpoint) = &opts.endpoint
            && !(endpoint.starts_with("http://") || endpoint.starts_with("https://"))
        {
            return Err(StorageError::InvalidOptions(format!(
                "the S3 endpoint {endpoint:?} is not an http:// or https:// URL"
            )));
        }

        let mut loader =
            aws_config::defaults(BehaviorVersion::latest()).region(Region::new(opts.region));
        match (opts.access_key_id, opts.secret_access_key) {
            (Some(id), Some(secret)) => {
                loader = loader.credentials_provider(Credentials::new(
                    id,
                    secret,
                    None,
                    None,
                    "kadr-options",
                ));
            }
            (None, None) => {}
            _ => {
                return invalid("give both the S3 access key id and secret access key, or neither");
            }
        }
        let shared = loader.load().await;
        // S3-compatible servers often reject the CRC checksums and aws-chunked
        // bodies newer SDKs send by default: only send them when required.
        // A server that accepts connections and never answers must fail requests in bounded
        // time, so callers answer 503 and jobs are retried.
        let timeouts = aws_smithy_types::timeout::TimeoutConfig::builder()
            .connect_timeout(opts.connect_timeout)
            .read_timeout(opts.read_timeout)
            .operation_attempt_timeout(opts.attempt_timeout)
            .build();
        let retry = aws_sdk_s3::config::retry::RetryConfig::standard()
            .with_max_attempts(opts.max_attempts.max(1));
        let mut config = aws_sdk_s3::config::Builder::from(&shared)
            .timeout_config(timeouts)
            .retry_config(retry)
            .force_path_style(opts.path_style)
            .request_checksum_calculation(RequestChecksumCalculation::WhenRequired)
            .response_checksum_validation(ResponseChecksumValidation::WhenRequired);
        if let Some(endpoint) = opts.endpoint {
            config = config.endpoint_url(endpoint);
        }
        Ok(S3Storage {
            client: Client::from_conf(config.build()),
            bucket: opts.bucket.into(),
            part_size: opts.part_size,
        })
    }

    pub(crate) async fn check(&self) -> Result<(), StorageError> {
        self.client
            .head_bucket()
            .bucket(&*self.bucket)
            .send()
            .await
            .map_err(|e| backend_error("HeadBucket", &e))?;
        Ok(())
    }

    pub(crate) async fn put_bytes(
        &self,
        key: &str,
        data: Bytes,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta, StorageError> {
        let content_type = content_type.unwrap_or_else(|| content_type_for_key(key));
        let size = data.len() as u64;
        let out = self
            .client
            .put_object()
            .bucket(&*self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| backend_error("PutObject", &e))?;
        Ok(ObjectMeta {
            key: key.to_owned(),
            size,
            etag: etag(out.e_tag()),
            last_modified: None,
            content_type: Some(content_type.to_owned()),
        })
    }

    /// One PutObject when the body fits in a part, else a multipart upload
    /// that reads the next part while the previous one is being sent.
    pub(crate) async fn put_stream(
        &self,
        key: &str,
        body: BodyStream,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta, StorageError> {
        let mut reader = PartReader::new(body, self.part_size);
        let first = reader.next_part().await.map_err(|e| body_error(key, e))?;
        if first.len() < self.part_size
            || !reader.has_more().await.map_err(|e| body_error(key, e))?
        {
            return self.put_bytes(key, first, content_type).await;
        }

        let upload_id = self.create_multipart(key, content_type).await?;
        let mut on_drop = AbortOnDrop {
            storage: self.clone(),
            key: key.to_owned(),
            upload_id: Some(upload_id.clone()),
        };
        let result = self.upload_all(key, &upload_id, first, &mut reader).await;
        on_drop.upload_id = None;
        match result {
            Ok(meta) => Ok(meta),
            Err(e) => {
                if let Err(abort) = self.abort_multipart(key, &upload_id).await {
                    tracing::warn!(key, error = %abort, "could not abort a failed multipart upload");
                }
                Err(e)
            }
        }
    }

    async fn upload_all(
        &self,
        key: &str,
        upload_id: &str,
        first: Bytes,
        reader: &mut PartReader,
    ) -> Result<ObjectMeta, StorageError> {
        let mut parts = Vec::new();
        let mut part = first;
        let mut part_number = 1;
        loop {
            let (uploaded, next) = tokio::join!(
                self.upload_part(key, upload_id, part_number, part),
                reader.next_part()
            );
            parts.push(UploadedPart {
                part_number,
                etag: uploaded?,
            });
            part = next.map_err(|e| body_error(key, e))?;
            if part.is_empty() {
                return self.complete_multipart(key, upload_id, &parts).await;
            }
            part_number += 1;
        }
    }

    /// Starts a multipart upload of `key` and returns its upload id. Without a
    /// content type, one is derived from the key ([`content_type_for_key`]).
    pub async fn create_multipart(
        &self,
        key: &str,
        content_type: Option<&str>,
    ) -> Result<String, StorageError> {
        validate_key(key)?;
        let out = self
            .client
            .create_multipart_upload()
            .bucket(&*self.bucket)
            .key(key)
            .content_type(content_type.unwrap_or_else(|| content_type_for_key(key)))
            .send()
            .await
            .map_err(|e| backend_error("CreateMultipartUpload", &e))?;
        out.upload_id.ok_or_else(|| StorageError::Backend {
            op: "CreateMultipartUpload",
            message: "the response has no upload id".to_owned(),
        })
    }

    /// Uploads part `part_number` (1 to 10000) of a multipart upload and returns
    /// its ETag. Every part but the last must be at least 5 MiB.
    pub async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: i32,
        data: Bytes,
    ) -> Result<String, StorageError> {
        validate_key(key)?;
        let out = self
            .client
            .upload_part()
            .bucket(&*self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number)
            .body(ByteStream::from(data))
            .send()
            .await
            .map_err(|e| backend_error("UploadPart", &e))?;
        match out.e_tag() {
            Some(tag) => Ok(tag.to_owned()),
            None => Err(StorageError::Backend {
                op: "UploadPart",
                message: format!("the response for part {part_number} has no ETag"),
            }),
        }
    }

    /// Completes a multipart upload from its parts (in order) and returns the
    /// new object's metadata.
    pub async fn complete_multipart(
        &self,
        key: &str,
        upload_id: &str,
        parts: &[UploadedPart],
    ) -> Result<ObjectMeta, StorageError> {
        validate_key(key)?;
        let parts = parts
            .iter()
            .map(|p| {
                CompletedPart::builder()
                    .part_number(p.part_number)
                    .e_tag(&p.etag)
                    .build()
            })
            .collect();
        self.client
            .complete_multipart_upload()
            .bucket(&*self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| backend_error("CompleteMultipartUpload", &e))?;
        self.head(key).await
    }

    /// Abandons a multipart upload, freeing its parts. Idempotent: one already gone
    /// (`NoSuchUpload`, aborted or completed before) is success, so a retried cleanup ends.
    pub async fn abort_multipart(&self, key: &str, upload_id: &str) -> Result<(), StorageError> {
        validate_key(key)?;
        let sent = self
            .client
            .abort_multipart_upload()
            .bucket(&*self.bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await;
        match sent {
            Ok(_) => Ok(()),
            Err(e)
                if e.code() == Some("NoSuchUpload")
                    || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
            {
                Ok(())
            }
            Err(e) => Err(backend_error("AbortMultipartUpload", &e)),
        }
    }

    /// The parts uploaded so far to a multipart upload, by part number (all pages). A number
    /// may appear more than once on servers that keep replaced parts (see below).
    /// `NotFound` when the upload is unknown (never started, completed or aborted).
    pub async fn list_parts(
        &self,
        key: &str,
        upload_id: &str,
    ) -> Result<Vec<ListedPart>, StorageError> {
        validate_key(key)?;
        let mut pages = self
            .client
            .list_parts()
            .bucket(&*self.bucket)
            .key(key)
            .upload_id(upload_id)
            .into_paginator()
            .send();
        let mut parts = Vec::new();
        while let Some(page) = pages.next().await {
            let page = match page {
                Ok(page) => page,
                Err(e) if e.code() == Some("NoSuchUpload") || status(&e) == Some(404) => {
                    return Err(StorageError::NotFound {
                        key: key.to_owned(),
                    });
                }
                Err(e) => return Err(backend_error("ListParts", &e)),
            };
            parts.extend(page.parts().iter().filter_map(|p| {
                Some((
                    ListedPart {
                        part_number: p.part_number()?,
                        etag: p.e_tag()?.to_owned(),
                        size: non_negative(p.size()),
                    },
                    system_time(p.last_modified()),
                ))
            }));
        }
        // S3 lists one entry per number, a part sent again replacing the earlier one;
        // SeaweedFS (4.48) lists every one sent (copies sent within the same second in no
        // set order), so callers choose among equal numbers (by time here, then as listed).
        parts.sort_by_key(|p| (p.0.part_number, p.1));
        Ok(parts.into_iter().map(|(p, _)| p).collect())
    }

    /// The multipart uploads started under `prefix` and neither completed nor aborted,
    /// as (key, upload id).
    pub async fn list_multipart_uploads(
        &self,
        prefix: &str,
    ) -> Result<Vec<(String, String)>, StorageError> {
        let mut uploads = Vec::new();
        let mut key_marker: Option<String> = None;
        let mut id_marker: Option<String> = None;
        loop {
            let out = self
                .client
                .list_multipart_uploads()
                .bucket(&*self.bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.take())
                .set_upload_id_marker(id_marker.take())
                .send()
                .await
                .map_err(|e| backend_error("ListMultipartUploads", &e))?;
            uploads.extend(
                out.uploads()
                    .iter()
                    .filter_map(|u| Some((u.key()?.to_owned(), u.upload_id()?.to_owned()))),
            );
            if out.is_truncated() != Some(true) {
                return Ok(uploads);
            }
            key_marker = out.next_key_marker().map(str::to_owned);
            id_marker = out.next_upload_id_marker().map(str::to_owned);
            if key_marker.is_none() && id_marker.is_none() {
                return Ok(uploads);
            }
        }
    }

    /// A URL a client can PUT part `part_number` of a multipart upload to, for `ttl`,
    /// without credentials of its own. The part's `size` is signed with it: storage refuses
    /// a body of any other length, so a URL cannot store more than it was made for.
    pub async fn presign_upload_part(
        &self,
        key: &str,
        upload_id: &str,
        part_number: i32,
        size: u64,
        ttl: Duration,
    ) -> Result<String, StorageError> {
        validate_key(key)?;
        let config = PresigningConfig::expires_in(ttl).map_err(|e| StorageError::Backend {
            op: "UploadPart (presign)",
            message: e.to_string(),
        })?;
        let request = self
            .client
            .upload_part()
            .bucket(&*self.bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number)
            .content_length(i64::try_from(size).unwrap_or(i64::MAX))
            .presigned(config)
            .await
            .map_err(|e| backend_error("UploadPart (presign)", &e))?;
        Ok(request.uri().to_owned())
    }

    /// Makes the bucket; one that exists already and is ours is success.
    pub async fn create_bucket(&self) -> Result<(), StorageError> {
        match self
            .client
            .create_bucket()
            .bucket(&*self.bucket)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e) if e.code() == Some("BucketAlreadyOwnedByYou") => Ok(()),
            Err(e) => Err(backend_error("CreateBucket", &e)),
        }
    }

    pub(crate) async fn get(
        &self,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject, StorageError> {
        let sent = self
            .client
            .get_object()
            .bucket(&*self.bucket)
            .key(key)
            .set_range(range.map(|r| r.to_string()))
            .send()
            .await;
        let out = match sent {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => {
                return Err(StorageError::NotFound {
                    key: key.to_owned(),
                });
            }
            Err(e) if e.code() == Some("InvalidRange") || status(&e) == Some(416) => {
                let size = self.head(key).await?.size;
                return Err(StorageError::InvalidRange { size });
            }
            Err(e) => return Err(backend_error("GetObject", &e)),
        };

        let length = non_negative(out.content_length());
        let (start, end, size) = match out.content_range().map(parse_content_range) {
            Some(Some(parsed)) => parsed,
            Some(None) => {
                return Err(StorageError::Backend {
                    op: "GetObject",
                    message: format!(
                        "unreadable Content-Range {:?}",
                        out.content_range().unwrap_or_default()
                    ),
                });
            }
            // The whole object came back: a range on an empty object, or a
            // server that ignores ranges.
            None => {
                let whole = (0, length.saturating_sub(1));
                if let Some(range) = range
                    && range.resolve(length)? != whole
                {
                    return Err(StorageError::Backend {
                        op: "GetObject",
                        message: format!("the server ignored the range {range}"),
                    });
                }
                (whole.0, whole.1, length)
            }
        };
        let meta = ObjectMeta {
            key: key.to_owned(),
            size,
            etag: etag(out.e_tag()),
            last_modified: system_time(out.last_modified()),
            content_type: out.content_type().map(str::to_owned),
        };
        let mut body = out.body;
        let body = futures::stream::poll_fn(move |cx| {
            Pin::new(&mut body)
                .poll_next(cx)
                .map_err(std::io::Error::other)
        })
        .boxed();
        Ok(GetObject {
            meta,
            start,
            end,
            body,
        })
    }

    /// The same endpoint and credentials on another bucket (to read an import's source).
    pub fn with_bucket(&self, bucket: &str) -> S3Storage {
        S3Storage {
            client: self.client.clone(),
            bucket: Arc::from(bucket),
            part_size: self.part_size,
        }
    }

    /// The bucket this storage writes to.
    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    /// Copies `src_key` of `src_bucket` (on the same endpoint, readable with these
    /// credentials) to `key` here, inside the S3 server: no byte passes through Kadr.
    /// CopyObject takes objects of up to 5 GiB.
    pub async fn copy_from_bucket(
        &self,
        src_bucket: &str,
        src_key: &str,
        key: &str,
    ) -> Result<ObjectMeta, StorageError> {
        crate::key::validate_key(key)?;
        crate::key::validate_key(src_key)?;
        let source = format!("{}/{}", src_bucket, copy_source_key(src_key));
        match self
            .client
            .copy_object()
            .bucket(&*self.bucket)
            .key(key)
            .copy_source(source)
            .send()
            .await
        {
            Ok(_) => {}
            Err(e) if is_not_found(&e) || e.code() == Some("NoSuchBucket") => {
                return Err(StorageError::NotFound {
                    key: format!("{src_bucket}/{src_key}"),
                });
            }
            Err(e) => return Err(backend_error("CopyObject", &e)),
        }
        self.head(key).await
    }

    pub(crate) async fn head(&self, key: &str) -> Result<ObjectMeta, StorageError> {
        let out = match self
            .client
            .head_object()
            .bucket(&*self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => {
                return Err(StorageError::NotFound {
                    key: key.to_owned(),
                });
            }
            Err(e) => return Err(backend_error("HeadObject", &e)),
        };
        Ok(ObjectMeta {
            key: key.to_owned(),
            size: non_negative(out.content_length()),
            etag: etag(out.e_tag()),
            last_modified: system_time(out.last_modified()),
            content_type: out.content_type().map(str::to_owned),
        })
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        self.client
            .delete_object()
            .bucket(&*self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| backend_error("DeleteObject", &e))?;
        Ok(())
    }

    pub(crate) async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StorageError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&*self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut objects = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| backend_error("ListObjectsV2", &e))?;
            objects.extend(page.contents().iter().filter_map(|o| {
                Some(ObjectMeta {
                    key: o.key()?.to_owned(),
                    size: non_negative(o.size()),
                    etag: etag(o.e_tag()),
                    last_modified: system_time(o.last_modified()),
                    content_type: None,
                })
            }));
        }
        Ok(objects)
    }

    /// Deletes page by page: each listing page (at most 1000 keys) becomes one
    /// DeleteObjects request.
    pub(crate) async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&*self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        let mut deleted = 0;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| backend_error("ListObjectsV2", &e))?;
            let ids = page
                .contents()
                .iter()
                .filter_map(|o| {
                    ObjectIdentifier::builder()
                        .set_key(o.key.clone())
                        .build()
                        .ok()
                })
                .collect::<Vec<_>>();
            if ids.is_empty() {
                continue;
            }
            let count = ids.len() as u64;
            let delete = Delete::builder()
                .set_objects(Some(ids))
                .quiet(true)
                .build()
                .map_err(|e| StorageError::Backend {
                    op: "DeleteObjects",
                    message: e.to_string(),
                })?;
            let out = self
                .client
                .delete_objects()
                .bucket(&*self.bucket)
                .delete(delete)
                .send()
                .await
                .map_err(|e| backend_error("DeleteObjects", &e))?;
            if let Some(first) = out.errors().first() {
                return Err(StorageError::Backend {
                    op: "DeleteObjects",
                    message: format!(
                        "{} of {count} objects not deleted, e.g. {:?}: {} {}",
                        out.errors().len(),
                        first.key().unwrap_or_default(),
                        first.code().unwrap_or_default(),
                        first.message().unwrap_or_default(),
                    ),
                });
            }
            deleted += count;
        }
        Ok(deleted)
    }

    /// A presigned GET; `overrides` (content type, content disposition) become the
    /// response's headers.
    pub(crate) async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
        overrides: Option<(&str, &str)>,
    ) -> Result<String, StorageError> {
        let config = PresigningConfig::expires_in(ttl).map_err(|e| StorageError::Backend {
            op: "GetObject (presign)",
            message: e.to_string(),
        })?;
        let mut get = self.client.get_object().bucket(&*self.bucket).key(key);
        if let Some((content_type, disposition)) = overrides {
            get = get
                .response_content_type(content_type)
                .response_content_disposition(disposition);
        }
        let request = get
            .presigned(config)
            .await
            .map_err(|e| backend_error("GetObject (presign)", &e))?;
        Ok(request.uri().to_owned())
    }
}

/// Splits a body into parts of exactly `part_size` bytes (the last may be
/// shorter), holding at most one part and one incoming chunk.
struct PartReader {
    body: BodyStream,
    pending: Bytes,
    done: bool,
    part_size: usize,
}

impl PartReader {
    fn new(body: BodyStream, part_size: usize) -> Self {
        PartReader {
            body,
            pending: Bytes::new(),
            done: false,
            part_size,
        }
    }

    /// Whether any bytes are left, reading the next chunk if needed.
    async fn has_more(&mut self) -> std::io::Result<bool> {
        while self.pending.is_empty() && !self.done {
            match self.body.next().await {
                Some(chunk) => self.pending = chunk?,
                None => self.done = true,
            }
        }
        Ok(!self.pending.is_empty())
    }

    /// The next part; empty when the body is over.
    async fn next_part(&mut self) -> std::io::Result<Bytes> {
        if !self.has_more().await? {
            return Ok(Bytes::new());
        }
        if self.pending.len() >= self.part_size {
            return Ok(self.pending.split_to(self.part_size));
        }
        let mut part = BytesMut::with_capacity(self.part_size);
        while part.len() < self.part_size && self.has_more().await? {
            let take = self.pending.len().min(self.part_size - part.len());
            part.extend_from_slice(&self.pending.split_to(take));
        }
        Ok(part.freeze())
    }
}

/// Aborts a multipart upload in the background when `put_stream` is dropped
/// before finishing (a cancelled request), so no orphan parts are left.
struct AbortOnDrop {
    storage: S3Storage,
    key: String,
    upload_id: Option<String>,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        let Some(upload_id) = self.upload_id.take() else {
            return;
        };
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let storage = self.storage.clone();
        let key = std::mem::take(&mut self.key);
        runtime.spawn(async move {
            if let Err(e) = storage.abort_multipart(&key, &upload_id).await {
                tracing::warn!(key, error = %e, "could not abort a cancelled multipart upload");
            }
        });
    }
}

fn body_error(key: &str, e: std::io::Error) -> StorageError {
    StorageError::io(format!("reading the body of {key:?}"), e)
}

fn status<E>(e: &SdkError<E, HttpResponse>) -> Option<u16> {
    e.raw_response().map(|r| r.status().as_u16())
}

/// A key as `x-amz-copy-source` takes it: percent-encoded but for the unreserved characters
/// and `/`.
fn copy_source_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn is_not_found<E: ProvideErrorMetadata>(e: &SdkError<E, HttpResponse>) -> bool {
    match e.code() {
        Some(code) => code == "NoSuchKey" || code == "NotFound",
        // HEAD responses have no body, so no error code: go by the status.
        None => status(e) == Some(404),
    }
}

/// A readable message: the service's error code and message, or the whole
/// chain of causes for transport errors.
fn backend_error<E>(op: &'static str, e: &SdkError<E, HttpResponse>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = match (e, e.code()) {
        (SdkError::ServiceError(service), Some(code)) => format!(
            "{code}: {} (HTTP {})",
            e.message().unwrap_or("no message"),
            service.raw().status().as_u16()
        ),
        (SdkError::ServiceError(service), None) => {
            format!("HTTP {}", service.raw().status().as_u16())
        }
        _ => DisplayErrorContext(e).to_string(),
    };
    StorageError::Backend { op, message }
}

/// `bytes START-END/SIZE` → (start, end, size).
fn parse_content_range(value: &str) -> Option<(u64, u64, u64)> {
    let (range, size) = value.strip_prefix("bytes ")?.split_once('/')?;
    let (start, end) = range.split_once('-')?;
    Some((start.parse().ok()?, end.parse().ok()?, size.parse().ok()?))
}

fn etag(value: Option<&str>) -> String {
    value.unwrap_or_default().trim_matches('"').to_owned()
}

fn system_time(value: Option<&DateTime>) -> Option<SystemTime> {
    value.and_then(|t| SystemTime::try_from(*t).ok())
}

fn non_negative(value: Option<i64>) -> u64 {
    value.and_then(|v| u64::try_from(v).ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn parses_content_range() {
        assert_eq!(parse_content_range("bytes 0-9/100"), Some((0, 9, 100)));
        assert_eq!(parse_content_range("bytes */100"), None);
        assert_eq!(parse_content_range("0-9/100"), None);
    }

    #[tokio::test]
    async fn splits_a_body_into_exact_parts() {
        let chunks =
            [3usize, 1, 7, 0, 12, 2].map(|n| Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; n])));
        let mut reader = PartReader::new(futures::stream::iter(chunks).boxed(), 5);
        let mut sizes = Vec::new();
        loop {
            let part = reader.next_part().await.unwrap();
            if part.is_empty() {
                break;
            }
            sizes.push(part.len());
        }
        assert_eq!(sizes, [5, 5, 5, 5, 5]);
    }

    #[tokio::test]
    async fn refuses_bad_options() {
        let cases = [
            S3Options::default(),
            S3Options {
                bucket: "b".into(),
                part_size: 1024,
                ..S3Options::default()
            },
            S3Options {
                bucket: "b".into(),
                access_key_id: Some("id".into()),
                ..S3Options::default()
            },
            S3Options {
                bucket: "b".into(),
                endpoint: Some("127.0.0.1:9000".into()),
                ..S3Options::default()
            },
        ];
        for opts in cases {
            let err = S3Storage::new(opts).await.unwrap_err();
            assert!(matches!(err, StorageError::InvalidOptions(_)), "{err}");
        }
    }
}
