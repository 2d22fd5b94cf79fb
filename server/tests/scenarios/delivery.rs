//! A delivery run against the real server binary: 1,000 bookings through the bot API by 16
//! concurrent clients, one or more server instances on one database, a local receiver
//! subscribed to `appointmentCreated`, and optionally one instance killed with SIGKILL a third
//! of the way through and started again. Shared by the crash test (which checks that every
//! committed booking and nothing else was delivered) and the delivery benchmark (which reads
//! the figures). Included with `#[path]`, so it is not a test of its own.

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::Router;
use chrono::Duration as Days;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::testing::{scalar_i64, test_clock, TestDb};
use store::{Clock, DemoSeed, Store};

pub const KEY: &str = "bk_crash_test_key";
const BOOKINGS: usize = 1_000;
pub const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";


pub struct Instance {
    pub child: Child,
    pub base: String,
    /// The metrics address's `/metrics`, when the instance serves one.
    pub metrics: Option<String>,
    /// What it logged, when started with `start_logging`.
    pub log: Arc<Mutex<Vec<String>>>,
}

/// Starts an instance whose clock reads what `clock` reads now, so that instances started
/// at different times agree on the time.
pub fn start(url: &str, clock: &Clock) -> Instance {
    start_with(url, clock, &[])
}

/// `start` with more (or other) environment variables.
pub fn start_with(url: &str, clock: &Clock, env: &[(&str, &str)]) -> Instance {
    launch(url, clock, env, false)
}

/// `start_with`, keeping what the instance logs (`Instance::log`) instead of passing it on.
pub fn start_logging(url: &str, clock: &Clock, env: &[(&str, &str)]) -> Instance {
    launch(url, clock, env, true)
}

fn launch(url: &str, clock: &Clock, env: &[(&str, &str)], keep_log: bool) -> Instance {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .arg("serve")
        .arg(format!("--test-clock={}", clock.now().to_rfc3339()))
        .env("DATABASE_URL", url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("BOOKING_WEBHOOK_ALLOW_HOSTS", "127.0.0.1")
        .env("BOOKING_WEBHOOK_LEASE_SECONDS", "11")
        .env("BOOKING_API_RATE_LIMIT", "1000000")
        // The bookings' patient e-mails go to a folder of the test's, not into the checkout.
        .env("BOOKING_MAIL_DIR", std::env::temp_dir().join(format!("booking_test_mail_crash_{}", std::process::id())))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(if keep_log { Stdio::piped() } else { Stdio::inherit() });
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start the server binary");
    let log: Arc<Mutex<Vec<String>>> = Arc::default();
    if let Some(stderr) = child.stderr.take() {
        let log = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log.lock().unwrap().push(line);
            }
        });
    }
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut metrics = None;
    let base = loop {
        let line = lines.next().expect("the server printed its address").unwrap();
        if let Some(addr) = line.strip_prefix("metrics on ") {
            metrics = Some(addr.trim().to_owned());
        }
        if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.trim().to_owned();
        }
    };
    // Keep draining stdout so the server never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Instance { child, base, metrics, log }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the receiver saw: each appointment's first arrival, every request, the last one.
#[derive(Default)]
pub struct Inbox {
    pub first: HashMap<String, Instant>,
    /// Distinct (subscription, appointment) pairs delivered.
    pub distinct: HashSet<(String, String)>,
    pub total: usize,
    pub last: Option<Instant>,
}

pub async fn receiver(delay: Duration) -> (String, Arc<Mutex<Inbox>>) {
    let inbox: Arc<Mutex<Inbox>> = Arc::default();
    async fn hook(
        State((inbox, delay)): State<(Arc<Mutex<Inbox>>, Duration)>,
        RawQuery(subscription): RawQuery,
        body: axum::body::Bytes,
    ) -> StatusCode {
        tokio::time::sleep(delay).await;
        let event: Value = serde_json::from_slice(&body).unwrap();
        let id = event["data"]["appointmentId"].as_str().unwrap().to_owned();
        let now = Instant::now();
        let mut inbox = inbox.lock().unwrap();
        inbox.first.entry(id.clone()).or_insert(now);
        inbox.distinct.insert((subscription.unwrap_or_default(), id));
        inbox.total += 1;
        inbox.last = Some(now);
        StatusCode::NO_CONTENT
    }
    let app = Router::new().route("/hook", post(hook)).with_state((inbox.clone(), delay));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hook"), inbox)
}

/// Free slot ids for new patients (whose first visit may take longer) across every
/// calendar, enough for the run.
async fn slots(http: &reqwest::Client, base: &str, clock: &Clock) -> Vec<String> {
    slots_from(http, base, clock, 1, 0).await
}

