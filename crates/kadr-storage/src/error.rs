//! The one error type of this crate.

/// Why a storage operation failed.
///
/// Every message is complete on its own (the cause is part of it), so logging
/// the error with `%err` or `{err}` is enough.
#[derive(Debug, thiserror::Error)]
pub enum StorageError {
    /// The key (or prefix) breaks the rules of [`crate::validate_key`].
    #[error("invalid object key {key:?}: {reason}")]
    InvalidKey {
        /// The key as given.
        key: String,
        /// Which rule it breaks.
        reason: &'static str,
    },
    /// No object is stored under this key.
    #[error("object {key:?} not found")]
    NotFound {
        /// The key that was asked for.
        key: String,
    },
    /// The requested byte range lies outside the object (HTTP 416).
    #[error("requested range not satisfiable for an object of {size} bytes")]
    InvalidRange {
        /// The size of the whole object.
        size: u64,
    },
    /// A filesystem or stream error, with what was being done at the time.
    #[error("{context}: {error}")]
    Io {
        /// What was being done, e.g. "creating directory /srv/kadr/hls".
        context: String,
        /// The underlying error.
        error: std::io::Error,
    },
    /// The S3 service (or the way to it) refused or failed a request.
    #[error("S3 {op} failed: {message}")]
    Backend {
        /// The S3 operation, e.g. "PutObject".
        op: &'static str,
        /// The service's error code and message, or the transport error.
        message: String,
    },
    /// The options given to [`crate::Storage::local`] or [`crate::Storage::s3`] are unusable.
    #[error("invalid storage options: {0}")]
    InvalidOptions(String),
}

impl StorageError {
    /// True when the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, StorageError::NotFound { .. })
    }

    /// An I/O error with what was being done.
    pub fn io(context: impl Into<String>, error: std::io::Error) -> Self {
        StorageError::Io {
            context: context.into(),
            error,
        }
    }
}
