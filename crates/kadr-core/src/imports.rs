//! Imports: videos whose files come from somewhere else (a URL a worker fetches, a file the
//! client uploads as part of a catalogue), each with the caller's external id so that doing
//! the same import twice finds what the first did.
//!
//! An import is not news: the video keeps its original publication date (`original_at`,
//! from which `published_at` starts), and it is marked announced from the start, so
//! subscribers are not notified of a catalogue arriving.
//!
//! A URL import's life: [`create`] writes the video (awaiting its file), the `imports` row and
//! a `fetch` job in one transaction; the worker [`begin`]s, reports [`progress`], then
//! [`land`]s the stored file (quota, upload record, transcode queued, as for an upload) or
//! [`fail`]s it with a stable [`Failure`], which the video then shows.

use chrono::{DateTime, FixedOffset, Utc};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbBackend, FromQueryResult, Statement, TransactionSession,
    TransactionTrait,
};
use serde::Serialize;
use uuid::Uuid;

use kadr_config::Config;

use crate::codes::{Code, Failure};
use crate::entities::user;
use crate::error::DomainError;
use crate::jobs;
use crate::state::{ImportSource, ImportState, UploadBackend, VideoStatus, WebhookEvent};
use crate::uploads;
use crate::videos::VideoFields;

/// An import as its owner sees it, with its video's progress.
#[derive(Debug, Clone, PartialEq, FromQueryResult, Serialize)]
pub struct Import {
    pub id: Uuid,
    pub video_id: Uuid,
    pub batch_id: Option<Uuid>,
    pub external_id: Option<String>,
    pub source: ImportSource,
    pub location: Option<String>,
    pub state: ImportState,
    pub bytes_done: i64,
    pub bytes_total: Option<i64>,
    pub failure_code: Option<String>,
    pub failure_detail: Option<String>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
    /// The video's status and moderation, for the whole picture in one answer.
    pub video_status: VideoStatus,
    pub video_failure: Option<String>,
    pub original_at: Option<DateTime<FixedOffset>>,
    /// The tus upload still waiting for the client's bytes (`upload` imports).
    pub upload_id: Option<Uuid>,
}

const SELECT: &str = "SELECT i.id, i.video_id, i.batch_id, i.external_id, i.source, i.location,
        i.state, i.bytes_done, i.bytes_total, i.failure_code, i.failure_detail, i.created_at,
        i.updated_at, v.status AS video_status, v.failure_code AS video_failure, v.original_at,
        (SELECT u.id FROM uploads u WHERE u.video_id = i.video_id AND u.state = 'active'
         ORDER BY u.created_at DESC LIMIT 1) AS upload_id
    FROM imports i JOIN videos v ON v.id = i.video_id";

/// The tus upload an `upload` import creates for the client's file.
#[derive(Debug, Clone)]
pub struct NewUpload {
    /// Storage prepared for `NewImport::video_id`.
    pub staging: uploads::Staging,
    pub size: i64,
    pub filename: Option<String>,
}

/// What a new import says besides the video's fields.
#[derive(Debug, Clone)]
pub struct NewImport {
    /// The new video's id, chosen beforehand (its storage may be prepared under it).
    pub video_id: Uuid,
    pub source: ImportSource,
    /// For `upload`: the upload to create (its length reserved in the owner's quota).
    pub upload: Option<NewUpload>,
    /// The URL, or `s3://SOURCE/BUCKET/KEY`; none for files the client uploads.
    pub location: Option<String>,
    pub external_id: Option<String>,
    pub batch: Option<Uuid>,
    /// When the video was first published elsewhere.
    pub original_at: Option<DateTime<FixedOffset>>,
}

/// What [`create`] did.
#[derive(Debug, Clone)]
pub enum Created {
    New(Import),
    /// The owner imported this external id before: nothing was created.
    Existing(Import),
}

/// An external id: 1 to 200 characters, none of them control characters.
pub fn check_external_id(id: &str) -> Result<String, DomainError> {
    let id = id.trim();
    if id.is_empty() || id.chars().count() > 200 || id.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            "external_id",
            "An external id is 1 to 200 characters, without control characters",
        ));
    }
    Ok(id.to_owned())
}

