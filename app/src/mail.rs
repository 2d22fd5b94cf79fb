//! The e-mails patients receive, in the clinic's language: plain text and the same in simple
//! HTML. A message says what, with whom, where and when (in the location's zone), the
//! reference, the manage link and the clinic's note; nothing else about the patient than the
//! name it greets.

use crate::i18n::Locale;
use chrono::{DateTime, Timelike, Utc};
use chrono_tz::Tz;
use domain::notify::MessageKind;
use store::emails::DueEmail;

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letter {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Where the links of a message point.
#[derive(Debug, Clone)]
pub struct Links {
    /// The appointment's manage page; `None` when the appointment has no booker to sign for.
    pub manage: Option<String>,
    /// The clinic's booking page, for a new time after a cancellation.
    pub book: String,
}

fn pick(locale: Locale, en: &'static str, de: &'static str) -> &'static str {
    match locale {
        Locale::En => en,
        Locale::De => de,
    }
}

/// "Monday, 14 December 2026, 09:00–09:30 CET".
pub fn when(locale: Locale, tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>) -> String {
    let (from, to) = (start.with_timezone(&tz), end.with_timezone(&tz));
    format!(
        "{}, {}–{} {}",
        locale.long_date(from.date_naive()),
        locale.time(from.hour(), from.minute()),
        locale.time(to.hour(), to.minute()),
        from.format("%Z")
    )
}

