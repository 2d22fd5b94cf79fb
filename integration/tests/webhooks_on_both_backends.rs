//! The webhook queue: subscriptions, fan-out of outbox events, leased claims, retries on the
//! schedule, giving up, disabling, the delivery log and redelivery.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::delivery::{AttemptOutcome, EventType, MAX_SUBSCRIPTIONS_PER_CLINIC};
use domain::patient::{PersonDetails, PersonName, Phone};
use serde_json::Value;
use store::staff::Actor;
use store::testing::{another_clinic, appointment, scalar_i64, seeded_demo, TestDb};
use store::webhooks::{AttemptResult, NewSubscription};
use store::{on_both_backends, BookingContext, Store, StoreError};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

async fn subscribe(store: &Store, clinic_id: i64, url: &str, events: &[EventType]) -> i64 {
    let new = NewSubscription { clinic_id, url, events, description: "", secret: SECRET, owner_id: None, location_id: None };
    store.create_subscription(&Actor::cli(), &new, now()).await.unwrap().id
}

/// Books a patient's appointment on the demo clinic's first provider, `hours` after 10:00 on
/// 2026-11-23 (a Monday), at `now()`, and returns its id.
async fn book(store: &Store, clinic_id: i64, ctx: &BookingContext, hours: i64) -> i64 {
    book_at(store, clinic_id, ctx, hours, now()).await
}

async fn book_at(store: &Store, clinic_id: i64, ctx: &BookingContext, hours: i64, at: DateTime<Utc>) -> i64 {
    let person = PersonDetails {
        first_name: Some(PersonName::parse("Erika").unwrap()),
        last_name: Some(PersonName::parse("Muster").unwrap()),
        phone: Some(Phone::parse("+49 30 1234567", None).unwrap()),
        ..Default::default()
    };
    let patient = store.create_patient(clinic_id, &person, false, at).await.unwrap();
    let start = Utc.with_ymd_and_hms(2026, 11, 23, 9, 0, 0).unwrap() + Duration::hours(hours);
    let mut new = appointment(clinic_id, ctx, ctx.providers[0].provider_id, start, at);
    new.booker_id = Some(patient.id);
    store.create_appointment(&new).await.unwrap().appointment_id
}

fn ok(status: u16) -> AttemptResult {
    AttemptResult { status: Some(status), latency_ms: 12, error: None }
}

async fn events_fan_out_to_matching_subscriptions_of_their_clinic_with_the_patient(db: TestDb) {
    let (clinic_id, ctx) = seeded_demo(&db.store, now()).await;
    let earlier = book_at(&db.store, clinic_id, &ctx, 0, now() - Duration::minutes(1)).await;
    let created_only = subscribe(&db.store, clinic_id, "https://a.example.org/", &[EventType::AppointmentCreated]).await;
    subscribe(&db.store, clinic_id, "https://b.example.org/", &[EventType::Queued]).await;
    let other = another_clinic(&db.store, "other").await;
    subscribe(&db.store, other, "https://c.example.org/", &EventType::ALL).await;

    let booked = book(&db.store, clinic_id, &ctx, 1).await;
    db.store.fan_out_events(now()).await.unwrap();
    assert_eq!(db.store.fan_out_events(now()).await.unwrap(), 0, "each event fans out once");

    let due = db.store.claim_deliveries(now(), 10, Duration::seconds(30)).await.unwrap();
    assert_eq!(due.len(), 1, "one subscription asked for appointmentCreated; the booking before it existed is not owed");
    let d = &due[0];
    assert_eq!((d.subscription_id, d.attempt, d.event_type.as_str()), (created_only, 1, "appointmentCreated"));
    let body: Value = serde_json::from_str(&d.body).unwrap();
    assert_eq!(body["id"], d.event_id.as_str());
    assert_eq!(body["type"], "appointmentCreated");
    assert_eq!(body["clinicId"], clinic_id.to_string());
    assert!(body["createdAt"].as_str().unwrap().ends_with('Z'), "{}", body["createdAt"]);
    assert_eq!(body["data"]["appointmentId"], booked.to_string());
    assert_ne!(body["data"]["appointmentId"], earlier.to_string());
    assert_eq!(body["data"]["patient"]["name"], "Erika Muster");
    assert_eq!(body["data"]["patient"]["phone"], "+49301234567");
    assert!(body["data"]["patient"]["temporaryPatientId"].as_str().unwrap().starts_with("tmp_"));
    assert_eq!(body["data"]["patient"]["patientId"], Value::Null, "not registered yet");
}

