use chrono::{NaiveDate, TimeZone, Utc};
use domain::patient::{Email, PatientField, PersonDetails, PersonName, Phone};
use domain::ClinicSlug;
use store::testing::{scalar_i64, TestDb};
use store::{on_both_backends, StoreError};

async fn demo(db: &TestDb) -> i64 {
    store::testing::seeded_demo(&db.store, Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()).await.0
}

fn max() -> PersonDetails {
    PersonDetails {
        first_name: Some(PersonName::parse("Max").unwrap()),
        last_name: Some(PersonName::parse("Mustermann").unwrap()),
        phone: Some(Phone::parse("+49-341-1234567", None).unwrap()),
        email: Some(Email::parse("max@example.com").unwrap()),
        birth_date: NaiveDate::from_ymd_opt(1985, 7, 25),
        street: Some("Beispiel Str. 2".into()),
        zip: Some("01044".into()),
        city: Some("Musterstadt".into()),
        ..Default::default()
    }
}

async fn a_new_patient_gets_a_temporary_id_until_registered_and_then_an_event(db: TestDb) {
    let clinic = demo(&db).await;
    let now = Utc::now();
    let p = db.store.create_patient(clinic, &max(), false, now).await.unwrap();
    let temporary = p.temporary_id.clone().expect("unregistered patients get a temporary id");
    assert!(temporary.starts_with("tmp_"));
    let stored = format!("SELECT COUNT(*) FROM patients WHERE id = {} AND phone = '+493411234567' AND address = 'Beispiel Str. 2, 01044, Musterstadt'", p.id);
    assert_eq!(scalar_i64(&db.store, &stored).await, 1, "normalised phone and joined address");
    db.store.register_patient(clinic, p.id, now).await.unwrap();
    let event = format!("SELECT COUNT(*) FROM outbox WHERE event_type = 'patientCreated' AND payload LIKE '%{temporary}%'");
    assert_eq!(scalar_i64(&db.store, &event).await, 1, "the event carries the temporary id");
    let twice = db.store.register_patient(clinic, p.id, now).await;
    assert!(matches!(twice, Err(StoreError::Rule(_))), "{twice:?}");
    assert_eq!(scalar_i64(&db.store, "SELECT COUNT(*) FROM outbox WHERE event_type = 'patientCreated'").await, 1);
}

async fn a_registered_patient_has_no_temporary_id(db: TestDb) {
    let clinic = demo(&db).await;
    let p = db.store.create_patient(clinic, &max(), true, Utc::now()).await.unwrap();
    assert_eq!(p.temporary_id, None);
}

async fn a_patient_without_a_name_or_of_another_clinic_is_refused(db: TestDb) {
    let clinic = demo(&db).await;
    let nameless = PersonDetails { last_name: None, ..max() };
    let refused = db.store.create_patient(clinic, &nameless, false, Utc::now()).await;
    assert!(matches!(refused, Err(StoreError::Rule(_))), "{refused:?}");
    assert_eq!(scalar_i64(&db.store, "SELECT COUNT(*) FROM patients").await, 0);
    let p = db.store.create_patient(clinic, &max(), false, Utc::now()).await.unwrap();
    let foreign = db.store.register_patient(clinic + 1, p.id, Utc::now()).await;
    assert!(matches!(foreign, Err(StoreError::NotFound("patient"))), "{foreign:?}");
}

async fn a_product_names_the_details_it_requires(db: TestDb) {
    let clinic = demo(&db).await;
    let ctx = db.store.booking_context(&ClinicSlug::parse("demo").unwrap()).await.unwrap();
    let (booker, participant) = db.store.product_requirements(clinic, ctx.product.id).await.unwrap();
    use PatientField::*;
    assert_eq!(booker, [FirstName, LastName, Phone, Email, BirthDate]);
    assert_eq!(participant, [FirstName, LastName, BirthDate]);
    let unknown = db.store.product_requirements(clinic + 1, ctx.product.id).await;
    assert!(matches!(unknown, Err(StoreError::NotFound("product"))), "{unknown:?}");
}

on_both_backends!(
    a_new_patient_gets_a_temporary_id_until_registered_and_then_an_event,
    a_registered_patient_has_no_temporary_id,
    a_patient_without_a_name_or_of_another_clinic_is_refused,
    a_product_names_the_details_it_requires,
);

