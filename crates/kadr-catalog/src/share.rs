//! Sharing and discovery: what a link pasted into a messenger, a news site's iframe or a
//! search engine's crawler gets from Kadr without running JavaScript.
//!
//! - `/watch/{id}`, `/c/{handle}`, `/playlist/{id}`: the web UI's page with Open Graph and
//!   Twitter card tags, a canonical link and oEmbed discovery written into its `<head>`, for
//!   what anyone with the link may see (public and unlisted, approved, owner in good
//!   standing). Unlisted ones also say `noindex`. Anything else gets the bare page: no title,
//!   description or poster, whoever asks (the app shows more to who may see it).
//! - `/embed/{id}`, `/embed/playlist/{id}`: the player-only page, framable by the origins
//!   `site.embed_origins` allows (narrowed per video by its owner); private, pending and
//!   rejected videos are not framable at all.
//! - `/api/v1/oembed`: the oEmbed 1.0 JSON answer for a watch, embed or playlist URL.
//! - `/robots.txt`, `/sitemap.xml` and `/sitemaps/…`: listed videos and channels only, in
//!   files of at most 50,000 entries. The index walks the listed ids once (cached for
//!   `site.sitemap_cache_secs`); each file is a keyset range streamed in pages, so neither
//!   time nor memory grows with the catalogue.
//!
//! What is read from the database is in `kadr_core::discovery`; this module writes the markup.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, FixedOffset, SecondsFormat};
use futures::StreamExt;
use kadr_core::Code;
use kadr_core::discovery::{self, Listed, SitemapVideo};
use kadr_core::state::Privacy;
use kadr_core::visibility::Viewer;
use kadr_http::{ApiError, AppContext};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::model::VideoJson;
use crate::{Api, base_url, listing};

/// Entries per sitemap file (the protocol's limit).
pub const SITEMAP_FILE_ENTRIES: i64 = 50_000;
/// Rows read from the database per page while a sitemap file is streamed.
const SITEMAP_PAGE: i64 = 2_000;
/// Characters of a description in previews and sitemaps.
const SUMMARY_CHARS: usize = 200;
/// Tags named in a preview or a sitemap entry.
const MAX_TAGS: usize = 16;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/embed/{id}", web::get().to(embed_video))
        .route("/embed/playlist/{id}", web::get().to(embed_playlist))
        .route("/api/v1/oembed", web::get().to(oembed))
        .route("/robots.txt", web::get().to(robots))
        .route("/sitemap.xml", web::get().to(sitemap_index))
        .route("/sitemaps/{name}", web::get().to(sitemap_file));
}

// ---------------------------------------------------------------------------------------
// Escaping

/// What `c` becomes in HTML or XML text and attributes: an entity, nothing (controls and the
/// non-characters XML 1.0 refuses), or itself (`None`).
fn escaped(c: char) -> Option<&'static str> {
    match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '"' => Some("&quot;"),
        '\'' => Some("&#39;"),
        c if c.is_control() && !matches!(c, '\n' | '\t') => Some(""),
        '\u{FFFE}' | '\u{FFFF}' => Some(""),
        _ => None,
    }
}

/// Text for an HTML or XML attribute or element.
fn esc(s: &str) -> String {
    esc_cut(s, usize::MAX)
}

/// A query-string component.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A preview's description: the summary of `text`, or `fallback` (the title) when it is empty.
fn describe(text: &str, fallback: &str) -> String {
    if text.trim().is_empty() {
        fallback.to_owned()
    } else {
        summary(text)
    }
}

/// One line of at most [`SUMMARY_CHARS`] characters: whitespace runs folded, cut at a word.
pub fn summary(text: &str) -> String {
    let folded = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if folded.chars().count() <= SUMMARY_CHARS {
        return folded;
    }
    let cut: String = folded.chars().take(SUMMARY_CHARS).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > SUMMARY_CHARS / 2 => &cut[..i],
        _ => &cut[..],
    };
    format!("{cut}…")
}

// ---------------------------------------------------------------------------------------
// Embedding

/// The `frame-ancestors` sources for a video: the site's list narrowed by the video's own
/// (`None`: the site's as it is). Empty: nowhere.
pub fn ancestors(site: &[String], video: Option<&[String]>) -> Vec<String> {
    let any = site.iter().any(|o| o == "*");
    match video {
        None => site.to_vec(),
        Some(own) if any => own.to_vec(),
        Some(own) => own
            .iter()
            .filter(|o| site.iter().any(|s| s.eq_ignore_ascii_case(o)))
            .cloned()
            .collect(),
    }
}

/// A `frame-ancestors` directive's sources; `'none'` for an empty list.
fn ancestors_csp(list: &[String]) -> String {
    if list.is_empty() {
        "'none'".to_owned()
    } else {
        list.join(" ")
    }
}

