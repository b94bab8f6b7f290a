//! Captions: owners send a WebVTT or SRT file per language; viewers get them as an HLS
//! subtitle rendition in the master playlist (see [`crate::media`]) and as a whole WebVTT
//! file. The rules (formats, limits, review, search) are in `kadr_core::captions`.

use std::time::Duration;

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset};
use futures::StreamExt;
use kadr_core::Code;
use kadr_core::captions::{self, CaptionRow};
use kadr_core::subtitles;
use kadr_http::auth::{AuthUser, MaybeUser};
use kadr_http::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use tokio::sync::Semaphore;
use uuid::Uuid;

use crate::listing::visible_row;
use crate::{Api, base_url};

/// Caption files being received at once in this process: memory stays bounded.
static RECEIVING: Semaphore = Semaphore::const_new(8);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos/{id}/captions", web::get().to(list))
        .route("/api/v1/videos/{id}/captions/{lang}", web::put().to(upload))
        .route(
            "/api/v1/videos/{id}/captions/{lang}",
            web::delete().to(remove),
        );
}

/// One language's captions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaptionJson {
    /// The language tag as sent (`ru`, `pt-BR`).
    pub lang: String,
    /// Its name in the captions menu.
    pub label: String,
    pub cues: i32,
    /// What was sent: `vtt` or `srt` (always served as WebVTT).
    pub format: String,
    pub updated_at: DateTime<FixedOffset>,
    /// The whole file as WebVTT (signed when the video is not public).
    pub url: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaptionList {
    pub items: Vec<CaptionJson>,
}

/// The answer to a file sent.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CaptionSaved {
    #[serde(flatten)]
    pub caption: CaptionJson,
    /// The file changed what viewers see of an approved video of an owner who is not
    /// trusted: the video waits for a moderator again.
    pub back_to_review: bool,
}

fn json(row: CaptionRow, base: &str, query: &str) -> CaptionJson {
    CaptionJson {
        url: format!("{base}/media/{}/{}{query}", row.video_id, row.full_path()),
        lang: row.lang,
        label: row.label,
        cues: row.cues,
        format: row.source_format,
        updated_at: row.updated_at,
    }
}

