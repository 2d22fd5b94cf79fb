//! Server-side helpers of the pages: reaching the store and the link key, answering with the
//! right status, the embedding policy, and the patient's language.

use crate::i18n::Locale;
use crate::AppError;
use leptos::prelude::*;
use store::links::{LinkError, LinkKey, OpenLinkError};
use store::{AppointmentView, Clock, Store};

/// Who is calling, as the server's guard identified the client (its address, or what a
/// trusted proxy reports, and the browser's cookie id): put into every request's extensions.
pub fn widget_client() -> Option<domain::limits::WidgetClient> {
    use_context::<http::request::Parts>()?.extensions.get::<domain::limits::WidgetClient>().cloned()
}

/// Why a request is not from one of this server's own pages, if a browser says so: another
/// site in `Sec-Fetch-Site`, or an `Origin` whose host is not the one the request was sent to.
/// Browsers send `Origin` with every POST and `Sec-Fetch-Site` with most; a request with
/// neither is not from a browser page and gains nothing a browser could be tricked into (the
/// console's calls also need the session's CSRF token). The widget runs in a frame of this
/// server's origin on the clinic's site, so its calls are same-origin too. One check for the
/// guard in front of every server function and for the console's own.
pub fn foreign_origin(headers: &http::HeaderMap, authority: Option<&str>) -> Option<String> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        if site != "same-origin" && site != "none" {
            return Some(format!("Sec-Fetch-Site: {site}"));
        }
    }
    let origin = text("origin")?;
    let host = text("host").or(authority).map(str::to_ascii_lowercase);
    // Exactly the host: `https://clinic.example/` is not how a browser writes an origin.
    let origin_host = origin.split_once("://").map(|(_, rest)| rest.to_ascii_lowercase());
    match origin_host {
        Some(origin_host) if Some(&origin_host) == host.as_ref() => None,
        _ => Some(format!("Origin: {origin}")),
    }
}

pub fn store() -> Result<Store, AppError> {
    use_context::<Store>().ok_or_else(|| {
        tracing::error!("no Store in the Leptos context");
        AppError::Unavailable
    })
}

/// The server's time. Pages never read the system clock themselves, so that tests can run
/// the server as of any date (see `store::Clock`).
pub fn now() -> Result<chrono::DateTime<chrono::Utc>, AppError> {
    use_context::<Clock>().map(|clock| clock.now()).ok_or_else(|| {
        tracing::error!("no Clock in the Leptos context");
        AppError::Unavailable
    })
}

pub fn link_key() -> Result<LinkKey, AppError> {
    use_context::<LinkKey>().ok_or_else(|| {
        tracing::error!("no LinkKey in the Leptos context");
        AppError::Unavailable
    })
}

/// Sets the response status for an error, so a refused request is a 4xx also for clients
/// that read only the status line (and the no-JavaScript page load).
///
/// Two answers keep their redirect instead: a page that sent the browser elsewhere (to sign
/// in), and a form posted without JavaScript, which leptos sends back to the form's page with
/// the error in the address (a browser does not follow a 4xx's `Location`).
///
/// It also runs `work` with the request's reactive owner current at every poll. A page's data
/// is loaded by a future that may resume, after an await, where another request's owner (or
/// none) is current; everything the work reads from the context (store, clock, response
/// headers, redirects) must come from its own request.
pub async fn with_status<T>(work: impl std::future::Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let response = use_context::<leptos_axum::ResponseOptions>();
    let form_post = plain_form_post();
    let result = leptos::reactive::computed::ScopedFuture::new_untracked(work).await;
    if let (Err(e), Some(response)) = (&result, response) {
        let redirecting = response.0.read().is_ok_and(|r| r.headers.contains_key(http::header::LOCATION));
        if !redirecting && !form_post {
            response.set_status(e.status());
        }
    }
    result
}

/// Whether the request is a form a browser posted without JavaScript: leptos answers its errors
/// with a redirect back to the form (`Referer`), which must stay a redirect.
pub fn plain_form_post() -> bool {
    use_context::<http::request::Parts>().is_some_and(|p| {
        let accepts_html = p.headers.get(http::header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|v| v.contains("text/html"));
        p.method == http::Method::POST && accepts_html && p.headers.contains_key(http::header::REFERER)
    })
}

