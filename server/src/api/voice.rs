//! The voice-bot endpoint: one `POST /api/voicebot`, dispatched on `action`, speaking the
//! voice-bot vendor's contract field for field (including its `lastlame` spelling). Every
//! change goes through the same engine as the other clients: same conflicts, cutoffs,
//! events and webhooks.
//!
//! Mapping: entity = clinic (entityId is the clinic's slug, found by the sipId of the line
//! that was called); appointment type = service; product = product; agent = provider;
//! avId / slotId = our opaque slot id; bookingId = appointment id; user id = patient id. A
//! voice credential covers the clinics of its lines; anything of another clinic is 404.
//!
//! Fields the contract does not list are ignored (the bot may add its own); a missing or
//! malformed listed field is 422 naming it; an unknown action is 400 listing the actions.

use super::appointments::{taken, GENDERS};
use super::catalogue::parse_date;
use super::error::ApiError;
use super::extract::ApiJson;
use super::{schema, Api};
use axum::extract::State;
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use domain::appointment::{AppointmentStatus, BookingSource};
use domain::patient::{Email, FieldProblem, PatientField, PersonDetails, Phone, PhoneRegion};
use domain::zone::parse_zone;
use domain::{ClinicSlug, SlotId};
use serde_json::{json, Map, Value};
use store::credentials::Facility;
use store::{AvailabilityRequest, Catalogue, PatientQuery, PatientRef, PatientView, SlotBooking, StoreError};

/// Most future bookings findExistingBooking lists.
const MAX_BOOKINGS: i64 = 50;
/// Users `findExistingUser` reads out at most: more than a few means the caller should give
/// another detail, and a list is no directory of the clinic's patients.
const MAX_USERS: usize = 5;

pub const ACTIONS: [&str; 13] = [
    "getEntityForSipId",
    "getBusinessName",
    "getAppointmentTypes",
    "getAgents",
    "getProducts",
    "getAppointmentTypesWithProducts",
    "getSlots",
    "getRequiredInfo",
    "bookAppointment",
    "modifyAppointment",
    "cancelAppointment",
    "findExistingUser",
    "findExistingBooking",
];

/// The request body, with field readers that answer in the contract's names.
struct Call<'a>(&'a Map<String, Value>);

impl Call<'_> {
    /// A text field; ids may also come as numbers.
    fn text(&self, field: &'static str) -> Result<Option<String>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(ApiError::invalid(field, "must be a string")),
        }
    }

    fn required(&self, field: &'static str) -> Result<String, ApiError> {
        self.text(field)?.ok_or_else(|| ApiError::invalid(field, "is required"))
    }

    fn id(&self, field: &'static str) -> Result<i64, ApiError> {
        let raw = self.required(field)?;
        raw.parse::<i64>().ok().filter(|id| *id > 0).ok_or_else(|| ApiError::invalid(field, "is not an id this endpoint gave out"))
    }

    fn user(&self, field: &'static str) -> Result<Option<&Map<String, Value>>, ApiError> {
        match self.0.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(o)) => Ok(Some(o)),
            Some(_) => Err(ApiError::invalid(field, "must be an object (a user record)")),
        }
    }
}

/// Runs one action.
/// The voice-bot contract's single endpoint: one action per call.
#[utoipa::path(post, path = "/api/voicebot", tag = "voice", request_body = schema::VoiceCall,
    summary = "The voice-bot endpoint: one action per call (see VoiceCall); needs a voice credential",
    responses((status = 200, description = "The action's answer, in the voice-bot contract's shape"),
        (status = 409, description = "slot_taken, with alternatives", body = schema::ErrorBody)))]
