//! The patient widget over real HTTP on both backends, driven the way a browser without
//! JavaScript drives it: GET pages, POST forms to the server functions, follow redirects.

use chrono::Duration;
use chrono_tz::Europe::Berlin;
use leptos::prelude::LeptosOptions;
use reqwest::redirect::Policy;
use store::links::{sign, LinkClaims, LinkKey};
use store::testing::{execute, scalar_i64, test_clock, TestDb};
use store::{on_both_backends, Clock, DemoSeed, Store};

const KEY: &str = "test passphrase for manage links";

struct TestServer {
    base: String,
    http: reqwest::Client,
    store: Store,
    clock: Clock,
}

/// Seeds the demo clinic into `db` and serves the production router on a free port, both as
/// of the suite's date.
async fn spawn_app(db: TestDb) -> TestServer {
    spawn_app_keeping_pages(db, server::pages::DEFAULT_KEEP).await
}

/// `spawn_app` with booking pages kept for `keep` (`server::pages`).
async fn spawn_app_keeping_pages(db: TestDb, keep: std::time::Duration) -> TestServer {
    let clock = test_clock();
    db.store.seed_demo(&DemoSeed { now: clock.now(), api_key: "bk_test".into(), voice_key: "bk_test_voice".into() }).await.unwrap();
    let options = LeptosOptions::builder().output_name("booking").site_root("target/site").build();
    // Clients are told apart by the address a proxy reports, as behind a reverse proxy.
    let forwarded = Some(axum::http::HeaderName::from_static("x-forwarded-for"));
    let api_options = server::api::ApiOptions { clock, client_ip_header: forwarded, page_cache: keep, ..Default::default() };
    let app = server::router(db.store.clone(), LinkKey::from_passphrase(KEY), options, &api_options);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    // A request that never answers fails the test with its address instead of hanging the
    // suite: one such hang was seen once, as of the spring-forward date, and not reproduced.
    let http = reqwest::Client::builder().redirect(Policy::none()).timeout(std::time::Duration::from_secs(30)).build().unwrap();
    TestServer { base: format!("http://{addr}"), http, store: db.store, clock }
}

struct Answer {
    status: u16,
    location: String,
    body: String,
    headers: reqwest::header::HeaderMap,
}

impl TestServer {
    async fn get(&self, path: &str) -> Answer {
        let res = self.http.get(format!("{}{path}", self.base)).send().await.unwrap();
        answer(res).await
    }

    /// A form post as a browser without JavaScript sends it.
    async fn post_form(&self, function: &str, form: &[(&str, &str)], referer: &str) -> Answer {
        let res = self
            .http
            .post(format!("{}/api/{function}", self.base))
            .header("Accept", "text/html")
            .header("Referer", format!("{}{referer}", self.base))
            .form(form)
            .send()
            .await
            .unwrap();
        answer(res).await
    }

