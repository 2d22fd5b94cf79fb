//! Bookable times from working hours and busy time. One implementation serves every client:
//! the widget, the bot API and the voice bot all ask the server, which asks this module.

use crate::zone::instant_at;
use crate::{DomainError, Interval, LocalTime, WeeklyInterval};
use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use chrono_tz::Tz;

/// The longest date range one query may ask for; bounds the work a request can cause.
pub const MAX_RANGE_DAYS: i64 = 366;

/// A weekly working period, valid on the dates from `valid_from` to `valid_until` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WeeklyRule {
    pub hours: WeeklyInterval,
    pub valid_from: Option<NaiveDate>,
    pub valid_until: Option<NaiveDate>,
}

impl WeeklyRule {
    pub fn always(hours: WeeklyInterval) -> Self {
        Self { hours, valid_from: None, valid_until: None }
    }

    fn applies_on(&self, date: NaiveDate) -> bool {
        self.hours.weekday == date.weekday()
            && self.valid_from.is_none_or(|from| from <= date)
            && self.valid_until.is_none_or(|until| date <= until)
    }
}

/// A change to one provider's weekly rules on one date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DateException {
    /// No working hours at all that day (leave, training).
    Closed { date: NaiveDate },
    /// Working hours in addition to the weekly rules (an extra Saturday morning).
    ExtraHours { date: NaiveDate, start: LocalTime, end: LocalTime },
}

/// One provider's calendar at one location.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProviderCalendar<'a> {
    pub weekly: &'a [WeeklyRule],
    pub exceptions: &'a [DateException],
    /// Labelled schedule blocks ("Admin block 9-12").
    pub blocks: &'a [Interval],
    /// Active appointments and unexpired holds.
    pub busy: &'a [Interval],
}

/// How slots are cut for one product at one clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotRules {
    pub duration: Duration,
    /// Preparation before and clean-up after, kept free of other bookings and blocks.
    pub buffer_before: Duration,
    pub buffer_after: Duration,
    /// Distance between candidate starts, counted from the start of each working period.
    pub step: Duration,
    pub minimum_notice: Duration,
    /// Nothing starts later than this after "now".
    pub horizon: Duration,
    /// At most this many bookings (appointments and holds) per provider and local day.
    pub per_day_cap: Option<u32>,
}

impl SlotRules {
    /// Rules with a step equal to the duration and no buffers, notice or cap.
    pub fn simple(duration: Duration, horizon: Duration) -> Self {
        Self {
            duration,
            buffer_before: Duration::zero(),
            buffer_after: Duration::zero(),
            step: duration,
            minimum_notice: Duration::zero(),
            horizon,
            per_day_cap: None,
        }
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        let day = Duration::days(1);
        if self.duration <= Duration::zero() || self.duration > day {
            return Err(DomainError::invalid("duration", "must be more than 0 and at most 24 hours"));
        }
        if self.step < Duration::minutes(1) || self.step > day {
            return Err(DomainError::invalid("step", "must be from 1 minute to 24 hours"));
        }
        if self.buffer_before < Duration::zero() || self.buffer_after < Duration::zero() {
            return Err(DomainError::invalid("buffer", "must not be negative"));
        }
        if self.buffer_before > day || self.buffer_after > day {
            return Err(DomainError::invalid("buffer", "must be at most 24 hours"));
        }
        if self.minimum_notice < Duration::zero() || self.horizon < Duration::zero() {
            return Err(DomainError::invalid("notice", "minimum notice and horizon must not be negative"));
        }
        if self.horizon > Duration::days(3 * 366) {
            return Err(DomainError::invalid("horizon", "must be at most three years"));
        }
        Ok(())
    }
}

/// What to compute: local dates `from..=to` in `tz`, as seen at `now`.
#[derive(Debug, Clone, Copy)]
pub struct SlotQuery<'a> {
    pub tz: Tz,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Clinic-wide closed days.
    pub holidays: &'a [NaiveDate],
    pub rules: SlotRules,
    pub now: DateTime<Utc>,
}

impl SlotQuery<'_> {
    pub fn validate(&self) -> Result<(), DomainError> {
        self.rules.validate()?;
        if self.to < self.from {
            return Err(DomainError::invalid("to", "the range ends before it starts"));
        }
        if (self.to - self.from).num_days() >= MAX_RANGE_DAYS {
            return Err(DomainError::invalid("to", format!("a range may span at most {MAX_RANGE_DAYS} days")));
        }
        Ok(())
    }
}

