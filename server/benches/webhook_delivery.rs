//! Webhook delivery figures against the release server binary, on SQLite with one instance
//! and on PostgreSQL with two: 1,000 bookings by 16 concurrent bot clients, delivered to a
//! local receiver. Latency (confirmation to receiver, p50/p99) with one subscription, as a
//! clinic with one bot vendor would see it; throughput (deliveries a second) with each event
//! going to 10 subscriptions, so that delivery rather than booking is the bottleneck.
//!
//! `make bench` runs it; so does `cargo bench -p server --bench webhook_delivery`.

#[path = "../tests/scenarios/delivery.rs"]
mod delivery;

use delivery::{run, Run};
use std::time::Duration;
use store::testing::fresh_db;
use store::Backend;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    for (backend, instances, subscriptions) in [(Backend::Sqlite, 1, 1), (Backend::Sqlite, 1, 10), (Backend::Postgres, 2, 1), (Backend::Postgres, 2, 10)] {
        let run_of = Run { instances, kill: false, receiver_delay: Duration::ZERO, subscriptions };
        let f = run(fresh_db(backend).await, run_of).await;
        let deliveries = f.committed * subscriptions;
        println!(
            "webhooks {backend:?} x{instances}, {subscriptions} subscription(s): {} bookings in {:.1} s; {deliveries} deliveries ({} requests) done {:.1} s after the first booking \
             = {:.0} deliveries/s; confirmation to receiver p50 {:.1} ms, p99 {:.1} ms",
            f.committed,
            f.booking_secs,
            f.received,
            f.delivery_secs,
            deliveries as f64 / f.delivery_secs,
            f.p50.as_secs_f64() * 1000.0,
            f.p99.as_secs_f64() * 1000.0,
        );
    }
}
