//! RFC 7807 `application/problem+json` errors with stable codes.

use actix_web::body::{BoxBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::middleware::Next;
use actix_web::{HttpResponse, ResponseError};
use kadr_core::error::{DbErr, db_unavailable};
use kadr_core::locale::Locale;
use kadr_core::{Code, DomainError};
use serde::Serialize;

/// The JSON body of every error answer.
#[derive(Debug, Clone, Serialize)]
pub struct Problem {
    /// A URI naming the problem type: `urn:kadr:problem:<code>`.
    #[serde(rename = "type")]
    pub type_uri: String,
    pub title: String,
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// A stable machine-readable code such as `not_found` or `invalid_body`.
    pub code: String,
    /// The request field at fault, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The request's id, also in its `X-Request-Id` header and in the server's log lines:
    /// quote it when reporting a problem.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
}

/// An error answer: a status, a stable code and words for people.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{status} {code}: {title}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Code,
    pub title: String,
    pub detail: Option<String>,
    pub field: Option<String>,
    /// Seconds to wait before trying again (`Retry-After`), for 429 and 503.
    pub retry_after: Option<u64>,
}

impl ApiError {
    /// An answer with `code`, at the status the code comes with.
    pub fn new(code: Code, title: impl Into<String>) -> ApiError {
        let status =
            StatusCode::from_u16(code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        ApiError::with_status(status, code, title)
    }

    /// An answer with `code` at another status than its usual one (documented with the code).
    pub fn with_status(status: StatusCode, code: Code, title: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            title: title.into(),
            detail: None,
            field: None,
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, secs: u64) -> ApiError {
        self.retry_after = Some(secs);
        self
    }

    pub fn detail(mut self, detail: impl Into<String>) -> ApiError {
        self.detail = Some(detail.into());
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    pub fn not_found() -> ApiError {
        ApiError::new(Code::NotFound, "Not found")
    }

    pub fn bad_request(code: Code, title: impl Into<String>) -> ApiError {
        ApiError::new(code, title)
    }

    /// A dependency (database, storage) failed or is too slow: logged here with its cause,
    /// answered without it (no addresses, paths, SQL or S3 messages reach callers).
    pub fn unavailable(cause: impl Into<String>) -> ApiError {
        tracing::warn!(error = %cause.into(), "unavailable");
        ApiError::new(Code::Unavailable, "Service unavailable")
            .detail("A service Kadr depends on did not answer; try again shortly")
            .retry_after(5)
    }

    /// An unexpected failure: logged here with its cause, answered without internals.
    pub fn internal(cause: &dyn std::fmt::Display) -> ApiError {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(Code::Internal, "Internal server error")
    }

    /// The same answer for a person reading `locale`: the code's title in that language (the
    /// handler's own English words move to `detail` when it has none). English is as written.
    pub fn localized(&self, locale: Locale) -> ApiError {
        let mut out = self.clone();
        if locale != Locale::En {
            out.title = kadr_core::locale::code_title(self.code, locale).to_owned();
            if out.detail.is_none() {
                out.detail = Some(self.title.clone());
            }
        }
        out
    }

    pub fn problem(&self) -> Problem {
        Problem {
            type_uri: format!("urn:kadr:problem:{}", self.code),
            title: self.title.clone(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_owned(),
            field: self.field.clone(),
            request_id: crate::guard::request_id(),
        }
    }
}

/// A domain refusal keeps its code and words; a database failure is `unavailable` (logged
/// with its cause); anything else is `internal`.
impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> ApiError {
        match e {
            DomainError::Refused(r) => {
                let mut api = ApiError::new(r.code, r.title);
                api.detail = r.detail;
                api.field = r.field;
                api.retry_after = r.retry_after;
                api
            }
            DomainError::NotFound => ApiError::not_found(),
            DomainError::Db(e) => e.into(),
            DomainError::Internal(e) => ApiError::internal(&e),
        }
    }
}

/// A database that does not answer is `unavailable` (503, try again); any other database error
/// is ours (`internal`, 500). Both are logged with their cause and answered without it.
impl From<DbErr> for ApiError {
    fn from(e: DbErr) -> ApiError {
        if db_unavailable(&e) {
            ApiError::unavailable(e.to_string())
        } else {
            ApiError::internal(&e)
        }
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.status
    }

    fn error_response(&self) -> HttpResponse {
        let mut res = HttpResponse::build(self.status);
        res.content_type("application/problem+json")
            .insert_header(("Cache-Control", "no-store"));
        if let Some(secs) = self.retry_after {
            res.insert_header(("Retry-After", secs.to_string()));
        }
        res.json(self.problem())
    }
}

/// The language a client reads, from its `Accept-Language` (English when none of ours fits).
pub fn client_locale(req: &ServiceRequest) -> Locale {
    req.headers()
        .get(actix_web::http::header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Locale::negotiate)
        .unwrap_or_default()
}

/// Answers problems in the client's language (`Accept-Language`: English, Russian or Arabic),
/// with `Content-Language` saying which. Codes, fields and details stay as they are.
pub async fn localize(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<BoxBody>, actix_web::Error> {
    let locale = client_locale(&req);
    let res = match next.call(req).await {
        Ok(res) => res,
        Err(e) => {
            return Err(match e.as_error::<ApiError>() {
                Some(api) if locale != Locale::En => api.localized(locale).into(),
                _ => e,
            });
        }
    };
    if locale == Locale::En {
        return Ok(res.map_into_boxed_body());
    }
    let localized = res
        .response()
        .error()
        .and_then(|e| e.as_error::<ApiError>())
        .map(|api| api.localized(locale));
    Ok(match localized {
        Some(api) => {
            let mut answer = api.error_response();
            if let Ok(v) = HeaderValue::from_str(locale.as_str()) {
                answer
                    .headers_mut()
                    .insert(actix_web::http::header::CONTENT_LANGUAGE, v);
            }
            res.into_response(answer)
        }
        None => res.map_into_boxed_body(),
    })
}

/// Turns actix's own extractor failures (bad JSON, bad path, bad query) into problems that
/// name the field where the parser can tell.
pub fn json_error_handler(
    err: actix_web::error::JsonPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    use actix_web::error::JsonPayloadError as E;
    let api = match &err {
        E::ContentType => ApiError::new(
            Code::UnsupportedMediaType,
            "Expected Content-Type: application/json",
        ),
        E::Overflow { .. } | E::OverflowKnownLength { .. } => {
            ApiError::new(Code::BodyTooLarge, "Request body too large")
        }
        E::Deserialize(e) => {
            let mut api = ApiError::bad_request(Code::InvalidBody, "Malformed JSON body")
                .detail(e.to_string());
            if let Some(field) = field_from_serde(&e.to_string()) {
                api = api.field(field);
            }
            api
        }
        other => ApiError::bad_request(Code::InvalidBody, "Malformed request body")
            .detail(other.to_string()),
    };
    actix_web::error::InternalError::from_response(err, api.error_response()).into()
}

/// serde names the field in messages like "missing field `title`" or "unknown field `x`".
fn field_from_serde(message: &str) -> Option<String> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(message[start..start + len].to_owned())
}

pub fn query_error_handler(
    err: actix_web::error::QueryPayloadError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    let api =
        ApiError::bad_request(Code::InvalidQuery, "Malformed query string").detail(err.to_string());
    actix_web::error::InternalError::from_response(err, api.error_response()).into()
}

pub fn path_error_handler(
    err: actix_web::error::PathError,
    _req: &actix_web::HttpRequest,
) -> actix_web::Error {
    // A path segment that does not parse (say, a malformed id) names nothing that exists.
    let api = ApiError::not_found().detail(err.to_string());
    actix_web::error::InternalError::from_response(err, api.error_response()).into()
}

/// The answer for routes that do not exist.
pub async fn not_found_route() -> HttpResponse {
    ApiError::not_found()
        .detail("no such route")
        .error_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_is_taken_from_serde_messages() {
        assert_eq!(
            field_from_serde("missing field `title` at line 1"),
            Some("title".to_owned())
        );
        assert_eq!(field_from_serde("expected value"), None);
    }
}
