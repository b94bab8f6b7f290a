//! Opaque keyset cursors: the sort key of the last item of a page, base64url JSON. Pages are
//! read with `WHERE (key, id) < (cursor)`, never with OFFSET, so every page costs the same.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, FixedOffset};
use kadr_http::ApiError;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where the previous page stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "k", rename_all = "lowercase")]
pub enum Cursor {
    /// By time, newest first.
    Time { t: DateTime<FixedOffset>, id: Uuid },
    /// By view count, most first.
    Views { n: i64, id: Uuid },
    /// By search rank, best first.
    Rank { r: f32, id: Uuid },
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    pub fn decode(s: &str) -> Result<Cursor, ApiError> {
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "invalid_cursor",
                    "The cursor is not one this API handed out",
                )
                .field("cursor")
            })
    }
}

/// A page size from `?limit=`: 1 to 100, default 24.
pub fn limit(given: Option<u32>) -> Result<u64, ApiError> {
    match given {
        None => Ok(24),
        Some(n) if (1..=100).contains(&n) => Ok(u64::from(n)),
        Some(_) => Err(ApiError::bad_request("invalid_limit", "limit is 1 to 100").field("limit")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_garbage() {
        let c = Cursor::Rank {
            r: 0.0607927,
            id: Uuid::from_u128(5),
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        let t = Cursor::Time {
            t: DateTime::parse_from_rfc3339("2026-11-23T10:00:00.123456+00:00").unwrap(),
            id: Uuid::from_u128(6),
        };
        assert_eq!(Cursor::decode(&t.encode()).unwrap(), t);
        assert_eq!(Cursor::decode("!!").unwrap_err().code, "invalid_cursor");
        assert_eq!(Cursor::decode("e30").unwrap_err().code, "invalid_cursor");
    }
}
