//! What the patient widget reads and writes besides the booking engine: the catalogue, live
//! holds, appointment views, manage links, moves to an offered slot, embedding origins and
//! the shared link secret.

use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::appointment::BookingSource;
use domain::ClinicSlug;
use store::links::{LinkKey, OpenLinkError, LinkError};
use store::testing::{execute, scalar_i64, seeded_demo, TestDb};
use store::{on_both_backends, AvailabilityRequest, SlotBooking, Store, StoreError};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

fn demo_slug() -> ClinicSlug {
    ClinicSlug::parse("demo").unwrap()
}

/// The first offered slot of the demo's first location and product, a week ahead.
async fn a_free_slot(store: &Store, clinic_id: i64) -> domain::SlotId {
    let catalogue = store.catalogue(&demo_slug()).await.unwrap();
    let availability = store
        .availability(&AvailabilityRequest {
            clinic_id,
            location_id: catalogue.locations[0].id,
            product_id: catalogue.products[0].id,
            provider_id: None,
            from: (now() + Duration::days(7)).date_naive(),
            to: (now() + Duration::days(14)).date_naive(),
            new_patient: false,
            now: now(),
        })
        .await
        .unwrap();
    availability.providers.iter().flat_map(|p| &p.slots).next().expect("a free slot").id
}

async fn the_catalogue_lists_what_each_location_offers(db: TestDb) {
    seeded_demo(&db.store, now()).await;
    let c = db.store.catalogue(&demo_slug()).await.unwrap();
    assert_eq!(c.locations.len(), 2);
    assert_eq!(c.services.len(), 2);
    assert_eq!(c.products.len(), 3);
    let berlin = c.locations[0].id;
    let physio = c.services[1].id;
    let mut berlin_physio: Vec<&str> = c
        .offers
        .iter()
        .filter(|o| o.location_id == berlin && o.service_id == physio)
        .map(|o| o.display_name.as_str())
        .collect();
    berlin_physio.sort();
    assert_eq!(berlin_physio, ["Jonas Keller", "Sophie Wagner"]);
    assert!(c.products.iter().any(|p| p.price_cents == 4500));
}

async fn a_live_hold_names_its_slot_until_it_expires(db: TestDb) {
    let (clinic_id, _) = seeded_demo(&db.store, now()).await;
    let slot = a_free_slot(&db.store, clinic_id).await;
    let hold = db.store.place_hold(clinic_id, slot, false, None, now()).await.unwrap();
    let live = db.store.live_hold(clinic_id, &hold.token, now()).await.unwrap();
    assert_eq!(live.slot, slot, "the hold gives back the very slot, location included");
    assert!(matches!(db.store.live_hold(clinic_id, &hold.token, hold.expires_at).await, Err(StoreError::NotFound("hold"))));
    assert!(matches!(db.store.live_hold(clinic_id + 1, &hold.token, now()).await, Err(StoreError::NotFound("hold"))));
}

async fn a_manage_link_opens_its_appointment_until_it_changes_hands(db: TestDb) {
    let (clinic_id, _) = seeded_demo(&db.store, now()).await;
    let slot = a_free_slot(&db.store, clinic_id).await;
    let details = domain::patient::PersonDetails {
        first_name: Some(domain::patient::PersonName::parse("Ann").unwrap()),
        last_name: Some(domain::patient::PersonName::parse("Lee").unwrap()),
        ..Default::default()
    };
    let patient = db.store.create_patient(clinic_id, &details, false, now()).await.unwrap();
    let booked = db
        .store
        .book_slot(&SlotBooking {
            clinic_id,
            slot,
            new_patient: false,
            booker_id: Some(patient.id),
            participant_id: Some(patient.id),
            source: BookingSource::Widget,
            reason: String::new(),
            idempotency: None,
            hold_token: None,
            now: now(),
        })
        .await
        .unwrap();
    let key = LinkKey::from_passphrase("a test passphrase");
    let token = db.store.issue_manage_link(&key, booked.appointment_id).await.unwrap();
    let view = db.store.open_manage_link(&key, &token, now()).await.unwrap();
    assert_eq!(view.id, booked.appointment_id);
    assert_eq!(view.attendee, Some(("Ann".into(), "Lee".into())));
    assert_eq!(view.start, slot.start);

    let after = slot.end() + Duration::days(1);
    assert!(matches!(db.store.open_manage_link(&key, &token, after).await, Err(OpenLinkError::Link(LinkError::Expired))));
    let other = db.store.create_patient(clinic_id, &details, false, now()).await.unwrap();
    execute(&db.store, &format!("UPDATE appointments SET booker_id = {} WHERE id = {}", other.id, booked.appointment_id)).await;
    assert!(matches!(db.store.open_manage_link(&key, &token, now()).await, Err(OpenLinkError::Link(LinkError::Invalid))));
}

