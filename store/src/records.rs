use crate::{with_pool, Store, StoreError};
use chrono_tz::Tz;
use domain::zone::parse_zone;
use domain::ClinicSlug;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClinicRecord {
    pub id: i64,
    pub slug: ClinicSlug,
    pub name: String,
    pub default_locale: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct LocationRecord {
    pub id: i64,
    pub name: String,
    pub address: String,
    pub tz: Tz,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceRecord {
    pub id: i64,
    pub name: String,
    pub duration_minutes: i32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    pub provider_id: i64,
    pub display_name: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProductRecord {
    pub id: i64,
    pub name: String,
    pub duration_minutes: i32,
}

/// What the booking page needs to compute availability at a clinic's main location.
#[derive(Debug, Clone)]
pub struct BookingContext {
    pub clinic: ClinicRecord,
    pub location: LocationRecord,
    pub service: ServiceRecord,
    /// The service's first product.
    pub product: ProductRecord,
    /// Providers with working hours at the location.
    pub providers: Vec<ProviderRecord>,
}

impl Store {
    pub async fn clinic_by_slug(&self, slug: &ClinicSlug) -> Result<ClinicRecord, StoreError> {
        let row: Option<(i64, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, slug, name, default_locale FROM clinics WHERE slug = $1")
                .bind(slug.as_str())
                .fetch_optional(pool)
                .await?
        });
        let (id, slug, name, default_locale) = row.ok_or(StoreError::NotFound("clinic"))?;
        Ok(ClinicRecord { id, slug: ClinicSlug::parse(&slug)?, name, default_locale })
    }

    pub async fn clinic_by_id(&self, id: i64) -> Result<ClinicRecord, StoreError> {
        let row: Option<(i64, String, String, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id, slug, name, default_locale FROM clinics WHERE id = $1").bind(id).fetch_optional(pool).await?
        });
        let (id, slug, name, default_locale) = row.ok_or(StoreError::NotFound("clinic"))?;
        Ok(ClinicRecord { id, slug: ClinicSlug::parse(&slug)?, name, default_locale })
    }

    /// The clinic's first location, its first service and product, and the providers who work
    /// there. Richer selection (service, product, provider) arrives with the booking flow.
    pub async fn booking_context(&self, slug: &ClinicSlug) -> Result<BookingContext, StoreError> {
        let clinic = self.clinic_by_slug(slug).await?;
        let (location, service, product, providers) = with_pool!(self, pool => {
            let location: Option<(i64, String, String, String)> = sqlx::query_as(
                "SELECT id, name, address, time_zone FROM locations WHERE clinic_id = $1 AND archived_at IS NULL ORDER BY id LIMIT 1",
            )
            .bind(clinic.id)
            .fetch_optional(pool)
            .await?;
            let service: Option<(i64, String, i32)> = sqlx::query_as(
                "SELECT id, name, duration_minutes FROM services WHERE clinic_id = $1 AND archived_at IS NULL ORDER BY id LIMIT 1",
            )
            .bind(clinic.id)
            .fetch_optional(pool)
            .await?;
            let product: Option<(i64, String, i32)> = match &service {
                None => None,
                Some((service_id, ..)) => sqlx::query_as(
                    "SELECT id, name, duration_minutes FROM products WHERE service_id = $1 AND archived_at IS NULL ORDER BY id LIMIT 1",
                )
                .bind(*service_id)
                .fetch_optional(pool)
                .await?,
            };
            let providers: Vec<(i64, String)> = match &location {
                None => Vec::new(),
                Some((location_id, ..)) => sqlx::query_as(
                    "SELECT DISTINCT p.id, p.display_name
                       FROM providers p JOIN working_hours w ON w.provider_id = p.id
                      WHERE p.clinic_id = $1 AND w.location_id = $2 AND p.archived_at IS NULL
                      ORDER BY p.id",
                )
                .bind(clinic.id)
                .bind(*location_id)
                .fetch_all(pool)
                .await?,
            };
            (location, service, product, providers)
        });
        let (location_id, location_name, address, zone) = location.ok_or(StoreError::NotFound("location"))?;
        let (service_id, service_name, duration_minutes) = service.ok_or(StoreError::NotFound("service"))?;
        let (product_id, product_name, product_minutes) = product.ok_or(StoreError::NotFound("product"))?;

        let providers = providers
            .into_iter()
            .map(|(provider_id, display_name)| ProviderRecord { provider_id, display_name })
            .collect();
        Ok(BookingContext {
            clinic,
            location: LocationRecord { id: location_id, name: location_name, address, tz: parse_zone(&zone)? },
            service: ServiceRecord { id: service_id, name: service_name, duration_minutes },
            product: ProductRecord { id: product_id, name: product_name, duration_minutes: product_minutes },
            providers,
        })
    }

    pub async fn clinic_settings(&self, clinic_id: i64) -> Result<domain::clinic::ClinicSettings, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT c.minimum_notice_minutes, c.horizon_days, c.cancellation_cutoff_minutes, c.hold_minutes
                   FROM clinics c WHERE c.id = $1",
            )
            .bind(clinic_id).fetch_optional(pool).await?.ok_or(StoreError::NotFound("clinic"))?;
            crate::booking::settings_from_row(&row)
        })
    }

    pub async fn update_clinic_settings(&self, clinic_id: i64, s: &domain::clinic::ClinicSettings) -> Result<(), StoreError> {
        let as_db = |v: u32| i32::try_from(v).map_err(|_| StoreError::Rule(domain::DomainError::invalid("settings", "value too large")));
        let updated = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE clinics SET minimum_notice_minutes = $1, horizon_days = $2, cancellation_cutoff_minutes = $3,
                        hold_minutes = $4 WHERE id = $5",
            )
            .bind(as_db(s.minimum_notice_minutes)?).bind(as_db(s.horizon_days)?)
            .bind(as_db(s.change_cutoff_minutes)?).bind(as_db(s.hold_minutes)?).bind(clinic_id)
            .execute(pool).await?.rows_affected()
        });
        if updated == 0 {
            return Err(StoreError::NotFound("clinic"));
        }
        Ok(())
    }
}
