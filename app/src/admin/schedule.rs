//! When providers work: the clinic's holidays and, per provider, weekly hours per location
//! (with validity dates), closed days, extra hours and labelled blocks.

use super::text::{t, T};
use super::{CellLabel, Console, Field, Frame, Notice, Section, Table, BUTTON, CARD, CELL, ROW};
use crate::i18n::Locale;
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleIndex {
    pub frame: Frame,
    /// (id, name, archived) of every provider.
    pub providers: Vec<(i64, String, bool)>,
    /// (YYYY-MM-DD, name).
    pub holidays: Vec<(String, String)>,
    pub done: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub id: i64,
    /// What the rule says, as people read it.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderScheduleView {
    pub frame: Frame,
    pub provider_id: i64,
    pub provider_name: String,
    pub hours: Vec<Rule>,
    pub exceptions: Vec<Rule>,
    pub blocks: Vec<Rule>,
    /// The clinic's current locations (id, name, zone).
    pub locations: Vec<(i64, String, String)>,
    /// The zone blocks are entered in (the clinic's).
    pub time_zone: String,
    pub done: Option<String>,
}

#[server(endpoint = "admin_schedule")]
pub async fn load_index(done: Option<String>) -> Result<ScheduleIndex, AppError> {
    crate::server::with_status(ssr::index(done).await)
}

#[server(endpoint = "admin_provider_schedule")]
pub async fn load_provider(provider: String, done: Option<String>) -> Result<ProviderScheduleView, AppError> {
    crate::server::with_status(ssr::provider(provider, done).await)
}

#[server(endpoint = "admin_add_holiday")]
pub async fn add_holiday(csrf: String, date: String, name: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::add_holiday(csrf, date, name).await)
}

#[server(endpoint = "admin_remove_holiday")]
pub async fn remove_holiday(csrf: String, date: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::remove_holiday(csrf, date).await)
}

#[allow(clippy::too_many_arguments)] // one argument per form field
#[server(endpoint = "admin_add_hours")]
pub async fn add_hours(
    csrf: String,
    provider: String,
    location: String,
    weekday: String,
    start: String,
    end: String,
    valid_from: String,
    valid_until: String,
) -> Result<(), AppError> {
    crate::server::with_status(ssr::add_hours(csrf, provider, location, weekday, start, end, valid_from, valid_until).await)
}

/// `kind` is `closed` (start and end ignored) or `extra`.
#[server(endpoint = "admin_add_exception")]
pub async fn add_exception(csrf: String, provider: String, date: String, kind: String, start: String, end: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::add_exception(csrf, provider, date, kind, start, end).await)
}

#[server(endpoint = "admin_add_block")]
pub async fn add_block(csrf: String, provider: String, date: String, start: String, end: String, label: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::add_block(csrf, provider, date, start, end, label).await)
}

