//! Writing appointments. Each change is one transaction that also records the change's
//! history row and its outbox event, so an event exists exactly when the change committed.
//!
//! Concurrency: on SQLite the transaction starts with `BEGIN IMMEDIATE`, taking the single
//! write lock before reading, and a trigger refuses overlaps. On PostgreSQL the provider's row
//! is locked (`FOR UPDATE`) so bookings of one provider queue up while other providers proceed,
//! and an exclusion constraint refuses overlaps whatever the application does.

use crate::error::write_error;
use crate::time::db_time;
use crate::{with_pool, AvailabilityRequest, Store, StoreError};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::appointment::{AppointmentStatus, BookingSource};
use domain::clinic::ClinicSettings;
use domain::limits::{WidgetClient, HOLDS_PER_ADDRESS, HOLDS_PER_BROWSER, WIDGET_HOLDS_PER_CLINIC};
use domain::{DomainError, SlotId};
use rand::RngCore;
use sqlx::{Pool, Postgres, Sqlite, Transaction};

#[derive(Debug, Clone)]
pub struct NewAppointment {
    pub clinic_id: i64,
    pub location_id: i64,
    pub provider_id: i64,
    pub service_id: i64,
    pub product_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The location's zone: the token number counts per local day.
    pub tz: Tz,
    pub booker_id: Option<i64>,
    pub participant_id: Option<i64>,
    pub source: BookingSource,
    pub reason: String,
    /// `(key, SHA-256 of the request)`: the same key with the same request returns the first
    /// booking again; with another request it is refused.
    pub idempotency: Option<(String, String)>,
    /// A hold on this time that the booking turns into the appointment (deleted in the same
    /// transaction).
    pub consume_hold: Option<String>,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Booked {
    pub appointment_id: i64,
    pub token_number: i32,
    pub status: AppointmentStatus,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// True when an idempotency key matched an earlier booking and nothing new was written.
    pub replayed: bool,
}

/// Opens the write transaction the module comment describes, for changes that touch the
/// calendars of `provider_ids` (none for changes outside calendars). Every SQLite transaction
/// that reads before it writes must start here: a deferred transaction that already holds a
/// read snapshot gets `SQLITE_BUSY` at once, without waiting, when another connection writes.
pub(crate) trait WriteTx: sqlx::Database + Sized {
    /// Whether the database runs one writer at a time (SQLite): this process's writers then
    /// queue for it in order instead of each retrying the lock by sleeping (SQLite's busy
    /// handler sleeps milliseconds at a time, which capped bookings at about 550 a second).
    const ONE_WRITER: bool;
    /// Appended to a SELECT whose rows the transaction is about to change: PostgreSQL locks
    /// them; SQLite already holds the database's write lock.
    const ROW_LOCK: &'static str;
    async fn begin_write(pool: &Pool<Self>, provider_ids: &[i64]) -> Result<Transaction<'static, Self>, sqlx::Error>;
    /// The pool write transactions take their connection from: SQLite's writers have their own.
    fn write_pool<'p>(store: &'p Store, pool: &'p Pool<Self>) -> &'p Pool<Self>;
    /// The clinics whose availability this transaction changed (and, on SQLite, any other
    /// process changed since mark `seen`), with the highest SQLite mark: read just before
    /// the commit (see `calendars.rs`).
    async fn changed_clinics(conn: &mut Self::Connection, seen: i64) -> Result<(Vec<i64>, Option<i64>), sqlx::Error>;
}

/// A write transaction that, once committed, makes this process forget the cached calendars
/// of the clinics it changed before the write returns. Derefs to the connection, so queries
/// run on `&mut *tx` as on a plain transaction; dropped uncommitted, it rolls back.
pub(crate) struct Tx<'s, DB: WriteTx> {
    inner: Transaction<'static, DB>,
    calendars: &'s crate::calendars::Calendars,
    /// Woken after a commit that wrote to the outbox (`wrote_event`): the delivery worker.
    outbox: &'s tokio::sync::Notify,
    /// Woken likewise: the mail worker.
    mail: &'s tokio::sync::Notify,
    wrote_event: bool,
    /// `(clinic, provider, interval)` of the booking that is all this transaction changes of
    /// the calendars, when the kept calendar may be updated with it instead of forgotten
    /// (`books`).
    booking: Option<(i64, i64, domain::Interval)>,
    /// This process's turn to write (`WriteTx::ONE_WRITER`), released after the commit.
    _turn: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl<DB: WriteTx> std::ops::Deref for Tx<'_, DB> {
    type Target = DB::Connection;
    fn deref(&self) -> &DB::Connection {
        &self.inner
    }
}

impl<DB: WriteTx> std::ops::DerefMut for Tx<'_, DB> {
    fn deref_mut(&mut self) -> &mut DB::Connection {
        &mut self.inner
    }
}

