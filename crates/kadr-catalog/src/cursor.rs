//! Opaque keyset cursors: the sort key of the last item of a page, base64url JSON. Pages are
//! read with `WHERE (key, id) < (cursor)`, never with OFFSET, so every page costs the same.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, FixedOffset};
use kadr_core::Code;
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
    /// By likes, most first (comments).
    Likes { n: i64, id: Uuid },
    /// By a sequence number alone, newest first (notifications).
    Seq { n: i64 },
    /// By a position alone, first first (playlists).
    Pos { n: i64 },
}

impl Cursor {
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(self).unwrap_or_default())
    }

    /// The kind's name: what a listing sorts by.
    fn kind(&self) -> &'static str {
        match self {
            Cursor::Time { .. } => "time",
            Cursor::Views { .. } => "views",
            Cursor::Rank { .. } => "rank",
            Cursor::Likes { .. } => "likes",
            Cursor::Seq { .. } => "seq",
            Cursor::Pos { .. } => "pos",
        }
    }

    /// The condition ` AND ({key}, {id}) {op} ($n, $n+1)` for the page after `given` (empty on
    /// the first page), binding the cursor's sort key and id after `values`. A cursor of
    /// another kind than `kind` (handed out by another listing) is refused.
    pub fn after(
        given: Option<&str>,
        kind: &str,
        key: &str,
        id: &str,
        op: &str,
        values: &mut Vec<sea_orm::Value>,
    ) -> Result<String, ApiError> {
        let Some(c) = given.map(Cursor::decode).transpose()? else {
            return Ok(String::new());
        };
        if c.kind() != kind {
            return Err(ApiError::bad_request(
                Code::InvalidCursor,
                "The cursor is for another listing",
            )
            .field("cursor"));
        }
        let (sort, last) = match c {
            Cursor::Time { t, id } => (t.into(), id),
            Cursor::Views { n, id } => (n.into(), id),
            Cursor::Rank { r, id } => (r.into(), id),
            Cursor::Likes { n, id } => (n.into(), id),
            Cursor::Seq { .. } | Cursor::Pos { .. } => return Err(Self::foreign()),
        };
        values.push(sort);
        values.push(last.into());
        Ok(format!(
            " AND ({key}, {id}) {op} (${}, ${})",
            values.len() - 1,
            values.len()
        ))
    }

    fn foreign() -> ApiError {
        ApiError::bad_request(Code::InvalidCursor, "The cursor is for another listing")
            .field("cursor")
    }

    /// ` AND {key} < $n` for the page after a sequence cursor (empty on the first page).
    pub fn after_seq(
        given: Option<&str>,
        key: &str,
        values: &mut Vec<sea_orm::Value>,
    ) -> Result<String, ApiError> {
        match given.map(Cursor::decode).transpose()? {
            None => Ok(String::new()),
            Some(Cursor::Seq { n }) => {
                values.push(n.into());
                Ok(format!(" AND {key} < ${}", values.len()))
            }
            Some(_) => Err(Self::foreign()),
        }
    }

    /// ` AND {key} > $n` for the page after a position cursor (empty on the first page).
    pub fn after_pos(
        given: Option<&str>,
        key: &str,
        values: &mut Vec<sea_orm::Value>,
    ) -> Result<String, ApiError> {
        match given.map(Cursor::decode).transpose()? {
            None => Ok(String::new()),
            Some(Cursor::Pos { n }) => {
                values.push(n.into());
                Ok(format!(" AND {key} > ${}", values.len()))
            }
            Some(_) => Err(Self::foreign()),
        }
    }

    pub fn decode(s: &str) -> Result<Cursor, ApiError> {
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .ok_or_else(|| {
                ApiError::bad_request(
                    Code::InvalidCursor,
                    "The cursor is not one this API handed out",
                )
                .field("cursor")
            })
    }
}

/// Splits the `limit + 1` rows a keyset query read into the page (`limit` rows) and the cursor
/// of the next page, made by `key` from the page's last row (none when the extra row is absent).
pub fn split<T>(
    mut rows: Vec<T>,
    limit: u64,
    key: impl Fn(&T) -> Option<Cursor>,
) -> (Vec<T>, Option<String>) {
    let more = rows.len() as u64 > limit;
    rows.truncate(limit as usize);
    let next = if more {
        rows.last().and_then(key).map(|c| c.encode())
    } else {
        None
    };
    (rows, next)
}

/// A page size from `?limit=`: 1 to 100, default 24.
pub fn limit(given: Option<u32>) -> Result<u64, ApiError> {
    match given {
        None => Ok(24),
        Some(n) if (1..=100).contains(&n) => Ok(u64::from(n)),
        Some(_) => {
            Err(ApiError::bad_request(Code::InvalidLimit, "limit is 1 to 100").field("limit"))
        }
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
        assert_eq!(
            Cursor::decode("!!").unwrap_err().code,
            kadr_core::Code::InvalidCursor
        );
        assert_eq!(
            Cursor::decode("e30").unwrap_err().code,
            kadr_core::Code::InvalidCursor
        );
    }

    #[test]
    fn split_keeps_the_page_and_names_the_next() {
        let key = |n: &i64| Some(Cursor::Seq { n: *n });
        let (page, next) = split(vec![5, 4, 3], 2, key);
        assert_eq!(page, vec![5, 4]);
        assert_eq!(
            Cursor::decode(&next.unwrap()).unwrap(),
            Cursor::Seq { n: 4 }
        );
        let (page, next) = split(vec![5, 4], 2, key);
        assert_eq!((page, next), (vec![5, 4], None));
    }

    #[test]
    fn after_binds_the_key_and_refuses_another_listings_cursor() {
        let mut values = vec![sea_orm::Value::from(1)];
        let views = Cursor::Views {
            n: 7,
            id: Uuid::from_u128(9),
        }
        .encode();
        let sql = Cursor::after(
            Some(&views),
            "views",
            "v.view_count",
            "v.id",
            "<",
            &mut values,
        );
        assert_eq!(sql.unwrap(), " AND (v.view_count, v.id) < ($2, $3)");
        assert_eq!(values.len(), 3);
        assert_eq!(
            Cursor::after(None, "views", "k", "i", "<", &mut values).unwrap(),
            ""
        );
        let err = Cursor::after(Some(&views), "time", "k", "i", "<", &mut values).unwrap_err();
        assert_eq!(err.code, kadr_core::Code::InvalidCursor);
        assert_eq!(values.len(), 3);
    }
}
