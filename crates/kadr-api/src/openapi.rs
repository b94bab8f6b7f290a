//! The OpenAPI 3.1 document, generated from the handlers' annotations (utoipa), at
//! `/api/openapi.json`, and a reference page rendering it at `/api/docs`.

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::{catalog, model, moderation, search, views};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Kadr",
        description = "Catalog, search, playback and moderation of a Kadr video platform. \
                       Errors are RFC 7807 `application/problem+json` with a stable `code`."
    ),
    paths(
        catalog::list,
        catalog::detail,
        catalog::update,
        catalog::playback,
        catalog::channel,
        catalog::channel_videos,
        catalog::my_videos,
        catalog::shorts,
        search::search,
        views::count,
        moderation::queue,
        moderation::approve,
        moderation::reject,
    ),
    components(schemas(
        model::VideoJson,
        model::VideoPage,
        model::ChannelRef,
        model::Failure,
        model::Moderation,
        model::Images,
        catalog::VideoPatch,
        catalog::Playback,
        catalog::ChannelJson,
        views::Counted,
        moderation::Decision,
        Problem,
    )),
    modifiers(&Bearer),
    tags(
        (name = "catalog", description = "Browse, search, channels, views"),
        (name = "playback", description = "Where a player starts; media under /media/{id}/…"),
        (name = "moderation", description = "The review queue (moderators and admins)"),
    )
)]
pub struct ApiDoc;

/// An RFC 7807 problem, as every error is answered.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct Problem {
    /// `urn:kadr:problem:<code>`
    r#type: String,
    title: String,
    status: u16,
    detail: Option<String>,
    /// Stable machine-readable code, e.g. `not_found`, `invalid_cursor`.
    code: String,
    /// The request field at fault.
    field: Option<String>,
    /// The request's id (also in `X-Request-Id` and the server's log): quote it when reporting.
    request_id: Option<String>,
}

struct Bearer;

impl utoipa::Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// This service's document; [`crate::Api::with_doc`] adds the upload API's when both share a
/// process.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/openapi.json", web::get().to(json))
        .route("/api/docs", web::get().to(docs))
        .route("/api/docs/docs.js", web::get().to(docs_js))
        .route("/api/docs/docs.css", web::get().to(docs_css));
}

async fn json(api: web::Data<crate::Api>) -> HttpResponse {
    match api.doc.to_json() {
        Ok(body) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        Err(e) => actix_web::ResponseError::error_response(&kadr_http::ApiError::internal(&e)),
    }
}

/// The reference page and its script and style, written here and built into the binary: no
/// third-party CDN, and nothing the Content-Security-Policy has to make room for.
const DOCS: &str = include_str!("../assets/docs.html");
const DOCS_JS: &str = include_str!("../assets/docs.js");
const DOCS_CSS: &str = include_str!("../assets/docs.css");

async fn docs() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(DOCS)
}

async fn docs_js() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/javascript; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(DOCS_JS)
}

async fn docs_css() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/css; charset=utf-8")
        .insert_header(("Cache-Control", "public, max-age=3600"))
        .body(DOCS_CSS)
}