impl<DB: WriteTx> Tx<'_, DB> {
    /// Notes that this transaction added an event to the outbox.
    pub(crate) fn wrote_event(&mut self) {
        self.wrote_event = true;
    }

    /// Notes that this transaction books `provider` over `interval` in `clinic` and changes
    /// nothing else the calendars depend on (one mark: the appointment's insert). The commit
    /// then updates the kept calendar instead of forgetting it, on SQLite, when the marks
    /// show that no other process changed anything since the marks this process acted on:
    /// a stream of bookings keeps the calendar in memory, and each booking's re-check reads
    /// it instead of the database.
    pub(crate) fn books(&mut self, clinic: i64, provider: i64, interval: domain::Interval) {
        self.booking = Some((clinic, provider, interval));
    }

    pub(crate) async fn commit(self) -> Result<(), sqlx::Error> {
        let Tx { mut inner, calendars, outbox, mail, wrote_event, booking, _turn } = self;
        if calendars.active() {
            let seen = calendars.seen();
            let (clinics, mark) = DB::changed_clinics(&mut inner, seen).await?;
            inner.commit().await?;
            // Each mark is the highest so far plus one, and this process holds the write lock:
            // the booking's one mark directly after `seen`, and no other, means nobody else
            // changed anything since (another process's change would have taken `seen + 1`).
            match booking {
                Some((clinic, provider, interval)) if clinics == [clinic] && mark == Some(seen + 1) => {
                    calendars.book(clinic, provider, interval, mark)
                }
                _ => calendars.forget(clinics, mark),
            }
        } else {
            inner.commit().await?;
        }
        if wrote_event {
            outbox.notify_one();
            mail.notify_one();
        }
        Ok(())
    }
}

impl Store {
    /// `WriteTx::begin_write`, for a transaction whose commit keeps the cached calendars true.
    pub(crate) async fn write_tx<DB: WriteTx>(&self, pool: &Pool<DB>, provider_ids: &[i64]) -> Result<Tx<'_, DB>, sqlx::Error> {
        // The turn before a connection: waiting writers hold no connection of the pool.
        let turn = if DB::ONE_WRITER {
            // Ordinary writers pass the queue one at a time, so that at most one of them waits
            // for the writer's turn beside the delivery worker (`delivery_tx`).
            let _queued = self.queue.lock().await;
            Some(self.writer.clone().lock_owned().await)
        } else {
            None
        };
        self.begin_in_turn(pool, provider_ids, turn).await
    }

    /// `write_tx` for the delivery worker's short batched writes (taking events, claiming and
    /// recording attempts), which wait for the writer's turn behind at most one ordinary
    /// writer instead of behind every booking in the queue: under a stream of bookings, each
    /// of a delivery's three writes waited for the whole queue (half a second at 16 clients).
    pub(crate) async fn delivery_tx<DB: WriteTx>(&self, pool: &Pool<DB>) -> Result<Tx<'_, DB>, sqlx::Error> {
        let turn = if DB::ONE_WRITER { Some(self.writer.clone().lock_owned().await) } else { None };
        self.begin_in_turn(pool, &[], turn).await
    }

    async fn begin_in_turn<DB: WriteTx>(
        &self,
        pool: &Pool<DB>,
        provider_ids: &[i64],
        turn: Option<tokio::sync::OwnedMutexGuard<()>>,
    ) -> Result<Tx<'_, DB>, sqlx::Error> {
        Ok(Tx { inner: DB::begin_write(DB::write_pool(self, pool), provider_ids).await?, calendars: &self.calendars, outbox: &self.outbox, mail: &self.mail, wrote_event: false, booking: None, _turn: turn })
    }
}

/// The thread SQLite bookings run on, from the queue for the writer's turn to the commit. A
/// booking's transaction is a chain of round trips to the connection's own thread, and the
/// writer's turn is held for all of them: on the request threads, each step waited behind
/// whatever other requests were running there, and every booking in the queue waited with it
/// (the turn was held 0.7 ms per booking at 64 clients; 0.5 ms here). Never shut down: one
/// thread for the process, idle when nothing is booked.
fn writer_thread() -> &'static tokio::runtime::Handle {
    static HANDLE: std::sync::OnceLock<tokio::runtime::Handle> = std::sync::OnceLock::new();
    HANDLE.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime for the writer thread");
        let handle = runtime.handle().clone();
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || runtime.block_on(std::future::pending::<()>()))
            .expect("the writer thread starts");
        handle
    })
}

/// `WriteTx::ROW_LOCK` for the backend of `pool`.
pub(crate) fn row_lock<DB: WriteTx>(_pool: &Pool<DB>) -> &'static str {
    DB::ROW_LOCK
}

impl WriteTx for Sqlite {
    const ONE_WRITER: bool = true;
    const ROW_LOCK: &'static str = "";
    async fn begin_write(pool: &Pool<Self>, _provider_ids: &[i64]) -> Result<Transaction<'static, Self>, sqlx::Error> {
        pool.begin_with("BEGIN IMMEDIATE").await
    }
    fn write_pool<'p>(store: &'p Store, pool: &'p Pool<Self>) -> &'p Pool<Self> {
        store.sqlite_writer.as_ref().unwrap_or(pool)
    }
    async fn changed_clinics(conn: &mut Self::Connection, seen: i64) -> Result<(Vec<i64>, Option<i64>), sqlx::Error> {
        crate::calendars::marks_after(conn, seen).await
    }
}

