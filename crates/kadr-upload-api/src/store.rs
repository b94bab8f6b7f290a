//! Where the bytes of an upload in progress go, and how the reported offset stays durable.
//!
//! - Local backend: one file, `uploads/{id}/data`, written in place at the durable offset
//!   (anything past it, from a request that died, is cut off first), synced before the offset
//!   is recorded, and renamed to the original's key when complete.
//! - S3 backend: a multipart upload straight to the original's key. Part n always holds bytes
//!   `[(n−1)·P, n·P)`. Bytes past the last full part are kept as small objects
//!   (`uploads/{id}/pieces/{offset}`) so any replica can continue after a crash; when the
//!   pieces and new bytes make a full part, it is uploaded and the pieces dropped. Memory per
//!   request is one part.
//!
//! Every write is fenced by the upload's lease ([`UploadLock`]): the offset is recorded only
//! while this request holds it. With `Upload-Checksum`, nothing of a request is recorded until
//! the checksum matches; bytes stored on the way are overwritten by the retry (parts keep
//! their numbers, pieces their offsets) or removed with the upload's prefix.

use kadr_core::Code;
use std::time::{Duration, Instant};

use actix_web::http::StatusCode;
use base64::Engine;
use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use kadr_core::entities::upload;
use kadr_http::ApiError;
use kadr_storage::{Storage, StorageError, UploadedPart};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use serde::{Deserialize, Serialize};
use sha1::Digest;
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use uuid::Uuid;

