//! What webhook subscribers can ask for and how delivery retries, gives up and disables a
//! subscription. Pure rules: the worker that sends lives in the server, the queue in the store.

use crate::DomainError;
use chrono::Duration;

/// A clinic holds at most this many subscriptions (the chat-bot vendor's limit).
pub const MAX_SUBSCRIPTIONS_PER_CLINIC: usize = 25;
/// Longest description of a subscription, in characters.
pub const MAX_DESCRIPTION: usize = 200;

/// A subscription's description as people type it: plain text, trimmed, at most
/// `MAX_DESCRIPTION` characters.
pub fn check_description(raw: &str) -> Result<String, DomainError> {
    crate::catalogue::check_text("description", raw, MAX_DESCRIPTION)
}

/// A subscription whose every attempt has failed for this long is disabled.
pub const DISABLE_AFTER_FAILING: Duration = Duration::days(5);

/// How long one attempt may take, connection included.
pub const ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// The events a subscription can ask for, spelled as the chat-bot vendor's contract spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    AppointmentCreated,
    AppointmentRescheduled,
    AppointmentCanceled,
    AppointmentCompleted,
    AppointmentNoShow,
    PatientCreated,
    Queued,
}

impl EventType {
    pub const ALL: [EventType; 7] = [
        EventType::AppointmentCreated,
        EventType::AppointmentRescheduled,
        EventType::AppointmentCanceled,
        EventType::AppointmentCompleted,
        EventType::AppointmentNoShow,
        EventType::PatientCreated,
        EventType::Queued,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::AppointmentCreated => "appointmentCreated",
            EventType::AppointmentRescheduled => "appointmentRescheduled",
            EventType::AppointmentCanceled => "appointmentCanceled",
            EventType::AppointmentCompleted => "appointmentCompleted",
            EventType::AppointmentNoShow => "appointmentNoShow",
            EventType::PatientCreated => "patientCreated",
            EventType::Queued => "Queued",
        }
    }

    pub fn parse(name: &str) -> Option<EventType> {
        EventType::ALL.into_iter().find(|e| e.as_str() == name)
    }

    /// The names, comma-separated, for error messages and documentation.
    pub fn names() -> String {
        EventType::ALL.map(EventType::as_str).join(", ")
    }
}

/// A subscription's event list: at least one, each known, duplicates dropped, sorted.
pub fn parse_events<S: AsRef<str>>(names: &[S]) -> Result<Vec<EventType>, DomainError> {
    if names.is_empty() {
        return Err(DomainError::invalid("events", format!("must name at least one of {}", EventType::names())));
    }
    let mut events = Vec::with_capacity(names.len());
    for name in names {
        let name = name.as_ref();
        let event = EventType::parse(name)
            .ok_or_else(|| DomainError::invalid("events", format!("{name:?} is not an event; use {}", EventType::names())))?;
        events.push(event);
    }
    events.sort();
    events.dedup();
    Ok(events)
}

/// The wait after the `failed`-th failed attempt of one event (1-based), before jitter;
/// `None` when the event is given up. Attempts: immediately, then 5 s, 5 min, 30 min, 2 h,
/// 5 h, 10 h and 10 h later, about 28 hours in all.
pub fn retry_delay(failed: u32) -> Option<Duration> {
    const SCHEDULE_SECS: [i64; 7] = [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];
    let index = usize::try_from(failed.checked_sub(1)?).ok()?;
    SCHEDULE_SECS.get(index).map(|s| Duration::seconds(*s))
}

/// The number of attempts one event gets before it is given up.
pub fn max_attempts() -> u32 {
    (1..).find(|n| retry_delay(*n).is_none()).expect("the schedule is finite")
}

/// Spreads retries so that a receiver coming back is not hit by every queued event in the
/// same second: `delay` scaled into [90 %, 110 %] by `unit` in [0, 1].
pub fn with_jitter(delay: Duration, unit: f64) -> Duration {
    let unit = if unit.is_finite() { unit.clamp(0.0, 1.0) } else { 0.5 };
    let millis = delay.num_milliseconds() as f64 * (0.9 + 0.2 * unit);
    Duration::milliseconds(millis.floor() as i64)
}

