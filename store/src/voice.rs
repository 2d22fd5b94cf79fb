//! Voice-bot phone lines: a sipId (the number a call came in on) names one clinic and the
//! voice credential that may act for it. A credential covers exactly the clinics of its lines.

use crate::audit::insert_audit;
use crate::staff::Actor;
use crate::time::{db_time, row_time};
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Utc};
use domain::DomainError;
use serde_json::json;
use sqlx::Row;

/// Longest sipId accepted.
pub const MAX_SIP_ID: usize = 128;

/// A clinic's phone line and the voice credential that answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoiceLine {
    pub sip_id: String,
    pub username: String,
    pub created_at: DateTime<Utc>,
}

/// One of a clinic's providers as a caller hears of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub id: i64,
    pub display_name: String,
    pub title: String,
    pub gender: String,
}

impl Store {
    /// Gives `clinic_id`'s phone line `sip_id` to the voice credential `username`, from the
    /// command line: the operator may give it to a vendor's credential of any clinic.
    pub async fn add_voice_line(&self, sip_id: &str, clinic_id: i64, username: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.give_line(&Actor::cli(), clinic_id, sip_id, username, false, now).await
    }

    /// Gives a line of the clinic to one of the clinic's own voice credentials (the console:
    /// staff see and choose only their clinic's users).
    pub async fn add_voice_line_as(&self, actor: &Actor, clinic_id: i64, sip_id: &str, username: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        self.give_line(actor, clinic_id, sip_id, username, true, now).await
    }

    async fn give_line(&self, actor: &Actor, clinic_id: i64, sip_id: &str, username: &str, own_only: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        let sip_id = sip_id.trim();
        if sip_id.is_empty() || sip_id.len() > MAX_SIP_ID || sip_id.chars().any(char::is_control) {
            return Err(StoreError::Rule(DomainError::invalid("sipId", format!("must be 1 to {MAX_SIP_ID} printable characters"))));
        }
        let username = username.trim();
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let found: Option<(i64, bool, i64)> = sqlx::query_as("SELECT id, voice, clinic_id FROM api_credentials WHERE username = $1")
                .bind(username).fetch_optional(&mut *tx).await?;
            let (credential_id, voice, owner) = found.ok_or(StoreError::NotFound("credential"))?;
            if own_only && owner != clinic_id {
                return Err(StoreError::NotFound("credential"));
            }
            if !voice {
                return Err(StoreError::Rule(DomainError::invalid("username", "is not a voice credential")));
            }
            let clinic: Option<(i64,)> = sqlx::query_as("SELECT id FROM clinics WHERE id = $1").bind(clinic_id).fetch_optional(&mut *tx).await?;
            clinic.ok_or(StoreError::NotFound("clinic"))?;
            let inserted = sqlx::query(
                "INSERT INTO voice_lines (sip_id, clinic_id, credential_id, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (sip_id) DO NOTHING",
            )
            .bind(sip_id).bind(clinic_id).bind(credential_id).bind(db_time(pool, now))
            .execute(&mut *tx).await?;
            if inserted.rows_affected() == 0 {
                return Err(StoreError::Rule(DomainError::invalid("sipId", "is already in use")));
            }
            insert_audit!(tx, pool, clinic_id, actor, "voiceLine.add", json!({ "sipId": sip_id, "username": username }).to_string(), now);
            tx.commit().await?;
            Ok(())
        })
    }

    /// A clinic's phone lines with the voice credential answering each, by sipId.
    pub async fn voice_lines_of(&self, clinic_id: i64) -> Result<Vec<VoiceLine>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT v.sip_id, c.username, v.created_at FROM voice_lines v JOIN api_credentials c ON c.id = v.credential_id
                  WHERE v.clinic_id = $1 ORDER BY v.sip_id",
            )
            .bind(clinic_id).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    Ok(VoiceLine {
                        sip_id: row.try_get("sip_id")?,
                        username: row.try_get("username")?,
                        created_at: row_time(pool, row, "created_at")?,
                    })
                })
                .collect()
        })
    }

    /// Takes a line away from its voice credential: calls to it are no longer answered.
    pub async fn remove_voice_line(&self, actor: &Actor, clinic_id: i64, sip_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let removed = sqlx::query("DELETE FROM voice_lines WHERE sip_id = $1 AND clinic_id = $2").bind(sip_id.trim()).bind(clinic_id).execute(&mut *tx).await?;
            if removed.rows_affected() == 0 {
                return Err(StoreError::NotFound("phone line"));
            }
            insert_audit!(tx, pool, clinic_id, actor, "voiceLine.remove", json!({ "sipId": sip_id.trim() }).to_string(), now);
            tx.commit().await?;
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
