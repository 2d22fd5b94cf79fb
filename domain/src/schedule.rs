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

/// Weekly working hours of a provider at a location, as staff define them: ISO weekday
/// (Monday = 1), local start and end, and optionally the first and last date they apply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HoursDef {
    pub location_id: i64,
    pub weekday: u8,
    pub start: LocalTime,
    pub end: LocalTime,
    pub valid_from: Option<chrono::NaiveDate>,
    pub valid_until: Option<chrono::NaiveDate>,
}

impl HoursDef {
    pub fn new(
        location_id: i64,
        weekday: i64,
        start: LocalTime,
        end: LocalTime,
        valid_from: Option<chrono::NaiveDate>,
        valid_until: Option<chrono::NaiveDate>,
    ) -> Result<Self, DomainError> {
        WeeklyInterval::weekday_from_iso(weekday)?;
        if end <= start {
            return Err(DomainError::invalid("end", format!("{end} is not after {start}")));
        }
        if let (Some(from), Some(until)) = (valid_from, valid_until) {
            if until < from {
                return Err(DomainError::invalid("validUntil", format!("{until} is before {from}")));
            }
        }
        Ok(Self { location_id, weekday: weekday as u8, start, end, valid_from, valid_until })
    }

    /// Whether both apply on some same day at some same minute. A provider cannot work two
    /// overlapping periods, at one location or at two.
    pub fn overlaps(&self, other: &HoursDef) -> bool {
        use chrono::NaiveDate;
        let first = self.valid_from.unwrap_or(NaiveDate::MIN).max(other.valid_from.unwrap_or(NaiveDate::MIN));
        let last = self.valid_until.unwrap_or(NaiveDate::MAX).min(other.valid_until.unwrap_or(NaiveDate::MAX));
        let dates_meet = first <= last;
        self.weekday == other.weekday && self.start < other.end && other.start < self.end && dates_meet
    }
}

/// A change to one day of a provider's week: closed all day, or extra hours.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionDef {
    pub date: chrono::NaiveDate,
    /// None: closed all day.
    pub extra: Option<(LocalTime, LocalTime)>,
}

impl ExceptionDef {
    pub fn closed(date: chrono::NaiveDate) -> Self {
        Self { date, extra: None }
    }

    pub fn extra(date: chrono::NaiveDate, start: LocalTime, end: LocalTime) -> Result<Self, DomainError> {
        if end <= start {
            return Err(DomainError::invalid("end", format!("{end} is not after {start}")));
        }
        Ok(Self { date, extra: Some((start, end)) })
    }
}

/// A time of day from a form field, refused naming the field.
pub fn parse_time(field: &'static str, raw: &str) -> Result<LocalTime, DomainError> {
    LocalTime::parse(raw.trim()).map_err(|_| DomainError::invalid(field, format!("{:?} is not a time such as 08:30", raw.trim())))
}

/// A date from a form field (YYYY-MM-DD), refused naming the field.
pub fn parse_date(field: &'static str, raw: &str) -> Result<chrono::NaiveDate, DomainError> {
    crate::patient::parse_iso_date(raw.trim()).ok_or_else(|| DomainError::invalid(field, format!("{:?} is not a date such as 2027-01-31", raw.trim())))
}

/// An optional date: empty means none.
pub fn parse_optional_date(field: &'static str, raw: &str) -> Result<Option<chrono::NaiveDate>, DomainError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    parse_date(field, raw).map(Some)
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
    fn hours(weekday: i64, start: &str, end: &str, from: Option<&str>, until: Option<&str>) -> HoursDef {
        let date = |d: Option<&str>| d.map(|d| parse_date("date", d).unwrap());
        HoursDef::new(1, weekday, LocalTime::parse(start).unwrap(), LocalTime::parse(end).unwrap(), date(from), date(until)).unwrap()
    }

    #[test]
    fn hours_that_end_before_they_start_or_validity_that_ends_before_it_begins_are_refused() {
        let t = |s| LocalTime::parse(s).unwrap();
        assert!(matches!(HoursDef::new(1, 1, t("12:00"), t("08:00"), None, None), Err(DomainError::Invalid { field: "end", .. })));
        assert!(matches!(HoursDef::new(1, 1, t("08:00"), t("08:00"), None, None), Err(DomainError::Invalid { field: "end", .. })));
        assert!(matches!(HoursDef::new(1, 8, t("08:00"), t("12:00"), None, None), Err(DomainError::Invalid { field: "weekday", .. })));
        let (from, until) = (parse_date("d", "2027-02-01").ok(), parse_date("d", "2027-01-01").ok());
        assert!(matches!(HoursDef::new(1, 1, t("08:00"), t("12:00"), from, until), Err(DomainError::Invalid { field: "validUntil", .. })));
        assert!(matches!(ExceptionDef::extra(from.unwrap(), t("12:00"), t("09:00")), Err(DomainError::Invalid { field: "end", .. })));
        assert!(matches!(parse_time("start", "25:00"), Err(DomainError::Invalid { field: "start", .. })));
        assert!(matches!(parse_date("date", "2027-02-30"), Err(DomainError::Invalid { field: "date", .. })));
    }

    #[test]
    fn hours_overlap_only_on_the_same_weekday_at_the_same_time_while_both_are_valid() {
        let morning = hours(1, "08:00", "12:00", None, None);
        assert!(morning.overlaps(&hours(1, "11:00", "13:00", None, None)));
        assert!(!morning.overlaps(&hours(1, "12:00", "16:00", None, None)), "back to back is fine (a lunch break ends where it starts)");
        assert!(!morning.overlaps(&hours(2, "08:00", "12:00", None, None)));
        let spring = hours(1, "08:00", "12:00", Some("2027-03-01"), Some("2027-05-31"));
        assert!(spring.overlaps(&morning));
        assert!(!spring.overlaps(&hours(1, "08:00", "12:00", Some("2027-06-01"), None)));
        assert!(!spring.overlaps(&hours(1, "08:00", "12:00", None, Some("2027-02-28"))));
        assert!(spring.overlaps(&hours(1, "09:00", "10:00", Some("2027-05-31"), Some("2027-05-31"))));
    }
}
