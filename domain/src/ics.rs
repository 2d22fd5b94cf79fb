//! An appointment as an iCalendar file (RFC 5545), for the manage page's download and the
//! file attached to patients' e-mails. `METHOD:PUBLISH`: the patient adds it to a calendar;
//! a later file with the same UID and a higher SEQUENCE (moved, cancelled) updates that entry.

use chrono::{DateTime, Utc};

/// What the file says of one appointment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CalendarEvent {
    /// Stable for the appointment across changes, so calendars update the entry.
    pub uid: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub summary: String,
    pub location: String,
    pub description: String,
    pub cancelled: bool,
    /// Raised by each change of the appointment (RFC 5545 3.8.7.4).
    pub sequence: u32,
    /// The manage page, when the file carries it.
    pub url: Option<String>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

/// TEXT values escape backslash, semicolon, comma and newlines (RFC 5545 3.3.11).
pub fn text(raw: &str) -> String {
    raw.replace('\\', "\\\\").replace(';', "\\;").replace(',', "\\,").replace("\r\n", "\\n").replace('\n', "\\n")
}

/// Lines longer than 75 octets are folded with CRLF + space, never inside a UTF-8 character.
pub fn fold(line: &str) -> String {
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

/// The file, stamped `now`.
pub fn calendar(e: &CalendarEvent, now: DateTime<Utc>) -> String {
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_owned(),
        "VERSION:2.0".to_owned(),
        "PRODID:-//clinic-booking//booking//EN".to_owned(),
        "METHOD:PUBLISH".to_owned(),
        "BEGIN:VEVENT".to_owned(),
        format!("UID:{}", e.uid),
        format!("SEQUENCE:{}", e.sequence),
        format!("DTSTAMP:{}", stamp(now)),
        format!("DTSTART:{}", stamp(e.start)),
        format!("DTEND:{}", stamp(e.end)),
        format!("SUMMARY:{}", text(&e.summary)),
        format!("LOCATION:{}", text(&e.location)),
        format!("DESCRIPTION:{}", text(&e.description)),
        format!("STATUS:{}", if e.cancelled { "CANCELLED" } else { "CONFIRMED" }),
    ];
    if let Some(url) = &e.url {
        // A URI value, not TEXT: no escaping (RFC 5545 3.8.4.6).
        lines.push(format!("URL:{url}"));
    }
    lines.extend(["END:VEVENT".to_owned(), "END:VCALENDAR".to_owned()]);
    lines.iter().map(|l| fold(l)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

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

    #[test]
    fn a_cancelled_appointment_keeps_its_uid_with_a_higher_sequence() {
        let start = Utc.with_ymd_and_hms(2026, 12, 10, 9, 0, 0).unwrap();
        let event = CalendarEvent {
            uid: "appointment-7@demo".into(),
            start,
            end: start + chrono::Duration::minutes(30),
            summary: "Check-up – Dr. Weber".into(),
            location: "Praxis, Hauptstr. 1".into(),
            description: "A-000007".into(),
            cancelled: false,
            sequence: 0,
            url: Some("https://booking.example.org/manage/abc".into()),
        };
        let booked = calendar(&event, start);
        let cancelled = calendar(&CalendarEvent { cancelled: true, sequence: 2, ..event }, start);
        assert!(booked.contains("STATUS:CONFIRMED\r\n") && booked.contains("SEQUENCE:0\r\n"), "{booked}");
        assert!(booked.contains("URL:https://booking.example.org/manage/abc\r\n"));
        assert!(booked.contains("LOCATION:Praxis\\, Hauptstr. 1\r\n"));
        assert!(cancelled.contains("STATUS:CANCELLED\r\n") && cancelled.contains("SEQUENCE:2\r\n"));
        assert!(cancelled.contains("UID:appointment-7@demo\r\n"));
        assert!(booked.lines().all(|l| l.len() <= 75));
    }
}
