//! Operating the real server binary: `/metrics` as Prometheus reads it, `/readyz` while the
//! database goes away and comes back, a backup taken under write load and restored, and two
//! instances on one PostgreSQL behind a proxy.

#[path = "scenarios/delivery.rs"]
#[allow(dead_code)]
mod delivery;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use delivery::{start_logging, start_with, Instance, KEY, SECRET};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::testing::{fresh_db, scalar_i64, test_clock, TempDir};
use store::{Backend, Clock, DemoSeed, Store};

async fn seed(store: &Store, clock: &Clock) -> i64 {
    let seeded = store.seed_demo(&DemoSeed { now: clock.now(), api_key: KEY.into(), voice_key: "bk_ops_voice".into() }).await.unwrap();
    let store::SeedOutcome::Created { clinic_id } = seeded else { panic!("fresh database") };
    clinic_id
}

fn http() -> reqwest::Client {
    reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap()
}

async fn api(http: &reqwest::Client, method: reqwest::Method, url: String, body: Option<Value>) -> (u16, Value) {
    let mut req = http.request(method, url).basic_auth("demo", Some(KEY));
    if let Some(body) = body {
        req = req.json(&body);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// A webhook receiver that counts each (subscription, event id) it is sent.
async fn receiver() -> (String, Arc<Mutex<HashMap<(String, String), usize>>>) {
    let seen: Arc<Mutex<HashMap<(String, String), usize>>> = Arc::default();
    async fn hook(State(seen): State<Arc<Mutex<HashMap<(String, String), usize>>>>, axum::extract::RawQuery(sub): axum::extract::RawQuery, headers: HeaderMap) -> StatusCode {
        let event = headers.get("webhook-id").and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        *seen.lock().unwrap().entry((sub.unwrap_or_default(), event)).or_default() += 1;
        StatusCode::NO_CONTENT
    }
    let app = Router::new().route("/hook", post(hook)).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), seen)
}

/// Free new-patient slots of every calendar of the demo clinic, from three days ahead
/// (outside the cancellation cutoff), half an hour apart (more than any buffer): each can be
/// booked whatever else is.
async fn slots(http: &reqwest::Client, base: &str, clock: &Clock) -> Vec<String> {
    delivery::slots_from(http, base, clock, 3, 30).await
}

fn patient(n: usize) -> Value {
    json!({ "firstName": format!("Ops{n}"), "lastName": "Test", "dob": "1990-01-01", "phone": format!("+49 30 555{n:04}"), "email": format!("ops{n}@example.org") })
}

/// Books `slot` through `base`: the appointment id, or `None` when the slot was taken.
async fn book(http: &reqwest::Client, base: &str, slot: &str, n: usize) -> Option<String> {
    let (status, body) = api(http, reqwest::Method::POST, format!("{base}/api/v1/appointments"), Some(json!({ "slotId": slot, "patient": patient(n) }))).await;
    match status {
        200 | 201 => Some(body["appointmentId"].as_str().unwrap().to_owned()),
        409 if body["error"]["code"] == "slot_taken" => None,
        _ => panic!("booking {n}: {status} {body}"),
    }
}

// ------------------------------------------------------------------------------------ metrics

