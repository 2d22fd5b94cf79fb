//! The slot picker: location, service, appointment type and provider choices, a month view
//! where days with free times stand out, and the chosen day's times grouped by part of day.
//! Booking and rescheduling both use it; only what a time button does differs.

use crate::i18n::{Locale, Msg};
use crate::nav::Carry;
use crate::AppError;
use chrono::NaiveDate;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// The query string of the picker pages, as typed by the patient or a link.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PickerQuery {
    pub location: Option<String>,
    pub service: Option<String>,
    pub product: Option<String>,
    pub provider: Option<String>,
    pub month: Option<String>,
    pub date: Option<String>,
    /// A slot id that was just taken: the page shows the nearest free times.
    pub taken: Option<String>,
    pub lang: Option<String>,
    pub embed: Option<String>,
    /// A manage link's token: pick a new time for that appointment.
    pub token: Option<String>,
}

impl PickerQuery {
    /// The choice a page's query string holds (never a manage token: that is a path segment).
    pub fn from_params(q: &leptos_router::params::ParamsMap) -> Self {
        PickerQuery {
            location: q.get("location"),
            service: q.get("service"),
            product: q.get("product"),
            provider: q.get("provider"),
            month: q.get("month"),
            date: q.get("date"),
            taken: q.get("taken"),
            lang: q.get("lang"),
            embed: q.get("embed"),
            token: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub id: String,
    pub label: String,
    pub detail: String,
    pub selected: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Day {
    pub date: NaiveDate,
    pub label: String,
    pub free: u16,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Month {
    /// `YYYY-MM`.
    pub key: String,
    pub label: String,
    pub prev: Option<String>,
    pub next: Option<String>,
    /// Empty cells before the 1st in a week starting on Monday.
    pub lead: u8,
    pub days: Vec<Day>,
}

/// A bookable start time. Labels are made on the server, in the location's zone, so the
/// browser bundle carries no time-zone database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOption {
    pub slot: String,
    /// RFC 3339 with the location's offset, e.g. `2026-11-23T09:30:00+01:00`.
    pub start: String,
    pub label: String,
    pub long_label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeGroup {
    pub title: String,
    pub times: Vec<TimeOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Picker {
    pub locale: Locale,
    pub clinic: String,
    pub clinic_name: String,
    pub parent_origin: Option<String>,
    pub locations: Vec<Choice>,
    pub services: Vec<Choice>,
    pub products: Vec<Choice>,
    pub providers: Vec<Choice>,
    /// The selection as query pairs, for links that keep it.
    pub selection: Vec<(String, String)>,
    pub time_zone: String,
    pub location_name: String,
    pub address: String,
    pub month: Month,
    /// The first day with a free time, looked for in the first few months only.
    pub next_available: Option<NaiveDate>,
    /// Whether that search covered the whole booking horizon (so that none means none at all).
    pub searched_all: bool,
    pub date: Option<NaiveDate>,
    pub date_label: String,
    pub groups: Vec<TimeGroup>,
    pub alternatives: Option<Vec<TimeOption>>,
    /// When rescheduling: the appointment's current time.
    pub current: Option<String>,
}

#[server(endpoint = "picker")]
pub async fn load_picker(clinic: String, query: PickerQuery) -> Result<Picker, AppError> {
    crate::server::with_status(ssr::picker(&clinic, query)).await
}

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::*;
    use crate::server::{allow_framing, local_when, locale, now, open_link, param_id, parent_origin, store};
    use chrono::{DateTime, Datelike, Duration, Months, Timelike, Utc};
    use chrono_tz::Tz;
    use domain::{ClinicSlug, SlotId};
    use std::collections::BTreeMap;
    use store::AvailabilityRequest;

    pub fn time_option(locale: Locale, tz: Tz, slot: &SlotId) -> TimeOption {
        let local = slot.start.with_timezone(&tz);
        TimeOption {
            slot: slot.encode(),
            start: local.to_rfc3339(),
            label: locale.time(local.hour(), local.minute()),
            long_label: local_when(locale, tz, slot.start),
        }
    }

    fn parse_month(raw: &str) -> Result<NaiveDate, AppError> {
        NaiveDate::parse_from_str(&format!("{raw}-01"), "%Y-%m-%d")
            .map_err(|_| AppError::invalid("month", format!("{raw:?} is not a month like 2026-11")))
    }

    fn parse_date(raw: &str) -> Result<NaiveDate, AppError> {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d")
            .map_err(|_| AppError::invalid("date", format!("{raw:?} is not a date like 2026-11-23")))
    }

    fn nonempty(v: &Option<String>) -> Option<&str> {
        v.as_deref().map(str::trim).filter(|s| !s.is_empty())
    }

    /// How many months from today the first view looks into for the next free day.
    const NEXT_FREE_LOOKAHEAD_MONTHS: u32 = 3;
    /// Alternatives to a time just taken come from this many days before and after it.
    const ALTERNATIVE_DAYS: i64 = 3;

    /// One view's free times: one start time, one button (with "any provider" the first
    /// provider free at that time takes it; providers come in id order). Each read is
    /// clipped to the bookable days, today to the horizon.
    struct FreeTimes<'a> {
        store: &'a store::Store,
        request: AvailabilityRequest,
        /// Only times that also hold a first visit (who will take them is not known yet).
        anyone: bool,
    }

    impl FreeTimes<'_> {
        /// The free times from `from` to `to`, by start: (start, the slot that takes it).
        async fn between(&self, from: NaiveDate, to: NaiveDate) -> Result<Vec<(DateTime<Utc>, SlotId)>, AppError> {
            let (from, to) = (from.max(self.request.from), to.min(self.request.to));
            if from > to {
                return Ok(Vec::new());
            }
            let request = AvailabilityRequest { from, to, ..self.request.clone() };
            let availability = if self.anyone {
                self.store.availability_for_anyone(&request).await?
            } else {
                self.store.availability(&request).await?
            };
            // A sort and not a map: a month of several providers is thousands of slots. The sort
            // is stable, so of providers free at one time the first in id order keeps it.
            let mut by_start: Vec<(DateTime<Utc>, SlotId)> =
                availability.providers.iter().flat_map(|p| p.slots.iter().map(|s| (s.interval.start, s.id))).collect();
            by_start.sort_by_key(|(start, _)| *start);
            by_start.dedup_by_key(|(start, _)| *start);
            Ok(by_start)
        }

        async fn month(&self, first: NaiveDate) -> Result<Vec<(DateTime<Utc>, SlotId)>, AppError> {
            self.between(first, first + Months::new(1) - Duration::days(1)).await
        }
    }

    pub async fn picker(clinic: &str, q: PickerQuery) -> Result<Picker, AppError> {
        // Read from the request's context before the first await: under load a resumed
        // future may run where that context is not current.
        let store = store()?;
        let now = now()?;
        // Rescheduling fixes location, service and product to the appointment's.
        let (slug, fixed, current) = match nonempty(&q.token) {
            Some(token) => {
                let view = open_link(token).await?;
                if !matches!(view.status, domain::appointment::AppointmentStatus::Booked | domain::appointment::AppointmentStatus::Pending) {
                    return Err(AppError::invalid("status", "this appointment can no longer be rescheduled"));
                }
                let fixed = (view.location_id, view.service_id, view.product_id);
                (view.clinic.slug.clone(), Some(fixed), Some(view))
            }
            None => (ClinicSlug::parse(clinic)?, None, None),
        };
        let catalogue = store.catalogue(&slug).await?;
        let locale = locale(nonempty(&q.lang), &catalogue.clinic.default_locale);
        allow_framing(&catalogue.embed_origins);
        let parent_origin = parent_origin(nonempty(&q.embed), &catalogue.embed_origins);
        build(&store, now, catalogue, locale, parent_origin, fixed, current, q, false).await
    }

    /// The picker as the front desk uses it: for the signed-in staff member's clinic (never
    /// framed), booking anew or moving `appointment`, which the caller has checked belongs to
    /// that clinic. The times offered are those patients are offered; a new booking, whose
    /// patient is chosen only after the time, is offered the times a first visit also fits.
    pub async fn for_desk(clinic_id: i64, locale: Locale, appointment: Option<store::AppointmentView>, q: PickerQuery) -> Result<Picker, AppError> {
        let store = store()?;
        let now = now()?;
        let catalogue = std::sync::Arc::new(store.catalogue_of(store.clinic_by_id(clinic_id).await?).await?);
        let fixed = appointment.as_ref().map(|v| (v.location_id, v.service_id, v.product_id));
        let anyone = appointment.is_none();
        build(&store, now, catalogue, locale, None, fixed, appointment, q, anyone).await
    }

    #[allow(clippy::too_many_arguments)]
    async fn build(
        store: &store::Store,
        now: DateTime<Utc>,
        catalogue: std::sync::Arc<store::Catalogue>,
        locale: Locale,
        parent_origin: Option<String>,
        fixed: Option<(i64, i64, Option<i64>)>,
        current: Option<store::AppointmentView>,
        q: PickerQuery,
        anyone: bool,
    ) -> Result<Picker, AppError> {

        let location = match (fixed, param_id(nonempty(&q.location), "location")?) {
            (Some((l, _, _)), _) => catalogue.locations.iter().find(|x| x.id == l),
            (None, Some(l)) => Some(
                catalogue
                    .locations
                    .iter()
                    .find(|x| x.id == l)
                    .ok_or_else(|| AppError::invalid("location", "this clinic has no such location"))?,
            ),
            (None, None) => catalogue.locations.first(),
        }
        .ok_or(AppError::NotFound { what: "location".into() })?;
        let offered_here = |service_id: i64| {
            catalogue.offers.iter().any(|o| o.location_id == location.id && o.service_id == service_id)
        };
        let service = match (fixed, param_id(nonempty(&q.service), "service")?) {
            (Some((_, s, _)), _) => catalogue.services.iter().find(|x| x.id == s),
            (None, Some(s)) => Some(
                catalogue
                    .services
                    .iter()
                    .find(|x| x.id == s && offered_here(x.id))
                    .ok_or_else(|| AppError::invalid("service", "this service is not offered at this location"))?,
            ),
            (None, None) => catalogue.services.iter().find(|x| offered_here(x.id)),
        }
        .ok_or(AppError::NotFound { what: "service".into() })?;
        let products: Vec<_> = catalogue.products.iter().filter(|p| p.service_id == service.id).collect();
        let product = match (fixed, param_id(nonempty(&q.product), "product")?) {
            (Some((_, _, Some(p))), _) => products.iter().find(|x| x.id == p).copied(),
            (_, Some(p)) => Some(
                products
                    .iter()
                    .find(|x| x.id == p)
                    .copied()
                    .ok_or_else(|| AppError::invalid("product", "this appointment type is not part of the service"))?,
            ),
            (_, None) => products.first().copied(),
        }
        .ok_or(AppError::NotFound { what: "product".into() })?;
        let offers: Vec<_> = catalogue
            .offers
            .iter()
            .filter(|o| o.location_id == location.id && o.service_id == service.id)
            .collect();
        let provider = match nonempty(&q.provider) {
            None | Some("any") => None,
            Some(raw) => {
                let id = param_id(Some(raw), "provider")?;
                Some(
                    offers
                        .iter()
                        .find(|o| Some(o.provider_id) == id)
                        .map(|o| o.provider_id)
                        .ok_or_else(|| AppError::invalid("provider", "nobody by this id offers the service here"))?,
                )
            }
        };

        let tz = location.tz;
        let today = now.with_timezone(&tz).date_naive();
        let settings = &catalogue.settings;
        let last = today + Duration::days(i64::from(settings.horizon_days.max(1)) - 1);
        let first_month = today.with_day(1).expect("day 1 exists");
        let last_month = last.with_day(1).expect("day 1 exists");
        let date = nonempty(&q.date).map(parse_date).transpose()?;
        if let Some(d) = date {
            if d < today || d > last {
                return Err(AppError::invalid("date", format!("choose a day from {today} to {last}")));
            }
        }
        let asked_month = match (nonempty(&q.month), date) {
            (Some(raw), _) => Some(parse_month(raw)?),
            (None, Some(d)) => Some(d.with_day(1).expect("day 1 exists")),
            (None, None) => None,
        };
        if let Some(m) = asked_month {
            if m < first_month || m > last_month {
                return Err(AppError::invalid("month", format!("choose a month from {} to {}", first_month.format("%Y-%m"), last_month.format("%Y-%m"))));
            }
        }

        // A view computes only the days it shows: its month, the first months when it looks
        // for the next free day, the days around a time just taken. Its cost does not grow
        // with the clinic's booking horizon.
        let free = FreeTimes {
            store,
            request: AvailabilityRequest {
                clinic_id: catalogue.clinic.id,
                location_id: location.id,
                product_id: product.id,
                provider_id: provider,
                from: today,
                to: last,
                new_patient: false,
                now,
            },
            anyone,
        };
        let mut months: BTreeMap<NaiveDate, Vec<(DateTime<Utc>, SlotId)>> = BTreeMap::new();
        let mut next_available = None;
        let lookahead = (0..NEXT_FREE_LOOKAHEAD_MONTHS).map(|n| first_month + Months::new(n)).take_while(|m| *m <= last_month);
        let mut searched = first_month;
        for m in lookahead {
            let times = free.month(m).await?;
            next_available = times.first().map(|(start, _)| start.with_timezone(&tz).date_naive());
            months.insert(m, times);
            searched = m;
            if next_available.is_some() {
                break;
            }
        }
        let searched_all = next_available.is_some() || searched == last_month;
        let month_start = asked_month.or_else(|| next_available.map(|d| d.with_day(1).expect("day 1 exists"))).unwrap_or(first_month);
        let by_start = match months.remove(&month_start) {
            Some(times) => times,
            None => free.month(month_start).await?,
        };
        // Each time's local day, once: the zone's offset is a lookup in its transitions.
        let local_days: Vec<NaiveDate> = by_start.iter().map(|(start, _)| start.with_timezone(&tz).date_naive()).collect();
        let mut free_per_day: BTreeMap<NaiveDate, u16> = BTreeMap::new();
        for d in &local_days {
            *free_per_day.entry(*d).or_default() += 1;
        }
        let next_month = month_start + Months::new(1);
        let date = date.or_else(|| free_per_day.keys().next().copied());
        let days = month_start
            .iter_days()
            .take_while(|d| *d < next_month)
            .map(|d| Day { date: d, label: locale.long_date(d), free: free_per_day.get(&d).copied().unwrap_or(0) })
            .collect();
        let month = Month {
            key: month_start.format("%Y-%m").to_string(),
            label: locale.month_label(month_start.year(), month_start.month()),
            prev: (month_start > first_month).then(|| (month_start - Months::new(1)).format("%Y-%m").to_string()),
            next: (month_start < last_month).then(|| next_month.format("%Y-%m").to_string()),
            lead: month_start.weekday().num_days_from_monday() as u8,
            days,
        };

        let mut groups: Vec<TimeGroup> = [Msg::Morning, Msg::Afternoon, Msg::Evening]
            .into_iter()
            .map(|m| TimeGroup { title: locale.t(m).to_owned(), times: Vec::new() })
            .collect();
        if let Some(day) = date {
            for ((_, slot), _) in by_start.iter().zip(&local_days).filter(|(_, d)| **d == day) {
                let hour = slot.start.with_timezone(&tz).hour();
                let group = if hour < 12 { 0 } else if hour < 17 { 1 } else { 2 };
                groups[group].times.push(time_option(locale, tz, slot));
            }
        }
        groups.retain(|g| !g.times.is_empty());

        let alternatives = match nonempty(&q.taken) {
            None => None,
            Some(raw) => {
                let taken = SlotId::parse(raw).map_err(|_| AppError::invalid("taken", "not a slot id"))?;
                let day = taken.start.with_timezone(&tz).date_naive();
                let around = free.between(day - Duration::days(ALTERNATIVE_DAYS), day + Duration::days(ALTERNATIVE_DAYS)).await?;
                let mut near: Vec<&SlotId> = around.iter().map(|(_, s)| s).collect();
                near.sort_by_key(|s| (s.start - taken.start).num_seconds().abs());
                near.truncate(6);
                near.sort_by_key(|s| s.start);
                Some(near.into_iter().map(|s| time_option(locale, tz, s)).collect())
            }
        };

        let selected = |id: i64, chosen: i64| id == chosen;
        let mut providers = vec![Choice {
            id: "any".into(),
            label: locale.t(Msg::AnyProvider).into(),
            detail: String::new(),
            selected: provider.is_none(),
        }];
        providers.extend(offers.iter().map(|o| Choice {
            id: o.provider_id.to_string(),
            label: o.display_name.clone(),
            detail: o.specialty.clone(),
            selected: provider == Some(o.provider_id),
        }));
        let mut selection = vec![
            ("location".to_owned(), location.id.to_string()),
            ("service".to_owned(), service.id.to_string()),
            ("product".to_owned(), product.id.to_string()),
        ];
        if let Some(p) = provider {
            selection.push(("provider".into(), p.to_string()));
        }
        Ok(Picker {
            locale,
            clinic: catalogue.clinic.slug.as_str().to_owned(),
            clinic_name: catalogue.clinic.name.clone(),
            parent_origin,
            locations: catalogue
                .locations
                .iter()
                .map(|l| Choice { id: l.id.to_string(), label: l.name.clone(), detail: l.address.clone(), selected: selected(l.id, location.id) })
                .collect(),
            services: catalogue
                .services
                .iter()
                .filter(|s| offered_here(s.id))
                .map(|s| Choice { id: s.id.to_string(), label: s.name.clone(), detail: String::new(), selected: selected(s.id, service.id) })
                .collect(),
            products: products
                .iter()
                .map(|p| {
                    let mut detail = format!("{} {}", p.duration_minutes, locale.t(Msg::Minutes));
                    if p.price_cents > 0 {
                        detail.push_str(" · ");
                        detail.push_str(&locale.price(p.price_cents));
                    }
                    Choice { id: p.id.to_string(), label: p.name.clone(), detail, selected: selected(p.id, product.id) }
                })
                .collect(),
            providers,
            selection,
            time_zone: tz.name().to_owned(),
            location_name: location.name.clone(),
            address: location.address.clone(),
            month,
            next_available,
            searched_all,
            date,
            date_label: date.map(|d| locale.long_date(d)).unwrap_or_default(),
            groups,
            alternatives,
            current: current.map(|v| local_when(locale, v.tz, v.start)),
        })
    }
}

/// What pressing a time does.
#[derive(Clone)]
pub enum TimeAction {
    /// Book: every time is a submit button of one form that places a hold.
    Hold(ServerAction<crate::book::HoldSlot>),
    /// Every time links to a confirmation step at `to` (`?slot=` added); `fixed` hides the
    /// location, service and type choices (a move keeps them).
    Link { to: String, fixed: bool },
}

/// A group of links, one of which is the current choice.
#[component]
fn ChoiceGroup(title: &'static str, key: &'static str, choices: Vec<Choice>, base: String, keep: Vec<(String, String)>, carry: Carry) -> impl IntoView {
    if choices.len() < 2 {
        return ().into_any();
    }
    let items = choices
        .into_iter()
        .map(|c| {
            let mut pairs: Vec<(&str, String)> = keep.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
            pairs.push((key, c.id.clone()));
            let href = carry.href(&base, &pairs);
            let class = if c.selected {
                "block rounded-lg border-2 border-teal-700 bg-teal-50 px-3 py-2"
            } else {
                "block rounded-lg border border-slate-300 bg-white px-3 py-2 hover:border-teal-700"
            };
            view! {
                <li>
                    <a href=href class=class aria-current=c.selected.then_some("true") data-choice=format!("{key}:{}", c.id)>
                        <span class="block font-medium">{c.label}</span>
                        {(!c.detail.is_empty()).then(|| view! { <span class="block text-sm text-slate-600">{c.detail}</span> })}
                    </a>
                </li>
            }
        })
        .collect_view();
    view! {
        <nav aria-label=title class="mb-4">
            <h2 class="mb-2 text-sm font-semibold uppercase tracking-wide text-slate-600">{title}</h2>
            <ul class="grid grid-cols-1 gap-2 sm:grid-cols-2">{items}</ul>
        </nav>
    }
    .into_any()
}

/// The whole picker for a loaded `Picker`.
#[component]
pub fn PickerView(p: Picker, base: String, action: TimeAction) -> impl IntoView {
    let locale = p.locale;
    let carry = Carry { lang: Some(locale.code().to_owned()), embed: p.parent_origin.clone() };
    let sel = p.selection.clone();
    let keep = |keys: &[&str]| -> Vec<(String, String)> {
        sel.iter().filter(|(k, _)| keys.contains(&k.as_str())).cloned().collect()
    };
    let rescheduling = matches!(action, TimeAction::Link { fixed: true, .. });
    let choices = (!rescheduling).then(|| {
        view! {
            <ChoiceGroup title=locale.t(Msg::Location) key="location" choices=p.locations.clone() base=base.clone() keep=vec![] carry=carry.clone()/>
            <ChoiceGroup title=locale.t(Msg::Service) key="service" choices=p.services.clone() base=base.clone() keep=keep(&["location"]) carry=carry.clone()/>
            <ChoiceGroup title=locale.t(Msg::Duration) key="product" choices=p.products.clone() base=base.clone() keep=keep(&["location", "service"]) carry=carry.clone()/>
        }
    });
    let providers = view! {
        <ChoiceGroup title=locale.t(Msg::Provider) key="provider" choices=p.providers.clone() base=base.clone() keep=keep(&["location", "service", "product"]) carry=carry.clone()/>
    };
    let with_sel = |extra: (&'static str, String)| -> String {
        let mut pairs: Vec<(&str, String)> = sel.iter().map(|(k, v)| (k.as_str(), v.clone())).collect();
        pairs.push(extra);
        carry.href(&base, &pairs)
    };

    // Month view: a grid of days; days with free times are links and stand out.
    let weekday_head = [
        chrono::Weekday::Mon, chrono::Weekday::Tue, chrono::Weekday::Wed, chrono::Weekday::Thu,
        chrono::Weekday::Fri, chrono::Weekday::Sat, chrono::Weekday::Sun,
    ]
    .into_iter()
    .map(|d| view! { <span class="text-center text-xs font-semibold text-slate-600" aria-hidden="true">{locale.weekday_short(d)}</span> })
    .collect_view();
    let blanks = (0..p.month.lead).map(|_| view! { <span aria-hidden="true"></span> }).collect_view();
    let chosen = p.date;
    let days = p
        .month
        .days
        .iter()
        .map(|d| {
            let num = chrono::Datelike::day(&d.date).to_string();
            if d.free == 0 {
                view! {
                    <span class="rounded-md py-2 text-center text-slate-500" aria-label=d.label.clone() data-date=d.date.to_string()>{num}</span>
                }
                .into_any()
            } else {
                let is_chosen = Some(d.date) == chosen;
                let class = if is_chosen {
                    "rounded-md bg-teal-700 py-2 text-center font-semibold text-white"
                } else {
                    "rounded-md bg-teal-50 py-2 text-center font-semibold text-teal-900 ring-1 ring-teal-600 hover:bg-teal-100"
                };
                view! {
                    <a href=with_sel(("date", d.date.to_string())) class=class aria-label=format!("{} ({})", d.label, d.free)
                        aria-current=is_chosen.then_some("date") data-date=d.date.to_string() data-free=d.free.to_string()>
                        {num}
                    </a>
                }
                .into_any()
            }
        })
        .collect_view();
    let month_nav = {
        let prev = p.month.prev.clone().map(|m| {
            view! { <a href=with_sel(("month", m)) class="rounded-md px-3 py-1 ring-1 ring-slate-300" aria-label=locale.t(Msg::PreviousMonth)>"‹"</a> }
        });
        let next = p.month.next.clone().map(|m| {
            view! { <a href=with_sel(("month", m)) class="rounded-md px-3 py-1 ring-1 ring-slate-300" aria-label=locale.t(Msg::NextMonth)>"›"</a> }
        });
        view! {
            <div class="mb-2 flex items-center justify-between">
                <span class="w-10">{prev}</span>
                <h2 class="text-lg font-semibold" data-testid="month">{p.month.label.clone()}</h2>
                <span class="w-10 text-right">{next}</span>
            </div>
        }
    };
    let next_available = p.next_available.filter(|d| Some(*d) != chosen).map(|d| {
        view! {
            <a href=with_sel(("date", d.to_string())) class="mt-2 inline-block text-teal-800 underline" data-testid="next-available">
                {locale.t(Msg::NextAvailable)} ": " {locale.long_date(d)}
            </a>
        }
    });

    let time_button = {
        let action = action.clone();
        let carry = carry.clone();
        move |t: TimeOption| match &action {
            TimeAction::Hold(_) => view! {
                <li>
                    <button type="submit" name="slot" value=t.slot
                        class="w-full rounded-md border border-teal-700 bg-white px-3 py-2 font-medium text-teal-900 hover:bg-teal-50 focus:outline-none focus:ring-2 focus:ring-teal-700"
                        aria-label=t.long_label.clone()>
                        <time datetime=t.start>{t.label}</time>
                    </button>
                </li>
            }
            .into_any(),
            TimeAction::Link { to, .. } => view! {
                <li>
                    <a href=carry.href(to, &[("slot", t.slot)])
                        class="block rounded-md border border-teal-700 bg-white px-3 py-2 text-center font-medium text-teal-900 hover:bg-teal-50"
                        aria-label=t.long_label.clone()>
                        <time datetime=t.start>{t.label}</time>
                    </a>
                </li>
            }
            .into_any(),
        }
    };
    let alternatives = p.alternatives.clone().map(|alts| {
        let none = alts.is_empty();
        let items = alts
            .into_iter()
            .map(|t| {
                let mut t = t;
                t.label = t.long_label.clone();
                time_button.clone()(t)
            })
            .collect_view();
        view! {
            <div role="alert" class="mb-4 rounded-lg border border-amber-400 bg-amber-50 p-4 text-amber-950" data-testid="just-taken">
                <p class="mb-2 font-medium">{locale.t(Msg::JustTaken)}</p>
                {none.then(|| view! { <p>{locale.t(Msg::NoAlternatives)}</p> })}
                <ul class="grid grid-cols-1 gap-2 sm:grid-cols-2" data-testid="alternatives">{items}</ul>
            </div>
        }
    });
    let no_day = chosen.is_none();
    let nothing_soon = p.next_available.is_none();
    let nothing_at_all = nothing_soon && p.searched_all;
    let groups = p
        .groups
        .clone()
        .into_iter()
        .map(|g| {
            let items = g.times.into_iter().map(time_button.clone()).collect_view();
            view! {
                <h3 class="mb-2 mt-4 text-sm font-semibold uppercase tracking-wide text-slate-600">{g.title}</h3>
                <ul class="grid grid-cols-3 gap-2 sm:grid-cols-5">{items}</ul>
            }
        })
        .collect_view();
    let times = view! {
        <section class="mt-6">
            <h2 class="text-lg font-semibold" data-testid="chosen-date">{p.date_label.clone()}</h2>
            <p class="text-sm text-slate-600" data-testid="zone">
                {locale.t(Msg::TimesIn)} " " {p.time_zone.clone()}
                <crate::zone::YourZone clinic_zone=p.time_zone.clone() locale/>
            </p>
            {(no_day && !nothing_soon).then(|| view! { <p>{locale.t(Msg::NoTimesThisDay)}</p> })}
            {nothing_at_all.then(|| view! { <p>{locale.t(Msg::NoTimesAtAll)}</p> })}
            {(no_day && nothing_soon && !nothing_at_all).then(|| view! { <p data-testid="none-soon">{locale.t(Msg::NoTimesSoon)}</p> })}
            {(!no_day && p.groups.is_empty()).then(|| view! { <p>{locale.t(Msg::NoTimesThisDay)}</p> })}
            <div data-testid="times">{groups}</div>
        </section>
    };
    let body = view! {
        {alternatives}
        <section aria-label=locale.t(Msg::ChooseDay) class="rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200">
            {month_nav}
            <div class="grid grid-cols-7 gap-1" data-testid="days">{weekday_head}{blanks}{days}</div>
            {next_available}
        </section>
        {times}
    };
    let picker_body = match action {
        TimeAction::Hold(hold) => view! {
            <leptos::form::ActionForm action=hold>
                <input type="hidden" name="clinic" value=p.clinic.clone()/>
                <input type="hidden" name="provider" value=p.selection.iter().find(|(k, _)| k == "provider").map(|(_, v)| v.clone()).unwrap_or_default()/>
                {carry.hidden_inputs()}
                {body}
            </leptos::form::ActionForm>
        }
        .into_any(),
        TimeAction::Link { .. } => body.into_any(),
    };
    view! {
        {choices}
        {providers}
        <p class="mb-4 text-sm text-slate-600">{p.location_name.clone()} " · " {p.address.clone()}</p>
        {picker_body}
    }
}