/// Whether anyone with the link may see the video, and the origins that may frame it.
async fn embed_rule(ctx: &AppContext, id: Uuid) -> Result<Option<Vec<String>>, ApiError> {
    match listing::visible_row(ctx, id, &Viewer::default()).await {
        Ok(row) => Ok(Some(ancestors(
            &ctx.config.site.embed_origins,
            row.embed_origins.as_deref(),
        ))),
        Err(e) if e.code == Code::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// The built player page, framable by `sources` (`'none'` when empty).
async fn embed_page(
    ctx: &AppContext,
    req: &HttpRequest,
    sources: &[String],
) -> Result<HttpResponse, ApiError> {
    let path = ctx.config.api.web_dir.join("embed.html");
    let html = tokio::fs::read_to_string(&path).await.map_err(|_| {
        ApiError::new(Code::WebUiMissing, "The web UI is not built").detail(format!(
            "{} is missing: run `make web`, or point api.web_dir at a built UI",
            path.display()
        ))
    })?;
    let csp =
        kadr_http::guard::content_security_policy_framed(&ctx.config, &ancestors_csp(sources));
    let mut resp = HttpResponse::Ok();
    resp.insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"))
        // The player is a page of its own, not something to list in search results.
        .insert_header(("X-Robots-Tag", "noindex"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        resp.insert_header((header::CONTENT_SECURITY_POLICY, v));
    }
    let _ = req;
    Ok(resp.body(html))
}

async fn embed_video(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let sources = match Uuid::parse_str(&path.into_inner()) {
        Ok(id) => embed_rule(&ctx, id).await?.unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    embed_page(&ctx, &req, &sources).await
}

async fn embed_playlist(
    ctx: web::Data<AppContext>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let open = match Uuid::parse_str(&path.into_inner()) {
        Ok(id) => playlist_row(&ctx, id).await?.is_some(),
        Err(_) => false,
    };
    // Each video of the list is checked by the player as it comes; the page itself follows
    // the site's rule.
    let sources = if open {
        ctx.config.site.embed_origins.clone()
    } else {
        Vec::new()
    };
    embed_page(&ctx, &req, &sources).await
}

// ---------------------------------------------------------------------------------------
// Page metadata

/// What a page tells link previews and crawlers.
#[derive(Debug, Default)]
pub struct Meta {
    pub title: String,
    pub description: String,
    /// The page's own address.
    pub url: String,
    /// `video.other`, `profile` or `website`.
    pub kind: &'static str,
    pub image: Option<Image>,
    /// The player page, when the video may be framed by anyone.
    pub player: Option<Player>,
    pub duration_secs: Option<u64>,
    pub published: Option<DateTime<FixedOffset>>,
    pub tags: Vec<String>,
    /// Kept out of search engines (unlisted).
    pub noindex: bool,
    /// The oEmbed URL for this page.
    pub oembed: Option<String>,
    /// A video's channel: its name and handle.
    pub author: Option<(String, String)>,
}

#[derive(Debug)]
pub struct Image {
    pub url: String,
    pub width: Option<i32>,
    pub height: Option<i32>,
}

#[derive(Debug)]
pub struct Player {
    pub url: String,
    pub width: u32,
    pub height: u32,
}

impl Meta {
    /// The tags for `<head>`.
    pub fn head(&self, site: &str) -> String {
        let mut h = String::with_capacity(2048);
        let mut meta = |attr: &str, name: &str, content: &str| {
            let _ = writeln!(h, "<meta {attr}=\"{name}\" content=\"{}\">", esc(content));
        };
        meta("name", "description", &self.description);
        if self.noindex {
            meta("name", "robots", "noindex");
        }
        meta("property", "og:site_name", site);
        meta("property", "og:type", self.kind);
        meta("property", "og:title", &self.title);
        meta("property", "og:description", &self.description);
        meta("property", "og:url", &self.url);
        if let Some(img) = &self.image {
            meta("property", "og:image", &img.url);
            if let (Some(w), Some(h)) = (img.width, img.height) {
                meta("property", "og:image:width", &w.to_string());
                meta("property", "og:image:height", &h.to_string());
            }
        }
        if let Some(p) = &self.player {
            meta("property", "og:video:url", &p.url);
            if p.url.starts_with("https://") {
                meta("property", "og:video:secure_url", &p.url);
            }
            meta("property", "og:video:type", "text/html");
            meta("property", "og:video:width", &p.width.to_string());
            meta("property", "og:video:height", &p.height.to_string());
        }
        if let Some(d) = self.duration_secs {
            meta("property", "video:duration", &d.to_string());
        }
        if let Some(p) = self.published {
            meta(
                "property",
                "video:release_date",
                &p.to_rfc3339_opts(SecondsFormat::Secs, true),
            );
        }
        for t in self.tags.iter().take(MAX_TAGS) {
            meta("property", "video:tag", t);
        }
        let card = match (&self.player, &self.image) {
            (Some(_), _) => "player",
            (None, Some(_)) => "summary_large_image",
            (None, None) => "summary",
        };
        meta("name", "twitter:card", card);
        meta("name", "twitter:title", &self.title);
        meta("name", "twitter:description", &self.description);
        if let Some(img) = &self.image {
            meta("name", "twitter:image", &img.url);
        }
        if let Some(p) = &self.player {
            meta("name", "twitter:player", &p.url);
            meta("name", "twitter:player:width", &p.width.to_string());
            meta("name", "twitter:player:height", &p.height.to_string());
        }
        let _ = writeln!(h, "<link rel=\"canonical\" href=\"{}\">", esc(&self.url));
        if let Some(o) = &self.oembed {
            let _ = writeln!(
                h,
                "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"{}\" title=\"{}\">",
                esc(o),
                esc(&self.title)
            );
        }
        h
    }
}

/// `index.html` with `meta` in its head and its title.
pub fn inject(index: &str, meta: &Meta, site: &str) -> String {
    let title = format!("<title>{} — {}</title>", esc(&meta.title), esc(site));
    let mut out = match (index.find("<title>"), index.find("</title>")) {
        (Some(a), Some(b)) if a < b => {
            format!("{}{title}{}", &index[..a], &index[b + "</title>".len()..])
        }
        _ => index.to_owned(),
    };
    let head = meta.head(site);
    match out.find("</head>") {
        Some(i) => out.insert_str(i, &head),
        None => out.insert_str(0, &head),
    }
    out
}

/// The size of the player in previews: 1280 wide, the video's shape (16:9 when unknown or
/// extreme).
fn player_size(width: Option<i32>, height: Option<i32>) -> (u32, u32) {
    match (width, height) {
        (Some(w), Some(h)) if w > 0 && h > 0 && h <= w * 3 && w <= h * 3 => {
            if w >= h {
                (1280, (1280 * h as u32 / w as u32) & !1)
            } else {
                ((720 * w as u32 / h as u32) & !1, 720)
            }
        }
        _ => (1280, 720),
    }
}

/// The preview of a video anyone with the link may see; `None` otherwise.
async fn video_meta(
    ctx: &AppContext,
    api: &Api,
    base: &str,
    id: Uuid,
) -> Result<Option<Meta>, ApiError> {
    let row = match listing::visible_row(ctx, id, &Viewer::default()).await {
        Ok(r) => r,
        Err(e) if e.code == Code::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    let unlisted = row.privacy == Privacy::Unlisted;
    let (width, height) = (row.width, row.height);
    let sources = ancestors(&ctx.config.site.embed_origins, row.embed_origins.as_deref());
    let author = (row.channel_name.clone(), row.channel_handle.clone());
    let poster = kadr_core::posters::size(&ctx.db, id, &row.poster).await?;
    let json = VideoJson::of(row, &Viewer::default(), api, base);
    let (pw, ph) = player_size(width, height);
    let watch = format!("{base}/watch/{id}");
    Ok(Some(Meta {
        description: describe(&json.description, &json.title),
        title: json.title,
        url: watch.clone(),
        kind: "video.other",
        image: json.images.map(|i| Image {
            url: i.poster,
            width: poster.map(|p| p.0),
            height: poster.map(|p| p.1),
        }),
        // Previews play inline only where anyone may frame the player.
        player: sources.iter().any(|s| s == "*").then(|| Player {
            url: format!("{base}/embed/{id}"),
            width: pw,
            height: ph,
        }),
        duration_secs: json.duration_secs.map(|d| d.round() as u64),
        published: json.published_at,
        tags: json.tags,
        noindex: unlisted,
        oembed: Some(format!(
            "{base}/api/v1/oembed?format=json&url={}",
            enc(&watch)
        )),
        author: Some(author),
    }))
}

async fn channel_meta(
    ctx: &AppContext,
    base: &str,
    handle: &str,
) -> Result<Option<Meta>, ApiError> {
    if !kadr_core::fields::could_name(handle) {
        return Ok(None);
    }
    let row = kadr_core::discovery::channel_preview(&ctx.db, handle).await?;
    Ok(row.map(|c| {
        let url = format!("{base}/c/{}", c.handle);
        Meta {
            description: describe(&c.description, &c.display_name),
            title: c.display_name,
            kind: "profile",
            image: c.avatar_version.map(|v| Image {
                url: format!("{base}/media/channels/{}/avatar.jpg?v={v}", c.id),
                width: c.avatar_width,
                height: c.avatar_height,
            }),
            url,
            ..Meta::default()
        }
    }))
}

/// A playlist anyone with the link may see.
async fn playlist_row(
    ctx: &AppContext,
    id: Uuid,
) -> Result<Option<kadr_core::playlists::PlaylistRow>, ApiError> {
    match kadr_core::playlists::get(&ctx.db, &Viewer::default(), id, false).await {
        Ok(p) if !p.watch_later => Ok(Some(p)),
        Ok(_) | Err(kadr_core::error::DomainError::NotFound) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

async fn playlist_meta(
    ctx: &AppContext,
    api: &Api,
    base: &str,
    id: Uuid,
) -> Result<Option<Meta>, ApiError> {
    let Some(p) = playlist_row(ctx, id).await? else {
        return Ok(None);
    };
    // The poster of its first video anyone may see.
    let image = match kadr_core::discovery::playlist_cover(&ctx.db, id).await? {
        Some(first) => video_meta(ctx, api, base, first)
            .await?
            .and_then(|m| m.image),
        None => None,
    };
    let url = format!("{base}/playlist/{id}");
    Ok(Some(Meta {
        description: describe(&p.description, &p.title),
        title: p.title,
        kind: "website",
        image,
        noindex: p.privacy == Privacy::Unlisted,
        oembed: Some(format!(
            "{base}/api/v1/oembed?format=json&url={}",
            enc(&url)
        )),
        url,
        ..Meta::default()
    }))
}

/// The UI's page for `page` (`watch`, `channel`, `playlist`) with its preview tags; the bare
/// page when there is nothing anyone may be shown, or the database cannot say.
pub async fn page(
    ctx: &AppContext,
    api: &Api,
    req: &HttpRequest,
    page: &str,
    param: &str,
) -> Result<HttpResponse, ApiError> {
    let base = base_url(req);
    let found = match page {
        "watch" => match Uuid::parse_str(param) {
            Ok(id) => video_meta(ctx, api, &base, id).await,
            Err(_) => Ok(None),
        },
        "playlist" => match Uuid::parse_str(param) {
            Ok(id) => playlist_meta(ctx, api, &base, id).await,
            Err(_) => Ok(None),
        },
        "channel" => channel_meta(ctx, &base, param).await,
        _ => Ok(None),
    };
    let meta = found.unwrap_or_else(|e| {
        tracing::warn!(error = %e, page, "page preview left out");
        None
    });
    let path = ctx.config.api.web_dir.join("index.html");
    let index = tokio::fs::read_to_string(&path).await.map_err(|_| {
        ApiError::new(Code::WebUiMissing, "The web UI is not built").detail(format!(
            "{} has no index.html: run `make web`, or point api.web_dir at a built UI",
            ctx.config.api.web_dir.display()
        ))
    })?;
    let mut resp = HttpResponse::Ok();
    resp.insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header((header::CONTENT_TYPE, "text/html; charset=utf-8"));
    let body = match meta {
        Some(m) => {
            if m.noindex {
                resp.insert_header(("X-Robots-Tag", "noindex"));
            }
            inject(&index, &m, &ctx.config.site.name)
        }
        None => index,
    };
    Ok(resp.body(body))
}

// ---------------------------------------------------------------------------------------
// oEmbed

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OembedQuery {
    /// A watch, embed or playlist page of this site.
    pub url: String,
    /// `json`, the only format offered (`xml` answers 501, as oEmbed says; anything else 400).
    #[param(pattern = "^json$")]
    pub format: Option<String>,
    pub maxwidth: Option<u32>,
    pub maxheight: Option<u32>,
}

/// The oEmbed 1.0 answer (type `video`, or `rich` for a playlist without a poster).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct Oembed {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub version: &'static str,
    pub title: String,
    pub author_name: Option<String>,
    pub author_url: Option<String>,
    pub provider_name: String,
    pub provider_url: String,
    pub cache_age: u32,
    pub thumbnail_url: Option<String>,
    pub thumbnail_width: Option<i32>,
    pub thumbnail_height: Option<i32>,
    /// The `<iframe>` of the player.
    pub html: String,
    pub width: u32,
    pub height: u32,
}

/// What an oEmbed URL names: a video or a playlist of this site.
#[derive(Debug, PartialEq, Eq)]
pub enum Target {
    Video(Uuid),
    Playlist(Uuid),
}

/// `url` if it is a page of the site at `base` naming a video or a playlist.
pub fn target(url: &str, base: &str) -> Option<Target> {
    let u = url::Url::parse(url).ok()?;
    let b = url::Url::parse(base).ok()?;
    if u.scheme() != b.scheme() && !(u.scheme() == "https" && b.scheme() == "http") {
        return None;
    }
    if !u.host_str()?.eq_ignore_ascii_case(b.host_str()?)
        || u.port_or_known_default() != b.port_or_known_default() && u.scheme() == b.scheme()
    {
        return None;
    }
    let parts: Vec<&str> = u.path().trim_end_matches('/').split('/').collect();
    let id = |s: &str| Uuid::parse_str(s).ok();
    match parts.as_slice() {
        ["", "watch" | "embed", v] => id(v).map(Target::Video),
        ["", "playlist", p] | ["", "embed", "playlist", p] => id(p).map(Target::Playlist),
        _ => None,
    }
}

/// The player's size within `maxwidth` × `maxheight`, keeping its shape.
fn fit(size: (u32, u32), maxwidth: Option<u32>, maxheight: Option<u32>) -> (u32, u32) {
    let (w, h) = (size.0.clamp(1, 1280) as f64, size.1.clamp(1, 1280) as f64);
    // The longer side 560 pixels, as the common 560 × 315 player.
    let mut width = if w >= h { 560.0 } else { 560.0 * w / h };
    let mut height = width * h / w;
    if let Some(mw) = maxwidth.filter(|m| *m > 0)
        && width > f64::from(mw)
    {
        width = f64::from(mw);
        height = width * h / w;
    }
    if let Some(mh) = maxheight.filter(|m| *m > 0)
        && height > f64::from(mh)
    {
        height = f64::from(mh);
        width = height * w / h;
    }
    (
        width.round().max(1.0) as u32,
        height.round().max(1.0) as u32,
    )
}

/// The `<iframe>` embedding `src`.
pub fn iframe(src: &str, title: &str, width: u32, height: u32) -> String {
    format!(
        "<iframe width=\"{width}\" height=\"{height}\" src=\"{}\" title=\"{}\" frameborder=\"0\" \
         allow=\"autoplay; encrypted-media; picture-in-picture; fullscreen\" allowfullscreen></iframe>",
        esc(src),
        esc(title)
    )
}

/// oEmbed for a watch, embed or playlist URL of this site.
#[utoipa::path(get, path = "/api/v1/oembed", tag = "catalog",
    params(OembedQuery),
    responses((status = 200, body = Oembed),
        (status = 400, description = "A malformed query or a format that is neither json nor xml (`invalid_query`)", content_type = "application/problem+json"),
        (status = 404, description = "Not a video or playlist of this site that anyone may see and embed", content_type = "application/problem+json"),
        (status = 501, description = "`format=xml`: not offered", content_type = "application/problem+json")))]
pub async fn oembed(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    req: HttpRequest,
    q: web::Query<OembedQuery>,
) -> Result<HttpResponse, ApiError> {
    match q.format.as_deref() {
        None | Some("" | "json") => {}
        // oEmbed's other format: 501, as the specification says.
        Some("xml") => {
            return Err(ApiError::new(
                Code::FormatUnsupported,
                "Only the json format is offered",
            ));
        }
        Some(_) => {
            return Err(ApiError::bad_request(
                Code::InvalidQuery,
                "format is json (or xml, which is not offered)",
            )
            .field("format"));
        }
    }
    let base = base_url(&req);
    let target = target(&q.url, &base).ok_or_else(ApiError::not_found)?;
    let site = &ctx.config.site;
    let provider_url = format!("{base}/");
    // What to embed: the page's preview, the player's URL and its shape.
    let (meta, src, size) = match target {
        Target::Video(id) => {
            let meta = video_meta(&ctx, &api, &base, id)
                .await?
                .ok_or_else(ApiError::not_found)?;
            // Not framable by whoever asks: no player to offer.
            let size = meta
                .player
                .as_ref()
                .map(|p| (p.width, p.height))
                .ok_or_else(ApiError::not_found)?;
            (meta, format!("{base}/embed/{id}"), size)
        }
        Target::Playlist(id) => {
            if !site.embed_origins.iter().any(|s| s == "*") {
                return Err(ApiError::not_found());
            }
            let meta = playlist_meta(&ctx, &api, &base, id)
                .await?
                .ok_or_else(ApiError::not_found)?;
            (meta, format!("{base}/embed/playlist/{id}"), (1280, 720))
        }
    };
    let (width, height) = fit(size, q.maxwidth, q.maxheight);
    let image = meta.image.as_ref();
    let answer = Oembed {
        kind: "video",
        version: "1.0",
        html: iframe(&src, &meta.title, width, height),
        author_name: meta.author.as_ref().map(|a| a.0.clone()),
        author_url: meta.author.as_ref().map(|a| format!("{base}/c/{}", a.1)),
        title: meta.title.clone(),
        provider_name: site.name.clone(),
        provider_url,
        cache_age: 3600,
        thumbnail_url: image.map(|i| i.url.clone()),
        thumbnail_width: image.and_then(|i| i.width),
        thumbnail_height: image.and_then(|i| i.height),
        width,
        height,
    };
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(answer))
}

// ---------------------------------------------------------------------------------------
// robots.txt and sitemaps

/// App pages that are nobody's business in a search engine.
const PRIVATE_PAGES: &[&str] = &[
    "/api/",
    "/me",
    "/settings",
    "/upload",
    "/moderation",
    "/admin",
    "/notifications",
    "/history",
    "/liked",
    "/feed",
    "/login",
    "/register",
    "/forgot-password",
    "/reset-password",
    "/verify-email",
    "/search",
];

pub fn robots_txt(indexable: bool, base: &str) -> String {
    if !indexable {
        return "User-agent: *\nDisallow: /\n".to_owned();
    }
    let mut out = String::from("User-agent: *\nAllow: /\n");
    for p in PRIVATE_PAGES {
        let _ = writeln!(out, "Disallow: {p}");
    }
    let _ = writeln!(out, "\nSitemap: {base}/sitemap.xml");
    out
}

async fn robots(ctx: web::Data<AppContext>, req: HttpRequest) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "text/plain; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(robots_txt(ctx.config.site.indexable, &base_url(&req)))
}

/// Where each sitemap file starts: the id after which its entries come (nil for the first;
/// each later one is the previous file's last id).
#[derive(Debug, Clone, Default)]
struct Bounds {
    videos: Vec<Uuid>,
    channels: Vec<Uuid>,
}

/// The sitemap index's file boundaries, walked at most once per `site.sitemap_cache_secs`
/// by one request at a time (the others wait for its answer).
#[derive(Default)]
pub struct SitemapCache {
    walked: tokio::sync::Mutex<Option<(Instant, Bounds)>>,
}

impl SitemapCache {
    async fn bounds(&self, ctx: &AppContext) -> Result<Bounds, ApiError> {
        let ttl = Duration::from_secs(ctx.config.site.sitemap_cache_secs);
        let mut walked = self.walked.lock().await;
        if let Some((at, b)) = &*walked
            && at.elapsed() < ttl
        {
            return Ok(b.clone());
        }
        let b = Bounds {
            videos: discovery::boundaries(&ctx.db, Listed::Videos, SITEMAP_FILE_ENTRIES).await?,
            channels: discovery::boundaries(&ctx.db, Listed::Channels, SITEMAP_FILE_ENTRIES)
                .await?,
        };
        *walked = Some((Instant::now(), b.clone()));
        Ok(b)
    }
}

/// File `n` holds the ids after `starts[n]` up to and including `starts[n + 1]` (the last file:
/// every id after its start).
fn range(starts: &[Uuid], n: usize) -> Option<(Uuid, Option<Uuid>)> {
    let from = *starts.get(n)?;
    Some((from, starts.get(n + 1).copied()))
}

fn sitemaps_off() -> ApiError {
    ApiError::not_found()
}

async fn sitemap_index(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    req: HttpRequest,
) -> Result<HttpResponse, ApiError> {
    if !ctx.config.site.indexable {
        return Err(sitemaps_off());
    }
    let base = base_url(&req);
    let b = api.sitemaps.bounds(&ctx).await?;
    let mut out = String::with_capacity(256 + 96 * (b.videos.len() + b.channels.len()));
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n");
    let _ = writeln!(
        out,
        "<sitemap><loc>{}/sitemaps/pages.xml</loc></sitemap>",
        esc(&base)
    );
    for i in 0..b.videos.len() {
        let _ = writeln!(
            out,
            "<sitemap><loc>{}/sitemaps/videos-{i}.xml</loc></sitemap>",
            esc(&base)
        );
    }
    for i in 0..b.channels.len() {
        let _ = writeln!(
            out,
            "<sitemap><loc>{}/sitemaps/channels-{i}.xml</loc></sitemap>",
            esc(&base)
        );
    }
    out.push_str("</sitemapindex>\n");
    Ok(xml(out))
}

fn xml(body: String) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/xml; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .body(body)
}

/// `videos-3.xml` → ("videos", 3).
fn file_name(name: &str) -> Option<(&str, usize)> {
    let stem = name.strip_suffix(".xml")?;
    if stem == "pages" {
        return Some(("pages", 0));
    }
    let (kind, n) = stem.rsplit_once('-')?;
    if n.len() > 6 || !n.bytes().all(|b| b.is_ascii_digit()) || n.is_empty() {
        return None;
    }
    let n = n.parse().ok()?;
    matches!(kind, "videos" | "channels").then_some((kind, n))
}

/// Sitemap pages read at once by one process (each a 2,000-row query): a file whose first
/// page finds no slot answers 503 `busy` with `Retry-After`, which crawlers honour, so
/// crawlers asking for every file at once do not take the pool from viewers. Later pages of
/// a file wait for a slot; a slot is held only while a page is read, never while a slow
/// client reads the answer.
const SITEMAPS_AT_ONCE: usize = 4;

static SITEMAPS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| std::sync::Arc::new(tokio::sync::Semaphore::new(SITEMAPS_AT_ONCE)));

