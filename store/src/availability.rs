//! Availability as every client sees it: the store gathers a clinic's settings, the product's
//! rules and each provider's calendar, and the domain engine cuts the slots. The widget, the
//! bot API and the voice bot all call `Store::availability`; there is no second copy.

use crate::time::{db_time, row_time};
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::availability::{free_slots, BusyTime, DateException, SlotQuery, SlotRules, WeeklyRule};
use domain::zone::parse_zone;
use domain::{DomainError, Interval, LocalTime, SlotId, WeeklyInterval};
use sqlx::Row;
use std::collections::HashMap;
use std::sync::Arc;

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

#[derive(Debug, Clone)]
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

/// Where a computation reads the clinic's calendars from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Source {
    /// The calendar kept in memory (`calendars.rs`): what clients are offered.
    Memory,
    /// The database, now.
    Database,
    /// What writes re-check a slot against (`Store::availability_to_check`): on SQLite the
    /// kept calendar when there is one, else the database.
    KeptElseDatabase,
}

impl Patients {
    /// Returning or new, as the request says.
    fn asked_by(req: &AvailabilityRequest) -> Self {
        if req.new_patient {
            Patients::New
        } else {
            Patients::Returning
        }
    }
}

impl Store {
    /// Free times for a returning patient, or a new one when `req.new_patient` says so.
    pub async fn availability(&self, req: &AvailabilityRequest) -> Result<Availability, StoreError> {
        self.availability_of(req, Patients::asked_by(req), Source::Memory).await
    }

    /// Free times at which any patient fits, new or returning (`req.new_patient` is not read):
    /// the usual-length slots whose start also holds a first visit. Each is booked at the
    /// length that fits whoever takes it.
    pub async fn availability_for_anyone(&self, req: &AvailabilityRequest) -> Result<Availability, StoreError> {
        self.availability_of(req, Patients::Either, Source::Memory).await
    }

    /// `availability` computed from the database as it is now, bypassing the calendars kept
    /// in memory: what tests compare the memory with (and writes check slots against where
    /// nothing is kept, `availability_to_check`).
    pub async fn availability_from_database(&self, req: &AvailabilityRequest) -> Result<Availability, StoreError> {
        self.availability_of(req, Patients::asked_by(req), Source::Database).await
    }

    /// What a write re-checks a slot against: on SQLite the calendar kept in memory when there
    /// is one (this process's own writes update or forget it as they commit, other processes'
    /// reach it within `SQLITE_WATCH`), else the database for the request's provider and dates
    /// only: loading the clinic's whole window for one check would cost more than it saves.
    /// On PostgreSQL always the database, since another instance's hold reaches the memory
    /// only by notification. Either way the database's overlap guard decides double bookings.
    pub(crate) async fn availability_to_check(&self, req: &AvailabilityRequest) -> Result<Availability, StoreError> {
        self.availability_of(req, Patients::asked_by(req), Source::KeptElseDatabase).await
    }

    /// `availability_for_anyone` from the database as it is now.
    pub async fn availability_for_anyone_from_database(&self, req: &AvailabilityRequest) -> Result<Availability, StoreError> {
        self.availability_of(req, Patients::Either, Source::Database).await
    }

    async fn availability_of(&self, req: &AvailabilityRequest, patients: Patients, source: Source) -> Result<Availability, StoreError> {
        let invalid = |field, why: &str| StoreError::Rule(DomainError::invalid(field, why.to_string()));
        if req.to < req.from {
            return Err(invalid("to", "the range ends before it starts"));
        }
        if (req.to - req.from).num_days() >= domain::availability::MAX_RANGE_DAYS {
            return Err(invalid("to", "a range may span at most 366 days"));
        }
        let kept = match source {
            Source::Memory => Some(self.cached_calendar(req.clinic_id, req.now).await?),
            Source::KeptElseDatabase if matches!(self.db, crate::Db::Sqlite(_)) => self.calendars.kept(req.clinic_id, req.now),
            Source::KeptElseDatabase | Source::Database => None,
        };
        self.counters.computed_availability(kept.is_some());
        match kept {
            Some(snapshot) => snapshot.availability(req, patients),
            None => {
                let window = Window::around(req.from, req.to);
                let snapshot = self.read_calendar(req.clinic_id, req.provider_id, window, req.now).await?;
                snapshot.availability(req, patients)
            }
        }
    }

