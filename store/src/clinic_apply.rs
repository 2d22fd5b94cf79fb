//! `server clinic export` and `server clinic apply`: a clinic's setup read out as a file
//! (`clinic_file.rs`), and a clinic made to match one.
//!
//! An apply first checks the whole file, then compares it with the clinic and plans the
//! changes: a dry run prints that plan and stops. Entries are matched by key (stored in
//! `file_key`; entries made in the console get a key from their name). What the file leaves
//! out is archived, never deleted. Before anything is written, the plan as a whole is
//! checked for booked appointments it would leave outside the rules: they are listed, and
//! the apply goes ahead only when the operator keeps them (they are then flagged, as in the
//! console). Each step is then one audited transaction through the same store methods as
//! the console; a step refused half way (someone edited the clinic meanwhile) stops the
//! apply, and running it again finishes it, since applying is idempotent.

use crate::attention::{AffectedAppointment, Stranding};
use crate::catalogue_admin::{ClinicCatalogue, Kind};
use crate::clinic_file::{day_name, key_from_name, snake_case, BlockDef, Checked, ClinicFile, ExtraHoursItem, HoursItem, BlockItem, Days, HolidayItem, LocationItem, NotificationsItem, Price, ProductItem, ProviderItem, ServiceItem, Text, BookingItem};
use crate::schedule_admin::{NewRules, ProviderSchedule, RuleKind};
use crate::staff::{Actor, Invitation};
use crate::{with_pool, NewClinic, Store, StoreError};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use domain::catalogue::{format_price, ProductDef, ProviderDef};
use domain::clinic::ClinicSettings;
use domain::notify::NotificationSettings;
use domain::patient::Email;
use domain::schedule::{ExceptionDef, HoursDef};
use domain::staff::ClinicProfile;
use serde_json::Value;
use sqlx::Row;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// What an apply would do: one line per change, and the booked appointments the changes
/// would leave outside the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct ApplyPlan {
    pub changes: Vec<String>,
    pub stranded: Vec<AffectedAppointment>,
}

/// What an apply did.
#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub clinic_id: i64,
    pub changes: Vec<String>,
    /// Appointments kept booked and flagged for staff.
    pub flagged: Vec<i64>,
    /// The owner's setup link, when the apply created the clinic with an owner.
    pub invitation: Option<Invitation>,
}

/// A clinic as it is, in the terms of its file.
#[derive(Debug, Clone)]
struct Current {
    clinic_id: i64,
    tz: Tz,
    profile: ClinicProfile,
    settings: ClinicSettings,
    notifications: NotificationSettings,
    origins: Vec<String>,
    holidays: BTreeMap<NaiveDate, String>,
    catalogue: ClinicCatalogue,
    /// Each entry's key, and whether it is stored (or made from its name).
    keys: HashMap<(Kind, i64), (String, bool)>,
    /// Each provider's present and future rules.
    schedules: HashMap<i64, ProviderSchedule>,
}

impl Current {
    fn key(&self, kind: Kind, id: i64) -> String {
        self.keys.get(&(kind, id)).map(|k| k.0.clone()).unwrap_or_default()
    }

    fn id(&self, kind: Kind, key: &str) -> Option<i64> {
        self.keys.iter().find(|((k, _), (name, _))| *k == kind && name == key).map(|((_, id), _)| *id)
    }
}

