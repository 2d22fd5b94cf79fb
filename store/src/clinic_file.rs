//! A clinic's setup as one declarative TOML file, so that an operator can keep it in version
//! control: `server clinic export <slug>` writes it (entries in the order they were made), `server clinic apply <file>` makes the
//! clinic match it (`clinic_apply.rs`). Every entry has a key of the file's choosing (the
//! table name, e.g. `[providers.anna-weber]`) that ties it to its row across renames.
//!
//! The file describes today and the future: closed days, extra hours, blocks and holidays
//! that are over, and hours that ended, are neither exported nor changed by an apply.
//! Secrets and people (API keys, webhook secrets, staff accounts) are not part of it.
//!
//! Every value goes through the same `domain` constructors as the console's forms and the
//! admin API, so a file is refused for the same reasons, naming the entry and the key.

use crate::StoreError;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use domain::catalogue::{check_text, LocationDef, ProductDef, ProductInput, ProviderDef, ServiceDef};
use domain::clinic::ClinicSettings;
use domain::notify::NotificationSettings;
use domain::patient::PatientField;
use domain::schedule::{ExceptionDef, HoursDef, LocalTime, WeeklyInterval};
use domain::staff::ClinicProfile;
use domain::{ClinicSlug, DomainError};
use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use indexmap::IndexMap;
use std::collections::BTreeMap;
use std::fmt;

/// The file as it is read and written. Keys are snake_case; unknown keys are refused, so that
/// a misspelt one cannot be silently ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClinicFile {
    pub slug: String,
    pub name: String,
    #[serde(default = "english")]
    pub default_locale: String,
    /// The clinic's own zone: dates of holidays and local times of blocks are read in it.
    pub time_zone: String,
    /// The sites that may embed the booking widget, e.g. `https://www.example.com`.
    #[serde(default)]
    pub embed_origins: Vec<String>,
    #[serde(default)]
    pub booking: BookingItem,
    /// What patients are sent by e-mail; left out, everything is sent.
    #[serde(default)]
    pub notifications: NotificationsItem,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub holidays: Vec<HolidayItem>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub locations: IndexMap<String, LocationItem>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub services: IndexMap<String, ServiceItem>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub products: IndexMap<String, ProductItem>,
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub providers: IndexMap<String, ProviderItem>,
}

fn english() -> String {
    "en".into()
}

fn is_false(v: &bool) -> bool {
    !*v
}

/// The booking policy; a key left out takes the value a new clinic starts with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BookingItem {
    #[serde(default = "defaults::notice")]
    pub minimum_notice_minutes: u32,
    #[serde(default = "defaults::horizon")]
    pub horizon_days: u32,
    #[serde(default = "defaults::cutoff")]
    pub change_cutoff_minutes: u32,
    #[serde(default = "defaults::hold")]
    pub hold_minutes: u32,
}

/// The column defaults of a new clinic (migration 0002).
mod defaults {
    pub fn notice() -> u32 {
        60
    }
    pub fn horizon() -> u32 {
        90
    }
    pub fn cutoff() -> u32 {
        1440
    }
    pub fn hold() -> u32 {
        10
    }
}

impl Default for BookingItem {
    fn default() -> Self {
        Self {
            minimum_notice_minutes: defaults::notice(),
            horizon_days: defaults::horizon(),
            change_cutoff_minutes: defaults::cutoff(),
            hold_minutes: defaults::hold(),
        }
    }
}

/// Patient e-mails; a key left out takes the default (every message on, the reminder a day
/// ahead, the server's sender, no note).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationsItem {
    pub confirmation: bool,
    pub rescheduled: bool,
    pub cancelled: bool,
    pub reminder: bool,
    pub reminder_minutes: i64,
    /// `Name <address>` or an address; empty: the server's `BOOKING_MAIL_FROM`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub sender: String,
    /// Added to every message (directions, what to bring).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub note: String,
}

