//! Byte ranges of an object, as in an HTTP `Range` header.

use std::fmt;

use crate::StorageError;

/// A single byte range of an object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// From this offset to the end (`bytes=N-`).
    From(u64),
    /// From the first to the last offset, both included (`bytes=N-M`). A last
    /// offset past the end of the object is cut to the end.
    Inclusive(u64, u64),
    /// The last N bytes (`bytes=-N`); the whole object when it is shorter.
    Suffix(u64),
}

impl ByteRange {
    /// Parses the value of an HTTP `Range` header holding a single byte range.
    ///
    /// Returns `None` for anything else (other units, several ranges, bad
    /// syntax, first > last): per RFC 9110 such a header is ignored and the
    /// whole object served.
    pub fn parse_http(value: &str) -> Option<ByteRange> {
        let (unit, spec) = value.trim().split_once('=')?;
        if !unit.trim().eq_ignore_ascii_case("bytes") {
            return None;
        }
        let (first, last) = spec.trim().split_once('-')?;
        match (parse_offset(first), parse_offset(last)) {
            (Some(first), Some(last)) if first <= last => Some(ByteRange::Inclusive(first, last)),
            (Some(first), None) if last.is_empty() => Some(ByteRange::From(first)),
            (None, Some(len)) if first.is_empty() => Some(ByteRange::Suffix(len)),
            _ => None,
        }
    }

    /// The first and last offset (inclusive) this range covers in an object of
    /// `size` bytes, or [`StorageError::InvalidRange`] when it covers nothing.
    pub fn resolve(self, size: u64) -> Result<(u64, u64), StorageError> {
        let unsatisfiable = Err(StorageError::InvalidRange { size });
        match self {
            ByteRange::From(first) if first < size => Ok((first, size - 1)),
            ByteRange::Inclusive(first, last) if first <= last && first < size => {
                Ok((first, last.min(size - 1)))
            }
            ByteRange::Suffix(len) if len > 0 && size > 0 => {
                Ok((size.saturating_sub(len), size - 1))
            }
            _ => unsatisfiable,
        }
    }
}

/// Formats as an HTTP `Range` header value, e.g. `bytes=0-99`.
impl fmt::Display for ByteRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ByteRange::From(first) => write!(f, "bytes={first}-"),
            ByteRange::Inclusive(first, last) => write!(f, "bytes={first}-{last}"),
            ByteRange::Suffix(len) => write!(f, "bytes=-{len}"),
        }
    }
}

fn parse_offset(s: &str) -> Option<u64> {
    let s = s.trim();
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn parses_single_ranges() {
        assert_eq!(ByteRange::parse_http("bytes=5-"), Some(ByteRange::From(5)));
        assert_eq!(
            ByteRange::parse_http("bytes=0-99"),
            Some(ByteRange::Inclusive(0, 99))
        );
        assert_eq!(
            ByteRange::parse_http("bytes=-500"),
            Some(ByteRange::Suffix(500))
        );
        assert_eq!(
            ByteRange::parse_http(" Bytes = 7 - 7 "),
            Some(ByteRange::Inclusive(7, 7))
        );
    }

    #[test]
    fn ignores_what_it_cannot_serve() {
        for value in [
            "",
            "bytes",
            "bytes=",
            "bytes=-",
            "bytes=5",
            "bytes=9-5",
            "bytes=0-1,5-6",
            "items=0-5",
            "bytes=+1-2",
            "bytes=a-b",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(ByteRange::parse_http(value), None, "{value:?}");
        }
    }

    #[test]
    fn resolves_against_the_size() {
        assert_eq!(ByteRange::From(3).resolve(10).unwrap(), (3, 9));
        assert_eq!(ByteRange::Inclusive(2, 4).resolve(10).unwrap(), (2, 4));
        assert_eq!(ByteRange::Inclusive(2, 400).resolve(10).unwrap(), (2, 9));
        assert_eq!(ByteRange::Suffix(3).resolve(10).unwrap(), (7, 9));
        assert_eq!(ByteRange::Suffix(30).resolve(10).unwrap(), (0, 9));
        for (range, size) in [
            (ByteRange::From(10), 10),
            (ByteRange::Inclusive(10, 20), 10),
            (ByteRange::Inclusive(5, 4), 10),
            (ByteRange::Suffix(0), 10),
            (ByteRange::From(0), 0),
            (ByteRange::Suffix(5), 0),
        ] {
            let err = range.resolve(size).unwrap_err();
            assert!(
                matches!(err, StorageError::InvalidRange { size: s } if s == size),
                "{range}: {err}"
            );
        }
    }

    #[test]
    fn formats_as_header() {
        assert_eq!(ByteRange::From(1).to_string(), "bytes=1-");
        assert_eq!(ByteRange::Inclusive(1, 2).to_string(), "bytes=1-2");
        assert_eq!(ByteRange::Suffix(3).to_string(), "bytes=-3");
    }
}