/// One step of an apply. Entries are named by key; `ids` at execution holds the row of every
/// key, including those the apply creates.
#[derive(Debug, Clone)]
enum Step {
    CreateClinic,
    UpdateClinic(Vec<String>),
    Notifications(Vec<String>),
    Origins(Vec<String>),
    /// Create (`id` None) or change an entry, listing the changed keys.
    Save { kind: Kind, key: String, id: Option<i64>, changed: Vec<String> },
    /// Remember the key of an entry that had none.
    Key { kind: Kind, key: String, id: i64 },
    Archive { kind: Kind, key: String, archived: bool },
    Rules { provider: String, remove: Vec<(RuleKind, i64, String)>, add: Vec<AddRule> },
    Holidays { remove: Vec<NaiveDate>, add: Vec<(NaiveDate, String)> },
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum AddRule {
    /// (location key, hours with location id 0)
    Hours(String, HoursDef),
    Exception(ExceptionDef),
    Block(BlockDef),
}

fn hours_text(location: &str, h: &HoursDef) -> String {
    let valid = match (h.valid_from, h.valid_until) {
        (None, None) => String::new(),
        (from, until) => format!(" ({} to {})", from.map(|d| d.to_string()).unwrap_or_default(), until.map(|d| d.to_string()).unwrap_or_default()),
    };
    format!("hours {} {}-{} at {location}{valid}", day_name(h.weekday), h.start, h.end)
}

fn exception_text(e: &ExceptionDef) -> String {
    match e.extra {
        None => format!("closed day {}", e.date),
        Some((s, t)) => format!("extra hours {} {s}-{t}", e.date),
    }
}

fn block_text(tz: Tz, start: DateTime<Utc>, end: DateTime<Utc>, label: &str) -> String {
    let f = |t: DateTime<Utc>| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string();
    format!("block {} to {}{}", f(start), f(end), if label.is_empty() { String::new() } else { format!(" ({label})") })
}

impl Step {
    fn lines(&self, slug: &str, tz: Tz) -> Vec<String> {
        match self {
            Step::CreateClinic => vec![format!("clinic {slug}: create")],
            Step::UpdateClinic(changed) => vec![format!("clinic {slug}: change {}", changed.join(", "))],
            Step::Notifications(changed) => vec![format!("notifications: change {}", changed.join(", "))],
            Step::Origins(o) if o.is_empty() => vec!["embed origins: none".into()],
            Step::Origins(o) => vec![format!("embed origins: {}", o.join(" "))],
            Step::Save { kind, key, id: None, .. } => vec![format!("{} {key}: create", kind.name())],
            Step::Save { kind, key, changed, .. } => vec![format!("{} {key}: change {}", kind.name(), changed.join(", "))],
            Step::Key { kind, key, .. } => vec![format!("{} {key}: take this key", kind.name())],
            Step::Archive { kind, key, archived: true } => vec![format!("{} {key}: archive", kind.name())],
            Step::Archive { kind, key, archived: false } => vec![format!("{} {key}: restore", kind.name())],
            Step::Rules { provider, remove, add } => {
                let mut out: Vec<String> = remove.iter().map(|(_, _, text)| format!("provider {provider}: remove {text}")).collect();
                out.extend(add.iter().map(|a| {
                    let text = match a {
                        AddRule::Hours(location, h) => hours_text(location, h),
                        AddRule::Exception(e) => exception_text(e),
                        AddRule::Block(b) => block_text(tz, b.start, b.end, &b.label),
                    };
                    format!("provider {provider}: add {text}")
                }));
                out
            }
            Step::Holidays { remove, add } => {
                let mut out: Vec<String> = remove.iter().filter(|d| !add.iter().any(|a| a.0 == **d)).map(|d| format!("holiday {d}: remove")).collect();
                out.extend(add.iter().map(|(d, name)| {
                    if remove.contains(d) {
                        format!("holiday {d}: rename to {name}")
                    } else {
                        format!("holiday {d}: add ({name})")
                    }
                }));
                out
            }
        }
    }
}

/// A `Step::Rules` as `replace_rules` takes it, with each location key made an id.
fn rule_change(
    remove: &[(RuleKind, i64, String)],
    add: &[AddRule],
    location_id: impl Fn(&str) -> Result<i64, StoreError>,
) -> Result<(Vec<(RuleKind, i64)>, NewRules), StoreError> {
    let mut rules = NewRules::default();
    for a in add {
        match a {
            AddRule::Hours(location, h) => rules.hours.push(HoursDef { location_id: location_id(location)?, ..h.clone() }),
            AddRule::Exception(e) => rules.exceptions.push(e.clone()),
            AddRule::Block(b) => rules.blocks.push((b.start, b.end, b.label.clone())),
        }
    }
    Ok((remove.iter().map(|(k, id, _)| (*k, *id)).collect(), rules))
}

/// The top-level keys whose values differ, in the file's spelling.
fn changed_keys<T: serde::Serialize>(old: &T, new: &T) -> Vec<String> {
    let (Ok(Value::Object(old)), Ok(Value::Object(new))) = (serde_json::to_value(old), serde_json::to_value(new)) else {
        return Vec::new();
    };
    new.iter()
        .filter(|(k, v)| old.get(*k) != Some(v))
        .map(|(k, _)| snake_case(k))
        .collect()
}

/// Chooses the keys of entries that have none: the stored keys stand, the others are made
/// from names and made unique in id order.
fn resolve_keys(stored: &[(Kind, i64, Option<String>, String)]) -> HashMap<(Kind, i64), (String, bool)> {
    let mut keys = HashMap::new();
    for kind in Kind::ALL {
        let mut taken: BTreeSet<String> = stored.iter().filter(|s| s.0 == kind).filter_map(|s| s.2.clone()).collect();
        for (k, id, key, name) in stored.iter().filter(|s| s.0 == kind) {
            match key {
                Some(key) => {
                    keys.insert((*k, *id), (key.clone(), true));
                }
                None => {
                    let base = key_from_name(name);
                    let mut key = base.clone();
                    let mut n = 2;
                    while taken.contains(&key) {
                        key = format!("{base}-{n}");
                        n += 1;
                    }
                    taken.insert(key.clone());
                    keys.insert((*k, *id), (key, false));
                }
            }
        }
    }
    keys
}

impl Store {
    /// Reads a clinic's setup; the past of its schedule is left out.
    async fn current_setup(&self, clinic_id: i64, now: DateTime<Utc>) -> Result<Current, StoreError> {
        let config = self.clinic_config(clinic_id).await?;
        let tz = domain::zone::parse_zone(&config.profile.time_zone)?;
        let today = now.with_timezone(&tz).date_naive();
        let catalogue = self.clinic_catalogue(clinic_id).await?;
        let origins = self.embed_origins(clinic_id).await?;
        let holidays = self.clinic_holidays(clinic_id).await?.into_iter().filter(|h| h.date >= today).map(|h| (h.date, h.name)).collect();
        let mut stored = Vec::new();
        for kind in Kind::ALL {
            let name = if kind == Kind::Provider { "display_name" } else { "name" };
            let sql = format!("SELECT id, file_key, {name} FROM {} WHERE clinic_id = $1 ORDER BY id", kind.table());
            let rows: Vec<(i64, Option<String>, String)> = with_pool!(self, pool => { sqlx::query_as(&sql).bind(clinic_id).fetch_all(pool).await? });
            stored.extend(rows.into_iter().map(|(id, key, name)| (kind, id, key, name)));
        }
        let mut schedules = HashMap::new();
        for p in &catalogue.providers {
            let mut s = self.provider_schedule(clinic_id, p.id).await?;
            s.hours.retain(|h| h.def.valid_until.is_none_or(|until| until >= today));
            s.exceptions.retain(|e| e.def.date >= today);
            s.blocks.retain(|b| b.end > now);
            schedules.insert(p.id, s);
        }
        Ok(Current {
            clinic_id,
            tz,
            profile: config.profile,
            settings: config.settings,
            notifications: self.notification_settings(clinic_id).await?,
            origins,
            holidays,
            catalogue,
            keys: resolve_keys(&stored),
            schedules,
        })
    }

