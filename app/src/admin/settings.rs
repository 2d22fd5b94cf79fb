//! The console's overview and the clinic's profile and booking settings.

use super::text::{t, T};
use super::{Console, Field, Frame, Notice, Section, BUTTON, CARD};
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    pub frame: Frame,
    pub locations: i64,
    pub providers: i64,
    pub services: i64,
    /// Booked appointments an edit left outside their provider's rules.
    pub attention: Vec<super::schedule::AffectedRow>,
    pub kept: bool,
}

#[server(endpoint = "admin_overview")]
pub async fn load_overview(done: Option<String>) -> Result<Overview, AppError> {
    use super::session::for_page;
    let result = async {
        let (session, frame) = for_page("/admin", |_| true).await?;
        let store = crate::server::store()?;
        let clinic = session.user.clinic_id;
        let (locations, providers, services) = store.clinic_counts(clinic).await?;
        let flagged = store.needing_attention(clinic, crate::server::now()?).await?;
        let attention = super::schedule::ssr::rows(frame.locale, &flagged);
        Ok(Overview { frame, locations, providers, services, attention, kept: done.as_deref() == Some("kept") })
    };
    crate::server::with_status(result).await
}

/// Staff keep a flagged appointment as it is booked. Desk staff may too: it is a decision
/// about the day, not about the configuration.
#[server(endpoint = "admin_keep_appointment")]
pub async fn keep_appointment(csrf: String, appointment: String) -> Result<(), AppError> {
    use super::session::for_change;
    let result = async {
        let session = for_change(&csrf, |_| true).await?;
        let id: i64 = appointment.trim().parse().map_err(|_| AppError::NotFound { what: "appointment".into() })?;
        let actor = store::staff::Actor::staff(&session.user);
        crate::server::store()?.keep_flagged(session.user.clinic_id, &actor, id, crate::server::now()?).await?;
        leptos_axum::redirect("/admin?done=kept");
        Ok(())
    };
    crate::server::with_status(result).await
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("done"), load_overview);
    super::loaded(data, |o| view! { <OverviewView o/> })
}

