//! The OpenAPI 3.1 document, generated from the handlers' annotations (utoipa), at
//! `/api/openapi.json`, and a reference page rendering it at `/api/docs`.

use actix_web::{HttpResponse, web};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

use crate::{
    captions, catalog, channels, comments, community, downloads, history, model, moderation,
    playlists, posters, safety, search, share, views, webhooks,
};

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
        channels::channel,
        channels::channel_videos,
        channels::create,
        channels::update,
        channels::delete,
        channels::subscribe,
        channels::unsubscribe,
        channels::my_channels,
        channels::my_subscriptions,
        community::feed,
        community::feed_shorts,
        community::liked,
        community::my_rating,
        community::rate,
        community::notifications,
        community::unread_count,
        community::mark_read,
        comments::list,
        comments::post,
        comments::held,
        comments::queue,
        comments::one,
        comments::edit,
        comments::delete,
        comments::replies,
        comments::approve,
        comments::pin,
        comments::unpin,
        comments::like,
        comments::unlike,
        catalog::my_videos,
        catalog::shorts,
        search::search,
        views::count,
        moderation::queue,
        moderation::approve,
        moderation::reject,
        moderation::batches,
        moderation::batch_sample,
        moderation::approve_batch,
        moderation::reject_batch,
        playlists::create,
        playlists::one,
        playlists::update,
        playlists::delete,
        playlists::videos,
        playlists::add,
        playlists::remove,
        playlists::move_video,
        playlists::mine,
        playlists::watch_later,
        playlists::of_channel,
        playlists::queue,
        playlists::approve,
        playlists::reject,
        history::position,
        history::save_position,
        history::related,
        history::list,
        history::continue_watching,
        history::clear,
        history::remove,
        history::pause,
        safety::report,
        safety::blocks,
        safety::block,
        safety::unblock,
        safety::queue,
        safety::case,
        safety::resolve,
        safety::sanction,
        safety::log,
        share::oembed,
        captions::list,
        captions::upload,
        captions::remove,
        posters::show,
        posters::choose,
        posters::reset,
        downloads::list,
        webhooks::create,
        webhooks::list,
        webhooks::show,
        webhooks::update,
        webhooks::delete,
        webhooks::rotate,
        webhooks::ping,
        webhooks::deliveries,
        webhooks::redeliver,
    ),
    components(schemas(
        model::VideoJson,
        model::ChapterJson,
        share::Oembed,
        captions::CaptionJson,
        captions::CaptionList,
        captions::CaptionSaved,
        posters::PosterJson,
        posters::FrameJson,
        posters::ChooseBody,
        downloads::DownloadJson,
        downloads::DownloadKind,
        downloads::DownloadList,
        webhooks::EndpointJson,
        webhooks::EndpointWithSecret,
        webhooks::EndpointList,
        webhooks::CreateBody,
        webhooks::PatchBody,
        webhooks::DeliveryJson,
        webhooks::DeliveryPage,
        model::VideoPage,
        model::ChannelRef,
        model::Failure,
        model::Moderation,
        model::Images,
        catalog::VideoPatch,
        catalog::Playback,
        channels::ChannelJson,
        channels::LinkJson,
        channels::ChannelOwner,
        channels::Picture,
        channels::ChannelCreate,
        channels::ChannelPatch,
        channels::SubscriptionJson,
        channels::ChannelList,
        community::RatingJson,
        community::NotificationJson,
        community::NotificationData,
        community::NotifiedVideo,
        community::NotifiedComment,
        community::NotificationPage,
        community::UnreadJson,
        community::MarkRead,
        comments::Author,
        comments::CommentJson,
        comments::CommentPage,
        comments::NewComment,
        comments::CommentEdit,
        views::Counted,
        moderation::Decision, moderation::BatchJson, moderation::BatchOwner, moderation::BatchPage, moderation::BatchDecided,
        playlists::PlaylistJson,
        playlists::PlaylistOwner,
        playlists::PlaylistCreate,
        playlists::PlaylistPatch,
        playlists::PlaylistPage,
        playlists::Entry,
        playlists::Move,
        history::Position,
        history::Saved,
        history::Paused,
        safety::NewReport,
        safety::Reported,
        safety::Blocked,
        safety::BlockedPage,
        safety::ReasonCount,
        safety::Person,
        safety::ReportCase,
        safety::ReportCasePage,
        safety::ReportJson,
        safety::CaseJson,
        safety::ResolveBody,
        safety::Decided,
        safety::SanctionBody,
        safety::LogEntry,
        safety::LogPage,
        Problem,
    )),
    modifiers(&Bearer),
    tags(
        (name = "catalog", description = "Browse, search, channels, views"),
        (name = "playback", description = "Where a player starts; media under /media/{id}/…"),
        (name = "moderation", description = "The review queue (moderators and admins)"),
        (name = "channels", description = "Channels, their videos, subscriptions"),
        (name = "comments", description = "Comments and replies on videos"),
        (name = "community", description = "Feed, ratings, liked videos, notifications"),
        (name = "playlists", description = "Playlists and Watch later"),
        (name = "history", description = "Watch history, resume positions, related videos"),
        (name = "safety", description = "Reports and blocks"),
        (name = "webhooks", description = "Signed webhooks: endpoints, their delivery log, redelivery, rotation"),
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
    /// Stable machine-readable code (the README lists them with their meaning).
    #[schema(schema_with = kadr_http::schema::code)]
    code: String,
    /// The request field at fault.
    field: Option<String>,
    /// The request's id (also in `X-Request-Id` and the server's log): quote it when reporting.
    request_id: Option<String>,
}

