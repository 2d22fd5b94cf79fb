//! Retention: what is older than the retention period (or expired) goes, in batches, while
//! bookings go on; what is recent, still owed or history stays.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::delivery::EventType;
use store::retention::RetentionPolicy;
use store::staff::Actor;
use store::testing::{appointment, execute, scalar_i64, seeded_demo, TestDb};
use store::webhooks::{AttemptResult, Attempted, DueDelivery, NewSubscription};
use store::{on_both_backends, Backend, BookingContext, Store};

/// When the old rows were made; the pruning runs 31 days later.
fn then() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

fn later() -> DateTime<Utc> {
    then() + Duration::days(31)
}

/// Books the demo clinic's provider `p` at `slot` half hours after 09:00 on `day`, as of `at`,
/// with an idempotency key.
async fn book(store: &Store, clinic_id: i64, ctx: &BookingContext, p: usize, day: DateTime<Utc>, slot: i64, at: DateTime<Utc>, key: &str) -> i64 {
    let provider = ctx.providers[p % ctx.providers.len()].provider_id;
    let mut new = appointment(clinic_id, ctx, provider, day + Duration::minutes(30 * slot), at);
    new.idempotency = Some((key.to_owned(), format!("digest-{key}")));
    store.create_appointment(&new).await.unwrap().appointment_id
}

/// Fans out the events so far and records an answer for each delivery due: delivered, except
/// the delivery `fail_id`, or the first one with `fail_first` (503, left waiting for a retry).
/// Returns the id of the delivery that failed. (The first, so that the deliveries after it
/// succeed and the subscription does not count as failing since then.)
async fn deliver(store: &Store, at: DateTime<Utc>, fail_first: bool, fail_id: Option<i64>) -> Option<i64> {
    store.fan_out_events(at).await.unwrap();
    store.queue_emails(at).await.unwrap();
    let mut due = store.claim_deliveries(at, 100, Duration::seconds(30)).await.unwrap();
    due.sort_by_key(|d| d.delivery_id);
    let ok = AttemptResult { status: Some(200), latency_ms: 5, error: None };
    let failed = AttemptResult { status: Some(503), latency_ms: 5, error: None };
    let fails = |i: usize, d: &DueDelivery| (fail_first && i == 0) || Some(d.delivery_id) == fail_id;
    let attempts: Vec<Attempted> =
        due.iter().enumerate().map(|(i, d)| Attempted { due: d, result: if fails(i, d) { &failed } else { &ok }, at, jitter: 0.5 }).collect();
    store.record_attempts(&attempts).await.unwrap();
    due.iter().enumerate().find(|(i, d)| fails(*i, d)).map(|(_, d)| d.delivery_id)
}

/// An instant as a SQL literal of the backend.
fn stamp(store: &Store, t: DateTime<Utc>) -> String {
    match store.backend() {
        Backend::Sqlite => t.timestamp().to_string(),
        Backend::Postgres => format!("to_timestamp({})", t.timestamp()),
    }
}

/// A hold made at `at` for ten minutes, six hours after `day` starts.
async fn hold(store: &Store, clinic_id: i64, ctx: &BookingContext, token: &str, day: DateTime<Utc>, at: DateTime<Utc>) {
    execute(store, &format!(
        "INSERT INTO holds (clinic_id, provider_id, product_id, token, starts_at, ends_at, expires_at, created_at)
         VALUES ({clinic_id}, {}, {}, '{token}', {}, {}, {}, {})",
        ctx.providers[0].provider_id, ctx.product.id,
        stamp(store, day + Duration::hours(6)), stamp(store, day + Duration::hours(7)),
        stamp(store, at + Duration::minutes(10)), stamp(store, at),
    )).await;
}

async fn count(store: &Store, sql: &str) -> i64 {
    scalar_i64(store, sql).await
}

