//! The patient e-mail queue.
//!
//! Every appointment change writes an outbox event in its own transaction (`booking.rs`). Here
//! each event is turned, once, into the message it owes the patient (confirmation, rescheduled,
//! cancelled) and the reminder it schedules; the row's `once_key` (the event's id, or the
//! event that scheduled a reminder) makes that idempotent, so an event looked at
//! twice (a crash between the insert and the mark) still owes one message. The mail worker
//! claims due messages with a lease, like webhook deliveries (`webhooks.rs`), sends them and
//! records the outcome: sent, retried later, or failed for good (the server refused the
//! address), which staff see on the appointment.
//!
//! A reminder is checked again when it falls due: it is skipped when the appointment was
//! cancelled or moved since it was scheduled (the move scheduled a new one), when the patient
//! turned reminders off, or when the clinic did.

use crate::audit::{changes, insert_audit};
use crate::staff::Actor;
use crate::time::{db_time, row_time, row_time_opt};
use crate::webhooks::id_list;
use crate::widget::AppointmentView;
use crate::{with_pool, Backend, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use domain::notify::{self, MessageKind, NotificationSettings, SendOutcome};
use serde_json::{json, Map, Value};
use sqlx::Row;

/// Outbox rows looked at, and messages claimed, per transaction.
const BATCH: i64 = 200;

/// One message to send now: what was queued, and its appointment as it is now (names, place,
/// the booker the manage link is for).
#[derive(Debug, Clone)]
pub struct DueEmail {
    pub message: QueuedEmail,
    pub appointment: AppointmentView,
}

impl std::ops::Deref for DueEmail {
    type Target = QueuedEmail;
    fn deref(&self) -> &QueuedEmail {
        &self.message
    }
}

/// A claimed message as the queue holds it.
#[derive(Debug, Clone)]
pub struct QueuedEmail {
    pub id: i64,
    /// Which attempt this is (1 for the first); also the claim's token.
    pub attempt: i64,
    pub kind: MessageKind,
    pub recipient: String,
    pub recipient_name: String,
    /// The appointment's time as the change left it.
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// A move's previous start.
    pub previous_start: Option<DateTime<Utc>>,
    /// A cancellation's reason, and whether the clinic cancelled.
    pub reason: String,
    pub by_clinic: bool,
    /// The calendar file's SEQUENCE.
    pub sequence: u32,
    /// The clinic's settings when the message is sent (sender, note).
    pub settings: NotificationSettings,
}

/// What became of one attempt (`Store::record_emails`).
#[derive(Debug, Clone)]
pub struct EmailAttempt {
    pub id: i64,
    pub attempt: i64,
    pub outcome: SendOutcome,
    /// The server's answer or why none came; `None` when sent.
    pub error: Option<String>,
    pub at: DateTime<Utc>,
    /// In [0, 1]: spreads the retry time.
    pub jitter: f64,
}

/// One message of an appointment, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailLog {
    pub id: i64,
    pub kind: MessageKind,
    pub recipient: String,
    /// pending, sent, failed or skipped.
    pub state: String,
    pub attempts: i64,
    /// When it was (or is to be) sent: `sent_at`, else the next attempt's time.
    pub at: DateTime<Utc>,
    pub error: Option<String>,
}

const SETTINGS_COLUMNS: &str =
    "c.email_confirmation, c.email_rescheduled, c.email_cancelled, c.email_reminder, c.reminder_minutes, c.email_sender, c.email_note";

fn settings_from_row<R: Row>(row: &R) -> Result<NotificationSettings, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    bool: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i32: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let minutes: i32 = row.try_get("reminder_minutes")?;
    Ok(NotificationSettings {
        confirmation: row.try_get("email_confirmation")?,
        rescheduled: row.try_get("email_rescheduled")?,
        cancelled: row.try_get("email_cancelled")?,
        reminder: row.try_get("email_reminder")?,
        reminder_minutes: u32::try_from(minutes).map_err(|_| StoreError::Corrupt(format!("reminder_minutes = {minutes}")))?,
        sender: row.try_get("email_sender")?,
        note: row.try_get("email_note")?,
    })
}

