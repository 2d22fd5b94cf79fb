//! How each backend stores an instant: SQLite as INTEGER seconds since the epoch (numeric
//! comparisons, small indexes), PostgreSQL as TIMESTAMPTZ (range types and exclusion
//! constraints). Generic helpers let one query body serve both.

use crate::StoreError;
use chrono::{DateTime, Utc};
use sqlx::{Decode, Encode, Pool, Postgres, Sqlite, Type};

pub(crate) trait TimeCodec: sqlx::Database {
    type Stored: for<'q> Encode<'q, Self> + for<'r> Decode<'r, Self> + Type<Self> + Send + Sync;
    fn encode_time(t: DateTime<Utc>) -> Self::Stored;
    fn decode_time(v: Self::Stored) -> Result<DateTime<Utc>, StoreError>;
}

impl TimeCodec for Sqlite {
    type Stored = i64;
    fn encode_time(t: DateTime<Utc>) -> i64 {
        t.timestamp()
    }
    fn decode_time(v: i64) -> Result<DateTime<Utc>, StoreError> {
        DateTime::from_timestamp(v, 0).ok_or_else(|| StoreError::Corrupt(format!("instant {v} out of range")))
    }
}

impl TimeCodec for Postgres {
    type Stored = DateTime<Utc>;
    fn encode_time(t: DateTime<Utc>) -> DateTime<Utc> {
        t
    }
    fn decode_time(v: DateTime<Utc>) -> Result<DateTime<Utc>, StoreError> {
        Ok(v)
    }
}

/// The stored form of `t` for the backend of `pool` (the pool only selects the type).
pub(crate) fn db_time<DB: TimeCodec>(_pool: &Pool<DB>, t: DateTime<Utc>) -> DB::Stored {
    DB::encode_time(t)
}

/// Reads an instant column from a row of the backend of `pool`.
pub(crate) fn row_time<DB: TimeCodec>(
    _pool: &Pool<DB>,
    row: &DB::Row,
    column: &str,
) -> Result<DateTime<Utc>, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
{
    use sqlx::Row;
    let stored: DB::Stored = row.try_get(column)?;
    DB::decode_time(stored)
}

/// Reads a nullable instant column.
pub(crate) fn row_time_opt<DB: TimeCodec>(
    _pool: &Pool<DB>,
    row: &DB::Row,
    column: &str,
) -> Result<Option<DateTime<Utc>>, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<DB::Row>,
{
    use sqlx::Row;
    let stored: Option<DB::Stored> = row.try_get(column)?;
    stored.map(DB::decode_time).transpose()
}