    /// The clinic's calendar for its whole bookable window as seen at `now`, to keep.
    pub(crate) async fn load_calendar(&self, clinic_id: i64, now: DateTime<Utc>) -> Result<Snapshot, StoreError> {
        let horizon: Option<(i32,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT horizon_days FROM clinics WHERE id = $1").bind(clinic_id).fetch_optional(pool).await?
        });
        let horizon = horizon.map_or(0, |h| h.0.max(0));
        let today = now.date_naive();
        let window = Window::around(today - Duration::days(2), (now + Duration::days(i64::from(horizon))).date_naive() + Duration::days(2));
        let mut snapshot = self.read_calendar(clinic_id, None, window, now).await?;
        snapshot.kept_for = Some((now, horizon));
        Ok(snapshot)
    }

    /// Everything availability needs of one clinic (of one provider when `provider` says so)
    /// on the dates and instants of `window`, in one read transaction, so that the parts agree.
    async fn read_calendar(&self, clinic_id: i64, provider: Option<i64>, window: Window, now: DateTime<Utc>) -> Result<Snapshot, StoreError> {
        let mut snap = Snapshot { window, ..Snapshot::default() };
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            let locations: Vec<(i64, String)> = sqlx::query_as("SELECT id, time_zone FROM locations WHERE clinic_id = $1 AND archived_at IS NULL")
                .bind(clinic_id).fetch_all(&mut *tx).await?;
            snap.locations = locations.into_iter().collect();
            let sql = format!("{} WHERE p.clinic_id = $1 AND p.archived_at IS NULL", PRODUCT_RULES.replacen("SELECT ", "SELECT p.id AS product_id, ", 1));
            for row in sqlx::query(&sql).bind(clinic_id).fetch_all(&mut *tx).await? {
                snap.products.insert(row.try_get("product_id")?, ProductRules::from_row(&row)?);
            }
            let providers: Vec<(i64, String)> = sqlx::query_as(
                "SELECT id, display_name FROM providers WHERE clinic_id = $1 AND archived_at IS NULL AND ($2 IS NULL OR id = $2) ORDER BY id",
            )
            .bind(clinic_id).bind(provider).fetch_all(&mut *tx).await?;
            let services: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT ps.provider_id, ps.service_id FROM provider_services ps JOIN providers p ON p.id = ps.provider_id
                  WHERE p.clinic_id = $1 AND ($2 IS NULL OR p.id = $2)",
            )
            .bind(clinic_id).bind(provider).fetch_all(&mut *tx).await?;
            let weekly_rows: Vec<(i64, i64, i32, String, String, Option<NaiveDate>, Option<NaiveDate>)> = sqlx::query_as(
                "SELECT w.provider_id, w.location_id, w.weekday, w.starts_at, w.ends_at, w.valid_from, w.valid_until
                   FROM working_hours w JOIN providers p ON p.id = w.provider_id
                  WHERE p.clinic_id = $1 AND ($2 IS NULL OR p.id = $2)",
            )
            .bind(clinic_id).bind(provider).fetch_all(&mut *tx).await?;
            let exception_rows: Vec<(i64, NaiveDate, String, Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT e.provider_id, e.on_date, e.kind, e.starts_at, e.ends_at
                   FROM schedule_exceptions e JOIN providers p ON p.id = e.provider_id
                  WHERE p.clinic_id = $1 AND ($2 IS NULL OR p.id = $2) AND e.on_date BETWEEN $3 AND $4",
            )
            .bind(clinic_id).bind(provider).bind(window.from).bind(window.to).fetch_all(&mut *tx).await?;
            let holidays: Vec<(NaiveDate,)> = sqlx::query_as("SELECT on_date FROM holidays WHERE clinic_id = $1 AND on_date BETWEEN $2 AND $3")
                .bind(clinic_id).bind(window.from).bind(window.to).fetch_all(&mut *tx).await?;
            let (lo, hi) = (db_time(pool, window.start), db_time(pool, window.end));
            // Busy time counts at every location: a provider cannot be in two places at once.
            // No appointment lasts longer than a day (refused on write), so one that overlaps
            // the window starts at most a day before it: a range on (clinic_id, starts_at).
            let earliest_start = db_time(pool, window.start - Duration::days(1));
            let appointments = sqlx::query(
                "SELECT provider_id, starts_at, ends_at FROM appointments
                  WHERE clinic_id = $1 AND ($2 IS NULL OR provider_id = $2)
                    AND status IN ('pending', 'booked', 'checked_in', 'completed')
                    AND starts_at >= $5 AND starts_at < $4 AND ends_at > $3",
            )
            .bind(clinic_id).bind(provider).bind(&lo).bind(&hi).bind(earliest_start).fetch_all(&mut *tx).await?;
            // Holds that expired a while ago too: a request may be as of a slightly earlier
            // moment than the load; each request filters holds by its own clock.
            let holds = sqlx::query(
                "SELECT provider_id, starts_at, ends_at, expires_at FROM holds
                  WHERE clinic_id = $1 AND ($2 IS NULL OR provider_id = $2)
                    AND expires_at > $5 AND starts_at < $4 AND ends_at > $3",
            )
            .bind(clinic_id).bind(provider).bind(&lo).bind(&hi).bind(db_time(pool, now - HOLD_LOOKBACK)).fetch_all(&mut *tx).await?;
            let block_rows = sqlx::query(
                "SELECT b.provider_id, b.starts_at, b.ends_at FROM schedule_blocks b JOIN providers p ON p.id = b.provider_id
                  WHERE p.clinic_id = $1 AND ($2 IS NULL OR p.id = $2) AND b.starts_at < $4 AND b.ends_at > $3",
            )
            .bind(clinic_id).bind(provider).bind(&lo).bind(&hi).fetch_all(&mut *tx).await?;
            tx.commit().await?;

            let to_interval = |row: &_| -> Result<(i64, Interval), StoreError> {
                let interval = Interval::new(row_time(pool, row, "starts_at")?, row_time(pool, row, "ends_at")?)
                    .ok_or_else(|| StoreError::Corrupt("an interval ends before it starts".into()))?;
                Ok((row.try_get("provider_id")?, interval))
            };
            for row in &appointments {
                let (id, interval) = to_interval(row)?;
                snap.calendar(id).appointments.push(interval);
            }
            for row in &holds {
                let (id, interval) = to_interval(row)?;
                let expires = row_time(pool, row, "expires_at")?;
                snap.calendar(id).holds.push((interval, expires));
            }
            for row in &block_rows {
                let (id, interval) = to_interval(row)?;
                snap.calendar(id).blocks.push(interval);
            }
            for (id, location, weekday, start, end, valid_from, valid_until) in weekly_rows {
                let hours = WeeklyInterval::new(
                    WeeklyInterval::weekday_from_iso(i64::from(weekday))?,
                    LocalTime::parse(&start)?,
                    LocalTime::parse(&end)?,
                )?;
                snap.calendar(id).weekly.push((location, WeeklyRule { hours, valid_from, valid_until }));
            }
            for (id, date, kind, start, end) in exception_rows {
                let exception = match (kind.as_str(), start, end) {
                    ("closed", _, _) => DateException::Closed { date },
                    ("extra", Some(s), Some(e)) => DateException::ExtraHours { date, start: LocalTime::parse(&s)?, end: LocalTime::parse(&e)? },
                    _ => return Err(StoreError::Corrupt(format!("schedule exception of kind {kind:?} on {date}"))),
                };
                snap.calendar(id).exceptions.push(exception);
            }
            let mut offered: HashMap<i64, Vec<i64>> = HashMap::new();
            for (provider, service) in services {
                offered.entry(provider).or_default().push(service);
            }
            snap.providers = providers
                .into_iter()
                .map(|(id, name)| ProviderEntry { id, display_name: name, services: offered.remove(&id).unwrap_or_default() })
                .collect();
            snap.holidays = holidays.into_iter().map(|h| h.0).collect();
            snap.holidays.sort_unstable();
            Ok::<_, StoreError>(())
        })?;
        for cal in snap.calendars.values_mut().map(Arc::make_mut) {
            // Merged once here, not per request: most of what a request would otherwise do.
            cal.busy = BusyTime::new(&std::mem::take(&mut cal.appointments), &std::mem::take(&mut cal.blocks));
        }
        Ok(snap)
    }
}

