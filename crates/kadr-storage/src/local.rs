//! The local-disk backend: each object is a file under the root directory at
//! its key's path.

use std::fs::Metadata;
use std::io::{ErrorKind, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use futures::StreamExt;
use tokio::fs::{self, File};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::ReaderStream;

use crate::key::RESERVED_TOP;
use crate::{
    BodyStream, ByteRange, GetObject, ObjectMeta, StorageError, content_type_for_key, validate_key,
};

/// Size of the chunks a read streams out.
const READ_CHUNK: usize = 64 * 1024;

/// Options of the local backend.
#[derive(Debug, Clone)]
pub struct LocalOptions {
    /// The directory holding the objects; created if missing.
    pub root: PathBuf,
}

/// Objects as files under a root directory.
///
/// Writes go to a temporary file in `<root>/.tmp/`, are synced, then renamed
/// into place, so readers see the old object or the new one, never a part.
/// Content types are derived from the key's extension, not stored.
#[derive(Debug, Clone)]
pub struct LocalStorage {
    root: Arc<Path>,
}

impl LocalStorage {
    pub(crate) async fn new(opts: LocalOptions) -> Result<LocalStorage, StorageError> {
        let storage = LocalStorage {
            root: opts.root.into(),
        };
        let tmp = storage.tmp_dir();
        fs::create_dir_all(&tmp)
            .await
            .map_err(|e| StorageError::io(format!("creating directory {}", tmp.display()), e))?;
        storage
            .sweep_temp(std::time::Duration::from_secs(3600))
            .await;
        Ok(storage)
    }

    /// Removes temporary files older than `age` (writes interrupted by a crash); younger ones
    /// may belong to another process writing now.
    pub async fn sweep_temp(&self, age: std::time::Duration) -> usize {
        let mut removed = 0;
        let Ok(mut dir) = fs::read_dir(self.tmp_dir()).await else {
            return 0;
        };
        while let Ok(Some(entry)) = dir.next_entry().await {
            let old = entry
                .metadata()
                .await
                .ok()
                .and_then(|m| m.modified().ok())
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|e| e > age);
            if old && fs::remove_file(entry.path()).await.is_ok() {
                removed += 1;
            }
        }
        if removed > 0 {
            tracing::info!(removed, "leftover temporary files removed");
        }
        removed
    }

    /// The root directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn tmp_dir(&self) -> PathBuf {
        self.root.join(RESERVED_TOP)
    }

    fn path_of(&self, key: &str) -> PathBuf {
        self.root.join(key)
    }

    /// The file holding `key`, for programs that read files directly (FFmpeg).
    pub fn file_path(&self, key: &str) -> Result<PathBuf, StorageError> {
        validate_key(key)?;
        Ok(self.path_of(key))
    }

    /// Opens (creating it and its directories) the file at `key` for writing in place, with
    /// its length cut to `len`: resumable uploads append to such a file and record how much of
    /// it is durable. A file shorter than `len` is an error, never zero-filled. The caller
    /// syncs it; [`LocalStorage::promote`] moves it into place.
    pub async fn open_staging(&self, key: &str, len: u64) -> Result<File, StorageError> {
        validate_key(key)?;
        let path = self.path_of(key);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent)
                .await
                .map_err(|e| StorageError::io(format!("creating {}", parent.display()), e))?;
        }
        let file = fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .await
            .map_err(|e| StorageError::io(format!("opening {}", path.display()), e))?;
        let have = file
            .metadata()
            .await
            .map_err(|e| StorageError::io(format!("reading {}", path.display()), e))?
            .len();
        if have < len {
            return Err(StorageError::io(
                format!(
                    "{} holds {have} bytes, fewer than the {len} recorded",
                    path.display()
                ),
                std::io::Error::from(ErrorKind::UnexpectedEof),
            ));
        }
        file.set_len(len).await.map_err(|e| {
            StorageError::io(format!("cutting {} to {len} bytes", path.display()), e)
        })?;
        Ok(file)
    }

    /// Moves the object at `from` to `to` atomically (one rename), syncing both directories.
    pub async fn promote(&self, from: &str, to: &str) -> Result<ObjectMeta, StorageError> {
        validate_key(from)?;
        validate_key(to)?;
        let (src, dst) = (self.path_of(from), self.path_of(to));
        if let Some(parent) = dst.parent() {
            fs::create_dir_all(parent)
                .await
                .map_err(|e| StorageError::io(format!("creating {}", parent.display()), e))?;
        }
        fs::rename(&src, &dst)
            .await
            .map_err(|e| not_found_or(from, &src, "moving", e))?;
        for dir in [dst.parent(), src.parent()].into_iter().flatten() {
            sync_dir(dir).await?;
        }
        self.head(to).await
    }

    pub(crate) async fn check(&self) -> Result<(), StorageError> {
        let tmp = self.tmp_dir();
        fs::create_dir_all(&tmp)
            .await
            .map_err(|e| StorageError::io(format!("creating directory {}", tmp.display()), e))?;
        let probe = tmp.join(format!("check-{}", uuid::Uuid::new_v4()));
        fs::write(&probe, b"ok")
            .await
            .map_err(|e| StorageError::io(format!("writing {}", probe.display()), e))?;
        fs::remove_file(&probe)
            .await
            .map_err(|e| StorageError::io(format!("removing {}", probe.display()), e))
    }

    pub(crate) async fn put_bytes(
        &self,
        key: &str,
        data: Bytes,
    ) -> Result<ObjectMeta, StorageError> {
        self.put_stream(key, futures::stream::once(async { Ok(data) }).boxed())
            .await
    }

    pub(crate) async fn put_stream(
        &self,
        key: &str,
        mut body: BodyStream,
    ) -> Result<ObjectMeta, StorageError> {
        let tmp_path = self
            .tmp_dir()
            .join(format!("{}.part", uuid::Uuid::new_v4()));
        let ctx = |what: &str| format!("{what} {} (for {key:?})", tmp_path.display());
        let mut file = File::create(&tmp_path)
            .await
            .map_err(|e| StorageError::io(ctx("creating"), e))?;
        let mut guard = RemoveOnDrop(Some(tmp_path.clone()));
        while let Some(chunk) = body.next().await {
            let chunk =
                chunk.map_err(|e| StorageError::io(format!("reading the body of {key:?}"), e))?;
            file.write_all(&chunk)
                .await
                .map_err(|e| StorageError::io(ctx("writing"), e))?;
        }
        file.flush()
            .await
            .map_err(|e| StorageError::io(ctx("writing"), e))?;
        file.sync_all()
            .await
            .map_err(|e| StorageError::io(ctx("syncing"), e))?;
        drop(file);

        let dest = self.path_of(key);
        let parent = dest.parent().unwrap_or(&self.root);
        // A concurrent delete_prefix may remove the (empty) parent between
        // creating it and renaming into it: create it again and retry.
        let mut attempts = 0;
        loop {
            attempts += 1;
            fs::create_dir_all(parent).await.map_err(|e| {
                StorageError::io(format!("creating directory {}", parent.display()), e)
            })?;
            match fs::rename(&tmp_path, &dest).await {
                Ok(()) => break,
                Err(e) if e.kind() == ErrorKind::NotFound && attempts < 3 => continue,
                Err(e) => {
                    return Err(StorageError::io(
                        format!("moving {} to {}", tmp_path.display(), dest.display()),
                        e,
                    ));
                }
            }
        }
        guard.0 = None;
        sync_dir(parent).await?;
        self.head(key).await
    }

    pub(crate) async fn get(
        &self,
        key: &str,
        range: Option<ByteRange>,
    ) -> Result<GetObject, StorageError> {
        let path = self.path_of(key);
        let mut file = File::open(&path)
            .await
            .map_err(|e| not_found_or(key, &path, "opening", e))?;
        let md = file
            .metadata()
            .await
            .map_err(|e| StorageError::io(format!("reading metadata of {}", path.display()), e))?;
        if md.is_dir() {
            return Err(StorageError::NotFound {
                key: key.to_owned(),
            });
        }
        let meta = meta_of(key, &md);
        let (start, end) = match range {
            Some(range) => range.resolve(meta.size)?,
            None => (0, meta.size.saturating_sub(1)),
        };
        let len = if meta.size == 0 { 0 } else { end - start + 1 };
        if start > 0 {
            file.seek(SeekFrom::Start(start))
                .await
                .map_err(|e| StorageError::io(format!("seeking in {}", path.display()), e))?;
        }
        let body = ReaderStream::with_capacity(file.take(len), READ_CHUNK).boxed();
        Ok(GetObject {
            meta,
            start,
            end,
            body,
        })
    }

    pub(crate) async fn head(&self, key: &str) -> Result<ObjectMeta, StorageError> {
        let path = self.path_of(key);
        let md = fs::metadata(&path)
            .await
            .map_err(|e| not_found_or(key, &path, "reading metadata of", e))?;
        if md.is_dir() {
            return Err(StorageError::NotFound {
                key: key.to_owned(),
            });
        }
        Ok(meta_of(key, &md))
    }

    pub(crate) async fn delete(&self, key: &str) -> Result<(), StorageError> {
        let path = self.path_of(key);
        match fs::remove_file(&path).await {
            Ok(()) => Ok(()),
            Err(e) if is_absent(&e) || e.kind() == ErrorKind::IsADirectory => Ok(()),
            Err(e) => Err(StorageError::io(format!("removing {}", path.display()), e)),
        }
    }

    pub(crate) async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>, StorageError> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        blocking(move || walk(&root, &prefix)).await
    }

    pub(crate) async fn delete_prefix(&self, prefix: &str) -> Result<u64, StorageError> {
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        blocking(move || remove_prefix(&root, &prefix)).await
    }
}

