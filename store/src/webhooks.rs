//! Webhook subscriptions and their delivery queue.
//!
//! The booking engine writes one outbox row per change, in the change's transaction. Here the
//! rows are fanned out into one delivery per matching subscription, deliveries are claimed
//! with a lease so that several server instances never run the same attempt at once, and
//! each attempt's result moves its delivery on: delivered, retried later, or given up.
//!
//! Claims: on PostgreSQL `FOR UPDATE SKIP LOCKED` lets instances take disjoint batches; on
//! SQLite the claiming statement is itself one write transaction, and SQLite has one writer.
//! A claim pushes `next_attempt_at` to the end of the lease, so an attempt whose worker died
//! becomes due again by itself, and bumps `attempts`, so the dead worker's late result (if
//! it was only slow) no longer applies.

use crate::audit::insert_audit;
use crate::staff::Actor;
use crate::time::{db_time, row_time, row_time_opt};
use crate::{with_pool, Backend, Store, StoreError};
use chrono::{DateTime, Duration, SecondsFormat, Utc};
use domain::delivery::{self, AttemptOutcome, EventType};
use domain::DomainError;
use serde_json::{json, Map, Value};
use sqlx::Row;

/// What every appointment event says of its appointment, whichever change it reports.
const APPOINTMENT_DETAILS: &str =
    "SELECT a.id, a.location_id, a.provider_id, a.service_id, a.product_id, a.starts_at, a.ends_at, a.time_zone, a.token_number,
            l.name AS location_name, l.address, p.display_name, s.name AS service_name, pd.name AS product_name
       FROM appointments a
       JOIN locations l ON l.id = a.location_id
       JOIN providers p ON p.id = a.provider_id
       JOIN services s ON s.id = a.service_id
       LEFT JOIN products pd ON pd.id = a.product_id";

/// Completes an appointment event's data so that a receiver that never saw the booking can
/// still tell the patient what changed (a cancellation, say): time, provider, location and
/// type, in the bot API's words as well. Fields the change recorded itself (a reschedule's
/// new time) are kept; the rest is read now, at fan-out, moments after the change.
macro_rules! describe_appointment {
    ($pool:expr, $a:expr, $data:expr) => {{
        let (pool, a, data): (_, _, &mut Map<String, Value>) = ($pool, $a, $data);
        let zone: String = a.try_get("time_zone")?;
        let tz: chrono_tz::Tz = zone.parse().map_err(|_| StoreError::Corrupt(format!("appointment time zone {zone}")))?;
        let local = |column: &str| -> Result<String, StoreError> { Ok(row_time(pool, a, column)?.with_timezone(&tz).to_rfc3339()) };
        let provider: i64 = a.try_get("provider_id")?;
        let product: Option<i64> = a.try_get("product_id")?;
        let service_name: String = a.try_get("service_name")?;
        let fill = [
            ("locationId", json!(a.try_get::<i64, _>("location_id")?.to_string())),
            ("providerId", json!(provider.to_string())),
            ("serviceId", json!(a.try_get::<i64, _>("service_id")?.to_string())),
            ("productId", json!(product.map(|p| p.to_string()))),
            ("start", json!(local("starts_at")?)),
            ("end", json!(local("ends_at")?)),
            ("timeZone", json!(tz.name())),
            ("tokenNumber", json!(a.try_get::<Option<i32>, _>("token_number")?)),
        ];
        for (key, value) in fill {
            data.entry(key).or_insert(value);
        }
        let provider_id = data.get("providerId").cloned().unwrap_or(json!(provider.to_string()));
        data.insert("calendarId".into(), provider_id);
        data.insert("calendarName".into(), json!(a.try_get::<String, _>("display_name")?));
        data.insert("appointmentTypeId".into(), json!(product.map(|p| p.to_string())));
        data.insert("appointmentTypeName".into(), json!(a.try_get::<Option<String>, _>("product_name")?.unwrap_or_else(|| service_name.clone())));
        data.insert("serviceName".into(), json!(service_name));
        data.insert("location".into(), json!({
            "id": data.get("locationId").cloned().unwrap_or(Value::Null),
            "name": a.try_get::<String, _>("location_name")?,
            "address": a.try_get::<String, _>("address")?,
        }));
    }};
}

