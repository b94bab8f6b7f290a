//! `POST /api/v1/videos` (a video, with its tus upload when its size is given),
//! `DELETE /api/v1/videos/{id}`, and the download of the original.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use kadr_core::Code;
use kadr_core::entities::upload;
use kadr_core::state::UploadState;
use kadr_core::uploads;
use kadr_core::videos::{GivenFields, VideoFields};
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use kadr_storage::{ByteRange, StorageError};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use crate::staging;
use crate::urls::{creation_url, upload_url};

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
    /// Size of the file to come: with it, the tus upload is created now and its URL returned.
    #[serde(default)]
    pub size: Option<i64>,
}

impl NewVideo {
    /// The checked fields; `fallback_title` is used when no title was given.
    pub fn validate(&self, fallback_title: Option<&str>) -> Result<VideoFields, ApiError> {
        Ok(GivenFields {
            title: self.title.as_deref(),
            description: self.description.as_deref(),
            tags: self.tags.as_deref(),
            language: self.language.as_deref(),
            privacy: self.privacy.as_deref(),
            channel: self.channel.as_deref(),
        }
        .check(fallback_title)?)
    }
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
        uploads::check_limits(&ctx.db, &ctx.config, &auth.user, size).await?;
    }
    let video_id = Uuid::now_v7();
    let staging = match body.size {
        Some(_) => Some(staging::stage(&ctx, video_id).await?),
        None => None,
    };
    let created = async {
        let tx = ctx.db.begin().await?;
        if let Some(size) = body.size {
            uploads::reserve(&tx, &ctx.config, auth.user.id, size, true).await?;
        }
        let video = uploads::insert_video(&tx, &ctx.config, &auth.user, fields, video_id).await?;
        let upload = match (body.size, &staging) {
            (Some(size), Some(s)) => Some(
                uploads::insert_upload(&tx, &ctx.config, &video, s, size, None, json!({})).await?,
            ),
            _ => None,
        };
        tx.commit().await?;
        Ok::<_, ApiError>((video, upload))
    }
    .await;
    let (video, upload) = match created {
        Ok(done) => done,
        Err(e) => {
            if let Some(s) = staging {
                staging::unstage(&ctx, s).await;
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
    let tx = ctx.db.begin().await?;
    let deleted = kadr_core::videos::delete(&tx, &ctx.config, &auth.user, id).await?;
    tx.commit().await?;
    tracing::info!(video = %id, by = %auth.user.id, uploads_terminated = deleted.uploads_terminated, "video deleted");
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
    let video = kadr_core::videos::owned(&ctx.db, &auth.user, path.into_inner()).await?;
    if video.source_size_bytes.is_none() {
        return Err(ApiError::new(
            Code::NoSource,
            "The video's file has not been uploaded yet",
        ));
    }
    let filename = upload::Entity::find()
        .filter(upload::Column::VideoId.eq(video.id))
        .filter(upload::Column::State.eq(UploadState::Complete))
        .one(&ctx.db)
        .await?
        .and_then(|u| u.filename)
        .unwrap_or_else(|| format!("{}.bin", video.id));
    let range = match req
        .headers()
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
    {
        Some(v) => Some(
            ByteRange::parse_http(v)
                .ok_or_else(|| ApiError::new(Code::InvalidRange, "Unsupported Range header"))?,
        ),
        None => None,
    };
    let object = match ctx
        .storage
        .get(&kadr_core::keys::source(video.id), range)
        .await
    {
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
