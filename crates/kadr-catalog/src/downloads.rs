//! Downloads: the list (`GET /api/v1/videos/{id}/downloads`) and the files under
//! `/media/{id}/downloads/{video.mp4, audio.m4a}`, saved under the video's title
//! (`Content-Disposition: attachment`, RFC 6266/5987).
//!
//! The rule is `kadr_core::downloads::may_download`: whoever may see the video while it is
//! `downloadable`, else only its owner and admins; anyone else gets 404 from the list and
//! from the file. URLs are signed (scope `downloads`) unless the video is listed and
//! downloadable. A token for a video that is not downloadable is signed at another epoch
//! (`download_epoch`), so a token handed out while it was downloadable stops opening the
//! file the moment it is not, and one handed to its owner meanwhile stops when it is again.

use std::time::Duration;

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use kadr_core::downloads::{self, content_disposition, may_download};
use kadr_core::state::{DownloadFormat, Moderation, Privacy, VideoStatus};
use kadr_http::auth::MaybeUser;
use kadr_http::{ApiError, AppContext};
use kadr_storage::Storage;
use sea_orm::FromQueryResult;
use serde::Serialize;
use uuid::Uuid;

use crate::listing::visible_row;
use crate::media::{MediaQuery, storage_err, token_refused};
use crate::model::{VideoRow, stmt};
use crate::{Api, base_url};

/// The token scope of download files (`downloads/…`).
pub const SCOPE: &str = "downloads";

pub fn configure_media(cfg: &mut web::ServiceConfig) {
    cfg.route("/media/{id}/downloads/{file}", web::get().to(serve))
        .route("/media/{id}/downloads/{file}", web::head().to(serve));
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos/{id}/downloads", web::get().to(list));
}

/// The epoch download tokens are signed at: the video's media epoch while it is
/// downloadable, another value (never a media epoch, which is not negative) while it is not.
pub fn download_epoch(media_epoch: i32, downloadable: bool) -> i32 {
    if downloadable {
        media_epoch
    } else {
        !media_epoch
    }
}

/// `?token=…` for a download of `row`; empty when anyone may fetch it.
fn query(api: &Api, row: &VideoRow) -> String {
    if row.facts().listed() && row.downloadable {
        return String::new();
    }
    let epoch = download_epoch(row.media_epoch, row.downloadable);
    format!("?token={}", api.signer.sign(row.id, epoch, SCOPE).0)
}

/// What a download file holds: `mp4` (H.264 + AAC, progressive) or `m4a` (AAC only).
#[derive(Debug, Clone, Copy, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum DownloadKind {
    Mp4,
    M4a,
}

impl From<DownloadFormat> for DownloadKind {
    fn from(f: DownloadFormat) -> DownloadKind {
        match f {
            DownloadFormat::Mp4 => DownloadKind::Mp4,
            DownloadFormat::M4a => DownloadKind::M4a,
        }
    }
}

/// One download file.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DownloadJson {
    pub kind: DownloadKind,
    /// Signed when the video is not public or not downloadable by everyone.
    pub url: String,
    pub size_bytes: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub width: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub height: Option<i32>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DownloadList {
    pub items: Vec<DownloadJson>,
}

