use chrono::{TimeZone, Utc};
use domain::ClinicSlug;
use store::testing::{scalar_i64, TestDb};
use store::{on_both_backends, DemoSeed, SeedOutcome, Store, StoreError};

fn demo_seed() -> DemoSeed {
    DemoSeed { now: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(), api_key: "bk_test_key".into() }
}

async fn migrating_twice_is_harmless(db: TestDb) {
    db.store.migrate().await.expect("second migration run is a no-op");
}

async fn seeding_twice_keeps_one_demo_clinic(db: TestDb) {
    let first = db.store.seed_demo(&demo_seed()).await.unwrap();
    assert!(matches!(first, SeedOutcome::Created { .. }), "{first:?}");
    let second = db.store.seed_demo(&demo_seed()).await.unwrap();
    assert_eq!(second, SeedOutcome::AlreadyPresent);
    assert_eq!(scalar_i64(&db.store, "SELECT COUNT(*) FROM clinics").await, 1);
    assert_eq!(scalar_i64(&db.store, "SELECT COUNT(*) FROM appointments").await, 50);
}

async fn the_demo_api_key_is_stored_only_as_its_digest(db: TestDb) {
    db.store.seed_demo(&demo_seed()).await.unwrap();
    let plain = "SELECT COUNT(*) FROM api_keys WHERE key_sha256 = 'bk_test_key'";
    assert_eq!(scalar_i64(&db.store, plain).await, 0);
    let digest = store::api_key_digest("bk_test_key");
    let hashed = format!(
        "SELECT COUNT(*) FROM api_keys k JOIN api_credentials c ON c.id = k.credential_id
          WHERE c.username = 'demo' AND k.key_sha256 = '{digest}'"
    );
    assert_eq!(scalar_i64(&db.store, &hashed).await, 1);
}

async fn the_demo_clinic_has_a_zoned_location_a_service_and_providers_with_hours(db: TestDb) {
    db.store.seed_demo(&demo_seed()).await.unwrap();
    let ctx = db.store.booking_context(&ClinicSlug::parse("demo").unwrap()).await.unwrap();
    assert_eq!(ctx.clinic.slug.as_str(), "demo");
    assert_eq!(ctx.location.tz, chrono_tz::Europe::Berlin);
    assert_eq!(ctx.service.duration_minutes, 30);
    assert_eq!(ctx.product.duration_minutes, 30);
    assert_eq!(ctx.providers.len(), 4, "four providers work at the first location");
}

async fn an_unknown_clinic_is_not_found(db: TestDb) {
    let err = db.store.booking_context(&ClinicSlug::parse("nowhere").unwrap()).await.unwrap_err();
    assert!(matches!(err, StoreError::NotFound("clinic")), "{err:?}");
}

on_both_backends!(
    migrating_twice_is_harmless,
    seeding_twice_keeps_one_demo_clinic,
    the_demo_api_key_is_stored_only_as_its_digest,
    the_demo_clinic_has_a_zoned_location_a_service_and_providers_with_hours,
    an_unknown_clinic_is_not_found,
);

#[tokio::test]
async fn a_url_of_another_database_kind_is_refused() {
    let err = Store::connect("mysql://localhost/booking").await.unwrap_err();
    assert!(matches!(err, StoreError::UnsupportedUrl(_)), "{err:?}");
}

#[tokio::test]
async fn a_sqlite_path_under_a_regular_file_is_refused_before_any_database_work() {
    let file = std::env::temp_dir().join(format!("booking-not-a-dir-{}", std::process::id()));
    std::fs::write(&file, b"").unwrap();
    let url = format!("sqlite://{}/inner/booking.db?mode=rwc", file.display());
    let err = Store::connect(&url).await.unwrap_err();
    std::fs::remove_file(&file).unwrap();
    assert!(matches!(err, StoreError::Directory(_)), "{err:?}");
}
