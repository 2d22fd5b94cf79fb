//! Retention: what the server keeps only as long as it is useful. Delivered (or given up)
//! webhook deliveries and their attempts, outbox events every worker is done with, sent
//! patient e-mails, idempotency keys and sign-in failures go once they are older than the
//! retention period; expired holds and staff sessions as soon as they have expired.
//! Appointments, their changes and the audit log are history and are never pruned here.
//!
//! Rows go in small batches: each batch's candidates are found by a read (on SQLite outside
//! the writer's turn, so a scan of a large table holds no booking up) and deleted in a short
//! write transaction that checks the condition again and queues behind bookings like any
//! other write.

use crate::time::db_time;
use crate::webhooks::id_list;
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Utc};

/// What one pass removed, by kind of row (`TABLES` order, then the text-keyed ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Pruned {
    pub rows: Vec<(&'static str, u64)>,
}

impl Pruned {
    pub fn total(&self) -> u64 {
        self.rows.iter().map(|(_, n)| n).sum()
    }

    pub fn of(&self, table: &str) -> u64 {
        self.rows.iter().filter(|(t, _)| *t == table).map(|(_, n)| n).sum()
    }
}

/// How long rows are kept and how many go per transaction.
#[derive(Debug, Clone, Copy)]
pub struct RetentionPolicy {
    pub keep: chrono::Duration,
    pub batch: i64,
}

impl Default for RetentionPolicy {
    fn default() -> Self {
        RetentionPolicy { keep: chrono::Duration::days(DEFAULT_RETENTION_DAYS), batch: 500 }
    }
}

pub const DEFAULT_RETENTION_DAYS: i64 = 30;

/// Against what a row's age is measured.
#[derive(Clone, Copy)]
enum Bound {
    /// Older than the retention period.
    Kept,
    /// Over already (an expiry in the past).
    Expired,
}

/// A table with an integer `id`, the condition that makes a row go (`$1` the bound), and what
/// must go with it first.
struct IdTable {
    table: &'static str,
    condition: &'static str,
    bound: Bound,
    dependants: Option<&'static str>,
}

static TABLES: [IdTable; 5] = [
    IdTable {
        table: "webhook_deliveries",
        condition: "state <> 'pending' AND created_at < $1",
        bound: Bound::Kept,
        dependants: Some("DELETE FROM webhook_attempts WHERE delivery_id IN ({ids})"),
    },
    // After the deliveries, so that the events whose deliveries just went can go too. An
    // event stays while a worker still has to look at it or any delivery of it remains.
    IdTable {
        table: "outbox",
        condition: "created_at < $1 AND dispatched_at IS NOT NULL AND mailed_at IS NOT NULL
                    AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.outbox_id = outbox.id)",
        bound: Bound::Kept,
        dependants: None,
    },
    IdTable { table: "patient_emails", condition: "state <> 'pending' AND created_at < $1", bound: Bound::Kept, dependants: None },
    IdTable { table: "holds", condition: "expires_at < $1", bound: Bound::Expired, dependants: None },
    IdTable { table: "login_failures", condition: "at < $1", bound: Bound::Kept, dependants: None },
];

/// PostgreSQL: the advisory lock of the instance that is pruning (any constant no other lock
/// uses).
const PRUNE_LOCK: i64 = 0x626b_7072_756e_65;

impl Store {
    /// Removes what `policy` no longer keeps as of `now`, batch by batch, and returns how many
    /// rows of each kind went. On PostgreSQL, a batch another instance is pruning at the
    /// moment ends this pass (the other instance carries on).
    pub async fn prune(&self, now: DateTime<Utc>, policy: RetentionPolicy) -> Result<Pruned, StoreError> {
        let cutoff = now - policy.keep;
        let batch = policy.batch.max(1);
        let mut pruned = Pruned::default();
        for table in &TABLES {
            let bound = match table.bound {
                Bound::Kept => cutoff,
                Bound::Expired => now,
            };
            let done = self
                .in_batches(
                    batch,
                    || self.candidate_ids(table, bound, batch),
                    |ids| {
                        let store = self.clone();
                        self.on_writer_thread(async move { store.delete_ids(table, &ids, bound).await })
                    },
                )
                .await?;
            match done {
                Some(n) => pruned.rows.push((table.table, n)),
                None => return Ok(self.pruned(pruned)),
            }
        }
        for (table, select, delete, bound) in [
            (
                "idempotency_keys",
                "SELECT clinic_id, key FROM idempotency_keys WHERE created_at < $1 LIMIT $2",
                "DELETE FROM idempotency_keys WHERE clinic_id = $1 AND key = $2 AND created_at < $3",
                cutoff,
            ),
            (
                "staff_sessions",
                "SELECT staff_user_id, id_sha256 FROM staff_sessions WHERE expires_at < $1 LIMIT $2",
                "DELETE FROM staff_sessions WHERE staff_user_id = $1 AND id_sha256 = $2 AND expires_at < $3",
                now,
            ),
        ] {
            let done = self
                .in_batches(
                    batch,
                    || self.candidate_keys(select, bound, batch),
                    |keys| {
                        let store = self.clone();
                        self.on_writer_thread(async move { store.delete_keys(delete, &keys, bound).await })
                    },
                )
                .await?;
            match done {
                Some(n) => pruned.rows.push((table, n)),
                None => return Ok(self.pruned(pruned)),
            }
        }
        Ok(self.pruned(pruned))
    }

