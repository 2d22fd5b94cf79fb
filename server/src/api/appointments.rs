//! Appointments: book, list, read, reschedule, cancel; and key rotation. Every write goes
//! through the same engine as the widget and the voice bot (same conflicts, cutoffs, events).

use super::catalogue::{calendar, catalogue_of, iso, parse_date, patient_out};
use super::error::ApiError;
use super::extract::{path_id, ApiJson, ApiQuery, IdInput, OptionalJson};
use super::{covers, schema, Api};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::{Extension, Json};
use chrono::{DateTime, Duration, Utc};
use domain::appointment::{AppointmentStatus, BookingSource};
use domain::patient::{PatientField, PersonDetails};
use domain::SlotId;
use serde::Deserialize;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use store::credentials::Facility;
use store::{AppointmentView, AvailabilityRequest, PatientQuery, PatientRef, SlotBooking, StoreError};

/// Longest cancellation reason or booking note.
pub const MAX_REASON: usize = 500;
/// Longest `Idempotency-Key`.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;
/// How many free times a "slot taken" answer suggests.
const ALTERNATIVES: usize = 5;

pub(super) fn appointment_out(a: &AppointmentView, patient: Option<&store::PatientView>) -> schema::Appointment {
    schema::Appointment {
        appointment_id: a.id.to_string(),
        status: a.status.as_str().to_owned(),
        token_number: a.token_number,
        queue_number: a.queue_number,
        start: iso(a.start, a.tz),
        end: iso(a.end, a.tz),
        time_zone: a.tz.name().to_owned(),
        calendar_id: a.provider_id.to_string(),
        calendar_name: a.provider_name.clone(),
        appointment_type_id: a.product_id.map(|p| p.to_string()),
        appointment_type_name: a.product_name.clone().unwrap_or_else(|| a.service_name.clone()),
        location: schema::Location { id: a.location_id.to_string(), name: a.location_name.clone(), address: a.address.clone(), time_zone: None },
        patient_id: patient.and_then(|p| p.registered.then(|| p.id.to_string())),
        temporary_patient_id: patient.and_then(|p| p.temporary_id.clone()),
        patient: patient.map(patient_out),
        cancellation_reason: a.cancellation_reason.clone(),
        replayed: None,
    }
}

