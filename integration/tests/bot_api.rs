//! The bot REST API over real HTTP on both backends: authentication, facility scoping, every
//! endpoint's answers and refusals, idempotency, cutoffs and races.

use chrono::Duration;
use serde_json::{json, Value};
use store::credentials::CredentialKind;
use store::testing::{another_clinic, execute, scalar_i64, TestDb};
use store::on_both_backends;

mod support;

use support::{spawn_with, Api, DEMO_KEY};

async fn spawn(db: TestDb, per_minute: u32) -> Api {
    spawn_with(db, server::api::ApiOptions { requests_per_minute: per_minute, ..Default::default() }).await
}

async fn requests_without_valid_credentials_are_refused_with_a_challenge(db: TestDb) {
    let api = spawn(db, 600).await;
    let anonymous = api.http.get(format!("{}/api/v1/calendars", api.base)).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    assert!(anonymous.headers()["www-authenticate"].to_str().unwrap().starts_with("Basic realm="));
    let body: Value = anonymous.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    for (user, key) in [("demo", "bk_wrong"), ("nobody", DEMO_KEY), ("demo", "")] {
        let a = api.as_user(user, key).get("/calendars").await;
        assert_eq!((a.status, a.code()), (401, "unauthorized"), "{user}:{key}");
    }
    let staff = api.store.create_credential(api.clinic_id, None, "front-desk", CredentialKind::Staff, None, api.now()).await.unwrap();
    let a = api.as_user("front-desk", &staff.key).get("/calendars").await;
    assert_eq!(a.status, 401, "a staff credential is not a bot credential");
    let unknown = api.get("/no-such-endpoint").await;
    assert_eq!((unknown.status, unknown.code()), (404, "not_found"));
    let wrong_method = api.send(api.http.delete(format!("{}/api/v1/calendars", api.base))).await;
    assert_eq!((wrong_method.status, wrong_method.code()), (405, "method_not_allowed"));
}

async fn failed_authentications_are_throttled_per_address_and_per_user_id_without_locking_the_real_bot_out(db: TestDb) {
    let header = axum::http::HeaderName::from_static("x-forwarded-for");
    let api = spawn_with(db, server::api::ApiOptions { client_ip_header: Some(header), requests_per_minute: 600, ..Default::default() }).await;
    let from = |address: &str, user: &str, key: &str| {
        let api = api.as_user(user, key);
        let request = api.http.get(format!("{}/api/v1/calendars", api.base)).header("x-forwarded-for", format!("198.51.100.9, {address}"));
        async move { api.send(request).await }
    };
    // One address guessing: the same 401 for a known and an unknown user, then 429 for
    // everything it sends, even a right key; other addresses are not affected.
    for n in 0..domain::limits::FAILED_AUTH_PER_ADDRESS {
        let user = if n % 2 == 0 { "demo-voice".to_owned() } else { format!("guess-{n}") };
        let a = from("203.0.113.7", &user, &format!("bk_guess_{n}")).await;
        assert_eq!((a.status, a.code()), (401, "unauthorized"), "attempt {n}");
        assert_eq!(a.body["error"]["message"], "unknown user id or API key", "the same answer for known and unknown users");
    }
    let refused = from("203.0.113.7", "nobody", "bk_guess").await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"));
    assert!(refused.headers["retry-after"].to_str().unwrap().parse::<u64>().unwrap() >= 1);
    assert_eq!(from("203.0.113.7", "demo", DEMO_KEY).await.status, 429, "the guessing address is refused before its key is looked at");
    assert_eq!(from("203.0.113.8", "demo", DEMO_KEY).await.status, 200, "another address is served");

    // One user id guessed from many addresses: its wrong keys answer 429 after a few, its
    // right key still passes, other user ids still get their 401.
    for n in 0..domain::limits::FAILED_AUTH_PER_USER {
        assert_eq!(from(&format!("192.0.2.{n}"), "demo", "bk_wrong").await.status, 401, "attempt {n}");
    }
    let refused = from("192.0.2.200", "demo", "bk_wrong").await;
    assert_eq!((refused.status, refused.code()), (429, "rate_limited"));
    assert_eq!(from("192.0.2.201", "demo", DEMO_KEY).await.status, 200, "the real bot is not locked out");
    assert_eq!(from("192.0.2.202", "someone-else", "bk_wrong").await.status, 401);
}

async fn calendars_list_providers_with_location_and_appointment_types_under_both_prefixes(db: TestDb) {
    let api = spawn(db, 600).await;
    let a = api.get("/calendars").await;
    assert_eq!(a.status, 200);
    let cals = a.body["calendars"].as_array().unwrap();
    assert_eq!(cals.len(), 6, "{}", a.body);
    let weber = cals.iter().find(|c| c["name"] == "Dr. Anna Weber").unwrap();
    assert_eq!(weber["specialty"], "General practice");
    assert_eq!(weber["location"]["timeZone"], "Europe/Berlin");
    assert_eq!(weber["appointmentTypes"][0]["name"], "Consultation");
    assert_eq!(weber["appointmentTypes"][0]["durationMinutes"], 30);
    let physio = cals.iter().find(|c| c["name"] == "Jonas Keller").unwrap();
    assert_eq!(physio["appointmentTypes"].as_array().unwrap().len(), 2, "both physiotherapy lengths");

    let short = api.send(api.http.get(format!("{}/v1/calendars", api.base))).await;
    assert_eq!(short.body, a.body, "/v1 is the same API");
}

async fn availability_groups_free_slots_by_local_date_and_refuses_bad_ranges(db: TestDb) {
    let api = spawn(db, 600).await;
    let (cal, kind) = api.berlin_calendar().await;
    let month = (api.now() + Duration::days(3)).format("%Y-%m");
    let a = api.get(&format!("/availability?calendar_id={cal}&appointment_type_id={kind}&month={month}")).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(a.body["timeZone"], "Europe/Berlin");
    let day = &a.body["days"][0];
    let slot = &day["slots"][0];
    let start = slot["start"].as_str().unwrap();
    assert!(start.starts_with(day["date"].as_str().unwrap()), "{start} lies on its day");
    assert!(start.ends_with("+01:00") || start.ends_with("+02:00"), "{start} carries the location's offset");
    let date = day["date"].as_str().unwrap();
    let one_day = api.get(&format!("/availability?calendar_id={cal}&appointment_type_id={kind}&date={date}")).await;
    assert_eq!(one_day.body["days"].as_array().unwrap().len(), 1);
    assert_eq!(one_day.body["days"][0]["slots"], day["slots"]);

    let q = |rest: &str| format!("/availability?calendar_id={cal}&appointment_type_id={kind}{rest}");
    for (rest, status, code) in [
        ("&month=2026-13", 422, "invalid_field"),
        ("&date=2026-02-30", 422, "invalid_field"),
        ("&from=2026-12-10&to=2026-12-01", 422, "invalid_field"),
        ("&from=2026-01-01&to=2026-06-01", 422, "invalid_field"),
        ("", 400, "missing_parameter"),
        ("&month=2026-12&date=2026-12-01", 400, "missing_parameter"),
        ("&month=2026-12&colour=blue", 400, "invalid_query"),
    ] {
        let a = api.get(&q(rest)).await;
        assert_eq!((a.status, a.code()), (status, code), "{rest}: {}", a.body);
    }
    let a = api.get(&format!("/availability?calendar_id=999999&appointment_type_id={kind}&month=2026-12")).await;
    assert_eq!((a.status, a.code()), (404, "not_found"));
    let a = api.get(&format!("/availability?calendar_id={cal}&appointment_type_id={kind}&location_id=1&month=2026-12")).await;
    assert_eq!((a.status, a.code()), (422, "invalid_field"), "a calendar has its own location: {}", a.body);
}

