//! The front desk at `/desk`: the day's appointments of a clinic, one column per provider,
//! with the desk's actions (check in, done, no-show, cancel). Like the console it is rendered
//! in full on the server and its forms work without JavaScript.
//!
//! Live updates need no WebAssembly: `public/live.js` follows the server's change stream
//! (`/desk/events`, Server-Sent Events) and, on every change, fetches this same page again and
//! swaps in its board. The patient widget's bundle stays as it was, and what the desk shows
//! after an update is exactly what a reload would show.

pub mod book;
pub mod display;
pub mod text;

use crate::admin::{Console, Frame, Section, CARD};
use crate::i18n::Locale;
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};
use text::{d, D};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Place {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visit {
    pub id: i64,
    /// `09:00–09:30` in the location's zone.
    pub time: String,
    pub patient: String,
    /// Birth date and record state: what tells namesakes apart.
    pub patient_detail: String,
    pub product: String,
    pub source: String,
    pub status: String,
    pub queue_number: Option<i32>,
    pub token_number: Option<i32>,
    pub reason: String,
    pub cancellation_reason: Option<String>,
    pub can_check_in: bool,
    pub can_complete: bool,
    pub can_no_show: bool,
    pub can_cancel: bool,
    pub can_move: bool,
    /// The patient, when their record is still temporary: the desk can register them.
    pub temporary_patient: Option<i64>,
    /// "E-mail not delivered (confirmation): 550 ...", when the mail server refused one.
    pub email_failed: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub provider_id: i64,
    pub location_id: i64,
    /// What the provider offers there: a walk-in's choice.
    pub products: Vec<Place>,
    pub provider: String,
    /// The location's name when the desk shows several.
    pub place: String,
    pub visits: Vec<Visit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskView {
    pub frame: Frame,
    pub places: Vec<Place>,
    pub location: Option<i64>,
    /// `YYYY-MM-DD`
    pub day: String,
    pub day_label: String,
    pub previous: String,
    pub next: String,
    pub today: String,
    /// Walk-ins are booked on today's board only.
    pub is_today: bool,
    pub columns: Vec<Column>,
    /// Just checked in: (patient, queue number).
    pub queued: Option<(String, i32)>,
    /// This page's own address, where its forms come back to.
    pub back: String,
}

#[server(endpoint = "desk_day")]
pub async fn load_desk(day: Option<String>, location: Option<String>, queued: Option<String>) -> Result<DeskView, AppError> {
    crate::server::with_status(ssr::load(day, location, queued)).await
}

#[server(endpoint = "desk_status")]
pub async fn change_status(csrf: String, appointment: String, to: String, back: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::change_status(csrf, appointment, to, back)).await
}

#[server(endpoint = "desk_walk_in")]
pub async fn walk_in(
    csrf: String,
    provider: String,
    location: String,
    product: String,
    first_name: String,
    last_name: String,
    birth_date: String,
    phone: String,
    reason: String,
    back: String,
) -> Result<(), AppError> {
    let patient = [("firstname", first_name), ("lastname", last_name), ("dob", birth_date), ("phone", phone)];
    crate::server::with_status(ssr::walk_in(csrf, provider, location, product, patient, reason, back)).await
}

#[server(endpoint = "desk_register")]
pub async fn register(csrf: String, patient: String, back: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::register(csrf, patient, back)).await
}

#[server(endpoint = "desk_cancel")]
pub async fn cancel(csrf: String, appointment: String, reason: String, back: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::cancel(csrf, appointment, reason, back)).await
}