/// `kind` is `hours`, `exception` or `block`.
#[server(endpoint = "admin_remove_rule")]
pub async fn remove_rule(csrf: String, provider: String, kind: String, id: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::remove_rule(csrf, provider, kind, id).await)
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::admin::session::{for_change, for_page};
    use crate::server::{now, store};
    use domain::schedule::{parse_date, parse_optional_date, parse_time, ExceptionDef, HoursDef};
    use domain::staff::Role;
    use store::schedule_admin::RuleKind;
    use store::staff::Actor;

    fn done(d: Option<String>) -> Option<String> {
        d.filter(|d| d == "saved" || d == "removed")
    }

    fn id(what: &str, raw: &str) -> Result<i64, AppError> {
        raw.trim().parse().map_err(|_| AppError::NotFound { what: what.to_owned() })
    }

    pub async fn index(done_: Option<String>) -> Result<ScheduleIndex, AppError> {
        let (session, frame) = for_page("/admin/schedule", Role::can_configure).await?;
        let store = store()?;
        let c = store.clinic_catalogue(session.user.clinic_id).await?;
        let holidays = store.clinic_holidays(session.user.clinic_id).await?;
        Ok(ScheduleIndex {
            frame,
            providers: c.providers.into_iter().map(|p| (p.id, p.def.name, p.archived)).collect(),
            holidays: holidays.into_iter().map(|h| (h.date.to_string(), h.name)).collect(),
            done: done(done_),
        })
    }

    pub async fn provider(provider: String, done_: Option<String>) -> Result<ProviderScheduleView, AppError> {
        let provider_id = id("provider", &provider)?;
        let (session, frame) = for_page(&format!("/admin/schedule/{provider_id}"), Role::can_configure).await?;
        let store = store()?;
        let clinic_id = session.user.clinic_id;
        let c = store.clinic_catalogue(clinic_id).await?;
        let entry = c.provider(provider_id).ok_or_else(|| AppError::NotFound { what: "provider".into() })?;
        let schedule = store.provider_schedule(clinic_id, provider_id).await?;
        let config = store.clinic_config(clinic_id).await?;
        let tz = domain::zone::parse_zone(&config.profile.time_zone).unwrap_or(chrono_tz::UTC);
        let location_name = |id: i64| c.location(id).map(|l| l.def.name.clone()).unwrap_or_default();
        let locale = frame.locale;
        let weekday = |iso: u8| WEEKDAYS.get(usize::from(iso).wrapping_sub(1)).map_or("", |d| t(locale, *d));
        let hours = schedule
            .hours
            .iter()
            .map(|h| {
                let d = &h.def;
                let mut text = format!("{} {}–{} · {}", weekday(d.weekday), d.start, d.end, location_name(d.location_id));
                match (d.valid_from, d.valid_until) {
                    (Some(f), Some(u)) => text.push_str(&format!(" · {f} – {u}")),
                    (Some(f), None) => text.push_str(&format!(" · {f} –")),
                    (None, Some(u)) => text.push_str(&format!(" · – {u}")),
                    (None, None) => {}
                }
                Rule { id: h.id, text }
            })
            .collect();
        let closed = t(frame.locale, T::ClosedDay);
        let exceptions = schedule
            .exceptions
            .iter()
            .map(|e| Rule {
                id: e.id,
                text: match e.def.extra {
                    None => format!("{} · {closed}", e.def.date),
                    Some((s, end)) => format!("{} · {s}–{end}", e.def.date),
                },
            })
            .collect();
        let blocks = schedule
            .blocks
            .iter()
            .map(|b| {
                let (s, e) = (b.start.with_timezone(&tz), b.end.with_timezone(&tz));
                let end = if s.date_naive() == e.date_naive() { e.format("%H:%M").to_string() } else { e.format("%Y-%m-%d %H:%M").to_string() };
                Rule { id: b.id, text: format!("{}–{end} · {}", s.format("%Y-%m-%d %H:%M"), b.label) }
            })
            .collect();
        Ok(ProviderScheduleView {
            frame,
            provider_id,
            provider_name: entry.def.name.clone(),
            hours,
            exceptions,
            blocks,
            locations: c.locations.iter().filter(|l| !l.archived).map(|l| (l.id, l.def.name.clone(), l.def.time_zone.clone())).collect(),
            time_zone: tz.name().to_owned(),
            done: done(done_),
        })
    }

    pub async fn add_holiday(csrf: String, date: String, name: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let date = parse_date("date", &date)?;
        store()?.add_holiday(session.user.clinic_id, &Actor::staff(&session.user), date, &name, now()?).await?;
        leptos_axum::redirect("/admin/schedule?done=saved");
        Ok(())
    }

    pub async fn remove_holiday(csrf: String, date: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let date = parse_date("date", &date)?;
        store()?.remove_holiday(session.user.clinic_id, &Actor::staff(&session.user), date, now()?).await?;
        leptos_axum::redirect("/admin/schedule?done=removed");
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn add_hours(
        csrf: String,
        provider: String,
        location: String,
        weekday: String,
        start: String,
        end: String,
        valid_from: String,
        valid_until: String,
    ) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let provider_id = id("provider", &provider)?;
        let location = location.trim().parse().map_err(|_| AppError::invalid("location", "choose a location"))?;
        let weekday = weekday.trim().parse().map_err(|_| AppError::invalid("weekday", "choose a weekday"))?;
        let def = HoursDef::new(
            location,
            weekday,
            parse_time("start", &start)?,
            parse_time("end", &end)?,
            parse_optional_date("validFrom", &valid_from)?,
            parse_optional_date("validUntil", &valid_until)?,
        )?;
        store()?.add_hours(session.user.clinic_id, &Actor::staff(&session.user), provider_id, &def, now()?).await?;
        leptos_axum::redirect(&format!("/admin/schedule/{provider_id}?done=saved"));
        Ok(())
    }

    pub async fn add_exception(csrf: String, provider: String, date: String, kind: String, start: String, end: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let provider_id = id("provider", &provider)?;
        let date = parse_date("date", &date)?;
        let def = match kind.as_str() {
            "closed" => ExceptionDef::closed(date),
            "extra" => ExceptionDef::extra(date, parse_time("start", &start)?, parse_time("end", &end)?)?,
            other => return Err(AppError::invalid("kind", format!("{other:?} is neither closed nor extra"))),
        };
        store()?.add_exception(session.user.clinic_id, &Actor::staff(&session.user), provider_id, &def, now()?).await?;
        leptos_axum::redirect(&format!("/admin/schedule/{provider_id}?done=saved"));
        Ok(())
    }

    pub async fn add_block(csrf: String, provider: String, date: String, start: String, end: String, label: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let provider_id = id("provider", &provider)?;
        let date = parse_date("date", &date)?;
        let (start, end) = (parse_time("start", &start)?, parse_time("end", &end)?);
        let store = store()?;
        let config = store.clinic_config(session.user.clinic_id).await?;
        let tz = domain::zone::parse_zone(&config.profile.time_zone).unwrap_or(chrono_tz::UTC);
        let at = |time: domain::LocalTime| domain::zone::instant_at(tz, date.and_time(time.naive()));
        store.add_block(session.user.clinic_id, &Actor::staff(&session.user), provider_id, at(start), at(end), &label, now()?).await?;
        leptos_axum::redirect(&format!("/admin/schedule/{provider_id}?done=saved"));
        Ok(())
    }

    pub async fn remove_rule(csrf: String, provider: String, kind: String, rule: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let provider_id = id("provider", &provider)?;
        let kind = RuleKind::parse(&kind).ok_or_else(|| AppError::NotFound { what: "rule".into() })?;
        let rule = id(kind.name(), &rule)?;
        store()?.remove_rule(session.user.clinic_id, &Actor::staff(&session.user), provider_id, kind, rule, now()?).await?;
        leptos_axum::redirect(&format!("/admin/schedule/{provider_id}?done=removed"));
        Ok(())
    }
}