impl WriteTx for Postgres {
    const ONE_WRITER: bool = false;
    const ROW_LOCK: &'static str = " FOR UPDATE";
    async fn begin_write(pool: &Pool<Self>, provider_ids: &[i64]) -> Result<Transaction<'static, Self>, sqlx::Error> {
        let mut tx = pool.begin().await?;
        if provider_ids.is_empty() {
            return Ok(tx);
        }
        // Locking in id order: two reschedules between the same providers cannot deadlock.
        sqlx::query("SELECT id FROM providers WHERE id = ANY($1) ORDER BY id FOR UPDATE")
            .bind(provider_ids)
            .execute(&mut *tx)
            .await?;
        Ok(tx)
    }
    fn write_pool<'p>(_store: &'p Store, pool: &'p Pool<Self>) -> &'p Pool<Self> {
        pool
    }
    async fn changed_clinics(conn: &mut Self::Connection, _seen: i64) -> Result<(Vec<i64>, Option<i64>), sqlx::Error> {
        let noted: Option<String> =
            sqlx::query_scalar("SELECT current_setting('booking.availability_changed', true)").fetch_one(conn).await?;
        let clinics = noted.iter().flat_map(|n| n.split(',')).filter_map(|id| id.parse().ok()).collect();
        Ok((clinics, None))
    }
}

/// Draws the next token number of a provider's local day. The upsert locks the counter row,
/// so concurrent bookings get distinct numbers; a rolled-back booking returns its number.
const NEXT_TOKEN: &str = "INSERT INTO token_counters (provider_id, local_date, last_token) VALUES ($1, $2, 1)
     ON CONFLICT (provider_id, local_date) DO UPDATE SET last_token = token_counters.last_token + 1
     RETURNING last_token";

/// Records an event for webhook delivery, in the transaction of the change it describes.
pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO outbox (event_id, clinic_id, event_type, payload, created_at) VALUES ($1, $2, $3, $4, $5)";

/// The clinic settings columns every write that applies a policy reads (prefix `c.`).
const SETTINGS_COLUMNS: &str =
    "c.minimum_notice_minutes, c.horizon_days, c.cancellation_cutoff_minutes, c.hold_minutes";

pub(crate) fn settings_from_row<R: sqlx::Row>(row: &R) -> Result<ClinicSettings, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i32: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let get = |column: &str| -> Result<u32, StoreError> {
        let v: i32 = row.try_get(column)?;
        u32::try_from(v).map_err(|_| StoreError::Corrupt(format!("{column} = {v}")))
    };
    ClinicSettings::new(
        get("minimum_notice_minutes")?,
        get("horizon_days")?,
        get("cancellation_cutoff_minutes")?,
        get("hold_minutes")?,
    )
    .map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// An appointment ends after it starts and lasts at most a day; availability's window reads
/// rely on the upper bound.
fn check_length(start: DateTime<Utc>, end: DateTime<Utc>) -> Result<(), StoreError> {
    if end <= start {
        return Err(StoreError::Rule(DomainError::invalid("end", "the appointment ends before it starts")));
    }
    if end - start > chrono::Duration::days(1) {
        return Err(StoreError::Rule(DomainError::invalid("end", "an appointment lasts at most 24 hours")));
    }
    Ok(())
}

fn is_unique_violation(e: &StoreError) -> bool {
    matches!(e, StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation())
}

pub(crate) fn new_event_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("evt_{}", hex::encode(bytes))
}

impl Store {
    /// Books `new`, or returns `SlotTaken` when the time overlaps an active appointment of
    /// the provider. Nothing is written on any error.
    pub async fn create_appointment(&self, new: &NewAppointment) -> Result<Booked, StoreError> {
        let (store, new) = (self.clone(), new.clone());
        self.on_writer_thread(async move { store.create_appointment_here(&new).await }).await
    }

    /// Runs `work` (a write transaction and what surrounds it) on the writer's thread when the
    /// database is SQLite (`writer_thread`), else here.
    pub(crate) async fn on_writer_thread<T, F>(&self, work: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: std::future::Future<Output = Result<T, StoreError>> + Send + 'static,
    {
        if let crate::Db::Sqlite(_) = &self.db {
            return match writer_thread().spawn(work).await {
                Ok(done) => done,
                Err(e) => match e.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(_) => Err(StoreError::Database(sqlx::Error::WorkerCrashed)),
                },
            };
        }
        work.await
    }

    async fn create_appointment_here(&self, new: &NewAppointment) -> Result<Booked, StoreError> {
        check_length(new.start, new.end)?;
        match self.try_create(new).await {
            // Two requests with one idempotency key can race: the loser sees the winner's
            // overlap or key row. If the key now names a booking, answer with it.
            Err(e) if new.idempotency.is_some() && (matches!(e, StoreError::SlotTaken) || is_unique_violation(&e)) => {
                match self.replay(new).await? {
                    Some(booked) => Ok(booked),
                    None => self.try_create(new).await,
                }
            }
            other => other,
        }
    }

