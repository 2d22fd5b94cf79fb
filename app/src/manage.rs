//! Manage without an account: `/manage/:token` (details, calendar file, cancel) and
//! `/manage/:token/reschedule` (the same picker, then a confirmation step). The token is the
//! signed manage link; see `store::links`.

use crate::book::Summary;
use crate::i18n::{Locale, Msg};
use crate::nav::{query_locale, Carry};
use crate::picker::{load_picker, PickerQuery, PickerView, TimeAction};
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// Longest cancellation reason a patient can give.
pub const MAX_REASON: usize = 500;

/// Tells an embedding page what happened (see `public/frame.js`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BookingEvent {
    pub kind: String,
    pub reference: String,
    pub start: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manage {
    pub locale: Locale,
    pub clinic_name: String,
    pub parent_origin: Option<String>,
    pub token: String,
    pub reference: String,
    pub status: String,
    pub active: bool,
    pub summary: Summary,
    pub attendee: String,
    pub can_change: bool,
    pub cutoff_hours: String,
    pub headline: Option<String>,
    pub event: Option<BookingEvent>,
    /// Whether the reminder e-mail is wanted, when the patient has that choice.
    pub reminder: Option<bool>,
}

#[server(endpoint = "manage")]
pub async fn load_manage(token: String, done: Option<String>, lang: Option<String>, embed: Option<String>) -> Result<Manage, AppError> {
    crate::server::with_status(ssr::manage(token, done, Carry { lang, embed })).await
}

#[server(endpoint = "cancel_booking")]
pub async fn cancel_booking(token: String, reason: Option<String>, lang: Option<String>, embed: Option<String>) -> Result<(), AppError> {
    crate::server::with_status(ssr::cancel(token, reason.unwrap_or_default(), Carry { lang, embed })).await
}

