//! The availability kept in memory equals a fresh computation from the database after every
//! change. Random sequences of bookings, holds, cancellations, reschedules, rule edits and the
//! passing of time are made through one store, through a second store on the same database
//! (another server instance on PostgreSQL; on SQLite what another process is: other
//! connections and its own memory) and by plain SQL beside both, as a SQL shell or an import
//! would. After each step the writer's own memory must agree at once; the others' within the
//! bounded moment their watchers take.
//!
//! `BOOKING_TEST_SEED` replays a sequence; a failure names its seed.

use chrono::{DateTime, Duration, Utc};
use domain::appointment::BookingSource;
use domain::schedule::ExceptionDef;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use store::attention::Stranding;
use store::staff::Actor;
use store::testing::TestDb;
use store::{on_both_backends, AvailabilityRequest, Reschedule, SlotBooking, Store};

/// How long another instance or process may offer a time already taken.
const BOUND: std::time::Duration = std::time::Duration::from_secs(2);

const STEPS: usize = 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Writer {
    /// The store whose memory is checked first.
    This,
    /// A second store on the same database.
    Other,
    /// Plain SQL on a connection of neither store's writes.
    Sql,
}

struct World {
    this: Store,
    other: Store,
    clinic: i64,
    now: DateTime<Utc>,
    /// Every (location, product) pair of the clinic: some are not offered, which must be
    /// refused alike from memory and from the database.
    pairs: Vec<(i64, i64)>,
    providers: Vec<i64>,
    rng: StdRng,
    seed: u64,
}

/// A bot's booking of an offered slot, for no particular patient.
fn bot_booking(clinic_id: i64, slot: &store::Slot, now: DateTime<Utc>) -> SlotBooking {
    SlotBooking {
        clinic_id,
        slot: slot.id,
        new_patient: false,
        booker_id: None,
        participant_id: None,
        source: BookingSource::BotApi,
        reason: String::new(),
        idempotency: None,
        hold_token: None,
        now,
    }
}

async fn ids(store: &Store, sql: &str) -> Vec<i64> {
    match store.db() {
        store::Db::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
        store::Db::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await.unwrap(),
    }
}

impl World {
    fn pick<T: Copy>(&mut self, from: &[T]) -> Option<T> {
        (!from.is_empty()).then(|| from[self.rng.random_range(0..from.len())])
    }

    fn store(&self, writer: Writer) -> &Store {
        match writer {
            Writer::Other => &self.other,
            _ => &self.this,
        }
    }

    fn requests(&self) -> Vec<(AvailabilityRequest, bool)> {
        let today = self.now.date_naive();
        let mut out = Vec::new();
        for &(location_id, product_id) in &self.pairs {
            for (new_patient, anyone) in [(false, false), (true, false), (false, true)] {
                let req = AvailabilityRequest {
                    clinic_id: self.clinic,
                    location_id,
                    product_id,
                    provider_id: None,
                    from: today - Duration::days(1),
                    to: today + Duration::days(40),
                    new_patient,
                    now: self.now,
                };
                out.push((req, anyone));
            }
        }
        if let Some(&p) = self.providers.first() {
            let (req, _) = out[0].clone();
            out.push((AvailabilityRequest { provider_id: Some(p), ..req }, false));
        }
        out
    }

    /// The first request on which `store`'s memory and the database disagree, if any.
    async fn disagreement(&self, store: &Store) -> Option<String> {
        for (req, anyone) in self.requests() {
            let (kept, fresh) = if anyone {
                (store.availability_for_anyone(&req).await, store.availability_for_anyone_from_database(&req).await)
            } else {
                (store.availability(&req).await, store.availability_from_database(&req).await)
            };
            let same = match (&kept, &fresh) {
                (Ok(a), Ok(b)) => a == b,
                (Err(a), Err(b)) => a.to_string() == b.to_string(),
                _ => false,
            };
            if !same {
                let count = |r: &Result<store::Availability, store::StoreError>| match r {
                    Ok(a) => format!("{} slots", a.providers.iter().map(|p| p.slots.len()).sum::<usize>()),
                    Err(e) => format!("error {e}"),
                };
                return Some(format!("{req:?} (anyone: {anyone}): memory {} vs database {}", count(&kept), count(&fresh)));
            }
        }
        None
    }