/// A slot for a sitemap file's first page, or 503 `busy`.
fn sitemap_slot() -> Result<tokio::sync::OwnedSemaphorePermit, ApiError> {
    SITEMAPS.clone().try_acquire_owned().map_err(|_| {
        ApiError::new(
            Code::Busy,
            "Too many sitemap files are being written; try again",
        )
        .retry_after(30)
    })
}

async fn sitemap_file(
    ctx: web::Data<AppContext>,
    api: web::Data<Api>,
    req: HttpRequest,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    if !ctx.config.site.indexable {
        return Err(sitemaps_off());
    }
    let (kind, n) = file_name(&path).ok_or_else(ApiError::not_found)?;
    let base = base_url(&req);
    if kind == "pages" {
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
        );
        for p in ["/", "/shorts", "/channels"] {
            let _ = writeln!(out, "<url><loc>{}{p}</loc></url>", esc(&base));
        }
        out.push_str("</urlset>\n");
        return Ok(xml(out));
    }
    let b = api.sitemaps.bounds(&ctx).await?;
    let starts = if kind == "videos" {
        &b.videos
    } else {
        &b.channels
    };
    let (from, to) = range(starts, n).ok_or_else(ApiError::not_found)?;
    let slot = sitemap_slot()?;
    let stream = SitemapStream {
        first_slot: Some(slot),
        ctx: ctx.into_inner(),
        base,
        videos: kind == "videos",
        after: from,
        to,
        left: SITEMAP_FILE_ENTRIES,
        started: false,
        done: false,
    }
    .into_stream();
    Ok(HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/xml; charset=utf-8"))
        .insert_header((header::CACHE_CONTROL, "public, max-age=3600"))
        .streaming(stream))
}

