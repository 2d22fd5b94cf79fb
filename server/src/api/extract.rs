//! Request extractors that answer bad input in the API's error shape: malformed JSON is 400,
//! wrong types and unknown fields 422, oversize bodies 413, a malformed query string 400.

use super::error::ApiError;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// Whether the request's `Content-Type` is JSON (parameters such as `charset` aside).
pub fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(';').next().is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json")))
}

/// A JSON body, with the raw bytes kept for the idempotency fingerprint.
pub struct ApiJson<T> {
    pub value: T,
    pub raw: axum::body::Bytes,
}

/// The body's bytes, or the API's 413 / 400.
async fn body_bytes<S: Send + Sync>(req: Request, state: &S) -> Result<axum::body::Bytes, ApiError> {
    axum::body::Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("the body may be at most {} bytes", super::MAX_BODY))
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", e.body_text())
        }
    })
}

fn from_json<T: DeserializeOwned>(raw: &[u8]) -> Result<T, ApiError> {
    axum::Json::<T>::from_bytes(raw).map(|v| v.0).map_err(|e| match e {
        JsonRejection::JsonSyntaxError(e) => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.body_text()),
        JsonRejection::JsonDataError(e) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", e.body_text()),
        other => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", other.body_text()),
    })
}

fn not_json() -> ApiError {
    ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send the body as application/json")
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if !is_json(req.headers()) {
            return Err(not_json());
        }
        let raw = body_bytes(req, state).await?;
        Ok(ApiJson { value: from_json(&raw)?, raw })
    }
}

/// An optional JSON body, for requests whose every field is optional: no body at all (with
/// or without a content type) is the default, and a JSON body is read whatever its declared
/// type, since vendors' clients send `PUT .../cancel` bare or with `text/plain`.
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let declared_json = is_json(req.headers());
        let raw = body_bytes(req, state).await?;
        if raw.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        match from_json(&raw) {
            Ok(value) => Ok(OptionalJson(value)),
            // Something that is not JSON, declared as something else: say what we read.
            Err(_) if !declared_json && serde_json::from_slice::<serde_json::Value>(&raw).is_err() => Err(not_json()),
            Err(e) => Err(e),
        }
    }
}

/// A query string; unknown parameters are refused, so a misspelt filter is not silently
/// ignored.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e: QueryRejection| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))
    }
}

/// An id in a path: anything that is not one of ours is simply not found.
pub fn path_id(raw: &str, what: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| ApiError::not_found(what))
}

/// An id in a query or body, given as a string of digits (as the API returns ids) or a number.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum IdInput {
    Number(i64),
    Text(String),
}

impl IdInput {
    pub fn parse(&self, field: &str) -> Result<i64, ApiError> {
        let id = match self {
            IdInput::Number(n) => Some(*n),
            IdInput::Text(t) => t.trim().parse::<i64>().ok(),
        };
        id.filter(|id| *id > 0).ok_or_else(|| ApiError::invalid(field, "must be an id such as \"12\""))
    }

    /// Whether this is the word `word` (any case) rather than an id.
    pub fn is_word(&self, word: &str) -> bool {
        matches!(self, IdInput::Text(t) if t.trim().eq_ignore_ascii_case(word))
    }
}
