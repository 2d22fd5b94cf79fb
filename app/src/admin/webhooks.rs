//! The clinic's webhook subscriptions: who is told of every appointment change, the log of
//! each delivery attempt, and a button to send a delivery again. A subscription's signing
//! secret is shown once, right after it is made, and never travels in an address.

use super::text::{t, T};
use super::{CellLabel, Console, Field, Frame, Notice, Section, Table, BUTTON, CARD, CELL, ROW};
use crate::{AppError, Problem};
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookRow {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub created: String,
    /// `active`, `failing` or `disabled`.
    pub state: String,
    /// Since when it fails, or why it was disabled.
    pub note: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhooksView {
    pub frame: Frame,
    pub webhooks: Vec<WebhookRow>,
    /// Every event a subscription may name.
    pub events: Vec<String>,
    /// The subscription just made and its secret, shown this once.
    pub issued: Option<(i64, String)>,
    pub done: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttemptRow {
    pub delivery_id: i64,
    pub event: String,
    pub attempt: i64,
    pub at: String,
    /// The receiver's status code, or why none came.
    pub answer: String,
    pub latency_ms: i64,
    pub state: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookView {
    pub frame: Frame,
    pub webhook: WebhookRow,
    pub log: Vec<AttemptRow>,
    pub done: Option<String>,
}

#[server(endpoint = "admin_webhooks")]
pub async fn load_webhooks(done: Option<String>) -> Result<WebhooksView, AppError> {
    crate::server::with_status(ssr::list(done)).await
}

#[server(endpoint = "admin_webhook")]
pub async fn load_webhook(id: String, done: Option<String>) -> Result<WebhookView, AppError> {
    crate::server::with_status(ssr::one(id, done)).await
}

/// `events` are the ticked boxes, `events[appointmentCreated]=on`.
#[server(endpoint = "admin_create_webhook")]
pub async fn create_webhook(csrf: String, url: String, events: Option<BTreeMap<String, String>>, description: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::create(csrf, url, events.unwrap_or_default(), description)).await
}

#[server(endpoint = "admin_delete_webhook")]
pub async fn delete_webhook(csrf: String, id: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::delete(csrf, id)).await
}

#[server(endpoint = "admin_redeliver")]
pub async fn redeliver(csrf: String, webhook: String, delivery: String) -> Result<(), AppError> {
    crate::server::with_status(ssr::redeliver(csrf, webhook, delivery)).await
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::admin::session::{for_change, for_page, session_token};
    use crate::server::{now, store};
    use domain::delivery::{parse_events, EventType};
    use domain::staff::Role;
    use store::staff::Actor;
    use store::webhooks::{NewSubscription, Subscription};

    /// The flash that carries a new secret to the page that shows it.
    const ISSUED: &str = "webhook ";

    fn id(what: &str, raw: &str) -> Result<i64, AppError> {
        raw.trim().parse().map_err(|_| AppError::NotFound { what: what.to_owned() })
    }

    fn row(s: Subscription) -> WebhookRow {
        let (state, note) = match (&s.disabled_at, &s.failing_since) {
            (Some(_), _) => ("disabled", s.disabled_reason.clone().unwrap_or_default()),
            (None, Some(since)) => ("failing", since.format("%Y-%m-%d %H:%M UTC").to_string()),
            (None, None) => ("active", String::new()),
        };
        WebhookRow {
            id: s.id,
            url: s.url,
            events: s.events.iter().map(|e| e.as_str().to_owned()).collect(),
            description: s.description,
            created: s.created_at.date_naive().to_string(),
            state: state.to_owned(),
            note,
        }
    }

    pub async fn list(done: Option<String>) -> Result<WebhooksView, AppError> {
        let (session, frame) = for_page("/admin/webhooks", Role::can_configure).await?;
        let store = store()?;
        let webhooks = store.subscriptions(session.user.clinic_id).await?.into_iter().map(row).collect();
        let issued = match session_token() {
            Some(token) => store.take_flash_starting(&token, ISSUED).await?.and_then(|f| {
                let (id, secret) = f.strip_prefix(ISSUED)?.split_once('\n')?;
                Some((id.parse().ok()?, secret.to_owned()))
            }),
            None => None,
        };
        Ok(WebhooksView {
            frame,
            webhooks,
            events: EventType::ALL.iter().map(|e| e.as_str().to_owned()).collect(),
            issued,
            done: done.filter(|d| d == "deleted"),
        })
    }

    pub async fn one(raw: String, done: Option<String>) -> Result<WebhookView, AppError> {
        let webhook_id = id("webhook", &raw)?;
        let (session, frame) = for_page(&format!("/admin/webhooks/{webhook_id}"), Role::can_configure).await?;
        let store = store()?;
        let webhook = row(store.subscription(session.user.clinic_id, webhook_id).await?);
        let log = store
            .delivery_log(session.user.clinic_id, webhook_id, 100)
            .await?
            .into_iter()
            .map(|a| AttemptRow {
                delivery_id: a.delivery_id,
                event: a.event_type,
                attempt: a.attempt,
                at: a.attempted_at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
                answer: match (a.status_code, a.error) {
                    (Some(code), _) => code.to_string(),
                    (None, Some(e)) => e,
                    (None, None) => String::new(),
                },
                latency_ms: a.latency_ms,
                state: a.state,
            })
            .collect();
        Ok(WebhookView { frame, webhook, log, done: done.filter(|d| d == "redelivered") })
    }

    pub async fn create(csrf: String, url: String, ticked: BTreeMap<String, String>, description: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let allow = use_context::<domain::outbound::AllowHosts>().unwrap_or_default();
        let url = domain::outbound::check_url(&url, &allow)?;
        let names: Vec<&String> = ticked.keys().collect();
        let events = parse_events(&names)?;
        let description = domain::delivery::check_description(&description)?;
        let secret = store::webhooks::new_secret();
        let store = store()?;
        let new = NewSubscription { clinic_id: session.user.clinic_id, url: url.as_str(), events: &events, description: &description, secret: &secret, owner_id: None, location_id: None };
        let created = store.create_subscription(&Actor::staff(&session.user), &new, now()?).await?;
        if let Some(token) = session_token() {
            store.set_flash(&token, &format!("{ISSUED}{}\n{secret}", created.id)).await?;
        }
        leptos_axum::redirect("/admin/webhooks");
        Ok(())
    }

    pub async fn delete(csrf: String, raw: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        store()?.delete_subscription(&Actor::staff(&session.user), session.user.clinic_id, id("webhook", &raw)?, now()?).await?;
        leptos_axum::redirect("/admin/webhooks?done=deleted");
        Ok(())
    }

    pub async fn redeliver(csrf: String, webhook: String, delivery: String) -> Result<(), AppError> {
        let session = for_change(&csrf, Role::can_configure).await?;
        let webhook = id("webhook", &webhook)?;
        store()?.redeliver(session.user.clinic_id, webhook, id("delivery", &delivery)?, now()?).await?;
        leptos_axum::redirect(&format!("/admin/webhooks/{webhook}?done=redelivered"));
        Ok(())
    }
}

const SMALL_BUTTON: &str = "rounded-md border border-slate-500 px-3 py-1 text-sm hover:bg-slate-100";

fn state_label(locale: crate::i18n::Locale, row: &WebhookRow) -> String {
    let state = match row.state.as_str() {
        "disabled" => t(locale, T::WebhookDisabled),
        "failing" => t(locale, T::WebhookFailing),
        _ => t(locale, T::WebhookActive),
    };
    if row.note.is_empty() {
        state.to_owned()
    } else {
        format!("{state} ({})", row.note)
    }
}

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("done"), load_webhooks);
    super::loaded(data, |v| view! { <WebhooksList v/> })
}

