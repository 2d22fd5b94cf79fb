//! The admin API over real HTTP on both backends: only an admin credential of the clinic gets
//! in; the clinic's document round-trips as JSON and TOML; a changed document is checked by
//! a dry run, applied, audited; bad documents and stranded bookings change nothing.

use chrono::Duration;
use serde_json::{json, Value};
use store::credentials::CredentialKind;
use store::testing::{another_clinic, TestDb};
use store::on_both_backends;

mod support;

use support::{spawn_with, Api, DEMO_KEY};

async fn spawn(db: TestDb) -> (Api, Api) {
    let api = spawn_with(db, server::api::ApiOptions { requests_per_minute: 600, ..Default::default() }).await;
    let issued = api.store.create_credential(api.clinic_id, None, "demo-admin", CredentialKind::Admin, None, api.now()).await.unwrap();
    let admin = api.as_user("demo-admin", &issued.key);
    (api, admin)
}

async fn audit_rows(api: &Api) -> i64 {
    api.count("SELECT COUNT(*) FROM audit_log").await
}

async fn put_doc(api: &Api, query: &str, doc: &Value) -> support::Answer {
    api.put(&format!("/admin/clinic{query}"), doc.clone()).await
}

async fn only_an_admin_credential_of_the_clinic_gets_in_and_nothing_changes_otherwise(db: TestDb) {
    let (api, admin) = spawn(db).await;
    let doc = admin.get("/admin/clinic").await;
    assert_eq!(doc.status, 200, "{}", doc.body);

    let anonymous = api.http.get(format!("{}/api/v1/admin/clinic", api.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let staff = api.store.create_credential(api.clinic_id, None, "front-desk", CredentialKind::Staff, None, api.now()).await.unwrap();
    let east = another_clinic(&api.store, "east").await;
    let east_admin = api.store.create_credential(east, None, "east-admin", CredentialKind::Admin, None, api.now()).await.unwrap();
    let before = audit_rows(&api).await;
    for (who, caller) in [
        ("the demo bot", api.as_user("demo", DEMO_KEY)),
        ("the demo voice bot", api.as_user("demo-voice", DEMO_KEY)),
        ("a staff credential", api.as_user("front-desk", &staff.key)),
        ("a wrong key", api.as_user("demo-admin", "bk_wrong")),
    ] {
        for answer in [caller.get("/admin/clinic").await, put_doc(&caller, "", &doc.body).await, caller.get("/admin/audit").await] {
            assert_eq!((answer.status, answer.code()), (401, "unauthorized"), "{who}");
        }
    }
    // Another clinic's admin sees its own clinic and cannot write this one's document.
    let other = api.as_user("east-admin", &east_admin.key);
    assert_eq!(other.get("/admin/clinic").await.body["slug"], "east");
    let refused = put_doc(&other, "", &doc.body).await;
    assert_eq!((refused.status, refused.code()), (422, "invalid_field"), "{}", refused.body);
    assert_eq!(refused.body["error"]["details"]["field"], "slug");
    assert_eq!(audit_rows(&api).await, before, "nothing was written");

    // An admin credential covers the whole clinic; a revoked one stops working.
    let location = api.store.clinic_catalogue(api.clinic_id).await.unwrap().locations[0].id;
    assert!(api.store.create_credential(api.clinic_id, Some(location), "half-admin", CredentialKind::Admin, None, api.now()).await.is_err());
    api.store.revoke_credential(&store::staff::Actor::cli(), api.clinic_id, "demo-admin", api.now()).await.unwrap();
    assert_eq!(admin.get("/admin/clinic").await.status, 401);
}

async fn a_clinic_document_round_trips_and_a_change_is_dry_run_applied_and_audited(db: TestDb) {
    let (api, admin) = spawn(db).await;
    let doc = admin.get("/admin/clinic").await.body;
    assert_eq!(doc["slug"], "demo");
    assert_eq!(doc["providers"]["anna-weber"]["name"], "Dr. Anna Weber");
    let before = audit_rows(&api).await;
    let same = put_doc(&admin, "", &doc).await;
    assert_eq!(same.status, 200, "{}", same.body);
    assert_eq!(same.body, json!({ "dryRun": false, "changes": [], "stranded": [], "flagged": [] }));
    assert_eq!(audit_rows(&api).await, before, "the same document changes nothing");

    let mut changed = doc.clone();
    changed["providers"]["anna-weber"]["name"] = json!("Dr. Anna Weber-Roth");
    changed["booking"]["minimum_notice_minutes"] = json!(120);
    let dry = put_doc(&admin, "?dryRun=true", &changed).await;
    assert_eq!(dry.status, 200, "{}", dry.body);
    assert_eq!(dry.body["dryRun"], true);
    assert_eq!(dry.body["changes"], json!(["clinic demo: change minimum_notice_minutes", "provider anna-weber: change name"]));
    assert_eq!(admin.get("/admin/clinic").await.body, doc, "a dry run changes nothing");

    let applied = put_doc(&admin, "", &changed).await;
    assert_eq!((applied.status, applied.body["changes"].as_array().unwrap().len()), (200, 2), "{}", applied.body);
    assert_eq!(admin.get("/admin/clinic").await.body, changed);
    let audit = admin.get("/admin/audit?limit=2").await;
    let entries = audit.body["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert!(entries.iter().all(|e| e["actor"] == "api:demo-admin"), "{}", audit.body);
    assert_eq!(entries[0]["action"], "provider.update");
    assert_eq!(entries[0]["detail"]["name"]["to"], "Dr. Anna Weber-Roth");

    // The same document as TOML, both ways.
    let toml = admin.http.get(format!("{}/api/v1/admin/clinic", api.base)).header("accept", "application/toml").basic_auth("demo-admin", Some(&admin.key)).send().await.unwrap();
    assert!(toml.headers()["content-type"].to_str().unwrap().starts_with("application/toml"));
    let text = toml.text().await.unwrap();
    assert!(text.contains("[providers.anna-weber]") && text.contains("Dr. Anna Weber-Roth"), "{text}");
    let back = admin.send(admin.http.put(format!("{}/api/v1/admin/clinic", api.base)).header("content-type", "application/toml").body(text)).await;
    assert_eq!((back.status, back.body["changes"].clone()), (200, json!([])), "{}", back.body);

    let doc_listed = api.get("/openapi.json").await.body;
    assert!(doc_listed["paths"]["/api/v1/admin/clinic"]["put"].is_object(), "the admin API is in the OpenAPI document");
}

async fn bad_documents_are_refused_naming_the_key_and_change_nothing(db: TestDb) {
    let (api, admin) = spawn(db).await;
    let doc = admin.get("/admin/clinic").await.body;
    let before = audit_rows(&api).await;
    let mut backwards = doc.clone();
    backwards["providers"]["anna-weber"]["hours"][0]["end"] = json!("07:00");
    let mut unknown_service = doc.clone();
    unknown_service["products"]["consultation"]["service"] = json!("massage");
    let mut bad_zone = doc.clone();
    bad_zone["locations"]["berlin-mitte"]["time_zone"] = json!("Europe/Atlantis");
    let mut negative = doc.clone();
    negative["products"]["physiotherapy-30"]["price"] = json!(-45);
    for (bad, field) in [
        (backwards, "providers.anna-weber.hours[0].end"),
        (unknown_service, "products.consultation.service"),
        (bad_zone, "locations.berlin-mitte.time_zone"),
        (negative, "products.physiotherapy-30.price"),
    ] {
        let a = put_doc(&admin, "", &bad).await;
        assert_eq!((a.status, a.code()), (422, "invalid_field"), "{}", a.body);
        assert_eq!(a.body["error"]["details"]["field"], field);
    }
    let mut misspelt = doc.clone();
    misspelt["services"]["physiotherapy"]["duration"] = json!(30);
    let a = put_doc(&admin, "", &misspelt).await;
    assert_eq!((a.status, a.code()), (422, "invalid_body"), "{}", a.body);
    let url = format!("{}/api/v1/admin/clinic", api.base);
    let malformed = admin.send(admin.http.put(&url).header("content-type", "application/json").body("{\"slug\":")).await;
    assert_eq!((malformed.status, malformed.code()), (400, "malformed_json"));
    let plain = admin.send(admin.http.put(&url).header("content-type", "text/plain").body("slug = 'demo'")).await;
    assert_eq!((plain.status, plain.code()), (415, "unsupported_media_type"));
    let huge = admin.send(admin.http.put(&url).header("content-type", "application/json").body(vec![b' '; 1024 * 1024 + 512 * 1024])).await;
    assert_eq!((huge.status, huge.code()), (413, "body_too_large"));
    let bad_toml = admin.send(admin.http.put(&url).header("content-type", "application/toml").body("slug = ")).await;
    assert_eq!((bad_toml.status, bad_toml.code()), (422, "invalid_body"), "{}", bad_toml.body);
    for (query, status) in [("?limit=0", 422), ("?limit=501", 422), ("?limt=5", 400)] {
        assert_eq!(admin.get(&format!("/admin/audit{query}")).await.status, status, "{query}");
    }
    assert_eq!(put_doc(&admin, "?dryRun=maybe", &doc).await.status, 400);
    assert_eq!(audit_rows(&api).await, before);
    assert_eq!(admin.get("/admin/clinic").await.body, doc);
}

async fn a_document_that_strands_a_booking_is_refused_listing_it_until_kept(db: TestDb) {
    let (api, admin) = spawn(db).await;
    // A booking three weeks ahead with Sophie Wagner, through the bot API.
    let (cal_id, kind) = api.berlin_calendar().await;
    let day = (api.now() + Duration::days(21)).format("%Y-%m-%d").to_string();
    let to = (api.now() + Duration::days(28)).format("%Y-%m-%d").to_string();
    let free = api.get(&format!("/availability?calendar_id={cal_id}&appointment_type_id={kind}&from={day}&to={to}")).await;
    let slot = free.body["days"][0]["slots"][0]["slotId"].as_str().unwrap().to_owned();
    let booked = api.book_new_patient(&slot, "Strand").await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let booked_id = booked.body["appointmentId"].as_str().unwrap().to_owned();

    let doc = admin.get("/admin/clinic").await.body;
    let mut without = doc.clone();
    without["providers"]["sophie-wagner"]["hours"] = json!([]);
    let before = audit_rows(&api).await;
    let dry = put_doc(&admin, "?dryRun=true", &without).await;
    let stranded = dry.body["stranded"].as_array().unwrap();
    assert_eq!(stranded.len(), 1, "{}", dry.body);
    assert_eq!((stranded[0]["id"].as_str(), stranded[0]["reason"].as_str()), (Some(booked_id.as_str()), Some("outsideHours")));
    assert_eq!(stranded[0]["calendarId"], cal_id.as_str());
    let refused = put_doc(&admin, "", &without).await;
    assert_eq!((refused.status, refused.code()), (409, "would_strand"), "{}", refused.body);
    assert!(refused.body["error"]["details"]["appointments"].as_array().unwrap().iter().any(|a| a["id"] == booked_id.as_str()));
    assert_eq!(audit_rows(&api).await, before, "nothing changed");
    assert_eq!(admin.get("/admin/clinic").await.body, doc);

    let kept = put_doc(&admin, "?keepBooked=true", &without).await;
    assert_eq!(kept.status, 200, "{}", kept.body);
    assert_eq!(kept.body["flagged"], json!([booked_id]));
    let status: String = store::testing::scalar_text(&api.store, &format!("SELECT status FROM appointments WHERE id = {booked_id}")).await;
    assert_eq!(status, "booked", "kept booked, flagged for staff");
}

on_both_backends!(
    only_an_admin_credential_of_the_clinic_gets_in_and_nothing_changes_otherwise,
    a_clinic_document_round_trips_and_a_change_is_dry_run_applied_and_audited,
    bad_documents_are_refused_naming_the_key_and_change_nothing,
    a_document_that_strands_a_booking_is_refused_listing_it_until_kept,
);