/// One provider's free slots on the query's dates, ordered by start, without duplicates.
///
/// Candidate starts are stepped in real (UTC) time from the start of each working period, so
/// a daylight-saving change inside a period neither invents nor drops time: on a
/// spring-forward day the skipped hour yields no slot, on a fall-back day the repeated hour
/// yields its slots.
pub fn provider_slots(query: &SlotQuery<'_>, calendar: &ProviderCalendar<'_>) -> Result<Vec<Interval>, DomainError> {
    let busy = BusyTime::new(calendar.busy, calendar.blocks);
    free_slots(query, calendar.weekly, calendar.exceptions, &[&busy])
}

/// A provider's busy time (appointments, holds) and blocks, prepared once for any number of
/// queries: a calendar kept in memory prepares it when it is loaded, not per request.
///
/// The hot loop works in integer Unix seconds: chrono arithmetic per candidate costs more
/// than everything else the engine does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BusyTime {
    /// The union of busy time and blocks as sorted, disjoint spans `[start, end)`.
    spans: Vec<(i64, i64)>,
    /// The starts of busy time (not blocks), sorted: what the per-day cap counts.
    starts: Vec<i64>,
}

impl BusyTime {
    pub fn new(busy: &[Interval], blocks: &[Interval]) -> Self {
        let mut all: Vec<(i64, i64)> = busy.iter().chain(blocks).map(seconds).collect();
        all.sort_unstable();
        let mut starts: Vec<i64> = busy.iter().map(|i| i.start.timestamp()).collect();
        starts.sort_unstable();
        Self { spans: merged(all), starts }
    }

    /// This busy time with one more busy interval: what a booking adds to a calendar kept in
    /// memory, without merging everything again.
    pub fn with_busy(&self, busy: Interval) -> Self {
        let span = seconds(&busy);
        let mut all = self.spans.clone();
        all.insert(all.partition_point(|s| *s < span), span);
        let mut starts = self.starts.clone();
        starts.insert(starts.partition_point(|s| *s < span.0), span.0);
        Self { spans: merged(all), starts }
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// Whether `[start, end)` overlaps any span: only the first span ending after `start` can
    /// overlap, so one binary search decides.
    fn overlaps(&self, start: i64, end: i64) -> bool {
        let first_ending_after = self.spans.partition_point(|b| b.1 <= start);
        self.spans.get(first_ending_after).is_some_and(|b| b.0 < end)
    }

    /// How many busy intervals start in `[from, until)`.
    fn starting_in(&self, from: i64, until: i64) -> usize {
        self.starts.partition_point(|s| *s < until) - self.starts.partition_point(|s| *s < from)
    }
}

/// An interval in whole seconds. Starts round down and ends round up: a sub-second instant
/// never opens a gap.
fn seconds(i: &Interval) -> (i64, i64) {
    (i.start.timestamp(), i.end.timestamp() + i64::from(i.end.timestamp_subsec_nanos() > 0))
}

/// Sorted spans joined where they touch or overlap.
fn merged(sorted: Vec<(i64, i64)>) -> Vec<(i64, i64)> {
    let mut spans: Vec<(i64, i64)> = Vec::with_capacity(sorted.len());
    for (start, end) in sorted {
        match spans.last_mut() {
            Some(last) if start <= last.1 => last.1 = last.1.max(end),
            _ => spans.push((start, end)),
        }
    }
    spans
}

/// `provider_slots` with busy time already prepared, in layers that together are the
/// provider's busy time (a kept calendar's appointments and blocks, and the holds that have
/// not expired as of the query).
pub fn free_slots(
    query: &SlotQuery<'_>,
    weekly: &[WeeklyRule],
    exceptions: &[DateException],
    busy: &[&BusyTime],
) -> Result<Vec<Interval>, DomainError> {
    query.validate()?;
    let rules = &query.rules;
    let earliest = query.now + rules.minimum_notice;
    let latest_start = query.now + rules.horizon;
    let calendar = ProviderCalendar { weekly, exceptions, ..Default::default() };
    let mut slots = Vec::new();
    let mut date = query.from;
    while date <= query.to {
        if !query.holidays.contains(&date) {
            day_slots(query, &calendar, busy, date, earliest, latest_start, &mut slots);
        }
        date = match date.succ_opt() {
            Some(next) => next,
            None => break,
        };
    }
    // Periods of one day may overlap or come unordered (extra hours): order and deduplicate.
    if !slots.is_sorted_by_key(|s| s.start) {
        slots.sort_by_key(|s| s.start);
    }
    slots.dedup();
    Ok(slots)
}

fn day_slots(
    query: &SlotQuery<'_>,
    calendar: &ProviderCalendar<'_>,
    busy: &[&BusyTime],
    date: NaiveDate,
    earliest: DateTime<Utc>,
    latest_start: DateTime<Utc>,
    out: &mut Vec<Interval>,
) {
    let rules = &query.rules;
    if calendar.exceptions.iter().any(|e| *e == DateException::Closed { date }) {
        return;
    }
    if let Some(cap) = rules.per_day_cap {
        let start = crate::zone::start_of_day(query.tz, date).timestamp();
        let end = crate::zone::start_of_day(query.tz, date + Duration::days(1)).timestamp();
        let taken: usize = busy.iter().map(|layer| layer.starting_in(start, end)).sum();
        if taken >= cap as usize {
            return;
        }
    }
    let (duration, step) = (rules.duration.num_seconds(), rules.step.num_seconds());
    let (before, after) = (rules.buffer_before.num_seconds(), rules.buffer_after.num_seconds());
    let (earliest, latest_start) = (earliest.timestamp(), latest_start.timestamp());
    for (start, end) in working_periods(calendar, date) {
        let open = instant_at(query.tz, date.and_time(start.naive())).timestamp();
        let close = instant_at(query.tz, date.and_time(end.naive())).timestamp();
        let mut t = open;
        while t + duration <= close && t <= latest_start {
            if t >= earliest && !busy.iter().any(|layer| layer.overlaps(t - before, t + duration + after)) {
                // Both instants come from valid DateTimes plus at most a day: always in range.
                if let (Some(s), Some(e)) = (DateTime::from_timestamp(t, 0), DateTime::from_timestamp(t + duration, 0)) {
                    out.push(Interval { start: s, end: e });
                }
            }
            t += step;
        }
    }
}

/// Why a booked appointment no longer fits what its provider offers. An edit never moves or
/// cancels an appointment; it flags it with one of these for staff to resolve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Misfit {
    /// The clinic is closed that day.
    Holiday,
    /// The provider is off that day.
    ClosedDay,
    /// A schedule block covers part of it.
    Blocked,
    /// It is not inside the provider's working hours at its location.
    OutsideHours,
    /// The provider no longer offers the appointment's service.
    ServiceNotOffered,
    /// The provider was archived.
    ProviderArchived,
}

