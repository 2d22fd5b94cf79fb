//! Seeing the server work: a request id on every request (in its log lines, its answer's
//! `X-Request-Id` header and the API's error bodies), one log line per request that names the
//! route and never the address (paths and queries can carry patient names, birth dates and
//! manage tokens), Prometheus metrics, and the readiness that load balancers ask for.

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};
use store::Store;
use tracing::Instrument;

pub const REQUEST_ID: &str = "x-request-id";

tokio::task_local! {
    /// The id of the request this task serves, for answers built far from the middleware
    /// (`ApiError` puts it in its body).
    static CURRENT: Arc<str>;
}

/// The id of the request being served, when there is one.
pub fn request_id() -> Option<Arc<str>> {
    CURRENT.try_with(Arc::clone).ok()
}

/// An id a client or proxy sent along, when it is one we can repeat safely in logs and headers.
fn usable_id(raw: &HeaderValue) -> Option<&str> {
    let s = raw.to_str().ok()?;
    let ok = (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
    ok.then_some(s)
}

/// A new request id: 24 hex digits, a random prefix drawn once per process (so that ids of
/// different instances differ) and a counter. Cheaper than drawing random bytes for every
/// request, and unique all the same.
fn new_id() -> Arc<str> {
    static PREFIX: OnceLock<u32> = OnceLock::new();
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let prefix = u64::from(*PREFIX.get_or_init(rand::random::<u32>));
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    // By hand: `format!` took more instructions than the rest of the request's bookkeeping.
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut id = [0u8; 24];
    for (i, digit) in id.iter_mut().enumerate() {
        let nibble = if i < 8 { prefix >> (28 - 4 * i) } else { n >> (60 - 4 * (i - 8)) };
        *digit = HEX[(nibble & 0xf) as usize];
    }
    Arc::from(std::str::from_utf8(&id).expect("hex digits are ASCII"))
}

/// Notes the matched route's pattern on the answer, for `Track`: applied to the routes of a
/// router nested as a service (`Router::route_layer`), whose patterns (with the prefix) the
/// outer router's `Track` cannot see; it would name the outer catch-all instead.
///
/// A service of its own rather than `middleware::from_fn`, which clones the whole stack under
/// it (down to the handler) on every request: a quarter more instructions per request.
#[derive(Clone, Copy, Default)]
pub struct NoteRoute;

impl<S> tower::Layer<S> for NoteRoute {
    type Service = Noted<S>;
    fn layer(&self, inner: S) -> Noted<S> {
        Noted { inner }
    }
}

#[derive(Clone)]
pub struct Noted<S> {
    inner: S,
}

impl<S> tower::Service<Request> for Noted<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = futures_util::future::BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let matched = req.extensions().get::<MatchedPath>().cloned();
        let answer = self.inner.call(req);
        Box::pin(async move {
            let mut response = answer.await?;
            if let Some(matched) = matched {
                if response.extensions().get::<MatchedPath>().is_none() {
                    response.extensions_mut().insert(matched);
                }
            }
            Ok(response)
        })
    }
}

/// The outermost layer: gives each request its id, serves it inside a span carrying the id,
/// logs one line when it is answered and counts it (see `NoteRoute` for why not `from_fn`).
#[derive(Clone)]
pub struct Track {
    ops: Ops,
}

impl Track {
    pub fn new(ops: Ops) -> Track {
        Track { ops }
    }
}

impl<S> tower::Layer<S> for Track {
    type Service = Tracked<S>;
    fn layer(&self, inner: S) -> Tracked<S> {
        Tracked { inner, ops: self.ops.clone() }
    }
}

#[derive(Clone)]
pub struct Tracked<S> {
    inner: S,
    ops: Ops,
}

