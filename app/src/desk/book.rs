//! Booking and moving appointments at the desk: a phone booking at a later time, a walk-in for a
//! patient already on file, and a reschedule. Times come from the patients' own picker, so the
//! desk offers exactly what the widget and the bots offer; the patient is found by name, date of
//! birth or phone and always chosen by a person (namesakes are shown side by side, never picked).

use super::text::{d, D};
use super::Place;
use crate::admin::{Console, Frame, Section, CARD};
use crate::picker::{Picker, PickerQuery, PickerView, TimeAction};
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// The picker page: booking anew, or moving `moving`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskPicker {
    pub frame: Frame,
    pub picker: Picker,
    /// When moving: the appointment's id and patient.
    pub moving: Option<(i64, String)>,
    pub back: String,
}

/// A patient the search found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Candidate {
    pub id: i64,
    pub name: String,
    /// Birth date, phone, e-mail and record: what tells namesakes apart.
    pub detail: String,
    /// Another patient shown has the same name.
    pub namesake: bool,
}

/// The page that chooses who a booking is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientPage {
    pub frame: Frame,
    /// What is being booked, in words.
    pub what: String,
    /// The chosen time's slot id; empty for a walk-in, which starts when it is booked.
    pub slot: String,
    pub walk_in: bool,
    pub provider: i64,
    pub location: i64,
    /// A walk-in's choice of appointment type (a slot has its own).
    pub products: Vec<Place>,
    pub name: String,
    pub birth: String,
    pub phone: String,
    pub searched: bool,
    pub matches: Vec<Candidate>,
    /// More patients matched than are shown.
    pub more: bool,
    pub chosen: Option<Candidate>,
    /// This page with its target and search, for the links that choose a patient.
    pub here: String,
    pub back: String,
}

/// The confirmation of a move.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskMove {
    pub frame: Frame,
    pub id: i64,
    pub patient: String,
    pub what: String,
    pub old: String,
    pub new: String,
    pub slot: String,
    pub back: String,
}

#[server(endpoint = "desk_picker")]
pub async fn load_desk_picker(appointment: Option<String>, query: PickerQuery) -> Result<DeskPicker, AppError> {
    crate::server::with_status(ssr::picker(appointment, query)).await
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "desk_patient")]
pub async fn load_patient_page(
    slot: Option<String>,
    walk_in: Option<String>,
    provider: Option<String>,
    location: Option<String>,
    name: Option<String>,
    birth: Option<String>,
    phone: Option<String>,
    patient: Option<String>,
) -> Result<PatientPage, AppError> {
    let search = ssr::Search { name: name.unwrap_or_default(), birth: birth.unwrap_or_default(), phone: phone.unwrap_or_default() };
    crate::server::with_status(ssr::patient_page(slot, walk_in, provider, location, search, patient)).await
}

#[allow(clippy::too_many_arguments)]
#[server(endpoint = "desk_book")]
pub async fn book(
    csrf: String,
    slot: Option<String>,
    walk_in: Option<String>,
    provider: Option<String>,
    location: Option<String>,
    product: Option<String>,
    patient: Option<String>,
    first_name: Option<String>,
    last_name: Option<String>,
    birth_date: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    reason: Option<String>,
) -> Result<(), AppError> {
    let typed = [("firstname", first_name), ("lastname", last_name), ("dob", birth_date), ("phone", phone), ("email", email)];
    crate::server::with_status(ssr::book(csrf, slot, walk_in, provider, location, product, patient, typed, reason)).await
}

#[server(endpoint = "desk_move")]
pub async fn load_move(appointment: String, slot: String) -> Result<DeskMove, AppError> {
    crate::server::with_status(ssr::move_page(appointment, slot)).await
}

#[server(endpoint = "desk_reschedule")]
pub async fn reschedule(csrf: String, appointment: String, slot: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::reschedule(csrf, appointment, slot)).await
}

#[cfg(feature = "ssr")]
pub(super) mod ssr {
    use super::*;
    use crate::admin::session::{for_change, for_page};
    use crate::server::{local_when, now, param_id, parse_slot, store};
    use chrono::{DateTime, Duration, NaiveDate, Utc};
    use domain::appointment::{AppointmentStatus, BookingSource};
    use domain::patient::{match_key, FieldProblem, PatientField, PersonDetails, Phone, PhoneRegion};
    use domain::staff::Role;
    use domain::SlotId;
    use store::{Catalogue, PatientQuery, PatientRef, PatientView};

    fn any_role(_: Role) -> bool {
        true
    }