/// Removes a temporary file unless disarmed (by setting the path to `None`),
/// also when the write is cancelled by dropping its future.
struct RemoveOnDrop(Option<PathBuf>);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take()
            && let Err(e) = std::fs::remove_file(&path)
            && e.kind() != ErrorKind::NotFound
        {
            tracing::warn!(path = %path.display(), error = %e, "could not remove temporary file");
        }
    }
}

async fn sync_dir(dir: &Path) -> Result<(), StorageError> {
    let ctx = || format!("syncing directory {}", dir.display());
    let handle = File::open(dir)
        .await
        .map_err(|e| StorageError::io(ctx(), e))?;
    handle
        .sync_all()
        .await
        .map_err(|e| StorageError::io(ctx(), e))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, StorageError> + Send + 'static,
) -> Result<T, StorageError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| StorageError::io("running a filesystem task", std::io::Error::other(e)))?
}

/// A missing file, or a missing directory on its path (a file where a
/// directory should be).
fn is_absent(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::NotFound | ErrorKind::NotADirectory)
}

fn not_found_or(key: &str, path: &Path, what: &str, e: std::io::Error) -> StorageError {
    if is_absent(&e) {
        StorageError::NotFound {
            key: key.to_owned(),
        }
    } else {
        StorageError::io(format!("{what} {}", path.display()), e)
    }
}