/// Only the desk's own pages: a form's return address cannot send anyone elsewhere.
pub fn safe_back(back: &str) -> String {
    let back = back.trim();
    let ok = (back == "/desk" || back.starts_with("/desk?"))
        && !back.contains("//")
        && !back.contains('\\')
        && back.bytes().all(|b| b.is_ascii_graphic());
    if ok { back.to_owned() } else { "/desk".to_owned() }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::admin::session::{for_change, for_page};
    use crate::server::{now, param_id, store};
    use chrono::{Duration, NaiveDate};
    use domain::appointment::{AppointmentStatus, BookingSource};
    use domain::staff::Role;
    use store::desk::DeskAppointment;

    /// Everyone on the staff runs the day.
    fn any_role(_: Role) -> bool {
        true
    }

    pub fn status_label(locale: Locale, s: AppointmentStatus) -> &'static str {
        d(locale, match s {
            AppointmentStatus::Pending => D::Pending,
            AppointmentStatus::Booked => D::Booked,
            AppointmentStatus::CheckedIn => D::Waiting,
            AppointmentStatus::Completed => D::Done,
            AppointmentStatus::Cancelled => D::Cancelled,
            AppointmentStatus::NoShow => D::NoShowStatus,
        })
    }

    fn source_label(locale: Locale, s: BookingSource) -> &'static str {
        d(locale, match s {
            BookingSource::Widget => D::SourceWidget,
            BookingSource::BotApi => D::SourceBot,
            BookingSource::VoiceBot => D::SourceVoice,
            BookingSource::Staff => D::SourceStaff,
        })
    }

    pub async fn load(day: Option<String>, location: Option<String>, queued: Option<String>) -> Result<DeskView, AppError> {
        let (session, frame) = for_page("/desk", any_role).await?;
        let locale = frame.locale;
        let clinic_id = session.user.clinic_id;
        let store = store()?;
        let now = now()?;
        let clinic = store.clinic_by_id(clinic_id).await?;
        let catalogue = store.catalogue_of(clinic).await?;
        let location = param_id(location.as_deref(), "location")?;
        if let Some(id) = location {
            if !catalogue.locations.iter().any(|l| l.id == id) {
                return Err(AppError::NotFound { what: "location".into() });
            }
        }
        // "Today" is the chosen location's, or the clinic's home zone's for all of them.
        let home = store.clinic_config(clinic_id).await?.profile.time_zone;
        let zone = match location {
            Some(id) => catalogue.locations.iter().find(|l| l.id == id).map(|l| l.tz),
            None => None,
        }
        .or_else(|| domain::zone::parse_zone(&home).ok())
        .unwrap_or(chrono_tz::UTC);
        let today = now.with_timezone(&zone).date_naive();
        let day = match day.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => today,
            Some(raw) => NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| AppError::invalid("day", format!("{raw:?} is not a date (YYYY-MM-DD)")))?,
        };
        let appointments = store.desk_day(clinic_id, location, day).await?;
        let zones: std::collections::HashMap<i64, chrono_tz::Tz> = catalogue.locations.iter().map(|l| (l.id, l.tz)).collect();
        let names: std::collections::HashMap<i64, String> = catalogue.locations.iter().map(|l| (l.id, l.name.clone())).collect();
        let several = location.is_none() && catalogue.locations.len() > 1;

        // A column for every provider offering something at the shown locations, and for
        // anyone with an appointment that day (an offer may have ended since).
        let mut columns: Vec<Column> = Vec::new();
        let column_of = |provider_id: i64, provider: &str, location_id: i64, columns: &mut Vec<Column>| -> usize {
            let place = if several { names.get(&location_id).cloned().unwrap_or_default() } else { String::new() };
            match columns.iter().position(|c| c.provider_id == provider_id && (c.location_id == location_id || !several)) {
                Some(i) => i,
                None => {
                    let products = catalogue
                        .products
                        .iter()
                        .filter(|p| catalogue.offers.iter().any(|o| o.provider_id == provider_id && o.location_id == location_id && o.service_id == p.service_id))
                        .map(|p| Place { id: p.id, name: p.name.clone() })
                        .collect();
                    columns.push(Column { provider_id, location_id, products, provider: provider.to_owned(), place, visits: Vec::new() });
                    columns.len() - 1
                }
            }
        };
        for offer in catalogue.offers.iter().filter(|o| location.is_none_or(|l| l == o.location_id)) {
            column_of(offer.provider_id, &offer.display_name, offer.location_id, &mut columns);
        }
        let mut queued_view = None;
        let queued = param_id(queued.as_deref(), "queued")?;
        for a in &appointments {
            let i = column_of(a.provider_id, &a.provider_name, a.location_id, &mut columns);
            let tz = zones.get(&a.location_id).copied().unwrap_or(zone);
            let visit = visit(locale, a, tz, now, today);
            if Some(a.id) == queued {
                if let Some(q) = a.queue_number {
                    queued_view = Some((visit.patient.clone(), q));
                }
            }
            columns[i].visits.push(visit);
        }
        let place_param = location.map(|l| format!("&location={l}")).unwrap_or_default();
        Ok(DeskView {
            frame,
            places: catalogue.locations.iter().map(|l| Place { id: l.id, name: l.name.clone() }).collect(),
            location,
            day: day.to_string(),
            day_label: locale.long_date(day),
            previous: (day - Duration::days(1)).to_string(),
            next: (day + Duration::days(1)).to_string(),
            today: today.to_string(),
            is_today: day == today,
            columns,
            queued: queued_view,
            back: format!("/desk?day={day}{place_param}"),
        })
    }

    fn visit(locale: Locale, a: &DeskAppointment, tz: chrono_tz::Tz, now: chrono::DateTime<chrono::Utc>, today: NaiveDate) -> Visit {
        let (patient, patient_detail) = match &a.patient {
            Some(p) => {
                let mut detail = Vec::new();
                if let Some(born) = p.birth_date {
                    detail.push(format!("{} {}", d(locale, D::Born), born.format(if locale == Locale::De { "%d.%m.%Y" } else { "%Y-%m-%d" })));
                }
                if !p.registered && p.temporary_id.is_some() {
                    detail.push(d(locale, D::Temporary).to_owned());
                }
                (format!("{} {}", p.first_name, p.last_name), detail.join(" · "))
            }
            None => ("—".to_owned(), String::new()),
        };
        let local_start = a.start.with_timezone(&tz);
        let time = format!("{}–{}", local_start.format("%H:%M"), a.end.with_timezone(&tz).format("%H:%M"));
        let ok = |to| a.status.transition(to).is_ok();
        Visit {
            id: a.id,
            time,
            patient,
            patient_detail,
            product: a.product_name.clone(),
            source: source_label(locale, a.source).to_owned(),
            status: status_label(locale, a.status).to_owned(),
            queue_number: a.queue_number,
            token_number: a.token_number,
            reason: a.reason.clone(),
            cancellation_reason: a.cancellation_reason.clone(),
            can_check_in: ok(AppointmentStatus::CheckedIn) && local_start.date_naive() == today,
            can_complete: ok(AppointmentStatus::Completed),
            can_no_show: ok(AppointmentStatus::NoShow) && now >= a.start,
            can_cancel: ok(AppointmentStatus::Cancelled),
            can_move: matches!(a.status, AppointmentStatus::Booked | AppointmentStatus::Pending),
            temporary_patient: a.patient.as_ref().filter(|p| !p.registered).map(|p| p.id),
            email_failed: a.email_failed.as_ref().map(|(kind, error)| {
                let kind = match kind.as_str() {
                    "confirmation" => D::EmailConfirmation,
                    "rescheduled" => D::EmailRescheduled,
                    "cancelled" => D::EmailCancelled,
                    _ => D::EmailReminder,
                };
                format!("{} ({}): {error}", d(locale, D::EmailFailed), d(locale, kind))
            }),
        }
    }

    fn appointment_id(raw: &str) -> Result<i64, AppError> {
        param_id(Some(raw), "appointment")?.ok_or_else(|| AppError::invalid("appointment", "choose an appointment"))
    }

    pub async fn change_status(csrf: String, appointment: String, to: String, back: String) -> Result<(), AppError> {
        let session = for_change(&csrf, any_role).await?;
        let id = appointment_id(&appointment)?;
        let to = match to.trim() {
            "checked_in" => AppointmentStatus::CheckedIn,
            "completed" => AppointmentStatus::Completed,
            "no_show" => AppointmentStatus::NoShow,
            other => return Err(AppError::invalid("to", format!("{other:?} is not checked_in, completed or no_show"))),
        };
        store()?.change_status(session.user.clinic_id, id, to, BookingSource::Staff, now()?).await?;
        let back = safe_back(&back);
        let back = if to == AppointmentStatus::CheckedIn {
            let join = if back.contains('?') { '&' } else { '?' };
            format!("{back}{join}queued={id}")
        } else {
            back
        };
        leptos_axum::redirect(&back);
        Ok(())
    }

    pub async fn walk_in(
        csrf: String,
        provider: String,
        location: String,
        product: String,
        patient: [(&'static str, String); 4],
        reason: String,
        back: String,
    ) -> Result<(), AppError> {
        use book::ssr::{book_for, new_patient, one_line, When, Who};
        let session = for_change(&csrf, any_role).await?;
        let clinic_id = session.user.clinic_id;
        let provider = param_id(Some(&provider), "provider")?.ok_or_else(|| AppError::invalid("provider", "choose a provider"))?;
        let location = param_id(Some(&location), "location")?.ok_or_else(|| AppError::invalid("location", "choose a location"))?;
        let product = param_id(Some(&product), "product")?.ok_or_else(|| AppError::invalid("product", "choose an appointment type"))?;
        let reason = one_line(&reason, "reason")?;
        let store = store()?;
        let catalogue = store.catalogue_of(store.clinic_by_id(clinic_id).await?).await?;
        let tz = catalogue.locations.iter().find(|l| l.id == location).map(|l| l.tz).ok_or_else(|| AppError::NotFound { what: "location".into() })?;
        let typed: Vec<(&'static str, Option<String>)> = patient.into_iter().map(|(k, v)| (k, Some(v))).collect();
        let details = new_patient(&typed, tz, now()?)?;
        match book_for(clinic_id, When::Now { provider, location, product }, Who::New(details), &reason).await {
            Ok(_) => {
                leptos_axum::redirect(&safe_back(&back));
                Ok(())
            }
            Err(AppError::Invalid { field, .. }) if field == "slot" => {
                Err(AppError::invalid("provider", "is with another patient until later; choose another provider or book a later time"))
            }
            Err(e) => Err(e),
        }
    }

    pub async fn register(csrf: String, patient: String, back: String) -> Result<(), AppError> {
        let session = for_change(&csrf, any_role).await?;
        let id = param_id(Some(&patient), "patient")?.ok_or_else(|| AppError::invalid("patient", "choose a patient"))?;
        store()?.register_patient(session.user.clinic_id, id, now()?).await?;
        leptos_axum::redirect(&safe_back(&back));
        Ok(())
    }

    pub async fn cancel(csrf: String, appointment: String, reason: String, back: String) -> Result<(), AppError> {
        let session = for_change(&csrf, any_role).await?;
        let id = appointment_id(&appointment)?;
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::invalid("reason", "say why the appointment is cancelled"));
        }
        if reason.chars().count() > 500 || reason.chars().any(char::is_control) {
            return Err(AppError::invalid("reason", "must be one line of at most 500 characters"));
        }
        store()?.cancel_appointment(session.user.clinic_id, id, reason, BookingSource::Staff, now()?).await?;
        leptos_axum::redirect(&safe_back(&back));
        Ok(())
    }
}