pub async fn dispatch(State(api): State<Api>, Extension(f): Extension<Facility>, body: ApiJson<Value>) -> Result<Json<Value>, ApiError> {
    let Value::Object(map) = &body.value else {
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_body", "the body must be a JSON object with an action"));
    };
    let call = Call(map);
    let action = match map.get("action") {
        Some(Value::String(a)) if !a.trim().is_empty() => a.trim().to_owned(),
        Some(Value::String(_)) | None | Some(Value::Null) => return Err(ApiError::invalid("action", "is required")),
        Some(_) => return Err(ApiError::invalid("action", "must be a string")),
    };
    let answer = match action.as_str() {
        "getEntityForSipId" => entity_for_sip(&api, &f, &call).await?,
        "getBusinessName" => {
            let c = entity(&api, &f, &call).await?;
            json!({ "name": c.clinic.name })
        }
        "getAppointmentTypes" => {
            let c = entity(&api, &f, &call).await?;
            Value::Array(offered_services(&c).map(|s| json!({ "id": s.id.to_string(), "name": s.name })).collect())
        }
        "getAgents" => agents(&api, &f, &call).await?,
        "getProducts" => {
            let c = entity(&api, &f, &call).await?;
            let service = service_of(&c, call.id("appointmentTypeId")?)?;
            Value::Array(c.products.iter().filter(|p| p.service_id == service).map(product_out).collect())
        }
        "getAppointmentTypesWithProducts" => {
            let c = entity(&api, &f, &call).await?;
            Value::Array(
                offered_services(&c)
                    .map(|s| {
                        let products: Vec<Value> = c.products.iter().filter(|p| p.service_id == s.id).map(product_out).collect();
                        json!({ "id": s.id.to_string(), "name": s.name, "products": products })
                    })
                    .collect(),
            )
        }
        "getSlots" => slots(&api, &f, &call).await?,
        "getRequiredInfo" => {
            let product = call.id("productId")?;
            let c = owner_of_product(&api, &f, product).await?;
            let (booker, participant) = api.store.product_requirements(c.clinic.id, product).await?;
            let names = |fields: Vec<PatientField>| fields.into_iter().map(|f| f.as_str()).collect::<Vec<_>>();
            json!({ "bookerInfo": names(booker), "participantInfo": names(participant) })
        }
        "bookAppointment" => book(&api, &f, &call).await?,
        "modifyAppointment" => modify(&api, &f, &call).await?,
        "cancelAppointment" => cancel(&api, &f, &call).await?,
        "findExistingUser" => find_user(&api, &f, &call).await?,
        "findExistingBooking" => find_bookings(&api, &f, &call).await?,
        other => {
            return Err(ApiError::new(StatusCode::BAD_REQUEST, "unknown_action", format!("{other:?} is not an action; use one of {}", ACTIONS.join(", ")))
                .with_details(json!({ "supported": ACTIONS })))
        }
    };
    Ok(Json(answer))
}

async fn entity_for_sip(api: &Api, f: &Facility, call: &Call<'_>) -> Result<Value, ApiError> {
    let sip = call.required("sipId")?;
    let clinic = api.store.voice_line(f.credential_id, &sip).await?.ok_or_else(|| ApiError::not_found("sipId"))?;
    Ok(json!({ "entityId": api.store.clinic_by_id(clinic).await?.slug.as_str() }))
}

/// The clinic `entityId` names, if this credential covers it.
async fn entity(api: &Api, f: &Facility, call: &Call<'_>) -> Result<Catalogue, ApiError> {
    let slug = ClinicSlug::parse(&call.required("entityId")?).map_err(|_| ApiError::not_found("entity"))?;
    let clinic = match api.store.clinic_by_slug(&slug).await {
        Ok(c) => c,
        Err(StoreError::NotFound(_)) => return Err(ApiError::not_found("entity")),
        Err(e) => return Err(e.into()),
    };
    if !api.store.voice_clinics(f.credential_id).await?.contains(&clinic.id) {
        return Err(ApiError::not_found("entity"));
    }
    Ok(scoped(f, api.store.catalogue_of(clinic).await?))
}

/// What this credential may offer of a clinic: a location's credential (a branch's phone
/// line) only that location's providers and times.
fn scoped(f: &Facility, mut c: Catalogue) -> Catalogue {
    if let Some(location) = f.location_id {
        c.locations.retain(|l| l.id == location);
        c.offers.retain(|o| o.location_id == location);
    }
    c
}