/// A subscription as its owner sees it (never with its secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub id: i64,
    pub clinic_id: i64,
    pub url: String,
    pub events: Vec<EventType>,
    pub description: String,
    pub created_at: DateTime<Utc>,
    pub failing_since: Option<DateTime<Utc>>,
    pub disabled_at: Option<DateTime<Utc>>,
    pub disabled_reason: Option<String>,
    /// The integration (API credential) that made it; `None` when the clinic made it (the
    /// console, the admin API). It hears nothing while its owner has no live key.
    pub owner_id: Option<i64>,
    /// The only location whose appointments' events it receives; `None`: the whole clinic.
    pub location_id: Option<i64>,
}

/// A subscription to create; the caller has checked the URL against the outbound rules and
/// the secret's form.
pub struct NewSubscription<'a> {
    pub clinic_id: i64,
    pub url: &'a str,
    pub events: &'a [EventType],
    pub description: &'a str,
    pub secret: &'a str,
    /// The API credential making it, if one does.
    pub owner_id: Option<i64>,
    /// Limits its events to one location's appointments (a location-scoped credential's).
    pub location_id: Option<i64>,
}

/// One attempt's result, to record (`Store::record_attempts`): made at `at`; `jitter` in
/// [0, 1] spreads its retry time.
#[derive(Debug, Clone, Copy)]
pub struct Attempted<'a> {
    pub due: &'a DueDelivery,
    pub result: &'a AttemptResult,
    pub at: DateTime<Utc>,
    pub jitter: f64,
}

/// One attempt to make: where, with what key, which event, which bytes.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub delivery_id: i64,
    /// Which attempt of this delivery this is (1 for the first); also the claim's token.
    pub attempt: i64,
    pub subscription_id: i64,
    pub url: String,
    pub secret: String,
    pub event_id: String,
    pub event_type: String,
    pub event_created_at: DateTime<Utc>,
    pub body: String,
}

/// What happened when a worker tried.
#[derive(Debug, Clone)]
pub struct AttemptResult {
    /// `None` when no HTTP answer came.
    pub status: Option<u16>,
    pub latency_ms: i64,
    /// Why no answer came, or a short note (e.g. "redirect not followed").
    pub error: Option<String>,
}

/// One line of a subscription's delivery log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptLog {
    pub delivery_id: i64,
    pub event_id: String,
    pub event_type: String,
    pub attempt: i64,
    pub attempted_at: DateTime<Utc>,
    pub status_code: Option<i64>,
    pub latency_ms: i64,
    pub error: Option<String>,
    /// pending, delivered or failed: where the delivery stands now.
    pub state: String,
}

/// The stored form of an event list: comma-wrapped, so `LIKE '%,name,%'` matches one type.
fn events_column(events: &[EventType]) -> String {
    let mut column = String::from(",");
    for event in events {
        column.push_str(event.as_str());
        column.push(',');
    }
    column
}

fn parse_events_column(column: &str) -> Result<Vec<EventType>, StoreError> {
    column
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|name| EventType::parse(name).ok_or_else(|| StoreError::Corrupt(format!("unknown webhook event {name:?}"))))
        .collect()
}

fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

const SUBSCRIPTION_COLUMNS: &str =
    "id, clinic_id, url, events, description, created_at, failing_since, disabled_at, disabled_reason, credential_id, location_id";

/// A new signing secret: `whsec_` and base64 of 32 random bytes.
pub fn new_secret() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut key = [0u8; 32];
    rand::rng().fill_bytes(&mut key);
    format!("{}{}", domain::webhook::SECRET_PREFIX, base64::engine::general_purpose::STANDARD.encode(key))
}

/// Rows claimed per fan-out transaction and per delivery claim.
const FAN_OUT_BATCH: i64 = 200;

/// Ids for an `IN (...)` list, each once. Ids come from the database as integers, so they are
/// safe to write into a statement as they are.
pub(crate) fn id_list(ids: impl IntoIterator<Item = i64>) -> String {
    let mut ids: Vec<i64> = ids.into_iter().collect();
    ids.sort_unstable();
    ids.dedup();
    ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
}