    async fn replay(&self, new: &NewAppointment) -> Result<Option<Booked>, StoreError> {
        let Some((key, digest)) = &new.idempotency else { return Ok(None) };
        let found: Option<(String, i64)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT request_sha256, appointment_id FROM idempotency_keys WHERE clinic_id = $1 AND key = $2")
                .bind(new.clinic_id).bind(key)
                .fetch_optional(pool).await?
        });
        match found {
            None => Ok(None),
            Some((stored, _)) if stored != *digest => Err(StoreError::IdempotencyMismatch),
            Some((_, id)) => {
                let mut booked = self.booked_by_id(id).await?;
                booked.replayed = true;
                Ok(Some(booked))
            }
        }
    }

    /// The provider and zone of a clinic's appointment, read before the write transaction
    /// to know which provider to lock. Another clinic's appointment is `NotFound`.
    async fn appointment_provider(&self, clinic_id: i64, appointment_id: i64) -> Result<(i64, Tz), StoreError> {
        let found: Option<(i64, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT provider_id, time_zone FROM appointments WHERE id = $1 AND clinic_id = $2")
                .bind(appointment_id).bind(clinic_id).fetch_optional(pool).await?
        });
        let (provider_id, zone) = found.ok_or(StoreError::NotFound("appointment"))?;
        Ok((provider_id, domain::zone::parse_zone(&zone)?))
    }

    async fn booked_by_id(&self, id: i64) -> Result<Booked, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query("SELECT id, token_number, status, starts_at, ends_at FROM appointments WHERE id = $1")
                .bind(id).fetch_optional(pool).await?.ok_or(StoreError::NotFound("appointment"))?;
            use sqlx::Row;
            let status: String = row.try_get("status")?;
            Ok(Booked {
                appointment_id: row.try_get("id")?,
                token_number: row.try_get::<Option<i32>, _>("token_number")?.unwrap_or(0),
                status: AppointmentStatus::parse(&status)?,
                start: crate::time::row_time(pool, &row, "starts_at")?,
                end: crate::time::row_time(pool, &row, "ends_at")?,
                replayed: false,
            })
        })
    }

    async fn try_create(&self, new: &NewAppointment) -> Result<Booked, StoreError> {
        if let Some(replayed) = self.replay(new).await? {
            return Ok(replayed);
        }
        let local_date = new.start.with_timezone(&new.tz).date_naive();
        let status = AppointmentStatus::Booked;
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[new.provider_id]).await?;
            if let (None, Some(interval)) = (&new.consume_hold, domain::Interval::new(new.start, new.end)) {
                tx.books(new.clinic_id, new.provider_id, interval);
            }
            let now = db_time(pool, new.now);
            let (token,): (i32,) = sqlx::query_as(
                NEXT_TOKEN,
            )
            .bind(new.provider_id).bind(local_date)
            .fetch_one(&mut *tx).await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO appointments (clinic_id, location_id, provider_id, service_id, product_id, booker_id,
                     participant_id, starts_at, ends_at, time_zone, local_date, token_number, status, source, reason,
                     created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16)
                 RETURNING id",
            )
            .bind(new.clinic_id).bind(new.location_id).bind(new.provider_id).bind(new.service_id)
            .bind(new.product_id).bind(new.booker_id).bind(new.participant_id)
            .bind(db_time(pool, new.start)).bind(db_time(pool, new.end)).bind(new.tz.name())
            .bind(local_date).bind(token).bind(status.as_str()).bind(new.source.as_str()).bind(&new.reason)
            .bind(now)
            .fetch_one(&mut *tx).await.map_err(write_error)?;
            sqlx::query(
                "INSERT INTO appointment_changes (appointment_id, kind, to_status, source, changed_at)
                 VALUES ($1, 'created', $2, $3, $4)",
            )
            .bind(id).bind(status.as_str()).bind(new.source.as_str()).bind(now)
            .execute(&mut *tx).await?;
            let payload = serde_json::json!({
                "appointmentId": id.to_string(),
                "clinicId": new.clinic_id.to_string(),
                "locationId": new.location_id.to_string(),
                "providerId": new.provider_id.to_string(),
                "serviceId": new.service_id.to_string(),
                "productId": new.product_id.map(|p| p.to_string()),
                "start": new.start.with_timezone(&new.tz).to_rfc3339(),
                "end": new.end.with_timezone(&new.tz).to_rfc3339(),
                "timeZone": new.tz.name(),
                "status": status.as_str(),
                "tokenNumber": token,
                "source": new.source.as_str(),
            });
            sqlx::query(INSERT_EVENT)
                .bind(new_event_id()).bind(new.clinic_id).bind("appointmentCreated").bind(payload.to_string()).bind(now)
                .execute(&mut *tx).await?;
            tx.wrote_event();
            if let Some(token) = &new.consume_hold {
                sqlx::query("DELETE FROM holds WHERE token = $1 AND clinic_id = $2").bind(token).bind(new.clinic_id)
                    .execute(&mut *tx).await?;
            }
            if let Some((key, digest)) = &new.idempotency {
                sqlx::query("INSERT INTO idempotency_keys (clinic_id, key, request_sha256, appointment_id, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(new.clinic_id).bind(key).bind(digest).bind(id).bind(now)
                    .execute(&mut *tx).await?;
            }
            tx.commit().await?;
            self.counters.booked(new.source);
            Ok(Booked { appointment_id: id, token_number: token, status, start: new.start, end: new.end, replayed: false })
        })
    }

    /// Cancels an appointment of `clinic_id`. Another clinic's appointment is `NotFound`.
    /// The clinic's cancellation cutoff applies unless `source` is staff.
    pub async fn cancel_appointment(
        &self,
        clinic_id: i64,
        appointment_id: i64,
        reason: &str,
        source: BookingSource,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let (provider_id, _) = self.appointment_provider(clinic_id, appointment_id).await?;
        with_pool!(self, pool => {
            use sqlx::Row;
            let mut tx = self.write_tx(pool, &[provider_id]).await?;
            let row = sqlx::query(&format!(
                "SELECT a.status, a.starts_at, {SETTINGS_COLUMNS}
                   FROM appointments a JOIN clinics c ON c.id = a.clinic_id
                  WHERE a.id = $1 AND a.clinic_id = $2"
            ))
            .bind(appointment_id).bind(clinic_id)
            .fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("appointment"))?;
            let status = AppointmentStatus::parse(&row.try_get::<String, _>("status")?)?;
            let starts_at = crate::time::row_time(pool, &row, "starts_at")?;
            let settings = settings_from_row(&row)?;
            let next = status.transition(AppointmentStatus::Cancelled).map_err(StoreError::Rule)?;
            settings
                .check_change_cutoff(source == BookingSource::Staff, now, starts_at, "cancelled")
                .map_err(StoreError::Rule)?;
            let stamp = db_time(pool, now);
            sqlx::query("UPDATE appointments SET status = $1, cancellation_reason = $2, updated_at = $3 WHERE id = $4")
                .bind(next.as_str()).bind(reason).bind(stamp).bind(appointment_id)
                .execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO appointment_changes (appointment_id, kind, from_status, to_status, source, note, changed_at)
                 VALUES ($1, 'cancelled', $2, $3, $4, $5, $6)",
            )
            .bind(appointment_id).bind(status.as_str()).bind(next.as_str()).bind(source.as_str()).bind(reason).bind(stamp)
            .execute(&mut *tx).await?;
            let payload = serde_json::json!({
                "appointmentId": appointment_id.to_string(),
                "clinicId": clinic_id.to_string(),
                "status": next.as_str(),
                "cancellationReason": reason,
                "source": source.as_str(),
            });
            sqlx::query(INSERT_EVENT)
                .bind(new_event_id()).bind(clinic_id).bind("appointmentCanceled").bind(payload.to_string()).bind(stamp)
                .execute(&mut *tx).await?;
            tx.wrote_event();
            tx.commit().await?;
            Ok(())
        })
    }
}