    /// What the search form holds, as typed.
    pub struct Search {
        pub name: String,
        pub birth: String,
        pub phone: String,
    }

    /// A note or reason: one line of at most 500 characters.
    pub fn one_line(raw: &str, field: &str) -> Result<String, AppError> {
        let text = raw.trim();
        if text.chars().count() > 500 || text.chars().any(char::is_control) {
            return Err(AppError::invalid(field, "must be one line of at most 500 characters"));
        }
        Ok(text.to_owned())
    }

    fn required_id(raw: Option<&str>, field: &str, missing: &str) -> Result<i64, AppError> {
        param_id(raw, field)?.ok_or_else(|| AppError::invalid(field, missing))
    }

    /// The desk's day view of `location` on `day`: where a booking returns to.
    pub fn desk_day(location: i64, day: NaiveDate) -> String {
        format!("/desk?day={day}&location={location}")
    }

    /// A booking's time: a slot the picker showed, or now for a walk-in.
    pub enum When {
        Slot(SlotId),
        Now { provider: i64, location: i64, product: i64 },
    }

    /// Who a booking is for.
    pub enum Who {
        OnFile(i64),
        New(PersonDetails),
    }

    impl When {
        fn place(&self) -> (i64, i64, i64) {
            match self {
                When::Slot(s) => (s.provider_id, s.location_id, s.product_id),
                When::Now { provider, location, product } => (*provider, *location, *product),
            }
        }
    }

    /// Checks that the provider offers the product at the location, in this clinic's catalogue.
    fn check_offer(catalogue: &Catalogue, (provider, location, product): (i64, i64, i64)) -> Result<chrono_tz::Tz, AppError> {
        let place = catalogue.locations.iter().find(|l| l.id == location).ok_or_else(|| AppError::NotFound { what: "location".into() })?;
        let product = catalogue.products.iter().find(|p| p.id == product).ok_or_else(|| AppError::NotFound { what: "appointment type".into() })?;
        let offered = catalogue.offers.iter().any(|o| o.provider_id == provider && o.location_id == location && o.service_id == product.service_id);
        if !offered {
            return Err(AppError::invalid("product", "this provider does not offer this appointment type here"));
        }
        Ok(place.tz)
    }

