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
