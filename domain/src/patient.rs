//! Patients' details as the rules accept them. Each value type can only hold a valid value,
//! so a stored phone number is always E.164 and a birth date is never in the future. The same
//! types check the widget's form in the browser and every API request on the server.

use crate::DomainError;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use unicode_normalization::UnicodeNormalization;

/// A details field a product can require, named as the bot contracts name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PatientField {
    #[serde(rename = "firstname")]
    FirstName,
    #[serde(rename = "lastname")]
    LastName,
    #[serde(rename = "phone")]
    Phone,
    #[serde(rename = "email")]
    Email,
    #[serde(rename = "dob")]
    BirthDate,
    #[serde(rename = "street")]
    Street,
    #[serde(rename = "zip")]
    Zip,
    #[serde(rename = "city")]
    City,
    #[serde(rename = "country")]
    Country,
    #[serde(rename = "nationalId")]
    NationalId,
}

impl PatientField {
    pub const ALL: [PatientField; 10] = [
        Self::FirstName,
        Self::LastName,
        Self::Phone,
        Self::Email,
        Self::BirthDate,
        Self::Street,
        Self::Zip,
        Self::City,
        Self::Country,
        Self::NationalId,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstName => "firstname",
            Self::LastName => "lastname",
            Self::Phone => "phone",
            Self::Email => "email",
            Self::BirthDate => "dob",
            Self::Street => "street",
            Self::Zip => "zip",
            Self::City => "city",
            Self::Country => "country",
            Self::NationalId => "nationalId",
        }
    }

    /// Parses a stored comma-separated list such as `firstname,lastname,phone`.
    pub fn parse_list(raw: &str) -> Result<Vec<PatientField>, DomainError> {
        let mut fields = Vec::new();
        for name in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let field = Self::ALL
                .into_iter()
                .find(|f| f.as_str() == name)
                .ok_or_else(|| DomainError::invalid("fields", format!("{name:?} is not a patient field")))?;
            if !fields.contains(&field) {
                fields.push(field);
            }
        }
        Ok(fields)
    }
}

/// A first or last name: trimmed, 1 to 100 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonName(String);

impl PersonName {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(DomainError::invalid("name", "must not be empty"));
        }
        if name.chars().count() > 100 {
            return Err(DomainError::invalid("name", "must be at most 100 characters"));
        }
        if name.chars().any(char::is_control) {
            return Err(DomainError::invalid("name", "must not contain control characters"));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form names are compared in: case, accents and spacing do not matter
    /// ("MÜLLER", "Muller" and " müller " all match).
    pub fn match_key(&self) -> String {
        match_key(&self.0)
    }
}

