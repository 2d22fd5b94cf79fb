//! Booking writes on both backends: the double-booking race, token numbers, idempotency,
//! cancellation rules and the outbox written with every change.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::appointment::BookingSource;
use std::sync::Arc;
use store::testing::{appointment, scalar_i64, seeded_demo, TestDb};
use domain::appointment::AppointmentStatus;
use store::{on_both_backends, Booked, NewAppointment, Reschedule, Store, StoreError};
use tokio::sync::Barrier;

const ROUNDS: i64 = 100;
const ATTEMPTS_PER_ROUND: usize = 100;

const OVERLAPPING_ACTIVE_PAIRS: &str = "SELECT COUNT(*) FROM appointments a JOIN appointments b
    ON a.provider_id = b.provider_id AND a.id < b.id
   AND a.status IN ('pending', 'booked', 'checked_in', 'completed')
   AND b.status IN ('pending', 'booked', 'checked_in', 'completed')
   AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at";

const DUPLICATE_TOKENS: &str = "SELECT COUNT(*) FROM (SELECT provider_id, local_date, token_number FROM appointments
    WHERE token_number IS NOT NULL GROUP BY provider_id, local_date, token_number HAVING COUNT(*) > 1) d";

struct Demo {
    store: Store,
    template: NewAppointment,
}

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

/// The demo clinic and an appointment template for its first provider, 60 days ahead (clear
/// of the seeded appointments).
async fn demo(db: TestDb) -> Demo {
    let (clinic_id, ctx) = seeded_demo(&db.store, now()).await;
    let start = Utc.with_ymd_and_hms(2027, 1, 19, 8, 0, 0).unwrap();
    let template = appointment(clinic_id, &ctx, ctx.providers[0].provider_id, start, now());
    Demo { store: db.store, template }
}

impl Demo {
    fn at(&self, start: DateTime<Utc>, minutes: i64) -> NewAppointment {
        NewAppointment { start, end: start + Duration::minutes(minutes), ..self.template.clone() }
    }

    async fn book(&self, start: DateTime<Utc>) -> Result<Booked, StoreError> {
        self.store.create_appointment(&self.at(start, 30)).await
    }
}

async fn concurrent_overlapping_attempts_yield_exactly_one_booking_per_interval(db: TestDb) {
    let demo = Arc::new(demo(db).await);
    let outbox_before = scalar_i64(&demo.store, "SELECT COUNT(*) FROM outbox").await;
    for round in 0..ROUNDS {
        // Rounds are an hour apart; every attempt of a round overlaps every other one.
        let base = demo.template.start + Duration::hours(round);
        let barrier = Arc::new(Barrier::new(ATTEMPTS_PER_ROUND));
        let mut attempts = tokio::task::JoinSet::new();
        for i in 0..ATTEMPTS_PER_ROUND {
            let (demo, barrier) = (demo.clone(), barrier.clone());
            let shift = [0, 5, 15][i % 3];
            attempts.spawn(async move {
                barrier.wait().await;
                demo.book(base + Duration::minutes(shift)).await
            });
        }
        let mut wins = 0;
        while let Some(result) = attempts.join_next().await {
            match result.unwrap() {
                Ok(_) => wins += 1,
                Err(StoreError::SlotTaken) => {}
                Err(other) => panic!("round {round}: unexpected error {other:?}"),
            }
        }
        assert_eq!(wins, 1, "round {round}");
    }
    assert_eq!(scalar_i64(&demo.store, OVERLAPPING_ACTIVE_PAIRS).await, 0);
    assert_eq!(scalar_i64(&demo.store, DUPLICATE_TOKENS).await, 0);
    let outbox_after = scalar_i64(&demo.store, "SELECT COUNT(*) FROM outbox").await;
    assert_eq!(outbox_after - outbox_before, ROUNDS, "one event per booking, none for refused attempts");
}

