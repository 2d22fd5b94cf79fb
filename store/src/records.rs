use crate::time::{db_time, row_time};
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use domain::zone::parse_zone;
use domain::{ClinicSlug, Interval, LocalTime, WeeklyInterval};
use sqlx::Row;

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

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSchedule {
    pub provider_id: i64,
    pub display_name: String,
    pub hours: Vec<WeeklyInterval>,
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
    pub providers: Vec<ProviderSchedule>,
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

    /// The clinic's first location and first service with every provider's weekly hours
    /// there. Richer selection (service, product, provider) arrives with the booking flow.
    pub async fn booking_context(&self, slug: &ClinicSlug) -> Result<BookingContext, StoreError> {
        let clinic = self.clinic_by_slug(slug).await?;
        let (location, service, product, hour_rows) = with_pool!(self, pool => {
            let location: Option<(i64, String, String, String)> = sqlx::query_as(
                "SELECT id, name, address, time_zone FROM locations WHERE clinic_id = $1 ORDER BY id LIMIT 1",
            )
            .bind(clinic.id)
            .fetch_optional(pool)
            .await?;
            let service: Option<(i64, String, i32)> = sqlx::query_as(
                "SELECT id, name, duration_minutes FROM services WHERE clinic_id = $1 ORDER BY id LIMIT 1",
            )
            .bind(clinic.id)
            .fetch_optional(pool)
            .await?;
            let product: Option<(i64, String, i32)> = match &service {
                None => None,
                Some((service_id, ..)) => sqlx::query_as(
                    "SELECT id, name, duration_minutes FROM products WHERE service_id = $1 ORDER BY id LIMIT 1",
                )
                .bind(*service_id)
                .fetch_optional(pool)
                .await?,
            };
            let hours: Vec<(i64, String, i32, String, String)> = match &location {
                None => Vec::new(),
                Some((location_id, ..)) => sqlx::query_as(
                    "SELECT p.id, p.display_name, w.weekday, w.starts_at, w.ends_at
                       FROM providers p JOIN working_hours w ON w.provider_id = p.id
                      WHERE p.clinic_id = $1 AND w.location_id = $2
                      ORDER BY p.id, w.weekday, w.starts_at",
                )
                .bind(clinic.id)
                .bind(*location_id)
                .fetch_all(pool)
                .await?,
            };
            (location, service, product, hours)
        });
        let (location_id, location_name, address, zone) = location.ok_or(StoreError::NotFound("location"))?;
        let (service_id, service_name, duration_minutes) = service.ok_or(StoreError::NotFound("service"))?;
        let (product_id, product_name, product_minutes) = product.ok_or(StoreError::NotFound("product"))?;

        let mut providers: Vec<ProviderSchedule> = Vec::new();
        for (provider_id, display_name, weekday, starts, ends) in hour_rows {
            let interval = WeeklyInterval::new(
                WeeklyInterval::weekday_from_iso(i64::from(weekday))?,
                LocalTime::parse(&starts)?,
                LocalTime::parse(&ends)?,
            )?;
            match providers.last_mut() {
                Some(p) if p.provider_id == provider_id => p.hours.push(interval),
                _ => providers.push(ProviderSchedule { provider_id, display_name, hours: vec![interval] }),
            }
        }
        Ok(BookingContext {
            clinic,
            location: LocationRecord { id: location_id, name: location_name, address, tz: parse_zone(&zone)? },
            service: ServiceRecord { id: service_id, name: service_name, duration_minutes },
            product: ProductRecord { id: product_id, name: product_name, duration_minutes: product_minutes },
            providers,
        })
    }

    /// Active appointments of the clinic's providers that overlap `[from, to)`, as
    /// `(provider_id, interval)`.
    pub async fn busy_between(
        &self,
        clinic_id: i64,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(i64, Interval)>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT provider_id, starts_at, ends_at FROM appointments
                  WHERE clinic_id = $1 AND status NOT IN ('cancelled', 'no_show')
                    AND starts_at < $3 AND ends_at > $2
                  ORDER BY provider_id, starts_at",
            )
            .bind(clinic_id)
            .bind(db_time(pool, from))
            .bind(db_time(pool, to))
            .fetch_all(pool)
            .await?;
            rows.iter()
                .map(|row| {
                    let provider: i64 = row.try_get("provider_id")?;
                    let start = row_time(pool, row, "starts_at")?;
                    let end = row_time(pool, row, "ends_at")?;
                    let interval = Interval::new(start, end)
                        .ok_or_else(|| StoreError::Corrupt(format!("appointment of provider {provider} ends before it starts")))?;
                    Ok((provider, interval))
                })
                .collect()
        })
    }
}
