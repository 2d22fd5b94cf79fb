//! Patients of a clinic. A patient booked by a bot or the widget starts with a temporary id;
//! when the clinic registers them, they get their permanent id and a `patientCreated` event
//! tells subscribers both ids.

use crate::booking::new_event_id;
use crate::time::db_time;
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Utc};
use domain::patient::{PatientField, PersonDetails};
use domain::DomainError;
use rand::RngCore;

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
        let (id,): (i64,) = with_pool!(self, pool => {
            sqlx::query_as(
                "INSERT INTO patients (clinic_id, temporary_id, registered, first_name, last_name, birth_date, phone, email,
                     address, national_id, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
            )
            .bind(clinic_id).bind(&temporary_id).bind(registered)
            .bind(details.first_name.as_ref().map(|n| n.as_str()).unwrap_or_default())
            .bind(details.last_name.as_ref().map(|n| n.as_str()).unwrap_or_default())
            .bind(details.birth_date)
            .bind(details.phone.as_ref().map(|p| p.as_str()).unwrap_or_default())
            .bind(details.email.as_ref().map(|e| e.as_str()).unwrap_or_default())
            .bind(address).bind(text(&details.national_id)).bind(db_time(pool, now))
            .fetch_one(pool).await?
        });
        Ok(PatientRecord { id, temporary_id })
    }

    /// Gives a patient with a temporary id their permanent registration, in one transaction
    /// with the `patientCreated` event. Registering twice is refused.
    pub async fn register_patient(&self, clinic_id: i64, patient_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
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