impl<S> tower::Service<Request> for Tracked<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = futures_util::future::BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let started = Instant::now();
        let id: Arc<str> = req.headers().get(REQUEST_ID).and_then(usable_id).map(Arc::from).unwrap_or_else(new_id);
        let method = req.method().clone();
        // axum applies layers to each route, after routing: the route's pattern is known here.
        let route_here = req.extensions().get::<MatchedPath>().cloned();
        let span = tracing::info_span!("request", id = %id);
        let answer = span.in_scope(|| self.inner.call(req));
        let metrics = self.ops.metrics.clone();
        Box::pin(async move {
            let mut response = CURRENT.scope(id.clone(), answer).instrument(span.clone()).await?;
            // A nested router's own pattern (`NoteRoute`), else this router's.
            let matched = response.extensions_mut().remove::<MatchedPath>().or(route_here);
            let route = matched.as_ref().map_or(UNMATCHED, MatchedPath::as_str);
            let status = response.status();
            let elapsed = started.elapsed();
            metrics.request(&method, route, status.as_u16(), elapsed);
            // A line for every request is the proxy's access log's job, and cost a fifth of
            // the cheapest requests' throughput: here only failures and slow answers by
            // default (`RUST_LOG=info,server::observe=debug` logs every one).
            span.in_scope(|| {
                let ms = elapsed.as_secs_f64() * 1000.0;
                if status.is_server_error() {
                    tracing::warn!(method = %method, route, status = status.as_u16(), ms, "answered");
                } else if elapsed >= SLOW {
                    tracing::info!(method = %method, route, status = status.as_u16(), ms, "answered slowly");
                } else {
                    tracing::debug!(method = %method, route, status = status.as_u16(), ms, "answered");
                }
            });
            if let Ok(value) = HeaderValue::from_str(&id) {
                response.headers_mut().insert(REQUEST_ID, value);
            }
            Ok(response)
        })
    }
}

/// Answers that take this long are logged at `info`.
const SLOW: Duration = Duration::from_secs(1);

/// The route label of requests no route matched (static files, pages not found): one label,
/// so that scanning the server for addresses cannot grow the metrics without bound.
pub const UNMATCHED: &str = "other";