/// Lets exactly the clinic's embedding origins frame the page (and the server itself).
pub fn allow_framing(origins: &[String]) {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        let mut policy = String::from("frame-ancestors 'self'");
        for origin in origins {
            policy.push(' ');
            policy.push_str(origin);
        }
        if let Ok(value) = http::HeaderValue::from_str(&policy) {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

/// The embedding page's origin, if the clinic allows it; the page then talks to its parent
/// window, and only to that origin.
pub fn parent_origin(embed: Option<&str>, allowed: &[String]) -> Option<String> {
    let requested = domain::clinic::parse_origin(embed?).ok()?;
    allowed.iter().any(|a| *a == requested).then_some(requested)
}

/// `?lang=` when it names a language we have, else the clinic's default, else English. An
/// embed with an unsupported `data-locale` still shows a working widget.
pub fn locale(lang: Option<&str>, clinic_default: &str) -> Locale {
    lang.and_then(Locale::parse).or_else(|| Locale::parse(clinic_default)).unwrap_or_default()
}

/// An optional numeric id from the query string: absent or empty is `None`, anything else
/// that is not a positive integer is refused naming the parameter.
pub fn param_id(raw: Option<&str>, field: &str) -> Result<Option<i64>, AppError> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => match text.parse::<i64>() {
            Ok(id) if id > 0 => Ok(Some(id)),
            _ => Err(AppError::invalid(field, format!("{text:?} is not an id"))),
        },
    }
}

/// A slot id from a form or a link; a forged or mangled one is refused naming `slot`.
pub fn parse_slot(raw: &str) -> Result<domain::SlotId, AppError> {
    domain::SlotId::parse(raw).map_err(|_| AppError::invalid("slot", "not a time this page offered"))
}

/// "Monday, 23 November 2026, 09:30" for an instant, in the location's zone.
pub fn local_when(locale: Locale, tz: chrono_tz::Tz, at: chrono::DateTime<chrono::Utc>) -> String {
    use chrono::Timelike;
    let local = at.with_timezone(&tz);
    format!("{}, {}", locale.long_date(local.date_naive()), locale.time(local.hour(), local.minute()))
}

pub async fn open_link(token: &str) -> Result<AppointmentView, AppError> {
    let (store, key) = (store()?, link_key()?);
    store.open_manage_link(&key, token, now()?).await.map_err(|e| match e {
        OpenLinkError::Link(LinkError::Invalid) => AppError::LinkInvalid,
        OpenLinkError::Link(LinkError::Expired) => AppError::LinkExpired,
        OpenLinkError::Store(e) => e.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::foreign_origin;
    use http::HeaderMap;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_the_servers_own_origin_passes_and_a_request_without_browser_headers_is_left_to_the_token() {
        let own = headers(&[("host", "Clinic.example:8080"), ("origin", "https://clinic.example:8080")]);
        assert_eq!(foreign_origin(&own, None), None);
        assert_eq!(foreign_origin(&headers(&[("sec-fetch-site", "same-origin")]), None), None);
        assert_eq!(foreign_origin(&headers(&[("host", "clinic.example")]), None), None, "no browser headers");
        assert_eq!(foreign_origin(&headers(&[("origin", "https://clinic.example")]), Some("clinic.example")), None);
        for refused in [
            headers(&[("host", "clinic.example"), ("origin", "https://evil.example")]),
            headers(&[("host", "clinic.example"), ("origin", "https://clinic.example/")]),
            headers(&[("host", "clinic.example"), ("origin", "https://clinic.example.evil.example")]),
            headers(&[("host", "clinic.example"), ("origin", "null")]),
            headers(&[("origin", "https://clinic.example")]),
            headers(&[("sec-fetch-site", "cross-site"), ("host", "clinic.example"), ("origin", "https://clinic.example")]),
            headers(&[("sec-fetch-site", "same-site")]),
        ] {
            assert!(foreign_origin(&refused, None).is_some(), "{refused:?}");
        }
    }
}
