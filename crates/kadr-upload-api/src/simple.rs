//! `POST /api/v1/videos/upload`: one multipart/form-data request with the file and its
//! metadata, for small files and scripts. Streamed to storage with the same limits as tus;
//! the rows are written only once the file is stored, so a failed request leaves nothing.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, web};
use bytes::Bytes;
use chrono::Utc;
use futures::{SinkExt, StreamExt};
use kadr_core::Code;
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use sea_orm::TransactionTrait;
use serde_json::json;
use uuid::Uuid;

use kadr_core::state::VideoStatus;
use kadr_core::uploads;

use crate::store::LOCAL_CHECKPOINT;
use crate::videos::NewVideo;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos/upload", web::post().to(upload));
}

/// Room for the multipart framing and the text fields around the file.
const FORM_OVERHEAD: u64 = 1024 * 1024;
/// At most this many parts in a form (the file and the five text fields, with room to spare).
const MAX_FIELDS: usize = 16;
/// The text fields together hold at most this much.
const MAX_TEXT_BYTES: usize = 128 * 1024;

fn too_large(limit: u64) -> ApiError {
    ApiError::new(Code::TooLarge, "The file is larger than allowed")
        .detail(format!("the limit is {limit} bytes"))
}

/// One multipart/form-data request (`file`, and optionally `title`, `description`, `privacy`,
/// `language`, `tags`) for small files; larger ones go through tus.
#[utoipa::path(post, path = "/api/v1/videos/upload", tag = "uploads",
    request_body(content_type = "multipart/form-data", description = "`file` plus optional metadata fields: `title`, `description`, `tags` (comma-separated), `language`, `privacy`, `channel` (a handle or id of one of yours)"),
    responses((status = 201, description = "The video, queued for transcoding"), (status = 400, content_type = "application/problem+json"), (status = 413, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn upload(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let pace = kadr_http::body::Pace::of(&ctx.config.server);
    let mut form = Multipart::new(req.headers(), kadr_http::body::paced(payload, pace));
    // What the request says it carries is checked before a byte is stored.
    let declared = req
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let limit = ctx.config.upload.max_size_bytes;
    if let Some(len) = declared {
        if len > limit + FORM_OVERHEAD {
            return Err(too_large(limit));
        }
        uploads::check_limits(
            &ctx.db,
            &ctx.config,
            &auth.user,
            len.saturating_sub(FORM_OVERHEAD) as i64,
        )
        .await?;
    }

    let video_id = Uuid::now_v7();
    let key = kadr_core::keys::source(video_id);
    let mut meta = NewVideo::default();
    let mut filename: Option<String> = None;
    let mut stored: Option<u64> = None;
    // Without a declared length the quota is held while the body streams.
    let room = if declared.is_some() {
        limit
    } else {
        limit.min(uploads::quota_room(&ctx.db, &ctx.config, &auth.user).await?)
    };
    let mut fields = 0usize;
    let mut text_bytes = 0usize;
    let result: Result<(), ApiError> = async {
        while let Some(field) = form.next().await {
            fields += 1;
            if fields > MAX_FIELDS {
                return Err(
                    ApiError::new(Code::TooManyFields, "The form has too many fields")
                        .detail(format!("at most {MAX_FIELDS}")),
                );
            }
            let mut field = field.map_err(|e| bad_form(&e.to_string()))?;
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                if stored.is_some() {
                    return Err(bad_form("only one file per request").field("file"));
                }
                filename = field
                    .content_disposition()
                    .and_then(|d| d.get_filename())
                    .map(str::to_owned);
                let over = || {
                    if room < limit {
                        ApiError::from(uploads::quota_exceeded(0))
                    } else {
                        too_large(limit)
                    }
                };
                stored = Some(store_file(&ctx, &key, &mut field, room, &over).await?);
                continue;
            }
            let value = read_text(&mut field, &name, MAX_TEXT_BYTES - text_bytes).await?;
            text_bytes += value.len();
            match name.as_str() {
                "title" => meta.title = Some(value),
                "description" => meta.description = Some(value),
                "privacy" => meta.privacy = Some(value),
                "language" => meta.language = Some(value),
                "channel" => meta.channel = Some(value),
                "tags" => meta
                    .tags
                    .get_or_insert_with(Vec::new)
                    .extend(value.split(',').map(str::to_owned)),
                other => return Err(bad_form("unknown form field").field(other.to_owned())),
            }
        }
        Ok(())
    }
    .await;
    let outcome = async {
        result?;
        let size = stored.ok_or_else(|| bad_form("the form has no `file` field").field("file"))?;
        let stem = filename
            .as_deref()
            .map(|f| f.rsplit_once('.').map_or(f, |(s, _)| s));
        let fields = meta.validate(stem.or(Some("Untitled")))?;
        // The size is known now: the quota counts it like a tus upload's length.
        uploads::check_limits(&ctx.db, &ctx.config, &auth.user, size as i64).await?;
        let tx = ctx.db.begin().await?;
        uploads::reserve(&tx, &ctx.config, auth.user.id, size as i64, false).await?;
        let v = uploads::insert_video(&tx, &ctx.config, &auth.user, fields, video_id).await?;
        let backend = crate::staging::backend(&ctx.storage);
        uploads::insert_upload_record(
            &tx,
            &v,
            backend,
            LOCAL_CHECKPOINT,
            size as i64,
            filename.clone(),
        )
        .await?;
        uploads::finish_video(&tx, &ctx.config, v.id, v.owner_id, size as i64).await?;
        tx.commit().await?;
        Ok((v, size))
    }
    .await;
    match outcome {
        Ok((v, size)) => {
            tracing::info!(video = %v.id, bytes = size, "simple upload complete; transcode queued");
            Ok(HttpResponse::Created()
                .insert_header(("Location", format!("/api/v1/videos/{}", v.id)))
                .json(json!({
                    "id": v.id,
                    "title": v.title,
                    "privacy": v.privacy,
                    "status": VideoStatus::Queued,
                    "moderation": v.moderation,
                    "size": size,
                    "created_at": Utc::now(),
                })))
        }
        Err(e) => {
            if stored.is_some()
                && let Err(del) = ctx.storage.delete(&key).await
            {
                tracing::warn!(key, error = %del, "could not remove the file of a refused upload");
            }
            Err(e)
        }
    }
}

fn bad_form(detail: &str) -> ApiError {
    ApiError::bad_request(Code::InvalidForm, "Malformed upload form").detail(detail.to_owned())
}

/// A text field of at most 64 KiB and at most `room` bytes.
async fn read_text(
    field: &mut actix_multipart::Field,
    name: &str,
    room: usize,
) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    let max = room.min(64 * 1024);
    while let Some(chunk) = field.next().await {
        let chunk = chunk.map_err(|e| bad_form(&e.to_string()))?;
        if buf.len() + chunk.len() > max {
            return Err(
                ApiError::new(Code::FieldsTooLarge, "The form's text fields are too long")
                    .detail("64 KiB per field, 128 KiB in all")
                    .field(name.to_owned()),
            );
        }
        buf.extend_from_slice(&chunk);
    }
    String::from_utf8(buf).map_err(|_| bad_form("a text field is not UTF-8").field(name.to_owned()))
}

