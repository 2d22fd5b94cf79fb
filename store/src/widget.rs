//! What the patient widget reads: a clinic's catalogue (locations, services, products, who
//! offers them), a live hold, one appointment with its names, and the clinic's embedding
//! origins. Writes still go through the booking engine in `booking.rs`.

use crate::records::{ClinicRecord, LocationRecord};
use crate::time::{db_time, row_time};
use crate::{with_pool, Booked, Reschedule, Store, StoreError};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::appointment::{AppointmentStatus, BookingSource};
use domain::zone::parse_zone;
use domain::{ClinicSlug, DomainError, SlotId};
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceOption {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductOption {
    pub id: i64,
    pub service_id: i64,
    pub name: String,
    pub description: String,
    pub duration_minutes: i32,
    pub price_cents: i64,
}

/// A provider offering a service at a location (they have working hours there).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub provider_id: i64,
    pub display_name: String,
    pub specialty: String,
    pub location_id: i64,
    pub service_id: i64,
}

/// Everything a patient can choose from at one clinic.
#[derive(Debug, Clone)]
pub struct Catalogue {
    pub clinic: ClinicRecord,
    pub locations: Vec<LocationRecord>,
    pub services: Vec<ServiceOption>,
    pub products: Vec<ProductOption>,
    pub offers: Vec<Offer>,
    /// The clinic's booking rules (notice, horizon, cutoff, hold length).
    pub settings: domain::clinic::ClinicSettings,
    /// The websites that may embed the clinic's pages.
    pub embed_origins: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldView {
    pub token: String,
    pub slot: SlotId,
    pub expires_at: DateTime<Utc>,
}

/// One appointment with the names a patient recognises.
#[derive(Debug, Clone, PartialEq)]
pub struct AppointmentView {
    pub id: i64,
    pub clinic: ClinicRecord,
    pub location_id: i64,
    pub location_name: String,
    pub address: String,
    pub tz: Tz,
    pub service_id: i64,
    pub service_name: String,
    pub product_id: Option<i64>,
    pub product_name: Option<String>,
    pub provider_id: i64,
    pub provider_name: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub status: AppointmentStatus,
    pub token_number: Option<i32>,
    /// Order of arrival, from check-in on.
    pub queue_number: Option<i32>,
    pub booker_id: Option<i64>,
    /// First and last name of the person who attends.
    pub attendee: Option<(String, String)>,
    pub cancellation_reason: Option<String>,
    /// The clinic's change cutoff in minutes (cancel and reschedule).
    pub change_cutoff_minutes: i32,
    /// How often it was moved or cancelled: its calendar file's SEQUENCE.
    pub changes: u32,
}

/// Websites a clinic may embed its widget on.
pub const MAX_EMBED_ORIGINS: usize = 20;

impl Store {
    /// The catalogue of the clinic at `slug`, from memory when this process has seen the slug
    /// since the clinic last changed (the clinic's marks forget both), else read.
    pub async fn catalogue(&self, slug: &ClinicSlug) -> Result<std::sync::Arc<Catalogue>, StoreError> {
        if let Some(id) = self.calendars.clinic_at(slug.as_str()) {
            let kept = self.cached_catalogue(id).await?;
            if kept.clinic.slug == *slug {
                return Ok(kept);
            }
        }
        let clinic = self.clinic_by_slug(slug).await?;
        let kept = self.cached_catalogue(clinic.id).await?;
        // The slug was just read; a catalogue kept from before a rename is read afresh.
        if kept.clinic == clinic {
            self.calendars.note_slug(slug.as_str(), clinic.id, &kept);
            return Ok(kept);
        }
        Ok(std::sync::Arc::new(self.catalogue_of(clinic).await?))
    }

