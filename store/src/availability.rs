//! Availability as every client sees it: the store gathers a clinic's settings, the product's
//! rules and each provider's calendar, and the domain engine cuts the slots. The widget, the
//! bot API and the voice bot all call `Store::availability`; there is no second copy.

use crate::time::{db_time, row_time};
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::availability::{provider_slots, DateException, ProviderCalendar, SlotQuery, SlotRules, WeeklyRule};
use domain::zone::{parse_zone, start_of_day};
use domain::{DomainError, Interval, LocalTime, SlotId, WeeklyInterval};
use sqlx::Row;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct AvailabilityRequest {
    pub clinic_id: i64,
    pub location_id: i64,
    pub product_id: i64,
    /// `None`: every provider who offers the product's service at the location.
    pub provider_id: Option<i64>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// New patients may need longer (the product's `new_patient_minutes`).
    pub new_patient: bool,
    pub now: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Slot {
    pub id: SlotId,
    pub interval: Interval,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProviderAvailability {
    pub provider_id: i64,
    pub display_name: String,
    pub slots: Vec<Slot>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Availability {
    pub tz: Tz,
    pub service_id: i64,
    pub duration_minutes: i32,
    /// The product's usual length, what times for any patient are shown with.
    pub usual_minutes: i32,
    pub providers: Vec<ProviderAvailability>,
}

/// What the slot engine needs of a product and its clinic; `PRODUCT_RULES` selects it (`p` is
/// the product, `c` the clinic), followed by a `WHERE` on `p`.
pub(crate) const PRODUCT_RULES: &str = "SELECT p.service_id, p.duration_minutes, p.new_patient_minutes, p.buffer_before_minutes,
        p.buffer_after_minutes, p.step_minutes, p.per_day_cap, c.minimum_notice_minutes, c.horizon_days
   FROM products p JOIN clinics c ON c.id = p.clinic_id
   JOIN services s ON s.id = p.service_id AND s.archived_at IS NULL";

pub(crate) struct ProductRules {
    service_id: i64,
    duration: i32,
    new_patient: Option<i32>,
    buffer_before: i32,
    buffer_after: i32,
    step: Option<i32>,
    per_day_cap: Option<i32>,
    minimum_notice: i32,
    horizon_days: i32,
}

impl ProductRules {
    pub(crate) fn from_row<R: Row>(row: &R) -> Result<Self, StoreError>
    where
        for<'a> &'a str: sqlx::ColumnIndex<R>,
        i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        i32: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
        Option<i32>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    {
        Ok(ProductRules {
            service_id: row.try_get("service_id")?,
            duration: row.try_get("duration_minutes")?,
            new_patient: row.try_get("new_patient_minutes")?,
            buffer_before: row.try_get("buffer_before_minutes")?,
            buffer_after: row.try_get("buffer_after_minutes")?,
            step: row.try_get("step_minutes")?,
            per_day_cap: row.try_get("per_day_cap")?,
            minimum_notice: row.try_get("minimum_notice_minutes")?,
            horizon_days: row.try_get("horizon_days")?,
        })
    }

    /// The appointment length in minutes and the slot rules, for a new patient or not. New
    /// patients start on the same grid as everyone (the product's step, else its usual
    /// length): they only need longer. So a time offered to "any patient" is one time on one
    /// grid, and a bot that does not know whether its caller is new can book it either way.
    pub(crate) fn slot_rules(&self, new_patient: bool) -> (i32, SlotRules) {
        let duration = if new_patient { self.new_patient.unwrap_or(self.duration) } else { self.duration };
        let minutes = |m: i32| Duration::minutes(i64::from(m));
        let rules = SlotRules {
            duration: minutes(duration),
            buffer_before: minutes(self.buffer_before),
            buffer_after: minutes(self.buffer_after),
            step: minutes(self.step.unwrap_or(self.duration)),
            minimum_notice: minutes(self.minimum_notice),
            horizon: Duration::days(i64::from(self.horizon_days)),
            per_day_cap: self.per_day_cap.map(|c| c.max(1) as u32),
        };
        (duration, rules)
    }
}

impl Availability {
    /// Whether `slot` is among the offered slots, exactly as encoded.
    pub fn offers(&self, slot: &SlotId) -> bool {
        self.providers.iter().flat_map(|p| &p.slots).any(|s| s.id == *slot)
    }

    /// The offered slot at `slot`'s start with its provider, location and product, when `slot`
    /// was shown at this length or at the usual one: a time offered to any patient is booked at
    /// the length that fits the patient who takes it. Other lengths are forgeries.
    pub fn at_start_of(&self, slot: &SlotId) -> Option<SlotId> {
        let minutes = i32::from(slot.minutes);
        if minutes != self.duration_minutes && minutes != self.usual_minutes {
            return None;
        }
        self.providers.iter().flat_map(|p| &p.slots).map(|s| s.id).find(|s| {
            (s.provider_id, s.location_id, s.product_id, s.start) == (slot.provider_id, slot.location_id, slot.product_id, slot.start)
        })
    }
}

/// Who the times are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Patients {
    Returning,
    New,
    /// Times at which both a returning and a new patient fit: what a client is offered when it
    /// does not say, so that it is never offered a time it then cannot book.
    Either,
}

impl Store {
    /// Free times for a returning patient, or a new one when `req.new_patient` says so.
    pub async fn availability(&self, req: &AvailabilityRequest) -> Result<Availability, StoreError> {
        self.availability_of(req, if req.new_patient { Patients::New } else { Patients::Returning }).await
    }

    /// Free times at which any patient fits, new or returning (`req.new_patient` is not read):
    /// the usual-length slots whose start also holds a first visit. Each is booked at the
    /// length that fits whoever takes it.
    pub async fn availability_for_anyone(&self, req: &AvailabilityRequest) -> Result<Availability, StoreError> {
        self.availability_of(req, Patients::Either).await
    }

    async fn availability_of(&self, req: &AvailabilityRequest, patients: Patients) -> Result<Availability, StoreError> {
        let invalid = |field, why: &str| StoreError::Rule(DomainError::invalid(field, why.to_string()));
        if req.to < req.from {
            return Err(invalid("to", "the range ends before it starts"));
        }
        if (req.to - req.from).num_days() >= domain::availability::MAX_RANGE_DAYS {
            return Err(invalid("to", "a range may span at most 366 days"));
        }
        let (zone, rules, providers) = with_pool!(self, pool => {
            let zone: Option<(String,)> = sqlx::query_as("SELECT time_zone FROM locations WHERE id = $1 AND clinic_id = $2 AND archived_at IS NULL")
                .bind(req.location_id).bind(req.clinic_id).fetch_optional(pool).await?;
            let sql = format!("{PRODUCT_RULES} WHERE p.id = $1 AND p.clinic_id = $2 AND p.archived_at IS NULL");
            let product = sqlx::query(&sql).bind(req.product_id).bind(req.clinic_id).fetch_optional(pool).await?;
            let rules = product.as_ref().map(ProductRules::from_row).transpose()?;
            let providers: Vec<(i64, String)> = match &rules {
                None => Vec::new(),
                Some(r) => sqlx::query_as(
                    "SELECT DISTINCT p.id, p.display_name FROM providers p
                       JOIN provider_services ps ON ps.provider_id = p.id AND ps.service_id = $2
                       JOIN working_hours w ON w.provider_id = p.id AND w.location_id = $3
                      WHERE p.clinic_id = $1 AND p.archived_at IS NULL AND ($4 IS NULL OR p.id = $4)
                      ORDER BY p.id",
                )
                .bind(req.clinic_id).bind(r.service_id).bind(req.location_id).bind(req.provider_id)
                .fetch_all(pool).await?,
            };
            (zone, rules, providers)
        });
        let tz = parse_zone(&zone.ok_or(StoreError::NotFound("location"))?.0)?;
        let rules = rules.ok_or(StoreError::NotFound("product"))?;
        if req.provider_id.is_some() && providers.is_empty() {
            return Err(StoreError::NotFound("provider"));
        }

        let (duration, slot_rules) = rules.slot_rules(patients == Patients::New);
        // For either kind of patient, the first-visit rules too, when a first visit is longer.
        let first_visit = match patients {
            Patients::Either if rules.new_patient.is_some_and(|m| m > rules.duration) => Some(rules.slot_rules(true).1),
            _ => None,
        };
        // Busy time and blocks are read with a day's margin: buffers and zone offsets reach
        // across local midnight.
        let window_start = start_of_day(tz, req.from) - Duration::days(1);
        let window_end = start_of_day(tz, req.to) + Duration::days(2);
        let holidays = self.holidays(req.clinic_id, req.from, req.to).await?;

        let mut calendars =
            self.calendars(req.clinic_id, req.location_id, req.provider_id, req.from, req.to, window_start, window_end, req.now).await?;
        let mut out = Vec::with_capacity(providers.len());
        for (provider_id, display_name) in providers {
            let cal = calendars.remove(&provider_id).unwrap_or_default();
            let query = SlotQuery { tz, from: req.from, to: req.to, holidays: &holidays, rules: slot_rules, now: req.now };
            let calendar = ProviderCalendar { weekly: &cal.weekly, exceptions: &cal.exceptions, blocks: &cal.blocks, busy: &cal.busy };
            let mut intervals = provider_slots(&query, &calendar).map_err(StoreError::Rule)?;
            if let Some(rules) = first_visit {
                let longer: std::collections::HashSet<_> =
                    provider_slots(&SlotQuery { rules, ..query }, &calendar).map_err(StoreError::Rule)?.into_iter().map(|i| i.start).collect();
                intervals.retain(|i| longer.contains(&i.start));
            }
            let slots = intervals
                .into_iter()
                .map(|interval| Slot {
                    id: SlotId {
                        provider_id,
                        location_id: req.location_id,
                        product_id: req.product_id,
                        start: interval.start,
                        minutes: duration as u16,
                    },
                    interval,
                })
                .collect();
            out.push(ProviderAvailability { provider_id, display_name, slots });
        }
        Ok(Availability { tz, service_id: rules.service_id, duration_minutes: duration, usual_minutes: rules.duration, providers: out })
    }

    async fn holidays(&self, clinic_id: i64, from: NaiveDate, to: NaiveDate) -> Result<Vec<NaiveDate>, StoreError> {
        let rows: Vec<(NaiveDate,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT on_date FROM holidays WHERE clinic_id = $1 AND on_date BETWEEN $2 AND $3")
                .bind(clinic_id).bind(from).bind(to).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The calendars of the clinic's providers at one location (or of one provider), read with
    /// five queries whatever the number of providers: one round trip per provider would
    /// dominate the cost of a request.
    #[allow(clippy::too_many_arguments)]
    async fn calendars(
        &self,
        clinic_id: i64,
        location_id: i64,
        provider: Option<i64>,
        from: NaiveDate,
        to: NaiveDate,
        window_start: DateTime<Utc>,
        window_end: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<HashMap<i64, OwnedCalendar>, StoreError> {
        let mut calendars: HashMap<i64, OwnedCalendar> = HashMap::new();
        with_pool!(self, pool => {
            let weekly_rows: Vec<(i64, i32, String, String, Option<NaiveDate>, Option<NaiveDate>)> = sqlx::query_as(
                "SELECT w.provider_id, w.weekday, w.starts_at, w.ends_at, w.valid_from, w.valid_until
                   FROM working_hours w JOIN providers p ON p.id = w.provider_id
                  WHERE p.clinic_id = $1 AND w.location_id = $2 AND ($3 IS NULL OR p.id = $3)",
            )
            .bind(clinic_id).bind(location_id).bind(provider).fetch_all(pool).await?;
            let exception_rows: Vec<(i64, NaiveDate, String, Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT e.provider_id, e.on_date, e.kind, e.starts_at, e.ends_at
                   FROM schedule_exceptions e JOIN providers p ON p.id = e.provider_id
                  WHERE p.clinic_id = $1 AND ($2 IS NULL OR p.id = $2) AND e.on_date BETWEEN $3 AND $4",
            )
            .bind(clinic_id).bind(provider).bind(from).bind(to).fetch_all(pool).await?;
            let (lo, hi) = (db_time(pool, window_start), db_time(pool, window_end));
            // Busy time counts at every location: a provider cannot be in two places at once.
            // No appointment lasts longer than a day (refused on write), so one that overlaps
            // the window starts at most a day before it: a range on (clinic_id, starts_at).
            let earliest_start = db_time(pool, window_start - Duration::days(1));
            let appointments = sqlx::query(
                "SELECT provider_id, starts_at, ends_at FROM appointments
                  WHERE clinic_id = $1 AND ($2 IS NULL OR provider_id = $2)
                    AND status IN ('pending', 'booked', 'checked_in', 'completed')
                    AND starts_at >= $5 AND starts_at < $4 AND ends_at > $3",
            )
            .bind(clinic_id).bind(provider).bind(&lo).bind(&hi).bind(earliest_start).fetch_all(pool).await?;
            let holds = sqlx::query(
                "SELECT provider_id, starts_at, ends_at FROM holds
                  WHERE clinic_id = $1 AND ($2 IS NULL OR provider_id = $2)
                    AND expires_at > $5 AND starts_at < $4 AND ends_at > $3",
            )
            .bind(clinic_id).bind(provider).bind(&lo).bind(&hi).bind(db_time(pool, now)).fetch_all(pool).await?;
            let block_rows = sqlx::query(
                "SELECT b.provider_id, b.starts_at, b.ends_at FROM schedule_blocks b JOIN providers p ON p.id = b.provider_id
                  WHERE p.clinic_id = $1 AND ($2 IS NULL OR p.id = $2) AND b.starts_at < $4 AND b.ends_at > $3",
            )
            .bind(clinic_id).bind(provider).bind(&lo).bind(&hi).fetch_all(pool).await?;
            let to_interval = |row: &_| -> Result<(i64, Interval), StoreError> {
                let interval = Interval::new(row_time(pool, row, "starts_at")?, row_time(pool, row, "ends_at")?)
                    .ok_or_else(|| StoreError::Corrupt("an interval ends before it starts".into()))?;
                Ok((row.try_get("provider_id")?, interval))
            };
            for row in appointments.iter().chain(&holds) {
                let (id, interval) = to_interval(row)?;
                calendars.entry(id).or_default().busy.push(interval);
            }
            for row in &block_rows {
                let (id, interval) = to_interval(row)?;
                calendars.entry(id).or_default().blocks.push(interval);
            }
            for (id, weekday, start, end, valid_from, valid_until) in weekly_rows {
                let hours = WeeklyInterval::new(
                    WeeklyInterval::weekday_from_iso(i64::from(weekday))?,
                    LocalTime::parse(&start)?,
                    LocalTime::parse(&end)?,
                )?;
                calendars.entry(id).or_default().weekly.push(WeeklyRule { hours, valid_from, valid_until });
            }
            for (id, date, kind, start, end) in exception_rows {
                let exception = match (kind.as_str(), start, end) {
                    ("closed", _, _) => DateException::Closed { date },
                    ("extra", Some(s), Some(e)) => DateException::ExtraHours { date, start: LocalTime::parse(&s)?, end: LocalTime::parse(&e)? },
                    _ => return Err(StoreError::Corrupt(format!("schedule exception of kind {kind:?} on {date}"))),
                };
                calendars.entry(id).or_default().exceptions.push(exception);
            }
            Ok::<_, StoreError>(())
        })?;
        Ok(calendars)
    }
}

#[derive(Default)]
struct OwnedCalendar {
    weekly: Vec<WeeklyRule>,
    exceptions: Vec<DateException>,
    blocks: Vec<Interval>,
    busy: Vec<Interval>,
}