    /// Checks both memories: the writer's at once, the other within `BOUND`.
    async fn check(&self, step: usize, what: &str, writer: Writer) {
        for (name, store) in [("this", &self.this), ("other", &self.other)] {
            let own = matches!((writer, name), (Writer::This, "this") | (Writer::Other, "other"));
            let deadline = std::time::Instant::now() + BOUND;
            loop {
                match self.disagreement(store).await {
                    None => break,
                    Some(diff) if own || std::time::Instant::now() >= deadline => panic!(
                        "seed {}: step {step} ({what} by {writer:?}): the {name} store's memory {}: {diff}",
                        self.seed,
                        if own { "disagrees right after its own write" } else { "still disagrees after the bound" }
                    ),
                    Some(_) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                }
            }
        }
    }

    async fn offered(&mut self, writer: Writer) -> Option<store::Slot> {
        let (req, _) = self.requests()[0].clone();
        let found = self.store(writer).availability(&req).await.ok()?;
        let slots: Vec<store::Slot> = found.providers.into_iter().flat_map(|p| p.slots).collect();
        let i = (!slots.is_empty()).then(|| self.rng.random_range(0..slots.len()))?;
        Some(slots[i].clone())
    }

    async fn active_appointment(&mut self) -> Option<i64> {
        let sql = format!("SELECT id FROM appointments WHERE clinic_id = {} AND status IN ('pending', 'booked') ORDER BY id", self.clinic);
        let all = ids(&self.this, &sql).await;
        self.pick(&all)
    }

    /// One random change; returns what it was. Refusals (a slot just taken, a day already
    /// closed) are part of the sequence: they must change nothing.
    async fn step(&mut self, writer: Writer) -> String {
        let now = self.now;
        let clinic = self.clinic;
        let actor = Actor::cli();
        let choice = self.rng.random_range(0..100);
        if writer == Writer::Sql {
            let sql = match choice % 4 {
                0 => match self.active_appointment().await {
                    Some(id) => format!("UPDATE appointments SET status = 'cancelled' WHERE id = {id}"),
                    None => return "nothing to cancel".into(),
                },
                1 => format!("DELETE FROM schedule_blocks WHERE id IN (SELECT min(b.id) FROM schedule_blocks b JOIN providers p ON p.id = b.provider_id WHERE p.clinic_id = {clinic})"),
                2 => format!("UPDATE products SET buffer_after_minutes = {} WHERE clinic_id = {clinic}", self.rng.random_range(0..3) * 5),
                _ => format!("UPDATE clinics SET minimum_notice_minutes = {} WHERE id = {clinic}", self.rng.random_range(0..4) * 60),
            };
            store::testing::execute(&self.this, &sql).await;
            return sql;
        }
        let store = self.store(writer).clone();
        match choice {
            0..30 => {
                let Some(slot) = self.offered(writer).await else { return "no slot to book".into() };
                format!("book {}: {:?}", slot.id.encode(), store.book_slot(&bot_booking(clinic, &slot, now)).await.map(|b| b.appointment_id))
            }
            30..45 => {
                let Some(slot) = self.offered(writer).await else { return "no slot to hold".into() };
                format!("hold {}: {:?}", slot.id.encode(), store.place_hold(clinic, slot.id, false, None, now).await.map(|h| h.expires_at))
            }
            45..57 => {
                let Some(id) = self.active_appointment().await else { return "nothing to cancel".into() };
                format!("cancel {id}: {:?}", store.cancel_appointment(clinic, id, "test", BookingSource::Staff, now).await)
            }
            57..67 => {
                let Some(id) = self.active_appointment().await else { return "nothing to move".into() };
                let Some(slot) = self.offered(writer).await else { return "no slot to move to".into() };
                let r = Reschedule {
                    clinic_id: clinic,
                    appointment_id: id,
                    provider_id: Some(slot.id.provider_id),
                    start: slot.interval.start,
                    end: slot.interval.end,
                    source: BookingSource::Staff,
                    now,
                };
                format!("move {id} to {}: {:?}", slot.id.encode(), store.reschedule_appointment(&r).await.map(|b| b.start))
            }
            67..77 => {
                let Some(provider) = self.pick(&self.providers.clone()) else { return "no provider".into() };
                let start = now + Duration::hours(self.rng.random_range(1..24 * 20));
                let end = start + Duration::minutes(self.rng.random_range(1..8) * 30);
                format!("block {provider}: {:?}", store.add_block(clinic, &actor, provider, start, end, "Meeting", Stranding::Flag, now).await)
            }
            77..85 => {
                let Some(provider) = self.pick(&self.providers.clone()) else { return "no provider".into() };
                let date = now.date_naive() + Duration::days(self.rng.random_range(0..25));
                let closed = ExceptionDef::closed(date);
                format!("close {provider} on {date}: {:?}", store.add_exception(clinic, &actor, provider, &closed, Stranding::Flag, now).await)
            }
            85..90 => {
                let date = now.date_naive() + Duration::days(self.rng.random_range(0..25));
                format!("holiday {date}: {:?}", store.add_holiday(clinic, &actor, date, "Holiday", Stranding::Flag, now).await)
            }
            _ => {
                // Time passes: holds expire, the notice moves on.
                self.now = now + Duration::minutes(self.rng.random_range(1..40));
                format!("time passes to {}", self.now)
            }
        }
    }
}