    fn pruned(&self, pruned: Pruned) -> Pruned {
        self.counters().pruned(pruned.total());
        pruned
    }

    /// Batch after batch until one comes back short: `select` finds up to `batch` rows (a
    /// read, outside the writer's turn), `delete` removes them. `None` when another instance
    /// holds the pruning lock.
    async fn in_batches<K, S, SF, D, DF>(&self, batch: i64, select: S, delete: D) -> Result<Option<u64>, StoreError>
    where
        S: Fn() -> SF,
        SF: std::future::Future<Output = Result<Vec<K>, StoreError>>,
        D: Fn(Vec<K>) -> DF,
        DF: std::future::Future<Output = Result<Option<u64>, StoreError>>,
    {
        let mut removed = 0;
        loop {
            let found = select().await?;
            if found.is_empty() {
                return Ok(Some(removed));
            }
            let full = found.len() as i64 >= batch;
            match delete(found).await? {
                Some(n) => removed += n,
                None => return Ok(None),
            }
            if !full {
                return Ok(Some(removed));
            }
            // Room for the writes waiting behind this batch.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    }

    async fn candidate_ids(&self, table: &IdTable, bound: DateTime<Utc>, batch: i64) -> Result<Vec<i64>, StoreError> {
        Ok(with_pool!(self, pool => {
            sqlx::query_scalar(&format!("SELECT id FROM {} WHERE {} ORDER BY id LIMIT $2", table.table, table.condition))
                .bind(db_time(pool, bound)).bind(batch).fetch_all(pool).await?
        }))
    }

    async fn candidate_keys(&self, select: &str, bound: DateTime<Utc>, batch: i64) -> Result<Vec<(i64, String)>, StoreError> {
        Ok(with_pool!(self, pool => sqlx::query_as(select).bind(db_time(pool, bound)).bind(batch).fetch_all(pool).await?))
    }

    /// Deletes the rows of `ids` that still meet the table's condition; `None` when another
    /// instance holds the pruning lock.
    async fn delete_ids(&self, table: &IdTable, ids: &[i64], bound: DateTime<Utc>) -> Result<Option<u64>, StoreError> {
        let ids = id_list(ids.iter().copied());
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            // PostgreSQL: one instance prunes at a time (two deleting the same rows in different
            // orders could deadlock). SQLite: the writer's turn already excludes other writers.
            if self.backend() == crate::Backend::Postgres {
                let took: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)").bind(PRUNE_LOCK).fetch_one(&mut *tx).await?;
                if !took {
                    return Ok(None);
                }
            }
            let chosen = format!("id IN ({ids}) AND {}", table.condition);
            if let Some(dependants) = table.dependants {
                // The rows that still qualify, so that a row which changed meanwhile keeps
                // what belongs to it.
                let still: Vec<i64> = sqlx::query_scalar(&format!("SELECT id FROM {} WHERE {chosen}", table.table))
                    .bind(db_time(pool, bound)).fetch_all(&mut *tx).await?;
                if !still.is_empty() {
                    sqlx::query(&dependants.replace("{ids}", &id_list(still))).execute(&mut *tx).await?;
                }
            }
            let done = sqlx::query(&format!("DELETE FROM {} WHERE {chosen}", table.table))
                .bind(db_time(pool, bound)).execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(Some(done.rows_affected()))
        })
    }

    async fn delete_keys(&self, delete: &str, keys: &[(i64, String)], bound: DateTime<Utc>) -> Result<Option<u64>, StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            // PostgreSQL: one instance prunes at a time (two deleting the same rows in different
            // orders could deadlock). SQLite: the writer's turn already excludes other writers.
            if self.backend() == crate::Backend::Postgres {
                let took: bool = sqlx::query_scalar("SELECT pg_try_advisory_xact_lock($1)").bind(PRUNE_LOCK).fetch_one(&mut *tx).await?;
                if !took {
                    return Ok(None);
                }
            }
            let mut removed = 0;
            for (clinic_id, key) in keys {
                removed += sqlx::query(delete).bind(clinic_id).bind(key).bind(db_time(pool, bound)).execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            Ok(Some(removed))
        })
    }
}
