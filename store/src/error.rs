use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The time is no longer free: another appointment of the provider overlaps it.
    #[error("the slot is taken")]
    SlotTaken,
    /// The slot id names a time that is not offered (any more): outside working hours, too
    /// soon, past the horizon, or blocked. Clients answer it like a taken slot.
    #[error("this time can no longer be booked")]
    SlotUnavailable,
    /// The clinic has as many live holds from the public widget as it allows at once.
    #[error("too many people are choosing a time at this clinic right now")]
    Busy,
    /// The idempotency key was used before with a different request.
    #[error("the idempotency key was already used for a different request")]
    IdempotencyMismatch,
    /// A schedule or catalogue change would leave this many booked appointments outside what
    /// their provider offers; the caller did not ask to save it anyway.
    #[error("{0} booked appointment(s) would fall outside what the provider offers")]
    WouldStrand(usize),
    /// A clinic file (`clinic_file.rs`) was refused; `at` names the entry and key, e.g.
    /// `providers.anna-weber.hours[2].end` (empty for the file's syntax).
    #[error("{}", file_message(.at, .reason))]
    ClinicFile { at: String, reason: String },
    /// A rule refused the change (status transition, cutoff, ...).
    #[error(transparent)]
    Rule(domain::DomainError),
    /// The database holds a value the rules refuse (e.g. a zone name chrono-tz does not know).
    /// It means the data was written around the application; it is logged, not shown.
    #[error("stored data is invalid: {0}")]
    Corrupt(String),
    #[error("cannot prepare the database directory: {0}")]
    Directory(#[from] std::io::Error),
    #[error("unsupported database URL {0:?}: use sqlite:// or postgres://")]
    UnsupportedUrl(String),
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl From<domain::DomainError> for StoreError {
    /// A domain error met while reading rows means the stored data is bad; write paths that
    /// apply rules wrap their refusals in `StoreError::Rule` explicitly.
    fn from(e: domain::DomainError) -> Self {
        StoreError::Corrupt(e.to_string())
    }
}

/// Turns the database's refusal of an overlapping appointment (PostgreSQL's exclusion
/// constraint, SQLite's trigger) into `SlotTaken`.
pub(crate) fn write_error(e: sqlx::Error) -> StoreError {
    if let sqlx::Error::Database(db) = &e {
        if db.constraint() == Some("appointments_no_overlap") || db.message().contains("appointments_no_overlap") {
            return StoreError::SlotTaken;
        }
    }
    StoreError::Database(e)
}

fn file_message(at: &str, reason: &str) -> String {
    if at.is_empty() {
        reason.to_owned()
    } else {
        format!("{at}: {reason}")
    }
}
