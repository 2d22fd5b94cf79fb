//! The waiting-room display at `/desk/display/<location>?key=…`: per provider, the queue
//! number being served and the next ones, in large type for a screen across the room. It is
//! opened by a display link (no sign-in on a TV), which the clinic can revoke at any time;
//! names appear only when the clinic turned them on for that link, and then only as first
//! name and initial. Staff who configure the clinic manage the links at `/desk/displays`.
//!
//! Who is served: the patients checked in today and not yet done, in order of arrival (queue
//! number). The first is the one being served (or called next); marking them done at the desk
//! moves everyone up.

use super::text::{d, D};
use crate::admin::{Console, Frame, Section, BUTTON, CARD};
use crate::i18n::Locale;
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_meta::{Html, Title};
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};

/// How many waiting numbers a provider's column lists after the one being served.
pub const NEXT_SHOWN: usize = 5;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Serving {
    pub provider: String,
    pub now: Option<String>,
    pub next: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplayView {
    pub locale: Locale,
    pub clinic_name: String,
    pub location_name: String,
    pub columns: Vec<Serving>,
    /// The change stream of this display.
    pub live: String,
}

#[server(endpoint = "desk_display")]
pub async fn load_display(location: String, key: Option<String>, lang: Option<String>) -> Result<DisplayView, AppError> {
    crate::server::with_status(ssr::display(location, key, lang)).await
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkRow {
    pub id: i64,
    pub location: String,
    pub label: String,
    pub show_names: bool,
    pub created: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisplaysView {
    pub frame: Frame,
    pub places: Vec<super::Place>,
    pub links: Vec<LinkRow>,
    /// The link just created, shown this once.
    pub created: Option<String>,
}

#[server(endpoint = "desk_displays")]
pub async fn load_displays(location: Option<String>, key: Option<String>) -> Result<DisplaysView, AppError> {
    crate::server::with_status(ssr::displays(location, key)).await
}

#[server(endpoint = "desk_display_create")]
pub async fn create_display(csrf: String, location: String, label: String, show_names: Option<String>) -> Result<(), AppError> {
    crate::server::with_status(ssr::create(csrf, location, label, show_names)).await
}

#[server(endpoint = "desk_display_revoke")]
pub async fn revoke_display(csrf: String, link: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::revoke(csrf, link)).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::admin::session::{for_change, for_page, site_origin};
    use crate::server::{now, param_id, store};
    use domain::appointment::AppointmentStatus;
    use domain::staff::Role;
    use store::staff::Actor;

    pub async fn display(location: String, key: Option<String>, lang: Option<String>) -> Result<DisplayView, AppError> {
        let location_id = param_id(Some(&location), "location").ok().flatten().ok_or_else(|| AppError::NotFound { what: "display".into() })?;
        let key = key.unwrap_or_default();
        let store = store()?;
        // A wrong, revoked or foreign link is "not found": a screen learns nothing from trying.
        let link = store.open_display_link(location_id, &key).await?.ok_or_else(|| AppError::NotFound { what: "display".into() })?;
        let clinic = store.clinic_by_id(link.clinic_id).await?;
        let locale = lang.as_deref().and_then(Locale::parse).or_else(|| Locale::parse(&clinic.default_locale)).unwrap_or_default();
        let clinic_name = clinic.name.clone();
        let catalogue = store.catalogue_of(clinic).await?;
        let place = catalogue.locations.iter().find(|l| l.id == location_id).ok_or_else(|| AppError::NotFound { what: "display".into() })?;
        let today = now()?.with_timezone(&place.tz).date_naive();
        let appointments = store.desk_day(link.clinic_id, Some(location_id), today).await?;
        let mut columns: Vec<(i64, Serving)> = Vec::new();
        for offer in catalogue.offers.iter().filter(|o| o.location_id == location_id) {
            if !columns.iter().any(|(id, _)| *id == offer.provider_id) {
                columns.push((offer.provider_id, Serving { provider: offer.display_name.clone(), now: None, next: Vec::new() }));
            }
        }
        let mut waiting: Vec<_> = appointments.iter().filter(|a| a.status == AppointmentStatus::CheckedIn && a.queue_number.is_some()).collect();
        waiting.sort_by_key(|a| (a.provider_id, a.queue_number));
        for a in waiting {
            let i = match columns.iter().position(|(id, _)| *id == a.provider_id) {
                Some(i) => i,
                None => {
                    columns.push((a.provider_id, Serving { provider: a.provider_name.clone(), now: None, next: Vec::new() }));
                    columns.len() - 1
                }
            };
            let number = a.queue_number.unwrap_or_default().to_string();
            let entry = match (&a.patient, link.show_names) {
                (Some(p), true) => format!("{number} · {} {}.", p.first_name, p.last_name.chars().next().map(String::from).unwrap_or_default()),
                _ => number,
            };
            let column = &mut columns[i].1;
            if column.now.is_none() {
                column.now = Some(entry);
            } else if column.next.len() < NEXT_SHOWN {
                column.next.push(entry);
            }
        }
        Ok(DisplayView {
            locale,
            clinic_name,
            location_name: place.name.clone(),
            columns: columns.into_iter().map(|(_, c)| c).collect(),
            live: format!("/desk/display/{location_id}/events?key={}", crate::nav::encode(key.trim())),
        })
    }

    pub async fn displays(location: Option<String>, key: Option<String>) -> Result<DisplaysView, AppError> {
        let (session, frame) = for_page("/desk/displays", Role::can_configure).await?;
        let store = store()?;
        let clinic = store.clinic_by_id(session.user.clinic_id).await?;
        let catalogue = store.catalogue_of(clinic).await?;
        let config = store.clinic_config(session.user.clinic_id).await?;
        let tz = domain::zone::parse_zone(&config.profile.time_zone).unwrap_or(chrono_tz::UTC);
        let name_of = |id: i64| catalogue.locations.iter().find(|l| l.id == id).map(|l| l.name.clone()).unwrap_or_default();
        let links = store
            .display_links(session.user.clinic_id)
            .await?
            .into_iter()
            .map(|l| LinkRow {
                id: l.id,
                location: name_of(l.location_id),
                label: l.label,
                show_names: l.show_names,
                created: l.created_at.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string(),
            })
            .collect();
        // Only the shape is checked here; the link itself is checked when a screen opens it.
        let created = match (param_id(location.as_deref(), "location").ok().flatten(), key) {
            (Some(location), Some(key)) if key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit()) => {
                Some(format!("{}/desk/display/{location}?key={key}", site_origin()))
            }
            _ => None,
        };
        let places = catalogue.locations.iter().map(|l| super::super::Place { id: l.id, name: l.name.clone() }).collect();
        Ok(DisplaysView { frame, places, links, created })
    }

    pub async fn create(csrf: String, location: String, label: String, show_names: Option<String>) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let location = param_id(Some(&location), "location")?.ok_or_else(|| AppError::invalid("location", "choose a location"))?;
        let show_names = match show_names.as_deref().map(str::trim) {
            None | Some("") | Some("false") => false,
            Some("on") | Some("true") => true,
            Some(other) => return Err(AppError::invalid("show_names", format!("{other:?} is not on or off"))),
        };
        let (link, token) =
            store()?.create_display_link(&Actor::staff(&session.user), session.user.clinic_id, location, &label, show_names, now()?).await?;
        leptos_axum::redirect(&format!("/desk/displays?location={}&key={token}", link.location_id));
        Ok(())
    }

    pub async fn revoke(csrf: String, link: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let id = param_id(Some(&link), "link")?.ok_or_else(|| AppError::invalid("link", "choose a display link"))?;
        store()?.revoke_display_link(&Actor::staff(&session.user), session.user.clinic_id, id, now()?).await?;
        leptos_axum::redirect("/desk/displays");
        Ok(())
    }
}

