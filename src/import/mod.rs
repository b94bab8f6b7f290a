//! The pieces of `kadr import` (the command itself is `src/import_cli.rs`): what one item to
//! import is, read from a manifest (`manifest`) or from a yt-dlp archive (`ytdlp`); the calls
//! to the server (`api`); one row's import (`row`); and the report (`report`).

pub mod api;
pub mod manifest;
pub mod report;
pub mod row;
pub mod ytdlp;

use std::path::{Component, Path, PathBuf};

use sha2::Digest;

/// Longest external id the server takes, in characters.
pub const EXTERNAL_ID_MAX: usize = 200;
/// Largest thumbnail the server takes (and the most the CLI downloads of one).
pub const THUMBNAIL_MAX_BYTES: u64 = 10 * 1024 * 1024;
/// Largest caption file the server takes.
pub const CAPTIONS_MAX_BYTES: u64 = 2 * 1024 * 1024;

/// Where an item's file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file on this machine: the CLI uploads it with tus.
    Local { path: PathBuf, size: u64 },
    /// An `http(s)://` or `s3://` location the server fetches itself.
    Remote(String),
}

/// Where an item's thumbnail is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thumbnail {
    Local(PathBuf),
    /// Downloaded by the CLI (at most [`THUMBNAIL_MAX_BYTES`]) and sent as a file.
    Url(String),
}

/// What describes the video, as the import endpoint takes it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Meta {
    pub title: Option<String>,
    pub description: Option<String>,
    pub tags: Option<Vec<String>>,
    pub language: Option<String>,
    pub privacy: Option<String>,
    pub channel: Option<String>,
    pub original_date: Option<String>,
}

/// One video to import, checked.
#[derive(Debug, Clone)]
pub struct Item {
    /// Where it was read: the manifest's line number, or the archive's `.info.json` path.
    pub line: String,
    pub external_id: String,
    pub source: Source,
    pub meta: Meta,
    /// (language tag, caption file), languages distinct.
    pub captions: Vec<(String, PathBuf)>,
    pub thumbnail: Option<Thumbnail>,
}

/// Why a row cannot be imported: a stable code for the report and a reason in words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A JSON Lines row that is not a JSON object.
    BadJson,
    /// A CSV row that cannot be read, or a value of the wrong type.
    BadRow,
    UnknownColumn,
    UnknownKey,
    MissingSource,
    BadSource,
    FileNotFound,
    BadExternalId,
    BadDate,
    BadPrivacy,
    BadCaptions,
    BadThumbnail,
    DuplicateExternalId,
    /// A yt-dlp `.info.json` that cannot be used.
    BadInfoJson,
    /// A yt-dlp `.info.json` whose media file is not there.
    MediaNotFound,
}

impl Problem {
    pub fn code(self) -> &'static str {
        match self {
            Problem::BadJson => "bad_json",
            Problem::BadRow => "bad_row",
            Problem::UnknownColumn => "unknown_column",
            Problem::UnknownKey => "unknown_key",
            Problem::MissingSource => "missing_source",
            Problem::BadSource => "bad_source",
            Problem::FileNotFound => "file_not_found",
            Problem::BadExternalId => "bad_external_id",
            Problem::BadDate => "bad_date",
            Problem::BadPrivacy => "bad_privacy",
            Problem::BadCaptions => "bad_captions",
            Problem::BadThumbnail => "bad_thumbnail",
            Problem::DuplicateExternalId => "duplicate_external_id",
            Problem::BadInfoJson => "bad_info_json",
            Problem::MediaNotFound => "media_not_found",
        }
    }
}

/// A row that will not be imported, and why.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub line: String,
    pub external_id: Option<String>,
    pub problem: Problem,
    pub message: String,
}

/// One row of the input, in order.
#[derive(Debug, Clone)]
pub enum Entry {
    Good(Box<Item>),
    Bad(Rejected),
}

impl Entry {
    pub fn line(&self) -> &str {
        match self {
            Entry::Good(i) => &i.line,
            Entry::Bad(r) => &r.line,
        }
    }
}

/// A row before it is checked: every field as written.
#[derive(Debug, Clone, Default)]
pub struct Raw {
    pub source: Option<String>,
    pub external_id: Option<String>,
    pub meta: Meta,
    /// (language, path as written).
    pub captions: Vec<(String, String)>,
    pub thumbnail: Option<String>,
}

type Checked<T> = Result<T, (Problem, String)>;

