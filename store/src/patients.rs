//! Patients of a clinic. A patient booked by a bot or the widget starts with a temporary id;
//! when the clinic registers them, they get their permanent id and a `patientCreated` event
//! tells subscribers both ids.

use crate::booking::new_event_id;
use crate::time::db_time;
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::appointment::AppointmentStatus;
use domain::patient::{match_key, Email, PatientField, PersonDetails, Phone, PhoneRegion};
use domain::DomainError;
use rand::RngCore;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientRecord {
    pub id: i64,
    /// Present until the patient is registered.
    pub temporary_id: Option<String>,
}

impl Store {
    /// Stores a new patient of `clinic_id`. First and last name are always required; a patient
    /// who is not yet registered gets a temporary id.
    pub async fn create_patient(
        &self,
        clinic_id: i64,
        details: &PersonDetails,
        registered: bool,
        now: DateTime<Utc>,
    ) -> Result<PatientRecord, StoreError> {
        details.require("patient", &[PatientField::FirstName, PatientField::LastName]).map_err(StoreError::Rule)?;
        let temporary_id = (!registered).then(|| {
            let mut bytes = [0u8; 12];
            rand::rng().fill_bytes(&mut bytes);
            format!("tmp_{}", hex::encode(bytes))
        });
        let text = |v: &Option<String>| v.as_deref().map(str::trim).unwrap_or("").to_owned();
        let address = [text(&details.street), text(&details.zip), text(&details.city), text(&details.country)]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let first = details.first_name.as_ref().map(|n| n.as_str()).unwrap_or_default();
        let last = details.last_name.as_ref().map(|n| n.as_str()).unwrap_or_default();
        // Every write takes the writer's turn: a plain insert on a reading connection would wait
        // for SQLite's write lock by sleeping (over a second under a stream of bookings).
        let (id,): (i64,) = with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let row = sqlx::query_as(
                "INSERT INTO patients (clinic_id, temporary_id, registered, first_name, last_name, birth_date, phone, email,
                     address, national_id, created_at, street, zip, city, country, first_key, last_key)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
            )
            .bind(clinic_id).bind(&temporary_id).bind(registered)
            .bind(first)
            .bind(last)
            .bind(details.birth_date)
            .bind(details.phone.as_ref().map(|p| p.as_str()).unwrap_or_default())
            .bind(details.email.as_ref().map(|e| e.as_str()).unwrap_or_default())
            .bind(address).bind(text(&details.national_id)).bind(db_time(pool, now))
            .bind(text(&details.street)).bind(text(&details.zip)).bind(text(&details.city)).bind(text(&details.country))
            .bind(match_key(first)).bind(match_key(last))
            .fetch_one(&mut *tx).await?;
            tx.commit().await?;
            row
        });
        Ok(PatientRecord { id, temporary_id })
    }

    /// Gives a patient with a temporary id their permanent registration, in one transaction
    /// with the `patientCreated` event. Registering twice is refused.
    pub async fn register_patient(&self, clinic_id: i64, patient_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let found: Option<(Option<String>, bool)> =
                sqlx::query_as("SELECT temporary_id, registered FROM patients WHERE id = $1 AND clinic_id = $2")
                    .bind(patient_id).bind(clinic_id).fetch_optional(&mut *tx).await?;
            let (temporary_id, registered) = found.ok_or(StoreError::NotFound("patient"))?;
            if registered {
                return Err(StoreError::Rule(DomainError::invalid("patient", "is already registered")));
            }
            let stamp = db_time(pool, now);
            sqlx::query("UPDATE patients SET registered = TRUE WHERE id = $1").bind(patient_id).execute(&mut *tx).await?;
            let payload = serde_json::json!({
                "patientId": patient_id.to_string(),
                "temporaryPatientId": temporary_id,
                "clinicId": clinic_id.to_string(),
            });
            sqlx::query(crate::booking::INSERT_EVENT)
                .bind(new_event_id()).bind(clinic_id).bind("patientCreated").bind(payload.to_string()).bind(stamp)
                .execute(&mut *tx).await?;
            tx.wrote_event();
            tx.commit().await?;
            Ok(())
        })
    }

    /// The details a product requires of the booker and of the participant.
    pub async fn product_requirements(
        &self,
        clinic_id: i64,
        product_id: i64,
    ) -> Result<(Vec<PatientField>, Vec<PatientField>), StoreError> {
        let found: Option<(String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT booker_fields, participant_fields FROM products WHERE id = $1 AND clinic_id = $2")
                .bind(product_id).bind(clinic_id).fetch_optional(pool).await?
        });
        let (booker, participant) = found.ok_or(StoreError::NotFound("product"))?;
        Ok((PatientField::parse_list(&booker)?, PatientField::parse_list(&participant)?))
    }
}

