//! Store-backed availability: every rule the engine knows, fed from the database.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::Berlin;
use domain::appointment::BookingSource;
use domain::SlotId;
use store::testing::TestDb;
use store::{on_both_backends, Availability, AvailabilityRequest, BookingContext, NewAppointment, Store, StoreError};

/// Friday 2026-11-20, 10:00 in Berlin. The seed puts Dr. Weber's admin block on Monday the
/// 23rd, Keller's day off on Wednesday the 25th, Dr. Braun's extra hours on Sunday the 22nd.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, d).unwrap()
}

struct Demo {
    store: Store,
    clinic_id: i64,
    ctx: BookingContext,
}

async fn demo(db: TestDb) -> Demo {
    let (clinic_id, ctx) = store::testing::seeded_demo(&db.store, now()).await;
    Demo { store: db.store, clinic_id, ctx }
}

impl Demo {
    fn request(&self, from: NaiveDate, to: NaiveDate) -> AvailabilityRequest {
        AvailabilityRequest {
            clinic_id: self.clinic_id,
            location_id: self.ctx.location.id,
            product_id: self.ctx.product.id,
            provider_id: None,
            from,
            to,
            new_patient: false,
            now: now(),
        }
    }

    async fn slots(&self, req: AvailabilityRequest) -> Availability {
        self.store.availability(&req).await.unwrap()
    }

    fn provider(&self, name: &str) -> i64 {
        self.ctx.providers.iter().find(|p| p.display_name == name).unwrap().provider_id
    }
}

fn local_times(a: &Availability, provider_id: i64, on: NaiveDate) -> Vec<String> {
    a.providers
        .iter()
        .filter(|p| p.provider_id == provider_id)
        .flat_map(|p| &p.slots)
        .map(|s| s.interval.start.with_timezone(&Berlin))
        .filter(|t| t.date_naive() == on)
        .map(|t| t.format("%H:%M").to_string())
        .collect()
}

async fn only_providers_of_the_products_service_are_offered(db: TestDb) {
    let demo = demo(db).await;
    let a = demo.slots(demo.request(day(23), day(23))).await;
    let names: Vec<_> = a.providers.iter().map(|p| p.display_name.as_str()).collect();
    assert_eq!(names, ["Dr. Anna Weber", "Dr. Lukas Braun"], "general practitioners at Berlin Mitte");
    assert_eq!(a.tz, Berlin);
}

async fn an_admin_block_removes_the_providers_times_it_covers(db: TestDb) {
    let demo = demo(db).await;
    let a = demo.slots(demo.request(day(23), day(23))).await;
    let weber = local_times(&a, demo.provider("Dr. Anna Weber"), day(23));
    assert!(!weber.is_empty());
    assert!(weber.iter().all(|t| !("09:00".."12:00").contains(&t.as_str())), "{weber:?}");
    assert!(weber.iter().any(|t| t.as_str() >= "13:00"), "{weber:?}");
}