    /// The clinic's setup as a file that `apply_clinic_file` reproduces.
    pub async fn export_clinic(&self, slug: &domain::ClinicSlug, now: DateTime<Utc>) -> Result<ClinicFile, StoreError> {
        let clinic = self.clinic_by_slug(slug).await?;
        let c = self.current_setup(clinic.id, now).await?;
        Ok(to_file(slug.as_str(), &c))
    }

    /// What `apply_clinic_file` would change, without changing anything.
    pub async fn plan_clinic_file(&self, file: &ClinicFile, now: DateTime<Utc>) -> Result<ApplyPlan, StoreError> {
        let (checked, current, steps) = self.plan(file, now).await?;
        let tz = domain::zone::parse_zone(&checked.profile.time_zone)?;
        let stranded = match &current {
            Some(c) => self.stranded_by_steps(c, &checked, &steps, now).await?,
            None => Vec::new(),
        };
        Ok(ApplyPlan { changes: steps.iter().flat_map(|s| s.lines(checked.slug.as_str(), tz)).collect(), stranded })
    }

    /// Makes the clinic of `file` match it, creating the clinic (with `owner`'s account when
    /// given) if it does not exist. With `Stranding::Refuse`, a file that would leave booked
    /// appointments outside the rules changes nothing and answers `WouldStrand`.
    pub async fn apply_clinic_file(
        &self,
        file: &ClinicFile,
        owner: Option<Email>,
        actor: &Actor,
        stranding: Stranding,
        now: DateTime<Utc>,
    ) -> Result<Applied, StoreError> {
        let (checked, current, steps) = self.plan(file, now).await?;
        let tz = domain::zone::parse_zone(&checked.profile.time_zone)?;
        // Archiving a provider or taking a service away flags without returning whom: the
        // whole plan's list says it, and the steps add any booked since.
        let mut flagged: Vec<i64> = Vec::new();
        if let Some(c) = &current {
            let stranded = self.stranded_by_steps(c, &checked, &steps, now).await?;
            if !stranded.is_empty() && stranding == Stranding::Refuse {
                return Err(StoreError::WouldStrand(stranded.len()));
            }
            flagged.extend(stranded.iter().map(|a| a.appointment_id));
        }
        let mut ids: HashMap<(Kind, String), i64> = HashMap::new();
        if let Some(c) = &current {
            for ((kind, id), (key, _)) in &c.keys {
                ids.insert((*kind, key.clone()), *id);
            }
        }
        let id_of = |ids: &HashMap<(Kind, String), i64>, kind: Kind, key: &str| ids.get(&(kind, key.to_owned())).copied().ok_or(StoreError::NotFound(kind.name()));
        let mut clinic_id = current.as_ref().map(|c| c.clinic_id).unwrap_or(0);
        let mut invitation = None;
        for step in &steps {
            match step {
                Step::CreateClinic => {
                    (clinic_id, invitation) = self.create_clinic_for_file(&checked, owner.clone(), actor, now).await?;
                }
                Step::UpdateClinic(_) => {
                    self.update_clinic(clinic_id, actor, &checked.profile, &checked.settings, now).await?;
                }
                Step::Notifications(_) => {
                    self.update_notification_settings(clinic_id, actor, &checked.notifications, now).await?;
                }
                Step::Origins(origins) => {
                    self.save_embed_origins(actor, clinic_id, origins, now).await?;
                }
                Step::Save { kind, key, id, .. } => {
                    let saved = match kind {
                        Kind::Location => self.save_location(clinic_id, actor, *id, &checked.locations[key].0, now).await?.0,
                        Kind::Service => self.save_service(clinic_id, actor, *id, &checked.services[key].0, now).await?.0,
                        Kind::Product => {
                            let (service, def, _) = &checked.products[key];
                            let def = ProductDef { service_id: id_of(&ids, Kind::Service, service)?, ..def.clone() };
                            self.save_product(clinic_id, actor, *id, &def, now).await?.0
                        }
                        Kind::Provider => {
                            let p = &checked.providers[key];
                            let service_ids = p.services.iter().map(|s| id_of(&ids, Kind::Service, s)).collect::<Result<Vec<_>, _>>()?;
                            let def = ProviderDef::new(&p.def.name, &p.def.title, &p.def.gender, &p.def.specialty, service_ids).map_err(StoreError::Rule)?;
                            self.save_provider(clinic_id, actor, *id, &def, Stranding::Flag, now).await?.0
                        }
                    };
                    if id.is_none() {
                        self.set_file_key(*kind, clinic_id, saved, key).await?;
                    }
                    ids.insert((*kind, key.clone()), saved);
                }
                Step::Key { kind, key, id } => self.set_file_key(*kind, clinic_id, *id, key).await?,
                Step::Archive { kind, key, archived } => {
                    self.set_archived(clinic_id, actor, *kind, id_of(&ids, *kind, key)?, *archived, Stranding::Flag, now).await?;
                }
                Step::Rules { provider, remove, add } => {
                    let (remove, rules) = rule_change(remove, add, |location| id_of(&ids, Kind::Location, location))?;
                    let provider_id = id_of(&ids, Kind::Provider, provider)?;
                    flagged.extend(self.replace_rules(clinic_id, actor, provider_id, &remove, &rules, Stranding::Flag, now).await?);
                }
                Step::Holidays { remove, add } => {
                    flagged.extend(self.replace_holidays(clinic_id, actor, remove, add, Stranding::Flag, now).await?);
                }
            }
        }
        let changes = steps.iter().flat_map(|s| s.lines(checked.slug.as_str(), tz)).collect();
        flagged.sort_unstable();
        flagged.dedup();
        Ok(Applied { clinic_id, changes, flagged, invitation })
    }

