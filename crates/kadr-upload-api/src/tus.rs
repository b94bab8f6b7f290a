//! tus 1.0.0 at `/api/v1/uploads`: core, creation, creation-with-upload, termination,
//! checksum (sha1, sha256) and expiration.

use actix_web::http::header::HeaderMap;
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use kadr_core::Code;
use kadr_core::DomainError;
use kadr_core::entities::{upload, video};
use kadr_core::state::UploadState;
use kadr_core::uploads;
use kadr_core::videos::GivenFields;
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use sea_orm::{EntityTrait, TransactionTrait};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::staging;
use crate::store::{self, CHECKSUM_ALGORITHMS, Checksum, UploadLock, Written};
use crate::urls::{http_date, upload_url};

pub const TUS_VERSION: &str = "1.0.0";
const EXTENSIONS: &str = "creation,creation-with-upload,termination,checksum,expiration";
const OFFSET_OCTET_STREAM: &str = "application/offset+octet-stream";

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::scope("/api/v1/uploads")
            .wrap(DefaultHeaders::new().add(("Tus-Resumable", TUS_VERSION)))
            .route(
                "",
                web::method(actix_web::http::Method::OPTIONS).to(options),
            )
            .route("", web::post().to(create))
            .route(
                "/{id}",
                web::method(actix_web::http::Method::OPTIONS).to(options),
            )
            .route("/{id}", web::head().to(head))
            .route("/{id}", web::patch().to(patch))
            .route("/{id}", web::delete().to(terminate)),
    );
}

/// tus 1.0.0 discovery: version, extensions, maximum size, checksum algorithms.
#[utoipa::path(options, path = "/api/v1/uploads", tag = "tus", responses((status = 204, description = "`Tus-Version`, `Tus-Extension`, `Tus-Max-Size`, `Tus-Checksum-Algorithm` headers")))]
async fn options(ctx: web::Data<AppContext>) -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Tus-Version", TUS_VERSION))
        .insert_header(("Tus-Extension", EXTENSIONS))
        .insert_header(("Tus-Max-Size", ctx.config.upload.max_size_bytes.to_string()))
        .insert_header(("Tus-Checksum-Algorithm", CHECKSUM_ALGORITHMS))
        .finish()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// 412 unless the client speaks our version.
fn check_version(req: &HttpRequest) -> Result<(), ApiError> {
    match header(req.headers(), "tus-resumable") {
        Some(TUS_VERSION) => Ok(()),
        other => Err(
            ApiError::new(Code::UnsupportedTusVersion, "Tus-Resumable must be 1.0.0")
                .detail(format!("got {other:?}")),
        ),
    }
}

/// `Upload-Metadata`: comma-separated `key base64value` pairs (value may be absent).
pub fn parse_metadata(raw: &str) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    for pair in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = match pair.split_once(' ') {
            Some((k, v)) => (k, Some(v.trim())),
            None => (pair, None),
        };
        let bad = || {
            ApiError::bad_request(Code::InvalidMetadata, "Upload-Metadata is malformed")
                .field(key.to_owned())
        };
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_graphic()) || out.contains_key(key) {
            return Err(bad());
        }
        let value = match value {
            Some(v) => {
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(v)
                    .map_err(|_| bad())?;
                let text = String::from_utf8(bytes).map_err(|_| bad())?;
                // Values are text (titles, file names): no control characters, which Postgres
                // could not store anyway, except in a description.
                let multiline = key == "description";
                if text
                    .chars()
                    .any(|c| c.is_control() && !(multiline && matches!(c, '\n' | '\r' | '\t')))
                {
                    return Err(bad());
                }
                text
            }
            None => String::new(),
        };
        out.insert(key.to_owned(), Value::String(value));
    }
    Ok(out)
}

fn meta_str<'a>(meta: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    meta.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// The file name without its extension, as a title of last resort.
fn title_from_filename(name: &str) -> &str {
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem,
        _ => name,
    }
}

fn is_octet_stream(req: &HttpRequest) -> bool {
    header(req.headers(), "content-type")
        .map(|ct| {
            ct.split(';')
                .next()
                .unwrap_or("")
                .trim()
                .eq_ignore_ascii_case(OFFSET_OCTET_STREAM)
        })
        .unwrap_or(false)
}

/// A header holding a number of bytes (`Upload-Length`, `Upload-Offset`); 400 naming it
/// otherwise.
fn byte_count(req: &HttpRequest, name: &str, code: Code) -> Result<i64, ApiError> {
    header(req.headers(), name)
        .and_then(|v| v.trim().parse().ok())
        .filter(|n: &i64| *n >= 0)
        .ok_or_else(|| {
            ApiError::bad_request(code, format!("{name} must be a number of bytes")).field(name)
        })
}

