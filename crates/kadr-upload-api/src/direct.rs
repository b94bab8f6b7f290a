//! Direct uploads on the S3 backend: the client asks for an upload of a declared size, sends
//! its parts straight to the bucket with presigned URLs (no byte passes through Kadr), and
//! completes it here. Completion checks the stored parts against the plan made at creation
//! (every part there, each of its size) before the object is assembled and the transcode
//! queued; the quota and the size limit are enforced at creation, on the declared size.
//!
//! Resuming: `GET /api/v1/direct-uploads/{id}` lists the parts storage holds, so a client that
//! restarted sends only the others. Part URLs are asked for in batches and expire after
//! `upload.direct_url_ttl_secs`; asking again gives fresh ones.

use std::time::Duration;

use actix_web::{HttpResponse, web};
use chrono::{DateTime, Utc};
use kadr_core::Code;
use kadr_core::direct::{self, MAX_URLS_PER_REQUEST, PartPlan};
use kadr_core::entities::upload;
use kadr_core::state::{UploadBackend, UploadState, VideoStatus};
use kadr_core::uploads::{self, Staging};
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use kadr_storage::{S3Storage, Storage};
use sea_orm::{EntityTrait, TransactionTrait};
use serde::{Deserialize, Serialize};
use serde_json::json;
use uuid::Uuid;

use crate::videos::NewVideo;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/direct-uploads", web::post().to(create))
        .route("/api/v1/direct-uploads/{id}", web::get().to(show))
        .route("/api/v1/direct-uploads/{id}", web::delete().to(abort))
        .route("/api/v1/direct-uploads/{id}/urls", web::post().to(urls))
        .route(
            "/api/v1/direct-uploads/{id}/complete",
            web::post().to(complete),
        );
}

/// How long one completion may hold the upload (assembling 10,000 parts takes a while).
const COMPLETE_LEASE_SECS: i64 = 300;

/// Whether this server offers direct uploads: on S3 with `upload.direct`.
pub fn offered(ctx: &AppContext) -> bool {
    ctx.config.upload.direct && matches!(&*ctx.storage, Storage::S3(_))
}

fn s3(ctx: &AppContext) -> Result<&S3Storage, ApiError> {
    match &*ctx.storage {
        Storage::S3(s3) if ctx.config.upload.direct => Ok(s3),
        _ => Err(ApiError::new(
            Code::DirectUploadOff,
            "This server takes uploads through tus only",
        )
        .detail("direct uploads need the S3 backend and upload.direct")),
    }
}

fn storage_error(e: kadr_storage::StorageError) -> ApiError {
    ApiError::unavailable(format!("storage: {e}"))
}

/// A new direct upload: the file's size, its name, and the video's fields.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DirectNew {
    /// The file's size in bytes (at least 1); the quota and the size limit apply to it.
    #[schema(minimum = 1)]
    pub size: i64,
    /// The file's name (kept for the download of the original).
    #[serde(default)]
    #[schema(max_length = 255)]
    pub filename: Option<String>,
    #[serde(default)]
    #[schema(schema_with = kadr_http::schema::title_given)]
    pub title: Option<String>,
    #[serde(default)]
    #[schema(schema_with = kadr_http::schema::description_given)]
    pub description: Option<String>,
    #[serde(default)]
    #[schema(schema_with = kadr_http::schema::tags_given)]
    pub tags: Option<Vec<String>>,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    #[schema(schema_with = kadr_http::schema::privacy_given)]
    pub privacy: Option<String>,
    /// The channel (handle or id, one of yours); default: your first channel.
    #[serde(default)]
    #[schema(max_length = 64)]
    pub channel: Option<String>,
}

/// A presigned URL to PUT one part to.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PartUrl {
    pub part: i32,
    pub url: String,
}

/// A part storage holds.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct StoredPart {
    pub part: i32,
    pub size: u64,
}

