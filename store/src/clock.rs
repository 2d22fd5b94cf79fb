//! The one place the server reads "now" from.
//!
//! Every rule that looks at the time (minimum notice, horizon, change cutoff, hold expiry,
//! link expiry, webhook retries) receives an instant as a parameter; the edges (pages, APIs,
//! the delivery worker, the CLI) take that instant from a `Clock`. In production the clock is
//! the system's. Tests start it at a chosen instant, from where it runs on at the real rate,
//! so that a whole suite can run as of the last day of a year or a daylight-saving change,
//! and holds, leases and retries still expire as they would.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    /// Added to the system time; `None` for the system clock.
    offset: Option<Duration>,
}

impl Clock {
    /// The system clock.
    pub fn system() -> Self {
        Self::default()
    }

    /// A clock that reads `start` at the moment it is made and runs on from there.
    pub fn starting_at(start: DateTime<Utc>) -> Self {
        Self { offset: Some(start - Utc::now()) }
    }

    pub fn now(&self) -> DateTime<Utc> {
        let now = Utc::now();
        self.offset.map_or(now, |offset| now + offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_clock_set_to_an_instant_reads_it_and_then_runs_on() {
        let start = Utc.with_ymd_and_hms(2026, 12, 31, 22, 59, 0).unwrap();
        let clock = Clock::starting_at(start);
        let first = clock.now();
        assert!(first >= start && first - start < Duration::seconds(5), "{first}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(clock.now() > first, "the clock stands still");
    }

    #[test]
    fn the_system_clock_reads_the_system_time() {
        let clock = Clock::system();
        assert!((clock.now() - Utc::now()).abs() < Duration::seconds(5));
    }
}
