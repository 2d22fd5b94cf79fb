//! The webhook delivery worker: fans new outbox events out to subscriptions, claims due
//! deliveries with a lease, sends them signed, and records each attempt's result. Every
//! server instance runs one; the store's leases keep instances from sending the same
//! attempt at once, and a crashed instance's attempts fall due again when their lease ends.
//!
//! Outbound safety: redirects are never followed, proxies from the environment are ignored,
//! and every name is resolved by [`GuardedResolver`], which refuses internal addresses and
//! hands the connector exactly the addresses it checked (no second lookup to rebind).

use chrono::{DateTime, Utc};
use domain::delivery::ATTEMPT_TIMEOUT;
use domain::outbound::{check_url, refused_address, AllowHosts};
use domain::webhook::{body_signature, standard_signature, SigningKeys};
use rand::Rng;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::webhooks::{AttemptResult, Attempted, DueDelivery};
use store::{Clock, Store};
use tokio::sync::{mpsc, oneshot, watch, Notify, Semaphore};
use tokio::task::JoinSet;

/// Sent as `User-Agent`, so receivers can tell deliveries in their logs.
const USER_AGENT: &str = concat!("clinic-booking-webhooks/", env!("CARGO_PKG_VERSION"));

#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    pub allow_hosts: AllowHosts,
    /// Whole-attempt limit, connection included.
    pub timeout: Duration,
    /// How long a claimed attempt belongs to this worker; longer than `timeout`.
    pub lease: Duration,
    /// Pause between looks at the queue when there was nothing to do.
    pub idle_poll: Duration,
    /// Attempts in flight at once.
    pub concurrency: usize,
    /// What is due, and the time each attempt is signed with.
    pub clock: Clock,
}

impl DeliveryOptions {
    pub fn new(allow_hosts: AllowHosts, lease: Duration) -> DeliveryOptions {
        DeliveryOptions { allow_hosts, timeout: ATTEMPT_TIMEOUT, lease, idle_poll: Duration::from_millis(100), concurrency: 32, clock: Clock::system() }
    }
}

/// Refused by the outbound rules; shown in the delivery log.
#[derive(Debug)]
struct Refused(String);

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Refused {}

/// Resolves a webhook host and refuses it when any of its addresses is internal, unless the
/// operator trusts the host. The connector uses the returned addresses as they are.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    allow: AllowHosts,
}