    async fn set_file_key(&self, kind: Kind, clinic_id: i64, id: i64, key: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query(&format!("UPDATE {} SET file_key = $1 WHERE id = $2 AND clinic_id = $3", kind.table()))
                .bind(key).bind(id).bind(clinic_id).execute(pool).await?;
        });
        Ok(())
    }

    async fn create_clinic_for_file(
        &self,
        checked: &Checked,
        owner: Option<Email>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(i64, Option<Invitation>), StoreError> {
        match owner {
            Some(owner_email) => {
                let new = NewClinic { slug: checked.slug.clone(), profile: checked.profile.clone(), owner_email };
                let (id, invitation) = self.create_clinic(&new, now).await?;
                Ok((id, Some(invitation)))
            }
            None => Ok((self.create_clinic_without_owner(&checked.slug, &checked.profile, actor, now).await?, None)),
        }
    }

    async fn plan(&self, file: &ClinicFile, now: DateTime<Utc>) -> Result<(Checked, Option<Current>, Vec<Step>), StoreError> {
        let checked = file.check(now)?;
        let current = match self.clinic_by_slug(&checked.slug).await {
            Ok(clinic) => Some(self.current_setup(clinic.id, now).await?),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(e),
        };
        let steps = steps(&checked, current.as_ref());
        Ok((checked, current, steps))
    }

    /// The booked appointments that the rules after all of `steps` leave out, which the
    /// rules before them let in; and those of providers who stop offering their service or
    /// are archived.
    async fn stranded_by_steps(&self, c: &Current, checked: &Checked, steps: &[Step], now: DateTime<Utc>) -> Result<Vec<AffectedAppointment>, StoreError> {
        use domain::availability::Misfit;
        with_pool!(self, pool => {
            let candidates = crate::attention::open_appointments!(pool, pool, c.clinic_id, None::<i64>, now);
            if candidates.is_empty() {
                return Ok(Vec::new());
            }
            let before = crate::attention::load_rules!(pool, pool, c.clinic_id, None::<i64>, now);
            let mut after = before.clone();
            let mut archived: BTreeSet<i64> = BTreeSet::new();
            let mut dropped: Vec<(i64, i64)> = Vec::new();
            for step in steps {
                match step {
                    Step::Rules { provider, remove, add } => {
                        let Some(provider_id) = c.id(Kind::Provider, provider) else { continue };
                        // A location the apply creates has no appointments yet.
                        let (remove, rules) = rule_change(remove, add, |location| Ok(c.id(Kind::Location, location).unwrap_or(-1)))?;
                        after = after.replaced(provider_id, &remove, &rules);
                    }
                    Step::Holidays { remove, add } => {
                        after.holidays.retain(|d| !remove.contains(d));
                        after.holidays.extend(add.iter().map(|(d, _)| *d));
                    }
                    Step::Archive { kind: Kind::Provider, key, archived: true } => {
                        archived.extend(c.id(Kind::Provider, key));
                    }
                    Step::Save { kind: Kind::Provider, key, id: Some(id), .. } => {
                        let kept: Vec<Option<i64>> = checked.providers[key].services.iter().map(|s| c.id(Kind::Service, s)).collect();
                        if let Some(old) = c.catalogue.provider(*id) {
                            dropped.extend(old.def.service_ids.iter().filter(|s| !kept.contains(&Some(**s))).map(|s| (*id, *s)));
                        }
                    }
                    _ => {}
                }
            }
            let mut out = crate::attention::stranded(&candidates, &before, &after);
            for a in &candidates {
                if out.iter().any(|o| o.appointment_id == a.appointment_id) {
                    continue;
                }
                if archived.contains(&a.provider_id) {
                    out.push(a.affected(Misfit::ProviderArchived, None));
                } else if dropped.contains(&(a.provider_id, a.service_id)) {
                    out.push(a.affected(Misfit::ServiceNotOffered, None));
                }
            }
            out.sort_by_key(|a| (a.start, a.appointment_id));
            Ok(out)
        })
    }
}

