//! Staff editing what a clinic offers: locations, services, products and providers. Every
//! change is one write transaction with its audit row. Nothing that appointments reference is
//! ever deleted; it is archived instead, which takes it out of everything offered for booking
//! (see `widget.rs` and `availability.rs`) while its appointments keep their names.

use crate::attention::{appointments_of, flag_all, Stranding};
use domain::availability::Misfit;
use crate::audit::{changes, insert_audit};
use crate::booking::row_lock;
use crate::staff::Actor;
use crate::time::db_time;
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Utc};
use domain::catalogue::{LocationDef, ProductDef, ProviderDef, ServiceDef};
use domain::patient::PatientField;
use domain::DomainError;
use serde_json::{json, Value};
use sqlx::Row;

/// The four kinds of thing a catalogue holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Location,
    Service,
    Product,
    Provider,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Location, Kind::Service, Kind::Product, Kind::Provider];

    /// The singular name used in audit actions, error fields and addresses.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Location => "location",
            Kind::Service => "service",
            Kind::Product => "product",
            Kind::Provider => "provider",
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        Self::ALL.into_iter().find(|k| k.name() == raw)
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            Kind::Location => "locations",
            Kind::Service => "services",
            Kind::Product => "products",
            Kind::Provider => "providers",
        }
    }

    /// The appointments column that references this kind.
    fn appointment_column(self) -> &'static str {
        match self {
            Kind::Location => "location_id",
            Kind::Service => "service_id",
            Kind::Product => "product_id",
            Kind::Provider => "provider_id",
        }
    }
}

/// One entry of the catalogue with its id and whether it is archived.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<T> {
    pub id: i64,
    pub def: T,
    pub archived: bool,
}

/// Everything a clinic has defined, archived entries included, in creation order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ClinicCatalogue {
    pub locations: Vec<Entry<LocationDef>>,
    pub services: Vec<Entry<ServiceDef>>,
    pub products: Vec<Entry<ProductDef>>,
    pub providers: Vec<Entry<ProviderDef>>,
}

impl ClinicCatalogue {
    pub fn location(&self, id: i64) -> Option<&Entry<LocationDef>> {
        self.locations.iter().find(|e| e.id == id)
    }
    pub fn service(&self, id: i64) -> Option<&Entry<ServiceDef>> {
        self.services.iter().find(|e| e.id == id)
    }
    pub fn product(&self, id: i64) -> Option<&Entry<ProductDef>> {
        self.products.iter().find(|e| e.id == id)
    }
    pub fn provider(&self, id: i64) -> Option<&Entry<ProviderDef>> {
        self.providers.iter().find(|e| e.id == id)
    }
}

/// What `audit::changes` records, for each top-level field of two serialized definitions.
fn diff(old: &Value, new: &Value) -> serde_json::Map<String, Value> {
    let Value::Object(new) = new else {
        return serde_json::Map::new();
    };
    let pairs: Vec<(&str, Value, Value)> =
        new.iter().map(|(key, value)| (key.as_str(), old.get(key).cloned().unwrap_or(Value::Null), value.clone())).collect();
    changes(&pairs)
}

fn to_json<T: serde::Serialize>(def: &T) -> Value {
    serde_json::to_value(def).unwrap_or(Value::Null)
}

fn refused(field: &'static str, reason: impl Into<String>) -> StoreError {
    StoreError::Rule(DomainError::invalid(field, reason))
}

