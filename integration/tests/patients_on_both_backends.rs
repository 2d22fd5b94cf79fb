use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use domain::patient::{Email, PatientField, PersonDetails, PersonName, Phone};
use domain::ClinicSlug;
use store::testing::{scalar_i64, TestDb};
use store::{on_both_backends, PatientQuery, PatientRef, StoreError};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

async fn demo(db: &TestDb) -> i64 {
    store::testing::seeded_demo(&db.store, now()).await.0
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
    let now = now();
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
    let p = db.store.create_patient(clinic, &max(), true, now()).await.unwrap();
    assert_eq!(p.temporary_id, None);
}

async fn a_patient_without_a_name_or_of_another_clinic_is_refused(db: TestDb) {
    let clinic = demo(&db).await;
    let nameless = PersonDetails { last_name: None, ..max() };
    let refused = db.store.create_patient(clinic, &nameless, false, now()).await;
    assert!(matches!(refused, Err(StoreError::Rule(_))), "{refused:?}");
    assert_eq!(scalar_i64(&db.store, "SELECT COUNT(*) FROM patients").await, 0);
    let p = db.store.create_patient(clinic, &max(), false, now()).await.unwrap();
    let foreign = db.store.register_patient(clinic + 1, p.id, now()).await;
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

async fn lookup_matches_names_without_case_or_accents_and_narrows_by_birth_date(db: TestDb) {
    let clinic = demo(&db).await;
    let now = now();
    let max = db.store.create_patient(clinic, &max(), false, now).await.unwrap();
    let twin = PersonDetails { birth_date: NaiveDate::from_ymd_opt(1990, 1, 2), email: None, ..self::max() };
    let twin = db.store.create_patient(clinic, &twin, true, now).await.unwrap();
    let query = |name: &str| PatientQuery { name: Some(name.into()), ..PatientQuery::default() };

    let both: Vec<i64> = db.store.find_patients(clinic, &query("MAX mustermann")).await.unwrap().iter().map(|p| p.id).collect();
    assert_eq!(both, vec![max.id, twin.id]);
    let reversed = db.store.find_patients(clinic, &query("Mustermann Max")).await.unwrap();
    assert_eq!(reversed.len(), 2, "either order");
    let by_dob = PatientQuery { birth_date: NaiveDate::from_ymd_opt(1990, 1, 2), ..query("Max Mustermann") };
    let found = db.store.find_patients(clinic, &by_dob).await.unwrap();
    assert_eq!(found.iter().map(|p| p.id).collect::<Vec<_>>(), vec![twin.id]);
    assert!(found[0].registered && found[0].temporary_id.is_none());
    let by_phone = PatientQuery { phone: Some(Phone::parse("+49 341 1234567", None).unwrap()), ..query("Moritz Mustermann") };
    assert_eq!(db.store.find_patients(clinic, &by_phone).await.unwrap().len(), 0, "a different name is no match");
    let by_phone = PatientQuery { phone: Some(Phone::parse("+49 341 1234567", None).unwrap()), ..PatientQuery::default() };
    assert_eq!(db.store.find_patients(clinic, &by_phone).await.unwrap().len(), 2);
    let by_email = PatientQuery { email: Some(Email::parse("MAX@example.com").unwrap()), ..PatientQuery::default() };
    assert_eq!(db.store.find_patients(clinic, &by_email).await.unwrap().iter().map(|p| p.id).collect::<Vec<_>>(), vec![max.id]);

    let temporary = max.temporary_id.clone().unwrap();
    assert_eq!(db.store.patient(clinic, PatientRef::Temporary(&temporary)).await.unwrap().id, max.id);
    let other_clinic = db.store.patient(clinic + 1, PatientRef::Id(max.id)).await;
    assert!(matches!(other_clinic, Err(StoreError::NotFound("patient"))), "{other_clinic:?}");
}

on_both_backends!(
    lookup_matches_names_without_case_or_accents_and_narrows_by_birth_date,
    a_new_patient_gets_a_temporary_id_until_registered_and_then_an_event,
    a_registered_patient_has_no_temporary_id,
    a_patient_without_a_name_or_of_another_clinic_is_refused,
    a_product_names_the_details_it_requires,
);

