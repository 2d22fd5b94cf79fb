//! `/book/:clinic`: the clinic's next two weeks and the free times of the chosen day.

use crate::AppError;
use chrono::NaiveDate;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// How many local days, starting today, a patient can choose from.
pub const DAYS_SHOWN: i64 = 14;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayAvailability {
    pub clinic_name: String,
    pub location_name: String,
    pub time_zone: String,
    pub service_name: String,
    /// The day whose times are listed.
    pub date: NaiveDate,
    pub date_label: String,
    pub days: Vec<DayOption>,
    pub times: Vec<TimeOption>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayOption {
    pub date: NaiveDate,
    pub weekday: String,
    pub label: String,
    pub free: usize,
}

/// A bookable start time. Labels are made on the server, in the location's zone, so the
/// browser bundle carries no time-zone database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeOption {
    /// RFC 3339 with the location's offset, e.g. `2026-11-23T09:30:00+01:00`.
    pub start: String,
    pub label: String,
}

/// Free times of `clinic` on `date` (YYYY-MM-DD, default: the first day with free times).
#[server(endpoint = "day_availability")]
pub async fn fetch_day_availability(clinic: String, date: Option<String>) -> Result<DayAvailability, AppError> {
    ssr::day_availability(&clinic, date.as_deref()).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use chrono::{Duration, Utc};
    use domain::availability::any_provider;
    use domain::ClinicSlug;
    use store::{AvailabilityRequest, Store};

    pub async fn day_availability(clinic: &str, date: Option<&str>) -> Result<DayAvailability, AppError> {
        let result = compute(clinic, date).await;
        if let (Err(e), Some(response)) = (&result, use_context::<leptos_axum::ResponseOptions>()) {
            use http::StatusCode;
            response.set_status(match e {
                AppError::NotFound { .. } => StatusCode::NOT_FOUND,
                AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::SERVICE_UNAVAILABLE,
            });
        }
        result
    }

    async fn compute(clinic: &str, date: Option<&str>) -> Result<DayAvailability, AppError> {
        let slug = ClinicSlug::parse(clinic)?;
        let store = use_context::<Store>().ok_or_else(|| {
            tracing::error!("no Store in the Leptos context");
            AppError::Unavailable
        })?;
        let ctx = store.booking_context(&slug).await?;
        let tz = ctx.location.tz;
        let now = Utc::now();
        let today = now.with_timezone(&tz).date_naive();
        let last = today + Duration::days(DAYS_SHOWN - 1);
        let requested = match date {
            None | Some("") => None,
            Some(raw) => {
                let parsed = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| AppError::Invalid {
                    field: "date".into(),
                    message: format!("{raw:?} is not a date like 2026-11-23"),
                })?;
                if parsed < today || parsed > last {
                    return Err(AppError::Invalid {
                        field: "date".into(),
                        message: format!("choose a day from {today} to {last}"),
                    });
                }
                Some(parsed)
            }
        };

        let availability = store
            .availability(&AvailabilityRequest {
                clinic_id: ctx.clinic.id,
                location_id: ctx.location.id,
                product_id: ctx.product.id,
                provider_id: None,
                from: today,
                to: last,
                new_patient: false,
                now,
            })
            .await?;
        let per_provider: Vec<Vec<_>> = availability
            .providers
            .iter()
            .map(|p| p.slots.iter().map(|s| s.interval).collect())
            .collect();
        let merged = any_provider(&per_provider);
        let slots_on = |day: NaiveDate| -> Vec<_> {
            merged.iter().filter(|(slot, _)| slot.start.with_timezone(&tz).date_naive() == day).cloned().collect()
        };

        let mut days = Vec::with_capacity(DAYS_SHOWN as usize);
        let mut chosen = None;
        for offset in 0..DAYS_SHOWN {
            let day = today + Duration::days(offset);
            let slots = slots_on(day);
            if chosen.is_none() && (requested == Some(day) || (requested.is_none() && !slots.is_empty())) {
                chosen = Some((day, slots.clone()));
            }
            days.push(DayOption {
                date: day,
                weekday: day.format("%a").to_string(),
                label: day.format("%-d %b").to_string(),
                free: slots.len(),
            });
        }
        let (date, slots) = chosen.unwrap_or_else(|| (today, Vec::new()));
        let times = slots
            .iter()
            .map(|(slot, _)| {
                let local = slot.start.with_timezone(&tz);
                TimeOption { start: local.to_rfc3339(), label: local.format("%H:%M").to_string() }
            })
            .collect();
        Ok(DayAvailability {
            clinic_name: ctx.clinic.name,
            location_name: ctx.location.name,
            time_zone: tz.name().to_owned(),
            service_name: ctx.service.name,
            date,
            date_label: date.format("%A, %-d %B %Y").to_string(),
            days,
            times,
        })
    }
}