/// What an outbox event is about: the id its payload names, when it names one that parses.
#[derive(Debug, Clone, Copy)]
enum About {
    Appointment(Option<i64>),
    Patient(Option<i64>),
}

/// An outbox event being fanned out.
#[derive(Debug)]
struct Fanned {
    outbox_id: i64,
    clinic_id: i64,
    event_id: String,
    event_type: String,
    created_at: DateTime<Utc>,
    about: About,
    data: Map<String, Value>,
}

impl Store {
    /// Creates a subscription, refusing the clinic's 26th; audited as `webhook.create`.
    pub async fn create_subscription(&self, actor: &Actor, new: &NewSubscription<'_>, now: DateTime<Utc>) -> Result<Subscription, StoreError> {
        with_pool!(self, pool => {
            // On PostgreSQL the clinic's row lock serialises concurrent creations, so two
            // requests cannot both see 24 and make 26.
            let mut tx = self.write_tx(pool, &[]).await?;
            if self.backend() == Backend::Postgres {
                sqlx::query("SELECT id FROM clinics WHERE id = $1 FOR UPDATE").bind(new.clinic_id).execute(&mut *tx).await?;
            }
            let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM webhook_subscriptions WHERE clinic_id = $1")
                .bind(new.clinic_id).fetch_one(&mut *tx).await?;
            if count >= delivery::MAX_SUBSCRIPTIONS_PER_CLINIC as i64 {
                return Err(StoreError::Rule(DomainError::invalid(
                    "webhooks",
                    format!("a clinic can hold at most {} subscriptions; delete one first", delivery::MAX_SUBSCRIPTIONS_PER_CLINIC),
                )));
            }
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO webhook_subscriptions (clinic_id, url, events, description, secret, created_at, credential_id, location_id)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(new.clinic_id).bind(new.url).bind(events_column(new.events)).bind(new.description).bind(new.secret)
            .bind(db_time(pool, now)).bind(new.owner_id).bind(new.location_id)
            .fetch_one(&mut *tx).await?;
            let events: Vec<&str> = new.events.iter().map(|e| e.as_str()).collect();
            let detail = json!({ "id": id, "url": new.url, "events": events, "description": new.description, "locationId": new.location_id });
            insert_audit!(tx, pool, new.clinic_id, actor, "webhook.create", detail.to_string(), now);
            tx.commit().await?;
            Ok(Subscription {
                id,
                clinic_id: new.clinic_id,
                url: new.url.to_owned(),
                events: new.events.to_vec(),
                description: new.description.to_owned(),
                created_at: DateTime::from_timestamp(now.timestamp(), 0).unwrap_or(now),
                failing_since: None,
                disabled_at: None,
                disabled_reason: None,
                owner_id: new.owner_id,
                location_id: new.location_id,
            })
        })
    }