/// One sitemap file, written a page of rows at a time.
struct SitemapStream {
    /// The slot the request was admitted with, for its first page.
    first_slot: Option<tokio::sync::OwnedSemaphorePermit>,
    ctx: std::sync::Arc<AppContext>,
    base: String,
    videos: bool,
    /// The last id written (the range's start before the first page).
    after: Uuid,
    /// Where the next file starts: this one stops before it.
    to: Option<Uuid>,
    left: i64,
    started: bool,
    done: bool,
}

/// Bytes one video sitemap entry is held to, so a 50,000-entry file stays under the
/// protocol's 50 MiB (52,428,800 bytes) whatever the titles hold: the title and channel name are cut first to
/// fixed shares, then the description and tags take what is left.
pub const ENTRY_BYTES: usize = 1_040;

/// `s` escaped, cut at a character so the result has at most `max` bytes.
fn esc_cut(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max).saturating_add(16));
    let mut one = [0u8; 4];
    for c in s.chars() {
        let piece: &str = match escaped(c) {
            Some(entity) => entity,
            None => c.encode_utf8(&mut one),
        };
        if out.len() + piece.len() > max {
            break;
        }
        out.push_str(piece);
    }
    out
}

/// One `<url>` of a video sitemap, at most [`ENTRY_BYTES`] long (for a base URL of usual
/// length).
pub fn video_entry(out: &mut String, base: &str, v: &SitemapVideo) {
    let b = esc(base);
    let id = v.id;
    let lastmod = v.updated_at.to_rfc3339_opts(SecondsFormat::Secs, true);
    // A video sitemap entry needs a thumbnail: only once the poster exists.
    if !v.ready {
        let _ = writeln!(
            out,
            "<url><loc>{b}/watch/{id}</loc><lastmod>{lastmod}</lastmod></url>"
        );
        return;
    }
    let head = format!(
        "<url><loc>{b}/watch/{id}</loc><lastmod>{lastmod}</lastmod><video:video>\
         <video:thumbnail_loc>{b}/media/{id}/images/{}</video:thumbnail_loc>\
         <video:title>{}</video:title><video:description>",
        kadr_core::posters::file(&v.poster, false),
        esc_cut(&v.title, 200)
    );
    let mut mid =
        format!("</video:description><video:player_loc>{b}/embed/{id}</video:player_loc>");
    if let Some(ms) = v.duration_ms {
        let _ = write!(
            mid,
            "<video:duration>{}</video:duration>",
            (ms / 1000).clamp(1, 28_800)
        );
    }
    let _ = write!(
        mid,
        "<video:view_count>{}</video:view_count>",
        v.view_count.max(0)
    );
    if let Some(p) = v.published_at {
        let _ = write!(
            mid,
            "<video:publication_date>{}</video:publication_date>",
            p.to_rfc3339_opts(SecondsFormat::Secs, true)
        );
    }
    let tail = format!(
        "<video:uploader info=\"{b}/c/{}\">{}</video:uploader></video:video></url>\n",
        esc(&v.channel_handle),
        esc_cut(&v.channel_name, 80)
    );
    let mut left = ENTRY_BYTES.saturating_sub(head.len() + mid.len() + tail.len());
    let text = describe(&v.description, &v.title);
    let description = esc_cut(&text, left.min(600));
    left -= description.len();
    out.push_str(&head);
    out.push_str(&description);
    out.push_str(&mid);
    for t in v.tags.iter().take(MAX_TAGS) {
        let tag = format!("<video:tag>{}</video:tag>", esc(t));
        if tag.len() > left {
            break;
        }
        left -= tag.len();
        out.push_str(&tag);
    }
    out.push_str(&tail);
}

