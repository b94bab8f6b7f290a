//! The report: one CSV line per input row, in input order —
//! `line,external_id,video_id,status,code,message`.

use std::path::{Path, PathBuf};

use anyhow::Context;

/// What became of a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// This run created the import or brought its file in.
    Imported,
    /// Done by an earlier run (its file was already stored).
    Skipped,
    /// A URL import handed to the server and not fetched yet (`--no-wait`).
    Queued,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Imported => "imported",
            Status::Skipped => "skipped",
            Status::Queued => "queued",
            Status::Failed => "failed",
        }
    }
}

/// One line of the report.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub line: String,
    pub external_id: Option<String>,
    pub video_id: Option<String>,
    pub status: Status,
    /// A stable code: the server's (`source_unavailable`, `url_not_allowed`…) or the CLI's
    /// (`file_not_found`, `bad_date`, `interrupted`…); empty when all went well.
    pub code: String,
    pub message: String,
}

/// Where the report goes by default: beside the manifest, `NAME.report.csv` (for a
/// directory `DIR.report.csv` next to it).
pub fn default_path(input: &Path) -> PathBuf {
    let trimmed: PathBuf = input.components().collect();
    let name = if input.is_dir() {
        trimmed.file_name().map(|n| n.to_os_string())
    } else {
        trimmed.file_stem().map(|n| n.to_os_string())
    };
    let mut name = name.unwrap_or_else(|| "import".into());
    name.push(".report.csv");
    trimmed.with_file_name(name)
}

/// Writes the report whole, through a temporary file, so a reader never sees half of one.
pub fn write(path: &Path, outcomes: &[Outcome]) -> anyhow::Result<()> {
    let tmp = path.with_extension("csv.tmp");
    let mut w = csv::Writer::from_path(&tmp)
        .with_context(|| format!("cannot write the report {}", tmp.display()))?;
    w.write_record([
        "line",
        "external_id",
        "video_id",
        "status",
        "code",
        "message",
    ])?;
    for o in outcomes {
        w.write_record([
            o.line.as_str(),
            o.external_id.as_deref().unwrap_or(""),
            o.video_id.as_deref().unwrap_or(""),
            o.status.as_str(),
            o.code.as_str(),
            o.message.as_str(),
        ])?;
    }
    w.flush()?;
    drop(w);
    std::fs::rename(&tmp, path)
        .with_context(|| format!("cannot write the report {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn default_paths() {
        assert_eq!(
            default_path(Path::new("dir/catalogue.csv")),
            PathBuf::from("dir/catalogue.report.csv")
        );
        assert_eq!(
            default_path(Path::new("catalogue.jsonl")),
            PathBuf::from("catalogue.report.csv")
        );
        let d = tempfile::tempdir().unwrap();
        let archive = d.path().join("archive");
        std::fs::create_dir(&archive).unwrap();
        let with_slash = PathBuf::from(format!("{}/", archive.display()));
        assert_eq!(
            default_path(&with_slash),
            d.path().join("archive.report.csv")
        );
    }
}