impl Default for NotificationsItem {
    fn default() -> Self {
        NotificationsItem::from(&NotificationSettings::default())
    }
}

impl From<&NotificationSettings> for NotificationsItem {
    fn from(s: &NotificationSettings) -> Self {
        NotificationsItem {
            confirmation: s.confirmation,
            rescheduled: s.rescheduled,
            cancelled: s.cancelled,
            reminder: s.reminder,
            reminder_minutes: i64::from(s.reminder_minutes),
            sender: s.sender.clone(),
            note: s.note.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayItem {
    pub date: Text,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LocationItem {
    pub name: String,
    pub address: String,
    pub time_zone: String,
    #[serde(default, skip_serializing_if = "is_false")]
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceItem {
    pub name: String,
    pub duration_minutes: i64,
    #[serde(default, skip_serializing_if = "is_false")]
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductItem {
    /// The key of its service in this file.
    pub service: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    pub duration_minutes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_patient_minutes: Option<i64>,
    /// "45.00", 45 or 45.5, in `currency`.
    #[serde(default)]
    pub price: Price,
    pub currency: String,
    #[serde(default)]
    pub buffer_before_minutes: i64,
    #[serde(default)]
    pub buffer_after_minutes: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step_minutes: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_day_cap: Option<i64>,
    /// What the person booking is asked: firstname, lastname, phone, email, dob, ...
    #[serde(default = "default_booker_fields")]
    pub booker_fields: Vec<String>,
    /// What is asked about the patient when someone books for another person.
    #[serde(default)]
    pub participant_fields: Vec<String>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub archived: bool,
}

fn default_booker_fields() -> Vec<String> {
    ["firstname", "lastname", "phone"].map(String::from).to_vec()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderItem {
    pub name: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub gender: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub specialty: String,
    /// Keys of the services this provider offers.
    #[serde(default)]
    pub services: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hours: Vec<HoursItem>,
    /// Days off: "2026-12-24".
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub closed: Vec<Text>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_hours: Vec<ExtraHoursItem>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<BlockItem>,
    #[serde(default, skip_serializing_if = "is_false")]
    pub archived: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursItem {
    /// The key of the location.
    pub location: String,
    /// "mon", ["mon", "tue"] or "mon-fri".
    pub days: Days,
    pub start: Text,
    pub end: Text,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<Text>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<Text>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtraHoursItem {
    pub date: Text,
    pub start: Text,
    pub end: Text,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlockItem {
    /// "2026-12-03T09:00" in the clinic's zone, or with an offset.
    pub start: Text,
    pub end: Text,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Days {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Price {
    Text(String),
    Whole(i64),
    Decimal(f64),
}

impl Default for Price {
    fn default() -> Self {
        Price::Text("0.00".into())
    }
}

/// A date, a time or a date-time, written in quotes ("2026-12-24") or as a TOML literal
/// (2026-12-24, 08:30:00): people write both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text(pub String);

impl Serialize for Text {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Text {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a date or time such as \"2026-12-24\" or \"08:30\"")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Text, E> {
                Ok(Text(v.to_owned()))
            }
            // TOML's date and time literals reach serde as a map of one entry holding the text.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Text, A::Error> {
                match map.next_entry::<String, String>()? {
                    Some((_, text)) => Ok(Text(text)),
                    None => Err(de::Error::custom("expected a date or time")),
                }
            }
        }
        d.deserialize_any(TextVisitor)
    }
}

impl ClinicFile {
    /// Reads a file's text; syntax errors and unknown keys name the line.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        toml::from_str(text).map_err(|e| StoreError::ClinicFile { at: String::new(), reason: e.to_string().trim().to_owned() })
    }

    pub fn to_toml(&self) -> String {
        toml::to_string(self).unwrap_or_default()
    }
}

// ---------------------------------------------------------------------------------------
// The file, checked: every value valid, every reference to a key of the file resolved.
// ---------------------------------------------------------------------------------------

/// A block as the store keeps it: two instants and a label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlockDef {
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) label: String,
}

/// A provider's rules with locations named by key.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Rules {
    /// (location key, hours with location id 0)
    pub(crate) hours: Vec<(String, HoursDef)>,
    pub(crate) exceptions: Vec<ExceptionDef>,
    pub(crate) blocks: Vec<BlockDef>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct CheckedProvider {
    /// `service_ids` empty: the services are `services`, by key.
    pub(crate) def: ProviderDef,
    pub(crate) services: Vec<String>,
    pub(crate) rules: Rules,
    pub(crate) archived: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Checked {
    pub(crate) slug: ClinicSlug,
    pub(crate) profile: ClinicProfile,
    pub(crate) settings: ClinicSettings,
    pub(crate) notifications: NotificationSettings,
    pub(crate) origins: Vec<String>,
    pub(crate) holidays: BTreeMap<NaiveDate, String>,
    pub(crate) locations: IndexMap<String, (LocationDef, bool)>,
    pub(crate) services: IndexMap<String, (ServiceDef, bool)>,
    /// (service key, product with service id 0, archived)
    pub(crate) products: IndexMap<String, (String, ProductDef, bool)>,
    pub(crate) providers: IndexMap<String, CheckedProvider>,
}

/// A refusal's reason without the field name the file error names anyway.
fn reason_of(e: DomainError) -> String {
    match e {
        DomainError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}

pub(crate) fn file_error(at: impl Into<String>, reason: impl Into<String>) -> StoreError {
    StoreError::ClinicFile { at: at.into(), reason: reason.into() }
}

/// A camelCase field name (the API's and the domain's) as the file spells it.
pub(crate) fn snake_case(field: &str) -> String {
    field.chars().flat_map(|c| if c.is_ascii_uppercase() { vec!['_', c.to_ascii_lowercase()] } else { vec![c] }).collect()
}

/// A domain refusal at `at`: the field's camelCase name becomes the file's snake_case key.
fn refusal(at: &str) -> impl Fn(DomainError) -> StoreError + '_ {
    move |e| match e {
        DomainError::Invalid { field, reason } => {
            let key = snake_case(field);
            file_error(if at.is_empty() { key } else { format!("{at}.{key}") }, reason)
        }
        other => file_error(at, other.to_string()),
    }
}

/// The keys of a file: what TOML writes without quotes, lower case.
pub(crate) fn check_key(at: &str, key: &str) -> Result<(), StoreError> {
    let ok = (1..=64).contains(&key.len())
        && key.bytes().next().is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && key.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(file_error(at, format!("{key:?} is not a key: use 1 to 64 of a-z, 0-9, '-' and '_', starting with a letter or digit")))
    }
}

/// A key made from a name, for entries that were created without one (in the console).
pub(crate) fn key_from_name(name: &str) -> String {
    let mut key = String::new();
    for c in name.to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' => key.push(c),
            'ä' => key.push_str("ae"),
            'ö' => key.push_str("oe"),
            'ü' => key.push_str("ue"),
            'ß' => key.push_str("ss"),
            _ if !key.is_empty() && !key.ends_with('-') => key.push('-'),
            _ => {}
        }
    }
    let key: String = key.trim_end_matches('-').chars().take(60).collect();
    let key = key.trim_end_matches('-').to_owned();
    if key.is_empty() {
        "entry".into()
    } else {
        key
    }
}

fn date(at: &str, text: &Text) -> Result<NaiveDate, StoreError> {
    domain::schedule::parse_date("date", &text.0).map_err(|_| file_error(at, format!("{:?} is not a date such as \"2026-12-24\"", text.0)))
}

fn time(at: &str, text: &Text) -> Result<LocalTime, StoreError> {
    let raw = text.0.trim();
    // A TOML time literal has seconds; times are kept to the minute.
    let raw = raw.strip_suffix(":00").filter(|r| r.len() == 5).unwrap_or(raw);
    LocalTime::parse(raw).map_err(|_| file_error(at, format!("{:?} is not a time such as \"08:30\"", text.0)))
}

/// An instant written with an offset, or as a local date-time in `tz`.
fn instant(at: &str, text: &Text, tz: Tz) -> Result<DateTime<Utc>, StoreError> {
    let raw = text.0.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Ok(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"] {
        if let Ok(local) = NaiveDateTime::parse_from_str(raw, format) {
            return Ok(domain::zone::instant_at(tz, local));
        }
    }
    Err(file_error(at, format!("{raw:?} is not a date and time such as \"2026-12-03T09:00\"")))
}

/// "mon", "Monday", "mon-fri", or a list of those, as ISO weekday numbers in order.
fn weekdays(at: &str, days: &Days) -> Result<Vec<u8>, StoreError> {
    const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let one = |raw: &str| -> Result<u8, StoreError> {
        let lower = raw.trim().to_ascii_lowercase();
        NAMES
            .iter()
            .position(|n| lower.len() >= 3 && (lower == *n || full_name(n).starts_with(&lower)))
            .map(|i| i as u8 + 1)
            .ok_or_else(|| file_error(at, format!("{raw:?} is not a day such as \"mon\"")))
    };
    let list: Vec<&str> = match days {
        Days::One(d) => vec![d.as_str()],
        Days::Many(ds) => ds.iter().map(String::as_str).collect(),
    };
    let mut out = Vec::new();
    for item in list {
        match item.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (one(from)?, one(to)?);
                if to < from {
                    return Err(file_error(at, format!("{item:?} runs backwards: write it as \"mon-fri\"")));
                }
                out.extend(from..=to);
            }
            None => out.push(one(item)?),
        }
    }
    if out.is_empty() {
        return Err(file_error(at, "names no day"));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

fn full_name(short: &str) -> &'static str {
    match short {
        "mon" => "monday",
        "tue" => "tuesday",
        "wed" => "wednesday",
        "thu" => "thursday",
        "fri" => "friday",
        "sat" => "saturday",
        _ => "sunday",
    }
}

pub(crate) fn day_name(iso: u8) -> &'static str {
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].get(usize::from(iso).saturating_sub(1)).copied().unwrap_or("?")
}

fn price_cents(at: &str, price: &Price) -> Result<i64, StoreError> {
    let text = match price {
        Price::Text(t) => t.clone(),
        Price::Whole(n) => n.to_string(),
        Price::Decimal(f) => f.to_string(),
    };
    domain::catalogue::parse_price("price", &text).map_err(refusal(at))
}

fn patient_fields(at: &str, list: &[String]) -> Result<Vec<PatientField>, StoreError> {
    PatientField::parse_list(&list.join(",")).map_err(|e| file_error(at, e.to_string()))
}

impl ClinicFile {
    /// Checks every value and reference. `today` is the clinic's date now: what is wholly
    /// before it is left out (an apply never changes the past).
    pub(crate) fn check(&self, now: DateTime<Utc>) -> Result<Checked, StoreError> {
        let slug = ClinicSlug::parse(self.slug.trim()).map_err(|e| file_error("slug", e.to_string()))?;
        let profile = ClinicProfile::new(&self.name, &self.default_locale, &self.time_zone).map_err(refusal(""))?;
        let tz = domain::zone::parse_zone(&profile.time_zone).map_err(|e| file_error("time_zone", e.to_string()))?;
        let today = now.with_timezone(&tz).date_naive();
        let b = &self.booking;
        let settings = ClinicSettings::new(b.minimum_notice_minutes, b.horizon_days, b.change_cutoff_minutes, b.hold_minutes)
            .map_err(|e| match e {
                DomainError::Invalid { field, reason } => {
                    let key = match field {
                        "minimumNotice" => "minimum_notice_minutes",
                        "horizonDays" => "horizon_days",
                        "cancellationCutoff" => "change_cutoff_minutes",
                        _ => "hold_minutes",
                    };
                    file_error(format!("booking.{key}"), reason)
                }
                other => file_error("booking", other.to_string()),
            })?;
        let mut origins = Vec::new();
        for (i, raw) in self.embed_origins.iter().enumerate() {
            let origin = domain::clinic::parse_origin(raw).map_err(|e| file_error(format!("embed_origins[{i}]"), e.to_string()))?;
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        if origins.len() > crate::widget::MAX_EMBED_ORIGINS {
            return Err(file_error("embed_origins", format!("at most {} websites", crate::widget::MAX_EMBED_ORIGINS)));
        }
        let mut holidays = BTreeMap::new();
        for (i, h) in self.holidays.iter().enumerate() {
            let at = format!("holidays[{i}]");
            let day = date(&format!("{at}.date"), &h.date)?;
            let name = domain::staff::check_name("name", &h.name, 120).map_err(refusal(&at))?;
            if holidays.insert(day, name).is_some() {
                return Err(file_error(format!("{at}.date"), format!("{day} is listed twice")));
            }
        }
        holidays.retain(|day, _| *day >= today);

        let mut locations = IndexMap::new();
        for (key, l) in &self.locations {
            let at = format!("locations.{key}");
            check_key(&at, key)?;
            let def = LocationDef::new(&l.name, &l.address, &l.time_zone).map_err(refusal(&at))?;
            locations.insert(key.clone(), (def, l.archived));
        }
        let mut services = IndexMap::new();
        for (key, s) in &self.services {
            let at = format!("services.{key}");
            check_key(&at, key)?;
            services.insert(key.clone(), (ServiceDef::new(&s.name, s.duration_minutes).map_err(refusal(&at))?, s.archived));
        }
        let mut products = IndexMap::new();
        for (key, p) in &self.products {
            let at = format!("products.{key}");
            check_key(&at, key)?;
            let Some((_, service_archived)) = services.get(&p.service) else {
                return Err(file_error(format!("{at}.service"), format!("{:?} is not a service of this file", p.service)));
            };
            if *service_archived && !p.archived {
                return Err(file_error(format!("{at}.archived"), format!("its service {:?} is archived: archive the product too", p.service)));
            }
            let def = ProductDef::new(ProductInput {
                service_id: Some(0),
                name: p.name.clone(),
                description: p.description.clone(),
                duration_minutes: p.duration_minutes,
                new_patient_minutes: p.new_patient_minutes,
                price_cents: price_cents(&at, &p.price)?,
                currency: p.currency.clone(),
                buffer_before_minutes: p.buffer_before_minutes,
                buffer_after_minutes: p.buffer_after_minutes,
                step_minutes: p.step_minutes,
                per_day_cap: p.per_day_cap,
                booker_fields: patient_fields(&format!("{at}.booker_fields"), &p.booker_fields)?,
                participant_fields: patient_fields(&format!("{at}.participant_fields"), &p.participant_fields)?,
            })
            .map_err(refusal(&at))?;
            products.insert(key.clone(), (p.service.clone(), def, p.archived));
        }
        let mut providers = IndexMap::new();
        for (key, p) in &self.providers {
            let at = format!("providers.{key}");
            check_key(&at, key)?;
            let def = ProviderDef::new(&p.name, &p.title, &p.gender, &p.specialty, Vec::new()).map_err(refusal(&at))?;
            let mut keys: Vec<String> = Vec::new();
            for (i, s) in p.services.iter().enumerate() {
                if !services.contains_key(s) {
                    return Err(file_error(format!("{at}.services[{i}]"), format!("{s:?} is not a service of this file")));
                }
                if !keys.contains(s) {
                    keys.push(s.clone());
                }
            }
            keys.sort();
            let rules = check_rules(&at, p, &locations, tz, today, now)?;
            providers.insert(key.clone(), CheckedProvider { def, services: keys, rules, archived: p.archived });
        }
        let n = &self.notifications;
        let notifications = NotificationSettings {
            confirmation: n.confirmation,
            rescheduled: n.rescheduled,
            cancelled: n.cancelled,
            reminder: n.reminder,
            reminder_minutes: domain::notify::check_reminder_minutes(n.reminder_minutes).map_err(|e| file_error("notifications.reminder_minutes", reason_of(e)))?,
            sender: domain::notify::check_sender(&n.sender).map_err(|e| file_error("notifications.sender", reason_of(e)))?,
            note: check_text("note", &n.note, domain::notify::MAX_NOTE).map_err(|e| file_error("notifications.note", reason_of(e)))?,
        };
        Ok(Checked { slug, profile, settings, notifications, origins, holidays, locations, services, products, providers })
    }
}

fn check_rules(
    at: &str,
    p: &ProviderItem,
    locations: &IndexMap<String, (LocationDef, bool)>,
    tz: Tz,
    today: NaiveDate,
    now: DateTime<Utc>,
) -> Result<Rules, StoreError> {
    let mut rules = Rules::default();
    for (i, h) in p.hours.iter().enumerate() {
        let at = format!("{at}.hours[{i}]");
        match locations.get(&h.location) {
            None => return Err(file_error(format!("{at}.location"), format!("{:?} is not a location of this file", h.location))),
            Some((_, true)) if !p.archived => {
                return Err(file_error(format!("{at}.location"), format!("{:?} is archived: nobody works there", h.location)))
            }
            Some(_) => {}
        }
        let (start, end) = (time(&format!("{at}.start"), &h.start)?, time(&format!("{at}.end"), &h.end)?);
        let valid_from = h.valid_from.as_ref().map(|d| date(&format!("{at}.valid_from"), d)).transpose()?;
        let valid_until = h.valid_until.as_ref().map(|d| date(&format!("{at}.valid_until"), d)).transpose()?;
        for day in weekdays(&format!("{at}.days"), &h.days)? {
            let def = HoursDef::new(0, i64::from(day), start, end, valid_from, valid_until).map_err(refusal(&at))?;
            if def.valid_until.is_some_and(|until| until < today) {
                continue;
            }
            if let Some((_, other)) = rules.hours.iter().find(|(_, o)| o.overlaps(&def)) {
                let day = WeeklyInterval::weekday_from_iso(i64::from(day)).map(|d| d.to_string()).unwrap_or_default();
                return Err(file_error(format!("{at}.start"), format!("{day} {start}-{end} overlaps {day} {}-{}", other.start, other.end)));
            }
            rules.hours.push((h.location.clone(), def));
        }
    }
    for (i, d) in p.closed.iter().enumerate() {
        let day = date(&format!("{at}.closed[{i}]"), d)?;
        if rules.exceptions.contains(&ExceptionDef::closed(day)) {
            return Err(file_error(format!("{at}.closed[{i}]"), format!("{day} is listed twice")));
        }
        rules.exceptions.push(ExceptionDef::closed(day));
    }
    for (i, x) in p.extra_hours.iter().enumerate() {
        let at = format!("{at}.extra_hours[{i}]");
        let day = date(&format!("{at}.date"), &x.date)?;
        let def = ExceptionDef::extra(day, time(&format!("{at}.start"), &x.start)?, time(&format!("{at}.end"), &x.end)?).map_err(refusal(&at))?;
        let clash = |(s, e): (LocalTime, LocalTime)| {
            rules.exceptions.iter().any(|o| o.date == day && o.extra.is_some_and(|(os, oe)| s < oe && os < e))
        };
        if def.extra.is_some_and(clash) {
            return Err(file_error(format!("{at}.start"), format!("overlaps other extra hours of {day}")));
        }
        rules.exceptions.push(def);
    }
    rules.exceptions.retain(|e| e.date >= today);
    for (i, b) in p.blocks.iter().enumerate() {
        let at = format!("{at}.blocks[{i}]");
        let (start, end) = (instant(&format!("{at}.start"), &b.start, tz)?, instant(&format!("{at}.end"), &b.end, tz)?);
        if end <= start {
            return Err(file_error(format!("{at}.end"), "is not after the start"));
        }
        if end - start > chrono::Duration::days(crate::schedule_admin::MAX_BLOCK_DAYS) {
            return Err(file_error(format!("{at}.end"), format!("a block lasts at most {} days", crate::schedule_admin::MAX_BLOCK_DAYS)));
        }
        let label = check_text("label", &b.label, 120).map_err(refusal(&at))?.replace('\n', " ");
        if end > now {
            rules.blocks.push(BlockDef { start, end, label });
        }
    }
    Ok(rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"
slug = "praxis-nord"
name = "Praxis Nord"
time_zone = "America/New_York"
embed_origins = ["https://praxis-nord.example"]

[[holidays]]
date = 2030-07-04
name = "Independence Day"

[locations.midtown]
name = "Midtown"
address = "1 Main St, New York"
time_zone = "America/New_York"

[services.checkup]
name = "Check-up"
duration_minutes = 30

[products.short]
service = "checkup"
name = "Short check-up"
duration_minutes = 20
price = 45
currency = "usd"

[providers.berg]
name = "Dr. Anna Berg"
services = ["checkup"]
hours = [
  { location = "midtown", days = "mon-thu", start = "08:00", end = "12:00" },
  { location = "midtown", days = ["Mon", "friday"], start = 13:00:00, end = "17:00" },
]
closed = ["2030-07-03"]
blocks = [{ start = "2030-07-02T09:00", end = "2030-07-02T10:00", label = "Team" }]
"#;

    fn now() -> DateTime<Utc> {
        "2030-06-01T12:00:00Z".parse().unwrap()
    }

    fn refused_at(text: &str) -> String {
        match ClinicFile::parse(text).and_then(|f| f.check(now())) {
            Err(StoreError::ClinicFile { at, .. }) => at,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn a_file_is_read_with_quoted_or_literal_dates_day_ranges_and_local_block_times() {
        let checked = ClinicFile::parse(SMALL).unwrap().check(now()).unwrap();
        assert_eq!(checked.slug.as_str(), "praxis-nord");
        assert_eq!(checked.holidays.get(&NaiveDate::from_ymd_opt(2030, 7, 4).unwrap()).map(String::as_str), Some("Independence Day"));
        let (_, product, _) = &checked.products["short"];
        assert_eq!((product.price_cents, product.currency.as_str()), (4500, "USD"));
        let berg = &checked.providers["berg"];
        let days: Vec<(u8, String)> = berg.rules.hours.iter().map(|(_, h)| (h.weekday, h.start.to_string())).collect();
        assert_eq!(days.len(), 6, "mon-thu mornings, mon and fri afternoons: {days:?}");
        assert!(days.contains(&(5, "13:00".into())));
        // 09:00 in New York in July is 13:00 UTC.
        assert_eq!(berg.rules.blocks[0].start, "2030-07-02T13:00:00Z".parse::<DateTime<Utc>>().unwrap());
    }

    #[test]
    fn a_written_file_reads_back_as_the_same_file() {
        let file = ClinicFile::parse(SMALL).unwrap();
        let again = ClinicFile::parse(&file.to_toml()).unwrap();
        assert_eq!(file.check(now()).unwrap(), again.check(now()).unwrap());
    }

    #[test]
    fn bad_values_and_unknown_references_are_refused_naming_the_entry_and_key() {
        let cases = [
            ("time_zone = \"America/New_York\"", "time_zone = \"America/Gotham\"", "time_zone"),
            ("address = \"1 Main St, New York\"\ntime_zone = \"America/New_York\"", "address = \"1 Main St\"\ntime_zone = \"Mars/Base\"", "locations.midtown.time_zone"),
            ("duration_minutes = 30", "duration_minutes = 0", "services.checkup.duration_minutes"),
            ("duration_minutes = 20", "duration_minutes = -20", "products.short.duration_minutes"),
            ("price = 45", "price = -45", "products.short.price"),
            ("service = \"checkup\"", "service = \"dental\"", "products.short.service"),
            ("services = [\"checkup\"]", "services = [\"dental\"]", "providers.berg.services[0]"),
            ("start = \"08:00\", end = \"12:00\"", "start = \"12:00\", end = \"08:00\"", "providers.berg.hours[0].end"),
            ("start = 13:00:00", "start = \"11:00\"", "providers.berg.hours[1].start"),
            ("days = \"mon-thu\"", "days = \"thu-mon\"", "providers.berg.hours[0].days"),
            ("location = \"midtown\", days = \"mon-thu\"", "location = \"uptown\", days = \"mon-thu\"", "providers.berg.hours[0].location"),
            ("[providers.berg]", "[providers.Berg]", "providers.Berg"),
            ("closed = [\"2030-07-03\"]", "closed = [\"2030-07-03\", \"2030-07-03\"]", "providers.berg.closed[1]"),
            ("end = \"2030-07-02T10:00\"", "end = \"2030-07-02T08:00\"", "providers.berg.blocks[0].end"),
            ("currency = \"usd\"", "currency = \"dollars\"", "products.short.currency"),
            ("embed_origins = [\"https://praxis-nord.example\"]", "embed_origins = [\"praxis nord\"]", "embed_origins[0]"),
        ];
        for (from, to, at) in cases {
            assert!(SMALL.contains(from), "{from}");
            assert_eq!(refused_at(&SMALL.replacen(from, to, 1)), at, "{to}");
        }
    }

    #[test]
    fn a_misspelt_key_is_refused_with_its_line() {
        let text = SMALL.replace("duration_minutes = 30", "duration_minutse = 30");
        let Err(StoreError::ClinicFile { reason, .. }) = ClinicFile::parse(&text) else { panic!("accepted a misspelt key") };
        assert!(reason.contains("duration_minutse") && reason.contains("line"), "{reason}");
    }

    #[test]
    fn what_is_over_is_left_out() {
        let later: DateTime<Utc> = "2030-07-05T12:00:00Z".parse().unwrap();
        let checked = ClinicFile::parse(SMALL).unwrap().check(later).unwrap();
        assert!(checked.holidays.is_empty());
        assert!(checked.providers["berg"].rules.exceptions.is_empty());
        assert!(checked.providers["berg"].rules.blocks.is_empty());
    }

    #[test]
    fn the_example_in_the_readme_is_a_valid_file() {
        let readme = include_str!("../../README.md");
        let start = readme.find("```toml\n").expect("a TOML example") + "```toml\n".len();
        let end = start + readme[start..].find("```").expect("the example ends");
        let checked = ClinicFile::parse(&readme[start..end]).unwrap().check(now()).unwrap();
        assert_eq!(checked.products.len(), 2);
        assert_eq!(checked.providers["berg"].rules.hours.len(), 8);
    }

    #[test]
    fn keys_made_from_names_are_plain_and_never_empty() {
        assert_eq!(key_from_name("Dr. Anna Weber"), "dr-anna-weber");
        assert_eq!(key_from_name("Physiotherapie Müller & Söhne"), "physiotherapie-mueller-soehne");
        assert_eq!(key_from_name("  ++ "), "entry");
        assert!(check_key("x", &key_from_name(&"Ä".repeat(200))).is_ok());
    }
}