async fn old_rows_go_in_batches_while_bookings_go_on_and_recent_ones_and_history_stay(db: TestDb) {
    let store = &db.store;
    let (clinic_id, ctx) = seeded_demo(store, then()).await;
    let new = NewSubscription { clinic_id, url: "https://hooks.example.org/", events: &[EventType::AppointmentCreated], description: "", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", owner_id: None, location_id: None };
    store.create_subscription(&Actor::cli(), &new, then()).await.unwrap();
    // Days far from the demo's own appointments, one for each group of bookings.
    let monday = Utc.with_ymd_and_hms(2027, 3, 1, 8, 0, 0).unwrap();

    // Old: five bookings delivered, one whose delivery still waits for a retry; a hold that
    // expired; a failed sign-in; a staff session long expired.
    for i in 0..6 {
        book(store, clinic_id, &ctx, 0, monday, i, then(), &format!("old-{i}")).await;
    }
    let owed = deliver(store, then(), true, None).await.expect("one delivery failed");
    let waiting = count(store, &format!("SELECT outbox_id FROM webhook_deliveries WHERE id = {owed}")).await;
    hold(store, clinic_id, &ctx, "hold_old", monday, then()).await;
    store.seed_demo_owner("Kestrel-9-harbour-lamp", then()).await.unwrap();
    store.sign_in(store::DEMO_OWNER_EMAIL, "Kestrel-9-harbour-lamp", "203.0.113.7", then()).await.unwrap();
    // A stranger's failure (an owner's own is forgotten at their next sign-in).
    assert!(store.sign_in("nobody@example.org", "guess", "203.0.113.9", then()).await.is_err());
    let appointments_before = count(store, "SELECT COUNT(*) FROM appointments").await;
    let changes_before = count(store, "SELECT COUNT(*) FROM appointment_changes").await;
    let audit_before = count(store, "SELECT COUNT(*) FROM audit_log").await;
    assert_eq!(count(store, "SELECT COUNT(*) FROM webhook_attempts").await, 6);

    // Recent: two bookings delivered yesterday, a session and a hold still alive.
    let yesterday = later() - Duration::days(1);
    let next_week = Utc.with_ymd_and_hms(2027, 3, 8, 8, 0, 0).unwrap();
    let busy_day = Utc.with_ymd_and_hms(2027, 3, 15, 8, 0, 0).unwrap();
    for i in 0..2 {
        book(store, clinic_id, &ctx, 1, next_week, i, yesterday, &format!("recent-{i}")).await;
    }
    // The owed delivery fails again (a receiver down for a month); its event stays owed.
    assert_eq!(deliver(store, yesterday, false, Some(owed)).await, Some(owed));
    store.sign_in(store::DEMO_OWNER_EMAIL, "Kestrel-9-harbour-lamp", "203.0.113.8", later() - Duration::hours(1)).await.unwrap();
    hold(store, clinic_id, &ctx, "hold_live", next_week, later()).await;
    // Pruning two rows a batch while 24 bookings are made.
    let booking = {
        let (store, ctx) = (store.clone(), ctx.clone());
        tokio::spawn(async move {
            let mut ids = Vec::new();
            for i in 0..24 {
                ids.push(book(&store, clinic_id, &ctx, i % 2, busy_day, i as i64 / 2, later(), &format!("during-{i}")).await);
            }
            ids
        })
    };
    let pruned = store.prune(later(), RetentionPolicy { keep: Duration::days(30), batch: 2 }).await.unwrap();
    let during = booking.await.unwrap();
    assert_eq!(during.len(), 24, "every booking made while pruning went through");

    assert_eq!(pruned.of("webhook_deliveries"), 5, "{pruned:?}");
    assert_eq!(pruned.of("outbox"), 5, "the events whose deliveries are done; {pruned:?}");
    assert_eq!(pruned.of("holds"), 1);
    assert_eq!(pruned.of("idempotency_keys"), 6);
    assert_eq!(pruned.of("login_failures"), 1);
    assert_eq!(pruned.of("staff_sessions"), 1);
    assert_eq!(pruned.total(), 19);

    // What stays: the delivery still owed and its event, everything recent, all history.
    assert_eq!(count(store, "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'").await, 1);
    assert_eq!(count(store, "SELECT COUNT(*) FROM webhook_deliveries").await, 3);
    assert_eq!(count(store, &format!("SELECT COUNT(*) FROM outbox WHERE id = {waiting}")).await, 1, "the owed event stays");
    assert_eq!(count(store, "SELECT COUNT(*) FROM webhook_attempts").await, 2 + 2, "the attempts of the deliveries kept");
    assert_eq!(count(store, "SELECT COUNT(*) FROM outbox").await, 1 + 2 + 24, "the owed, the recent and the new events");
    assert_eq!(count(store, "SELECT COUNT(*) FROM holds WHERE token = 'hold_live'").await, 1);
    assert_eq!(count(store, "SELECT COUNT(*) FROM holds").await, 1);
    assert_eq!(count(store, "SELECT COUNT(*) FROM idempotency_keys").await, 2 + 24);
    assert_eq!(count(store, "SELECT COUNT(*) FROM staff_sessions").await, 1);
    assert_eq!(count(store, "SELECT COUNT(*) FROM appointments").await, appointments_before + 2 + 24, "appointments are history");
    assert_eq!(count(store, "SELECT COUNT(*) FROM appointment_changes").await, changes_before + 2 + 24);
    assert!(count(store, "SELECT COUNT(*) FROM audit_log").await >= audit_before, "the audit log is history");
    assert_eq!(store.counters().values().pruned, 19);

    // Nothing more to do at the same time; the owed delivery's event goes once it is delivered
    // and old enough.
    assert_eq!(store.prune(later(), RetentionPolicy::default()).await.unwrap().total(), 0);
    let retry_at = later() + Duration::days(1);
    let due = store.claim_deliveries(retry_at, 10, Duration::seconds(30)).await.unwrap();
    assert_eq!(due.len(), 1);
    let ok = AttemptResult { status: Some(200), latency_ms: 5, error: None };
    store.record_attempts(&[Attempted { due: &due[0], result: &ok, at: retry_at, jitter: 0.5 }]).await.unwrap();
    let pruned = store.prune(retry_at, RetentionPolicy::default()).await.unwrap();
    assert_eq!((pruned.of("webhook_deliveries"), pruned.of("outbox")), (1, 1), "{pruned:?}");
}

on_both_backends!(old_rows_go_in_batches_while_bookings_go_on_and_recent_ones_and_history_stay);
