//! The voice-bot endpoint over real HTTP on both backends: the contract's call sequence as a
//! real phone call makes it, each answer checked field by field against the contract's
//! examples, the webhook events it causes, and every action's refusals.

mod support;

use axum::routing::post;
use axum::Router;
use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Europe::{Berlin, London};
use chrono_tz::Tz;
use domain::outbound::AllowHosts;
use domain::patient::{PersonDetails, PersonName};
use serde_json::{json, Value};
use server::api::ApiOptions;
use server::webhooks::DeliveryOptions;
use std::sync::{Arc, Mutex};
use store::credentials::CredentialKind;
use store::on_both_backends;
use store::testing::{another_clinic, scalar_i64, TestDb};
use support::{spawn_with, Answer, Api, DEMO_KEY, DEMO_VOICE_KEY};

/// The demo server with a webhook worker, and a client speaking as the demo voice user.
async fn spawn(db: TestDb) -> (Api, Api) {
    let allow = AllowHosts::parse("127.0.0.1");
    let bot = spawn_with(db, ApiOptions { webhook_allow_hosts: allow.clone(), ..Default::default() }).await;
    let options = DeliveryOptions {
        idle_poll: std::time::Duration::from_millis(20),
        clock: bot.clock,
        ..DeliveryOptions::new(allow, std::time::Duration::from_secs(30))
    };
    std::mem::forget(server::webhooks::spawn(bot.store.clone(), options).0);
    let voice = bot.as_user("demo-voice", DEMO_VOICE_KEY);
    assert_eq!(bot.as_user("demo-voice", DEMO_KEY).voice(json!({ "action": "getBusinessName", "entityId": "demo" })).await.status, 401, "the demo's bot key is not its voice key");
    (bot, voice)
}

impl Api {
    async fn voice(&self, body: Value) -> Answer {
        self.send(self.http.post(format!("{}/api/voicebot", self.base)).json(&body)).await
    }
}