/// The appointment `id` if this facility may see it.
pub(super) async fn visible(api: &Api, facility: &Facility, id: i64) -> Result<AppointmentView, ApiError> {
    match api.store.appointment_view(id).await {
        Ok(a) if a.clinic.id == facility.clinic_id && covers(facility, a.location_id) => Ok(a),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(ApiError::not_found("appointment")),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn with_patient(api: &Api, facility: &Facility, a: AppointmentView) -> Result<schema::Appointment, ApiError> {
    let patient = match a.booker_id {
        Some(id) => Some(api.store.patient(facility.clinic_id, PatientRef::Id(id)).await?),
        None => None,
    };
    Ok(appointment_out(&a, patient.as_ref()))
}

/// Whether `slot`'s start is free for a patient the clinic knows (at the usual length).
async fn offered_to_known_patients(api: &Api, clinic_id: i64, slot: &SlotId) -> bool {
    let request = AvailabilityRequest {
        clinic_id,
        location_id: slot.location_id,
        product_id: slot.product_id,
        provider_id: Some(slot.provider_id),
        from: (slot.start - Duration::days(1)).date_naive(),
        to: (slot.start + Duration::days(1)).date_naive(),
        new_patient: false,
        now: api.clock.now(),
    };
    let Ok(found) = api.store.availability(&request).await else { return false };
    found.providers.iter().flat_map(|p| &p.slots).any(|s| s.id.start == slot.start && s.id.provider_id == slot.provider_id)
}

/// The nearest free times of the same calendar and type, for a 409.
async fn alternatives(api: &Api, clinic_id: i64, slot: &SlotId, new_patient: bool) -> Vec<schema::FreeSlot> {
    let now = api.clock.now();
    let from = (slot.start - Duration::days(1)).date_naive().max(now.date_naive());
    let request = AvailabilityRequest {
        clinic_id,
        location_id: slot.location_id,
        product_id: slot.product_id,
        provider_id: Some(slot.provider_id),
        from,
        to: from + Duration::days(14),
        new_patient,
        now,
    };
    let Ok(found) = api.store.availability(&request).await else { return Vec::new() };
    let mut slots: Vec<_> = found.providers.iter().flat_map(|p| &p.slots).filter(|s| s.id != *slot).collect();
    slots.sort_by_key(|s| (s.interval.start - slot.start).num_seconds().abs());
    slots
        .into_iter()
        .take(ALTERNATIVES)
        .map(|s| schema::FreeSlot { slot_id: s.id.encode(), calendar_id: s.id.provider_id.to_string(), start: iso(s.interval.start, found.tz), end: iso(s.interval.end, found.tz) })
        .collect()
}

/// A slot that cannot be booked (taken, or no longer offered, or too short for a new
/// patient's first visit): 409 with the nearest times this patient can book instead. The
/// message names the first-visit length only when that is the cause, that is when a known
/// patient could still book this time: the loser of a race is told the time was taken, so
/// that a bot does not go looking for the wrong cause.
pub(super) async fn taken(api: &Api, clinic_id: i64, slot: &SlotId, new_patient: bool) -> ApiError {
    let message = if new_patient && offered_to_known_patients(api, clinic_id, slot).await {
        "this time is not available for a new patient (first visits may take longer: ask availability with new_patient=true); here are the nearest free times"
    } else {
        "this time is no longer available: someone else may just have booked it; here are the nearest free times"
    };
    ApiError::new(StatusCode::CONFLICT, "slot_taken", message)
        .with_details(json!({ "alternatives": alternatives(api, clinic_id, slot, new_patient).await }))
}

/// A slot named by id, or by calendar, appointment type and start.
/// The bodies of the bot API take the camelCase names it answers with and the snake_case
/// ones its query parameters use (`calendar_id`), and ignore fields they do not know: a
/// vendor's bot sends what its other integrations send, and will not adapt to us.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SlotChoice {
    #[serde(alias = "slot_id")]
    slot_id: Option<String>,
    #[serde(alias = "calendar_id")]
    calendar_id: Option<IdInput>,
    #[serde(alias = "appointment_type_id")]
    appointment_type_id: Option<IdInput>,
    #[serde(alias = "start_time", alias = "startTime", alias = "datetime")]
    start: Option<String>,
}

async fn chosen_slot(api: &Api, facility: &Facility, c: &SlotChoice) -> Result<SlotId, ApiError> {
    let slot = match (&c.slot_id, &c.calendar_id, &c.appointment_type_id, &c.start) {
        (Some(id), None, None, None) => SlotId::parse(id.trim()).map_err(|_| ApiError::invalid("slotId", "is not a slot id this API gave out"))?,
        (None, Some(cal), Some(kind), Some(start)) => {
            let provider_id = cal.parse("calendarId")?;
            let product_id = kind.parse("appointmentTypeId")?;
            let start = DateTime::parse_from_rfc3339(start.trim())
                .map_err(|_| ApiError::invalid("start", "must be an ISO 8601 date-time with offset, e.g. 2026-11-23T09:00:00+01:00"))?
                .with_timezone(&Utc);
            let catalogue = catalogue_of(api, facility).await?;
            let cal = calendar(&catalogue, facility, provider_id)?;
            let product = catalogue.products.iter().find(|p| p.id == product_id).ok_or_else(|| ApiError::not_found("appointment type"))?;
            SlotId {
                location_id: cal.location_id,
                provider_id,
                product_id,
                start,
                minutes: u16::try_from(product.duration_minutes).unwrap_or(0),
            }
        }
        _ => {
            return Err(ApiError::missing("give slotId, or calendarId, appointmentTypeId and start"))
        }
    };
    if !covers(facility, slot.location_id) {
        return Err(ApiError::not_found("slot"));
    }
    Ok(slot)
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewPatient {
    name: Option<String>,
    #[serde(alias = "first_name")]
    first_name: Option<String>,
    #[serde(alias = "last_name")]
    last_name: Option<String>,
    #[serde(alias = "date_of_birth", alias = "dateOfBirth", alias = "birth_date", alias = "birthDate")]
    dob: Option<String>,
    #[serde(alias = "phone_number", alias = "phoneNumber", alias = "mobile")]
    phone: Option<String>,
    email: Option<String>,
    gender: Option<String>,
    #[serde(alias = "national_id")]
    national_id: Option<String>,
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BookingRequest {
    #[serde(alias = "slot_id")]
    slot_id: Option<String>,
    #[serde(alias = "calendar_id")]
    calendar_id: Option<IdInput>,
    #[serde(alias = "appointment_type_id")]
    appointment_type_id: Option<IdInput>,
    #[serde(alias = "start_time", alias = "startTime", alias = "datetime")]
    start: Option<String>,
    #[serde(alias = "patient_id")]
    patient_id: Option<IdInput>,
    #[serde(alias = "temporary_patient_id")]
    temporary_patient_id: Option<String>,
    patient: Option<NewPatient>,
    #[serde(alias = "notes", alias = "note")]
    reason: Option<String>,
}

/// How a request names the patient: exactly one of the three.
pub(super) struct PatientChoice<'a> {
    pub patient_id: &'a Option<IdInput>,
    pub temporary_patient_id: &'a Option<String>,
    pub patient: &'a Option<NewPatient>,
}

pub const GENDERS: [&str; 4] = ["female", "male", "diverse", "unknown"];

/// The patient a booking is for: an existing one by id, or new details (an existing patient
/// with exactly the same name, birth date and phone is reused rather than duplicated, which
/// also keeps retries from creating copies).
pub(super) async fn booking_patient(
    api: &Api,
    facility: &Facility,
    who: PatientChoice<'_>,
    product_id: i64,
    location_id: i64,
) -> Result<(store::PatientView, bool), ApiError> {
    let clinic = facility.clinic_id;
    let not_found = |e: StoreError| match e {
        StoreError::NotFound(_) => ApiError::invalid("patientId", "no such patient at this facility"),
        other => other.into(),
    };
    match (who.patient_id, who.temporary_patient_id, who.patient) {
        (Some(id), None, None) => Ok((api.store.patient(clinic, PatientRef::Id(id.parse("patientId")?)).await.map_err(not_found)?, false)),
        (None, Some(t), None) => Ok((api.store.patient(clinic, PatientRef::Temporary(t.trim())).await.map_err(not_found)?, false)),
        (None, None, Some(p)) => {
            let today = domain::patient::latest_date_anywhere(api.clock.now());
            let (first, last) = match (&p.first_name, &p.last_name, &p.name) {
                (Some(f), Some(l), None) => (f.clone(), l.clone()),
                (None, None, Some(n)) => match n.trim().rsplit_once(char::is_whitespace) {
                    Some((f, l)) => (f.trim().to_owned(), l.to_owned()),
                    None => return Err(ApiError::invalid("patient.name", "give first and last name")),
                },
                _ => return Err(ApiError::invalid("patient", "give firstName and lastName, or name")),
            };
            if let Some(g) = &p.gender {
                if !GENDERS.contains(&g.as_str()) {
                    return Err(ApiError::invalid("patient.gender", format!("must be one of {}", GENDERS.join(", "))));
                }
            }
            let mut text: HashMap<PatientField, String> = HashMap::new();
            text.insert(PatientField::FirstName, first);
            text.insert(PatientField::LastName, last);
            for (field, value) in [
                (PatientField::BirthDate, &p.dob),
                (PatientField::Phone, &p.phone),
                (PatientField::Email, &p.email),
                (PatientField::NationalId, &p.national_id),
            ] {
                if let Some(v) = value {
                    text.insert(field, v.clone());
                }
            }
            let (required, _) = api.store.product_requirements(clinic, product_id).await?;
            // A number without a country code is read as the booked location's people write it.
            let region = match p.phone {
                Some(_) => api.store.phone_region(clinic, Some(location_id)).await?,
                None => None,
            };
            let details = PersonDetails::from_text(|f| text.get(&f).cloned(), &required, today, region).map_err(|(field, problem)| {
                let name = match field {
                    PatientField::BirthDate => "dob".to_owned(),
                    PatientField::NationalId => "nationalId".to_owned(),
                    PatientField::FirstName => "firstName".to_owned(),
                    PatientField::LastName => "lastName".to_owned(),
                    other => other.as_str().to_owned(),
                };
                match problem {
                    domain::patient::FieldProblem::Missing => ApiError::invalid(&format!("patient.{name}"), "is required for this appointment type"),
                    domain::patient::FieldProblem::Invalid(why) => ApiError::invalid(&format!("patient.{name}"), why),
                }
            })?;
            let same = PatientQuery {
                name: Some(format!("{} {}", text[&PatientField::FirstName], text[&PatientField::LastName])),
                birth_date: details.birth_date,
                phone: details.phone.clone(),
                ..PatientQuery::default()
            };
            let existing = api.store.find_patients(clinic, &same).await?;
            if let ([one], true) = (existing.as_slice(), details.birth_date.is_some() || details.phone.is_some()) {
                return Ok((one.clone(), false));
            }
            let created = api.store.create_patient(clinic, &details, false, api.clock.now()).await?;
            if let Some(g) = &p.gender {
                api.store.set_patient_gender(clinic, created.id, g).await?;
            }
            Ok((api.store.patient(clinic, PatientRef::Id(created.id)).await?, true))
        }
        _ => Err(ApiError::missing("give exactly one of patientId, temporaryPatientId or patient (new patient details)")),
    }
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    match headers.get("idempotency-key") {
        None => Ok(None),
        Some(v) => {
            let key = v.to_str().map_err(|_| ApiError::invalid("Idempotency-Key", "must be printable ASCII"))?.trim();
            if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY {
                return Err(ApiError::invalid("Idempotency-Key", format!("must be 1 to {MAX_IDEMPOTENCY_KEY} characters")));
            }
            Ok(Some(key.to_owned()))
        }
    }
}

pub(super) fn check_reason(reason: &Option<String>) -> Result<String, ApiError> {
    let reason = reason.as_deref().unwrap_or("").trim().to_owned();
    if reason.chars().count() > MAX_REASON {
        return Err(ApiError::invalid("reason", format!("may be at most {MAX_REASON} characters")));
    }
    Ok(reason)
}

#[utoipa::path(post, path = "/api/v1/appointments", tag = "appointments", request_body = BookingRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "the same key with the same body returns the first booking")),
    summary = "Books a slot for an existing or a new patient",
    responses(
        (status = 409, description = "the slot is taken (details.alternatives)", body = schema::ErrorBody),
        (status = 413, description = "body over 16 KiB", body = schema::ErrorBody),
        (status = 200, description = "an idempotent replay", body = schema::Appointment),
        (status = 201, body = schema::Appointment)))]
