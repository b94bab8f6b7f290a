//! Manifests: CSV with a header row, or JSON Lines (`.jsonl`, `.ndjson`), one video a row.
//! Every row is checked before anything is sent; a bad row is kept with its line number and
//! reason, and the good rows are imported anyway.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use serde::Deserialize;

use super::{Entry, Meta, Problem, Raw, Rejected, check, reject_duplicates};

/// The columns (CSV) and keys (JSON Lines) a row may have.
pub const COLUMNS: [&str; 11] = [
    "source",
    "external_id",
    "title",
    "description",
    "tags",
    "language",
    "privacy",
    "channel",
    "original_date",
    "captions",
    "thumbnail",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    JsonLines,
}

impl Format {
    /// By the file's extension: `.jsonl`/`.ndjson` are JSON Lines, anything else CSV.
    pub fn of(path: &Path) -> Format {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("jsonl" | "ndjson") => Format::JsonLines,
            _ => Format::Csv,
        }
    }
}

/// Reads and checks every row of the manifest at `path`.
pub fn load(path: &Path) -> anyhow::Result<Vec<Entry>> {
    let base = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| ".".into());
    let base = if base.as_os_str().is_empty() {
        ".".into()
    } else {
        base
    };
    let file =
        std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut entries = match Format::of(path) {
        Format::Csv => csv_rows(file, &base)?,
        Format::JsonLines => json_rows(std::io::BufReader::new(file), &base)?,
    };
    reject_duplicates(&mut entries);
    Ok(entries)
}

fn bad(line: String, problem: Problem, message: String) -> Entry {
    Entry::Bad(Rejected {
        line,
        external_id: None,
        problem,
        message,
    })
}

/// `a|b| c` → `["a", "b", "c"]`.
fn split_tags(text: &str) -> Vec<String> {
    text.split('|')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `ru=subs/ru.vtt|en=subs/en.srt` → `[("ru", "subs/ru.vtt"), ("en", "subs/en.srt")]`.
fn split_captions(text: &str) -> Result<Vec<(String, String)>, String> {
    text.split('|')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|part| {
            part.split_once('=')
                .map(|(l, p)| (l.trim().to_owned(), p.trim().to_owned()))
                .ok_or_else(|| {
                    format!(
                        "captions: `{part}` is not LANG=FILE (as in ru=subs/ru.vtt|en=subs/en.srt)"
                    )
                })
        })
        .collect()
}

pub fn csv_rows(input: impl std::io::Read, base: &Path) -> anyhow::Result<Vec<Entry>> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let header: Vec<String> = reader
        .headers()
        .context("cannot read the manifest's header row")?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    // A header that is wrong spoils every row: each is reported with the reason.
    let mut header_fault = None;
    for (n, h) in header.iter().enumerate() {
        if !COLUMNS.contains(&h.as_str()) {
            header_fault = Some((
                Problem::UnknownColumn,
                format!(
                    "the header (line 1) names an unknown column `{h}`; the columns are {}",
                    COLUMNS.join(", ")
                ),
            ));
            break;
        }
        if header[..n].contains(h) {
            header_fault = Some((
                Problem::UnknownColumn,
                format!("the header (line 1) names the column `{h}` twice"),
            ));
            break;
        }
    }
    if header_fault.is_none() && !header.iter().any(|h| h == "source") {
        header_fault = Some((
            Problem::MissingSource,
            "the header (line 1) has no `source` column".to_owned(),
        ));
    }
    let mut entries = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        let line_before = reader.position().line();
        let read = reader.read_record(&mut record);
        let line = record
            .position()
            .map_or(line_before, |p| p.line())
            .to_string();
        match read {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                let line = e.position().map_or(line_before, |p| p.line()).to_string();
                entries.push(bad(line, Problem::BadRow, format!("unreadable row: {e}")));
                // Past an I/O error nothing more can be read.
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    break;
                }
                continue;
            }
        }
        if let Some((problem, message)) = &header_fault {
            entries.push(bad(line, *problem, message.clone()));
            continue;
        }
        if record.len() != header.len() {
            entries.push(bad(
                line,
                Problem::BadRow,
                format!(
                    "the row has {} fields; the header has {}",
                    record.len(),
                    header.len()
                ),
            ));
            continue;
        }
        let mut raw = Raw::default();
        let mut fault = None;
        for (name, value) in header.iter().zip(record.iter()) {
            let value = Some(value.to_owned());
            match name.as_str() {
                "source" => raw.source = value,
                "external_id" => raw.external_id = value,
                "title" => raw.meta.title = value,
                "description" => raw.meta.description = value,
                "tags" => raw.meta.tags = value.map(|v| split_tags(&v)),
                "language" => raw.meta.language = value,
                "privacy" => raw.meta.privacy = value,
                "channel" => raw.meta.channel = value,
                "original_date" => raw.meta.original_date = value,
                "captions" => match split_captions(value.as_deref().unwrap_or_default()) {
                    Ok(c) => raw.captions = c,
                    Err(why) => fault = Some(why),
                },
                "thumbnail" => raw.thumbnail = value,
                _ => {}
            }
        }
        if let Some(why) = fault {
            let mut e = bad(line, Problem::BadCaptions, why);
            if let Entry::Bad(r) = &mut e {
                r.external_id = super::given(raw.external_id);
            }
            entries.push(e);
            continue;
        }
        entries.push(check(line, raw, base));
    }
    Ok(entries)
}