#[component]
fn OverviewView(o: Overview) -> impl IntoView {
    let locale = o.frame.locale;
    let booking = format!("/book/{}", o.frame.clinic_slug);
    let counts = [(T::Locations, o.locations), (T::Providers, o.providers), (T::Services, o.services)];
    let keep = ServerAction::<KeepAppointment>::new();
    let problem = crate::refusal(keep).map(|e| view! { <Problem e locale/> });
    let attention = (!o.attention.is_empty()).then(|| {
        let rows = o.attention.clone();
        let csrf = o.frame.csrf.clone();
        view! {
            <section class="mb-6 rounded-xl bg-amber-50 p-4 ring-1 ring-amber-300 sm:p-6" aria-labelledby="attention-title" data-testid="attention">
                <h2 id="attention-title" class="mb-1 text-lg font-semibold">{format!("{} ({})", t(locale, T::NeedsAttention), rows.len())}</h2>
                <p class="mb-2 text-sm text-slate-700">{t(locale, T::NeedsAttentionIntro)}</p>
                <super::schedule::AffectedTable locale rows keep=(csrf, keep)/>
            </section>
        }
    });
    view! {
        <Console frame=o.frame.clone() section=Section::Overview>
            <h1 class="mb-4 text-2xl font-semibold">{t(locale, T::Overview)}</h1>
            {o.kept.then(|| view! { <Notice text=t(locale, T::KeptNotice)/> })}
            <div aria-live="assertive">{problem}</div>
            {attention}
            <section class=CARD aria-labelledby="booking-page">
                <h2 id="booking-page" class="mb-2 text-lg font-semibold">{t(locale, T::BookingPage)}</h2>
                <p>{t(locale, T::BookingPageIntro)} " " <a href=booking.clone() class="text-teal-800 underline" data-testid="booking-link">{booking.clone()}</a></p>
            </section>
            <dl class="grid grid-cols-1 gap-3 sm:grid-cols-3">
                {counts.into_iter().map(|(label, n)| view! {
                    <div class="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
                        <dt class="text-sm text-slate-600">{t(locale, label)}</dt>
                        <dd class="text-2xl font-semibold">{n}</dd>
                    </div>
                }).collect_view()}
            </dl>
        </Console>
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SettingsView {
    pub frame: Frame,
    pub name: String,
    pub default_locale: String,
    pub time_zone: String,
    pub minimum_notice_minutes: u32,
    pub horizon_days: u32,
    pub change_cutoff_minutes: u32,
    pub hold_minutes: u32,
    /// Every IANA zone name, for the list to choose from.
    pub zones: Vec<String>,
    /// What patients are sent.
    pub emails: domain::notify::NotificationSettings,
    /// `saved` or `unchanged` after a post.
    pub done: Option<String>,
}

#[server(endpoint = "admin_settings")]
pub async fn load_settings(done: Option<String>) -> Result<SettingsView, AppError> {
    crate::server::with_status(ssr::load(done)).await
}

#[allow(clippy::too_many_arguments)] // one argument per form field
#[server(endpoint = "admin_save_settings")]
pub async fn save_settings(
    csrf: String,
    name: String,
    default_locale: String,
    time_zone: String,
    minimum_notice_minutes: String,
    horizon_days: String,
    change_cutoff_minutes: String,
    hold_minutes: String,
) -> Result<(), AppError> {
    let numbers = [
        ("minimumNoticeMinutes", minimum_notice_minutes),
        ("horizonDays", horizon_days),
        ("changeCutoffMinutes", change_cutoff_minutes),
        ("holdMinutes", hold_minutes),
    ];
    crate::server::with_status(ssr::save(csrf, name, default_locale, time_zone, numbers)).await
}

/// Saves what patients are sent. A checkbox left unticked is not sent at all: `None` is off.
#[allow(clippy::too_many_arguments)] // one argument per form field
#[server(endpoint = "admin_save_emails")]
pub async fn save_emails(
    csrf: String,
    confirmation: Option<String>,
    rescheduled: Option<String>,
    cancelled: Option<String>,
    reminder: Option<String>,
    reminder_minutes: String,
    sender: String,
    note: String,
) -> Result<(), AppError> {
    let ticks = [confirmation, rescheduled, cancelled, reminder].map(|t| t.is_some_and(|v| !v.is_empty()));
    crate::server::with_status(ssr::save_emails(csrf, ticks, reminder_minutes, sender, note)).await
}

/// A whole number from a form field, refused naming the field.
pub fn whole_number(field: &str, raw: &str) -> Result<u32, AppError> {
    raw.trim().parse::<u32>().map_err(|_| AppError::invalid(field, format!("{:?} is not a whole number of 0 or more", raw.trim())))
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::admin::session::{for_change, for_page};
    use crate::server::{now, store};
    use domain::clinic::ClinicSettings;
    use domain::staff::{ClinicProfile, Role};
    use store::staff::Actor;

    pub async fn load(done: Option<String>) -> Result<SettingsView, AppError> {
        let (session, frame) = for_page("/admin/settings", Role::can_configure).await?;
        let config = store()?.clinic_config(session.user.clinic_id).await?;
        let mut zones: Vec<String> = chrono_tz::TZ_VARIANTS.iter().map(|z| z.name().to_owned()).collect();
        zones.sort();
        let s = config.settings;
        Ok(SettingsView {
            frame,
            name: config.profile.name,
            default_locale: config.profile.default_locale,
            time_zone: config.profile.time_zone,
            minimum_notice_minutes: s.minimum_notice_minutes,
            horizon_days: s.horizon_days,
            change_cutoff_minutes: s.change_cutoff_minutes,
            hold_minutes: s.hold_minutes,
            zones,
            emails: store()?.notification_settings(session.user.clinic_id).await?,
            done: done.filter(|d| d == "saved" || d == "unchanged"),
        })
    }

    pub async fn save_emails(csrf: String, ticks: [bool; 4], reminder_minutes: String, sender: String, note: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let minutes = domain::notify::check_reminder_minutes(i64::from(whole_number("reminderMinutes", &reminder_minutes)?))?;
        let [confirmation, rescheduled, cancelled, reminder] = ticks;
        let settings = domain::notify::NotificationSettings { confirmation, rescheduled, cancelled, reminder, reminder_minutes: minutes, sender, note }.check()?;
        let changed = store()?.update_notification_settings(session.user.clinic_id, &Actor::staff(&session.user), &settings, now()?).await?;
        leptos_axum::redirect(if changed { "/admin/settings?done=saved" } else { "/admin/settings?done=unchanged" });
        Ok(())
    }

    pub async fn save(
        csrf: String,
        name: String,
        default_locale: String,
        time_zone: String,
        numbers: [(&str, String); 4],
    ) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let profile = ClinicProfile::new(&name, &default_locale, &time_zone)?;
        let [notice, horizon, cutoff, hold] = [0, 1, 2, 3].map(|i| whole_number(numbers[i].0, &numbers[i].1));
        let settings = ClinicSettings::new(notice?, horizon?, cutoff?, hold?)?;
        let changed = store()?.update_clinic(session.user.clinic_id, &Actor::staff(&session.user), &profile, &settings, now()?).await?;
        leptos_axum::redirect(if changed { "/admin/settings?done=saved" } else { "/admin/settings?done=unchanged" });
        Ok(())
    }
}

#[component]
pub fn SettingsPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("done"), load_settings);
    super::loaded(data, |s| view! { <SettingsForm s/> })
}

