use crate::DomainError;
use chrono::{DateTime, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, Offset, SecondsFormat, TimeZone, Utc};
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

/// `at` as the wall clock of `tz` shows it, RFC 3339 with whole seconds and a numeric offset
/// ("2026-11-30T09:00:00+01:00"): exactly what chrono's `to_rfc3339_opts(Secs, false)` writes.
pub fn rfc3339_in(at: DateTime<Utc>, tz: Tz) -> String {
    let mut out = String::with_capacity(25);
    push_rfc3339(&mut out, at, offset_at(tz, at));
    out
}

/// The offset from UTC that `tz` has at `at`.
pub fn offset_at(tz: Tz, at: DateTime<Utc>) -> FixedOffset {
    tz.offset_from_utc_datetime(&at.naive_utc()).fix()
}

/// `rfc3339_in` with the offset already known, appended to `out`. Written digit by digit
/// because answers carry thousands of them and chrono's general formatter is most of such an
/// answer's cost.
pub fn push_rfc3339(out: &mut String, at: DateTime<Utc>, offset: FixedOffset) {
    let seconds = offset.local_minus_utc();
    let local = at.timestamp() + i64::from(seconds);
    let (days, of_day) = (local.div_euclid(86_400), local.rem_euclid(86_400));
    let (year, month, day) = civil_from_days(days);
    // Offsets in seconds (local mean time before 1900) and years chrono writes with a sign:
    // its own formatter, which rounds them as RFC 3339 requires.
    if seconds % 60 != 0 || !(0..=9999).contains(&year) {
        out.push_str(&at.with_timezone(&offset).to_rfc3339_opts(SecondsFormat::Secs, false));
        return;
    }
    let minutes = seconds.unsigned_abs() / 60;
    let mut text = *b"0000-00-00T00:00:00+00:00";
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (at..at + width).rev() {
            text[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, year as u32, 4);
    put(5, month, 2);
    put(8, day, 2);
    put(11, (of_day / 3600) as u32, 2);
    put(14, (of_day / 60 % 60) as u32, 2);
    put(17, (of_day % 60) as u32, 2);
    put(20, minutes / 60, 2);
    put(23, minutes % 60, 2);
    if seconds < 0 {
        text[19] = b'-';
    }
    out.push_str(std::str::from_utf8(&text).expect("ASCII digits"));
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (negative before it), as year,
/// month and day: integer arithmetic only (the civil-from-days method of H. Hinnant's date
/// algorithms), which is why it is here rather than in chrono's general conversions.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
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
    fn local_rfc3339_is_what_chrono_writes_in_every_zone_at_any_instant() {
        use chrono::SecondsFormat;
        let zones = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham", "UTC", "America/St_Johns", "Africa/Monrovia"];
        // Every 104,729 seconds (a prime: every minute and second of the day comes round) from
        // 1800 (offsets in seconds) to 2100, and every hour or so of 2026 (its DST changes).
        let mut t = -5_364_662_400i64;
        while t < 4_102_444_800 {
            let at = DateTime::from_timestamp(t, 0).unwrap();
            for zone in zones {
                let tz = parse_zone(zone).unwrap();
                assert_eq!(rfc3339_in(at, tz), at.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, false), "{zone} at {t}");
            }
            t += if (1_767_225_600..1_798_761_600).contains(&t) { 3_607 } else { 104_729 };
        }
    }

    #[test]
    fn civil_dates_from_day_numbers_agree_with_chrono_over_four_thousand_years() {
        use chrono::Datelike;
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
        for days in (-800_000i64..800_000).step_by(13) {
            let date = epoch + chrono::Duration::days(days);
            assert_eq!(civil_from_days(days), (i64::from(date.year()), date.month(), date.day()), "day {days}");
        }
    }

    #[test]
    fn a_repeated_wall_time_maps_to_its_first_occurrence() {
        let new_york = parse_zone("America/New_York").unwrap();
        // 2026-11-01 01:30 happens twice in New York; first in EDT (UTC-4).
        let t = instant_at(new_york, local(2026, 11, 1, 1, 30));
        assert_eq!(t, Utc.with_ymd_and_hms(2026, 11, 1, 5, 30, 0).unwrap());
    }
}
