//! The poster an owner picks: one of the frames the transcoder proposed, back to its own
//! pick, or (through the upload-api's `PUT /api/v1/videos/{id}/poster/image`) a picture of
//! their own. The rules are in `kadr_core::posters`.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use kadr_core::posters::{self, Source};
use kadr_core::state::VideoStatus;
use kadr_http::auth::AuthUser;
use kadr_http::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::listing::visible_row;
use crate::model::VideoRow;
use crate::{Api, base_url};

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/videos/{id}/poster", web::get().to(show))
        .route("/api/v1/videos/{id}/poster", web::put().to(choose))
        .route("/api/v1/videos/{id}/poster", web::delete().to(reset));
}

/// A frame the transcoder proposed.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FrameJson {
    /// Its number, to pick it.
    pub index: u32,
    pub url: String,
    /// 320 px wide.
    pub small_url: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

/// A video's poster, as its owner manages it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PosterJson {
    /// `auto` (the transcoder's pick), `frame` (one of the frames below) or `custom` (a
    /// picture the owner uploaded).
    #[schema(example = "frame")]
    pub source: String,
    /// The frame in use, when `source` is `frame`.
    pub frame: Option<u32>,
    /// The poster viewers see (absent until the video is ready).
    pub url: Option<String>,
    pub small_url: Option<String>,
    /// An uploaded picture is being made; the poster changes once it is.
    pub pending: bool,
    /// Why the last uploaded picture was refused (nothing was asked after it).
    pub refused: Option<String>,
    /// The frames to pick from.
    pub frames: Vec<FrameJson>,
}

/// What to show.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChooseBody {
    /// The frame's `index` from the list.
    #[schema(minimum = 0, maximum = 99)]
    pub frame: u32,
}

async fn answer(
    ctx: &AppContext,
    api: &Api,
    req: &HttpRequest,
    row: &VideoRow,
) -> Result<HttpResponse, ApiError> {
    let id = row.id;
    let state = posters::state(&ctx.db, id).await?;
    let base = base_url(req);
    let q = api.media_query(row, "images");
    let url = |file: &str| format!("{base}/media/{id}/images/{file}{q}");
    let ready = row.status == VideoStatus::Ready;
    let source = Source::of(&state.stem);
    let frames = state
        .frames
        .into_iter()
        .map(|(index, f)| {
            let stem = posters::frame_stem(index);
            FrameJson {
                index,
                url: url(&posters::file(&stem, false)),
                small_url: url(&posters::file(&stem, true)),
                width: f.width,
                height: f.height,
            }
        })
        .collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "private, no-store"))
        .json(PosterJson {
            source: match source {
                Source::Auto => "auto",
                Source::Frame(_) => "frame",
                Source::Custom => "custom",
            }
            .to_owned(),
            frame: match source {
                Source::Frame(n) => Some(n),
                _ => None,
            },
            url: ready.then(|| url(&posters::file(&state.stem, false))),
            small_url: ready.then(|| url(&posters::file(&state.stem, true))),
            pending: state.pending,
            refused: state.refused,
            frames,
        }))
}

/// The video, if `auth` manages it.
async fn managed(ctx: &AppContext, auth: &AuthUser, id: Uuid) -> Result<VideoRow, ApiError> {
    let viewer = auth.viewer();
    let row = visible_row(ctx, id, &viewer).await?;
    if !viewer.manages(row.owner_id) {
        return Err(ApiError::not_found());
    }
    Ok(row)
}

/// A video's poster and the frames to pick from (its owner or an admin).
#[utoipa::path(get, path = "/api/v1/videos/{id}/poster", tag = "catalog", operation_id = "show_poster",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 200, body = PosterJson), (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn show(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = managed(&ctx, &auth, path.into_inner()).await?;
    answer(&ctx, &api, &req, &row).await
}

/// Shows one of the proposed frames as the poster (its owner or an admin). A frame is a
/// moment of the video itself: the video does not go back to review.
#[utoipa::path(put, path = "/api/v1/videos/{id}/poster", tag = "catalog", operation_id = "choose_poster",
    params(("id" = Uuid, Path, description = "Video id")),
    request_body = ChooseBody,
    responses((status = 200, body = PosterJson),
        (status = 400, description = "No such frame", content_type = "application/problem+json"),
        (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn choose(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
    body: web::Json<ChooseBody>,
) -> Result<HttpResponse, ApiError> {
    let row = managed(&ctx, &auth, path.into_inner()).await?;
    posters::choose(&ctx.db, &ctx.config, row.id, Some(body.frame)).await?;
    answer(&ctx, &api, &req, &row).await
}

/// Goes back to the transcoder's own pick (its owner or an admin).
#[utoipa::path(delete, path = "/api/v1/videos/{id}/poster", tag = "catalog", operation_id = "reset_poster",
    params(("id" = Uuid, Path, description = "Video id")),
    responses((status = 200, body = PosterJson), (status = 401, content_type = "application/problem+json"),
        (status = 404, content_type = "application/problem+json")),
    security(("bearer" = [])))]
pub async fn reset(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    auth: AuthUser,
    req: HttpRequest,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    let row = managed(&ctx, &auth, path.into_inner()).await?;
    posters::choose(&ctx.db, &ctx.config, row.id, None).await?;
    answer(&ctx, &api, &req, &row).await
}