/// Turns the appointment's reminder e-mail off or back on (`wanted`: `on` or `off`).
#[server(endpoint = "set_reminder")]
pub async fn set_reminder(token: String, wanted: String, lang: Option<String>, embed: Option<String>) -> Result<(), AppError> {
    crate::server::with_status(ssr::set_reminder(token, wanted, Carry { lang, embed })).await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveDetails {
    pub locale: Locale,
    pub clinic_name: String,
    pub parent_origin: Option<String>,
    pub token: String,
    pub slot: String,
    pub old: String,
    pub new: String,
    pub summary: Summary,
}

#[server(endpoint = "reschedule_details")]
pub async fn load_move(token: String, slot: String, lang: Option<String>, embed: Option<String>) -> Result<MoveDetails, AppError> {
    crate::server::with_status(ssr::move_details(token, slot, Carry { lang, embed })).await
}

#[server(endpoint = "reschedule_booking")]
pub async fn reschedule_booking(token: String, slot: String, lang: Option<String>, embed: Option<String>) -> Result<(), AppError> {
    crate::server::with_status(ssr::reschedule(token, slot, Carry { lang, embed })).await
}

/// A reference patients can read out on the phone.
pub fn reference(appointment_id: i64) -> String {
    domain::notify::reference(appointment_id)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::server::{allow_framing, link_key, local_when, locale, now, open_link, parent_origin, parse_slot, store};
    use chrono::Duration;
    use domain::appointment::{AppointmentStatus, BookingSource};
    use store::{AppointmentView, StoreError};

    fn summary(locale: Locale, v: &AppointmentView) -> Summary {
        let minutes = (v.end - v.start).num_minutes();
        Summary {
            service: v.service_name.clone(),
            product: format!("{} ({minutes} {})", v.product_name.clone().unwrap_or_default(), locale.t(Msg::Minutes)),
            provider: v.provider_name.clone(),
            location: v.location_name.clone(),
            address: v.address.clone(),
            when: local_when(locale, v.tz, v.start),
            time_zone: v.tz.name().to_owned(),
        }
    }

    async fn opened(token: &str, carry: &Carry) -> Result<(AppointmentView, Locale, Option<String>), AppError> {
        let view = open_link(token).await?;
        let locale = locale(carry.lang.as_deref(), &view.clinic.default_locale);
        let origins = store()?.embed_origins(view.clinic.id).await?;
        allow_framing(&origins);
        let parent = parent_origin(carry.embed.as_deref(), &origins);
        Ok((view, locale, parent))
    }

    pub async fn manage(token: String, done: Option<String>, carry: Carry) -> Result<Manage, AppError> {
        let (v, locale, parent_origin) = opened(&token, &carry).await?;
        let done = done.filter(|d| !d.is_empty());
        let (headline, event) = match done.as_deref() {
            None => (None, None),
            Some(kind @ ("booked" | "rescheduled" | "cancelled")) => {
                let (msg, event) = match kind {
                    "booked" => (Msg::Booked, "booking:created"),
                    "rescheduled" => (Msg::Rescheduled, "booking:rescheduled"),
                    _ => (Msg::Cancelled, "booking:cancelled"),
                };
                let start = v.start.with_timezone(&v.tz).to_rfc3339();
                (Some(locale.t(msg).to_owned()), Some(BookingEvent { kind: event.into(), reference: reference(v.id), start }))
            }
            Some("reminder-off") => (Some(locale.t(Msg::ReminderTurnedOff).to_owned()), None),
            Some("reminder-on") => (Some(locale.t(Msg::ReminderTurnedOn).to_owned()), None),
            Some(other) => return Err(AppError::invalid("done", format!("{other:?} is not booked, rescheduled, cancelled, reminder-off or reminder-on"))),
        };
        let active = matches!(v.status, AppointmentStatus::Booked | AppointmentStatus::Pending);
        let cutoff = Duration::minutes(i64::from(v.change_cutoff_minutes));
        let status = match v.status {
            AppointmentStatus::Booked | AppointmentStatus::Pending | AppointmentStatus::CheckedIn => Msg::StatusBooked,
            AppointmentStatus::Cancelled => Msg::StatusCancelled,
            AppointmentStatus::Completed | AppointmentStatus::NoShow => Msg::StatusOther,
        };
        Ok(Manage {
            locale,
            clinic_name: v.clinic.name.clone(),
            parent_origin,
            token,
            reference: reference(v.id),
            status: locale.t(status).to_owned(),
            active,
            summary: summary(locale, &v),
            attendee: v.attendee.clone().map(|(f, l)| format!("{f} {l}")).unwrap_or_default(),
            can_change: active && now()? + cutoff <= v.start,
            cutoff_hours: format!("{}", (v.change_cutoff_minutes + 59) / 60),
            headline,
            event,
            reminder: match active {
                true => store()?.reminder_choice(v.id).await?,
                false => None,
            },
        })
    }

    pub async fn set_reminder(token: String, wanted: String, carry: Carry) -> Result<(), AppError> {
        let wanted = match wanted.trim() {
            "on" => true,
            "off" => false,
            other => return Err(AppError::invalid("wanted", format!("{other:?} is neither on nor off"))),
        };
        let view = open_link(&token).await?;
        let store = store()?;
        if store.reminder_choice(view.id).await?.is_none() {
            return Err(AppError::invalid("wanted", "this appointment gets no reminder e-mail"));
        }
        store.set_reminder_wanted(view.id, wanted, now()?).await?;
        let done = if wanted { "reminder-on" } else { "reminder-off" };
        leptos_axum::redirect(&carry.href(&format!("/manage/{token}"), &[("done", done.into())]));
        Ok(())
    }

    pub async fn cancel(token: String, reason: String, carry: Carry) -> Result<(), AppError> {
        let reason = reason.trim().to_owned();
        if reason.chars().count() > MAX_REASON || reason.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
            return Err(AppError::invalid("reason", format!("must be at most {MAX_REASON} characters of text")));
        }
        let view = open_link(&token).await?;
        store()?.cancel_appointment(view.clinic.id, view.id, &reason, BookingSource::Widget, now()?).await?;
        leptos_axum::redirect(&carry.href(&format!("/manage/{token}"), &[("done", "cancelled".into())]));
        Ok(())
    }

    pub async fn move_details(token: String, slot: String, carry: Carry) -> Result<MoveDetails, AppError> {
        let slot_id = parse_slot(&slot)?;
        let (v, locale, parent_origin) = opened(&token, &carry).await?;
        Ok(MoveDetails {
            locale,
            clinic_name: v.clinic.name.clone(),
            parent_origin,
            token,
            slot,
            old: local_when(locale, v.tz, v.start),
            new: local_when(locale, v.tz, slot_id.start),
            summary: summary(locale, &v),
        })
    }

    pub async fn reschedule(token: String, slot: String, carry: Carry) -> Result<(), AppError> {
        let slot_id = parse_slot(&slot)?;
        let view = open_link(&token).await?;
        let store = store()?;
        match store.reschedule_to_slot(view.clinic.id, view.id, slot_id, BookingSource::Widget, now()?).await {
            Ok(_) => {
                // The expiry moves with the appointment: a fresh link.
                let fresh = store.issue_manage_link(&link_key()?, view.id).await?;
                leptos_axum::redirect(&carry.href(&format!("/manage/{fresh}"), &[("done", "rescheduled".into())]));
                Ok(())
            }
            Err(StoreError::SlotTaken | StoreError::SlotUnavailable) => {
                let date = slot_id.start.with_timezone(&view.tz).date_naive().to_string();
                leptos_axum::redirect(&carry.href(
                    &format!("/manage/{token}/reschedule"),
                    &[("date", date), ("taken", slot_id.encode())],
                ));
                Ok(())
            }
            Err(e) => Err(e.into()),
        }
    }
}

