//! The front desk: a clinic's day as the desk sees it, the links that open a location's
//! waiting-room display without a login, and the feed of changes that keeps open desks and
//! displays current.
//!
//! The feed follows the outbox, which holds one row per appointment change, written in the
//! change's own transaction. On SQLite one process writes at a time and a row's id is taken
//! under the write lock, so ids grow in commit order and "every row after the last one seen"
//! misses nothing, including rows another process (the CLI) wrote. On PostgreSQL ids are
//! drawn before commit and may commit out of order, so instances learn of changes from
//! `NOTIFY` instead, which the database sends on commit to every listening instance.

use crate::credentials::key_digest as digest;
use crate::staff::{new_token, Actor};
use crate::time::{db_time, row_time};
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::appointment::{AppointmentStatus, BookingSource};
use domain::DomainError;
use sqlx::Row;

/// One appointment on the desk's day view.
#[derive(Debug, Clone, PartialEq)]
pub struct DeskAppointment {
    pub id: i64,
    pub location_id: i64,
    pub provider_id: i64,
    pub provider_name: String,
    pub product_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: AppointmentStatus,
    pub source: BookingSource,
    pub token_number: Option<i32>,
    pub queue_number: Option<i32>,
    pub reason: String,
    pub cancellation_reason: Option<String>,
    pub patient: Option<DeskPatient>,
    /// The latest message to the patient that the mail server refused for good (or that every
    /// retry failed): its kind and the server's answer, so that the desk can call instead.
    pub email_failed: Option<(String, String)>,
}

/// Who attends, with what tells namesakes apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeskPatient {
    pub id: i64,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: Option<NaiveDate>,
    pub temporary_id: Option<String>,
    pub registered: bool,
}

/// A link that opens one location's waiting-room display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayLink {
    pub id: i64,
    pub clinic_id: i64,
    pub location_id: i64,
    pub label: String,
    pub show_names: bool,
    pub created_at: DateTime<Utc>,
}

/// The longest label a display link may carry ("TV in the waiting room, 1st floor").
pub const MAX_DISPLAY_LABEL: usize = 80;
/// Open display links per clinic: a screen per room of a large practice, not a list to leak.
pub const MAX_DISPLAY_LINKS: i64 = 50;

/// A `DisplayLink` from a row of either backend.
macro_rules! display_link {
    ($pool:ident, $row:expr) => {
        (|| -> Result<DisplayLink, StoreError> {
            Ok(DisplayLink {
                id: $row.try_get("id")?,
                clinic_id: $row.try_get("clinic_id")?,
                location_id: $row.try_get("location_id")?,
                label: $row.try_get("label")?,
                show_names: $row.try_get("show_names")?,
                created_at: row_time($pool, $row, "created_at")?,
            })
        })()
    };
}

