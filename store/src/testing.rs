//! Fresh, isolated databases for tests, on either backend.
//!
//! PostgreSQL tests need a server; `BOOKING_TEST_POSTGRES_URL` names an administrative
//! connection (default `postgres://postgres@127.0.0.1:5432/postgres`). A test that cannot
//! reach it fails: a missing database must never turn into a skipped suite.

use crate::{Backend, Clock, Store};
use chrono::{DateTime, Utc};
use rand::Rng;

pub const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// Prefix of every database the tests create, so a test run can drop what earlier runs left.
pub const TEST_DB_PREFIX: &str = "booking_test_";

pub struct TestDb {
    pub url: String,
    pub store: Store,
}

fn random_suffix() -> String {
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

/// A fresh directory under the system's temporary one, removed with everything in it when
/// dropped. Named at random: tests run in parallel threads of one process.
pub struct TempDir(pub std::path::PathBuf);

impl TempDir {
    pub fn new(prefix: &str) -> Self {
        let path = std::env::temp_dir().join(format!("{prefix}{}", random_suffix()));
        std::fs::create_dir_all(&path).unwrap_or_else(|e| panic!("cannot create {}: {e}", path.display()));
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A migrated, empty database of the given backend.
pub async fn fresh_db(backend: Backend) -> TestDb {
    let url = match backend {
        Backend::Sqlite => {
            let path = std::env::temp_dir().join(format!("{TEST_DB_PREFIX}{}.db", random_suffix()));
            format!("sqlite://{}?mode=rwc", path.display())
        }
        Backend::Postgres => {
            let admin_url =
                std::env::var("BOOKING_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_owned());
            let name = format!("{TEST_DB_PREFIX}{}", random_suffix());
            let admin = Store::connect(&admin_url).await.unwrap_or_else(|e| {
                panic!("PostgreSQL is required for these tests and is not reachable at {admin_url}: {e}")
            });
            let crate::Db::Postgres(pool) = admin.db() else { panic!("BOOKING_TEST_POSTGRES_URL must be a postgres:// URL") };
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(pool)
                .await
                .expect("create test database");
            admin.close().await;
            match admin_url.rsplit_once('/') {
                Some((base, _)) => format!("{base}/{name}"),
                None => panic!("admin URL {admin_url} has no database part"),
            }
        }
    };
    let store = Store::connect(&url).await.expect("connect to fresh test database");
    store.migrate().await.expect("migrate fresh test database");
    TestDb { url, store }
}

/// The instants the suites run as of, `(name, ISO 8601 instant)`: `scripts/test-dates`, which
/// `make test` and the browser tests read too.
pub fn test_dates() -> Vec<(&'static str, &'static str)> {
    include_str!("../../scripts/test-dates")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| l.split_once(char::is_whitespace).map(|(n, at)| (n, at.trim())).expect("a name and an instant per line"))
        .collect()
}

/// The instant a test suite runs as of: `BOOKING_TEST_NOW` names one of `test_dates()`,
/// gives an ISO 8601 instant, or says `real` for the machine's clock. Unset, it is the first
/// of `test_dates()`, so that a plain `cargo test` never depends on the day it runs.
pub fn test_start() -> Option<DateTime<Utc>> {
    let dates = test_dates();
    let wanted = std::env::var("BOOKING_TEST_NOW").ok().map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let wanted = wanted.as_deref().unwrap_or(dates[0].0);
    if wanted == "real" {
        return None;
    }
    let raw = dates.iter().find(|(name, _)| *name == wanted).map_or(wanted, |(_, at)| at);
    let at = DateTime::parse_from_rfc3339(raw).unwrap_or_else(|_| {
        let names: Vec<&str> = dates.iter().map(|(name, _)| *name).collect();
        panic!("BOOKING_TEST_NOW={wanted:?} is neither `real`, one of {names:?}, nor an ISO 8601 instant")
    });
    Some(at.with_timezone(&Utc))
}

/// A clock for one test, started at `test_start()`. Each test makes its own, so every test
/// begins at the same instant however long the suite has run.
pub fn test_clock() -> Clock {
    test_start().map_or_else(Clock::system, Clock::starting_at)
}

/// Declares each listed `async fn(TestDb)` as two tests, `<name>::on_sqlite` and
/// `<name>::on_postgres`, so every behaviour is checked on both backends.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_sqlite() {
                    super::$name($crate::testing::fresh_db($crate::Backend::Sqlite).await).await
                }
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn on_postgres() {
                    super::$name($crate::testing::fresh_db($crate::Backend::Postgres).await).await
                }
            }
        )+
    };
}

/// Runs a query that returns one BIGINT (e.g. `SELECT COUNT(*) ...`) on either backend, for
/// invariant checks in tests.
pub async fn scalar_i64(store: &Store, sql: &str) -> i64 {
    let row: (i64,) = crate::with_pool!(store, pool => {
        sqlx::query_as(sql).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    });
    row.0
}