fn done_notice(locale: Locale, done: Option<&str>) -> Option<impl IntoView> {
    let text = match done? {
        "saved" => T::Saved,
        "removed" => T::RemovedNotice,
        _ => return None,
    };
    Some(view! { <Notice text=t(locale, text)/> })
}

/// ISO weekday order, Monday first.
const WEEKDAYS: [T; 7] = [T::Monday, T::Tuesday, T::Wednesday, T::Thursday, T::Friday, T::Saturday, T::Sunday];

const SMALL_BUTTON: &str = "rounded-md border border-red-800 px-3 py-1 text-sm text-red-800 hover:bg-red-50";
const INPUT: &str = "rounded-md border border-slate-400 bg-white px-3 py-2";

#[component]
pub fn ScheduleIndexPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("done"), load_index);
    super::loaded(data, |v| view! { <IndexView v/> })
}

#[component]
fn IndexView(v: ScheduleIndex) -> impl IntoView {
    let locale = v.frame.locale;
    let add = ServerAction::<AddHoliday>::new();
    let remove = ServerAction::<RemoveHoliday>::new();
    let problem = crate::refusal(add).or_else(|| crate::refusal(remove)).map(|e| view! { <Problem e locale/> });
    let csrf = v.frame.csrf.clone();
    let providers = v
        .providers
        .iter()
        .map(|(id, name, archived)| {
            view! {
                <li class="py-1">
                    <a href=format!("/admin/schedule/{id}") class="font-medium text-teal-800 underline" data-testid="provider-schedule">{name.clone()}</a>
                    {archived.then(|| view! { " " <span class="rounded bg-slate-200 px-1.5 py-0.5 text-xs">{t(locale, T::ArchivedLabel)}</span> })}
                </li>
            }
        })
        .collect_view();
    let holidays = v
        .holidays
        .iter()
        .map(|(date, name)| {
            let (csrf, date2) = (csrf.clone(), date.clone());
            view! {
                <tr class=ROW data-testid="holiday">
                    <td class=CELL><CellLabel text=t(locale, T::Date)/>{date.clone()}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Name)/>{name.clone()}</td>
                    <td class=CELL>
                        <leptos::form::ActionForm action=remove>
                            <input type="hidden" name="csrf" value=csrf/>
                            <input type="hidden" name="date" value=date2/>
                            <button type="submit" class=SMALL_BUTTON>{t(locale, T::Remove)}</button>
                        </leptos::form::ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Console frame=v.frame.clone() section=Section::Schedule>
            <h1 class="mb-2 text-2xl font-semibold">{t(locale, T::Schedule)}</h1>
            <p class="mb-4 text-slate-700">{t(locale, T::ScheduleIntro)}</p>
            {done_notice(locale, v.done.as_deref())}
            <div aria-live="assertive">{problem}</div>
            <section class=CARD aria-labelledby="providers-title">
                <h2 id="providers-title" class="mb-2 text-lg font-semibold">{t(locale, T::Providers)}</h2>
                {if v.providers.is_empty() {
                    view! { <p>{t(locale, T::NoneYet)}</p> }.into_any()
                } else {
                    view! { <ul>{providers}</ul> }.into_any()
                }}
            </section>
            <section class=CARD aria-labelledby="holidays-title">
                <h2 id="holidays-title" class="mb-1 text-lg font-semibold">{t(locale, T::Holidays)}</h2>
                <p class="mb-2 text-sm text-slate-700">{t(locale, T::HolidaysHint)}</p>
                <Table headers=vec![t(locale, T::Date), t(locale, T::Name), ""] actions=t(locale, T::Actions)>{holidays}</Table>
                <leptos::form::ActionForm action=add>
                    <fieldset class="mt-4">
                        <legend class="mb-2 font-semibold">{t(locale, T::AddHoliday)}</legend>
                        <input type="hidden" name="csrf" value=csrf.clone()/>
                        <Field label=t(locale, T::Date) name="date" kind="date" value=String::new()/>
                        <Field label=t(locale, T::Name) name="name" value=String::new() autocomplete="off"/>
                        <button type="submit" class=BUTTON data-testid="add-holiday">{t(locale, T::Add)}</button>
                    </fieldset>
                </leptos::form::ActionForm>
            </section>
        </Console>
    }
}

#[component]
pub fn ProviderSchedulePage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || (params.read().get("provider").unwrap_or_default(), query.read().get("done")),
        |(provider, done)| load_provider(provider, done),
    );
    super::loaded(data, |v| view! { <ProviderView v/> })
}

