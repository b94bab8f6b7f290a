//! Kadr configuration.
//!
//! Layers, each overriding the one before: `config/default.toml`, compiled in (every key and
//! its default, written once) → an optional file given with `--config` → environment
//! variables `KADR_<SECTION>__<KEY>` (for example `KADR_DATABASE__URL`,
//! `KADR_STORAGE__S3__BUCKET`).
//!
//! - `schema`: the sections and their keys;
//! - `load`: the layers, and errors that name the key and where it came from;
//! - `validate`: what types alone cannot check, section by section;
//! - `redact`: secrets kept out of logs and printouts ([`Secret`], [`Config::redacted`]).

mod load;
mod redact;
mod schema;
mod validate;

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

pub use load::{DEFAULTS_TOML, ENV_PREFIX, defaults};
pub use redact::redact_url;
pub use schema::*;

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
    pub(crate) fn invalid(key: &str, message: impl Into<String>) -> Self {
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
}

pub(crate) const REDACTED: &str = "<redacted>";

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str("\"\"")
        } else {
            write!(f, "\"{REDACTED}\"")
        }
    }
}
