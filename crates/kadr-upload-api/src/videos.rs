//! Creating videos (with or without their upload), completing uploads, and downloading the
//! original.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use futures::StreamExt;
use kadr_db::entities::{channel, upload, user, video};
use kadr_http::auth::AuthUser;
use kadr_http::fields;
use kadr_http::{ApiError, AppContext};
use kadr_queue::NewJob;
use kadr_storage::{ByteRange, Storage, StorageError};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseTransaction,
    DbBackend, EntityTrait, QueryFilter, QuerySelect, Statement, TransactionTrait,
};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::store::{self, LOCAL_CHECKPOINT, UploadLock};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos", web::post().to(create))
        .route("/api/v1/videos/{id}", web::delete().to(delete))
        .route("/api/v1/videos/{id}/source", web::get().to(source));
}

/// What a new video is described with, from JSON or from tus metadata.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewVideo {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub privacy: Option<String>,
    /// Size of the file to come: with it, the tus upload is created now and its URL returned.
    #[serde(default)]
    pub size: Option<i64>,
}

/// Checked and normalised video fields.
#[derive(Debug, Clone)]
pub struct VideoFields {
    pub title: String,
    pub description: String,
    pub tags: Vec<String>,
    pub language: Option<String>,
    pub privacy: String,
}

impl NewVideo {
    /// `fallback_title` is used when no title was given (the uploaded file's name).
    pub fn validate(&self, fallback_title: Option<&str>) -> Result<VideoFields, ApiError> {
        let given = self
            .title
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty());
        let title = fields::title(given.or(fallback_title).unwrap_or(""))?;
        Ok(VideoFields {
            title,
            description: fields::description(self.description.as_deref().unwrap_or(""))?,
            tags: fields::tags(self.tags.as_deref().unwrap_or(&[]))?,
            language: fields::language(self.language.as_deref().unwrap_or(""))?,
            privacy: fields::privacy(self.privacy.as_deref().unwrap_or("public"))?,
        })
    }
}

/// Whether the owner's new videos skip the moderation queue.
fn moderation_for(ctx: &AppContext, owner: &user::Model) -> &'static str {
    kadr_http::review::initial_state(&ctx.config.moderation, owner)
}

/// 413 unless `size` fits the per-upload limit and the owner's quota (counting uploads still
/// in progress).
pub async fn check_limits(
    ctx: &AppContext,
    owner: &user::Model,
    size: i64,
) -> Result<(), ApiError> {
    let max = ctx.config.upload.max_size_bytes;
    if size < 0 {
        return Err(ApiError::bad_request(
            "invalid_upload_length",
            "The upload size must be a number of bytes",
        ));
    }
    if size as u64 > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            "The file is larger than allowed",
        )
        .detail(format!("{size} bytes; the limit is {max} bytes")));
    }
    let room = quota_room(ctx, owner).await?;
    if size as u64 > room {
        return Err(quota_exceeded(size));
    }
    Ok(())
}

/// 413: the quota cannot hold `size` more bytes.
pub fn quota_exceeded(size: i64) -> ApiError {
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "quota_exceeded",
        "Your storage quota is used up",
    )
    .detail(format!("this file needs {size} bytes more than is left"))
}

/// What the quota counts: the originals stored for the user (renditions are not counted) and
/// the declared length of every upload in progress.
const USED_SQL: &str = "SELECT u.storage_used_bytes
        + COALESCE((SELECT sum(length) FROM uploads WHERE owner_id = u.id AND state = 'active'), 0)
        AS used,
    (SELECT count(*) FROM uploads WHERE owner_id = u.id AND state = 'active') AS uploading,
    (SELECT count(*) FROM videos WHERE owner_id = u.id AND status = 'queued') AS waiting
    FROM users u WHERE u.id = $1";

