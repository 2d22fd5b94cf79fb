//! Staff actions (a staff credential, not a bot key): appointments for walk-ins and phone
//! calls, check-in with a queue number, completion, no-show, and registering a patient. These
//! are the changes bots hear about through webhooks.

use super::appointments::{booking_patient, check_reason, taken, visible, with_patient, NewPatient, PatientChoice};
use super::catalogue::{calendar, catalogue_of};
use super::error::ApiError;
use super::extract::{path_id, ApiJson, IdInput};
use super::{schema, Api};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Duration, DurationRound, Utc};
use domain::appointment::{AppointmentStatus, BookingSource};
use serde::Deserialize;
use store::credentials::Facility;
use store::{NewAppointment, PatientRef, StoreError};

/// How far in the past a staff booking may start: a walk-in entered a few minutes late.
const BACKDATE_LIMIT: Duration = Duration::minutes(15);

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StaffBooking {
    calendar_id: IdInput,
    appointment_type_id: IdInput,
    /// When absent with `walkIn`, now.
    start: Option<String>,
    #[serde(default)]
    walk_in: bool,
    patient_id: Option<IdInput>,
    temporary_patient_id: Option<String>,
    patient: Option<NewPatient>,
    reason: Option<String>,
}

/// Books any time the provider is free, inside or outside the online booking rules (notice,
/// working hours): the desk knows what it does. Overlaps are still impossible.
#[utoipa::path(post, path = "/api/v1/staff/appointments", tag = "staff", request_body = StaffBooking,
    summary = "Books a walk-in or a phone call (staff credential)",
    responses(
        (status = 409, description = "the provider is busy then", body = schema::ErrorBody),
        (status = 201, body = schema::Appointment)))]
pub async fn create(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    body: ApiJson<StaffBooking>,
) -> Result<(StatusCode, Json<schema::Appointment>), ApiError> {
    let r = &body.value;
    let now = api.clock.now();
    let reason = check_reason(&r.reason)?;
    let provider_id = r.calendar_id.parse("calendarId")?;
    let product_id = r.appointment_type_id.parse("appointmentTypeId")?;
    let start = match (&r.start, r.walk_in) {
        (Some(raw), _) => DateTime::parse_from_rfc3339(raw.trim())
            .map_err(|_| ApiError::invalid("start", "must be an ISO 8601 date-time with offset"))?
            .with_timezone(&Utc),
        (None, true) => now.duration_trunc(Duration::minutes(1)).unwrap_or(now),
        (None, false) => return Err(ApiError::invalid("start", "is required unless walkIn is true")),
    };
    if start < now - BACKDATE_LIMIT {
        return Err(ApiError::invalid("start", "lies in the past"));
    }
    let desk = DeskTime::check(&api, &facility, provider_id, product_id, start).await?;
    let who = PatientChoice { patient_id: &r.patient_id, temporary_patient_id: &r.temporary_patient_id, patient: &r.patient };
    let (patient, new_patient) = booking_patient(&api, &facility, who, product_id, desk.slot.location_id).await?;
    let booked = desk.book(&api, &facility, patient.id, reason, now).await;
    if booked.is_err() && new_patient {
        api.store.forget_unbooked_patient(facility.clinic_id, patient.id).await?;
    }
    let booked = booked?;
    let view = api.store.appointment_view(booked.appointment_id).await?;
    Ok((StatusCode::CREATED, Json(with_patient(&api, &facility, view).await?)))
}

/// A time the desk wants to book: a calendar that offers the appointment type, at a start.
pub struct DeskTime {
    slot: domain::SlotId,
    service_id: i64,
    tz: chrono_tz::Tz,
}

impl DeskTime {
    pub async fn check(api: &Api, facility: &Facility, provider_id: i64, product_id: i64, start: DateTime<Utc>) -> Result<Self, ApiError> {
        let catalogue = catalogue_of(api, facility).await?;
        let cal = calendar(&catalogue, facility, provider_id)?;
        let product = catalogue.products.iter().find(|p| p.id == product_id).ok_or_else(|| ApiError::not_found("appointment type"))?;
        let offers = catalogue
            .offers
            .iter()
            .any(|o| o.provider_id == provider_id && o.location_id == cal.location_id && o.service_id == product.service_id);
        if !offers {
            return Err(ApiError::invalid("appointmentTypeId", "this calendar does not offer this appointment type"));
        }
        let tz = catalogue.locations.iter().find(|l| l.id == cal.location_id).map(|l| l.tz).ok_or_else(|| ApiError::not_found("location"))?;
        let minutes = u16::try_from(product.duration_minutes).map_err(|_| ApiError::internal())?;
        let slot = domain::SlotId { location_id: cal.location_id, provider_id, product_id, start, minutes };
        Ok(DeskTime { slot, service_id: product.service_id, tz })
    }

