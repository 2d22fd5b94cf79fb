use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The database holds a value the rules refuse (e.g. a zone name chrono-tz does not know).
    /// It means the data was written around the application; it is logged, not shown.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("unsupported database URL {0:?}: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<domain::DomainError> for StoreError {
    fn from(e: domain::DomainError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}
