use crate::i18n::{Locale, Msg};
use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a server function tells the browser went wrong. The browser receives the variant
/// itself, so the page can say "this link has expired" in the patient's language rather than
/// show a string. Internal details never travel: they are logged on the server and sent as
/// `Unavailable`. A taken slot is not an error here: the flow answers it by showing nearby
/// times instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Error)]
pub enum AppError {
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The clinic's cutoff for online changes has passed.
    #[error("too late to change this appointment online")]
    TooLate,
    #[error("the hold on this time has expired")]
    HoldExpired,
    #[error("this link is not valid")]
    LinkInvalid,
    #[error("this link has expired")]
    LinkExpired,
    #[error("the booking service is temporarily unavailable")]
    Unavailable,
    /// No live staff session: the console sends the browser to its sign-in page.
    #[error("not signed in")]
    SignedOut,
    /// A staff member without the role, or a request without the session's CSRF token or
    /// from another site.
    #[error("forbidden")]
    Forbidden,
    /// Wrong e-mail or password (never told apart).
    #[error("the e-mail address or the password is wrong")]
    SignInRefused,
    #[error("too many failed sign-ins; try again in {minutes} minutes")]
    Throttled { minutes: i64 },
    /// Too many requests from this client, or too many people holding times at the clinic
    /// right now: wait a little.
    #[error("too many requests; try again in a minute")]
    Busy,
    #[error("{0}")]
    Transport(ServerFnErrorErr),
}

/// The message of a required field left empty (`AppError::Invalid`).
pub const REQUIRED: &str = "is required";

/// A patient detail of the booking form (`booker.phone`, `participant.dob`), by its role.
fn patient_field(field: &str) -> Option<(&str, domain::patient::PatientField)> {
    let (role, name) = field.split_once('.')?;
    let detail = domain::patient::PatientField::ALL.into_iter().find(|f| f.as_str() == name)?;
    ["booker", "participant"].contains(&role).then_some((role, detail))
}

impl AppError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid { field: field.to_owned(), message: message.into() }
    }

    /// What the patient reads.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            AppError::NotFound { .. } => locale.t(Msg::NotFound).to_owned(),
            // A patient reads the field's label and what it needs, in the page's language; the
            // server's own wording (English, for integrators and logs) stays in the log.
            AppError::Invalid { field, message } => match patient_field(field) {
                Some((role, detail)) => {
                    let whose = if role == "participant" { format!(" ({})", locale.t(Msg::Attendee)) } else { String::new() };
                    format!("{}{whose}: {}", locale.field_label(detail), locale.field_hint(detail, message == REQUIRED))
                }
                None => format!("{} ({field}): {message}", locale.t(Msg::CheckField)),
            },
            AppError::TooLate => locale.t(Msg::TooLate).to_owned(),
            AppError::HoldExpired => locale.t(Msg::HoldExpired).to_owned(),
            AppError::LinkInvalid => locale.t(Msg::LinkInvalid).to_owned(),
            AppError::LinkExpired => locale.t(Msg::LinkExpired).to_owned(),
            AppError::Unavailable | AppError::Transport(_) => locale.t(Msg::Unavailable).to_owned(),
            AppError::SignedOut => locale.t(Msg::SignedOut).to_owned(),
            AppError::Forbidden => locale.t(Msg::Forbidden).to_owned(),
            AppError::SignInRefused => locale.t(Msg::SignInRefused).to_owned(),
            AppError::Throttled { minutes } => format!("{} {minutes}", locale.t(Msg::Throttled)),
            AppError::Busy => locale.t(Msg::Busy).to_owned(),
        }
    }

    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::NotFound { .. } => StatusCode::NOT_FOUND,
            AppError::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::TooLate | AppError::HoldExpired => StatusCode::CONFLICT,
            AppError::LinkInvalid => StatusCode::FORBIDDEN,
            AppError::LinkExpired => StatusCode::GONE,
            AppError::Unavailable | AppError::Transport(_) => StatusCode::SERVICE_UNAVAILABLE,
            AppError::SignedOut | AppError::SignInRefused => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::Throttled { .. } | AppError::Busy => StatusCode::TOO_MANY_REQUESTS,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value)
    }
}

impl From<domain::DomainError> for AppError {
    fn from(e: domain::DomainError) -> Self {
        match e {
            domain::DomainError::Invalid { field, .. } if field == "cutoff" => AppError::TooLate,
            domain::DomainError::Invalid { field, reason } => AppError::Invalid { field: field.to_owned(), message: reason },
            other => AppError::Invalid { field: "request".into(), message: other.to_string() },
        }
    }
}

#[cfg(feature = "ssr")]
impl From<store::StoreError> for AppError {
    fn from(e: store::StoreError) -> Self {
        match e {
            store::StoreError::NotFound(what) => AppError::NotFound { what: what.to_owned() },
            store::StoreError::Rule(rule) => rule.into(),
            store::StoreError::Busy => AppError::Busy,
            other => {
                tracing::error!(error = %other, "store failure in a server function");
                AppError::Unavailable
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_patient_detail_is_named_by_its_label_in_the_pages_language_without_internal_words() {
        let phone = AppError::invalid("booker.phone", "needs a country code, e.g. +49");
        assert_eq!(phone.message(Locale::De), "Mobiltelefon: Bitte prüfen Sie die Nummer (alle Ziffern, bei ausländischen Nummern mit Ländervorwahl wie +44).");
        assert_eq!(phone.message(Locale::En), "Mobile phone: Please check the number (every digit, and the country code such as +44 for a number from abroad).");
        let missing = AppError::invalid("participant.dob", REQUIRED);
        assert_eq!(missing.message(Locale::De), "Geburtsdatum (Wer kommt zum Termin): Dieses Feld ist erforderlich.");
        for e in [phone, missing, AppError::invalid("booker.lastname", "may contain at most 100 characters")] {
            for locale in Locale::ALL {
                let text = e.message(locale);
                assert!(!text.contains("booker") && !text.contains("participant.") && !text.contains("needs a") && !text.contains("at most 100"), "{text}");
            }
        }
        // Fields no patient types keep the server's words (the console's forms).
        assert_eq!(AppError::invalid("slug", "is taken").message(Locale::En), "Please check this field (slug): is taken");
    }
}