/// A lease lasts this long unless renewed.
const LEASE: Duration = Duration::from_secs(5);
/// A streaming request renews its lease at least this often (and before any write after a
/// longer pause), so a request that lost its lease notices before it writes again.
const RENEW_EVERY: Duration = Duration::from_secs(1);
/// The local backend records a durable offset at least every this many bytes.
pub const LOCAL_CHECKPOINT: i64 = 8 * 1024 * 1024;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Part {
    pub n: i32,
    pub etag: String,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Piece {
    pub offset: i64,
    pub size: i64,
}

/// Tails shorter than this are merged into the piece before them when it is short too.
const SMALL_PIECE: i64 = 256 * 1024;

impl Piece {
    /// Writes `data` as this piece; returns it.
    async fn stored(
        self,
        storage: &Storage,
        upload_id: Uuid,
        data: Bytes,
    ) -> Result<Piece, WriteError> {
        storage
            .put_bytes(
                &piece_key(upload_id, self.offset),
                data,
                Some("application/octet-stream"),
            )
            .await?;
        Ok(self)
    }
}

use kadr_core::keys::{upload_data as staging_key, upload_piece as piece_key};

/// Why a write stopped.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("the checksum of the request body does not match Upload-Checksum")]
    ChecksumMismatch,
    #[error("the request body goes past Upload-Length")]
    TooLong,
    #[error("another request took over this upload")]
    LockLost,
    #[error("the client stopped sending: {0}")]
    ClientGone(String),
    #[error("storage: {0}")]
    Storage(#[from] StorageError),
    #[error("database: {0}")]
    Db(#[from] sea_orm::DbErr),
    #[error("{0}")]
    Inconsistent(String),
}

impl From<WriteError> for ApiError {
    fn from(e: WriteError) -> ApiError {
        match e {
            WriteError::ChecksumMismatch => ApiError::new(
                Code::ChecksumMismatch,
                "Checksum mismatch: the bytes of this request were discarded",
            ),
            WriteError::TooLong => ApiError::bad_request(
                Code::ExceedsLength,
                "The request body goes past Upload-Length",
            ),
            WriteError::LockLost => ApiError::with_status(
                StatusCode::CONFLICT,
                Code::UploadBusy,
                "Another request took over this upload; ask for the offset again",
            ),
            WriteError::ClientGone(m) if kadr_http::body::is_pace_error(&m) => ApiError::new(
                Code::BodyTooSlow,
                "The request body stalled or came too slowly; what arrived is kept",
            )
            .detail(m),
            WriteError::ClientGone(m) => {
                ApiError::bad_request(Code::BodyInterrupted, "The request body was cut off")
                    .detail(m)
            }
            WriteError::Storage(e) => ApiError::unavailable(format!("storage: {e}")),
            WriteError::Db(e) => e.into(),
            other => ApiError::internal(&other),
        }
    }
}

/// An `Upload-Checksum` being computed over a request body.
pub enum Checksum {
    Sha1(sha1::Sha1, Vec<u8>),
    Sha256(sha2::Sha256, Vec<u8>),
}

/// The algorithms of `Tus-Checksum-Algorithm`.
pub const CHECKSUM_ALGORITHMS: &str = "sha1,sha256";

impl Checksum {
    /// Parses `<algorithm> <base64 digest>`.
    pub fn parse(header: &str) -> Result<Checksum, ApiError> {
        let bad = |m: &str| {
            ApiError::bad_request(Code::InvalidChecksum, m.to_owned()).field("Upload-Checksum")
        };
        let (alg, b64) = header
            .trim()
            .split_once(' ')
            .ok_or_else(|| bad("Upload-Checksum is `<algorithm> <base64 digest>`"))?;
        let digest = base64::engine::general_purpose::STANDARD
            .decode(b64.trim())
            .map_err(|_| bad("the digest of Upload-Checksum is not base64"))?;
        match alg {
            "sha1" if digest.len() == 20 => Ok(Checksum::Sha1(sha1::Sha1::new(), digest)),
            "sha256" if digest.len() == 32 => Ok(Checksum::Sha256(sha2::Sha256::new(), digest)),
            "sha1" | "sha256" => Err(bad("the digest has the wrong length for its algorithm")),
            _ => Err(bad("unsupported checksum algorithm; use sha1 or sha256")),
        }
    }

    fn update(&mut self, data: &[u8]) {
        match self {
            Checksum::Sha1(h, _) => h.update(data),
            Checksum::Sha256(h, _) => h.update(data),
        }
    }

    fn matches(self) -> bool {
        match self {
            Checksum::Sha1(h, want) => h.finalize()[..] == want[..],
            Checksum::Sha256(h, want) => h.finalize()[..] == want[..],
        }
    }
}

/// Only an active upload takes bytes.
const ACTIVE: &str = kadr_core::state::UploadState::Active.as_str();

/// The lease of one request on one upload.
pub struct UploadLock {
    db: DatabaseConnection,
    upload_id: Uuid,
    token: Uuid,
    renewed: Instant,
}

impl UploadLock {
    /// Takes the lease if nobody holds a live one; returns the upload as stored under it.
    pub async fn acquire(
        db: &DatabaseConnection,
        upload_id: Uuid,
    ) -> Result<Option<(UploadLock, upload::Model)>, sea_orm::DbErr> {
        let token = Uuid::new_v4();
        let row = db
            .query_one_raw(stmt(
                "UPDATE uploads SET lock_token = $2, locked_until = now() + make_interval(secs => $3)
                 WHERE id = $1 AND state = $4 AND (lock_token IS NULL OR locked_until < now())
                 RETURNING id",
                vec![
                    upload_id.into(),
                    token.into(),
                    LEASE.as_secs_f64().into(),
                    ACTIVE.into(),
                ],
            ))
            .await?;
        if row.is_none() {
            return Ok(None);
        }
        let model = <kadr_core::entities::Upload as sea_orm::EntityTrait>::find_by_id(upload_id)
            .one(db)
            .await?
            .ok_or_else(|| sea_orm::DbErr::RecordNotFound(format!("upload {upload_id}")))?;
        Ok(Some((
            UploadLock {
                db: db.clone(),
                upload_id,
                token,
                renewed: Instant::now(),
            },
            model,
        )))
    }

    pub fn token(&self) -> Uuid {
        self.token
    }

    /// Renews the lease when due; fails if someone else holds it now.
    async fn keep(&mut self) -> Result<(), WriteError> {
        if self.renewed.elapsed() < RENEW_EVERY {
            return Ok(());
        }
        let res = self
            .db
            .execute_raw(stmt(
                "UPDATE uploads SET locked_until = now() + make_interval(secs => $3)
                 WHERE id = $1 AND lock_token = $2 AND state = $4",
                vec![
                    self.upload_id.into(),
                    self.token.into(),
                    LEASE.as_secs_f64().into(),
                    ACTIVE.into(),
                ],
            ))
            .await?;
        if res.rows_affected() != 1 {
            return Err(WriteError::LockLost);
        }
        self.renewed = Instant::now();
        Ok(())
    }

    /// Records a new durable state of the upload, if the lease is still ours.
    async fn record(
        &mut self,
        offset: i64,
        parts: &[Part],
        pieces: &[Piece],
    ) -> Result<(), WriteError> {
        let res = self
            .db
            .execute_raw(stmt(
                "UPDATE uploads SET offset_bytes = $3, parts = $4, pieces = $5,
                     locked_until = now() + make_interval(secs => $6), updated_at = now()
                 WHERE id = $1 AND lock_token = $2 AND state = $7",
                vec![
                    self.upload_id.into(),
                    self.token.into(),
                    offset.into(),
                    json(parts)?.into(),
                    json(pieces)?.into(),
                    LEASE.as_secs_f64().into(),
                    ACTIVE.into(),
                ],
            ))
            .await?;
        if res.rows_affected() != 1 {
            return Err(WriteError::LockLost);
        }
        self.renewed = Instant::now();
        Ok(())
    }

    /// Gives the lease up (best effort: it lapses by itself anyway).
    pub async fn release(self) {
        let _ = self
            .db
            .execute_raw(stmt(
                "UPDATE uploads SET lock_token = NULL, locked_until = NULL WHERE id = $1 AND lock_token = $2",
                vec![self.upload_id.into(), self.token.into()],
            ))
            .await;
    }
}

fn json<T: Serialize + ?Sized>(v: &T) -> Result<serde_json::Value, WriteError> {
    serde_json::to_value(v).map_err(|e| WriteError::Inconsistent(e.to_string()))
}

fn stmt(sql: &str, values: Vec<sea_orm::Value>) -> Statement {
    Statement::from_sql_and_values(DbBackend::Postgres, sql, values)
}

/// How a write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Written {
    /// The new durable offset, short of the upload's length.
    Progress(i64),
    /// Every byte is stored and the original is in place; the caller records completion.
    Complete,
}

/// Writes `body` at the upload's durable offset.
pub async fn write<S, E>(
    storage: &Storage,
    lock: &mut UploadLock,
    up: &upload::Model,
    body: S,
    checksum: Option<Checksum>,
) -> Result<Written, WriteError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    match storage {
        Storage::Local(local) => write_local(storage, local, lock, up, body, checksum).await,
        Storage::S3(s3) => write_s3(storage, s3, lock, up, body, checksum).await,
    }
}

