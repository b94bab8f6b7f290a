//! Imports from elsewhere: `POST /api/v1/videos/import` (a video whose file a worker fetches
//! from a URL), and the owner's view of their imports (`GET /api/v1/imports`,
//! `GET /api/v1/imports/{id}`).
//!
//! The URL is checked here by what it says (http or https, no credentials, no literal
//! internal address) so the caller hears at once; the worker checks it again after resolving
//! the name and on every redirect, and connects only to the address it checked.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset, NaiveDate};
use kadr_core::Code;
use kadr_core::imports::{self, Created, Filter, Import, NewImport, NewUpload};
use kadr_core::state::{ImportSource, ImportState, VideoStatus};
use kadr_core::uploads;
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::staging;
use crate::urls::upload_url;
use crate::videos::NewVideo;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos/import", web::post().to(create))
        .route("/api/v1/imports", web::get().to(list))
        // Before `/api/v1/imports/{id}`, which would take `batches` for an id.
        .route("/api/v1/imports/batches", web::post().to(create_batch))
        .route("/api/v1/imports/{id}", web::get().to(show))
        .route("/api/v1/imports/{id}/thumbnail", web::put().to(thumbnail));
}

/// A video to import, with what describes it: from a URL the server fetches (`url`), or from
/// a file the client sends itself with tus (`size`, then the answer's `upload_url`).
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UrlImport {
    /// Where the file is: an `http://` or `https://` URL reachable from the server, or an
    /// object in one of the server's named S3 sources, `s3://SOURCE/BUCKET/KEY`.
    #[serde(default)]
    #[schema(
        max_length = 4096,
        example = "https://media.example.org/archive/episode-12.mp4"
    )]
    pub url: Option<String>,
    /// Instead of `url`: the size of the file the client will upload (tus).
    #[serde(default)]
    #[schema(minimum = 0)]
    pub size: Option<i64>,
    /// With `size`: the file's name, kept with the original.
    #[serde(default)]
    #[schema(max_length = 255)]
    pub filename: Option<String>,
    /// Your own id for this item (a manifest row, the other platform's id): importing the
    /// same id again returns the first import instead of making a second video.
    #[serde(default)]
    #[schema(min_length = 1, max_length = 200)]
    pub external_id: Option<String>,
    /// When the video was first published elsewhere (RFC 3339, or a date `YYYY-MM-DD`):
    /// shown as its date and used for its place on the channel; imports are not announced.
    #[serde(default)]
    #[schema(example = "2019-05-01")]
    pub original_date: Option<String>,
    /// The batch this import belongs to (`POST /api/v1/imports/batches`): moderators review
    /// a batch together.
    #[serde(default)]
    pub batch: Option<Uuid>,
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

impl UrlImport {
    /// The video's own fields.
    fn video(&self) -> NewVideo {
        NewVideo {
            title: self.title.clone(),
            description: self.description.clone(),
            tags: self.tags.clone(),
            language: self.language.clone(),
            privacy: self.privacy.clone(),
            channel: self.channel.clone(),
            size: None,
        }
    }
}

/// Why an import failed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportFailure {
    /// A stable code: a `failure.code` of videos (`source_not_allowed`,
    /// `source_unavailable`, `source_too_large`, `fetch_timed_out`, …).
    pub code: String,
    pub message: Option<String>,
}

/// An import and how far it got.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportView {
    pub id: Uuid,
    pub video_id: Uuid,
    pub external_id: Option<String>,
    /// `url`, `s3` or `upload`.
    #[schema(value_type = String, example = "url")]
    pub source: ImportSource,
    /// The URL fetched (absent for uploaded files).
    pub url: Option<String>,
    /// `upload` imports waiting for their bytes: the tus upload to send them to (or resume).
    pub upload_url: Option<String>,
    /// `queued`, `fetching`, `fetched` (the file is stored; the video's `status` tells the
    /// rest) or `failed`.
    #[schema(value_type = String, example = "fetching")]
    pub state: ImportState,
    pub bytes_done: i64,
    /// The file's size once the source said it.
    pub bytes_total: Option<i64>,
    pub failure: Option<ImportFailure>,
    /// The video's status (`awaiting_upload` until its file is stored).
    #[schema(value_type = String, example = "awaiting_upload")]
    pub video_status: VideoStatus,
    pub original_date: Option<DateTime<FixedOffset>>,
    pub created_at: DateTime<FixedOffset>,
    pub updated_at: DateTime<FixedOffset>,
}