/// A patient as the APIs show them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatientView {
    pub id: i64,
    pub temporary_id: Option<String>,
    pub registered: bool,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: Option<NaiveDate>,
    /// E.164, or empty.
    pub phone: String,
    pub email: String,
    pub national_id: String,
    /// female, male, diverse, unknown, or empty when never given.
    pub gender: String,
    /// The address as given, in parts (empty when not given).
    pub street: String,
    pub zip: String,
    pub city: String,
    pub country: String,
}

impl PatientView {
    pub fn full_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

/// What a caller knows of a patient; every given part must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PatientQuery {
    /// Full name, either order ("Jürgen Müller" or "Müller Jürgen"); compared by
    /// `domain::patient::match_key`, so case and accents do not matter.
    pub name: Option<String>,
    /// Parts of a name given apart (a voice bot may have only one of them).
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub national_id: Option<String>,
}

/// Most candidates a lookup returns; a caller who gets this many should ask for more detail.
pub const MAX_CANDIDATES: i64 = 20;
/// Most rows a lookup reads before comparing whole names (their parts are on the index).
const SCANNED: i64 = 1000;

const PATIENT_COLUMNS: &str =
    "id, temporary_id, registered, first_name, last_name, birth_date, phone, email, national_id, gender, street, zip, city, country";

fn patient_from_row<R: Row>(row: &R) -> Result<PatientView, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    for<'a> i64: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> bool: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> String: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    for<'a> NaiveDate: sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
{
    Ok(PatientView {
        id: row.try_get("id")?,
        temporary_id: row.try_get("temporary_id")?,
        registered: row.try_get("registered")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        birth_date: row.try_get("birth_date")?,
        phone: row.try_get("phone")?,
        email: row.try_get("email")?,
        national_id: row.try_get("national_id")?,
        gender: row.try_get("gender")?,
        street: row.try_get("street")?,
        zip: row.try_get("zip")?,
        city: row.try_get("city")?,
        country: row.try_get("country")?,
    })
}