async fn write_local<S, E>(
    storage: &Storage,
    local: &kadr_storage::LocalStorage,
    lock: &mut UploadLock,
    up: &upload::Model,
    mut body: S,
    mut checksum: Option<Checksum>,
) -> Result<Written, WriteError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let start = up.offset_bytes;
    let staging = staging_key(up.id);
    // A crash after the file was moved into place but before completion was recorded.
    if let Ok(meta) = storage.head(&up.storage_key).await
        && meta.size == up.length as u64
        && storage.head(&staging).await.is_err()
    {
        return Ok(Written::Complete);
    }
    let mut file = local.open_staging(&staging, start as u64).await?;
    let io =
        |e: std::io::Error| WriteError::Storage(StorageError::io("writing the upload file", e));
    file.seek(std::io::SeekFrom::Start(start as u64))
        .await
        .map_err(io)?;
    let mut offset = start;
    let mut durable = start;
    let mut interrupted = None;
    while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                interrupted = Some(e.to_string());
                break;
            }
        };
        if offset + chunk.len() as i64 > up.length {
            file.set_len(durable as u64).await.map_err(io)?;
            return Err(WriteError::TooLong);
        }
        lock.keep().await?;
        file.write_all(&chunk).await.map_err(io)?;
        if let Some(c) = checksum.as_mut() {
            c.update(&chunk);
        }
        offset += chunk.len() as i64;
        if checksum.is_none() && offset - durable >= LOCAL_CHECKPOINT && offset < up.length {
            file.sync_data().await.map_err(io)?;
            lock.record(offset, &[], &[]).await?;
            durable = offset;
        }
    }
    if let Some(c) = checksum {
        // Nothing of this request counts unless all of it arrived and matches.
        if interrupted.is_some() || !c.matches() {
            file.set_len(start as u64).await.map_err(io)?;
            return Err(match interrupted {
                Some(m) => WriteError::ClientGone(m),
                None => WriteError::ChecksumMismatch,
            });
        }
    }
    file.sync_all().await.map_err(io)?;
    drop(file);
    if offset == up.length {
        local.promote(&staging, &up.storage_key).await?;
        return Ok(Written::Complete);
    }
    if offset != durable {
        lock.record(offset, &[], &[]).await?;
    }
    match interrupted {
        Some(m) => Err(WriteError::ClientGone(m)),
        None => Ok(Written::Progress(offset)),
    }
}