#[component]
pub fn DisplayPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || (params.read().get("location").unwrap_or_default(), query.read().get("key"), query.read().get("lang")),
        |(location, key, lang)| load_display(location, key, lang),
    );
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => view! { <Display v/> }.into_any(),
                    Err(_) => {
                        let locale = crate::nav::query_locale();
                        view! {
                            <Html attr:lang=locale.code()/>
                            <main class="mx-auto max-w-xl p-6">
                                <h1 class="text-xl font-semibold" data-testid="display-refused">{d(locale, D::DisplayRevoked)}</h1>
                            </main>
                        }
                        .into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn Display(v: DisplayView) -> impl IntoView {
    let locale = v.locale;
    let columns = v
        .columns
        .iter()
        .map(|c| {
            let next = if c.next.is_empty() {
                view! { <p class="text-2xl text-slate-400">"—"</p> }.into_any()
            } else {
                let items = c.next.iter().map(|n| view! { <li class="text-3xl font-semibold tabular-nums sm:text-4xl">{n.clone()}</li> }).collect_view();
                view! { <ol class="space-y-1" data-testid="display-next">{items}</ol> }.into_any()
            };
            let now = match &c.now {
                Some(n) => view! { <p class="text-7xl font-bold tabular-nums text-teal-300 sm:text-8xl" data-testid="display-now">{n.clone()}</p> }.into_any(),
                None => view! { <p class="text-3xl text-slate-400" data-testid="display-idle">{d(locale, D::NobodyWaiting)}</p> }.into_any(),
            };
            view! {
                <section class="rounded-2xl bg-slate-800 p-6" data-testid="display-column">
                    <h2 class="mb-4 text-3xl font-semibold sm:text-4xl">{c.provider.clone()}</h2>
                    <p class="text-xl uppercase tracking-wide text-slate-300">{d(locale, D::NowServing)}</p>
                    {now}
                    <p class="mt-6 text-xl uppercase tracking-wide text-slate-300">{d(locale, D::Next)}</p>
                    {next}
                </section>
            }
        })
        .collect_view();
    view! {
        <Html attr:lang=locale.code() attr:class="bg-slate-900"/>
        <Title text=format!("{} · {}", v.clinic_name, v.location_name)/>
        <script src="/live.js" defer></script>
        <main class="min-h-screen bg-slate-900 p-6 text-white sm:p-10">
            <header class="mb-8">
                <p class="text-2xl text-slate-300">{v.clinic_name.clone()}</p>
                <h1 class="text-4xl font-bold sm:text-5xl">{v.location_name.clone()}</h1>
            </header>
            <div id="display-board" data-live=v.live.clone() class="grid gap-6 md:grid-cols-2 xl:grid-cols-3" data-testid="display-board">{columns}</div>
        </main>
    }
}

#[component]
pub fn DisplaysPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || (query.read().get("location"), query.read().get("key")), |(location, key)| load_displays(location, key));
    crate::admin::loaded(data, |v| view! { <Displays v/> })
}