fn token_param() -> impl Fn() -> String + Copy {
    let params = use_params_map();
    move || params.read().get("token").unwrap_or_default()
}

#[component]
pub fn ManagePage() -> impl IntoView {
    let token = token_param();
    let query = use_query_map();
    let manage = Resource::new(
        move || {
            let q = query.read();
            (token(), q.get("done"), q.get("lang"), q.get("embed"))
        },
        |(token, done, lang, embed)| load_manage(token, done, lang, embed),
    );
    view! {
        <crate::Page>
            <Suspense fallback=move || view! { <p>{query_locale().t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match manage.await {
                        Ok(m) => view! { <ManageView m/> }.into_any(),
                        Err(e) => view! { <Problem e locale=query_locale()/> }.into_any(),
                    }
                })}
            </Suspense>
        </crate::Page>
    }
}

#[component]
fn Row(label: &'static str, value: String) -> impl IntoView {
    view! {
        <div class="grid grid-cols-3 gap-2 py-1">
            <dt class="font-medium text-slate-600">{label}</dt>
            <dd class="col-span-2">{value}</dd>
        </div>
    }
}

#[component]
fn ManageView(m: Manage) -> impl IntoView {
    let locale = m.locale;
    let carry = Carry { lang: Some(locale.code().into()), embed: m.parent_origin.clone() };
    let cancel = ServerAction::<CancelBooking>::new();
    let problem = crate::refusal(cancel).map(|e| view! { <Problem e locale/> });
    let event = m.event.clone().map(|e| {
        view! { <div hidden data-booking-event=e.kind data-reference=e.reference data-start=e.start></div> }
    });
    let s = m.summary.clone();
    let (reschedule_href, token) = (carry.href(&format!("/manage/{}/reschedule", m.token), &[]), m.token.clone());
    let hidden = carry.hidden_inputs();
    let actions = if m.can_change {
        view! {
            <div class="mt-4 flex flex-col gap-3 sm:flex-row">
                <a href=reschedule_href data-testid="reschedule"
                    class="rounded-lg bg-teal-700 px-4 py-3 text-center font-semibold text-white hover:bg-teal-800">
                    {locale.t(Msg::Reschedule)}
                </a>
            </div>
            <leptos::form::ActionForm action=cancel>
                <input type="hidden" name="token" value=token/>
                {hidden}
                <div class="mt-4 rounded-lg bg-white p-3 ring-1 ring-slate-200">
                    <label for="reason" class="mb-1 block font-medium">{locale.t(Msg::CancelReason)}</label>
                    <textarea id="reason" name="reason" rows="2" maxlength=MAX_REASON.to_string()
                        class="mb-2 w-full rounded-md border border-slate-400 px-3 py-2"></textarea>
                    <button type="submit" data-testid="cancel"
                        class="rounded-lg border border-red-800 px-4 py-2 font-semibold text-red-800 hover:bg-red-50">
                        {locale.t(Msg::Cancel)}
                    </button>
                </div>
            </leptos::form::ActionForm>
        }
        .into_any()
    } else if m.active {
        view! { <p class="mt-4 rounded-lg bg-amber-50 p-3 text-amber-950" data-testid="too-late">{locale.t(Msg::TooLate)}</p> }.into_any()
    } else {
        ().into_any()
    };
    view! {
        <crate::Header locale title=m.clinic_name.clone() parent=m.parent_origin.clone()/>
        {event}
        <h2 class="mb-3 text-xl font-semibold" data-testid="headline" tabindex="-1">
            {m.headline.clone().unwrap_or_else(|| locale.t(Msg::YourAppointment).to_owned())}
        </h2>
        <div aria-live="assertive">{problem}</div>
        <dl class="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200" data-testid="appointment">
            <Row label=locale.t(Msg::When) value=format!("{} ({})", s.when, s.time_zone)/>
            <Row label=locale.t(Msg::What) value=format!("{} · {}", s.service, s.product)/>
            <Row label=locale.t(Msg::Who) value=m.attendee.clone()/>
            <Row label=locale.t(Msg::With) value=s.provider.clone()/>
            <Row label=locale.t(Msg::Where) value=format!("{}, {}", s.location, s.address)/>
            <Row label=locale.t(Msg::Reference) value=m.reference.clone()/>
            <Row label=locale.t(Msg::Status) value=m.status.clone()/>
        </dl>
        {m.active.then(|| view! {
            <p class="mt-3">
                <a href=format!("/manage/{}/calendar.ics", m.token) download="appointment.ics" rel="external"
                    class="text-teal-800 underline" data-testid="ics">{locale.t(Msg::AddToCalendar)}</a>
            </p>
        })}
        <p class="mt-3 text-sm text-slate-600">
            {locale.t(Msg::KeepLink)} " "
            <a href=carry.href(&format!("/manage/{}", m.token), &[]) class="text-teal-800 underline" data-testid="manage-link">{locale.t(Msg::ManageLink)}</a>
        </p>
        {actions}
        {m.can_change.then(|| view! { <p class="mt-2 text-sm text-slate-600">{locale.t(Msg::CutoffRule)} " " {m.cutoff_hours.clone()}</p> })}
        {m.reminder.map(|wanted| view! { <ReminderChoice locale token=m.token.clone() wanted carry=carry.clone()/> })}
    }
}

