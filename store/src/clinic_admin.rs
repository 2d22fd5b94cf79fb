//! A clinic's own setup: creating a clinic with its first owner, and its profile and booking
//! settings. Every change is one transaction with its audit row.

use crate::audit::{changes, INSERT_AUDIT};
use crate::booking::{row_lock, settings_from_row};
use crate::catalogue_admin::as_i32;
use crate::credentials::key_digest;
use crate::staff::{new_token, Actor, Invitation, INSERT_INVITATION, INVITATION_LIFETIME};
use crate::time::db_time;
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Utc};
use domain::clinic::ClinicSettings;
use domain::patient::Email;
use domain::staff::ClinicProfile;
use domain::{ClinicSlug, DomainError};
use serde_json::json;
use sqlx::Row;

/// What `server clinic create` asks for.
#[derive(Debug, Clone)]
pub struct NewClinic {
    pub slug: ClinicSlug,
    pub profile: ClinicProfile,
    pub owner_email: Email,
}

/// A clinic as its console shows and edits it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicConfig {
    pub id: i64,
    pub slug: ClinicSlug,
    pub profile: ClinicProfile,
    pub settings: ClinicSettings,
}

/// Inserts a clinic inside the write transaction `$tx`, refusing a slug in use; evaluates to
/// its id.
macro_rules! insert_clinic {
    ($tx:ident, $slug:expr, $profile:expr, $stamp:expr) => {{
        let slug: &ClinicSlug = $slug;
        let profile: &ClinicProfile = $profile;
        let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM clinics WHERE slug = $1").bind(slug.as_str()).fetch_optional(&mut *$tx).await?;
        if taken.is_some() {
            return Err(StoreError::Rule(DomainError::invalid("slug", format!("{:?} is already in use", slug.as_str()))));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO clinics (slug, name, default_locale, time_zone, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(slug.as_str()).bind(&profile.name).bind(&profile.default_locale).bind(&profile.time_zone).bind($stamp)
        .fetch_one(&mut *$tx).await?;
        id
    }};
}

impl Store {
    /// Creates an empty clinic without staff (`server clinic apply` of a new clinic's file
    /// when no owner is named; the demo seed gives it its owner afterwards).
    pub(crate) async fn create_clinic_without_owner(&self, slug: &ClinicSlug, profile: &ClinicProfile, actor: &Actor, now: DateTime<Utc>) -> Result<i64, StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let stamp = db_time(pool, now);
            let clinic_id = insert_clinic!(tx, slug, profile, stamp);
            sqlx::query(INSERT_AUDIT)
                .bind(clinic_id).bind(actor.staff_user_id).bind(&actor.label).bind("clinic.create")
                .bind(json!({ "slug": slug.as_str(), "name": profile.name, "defaultLocale": profile.default_locale, "timeZone": profile.time_zone }).to_string())
                .bind(stamp)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(clinic_id)
        })
    }

    /// Creates an empty clinic (default booking settings, nothing bookable yet) and its owner's
    /// account, and returns the owner's one-time setup link.
    pub async fn create_clinic(&self, new: &NewClinic, now: DateTime<Utc>) -> Result<(i64, Invitation), StoreError> {
        let token = new_token();
        let email = new.owner_email.as_str().to_lowercase();
        let expires_at = now + INVITATION_LIFETIME;
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let email_taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM staff_users WHERE email = $1")
                .bind(&email).fetch_optional(&mut *tx).await?;
            if email_taken.is_some() {
                return Err(StoreError::Rule(DomainError::invalid("ownerEmail", "already has a staff account")));
            }
            let stamp = db_time(pool, now);
            let clinic_id = insert_clinic!(tx, &new.slug, &new.profile, stamp);
            let (user_id,): (i64,) = sqlx::query_as(
                "INSERT INTO staff_users (clinic_id, email, role, locale, created_at) VALUES ($1, $2, 'owner', $3, $4) RETURNING id",
            )
            .bind(clinic_id).bind(&email).bind(&new.profile.default_locale).bind(stamp)
            .fetch_one(&mut *tx).await?;
            sqlx::query(INSERT_INVITATION)
                .bind(key_digest(&token)).bind(user_id).bind(stamp).bind(db_time(pool, expires_at))
                .execute(&mut *tx).await?;
            let actor = Actor::cli();
            sqlx::query(INSERT_AUDIT)
                .bind(clinic_id).bind(actor.staff_user_id).bind(&actor.label).bind("clinic.create")
                .bind(json!({
                    "slug": new.slug.as_str(), "name": new.profile.name, "defaultLocale": new.profile.default_locale,
                    "timeZone": new.profile.time_zone, "owner": email,
                }).to_string())
                .bind(stamp)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok((clinic_id, Invitation { token, staff_user_id: user_id, email, expires_at }))
        })
    }

    pub async fn clinic_config(&self, clinic_id: i64) -> Result<ClinicConfig, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT c.id, c.slug, c.name, c.default_locale, c.time_zone,
                        c.minimum_notice_minutes, c.horizon_days, c.cancellation_cutoff_minutes, c.hold_minutes
                   FROM clinics c WHERE c.id = $1",
            )
            .bind(clinic_id).fetch_optional(pool).await?.ok_or(StoreError::NotFound("clinic"))?;
            let slug: String = row.try_get("slug")?;
            Ok(ClinicConfig {
                id: row.try_get("id")?,
                slug: ClinicSlug::parse(&slug)?,
                profile: ClinicProfile {
                    name: row.try_get("name")?,
                    default_locale: row.try_get("default_locale")?,
                    time_zone: row.try_get("time_zone")?,
                },
                settings: settings_from_row(&row)?,
            })
        })
    }

    /// Saves a clinic's profile and booking settings, recording what changed. Saving the same
    /// values again writes nothing, not even an audit row.
    pub async fn update_clinic(
        &self,
        clinic_id: i64,
        actor: &Actor,
        profile: &ClinicProfile,
        settings: &ClinicSettings,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        with_pool!(self, pool => {
            // The old values are read under the write lock, so that two people saving at once
            // each record what they really changed.
            let mut tx = self.write_tx(pool, &[]).await?;
            let sql = format!(
                "SELECT c.name, c.default_locale, c.time_zone,
                        c.minimum_notice_minutes, c.horizon_days, c.cancellation_cutoff_minutes, c.hold_minutes
                   FROM clinics c WHERE c.id = $1{}",
                row_lock(pool)
            );
            let row = sqlx::query(&sql)
            .bind(clinic_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("clinic"))?;
            let s = settings_from_row(&row)?;
            let (name, locale, zone): (String, String, String) =
                (row.try_get("name")?, row.try_get("default_locale")?, row.try_get("time_zone")?);
            let diff = changes(&[
                ("name", json!(name), json!(profile.name)),
                ("defaultLocale", json!(locale), json!(profile.default_locale)),
                ("timeZone", json!(zone), json!(profile.time_zone)),
                ("minimumNoticeMinutes", json!(s.minimum_notice_minutes), json!(settings.minimum_notice_minutes)),
                ("horizonDays", json!(s.horizon_days), json!(settings.horizon_days)),
                ("changeCutoffMinutes", json!(s.change_cutoff_minutes), json!(settings.change_cutoff_minutes)),
                ("holdMinutes", json!(s.hold_minutes), json!(settings.hold_minutes)),
            ]);
            if diff.is_empty() {
                return Ok(false);
            }
            sqlx::query(
                "UPDATE clinics SET name = $1, default_locale = $2, time_zone = $3, minimum_notice_minutes = $4,
                        horizon_days = $5, cancellation_cutoff_minutes = $6, hold_minutes = $7
                  WHERE id = $8",
            )
            .bind(&profile.name).bind(&profile.default_locale).bind(&profile.time_zone)
            .bind(as_i32(settings.minimum_notice_minutes)).bind(as_i32(settings.horizon_days))
            .bind(as_i32(settings.change_cutoff_minutes)).bind(as_i32(settings.hold_minutes)).bind(clinic_id)
            .execute(&mut *tx).await?;
            sqlx::query(INSERT_AUDIT)
                .bind(clinic_id).bind(actor.staff_user_id).bind(&actor.label).bind("clinic.update")
                .bind(serde_json::Value::Object(diff).to_string()).bind(db_time(pool, now))
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        })
    }

    /// How many locations, providers and services a clinic has.
    pub async fn clinic_counts(&self, clinic_id: i64) -> Result<(i64, i64, i64), StoreError> {
        with_pool!(self, pool => {
            let counts: (i64, i64, i64) = sqlx::query_as(
                "SELECT (SELECT COUNT(*) FROM locations WHERE clinic_id = $1 AND archived_at IS NULL),
                        (SELECT COUNT(*) FROM providers WHERE clinic_id = $1 AND archived_at IS NULL),
                        (SELECT COUNT(*) FROM services WHERE clinic_id = $1 AND archived_at IS NULL)",
            )
            .bind(clinic_id).fetch_one(pool).await?;
            Ok(counts)
        })
    }

    /// The slug of the only clinic, when the deployment has exactly one.
    pub async fn only_clinic(&self) -> Result<Option<ClinicSlug>, StoreError> {
        let rows: Vec<(String,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT slug FROM clinics ORDER BY id LIMIT 2").fetch_all(pool).await?
        });
        match rows.as_slice() {
            [(slug,)] => Ok(Some(ClinicSlug::parse(slug)?)),
            _ => Ok(None),
        }
    }
}