/// An instant an event's payload gives in the location's offset.
fn payload_time(data: &Map<String, Value>, key: &str) -> Option<DateTime<Utc>> {
    data.get(key).and_then(Value::as_str).and_then(|s| DateTime::parse_from_rfc3339(s).ok()).map(|t| t.with_timezone(&Utc))
}

/// A message to queue, as one event owes it.
struct Owed {
    appointment_id: i64,
    clinic_id: i64,
    kind: MessageKind,
    once_key: String,
    recipient: String,
    recipient_name: String,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    previous_start: Option<DateTime<Utc>>,
    reason: String,
    by_clinic: bool,
    sequence: i64,
    due: DateTime<Utc>,
}

/// What an event's message needs of its appointment.
struct Facts {
    clinic_id: i64,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    /// Address and name, when the booker or the attendee gave an address.
    recipient: Option<(String, String)>,
    settings: NotificationSettings,
}

/// Rows of `INSERT INTO patient_emails` per statement: 14 values each, well under both
/// backends' limit on a statement's parameters.
const INSERT_ROWS: usize = 100;

/// Writes messages owed, many rows per statement, inside the transaction `$tx`; a message
/// whose key exists already (its event was looked at before) is left as it is.
macro_rules! insert_owed {
    ($tx:ident, $pool:ident, $owed:expr, $now:expr) => {{
        let owed: Vec<Owed> = $owed;
        for chunk in owed.chunks(INSERT_ROWS) {
            let rows: Vec<String> = (0..chunk.len())
                .map(|r| format!("({})", (1..=14).map(|c| format!("${}", r * 14 + c)).collect::<Vec<_>>().join(", ")))
                .collect();
            let sql = format!(
                "INSERT INTO patient_emails (clinic_id, appointment_id, kind, once_key, recipient, recipient_name, starts_at, ends_at,
                     previous_starts_at, reason, by_clinic, sequence, next_attempt_at, created_at)
                 VALUES {} ON CONFLICT (once_key) DO NOTHING",
                rows.join(", ")
            );
            let mut insert = sqlx::query(&sql);
            for o in chunk {
                insert = insert
                    .bind(o.clinic_id).bind(o.appointment_id).bind(o.kind.as_str()).bind(o.once_key.clone()).bind(o.recipient.clone())
                    .bind(o.recipient_name.clone()).bind(db_time($pool, o.start)).bind(db_time($pool, o.end))
                    .bind(o.previous_start.map(|t| db_time($pool, t))).bind(o.reason.clone()).bind(o.by_clinic).bind(o.sequence)
                    .bind(db_time($pool, o.due)).bind(db_time($pool, $now));
            }
            insert.execute(&mut *$tx).await?;
        }
    }};
}