#[component]
fn SettingsForm(s: SettingsView) -> impl IntoView {
    let locale = s.frame.locale;
    let action = ServerAction::<SaveSettings>::new();
    let problem = crate::refusal(action).map(|e| view! { <Problem e locale/> });
    let notice = match s.done.as_deref() {
        Some("saved") => Some(view! { <Notice text=t(locale, T::Saved)/> }),
        Some("unchanged") => Some(view! { <Notice text=t(locale, T::NothingChanged)/> }),
        _ => None,
    };
    let current_zone = s.time_zone.clone();
    let zones = s
        .zones
        .iter()
        .map(|z| view! { <option value=z.clone() selected=*z == current_zone>{z.clone()}</option> })
        .collect_view();
    let emails = view! { <EmailsForm locale csrf=s.frame.csrf.clone() e=s.emails.clone()/> };
    let languages = crate::i18n::Locale::ALL
        .map(|l| view! { <option value=l.code() selected=l.code() == s.default_locale>{l.name()}</option> })
        .collect_view();
    view! {
        <Console frame=s.frame.clone() section=Section::Settings>
            <h1 class="mb-4 text-2xl font-semibold">{t(locale, T::Settings)}</h1>
            {notice}
            <div aria-live="assertive">{problem}</div>
            <leptos::form::ActionForm action>
                <input type="hidden" name="csrf" value=s.frame.csrf.clone()/>
                <fieldset class=CARD>
                    <legend class="px-1 text-lg font-semibold">{t(locale, T::ClinicProfile)}</legend>
                    <Field label=t(locale, T::ClinicName) name="name" value=s.name.clone() autocomplete="organization"/>
                    <div class="mb-4">
                        <label for="default_locale" class="mb-1 block font-medium">{t(locale, T::DefaultLanguage)}</label>
                        <select id="default_locale" name="default_locale" class="rounded-md border border-slate-400 bg-white px-3 py-2">{languages}</select>
                    </div>
                    <div class="mb-4">
                        <label for="time_zone" class="mb-1 block font-medium">{t(locale, T::TimeZone)}</label>
                        <select id="time_zone" name="time_zone" aria-describedby="time_zone-hint"
                            class="w-full max-w-md rounded-md border border-slate-400 bg-white px-3 py-2">{zones}</select>
                        <p id="time_zone-hint" class="mt-1 text-sm text-slate-600">{t(locale, T::TimeZoneHint)}</p>
                    </div>
                </fieldset>
                <fieldset class=CARD>
                    <legend class="px-1 text-lg font-semibold">{t(locale, T::BookingRules)}</legend>
                    <Field label=t(locale, T::MinimumNotice) name="minimum_notice_minutes" kind="number"
                        value=s.minimum_notice_minutes.to_string() hint=t(locale, T::MinimumNoticeHint)/>
                    <Field label=t(locale, T::Horizon) name="horizon_days" kind="number"
                        value=s.horizon_days.to_string() hint=t(locale, T::HorizonHint)/>
                    <Field label=t(locale, T::ChangeCutoff) name="change_cutoff_minutes" kind="number"
                        value=s.change_cutoff_minutes.to_string() hint=t(locale, T::ChangeCutoffHint)/>
                    <Field label=t(locale, T::HoldLength) name="hold_minutes" kind="number"
                        value=s.hold_minutes.to_string() hint=t(locale, T::HoldLengthHint)/>
                </fieldset>
                <button type="submit" class=BUTTON data-testid="save-settings">{t(locale, T::Save)}</button>
            </leptos::form::ActionForm>
            {emails}
        </Console>
    }
}

