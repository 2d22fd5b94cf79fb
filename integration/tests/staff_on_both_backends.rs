//! Staff sessions, invitations and sign-in throttling over time, on both backends: the clock
//! is passed in, so hours and days pass in an instant.

use chrono::Duration;
use domain::patient::Email;
use domain::staff::{ClinicProfile, Role};
use store::staff::{Actor, SignInError, LOGIN_WINDOW, MAX_FAILURES_PER_ACCOUNT, SESSION_IDLE, SESSION_MAX};
use store::testing::{scalar_i64, test_clock, TestDb};
use store::{on_both_backends, NewClinic, StoreError};

fn clinic(slug: &str, owner: &str) -> NewClinic {
    NewClinic {
        slug: domain::ClinicSlug::parse(slug).unwrap(),
        profile: ClinicProfile::new("Praxis", "de", "Europe/Berlin").unwrap(),
        owner_email: Email::parse(owner).unwrap(),
    }
}

async fn a_session_ends_after_twelve_idle_hours_and_after_seven_days_in_any_case(db: TestDb) {
    let store = db.store;
    let t0 = test_clock().now();
    let (_, invitation) = store.create_clinic(&clinic("nord", "chef@nord.example"), t0).await.unwrap();
    let signed = store.accept_invitation(&invitation.token, "Chef", "a long enough secret", t0).await.unwrap();
    let token = signed.token;
    let idle = store.staff_session(&token, t0 + SESSION_IDLE - Duration::minutes(1)).await.unwrap();
    assert!(idle.is_some(), "a session lives through its idle time");
    // Used every few hours it lives on...
    let mut at = t0 + SESSION_IDLE - Duration::minutes(1);
    while at < t0 + SESSION_MAX - Duration::hours(11) {
        at += Duration::hours(11);
        assert!(store.staff_session(&token, at).await.unwrap().is_some(), "ended at {at} while in use");
    }
    // ...but not past seven days from sign-in.
    assert!(store.staff_session(&token, t0 + SESSION_MAX + Duration::minutes(1)).await.unwrap().is_none());

    // Left alone, another ends after its idle time.
    let again = store.sign_in("chef@nord.example", "a long enough secret", "10.0.0.1", t0).await.unwrap();
    assert!(store.staff_session(&again.token, t0 + SESSION_IDLE + Duration::minutes(1)).await.unwrap().is_none());
    assert!(store.staff_session("not a token", t0).await.unwrap().is_none());
}

async fn an_invitation_expires_after_seven_days_and_works_once(db: TestDb) {
    let store = db.store;
    let t0 = test_clock().now();
    let (clinic_id, owner) = store.create_clinic(&clinic("sued", "chef@sued.example"), t0).await.unwrap();
    let late = store.accept_invitation(&owner.token, "Chef", "a long enough secret", t0 + Duration::days(7) + Duration::seconds(1)).await;
    assert!(matches!(late, Err(StoreError::NotFound("invitation"))), "{late:?}");
    let desk = store.invite_staff(clinic_id, &Actor::cli(), &Email::parse("desk@sued.example").unwrap(), Role::Desk, t0).await.unwrap();
    store.accept_invitation(&desk.token, "Desk", "front counter secret", t0).await.unwrap();
    let twice = store.accept_invitation(&desk.token, "Desk", "another long secret", t0).await;
    assert!(matches!(twice, Err(StoreError::NotFound("invitation"))), "{twice:?}");
    // The first password stands.
    assert!(store.sign_in("desk@sued.example", "front counter secret", "10.0.0.2", t0).await.is_ok());
    // Disabled accounts and accounts that never set a password cannot sign in.
    let never = store.sign_in("chef@sued.example", "", "10.0.0.2", t0).await;
    assert!(matches!(never, Err(SignInError::Refused)), "{never:?}");
}

async fn the_sign_in_lock_lifts_when_the_window_has_passed(db: TestDb) {
    let store = db.store;
    let t0 = test_clock().now();
    let (_, owner) = store.create_clinic(&clinic("west", "chef@west.example"), t0).await.unwrap();
    store.accept_invitation(&owner.token, "Chef", "a long enough secret", t0).await.unwrap();
    for i in 0..MAX_FAILURES_PER_ACCOUNT {
        let at = t0 + Duration::seconds(i);
        assert!(matches!(store.sign_in("chef@west.example", "wrong", "10.0.0.3", at).await, Err(SignInError::Refused)));
    }
    let locked = store.sign_in("Chef@West.example", "a long enough secret", "10.0.0.4", t0 + Duration::minutes(1)).await;
    let Err(SignInError::Throttled { retry_after }) = locked else { panic!("{locked:?}") };
    assert!(retry_after <= LOGIN_WINDOW && retry_after >= LOGIN_WINDOW - Duration::minutes(2), "{retry_after}");
    let later = t0 + LOGIN_WINDOW + Duration::seconds(MAX_FAILURES_PER_ACCOUNT + 1);
    assert!(store.sign_in("chef@west.example", "a long enough secret", "10.0.0.4", later).await.is_ok());
    // A success clears the account's failures.
    assert_eq!(scalar_i64(&store, "SELECT COUNT(*) FROM login_failures WHERE email = 'chef@west.example'").await, 0);
}

async fn a_clinic_slug_or_owner_address_in_use_is_refused(db: TestDb) {
    let store = db.store;
    let t0 = test_clock().now();
    store.create_clinic(&clinic("ost", "chef@ost.example"), t0).await.unwrap();
    let slug = store.create_clinic(&clinic("ost", "other@ost.example"), t0).await;
    assert!(matches!(slug, Err(StoreError::Rule(domain::DomainError::Invalid { field: "slug", .. }))), "{slug:?}");
    let owner = store.create_clinic(&clinic("ost-2", "CHEF@ost.example"), t0).await;
    assert!(matches!(owner, Err(StoreError::Rule(domain::DomainError::Invalid { field: "ownerEmail", .. }))), "{owner:?}");
    assert_eq!(scalar_i64(&store, "SELECT COUNT(*) FROM clinics").await, 1);
    assert_eq!(scalar_i64(&store, "SELECT COUNT(*) FROM staff_users").await, 1);
}

on_both_backends!(
    a_session_ends_after_twelve_idle_hours_and_after_seven_days_in_any_case,
    an_invitation_expires_after_seven_days_and_works_once,
    the_sign_in_lock_lifts_when_the_window_has_passed,
    a_clinic_slug_or_owner_address_in_use_is_refused,
);