struct Bearer;

/// The bearer scheme's description: the scopes a token may carry, and what each operation's
/// `security` list names.
fn scopes_description() -> String {
    let mut out = String::from(
        "A token from `POST /api/v1/auth/token` (a sign-in session: everything the account may) \
         or `POST /api/v1/me/tokens` (made for scripts and integrations, with scopes). Each \
         operation names the scope it needs; `session` means a signed-in session only.\n\n",
    );
    for s in kadr_core::scopes::Scope::ALL {
        out.push_str(&format!("- `{}`: {}\n", s.as_str(), s.meaning()));
    }
    out
}

impl utoipa::Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(scopes_description()))
                    .build(),
            ),
        );
    }
}

/// This service's document; [`crate::Api::with_doc`] adds the upload API's when both share a
/// process.
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    complete(&mut doc);
    doc
}

/// This service's document with another service's paths (`kadr all` adds the upload API's):
/// what `/api/openapi.json` serves and `kadr openapi` prints.
pub fn merged(other: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    let mut doc = document();
    doc.merge(other);
    complete(&mut doc);
    doc
}

/// Adds what holds for every operation of its kind, so no handler's annotation can forget it:
/// 401 where a token is required; 400 and 415 where a JSON body is read; 429 and 503
/// everywhere (the per-address limit, and a database or storage that does not answer); the
/// `Tus-Resumable` header, 412 and 415 on the tus resource. Idempotent.
pub fn complete(doc: &mut utoipa::openapi::OpenApi) {
    use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
    use utoipa::openapi::{ContentBuilder, Ref, Required, ResponseBuilder};

    let problem = |description: &str| {
        ResponseBuilder::new()
            .description(description)
            .content(
                "application/problem+json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name("Problem")))
                    .build(),
            )
            .build()
    };
    let add = |op: &mut Operation, status: &str, description: &str| {
        op.responses
            .responses
            .entry(status.to_owned())
            .or_insert_with(|| problem(description).into());
    };
    for (path, item) in doc.paths.paths.iter_mut() {
        let tus = path.starts_with("/api/v1/uploads");
        let ops = [
            (&mut item.get, "GET", false, false),
            (&mut item.put, "PUT", false, false),
            (&mut item.post, "POST", false, false),
            (&mut item.delete, "DELETE", false, false),
            (&mut item.options, "OPTIONS", true, false),
            (&mut item.head, "HEAD", false, true),
            (&mut item.patch, "PATCH", false, false),
        ];
        for (op, method, is_options, is_head) in ops {
            let Some(op) = op.as_mut() else { continue };
            // The scope each route needs, from the table authentication reads.
            if let Some(security) = op.security.as_mut() {
                let need = match kadr_core::scopes::needed(method, path) {
                    kadr_core::scopes::Need::Scope(s) => vec![s.as_str().to_owned()],
                    kadr_core::scopes::Need::Session => vec!["session".to_owned()],
                    kadr_core::scopes::Need::Any => vec![],
                };
                for req in security.iter_mut() {
                    let named = serde_json::to_value(&*req)
                        .ok()
                        .and_then(|v| v.as_object().map(|o| o.contains_key("bearer")))
                        .unwrap_or(false);
                    if named {
                        *req = utoipa::openapi::security::SecurityRequirement::new(
                            "bearer",
                            need.clone(),
                        );
                    }
                }
            }
            // Every error answer is a problem (HEAD answers have no body).
            if !is_head {
                for (status, response) in op.responses.responses.iter_mut() {
                    if let utoipa::openapi::RefOr::T(r) = response
                        && (status.starts_with('4') || status.starts_with('5'))
                        && r.content.is_empty()
                    {
                        r.content.insert(
                            "application/problem+json".to_owned(),
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("Problem")))
                                .build(),
                        );
                    }
                    // A problem named without its schema gets it.
                    if let utoipa::openapi::RefOr::T(r) = response
                        && let Some(c) = r.content.get_mut("application/problem+json")
                        && c.schema.is_none()
                    {
                        c.schema = Some(Ref::from_schema_name("Problem").into());
                    }
                }
            }
            if op.security.as_ref().is_some_and(|s| !s.is_empty()) {
                add(op, "401", "No valid bearer token");
                add(
                    op,
                    "403",
                    "`insufficient_scope`: the token lacks the scope this route needs",
                );
            }
            let json_body = op
                .request_body
                .as_ref()
                .is_some_and(|b| b.content.contains_key("application/json"));
            if json_body {
                add(op, "400", "Malformed or invalid body");
                add(op, "415", "The body is not application/json");
            }
            add(op, "429", "Too many requests; see Retry-After");
            add(
                op,
                "503",
                "A service Kadr depends on did not answer; see Retry-After",
            );
            if tus && !is_options {
                add(op, "412", "Tus-Resumable is not 1.0.0");
                add(op, "415", "The body is not application/offset+octet-stream");
                let params = op.parameters.get_or_insert_with(Vec::new);
                if !params.iter().any(|p| p.name == "Tus-Resumable") {
                    params.push(
                        ParameterBuilder::new()
                            .name("Tus-Resumable")
                            .parameter_in(ParameterIn::Header)
                            .required(Required::True)
                            .description(Some("The tus protocol version: 1.0.0"))
                            .schema(Some(
                                utoipa::openapi::ObjectBuilder::new()
                                    .schema_type(utoipa::openapi::schema::Type::String)
                                    .enum_values(Some(["1.0.0"])),
                            ))
                            .build(),
                    );
                }
            }
        }
    }
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
