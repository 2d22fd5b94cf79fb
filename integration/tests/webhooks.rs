//! Webhooks end to end over real HTTP on both backends: subscriptions through the API, changes
//! made through the bot and staff APIs, the delivery worker, and a real local receiver that
//! verifies both signature schemes and can fail, stall, redirect or say 410 Gone.

mod support;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use domain::outbound::AllowHosts;
use serde_json::{json, Value};
use server::api::ApiOptions;
use server::webhooks::DeliveryOptions;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::credentials::CredentialKind;
use store::on_both_backends;
use store::testing::{another_clinic, test_clock, TestDb};
use store::Clock;
use support::{spawn_with, Api};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// A bot vendor's own shared secret, in no particular form.
const VENDOR_SECRET: &str = "vendor-shared-secret: 7f3a9c!";

/// The receiver's own check, written as an integrator would from the README and not with the
/// project's signing code: `X-Webhook-Signature` is keyed with the secret's UTF-8 bytes;
/// `webhook-signature` with the base64-decoded part of a `whsec_` secret, else the same bytes.
fn verifies(secret: &str, headers: &HeaderMap, body: &[u8], now: i64) -> bool {
    use base64::Engine;
    use hmac::{Hmac, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let hmac = |key: &[u8], parts: &[&[u8]]| {
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
        parts.iter().for_each(|p| m.update(p));
        m.finalize().into_bytes().to_vec()
    };
    let vendor = format!("sha256={}", hex::encode(hmac(secret.as_bytes(), &[body])));
    let standard_key = match secret.strip_prefix("whsec_") {
        Some(encoded) => b64.decode(encoded).unwrap(),
        None => secret.as_bytes().to_vec(),
    };
    let (id, timestamp) = (header("webhook-id"), header("webhook-timestamp"));
    let fresh = timestamp.parse::<i64>().is_ok_and(|t| (now - t).abs() <= 300);
    let expected = b64.encode(hmac(&standard_key, &[id.as_bytes(), b".", timestamp.as_bytes(), b".", body]));
    let standard = header("webhook-signature").split(' ').any(|s| s.strip_prefix("v1,") == Some(expected.as_str()));
    header("x-webhook-signature") == vendor && fresh && standard && !id.is_empty()
}

/// One request as the receiver saw it, after checking both signatures.
#[derive(Debug, Clone)]
struct Received {
    path: String,
    id: String,
    body: Value,
}

struct Inbox {
    received: Vec<Received>,
    /// Requests per (path, event id), to fail or stall only the first.
    seen: HashMap<(String, String), u32>,
    forged: u32,
    /// The receiver checks timestamps against the suite's clock, as the server signs with it.
    clock: Clock,
}

#[derive(Clone)]
struct Receiver {
    base: String,
    inbox: Arc<Mutex<Inbox>>,
}

/// What a receiver does: verify both schemes as the documentation tells integrators to,
/// then answer as its path says.
async fn receive(State(inbox): State<Arc<Mutex<Inbox>>>, Path(path): Path<String>, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let id = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    let now = inbox.lock().unwrap().clock.now().timestamp();
    let secret = if path.starts_with("vendor") { VENDOR_SECRET } else { SECRET };
    let verified = verifies(secret, &headers, &body, now);
    let n = {
        let mut inbox = inbox.lock().unwrap();
        if !verified {
            inbox.forged += 1;
            return StatusCode::UNAUTHORIZED.into_response();
        }
        let count = inbox.seen.entry((path.clone(), id.clone())).or_default();
        *count += 1;
        let n = *count;
        let body = serde_json::from_slice(&body).expect("deliveries are JSON");
        inbox.received.push(Received { path: path.clone(), id, body });
        n
    };
    match (path.as_str(), n) {
        ("flaky", 1) => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        ("slow", 1) => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            StatusCode::OK.into_response()
        }
        ("redirect", _) => (StatusCode::FOUND, [("location", "/hook/ok")]).into_response(),
        ("gone", _) => StatusCode::GONE.into_response(),
        _ => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn receiver() -> Receiver {
    let inbox = Arc::new(Mutex::new(Inbox { received: Vec::new(), seen: HashMap::new(), forged: 0, clock: test_clock() }));
    let app = Router::new().route("/hook/{path}", post(receive)).with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Receiver { base: format!("http://{addr}/hook"), inbox }
}

impl Receiver {
    fn received(&self, path: &str) -> Vec<Received> {
        self.inbox.lock().unwrap().received.iter().filter(|r| r.path == path).cloned().collect()
    }

    /// Waits until `done` holds for what `path` received, or fails after `secs`.
    async fn wait_for(&self, path: &str, secs: u64, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
        loop {
            let got = self.received(path);
            if done(&got) {
                assert_eq!(self.inbox.lock().unwrap().forged, 0, "every delivery verified");
                return got;
            }
            assert!(tokio::time::Instant::now() < deadline, "{path}: gave up waiting; got {got:#?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The demo server with plain http allowed to 127.0.0.1, and a delivery worker with a short
/// timeout and lease so that the retry cases finish within seconds.
async fn spawn(db: TestDb) -> Api {
    spawn_polling_every(db, Duration::from_millis(20)).await
}

async fn spawn_polling_every(db: TestDb, idle_poll: Duration) -> Api {
    let allow = AllowHosts::parse("127.0.0.1");
    let api = spawn_with(db, ApiOptions { webhook_allow_hosts: allow.clone(), ..Default::default() }).await;
    let options = DeliveryOptions {
        timeout: Duration::from_secs(1),
        lease: Duration::from_secs(3),
        idle_poll,
        clock: api.clock,
        ..DeliveryOptions::new(allow, Duration::from_secs(3))
    };
    let (stop, _) = server::webhooks::spawn(api.store.clone(), options);
    std::mem::forget(stop); // runs as long as the test
    api
}

async fn subscribe(api: &Api, url: &str, events: &[&str]) -> String {
    let secret = if url.contains("/vendor") { VENDOR_SECRET } else { SECRET };
    let created = api.post("/webhooks", json!({ "clinicId": api.clinic_id.to_string(), "url": url, "events": events, "secret": secret })).await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["id"].as_str().unwrap().to_owned()
}

async fn every_event_type_arrives_signed_with_the_patient_and_verifies(db: TestDb) {
    let api = spawn(db).await;
    let hooks = receiver().await;
    let all = ["appointmentCreated", "appointmentRescheduled", "appointmentCanceled", "appointmentCompleted", "appointmentNoShow", "patientCreated", "Queued"];
    subscribe(&api, &format!("{}/ok", hooks.base), &all).await;
    subscribe(&api, &format!("{}/vendor", hooks.base), &["appointmentCanceled"]).await;

    // A bot books, moves and cancels.
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let booked = api.book_new_patient(slots[0]["slotId"].as_str().unwrap(), "Hanna").await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    let id = booked.body["appointmentId"].as_str().unwrap().to_owned();
    let moved = api.put(&format!("/appointments/{id}/reschedule"), json!({ "slotId": slots[3]["slotId"] })).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(api.put(&format!("/appointments/{id}/cancel"), json!({ "reason": "feeling better" })).await.status, 200);

    // The front desk takes two walk-ins: one is seen, one never shows up.
    let issued = api.store.create_credential(api.clinic_id, None, "desk", CredentialKind::Staff, None, api.now()).await.unwrap();
    let desk = api.as_user("desk", &issued.key);
    let person = json!({ "name": "Wanda Walk", "dob": "1960-01-01", "phone": "+49 30 5550000", "email": "wanda@example.org" });
    let walk_in = desk.post("/staff/appointments", json!({ "calendarId": cal, "appointmentTypeId": kind, "walkIn": true, "patient": person })).await;
    assert_eq!(walk_in.status, 201, "{}", walk_in.body);
    let seen = walk_in.body["appointmentId"].as_str().unwrap().to_owned();
    let temporary = walk_in.body["temporaryPatientId"].as_str().unwrap().to_owned();
    assert_eq!(desk.post(&format!("/staff/appointments/{seen}/check-in"), json!({})).await.status, 200);
    assert_eq!(desk.post(&format!("/staff/appointments/{seen}/complete"), json!({})).await.status, 200);
    let cals = api.get("/calendars").await;
    let other_cal = cals.body["calendars"].as_array().unwrap().iter().find(|c| c["name"] == "Dr. Anna Weber").unwrap();
    let absent = desk
        .post("/staff/appointments", json!({ "calendarId": other_cal["id"], "appointmentTypeId": other_cal["appointmentTypes"][0]["id"], "walkIn": true, "temporaryPatientId": temporary }))
        .await;
    assert_eq!(absent.status, 201, "{}", absent.body);
    let absent_id = absent.body["appointmentId"].as_str().unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await; // no-show only after the start
    let no_show = desk.post(&format!("/staff/appointments/{absent_id}/no-show"), json!({})).await;
    assert_eq!(no_show.status, 200, "{}", no_show.body);
    assert_eq!(desk.post(&format!("/staff/patients/{temporary}/register"), json!({})).await.status, 200);

    let got = hooks.wait_for("ok", 20, |r| all.iter().all(|t| r.iter().any(|x| x.body["type"] == *t))).await;
    // Every field sent is one the OpenAPI document describes.
    let doc = api.send(api.http.get(format!("{}/api/v1/openapi.json", api.base))).await.body;
    let documented = |schema: &str| doc["components"]["schemas"][schema]["properties"].as_object().unwrap_or_else(|| panic!("{schema}")).clone();
    let (event_fields, data_fields, patient_fields) = (documented("WebhookEvent"), documented("WebhookEventData"), documented("WebhookPatient"));
    for r in &got {
        for (fields, body) in [(&event_fields, &r.body), (&data_fields, &r.body["data"]), (&patient_fields, &r.body["data"]["patient"])] {
            for field in body.as_object().unwrap().keys() {
                assert!(fields.contains_key(field), "{field} of {} is documented", r.body["type"]);
            }
        }
    }
    for r in &got {
        assert_eq!(r.body["id"], r.id.as_str(), "webhook-id is the event id");
        assert_eq!(r.body["clinicId"], api.clinic_id.to_string());
        assert!(r.body["createdAt"].as_str().is_some_and(|t| t.ends_with('Z')), "{}", r.body);
        assert!(r.body["data"]["patient"]["name"].is_string(), "every event names its patient: {}", r.body);
    }
    let of = |t: &str| got.iter().find(|r| r.body["type"] == t).unwrap().body["data"].clone();
    // Three bookings were created; ordering is not promised, so pick the bot's by its id.
    let created = got.iter().map(|r| &r.body).find(|b| b["type"] == "appointmentCreated" && b["data"]["appointmentId"] == id.as_str()).unwrap()["data"].clone();
    assert_eq!(created["patient"]["name"], "Hanna Müller");
    assert_eq!(created["patient"]["phone"], "+49301234567");
    assert_eq!(created["patient"]["email"], "j.m@example.org");
    assert_eq!(of("appointmentRescheduled")["appointmentId"], id.as_str());
    // A cancellation says what was cancelled, for a bot that never saw the booking.
    let canceled = of("appointmentCanceled");
    assert_eq!(canceled["appointmentId"], id.as_str());
    let appointment = api.get(&format!("/appointments/{id}")).await.body;
    for (field, expected) in [
        ("start", &appointment["start"]),
        ("end", &appointment["end"]),
        ("timeZone", &appointment["timeZone"]),
        ("calendarId", &appointment["calendarId"]),
        ("calendarName", &appointment["calendarName"]),
        ("appointmentTypeId", &appointment["appointmentTypeId"]),
        ("appointmentTypeName", &appointment["appointmentTypeName"]),
    ] {
        assert!(!expected.is_null(), "{field} in {appointment}");
        assert_eq!(&canceled[field], expected, "{field} in {canceled}");
    }
    assert_eq!(canceled["start"], slots[3]["start"], "the time it had when cancelled");
    assert_eq!(canceled["location"]["name"], appointment["location"]["name"]);
    assert_eq!(canceled["locationId"], appointment["location"]["id"]);
    assert_eq!(canceled["cancellationReason"], "feeling better");
    // Every appointment event carries the same description.
    for r in got.iter().filter(|r| r.body["data"]["appointmentId"].is_string()) {
        for field in ["start", "end", "calendarName", "appointmentTypeName", "locationId"] {
            assert!(r.body["data"][field].is_string(), "{field} in {}", r.body);
        }
    }
    // A subscriber with its own shared secret verifies both signatures with that secret's bytes.
    let vendor = hooks.wait_for("vendor", 10, |r| !r.is_empty()).await;
    assert_eq!(vendor[0].body["data"], canceled);
    assert_eq!(of("Queued")["queueNumber"], 1);
    assert_eq!(of("appointmentCompleted")["appointmentId"], seen.as_str());
    assert_eq!(of("appointmentNoShow")["appointmentId"], absent_id);
    let registered = of("patientCreated");
    assert_eq!(registered["temporaryPatientId"], temporary.as_str());
    assert!(registered["patientId"].as_str().is_some_and(|p| p.parse::<i64>().is_ok()), "{registered}");
}

async fn failed_and_timed_out_attempts_are_retried_with_the_same_event_id(db: TestDb) {
    let api = spawn(db).await;
    let hooks = receiver().await;
    let flaky = subscribe(&api, &format!("{}/flaky", hooks.base), &["appointmentCreated"]).await;
    subscribe(&api, &format!("{}/slow", hooks.base), &["appointmentCreated"]).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    assert_eq!(api.book_new_patient(slots[0]["slotId"].as_str().unwrap(), "Rita").await.status, 201);

    // 500, then the first retry (about 5 s later) is accepted.
    let got = hooks.wait_for("flaky", 20, |r| r.len() >= 2).await;
    assert_eq!(got[0].id, got[1].id, "the same event id on every attempt");
    assert_eq!(got[0].body, got[1].body, "the same body");
    // The server records an attempt after the receiver has answered it: wait for the record.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = api.get(&format!("/webhooks/{flaky}/deliveries")).await;
        assert_eq!(log.status, 200, "{}", log.body);
        let settled = log.body["deliveries"].as_array().unwrap().iter().filter(|a| a["statusCode"].is_number()).count();
        if settled >= 2 || tokio::time::Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let attempts = log.body["deliveries"].as_array().unwrap();
    let codes: Vec<Value> = attempts.iter().map(|a| a["statusCode"].clone()).collect();
    assert_eq!(codes, [json!(204), json!(500)], "newest first");
    assert!(attempts.iter().all(|a| a["state"] == "delivered" && a["latencyMs"].as_i64().is_some()));

    // The receiver that stalls past the timeout gets it again.
    let slow = hooks.wait_for("slow", 20, |r| r.len() >= 2).await;
    assert_eq!(slow[0].id, slow[1].id);

    // Redelivery on request: once more, same id.
    let delivery = attempts[0]["deliveryId"].as_str().unwrap();
    let again = api.post(&format!("/webhooks/{flaky}/deliveries/{delivery}/redeliver"), json!({})).await;
    assert_eq!((again.status, again.body["state"].as_str()), (202, Some("pending")), "{}", again.body);
    let got = hooks.wait_for("flaky", 10, |r| r.len() >= 3).await;
    assert_eq!(got[2].id, got[0].id);
}

async fn redirects_are_not_followed_and_410_disables_the_subscription(db: TestDb) {
    let api = spawn(db).await;
    let hooks = receiver().await;
    let redirect = subscribe(&api, &format!("{}/redirect", hooks.base), &["appointmentCreated"]).await;
    let gone = subscribe(&api, &format!("{}/gone", hooks.base), &["appointmentCreated"]).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    assert_eq!(api.book_new_patient(slots[0]["slotId"].as_str().unwrap(), "Gina").await.status, 201);
    hooks.wait_for("redirect", 10, |r| !r.is_empty()).await;
    hooks.wait_for("gone", 10, |r| !r.is_empty()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let listed = loop {
        let listed = api.get("/webhooks").await;
        let gone_one = listed.body["webhooks"].as_array().unwrap().iter().find(|w| w["id"] == gone.as_str()).unwrap().clone();
        if gone_one["enabled"] == false || tokio::time::Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let hooks_now = listed.body["webhooks"].as_array().unwrap();
    let gone_one = hooks_now.iter().find(|w| w["id"] == gone.as_str()).unwrap();
    assert_eq!((gone_one["enabled"].as_bool(), gone_one["disabledReason"].as_str()), (Some(false), Some("the receiver answered 410 Gone")));
    assert!(hooks_now.iter().all(|w| w.get("secret").is_none()), "secrets are shown only once");

    // Results are recorded in batches: the redirect's may come a moment after the 410's.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let log = loop {
        let log = api.get(&format!("/webhooks/{redirect}/deliveries")).await;
        if log.body["deliveries"][0]["statusCode"].is_number() || tokio::time::Instant::now() > deadline {
            break log;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let first = &log.body["deliveries"][0];
    assert_eq!((first["statusCode"].as_i64(), first["error"].as_str(), first["state"].as_str()), (Some(302), Some("redirect not followed"), Some("pending")));
    assert!(hooks.received("ok").is_empty(), "the redirect target was never called");

    let delivery = api.get(&format!("/webhooks/{gone}/deliveries")).await.body["deliveries"][0]["deliveryId"].as_str().unwrap().to_owned();
    let refused = api.post(&format!("/webhooks/{gone}/deliveries/{delivery}/redeliver"), json!({})).await;
    assert_eq!((refused.status, refused.code()), (409, "webhook_disabled"));
}

async fn subscriptions_are_validated_limited_to_25_and_private_to_their_clinic(db: TestDb) {
    let api = spawn(db).await;
    let clinic = api.clinic_id.to_string();
    let good = json!({ "clinicId": clinic, "url": "https://hooks.example.org/a", "events": ["Queued"] });
    let created = api.post("/webhooks", good.clone()).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let secret = created.body["secret"].as_str().unwrap();
    use base64::Engine;
    let generated = secret.strip_prefix("whsec_").map(|k| base64::engine::general_purpose::STANDARD.decode(k));
    assert!(generated.is_some_and(|k| k.is_ok_and(|k| k.len() == 32)), "a generated secret holds 32 random bytes: {secret}");
    assert_eq!(created.body["events"], json!(["Queued"]));
    assert_eq!(created.body["enabled"], true);

    let with = |field: &str, value: Value| {
        let mut body = good.clone();
        body[field] = value;
        body
    };
    for (body, status, code) in [
        (with("url", json!("http://hooks.example.org/a")), 422, "invalid_field"),
        // 127.0.0.1 is this test server's trusted host; every other loopback address is not.
        (with("url", json!("https://127.0.0.2/")), 422, "invalid_field"),
        (with("url", json!("https://localhost/")), 422, "invalid_field"),
        (with("url", json!("https://10.0.0.8/")), 422, "invalid_field"),
        (with("url", json!("https://172.20.1.1/")), 422, "invalid_field"),
        (with("url", json!("https://192.168.0.10/")), 422, "invalid_field"),
        (with("url", json!("https://169.254.169.254/latest/meta-data/")), 422, "invalid_field"),
        (with("url", json!("https://100.64.1.1/")), 422, "invalid_field"),
        (with("url", json!("https://224.0.0.251/")), 422, "invalid_field"),
        (with("url", json!("https://[::1]/")), 422, "invalid_field"),
        (with("url", json!("https://[fd00::1]/")), 422, "invalid_field"),
        (with("url", json!("https://[fe80::1]/")), 422, "invalid_field"),
        (with("url", json!("https://[::ffff:127.0.0.1]/")), 422, "invalid_field"),
        (with("url", json!("https://[::ffff:169.254.169.254]/")), 422, "invalid_field"),
        (with("url", json!("https://0x7f000002/")), 422, "invalid_field"),
        (with("url", json!("https://user:pass@hooks.example.org/")), 422, "invalid_field"),
        (with("url", json!("hooks.example.org")), 422, "invalid_field"),
        (with("events", json!([])), 422, "invalid_field"),
        (with("events", json!(["appointmentCancelled"])), 422, "invalid_field"),
        (with("events", json!("Queued")), 422, "invalid_body"),
        (with("secret", json!("too-short")), 422, "invalid_field"),
        (with("secret", json!("a shared secret\nwith a line break")), 422, "invalid_field"),
        (with("secret", json!("whsec_c2hvcnRfc2hvcnRfc2hvcnQ=")), 422, "invalid_field"),
        (with("secret", json!("whsec_this is not base64 at all")), 422, "invalid_field"),
        (with("secret", json!(12345678901234567890u64)), 422, "invalid_body"),
        (with("description", json!("x".repeat(201))), 422, "invalid_field"),
        (with("clinicId", json!(-3)), 422, "invalid_field"),
        (with("clinicId", json!("abc")), 404, "not_found"), // a slug, not this clinic's
        (with("clinicId", json!("999999")), 404, "not_found"),
        (with("clinicId", json!("no-such-clinic")), 404, "not_found"),
    ] {
        let a = api.post("/webhooks", body.clone()).await;
        assert_eq!((a.status, a.code()), (status, code), "{body}: {}", a.body);
    }
    let malformed = api.send(api.http.post(format!("{}/api/v1/webhooks", api.base)).header("content-type", "application/json").body("{")).await;
    assert_eq!((malformed.status, malformed.code()), (400, "malformed_json"));
    assert_eq!(api.get("/webhooks").await.body["webhooks"].as_array().unwrap().len(), 1, "refusals created nothing");

    for n in 1..25 {
        let mut body = with("url", json!(format!("https://hooks.example.org/{n}")));
        if n == 1 {
            body.as_object_mut().unwrap().remove("clinicId"); // the caller's clinic
        }
        let a = api.post("/webhooks", body).await;
        assert_eq!((a.status, a.body["clinicId"].as_str()), (201, Some(clinic.as_str())), "{}", a.body);
    }
    let over = api.post("/webhooks", with("url", json!("https://hooks.example.org/26"))).await;
    assert_eq!((over.status, over.code()), (422, "invalid_field"), "the 26th: {}", over.body);

    // Another clinic sees none of them and cannot touch them.
    let other = another_clinic(&api.store, "other").await;
    let issued = api.store.create_credential(other, None, "other-bot", CredentialKind::Bot, None, api.now()).await.unwrap();
    let them = api.as_user("other-bot", &issued.key);
    assert_eq!(them.get("/webhooks").await.body["webhooks"], json!([]));
    let id = created.body["id"].as_str().unwrap();
    assert_eq!(them.send(them.http.delete(format!("{}/api/v1/webhooks/{id}", them.base))).await.status, 404);
    assert_eq!(them.get(&format!("/webhooks/{id}/deliveries")).await.status, 404);
    assert_eq!(them.post(&format!("/webhooks/{id}/deliveries/1/redeliver"), json!({})).await.status, 404);
    let theirs = them.post("/webhooks", json!({ "clinicId": clinic, "url": "https://evil.example.org/", "events": ["Queued"] })).await;
    assert_eq!(theirs.status, 404, "subscribing to another clinic's events");

    for (path, status) in [("/webhooks/abc/deliveries", 404), (&format!("/webhooks/{id}/deliveries?limit=0") as &str, 422), (&format!("/webhooks/{id}/deliveries?limit=101"), 422), (&format!("/webhooks/{id}/deliveries?since=1"), 400)] {
        assert_eq!(api.get(path).await.status, status, "{path}");
    }
    assert_eq!(api.post(&format!("/webhooks/{id}/deliveries/77/redeliver"), json!({})).await.status, 404);
    let deleted = api.send(api.http.delete(format!("{}/api/v1/webhooks/{id}", api.base))).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(api.get("/webhooks").await.body["webhooks"].as_array().unwrap().len(), 24);
}

async fn a_branch_credential_manages_only_its_own_subscriptions_and_hears_only_its_location(db: TestDb) {
    let api = spawn(db).await;
    let hooks = receiver().await;
    let location = |name: &str| {
        let store = api.store.clone();
        let sql = format!("SELECT id FROM locations WHERE name = '{name}'");
        async move { store::testing::scalar_i64(&store, &sql).await }
    };
    let branch = |user: &'static str, location: i64| {
        let api = &api;
        async move {
            let issued = api.store.create_credential(api.clinic_id, Some(location), user, CredentialKind::Bot, None, api.now()).await.unwrap();
            api.as_user(user, &issued.key)
        }
    };
    let orchard = branch("orchard-bot", location("Singapore Orchard").await).await;
    let mitte = branch("mitte-bot", location("Berlin Mitte").await).await;
    let events = ["appointmentCreated", "patientCreated"];
    let whole = subscribe(&api, &format!("{}/ok", hooks.base), &events).await;
    let orchards = subscribe(&orchard, &format!("{}/orchard", hooks.base), &events).await;
    let mittes = subscribe(&mitte, &format!("{}/mitte", hooks.base), &events).await;

    // Each branch sees and manages its own; the clinic's credential sees all three.
    let ids = |a: &support::Answer| a.body["webhooks"].as_array().unwrap().iter().map(|w| w["id"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert_eq!(ids(&orchard.get("/webhooks").await), [orchards.clone()]);
    assert_eq!(ids(&mitte.get("/webhooks").await), [mittes.clone()]);
    let all = api.get("/webhooks").await;
    assert_eq!(ids(&all), [whole.clone(), orchards.clone(), mittes.clone()]);
    assert_eq!(all.body["webhooks"][0]["locationId"], Value::Null, "the clinic's own hears every location");
    assert!(all.body["webhooks"][1]["locationId"].is_string(), "{}", all.body);
    for theirs in [&whole, &mittes] {
        assert_eq!(orchard.send(orchard.http.delete(format!("{}/api/v1/webhooks/{theirs}", orchard.base))).await.status, 404);
        assert_eq!(orchard.get(&format!("/webhooks/{theirs}/deliveries")).await.status, 404);
        assert_eq!(orchard.post(&format!("/webhooks/{theirs}/deliveries/1/redeliver"), json!({})).await.status, 404);
    }
    assert_eq!(api.get("/webhooks").await.body["webhooks"].as_array().unwrap().len(), 3, "nothing was deleted");

    // A booking in each city, and a patient registered: each branch hears its own city's
    // booking only, and no patient events (a patient belongs to no one location).
    let (cal, kind) = api.berlin_calendar().await;
    let berlin = api.book_new_patient(api.free_slots(&cal, &kind).await[0]["slotId"].as_str().unwrap(), "Bert").await;
    assert_eq!(berlin.status, 201, "{}", berlin.body);
    let cals = orchard.get("/calendars").await;
    let tan = &cals.body["calendars"][0];
    let (tan_cal, tan_kind) = (tan["id"].as_str().unwrap(), tan["appointmentTypes"][0]["id"].as_str().unwrap());
    let singapore = orchard.book_new_patient(orchard.free_slots(tan_cal, tan_kind).await[0]["slotId"].as_str().unwrap(), "Sina").await;
    assert_eq!(singapore.status, 201, "{}", singapore.body);
    let issued = api.store.create_credential(api.clinic_id, None, "desk", CredentialKind::Staff, None, api.now()).await.unwrap();
    let temporary = singapore.body["temporaryPatientId"].as_str().unwrap();
    assert_eq!(api.as_user("desk", &issued.key).post(&format!("/staff/patients/{temporary}/register"), json!({})).await.status, 200);

    hooks.wait_for("ok", 20, |r| r.iter().filter(|x| x.body["type"] == "appointmentCreated").count() == 2 && r.iter().any(|x| x.body["type"] == "patientCreated")).await;
    let heard = |path: &'static str| hooks.wait_for(path, 20, |r| !r.is_empty());
    let (orchard_heard, mitte_heard) = (heard("orchard").await, heard("mitte").await);
    assert_eq!(orchard_heard[0].body["data"]["appointmentId"], singapore.body["appointmentId"]);
    assert_eq!(mitte_heard[0].body["data"]["appointmentId"], berlin.body["appointmentId"]);
    // Deliveries are made when the events fan out, all at once: none other is coming.
    let owed = |subscription: &String| format!("SELECT COUNT(*) FROM webhook_deliveries WHERE subscription_id = {subscription}");
    for (subscription, count) in [(&whole, 3), (&orchards, 1), (&mittes, 1)] {
        assert_eq!(api.count(&owed(subscription)).await, count, "subscription {subscription}");
    }

    // The clinic revokes the branch's bot: its subscription hears nothing more.
    api.store.revoke_credential(&store::staff::Actor::cli(), api.clinic_id, "orchard-bot", api.now()).await.unwrap();
    let again = api.book_new_patient(api.free_slots(tan_cal, tan_kind).await[0]["slotId"].as_str().unwrap(), "Rolf").await;
    assert_eq!(again.status, 201, "{}", again.body);
    hooks.wait_for("ok", 20, |r| r.iter().filter(|x| x.body["type"] == "appointmentCreated").count() == 3).await;
    assert_eq!(api.count(&owed(&orchards)).await, 1, "a revoked integration's subscription is not delivered to");
}

async fn a_commit_wakes_the_worker_at_once_and_every_result_is_recorded(db: TestDb) {
    // The worker looks at the queue on its own only once a minute: what arrives within the
    // test's seconds came by the wake-up of the booking's commit.
    let api = spawn_polling_every(db, Duration::from_secs(60)).await;
    let hooks = receiver().await;
    let id = subscribe(&api, &format!("{}/ok", hooks.base), &["appointmentCreated"]).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    for (n, slot) in slots.iter().take(6).enumerate() {
        let booked = api.book_new_patient(slot["slotId"].as_str().unwrap(), &format!("Wake{n}")).await;
        assert_eq!(booked.status, 201, "{}", booked.body);
        hooks.wait_for("ok", 10, |r| r.len() == n + 1).await;
    }
    // Recorded (in batches), each delivered once: the log shows six delivered attempts.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let log = api.get(&format!("/webhooks/{id}/deliveries")).await;
        assert_eq!(log.status, 200, "{}", log.body);
        let attempts = log.body["deliveries"].as_array().unwrap().clone();
        if attempts.len() == 6 && attempts.iter().all(|a| a["state"] == "delivered" && a["statusCode"] == 204) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not all recorded: {attempts:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(hooks.received("ok").len(), 6, "none sent twice");
}

on_both_backends!(
    a_commit_wakes_the_worker_at_once_and_every_result_is_recorded,
    a_branch_credential_manages_only_its_own_subscriptions_and_hears_only_its_location,
    every_event_type_arrives_signed_with_the_patient_and_verifies,
    failed_and_timed_out_attempts_are_retried_with_the_same_event_id,
    redirects_are_not_followed_and_410_disables_the_subscription,
    subscriptions_are_validated_limited_to_25_and_private_to_their_clinic,
);
