//! Reads: calendars (providers with what they offer), patient lookup, availability.

use super::error::ApiError;
use super::extract::{ApiQuery, IdInput};
use super::{covers, schema, Api};
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::patient::{parse_iso_date, Email, Phone};
use serde::Deserialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use store::credentials::Facility;
use store::{AvailabilityRequest, Catalogue, PatientQuery, PatientView};

/// Longest availability range one request may ask for.
pub const MAX_AVAILABILITY_DAYS: i64 = 62;

pub fn iso(at: DateTime<Utc>, tz: Tz) -> String {
    domain::zone::rfc3339_in(at, tz)
}

/// The facility's clinic's catalogue, as kept in memory (forgotten on every change).
pub async fn catalogue_of(api: &Api, facility: &Facility) -> Result<std::sync::Arc<Catalogue>, ApiError> {
    Ok(api.store.cached_catalogue(facility.clinic_id).await?)
}

/// A calendar is a provider, at the location where they offer something (the first such
/// location for a provider working at several; a location-scoped facility sees only its own).
pub struct Calendar {
    pub location_id: i64,
}

/// Calendar `provider_id` as this facility sees it.
pub fn calendar(catalogue: &Catalogue, facility: &Facility, provider_id: i64) -> Result<Calendar, ApiError> {
    catalogue
        .offers
        .iter()
        .find(|o| o.provider_id == provider_id && covers(facility, o.location_id))
        .map(|o| Calendar { location_id: o.location_id })
        .ok_or_else(|| ApiError::not_found("calendar"))
}

#[utoipa::path(get, path = "/api/v1/calendars", tag = "catalogue",
    summary = "The facility's calendars (providers) with location and appointment types",
    responses(
        (status = 200, body = schema::CalendarList)))]
pub async fn calendars(State(api): State<Api>, Extension(facility): Extension<Facility>) -> Result<Json<schema::CalendarList>, ApiError> {
    let catalogue = catalogue_of(&api, &facility).await?;
    let mut by_provider: BTreeMap<i64, Vec<&store::Offer>> = BTreeMap::new();
    for offer in catalogue.offers.iter().filter(|o| covers(&facility, o.location_id)) {
        by_provider.entry(offer.provider_id).or_default().push(offer);
    }
    let calendars = by_provider
        .values()
        .map(|offers| {
            let first = offers[0];
            let location = catalogue.locations.iter().find(|l| l.id == first.location_id);
            let appointment_types = catalogue
                .products
                .iter()
                .filter(|p| offers.iter().any(|o| o.service_id == p.service_id && o.location_id == first.location_id))
                .map(|p| schema::AppointmentType {
                    id: p.id.to_string(),
                    name: p.name.clone(),
                    description: p.description.clone(),
                    service: schema::ServiceRef {
                        id: p.service_id.to_string(),
                        name: catalogue.services.iter().find(|s| s.id == p.service_id).map(|s| s.name.clone()),
                    },
                    duration_minutes: p.duration_minutes,
                    price_cents: p.price_cents,
                })
                .collect();
            schema::Calendar {
                id: first.provider_id.to_string(),
                name: first.display_name.clone(),
                specialty: first.specialty.clone(),
                location: location.map(|l| schema::Location {
                    id: l.id.to_string(),
                    name: l.name.clone(),
                    address: l.address.clone(),
                    time_zone: Some(l.tz.name().to_owned()),
                }),
                appointment_types,
            }
        })
        .collect();
    Ok(Json(schema::CalendarList {
        clinic_id: catalogue.clinic.id.to_string(),
        clinic_slug: catalogue.clinic.slug.as_str().to_owned(),
        clinic_name: catalogue.clinic.name.clone(),
        calendars,
    }))
}