/// A JSON Lines row: the CSV columns as keys, `tags` an array, `captions` an object.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonRow {
    source: Option<String>,
    external_id: Option<String>,
    title: Option<String>,
    description: Option<String>,
    tags: Option<Vec<String>>,
    language: Option<String>,
    privacy: Option<String>,
    channel: Option<String>,
    original_date: Option<String>,
    captions: Option<BTreeMap<String, String>>,
    thumbnail: Option<String>,
}

pub fn json_rows(input: impl std::io::BufRead, base: &Path) -> anyhow::Result<Vec<Entry>> {
    let mut entries = Vec::new();
    for (n, text) in input.split(b'\n').enumerate() {
        let line = (n + 1).to_string();
        let text = text.context("cannot read the manifest")?;
        let text = match String::from_utf8(text) {
            Ok(t) => t,
            Err(_) => {
                entries.push(bad(line, Problem::BadJson, "not UTF-8 text".to_owned()));
                continue;
            }
        };
        let text = text.trim().trim_start_matches('\u{feff}');
        if text.is_empty() {
            continue;
        }
        let value: serde_json::Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) => {
                entries.push(bad(line, Problem::BadJson, format!("malformed JSON: {e}")));
                continue;
            }
        };
        let Some(object) = value.as_object() else {
            entries.push(bad(
                line,
                Problem::BadJson,
                "a row is a JSON object".to_owned(),
            ));
            continue;
        };
        let external_id = object
            .get("external_id")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        let reject = |problem, message| {
            Entry::Bad(Rejected {
                line: line.clone(),
                external_id: super::given(external_id.clone()),
                problem,
                message,
            })
        };
        if let Some(key) = object.keys().find(|k| !COLUMNS.contains(&k.as_str())) {
            entries.push(reject(
                Problem::UnknownKey,
                format!("unknown key `{key}`; the keys are {}", COLUMNS.join(", ")),
            ));
            continue;
        }
        let row: JsonRow = match serde_json::from_value(value) {
            Ok(r) => r,
            Err(e) => {
                entries.push(reject(Problem::BadRow, e.to_string()));
                continue;
            }
        };
        let raw = Raw {
            source: row.source,
            external_id: row.external_id,
            meta: Meta {
                title: row.title,
                description: row.description,
                tags: row.tags,
                language: row.language,
                privacy: row.privacy,
                channel: row.channel,
                original_date: row.original_date,
            },
            captions: row.captions.unwrap_or_default().into_iter().collect(),
            thumbnail: row.thumbnail,
        };
        entries.push(check(line, raw, base));
    }
    Ok(entries)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::import::Source;

    fn problems(entries: &[Entry]) -> Vec<(String, Option<&'static str>)> {
        entries
            .iter()
            .map(|e| match e {
                Entry::Good(i) => (i.line.clone(), None),
                Entry::Bad(r) => (r.line.clone(), Some(r.problem.code())),
            })
            .collect()
    }

    #[test]
    fn csv_rows_are_checked_one_by_one() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.mp4"), b"x").unwrap();
        std::fs::write(dir.path().join("ru.vtt"), b"WEBVTT\n").unwrap();
        let text = "source,external_id,title,tags,original_date,captions\n\
            a.mp4,,\"Заголовок, с запятой\",a| b |,2019-05-01,ru=ru.vtt\n\
            missing.mp4,m,,,,\n\
            https://example.org/v.mp4,,\"multi\nline\",,01.05.2019,\n\
            a.mp4,x,,,,ru=ru.vtt|ru=ru.vtt\n\
            a.mp4,y,,,,ru:ru.vtt\n\
            ,z,,,,\n\
            a.mp4,w,,,\n\
            ftp://example.org/v.mp4,v,,,,\n\
            s3://archive/bucket/key.mp4,,,,,\n";
        let mut entries = csv_rows(text.as_bytes(), dir.path()).unwrap();
        reject_duplicates(&mut entries);
        assert_eq!(
            problems(&entries),
            vec![
                ("2".into(), None),
                ("3".into(), Some("file_not_found")),
                ("4".into(), Some("bad_date")),
                ("6".into(), Some("bad_captions")),
                ("7".into(), Some("bad_captions")),
                ("8".into(), Some("missing_source")),
                ("9".into(), Some("bad_row")),
                ("10".into(), Some("bad_source")),
                ("11".into(), None),
            ]
        );
        let Entry::Good(first) = &entries[0] else {
            panic!()
        };
        assert_eq!(first.external_id, "file:a.mp4");
        assert_eq!(first.meta.title.as_deref(), Some("Заголовок, с запятой"));
        assert_eq!(
            first.meta.tags.as_deref(),
            Some(&["a".to_owned(), "b".to_owned()][..])
        );
        assert_eq!(first.captions.len(), 1);
        assert!(matches!(first.source, Source::Local { size: 1, .. }));
        let Entry::Good(last) = &entries[8] else {
            panic!()
        };
        assert_eq!(last.external_id, "s3://archive/bucket/key.mp4");
    }

    #[test]
    fn a_bad_header_spoils_every_row() {
        let dir = tempfile::tempdir().unwrap();
        let entries = csv_rows("source,titel\na,b\nc,d\n".as_bytes(), dir.path()).unwrap();
        assert_eq!(
            problems(&entries),
            vec![
                ("2".into(), Some("unknown_column")),
                ("3".into(), Some("unknown_column"))
            ]
        );
    }

    #[test]
    fn json_lines_rows() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.mp4"), b"x").unwrap();
        let text = "{\"source\":\"a.mp4\",\"external_id\":\"one\",\"tags\":[\"x\"]}\n\
            \n\
            {\"source\":\"a.mp4\",\"titel\":\"t\"}\n\
            {\"source\": \"a.mp4\", \n\
            [1]\n\
            {\"source\":\"a.mp4\",\"tags\":\"x|y\",\"external_id\":\"two\"}\n\
            {\"source\":\"a.mp4\",\"external_id\":\"one\"}\n";
        let mut entries = json_rows(text.as_bytes(), dir.path()).unwrap();
        reject_duplicates(&mut entries);
        assert_eq!(
            problems(&entries),
            vec![
                ("1".into(), Some("duplicate_external_id")),
                ("3".into(), Some("unknown_key")),
                ("4".into(), Some("bad_json")),
                ("5".into(), Some("bad_json")),
                ("6".into(), Some("bad_row")),
                ("7".into(), Some("duplicate_external_id")),
            ]
        );
    }
}