/// A booking of a slot a client was shown, by its id.
#[derive(Debug, Clone)]
pub struct SlotBooking {
    pub clinic_id: i64,
    pub slot: SlotId,
    pub new_patient: bool,
    pub booker_id: Option<i64>,
    pub participant_id: Option<i64>,
    pub source: BookingSource,
    pub reason: String,
    pub idempotency: Option<(String, String)>,
    /// The token of a hold placed on this slot; an unknown or expired token is ignored and the
    /// slot is re-checked like any other.
    pub hold_token: Option<String>,
    pub now: DateTime<Utc>,
}

impl Store {
    /// Books a slot by id after checking, against current availability, that its time is
    /// still offered to this patient. A retry with the same idempotency key returns the
    /// first booking even though the slot is no longer free.
    pub async fn book_slot(&self, b: &SlotBooking) -> Result<Booked, StoreError> {
        let availability = self.availability_around(b.clinic_id, &b.slot, b.new_patient, b.now).await?;
        // A held slot is booked exactly as held; any other at the length this patient needs
        // (a time offered to any patient is shown at the usual length).
        let held = match &b.hold_token {
            Some(token) => self.live_hold_matches(b.clinic_id, token, &b.slot, b.now).await?,
            None => false,
        };
        let slot = if held { b.slot } else { availability.at_start_of(&b.slot).unwrap_or(b.slot) };
        let new = NewAppointment {
            clinic_id: b.clinic_id,
            location_id: slot.location_id,
            provider_id: slot.provider_id,
            service_id: availability.service_id,
            product_id: Some(slot.product_id),
            start: slot.start,
            end: slot.end(),
            tz: availability.tz,
            booker_id: b.booker_id,
            participant_id: b.participant_id,
            source: b.source,
            reason: b.reason.clone(),
            idempotency: b.idempotency.clone(),
            consume_hold: None,
            now: b.now,
        };
        if let Some(replayed) = self.replay(&new).await? {
            return Ok(replayed);
        }
        // The caller's own hold is what makes the slot look busy: a live hold on exactly this
        // slot was checked when it was placed, so the booking proceeds and consumes it.
        if let (Some(token), true) = (&b.hold_token, held) {
            return self.create_appointment(&NewAppointment { consume_hold: Some(token.clone()), ..new }).await;
        }
        if !availability.offers(&slot) {
            return Err(StoreError::SlotUnavailable);
        }
        self.create_appointment(&new).await
    }