/// The bounds of the request latency histogram, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// The requests of one method and route.
#[derive(Default)]
struct Series {
    /// Answers by status; a route answers with few statuses, so a list beats a map.
    statuses: Vec<(u16, u64)>,
    /// Requests at or under each bound (not cumulative here; summed when rendered).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

/// The request counts and latencies of this process: one lock and no allocation per request
/// once a route has been seen (looked up by the pattern as it is, methods side by side).
#[derive(Default)]
pub struct Metrics {
    routes: Mutex<HashMap<Arc<str>, Vec<(&'static str, Series)>>>,
}

/// A method's label: the standard ones by name, any other (clients may send any token) as
/// one label, so that made-up methods cannot grow the metrics.
fn method_label(method: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

impl Metrics {
    fn request(&self, method: &axum::http::Method, route: &str, status: u16, elapsed: Duration) {
        let secs = elapsed.as_secs_f64();
        let bucket = BUCKETS.iter().position(|b| secs <= *b);
        let mut routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let methods = match routes.get_mut(route) {
            Some(methods) => methods,
            None => routes.entry(Arc::from(route)).or_default(),
        };
        let method = method_label(method);
        let series = match methods.iter().position(|(m, _)| *m == method) {
            Some(i) => &mut methods[i].1,
            None => {
                methods.push((method, Series::default()));
                &mut methods.last_mut().expect("just pushed").1
            }
        };
        match series.statuses.iter_mut().find(|(s, _)| *s == status) {
            Some((_, n)) => *n += 1,
            None => series.statuses.push((status, 1)),
        }
        if let Some(i) = bucket {
            series.buckets[i] += 1;
        }
        series.count += 1;
        series.sum += secs;
    }

    /// Every (method, route) with its series, sorted, for rendering.
    fn each(&self, mut f: impl FnMut(&str, &str, &Series)) {
        let routes = self.routes.lock().unwrap_or_else(|e| e.into_inner());
        let mut rows: Vec<(&str, &str, &Series)> =
            routes.iter().flat_map(|(route, methods)| methods.iter().map(move |(m, s)| (*m, &**route, s))).collect();
        rows.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        for (method, route, series) in rows {
            f(method, route, series);
        }
    }
}

/// The operational state shared by the router, the workers and `/metrics`.
#[derive(Clone, Default)]
pub struct Ops {
    pub metrics: Arc<Metrics>,
    workers: Arc<Workers>,
}

#[derive(Default)]
struct Workers {
    /// Whether this process runs the workers at all (tests that serve only the router don't).
    tracked: AtomicBool,
    delivery: AtomicBool,
    mail: AtomicBool,
    /// Shutting down: no longer ready for new work.
    draining: AtomicBool,
}

fn running(workers: &Workers, worker: Worker) -> &AtomicBool {
    match worker {
        Worker::Delivery => &workers.delivery,
        Worker::Mail => &workers.mail,
    }
}

impl std::fmt::Debug for Ops {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Ops")
    }
}

/// The background workers readiness reports on.
#[derive(Debug, Clone, Copy)]
pub enum Worker {
    Delivery,
    Mail,
}

impl Ops {
    /// Watches a worker: readiness fails once its task has ended (a panic included). Returns
    /// the task to await at shutdown.
    pub fn watch(&self, worker: Worker, task: tokio::task::JoinHandle<()>) -> tokio::task::JoinHandle<()> {
        let workers = self.workers.clone();
        workers.tracked.store(true, Ordering::SeqCst);
        running(&workers, worker).store(true, Ordering::SeqCst);
        tokio::spawn(async move {
            let ended = task.await;
            running(&workers, worker).store(false, Ordering::SeqCst);
            match ended {
                Err(e) if e.is_panic() => tracing::error!(?worker, "a background worker panicked; /readyz now fails"),
                _ => tracing::info!(?worker, "background worker stopped"),
            }
        })
    }