/// The reminder e-mail, on or off: a form that works without JavaScript.
#[component]
fn ReminderChoice(locale: Locale, token: String, wanted: bool, carry: Carry) -> impl IntoView {
    let set = ServerAction::<SetReminder>::new();
    let problem = crate::refusal(set).map(|e| view! { <Problem e locale/> });
    let (note, button, next) = match wanted {
        true => (Msg::ReminderOn, Msg::TurnReminderOff, "off"),
        false => (Msg::ReminderOff, Msg::TurnReminderOn, "on"),
    };
    view! {
        <leptos::form::ActionForm action=set>
            <input type="hidden" name="token" value=token/>
            <input type="hidden" name="wanted" value=next/>
            {carry.hidden_inputs()}
            <div class="mt-4 flex flex-col gap-2 rounded-lg bg-white p-3 ring-1 ring-slate-200 sm:flex-row sm:items-center sm:justify-between">
                <p data-testid="reminder-state">{locale.t(note)}</p>
                <button type="submit" data-testid="reminder-toggle"
                    class="rounded-lg border border-teal-800 px-4 py-2 font-semibold text-teal-800 hover:bg-teal-50">
                    {locale.t(button)}
                </button>
            </div>
            <div aria-live="assertive">{problem}</div>
        </leptos::form::ActionForm>
    }
}

