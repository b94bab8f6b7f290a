//! Prometheus metrics: request counts and latency histograms by route, and `/metrics`.

use std::sync::LazyLock;
use std::time::Instant;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::Next;
use actix_web::{HttpMessage, HttpResponse, web};
use kadr_runtime::metrics::registry;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, Opts, TextEncoder};

struct HttpMetrics {
    requests: IntCounterVec,
    latency: HistogramVec,
}

fn http_metrics() -> Option<&'static HttpMetrics> {
    static METRICS: LazyLock<Option<HttpMetrics>> = LazyLock::new(|| {
        let requests = IntCounterVec::new(
            Opts::new(
                "http_requests_total",
                "HTTP requests by route, method and status",
            ),
            &["route", "method", "status"],
        )
        .ok()?;
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "http_request_duration_seconds",
                "HTTP request latency by route",
            )
            .buckets(vec![
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                10.0,
            ]),
            &["route", "method"],
        )
        .ok()?;
        registry().register(Box::new(requests.clone())).ok()?;
        registry().register(Box::new(latency.clone())).ok()?;
        Some(HttpMetrics { requests, latency })
    });
    METRICS.as_ref()
}

/// The route pattern of a request, found once by the request guard.
#[derive(Debug, Clone)]
pub struct Route(pub String);

/// Middleware recording each request under its route pattern (never the raw path, which
/// would make a series per video).
pub async fn record(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = Instant::now();
    let known = req.extensions().get::<Route>().map(|r| r.0.clone());
    let route = known
        .or_else(|| req.match_pattern())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = method_label(req.method()).to_owned();
    let res = next.call(req).await;
    if let Some(m) = http_metrics() {
        let status = match &res {
            Ok(r) => r.status().as_u16(),
            Err(e) => e.as_response_error().status_code().as_u16(),
        };
        m.requests
            .with_label_values(&[route.as_str(), method.as_str(), status.to_string().as_str()])
            .inc();
        m.latency
            .with_label_values(&[route.as_str(), method.as_str()])
            .observe(started.elapsed().as_secs_f64());
    }
    res
}

/// The method as a label: the standard ones by name, anything a client invents as `OTHER`, so
/// the label set stays bounded.
pub fn method_label(m: &actix_web::http::Method) -> &'static str {
    use actix_web::http::Method;
    match *m {
        Method::GET => "GET",
        Method::HEAD => "HEAD",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// `GET /metrics` in the Prometheus text format.
pub async fn handler() -> HttpResponse {
    let mut buf = Vec::new();
    match TextEncoder::new().encode(&registry().gather(), &mut buf) {
        Ok(()) => HttpResponse::Ok()
            .content_type("text/plain; version=0.0.4; charset=utf-8")
            .body(buf),
        Err(e) => HttpResponse::InternalServerError().body(e.to_string()),
    }
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/metrics", web::get().to(handler));
}