pub async fn create(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    headers: HeaderMap,
    body: ApiJson<BookingRequest>,
) -> Result<(StatusCode, Json<schema::Appointment>), ApiError> {
    let r = &body.value;
    let idempotency = idempotency_key(&headers)?.map(|key| (key, hex::encode(Sha256::digest(&body.raw))));
    let reason = check_reason(&r.reason)?;
    let choice = SlotChoice {
        slot_id: r.slot_id.clone(),
        calendar_id: r.calendar_id.clone(),
        appointment_type_id: r.appointment_type_id.clone(),
        start: r.start.clone(),
    };
    let slot = chosen_slot(&api, &facility, &choice).await?;
    let who = PatientChoice { patient_id: &r.patient_id, temporary_patient_id: &r.temporary_patient_id, patient: &r.patient };
    let (patient, new_patient) = booking_patient(&api, &facility, who, slot.product_id, slot.location_id).await?;
    let booked = api
        .store
        .book_slot(&SlotBooking {
            clinic_id: facility.clinic_id,
            slot,
            new_patient,
            booker_id: Some(patient.id),
            participant_id: Some(patient.id),
            source: BookingSource::BotApi,
            reason,
            idempotency,
            hold_token: None,
            now: api.clock.now(),
        })
        .await;
    if booked.is_err() && new_patient {
        // Nothing was booked: the patient created for this request goes too.
        api.store.forget_unbooked_patient(facility.clinic_id, patient.id).await?;
    }
    let booked = match booked {
        Ok(b) => b,
        Err(StoreError::SlotTaken | StoreError::SlotUnavailable) => return Err(taken(&api, facility.clinic_id, &slot, new_patient).await),
        Err(e) => return Err(e.into()),
    };
    let view = api.store.appointment_view(booked.appointment_id).await?;
    let mut out = with_patient(&api, &facility, view).await?;
    out.replayed = Some(booked.replayed);
    let status = if booked.replayed { StatusCode::OK } else { StatusCode::CREATED };
    Ok((status, Json(out)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ListQuery {
    patient_id: Option<IdInput>,
    temporary_patient_id: Option<String>,
    status: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// Most appointments one list returns.
const MAX_LIST: i64 = 200;

#[utoipa::path(get, path = "/api/v1/appointments", tag = "appointments", params(ListQuery),
    summary = "A patient's appointments",
    responses(
        (status = 200, body = schema::AppointmentList)))]
pub async fn list(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<schema::AppointmentList>, ApiError> {
    let who = match (&q.patient_id, &q.temporary_patient_id) {
        (Some(id), None) => PatientRef::Id(id.parse("patientId")?),
        (None, Some(t)) => PatientRef::Temporary(t.trim()),
        _ => return Err(ApiError::missing("give patientId or temporaryPatientId")),
    };
    let status = q
        .status
        .as_deref()
        .map(|s| AppointmentStatus::parse(s).map_err(|_| ApiError::invalid("status", "is not an appointment status")))
        .transpose()?;
    let day_start = |field: &str, raw: &str| -> Result<DateTime<Utc>, ApiError> {
        Ok(parse_date(field, raw)?.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc())
    };
    let from = q.from.as_deref().map(|f| day_start("from", f)).transpose()?;
    let to = q.to.as_deref().map(|t| day_start("to", t).map(|d| d + Duration::days(1))).transpose()?;
    let patient = api.store.patient(facility.clinic_id, who).await?;
    let ids = api.store.appointments_of_patient(facility.clinic_id, patient.id, status, from, to, MAX_LIST).await?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let a = api.store.appointment_view(id).await?;
        if covers(&facility, a.location_id) {
            out.push(appointment_out(&a, Some(&patient)));
        }
    }
    Ok(Json(schema::AppointmentList { appointments: out }))
}

#[utoipa::path(get, path = "/api/v1/appointments/{id}", tag = "appointments", params(("id" = String, Path)),
    summary = "One appointment",
    responses(
        (status = 200, body = schema::Appointment)))]
