//! The admin API (`/api/v1/admin`), for a clinic's own systems with an admin credential: the
//! clinic's whole setup as one document (the clinic file of `server clinic export`, as JSON
//! or TOML), applied as a whole with the same checks, dry run and care for booked
//! appointments as `server clinic apply`; and the audit log.

use super::error::ApiError;
use super::extract::{is_json, ApiQuery};
use super::{schema, Api};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::SecondsFormat;
use serde::Deserialize;
use store::attention::{AffectedAppointment, Stranding};
use store::credentials::Facility;
use store::staff::Actor;
use store::ClinicFile;
use utoipa::IntoParams;

/// Largest clinic document accepted, in bytes: a clinic with a hundred providers fits.
pub const MAX_DOCUMENT: usize = 1024 * 1024;
/// Read to its end before refusing (see `put_clinic`).
const MAX_READ: usize = 4 * MAX_DOCUMENT;

const TOML: &str = "application/toml";

/// Whether the request's `Accept` (or `Content-Type`) names TOML.
fn wants_toml(headers: &HeaderMap, name: header::HeaderName) -> bool {
    headers.get(name).and_then(|v| v.to_str().ok()).is_some_and(|v| {
        v.split(',').any(|m| {
            let m = m.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
            m == TOML || m == "text/toml" || m == "application/x-toml"
        })
    })
}

async fn clinic_slug(api: &Api, facility: &Facility) -> Result<domain::ClinicSlug, ApiError> {
    Ok(api.store.clinic_config(facility.clinic_id).await?.slug)
}

/// The caller's clinic as a clinic document.
#[utoipa::path(get, path = "/api/v1/admin/clinic", tag = "admin",
    summary = "The clinic's whole setup as one document (JSON, or TOML with Accept: application/toml)",
    description = "Profile, booking rules, embed origins, holidays, locations, services, appointment types (products) and \
                   providers with their weekly hours, days off, extra hours and blocks, each under a stable key. What is \
                   over is left out; API keys, webhook secrets and staff are never in it. The format is the clinic file's \
                   (see the README, \"A clinic as a file\").",
    responses((status = 200, description = "the clinic document", content_type = "application/json", body = Object)))]
pub async fn get_clinic(State(api): State<Api>, Extension(facility): Extension<Facility>, headers: HeaderMap) -> Result<Response, ApiError> {
    let slug = clinic_slug(&api, &facility).await?;
    let file = api.store.export_clinic(&slug, api.clock.now()).await?;
    if wants_toml(&headers, header::ACCEPT) {
        let mut response = file.to_toml().into_response();
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/toml; charset=utf-8"));
        return Ok(response);
    }
    Ok(Json(file).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ApplyQuery {
    /// List the changes and the booked appointments they would strand; change nothing.
    #[serde(default)]
    dry_run: bool,
    /// Apply even when booked appointments would fall outside the new rules: they stay booked
    /// and are flagged for staff.
    #[serde(default)]
    keep_booked: bool,
}

fn stranded_view(a: &AffectedAppointment) -> schema::StrandedAppointment {
    schema::StrandedAppointment {
        id: a.appointment_id.to_string(),
        start: a.start.with_timezone(&a.time_zone).to_rfc3339_opts(SecondsFormat::Secs, true),
        end: a.end.with_timezone(&a.time_zone).to_rfc3339_opts(SecondsFormat::Secs, true),
        time_zone: a.time_zone.name().to_owned(),
        calendar_id: a.provider_id.to_string(),
        provider: a.provider_name.clone(),
        appointment_type: a.what.clone(),
        patient: a.patient.clone(),
        reason: a.reason.code().to_owned(),
    }
}

/// Makes the caller's clinic match a clinic document.
#[utoipa::path(put, path = "/api/v1/admin/clinic", tag = "admin", params(ApplyQuery),
    summary = "Applies a clinic document: creates what is new, changes what differs, archives what it leaves out",
    description = "Send the document as GET returns it (application/json, or application/toml). Its slug must be the \
                   credential's clinic. Every value is checked before anything is written; a refusal names the entry \
                   and key in details.field (e.g. providers.berg.hours[1].end). Applying the same document again changes \
                   nothing. When the document would leave booked appointments outside the rules, nothing is changed and \
                   the answer is 409 would_strand listing them, unless keepBooked=true.",
    request_body(content = Object, description = "the clinic document", content_type = "application/json"),
    responses(
        (status = 200, body = schema::ApplyResult),
        (status = 409, description = "would_strand: booked appointments would fall outside the rules; details.appointments lists them", body = schema::ErrorBody),
        (status = 415, description = "neither JSON nor TOML", body = schema::ErrorBody),
    ))]
