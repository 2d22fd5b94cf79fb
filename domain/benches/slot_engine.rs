//! The slot engine's cost for one provider over two weeks with a busy calendar.
//! Target (issue 3): under 100 µs for 14 days, 200 busy intervals, a 5-minute step.

use chrono::{Duration, NaiveDate, TimeZone, Utc, Weekday};
use criterion::{criterion_group, criterion_main, Criterion};
use domain::availability::{provider_slots, ProviderCalendar, SlotQuery, SlotRules, WeeklyRule};
use domain::zone::parse_zone;
use domain::{Interval, LocalTime, WeeklyInterval};
use std::hint::black_box;

fn bench_engine(c: &mut Criterion) {
    let tz = parse_zone("Europe/Berlin").unwrap();
    let hm = |h, m| LocalTime::from_hm(h, m).unwrap();
    let mut weekly = Vec::new();
    for day in [Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri, Weekday::Sat] {
        weekly.push(WeeklyRule::always(WeeklyInterval::new(day, hm(8, 0), hm(12, 0)).unwrap()));
        weekly.push(WeeklyRule::always(WeeklyInterval::new(day, hm(13, 0), hm(18, 0)).unwrap()));
    }
    let from = NaiveDate::from_ymd_opt(2026, 11, 23).unwrap();
    let first = Utc.with_ymd_and_hms(2026, 11, 23, 7, 0, 0).unwrap();
    // 200 busy intervals of 20 minutes, one an hour, over the two weeks (40-minute gaps).
    let busy: Vec<Interval> = (0..200)
        .map(|i| {
            let start = first + Duration::days(i / 15) + Duration::minutes((i % 15) * 60);
            Interval::new(start, start + Duration::minutes(20)).unwrap()
        })
        .collect();
    let mut rules = SlotRules::simple(Duration::minutes(30), Duration::days(90));
    rules.step = Duration::minutes(5);
    let query = SlotQuery {
        tz,
        from,
        to: from + Duration::days(13),
        holidays: &[],
        rules,
        now: Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap(),
    };
    let calendar = ProviderCalendar { weekly: &weekly, busy: &busy, ..Default::default() };
    let slots = provider_slots(&query, &calendar).unwrap();
    assert!(!slots.is_empty());
    c.bench_function("one provider, 14 days, 200 busy, 5-minute step", |b| {
        b.iter(|| provider_slots(black_box(&query), black_box(&calendar)).unwrap())
    });
}

criterion_group!(benches, bench_engine);
criterion_main!(benches);