    /// The clinic's subscriptions, oldest first.
    pub async fn subscriptions(&self, clinic_id: i64) -> Result<Vec<Subscription>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM webhook_subscriptions WHERE clinic_id = $1 ORDER BY id"))
                .bind(clinic_id).fetch_all(pool).await?;
            rows.iter().map(|row| {
                Ok(Subscription {
                    id: row.try_get("id")?,
                    clinic_id: row.try_get("clinic_id")?,
                    url: row.try_get("url")?,
                    events: parse_events_column(row.try_get("events")?)?,
                    description: row.try_get("description")?,
                    created_at: row_time(pool, row, "created_at")?,
                    failing_since: row_time_opt(pool, row, "failing_since")?,
                    disabled_at: row_time_opt(pool, row, "disabled_at")?,
                    disabled_reason: row.try_get("disabled_reason")?,
                    owner_id: row.try_get("credential_id")?,
                    location_id: row.try_get("location_id")?,
                })
            }).collect()
        })
    }

    pub async fn subscription(&self, clinic_id: i64, id: i64) -> Result<Subscription, StoreError> {
        self.subscriptions(clinic_id).await?.into_iter().find(|s| s.id == id).ok_or(StoreError::NotFound("webhook"))
    }

    /// Deletes a subscription with its queue and log; another clinic's id is `NotFound`.
    /// Audited as `webhook.delete`.
    pub async fn delete_subscription(&self, actor: &Actor, clinic_id: i64, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let url: Option<(String,)> = sqlx::query_as("SELECT url FROM webhook_subscriptions WHERE id = $1 AND clinic_id = $2")
                .bind(id).bind(clinic_id).fetch_optional(&mut *tx).await?;
            let Some((url,)) = url else { return Err(StoreError::NotFound("webhook")) };
            sqlx::query(
                "DELETE FROM webhook_attempts WHERE delivery_id IN
                   (SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
                     WHERE s.id = $1 AND s.clinic_id = $2)",
            )
            .bind(id).bind(clinic_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM webhook_deliveries WHERE subscription_id IN (SELECT id FROM webhook_subscriptions WHERE id = $1 AND clinic_id = $2)")
                .bind(id).bind(clinic_id).execute(&mut *tx).await?;
            let gone = sqlx::query("DELETE FROM webhook_subscriptions WHERE id = $1 AND clinic_id = $2")
                .bind(id).bind(clinic_id).execute(&mut *tx).await?;
            if gone.rows_affected() == 0 {
                return Err(StoreError::NotFound("webhook"));
            }
            insert_audit!(tx, pool, clinic_id, actor, "webhook.delete", json!({ "id": id, "url": url }).to_string(), now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// Turns up to one batch of new outbox rows into deliveries, one per enabled subscription
    /// of the event's clinic that asked for its type and existed when the change was made,
    /// due at once. Returns the rows handled.
    ///
    /// A batch costs the same few statements however many events it holds (on PostgreSQL each
    /// statement is a round trip to the server, and with one statement group per event a busy
    /// queue made every delivery wait behind the others' round trips). Ids come from the
    /// database as integers, so they are listed in the statements as they are.
    pub async fn fan_out_events(&self, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        with_pool!(self, pool => {
            // A look without the write lock first: on SQLite a write transaction that finds
            // nothing still holds up every booking while it runs.
            let waiting: Option<i64> = sqlx::query_scalar("SELECT id FROM outbox WHERE dispatched_at IS NULL LIMIT 1").fetch_optional(pool).await?;
            if waiting.is_none() {
                return Ok(0);
            }
            let mut tx = self.delivery_tx(pool).await?;
            let rows = sqlx::query(&format!(
                "SELECT id, event_id, clinic_id, event_type, payload, created_at FROM outbox
                  WHERE dispatched_at IS NULL ORDER BY id LIMIT $1{lock}"
            ))
            .bind(FAN_OUT_BATCH).fetch_all(&mut *tx).await?;
            if rows.is_empty() {
                tx.commit().await?;
                return Ok(0);
            }
            let stamp = db_time(pool, now);
            let mut events = Vec::with_capacity(rows.len());
            for row in &rows {
                let payload: String = row.try_get("payload")?;
                let data: Map<String, Value> = serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Corrupt(format!("outbox payload: {e}")))?;
                let id_in = |key: &str| data.get(key).and_then(Value::as_str).and_then(|s| s.parse::<i64>().ok());
                // An appointment's event is about the appointment (and its patient); any other
                // names its patient.
                let about = match data.contains_key("appointmentId") {
                    true => About::Appointment(id_in("appointmentId")),
                    false => About::Patient(id_in("patientId")),
                };
                events.push(Fanned {
                    outbox_id: row.try_get("id")?,
                    clinic_id: row.try_get("clinic_id")?,
                    event_id: row.try_get("event_id")?,
                    event_type: row.try_get("event_type")?,
                    created_at: row_time(pool, row, "created_at")?,
                    about,
                    data,
                });
            }
            let outbox_ids = id_list(events.iter().map(|e| e.outbox_id));
            let appointments = id_list(events.iter().filter_map(|e| match e.about { About::Appointment(id) => id, About::Patient(_) => None }));
            let patients = id_list(events.iter().filter_map(|e| match e.about { About::Patient(id) => id, About::Appointment(_) => None }));
            // Each event's appointment, for the subscriptions of its location.
            let appointment_of = match appointments.is_empty() {
                true => "NULL".to_owned(),
                false => format!(
                    "CASE o.id {} END",
                    events.iter().filter_map(|e| match e.about {
                        About::Appointment(Some(a)) => Some(format!("WHEN {} THEN {a}", e.outbox_id)),
                        _ => None,
                    }).collect::<Vec<_>>().join(" ")
                ),
            };
            // An appointment's events go to subscriptions of its location and of the whole
            // clinic; events of no location (a patient's) only to the whole clinic's. A
            // subscription an integration made hears nothing once the integration has no
            // live key (revoked or expired): the clinic ended it.
            let owed: Vec<i64> = sqlx::query_scalar(&format!(
                "INSERT INTO webhook_deliveries (subscription_id, outbox_id, next_attempt_at, created_at)
                 SELECT s.id, o.id, $1, $1
                   FROM outbox o
                   JOIN webhook_subscriptions s ON s.clinic_id = o.clinic_id
                   LEFT JOIN appointments a ON a.id = {appointment_of}
                  WHERE o.id IN ({outbox_ids})
                    AND s.disabled_at IS NULL AND s.events LIKE '%,' || o.event_type || ',%' AND s.created_at <= o.created_at
                    AND (s.location_id IS NULL OR s.location_id = a.location_id)
                    AND (s.credential_id IS NULL OR EXISTS (
                          SELECT 1 FROM api_keys k WHERE k.credential_id = s.credential_id
                             AND k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > o.created_at)))
                 RETURNING outbox_id"
            ))
            .bind(stamp).fetch_all(&mut *tx).await?;
            let owed: std::collections::HashSet<i64> = owed.into_iter().collect();

            // The body is written once, the first time anyone is owed it, and never changes:
            // only events someone is owed need their appointment and patient looked up.
            let mut details = std::collections::HashMap::new();
            let mut people = std::collections::HashMap::new();
            if events.iter().any(|e| owed.contains(&e.outbox_id)) {
                if !appointments.is_empty() {
                    for a in sqlx::query(&format!("{APPOINTMENT_DETAILS} WHERE a.id IN ({appointments})")).fetch_all(&mut *tx).await? {
                        details.insert(a.try_get::<i64, _>("id")?, a);
                    }
                    let by_appointment = sqlx::query(&format!(
                        "SELECT a.id AS about, p.id, p.temporary_id, p.registered, p.first_name, p.last_name, p.phone, p.email
                           FROM appointments a JOIN patients p ON p.id = COALESCE(a.participant_id, a.booker_id)
                          WHERE a.id IN ({appointments})"
                    ))
                    .fetch_all(&mut *tx).await?;
                    for p in by_appointment {
                        people.insert((true, p.try_get::<i64, _>("about")?), p);
                    }
                }
                if !patients.is_empty() {
                    let by_id = sqlx::query(&format!(
                        "SELECT id AS about, id, temporary_id, registered, first_name, last_name, phone, email FROM patients WHERE id IN ({patients})"
                    ))
                    .fetch_all(&mut *tx).await?;
                    for p in by_id {
                        people.insert((false, p.try_get::<i64, _>("about")?), p);
                    }
                }
            }
            let mut bodies = Vec::new();
            for mut e in events.into_iter().filter(|e| owed.contains(&e.outbox_id)) {
                let (key, of_appointment) = match e.about {
                    About::Appointment(id) => (id, true),
                    About::Patient(id) => (id, false),
                };
                if let Some(a) = key.filter(|_| of_appointment).and_then(|id| details.get(&id)) {
                    describe_appointment!(pool, a, &mut e.data);
                }
                if let Some(p) = key.and_then(|id| people.get(&(of_appointment, id))) {
                    let registered: bool = p.try_get("registered")?;
                    let id: i64 = p.try_get("id")?;
                    let first: String = p.try_get("first_name")?;
                    let last: String = p.try_get("last_name")?;
                    e.data.insert("patient".into(), json!({
                        "patientId": registered.then(|| id.to_string()),
                        "temporaryPatientId": p.try_get::<Option<String>, _>("temporary_id")?,
                        "name": format!("{first} {last}"),
                        "firstname": first,
                        "lastname": last,
                        "phone": p.try_get::<String, _>("phone")?,
                        "email": p.try_get::<String, _>("email")?,
                    }));
                }
                let body = json!({
                    "id": e.event_id,
                    "type": e.event_type,
                    "createdAt": iso(e.created_at),
                    "clinicId": e.clinic_id.to_string(),
                    "data": e.data,
                });
                bodies.push((e.outbox_id, body.to_string()));
            }
            // Every event of the batch is dispatched; those someone is owed get their body.
            let body_of = match bodies.is_empty() {
                true => "NULL".to_owned(),
                false => format!(
                    "CASE id {} END",
                    bodies.iter().enumerate().map(|(n, (id, _))| format!("WHEN {id} THEN ${}", n + 2)).collect::<Vec<_>>().join(" ")
                ),
            };
            let sql = format!("UPDATE outbox SET dispatched_at = $1, body = {body_of} WHERE id IN ({outbox_ids})");
            let mut update = sqlx::query(&sql).bind(stamp);
            for (_, body) in bodies {
                update = update.bind(body);
            }
            update.execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(rows.len())
        })
    }

    /// Claims up to `limit` due deliveries of enabled subscriptions for one attempt each,
    /// leased until `now + lease`.
    pub async fn claim_deliveries(&self, now: DateTime<Utc>, limit: i64, lease: Duration) -> Result<Vec<DueDelivery>, StoreError> {
        let lock = match self.backend() {
            Backend::Postgres => " FOR UPDATE OF d SKIP LOCKED",
            Backend::Sqlite => "",
        };
        with_pool!(self, pool => {
            // As in `fan_out_events`: nothing due, no write transaction.
            let due: Option<i64> = sqlx::query_scalar("SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1 LIMIT 1")
                .bind(db_time(pool, now)).fetch_optional(pool).await?;
            if due.is_none() {
                return Ok(Vec::new());
            }
            let mut tx = self.delivery_tx(pool).await?;
            let claimed: Vec<(i64, i64)> = sqlx::query_as(&format!(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = $1
                  WHERE id IN (SELECT d.id FROM webhook_deliveries d JOIN webhook_subscriptions s ON s.id = d.subscription_id
                                WHERE d.state = 'pending' AND d.next_attempt_at <= $2 AND s.disabled_at IS NULL
                                ORDER BY d.next_attempt_at, d.id LIMIT $3{lock})
                  RETURNING id, attempts"
            ))
            .bind(db_time(pool, now + lease)).bind(db_time(pool, now)).bind(limit)
            .fetch_all(&mut *tx).await?;
            if claimed.is_empty() {
                tx.commit().await?;
                return Ok(Vec::new());
            }
            let rows = sqlx::query(&format!(
                "SELECT d.id, d.subscription_id, s.url, s.secret, o.event_id, o.event_type, o.created_at, o.body
                   FROM webhook_deliveries d
                   JOIN webhook_subscriptions s ON s.id = d.subscription_id
                   JOIN outbox o ON o.id = d.outbox_id
                  WHERE d.id IN ({})",
                id_list(claimed.iter().map(|(id, _)| *id))
            ))
            .fetch_all(&mut *tx).await?;
            tx.commit().await?;
            rows.iter().map(|row| {
                let delivery_id: i64 = row.try_get("id")?;
                let attempt = claimed.iter().find(|(id, _)| *id == delivery_id).map(|(_, a)| *a).unwrap_or(1);
                let body: Option<String> = row.try_get("body")?;
                Ok(DueDelivery {
                    delivery_id,
                    attempt,
                    subscription_id: row.try_get("subscription_id")?,
                    url: row.try_get("url")?,
                    secret: row.try_get("secret")?,
                    event_id: row.try_get("event_id")?,
                    event_type: row.try_get("event_type")?,
                    event_created_at: row_time(pool, row, "created_at")?,
                    body: body.ok_or_else(|| StoreError::Corrupt(format!("delivery {delivery_id} has no event body")))?,
                })
            }).collect()
        })
    }

    /// Logs an attempt and moves its delivery on. `jitter` in [0, 1] spreads the retry time.
    /// A result for a claim that has since been claimed again is logged but changes nothing.
    pub async fn record_attempt(
        &self,
        due: &DueDelivery,
        result: &AttemptResult,
        now: DateTime<Utc>,
        jitter: f64,
    ) -> Result<AttemptOutcome, StoreError> {
        let outcomes = self.record_attempts(&[Attempted { due, result, at: now, jitter }]).await?;
        outcomes.into_iter().next().ok_or_else(|| StoreError::Corrupt("no outcome for an attempt".into()))
    }

    /// `record_attempt` for several attempts in one write transaction: what the delivery
    /// worker does with the results that came in together, so that a busy queue costs one
    /// commit per batch instead of one per attempt (SQLite has one writer at a time).
    pub async fn record_attempts(&self, attempts: &[Attempted<'_>]) -> Result<Vec<AttemptOutcome>, StoreError> {
        if attempts.is_empty() {
            return Ok(Vec::new());
        }
        with_pool!(self, pool => {
            let mut tx = self.delivery_tx(pool).await?;
            // Rows are locked in one order (subscription, then delivery) whichever instance
            // records: two PostgreSQL instances recording batches for the same subscriptions
            // in different orders deadlock. Outcomes are returned in the order given.
            let mut order: Vec<usize> = (0..attempts.len()).collect();
            order.sort_by_key(|&i| (attempts[i].due.subscription_id, attempts[i].due.delivery_id));
            let mut outcomes = vec![AttemptOutcome::Delivered; attempts.len()];
            let mut counted = Vec::with_capacity(attempts.len());
            for i in order {
                let Attempted { due, result, at: now, jitter } = attempts[i];
                let outcome = delivery::attempt_outcome(result.status);
                let stamp = db_time(pool, now);
                sqlx::query(
                    "INSERT INTO webhook_attempts (delivery_id, attempt, attempted_at, status_code, latency_ms, error)
                     SELECT id, $2, $3, $4, $5, $6 FROM webhook_deliveries WHERE id = $1",
                )
                .bind(due.delivery_id).bind(due.attempt).bind(stamp).bind(result.status.map(i64::from)).bind(result.latency_ms)
                .bind(result.error.as_deref())
                .execute(&mut *tx).await?;
                const CURRENT: &str = "id = $1 AND attempts = $2 AND state = 'pending'";
                let applied = match outcome {
                    AttemptOutcome::Delivered => {
                        counted.push("delivered");
                        let done = sqlx::query(&format!("UPDATE webhook_deliveries SET state = 'delivered', delivered_at = $3 WHERE {CURRENT}"))
                            .bind(due.delivery_id).bind(due.attempt).bind(stamp).execute(&mut *tx).await?;
                        // Only a failing subscription is written: every delivery updating its
                        // subscription's row would make that row every recorder's lock.
                        sqlx::query("UPDATE webhook_subscriptions SET failing_since = NULL WHERE id = $1 AND failing_since IS NOT NULL")
                            .bind(due.subscription_id).execute(&mut *tx).await?;
                        done.rows_affected()
                    }
                    AttemptOutcome::Failed | AttemptOutcome::Gone => {
                        let failed = u32::try_from(due.attempt).unwrap_or(u32::MAX);
                        let retry = match outcome {
                            AttemptOutcome::Failed => delivery::retry_delay(failed).map(|d| now + delivery::with_jitter(d, jitter)),
                            _ => None,
                        };
                        counted.push(match (outcome, retry) {
                            (AttemptOutcome::Gone, _) => "gone",
                            (_, Some(_)) => "retry",
                            _ => "failed",
                        });
                        let moved = match retry {
                            Some(at) => sqlx::query(&format!("UPDATE webhook_deliveries SET next_attempt_at = $3 WHERE {CURRENT}"))
                                .bind(due.delivery_id).bind(due.attempt).bind(db_time(pool, at)).execute(&mut *tx).await?,
                            None => sqlx::query(&format!("UPDATE webhook_deliveries SET state = 'failed' WHERE {CURRENT}"))
                                .bind(due.delivery_id).bind(due.attempt).execute(&mut *tx).await?,
                        };
                        sqlx::query("UPDATE webhook_subscriptions SET failing_since = COALESCE(failing_since, $2) WHERE id = $1")
                            .bind(due.subscription_id).bind(stamp).execute(&mut *tx).await?;
                        let reason = if outcome == AttemptOutcome::Gone {
                            Some("the receiver answered 410 Gone".to_owned())
                        } else {
                            let row = sqlx::query("SELECT failing_since FROM webhook_subscriptions WHERE id = $1")
                                .bind(due.subscription_id).fetch_optional(&mut *tx).await?;
                            let since = match &row { Some(r) => row_time_opt(pool, r, "failing_since")?, None => None };
                            since.filter(|s| delivery::failing_too_long(*s, now)).map(|_| "every attempt failed for 5 days".to_owned())
                        };
                        if let Some(reason) = reason {
                            sqlx::query("UPDATE webhook_subscriptions SET disabled_at = $2, disabled_reason = $3 WHERE id = $1 AND disabled_at IS NULL")
                                .bind(due.subscription_id).bind(stamp).bind(&reason).execute(&mut *tx).await?;
                            sqlx::query("UPDATE webhook_deliveries SET state = 'failed' WHERE subscription_id = $1 AND state = 'pending'")
                                .bind(due.subscription_id).execute(&mut *tx).await?;
                            tracing::warn!(subscription = due.subscription_id, reason, "webhook subscription disabled");
                        }
                        moved.rows_affected()
                    }
                };
                if applied == 0 {
                    tracing::warn!(delivery = due.delivery_id, attempt = due.attempt, "late result of a delivery claimed again; logged only");
                }
                outcomes[i] = outcome;
            }
            tx.commit().await?;
            for outcome in counted {
                self.counters().webhook_attempt(outcome);
            }
            Ok(outcomes)
        })
    }

    /// The most recent attempts of a subscription's deliveries, newest first.
    pub async fn delivery_log(&self, clinic_id: i64, subscription_id: i64, limit: i64) -> Result<Vec<AttemptLog>, StoreError> {
        self.subscription(clinic_id, subscription_id).await?;
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT a.delivery_id, o.event_id, o.event_type, a.attempt, a.attempted_at, a.status_code, a.latency_ms, a.error, d.state
                   FROM webhook_attempts a
                   JOIN webhook_deliveries d ON d.id = a.delivery_id
                   JOIN outbox o ON o.id = d.outbox_id
                  WHERE d.subscription_id = $1
                  ORDER BY a.id DESC LIMIT $2",
            )
            .bind(subscription_id).bind(limit).fetch_all(pool).await?;
            rows.iter().map(|row| Ok(AttemptLog {
                delivery_id: row.try_get("delivery_id")?,
                event_id: row.try_get("event_id")?,
                event_type: row.try_get("event_type")?,
                attempt: row.try_get("attempt")?,
                attempted_at: row_time(pool, row, "attempted_at")?,
                status_code: row.try_get("status_code")?,
                latency_ms: row.try_get("latency_ms")?,
                error: row.try_get("error")?,
                state: row.try_get("state")?,
            })).collect()
        })
    }

    /// Makes a delivery due now for one more attempt with the same event id and body.
    /// Refused for a disabled subscription; another clinic's ids are `NotFound`.
    pub async fn redeliver(&self, clinic_id: i64, subscription_id: i64, delivery_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        let subscription = self.subscription(clinic_id, subscription_id).await?;
        if subscription.disabled_at.is_some() {
            return Err(StoreError::Rule(DomainError::invalid("webhook", "is disabled; create a new subscription")));
        }
        with_pool!(self, pool => {
            let done = sqlx::query(
                "UPDATE webhook_deliveries SET state = 'pending', next_attempt_at = $1 WHERE id = $2 AND subscription_id = $3",
            )
            .bind(db_time(pool, now)).bind(delivery_id).bind(subscription_id)
            .execute(pool).await?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound("delivery"));
            }
            Ok(())
        })
    }
}
