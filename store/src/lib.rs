//! One `Store` in front of two databases. SQLite is the embedded default; PostgreSQL serves
//! deployments with several server instances. Each method is written once where the SQL is
//! the same (SQLite accepts `$1` placeholders too) and the `with_pool!` macro instantiates it
//! for each backend, so both are type-checked and tested; where the backends must differ
//! (time encoding, locking) the difference lives in `time.rs` or in an explicit branch.

pub mod attention;
mod audit;
mod availability;
mod calendars;
pub use calendars::SQLITE_WATCH;
mod clock;
mod booking;
pub mod catalogue_admin;
mod clinic_admin;
mod clinic_apply;
pub mod clinic_file;
pub mod credentials;
pub mod desk;
pub mod emails;
mod error;
pub mod links;
pub mod metrics;
pub mod retention;
mod patients;
mod records;
mod seed;
pub mod schedule_admin;
pub mod staff;
mod time;
pub mod voice;
pub mod webhooks;
mod widget;

// In every build, not behind a feature: a feature only the tests enabled made the test build
// compile the store, the pages and the server a second time (ten minutes on two cores). The
// server never calls it, so it costs the binary nothing.
pub mod testing;

pub use clock::Clock;
pub use availability::{Availability, AvailabilityRequest, ProviderAvailability, Slot};
pub use booking::{Booked, Hold, NewAppointment, Reschedule, SlotBooking};
pub use error::StoreError;
pub use patients::{PatientQuery, PatientRecord, PatientRef, PatientView, MAX_CANDIDATES};
pub use records::{BookingContext, ClinicRecord, LocationRecord, ProductRecord, ProviderRecord, ServiceRecord};
pub use widget::{AppointmentView, Catalogue, HoldView, Offer, ProductOption, ServiceOption};
pub use seed::{api_key_digest, DemoSeed, DEMO_FILE, SeedOutcome, DEMO_API_USER, DEMO_OWNER_EMAIL, DEMO_SIP_ID, DEMO_SLUG, DEMO_VOICE_USER};
pub use audit::AuditEntry;
pub use clinic_admin::{ClinicConfig, NewClinic};
pub use clinic_apply::{Applied, ApplyPlan};
pub use clinic_file::ClinicFile;