#[component]
pub fn DeskPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || {
            let q = query.read();
            (q.get("day"), q.get("location"), q.get("queued"))
        },
        |(day, location, queued)| load_desk(day, location, queued),
    );
    crate::admin::loaded(data, |v| view! { <Desk v/> })
}

const SMALL_BUTTON: &str = "rounded-md border border-slate-400 bg-white px-3 py-1.5 text-sm font-medium hover:bg-slate-100 focus:outline-none focus-visible:ring-2 focus-visible:ring-teal-700";

#[component]
fn Desk(v: DeskView) -> impl IntoView {
    let locale = v.frame.locale;
    let status = ServerAction::<ChangeStatus>::new();
    let cancel = ServerAction::<Cancel>::new();
    let walk_in = ServerAction::<WalkIn>::new();
    let register = ServerAction::<Register>::new();
    let problem = crate::refusal(status)
        .or_else(|| crate::refusal(cancel))
        .or_else(|| crate::refusal(walk_in))
        .or_else(|| crate::refusal(register))
        .map(|e| view! { <Problem e locale/> });
    let place_param = v.location.map(|l| format!("&location={l}")).unwrap_or_default();
    let places = v
        .places
        .iter()
        .map(|p| view! { <option value=p.id.to_string() selected=v.location == Some(p.id)>{p.name.clone()}</option> })
        .collect_view();
    // A booking starts on the shown day, unless that is past.
    let mut book_query: Vec<String> = Vec::new();
    if v.day > v.today {
        book_query.push(format!("date={}", v.day));
    }
    if let Some(l) = v.location {
        book_query.push(format!("location={l}"));
    }
    let book_href = if book_query.is_empty() { "/desk/book".to_owned() } else { format!("/desk/book?{}", book_query.join("&")) };
    let queued = v.queued.clone().map(|(who, number)| {
        view! {
            <section role="status" class="mb-4 flex flex-wrap items-center gap-4 rounded-xl bg-teal-50 p-4 ring-1 ring-teal-300" data-testid="queued">
                <p class="text-lg">{who} " " {d(locale, D::CheckedIn)} " " {d(locale, D::QueueNumber)}":"</p>
                <p class="text-6xl font-bold tabular-nums text-teal-900" data-testid="queue-number">{number}</p>
            </section>
        }
    });
    let columns = if v.columns.is_empty() {
        view! { <p class=CARD>{d(locale, D::NoProviders)}</p> }.into_any()
    } else {
        v.columns
            .iter()
            .map(|c| view! { <ProviderColumn c=c.clone() locale csrf=v.frame.csrf.clone() back=v.back.clone() today=v.is_today status cancel walk_in register/> })
            .collect_view()
            .into_any()
    };
    view! {
        <Console frame=v.frame.clone() section=Section::Desk wide=true>
            <script src="/live.js" defer></script>
            <div class="mb-4 flex flex-wrap items-end justify-between gap-3">
                <div>
                    <h1 class="text-2xl font-semibold">{d(locale, D::FrontDesk)}</h1>
                    <p class="text-lg" data-testid="desk-day">{v.day_label.clone()}</p>
                </div>
                <nav aria-label=d(locale, D::Day) class="flex flex-wrap items-center gap-2">
                    <a href=format!("/desk?day={}{place_param}", v.previous) class=SMALL_BUTTON data-key="[" data-testid="previous-day">"← " {d(locale, D::PreviousDay)}</a>
                    <a href=format!("/desk?day={}{place_param}", v.today) class=SMALL_BUTTON data-key="t" data-testid="today">{d(locale, D::Today)}</a>
                    <a href=format!("/desk?day={}{place_param}", v.next) class=SMALL_BUTTON data-key="]" data-testid="next-day">{d(locale, D::NextDay)} " →"</a>
                    <a href=book_href class="rounded-md bg-teal-700 px-3 py-1.5 text-sm font-semibold text-white hover:bg-teal-800" data-testid="book-appointment">
                        {d(locale, D::BookAppointment)}
                    </a>
                </nav>
            </div>
            <form method="get" action="/desk" class="mb-4 flex flex-wrap items-end gap-3">
                <div>
                    <label for="desk-date" class="mb-1 block text-sm font-medium">{d(locale, D::Day)}</label>
                    <input id="desk-date" type="date" name="day" value=v.day.clone() class="rounded-md border border-slate-400 bg-white px-2 py-1.5"/>
                </div>
                <div>
                    <label for="desk-location" class="mb-1 block text-sm font-medium">{d(locale, D::Location)}</label>
                    <select id="desk-location" name="location" class="rounded-md border border-slate-400 bg-white px-2 py-1.5">
                        <option value="" selected=v.location.is_none()>{d(locale, D::AllLocations)}</option>
                        {places}
                    </select>
                </div>
                <button type="submit" class=SMALL_BUTTON>{d(locale, D::Show)}</button>
                <p class="text-sm text-slate-600">{d(locale, D::KeyboardHint)}</p>
            </form>
            <p class="mb-2 text-sm text-slate-700" aria-live="polite" data-live-status data-testid="live-status"
                data-online=d(locale, D::Live) data-offline=d(locale, D::Offline)></p>
            <div aria-live="assertive">{problem}</div>
            <div id="desk-board" data-live="/desk/events" data-testid="desk-board">
                {queued}
                <div class="grid gap-4 md:grid-cols-2 xl:grid-cols-3">{columns}</div>
            </div>
        </Console>
    }
}

