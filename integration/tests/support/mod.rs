//! What the API test suites share: a demo server on a real socket and a small HTTP client
//! that speaks as one credential.

#![allow(dead_code)] // each suite uses a different part

use chrono::{DateTime, Duration, Utc};
use leptos::prelude::LeptosOptions;
use serde_json::{json, Value};
use server::api::ApiOptions;
use store::links::LinkKey;
use store::testing::{scalar_i64, test_clock, TestDb};
use store::{Clock, DemoSeed, Store};

pub const DEMO_KEY: &str = "bk_test_demo_key";
/// What the manage links of these servers are signed with.
pub const LINK_PASSPHRASE: &str = "bot api test passphrase";
/// The demo voice bot's key (user `demo-voice`).
pub const DEMO_VOICE_KEY: &str = "bk_test_demo_voice_key";

pub struct Api {
    pub base: String,
    pub http: reqwest::Client,
    pub store: Store,
    pub clinic_id: i64,
    pub user: String,
    pub key: String,
    /// The server's clock, started at the suite's date (`store::testing::test_start`).
    pub clock: Clock,
}

pub struct Answer {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Answer {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_else(|| panic!("not an error: {}", self.body))
    }
}

/// Seeds the demo clinic and serves the whole router on a free port of 127.0.0.1, both as of
/// the suite's date. The options' clock is replaced by that date's.
pub async fn spawn_with(db: TestDb, api_options: ApiOptions) -> Api {
    let clock = test_clock();
    let api_options = ApiOptions { clock, ..api_options };
    let seeded = db.store.seed_demo(&DemoSeed { now: clock.now(), api_key: DEMO_KEY.into(), voice_key: DEMO_VOICE_KEY.into() }).await.unwrap();
    let store::SeedOutcome::Created { clinic_id } = seeded else { panic!("fresh database") };
    let options = LeptosOptions::builder().output_name("booking").site_root("target/site").build();
    let app = server::router(db.store.clone(), LinkKey::from_passphrase(LINK_PASSPHRASE), options, &api_options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Api {
        base: format!("http://{addr}"),
        http: reqwest::Client::new(),
        store: db.store,
        clinic_id,
        user: "demo".into(),
        key: DEMO_KEY.into(),
        clock,
    }
}

impl Api {
    /// The same server, as another credential.
    pub fn as_user(&self, user: &str, key: &str) -> Api {
        Api {
            base: self.base.clone(),
            http: self.http.clone(),
            store: self.store.clone(),
            clinic_id: self.clinic_id,
            user: user.into(),
            key: key.into(),
            clock: self.clock,
        }
    }

    /// Now, as the server sees it.
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Answer {
        let res = req.basic_auth(&self.user, Some(&self.key)).send().await.unwrap();
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = match text.is_empty() {
            true => Value::Null, // 204
            false => serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text}")),
        };
        Answer { status, body, headers }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(self.http.get(format!("{}/api/v1{path}", self.base))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(self.http.post(format!("{}/api/v1{path}", self.base)).json(&body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(self.http.put(format!("{}/api/v1{path}", self.base)).json(&body)).await
    }

    pub async fn count(&self, sql: &str) -> i64 {
        scalar_i64(&self.store, sql).await
    }

    /// A Berlin physiotherapist's calendar and its 30-minute type (the same length for new
    /// and known patients).
    pub async fn berlin_calendar(&self) -> (String, String) {
        let cals = self.get("/calendars").await;
        let cal = cals.body["calendars"].as_array().unwrap().iter().find(|c| c["name"] == "Sophie Wagner").unwrap();
        (cal["id"].as_str().unwrap().to_owned(), cal["appointmentTypes"][0]["id"].as_str().unwrap().to_owned())
    }

    /// Free slots of a calendar, from three days ahead (outside the change cutoff).
    pub async fn free_slots(&self, calendar: &str, kind: &str) -> Vec<Value> {
        let from = (self.now() + Duration::days(3)).date_naive();
        let to = from + Duration::days(14);
        let a = self.get(&format!("/availability?calendar_id={calendar}&appointment_type_id={kind}&from={from}&to={to}")).await;
        assert_eq!(a.status, 200, "{}", a.body);
        a.body["days"].as_array().unwrap().iter().flat_map(|d| d["slots"].as_array().unwrap().clone()).collect()
    }

    pub async fn book_new_patient(&self, slot: &str, first: &str) -> Answer {
        self.post(
            "/appointments",
            json!({ "slotId": slot, "patient": {
                "firstName": first, "lastName": "Müller", "dob": "1985-07-25", "phone": "+49 30 1234567", "email": "j.m@example.org",
            }}),
        )
        .await
    }
}