/// The slots of `path`, as (start, calendar, slot id) in the answer's order.
async fn listed_slots(api: &support::Api, path: &str) -> Vec<(String, String, String)> {
    let a = api.get(path).await;
    assert_eq!(a.status, 200, "{path}: {}", a.body);
    a.body["days"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["slots"].as_array().unwrap().clone())
        .map(|s| (s["start"].as_str().unwrap().to_owned(), s["calendarId"].as_str().unwrap().to_owned(), s["slotId"].as_str().unwrap().to_owned()))
        .collect()
}

async fn any_calendar_lists_every_calendars_slots_at_the_location_in_time_order(db: TestDb) {
    let api = spawn(db, 600).await;
    let cals = api.get("/calendars").await;
    let cals = cals.body["calendars"].as_array().unwrap().clone();
    // Which calendars offer each type, at which location.
    let mut offering: std::collections::BTreeMap<String, Vec<(String, String)>> = Default::default();
    for c in &cals {
        for t in c["appointmentTypes"].as_array().unwrap() {
            let location = c["location"]["id"].as_str().unwrap().to_owned();
            offering.entry(t["id"].as_str().unwrap().to_owned()).or_default().push((c["id"].as_str().unwrap().to_owned(), location));
        }
    }
    let from = (api.now() + Duration::days(3)).date_naive();
    let to = from + Duration::days(6);
    let mut checked = 0;
    for (kind, calendars) in &offering {
        let mut locations: Vec<&String> = calendars.iter().map(|(_, l)| l).collect();
        locations.sort();
        locations.dedup();
        if locations.len() > 1 {
            // Offered at several locations: which one must be said.
            let a = api.get(&format!("/availability?calendar_id=any&appointment_type_id={kind}&from={from}&to={to}")).await;
            assert_eq!((a.status, a.code()), (422, "invalid_field"), "{}", a.body);
            assert!(a.body.to_string().contains("location_id"), "{}", a.body);
        }
        for location in locations {
            let both = ["calendar_id=any&", "calendar_id=ANY&", ""];
            for any in both {
                let path = format!("/availability?{any}appointment_type_id={kind}&location_id={location}&from={from}&to={to}");
                let all = listed_slots(&api, &path).await;
                // Exactly the union of each calendar's own slots there.
                let mut expected = Vec::new();
                for (cal, _) in calendars.iter().filter(|(_, l)| l == location) {
                    expected.extend(listed_slots(&api, &format!("/availability?calendar_id={cal}&appointment_type_id={kind}&from={from}&to={to}")).await);
                }
                let mut sorted_expected = expected.clone();
                sorted_expected.sort();
                let mut sorted_all = all.clone();
                sorted_all.sort();
                assert_eq!(sorted_all, sorted_expected, "{path}");
                // In time order, then by calendar id as a number.
                let key = |s: &(String, String, String)| (chrono::DateTime::parse_from_rfc3339(&s.0).unwrap(), s.1.parse::<i64>().unwrap());
                assert!(all.windows(2).all(|w| key(&w[0]) <= key(&w[1])), "{path} is not in time order");
                assert!(!all.is_empty(), "{path}: the demo has free times in a week three days ahead");
                checked += 1;
            }
        }
    }
    assert!(checked >= 6, "the demo offers types at two locations: {checked} checks");

    let (_, kind) = api.berlin_calendar().await;
    let q = |rest: &str| format!("/availability?calendar_id=any&appointment_type_id={kind}&from={from}&to={to}{rest}");
    for (rest, status, code) in [
        ("&location_id=999999", 404, "not_found"),
        ("&location_id=abc", 422, "invalid_field"),
        ("&location_id=0", 422, "invalid_field"),
    ] {
        let a = api.get(&q(rest)).await;
        assert_eq!((a.status, a.code()), (status, code), "{rest}: {}", a.body);
    }
    // A location of the clinic where nobody offers the type.
    let elsewhere = offering.values().flatten().map(|(_, l)| l.clone()).find(|l| !offering[&kind].iter().any(|(_, m)| m == l));
    let elsewhere = elsewhere.expect("the demo has a location where this type is not offered");
    let a = api.get(&q(&format!("&location_id={elsewhere}"))).await;
    assert_eq!((a.status, a.code()), (422, "invalid_field"), "{}", a.body);
    let a = api.get(&format!("/availability?calendar_id=any&appointment_type_id=999999&month=2026-12")).await;
    assert_eq!((a.status, a.code()), (404, "not_found"), "{}", a.body);
}

async fn patient_lookup_finds_one_says_when_several_match_and_validates_input(db: TestDb) {
    let api = spawn(db, 600).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let booked = api.book_new_patient(slots[0]["slotId"].as_str().unwrap(), "Jürgen").await;
    assert_eq!(booked.status, 201, "{}", booked.body);

    let found = api.get("/patient?name=JURGEN%20mueller&dob=1985-07-25&phone=%2B49301234567").await;
    assert_eq!(found.status, 404, "'mueller' is not 'Müller': names fold accents, not spellings");
    let found = api.get("/patient?name=jurgen%20MULLER&dob=1985-07-25&phone=%2B49%2030%201234567").await;
    assert_eq!(found.status, 200, "{}", found.body);
    assert_eq!(found.body["name"], "Jürgen Müller");
    assert_eq!(found.body["phone"], "+49301234567");
    assert_eq!(found.body["dob"], "1985-07-25");
    assert!(found.body["patientId"].is_null() && found.body["temporaryPatientId"].as_str().unwrap().starts_with("tmp_"));

    // A namesake with another birth date: the name alone is ambiguous, the dob tells them apart.
    let other = api
        .post("/appointments", json!({ "slotId": slots[1]["slotId"], "patient": {
            "name": "Jürgen Müller", "dob": "1990-01-02", "phone": "+49 30 7654321", "email": "other@example.org" } }))
        .await;
    assert_eq!(other.status, 201, "{}", other.body);
    let both = api.get("/patient?name=J%C3%BCrgen%20M%C3%BCller").await;
    assert_eq!((both.status, both.code()), (409, "ambiguous_patient"));
    assert_eq!(both.body["error"]["details"]["candidates"].as_array().unwrap().len(), 2);
    let one = api.get("/patient?name=J%C3%BCrgen%20M%C3%BCller&dob=1990-01-02").await;
    assert_eq!(one.body["phone"], "+49307654321");

    for (query, status, code) in [
        ("?name=Nobody%20Here", 404, "patient_not_found"),
        ("?name=J%C3%BCrgen%20M%C3%BCller&dob=25.07.1985", 422, "invalid_field"),
        ("?phone=not-a-phone", 422, "invalid_field"),
        ("?dob=1985-07-25", 400, "missing_parameter"),
        ("?name=x&shoeSize=42", 400, "invalid_query"),
    ] {
        let a = api.get(&format!("/patient{query}")).await;
        assert_eq!((a.status, a.code()), (status, code), "{query}: {}", a.body);
    }
}