/// A video's captions (whoever may see the video).
#[utoipa::path(get, path = "/api/v1/videos/{id}/captions", tag = "catalog", operation_id = "list_captions",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 200, body = CaptionList), (status = 404, content_type = "application/problem+json")))]
pub async fn list(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = visible_row(&ctx, path.into_inner(), &user.viewer()).await?;
    let query = api.media_query(&row, "hls");
    let base = base_url(&req);
    let items = captions::list(&ctx.db, row.id)
        .await?
        .into_iter()
        .map(|c| json(c, &base, &query))
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-cache"))
        .json(CaptionList { items }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadQuery {
    /// The name in the captions menu (at most 40 characters); the language's own name when
    /// absent.
    pub label: Option<String>,
}

/// The Content-Types a caption file may come as.
fn caption_type(req: &HttpRequest) -> bool {
    match req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    {
        None => true,
        Some(t) => {
            let t = t
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase();
            matches!(
                t.as_str(),
                "text/vtt"
                    | "application/x-subrip"
                    | "application/srt"
                    | "text/srt"
                    | "text/plain"
                    | "application/octet-stream"
            )
        }
    }
}

/// Sends the captions of one language (owner or admin): the body is the WebVTT or SRT file,
/// replacing any earlier one of that language.
#[utoipa::path(put, path = "/api/v1/videos/{id}/captions/{lang}", tag = "catalog", operation_id = "upload_captions",
    params(("id" = Uuid, Path, description = "Video id"),
           ("lang" = String, Path, description = "BCP 47 language tag: `ru`, `en`, `ar`, `pt-BR`"),
           UploadQuery),
    request_body(content = String, content_type = "text/vtt", description = "A WebVTT or SRT file (at most 2 MiB, UTF-8)"),
    responses((status = 200, body = CaptionSaved, description = "Replaced"), (status = 201, body = CaptionSaved, description = "Added"),
        (status = 400, description = "`invalid_captions` naming the line at fault, or a bad language tag", content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json"),
        (status = 409, description = "`too_many_captions`", content_type = "application/problem+json"),
        (status = 413, content_type = "application/problem+json"),
        (status = 415, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn upload(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<(Uuid, String)>,
    q: web::Query<UploadQuery>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (id, lang) = path.into_inner();
    let viewer = auth.viewer();
    let row = visible_row(&ctx, id, &viewer).await?;
    if !viewer.manages(row.owner_id) {
        return Err(ApiError::not_found());
    }
    if !caption_type(&req) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "Send the file as text/vtt or application/x-subrip",
        ));
    }
    let _slot = match tokio::time::timeout(Duration::from_secs(5), RECEIVING.acquire()).await {
        Ok(Ok(slot)) => slot,
        _ => {
            return Err(
                ApiError::new(Code::Busy, "Too many caption files at once; try again")
                    .retry_after(5),
            );
        }
    };
    let mut data = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request(Code::BodyInterrupted, "The file did not arrive whole")
                .detail(e.to_string())
        })?;
        if data.len() + chunk.len() > subtitles::MAX_BYTES {
            return Err(ApiError::new(
                Code::BodyTooLarge,
                "A caption file has at most 2 MiB",
            ));
        }
        data.extend_from_slice(&chunk);
    }
    let prepared = captions::prepare(
        &ctx.db,
        id,
        row.duration_ms,
        &lang,
        q.label.as_deref(),
        &data,
    )
    .await?;
    // The objects first, then the row that points at them, so a viewer never meets a row
    // without its files. A crash in between leaves objects under the video's prefix that no
    // row names: they go with the video.
    let stored = async {
        for (key, text) in &prepared.files {
            ctx.storage
                .put_bytes(key, web::Bytes::from(text.clone()), Some("text/vtt"))
                .await?;
        }
        Ok::<(), kadr_storage::StorageError>(())
    }
    .await;
    let recorded = match stored {
        Ok(()) => captions::record(&ctx.db, &ctx.config, &auth.user, &prepared)
            .await
            .map_err(ApiError::from),
        Err(e) => Err(ApiError::unavailable(format!("storage: {e}"))),
    };
    let recorded = match recorded {
        Ok(r) => r,
        Err(e) => {
            if let Err(gone) = ctx.storage.delete_prefix(&prepared.prefix()).await {
                tracing::warn!(video = %id, error = %gone, "unrecorded caption objects left for the sweep");
            }
            return Err(e);
        }
    };
    api.access.forget(id);
    let saved = captions::one(&ctx.db, id, &prepared.lang_key)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let row = visible_row(&ctx, id, &viewer).await?;
    let query = api.media_query(&row, "hls");
    let body = CaptionSaved {
        caption: json(saved, &base_url(&req), &query),
        back_to_review: recorded.back_to_review,
    };
    Ok(if recorded.replaced {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::Created().json(body)
    })
}

/// Removes the captions of one language (owner or admin).
#[utoipa::path(delete, path = "/api/v1/videos/{id}/captions/{lang}", tag = "catalog", operation_id = "remove_captions",
    params(("id" = Uuid, Path, description = "Video id"),
           ("lang" = String, Path, description = "Language tag")),
    responses((status = 204), (status = 404, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn remove(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<(Uuid, String)>,
) -> Result<HttpResponse, ApiError> {
    let (id, lang) = path.into_inner();
    let viewer = auth.viewer();
    let row = visible_row(&ctx, id, &viewer).await?;
    if !viewer.manages(row.owner_id) {
        return Err(ApiError::not_found());
    }
    let key = subtitles::language_key(&lang).ok_or_else(ApiError::not_found)?;
    captions::remove(&ctx.db, &ctx.config, id, &key).await?;
    Ok(HttpResponse::NoContent().finish())
}