/// `slots`, from `days` days ahead (bookings to cancel later must start outside the
/// clinic's cancellation cutoff), each at least `gap` minutes after the one before on its
/// calendar: a booking's buffer (10 minutes after some products) makes the time just before
/// it unbookable, so slots that touch cannot all be booked in any order.
pub async fn slots_from(http: &reqwest::Client, base: &str, clock: &Clock, days: i64, gap: i64) -> Vec<String> {
    let get = |path: String| async move {
        let res = http.get(format!("{base}/api/v1{path}")).basic_auth("demo", Some(KEY)).send().await.unwrap();
        assert_eq!(res.status(), 200);
        res.json::<Value>().await.unwrap()
    };
    let calendars = get("/calendars".into()).await;
    let mut per_calendar = Vec::new();
    let from = (clock.now() + Days::days(days)).date_naive();
    for cal in calendars["calendars"].as_array().unwrap() {
        let (c, t) = (cal["id"].as_str().unwrap(), cal["appointmentTypes"][0]["id"].as_str().unwrap());
        // Slots of one calendar may overlap (offered every 15 minutes): keep a run of slots
        // that do not, so that every booking can commit unless the server fails.
        let (mut ids, mut free_from) = (Vec::new(), chrono::DateTime::<chrono::FixedOffset>::MIN_UTC.fixed_offset());
        for window in 0..3 {
            let (a, b) = (from + Days::days(30 * window), from + Days::days(30 * window + 29));
            let free = get(format!("/availability?calendar_id={c}&appointment_type_id={t}&from={a}&to={b}&new_patient=true")).await;
            for slot in free["days"].as_array().unwrap().iter().flat_map(|d| d["slots"].as_array().unwrap()) {
                let at = |field: &str| chrono::DateTime::parse_from_rfc3339(slot[field].as_str().unwrap()).unwrap();
                if at("start") >= free_from {
                    ids.push(slot["slotId"].as_str().unwrap().to_owned());
                    free_from = at("end") + Days::minutes(gap);
                }
            }
        }
        per_calendar.push(ids.into_iter());
    }
    // Interleaved, so that concurrent bookings spread over the providers.
    let mut ids = Vec::new();
    while ids.len() < BOOKINGS {
        let before = ids.len();
        ids.extend(per_calendar.iter_mut().filter_map(Iterator::next));
        if ids.len() == before {
            break;
        }
    }
    ids.truncate(BOOKINGS);
    ids
}