/// A direct upload and what is left to do.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DirectUpload {
    pub id: Uuid,
    pub video_id: Uuid,
    pub size: i64,
    /// Every part but the last has this many bytes.
    pub part_size: i64,
    pub part_count: i32,
    /// `active`, `complete`, `aborted` or `expired`.
    pub state: String,
    /// Unfinished uploads are removed after this.
    pub expires_at: DateTime<Utc>,
    /// The parts storage holds (active uploads only).
    pub parts: Vec<StoredPart>,
    /// URLs for the first parts (at creation only; ask `/urls` for more).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<PartUrl>,
    /// Until when the URLs given are valid.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub urls_expire_at: Option<DateTime<Utc>>,
}

/// Which parts to presign.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UrlRequest {
    /// Part numbers (1 to the part count), at most 100.
    #[schema(max_items = 100)]
    pub parts: Vec<i32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct UrlList {
    pub urls: Vec<PartUrl>,
    pub expires_at: DateTime<Utc>,
}

/// The video a completed direct upload queued.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Completed {
    pub video_id: Uuid,
    pub size: i64,
    /// `queued` (the transcode is waiting for a worker) or later.
    pub status: String,
    pub moderation: String,
}

fn plan_of(up: &upload::Model) -> Result<PartPlan, ApiError> {
    Ok(PartPlan::new(up.length, up.part_size)?)
}

async fn presign(
    ctx: &AppContext,
    s3: &S3Storage,
    up: &upload::Model,
    parts: impl Iterator<Item = i32>,
) -> Result<(Vec<PartUrl>, DateTime<Utc>), ApiError> {
    // Each URL is signed with its part's planned size: storage refuses any other length.
    let plan = plan_of(up)?;
    let ttl = Duration::from_secs(ctx.config.upload.direct_url_ttl_secs);
    let expires = Utc::now() + chrono::Duration::seconds(ttl.as_secs() as i64);
    let multipart = up
        .multipart_id
        .as_deref()
        .ok_or_else(|| ApiError::internal(&"a direct upload without its multipart upload"))?;
    let mut urls = Vec::new();
    for part in parts {
        let url = s3
            .presign_upload_part(
                &up.storage_key,
                multipart,
                part,
                plan.size_of(part) as u64,
                ttl,
            )
            .await
            .map_err(storage_error)?;
        urls.push(PartUrl { part, url });
    }
    Ok((urls, expires))
}

