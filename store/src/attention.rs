//! Nothing booked is lost by an edit. A change to a provider's schedule (or to what they
//! offer) never moves or cancels an appointment: the store works out which future
//! appointments the change would leave outside the provider's rules, refuses the change
//! unless the caller chose to keep them, and then flags them, in the same transaction, for
//! staff to resolve. The same rules feed a week preview of the bookable times a change
//! produces, computed by the slot engine before anything is saved.

use crate::audit::insert_audit;
use crate::schedule_admin::{NewRules, RuleKind};
use crate::staff::Actor;
use crate::time::{db_time, row_time};
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::availability::{misfit, provider_slots, DateException, Misfit, ProviderCalendar, SlotQuery, WeeklyRule};
use domain::schedule::{ExceptionDef, HoursDef};
use domain::zone::parse_zone;
use domain::{DomainError, Interval, WeeklyInterval};
use serde_json::json;
use sqlx::Row;
use std::collections::BTreeSet;

/// What to do when a change would leave booked appointments outside the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stranding {
    /// Save nothing and answer `StoreError::WouldStrand` (the console then lists them).
    Refuse,
    /// Save, keep the appointments booked and flag them as needing attention.
    Flag,
}

/// One proposed change to a provider's schedule or the clinic's holidays.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScheduleChange {
    AddHours(HoursDef),
    AddException(ExceptionDef),
    AddBlock(Interval),
    RemoveRule(RuleKind, i64),
    AddHoliday(NaiveDate),
}

/// A future appointment as staff need to see it to decide what to do with it.
#[derive(Debug, Clone, PartialEq)]
pub struct AffectedAppointment {
    pub appointment_id: i64,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub time_zone: Tz,
    pub provider_id: i64,
    pub provider_name: String,
    pub location_id: i64,
    pub service_id: i64,
    /// The product's name, or the service's when the appointment has no product.
    pub what: String,
    pub patient: String,
    pub reason: Misfit,
    /// When it was flagged; `None` in a preview.
    pub since: Option<DateTime<Utc>>,
}

/// A provider's or a clinic's rules, with row ids so that a removal can be previewed.
#[derive(Debug, Clone, Default)]
pub(crate) struct RuleSet {
    /// (id, provider, location, rule)
    pub(crate) hours: Vec<(i64, i64, i64, WeeklyRule)>,
    /// (id, provider, exception)
    pub(crate) exceptions: Vec<(i64, i64, DateException)>,
    /// (id, provider, block)
    pub(crate) blocks: Vec<(i64, i64, Interval)>,
    pub(crate) holidays: Vec<NaiveDate>,
}

impl RuleSet {
    /// The rules as they would be after `change` to `provider`'s schedule.
    fn with(&self, provider: i64, change: &ScheduleChange) -> RuleSet {
        let mut add = NewRules::default();
        let mut remove = Vec::new();
        match change {
            ScheduleChange::AddHours(def) => add.hours.push(def.clone()),
            ScheduleChange::AddException(def) => add.exceptions.push(def.clone()),
            ScheduleChange::AddBlock(block) => add.blocks.push((block.start, block.end, String::new())),
            ScheduleChange::RemoveRule(kind, id) => remove.push((*kind, *id)),
            ScheduleChange::AddHoliday(date) => {
                let mut next = self.clone();
                next.holidays.push(*date);
                return next;
            }
        }
        self.replaced(provider, &remove, &add)
    }

    /// The rules after `replace_rules` removes `remove` and adds `add` to `provider`'s.
    pub(crate) fn replaced(&self, provider: i64, remove: &[(RuleKind, i64)], add: &NewRules) -> RuleSet {
        let mut next = self.clone();
        next.hours.retain(|h| !remove.contains(&(RuleKind::Hours, h.0)));
        next.exceptions.retain(|e| !remove.contains(&(RuleKind::Exception, e.0)));
        next.blocks.retain(|b| !remove.contains(&(RuleKind::Block, b.0)));
        for def in &add.hours {
            if let Ok(rule) = weekly_rule(def) {
                next.hours.push((0, provider, def.location_id, rule));
            }
        }
        next.exceptions.extend(add.exceptions.iter().map(|def| (0, provider, exception(def))));
        next.blocks.extend(add.blocks.iter().filter_map(|(start, end, _)| Interval::new(*start, *end)).map(|b| (0, provider, b)));
        next
    }