    /// The catalogue of a clinic already read (the bot API knows its caller's clinic by id).
    pub async fn catalogue_of(&self, clinic: ClinicRecord) -> Result<Catalogue, StoreError> {
        let settings = self.clinic_settings(clinic.id).await?;
        let embed_origins = self.embed_origins(clinic.id).await?;
        let (locations, services, products, offers) = with_pool!(self, pool => {
            let locations: Vec<(i64, String, String, String)> = sqlx::query_as(
                "SELECT id, name, address, time_zone FROM locations WHERE clinic_id = $1 AND archived_at IS NULL ORDER BY id",
            )
            .bind(clinic.id).fetch_all(pool).await?;
            let services: Vec<(i64, String)> =
                sqlx::query_as("SELECT id, name FROM services WHERE clinic_id = $1 AND archived_at IS NULL ORDER BY id")
                    .bind(clinic.id).fetch_all(pool).await?;
            let products: Vec<(i64, i64, String, String, i32, i64)> = sqlx::query_as(
                "SELECT p.id, p.service_id, p.name, p.description, p.duration_minutes, CAST(p.price_cents AS BIGINT)
                   FROM products p JOIN services s ON s.id = p.service_id AND s.archived_at IS NULL
                  WHERE p.clinic_id = $1 AND p.archived_at IS NULL ORDER BY p.id",
            )
            .bind(clinic.id).fetch_all(pool).await?;
            let offers: Vec<(i64, String, String, i64, i64)> = sqlx::query_as(
                "SELECT DISTINCT p.id, p.display_name, p.specialty, w.location_id, ps.service_id
                   FROM providers p
                   JOIN provider_services ps ON ps.provider_id = p.id
                   JOIN services s ON s.id = ps.service_id AND s.archived_at IS NULL
                   JOIN working_hours w ON w.provider_id = p.id
                   JOIN locations l ON l.id = w.location_id AND l.archived_at IS NULL
                  WHERE p.clinic_id = $1 AND p.archived_at IS NULL
                  ORDER BY p.id, w.location_id, ps.service_id",
            )
            .bind(clinic.id).fetch_all(pool).await?;
            (locations, services, products, offers)
        });
        let locations = locations
            .into_iter()
            .map(|(id, name, address, zone)| Ok(LocationRecord { id, name, address, tz: parse_zone(&zone)? }))
            .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Catalogue {
            clinic,
            locations,
            services: services.into_iter().map(|(id, name)| ServiceOption { id, name }).collect(),
            products: products
                .into_iter()
                .map(|(id, service_id, name, description, duration_minutes, price_cents)| ProductOption {
                    id,
                    service_id,
                    name,
                    description,
                    duration_minutes,
                    price_cents,
                })
                .collect(),
            offers: offers
                .into_iter()
                .map(|(provider_id, display_name, specialty, location_id, service_id)| Offer {
                    provider_id,
                    display_name,
                    specialty,
                    location_id,
                    service_id,
                })
                .collect(),
            settings,
            embed_origins,
        })
    }