/// Escapes text for HTML element content and attribute values.
fn escape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The message `m` as its patient reads it.
pub fn render(m: &DueEmail, links: &Links) -> Letter {
    let v = &m.appointment;
    let locale = Locale::parse(&v.clinic.default_locale).unwrap_or_default();
    let t = |en, de| pick(locale, en, de);
    let what = match &v.product_name {
        Some(product) if product != &v.service_name => format!("{} ({product})", v.service_name),
        _ => v.service_name.clone(),
    };
    let date = locale.long_date(m.start.with_timezone(&v.tz).date_naive());
    let clinic = v.clinic.name.as_str();
    let (subject, lead) = match m.kind {
        MessageKind::Confirmation => (
            format!("{} {what} – {date}", t("Appointment confirmed:", "Termin bestätigt:")),
            t("your appointment is booked.", "Ihr Termin ist gebucht.").to_owned(),
        ),
        MessageKind::Rescheduled => (
            format!("{} {what} – {date}", t("Appointment moved:", "Termin verschoben:")),
            t("your appointment has moved to a new time.", "Ihr Termin wurde auf eine neue Zeit verschoben.").to_owned(),
        ),
        MessageKind::Cancelled => (
            format!("{} {what} – {date}", t("Appointment cancelled:", "Termin abgesagt:")),
            match m.by_clinic {
                true => match locale {
                    Locale::En => format!("{clinic} has cancelled your appointment."),
                    Locale::De => format!("{clinic} hat Ihren Termin abgesagt."),
                },
                false => t("your appointment is cancelled.", "Ihr Termin ist abgesagt.").to_owned(),
            },
        ),
        MessageKind::Reminder => (
            format!("{} {what} – {date}", t("Reminder:", "Erinnerung:")),
            t("this is a reminder of your appointment.", "wir erinnern Sie an Ihren Termin.").to_owned(),
        ),
    };
    let greeting = match (m.recipient_name.is_empty(), locale) {
        (true, Locale::En) => "Hello,".to_owned(),
        (true, Locale::De) => "Guten Tag,".to_owned(),
        (false, Locale::En) => format!("Hello {},", m.recipient_name),
        (false, Locale::De) => format!("Guten Tag {},", m.recipient_name),
    };
    let mut facts: Vec<(&str, String)> = vec![
        (t("What", "Was"), what.clone()),
        (t("With", "Bei"), v.provider_name.clone()),
        (t("When", "Wann"), when(locale, v.tz, m.start, m.end)),
    ];
    if let Some(previous) = m.previous_start {
        let length = m.end - m.start;
        facts.push((t("Before", "Bisher"), when(locale, v.tz, previous, previous + length)));
    }
    let place = match v.address.trim().is_empty() {
        true => v.location_name.clone(),
        false => format!("{}, {}", v.location_name, v.address),
    };
    facts.push((t("Where", "Wo"), place));
    facts.push((t("Reference", "Buchungsnummer"), domain::notify::reference(v.id)));
    if m.kind == MessageKind::Cancelled && !m.reason.trim().is_empty() {
        facts.push((t("Reason", "Grund"), m.reason.trim().to_owned()));
    }
    let mut actions: Vec<(String, String)> = Vec::new();
    match (m.kind, &links.manage) {
        (MessageKind::Cancelled, _) => actions.push((t("Book a new time", "Neuen Termin buchen").to_owned(), links.book.clone())),
        (_, Some(manage)) => actions.push((t("View, move or cancel your appointment", "Termin ansehen, verschieben oder absagen").to_owned(), manage.clone())),
        (_, None) => {}
    }
    let mut closing: Vec<String> = Vec::new();
    if m.kind != MessageKind::Cancelled {
        closing.push(t("A calendar file for this appointment is attached.", "Eine Kalenderdatei für diesen Termin ist angehängt.").to_owned());
    }
    if m.kind == MessageKind::Reminder && links.manage.is_some() {
        closing.push(t("You can turn reminders off on the same page.", "Erinnerungen können Sie auf derselben Seite abschalten.").to_owned());
    }
    let note = m.settings.note.trim();

    let width = facts.iter().map(|(label, _)| label.chars().count()).max().unwrap_or(0) + 2;
    let mut text = format!("{greeting}\n\n{lead}\n\n");
    for (label, value) in &facts {
        text.push_str(&format!("{:width$}{value}\n", format!("{label}:")));
    }
    for (label, href) in &actions {
        text.push_str(&format!("\n{label}:\n{href}\n"));
    }
    if !note.is_empty() {
        text.push_str(&format!("\n{note}\n"));
    }
    for line in &closing {
        text.push_str(&format!("\n{line}"));
    }
    text.push_str(&format!("\n\n{clinic}\n"));

    let mut html = format!(
        "<!DOCTYPE html><html lang=\"{}\"><head><meta charset=\"utf-8\"><title>{}</title></head>\
         <body style=\"margin:0;padding:24px;background:#f8fafc;color:#0f172a;font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5\">\
         <div style=\"max-width:560px;margin:0 auto;background:#ffffff;border:1px solid #e2e8f0;border-radius:8px;padding:24px\">\
         <p style=\"margin-top:0;font-size:18px;font-weight:bold\">{}</p><p>{}</p><p>{}</p><table role=\"presentation\" style=\"border-collapse:collapse;margin:16px 0\">",
        locale.code(),
        escape(&subject),
        escape(clinic),
        escape(&greeting),
        escape(&lead)
    );
    for (label, value) in &facts {
        html.push_str(&format!(
            "<tr><th scope=\"row\" style=\"text-align:left;vertical-align:top;padding:4px 16px 4px 0;color:#475569;font-weight:normal\">{}</th><td style=\"padding:4px 0\">{}</td></tr>",
            escape(label),
            escape(value)
        ));
    }
    html.push_str("</table>");
    for (label, href) in &actions {
        html.push_str(&format!(
            "<p><a href=\"{}\" style=\"display:inline-block;background:#115e59;color:#ffffff;text-decoration:none;padding:10px 16px;border-radius:6px\">{}</a></p>",
            escape(href),
            escape(label)
        ));
    }
    if !note.is_empty() {
        html.push_str(&format!("<p style=\"white-space:pre-line\">{}</p>", escape(note)));
    }
    for line in &closing {
        html.push_str(&format!("<p style=\"color:#475569;font-size:14px\">{}</p>", escape(line)));
    }
    html.push_str(&format!("<p>{}</p></div></body></html>", escape(clinic)));
    Letter { subject, text, html }
}

/// The calendar file attached to a message.
pub fn calendar_event(m: &DueEmail, links: &Links) -> domain::ics::CalendarEvent {
    appointment_event(&m.appointment, m.start, m.end, m.kind == MessageKind::Cancelled, m.sequence, links.manage.clone())
}

