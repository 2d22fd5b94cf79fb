//! Bookable times from working hours and busy time. One implementation serves every client:
//! the widget, the bot API and the voice bot all ask the server, which asks this module.

use crate::zone::instant_at;
use crate::{Interval, WeeklyInterval};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

/// Everything needed to list one provider's free times on one local calendar day.
#[derive(Debug, Clone)]
pub struct DayQuery<'a> {
    pub tz: Tz,
    pub date: NaiveDate,
    pub hours: &'a [WeeklyInterval],
    pub busy: &'a [Interval],
    /// Length of the appointment being booked.
    pub duration: Duration,
    /// Distance between candidate start times, counted from the start of each working period.
    pub step: Duration,
    /// Nothing may start before this instant ("now" plus the clinic's minimum notice).
    pub earliest: DateTime<Utc>,
}

/// Free slots on `query.date`, ordered by start, without duplicates.
///
/// Candidate starts are stepped in real (UTC) time from the start of each working period, so a
/// daylight-saving change inside a period neither invents nor drops time: on a spring-forward
/// day the skipped hour yields no slot, on a fall-back day the repeated hour yields its slots.
pub fn free_slots(query: &DayQuery<'_>) -> Vec<Interval> {
    if query.duration <= Duration::zero() || query.step <= Duration::zero() {
        return Vec::new();
    }
    let mut slots = Vec::new();
    for period in query.hours.iter().filter(|h| h.weekday == query.date.weekday()) {
        let open = instant_at(query.tz, query.date.and_time(period.start.naive()));
        let close = instant_at(query.tz, query.date.and_time(period.end.naive()));
        let mut start = open;
        while start + query.duration <= close {
            let candidate = Interval { start, end: start + query.duration };
            if start >= query.earliest && !query.busy.iter().any(|b| b.overlaps(&candidate)) {
                slots.push(candidate);
            }
            start += query.step;
        }
    }
    slots.sort_by_key(|s| s.start);
    slots.dedup();
    slots
}

