//! The booking page and its server function, over real HTTP, on both backends.

use chrono::{NaiveDate, Utc};
use leptos::prelude::LeptosOptions;
use serde_json::Value;
use store::testing::TestDb;
use store::{on_both_backends, DemoSeed};

struct TestServer {
    base: String,
    http: reqwest::Client,
}

/// Seeds the demo clinic into `db` and serves the production router on a free port.
async fn spawn_app(db: TestDb) -> TestServer {
    db.store.seed_demo(&DemoSeed { now: Utc::now(), api_key: "bk_test".into() }).await.unwrap();
    let options = LeptosOptions::builder().output_name("booking").site_root("target/site").build();
    let app = server::router(db.store.clone(), options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    TestServer { base: format!("http://{addr}"), http: reqwest::Client::new() }
}

impl TestServer {
    async fn get(&self, path: &str) -> (u16, String) {
        let res = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        (res.status().as_u16(), res.text().await.unwrap())
    }

    /// Calls the server function the way the hydrated page does: a url-encoded POST.
    async fn day_availability(&self, form: &[(&str, &str)]) -> (u16, Value) {
        let res = self
            .http
            .post(format!("{}/api/day_availability", self.base))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}")))
    }
}

fn dates_of(days: &Value) -> Vec<(String, u64)> {
    days.as_array()
        .unwrap()
        .iter()
        .map(|d| (d["date"].as_str().unwrap().to_owned(), d["free"].as_u64().unwrap()))
        .collect()
}

async fn the_first_html_already_lists_bookable_times(db: TestDb) {
    let app = spawn_app(db).await;
    let (status, html) = app.get("/book/demo").await;
    assert_eq!(status, 200);
    assert!(html.contains("Stadtpark Health Clinic"), "clinic name missing");
    let times = html.matches("<time datetime=").count();
    assert!(times > 0, "no bookable times in the server-rendered HTML:\n{html}");
    assert!(html.contains("/pkg/booking.js") && html.contains("/pkg/booking.wasm"), "hydration scripts missing");
    assert!(html.contains(r#"data-hydrated="false""#), "server HTML must not claim to be hydrated");
}

async fn the_server_function_lists_the_chosen_day_in_the_location_zone(db: TestDb) {
    let app = spawn_app(db).await;
    let (status, first) = app.day_availability(&[("clinic", "demo")]).await;
    assert_eq!(status, 200, "{first}");
    let days = dates_of(&first["days"]);
    assert_eq!(days.len(), 14);
    assert_eq!(first["time_zone"], "Europe/Berlin");
    // Another day with free times than the default one.
    let default = first["date"].as_str().unwrap().to_owned();
    let (other, free) = days.iter().find(|(d, n)| *d != default && *n > 0).cloned().expect("a second open day");

    let (status, chosen) = app.day_availability(&[("clinic", "demo"), ("date", &other)]).await;
    assert_eq!(status, 200, "{chosen}");
    assert_eq!(chosen["date"], other.as_str());
    let times = chosen["times"].as_array().unwrap();
    assert_eq!(times.len() as u64, free, "the day list and the times agree");
    let mut previous = None;
    for t in times {
        let start = chrono::DateTime::parse_from_rfc3339(t["start"].as_str().unwrap()).unwrap();
        assert_eq!(start.date_naive().to_string(), other, "{t} is not on {other}");
        assert_eq!(start.format("%H:%M").to_string(), t["label"].as_str().unwrap());
        assert!(matches!(start.offset().local_minus_utc(), 3600 | 7200), "{t} is not in Berlin time");
        assert!(start.format("%M").to_string() == "00" || start.format("%M").to_string() == "30");
        assert!(previous < Some(start), "times are not in order");
        previous = Some(start);
    }
}

async fn an_unknown_clinic_gets_a_404_page(db: TestDb) {
    let app = spawn_app(db).await;
    let (status, html) = app.get("/book/nowhere").await;
    assert_eq!(status, 404);
    assert!(html.contains("could not find this clinic"), "{html}");
    let (status, body) = app.day_availability(&[("clinic", "nowhere")]).await;
    assert_eq!(status, 404);
    assert_eq!(body["NotFound"]["what"], "clinic", "{body}");
}

async fn a_malformed_clinic_or_date_is_refused_with_422(db: TestDb) {
    let app = spawn_app(db).await;
    let (status, body) = app.day_availability(&[("clinic", "Not A Slug")]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["Invalid"]["field"], "clinic");
    let (status, body) = app.day_availability(&[("clinic", "demo"), ("date", "2026-13-45")]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["Invalid"]["field"], "date");
    let (status, _) = app.get("/book/demo?date=yesterday").await;
    assert_eq!(status, 422);
}

async fn a_date_outside_the_two_weeks_shown_is_refused(db: TestDb) {
    let app = spawn_app(db).await;
    let past = NaiveDate::from_ymd_opt(2020, 1, 6).unwrap().to_string();
    let far = (Utc::now().date_naive() + chrono::Duration::days(60)).to_string();
    for date in [past, far] {
        let (status, body) = app.day_availability(&[("clinic", "demo"), ("date", &date)]).await;
        assert_eq!(status, 422, "{date}: {body}");
        assert_eq!(body["Invalid"]["field"], "date");
    }
}

async fn the_health_check_answers_ok(db: TestDb) {
    let app = spawn_app(db).await;
    assert_eq!(app.get("/healthz").await, (200, "ok".to_owned()));
}

on_both_backends!(
    the_first_html_already_lists_bookable_times,
    the_server_function_lists_the_chosen_day_in_the_location_zone,
    an_unknown_clinic_gets_a_404_page,
    a_malformed_clinic_or_date_is_refused_with_422,
    a_date_outside_the_two_weeks_shown_is_refused,
    the_health_check_answers_ok,
);