async fn write_s3<S, E>(
    storage: &Storage,
    s3: &kadr_storage::S3Storage,
    lock: &mut UploadLock,
    up: &upload::Model,
    mut body: S,
    mut checksum: Option<Checksum>,
) -> Result<Written, WriteError>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let part_size = up.part_size;
    let multipart_id = up.multipart_id.clone().ok_or_else(|| {
        WriteError::Inconsistent(format!("upload {} has no multipart upload", up.id))
    })?;
    let mut parts: Vec<Part> = serde_json::from_value(up.parts.clone())
        .map_err(|e| WriteError::Inconsistent(e.to_string()))?;
    let mut pieces: Vec<Piece> = serde_json::from_value(up.pieces.clone())
        .map_err(|e| WriteError::Inconsistent(e.to_string()))?;
    let pieces_len = |p: &[Piece]| p.iter().map(|x| x.size).sum::<i64>();
    if parts.len() as i64 * part_size + pieces_len(&pieces) != up.offset_bytes {
        return Err(WriteError::Inconsistent(format!(
            "upload {}: parts and pieces do not add up to the offset",
            up.id
        )));
    }
    let mut offset = up.offset_bytes;
    let mut buf = BytesMut::new();
    let mut spent_pieces: Vec<Piece> = Vec::new();
    let mut interrupted = None;

    while let Some(chunk) = body.next().await {
        let mut chunk = match chunk {
            Ok(c) => c,
            Err(e) => {
                interrupted = Some(e.to_string());
                break;
            }
        };
        if offset + chunk.len() as i64 > up.length {
            return Err(WriteError::TooLong);
        }
        lock.keep().await?;
        if let Some(c) = checksum.as_mut() {
            c.update(&chunk);
        }
        offset += chunk.len() as i64;
        while !chunk.is_empty() {
            let room = (part_size - pieces_len(&pieces)) as usize - buf.len();
            let take = room.min(chunk.len());
            buf.extend_from_slice(&chunk.split_to(take));
            if pieces_len(&pieces) + buf.len() as i64 == part_size {
                let n = parts.len() as i32 + 1;
                let data = assemble(storage, up.id, &pieces, buf.split().freeze()).await?;
                let etag = match s3
                    .upload_part(&up.storage_key, &multipart_id, n, data)
                    .await
                {
                    Ok(etag) => etag,
                    Err(e) => return already_complete(storage, up).await.ok_or(e.into()),
                };
                parts.push(Part { n, etag });
                spent_pieces.append(&mut pieces);
                if checksum.is_none() {
                    lock.record(parts.len() as i64 * part_size, &parts, &[])
                        .await?;
                    drop_pieces(storage, up.id, &std::mem::take(&mut spent_pieces)).await;
                }
            }
        }
    }

    if let Some(c) = checksum
        && (interrupted.is_some() || !c.matches())
    {
        return Err(match interrupted {
            Some(m) => WriteError::ClientGone(m),
            None => WriteError::ChecksumMismatch,
        });
    }

    // Every byte is here, even if the body broke after the last one (a client that timed out
    // as it finished): complete now. Recording an offset equal to the length and leaving the
    // upload active would tell the client it is done while nothing ever finishes it.
    if offset == up.length {
        // The last part: whatever pieces are left plus the tail of this request.
        if !pieces.is_empty() || !buf.is_empty() {
            let n = parts.len() as i32 + 1;
            let data = assemble(storage, up.id, &pieces, buf.split().freeze()).await?;
            let etag = match s3
                .upload_part(&up.storage_key, &multipart_id, n, data)
                .await
            {
                Ok(etag) => etag,
                Err(e) => return already_complete(storage, up).await.ok_or(e.into()),
            };
            parts.push(Part { n, etag });
        }
        if parts.is_empty() {
            // An empty file: S3 wants at least one part, so store it whole.
            s3.abort_multipart(&up.storage_key, &multipart_id).await?;
            storage
                .put_bytes(&up.storage_key, Bytes::new(), None)
                .await?;
        } else {
            let uploaded: Vec<UploadedPart> = parts
                .iter()
                .map(|p| UploadedPart {
                    part_number: p.n,
                    etag: p.etag.clone(),
                })
                .collect();
            if let Err(e) = s3
                .complete_multipart(&up.storage_key, &multipart_id, &uploaded)
                .await
            {
                return already_complete(storage, up).await.ok_or(e.into());
            }
        }
        return Ok(Written::Complete);
    }

    // Keep what arrived past the last part as a piece. A small tail after a small piece is
    // written over that piece, extended (it starts with the same bytes, and pieces are read
    // only up to their recorded size, so a crash before the record below leaves the recorded
    // pieces readable): pieces grow with the bytes received, not with the number of requests,
    // and a request costs at most one small piece read.
    if !buf.is_empty() {
        let tail = buf.split().freeze();
        let small = |n: i64| n < SMALL_PIECE;
        let piece = match pieces.last() {
            Some(last) if small(tail.len() as i64) && small(last.size) => {
                let last = *last;
                let merged = assemble(storage, up.id, std::slice::from_ref(&last), tail).await?;
                pieces.pop();
                Piece {
                    offset: last.offset,
                    size: merged.len() as i64,
                }
                .stored(storage, up.id, merged)
                .await?
            }
            _ => {
                Piece {
                    offset: parts.len() as i64 * part_size + pieces_len(&pieces),
                    size: tail.len() as i64,
                }
                .stored(storage, up.id, tail)
                .await?
            }
        };
        pieces.push(piece);
    }
    lock.record(offset, &parts, &pieces).await?;
    drop_pieces(storage, up.id, &spent_pieces).await;
    match interrupted {
        Some(m) => Err(WriteError::ClientGone(m)),
        None => Ok(Written::Progress(offset)),
    }
}

