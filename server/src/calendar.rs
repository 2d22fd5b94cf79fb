//! `GET /manage/:token/calendar.ics`: the appointment as an iCalendar event (RFC 5545), so a
//! patient can add it to any calendar. The manage token authorises it like the manage page.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use store::links::{LinkError, LinkKey, OpenLinkError};
use store::{AppointmentView, Clock, Store};

#[derive(Clone)]
pub struct CalendarState {
    pub store: Store,
    pub key: LinkKey,
    pub clock: Clock,
}

pub async fn calendar_file(State(state): State<CalendarState>, Path(token): Path<String>) -> Response {
    let now = state.clock.now();
    match state.store.open_manage_link(&state.key, &token, now).await {
        Ok(view) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CONTENT_DISPOSITION, "attachment; filename=\"appointment.ics\""),
                (header::CACHE_CONTROL, "no-store"),
            ],
            ics(&view, now),
        )
            .into_response(),
        Err(OpenLinkError::Link(LinkError::Invalid)) => (StatusCode::FORBIDDEN, "this link is not valid\n").into_response(),
        Err(OpenLinkError::Link(LinkError::Expired)) => (StatusCode::GONE, "this link has expired\n").into_response(),
        Err(OpenLinkError::Store(e)) => {
            tracing::error!(error = %e, "calendar file");
            (StatusCode::SERVICE_UNAVAILABLE, "the booking service is temporarily unavailable\n").into_response()
        }
    }
}

/// The appointment's file as the manage page offers it.
pub fn ics(v: &AppointmentView, now: DateTime<Utc>) -> String {
    let cancelled = v.status == domain::appointment::AppointmentStatus::Cancelled;
    domain::ics::calendar(&app::mail::appointment_event(v, v.start, v.end, cancelled, v.changes, None), now)
}
