use chrono::{TimeZone, Utc};
use domain::ClinicSlug;
use store::testing::{scalar_i64, TestDb};
use store::{on_both_backends, DemoSeed, SeedOutcome, Store, StoreError};

fn demo_seed() -> DemoSeed {
    DemoSeed { now: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(), api_key: "bk_test_key".into(), voice_key: "bk_test_voice_key".into() }
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

/// Managed PostgreSQL services require TLS: `sslmode=require` encrypts, `verify-full` also
/// checks the server's certificate against `sslrootcert` (and the system's roots) and its name.
/// The test server must have TLS switched on (Debian's clusters do, with a certificate for
/// `localhost`); the test says so when it has not, rather than passing.
#[tokio::test]
async fn postgresql_connections_use_tls_when_the_url_asks_and_verify_the_server_and_its_name() {
    let db = store::testing::fresh_db(store::Backend::Postgres).await;
    let store::Db::Postgres(pool) = db.store.db() else { unreachable!() };
    let setting = |name: &'static str| async move { sqlx::query_scalar::<_, String>(&format!("SHOW {name}")).fetch_one(pool).await.unwrap() };
    assert_eq!(setting("ssl").await, "on", "the test PostgreSQL must accept TLS (ssl = on in postgresql.conf)");
    let certificate = setting("ssl_cert_file").await;
    assert!(std::path::Path::new(&certificate).is_file(), "the server's certificate {certificate} must be readable here (a local test server)");

    // The URL with another host and extra parameters.
    let (scheme, rest) = db.url.split_once("://").unwrap();
    let (credentials, location) = rest.rsplit_once('@').map_or(("", rest), |(c, l)| (c, l));
    let (_, port_and_db) = location.split_once(':').unwrap_or(("", location));
    let at = |host: &str, params: &str| {
        let who = if credentials.is_empty() { String::new() } else { format!("{credentials}@") };
        format!("{scheme}://{who}{host}:{port_and_db}?{params}")
    };
    let encrypted = |store: &Store| {
        let store::Db::Postgres(pool) = store.db() else { unreachable!() };
        let pool = pool.clone();
        async move { sqlx::query_scalar::<_, bool>("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetch_one(&pool).await.unwrap() }
    };
    let required = Store::connect(&at("127.0.0.1", "sslmode=require")).await.expect("sslmode=require connects");
    assert!(encrypted(&required).await, "sslmode=require encrypts");
    let verified = Store::connect(&at("localhost", &format!("sslmode=verify-full&sslrootcert={certificate}"))).await.expect("verify-full with the server's CA connects");
    assert!(encrypted(&verified).await);
    // The same server and certificate by its address: the certificate names localhost.
    let refused = Store::connect(&at("127.0.0.1", &format!("sslmode=verify-full&sslrootcert={certificate}"))).await;
    let error = refused.err().expect("verify-full refuses a certificate for another name").to_string();
    assert!(error.contains("not valid for name"), "{error}");
    let plain = Store::connect(&at("127.0.0.1", "sslmode=disable")).await.unwrap();
    assert!(!encrypted(&plain).await, "sslmode=disable stays in the clear");
}