    /// A hold of `clinic_id` that has not expired at `now`; anything else is `NotFound`.
    pub async fn live_hold(&self, clinic_id: i64, token: &str, now: DateTime<Utc>) -> Result<HoldView, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT provider_id, product_id, location_id, starts_at, ends_at, expires_at
                   FROM holds WHERE token = $1 AND clinic_id = $2 AND expires_at > $3 AND location_id IS NOT NULL",
            )
            .bind(token).bind(clinic_id).bind(db_time(pool, now))
            .fetch_optional(pool).await?.ok_or(StoreError::NotFound("hold"))?;
            let start = row_time(pool, &row, "starts_at")?;
            let end = row_time(pool, &row, "ends_at")?;
            let minutes = u16::try_from((end - start).num_minutes())
                .map_err(|_| StoreError::Corrupt(format!("hold {token} lasts {} minutes", (end - start).num_minutes())))?;
            Ok(HoldView {
                token: token.to_owned(),
                slot: SlotId {
                    provider_id: row.try_get("provider_id")?,
                    location_id: row.try_get("location_id")?,
                    product_id: row.try_get("product_id")?,
                    start,
                    minutes,
                },
                expires_at: row_time(pool, &row, "expires_at")?,
            })
        })
    }

    pub async fn appointment_view(&self, appointment_id: i64) -> Result<AppointmentView, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT a.id, a.location_id, a.service_id, a.product_id, a.provider_id, a.starts_at, a.ends_at,
                        a.time_zone, a.status, a.token_number, a.queue_number, a.booker_id, a.cancellation_reason,
                        c.id AS clinic_id, c.slug, c.name AS clinic_name, c.default_locale, c.cancellation_cutoff_minutes,
                        l.name AS location_name, l.address, s.name AS service_name, pr.name AS product_name,
                        p.display_name, pa.first_name, pa.last_name,
                        (SELECT COUNT(*) FROM appointment_changes h WHERE h.appointment_id = a.id AND h.kind IN ('rescheduled', 'cancelled')) AS changes
                   FROM appointments a
                   JOIN clinics c ON c.id = a.clinic_id
                   JOIN locations l ON l.id = a.location_id
                   JOIN services s ON s.id = a.service_id
                   JOIN providers p ON p.id = a.provider_id
                   LEFT JOIN products pr ON pr.id = a.product_id
                   LEFT JOIN patients pa ON pa.id = COALESCE(a.participant_id, a.booker_id)
                  WHERE a.id = $1",
            )
            .bind(appointment_id)
            .fetch_optional(pool).await?.ok_or(StoreError::NotFound("appointment"))?;
            let first: Option<String> = row.try_get("first_name")?;
            let last: Option<String> = row.try_get("last_name")?;
            Ok(AppointmentView {
                id: row.try_get("id")?,
                clinic: ClinicRecord {
                    id: row.try_get("clinic_id")?,
                    slug: ClinicSlug::parse(&row.try_get::<String, _>("slug")?)?,
                    name: row.try_get("clinic_name")?,
                    default_locale: row.try_get("default_locale")?,
                },
                location_id: row.try_get("location_id")?,
                location_name: row.try_get("location_name")?,
                address: row.try_get("address")?,
                tz: parse_zone(&row.try_get::<String, _>("time_zone")?)?,
                service_id: row.try_get("service_id")?,
                service_name: row.try_get("service_name")?,
                product_id: row.try_get("product_id")?,
                product_name: row.try_get("product_name")?,
                provider_id: row.try_get("provider_id")?,
                provider_name: row.try_get("display_name")?,
                start: row_time(pool, &row, "starts_at")?,
                end: row_time(pool, &row, "ends_at")?,
                status: AppointmentStatus::parse(&row.try_get::<String, _>("status")?)?,
                token_number: row.try_get("token_number")?,
                queue_number: row.try_get("queue_number")?,
                booker_id: row.try_get("booker_id")?,
                attendee: first.zip(last),
                cancellation_reason: row.try_get("cancellation_reason")?,
                change_cutoff_minutes: row.try_get("cancellation_cutoff_minutes")?,
                changes: u32::try_from(row.try_get::<i64, _>("changes")?).unwrap_or(u32::MAX),
            })
        })
    }

    /// Moves an appointment to a slot a client was shown, after checking against current
    /// availability that the slot is still offered exactly as encoded (working hours,
    /// notice, horizon, blocks), like `book_slot` does for new bookings.
    pub async fn reschedule_to_slot(
        &self,
        clinic_id: i64,
        appointment_id: i64,
        slot: SlotId,
        source: BookingSource,
        now: DateTime<Utc>,
    ) -> Result<Booked, StoreError> {
        let current = self.appointment_view(appointment_id).await?;
        if current.clinic.id != clinic_id {
            return Err(StoreError::NotFound("appointment"));
        }
        if current.product_id.is_some_and(|p| p != slot.product_id) || current.location_id != slot.location_id {
            return Err(StoreError::Rule(DomainError::invalid(
                "slotId",
                "a reschedule keeps the appointment's location and product",
            )));
        }
        if !self.availability_around(clinic_id, &slot, false, now).await?.offers(&slot) {
            return Err(StoreError::SlotUnavailable);
        }
        self.reschedule_appointment(&Reschedule {
            clinic_id,
            appointment_id,
            provider_id: Some(slot.provider_id),
            start: slot.start,
            end: slot.end(),
            source,
            now,
        })
        .await
    }

    /// The origins allowed to embed the clinic's widget.
    pub async fn embed_origins(&self, clinic_id: i64) -> Result<Vec<String>, StoreError> {
        let found: Option<(String,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT embed_origins FROM clinics WHERE id = $1").bind(clinic_id).fetch_optional(pool).await?
        });
        let (raw,) = found.ok_or(StoreError::NotFound("clinic"))?;
        Ok(raw.lines().map(str::trim).filter(|l| !l.is_empty()).map(str::to_owned).collect())
    }

    /// Replaces the clinic's embedding origins. Each must be a bare web origin
    /// (`https://host[:port]`, or `http://` for local testing); anything else is refused.
    pub async fn set_embed_origins(&self, slug: &ClinicSlug, origins: &[String], now: DateTime<Utc>) -> Result<Vec<String>, StoreError> {
        let clinic = self.clinic_by_slug(slug).await?;
        self.save_embed_origins(&crate::staff::Actor::cli(), clinic.id, origins, now).await
    }

    /// Replaces the embedding origins as `set_embed_origins` does, recording who changed what;
    /// duplicates are dropped, at most `MAX_EMBED_ORIGINS` are kept.
    pub async fn save_embed_origins(
        &self,
        actor: &crate::staff::Actor,
        clinic_id: i64,
        origins: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        let mut clean: Vec<String> = Vec::new();
        for origin in origins.iter().map(|o| o.trim()).filter(|o| !o.is_empty()) {
            let parsed = domain::clinic::parse_origin(origin).map_err(StoreError::Rule)?;
            if !clean.contains(&parsed) {
                clean.push(parsed);
            }
        }
        if clean.len() > MAX_EMBED_ORIGINS {
            return Err(StoreError::Rule(domain::DomainError::invalid("origin", format!("at most {MAX_EMBED_ORIGINS} websites"))));
        }
        with_pool!(self, pool => {
            // Read under the write lock: the audit row records what this change replaced.
            let mut tx = self.write_tx(pool, &[]).await?;
            let found: Option<(String,)> = sqlx::query_as("SELECT embed_origins FROM clinics WHERE id = $1")
                .bind(clinic_id).fetch_optional(&mut *tx).await?;
            let old: Vec<String> = found.ok_or(StoreError::NotFound("clinic"))?.0.lines().map(str::trim)
                .filter(|l| !l.is_empty()).map(str::to_owned).collect();
            if old == clean {
                return Ok(clean);
            }
            sqlx::query("UPDATE clinics SET embed_origins = $1 WHERE id = $2")
                .bind(clean.join("\n")).bind(clinic_id).execute(&mut *tx).await?;
            sqlx::query(crate::audit::INSERT_AUDIT)
                .bind(clinic_id).bind(actor.staff_user_id).bind(&actor.label).bind("clinic.embed_origins")
                .bind(serde_json::json!({ "embedOrigins": { "from": old, "to": clean } }).to_string())
                .bind(db_time(pool, now))
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(clean)
        })
    }

    /// The random 32-byte secret called `name`, created on first use. Every server instance
    /// sharing the database reads the same value.
    pub async fn server_secret(&self, name: &str, now: DateTime<Utc>) -> Result<[u8; 32], StoreError> {
        use rand::RngCore;
        let mut fresh = [0u8; 32];
        rand::rng().fill_bytes(&mut fresh);
        let (value,): (String,) = with_pool!(self, pool => {
            sqlx::query("INSERT INTO server_secrets (name, value, created_at) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING")
                .bind(name).bind(hex::encode(fresh)).bind(db_time(pool, now)).execute(pool).await?;
            sqlx::query_as("SELECT value FROM server_secrets WHERE name = $1").bind(name).fetch_one(pool).await?
        });
        let bytes = hex::decode(&value).map_err(|_| StoreError::Corrupt(format!("secret {name} is not hex")))?;
        bytes.try_into().map_err(|_| StoreError::Corrupt(format!("secret {name} is not 32 bytes")))
    }
}