async fn booking_returns_the_appointment_and_honours_idempotency_keys(db: TestDb) {
    let api = spawn(db, 600).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let body = json!({ "slotId": slots[0]["slotId"], "reason": "back pain", "patient": {
        "firstName": "Erika", "lastName": "Mustermann", "dob": "1964-08-12", "phone": "+49 30 5550100", "email": "erika@example.org", "gender": "female" } });
    let send = |b: Value, key: &'static str| api.send(api.http.post(format!("{}/api/v1/appointments", api.base)).header("Idempotency-Key", key).json(&b));
    let first = send(body.clone(), "key-1").await;
    assert_eq!(first.status, 201, "{}", first.body);
    let b = &first.body;
    assert_eq!(b["status"], "booked");
    assert_eq!(b["start"], slots[0]["start"]);
    assert_eq!(b["end"], slots[0]["end"]);
    assert_eq!(b["calendarId"], json!(cal));
    assert!(b["tokenNumber"].as_i64().unwrap() >= 1);
    assert!(b["temporaryPatientId"].as_str().unwrap().starts_with("tmp_"));
    assert_eq!(b["patient"]["email"], "erika@example.org");
    assert_eq!(b["patient"]["gender"], "female");
    assert_eq!(b["replayed"], false);

    let again = send(body.clone(), "key-1").await;
    assert_eq!(again.status, 200, "a retry returns the first booking: {}", again.body);
    assert_eq!(again.body["appointmentId"], b["appointmentId"]);
    assert_eq!(again.body["replayed"], true);
    assert_eq!(api.count("SELECT COUNT(*) FROM patients WHERE first_name = 'Erika'").await, 1, "no duplicate patient");

    let mut changed = body.clone();
    changed["reason"] = json!("knee pain");
    let reused = send(changed, "key-1").await;
    assert_eq!((reused.status, reused.code()), (422, "idempotency_key_reused"));
    assert_eq!(api.count("SELECT COUNT(*) FROM appointments WHERE source = 'bot_api'").await, 1);

    // Booking an existing patient by id, at a time named by calendar, type and start.
    let temporary = b["temporaryPatientId"].as_str().unwrap();
    let by_start = api
        .post("/appointments", json!({ "calendarId": cal, "appointmentTypeId": kind, "start": slots[1]["start"], "temporaryPatientId": temporary }))
        .await;
    assert_eq!(by_start.status, 201, "{}", by_start.body);
    assert_eq!(by_start.body["temporaryPatientId"], json!(temporary));
    let events = format!("SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentCreated' AND clinic_id = {}", api.clinic_id);
    assert_eq!(api.count(&events).await, 2, "one event per booking, none for the replay");
}

async fn a_bot_that_follows_the_contract_books_a_new_patient_at_any_time_it_is_offered(db: TestDb) {
    let api = spawn(db, 600).await;
    let cals = api.get("/calendars").await;
    let weber = cals.body["calendars"].as_array().unwrap().iter().find(|c| c["name"] == "Dr. Anna Weber").unwrap().clone();
    let (cal, kind) = (weber["id"].as_str().unwrap(), weber["appointmentTypes"][0]["id"].as_str().unwrap());
    let minutes = |s: &Value| {
        let at = |k: &str| chrono::DateTime::parse_from_rfc3339(s[k].as_str().unwrap()).unwrap();
        (at("end") - at("start")).num_minutes()
    };
    let slots_of = |a: &support::Answer| -> Vec<Value> {
        assert_eq!(a.status, 200, "{}", a.body);
        a.body["days"].as_array().unwrap().iter().flat_map(|d| d["slots"].as_array().unwrap().clone()).collect()
    };
    let starts = |slots: &[Value]| slots.iter().map(|s| s["start"].as_str().unwrap().to_owned()).collect::<std::collections::BTreeSet<_>>();
    // The contract's flow: availability by month, appointment type and calendar, no more.
    // A whole month ahead, within the 90-day horizon whatever the date of the run.
    let next_month = (api.now() + Duration::days(35)).format("%Y-%m").to_string();
    let offered = slots_of(&api.get(&format!("/availability?month={next_month}&appointment_type_id={kind}&calendar_id={cal}")).await);
    let returning = slots_of(&api.get(&format!("/availability?month={next_month}&appointment_type_id={kind}&calendar_id={cal}&new_patient=false")).await);
    assert!(!offered.is_empty());
    assert!(starts(&offered).is_subset(&starts(&returning)), "times that fit anyone are returning patients' times");
    assert!(offered.len() < returning.len(), "the last half hour before a break holds no 45-minute first visit");
    assert!(offered.iter().all(|s| minutes(s) == 30), "shown at the usual length");

    // A time offered only to returning patients is refused for a new one, naming the cause,
    // with alternatives that fit a first visit.
    let only_returning = returning.iter().find(|s| !starts(&offered).contains(s["start"].as_str().unwrap())).unwrap();
    let refused = api.book_new_patient(only_returning["slotId"].as_str().unwrap(), "Olga").await;
    assert_eq!((refused.status, refused.code()), (409, "slot_taken"), "{}", refused.body);
    assert!(refused.body["error"]["message"].as_str().unwrap().contains("new patient"), "the cause is named: {}", refused.body);
    let alternative = &refused.body["error"]["details"]["alternatives"][0];
    assert_eq!(minutes(alternative), 45, "the alternatives fit a new patient: {alternative}");

    // Then create with the patient's details: a new patient, booked at the first-visit length.
    let booked = api.book_new_patient(offered[0]["slotId"].as_str().unwrap(), "Nina").await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert_eq!(minutes(&booked.body), 45, "a first visit takes its own length");
    assert_eq!(booked.body["start"], offered[0]["start"]);

    let first_visit = slots_of(&api.get(&format!("/availability?month={next_month}&appointment_type_id={kind}&calendar_id={cal}&new_patient=true")).await);
    assert!(first_visit.iter().all(|s| minutes(s) == 45));
    let taken = api.book_new_patient(first_visit[0]["slotId"].as_str().unwrap(), "Paula").await;
    assert_eq!(taken.status, 201, "{}", taken.body);
}