    fn calendar(&self, provider: i64, location: i64) -> OwnedCalendar {
        OwnedCalendar {
            weekly: self.hours.iter().filter(|h| h.1 == provider && h.2 == location).map(|h| h.3).collect(),
            exceptions: self.exceptions.iter().filter(|e| e.1 == provider).map(|e| e.2).collect(),
            blocks: self.blocks.iter().filter(|b| b.1 == provider).map(|b| b.2).collect(),
        }
    }

    fn misfit(&self, a: &Candidate) -> Option<Misfit> {
        let cal = self.calendar(a.provider_id, a.location_id);
        let view = ProviderCalendar { weekly: &cal.weekly, exceptions: &cal.exceptions, blocks: &cal.blocks, busy: &[] };
        misfit(a.time_zone, &self.holidays, &view, &Interval { start: a.start, end: a.end })
    }

    /// The locations where `provider` has weekly hours, in id order.
    fn locations_of(&self, provider: i64) -> BTreeSet<i64> {
        self.hours.iter().filter(|h| h.1 == provider).map(|h| h.2).collect()
    }
}

#[derive(Debug, Default)]
struct OwnedCalendar {
    weekly: Vec<WeeklyRule>,
    exceptions: Vec<DateException>,
    blocks: Vec<Interval>,
}

pub(crate) fn weekly_rule(def: &HoursDef) -> Result<WeeklyRule, DomainError> {
    let hours = WeeklyInterval::new(WeeklyInterval::weekday_from_iso(i64::from(def.weekday))?, def.start, def.end)?;
    Ok(WeeklyRule { hours, valid_from: def.valid_from, valid_until: def.valid_until })
}

pub(crate) fn exception(def: &ExceptionDef) -> DateException {
    match def.extra {
        None => DateException::Closed { date: def.date },
        Some((start, end)) => DateException::ExtraHours { date: def.date, start, end },
    }
}

/// A future, still booked appointment, with what the lists show.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub(crate) appointment_id: i64,
    pub(crate) provider_id: i64,
    pub(crate) location_id: i64,
    pub(crate) service_id: i64,
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) time_zone: Tz,
    pub(crate) provider_name: String,
    pub(crate) what: String,
    pub(crate) patient: String,
}

impl Candidate {
    pub(crate) fn affected(&self, reason: Misfit, since: Option<DateTime<Utc>>) -> AffectedAppointment {
        AffectedAppointment {
            appointment_id: self.appointment_id,
            start: self.start,
            end: self.end,
            time_zone: self.time_zone,
            provider_id: self.provider_id,
            provider_name: self.provider_name.clone(),
            location_id: self.location_id,
            service_id: self.service_id,
            what: self.what.clone(),
            patient: self.patient.clone(),
            reason,
            since,
        }
    }
}

/// The columns the lists show; `a` is the appointment.
pub(crate) const AFFECTED_COLUMNS: &str = "a.id, a.provider_id, a.location_id, a.service_id, a.starts_at, a.ends_at, a.time_zone,
        a.attention, a.attention_since, pr.display_name,
        COALESCE(pt.first_name || ' ' || pt.last_name, '') AS patient, COALESCE(prod.name, s.name) AS what
   FROM appointments a
   JOIN providers pr ON pr.id = a.provider_id
   JOIN services s ON s.id = a.service_id
   LEFT JOIN products prod ON prod.id = a.product_id
   LEFT JOIN patients pt ON pt.id = COALESCE(a.participant_id, a.booker_id)";

