//! Archives written by yt-dlp (`--write-info-json --write-subs --write-thumbnail`): every
//! `STEM.info.json` under the directory is one video, its media file beside it
//! (`requested_downloads[].filepath`, `_filename`, `filename`, or `STEM.EXT`), its captions
//! `STEM.LANG.vtt|srt` and its thumbnail `STEM.jpg|jpeg|png|webp`.
//!
//! Mapping: `title`, `description`, `tags` then `categories` (trimmed, de-duplicated, at most
//! 30 of at most 64 characters), `timestamp` (else `upload_date` YYYYMMDD, else
//! `release_timestamp`/`release_date`) → original date, `language`, `availability` →
//! privacy, and `extractor_key` + `id` → the external id `extractor:id` (the extractor in
//! lower case, as yt-dlp's own download archive names videos).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde_json::Value;

use super::{Entry, Meta, Problem, Raw, Rejected, check, language_tag, reject_duplicates};

/// Media files yt-dlp writes (after merging or remuxing).
const MEDIA_EXTENSIONS: [&str; 14] = [
    "mp4", "mkv", "webm", "mov", "m4v", "avi", "flv", "ts", "3gp", "ogv", "mpg", "mpeg", "m4a",
    "mp3",
];
const THUMBNAIL_EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];
/// An `.info.json` larger than this is not read (a video's own is a few hundred KiB).
const INFO_MAX_BYTES: u64 = 64 * 1024 * 1024;

const TITLE_MAX: usize = 300;
const DESCRIPTION_MAX: usize = 10_000;
const TAGS_MAX: usize = 30;
const TAG_MAX: usize = 64;

/// Every `.info.json` under `dir`, in path order (as `line` the path relative to `dir`).
pub fn load(dir: &Path) -> anyhow::Result<Vec<Entry>> {
    let mut infos = Vec::new();
    walk(dir, &mut infos).with_context(|| format!("cannot read {}", dir.display()))?;
    infos.sort();
    let mut entries = Vec::new();
    for info in infos {
        let line = info
            .strip_prefix(dir)
            .unwrap_or(&info)
            .to_string_lossy()
            .into_owned();
        if let Some(e) = entry(&info, line) {
            entries.push(e);
        }
    }
    reject_duplicates(&mut entries);
    Ok(entries)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let kind = e.file_type()?;
        let path = e.path();
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file()
            && path
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.ends_with(".info.json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

fn rejected(line: String, external_id: Option<String>, problem: Problem, msg: String) -> Entry {
    Entry::Bad(Rejected {
        line,
        external_id,
        problem,
        message: msg,
    })
}

/// One `.info.json` as an entry; `None` for what is not a video (a playlist's or channel's
/// own info file).
fn entry(info_path: &Path, line: String) -> Option<Entry> {
    let bad = |p, m: String| Some(rejected(line.clone(), None, p, m));
    let size = std::fs::metadata(info_path).map(|m| m.len()).unwrap_or(0);
    if size > INFO_MAX_BYTES {
        return bad(Problem::BadInfoJson, "larger than 64 MiB".to_owned());
    }
    let info: Value = match std::fs::read(info_path)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => return bad(Problem::BadInfoJson, format!("unreadable: {e}")),
    };
    if !info.is_object() {
        return bad(Problem::BadInfoJson, "not a JSON object".to_owned());
    }
    if info["_type"]
        .as_str()
        .is_some_and(|t| t != "video" && t != "url_transparent")
    {
        return None;
    }
    let name = info_path.file_name()?.to_string_lossy().into_owned();
    let stem = name.strip_suffix(".info.json")?.to_owned();
    let dir = info_path.parent().unwrap_or(Path::new("."));
    let extractor = text(&info["extractor_key"]).or_else(|| text(&info["extractor"]));
    let id = text(&info["id"]);
    let external_id = match (extractor, id) {
        (Some(x), Some(id)) => format!("{}:{id}", x.to_lowercase()),
        _ => {
            return bad(
                Problem::BadInfoJson,
                "no `extractor_key` and `id` to name the video by".to_owned(),
            );
        }
    };
    let siblings: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().to_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let Some(media) = media_file(&info, dir, &stem, &siblings) else {
        return Some(rejected(
            line,
            Some(external_id),
            Problem::MediaNotFound,
            format!("no media file beside {name} (looked for {stem}.EXT)"),
        ));
    };
    let captions = siblings
        .iter()
        .filter_map(|f| {
            let rest = f.strip_prefix(&stem)?.strip_prefix('.')?;
            let (lang, ext) = rest.rsplit_once('.')?;
            (matches!(ext.to_ascii_lowercase().as_str(), "vtt" | "srt")
                && !lang.contains('.')
                && language_tag(lang))
            .then(|| (lang.to_owned(), f.clone()))
        })
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .collect();
    let thumbnail = THUMBNAIL_EXTENSIONS
        .iter()
        .map(|ext| format!("{stem}.{ext}"))
        .find(|f| siblings.contains(f));
    let raw = Raw {
        source: Some(media.to_string_lossy().into_owned()),
        external_id: Some(external_id),
        meta: meta(&info),
        captions,
        thumbnail,
    };
    Some(check(line, raw, dir))
}

fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn truncated(s: String, max: usize) -> String {
    if s.chars().count() > max {
        s.chars().take(max).collect()
    } else {
        s
    }
}

/// The media file of the video: a path yt-dlp recorded (looked for beside the info file
/// first, as archives move), else `STEM.EXT`, else any `STEM.<media extension>`.
fn media_file(info: &Value, dir: &Path, stem: &str, siblings: &[String]) -> Option<PathBuf> {
    let mut recorded: Vec<&str> = info["requested_downloads"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["filepath"].as_str()).collect())
        .unwrap_or_default();
    recorded.extend(
        ["_filename", "filename"]
            .iter()
            .filter_map(|k| info[*k].as_str()),
    );
    for r in recorded {
        let p = Path::new(r);
        if let Some(name) = p.file_name()
            && dir.join(name).is_file()
        {
            return Some(dir.join(name));
        }
        if p.is_absolute() && p.is_file() {
            return Some(p.to_path_buf());
        }
    }
    if let Some(ext) = info["ext"].as_str() {
        let f = format!("{stem}.{ext}");
        if siblings.contains(&f) {
            return Some(dir.join(f));
        }
    }
    MEDIA_EXTENSIONS
        .iter()
        .map(|ext| format!("{stem}.{ext}"))
        .find(|f| siblings.contains(f))
        .map(|f| dir.join(f))
}