pub fn patient_out(p: &PatientView) -> schema::Patient {
    let given = |v: &str| (!v.is_empty()).then(|| v.to_owned());
    schema::Patient {
        patient_id: p.registered.then(|| p.id.to_string()),
        temporary_patient_id: p.temporary_id.clone(),
        name: p.full_name(),
        first_name: p.first_name.clone(),
        last_name: p.last_name.clone(),
        email: given(&p.email),
        phone: given(&p.phone),
        dob: p.birth_date.map(|d| d.to_string()),
        national_id: given(&p.national_id),
        gender: given(&p.gender),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct PatientLookup {
    name: Option<String>,
    dob: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    #[serde(rename = "nationalId")]
    national_id: Option<String>,
}

pub fn parse_date(field: &str, raw: &str) -> Result<NaiveDate, ApiError> {
    parse_iso_date(raw.trim()).ok_or_else(|| ApiError::invalid(field, "must be a date YYYY-MM-DD"))
}

#[utoipa::path(get, path = "/api/v1/patient", tag = "patients", params(PatientLookup),
    summary = "Finds the one patient matching name, dob, phone, email or national id",
    responses(
        (status = 409, description = "several patients match (details.candidates)", body = schema::ErrorBody),
        (status = 200, body = schema::Patient)))]
pub async fn patient(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    ApiQuery(q): ApiQuery<PatientLookup>,
) -> Result<Json<schema::Patient>, ApiError> {
    let given = |v: &Option<String>| v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned);
    let query = PatientQuery {
        name: given(&q.name),
        birth_date: given(&q.dob).map(|d| parse_date("dob", &d)).transpose()?,
        phone: match given(&q.phone) {
            Some(p) => {
                let region = api.store.phone_region(facility.clinic_id, facility.location_id).await?;
                Some(Phone::parse(&p, region).map_err(|e| ApiError::invalid("phone", e.to_string()))?)
            }
            None => None,
        },
        email: given(&q.email).map(|e| Email::parse(&e).map_err(|e| ApiError::invalid("email", e.to_string()))).transpose()?,
        national_id: given(&q.national_id),
        ..PatientQuery::default()
    };
    if query.name.is_none() && query.phone.is_none() && query.email.is_none() && query.national_id.is_none() {
        return Err(ApiError::missing("give at least one of name, phone, email or nationalId (with dob to tell namesakes apart)"));
    }
    let found = api.store.find_patients(facility.clinic_id, &query).await?;
    match found.as_slice() {
        [] => Err(ApiError::new(StatusCode::NOT_FOUND, "patient_not_found", "no patient matches")),
        [one] => Ok(Json(patient_out(one))),
        many => Err(ApiError::new(
            StatusCode::CONFLICT,
            "ambiguous_patient",
            "several patients match; add dob, phone or email to tell them apart",
        )
        .with_details(json!({
            "candidates": many.iter().map(|p| json!({
                "patientId": p.registered.then(|| p.id.to_string()),
                "temporaryPatientId": p.temporary_id,
            })).collect::<Vec<_>>(),
        }))),
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AvailabilityQuery {
    /// A calendar's id, or `any` (or left out) for every calendar that offers the type at
    /// the location.
    calendar_id: Option<IdInput>,
    appointment_type_id: Option<IdInput>,
    /// With `calendar_id=any`: the location; needed only when the type is offered at several
    /// locations this facility covers.
    location_id: Option<IdInput>,
    month: Option<String>,
    date: Option<String>,
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    new_patient: Option<bool>,
}

/// The dates a query asks for: `month=YYYY-MM`, `date=YYYY-MM-DD`, or `from=`/`to=`
/// (inclusive); exactly one form.
fn date_range(q: &AvailabilityQuery) -> Result<(NaiveDate, NaiveDate), ApiError> {
    match (&q.month, &q.date, &q.from, &q.to) {
        (Some(month), None, None, None) => {
            let first = parse_iso_date(&format!("{}-01", month.trim()))
                .filter(|_| month.trim().len() == 7)
                .ok_or_else(|| ApiError::invalid("month", "must be a month YYYY-MM"))?;
            let next = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
            }
            .ok_or_else(|| ApiError::invalid("month", "is out of range"))?;
            Ok((first, next - Duration::days(1)))
        }
        (None, Some(date), None, None) => {
            let d = parse_date("date", date)?;
            Ok((d, d))
        }
        (None, None, Some(from), Some(to)) => {
            let (from, to) = (parse_date("from", from)?, parse_date("to", to)?);
            if to < from {
                return Err(ApiError::invalid("to", "must not be before from"));
            }
            if (to - from).num_days() >= MAX_AVAILABILITY_DAYS {
                return Err(ApiError::invalid("to", format!("a range may span at most {MAX_AVAILABILITY_DAYS} days")));
            }
            Ok((from, to))
        }
        _ => Err(ApiError::missing("give exactly one of month=YYYY-MM, date=YYYY-MM-DD, or from= and to=")),
    }
}