/// An original publication date: not in the future (a day of clock skew allowed), not
/// before 1900.
pub fn check_original_at(at: DateTime<FixedOffset>) -> Result<DateTime<FixedOffset>, DomainError> {
    let now = Utc::now();
    if at.with_timezone(&Utc) > now + chrono::Duration::days(1)
        || at.with_timezone(&Utc).timestamp() < -2_208_988_800
    {
        return Err(DomainError::invalid(
            "original_date",
            "The original publication date is in the future or before 1900",
        ));
    }
    Ok(at)
}

/// An object in a named S3 source: `s3://SOURCE/BUCKET/KEY`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub source: String,
    pub bucket: String,
    pub key: String,
}

/// Reads `s3://SOURCE/BUCKET/KEY`, refused (`url_not_allowed`) unless the source is one of
/// `import.sources` and the bucket one of its `buckets`.
pub fn s3_location(config: &Config, text: &str) -> Result<S3Location, DomainError> {
    let refused = |why: &str| {
        DomainError::refused(Code::UrlNotAllowed, "This URL cannot be imported from")
            .detail(why.to_owned())
            .field("url")
    };
    let rest = text
        .strip_prefix("s3://")
        .ok_or_else(|| refused("not an s3:// URL"))?;
    let mut parts = rest.splitn(3, '/');
    let (Some(source), Some(bucket), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(refused("an S3 source is s3://SOURCE/BUCKET/KEY"));
    };
    let Some(src) = config.import.sources.get(source) else {
        return Err(refused("no S3 source of that name is configured"));
    };
    if !src.buckets.iter().any(|b| b == bucket) {
        return Err(refused(
            "that bucket is not one this source lets imports read",
        ));
    }
    if key.is_empty()
        || key.len() > 1024
        || key.starts_with('/')
        || key.split('/').any(|seg| seg == ".." || seg == ".")
        || key.chars().any(char::is_control)
    {
        return Err(refused("not a key Kadr reads"));
    }
    Ok(S3Location {
        source: source.to_owned(),
        bucket: bucket.to_owned(),
        key: key.to_owned(),
    })
}

/// The owner's import with this id.
pub async fn get<C: ConnectionTrait>(
    db: &C,
    owner: Uuid,
    id: Uuid,
) -> Result<Option<Import>, DomainError> {
    Ok(Import::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("{SELECT} WHERE i.id = $1 AND i.owner_id = $2"),
        [id.into(), owner.into()],
    ))
    .one(db)
    .await?)
}

/// The owner's import under this external id.
pub async fn by_external<C: ConnectionTrait>(
    db: &C,
    owner: Uuid,
    external_id: &str,
) -> Result<Option<Import>, DomainError> {
    Ok(Import::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!("{SELECT} WHERE i.owner_id = $1 AND i.external_id = $2"),
        [owner.into(), external_id.into()],
    ))
    .one(db)
    .await?)
}

/// What to list.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub batch: Option<Uuid>,
    pub state: Option<ImportState>,
    /// Only imports older than this one (ids grow with time).
    pub before: Option<Uuid>,
}

/// The owner's imports, newest first, at most `limit`.
pub async fn list<C: ConnectionTrait>(
    db: &C,
    owner: Uuid,
    filter: &Filter,
    limit: u64,
) -> Result<Vec<Import>, DomainError> {
    Ok(Import::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "{SELECT} WHERE i.owner_id = $1
               AND ($2::uuid IS NULL OR i.batch_id = $2)
               AND ($3::text IS NULL OR i.state = $3)
               AND ($4::uuid IS NULL OR i.id < $4)
             ORDER BY i.id DESC LIMIT $5"
        ),
        [
            owner.into(),
            filter.batch.into(),
            filter.state.map(|s| s.as_str().to_owned()).into(),
            filter.before.into(),
            (limit as i64).into(),
        ],
    ))
    .all(db)
    .await?)
}