/// Starts a direct upload: the video is created, the quota reserved for `size`, an S3
/// multipart upload started; the answer has the part plan and URLs for the first parts.
#[utoipa::path(post, path = "/api/v1/direct-uploads", tag = "uploads", request_body = DirectNew,
    responses((status = 201, body = DirectUpload), (status = 400, content_type = "application/problem+json"),
        (status = 409, description = "`direct_upload_off`: use tus", content_type = "application/problem+json"),
        (status = 413, description = "Over the size limit or the quota", content_type = "application/problem+json"),
        (status = 429, description = "Too many uploads in progress", content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn create(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    body: web::Json<DirectNew>,
) -> Result<HttpResponse, ApiError> {
    let s3 = s3(&ctx)?;
    let body = body.into_inner();
    if body
        .filename
        .as_ref()
        .is_some_and(|f| f.chars().count() > 255)
    {
        return Err(
            ApiError::bad_request(Code::InvalidField, "The file name is too long")
                .field("filename"),
        );
    }
    let stem = body
        .filename
        .as_deref()
        .map(|f| f.rsplit_once('.').map_or(f, |(s, _)| s).to_owned());
    let fields = NewVideo {
        title: body.title,
        description: body.description,
        tags: body.tags,
        language: body.language,
        privacy: body.privacy,
        channel: body.channel,
        size: None,
    }
    .validate(stem.as_deref().or(Some("Untitled")))?;
    let size = body.size;
    let plan = PartPlan::new(
        size,
        (ctx.config.storage.s3.part_size_mib * 1024 * 1024) as i64,
    )?;
    uploads::check_limits(&ctx.db, &ctx.config, &auth.user, size).await?;

    let video_id = Uuid::now_v7();
    let key = kadr_core::keys::source(video_id);
    let multipart = s3
        .create_multipart(&key, Some("application/octet-stream"))
        .await
        .map_err(storage_error)?;
    let staging = Staging {
        video_id,
        backend: UploadBackend::S3,
        part_size: plan.part_size,
        multipart_id: Some(multipart.clone()),
        direct: true,
    };
    let created = async {
        let tx = ctx.db.begin().await?;
        uploads::reserve(&tx, &ctx.config, auth.user.id, size, true).await?;
        let video = uploads::insert_video(&tx, &ctx.config, &auth.user, fields, video_id).await?;
        let up = uploads::insert_upload(
            &tx,
            &ctx.config,
            &video,
            &staging,
            size,
            body.filename.clone(),
            json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok::<_, ApiError>(up)
    }
    .await;
    let up = match created {
        Ok(up) => up,
        Err(e) => {
            if let Err(abort) = s3.abort_multipart(&key, &multipart).await {
                tracing::warn!(key, error = %abort, "could not abort a refused direct upload");
            }
            return Err(e);
        }
    };
    let first = (1..=plan.count).take(MAX_URLS_PER_REQUEST);
    let (urls, urls_expire) = presign(&ctx, s3, &up, first).await?;
    tracing::info!(upload = %up.id, video = %video_id, bytes = size, parts = plan.count, "direct upload started");
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/direct-uploads/{}", up.id)))
        .json(DirectUpload {
            id: up.id,
            video_id,
            size,
            part_size: plan.part_size,
            part_count: plan.count,
            state: up.state.as_str().to_owned(),
            expires_at: up.expires_at.with_timezone(&Utc),
            parts: Vec::new(),
            urls,
            urls_expire_at: Some(urls_expire),
        }))
}

/// A direct upload with the parts storage holds, to resume it.
#[utoipa::path(get, path = "/api/v1/direct-uploads/{id}", tag = "uploads",
    params(("id" = Uuid, Path, description = "Upload id")),
    responses((status = 200, body = DirectUpload), (status = 404), (status = 410, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn show(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let up = crate::staging::owned_upload(&ctx, auth.user.id, path.into_inner(), true).await?;
    let plan = plan_of(&up)?;
    let mut parts = Vec::new();
    if up.state == UploadState::Active
        && let (Storage::S3(s3), Some(multipart)) = (&*ctx.storage, up.multipart_id.as_deref())
    {
        match s3.list_parts(&up.storage_key, multipart).await {
            Ok(listed) => {
                let sizes: Vec<(i32, u64)> =
                    listed.iter().map(|p| (p.part_number, p.size)).collect();
                parts = plan
                    .pick(&sizes)
                    .into_iter()
                    .map(|i| StoredPart {
                        part: sizes[i].0,
                        size: sizes[i].1,
                    })
                    .collect();
            }
            // Completed in storage by a completion that has not recorded it yet.
            Err(e) if e.is_not_found() => {}
            Err(e) => return Err(storage_error(e)),
        }
    }
    Ok(HttpResponse::Ok().json(DirectUpload {
        id: up.id,
        video_id: up.video_id,
        size: up.length,
        part_size: plan.part_size,
        part_count: plan.count,
        state: up.state.as_str().to_owned(),
        expires_at: up.expires_at.with_timezone(&Utc),
        parts,
        urls: Vec::new(),
        urls_expire_at: None,
    }))
}

/// Presigned URLs for parts of an active direct upload (at most 100 per request).
#[utoipa::path(post, path = "/api/v1/direct-uploads/{id}/urls", tag = "uploads", request_body = UrlRequest,
    params(("id" = Uuid, Path, description = "Upload id")),
    responses((status = 200, body = UrlList), (status = 400, content_type = "application/problem+json"), (status = 404),
        (status = 409, content_type = "application/problem+json"), (status = 410, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn urls(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
    body: web::Json<UrlRequest>,
) -> Result<HttpResponse, ApiError> {
    let s3 = s3(&ctx)?;
    let up = crate::staging::owned_upload(&ctx, auth.user.id, path.into_inner(), true).await?;
    if up.state != UploadState::Active {
        return Err(ApiError::new(
            Code::UploadComplete,
            "The upload already has all its bytes",
        ));
    }
    let plan = plan_of(&up)?;
    let mut wanted = body.into_inner().parts;
    wanted.sort_unstable();
    wanted.dedup();
    if wanted.is_empty() || wanted.len() > MAX_URLS_PER_REQUEST {
        return Err(
            ApiError::bad_request(Code::InvalidField, "Ask for 1 to 100 parts at a time")
                .field("parts"),
        );
    }
    if let Some(bad) = wanted.iter().find(|n| !plan.has(**n)) {
        return Err(ApiError::bad_request(Code::InvalidField, "No such part")
            .detail(format!(
                "part {bad}; the upload has parts 1 to {}",
                plan.count
            ))
            .field("parts"));
    }
    let (urls, expires_at) = presign(&ctx, s3, &up, wanted.into_iter()).await?;
    Ok(HttpResponse::Ok().json(UrlList { urls, expires_at }))
}

/// Completes a direct upload once every part is stored with its planned size: the object is
/// assembled in storage and the transcode queued. Completing a completed upload answers the
/// same again.
#[utoipa::path(post, path = "/api/v1/direct-uploads/{id}/complete", tag = "uploads",
    params(("id" = Uuid, Path, description = "Upload id")),
    responses((status = 200, body = Completed), (status = 404),
        (status = 409, description = "`upload_incomplete` or `part_mismatch`: the detail names the parts", content_type = "application/problem+json"),
        (status = 410, content_type = "application/problem+json"),
        (status = 423, description = "Another request is completing it", content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn complete(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let s3 = s3(&ctx)?;
    let up = crate::staging::owned_upload(&ctx, auth.user.id, path.into_inner(), true).await?;
    if up.state == UploadState::Complete {
        return completed(&ctx, &up).await;
    }
    let plan = plan_of(&up)?;
    let multipart = up
        .multipart_id
        .clone()
        .ok_or_else(|| ApiError::internal(&"a direct upload without its multipart upload"))?;
    let Some(token) = direct::claim(&ctx.db, up.id, up.owner_id, COMPLETE_LEASE_SECS).await? else {
        return Err(ApiError::new(
            Code::UploadBusy,
            "Another request is completing this upload",
        ));
    };
    let assembled = async {
        match s3.list_parts(&up.storage_key, &multipart).await {
            Ok(parts) => {
                let sizes: Vec<(i32, u64)> =
                    parts.iter().map(|p| (p.part_number, p.size)).collect();
                let picked = plan.pick(&sizes);
                let stored: Vec<(i32, u64)> = picked.iter().map(|i| sizes[*i]).collect();
                plan.check(&stored)?;
                let uploaded: Vec<kadr_storage::UploadedPart> = picked
                    .iter()
                    .map(|i| kadr_storage::UploadedPart {
                        part_number: parts[*i].part_number,
                        etag: parts[*i].etag.clone(),
                    })
                    .collect();
                let meta = s3
                    .complete_multipart(&up.storage_key, &multipart, &uploaded)
                    .await
                    .map_err(storage_error)?;
                Ok::<_, ApiError>(meta.size)
            }
            // Assembled by an earlier completion that ended before recording it.
            Err(e) if e.is_not_found() => match ctx.storage.head(&up.storage_key).await {
                Ok(meta) => Ok(meta.size),
                Err(e) if e.is_not_found() => Err(ApiError::new(
                    Code::UploadExpired,
                    "The upload's parts are gone",
                )),
                Err(e) => Err(storage_error(e)),
            },
            Err(e) => Err(storage_error(e)),
        }
    }
    .await;
    let size = match assembled {
        Ok(size) => size,
        Err(e) => {
            direct::release(&ctx.db, up.id, token).await?;
            return Err(e);
        }
    };
    if size != up.length as u64 {
        // Parts of the planned sizes always add up to the length; a store saying otherwise
        // gets no transcode of what it holds.
        return Err(ApiError::internal(&format!(
            "storage assembled {size} bytes of {}",
            up.length
        )));
    }
    let tx = ctx.db.begin().await?;
    if !uploads::mark_complete(&tx, up.id, token).await? {
        // Deleted meanwhile: the deletion's cleanup may have run before the object existed.
        drop(tx);
        if let Err(e) = ctx.storage.delete(&up.storage_key).await {
            tracing::warn!(upload = %up.id, error = %e, "could not remove a deleted video's upload");
        }
        return Err(ApiError::not_found().detail("the video was deleted"));
    }
    uploads::finish_video(&tx, &ctx.config, up.video_id, up.owner_id, up.length).await?;
    tx.commit().await?;
    tracing::info!(upload = %up.id, video = %up.video_id, bytes = up.length, "direct upload complete; transcode queued");
    let up = upload::Entity::find_by_id(up.id)
        .one(&ctx.db)
        .await?
        .ok_or_else(ApiError::not_found)?;
    completed(&ctx, &up).await
}

/// Abandons an unfinished direct upload: its parts are removed from storage and its size no
/// longer counts against the quota; the video stays, waiting for a file.
#[utoipa::path(delete, path = "/api/v1/direct-uploads/{id}", tag = "uploads",
    params(("id" = Uuid, Path, description = "Upload id")),
    responses((status = 204), (status = 404),
        (status = 409, description = "`upload_complete`: delete the video instead", content_type = "application/problem+json"),
        (status = 410, content_type = "application/problem+json"),
        (status = 423, description = "Being completed", content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn abort(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let up = crate::staging::owned_upload(&ctx, auth.user.id, path.into_inner(), true).await?;
    if up.state == UploadState::Complete {
        return Err(ApiError::new(
            Code::UploadComplete,
            "The upload is complete; delete the video instead",
        ));
    }
    let Some(token) = direct::claim(&ctx.db, up.id, up.owner_id, COMPLETE_LEASE_SECS).await? else {
        return Err(ApiError::new(
            Code::UploadBusy,
            "Another request is completing this upload",
        ));
    };
    let ended =
        kadr_core::maintenance::end_upload(&ctx.db, &ctx.storage, &up, UploadState::Aborted)
            .await
            .map_err(|e| match e {
                kadr_core::maintenance::EndError::Domain(e) => ApiError::from(e),
                kadr_core::maintenance::EndError::Storage(e) => storage_error(e),
            });
    if ended.is_err() {
        direct::release(&ctx.db, up.id, token).await?;
    }
    ended?;
    tracing::info!(upload = %up.id, video = %up.video_id, "direct upload abandoned");
    Ok(HttpResponse::NoContent().finish())
}

async fn completed(ctx: &AppContext, up: &upload::Model) -> Result<HttpResponse, ApiError> {
    let video = kadr_core::entities::video::Entity::find_by_id(up.video_id)
        .one(&ctx.db)
        .await?
        .ok_or_else(|| ApiError::not_found().detail("the video was deleted"))?;
    let status = if video.status == VideoStatus::AwaitingUpload {
        VideoStatus::Queued
    } else {
        video.status
    };
    Ok(HttpResponse::Ok().json(Completed {
        video_id: video.id,
        size: up.length,
        status: status.as_str().to_owned(),
        moderation: video.moderation.as_str().to_owned(),
    }))
}
