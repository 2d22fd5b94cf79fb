//! Staff editing when providers work: weekly hours per location with validity dates, closed
//! days and extra hours, labelled blocks, and the clinic's holidays. Each change is one write
//! transaction with its audit row. No change moves or cancels an appointment: one that a
//! change leaves outside the rules is refused or flagged (`crate::attention`).

use crate::attention::{flag_all, strand_check, ScheduleChange, Stranding};
use crate::audit::insert_audit;
use crate::booking::row_lock;
use crate::staff::Actor;
use crate::time::{db_time, row_time};
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use domain::schedule::{ExceptionDef, HoursDef, LocalTime, WeeklyInterval};
use domain::DomainError;
use serde_json::json;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoursEntry {
    pub id: i64,
    pub def: HoursDef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExceptionEntry {
    pub id: i64,
    pub def: ExceptionDef,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlockEntry {
    pub id: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub label: String,
}

/// A provider's rules, in the order people read them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProviderSchedule {
    pub hours: Vec<HoursEntry>,
    pub exceptions: Vec<ExceptionEntry>,
    pub blocks: Vec<BlockEntry>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holiday {
    pub date: NaiveDate,
    pub name: String,
}

/// The kinds of a provider's rules, for removal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleKind {
    Hours,
    Exception,
    Block,
}

impl RuleKind {
    pub fn parse(raw: &str) -> Option<RuleKind> {
        match raw {
            "hours" => Some(RuleKind::Hours),
            "exception" => Some(RuleKind::Exception),
            "block" => Some(RuleKind::Block),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RuleKind::Hours => "hours",
            RuleKind::Exception => "exception",
            RuleKind::Block => "block",
        }
    }

    fn table(self) -> &'static str {
        match self {
            RuleKind::Hours => "working_hours",
            RuleKind::Exception => "schedule_exceptions",
            RuleKind::Block => "schedule_blocks",
        }
    }
}

/// A block longer than this is a mistake (a year's absence is an archived provider).
pub const MAX_BLOCK_DAYS: i64 = 366;

fn refused(field: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Rule(DomainError::invalid(field, reason))
}

fn weekday_name(iso: u8) -> String {
    WeeklyInterval::weekday_from_iso(i64::from(iso)).map(|d| d.to_string()).unwrap_or_default()
}

fn time(raw: &str) -> Result<LocalTime, StoreError> {
    Ok(LocalTime::parse(raw)?)
}

/// Checks inside a write transaction that the provider is the clinic's; evaluates to its name.
macro_rules! own_provider {
    ($tx:ident, $pool:ident, $clinic_id:expr, $provider_id:expr) => {{
        let sql = format!("SELECT display_name FROM providers WHERE id = $1 AND clinic_id = $2{}", row_lock($pool));
        let found: Option<(String,)> = sqlx::query_as(&sql).bind($provider_id).bind($clinic_id).fetch_optional(&mut *$tx).await?;
        found.ok_or(StoreError::NotFound("provider"))?.0
    }};
}

/// Evaluates, inside a write transaction, to the provider's weekly hours: read under the
/// write lock, so two overlapping additions cannot both pass.
macro_rules! hours_of {
    ($tx:ident, $provider_id:expr) => {{
        let rows: Vec<(i32, String, String, Option<NaiveDate>, Option<NaiveDate>, i64)> = sqlx::query_as(
            "SELECT weekday, starts_at, ends_at, valid_from, valid_until, location_id FROM working_hours WHERE provider_id = $1",
        )
        .bind($provider_id).fetch_all(&mut *$tx).await?;
        let mut hours = Vec::new();
        for (weekday, start, end, valid_from, valid_until, location_id) in rows {
            hours.push(HoursDef { location_id, weekday: weekday as u8, start: time(&start)?, end: time(&end)?, valid_from, valid_until });
        }
        hours
    }};
}