/// Books one slot, retrying with the same idempotency key while no instance answers.
/// Returns the appointment id and when the answer came, or `None` when the slot was refused.
async fn book(http: reqwest::Client, bases: Arc<Vec<Mutex<String>>>, n: usize, slot: String) -> Option<(String, Instant)> {
    let body = json!({ "slotId": slot, "patient": { "firstName": format!("Kim{n}"), "lastName": "Crash", "dob": "1990-01-01", "phone": "+49 30 1234567", "email": format!("kim{n}@example.org") } });
    for attempt in 0.. {
        let base = bases[(n + attempt) % bases.len()].lock().unwrap().clone();
        let sent = http
            .post(format!("{base}/api/v1/appointments"))
            .basic_auth("demo", Some(KEY))
            .header("Idempotency-Key", format!("crash-{n}"))
            .json(&body)
            .send()
            .await;
        match sent {
            Ok(res) if res.status() == 201 || res.status() == 200 => {
                let v: Value = res.json().await.unwrap();
                return Some((v["appointmentId"].as_str().unwrap().to_owned(), Instant::now()));
            }
            Ok(res) if res.status() == 409 => return None,
            Ok(res) if res.status().is_server_error() => {}
            Ok(res) => panic!("booking {n}: {} {}", res.status(), res.text().await.unwrap_or_default()),
            Err(_) => {} // killed mid-request: the outcome is unknown, so ask again
        }
        assert!(attempt < 400, "booking {n} never got an answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    unreachable!()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// What a run does.
pub struct Run {
    pub instances: usize,
    /// Kill instance 0 with SIGKILL a third of the way through, then start it again.
    pub kill: bool,
    /// How long the receiver takes to answer, so that attempts are in flight at the kill.
    pub receiver_delay: Duration,
    /// Subscriptions to the same receiver: each event is delivered this many times.
    pub subscriptions: usize,
}

/// What a run measured. The test prints it whole; the benchmark reads each field.
#[derive(Debug)]
#[allow(dead_code)]
pub struct Figures {
    pub committed: usize,
    pub confirmed: usize,
    /// Requests the receiver got, duplicates included.
    pub received: usize,
    /// Attempts claimed but unsettled right after the kill: in flight when it struck.
    pub in_flight_at_kill: i64,
    pub booking_secs: f64,
    /// From the first booking to the last first-arrival.
    pub delivery_secs: f64,
    /// From a client's confirmation to the receiver's first copy.
    pub p50: Duration,
    pub p99: Duration,
}

/// Runs the scenario and checks at-least-once delivery: every booking that committed (whether
/// or not its client heard the answer) reaches the receiver, and nothing else does.
pub async fn run(db: TestDb, run: Run) -> Figures {
    let instances = run.instances;
    let clock = test_clock();
    db.store.seed_demo(&DemoSeed { now: clock.now(), api_key: KEY.into(), voice_key: "bk_scenario_voice".into() }).await.unwrap();
    let (hook, inbox) = receiver(run.receiver_delay).await;
    let mut running: Vec<Instance> = (0..instances).map(|_| start(&db.url, &clock)).collect();
    let bases = Arc::new(running.iter().map(|i| Mutex::new(i.base.clone())).collect::<Vec<_>>());
    let http = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
    let clinic = scalar_i64(&db.store, "SELECT id FROM clinics WHERE slug = 'demo'").await;
    for n in 0..run.subscriptions {
        let sub = http
            .post(format!("{}/api/v1/webhooks", running[0].base))
            .basic_auth("demo", Some(KEY))
            .json(&json!({ "clinicId": clinic.to_string(), "url": format!("{hook}?{n}"), "events": ["appointmentCreated"], "secret": SECRET }))
            .send()
            .await
            .unwrap();
        assert_eq!(sub.status(), 201);
    }
    let slots = slots(&http, &running[0].base, &clock).await;
    assert!(slots.len() >= BOOKINGS, "only {} free slots", slots.len());

    // The demo seed has appointments of its own, made before anyone subscribed.
    let before: HashSet<String> = store::testing::appointment_ids(&db.store).await.into_iter().map(|id| id.to_string()).collect();
    let started = Instant::now();
    let limit = Arc::new(tokio::sync::Semaphore::new(16));
    let done = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for (n, slot) in slots.into_iter().enumerate() {
        let (http, bases, limit, done) = (http.clone(), bases.clone(), limit.clone(), done.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await.unwrap();
            let booked = book(http, bases, n, slot).await;
            done.fetch_add(1, Ordering::Relaxed);
            booked
        });
    }
    // Kill an instance a third of the way through, while bookings and deliveries are in flight.
    let mut confirmed = HashMap::new();
    let deadline = Instant::now() + Duration::from_secs(120);
    while run.kill && done.load(Ordering::Relaxed) < BOOKINGS / 3 {
        assert!(Instant::now() < deadline && !tasks.is_empty(), "bookings stalled");
        while let Some(result) = tasks.try_join_next() {
            // A booking task that panicked shows why here instead of stalling the run.
            if let Some((id, at)) = result.unwrap() {
                confirmed.insert(id, at);
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let mut in_flight_at_kill = 0;
    if run.kill {
        running[0].child.kill().unwrap(); // SIGKILL: no shutdown code runs
        running[0].child.wait().unwrap();
        in_flight_at_kill = scalar_i64(&db.store, "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending' AND attempts > 0").await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        let restarted = start(&db.url, &clock);
        *bases[0].lock().unwrap() = restarted.base.clone();
        running[0] = restarted;
    }

    while let Some(result) = tasks.join_next().await {
        if let Some((id, at)) = result.unwrap() {
            confirmed.insert(id, at);
        }
    }
    let booking_secs = started.elapsed().as_secs_f64();

    // Every committed booking, whether or not its client heard the answer, is delivered.
    let committed: HashSet<String> = {
        let store = Store::connect(&db.url).await.unwrap();
        let ids = store::testing::appointment_ids(&store).await;
        ids.into_iter().map(|id| id.to_string()).filter(|id| !before.contains(id)).collect()
    };
    assert!(committed.len() >= confirmed.len() && confirmed.keys().all(|id| committed.contains(id)));
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (arrived, distinct): (HashSet<String>, usize) = {
            let inbox = inbox.lock().unwrap();
            (inbox.first.keys().cloned().collect(), inbox.distinct.len())
        };
        assert!(arrived.is_subset(&committed), "an event arrived for a booking that did not commit: {:?}", arrived.difference(&committed).collect::<Vec<_>>());
        if arrived == committed && distinct == committed.len() * run.subscriptions {
            break;
        }
        assert!(Instant::now() < deadline, "{} of {} committed bookings never arrived", committed.len() - arrived.len(), committed.len());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let outbox = scalar_i64(&db.store, "SELECT COUNT(*) FROM outbox WHERE event_type = 'appointmentCreated'").await;
    assert_eq!(outbox as usize, committed.len(), "one event per committed booking");

    let inbox = inbox.lock().unwrap();
    let mut latencies: Vec<Duration> =
        confirmed.iter().filter_map(|(id, at)| inbox.first.get(id).map(|r| r.saturating_duration_since(*at))).collect();
    latencies.sort();
    Figures {
        committed: committed.len(),
        confirmed: confirmed.len(),
        received: inbox.total,
        in_flight_at_kill,
        booking_secs,
        delivery_secs: inbox.last.map_or(0.0, |last| last.duration_since(started).as_secs_f64()),
        p50: percentile(&latencies, 0.5),
        p99: percentile(&latencies, 0.99),
    }
}
