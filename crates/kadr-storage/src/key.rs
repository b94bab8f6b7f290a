//! Object keys: the rules every backend enforces, and content types by extension.

use crate::StorageError;

/// Longest key accepted, in bytes (the S3 limit).
pub(crate) const MAX_KEY_LEN: usize = 1024;

/// The local backend keeps its temporary files under this top-level folder,
/// so no key may start with it (on any backend, to keep them alike).
pub(crate) const RESERVED_TOP: &str = ".tmp";

/// Checks that `key` is a safe, portable object key.
///
/// A key is a `/`-separated relative path: not empty, at most 1024 bytes, no
/// leading `/`, no empty, `.` or `..` segments, no backslash, NUL or other
/// control characters, and not under the reserved top-level `.tmp/` folder.
/// Both backends accept exactly the same keys, so a key that works on local
/// disk works on S3 and the other way round.
pub fn validate_key(key: &str) -> Result<(), StorageError> {
    check_path(key, key)
}

/// Checks a prefix for `list` / `delete_prefix`: the key rules, except that a
/// single trailing `/` is allowed ("hls/v1/"). The empty prefix is refused here;
/// callers that allow it check for it first.
pub(crate) fn validate_prefix(prefix: &str) -> Result<(), StorageError> {
    check_path(prefix.strip_suffix('/').unwrap_or(prefix), prefix)
}

fn check_path(path: &str, shown: &str) -> Result<(), StorageError> {
    let invalid = |reason| {
        Err(StorageError::InvalidKey {
            key: shown.to_owned(),
            reason,
        })
    };
    if path.is_empty() {
        return invalid("empty");
    }
    if path.len() > MAX_KEY_LEN {
        return invalid("longer than 1024 bytes");
    }
    if path.starts_with('/') {
        return invalid("absolute path (leading '/')");
    }
    if path.contains('\0') {
        return invalid("contains a NUL byte");
    }
    if path.contains('\\') {
        return invalid("contains a backslash");
    }
    if path.chars().any(char::is_control) {
        return invalid("contains a control character");
    }
    for (i, segment) in path.split('/').enumerate() {
        match segment {
            "" => return invalid("empty path segment ('//' or trailing '/')"),
            "." | ".." => return invalid("'.' or '..' path segment"),
            RESERVED_TOP if i == 0 => return invalid("the top-level '.tmp' folder is reserved"),
            _ => {}
        }
    }
    Ok(())
}

/// The content type implied by the key's extension, for the media Kadr stores
/// (`application/octet-stream` when unknown).
pub fn content_type_for_key(key: &str) -> &'static str {
    let name = key.rsplit('/').next().unwrap_or(key);
    let ext = match name.rsplit_once('.') {
        Some((_, ext)) => ext.to_ascii_lowercase(),
        None => return OCTET_STREAM,
    };
    match ext.as_str() {
        "m3u8" => "application/vnd.apple.mpegurl",
        "m4s" | "mp4" => "video/mp4",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "vtt" => "text/vtt",
        "json" => "application/json",
        _ => OCTET_STREAM,
    }
}

const OCTET_STREAM: &str = "application/octet-stream";

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn accepts_ordinary_keys() {
        for key in [
            "a",
            "hls/0190/720p/seg_00001.m4s",
            "originals/x/source",
            "a.b/..c/d..",
            "ключ/видео.mp4",
            ".hidden",
            "x/.tmp/y",
        ] {
            validate_key(key).unwrap();
        }
        validate_key(&"k".repeat(MAX_KEY_LEN)).unwrap();
    }

    #[test]
    fn refuses_unsafe_keys() {
        let long = "k".repeat(MAX_KEY_LEN + 1);
        for key in [
            "",
            "/abs",
            "../x",
            "a/../b",
            "a/..",
            "./a",
            "a/./b",
            "a//b",
            "a/",
            "a\\b",
            "a\0b",
            "a\nb",
            "a\u{7f}b",
            ".tmp/x",
            ".tmp",
            long.as_str(),
        ] {
            let err = validate_key(key).unwrap_err();
            assert!(
                matches!(err, StorageError::InvalidKey { .. }),
                "{key:?}: {err}"
            );
        }
    }

    #[test]
    fn prefixes_may_end_with_one_slash() {
        validate_prefix("hls/v1/").unwrap();
        validate_prefix("hls/v").unwrap();
        for prefix in ["", "/", "hls//", "../", "/hls/"] {
            validate_prefix(prefix).unwrap_err();
        }
    }

    #[test]
    fn content_types_by_extension() {
        assert_eq!(
            content_type_for_key("hls/v/master.m3u8"),
            "application/vnd.apple.mpegurl"
        );
        assert_eq!(content_type_for_key("hls/v/720p/seg_1.m4s"), "video/mp4");
        assert_eq!(content_type_for_key("hls/v/720p/init.mp4"), "video/mp4");
        assert_eq!(content_type_for_key("thumbs/v/1.JPG"), "image/jpeg");
        assert_eq!(content_type_for_key("thumbs/v/1.webp"), "image/webp");
        assert_eq!(content_type_for_key("subs/v/en.vtt"), "text/vtt");
        assert_eq!(content_type_for_key("meta/v.json"), "application/json");
        assert_eq!(
            content_type_for_key("originals/v/source"),
            "application/octet-stream"
        );
        assert_eq!(
            content_type_for_key("dir.m3u8/source"),
            "application/octet-stream"
        );
    }
}
