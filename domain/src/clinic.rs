use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The short name of a clinic in URLs (`/book/<slug>`) and in the embed snippet.
/// Lower-case ASCII letters, digits and inner hyphens, 1 to 63 characters, so that it is safe
/// in a path, a DNS label and an HTML attribute without escaping.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ClinicSlug(String);

impl ClinicSlug {
    pub const MAX_LEN: usize = 63;

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let invalid = |reason: &str| DomainError::invalid("clinic", reason.to_string());
        if raw.is_empty() {
            return Err(invalid("must not be empty"));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(invalid("must be at most 63 characters"));
        }
        if !raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
            return Err(invalid("may contain only a-z, 0-9 and '-'"));
        }
        if raw.starts_with('-') || raw.ends_with('-') {
            return Err(invalid("must not start or end with '-'"));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ClinicSlug {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<ClinicSlug> for String {
    fn from(value: ClinicSlug) -> Self {
        value.0
    }
}

impl fmt::Display for ClinicSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_lowercase_slug_is_accepted() {
        assert_eq!(ClinicSlug::parse("demo-clinic-2").unwrap().as_str(), "demo-clinic-2");
    }

    #[test]
    fn empty_uppercase_spaced_or_edge_hyphen_slugs_are_refused() {
        for bad in ["", "Demo", "de mo", "-demo", "demo-", "dëmo", "demo/../x", &"a".repeat(64)] {
            assert!(ClinicSlug::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_slug_of_exactly_63_characters_is_accepted() {
        assert!(ClinicSlug::parse(&"a".repeat(63)).is_ok());
    }
}

/// A clinic's booking policy. Values are validated here and by the database's CHECKs alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicSettings {
    /// Nothing can be booked sooner than this after "now".
    pub minimum_notice_minutes: u32,
    /// Nothing can be booked further ahead than this.
    pub horizon_days: u32,
    /// Patients and bots cannot cancel or reschedule closer to the start than this.
    pub change_cutoff_minutes: u32,
    /// How long a slot stays held while a patient fills in the form.
    pub hold_minutes: u32,
}

impl ClinicSettings {
    pub fn new(
        minimum_notice_minutes: u32,
        horizon_days: u32,
        change_cutoff_minutes: u32,
        hold_minutes: u32,
    ) -> Result<Self, DomainError> {
        if minimum_notice_minutes > 60 * 24 * 90 {
            return Err(DomainError::invalid("minimumNotice", "must be at most 90 days"));
        }
        if !(1..=1096).contains(&horizon_days) {
            return Err(DomainError::invalid("horizonDays", "must be from 1 to 1096 days"));
        }
        if change_cutoff_minutes > 60 * 24 * 90 {
            return Err(DomainError::invalid("cancellationCutoff", "must be at most 90 days"));
        }
        if !(1..=120).contains(&hold_minutes) {
            return Err(DomainError::invalid("holdMinutes", "must be from 1 to 120 minutes"));
        }
        Ok(Self { minimum_notice_minutes, horizon_days, change_cutoff_minutes, hold_minutes })
    }

    /// Whether a patient or bot may still cancel or reschedule an appointment starting at
    /// `starts_at`; staff are not bound by the cutoff. `verb` words the refusal.
    pub fn check_change_cutoff(
        &self,
        by_staff: bool,
        now: chrono::DateTime<chrono::Utc>,
        starts_at: chrono::DateTime<chrono::Utc>,
        verb: &str,
    ) -> Result<(), DomainError> {
        let cutoff = chrono::Duration::minutes(i64::from(self.change_cutoff_minutes));
        if !by_staff && now + cutoff > starts_at {
            return Err(DomainError::invalid(
                "cutoff",
                format!("appointments can be {verb} up to {} minutes before they start", self.change_cutoff_minutes),
            ));
        }
        Ok(())
    }
}

/// A web origin allowed to embed a clinic's widget: `https://host[:port]`, or `http://` for
/// local testing; lower-cased, without path, query, credentials or trailing slash. Browsers
/// compare origins exactly, so anything else could never match and is refused.
pub fn parse_origin(raw: &str) -> Result<String, DomainError> {
    let invalid = |reason: &str| DomainError::invalid("origin", format!("{raw:?} {reason}"));
    let lower = raw.trim().to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| invalid("must start with https:// or http://"))?;
    let (host, port) = match rest.rsplit_once(':') {
        Some((host, port)) if !host.ends_with(']') || rest.starts_with('[') => (host, Some(port)),
        _ => (rest, None),
    };
    if host.is_empty() || host.len() > 253 {
        return Err(invalid("has no host"));
    }
    let host_ok = host.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        || (host.starts_with('[') && host.ends_with(']') && host[1..host.len() - 1].bytes().all(|b| b.is_ascii_hexdigit() || b == b':'));
    if !host_ok {
        return Err(invalid("must be only scheme, host and port (no path, query or credentials)"));
    }
    if let Some(port) = port {
        match port.parse::<u16>() {
            Ok(p) if p > 0 && !port.starts_with('0') => {}
            _ => return Err(invalid("has an invalid port")),
        }
    }
    Ok(lower)
}

#[cfg(test)]
mod origin_tests {
    use super::parse_origin;

    #[test]
    fn web_origins_are_accepted_and_lower_cased() {
        assert_eq!(parse_origin("https://Clinic.Example").unwrap(), "https://clinic.example");
        assert_eq!(parse_origin("http://127.0.0.1:8080").unwrap(), "http://127.0.0.1:8080");
        assert_eq!(parse_origin(" https://[::1]:3000 ").unwrap(), "https://[::1]:3000");
    }

    #[test]
    fn anything_but_a_bare_origin_is_refused() {
        for bad in [
            "", "*", "clinic.example", "ftp://clinic.example", "https://", "https://clinic.example/",
            "https://clinic.example/path", "https://user@clinic.example", "https://clinic.example:0",
            "https://clinic.example:99999", "https://clinic.example:08080", "https://clinic.example?x=1",
            "javascript://alert(1)", "https://clinic example",
        ] {
            assert!(parse_origin(bad).is_err(), "{bad:?} was accepted");
        }
    }
}

#[cfg(test)]
mod settings_tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn settings_outside_their_ranges_are_refused_naming_the_field() {
        assert!(ClinicSettings::new(60, 90, 1440, 10).is_ok());
        for (bad, field) in [
            (ClinicSettings::new(60, 0, 1440, 10), "horizonDays"),
            (ClinicSettings::new(60, 1097, 1440, 10), "horizonDays"),
            (ClinicSettings::new(60, 90, 1440, 0), "holdMinutes"),
            (ClinicSettings::new(60, 90, 1440, 121), "holdMinutes"),
            (ClinicSettings::new(200_000, 90, 1440, 10), "minimumNotice"),
            (ClinicSettings::new(60, 90, 200_000, 10), "cancellationCutoff"),
        ] {
            assert!(matches!(bad, Err(DomainError::Invalid { field: f, .. }) if f == field), "{field}");
        }
    }

    #[test]
    fn the_cutoff_binds_patients_and_bots_up_to_the_minute_but_not_staff() {
        let s = ClinicSettings::new(0, 90, 120, 10).unwrap();
        let start = Utc.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).unwrap();
        assert!(s.check_change_cutoff(false, start - Duration::minutes(120), start, "cancelled").is_ok());
        let late = s.check_change_cutoff(false, start - Duration::minutes(119), start, "cancelled");
        assert!(matches!(late, Err(DomainError::Invalid { field: "cutoff", .. })));
        assert!(s.check_change_cutoff(true, start - Duration::minutes(1), start, "cancelled").is_ok());
    }
}