async fn extra_hours_open_a_day_without_weekly_hours(db: TestDb) {
    let demo = demo(db).await;
    let a = demo.slots(demo.request(day(22), day(22))).await;
    assert_eq!(local_times(&a, demo.provider("Dr. Lukas Braun"), day(22)), ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30"]);
    assert!(local_times(&a, demo.provider("Dr. Anna Weber"), day(22)).is_empty(), "Sunday");
}

async fn a_closed_day_and_a_clinic_holiday_offer_nothing(db: TestDb) {
    let demo = demo(db).await;
    let physio = demo.request(day(25), day(25));
    let keller = demo.provider("Jonas Keller");
    let products: Vec<(i64,)> = match demo.store.db() {
        store::Db::Sqlite(p) => sqlx::query_as("SELECT id FROM products WHERE name = 'Physiotherapy 30 min'").fetch_all(p).await.unwrap(),
        store::Db::Postgres(p) => sqlx::query_as("SELECT id FROM products WHERE name = 'Physiotherapy 30 min'").fetch_all(p).await.unwrap(),
    };
    let a = demo.slots(AvailabilityRequest { product_id: products[0].0, ..physio.clone() }).await;
    assert!(local_times(&a, keller, day(25)).is_empty(), "Keller's day off");
    assert!(!local_times(&a, demo.provider("Sophie Wagner"), day(25)).is_empty(), "Wagner works that day");

    let christmas = NaiveDate::from_ymd_opt(2026, 12, 25).unwrap();
    let a = demo.slots(demo.request(christmas, christmas)).await;
    assert!(a.providers.iter().all(|p| p.slots.is_empty()));
}

async fn new_patients_get_the_longer_duration(db: TestDb) {
    let demo = demo(db).await;
    let a = demo.slots(AvailabilityRequest { new_patient: true, ..demo.request(day(24), day(24)) }).await;
    assert_eq!(a.duration_minutes, 45);
    assert!(a.providers.iter().flat_map(|p| &p.slots).all(|s| s.interval.end - s.interval.start == Duration::minutes(45)));
}

async fn times_for_anyone_are_the_usual_slots_that_also_hold_a_first_visit(db: TestDb) {
    let demo = demo(db).await;
    let req = demo.request(day(24), day(24));
    let anyone = demo.store.availability_for_anyone(&req).await.unwrap();
    let returning = demo.slots(req.clone()).await;
    let new = demo.slots(AvailabilityRequest { new_patient: true, ..req }).await;
    let starts = |a: &store::Availability| a.providers.iter().flat_map(|p| &p.slots).map(|s| (s.id.provider_id, s.interval.start)).collect::<std::collections::BTreeSet<_>>();
    assert_eq!(starts(&anyone), starts(&returning).intersection(&starts(&new)).copied().collect(), "exactly the starts both fit");
    assert!(starts(&anyone).len() < starts(&returning).len(), "some usual times are too short for a first visit");
    assert!(anyone.providers.iter().flat_map(|p| &p.slots).all(|s| s.id.minutes == 30), "shown at the usual length");
}

async fn seeded_appointments_come_back_as_the_same_instants(db: TestDb) {
    let demo = demo(db).await;
    // The seed books Dr. Weber at 08:00, 10:30 and 14:00 Berlin time on Tuesday the 24th.
    let a = demo.slots(demo.request(day(24), day(24))).await;
    let weber = local_times(&a, demo.provider("Dr. Anna Weber"), day(24));
    for taken in ["08:00", "10:30", "14:00"] {
        assert!(!weber.iter().any(|t| t == taken), "{taken} is booked: {weber:?}");
    }
    for free in ["08:30", "10:00", "11:00", "13:00", "14:30"] {
        assert!(weber.iter().any(|t| t == free), "{free} is free: {weber:?}");
    }
}

async fn minimum_notice_hides_times_too_close_to_now(db: TestDb) {
    let demo = demo(db).await;
    // Friday 10:00 Berlin with 60 minutes of notice: nothing before 11:00 that day.
    let a = demo.slots(demo.request(day(20), day(20))).await;
    let weber = local_times(&a, demo.provider("Dr. Anna Weber"), day(20));
    assert!(!weber.is_empty() && weber.iter().all(|t| t.as_str() >= "11:00"), "{weber:?}");
}

async fn a_booked_slot_disappears_and_its_id_round_trips(db: TestDb) {
    let demo = demo(db).await;
    let req = demo.request(day(24), day(24));
    let before = demo.slots(req.clone()).await;
    let slot = before.providers[0].slots[0].clone();
    let id = SlotId::parse(&slot.id.encode()).unwrap();
    assert_eq!((id.provider_id, id.start, id.end()), (before.providers[0].provider_id, slot.interval.start, slot.interval.end));
    let booking = NewAppointment {
        product_id: Some(id.product_id),
        source: BookingSource::Widget,
        ..store::testing::appointment(demo.clinic_id, &demo.ctx, id.provider_id, id.start, now())
    };
    assert_eq!(booking.end, id.end());
    demo.store.create_appointment(&booking).await.unwrap();
    let after = demo.slots(req).await;
    assert!(after.providers[0].slots.iter().all(|s| s.interval.start != slot.interval.start));
    assert_eq!(after.providers[0].slots.len() + 1, before.providers[0].slots.len());
}

async fn unknown_or_foreign_ids_and_reversed_ranges_are_refused(db: TestDb) {
    let demo = demo(db).await;
    let req = demo.request(day(24), day(24));
    let no_product = demo.store.availability(&AvailabilityRequest { product_id: 999_999, ..req.clone() }).await;
    assert!(matches!(no_product, Err(StoreError::NotFound("product"))), "{no_product:?}");
    let foreign = demo.store.availability(&AvailabilityRequest { clinic_id: demo.clinic_id + 1, ..req.clone() }).await;
    assert!(matches!(foreign, Err(StoreError::NotFound("location"))), "{foreign:?}");
    let wrong_provider = demo.store.availability(&AvailabilityRequest { provider_id: Some(999_999), ..req.clone() }).await;
    assert!(matches!(wrong_provider, Err(StoreError::NotFound("provider"))), "{wrong_provider:?}");
    let reversed = demo.store.availability(&AvailabilityRequest { to: day(23), ..req }).await;
    assert!(matches!(reversed, Err(StoreError::Rule(_))), "{reversed:?}");
}

on_both_backends!(
    only_providers_of_the_products_service_are_offered,
    an_admin_block_removes_the_providers_times_it_covers,
    extra_hours_open_a_day_without_weekly_hours,
    a_closed_day_and_a_clinic_holiday_offer_nothing,
    new_patients_get_the_longer_duration,
    times_for_anyone_are_the_usual_slots_that_also_hold_a_first_visit,
    seeded_appointments_come_back_as_the_same_instants,
    minimum_notice_hides_times_too_close_to_now,
    a_booked_slot_disappears_and_its_id_round_trips,
    unknown_or_foreign_ids_and_reversed_ranges_are_refused,
);

mod by_slot_id {
    use super::*;
    use store::SlotBooking;

    fn booking(demo: &Demo, slot: SlotId) -> SlotBooking {
        SlotBooking {
            clinic_id: demo.clinic_id,
            slot,
            new_patient: false,
            booker_id: None,
            participant_id: None,
            source: BookingSource::Widget,
            reason: String::new(),
            idempotency: None,
            hold_token: None,
            now: now(),
        }
    }

    async fn first_slot(demo: &Demo) -> SlotId {
        demo.slots(demo.request(day(24), day(24))).await.providers[0].slots[0].id
    }

    async fn an_offered_slot_is_booked_once_and_then_taken(db: TestDb) {
        let demo = demo(db).await;
        let slot = first_slot(&demo).await;
        let booked = demo.store.book_slot(&booking(&demo, slot)).await.unwrap();
        assert_eq!((booked.start, booked.end), (slot.start, slot.end()));
        let again = demo.store.book_slot(&booking(&demo, slot)).await;
        assert!(matches!(again, Err(StoreError::SlotUnavailable)), "{again:?}");
    }

    async fn a_retry_with_the_same_idempotency_key_returns_the_booking(db: TestDb) {
        let demo = demo(db).await;
        let slot = first_slot(&demo).await;
        let keyed = SlotBooking { idempotency: Some(("k".into(), "d".into())), ..booking(&demo, slot) };
        let first = demo.store.book_slot(&keyed).await.unwrap();
        let retry = demo.store.book_slot(&keyed).await.unwrap();
        assert!(retry.replayed);
        assert_eq!(first.appointment_id, retry.appointment_id);
    }

    async fn a_new_patient_booking_a_time_shown_for_anyone_gets_the_first_visit_length(db: TestDb) {
        let demo = demo(db).await;
        let req = demo.request(day(24), day(24));
        let anyone = demo.store.availability_for_anyone(&req).await.unwrap();
        let slot = anyone.providers.iter().flat_map(|p| &p.slots).next().unwrap().id;
        let booked = demo.store.book_slot(&SlotBooking { new_patient: true, ..booking(&demo, slot) }).await.unwrap();
        assert_eq!((booked.start, booked.end), (slot.start, slot.start + Duration::minutes(45)));
    }

    async fn a_forged_time_outside_hours_or_a_wrong_length_is_not_bookable(db: TestDb) {
        let demo = demo(db).await;
        let slot = first_slot(&demo).await;
        let at_night = SlotId { start: slot.start - Duration::hours(6), ..slot };
        assert!(matches!(demo.store.book_slot(&booking(&demo, at_night)).await, Err(StoreError::SlotUnavailable)));
        let longer = SlotId { minutes: slot.minutes + 15, ..slot };
        assert!(matches!(demo.store.book_slot(&booking(&demo, longer)).await, Err(StoreError::SlotUnavailable)));
        let past = SlotId { start: now() - Duration::days(3), ..slot };
        assert!(matches!(demo.store.book_slot(&booking(&demo, past)).await, Err(StoreError::SlotUnavailable)));
        assert_eq!(store::testing::scalar_i64(&demo.store, "SELECT COUNT(*) FROM appointments WHERE source = 'widget'").await, 0);
    }

    async fn ids_naming_another_clinics_or_unknown_things_are_not_found(db: TestDb) {
        let demo = demo(db).await;
        let slot = first_slot(&demo).await;
        let foreign = SlotBooking { clinic_id: demo.clinic_id + 1, ..booking(&demo, slot) };
        assert!(matches!(demo.store.book_slot(&foreign).await, Err(StoreError::NotFound(_))));
        let no_product = SlotId { product_id: 424_242, ..slot };
        assert!(matches!(demo.store.book_slot(&booking(&demo, no_product)).await, Err(StoreError::NotFound("product"))));
        let no_provider = SlotId { provider_id: 424_242, ..slot };
        assert!(matches!(demo.store.book_slot(&booking(&demo, no_provider)).await, Err(StoreError::NotFound("provider"))));
    }

    async fn a_hold_hides_the_slot_from_others_until_it_expires(db: TestDb) {
        let demo = demo(db).await;
        let slot = first_slot(&demo).await;
        let hold = demo.store.place_hold(demo.clinic_id, slot, false, None, now()).await.unwrap();
        assert_eq!(hold.expires_at, now() + Duration::minutes(10), "the demo clinic holds for 10 minutes");
        let offered = |a: &Availability| a.providers.iter().flat_map(|p| &p.slots).any(|s| s.id == slot);
        assert!(!offered(&demo.slots(demo.request(day(24), day(24))).await), "held slots are busy");
        let stranger = demo.store.book_slot(&booking(&demo, slot)).await;
        assert!(matches!(stranger, Err(StoreError::SlotUnavailable)), "{stranger:?}");
        let later = AvailabilityRequest { now: hold.expires_at, ..demo.request(day(24), day(24)) };
        assert!(offered(&demo.slots(later).await), "an expired hold frees the slot by itself");
    }

    async fn booking_with_the_hold_token_consumes_the_hold(db: TestDb) {
        let demo = demo(db).await;
        let slot = first_slot(&demo).await;
        let hold = demo.store.place_hold(demo.clinic_id, slot, false, None, now()).await.unwrap();
        let mine = SlotBooking { hold_token: Some(hold.token.clone()), ..booking(&demo, slot) };
        demo.store.book_slot(&mine).await.expect("the holder books the held slot");
        assert_eq!(store::testing::scalar_i64(&demo.store, "SELECT COUNT(*) FROM holds").await, 0);
        let released = demo.store.release_hold(demo.clinic_id, &hold.token).await;
        assert!(matches!(released, Err(StoreError::NotFound("hold"))), "{released:?}");
    }

    async fn a_widget_client_keeps_only_its_newest_holds(db: TestDb) {
        use domain::limits::{WidgetClient, HOLDS_PER_ADDRESS, HOLDS_PER_BROWSER};
        let demo = demo(db).await;
        let slots: Vec<SlotId> = demo.slots(demo.request(day(24), day(25))).await.providers.iter().flat_map(|p| p.slots.iter().map(|s| s.id)).collect();
        let live = |sql: &'static str| store::testing::scalar_i64(&demo.store, sql);
        // One address, no cookie: a script holding one time after another.
        let script = WidgetClient { address: "192.0.2.7".into(), browser: None };
        for (i, slot) in slots.iter().step_by(2).take(10).enumerate() {
            demo.store.place_hold(demo.clinic_id, *slot, false, Some(&script), now() + Duration::seconds(i as i64)).await.unwrap();
        }
        assert_eq!(live("SELECT COUNT(*) FROM holds WHERE client_address = '192.0.2.7'").await, HOLDS_PER_ADDRESS);
        let offered = demo.slots(demo.request(day(24), day(25))).await;
        assert!(offered.offers(&slots[0]), "its first holds were released");
        assert!(!offered.offers(&slots[18]), "its newest hold stands");
        // One browser behind another address keeps its own two.
        let patient = WidgetClient { address: "198.51.100.3".into(), browser: Some("a".repeat(32)) };
        for (i, slot) in slots.iter().skip(1).step_by(2).take(3).enumerate() {
            demo.store.place_hold(demo.clinic_id, *slot, false, Some(&patient), now() + Duration::seconds(i as i64)).await.unwrap();
        }
        assert_eq!(live("SELECT COUNT(*) FROM holds WHERE client_browser IS NOT NULL").await, HOLDS_PER_BROWSER);
        assert_eq!(live("SELECT COUNT(*) FROM holds WHERE client_address = '192.0.2.7'").await, HOLDS_PER_ADDRESS, "others keep theirs");
    }

    async fn the_clinic_takes_no_more_widget_holds_than_its_ceiling(db: TestDb) {
        use domain::limits::{WidgetClient, WIDGET_HOLDS_PER_CLINIC};
        let demo = demo(db).await;
        let slots: Vec<SlotId> =
            demo.slots(demo.request(day(24), day(30))).await.providers.iter().flat_map(|p| p.slots.iter().map(|s| s.id)).collect();
        assert!(slots.len() as i64 > WIDGET_HOLDS_PER_CLINIC + 2, "{} slots", slots.len());
        for (i, slot) in slots.iter().take(WIDGET_HOLDS_PER_CLINIC as usize).enumerate() {
            let client = WidgetClient { address: format!("203.0.113.{i}"), browser: None };
            demo.store.place_hold(demo.clinic_id, *slot, false, Some(&client), now()).await.unwrap();
        }
        let one_more = WidgetClient { address: "203.0.113.250".into(), browser: None };
        let refused = demo.store.place_hold(demo.clinic_id, slots[WIDGET_HOLDS_PER_CLINIC as usize], false, Some(&one_more), now()).await;
        assert!(matches!(refused, Err(StoreError::Busy)), "{refused:?}");
        // Holds that are not the widget's (the store's own callers) do not count, and expired
        // ones free their place.
        demo.store.place_hold(demo.clinic_id, slots[WIDGET_HOLDS_PER_CLINIC as usize], false, None, now()).await.unwrap();
        let later = now() + Duration::minutes(11);
        demo.store.place_hold(demo.clinic_id, slots[WIDGET_HOLDS_PER_CLINIC as usize + 1], false, Some(&one_more), later).await.unwrap();
    }

    async fn a_hold_token_for_another_slot_does_not_unlock_a_held_one(db: TestDb) {
        let demo = demo(db).await;
        let slots = demo.slots(demo.request(day(24), day(24))).await.providers[0].slots.clone();
        let (a, b) = (slots[0].id, slots[3].id);
        demo.store.place_hold(demo.clinic_id, a, false, None, now()).await.unwrap();
        let other = demo.store.place_hold(demo.clinic_id, b, false, None, now()).await.unwrap();
        let wrong = SlotBooking { hold_token: Some(other.token), ..booking(&demo, a) };
        assert!(matches!(demo.store.book_slot(&wrong).await, Err(StoreError::SlotUnavailable)));
    }

    async fn concurrent_holds_on_one_slot_give_it_to_exactly_one_patient(db: TestDb) {
        let demo = std::sync::Arc::new(demo(db).await);
        let slot = first_slot(&demo).await;
        let barrier = std::sync::Arc::new(tokio::sync::Barrier::new(20));
        let mut tasks = tokio::task::JoinSet::new();
        for _ in 0..20 {
            let (demo, barrier) = (demo.clone(), barrier.clone());
            tasks.spawn(async move {
                barrier.wait().await;
                demo.store.place_hold(demo.clinic_id, slot, false, None, now()).await
            });
        }
        let mut won = 0;
        while let Some(r) = tasks.join_next().await {
            match r.unwrap() {
                Ok(_) => won += 1,
                Err(StoreError::SlotTaken | StoreError::SlotUnavailable) => {}
                Err(e) => panic!("{e:?}"),
            }
        }
        assert_eq!(won, 1);
        assert_eq!(store::testing::scalar_i64(&demo.store, "SELECT COUNT(*) FROM holds").await, 1);
    }

    async fn a_hold_on_a_time_that_is_not_offered_is_refused(db: TestDb) {
        let demo = demo(db).await;
        let slot = first_slot(&demo).await;
        let at_night = SlotId { start: slot.start - Duration::hours(6), ..slot };
        let refused = demo.store.place_hold(demo.clinic_id, at_night, false, None, now()).await;
        assert!(matches!(refused, Err(StoreError::SlotUnavailable)), "{refused:?}");
        assert_eq!(store::testing::scalar_i64(&demo.store, "SELECT COUNT(*) FROM holds").await, 0);
    }

    on_both_backends!(
        a_hold_hides_the_slot_from_others_until_it_expires,
        booking_with_the_hold_token_consumes_the_hold,
        a_hold_token_for_another_slot_does_not_unlock_a_held_one,
        a_widget_client_keeps_only_its_newest_holds,
        the_clinic_takes_no_more_widget_holds_than_its_ceiling,
        concurrent_holds_on_one_slot_give_it_to_exactly_one_patient,
        a_hold_on_a_time_that_is_not_offered_is_refused,
    );

    on_both_backends!(
        an_offered_slot_is_booked_once_and_then_taken,
        a_retry_with_the_same_idempotency_key_returns_the_booking,
        a_forged_time_outside_hours_or_a_wrong_length_is_not_bookable,
        a_new_patient_booking_a_time_shown_for_anyone_gets_the_first_visit_length,
        ids_naming_another_clinics_or_unknown_things_are_not_found,
    );
}

async fn clinic_settings_round_trip_and_drive_notice_and_cutoff(db: TestDb) {
    let demo = demo(db).await;
    let defaults = demo.store.clinic_settings(demo.clinic_id).await.unwrap();
    assert_eq!((defaults.minimum_notice_minutes, defaults.horizon_days, defaults.change_cutoff_minutes, defaults.hold_minutes), (60, 90, 1440, 10));
    // Three hours of notice: on Friday 10:00 Berlin nothing before 13:00 is offered.
    let stricter = domain::clinic::ClinicSettings::new(180, 90, 60, 5).unwrap();
    demo.store.update_clinic_settings(demo.clinic_id, &stricter).await.unwrap();
    assert_eq!(demo.store.clinic_settings(demo.clinic_id).await.unwrap(), stricter);
    let a = demo.slots(demo.request(day(20), day(20))).await;
    let weber = local_times(&a, demo.provider("Dr. Anna Weber"), day(20));
    assert!(!weber.is_empty() && weber.iter().all(|t| t.as_str() >= "13:00"), "{weber:?}");
    let missing = demo.store.update_clinic_settings(demo.clinic_id + 1, &stricter).await;
    assert!(matches!(missing, Err(StoreError::NotFound("clinic"))), "{missing:?}");
}

on_both_backends!(clinic_settings_round_trip_and_drive_notice_and_cutoff);