/// A video's download files (whoever may see the video while it is downloadable; its owner
/// and admins always).
#[utoipa::path(get, path = "/api/v1/videos/{id}/downloads", tag = "playback", operation_id = "list_downloads",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 200, body = DownloadList), (status = 404, description = "No such video, not visible to the caller, or not downloadable by the caller", content_type = "application/problem+json")))]
pub async fn list(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    user: MaybeUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let viewer = user.viewer();
    let row = visible_row(&ctx, path.into_inner(), &viewer).await?;
    if !may_download(&viewer, row.owner_id, row.downloadable) {
        return Err(ApiError::not_found());
    }
    let q = query(&api, &row);
    let base = base_url(&req);
    let items = downloads::list(&ctx.db, row.id)
        .await?
        .into_iter()
        .map(|d| DownloadJson {
            kind: d.format.into(),
            url: format!(
                "{base}/media/{}/downloads/{}{q}",
                row.id,
                d.format.file_name()
            ),
            size_bytes: d.size_bytes,
            width: d.width,
            height: d.height,
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(DownloadList { items }))
}

/// What serving a download needs to know.
#[derive(Debug, FromQueryResult)]
struct Access {
    privacy: Privacy,
    moderation: Moderation,
    playable: bool,
    status: VideoStatus,
    media_epoch: i32,
    withheld: bool,
    downloadable: bool,
    title: String,
    storage_key: String,
}

async fn serve(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    q: web::Query<MediaQuery>,
) -> Result<HttpResponse, ApiError> {
    let (id, file) = path.into_inner();
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::not_found())?;
    let format = DownloadFormat::of_file(&file).ok_or_else(ApiError::not_found)?;
    // Asked every time (not the access cache): downloads are few, and `downloadable` and
    // the title must hold as they are now.
    let access = Access::find_by_statement(stmt(
        "SELECT v.privacy, v.moderation, v.playable, v.status, v.media_epoch, v.withheld,
                v.downloadable, v.title, d.storage_key
         FROM videos v JOIN downloads d ON d.video_id = v.id AND d.format = $2
         WHERE v.id = $1"
            .to_owned(),
        vec![id.into(), format.as_str().into()],
    ))
    .one(&ctx.db)
    .await?;
    // As for other media: a bad token is refused whether or not the file exists.
    if let Some(t) = &q.token {
        let epoch = access
            .as_ref()
            .map_or(0, |a| download_epoch(a.media_epoch, a.downloadable));
        api.signer
            .verify(t, id, epoch, &format!("downloads/{file}"))
            .map_err(token_refused)?;
    }
    let access = access.ok_or_else(ApiError::not_found)?;
    let listed = kadr_core::visibility::listed(
        access.playable,
        access.privacy,
        access.moderation,
        access.withheld,
    );
    let signed = q.token.is_some();
    let open_to_all = listed && access.downloadable;
    if !signed && !open_to_all {
        return Err(ApiError::not_found());
    }
    if access.status != VideoStatus::Ready {
        // Being transcoded again: the files are about to be replaced.
        return Err(ApiError::not_found());
    }
    let disposition = content_disposition(&downloads::file_name(&access.title, format));
    let cc = if signed {
        "private, max-age=300"
    } else {
        "public, max-age=300"
    };
    match &*ctx.storage {
        Storage::Local(local) => {
            let path = local.file_path(&access.storage_key).map_err(storage_err)?;
            let named = actix_files::NamedFile::open_async(&path)
                .await
                .map_err(|_| ApiError::not_found())?;
            let mime: mime::Mime = format
                .content_type()
                .parse()
                .unwrap_or(mime::APPLICATION_OCTET_STREAM);
            let mut resp = named
                .set_content_type(mime)
                .use_etag(true)
                .use_last_modified(true)
                .disable_content_disposition()
                .into_response(&req);
            let headers = resp.headers_mut();
            headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cc));
            if let Ok(v) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, v);
            }
            Ok(resp)
        }
        Storage::S3(_) => {
            let to = ctx
                .storage
                .presign_download(
                    &access.storage_key,
                    Duration::from_secs(ctx.config.api.presign_ttl_secs),
                    format.content_type(),
                    &disposition,
                )
                .await
                .map_err(storage_err)?
                .ok_or_else(|| ApiError::internal(&"no presigned URL on S3"))?;
            Ok(HttpResponse::Found()
                .insert_header((header::LOCATION, to))
                .insert_header((header::CACHE_CONTROL, "private, max-age=60"))
                .finish())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epochs_of_downloadable_and_not_never_meet() {
        for e in [0, 1, 7, i32::MAX] {
            assert_eq!(download_epoch(e, true), e);
            assert!(download_epoch(e, false) < 0);
            assert_ne!(download_epoch(e, false), download_epoch(e, true));
        }
    }
}