#[component]
fn WebhooksList(v: WebhooksView) -> impl IntoView {
    let locale = v.frame.locale;
    let create = ServerAction::<CreateWebhook>::new();
    let problem = crate::refusal(create).map(|e| view! { <Problem e locale/> });
    let rows = v
        .webhooks
        .iter()
        .map(|w| {
            view! {
                <tr class=ROW data-testid="webhook">
                    <td class=CELL><CellLabel text=t(locale, T::WebhookUrl)/>
                        <a href=format!("/admin/webhooks/{}", w.id) class="break-all font-mono text-sm text-teal-800 underline">{w.url.clone()}</a>
                        {(!w.description.is_empty()).then(|| view! { <span class="block text-sm text-slate-600">{w.description.clone()}</span> })}
                    </td>
                    <td class=CELL><CellLabel text=t(locale, T::WebhookEvents)/><span class="font-mono text-sm">{w.events.join(", ")}</span></td>
                    <td class=CELL><CellLabel text=t(locale, T::WebhookState)/>{state_label(locale, w)}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Created)/>{w.created.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    let boxes = v
        .events
        .iter()
        .map(|e| {
            view! {
                <label class="mr-4 inline-flex items-center gap-2 py-1 font-mono text-sm">
                    <input type="checkbox" name=format!("events[{e}]") checked=e.starts_with("appointment") class="h-4 w-4"/>
                    {e.clone()}
                </label>
            }
        })
        .collect_view();
    let issued = v.issued.clone().map(|(id, secret)| {
        view! {
            <section class="mb-6 rounded-xl bg-amber-50 p-4 ring-1 ring-amber-300 sm:p-6" aria-labelledby="secret-title" data-testid="issued-secret">
                <h2 id="secret-title" class="mb-1 text-lg font-semibold">{t(locale, T::WebhookSecret)}</h2>
                <p class="mb-2 text-sm">{t(locale, T::WebhookSecretHint)}</p>
                <label for="secret" class="sr-only">{t(locale, T::WebhookSecret)}</label>
                <input id="secret" readonly value=secret class="w-full max-w-xl rounded-md border border-slate-400 bg-white px-3 py-2 font-mono text-sm" data-testid="secret"/>
                <p class="mt-2"><a href=format!("/admin/webhooks/{id}") class="text-teal-800 underline">{t(locale, T::DeliveryLog)}</a></p>
            </section>
        }
    });
    view! {
        <Console frame=v.frame.clone() section=Section::Webhooks>
            <h1 class="mb-2 text-2xl font-semibold">{t(locale, T::Webhooks)}</h1>
            <p class="mb-4 text-slate-700">{t(locale, T::WebhooksIntro)}</p>
            {(v.done.as_deref() == Some("deleted")).then(|| view! { <Notice text=t(locale, T::RemovedNotice)/> })}
            <div aria-live="assertive">{problem}</div>
            {issued}
            <section class=CARD aria-labelledby="subscriptions-title">
                <h2 id="subscriptions-title" class="mb-2 text-lg font-semibold">{t(locale, T::Subscriptions)}</h2>
                {if v.webhooks.is_empty() {
                    view! { <p>{t(locale, T::NoneYet)}</p> }.into_any()
                } else {
                    view! { <Table headers=vec![t(locale, T::WebhookUrl), t(locale, T::WebhookEvents), t(locale, T::WebhookState), t(locale, T::Created)]>{rows}</Table> }.into_any()
                }}
            </section>
            <leptos::form::ActionForm action=create>
                <fieldset class=CARD>
                    <legend class="px-1 text-lg font-semibold">{t(locale, T::AddWebhook)}</legend>
                    <input type="hidden" name="csrf" value=v.frame.csrf.clone()/>
                    <Field label=t(locale, T::WebhookUrl) name="url" kind="url" value=String::new() hint=t(locale, T::WebhookUrlHint) autocomplete="off"/>
                    <fieldset class="mb-4">
                        <legend class="mb-1 font-medium">{t(locale, T::WebhookEvents)}</legend>
                        {boxes}
                    </fieldset>
                    <Field label=t(locale, T::Description) name="description" value=String::new() required=false autocomplete="off"/>
                    <button type="submit" class=BUTTON data-testid="create-webhook">{t(locale, T::Add)}</button>
                </fieldset>
            </leptos::form::ActionForm>
        </Console>
    }
}

#[component]
pub fn WebhookPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let data = Resource::new(
        move || (params.read().get("id").unwrap_or_default(), query.read().get("done")),
        |(id, done)| load_webhook(id, done),
    );
    super::loaded(data, |v| view! { <WebhookDetail v/> })
}

#[component]
fn WebhookDetail(v: WebhookView) -> impl IntoView {
    let locale = v.frame.locale;
    let csrf = v.frame.csrf.clone();
    let again = ServerAction::<Redeliver>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let problem = crate::refusal(again).or_else(|| crate::refusal(delete)).map(|e| view! { <Problem e locale/> });
    let webhook = v.webhook.id.to_string();
    let rows = v
        .log
        .clone()
        .into_iter()
        .map(|a| {
            let (csrf, webhook) = (csrf.clone(), webhook.clone());
            view! {
                <tr class=ROW data-testid="attempt">
                    <td class=CELL><CellLabel text=t(locale, T::When)/>{a.at}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Event)/><span class="font-mono text-sm">{a.event}</span></td>
                    <td class=CELL><CellLabel text=t(locale, T::Attempt)/>{a.attempt}</td>
                    <td class=CELL><CellLabel text=t(locale, T::Answer)/>{format!("{} · {} ms", a.answer, a.latency_ms)}</td>
                    <td class=CELL><CellLabel text=t(locale, T::WebhookState)/>{a.state}</td>
                    <td class=CELL>
                        <leptos::form::ActionForm action=again>
                            <input type="hidden" name="csrf" value=csrf/>
                            <input type="hidden" name="webhook" value=webhook/>
                            <input type="hidden" name="delivery" value=a.delivery_id.to_string()/>
                            <button type="submit" class=SMALL_BUTTON data-testid="redeliver">{t(locale, T::Redeliver)}</button>
                        </leptos::form::ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <Console frame=v.frame.clone() section=Section::Webhooks>
            <p class="mb-2"><a href="/admin/webhooks" class="text-teal-800 underline">{t(locale, T::Webhooks)}</a></p>
            <h1 class="mb-1 break-all text-xl font-semibold">{v.webhook.url.clone()}</h1>
            <p class="mb-4 text-slate-700">{state_label(locale, &v.webhook)} " · " <span class="font-mono text-sm">{v.webhook.events.join(", ")}</span></p>
            {(v.done.as_deref() == Some("redelivered")).then(|| view! { <Notice text=t(locale, T::RedeliveredNotice)/> })}
            <div aria-live="assertive">{problem}</div>
            <section class=CARD aria-labelledby="log-title">
                <h2 id="log-title" class="mb-2 text-lg font-semibold">{t(locale, T::DeliveryLog)}</h2>
                {if v.log.is_empty() {
                    view! { <p>{t(locale, T::NoDeliveries)}</p> }.into_any()
                } else {
                    view! {
                        <Table headers=vec![t(locale, T::When), t(locale, T::Event), t(locale, T::Attempt), t(locale, T::Answer), t(locale, T::WebhookState), ""] actions=t(locale, T::Actions)>
                            {rows}
                        </Table>
                    }
                    .into_any()
                }}
            </section>
            <section class=CARD aria-labelledby="delete-title">
                <h2 id="delete-title" class="mb-2 text-lg font-semibold">{t(locale, T::Delete)}</h2>
                <leptos::form::ActionForm action=delete>
                    <input type="hidden" name="csrf" value=v.frame.csrf.clone()/>
                    <input type="hidden" name="id" value=webhook.clone()/>
                    <button type="submit" data-testid="delete-webhook" class="rounded-md border border-red-800 px-3 py-1.5 font-medium text-red-800 hover:bg-red-50">{t(locale, T::Delete)}</button>
                </leptos::form::ActionForm>
            </section>
        </Console>
    }
}