#[component]
fn EmailsForm(locale: crate::i18n::Locale, csrf: String, e: domain::notify::NotificationSettings) -> impl IntoView {
    let action = ServerAction::<SaveEmails>::new();
    let problem = crate::refusal(action).map(|e| view! { <Problem e locale/> });
    let boxes = [
        ("confirmation", T::SendConfirmation, e.confirmation),
        ("rescheduled", T::SendRescheduled, e.rescheduled),
        ("cancelled", T::SendCancelled, e.cancelled),
        ("reminder", T::SendReminder, e.reminder),
    ]
    .map(|(name, label, ticked)| {
        view! {
            <label class="flex items-center gap-2 py-1">
                <input type="checkbox" name=name value="on" checked=ticked class="h-4 w-4" data-testid=format!("email-{name}")/>
                {t(locale, label)}
            </label>
        }
    })
    .collect_view();
    view! {
        <div aria-live="assertive" class="mt-6">{problem}</div>
        <leptos::form::ActionForm action>
            <input type="hidden" name="csrf" value=csrf/>
            <fieldset class=CARD id="emails">
                <legend class="px-1 text-lg font-semibold">{t(locale, T::PatientEmails)}</legend>
                <p class="mb-3 text-sm text-slate-600">{t(locale, T::PatientEmailsIntro)}</p>
                <fieldset class="mb-4">
                    <legend class="mb-1 font-medium">{t(locale, T::MessagesSent)}</legend>
                    {boxes}
                </fieldset>
                <Field label=t(locale, T::ReminderMinutes) name="reminder_minutes" kind="number"
                    value=e.reminder_minutes.to_string() hint=t(locale, T::ReminderMinutesHint)/>
                <Field label=t(locale, T::Sender) name="sender" value=e.sender.clone() required=false hint=t(locale, T::SenderHint)/>
                <div class="mb-4">
                    <label for="note" class="mb-1 block font-medium">{t(locale, T::EmailNote)}</label>
                    <textarea id="note" name="note" rows="3" maxlength=domain::notify::MAX_NOTE.to_string() aria-describedby="note-hint"
                        class="w-full max-w-md rounded-md border border-slate-400 bg-white px-3 py-2">{e.note.clone()}</textarea>
                    <p id="note-hint" class="mt-1 text-sm text-slate-600">{t(locale, T::EmailNoteHint)}</p>
                </div>
            </fieldset>
            <button type="submit" class=BUTTON data-testid="save-emails">{t(locale, T::SaveEmails)}</button>
        </leptos::form::ActionForm>
    }
}