/// A strict reading of the Prometheus text format (0.0.4): every sample belongs to a family
/// declared by `# TYPE` before it, names and labels are well-formed, no series twice, and each
/// histogram's buckets are cumulative up to `+Inf`, which equals its `_count`.
fn parse_prometheus(text: &str) -> BTreeMap<String, f64> {
    let name_ok = |n: &str| !n.is_empty() && n.chars().enumerate().all(|(i, c)| c.is_ascii_alphabetic() || c == '_' || c == ':' || (i > 0 && c.is_ascii_digit()));
    let mut types: HashMap<String, String> = HashMap::new();
    let mut series = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let at = || format!("line {}: {line:?}", number + 1);
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("HELP"), Some(name), _) => assert!(name_ok(name), "{}", at()),
                (Some("TYPE"), Some(name), Some(kind)) => {
                    assert!(name_ok(name), "{}", at());
                    assert!(["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind), "{}", at());
                    assert!(types.insert(name.to_owned(), kind.to_owned()).is_none(), "TYPE twice: {}", at());
                }
                _ => panic!("unknown comment form: {}", at()),
            }
            continue;
        }
        let (name_and_labels, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("no value: {}", at()));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| panic!("bad value: {}", at())),
        };
        let (name, labels) = match name_and_labels.split_once('{') {
            None => (name_and_labels, Vec::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {}", at()));
                let mut labels = Vec::new();
                let mut chars = body.chars().peekable();
                while chars.peek().is_some() {
                    let label: String = chars.by_ref().take_while(|c| *c != '=').collect();
                    assert!(name_ok(&label) && !label.contains(':'), "bad label name {label:?}: {}", at());
                    assert_eq!(chars.next(), Some('"'), "label value unquoted: {}", at());
                    let mut value = String::new();
                    loop {
                        match chars.next() {
                            Some('\\') => match chars.next() {
                                Some('\\') => value.push('\\'),
                                Some('"') => value.push('"'),
                                Some('n') => value.push('\n'),
                                other => panic!("bad escape {other:?}: {}", at()),
                            },
                            Some('"') => break,
                            Some(c) => value.push(c),
                            None => panic!("unterminated label value: {}", at()),
                        }
                    }
                    labels.push((label, value));
                    match chars.next() {
                        Some(',') | None => {}
                        other => panic!("expected ',' after a label, found {other:?}: {}", at()),
                    }
                }
                (name, labels)
            }
        };
        assert!(name_ok(name), "{}", at());
        let family = types.keys().find(|f| {
            name == f.as_str()
                || (types[*f] == "histogram" && [("_bucket"), ("_sum"), ("_count")].iter().any(|s| name.strip_suffix(s) == Some(f.as_str())))
        });
        assert!(family.is_some(), "sample before its # TYPE: {}", at());
        let mut labels = labels;
        labels.sort();
        let key = format!("{name}{{{}}}", labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(","));
        assert!(series.insert(key, value).is_none(), "series twice: {}", at());
    }
    // Histograms: cumulative buckets ending in +Inf = _count.
    for (family, _) in types.iter().filter(|(_, k)| k.as_str() == "histogram") {
        let mut by_series: BTreeMap<String, Vec<(f64, f64)>> = BTreeMap::new();
        for (key, value) in series.range(format!("{family}_bucket{{")..format!("{family}_bucket|")) {
            let labels = &key[family.len() + 8..key.len() - 1];
            let (others, le): (Vec<&str>, Vec<&str>) = labels.split(',').partition(|l| !l.starts_with("le="));
            let le = le.first().unwrap_or_else(|| panic!("bucket without le: {key}")).trim_start_matches("le=");
            let le = if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap() };
            by_series.entry(others.join(",")).or_default().push((le, *value));
        }
        for (labels, mut buckets) in by_series {
            buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
            assert!(buckets.windows(2).all(|w| w[0].1 <= w[1].1), "{family}{{{labels}}}: buckets not cumulative");
            let (last_le, last) = *buckets.last().unwrap();
            assert!(last_le.is_infinite(), "{family}{{{labels}}}: no +Inf bucket");
            assert_eq!(Some(&last), series.get(&format!("{family}_count{{{labels}}}")), "{family}{{{labels}}}: +Inf is not the count");
        }
    }
    series
}

