//! What a clinic offers, as its staff define it: locations, services, the products (bookable
//! appointment types) of each service, and providers. Each definition can only hold valid
//! values; the console, the admin API and the clinic file all build them through these
//! constructors, so they refuse the same input with the same field names.

use crate::patient::PatientField;
use crate::staff::check_name;
use crate::DomainError;
use serde::{Deserialize, Serialize};

pub const MAX_NAME: usize = 120;
pub const MAX_TEXT: usize = 500;
/// One day: nothing in the catalogue lasts longer (appointments longer than a day are refused).
pub const MAX_MINUTES: u32 = 1440;
/// Prices up to 10 million in the currency's main unit.
pub const MAX_PRICE_CENTS: i64 = 1_000_000_000;
/// How a provider is addressed by voice bots; empty when not stated.
pub const PROVIDER_GENDERS: [&str; 4] = ["", "female", "male", "diverse"];

/// Optional free text on one or more lines (an address, a description), trimmed and bounded.
pub fn check_text(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    let text = raw.trim();
    if text.chars().count() > max {
        return Err(DomainError::invalid(field, format!("must be at most {max} characters")));
    }
    if text.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(DomainError::invalid(field, "must be plain text"));
    }
    Ok(text.replace("\r\n", "\n"))
}

/// A length in minutes from a form field: a whole number from `min` to one day.
pub fn parse_minutes(field: &'static str, raw: &str, min: u32) -> Result<u32, DomainError> {
    let raw = raw.trim();
    let n: i64 = raw.parse().map_err(|_| DomainError::invalid(field, format!("{raw:?} is not a whole number of minutes")))?;
    check_minutes(field, n, min)
}

/// An optional length in minutes: empty means "not set".
pub fn parse_optional_minutes(field: &'static str, raw: &str) -> Result<Option<u32>, DomainError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    parse_minutes(field, raw, 1).map(Some)
}

pub fn check_minutes(field: &'static str, n: i64, min: u32) -> Result<u32, DomainError> {
    if n < i64::from(min) || n > i64::from(MAX_MINUTES) {
        return Err(DomainError::invalid(field, format!("must be from {min} to {MAX_MINUTES} minutes")));
    }
    Ok(n as u32)
}

/// A price as people write it ("45", "45.5", "45.50", "45,50") in cents. Negative prices and
/// fractions of a cent are refused.
pub fn parse_price(field: &'static str, raw: &str) -> Result<i64, DomainError> {
    let raw = raw.trim();
    let invalid = || DomainError::invalid(field, format!("{raw:?} is not a price such as 45.50"));
    if raw.starts_with('-') {
        return Err(DomainError::invalid(field, "must not be negative"));
    }
    let (whole, fraction) = match raw.split_once(['.', ',']) {
        Some((w, f)) => (w, f),
        None => (raw, ""),
    };
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    if fraction.len() > 2 {
        return Err(DomainError::invalid(field, "must not have more than two decimals"));
    }
    let whole: i64 = whole.parse().map_err(|_| invalid())?;
    let cents: i64 = format!("{fraction:0<2}").parse().map_err(|_| invalid())?;
    check_price_cents(field, whole.checked_mul(100).and_then(|w| w.checked_add(cents)).ok_or_else(invalid)?)
}

pub fn check_price_cents(field: &'static str, cents: i64) -> Result<i64, DomainError> {
    if cents < 0 {
        return Err(DomainError::invalid(field, "must not be negative"));
    }
    if cents > MAX_PRICE_CENTS {
        return Err(DomainError::invalid(field, "is too large"));
    }
    Ok(cents)
}

