//! What stands between the open internet and the browser-facing server functions (the
//! widget's and the console's `POST /api/<name>`): who the client is (its address, or what a
//! trusted proxy reports, and a browser cookie), rate limits per address, a body limit, a
//! same-origin check for every call, and clear 4xx answers for calls that cannot be read.
//! The bot and voice APIs have their own extractors, limits and error shape.
//!
//! Answers come in the caller's form: the hydrated page gets the JSON error its client
//! decodes (`AppError`), a browser posting a form without JavaScript gets a short page in
//! its language with a way back.

use crate::api::RateLimiter;
use app::error::AppError;
use axum::extract::{ConnectInfo, State};
use domain::limits::WidgetClient;
use std::sync::Arc;
use std::time::Instant;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use leptos::server_fn::error::ServerFnErrorErr;

/// The largest body a server function takes: its forms hold a few short fields.
pub const SERVER_FN_BODY_LIMIT: usize = 64 * 1024;
/// Up to this size an oversize body is read before it is refused.
const DRAIN_LIMIT: usize = 1024 * 1024;

/// The cookie a browser keeps its random id in (for the session only).
const BROWSER_COOKIE: &str = "bk_browser";

/// The guard's state: how to find the client's address, and its rate limits.
#[derive(Clone)]
pub struct Guard(Arc<Limits>);

struct Limits {
    client_ip_header: Option<header::HeaderName>,
    /// `hold_slot`: a patient picks a few times; a script picks hundreds.
    holds: RateLimiter<String>,
    /// Bookings, cancellations and moves: each writes an appointment.
    changes: RateLimiter<String>,
    /// Every other call (page data, the console).
    others: RateLimiter<String>,
}

impl Guard {
    pub fn new(client_ip_header: Option<header::HeaderName>) -> Guard {
        Guard(Arc::new(Limits {
            client_ip_header,
            // Generous for people (a waiting room shares an address), tight for scripts: the
            // holds a client keeps are bounded by `domain::limits` anyway.
            holds: RateLimiter::with_burst(60, 30),
            changes: RateLimiter::with_burst(6, 20),
            others: RateLimiter::with_burst(300, 120),
        }))
    }

    fn address(&self, req: &Request) -> String {
        client_address(req, self.0.client_ip_header.as_ref())
    }

    fn limiter(&self, function: &str) -> &RateLimiter<String> {
        match function {
            "hold_slot" => &self.0.holds,
            "confirm_booking" | "cancel_booking" | "reschedule_booking" | "set_reminder" => &self.0.changes,
            _ => &self.0.others,
        }
    }
}

/// The client's address: the trusted proxy's report (the last entry of a list, the one the
/// proxy itself added), else the connection's peer.
pub fn client_address(req: &Request, client_ip_header: Option<&header::HeaderName>) -> String {
    let reported = client_ip_header.and_then(|name| {
        let value = req.headers().get(name)?.to_str().ok()?;
        value.rsplit(',').next()?.trim().parse::<std::net::IpAddr>().ok()
    });
    reported
        .or_else(|| req.extensions().get::<ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip()))
        .map_or_else(|| "unknown".to_owned(), |ip| ip.to_string())
}

/// The browser's id from its cookie, when it is one this server made.
fn browser_id(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(|pair| {
        let value = pair.trim().strip_prefix(BROWSER_COOKIE)?.strip_prefix('=')?;
        (value.len() == 32 && value.bytes().all(|b| b.is_ascii_hexdigit())).then(|| value.to_owned())
    })
}

fn new_browser_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The name of the server function a request calls, if it calls one.
fn server_function(req: &Request) -> Option<&str> {
    let name = req.uri().path().strip_prefix("/api/")?;
    let api = ["v1", "voicebot", "openapi.json", "docs"];
    (!name.is_empty() && !name.contains('/') && !api.contains(&name)).then_some(name)
}

/// Whether the caller is a browser posting a form (and wants a page back).
fn wants_page(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/html"))
}

/// Why a request was refused, and how to say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Unreadable,
    TooLarge,
    ForeignOrigin,
    TooMany,
}