/// How long after their expiry holds are still read (see `read_calendar`).
const HOLD_LOOKBACK: Duration = Duration::hours(1);

/// Local dates and the instants around them that a calendar covers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Window {
    from: NaiveDate,
    to: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl Window {
    /// The dates `from..=to` in every zone: busy time and blocks are read with two days'
    /// margin, since buffers and zone offsets reach across local midnight.
    fn around(from: NaiveDate, to: NaiveDate) -> Self {
        let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
        Window { from, to, start: midnight(from) - Duration::days(2), end: midnight(to) + Duration::days(3) }
    }

    fn covers(&self, other: &Window) -> bool {
        self.from <= other.from && other.to <= self.to && self.start <= other.start && other.end <= self.end
    }
}

#[derive(Debug, Clone, Default)]
struct ProviderEntry {
    id: i64,
    display_name: String,
    services: Vec<i64>,
}

#[derive(Debug, Clone, Default)]
struct ProviderCalendarData {
    /// Weekly hours with the location they are worked at.
    weekly: Vec<(i64, WeeklyRule)>,
    exceptions: Vec<DateException>,
    /// Read into these two, then prepared as `busy`.
    blocks: Vec<Interval>,
    appointments: Vec<Interval>,
    /// Appointments and blocks.
    busy: BusyTime,
    /// Holds with the instant each expires: which of them are busy depends on the request's now.
    holds: Vec<(Interval, DateTime<Utc>)>,
}