async fn bad_booking_requests_get_a_clear_4xx_and_change_nothing(db: TestDb) {
    let api = spawn(db, 600).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let slot = slots[0]["slotId"].as_str().unwrap();
    let before = api.count("SELECT COUNT(*) FROM appointments").await;
    let patients = api.count("SELECT COUNT(*) FROM patients").await;
    let person = json!({ "firstName": "Max", "lastName": "Muster", "dob": "1980-01-01", "phone": "+49 30 1", "email": "m@example.org" });
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({ "slotId": slot, "slot_id": slot, "patient": person }), 422, "invalid_body"),
        (json!({ "slotId": 42, "patient": person }), 422, "invalid_body"),
        (json!({ "slotId": "garbage", "patient": person }), 422, "invalid_field"),
        (json!({ "patient": person }), 400, "missing_parameter"),
        (json!({ "slotId": slot }), 400, "missing_parameter"),
        (json!({ "slotId": slot, "patientId": "999999" }), 422, "invalid_field"),
        (json!({ "slotId": slot, "patient": { "firstName": "Max", "lastName": "Muster" } }), 422, "invalid_field"),
        (json!({ "slotId": slot, "patient": { "firstName": "Max", "lastName": "Muster", "dob": "1980-01-01", "phone": "12", "email": "m@example.org" } }), 422, "invalid_field"),
        (json!({ "slotId": slot, "patient": { "name": "Max Muster", "dob": "2999-01-01", "phone": "+49 30 1234567", "email": "m@example.org" } }), 422, "invalid_field"),
        (json!({ "slotId": slot, "patient": { "name": "Max Muster", "dob": "1980-01-01", "phone": "+49 30 1234567", "email": "m@example.org", "gender": "x" } }), 422, "invalid_field"),
        (json!({ "slotId": slot, "patient": person, "reason": "x".repeat(501) }), 422, "invalid_field"),
        (json!({ "calendarId": cal, "appointmentTypeId": kind, "start": "tomorrow", "patient": person }), 422, "invalid_field"),
    ];
    for (body, status, code) in cases {
        let a = api.post("/appointments", body.clone()).await;
        assert_eq!((a.status, a.code()), (status, code), "{body}: {}", a.body);
    }
    let raw = |body: &'static str, content_type: &'static str| {
        api.send(api.http.post(format!("{}/api/v1/appointments", api.base)).header("content-type", content_type).body(body))
    };
    let a = raw("{\"slotId\": ", "application/json").await;
    assert_eq!((a.status, a.code()), (400, "malformed_json"));
    let a = raw("slotId=1", "application/x-www-form-urlencoded").await;
    assert_eq!((a.status, a.code()), (415, "unsupported_media_type"));
    let huge = json!({ "slotId": slot, "reason": "x".repeat(20_000) });
    let a = api.post("/appointments", huge).await;
    assert_eq!((a.status, a.code()), (413, "body_too_large"));
    let a = api.send(api.http.post(format!("{}/api/v1/appointments", api.base)).header("Idempotency-Key", "k".repeat(300)).json(&json!({}))).await;
    assert_eq!((a.status, a.code()), (422, "invalid_field"));
    assert_eq!(api.count("SELECT COUNT(*) FROM appointments").await, before, "nothing was booked");
    assert_eq!(api.count("SELECT COUNT(*) FROM patients").await, patients, "no patient was created");
}

async fn a_taken_slot_is_409_with_alternatives_and_a_race_books_once(db: TestDb) {
    let api = spawn(db, 600).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let slot = slots[0]["slotId"].as_str().unwrap();
    let (a, b) = tokio::join!(api.book_new_patient(slot, "Anna"), api.book_new_patient(slot, "Berta"));
    let mut statuses = [a.status, b.status];
    statuses.sort();
    assert_eq!(statuses, [201, 409], "{} / {}", a.body, b.body);
    let loser = if a.status == 409 { a } else { b };
    assert_eq!(loser.code(), "slot_taken");
    let message = loser.body["error"]["message"].as_str().unwrap();
    assert!(message.contains("someone else") && !message.contains("new patient"), "the loser is told the time was taken: {message}");
    let alternatives = loser.body["error"]["details"]["alternatives"].as_array().unwrap();
    assert!(!alternatives.is_empty() && alternatives.len() <= 5);
    assert!(alternatives.iter().all(|s| s["slotId"] != json!(slot)));
    assert_eq!(api.count("SELECT COUNT(*) FROM appointments WHERE status = 'booked' AND source = 'bot_api'").await, 1);
    let created = api.count("SELECT COUNT(*) FROM patients WHERE first_name IN ('Anna', 'Berta') AND last_name = 'Müller'").await;
    assert_eq!(created, 1, "the losing request leaves no patient behind");
}

async fn appointments_are_listed_read_rescheduled_and_cancelled_within_the_cutoff(db: TestDb) {
    let api = spawn(db, 600).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let booked = api.book_new_patient(slots[0]["slotId"].as_str().unwrap(), "Jürgen").await;
    let id = booked.body["appointmentId"].as_str().unwrap().to_owned();
    let temporary = booked.body["temporaryPatientId"].as_str().unwrap().to_owned();

    let list = api.get(&format!("/appointments?temporaryPatientId={temporary}")).await;
    assert_eq!(list.status, 200, "{}", list.body);
    assert_eq!(list.body["appointments"][0]["appointmentId"], json!(id));
    let none = api.get(&format!("/appointments?temporaryPatientId={temporary}&status=cancelled")).await;
    assert_eq!(none.body["appointments"].as_array().unwrap().len(), 0);
    for (query, status, code) in [
        ("", 400, "missing_parameter"),
        ("?patientId=abc", 422, "invalid_field"),
        ("?patientId=999999", 404, "not_found"),
        ("?temporaryPatientId=tmp_x&status=lost", 422, "invalid_field"),
        ("?temporaryPatientId=tmp_x&from=yesterday", 422, "invalid_field"),
    ] {
        let a = api.get(&format!("/appointments{query}")).await;
        assert_eq!((a.status, a.code()), (status, code), "{query}: {}", a.body);
    }

    let one = api.get(&format!("/appointments/{id}")).await;
    assert_eq!(one.body["patient"]["name"], "Jürgen Müller");
    assert_eq!((api.get("/appointments/999999").await.status, api.get("/appointments/abc").await.status), (404, 404));

    let moved = api.put(&format!("/appointments/{id}/reschedule"), json!({ "slotId": slots[3]["slotId"] })).await;
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.body["start"], slots[3]["start"]);
    let bad = api.put(&format!("/appointments/{id}/reschedule"), json!({ "slotId": 42 })).await;
    assert_eq!((bad.status, bad.code()), (422, "invalid_body"));

    let long = api.put(&format!("/appointments/{id}/cancel"), json!({ "reason": "x".repeat(501) })).await;
    assert_eq!((long.status, long.code()), (422, "invalid_field"));
    let cancelled = api.put(&format!("/appointments/{id}/cancel"), json!({ "reason": "feeling better" })).await;
    assert_eq!(cancelled.status, 200, "{}", cancelled.body);
    assert_eq!(cancelled.body["status"], "cancelled");
    assert_eq!(cancelled.body["cancellationReason"], "feeling better");
    let twice = api.put(&format!("/appointments/{id}/cancel"), json!({})).await;
    assert_eq!((twice.status, twice.code()), (409, "invalid_status"));
    let events = format!("SELECT COUNT(*) FROM outbox WHERE payload LIKE '%\"appointmentId\":\"{id}\"%'");
    assert_eq!(api.count(&events).await, 3, "created, rescheduled, cancelled");

    // Inside the clinic's cutoff (24 hours by default), bots can no longer change it.
    let soon = api.book_new_patient(slots[5]["slotId"].as_str().unwrap(), "Karl").await;
    let soon_id = soon.body["appointmentId"].as_str().unwrap();
    execute(&api.store, "UPDATE clinics SET cancellation_cutoff_minutes = 100000").await;
    let late = api.put(&format!("/appointments/{soon_id}/cancel"), json!({})).await;
    assert_eq!((late.status, late.code()), (422, "too_late"), "{}", late.body);
    let late = api.put(&format!("/appointments/{soon_id}/reschedule"), json!({ "slotId": slots[6]["slotId"] })).await;
    assert_eq!((late.status, late.code()), (422, "too_late"), "{}", late.body);
}