impl Store {
    /// The mail worker's transactions queue for the writer's turn like any other write (not
    /// ahead of them as webhook deliveries do): a message may wait a moment, a booking should
    /// not wait for messages.
    async fn mail_tx<DB: crate::booking::WriteTx>(&self, pool: &sqlx::Pool<DB>) -> Result<crate::booking::Tx<'_, DB>, sqlx::Error> {
        self.write_tx(pool, &[]).await
    }

    /// What the clinic sends its patients.
    pub async fn notification_settings(&self, clinic_id: i64) -> Result<NotificationSettings, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(&format!("SELECT {SETTINGS_COLUMNS} FROM clinics c WHERE c.id = $1"))
                .bind(clinic_id).fetch_optional(pool).await?.ok_or(StoreError::NotFound("clinic"))?;
            settings_from_row(&row)
        })
    }

    /// Saves what the clinic sends (checked by the caller with `NotificationSettings::check`),
    /// audited as `clinic.notifications` with what changed. Saving the same values writes
    /// nothing. Messages already queued keep their time; a reminder checks the clinic's switch
    /// again when it falls due.
    pub async fn update_notification_settings(
        &self,
        clinic_id: i64,
        actor: &Actor,
        settings: &NotificationSettings,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let settings = settings.clone().check().map_err(StoreError::Rule)?;
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let row = sqlx::query(&format!("SELECT {SETTINGS_COLUMNS} FROM clinics c WHERE c.id = $1{}", crate::booking::row_lock(pool)))
                .bind(clinic_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("clinic"))?;
            let old = settings_from_row(&row)?;
            let diff = changes(&[
                ("confirmation", json!(old.confirmation), json!(settings.confirmation)),
                ("rescheduled", json!(old.rescheduled), json!(settings.rescheduled)),
                ("cancelled", json!(old.cancelled), json!(settings.cancelled)),
                ("reminder", json!(old.reminder), json!(settings.reminder)),
                ("reminderMinutes", json!(old.reminder_minutes), json!(settings.reminder_minutes)),
                ("sender", json!(old.sender), json!(settings.sender)),
                ("note", json!(old.note), json!(settings.note)),
            ]);
            if diff.is_empty() {
                return Ok(false);
            }
            sqlx::query(
                "UPDATE clinics SET email_confirmation = $1, email_rescheduled = $2, email_cancelled = $3, email_reminder = $4,
                        reminder_minutes = $5, email_sender = $6, email_note = $7
                  WHERE id = $8",
            )
            .bind(settings.confirmation).bind(settings.rescheduled).bind(settings.cancelled).bind(settings.reminder)
            .bind(crate::catalogue_admin::as_i32(settings.reminder_minutes)).bind(&settings.sender).bind(&settings.note).bind(clinic_id)
            .execute(&mut *tx).await?;
            insert_audit!(tx, pool, clinic_id, actor, "clinic.notifications", Value::Object(diff).to_string(), now);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Turns the reminder of one appointment off or back on (the patient's choice on the
    /// manage page). Returns whether a reminder is now wanted.
    pub async fn set_reminder_wanted(&self, appointment_id: i64, wanted: bool, now: DateTime<Utc>) -> Result<bool, StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM appointments WHERE id = $1").bind(appointment_id).fetch_optional(&mut *tx).await?;
            exists.ok_or(StoreError::NotFound("appointment"))?;
            match wanted {
                true => sqlx::query("DELETE FROM reminder_opt_outs WHERE appointment_id = $1").bind(appointment_id).execute(&mut *tx).await?,
                false => sqlx::query("INSERT INTO reminder_opt_outs (appointment_id, created_at) VALUES ($1, $2) ON CONFLICT (appointment_id) DO NOTHING")
                    .bind(appointment_id).bind(db_time(pool, now)).execute(&mut *tx).await?,
            };
            tx.commit().await?;
            Ok(wanted)
        })
    }

    /// What the patient of an appointment can choose about its reminder: `None` when there
    /// is nothing to choose (the clinic sends no reminders, or the patient gave no address),
    /// else whether the reminder is wanted.
    pub async fn reminder_choice(&self, appointment_id: i64) -> Result<Option<bool>, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT c.email_reminder, COALESCE(b.email, '') AS booker_email, COALESCE(p.email, '') AS attendee_email,
                        (SELECT COUNT(*) FROM reminder_opt_outs o WHERE o.appointment_id = a.id) AS opted_out
                   FROM appointments a
                   JOIN clinics c ON c.id = a.clinic_id
                   LEFT JOIN patients b ON b.id = a.booker_id
                   LEFT JOIN patients p ON p.id = a.participant_id
                  WHERE a.id = $1",
            )
            .bind(appointment_id).fetch_optional(pool).await?.ok_or(StoreError::NotFound("appointment"))?;
            let sends: bool = row.try_get("email_reminder")?;
            let addressed = [row.try_get::<String, _>("booker_email")?, row.try_get::<String, _>("attendee_email")?].iter().any(|e| !e.trim().is_empty());
            let opted_out: i64 = row.try_get("opted_out")?;
            Ok((sends && addressed).then_some(opted_out == 0))
        })
    }

    /// Turns up to one batch of new outbox events into the messages they owe: the change's
    /// own message when the clinic sends it and the patient has an address, and the reminder
    /// of a booked or moved appointment. A move or a cancellation skips the reminders it made
    /// wrong. Returns the events looked at.
    pub async fn queue_emails(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        // The transaction holds the writer's turn: on SQLite its round trips run on the
        // writer's thread, not behind the requests on the runtime's (see `create_appointment`).
        let store = self.clone();
        self.on_writer_thread(async move { store.queue_emails_here(now).await }).await
    }

    async fn queue_emails_here(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        with_pool!(self, pool => {
            // A look without the write lock first (see `fan_out_events`).
            let waiting: Option<i64> = sqlx::query_scalar("SELECT id FROM outbox WHERE mailed_at IS NULL LIMIT 1").fetch_optional(pool).await?;
            if waiting.is_none() {
                return Ok(0);
            }
            let mut tx = self.mail_tx(pool).await?;
            let rows = sqlx::query(&format!(
                "SELECT id, event_id, clinic_id, event_type, payload, created_at FROM outbox
                  WHERE mailed_at IS NULL ORDER BY id LIMIT $1{lock}"
            ))
            .bind(BATCH).fetch_all(&mut *tx).await?;
            if rows.is_empty() {
                tx.commit().await?;
                return Ok(0);
            }
            let outbox_ids = id_list(rows.iter().map(|r| r.try_get::<i64, _>("id")).collect::<Result<Vec<_>, _>>()?);
            // The events that owe a patient something, in order.
            let mut events = Vec::new();
            for row in &rows {
                let Some(kind) = MessageKind::for_event(&row.try_get::<String, _>("event_type")?) else { continue };
                let payload: String = row.try_get("payload")?;
                let data: Map<String, Value> = serde_json::from_str(&payload).map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))?;
                let Some(appointment_id) = data.get("appointmentId").and_then(Value::as_str).and_then(|s| s.parse::<i64>().ok()) else { continue };
                events.push((kind, appointment_id, data, row_time(pool, row, "created_at")?, row.try_get::<String, _>("event_id")?));
            }
            // Their appointments, read in one statement: a stream of bookings owes a stream of
            // confirmations, and a statement per event held the writer's turn that long.
            let mut facts = std::collections::HashMap::new();
            if !events.is_empty() {
                let appointments = id_list(events.iter().map(|e| e.1));
                let found = sqlx::query(&format!(
                    "SELECT a.id, a.clinic_id, a.starts_at, a.ends_at,
                            b.first_name AS booker_first, b.last_name AS booker_last, b.email AS booker_email,
                            p.first_name AS attendee_first, p.last_name AS attendee_last, p.email AS attendee_email,
                            {SETTINGS_COLUMNS}
                       FROM appointments a
                       JOIN clinics c ON c.id = a.clinic_id
                       LEFT JOIN patients b ON b.id = a.booker_id
                       LEFT JOIN patients p ON p.id = a.participant_id
                      WHERE a.id IN ({appointments})"
                ))
                .fetch_all(&mut *tx).await?;
                for a in &found {
                    // The booker holds the manage link; an attendee's own address serves when
                    // the booker gave none.
                    let mut recipient = None;
                    for (first, last, email) in [("booker_first", "booker_last", "booker_email"), ("attendee_first", "attendee_last", "attendee_email")] {
                        let address: Option<String> = a.try_get(email)?;
                        if let Some(address) = address.filter(|e| !e.trim().is_empty()) {
                            let first: Option<String> = a.try_get(first)?;
                            let last: Option<String> = a.try_get(last)?;
                            recipient = Some((address, format!("{} {}", first.unwrap_or_default(), last.unwrap_or_default()).trim().to_owned()));
                            break;
                        }
                    }
                    let fact = Facts {
                        clinic_id: a.try_get("clinic_id")?,
                        start: row_time(pool, a, "starts_at")?,
                        end: row_time(pool, a, "ends_at")?,
                        recipient,
                        settings: settings_from_row(a)?,
                    };
                    facts.insert(a.try_get::<i64, _>("id")?, fact);
                }
            }
            let stamp = db_time(pool, now);
            let mut owed: Vec<Owed> = Vec::new();
            for (kind, appointment_id, data, event_at, event_id) in events {
                let Some(a) = facts.get(&appointment_id) else { continue };
                let start = payload_time(&data, "start").unwrap_or(a.start);
                let end = payload_time(&data, "end").unwrap_or(a.end);
                let mut sequence = 0;
                // A move or a cancellation: reminders of another time (or of any time) are
                // wrong now. Messages owed so far are written first, so that the skip sees a
                // reminder an earlier event of this batch scheduled.
                if kind != MessageKind::Confirmation {
                    insert_owed!(tx, pool, owed.drain(..).collect::<Vec<_>>(), now);
                    let (why, keep) = match kind {
                        MessageKind::Cancelled => ("the appointment was cancelled", None),
                        _ => ("the appointment moved", Some(db_time(pool, start))),
                    };
                    sqlx::query(
                        "UPDATE patient_emails SET state = 'skipped', last_error = $2, next_attempt_at = $3
                          WHERE appointment_id = $1 AND kind = 'reminder' AND state = 'pending' AND ($4 IS NULL OR starts_at <> $4)",
                    )
                    .bind(appointment_id).bind(why).bind(stamp).bind(keep)
                    .execute(&mut *tx).await?;
                    sequence = sqlx::query_scalar(
                        "SELECT COUNT(*) FROM appointment_changes WHERE appointment_id = $1 AND kind IN ('rescheduled', 'cancelled') AND changed_at <= $2",
                    )
                    .bind(appointment_id).bind(db_time(pool, event_at))
                    .fetch_one(&mut *tx).await?;
                }
                let Some((recipient, recipient_name)) = &a.recipient else { continue };
                let message = |kind: MessageKind, once_key: String, due: DateTime<Utc>| Owed {
                    appointment_id,
                    clinic_id: a.clinic_id,
                    kind,
                    once_key,
                    recipient: recipient.clone(),
                    recipient_name: recipient_name.clone(),
                    start,
                    end,
                    previous_start: payload_time(&data, "previousStart").filter(|_| kind == MessageKind::Rescheduled),
                    reason: data.get("cancellationReason").and_then(Value::as_str).unwrap_or_default().to_owned(),
                    by_clinic: data.get("source").and_then(Value::as_str) == Some("staff"),
                    sequence,
                    due,
                };
                if kind != MessageKind::Cancelled && a.settings.reminder {
                    if let Some(at) = notify::reminder_at(start, event_at, a.settings.reminder_lead()) {
                        owed.push(message(MessageKind::Reminder, format!("reminder:{event_id}"), at));
                    }
                }
                if a.settings.sends(kind) {
                    owed.push(message(kind, event_id, now));
                }
            }
            insert_owed!(tx, pool, owed, now);
            sqlx::query(&format!("UPDATE outbox SET mailed_at = $1 WHERE id IN ({outbox_ids})")).bind(db_time(pool, now)).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(rows.len())
        })
    }

    /// Claims up to `limit` due messages for one attempt each, leased until `now + lease`.
    /// Reminders that are no longer true are skipped here and not returned.
    pub async fn claim_emails(&self, now: DateTime<Utc>, limit: i64, lease: Duration) -> Result<Vec<DueEmail>, StoreError> {
        let store = self.clone();
        let claimed = self.on_writer_thread(async move { store.claim_emails_here(now, limit, lease).await }).await?;
        let mut due = Vec::with_capacity(claimed.len());
        for (appointment_id, message) in claimed {
            due.push(DueEmail { message, appointment: self.appointment_view(appointment_id).await? });
        }
        Ok(due)
    }

    async fn claim_emails_here(&self, now: DateTime<Utc>, limit: i64, lease: Duration) -> Result<Vec<(i64, QueuedEmail)>, StoreError> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let claimed = with_pool!(self, pool => {
            let due: Option<i64> = sqlx::query_scalar("SELECT id FROM patient_emails WHERE state = 'pending' AND next_attempt_at <= $1 LIMIT 1")
                .bind(db_time(pool, now)).fetch_optional(pool).await?;
            if due.is_none() {
                return Ok(Vec::new());
            }
            let mut tx = self.mail_tx(pool).await?;
            let claimed: Vec<(i64, i64)> = sqlx::query_as(&format!(
                "UPDATE patient_emails SET attempts = attempts + 1, next_attempt_at = $1
                  WHERE id IN (SELECT id FROM patient_emails WHERE state = 'pending' AND next_attempt_at <= $2
                                ORDER BY next_attempt_at, id LIMIT $3{lock})
                  RETURNING id, attempts"
            ))
            .bind(db_time(pool, now + lease)).bind(db_time(pool, now)).bind(limit)
            .fetch_all(&mut *tx).await?;
            if claimed.is_empty() {
                tx.commit().await?;
                return Ok(Vec::new());
            }
            let rows = sqlx::query(&format!(
                "SELECT e.id, e.appointment_id, e.kind, e.recipient, e.recipient_name, e.starts_at, e.ends_at, e.previous_starts_at,
                        e.reason, e.by_clinic, e.sequence, a.status, a.starts_at AS current_start,
                        (SELECT COUNT(*) FROM reminder_opt_outs o WHERE o.appointment_id = a.id) AS opted_out,
                        {SETTINGS_COLUMNS}
                   FROM patient_emails e
                   JOIN appointments a ON a.id = e.appointment_id
                   JOIN clinics c ON c.id = e.clinic_id
                  WHERE e.id IN ({})",
                id_list(claimed.iter().map(|(id, _)| *id))
            ))
            .fetch_all(&mut *tx).await?;
            let mut out = Vec::new();
            for row in &rows {
                let id: i64 = row.try_get("id")?;
                let kind_text: String = row.try_get("kind")?;
                let kind = MessageKind::parse(&kind_text).ok_or_else(|| StoreError::Corrupt(format!("e-mail kind {kind_text:?}")))?;
                let settings = settings_from_row(row)?;
                let start = row_time(pool, row, "starts_at")?;
                if kind == MessageKind::Reminder {
                    let status: String = row.try_get("status")?;
                    let opted_out: i64 = row.try_get("opted_out")?;
                    let skip = if !matches!(status.as_str(), "pending" | "booked") {
                        Some("the appointment is no longer booked")
                    } else if row_time(pool, row, "current_start")? != start {
                        Some("the appointment moved")
                    } else if opted_out > 0 {
                        Some("the patient turned reminders off")
                    } else if !settings.reminder {
                        Some("the clinic turned reminders off")
                    } else {
                        None
                    };
                    if let Some(why) = skip {
                        sqlx::query("UPDATE patient_emails SET state = 'skipped', last_error = $2 WHERE id = $1")
                            .bind(id).bind(why).execute(&mut *tx).await?;
                        continue;
                    }
                }
                let sequence: i64 = row.try_get("sequence")?;
                out.push((row.try_get::<i64, _>("appointment_id")?, QueuedEmail {
                    id,
                    attempt: claimed.iter().find(|(c, _)| *c == id).map_or(1, |(_, a)| *a),
                    kind,
                    recipient: row.try_get("recipient")?,
                    recipient_name: row.try_get("recipient_name")?,
                    start,
                    end: row_time(pool, row, "ends_at")?,
                    previous_start: row_time_opt(pool, row, "previous_starts_at")?,
                    reason: row.try_get("reason")?,
                    by_clinic: row.try_get("by_clinic")?,
                    sequence: u32::try_from(sequence).unwrap_or(u32::MAX),
                    settings,
                }));
            }
            tx.commit().await?;
            out
        });
        Ok(claimed)
    }

    /// Records attempts' outcomes in one transaction: sent; retried after the schedule's next
    /// wait; failed for good after a rejection or the last attempt. An outcome for a claim
    /// that has since been claimed again changes nothing.
    pub async fn record_emails(&self, attempts: &[EmailAttempt]) -> Result<(), StoreError> {
        if attempts.is_empty() {
            return Ok(());
        }
        let (store, attempts) = (self.clone(), attempts.to_vec());
        self.on_writer_thread(async move { store.record_emails_here(&attempts).await }).await
    }

    async fn record_emails_here(&self, attempts: &[EmailAttempt]) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.mail_tx(pool).await?;
            let mut counted = Vec::with_capacity(attempts.len());
            for a in attempts {
                const CURRENT: &str = "id = $1 AND attempts = $2 AND state = 'pending'";
                let stamp = db_time(pool, a.at);
                let retry_at = match a.outcome {
                    SendOutcome::Retry => u32::try_from(a.attempt).ok().and_then(domain::delivery::retry_delay).map(|d| a.at + domain::delivery::with_jitter(d, a.jitter)),
                    _ => None,
                };
                counted.push(match (a.outcome, retry_at) {
                    (SendOutcome::Sent, _) => "sent",
                    (SendOutcome::Retry, Some(_)) => "retry",
                    _ => "failed",
                });
                let done = match (a.outcome, retry_at) {
                    (SendOutcome::Sent, _) => sqlx::query(&format!("UPDATE patient_emails SET state = 'sent', sent_at = $3, last_error = NULL WHERE {CURRENT}"))
                        .bind(a.id).bind(a.attempt).bind(stamp).execute(&mut *tx).await?,
                    (SendOutcome::Retry, Some(at)) => sqlx::query(&format!("UPDATE patient_emails SET next_attempt_at = $3, last_error = $4 WHERE {CURRENT}"))
                        .bind(a.id).bind(a.attempt).bind(db_time(pool, at)).bind(a.error.as_deref()).execute(&mut *tx).await?,
                    _ => sqlx::query(&format!("UPDATE patient_emails SET state = 'failed', next_attempt_at = $3, last_error = $4 WHERE {CURRENT}"))
                        .bind(a.id).bind(a.attempt).bind(stamp).bind(a.error.as_deref()).execute(&mut *tx).await?,
                };
                if done.rows_affected() == 0 {
                    tracing::warn!(email = a.id, attempt = a.attempt, "late result of a message claimed again; ignored");
                }
            }
            tx.commit().await?;
            for outcome in counted {
                self.counters().email(outcome);
            }
            Ok(())
        })
    }

    /// The messages of one appointment of `clinic_id`, oldest first: what staff see (a failed
    /// one with the mail server's answer). Another clinic's appointment is `NotFound`.
    pub async fn appointment_emails(&self, clinic_id: i64, appointment_id: i64) -> Result<Vec<EmailLog>, StoreError> {
        with_pool!(self, pool => {
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM appointments WHERE id = $1 AND clinic_id = $2")
                .bind(appointment_id).bind(clinic_id).fetch_optional(pool).await?;
            found.ok_or(StoreError::NotFound("appointment"))?;
            let rows = sqlx::query(
                "SELECT id, kind, recipient, state, attempts, sent_at, next_attempt_at, last_error FROM patient_emails
                  WHERE appointment_id = $1 ORDER BY id",
            )
            .bind(appointment_id).fetch_all(pool).await?;
            rows.iter().map(|row| {
                let kind: String = row.try_get("kind")?;
                Ok(EmailLog {
                    id: row.try_get("id")?,
                    kind: MessageKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("e-mail kind {kind:?}")))?,
                    recipient: row.try_get("recipient")?,
                    state: row.try_get("state")?,
                    attempts: row.try_get("attempts")?,
                    at: match row_time_opt(pool, row, "sent_at")? {
                        Some(at) => at,
                        None => row_time(pool, row, "next_attempt_at")?,
                    },
                    error: row.try_get("last_error")?,
                })
            }).collect()
        })
    }
}