/// "Any provider": every distinct slot that at least one provider offers, in order, with the
/// number of providers offering it. Booking one still assigns a concrete provider.
pub fn any_provider(per_provider: &[Vec<Interval>]) -> Vec<(Interval, usize)> {
    let mut counts = std::collections::BTreeMap::<(DateTime<Utc>, DateTime<Utc>), usize>::new();
    for slot in per_provider.iter().flatten() {
        *counts.entry((slot.start, slot.end)).or_default() += 1;
    }
    counts.into_iter().map(|((start, end), n)| (Interval { start, end }, n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zone::parse_zone;
    use crate::LocalTime;
    use chrono::{TimeZone, Weekday};
    use proptest::prelude::*;

    fn hours(weekday: Weekday, from: (u32, u32), to: (u32, u32)) -> WeeklyInterval {
        WeeklyInterval::new(
            weekday,
            LocalTime::from_hm(from.0, from.1).unwrap(),
            LocalTime::from_hm(to.0, to.1).unwrap(),
        )
        .unwrap()
    }

    fn query<'a>(tz: Tz, date: NaiveDate, hours: &'a [WeeklyInterval], busy: &'a [Interval]) -> DayQuery<'a> {
        DayQuery {
            tz,
            date,
            hours,
            busy,
            duration: Duration::minutes(30),
            step: Duration::minutes(30),
            earliest: Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    fn labels(tz: Tz, slots: &[Interval]) -> Vec<String> {
        slots.iter().map(|s| s.start.with_timezone(&tz).format("%H:%M").to_string()).collect()
    }

    #[test]
    fn a_morning_of_working_hours_yields_half_hour_slots_in_local_time() {
        let berlin = parse_zone("Europe/Berlin").unwrap();
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let h = [hours(Weekday::Mon, (8, 0), (10, 0))];
        let slots = free_slots(&query(berlin, monday, &h, &[]));
        assert_eq!(labels(berlin, &slots), ["08:00", "08:30", "09:00", "09:30"]);
        assert_eq!(slots[0].start, Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0).unwrap());
    }

    #[test]
    fn a_busy_interval_removes_every_slot_it_touches() {
        let berlin = parse_zone("Europe/Berlin").unwrap();
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let h = [hours(Weekday::Mon, (8, 0), (10, 0))];
        // 08:45 to 09:15 local touches the 08:30 and the 09:00 slot.
        let busy = [Interval::new(
            Utc.with_ymd_and_hms(2026, 11, 23, 7, 45, 0).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 23, 8, 15, 0).unwrap(),
        )
        .unwrap()];
        let slots = free_slots(&query(berlin, monday, &h, &busy));
        assert_eq!(labels(berlin, &slots), ["08:00", "09:30"]);
    }

    #[test]
    fn nothing_starts_before_the_earliest_instant() {
        let berlin = parse_zone("Europe/Berlin").unwrap();
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let h = [hours(Weekday::Mon, (8, 0), (10, 0))];
        let mut q = query(berlin, monday, &h, &[]);
        q.earliest = Utc.with_ymd_and_hms(2026, 11, 23, 8, 10, 0).unwrap();
        assert_eq!(labels(berlin, &free_slots(&q)), ["09:30"]);
    }

    #[test]
    fn a_day_without_working_hours_has_no_slots() {
        let berlin = parse_zone("Europe/Berlin").unwrap();
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let h = [hours(Weekday::Mon, (8, 0), (10, 0))];
        assert!(free_slots(&query(berlin, sunday, &h, &[])).is_empty());
    }

    #[test]
    fn the_skipped_hour_of_spring_forward_yields_no_slot() {
        let berlin = parse_zone("Europe/Berlin").unwrap();
        let sunday = NaiveDate::from_ymd_opt(2026, 3, 29).unwrap();
        let h = [hours(Weekday::Sun, (1, 0), (4, 0))];
        let slots = free_slots(&query(berlin, sunday, &h, &[]));
        // 01:00 to 04:00 on the wall is two real hours: 01:00 CET to 04:00 CEST.
        assert_eq!(labels(berlin, &slots), ["01:00", "01:30", "03:00", "03:30"]);
    }

    #[test]
    fn the_repeated_hour_of_fall_back_yields_its_slots_twice() {
        let new_york = parse_zone("America/New_York").unwrap();
        let sunday = NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
        let h = [hours(Weekday::Sun, (0, 0), (3, 0))];
        let slots = free_slots(&query(new_york, sunday, &h, &[]));
        assert_eq!(slots.len(), 8, "00:00 EDT to 03:00 EST is four real hours");
        assert_eq!(
            labels(new_york, &slots),
            ["00:00", "00:30", "01:00", "01:30", "01:00", "01:30", "02:00", "02:30"]
        );
    }

    #[test]
    fn a_zero_duration_or_step_yields_nothing_instead_of_looping() {
        let berlin = parse_zone("Europe/Berlin").unwrap();
        let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
        let h = [hours(Weekday::Mon, (8, 0), (10, 0))];
        let mut q = query(berlin, monday, &h, &[]);
        q.step = Duration::zero();
        assert!(free_slots(&q).is_empty());
        q.step = Duration::minutes(30);
        q.duration = Duration::zero();
        assert!(free_slots(&q).is_empty());
    }

    #[test]
    fn any_provider_merges_equal_slots_and_counts_who_offers_them() {
        let t = |h| Utc.with_ymd_and_hms(2026, 11, 23, h, 0, 0).unwrap();
        let slot = |h| Interval::new(t(h), t(h + 1)).unwrap();
        let merged = any_provider(&[vec![slot(8), slot(9)], vec![slot(9), slot(10)], vec![]]);
        assert_eq!(merged, vec![(slot(8), 1), (slot(9), 2), (slot(10), 1)]);
    }

    fn arb_busy() -> impl Strategy<Value = Vec<Interval>> {
        let base = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap().timestamp();
        prop::collection::vec((0i64..(24 * 60), 1i64..240), 0..20).prop_map(move |v| {
            v.into_iter()
                .map(|(start_min, len)| {
                    let s = DateTime::from_timestamp(base + start_min * 60, 0).unwrap();
                    Interval::new(s, s + Duration::minutes(len)).unwrap()
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn slots_never_overlap_busy_time_and_stay_inside_working_hours(
            busy in arb_busy(),
            from_h in 0u32..12, len_h in 1u32..12,
            duration in 5i64..120, step in 5i64..60,
            earliest_min in 0i64..(24 * 60),
        ) {
            let berlin = parse_zone("Europe/Berlin").unwrap();
            let monday = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
            let h = [hours(Weekday::Mon, (from_h, 0), (from_h + len_h, 0))];
            let earliest = Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap() + Duration::minutes(earliest_min);
            let q = DayQuery { tz: berlin, date: monday, hours: &h, busy: &busy,
                duration: Duration::minutes(duration), step: Duration::minutes(step), earliest };
            let open = instant_at(berlin, monday.and_time(h[0].start.naive()));
            let close = instant_at(berlin, monday.and_time(h[0].end.naive()));
            let slots = free_slots(&q);
            for s in &slots {
                prop_assert!(busy.iter().all(|b| !b.overlaps(s)));
                prop_assert!(open <= s.start && s.end <= close);
                prop_assert!(s.start >= earliest);
                prop_assert_eq!(s.end - s.start, Duration::minutes(duration));
            }
            prop_assert!(slots.windows(2).all(|w| w[0].start < w[1].start));
        }
    }
}