/// Creates an import: the video (awaiting its file, with its original date, not announced),
/// its `imports` row and, for a URL, the `fetch` job, in one transaction. An external id the
/// owner used before gives back that import instead ([`Created::Existing`]), also when two
/// requests race.
pub async fn create(
    db: &DatabaseConnection,
    config: &Config,
    owner: &user::Model,
    fields: VideoFields,
    new: NewImport,
) -> Result<Created, DomainError> {
    if let Some(ext) = &new.external_id
        && let Some(found) = by_external(db, owner.id, ext).await?
    {
        return Ok(Created::Existing(found));
    }
    let made = async {
        let tx = db.begin().await?;
        // An upload reserves its length first (under the owner's lock, for the quota).
        if let Some(up) = &new.upload {
            uploads::reserve(&tx, config, owner.id, up.size, true).await?;
        }
        let video_id = new.video_id;
        let video = uploads::insert_video(&tx, config, owner, fields, video_id).await?;
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE videos SET original_at = $2, announced_at = now() WHERE id = $1",
            [video_id.into(), new.original_at.into()],
        ))
        .await?;
        let id = Uuid::now_v7();
        if let Some(up) = &new.upload {
            uploads::insert_upload(
                &tx,
                config,
                &video,
                &up.staging,
                up.size,
                up.filename.clone(),
                serde_json::json!({}),
            )
            .await?;
        }
        if matches!(new.source, ImportSource::Url | ImportSource::S3) {
            jobs::enqueue_fetch(&tx, config, id, owner.id).await?;
        }
        // Last: the row counts itself among the owner's pending imports (the trigger on
        // `imports` adds it to `import_pending`, whose row stays locked until the commit), so
        // imports of one owner queue only for this statement and the commit, and the count
        // read after it cannot be raced past.
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "INSERT INTO imports (id, owner_id, video_id, batch_id, external_id, source, location)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            [
                id.into(),
                owner.id.into(),
                video_id.into(),
                new.batch.into(),
                new.external_id.clone().into(),
                new.source.as_str().into(),
                new.location.clone().into(),
            ],
        ))
        .await?;
        let pending = tx
            .query_one_raw(Statement::from_sql_and_values(
                DbBackend::Postgres,
                "SELECT n FROM import_pending WHERE owner_id = $1",
                [owner.id.into()],
            ))
            .await?
            .map(|r| r.try_get::<i32>("", "n"))
            .transpose()?
            .unwrap_or(0);
        if u64::try_from(pending).unwrap_or(0) > config.import.max_pending {
            return Err(DomainError::refused(
                Code::TooManyImports,
                "Too many of your imports are waiting",
            )
            .detail(format!(
                "wait until some are done (at most {} waiting)",
                config.import.max_pending
            ))
            .retry_after(60));
        }
        tx.commit().await?;
        Ok(id)
    }
    .await;
    let id = match made {
        Ok(id) => id,
        Err(DomainError::Db(e))
            if matches!(
                e.sql_err(),
                Some(sea_orm::SqlErr::UniqueConstraintViolation(_))
            ) && new.external_id.is_some() =>
        {
            // Another request imported the same external id first.
            let ext = new.external_id.as_deref().unwrap_or_default();
            return match by_external(db, owner.id, ext).await? {
                Some(found) => Ok(Created::Existing(found)),
                None => Err(DomainError::Db(e)),
            };
        }
        Err(e) => return Err(e),
    };
    get(db, owner.id, id)
        .await?
        .map(Created::New)
        .ok_or_else(|| DomainError::Internal("a new import is gone".to_owned()))
}

/// What the worker needs to fetch an import.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Fetch {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub video_id: Uuid,
    pub location: Option<String>,
    pub bytes_done: i64,
    /// When the first attempt began: `import.max_secs` counts from here.
    pub started_at: DateTime<FixedOffset>,
}

/// Marks the import being fetched and gives what the worker needs; none when there is
/// nothing left to do (fetched, failed, or its video deleted).
pub async fn begin<C: ConnectionTrait>(db: &C, id: Uuid) -> Result<Option<Fetch>, DomainError> {
    Ok(Fetch::find_by_statement(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "UPDATE imports SET state = '{fetching}', updated_at = now(),
                 started_at = coalesce(started_at, now())
             WHERE id = $1 AND state IN ('{queued}', '{fetching}')
             RETURNING id, owner_id, video_id, location, bytes_done, started_at",
            fetching = ImportState::Fetching.as_str(),
            queued = ImportState::Queued.as_str(),
        ),
        [id.into()],
    ))
    .one(db)
    .await?)
}

/// Records how far a fetch got.
pub async fn progress<C: ConnectionTrait>(
    db: &C,
    id: Uuid,
    done: u64,
    total: Option<u64>,
) -> Result<(), DomainError> {
    db.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "UPDATE imports SET bytes_done = $2, bytes_total = $3, updated_at = now()
             WHERE id = $1 AND state = '{}'",
            ImportState::Fetching.as_str()
        ),
        [
            id.into(),
            (done.min(i64::MAX as u64) as i64).into(),
            total.map(|t| t.min(i64::MAX as u64) as i64).into(),
        ],
    ))
    .await?;
    Ok(())
}

