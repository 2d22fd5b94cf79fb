//! Patient e-mails: which messages a clinic sends, when a reminder falls due, what a clinic may
//! configure, and what an SMTP server's answer means for a message. Pure rules: the queue lives
//! in the store, the sending in the server, the words in the app.

use crate::catalogue::check_text;
use crate::patient::Email;
use crate::DomainError;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// The messages a patient can receive about an appointment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageKind {
    Confirmation,
    Rescheduled,
    Cancelled,
    Reminder,
}

impl MessageKind {
    pub const ALL: [MessageKind; 4] = [MessageKind::Confirmation, MessageKind::Rescheduled, MessageKind::Cancelled, MessageKind::Reminder];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Confirmation => "confirmation",
            MessageKind::Rescheduled => "rescheduled",
            MessageKind::Cancelled => "cancelled",
            MessageKind::Reminder => "reminder",
        }
    }

    pub fn parse(raw: &str) -> Option<MessageKind> {
        MessageKind::ALL.into_iter().find(|k| k.as_str() == raw)
    }

    /// The message an outbox event of this type owes the patient, if any.
    pub fn for_event(event_type: &str) -> Option<MessageKind> {
        match event_type {
            "appointmentCreated" => Some(MessageKind::Confirmation),
            "appointmentRescheduled" => Some(MessageKind::Rescheduled),
            "appointmentCanceled" => Some(MessageKind::Cancelled),
            _ => None,
        }
    }
}

/// The shortest and longest time before an appointment a reminder may be set to go out.
pub const MIN_REMINDER_MINUTES: u32 = 60;
pub const MAX_REMINDER_MINUTES: u32 = 7 * 24 * 60;
/// The default: the day before.
pub const DEFAULT_REMINDER_MINUTES: u32 = 24 * 60;
/// Longest free text a clinic adds to its messages (directions, what to bring).
pub const MAX_NOTE: usize = 500;
/// Longest sender display name.
pub const MAX_SENDER_NAME: usize = 120;

/// What a clinic sends its patients. Every message is on by default: a clinic that sets up
/// SMTP expects its patients to hear from it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationSettings {
    pub confirmation: bool,
    pub rescheduled: bool,
    pub cancelled: bool,
    pub reminder: bool,
    /// How long before the appointment the reminder goes out.
    pub reminder_minutes: u32,
    /// The From of the clinic's messages (`Praxis Nord <termine@praxis-nord.de>`); empty: the
    /// server's (`BOOKING_MAIL_FROM`).
    pub sender: String,
    /// A short text added to every message (directions, what to bring).
    pub note: String,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        NotificationSettings {
            confirmation: true,
            rescheduled: true,
            cancelled: true,
            reminder: true,
            reminder_minutes: DEFAULT_REMINDER_MINUTES,
            sender: String::new(),
            note: String::new(),
        }
    }
}

impl NotificationSettings {
    /// Checks what a clinic typed: the lead time within bounds, the sender an address (with an
    /// optional name), the note plain text. Returns the settings as they are to be stored.
    pub fn check(self) -> Result<NotificationSettings, DomainError> {
        check_reminder_minutes(i64::from(self.reminder_minutes))?;
        Ok(NotificationSettings { sender: check_sender(&self.sender)?, note: check_text("note", &self.note, MAX_NOTE)?, ..self })
    }

    pub fn sends(&self, kind: MessageKind) -> bool {
        match kind {
            MessageKind::Confirmation => self.confirmation,
            MessageKind::Rescheduled => self.rescheduled,
            MessageKind::Cancelled => self.cancelled,
            MessageKind::Reminder => self.reminder,
        }
    }

    pub fn reminder_lead(&self) -> Duration {
        Duration::minutes(i64::from(self.reminder_minutes))
    }
}

/// A reminder lead time in minutes, as the configuration gives it.
pub fn check_reminder_minutes(minutes: i64) -> Result<u32, DomainError> {
    if !(i64::from(MIN_REMINDER_MINUTES)..=i64::from(MAX_REMINDER_MINUTES)).contains(&minutes) {
        return Err(DomainError::invalid(
            "reminderMinutes",
            format!("must be from {MIN_REMINDER_MINUTES} (an hour) to {MAX_REMINDER_MINUTES} (a week) minutes before the appointment"),
        ));
    }
    Ok(minutes as u32)
}

