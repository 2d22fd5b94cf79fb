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

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT values escape backslash, semicolon, comma and newlines (RFC 5545 3.3.11).
fn text(raw: &str) -> String {
    raw.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace("\r\n", "\\n").replace('\n', "\\n")
}

/// Lines longer than 75 octets are folded with CRLF + space, never inside a UTF-8 character.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

pub fn ics(v: &AppointmentView, now: DateTime<Utc>) -> String {
    let status = if v.status == domain::appointment::AppointmentStatus::Cancelled { "CANCELLED" } else { "CONFIRMED" };
    let summary = match &v.product_name {
        Some(product) => format!("{} ({product}) – {}", v.service_name, v.provider_name),
        None => format!("{} – {}", v.service_name, v.provider_name),
    };
    let lines = [
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//clinic-booking//booking//EN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:appointment-{}@{}", v.id, v.clinic.slug.as_str()),
        format!("DTSTAMP:{}", stamp(now)),
        format!("DTSTART:{}", stamp(v.start)),
        format!("DTEND:{}", stamp(v.end)),
        format!("SUMMARY:{}", text(&summary)),
        format!("LOCATION:{}", text(&format!("{}, {}", v.location_name, v.address))),
        format!("DESCRIPTION:{}", text(&format!("{} · {}", v.clinic.name, app::manage::reference(v.id)))),
        format!("STATUS:{status}"),
        "END:VEVENT".to_owned(),
        "END:VCALENDAR".to_owned(),
    ];
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_values_escape_the_characters_icalendar_reserves() {
        assert_eq!(text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
    }

    #[test]
    fn long_lines_fold_at_75_octets_without_splitting_characters() {
        let folded = fold(&format!("SUMMARY:{}", "ü".repeat(60)));
        for line in folded.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(line.len() <= 75, "{} octets: {line}", line.len());
        }
        assert_eq!(folded.replace("\r\n ", "").trim_end(), format!("SUMMARY:{}", "ü".repeat(60)));
    }
}
