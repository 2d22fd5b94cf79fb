//! Webhook subscriptions of the caller's clinic and their delivery log. The chat-bot
//! vendor's contract: subscriptions at clinic level, many events each, at most 25 a clinic,
//! `X-Webhook-Signature: sha256=<hex>`; the Standard Webhooks headers come with every delivery.

use super::error::ApiError;
use super::extract::{path_id, ApiJson, ApiQuery, IdInput};
use super::{schema, Api};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use chrono::{SecondsFormat, Utc};
use domain::delivery::{check_description, parse_events};
use domain::outbound::check_url;
use domain::webhook::SigningKeys;
use serde::Deserialize;
use store::credentials::{CredentialKind, Facility};
use store::staff::Actor;
use store::webhooks::{AttemptLog, NewSubscription, Subscription};
use store::StoreError;
use utoipa::{IntoParams, ToSchema};

/// Snake_case names are read too, and unknown fields ignored (see `appointments::SlotChoice`).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewWebhook {
    /// The caller's clinic, by id (as `GET /calendars` gives it) or slug; when absent, the
    /// caller's clinic too. Another clinic is 404.
    #[serde(alias = "clinic_id")]
    #[schema(value_type = Option<String>)]
    clinic_id: Option<IdInput>,
    /// https, or http for hosts the operator lists in BOOKING_WEBHOOK_ALLOW_HOSTS.
    url: String,
    #[serde(alias = "event_types", alias = "eventTypes")]
    events: Vec<String>,
    description: Option<String>,
    /// The shared secret: any printable text of at least 16 characters (a `whsec_` secret is
    /// base64 of at least 24 bytes after the prefix); generated when absent.
    secret: Option<String>,
}

fn iso(t: chrono::DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

fn view(s: Subscription, secret: Option<String>) -> schema::Webhook {
    schema::Webhook {
        id: s.id.to_string(),
        clinic_id: s.clinic_id.to_string(),
        url: s.url,
        events: s.events.iter().map(|e| e.as_str().to_owned()).collect(),
        description: s.description,
        created_at: iso(s.created_at),
        enabled: s.disabled_at.is_none(),
        disabled_reason: s.disabled_reason,
        failing_since: s.failing_since.map(iso),
        location_id: s.location_id.map(|l| l.to_string()),
        secret,
    }
}


/// Subscribes a URL to events of the caller's clinic. The answer carries the signing secret,
/// the only time it is shown.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", request_body = NewWebhook,
    summary = "Subscribes a URL to appointment and patient events",
    responses((status = 201, body = schema::Webhook)))]
pub async fn create(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    body: ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<schema::Webhook>), ApiError> {
    let new = body.value;
    if let Some(clinic) = &new.clinic_id {
        let ours = match clinic {
            IdInput::Text(slug) if slug.trim().parse::<i64>().is_err() => {
                slug.trim().eq_ignore_ascii_case(api.store.clinic_config(facility.clinic_id).await?.slug.as_str())
            }
            id => id.parse("clinicId")? == facility.clinic_id,
        };
        if !ours {
            return Err(ApiError::not_found("clinic"));
        }
    }
    let url = check_url(&new.url, &api.webhook_allow_hosts)?;
    let events = parse_events(&new.events)?;
    let description = check_description(new.description.as_deref().unwrap_or_default())?;
    let secret = match new.secret {
        Some(given) => {
            SigningKeys::from_secret(&given)?;
            given
        }
        None => store::webhooks::new_secret(),
    };
    let subscription = NewSubscription {
        clinic_id: facility.clinic_id,
        url: url.as_str(),
        events: &events,
        description: &description,
        secret: &secret,
        // The clinic's own (admin) subscriptions outlive the admin user who made them; an
        // integration's end with its keys.
        owner_id: (facility.kind != CredentialKind::Admin).then_some(facility.credential_id),
        location_id: facility.location_id,
    };
    let created = api.store.create_subscription(&Actor::api(&facility.username), &subscription, api.clock.now()).await?;
    Ok((StatusCode::CREATED, Json(view(created, Some(secret)))))
}

/// Whether the caller may see and manage a subscription: a credential for the whole clinic
/// manages all of the clinic's; a location's credential (a branch's bot) only its own.
fn manages(facility: &Facility, s: &Subscription) -> bool {
    facility.location_id.is_none() || s.owner_id == Some(facility.credential_id)
}

/// The subscription `id` names, if the caller manages it; else 404, never someone else's.
async fn managed(api: &Api, facility: &Facility, id: &str) -> Result<i64, ApiError> {
    let id = path_id(id, "webhook")?;
    match api.store.subscription(facility.clinic_id, id).await {
        Ok(s) if manages(facility, &s) => Ok(id),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(ApiError::not_found("webhook")),
        Err(e) => Err(e.into()),
    }
}

/// The caller's clinic's subscriptions (a location's credential: its own), without secrets.
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks",
    summary = "Lists the clinic's webhook subscriptions",
    responses((status = 200, body = schema::WebhookList)))]
pub async fn list(State(api): State<Api>, Extension(facility): Extension<Facility>) -> Result<Json<schema::WebhookList>, ApiError> {
    let all = api.store.subscriptions(facility.clinic_id).await?;
    Ok(Json(schema::WebhookList { webhooks: all.into_iter().filter(|s| manages(&facility, s)).map(|s| view(s, None)).collect() }))
}

/// Deletes a subscription; deliveries still queued for it are dropped.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", tag = "webhooks", params(("id" = String, Path)),
    summary = "Deletes a webhook subscription",
    responses((status = 204, description = "deleted")))]