async fn a_location_credential_sees_only_its_location(db: TestDb) {
    let api = spawn(db, 600).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let berlin = api.book_new_patient(slots[0]["slotId"].as_str().unwrap(), "Jürgen").await;
    let id = berlin.body["appointmentId"].as_str().unwrap();
    let temporary = berlin.body["temporaryPatientId"].as_str().unwrap();

    let singapore_id = scalar_i64(&api.store, "SELECT id FROM locations WHERE name = 'Singapore Orchard'").await;
    let issued = api.store.create_credential(api.clinic_id, Some(singapore_id), "orchard-bot", CredentialKind::Bot, None, api.now()).await.unwrap();
    let orchard = api.as_user("orchard-bot", &issued.key);
    let cals = orchard.get("/calendars").await;
    let names: Vec<&str> = cals.body["calendars"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Dr. Mei Lin Tan", "Dr. Arjun Rao"]);

    let not_found = [
        orchard.get(&format!("/appointments/{id}")).await,
        orchard.put(&format!("/appointments/{id}/cancel"), json!({})).await,
        orchard.put(&format!("/appointments/{id}/reschedule"), json!({ "slotId": slots[1]["slotId"] })).await,
        orchard.get(&format!("/availability?calendar_id={cal}&appointment_type_id={kind}&month=2026-12")).await,
        orchard.post("/appointments", json!({ "slotId": slots[1]["slotId"], "temporaryPatientId": temporary })).await,
    ];
    for a in &not_found {
        assert_eq!((a.status, a.code()), (404, "not_found"), "{}", a.body);
    }
    let list = orchard.get(&format!("/appointments?temporaryPatientId={temporary}")).await;
    assert_eq!(list.body["appointments"].as_array().unwrap().len(), 0, "Berlin's appointments stay out of sight");
    assert_eq!(api.count(&format!("SELECT COUNT(*) FROM appointments WHERE id = {id} AND status = 'booked'")).await, 1);
}

async fn phone_numbers_without_a_country_code_are_read_as_the_booked_locations_country_writes_them(db: TestDb) {
    let api = spawn(db, 600).await;
    let person = |first: &str, phone: &str| json!({ "firstName": first, "lastName": "Krause", "dob": "1979-03-14", "phone": phone, "email": "k@example.org" });
    let (cal, kind) = api.berlin_calendar().await;
    let berlin = api.free_slots(&cal, &kind).await;
    let booked = api.post("/appointments", json!({ "slotId": berlin[0]["slotId"], "patient": person("Karl", "0171 2345678") })).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert_eq!(api.count("SELECT COUNT(*) FROM patients WHERE phone = '+491712345678'").await, 1, "stored in E.164");

    // A Singapore branch: the same kind of number is read as Singaporeans write theirs.
    let singapore_id = scalar_i64(&api.store, "SELECT id FROM locations WHERE name = 'Singapore Orchard'").await;
    let issued = api.store.create_credential(api.clinic_id, Some(singapore_id), "orchard-bot", CredentialKind::Bot, None, api.now()).await.unwrap();
    let orchard = api.as_user("orchard-bot", &issued.key);
    let cals = orchard.get("/calendars").await;
    let tan = &cals.body["calendars"][0];
    let slots = orchard.free_slots(tan["id"].as_str().unwrap(), tan["appointmentTypes"][0]["id"].as_str().unwrap()).await;
    let booked = orchard.post("/appointments", json!({ "slotId": slots[0]["slotId"], "patient": person("Siew", "6123 4567") })).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert_eq!(api.count("SELECT COUNT(*) FROM patients WHERE phone = '+6561234567'").await, 1);

    // Looking a patient up: a branch reads national numbers its way; the clinic, whose
    // locations lie in two countries, needs the country code.
    let berlin_id = scalar_i64(&api.store, "SELECT id FROM locations WHERE time_zone = 'Europe/Berlin' ORDER BY id LIMIT 1").await;
    let issued = api.store.create_credential(api.clinic_id, Some(berlin_id), "berlin-bot", CredentialKind::Bot, None, api.now()).await.unwrap();
    let berlin_bot = api.as_user("berlin-bot", &issued.key);
    let found = berlin_bot.get("/patient?name=Karl%20Krause&phone=0171%2F2345678").await;
    assert_eq!((found.status, found.body["phone"].as_str()), (200, Some("+491712345678")), "{}", found.body);
    let ambiguous = api.get("/patient?name=Karl%20Krause&phone=0171%202345678").await;
    assert_eq!((ambiguous.status, ambiguous.code()), (422, "invalid_field"), "{}", ambiguous.body);
    assert!(ambiguous.body["error"]["message"].as_str().unwrap().contains("country code"), "{}", ambiguous.body);
    let international = api.get("/patient?name=Karl%20Krause&phone=%2B49%20171%202345678").await;
    assert_eq!(international.status, 200, "{}", international.body);

    // A digit too few is refused before anything is written.
    let patients = api.count("SELECT COUNT(*) FROM patients").await;
    let short = api.post("/appointments", json!({ "slotId": berlin[1]["slotId"], "patient": person("Kurt", "0171 234567") })).await;
    assert_eq!((short.status, short.code()), (422, "invalid_field"), "{}", short.body);
    assert!(short.body["error"]["message"].as_str().unwrap().contains("not a complete phone number of DE"), "{}", short.body);
    assert_eq!(api.count("SELECT COUNT(*) FROM patients").await, patients);
}

async fn another_clinics_ids_answer_404(db: TestDb) {
    let api = spawn(db, 600).await;
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let booked = api.book_new_patient(slots[0]["slotId"].as_str().unwrap(), "Jürgen").await;
    let id = booked.body["appointmentId"].as_str().unwrap();
    let temporary = booked.body["temporaryPatientId"].as_str().unwrap();
    let other_id = another_clinic(&api.store, "other").await;
    let issued = api.store.create_credential(other_id, None, "other-bot", CredentialKind::Bot, None, api.now()).await.unwrap();
    let other = api.as_user("other-bot", &issued.key);
    assert_eq!(other.get("/calendars").await.body["calendars"], json!([]));
    for a in [
        other.get(&format!("/appointments/{id}")).await,
        other.get(&format!("/appointments?temporaryPatientId={temporary}")).await,
        other.put(&format!("/appointments/{id}/cancel"), json!({})).await,
        other.get(&format!("/availability?calendar_id={cal}&appointment_type_id={kind}&month=2026-12")).await,
        other.get("/patient?name=J%C3%BCrgen%20M%C3%BCller").await,
    ] {
        assert_eq!(a.status, 404, "{}", a.body);
    }
    let a = other.post("/appointments", json!({ "slotId": slots[1]["slotId"], "temporaryPatientId": temporary })).await;
    assert!(a.status == 404 || a.status == 422, "{}", a.body);

    let desk = api.store.create_credential(other_id, None, "other-desk", CredentialKind::Staff, None, api.now()).await.unwrap();
    let other_desk = api.as_user("other-desk", &desk.key);
    for action in ["check-in", "complete", "no-show"] {
        let a = other_desk.post(&format!("/staff/appointments/{id}/{action}"), json!({})).await;
        assert_eq!((a.status, a.code()), (404, "not_found"), "{action}: {}", a.body);
    }
    let a = other_desk.post(&format!("/staff/patients/{temporary}/register"), json!({})).await;
    assert_eq!(a.status, 404, "{}", a.body);
    let a = other_desk.post("/staff/appointments", json!({ "calendarId": cal, "appointmentTypeId": kind, "walkIn": true, "temporaryPatientId": temporary })).await;
    assert_eq!(a.status, 404, "another clinic's calendar: {}", a.body);
    assert_eq!(api.count(&format!("SELECT COUNT(*) FROM appointments WHERE id = {id} AND status = 'booked'")).await, 1);
    assert_eq!(api.count("SELECT COUNT(*) FROM appointments WHERE clinic_id = (SELECT id FROM clinics WHERE slug = 'other')").await, 0);
}

/// Sends `body` as is, with `content_type` when given.
async fn raw_put(api: &Api, path: &str, content_type: Option<&str>, body: &'static str) -> support::Answer {
    let mut req = api.http.put(format!("{}/api/v1{path}", api.base)).body(body);
    if let Some(t) = content_type {
        req = req.header("content-type", t);
    }
    api.send(req).await
}

async fn a_bot_may_send_snake_case_and_fields_we_do_not_know_and_cancel_without_a_body(db: TestDb) {
    let api = spawn(db, 600).await;
    let calendars = api.get("/calendars").await.body;
    assert_eq!((calendars["clinicId"].as_str(), calendars["clinicSlug"].as_str()), (Some(api.clinic_id.to_string().as_str()), Some("demo")));
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;

    // Names as the query parameters spell them, and what the bot sends all its providers.
    let booked = api.post("/appointments", json!({
        "calendar_id": cal, "appointment_type_id": kind, "start": slots[0]["start"], "channel": "messenger",
        "patient": { "first_name": "Lena", "last_name": "Vogel", "date_of_birth": "1990-03-04", "phone_number": "+49 30 5550101", "email": "lena@example.org", "language": "de" },
    })).await;
    assert_eq!(booked.status, 201, "{}", booked.body);
    assert_eq!(booked.body["patient"]["name"], "Lena Vogel");
    let id = booked.body["appointmentId"].as_str().unwrap().to_owned();
    let patient = booked.body["patient"]["temporaryPatientId"].as_str().unwrap().to_owned();
    let moved = api.put(&format!("/appointments/{id}/reschedule"), json!({ "slot_id": slots[2]["slotId"], "session": "abc" })).await;
    assert_eq!((moved.status, &moved.body["start"]), (200, &slots[2]["start"]), "{}", moved.body);
    let again = api.post("/appointments", json!({ "slot_id": slots[4]["slotId"], "temporary_patient_id": patient, "notes": "follow-up" })).await;
    assert_eq!(again.status, 201, "{}", again.body);
    let second = again.body["appointmentId"].as_str().unwrap().to_owned();

    // The contract shows no body for a cancel: bare, or any content type, cancels.
    let refused = raw_put(&api, &format!("/appointments/{id}/cancel"), Some("application/x-www-form-urlencoded"), "reason=x").await;
    assert_eq!((refused.status, refused.code()), (415, "unsupported_media_type"));
    let malformed = raw_put(&api, &format!("/appointments/{id}/cancel"), Some("application/json"), "{\"reason\":").await;
    assert_eq!((malformed.status, malformed.code()), (400, "malformed_json"));
    assert_eq!(api.get(&format!("/appointments/{id}")).await.body["status"], "booked", "refusals cancel nothing");
    let bare = raw_put(&api, &format!("/appointments/{id}/cancel"), None, "").await;
    assert_eq!((bare.status, bare.body["status"].as_str()), (200, Some("cancelled")), "{}", bare.body);
    let plain = raw_put(&api, &format!("/appointments/{second}/cancel"), Some("text/plain"), "{\"cancellation_reason\": \"sick\", \"by\": \"bot\"}").await;
    assert_eq!((plain.status, plain.body["cancellationReason"].as_str()), (200, Some("sick")), "{}", plain.body);

    // A bare rotate issues a key; a subscription names its clinic by slug, in snake_case.
    let rotated = api.send(api.http.post(format!("{}/api/v1/credentials/rotate", api.base))).await;
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let hook = api.post("/webhooks", json!({ "clinic_id": "demo", "url": "https://hooks.example.org/bot", "event_types": ["appointmentCanceled"], "retries": 3 })).await;
    assert_eq!((hook.status, hook.body["clinicId"].as_str()), (201, Some(api.clinic_id.to_string().as_str())), "{}", hook.body);
    let theirs = another_clinic(&api.store, "east").await;
    assert!(theirs > 0);
    let other = api.post("/webhooks", json!({ "clinicId": "east", "url": "https://hooks.example.org/east", "events": ["appointmentCanceled"] })).await;
    assert_eq!((other.status, other.code()), (404, "not_found"));
}

async fn a_rotated_key_works_beside_the_old_one_until_the_next_rotation(db: TestDb) {
    let api = spawn(db, 600).await;
    let rotated = api.post("/credentials/rotate", json!({})).await;
    assert_eq!(rotated.status, 201, "{}", rotated.body);
    let new_key = rotated.body["apiKey"].as_str().unwrap().to_owned();
    assert!(new_key.starts_with("bk_"));
    assert_eq!(api.get("/calendars").await.status, 200, "the old key still works");
    let fresh = api.as_user("demo", &new_key);
    assert_eq!(fresh.get("/calendars").await.status, 200);
    let short = fresh.post("/credentials/rotate", json!({ "expiresAt": (api.now() + Duration::days(30)).to_rfc3339() })).await;
    assert_eq!((short.status, short.code()), (422, "invalid_field"), "keys live at least 90 days");
    let third = fresh.post("/credentials/rotate", json!({ "expiresAt": (api.now() + Duration::days(120)).to_rfc3339() })).await;
    assert_eq!(third.status, 201);
    assert_eq!(third.body["revokedKeys"], 1);
    assert_eq!(api.get("/calendars").await.status, 401, "the oldest key is revoked");
    assert_eq!(fresh.get("/calendars").await.status, 200);

    // A credential made with an expiring key cannot rotate its way out of expiry.
    let first = api.store.create_credential(api.clinic_id, None, "partner", CredentialKind::Bot, Some(api.now() + Duration::days(120)), api.now()).await.unwrap();
    let partner = api.as_user("partner", &first.key);
    let longer = partner.post("/credentials/rotate", json!({ "expiresAt": (api.now() + Duration::days(365)).to_rfc3339() })).await;
    assert_eq!((longer.status, longer.body["error"]["details"]["field"].as_str()), (422, Some("expiresAt")), "{}", longer.body);
    let inherited = partner.post("/credentials/rotate", json!({})).await;
    assert_eq!(inherited.status, 201, "{}", inherited.body);
    let until = chrono::DateTime::parse_from_rfc3339(inherited.body["expiresAt"].as_str().unwrap()).unwrap();
    assert_eq!(until.date_naive(), (api.now() + Duration::days(120)).date_naive(), "the first key's lifetime");
}

async fn each_facility_is_rate_limited_with_retry_after(db: TestDb) {
    let api = spawn(db, 3).await;
    for _ in 0..3 {
        assert_eq!(api.get("/calendars").await.status, 200);
    }
    let limited = api.get("/calendars").await;
    assert_eq!((limited.status, limited.code()), (429, "rate_limited"));
    let wait: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=20).contains(&wait), "{wait}");
    let issued = api.store.create_credential(api.clinic_id, None, "second-bot", CredentialKind::Bot, None, api.now()).await.unwrap();
    assert_eq!(api.as_user("second-bot", &issued.key).get("/calendars").await.status, 200, "another facility has its own budget");
}