/// An appointment's calendar entry at a given time (a message's time is the change's).
pub fn appointment_event(
    v: &store::AppointmentView,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    cancelled: bool,
    sequence: u32,
    url: Option<String>,
) -> domain::ics::CalendarEvent {
    let summary = match &v.product_name {
        Some(product) => format!("{} ({product}) – {}", v.service_name, v.provider_name),
        None => format!("{} – {}", v.service_name, v.provider_name),
    };
    domain::ics::CalendarEvent {
        uid: format!("appointment-{}@{}", v.id, v.clinic.slug.as_str()),
        start,
        end,
        summary,
        location: format!("{}, {}", v.location_name, v.address),
        description: format!("{} · {}", v.clinic.name, domain::notify::reference(v.id)),
        cancelled,
        sequence,
        url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use domain::appointment::AppointmentStatus;
    use domain::notify::NotificationSettings;
    use store::emails::QueuedEmail;
    use store::ClinicRecord;
    use store::AppointmentView;

    fn due(kind: MessageKind, locale: &str) -> DueEmail {
        let start = Utc.with_ymd_and_hms(2026, 12, 14, 8, 0, 0).unwrap();
        DueEmail {
            appointment: AppointmentView {
                id: 42,
                clinic: ClinicRecord { id: 1, slug: domain::ClinicSlug::parse("praxis-nord").unwrap(), name: "Praxis <Nord>".into(), default_locale: locale.into() },
                location_id: 1,
                location_name: "Mitte".into(),
                address: "Hauptstraße 1, 10115 Berlin".into(),
                tz: chrono_tz::Europe::Berlin,
                service_id: 1,
                service_name: "Physiotherapy".into(),
                product_id: Some(1),
                product_name: Some("First visit".into()),
                provider_id: 1,
                provider_name: "Sophie Wagner".into(),
                start,
                end: start + chrono::Duration::minutes(30),
                status: AppointmentStatus::Booked,
                token_number: Some(1),
                queue_number: None,
                booker_id: Some(7),
                attendee: Some(("Hanna".into(), "Müller".into())),
                cancellation_reason: None,
                change_cutoff_minutes: 1440,
                changes: 0,
            },
            message: QueuedEmail {
                id: 1,
                attempt: 1,
                kind,
                recipient: "hanna@example.org".into(),
                recipient_name: "Hanna Müller".into(),
                start,
                end: start + chrono::Duration::minutes(30),
                previous_start: None,
                reason: String::new(),
                by_clinic: false,
                sequence: 0,
                settings: NotificationSettings { note: "Lift to the 2nd floor.".into(), ..Default::default() },
            },
        }
    }

    fn links() -> Links {
        Links { manage: Some("https://booking.example.org/manage/tok".into()), book: "https://booking.example.org/book/praxis-nord".into() }
    }

    #[test]
    fn a_confirmation_says_what_with_whom_where_and_when_in_the_locations_zone() {
        let letter = render(&due(MessageKind::Confirmation, "en"), &links());
        assert_eq!(letter.subject, "Appointment confirmed: Physiotherapy (First visit) – Monday, 14 December 2026");
        for part in [
            "Hello Hanna Müller,",
            "Sophie Wagner",
            "Monday, 14 December 2026, 09:00–09:30 CET",
            "Mitte, Hauptstraße 1, 10115 Berlin",
            "A-000042",
            "https://booking.example.org/manage/tok",
            "Lift to the 2nd floor.",
            "Praxis <Nord>",
        ] {
            assert!(letter.text.contains(part), "{part:?} in\n{}", letter.text);
        }
        assert!(letter.html.contains("Praxis &lt;Nord&gt;") && !letter.html.contains("Praxis <Nord>"), "HTML is escaped");
        assert!(letter.html.contains("href=\"https://booking.example.org/manage/tok\""));
        assert!(!letter.text.contains("hanna@example.org"), "the address is not repeated in the message");
    }

    #[test]
    fn german_clinics_write_german() {
        let mut m = due(MessageKind::Rescheduled, "de");
        m.message.previous_start = Some(m.start - chrono::Duration::days(1));
        let letter = render(&m, &links());
        assert_eq!(letter.subject, "Termin verschoben: Physiotherapy (First visit) – Montag, 14. Dezember 2026");
        assert!(letter.text.contains("Guten Tag Hanna Müller,"), "{}", letter.text);
        assert!(letter.text.contains("Bisher:") && letter.text.contains("Sonntag, 13. Dezember 2026, 09:00–09:30 CET"), "{}", letter.text);
        assert!(letter.html.starts_with("<!DOCTYPE html><html lang=\"de\">"));
    }

    #[test]
    fn a_cancellation_by_the_clinic_says_so_with_the_reason_and_offers_a_new_booking() {
        let mut m = due(MessageKind::Cancelled, "en");
        m.message.by_clinic = true;
        m.message.reason = "Dr. Wagner is ill".into();
        let letter = render(&m, &links());
        assert!(letter.text.contains("Praxis <Nord> has cancelled your appointment."), "{}", letter.text);
        assert!(letter.text.contains("Reason:") && letter.text.contains("Dr. Wagner is ill"));
        assert!(letter.text.contains("https://booking.example.org/book/praxis-nord"));
        assert!(!letter.text.contains("/manage/"), "no manage link for a cancelled appointment");
        let event = calendar_event(&m, &links());
        assert!(event.cancelled);
    }

    #[test]
    fn a_reminder_tells_how_to_turn_reminders_off() {
        let letter = render(&due(MessageKind::Reminder, "en"), &links());
        assert!(letter.subject.starts_with("Reminder: "));
        assert!(letter.text.contains("turn reminders off"), "{}", letter.text);
    }
}