#[component]
pub fn BookPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let clinic = move || params.read().get("clinic").unwrap_or_default();
    let availability = Resource::new(
        move || (clinic(), query.read().get("date")),
        |(clinic, date)| fetch_day_availability(clinic, date),
    );
    let (pending, set_pending) = signal(false);
    // Effects run only in the browser: this attribute turns true once the page is hydrated,
    // which is what the end-to-end test waits for before it clicks.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    view! {
        <main
            class="mx-auto max-w-2xl p-4 sm:p-6"
            data-hydrated=move || hydrated.get().to_string()
        >
            <Transition
                fallback=|| view! { <p class="text-slate-500">"Loading times…"</p> }
                set_pending
            >
                {move || Suspend::new(async move {
                    match availability.await {
                        Ok(a) => view! { <Availability a clinic=clinic() pending/> }.into_any(),
                        Err(e) => view! { <Problem e/> }.into_any(),
                    }
                })}
            </Transition>
        </main>
    }
}

#[component]
fn Availability(a: DayAvailability, clinic: String, pending: ReadSignal<bool>) -> impl IntoView {
    let chosen = a.date;
    let days = a
        .days
        .into_iter()
        .map(|d| {
            let selected = d.date == chosen;
            let href = format!("/book/{clinic}?date={}", d.date);
            let class = if selected {
                "block rounded-lg border border-teal-700 bg-teal-700 px-3 py-2 text-center text-white"
            } else if d.free == 0 {
                "block rounded-lg border border-slate-200 bg-white px-3 py-2 text-center text-slate-400"
            } else {
                "block rounded-lg border border-slate-300 bg-white px-3 py-2 text-center hover:border-teal-700"
            };
            let free = if d.free == 0 { "no times".to_string() } else { format!("{} free", d.free) };
            view! {
                <li>
                    <a
                        href=href
                        class=class
                        aria-current=selected.then_some("date")
                        data-date=d.date.to_string()
                    >
                        <span class="block text-xs uppercase tracking-wide">{d.weekday}</span>
                        <span class="block font-medium">{d.label}</span>
                        <span class="block text-xs">{free}</span>
                    </a>
                </li>
            }
        })
        .collect_view();
    let no_times = a.times.is_empty();
    let times = a
        .times
        .into_iter()
        .map(|t| {
            view! {
                <li>
                    <time
                        datetime=t.start
                        class="block rounded-md border border-teal-700 px-3 py-2 text-center font-medium text-teal-800"
                    >
                        {t.label}
                    </time>
                </li>
            }
        })
        .collect_view();

    view! {
        <header class="mb-4">
            <h1 class="text-2xl font-semibold">{a.clinic_name}</h1>
            <p class="text-slate-600">{a.service_name} " · " {a.location_name} " · " {a.time_zone}</p>
        </header>
        <nav aria-label="Choose a day">
            <ul class="grid grid-cols-4 gap-2 sm:grid-cols-7" data-testid="days">{days}</ul>
        </nav>
        <section class="mt-6" aria-live="polite" aria-busy=move || pending.get().to_string()>
            <h2 class="mb-3 text-lg font-medium" data-testid="chosen-date">{a.date_label}</h2>
            {no_times.then(|| view! { <p class="text-slate-600">"No free times on this day."</p> })}
            <ul class="grid grid-cols-3 gap-2 sm:grid-cols-5" data-testid="times">{times}</ul>
        </section>
    }
}

#[component]
fn Problem(e: AppError) -> impl IntoView {
    let message = match e {
        AppError::NotFound { .. } => "We could not find this clinic. Please check the link.".to_string(),
        AppError::Invalid { message, .. } => message,
        AppError::Unavailable | AppError::Transport(_) => {
            "Booking is unavailable right now. Please try again in a moment.".to_string()
        }
    };
    view! {
        <div role="alert" class="rounded-lg border border-red-300 bg-red-50 p-4 text-red-900">{message}</div>
    }
}