    /// A new patient's details as typed at the desk: first and last name required, the phone
    /// read in the country of the location's zone.
    pub fn new_patient(typed: &[(&'static str, Option<String>)], tz: chrono_tz::Tz, now: DateTime<Utc>) -> Result<PersonDetails, AppError> {
        let today = now.with_timezone(&tz).date_naive();
        let value = |f: PatientField| typed.iter().find(|(k, _)| *k == f.as_str()).and_then(|(_, v)| v.clone());
        let required = [PatientField::FirstName, PatientField::LastName];
        PersonDetails::from_text(value, &required, today, PhoneRegion::of_zone(tz.name())).map_err(|(field, problem)| {
            let message = match problem {
                FieldProblem::Missing => crate::error::REQUIRED.to_owned(),
                FieldProblem::Invalid(why) => why,
            };
            AppError::invalid(&format!("booker.{}", field.as_str()), message)
        })
    }

    /// Books `when` for `who` as the desk, returning the desk day it lands on. A new patient
    /// is stored only if the booking succeeds.
    pub async fn book_for(clinic_id: i64, when: When, who: Who, reason: &str) -> Result<String, AppError> {
        let store = store()?;
        let now = now()?;
        let catalogue = store.catalogue_of(store.clinic_by_id(clinic_id).await?).await?;
        let tz = check_offer(&catalogue, when.place())?;
        // Everything that can be refused is checked before a new patient is stored.
        let walk_in_product = match &when {
            When::Now { product, .. } => {
                Some(catalogue.products.iter().find(|p| p.id == *product).ok_or_else(|| AppError::NotFound { what: "appointment type".into() })?)
            }
            When::Slot(_) => None,
        };
        let (patient_id, new) = match who {
            Who::OnFile(id) => (store.patient(clinic_id, PatientRef::Id(id)).await?.id, false),
            Who::New(details) => (store.create_patient(clinic_id, &details, false, now).await?.id, true),
        };
        let (_, location, _) = when.place();
        let booked = match when {
            When::Slot(slot) => {
                store
                    .book_slot(&store::SlotBooking {
                        clinic_id,
                        slot,
                        new_patient: new,
                        booker_id: Some(patient_id),
                        participant_id: Some(patient_id),
                        source: BookingSource::Staff,
                        reason: reason.to_owned(),
                        idempotency: None,
                        hold_token: None,
                        now,
                    })
                    .await
            }
            When::Now { provider, location, .. } => {
                let product = walk_in_product.expect("looked up above for a walk-in");
                let start = chrono::DurationRound::duration_trunc(now, Duration::minutes(1)).unwrap_or(now);
                store
                    .create_appointment(&store::NewAppointment {
                        clinic_id,
                        location_id: location,
                        provider_id: provider,
                        service_id: product.service_id,
                        product_id: Some(product.id),
                        start,
                        end: start + Duration::minutes(i64::from(product.duration_minutes)),
                        tz,
                        booker_id: Some(patient_id),
                        participant_id: Some(patient_id),
                        source: BookingSource::Staff,
                        reason: reason.to_owned(),
                        idempotency: None,
                        consume_hold: None,
                        now,
                    })
                    .await
            }
        };
        match booked {
            Ok(b) => Ok(desk_day(location, b.start.with_timezone(&tz).date_naive())),
            Err(e) => {
                if new {
                    // Not booked: nobody is left on file for it. Should that fail, the desk
                    // still hears why the booking was refused.
                    if let Err(cleanup) = store.forget_unbooked_patient(clinic_id, patient_id).await {
                        tracing::error!(patient = patient_id, error = %cleanup, "a patient created for a refused desk booking was not removed");
                    }
                }
                match e {
                    store::StoreError::SlotTaken | store::StoreError::SlotUnavailable => Err(AppError::invalid(
                        "slot",
                        "this time is no longer free (taken meanwhile, or the provider is with another patient); choose another",
                    )),
                    other => Err(other.into()),
                }
            }
        }
    }

    pub async fn picker(appointment: Option<String>, query: PickerQuery) -> Result<DeskPicker, AppError> {
        let id = param_id(appointment.as_deref(), "appointment")?;
        let path = match id {
            Some(id) => format!("/desk/reschedule/{id}"),
            None => "/desk/book".to_owned(),
        };
        let (session, frame) = for_page(&path, any_role).await?;
        let clinic_id = session.user.clinic_id;
        let moving = match id {
            Some(id) => Some(movable(clinic_id, id).await?),
            None => None,
        };
        let who = moving.as_ref().map(|v| (v.id, attendee(v)));
        // The desk is never framed and has no manage link: only the choice travels.
        let query = PickerQuery { token: None, embed: None, lang: Some(frame.locale.code().to_owned()), ..query };
        // The desk may show any day; one patients cannot book opens the picker's first view
        // (a malformed date is still refused).
        let well_formed = query.date.as_deref().is_none_or(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").is_ok())
            && query.month.as_deref().is_none_or(|m| NaiveDate::parse_from_str(&format!("{}-01", m.trim()), "%Y-%m-%d").is_ok());
        let picker = match crate::picker::ssr::for_desk(clinic_id, frame.locale, moving.clone(), query.clone()).await {
            Err(AppError::Invalid { field, .. }) if well_formed && (field == "date" || field == "month") => {
                crate::picker::ssr::for_desk(clinic_id, frame.locale, moving.clone(), PickerQuery { date: None, month: None, taken: None, ..query }).await?
            }
            other => other?,
        };
        let back = match &moving {
            Some(v) => desk_day(v.location_id, v.start.with_timezone(&v.tz).date_naive()),
            None => "/desk".to_owned(),
        };
        Ok(DeskPicker { frame, picker, moving: who, back })
    }

    fn attendee(v: &store::AppointmentView) -> String {
        v.attendee.clone().map(|(f, l)| format!("{f} {l}")).unwrap_or_else(|| "—".to_owned())
    }

    /// An appointment of the clinic that can still be moved.
    async fn movable(clinic_id: i64, id: i64) -> Result<store::AppointmentView, AppError> {
        let view = match store()?.appointment_view(id).await {
            Ok(v) if v.clinic.id == clinic_id => v,
            Ok(_) | Err(store::StoreError::NotFound(_)) => return Err(AppError::NotFound { what: "appointment".into() }),
            Err(e) => return Err(e.into()),
        };
        if !matches!(view.status, AppointmentStatus::Booked | AppointmentStatus::Pending) {
            return Err(AppError::invalid("appointment", "only a booked appointment can be moved"));
        }
        Ok(view)
    }

    fn born(locale: crate::i18n::Locale, date: NaiveDate) -> String {
        date.format(if locale == crate::i18n::Locale::De { "%d.%m.%Y" } else { "%Y-%m-%d" }).to_string()
    }

    fn candidate(locale: crate::i18n::Locale, p: &PatientView) -> Candidate {
        let mut detail = Vec::new();
        if let Some(b) = p.birth_date {
            detail.push(format!("{} {}", d(locale, D::Born), born(locale, b)));
        }
        if !p.phone.is_empty() {
            detail.push(p.phone.clone());
        }
        if !p.email.is_empty() {
            detail.push(p.email.clone());
        }
        detail.push(if p.registered { format!("{} {}", d(locale, D::RecordNumber), p.id) } else { d(locale, D::Temporary).to_owned() });
        Candidate { id: p.id, name: p.full_name(), detail: detail.join(" · "), namesake: false }
    }

    /// The lookups a search makes: a whole name, or a single word as a first or a last name,
    /// each narrowed by the birth date and phone when given. None when nothing was typed.
    fn queries(s: &Search, region: Option<PhoneRegion>) -> Result<Option<Vec<PatientQuery>>, AppError> {
        let name = s.name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(AppError::invalid("name", "must be a name of at most 200 characters"));
        }
        let birth_date = match s.birth.trim() {
            "" => None,
            raw => Some(NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| AppError::invalid("birth", format!("{raw:?} is not a date (YYYY-MM-DD)")))?),
        };
        let phone = match s.phone.trim() {
            "" => None,
            raw => Some(Phone::parse(raw, region).map_err(|e| AppError::invalid("phone", e.to_string()))?),
        };
        if name.is_empty() && birth_date.is_none() && phone.is_none() {
            return Ok(None);
        }
        let base = PatientQuery { birth_date, phone, ..PatientQuery::default() };
        Ok(Some(match name.split(' ').count() {
            0 => unreachable!("split yields at least one part"),
            _ if name.is_empty() => vec![base],
            1 => vec![
                PatientQuery { last_name: Some(name.clone()), ..base.clone() },
                PatientQuery { first_name: Some(name), ..base },
            ],
            _ => vec![PatientQuery { name: Some(name), ..base }],
        }))
    }

    pub async fn patient_page(
        slot: Option<String>,
        walk_in: Option<String>,
        provider: Option<String>,
        location: Option<String>,
        search: Search,
        patient: Option<String>,
    ) -> Result<PatientPage, AppError> {
        let (session, frame) = for_page("/desk/book", any_role).await?;
        let locale = frame.locale;
        let clinic_id = session.user.clinic_id;
        let store = store()?;
        let catalogue = store.catalogue_of(store.clinic_by_id(clinic_id).await?).await?;
        let walk_in = walk_in.as_deref().is_some_and(|w| !w.trim().is_empty());
        let (slot, provider, location, products, what) = if walk_in {
            let provider = required_id(provider.as_deref(), "provider", "choose a provider")?;
            let location = required_id(location.as_deref(), "location", "choose a location")?;
            let products: Vec<Place> = catalogue
                .products
                .iter()
                .filter(|p| catalogue.offers.iter().any(|o| o.provider_id == provider && o.location_id == location && o.service_id == p.service_id))
                .map(|p| Place { id: p.id, name: p.name.clone() })
                .collect();
            let first = products.first().ok_or_else(|| AppError::invalid("provider", "offers nothing at this location"))?;
            check_offer(&catalogue, (provider, location, first.id))?;
            let what = describe(&catalogue, d(locale, D::WalkInNow).to_owned(), provider, location, None);
            (String::new(), provider, location, products, what)
        } else {
            let raw = slot.unwrap_or_default();
            let s = parse_slot(raw.trim())?;
            let tz = check_offer(&catalogue, (s.provider_id, s.location_id, s.product_id))?;
            let what = describe(&catalogue, local_when(locale, tz, s.start), s.provider_id, s.location_id, Some(s.product_id));
            (s.encode(), s.provider_id, s.location_id, Vec::new(), what)
        };
        let target = if walk_in { format!("walk_in=1&provider={provider}&location={location}") } else { format!("slot={}", crate::nav::encode(&slot)) };
        let region = store.phone_region(clinic_id, Some(location)).await?;
        let mut matches: Vec<PatientView> = Vec::new();
        let searched = match queries(&search, region)? {
            None => false,
            Some(qs) => {
                for q in qs {
                    for p in store.find_patients(clinic_id, &q).await? {
                        if !matches.iter().any(|m| m.id == p.id) {
                            matches.push(p);
                        }
                    }
                }
                true
            }
        };
        let more = matches.len() >= store::MAX_CANDIDATES as usize;
        matches.sort_by(|a, b| (match_key(&a.last_name), match_key(&a.first_name), a.birth_date, a.id).cmp(&(match_key(&b.last_name), match_key(&b.first_name), b.birth_date, b.id)));
        matches.truncate(store::MAX_CANDIDATES as usize);
        let key = |p: &PatientView| (match_key(&p.first_name), match_key(&p.last_name));
        let found: Vec<Candidate> = matches
            .iter()
            .map(|p| Candidate { namesake: matches.iter().filter(|o| key(o) == key(p)).count() > 1, ..candidate(locale, p) })
            .collect();
        let chosen = match param_id(patient.as_deref(), "patient")? {
            Some(id) => Some(candidate(locale, &store.patient(clinic_id, PatientRef::Id(id)).await?)),
            None => None,
        };
        let here = format!(
            "/desk/book/patient?{target}&name={}&birth={}&phone={}",
            crate::nav::encode(search.name.trim()),
            crate::nav::encode(search.birth.trim()),
            crate::nav::encode(search.phone.trim())
        );
        Ok(PatientPage {
            frame,
            what,
            slot,
            walk_in,
            provider,
            location,
            products,
            name: search.name,
            birth: search.birth,
            phone: search.phone,
            searched,
            matches: found,
            more,
            chosen,
            here,
            back: format!("/desk?location={location}"),
        })
    }

    /// "Monday, 7 December 2026, 10:30 · Dr. Anna Weber · Berlin Mitte · Consultation".
    fn describe(catalogue: &Catalogue, when: String, provider: i64, location: i64, product: Option<i64>) -> String {
        let mut parts = vec![when];
        if let Some(o) = catalogue.offers.iter().find(|o| o.provider_id == provider) {
            parts.push(o.display_name.clone());
        }
        if let Some(l) = catalogue.locations.iter().find(|l| l.id == location) {
            parts.push(l.name.clone());
        }
        if let Some(p) = product.and_then(|id| catalogue.products.iter().find(|p| p.id == id)) {
            parts.push(format!("{} ({} min)", p.name, p.duration_minutes));
        }
        parts.join(" · ")
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn book(
        csrf: String,
        slot: Option<String>,
        walk_in: Option<String>,
        provider: Option<String>,
        location: Option<String>,
        product: Option<String>,
        patient: Option<String>,
        typed: [(&'static str, Option<String>); 5],
        reason: Option<String>,
    ) -> Result<(), AppError> {
        let session = for_change(&csrf, any_role).await?;
        let clinic_id = session.user.clinic_id;
        let reason = one_line(reason.as_deref().unwrap_or_default(), "reason")?;
        let when = if walk_in.as_deref().is_some_and(|w| !w.trim().is_empty()) {
            When::Now {
                provider: required_id(provider.as_deref(), "provider", "choose a provider")?,
                location: required_id(location.as_deref(), "location", "choose a location")?,
                product: required_id(product.as_deref(), "product", "choose an appointment type")?,
            }
        } else {
            When::Slot(parse_slot(slot.as_deref().unwrap_or_default().trim())?)
        };
        let who = match param_id(patient.as_deref(), "patient")? {
            Some(id) => Who::OnFile(id),
            None => {
                let store = store()?;
                let catalogue = store.catalogue_of(store.clinic_by_id(clinic_id).await?).await?;
                let tz = check_offer(&catalogue, when.place())?;
                Who::New(new_patient(&typed, tz, now()?)?)
            }
        };
        let day = book_for(clinic_id, when, who, &reason).await?;
        leptos_axum::redirect(&day);
        Ok(())
    }

    pub async fn move_page(appointment: String, slot: String) -> Result<DeskMove, AppError> {
        let id = required_id(Some(&appointment), "appointment", "choose an appointment")?;
        let (session, frame) = for_page(&format!("/desk/reschedule/{id}"), any_role).await?;
        let locale = frame.locale;
        let v = movable(session.user.clinic_id, id).await?;
        let s = parse_slot(slot.trim())?;
        let store = store()?;
        let catalogue = store.catalogue_of(store.clinic_by_id(session.user.clinic_id).await?).await?;
        check_offer(&catalogue, (s.provider_id, s.location_id, s.product_id))?;
        let what = describe(&catalogue, v.service_name.clone(), s.provider_id, s.location_id, Some(s.product_id));
        Ok(DeskMove {
            id,
            patient: attendee(&v),
            what,
            old: format!("{} · {}", local_when(locale, v.tz, v.start), v.provider_name),
            new: local_when(locale, v.tz, s.start),
            slot: s.encode(),
            back: format!("/desk/reschedule/{id}?date={}", s.start.with_timezone(&v.tz).date_naive()),
            frame,
        })
    }

    pub async fn reschedule(csrf: String, appointment: String, slot: String) -> Result<(), AppError> {
        let session = for_change(&csrf, any_role).await?;
        let clinic_id = session.user.clinic_id;
        let id = required_id(Some(&appointment), "appointment", "choose an appointment")?;
        let s = parse_slot(slot.trim())?;
        let store = store()?;
        let view = movable(clinic_id, id).await?;
        match store.reschedule_to_slot(clinic_id, id, s, BookingSource::Staff, now()?).await {
            Ok(b) => {
                leptos_axum::redirect(&desk_day(view.location_id, b.start.with_timezone(&view.tz).date_naive()));
                Ok(())
            }
            Err(store::StoreError::SlotTaken | store::StoreError::SlotUnavailable) => {
                // Back to the picker, which shows the nearest free times.
                let date = s.start.with_timezone(&view.tz).date_naive();
                leptos_axum::redirect(&format!("/desk/reschedule/{id}?date={date}&taken={}", crate::nav::encode(&s.encode())));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

const INPUT: &str = "w-full rounded-md border border-slate-400 bg-white px-2 py-1.5";
const PRIMARY: &str = "mt-2 rounded-md bg-teal-700 px-3 py-1.5 font-semibold text-white hover:bg-teal-800";

#[component]
pub fn DeskBookPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || PickerQuery::from_params(&query.read()),
        |q| load_desk_picker(None, q),
    );
    crate::admin::loaded(data, |v| view! { <DeskPickerView v/> })
}

#[component]
pub fn DeskReschedulePage() -> impl IntoView {
    let query = use_query_map();
    let params = use_params_map();
    let data = Resource::new(
        move || (params.read().get("id"), PickerQuery::from_params(&query.read())),
        |(id, q)| load_desk_picker(Some(id.unwrap_or_default()), q),
    );
    crate::admin::loaded(data, |v| view! { <DeskPickerView v/> })
}

#[component]
fn DeskPickerView(v: DeskPicker) -> impl IntoView {
    let locale = v.frame.locale;
    let (title, base, action, intro) = match &v.moving {
        Some((id, who)) => (
            d(locale, D::RescheduleTitle),
            format!("/desk/reschedule/{id}"),
            TimeAction::Link { to: format!("/desk/reschedule/{id}/confirm"), fixed: true },
            Some(view! {
                <p class="mb-3" data-testid="moving">
                    {who.clone()} " · " {d(locale, D::OldTime)} ": " <strong>{v.picker.current.clone().unwrap_or_default()}</strong>
                </p>
            }),
        ),
        None => (d(locale, D::BookAppointment), "/desk/book".to_owned(), TimeAction::Link { to: "/desk/book/patient".to_owned(), fixed: false }, None),
    };
    view! {
        <Console frame=v.frame.clone() section=Section::Desk>
            <h1 class="mb-3 text-2xl font-semibold">{title}</h1>
            {intro}
            <PickerView p=v.picker.clone() base action/>
            <a href=v.back.clone() class="mt-4 inline-block text-teal-800 underline">{d(locale, D::BackToDesk)}</a>
        </Console>
    }
}

#[component]
pub fn DeskPatientPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (q.get("slot"), q.get("walk_in"), q.get("provider"), q.get("location"), q.get("name"), q.get("birth"), q.get("phone"), q.get("patient"))
        },
        |(slot, walk_in, provider, location, name, birth, phone, patient)| load_patient_page(slot, walk_in, provider, location, name, birth, phone, patient),
    );
    crate::admin::loaded(data, |v| view! { <PatientChooser v/> })
}

#[component]
fn PatientChooser(v: PatientPage) -> impl IntoView {
    let locale = v.frame.locale;
    let book = ServerAction::<Book>::new();
    let problem = crate::refusal(book).map(|e| view! { <Problem e locale/> });
    let csrf = v.frame.csrf.clone();
    // The hidden fields that say what is booked, in every form of the page.
    let target = {
        let (slot, walk_in, provider, location) = (v.slot.clone(), v.walk_in, v.provider, v.location);
        move || {
            view! {
                <input type="hidden" name="slot" value=slot.clone()/>
                <input type="hidden" name="walk_in" value=if walk_in { "1" } else { "" }/>
                <input type="hidden" name="provider" value=provider.to_string()/>
                <input type="hidden" name="location" value=location.to_string()/>
            }
        }
    };
    let product_choice = {
        let products = v.products.clone();
        move |id: &'static str| {
            (!products.is_empty()).then(|| {
                let options = products.iter().map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> }).collect_view();
                view! {
                    <div class="sm:col-span-2">
                        <label for=id class="block text-sm font-medium">{d(locale, D::AppointmentType)}</label>
                        <select id=id name="product" class=INPUT>{options}</select>
                    </div>
                }
            })
        }
    };
    let chosen = v.chosen.clone().map(|c| {
        let (csrf, target, product_choice) = (csrf.clone(), target.clone(), product_choice.clone());
        view! {
            <section class=CARD aria-labelledby="chosen-heading" data-testid="chosen">
                <h2 id="chosen-heading" class="text-lg font-semibold">{d(locale, D::Chosen)}</h2>
                <p class="text-lg font-medium" data-testid="chosen-name">{c.name.clone()}</p>
                <p class="text-sm text-slate-700">{c.detail.clone()}</p>
                <leptos::form::ActionForm action=book>
                    <input type="hidden" name="csrf" value=csrf/>
                    {target()}
                    <input type="hidden" name="patient" value=c.id.to_string()/>
                    <div class="mt-2 grid gap-2 sm:grid-cols-2">
                        {product_choice("chosen-product")}
                        <div class="sm:col-span-2">
                            <label for="chosen-reason" class="block text-sm font-medium">{d(locale, D::Note)}</label>
                            <input id="chosen-reason" name="reason" type="text" maxlength="500" class=INPUT/>
                        </div>
                    </div>
                    <button type="submit" class=PRIMARY data-testid="book-chosen">{d(locale, D::Book)}</button>
                </leptos::form::ActionForm>
            </section>
        }
    });
    let results = v.searched.then(|| {
        if v.matches.is_empty() {
            return view! { <p class="mt-3" role="status" data-testid="no-matches">{d(locale, D::NoMatches)}</p> }.into_any();
        }
        let rows = v
            .matches
            .iter()
            .map(|c| {
                let href = format!("{}&patient={}", v.here, c.id);
                let current = v.chosen.as_ref().is_some_and(|x| x.id == c.id);
                view! {
                    <li class="flex flex-wrap items-center justify-between gap-2 rounded-lg border border-slate-300 p-3" data-testid="match" data-patient=c.id.to_string()>
                        <div>
                            <p class="font-medium">{c.name.clone()}</p>
                            <p class="text-sm text-slate-700">{c.detail.clone()}</p>
                            {c.namesake.then(|| view! { <p class="text-sm font-medium text-amber-900" data-testid="namesake">{d(locale, D::Namesake)}</p> })}
                        </div>
                        <a href=href class="rounded-md border border-teal-700 px-3 py-1.5 text-sm font-semibold text-teal-900 hover:bg-teal-50"
                            aria-current=current.then_some("true") data-testid="choose">
                            {d(locale, D::Choose)} <span class="sr-only">": " {c.name.clone()}</span>
                        </a>
                    </li>
                }
            })
            .collect_view();
        view! {
            <ul class="mt-3 space-y-2" data-testid="matches">{rows}</ul>
            {v.more.then(|| view! { <p class="mt-2 text-sm" role="status">{d(locale, D::MoreMatches)}</p> })}
        }
        .into_any()
    });
    let (target_search, target_new) = (target.clone(), target);
    view! {
        <Console frame=v.frame.clone() section=Section::Desk>
            <h1 class="mb-1 text-2xl font-semibold">{d(locale, D::ChoosePatient)}</h1>
            <p class="mb-4 text-lg" data-testid="booking-what">{v.what.clone()}</p>
            <div aria-live="assertive">{problem}</div>
            {chosen}
            <section class=CARD aria-labelledby="search-heading">
                <h2 id="search-heading" class="text-lg font-semibold">{d(locale, D::FindPatient)}</h2>
                <p class="text-sm text-slate-700">{d(locale, D::SearchHint)}</p>
                <form method="get" action="/desk/book/patient" class="mt-2 grid gap-2 sm:grid-cols-4 sm:items-end" role="search">
                    {target_search()}
                    <div class="sm:col-span-2">
                        <label for="search-name" class="block text-sm font-medium">{d(locale, D::Name)}</label>
                        <input id="search-name" name="name" type="search" value=v.name.clone() autocomplete="off" class=INPUT/>
                    </div>
                    <div>
                        <label for="search-birth" class="block text-sm font-medium">{d(locale, D::BirthDateShort)}</label>
                        <input id="search-birth" name="birth" type="date" value=v.birth.clone() class=INPUT/>
                    </div>
                    <div>
                        <label for="search-phone" class="block text-sm font-medium">{d(locale, D::PhoneShort)}</label>
                        <input id="search-phone" name="phone" type="tel" value=v.phone.clone() autocomplete="off" class=INPUT/>
                    </div>
                    <button type="submit" class="rounded-md border border-slate-400 bg-white px-3 py-1.5 font-medium hover:bg-slate-100 sm:col-start-1" data-testid="search">
                        {d(locale, D::Search)}
                    </button>
                </form>
                {results}
            </section>
            <section class=CARD aria-labelledby="new-heading">
                <h2 id="new-heading" class="text-lg font-semibold">{d(locale, D::NewPatient)}</h2>
                <leptos::form::ActionForm action=book>
                    <input type="hidden" name="csrf" value=csrf/>
                    {target_new()}
                    <div class="mt-2 grid gap-2 sm:grid-cols-2">
                        {product_choice("new-product")}
                        <div>
                            <label for="new-first" class="block text-sm font-medium">{d(locale, D::FirstName)}</label>
                            <input id="new-first" name="first_name" type="text" required autocomplete="off" class=INPUT/>
                        </div>
                        <div>
                            <label for="new-last" class="block text-sm font-medium">{d(locale, D::LastName)}</label>
                            <input id="new-last" name="last_name" type="text" required autocomplete="off" class=INPUT/>
                        </div>
                        <div>
                            <label for="new-dob" class="block text-sm font-medium">{d(locale, D::BirthDate)}</label>
                            <input id="new-dob" name="birth_date" type="date" class=INPUT/>
                        </div>
                        <div>
                            <label for="new-phone" class="block text-sm font-medium">{d(locale, D::Phone)}</label>
                            <input id="new-phone" name="phone" type="tel" autocomplete="off" class=INPUT/>
                        </div>
                        <div>
                            <label for="new-email" class="block text-sm font-medium">{d(locale, D::Email)}</label>
                            <input id="new-email" name="email" type="email" autocomplete="off" class=INPUT/>
                        </div>
                        <div>
                            <label for="new-reason" class="block text-sm font-medium">{d(locale, D::Note)}</label>
                            <input id="new-reason" name="reason" type="text" maxlength="500" class=INPUT/>
                        </div>
                    </div>
                    <button type="submit" class=PRIMARY data-testid="book-new">{d(locale, D::Book)}</button>
                </leptos::form::ActionForm>
            </section>
            <a href=v.back.clone() class="mt-4 inline-block text-teal-800 underline">{d(locale, D::BackToDesk)}</a>
        </Console>
    }
}

