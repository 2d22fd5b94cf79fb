//! The one error shape of the bot API: `{"error": {"code", "message", "details"}}`, with the
//! status that fits. Codes are stable strings integrators can branch on; messages are for
//! people.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Option<Value>,
    retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), details: None, retry_after: None }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn unauthorized(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", format!("{what} not found"))
    }

    /// A value that is well-formed JSON or query syntax but not acceptable.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", format!("{field}: {message}"))
            .with_details(json!({ "field": field }))
    }

    /// A request that lacks what it must give (or gives alternatives that exclude each other).
    pub fn missing(message: &str) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "missing_parameter", message)
    }

    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many requests for this facility; retry later");
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    /// Too many failed authentications from this address or for this user id.
    pub fn too_many_failures(retry_after_secs: u64) -> Self {
        let mut e = Self::new(StatusCode::TOO_MANY_REQUESTS, "rate_limited", "too many failed authentications; retry later");
        e.retry_after = Some(retry_after_secs.max(1));
        e
    }

    pub fn internal() -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the booking service failed; the request may be retried")
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}

impl std::error::Error for ApiError {}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::not_found(what),
            StoreError::SlotTaken | StoreError::SlotUnavailable => {
                ApiError::new(StatusCode::CONFLICT, "slot_taken", "this time is no longer available")
            }
            StoreError::IdempotencyMismatch => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used for a different request",
            ),
            StoreError::Rule(rule) => rule.into(),
            StoreError::ClinicFile { at, reason } => {
                let message = if at.is_empty() { reason } else { format!("{at}: {reason}") };
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with_details(json!({ "field": at }))
            }
            other => {
                tracing::error!(error = %other, "store failure in the bot API");
                ApiError::internal()
            }
        }
    }
}

impl From<domain::DomainError> for ApiError {
    fn from(e: domain::DomainError) -> Self {
        match e {
            domain::DomainError::Invalid { field: "cutoff", reason } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_late", reason)
            }
            domain::DomainError::Invalid { field: "status", reason } => {
                ApiError::new(StatusCode::CONFLICT, "invalid_status", reason)
            }
            domain::DomainError::Invalid { field, reason } => ApiError::invalid(field, reason),
            domain::DomainError::UnknownTimeZone(zone) => ApiError::invalid("timeZone", format!("unknown time zone {zone:?}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = super::schema::ErrorBody {
            error: super::schema::ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                details: self.details,
                request_id: crate::observe::request_id().map(|id| id.to_string()),
            },
        };
        let mut response = (self.status, Json(body)).into_response();
        let headers = response.headers_mut();
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"booking API\", charset=\"UTF-8\""));
        }
        if let Some(secs) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}
