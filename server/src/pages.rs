//! The booking page, kept for a moment. Every patient of a clinic opens the same first view,
//! and bots and widgets poll the same months: a page rendered once is served again, byte for
//! byte, to whoever asks for the same address while nothing it shows can have changed.
//!
//! A kept page is served again only while
//! - the clinic's epoch is the one read before the page was rendered: every change to what
//!   the page shows (bookings, holds, rules, catalogue, settings, from this instance, another
//!   instance or another process) bumps it, as it does for the calendars kept in memory
//!   (`store::Store::clinic_epoch`), so a taken time disappears from the page as fast as it
//!   disappears from availability;
//! - it is younger than the configured moment (`BOOKING_PAGE_CACHE_MS`, one second by
//!   default), since time alone changes a page too: a time closer than the clinic's notice
//!   stops being offered, a hold expires, a day ends.
//!
//! Only `GET /book/{clinic}` is kept, and only a `200` without cookies: the page is the same for
//! every patient (nothing of the patient is in it; the browser id cookie is added outside). A
//! page served again says so with an `Age` header, as a cache in front of the server would.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::Store;

/// How long a page is kept unless configured otherwise.
pub const DEFAULT_KEEP: Duration = Duration::from_secs(1);
/// At most this many addresses are kept; the query string is the visitor's to choose.
const MAX_PAGES: usize = 1024;
/// Larger answers are served but not kept.
const MAX_PAGE_BYTES: usize = 512 * 1024;

#[derive(Clone)]
pub struct Pages {
    store: Store,
    keep: Duration,
    kept: Arc<Mutex<HashMap<String, Kept>>>,
}

struct Kept {
    clinic: i64,
    epoch: u64,
    at: Instant,
    headers: HeaderMap,
    body: Bytes,
}

impl Pages {
    /// Pages kept for `keep`; zero keeps none.
    pub fn new(store: Store, keep: Duration) -> Self {
        Pages { store, keep, kept: Arc::new(Mutex::new(HashMap::new())) }
    }

    fn lookup(&self, address: &str, clinic: i64, epoch: u64) -> Option<Response> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        let page = kept.get(address)?;
        if page.clinic != clinic || page.epoch != epoch || page.at.elapsed() >= self.keep {
            return None;
        }
        let mut response = Response::new(Body::from(page.body.clone()));
        let headers = response.headers_mut();
        *headers = page.headers.clone();
        // As caches say it: how long ago the page was made (whole seconds, so mostly 0).
        headers.insert(header::AGE, page.at.elapsed().as_secs().into());
        Some(response)
    }

    fn keep(&self, address: String, page: Kept) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        if kept.len() >= MAX_PAGES && !kept.contains_key(&address) {
            kept.retain(|_, p| p.at.elapsed() < self.keep);
            if kept.len() >= MAX_PAGES {
                kept.clear();
            }
        }
        kept.insert(address, page);
    }
}

/// The clinic slug of a booking page's path (`/book/{slug}`, nothing after it).
fn booking_page_slug(path: &str) -> Option<&str> {
    let slug = path.strip_prefix("/book/")?;
    (!slug.is_empty() && !slug.contains('/')).then_some(slug)
}

/// The middleware in front of the pages.
pub async fn serve(State(pages): State<Pages>, req: Request, next: Next) -> Response {
    if pages.keep.is_zero() || req.method() != Method::GET {
        return next.run(req).await;
    }
    let Some(slug) = booking_page_slug(req.uri().path()) else {
        return next.run(req).await;
    };
    // A clinic not read since its last change is read now (the page reads it anyway, from
    // memory then), so that its epoch is known before the page is made.
    let known = match pages.store.clinic_epoch(slug) {
        Some(known) => Some(known),
        None => match domain::ClinicSlug::parse(slug) {
            Ok(parsed) if pages.store.catalogue(&parsed).await.is_ok() => pages.store.clinic_epoch(slug),
            _ => None,
        },
    };
    let Some((clinic, epoch)) = known else {
        return next.run(req).await;
    };
    let address = req.uri().path_and_query().map_or_else(|| req.uri().path().to_owned(), |p| p.as_str().to_owned());
    if let Some(response) = pages.lookup(&address, clinic, epoch) {
        return response;
    }
    let at = Instant::now();
    let response = next.run(req).await;
    if response.status() != StatusCode::OK || response.headers().contains_key(header::SET_COOKIE) {
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(e) => {
            tracing::error!(error = %e, "a booking page could not be rendered to its end");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if body.len() <= MAX_PAGE_BYTES {
        pages.keep(address, Kept { clinic, epoch, at, headers: parts.headers.clone(), body: body.clone() });
    }
    Response::from_parts(parts, Body::from(body))
}

#[cfg(test)]
mod tests {
    use super::booking_page_slug;

    #[test]
    fn only_a_clinics_booking_page_is_kept() {
        assert_eq!(booking_page_slug("/book/demo"), Some("demo"));
        assert_eq!(booking_page_slug("/book/demo/details"), None);
        assert_eq!(booking_page_slug("/book/"), None);
        assert_eq!(booking_page_slug("/manage/abc"), None);
        assert_eq!(booking_page_slug("/admin"), None);
    }
}
