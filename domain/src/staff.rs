//! The clinic's own people: who may do what, and the rules for their accounts and for the
//! clinic profile they edit. The console, the CLI and (later) the admin API and the
//! configuration file all call these checks, so a value refused in one is refused in all.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// What a staff member may do. Owners and admins configure the clinic; only owners manage
/// staff accounts; desk users run the day (check-in, walk-ins) and configure nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Owner,
    Admin,
    Desk,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Owner, Role::Admin, Role::Desk];

    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "owner" => Ok(Role::Owner),
            "admin" => Ok(Role::Admin),
            "desk" => Ok(Role::Desk),
            _ => Err(DomainError::invalid("role", format!("{raw:?} is not owner, admin or desk"))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Desk => "desk",
        }
    }

    /// Locations, services, hours, settings, credentials, webhooks.
    pub fn can_configure(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }

    /// Inviting and removing staff, and handing out roles.
    pub fn can_manage_staff(self) -> bool {
        self == Role::Owner
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Shortest password accepted. Length is what makes a password strong; composition rules
/// (a digit, a symbol) only make people write them down (NIST SP 800-63B).
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password accepted: hashing cost grows with length, and nobody types more.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// A new password for the staff member with `email`.
pub fn check_password(password: &str, email: &str) -> Result<(), DomainError> {
    let chars = password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return Err(DomainError::invalid("password", format!("must be at least {MIN_PASSWORD_CHARS} characters long")));
    }
    if chars > MAX_PASSWORD_CHARS {
        return Err(DomainError::invalid("password", format!("must be at most {MAX_PASSWORD_CHARS} characters long")));
    }
    if password.chars().any(char::is_control) {
        return Err(DomainError::invalid("password", "must not contain control characters"));
    }
    let distinct: std::collections::BTreeSet<char> = password.chars().collect();
    if distinct.len() < 4 {
        return Err(DomainError::invalid("password", "is too easy to guess"));
    }
    let lower = password.to_lowercase();
    let local = email.split('@').next().unwrap_or("").to_lowercase();
    if lower == email.to_lowercase() || (local.len() >= 4 && lower.contains(&local)) {
        return Err(DomainError::invalid("password", "must not contain your e-mail address"));
    }
    Ok(())
}

/// A name people read on screens (a clinic's, a staff member's): trimmed, 1 to `max`
/// characters, one line.
pub fn check_name(field: &'static str, raw: &str, max: usize) -> Result<String, DomainError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(DomainError::invalid(field, "must not be empty"));
    }
    if name.chars().count() > max {
        return Err(DomainError::invalid(field, format!("must be at most {max} characters")));
    }
    if name.chars().any(char::is_control) {
        return Err(DomainError::invalid(field, "must be one line of text"));
    }
    Ok(name.to_owned())
}

/// The languages the widget and the console speak.
pub const LOCALES: [&str; 2] = ["en", "de"];

pub fn check_locale(raw: &str) -> Result<&'static str, DomainError> {
    let wanted = raw.trim().to_ascii_lowercase();
    LOCALES
        .iter()
        .copied()
        .find(|l| *l == wanted)
        .ok_or_else(|| DomainError::invalid("defaultLocale", format!("{raw:?} is not one of: {}", LOCALES.join(", "))))
}

/// A clinic's name, language and home time zone (new locations start in that zone).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClinicProfile {
    pub name: String,
    pub default_locale: String,
    pub time_zone: String,
}

impl ClinicProfile {
    pub const MAX_NAME: usize = 120;

    #[cfg(feature = "tz")]
    pub fn new(name: &str, default_locale: &str, time_zone: &str) -> Result<Self, DomainError> {
        let name = check_name("name", name, Self::MAX_NAME)?;
        let default_locale = check_locale(default_locale)?.to_owned();
        let zone = crate::zone::parse_zone(time_zone.trim())
            .map_err(|_| DomainError::invalid("timeZone", format!("{:?} is not an IANA time zone such as Europe/Berlin", time_zone.trim())))?;
        Ok(Self { name, default_locale, time_zone: zone.name().to_owned() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_read_in_any_case_and_grant_what_their_names_say() {
        assert_eq!(Role::parse(" Owner ").unwrap(), Role::Owner);
        assert!(Role::parse("root").is_err());
        assert!(Role::Owner.can_configure() && Role::Owner.can_manage_staff());
        assert!(Role::Admin.can_configure() && !Role::Admin.can_manage_staff());
        assert!(!Role::Desk.can_configure() && !Role::Desk.can_manage_staff());
    }

    #[test]
    fn short_long_repetitive_or_email_passwords_are_refused() {
        let email = "anna.berg@clinic.example";
        assert!(check_password("correct horse battery", email).is_ok());
        for bad in ["short", "aaaaaaaaaaaaaaa", "anna.berg@clinic.example", "my anna.berg secret", &"x1y2".repeat(40), "tab\there ok long"] {
            assert!(matches!(check_password(bad, email), Err(DomainError::Invalid { field: "password", .. })), "{bad:?}");
        }
    }

    #[test]
    fn names_are_trimmed_one_line_and_bounded() {
        assert_eq!(check_name("name", "  Praxis Nord ", 120).unwrap(), "Praxis Nord");
        assert!(check_name("name", "   ", 120).is_err());
        assert!(check_name("name", "a\nb", 120).is_err());
        assert!(check_name("name", &"x".repeat(121), 120).is_err());
    }

    #[test]
    fn a_profile_needs_a_known_zone_and_language() {
        let ok = ClinicProfile::new("Praxis", "DE", " America/New_York ").unwrap();
        assert_eq!((ok.default_locale.as_str(), ok.time_zone.as_str()), ("de", "America/New_York"));
        assert!(matches!(ClinicProfile::new("Praxis", "en", "Mars/Olympus"), Err(DomainError::Invalid { field: "timeZone", .. })));
        assert!(matches!(ClinicProfile::new("Praxis", "fr", "UTC"), Err(DomainError::Invalid { field: "defaultLocale", .. })));
        assert!(matches!(ClinicProfile::new("", "en", "UTC"), Err(DomainError::Invalid { field: "name", .. })));
    }
}