async fn a_claim_is_leased_and_a_late_result_of_an_expired_lease_changes_nothing(db: TestDb) {
    let (clinic_id, ctx) = seeded_demo(&db.store, now()).await;
    subscribe(&db.store, clinic_id, "https://a.example.org/", &[EventType::AppointmentCreated]).await;
    book(&db.store, clinic_id, &ctx, 0).await;
    db.store.fan_out_events(now()).await.unwrap();
    let lease = Duration::seconds(30);
    let first = db.store.claim_deliveries(now(), 10, lease).await.unwrap();
    assert_eq!(first.len(), 1);
    assert!(db.store.claim_deliveries(now(), 10, lease).await.unwrap().is_empty(), "leased: nobody else sends it");
    assert!(db.store.claim_deliveries(now() + Duration::seconds(29), 10, lease).await.unwrap().is_empty());

    // The first worker died (or hangs): when the lease runs out the delivery is due again.
    let later = now() + Duration::seconds(31);
    let second = db.store.claim_deliveries(later, 10, lease).await.unwrap();
    assert_eq!((second.len(), second[0].attempt, &second[0].event_id), (1, 2, &first[0].event_id), "same event id on a retry");
    db.store.record_attempt(&first[0], &ok(200), later, 0.5).await.unwrap();
    let state = "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'";
    assert_eq!(scalar_i64(&db.store, state).await, 1, "the stale claim's result does not settle the delivery");
    db.store.record_attempt(&second[0], &ok(204), later, 0.5).await.unwrap();
    assert_eq!(scalar_i64(&db.store, "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'delivered'").await, 1);
    assert_eq!(scalar_i64(&db.store, "SELECT COUNT(*) FROM webhook_attempts").await, 2, "both attempts are logged");
}

async fn failures_retry_on_the_schedule_then_give_up(db: TestDb) {
    let (clinic_id, ctx) = seeded_demo(&db.store, now()).await;
    let sub = subscribe(&db.store, clinic_id, "https://a.example.org/", &[EventType::AppointmentCreated]).await;
    book(&db.store, clinic_id, &ctx, 0).await;
    db.store.fan_out_events(now()).await.unwrap();
    let lease = Duration::seconds(30);
    let mut at = now();
    let expected = [5, 300, 1800, 7200, 18000, 36000, 36000];
    for (n, wait) in expected.iter().enumerate() {
        let due = db.store.claim_deliveries(at, 10, lease).await.unwrap();
        assert_eq!(due.len(), 1, "attempt {}", n + 1);
        let failure = AttemptResult { status: None, latency_ms: 10_000, error: Some("timed out".into()) };
        assert_eq!(db.store.record_attempt(&due[0], &failure, at, 0.5).await.unwrap(), AttemptOutcome::Failed);
        assert!(db.store.claim_deliveries(at + Duration::seconds(wait - 1), 10, lease).await.unwrap().is_empty(), "not before {wait} s");
        at += Duration::seconds(*wait);
    }
    let last = db.store.claim_deliveries(at, 10, lease).await.unwrap();
    assert_eq!(last[0].attempt, 8);
    db.store.record_attempt(&last[0], &ok(500), at, 0.5).await.unwrap();
    assert_eq!(scalar_i64(&db.store, "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'failed'").await, 1, "given up after 8");
    assert!(db.store.claim_deliveries(at + Duration::days(3), 10, lease).await.unwrap().is_empty());

    let log = db.store.delivery_log(clinic_id, sub, 100).await.unwrap();
    assert_eq!(log.len(), 8);
    assert_eq!((log[0].attempt, log[0].status_code, log[0].state.as_str()), (8, Some(500), "failed"));
    assert_eq!((log[7].attempt, log[7].status_code, log[7].error.as_deref()), (1, None, Some("timed out")));
    let subscription = db.store.subscription(clinic_id, sub).await.unwrap();
    assert_eq!(subscription.failing_since.map(|t| t.timestamp()), Some(now().timestamp()));
    assert_eq!(subscription.disabled_at, None, "28 hours of failures do not disable");

    // A manual redelivery is one more attempt with the same event.
    db.store.redeliver(clinic_id, sub, log[0].delivery_id, at).await.unwrap();
    let again = db.store.claim_deliveries(at, 10, lease).await.unwrap();
    assert_eq!((again.len(), again[0].attempt), (1, 9));
    db.store.record_attempt(&again[0], &ok(200), at, 0.5).await.unwrap();
    assert_eq!(db.store.subscription(clinic_id, sub).await.unwrap().failing_since, None, "a success ends the failing run");
}

