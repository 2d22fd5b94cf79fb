//! The audit log: one row for every configuration change, written in the transaction of the
//! change itself, so that a change without its row (or a row without its change) cannot exist.

use crate::time::row_time;
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Utc};
use sqlx::Row;

/// (clinic, staff user or NULL, actor label, action, detail JSON, at).
pub(crate) const INSERT_AUDIT: &str =
    "INSERT INTO audit_log (clinic_id, staff_user_id, actor, action, detail, at) VALUES ($1, $2, $3, $4, $5, $6)";

/// Writes one audit row in the write transaction `$tx` of the change it records: `$action` and
/// `$detail` (JSON text) by `$actor` (a `staff::Actor`) at `$now`.
macro_rules! insert_audit {
    ($tx:ident, $pool:ident, $clinic_id:expr, $actor:expr, $action:expr, $detail:expr, $now:expr) => {
        sqlx::query($crate::audit::INSERT_AUDIT)
            .bind($clinic_id)
            .bind($actor.staff_user_id)
            .bind(&$actor.label)
            .bind($action)
            .bind($detail)
            .bind($crate::time::db_time($pool, $now))
            .execute(&mut *$tx)
            .await?
    };
}
pub(crate) use insert_audit;

#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub detail: serde_json::Value,
}

/// `{"field": {"from": old, "to": new}}` for each field whose value differs.
pub fn changes(pairs: &[(&str, serde_json::Value, serde_json::Value)]) -> serde_json::Map<String, serde_json::Value> {
    pairs
        .iter()
        .filter(|(_, from, to)| from != to)
        .map(|(field, from, to)| ((*field).to_owned(), serde_json::json!({ "from": from, "to": to })))
        .collect()
}

impl Store {
    /// The newest `limit` entries of a clinic's log, newest first.
    pub async fn audit_log(&self, clinic_id: i64, limit: i64) -> Result<Vec<AuditEntry>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query("SELECT id, actor, action, detail, at FROM audit_log WHERE clinic_id = $1 ORDER BY id DESC LIMIT $2")
                .bind(clinic_id).bind(limit).fetch_all(pool).await?;
            rows.iter()
                .map(|row| {
                    let detail: String = row.try_get("detail")?;
                    Ok(AuditEntry {
                        id: row.try_get("id")?,
                        at: row_time(pool, row, "at")?,
                        actor: row.try_get("actor")?,
                        action: row.try_get("action")?,
                        detail: serde_json::from_str(&detail).map_err(|e| StoreError::Corrupt(format!("audit detail: {e}")))?,
                    })
                })
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_fields_that_changed_are_recorded() {
        let c = changes(&[("name", json!("A"), json!("B")), ("horizonDays", json!(90), json!(90))]);
        assert_eq!(serde_json::Value::Object(c), json!({ "name": { "from": "A", "to": "B" } }));
    }
}
