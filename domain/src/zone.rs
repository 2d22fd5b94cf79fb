use crate::DomainError;
use chrono::{DateTime, LocalResult, NaiveDate, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

pub fn parse_zone(name: &str) -> Result<Tz, DomainError> {
    name.parse::<Tz>().map_err(|_| DomainError::UnknownTimeZone(name.to_owned()))
}

/// The instant at which a wall-clock time happens in `tz`.
///
/// On a fall-back day a repeated wall time maps to its first occurrence; on a spring-forward
/// day a skipped wall time maps to the first instant after the gap (what a wall clock shows
/// then). Working hours "01:00-04:00" on either day therefore cover exactly the real time
/// between those two readings of the clock, neither more nor less.
pub fn instant_at(tz: Tz, local: NaiveDateTime) -> DateTime<Utc> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => t.with_timezone(&Utc),
        LocalResult::Ambiguous(first, _) => first.with_timezone(&Utc),
        LocalResult::None => {
            // Gaps are whole minutes in every zone of the IANA database and never longer
            // than a day; walk forward minute by minute until the clock exists again.
            let mut probe = local;
            for _ in 0..(24 * 60) {
                probe += chrono::Duration::minutes(1);
                if let Some(t) = tz.from_local_datetime(&probe).earliest() {
                    return t.with_timezone(&Utc);
                }
            }
            unreachable!("no IANA zone has a gap longer than a day")
        }
    }
}

/// The first instant of a local calendar day in `tz`.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    instant_at(tz, date.and_time(chrono::NaiveTime::MIN))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveTime;

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_time(NaiveTime::from_hms_opt(h, mi, 0).unwrap())
    }

    #[test]
    fn unknown_zone_names_are_refused() {
        assert_eq!(parse_zone("Mars/Olympus"), Err(DomainError::UnknownTimeZone("Mars/Olympus".into())));
        assert!(parse_zone("Europe/Berlin").is_ok());
    }

    #[test]
    fn a_skipped_wall_time_maps_to_the_end_of_the_gap() {
        let berlin = parse_zone("Europe/Berlin").unwrap();
        // 2026-03-29 02:30 does not exist in Berlin; clocks jump from 02:00 CET to 03:00 CEST.
        let t = instant_at(berlin, local(2026, 3, 29, 2, 30));
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap());
    }

    #[test]
    fn a_repeated_wall_time_maps_to_its_first_occurrence() {
        let new_york = parse_zone("America/New_York").unwrap();
        // 2026-11-01 01:30 happens twice in New York; first in EDT (UTC-4).
        let t = instant_at(new_york, local(2026, 11, 1, 1, 30));
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap());
    }
}