/// The catalogue of the covered clinic that sells `product`.
async fn owner_of_product(api: &Api, f: &Facility, product: i64) -> Result<Catalogue, ApiError> {
    for clinic in api.store.voice_clinics(f.credential_id).await? {
        let catalogue = scoped(f, api.store.catalogue_of(api.store.clinic_by_id(clinic).await?).await?);
        if catalogue.products.iter().any(|p| p.id == product) {
            return Ok(catalogue);
        }
    }
    Err(ApiError::not_found("product"))
}

/// Services someone offers somewhere: what a caller can book.
fn offered_services(c: &Catalogue) -> impl Iterator<Item = &store::ServiceOption> {
    c.services.iter().filter(|s| c.offers.iter().any(|o| o.service_id == s.id))
}

fn service_of(c: &Catalogue, service: i64) -> Result<i64, ApiError> {
    offered_services(c).find(|s| s.id == service).map(|s| s.id).ok_or_else(|| ApiError::not_found("appointment type"))
}

/// Prices are stored in cents; the contract shows whole currency units (45, or 45.5).
fn product_out(p: &store::ProductOption) -> Value {
    let price = if p.price_cents % 100 == 0 { json!(p.price_cents / 100) } else { json!(p.price_cents as f64 / 100.0) };
    json!({ "id": p.id.to_string(), "name": p.name, "duration": p.duration_minutes, "description": p.description, "price": price })
}

async fn agents(api: &Api, f: &Facility, call: &Call<'_>) -> Result<Value, ApiError> {
    let c = entity(api, f, call).await?;
    let service = service_of(&c, call.id("appointmentTypeId")?)?;
    let offering: Vec<i64> = c.offers.iter().filter(|o| o.service_id == service).map(|o| o.provider_id).collect();
    let agents = api.store.agents(c.clinic.id).await?;
    Ok(Value::Array(
        agents
            .iter()
            .filter(|a| offering.contains(&a.id))
            .map(|a| {
                // "Dr. Anna Weber": the title is said apart, the rest is first and last name.
                let name = a.display_name.strip_prefix(a.title.as_str()).unwrap_or(&a.display_name).trim();
                let (first, last) = name.rsplit_once(' ').unwrap_or(("", name));
                json!({ "id": a.id.to_string(), "gender": a.gender, "firstname": first.trim(), "lastname": last })
            })
            .collect(),
    ))
}

/// `2024-09-16T08:00:00.000+02:00`, the contract's format.
fn contract_time(at: DateTime<Utc>, tz: Tz) -> String {
    at.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

fn parse_instant(field: &'static str, raw: &str) -> Result<DateTime<Utc>, ApiError> {
    DateTime::parse_from_rfc3339(raw)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::invalid(field, "must be an ISO 8601 date-time with offset, e.g. 2024-09-16T08:30:00.000+02:00"))
}