/// Empty or blank text counts as absent.
pub fn given(s: Option<String>) -> Option<String> {
    s.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// Checks a row; paths are relative to `base` (the manifest's directory).
pub fn check(line: String, raw: Raw, base: &Path) -> Entry {
    let external_id = given(raw.external_id.clone());
    match check_fields(raw, base) {
        Ok((source, derived, meta, captions, thumbnail)) => Entry::Good(Box::new(Item {
            line,
            external_id: external_id.unwrap_or(derived),
            source,
            meta,
            captions,
            thumbnail,
        })),
        Err((problem, message)) => Entry::Bad(Rejected {
            line,
            external_id,
            problem,
            message,
        }),
    }
}

#[allow(clippy::type_complexity)]
fn check_fields(
    raw: Raw,
    base: &Path,
) -> Checked<(
    Source,
    String,
    Meta,
    Vec<(String, PathBuf)>,
    Option<Thumbnail>,
)> {
    let written = given(raw.source).ok_or((
        Problem::MissingSource,
        "no source: give a file path, an http(s):// URL or an s3:// location".to_owned(),
    ))?;
    let (source, derived) = source(&written, base)?;
    if let Some(id) = given(raw.external_id) {
        check_external_id(&id)?;
    }
    let mut meta = raw.meta;
    meta.title = given(meta.title);
    meta.description = meta.description.filter(|d| !d.trim().is_empty());
    meta.language = given(meta.language);
    meta.channel = given(meta.channel);
    meta.tags = meta.tags.map(|tags| {
        tags.into_iter()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty())
            .collect()
    });
    meta.privacy = given(meta.privacy).map(|p| p.to_ascii_lowercase());
    if let Some(p) = &meta.privacy
        && !matches!(p.as_str(), "public" | "unlisted" | "private")
    {
        return Err((
            Problem::BadPrivacy,
            format!("privacy `{p}` is not public, unlisted or private"),
        ));
    }
    meta.original_date = given(meta.original_date);
    if let Some(d) = &meta.original_date {
        check_date(d)?;
    }
    let mut captions: Vec<(String, PathBuf)> = Vec::new();
    for (lang, path) in raw.captions {
        let lang = lang.trim().to_owned();
        if !language_tag(&lang) {
            return Err((
                Problem::BadCaptions,
                format!("captions: `{lang}` is not a language tag such as ru, en or pt-BR"),
            ));
        }
        if captions.iter().any(|(l, _)| l.eq_ignore_ascii_case(&lang)) {
            return Err((
                Problem::BadCaptions,
                format!("captions: {lang} is given twice"),
            ));
        }
        let path = path.trim();
        if path.is_empty() {
            return Err((
                Problem::BadCaptions,
                format!("captions: no file for {lang}"),
            ));
        }
        let file = base.join(path);
        match std::fs::metadata(&file) {
            Ok(m) if m.is_file() && m.len() <= CAPTIONS_MAX_BYTES => {}
            Ok(m) if m.is_file() => {
                return Err((
                    Problem::BadCaptions,
                    format!("captions {lang}: {path} is larger than 2 MiB"),
                ));
            }
            _ => {
                return Err((
                    Problem::BadCaptions,
                    format!("captions {lang}: file not found: {path}"),
                ));
            }
        }
        captions.push((lang, file));
    }
    let thumbnail = match given(raw.thumbnail) {
        None => None,
        Some(t) if t.contains("://") => {
            let url = url::Url::parse(&t)
                .map_err(|e| (Problem::BadThumbnail, format!("thumbnail {t}: {e}")))?;
            if !matches!(url.scheme(), "http" | "https") {
                return Err((
                    Problem::BadThumbnail,
                    format!("thumbnail {t}: only http(s) URLs or local files"),
                ));
            }
            Some(Thumbnail::Url(t))
        }
        Some(t) => {
            let file = base.join(&t);
            match std::fs::metadata(&file) {
                Ok(m) if m.is_file() && m.len() <= THUMBNAIL_MAX_BYTES => {}
                Ok(m) if m.is_file() => {
                    return Err((
                        Problem::BadThumbnail,
                        format!("thumbnail {t} is larger than 10 MiB"),
                    ));
                }
                _ => {
                    return Err((
                        Problem::BadThumbnail,
                        format!("thumbnail file not found: {t}"),
                    ));
                }
            }
            Some(Thumbnail::Local(file))
        }
    };
    Ok((source, derived, meta, captions, thumbnail))
}

