//! At-least-once delivery across crashes: the real server binary is killed with SIGKILL while
//! 1,000 bookings are being made and deliveries are in flight, then started again. Every
//! committed booking's event must reach the receiver, and no event may arrive for a booking
//! that did not commit. On SQLite with one instance; on PostgreSQL with two instances sharing
//! the database, one of which is killed.

#[path = "scenarios/delivery.rs"]
mod delivery;

use delivery::{run, Run};
use std::time::Duration;
use store::testing::fresh_db;
use store::Backend;

/// The receiver is slow enough that attempts are in flight when the kill strikes: those are
/// the ones whose lease must run out and be claimed again.
const KILL: Run = Run { instances: 1, kill: true, receiver_delay: Duration::from_millis(150), subscriptions: 1 };

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_delivers_every_committed_booking_after_a_sigkill() {
    let figures = run(fresh_db(Backend::Sqlite).await, KILL).await;
    eprintln!("{figures:?}");
    assert!(figures.committed > 900, "the bookings themselves went through: {figures:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_with_two_instances_delivers_every_committed_booking_after_one_is_killed() {
    let figures = run(fresh_db(Backend::Postgres).await, Run { instances: 2, ..KILL }).await;
    eprintln!("{figures:?}");
    assert!(figures.committed > 900, "the bookings themselves went through: {figures:?}");
}