fn meta_of(key: &str, md: &Metadata) -> ObjectMeta {
    let modified = md.modified().ok();
    let nanos = modified
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    ObjectMeta {
        key: key.to_owned(),
        size: md.len(),
        // Every write renames a new file into place, so the inode changes even
        // when size and mtime (coarse on some filesystems) do not.
        etag: format!("{:x}-{:x}-{nanos:x}", md.ino(), md.len()),
        last_modified: modified,
        content_type: Some(content_type_for_key(key).to_owned()),
    }
}

/// All objects under `root` whose key starts with `prefix`.
fn walk(root: &Path, prefix: &str) -> Result<Vec<ObjectMeta>, StorageError> {
    // Start in the deepest directory the prefix names in full.
    let start = prefix.rsplit_once('/').map_or("", |(dir, _)| dir);
    let mut pending = vec![start.to_owned()];
    let mut objects = Vec::new();
    while let Some(dir_key) = pending.pop() {
        let dir = root.join(&dir_key);
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if is_absent(&e) => continue,
            Err(e) => return Err(StorageError::io(format!("listing {}", dir.display()), e)),
        };
        for entry in entries {
            let entry =
                entry.map_err(|e| StorageError::io(format!("listing {}", dir.display()), e))?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue; // not UTF-8, so not a key
            };
            let key = if dir_key.is_empty() {
                name
            } else {
                format!("{dir_key}/{name}")
            };
            let file_type = entry
                .file_type()
                .map_err(|e| StorageError::io(format!("listing {}", dir.display()), e))?;
            if file_type.is_dir() {
                let as_prefix = format!("{key}/");
                if key != RESERVED_TOP
                    && (as_prefix.starts_with(prefix) || prefix.starts_with(&as_prefix))
                {
                    pending.push(key);
                }
            } else if file_type.is_file() && key.starts_with(prefix) && validate_key(&key).is_ok() {
                let md = match entry.metadata() {
                    Ok(md) => md,
                    Err(e) if is_absent(&e) => continue, // deleted meanwhile
                    Err(e) => {
                        return Err(StorageError::io(
                            format!("reading metadata of {}", entry.path().display()),
                            e,
                        ));
                    }
                };
                objects.push(meta_of(&key, &md));
            }
        }
    }
    Ok(objects)
}

