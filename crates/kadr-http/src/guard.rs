//! What every response tells a stranger, and what every request may cost.
//!
//! - Security headers on every response: a Content-Security-Policy allowing scripts, styles
//!   and fonts from our own origin only, media and images also from the storage and CDN
//!   origins (plus `blob:` media and workers, which hls.js needs), `connect-src` for the API
//!   and storage origins, and `frame-ancestors 'none'`; `X-Content-Type-Options: nosniff`;
//!   `Referrer-Policy: strict-origin-when-cross-origin` (media tokens never leave in a
//!   referrer); `X-Frame-Options: DENY` for old browsers.
//! - A request id on every request: in the `X-Request-Id` header, in every log line of the
//!   request (a tracing span), and in every problem body.
//! - A cap on the requests one client address has in flight (`server.max_requests_per_address`),
//!   so one address holding many slow requests cannot take every worker.

use kadr_core::Code;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::{DefaultHeaders, Next};
use actix_web::{HttpMessage, ResponseError, web};
use kadr_config::{Config, StorageBackend};
use tracing::Instrument;

use crate::client::{address_key, client_ip};
use crate::{ApiError, AppContext};

tokio::task_local! {
    static REQUEST_ID: String;
}

/// The id of the request being handled, if any.
pub fn request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// The origin (`scheme://host[:port]`) of a URL.
fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    (!host.is_empty()).then(|| format!("{scheme}://{host}"))
}

/// Where media (segments, images) may come from besides our own origin: the S3 endpoint that
/// presigned URLs point at (the bucket's host too, without path-style addressing) and the CDN.
pub fn media_origins(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if config.storage.backend == StorageBackend::S3 {
        let s3 = &config.storage.s3;
        match s3.endpoint.as_deref().and_then(origin) {
            Some(o) if s3.path_style => out.push(o),
            Some(o) => {
                out.push(o.clone());
                if let Some((scheme, host)) = o.split_once("://") {
                    out.push(format!("{scheme}://{}.{host}", s3.bucket));
                }
            }
            None => {
                out.push(format!(
                    "https://{}.s3.{}.amazonaws.com",
                    s3.bucket, s3.region
                ));
                out.push(format!("https://s3.{}.amazonaws.com", s3.region));
            }
        }
    }
    if let Some(o) = config.storage.cdn_base_url.as_deref().and_then(origin) {
        out.push(o);
    }
    out.dedup();
    out
}

/// The Content-Security-Policy of every response.
pub fn content_security_policy(config: &Config) -> String {
    content_security_policy_framed(config, "'none'")
}

/// The Content-Security-Policy of a page that `ancestors` (a `frame-ancestors` source list)
/// may frame: the embedded player.
pub fn content_security_policy_framed(config: &Config, ancestors: &str) -> String {
    let media = media_origins(config).join(" ");
    let extra = |list: &str| {
        if list.is_empty() {
            String::new()
        } else {
            format!(" {list}")
        }
    };
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; font-src 'self'; \
         img-src 'self' data: blob:{m}; media-src 'self' blob:{m}; worker-src 'self' blob:; \
         connect-src 'self'{m}; object-src 'none'; base-uri 'self'; form-action 'self'; \
         frame-ancestors {ancestors}",
        m = extra(&media)
    )
}

/// The static security headers, added to every response that does not set its own.
pub fn security_headers(config: &Config) -> DefaultHeaders {
    let csp = content_security_policy(config);
    let mut h = DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "strict-origin-when-cross-origin"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Cross-Origin-Opener-Policy", "same-origin"));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        h = h.add((HeaderName::from_static("content-security-policy"), v));
    }
    if config
        .server
        .public_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"))
    {
        h = h.add(("Strict-Transport-Security", "max-age=31536000"));
    }
    h
}