/// Runs a query that returns one TEXT value, on either backend.
pub async fn scalar_text(store: &Store, sql: &str) -> String {
    let row: (String,) = crate::with_pool!(store, pool => {
        sqlx::query_as(sql).fetch_one(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"))
    });
    row.0
}

/// Seeds the demo clinic into a fresh database at `now`: its id and booking context.
pub async fn seeded_demo(store: &Store, now: chrono::DateTime<chrono::Utc>) -> (i64, crate::BookingContext) {
    let seed = crate::DemoSeed { now, api_key: "bk_test".into(), voice_key: "bk_test_voice".into() };
    let crate::SeedOutcome::Created { clinic_id } = store.seed_demo(&seed).await.expect("seed the demo clinic") else {
        panic!("the test database must be fresh")
    };
    let slug = domain::ClinicSlug::parse(crate::DEMO_SLUG).expect("demo slug");
    (clinic_id, store.booking_context(&slug).await.expect("demo booking context"))
}

/// A 30-minute bot booking at the demo context's location and service, without patient,
/// idempotency key or hold.
pub fn appointment(
    clinic_id: i64,
    ctx: &crate::BookingContext,
    provider_id: i64,
    start: chrono::DateTime<chrono::Utc>,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::NewAppointment {
    crate::NewAppointment {
        clinic_id,
        location_id: ctx.location.id,
        provider_id,
        service_id: ctx.service.id,
        product_id: None,
        start,
        end: start + chrono::Duration::minutes(30),
        tz: ctx.location.tz,
        booker_id: None,
        participant_id: None,
        source: domain::appointment::BookingSource::BotApi,
        reason: String::new(),
        idempotency: None,
        consume_hold: None,
        now,
    }
}

/// Runs a statement on either backend, for tests that set up a state the API cannot reach
/// (e.g. an appointment that changed hands).
pub async fn execute(store: &Store, sql: &str) {
    crate::with_pool!(store, pool => {
        sqlx::query(sql).execute(pool).await.unwrap_or_else(|e| panic!("{sql}: {e}"));
    });
}

/// Adds an empty clinic beside the demo one, for tests of what one clinic must not see of
/// another's. Returns its id.
pub async fn another_clinic(store: &Store, slug: &str) -> i64 {
    let created = match store.backend() {
        Backend::Sqlite => "0",
        Backend::Postgres => "now()",
    };
    execute(store, &format!("INSERT INTO clinics (slug, name, created_at) VALUES ('{slug}', 'Clinic {slug}', {created})")).await;
    scalar_i64(store, &format!("SELECT id FROM clinics WHERE slug = '{slug}'")).await
}

/// Every appointment id in the database, for checks across processes.
pub async fn appointment_ids(store: &Store) -> Vec<i64> {
    crate::with_pool!(store, pool => {
        sqlx::query_scalar("SELECT id FROM appointments ORDER BY id").fetch_all(pool).await.expect("read appointment ids")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Datelike, Duration, TimeZone, Timelike, Weekday};
    use chrono_tz::Europe::Berlin;

    fn dates() -> Vec<(&'static str, DateTime<chrono_tz::Tz>)> {
        test_dates()
            .into_iter()
            .map(|(name, at)| (name, DateTime::parse_from_rfc3339(at).unwrap_or_else(|e| panic!("{name}: {e}")).with_timezone(&Berlin)))
            .collect()
    }

    /// Whether Berlin's offset from UTC changes on `day` (at night, between the noons of the
    /// day before and of the day).
    fn offset_changes_on(day: chrono::NaiveDate) -> bool {
        let noon = |d: chrono::NaiveDate| d.and_hms_opt(12, 0, 0).unwrap();
        let offset = |d: chrono::NaiveDate| (Berlin.from_utc_datetime(&noon(d)).naive_local() - noon(d)).num_minutes();
        offset(day - Duration::days(1)) != offset(day)
    }

    #[test]
    fn the_suites_run_at_the_hard_dates_the_issue_names() {
        let dates = dates();
        let names: std::collections::HashSet<_> = dates.iter().map(|(n, _)| *n).collect();
        assert_eq!(names.len(), dates.len(), "names are unique");
        let last_of_month = |t: &DateTime<chrono_tz::Tz>| (t.date_naive() + Duration::days(1)).day() == 1;
        assert!(dates.iter().any(|(_, t)| last_of_month(t) && t.month() != 12), "the last day of a month");
        assert!(dates.iter().any(|(_, t)| t.month() == 12 && t.day() == 31), "the last day of a year");
        assert!(dates.iter().any(|(_, t)| offset_changes_on(t.date_naive() + Duration::days(1))), "the day before a DST change");
        assert!(dates.iter().any(|(_, t)| offset_changes_on(t.date_naive())), "the day of a DST change");
        assert!(dates.iter().any(|(_, t)| t.weekday() == Weekday::Sat && t.hour() >= 20), "a Saturday night");
    }

    #[test]
    fn a_test_date_is_named_or_given_as_an_instant() {
        // The variable is read per call; this test alone in this binary sets it.
        std::env::set_var("BOOKING_TEST_NOW", "year-end");
        assert_eq!(test_start().unwrap().to_rfc3339(), "2026-12-31T15:30:00+00:00");
        std::env::set_var("BOOKING_TEST_NOW", "2030-01-01T00:00:00Z");
        assert_eq!(test_start().unwrap().to_rfc3339(), "2030-01-01T00:00:00+00:00");
        std::env::set_var("BOOKING_TEST_NOW", "real");
        assert_eq!(test_start(), None);
        std::env::remove_var("BOOKING_TEST_NOW");
    }
}