pub async fn put_clinic(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    ApiQuery(q): ApiQuery<ApplyQuery>,
    request: axum::extract::Request,
) -> Result<Json<schema::ApplyResult>, ApiError> {
    let headers = request.headers().clone();
    // Read here rather than by an extractor: a whole clinic is larger than any booking
    // request (`super::MAX_BODY`). A somewhat larger body is read to its end before it is
    // refused, so that the client, still sending, gets the 413 instead of a reset
    // connection; beyond `MAX_READ` the connection is simply closed.
    let too_large = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body_too_large", format!("the document may be at most {MAX_DOCUMENT} bytes"));
    let body: Bytes = axum::body::to_bytes(request.into_body(), MAX_READ).await.map_err(|_| too_large())?;
    if body.len() > MAX_DOCUMENT {
        return Err(too_large());
    }
    let file = if wants_toml(&headers, header::CONTENT_TYPE) {
        let text = std::str::from_utf8(&body).map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "unreadable_body", "the TOML is not UTF-8"))?;
        // Syntax, a misspelt key and a wrong type alike: the message names the line.
        ClinicFile::parse(text).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", e.to_string()))?
    } else {
        if !is_json(&headers) {
            return Err(ApiError::new(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "send the document as application/json or application/toml"));
        }
        serde_json::from_slice::<ClinicFile>(&body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", e.to_string()),
            _ => ApiError::new(StatusCode::BAD_REQUEST, "malformed_json", e.to_string()),
        })?
    };
    let slug = clinic_slug(&api, &facility).await?;
    if file.slug.trim() != slug.as_str() {
        return Err(ApiError::invalid("slug", format!("must be this credential's clinic, {:?}: a credential configures its own clinic only", slug.as_str())));
    }
    let now = api.clock.now();
    if q.dry_run {
        let plan = api.store.plan_clinic_file(&file, now).await?;
        let stranded = plan.stranded.iter().map(stranded_view).collect();
        return Ok(Json(schema::ApplyResult { dry_run: true, changes: plan.changes, stranded, flagged: Vec::new() }));
    }
    let stranding = if q.keep_booked { Stranding::Flag } else { Stranding::Refuse };
    let applied = match api.store.apply_clinic_file(&file, None, &Actor::api(&facility.username), stranding, now).await {
        // Refused before anything was written: list whom the document would strand.
        Err(store::StoreError::WouldStrand(_)) => {
            let plan = api.store.plan_clinic_file(&file, now).await?;
            return Err(would_strand(plan.stranded.iter().map(stranded_view).collect()));
        }
        other => other?,
    };
    Ok(Json(schema::ApplyResult {
        dry_run: false,
        changes: applied.changes,
        stranded: Vec::new(),
        flagged: applied.flagged.iter().map(|id| id.to_string()).collect(),
    }))
}

fn would_strand(stranded: Vec<schema::StrandedAppointment>) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "would_strand",
        format!("{} booked appointment(s) would fall outside the new rules; nothing was changed. Send keepBooked=true to keep them booked and flag them for staff", stranded.len()),
    )
    .with_details(serde_json::json!({ "appointments": stranded }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// The newest entries, 1 to 500 (default 100).
    limit: Option<i64>,
}

/// The clinic's audit log, newest first.
#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", params(AuditQuery),
    summary = "Every configuration change: who, when, what",
    responses((status = 200, body = schema::AuditLog)))]
pub async fn audit(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<schema::AuditLog>, ApiError> {
    let limit = q.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be from 1 to 500"));
    }
    let entries = api.store.audit_log(facility.clinic_id, limit).await?;
    Ok(Json(schema::AuditLog {
        entries: entries
            .into_iter()
            .map(|e| schema::AuditRecord {
                id: e.id.to_string(),
                at: e.at.to_rfc3339_opts(SecondsFormat::Secs, true),
                actor: e.actor,
                action: e.action,
                detail: e.detail,
            })
            .collect(),
    }))
}
