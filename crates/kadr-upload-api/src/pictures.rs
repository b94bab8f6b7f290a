//! A channel's avatar and banner: the image is checked here (a JPEG, PNG or WebP by its
//! first bytes, whatever its `Content-Type` claims, with pictures of at most 8192 pixels a
//! side by its header: no decoding happens in the API), stored as it came, and a
//! `channel_image` job has the worker decode it under the same limits and make the fixed
//! sizes. The channel shows the new picture once that is done.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, web};
use bytes::BytesMut;
use futures::StreamExt;
use kadr_core::Code;
use kadr_core::jobs::{self, ChannelImageJob};
use kadr_core::state::ChannelImage;
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use sea_orm::TransactionTrait;
use serde::Serialize;
use uuid::Uuid;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/api/v1/channels/{handle}/pictures/{image}",
        web::put().to(upload),
    )
    .route(
        "/api/v1/channels/{handle}/pictures/{image}",
        web::delete().to(remove),
    )
    .route(
        "/api/v1/videos/{id}/poster/image",
        web::put().to(upload_poster),
    );
}

/// The smallest poster taken: a picture much smaller than the poster's 1280 px would be
/// blown up into mush.
pub const MIN_POSTER: (usize, usize) = (320, 180);

/// The largest picture file taken.
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
/// Pictures held in memory at once by one process (each up to [`MAX_BYTES`]): 80 MiB at
/// most, however many clients send them.
const AT_ONCE: usize = 8;

static RECEIVING: std::sync::LazyLock<tokio::sync::Semaphore> =
    std::sync::LazyLock::new(|| tokio::sync::Semaphore::new(AT_ONCE));
/// The largest side of a picture taken.
pub const MAX_SIDE: usize = 8192;

fn which(image: &str) -> Result<[ChannelImage; 2], ApiError> {
    match image {
        "avatar" => Ok([ChannelImage::Avatar, ChannelImage::AvatarSmall]),
        "banner" => Ok([ChannelImage::Banner, ChannelImage::BannerSmall]),
        _ => Err(ApiError::not_found()),
    }
}

pub(crate) fn not_an_image(detail: &str) -> ApiError {
    ApiError::new(
        Code::NotAnImage,
        "The file is not a JPEG, PNG or WebP picture Kadr takes",
    )
    .detail(detail.to_owned())
}

/// Whether `head` (the first bytes of a file) starts a JPEG, PNG or WebP picture of at most
/// [`MAX_SIDE`] pixels a side, by its header.
pub fn check_picture(head: &[u8]) -> Result<(usize, usize), ApiError> {
    use imagesize::ImageType;
    let kind = imagesize::image_type(head).map_err(|_| not_an_image("unknown format"))?;
    if !matches!(kind, ImageType::Jpeg | ImageType::Png | ImageType::Webp) {
        return Err(not_an_image("only JPEG, PNG and WebP"));
    }
    let size = imagesize::blob_size(head).map_err(|_| not_an_image("no readable size"))?;
    if size.width == 0 || size.height == 0 || size.width > MAX_SIDE || size.height > MAX_SIDE {
        return Err(not_an_image("at most 8192 pixels a side"));
    }
    Ok((size.width, size.height))
}

/// Refuses a body not declared as a picture.
pub(crate) fn picture_type(req: &HttpRequest) -> Result<(), ApiError> {
    let declared = req
        .headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !matches!(
        declared.split(';').next().unwrap_or("").trim(),
        "image/jpeg" | "image/png" | "image/webp"
    ) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "Send the picture as image/jpeg, image/png or image/webp",
        ));
    }
    Ok(())
}