/// Case-, accent- and space-insensitive comparison key for names.
pub fn match_key(raw: &str) -> String {
    raw.nfd()
        .filter(|c| !unicode_normalization::char::is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect::<String>()
        .replace('ß', "ss")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

impl TryFrom<String> for PersonName {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<PersonName> for String {
    fn from(value: PersonName) -> Self {
        value.0
    }
}

/// The country whose way of writing phone numbers a typed number is read in: the country of
/// the location the patient books at (`0171 2345678` at a Berlin location is `+491712345678`).
/// An ISO 3166 alpha-2 code, upper case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PhoneRegion([u8; 2]);

impl PhoneRegion {
    /// Two ASCII letters in either case; anything else is no region.
    pub fn parse(code: &str) -> Option<Self> {
        match code.trim().as_bytes() {
            [a, b] if a.is_ascii_alphabetic() && b.is_ascii_alphabetic() => {
                Some(Self([a.to_ascii_uppercase(), b.to_ascii_uppercase()]))
            }
            _ => None,
        }
    }

    /// The country of an IANA time zone (`Europe/Berlin` is DE) as the tz database's zone
    /// table assigns it; zones of no country (`UTC`, `Etc/GMT+2`) have none.
    pub fn of_zone(zone: &str) -> Option<Self> {
        let table = crate::zone_country::ZONE_COUNTRIES;
        let at = table.binary_search_by(|(name, _)| (*name).cmp(zone)).ok()?;
        Self::parse(table[at].1)
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("two ASCII letters")
    }
}

impl fmt::Display for PhoneRegion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A phone number in E.164 form (`+4930123456`), the only form we store and compare.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

#[cfg(feature = "phone")]
const NEEDS_COUNTRY_CODE: &str = "needs a country code, e.g. +49";

impl Phone {
    /// Reads a number as people write it (`+49-341-1234567`, `0049 (341) 123 45 67`, and with
    /// a region `0341 1234567`) and keeps it only when it is a complete, valid number of its
    /// country by libphonenumber's metadata, so that a digit too few is refused while the
    /// patient can still correct it.
    #[cfg(feature = "phone")]
    pub fn parse(raw: &str, region: Option<PhoneRegion>) -> Result<Self, DomainError> {
        use phonenumber::{country, Mode};
        let bad = |why: String| DomainError::invalid("phone", why);
        let trimmed = raw.trim();
        Self::check_loosely(trimmed)?;
        let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
        // The international call prefix 00 is the common one (Europe, Asia, Africa); other
        // prefixes (011 in North America) are understood by the region's own rules below.
        let international = if trimmed.starts_with('+') {
            Some(format!("+{digits}"))
        } else {
            digits.strip_prefix("00").map(|rest| format!("+{rest}"))
        };
        let id = region.and_then(|r| r.as_str().parse::<country::Id>().ok());
        // A number written internationally is read as such first: the region's own rules for
        // international prefixes lose digits (with US rules, `011 49 171...` came out as
        // `+49 71...`), so a foreign number they produce must also end in the digits typed.
        let attempts = [
            international.map(|number| (None, number)),
            id.map(|id| (Some(id), trimmed.to_owned())),
        ];
        let mut parsed = None;
        for (id, text) in attempts.into_iter().flatten() {
            if let Ok(number) = phonenumber::parse(id, &text) {
                let e164 = number.format().mode(Mode::E164).to_string();
                let foreign = id.is_some() && number.country().id() != id;
                let valid = phonenumber::is_valid(&number) && !(foreign && !digits.ends_with(&e164[1..]));
                parsed = Some((number, e164, valid));
                if valid {
                    break;
                }
            }
        }
        match parsed {
            Some((_, e164, true)) => Ok(Self(e164)),
            Some((number, _, false)) => Err(bad(format!(
                "is not a complete phone number of {} (check the digits)",
                number.country().id().map_or_else(|| format!("+{}", number.code().value()), |c| c.as_ref().to_owned())
            ))),
            None if region.is_none() && !trimmed.starts_with('+') && !digits.starts_with("00") => {
                Err(bad(NEEDS_COUNTRY_CODE.to_owned()))
            }
            None => Err(bad("is not a phone number".to_owned())),
        }
    }

    /// What can be told without the numbering plans (the browser's check as the patient types;
    /// the server decides with [`Phone::parse`]): only digits and separators, `+` only first,
    /// and between 5 and 17 digits.
    pub fn check_loosely(raw: &str) -> Result<(), DomainError> {
        let bad = |why: &str| DomainError::invalid("phone", why.to_string());
        let trimmed = raw.trim();
        if trimmed.chars().any(|c| !(c.is_ascii_digit() || " -./()+".contains(c))) {
            return Err(bad("may contain only digits, spaces and + - . / ( )"));
        }
        if trimmed.matches('+').count() > 1 || (trimmed.contains('+') && !trimmed.starts_with('+')) {
            return Err(bad("'+' may only start the number"));
        }
        let digits = trimmed.chars().filter(char::is_ascii_digit).count();
        if trimmed.starts_with('+') && trimmed[1..].trim_start_matches(|c: char| !c.is_ascii_digit()).starts_with('0') {
            return Err(bad("country codes do not start with 0"));
        }
        if !(5..=17).contains(&digits) {
            return Err(bad("must have 5 to 17 digits"));
        }
        Ok(())
    }

    /// A number already in E.164 form, as we store and send it.
    pub fn from_e164(raw: &str) -> Result<Self, DomainError> {
        let digits = raw.strip_prefix('+').unwrap_or_default();
        if digits.len() < 7 || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) || digits.starts_with('0') {
            return Err(DomainError::invalid("phone", format!("{raw:?} is not in E.164 form (+ and up to 15 digits)")));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::from_e164(&value)
    }
}

impl From<Phone> for String {
    fn from(value: Phone) -> Self {
        value.0
    }
}

impl fmt::Display for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, trimmed, with the domain lower-cased. Deliberately simple: one `@`,
/// a non-empty local part, a dotted domain, no spaces, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let bad = || DomainError::invalid("email", format!("{raw:?} is not an e-mail address"));
        let raw = raw.trim();
        if raw.len() > 254 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = raw.split_once('@').ok_or_else(bad)?;
        let labels_ok = domain.split('.').all(|l| !l.is_empty() && !l.starts_with('-') && !l.ends_with('-'));
        if local.is_empty() || domain.contains('@') || !domain.contains('.') || !labels_ok {
            return Err(bad());
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Email> for String {
    fn from(value: Email) -> Self {
        value.0
    }
}

/// The latest calendar date anywhere on Earth at `now` (UTC+14). Callers that know no zone
/// for a person check birth dates against it, so a child born today is never refused because
/// the server's day (UTC) has not begun where the child was born.
pub fn latest_date_anywhere(now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    (now + chrono::Duration::hours(14)).date_naive()
}

/// A date of birth: `YYYY-MM-DD`, not in the future, not before 1900.
pub fn parse_birth_date(raw: &str, today: NaiveDate) -> Result<NaiveDate, DomainError> {
    let date = parse_iso_date(raw.trim())
        .ok_or_else(|| DomainError::invalid("dob", format!("{raw:?} is not a date like 1985-07-25")))?;
    if date > today {
        return Err(DomainError::invalid("dob", "must not be in the future"));
    }
    if date < NaiveDate::from_ymd_opt(1900, 1, 1).expect("valid date") {
        return Err(DomainError::invalid("dob", "must not be before 1900"));
    }
    Ok(date)
}

/// A person's details as given for a booking; every present value is already valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonDetails {
    pub first_name: Option<PersonName>,
    pub last_name: Option<PersonName>,
    pub phone: Option<Phone>,
    pub email: Option<Email>,
    pub birth_date: Option<NaiveDate>,
    pub street: Option<String>,
    pub zip: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub national_id: Option<String>,
}

impl PersonDetails {
    fn has(&self, field: PatientField) -> bool {
        let text = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.trim().is_empty());
        match field {
            PatientField::FirstName => self.first_name.is_some(),
            PatientField::LastName => self.last_name.is_some(),
            PatientField::Phone => self.phone.is_some(),
            PatientField::Email => self.email.is_some(),
            PatientField::BirthDate => self.birth_date.is_some(),
            PatientField::Street => text(&self.street),
            PatientField::Zip => text(&self.zip),
            PatientField::City => text(&self.city),
            PatientField::Country => text(&self.country),
            PatientField::NationalId => text(&self.national_id),
        }
    }

    /// Checks that every field a product requires is present; `role` ("booker" or
    /// "participant") prefixes the field in the error, e.g. `participant.dob`.
    pub fn require(&self, role: &'static str, fields: &[PatientField]) -> Result<(), DomainError> {
        match fields.iter().find(|f| !self.has(**f)) {
            None => Ok(()),
            Some(missing) => Err(DomainError::Invalid {
                field: role,
                reason: format!("{} is required for this appointment", missing.as_str()),
            }),
        }
    }
}

/// `YYYY-MM-DD` exactly. Written out rather than with chrono's format parser, which would
/// add its whole strftime machinery to the browser bundle.
pub fn parse_iso_date(raw: &str) -> Option<NaiveDate> {
    let bytes = raw.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &raw[range];
        part.bytes().all(|b| b.is_ascii_digit()).then(|| part.parse().ok()).flatten()
    };
    NaiveDate::from_ymd_opt(i32::try_from(number(0..4)?).ok()?, number(5..7)?, number(8..10)?)
}

/// Why a details field was refused: what a form shows beside the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    Missing,
    Invalid(String),
}