/// One clinic's calendars on a window of dates: read from the database for one request, or
/// kept in memory for every request (`calendars.rs`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshot {
    window: Window,
    /// For a kept calendar: the moment it was loaded as of, and the clinic's horizon then.
    kept_for: Option<(DateTime<Utc>, i32)>,
    /// Active locations and their zones.
    locations: HashMap<i64, String>,
    /// Active products of active services.
    products: HashMap<i64, ProductRules>,
    /// Active providers, by id.
    providers: Vec<ProviderEntry>,
    /// Shared between a kept calendar and the one a booking derives from it (`with_booking`),
    /// which copies only the booked provider's.
    calendars: HashMap<i64, Arc<ProviderCalendarData>>,
    holidays: Vec<NaiveDate>,
}

impl Snapshot {
    fn calendar(&mut self, provider: i64) -> &mut ProviderCalendarData {
        Arc::make_mut(self.calendars.entry(provider).or_default())
    }

    /// This kept calendar with an appointment of `provider` over `interval` booked: what this
    /// process's own booking changed, applied as it commits (`calendars.rs`).
    pub(crate) fn with_booking(&self, provider: i64, interval: Interval) -> Snapshot {
        let mut next = self.clone();
        let calendar = next.calendar(provider);
        calendar.busy = calendar.busy.with_busy(interval);
        next
    }