/// A list of rules, each with its remove button.
#[component]
fn Rules(locale: Locale, rules: Vec<Rule>, kind: &'static str, provider: i64, csrf: String, action: ServerAction<RemoveRule>) -> impl IntoView {
    if rules.is_empty() {
        return view! { <p class="text-slate-700">{t(locale, T::NoneYet)}</p> }.into_any();
    }
    let items = rules
        .into_iter()
        .map(|r| {
            let csrf = csrf.clone();
            view! {
                <li class="flex flex-wrap items-center justify-between gap-2 border-t border-slate-200 py-2" data-testid=format!("rule-{kind}")>
                    <span class="font-mono text-sm">{r.text}</span>
                    <leptos::form::ActionForm action>
                        <input type="hidden" name="csrf" value=csrf/>
                        <input type="hidden" name="provider" value=provider.to_string()/>
                        <input type="hidden" name="kind" value=kind/>
                        <input type="hidden" name="id" value=r.id.to_string()/>
                        <button type="submit" class=SMALL_BUTTON>{t(locale, T::Remove)}</button>
                    </leptos::form::ActionForm>
                </li>
            }
        })
        .collect_view();
    view! { <ul>{items}</ul> }.into_any()
}

#[component]
fn ProviderView(v: ProviderScheduleView) -> impl IntoView {
    let locale = v.frame.locale;
    let csrf = v.frame.csrf.clone();
    let provider = v.provider_id;
    let remove = ServerAction::<RemoveRule>::new();
    let hours = ServerAction::<AddHours>::new();
    let exception = ServerAction::<AddException>::new();
    let block = ServerAction::<AddBlock>::new();
    let problem = crate::refusal(hours)
        .or_else(|| crate::refusal(exception))
        .or_else(|| crate::refusal(block))
        .or_else(|| crate::refusal(remove))
        .map(|e| view! { <Problem e locale/> });
    let locations = v
        .locations
        .iter()
        .map(|(id, name, zone)| view! { <option value=id.to_string()>{format!("{name} ({zone})")}</option> })
        .collect_view();
    let weekdays = WEEKDAYS
        .into_iter()
        .enumerate()
        .map(|(i, day)| view! { <option value=(i + 1).to_string()>{t(locale, day)}</option> })
        .collect_view();
    let hidden = move |csrf: String| {
        view! {
            <input type="hidden" name="csrf" value=csrf/>
            <input type="hidden" name="provider" value=provider.to_string()/>
        }
    };
    let time_input = move |id: &'static str, label: T| {
        view! {
            <div>
                <label for=id class="mb-1 block font-medium">{t(locale, label)}</label>
                <input type="time" id=id name=id.split('-').next_back().unwrap_or(id) required class=INPUT/>
            </div>
        }
    };
    let (csrf1, csrf2, csrf3, csrf4, csrf5, csrf6) = (csrf.clone(), csrf.clone(), csrf.clone(), csrf.clone(), csrf.clone(), csrf.clone());
    view! {
        <Console frame=v.frame.clone() section=Section::Schedule>
            <p class="mb-2"><a href="/admin/schedule" class="text-teal-800 underline">{t(locale, T::Schedule)}</a></p>
            <h1 class="mb-4 text-2xl font-semibold">{v.provider_name.clone()}</h1>
            {done_notice(locale, v.done.as_deref())}
            <div aria-live="assertive">{problem}</div>
            <section class=CARD aria-labelledby="hours-title">
                <h2 id="hours-title" class="mb-2 text-lg font-semibold">{t(locale, T::WeeklyHours)}</h2>
                <Rules locale rules=v.hours.clone() kind="hours" provider csrf=csrf1 action=remove/>
                <leptos::form::ActionForm action=hours>
                    <fieldset class="mt-4">
                        <legend class="mb-2 font-semibold">{t(locale, T::AddHours)}</legend>
                        {hidden(csrf4)}
                        <div class="flex flex-wrap items-end gap-3">
                            <div>
                                <label for="location" class="mb-1 block font-medium">{t(locale, T::Location)}</label>
                                <select id="location" name="location" required class=INPUT>{locations}</select>
                            </div>
                            <div>
                                <label for="weekday" class="mb-1 block font-medium">{t(locale, T::Weekday)}</label>
                                <select id="weekday" name="weekday" class=INPUT>{weekdays}</select>
                            </div>
                            {time_input("hours-start", T::From)}
                            {time_input("hours-end", T::Until)}
                        </div>
                        <div class="mt-3 flex flex-wrap items-end gap-3">
                            <div>
                                <label for="valid_from" class="mb-1 block font-medium">{t(locale, T::ValidFrom)}</label>
                                <input type="date" id="valid_from" name="valid_from" class=INPUT/>
                            </div>
                            <div>
                                <label for="valid_until" class="mb-1 block font-medium">{t(locale, T::ValidUntil)}</label>
                                <input type="date" id="valid_until" name="valid_until" class=INPUT/>
                            </div>
                            <button type="submit" class=BUTTON data-testid="add-hours">{t(locale, T::Add)}</button>
                        </div>
                    </fieldset>
                </leptos::form::ActionForm>
            </section>
            <section class=CARD aria-labelledby="exceptions-title">
                <h2 id="exceptions-title" class="mb-2 text-lg font-semibold">{t(locale, T::DayChanges)}</h2>
                <Rules locale rules=v.exceptions.clone() kind="exception" provider csrf=csrf2 action=remove/>
                <leptos::form::ActionForm action=exception>
                    <fieldset class="mt-4">
                        <legend class="mb-2 font-semibold">{t(locale, T::AddDayChange)}</legend>
                        {hidden(csrf5)}
                        <div class="flex flex-wrap items-end gap-3">
                            <div>
                                <label for="exception-date" class="mb-1 block font-medium">{t(locale, T::Date)}</label>
                                <input type="date" id="exception-date" name="date" required class=INPUT/>
                            </div>
                            <div>
                                <label for="exception-kind" class="mb-1 block font-medium">{t(locale, T::Kind)}</label>
                                <select id="exception-kind" name="kind" class=INPUT>
                                    <option value="closed">{t(locale, T::ClosedDay)}</option>
                                    <option value="extra">{t(locale, T::ExtraHours)}</option>
                                </select>
                            </div>
                            <div>
                                <label for="exception-start" class="mb-1 block font-medium">{t(locale, T::From)}</label>
                                <input type="time" id="exception-start" name="start" aria-describedby="exception-hint" class=INPUT/>
                            </div>
                            <div>
                                <label for="exception-end" class="mb-1 block font-medium">{t(locale, T::Until)}</label>
                                <input type="time" id="exception-end" name="end" aria-describedby="exception-hint" class=INPUT/>
                            </div>
                            <button type="submit" class=BUTTON data-testid="add-exception">{t(locale, T::Add)}</button>
                        </div>
                        <p id="exception-hint" class="mt-1 text-sm text-slate-600">{t(locale, T::ExtraHoursHint)}</p>
                    </fieldset>
                </leptos::form::ActionForm>
            </section>
            <section class=CARD aria-labelledby="blocks-title">
                <h2 id="blocks-title" class="mb-2 text-lg font-semibold">{t(locale, T::Blocks)}</h2>
                <Rules locale rules=v.blocks.clone() kind="block" provider csrf=csrf3 action=remove/>
                <leptos::form::ActionForm action=block>
                    <fieldset class="mt-4">
                        <legend class="mb-2 font-semibold">{t(locale, T::AddBlock)} " (" {v.time_zone.clone()} ")"</legend>
                        {hidden(csrf6)}
                        <div class="flex flex-wrap items-end gap-3">
                            <div>
                                <label for="block-date" class="mb-1 block font-medium">{t(locale, T::Date)}</label>
                                <input type="date" id="block-date" name="date" required class=INPUT/>
                            </div>
                            {time_input("block-start", T::From)}
                            {time_input("block-end", T::Until)}
                            <div>
                                <label for="block-label" class="mb-1 block font-medium">{t(locale, T::Label)}</label>
                                <input type="text" id="block-label" name="label" class=INPUT/>
                            </div>
                            <button type="submit" class=BUTTON data-testid="add-block">{t(locale, T::Add)}</button>
                        </div>
                    </fieldset>
                </leptos::form::ActionForm>
            </section>
        </Console>
    }
}