/// Drops `X-Frame-Options: DENY` from a page whose own Content-Security-Policy lets others
/// frame it (the embedded player): browsers that know `frame-ancestors` already ignore it, and
/// the others would refuse the frame.
pub async fn framing(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut res = next.call(req).await?;
    let framable = res
        .headers()
        .get(actix_web::http::header::CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|csp| {
            csp.contains("frame-ancestors") && !csp.contains("frame-ancestors 'none'")
        });
    if framable {
        res.headers_mut()
            .remove(actix_web::http::header::X_FRAME_OPTIONS);
    }
    Ok(res)
}

/// Requests in flight per client address.
#[derive(Default)]
pub struct InFlight {
    counts: Mutex<HashMap<String, usize>>,
}

/// One request counted against its address until dropped.
struct Slot {
    table: Arc<InFlight>,
    key: String,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut counts = self.table.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = counts.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                counts.remove(&self.key);
            }
        }
    }
}

impl InFlight {
    fn enter(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<Slot> {
        let key = address_key(ip);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let n = counts.entry(key.clone()).or_insert(0);
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(Slot {
            table: Arc::clone(self),
            key,
        })
    }
}

/// Middleware: request id (header, log span, problem bodies) and the per-address cap.
pub async fn request(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let id = uuid::Uuid::new_v4().simple().to_string();
    let slot = match (
        req.app_data::<web::Data<AppContext>>(),
        req.app_data::<web::Data<Arc<InFlight>>>(),
    ) {
        (Some(ctx), Some(table)) => {
            let max = ctx.config.server.max_requests_per_address;
            match client_ip(req.request(), &ctx.proxies) {
                Some(ip) => match table.enter(ip, max) {
                    Some(slot) => Some(slot),
                    None => {
                        let res = REQUEST_ID
                            .scope(id.clone(), async {
                                ApiError::new(
                                    Code::TooManyRequests,
                                    "Too many requests from your address at once",
                                )
                                .retry_after(1)
                                .error_response()
                            })
                            .await;
                        let mut res = req.into_response(res);
                        set_id(&mut res, &id);
                        return Ok(res);
                    }
                },
                None => None,
            }
        }
        _ => None,
    };
    // The route pattern, never the raw path (ids stay out of the span's name); the caller's
    // id is recorded once a token names them.
    let route = req
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    // Matching a path against every route costs a regex walk: the metrics take it from here.
    req.extensions_mut()
        .insert(crate::metrics::Route(route.clone()));
    let span = tracing::info_span!(
        "request",
        id = %id,
        method = crate::metrics::method_label(req.method()),
        route = %route,
        user = tracing::field::Empty,
    );
    // Handlers and extractors turn their errors into answers inside this scope, so problem
    // bodies carry the id.
    let result = REQUEST_ID
        .scope(id.clone(), async move { next.call(req).await })
        .instrument(span)
        .await;
    drop(slot);
    let mut res = result?.map_into_boxed_body();
    set_id(&mut res, &id);
    Ok(res)
}

fn set_id(res: &mut ServiceResponse<BoxBody>, id: &str) {
    if let Ok(v) = HeaderValue::from_str(id) {
        res.headers_mut()
            .insert(HeaderName::from_static("x-request-id"), v);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn policy_names_the_storage_and_cdn_origins() {
        let mut c = Config::default();
        let local = content_security_policy(&c);
        assert!(local.contains("frame-ancestors 'none'"), "{local}");
        assert!(local.contains("script-src 'self';"), "{local}");
        assert!(local.contains("media-src 'self' blob:;"), "{local}");
        c.storage.backend = StorageBackend::S3;
        c.storage.s3.endpoint = Some("http://127.0.0.1:9000/".to_owned());
        c.storage.s3.path_style = true;
        c.storage.cdn_base_url = Some("https://cdn.example.org/videos".to_owned());
        let s3 = content_security_policy(&c);
        assert!(
            s3.contains("media-src 'self' blob: http://127.0.0.1:9000 https://cdn.example.org;"),
            "{s3}"
        );
        assert!(
            s3.contains("connect-src 'self' http://127.0.0.1:9000"),
            "{s3}"
        );
    }
}