/// How [`land`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Landed {
    /// The file is the video's original now; its transcode is queued.
    Queued,
    /// Landed before (a retried job): nothing more done.
    Already,
    /// The import or its video is gone: the stored file is to be removed.
    Gone,
}

/// Makes the stored file (`keys::source`) the video's original, as a completed upload does:
/// the owner's quota is charged (refused past it), an upload record written, the video
/// queued, its transcode enqueued and the import marked fetched, in one transaction.
pub async fn land(
    db: &DatabaseConnection,
    config: &Config,
    id: Uuid,
    backend: UploadBackend,
    size: u64,
    filename: Option<String>,
    job: Option<&kadr_queue::Job>,
) -> Result<Landed, DomainError> {
    let tx = db.begin().await?;
    let Some(row) = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT owner_id, video_id, state FROM imports WHERE id = $1",
            [id.into()],
        ))
        .await?
    else {
        return Ok(Landed::Gone);
    };
    let owner: Uuid = row.try_get("", "owner_id")?;
    let video: Uuid = row.try_get("", "video_id")?;
    let state: String = row.try_get("", "state")?;
    if state == ImportState::Fetched.as_str() {
        return Ok(Landed::Already);
    }
    if state == ImportState::Failed.as_str() {
        return Ok(Landed::Gone);
    }
    let size = size.min(i64::MAX as u64) as i64;
    let Ok(v) = uploads::video_awaiting_upload(&tx, owner, video).await else {
        return Ok(Landed::Gone);
    };
    let part_size = config.storage.s3.part_size_mib as i64 * 1024 * 1024;
    uploads::insert_upload_record(&tx, &v, backend, part_size, size, filename).await?;
    uploads::queue_video(&tx, config, video, owner, size).await?;
    emit_import(
        &tx,
        config,
        id,
        ImportState::Fetched,
        WebhookEvent::ImportItemCompleted,
    )
    .await?;
    // Last, as late as can be: the owner's row is locked from the quota's charge to the
    // commit, then their count of pending imports (by the trigger on `imports`; always in
    // this order), so one owner's imports land one at a time only for these few statements
    // and the commit. Only the quota is checked: the cap on videos waiting for the transcoder is
    // for uploads (an import's count is held by import.max_pending, and transcodes are fair
    // among owners).
    uploads::charge_quota(&tx, config, owner, size).await?;
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        format!(
            "UPDATE imports SET state = '{}', bytes_done = $2, bytes_total = $2, updated_at = now()
             WHERE id = $1",
            ImportState::Fetched.as_str()
        ),
        [id.into(), size.into()],
    ))
    .await?;
    // The fetch job ends with it (fenced: not if another worker took it over).
    if let Some(job) = job {
        kadr_queue::complete_on(&tx, job)
            .await
            .map_err(|e| match e {
                kadr_queue::QueueError::Db(e) => DomainError::Db(e),
                other => DomainError::Internal(other.to_string()),
            })?;
    }
    tx.commit().await?;
    Ok(Landed::Queued)
}