/// Longest accepted free-text detail (street, city, national id, ...).
pub const MAX_TEXT_DETAIL: usize = 200;

fn text_detail(raw: &str) -> Result<String, FieldProblem> {
    let text = raw.trim();
    if text.chars().count() > MAX_TEXT_DETAIL || text.chars().any(char::is_control) {
        return Err(FieldProblem::Invalid(format!("must be at most {MAX_TEXT_DETAIL} characters of text")));
    }
    Ok(text.to_owned())
}

fn reason(e: DomainError) -> String {
    match e {
        DomainError::Invalid { reason, .. } => reason,
        other => other.to_string(),
    }
}

/// Checks one typed value; the browser runs this on every field the patient leaves, the
/// server again on submit (and reads phone numbers strictly in [`PersonDetails::from_text`]).
/// An empty value is `Missing` (whether that matters is the caller's).
pub fn check_field(field: PatientField, raw: &str, today: NaiveDate) -> Result<(), FieldProblem> {
    if raw.trim().is_empty() {
        return Err(FieldProblem::Missing);
    }
    let invalid = |e: DomainError| FieldProblem::Invalid(reason(e));
    match field {
        PatientField::FirstName | PatientField::LastName => PersonName::parse(raw).map(drop).map_err(invalid),
        PatientField::Phone => Phone::check_loosely(raw).map_err(invalid),
        PatientField::Email => Email::parse(raw).map(drop).map_err(invalid),
        PatientField::BirthDate => parse_birth_date(raw, today).map(drop).map_err(invalid),
        _ => text_detail(raw).map(drop),
    }
}