#[component]
pub fn ReschedulePage() -> impl IntoView {
    let token = token_param();
    let query = use_query_map();
    let picker = Resource::new(
        move || {
            let q = query.read();
            let query = PickerQuery {
                provider: q.get("provider"),
                month: q.get("month"),
                date: q.get("date"),
                taken: q.get("taken"),
                lang: q.get("lang"),
                embed: q.get("embed"),
                token: Some(token()),
                ..PickerQuery::default()
            };
            query
        },
        |query| load_picker(String::new(), query),
    );
    view! {
        <crate::Page>
            <Suspense fallback=move || view! { <p>{query_locale().t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match picker.await {
                        Ok(p) => {
                            let token = token();
                            let carry = Carry { lang: Some(p.locale.code().into()), embed: p.parent_origin.clone() };
                            let back = carry.href(&format!("/manage/{token}"), &[]);
                            let locale = p.locale;
                            let current = p.current.clone().unwrap_or_default();
                            view! {
                                <crate::Header locale title=p.clinic_name.clone() parent=p.parent_origin.clone()/>
                                <p class="mb-3">{locale.t(Msg::OldTime)} ": " <strong>{current}</strong></p>
                                <PickerView p base=format!("/manage/{token}/reschedule") action=TimeAction::Link { to: format!("/manage/{token}/reschedule/confirm"), fixed: true }/>
                                <a href=back class="mt-4 inline-block text-teal-800 underline">{locale.t(Msg::BackToAppointment)}</a>
                            }
                            .into_any()
                        }
                        Err(e) => view! { <Problem e locale=query_locale()/> }.into_any(),
                    }
                })}
            </Suspense>
        </crate::Page>
    }
}

#[component]
pub fn RescheduleConfirmPage() -> impl IntoView {
    let token = token_param();
    let query = use_query_map();
    let details = Resource::new(
        move || {
            let q = query.read();
            (token(), q.get("slot").unwrap_or_default(), q.get("lang"), q.get("embed"))
        },
        |(token, slot, lang, embed)| load_move(token, slot, lang, embed),
    );
    view! {
        <crate::Page>
            <Suspense fallback=move || view! { <p>{query_locale().t(Msg::Loading)}</p> }>
                {move || Suspend::new(async move {
                    match details.await {
                        Ok(d) => view! { <MoveForm d/> }.into_any(),
                        Err(e) => view! { <Problem e locale=query_locale()/> }.into_any(),
                    }
                })}
            </Suspense>
        </crate::Page>
    }
}

#[component]
fn MoveForm(d: MoveDetails) -> impl IntoView {
    let locale = d.locale;
    let carry = Carry { lang: Some(locale.code().into()), embed: d.parent_origin.clone() };
    let reschedule = ServerAction::<RescheduleBooking>::new();
    let problem = crate::refusal(reschedule).map(|e| view! { <Problem e locale/> });
    let back = carry.href(&format!("/manage/{}/reschedule", d.token), &[]);
    view! {
        <crate::Header locale title=d.clinic_name parent=d.parent_origin.clone()/>
        <div aria-live="assertive">{problem}</div>
        <dl class="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200" data-testid="move">
            <Row label=locale.t(Msg::OldTime) value=d.old/>
            <Row label=locale.t(Msg::NewTime) value=format!("{} ({})", d.new, d.summary.time_zone)/>
            <Row label=locale.t(Msg::What) value=format!("{} · {}", d.summary.service, d.summary.product)/>
        </dl>
        <leptos::form::ActionForm action=reschedule>
            <input type="hidden" name="token" value=d.token/>
            <input type="hidden" name="slot" value=d.slot/>
            {carry.hidden_inputs()}
            <button type="submit" data-testid="confirm-move"
                class="mt-4 w-full rounded-lg bg-teal-700 px-4 py-3 font-semibold text-white hover:bg-teal-800">
                {locale.t(Msg::ConfirmReschedule)}
            </button>
        </leptos::form::ActionForm>
        <a href=back class="mt-4 inline-block text-teal-800 underline">{locale.t(Msg::ChangeTime)}</a>
    }
}