/// The events a receiver got: (type, source).
async fn receiver(bot: &Api) -> Arc<Mutex<Vec<Value>>> {
    let got: Arc<Mutex<Vec<Value>>> = Arc::default();
    let sink = got.clone();
    let app = Router::new().route(
        "/hook",
        post(move |body: axum::body::Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock().unwrap().push(serde_json::from_slice::<Value>(&body).unwrap());
                axum::http::StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let events = ["appointmentCreated", "appointmentRescheduled", "appointmentCanceled"];
    let sub = bot.post("/webhooks", json!({ "url": format!("http://{addr}/hook"), "events": events })).await;
    assert_eq!(sub.status, 201, "{}", sub.body);
    got
}

/// Physiotherapy as a call finds it: the type ids, its first product, and the free times of
/// the first day (three or more days ahead) that has any, for any agent.
struct Physio {
    general: String,
    physio: String,
    product: String,
    day: String,
    slots: Vec<Value>,
}

impl Api {
    async fn physio_times(&self) -> Physio {
        let types = self.voice(json!({ "action": "getAppointmentTypes", "entityId": "demo" })).await;
        let (general, physio) = (types.body[0]["id"].as_str().unwrap().to_owned(), types.body[1]["id"].as_str().unwrap().to_owned());
        let products = self.voice(json!({ "action": "getProducts", "entityId": "demo", "appointmentTypeId": physio })).await;
        let product = products.body[0]["id"].as_str().unwrap().to_owned();
        let day = self.first_day_with_times(self.berlin_date_ahead(3), &physio, None, &product).await.to_string();
        let slots = self.voice(json!({ "action": "getSlots", "appointmentTypeId": physio, "productId": product, "dateTime": day, "timezone": "Europe/Berlin" })).await;
        Physio { general, physio, product, day, slots: slots.body.as_array().unwrap().clone() }
    }

    /// The Berlin date `days` ahead: three or more lie outside the 24-hour change cutoff.
    fn berlin_date_ahead(&self, days: i64) -> NaiveDate {
        (self.now() + Duration::days(days)).with_timezone(&Berlin).date_naive()
    }

    /// The first Berlin day from `from` on which the agent (or any agent, for `None`) has
    /// free times of the product: weekends, holidays and days off are skipped by asking, as a
    /// bot would, not by a calendar rule.
    async fn first_day_with_times(&self, from: NaiveDate, physio: &str, agent: Option<&str>, product: &str) -> NaiveDate {
        let mut day = from;
        for _ in 0..21 {
            let slots = self
                .voice(json!({ "action": "getSlots", "appointmentTypeId": physio, "agentId": agent, "productId": product, "dateTime": day.to_string(), "timezone": "Europe/Berlin" }))
                .await;
            assert_eq!(slots.status, 200, "{}", slots.body);
            if !slots.body.as_array().unwrap().is_empty() {
                return day;
            }
            day += Duration::days(1);
        }
        panic!("no free time within three weeks of {from}");
    }
}

/// A Berlin wall-clock time on `day` in the contract's format, written in `zone`: the offsets
/// change with daylight saving time, so they are computed, never assumed.
fn contract_time(day: NaiveDate, hour: u32, zone: Tz) -> String {
    let at = Berlin.from_local_datetime(&day.and_hms_opt(hour, 0, 0).unwrap()).single().expect("an unambiguous hour");
    at.with_timezone(&zone).format("%Y-%m-%dT%H:%M:%S%.3f%:z").to_string()
}

/// `2024-09-16T08:00:00.000+01:00`: the contract's format, to the millisecond.
fn contract_format(s: &str) -> bool {
    let b = s.as_bytes();
    s.len() == 29 && b[10] == b'T' && &s[19..23] == ".000" && (b[23] == b'+' || b[23] == b'-') && b[26] == b':'
}

async fn a_phone_call_books_and_a_second_call_finds_moves_and_cancels(db: TestDb) {
    let (bot, voice) = spawn(db).await;
    let events = receiver(&bot).await;

    // First call: the caller books physiotherapy with Sophie Wagner for her son.
    let entity = voice.voice(json!({ "action": "getEntityForSipId", "sipId": "demo-sip" })).await;
    assert_eq!((entity.status, &entity.body), (200, &json!({ "entityId": "demo" })));
    let name = voice.voice(json!({ "action": "getBusinessName", "entityId": "demo" })).await;
    assert_eq!(name.body, json!({ "name": "Stadtpark Health Clinic" }));

    let types = voice.voice(json!({ "action": "getAppointmentTypes", "entityId": "demo" })).await;
    let names: Vec<&str> = types.body.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["General consultation", "Physiotherapy"]);
    for t in types.body.as_array().unwrap() {
        assert_eq!(t.as_object().unwrap().len(), 2, "exactly id and name: {t}");
    }
    let physio = types.body[1]["id"].as_str().unwrap().to_owned();

    let agents = voice.voice(json!({ "action": "getAgents", "entityId": "demo", "appointmentTypeId": physio })).await;
    assert_eq!(
        agents.body.as_array().unwrap().iter().map(|a| (a["firstname"].as_str().unwrap(), a["lastname"].as_str().unwrap(), a["gender"].as_str().unwrap())).collect::<Vec<_>>(),
        [("Jonas", "Keller", "male"), ("Sophie", "Wagner", "female")]
    );
    let wagner = agents.body[1]["id"].as_str().unwrap().to_owned();
    let general = types.body[0]["id"].as_str().unwrap();
    let doctors = voice.voice(json!({ "action": "getAgents", "entityId": "demo", "appointmentTypeId": general })).await;
    assert!(doctors.body.as_array().unwrap().iter().any(|a| a["firstname"] == "Anna" && a["lastname"] == "Weber"), "the title is not part of the name: {}", doctors.body);

    let products = voice.voice(json!({ "action": "getProducts", "entityId": "demo", "appointmentTypeId": physio })).await;
    assert_eq!(products.body.as_array().unwrap().len(), 2);
    let p30 = &products.body[0];
    assert_eq!((p30["name"].as_str(), p30["duration"].as_i64(), p30["price"].as_i64()), (Some("Physiotherapy 30 min"), Some(30), Some(45)));
    assert!(p30["description"].is_string() && p30["id"].is_string());
    let product = p30["id"].as_str().unwrap().to_owned();
    let with = voice.voice(json!({ "action": "getAppointmentTypesWithProducts", "entityId": "demo" })).await;
    assert_eq!(with.body[1]["products"], products.body, "the same products, nested");

    let day = voice.first_day_with_times(voice.berlin_date_ahead(3), &physio, Some(&wagner), &product).await;
    let slots = voice
        .voice(json!({ "action": "getSlots", "appointmentTypeId": physio, "agentId": wagner, "productId": product, "dateTime": day.to_string(), "timezone": "Europe/Berlin" }))
        .await;
    assert_eq!(slots.status, 200, "{}", slots.body);
    let list = slots.body.as_array().unwrap();
    assert!(list.len() >= 6, "{}", slots.body);
    for s in list {
        assert_eq!(s.as_object().unwrap().len(), 3, "avId, slotStart, slotEnd: {s}");
        let (start, end) = (s["slotStart"].as_str().unwrap(), s["slotEnd"].as_str().unwrap());
        assert!(contract_format(start) && contract_format(end), "{s}");
        assert!(start.starts_with(&day.to_string()));
    }
    assert_eq!(list[0]["slotStart"].as_str().unwrap(), contract_time(day, 8, Berlin), "Wagner starts at eight, Berlin time");
    // From a time on, in another zone: the same instants, written in that zone.
    let afternoon = voice
        .voice(json!({ "action": "getSlots", "appointmentTypeId": physio, "agentId": wagner, "productId": product, "dateTime": contract_time(day, 13, Berlin), "timezone": "Europe/London" }))
        .await;
    let first = afternoon.body[0]["slotStart"].as_str().unwrap();
    assert_eq!(first, contract_time(day, 13, London), "{}", afternoon.body);
    let any = voice.voice(json!({ "action": "getSlots", "appointmentTypeId": physio, "agentId": null, "productId": product, "dateTime": day.to_string(), "timezone": "Europe/Berlin" })).await;
    let any_starts: Vec<&str> = any.body.as_array().unwrap().iter().map(|s| s["slotStart"].as_str().unwrap()).collect();
    assert!(any_starts.len() >= list.len(), "any agent offers at least Wagner's times");
    assert!(any_starts.windows(2).all(|w| w[0] < w[1]), "each time once, in order: {any_starts:?}");

    let info = voice.voice(json!({ "action": "getRequiredInfo", "productId": product })).await;
    assert_eq!(info.body, json!({ "bookerInfo": ["firstname", "lastname", "phone", "email", "dob"], "participantInfo": ["firstname", "lastname", "dob"] }));

    let slot = list[2].clone();
    let booked = voice
        .voice(json!({
            "action": "bookAppointment", "appointmentTypeId": physio, "productId": product,
            "slotId": slot["avId"], "start": slot["slotStart"],
            // The bot's own id for its caller is no id of ours: the details decide.
            "booker": { "id": "caller-4711", "firstname": "Max", "lastlame": "Mustermann", "email": "max.mustermann@mailinator.com", "dob": "1985-07-25",
                        "phone": "+49-341-1234567", "street": "Beispiel Str. 2", "zip": "01044", "city": "Musterstadt", "country": "Musterland" },
            "participant": { "firstname": "Moritz", "lastlame": "Mustermann", "dob": "2012-03-04" },
        }))
        .await;
    assert_eq!(booked.status, 200, "{}", booked.body);
    assert_eq!((booked.body["success"].as_bool(), booked.body["status"].as_str()), (Some(true), Some("booked")));
    assert_eq!((booked.body["slotId"].as_str(), booked.body["start"].as_str()), (slot["avId"].as_str(), slot["slotStart"].as_str()));
    let booking = booked.body["bookingId"].as_str().unwrap().to_owned();
    let again = voice.voice(json!({ "action": "getSlots", "appointmentTypeId": physio, "agentId": wagner, "productId": product, "dateTime": day.to_string(), "timezone": "Europe/Berlin" })).await;
    assert!(!again.body.as_array().unwrap().iter().any(|s| s["avId"] == slot["avId"]), "the time is gone");

    // Second call: Moritz's namesake exists; the bot tells them apart by date of birth.
    let clinic = bot.clinic_id;
    let namesake = PersonDetails {
        first_name: Some(PersonName::parse("Moritz").unwrap()),
        last_name: Some(PersonName::parse("Mustermann").unwrap()),
        birth_date: NaiveDate::from_ymd_opt(1950, 1, 1),
        ..Default::default()
    };
    bot.store.create_patient(clinic, &namesake, true, bot.now()).await.unwrap();
    for scant in [json!({ "firstname": "moritz", "lastname": "MUSTERMANN" }), json!({ "firstname": "Moritz" }), json!({ "dob": "2012-03-04" })] {
        let a = voice.voice(json!({ "action": "findExistingUser", "participant": scant })).await;
        assert_eq!((a.status, a.body["error"]["details"]["field"].as_str()), (422, Some("participant")), "a name alone reads out no one's details: {}", a.body);
    }
    let one = voice.voice(json!({ "action": "findExistingUser", "participant": { "firstname": "Moritz", "lastlame": "Müstermann", "dob": "2012-03-04" } })).await;
    assert_eq!(one.body.as_array().unwrap().len(), 1, "accents do not matter, dob decides: {}", one.body);
    let user = one.body[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(one.body[0]["dob"], "2012-03-04");
    assert_eq!(one.body[0]["lastname"], one.body[0]["lastlame"], "both spellings");
    // The booker, by name and phone in another form, with the address as it was given.
    let max = voice.voice(json!({ "action": "findExistingUser", "participant": { "lastname": "mustermann", "phone": "+49 341 1234567" } })).await;
    assert_eq!(max.body.as_array().unwrap().len(), 1, "{}", max.body);
    let address: Vec<&str> = ["firstname", "street", "zip", "city", "country"].iter().map(|f| max.body[0][*f].as_str().unwrap()).collect();
    assert_eq!(address, ["Max", "Beispiel Str. 2", "01044", "Musterstadt", "Musterland"]);
    assert_eq!(max.body[0]["id"], booked.body["bookerId"]);
    // Many namesakes born the same day: a few are read out, never the clinic's list.
    let erika = PersonDetails {
        first_name: Some(PersonName::parse("Erika").unwrap()),
        last_name: Some(PersonName::parse("Muster").unwrap()),
        birth_date: NaiveDate::from_ymd_opt(1970, 1, 1),
        ..Default::default()
    };
    for _ in 0..7 {
        bot.store.create_patient(clinic, &erika, true, bot.now()).await.unwrap();
    }
    let many = voice.voice(json!({ "action": "findExistingUser", "participant": { "firstname": "Erika", "lastname": "Muster", "dob": "1970-01-01" } })).await;
    assert_eq!(many.body.as_array().unwrap().len(), 5, "{}", many.body);

    let bookings = voice.voice(json!({ "action": "findExistingBooking", "id": user })).await;
    assert_eq!(bookings.body.as_array().unwrap().len(), 1, "{}", bookings.body);
    let found = &bookings.body[0];
    assert_eq!((found["bookingId"].as_str(), found["name"].as_str(), found["productId"].as_str()), (Some(booking.as_str()), Some("Physiotherapy 30 min"), Some(product.as_str())));
    assert_eq!((found["slotId"].as_str(), found["start"].as_str()), (slot["avId"].as_str(), slot["slotStart"].as_str()));

    let later_day = voice.first_day_with_times(day + Duration::days(1), &physio, Some(&wagner), &product).await;
    let later = voice.voice(json!({ "action": "getSlots", "appointmentTypeId": physio, "agentId": wagner, "productId": product, "dateTime": later_day.to_string(), "timezone": "Europe/Berlin" })).await;
    let new_slot = later.body[0].clone();
    let moved = voice
        .voice(json!({ "action": "modifyAppointment", "bookingId": booking, "slotIdOld": found["slotId"], "slotIdNew": new_slot["avId"], "start": new_slot["slotStart"] }))
        .await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!((moved.body["success"].as_bool(), moved.body["start"].as_str()), (Some(true), new_slot["slotStart"].as_str()));
    let stale = voice.voice(json!({ "action": "cancelAppointment", "bookingId": booking, "slotId": found["slotId"] })).await;
    assert_eq!((stale.status, stale.code()), (422, "invalid_field"), "the old slot is no longer this booking's");
    let cancelled = voice.voice(json!({ "action": "cancelAppointment", "bookingId": booking, "slotId": new_slot["avId"], "start": new_slot["slotStart"] })).await;
    assert_eq!(cancelled.body, json!({ "success": true, "bookingId": booking, "status": "cancelled" }));
    let none = voice.voice(json!({ "action": "findExistingBooking", "id": user })).await;
    assert_eq!(none.body, json!([]), "no future bookings left");

    // The same engine, the same events: each change reached the clinic's webhook.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let got: Vec<(String, String)> = events
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["data"]["appointmentId"] == booking.as_str())
            .map(|e| (e["type"].as_str().unwrap().to_owned(), e["data"]["source"].as_str().unwrap_or("").to_owned()))
            .collect();
        if got.len() == 3 {
            let mut types: Vec<&str> = got.iter().map(|(t, _)| t.as_str()).collect();
            types.sort();
            assert_eq!(types, ["appointmentCanceled", "appointmentCreated", "appointmentRescheduled"]);
            assert_eq!(got.iter().find(|(t, _)| t == "appointmentCreated").unwrap().1, "voice_bot");
            break;
        }
        assert!(std::time::Instant::now() < deadline, "events: {got:?}");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn every_action_refuses_bad_input_and_changes_nothing(db: TestDb) {
    let (bot, voice) = spawn(db).await;
    let Physio { general, physio, product, day, slots } = voice.physio_times().await;
    let slot = slots[0].clone();
    let booker = json!({ "firstname": "Eva", "lastname": "Probe", "email": "eva@example.org", "dob": "1990-01-01", "phone": "030 1112223" });
    let count = |table: &'static str| {
        let store = bot.store.clone();
        async move { scalar_i64(&store, &format!("SELECT COUNT(*) FROM {table}")).await }
    };
    let (appointments, patients) = (count("appointments").await, count("patients").await);

    let unknown = voice.voice(json!({ "action": "bookTable" })).await;
    assert_eq!((unknown.status, unknown.code()), (400, "unknown_action"));
    assert_eq!(unknown.body["error"]["details"]["supported"].as_array().unwrap().len(), 13);
    assert!(unknown.body["error"]["message"].as_str().unwrap().contains("findExistingBooking"));

    let book = |extra: Value| {
        let mut body = json!({ "action": "bookAppointment", "appointmentTypeId": physio, "productId": product, "slotId": slot["avId"], "start": slot["slotStart"], "booker": booker });
        for (k, v) in extra.as_object().unwrap() {
            if v.is_null() {
                body.as_object_mut().unwrap().remove(k);
            } else {
                body[k] = v.clone();
            }
        }
        body
    };
    for (body, status, field) in [
        (json!({}), 422, "action"),
        (json!({ "action": 7 }), 422, "action"),
        (json!({ "action": "getEntityForSipId" }), 422, "sipId"),
        (json!({ "action": "getEntityForSipId", "sipId": "unknown-line" }), 404, ""),
        (json!({ "action": "getBusinessName" }), 422, "entityId"),
        (json!({ "action": "getBusinessName", "entityId": "other" }), 404, ""),
        (json!({ "action": "getAppointmentTypes", "entityId": ["demo"] }), 422, "entityId"),
        (json!({ "action": "getAgents", "entityId": "demo" }), 422, "appointmentTypeId"),
        (json!({ "action": "getAgents", "entityId": "demo", "appointmentTypeId": "abc" }), 422, "appointmentTypeId"),
        (json!({ "action": "getAgents", "entityId": "demo", "appointmentTypeId": "999999" }), 404, ""),
        (json!({ "action": "getProducts", "entityId": "demo" }), 422, "appointmentTypeId"),
        (json!({ "action": "getAppointmentTypesWithProducts" }), 422, "entityId"),
        (json!({ "action": "getSlots", "appointmentTypeId": physio, "productId": product, "timezone": "Europe/Berlin" }), 422, "dateTime"),
        (json!({ "action": "getSlots", "appointmentTypeId": physio, "productId": product, "dateTime": "16.09.2024" }), 422, "dateTime"),
        (json!({ "action": "getSlots", "appointmentTypeId": physio, "productId": product, "dateTime": day, "timezone": "Mars/Olympus" }), 422, "timezone"),
        (json!({ "action": "getSlots", "appointmentTypeId": general, "productId": product, "dateTime": day }), 422, "productId"),
        (json!({ "action": "getSlots", "appointmentTypeId": physio, "productId": product, "dateTime": day, "agentId": "1" }), 422, "agentId"),
        (json!({ "action": "getSlots", "appointmentTypeId": physio, "dateTime": day }), 422, "productId"),
        (json!({ "action": "getRequiredInfo" }), 422, "productId"),
        (json!({ "action": "getRequiredInfo", "productId": "999999" }), 404, ""),
        (book(json!({ "slotId": "not-a-slot" })), 422, "slotId"),
        (book(json!({ "slotId": null })), 422, "slotId"),
        (book(json!({ "start": "2020-01-01T08:00:00.000+01:00" })), 422, "start"),
        (book(json!({ "appointmentTypeId": general })), 422, "productId"),
        (book(json!({ "booker": null })), 422, "booker"),
        (book(json!({ "booker": "Eva" })), 422, "booker"),
        (book(json!({ "booker": { "firstname": "Eva", "lastname": "Probe" } })), 422, "booker.phone"),
        (book(json!({ "booker": { "firstname": "Eva", "lastname": "Probe", "email": "not-mail", "dob": "1990-01-01", "phone": "+49 30 1112223" } })), 422, "booker.email"),
        (book(json!({ "participant": { "firstname": "Kid" } })), 422, "participant.lastname"),
        // An id not ours is no refusal by itself; without details there is no one to book.
        (book(json!({ "booker": { "id": "999999" } })), 422, "booker.firstname"),
        (json!({ "action": "modifyAppointment", "slotIdNew": slot["avId"] }), 422, "bookingId"),
        (json!({ "action": "modifyAppointment", "bookingId": "999999", "slotIdNew": slot["avId"] }), 404, ""),
        (json!({ "action": "cancelAppointment" }), 422, "bookingId"),
        (json!({ "action": "findExistingUser" }), 422, "participant"),
        (json!({ "action": "findExistingUser", "participant": {} }), 422, "participant"),
        (json!({ "action": "findExistingUser", "participant": { "firstname": "Eva", "lastname": "Probe" } }), 422, "participant"),
        (json!({ "action": "findExistingUser", "participant": { "lastname": "Probe", "dob": "1.1.1990" } }), 422, "participant.dob"),
        (json!({ "action": "findExistingBooking" }), 422, "id"),
        (json!({ "action": "findExistingBooking", "id": "999999" }), 404, ""),
    ] {
        let a = voice.voice(body.clone()).await;
        assert_eq!(a.status, status, "{body}: {}", a.body);
        if !field.is_empty() {
            assert_eq!((a.code(), a.body["error"]["details"]["field"].as_str()), ("invalid_field", Some(field)), "{body}: {}", a.body);
        }
    }
    assert_eq!((count("appointments").await, count("patients").await), (appointments, patients), "refusals change nothing");

    // Not JSON, not an object, not a voice credential, not this endpoint's method.
    let raw = voice.send(voice.http.post(format!("{}/api/voicebot", voice.base)).header("content-type", "application/json").body("{")).await;
    assert_eq!((raw.status, raw.code()), (400, "malformed_json"));
    assert_eq!(voice.voice(json!(["getBusinessName"])).await.status, 422);
    assert_eq!(bot.voice(json!({ "action": "getBusinessName", "entityId": "demo" })).await.status, 401, "a bot key is not a voice credential");
    let anonymous = voice.http.post(format!("{}/api/voicebot", voice.base)).json(&json!({ "action": "getBusinessName" })).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert_eq!(voice.send(voice.http.get(format!("{}/api/voicebot", voice.base))).await.status, 405);
    assert_eq!(voice.get("/calendars").await.status, 401, "a voice credential is not a bot credential");

    // Another integration sees nothing of this clinic: its entity, bookings and users are 404.
    let booked = voice.voice(book(json!({}))).await;
    assert_eq!(booked.status, 200, "{}", booked.body);
    let other = another_clinic(&bot.store, "other").await;
    let issued = bot.store.create_credential(other, None, "other-voice", CredentialKind::Voice, None, bot.now()).await.unwrap();
    bot.store.add_voice_line("other-sip", other, "other-voice", bot.now()).await.unwrap();
    let them = bot.as_user("other-voice", &issued.key);
    assert_eq!(them.voice(json!({ "action": "getEntityForSipId", "sipId": "other-sip" })).await.body, json!({ "entityId": "other" }));
    let booking = booked.body["bookingId"].as_str().unwrap();
    let user = booked.body["bookerId"].as_str().unwrap();
    for body in [
        json!({ "action": "getEntityForSipId", "sipId": "demo-sip" }),
        json!({ "action": "getBusinessName", "entityId": "demo" }),
        json!({ "action": "getRequiredInfo", "productId": product }),
        json!({ "action": "getSlots", "appointmentTypeId": physio, "productId": product, "dateTime": day }),
        json!({ "action": "cancelAppointment", "bookingId": booking }),
        json!({ "action": "findExistingBooking", "id": user }),
    ] {
        assert_eq!(them.voice(body.clone()).await.status, 404, "{body}");
    }
    assert_eq!(them.voice(json!({ "action": "findExistingUser", "participant": { "firstname": "Eva", "lastname": "Probe", "dob": "1990-01-01" } })).await.body, json!([]));
    let taken = voice.voice(book(json!({ "booker": { "firstname": "Udo", "lastname": "Zweit", "email": "udo@example.org", "dob": "1970-01-01", "phone": "+49 30 9998887" } }))).await;
    assert_eq!((taken.status, taken.code()), (409, "slot_taken"), "{}", taken.body);
    assert!(!taken.body["error"]["details"]["alternatives"].as_array().unwrap().is_empty());
    assert_eq!(count("patients").await, patients + 1, "the refused caller was not kept");
}

async fn a_branch_voice_line_serves_only_its_location(db: TestDb) {
    let (bot, voice) = spawn(db).await;
    // The clinic-wide line books physiotherapy in Berlin.
    let Physio { general, physio, product, day, slots } = voice.physio_times().await;
    let (berlin_slot, other_slot) = (slots[0].clone(), slots[1].clone());
    // A caller's number as Berliners say it: read in the booked location's country.
    let booker = json!({ "firstname": "Eva", "lastname": "Probe", "email": "eva@example.org", "dob": "1990-01-01", "phone": "030 1112223" });
    let book = |slot: &Value| json!({ "action": "bookAppointment", "appointmentTypeId": physio, "productId": product, "slotId": slot["avId"], "start": slot["slotStart"], "booker": booker });
    let booked = voice.voice(book(&berlin_slot)).await;
    assert_eq!(booked.status, 200, "{}", booked.body);
    let (booking, user) = (booked.body["bookingId"].as_str().unwrap().to_owned(), booked.body["bookerId"].as_str().unwrap().to_owned());
    assert_eq!(scalar_i64(&bot.store, "SELECT COUNT(*) FROM patients WHERE phone = '+49301112223'").await, 1, "stored in E.164");
    // Looking the caller up by that number: the clinic's line serves Berlin and Singapore, so
    // a number without a country code names no one for sure.
    let eva = |phone: &str| json!({ "action": "findExistingUser", "participant": { "firstname": "Eva", "lastname": "Probe", "phone": phone } });
    let unclear = voice.voice(eva("030 1112223")).await;
    assert_eq!((unclear.status, unclear.code()), (422, "invalid_field"), "{}", unclear.body);
    assert!(unclear.body["error"]["message"].as_str().unwrap().contains("country code"), "{}", unclear.body);
    let found = voice.voice(eva("+49 30 111 2223")).await;
    assert_eq!(found.body[0]["phone"], "+49301112223", "{}", found.body);

    // The Singapore branch's own line: its doctors and times only, Berlin's bookings unseen.
    let singapore = scalar_i64(&bot.store, "SELECT id FROM locations WHERE name = 'Singapore Orchard'").await;
    let issued = bot.store.create_credential(bot.clinic_id, Some(singapore), "orchard-voice", CredentialKind::Voice, None, bot.now()).await.unwrap();
    bot.store.add_voice_line("orchard-sip", bot.clinic_id, "orchard-voice", bot.now()).await.unwrap();
    let orchard = bot.as_user("orchard-voice", &issued.key);
    assert_eq!(orchard.voice(json!({ "action": "getEntityForSipId", "sipId": "orchard-sip" })).await.body, json!({ "entityId": "demo" }));
    let types = orchard.voice(json!({ "action": "getAppointmentTypes", "entityId": "demo" })).await;
    assert!(types.body.as_array().unwrap().iter().all(|t| t["id"] != physio.as_str()), "physiotherapy is Berlin's: {}", types.body);
    let doctors = orchard.voice(json!({ "action": "getAgents", "entityId": "demo", "appointmentTypeId": general })).await;
    let names: Vec<String> = doctors.body.as_array().unwrap().iter().map(|a| format!("{} {}", a["firstname"].as_str().unwrap(), a["lastname"].as_str().unwrap())).collect();
    assert_eq!(names, ["Mei Lin Tan", "Arjun Rao"], "{}", doctors.body);
    let none = orchard.voice(json!({ "action": "getSlots", "appointmentTypeId": physio, "productId": product, "dateTime": day })).await;
    assert_eq!((none.status, &none.body), (200, &json!([])), "no Berlin times");
    for body in [
        book(&other_slot),
        json!({ "action": "cancelAppointment", "bookingId": booking }),
        json!({ "action": "modifyAppointment", "bookingId": booking, "slotIdNew": other_slot["avId"] }),
    ] {
        let a = orchard.voice(body.clone()).await;
        assert_eq!((a.status, a.code()), (404, "not_found"), "{body}: {}", a.body);
    }
    assert_eq!(orchard.voice(json!({ "action": "findExistingBooking", "id": user })).await.body, json!([]), "the Berlin booking is not listed");
    let still = voice.voice(json!({ "action": "findExistingBooking", "id": user })).await;
    assert_eq!(still.body.as_array().unwrap().len(), 1, "the booking stands: {}", still.body);
    assert_eq!(scalar_i64(&bot.store, "SELECT COUNT(*) FROM appointments WHERE status = 'booked' AND source = 'voice_bot'").await, 1);
}

on_both_backends!(
    a_branch_voice_line_serves_only_its_location,
    a_phone_call_books_and_a_second_call_finds_moves_and_cancels,
    every_action_refuses_bad_input_and_changes_nothing,
);