pub async fn one(State(api): State<Api>, Extension(facility): Extension<Facility>, Path(id): Path<String>) -> Result<Json<schema::Appointment>, ApiError> {
    let a = visible(&api, &facility, path_id(&id, "appointment")?).await?;
    Ok(Json(with_patient(&api, &facility, a).await?))
}

#[utoipa::path(put, path = "/api/v1/appointments/{id}/reschedule", tag = "appointments", params(("id" = String, Path)),
    request_body = SlotChoice, summary = "Moves an appointment to another slot (same location and type)",
    responses(
        (status = 409, description = "the slot is taken (details.alternatives)", body = schema::ErrorBody),
        (status = 200, body = schema::Appointment)))]
pub async fn reschedule(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    Path(id): Path<String>,
    body: ApiJson<SlotChoice>,
) -> Result<Json<schema::Appointment>, ApiError> {
    let current = visible(&api, &facility, path_id(&id, "appointment")?).await?;
    let slot = chosen_slot(&api, &facility, &body.value).await?;
    match api.store.reschedule_to_slot(facility.clinic_id, current.id, slot, BookingSource::BotApi, api.clock.now()).await {
        Ok(_) => {}
        Err(StoreError::SlotTaken | StoreError::SlotUnavailable) => return Err(taken(&api, facility.clinic_id, &slot, false).await),
        Err(e) => return Err(e.into()),
    }
    let moved = api.store.appointment_view(current.id).await?;
    Ok(Json(with_patient(&api, &facility, moved).await?))
}

/// Every field is optional, and so is the body itself: the contract shows none.
#[derive(Default, Deserialize, utoipa::ToSchema)]
pub struct CancelRequest {
    #[serde(alias = "cancellation_reason", alias = "cancellationReason", alias = "note")]
    reason: Option<String>,
}

#[utoipa::path(put, path = "/api/v1/appointments/{id}/cancel", tag = "appointments", params(("id" = String, Path)),
    request_body = CancelRequest, summary = "Cancels an appointment (422 too_late inside the clinic's cutoff)",
    responses(
        (status = 409, description = "already cancelled or finished", body = schema::ErrorBody),
        (status = 200, body = schema::Appointment)))]
pub async fn cancel(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    Path(id): Path<String>,
    OptionalJson(body): OptionalJson<CancelRequest>,
) -> Result<Json<schema::Appointment>, ApiError> {
    let current = visible(&api, &facility, path_id(&id, "appointment")?).await?;
    let reason = check_reason(&body.reason)?;
    api.store.cancel_appointment(facility.clinic_id, current.id, &reason, BookingSource::BotApi, api.clock.now()).await?;
    let cancelled = api.store.appointment_view(current.id).await?;
    Ok(Json(with_patient(&api, &facility, cancelled).await?))
}