/// Evaluates, inside a write transaction, to the name of `$def`'s location: refused when it
/// is not one of the clinic's current locations, or when the hours end before today there.
macro_rules! hours_location {
    ($tx:ident, $clinic_id:expr, $def:expr, $now:expr) => {{
        let def: &HoursDef = $def;
        let location: Option<(String, String)> = sqlx::query_as("SELECT name, time_zone FROM locations WHERE id = $1 AND clinic_id = $2 AND archived_at IS NULL")
            .bind(def.location_id).bind($clinic_id).fetch_optional(&mut *$tx).await?;
        let Some((name, zone)) = location else {
            return Err(refused("location", "is not one of this clinic's locations"));
        };
        let today = $now.with_timezone(&domain::zone::parse_zone(&zone)?).date_naive();
        if def.valid_until.is_some_and(|until| until < today) {
            return Err(refused("validUntil", "is in the past: these hours would never apply"));
        }
        name
    }};
}

/// Inserts weekly hours inside a write transaction; evaluates to the new row's id.
macro_rules! insert_hours {
    ($tx:ident, $provider_id:expr, $def:expr) => {{
        let def: &HoursDef = $def;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO working_hours (provider_id, location_id, weekday, starts_at, ends_at, valid_from, valid_until)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind($provider_id).bind(def.location_id).bind(i32::from(def.weekday)).bind(def.start.to_string()).bind(def.end.to_string())
        .bind(def.valid_from).bind(def.valid_until)
        .fetch_one(&mut *$tx).await?;
        id
    }};
}