/// Reads `Candidate`s: `$exec` is a pool or `&mut *tx`, the query selects `AFFECTED_COLUMNS`.
macro_rules! candidates {
    ($exec:expr, $pool:ident, $query:expr) => {{
        let mut out = Vec::new();
        for row in $query.fetch_all($exec).await? {
            let zone: String = ::sqlx::Row::try_get(&row, "time_zone")?;
            out.push((
                $crate::attention::Candidate {
                    appointment_id: ::sqlx::Row::try_get(&row, "id")?,
                    provider_id: ::sqlx::Row::try_get(&row, "provider_id")?,
                    location_id: ::sqlx::Row::try_get(&row, "location_id")?,
                    service_id: ::sqlx::Row::try_get(&row, "service_id")?,
                    start: $crate::time::row_time($pool, &row, "starts_at")?,
                    end: $crate::time::row_time($pool, &row, "ends_at")?,
                    time_zone: ::domain::zone::parse_zone(&zone)?,
                    provider_name: ::sqlx::Row::try_get(&row, "display_name")?,
                    what: ::sqlx::Row::try_get(&row, "what")?,
                    patient: ::sqlx::Row::try_get(&row, "patient")?,
                },
                row.try_get::<Option<String>, _>("attention")?,
                $crate::time::row_time_opt($pool, &row, "attention_since")?,
            ));
        }
        out
    }};
}

/// Future appointments of the clinic (or of one provider) that are booked and not flagged.
macro_rules! open_appointments {
    ($exec:expr, $pool:ident, $clinic_id:expr, $provider:expr, $now:expr) => {{
        let sql = format!(
            "SELECT {}
              WHERE a.clinic_id = $1 AND ($2 IS NULL OR a.provider_id = $2) AND a.status IN ('pending', 'booked')
                AND a.starts_at >= $3 AND a.attention IS NULL
              ORDER BY a.starts_at, a.id",
            $crate::attention::AFFECTED_COLUMNS
        );
        let query = sqlx::query(&sql).bind($clinic_id).bind($provider).bind($crate::time::db_time($pool, $now));
        $crate::attention::candidates!($exec, $pool, query).into_iter().map(|c| c.0).collect::<Vec<$crate::attention::Candidate>>()
    }};
}

/// The rules of the clinic's providers (or of one) that can matter from `$now` on.
macro_rules! load_rules {
    ($exec:expr, $pool:ident, $clinic_id:expr, $provider:expr, $now:expr) => {{
        let mut set = $crate::attention::RuleSet::default();
        // Local dates run up to a day behind UTC: read from two days back.
        let since = ($now - ::chrono::Duration::days(2)).date_naive();
        let hours: Vec<(i64, i64, i64, i32, String, String, Option<::chrono::NaiveDate>, Option<::chrono::NaiveDate>)> = sqlx::query_as(
            "SELECT w.id, w.provider_id, w.location_id, w.weekday, w.starts_at, w.ends_at, w.valid_from, w.valid_until
               FROM working_hours w JOIN providers p ON p.id = w.provider_id
              WHERE p.clinic_id = $1 AND ($2 IS NULL OR p.id = $2)",
        )
        .bind($clinic_id).bind($provider).fetch_all($exec).await?;
        for (id, provider, location, weekday, start, end, valid_from, valid_until) in hours {
            let hours = ::domain::WeeklyInterval::new(::domain::WeeklyInterval::weekday_from_iso(i64::from(weekday))?, ::domain::LocalTime::parse(&start)?, ::domain::LocalTime::parse(&end)?)?;
            set.hours.push((id, provider, location, ::domain::availability::WeeklyRule { hours, valid_from, valid_until }));
        }
        let exceptions: Vec<(i64, i64, ::chrono::NaiveDate, String, Option<String>, Option<String>)> = sqlx::query_as(
            "SELECT e.id, e.provider_id, e.on_date, e.kind, e.starts_at, e.ends_at
               FROM schedule_exceptions e JOIN providers p ON p.id = e.provider_id
              WHERE p.clinic_id = $1 AND ($2 IS NULL OR p.id = $2) AND e.on_date >= $3",
        )
        .bind($clinic_id).bind($provider).bind(since).fetch_all($exec).await?;
        for (id, provider, date, kind, start, end) in exceptions {
            let e = match (kind.as_str(), start, end) {
                ("extra", Some(s), Some(e)) => ::domain::availability::DateException::ExtraHours { date, start: ::domain::LocalTime::parse(&s)?, end: ::domain::LocalTime::parse(&e)? },
                _ => ::domain::availability::DateException::Closed { date },
            };
            set.exceptions.push((id, provider, e));
        }
        let blocks = sqlx::query(
            "SELECT b.id, b.provider_id, b.starts_at, b.ends_at FROM schedule_blocks b JOIN providers p ON p.id = b.provider_id
              WHERE p.clinic_id = $1 AND ($2 IS NULL OR p.id = $2) AND b.ends_at > $3",
        )
        .bind($clinic_id).bind($provider).bind($crate::time::db_time($pool, $now - ::chrono::Duration::days(1))).fetch_all($exec).await?;
        for row in blocks {
            let block = ::domain::Interval::new($crate::time::row_time($pool, &row, "starts_at")?, $crate::time::row_time($pool, &row, "ends_at")?)
                .ok_or_else(|| $crate::StoreError::Corrupt("a block ends before it starts".into()))?;
            set.blocks.push((::sqlx::Row::try_get(&row, "id")?, ::sqlx::Row::try_get(&row, "provider_id")?, block));
        }
        let holidays: Vec<(::chrono::NaiveDate,)> = sqlx::query_as("SELECT on_date FROM holidays WHERE clinic_id = $1 AND on_date >= $2")
            .bind($clinic_id).bind(since).fetch_all($exec).await?;
        set.holidays = holidays.into_iter().map(|h| h.0).collect();
        set
    }};
}