async fn slots(api: &Api, f: &Facility, call: &Call<'_>) -> Result<Value, ApiError> {
    let product_id = call.id("productId")?;
    let service = call.id("appointmentTypeId")?;
    let agent = match call.text("agentId")? {
        None => None,
        Some(_) => Some(call.id("agentId")?),
    };
    let raw = call.required("dateTime")?;
    let c = owner_of_product(api, f, product_id).await?;
    let product = c.products.iter().find(|p| p.id == product_id).ok_or_else(|| ApiError::not_found("product"))?;
    if product.service_id != service {
        return Err(ApiError::invalid("productId", "is not a product of this appointment type"));
    }
    let offers: Vec<_> = c.offers.iter().filter(|o| o.service_id == service && agent.is_none_or(|a| o.provider_id == a)).collect();
    if agent.is_some() && offers.is_empty() {
        return Err(ApiError::invalid("agentId", "does not offer this appointment type"));
    }
    let mut locations: Vec<i64> = offers.iter().map(|o| o.location_id).collect();
    locations.sort_unstable();
    locations.dedup();
    // The answer's zone: the one asked for, else the (first) location's.
    let zone = match call.text("timezone")? {
        Some(name) => parse_zone(&name).map_err(|_| ApiError::invalid("timezone", format!("{name:?} is not an IANA time zone such as Europe/Berlin")))?,
        None => c.locations.iter().find(|l| locations.contains(&l.id)).map(|l| l.tz).unwrap_or(Tz::UTC),
    };
    let (day, not_before) = if raw.len() == 10 {
        (parse_date("dateTime", &raw)?, None)
    } else {
        let at = parse_instant("dateTime", &raw)?;
        (at.with_timezone(&zone).date_naive(), Some(at))
    };
    let mut found = Vec::new();
    for location in locations {
        let request = AvailabilityRequest {
            clinic_id: c.clinic.id,
            location_id: location,
            product_id,
            provider_id: agent,
            // The asked day in the asked zone may straddle two of the location's days.
            from: day - Duration::days(1),
            to: day + Duration::days(1),
            new_patient: false,
            now: api.clock.now(),
        };
        // Whether the caller is new is known only at booking: offer what fits anyone.
        let available = api.store.availability_for_anyone(&request).await?;
        for slot in available.providers.into_iter().flat_map(|p| p.slots) {
            let start = slot.interval.start;
            if start.with_timezone(&zone).date_naive() == day && not_before.is_none_or(|t| start >= t) {
                found.push(slot);
            }
        }
    }
    found.sort_by_key(|s| (s.interval.start, s.id.provider_id));
    if agent.is_none() {
        // Any agent: one slot per time (a caller hears each time once), the first agent's.
        found.dedup_by_key(|s| s.interval.start);
    }
    Ok(Value::Array(
        found
            .iter()
            .map(|s| json!({ "avId": s.id.encode(), "slotStart": contract_time(s.interval.start, zone), "slotEnd": contract_time(s.interval.end, zone) }))
            .collect(),
    ))
}

/// A user record in the contract's shape, with both spellings of the last name.
fn user_out(p: &PatientView) -> Value {
    json!({
        "id": p.id.to_string(),
        "firstname": p.first_name,
        "lastname": p.last_name,
        "lastlame": p.last_name,
        "email": p.email,
        "dob": p.birth_date.map(|d| d.to_string()),
        "phone": p.phone,
        "street": p.street,
        "zip": p.zip,
        "city": p.city,
        "country": p.country,
    })
}

/// The contract's user fields, read from `lastname` or its `lastlame` spelling.
fn user_field(user: &Map<String, Value>, field: PatientField) -> Option<String> {
    let own = [field.as_str()];
    let names: &[&str] = if field == PatientField::LastName { &["lastname", "lastlame"] } else { &own };
    names.iter().find_map(|n| match user.get(*n) {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    })
}