/// A sender as an e-mail header carries it: `address` or `Name <address>`; empty stays empty.
/// The name may not hold what would need quoting or could end the header (quotes, angle
/// brackets, control characters).
pub fn check_sender(raw: &str) -> Result<String, DomainError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(String::new());
    }
    let bad = |why: &str| DomainError::invalid("sender", why.to_owned());
    let (name, address) = match raw.strip_suffix('>').and_then(|r| r.rsplit_once('<')) {
        Some((name, address)) => (name.trim(), address),
        None => ("", raw),
    };
    let address = Email::parse(address).map_err(|_| bad("must be an e-mail address, optionally with a name: Praxis Nord <termine@praxis-nord.de>"))?;
    if name.chars().count() > MAX_SENDER_NAME {
        return Err(bad("name must be at most 120 characters"));
    }
    if name.chars().any(|c| c.is_control() || matches!(c, '"' | '<' | '>' | '\\')) {
        return Err(bad("name must not contain quotes, angle brackets or control characters"));
    }
    Ok(match name.is_empty() {
        true => address.as_str().to_owned(),
        false => format!("{name} <{}>", address.as_str()),
    })
}

/// A checked sender's display name (if any) and address: `Praxis Nord <a@b.de>` gives
/// `(Some("Praxis Nord"), "a@b.de")`. The name goes into the message as it is written, encoded
/// by the mail library, so it needs no quoting rules of its own.
pub fn sender_parts(sender: &str) -> (Option<&str>, &str) {
    let sender = sender.trim();
    match sender.strip_suffix('>').and_then(|r| r.rsplit_once('<')) {
        Some((name, address)) => (Some(name.trim()).filter(|n| !n.is_empty()), address.trim()),
        None => (None, sender),
    }
}

/// When the reminder of an appointment starting at `start`, booked (or moved) at `changed_at`,
/// goes out: `lead` before the start, or never when that moment had already passed when the
/// appointment was made (a patient who books for this afternoon needs no reminder).
pub fn reminder_at(start: DateTime<Utc>, changed_at: DateTime<Utc>, lead: Duration) -> Option<DateTime<Utc>> {
    let at = start - lead;
    (at > changed_at).then_some(at)
}

/// `text` (a mail server's answer, say) with every e-mail address in it replaced, for logs:
/// a rejection names the patient's address, which the log must not keep.
pub fn without_addresses(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for (i, word) in text.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match word.contains('@') {
            true => out.push_str("<address>"),
            false => out.push_str(word),
        }
    }
    out
}

/// What an SMTP server's answer to one message means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    Sent,
    /// Try again later: a 4xx answer, no answer, a dropped connection.
    Retry,
    /// A 5xx answer: the server will never take this message (no such mailbox, refused). It is
    /// recorded for staff and not retried.
    Rejected,
}

/// `code` is the SMTP reply code, `None` when no reply came.
pub fn send_outcome(code: Option<u16>) -> SendOutcome {
    match code {
        Some(200..=399) => SendOutcome::Sent,
        Some(500..=599) => SendOutcome::Rejected,
        _ => SendOutcome::Retry,
    }
}