impl Refusal {
    fn status(self) -> StatusCode {
        match self {
            Refusal::Unreadable => StatusCode::BAD_REQUEST,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::ForeignOrigin => StatusCode::FORBIDDEN,
            Refusal::TooMany => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    fn error(self) -> AppError {
        match self {
            Refusal::Unreadable => AppError::invalid("request", "the request could not be read"),
            Refusal::TooLarge => AppError::invalid("request", format!("the request may be at most {SERVER_FN_BODY_LIMIT} bytes")),
            Refusal::ForeignOrigin => AppError::Forbidden,
            Refusal::TooMany => AppError::Busy,
        }
    }

    /// Title and explanation, in English and German.
    fn words(self, german: bool) -> (&'static str, &'static str) {
        match (self, german) {
            (Refusal::Unreadable, false) => ("This request could not be read", "Please go back and try again."),
            (Refusal::Unreadable, true) => ("Diese Anfrage konnte nicht gelesen werden", "Bitte gehen Sie zurück und versuchen Sie es erneut."),
            (Refusal::TooLarge, false) => ("This request is too large", "Please go back and shorten what you typed."),
            (Refusal::TooLarge, true) => ("Diese Anfrage ist zu groß", "Bitte gehen Sie zurück und kürzen Sie Ihre Eingaben."),
            (Refusal::ForeignOrigin, false) => ("This form can only be sent from the booking page", "Please open the booking page and try again there."),
            (Refusal::TooMany, false) => ("Too many requests", "Please wait a minute, then go back and try again."),
            (Refusal::TooMany, true) => ("Zu viele Anfragen", "Bitte warten Sie eine Minute, gehen Sie dann zurück und versuchen Sie es erneut."),
            (Refusal::ForeignOrigin, true) => {
                ("Dieses Formular kann nur von der Buchungsseite gesendet werden", "Bitte öffnen Sie die Buchungsseite und versuchen Sie es dort erneut.")
            }
        }
    }
}

/// Whether the browser prefers German (the pages' other language).
fn prefers_german(headers: &HeaderMap) -> bool {
    let languages = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
    languages.split(',').next().is_some_and(|first| first.trim().to_ascii_lowercase().starts_with("de"))
}

/// A path on this server to go back to: the form's page when the browser named it.
fn way_back(headers: &HeaderMap) -> String {
    let referer = headers.get(header::REFERER).and_then(|v| v.to_str().ok()).unwrap_or("");
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or("");
    referer
        .split_once("://")
        .and_then(|(_, rest)| rest.strip_prefix(host))
        .filter(|path| !host.is_empty() && path.starts_with('/') && !path.starts_with("//"))
        .map_or_else(|| "/".to_owned(), str::to_owned)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The answer to a refused call, as a page or as the JSON the page's client decodes.
pub fn refuse(refusal: Refusal, headers: &HeaderMap) -> Response {
    if !wants_page(headers) {
        let body = serde_json::to_vec(&refusal.error()).unwrap_or_default();
        return (refusal.status(), [(header::CONTENT_TYPE, HeaderValue::from_static("application/json"))], body).into_response();
    }
    let (title, hint) = refusal.words(prefers_german(headers));
    page(refusal.status(), title, hint, headers)
}

/// A short page in the browser's language saying what went wrong, with a way back.
fn page(status: StatusCode, title: &str, hint: &str, headers: &HeaderMap) -> Response {
    let german = prefers_german(headers);
    let back = if german { "Zurück" } else { "Back" };
    let (title, hint) = (escape(title), escape(hint));
    let page = format!(
        r#"<!DOCTYPE html>
<html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:system-ui,sans-serif;margin:0;padding:2rem 1rem;color:#0f172a;background:#f8fafc}}main{{max-width:36rem;margin:auto}}
div{{border:1px solid #fca5a5;background:#fef2f2;color:#7f1d1d;border-radius:.5rem;padding:1rem}}a{{color:#1d4ed8}}</style></head>
<body><main><div role="alert" data-testid="problem"><h1 style="font-size:1.25rem;margin:0 0 .5rem">{title}</h1><p style="margin:0">{hint}</p></div>
<p><a href="{href}">{back}</a></p></main></body></html>"#,
        lang = if german { "de" } else { "en" },
        href = escape(&way_back(headers)),
    );
    (status, [(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"))], page).into_response()
}

/// Whether a server function's error says its arguments could not be read: the call was
/// malformed (a missing field, JSON instead of a form, junk), not the server broken.
fn unreadable(error: &AppError) -> bool {
    matches!(
        error,
        AppError::Transport(ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) | ServerFnErrorErr::Deserialization(_))
    )
}

/// The error a server function answered with, from the address it sends a form's browser
/// back to, or from its body.
async fn answered_error(response: Response) -> (Option<AppError>, Response) {
    let (parts, body) = response.into_parts();
    if parts.status.is_redirection() {
        let error = parts
            .headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|location| location.split_once('?'))
            .and_then(|(_, query)| query.split('&').find_map(|pair| pair.strip_prefix("__err=")))
            .and_then(|encoded| {
                let encoded = encoded.replace("%3D", "=");
                base64::engine::general_purpose::URL_SAFE.decode(encoded).ok()
            })
            .and_then(|bytes| serde_json::from_slice(&bytes).ok());
        if error.is_some() {
            return (error, Response::from_parts(parts, body));
        }
        // Without a page to go back to, the error stays in the body.
    }
    // Error bodies are small; a larger one is no error of the arguments.
    let bytes = axum::body::to_bytes(body, 64 * 1024).await.unwrap_or_default();
    let error = serde_json::from_slice(&bytes).ok();
    (error, Response::from_parts(parts, Body::from(bytes)))
}

/// The middleware: who the client is, then for server functions the origin, the rate limit,
/// the body limit, and 400 for unreadable calls instead of a 500 each.
pub async fn server_functions(State(guard): State<Guard>, mut req: Request, next: Next) -> Response {
    let browser = browser_id(req.headers());
    let client = WidgetClient { address: guard.address(&req), browser: browser.clone() };
    req.extensions_mut().insert(client.clone());
    let Some(name) = server_function(&req).map(str::to_owned) else {
        // The booking pages give a browser its id, so that patients behind one address (a
        // household, a waiting room) do not share one allowance of holds.
        let pages = req.uri().path().starts_with("/book/");
        let mut response = next.run(req).await;
        if pages && browser.is_none() {
            let cookie = format!("{BROWSER_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax", new_browser_id());
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        return response;
    };
    let headers = req.headers().clone();
    if req.method() == axum::http::Method::POST {
        if let Some(why) = app::server::foreign_origin(&headers, req.uri().authority().map(|a| a.as_str())) {
            tracing::warn!(function = %name, why, "a server function call from another site was refused");
            return refuse(Refusal::ForeignOrigin, &headers);
        }
    }
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > SERVER_FN_BODY_LIMIT as u64) {
        tracing::debug!(function = %name, "a server function call with an oversize body was refused");
        // A somewhat larger body is read to its end first, so that the client, still sending,
        // gets the 413 rather than a reset connection; a far larger one is simply cut off.
        if declared.is_some_and(|n| n <= DRAIN_LIMIT as u64) {
            let _ = axum::body::to_bytes(req.into_body(), DRAIN_LIMIT).await;
        }
        return refuse(Refusal::TooLarge, &headers);
    }
    if req.method() == axum::http::Method::POST {
        if let Err(wait) = guard.limiter(&name).check(client.address.clone(), Instant::now()) {
            tracing::debug!(function = %name, address = %client.address, wait, "a server function call was rate-limited");
            let mut response = refuse(Refusal::TooMany, &headers);
            if let Ok(value) = HeaderValue::from_str(&wait.to_string()) {
                response.headers_mut().insert(header::RETRY_AFTER, value);
            }
            return response;
        }
    }
    // A body without a declared length is cut off at the limit; reading it then fails.
    let req = req.map(|body| Body::new(http_body_util::Limited::new(body, SERVER_FN_BODY_LIMIT)));
    let response = next.run(req).await;
    if !response.headers().contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER) {
        return response;
    }
    let (error, response) = answered_error(response).await;
    match error {
        Some(e) if unreadable(&e) => {
            // Debug, not error: anyone can send junk, and each would otherwise be an alarm.
            tracing::debug!(function = %name, error = %e, "an unreadable server function call was refused");
            refuse(Refusal::Unreadable, &headers)
        }
        // A browser that asked for a page gets one, whatever the function answered.
        Some(e) if wants_page(&headers) && !response.status().is_redirection() => {
            let locale = if prefers_german(&headers) { app::i18n::Locale::De } else { app::i18n::Locale::En };
            let hint = if locale == app::i18n::Locale::De { Refusal::Unreadable.words(true).1 } else { Refusal::Unreadable.words(false).1 };
            page(e.status(), &e.message(locale), hint, &headers)
        }
        // server_fn answers every error 500; the error itself knows its status (a console
        // call without a session is 401, not a server failure).
        Some(e) if response.status() == StatusCode::INTERNAL_SERVER_ERROR => {
            let (mut parts, body) = response.into_parts();
            parts.status = e.status();
            Response::from_parts(parts, body)
        }
        _ => response,
    }
}