/// Inserts a closed day or extra hours inside a write transaction; evaluates to the new
/// row's id and the stored kind, start and end.
macro_rules! insert_exception {
    ($tx:ident, $provider_id:expr, $def:expr) => {{
        let def: &ExceptionDef = $def;
        let (kind, start, end) = match def.extra {
            None => ("closed", None, None),
            Some((s, e)) => ("extra", Some(s.to_string()), Some(e.to_string())),
        };
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO schedule_exceptions (provider_id, on_date, kind, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind($provider_id).bind(def.date).bind(kind).bind(&start).bind(&end).fetch_one(&mut *$tx).await?;
        (id, kind, start, end)
    }};
}

/// Refuses, inside a write transaction, a date that is already one of the clinic's holidays.
macro_rules! holiday_free {
    ($tx:ident, $clinic_id:expr, $date:expr) => {{
        let date: NaiveDate = $date;
        let taken: Option<(String,)> = sqlx::query_as("SELECT name FROM holidays WHERE clinic_id = $1 AND on_date = $2")
            .bind($clinic_id).bind(date).fetch_optional(&mut *$tx).await?;
        if let Some((existing,)) = taken {
            return Err(refused("date", format!("{date} is already a holiday ({existing})")));
        }
    }};
}

/// Refuses `$def` when it overlaps one of `$hours` (a provider works one period at a time).
fn no_overlap(def: &HoursDef, hours: &[HoursDef]) -> Result<(), StoreError> {
    match hours.iter().find(|other| def.overlaps(other)) {
        Some(other) => Err(refused("start", format!("overlaps the hours {} {}-{} already set", weekday_name(other.weekday), other.start, other.end))),
        None => Ok(()),
    }
}

/// Refuses, inside a write transaction, a closed day or extra hours that clash with the
/// provider's others on that date: a day is closed once, extra hours do not overlap.
macro_rules! same_day_check {
    ($tx:ident, $provider_id:expr, $def:expr) => {{
        let def: &ExceptionDef = $def;
        let same_day: Vec<(String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT kind, starts_at, ends_at FROM schedule_exceptions WHERE provider_id = $1 AND on_date = $2",
        )
        .bind($provider_id).bind(def.date).fetch_all(&mut *$tx).await?;
        for (kind, start, end) in same_day {
            match (&def.extra, kind.as_str(), start, end) {
                (None, "closed", _, _) => return Err(refused("date", format!("{} is already closed", def.date))),
                (Some((s, e)), "extra", Some(start), Some(end)) if *s < time(&end)? && time(&start)? < *e => {
                    return Err(refused("start", format!("overlaps the extra hours {start}-{end} of {}", def.date)))
                }
                _ => {}
            }
        }
    }};
}

impl Store {
    pub async fn provider_schedule(&self, clinic_id: i64, provider_id: i64) -> Result<ProviderSchedule, StoreError> {
        with_pool!(self, pool => {
            let mine: Option<(i64,)> = sqlx::query_as("SELECT id FROM providers WHERE id = $1 AND clinic_id = $2")
                .bind(provider_id).bind(clinic_id).fetch_optional(pool).await?;
            mine.ok_or(StoreError::NotFound("provider"))?;
            let mut s = ProviderSchedule::default();
            let hours: Vec<(i64, i64, i32, String, String, Option<NaiveDate>, Option<NaiveDate>)> = sqlx::query_as(
                "SELECT id, location_id, weekday, starts_at, ends_at, valid_from, valid_until FROM working_hours
                  WHERE provider_id = $1 ORDER BY weekday, starts_at, location_id, id",
            )
            .bind(provider_id).fetch_all(pool).await?;
            for (id, location_id, weekday, start, end, valid_from, valid_until) in hours {
                let weekday = u8::try_from(weekday).map_err(|_| StoreError::Corrupt(format!("weekday {weekday}")))?;
                s.hours.push(HoursEntry { id, def: HoursDef { location_id, weekday, start: time(&start)?, end: time(&end)?, valid_from, valid_until } });
            }
            let exceptions: Vec<(i64, NaiveDate, String, Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT id, on_date, kind, starts_at, ends_at FROM schedule_exceptions WHERE provider_id = $1 ORDER BY on_date, starts_at, id",
            )
            .bind(provider_id).fetch_all(pool).await?;
            for (id, date, kind, start, end) in exceptions {
                let def = match (kind.as_str(), start, end) {
                    ("extra", Some(start), Some(end)) => ExceptionDef { date, extra: Some((time(&start)?, time(&end)?)) },
                    _ => ExceptionDef::closed(date),
                };
                s.exceptions.push(ExceptionEntry { id, def });
            }
            for row in sqlx::query("SELECT id, starts_at, ends_at, label FROM schedule_blocks WHERE provider_id = $1 ORDER BY starts_at, id")
                .bind(provider_id).fetch_all(pool).await?
            {
                s.blocks.push(BlockEntry {
                    id: row.try_get("id")?,
                    start: row_time(pool, &row, "starts_at")?,
                    end: row_time(pool, &row, "ends_at")?,
                    label: row.try_get("label")?,
                });
            }
            Ok(s)
        })
    }

    /// Adds weekly hours. Refused when the location is not one of the clinic's current ones,
    /// or when the hours overlap the provider's other hours (at any location) on some date.
    pub async fn add_hours(&self, clinic_id: i64, actor: &Actor, provider_id: i64, def: &HoursDef, now: DateTime<Utc>) -> Result<i64, StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[provider_id]).await?;
            own_provider!(tx, pool, clinic_id, provider_id);
            let location_name = hours_location!(tx, clinic_id, def, now);
            no_overlap(def, &hours_of!(tx, provider_id))?;
            let id = insert_hours!(tx, provider_id, def);
            let detail = json!({
                "provider": provider_id, "id": id, "location": location_name, "weekday": weekday_name(def.weekday),
                "start": def.start, "end": def.end, "validFrom": def.valid_from, "validUntil": def.valid_until,
            });
            insert_audit!(tx, pool, clinic_id, actor, "hours.add", detail.to_string(), now);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Adds a closed day or extra hours. A day is closed once; extra hours may not overlap
    /// other extra hours of the same day.
    pub async fn add_exception(
        &self,
        clinic_id: i64,
        actor: &Actor,
        provider_id: i64,
        def: &ExceptionDef,
        stranding: Stranding,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[provider_id]).await?;
            own_provider!(tx, pool, clinic_id, provider_id);
            same_day_check!(tx, provider_id, def);
            let stranded = strand_check!(tx, pool, clinic_id, Some(provider_id), &ScheduleChange::AddException(def.clone()), stranding, now);
            let flagged = flag_all!(tx, pool, stranded, now);
            let (id, _, start, end) = insert_exception!(tx, provider_id, def);
            let action = if def.extra.is_some() { "extraHours.add" } else { "closedDay.add" };
            insert_audit!(tx, pool, clinic_id, actor, action, json!({ "provider": provider_id, "id": id, "date": def.date, "start": start, "end": end, "flagged": flagged }).to_string(), now);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Blocks a provider's time (a meeting, a training) with a label staff see.
    pub async fn add_block(
        &self,
        clinic_id: i64,
        actor: &Actor,
        provider_id: i64,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        label: &str,
        stranding: Stranding,
        now: DateTime<Utc>,
    ) -> Result<i64, StoreError> {
        if end <= start {
            return Err(refused("end", "is not after the start"));
        }
        if end - start > chrono::Duration::days(MAX_BLOCK_DAYS) {
            return Err(refused("end", format!("a block lasts at most {MAX_BLOCK_DAYS} days")));
        }
        let label = domain::catalogue::check_text("label", label, 120).map_err(StoreError::Rule)?.replace('\n', " ");
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[provider_id]).await?;
            own_provider!(tx, pool, clinic_id, provider_id);
            let block = domain::Interval { start, end };
            let stranded = strand_check!(tx, pool, clinic_id, Some(provider_id), &ScheduleChange::AddBlock(block), stranding, now);
            let flagged = flag_all!(tx, pool, stranded, now);
            let (id,): (i64,) = sqlx::query_as("INSERT INTO schedule_blocks (provider_id, starts_at, ends_at, label) VALUES ($1, $2, $3, $4) RETURNING id")
                .bind(provider_id).bind(db_time(pool, start)).bind(db_time(pool, end)).bind(&label).fetch_one(&mut *tx).await?;
            insert_audit!(tx, pool, clinic_id, actor, "block.add", json!({ "provider": provider_id, "id": id, "start": start, "end": end, "label": label, "flagged": flagged }).to_string(), now);
            tx.commit().await?;
            Ok(id)
        })
    }

    /// Removes one of a provider's rules. Appointments inside removed hours stay booked.
    #[allow(clippy::too_many_arguments)]
    pub async fn remove_rule(
        &self,
        clinic_id: i64,
        actor: &Actor,
        provider_id: i64,
        kind: RuleKind,
        id: i64,
        stranding: Stranding,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[provider_id]).await?;
            own_provider!(tx, pool, clinic_id, provider_id);
            let stranded = strand_check!(tx, pool, clinic_id, Some(provider_id), &ScheduleChange::RemoveRule(kind, id), stranding, now);
            let flagged = flag_all!(tx, pool, stranded, now);
            let removed = sqlx::query(&format!("DELETE FROM {} WHERE id = $1 AND provider_id = $2", kind.table()))
                .bind(id).bind(provider_id).execute(&mut *tx).await?;
            if removed.rows_affected() == 0 {
                return Err(StoreError::NotFound(kind.name()));
            }
            insert_audit!(tx, pool, clinic_id, actor, format!("{}.remove", kind.name()), json!({ "provider": provider_id, "id": id, "flagged": flagged }).to_string(), now);
            tx.commit().await?;
            Ok(())
        })
    }

    async fn provider_ids(&self, clinic_id: i64) -> Result<Vec<i64>, StoreError> {
        let rows: Vec<(i64,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT id FROM providers WHERE clinic_id = $1").bind(clinic_id).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    pub async fn clinic_holidays(&self, clinic_id: i64) -> Result<Vec<Holiday>, StoreError> {
        let rows: Vec<(NaiveDate, String)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT on_date, name FROM holidays WHERE clinic_id = $1 ORDER BY on_date").bind(clinic_id).fetch_all(pool).await?
        });
        Ok(rows.into_iter().map(|(date, name)| Holiday { date, name }).collect())
    }

    /// Closes the whole clinic on `date`. A date is a holiday once.
    pub async fn add_holiday(
        &self,
        clinic_id: i64,
        actor: &Actor,
        date: NaiveDate,
        name: &str,
        stranding: Stranding,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let name = domain::staff::check_name("name", name, 120).map_err(StoreError::Rule)?;
        // Every provider's bookings are checked: lock them all, as a booking locks its provider.
        let providers = self.provider_ids(clinic_id).await?;
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &providers).await?;
            holiday_free!(tx, clinic_id, date);
            let stranded = strand_check!(tx, pool, clinic_id, None, &ScheduleChange::AddHoliday(date), stranding, now);
            let flagged = flag_all!(tx, pool, stranded, now);
            sqlx::query("INSERT INTO holidays (clinic_id, on_date, name) VALUES ($1, $2, $3)")
                .bind(clinic_id).bind(date).bind(&name).execute(&mut *tx).await?;
            insert_audit!(tx, pool, clinic_id, actor, "holiday.add", json!({ "date": date, "name": name, "flagged": flagged }).to_string(), now);
            tx.commit().await?;
            Ok(())
        })
    }

    pub async fn remove_holiday(&self, clinic_id: i64, actor: &Actor, date: NaiveDate, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let removed = sqlx::query("DELETE FROM holidays WHERE clinic_id = $1 AND on_date = $2").bind(clinic_id).bind(date).execute(&mut *tx).await?;
            if removed.rows_affected() == 0 {
                return Err(StoreError::NotFound("holiday"));
            }
            insert_audit!(tx, pool, clinic_id, actor, "holiday.remove", json!({ "date": date }).to_string(), now);
            tx.commit().await?;
            Ok(())
        })
    }
}