    /// The same post as the hydrated page sends it: errors come back as JSON with a status.
    async fn call(&self, function: &str, form: &[(&str, &str)]) -> Answer {
        let res = self
            .http
            .post(format!("{}/api/{function}", self.base))
            .header("Accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        answer(res).await
    }

    async fn count(&self, sql: &str) -> i64 {
        scalar_i64(&self.store, sql).await
    }

    /// Places a hold on the first offered time, three or more days ahead (outside the
    /// clinic's change cutoff), of the booking page: (slot, details path).
    async fn hold_first_time(&self, query: &str) -> (String, String) {
        let lang = if query.contains("lang=de") { "de" } else { "" };
        let sep = if query.is_empty() { "?" } else { "&" };
        let mut found = None;
        for ahead in 3..20 {
            let date = (self.clock.now() + Duration::days(ahead)).date_naive();
            let page = self.get(&format!("/book/demo{query}{sep}date={date}")).await;
            assert_eq!(page.status, 200, "{}", page.body);
            if page.body.contains(r#"name="slot" value=""#) {
                found = Some(first_slot(&page.body));
                break;
            }
        }
        let slot = found.expect("a free time within three weeks");
        let held = self.post_form("hold_slot", &[("clinic", "demo"), ("slot", &slot), ("lang", lang)], "/book/demo").await;
        assert!(held.location.starts_with("/book/demo/details?hold=hold_"), "{} {}", held.status, held.location);
        (slot, held.location)
    }

    /// Books the first offered time for a patient: the manage page's path.
    async fn book_first_time(&self) -> String {
        self.book_first_time_and_slot().await.0
    }

    /// Books the first offered time for a patient: the manage page's path and the slot.
    async fn book_first_time_and_slot(&self) -> (String, String) {
        let (slot, details) = self.hold_first_time("").await;
        let hold = query_value(&details, "hold");
        let booked = self.post_form("confirm_booking", &patient_form(&hold, &slot), &details).await;
        assert!(booked.location.starts_with("/manage/"), "{} {} {}", booked.status, booked.location, booked.body);
        (booked.location, slot)
    }

    /// A time the reschedule picker offers on another Berlin day than `current` and outside
    /// the change cutoff (with an hour to spare), so the moved appointment stays changeable.
    async fn reschedule_target(&self, token: &str, current: &str) -> String {
        let day = |slot: &str| domain::SlotId::parse(slot).unwrap().start.with_timezone(&Berlin).date_naive();
        let earliest = self.clock.now() + Duration::hours(25);
        for ahead in 1..30 {
            let date = (self.clock.now() + Duration::days(ahead)).with_timezone(&Berlin).date_naive();
            let page = self.get(&format!("/manage/{token}/reschedule?date={date}")).await;
            assert_eq!(page.status, 200, "{}", page.body);
            let offered = page.body.split("/reschedule/confirm?slot=").skip(1).map(|rest| rest[..rest.find(['"', '&']).unwrap()].to_owned());
            if let Some(slot) = offered.into_iter().find(|s| domain::SlotId::parse(s).unwrap().start >= earliest && day(s) != day(current)) {
                return slot;
            }
        }
        panic!("the picker offers no time after {earliest} within four weeks");
    }
}

async fn answer(res: reqwest::Response) -> Answer {
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let location = headers.get("location").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    Answer { status, location, body: res.text().await.unwrap(), headers }
}

fn first_slot(html: &str) -> String {
    let at = html.find(r#"name="slot" value=""#).unwrap_or_else(|| panic!("no time button in:\n{html}"));
    let rest = &html[at + r#"name="slot" value=""#.len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

fn query_value(url: &str, key: &str) -> String {
    let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("no {key} in {url}"))
        .to_owned()
}

fn patient_form<'a>(hold: &'a str, slot: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("clinic", "demo"),
        ("hold", hold),
        ("slot", slot),
        ("booker[firstname]", "Jürgen"),
        ("booker[lastname]", "Müller"),
        ("booker[phone]", "+49 30 1234567"),
        ("booker[email]", "j.mueller@example.org"),
        ("booker[dob]", "1985-07-25"),
    ]
}

fn token_of(manage_path: &str) -> String {
    manage_path.trim_start_matches("/manage/").split(['?', '/']).next().unwrap().to_owned()
}

async fn the_first_html_lists_a_month_and_bookable_times(db: TestDb) {
    let app = spawn_app(db).await;
    let page = app.get("/book/demo").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Stadtpark Health Clinic"), "clinic name missing");
    assert!(page.body.matches("<time datetime=").count() > 0, "no bookable times in the server HTML");
    assert!(page.body.contains(r#"data-free=""#), "no day with free times in the month view");
    assert!(["Morning", "Afternoon", "Evening"].iter().any(|g| page.body.contains(g)), "times are not grouped");
    assert!(page.body.contains("/pkg/booking.js") && page.body.contains("/pkg/booking.wasm"));
    assert!(page.body.contains(r#"data-hydrated="false""#), "server HTML must not claim to be hydrated");
    assert_eq!(page.headers["content-security-policy"], "frame-ancestors 'self'");
    assert_eq!(page.headers["referrer-policy"], "same-origin");
}

/// Books `slot` through `store` as a bot would, with nobody's hold on it.
async fn book(store: &Store, slot: &str, now: chrono::DateTime<chrono::Utc>) {
    let clinic = store.clinic_by_slug(&domain::ClinicSlug::parse("demo").unwrap()).await.unwrap();
    store
        .book_slot(&store::SlotBooking {
            clinic_id: clinic.id,
            slot: domain::SlotId::parse(slot).unwrap(),
            new_patient: false,
            booker_id: None,
            participant_id: None,
            source: domain::appointment::BookingSource::BotApi,
            reason: String::new(),
            idempotency: None,
            hold_token: None,
            now,
        })
        .await
        .unwrap();
}

async fn a_booking_page_served_again_never_offers_a_time_taken_since(db: TestDb) {
    let url = db.url.clone();
    // Kept for a minute, far longer than this test waits: only the clinic's changes end a page.
    let app = spawn_app_keeping_pages(db, std::time::Duration::from_secs(60)).await;
    let first = app.get("/book/demo").await;
    assert_eq!(first.status, 200);
    assert!(!first.headers.contains_key("age"), "the first view is rendered");
    let again = app.get("/book/demo").await;
    assert_eq!(again.headers.get("age").map(|v| v.to_str().unwrap()), Some("0"), "the second view is the page kept");
    assert_eq!(again.body, first.body);
    assert!(again.headers.contains_key("set-cookie"), "each browser still gets its own id");
    assert_eq!(again.headers["content-security-policy"], first.headers["content-security-policy"]);

    // Taken through this server: the next view is made anew, without the time.
    let taken = first_slot(&first.body);
    book(&app.store, &taken, app.clock.now()).await;
    let after = app.get("/book/demo").await;
    assert!(!after.headers.contains_key("age"), "a booking ends the kept page");
    assert!(!after.body.contains(&taken), "{taken} is still offered");

    // Taken by another instance or process on the same database: gone within a moment.
    let other = Store::connect(&url).await.unwrap();
    let next = first_slot(&after.body);
    book(&other, &next, app.clock.now()).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let page = app.get("/book/demo").await;
        if !page.body.contains(&next) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{next}, taken elsewhere, is still offered after 10 s");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    other.close().await;

    // Other pages and answers that are not a 200 are never kept.
    for path in ["/book/demo?month=1999-01", "/book/nobody", "/book/demo/details"] {
        app.get(path).await;
        assert!(!app.get(path).await.headers.contains_key("age"), "{path} was kept");
    }
}

async fn a_booking_without_javascript_goes_from_hold_to_confirmation(db: TestDb) {
    let app = spawn_app(db).await;
    let before = app.count("SELECT COUNT(*) FROM appointments").await;
    let (slot, details_path) = app.hold_first_time("?lang=de").await;
    let details = app.get(&details_path).await;
    assert_eq!(details.status, 200, "{}", details.body);
    for field in ["booker[firstname]", "booker[lastname]", "booker[phone]", "booker[email]", "booker[dob]", "participant[dob]"] {
        assert!(details.body.contains(&format!(r#"name="{field}""#)), "form lacks {field}");
    }
    assert!(details.body.contains("Wir halten diesen Termin"), "hold expiry missing or not German");

    let hold = query_value(&details_path, "hold");
    let mut form = patient_form(&hold, &slot);
    // A German mobile number as Germans write it, at a Berlin location.
    form[5] = ("booker[phone]", "0171 2345678");
    form.push(("lang", "de"));
    let booked = app.post_form("confirm_booking", &form, &details_path).await;
    assert!(matches!(booked.status, 302 | 303), "{} {}", booked.status, booked.body);
    assert!(booked.location.starts_with("/manage/") && booked.location.contains("done=booked"), "{}", booked.location);
    let confirmation = app.get(&booked.location).await;
    assert_eq!(confirmation.status, 200);
    assert!(confirmation.body.contains("Ihr Termin ist gebucht"), "{}", confirmation.body);
    assert!(confirmation.body.contains("Jürgen Müller"));
    assert!(confirmation.body.contains(r#"data-booking-event="booking:created""#));

    assert_eq!(app.count("SELECT COUNT(*) FROM appointments").await, before + 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE source = 'widget' AND status = 'booked'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentCreated'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM holds").await, 0, "the hold is consumed by the booking");
    assert_eq!(app.count("SELECT COUNT(*) FROM patients WHERE phone = '+491712345678'").await, 1, "stored in E.164");
}

async fn invalid_details_are_refused_naming_the_field_and_nothing_is_written(db: TestDb) {
    let app = spawn_app(db).await;
    let (slot, details_path) = app.hold_first_time("").await;
    let hold = query_value(&details_path, "hold");
    let patients = app.count("SELECT COUNT(*) FROM patients").await;
    let cases: Vec<(&str, &str, &str)> = vec![
        ("booker[phone]", "12ab", "booker.phone"),
        ("booker[phone]", "0171 234", "booker.phone"),
        ("booker[dob]", "2999-01-01", "booker.dob"),
        ("booker[email]", "not-an-email", "booker.email"),
        ("booker[firstname]", "", "booker.firstname"),
        ("booker[shoe_size]", "44", "booker.shoe_size"),
        ("participant[firstname]", "Only A First Name", "participant.lastname"),
    ];
    for (key, value, field) in cases {
        let mut form: Vec<(&str, &str)> = patient_form(&hold, &slot).into_iter().filter(|(k, _)| *k != key).collect();
        form.push((key, value));
        let refused = app.call("confirm_booking", &form).await;
        assert_eq!(refused.status, 422, "{key}={value}: {}", refused.body);
        let body: serde_json::Value = serde_json::from_str(&refused.body).unwrap();
        assert_eq!(body["Invalid"]["field"], field, "{key}={value}: {body}");
    }
    // Without JavaScript the error comes back in the URL, where the form shows it.
    let mut bad = patient_form(&hold, &slot);
    bad[5] = ("booker[phone]", "12ab");
    let no_js = app.post_form("confirm_booking", &bad, &details_path).await;
    assert_eq!(no_js.status, 302, "a browser follows only a redirect back to the form");
    assert!(no_js.location.contains("__err="), "{}", no_js.location);
    // The form says which field and what it needs, by its label, not the server's words.
    // The Location is the form's page as the browser named it (the Referer).
    let back = no_js.location.split_once("://").and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned())).unwrap_or(no_js.location.clone());
    let shown = app.get(&back).await;
    assert!(shown.body.contains("Mobile phone: Please check the number (every digit"), "{}", shown.body);
    assert!(!shown.body.contains("(booker.phone)"), "no internal field names: {}", shown.body);
    let german = back.replacen('?', "?lang=de&", 1);
    let shown = app.get(&german).await;
    assert!(shown.body.contains("Mobiltelefon: Bitte prüfen Sie die Nummer (alle Ziffern"), "{}", shown.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, patients, "a refused form wrote patients");
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE source = 'widget'").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM holds").await, 1, "the hold survives a refused form");
}

async fn a_time_taken_meanwhile_leads_to_the_nearest_alternatives(db: TestDb) {
    let app = spawn_app(db).await;
    let (slot, _) = app.hold_first_time("").await;
    // A second patient presses the same time: the first one's hold has it.
    let second = app.post_form("hold_slot", &[("clinic", "demo"), ("slot", &slot)], "/book/demo").await;
    assert!(second.location.starts_with("/book/demo?") && second.location.contains("taken="), "{}", second.location);
    let page = app.get(&second.location).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-testid="just-taken""#), "no friendly message");
    assert!(page.body.contains("was just taken"));
    let alternatives = &page.body[page.body.find(r#"data-testid="alternatives""#).unwrap()..];
    let offered = first_slot(alternatives);
    assert_ne!(offered, slot, "the taken time is not offered again");
    assert_eq!(app.count("SELECT COUNT(*) FROM holds").await, 1);
}

async fn the_manage_link_cancels_with_a_reason(db: TestDb) {
    let app = spawn_app(db).await;
    let manage = app.book_first_time().await;
    let token = token_of(&manage);
    let page = app.get(&format!("/manage/{token}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"data-testid="cancel""#), "no cancel button");
    let cancelled = app
        .post_form("cancel_booking", &[("token", &token), ("reason", "feeling better")], &format!("/manage/{token}"))
        .await;
    assert!(cancelled.location.contains("done=cancelled"), "{} {}", cancelled.status, cancelled.location);
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE status = 'cancelled' AND cancellation_reason = 'feeling better'").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentCanceled'").await, 1);
    let after = app.get(&cancelled.location).await;
    assert!(after.body.contains("Your appointment is cancelled"));
    assert!(after.body.contains(r#"data-booking-event="booking:cancelled""#));
    assert!(!after.body.contains(r#"data-testid="cancel""#), "a cancelled appointment offers no cancel");
    // Cancelling twice is refused and changes nothing.
    let again = app.call("cancel_booking", &[("token", &token)]).await;
    assert_eq!(again.status, 422, "{}", again.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentCanceled'").await, 1);
}

async fn the_manage_link_reschedules_through_a_confirmation_step(db: TestDb) {
    let app = spawn_app(db).await;
    let (manage, current) = app.book_first_time_and_slot().await;
    let token = token_of(&manage);
    let before: i64 = app.count("SELECT MAX(id) FROM appointments").await;
    let picker = app.get(&format!("/manage/{token}/reschedule")).await;
    assert_eq!(picker.status, 200, "{}", picker.body);
    assert!(picker.body.contains("/reschedule/confirm?slot="), "times link to the confirmation step");
    let slot = app.reschedule_target(&token, &current).await;
    let confirm_path = format!("/manage/{token}/reschedule/confirm?slot={slot}");
    let confirm = app.get(&confirm_path).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentRescheduled'").await, 0, "viewing moves nothing");
    let moved = app.post_form("reschedule_booking", &[("token", &token), ("slot", &slot)], &confirm_path).await;
    assert!(moved.location.starts_with("/manage/") && moved.location.contains("done=rescheduled"), "{} {}", moved.status, moved.location);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentRescheduled'").await, 1);
    assert_eq!(app.count("SELECT MAX(id) FROM appointments").await, before, "a reschedule moves, it does not create");
    let page = app.get(&moved.location).await;
    assert!(page.body.contains("Your appointment was moved"));
    assert!(page.body.contains(r#"data-testid="cancel""#), "moved outside the cutoff, it can still be cancelled");
    // Moving onto a time that is not offered is refused and changes nothing.
    let bogus = domain::SlotId::parse(&slot).map(|mut s| {
        s.start -= Duration::days(400);
        s.encode()
    });
    let refused = app.call("reschedule_booking", &[("token", &token_of(&moved.location)), ("slot", &bogus.unwrap())]).await;
    assert!(matches!(refused.status, 200 | 302 | 303), "{}", refused.status);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentRescheduled'").await, 1);
}

async fn tampered_expired_or_reassigned_links_are_refused(db: TestDb) {
    let app = spawn_app(db).await;
    let manage = app.book_first_time().await;
    let token = token_of(&manage);
    let mut tampered: Vec<char> = token.chars().collect();
    tampered[3] = if tampered[3] == 'A' { 'B' } else { 'A' };
    let tampered: String = tampered.into_iter().collect();
    let page = app.get(&format!("/manage/{tampered}")).await;
    assert_eq!(page.status, 403);
    assert!(page.body.contains("This link is not valid"));
    assert_eq!(app.get(&format!("/manage/{tampered}/calendar.ics")).await.status, 403);
    assert_eq!(app.call("cancel_booking", &[("token", &tampered)]).await.status, 403);

    let id = app.count("SELECT MAX(id) FROM appointments WHERE source = 'widget'").await;
    let booker = app.count("SELECT booker_id FROM appointments WHERE source = 'widget'").await;
    let key = LinkKey::from_passphrase(KEY);
    let expired = sign(&key, &LinkClaims { appointment_id: id, patient_id: booker, expires_at: app.clock.now() - Duration::minutes(1) });
    let page = app.get(&format!("/manage/{expired}")).await;
    assert_eq!(page.status, 410);
    assert!(page.body.contains("This link has expired"));

    app.book_first_time().await;
    let other = app.count(&format!("SELECT MAX(booker_id) FROM appointments WHERE source = 'widget' AND id <> {id}")).await;
    assert_ne!(other, booker);
    store::testing::execute(&app.store, &format!("UPDATE appointments SET booker_id = {other} WHERE id = {id}")).await;
    assert_eq!(app.get(&format!("/manage/{token}")).await.status, 403, "a link dies when the appointment changes hands");
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE status = 'cancelled'").await, 0);
}

async fn changes_inside_the_cutoff_are_refused_with_a_clear_message(db: TestDb) {
    let app = spawn_app(db).await;
    let manage = app.book_first_time().await;
    let token = token_of(&manage);
    // A cutoff longer than the time left before the appointment.
    store::testing::execute(&app.store, "UPDATE clinics SET cancellation_cutoff_minutes = 129600").await;
    let page = app.get(&format!("/manage/{token}")).await;
    assert!(page.body.contains(r#"data-testid="too-late""#), "{}", page.body);
    let refused = app.call("cancel_booking", &[("token", &token)]).await;
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert!(refused.body.contains("TooLate"));
    assert_eq!(app.count("SELECT COUNT(*) FROM appointments WHERE status = 'cancelled'").await, 0);
}

async fn the_calendar_file_describes_the_appointment(db: TestDb) {
    let app = spawn_app(db).await;
    let token = token_of(&app.book_first_time().await);
    let ics = app.get(&format!("/manage/{token}/calendar.ics")).await;
    assert_eq!(ics.status, 200);
    assert!(ics.headers["content-type"].to_str().unwrap().starts_with("text/calendar"));
    for line in ["BEGIN:VCALENDAR\r\n", "BEGIN:VEVENT\r\n", "DTSTART:", "DTEND:", "LOCATION:Berlin Mitte\\, Torstraße", "STATUS:CONFIRMED"] {
        assert!(ics.body.contains(line), "{line} missing in\n{}", ics.body);
    }
}

async fn a_page_view_reads_its_month_and_looks_a_few_months_ahead_whatever_the_horizon(db: TestDb) {
    use chrono::{Datelike, Months};
    let app = spawn_app(db).await;
    let today = app.clock.now().with_timezone(&Berlin).date_naive();
    let this_month = today.with_day(1).unwrap();
    let reopens = this_month + Months::new(4);
    // A three-year horizon, and the clinic closed until four months from now.
    execute(&app.store, "UPDATE clinics SET horizon_days = 1096 WHERE slug = 'demo'").await;
    let closed: Vec<String> = today.iter_days().take_while(|d| *d < reopens).map(|d| format!("((SELECT id FROM clinics WHERE slug = 'demo'), '{d}', 'Closed')")).collect();
    execute(&app.store, "DELETE FROM holidays WHERE clinic_id = (SELECT id FROM clinics WHERE slug = 'demo')").await;
    execute(&app.store, &format!("INSERT INTO holidays (clinic_id, on_date, name) VALUES {}", closed.join(", "))).await;

    // The first view looks three months ahead, no further, and says so.
    let first = app.get("/book/demo").await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert!(first.body.contains(r#"data-testid="none-soon""#), "{}", first.body);
    assert!(first.body.contains(&format!("month={}", (this_month + Months::new(1)).format("%Y-%m"))), "the current month, with a way on");
    assert!(!first.body.contains(r#"name="slot""#) && !first.body.contains(r#"data-testid="next-available""#));
    // Later months show their times when asked for.
    let reopened = app.get(&format!("/book/demo?month={}", reopens.format("%Y-%m"))).await;
    assert!(reopened.body.contains(r#"name="slot" value=""#), "{}", reopened.body);
    // The whole horizon can be browsed (a view reads one month, so no year-long cap is needed).
    let last = (today + Duration::days(1095)).with_day(1).unwrap();
    let far = app.get(&format!("/book/demo?month={}", last.format("%Y-%m"))).await;
    assert_eq!(far.status, 200, "{}", far.body);
    assert!(!far.body.contains(&format!("month={}", (last + Months::new(1)).format("%Y-%m"))), "no month after the horizon's");
    let beyond = app.get(&format!("/book/demo?month={}", (last + Months::new(1)).format("%Y-%m"))).await;
    assert_eq!(beyond.status, 422, "{}", beyond.body);
}

async fn bad_page_parameters_get_a_4xx_and_a_friendly_page(db: TestDb) {
    let app = spawn_app(db).await;
    for (path, status) in [
        ("/book/nowhere", 404),
        ("/book/Not_A_Slug", 422),
        ("/book/demo?date=2026-13-45", 422),
        ("/book/demo?date=2020-01-06", 422),
        ("/book/demo?month=1999-01", 422),
        ("/book/demo?location=999999", 422),
        ("/book/demo?location=abc", 422),
        ("/book/demo?provider=999999", 422),
        ("/book/demo?taken=garbage", 422),
        ("/book/demo/details?hold=nope&slot=garbage", 422),
        ("/manage/not-a-token", 403),
    ] {
        let page = app.get(path).await;
        assert_eq!(page.status, status, "{path}");
        assert!(page.body.contains(r#"data-testid="problem""#), "{path} shows no message");
    }
    let (slot, _) = app.hold_first_time("").await;
    let expired_hold = app.get(&format!("/book/demo/details?hold=hold_0000&slot={slot}")).await;
    assert_eq!(expired_hold.status, 409);
    assert!(expired_hold.body.contains("could not hold this time"));
    let bad_slot = app.call("hold_slot", &[("clinic", "demo"), ("slot", "s1:forged")]).await;
    assert_eq!(bad_slot.status, 422, "{}", bad_slot.body);
}

async fn german_pages_use_german_words_and_dates(db: TestDb) {
    let app = spawn_app(db).await;
    let page = app.get("/book/demo?lang=de").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains(r#"lang="de""#), "html lang is not de");
    assert!(page.body.contains("Termin buchen"));
    let german_month = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"];
    assert!(german_month.iter().any(|m| page.body.contains(m)));
    assert!(["Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"].iter().any(|d| page.body.contains(d)));
    assert!(["Vormittag", "Nachmittag", "Abend"].iter().any(|g| page.body.contains(g)), "times are not grouped in German");
}

async fn only_allowed_origins_may_frame_the_widget_and_hear_from_it(db: TestDb) {
    let app = spawn_app(db).await;
    let slug = domain::ClinicSlug::parse("demo").unwrap();
    app.store.set_embed_origins(&slug, &["https://www.clinic.example".into()], app.clock.now()).await.unwrap();
    let allowed = app.get("/book/demo?embed=https%3A%2F%2Fwww.clinic.example").await;
    assert_eq!(allowed.headers["content-security-policy"], "frame-ancestors 'self' https://www.clinic.example");
    assert!(allowed.body.contains(r#"name="booking-parent" content="https://www.clinic.example""#));
    let other = app.get("/book/demo?embed=https%3A%2F%2Fevil.example").await;
    assert_eq!(other.headers["content-security-policy"], "frame-ancestors 'self' https://www.clinic.example");
    assert!(!other.body.contains("booking-parent"), "a page embedded elsewhere must not talk to its parent");
    assert!(app.store.set_embed_origins(&slug, &["*".into()], app.clock.now()).await.is_err(), "a wildcard is never an origin");
}

/// Every server function of the widget and the console, read from their sources so that a
/// new one is fuzzed too.
fn server_functions() -> Vec<String> {
    let mut names = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../app/src"))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for rest in text.split("#[server(endpoint = \"").skip(1) {
                    names.push(rest[..rest.find('"').unwrap()].to_owned());
                }
            }
        }
    }
    names.sort();
    names
}

async fn malformed_calls_of_every_server_function_get_a_4xx_and_change_nothing(db: TestDb) {
    let app = spawn_app(db).await;
    let functions = server_functions();
    assert!(functions.len() > 40 && functions.contains(&"hold_slot".to_owned()), "{functions:?}");
    let written = "SELECT (SELECT COUNT(*) FROM appointments) + (SELECT COUNT(*) FROM holds) + (SELECT COUNT(*) FROM patients)
                   + (SELECT COUNT(*) FROM audit_log)";
    let before = app.count(written).await;
    let huge = "x".repeat(100 * 1024);
    let junk: &[u8] = b"\x00\xff{{{ not a form %%% \xfe";
    let form = "application/x-www-form-urlencoded";
    let cases: Vec<(&str, &str, Vec<u8>)> = vec![
        ("missing fields", form, Vec::new()),
        ("unknown fields only", form, b"nonsense=1&more[deep][er]=2".to_vec()),
        ("wrong types", form, b"clinic[]=a&clinic[]=b&slot[x]=1&hold=%FF%FE&id=-1e999&token=&provider=abc".to_vec()),
        ("a JSON body", "application/json", br#"{"clinic": 1, "slot": ["s"], "extra": {"a": null}}"#.to_vec()),
        ("JSON as a form", form, br#"{"clinic":"demo"}"#.to_vec()),
        ("junk", form, junk.to_vec()),
        ("plain text", "text/plain", b"clinic=demo".to_vec()),
        ("no content type", "", b"clinic=demo".to_vec()),
        ("a huge body", form, format!("clinic=demo&reason={huge}").into_bytes()),
    ];
    for (n, name) in functions.iter().enumerate() {
        for (what, content_type, body) in &cases {
            for accept in ["application/json", "text/html"] {
                // One address per function, so that the fuzzing is not itself rate-limited.
                let address = format!("10.0.{}.{}", n / 250, n % 250 + 1);
                let mut request =
                    app.http.post(format!("{}/api/{name}", app.base)).header("Accept", accept).header("X-Forwarded-For", address).body(body.clone());
                if !content_type.is_empty() {
                    request = request.header("Content-Type", *content_type);
                }
                let answer = answer(request.send().await.unwrap()).await;
                assert!(answer.status < 500, "{name} with {what} ({accept}): {} {}", answer.status, answer.body);
                if *what == "a huge body" {
                    assert_eq!(answer.status, 413, "{name} with {what} ({accept})");
                }
                if answer.status >= 400 && accept == "text/html" {
                    assert!(answer.body.contains(r#"data-testid="problem""#), "{name} with {what}: a page for people: {}", answer.body);
                }
            }
        }
    }
    // The widget's own: a form without a field is a 400, named as such, in both forms.
    let missing = app.call("hold_slot", &[("slot", "s1")]).await;
    assert_eq!(missing.status, 400, "{}", missing.body);
    assert!(missing.body.contains("could not be read") && !missing.body.contains("Transport"), "{}", missing.body);
    let page = app.post_form("hold_slot", &[("slot", "s1")], "/book/demo").await;
    assert_eq!(page.status, 400);
    assert!(page.body.contains(r#"href="/book/demo""#), "a way back to the form: {}", page.body);
    let german = app
        .http
        .post(format!("{}/api/hold_slot", app.base))
        .header("Accept", "text/html")
        .header("Accept-Language", "de-DE,de;q=0.9")
        .form(&[("x", "y")])
        .send()
        .await
        .unwrap();
    assert_eq!(german.status(), 400);
    assert!(german.text().await.unwrap().contains("konnte nicht gelesen werden"));
    assert_eq!(app.count(written).await, before, "no malformed call wrote anything");
}

async fn state_changing_calls_from_another_site_are_refused(db: TestDb) {
    let app = spawn_app(db).await;
    let (slot, _) = app.hold_first_time("").await;
    let holds = app.count("SELECT COUNT(*) FROM holds").await;
    let post = |origin: Option<&str>, site: Option<&str>| {
        let mut request = app
            .http
            .post(format!("{}/api/hold_slot", app.base))
            .header("Accept", "application/json")
            .form(&[("clinic", "demo"), ("slot", slot.as_str()), ("lang", "")]);
        if let Some(origin) = origin {
            request = request.header("Origin", origin);
        }
        if let Some(site) = site {
            request = request.header("Sec-Fetch-Site", site);
        }
        request.send()
    };
    for (origin, site) in [
        (Some("https://evil.example"), None),
        (Some("null"), None),
        (None, Some("cross-site")),
        (None, Some("same-site")),
        (Some(app.base.as_str()), Some("cross-site")),
    ] {
        let refused = post(origin, site).await.unwrap();
        assert_eq!(refused.status(), 403, "{origin:?} {site:?}");
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM holds").await, holds, "nothing was held");
    // The widget's own page, framed on the clinic's site or not, calls from this origin.
    let own = post(Some(app.base.as_str()), Some("same-origin")).await.unwrap();
    assert!(own.status().as_u16() < 500 && own.status() != 403, "{}", own.status());
}

/// Every time the booking page offers on the days it shows from `date` on, for a week.
async fn offered_times(app: &TestServer) -> Vec<String> {
    let mut slots = Vec::new();
    for ahead in 3..10 {
        let date = (app.clock.now() + Duration::days(ahead)).date_naive();
        let page = app.get(&format!("/book/demo?date={date}")).await;
        slots.extend(page.body.split(r#"name="slot" value=""#).skip(1).map(|rest| rest[..rest.find('"').unwrap()].to_owned()));
    }
    slots.sort();
    slots.dedup();
    slots
}

async fn one_client_holding_as_fast_as_it_can_leaves_others_their_times(db: TestDb) {
    let app = spawn_app(db).await;
    let before = offered_times(&app).await;
    assert!(before.len() > 40, "{} times", before.len());
    let hold = |slot: String, address: &'static str| {
        app.http
            .post(format!("{}/api/hold_slot", app.base))
            .header("Accept", "application/json")
            .header("X-Forwarded-For", format!("10.9.8.7, {address}"))
            .form(&[("clinic", "demo".to_owned()), ("slot", slot), ("lang", String::new())])
            .send()
    };
    // The flood: every offered time, eight at a time, from one address without cookies.
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for chunk in before.chunks(8) {
        let calls: Vec<_> = chunk.iter().map(|slot| tokio::spawn(hold(slot.clone(), "192.0.2.66"))).collect();
        for call in calls {
            *statuses.entry(call.await.unwrap().unwrap().status().as_u16()).or_default() += 1;
        }
    }
    assert!(statuses.get(&429).copied().unwrap_or(0) > 0, "the flood was slowed: {statuses:?}");
    assert!(statuses.keys().all(|s| *s < 500), "{statuses:?}");
    let held = app.count("SELECT COUNT(*) FROM holds WHERE client_address = '192.0.2.66'").await;
    assert!(held <= domain::limits::HOLDS_PER_ADDRESS, "{held} holds");
    let after = offered_times(&app).await;
    assert!(after.len() as i64 >= before.len() as i64 - domain::limits::HOLDS_PER_ADDRESS, "{} of {} times left", after.len(), before.len());
    // Another patient holds and books as usual.
    let theirs = hold(after[0].clone(), "198.51.100.9").await.unwrap();
    assert!(theirs.status().as_u16() < 400, "{}", theirs.text().await.unwrap());
    assert_eq!(app.count("SELECT COUNT(*) FROM holds WHERE client_address = '198.51.100.9'").await, 1);
    let (manage, _) = app.book_first_time_and_slot().await;
    assert!(manage.starts_with("/manage/"));
}

on_both_backends!(
    the_first_html_lists_a_month_and_bookable_times,
    a_booking_without_javascript_goes_from_hold_to_confirmation,
    invalid_details_are_refused_naming_the_field_and_nothing_is_written,
    a_time_taken_meanwhile_leads_to_the_nearest_alternatives,
    the_manage_link_cancels_with_a_reason,
    the_manage_link_reschedules_through_a_confirmation_step,
    tampered_expired_or_reassigned_links_are_refused,
    changes_inside_the_cutoff_are_refused_with_a_clear_message,
    the_calendar_file_describes_the_appointment,
    bad_page_parameters_get_a_4xx_and_a_friendly_page,
    german_pages_use_german_words_and_dates,
    only_allowed_origins_may_frame_the_widget_and_hear_from_it,
    malformed_calls_of_every_server_function_get_a_4xx_and_change_nothing,
    state_changing_calls_from_another_site_are_refused,
    a_page_view_reads_its_month_and_looks_a_few_months_ahead_whatever_the_horizon,
    a_booking_page_served_again_never_offers_a_time_taken_since,
    one_client_holding_as_fast_as_it_can_leaves_others_their_times,
);
