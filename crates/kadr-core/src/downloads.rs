//! Downloads: the progressive MP4 and the M4A a transcode makes (`downloads` rows, objects
//! under `downloads/{video}/`), who may fetch them, and the name a browser saves them under.
//!
//! The rule: whoever may see the video may download it while `videos.downloadable` is true;
//! when it is false only those who manage the video (its owner, admins). Everyone else is
//! told nothing exists (404), in the list and on the media path alike.

use sea_orm::{ConnectionTrait, DbBackend, FromQueryResult, Statement};
use uuid::Uuid;

use crate::error::DomainError;
use crate::state::DownloadFormat;
use crate::visibility::Viewer;

/// A download file recorded by a transcode.
#[derive(Debug, Clone, PartialEq, Eq, FromQueryResult)]
pub struct DownloadRow {
    pub format: DownloadFormat,
    pub storage_key: String,
    pub size_bytes: i64,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// Whether `viewer`, who may see the video, may download it.
pub fn may_download(viewer: &Viewer, owner: Uuid, downloadable: bool) -> bool {
    downloadable || viewer.manages(owner)
}

/// A video's downloads, MP4 first.
pub async fn list(db: &impl ConnectionTrait, video: Uuid) -> Result<Vec<DownloadRow>, DomainError> {
    Ok(
        DownloadRow::find_by_statement(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT format, storage_key, size_bytes, width, height FROM downloads
         WHERE video_id = $1 ORDER BY format DESC",
            vec![video.into()],
        ))
        .all(db)
        .await?,
    )
}

/// The file name a browser saves a download of a video titled `title` under: the title
/// without what file systems refuse (path separators, control and reserved characters),
/// trimmed and at most 120 characters, then the extension.
pub fn file_name(title: &str, format: DownloadFormat) -> String {
    let cleaned: String = title
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|') {
                ' '
            } else {
                c
            }
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    let mut stem: String = words.join(" ").chars().take(120).collect();
    stem = stem
        .trim_matches(|c: char| c == '.' || c.is_whitespace())
        .to_owned();
    if stem.is_empty() {
        stem = "video".to_owned();
    }
    format!("{stem}.{}", format.extension())
}

/// `Content-Disposition: attachment` naming `name` (RFC 6266): an ASCII `filename` for old
/// clients (other characters as `_`) and the exact name as `filename*` (RFC 5987, UTF-8,
/// percent-encoded).
pub fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' && c != '%' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::with_capacity(name.len() * 3);
    for b in name.bytes() {
        let plain = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
            );
        if plain {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_keep_the_title() {
        assert_eq!(
            file_name("Мой отпуск: день 1", DownloadFormat::Mp4),
            "Мой отпуск день 1.mp4"
        );
        assert_eq!(
            file_name("a/b\\c\u{0}d", DownloadFormat::M4a),
            "a b c d.m4a"
        );
        assert_eq!(file_name("  ..  ", DownloadFormat::Mp4), "video.mp4");
        assert_eq!(file_name(&"x".repeat(300), DownloadFormat::Mp4).len(), 124);
    }

    #[test]
    fn dispositions_are_rfc_6266() {
        assert_eq!(
            content_disposition("Кот.mp4"),
            "attachment; filename=\"___.mp4\"; filename*=UTF-8''%D0%9A%D0%BE%D1%82.mp4"
        );
        assert_eq!(
            content_disposition("قطة.m4a"),
            "attachment; filename=\"___.m4a\"; filename*=UTF-8''%D9%82%D8%B7%D8%A9.m4a"
        );
        assert_eq!(
            content_disposition("a \"b\" 100%.mp4"),
            "attachment; filename=\"a _b_ 100_.mp4\"; filename*=UTF-8''a%20%22b%22%20100%25.mp4"
        );
    }

    #[test]
    fn the_rule() {
        let owner = Uuid::from_u128(1);
        let stranger = Viewer {
            user: Some(Uuid::from_u128(2)),
            moderator: false,
            admin: false,
        };
        let me = Viewer {
            user: Some(owner),
            moderator: false,
            admin: false,
        };
        let admin = Viewer {
            user: Some(Uuid::from_u128(3)),
            moderator: false,
            admin: true,
        };
        assert!(may_download(&stranger, owner, true));
        assert!(may_download(&Viewer::default(), owner, true));
        assert!(!may_download(&stranger, owner, false));
        assert!(!may_download(&Viewer::default(), owner, false));
        assert!(may_download(&me, owner, false));
        assert!(may_download(&admin, owner, false));
    }
}