pub async fn delete(State(api): State<Api>, Extension(facility): Extension<Facility>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    let id = managed(&api, &facility, &id).await?;
    api.store.delete_subscription(&Actor::api(&facility.username), facility.clinic_id, id, api.clock.now()).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LogQuery {
    /// How many attempts, newest first: 1 to 100, default 50.
    limit: Option<i64>,
}

fn attempt(a: AttemptLog) -> schema::DeliveryAttempt {
    schema::DeliveryAttempt {
        delivery_id: a.delivery_id.to_string(),
        event_id: a.event_id,
        event_type: a.event_type,
        attempt: a.attempt,
        attempted_at: iso(a.attempted_at),
        status_code: a.status_code,
        latency_ms: a.latency_ms,
        error: a.error,
        state: a.state,
    }
}

/// Recent delivery attempts of a subscription, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = String, Path), LogQuery),
    summary = "Recent delivery attempts with status code and latency",
    responses((status = 200, body = schema::DeliveryLog)))]
pub async fn deliveries(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LogQuery>,
) -> Result<Json<schema::DeliveryLog>, ApiError> {
    let limit = q.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be between 1 and 100"));
    }
    let log = api.store.delivery_log(facility.clinic_id, managed(&api, &facility, &id).await?, limit).await?;
    Ok(Json(schema::DeliveryLog { deliveries: log.into_iter().map(attempt).collect() }))
}

/// Sends an event again, with the same event id, as soon as a worker is free.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver", tag = "webhooks",
    params(("id" = String, Path), ("deliveryId" = String, Path)),
    summary = "Queues one more attempt of a delivery",
    responses(
        (status = 409, description = "the subscription is disabled", body = schema::ErrorBody),
        (status = 202, body = schema::Redelivery)))]
pub async fn redeliver(
    State(api): State<Api>,
    Extension(facility): Extension<Facility>,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<(StatusCode, Json<schema::Redelivery>), ApiError> {
    let subscription = managed(&api, &facility, &id).await?;
    let delivery = path_id(&delivery, "delivery")?;
    api.store.redeliver(facility.clinic_id, subscription, delivery, api.clock.now()).await.map_err(|e| match e {
        StoreError::Rule(rule) => ApiError::new(StatusCode::CONFLICT, "webhook_disabled", rule.to_string()),
        other => other.into(),
    })?;
    Ok((StatusCode::ACCEPTED, Json(schema::Redelivery { delivery_id: delivery.to_string(), state: "pending".into() })))
}

// The same operations under `/api/v1/admin`, for the clinic's admin credential: the handlers
// above serve both, scoped to the caller's clinic; these name the admin paths in the
// OpenAPI document.

/// Subscribes a URL to events of the caller's clinic (admin credential).
#[utoipa::path(post, path = "/api/v1/admin/webhooks", tag = "admin", request_body = NewWebhook,
    summary = "Subscribes a URL to appointment and patient events; the answer carries the secret, shown once",
    responses((status = 201, body = schema::Webhook)))]
pub async fn admin_create(
    state: State<Api>,
    facility: Extension<Facility>,
    body: ApiJson<NewWebhook>,
) -> Result<(StatusCode, Json<schema::Webhook>), ApiError> {
    create(state, facility, body).await
}

/// The clinic's subscriptions (admin credential).
#[utoipa::path(get, path = "/api/v1/admin/webhooks", tag = "admin",
    summary = "Lists the clinic's webhook subscriptions, whoever made them",
    responses((status = 200, body = schema::WebhookList)))]
pub async fn admin_list(state: State<Api>, facility: Extension<Facility>) -> Result<Json<schema::WebhookList>, ApiError> {
    list(state, facility).await
}

/// Deletes a subscription (admin credential).
#[utoipa::path(delete, path = "/api/v1/admin/webhooks/{id}", tag = "admin", params(("id" = String, Path)),
    summary = "Deletes a webhook subscription",
    responses((status = 204, description = "deleted")))]
pub async fn admin_delete(state: State<Api>, facility: Extension<Facility>, id: Path<String>) -> Result<StatusCode, ApiError> {
    delete(state, facility, id).await
}

/// A subscription's recent delivery attempts (admin credential).
#[utoipa::path(get, path = "/api/v1/admin/webhooks/{id}/deliveries", tag = "admin", params(("id" = String, Path), LogQuery),
    summary = "Recent delivery attempts with status code and latency",
    responses((status = 200, body = schema::DeliveryLog)))]
pub async fn admin_deliveries(
    state: State<Api>,
    facility: Extension<Facility>,
    id: Path<String>,
    query: ApiQuery<LogQuery>,
) -> Result<Json<schema::DeliveryLog>, ApiError> {
    deliveries(state, facility, id, query).await
}

/// Sends an event again (admin credential).
#[utoipa::path(post, path = "/api/v1/admin/webhooks/{id}/deliveries/{deliveryId}/redeliver", tag = "admin",
    params(("id" = String, Path), ("deliveryId" = String, Path)),
    summary = "Queues one more attempt of a delivery",
    responses(
        (status = 409, description = "the subscription is disabled", body = schema::ErrorBody),
        (status = 202, body = schema::Redelivery)))]
pub async fn admin_redeliver(
    state: State<Api>,
    facility: Extension<Facility>,
    ids: Path<(String, String)>,
) -> Result<(StatusCode, Json<schema::Redelivery>), ApiError> {
    redeliver(state, facility, ids).await
}
