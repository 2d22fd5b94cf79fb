//! What this process has done since it started, counted where it happens: the store is the one
//! place every booking, hold, availability computation, webhook attempt and e-mail passes,
//! whichever door (widget, bot, voice bot, desk, command line) it came through. Counters only
//! grow; the server's `/metrics` reads them (and the queues' depths from the database).

use domain::appointment::BookingSource;
use std::sync::atomic::{AtomicU64, Ordering};

/// The sources in the order of `Counters::bookings`.
pub const SOURCES: [BookingSource; 4] = [BookingSource::Widget, BookingSource::BotApi, BookingSource::VoiceBot, BookingSource::Staff];

/// The outcomes of webhook attempts, in the order of `Counters::webhook_attempts`.
pub const WEBHOOK_OUTCOMES: [&str; 4] = ["delivered", "retry", "failed", "gone"];

/// The outcomes of e-mail attempts, in the order of `Counters::emails`.
pub const EMAIL_OUTCOMES: [&str; 3] = ["sent", "retry", "failed"];

/// Where an availability computation read the calendars from, in the order of
/// `Counters::availability`.
pub const AVAILABILITY_SOURCES: [&str; 2] = ["memory", "database"];

#[derive(Debug, Default)]
pub struct Counters {
    bookings: [AtomicU64; 4],
    holds: AtomicU64,
    availability: [AtomicU64; 2],
    webhook_attempts: [AtomicU64; 4],
    emails: [AtomicU64; 3],
    pruned: AtomicU64,
}

/// A copy of the counters at one moment.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CounterValues {
    /// Appointments booked, by `SOURCES`.
    pub bookings: [u64; 4],
    pub holds: u64,
    /// By `AVAILABILITY_SOURCES`.
    pub availability: [u64; 2],
    /// By `WEBHOOK_OUTCOMES`.
    pub webhook_attempts: [u64; 4],
    /// By `EMAIL_OUTCOMES`.
    pub emails: [u64; 3],
    /// Rows removed by retention (`Store::prune`).
    pub pruned: u64,
}

fn bump(counter: &AtomicU64, by: u64) {
    counter.fetch_add(by, Ordering::Relaxed);
}

impl Counters {
    pub(crate) fn booked(&self, source: BookingSource) {
        let i = SOURCES.iter().position(|s| *s == source).unwrap_or(0);
        bump(&self.bookings[i], 1);
    }

    pub(crate) fn held(&self) {
        bump(&self.holds, 1);
    }

    pub(crate) fn computed_availability(&self, from_memory: bool) {
        bump(&self.availability[usize::from(!from_memory)], 1);
    }

    pub(crate) fn webhook_attempt(&self, outcome: &str) {
        if let Some(i) = WEBHOOK_OUTCOMES.iter().position(|o| *o == outcome) {
            bump(&self.webhook_attempts[i], 1);
        }
    }

    pub(crate) fn email(&self, outcome: &str) {
        if let Some(i) = EMAIL_OUTCOMES.iter().position(|o| *o == outcome) {
            bump(&self.emails[i], 1);
        }
    }

    pub(crate) fn pruned(&self, rows: u64) {
        bump(&self.pruned, rows);
    }

    pub fn values(&self) -> CounterValues {
        let read = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CounterValues {
            bookings: self.bookings.each_ref().map(read),
            holds: read(&self.holds),
            availability: self.availability.each_ref().map(read),
            webhook_attempts: self.webhook_attempts.each_ref().map(read),
            emails: self.emails.each_ref().map(read),
            pruned: read(&self.pruned),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_booking_counts_under_its_own_source() {
        let counters = Counters::default();
        counters.booked(BookingSource::VoiceBot);
        counters.booked(BookingSource::VoiceBot);
        counters.booked(BookingSource::Widget);
        assert_eq!(counters.values().bookings, [1, 0, 2, 0]);
    }

    #[test]
    fn an_unknown_outcome_counts_nowhere() {
        let counters = Counters::default();
        counters.webhook_attempt("delivered");
        counters.webhook_attempt("teleported");
        counters.email("failed");
        let values = counters.values();
        assert_eq!(values.webhook_attempts, [1, 0, 0, 0]);
        assert_eq!(values.emails, [0, 0, 1]);
    }
}
