//! Bot and staff credentials: keys are checked against their digests, rotate with at most two
//! active, may expire (never sooner than 90 days), and stay scoped to their facility.

use chrono::{DateTime, Duration, TimeZone, Utc};
use store::credentials::{CredentialKind, KEY_PREFIX};
use store::testing::{scalar_i64, seeded_demo, TestDb};
use store::{on_both_backends, StoreError};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()
}

async fn the_demo_key_authenticates_its_clinic_and_nothing_else_does(db: TestDb) {
    let (clinic_id, _) = seeded_demo(&db.store, now()).await;
    let facility = db.store.authenticate("demo", "bk_test", now()).await.unwrap().expect("the seeded key works");
    assert_eq!((facility.clinic_id, facility.location_id, facility.kind), (clinic_id, None, CredentialKind::Bot));
    for (user, key) in [("demo", "bk_wrong"), ("demo", ""), ("nobody", "bk_test"), ("DEMO", "bk_test")] {
        assert_eq!(db.store.authenticate(user, key, now()).await.unwrap(), None, "{user}:{key}");
    }
}

async fn a_new_credential_shows_its_key_once_and_stores_only_the_digest(db: TestDb) {
    let (clinic_id, ctx) = seeded_demo(&db.store, now()).await;
    let issued = db
        .store
        .create_credential(clinic_id, Some(ctx.location.id), "berlin-bot", CredentialKind::Bot, None, now())
        .await
        .unwrap();
    assert!(issued.key.starts_with(KEY_PREFIX));
    let stored = format!("SELECT COUNT(*) FROM api_keys WHERE key_sha256 = '{}'", issued.key);
    assert_eq!(scalar_i64(&db.store, &stored).await, 0, "the plain key is not stored");
    let facility = db.store.authenticate("berlin-bot", &issued.key, now()).await.unwrap().unwrap();
    assert_eq!(facility.location_id, Some(ctx.location.id));

    let again = db.store.create_credential(clinic_id, None, "berlin-bot", CredentialKind::Bot, None, now()).await;
    assert!(matches!(again, Err(StoreError::Rule(_))), "a username is unique: {again:?}");
    let elsewhere = db.store.create_credential(clinic_id, Some(999_999), "other-bot", CredentialKind::Bot, None, now()).await;
    assert!(matches!(elsewhere, Err(StoreError::NotFound("location"))), "{elsewhere:?}");
}

async fn rotation_keeps_two_keys_working_and_revokes_the_oldest(db: TestDb) {
    seeded_demo(&db.store, now()).await;
    let second = db.store.rotate_key("demo", None, now()).await.unwrap();
    assert_eq!(second.revoked, 0);
    assert!(db.store.authenticate("demo", "bk_test", now()).await.unwrap().is_some(), "the old key still works");
    assert!(db.store.authenticate("demo", &second.key, now()).await.unwrap().is_some());

    let third = db.store.rotate_key("demo", None, now() + Duration::minutes(1)).await.unwrap();
    assert_eq!(third.revoked, 1);
    assert_eq!(db.store.authenticate("demo", "bk_test", now()).await.unwrap(), None, "the oldest is revoked");
    assert!(db.store.authenticate("demo", &second.key, now()).await.unwrap().is_some());
    assert!(db.store.authenticate("demo", &third.key, now()).await.unwrap().is_some());

    let unknown = db.store.rotate_key("nobody", None, now()).await;
    assert!(matches!(unknown, Err(StoreError::NotFound("credential"))), "{unknown:?}");
}

async fn an_expiring_key_lives_at_least_90_days_and_stops_after(db: TestDb) {
    seeded_demo(&db.store, now()).await;
    let too_short = db.store.rotate_key("demo", Some(now() + Duration::days(89)), now()).await;
    assert!(matches!(too_short, Err(StoreError::Rule(_))), "{too_short:?}");
    let expires = now() + Duration::days(90);
    let key = db.store.rotate_key("demo", Some(expires), now()).await.unwrap().key;
    assert!(db.store.authenticate("demo", &key, expires - Duration::seconds(1)).await.unwrap().is_some());
    assert_eq!(db.store.authenticate("demo", &key, expires).await.unwrap(), None);
}

on_both_backends!(
    the_demo_key_authenticates_its_clinic_and_nothing_else_does,
    a_new_credential_shows_its_key_once_and_stores_only_the_digest,
    rotation_keeps_two_keys_working_and_revokes_the_oldest,
    an_expiring_key_lives_at_least_90_days_and_stops_after,
);
