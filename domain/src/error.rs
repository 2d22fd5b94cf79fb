use thiserror::Error;

/// Why a value or a request was refused by the rules. Every variant names what was wrong so
/// that the HTTP layer can turn it into a precise 4xx answer.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("{field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("unknown time zone {0:?}")]
    UnknownTimeZone(String),
}

impl DomainError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid { field, reason: reason.into() }
    }
}