/// The source and the external id a row without one gets.
fn source(written: &str, base: &Path) -> Checked<(Source, String)> {
    if let Some((scheme, _)) = written.split_once("://") {
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https" | "s3") {
            return Err((
                Problem::BadSource,
                format!("{written}: only http://, https:// and s3:// sources, or local files"),
            ));
        }
        let url = url::Url::parse(written)
            .map_err(|e| (Problem::BadSource, format!("{written}: {e}")))?;
        if url.host_str().is_none_or(str::is_empty) {
            return Err((Problem::BadSource, format!("{written}: no host")));
        }
        return Ok((Source::Remote(written.to_owned()), derived_id(written)));
    }
    let path = base.join(written);
    let meta = std::fs::metadata(&path)
        .map_err(|_| (Problem::FileNotFound, format!("file not found: {written}")))?;
    if !meta.is_file() {
        return Err((Problem::FileNotFound, format!("not a file: {written}")));
    }
    let id = derived_id(&format!("file:{}", normal_path(Path::new(written))));
    Ok((
        Source::Local {
            path,
            size: meta.len(),
        },
        id,
    ))
}

/// A path as written, without `.` steps and with `/` between its parts.
fn normal_path(p: &Path) -> String {
    let mut parts = Vec::new();
    let mut absolute = false;
    for c in p.components() {
        match c {
            Component::RootDir => absolute = true,
            Component::CurDir | Component::Prefix(_) => {}
            Component::ParentDir => parts.push("..".to_owned()),
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

/// The external id of a row that gives none: the source as written (`file:` and the path
/// for local files), or `sha256:` and its digest when that is too long or not plain text.
pub fn derived_id(text: &str) -> String {
    if check_external_id(text).is_ok() {
        text.to_owned()
    } else {
        let digest = sha2::Sha256::digest(text.as_bytes());
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        format!("sha256:{hex}")
    }
}

/// The server's rule: 1 to 200 characters, no control characters.
pub fn check_external_id(id: &str) -> Checked<()> {
    if id.trim().is_empty()
        || id.chars().count() > EXTERNAL_ID_MAX
        || id.chars().any(char::is_control)
    {
        return Err((
            Problem::BadExternalId,
            "an external id is 1 to 200 characters, without control characters".to_owned(),
        ));
    }
    Ok(())
}

/// RFC 3339, or a date `YYYY-MM-DD`, as the server takes them.
pub fn check_date(text: &str) -> Checked<()> {
    let ok = chrono::DateTime::parse_from_rfc3339(text).is_ok()
        || chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok();
    if ok {
        Ok(())
    } else {
        Err((
            Problem::BadDate,
            format!(
                "original_date `{text}` is not a date (YYYY-MM-DD) or an RFC 3339 time \
                 (2019-05-01T10:00:00Z)"
            ),
        ))
    }
}

/// A BCP 47 tag as the server takes one: letters, digits and dashes.
pub fn language_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 35
        && tag.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && tag.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
}

/// Marks every row whose external id another row has too: which of them was meant cannot be
/// told, so none is imported.
pub fn reject_duplicates(entries: &mut [Entry]) {
    let mut seen: std::collections::HashMap<String, Vec<usize>> = Default::default();
    for (n, e) in entries.iter().enumerate() {
        if let Entry::Good(i) = e {
            seen.entry(i.external_id.clone()).or_default().push(n);
        }
    }
    for (id, at) in seen {
        if at.len() < 2 {
            continue;
        }
        let lines: Vec<String> = at.iter().map(|&n| entries[n].line().to_owned()).collect();
        for &n in &at {
            let line = entries[n].line().to_owned();
            let others: Vec<&str> = lines
                .iter()
                .filter(|l| **l != line)
                .map(String::as_str)
                .collect();
            entries[n] = Entry::Bad(Rejected {
                line,
                external_id: Some(id.clone()),
                problem: Problem::DuplicateExternalId,
                message: format!(
                    "external id `{id}` is also on {} {}",
                    if others.len() == 1 { "line" } else { "lines" },
                    others.join(", ")
                ),
            });
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_short_enough() {
        assert_eq!(
            normal_path(Path::new("./clips/./a.mp4")),
            "clips/a.mp4".to_owned()
        );
        assert_eq!(derived_id("file:clips/a.mp4"), "file:clips/a.mp4");
        let long = format!("https://example.org/{}", "x".repeat(300));
        let id = derived_id(&long);
        assert!(id.starts_with("sha256:") && id.len() == 71, "{id}");
        assert_eq!(id, derived_id(&long));
    }

    #[test]
    fn dates_and_tags() {
        assert!(check_date("2019-05-01").is_ok());
        assert!(check_date("2019-05-01T10:00:00+03:00").is_ok());
        assert!(check_date("01.05.2019").is_err());
        assert!(check_date("2019-13-01").is_err());
        assert!(language_tag("pt-BR") && language_tag("ru"));
        assert!(!language_tag("") && !language_tag("r u") && !language_tag("-en"));
    }
}