impl ImportView {
    fn of(i: Import, req: &HttpRequest) -> ImportView {
        let failure = i
            .failure_code
            .map(|code| ImportFailure {
                code,
                message: i.failure_detail.clone(),
            })
            .or_else(|| {
                // The file arrived but the video failed later (transcoding).
                i.video_failure.map(|code| ImportFailure {
                    code,
                    message: None,
                })
            });
        ImportView {
            id: i.id,
            video_id: i.video_id,
            external_id: i.external_id,
            source: i.source,
            url: i.location,
            upload_url: i.upload_id.map(|u| upload_url(req, u)),
            state: i.state,
            bytes_done: i.bytes_done,
            bytes_total: i.bytes_total,
            failure,
            video_status: i.video_status,
            original_date: i.original_at,
            created_at: i.created_at,
            updated_at: i.updated_at,
        }
    }
}

/// `2019-05-01T10:00:00Z` or `2019-05-01` (midnight UTC).
pub fn parse_original_date(text: &str) -> Result<DateTime<FixedOffset>, ApiError> {
    let text = text.trim();
    let parsed = DateTime::parse_from_rfc3339(text).ok().or_else(|| {
        NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map(|t| t.and_utc().fixed_offset())
    });
    let at = parsed.ok_or_else(|| {
        ApiError::bad_request(
            Code::InvalidField,
            "The original date is not an RFC 3339 time or a YYYY-MM-DD date",
        )
        .field("original_date")
    })?;
    Ok(imports::check_original_at(at)?)
}

fn url_refused(why: &kadr_outbound::Refused) -> ApiError {
    ApiError::bad_request(Code::UrlNotAllowed, "This URL cannot be imported from")
        .detail(why.to_string())
        .field("url")
}