impl Store {
    /// A clinic's appointments on `day` (the locations' local date), at one location or all,
    /// in order of start; cancelled ones included (the desk shows what happened).
    pub async fn desk_day(&self, clinic_id: i64, location_id: Option<i64>, day: NaiveDate) -> Result<Vec<DeskAppointment>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT a.id, a.location_id, a.provider_id, pv.display_name AS provider_name, COALESCE(pr.name, s.name) AS product_name, a.starts_at, a.ends_at,
                        a.status, a.source, a.token_number, a.queue_number, a.reason, a.cancellation_reason,
                        p.id AS patient_id, p.first_name, p.last_name, p.birth_date, p.temporary_id, p.registered,
                        (SELECT e.kind FROM patient_emails e WHERE e.appointment_id = a.id AND e.state = 'failed' ORDER BY e.id DESC LIMIT 1) AS email_failed,
                        (SELECT e.last_error FROM patient_emails e WHERE e.appointment_id = a.id AND e.state = 'failed' ORDER BY e.id DESC LIMIT 1) AS email_error
                   FROM appointments a
                   JOIN services s ON s.id = a.service_id
                   JOIN providers pv ON pv.id = a.provider_id
                   LEFT JOIN products pr ON pr.id = a.product_id
                   LEFT JOIN patients p ON p.id = COALESCE(a.participant_id, a.booker_id)
                  WHERE a.clinic_id = $1 AND a.local_date = $2 AND ($3 IS NULL OR a.location_id = $3) AND a.status <> 'pending'
                  ORDER BY a.starts_at, a.id",
            )
            .bind(clinic_id).bind(day).bind(location_id)
            .fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    let patient = match row.try_get::<Option<i64>, _>("patient_id")? {
                        Some(id) => Some(DeskPatient {
                            id,
                            first_name: row.try_get("first_name")?,
                            last_name: row.try_get("last_name")?,
                            birth_date: row.try_get("birth_date")?,
                            temporary_id: row.try_get("temporary_id")?,
                            registered: row.try_get("registered")?,
                        }),
                        None => None,
                    };
                    Ok(DeskAppointment {
                        id: row.try_get("id")?,
                        location_id: row.try_get("location_id")?,
                        provider_id: row.try_get("provider_id")?,
                        provider_name: row.try_get("provider_name")?,
                        product_name: row.try_get("product_name")?,
                        start: row_time(pool, row, "starts_at")?,
                        end: row_time(pool, row, "ends_at")?,
                        status: AppointmentStatus::parse(&row.try_get::<String, _>("status")?)?,
                        source: BookingSource::parse(&row.try_get::<String, _>("source")?)?,
                        token_number: row.try_get("token_number")?,
                        queue_number: row.try_get("queue_number")?,
                        reason: row.try_get("reason")?,
                        cancellation_reason: row.try_get("cancellation_reason")?,
                        patient,
                        email_failed: row.try_get::<Option<String>, _>("email_failed")?
                            .map(|kind| Ok::<_, StoreError>((kind, row.try_get::<Option<String>, _>("email_error")?.unwrap_or_default())))
                            .transpose()?,
                    })
                })
                .collect()
        })
    }

    /// A new display link for a location of the clinic; the token is returned this once.
    pub async fn create_display_link(
        &self,
        actor: &Actor,
        clinic_id: i64,
        location_id: i64,
        label: &str,
        show_names: bool,
        now: DateTime<Utc>,
    ) -> Result<(DisplayLink, String), StoreError> {
        let label = label.trim();
        if label.chars().count() > MAX_DISPLAY_LABEL {
            return Err(StoreError::Rule(DomainError::invalid("label", format!("must be at most {MAX_DISPLAY_LABEL} characters"))));
        }
        if label.chars().any(char::is_control) {
            return Err(StoreError::Rule(DomainError::invalid("label", "must be one line of text")));
        }
        let token = new_token();
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM locations WHERE id = $1 AND clinic_id = $2 AND archived_at IS NULL")
                .bind(location_id).bind(clinic_id).fetch_optional(&mut *tx).await?;
            if found.is_none() {
                return Err(StoreError::Rule(DomainError::invalid("location", "is not an open location of this clinic")));
            }
            let (open,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM display_links WHERE clinic_id = $1 AND revoked_at IS NULL")
                .bind(clinic_id).fetch_one(&mut *tx).await?;
            if open >= MAX_DISPLAY_LINKS {
                return Err(StoreError::Rule(DomainError::invalid("location", format!("a clinic can have at most {MAX_DISPLAY_LINKS} display links; revoke one first"))));
            }
            let stamp = db_time(pool, now);
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO display_links (clinic_id, location_id, token_sha256, label, show_names, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(clinic_id).bind(location_id).bind(digest(&token)).bind(label).bind(show_names).bind(stamp)
            .fetch_one(&mut *tx).await?;
            crate::audit::insert_audit!(tx, pool, clinic_id, actor, "display.create",
                serde_json::json!({ "id": id, "locationId": location_id, "label": label, "showNames": show_names }).to_string(), now);
            tx.commit().await?;
            Ok((DisplayLink { id, clinic_id, location_id, label: label.to_owned(), show_names, created_at: now }, token))
        })
    }

    /// The clinic's display links that still open a display, oldest first.
    pub async fn display_links(&self, clinic_id: i64) -> Result<Vec<DisplayLink>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT id, clinic_id, location_id, label, show_names, created_at FROM display_links
                  WHERE clinic_id = $1 AND revoked_at IS NULL ORDER BY id",
            )
            .bind(clinic_id).fetch_all(pool).await?;
            rows.iter().map(|row| display_link!(pool, row)).collect()
        })
    }

    /// Revokes a display link: screens that use it show nothing from their next request on.
    pub async fn revoke_display_link(&self, actor: &Actor, clinic_id: i64, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let done = sqlx::query("UPDATE display_links SET revoked_at = $1 WHERE id = $2 AND clinic_id = $3 AND revoked_at IS NULL")
                .bind(db_time(pool, now)).bind(id).bind(clinic_id)
                .execute(&mut *tx).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("display link"));
            }
            crate::audit::insert_audit!(tx, pool, clinic_id, actor, "display.revoke", serde_json::json!({ "id": id }).to_string(), now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// The link behind `token` when it opens the display of `location_id`; `None` for a wrong
    /// token, a revoked link, another location's link, or an archived location alike.
    pub async fn open_display_link(&self, location_id: i64, token: &str) -> Result<Option<DisplayLink>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT d.id, d.clinic_id, d.location_id, d.label, d.show_names, d.created_at
                   FROM display_links d JOIN locations l ON l.id = d.location_id AND l.archived_at IS NULL
                  WHERE d.token_sha256 = $1 AND d.location_id = $2 AND d.revoked_at IS NULL",
            )
            .bind(digest(token.trim())).bind(location_id)
            .fetch_optional(pool).await?;
            row.as_ref().map(|row| display_link!(pool, row)).transpose()
        })
    }

    /// The newest outbox row's id: where a follower of the change feed starts.
    pub async fn last_change(&self) -> Result<i64, StoreError> {
        with_pool!(self, pool => {
            let (id,): (Option<i64>,) = sqlx::query_as("SELECT MAX(id) FROM outbox").fetch_one(pool).await?;
            Ok(id.unwrap_or(0))
        })
    }

    /// The (outbox id, clinic) of up to `limit` changes after `after`, oldest first. Complete
    /// on SQLite (see the module's note); on PostgreSQL follow `listen_changes` instead.
    pub async fn changes_after(&self, after: i64, limit: i64) -> Result<Vec<(i64, i64)>, StoreError> {
        with_pool!(self, pool => {
            Ok(sqlx::query_as("SELECT id, clinic_id FROM outbox WHERE id > $1 ORDER BY id LIMIT $2")
                .bind(after).bind(limit).fetch_all(pool).await?)
        })
    }

    /// On PostgreSQL, a connection that hears every committed change of every instance.
    /// `None` on SQLite, where `changes_after` is exact.
    pub async fn listen_changes(&self) -> Result<Option<ChangeListener>, StoreError> {
        match &self.db {
            crate::Db::Sqlite(_) => Ok(None),
            crate::Db::Postgres(pool) => {
                let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
                listener.listen(CHANGE_CHANNEL).await?;
                Ok(Some(ChangeListener(listener)))
            }
        }
    }
}

const CHANGE_CHANNEL: &str = "booking_changes";

/// What a `ChangeListener` heard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Heard {
    /// A change of this clinic committed.
    Clinic(i64),
    /// The connection was lost and is being restored: anything may have changed meanwhile.
    Missed,
}

pub struct ChangeListener(sqlx::postgres::PgListener);

impl ChangeListener {
    /// Waits for the next notification. After a lost connection it reports `Missed` once and
    /// reconnects on the next call (the listener re-subscribes by itself).
    pub async fn next(&mut self) -> Result<Heard, StoreError> {
        match self.0.try_recv().await? {
            Some(n) => match n.payload().parse() {
                Ok(clinic) => Ok(Heard::Clinic(clinic)),
                Err(_) => Ok(Heard::Missed),
            },
            None => Ok(Heard::Missed),
        }
    }
}