async fn staff_book_walk_ins_check_them_in_in_order_and_register_patients(db: TestDb) {
    let api = spawn(db, 600).await;
    let (cal, kind) = api.berlin_calendar().await;
    let issued = api.store.create_credential(api.clinic_id, None, "front-desk", CredentialKind::Staff, None, api.now()).await.unwrap();
    let desk = api.as_user("front-desk", &issued.key);
    let person = json!({ "name": "Walter Walk", "dob": "1950-03-03", "phone": "+49 30 999999", "email": "walter@example.org" });

    let bot_tries = api.post("/staff/appointments", json!({ "calendarId": cal, "appointmentTypeId": kind, "walkIn": true, "patient": person })).await;
    assert_eq!(bot_tries.status, 401, "a bot key is not a staff credential");

    let walk_in = desk.post("/staff/appointments", json!({ "calendarId": cal, "appointmentTypeId": kind, "walkIn": true, "patient": person })).await;
    assert_eq!(walk_in.status, 201, "{}", walk_in.body);
    let first = walk_in.body["appointmentId"].as_str().unwrap().to_owned();
    let later_at = api.now() + Duration::minutes(40);
    let later = later_at.to_rfc3339();
    // Late at night the phone call falls on the next day, whose queue is another one.
    let berlin_day = |t: chrono::DateTime<chrono::Utc>| t.with_timezone(&chrono_tz::Europe::Berlin).date_naive();
    let same_day = berlin_day(api.now()) == berlin_day(later_at);
    let temporary = walk_in.body["temporaryPatientId"].as_str().unwrap().to_owned();
    let phone = desk.post("/staff/appointments", json!({ "calendarId": cal, "appointmentTypeId": kind, "start": later, "temporaryPatientId": temporary })).await;
    assert_eq!(phone.status, 201, "{}", phone.body);
    let second = phone.body["appointmentId"].as_str().unwrap().to_owned();
    let overlap = desk.post("/staff/appointments", json!({ "calendarId": cal, "appointmentTypeId": kind, "start": later, "temporaryPatientId": temporary })).await;
    assert_eq!((overlap.status, overlap.code()), (409, "slot_taken"));

    for (body, code) in [
        (json!({ "calendarId": cal, "appointmentTypeId": kind, "temporaryPatientId": temporary }), "invalid_field"),
        (json!({ "calendarId": cal, "appointmentTypeId": kind, "start": "2020-01-01T09:00:00+01:00", "temporaryPatientId": temporary }), "invalid_field"),
        (json!({ "calendarId": cal, "appointmentTypeId": kind, "walkIn": true, "temporaryPatientId": temporary, "room": 4 }), "invalid_body"),
    ] {
        let a = desk.post("/staff/appointments", body.clone()).await;
        assert_eq!((a.status, a.code()), (422, code), "{body}: {}", a.body);
    }

    // Arrival order, not booking order, sets the queue of a provider's day: the later
    // appointment arrives first. Each day's queue starts at 1.
    let in_second = desk.post(&format!("/staff/appointments/{second}/check-in"), json!({})).await;
    assert_eq!(in_second.status, 200, "{}", in_second.body);
    assert_eq!((in_second.body["status"].as_str(), in_second.body["queueNumber"].as_i64()), (Some("checked_in"), Some(1)));
    let in_first = desk.post(&format!("/staff/appointments/{first}/check-in"), json!({})).await;
    let first_queue = if same_day { 2 } else { 1 };
    assert_eq!(in_first.body["queueNumber"], first_queue, "{}", in_first.body);
    let again = desk.post(&format!("/staff/appointments/{first}/check-in"), json!({})).await;
    assert_eq!((again.status, again.code()), (409, "invalid_status"));
    let done = desk.post(&format!("/staff/appointments/{first}/complete"), json!({})).await;
    assert_eq!(done.body["status"], "completed");
    let no_show = desk.post(&format!("/staff/appointments/{first}/no-show"), json!({})).await;
    assert_eq!((no_show.status, no_show.code()), (409, "invalid_status"), "completed is final");
    assert_eq!(desk.post("/staff/appointments/999999/complete", json!({})).await.status, 404);

    let registered = desk.post(&format!("/staff/patients/{temporary}/register"), json!({})).await;
    assert_eq!(registered.status, 200, "{}", registered.body);
    assert_eq!(registered.body["temporaryPatientId"], json!(temporary));
    let patient_id = registered.body["patientId"].as_str().unwrap();
    let twice = desk.post(&format!("/staff/patients/{patient_id}/register"), json!({})).await;
    assert_eq!((twice.status, twice.code()), (409, "already_registered"));
    let seen_by_bot = api.get(&format!("/appointments?patientId={patient_id}")).await;
    assert_eq!(seen_by_bot.body["appointments"].as_array().unwrap().len(), 2, "the bot now sees the permanent id");

    for (event, n) in [("Queued", 2), ("appointmentCompleted", 1), ("patientCreated", 1)] {
        let count = api.count(&format!("SELECT COUNT(*) FROM outbox WHERE event_type = '{event}' AND clinic_id = {}", api.clinic_id)).await;
        assert_eq!(count, n, "{event}");
    }
    let queued = api.count(&format!("SELECT COUNT(*) FROM outbox WHERE event_type = 'Queued' AND payload LIKE '%\"appointmentId\":\"{first}\"%' AND payload LIKE '%\"queueNumber\":{first_queue}%'")).await;
    assert_eq!(queued, 1, "the Queued event carries the queue number");
}