/// Bytes the owner may still add (u64::MAX without a quota); a pre-check, not a reservation.
pub async fn quota_room(ctx: &AppContext, owner: &user::Model) -> Result<u64, ApiError> {
    let quota = ctx.config.upload.user_quota_bytes;
    if quota == 0 {
        return Ok(u64::MAX);
    }
    let row = ctx
        .db
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("SELECT (used)::bigint AS used FROM ({USED_SQL}) q"),
            [owner.id.into()],
        ))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let used: i64 = row
        .and_then(|r| r.try_get::<i64>("", "used").ok())
        .unwrap_or(0);
    Ok(quota.saturating_sub(used.max(0) as u64))
}

/// Reserves `size` bytes of the owner's quota in `tx`, and a place among their uploads in
/// progress (`new_upload`) and videos waiting to transcode. The user's row stays locked
/// until `tx` ends, so parallel creations are counted one after another and cannot together
/// exceed the quota. Call it first in the transaction: rows inserted before it would hold
/// key-share locks on the user's row, and two such transactions would deadlock.
pub async fn reserve(
    ctx: &AppContext,
    tx: &DatabaseTransaction,
    owner: Uuid,
    size: i64,
    new_upload: bool,
) -> Result<(), ApiError> {
    let err = |e: sea_orm::DbErr| ApiError::internal(&e);
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "SELECT 1 FROM users WHERE id = $1 FOR NO KEY UPDATE",
        [owner.into()],
    ))
    .await
    .map_err(err)?;
    let row = tx
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!(
                "SELECT used::bigint AS used, uploading::bigint AS uploading,
                        waiting::bigint AS waiting FROM ({USED_SQL}) q"
            ),
            [owner.into()],
        ))
        .await
        .map_err(err)?
        .ok_or_else(|| ApiError::internal(&"the uploader's row is gone"))?;
    let get = |c: &str| {
        row.try_get::<i64>("", c)
            .map_err(|e| ApiError::internal(&e))
    };
    let (used, uploading, waiting) = (get("used")?, get("uploading")?, get("waiting")?);
    let limits = &ctx.config.upload;
    if limits.user_quota_bytes > 0
        && (used.max(0) as u64).saturating_add(size.max(0) as u64) > limits.user_quota_bytes
    {
        return Err(quota_exceeded(size));
    }
    if new_upload && uploading as u64 >= limits.max_uploads_in_progress {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_uploads",
            "You have too many uploads in progress",
        )
        .detail(format!(
            "finish or cancel one first (at most {})",
            limits.max_uploads_in_progress
        )));
    }
    if waiting as u64 >= limits.max_videos_waiting {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_waiting",
            "Too many of your videos are waiting to be transcoded",
        )
        .detail(format!(
            "wait until some are done (at most {} waiting)",
            limits.max_videos_waiting
        ))
        .retry_after(60));
    }
    Ok(())
}