/// The appointments that fit `before` but not `after`, with the reason.
pub(crate) fn stranded(candidates: &[Candidate], before: &RuleSet, after: &RuleSet) -> Vec<AffectedAppointment> {
    candidates
        .iter()
        .filter(|c| before.misfit(c).is_none())
        .filter_map(|c| after.misfit(c).map(|reason| c.affected(reason, None)))
        .collect()
}

/// Evaluates, inside a write transaction, to the appointments `$change` to `$provider`'s
/// schedule (`None`: a clinic-wide change) would strand; returns `WouldStrand` when there
/// are some and `$stranding` is `Refuse`.
macro_rules! strand_check {
    ($tx:ident, $pool:ident, $clinic_id:expr, $provider:expr, $change:expr, $stranding:expr, $now:expr) => {{
        let provider: Option<i64> = $provider;
        let candidates = $crate::attention::open_appointments!(&mut *$tx, $pool, $clinic_id, provider, $now);
        let found = if candidates.is_empty() {
            Vec::new()
        } else {
            let before = $crate::attention::load_rules!(&mut *$tx, $pool, $clinic_id, provider, $now);
            $crate::attention::stranded_by_change(&candidates, &before, provider, $change)
        };
        if !found.is_empty() && $stranding == $crate::attention::Stranding::Refuse {
            return Err($crate::StoreError::WouldStrand(found.len()));
        }
        found
    }};
}

/// Flags `$found` (from `strand_check!` or `appointments_of!`) inside the transaction;
/// evaluates to their ids for the audit row.
macro_rules! flag_all {
    ($tx:ident, $pool:ident, $found:expr, $now:expr) => {{
        let mut ids = Vec::new();
        for a in $found.iter() {
            sqlx::query("UPDATE appointments SET attention = $1, attention_since = $2 WHERE id = $3 AND attention IS NULL")
                .bind(a.reason.code())
                .bind($crate::time::db_time($pool, $now))
                .bind(a.appointment_id)
                .execute(&mut *$tx)
                .await?;
            ids.push(a.appointment_id);
        }
        ids
    }};
}

/// Evaluates, inside a write transaction, to the open future appointments of `$provider`
/// (optionally only those of one service), marked with `$reason`: the appointments an
/// archived provider or a service they no longer offer would strand.
macro_rules! appointments_of {
    ($tx:ident, $pool:ident, $clinic_id:expr, $provider:expr, $services:expr, $reason:expr, $stranding:expr, $now:expr) => {{
        let services: Option<&[i64]> = $services;
        let candidates = $crate::attention::open_appointments!(&mut *$tx, $pool, $clinic_id, Some($provider), $now);
        let found: Vec<$crate::attention::AffectedAppointment> = candidates
            .iter()
            .filter(|c| services.is_none_or(|s| s.contains(&c.service_id)))
            .map(|c| c.affected($reason, None))
            .collect();
        if !found.is_empty() && $stranding == $crate::attention::Stranding::Refuse {
            return Err($crate::StoreError::WouldStrand(found.len()));
        }
        found
    }};
}

pub(crate) use {appointments_of, candidates, flag_all, load_rules, open_appointments, strand_check};