impl Misfit {
    /// The stable code stored with a flagged appointment and sent to API clients.
    pub fn code(self) -> &'static str {
        match self {
            Misfit::Holiday => "holiday",
            Misfit::ClosedDay => "closedDay",
            Misfit::Blocked => "blocked",
            Misfit::OutsideHours => "outsideHours",
            Misfit::ServiceNotOffered => "serviceNotOffered",
            Misfit::ProviderArchived => "providerArchived",
        }
    }

    pub fn parse(code: &str) -> Option<Misfit> {
        [Misfit::Holiday, Misfit::ClosedDay, Misfit::Blocked, Misfit::OutsideHours, Misfit::ServiceNotOffered, Misfit::ProviderArchived]
            .into_iter()
            .find(|m| m.code() == code)
    }
}

/// Whether `appointment` lies inside what `calendar` (the provider's rules at the
/// appointment's location) and the clinic's holidays offer, and if not, the first reason.
/// Busy time is ignored: an appointment is not in conflict with itself. The checks follow
/// the slot engine: the same periods, in the same zone, on the appointment's local date.
pub fn misfit(tz: Tz, holidays: &[NaiveDate], calendar: &ProviderCalendar<'_>, appointment: &Interval) -> Option<Misfit> {
    let date = appointment.start.with_timezone(&tz).date_naive();
    if holidays.contains(&date) {
        return Some(Misfit::Holiday);
    }
    if calendar.exceptions.iter().any(|e| *e == DateException::Closed { date }) {
        return Some(Misfit::ClosedDay);
    }
    if calendar.blocks.iter().any(|b| b.overlaps(appointment)) {
        return Some(Misfit::Blocked);
    }
    let mut periods: Vec<Interval> = working_periods(calendar, date)
        .map(|(start, end)| Interval {
            start: instant_at(tz, date.and_time(start.naive())),
            end: instant_at(tz, date.and_time(end.naive())),
        })
        .collect();
    periods.sort_by_key(|p| p.start);
    // Adjacent periods (08:00-12:00 and 12:00-14:00) together cover an appointment across noon.
    let mut covered_until = appointment.start;
    for p in periods {
        if p.start <= covered_until && p.end > covered_until {
            covered_until = p.end;
        }
    }
    (covered_until < appointment.end).then_some(Misfit::OutsideHours)
}