/// Inserts a video owned by `owner` in its default channel, under an id chosen beforehand
/// (its storage is prepared under that id first).
pub async fn insert_video_with_id(
    ctx: &AppContext,
    tx: &DatabaseTransaction,
    owner: &user::Model,
    fields: VideoFields,
    id: Uuid,
) -> Result<video::Model, ApiError> {
    let channel = channel::Entity::find()
        .filter(channel::Column::OwnerId.eq(owner.id))
        .one(tx)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .ok_or_else(|| ApiError::internal(&format!("user {} has no channel", owner.id)))?;
    let now = Utc::now().fixed_offset();
    video::ActiveModel {
        id: Set(id),
        channel_id: Set(channel.id),
        owner_id: Set(owner.id),
        title: Set(fields.title),
        description: Set(fields.description),
        tags: Set(fields.tags),
        language: Set(fields.language),
        privacy: Set(fields.privacy),
        status: Set("awaiting_upload".to_owned()),
        moderation: Set(moderation_for(ctx, owner).to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(tx)
    .await
    .map_err(|e| ApiError::internal(&e))
}

/// Where an upload's bytes will go, prepared before its rows are written: storage is never
/// called inside an open database transaction (a slow storage would hold row locks).
pub struct Staging {
    video_id: Uuid,
    backend: &'static str,
    part_size: i64,
    multipart_id: Option<String>,
}

/// Prepares storage for the original of `video_id` (on S3, its multipart upload).
pub async fn stage(ctx: &AppContext, video_id: Uuid) -> Result<Staging, ApiError> {
    let key = video::source_key(video_id);
    Ok(match &*ctx.storage {
        Storage::S3(s3) => {
            let id = s3
                .create_multipart(&key, Some("application/octet-stream"))
                .await
                .map_err(|e| ApiError::unavailable(format!("storage: {e}")))?;
            Staging {
                video_id,
                backend: "s3",
                part_size: (ctx.config.storage.s3.part_size_mib * 1024 * 1024) as i64,
                multipart_id: Some(id),
            }
        }
        Storage::Local(_) => Staging {
            video_id,
            backend: "local",
            part_size: LOCAL_CHECKPOINT,
            multipart_id: None,
        },
    })
}

/// Gives back what [`stage`] prepared, when the upload was refused after all.
pub async fn unstage(ctx: &AppContext, staging: Staging) {
    if let (Storage::S3(s3), Some(id)) = (&*ctx.storage, &staging.multipart_id) {
        let key = video::source_key(staging.video_id);
        if let Err(e) = s3.abort_multipart(&key, id).await {
            tracing::warn!(key, error = %e, "could not abort a refused upload's multipart upload");
        }
    }
}

/// Creates the upload resource for `video`, into what [`stage`] prepared for it. The caller
/// has [`reserve`]d its length first in `tx`.
pub async fn insert_upload(
    ctx: &AppContext,
    tx: &DatabaseTransaction,
    video: &video::Model,
    staging: &Staging,
    length: i64,
    filename: Option<String>,
    metadata: serde_json::Value,
) -> Result<upload::Model, ApiError> {
    if staging.video_id != video.id {
        return Err(ApiError::internal(&"an upload staged for another video"));
    }
    let key = video::source_key(video.id);
    let (backend, part_size, multipart_id) = (
        staging.backend,
        staging.part_size,
        staging.multipart_id.clone(),
    );
    let now = Utc::now();
    let expires = now + chrono::Duration::hours(ctx.config.upload.expiration_hours as i64);
    upload::ActiveModel {
        id: Set(Uuid::now_v7()),
        video_id: Set(video.id),
        owner_id: Set(video.owner_id),
        length: Set(length),
        offset_bytes: Set(0),
        filename: Set(filename),
        metadata: Set(metadata),
        storage_key: Set(key),
        backend: Set(backend.to_owned()),
        part_size: Set(part_size),
        multipart_id: Set(multipart_id),
        parts: Set(json!([])),
        pieces: Set(json!([])),
        lock_token: Set(None),
        locked_until: Set(None),
        state: Set("active".to_owned()),
        expires_at: Set(expires.fixed_offset()),
        created_at: Set(now.fixed_offset()),
        updated_at: Set(now.fixed_offset()),
        completed_at: Set(None),
    }
    .insert(tx)
    .await
    .map_err(|e| match e.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => video_has_upload(),
        _ => ApiError::internal(&e),
    })
}

/// 409: a video has at most one upload being written or written.
pub fn video_has_upload() -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "video_has_upload",
        "This video already has an upload",
    )
}

/// The record of a file that arrived whole (`POST /api/v1/videos/upload`).
pub async fn insert_upload_record(
    ctx: &AppContext,
    tx: &DatabaseTransaction,
    video: &video::Model,
    length: i64,
    filename: Option<String>,
) -> Result<upload::Model, ApiError> {
    let now = Utc::now().fixed_offset();
    let backend = match &*ctx.storage {
        Storage::S3(_) => "s3",
        Storage::Local(_) => "local",
    };
    upload::ActiveModel {
        id: Set(Uuid::now_v7()),
        video_id: Set(video.id),
        owner_id: Set(video.owner_id),
        length: Set(length),
        offset_bytes: Set(length),
        filename: Set(filename),
        metadata: Set(json!({})),
        storage_key: Set(video::source_key(video.id)),
        backend: Set(backend.to_owned()),
        part_size: Set(LOCAL_CHECKPOINT),
        multipart_id: Set(None),
        parts: Set(json!([])),
        pieces: Set(json!([])),
        lock_token: Set(None),
        locked_until: Set(None),
        state: Set("complete".to_owned()),
        expires_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        completed_at: Set(Some(now)),
    }
    .insert(tx)
    .await
    .map_err(|e| ApiError::internal(&e))
}