use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{PgPool, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

/// Expands `$body` once per backend with `$pool` bound to that backend's pool.
macro_rules! with_pool {
    ($store:expr, $pool:ident => $body:expr) => {
        match $crate::Store::db(&$store) {
            $crate::Db::Sqlite($pool) => $body,
            $crate::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// The database behind a store.
#[derive(Debug, Clone)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database and what this process keeps of it in memory (each clinic's calendars, see
/// `calendars.rs`). Clones share both.
#[derive(Debug, Clone)]
pub struct Store {
    db: Db,
    calendars: std::sync::Arc<calendars::Calendars>,
    /// Keys accepted in the last second (`credentials::ADMITTED_FOR`).
    admitted: std::sync::Arc<credentials::Admitted>,
    /// Notified when this process commits an event to the outbox (`Store::outbox_written`).
    outbox: std::sync::Arc<tokio::sync::Notify>,
    /// The same for the mail worker (`Store::outbox_mailable`).
    mail: std::sync::Arc<tokio::sync::Notify>,
    /// SQLite: one write transaction of this process at a time (`booking::WriteTx::ONE_WRITER`).
    writer: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// SQLite: the queue ordinary writers pass before they wait for `writer`.
    queue: std::sync::Arc<tokio::sync::Mutex<()>>,
    /// SQLite: the connection the writers take their turns on. With the readers' pool, a
    /// writer holding the turn waited for a connection behind every read in flight (64
    /// clients booking kept all eight busy), and the whole queue of writers waited with it.
    sqlite_writer: Option<SqlitePool>,
    /// What this process has done (`metrics.rs`), for the server's `/metrics`.
    counters: std::sync::Arc<metrics::Counters>,
}

/// `Store::schema_state`: migration versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchemaState {
    pub applied: i64,
    pub known: i64,
}

impl SchemaState {
    /// The database has every migration of this build (a newer build's too, during a rolling
    /// upgrade: migrations only add).
    pub fn current(&self) -> bool {
        self.applied >= self.known
    }
}

/// `Store::pool_stats`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolStats {
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Store {
    /// Opens a pool for `sqlite://...` or `postgres://...` (also `postgresql://`).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .foreign_keys(true)
                // WAL lets readers proceed while one writer commits; NORMAL sync is durable
                // across application crashes, which is the failure we must survive.
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5));
            if let Some(dir) = options.get_filename().parent() {
                if !dir.as_os_str().is_empty() {
                    std::fs::create_dir_all(dir)?;
                }
            }
            // No test before each acquire: a connection to a local file does not go stale the
            // way a network connection does, and the test is one more round trip to the
            // connection's thread for every query and every write.
            let pool = SqlitePoolOptions::new().max_connections(8).test_before_acquire(false).connect_with(options.clone()).await?;
            // One connection: writers take turns (`writer`), so a second would sit idle.
            let writer = SqlitePoolOptions::new().max_connections(1).test_before_acquire(false).connect_lazy_with(options);
            Ok(Store { sqlite_writer: Some(writer), ..Store::new(Db::Sqlite(pool)) })
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(5))
                .connect(url)
                .await?;
            Ok(Store::new(Db::Postgres(pool)))
        } else {
            Err(StoreError::UnsupportedUrl(url.to_owned()))
        }
    }

    fn new(db: Db) -> Self {
        Store {
            db,
            calendars: Default::default(),
            admitted: Default::default(),
            outbox: Default::default(),
            mail: Default::default(),
            writer: Default::default(),
            queue: Default::default(),
            sqlite_writer: None,
            counters: Default::default(),
        }
    }

    /// Notified (one stored permit) whenever this process commits an event to the outbox,
    /// so that the delivery worker starts on it at once instead of at its next poll.
    pub fn outbox_written(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.outbox.clone()
    }

    /// `outbox_written` for the mail worker: each worker needs its own permit.
    pub fn outbox_mailable(&self) -> std::sync::Arc<tokio::sync::Notify> {
        self.mail.clone()
    }

    /// What this process has counted since it started (bookings, holds, deliveries, ...).
    pub fn counters(&self) -> &metrics::Counters {
        &self.counters
    }

    /// The pool, for the few callers (tests, benchmarks, the desk's listener) that need it.
    pub fn db(&self) -> &Db {
        &self.db
    }

    pub fn backend(&self) -> Backend {
        match self.db {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies pending migrations. Safe to run from several instances at once: sqlx takes an
    /// advisory lock on PostgreSQL and SQLite serialises writers.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        match &self.db {
            Db::Sqlite(pool) => sqlx::migrate!("./migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await?,
        }
        self.fill_name_keys().await
    }

    /// The newest migration this build has for `backend`.
    pub fn known_migration(backend: Backend) -> i64 {
        let newest = match backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").iter().map(|m| m.version).max(),
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").iter().map(|m| m.version).max(),
        };
        newest.unwrap_or(0)
    }

    /// How far the database's schema is: the newest migration applied and the newest this
    /// build knows. The server is ready only when the database is not behind its build.
    pub async fn schema_state(&self) -> Result<SchemaState, StoreError> {
        let known = Store::known_migration(self.backend());
        let applied: Option<i64> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success").fetch_one(pool).await?
        });
        Ok(SchemaState { applied: applied.unwrap_or(0), known })
    }

    /// Work waiting in the database, by queue: events no delivery worker has fanned out yet,
    /// webhook deliveries and patient e-mails still to make (e-mails include reminders
    /// scheduled for later).
    pub async fn queue_depths(&self) -> Result<Vec<(&'static str, i64)>, StoreError> {
        let mut depths = Vec::with_capacity(3);
        for (queue, sql) in [
            ("events", "SELECT COUNT(*) FROM outbox WHERE dispatched_at IS NULL"),
            ("webhook_deliveries", "SELECT COUNT(*) FROM webhook_deliveries WHERE state = 'pending'"),
            ("emails", "SELECT COUNT(*) FROM patient_emails WHERE state = 'pending'"),
        ] {
            let n: i64 = with_pool!(self, pool => sqlx::query_scalar(sql).fetch_one(pool).await?);
            depths.push((queue, n));
        }
        Ok(depths)
    }

    /// This instance's database connections now.
    pub fn pool_stats(&self) -> PoolStats {
        // sqlx keeps the idle count in an atomic that a release and a take can pass each other
        // on, and it was seen to wrap below zero for a moment: at most the pool's size.
        let of = |size: u32, idle: usize, max: u32| PoolStats { size, idle: u32::try_from(idle).unwrap_or(u32::MAX).min(size), max };
        let mut stats = with_pool!(self, pool => of(pool.size(), pool.num_idle(), pool.options().get_max_connections()));
        if let Some(writer) = &self.sqlite_writer {
            let w = of(writer.size(), writer.num_idle(), writer.options().get_max_connections());
            stats = PoolStats {
                size: stats.size.saturating_add(w.size),
                idle: stats.idle.saturating_add(w.idle),
                max: stats.max.saturating_add(w.max),
            };
        }
        stats
    }

    pub async fn close(&self) {
        if let Some(writer) = &self.sqlite_writer {
            writer.close().await;
        }
        with_pool!(self, pool => pool.close().await)
    }
}