async fn the_openapi_document_and_docs_page_describe_every_endpoint_without_credentials(db: TestDb) {
    let api = spawn(db, 600).await;
    let doc: Value = api.http.get(format!("{}/api/v1/openapi.json", api.base)).send().await.unwrap().json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"), "{}", doc["openapi"]);
    let paths: Vec<&str> = doc["paths"].as_object().unwrap().keys().map(String::as_str).collect();
    for path in [
        "/api/v1/calendars", "/api/v1/patient", "/api/v1/availability", "/api/v1/appointments", "/api/v1/appointments/{id}",
        "/api/v1/appointments/{id}/reschedule", "/api/v1/appointments/{id}/cancel", "/api/v1/credentials/rotate",
        "/api/v1/staff/appointments", "/api/v1/staff/appointments/{id}/check-in", "/api/v1/staff/patients/{id}/register",
    ] {
        assert!(paths.contains(&path), "{path} is documented");
    }
    assert_eq!(doc["components"]["securitySchemes"]["basic"]["scheme"], "basic");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            for status in ["400", "401", "404", "422", "429"] {
                let schema = &op["responses"][status]["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ErrorBody", "{method} {path} documents {status}");
            }
        }
    }

    // What the API answers is what the document says it answers.
    let (cal, kind) = api.berlin_calendar().await;
    let slots = api.free_slots(&cal, &kind).await;
    let booked = api.book_new_patient(slots[0]["slotId"].as_str().unwrap(), "Doku").await;
    let documented = doc["components"]["schemas"]["Appointment"]["properties"].as_object().unwrap();
    for field in booked.body.as_object().unwrap().keys() {
        assert!(documented.contains_key(field), "{field} is documented");
    }
    let params: Vec<&str> = doc["paths"]["/api/v1/availability"]["get"]["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert!(params.contains(&"calendar_id") && params.contains(&"month"), "{params:?}");

    // The voice-bot endpoint, with every action it dispatches.
    let voice = &doc["paths"]["/api/voicebot"]["post"];
    assert_eq!(voice["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/VoiceCall", "{voice}");
    let call = &doc["components"]["schemas"]["VoiceCall"]["properties"];
    let actions: Vec<&str> = call["action"]["enum"].as_array().unwrap_or_else(|| panic!("{}", call["action"])).iter().map(|a| a.as_str().unwrap()).collect();
    assert_eq!(actions, server::api::voice::ACTIONS);
    for field in ["sipId", "entityId", "appointmentTypeId", "productId", "agentId", "dateTime", "timezone", "slotId", "slotIdOld", "slotIdNew", "bookingId", "booker", "participant"] {
        assert!(call.get(field).is_some(), "VoiceCall documents {field}");
    }
    // The webhooks receivers get: every event type, its body and the signature headers.
    for event in domain::delivery::EventType::ALL {
        let hook = &doc["webhooks"][event.as_str()]["post"];
        assert_eq!(hook["requestBody"]["content"]["application/json"]["schema"]["$ref"], "#/components/schemas/WebhookEvent", "{}", event.as_str());
        let headers: Vec<&str> = hook["parameters"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
        assert_eq!(headers, ["webhook-id", "webhook-timestamp", "webhook-signature", "X-Webhook-Signature"]);
    }
    assert!(doc["components"]["schemas"]["WebhookEventData"]["properties"]["appointmentTypeName"].is_object());

    let page = api.http.get(format!("{}/v1/docs", api.base)).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("<code>POST /api/v1/appointments</code>") && html.contains("Idempotency-Key"), "{html}");
    assert!(html.contains("<code>POST /api/voicebot</code>") && html.contains("<code>X-Webhook-Signature</code>") && html.contains("<code>appointmentNoShow</code>"), "{html}");
}

on_both_backends!(
    failed_authentications_are_throttled_per_address_and_per_user_id_without_locking_the_real_bot_out,
    a_bot_may_send_snake_case_and_fields_we_do_not_know_and_cancel_without_a_body,
    the_openapi_document_and_docs_page_describe_every_endpoint_without_credentials,
    staff_book_walk_ins_check_them_in_in_order_and_register_patients,
    requests_without_valid_credentials_are_refused_with_a_challenge,
    calendars_list_providers_with_location_and_appointment_types_under_both_prefixes,
    availability_groups_free_slots_by_local_date_and_refuses_bad_ranges,
    any_calendar_lists_every_calendars_slots_at_the_location_in_time_order,
    patient_lookup_finds_one_says_when_several_match_and_validates_input,
    booking_returns_the_appointment_and_honours_idempotency_keys,
    a_bot_that_follows_the_contract_books_a_new_patient_at_any_time_it_is_offered,
    bad_booking_requests_get_a_clear_4xx_and_change_nothing,
    a_taken_slot_is_409_with_alternatives_and_a_race_books_once,
    appointments_are_listed_read_rescheduled_and_cancelled_within_the_cutoff,
    a_location_credential_sees_only_its_location,
    phone_numbers_without_a_country_code_are_read_as_the_booked_locations_country_writes_them,
    another_clinics_ids_answer_404,
    a_rotated_key_works_beside_the_old_one_until_the_next_rotation,
    each_facility_is_rate_limited_with_retry_after,
);