/// Ends an import that will not land: the import and its video show `failure` (the video
/// only while it still waits for its file).
pub async fn fail<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    config: &Config,
    id: Uuid,
    failure: Failure,
    detail: &str,
) -> Result<(), DomainError> {
    let detail: String = detail.chars().take(500).collect();
    let tx = db.begin().await?;
    let failed = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "WITH i AS (
                    UPDATE imports SET state = '{failed}', failure_code = $2, failure_detail = $3,
                        updated_at = now()
                    WHERE id = $1 AND state <> '{fetched}' RETURNING video_id),
                 v AS (
                    UPDATE videos SET status = '{vfailed}', failure_code = $2, failure_message = $4,
                        updated_at = now()
                    WHERE id IN (SELECT video_id FROM i) AND status = '{awaiting}')
                 SELECT count(*) AS n FROM i",
                failed = ImportState::Failed.as_str(),
                fetched = ImportState::Fetched.as_str(),
                vfailed = VideoStatus::Failed.as_str(),
                awaiting = VideoStatus::AwaitingUpload.as_str(),
            ),
            [
                id.into(),
                failure.as_str().into(),
                detail.clone().into(),
                detail.into(),
            ],
        ))
        .await?
        .map(|r| r.try_get::<i64>("", "n"))
        .transpose()?
        .unwrap_or(0);
    // Told when the import fails (a fetched one is not failed).
    if failed > 0 {
        emit_import(
            &tx,
            config,
            id,
            ImportState::Failed,
            WebhookEvent::ImportItemFailed,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What became of an import's thumbnail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thumbnail {
    /// Kept until the video is ready; the picture it replaces (if any) is to be removed.
    Waiting { replaced: Option<String> },
    /// The video is ready: its poster is being made now.
    Making,
}

/// Gives the import's video the picture stored at `key` as its poster: at once when the
/// video is ready, else once its transcode ends ([`thumbnail_due`]). The video's row is locked
/// meanwhile, so the transcode's end cannot slip between the check and the write.
pub async fn set_thumbnail(
    db: &DatabaseConnection,
    config: &Config,
    owner: Uuid,
    id: Uuid,
    key: String,
) -> Result<Thumbnail, DomainError> {
    let tx = db.begin().await?;
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT v.id AS video_id, v.status, i.thumbnail_key FROM imports i
             JOIN videos v ON v.id = i.video_id
             WHERE i.id = $1 AND i.owner_id = $2 FOR UPDATE OF v, i",
            [id.into(), owner.into()],
        ))
        .await?
        .ok_or(DomainError::NotFound)?;
    let video: Uuid = row.try_get("", "video_id")?;
    let status: String = row.try_get("", "status")?;
    let replaced: Option<String> = row.try_get("", "thumbnail_key")?;
    if status == VideoStatus::Ready.as_str() {
        crate::posters::enqueue_custom(&tx, config, owner, video, key).await?;
        tx.commit().await?;
        return Ok(Thumbnail::Making);
    }
    if status == VideoStatus::Failed.as_str() {
        return Err(DomainError::refused(
            Code::NotPlayable,
            "The video failed; it takes no thumbnail",
        ));
    }
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE imports SET thumbnail_key = $2, updated_at = now() WHERE id = $1",
        [id.into(), key.into()],
    ))
    .await?;
    tx.commit().await?;
    Ok(Thumbnail::Waiting { replaced })
}

/// In the transaction that makes `video` ready: the thumbnail its import was given before,
/// handed to the `poster` job now that the video's shape is known.
pub async fn thumbnail_due<C: ConnectionTrait>(
    tx: &C,
    config: &Config,
    video: Uuid,
) -> Result<(), DomainError> {
    let Some(row) = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "WITH old AS (SELECT id, owner_id, thumbnail_key FROM imports
                          WHERE video_id = $1 AND thumbnail_key IS NOT NULL FOR UPDATE)
             UPDATE imports i SET thumbnail_key = NULL, updated_at = now() FROM old
             WHERE i.id = old.id RETURNING old.owner_id, old.thumbnail_key AS key",
            [video.into()],
        ))
        .await?
    else {
        return Ok(());
    };
    let owner: Uuid = row.try_get("", "owner_id")?;
    let key: String = row.try_get("", "key")?;
    crate::posters::enqueue_custom(tx, config, owner, video, key).await?;
    Ok(())
}

/// Tells the owner's webhooks of `kind` about import `id`, in `tx`: the video, and the
/// import (`data.import`).
async fn emit_import<C: ConnectionTrait>(
    tx: &C,
    config: &Config,
    id: Uuid,
    state: ImportState,
    kind: WebhookEvent,
) -> Result<(), DomainError> {
    let Some(row) = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "SELECT owner_id, video_id, jsonb_build_object('id', id, 'external_id', external_id,
                 'source', source, 'state', $2::text, 'batch_id', batch_id,
                 'failure_code', failure_code, 'failure_detail', failure_detail) AS import
             FROM imports WHERE id = $1",
            [id.into(), state.as_str().into()],
        ))
        .await?
    else {
        return Ok(());
    };
    let owner: Uuid = row.try_get("", "owner_id")?;
    let video: Uuid = row.try_get("", "video_id")?;
    let import: serde_json::Value = row.try_get("", "import")?;
    crate::webhooks::emit(
        tx,
        config,
        crate::webhooks::Event::video(kind, owner, video)
            .data(serde_json::json!({ "import": import })),
    )
    .await
}
