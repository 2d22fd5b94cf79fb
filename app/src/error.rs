use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// What a server function tells the browser went wrong. The browser receives the variant
/// itself, so the page can say "this clinic does not exist" rather than show a string.
/// Internal details never travel: they are logged on the server and sent as `Unavailable`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Error)]
pub enum AppError {
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("the booking service is temporarily unavailable")]
    Unavailable,
    #[error("{0}")]
    Transport(ServerFnErrorErr),
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
            domain::DomainError::Invalid { field, reason } => {
                AppError::Invalid { field: field.to_owned(), message: reason }
            }
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
            other => {
                tracing::error!(error = %other, "store failure in a server function");
                AppError::Unavailable
            }
        }
    }
}
