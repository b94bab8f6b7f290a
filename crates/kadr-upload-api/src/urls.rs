//! Absolute URLs and dates in the upload API's answers.

use actix_web::http::header;
use actix_web::{HttpRequest, web};
use chrono::DateTime;
use kadr_http::AppContext;
use uuid::Uuid;

/// `server.public_url` or where the server listens; never the request's `Host`.
fn base_url(req: &HttpRequest) -> String {
    match req.app_data::<web::Data<AppContext>>() {
        Some(ctx) => ctx.base_url(req),
        None => String::new(),
    }
}

/// The public URL of an upload.
pub fn upload_url(req: &HttpRequest, upload_id: Uuid) -> String {
    format!("{}/api/v1/uploads/{upload_id}", base_url(req))
}

/// The tus creation endpoint.
pub fn creation_url(req: &HttpRequest) -> String {
    format!("{}/api/v1/uploads", base_url(req))
}

pub fn http_date(t: DateTime<chrono::FixedOffset>) -> String {
    header::HttpDate::from(std::time::SystemTime::from(t)).to_string()
}