/// The local working periods of `date`: the weekly rules that apply that day and its extra
/// hours (closed days and holidays are the caller's to check first).
fn working_periods<'a>(calendar: &'a ProviderCalendar<'_>, date: NaiveDate) -> impl Iterator<Item = (LocalTime, LocalTime)> + 'a {
    let weekly = calendar.weekly.iter().filter(move |r| r.applies_on(date)).map(|r| (r.hours.start, r.hours.end));
    let extra = calendar.exceptions.iter().filter_map(move |e| match *e {
        DateException::ExtraHours { date: d, start, end } if d == date && start < end => Some((start, end)),
        _ => None,
    });
    weekly.chain(extra)
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
    use crate::zone::{parse_zone, start_of_day};
    use chrono::{TimeZone, Weekday};
    use proptest::prelude::*;

    fn hm(h: u32, m: u32) -> LocalTime {
        LocalTime::from_hm(h, m).unwrap()
    }

    fn rule(weekday: Weekday, from: (u32, u32), to: (u32, u32)) -> WeeklyRule {
        WeeklyRule::always(WeeklyInterval::new(weekday, hm(from.0, from.1), hm(to.0, to.1)).unwrap())
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0).unwrap()
    }

    const MONDAY: (i32, u32, u32) = (2026, 11, 23);

    fn query_on(tz: &str, day: NaiveDate, rules: SlotRules) -> SlotQuery<'static> {
        SlotQuery { tz: parse_zone(tz).unwrap(), from: day, to: day, holidays: &[], rules, now: utc(2026, 1, 1, 0, 0) }
    }

    fn half_hours() -> SlotRules {
        SlotRules::simple(Duration::minutes(30), Duration::days(1000))
    }

    fn labels(tz: &str, slots: &[Interval]) -> Vec<String> {
        let tz = parse_zone(tz).unwrap();
        slots.iter().map(|s| s.start.with_timezone(&tz).format("%H:%M").to_string()).collect()
    }

    fn monday_slots(calendar: ProviderCalendar<'_>, rules: SlotRules) -> Vec<String> {
        let q = query_on("Europe/Berlin", date(MONDAY.0, MONDAY.1, MONDAY.2), rules);
        labels("Europe/Berlin", &provider_slots(&q, &calendar).unwrap())
    }

    #[test]
    fn a_morning_of_working_hours_yields_half_hour_slots_in_local_time() {
        let weekly = [rule(Weekday::Mon, (8, 0), (10, 0))];
        let q = query_on("Europe/Berlin", date(2026, 11, 23), half_hours());
        let slots = provider_slots(&q, &ProviderCalendar { weekly: &weekly, ..Default::default() }).unwrap();
        assert_eq!(labels("Europe/Berlin", &slots), ["08:00", "08:30", "09:00", "09:30"]);
        assert_eq!(slots[0].start, utc(2026, 11, 23, 7, 0));
    }

    #[test]
    fn a_busy_interval_removes_every_slot_it_touches() {
        let weekly = [rule(Weekday::Mon, (8, 0), (10, 0))];
        // 08:45 to 09:15 local touches the 08:30 and the 09:00 slot.
        let busy = [Interval::new(utc(2026, 11, 23, 7, 45), utc(2026, 11, 23, 8, 15)).unwrap()];
        let got = monday_slots(ProviderCalendar { weekly: &weekly, busy: &busy, ..Default::default() }, half_hours());
        assert_eq!(got, ["08:00", "09:30"]);
    }

    #[test]
    fn buffers_keep_clear_time_around_other_bookings() {
        let weekly = [rule(Weekday::Mon, (8, 0), (11, 0))];
        let busy = [Interval::new(utc(2026, 11, 23, 8, 0), utc(2026, 11, 23, 8, 30)).unwrap()]; // 09:00-09:30
        let mut rules = half_hours();
        rules.buffer_after = Duration::minutes(15);
        rules.buffer_before = Duration::minutes(10);
        let got = monday_slots(ProviderCalendar { weekly: &weekly, busy: &busy, ..Default::default() }, rules);
        // 08:30 needs clean-up until 09:15; 09:30 needs preparation from 09:20.
        assert_eq!(got, ["08:00", "10:00", "10:30"]);
    }

    #[test]
    fn a_schedule_block_removes_its_slots() {
        let weekly = [rule(Weekday::Mon, (8, 0), (12, 0))];
        let blocks = [Interval::new(utc(2026, 11, 23, 7, 0), utc(2026, 11, 23, 10, 0)).unwrap()]; // 08:00-11:00
        let got = monday_slots(ProviderCalendar { weekly: &weekly, blocks: &blocks, ..Default::default() }, half_hours());
        assert_eq!(got, ["11:00", "11:30"]);
    }

    #[test]
    fn a_closed_exception_empties_the_day_and_extra_hours_add_to_it() {
        let weekly = [rule(Weekday::Mon, (8, 0), (9, 0))];
        let closed = [DateException::Closed { date: date(2026, 11, 23) }];
        assert!(monday_slots(ProviderCalendar { weekly: &weekly, exceptions: &closed, ..Default::default() }, half_hours()).is_empty());
        let extra = [DateException::ExtraHours { date: date(2026, 11, 23), start: hm(18, 0), end: hm(19, 0) }];
        let got = monday_slots(ProviderCalendar { weekly: &weekly, exceptions: &extra, ..Default::default() }, half_hours());
        assert_eq!(got, ["08:00", "08:30", "18:00", "18:30"]);
    }

    #[test]
    fn a_clinic_holiday_has_no_slots() {
        let weekly = [rule(Weekday::Mon, (8, 0), (9, 0))];
        let holidays = [date(2026, 11, 23)];
        let mut q = query_on("Europe/Berlin", date(2026, 11, 23), half_hours());
        q.holidays = &holidays;
        assert!(provider_slots(&q, &ProviderCalendar { weekly: &weekly, ..Default::default() }).unwrap().is_empty());
    }

    #[test]
    fn weekly_rules_apply_only_inside_their_validity() {
        let mut r = rule(Weekday::Mon, (8, 0), (9, 0));
        r.valid_from = Some(date(2026, 11, 24));
        let got = monday_slots(ProviderCalendar { weekly: &[r], ..Default::default() }, half_hours());
        assert!(got.is_empty());
        r.valid_from = Some(date(2026, 11, 23));
        r.valid_until = Some(date(2026, 11, 23));
        let got = monday_slots(ProviderCalendar { weekly: &[r], ..Default::default() }, half_hours());
        assert_eq!(got, ["08:00", "08:30"]);
    }

    #[test]
    fn minimum_notice_and_horizon_bound_the_starts() {
        let weekly = [rule(Weekday::Mon, (8, 0), (12, 0))];
        let mut q = query_on("Europe/Berlin", date(2026, 11, 23), half_hours());
        q.now = utc(2026, 11, 23, 6, 50); // 07:50 Berlin
        q.rules.minimum_notice = Duration::hours(1); // nothing before 08:50
        q.rules.horizon = Duration::hours(3); // nothing after 10:50
        let slots = provider_slots(&q, &ProviderCalendar { weekly: &weekly, ..Default::default() }).unwrap();
        assert_eq!(labels("Europe/Berlin", &slots), ["09:00", "09:30", "10:00", "10:30"]);
    }

    #[test]
    fn the_per_day_cap_closes_a_day_that_has_enough_bookings() {
        let weekly = [rule(Weekday::Mon, (8, 0), (12, 0))];
        let busy = [
            Interval::new(utc(2026, 11, 23, 7, 0), utc(2026, 11, 23, 7, 30)).unwrap(),
            Interval::new(utc(2026, 11, 23, 8, 0), utc(2026, 11, 23, 8, 30)).unwrap(),
        ];
        let mut rules = half_hours();
        rules.per_day_cap = Some(3);
        let cal = ProviderCalendar { weekly: &weekly, busy: &busy, ..Default::default() };
        assert_eq!(monday_slots(cal, rules).len(), 6);
        rules.per_day_cap = Some(2);
        assert!(monday_slots(cal, rules).is_empty());
    }

    #[test]
    fn the_skipped_hour_of_spring_forward_yields_no_slot() {
        let weekly = [rule(Weekday::Sun, (1, 0), (4, 0))];
        let q = query_on("Europe/Berlin", date(2026, 3, 29), half_hours());
        let slots = provider_slots(&q, &ProviderCalendar { weekly: &weekly, ..Default::default() }).unwrap();
        // 01:00 to 04:00 on the wall is two real hours: 01:00 CET to 04:00 CEST.
        assert_eq!(labels("Europe/Berlin", &slots), ["01:00", "01:30", "03:00", "03:30"]);
    }

    #[test]
    fn the_repeated_hour_of_fall_back_yields_its_slots_twice() {
        let weekly = [rule(Weekday::Sun, (0, 0), (3, 0))];
        let q = query_on("America/New_York", date(2026, 11, 1), half_hours());
        let slots = provider_slots(&q, &ProviderCalendar { weekly: &weekly, ..Default::default() }).unwrap();
        assert_eq!(slots.len(), 8, "00:00 EDT to 03:00 EST is four real hours");
        assert_eq!(
            labels("America/New_York", &slots),
            ["00:00", "00:30", "01:00", "01:30", "01:00", "01:30", "02:00", "02:30"]
        );
    }

    #[test]
    fn lord_howe_half_hour_shift_loses_and_gains_exactly_thirty_minutes() {
        // Lord Howe moves its clocks by 30 minutes: 02:00 -> 02:30 on 2026-10-04,
        // 02:00 -> 01:30 on 2026-04-05.
        let spring = [rule(Weekday::Sun, (1, 0), (4, 0))];
        let q = query_on("Australia/Lord_Howe", date(2026, 10, 4), half_hours());
        let slots = provider_slots(&q, &ProviderCalendar { weekly: &spring, ..Default::default() }).unwrap();
        assert_eq!(labels("Australia/Lord_Howe", &slots), ["01:00", "01:30", "02:30", "03:00", "03:30"]);
        let q = query_on("Australia/Lord_Howe", date(2026, 4, 5), half_hours());
        let slots = provider_slots(&q, &ProviderCalendar { weekly: &spring, ..Default::default() }).unwrap();
        assert_eq!(labels("Australia/Lord_Howe", &slots), ["01:00", "01:30", "01:30", "02:00", "02:30", "03:00", "03:30"]);
    }

    #[test]
    fn invalid_rules_and_ranges_are_refused_not_looped_on() {
        let weekly = [rule(Weekday::Mon, (8, 0), (10, 0))];
        let cal = ProviderCalendar { weekly: &weekly, ..Default::default() };
        let day = date(2026, 11, 23);
        let mut zero = half_hours();
        zero.duration = Duration::zero();
        assert!(provider_slots(&query_on("Europe/Berlin", day, zero), &cal).is_err());
        let mut no_step = half_hours();
        no_step.step = Duration::zero();
        assert!(provider_slots(&query_on("Europe/Berlin", day, no_step), &cal).is_err());
        let mut negative = half_hours();
        negative.buffer_before = Duration::minutes(-5);
        assert!(provider_slots(&query_on("Europe/Berlin", day, negative), &cal).is_err());
        let mut backwards = query_on("Europe/Berlin", day, half_hours());
        backwards.to = day - Duration::days(1);
        assert!(provider_slots(&backwards, &cal).is_err());
        let mut too_long = query_on("Europe/Berlin", day, half_hours());
        too_long.to = day + Duration::days(MAX_RANGE_DAYS);
        assert!(provider_slots(&too_long, &cal).is_err());
    }

    fn berlin(h: u32, m: u32, minutes: i64) -> Interval {
        // 2026-11-23 is a Monday; Berlin is UTC+1 then.
        let start = utc(2026, 11, 23, h - 1, m);
        Interval::new(start, start + Duration::minutes(minutes)).unwrap()
    }

    fn misfit_of(calendar: ProviderCalendar<'_>, holidays: &[NaiveDate], appointment: Interval) -> Option<Misfit> {
        misfit(parse_zone("Europe/Berlin").unwrap(), holidays, &calendar, &appointment)
    }

    #[test]
    fn an_appointment_inside_working_hours_fits_and_one_past_closing_does_not() {
        let weekly = [rule(Weekday::Mon, (8, 0), (12, 0))];
        let cal = ProviderCalendar { weekly: &weekly, ..Default::default() };
        assert_eq!(misfit_of(cal, &[], berlin(8, 0, 30)), None);
        assert_eq!(misfit_of(cal, &[], berlin(11, 30, 30)), None);
        assert_eq!(misfit_of(cal, &[], berlin(11, 45, 30)), Some(Misfit::OutsideHours));
        assert_eq!(misfit_of(cal, &[], berlin(7, 45, 30)), Some(Misfit::OutsideHours));
        assert_eq!(misfit_of(ProviderCalendar::default(), &[], berlin(9, 0, 30)), Some(Misfit::OutsideHours));
    }

    #[test]
    fn adjacent_periods_and_extra_hours_cover_an_appointment_together_but_a_gap_does_not() {
        let weekly = [rule(Weekday::Mon, (8, 0), (12, 0)), rule(Weekday::Mon, (13, 0), (17, 0))];
        let extra = [DateException::ExtraHours { date: date(2026, 11, 23), start: hm(12, 0), end: hm(13, 0) }];
        let with_extra = ProviderCalendar { weekly: &weekly, exceptions: &extra, ..Default::default() };
        assert_eq!(misfit_of(with_extra, &[], berlin(11, 30, 120)), None);
        let lunch_break = ProviderCalendar { weekly: &weekly, ..Default::default() };
        assert_eq!(misfit_of(lunch_break, &[], berlin(11, 30, 120)), Some(Misfit::OutsideHours));
    }

    #[test]
    fn holidays_closed_days_and_blocks_are_named_before_hours() {
        let weekly = [rule(Weekday::Mon, (8, 0), (12, 0))];
        let closed = [DateException::Closed { date: date(2026, 11, 23) }];
        let blocks = [berlin(9, 15, 30)];
        let cal = ProviderCalendar { weekly: &weekly, exceptions: &closed, blocks: &blocks, ..Default::default() };
        assert_eq!(misfit_of(cal, &[date(2026, 11, 23)], berlin(9, 0, 30)), Some(Misfit::Holiday));
        assert_eq!(misfit_of(cal, &[], berlin(9, 0, 30)), Some(Misfit::ClosedDay));
        let blocked = ProviderCalendar { weekly: &weekly, blocks: &blocks, ..Default::default() };
        assert_eq!(misfit_of(blocked, &[], berlin(9, 0, 30)), Some(Misfit::Blocked));
        assert_eq!(misfit_of(blocked, &[], berlin(10, 0, 30)), None, "a block elsewhere that day changes nothing");
    }

    #[test]
    fn validity_dates_decide_whether_weekly_hours_cover_an_appointment() {
        let mut r = rule(Weekday::Mon, (8, 0), (12, 0));
        r.valid_until = Some(date(2026, 11, 22));
        assert_eq!(misfit_of(ProviderCalendar { weekly: &[r], ..Default::default() }, &[], berlin(9, 0, 30)), Some(Misfit::OutsideHours));
    }

    #[test]
    fn every_misfit_code_reads_back() {
        for m in [Misfit::Holiday, Misfit::ClosedDay, Misfit::Blocked, Misfit::OutsideHours, Misfit::ServiceNotOffered, Misfit::ProviderArchived] {
            assert_eq!(Misfit::parse(m.code()), Some(m));
        }
        assert_eq!(Misfit::parse("moved"), None);
    }

    #[test]
    fn any_provider_merges_equal_slots_and_counts_who_offers_them() {
        let t = |h| utc(2026, 11, 23, h, 0);
        let slot = |h| Interval::new(t(h), t(h + 1)).unwrap();
        let merged = any_provider(&[vec![slot(8), slot(9)], vec![slot(9), slot(10)], vec![]]);
        assert_eq!(merged, vec![(slot(8), 1), (slot(9), 2), (slot(10), 1)]);
    }

    const ZONES: [&str; 4] = ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "Asia/Singapore"];

    /// Dates around every DST change of 2026 in the zones above, plus ordinary days.
    const DAYS: [(i32, u32, u32); 8] =
        [(2026, 3, 8), (2026, 3, 29), (2026, 4, 5), (2026, 10, 4), (2026, 10, 25), (2026, 11, 1), (2026, 6, 15), (2026, 11, 23)];

    fn arb_case() -> impl Strategy<Value = (usize, NaiveDate, Vec<(u32, u32, u32, u32)>, Vec<(i64, i64)>, Vec<(i64, i64)>, SlotRules, i64)> {
        (
            0..ZONES.len(),
            0..DAYS.len(),
            prop::collection::vec((0u32..23, 0u32..4, 1u32..10, 0u32..4), 1..4),
            prop::collection::vec((-120i64..(26 * 60), 5i64..240), 0..12),
            prop::collection::vec((-120i64..(26 * 60), 15i64..180), 0..3),
            (5i64..120, 0i64..30, 0i64..30, 5i64..60, 0i64..600, 1i64..(48 * 60), prop::option::of(1u32..12)),
            -(24 * 60i64)..(48 * 60),
        )
            .prop_map(|(z, d, hours, busy, blocks, (dur, before, after, step, notice, horizon, cap), now_min)| {
                let (y, m, dd) = DAYS[d];
                let rules = SlotRules {
                    duration: Duration::minutes(dur),
                    buffer_before: Duration::minutes(before),
                    buffer_after: Duration::minutes(after),
                    step: Duration::minutes(step),
                    minimum_notice: Duration::minutes(notice),
                    horizon: Duration::minutes(horizon),
                    per_day_cap: cap,
                };
                (z, date(y, m, dd), hours, busy, blocks, rules, now_min)
            })
    }

    fn intervals(base: DateTime<Utc>, raw: &[(i64, i64)]) -> Vec<Interval> {
        raw.iter()
            .map(|&(start, len)| Interval::new(base + Duration::minutes(start), base + Duration::minutes(start + len)).unwrap())
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        /// The engine's invariants hold in every zone, on DST change days and ordinary days.
        #[test]
        fn slots_respect_busy_time_buffers_blocks_hours_notice_and_horizon(case in arb_case()) {
            let (z, day, raw_hours, raw_busy, raw_blocks, rules, now_min) = case;
            let tz = parse_zone(ZONES[z]).unwrap();
            let day_start = start_of_day(tz, day);
            let weekly: Vec<WeeklyRule> = raw_hours
                .iter()
                .map(|&(h, q, len_q, end_extra)| {
                    // Starts by 22:45 and lasts at least 30 minutes, ending by 23:59.
                    let start_min = h * 60 + q * 15;
                    let end_min = (start_min + len_q * 30 + end_extra * 15).min(23 * 60 + 59);
                    let hours = WeeklyInterval::new(day.weekday(), hm(h, q * 15), hm(end_min / 60, end_min % 60));
                    WeeklyRule::always(hours.unwrap())
                })
                .collect();
            let busy = intervals(day_start, &raw_busy);
            let blocks = intervals(day_start, &raw_blocks);
            let now = day_start + Duration::minutes(now_min);
            let q = SlotQuery { tz, from: day, to: day, holidays: &[], rules, now };
            let cal = ProviderCalendar { weekly: &weekly, exceptions: &[], blocks: &blocks, busy: &busy };
            let slots = provider_slots(&q, &cal).unwrap();

            let periods: Vec<Interval> = weekly.iter().map(|r| Interval {
                start: instant_at(tz, day.and_time(r.hours.start.naive())),
                end: instant_at(tz, day.and_time(r.hours.end.naive())),
            }).collect();
            for s in &slots {
                let guarded = Interval { start: s.start - rules.buffer_before, end: s.end + rules.buffer_after };
                prop_assert!(busy.iter().all(|b| !b.overlaps(&guarded)), "{s:?} overlaps busy time or its buffers");
                prop_assert!(blocks.iter().all(|b| !b.overlaps(&guarded)), "{s:?} overlaps a block");
                prop_assert!(periods.iter().any(|p| p.contains(s)), "{s:?} is outside working hours");
                prop_assert!(s.start >= now + rules.minimum_notice, "{s:?} is before the minimum notice");
                prop_assert!(s.start <= now + rules.horizon, "{s:?} is past the horizon");
                prop_assert_eq!(s.end - s.start, rules.duration);
            }
            prop_assert!(slots.windows(2).all(|w| w[0].start < w[1].start), "slots out of order or repeated");

            // Neither phantom nor missing times: exactly the candidates on the step grid, in real
            // time from each period's opening, that pass every rule are offered.
            if rules.per_day_cap.is_none_or(|cap| busy.iter().filter(|b| day_start <= b.start && b.start < start_of_day(tz, day + Duration::days(1))).count() < cap as usize) {
                for p in &periods {
                    let mut t = p.start;
                    while t + rules.duration <= p.end {
                        let guarded = Interval { start: t - rules.buffer_before, end: t + rules.duration + rules.buffer_after };
                        let ok = t >= now + rules.minimum_notice && t <= now + rules.horizon
                            && busy.iter().all(|b| !b.overlaps(&guarded)) && blocks.iter().all(|b| !b.overlaps(&guarded));
                        prop_assert_eq!(ok, slots.iter().any(|s| s.start == t), "candidate {} wrongly {}", t, if ok { "missing" } else { "offered" });
                        t += rules.step;
                    }
                }
            } else {
                prop_assert!(slots.is_empty(), "a capped day offers slots");
            }
        }

        /// Busy time prepared in layers (a kept calendar's appointments and blocks, then the
        /// holds of the moment) gives the slots of the same busy time in one piece, caps included.
        #[test]
        fn busy_time_in_layers_gives_the_same_slots_as_in_one_piece(case in arb_case(), split in 0usize..12) {
            let (z, day, raw_hours, raw_busy, raw_blocks, rules, now_min) = case;
            let tz = parse_zone(ZONES[z]).unwrap();
            let day_start = start_of_day(tz, day);
            let weekly: Vec<WeeklyRule> = raw_hours
                .iter()
                .filter_map(|&(h, q, len_q, _)| {
                    let end_min = (h * 60 + q * 15 + len_q * 30).min(23 * 60 + 59);
                    WeeklyInterval::new(day.weekday(), hm(h, q * 15), hm(end_min / 60, end_min % 60)).ok().map(WeeklyRule::always)
                })
                .collect();
            let busy = intervals(day_start, &raw_busy);
            let blocks = intervals(day_start, &raw_blocks);
            let q = SlotQuery { tz, from: day, to: day, holidays: &[], rules, now: day_start + Duration::minutes(now_min) };
            let whole = provider_slots(&q, &ProviderCalendar { weekly: &weekly, exceptions: &[], blocks: &blocks, busy: &busy }).unwrap();
            let (kept, held) = busy.split_at(split.min(busy.len()));
            let layers = [BusyTime::new(kept, &blocks), BusyTime::new(held, &[])];
            let layered = free_slots(&q, &weekly, &[], &[&layers[0], &layers[1]]).unwrap();
            prop_assert_eq!(whole, layered);
        }

        /// Adding busy intervals one at a time, as bookings do to a kept calendar, gives the
        /// busy time prepared from all of them at once, spans and per-day counts alike.
        #[test]
        fn busy_time_grown_one_booking_at_a_time_equals_busy_time_prepared_at_once(case in arb_case(), split in 0usize..12) {
            let (_, day, _, raw_busy, raw_blocks, _, _) = case;
            let day_start = start_of_day(parse_zone("UTC").unwrap(), day);
            let busy = intervals(day_start, &raw_busy);
            let blocks = intervals(day_start, &raw_blocks);
            let (kept, booked) = busy.split_at(split.min(busy.len()));
            let grown = booked.iter().fold(BusyTime::new(kept, &blocks), |time, b| time.with_busy(*b));
            prop_assert_eq!(grown, BusyTime::new(&busy, &blocks));
        }
    }
}