/// Streams the file part into storage at `key`; returns its size.
async fn store_file(
    ctx: &AppContext,
    key: &str,
    field: &mut actix_multipart::Field,
    limit: u64,
    over: &dyn Fn() -> ApiError,
) -> Result<u64, ApiError> {
    // The multipart stream is tied to this request's thread; storage wants a Send stream, so a
    // small channel carries the chunks across, and both sides run together in this task.
    let (mut tx, rx) = futures::channel::mpsc::channel::<std::io::Result<Bytes>>(4);
    let forward = async {
        let mut total = 0u64;
        while let Some(chunk) = field.next().await {
            let chunk = match chunk {
                Ok(c) => c,
                Err(e) => {
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return Err(bad_form(&e.to_string()));
                }
            };
            total += chunk.len() as u64;
            if total > limit {
                let _ = tx
                    .send(Err(std::io::Error::other("upload too large")))
                    .await;
                return Err(over());
            }
            if tx.send(Ok(chunk)).await.is_err() {
                break;
            }
        }
        drop(tx);
        Ok(total)
    };
    let put = ctx
        .storage
        .put_stream(key, rx.boxed(), Some("application/octet-stream"));
    let (forwarded, put) = futures::join!(forward, put);
    let total = forwarded?;
    let meta = put.map_err(|e| ApiError::unavailable(format!("storage: {e}")))?;
    if meta.size != total {
        return Err(ApiError::internal(&format!(
            "stored {} bytes of {total}",
            meta.size
        )));
    }
    Ok(total)
}