/// A reference patients can read out on the phone: `A-000042`.
pub fn reference(appointment_id: i64) -> String {
    format!("A-{appointment_id:06}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 10, h, 0, 0).unwrap()
    }

    #[test]
    fn a_reminder_goes_out_the_lead_before_the_start_unless_booked_inside_the_lead() {
        let lead = Duration::hours(24);
        let start = at(15);
        assert_eq!(reminder_at(start, start - Duration::days(3), lead), Some(start - lead));
        assert_eq!(reminder_at(start, start - Duration::hours(5), lead), None, "booked for this afternoon");
        assert_eq!(reminder_at(start, start - lead, lead), None, "booked exactly at the reminder's time");
    }

    #[test]
    fn the_lead_time_stays_between_an_hour_and_a_week() {
        assert!(check_reminder_minutes(59).is_err());
        assert_eq!(check_reminder_minutes(60).unwrap(), 60);
        assert_eq!(check_reminder_minutes(10_080).unwrap(), 10_080);
        assert!(check_reminder_minutes(10_081).is_err());
        assert!(check_reminder_minutes(-1440).is_err());
        let settings = NotificationSettings { reminder_minutes: 30, ..Default::default() };
        assert!(settings.check().unwrap_err().to_string().contains("reminderMinutes"));
    }

    #[test]
    fn a_sender_is_an_address_with_an_optional_plain_name() {
        assert_eq!(check_sender("").unwrap(), "");
        assert_eq!(check_sender(" termine@Praxis-Nord.de ").unwrap(), "termine@praxis-nord.de");
        assert_eq!(check_sender("Praxis Nord <termine@praxis-nord.de>").unwrap(), "Praxis Nord <termine@praxis-nord.de>");
        assert_eq!(check_sender("Praxis Müller-Lüdenscheidt <a@b.de>").unwrap(), "Praxis Müller-Lüdenscheidt <a@b.de>");
        for bad in ["Praxis Nord", "<>", "Praxis \"Nord\" <a@b.de>", "Praxis\r\nBcc: x@y.de <a@b.de>", "Name <a@b.de", "Na<me <a@b.de>", "x <a b@c.de>"] {
            assert!(check_sender(bad).is_err(), "{bad:?}");
        }
        assert!(check_sender(&format!("{} <a@b.de>", "n".repeat(121))).is_err());
    }

    #[test]
    fn a_sender_splits_into_its_name_and_address() {
        assert_eq!(sender_parts("Praxis Dr. Müller <termine@praxis.de>"), (Some("Praxis Dr. Müller"), "termine@praxis.de"));
        assert_eq!(sender_parts("termine@praxis.de"), (None, "termine@praxis.de"));
        assert_eq!(sender_parts(" <termine@praxis.de>"), (None, "termine@praxis.de"));
    }

    #[test]
    fn settings_are_checked_and_trimmed_as_stored() {
        let typed = NotificationSettings { note: "  Please bring your insurance card.\r\nLift to floor 2. ".into(), sender: " a@b.de ".into(), ..Default::default() };
        let checked = typed.check().unwrap();
        assert_eq!(checked.note, "Please bring your insurance card.\nLift to floor 2.");
        assert_eq!(checked.sender, "a@b.de");
        let long = NotificationSettings { note: "x".repeat(MAX_NOTE + 1), ..Default::default() };
        assert!(long.check().is_err());
        let control = NotificationSettings { note: "a\u{7}b".into(), ..Default::default() };
        assert!(control.check().is_err());
    }

    #[test]
    fn each_message_can_be_turned_off_on_its_own() {
        let mut settings = NotificationSettings::default();
        assert!(MessageKind::ALL.iter().all(|k| settings.sends(*k)), "all on by default");
        settings.reminder = false;
        assert!(!settings.sends(MessageKind::Reminder));
        assert!(settings.sends(MessageKind::Confirmation) && settings.sends(MessageKind::Cancelled) && settings.sends(MessageKind::Rescheduled));
    }

    #[test]
    fn only_appointment_changes_a_patient_hears_about_owe_a_message() {
        assert_eq!(MessageKind::for_event("appointmentCreated"), Some(MessageKind::Confirmation));
        assert_eq!(MessageKind::for_event("appointmentRescheduled"), Some(MessageKind::Rescheduled));
        assert_eq!(MessageKind::for_event("appointmentCanceled"), Some(MessageKind::Cancelled));
        for quiet in ["appointmentCompleted", "appointmentNoShow", "Queued", "patientCreated", "appointmentConfirmed"] {
            assert_eq!(MessageKind::for_event(quiet), None, "{quiet}");
        }
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn five_hundreds_are_final_four_hundreds_and_silence_are_retried() {
        assert_eq!(send_outcome(Some(250)), SendOutcome::Sent);
        for code in [550, 551, 552, 553, 554, 500] {
            assert_eq!(send_outcome(Some(code)), SendOutcome::Rejected, "{code}");
        }
        for code in [Some(421), Some(450), Some(451), Some(452), None] {
            assert_eq!(send_outcome(code), SendOutcome::Retry, "{code:?}");
        }
    }

    #[test]
    fn addresses_are_left_out_of_what_is_logged() {
        assert_eq!(
            without_addresses("550 5.1.1 <erika.muster@example.org>: Recipient address rejected"),
            "550 5.1.1 <address> Recipient address rejected"
        );
        assert_eq!(without_addresses("451 try again later"), "451 try again later");
    }
}