/// Creates a video to import: with `url`, a worker fetches its file and it is transcoded as
/// any upload; with `size`, the answer carries the tus upload to send the file to.
/// Importing an `external_id` again answers 200 with the first import (and, while its file
/// has not fully arrived, the upload to resume).
#[utoipa::path(post, path = "/api/v1/videos/import", tag = "imports", operation_id = "import_video", request_body = UrlImport,
    responses(
        (status = 202, description = "A URL import, queued; follow it at `Location`", body = ImportView),
        (status = 201, description = "An upload import: send the file to `upload_url` (tus)", body = ImportView),
        (status = 200, description = "This `external_id` was imported before: that import", body = ImportView),
        (status = 400, description = "`url_not_allowed`, `invalid_field`, `unknown_channel`", content_type = "application/problem+json"),
        (status = 401, content_type = "application/problem+json"),
        (status = 413, description = "`too_large`, `quota_exceeded` (upload imports)", content_type = "application/problem+json"),
        (status = 429, description = "`too_many_imports`, `too_many_uploads`, `too_many_waiting`", content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn create(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    body: web::Json<UrlImport>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let external_id = body
        .external_id
        .as_deref()
        .map(imports::check_external_id)
        .transpose()?;
    let original_at = body
        .original_date
        .as_deref()
        .map(parse_original_date)
        .transpose()?;
    if let Some(batch) = body.batch
        && !kadr_core::batches::owned(&ctx.db, auth.user.id, batch).await?
    {
        return Err(
            ApiError::bad_request(Code::InvalidField, "No such batch of yours").field("batch"),
        );
    }
    let video_id = Uuid::now_v7();
    let (source, location, stem, upload) = match (&body.url, body.size) {
        (Some(url), None) if url.starts_with("s3://") => {
            let loc = imports::s3_location(&ctx.config, url)?;
            let stem = loc.key.rsplit('/').next().map(str::to_owned);
            (ImportSource::S3, Some(url.clone()), stem, None)
        }
        (Some(url), None) => {
            if url.len() > 4096 {
                return Err(
                    ApiError::bad_request(Code::InvalidField, "The URL is too long").field("url"),
                );
            }
            let policy = kadr_outbound::Policy::from_config(&ctx.config.outbound);
            let url = kadr_outbound::check_url(&policy, url).map_err(|e| url_refused(&e))?;
            // Without a title, the file's name in the URL.
            let stem = url
                .path_segments()
                .and_then(|mut s| s.next_back())
                .filter(|s| !s.is_empty())
                .map(str::to_owned);
            (ImportSource::Url, Some(url.to_string()), stem, None)
        }
        (None, Some(size)) => {
            let filename = body
                .filename
                .as_deref()
                .map(str::trim)
                .filter(|f| !f.is_empty())
                .map(|f| f.chars().take(255).collect::<String>());
            if filename
                .as_deref()
                .is_some_and(|f| f.chars().any(char::is_control))
            {
                return Err(ApiError::bad_request(
                    Code::InvalidField,
                    "A file name has no control characters",
                )
                .field("filename"));
            }
            (
                ImportSource::Upload,
                None,
                filename.clone(),
                Some((size, filename)),
            )
        }
        _ => {
            return Err(ApiError::bad_request(
                Code::InvalidField,
                "Give either `url` (the server fetches the file) or `size` (you upload it)",
            )
            .field("url"));
        }
    };
    let stem = stem.map(|s| {
        s.rsplit_once('.')
            .map_or(s.clone(), |(stem, _)| stem.to_owned())
    });
    let fields = body
        .video()
        .validate(stem.as_deref().or(Some("Imported video")))?;
    // An upload's external id seen before needs no storage prepared (for the others,
    // `imports::create` looks it up first anyway).
    if upload.is_some()
        && let Some(ext) = &external_id
        && let Some(found) = imports::by_external(&ctx.db, auth.user.id, ext).await?
    {
        return Ok(HttpResponse::Ok()
            .insert_header(("Location", format!("/api/v1/imports/{}", found.id)))
            .json(ImportView::of(found, &req)));
    }
    let staged = match upload {
        Some((size, filename)) => {
            uploads::check_limits(&ctx.db, &ctx.config, &auth.user, size).await?;
            let staging = staging::stage(&ctx, video_id).await?;
            Some(NewUpload {
                staging,
                size,
                filename,
            })
        }
        None => None,
    };
    let created = imports::create(
        &ctx.db,
        &ctx.config,
        &auth.user,
        fields,
        NewImport {
            video_id,
            source,
            upload: staged.clone(),
            location,
            external_id,
            batch: body.batch,
            original_at,
        },
    )
    .await;
    let created = match created {
        Ok(c) => c,
        Err(e) => {
            if let Some(up) = staged {
                staging::unstage(&ctx, up.staging).await;
            }
            return Err(e.into());
        }
    };
    Ok(match created {
        Created::New(i) => {
            tracing::info!(import = %i.id, video = %i.video_id, source = %i.source, "import created");
            let mut res = if i.source == ImportSource::Upload {
                HttpResponse::Created()
            } else {
                HttpResponse::Accepted()
            };
            // An empty file is complete as soon as its upload exists.
            if let (Some(up), Some(upload)) = (&staged, i.upload_id)
                && up.size == 0
            {
                let empty = futures::stream::empty::<Result<bytes::Bytes, std::io::Error>>();
                crate::tus::write_body(&ctx, upload, 0, empty, None).await?;
            }
            res.insert_header(("Location", format!("/api/v1/imports/{}", i.id)))
                .json(ImportView::of(i, &req))
        }
        Created::Existing(i) => {
            // Raced by a request for the same external id: this one's storage is not used.
            if let Some(up) = staged {
                staging::unstage(&ctx, up.staging).await;
            }
            HttpResponse::Ok()
                .insert_header(("Location", format!("/api/v1/imports/{}", i.id)))
                .json(ImportView::of(i, &req))
        }
    })
}

/// One of your imports.
#[utoipa::path(get, path = "/api/v1/imports/{id}", tag = "imports", operation_id = "get_import",
    params(("id" = Uuid, Path, description = "The import's id")),
    responses((status = 200, body = ImportView), (status = 401, content_type = "application/problem+json"), (status = 404, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn show(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let found = imports::get(&ctx.db, auth.user.id, id.into_inner())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(ImportView::of(found, &req)))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ImportQuery {
    /// Only the import of this external id.
    #[param(max_length = 200)]
    pub external_id: Option<String>,
    /// Only imports in this state: `queued`, `fetching`, `fetched` or `failed`.
    pub state: Option<String>,
    /// Only the imports of this batch.
    pub batch: Option<Uuid>,
    /// 1 to 100 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<Uuid>,
}

/// A page of imports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportPage {
    pub items: Vec<ImportView>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<Uuid>,
}

/// Your imports, newest first.
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", operation_id = "list_imports", params(ImportQuery),
    responses((status = 200, body = ImportPage), (status = 400, content_type = "application/problem+json"), (status = 401, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn list(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    q: web::Query<ImportQuery>,
) -> Result<HttpResponse, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::bad_request(
            Code::InvalidLimit,
            "limit is from 1 to 100",
        ));
    }
    if let Some(ext) = &q.external_id {
        let ext = imports::check_external_id(ext)?;
        let found = imports::by_external(&ctx.db, auth.user.id, &ext).await?;
        return Ok(HttpResponse::Ok().json(ImportPage {
            items: found.into_iter().map(|i| ImportView::of(i, &req)).collect(),
            next_cursor: None,
        }));
    }
    let state = match q.state.as_deref() {
        None => None,
        Some(s) => Some(ImportState::parse(s).ok_or_else(|| {
            ApiError::bad_request(Code::InvalidField, "Unknown import state").field("state")
        })?),
    };
    let filter = Filter {
        batch: q.batch,
        state,
        before: q.cursor,
    };
    let rows = imports::list(&ctx.db, auth.user.id, &filter, limit + 1).await?;
    let more = rows.len() as u64 > limit;
    let items: Vec<ImportView> = rows
        .into_iter()
        .take(limit as usize)
        .map(|i| ImportView::of(i, &req))
        .collect();
    let next_cursor = if more {
        items.last().map(|i| i.id)
    } else {
        None
    };
    Ok(HttpResponse::Ok().json(ImportPage { items, next_cursor }))
}

/// Where an import's thumbnail is.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ThumbnailAccepted {
    /// `waiting`: kept until the video is ready, then made into its poster; `processing`: the
    /// video is ready and its poster is being made.
    pub status: String,
    pub width: usize,
    pub height: usize,
}

/// Sets an imported video's thumbnail (the body is the image: JPEG, PNG or WebP, at most
/// 10 MiB and 8192 pixels a side, at least 320 × 180), at any time: before the video is ready
/// it waits, then becomes the poster as an owner's uploaded poster does (cropped to the
/// video's shape by the worker). A later thumbnail replaces a waiting one.
#[utoipa::path(put, path = "/api/v1/imports/{id}/thumbnail", tag = "imports", operation_id = "set_import_thumbnail",
    params(("id" = Uuid, Path, description = "The import's id")),
    request_body(content(
        (crate::pictures::PictureBytes = "image/jpeg"),
        (crate::pictures::PictureBytes = "image/png"),
        (crate::pictures::PictureBytes = "image/webp")),
        description = "The image itself"),
    responses(
        (status = 202, body = ThumbnailAccepted),
        (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json"),
        (status = 409, description = "`not_playable`: the video failed", content_type = "application/problem+json"),
        (status = 413, description = "`body_too_large`", content_type = "application/problem+json"),
        (status = 415, description = "`not_an_image`, `unsupported_media_type`", content_type = "application/problem+json"),
        (status = 503, description = "`busy`", content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn thumbnail(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    id: web::Path<Uuid>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    use crate::pictures::{MIN_POSTER, check_picture, not_an_image, picture_type, receive};
    picture_type(&req)?;
    let found = imports::get(&ctx.db, auth.user.id, id.into_inner())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let (data, _slot) = receive(&mut body).await?;
    let (width, height) = check_picture(&data)?;
    if width.max(height) < MIN_POSTER.0 || width.min(height) < MIN_POSTER.1 {
        return Err(not_an_image("at least 320 × 180 pixels"));
    }
    let key = kadr_core::keys::poster_incoming(found.video_id, Uuid::now_v7());
    ctx.storage
        .put_bytes(&key, data, Some("application/octet-stream"))
        .await
        .map_err(|e| ApiError::unavailable(format!("storage: {e}")))?;
    let set =
        imports::set_thumbnail(&ctx.db, &ctx.config, auth.user.id, found.id, key.clone()).await;
    let status = match set {
        Ok(imports::Thumbnail::Making) => "processing",
        Ok(imports::Thumbnail::Waiting { replaced }) => {
            if let Some(old) = replaced {
                let _ = ctx.storage.delete(&old).await;
            }
            "waiting"
        }
        Err(e) => {
            let _ = ctx.storage.delete(&key).await;
            return Err(e.into());
        }
    };
    Ok(HttpResponse::Accepted().json(ThumbnailAccepted {
        status: status.to_owned(),
        width,
        height,
    }))
}

/// A batch to start.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewBatch {
    /// What it is ("Archive 2015–2019"); shown to moderators.
    #[serde(default)]
    #[schema(max_length = 200)]
    pub name: Option<String>,
}

/// A batch of imports.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct BatchView {
    pub id: Uuid,
    pub name: String,
    pub created_at: DateTime<FixedOffset>,
}

/// Starts a batch: the imports that name it are reviewed by moderators together (an
/// untrusted account's catalogue does not flood the queue one video at a time).
#[utoipa::path(post, path = "/api/v1/imports/batches", tag = "imports", operation_id = "create_import_batch", request_body = NewBatch,
    responses((status = 201, body = BatchView), (status = 400, content_type = "application/problem+json"), (status = 401, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn create_batch(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    body: web::Json<NewBatch>,
) -> Result<HttpResponse, ApiError> {
    let b = kadr_core::batches::create(
        &ctx.db,
        auth.user.id,
        body.name.as_deref().unwrap_or_default(),
    )
    .await?;
    Ok(HttpResponse::Created().json(BatchView {
        id: b.id,
        name: b.name,
        created_at: b.created_at,
    }))
}
