//! Kadr's object storage: one interface over a local directory or an
//! S3-compatible bucket.
//!
//! Objects are addressed by `/`-separated keys (see [`validate_key`]); bodies
//! go in and out as streams of [`Bytes`], so an object of any size moves with
//! bounded memory. This crate knows nothing of configuration files or the
//! database: callers build [`LocalOptions`] or [`S3Options`] themselves.

mod error;
mod key;
mod local;
mod range;
mod s3;
#[cfg(feature = "test-server")]
pub mod testing;

use std::time::{Duration, SystemTime};

use bytes::Bytes;

pub use error::StorageError;
pub use key::{content_type_for_key, validate_key};
pub use local::{LocalOptions, LocalStorage};
pub use range::ByteRange;
pub use s3::{DEFAULT_PART_SIZE, ListedPart, MIN_PART_SIZE, S3Options, S3Storage, UploadedPart};

/// An object body: a stream of chunks, which ends early with an error when the
/// transfer fails.
pub type BodyStream = futures::stream::BoxStream<'static, std::io::Result<Bytes>>;

/// What is known about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    /// The object's key.
    pub key: String,
    /// Size of the whole object in bytes.
    pub size: u64,
    /// An opaque version tag that changes when the object is rewritten, without
    /// surrounding quotes (add them for an HTTP `ETag` header). Empty in
    /// listings from servers that leave it out (s3s-fs does).
    pub etag: String,
    /// When the object was last written, when the backend says.
    pub last_modified: Option<SystemTime>,
    /// The object's content type, when the backend says (S3 listings do not).
    pub content_type: Option<String>,
}

/// An object being read: its metadata, the byte range served, and the body.
pub struct GetObject {
    /// Metadata of the whole object (`size` is the whole object's size).
    pub meta: ObjectMeta,
    /// Offset of the first byte in `body`.
    pub start: u64,
    /// Offset of the last byte in `body` (inclusive); 0 for an empty object.
    pub end: u64,
    /// The bytes from `start` to `end`.
    pub body: BodyStream,
}

impl GetObject {
    /// Number of bytes in `body`.
    pub fn content_length(&self) -> u64 {
        if self.meta.size == 0 {
            0
        } else {
            self.end - self.start + 1
        }
    }
}

impl std::fmt::Debug for GetObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GetObject")
            .field("meta", &self.meta)
            .field("start", &self.start)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}

/// Object storage on one of the supported backends.
#[derive(Debug, Clone)]
pub enum Storage {
    /// Files in a directory on local disk.
    Local(LocalStorage),
    /// A bucket on S3 or an S3-compatible server.
    S3(S3Storage),
}

impl Storage {
    /// Storage in a local directory, created if missing.
    pub async fn local(opts: LocalOptions) -> Result<Storage, StorageError> {
        Ok(Storage::Local(LocalStorage::new(opts).await?))
    }

    /// Storage in an S3 bucket. Builds the client only: nothing is sent until
    /// the first operation (use [`Storage::check`] to test the connection).
    pub async fn s3(opts: S3Options) -> Result<Storage, StorageError> {
        Ok(Storage::S3(S3Storage::new(opts).await?))
    }

    /// `"local"` or `"s3"`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Storage::Local(_) => "local",
            Storage::S3(_) => "s3",
        }
    }

    /// Readiness: the root directory is writable, or the bucket is reachable
    /// with the given credentials.
    pub async fn check(&self) -> Result<(), StorageError> {
        match self {
            Storage::Local(s) => s.check().await,
            Storage::S3(s) => s.check().await,
        }
    }

    /// Stores `data` under `key`, replacing any object there. Without a
    /// content type, one is derived from the key's extension
    /// ([`content_type_for_key`]); the local backend always derives it.
    pub async fn put_bytes(
        &self,
        key: &str,
        data: Bytes,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta, StorageError> {
        validate_key(key)?;
        match self {
            Storage::Local(s) => s.put_bytes(key, data).await,
            Storage::S3(s) => s.put_bytes(key, data, content_type).await,
        }
    }

    /// Stores a body of any length under `key`, holding at most about one S3
    /// part (or one chunk on local disk) in memory. The object appears whole
    /// or not at all: on error nothing is left behind.
    pub async fn put_stream(
        &self,
        key: &str,
        body: BodyStream,
        content_type: Option<&str>,
    ) -> Result<ObjectMeta, StorageError> {
        validate_key(key)?;
        match self {
            Storage::Local(s) => s.put_stream(key, body).await,
            Storage::S3(s) => s.put_stream(key, body, content_type).await,
        }
    }

    /// Reads an object, or the given range of it, as a stream.
    pub async fn get(
        &self,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject, StorageError> {
        validate_key(key)?;
        match self {
            Storage::Local(s) => s.get(key, range).await,
            Storage::S3(s) => s.get(key, range).await,
        }
    }

    /// Metadata of an object.
    pub async fn head(&self, key: &str) -> Result<ObjectMeta, StorageError> {
        validate_key(key)?;
        match self {
            Storage::Local(s) => s.head(key).await,
            Storage::S3(s) => s.head(key).await,
        }
    }

    /// Deletes an object; deleting a missing object succeeds.
    pub async fn delete(&self, key: &str) -> Result<(), StorageError> {
        validate_key(key)?;
        match self {
            Storage::Local(s) => s.delete(key).await,
            Storage::S3(s) => s.delete(key).await,
        }
    }

    /// Deletes every object whose key starts with `prefix` (a plain string
    /// prefix, as on S3: end it with `/` to stay inside one folder) and returns
    /// how many were deleted. The empty prefix is refused.
    pub async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        key::validate_prefix(prefix)?;
        match self {
            Storage::Local(s) => s.delete_prefix(prefix).await,
            Storage::S3(s) => s.delete_prefix(prefix).await,
        }
    }

    /// Every object whose key starts with `prefix` (a plain string prefix, as
    /// on S3; empty for all objects), sorted by key.
    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StorageError> {
        if !prefix.is_empty() {
            key::validate_prefix(prefix)?;
        }
        let mut objects = match self {
            Storage::Local(s) => s.list(prefix).await?,
            Storage::S3(s) => s.list(prefix).await?,
        };
        objects.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(objects)
    }

    /// A URL that fetches the object with a plain GET until `ttl` has passed
    /// (S3 allows at most 7 days); `None` on the local backend, where the
    /// application serves the bytes itself.
    pub async fn presign_get(
        &self,
        key: &str,
        ttl: Duration,
    ) -> Result<Option<String>, StorageError> {
        validate_key(key)?;
        match self {
            Storage::Local(_) => Ok(None),
            Storage::S3(s) => s.presign_get(key, ttl, None).await.map(Some),
        }
    }

    /// Like [`Storage::presign_get`], the response's `Content-Type` and
    /// `Content-Disposition` set by the URL (S3's `response-content-type` and
    /// `response-content-disposition`, signed with it), so a download is saved under a
    /// name of our choosing.
    pub async fn presign_download(
        &self,
        key: &str,
        ttl: Duration,
        content_type: &str,
        content_disposition: &str,
    ) -> Result<Option<String>, StorageError> {
        validate_key(key)?;
        match self {
            Storage::Local(_) => Ok(None),
            Storage::S3(s) => s
                .presign_get(key, ttl, Some((content_type, content_disposition)))
                .await
                .map(Some),
        }
    }
}