impl PersonDetails {
    /// Reads a person from typed values: every present value must be valid, every field in
    /// `required` present; a phone number without a country code is read in `region`. The
    /// error names the first field in the order of `PatientField::ALL`.
    #[cfg(feature = "phone")]
    pub fn from_text(
        value: impl Fn(PatientField) -> Option<String>,
        required: &[PatientField],
        today: NaiveDate,
        region: Option<PhoneRegion>,
    ) -> Result<PersonDetails, (PatientField, FieldProblem)> {
        let mut details = PersonDetails::default();
        for field in PatientField::ALL {
            let raw = value(field).unwrap_or_default();
            match check_field(field, &raw, today) {
                Err(FieldProblem::Missing) if required.contains(&field) => return Err((field, FieldProblem::Missing)),
                Err(FieldProblem::Missing) => continue,
                Err(problem) => return Err((field, problem)),
                Ok(()) => {}
            }
            let text = || text_detail(&raw).map_err(|p| (field, p));
            match field {
                PatientField::FirstName => details.first_name = PersonName::parse(&raw).ok(),
                PatientField::LastName => details.last_name = PersonName::parse(&raw).ok(),
                PatientField::Phone => {
                    details.phone = Some(Phone::parse(&raw, region).map_err(|e| (field, FieldProblem::Invalid(reason(e))))?)
                }
                PatientField::Email => details.email = Email::parse(&raw).ok(),
                PatientField::BirthDate => details.birth_date = parse_birth_date(&raw, today).ok(),
                PatientField::Street => details.street = Some(text()?),
                PatientField::Zip => details.zip = Some(text()?),
                PatientField::City => details.city = Some(text()?),
                PatientField::Country => details.country = Some(text()?),
                PatientField::NationalId => details.national_id = Some(text()?),
            }
        }
        Ok(details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn iso_dates_parse_strictly() {
        assert_eq!(parse_iso_date("1985-07-25"), NaiveDate::from_ymd_opt(1985, 7, 25));
        for bad in ["", "1985-7-25", "1985-07-32", "1985/07/25", "85-07-25", "1985-07-25x", "+985-07-25", "1985-02-29"] {
            assert_eq!(parse_iso_date(bad), None, "{bad:?}");
        }
    }

    #[cfg(feature = "phone")]
    #[test]
    fn typed_details_parse_when_valid_and_name_the_first_bad_or_missing_field() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let form = |pairs: &'static [(PatientField, &'static str)]| {
            move |f: PatientField| pairs.iter().find(|(k, _)| *k == f).map(|(_, v)| v.to_string())
        };
        let required = [PatientField::FirstName, PatientField::LastName, PatientField::Phone, PatientField::BirthDate];
        let ok = PersonDetails::from_text(
            form(&[
                (PatientField::FirstName, " Jürgen "),
                (PatientField::LastName, "Müller"),
                (PatientField::Phone, "030 1234567"),
                (PatientField::BirthDate, "1985-07-25"),
                (PatientField::City, "Berlin"),
            ]),
            &required,
            today,
            de(),
        )
        .unwrap();
        assert_eq!(ok.first_name.unwrap().as_str(), "Jürgen");
        assert_eq!(ok.phone.unwrap().as_str(), "+49301234567");
        assert_eq!(ok.city.as_deref(), Some("Berlin"));
        assert_eq!(ok.email, None);