/// The picture's bytes, at most [`MAX_BYTES`], in one of [`AT_ONCE`] slots of this process
/// (or a refusal after a short wait), with the slot: the caller holds it until the bytes are
/// stored, so memory stays bounded.
pub(crate) async fn receive(
    body: &mut web::Payload,
) -> Result<(bytes::Bytes, tokio::sync::SemaphorePermit<'static>), ApiError> {
    let slot = match tokio::time::timeout(Duration::from_secs(5), RECEIVING.acquire()).await {
        Ok(Ok(slot)) => slot,
        _ => {
            return Err(ApiError::new(
                Code::Busy,
                "Too many pictures are being uploaded; try again",
            )
            .retry_after(5));
        }
    };
    let mut data = BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::bad_request(Code::BodyInterrupted, "The picture did not arrive whole")
                .detail(e.to_string())
        })?;
        if data.len() + chunk.len() > MAX_BYTES {
            return Err(ApiError::new(
                Code::BodyTooLarge,
                "A picture has at most 10 MiB",
            ));
        }
        data.extend_from_slice(&chunk);
    }
    Ok((data.freeze(), slot))
}

/// A picture file, as sent.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct PictureBytes(Vec<u8>);

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PictureAccepted {
    /// Always `processing`: the channel shows the picture once the worker has made it.
    pub status: String,
    pub width: usize,
    pub height: usize,
}

/// Sets a channel's avatar or banner (its owner or an admin): the body is the image (JPEG,
/// PNG or WebP, at most 10 MiB and 8192 pixels a side). The worker crops and resizes it
/// (avatar 256 and 88 px square; banner 2048 × 340 and 1024 × 170).
#[utoipa::path(put, path = "/api/v1/channels/{handle}/pictures/{image}", tag = "channels", operation_id = "upload_picture",
    params(("handle" = String, Path, description = "Channel handle"),
           ("image" = String, Path, description = "`avatar` or `banner`")),
    request_body(content(
        (PictureBytes = "image/jpeg"),
        (PictureBytes = "image/png"),
        (PictureBytes = "image/webp"),
    ), description = "The picture's bytes"),
    responses((status = 202, body = PictureAccepted), (status = 401), (status = 404),
        (status = 413, description = "Larger than 10 MiB", content_type = "application/problem+json"),
        (status = 503, description = "Too many pictures at once", content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG or WebP picture, or too large a picture", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn upload(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<(String, String)>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let (handle, image) = path.into_inner();
    let images = which(&image)?;
    picture_type(&req)?;
    let channel = kadr_core::channels::managed(&ctx.db, &auth.user, &handle).await?;
    let (data, _slot) = receive(&mut body).await?;
    let (width, height) = check_picture(&data)?;
    let stamp = kadr_core::channels::stamp();
    let key = kadr_core::keys::channel_incoming(channel.id, images[0].as_str(), stamp);
    ctx.storage
        .put_bytes(&key, data, Some("application/octet-stream"))
        .await
        .map_err(|e| ApiError::unavailable(format!("storage: {e}")))?;
    let job = ChannelImageJob {
        channel_id: channel.id,
        image: image.clone(),
        source_key: key,
    };
    jobs::enqueue(&ctx.db, &ctx.config, jobs::CHANNEL_IMAGE, &job, None).await?;
    Ok(HttpResponse::Accepted().json(PictureAccepted {
        status: "processing".to_owned(),
        width,
        height,
    }))
}

/// Removes a channel's avatar or banner (its owner or an admin).
#[utoipa::path(delete, path = "/api/v1/channels/{handle}/pictures/{image}", tag = "channels", operation_id = "remove_picture",
    params(("handle" = String, Path, description = "Channel handle"),
           ("image" = String, Path, description = "`avatar` or `banner`")),
    responses((status = 204), (status = 401), (status = 404)),
    security(("bearer" = [])))]