/// The steps that make `current` (none: a new clinic) match `checked`, in an order that
/// each store method accepts: restores before saves, saves before rules, archives last.
fn steps(checked: &Checked, current: Option<&Current>) -> Vec<Step> {
    let mut out = Vec::new();
    let find = |kind: Kind, key: &str| current.and_then(|c| c.id(kind, key));
    let archived_now = |kind: Kind, id: i64| {
        current.is_some_and(|c| match kind {
            Kind::Location => c.catalogue.location(id).is_some_and(|e| e.archived),
            Kind::Service => c.catalogue.service(id).is_some_and(|e| e.archived),
            Kind::Product => c.catalogue.product(id).is_some_and(|e| e.archived),
            Kind::Provider => c.catalogue.provider(id).is_some_and(|e| e.archived),
        })
    };
    match current {
        None => {
            out.push(Step::CreateClinic);
            let fresh = ClinicSettings::new(60, 90, 1440, 10).ok();
            if Some(checked.settings) != fresh {
                out.push(Step::UpdateClinic(changed_keys(&BookingItem::default(), &booking_item(&checked.settings))));
            }
            let fresh = NotificationSettings::default();
            if checked.notifications != fresh {
                out.push(Step::Notifications(changed_keys(&NotificationsItem::from(&fresh), &NotificationsItem::from(&checked.notifications))));
            }
            if !checked.origins.is_empty() {
                out.push(Step::Origins(checked.origins.clone()));
            }
        }
        Some(c) => {
            let mut changed = changed_keys(&c.profile, &checked.profile);
            changed.extend(changed_keys(&booking_item(&c.settings), &booking_item(&checked.settings)));
            if !changed.is_empty() {
                out.push(Step::UpdateClinic(changed));
            }
            if c.notifications != checked.notifications {
                out.push(Step::Notifications(changed_keys(&NotificationsItem::from(&c.notifications), &NotificationsItem::from(&checked.notifications))));
            }
            if c.origins != checked.origins {
                out.push(Step::Origins(checked.origins.clone()));
            }
        }
    }

    // Restores first, in order (a product can only be restored with its service), then
    // creations and changes; archives last.
    let mut restores = Vec::new();
    let mut saves = Vec::new();
    let mut archives = Vec::new();
    let mut entry = |kind: Kind, key: &str, archived: bool, changed: Option<Vec<String>>| match find(kind, key) {
        None => {
            saves.push(Step::Save { kind, key: key.to_owned(), id: None, changed: Vec::new() });
            if archived {
                archives.push(Step::Archive { kind, key: key.to_owned(), archived: true });
            }
        }
        Some(id) => {
            if archived_now(kind, id) && !archived {
                restores.push(Step::Archive { kind, key: key.to_owned(), archived: false });
            }
            if let Some(changed) = changed.filter(|c| !c.is_empty()) {
                saves.push(Step::Save { kind, key: key.to_owned(), id: Some(id), changed });
            }
            if current.is_some_and(|c| c.keys.get(&(kind, id)).is_some_and(|k| !k.1)) {
                saves.push(Step::Key { kind, key: key.to_owned(), id });
            }
            if archived && !archived_now(kind, id) {
                archives.push(Step::Archive { kind, key: key.to_owned(), archived: true });
            }
        }
    };
    for (key, (def, archived)) in &checked.locations {
        let old = find(Kind::Location, key).and_then(|id| current?.catalogue.location(id)).map(|e| changed_keys(&e.def, def));
        entry(Kind::Location, key, *archived, old);
    }
    for (key, (def, archived)) in &checked.services {
        let old = find(Kind::Service, key).and_then(|id| current?.catalogue.service(id)).map(|e| changed_keys(&e.def, def));
        entry(Kind::Service, key, *archived, old);
    }
    for (key, (service, def, archived)) in &checked.products {
        let old = find(Kind::Product, key).and_then(|id| current?.catalogue.product(id)).map(|e| {
            let c = current.expect("an existing product has a clinic");
            let mut changed = changed_keys(&ProductDef { service_id: 0, ..e.def.clone() }, def);
            if c.key(Kind::Service, e.def.service_id) != *service {
                changed.insert(0, "service".into());
            }
            changed
        });
        entry(Kind::Product, key, *archived, old);
    }
    for (key, p) in &checked.providers {
        let old = find(Kind::Provider, key).and_then(|id| current?.catalogue.provider(id)).map(|e| {
            let c = current.expect("an existing provider has a clinic");
            let mut changed = changed_keys(&ProviderDef { service_ids: Vec::new(), ..e.def.clone() }, &p.def);
            let mut services: Vec<String> = e.def.service_ids.iter().map(|s| c.key(Kind::Service, *s)).collect();
            services.sort();
            if services != p.services {
                changed.push("services".into());
            }
            changed
        });
        entry(Kind::Provider, key, p.archived, old);
    }
    // What the file leaves out is archived.
    if let Some(c) = current {
        let listed = |kind: Kind, key: &str| match kind {
            Kind::Location => checked.locations.contains_key(key),
            Kind::Service => checked.services.contains_key(key),
            Kind::Product => checked.products.contains_key(key),
            Kind::Provider => checked.providers.contains_key(key),
        };
        let live: Vec<(Kind, i64)> = c.catalogue.locations.iter().filter(|e| !e.archived).map(|e| (Kind::Location, e.id))
            .chain(c.catalogue.services.iter().filter(|e| !e.archived).map(|e| (Kind::Service, e.id)))
            .chain(c.catalogue.products.iter().filter(|e| !e.archived).map(|e| (Kind::Product, e.id)))
            .chain(c.catalogue.providers.iter().filter(|e| !e.archived).map(|e| (Kind::Provider, e.id)))
            .collect();
        for (kind, id) in live {
            let key = c.key(kind, id);
            if !listed(kind, &key) {
                archives.push(Step::Archive { kind, key, archived: true });
            }
        }
    }
    out.extend(restores);
    out.extend(saves);

    for (key, p) in checked.providers.iter().filter(|(_, p)| !p.archived) {
        let id = find(Kind::Provider, key);
        let empty = ProviderSchedule::default();
        let schedule = id.and_then(|id| current?.schedules.get(&id)).unwrap_or(&empty);
        let c = current;
        let location_key = |id: i64| c.map(|c| c.key(Kind::Location, id)).unwrap_or_default();
        let mut remove = Vec::new();
        for h in &schedule.hours {
            let location = location_key(h.def.location_id);
            let def = HoursDef { location_id: 0, ..h.def.clone() };
            if !p.rules.hours.contains(&(location.clone(), def.clone())) {
                remove.push((RuleKind::Hours, h.id, hours_text(&location, &def)));
            }
        }
        for e in &schedule.exceptions {
            if !p.rules.exceptions.contains(&e.def) {
                remove.push((RuleKind::Exception, e.id, exception_text(&e.def)));
            }
        }
        let tz = c.map(|c| c.tz).unwrap_or(chrono_tz::UTC);
        for b in &schedule.blocks {
            if !p.rules.blocks.contains(&BlockDef { start: b.start, end: b.end, label: b.label.clone() }) {
                remove.push((RuleKind::Block, b.id, block_text(tz, b.start, b.end, &b.label)));
            }
        }
        let mut add = Vec::new();
        for (location, h) in &p.rules.hours {
            let present = schedule.hours.iter().any(|o| location_key(o.def.location_id) == *location && HoursDef { location_id: 0, ..o.def.clone() } == *h);
            if !present {
                add.push(AddRule::Hours(location.clone(), h.clone()));
            }
        }
        add.extend(p.rules.exceptions.iter().filter(|e| !schedule.exceptions.iter().any(|o| o.def == **e)).cloned().map(AddRule::Exception));
        add.extend(
            p.rules.blocks.iter()
                .filter(|b| !schedule.blocks.iter().any(|o| o.start == b.start && o.end == b.end && o.label == b.label))
                .cloned()
                .map(AddRule::Block),
        );
        if !remove.is_empty() || !add.is_empty() {
            out.push(Step::Rules { provider: key.clone(), remove, add });
        }
    }

    let old_holidays = current.map(|c| c.holidays.clone()).unwrap_or_default();
    let remove: Vec<NaiveDate> = old_holidays.iter().filter(|(d, name)| checked.holidays.get(*d) != Some(*name)).map(|(d, _)| *d).collect();
    let add: Vec<(NaiveDate, String)> =
        checked.holidays.iter().filter(|(d, name)| old_holidays.get(*d) != Some(*name)).map(|(d, n)| (*d, n.clone())).collect();
    if !remove.is_empty() || !add.is_empty() {
        out.push(Step::Holidays { remove, add });
    }

    // Providers first, so that nothing archived is still offered by someone; locations last.
    let rank = |s: &Step| match s {
        Step::Archive { kind: Kind::Provider, .. } => 0,
        Step::Archive { kind: Kind::Product, .. } => 1,
        Step::Archive { kind: Kind::Service, .. } => 2,
        _ => 3,
    };
    archives.sort_by_key(rank);
    out.extend(archives);
    out
}

