//! Each clinic's calendars in memory: what the slot engine needs (settings, products,
//! providers, hours, exceptions, blocks, holidays, appointments and holds) for the clinic's
//! whole bookable window, loaded on first use, so that availability is answered without a
//! database round trip.
//!
//! A cached calendar must never offer a time taken longer than a bounded moment, whoever
//! took it. Triggers in the database mark every change a clinic's free times depend on
//! (migration 0018), and three paths forget the clinic's calendar:
//! - this process's own write transactions read the marks just before they commit and forget
//!   those clinics right after the commit, before the write returns (`Tx::commit`); a
//!   booking that is the only change since the marks acted on updates the kept calendar
//!   instead (`Calendars::book`), so that a stream of bookings does not reload it each time;
//! - on PostgreSQL, every instance listens on channel `availability`, which the triggers
//!   notify at commit; a lost connection forgets every clinic, since notifications may have
//!   been missed while it was down;
//! - on SQLite, where other processes (the CLI, an import) may write the same file, a watcher
//!   reads the marks stamped after the last one it saw every `SQLITE_WATCH` (and every own
//!   commit does the same).
//!
//! A load that overlaps a change is not kept: each forget bumps the clinic's epoch, and a
//! load stores its result only if the epoch it started at is still current. The database's
//! constraints stay the guard against double booking; the cache only decides what is offered.

use crate::{Db, Store, StoreError};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

/// How often a SQLite process looks for changes made by other processes.
pub const SQLITE_WATCH: Duration = Duration::from_millis(100);

/// The channel the triggers notify on PostgreSQL.
const CHANNEL: &str = "availability";

#[derive(Debug, Default)]
pub(crate) struct Calendars {
    entries: Mutex<HashMap<i64, Entry>>,
    /// Set once the watcher runs; until then nothing is cached and commits skip the marks.
    active: AtomicBool,
    /// Starting the watcher happens once, by whichever request first needs it.
    starting: tokio::sync::Mutex<()>,
    /// SQLite: the highest mark this process has acted on.
    seen: AtomicI64,
    /// Slugs seen with the clinic they named, while that clinic's catalogue is kept.
    slugs: Mutex<HashMap<String, i64>>,
    /// Dropped with the store's last clone, which ends the PostgreSQL listener (it would
    /// otherwise hold its connection while waiting for a notification).
    stop: Mutex<Option<tokio::sync::oneshot::Sender<()>>>,
}

#[derive(Debug, Default)]
struct Entry {
    epoch: u64,
    snapshot: Option<Arc<crate::availability::Snapshot>>,
    /// What the clinic offers (`Store::catalogue_of`), kept under the same marks: the
    /// triggers cover every table it reads.
    catalogue: Option<Arc<crate::Catalogue>>,
    /// Requests that miss together wait for one load.
    loading: Arc<tokio::sync::Mutex<()>>,
}

impl Calendars {
    pub(crate) fn active(&self) -> bool {
        self.active.load(Ordering::Acquire)
    }

    pub(crate) fn seen(&self) -> i64 {
        self.seen.load(Ordering::Acquire)
    }

    /// Forgets the calendars of `clinics`; `mark` is the highest SQLite mark among them.
    pub(crate) fn forget(&self, clinics: impl IntoIterator<Item = i64>, mark: Option<i64>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let mut forgotten = Vec::new();
        for clinic in clinics {
            let entry = entries.entry(clinic).or_default();
            entry.epoch += 1;
            entry.snapshot = None;
            entry.catalogue = None;
            forgotten.push(clinic);
        }
        // Under the entries' lock, so that `note_slug` cannot keep a slug of a forgotten epoch.
        self.slugs.lock().unwrap_or_else(|e| e.into_inner()).retain(|_, id| !forgotten.contains(id));
        if let Some(mark) = mark {
            self.seen.fetch_max(mark, Ordering::AcqRel);
        }
    }