/// Cents as people read them: "45.50".
pub fn format_price(cents: i64) -> String {
    format!("{}.{:02}", cents / 100, cents % 100)
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocationDef {
    pub name: String,
    pub address: String,
    /// An IANA zone name, as the zone database spells it.
    pub time_zone: String,
}

impl LocationDef {
    #[cfg(feature = "tz")]
    pub fn new(name: &str, address: &str, time_zone: &str) -> Result<Self, DomainError> {
        let name = check_name("name", name, MAX_NAME)?;
        let address = check_text("address", address, MAX_TEXT)?;
        if address.is_empty() {
            return Err(DomainError::invalid("address", "must not be empty: patients need to find the place"));
        }
        let zone = crate::zone::parse_zone(time_zone.trim())
            .map_err(|_| DomainError::invalid("timeZone", format!("{:?} is not an IANA time zone such as Europe/Berlin", time_zone.trim())))?;
        Ok(Self { name, address, time_zone: zone.name().to_owned() })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceDef {
    pub name: String,
    /// The usual length; each product of the service sets its own.
    pub duration_minutes: u32,
}

impl ServiceDef {
    pub fn new(name: &str, duration_minutes: i64) -> Result<Self, DomainError> {
        Ok(Self { name: check_name("name", name, MAX_NAME)?, duration_minutes: check_minutes("durationMinutes", duration_minutes, 1)? })
    }
}

/// A bookable appointment type of a service. `service_id` is the clinic's own service; the
/// store checks that it belongs to the clinic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductDef {
    pub service_id: i64,
    pub name: String,
    pub description: String,
    pub duration_minutes: u32,
    /// A longer (or shorter) length for patients new to the clinic.
    pub new_patient_minutes: Option<u32>,
    pub price_cents: i64,
    /// ISO 4217 code, upper case.
    pub currency: String,
    pub buffer_before_minutes: u32,
    pub buffer_after_minutes: u32,
    /// How far apart offered start times are; the length when not set.
    pub step_minutes: Option<u32>,
    /// At most this many per provider and day.
    pub per_day_cap: Option<u32>,
    pub booker_fields: Vec<PatientField>,
    pub participant_fields: Vec<PatientField>,
}

/// The unchecked values of a product, as a form or a request carries them.
#[derive(Debug, Clone, Default)]
pub struct ProductInput {
    pub service_id: Option<i64>,
    pub name: String,
    pub description: String,
    pub duration_minutes: i64,
    pub new_patient_minutes: Option<i64>,
    pub price_cents: i64,
    pub currency: String,
    pub buffer_before_minutes: i64,
    pub buffer_after_minutes: i64,
    pub step_minutes: Option<i64>,
    pub per_day_cap: Option<i64>,
    pub booker_fields: Vec<PatientField>,
    pub participant_fields: Vec<PatientField>,
}

impl ProductDef {
    pub fn new(input: ProductInput) -> Result<Self, DomainError> {
        let service_id = input.service_id.ok_or_else(|| DomainError::invalid("service", "a product belongs to a service: choose one"))?;
        let optional = |field, v: Option<i64>| v.map(|n| check_minutes(field, n, 1)).transpose();
        let currency = input.currency.trim().to_ascii_uppercase();
        if currency.len() != 3 || !currency.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(DomainError::invalid("currency", format!("{:?} is not a three-letter currency code such as EUR", input.currency.trim())));
        }
        let per_day_cap = match input.per_day_cap {
            None => None,
            Some(n) if (1..=1000).contains(&n) => Some(n as u32),
            Some(_) => return Err(DomainError::invalid("perDayCap", "must be from 1 to 1000, or empty for no cap")),
        };
        for (field, fields) in [("bookerFields", &input.booker_fields), ("participantFields", &input.participant_fields)] {
            let named = fields.contains(&PatientField::FirstName) && fields.contains(&PatientField::LastName);
            if !named && (field == "bookerFields" || !fields.is_empty()) {
                return Err(DomainError::invalid(field, "must include first name and last name"));
            }
        }
        Ok(Self {
            service_id,
            name: check_name("name", &input.name, MAX_NAME)?,
            description: check_text("description", &input.description, MAX_TEXT)?,
            duration_minutes: check_minutes("durationMinutes", input.duration_minutes, 1)?,
            new_patient_minutes: optional("newPatientMinutes", input.new_patient_minutes)?,
            price_cents: check_price_cents("price", input.price_cents)?,
            currency,
            buffer_before_minutes: check_minutes("bufferBeforeMinutes", input.buffer_before_minutes, 0)?,
            buffer_after_minutes: check_minutes("bufferAfterMinutes", input.buffer_after_minutes, 0)?,
            step_minutes: optional("stepMinutes", input.step_minutes)?,
            per_day_cap,
            booker_fields: input.booker_fields,
            participant_fields: input.participant_fields,
        })
    }

    /// The stored form of a field list: `firstname,lastname,phone`.
    pub fn fields_text(fields: &[PatientField]) -> String {
        fields.iter().map(|f| f.as_str()).collect::<Vec<_>>().join(",")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderDef {
    pub name: String,
    /// "Dr.", "Prof. Dr.": said before the name by voice bots.
    pub title: String,
    pub gender: String,
    pub specialty: String,
    /// The clinic's services this provider offers.
    pub service_ids: Vec<i64>,
}

impl ProviderDef {
    pub fn new(name: &str, title: &str, gender: &str, specialty: &str, mut service_ids: Vec<i64>) -> Result<Self, DomainError> {
        let gender = gender.trim().to_ascii_lowercase();
        if !PROVIDER_GENDERS.contains(&gender.as_str()) {
            return Err(DomainError::invalid("gender", "must be one of: female, male, diverse, or empty"));
        }
        let title = check_text("title", title, 40)?;
        if title.contains('\n') {
            return Err(DomainError::invalid("title", "must be one line of text"));
        }
        service_ids.sort_unstable();
        service_ids.dedup();
        Ok(Self {
            name: check_name("name", name, MAX_NAME)?,
            title,
            gender,
            specialty: check_text("specialty", specialty, MAX_NAME)?.replace('\n', " "),
            service_ids,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn product() -> ProductInput {
        ProductInput {
            service_id: Some(1),
            name: "Check-up".into(),
            duration_minutes: 30,
            currency: "eur".into(),
            booker_fields: vec![PatientField::FirstName, PatientField::LastName, PatientField::Phone],
            ..ProductInput::default()
        }
    }

    fn refused_field<T: std::fmt::Debug>(r: Result<T, DomainError>) -> &'static str {
        match r {
            Err(DomainError::Invalid { field, .. }) => field,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn prices_are_read_as_people_write_them_and_never_negative() {
        assert_eq!(parse_price("price", "45").unwrap(), 4500);
        assert_eq!(parse_price("price", " 45.5 ").unwrap(), 4550);
        assert_eq!(parse_price("price", "45,05").unwrap(), 4505);
        assert_eq!(parse_price("price", "0").unwrap(), 0);
        for bad in ["-1", "-0.50", "abc", "", "1.234", "1e3", ".5", "99999999999999999999"] {
            assert_eq!(refused_field(parse_price("price", bad)), "price", "{bad:?}");
        }
        assert_eq!(format_price(4505), "45.05");
    }

    #[test]
    fn a_location_needs_a_name_an_address_and_a_known_zone() {
        let ok = LocationDef::new(" Midtown ", "1 Main St\r\nNew York", "America/New_York").unwrap();
        assert_eq!((ok.name.as_str(), ok.address.as_str()), ("Midtown", "1 Main St\nNew York"));
        assert_eq!(refused_field(LocationDef::new("Midtown", "1 Main St", "America/Gotham")), "timeZone");
        assert_eq!(refused_field(LocationDef::new("", "1 Main St", "UTC")), "name");
        assert_eq!(refused_field(LocationDef::new("Midtown", "  ", "UTC")), "address");
    }

    #[test]
    fn zero_negative_or_day_long_durations_are_refused() {
        assert!(ServiceDef::new("Dental", 30).is_ok());
        for bad in [0, -15, 1441] {
            assert_eq!(refused_field(ServiceDef::new("Dental", bad)), "durationMinutes");
            assert_eq!(refused_field(ProductDef::new(ProductInput { duration_minutes: bad, ..product() })), "durationMinutes");
        }
        assert_eq!(refused_field(ProductDef::new(ProductInput { new_patient_minutes: Some(0), ..product() })), "newPatientMinutes");
        assert_eq!(refused_field(ProductDef::new(ProductInput { step_minutes: Some(-5), ..product() })), "stepMinutes");
        assert_eq!(refused_field(ProductDef::new(ProductInput { buffer_after_minutes: -1, ..product() })), "bufferAfterMinutes");
        assert_eq!(parse_minutes("stepMinutes", "ten", 1).unwrap_err(), DomainError::invalid("stepMinutes", "\"ten\" is not a whole number of minutes"));
        assert_eq!(parse_optional_minutes("stepMinutes", " ").unwrap(), None);
    }

    #[test]
    fn a_product_needs_a_service_a_price_of_zero_or_more_and_a_currency_code() {
        let ok = ProductDef::new(product()).unwrap();
        assert_eq!(ok.currency, "EUR");
        assert_eq!(refused_field(ProductDef::new(ProductInput { service_id: None, ..product() })), "service");
        assert_eq!(refused_field(ProductDef::new(ProductInput { price_cents: -100, ..product() })), "price");
        assert_eq!(refused_field(ProductDef::new(ProductInput { currency: "euro".into(), ..product() })), "currency");
        assert_eq!(refused_field(ProductDef::new(ProductInput { per_day_cap: Some(0), ..product() })), "perDayCap");
    }

    #[test]
    fn the_booker_is_always_asked_for_a_name_and_so_is_a_participant_when_asked_anything() {
        let nameless = vec![PatientField::Phone];
        assert_eq!(refused_field(ProductDef::new(ProductInput { booker_fields: nameless.clone(), ..product() })), "bookerFields");
        assert_eq!(refused_field(ProductDef::new(ProductInput { participant_fields: nameless, ..product() })), "participantFields");
        assert!(ProductDef::new(ProductInput { participant_fields: vec![], ..product() }).is_ok());
    }

    #[test]
    fn a_provider_has_a_name_and_a_known_gender_or_none() {
        let p = ProviderDef::new("Anna Berg", "Dr.", "Female", "Dentistry", vec![3, 1, 3]).unwrap();
        assert_eq!((p.gender.as_str(), p.service_ids.clone()), ("female", vec![1, 3]));
        assert!(ProviderDef::new("Anna Berg", "", "", "", vec![]).is_ok());
        assert_eq!(refused_field(ProviderDef::new("Anna Berg", "", "robot", "", vec![])), "gender");
        assert_eq!(refused_field(ProviderDef::new(" ", "", "", "", vec![])), "name");
    }
}