/// Removes the objects under `prefix`, then the directories left empty.
fn remove_prefix(root: &Path, prefix: &str) -> Result<u64, StorageError> {
    let mut removed = 0;
    let mut dirs = Vec::new();
    for object in walk(root, prefix)? {
        let path = root.join(&object.key);
        match std::fs::remove_file(&path) {
            Ok(()) => removed += 1,
            Err(e) if is_absent(&e) => {}
            Err(e) => return Err(StorageError::io(format!("removing {}", path.display()), e)),
        }
        let mut dir = Path::new(&object.key).parent();
        while let Some(d) = dir.filter(|d| !d.as_os_str().is_empty()) {
            dirs.push(d.to_path_buf());
            dir = d.parent();
        }
    }
    // Deepest first, so a directory is tried after its subdirectories.
    dirs.sort_by_key(|d| std::cmp::Reverse(d.components().count()));
    dirs.dedup();
    for dir in dirs {
        let path = root.join(&dir);
        match std::fs::remove_dir(&path) {
            Ok(()) => {}
            Err(e) if is_absent(&e) || e.kind() == ErrorKind::DirectoryNotEmpty => {}
            Err(e) => return Err(StorageError::io(format!("removing {}", path.display()), e)),
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    async fn storage() -> (tempfile::TempDir, LocalStorage) {
        let dir = tempfile::tempdir().unwrap();
        let storage = LocalStorage::new(LocalOptions {
            root: dir.path().join("objects"),
        })
        .await
        .unwrap();
        (dir, storage)
    }

    fn tmp_entries(storage: &LocalStorage) -> usize {
        std::fs::read_dir(storage.tmp_dir()).unwrap().count()
    }

    #[tokio::test]
    async fn failed_write_leaves_no_file() {
        let (_dir, storage) = storage().await;
        let body = futures::stream::iter([
            Ok(Bytes::from_static(b"partial")),
            Err(std::io::Error::other("client went away")),
        ])
        .boxed();
        let err = storage.put_stream("a/b", body).await.unwrap_err();
        assert!(err.to_string().contains("client went away"), "{err}");
        assert_eq!(tmp_entries(&storage), 0);
        assert!(storage.head("a/b").await.unwrap_err().is_not_found());
    }

    #[tokio::test]
    async fn cancelled_write_leaves_no_file() {
        let (_dir, storage) = storage().await;
        let body = futures::stream::once(async { Ok(Bytes::from_static(b"first")) })
            .chain(futures::stream::pending())
            .boxed();
        let put = storage.put_stream("a/b", body);
        let timed_out = tokio::time::timeout(std::time::Duration::from_millis(200), put).await;
        assert!(timed_out.is_err());
        assert_eq!(tmp_entries(&storage), 0);
    }

    #[tokio::test]
    async fn rewrite_changes_etag_even_with_same_size_and_time() {
        let (_dir, storage) = storage().await;
        let a = storage
            .put_bytes("k", Bytes::from_static(b"aaaa"))
            .await
            .unwrap();
        let b = storage
            .put_bytes("k", Bytes::from_static(b"bbbb"))
            .await
            .unwrap();
        assert_ne!(a.etag, b.etag);
    }

    #[tokio::test]
    async fn delete_prefix_removes_empty_directories_only() {
        let (_dir, storage) = storage().await;
        for key in ["v/1/a/x", "v/1/b/y", "v/2/z"] {
            storage
                .put_bytes(key, Bytes::from_static(b"1"))
                .await
                .unwrap();
        }
        assert_eq!(storage.delete_prefix("v/1/").await.unwrap(), 2);
        assert!(!storage.root().join("v/1").exists());
        assert!(storage.root().join("v/2/z").exists());
        assert!(storage.root().join(RESERVED_TOP).is_dir());
    }

    #[tokio::test]
    async fn listing_everything_skips_temporary_files() {
        let (_dir, storage) = storage().await;
        storage
            .put_bytes("b/1", Bytes::from_static(b"1"))
            .await
            .unwrap();
        storage
            .put_bytes("a", Bytes::from_static(b"2"))
            .await
            .unwrap();
        std::fs::write(storage.tmp_dir().join("in-flight.part"), b"x").unwrap();
        let keys: Vec<String> = storage
            .list("")
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.key)
            .collect();
        assert_eq!(keys.len(), 2);
        assert!(keys.contains(&"a".to_owned()) && keys.contains(&"b/1".to_owned()));
    }

    #[tokio::test]
    async fn ranges_on_an_empty_object_are_unsatisfiable() {
        let (_dir, storage) = storage().await;
        storage.put_bytes("empty", Bytes::new()).await.unwrap();
        let whole = storage.get("empty", None).await.unwrap();
        assert_eq!((whole.start, whole.end, whole.content_length()), (0, 0, 0));
        let err = storage
            .get("empty", Some(ByteRange::Suffix(1)))
            .await
            .unwrap_err();
        assert!(
            matches!(err, StorageError::InvalidRange { size: 0 }),
            "{err}"
        );
    }

    #[tokio::test]
    async fn file_in_the_way_reads_as_not_found() {
        let (_dir, storage) = storage().await;
        storage
            .put_bytes("a", Bytes::from_static(b"1"))
            .await
            .unwrap();
        assert!(storage.head("a/b").await.unwrap_err().is_not_found());
        assert!(storage.get("a/b", None).await.unwrap_err().is_not_found());
        storage.delete("a/b").await.unwrap();
        assert!(storage.list("a/").await.unwrap().is_empty());
    }
}