#[component]
fn ProviderColumn(
    c: Column,
    locale: Locale,
    csrf: String,
    back: String,
    today: bool,
    status: ServerAction<ChangeStatus>,
    cancel: ServerAction<Cancel>,
    walk_in: ServerAction<WalkIn>,
    register: ServerAction<Register>,
) -> impl IntoView {
    let (csrf_walk_in, back_walk_in) = (csrf.clone(), back.clone());
    let (provider_id, location_id, who, offered) = (c.provider_id, c.location_id, c.provider.clone(), c.products.clone());
    let walk_in_form = (today && !offered.is_empty()).then(move || {
        let key = format!("{provider_id}-{location_id}");
        let products = offered.iter().map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> }).collect_view();
        let details_id = format!("walk-in-{key}");
        let id = move |field: &str| format!("walk-in-{key}-{field}");
        view! {
            <details class="mb-3" id=details_id data-testid="walk-in">
                <summary class="inline-block cursor-pointer rounded-md border border-teal-700 px-3 py-1.5 text-sm font-semibold text-teal-900 hover:bg-teal-50">
                    {d(locale, D::WalkIn)} <span class="sr-only">": " {who}</span>
                </summary>
                <p class="mt-2 text-sm">
                    <a href=format!("/desk/book/patient?walk_in=1&provider={provider_id}&location={location_id}") class="text-teal-800 underline" data-testid="walk-in-on-file">
                        {d(locale, D::OnFile)}
                    </a>
                </p>
                <leptos::form::ActionForm action=walk_in>
                    <input type="hidden" name="csrf" value=csrf_walk_in/>
                    <input type="hidden" name="provider" value=provider_id.to_string()/>
                    <input type="hidden" name="location" value=location_id.to_string()/>
                    <input type="hidden" name="back" value=back_walk_in/>
                    <div class="mt-2 grid gap-2 sm:grid-cols-2">
                        <div class="sm:col-span-2">
                            <label for=id("product") class="block text-sm font-medium">{d(locale, D::AppointmentType)}</label>
                            <select id=id("product") name="product" class="w-full rounded-md border border-slate-400 bg-white px-2 py-1.5">{products}</select>
                        </div>
                        <div>
                            <label for=id("first") class="block text-sm font-medium">{d(locale, D::FirstName)}</label>
                            <input id=id("first") name="first_name" type="text" required autocomplete="off" class="w-full rounded-md border border-slate-400 bg-white px-2 py-1.5"/>
                        </div>
                        <div>
                            <label for=id("last") class="block text-sm font-medium">{d(locale, D::LastName)}</label>
                            <input id=id("last") name="last_name" type="text" required autocomplete="off" class="w-full rounded-md border border-slate-400 bg-white px-2 py-1.5"/>
                        </div>
                        <div>
                            <label for=id("dob") class="block text-sm font-medium">{d(locale, D::BirthDate)}</label>
                            <input id=id("dob") name="birth_date" type="date" class="w-full rounded-md border border-slate-400 bg-white px-2 py-1.5"/>
                        </div>
                        <div>
                            <label for=id("phone") class="block text-sm font-medium">{d(locale, D::Phone)}</label>
                            <input id=id("phone") name="phone" type="tel" autocomplete="off" class="w-full rounded-md border border-slate-400 bg-white px-2 py-1.5"/>
                        </div>
                        <div class="sm:col-span-2">
                            <label for=id("reason") class="block text-sm font-medium">{d(locale, D::Note)}</label>
                            <input id=id("reason") name="reason" type="text" maxlength="500" class="w-full rounded-md border border-slate-400 bg-white px-2 py-1.5"/>
                        </div>
                    </div>
                    <button type="submit" class="mt-2 rounded-md bg-teal-700 px-3 py-1.5 text-sm font-semibold text-white hover:bg-teal-800" data-testid="book-walk-in">
                        {d(locale, D::BookNow)}
                    </button>
                </leptos::form::ActionForm>
            </details>
        }
    });
    let heading_id = format!("provider-{}-{}", c.provider_id, c.location_id);
    let labelled_by = heading_id.clone();
    let visits = if c.visits.is_empty() {
        view! { <p class="text-slate-600">{d(locale, D::NoAppointments)}</p> }.into_any()
    } else {
        let items = c
            .visits
            .into_iter()
            .map(|v| view! { <VisitCard v locale csrf=csrf.clone() back=back.clone() status cancel register/> })
            .collect_view();
        view! { <ol class="space-y-3">{items}</ol> }.into_any()
    };
    view! {
        <section class="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200" aria-labelledby=labelled_by data-testid="provider-column">
            <h2 id=heading_id class="mb-3 text-lg font-semibold">
                {c.provider.clone()}
                {(!c.place.is_empty()).then(|| view! { <span class="block text-sm font-normal text-slate-600">{c.place.clone()}</span> })}
            </h2>
            {walk_in_form}
            {visits}
        </section>
    }
}