    /// Whether this kept calendar answers requests as of `now`: it covers every date a slot
    /// can start on from `now` to the horizon, and `now` is not before its holds were read.
    pub(crate) fn serves(&self, now: DateTime<Utc>) -> bool {
        let Some((loaded, horizon)) = self.kept_for else { return false };
        let needed = Window::around(now.date_naive() - Duration::days(1), (now + Duration::days(i64::from(horizon))).date_naive() + Duration::days(1));
        now >= loaded - HOLD_LOOKBACK + Duration::minutes(1) && self.window.covers(&needed)
    }

    fn availability(&self, req: &AvailabilityRequest, patients: Patients) -> Result<Availability, StoreError> {
        let tz = parse_zone(self.locations.get(&req.location_id).ok_or(StoreError::NotFound("location"))?)?;
        let rules = self.products.get(&req.product_id).ok_or(StoreError::NotFound("product"))?;
        let none: ProviderCalendarData = ProviderCalendarData::default();
        let providers: Vec<(&ProviderEntry, &ProviderCalendarData)> = self
            .providers
            .iter()
            .filter(|p| req.provider_id.is_none_or(|id| id == p.id) && p.services.contains(&rules.service_id))
            .map(|p| (p, self.calendars.get(&p.id).map_or(&none, |c| &**c)))
            .filter(|(_, cal)| cal.weekly.iter().any(|(location, _)| *location == req.location_id))
            .collect();
        if req.provider_id.is_some() && providers.is_empty() {
            return Err(StoreError::NotFound("provider"));
        }

        let (duration, slot_rules) = rules.slot_rules(patients == Patients::New);
        // For either kind of patient, the first-visit rules too, when a first visit is longer.
        let first_visit = match patients {
            Patients::Either if rules.new_patient.is_some_and(|m| m > rules.duration) => Some(rules.slot_rules(true).1),
            _ => None,
        };
        // Only dates on which a slot can start are computed: from the day before `now` to
        // the day after the horizon in any zone. Outside them the engine finds nothing anyway.
        let (from, to) = match self.kept_for {
            Some(_) => (
                req.from.max(req.now.date_naive() - Duration::days(1)),
                req.to.min((req.now + slot_rules.horizon).date_naive() + Duration::days(1)),
            ),
            None => (req.from, req.to),
        };
        let holidays: Vec<NaiveDate> = self.holidays.iter().copied().filter(|d| (from..=to).contains(d)).collect();
        let mut out = Vec::with_capacity(providers.len());
        for (provider, cal) in providers {
            let mut slots = Vec::new();
            if from <= to {
                let weekly: Vec<WeeklyRule> = cal.weekly.iter().filter(|(l, _)| *l == req.location_id).map(|(_, r)| *r).collect();
                let held: Vec<Interval> = cal.holds.iter().filter(|(_, expires)| *expires > req.now).map(|(i, _)| *i).collect();
                let held = BusyTime::new(&held, &[]);
                let busy = [&cal.busy, &held];
                let busy = if held.is_empty() { &busy[..1] } else { &busy[..] };
                let query = SlotQuery { tz, from, to, holidays: &holidays, rules: slot_rules, now: req.now };
                let mut intervals = free_slots(&query, &weekly, &cal.exceptions, busy).map_err(StoreError::Rule)?;
                if let Some(rules) = first_visit {
                    let longer: std::collections::HashSet<_> = free_slots(&SlotQuery { rules, ..query }, &weekly, &cal.exceptions, busy)
                        .map_err(StoreError::Rule)?
                        .into_iter()
                        .map(|i| i.start)
                        .collect();
                    intervals.retain(|i| longer.contains(&i.start));
                }
                slots = intervals
                    .into_iter()
                    .map(|interval| Slot {
                        id: SlotId {
                            provider_id: provider.id,
                            location_id: req.location_id,
                            product_id: req.product_id,
                            start: interval.start,
                            minutes: duration as u16,
                        },
                        interval,
                    })
                    .collect();
            }
            out.push(ProviderAvailability { provider_id: provider.id, display_name: provider.display_name.clone(), slots });
        }
        Ok(Availability { tz, service_id: rules.service_id, duration_minutes: duration, usual_minutes: rules.duration, providers: out })
    }
}