/// The patient a user record names: an existing one by `id`, or one made from its details
/// (an existing patient with the same name, birth date and phone is reused). The flag says
/// whether the patient is new.
async fn patient_for(
    api: &Api,
    clinic_id: i64,
    role: &'static str,
    user: &Map<String, Value>,
    required: &[PatientField],
    region: Option<PhoneRegion>,
) -> Result<(PatientView, bool), ApiError> {
    let known = match user.get("id") {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    // An id of ours books that patient; any other (a bot's own caller id) says nothing to us,
    // and the details decide, as if no id had come.
    if let Some(id) = known.and_then(|id| id.parse::<i64>().ok()) {
        match api.store.patient(clinic_id, PatientRef::Id(id)).await {
            Ok(p) => return Ok((p, false)),
            Err(StoreError::NotFound(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let today = domain::patient::latest_date_anywhere(api.clock.now());
    let details = PersonDetails::from_text(|f| user_field(user, f), required, today, region).map_err(|(field, problem)| match problem {
        FieldProblem::Missing => ApiError::invalid(&field_name(role, field.as_str()), "is required for this product"),
        FieldProblem::Invalid(why) => ApiError::invalid(&field_name(role, field.as_str()), why),
    })?;
    if let Some(g) = user.get("gender").and_then(Value::as_str) {
        if !GENDERS.contains(&g) {
            return Err(ApiError::invalid(&field_name(role, "gender"), format!("must be one of {}", GENDERS.join(", "))));
        }
    }
    let same = PatientQuery {
        first_name: details.first_name.as_ref().map(|n| n.as_str().to_owned()),
        last_name: details.last_name.as_ref().map(|n| n.as_str().to_owned()),
        birth_date: details.birth_date,
        phone: details.phone.clone(),
        ..PatientQuery::default()
    };
    if details.birth_date.is_some() || details.phone.is_some() {
        if let [one] = api.store.find_patients(clinic_id, &same).await?.as_slice() {
            return Ok((one.clone(), false));
        }
    }
    let created = api.store.create_patient(clinic_id, &details, false, api.clock.now()).await?;
    Ok((api.store.patient(clinic_id, PatientRef::Id(created.id)).await?, true))
}

/// `booker.lastname`: field names in errors say where in the body the problem is.
fn field_name(role: &str, field: &str) -> String {
    format!("{role}.{field}")
}

fn slot_of(call: &Call<'_>, field: &'static str) -> Result<SlotId, ApiError> {
    SlotId::parse(&call.required(field)?).map_err(|_| ApiError::invalid(field, "is not a slot id this endpoint gave out"))
}

/// `start`, when given, must be the start of the slot or booking the call names: a bot that
/// mixed up two times is told.
fn check_start(call: &Call<'_>, expected: DateTime<Utc>, what: &str) -> Result<(), ApiError> {
    if let Some(raw) = call.text("start")? {
        if parse_instant("start", &raw)? != expected {
            return Err(ApiError::invalid("start", format!("is not the start of {what}")));
        }
    }
    Ok(())
}

async fn book(api: &Api, f: &Facility, call: &Call<'_>) -> Result<Value, ApiError> {
    let service = call.id("appointmentTypeId")?;
    let product_id = call.id("productId")?;
    let slot = slot_of(call, "slotId")?;
    check_start(call, slot.start, "the chosen slot")?;
    let c = owner_of_product(api, f, product_id).await?;
    let product = c.products.iter().find(|p| p.id == product_id).ok_or_else(|| ApiError::not_found("product"))?;
    if product.service_id != service {
        return Err(ApiError::invalid("productId", "is not a product of this appointment type"));
    }
    if slot.product_id != product_id {
        return Err(ApiError::invalid("slotId", "is a slot of another product"));
    }
    if !c.locations.iter().any(|l| l.id == slot.location_id) {
        return Err(ApiError::not_found("slot"));
    }
    let booker = call.user("booker")?.ok_or_else(|| ApiError::invalid("booker", "is required"))?;
    let (booker_fields, participant_fields) = api.store.product_requirements(c.clinic.id, product_id).await?;
    // A caller's number without a country code is read as the booked location's people write it.
    let region = c.locations.iter().find(|l| l.id == slot.location_id).and_then(|l| PhoneRegion::of_zone(l.tz.name()));
    let (booker, booker_new) = patient_for(api, c.clinic.id, "booker", booker, &booker_fields, region).await?;
    let (participant, participant_new) = match call.user("participant")? {
        Some(p) => match patient_for(api, c.clinic.id, "participant", p, &participant_fields, region).await {
            Ok(found) => found,
            Err(e) => {
                if booker_new {
                    api.store.forget_unbooked_patient(c.clinic.id, booker.id).await?;
                }
                return Err(e);
            }
        },
        None => (booker.clone(), false),
    };
    let booked = api
        .store
        .book_slot(&SlotBooking {
            clinic_id: c.clinic.id,
            slot,
            new_patient: participant_new,
            booker_id: Some(booker.id),
            participant_id: Some(participant.id),
            source: BookingSource::VoiceBot,
            reason: String::new(),
            idempotency: None,
            hold_token: None,
            now: api.clock.now(),
        })
        .await;
    if booked.is_err() {
        // Nothing was booked: patients made for this request go too.
        for (p, new) in [(&booker, booker_new), (&participant, participant_new)] {
            if new {
                api.store.forget_unbooked_patient(c.clinic.id, p.id).await?;
            }
        }
    }
    let booked = match booked {
        Ok(b) => b,
        Err(StoreError::SlotTaken | StoreError::SlotUnavailable) => return Err(taken(api, c.clinic.id, &slot, participant_new).await),
        Err(e) => return Err(e.into()),
    };
    let tz = c.locations.iter().find(|l| l.id == slot.location_id).map(|l| l.tz).unwrap_or(Tz::UTC);
    Ok(json!({
        "success": true,
        "bookingId": booked.appointment_id.to_string(),
        "slotId": slot.encode(),
        "start": contract_time(booked.start, tz),
        "end": contract_time(booked.end, tz),
        "status": booked.status.as_str(),
        "bookerId": booker.id.to_string(),
        "participantId": participant.id.to_string(),
    }))
}

/// The appointment `bookingId` names, if it is at a clinic this credential covers.
async fn booking(api: &Api, f: &Facility, call: &Call<'_>) -> Result<store::AppointmentView, ApiError> {
    let id = call.id("bookingId")?;
    let clinics = api.store.voice_clinics(f.credential_id).await?;
    match api.store.appointment_view(id).await {
        Ok(a) if clinics.contains(&a.clinic.id) && super::covers(f, a.location_id) => Ok(a),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(ApiError::not_found("booking")),
        Err(e) => Err(e.into()),
    }
}

/// The slot id an appointment occupies, as getSlots gave it out.
fn slot_of_booking(a: &store::AppointmentView) -> Option<SlotId> {
    Some(SlotId {
        location_id: a.location_id,
        provider_id: a.provider_id,
        product_id: a.product_id?,
        start: a.start,
        minutes: u16::try_from((a.end - a.start).num_minutes()).ok()?,
    })
}

/// `slotIdOld` / `slotId` must name the booking's current time (the bot's reference to it).
fn check_current(call: &Call<'_>, field: &'static str, a: &store::AppointmentView) -> Result<(), ApiError> {
    if call.text(field)?.is_some() {
        let given = slot_of(call, field)?;
        if given.start != a.start || given.provider_id != a.provider_id {
            return Err(ApiError::invalid(field, "is not this booking's current slot"));
        }
    }
    Ok(())
}

async fn modify(api: &Api, f: &Facility, call: &Call<'_>) -> Result<Value, ApiError> {
    let a = booking(api, f, call).await?;
    check_current(call, "slotIdOld", &a)?;
    let slot = slot_of(call, "slotIdNew")?;
    check_start(call, slot.start, "the chosen slot")?;
    let c = scoped(f, api.store.catalogue_of(a.clinic.clone()).await?);
    if !c.locations.iter().any(|l| l.id == slot.location_id) {
        return Err(ApiError::not_found("slot"));
    }
    match api.store.reschedule_to_slot(a.clinic.id, a.id, slot, BookingSource::VoiceBot, api.clock.now()).await {
        Ok(_) => {}
        Err(StoreError::SlotTaken | StoreError::SlotUnavailable) => return Err(taken(api, a.clinic.id, &slot, false).await),
        Err(e) => return Err(e.into()),
    }
    let moved = api.store.appointment_view(a.id).await?;
    Ok(json!({
        "success": true,
        "bookingId": moved.id.to_string(),
        "slotId": slot_of_booking(&moved).map(|s| s.encode()),
        "start": contract_time(moved.start, moved.tz),
        "end": contract_time(moved.end, moved.tz),
        "status": moved.status.as_str(),
    }))
}

async fn cancel(api: &Api, f: &Facility, call: &Call<'_>) -> Result<Value, ApiError> {
    let a = booking(api, f, call).await?;
    check_current(call, "slotId", &a)?;
    check_start(call, a.start, "this booking")?;
    api.store.cancel_appointment(a.clinic.id, a.id, "", BookingSource::VoiceBot, api.clock.now()).await?;
    Ok(json!({ "success": true, "bookingId": a.id.to_string(), "status": AppointmentStatus::Cancelled.as_str() }))
}

async fn find_user(api: &Api, f: &Facility, call: &Call<'_>) -> Result<Value, ApiError> {
    let user = call.user("participant")?.ok_or_else(|| ApiError::invalid("participant", "is required"))?;
    let text = |field| user_field(user, field);
    let clinics = api.store.voice_clinics(f.credential_id).await?;
    // A number without a country code is read in the one country the line's clinics lie in.
    let mut region = None;
    if text(PatientField::Phone).is_some() {
        let mut regions = Vec::new();
        for clinic in &clinics {
            regions.push(api.store.phone_region(*clinic, f.location_id).await?);
        }
        region = regions.first().copied().flatten().filter(|r| regions.iter().all(|o| *o == Some(*r)));
    }
    let query = PatientQuery {
        first_name: text(PatientField::FirstName),
        last_name: text(PatientField::LastName),
        birth_date: text(PatientField::BirthDate).map(|d| parse_date("participant.dob", &d)).transpose()?,
        phone: text(PatientField::Phone)
            .map(|p| Phone::parse(&p, region).map_err(|e| ApiError::invalid("participant.phone", e.to_string())))
            .transpose()?,
        email: text(PatientField::Email)
            .map(|e| Email::parse(&e).map_err(|e| ApiError::invalid("participant.email", e.to_string())))
            .transpose()?,
        ..PatientQuery::default()
    };
    // A name alone would read out the birth dates and phone numbers of everyone called so:
    // the caller must know a name and one more detail, or two details.
    let named = query.first_name.is_some() || query.last_name.is_some();
    let details = [query.birth_date.is_some(), query.phone.is_some(), query.email.is_some()].into_iter().filter(|d| *d).count();
    if details + usize::from(named) < 2 {
        return Err(ApiError::invalid("participant", "give a name and a date of birth, phone or email (or two of these)"));
    }
    let mut found = Vec::new();
    for clinic in clinics {
        found.extend(api.store.find_patients(clinic, &query).await?);
    }
    found.truncate(MAX_USERS);
    Ok(Value::Array(found.iter().map(user_out).collect()))
}

async fn find_bookings(api: &Api, f: &Facility, call: &Call<'_>) -> Result<Value, ApiError> {
    let id = call.id("id")?;
    let now = api.clock.now();
    let (mut out, mut known) = (Vec::new(), false);
    for clinic in api.store.voice_clinics(f.credential_id).await? {
        let patient = match api.store.patient(clinic, PatientRef::Id(id)).await {
            Ok(p) => p,
            Err(StoreError::NotFound(_)) => continue,
            Err(e) => return Err(e.into()),
        };
        known = true;
        for id in api.store.appointments_of_patient(clinic, patient.id, None, Some(now), None, MAX_BOOKINGS).await? {
            let a = api.store.appointment_view(id).await?;
            if !matches!(a.status, AppointmentStatus::Booked | AppointmentStatus::Pending) || !super::covers(f, a.location_id) {
                continue;
            }
            out.push(json!({
                "bookingId": a.id.to_string(),
                "name": a.product_name.clone().unwrap_or_else(|| a.service_name.clone()),
                "slotId": slot_of_booking(&a).map(|s| s.encode()),
                "start": contract_time(a.start, a.tz),
                "productId": a.product_id.map(|p| p.to_string()),
                "agentId": a.provider_id.to_string(),
            }));
        }
    }
    if !known {
        return Err(ApiError::not_found("user"));
    }
    Ok(Value::Array(out))
}