async fn gone_disables_at_once_and_five_days_of_failures_disable(db: TestDb) {
    let (clinic_id, ctx) = seeded_demo(&db.store, now()).await;
    let gone = subscribe(&db.store, clinic_id, "https://gone.example.org/", &[EventType::AppointmentCreated]).await;
    let failing = subscribe(&db.store, clinic_id, "https://down.example.org/", &[EventType::AppointmentCreated]).await;
    book(&db.store, clinic_id, &ctx, 0).await;
    book(&db.store, clinic_id, &ctx, 1).await;
    db.store.fan_out_events(now()).await.unwrap();
    let lease = Duration::seconds(30);
    for d in db.store.claim_deliveries(now(), 10, lease).await.unwrap() {
        let status = if d.subscription_id == gone { 410 } else { 503 };
        db.store.record_attempt(&d, &ok(status), now(), 0.5).await.unwrap();
    }
    let disabled = db.store.subscription(clinic_id, gone).await.unwrap();
    assert!(disabled.disabled_at.is_some());
    assert_eq!(disabled.disabled_reason.as_deref(), Some("the receiver answered 410 Gone"));
    let pending_of_gone = format!("SELECT COUNT(*) FROM webhook_deliveries WHERE subscription_id = {gone} AND state = 'pending'");
    assert_eq!(scalar_i64(&db.store, &pending_of_gone).await, 0, "its queue is given up");
    let refused = db.store.redeliver(clinic_id, gone, 1, now()).await;
    assert!(matches!(refused, Err(StoreError::Rule(_))), "{refused:?}");

    // New events keep failing for five days: then the subscription is disabled too.
    book(&db.store, clinic_id, &ctx, 2).await;
    let later = now() + Duration::days(5);
    db.store.fan_out_events(later).await.unwrap();
    let due = db.store.claim_deliveries(later, 10, lease).await.unwrap();
    assert!(due.iter().all(|d| d.subscription_id == failing), "nothing more for the disabled one");
    let newest = due.iter().max_by_key(|d| d.delivery_id).unwrap();
    db.store.record_attempt(newest, &ok(503), later, 0.5).await.unwrap();
    let subscription = db.store.subscription(clinic_id, failing).await.unwrap();
    assert_eq!(subscription.disabled_reason.as_deref(), Some("every attempt failed for 5 days"));
}

async fn a_clinic_holds_at_most_25_subscriptions_and_sees_only_its_own(db: TestDb) {
    let (clinic_id, _) = seeded_demo(&db.store, now()).await;
    let other = another_clinic(&db.store, "other").await;
    let theirs = subscribe(&db.store, other, "https://other.example.org/", &[EventType::Queued]).await;
    for n in 0..MAX_SUBSCRIPTIONS_PER_CLINIC {
        subscribe(&db.store, clinic_id, &format!("https://h{n}.example.org/"), &[EventType::Queued]).await;
    }
    let new = NewSubscription { clinic_id, url: "https://one-more.example.org/", events: &[EventType::Queued], description: "", secret: SECRET, owner_id: None, location_id: None };
    let refused = db.store.create_subscription(&Actor::cli(), &new, now()).await;
    assert!(matches!(refused, Err(StoreError::Rule(_))), "{refused:?}");
    assert_eq!(db.store.subscriptions(clinic_id).await.unwrap().len(), MAX_SUBSCRIPTIONS_PER_CLINIC);
    assert_eq!(db.store.subscriptions(other).await.unwrap().len(), 1);

    assert!(matches!(db.store.delete_subscription(&Actor::cli(), clinic_id, theirs, now()).await, Err(StoreError::NotFound(_))));
    assert!(matches!(db.store.delivery_log(clinic_id, theirs, 10).await, Err(StoreError::NotFound(_))));
    assert!(matches!(db.store.redeliver(clinic_id, theirs, 1, now()).await, Err(StoreError::NotFound(_))));
    db.store.delete_subscription(&Actor::cli(), other, theirs, now()).await.unwrap();
    assert!(db.store.subscriptions(other).await.unwrap().is_empty());
    assert!(db.store.create_subscription(&Actor::cli(), &NewSubscription { clinic_id: other, ..new }, now()).await.is_ok(), "the other clinic has its own 25");
}

on_both_backends!(
    events_fan_out_to_matching_subscriptions_of_their_clinic_with_the_patient,
    a_claim_is_leased_and_a_late_result_of_an_expired_lease_changes_nothing,
    failures_retry_on_the_schedule_then_give_up,
    gone_disables_at_once_and_five_days_of_failures_disable,
    a_clinic_holds_at_most_25_subscriptions_and_sees_only_its_own,
);