async fn a_move_goes_only_to_an_offered_slot_of_the_same_kind(db: TestDb) {
    let (clinic_id, _) = seeded_demo(&db.store, now()).await;
    let slot = a_free_slot(&db.store, clinic_id).await;
    let booked = db
        .store
        .book_slot(&SlotBooking {
            clinic_id, slot, new_patient: false, booker_id: None, participant_id: None,
            source: BookingSource::Widget, reason: String::new(), idempotency: None, hold_token: None, now: now(),
        })
        .await
        .unwrap();
    let id = booked.appointment_id;
    // Outside working hours (03:00 local): not offered.
    let mut night = slot;
    night.start = slot.start.date_naive().and_hms_opt(2, 0, 0).unwrap().and_utc();
    assert!(matches!(db.store.reschedule_to_slot(clinic_id, id, night, BookingSource::Widget, now()).await, Err(StoreError::SlotUnavailable)));
    // Another location: refused as a rule, not silently moved.
    let mut elsewhere = slot;
    elsewhere.location_id += 1;
    assert!(matches!(db.store.reschedule_to_slot(clinic_id, id, elsewhere, BookingSource::Widget, now()).await, Err(StoreError::Rule(_))));
    // Another clinic's appointment does not exist for this clinic.
    assert!(matches!(db.store.reschedule_to_slot(clinic_id + 1, id, slot, BookingSource::Widget, now()).await, Err(StoreError::NotFound(_))));
    let mut later = slot;
    later.start += Duration::days(1);
    let offered = db
        .store
        .availability(&AvailabilityRequest {
            clinic_id, location_id: slot.location_id, product_id: slot.product_id, provider_id: Some(slot.provider_id),
            from: later.start.date_naive(), to: (later.start + Duration::days(7)).date_naive(), new_patient: false, now: now(),
        })
        .await
        .unwrap();
    let target = offered.providers[0].slots.iter().find(|s| s.id.start >= later.start).expect("a free slot next week").id;
    db.store.reschedule_to_slot(clinic_id, id, target, BookingSource::Widget, now()).await.unwrap();
    assert_eq!(db.store.appointment_view(id).await.unwrap().start, target.start);
    assert_eq!(scalar_i64(&db.store, "SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentRescheduled'").await, 1);
}

async fn embed_origins_are_validated_and_replaced_as_a_whole(db: TestDb) {
    let (clinic_id, _) = seeded_demo(&db.store, now()).await;
    assert_eq!(db.store.embed_origins(clinic_id).await.unwrap(), Vec::<String>::new());
    let saved = db.store.set_embed_origins(&demo_slug(), &["https://Clinic.Example".into(), "http://127.0.0.1:8080".into()], now()).await.unwrap();
    assert_eq!(saved, ["https://clinic.example", "http://127.0.0.1:8080"]);
    assert_eq!(db.store.embed_origins(clinic_id).await.unwrap(), saved);
    assert!(db.store.set_embed_origins(&demo_slug(), &["https://ok.example".into(), "https://bad.example/path".into()], now()).await.is_err());
    assert_eq!(db.store.embed_origins(clinic_id).await.unwrap(), saved, "a refused list changes nothing");
    assert!(matches!(db.store.set_embed_origins(&ClinicSlug::parse("nowhere").unwrap(), &[], now()).await, Err(StoreError::NotFound("clinic"))));
}

async fn the_link_secret_is_generated_once_and_shared(db: TestDb) {
    let first = db.store.server_secret("manage_links", now()).await.unwrap();
    let again = db.store.server_secret("manage_links", now()).await.unwrap();
    let other = db.store.server_secret("something_else", now()).await.unwrap();
    assert_eq!(first, again);
    assert_ne!(first, other);
    assert_ne!(first, [0u8; 32]);
}

on_both_backends!(
    the_catalogue_lists_what_each_location_offers,
    a_live_hold_names_its_slot_until_it_expires,
    a_manage_link_opens_its_appointment_until_it_changes_hands,
    a_move_goes_only_to_an_offered_slot_of_the_same_kind,
    embed_origins_are_validated_and_replaced_as_a_whole,
    the_link_secret_is_generated_once_and_shared,
);