    /// Books it for a patient; a busy provider is 409 with the nearest free times.
    pub async fn book(&self, api: &Api, facility: &Facility, patient_id: i64, reason: String, now: DateTime<Utc>) -> Result<store::Booked, ApiError> {
        let s = &self.slot;
        let booked = api
            .store
            .create_appointment(&NewAppointment {
                clinic_id: facility.clinic_id,
                location_id: s.location_id,
                provider_id: s.provider_id,
                service_id: self.service_id,
                product_id: Some(s.product_id),
                start: s.start,
                end: s.end(),
                tz: self.tz,
                booker_id: Some(patient_id),
                participant_id: Some(patient_id),
                source: BookingSource::Staff,
                reason,
                idempotency: None,
                consume_hold: None,
                now,
            })
            .await;
        match booked {
            Ok(b) => Ok(b),
            Err(StoreError::SlotTaken | StoreError::SlotUnavailable) => Err(taken(api, facility.clinic_id, s, false).await),
            Err(e) => Err(e.into()),
        }
    }
}

async fn move_to(api: Api, facility: Facility, id: String, to: AppointmentStatus) -> Result<Json<schema::Appointment>, ApiError> {
    let current = visible(&api, &facility, path_id(&id, "appointment")?).await?;
    api.store.change_status(facility.clinic_id, current.id, to, BookingSource::Staff, api.clock.now()).await?;
    let view = api.store.appointment_view(current.id).await?;
    Ok(Json(with_patient(&api, &facility, view).await?))
}

#[utoipa::path(post, path = "/api/v1/staff/appointments/{id}/check-in", tag = "staff", params(("id" = String, Path)),
    summary = "Checks a patient in; assigns the queue number",
    responses(
        (status = 409, description = "not possible from the current status", body = schema::ErrorBody),
        (status = 200, body = schema::Appointment)))]
pub async fn check_in(State(api): State<Api>, Extension(f): Extension<Facility>, Path(id): Path<String>) -> Result<Json<schema::Appointment>, ApiError> {
    move_to(api, f, id, AppointmentStatus::CheckedIn).await
}

#[utoipa::path(post, path = "/api/v1/staff/appointments/{id}/complete", tag = "staff", params(("id" = String, Path)),
    summary = "Marks an appointment completed",
    responses(
        (status = 409, description = "not possible from the current status", body = schema::ErrorBody),
        (status = 200, body = schema::Appointment)))]
pub async fn complete(State(api): State<Api>, Extension(f): Extension<Facility>, Path(id): Path<String>) -> Result<Json<schema::Appointment>, ApiError> {
    move_to(api, f, id, AppointmentStatus::Completed).await
}

#[utoipa::path(post, path = "/api/v1/staff/appointments/{id}/no-show", tag = "staff", params(("id" = String, Path)),
    summary = "Records a no-show (only after the start)",
    responses(
        (status = 409, description = "not possible from the current status", body = schema::ErrorBody),
        (status = 200, body = schema::Appointment)))]
pub async fn no_show(State(api): State<Api>, Extension(f): Extension<Facility>, Path(id): Path<String>) -> Result<Json<schema::Appointment>, ApiError> {
    move_to(api, f, id, AppointmentStatus::NoShow).await
}

/// What the patient was sent about an appointment: each message with its state, and for one
/// that failed, the mail server's answer.
#[utoipa::path(get, path = "/api/v1/staff/appointments/{id}/emails", tag = "staff", params(("id" = String, Path)),
    summary = "The e-mails the patient was sent about an appointment, and any that could not be delivered",
    responses((status = 200, body = schema::PatientEmails)))]
pub async fn emails(State(api): State<Api>, Extension(f): Extension<Facility>, Path(id): Path<String>) -> Result<Json<schema::PatientEmails>, ApiError> {
    let current = visible(&api, &f, path_id(&id, "appointment")?).await?;
    let log = api.store.appointment_emails(f.clinic_id, current.id).await?;
    let emails = log
        .into_iter()
        .map(|e| schema::PatientEmail {
            id: e.id.to_string(),
            kind: e.kind.as_str().to_owned(),
            recipient: e.recipient,
            state: e.state,
            attempts: e.attempts,
            at: e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            error: e.error,
        })
        .collect();
    Ok(Json(schema::PatientEmails { emails }))
}

/// Gives a patient known by a temporary id their permanent id (`patientCreated` event).
#[utoipa::path(post, path = "/api/v1/staff/patients/{id}/register", tag = "staff", params(("id" = String, Path, description = "patient id or temporary id")),
    summary = "Gives a patient with a temporary id their permanent id",
    responses(
        (status = 409, description = "already registered", body = schema::ErrorBody),
        (status = 200, body = schema::Registered)))]
pub async fn register(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    Path(who): Path<String>,
) -> Result<Json<schema::Registered>, ApiError> {
    let patient = api.store.patient(facility.clinic_id, PatientRef::parse(&who)).await?;
    api.store.register_patient(facility.clinic_id, patient.id, api.clock.now()).await.map_err(|e| match e {
        StoreError::Rule(_) => ApiError::new(StatusCode::CONFLICT, "already_registered", "this patient is already registered"),
        other => other.into(),
    })?;
    Ok(Json(schema::Registered { patient_id: patient.id.to_string(), temporary_patient_id: patient.temporary_id }))
}