pub(crate) fn stranded_by_change(candidates: &[Candidate], before: &RuleSet, provider: Option<i64>, change: &ScheduleChange) -> Vec<AffectedAppointment> {
    // A clinic-wide change (holidays) applies the same to every provider.
    let after = before.with(provider.unwrap_or(0), change);
    stranded(candidates, before, &after)
}

/// How one bookable time of a week preview compares with the rules as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlotChange {
    Kept,
    Added,
    Removed,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PreviewDay {
    pub date: NaiveDate,
    pub slots: Vec<(DateTime<Utc>, SlotChange)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PreviewLocation {
    pub location_id: i64,
    pub name: String,
    pub time_zone: Tz,
    pub days: Vec<PreviewDay>,
}

/// Seven days of one provider's bookable times for one product, as patients would be offered
/// them now, with and without a proposed change (`stranded_by` names whom it strands).
#[derive(Debug, Clone, PartialEq)]
pub struct WeekPreview {
    pub from: NaiveDate,
    pub locations: Vec<PreviewLocation>,
}

impl Store {
    /// The appointments a change would strand, without saving anything.
    pub async fn stranded_by(
        &self,
        clinic_id: i64,
        provider: Option<i64>,
        change: &ScheduleChange,
        now: DateTime<Utc>,
    ) -> Result<Vec<AffectedAppointment>, StoreError> {
        with_pool!(self, pool => {
            let candidates = open_appointments!(pool, pool, clinic_id, provider, now);
            if candidates.is_empty() {
                return Ok(Vec::new());
            }
            let before = load_rules!(pool, pool, clinic_id, provider, now);
            Ok(stranded_by_change(&candidates, &before, provider, change))
        })
    }

    /// The week from `from` of `provider`'s bookable times for `product`, before and after
    /// `change` (none: the rules as they are), computed by the slot engine with the
    /// appointments and holds that are booked now.
    pub async fn week_preview(
        &self,
        clinic_id: i64,
        provider: i64,
        product: i64,
        from: NaiveDate,
        change: Option<&ScheduleChange>,
        now: DateTime<Utc>,
    ) -> Result<WeekPreview, StoreError> {
        let to = from + Duration::days(6);
        let week_start = from.and_time(chrono::NaiveTime::MIN).and_utc();
        // Rules and busy time from the earlier of now and the week's start.
        let since = now.min(week_start);
        let (rules, locations, busy, before) = with_pool!(self, pool => {
            let mine: Option<(i64,)> = sqlx::query_as("SELECT id FROM providers WHERE id = $1 AND clinic_id = $2")
                .bind(provider).bind(clinic_id).fetch_optional(pool).await?;
            mine.ok_or(StoreError::NotFound("provider"))?;
            let sql = format!("{} WHERE p.id = $1 AND p.clinic_id = $2 AND p.archived_at IS NULL", crate::availability::PRODUCT_RULES);
            let row = sqlx::query(&sql).bind(product).bind(clinic_id).fetch_optional(pool).await?.ok_or(StoreError::NotFound("product"))?;
            let rules = crate::availability::ProductRules::from_row(&row)?;
            let locations: Vec<(i64, String, String)> = sqlx::query_as("SELECT id, name, time_zone FROM locations WHERE clinic_id = $1 ORDER BY id")
                .bind(clinic_id).fetch_all(pool).await?;
            // Busy time around the week, with a day's margin for zones and buffers.
            let (lo, hi) = (since - Duration::days(2), week_start + Duration::days(10));
            let mut busy = Vec::new();
            let rows = sqlx::query(
                "SELECT starts_at, ends_at FROM appointments WHERE provider_id = $1 AND status IN ('pending', 'booked', 'checked_in', 'completed')
                    AND starts_at < $3 AND ends_at > $2
                 UNION ALL
                 SELECT starts_at, ends_at FROM holds WHERE provider_id = $1 AND expires_at > $4 AND starts_at < $3 AND ends_at > $2",
            )
            .bind(provider).bind(db_time(pool, lo)).bind(db_time(pool, hi)).bind(db_time(pool, now)).fetch_all(pool).await?;
            for row in rows {
                if let Some(i) = Interval::new(row_time(pool, &row, "starts_at")?, row_time(pool, &row, "ends_at")?) {
                    busy.push(i);
                }
            }
            let set = load_rules!(pool, pool, clinic_id, Some(provider), since);
            (rules, locations, busy, set)
        });
        let after = change.map(|c| before.with(provider, c));
        let (_, slot_rules) = rules.slot_rules(false);
        let mut shown: BTreeSet<i64> = before.locations_of(provider);
        if let Some(after) = &after {
            shown.extend(after.locations_of(provider));
        }
        let mut out = Vec::new();
        for (location_id, name, zone) in locations.into_iter().filter(|l| shown.contains(&l.0)) {
            let tz = parse_zone(&zone)?;
            let slots = |set: &RuleSet| -> Result<Vec<Interval>, StoreError> {
                let cal = set.calendar(provider, location_id);
                let query = SlotQuery { tz, from, to, holidays: &set.holidays, rules: slot_rules, now };
                let view = ProviderCalendar { weekly: &cal.weekly, exceptions: &cal.exceptions, blocks: &cal.blocks, busy: &busy };
                provider_slots(&query, &view).map_err(StoreError::Rule)
            };
            let now_offered = slots(&before)?;
            let merged = match &after {
                None => now_offered.iter().map(|s| (s.start, SlotChange::Kept)).collect(),
                Some(after) => compare(&now_offered, &slots(after)?),
            };
            let days = (0..7)
                .map(|i| {
                    let date = from + Duration::days(i);
                    let slots = merged.iter().filter(|(start, _)| start.with_timezone(&tz).date_naive() == date).copied().collect();
                    PreviewDay { date, slots }
                })
                .collect();
            out.push(PreviewLocation { location_id, name, time_zone: tz, days });
        }
        Ok(WeekPreview { from, locations: out })
    }

    /// The clinic's future booked appointments flagged by an edit, soonest first.
    pub async fn needing_attention(&self, clinic_id: i64, now: DateTime<Utc>) -> Result<Vec<AffectedAppointment>, StoreError> {
        with_pool!(self, pool => {
            let sql = format!(
                "SELECT {AFFECTED_COLUMNS}
                  WHERE a.clinic_id = $1 AND a.attention IS NOT NULL AND a.status IN ('pending', 'booked') AND a.ends_at > $2
                  ORDER BY a.starts_at, a.id"
            );
            let query = sqlx::query(&sql).bind(clinic_id).bind(db_time(pool, now));
            let mut out = Vec::new();
            for (c, attention, since) in candidates!(pool, pool, query) {
                let reason = attention.as_deref().and_then(Misfit::parse)
                    .ok_or_else(|| StoreError::Corrupt(format!("attention {attention:?}")))?;
                out.push(c.affected(reason, since));
            }
            Ok(out)
        })
    }

    /// Staff keep a flagged appointment as it is: the flag goes, the appointment stays.
    pub async fn keep_flagged(&self, clinic_id: i64, actor: &Actor, appointment_id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let flagged: Option<(i64,)> = sqlx::query_as(
                "UPDATE appointments SET attention = NULL, attention_since = NULL
                  WHERE id = $1 AND clinic_id = $2 AND attention IS NOT NULL RETURNING id",
            )
            .bind(appointment_id).bind(clinic_id).fetch_optional(&mut *tx).await?;
            let Some(_) = flagged else { return Err(StoreError::NotFound("flagged appointment")) };
            insert_audit!(tx, pool, clinic_id, actor, "appointment.keep", json!({ "appointment": appointment_id }).to_string(), now);
            tx.commit().await?;
            Ok(())
        })
    }
}

/// Every start of `before` and `after`, in order, marked kept, added or removed.
fn compare(before: &[Interval], after: &[Interval]) -> Vec<(DateTime<Utc>, SlotChange)> {
    let old: BTreeSet<DateTime<Utc>> = before.iter().map(|s| s.start).collect();
    let new: BTreeSet<DateTime<Utc>> = after.iter().map(|s| s.start).collect();
    let mut all: Vec<(DateTime<Utc>, SlotChange)> = old
        .union(&new)
        .map(|t| {
            let change = match (old.contains(t), new.contains(t)) {
                (true, true) => SlotChange::Kept,
                (false, _) => SlotChange::Added,
                (true, false) => SlotChange::Removed,
            };
            (*t, change)
        })
        .collect();
    all.sort_by_key(|s| s.0);
    all
}