    /// Applies this process's own booking of `provider` over `interval` in `clinic` to the
    /// kept calendar instead of forgetting it, when the booking's transaction was the only
    /// change since the marks this process has acted on (`Tx::commit`); `mark` as for
    /// `forget`. The epoch moves on all the same: pages made before show the time as free.
    pub(crate) fn book(&self, clinic: i64, provider: i64, interval: domain::Interval, mark: Option<i64>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.entry(clinic).or_default();
        entry.epoch += 1;
        entry.snapshot = entry.snapshot.take().map(|kept| Arc::new(kept.with_booking(provider, interval)));
        if let Some(mark) = mark {
            self.seen.fetch_max(mark, Ordering::AcqRel);
        }
    }

    fn forget_all(&self) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        for entry in entries.values_mut() {
            entry.epoch += 1;
            entry.snapshot = None;
            entry.catalogue = None;
        }
        self.slugs.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The clinic `slug` named when last seen, if nothing has changed that clinic since.
    pub(crate) fn clinic_at(&self, slug: &str) -> Option<i64> {
        self.slugs.lock().unwrap_or_else(|e| e.into_inner()).get(slug).copied()
    }

    /// Remembers that `slug` names `clinic`, as the kept `catalogue` (just read with it) says,
    /// unless that catalogue has been forgotten meanwhile.
    pub(crate) fn note_slug(&self, slug: &str, clinic: i64, catalogue: &Arc<crate::Catalogue>) {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let current = entries.get(&clinic).and_then(|e| e.catalogue.as_ref()).is_some_and(|kept| Arc::ptr_eq(kept, catalogue));
        if current && self.active() {
            self.slugs.lock().unwrap_or_else(|e| e.into_inner()).insert(slug.to_owned(), clinic);
        }
    }

    /// The cached calendar of `clinic` if it serves a request at `now`, else the epoch and
    /// loading lock to load it under.
    fn lookup(&self, clinic: i64, now: DateTime<Utc>) -> Result<Arc<crate::availability::Snapshot>, Arc<tokio::sync::Mutex<()>>> {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.entry(clinic).or_default();
        match &entry.snapshot {
            Some(s) if s.serves(now) => Ok(s.clone()),
            _ => Err(entry.loading.clone()),
        }
    }

    /// The kept calendar of `clinic` if there is one that serves a request at `now`; nothing
    /// is loaded.
    pub(crate) fn kept(&self, clinic: i64, now: DateTime<Utc>) -> Option<Arc<crate::availability::Snapshot>> {
        self.lookup(clinic, now).ok()
    }

    fn epoch(&self, clinic: i64) -> u64 {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).entry(clinic).or_default().epoch
    }

    fn keep(&self, clinic: i64, epoch: u64, snapshot: &Arc<crate::availability::Snapshot>) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.entry(clinic).or_default();
        if entry.epoch == epoch {
            entry.snapshot = Some(snapshot.clone());
        }
    }
}

impl Store {
    /// What `clinic` offers (its record, locations, services, products, and who offers what
    /// where): from memory, or read and kept.
    pub async fn cached_catalogue(&self, clinic: i64) -> Result<Arc<crate::Catalogue>, StoreError> {
        self.start_watching().await?;
        let calendars = &self.calendars;
        let (epoch, kept) = {
            let mut entries = calendars.entries.lock().unwrap_or_else(|e| e.into_inner());
            let entry = entries.entry(clinic).or_default();
            (entry.epoch, entry.catalogue.clone())
        };
        if let Some(kept) = kept {
            return Ok(kept);
        }
        let record = self.clinic_by_id(clinic).await?;
        let catalogue = Arc::new(self.catalogue_of(record).await?);
        let mut entries = calendars.entries.lock().unwrap_or_else(|e| e.into_inner());
        let entry = entries.entry(clinic).or_default();
        if entry.epoch == epoch {
            entry.catalogue = Some(catalogue.clone());
        }
        Ok(catalogue)
    }

    /// The clinic `slug` names and the epoch of what is kept of it, while the slug is known
    /// and changes are watched: anything a page of the clinic shows (its catalogue, settings,
    /// calendars, holds) changes only with a new epoch. A page made after reading the epoch
    /// shows what the clinic offered at that epoch or later, so it may be served again while
    /// the epoch stays the same (`server::pages`).
    pub fn clinic_epoch(&self, slug: &str) -> Option<(i64, u64)> {
        let calendars = &self.calendars;
        if !calendars.active() {
            return None;
        }
        let clinic = calendars.clinic_at(slug)?;
        Some((clinic, calendars.epoch(clinic)))
    }