fn declared_body_length(req: &HttpRequest) -> Option<i64> {
    header(req.headers(), "content-length").and_then(|v| v.parse().ok())
}

/// `POST /api/v1/uploads`: a new upload (and a new video unless `video_id` names one).
/// tus creation (and creation-with-upload): `Upload-Length`, `Upload-Metadata` (filename, title,
/// description, privacy, language, tags, or video_id).
#[utoipa::path(post, path = "/api/v1/uploads", tag = "tus", operation_id = "create_upload",
    responses((status = 201, description = "`Location` of the upload"), (status = 400, content_type = "application/problem+json"), (status = 413, content_type = "application/problem+json")),
    security(("bearer" = [])))]
async fn create(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    check_version(&req)?;
    if req.headers().contains_key("upload-defer-length") {
        return Err(ApiError::bad_request(
            Code::DeferLengthUnsupported,
            "Give Upload-Length when creating the upload",
        ));
    }
    let length = byte_count(&req, "Upload-Length", Code::InvalidUploadLength)?;
    let meta = match header(req.headers(), "upload-metadata") {
        Some(raw) => parse_metadata(raw)?,
        None => Map::new(),
    };
    let with_body = declared_body_length(&req).unwrap_or(0) > 0
        || req.headers().contains_key("transfer-encoding");
    if with_body && !is_octet_stream(&req) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "An upload body is sent as application/offset+octet-stream",
        ));
    }
    uploads::check_limits(&ctx.db, &ctx.config, &auth.user, length).await?;

    let filename = meta_str(&meta, "filename")
        .or(meta_str(&meta, "name"))
        .map(str::to_owned);
    let existing: Option<Uuid> = match meta_str(&meta, "video_id") {
        Some(id) => Some(id.parse().map_err(|_| {
            ApiError::bad_request(Code::InvalidMetadata, "video_id is not a video id")
                .field("video_id")
        })?),
        None => None,
    };
    // Storage first, outside the transaction; given back if the rows cannot be written.
    let video_id = existing.unwrap_or_else(Uuid::now_v7);
    let staging = staging::stage(&ctx, video_id).await?;
    let created = create_rows(
        &ctx, &auth, &meta, existing, video_id, &staging, length, filename,
    )
    .await;
    let (video, up) = match created {
        Ok(done) => done,
        Err(e) => {
            staging::unstage(&ctx, staging).await;
            return Err(e);
        }
    };
    tracing::info!(upload = %up.id, video = %video.id, length, "upload created");

    let offset = if length == 0 || with_body {
        let body = kadr_http::body::paced(body, kadr_http::body::Pace::of(&ctx.config.server));
        match write_body(&ctx, up.id, 0, body, None).await {
            Ok(offset) => offset,
            // The upload exists; a failed first chunk is resumed like any other.
            Err(e) if e.status.is_server_error() => return Err(e),
            Err(_) => current_offset(&ctx, up.id).await?,
        }
    } else {
        0
    };
    let mut res = HttpResponse::Created();
    res.insert_header(("Location", upload_url(&req, up.id)))
        .insert_header(("Upload-Offset", offset.to_string()))
        .insert_header(("Kadr-Video-Id", video.id.to_string()));
    if offset < length {
        res.insert_header(("Upload-Expires", http_date(up.expires_at)));
    }
    Ok(res.finish())
}

/// The rows of a tus creation, in one transaction: the video (new, or an existing one of the
/// caller's that has no upload yet) and its upload.
#[allow(clippy::too_many_arguments)]
async fn create_rows(
    ctx: &AppContext,
    auth: &AuthUser,
    meta: &Map<String, Value>,
    existing: Option<Uuid>,
    video_id: Uuid,
    staging: &uploads::Staging,
    length: i64,
    filename: Option<String>,
) -> Result<(video::Model, upload::Model), ApiError> {
    let tx = ctx.db.begin().await?;
    uploads::reserve(&tx, &ctx.config, auth.user.id, length, true).await?;
    let video = match existing {
        Some(id) => uploads::video_awaiting_upload(&tx, auth.user.id, id)
            .await
            .map_err(|e| match e {
                DomainError::NotFound => ApiError::not_found().detail("no such video of yours"),
                e => e.into(),
            })?,
        None => {
            let tags: Option<Vec<String>> =
                meta_str(meta, "tags").map(|t| t.split(',').map(str::to_owned).collect());
            let fields = GivenFields {
                title: meta_str(meta, "title"),
                description: meta_str(meta, "description"),
                tags: tags.as_deref(),
                language: meta_str(meta, "language"),
                privacy: meta_str(meta, "privacy"),
                channel: meta_str(meta, "channel"),
            }
            .check(
                filename
                    .as_deref()
                    .map(title_from_filename)
                    .or(Some("Untitled")),
            )?;
            uploads::insert_video(&tx, &ctx.config, &auth.user, fields, video_id).await?
        }
    };
    let up = uploads::insert_upload(
        &tx,
        &ctx.config,
        &video,
        staging,
        length,
        filename,
        Value::Object(meta.clone()),
    )
    .await?;
    tx.commit().await?;
    Ok((video, up))
}

