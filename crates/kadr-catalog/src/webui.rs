//! The web UI: the files `npm run build` leaves in `api.web_dir`. Every page of the single-page
//! app answers with `index.html` (never cached, so a new build is picked up at once); the
//! hashed files under `assets/` are cached for a year.

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use kadr_core::Code;
use kadr_http::{ApiError, AppContext};

/// The UI's route table, shared with its router: `{ "path": "/watch/{id}", "page": "watch" }`
/// per page, in actix path syntax.
const ROUTES: &str = include_str!("../../../web/src/routes.json");

#[derive(serde::Deserialize)]
struct Route {
    path: String,
    page: String,
}

fn routes() -> Vec<Route> {
    match serde_json::from_str::<Vec<Route>>(ROUTES) {
        Ok(routes) => routes,
        Err(e) => {
            tracing::error!(error = %e, "web/src/routes.json does not parse; no UI pages served");
            Vec::new()
        }
    }
}

/// The UI's own paths (its router's table); everything else stays an API 404. A table that
/// does not parse is caught by the test below; here it serves no page rather than panic.
pub fn pages() -> Vec<String> {
    routes().into_iter().map(|r| r.path).collect()
}

/// Pages whose `<head>` carries a link preview (see [`crate::share`]).
const PREVIEWED: [&str; 3] = ["watch", "channel", "playlist"];

pub fn configure(cfg: &mut web::ServiceConfig) {
    for route in routes() {
        if PREVIEWED.contains(&route.page.as_str()) {
            cfg.route(&route.path, web::get().to(previewed));
        } else {
            cfg.route(&route.path, web::get().to(index));
        }
    }
    cfg.route("/assets/{name}", web::get().to(asset));
}

/// A page with a preview: its one path parameter names what it shows.
async fn previewed(
    ctx: web::Data<AppContext>,
    api: web::Data<crate::Api>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    let page = match req.match_pattern().as_deref() {
        Some(p) if p.starts_with("/watch/") => "watch",
        Some(p) if p.starts_with("/c/") => "channel",
        Some(p) if p.starts_with("/playlist/") => "playlist",
        _ => "",
    };
    let param = req
        .match_info()
        .iter()
        .next()
        .map(|(_, v)| v.to_owned())
        .unwrap_or_default();
    crate::share::page(&ctx, &api, &req, page, &param).await
}

/// A built file's name: letters, digits, `-`, `_` and dots, not starting with a dot.
fn safe_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The built file at `relative` with `cache` as its Cache-Control; `None` when it is absent.
async fn file(
    ctx: &AppContext,
    req: &HttpRequest,
    relative: &str,
    cache: &'static str,
) -> Option<HttpResponse> {
    let named = actix_files::NamedFile::open_async(ctx.config.api.web_dir.join(relative))
        .await
        .ok()?;
    let mut resp = named
        .use_etag(true)
        .use_last_modified(true)
        .disable_content_disposition()
        .into_response(req);
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    Some(resp)
}

async fn index(ctx: web::Data<AppContext>, req: HttpRequest) -> Result<HttpResponse, ApiError> {
    file(&ctx, &req, "index.html", "no-cache")
        .await
        .ok_or_else(|| {
            ApiError::new(Code::WebUiMissing, "The web UI is not built").detail(format!(
                "{} has no index.html: run `make web`, or point api.web_dir at a built UI",
                ctx.config.api.web_dir.display()
            ))
        })
}

async fn asset(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    name: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !safe_name(&name) {
        return Err(ApiError::not_found());
    }
    file(
        &ctx,
        &req,
        &format!("assets/{name}"),
        "public, max-age=31536000, immutable",
    )
    .await
    .ok_or_else(ApiError::not_found)
}

#[cfg(test)]
mod tests {
    use super::{pages, safe_name};

    #[test]
    fn the_route_table_parses_and_names_the_pages() {
        let pages = pages();
        for p in ["/", "/watch/{id}", "/upload", "/c/{handle}", "/moderation"] {
            assert!(pages.iter().any(|x| x == p), "{p} missing from {pages:?}");
        }
        assert!(
            pages
                .iter()
                .all(|p| p.starts_with('/') && !p.starts_with("/api/"))
        );
    }

    #[test]
    fn only_plain_file_names() {
        assert!(safe_name("index-B3x_9a.js"));
        assert!(safe_name("index-B3x_9a.js.map"));
        for bad in ["", ".env", "..", "../x", "a/b", "a\\b", "%2e%2e", "x y"] {
            assert!(!safe_name(bad), "{bad}");
        }
    }
}
