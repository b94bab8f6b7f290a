//! The worker's files: each job's work directory, the original as a local file for FFmpeg,
//! and uploads of what the transcoder made.

use std::path::{Path, PathBuf};
use std::time::Duration;

use kadr_config::Config;
use kadr_storage::Storage;
use uuid::Uuid;

use crate::JobError;

/// The work directory of a video's transcode.
pub fn work_dir(config: &Config, id: Uuid) -> PathBuf {
    config.data_dir.join("work").join(id.to_string())
}

/// Removes work directories left by jobs that died with their process (nothing written in them
/// for an hour: another worker sharing the data directory may be writing in a younger one).
pub async fn sweep_work_dirs(config: &Config) {
    let root = config.data_dir.join("work");
    let Ok(mut dirs) = tokio::fs::read_dir(&root).await else {
        return;
    };
    let idle = |m: &std::fs::Metadata| {
        m.modified()
            .ok()
            .and_then(|t| t.elapsed().ok())
            .is_some_and(|e| e > Duration::from_secs(3600))
    };
    let mut removed = 0;
    while let Ok(Some(entry)) = dirs.next_entry().await {
        let path = entry.path();
        let mut quiet = entry.metadata().await.is_ok_and(|m| idle(&m));
        if let Ok(mut inner) = tokio::fs::read_dir(&path).await {
            while let Ok(Some(e)) = inner.next_entry().await {
                quiet &= e.metadata().await.is_ok_and(|m| idle(&m));
            }
        }
        if quiet && tokio::fs::remove_dir_all(&path).await.is_ok() {
            removed += 1;
        }
    }
    if removed > 0 {
        tracing::info!(removed, "leftover work directories removed");
    }
}

/// Where FFmpeg reads the original: always a local file, never a URL (FFmpeg opens only the
/// `file` protocol). On disk, the stored file itself; on S3, a copy streamed into the job's
/// work directory.
pub async fn input_of(storage: &Storage, key: &str, work: &Path) -> Result<PathBuf, JobError> {
    use futures::StreamExt;
    use tokio::io::AsyncWriteExt;
    match storage {
        Storage::Local(local) => Ok(local.file_path(key)?),
        Storage::S3(_) => {
            let path = work.join("source");
            let io = |e: std::io::Error| JobError::io(path.display())(e);
            let mut object = storage.get(key, None).await?;
            let mut file = tokio::fs::File::create(&path).await.map_err(io)?;
            while let Some(chunk) = object.body.next().await {
                let chunk = chunk.map_err(JobError::io(format!("reading {key}")))?;
                file.write_all(&chunk).await.map_err(io)?;
            }
            file.flush().await.map_err(io)?;
            Ok(path)
        }
    }
}

/// Stores the file at `path` under `key`.
pub async fn upload_file(storage: &Storage, path: &Path, key: &str) -> Result<(), JobError> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(JobError::io(path.display()))?;
    let body = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
    storage.put_stream(key, Box::pin(body), None).await?;
    Ok(())
}

/// Stores the finished file at `path` under `key`, and removes it. On local storage on the
/// same file system it is renamed into place (no copy); otherwise it is streamed.
pub async fn adopt_file(storage: &Storage, path: &Path, key: &str) -> Result<(), JobError> {
    if let Storage::Local(local) = storage {
        let dest = local.file_path(key)?;
        if let Some(dir) = dest.parent() {
            tokio::fs::create_dir_all(dir)
                .await
                .map_err(JobError::io(dir.display()))?;
        }
        if tokio::fs::rename(path, &dest).await.is_ok() {
            if let Some(dir) = dest.parent()
                && let Ok(d) = tokio::fs::File::open(dir).await
            {
                let _ = d.sync_all().await;
            }
            return Ok(());
        }
    }
    upload_file(storage, path, key).await?;
    let _ = tokio::fs::remove_file(path).await;
    Ok(())
}