async fn current_offset(ctx: &AppContext, id: Uuid) -> Result<i64, ApiError> {
    upload::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .map(|u| u.offset_bytes)
        .ok_or_else(ApiError::not_found)
}

/// The caller's tus upload (a direct upload's parts never go through tus).
async fn owned_upload(
    ctx: &AppContext,
    auth: &AuthUser,
    id: Uuid,
) -> Result<upload::Model, ApiError> {
    staging::owned_upload(ctx, auth.user.id, id, false).await
}

fn parse_id(path: &web::Path<String>) -> Result<Uuid, ApiError> {
    path.parse().map_err(|_| ApiError::not_found())
}

/// tus: the durable offset of an upload (`Upload-Offset`).
#[utoipa::path(head, path = "/api/v1/uploads/{id}", tag = "tus",
    params(("id" = Uuid, Path, description = "Upload id")),
    responses((status = 200, description = "`Upload-Offset`, `Upload-Length`, `Upload-Expires`"), (status = 404), (status = 410)),
    security(("bearer" = [])))]
async fn head(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    check_version(&req)?;
    let up = owned_upload(&ctx, &auth, parse_id(&path)?).await?;
    let mut res = HttpResponse::Ok();
    res.insert_header(("Upload-Offset", up.offset_bytes.to_string()))
        .insert_header(("Upload-Length", up.length.to_string()))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header(("Kadr-Video-Id", up.video_id.to_string()));
    if up.state == UploadState::Active {
        res.insert_header(("Upload-Expires", http_date(up.expires_at)));
    }
    if let Some(meta) = encode_metadata(&up.metadata) {
        res.insert_header(("Upload-Metadata", meta));
    }
    Ok(res.finish())
}

fn encode_metadata(meta: &Value) -> Option<String> {
    let map = meta.as_object()?;
    if map.is_empty() {
        return None;
    }
    Some(
        map.iter()
            .map(|(k, v)| {
                let v = v.as_str().unwrap_or_default();
                if v.is_empty() {
                    k.clone()
                } else {
                    format!(
                        "{k} {}",
                        base64::engine::general_purpose::STANDARD.encode(v)
                    )
                }
            })
            .collect::<Vec<_>>()
            .join(","),
    )
}

/// tus: appends `application/offset+octet-stream` bytes at `Upload-Offset` (optionally with
/// `Upload-Checksum`).
#[utoipa::path(patch, path = "/api/v1/uploads/{id}", tag = "tus",
    params(("id" = Uuid, Path, description = "Upload id")),
    responses((status = 204, description = "The new `Upload-Offset`"), (status = 409, description = "Offset mismatch or upload busy"), (status = 460, description = "Checksum mismatch"), (status = 404), (status = 410)),
    security(("bearer" = [])))]
async fn patch(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    check_version(&req)?;
    if !is_octet_stream(&req) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "PATCH bodies are sent as application/offset+octet-stream",
        ));
    }
    let claimed = byte_count(&req, "Upload-Offset", Code::InvalidUploadOffset)?;
    let checksum = header(req.headers(), "upload-checksum")
        .map(Checksum::parse)
        .transpose()?;
    let up = owned_upload(&ctx, &auth, parse_id(&path)?).await?;
    if let Some(len) = declared_body_length(&req)
        && claimed.saturating_add(len) > up.length
    {
        return Err(ApiError::bad_request(
            Code::ExceedsLength,
            "The request body goes past Upload-Length",
        ));
    }
    let body = kadr_http::body::paced(body, kadr_http::body::Pace::of(&ctx.config.server));
    let offset = write_body(&ctx, up.id, claimed, body, checksum).await?;
    let mut res = HttpResponse::NoContent();
    res.insert_header(("Upload-Offset", offset.to_string()));
    if offset < up.length {
        res.insert_header(("Upload-Expires", http_date(up.expires_at)));
    }
    Ok(res.finish())
}