fn meta(info: &Value) -> Meta {
    let mut tags: Vec<String> = Vec::new();
    let mut seen = BTreeSet::new();
    for t in ["tags", "categories"]
        .iter()
        .filter_map(|k| info[*k].as_array())
        .flatten()
        .filter_map(|t| t.as_str())
        .map(str::trim)
    {
        if !t.is_empty()
            && t.chars().count() <= TAG_MAX
            && !t.chars().any(char::is_control)
            && tags.len() < TAGS_MAX
            && seen.insert(t.to_lowercase())
        {
            tags.push(t.to_owned());
        }
    }
    let date = info["timestamp"]
        .as_f64()
        .or_else(|| info["release_timestamp"].as_f64())
        .and_then(|t| chrono::DateTime::from_timestamp(t as i64, 0))
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .or_else(|| {
            ["upload_date", "release_date"]
                .iter()
                .filter_map(|k| info[*k].as_str())
                .find_map(|d| chrono::NaiveDate::parse_from_str(d, "%Y%m%d").ok())
                .map(|d| d.format("%Y-%m-%d").to_string())
        });
    let privacy = match info["availability"].as_str() {
        Some("public") => Some("public"),
        Some("unlisted") => Some("unlisted"),
        Some("private" | "premium_only" | "subscriber_only" | "needs_auth") => Some("private"),
        _ => None,
    };
    Meta {
        title: text(&info["title"])
            .or_else(|| text(&info["fulltitle"]))
            .map(|t| truncated(t, TITLE_MAX)),
        description: info["description"]
            .as_str()
            .filter(|d| !d.trim().is_empty())
            .map(|d| truncated(d.to_owned(), DESCRIPTION_MAX)),
        tags: (!tags.is_empty()).then_some(tags),
        language: text(&info["language"]).filter(|l| language_tag(l)),
        privacy: privacy.map(str::to_owned),
        channel: None,
        original_date: date,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::import::{Source, Thumbnail};

    #[test]
    fn an_archive_maps_to_items() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let stem = "Заповедник [ep-1]";
        std::fs::write(
            d.join(format!("{stem}.info.json")),
            serde_json::json!({
                "id": "ep-1", "extractor_key": "Generic", "title": "Заповедник",
                "description": "Описание", "tags": ["природа", " архив", "Природа"],
                "categories": ["News"], "upload_date": "20190501", "ext": "mp4",
                "availability": "unlisted"
            })
            .to_string(),
        )
        .unwrap();
        std::fs::write(d.join(format!("{stem}.mp4")), b"video").unwrap();
        std::fs::write(d.join(format!("{stem}.ru.vtt")), b"WEBVTT\n").unwrap();
        std::fs::write(d.join(format!("{stem}.live_chat.json")), b"{}").unwrap();
        std::fs::write(d.join(format!("{stem}.webp")), b"RIFF").unwrap();
        // A playlist's own info file is no video; one without its media is a bad row.
        std::fs::write(d.join("list.info.json"), r#"{"_type":"playlist","id":"l"}"#).unwrap();
        std::fs::create_dir(d.join("sub")).unwrap();
        std::fs::write(
            d.join("sub/gone.info.json"),
            r#"{"id":"g","extractor_key":"Youtube","timestamp":1556694000}"#,
        )
        .unwrap();
        let entries = load(d).unwrap();
        assert_eq!(entries.len(), 2, "{entries:?}");
        let find = |line: &str| entries.iter().find(|e| e.line() == line).unwrap();
        let Entry::Good(item) = find(&format!("{stem}.info.json")) else {
            panic!("{entries:?}")
        };
        assert_eq!(item.external_id, "generic:ep-1");
        assert_eq!(item.meta.title.as_deref(), Some("Заповедник"));
        assert_eq!(
            item.meta.tags.clone().unwrap(),
            vec!["природа", "архив", "News"]
        );
        assert_eq!(item.meta.original_date.as_deref(), Some("2019-05-01"));
        assert_eq!(item.meta.privacy.as_deref(), Some("unlisted"));
        assert_eq!(item.captions.len(), 1);
        assert_eq!(item.captions[0].0, "ru");
        assert!(matches!(&item.source, Source::Local { size: 5, .. }));
        assert!(
            matches!(&item.thumbnail, Some(Thumbnail::Local(p)) if p.ends_with(format!("{stem}.webp")))
        );
        let Entry::Bad(r) = find("sub/gone.info.json") else {
            panic!("{entries:?}")
        };
        assert_eq!(r.line, "sub/gone.info.json");
        assert_eq!(r.problem, Problem::MediaNotFound);
        assert_eq!(r.external_id.as_deref(), Some("youtube:g"));
    }
}