/// Records a finished upload in one transaction: upload complete, video queued, storage
/// accounted, transcode job enqueued. Fenced by the request's lease.
pub async fn complete_upload(
    ctx: &AppContext,
    lock: &UploadLock,
    up: &upload::Model,
) -> Result<(), ApiError> {
    let tx = ctx.db.begin().await.map_err(|e| ApiError::internal(&e))?;
    let done = tx
        .execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE uploads SET offset_bytes = length, state = 'complete', completed_at = now(),
                 updated_at = now(), lock_token = NULL, locked_until = NULL, pieces = '[]'
             WHERE id = $1 AND lock_token = $2 AND state = 'active'",
            [up.id.into(), lock.token().into()],
        ))
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if done.rows_affected() != 1 {
        return Err(store::WriteError::LockLost.into());
    }
    finish_video(ctx, &tx, up.video_id, up.owner_id, up.length).await?;
    tx.commit().await.map_err(|e| ApiError::internal(&e))?;
    if let Err(e) = ctx
        .storage
        .delete_prefix(&store::upload_prefix(up.id))
        .await
    {
        tracing::warn!(upload = %up.id, error = %e, "could not remove an upload's leftovers");
    }
    tracing::info!(upload = %up.id, video = %up.video_id, bytes = up.length, "upload complete; transcode queued");
    Ok(())
}

/// The video part of completion, in the caller's transaction.
pub async fn finish_video(
    ctx: &AppContext,
    tx: &DatabaseTransaction,
    video_id: Uuid,
    owner_id: Uuid,
    size: i64,
) -> Result<(), ApiError> {
    let err = |e: sea_orm::DbErr| ApiError::internal(&e);
    // A source arriving after a decision is not what was decided on: unless the owner
    // publishes directly, the video goes back to review.
    let owner = user::Entity::find_by_id(owner_id)
        .one(tx)
        .await
        .map_err(err)?
        .ok_or_else(|| ApiError::internal(&"the video's owner is gone"))?;
    let trusted = kadr_http::review::trusted(&ctx.config.moderation, &owner);
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE videos SET status = 'queued', source_size_bytes = $2, progress = 0, updated_at = now(),
             moderation = CASE WHEN $3 THEN moderation ELSE 'pending' END,
             moderation_reason = CASE WHEN $3 OR moderation = 'pending' THEN moderation_reason
                                      ELSE $4 END
         WHERE id = $1",
        [
            video_id.into(),
            size.into(),
            trusted.into(),
            kadr_http::review::BACK_TO_REVIEW.into(),
        ],
    ))
    .await
    .map_err(err)?;
    tx.execute_raw(Statement::from_sql_and_values(
        DbBackend::Postgres,
        "UPDATE users SET storage_used_bytes = storage_used_bytes + $2, updated_at = now() WHERE id = $1",
        [owner_id.into(), size.into()],
    ))
    .await
    .map_err(err)?;
    let job = NewJob::new(
        kadr_queue::queues::TRANSCODE,
        &json!({ "video_id": video_id }),
    )
    .map_err(|e| ApiError::internal(&e))?
    .dedupe_key(video_id.to_string())
    .fair_key(owner_id.to_string());
    kadr_queue::enqueue(tx, job, ctx.config.queue.max_attempts)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    Ok(())
}

/// `server.public_url` or where the server listens; never the request's `Host`.
fn base_url(req: &HttpRequest) -> String {
    match req.app_data::<web::Data<AppContext>>() {
        Some(ctx) => ctx.base_url(req),
        None => String::new(),
    }
}

/// The public URL of an upload.
pub fn upload_url(req: &HttpRequest, upload_id: Uuid) -> String {
    format!("{}/api/v1/uploads/{upload_id}", base_url(req))
}