    /// Marks the process as shutting down: `/readyz` answers 503 from now on.
    pub fn drain(&self) {
        self.workers.draining.store(true, Ordering::SeqCst);
    }
}

/// `/readyz`: 200 when this instance can serve bookings (the database answers within two
/// seconds, its schema is this build's, the delivery and mail workers run), else 503 with the
/// checks that failed. Load balancers send traffic only to ready instances.
pub async fn readyz(State((store, ops)): State<(Store, Ops)>) -> Response {
    let mut failed: Vec<String> = Vec::new();
    match tokio::time::timeout(Duration::from_secs(2), store.schema_state()).await {
        Err(_) => failed.push("database: no answer within 2 s".into()),
        Ok(Err(e)) => failed.push(format!("database: {e}")),
        Ok(Ok(state)) if !state.current() => failed.push(format!(
            "database: schema at migration {} of this build's {} (run `server migrate`)",
            state.applied, state.known
        )),
        Ok(Ok(_)) => {}
    }
    let w = &ops.workers;
    if w.draining.load(Ordering::SeqCst) {
        failed.push("shutting down".into());
    }
    if w.tracked.load(Ordering::SeqCst) {
        if !w.delivery.load(Ordering::SeqCst) {
            failed.push("webhook delivery worker not running".into());
        }
        if !w.mail.load(Ordering::SeqCst) {
            failed.push("e-mail worker not running".into());
        }
    }
    let body = match failed.is_empty() {
        true => serde_json::json!({ "status": "ready" }),
        false => serde_json::json!({ "status": "unavailable", "failed": failed }),
    };
    let status = if failed.is_empty() { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, [(axum::http::header::CACHE_CONTROL, "no-store")], axum::Json(body)).into_response()
}

/// `/metrics` in the Prometheus text format (version 0.0.4).
pub async fn metrics(State((store, ops)): State<(Store, Ops)>) -> Response {
    let text = render(&store, &ops).await;
    ([(axum::http::header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], text).into_response()
}

/// A label value as the text format wants it quoted.
fn label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

async fn render(store: &Store, ops: &Ops) -> String {
    let mut out = String::with_capacity(8192);
    family(&mut out, "booking_build_info", "gauge", "The running build.");
    let _ = writeln!(out, "booking_build_info{{version=\"{}\",database=\"{}\"}} 1", env!("CARGO_PKG_VERSION"), match store.backend() {
        store::Backend::Sqlite => "sqlite",
        store::Backend::Postgres => "postgres",
    });

    family(&mut out, "booking_http_requests_total", "counter", "HTTP requests answered, by method, route pattern and status.");
    ops.metrics.each(|method, route, series| {
        let mut statuses = series.statuses.clone();
        statuses.sort_unstable();
        for (status, n) in statuses {
            let _ = writeln!(out, "booking_http_requests_total{{method=\"{}\",route=\"{}\",status=\"{status}\"}} {n}", label(method), label(route));
        }
    });
    family(&mut out, "booking_http_request_duration_seconds", "histogram", "Time to answer HTTP requests, by method and route pattern.");
    ops.metrics.each(|method, route, h| {
        let labels = format!("method=\"{}\",route=\"{}\"", label(method), label(route));
        let mut cumulative = 0;
        for (bound, n) in BUCKETS.iter().zip(h.buckets) {
            cumulative += n;
            let _ = writeln!(out, "booking_http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}");
        }
        let _ = writeln!(out, "booking_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}", h.count);
        let _ = writeln!(out, "booking_http_request_duration_seconds_sum{{{labels}}} {}", h.sum);
        let _ = writeln!(out, "booking_http_request_duration_seconds_count{{{labels}}} {}", h.count);
    });

    let counted = store.counters().values();
    family(&mut out, "booking_appointments_booked_total", "counter", "Appointments booked by this instance, by where the booking came from.");
    for (source, n) in store::metrics::SOURCES.iter().zip(counted.bookings) {
        let _ = writeln!(out, "booking_appointments_booked_total{{source=\"{}\"}} {n}", source.as_str());
    }
    family(&mut out, "booking_holds_total", "counter", "Slots held for a patient while they enter their details.");
    let _ = writeln!(out, "booking_holds_total {}", counted.holds);
    family(&mut out, "booking_availability_computations_total", "counter", "Availability computed, by where the calendars were read from.");
    for (source, n) in store::metrics::AVAILABILITY_SOURCES.iter().zip(counted.availability) {
        let _ = writeln!(out, "booking_availability_computations_total{{calendars=\"{source}\"}} {n}");
    }
    family(&mut out, "booking_webhook_attempts_total", "counter", "Webhook delivery attempts recorded, by outcome (retry: failed, tried again later).");
    for (outcome, n) in store::metrics::WEBHOOK_OUTCOMES.iter().zip(counted.webhook_attempts) {
        let _ = writeln!(out, "booking_webhook_attempts_total{{outcome=\"{outcome}\"}} {n}");
    }
    family(&mut out, "booking_emails_total", "counter", "Patient e-mail attempts recorded, by outcome.");
    for (outcome, n) in store::metrics::EMAIL_OUTCOMES.iter().zip(counted.emails) {
        let _ = writeln!(out, "booking_emails_total{{outcome=\"{outcome}\"}} {n}");
    }
    family(&mut out, "booking_retention_pruned_rows_total", "counter", "Rows removed by retention.");
    let _ = writeln!(out, "booking_retention_pruned_rows_total {}", counted.pruned);

    // The queues are the database's, shared by every instance: each instance reports the same
    // depth (aggregate with max, not sum).
    family(&mut out, "booking_queue_depth", "gauge", "Work waiting in the database: events not yet fanned out, webhook deliveries and e-mails pending (e-mails: due now or scheduled).");
    match tokio::time::timeout(Duration::from_secs(2), store.queue_depths()).await {
        Ok(Ok(depths)) => {
            for (queue, n) in depths {
                let _ = writeln!(out, "booking_queue_depth{{queue=\"{queue}\"}} {n}");
            }
        }
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot read the queue depths for /metrics"),
        Err(_) => tracing::warn!("the queue depths for /metrics took over 2 s"),
    }
    let pool = store.pool_stats();
    family(&mut out, "booking_db_connections", "gauge", "Database connections of this instance's pool, by state.");
    let _ = writeln!(out, "booking_db_connections{{state=\"idle\"}} {}", pool.idle);
    let _ = writeln!(out, "booking_db_connections{{state=\"in_use\"}} {}", pool.size.saturating_sub(pool.idle));
    family(&mut out, "booking_db_connections_max", "gauge", "The most connections this instance's pool opens.");
    let _ = writeln!(out, "booking_db_connections_max {}", pool.max);
    out
}

/// The router of the metrics address (`BOOKING_METRICS_ADDR`): `/metrics` only.
pub fn metrics_router(store: Store, ops: Ops) -> axum::Router {
    axum::Router::new().route("/metrics", axum::routing::get(metrics)).with_state((store, ops))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_from_outside_are_repeated_only_when_short_and_plain() {
        assert_eq!(usable_id(&HeaderValue::from_static("req-42.a_b:c")), Some("req-42.a_b:c"));
        assert_eq!(usable_id(&HeaderValue::from_static("has space")), None);
        assert_eq!(usable_id(&HeaderValue::from_static("")), None);
        let long = "a".repeat(65);
        assert_eq!(usable_id(&HeaderValue::from_str(&long).unwrap()), None);
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }

    #[test]
    fn latencies_fall_into_the_first_bucket_that_holds_them() {
        let m = Metrics::default();
        let get = axum::http::Method::GET;
        m.request(&get, "/x", 200, Duration::from_micros(800));
        m.request(&get, "/x", 200, Duration::from_millis(30));
        m.request(&get, "/x", 500, Duration::from_secs(20));
        m.request(&axum::http::Method::POST, "/x", 201, Duration::from_millis(1));
        for made_up in ["BREW", "WHEN"] {
            m.request(&axum::http::Method::from_bytes(made_up.as_bytes()).unwrap(), "/x", 405, Duration::from_millis(1));
        }
        let mut seen = Vec::new();
        m.each(|method, route, h| seen.push((method.to_owned(), route.to_owned(), h.buckets, h.count, h.statuses.clone())));
        assert_eq!(seen.len(), 3, "one series per method, made-up methods in one");
        assert_eq!((seen[1].0.as_str(), seen[1].3), ("OTHER", 2));
        let (method, route, buckets, count, statuses) = &seen[0];
        assert_eq!((method.as_str(), route.as_str()), ("GET", "/x"));
        assert_eq!(buckets[0], 1);
        assert_eq!(buckets[5], 1, "30 ms is under the 50 ms bound");
        assert_eq!(buckets.iter().sum::<u64>(), 2, "20 s is only in +Inf");
        assert_eq!(*count, 3);
        assert_eq!(statuses, &vec![(200, 2), (500, 1)]);
        assert_eq!((seen[2].0.as_str(), &seen[2].4), ("POST", &vec![(201, 1)]));
    }

    #[test]
    fn new_ids_share_the_process_prefix_and_never_repeat() {
        let (a, b) = (new_id(), new_id());
        assert_ne!(a, b);
        assert_eq!(&a[..8], &b[..8]);
        assert!(a.len() == 24 && a.chars().all(|c| c.is_ascii_hexdigit()));
        let (x, y) = (u64::from_str_radix(&a[8..], 16).unwrap(), u64::from_str_radix(&b[8..], 16).unwrap());
        assert!(y > x, "{a} then {b}: the counter goes up");
    }
}