async fn token_numbers_count_up_per_provider_and_local_day_without_gaps(db: TestDb) {
    let demo = demo(db).await;
    let day = demo.template.start;
    let tokens: Vec<i32> = {
        let mut t = Vec::new();
        for i in 0..4 {
            t.push(demo.book(day + Duration::minutes(30 * i)).await.unwrap().token_number);
        }
        t
    };
    assert_eq!(tokens, [1, 2, 3, 4]);
    // A refused booking does not consume a number.
    assert!(matches!(demo.book(day).await, Err(StoreError::SlotTaken)));
    assert_eq!(demo.book(day + Duration::hours(3)).await.unwrap().token_number, 5);
    // The next local day starts again at 1.
    assert_eq!(demo.book(day + Duration::days(1)).await.unwrap().token_number, 1);
}

async fn touching_appointments_are_not_a_conflict(db: TestDb) {
    let demo = demo(db).await;
    let start = demo.template.start;
    demo.book(start).await.unwrap();
    demo.book(start + Duration::minutes(30)).await.unwrap();
    demo.book(start - Duration::minutes(30)).await.unwrap();
    assert_eq!(scalar_i64(&demo.store, OVERLAPPING_ACTIVE_PAIRS).await, 0);
}

async fn the_same_idempotency_key_and_request_returns_the_first_booking(db: TestDb) {
    let demo = demo(db).await;
    let mut request = demo.at(demo.template.start, 30);
    request.idempotency = Some(("key-1".into(), "digest-a".into()));
    let first = demo.store.create_appointment(&request).await.unwrap();
    let again = demo.store.create_appointment(&request).await.unwrap();
    assert!(!first.replayed && again.replayed);
    assert_eq!(first.appointment_id, again.appointment_id);
    assert_eq!(scalar_i64(&demo.store, "SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentCreated'").await, 1);
}

async fn the_same_idempotency_key_with_another_request_is_refused(db: TestDb) {
    let demo = demo(db).await;
    let mut request = demo.at(demo.template.start, 30);
    request.idempotency = Some(("key-1".into(), "digest-a".into()));
    demo.store.create_appointment(&request).await.unwrap();
    let mut other = demo.at(demo.template.start + Duration::hours(2), 30);
    other.idempotency = Some(("key-1".into(), "digest-b".into()));
    assert!(matches!(demo.store.create_appointment(&other).await, Err(StoreError::IdempotencyMismatch)));
    assert_eq!(scalar_i64(&demo.store, "SELECT COUNT(*) FROM idempotency_keys").await, 1);
}

async fn concurrent_retries_with_one_idempotency_key_book_once(db: TestDb) {
    let demo = Arc::new(demo(db).await);
    let mut request = demo.at(demo.template.start, 30);
    request.idempotency = Some(("retry-storm".into(), "digest".into()));
    let barrier = Arc::new(Barrier::new(20));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let (demo, barrier, request) = (demo.clone(), barrier.clone(), request.clone());
        tasks.spawn(async move {
            barrier.wait().await;
            demo.store.create_appointment(&request).await
        });
    }
    let mut ids = std::collections::BTreeSet::new();
    while let Some(r) = tasks.join_next().await {
        ids.insert(r.unwrap().expect("every retry gets the booking").appointment_id);
    }
    assert_eq!(ids.len(), 1);
}

async fn an_appointment_that_ends_before_it_starts_or_lasts_over_a_day_is_refused(db: TestDb) {
    let demo = demo(db).await;
    let before = scalar_i64(&demo.store, "SELECT COUNT(*) FROM appointments").await;
    let err = demo.store.create_appointment(&demo.at(demo.template.start, 0)).await.unwrap_err();
    assert!(matches!(err, StoreError::Rule(_)), "{err:?}");
    let err = demo.store.create_appointment(&demo.at(demo.template.start, 24 * 60 + 1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Rule(_)), "longer than a day: {err:?}");
    assert_eq!(scalar_i64(&demo.store, "SELECT COUNT(*) FROM appointments").await, before, "refusals write nothing");
    demo.store.create_appointment(&demo.at(demo.template.start, 24 * 60)).await.expect("exactly a day is allowed");
}