async fn scrape(http: &reqwest::Client, url: &str) -> BTreeMap<String, f64> {
    let res = http.get(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let kind = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(kind.starts_with("text/plain; version=0.0.4"), "{kind}");
    parse_prometheus(&res.text().await.unwrap())
}

fn value(series: &BTreeMap<String, f64>, key: &str) -> f64 {
    series.get(key).copied().unwrap_or(0.0)
}

#[test]
fn the_prometheus_reader_refuses_what_prometheus_would() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\"} 2\n";
    assert_eq!(parse_prometheus(good)["a_total{x=1}"], 2.0);
    for bad in [
        "a_total 1\n",                                                   // no TYPE
        "# TYPE a counter\na{x=1} 1\n",                                  // unquoted
        "# TYPE a counter\na 1\na 2\n",                                  // twice
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", // not cumulative
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",     // +Inf is not the count
    ] {
        assert!(std::panic::catch_unwind(|| parse_prometheus(bad)).is_err(), "accepted {bad:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_read_as_prometheus_text_and_count_a_booking_and_its_delivery() {
    let db = fresh_db(Backend::Sqlite).await;
    let clock = test_clock();
    let clinic = seed(&db.store, &clock).await;
    let server = start_with(&db.url, &clock, &[("BOOKING_METRICS_ADDR", "127.0.0.1:0")]);
    let metrics = server.metrics.clone().expect("the server printed its metrics address");
    let http = http();
    let public = http.get(format!("{}/metrics", server.base)).send().await.unwrap();
    assert_eq!(public.status(), 404, "metrics are never on the public address");

    let (hook, seen) = receiver().await;
    let (status, body) = api(&http, reqwest::Method::POST, format!("{}/api/v1/webhooks", server.base), Some(json!({ "clinicId": clinic.to_string(), "url": hook, "events": ["appointmentCreated"], "secret": SECRET }))).await;
    assert_eq!(status, 201, "{body}");
    let slot = slots(&http, &server.base, &clock).await.remove(0);
    let before = scrape(&http, &metrics).await;
    let booked = book(&http, &server.base, &slot, 1).await.expect("the slot is free");

    // The receiver answered; the attempt's outcome is recorded just after.
    let deadline = Instant::now() + Duration::from_secs(20);
    let after = loop {
        let after = scrape(&http, &metrics).await;
        if value(&after, "booking_webhook_attempts_total{outcome=delivered}") > value(&before, "booking_webhook_attempts_total{outcome=delivered}") {
            break after;
        }
        assert!(Instant::now() < deadline, "no delivery counted; received {:?}", seen.lock().unwrap());
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(seen.lock().unwrap().len(), 1, "one event for appointment {booked}");
    let moved = |key: &str| value(&after, key) - value(&before, key);
    assert_eq!(moved("booking_appointments_booked_total{source=bot_api}"), 1.0);
    assert_eq!(moved("booking_appointments_booked_total{source=widget}"), 0.0);
    assert_eq!(moved("booking_webhook_attempts_total{outcome=delivered}"), 1.0);
    assert_eq!(moved("booking_http_requests_total{method=POST,route=/api/v1/appointments,status=201}"), 1.0);
    assert_eq!(moved("booking_http_request_duration_seconds_count{method=POST,route=/api/v1/appointments}"), 1.0);
    assert!(value(&after, "booking_http_requests_total{method=GET,route=/api/v1/availability,status=200}") >= 1.0, "routes are named by pattern");
    assert!(after.keys().all(|k| !k.contains("appointments/") || k.contains("{id}")), "no address with an id becomes a label: {:?}", after.keys().filter(|k| k.contains("appointments/")).collect::<Vec<_>>());
    assert!(value(&after, "booking_availability_computations_total{calendars=memory}") + value(&after, "booking_availability_computations_total{calendars=database}") >= 2.0);
    assert!(after.contains_key("booking_queue_depth{queue=webhook_deliveries}"));
    assert!(after.contains_key("booking_queue_depth{queue=emails}"));
    assert_eq!(value(&after, "booking_db_connections_max{}"), 9.0, "eight readers and the writer");

    // Every answer carries its request id; an error body repeats it.
    let res = http.get(format!("{}/api/v1/appointments/999999", server.base)).basic_auth("demo", Some(KEY)).header("X-Request-Id", "ops-check-1").send().await.unwrap();
    assert_eq!(res.status(), 404);
    assert_eq!(res.headers()["x-request-id"], "ops-check-1");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["requestId"], "ops-check-1");
    let res = http.get(format!("{}/healthz", server.base)).header("X-Request-Id", "bad id with spaces").send().await.unwrap();
    let given = res.headers()["x-request-id"].to_str().unwrap().to_owned();
    assert!(given.len() == 24 && given.chars().all(|c| c.is_ascii_hexdigit()), "an unusable id is replaced: {given}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_carry_the_request_id_and_no_patient_data() {
    let db = fresh_db(Backend::Sqlite).await;
    let clock = test_clock();
    seed(&db.store, &clock).await;
    let server = start_logging(&db.url, &clock, &[("BOOKING_LOG_FORMAT", "json"), ("RUST_LOG", "info,server::observe=debug")]);
    let http = http();
    let slot = slots(&http, &server.base, &clock).await.remove(0);
    book(&http, &server.base, &slot, 7).await.expect("the slot is free");
    // A lookup names the patient in its query; a manage link's token is in its path.
    let res = http
        .get(format!("{}/api/v1/patient?name=Ops7%20Test&dob=1990-01-01&phone=%2B49%2030%205550007", server.base))
        .basic_auth("demo", Some(KEY))
        .header("X-Request-Id", "log-check-7")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let manage = http.get(format!("{}/manage/mtok_SecretManageToken42/calendar.ics", server.base)).send().await.unwrap();
    assert!(manage.status().is_client_error(), "an unknown manage token: {}", manage.status());
    tokio::time::sleep(Duration::from_millis(300)).await;

    let log = server.log.lock().unwrap().clone();
    let lines: Vec<Value> = log.iter().map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}"))).collect();
    let answered: Vec<&Value> = lines.iter().filter(|l| l["fields"]["message"] == "answered").collect();
    let lookup = answered.iter().find(|l| l["span"]["id"] == "log-check-7").unwrap_or_else(|| panic!("no line for the lookup: {log:#?}"));
    assert_eq!(lookup["fields"]["route"], "/api/v1/patient");
    assert_eq!(lookup["fields"]["status"], 200);
    assert!(answered.iter().any(|l| l["fields"]["route"] == "/api/v1/appointments" && l["fields"]["status"] == 201), "the booking is logged");
    let text = log.join("\n");
    for secret in ["Ops7", "ops7@example.org", "5550007", "1990-01-01"] {
        assert!(!text.contains(secret), "the log holds patient data {secret:?}: {text}");
    }
    assert!(!text.contains("SecretManageToken42"), "the log holds a manage token");
    assert!(answered.iter().any(|l| l["fields"]["route"] == "/manage/{token}/calendar.ics"), "named by its pattern");
}

// ------------------------------------------------------------------------------------ readiness

/// A TCP relay to PostgreSQL that can be cut (every connection dropped, new ones refused) and
/// mended: the database going away, as the server sees it.
struct Relay {
    addr: std::net::SocketAddr,
    up: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<tokio::task::AbortHandle>>>,
}

impl Relay {
    async fn to(target: String) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (up, open) = (Arc::new(AtomicBool::new(true)), Arc::new(Mutex::new(Vec::<tokio::task::AbortHandle>::new())));
        let (up2, open2) = (up.clone(), open.clone());
        tokio::spawn(async move {
            loop {
                let (mut client, _) = listener.accept().await.unwrap();
                if !up2.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let target = target.clone();
                let task = tokio::spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect(&target).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                open2.lock().unwrap().push(task.abort_handle());
            }
        });
        Relay { addr, up, open }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for task in self.open.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    fn mend(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

async fn readyz(http: &reqwest::Client, base: &str) -> (u16, Value) {
    let res = http.get(format!("{base}/readyz")).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readiness_fails_while_the_database_is_away_and_recovers_when_it_returns() {
    let db = fresh_db(Backend::Postgres).await;
    let clock = test_clock();
    seed(&db.store, &clock).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let relay = Relay::to(target).await;
    url.set_host(Some("127.0.0.1")).unwrap();
    url.set_port(Some(relay.addr.port())).unwrap();
    let server = start_with(url.as_str(), &clock, &[]);
    let http = http();

    let (status, body) = readyz(&http, &server.base).await;
    assert_eq!((status, &body["status"]), (200, &json!("ready")), "{body}");

    relay.cut();
    let deadline = Instant::now() + Duration::from_secs(20);
    let body = loop {
        let (status, body) = readyz(&http, &server.base).await;
        if status == 503 {
            break body;
        }
        assert!(Instant::now() < deadline, "still ready with the database away: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(body["status"], "unavailable");
    assert!(body["failed"].as_array().unwrap().iter().any(|f| f.as_str().unwrap().starts_with("database")), "{body}");
    let alive = http.get(format!("{}/healthz", server.base)).send().await.unwrap();
    assert_eq!(alive.status(), 200, "alive all the same: a restart would not bring the database back");

    relay.mend();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = readyz(&http, &server.base).await;
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "not ready again after the database returned: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let slot = slots(&http, &server.base, &clock).await.remove(0);
    assert!(book(&http, &server.base, &slot, 1).await.is_some(), "bookings work again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminated_server_finishes_the_deliveries_it_started_before_it_exits() {
    let db = fresh_db(Backend::Sqlite).await;
    let clock = test_clock();
    let clinic = seed(&db.store, &clock).await;
    let mut server = start_with(&db.url, &clock, &[]);
    let http = http();
    // A receiver that takes two seconds to answer.
    let (hook, inbox) = delivery::receiver(Duration::from_secs(2)).await;
    let (status, body) = api(&http, reqwest::Method::POST, format!("{}/api/v1/webhooks", server.base), Some(json!({ "clinicId": clinic.to_string(), "url": hook, "events": ["appointmentCreated"], "secret": SECRET }))).await;
    assert_eq!(status, 201, "{body}");
    let slot = slots(&http, &server.base, &clock).await.remove(0);
    book(&http, &server.base, &slot, 1).await.expect("the slot is free");
    let deadline = Instant::now() + Duration::from_secs(10);
    while scalar_i64(&db.store, "SELECT COUNT(*) FROM webhook_deliveries WHERE attempts > 0").await == 0 {
        assert!(Instant::now() < deadline, "the delivery never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let terminated = Command::new("kill").arg("-TERM").arg(server.child.id().to_string()).status().unwrap();
    assert!(terminated.success());
    let exit = tokio::task::spawn_blocking(move || {
        let status = server.child.wait().unwrap();
        (server, status)
    });
    let (_server, status) = tokio::time::timeout(Duration::from_secs(30), exit).await.expect("the server exits").unwrap();
    assert!(status.success(), "a clean exit: {status:?}");
    assert_eq!(inbox.lock().unwrap().total, 1, "the receiver got the event it was being sent");
    assert_eq!(
        scalar_i64(&db.store, "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'delivered'").await,
        1,
        "and the delivery was recorded before the exit, so no other instance sends it again"
    );
}

// ------------------------------------------------------------------------------------ backup

fn cli(url: &str, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_server"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_taken_under_write_load_restores_to_a_sound_database_with_every_earlier_booking() {
    let dir = TempDir::new("booking-backup-");
    let url = format!("sqlite://{}/live.db?mode=rwc", dir.0.display());
    let clock = test_clock();
    {
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        seed(&store, &clock).await;
        store.close().await;
    }
    let server = start_with(&url, &clock, &[]);
    let http = http();
    let slots = Arc::new(Mutex::new(slots(&http, &server.base, &clock).await));
    assert!(slots.lock().unwrap().len() > 300, "enough free slots for the load");

    // Eight clients book one slot after another until told to stop; each answer is noted with
    // the moment it came.
    let stop = Arc::new(AtomicBool::new(false));
    let answered: Arc<Mutex<Vec<(String, Instant)>>> = Arc::default();
    let count = Arc::new(AtomicUsize::new(0));
    let mut clients = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let (http, base, slots, stop, answered, count) = (http.clone(), server.base.clone(), slots.clone(), stop.clone(), answered.clone(), count.clone());
        clients.spawn(async move {
            while !stop.load(Ordering::SeqCst) {
                let Some(slot) = slots.lock().unwrap().pop() else { return };
                let n = count.fetch_add(1, Ordering::SeqCst);
                if let Some(id) = book(&http, &base, &slot, n).await {
                    answered.lock().unwrap().push((id, Instant::now()));
                }
            }
        });
    }
    while answered.lock().unwrap().len() < 40 {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let backup = dir.0.join("backup.db");
    let began = Instant::now();
    let out = {
        let (url, backup) = (url.clone(), backup.clone());
        tokio::task::spawn_blocking(move || cli(&url, &["backup", backup.to_str().unwrap()])).await.unwrap()
    };
    let backup_done = Instant::now();
    assert!(out.status.success(), "backup: {}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity check ok"));
    // Bookings went on during the backup and after it.
    let during = answered.lock().unwrap().iter().filter(|(_, at)| *at > began && *at < backup_done).count();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    while clients.join_next().await.is_some() {}
    let answered = answered.lock().unwrap().clone();
    let earlier: Vec<&String> = answered.iter().filter(|(_, at)| *at < began).map(|(id, _)| id).collect();
    let later = answered.iter().filter(|(_, at)| *at > backup_done).count();
    assert!(earlier.len() >= 40 && later > 0, "load before ({}) and after ({later}) the backup; {during} during it", earlier.len());

    let refused = cli(&url, &["backup", backup.to_str().unwrap()]);
    assert!(!refused.status.success() && String::from_utf8_lossy(&refused.stderr).contains("exists"), "a backup never overwrites");

    // Restored to a new place: sound, and holds every booking answered before it began.
    let restored_url = format!("sqlite://{}/restored.db?mode=rwc", dir.0.display());
    let out = cli(&restored_url, &["restore", backup.to_str().unwrap()]);
    assert!(out.status.success(), "restore: {}", String::from_utf8_lossy(&out.stderr));
    let restored = Store::connect(&restored_url).await.unwrap();
    let store::Db::Sqlite(pool) = restored.db() else { unreachable!() };
    let verdict: String = sqlx::query_scalar("PRAGMA integrity_check").fetch_one(pool).await.unwrap();
    assert_eq!(verdict, "ok");
    let ids: HashSet<String> = store::testing::appointment_ids(&restored).await.into_iter().map(|id| id.to_string()).collect();
    let missing: Vec<&&String> = earlier.iter().filter(|id| !ids.contains(**id)).collect();
    assert!(missing.is_empty(), "bookings answered before the backup began are missing: {missing:?}");
    let server_ids = scalar_i64(&restored, "SELECT COUNT(*) FROM appointments").await as usize;
    assert!(server_ids < store::testing::appointment_ids(&Store::connect(&url).await.unwrap()).await.len(), "the later bookings are not in it");
    restored.close().await;

    // The running server's database is not replaced under it, nor any database without --replace.
    let busy = cli(&url, &["restore", backup.to_str().unwrap(), "--replace"]);
    assert!(!busy.status.success() && String::from_utf8_lossy(&busy.stderr).contains("in use"), "{}", String::from_utf8_lossy(&busy.stderr));
    let exists = cli(&url, &["restore", backup.to_str().unwrap()]);
    assert!(!exists.status.success() && String::from_utf8_lossy(&exists.stderr).contains("--replace"));
    let junk = dir.0.join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let bad = cli(&restored_url, &["restore", junk.to_str().unwrap(), "--replace"]);
    assert!(!bad.status.success(), "a file that is no database is refused");
    drop(server);
    let replaced = cli(&url, &["restore", backup.to_str().unwrap(), "--replace"]);
    assert!(replaced.status.success(), "{}", String::from_utf8_lossy(&replaced.stderr));
    assert!(String::from_utf8_lossy(&replaced.stdout).contains("kept as"));
    let kept = std::fs::read_dir(&dir.0).unwrap().filter_map(|e| e.ok()).any(|e| e.file_name().to_string_lossy().starts_with("live.db.replaced-"));
    assert!(kept, "the replaced database is kept");
    let back = Store::connect(&url).await.unwrap();
    assert_eq!(scalar_i64(&back, "SELECT COUNT(*) FROM appointments").await as usize, server_ids);
}

// ------------------------------------------------------------------------------------ two instances

/// A reverse proxy that sends each request to the next instance in turn and tells it the
/// client's address in `X-Forwarded-For`, as a load balancer does.
async fn proxy(upstreams: Vec<String>) -> (String, Arc<Vec<AtomicUsize>>) {
    let served: Arc<Vec<AtomicUsize>> = Arc::new(upstreams.iter().map(|_| AtomicUsize::new(0)).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let state = (Arc::new(upstreams), served.clone(), next, client);
    type S = (Arc<Vec<String>>, Arc<Vec<AtomicUsize>>, Arc<AtomicUsize>, reqwest::Client);
    async fn forward(State((upstreams, served, next, client)): State<S>, req: axum::extract::Request) -> axum::response::Response {
        let i = next.fetch_add(1, Ordering::SeqCst) % upstreams.len();
        served[i].fetch_add(1, Ordering::SeqCst);
        let path = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
        let (parts, body) = req.into_parts();
        let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let mut out = client.request(parts.method.clone(), format!("{}{path}", upstreams[i])).body(body);
        for (name, value) in parts.headers.iter().filter(|(n, _)| *n != "host") {
            out = out.header(name, value);
        }
        let res = out.header("X-Forwarded-For", "192.0.2.10").send().await.unwrap();
        let mut answer = axum::response::Response::builder().status(res.status().as_u16());
        for (name, value) in res.headers() {
            answer = answer.header(name, value);
        }
        answer.body(axum::body::Body::from(res.bytes().await.unwrap())).unwrap()
    }
    let app = Router::new().fallback(forward).with_state(state);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), served)
}

/// The events the two-instance test subscribes to (every kind its requests cause).
const EVENTS: [&str; 3] = ["appointmentCreated", "appointmentCanceled", "patientCreated"];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_behind_a_proxy_book_each_slot_once_and_deliver_each_event_once_per_subscription() {
    let db = fresh_db(Backend::Postgres).await;
    let clock = test_clock();
    let clinic = seed(&db.store, &clock).await;
    let env = [("BOOKING_CLIENT_IP_HEADER", "X-Forwarded-For")];
    let instances: Vec<Instance> = (0..2).map(|_| start_with(&db.url, &clock, &env)).collect();
    let (base, served) = proxy(instances.iter().map(|i| i.base.clone()).collect()).await;
    let http = http();

    let (hook, seen) = receiver().await;
    for n in 0..2 {
        let (status, body) = api(&http, reqwest::Method::POST, format!("{base}/api/v1/webhooks"), Some(json!({ "clinicId": clinic.to_string(), "url": format!("{hook}?{n}"), "events": EVENTS, "secret": SECRET }))).await;
        assert_eq!(status, 201, "{body}");
    }
    let events_before = scalar_i64(&db.store, "SELECT COALESCE(MAX(id), 0) FROM outbox").await;

    // Three patients race for each of 24 slots, through both instances at once.
    let slots: Vec<String> = slots(&http, &base, &clock).await.into_iter().take(24).collect();
    assert_eq!(slots.len(), 24);
    let mut racers = tokio::task::JoinSet::new();
    for (s, slot) in slots.iter().enumerate() {
        for r in 0..3 {
            let (http, base, slot) = (http.clone(), base.clone(), slot.clone());
            racers.spawn(async move {
                let n = s * 3 + r;
                let answer = api(&http, reqwest::Method::POST, format!("{base}/api/v1/appointments"), Some(json!({ "slotId": slot, "patient": patient(n) }))).await;
                (s, answer)
            });
        }
    }
    let mut won: BTreeMap<usize, Vec<String>> = BTreeMap::new();
    let mut answers: BTreeMap<usize, Vec<(u16, Value)>> = BTreeMap::new();
    while let Some(done) = racers.join_next().await {
        let (s, (status, body)) = done.unwrap();
        match status {
            200 | 201 => won.entry(s).or_default().push(body["appointmentId"].as_str().unwrap().to_owned()),
            409 if body["error"]["code"] == "slot_taken" => {}
            _ => panic!("slot {s}: {status} {body}"),
        }
        answers.entry(s).or_default().push((status, body));
    }
    let lost: Vec<_> = (0..slots.len()).filter(|s| won.get(s).is_none_or(|w| w.is_empty())).map(|s| (s, &answers[&s])).collect();
    assert!(lost.is_empty(), "slots nobody got: {lost:?}");
    assert!(won.values().all(|w| w.len() == 1), "each slot booked exactly once: {won:?}");
    let overlapping = scalar_i64(
        &db.store,
        "SELECT COUNT(*) FROM appointments a JOIN appointments b ON a.provider_id = b.provider_id AND a.id < b.id
          WHERE a.status NOT IN ('cancelled') AND b.status NOT IN ('cancelled') AND a.starts_at < b.ends_at AND b.starts_at < a.ends_at",
    )
    .await;
    assert_eq!(overlapping, 0, "no provider is booked twice at once");

    // Moves and cancellations through the proxy too.
    let ids: Vec<String> = won.values().map(|w| w[0].clone()).collect();
    for id in &ids[..4] {
        let (status, body) = api(&http, reqwest::Method::PUT, format!("{base}/api/v1/appointments/{id}/cancel"), Some(json!({ "reason": "ops test" }))).await;
        assert_eq!(status, 200, "{body}");
    }

    // Both instances offer the same times, none of them booked.
    let (_, calendars) = api(&http, reqwest::Method::GET, format!("{base}/api/v1/calendars"), None).await;
    let cal = &calendars["calendars"][0];
    let (c, t) = (cal["id"].as_str().unwrap(), cal["appointmentTypes"][0]["id"].as_str().unwrap());
    let from = (clock.now() + chrono::Duration::days(3)).date_naive();
    let query = format!("/api/v1/availability?calendar_id={c}&appointment_type_id={t}&from={from}&to={}", from + chrono::Duration::days(20));
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, a) = api(&http, reqwest::Method::GET, format!("{}{query}", instances[0].base), None).await;
        let (_, b) = api(&http, reqwest::Method::GET, format!("{}{query}", instances[1].base), None).await;
        let taken: HashSet<&str> = slots.iter().enumerate().filter(|(s, _)| !ids[..4].contains(&won[s][0])).map(|(_, id)| id.as_str()).collect();
        let offered: Vec<&str> = a["days"].as_array().unwrap().iter().flat_map(|d| d["slots"].as_array().unwrap()).map(|s| s["slotId"].as_str().unwrap()).collect();
        if a == b && offered.iter().all(|id| !taken.contains(id)) {
            break;
        }
        assert!(Instant::now() < deadline, "the instances disagree on availability after the bookings");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    // Every event reaches each subscription exactly once.
    let events: Vec<String> = {
        let store::Db::Postgres(pool) = db.store.db() else { unreachable!() };
        sqlx::query_scalar("SELECT event_id FROM outbox WHERE id > $1 AND event_type = ANY($2) ORDER BY id")
            .bind(events_before).bind(EVENTS.map(str::to_owned).to_vec()).fetch_all(pool).await.unwrap()
    };
    assert!(events.len() >= 24 + 4, "an event per booking and per cancellation: {}", events.len());
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let complete = {
            let seen = seen.lock().unwrap();
            (0..2).all(|n| events.iter().all(|e| seen.contains_key(&(n.to_string(), e.clone()))))
        };
        if complete {
            break;
        }
        assert!(Instant::now() < deadline, "not every event reached both subscriptions");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(500)).await; // time for a duplicate to show
    let seen = seen.lock().unwrap();
    let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "delivered more than once: {twice:?}");
    assert_eq!(seen.len(), events.len() * 2, "nothing else was delivered");
    let served: Vec<usize> = served.iter().map(|n| n.load(Ordering::SeqCst)).collect();
    assert!(served.iter().all(|n| *n > 20), "both instances served: {served:?}");
}