pub async fn remove(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    path: web::Path<(String, String)>,
) -> Result<HttpResponse, ApiError> {
    let (handle, image) = path.into_inner();
    let images = which(&image)?;
    let channel = kadr_core::channels::managed(&ctx.db, &auth.user, &handle).await?;
    let tx = ctx.db.begin().await?;
    let keys = kadr_core::channels::clear_images(&tx, channel.id, &images).await?;
    if !keys.is_empty() {
        jobs::enqueue_cleanup(
            &tx,
            &ctx.config,
            &jobs::Cleanup {
                prefixes: keys,
                multipart: Vec::new(),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Sets a video's poster to a picture of its own (the video's owner or an admin): the body is
/// the image (JPEG, PNG or WebP, at most 10 MiB, from 320 × 180 to 8192 pixels a side). The
/// worker crops it to the video's shape around its centre and makes it 1280 px on its longest
/// side and 320 px wide; `GET /api/v1/videos/{id}/poster` says when it is shown. A new
/// picture is something viewers see: from an owner who is not trusted it sends an approved
/// video back to review.
#[utoipa::path(put, path = "/api/v1/videos/{id}/poster/image", tag = "catalog", operation_id = "upload_poster",
    params(("id" = Uuid, Path, description = "Video id")),
    request_body(content(
        (PictureBytes = "image/jpeg"),
        (PictureBytes = "image/png"),
        (PictureBytes = "image/webp"),
    ), description = "The picture's bytes"),
    responses((status = 202, body = PictureAccepted), (status = 401), (status = 404),
        (status = 413, description = "Larger than 10 MiB", content_type = "application/problem+json"),
        (status = 503, description = "Too many pictures at once", content_type = "application/problem+json"),
        (status = 415, description = "Not a JPEG, PNG or WebP picture, too large or too small a picture", content_type = "application/problem+json"),
        (status = 409, description = "`not_playable`: the video is still being processed; `poster_pending`: the previous picture is still being made", content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn upload_poster(
    ctx: web::Data<AppContext>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    mut body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    picture_type(&req)?;
    let video = kadr_core::videos::owned(&ctx.db, &auth.user, path.into_inner()).await?;
    // Its shape is known once it plays: the picture is cropped to it.
    if !video.playable {
        return Err(ApiError::new(
            Code::NotPlayable,
            "The video is still being processed; set its poster once it plays",
        ));
    }
    let (data, _slot) = receive(&mut body).await?;
    let (width, height) = check_picture(&data)?;
    if width.max(height) < MIN_POSTER.0 || width.min(height) < MIN_POSTER.1 {
        return Err(not_an_image("at least 320 × 180 pixels"));
    }
    let key = kadr_core::keys::poster_incoming(video.id, Uuid::now_v7());
    ctx.storage
        .put_bytes(&key, data, Some("application/octet-stream"))
        .await
        .map_err(|e| ApiError::unavailable(format!("storage: {e}")))?;
    if let Err(e) =
        kadr_core::posters::ask_custom(&ctx.db, &ctx.config, &auth.user, video.id, key.clone())
            .await
    {
        // Nothing will read it: a refusal (another picture still being made) or a failure.
        let _ = ctx.storage.delete(&key).await;
        return Err(e.into());
    }
    Ok(HttpResponse::Accepted().json(PictureAccepted {
        status: "processing".to_owned(),
        width,
        height,
    }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_known_by_their_bytes() {
        // A 1×1 PNG.
        let png: &[u8] = &[
            0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, b'I', b'H', b'D', b'R', 0,
            0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde,
        ];
        assert_eq!(check_picture(png).unwrap(), (1, 1));
        // The same header claiming 100000 × 100000 pixels: a decompression bomb.
        let mut bomb = png.to_vec();
        bomb[16..20].copy_from_slice(&100_000u32.to_be_bytes());
        bomb[20..24].copy_from_slice(&100_000u32.to_be_bytes());
        assert_eq!(check_picture(&bomb).unwrap_err().code, Code::NotAnImage);
        // HTML with an image's name.
        assert_eq!(
            check_picture(b"<svg onload=alert(1)>").unwrap_err().code,
            Code::NotAnImage
        );
        assert_eq!(
            check_picture(b"GIF89a\x01\x00\x01\x00").unwrap_err().code,
            Code::NotAnImage
        );
    }
}
