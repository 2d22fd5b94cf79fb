//! The bot REST API (`/api/v1` and `/v1`): the chat-bot provider contract. Every request is
//! authenticated as one facility, and everything it reads or writes is scoped to it: another
//! facility's ids answer 404, never data.

mod admin;
mod appointments;
mod auth;
mod catalogue;
mod credentials;
pub mod error;
mod extract;
pub mod openapi;
pub mod schema;
pub mod staff;
pub mod voice;
mod webhooks;

pub use auth::RateLimiter;

use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};
use axum::Router;
use domain::outbound::AllowHosts;
use std::sync::Arc;
use store::credentials::Facility;
use store::{Clock, Store};

/// Largest request body accepted, in bytes.
pub const MAX_BODY: usize = 16 * 1024;

#[derive(Clone)]
pub struct Api {
    pub store: Store,
    pub limiter: Arc<RateLimiter>,
    /// Failed authentications per client address and per user id named.
    pub failures: Arc<auth::Failures>,
    /// Hosts whose webhook URLs may use plain http and internal addresses.
    pub webhook_allow_hosts: AllowHosts,
    pub clock: Clock,
}

/// How the API is set up, from the server's settings.
#[derive(Debug, Clone)]
pub struct ApiOptions {
    /// Requests a minute per facility (and per server instance), also the burst allowed.
    pub requests_per_minute: u32,
    pub webhook_allow_hosts: AllowHosts,
    /// Where every handler reads the time: the system clock except in tests.
    pub clock: Clock,
    /// The header a trusted reverse proxy puts the client's address in (`X-Forwarded-For`,
    /// `X-Real-IP`, ...); without it, the connection's peer is the client.
    pub client_ip_header: Option<axum::http::HeaderName>,
    /// How long a rendered booking page may be served again (`crate::pages`); zero for never.
    pub page_cache: std::time::Duration,
    /// Request metrics and worker readiness (`crate::observe`), shared with `/metrics`.
    pub ops: crate::observe::Ops,
}

impl Default for ApiOptions {
    fn default() -> Self {
        ApiOptions {
            requests_per_minute: crate::config::DEFAULT_API_RATE_LIMIT,
            webhook_allow_hosts: AllowHosts::default(),
            clock: Clock::system(),
            client_ip_header: None,
            page_cache: crate::pages::DEFAULT_KEEP,
            ops: Default::default(),
        }
    }
}

impl Api {
    pub fn new(store: Store, options: &ApiOptions) -> Api {
        Api {
            store,
            limiter: Arc::new(RateLimiter::new(options.requests_per_minute)),
            failures: Arc::new(auth::Failures::new(options.client_ip_header.clone())),
            webhook_allow_hosts: options.webhook_allow_hosts.clone(),
            clock: options.clock,
        }
    }
}

/// The routes, to be nested under `/api/v1` and `/v1`.
pub fn routes(api: Api) -> Router {
    let bot = Router::new()
        .route("/calendars", get(catalogue::calendars))
        .route("/patient", get(catalogue::patient))
        .route("/availability", get(catalogue::availability))
        .route("/appointments", post(appointments::create).get(appointments::list))
        .route("/appointments/{id}", get(appointments::one))
        .route("/appointments/{id}/reschedule", put(appointments::reschedule))
        .route("/appointments/{id}/cancel", put(appointments::cancel))
        .route("/credentials/rotate", post(credentials::rotate_own))
        .route("/webhooks", post(webhooks::create).get(webhooks::list))
        .route("/webhooks/{id}", delete(webhooks::delete))
        .route("/webhooks/{id}/deliveries", get(webhooks::deliveries))
        .route("/webhooks/{id}/deliveries/{delivery_id}/redeliver", post(webhooks::redeliver))
        .route_layer(axum::middleware::from_fn_with_state(api.clone(), auth::bot_only));
    let staff = Router::new()
        .route("/appointments", post(staff::create))
        .route("/appointments/{id}/check-in", post(staff::check_in))
        .route("/appointments/{id}/complete", post(staff::complete))
        .route("/appointments/{id}/no-show", post(staff::no_show))
        .route("/appointments/{id}/emails", get(staff::emails))
        .route("/patients/{id}/register", post(staff::register))
        .route("/credentials/rotate", post(credentials::rotate_own))
        .route_layer(axum::middleware::from_fn_with_state(api.clone(), auth::staff_only));
    let admin = Router::new()
        .route("/clinic", get(admin::get_clinic).put(admin::put_clinic))
        .route("/audit", get(admin::audit))
        .route("/credentials", get(credentials::list).post(credentials::create))
        .route("/credentials/{user}/rotate", post(credentials::rotate))
        .route("/credentials/{user}/revoke", post(credentials::revoke))
        .route("/voice-lines", get(credentials::voice_lines).post(credentials::add_voice_line))
        .route("/voice-lines/{sip_id}", delete(credentials::remove_voice_line))
        .route("/webhooks", post(webhooks::admin_create).get(webhooks::admin_list))
        .route("/webhooks/{id}", delete(webhooks::admin_delete))
        .route("/webhooks/{id}/deliveries", get(webhooks::admin_deliveries))
        .route("/webhooks/{id}/deliveries/{delivery_id}/redeliver", post(webhooks::admin_redeliver))
        .route("/credentials/rotate", post(credentials::rotate_own))
        .route_layer(axum::middleware::from_fn_with_state(api.clone(), auth::admin_only));
    Router::new()
        // The documentation is public: it holds nothing of any facility.
        .route("/openapi.json", get(openapi::document))
        .route("/docs", get(openapi::page))
        .merge(bot)
        .nest("/staff", staff)
        .nest("/admin", admin)
        .fallback(|| async { error::ApiError::not_found("endpoint") })
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "this path does not take this method")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(api)
}

/// `POST /api/voicebot`, for voice credentials; other methods are 405 in the same error shape.
pub fn voice_routes<S: Clone + Send + Sync + 'static>(api: Api) -> Router<S> {
    Router::new()
        .route("/api/voicebot", post(voice::dispatch).route_layer(axum::middleware::from_fn_with_state(api.clone(), auth::voice_only)))
        .method_not_allowed_fallback(|| async {
            error::ApiError::new(axum::http::StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed", "the voice-bot endpoint takes POST")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(api)
}

/// Whether a facility may see something at `location_id`.
fn covers(facility: &Facility, location_id: i64) -> bool {
    facility.location_id.is_none_or(|l| l == location_id)
}