/// True when a subscription whose attempts have all failed since `failing_since` is to be
/// disabled at `now`.
pub fn failing_too_long(failing_since: chrono::DateTime<chrono::Utc>, now: chrono::DateTime<chrono::Utc>) -> bool {
    now - failing_since >= DISABLE_AFTER_FAILING
}

/// What one attempt's answer means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttemptOutcome {
    Delivered,
    /// Not accepted: try again later. Redirects are failures and are never followed, so a
    /// receiver cannot bounce deliveries to an address the outbound check would refuse.
    Failed,
    /// 410 Gone: the receiver says the endpoint is no more; the subscription is disabled.
    Gone,
}

/// `status` is `None` when no answer came (timeout, connection refused, reset).
pub fn attempt_outcome(status: Option<u16>) -> AttemptOutcome {
    match status {
        Some(200..=299) => AttemptOutcome::Delivered,
        Some(410) => AttemptOutcome::Gone,
        _ => AttemptOutcome::Failed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_follow_the_schedule_and_stop_after_about_28_hours() {
        let delays: Vec<i64> = (1..=7).map(|n| retry_delay(n).unwrap().num_seconds()).collect();
        assert_eq!(delays, [5, 300, 1800, 7200, 18000, 36000, 36000]);
        assert_eq!(retry_delay(8), None);
        assert_eq!(retry_delay(0), None, "there is no zeroth failure");
        assert_eq!(max_attempts(), 8, "the first attempt and seven retries");
        let total: i64 = delays.iter().sum();
        assert!((27 * 3600..29 * 3600).contains(&total), "{total}");
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let base = Duration::seconds(100);
        assert_eq!(with_jitter(base, 0.0), Duration::seconds(90));
        assert_eq!(with_jitter(base, 0.5), Duration::seconds(100));
        assert!(with_jitter(base, 0.999_999) < Duration::seconds(110));
        assert_eq!(with_jitter(Duration::milliseconds(1), 0.0), Duration::zero(), "no negative waits");
        assert_eq!(with_jitter(base, f64::NAN), base);
        assert_eq!(with_jitter(base, 7.0), Duration::seconds(110), "out-of-range input is clamped");
    }

    #[test]
    fn only_2xx_delivers_410_disables_and_redirects_fail() {
        assert_eq!(attempt_outcome(Some(200)), AttemptOutcome::Delivered);
        assert_eq!(attempt_outcome(Some(204)), AttemptOutcome::Delivered);
        assert_eq!(attempt_outcome(Some(410)), AttemptOutcome::Gone);
        for failed in [None, Some(301), Some(302), Some(307), Some(400), Some(404), Some(429), Some(500), Some(503)] {
            assert_eq!(attempt_outcome(failed), AttemptOutcome::Failed, "{failed:?}");
        }
    }

    #[test]
    fn a_subscription_is_disabled_after_five_days_of_failures() {
        let since = chrono::DateTime::from_timestamp(1_700_000_000, 0).unwrap();
        assert!(!failing_too_long(since, since + Duration::days(5) - Duration::seconds(1)));
        assert!(failing_too_long(since, since + Duration::days(5)));
    }

    #[test]
    fn event_lists_are_checked_deduplicated_and_sorted() {
        let events = parse_events(&["Queued", "appointmentCreated", "Queued"]).unwrap();
        assert_eq!(events, [EventType::AppointmentCreated, EventType::Queued]);
        assert!(parse_events::<&str>(&[]).is_err());
        let err = parse_events(&["appointmentCancelled"]).unwrap_err().to_string();
        assert!(err.contains("appointmentCanceled"), "the message lists the right spelling: {err}");
        for event in EventType::ALL {
            assert_eq!(EventType::parse(event.as_str()), Some(event));
        }
    }
}