    /// Current availability of the slot's provider, location and product on the days around
    /// the slot: what every write by slot id re-checks the slot against
    /// (`Store::availability_to_check`).
    pub(crate) async fn availability_around(
        &self,
        clinic_id: i64,
        slot: &SlotId,
        new_patient: bool,
        now: DateTime<Utc>,
    ) -> Result<crate::Availability, StoreError> {
        // UTC dates one day either side cover the slot's local date in every zone.
        self.availability_to_check(&AvailabilityRequest {
            clinic_id,
            location_id: slot.location_id,
            product_id: slot.product_id,
            provider_id: Some(slot.provider_id),
            from: (slot.start - chrono::Duration::days(1)).date_naive(),
            to: (slot.start + chrono::Duration::days(1)).date_naive(),
            new_patient,
            now,
        })
        .await
    }
}

/// A slot held for a patient who is filling in the booking form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hold {
    pub token: String,
    pub slot: SlotId,
    pub expires_at: DateTime<Utc>,
}

impl Store {
    /// Holds an offered slot for the clinic's hold length. While the hold lives, the slot is
    /// busy for everyone else; it expires by itself (availability ignores expired holds, and
    /// expired rows of the provider are deleted when the next hold is placed).
    ///
    /// A hold for a widget client first releases that client's oldest live holds beyond its
    /// share (`domain::limits`), and waits (`Busy`) while the clinic has its ceiling of live
    /// widget holds: one script cannot hold a clinic's calendar.
    pub async fn place_hold(
        &self,
        clinic_id: i64,
        slot: SlotId,
        new_patient: bool,
        client: Option<&WidgetClient>,
        now: DateTime<Utc>,
    ) -> Result<Hold, StoreError> {
        if !self.availability_around(clinic_id, &slot, new_patient, now).await?.offers(&slot) {
            return Err(StoreError::SlotUnavailable);
        }
        let mut bytes = [0u8; 16];
        rand::rng().fill_bytes(&mut bytes);
        let token = format!("hold_{}", hex::encode(bytes));
        with_pool!(self, pool => {
            // The provider lock (or SQLite's single writer) makes check-then-insert atomic:
            // two patients cannot hold the same time.
            let mut tx = self.write_tx(pool, &[slot.provider_id]).await?;
            let stamp = db_time(pool, now);
            sqlx::query("DELETE FROM holds WHERE provider_id = $1 AND expires_at <= $2")
                .bind(slot.provider_id).bind(stamp).execute(&mut *tx).await?;
            if let Some(client) = client {
                // Released before the clash check, so that holding a time that overlaps one's
                // own previous hold works; a refusal below rolls the release back. Holds of
                // other providers are deleted without their lock: that only frees time.
                let keep_newest = "DELETE FROM holds WHERE id IN (
                        SELECT id FROM holds WHERE clinic_id = $1 AND {column} = $2 AND expires_at > $3
                         ORDER BY created_at DESC, id DESC LIMIT 1000 OFFSET $4)";
                if let Some(browser) = &client.browser {
                    sqlx::query(&keep_newest.replace("{column}", "client_browser"))
                        .bind(clinic_id).bind(browser).bind(stamp).bind(HOLDS_PER_BROWSER - 1)
                        .execute(&mut *tx).await?;
                }
                sqlx::query(&keep_newest.replace("{column}", "client_address"))
                    .bind(clinic_id).bind(&client.address).bind(stamp).bind(HOLDS_PER_ADDRESS - 1)
                    .execute(&mut *tx).await?;
                // Counted without a clinic-wide lock: on PostgreSQL two providers' holds may
                // pass together, so the ceiling can be exceeded by a few. It is a ceiling
                // against floods, not an exact quota.
                let (live,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM holds WHERE clinic_id = $1 AND client_address IS NOT NULL AND expires_at > $2",
                )
                .bind(clinic_id).bind(stamp).fetch_one(&mut *tx).await?;
                if live >= WIDGET_HOLDS_PER_CLINIC {
                    return Err(StoreError::Busy);
                }
            }
            let (start, end) = (db_time(pool, slot.start), db_time(pool, slot.end()));
            let (clashes,): (i64,) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM appointments WHERE provider_id = $1 AND starts_at < $3 AND ends_at > $2
                           AND status IN ('pending', 'booked', 'checked_in', 'completed'))
                      + (SELECT COUNT(*) FROM holds WHERE provider_id = $1 AND starts_at < $3 AND ends_at > $2)",
            )
            .bind(slot.provider_id).bind(&start).bind(&end)
            .fetch_one(&mut *tx).await?;
            if clashes > 0 {
                return Err(StoreError::SlotTaken);
            }
            let (minutes,): (i32,) = sqlx::query_as("SELECT hold_minutes FROM clinics WHERE id = $1")
                .bind(clinic_id).fetch_one(&mut *tx).await?;
            let expires_at = now + chrono::Duration::minutes(i64::from(minutes));
            sqlx::query(
                "INSERT INTO holds (clinic_id, provider_id, product_id, token, starts_at, ends_at, expires_at, created_at,
                     location_id, client_address, client_browser)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(clinic_id).bind(slot.provider_id).bind(slot.product_id).bind(&token)
            .bind(&start).bind(&end).bind(db_time(pool, expires_at)).bind(stamp).bind(slot.location_id)
            .bind(client.map(|c| c.address.clone())).bind(client.and_then(|c| c.browser.clone()))
            .execute(&mut *tx).await?;
            tx.commit().await?;
            self.counters.held();
            Ok(Hold { token, slot, expires_at })
        })
    }

    /// Gives a held slot back before it expires. Releasing an unknown or another clinic's
    /// hold is `NotFound`.
    pub async fn release_hold(&self, clinic_id: i64, token: &str) -> Result<(), StoreError> {
        let deleted = with_pool!(self, pool => {
            sqlx::query("DELETE FROM holds WHERE token = $1 AND clinic_id = $2")
                .bind(token).bind(clinic_id).execute(pool).await?.rows_affected()
        });
        if deleted == 0 {
            return Err(StoreError::NotFound("hold"));
        }
        Ok(())
    }

    async fn live_hold_matches(&self, clinic_id: i64, token: &str, slot: &SlotId, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let found: Option<(i64, i64)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT provider_id, product_id FROM holds
                  WHERE token = $1 AND clinic_id = $2 AND expires_at > $3 AND starts_at = $4 AND ends_at = $5",
            )
            .bind(token).bind(clinic_id).bind(db_time(pool, now)).bind(db_time(pool, slot.start)).bind(db_time(pool, slot.end()))
            .fetch_optional(pool).await?
        });
        Ok(found == Some((slot.provider_id, slot.product_id)))
    }
}