/// Rules to add in one `replace_rules`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewRules {
    pub hours: Vec<HoursDef>,
    pub exceptions: Vec<ExceptionDef>,
    /// (start, end, label)
    pub blocks: Vec<(DateTime<Utc>, DateTime<Utc>, String)>,
}

impl Store {
    /// Removes some of a provider's rules and adds others in one transaction, checking the
    /// stranded appointments against the rules as they are after both: moving hours from
    /// 08:00-12:00 to 08:00-13:00 strands nobody, although removing the first alone would.
    /// Each addition is checked as `add_hours` and `add_exception` check theirs. Returns the
    /// appointments flagged (with `Stranding::Flag`).
    #[allow(clippy::too_many_arguments)]
    pub async fn replace_rules(
        &self,
        clinic_id: i64,
        actor: &Actor,
        provider_id: i64,
        remove: &[(RuleKind, i64)],
        add: &NewRules,
        stranding: Stranding,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        for (start, end, _) in &add.blocks {
            if end <= start {
                return Err(refused("end", "is not after the start"));
            }
        }
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[provider_id]).await?;
            own_provider!(tx, pool, clinic_id, provider_id);
            let mut location_names = std::collections::HashMap::new();
            for def in &add.hours {
                location_names.insert(def.location_id, hours_location!(tx, clinic_id, def, now));
            }
            let candidates = crate::attention::open_appointments!(&mut *tx, pool, clinic_id, Some(provider_id), now);
            let found = if candidates.is_empty() {
                Vec::new()
            } else {
                let before = crate::attention::load_rules!(&mut *tx, pool, clinic_id, Some(provider_id), now);
                let after = before.replaced(provider_id, remove, add);
                crate::attention::stranded(&candidates, &before, &after)
            };
            if !found.is_empty() && stranding == Stranding::Refuse {
                return Err(StoreError::WouldStrand(found.len()));
            }
            for (kind, id) in remove {
                let removed = sqlx::query(&format!("DELETE FROM {} WHERE id = $1 AND provider_id = $2", kind.table()))
                    .bind(id).bind(provider_id).execute(&mut *tx).await?;
                if removed.rows_affected() == 0 {
                    return Err(StoreError::NotFound(kind.name()));
                }
            }
            // After the removals: what is added must not overlap what stays, nor what else
            // is added.
            let mut hours = hours_of!(tx, provider_id);
            let mut added = Vec::new();
            for def in &add.hours {
                no_overlap(def, &hours)?;
                insert_hours!(tx, provider_id, def);
                added.push(json!({
                    "hours": { "location": location_names.get(&def.location_id), "weekday": weekday_name(def.weekday),
                               "start": def.start, "end": def.end, "validFrom": def.valid_from, "validUntil": def.valid_until }
                }));
                hours.push(def.clone());
            }
            for def in &add.exceptions {
                same_day_check!(tx, provider_id, def);
                let (_, kind, start, end) = insert_exception!(tx, provider_id, def);
                added.push(json!({ kind: { "date": def.date, "start": start, "end": end } }));
            }
            for (start, end, label) in &add.blocks {
                sqlx::query("INSERT INTO schedule_blocks (provider_id, starts_at, ends_at, label) VALUES ($1, $2, $3, $4)")
                    .bind(provider_id).bind(db_time(pool, *start)).bind(db_time(pool, *end)).bind(label).execute(&mut *tx).await?;
                added.push(json!({ "block": { "start": start, "end": end, "label": label } }));
            }
            let flagged = flag_all!(tx, pool, found, now);
            let removed: Vec<_> = remove.iter().map(|(kind, id)| json!({ "kind": kind.name(), "id": id })).collect();
            let detail = json!({ "provider": provider_id, "removed": removed, "added": added, "flagged": flagged });
            insert_audit!(tx, pool, clinic_id, actor, "schedule.replace", detail.to_string(), now);
            tx.commit().await?;
            Ok(flagged)
        })
    }

    /// Removes and adds clinic holidays in one transaction (a renamed holiday is both),
    /// checking the stranded appointments against the holidays as they are after both.
    pub async fn replace_holidays(
        &self,
        clinic_id: i64,
        actor: &Actor,
        remove: &[NaiveDate],
        add: &[(NaiveDate, String)],
        stranding: Stranding,
        now: DateTime<Utc>,
    ) -> Result<Vec<i64>, StoreError> {
        let mut named = Vec::new();
        for (date, name) in add {
            named.push((*date, domain::staff::check_name("name", name, 120).map_err(StoreError::Rule)?));
        }
        let providers = self.provider_ids(clinic_id).await?;
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &providers).await?;
            let candidates = crate::attention::open_appointments!(&mut *tx, pool, clinic_id, None::<i64>, now);
            let found = if candidates.is_empty() {
                Vec::new()
            } else {
                let before = crate::attention::load_rules!(&mut *tx, pool, clinic_id, None::<i64>, now);
                let mut after = before.clone();
                after.holidays.retain(|d| !remove.contains(d));
                after.holidays.extend(named.iter().map(|(d, _)| *d));
                crate::attention::stranded(&candidates, &before, &after)
            };
            if !found.is_empty() && stranding == Stranding::Refuse {
                return Err(StoreError::WouldStrand(found.len()));
            }
            for date in remove {
                let removed = sqlx::query("DELETE FROM holidays WHERE clinic_id = $1 AND on_date = $2").bind(clinic_id).bind(date).execute(&mut *tx).await?;
                if removed.rows_affected() == 0 {
                    return Err(StoreError::NotFound("holiday"));
                }
            }
            for (date, name) in &named {
                holiday_free!(tx, clinic_id, *date);
                sqlx::query("INSERT INTO holidays (clinic_id, on_date, name) VALUES ($1, $2, $3)")
                    .bind(clinic_id).bind(date).bind(name).execute(&mut *tx).await?;
            }
            let flagged = flag_all!(tx, pool, found, now);
            let added: Vec<_> = named.iter().map(|(date, name)| json!({ "date": date, "name": name })).collect();
            insert_audit!(tx, pool, clinic_id, actor, "holidays.replace", json!({ "removed": remove, "added": added, "flagged": flagged }).to_string(), now);
            tx.commit().await?;
            Ok(flagged)
        })
    }
}