#[component]
pub fn DeskMovePage() -> impl IntoView {
    let query = use_query_map();
    let params = use_params_map();
    let data = Resource::new(
        move || (params.read().get("id").unwrap_or_default(), query.read().get("slot").unwrap_or_default()),
        |(id, slot)| load_move(id, slot),
    );
    crate::admin::loaded(data, |v| view! { <MoveConfirm v/> })
}

#[component]
fn MoveConfirm(v: DeskMove) -> impl IntoView {
    let locale = v.frame.locale;
    let reschedule = ServerAction::<Reschedule>::new();
    let problem = crate::refusal(reschedule).map(|e| view! { <Problem e locale/> });
    view! {
        <Console frame=v.frame.clone() section=Section::Desk>
            <h1 class="mb-3 text-2xl font-semibold">{d(locale, D::RescheduleTitle)}</h1>
            <div aria-live="assertive">{problem}</div>
            <dl class=CARD data-testid="move">
                <dt class="text-sm text-slate-600">{d(locale, D::Patient)}</dt>
                <dd class="mb-2 text-lg font-medium">{v.patient.clone()}</dd>
                <dt class="text-sm text-slate-600">{d(locale, D::OldTime)}</dt>
                <dd class="mb-2">{v.old.clone()}</dd>
                <dt class="text-sm text-slate-600">{d(locale, D::NewTime)}</dt>
                <dd class="mb-2 font-semibold" data-testid="new-time">{v.new.clone()}</dd>
                <dt class="text-sm text-slate-600">{d(locale, D::AppointmentType)}</dt>
                <dd>{v.what.clone()}</dd>
            </dl>
            <leptos::form::ActionForm action=reschedule>
                <input type="hidden" name="csrf" value=v.frame.csrf.clone()/>
                <input type="hidden" name="appointment" value=v.id.to_string()/>
                <input type="hidden" name="slot" value=v.slot.clone()/>
                <button type="submit" class=PRIMARY data-testid="confirm-move">{d(locale, D::ConfirmMove)}</button>
            </leptos::form::ActionForm>
            <a href=v.back.clone() class="mt-4 inline-block text-teal-800 underline">{d(locale, D::ChooseAnotherTime)}</a>
        </Console>
    }
}