impl Store {
    /// The country a phone number typed for `clinic_id` is read in when it has no country
    /// code: that of `location_id` (by its time zone), or without a location the one country
    /// all the clinic's open locations lie in; none when they lie in several.
    pub async fn phone_region(&self, clinic_id: i64, location_id: Option<i64>) -> Result<Option<PhoneRegion>, StoreError> {
        let zones: Vec<(String,)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT time_zone FROM locations
                  WHERE clinic_id = $1 AND ($2 IS NULL OR id = $2) AND ($2 IS NOT NULL OR archived_at IS NULL)",
            )
            .bind(clinic_id).bind(location_id).fetch_all(pool).await?
        });
        let mut regions = zones.iter().map(|(zone,)| PhoneRegion::of_zone(zone));
        let first = regions.next().flatten();
        Ok(if regions.all(|r| r == first) { first } else { None })
    }

    /// The clinic's patients matching every part of `q` that is given. Phone, email, birth
    /// date and national id narrow the search in the database; names are compared here, with
    /// the domain's match key, because accents cannot be folded portably in SQL.
    pub async fn find_patients(&self, clinic_id: i64, q: &PatientQuery) -> Result<Vec<PatientView>, StoreError> {
        let wanted = q.name.as_deref().map(match_key);
        let (wanted_first, wanted_last) = (q.first_name.as_deref().map(match_key), q.last_name.as_deref().map(match_key));
        // The last names the search can be narrowed to, on the index: the one given, or the
        // ends of a whole name split at each space ("Anna Maria Weber": "Maria Weber" or
        // "Weber" in first-last order, "Anna" or "Anna Maria" in last-first order).
        let mut last_keys: Vec<String> = wanted_last.iter().cloned().collect();
        if let (Some(whole), None) = (&wanted, &wanted_last) {
            let words: Vec<&str> = whole.split(' ').filter(|w| !w.is_empty()).collect();
            if words.len() < 2 {
                return Ok(Vec::new()); // a first and a last name are never empty
            }
            for split in 1..words.len() {
                last_keys.push(words[split..].join(" "));
                last_keys.push(words[..split].join(" "));
            }
        }
        let rows: Vec<PatientView> = with_pool!(self, pool => {
            let listed: Vec<String> = (0..last_keys.len()).map(|i| format!("${}", 7 + i)).collect();
            let by_last = if listed.is_empty() { String::new() } else { format!("AND last_key IN ({})", listed.join(", ")) };
            let sql = format!(
                "SELECT {PATIENT_COLUMNS} FROM patients
                  WHERE clinic_id = $1
                    AND ($2 IS NULL OR phone = $2)
                    AND ($3 IS NULL OR lower(email) = lower($3))
                    AND ($4 IS NULL OR birth_date = $4)
                    AND ($5 IS NULL OR national_id = $5)
                    AND ($6 IS NULL OR first_key = $6)
                    {by_last}
                  ORDER BY id LIMIT {SCANNED}"
            );
            let mut query = sqlx::query(&sql)
                .bind(clinic_id)
                .bind(q.phone.as_ref().map(|p| p.as_str().to_owned()))
                .bind(q.email.as_ref().map(|e| e.as_str().to_owned()))
                .bind(q.birth_date)
                .bind(q.national_id.clone())
                .bind(wanted_first.clone());
            for key in &last_keys {
                query = query.bind(key.clone());
            }
            let rows = query.fetch_all(pool).await?;
            rows.iter().map(patient_from_row).collect::<Result<Vec<_>, _>>()?
        });
        Ok(rows
            .into_iter()
            .filter(|p| {
                let (first, last) = (match_key(&p.first_name), match_key(&p.last_name));
                let whole = match &wanted {
                    None => true,
                    Some(w) => *w == format!("{first} {last}") || *w == format!("{last} {first}"),
                };
                whole && wanted_first.as_ref().is_none_or(|f| *f == first) && wanted_last.as_ref().is_none_or(|l| *l == last)
            })
            .take(MAX_CANDIDATES as usize)
            .collect())
    }

    /// Fills the name keys of patients stored before they existed (migration 0016), a batch
    /// per transaction. Running it from several instances at once is harmless.
    pub(crate) async fn fill_name_keys(&self) -> Result<(), StoreError> {
        loop {
            let batch: Vec<(i64, String, String)> = with_pool!(self, pool => {
                sqlx::query_as("SELECT id, first_name, last_name FROM patients WHERE first_key IS NULL OR last_key IS NULL ORDER BY id LIMIT 500")
                    .fetch_all(pool).await?
            });
            if batch.is_empty() {
                return Ok(());
            }
            with_pool!(self, pool => {
                let mut tx = self.write_tx(pool, &[]).await?;
                for (id, first, last) in &batch {
                    sqlx::query("UPDATE patients SET first_key = $1, last_key = $2 WHERE id = $3")
                        .bind(match_key(first)).bind(match_key(last)).bind(id).execute(&mut *tx).await?;
                }
                tx.commit().await?;
            });
        }
    }

    /// Records the gender a caller gave for a patient (see `PatientView::gender`).
    pub async fn set_patient_gender(&self, clinic_id: i64, patient_id: i64, gender: &str) -> Result<(), StoreError> {
        let done = with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let done = sqlx::query("UPDATE patients SET gender = $1 WHERE id = $2 AND clinic_id = $3")
                .bind(gender).bind(patient_id).bind(clinic_id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            done
        });
        if done == 0 {
            return Err(StoreError::NotFound("patient"));
        }
        Ok(())
    }

    /// Removes a patient created for a booking that then failed (the time was taken), so that
    /// a retry does not find a patient who never had an appointment. A patient with any
    /// appointment, or already registered, stays.
    pub async fn forget_unbooked_patient(&self, clinic_id: i64, patient_id: i64) -> Result<bool, StoreError> {
        let removed = with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let removed = sqlx::query(
                "DELETE FROM patients WHERE id = $1 AND clinic_id = $2 AND NOT registered
                    AND NOT EXISTS (SELECT 1 FROM appointments WHERE booker_id = $1 OR participant_id = $1)",
            )
            .bind(patient_id).bind(clinic_id).execute(&mut *tx).await?.rows_affected();
            tx.commit().await?;
            removed
        });
        Ok(removed > 0)
    }

    /// One patient of the clinic, by id or by temporary id.
    pub async fn patient(&self, clinic_id: i64, id: PatientRef<'_>) -> Result<PatientView, StoreError> {
        with_pool!(self, pool => {
            let row = match id {
                PatientRef::Id(id) => sqlx::query(&format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE clinic_id = $1 AND id = $2"))
                    .bind(clinic_id).bind(id).fetch_optional(pool).await?,
                PatientRef::Temporary(t) => sqlx::query(&format!("SELECT {PATIENT_COLUMNS} FROM patients WHERE clinic_id = $1 AND temporary_id = $2"))
                    .bind(clinic_id).bind(t).fetch_optional(pool).await?,
            };
            patient_from_row(&row.ok_or(StoreError::NotFound("patient"))?)
        })
    }

    /// Ids of the appointments a patient books or attends, soonest first, optionally within
    /// `[from, to)` and of one status.
    pub async fn appointments_of_patient(
        &self,
        clinic_id: i64,
        patient_id: i64,
        status: Option<AppointmentStatus>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        limit: i64,
    ) -> Result<Vec<i64>, StoreError> {
        let ids: Vec<(i64,)> = with_pool!(self, pool => {
            sqlx::query_as(
                "SELECT id FROM appointments
                  WHERE clinic_id = $1 AND (booker_id = $2 OR participant_id = $2)
                    AND ($3 IS NULL OR status = $3)
                    AND ($4 IS NULL OR starts_at >= $4)
                    AND ($5 IS NULL OR starts_at < $5)
                  ORDER BY starts_at, id LIMIT $6",
            )
            .bind(clinic_id).bind(patient_id).bind(status.map(|s| s.as_str()))
            .bind(from.map(|t| db_time(pool, t))).bind(to.map(|t| db_time(pool, t))).bind(limit)
            .fetch_all(pool).await?
        });
        Ok(ids.into_iter().map(|(id,)| id).collect())
    }
}

/// How a caller names a patient: the permanent id, or the temporary id of one not yet
/// registered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatientRef<'a> {
    Id(i64),
    Temporary(&'a str),
}

impl<'a> PatientRef<'a> {
    /// A reference written by a person (a path segment, a command-line argument): digits are
    /// an id, anything else a temporary id.
    pub fn parse(raw: &'a str) -> Self {
        match raw.parse::<i64>() {
            Ok(id) => PatientRef::Id(id),
            Err(_) => PatientRef::Temporary(raw),
        }
    }
}
