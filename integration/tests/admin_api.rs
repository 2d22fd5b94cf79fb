//! The admin API over real HTTP on both backends: only an admin credential of the clinic gets
//! in; the clinic's document round-trips as JSON and TOML; a changed document is checked by
//! a dry run, applied, audited; bad documents and stranded bookings change nothing.

use chrono::Duration;
use serde_json::{json, Value};
use store::credentials::CredentialKind;
use store::testing::{another_clinic, TestDb};
use store::on_both_backends;

mod support;

use support::{spawn_with, Api, DEMO_KEY, DEMO_VOICE_KEY};

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

async fn delete(api: &Api, path: &str) -> support::Answer {
    api.send(api.http.delete(format!("{}/api/v1{path}", api.base))).await
}

/// One call of every admin route, each meant to change something where it may.
async fn every_admin_route(caller: &Api, doc: &Value) -> Vec<support::Answer> {
    vec![
        caller.get("/admin/clinic").await,
        put_doc(caller, "", doc).await,
        caller.get("/admin/audit").await,
        caller.post("/admin/credentials/rotate", json!({})).await,
        caller.get("/admin/credentials").await,
        caller.post("/admin/credentials", json!({ "userId": "intruder-bot", "kind": "bot" })).await,
        caller.post("/admin/credentials/demo/rotate", json!({})).await,
        caller.post("/admin/credentials/demo/revoke", json!({})).await,
        caller.get("/admin/voice-lines").await,
        caller.post("/admin/voice-lines", json!({ "sipId": "+4930999", "userId": "demo-voice" })).await,
        delete(caller, "/admin/voice-lines/%2B4930123456").await,
        caller.get("/admin/webhooks").await,
        caller.post("/admin/webhooks", json!({ "url": "https://hooks.example.org/x", "events": ["appointmentCreated"] })).await,
        delete(caller, "/admin/webhooks/1").await,
        caller.get("/admin/webhooks/1/deliveries").await,
        caller.post("/admin/webhooks/1/deliveries/1/redeliver", json!({})).await,
    ]
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
    api.store.create_credential(api.clinic_id, None, "spare-admin", CredentialKind::Admin, None, api.now()).await.unwrap();
    let before = audit_rows(&api).await;
    for (who, caller) in [
        ("the demo bot", api.as_user("demo", DEMO_KEY)),
        ("the demo voice bot", api.as_user("demo-voice", DEMO_VOICE_KEY)),
        ("a staff credential", api.as_user("front-desk", &staff.key)),
        ("a wrong key", api.as_user("spare-admin", "bk_wrong")),
    ] {
        for answer in every_admin_route(&caller, &doc.body).await {
            // Wrong keys for one user id answer 429 once they are too many (see bot_api).
            let throttled = who == "a wrong key" && (answer.status, answer.code()) == (429, "rate_limited");
            assert!(throttled || (answer.status, answer.code()) == (401, "unauthorized"), "{who}: {}", answer.body);
        }
    }
    assert_eq!(audit_rows(&api).await, before, "no refused call wrote anything");
    assert_eq!(api.count("SELECT COUNT(*) FROM api_credentials WHERE username = 'intruder-bot'").await, 0);
    // Another clinic's admin sees its own clinic and cannot write this one's document, nor
    // touch its users, lines or subscriptions.
    let other = api.as_user("east-admin", &east_admin.key);
    assert_eq!(other.get("/admin/clinic").await.body["slug"], "east");
    let refused = put_doc(&other, "", &doc.body).await;
    assert_eq!((refused.status, refused.code()), (422, "invalid_field"), "{}", refused.body);
    assert_eq!(refused.body["error"]["details"]["field"], "slug");
    let hook = admin.post("/admin/webhooks", json!({ "url": "https://hooks.example.org/demo", "events": ["appointmentCreated"] })).await;
    assert_eq!(hook.status, 201, "{}", hook.body);
    let hook_id = hook.body["id"].as_str().unwrap().to_owned();
    let before = audit_rows(&api).await;
    for answer in [
        other.post("/admin/credentials/demo/rotate", json!({})).await,
        other.post("/admin/credentials/demo/revoke", json!({})).await,
        delete(&other, "/admin/voice-lines/%2B4930123456").await,
        delete(&other, &format!("/admin/webhooks/{hook_id}")).await,
        other.get(&format!("/admin/webhooks/{hook_id}/deliveries")).await,
    ] {
        assert_eq!((answer.status, answer.code()), (404, "not_found"), "{}", answer.body);
    }
    let lent = other.post("/admin/voice-lines", json!({ "sipId": "+4930777", "userId": "demo-voice" })).await;
    assert_eq!((lent.status, lent.body["error"]["details"]["field"].as_str()), (422, Some("userId")), "{}", lent.body);
    assert_eq!(other.get("/admin/credentials").await.body["credentials"].as_array().unwrap().len(), 1, "only its own user");
    assert_eq!(other.get("/admin/voice-lines").await.body["voiceLines"], json!([]));
    assert_eq!(other.get("/admin/webhooks").await.body["webhooks"], json!([]));
    assert_eq!(audit_rows(&api).await, before, "nothing was written");
    assert_eq!(api.get("/calendars").await.status, 200, "the demo bot's key still works");

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

async fn an_admin_credential_manages_the_clinics_users_phone_lines_and_webhooks(db: TestDb) {
    let (api, admin) = spawn(db).await;
    let listed = admin.get("/admin/credentials").await;
    assert_eq!(listed.status, 200);
    let users: Vec<(&str, &str)> = listed.body["credentials"].as_array().unwrap().iter()
        .map(|c| (c["userId"].as_str().unwrap(), c["kind"].as_str().unwrap())).collect();
    assert!(users.contains(&("demo", "bot")) && users.contains(&("demo-voice", "voice")) && users.contains(&("demo-admin", "admin")), "{users:?}");
    assert!(!listed.body.to_string().contains(DEMO_KEY), "keys are never listed");

    // A branch's bot: created with its key shown once, which works at once.
    let location = api.store.clinic_catalogue(api.clinic_id).await.unwrap().locations[0].id;
    let expires = (api.now() + Duration::days(120)).to_rfc3339();
    let created = admin.post("/admin/credentials", json!({ "user_id": "branch-bot", "kind": "bot", "locationId": location, "expiresAt": expires })).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let key = created.body["apiKey"].as_str().unwrap().to_owned();
    assert_eq!(api.as_user("branch-bot", &key).get("/calendars").await.status, 200);
    let row = admin.get("/admin/credentials").await.body["credentials"].as_array().unwrap().iter()
        .find(|c| c["userId"] == "branch-bot").cloned().unwrap();
    assert_eq!(row["locationId"], location.to_string());
    assert_eq!(row["keys"].as_array().unwrap().len(), 1);
    assert_eq!(row["keys"][0]["prefix"], &key[..7]);

    // Rotated twice: the first key stops; revoked: none works, and the user stays listed.
    let second = admin.post("/admin/credentials/branch-bot/rotate", json!({})).await;
    assert_eq!((second.status, second.body["revokedKeys"].as_u64()), (201, Some(0)), "{}", second.body);
    let third = admin.post("/admin/credentials/branch-bot/rotate", json!({})).await;
    assert_eq!(third.body["revokedKeys"], 1);
    assert_eq!(api.as_user("branch-bot", &key).get("/calendars").await.status, 401);
    let third_key = third.body["apiKey"].as_str().unwrap().to_owned();
    let revoked = admin.post("/admin/credentials/branch-bot/revoke", json!({})).await;
    assert_eq!((revoked.status, revoked.body["revokedKeys"].as_u64()), (200, Some(2)), "{}", revoked.body);
    assert_eq!(api.as_user("branch-bot", &third_key).get("/calendars").await.status, 401);

    // A voice user of the clinic gets a phone line; calls to it are answered for the clinic.
    let voice = admin.post("/admin/credentials", json!({ "userId": "phone-vendor", "kind": "voice" })).await;
    assert_eq!(voice.status, 201, "{}", voice.body);
    let line = admin.post("/admin/voice-lines", json!({ "sip_id": " +49 30 555 0101 ", "username": "phone-vendor" })).await;
    assert_eq!((line.status, line.body["sipId"].as_str()), (201, Some("+49 30 555 0101")), "{}", line.body);
    let phone = api.as_user("phone-vendor", voice.body["apiKey"].as_str().unwrap());
    let call = phone.send(phone.http.post(format!("{}/api/voicebot", api.base)).json(&json!({ "action": "getEntityForSipId", "sipId": "+49 30 555 0101" }))).await;
    assert_eq!((call.status, &call.body), (200, &json!({ "entityId": "demo" })));
    let lines = admin.get("/admin/voice-lines").await.body;
    assert!(lines["voiceLines"].as_array().unwrap().iter().any(|l| l["sipId"] == "+49 30 555 0101" && l["userId"] == "phone-vendor"), "{lines}");
    assert_eq!(delete(&admin, "/admin/voice-lines/%2B49%2030%20555%200101").await.status, 204);
    assert_eq!(delete(&admin, "/admin/voice-lines/%2B49%2030%20555%200101").await.status, 404);

    // Subscriptions: the admin sees and manages the clinic's, whoever made them.
    let by_bot = api.post("/webhooks", json!({ "url": "https://hooks.example.org/bot", "events": ["appointmentCreated"] })).await;
    assert_eq!(by_bot.status, 201, "{}", by_bot.body);
    let mine = admin.post("/admin/webhooks", json!({ "url": "https://hooks.example.org/crm", "events": ["appointmentCreated", "appointmentCanceled"], "description": "CRM" })).await;
    assert_eq!(mine.status, 201, "{}", mine.body);
    assert!(mine.body["secret"].as_str().unwrap().starts_with("whsec_"));
    let hooks = admin.get("/admin/webhooks").await.body;
    assert_eq!(hooks["webhooks"].as_array().unwrap().len(), 2, "{hooks}");
    assert!(hooks["webhooks"].as_array().unwrap().iter().all(|h| h["secret"].is_null()), "secrets are shown once");
    let id = by_bot.body["id"].as_str().unwrap();
    assert_eq!(admin.get(&format!("/admin/webhooks/{id}/deliveries")).await.body, json!({ "deliveries": [] }));
    assert_eq!(delete(&admin, &format!("/admin/webhooks/{id}")).await.status, 204);
    assert_eq!(api.get("/webhooks").await.body["webhooks"].as_array().unwrap().len(), 1);

    let audit = admin.get("/admin/audit?limit=500").await.body;
    let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter()
        .filter(|e| e["actor"] == "api:demo-admin").map(|e| e["action"].as_str().unwrap()).collect();
    for action in ["credential.create", "credential.rotate", "credential.revoke", "voiceLine.add", "voiceLine.remove", "webhook.create", "webhook.delete"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let listed = api.get("/openapi.json").await.body;
    for path in ["/api/v1/admin/credentials", "/api/v1/admin/voice-lines/{sipId}", "/api/v1/admin/webhooks/{id}/deliveries"] {
        assert!(listed["paths"][path].is_object(), "{path} in the OpenAPI document");
    }
}

async fn bad_credentials_lines_and_webhooks_are_refused_naming_the_field_and_change_nothing(db: TestDb) {
    let (api, admin) = spawn(db).await;
    let location = api.store.clinic_catalogue(api.clinic_id).await.unwrap().locations[0].id;
    let east = another_clinic(&api.store, "east").await;
    store::testing::execute(&api.store, &format!("INSERT INTO locations (clinic_id, name, address, time_zone) VALUES ({east}, 'East', 'Street 1', 'Europe/Berlin')")).await;
    let east_location = store::testing::scalar_i64(&api.store, &format!("SELECT id FROM locations WHERE clinic_id = {east}")).await;
    let soon = (api.now() + Duration::days(10)).to_rfc3339();
    let bad_credentials = [
        (json!({ "userId": "ab", "kind": "bot" }), "userId"),
        (json!({ "userId": "Has Space", "kind": "bot" }), "userId"),
        (json!({ "userId": "demo", "kind": "bot" }), "userId"),
        (json!({ "userId": "new-user", "kind": "owner" }), "kind"),
        (json!({ "userId": "new-user", "kind": "admin", "locationId": location }), "location"),
        (json!({ "userId": "new-user", "kind": "bot", "locationId": "abc" }), "locationId"),
        (json!({ "userId": "new-user", "kind": "bot", "locationId": 999999 }), "locationId"),
        (json!({ "userId": "new-user", "kind": "bot", "expiresAt": "tomorrow" }), "expiresAt"),
        (json!({ "userId": "new-user", "kind": "bot", "expiresAt": soon }), "expiresAt"),
        (json!({ "userId": "new-user", "kind": "bot", "locationId": east_location }), "locationId"),
    ];
    let before = audit_rows(&api).await;
    for (body, field) in bad_credentials {
        let a = admin.post("/admin/credentials", body.clone()).await;
        assert_eq!((a.status, a.code()), (422, "invalid_field"), "{body}: {}", a.body);
        assert_eq!(a.body["error"]["details"]["field"], field, "{body}");
    }
    for (body, status) in [(json!({ "userId": "x", "kind": "bot", "secret": 1 }), 422), (json!({ "kind": "bot" }), 422)] {
        assert_eq!(admin.post("/admin/credentials", body.clone()).await.status, status, "{body}");
    }
    let not_json = admin.send(admin.http.post(format!("{}/api/v1/admin/credentials", api.base)).body("userId=x")).await;
    assert_eq!((not_json.status, not_json.code()), (415, "unsupported_media_type"));
    for user in ["nobody", "east-nobody"] {
        assert_eq!(admin.post(&format!("/admin/credentials/{user}/rotate"), json!({})).await.status, 404);
        assert_eq!(admin.post(&format!("/admin/credentials/{user}/revoke"), json!({})).await.status, 404);
    }
    let short = admin.post("/admin/credentials/demo/rotate", json!({ "expiresAt": soon })).await;
    assert_eq!(short.body["error"]["details"]["field"], "expiresAt", "{}", short.body);

    for (body, field) in [
        (json!({ "sipId": "", "userId": "demo-voice" }), "sipId"),
        (json!({ "sipId": "x".repeat(129), "userId": "demo-voice" }), "sipId"),
        (json!({ "sipId": "+4930 1", "userId": "demo" }), "userId"),
        (json!({ "sipId": "+4930 1", "userId": "nobody" }), "userId"),
    ] {
        let a = admin.post("/admin/voice-lines", body.clone()).await;
        assert_eq!((a.status, a.code()), (422, "invalid_field"), "{body}: {}", a.body);
        assert_eq!(a.body["error"]["details"]["field"], field, "{body}");
    }
    let taken = admin.get("/admin/voice-lines").await.body["voiceLines"][0]["sipId"].as_str().unwrap().to_owned();
    let again = admin.post("/admin/voice-lines", json!({ "sipId": taken, "userId": "demo-voice" })).await;
    assert_eq!(again.body["error"]["details"]["field"], "sipId", "{}", again.body);

    for (body, field) in [
        (json!({ "url": "http://hooks.example.org/x", "events": ["appointmentCreated"] }), "url"),
        (json!({ "url": "https://hooks.example.org/x", "events": ["appointmentEaten"] }), "events"),
        (json!({ "url": "https://hooks.example.org/x", "events": ["appointmentCreated"], "description": "x".repeat(201) }), "description"),
    ] {
        let a = admin.post("/admin/webhooks", body.clone()).await;
        assert_eq!((a.status, a.code()), (422, "invalid_field"), "{body}: {}", a.body);
        assert_eq!(a.body["error"]["details"]["field"], field, "{body}");
    }
    assert_eq!(delete(&admin, "/admin/webhooks/abc").await.status, 404);
    assert_eq!(admin.get("/admin/webhooks/1/deliveries?limit=0").await.status, 422);
    assert_eq!(audit_rows(&api).await, before, "nothing was written");
    assert_eq!(admin.get("/admin/credentials").await.body["credentials"].as_array().unwrap().len(), 3);
}

on_both_backends!(
    an_admin_credential_manages_the_clinics_users_phone_lines_and_webhooks,
    bad_credentials_lines_and_webhooks_are_refused_naming_the_field_and_change_nothing,
    only_an_admin_credential_of_the_clinic_gets_in_and_nothing_changes_otherwise,
    a_clinic_document_round_trips_and_a_change_is_dry_run_applied_and_audited,
    bad_documents_are_refused_naming_the_key_and_change_nothing,
    a_document_that_strands_a_booking_is_refused_listing_it_until_kept,
);