#[component]
fn Displays(v: DisplaysView) -> impl IntoView {
    let locale = v.frame.locale;
    let create = ServerAction::<CreateDisplay>::new();
    let revoke = ServerAction::<RevokeDisplay>::new();
    let problem = crate::refusal(create).or_else(|| crate::refusal(revoke)).map(|e| view! { <Problem e locale/> });
    let created = v.created.clone().map(|link| {
        view! {
            <section role="status" class="mb-6 rounded-xl bg-teal-50 p-4 ring-1 ring-teal-200" data-testid="display-created">
                <h2 class="mb-1 font-semibold">{d(locale, D::DisplayLink)}</h2>
                <p class="mb-2 text-sm">{d(locale, D::DisplayLinkHint)}</p>
                <input type="text" readonly value=link.clone() aria-label=d(locale, D::DisplayLink) data-testid="display-link"
                    class="w-full rounded-md border border-slate-400 bg-white px-3 py-2 font-mono text-sm"/>
                <p class="mt-2"><a href=link class="text-teal-800 underline" target="_blank" rel="noopener">{d(locale, D::Open)}</a></p>
            </section>
        }
    });
    let rows = if v.links.is_empty() {
        view! { <p>{d(locale, D::NoDisplays)}</p> }.into_any()
    } else {
        let csrf = v.frame.csrf.clone();
        let items = v
            .links
            .clone()
            .into_iter()
            .map(|l| {
                let csrf = csrf.clone();
                let names = if l.show_names { d(locale, D::NamesShown) } else { d(locale, D::NamesHidden) };
                let title = if l.label.is_empty() { l.location.clone() } else { format!("{} · {}", l.location, l.label) };
                view! {
                    <li class="flex flex-wrap items-center justify-between gap-3 border-t border-slate-200 py-3" data-testid="display-link-row">
                        <div>
                            <p class="font-medium">{title.clone()}</p>
                            <p class="text-sm text-slate-600">{names} " · " {l.created}</p>
                        </div>
                        <leptos::form::ActionForm action=revoke>
                            <input type="hidden" name="csrf" value=csrf/>
                            <input type="hidden" name="link" value=l.id.to_string()/>
                            <button type="submit" class="rounded-md border border-red-800 px-3 py-1 text-sm text-red-800 hover:bg-red-50" data-testid="revoke-display">
                                {d(locale, D::Revoke)} <span class="sr-only">": " {title}</span>
                            </button>
                        </leptos::form::ActionForm>
                    </li>
                }
            })
            .collect_view();
        view! { <ul>{items}</ul> }.into_any()
    };
    let places = v.places.iter().map(|p| view! { <option value=p.id.to_string()>{p.name.clone()}</option> }).collect_view();
    view! {
        <Console frame=v.frame.clone() section=Section::Desk>
            <h1 class="mb-2 text-2xl font-semibold">{d(locale, D::Displays)}</h1>
            <p class="mb-4 max-w-3xl text-slate-700">{d(locale, D::DisplaysIntro)}</p>
            {created}
            <div class=CARD>{rows}</div>
            <div aria-live="assertive">{problem}</div>
            <leptos::form::ActionForm action=create>
                <fieldset class=CARD>
                    <legend class="px-1 text-lg font-semibold">{d(locale, D::NewDisplay)}</legend>
                    <input type="hidden" name="csrf" value=v.frame.csrf.clone()/>
                    <div class="mb-4">
                        <label for="display-location" class="mb-1 block font-medium">{d(locale, D::Location)}</label>
                        <select id="display-location" name="location" class="rounded-md border border-slate-400 bg-white px-3 py-2">{places}</select>
                    </div>
                    <div class="mb-4">
                        <label for="display-label" class="mb-1 block font-medium">{d(locale, D::Label)}</label>
                        <input id="display-label" name="label" type="text" maxlength="80" aria-describedby="display-label-hint"
                            class="w-full max-w-md rounded-md border border-slate-400 bg-white px-3 py-2"/>
                        <p id="display-label-hint" class="mt-1 text-sm text-slate-600">{d(locale, D::LabelHint)}</p>
                    </div>
                    <div class="mb-4 flex items-start gap-2">
                        <input id="display-names" name="show_names" type="checkbox" class="mt-1 h-4 w-4" aria-describedby="display-names-hint"/>
                        <div>
                            <label for="display-names" class="font-medium">{d(locale, D::ShowNames)}</label>
                            <p id="display-names-hint" class="text-sm text-slate-600">{d(locale, D::ShowNamesHint)}</p>
                        </div>
                    </div>
                    <button type="submit" class=BUTTON data-testid="create-display">{d(locale, D::CreateLink)}</button>
                </fieldset>
            </leptos::form::ActionForm>
        </Console>
    }
}