async fn cancelling_frees_the_time_and_records_history_and_an_event(db: TestDb) {
    let demo = demo(db).await;
    let booked = demo.book(demo.template.start).await.unwrap();
    let c = demo.template.clinic_id;
    demo.store.cancel_appointment(c, booked.appointment_id, "patient is ill", BookingSource::BotApi, now()).await.unwrap();
    demo.book(demo.template.start).await.expect("the cancelled time is free again");
    assert_eq!(scalar_i64(&demo.store, "SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentCanceled'").await, 1);
    let history = format!("SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = {}", booked.appointment_id);
    assert_eq!(scalar_i64(&demo.store, &history).await, 2, "created and cancelled");
}

async fn cancelling_twice_or_another_clinics_appointment_is_refused(db: TestDb) {
    let demo = demo(db).await;
    let booked = demo.book(demo.template.start).await.unwrap();
    let c = demo.template.clinic_id;
    let other_clinic = demo.store.cancel_appointment(c + 1, booked.appointment_id, "", BookingSource::BotApi, now()).await;
    assert!(matches!(other_clinic, Err(StoreError::NotFound("appointment"))), "{other_clinic:?}");
    demo.store.cancel_appointment(c, booked.appointment_id, "", BookingSource::BotApi, now()).await.unwrap();
    let twice = demo.store.cancel_appointment(c, booked.appointment_id, "", BookingSource::BotApi, now()).await;
    assert!(matches!(twice, Err(StoreError::Rule(_))), "{twice:?}");
    assert_eq!(scalar_i64(&demo.store, "SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentCanceled'").await, 1);
}

async fn the_cancellation_cutoff_binds_patients_and_bots_but_not_staff(db: TestDb) {
    let demo = demo(db).await;
    let booked = demo.book(demo.template.start).await.unwrap();
    let c = demo.template.clinic_id;
    // The demo clinic's cutoff is 24 hours; this is 2 hours before the start.
    let late = demo.template.start - Duration::hours(2);
    let refused = demo.store.cancel_appointment(c, booked.appointment_id, "", BookingSource::Widget, late).await;
    assert!(matches!(&refused, Err(StoreError::Rule(e)) if e.to_string().contains("cutoff")), "{refused:?}");
    demo.store.cancel_appointment(c, booked.appointment_id, "", BookingSource::Staff, late).await.unwrap();
}

impl Demo {
    fn move_to(&self, appointment_id: i64, start: DateTime<Utc>, source: BookingSource) -> Reschedule {
        Reschedule {
            clinic_id: self.template.clinic_id,
            appointment_id,
            provider_id: None,
            start,
            end: start + Duration::minutes(30),
            source,
            now: now(),
        }
    }

    async fn count(&self, sql: &str) -> i64 {
        scalar_i64(&self.store, sql).await
    }
}