impl SitemapStream {
    async fn page(&mut self) -> Result<Option<String>, ApiError> {
        if self.done {
            return Ok(None);
        }
        let mut out = String::new();
        if !self.started {
            self.started = true;
            out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\"");
            if self.videos {
                out.push_str(" xmlns:video=\"http://www.google.com/schemas/sitemap-video/1.1\"");
            }
            out.push_str(">\n");
        }
        let limit = self.left.min(SITEMAP_PAGE);
        let _slot = match self.first_slot.take() {
            Some(slot) => slot,
            None => SITEMAPS
                .clone()
                .acquire_owned()
                .await
                .map_err(|_| ApiError::unavailable("sitemap slots closed"))?,
        };
        let n = if self.videos {
            let rows = discovery::sitemap_videos(&self.ctx.db, self.after, self.to, limit).await?;
            out.reserve(rows.len() * 700);
            for r in &rows {
                video_entry(&mut out, &self.base, r);
            }
            if let Some(last) = rows.last() {
                self.after = last.id;
            }
            rows.len()
        } else {
            let rows =
                discovery::sitemap_channels(&self.ctx.db, self.after, self.to, limit).await?;
            let b = esc(&self.base);
            for r in &rows {
                let _ = writeln!(out, "<url><loc>{b}/c/{}</loc></url>", esc(&r.handle));
            }
            if let Some(last) = rows.last() {
                self.after = last.id;
            }
            rows.len()
        };
        self.left -= n as i64;
        if (n as i64) < limit || self.left <= 0 {
            self.done = true;
            out.push_str("</urlset>\n");
        }
        Ok(Some(out))
    }

    fn into_stream(self) -> impl futures::Stream<Item = Result<web::Bytes, ApiError>> {
        futures::stream::unfold(self, |mut s| async move {
            match s.page().await {
                Ok(Some(text)) => Some((Ok(web::Bytes::from(text)), s)),
                Ok(None) => None,
                Err(e) => {
                    // The status has gone out: end the body short, which the crawler sees as
                    // a broken file and fetches again later.
                    tracing::warn!(error = %e, "sitemap file cut short");
                    s.done = true;
                    Some((Err(e), s))
                }
            }
        })
        .boxed_local()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_controls() {
        assert_eq!(
            esc("<script>\"a\" & 'b'</script>\u{0}\u{8}"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn summaries_fold_and_cut() {
        assert_eq!(summary("  a\n\n b\tc "), "a b c");
        let long = "слово ".repeat(100);
        let s = summary(&long);
        assert!(s.chars().count() <= SUMMARY_CHARS + 1, "{s}");
        assert!(s.ends_with('…'));
        assert!(!s.contains("  "));
    }

    #[test]
    fn embedding_is_narrowed_never_widened() {
        let any = vec!["*".to_owned()];
        let news = vec!["https://news.example".to_owned()];
        let other = vec!["https://other.example".to_owned()];
        assert_eq!(ancestors(&any, None), any);
        assert_eq!(ancestors(&any, Some(&news)), news);
        assert_eq!(ancestors(&news, Some(&other)), Vec::<String>::new());
        assert_eq!(ancestors(&news, Some(&any)), Vec::<String>::new());
        assert_eq!(ancestors(&news, None), news);
        assert_eq!(ancestors(&any, Some(&[])), Vec::<String>::new());
        assert_eq!(ancestors_csp(&[]), "'none'");
    }

    #[test]
    fn oembed_urls_must_be_ours() {
        let base = "https://video.example.org";
        let id = Uuid::now_v7();
        assert_eq!(
            target(&format!("{base}/watch/{id}"), base),
            Some(Target::Video(id))
        );
        assert_eq!(
            target(&format!("{base}/watch/{id}?t=30"), base),
            Some(Target::Video(id))
        );
        assert_eq!(
            target(&format!("{base}/embed/playlist/{id}"), base),
            Some(Target::Playlist(id))
        );
        assert_eq!(
            target(&format!("https://evil.example/watch/{id}"), base),
            None
        );
        assert_eq!(target(&format!("{base}/watch/not-an-id"), base), None);
        assert_eq!(target(&format!("{base}/c/{id}"), base), None);
        assert_eq!(target("javascript:alert(1)", base), None);
        assert_eq!(
            target(&format!("{base}.evil.example/watch/{id}"), base),
            None
        );
    }

    #[test]
    fn players_keep_their_shape_within_the_asked_size() {
        assert_eq!(fit((1280, 720), None, None), (560, 315));
        assert_eq!(fit((1280, 720), Some(320), None), (320, 180));
        assert_eq!(fit((1280, 720), None, Some(90)), (160, 90));
        assert_eq!(fit((404, 720), None, None), (314, 560));
        assert_eq!(player_size(Some(1080), Some(1920)), (404, 720));
        assert_eq!(player_size(Some(10000), Some(1)), (1280, 720));
    }

    #[test]
    fn the_head_carries_the_preview() {
        let m = Meta {
            title: "Река \"Волга\" <1>".to_owned(),
            description: "d".to_owned(),
            url: "https://v.example/watch/x".to_owned(),
            kind: "video.other",
            image: Some(Image {
                url: "https://v.example/media/x/images/poster.jpg".to_owned(),
                width: Some(1280),
                height: Some(720),
            }),
            player: Some(Player {
                url: "https://v.example/embed/x".to_owned(),
                width: 1280,
                height: 720,
            }),
            duration_secs: Some(61),
            noindex: true,
            ..Meta::default()
        };
        let page = inject(
            "<html><head><title>Kadr</title></head><body></body></html>",
            &m,
            "Kadr",
        );
        assert!(page.contains("<title>Река &quot;Волга&quot; &lt;1&gt; — Kadr</title>"));
        assert!(
            page.contains(
                "<meta property=\"og:title\" content=\"Река &quot;Волга&quot; &lt;1&gt;\">"
            )
        );
        assert!(page.contains(
            "<meta property=\"og:video:secure_url\" content=\"https://v.example/embed/x\">"
        ));
        assert!(page.contains("<meta name=\"twitter:card\" content=\"player\">"));
        assert!(page.contains("<meta name=\"robots\" content=\"noindex\">"));
        assert!(page.find("og:title") < page.find("</head>"));
        assert_eq!(page.matches("<title>").count(), 1);
    }

    #[test]
    fn sitemap_entries_keep_to_their_budget() {
        let v = SitemapVideo {
            id: Uuid::now_v7(),
            title: "&".repeat(100),
            description: "وصف طويل جدا ".repeat(500),
            tags: (0..16).map(|i| format!("وسم{i}").repeat(8)).collect(),
            duration_ms: Some(61_000),
            view_count: 12,
            ready: true,
            published_at: Some(DateTime::default()),
            updated_at: DateTime::default(),
            channel_handle: "u1".to_owned(),
            channel_name: "قناة".repeat(100),
            // The longest stem a poster may have.
            poster: "custom_123456789".to_owned(),
        };
        let mut out = String::new();
        video_entry(&mut out, "https://video.example.org", &v);
        assert!(out.len() <= ENTRY_BYTES, "{} bytes", out.len());
        assert!(out.contains("<video:description>وصف"), "{out}");
        assert!(out.ends_with("</video:uploader></video:video></url>\n"));
        // Cut at characters and whole entities, never inside one.
        assert!(!out.contains("&am<") && !out.contains("&a<"));
        assert_eq!(esc_cut("a&b", 5), "a");
        assert_eq!(esc_cut("a&b", 6), "a&amp;");
        assert_eq!(esc_cut("яя", 3), "я");
    }

    #[test]
    #[allow(clippy::unwrap_used)]
    fn sitemap_files_are_written_a_few_at_a_time() {
        let held: Vec<_> = (0..SITEMAPS_AT_ONCE)
            .map(|_| sitemap_slot().unwrap())
            .collect();
        let refused = sitemap_slot().unwrap_err();
        assert_eq!(refused.code, Code::Busy);
        drop(held);
        assert!(sitemap_slot().is_ok(), "slots come back when streams end");
    }

    #[test]
    fn sitemap_file_names() {
        assert_eq!(file_name("videos-0.xml"), Some(("videos", 0)));
        assert_eq!(file_name("channels-12.xml"), Some(("channels", 12)));
        assert_eq!(file_name("pages.xml"), Some(("pages", 0)));
        for bad in [
            "videos.xml",
            "videos-.xml",
            "videos--1.xml",
            "users-1.xml",
            "videos-1",
            "videos-99999999.xml",
        ] {
            assert_eq!(file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn robots_name_the_sitemap_or_close_the_door() {
        let open = robots_txt(true, "https://v.example");
        assert!(open.contains("Sitemap: https://v.example/sitemap.xml"));
        assert!(open.contains("Disallow: /api/"));
        assert!(!open.contains("Disallow: /\n"));
        assert_eq!(robots_txt(false, "x"), "User-agent: *\nDisallow: /\n");
    }
}