/// Free slots of one calendar and appointment type, grouped by local date.
#[utoipa::path(get, path = "/api/v1/availability", tag = "availability", params(AvailabilityQuery),
    summary = "Free slots of a calendar and appointment type, grouped by the location's date",
    responses(
        (status = 200, body = schema::AvailabilityAnswer)))]
pub async fn availability(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    ApiQuery(q): ApiQuery<AvailabilityQuery>,
) -> Result<axum::response::Response, ApiError> {
    let product_id = q
        .appointment_type_id
        .as_ref()
        .ok_or_else(|| ApiError::invalid("appointment_type_id", "is required"))?
        .parse("appointment_type_id")?;
    let (from, to) = date_range(&q)?;
    let catalogue = catalogue_of(&api, &facility).await?;
    let product = catalogue
        .products
        .iter()
        .find(|p| p.id == product_id)
        .ok_or_else(|| ApiError::not_found("appointment type"))?;
    let any = q.calendar_id.as_ref().is_none_or(|c| c.is_word("any"));
    let (provider_id, location_id) = if any {
        // Every calendar: at the location asked for, or the one location offering the type.
        let mut offering: Vec<i64> =
            catalogue.offers.iter().filter(|o| o.service_id == product.service_id && covers(&facility, o.location_id)).map(|o| o.location_id).collect();
        offering.sort_unstable();
        offering.dedup();
        let location = match &q.location_id {
            Some(raw) => {
                let id = raw.parse("location_id")?;
                if !catalogue.locations.iter().any(|l| l.id == id) || !covers(&facility, id) {
                    return Err(ApiError::not_found("location"));
                }
                if !offering.contains(&id) {
                    return Err(ApiError::invalid("location_id", "no calendar offers this appointment type at this location"));
                }
                id
            }
            None => match offering.as_slice() {
                [one] => *one,
                [] => return Err(ApiError::invalid("appointment_type_id", "no calendar offers this appointment type")),
                _ => return Err(ApiError::invalid("location_id", "is required with calendar_id=any: this appointment type is offered at several locations")),
            },
        };
        (None, location)
    } else {
        if q.location_id.is_some() {
            return Err(ApiError::invalid("location_id", "is given only with calendar_id=any: a calendar has its own location"));
        }
        let provider_id = q.calendar_id.as_ref().ok_or_else(|| ApiError::invalid("calendar_id", "is required"))?.parse("calendar_id")?;
        let cal = calendar(&catalogue, &facility, provider_id)?;
        if !catalogue.offers.iter().any(|o| o.provider_id == provider_id && o.location_id == cal.location_id && o.service_id == product.service_id) {
            return Err(ApiError::invalid("appointment_type_id", "this calendar does not offer this appointment type"));
        }
        (Some(provider_id), cal.location_id)
    };
    let request = AvailabilityRequest {
        clinic_id: facility.clinic_id,
        location_id,
        product_id,
        provider_id,
        from,
        to,
        new_patient: q.new_patient.unwrap_or(false),
        now: api.clock.now(),
    };
    // The contract's bot does not say whether its patient is new: it is offered the times
    // any patient can book, so that it is never offered a time it then cannot book.
    let found = match q.new_patient {
        Some(_) => api.store.availability(&request).await?,
        None => api.store.availability_for_anyone(&request).await?,
    };
    let head = AnswerHead {
        calendar_id: provider_id.map_or_else(|| "any".to_owned(), |p| p.to_string()),
        location_id: location_id.to_string(),
        appointment_type_id: product_id.to_string(),
        time_zone: found.tz.name().to_owned(),
        from: from.to_string(),
        to: to.to_string(),
    };
    let body = availability_json(&head, found.tz, found.providers.iter().flat_map(|p| &p.slots));
    Ok(([(axum::http::header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The fields of `schema::AvailabilityAnswer` besides its days.
struct AnswerHead {
    calendar_id: String,
    location_id: String,
    appointment_type_id: String,
    time_zone: String,
    from: String,
    to: String,
}

/// `schema::AvailabilityAnswer` exactly as serde writes it (the test below holds them equal),
/// written straight into one buffer: an answer for 20 calendars over two weeks has thousands
/// of slots, and a string per field of each was most of its cost. Days are the location's
/// local dates in order; a day's slots in time order, then by calendar.
fn availability_json<'a>(head: &AnswerHead, tz: Tz, slots: impl Iterator<Item = &'a store::Slot>) -> String {
    // Each calendar's slots come in time order: a stable sort merges those runs.
    let mut by_time: Vec<(i64, i64, &store::Slot)> = slots.map(|slot| (slot.interval.start.timestamp(), slot.id.provider_id, slot)).collect();
    by_time.sort_by_key(|(start, provider, _)| (*start, *provider));
    // Calendars share their times, so an offset is looked up once per distinct instant.
    let mut last_start: Option<(i64, chrono::FixedOffset)> = None;
    let mut last_end: Option<(i64, chrono::FixedOffset)> = None;
    let offset = |memo: &mut Option<(i64, chrono::FixedOffset)>, at: DateTime<Utc>| match *memo {
        Some((t, o)) if t == at.timestamp() => o,
        _ => {
            let o = domain::zone::offset_at(tz, at);
            *memo = Some((at.timestamp(), o));
            o
        }
    };
    let mut rows: Vec<(i64, chrono::FixedOffset, chrono::FixedOffset, &store::Slot)> = by_time
        .into_iter()
        .map(|(start, _, slot)| {
            let (begins, ends) = (offset(&mut last_start, slot.interval.start), offset(&mut last_end, slot.interval.end));
            ((start + i64::from(begins.local_minus_utc())).div_euclid(86_400), begins, ends, slot)
        })
        .collect();
    // Local dates follow time order except where clocks go back across midnight (Beirut):
    // then a stable sort by date keeps time order within each date.
    if !rows.is_sorted_by_key(|row| row.0) {
        rows.sort_by_key(|row| row.0);
    }
    let text = |v: &str| serde_json::to_string(v).expect("a string serialises");
    // A slot is ~160 bytes: reserving enough up front spares copying the answer as it grows.
    let mut out = String::with_capacity(256 + rows.len() * 176);
    let fields = [
        ("calendarId", &head.calendar_id),
        ("locationId", &head.location_id),
        ("appointmentTypeId", &head.appointment_type_id),
        ("timeZone", &head.time_zone),
        ("from", &head.from),
        ("to", &head.to),
    ];
    for (i, (name, value)) in fields.into_iter().enumerate() {
        out.push_str(if i == 0 { "{\"" } else { ",\"" });
        out.push_str(name);
        out.push_str("\":");
        out.push_str(&text(value));
    }
    out.push_str(",\"days\":[");
    let mut day = None;
    for (days, begins, ends, slot) in rows {
        if day != Some(days) {
            if day.is_some() {
                out.push_str("]},");
            }
            out.push_str("{\"date\":\"");
            // `days` counts from 1970-01-01, chrono's from 0001-01-01 (719,163 days earlier).
            let date = i32::try_from(days + 719_163).ok().and_then(NaiveDate::from_num_days_from_ce_opt).expect("a slot's date is a valid date");
            out.push_str(&date.to_string());
            out.push_str("\",\"slots\":[");
            day = Some(days);
        } else {
            out.push(',');
        }
        // Slot ids are base64url, ids digits and times ISO 8601: nothing to escape.
        out.push_str("{\"slotId\":\"");
        slot.id.encode_into(&mut out);
        out.push_str("\",\"calendarId\":\"");
        let _ = write!(out, "{}", slot.id.provider_id);
        out.push_str("\",\"start\":\"");
        domain::zone::push_rfc3339(&mut out, slot.interval.start, begins);
        out.push_str("\",\"end\":\"");
        domain::zone::push_rfc3339(&mut out, slot.interval.end, ends);
        out.push_str("\"}");
    }
    if day.is_some() {
        out.push_str("]}");
    }
    out.push_str("]}");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use domain::{Interval, SlotId};

    /// What serde writes for the answer built field by field: the contract's shape.
    fn through_serde(head: &AnswerHead, tz: Tz, slots: &[store::Slot]) -> String {
        let mut days: BTreeMap<NaiveDate, Vec<(DateTime<Utc>, i64, schema::FreeSlot)>> = BTreeMap::new();
        for slot in slots {
            days.entry(slot.interval.start.with_timezone(&tz).date_naive()).or_default().push((
                slot.interval.start,
                slot.id.provider_id,
                schema::FreeSlot {
                    slot_id: slot.id.encode(),
                    calendar_id: slot.id.provider_id.to_string(),
                    start: slot.interval.start.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                    end: slot.interval.end.with_timezone(&tz).to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
                },
            ));
        }
        let days = days
            .into_iter()
            .map(|(date, mut slots)| {
                slots.sort_by_key(|(start, provider, _)| (*start, *provider));
                schema::Day { date: date.to_string(), slots: slots.into_iter().map(|(_, _, s)| s).collect() }
            })
            .collect();
        serde_json::to_string(&schema::AvailabilityAnswer {
            calendar_id: head.calendar_id.clone(),
            location_id: head.location_id.clone(),
            appointment_type_id: head.appointment_type_id.clone(),
            time_zone: head.time_zone.clone(),
            from: head.from.clone(),
            to: head.to.clone(),
            days,
        })
        .unwrap()
    }

    #[test]
    fn the_availability_answer_is_written_exactly_as_serde_writes_it() {
        // Several calendars out of order, calendars sharing their times, a fall-back night
        // (Beirut goes back at midnight, so a local date repeats), slots across the change,
        // and nothing at all.
        for zone in ["Europe/Berlin", "Asia/Beirut", "America/St_Johns", "Australia/Lord_Howe"] {
            let tz: Tz = zone.parse().unwrap();
            let base = Utc.with_ymd_and_hms(2026, 10, 23, 18, 0, 0).unwrap();
            let mut slots = Vec::new();
            for (n, provider) in [(0i64, 17i64), (1, 3), (2, 170), (0, 3)].into_iter().cycle().take(400).enumerate().map(|(i, (k, p))| (i as i64 * 3 + k, p)) {
                let start = base + Duration::minutes(n * 15);
                let interval = Interval::new(start, start + Duration::minutes(45)).unwrap();
                let id = SlotId { provider_id: provider, location_id: 4, product_id: 9, start, minutes: 45 };
                slots.push(store::Slot { id, interval });
            }
            for i in 0..300i64 {
                for provider in [11i64, 2, 5] {
                    let start = base + Duration::minutes(i * 20);
                    let interval = Interval::new(start, start + Duration::minutes(30)).unwrap();
                    let id = SlotId { provider_id: provider, location_id: 4, product_id: 9, start, minutes: 30 };
                    slots.push(store::Slot { id, interval });
                }
            }
            let head = AnswerHead {
                calendar_id: "any".into(),
                location_id: "4".into(),
                appointment_type_id: "9".into(),
                time_zone: zone.into(),
                from: "2026-10-23".into(),
                to: "2026-11-05".into(),
            };
            assert_eq!(availability_json(&head, tz, slots.iter()), through_serde(&head, tz, &slots), "{zone}");
            assert_eq!(availability_json(&head, tz, [].iter()), through_serde(&head, tz, &[]), "{zone}, no slots");
        }
    }
}