fn booking_item(s: &ClinicSettings) -> BookingItem {
    BookingItem {
        minimum_notice_minutes: s.minimum_notice_minutes,
        horizon_days: s.horizon_days,
        change_cutoff_minutes: s.change_cutoff_minutes,
        hold_minutes: s.hold_minutes,
    }
}

fn to_file(slug: &str, c: &Current) -> ClinicFile {
    let cat = &c.catalogue;
    let locations = cat.locations.iter().map(|e| {
        let item = LocationItem { name: e.def.name.clone(), address: e.def.address.clone(), time_zone: e.def.time_zone.clone(), archived: e.archived };
        (c.key(Kind::Location, e.id), item)
    });
    let services = cat.services.iter().map(|e| {
        (c.key(Kind::Service, e.id), ServiceItem { name: e.def.name.clone(), duration_minutes: i64::from(e.def.duration_minutes), archived: e.archived })
    });
    let fields = |list: &[domain::patient::PatientField]| list.iter().map(|f| f.as_str().to_owned()).collect();
    let products = cat.products.iter().map(|e| {
        let d = &e.def;
        let item = ProductItem {
            service: c.key(Kind::Service, d.service_id),
            name: d.name.clone(),
            description: d.description.clone(),
            duration_minutes: i64::from(d.duration_minutes),
            new_patient_minutes: d.new_patient_minutes.map(i64::from),
            price: Price::Text(format_price(d.price_cents)),
            currency: d.currency.clone(),
            buffer_before_minutes: i64::from(d.buffer_before_minutes),
            buffer_after_minutes: i64::from(d.buffer_after_minutes),
            step_minutes: d.step_minutes.map(i64::from),
            per_day_cap: d.per_day_cap.map(i64::from),
            booker_fields: fields(&d.booker_fields),
            participant_fields: fields(&d.participant_fields),
            archived: e.archived,
        };
        (c.key(Kind::Product, e.id), item)
    });
    let providers = cat.providers.iter().map(|e| {
        let mut services: Vec<String> = e.def.service_ids.iter().map(|s| c.key(Kind::Service, *s)).collect();
        services.sort();
        // An archived provider's rules offer nothing: they are left as they are.
        let empty = ProviderSchedule::default();
        let s = if e.archived { &empty } else { c.schedules.get(&e.id).unwrap_or(&empty) };
        // Hours that differ only in the day are written once, with their days.
        let mut hours: Vec<HoursItem> = Vec::new();
        let mut grouped: Vec<(String, HoursDef, Vec<u8>)> = Vec::new();
        for h in &s.hours {
            let location = c.key(Kind::Location, h.def.location_id);
            let same = |g: &&mut (String, HoursDef, Vec<u8>)| {
                g.0 == location && g.1.start == h.def.start && g.1.end == h.def.end && g.1.valid_from == h.def.valid_from && g.1.valid_until == h.def.valid_until
            };
            match grouped.iter_mut().find(same) {
                Some(g) => g.2.push(h.def.weekday),
                None => grouped.push((location, h.def.clone(), vec![h.def.weekday])),
            }
        }
        for (location, def, mut days) in grouped {
            days.sort_unstable();
            let days = if days.len() == 1 { Days::One(day_name(days[0]).into()) } else { Days::Many(days.iter().map(|d| day_name(*d).to_owned()).collect()) };
            hours.push(HoursItem {
                location,
                days,
                start: Text(def.start.to_string()),
                end: Text(def.end.to_string()),
                valid_from: def.valid_from.map(|d| Text(d.to_string())),
                valid_until: def.valid_until.map(|d| Text(d.to_string())),
            });
        }
        let at = |t: DateTime<Utc>| Text(t.with_timezone(&c.tz).to_rfc3339());
        let item = ProviderItem {
            name: e.def.name.clone(),
            title: e.def.title.clone(),
            gender: e.def.gender.clone(),
            specialty: e.def.specialty.clone(),
            services,
            hours,
            closed: s.exceptions.iter().filter(|x| x.def.extra.is_none()).map(|x| Text(x.def.date.to_string())).collect(),
            extra_hours: s.exceptions.iter().filter_map(|x| {
                x.def.extra.map(|(start, end)| ExtraHoursItem { date: Text(x.def.date.to_string()), start: Text(start.to_string()), end: Text(end.to_string()) })
            }).collect(),
            blocks: s.blocks.iter().map(|b| BlockItem { start: at(b.start), end: at(b.end), label: b.label.clone() }).collect(),
            archived: e.archived,
        };
        (c.key(Kind::Provider, e.id), item)
    });
    ClinicFile {
        slug: slug.to_owned(),
        name: c.profile.name.clone(),
        default_locale: c.profile.default_locale.clone(),
        time_zone: c.profile.time_zone.clone(),
        embed_origins: c.origins.clone(),
        booking: booking_item(&c.settings),
        notifications: NotificationsItem::from(&c.notifications),
        holidays: c.holidays.iter().map(|(d, name)| HolidayItem { date: Text(d.to_string()), name: name.clone() }).collect(),
        locations: locations.collect(),
        services: services.collect(),
        products: products.collect(),
        providers: providers.collect(),
    }
}