/// Takes the upload's lease, checks the offset, writes the body and, on the last byte,
/// records completion. Returns the new offset.
pub(crate) async fn write_body<S, E>(
    ctx: &AppContext,
    id: Uuid,
    claimed: i64,
    body: S,
    checksum: Option<Checksum>,
) -> Result<i64, ApiError>
where
    S: futures::Stream<Item = Result<bytes::Bytes, E>> + Unpin,
    E: std::fmt::Display,
{
    let Some((mut lock, up)) = UploadLock::acquire(&ctx.db, id).await? else {
        // Completed meanwhile, or another request is writing.
        let up = upload::Entity::find_by_id(id)
            .one(&ctx.db)
            .await?
            .ok_or_else(ApiError::not_found)?;
        if up.state == UploadState::Complete && claimed == up.length {
            return Ok(up.length);
        }
        if up.state == UploadState::Complete {
            return Err(offset_conflict(claimed, up.length));
        }
        return Err(ApiError::new(
            Code::UploadBusy,
            "Another request is writing to this upload",
        ));
    };
    let result = async {
        if claimed != up.offset_bytes {
            return Err(offset_conflict(claimed, up.offset_bytes));
        }
        match store::write(&ctx.storage, &mut lock, &up, body, checksum).await? {
            Written::Progress(offset) => Ok(offset),
            Written::Complete => {
                staging::complete(ctx, &lock, &up).await?;
                Ok(up.length)
            }
        }
    }
    .await;
    lock.release().await;
    result
}

fn offset_conflict(claimed: i64, actual: i64) -> ApiError {
    ApiError::new(
        Code::OffsetMismatch,
        "Upload-Offset does not match the upload's offset",
    )
    .detail(format!(
        "the request says {claimed}, the upload is at {actual}"
    ))
}

/// `DELETE /api/v1/uploads/{id}`: termination.
/// tus termination: abandons the upload and its video.
#[utoipa::path(delete, path = "/api/v1/uploads/{id}", tag = "tus",
    params(("id" = Uuid, Path, description = "Upload id")),
    responses((status = 204), (status = 404)), security(("bearer" = [])))]
async fn terminate(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    check_version(&req)?;
    let up = owned_upload(&ctx, &auth, parse_id(&path)?).await?;
    if up.state == UploadState::Complete {
        return Err(ApiError::new(
            Code::UploadComplete,
            "The upload is complete; delete the video instead",
        ));
    }
    let Some((lock, up)) = UploadLock::acquire(&ctx.db, up.id).await? else {
        return Err(ApiError::new(
            Code::UploadBusy,
            "Another request is writing to this upload",
        ));
    };
    let result =
        kadr_core::maintenance::end_upload(&ctx.db, &ctx.storage, &up, UploadState::Aborted)
            .await
            .map_err(|e| match e {
                kadr_core::maintenance::EndError::Domain(e) => ApiError::from(e),
                kadr_core::maintenance::EndError::Storage(e) => {
                    ApiError::unavailable(format!("storage: {e}"))
                }
            });
    lock.release().await;
    result?;
    Ok(HttpResponse::NoContent().finish())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn metadata_is_parsed_and_refused_as_the_protocol_says() {
        let raw = format!(
            "filename {},title {}, is_confidential ,description {}",
            b64("Москва.mp4"),
            b64("عنوان"),
            b64("line one\nline two")
        );
        let m = parse_metadata(&raw).unwrap();
        assert_eq!(m["filename"], "Москва.mp4");
        assert_eq!(m["title"], "عنوان");
        assert_eq!(m["is_confidential"], "", "a key without a value");
        assert_eq!(m["description"], "line one\nline two");
        assert!(parse_metadata("").unwrap().is_empty());
        let code = |raw: &str| parse_metadata(raw).unwrap_err().code;
        // Duplicates, bad base64, non-UTF-8, control characters, keys that are not plain.
        assert_eq!(
            code(&format!("a {0},a {0}", b64("x"))),
            Code::InvalidMetadata
        );
        assert_eq!(code("title !!!"), Code::InvalidMetadata);
        assert_eq!(
            code(&format!(
                "title {}",
                base64::engine::general_purpose::STANDARD.encode([0xff, 0xfe])
            )),
            Code::InvalidMetadata
        );
        assert_eq!(
            code(&format!("title {}", b64("a\0b"))),
            Code::InvalidMetadata
        );
        assert_eq!(
            code(&format!("title {}", b64("a\nb"))),
            Code::InvalidMetadata
        );
        assert_eq!(code(&format!("tïtle {}", b64("x"))), Code::InvalidMetadata);
        let err = parse_metadata(&format!("title {}", b64("a\0b"))).unwrap_err();
        assert_eq!(err.field.as_deref(), Some("title"));
    }

    #[test]
    fn metadata_given_back_reads_the_same() {
        let m = parse_metadata(&format!("filename {},empty", b64("клип.mov"))).unwrap();
        let back = encode_metadata(&Value::Object(m.clone())).unwrap();
        assert_eq!(parse_metadata(&back).unwrap(), m);
        assert_eq!(encode_metadata(&Value::Object(Map::new())), None);
    }

    #[test]
    fn titles_fall_back_to_the_file_name_without_its_extension() {
        assert_eq!(title_from_filename("holiday.final.mp4"), "holiday.final");
        assert_eq!(title_from_filename("clip"), "clip");
        assert_eq!(title_from_filename(".hidden"), ".hidden");
    }
}
