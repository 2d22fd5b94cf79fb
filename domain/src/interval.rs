use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// A half-open span of time `[start, end)`: an appointment ending at 10:00 does not touch one
/// starting at 10:00.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Interval {
    /// `None` when `end` is not after `start`: an empty or inverted span is never a valid
    /// appointment or working period.
    pub fn new(start: DateTime<Utc>, end: DateTime<Utc>) -> Option<Self> {
        (start < end).then_some(Self { start, end })
    }

    pub fn overlaps(&self, other: &Interval) -> bool {
        self.start < other.end && other.start < self.end
    }

    pub fn contains(&self, other: &Interval) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 2, h, m, 0).unwrap()
    }

    #[test]
    fn touching_intervals_do_not_overlap() {
        let a = Interval::new(at(9, 0), at(10, 0)).unwrap();
        let b = Interval::new(at(10, 0), at(11, 0)).unwrap();
        assert!(!a.overlaps(&b) && !b.overlaps(&a));
    }

    #[test]
    fn partially_shifted_intervals_overlap_both_ways() {
        let a = Interval::new(at(9, 0), at(10, 0)).unwrap();
        let b = Interval::new(at(9, 45), at(10, 15)).unwrap();
        assert!(a.overlaps(&b) && b.overlaps(&a));
    }

    #[test]
    fn an_empty_or_inverted_interval_cannot_be_built() {
        assert!(Interval::new(at(9, 0), at(9, 0)).is_none());
        assert!(Interval::new(at(10, 0), at(9, 0)).is_none());
    }
}