pub fn creation_url(req: &HttpRequest) -> String {
    format!("{}/api/v1/uploads", base_url(req))
}

pub fn http_date(t: DateTime<chrono::FixedOffset>) -> String {
    header::HttpDate::from(std::time::SystemTime::from(t)).to_string()
}

/// `POST /api/v1/videos`: a video, and its tus upload when `size` is given.
/// Creates a video; with `size`, its tus upload too (the response carries its URL).
#[utoipa::path(post, path = "/api/v1/videos", tag = "uploads", request_body = NewVideo, operation_id = "create_video",
    responses((status = 201, description = "The video, its moderation state and where to upload"), (status = 400, content_type = "application/problem+json"), (status = 413, description = "Over the size limit or the quota", content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn create(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    body: web::Json<NewVideo>,
) -> Result<HttpResponse, ApiError> {
    let fields = body.validate(None)?;
    if let Some(size) = body.size {
        check_limits(&ctx, &auth.user, size).await?;
    }
    let video_id = Uuid::now_v7();
    let staging = match body.size {
        Some(_) => Some(stage(&ctx, video_id).await?),
        None => None,
    };
    let created = async {
        let tx = ctx.db.begin().await.map_err(|e| ApiError::internal(&e))?;
        if let Some(size) = body.size {
            reserve(&ctx, &tx, auth.user.id, size, true).await?;
        }
        let video = insert_video_with_id(&ctx, &tx, &auth.user, fields, video_id).await?;
        let upload = match (body.size, &staging) {
            (Some(size), Some(s)) => {
                Some(insert_upload(&ctx, &tx, &video, s, size, None, json!({})).await?)
            }
            _ => None,
        };
        tx.commit().await.map_err(|e| ApiError::internal(&e))?;
        Ok::<_, ApiError>((video, upload))
    }
    .await;
    let (video, upload) = match created {
        Ok(done) => done,
        Err(e) => {
            if let Some(s) = staging {
                unstage(&ctx, s).await;
            }
            return Err(e);
        }
    };
    // An empty file is complete as soon as its upload exists.
    if let Some(u) = upload.as_ref().filter(|u| u.length == 0) {
        let empty = futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>();
        crate::tus::write_body(&ctx, u.id, 0, empty, None).await?;
    }
    let upload_json = match &upload {
        Some(u) => json!({
            "url": upload_url(&req, u.id),
            "endpoint": creation_url(&req),
            "expires_at": u.expires_at,
        }),
        None => json!({
            "endpoint": creation_url(&req),
            "metadata": { "video_id": video.id },
        }),
    };
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/videos/{}", video.id)))
        .json(json!({
            "id": video.id,
            "title": video.title,
            "privacy": video.privacy,
            "status": video.status,
            "moderation": video.moderation,
            "upload": upload_json,
        })))
}

/// `DELETE /api/v1/videos/{id}` (owner or admin): the rows go at once; uploads in progress
/// are terminated and every stored byte is removed by a cleanup job enqueued in the same
/// transaction, so a crash cannot leave media behind.
/// Deletes a video (owner or admin); its media are removed in the background.
#[utoipa::path(delete, path = "/api/v1/videos/{id}", tag = "uploads",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
async fn delete(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let id = path.into_inner();
    let err = |e: sea_orm::DbErr| ApiError::internal(&e);
    let tx = ctx.db.begin().await.map_err(err)?;
    let video = video::Entity::find_by_id(id)
        .lock_exclusive()
        .one(&tx)
        .await
        .map_err(err)?
        .filter(|v| v.owner_id == auth.user.id || auth.user.is_admin())
        .ok_or_else(ApiError::not_found)?;
    let active = upload::Entity::find()
        .filter(upload::Column::VideoId.eq(id))
        .filter(upload::Column::State.eq("active"))
        .all(&tx)
        .await
        .map_err(err)?;
    let mut prefixes: Vec<String> = video::media_prefixes(id).into();
    prefixes.extend(active.iter().map(|u| store::upload_prefix(u.id)));
    let cleanup = crate::janitor::Cleanup {
        prefixes,
        multipart: active
            .iter()
            .filter_map(|u| {
                u.multipart_id.as_ref().map(|m| crate::janitor::Multipart {
                    key: u.storage_key.clone(),
                    upload_id: m.clone(),
                })
            })
            .collect(),
    };
    let job =
        NewJob::new(kadr_queue::queues::CLEANUP, &cleanup).map_err(|e| ApiError::internal(&e))?;
    kadr_queue::enqueue(&tx, job, ctx.config.queue.max_attempts)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    if let Some(size) = video.source_size_bytes {
        tx.execute_raw(Statement::from_sql_and_values(
            DbBackend::Postgres,
            "UPDATE users SET storage_used_bytes = greatest(0, storage_used_bytes - $2), updated_at = now()
             WHERE id = $1",
            [video.owner_id.into(), size.into()],
        ))
        .await
        .map_err(err)?;
    }
    video::Entity::delete_by_id(id)
        .exec(&tx)
        .await
        .map_err(err)?;
    tx.commit().await.map_err(err)?;
    tracing::info!(video = %id, by = %auth.user.id, uploads_terminated = active.len(), "video deleted");
    Ok(HttpResponse::NoContent().finish())
}

/// `GET /api/v1/videos/{id}/source`: the original file, for its owner and admins, with Range.
/// Downloads the original upload (owner or admin), with Range.
#[utoipa::path(get, path = "/api/v1/videos/{id}/source", tag = "uploads",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 200, content_type = "application/octet-stream"), (status = 206), (status = 404), (status = 409, description = "Not uploaded yet")),
    security(("bearer" = [])))]