/// Where a reschedule moves an appointment.
#[derive(Debug, Clone)]
pub struct Reschedule {
    pub clinic_id: i64,
    pub appointment_id: i64,
    /// `None` keeps the provider.
    pub provider_id: Option<i64>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub source: BookingSource,
    pub now: DateTime<Utc>,
}

impl Store {
    /// Moves a pending or booked appointment. The clinic's cutoff applies to the current time
    /// of the appointment unless `source` is staff. A new token number is drawn for the new
    /// provider and day; the old one is never reused.
    pub async fn reschedule_appointment(&self, r: &Reschedule) -> Result<Booked, StoreError> {
        check_length(r.start, r.end)?;
        let (old_provider, tz) = self.appointment_provider(r.clinic_id, r.appointment_id).await?;
        let new_provider = r.provider_id.unwrap_or(old_provider);
        let local_date = r.start.with_timezone(&tz).date_naive();
        with_pool!(self, pool => {
            use sqlx::Row;
            let mut tx = self.write_tx(pool, &[old_provider, new_provider]).await?;
            if new_provider != old_provider {
                let same_clinic: Option<(i64,)> = sqlx::query_as("SELECT id FROM providers WHERE id = $1 AND clinic_id = $2")
                    .bind(new_provider).bind(r.clinic_id).fetch_optional(&mut *tx).await?;
                same_clinic.ok_or(StoreError::NotFound("provider"))?;
            }
            let row = sqlx::query(&format!(
                "SELECT a.status, a.provider_id, a.starts_at, a.ends_at, {SETTINGS_COLUMNS}
                   FROM appointments a JOIN clinics c ON c.id = a.clinic_id
                  WHERE a.id = $1 AND a.clinic_id = $2"
            ))
            .bind(r.appointment_id).bind(r.clinic_id)
            .fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("appointment"))?;
            let status = AppointmentStatus::parse(&row.try_get::<String, _>("status")?)?;
            if !matches!(status, AppointmentStatus::Pending | AppointmentStatus::Booked) {
                return Err(StoreError::Rule(DomainError::invalid("status", format!("an appointment that is {status} cannot be rescheduled"))));
            }
            let old_start = crate::time::row_time(pool, &row, "starts_at")?;
            let old_end = crate::time::row_time(pool, &row, "ends_at")?;
            settings_from_row(&row)?
                .check_change_cutoff(r.source == BookingSource::Staff, r.now, old_start, "rescheduled")
                .map_err(StoreError::Rule)?;
            let stamp = db_time(pool, r.now);
            let (token,): (i32,) = sqlx::query_as(
                NEXT_TOKEN,
            )
            .bind(new_provider).bind(local_date)
            .fetch_one(&mut *tx).await?;
            sqlx::query(
                "UPDATE appointments SET provider_id = $1, starts_at = $2, ends_at = $3, local_date = $4,
                        token_number = $5, updated_at = $6, attention = NULL, attention_since = NULL WHERE id = $7",
            )
            .bind(new_provider).bind(db_time(pool, r.start)).bind(db_time(pool, r.end)).bind(local_date)
            .bind(token).bind(stamp).bind(r.appointment_id)
            .execute(&mut *tx).await.map_err(write_error)?;
            sqlx::query(
                "INSERT INTO appointment_changes (appointment_id, kind, from_status, to_status, old_starts_at, old_ends_at,
                     old_provider_id, source, changed_at)
                 VALUES ($1, 'rescheduled', $2, $2, $3, $4, $5, $6, $7)",
            )
            .bind(r.appointment_id).bind(status.as_str()).bind(db_time(pool, old_start)).bind(db_time(pool, old_end))
            .bind(old_provider).bind(r.source.as_str()).bind(stamp)
            .execute(&mut *tx).await?;
            let payload = serde_json::json!({
                "appointmentId": r.appointment_id.to_string(),
                "clinicId": r.clinic_id.to_string(),
                "providerId": new_provider.to_string(),
                "previousProviderId": old_provider.to_string(),
                "start": r.start.with_timezone(&tz).to_rfc3339(),
                "end": r.end.with_timezone(&tz).to_rfc3339(),
                "previousStart": old_start.with_timezone(&tz).to_rfc3339(),
                "previousEnd": old_end.with_timezone(&tz).to_rfc3339(),
                "timeZone": tz.name(),
                "status": status.as_str(),
                "tokenNumber": token,
                "source": r.source.as_str(),
            });
            sqlx::query(INSERT_EVENT)
                .bind(new_event_id()).bind(r.clinic_id).bind("appointmentRescheduled").bind(payload.to_string()).bind(stamp)
                .execute(&mut *tx).await?;
            tx.wrote_event();
            tx.commit().await?;
            Ok(Booked { appointment_id: r.appointment_id, token_number: token, status, start: r.start, end: r.end, replayed: false })
        })
    }

    /// Moves an appointment along its lifecycle (confirm, check in, complete, no-show) and
    /// emits the matching event. Cancelling has its own method: it takes a reason and a cutoff.
    /// Checking in assigns the next queue number of the provider's day (the order of arrival);
    /// a no-show can be recorded only once the appointment has started.
    pub async fn change_status(
        &self,
        clinic_id: i64,
        appointment_id: i64,
        to: AppointmentStatus,
        source: BookingSource,
        now: DateTime<Utc>,
    ) -> Result<AppointmentStatus, StoreError> {
        let event = match to {
            AppointmentStatus::Booked => "appointmentConfirmed",
            AppointmentStatus::CheckedIn => "Queued",
            AppointmentStatus::Completed => "appointmentCompleted",
            AppointmentStatus::NoShow => "appointmentNoShow",
            AppointmentStatus::Cancelled | AppointmentStatus::Pending => {
                return Err(StoreError::Rule(DomainError::invalid("status", format!("use the {to} operation, not a status change"))))
            }
        };
        let (provider_id, _) = self.appointment_provider(clinic_id, appointment_id).await?;
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[provider_id]).await?;
            use sqlx::Row;
            let row = sqlx::query(
                "SELECT status, token_number, queue_number, local_date, starts_at FROM appointments WHERE id = $1 AND clinic_id = $2",
            )
            .bind(appointment_id).bind(clinic_id)
            .fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("appointment"))?;
            let from = AppointmentStatus::parse(&row.try_get::<String, _>("status")?)?;
            let token: Option<i32> = row.try_get("token_number")?;
            let mut queue: Option<i32> = row.try_get("queue_number")?;
            let local_date: Option<chrono::NaiveDate> = row.try_get("local_date")?;
            let starts_at = crate::time::row_time(pool, &row, "starts_at")?;
            let next = from.transition(to).map_err(StoreError::Rule)?;
            if next == AppointmentStatus::NoShow && now < starts_at {
                return Err(StoreError::Rule(DomainError::invalid("status", "a no-show can be recorded only after the appointment's start")));
            }
            if next == AppointmentStatus::CheckedIn {
                // The provider's calendar is locked by this transaction: no two check-ins
                // can draw the same number.
                let (last,): (Option<i32>,) = sqlx::query_as(
                    "SELECT CAST(MAX(queue_number) AS INTEGER) FROM appointments WHERE provider_id = $1 AND local_date = $2",
                )
                .bind(provider_id).bind(local_date)
                .fetch_one(&mut *tx).await?;
                queue = Some(last.unwrap_or(0) + 1);
            }
            let stamp = db_time(pool, now);
            sqlx::query("UPDATE appointments SET status = $1, queue_number = $2, updated_at = $3 WHERE id = $4")
                .bind(next.as_str()).bind(queue).bind(stamp).bind(appointment_id)
                .execute(&mut *tx).await?;
            sqlx::query(
                "INSERT INTO appointment_changes (appointment_id, kind, from_status, to_status, source, changed_at)
                 VALUES ($1, 'status', $2, $3, $4, $5)",
            )
            .bind(appointment_id).bind(from.as_str()).bind(next.as_str()).bind(source.as_str()).bind(stamp)
            .execute(&mut *tx).await?;
            let payload = serde_json::json!({
                "appointmentId": appointment_id.to_string(),
                "clinicId": clinic_id.to_string(),
                "status": next.as_str(),
                "previousStatus": from.as_str(),
                "tokenNumber": token,
                "queueNumber": queue,
                "source": source.as_str(),
            });
            sqlx::query(INSERT_EVENT)
                .bind(new_event_id()).bind(clinic_id).bind(event).bind(payload.to_string()).bind(stamp)
                .execute(&mut *tx).await?;
            tx.wrote_event();
            tx.commit().await?;
            Ok(next)
        })
    }
}