    /// The calendar of `clinic` for a request at `now`: from memory, or loaded and kept.
    pub(crate) async fn cached_calendar(&self, clinic: i64, now: DateTime<Utc>) -> Result<Arc<crate::availability::Snapshot>, StoreError> {
        self.start_watching().await?;
        let calendars = &self.calendars;
        let loading = match calendars.lookup(clinic, now) {
            Ok(snapshot) => return Ok(snapshot),
            Err(loading) => loading,
        };
        let _one_load = loading.lock().await;
        if let Ok(snapshot) = calendars.lookup(clinic, now) {
            return Ok(snapshot);
        }
        let epoch = calendars.epoch(clinic);
        let snapshot = Arc::new(self.load_calendar(clinic, now).await?);
        calendars.keep(clinic, epoch, &snapshot);
        Ok(snapshot)
    }

    /// Starts listening for changes (PostgreSQL) or watching the marks (SQLite) before the
    /// first calendar is loaded, so that no change after a load can go unnoticed.
    async fn start_watching(&self) -> Result<(), StoreError> {
        let calendars = &self.calendars;
        if calendars.active() {
            return Ok(());
        }
        let _once = calendars.starting.lock().await;
        if calendars.active() {
            return Ok(());
        }
        let weak = Arc::downgrade(calendars);
        match &self.db {
            Db::Sqlite(pool) => {
                let mark: i64 = sqlx::query_scalar("SELECT coalesce(max(seq), 0) FROM availability_changes").fetch_one(pool).await?;
                calendars.seen.store(mark, Ordering::Release);
                tokio::spawn(watch_sqlite(pool.clone(), weak));
            }
            Db::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(CHANNEL).await?;
                let (stop, stopped) = tokio::sync::oneshot::channel();
                *calendars.stop.lock().unwrap_or_else(|e| e.into_inner()) = Some(stop);
                tokio::spawn(listen_postgres(listener, weak, stopped));
            }
        }
        calendars.active.store(true, Ordering::Release);
        Ok(())
    }
}

/// The marks stamped after `seen`: the clinics whose calendars changed, and the highest mark.
pub(crate) async fn marks_after<'e, E>(executor: E, seen: i64) -> Result<(Vec<i64>, Option<i64>), sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Sqlite>,
{
    let rows: Vec<(i64, i64)> =
        sqlx::query_as("SELECT clinic_id, seq FROM availability_changes WHERE seq > $1").bind(seen).fetch_all(executor).await?;
    let mark = rows.iter().map(|r| r.1).max();
    Ok((rows.into_iter().map(|r| r.0).collect(), mark))
}

async fn watch_sqlite(pool: sqlx::SqlitePool, calendars: Weak<Calendars>) {
    let mut tick = tokio::time::interval(SQLITE_WATCH);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(calendars) = calendars.upgrade() else { return };
        if pool.is_closed() {
            return;
        }
        match marks_after(&pool, calendars.seen()).await {
            Ok((clinics, mark)) => calendars.forget(clinics, mark),
            Err(e) => {
                // Unknown whether something changed: nothing cached can be trusted.
                calendars.forget_all();
                if pool.is_closed() {
                    return;
                }
                tracing::warn!("availability watcher could not read the change marks: {e}");
            }
        }
    }
}

async fn listen_postgres(mut listener: sqlx::postgres::PgListener, calendars: Weak<Calendars>, mut stopped: tokio::sync::oneshot::Receiver<()>) {
    loop {
        // `try_recv` reconnects by itself after a lost connection and then says `None`:
        // whatever was notified meanwhile is lost, so every calendar is forgotten.
        let received = tokio::select! {
            received = listener.try_recv() => received,
            _ = &mut stopped => return,
        };
        let Some(calendars) = calendars.upgrade() else { return };
        match received {
            Ok(Some(note)) => match note.payload().parse::<i64>() {
                Ok(clinic) => calendars.forget([clinic], None),
                Err(_) => calendars.forget_all(),
            },
            Ok(None) => calendars.forget_all(),
            Err(e) => {
                calendars.forget_all();
                if matches!(e, sqlx::Error::PoolClosed) {
                    return;
                }
                tracing::warn!("availability listener lost its connection: {e}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}