async fn rescheduling_moves_the_time_frees_the_old_one_and_records_it(db: TestDb) {
    let demo = demo(db).await;
    let start = demo.template.start;
    let booked = demo.book(start).await.unwrap();
    let moved = demo
        .store
        .reschedule_appointment(&demo.move_to(booked.appointment_id, start + Duration::days(1), BookingSource::Widget))
        .await
        .unwrap();
    assert_eq!(moved.start, start + Duration::days(1));
    assert_eq!(moved.token_number, 1, "first token of the new day");
    demo.book(start).await.expect("the old time is free again");
    assert_eq!(demo.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentRescheduled'").await, 1);
    let history = format!("SELECT COUNT(*) FROM appointment_changes WHERE kind = 'rescheduled' AND appointment_id = {}", booked.appointment_id);
    assert_eq!(demo.count(&history).await, 1);
}

async fn rescheduling_onto_a_taken_time_is_refused_and_changes_nothing(db: TestDb) {
    let demo = demo(db).await;
    let start = demo.template.start;
    let first = demo.book(start).await.unwrap();
    demo.book(start + Duration::hours(2)).await.unwrap();
    let clash = demo.move_to(first.appointment_id, start + Duration::hours(2) + Duration::minutes(15), BookingSource::BotApi);
    assert!(matches!(demo.store.reschedule_appointment(&clash).await, Err(StoreError::SlotTaken)));
    let still = format!("SELECT COUNT(*) FROM appointments WHERE id = {} AND token_number = 1", first.appointment_id);
    assert_eq!(demo.count(&still).await, 1, "time and token unchanged");
    assert_eq!(demo.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentRescheduled'").await, 0);
    assert_eq!(demo.count(OVERLAPPING_ACTIVE_PAIRS).await, 0);
}

async fn shifting_an_appointment_across_its_own_time_is_allowed(db: TestDb) {
    let demo = demo(db).await;
    let booked = demo.book(demo.template.start).await.unwrap();
    let shifted = demo.move_to(booked.appointment_id, demo.template.start + Duration::minutes(15), BookingSource::BotApi);
    demo.store.reschedule_appointment(&shifted).await.expect("an appointment does not collide with itself");
}

async fn cancelled_appointments_cannot_be_rescheduled_and_the_cutoff_binds_non_staff(db: TestDb) {
    let demo = demo(db).await;
    let start = demo.template.start;
    let a = demo.book(start).await.unwrap();
    let late = Reschedule { now: start - Duration::hours(1), ..demo.move_to(a.appointment_id, start + Duration::days(2), BookingSource::VoiceBot) };
    assert!(matches!(demo.store.reschedule_appointment(&late).await, Err(StoreError::Rule(e)) if e.to_string().contains("cutoff")));
    let staff = Reschedule { source: BookingSource::Staff, ..late };
    demo.store.reschedule_appointment(&staff).await.expect("staff may move it late");

    let b = demo.book(start).await.unwrap();
    demo.store.cancel_appointment(demo.template.clinic_id, b.appointment_id, "", BookingSource::Staff, now()).await.unwrap();
    let moved = demo.store.reschedule_appointment(&demo.move_to(b.appointment_id, start + Duration::days(3), BookingSource::Staff)).await;
    assert!(matches!(moved, Err(StoreError::Rule(_))), "{moved:?}");
    let other_clinic = Reschedule { clinic_id: demo.template.clinic_id + 1, ..demo.move_to(a.appointment_id, start, BookingSource::Staff) };
    assert!(matches!(demo.store.reschedule_appointment(&other_clinic).await, Err(StoreError::NotFound("appointment"))));
}

async fn check_in_complete_and_no_show_follow_the_lifecycle_and_emit_events(db: TestDb) {
    let demo = demo(db).await;
    let c = demo.template.clinic_id;
    let a = demo.book(demo.template.start).await.unwrap();
    let b = demo.book(demo.template.start + Duration::hours(1)).await.unwrap();
    let status = |id, to| demo.store.change_status(c, id, to, BookingSource::Staff, now());
    assert_eq!(status(a.appointment_id, AppointmentStatus::CheckedIn).await.unwrap(), AppointmentStatus::CheckedIn);
    assert_eq!(status(a.appointment_id, AppointmentStatus::Completed).await.unwrap(), AppointmentStatus::Completed);
    assert!(matches!(status(a.appointment_id, AppointmentStatus::NoShow).await, Err(StoreError::Rule(_))), "completed is final");
    let early = status(b.appointment_id, AppointmentStatus::NoShow).await;
    assert!(matches!(early, Err(StoreError::Rule(_))), "not a no-show before the start: {early:?}");
    let after_start = b.start + Duration::minutes(5);
    let no_show = demo.store.change_status(c, b.appointment_id, AppointmentStatus::NoShow, BookingSource::Staff, after_start).await;
    assert_eq!(no_show.unwrap(), AppointmentStatus::NoShow);
    assert!(matches!(status(b.appointment_id, AppointmentStatus::Cancelled).await, Err(StoreError::Rule(_))));
    for (event, n) in [("Queued", 1), ("appointmentCompleted", 1), ("appointmentNoShow", 1)] {
        assert_eq!(demo.count(&format!("SELECT COUNT(*) FROM outbox WHERE event_type = '{event}'")).await, n, "{event}");
    }
    let queued = demo.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'Queued' AND payload LIKE '%\"queueNumber\":1%'").await;
    assert_eq!(queued, 1, "the Queued event carries the queue number");
    demo.book(demo.template.start + Duration::hours(1)).await.expect("a no-show frees the time");
}

/// Runs `sql` with the instants `a` and `b` bound as the backend stores them.
async fn execute_with_times(store: &Store, sql: &str, a: DateTime<Utc>, b: DateTime<Utc>) -> Result<(), String> {
    let done = match store.db() {
        store::Db::Sqlite(p) => sqlx::query(sql).bind(a.timestamp()).bind(b.timestamp()).execute(p).await.map(|_| ()),
        store::Db::Postgres(p) => sqlx::query(sql).bind(a).bind(b).execute(p).await.map(|_| ()),
    };
    done.map_err(|e| e.to_string())
}

/// The guard against double booking holds for writes that bypass the application (a SQL
/// shell, an import): an appointment that started almost a day earlier and still runs is
/// found, and one longer than a day, which the guard's look back would not reach, is refused.
async fn the_database_refuses_overlaps_and_day_long_appointments_written_around_the_application(db: TestDb) {
    let d = demo(db).await;
    let start = d.template.start;
    d.book(start).await.unwrap();
    let copy = |id: i64| {
        format!(
            "INSERT INTO appointments (clinic_id, location_id, provider_id, service_id, product_id, starts_at, ends_at, time_zone,
                 local_date, status, source, reason, created_at, updated_at)
             SELECT clinic_id, location_id, provider_id, service_id, product_id, $1, $2, time_zone, local_date, status, source,
                 reason, created_at, updated_at FROM appointments WHERE id = {id}"
        )
    };
    let id = scalar_i64(&d.store, "SELECT max(id) FROM appointments").await;
    let before = scalar_i64(&d.store, "SELECT COUNT(*) FROM appointments").await;
    // From 23 hours before until ten minutes into the booked time.
    let overlapping = execute_with_times(&d.store, &copy(id), start - Duration::hours(23), start + Duration::minutes(10)).await;
    assert!(overlapping.unwrap_err().contains("appointments_no_overlap"));
    // 25 hours ending before the booked time: no overlap, but longer than any appointment may be.
    let long = execute_with_times(&d.store, &copy(id), start - Duration::hours(26), start - Duration::hours(1)).await;
    let refusal = long.unwrap_err();
    assert!(refusal.contains("appointments_longer_than_a_day") || refusal.contains("appointments_at_most_a_day"), "{refusal}");
    // A day exactly, ending where the booked time starts, is an appointment like any other.
    execute_with_times(&d.store, &copy(id), start - Duration::hours(24), start).await.unwrap();
    assert_eq!(scalar_i64(&d.store, "SELECT COUNT(*) FROM appointments").await, before + 1);
}

on_both_backends!(
    rescheduling_moves_the_time_frees_the_old_one_and_records_it,
    rescheduling_onto_a_taken_time_is_refused_and_changes_nothing,
    shifting_an_appointment_across_its_own_time_is_allowed,
    cancelled_appointments_cannot_be_rescheduled_and_the_cutoff_binds_non_staff,
    check_in_complete_and_no_show_follow_the_lifecycle_and_emit_events,
);

on_both_backends!(
    concurrent_overlapping_attempts_yield_exactly_one_booking_per_interval,
    the_database_refuses_overlaps_and_day_long_appointments_written_around_the_application,
    token_numbers_count_up_per_provider_and_local_day_without_gaps,
    touching_appointments_are_not_a_conflict,
    the_same_idempotency_key_and_request_returns_the_first_booking,
    the_same_idempotency_key_with_another_request_is_refused,
    concurrent_retries_with_one_idempotency_key_book_once,
    an_appointment_that_ends_before_it_starts_or_lasts_over_a_day_is_refused,
    cancelling_frees_the_time_and_records_history_and_an_event,
    cancelling_twice_or_another_clinics_appointment_is_refused,
    the_cancellation_cutoff_binds_patients_and_bots_but_not_staff,
);
