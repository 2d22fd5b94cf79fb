//! Booking writes on both backends: the double-booking race, token numbers, idempotency,
//! cancellation rules and the outbox written with every change.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::appointment::BookingSource;
use domain::ClinicSlug;
use std::sync::Arc;
use store::testing::{scalar_i64, TestDb};
use store::{on_both_backends, Booked, DemoSeed, NewAppointment, SeedOutcome, Store, StoreError};
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
    let SeedOutcome::Created { clinic_id } =
        db.store.seed_demo(&DemoSeed { now: now(), api_key: "bk_test".into() }).await.unwrap()
    else {
        panic!("fresh database must be seeded")
    };
    let ctx = db.store.booking_context(&ClinicSlug::parse("demo").unwrap()).await.unwrap();
    let start = Utc.with_ymd_and_hms(2027, 1, 19, 8, 0, 0).unwrap();
    let template = NewAppointment {
        clinic_id,
        location_id: ctx.location.id,
        provider_id: ctx.providers[0].provider_id,
        service_id: ctx.service.id,
        product_id: None,
        start,
        end: start + Duration::minutes(30),
        tz: ctx.location.tz,
        booker_id: None,
        participant_id: None,
        source: BookingSource::BotApi,
        reason: String::new(),
        idempotency: None,
        now: now(),
    };
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

async fn an_appointment_that_ends_before_it_starts_is_refused_and_writes_nothing(db: TestDb) {
    let demo = demo(db).await;
    let before = scalar_i64(&demo.store, "SELECT COUNT(*) FROM appointments").await;
    let err = demo.store.create_appointment(&demo.at(demo.template.start, 0)).await.unwrap_err();
    assert!(matches!(err, StoreError::Rule(_)), "{err:?}");
    assert_eq!(scalar_i64(&demo.store, "SELECT COUNT(*) FROM appointments").await, before);
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

on_both_backends!(
    concurrent_overlapping_attempts_yield_exactly_one_booking_per_interval,
    token_numbers_count_up_per_provider_and_local_day_without_gaps,
    touching_appointments_are_not_a_conflict,
    the_same_idempotency_key_and_request_returns_the_first_booking,
    the_same_idempotency_key_with_another_request_is_refused,
    concurrent_retries_with_one_idempotency_key_book_once,
    an_appointment_that_ends_before_it_starts_is_refused_and_writes_nothing,
    cancelling_frees_the_time_and_records_history_and_an_event,
    cancelling_twice_or_another_clinics_appointment_is_refused,
    the_cancellation_cutoff_binds_patients_and_bots_but_not_staff,
);