/// A validated count of minutes or days as the INTEGER columns take it.
pub(crate) fn as_i32(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

fn fields(raw: &str) -> Result<Vec<PatientField>, StoreError> {
    Ok(PatientField::parse_list(raw)?)
}

fn minutes(v: i32) -> u32 {
    u32::try_from(v).unwrap_or(0)
}

/// The product columns in the order of `ProductRow` (after the id).
const PRODUCT_COLUMNS: &str = "service_id, name, description, duration_minutes, new_patient_minutes, CAST(price_cents AS BIGINT),
    currency, buffer_before_minutes, buffer_after_minutes, step_minutes, per_day_cap, booker_fields, participant_fields";

type ProductColumns = (i64, String, String, i32, Option<i32>, i64, String, i32, i32, Option<i32>, Option<i32>, String, String);
/// id, the columns of `PRODUCT_COLUMNS`, archived.
type ProductRow = (i64, i64, String, String, i32, Option<i32>, i64, String, i32, i32, Option<i32>, Option<i32>, String, String, bool);

fn split_product_row(r: ProductRow) -> (i64, ProductColumns, bool) {
    (r.0, (r.1, r.2, r.3, r.4, r.5, r.6, r.7, r.8, r.9, r.10, r.11, r.12, r.13), r.14)
}

fn product_def(c: ProductColumns) -> Result<ProductDef, StoreError> {
    let optional = |v: Option<i32>| v.map(minutes);
    Ok(ProductDef {
        service_id: c.0,
        name: c.1,
        description: c.2,
        duration_minutes: minutes(c.3),
        new_patient_minutes: optional(c.4),
        price_cents: c.5,
        currency: c.6,
        buffer_before_minutes: minutes(c.7),
        buffer_after_minutes: minutes(c.8),
        step_minutes: optional(c.9),
        per_day_cap: optional(c.10),
        booker_fields: fields(&c.11)?,
        participant_fields: fields(&c.12)?,
    })
}

/// Binds a product definition to `$1`..`$13` in the column order of the statements above.
macro_rules! bind_product {
    ($query:expr, $def:expr) => {{
        let def: &ProductDef = $def;
        let optional = |v: Option<u32>| v.map(as_i32);
        $query
            .bind(def.service_id)
            .bind(&def.name)
            .bind(&def.description)
            .bind(as_i32(def.duration_minutes))
            .bind(optional(def.new_patient_minutes))
            .bind(def.price_cents)
            .bind(&def.currency)
            .bind(as_i32(def.buffer_before_minutes))
            .bind(as_i32(def.buffer_after_minutes))
            .bind(optional(def.step_minutes))
            .bind(optional(def.per_day_cap))
            .bind(ProductDef::fields_text(&def.booker_fields))
            .bind(ProductDef::fields_text(&def.participant_fields))
    }};
}

/// The audit row's detail: what changed (or was created) and the entry's id.
fn audit_detail(id: i64, detail: Value) -> String {
    let mut detail = match detail {
        Value::Object(map) => map,
        _ => serde_json::Map::new(),
    };
    detail.insert("id".into(), json!(id));
    Value::Object(detail).to_string()
}

impl Store {
    /// A clinic's whole catalogue, for the console, the admin API and `clinic export`.
    pub async fn clinic_catalogue(&self, clinic_id: i64) -> Result<ClinicCatalogue, StoreError> {
        with_pool!(self, pool => {
            let mut c = ClinicCatalogue::default();
            for row in sqlx::query("SELECT id, name, address, time_zone, archived_at IS NOT NULL AS archived FROM locations WHERE clinic_id = $1 ORDER BY id")
                .bind(clinic_id).fetch_all(pool).await?
            {
                c.locations.push(Entry {
                    id: row.try_get("id")?,
                    def: LocationDef { name: row.try_get("name")?, address: row.try_get("address")?, time_zone: row.try_get("time_zone")? },
                    archived: row.try_get("archived")?,
                });
            }
            for row in sqlx::query("SELECT id, name, duration_minutes, archived_at IS NOT NULL AS archived FROM services WHERE clinic_id = $1 ORDER BY id")
                .bind(clinic_id).fetch_all(pool).await?
            {
                c.services.push(Entry {
                    id: row.try_get("id")?,
                    def: ServiceDef { name: row.try_get("name")?, duration_minutes: minutes(row.try_get("duration_minutes")?) },
                    archived: row.try_get("archived")?,
                });
            }
            let sql = format!("SELECT id, {PRODUCT_COLUMNS}, archived_at IS NOT NULL FROM products WHERE clinic_id = $1 ORDER BY id");
            let rows: Vec<ProductRow> = sqlx::query_as(&sql).bind(clinic_id).fetch_all(pool).await?;
            for (id, columns, archived) in rows.into_iter().map(split_product_row) {
                c.products.push(Entry { id, def: product_def(columns)?, archived });
            }
            let links: Vec<(i64, i64)> = sqlx::query_as(
                "SELECT ps.provider_id, ps.service_id FROM provider_services ps JOIN providers p ON p.id = ps.provider_id
                  WHERE p.clinic_id = $1 ORDER BY ps.provider_id, ps.service_id",
            )
            .bind(clinic_id).fetch_all(pool).await?;
            for row in sqlx::query("SELECT id, display_name, title, gender, specialty, archived_at IS NOT NULL AS archived FROM providers WHERE clinic_id = $1 ORDER BY id")
                .bind(clinic_id).fetch_all(pool).await?
            {
                let id: i64 = row.try_get("id")?;
                c.providers.push(Entry {
                    id,
                    def: ProviderDef {
                        name: row.try_get("display_name")?,
                        title: row.try_get("title")?,
                        gender: row.try_get("gender")?,
                        specialty: row.try_get("specialty")?,
                        service_ids: links.iter().filter(|(p, _)| *p == id).map(|(_, s)| *s).collect(),
                    },
                    archived: row.try_get("archived")?,
                });
            }
            Ok(c)
        })
    }

    /// Creates (`id` None) or changes a location. Returns its id and whether anything changed.
    pub async fn save_location(&self, clinic_id: i64, actor: &Actor, id: Option<i64>, def: &LocationDef, now: DateTime<Utc>) -> Result<(i64, bool), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let (id, action, detail) = match id {
                None => {
                    let (id,): (i64,) = sqlx::query_as("INSERT INTO locations (clinic_id, name, address, time_zone) VALUES ($1, $2, $3, $4) RETURNING id")
                        .bind(clinic_id).bind(&def.name).bind(&def.address).bind(&def.time_zone).fetch_one(&mut *tx).await?;
                    (id, "create", to_json(def))
                }
                Some(id) => {
                    let sql = format!("SELECT name, address, time_zone FROM locations WHERE id = $1 AND clinic_id = $2{}", row_lock(pool));
                    let (name, address, time_zone): (String, String, String) = sqlx::query_as(&sql)
                        .bind(id).bind(clinic_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("location"))?;
                    let changed = diff(&to_json(&LocationDef { name, address, time_zone }), &to_json(def));
                    if changed.is_empty() {
                        return Ok((id, false));
                    }
                    sqlx::query("UPDATE locations SET name = $1, address = $2, time_zone = $3 WHERE id = $4")
                        .bind(&def.name).bind(&def.address).bind(&def.time_zone).bind(id).execute(&mut *tx).await?;
                    (id, "update", Value::Object(changed))
                }
            };
            insert_audit!(tx, pool, clinic_id, actor, format!("{}.{}", Kind::Location.name(), action), audit_detail(id, detail), now);
            tx.commit().await?;
            Ok((id, true))
        })
    }

    pub async fn save_service(&self, clinic_id: i64, actor: &Actor, id: Option<i64>, def: &ServiceDef, now: DateTime<Utc>) -> Result<(i64, bool), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let (id, action, detail) = match id {
                None => {
                    let (id,): (i64,) = sqlx::query_as("INSERT INTO services (clinic_id, name, duration_minutes) VALUES ($1, $2, $3) RETURNING id")
                        .bind(clinic_id).bind(&def.name).bind(as_i32(def.duration_minutes)).fetch_one(&mut *tx).await?;
                    (id, "create", to_json(def))
                }
                Some(id) => {
                    let sql = format!("SELECT name, duration_minutes FROM services WHERE id = $1 AND clinic_id = $2{}", row_lock(pool));
                    let (name, duration): (String, i32) = sqlx::query_as(&sql)
                        .bind(id).bind(clinic_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("service"))?;
                    let changed = diff(&to_json(&ServiceDef { name, duration_minutes: minutes(duration) }), &to_json(def));
                    if changed.is_empty() {
                        return Ok((id, false));
                    }
                    sqlx::query("UPDATE services SET name = $1, duration_minutes = $2 WHERE id = $3")
                        .bind(&def.name).bind(as_i32(def.duration_minutes)).bind(id).execute(&mut *tx).await?;
                    (id, "update", Value::Object(changed))
                }
            };
            insert_audit!(tx, pool, clinic_id, actor, format!("{}.{}", Kind::Service.name(), action), audit_detail(id, detail), now);
            tx.commit().await?;
            Ok((id, true))
        })
    }

    /// Creates or changes a product. Its service must be one of the clinic's; a new product
    /// cannot be added to an archived service.
    pub async fn save_product(&self, clinic_id: i64, actor: &Actor, id: Option<i64>, def: &ProductDef, now: DateTime<Utc>) -> Result<(i64, bool), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            // The product first: another clinic's product is not found, whatever its service.
            let old = match id {
                None => None,
                Some(id) => {
                    let sql = format!("SELECT id, {PRODUCT_COLUMNS}, archived_at IS NOT NULL FROM products WHERE id = $1 AND clinic_id = $2{}", row_lock(pool));
                    let row: ProductRow = sqlx::query_as(&sql).bind(id).bind(clinic_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("product"))?;
                    Some(product_def(split_product_row(row).1)?)
                }
            };
            let service: Option<(bool,)> = sqlx::query_as("SELECT archived_at IS NOT NULL FROM services WHERE id = $1 AND clinic_id = $2")
                .bind(def.service_id).bind(clinic_id).fetch_optional(&mut *tx).await?;
            match service {
                None => return Err(refused("service", "is not one of this clinic's services")),
                Some((true,)) if id.is_none() => return Err(refused("service", "is archived: restore it before adding products")),
                Some(_) => {}
            }
            let (id, action, detail) = match (id, old) {
                (Some(id), Some(old)) => {
                    let changed = diff(&to_json(&old), &to_json(def));
                    if changed.is_empty() {
                        return Ok((id, false));
                    }
                    bind_product!(sqlx::query(
                        "UPDATE products SET service_id = $1, name = $2, description = $3, duration_minutes = $4, new_patient_minutes = $5,
                                price_cents = $6, currency = $7, buffer_before_minutes = $8, buffer_after_minutes = $9, step_minutes = $10,
                                per_day_cap = $11, booker_fields = $12, participant_fields = $13
                          WHERE id = $14 AND clinic_id = $15",
                    ), def)
                    .bind(id).bind(clinic_id).execute(&mut *tx).await?;
                    (id, "update", Value::Object(changed))
                }
                _ => {
                    let (id,): (i64,) = bind_product!(sqlx::query_as(
                        "INSERT INTO products (service_id, name, description, duration_minutes, new_patient_minutes, price_cents, currency,
                                buffer_before_minutes, buffer_after_minutes, step_minutes, per_day_cap, booker_fields, participant_fields, clinic_id)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
                    ), def)
                    .bind(clinic_id).fetch_one(&mut *tx).await?;
                    (id, "create", to_json(def))
                }
            };
            insert_audit!(tx, pool, clinic_id, actor, format!("{}.{}", Kind::Product.name(), action), audit_detail(id, detail), now);
            tx.commit().await?;
            Ok((id, true))
        })
    }

    /// Creates or changes a provider with the services they offer. Every service must be one
    /// of the clinic's. Taking a service away moves no appointment: the provider's future
    /// appointments of that service are refused or flagged as `stranding` says.
    #[allow(clippy::too_many_arguments)]
    pub async fn save_provider(
        &self,
        clinic_id: i64,
        actor: &Actor,
        id: Option<i64>,
        def: &ProviderDef,
        stranding: Stranding,
        now: DateTime<Utc>,
    ) -> Result<(i64, bool), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &id.into_iter().collect::<Vec<_>>()).await?;
            if let Some(id) = id {
                // Another clinic's provider is not found, whatever services the form names.
                let mine: Option<(i64,)> = sqlx::query_as("SELECT id FROM providers WHERE id = $1 AND clinic_id = $2")
                    .bind(id).bind(clinic_id).fetch_optional(&mut *tx).await?;
                mine.ok_or(StoreError::NotFound("provider"))?;
            }
            let known: Vec<(i64,)> = sqlx::query_as("SELECT id FROM services WHERE clinic_id = $1").bind(clinic_id).fetch_all(&mut *tx).await?;
            if let Some(unknown) = def.service_ids.iter().find(|s| !known.contains(&(**s,))) {
                return Err(refused("services", format!("{unknown} is not one of this clinic's services")));
            }
            let (id, action, detail) = match id {
                None => {
                    let (id,): (i64,) = sqlx::query_as(
                        "INSERT INTO providers (clinic_id, display_name, title, gender, specialty) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                    )
                    .bind(clinic_id).bind(&def.name).bind(&def.title).bind(&def.gender).bind(&def.specialty).fetch_one(&mut *tx).await?;
                    (id, "create", to_json(def))
                }
                Some(id) => {
                    let sql = format!("SELECT display_name, title, gender, specialty FROM providers WHERE id = $1 AND clinic_id = $2{}", row_lock(pool));
                    let (name, title, gender, specialty): (String, String, String, String) = sqlx::query_as(&sql)
                        .bind(id).bind(clinic_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("provider"))?;
                    let services: Vec<(i64,)> = sqlx::query_as("SELECT service_id FROM provider_services WHERE provider_id = $1 ORDER BY service_id")
                        .bind(id).fetch_all(&mut *tx).await?;
                    let old = ProviderDef { name, title, gender, specialty, service_ids: services.into_iter().map(|(s,)| s).collect() };
                    let changed = diff(&to_json(&old), &to_json(def));
                    if changed.is_empty() {
                        return Ok((id, false));
                    }
                    let dropped: Vec<i64> = old.service_ids.iter().copied().filter(|s| !def.service_ids.contains(s)).collect();
                    let mut changed = changed;
                    if !dropped.is_empty() {
                        let stranded = appointments_of!(tx, pool, clinic_id, id, Some(dropped.as_slice()), Misfit::ServiceNotOffered, stranding, now);
                        let flagged = flag_all!(tx, pool, stranded, now);
                        if !flagged.is_empty() {
                            changed.insert("flagged".into(), json!(flagged));
                        }
                    }
                    sqlx::query("UPDATE providers SET display_name = $1, title = $2, gender = $3, specialty = $4 WHERE id = $5")
                        .bind(&def.name).bind(&def.title).bind(&def.gender).bind(&def.specialty).bind(id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM provider_services WHERE provider_id = $1").bind(id).execute(&mut *tx).await?;
                    (id, "update", Value::Object(changed))
                }
            };
            for service_id in &def.service_ids {
                sqlx::query("INSERT INTO provider_services (provider_id, service_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(id).bind(*service_id).execute(&mut *tx).await?;
            }
            insert_audit!(tx, pool, clinic_id, actor, format!("{}.{}", Kind::Provider.name(), action), audit_detail(id, detail), now);
            tx.commit().await?;
            Ok((id, true))
        })
    }

    /// Archives (takes out of everything offered) or restores an entry. Returns whether
    /// anything changed. Restoring a product of an archived service is refused.
    /// Archiving a provider moves none of their appointments: future ones are refused or
    /// flagged as `stranding` says.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_archived(
        &self,
        clinic_id: i64,
        actor: &Actor,
        kind: Kind,
        id: i64,
        archived: bool,
        stranding: Stranding,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let locked: Vec<i64> = if kind == Kind::Provider { vec![id] } else { Vec::new() };
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &locked).await?;
            let sql = format!("SELECT archived_at IS NOT NULL FROM {} WHERE id = $1 AND clinic_id = $2{}", kind.table(), row_lock(pool));
            let (was,): (bool,) = sqlx::query_as(&sql).bind(id).bind(clinic_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound(kind.name()))?;
            if was == archived {
                return Ok(false);
            }
            if kind == Kind::Product && !archived {
                let (service_archived,): (bool,) = sqlx::query_as(
                    "SELECT s.archived_at IS NOT NULL FROM products p JOIN services s ON s.id = p.service_id WHERE p.id = $1",
                )
                .bind(id).fetch_one(&mut *tx).await?;
                if service_archived {
                    return Err(refused("service", "is archived: restore the service first"));
                }
            }
            let mut flagged = Vec::new();
            if kind == Kind::Provider && archived {
                let stranded = appointments_of!(tx, pool, clinic_id, id, None, Misfit::ProviderArchived, stranding, now);
                flagged = flag_all!(tx, pool, stranded, now);
            }
            let stamp = archived.then(|| db_time(pool, now));
            sqlx::query(&format!("UPDATE {} SET archived_at = $1 WHERE id = $2", kind.table()))
                .bind(stamp).bind(id).execute(&mut *tx).await?;
            let action = if archived { "archive" } else { "restore" };
            let detail = if flagged.is_empty() { json!({}) } else { json!({ "flagged": flagged }) };
            insert_audit!(tx, pool, clinic_id, actor, format!("{}.{}", kind.name(), action), audit_detail(id, detail), now);
            tx.commit().await?;
            Ok(true)
        })
    }

    /// Deletes an entry nothing booked refers to, with the configuration that only it used
    /// (a provider's hours, a location's hours, a service's links to providers). Refused,
    /// naming what refers to it, when any appointment (past or future) does, or a live hold,
    /// a credential scoped to the location, or a product of the service.
    pub async fn delete_entry(&self, clinic_id: i64, actor: &Actor, kind: Kind, id: i64, now: DateTime<Utc>) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let sql = format!("SELECT id FROM {} WHERE id = $1 AND clinic_id = $2{}", kind.table(), row_lock(pool));
            let found: Option<(i64,)> = sqlx::query_as(&sql).bind(id).bind(clinic_id).fetch_optional(&mut *tx).await?;
            found.ok_or(StoreError::NotFound(kind.name()))?;
            let (appointments,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM appointments WHERE {} = $1", kind.appointment_column()))
                .bind(id).fetch_one(&mut *tx).await?;
            if appointments > 0 {
                return Err(refused(kind.name(), format!("{appointments} appointment(s) refer to it: archive it instead, so they keep their history")));
            }
            let stamp = db_time(pool, now);
            let hold_column = match kind {
                Kind::Location => Some("location_id"),
                Kind::Product => Some("product_id"),
                Kind::Provider => Some("provider_id"),
                Kind::Service => None,
            };
            if let Some(column) = hold_column {
                let (live,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM holds WHERE {column} = $1 AND expires_at > $2"))
                    .bind(id).bind(&stamp).fetch_one(&mut *tx).await?;
                if live > 0 {
                    return Err(refused(kind.name(), "a patient is booking it right now: archive it, or try again in a few minutes"));
                }
                sqlx::query(&format!("DELETE FROM holds WHERE {column} = $1")).bind(id).execute(&mut *tx).await?;
            }
            match kind {
                Kind::Location => {
                    let (credentials,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM api_credentials WHERE location_id = $1")
                        .bind(id).fetch_one(&mut *tx).await?;
                    if credentials > 0 {
                        return Err(refused("location", format!("{credentials} API user(s) are limited to it: archive it instead")));
                    }
                    sqlx::query("DELETE FROM working_hours WHERE location_id = $1").bind(id).execute(&mut *tx).await?;
                }
                Kind::Service => {
                    let (products,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM products WHERE service_id = $1").bind(id).fetch_one(&mut *tx).await?;
                    if products > 0 {
                        return Err(refused("service", format!("it has {products} appointment type(s): delete them first, or archive the service")));
                    }
                    sqlx::query("DELETE FROM provider_services WHERE service_id = $1").bind(id).execute(&mut *tx).await?;
                }
                Kind::Product => {}
                Kind::Provider => {
                    for table in ["working_hours", "schedule_exceptions", "schedule_blocks", "provider_services", "token_counters"] {
                        sqlx::query(&format!("DELETE FROM {table} WHERE provider_id = $1")).bind(id).execute(&mut *tx).await?;
                    }
                }
            }
            sqlx::query(&format!("DELETE FROM {} WHERE id = $1", kind.table())).bind(id).execute(&mut *tx).await?;
            insert_audit!(tx, pool, clinic_id, actor, format!("{}.{}", kind.name(), "delete"), audit_detail(id, json!({})), now);
            tx.commit().await?;
            Ok(())
        })
    }
}