async fn memory_matches_the_database_after_every_change(db: TestDb) {
    let start: DateTime<Utc> = store::testing::test_start().unwrap_or_else(Utc::now);
    let (clinic, _) = store::testing::seeded_demo(&db.store, start).await;
    let other = Store::connect(&db.url).await.unwrap();
    let seed = std::env::var("BOOKING_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| rand::rng().random());
    let locations = ids(&db.store, &format!("SELECT id FROM locations WHERE clinic_id = {clinic} ORDER BY id")).await;
    let products = ids(&db.store, &format!("SELECT id FROM products WHERE clinic_id = {clinic} ORDER BY id")).await;
    let providers = ids(&db.store, &format!("SELECT id FROM providers WHERE clinic_id = {clinic} ORDER BY id")).await;
    let pairs = locations.iter().flat_map(|l| products.iter().map(move |p| (*l, *p))).collect();
    let mut world = World { this: db.store, other, clinic, now: start, pairs, providers, rng: StdRng::seed_from_u64(seed), seed };

    // Both memories start full: every later change must reach a calendar already kept.
    world.check(0, "nothing yet", Writer::This).await;
    let mut changed = 0;
    for step in 1..=STEPS {
        let writer = match world.rng.random_range(0..100) {
            0..50 => Writer::This,
            50..85 => Writer::Other,
            _ => Writer::Sql,
        };
        let what = world.step(writer).await;
        if what.contains("Ok(") || writer == Writer::Sql {
            changed += 1;
        }
        world.check(step, &what, writer).await;
    }
    // The sequence must have changed the calendars, or the comparisons proved nothing.
    assert!(changed >= STEPS / 3, "seed {seed}: only {changed} of {STEPS} steps changed anything");
}

/// A booking updates its own store's kept calendar instead of forgetting it only when nothing
/// else changed since that store last looked: a booking made right after another process's
/// (before the watcher has seen it) must not leave the other booking's time offered.
async fn a_booking_right_after_another_process_booked_does_not_hide_that_booking(db: TestDb) {
    let now: DateTime<Utc> = store::testing::test_start().unwrap_or_else(Utc::now);
    let (clinic, _) = store::testing::seeded_demo(&db.store, now).await;
    let other = Store::connect(&db.url).await.unwrap();
    let products = ids(&db.store, &format!("SELECT id FROM products WHERE clinic_id = {clinic} ORDER BY id")).await;
    let locations = ids(&db.store, &format!("SELECT id FROM locations WHERE clinic_id = {clinic} ORDER BY id")).await;
    let req = AvailabilityRequest {
        clinic_id: clinic,
        location_id: locations[0],
        product_id: products[0],
        provider_id: None,
        from: now.date_naive(),
        to: now.date_naive() + Duration::days(30),
        new_patient: false,
        now,
    };
    let book = |store: &Store, slot: store::Slot| {
        let store = store.clone();
        async move {
            store.book_slot(&bot_booking(clinic, &slot, now)).await.expect("the slot was offered");
        }
    };
    for round in 0..5 {
        // Both stores keep the calendar, then the other books and this one books at once after.
        let offered: Vec<store::Slot> = db.store.availability(&req).await.unwrap().providers.into_iter().flat_map(|p| p.slots).collect();
        other.availability(&req).await.unwrap();
        assert!(offered.len() >= 2, "round {round}: the demo clinic offers times");
        let (theirs, ours) = (offered[0].clone(), offered[offered.len() - 1].clone());
        book(&other, theirs.clone()).await;
        book(&db.store, ours.clone()).await;
        // However the watcher's moment fell, after it both bookings are off this store's memory.
        tokio::time::sleep(store::SQLITE_WATCH * 3).await;
        let kept = db.store.availability(&req).await.unwrap();
        assert!(!kept.offers(&theirs.id), "round {round}: the other process's booking is still offered");
        assert!(!kept.offers(&ours.id), "round {round}: this store's own booking is still offered");
        assert_eq!(kept, db.store.availability_from_database(&req).await.unwrap(), "round {round}");
    }
}

on_both_backends!(memory_matches_the_database_after_every_change, a_booking_right_after_another_process_booked_does_not_hide_that_booking);