#[component]
fn VisitCard(
    v: Visit,
    locale: Locale,
    csrf: String,
    back: String,
    status: ServerAction<ChangeStatus>,
    cancel: ServerAction<Cancel>,
    register: ServerAction<Register>,
) -> impl IntoView {
    let done = !(v.can_check_in || v.can_complete || v.can_no_show || v.can_cancel);
    let card = if done { "rounded-lg border border-slate-200 bg-slate-50 p-3 text-slate-600" } else { "rounded-lg border border-slate-300 p-3" };
    let status_form = |to: &'static str, label: &'static str, testid: &'static str| {
        let (csrf, back, id, who) = (csrf.clone(), back.clone(), v.id.to_string(), v.patient.clone());
        view! {
            <leptos::form::ActionForm action=status>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="appointment" value=id/>
                <input type="hidden" name="to" value=to/>
                <input type="hidden" name="back" value=back/>
                <button type="submit" class=SMALL_BUTTON data-testid=testid>{label} <span class="sr-only">": " {who}</span></button>
            </leptos::form::ActionForm>
        }
    };
    let check_in = v.can_check_in.then(|| status_form("checked_in", d(locale, D::CheckIn), "check-in"));
    let complete = v.can_complete.then(|| status_form("completed", d(locale, D::Complete), "complete"));
    let no_show = v.can_no_show.then(|| status_form("no_show", d(locale, D::NoShow), "no-show"));
    let move_link = v.can_move.then(|| {
        view! {
            <a href=format!("/desk/reschedule/{}", v.id) class=SMALL_BUTTON data-testid="move">
                {d(locale, D::Reschedule)} <span class="sr-only">": " {v.patient.clone()}</span>
            </a>
        }
    });
    let register_form = v.temporary_patient.map(|patient| {
        let (csrf, back, who) = (csrf.clone(), back.clone(), v.patient.clone());
        view! {
            <leptos::form::ActionForm action=register>
                <input type="hidden" name="csrf" value=csrf/>
                <input type="hidden" name="patient" value=patient.to_string()/>
                <input type="hidden" name="back" value=back/>
                <button type="submit" class=SMALL_BUTTON data-testid="register">{d(locale, D::Register)} <span class="sr-only">": " {who}</span></button>
            </leptos::form::ActionForm>
        }
    });
    let reason_id = format!("cancel-reason-{}", v.id);
    let cancel_form = v.can_cancel.then(|| {
        view! {
            <details class="w-full" id=format!("cancel-{}", v.id)>
                <summary class="inline-block cursor-pointer rounded-md px-2 py-1.5 text-sm font-medium text-red-800 hover:bg-red-50" data-testid="cancel">
                    {d(locale, D::Cancel)} <span class="sr-only">": " {v.patient.clone()}</span>
                </summary>
                <leptos::form::ActionForm action=cancel>
                    <input type="hidden" name="csrf" value=csrf.clone()/>
                    <input type="hidden" name="appointment" value=v.id.to_string()/>
                    <input type="hidden" name="back" value=back.clone()/>
                    <label for=reason_id.clone() class="mt-2 block text-sm font-medium">{d(locale, D::CancelReason)}</label>
                    <input id=reason_id name="reason" type="text" required maxlength="500" data-testid="cancel-reason"
                        class="mt-1 w-full rounded-md border border-slate-400 bg-white px-2 py-1.5"/>
                    <button type="submit" class="mt-2 rounded-md bg-red-800 px-3 py-1.5 text-sm font-semibold text-white hover:bg-red-900" data-testid="confirm-cancel">
                        {d(locale, D::ConfirmCancel)}
                    </button>
                </leptos::form::ActionForm>
            </details>
        }
    });
    let queue = v.queue_number.map(|q| {
        view! { <span class="rounded-md bg-teal-700 px-2 py-0.5 text-sm font-bold text-white" data-testid="visit-queue">{format!("{} {q}", d(locale, D::QueueNumber))}</span> }
    });
    view! {
        <li class=card data-testid="visit" data-appointment=v.id.to_string()>
            <div class="flex flex-wrap items-baseline justify-between gap-2">
                <p class="font-semibold tabular-nums">{v.time.clone()}</p>
                <p class="text-sm"><span data-testid="visit-status">{v.status.clone()}</span> " · " <span data-testid="visit-source">{v.source.clone()}</span></p>
            </div>
            <p class="text-lg font-medium" data-testid="visit-patient">{v.patient.clone()}</p>
            {(!v.patient_detail.is_empty()).then(|| view! { <p class="text-sm text-slate-600">{v.patient_detail.clone()}</p> })}
            <p class="text-sm">{v.product.clone()}</p>
            {(!v.reason.is_empty()).then(|| view! { <p class="text-sm italic text-slate-700">{v.reason.clone()}</p> })}
            {v.cancellation_reason.clone().map(|r| view! { <p class="text-sm text-slate-700">{d(locale, D::Cancelled)} ": " {r}</p> })}
            {v.email_failed.clone().map(|e| view! { <p class="text-sm font-medium text-red-800" data-testid="email-failed">{e}</p> })}
            {queue}
            {(!done).then(|| view! {
                <div class="mt-2 flex flex-wrap items-start gap-2">{check_in}{complete}{no_show}{move_link}{register_form}{cancel_form}</div>
            })}
        </li>
    }
}

#[cfg(test)]
mod tests {
    use super::safe_back;

    #[test]
    fn forms_return_only_to_desk_pages() {
        assert_eq!(safe_back("/desk?day=2026-12-04&location=2"), "/desk?day=2026-12-04&location=2");
        assert_eq!(safe_back("/desk"), "/desk");
        for outside in ["https://evil.example/desk", "//evil.example", "/desk//x", "/admin", "/desk?x=1\r\nSet-Cookie: a", "/desks", ""] {
            assert_eq!(safe_back(outside), "/desk", "{outside:?}");
        }
    }
}
