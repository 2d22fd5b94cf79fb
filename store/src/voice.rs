//! Voice-bot phone lines: a sipId (the number a call came in on) names one clinic and the
//! voice credential that may act for it. A credential covers exactly the clinics of its lines.

use crate::time::db_time;
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Utc};
use domain::DomainError;

/// Longest sipId accepted.
pub const MAX_SIP_ID: usize = 128;

/// One of a clinic's providers as a caller hears of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: i64,
    pub display_name: String,
    pub title: String,
    pub gender: String,
}

impl Store {
    /// Gives `clinic_id`'s phone line `sip_id` to the voice credential `username`.
    pub async fn add_voice_line(&self, sip_id: &str, clinic_id: i64, username: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        let sip_id = sip_id.trim();
        if sip_id.is_empty() || sip_id.len() > MAX_SIP_ID || sip_id.chars().any(char::is_control) {
            return Err(StoreError::Rule(DomainError::invalid("sipId", format!("must be 1 to {MAX_SIP_ID} printable characters"))));
        }
        with_pool!(self, pool => {
            let found: Option<(i64, bool)> = sqlx::query_as("SELECT id, voice FROM api_credentials WHERE username = $1")
                .bind(username).fetch_optional(pool).await?;
            let (credential_id, voice) = found.ok_or(StoreError::NotFound("credential"))?;
            if !voice {
                return Err(StoreError::Rule(DomainError::invalid("username", "is not a voice credential")));
            }
            let clinic: Option<(i64,)> = sqlx::query_as("SELECT id FROM clinics WHERE id = $1").bind(clinic_id).fetch_optional(pool).await?;
            clinic.ok_or(StoreError::NotFound("clinic"))?;
            let inserted = sqlx::query(
                "INSERT INTO voice_lines (sip_id, clinic_id, credential_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sip_id) DO NOTHING",
            )
            .bind(sip_id).bind(clinic_id).bind(credential_id).bind(db_time(pool, now))
            .execute(pool).await?;
            if inserted.rows_affected() == 0 {
                return Err(StoreError::Rule(DomainError::invalid("sipId", "is already in use")));
            }
            Ok(())
        })
    }

    /// The clinic a voice credential answers `sip_id` for; `None` for another credential's
    /// line or an unknown one alike.
    pub async fn voice_line(&self, credential_id: i64, sip_id: &str) -> Result<Option<i64>, StoreError> {
        with_pool!(self, pool => {
            let found: Option<(i64,)> = sqlx::query_as("SELECT clinic_id FROM voice_lines WHERE sip_id = $1 AND credential_id = $2")
                .bind(sip_id).bind(credential_id).fetch_optional(pool).await?;
            Ok(found.map(|(c,)| c))
        })
    }

    /// Every clinic a voice credential covers.
    pub async fn voice_clinics(&self, credential_id: i64) -> Result<Vec<i64>, StoreError> {
        with_pool!(self, pool => {
            let rows: Vec<(i64,)> = sqlx::query_as("SELECT DISTINCT clinic_id FROM voice_lines WHERE credential_id = $1 ORDER BY clinic_id")
                .bind(credential_id).fetch_all(pool).await?;
            Ok(rows.into_iter().map(|(c,)| c).collect())
        })
    }

    /// A clinic's providers with their title and gender.
    pub async fn agents(&self, clinic_id: i64) -> Result<Vec<Agent>, StoreError> {
        with_pool!(self, pool => {
            let rows: Vec<(i64, String, String, String)> =
                sqlx::query_as("SELECT id, display_name, title, gender FROM providers WHERE clinic_id = $1 AND archived_at IS NULL ORDER BY id")
                    .bind(clinic_id).fetch_all(pool).await?;
            Ok(rows.into_iter().map(|(id, display_name, title, gender)| Agent { id, display_name, title, gender }).collect())
        })
    }
}
