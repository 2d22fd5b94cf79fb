//! Who is asking, on the server: the staff session behind the cookie, the checks every
//! state-changing request passes (same origin, the session's CSRF token, the role), and the
//! cookie itself.

use super::Frame;
use crate::i18n::Locale;
use crate::server::{now, store};
use crate::AppError;
use domain::staff::Role;
use http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use http::HeaderValue;
use leptos::prelude::*;
use store::staff::{StaffSession, SESSION_MAX};

pub const COOKIE_NAME: &str = "booking_staff";

fn parts() -> Option<http::request::Parts> {
    use_context::<http::request::Parts>()
}

fn header(name: impl http::header::AsHeaderName) -> Option<String> {
    parts()?.headers.get(name)?.to_str().ok().map(str::to_owned)
}

/// The session token from the request's cookie.
pub fn session_token() -> Option<String> {
    token_in(&parts()?.headers)
}

/// The session token in a request's `Cookie` headers (also read by the desk's live stream).
pub fn token_in(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE_NAME && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

pub async fn current() -> Result<StaffSession, AppError> {
    let token = session_token().ok_or(AppError::SignedOut)?;
    store()?.staff_session(&token, now()?).await?.ok_or(AppError::SignedOut)
}

/// For a page: the session and the console's frame. A visitor without a session is sent to
/// the sign-in page, which brings them back to `path` afterwards.
pub async fn for_page(path: &str, allowed: fn(Role) -> bool) -> Result<(StaffSession, Frame), AppError> {
    let session = match current().await {
        Err(AppError::SignedOut) => {
            leptos_axum::redirect(&format!("/admin/login?next={}", crate::nav::encode(path)));
            return Err(AppError::SignedOut);
        }
        other => other?,
    };
    if !allowed(session.user.role) {
        return Err(AppError::Forbidden);
    }
    let frame = frame(&session).await?;
    Ok((session, frame))
}

/// For a change: a request from this site, a live session, its CSRF token, and the role.
pub async fn for_change(csrf: &str, allowed: fn(Role) -> bool) -> Result<StaffSession, AppError> {
    same_origin()?;
    let session = current().await?;
    if !store::credentials::constant_time_eq(csrf.trim().as_bytes(), session.csrf_token.as_bytes()) {
        tracing::warn!(staff = session.user.id, "a change without the session's CSRF token was refused");
        return Err(AppError::Forbidden);
    }
    if !allowed(session.user.role) {
        return Err(AppError::Forbidden);
    }
    Ok(session)
}

pub async fn frame(session: &StaffSession) -> Result<Frame, AppError> {
    let clinic = store()?.clinic_by_id(session.user.clinic_id).await?;
    let role = session.user.role;
    Ok(Frame {
        locale: Locale::parse(&session.user.locale).unwrap_or_default(),
        clinic_name: clinic.name,
        clinic_slug: clinic.slug.to_string(),
        user_email: session.user.email.clone(),
        user_name: session.user.display_name.clone(),
        role: role.as_str().to_owned(),
        csrf: session.csrf_token.clone(),
        can_configure: role.can_configure(),
        can_manage_staff: role.can_manage_staff(),
    })
}

/// Refuses requests that a browser says come from another site (`server::foreign_origin`).
pub fn same_origin() -> Result<(), AppError> {
    let parts = parts().ok_or(AppError::Forbidden)?;
    let authority = parts.uri.authority().map(|a| a.to_string());
    match crate::server::foreign_origin(&parts.headers, authority.as_deref()) {
        None => Ok(()),
        Some(why) => {
            tracing::warn!(why, "a request from another site to the console was refused");
            Err(AppError::Forbidden)
        }
    }
}

/// The client's address as the server's guard found it (behind a trusted proxy too), for
/// counting failed sign-ins.
pub fn client_address() -> String {
    crate::server::widget_client()
        .map(|c| c.address)
        .or_else(|| parts().and_then(|p| p.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip().to_string())))
        .unwrap_or_else(|| "unknown".into())
}

/// Over https (directly, or behind a proxy that says so) the cookie is marked Secure.
fn https() -> bool {
    header("x-forwarded-proto").is_some_and(|p| p.eq_ignore_ascii_case("https"))
        || header(ORIGIN).is_some_and(|o| o.starts_with("https://"))
}

/// The site's own origin as the browser sees it, for links shown to copy.
pub fn site_origin() -> String {
    let scheme = if https() { "https" } else { "http" };
    format!("{scheme}://{}", header(HOST).unwrap_or_else(|| "localhost".into()))
}

pub fn set_cookie(token: &str) {
    write_cookie(token, SESSION_MAX.num_seconds());
}

pub fn clear_cookie() {
    write_cookie("", 0);
}

fn write_cookie(value: &str, max_age: i64) {
    let secure = if https() { "; Secure" } else { "" };
    let cookie = format!("{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}");
    if let (Some(response), Ok(value)) = (use_context::<leptos_axum::ResponseOptions>(), HeaderValue::from_str(&cookie)) {
        response.append_header(SET_COOKIE, value);
    }
}

/// Only console paths: an address from a link cannot send a fresh session elsewhere.
pub fn safe_next(next: Option<&str>) -> String {
    match next.map(str::trim) {
        Some(path)
            if (path.starts_with("/admin") || path == "/desk" || path.starts_with("/desk?") || path.starts_with("/desk/"))
                && !path.starts_with("/admin/login")
                && !path.contains("//")
                && !path.contains('\\') =>
        {
            path.to_owned()
        }
        _ => "/admin".to_owned(),
    }
}

/// The language of pages shown before sign-in: `?lang=`, else the browser's first choice we
/// speak, else English.
pub fn visitor_locale(lang: Option<&str>) -> Locale {
    lang.and_then(Locale::parse)
        .or_else(|| {
            header(http::header::ACCEPT_LANGUAGE)?
                .split(',')
                .filter_map(|part| Locale::parse(part.split(';').next().unwrap_or("")))
                .next()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_console_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next(Some("/admin/settings")), "/admin/settings");
        assert_eq!(safe_next(Some("/desk?day=2026-12-04")), "/desk?day=2026-12-04");
        for outside in [None, Some(""), Some("https://evil.example/admin"), Some("//evil.example"), Some("/admin//evil"), Some("/book/demo"), Some("/admin/login")] {
            assert_eq!(safe_next(outside), "/admin", "{outside:?}");
        }
    }
}