async fn source(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let video = video::Entity::find_by_id(path.into_inner())
        .one(&ctx.db)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .filter(|v| v.owner_id == auth.user.id || auth.user.is_admin())
        .ok_or_else(ApiError::not_found)?;
    if video.source_size_bytes.is_none() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "no_source",
            "The video's file has not been uploaded yet",
        ));
    }
    let filename = upload::Entity::find()
        .filter(upload::Column::VideoId.eq(video.id))
        .filter(upload::Column::State.eq("complete"))
        .one(&ctx.db)
        .await
        .map_err(|e| ApiError::internal(&e))?
        .and_then(|u| u.filename)
        .unwrap_or_else(|| format!("{}.bin", video.id));
    let range = match req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    {
        Some(v) => Some(ByteRange::parse_http(v).ok_or_else(|| {
            ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "invalid_range",
                "Unsupported Range header",
            )
        })?),
        None => None,
    };
    let object = match ctx.storage.get(&video::source_key(video.id), range).await {
        Ok(o) => o,
        Err(StorageError::InvalidRange { size }) => {
            return Ok(HttpResponse::RangeNotSatisfiable()
                .insert_header((header::CONTENT_RANGE, format!("bytes */{size}")))
                .finish());
        }
        Err(StorageError::NotFound { .. }) => {
            return Err(ApiError::not_found().detail("the original is missing"));
        }
        Err(e) => return Err(ApiError::unavailable(format!("storage: {e}"))),
    };
    let mut res = if range.is_some() {
        HttpResponse::PartialContent()
    } else {
        HttpResponse::Ok()
    };
    if range.is_some() {
        res.insert_header((
            header::CONTENT_RANGE,
            format!("bytes {}-{}/{}", object.start, object.end, object.meta.size),
        ));
    }
    let disposition = format!(
        "attachment; filename=\"{}\"; filename*=UTF-8''{}",
        filename.replace(['"', '\\'], "_"),
        percent_encode(&filename)
    );
    res.insert_header((header::ACCEPT_RANGES, "bytes"))
        .insert_header((header::CONTENT_TYPE, "application/octet-stream"))
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .insert_header((header::ETAG, format!("\"{}\"", object.meta.etag)));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        res.insert_header((header::CONTENT_DISPOSITION, v));
    }
    let length = object.content_length();
    let body = object
        .body
        .map(|r| r.map_err(actix_web::error::ErrorInternalServerError));
    Ok(res.no_chunking(length).streaming(body))
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