/// A crash between completing the multipart upload and recording it leaves the original in
/// place while the row still says "active": finish from there.
async fn already_complete(storage: &Storage, up: &upload::Model) -> Option<Written> {
    match storage.head(&up.storage_key).await {
        Ok(meta) if meta.size == up.length as u64 => Some(Written::Complete),
        _ => None,
    }
}

/// The stored pieces followed by `tail`, as one part.
async fn assemble(
    storage: &Storage,
    upload_id: Uuid,
    pieces: &[Piece],
    tail: Bytes,
) -> Result<Bytes, WriteError> {
    if pieces.is_empty() {
        return Ok(tail);
    }
    let total = pieces.iter().map(|p| p.size as usize).sum::<usize>() + tail.len();
    let mut out = BytesMut::with_capacity(total);
    for piece in pieces {
        if piece.size == 0 {
            continue;
        }
        // Only the recorded size: a piece may have been extended by a request whose record
        // never landed.
        let range = kadr_storage::ByteRange::Inclusive(0, piece.size as u64 - 1);
        let got = storage
            .get(&piece_key(upload_id, piece.offset), Some(range))
            .await?;
        let mut body = got.body;
        while let Some(chunk) = body.next().await {
            out.extend_from_slice(
                &chunk.map_err(|e| StorageError::io("reading an upload piece", e))?,
            );
        }
    }
    if out.len() + tail.len() != total {
        return Err(WriteError::Inconsistent(format!(
            "upload {upload_id}: the stored pieces do not have their recorded sizes"
        )));
    }
    out.extend_from_slice(&tail);
    Ok(out.freeze())
}

async fn drop_pieces(storage: &Storage, upload_id: Uuid, pieces: &[Piece]) {
    for p in pieces {
        if let Err(e) = storage.delete(&piece_key(upload_id, p.offset)).await {
            tracing::warn!(upload = %upload_id, error = %e, "could not delete a spent upload piece");
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn header(alg: &str, digest: &[u8]) -> String {
        format!(
            "{alg} {}",
            base64::engine::general_purpose::STANDARD.encode(digest)
        )
    }

    #[test]
    fn checksums_are_parsed_and_checked() {
        let data = b"kadr bytes";
        let sha1 = sha1::Sha1::digest(data);
        let sha256 = sha2::Sha256::digest(data);
        for h in [header("sha1", &sha1), header("sha256", &sha256)] {
            let mut c = Checksum::parse(&h).unwrap();
            c.update(&data[..4]);
            c.update(&data[4..]);
            assert!(c.matches(), "{h}");
            let mut wrong = Checksum::parse(&h).unwrap();
            wrong.update(b"other bytes");
            assert!(!wrong.matches(), "{h}");
        }
        for bad in [
            "sha1".to_owned(),
            "sha1 !!!".to_owned(),
            header("sha1", &sha256),
            header("md5", &[0u8; 16]),
            String::new(),
        ] {
            let err = Checksum::parse(&bad).err().unwrap();
            assert_eq!(err.code, Code::InvalidChecksum, "{bad:?}");
            assert_eq!(err.field.as_deref(), Some("Upload-Checksum"));
        }
        assert_eq!(CHECKSUM_ALGORITHMS, "sha1,sha256");
    }
}