        let missing = PersonDetails::from_text(form(&[(PatientField::FirstName, "Ann")]), &required, today, de());
        assert_eq!(missing.unwrap_err(), (PatientField::LastName, FieldProblem::Missing));
        let bad = PersonDetails::from_text(
            form(&[(PatientField::FirstName, "Ann"), (PatientField::LastName, "Lee"), (PatientField::Phone, "12ab"), (PatientField::BirthDate, "1990-01-01")]),
            &required,
            today,
            de(),
        );
        assert!(matches!(bad.unwrap_err(), (PatientField::Phone, FieldProblem::Invalid(_))));
        let incomplete = PersonDetails::from_text(
            form(&[(PatientField::FirstName, "Ann"), (PatientField::LastName, "Lee"), (PatientField::Phone, "0171 234"), (PatientField::BirthDate, "1990-01-01")]),
            &required,
            today,
            de(),
        );
        assert!(matches!(incomplete.unwrap_err(), (PatientField::Phone, FieldProblem::Invalid(_))), "the loose check passes, the strict parse refuses");
        let national_without_region = PersonDetails::from_text(
            form(&[(PatientField::FirstName, "Ann"), (PatientField::LastName, "Lee"), (PatientField::Phone, "030 1234567"), (PatientField::BirthDate, "1990-01-01")]),
            &required,
            today,
            None,
        );
        assert!(matches!(national_without_region.unwrap_err(), (PatientField::Phone, FieldProblem::Invalid(_))));
        let optional_but_bad = PersonDetails::from_text(
            form(&[(PatientField::FirstName, "Ann"), (PatientField::LastName, "Lee"), (PatientField::Phone, "+4930123456"), (PatientField::BirthDate, "1990-01-01"), (PatientField::Email, "no-at-sign")]),
            &required,
            today,
            de(),
        );
        assert!(matches!(optional_but_bad.unwrap_err(), (PatientField::Email, FieldProblem::Invalid(_))));
        assert!(check_field(PatientField::BirthDate, "2027-01-01", today).is_err());
        assert!(check_field(PatientField::City, &"x".repeat(201), today).is_err());
    }

    #[test]
    fn field_lists_use_the_contract_names_and_refuse_unknown_ones() {
        assert_eq!(
            PatientField::parse_list("firstname, lastname,phone,email,dob").unwrap(),
            [PatientField::FirstName, PatientField::LastName, PatientField::Phone, PatientField::Email, PatientField::BirthDate]
        );
        assert_eq!(PatientField::parse_list("").unwrap(), []);
        assert!(PatientField::parse_list("firstname,shoe_size").is_err());
        assert_eq!(PatientField::BirthDate.as_str(), "dob");
    }

    #[cfg(feature = "phone")]
    fn de() -> Option<PhoneRegion> {
        PhoneRegion::parse("de")
    }

    #[cfg(feature = "phone")]
    #[test]
    fn phones_in_common_international_forms_normalise_to_e164() {
        for raw in ["+49-341-1234567", "+49 341 1234567", "0049 (341) 123 45 67", "+49.341.1234567"] {
            assert_eq!(Phone::parse(raw, None).unwrap().as_str(), "+493411234567", "{raw}");
            assert_eq!(Phone::parse(raw, de()).unwrap().as_str(), "+493411234567", "{raw} in DE");
        }
        assert_eq!(Phone::parse("+65 6123 4567", None).unwrap().as_str(), "+6561234567");
        assert_eq!(Phone::parse("+65 6123 4567", de()).unwrap().as_str(), "+6561234567", "a foreign number stays foreign");
    }

    #[cfg(feature = "phone")]
    #[test]
    fn national_numbers_are_read_in_the_region_of_the_location() {
        assert_eq!(Phone::parse("0171 2345678", de()).unwrap().as_str(), "+491712345678");
        assert_eq!(Phone::parse("(0341) 123 45 67", de()).unwrap().as_str(), "+493411234567");
        assert_eq!(Phone::parse("6123 4567", PhoneRegion::parse("SG")).unwrap().as_str(), "+6561234567");
        assert_eq!(Phone::parse("(212) 555-0123", PhoneRegion::parse("us")).unwrap().as_str(), "+12125550123");
        assert_eq!(Phone::parse("00 49 171 2345678", PhoneRegion::parse("SG")).unwrap().as_str(), "+491712345678");
        assert!(Phone::parse("011 49 171 2345678", PhoneRegion::parse("US")).is_err(), "never a number with digits lost");
        assert_eq!(Phone::parse("020 7946 0018", PhoneRegion::parse("GB")).unwrap().as_str(), "+442079460018");
        let without = Phone::parse("0171 2345678", None).unwrap_err();
        assert_eq!(without, DomainError::invalid("phone", NEEDS_COUNTRY_CODE.to_owned()));
    }

    #[cfg(feature = "phone")]
    #[test]
    fn incomplete_or_impossible_numbers_are_refused_with_their_country() {
        let short = Phone::parse("0171 234", de()).unwrap_err();
        assert!(short.to_string().contains("not a complete phone number of DE"), "{short}");
        for raw in ["", "+49 341 abc", "49+3411234567", "++493411234567", "+0 341 1234567", "+49 1", "+49 341 1234567 8901234", "12345"] {
            assert!(Phone::parse(raw, de()).is_err(), "{raw:?} should be refused");
            assert!(Phone::parse(raw, None).is_err(), "{raw:?} should be refused without a region");
        }
    }

    #[test]
    fn the_loose_check_lets_national_numbers_through_for_the_server_to_decide() {
        for raw in ["0171 2345678", "+49 171 2345678", "(030) 123456", "6123 4567"] {
            assert_eq!(Phone::check_loosely(raw), Ok(()), "{raw}");
        }
        for raw in ["+49 341 abc", "49+341", "+0 341 1234567", "1234", "123456789012345678"] {
            assert!(Phone::check_loosely(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn stored_numbers_read_back_only_in_e164_form() {
        assert_eq!(Phone::from_e164("+491712345678").unwrap().as_str(), "+491712345678");
        for raw in ["491712345678", "+49 171", "+0171", "+49171234567890123", ""] {
            assert!(Phone::from_e164(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn a_location_zone_names_the_country_its_numbers_are_read_in() {
        assert_eq!(PhoneRegion::of_zone("Europe/Berlin"), PhoneRegion::parse("DE"));
        assert_eq!(PhoneRegion::of_zone("Asia/Singapore"), PhoneRegion::parse("SG"));
        assert_eq!(PhoneRegion::of_zone("Europe/Vaduz"), PhoneRegion::parse("LI"), "a zone of the table");
        assert_eq!(PhoneRegion::of_zone("US/Eastern"), PhoneRegion::parse("US"), "an alias of a zone");
        assert_eq!(PhoneRegion::of_zone("UTC"), None);
        assert_eq!(PhoneRegion::of_zone("Mars/Olympus"), None);
        assert_eq!(PhoneRegion::parse("de").unwrap().as_str(), "DE");
        assert_eq!(PhoneRegion::parse("DEU"), None);
    }

    #[test]
    fn the_zone_table_is_sorted_for_its_binary_search() {
        let table = crate::zone_country::ZONE_COUNTRIES;
        assert!(table.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(table.iter().all(|(_, c)| PhoneRegion::parse(c).is_some()));
    }

    #[test]
    fn names_are_trimmed_and_matched_without_case_accents_or_extra_spaces() {
        let a = PersonName::parse("  Jürgen   Müller ").unwrap();
        assert_eq!(a.as_str(), "Jürgen Müller");
        assert_eq!(a.match_key(), "jurgen muller");
        assert_eq!(PersonName::parse("JURGEN MULLER").unwrap().match_key(), a.match_key());
        assert_eq!(match_key("Strauß"), match_key("STRAUSS"));
        assert_eq!(match_key("Zoë Ångström"), "zoe angstrom");
    }

    #[test]
    fn empty_overlong_or_control_character_names_are_refused() {
        for raw in ["", "   ", "a\u{0}b", &"x".repeat(101)] {
            assert!(PersonName::parse(raw).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn emails_keep_the_local_part_and_lower_case_the_domain() {
        assert_eq!(Email::parse(" Max.Mustermann@Mailinator.COM ").unwrap().as_str(), "Max.Mustermann@mailinator.com");
        for raw in ["", "max", "max@", "@example.com", "max@example", "max@@example.com", "max @example.com", "max@-x.com", "max@x..com"] {
            assert!(Email::parse(raw).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn birth_dates_must_be_real_past_dates_since_1900() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        assert_eq!(parse_birth_date("1985-07-25", today).unwrap(), NaiveDate::from_ymd_opt(1985, 7, 25).unwrap());
        assert!(parse_birth_date("2026-11-22", today).is_ok(), "born today");
        for raw in ["2026-11-23", "1899-12-31", "1985-02-30", "25.07.1985", ""] {
            assert!(parse_birth_date(raw, today).is_err(), "{raw:?} should be refused");
        }
    }

    #[test]
    fn a_child_born_today_in_kiribati_is_not_in_the_future_while_it_is_still_yesterday_in_utc() {
        use chrono::TimeZone;
        // 2026-11-29 11:30 UTC is already 2026-11-30 01:30 at UTC+14 (Kiritimati).
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 29, 11, 30, 0).unwrap();
        let latest = latest_date_anywhere(now);
        assert_eq!(latest, NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        assert!(parse_birth_date("2026-11-30", latest).is_ok());
        assert!(parse_birth_date("2026-12-01", latest).is_err());
    }

    #[test]
    fn a_missing_required_field_is_named_with_its_role() {
        let details = PersonDetails {
            first_name: Some(PersonName::parse("Max").unwrap()),
            last_name: Some(PersonName::parse("Mustermann").unwrap()),
            street: Some("  ".into()),
            ..Default::default()
        };
        assert!(details.require("booker", &[PatientField::FirstName, PatientField::LastName]).is_ok());
        let err = details.require("participant", &[PatientField::FirstName, PatientField::BirthDate]).unwrap_err();
        assert_eq!(err, DomainError::Invalid { field: "participant", reason: "dob is required for this appointment".into() });
        assert!(details.require("booker", &[PatientField::Street]).is_err(), "blank text does not count");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn any_input_parses_or_is_refused_and_accepted_phones_are_e164(s in ".{0,40}") {
            #[cfg(feature = "phone")]
            if let Ok(p) = Phone::parse(&s, PhoneRegion::parse("DE")) {
                prop_assert_eq!(Phone::from_e164(p.as_str()), Ok(p.clone()), "accepted phones are E.164");
                prop_assert_eq!(Phone::parse(p.as_str(), None), Ok(p.clone()), "normal form is stable");
            }
            let _ = Phone::check_loosely(&s);
            let _ = Email::parse(&s);
            let _ = PersonName::parse(&s);
        }
    }
}