impl GuardedResolver {
    pub fn new(allow: AllowHosts) -> GuardedResolver {
        GuardedResolver { allow }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        let trusted = self.allow.allows(&host);
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if addrs.is_empty() {
                return Err(Box::new(Refused(format!("{host} has no address"))) as Box<dyn std::error::Error + Send + Sync>);
            }
            if !trusted {
                if let Some((addr, why)) = addrs.iter().find_map(|a| refused_address(a.ip()).map(|why| (a, why))) {
                    // The delivery log is read by the subscriber: it learns the kind of address,
                    // never which internal address a name leads to. The operator's log has it.
                    tracing::warn!(%host, address = %addr.ip(), why, "webhook host refused");
                    return Err(Box::new(Refused(format!("{host} resolves to a {why} address"))) as _);
                }
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The HTTP client deliveries go out with.
pub fn client(options: &DeliveryOptions) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(options.timeout)
        .connect_timeout(options.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(USER_AGENT)
        .dns_resolver(Arc::new(GuardedResolver::new(options.allow_hosts.clone())))
        .build()
        .expect("the webhook HTTP client's settings are valid")
}

/// Why an attempt got no answer, in a few words for the delivery log.
fn describe(e: &reqwest::Error) -> String {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        if let Some(refused) = err.downcast_ref::<Refused>() {
            return format!("refused: {refused}");
        }
        source = err.source();
    }
    if e.is_timeout() {
        format!("no answer within {} s", ATTEMPT_TIMEOUT.as_secs())
    } else if e.is_connect() {
        "could not connect".to_owned()
    } else {
        "the connection failed".to_owned()
    }
}

/// Makes one attempt. The same event id and body go out on every attempt; the timestamp and
/// the signatures over it are fresh.
pub async fn attempt(client: &reqwest::Client, allow: &AllowHosts, due: &DueDelivery, now: DateTime<Utc>) -> AttemptResult {
    let started = Instant::now();
    let refused = |error: String| AttemptResult { status: None, latency_ms: 0, error: Some(error) };
    // The URL passed these checks when it was subscribed; the operator's list may have
    // changed since, and literal addresses never reach the resolver.
    let url = match check_url(&due.url, allow) {
        Ok(url) => url,
        Err(e) => return refused(format!("refused: {e}")),
    };
    let keys = match SigningKeys::from_secret(&due.secret) {
        Ok(keys) => keys,
        Err(e) => return refused(format!("the subscription's secret is unusable: {e}")),
    };
    let timestamp = now.timestamp();
    let body = due.body.as_bytes();
    let request = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Webhook-Signature", body_signature(&keys.vendor, body))
        .header("webhook-id", &due.event_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", standard_signature(&keys.standard, &due.event_id, timestamp, body))
        .body(due.body.clone());
    let answer = request.send().await;
    let latency_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    match answer {
        Ok(response) => {
            let status = response.status();
            let error = status.is_redirection().then(|| "redirect not followed".to_owned());
            AttemptResult { status: Some(status.as_u16()), latency_ms, error }
        }
        Err(e) => AttemptResult { status: None, latency_ms, error: Some(describe(&e)) },
    }
}

/// An attempt's result on its way to the recorder, with the channel that says it is recorded.
type Made = (DueDelivery, AttemptResult, DateTime<Utc>, f64, oneshot::Sender<()>);

/// Runs the worker until `stop` turns true, then lets attempts in flight finish and records them.
///
/// It looks at the queue when this process commits an event (`Store::outbox_written`), when an
/// attempt's slot frees up, and otherwise every `idle_poll` (events of other processes, retries
/// falling due). Results are recorded by one task, in one transaction for all that came in
/// together.
pub async fn run(store: Store, options: DeliveryOptions, mut stop: watch::Receiver<bool>) {
    let client = client(&options);
    let slots = Arc::new(Semaphore::new(options.concurrency));
    let lease = chrono::Duration::from_std(options.lease).unwrap_or(chrono::Duration::seconds(30));
    let written = store.outbox_written();
    let freed = Arc::new(Notify::new());
    let (results, inbox) = mpsc::unbounded_channel::<Made>();
    let recorder = tokio::spawn(record(store.clone(), inbox));
    let mut in_flight = JoinSet::new();
    let mut failures = 0u32;
    while !*stop.borrow() {
        while in_flight.try_join_next().is_some() {}
        let round = async {
            let fanned = store.fan_out_events(options.clock.now()).await?;
            let free = slots.available_permits();
            let claimed = if free > 0 { store.claim_deliveries(options.clock.now(), free as i64, lease).await? } else { Vec::new() };
            Ok::<_, store::StoreError>((fanned, claimed))
        };
        let busy = match round.await {
            Ok((fanned, claimed)) => {
                failures = 0;
                let busy = fanned > 0 || !claimed.is_empty();
                for due in claimed {
                    let permit = slots.clone().acquire_owned().await.expect("the semaphore is never closed");
                    let (client, allow, clock, results, freed) = (client.clone(), options.allow_hosts.clone(), options.clock, results.clone(), freed.clone());
                    in_flight.spawn(async move {
                        let result = attempt(&client, &allow, &due, clock.now()).await;
                        let jitter = rand::rng().random::<f64>();
                        let (done, recorded) = oneshot::channel();
                        if results.send((due, result, clock.now(), jitter, done)).is_ok() {
                            let _ = recorded.await;
                        }
                        drop(permit);
                        freed.notify_one();
                    });
                }
                busy
            }
            Err(e) => {
                failures = failures.saturating_add(1);
                tracing::error!(error = %e, "webhook queue unavailable; retrying");
                false
            }
        };
        if !busy {
            // Backs off while the database is failing, up to about 5 seconds.
            let pause = options.idle_poll * 2u32.saturating_pow(failures.min(6));
            tokio::select! {
                _ = written.notified(), if failures == 0 => {}
                _ = freed.notified(), if failures == 0 => {}
                waited = tokio::time::timeout(pause.min(Duration::from_secs(5)), stop.changed()) => {
                    if let Ok(Err(_)) = waited {
                        break; // the owner is gone: nobody can stop us any more, so stop now
                    }
                }
            }
        }
    }
    while in_flight.join_next().await.is_some() {}
    drop(results);
    let _ = recorder.await;
}

/// Records attempts' results as they come, all that are waiting in one transaction.
async fn record(store: Store, mut inbox: mpsc::UnboundedReceiver<Made>) {
    let mut batch = Vec::new();
    while inbox.recv_many(&mut batch, RECORD_BATCH).await > 0 {
        let attempts: Vec<Attempted<'_>> =
            batch.iter().map(|(due, result, at, jitter, _)| Attempted { due, result, at: *at, jitter: *jitter }).collect();
        // A transaction the database aborted (a deadlock with another instance, a lost
        // connection) changed nothing and is tried again, a few times.
        let mut tries = 0;
        while let Err(e) = store.record_attempts(&attempts).await {
            tries += 1;
            if tries == RECORD_TRIES {
                // Their leases run out and the attempts are made again: at least once.
                tracing::error!(error = %e, attempts = attempts.len(), "could not record webhook attempts");
                break;
            }
            tracing::warn!(error = %e, attempts = attempts.len(), "recording webhook attempts failed; trying again");
            tokio::time::sleep(Duration::from_millis(20 * tries)).await;
        }
        drop(attempts);
        for (.., done) in batch.drain(..) {
            let _ = done.send(());
        }
    }
}

/// At most this many results are recorded in one transaction.
const RECORD_BATCH: usize = 256;
/// How often one batch is tried before its attempts are left to their leases.
const RECORD_TRIES: u64 = 4;

/// Starts the worker on the runtime; send `true` on the returned sender to stop it.
pub fn spawn(store: Store, options: DeliveryOptions) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = watch::channel(false);
    (stop, tokio::spawn(run(store, options, stopped)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use std::str::FromStr;

    /// When the attempts in these tests are made: what they check does not depend on it.
    fn signed_at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 17, 0, 0).unwrap()
    }

    async fn resolve(allow: &str, host: &str) -> Result<Vec<SocketAddr>, String> {
        let resolver = GuardedResolver::new(AllowHosts::parse(allow));
        match resolver.resolve(Name::from_str(host).unwrap()).await {
            Ok(addrs) => Ok(addrs.collect()),
            Err(e) => Err(e.to_string()),
        }
    }

    #[tokio::test]
    async fn names_that_resolve_to_internal_addresses_are_refused_unless_trusted() {
        let refused = resolve("", "localhost").await.unwrap_err();
        assert!(refused.contains("loopback"), "{refused}");
        assert!(!refused.contains("127.0.0.1") && !refused.contains("::1"), "the log names no internal address: {refused}");
        let trusted = resolve("localhost", "localhost").await.unwrap();
        assert!(trusted.iter().all(|a| a.ip().is_loopback()), "{trusted:?}");
    }

    fn due(url: &str) -> DueDelivery {
        DueDelivery {
            delivery_id: 1,
            attempt: 1,
            subscription_id: 1,
            url: url.to_owned(),
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".to_owned(),
            event_id: "evt_1".to_owned(),
            event_type: "appointmentCreated".to_owned(),
            event_created_at: signed_at(),
            body: "{}".to_owned(),
        }
    }

    #[tokio::test]
    async fn an_attempt_to_a_url_no_longer_allowed_is_refused_without_connecting() {
        // Subscribed while the operator trusted 127.0.0.1; the trust was withdrawn since.
        let options = DeliveryOptions::new(AllowHosts::default(), Duration::from_secs(30));
        let result = attempt(&client(&options), &options.allow_hosts, &due("http://127.0.0.1:9/hook"), signed_at()).await;
        assert_eq!(result.status, None);
        assert!(result.error.as_deref().is_some_and(|e| e.starts_with("refused:")), "{result:?}");
        let named = attempt(&client(&options), &options.allow_hosts, &due("https://localhost:9/hook"), signed_at()).await;
        assert!(named.error.as_deref().is_some_and(|e| e.starts_with("refused:")), "{named:?}");
    }

    #[tokio::test]
    async fn a_connection_error_is_a_failed_attempt_with_a_reason() {
        let options = DeliveryOptions::new(AllowHosts::parse("127.0.0.1"), Duration::from_secs(30));
        // Port 9 (discard) is closed on a test machine: the connection is refused.
        let result = attempt(&client(&options), &options.allow_hosts, &due("http://127.0.0.1:9/hook"), signed_at()).await;
        assert_eq!((result.status, result.error.as_deref()), (None, Some("could not connect")));
    }
}
