use crate::DomainError;
use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A wall-clock time of day in a location's zone, to the minute ("08:30").
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct LocalTime(NaiveTime);

impl LocalTime {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        NaiveTime::parse_from_str(raw, "%H:%M")
            .map(Self)
            .map_err(|_| DomainError::invalid("time", format!("{raw:?} is not a HH:MM time")))
    }

    pub fn from_hm(hour: u32, minute: u32) -> Option<Self> {
        NaiveTime::from_hms_opt(hour, minute, 0).map(Self)
    }

    pub fn naive(self) -> NaiveTime {
        self.0
    }
}

impl TryFrom<String> for LocalTime {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<LocalTime> for String {
    fn from(value: LocalTime) -> Self {
        value.to_string()
    }
}

impl fmt::Display for LocalTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

/// One recurring working period: "Mondays 08:00 to 12:00" in the location's local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct WeeklyInterval {
    pub weekday: Weekday,
    pub start: LocalTime,
    pub end: LocalTime,
}

impl WeeklyInterval {
    pub fn new(weekday: Weekday, start: LocalTime, end: LocalTime) -> Result<Self, DomainError> {
        if start >= end {
            return Err(DomainError::invalid(
                "working_hours",
                format!("{start} to {end} ends before it starts"),
            ));
        }
        Ok(Self { weekday, start, end })
    }

    /// ISO weekday number, Monday = 1 .. Sunday = 7, as stored in the database.
    pub fn weekday_from_iso(n: i64) -> Result<Weekday, DomainError> {
        match n {
            1 => Ok(Weekday::Mon),
            2 => Ok(Weekday::Tue),
            3 => Ok(Weekday::Wed),
            4 => Ok(Weekday::Thu),
            5 => Ok(Weekday::Fri),
            6 => Ok(Weekday::Sat),
            7 => Ok(Weekday::Sun),
            _ => Err(DomainError::invalid("weekday", format!("{n} is not 1 (Mon) to 7 (Sun)"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_times_round_trip_through_their_text_form() {
        let t = LocalTime::parse("08:05").unwrap();
        assert_eq!(t.to_string(), "08:05");
    }

    #[test]
    fn malformed_local_times_are_refused() {
        for bad in ["8", "24:00", "12:60", "noon", ""] {
            assert!(LocalTime::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_working_interval_that_ends_before_it_starts_is_refused() {
        let nine = LocalTime::from_hm(9, 0).unwrap();
        let eight = LocalTime::from_hm(8, 0).unwrap();
        assert!(WeeklyInterval::new(Weekday::Mon, nine, eight).is_err());
        assert!(WeeklyInterval::new(Weekday::Mon, nine, nine).is_err());
    }

    #[test]
    fn iso_weekday_numbers_outside_one_to_seven_are_refused() {
        assert_eq!(WeeklyInterval::weekday_from_iso(1).unwrap(), Weekday::Mon);
        assert_eq!(WeeklyInterval::weekday_from_iso(7).unwrap(), Weekday::Sun);
        assert!(WeeklyInterval::weekday_from_iso(0).is_err());
        assert!(WeeklyInterval::weekday_from_iso(8).is_err());
    }
}
