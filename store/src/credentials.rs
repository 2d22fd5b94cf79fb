//! API credentials: one user per facility (a whole clinic, or one location of it), bot or
//! staff, each with at most two active keys so that a key can be replaced without downtime.
//! A key is 128 random bits with a recognisable prefix; only its SHA-256 is stored, and the
//! comparison runs in constant time.

use crate::audit::INSERT_AUDIT;
use crate::staff::Actor;
use crate::time::{db_time, row_time};
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use domain::DomainError;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

/// Every key starts with this, so that a leaked key is easy to recognise in logs and scanners.
pub const KEY_PREFIX: &str = "bk_";
/// A facility's active keys: the current one and the one being replaced.
pub const MAX_ACTIVE_KEYS: usize = 2;
/// Keys never expire unless asked to; a key that does must live at least this long, so that
/// a bot does not lose access over a long weekend.
pub const MIN_KEY_LIFETIME: Duration = Duration::days(90);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    Bot,
    Staff,
    /// A voice-bot integration: serves the clinics of its phone lines (see `voice.rs`).
    Voice,
    /// The clinic's own systems configuring it through the admin API (`/api/v1/admin`); it
    /// books nothing.
    Admin,
}

impl CredentialKind {
    /// The kind as people and logs name it.
    pub fn name(self) -> &'static str {
        match self {
            CredentialKind::Bot => "bot",
            CredentialKind::Staff => "staff",
            CredentialKind::Voice => "voice",
            CredentialKind::Admin => "admin",
        }
    }

    /// The kind a person or a client names: `bot`, `staff`, `voice` or `admin`.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "bot" => Ok(CredentialKind::Bot),
            "staff" => Ok(CredentialKind::Staff),
            "voice" => Ok(CredentialKind::Voice),
            "admin" => Ok(CredentialKind::Admin),
            _ => Err(DomainError::invalid("kind", format!("{:?} is not bot, staff, voice or admin", raw.trim()))),
        }
    }

    /// The kind of a stored row: its `kind` column and its `voice` and `admin` flags.
    fn from_stored(kind: &str, voice: bool, admin: bool) -> Self {
        match (kind, voice, admin) {
            (_, _, true) => CredentialKind::Admin,
            ("staff", _, _) => CredentialKind::Staff,
            (_, true, _) => CredentialKind::Voice,
            _ => CredentialKind::Bot,
        }
    }

    /// The stored `kind`; voice and admin credentials are flagged `bot` rows (migrations
    /// 0007 and 0012).
    pub fn as_str(self) -> &'static str {
        match self {
            CredentialKind::Bot | CredentialKind::Voice | CredentialKind::Admin => "bot",
            CredentialKind::Staff => "staff",
        }
    }
}

/// Who is calling, once a key is accepted: everything they see is scoped to this.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facility {
    pub credential_id: i64,
    pub username: String,
    pub clinic_id: i64,
    /// `Some` when the credential covers one location only.
    pub location_id: Option<i64>,
    pub kind: CredentialKind,
}

/// A key as it is handed out: shown once, never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedKey {
    pub username: String,
    pub key: String,
    pub expires_at: Option<DateTime<Utc>>,
    /// Keys that stopped working because this one was issued (the oldest beyond two).
    pub revoked: usize,
}

/// Stores a key as its digest and its public start (credential, prefix, digest, created, expires).
const INSERT_KEY: &str =
    "INSERT INTO api_keys (credential_id, key_prefix, key_sha256, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)";

/// The part of a key kept in clear so people can tell keys apart: the prefix and 4 characters.
fn public_start(key: &str) -> &str {
    &key[..KEY_PREFIX.len() + 4]
}

pub fn key_digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// A fresh key: the prefix and 128 random bits in hex.
pub fn new_key() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", hex::encode(bytes))
}

/// Equality whose time does not depend on where the inputs differ.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// Usernames are what integrators type into a config file: short, plain, unambiguous.
pub fn check_username(raw: &str) -> Result<(), DomainError> {
    let ok = (3..=64).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(DomainError::invalid("username", "use 3 to 64 characters: a-z, 0-9, '-', '_' or '.'"))
    }
}

/// How long an accepted key is taken on trust without asking the database again: a key
/// revoked or rotated out on another instance stops working within this.
pub const ADMITTED_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// Keys accepted in the last `ADMITTED_FOR`, by user and key digest, so that a client's
/// steady stream of requests costs one database lookup a second, not one each.
#[derive(Debug, Default)]
pub(crate) struct Admitted {
    keys: std::sync::Mutex<std::collections::HashMap<(String, String), (Facility, Option<DateTime<Utc>>, std::time::Instant)>>,
}

impl Admitted {
    /// Beyond this many keys at once the memory starts over (a flood of distinct valid keys
    /// is not a case to optimise).
    const MOST: usize = 10_000;

    fn get(&self, username: &str, digest: &str, now: DateTime<Utc>) -> Option<Facility> {
        let keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        let (facility, expires, at) = keys.get(&(username.to_owned(), digest.to_owned()))?;
        (at.elapsed() < ADMITTED_FOR && expires.is_none_or(|e| e > now)).then(|| facility.clone())
    }

    fn put(&self, username: &str, digest: String, facility: Facility, expires: Option<DateTime<Utc>>) {
        let mut keys = self.keys.lock().unwrap_or_else(|e| e.into_inner());
        if keys.len() >= Self::MOST {
            keys.clear();
        }
        keys.insert((username.to_owned(), digest), (facility, expires, std::time::Instant::now()));
    }

    /// After a rotation or revocation here, at once.
    pub(crate) fn forget_all(&self) {
        self.keys.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl Store {
    /// The facility whose active key `key` is, for user `username`; `None` for a wrong user,
    /// a wrong, revoked or expired key alike (callers must not tell them apart). A key
    /// accepted in the last `ADMITTED_FOR` is accepted from memory.
    pub async fn authenticate(&self, username: &str, key: &str, now: DateTime<Utc>) -> Result<Option<Facility>, StoreError> {
        let presented = key_digest(key);
        if let Some(facility) = self.admitted.get(username, &presented, now) {
            return Ok(Some(facility));
        }
        let found = self.authenticate_in_database(username, &presented, now).await?;
        if let Some((facility, expires)) = &found {
            self.admitted.put(username, presented, facility.clone(), *expires);
        }
        Ok(found.map(|f| f.0))
    }

    async fn authenticate_in_database(&self, username: &str, presented: &str, now: DateTime<Utc>) -> Result<Option<(Facility, Option<DateTime<Utc>>)>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(
                "SELECT c.id, c.username, c.clinic_id, c.location_id, c.kind, c.voice, c.admin, k.key_sha256, k.expires_at
                   FROM api_credentials c JOIN api_keys k ON k.credential_id = c.id
                  WHERE c.username = $1 AND k.revoked_at IS NULL",
            )
            .bind(username)
            .fetch_all(pool).await?;
            let mut found = None;
            // Every active key is compared, matched or not, so the time taken says nothing
            // about which one matched.
            for row in &rows {
                let digest: String = row.try_get("key_sha256")?;
                let expires: Option<DateTime<Utc>> = match row.try_get_raw("expires_at").map(|v| sqlx::ValueRef::is_null(&v))? {
                    true => None,
                    false => Some(row_time(pool, row, "expires_at")?),
                };
                let live = expires.is_none_or(|e| e > now);
                if constant_time_eq(digest.as_bytes(), presented.as_bytes()) && live {
                    let kind: String = row.try_get("kind")?;
                    found = Some((Facility {
                        credential_id: row.try_get("id")?,
                        username: row.try_get("username")?,
                        clinic_id: row.try_get("clinic_id")?,
                        location_id: row.try_get("location_id")?,
                        kind: CredentialKind::from_stored(&kind, row.try_get::<bool, _>("voice")?, row.try_get::<bool, _>("admin")?),
                    }, expires));
                }
            }
            Ok(found)
        })
    }

    /// Creates a user for a clinic (or one of its locations) with its first key, from the
    /// command line.
    pub async fn create_credential(
        &self,
        clinic_id: i64,
        location_id: Option<i64>,
        username: &str,
        kind: CredentialKind,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<IssuedKey, StoreError> {
        self.create_credential_as(&Actor::cli(), clinic_id, location_id, username, kind, expires_at, now).await
    }

    /// Creates a user with its first key, recording who did it in the audit log.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_credential_as(
        &self,
        actor: &Actor,
        clinic_id: i64,
        location_id: Option<i64>,
        username: &str,
        kind: CredentialKind,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<IssuedKey, StoreError> {
        check_username(username).map_err(StoreError::Rule)?;
        check_expiry(expires_at, now)?;
        if kind == CredentialKind::Admin && location_id.is_some() {
            return Err(StoreError::Rule(DomainError::invalid("location", "an admin credential configures the whole clinic")));
        }
        let key = new_key();
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            if let Some(location) = location_id {
                let owned: Option<(i64,)> = sqlx::query_as("SELECT id FROM locations WHERE id = $1 AND clinic_id = $2")
                    .bind(location).bind(clinic_id).fetch_optional(&mut *tx).await?;
                owned.ok_or(StoreError::NotFound("location"))?;
            }
            let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM api_credentials WHERE username = $1")
                .bind(username).fetch_optional(&mut *tx).await?;
            if taken.is_some() {
                return Err(StoreError::Rule(DomainError::invalid("username", "is already in use")));
            }
            let stamp = db_time(pool, now);
            let lifetime = expires_at.map(|at| (at - now).num_seconds());
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO api_credentials (clinic_id, location_id, username, kind, voice, admin, created_at, key_lifetime_seconds)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(clinic_id).bind(location_id).bind(username).bind(kind.as_str()).bind(kind == CredentialKind::Voice)
            .bind(kind == CredentialKind::Admin).bind(stamp).bind(lifetime)
            .fetch_one(&mut *tx).await?;
            sqlx::query(INSERT_KEY)
            .bind(id).bind(public_start(&key)).bind(key_digest(&key)).bind(stamp)
            .bind(expires_at.map(|e| db_time(pool, e)))
            .execute(&mut *tx).await?;
            sqlx::query(INSERT_AUDIT)
                .bind(clinic_id).bind(actor.staff_user_id).bind(&actor.label).bind("credential.create")
                .bind(serde_json::json!({ "username": username, "kind": kind.name(), "locationId": location_id }).to_string())
                .bind(stamp)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(IssuedKey { username: username.to_owned(), key, expires_at, revoked: 0 })
        })
    }

    /// Issues a new key for `username`. The user keeps at most two active keys: issuing one
    /// more revokes the oldest, so a rotation is "issue, deploy the new key, issue again".
    /// A credential made with an expiring key keeps that lifetime: the new key expires when
    /// asked, but no later than the first key's lifetime from now (then by default).
    pub async fn rotate_key(&self, username: &str, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<IssuedKey, StoreError> {
        let actor = Actor { staff_user_id: None, label: format!("credential {username}") };
        self.rotate_key_as(&actor, None, username, expires_at, now).await
    }

    /// Issues a new key, as `rotate_key`, for a user of `clinic` (any clinic when `None`),
    /// recording who did it.
    pub async fn rotate_key_as(
        &self,
        actor: &Actor,
        clinic: Option<i64>,
        username: &str,
        expires_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<IssuedKey, StoreError> {
        check_expiry(expires_at, now)?;
        let key = new_key();
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let found: Option<(i64, i64, Option<i64>)> =
                sqlx::query_as("SELECT id, clinic_id, key_lifetime_seconds FROM api_credentials WHERE username = $1")
                    .bind(username).fetch_optional(&mut *tx).await?;
            let (credential_id, clinic_id, lifetime) = found
                .filter(|(_, owner, _)| clinic.is_none_or(|c| c == *owner))
                .ok_or(StoreError::NotFound("credential"))?;
            let expires_at = inherited_expiry(expires_at, lifetime.map(Duration::seconds), now)?;
            let stamp = db_time(pool, now);
            // Expired keys are not active: revoke them first so they do not count.
            sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE credential_id = $2 AND revoked_at IS NULL AND expires_at <= $1")
                .bind(stamp).bind(credential_id).execute(&mut *tx).await?;
            let active: Vec<(i64,)> = sqlx::query_as(
                "SELECT id FROM api_keys WHERE credential_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC, id DESC",
            )
            .bind(credential_id).fetch_all(&mut *tx).await?;
            let mut revoked = 0;
            for (old,) in active.iter().skip(MAX_ACTIVE_KEYS - 1) {
                sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE id = $2").bind(stamp).bind(old).execute(&mut *tx).await?;
                revoked += 1;
            }
            sqlx::query(INSERT_KEY)
            .bind(credential_id).bind(public_start(&key)).bind(key_digest(&key)).bind(stamp)
            .bind(expires_at.map(|e| db_time(pool, e)))
            .execute(&mut *tx).await?;
            sqlx::query(INSERT_AUDIT)
                .bind(clinic_id).bind(actor.staff_user_id).bind(&actor.label).bind("credential.rotate")
                .bind(serde_json::json!({ "username": username, "revokedKeys": revoked }).to_string())
                .bind(stamp)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            self.admitted.forget_all();
            Ok(IssuedKey { username: username.to_owned(), key, expires_at, revoked })
        })
    }

    /// Stops every key of a clinic's user at once (a leaked key, an integration that ended).
    /// Returns how many keys were revoked.
    pub async fn revoke_credential(&self, actor: &Actor, clinic_id: i64, username: &str, now: DateTime<Utc>) -> Result<u64, StoreError> {
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let found: Option<(i64,)> = sqlx::query_as("SELECT id FROM api_credentials WHERE username = $1 AND clinic_id = $2")
                .bind(username).bind(clinic_id).fetch_optional(&mut *tx).await?;
            let (credential_id,) = found.ok_or(StoreError::NotFound("credential"))?;
            let stamp = db_time(pool, now);
            let revoked = sqlx::query("UPDATE api_keys SET revoked_at = $1 WHERE credential_id = $2 AND revoked_at IS NULL")
                .bind(stamp).bind(credential_id).execute(&mut *tx).await?.rows_affected();
            sqlx::query(INSERT_AUDIT)
                .bind(clinic_id).bind(actor.staff_user_id).bind(&actor.label).bind("credential.revoke")
                .bind(serde_json::json!({ "username": username, "revokedKeys": revoked }).to_string())
                .bind(stamp)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            self.admitted.forget_all();
            Ok(revoked)
        })
    }

    /// A clinic's API users with their live keys (public starts only), for the console.
    pub async fn credentials_of(&self, clinic_id: i64, now: DateTime<Utc>) -> Result<Vec<CredentialView>, StoreError> {
        with_pool!(self, pool => {
            let users = sqlx::query(
                "SELECT c.id, c.username, c.kind, c.voice, c.admin, c.location_id, l.name AS location FROM api_credentials c
                   LEFT JOIN locations l ON l.id = c.location_id
                  WHERE c.clinic_id = $1 ORDER BY c.username",
            )
            .bind(clinic_id).fetch_all(pool).await?;
            let mut views = Vec::with_capacity(users.len());
            for user in &users {
                let id: i64 = user.try_get("id")?;
                let keys = sqlx::query(
                    "SELECT key_prefix, created_at, expires_at FROM api_keys
                      WHERE credential_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)
                      ORDER BY created_at, id",
                )
                .bind(id).bind(db_time(pool, now)).fetch_all(pool).await?;
                let kind: String = user.try_get("kind")?;
                views.push(CredentialView {
                    username: user.try_get("username")?,
                    kind: CredentialKind::from_stored(&kind, user.try_get::<bool, _>("voice")?, user.try_get::<bool, _>("admin")?),
                    location_id: user.try_get("location_id")?,
                    location: user.try_get("location")?,
                    keys: keys
                        .iter()
                        .map(|k| Ok(KeyView {
                            prefix: k.try_get("key_prefix")?,
                            created_at: row_time(pool, k, "created_at")?,
                            expires_at: crate::time::row_time_opt(pool, k, "expires_at")?,
                        }))
                        .collect::<Result<_, StoreError>>()?,
                });
            }
            Ok(views)
        })
    }
}

/// An API user as the console lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CredentialView {
    pub username: String,
    pub kind: CredentialKind,
    /// The location the user is restricted to, if any: its id and name.
    pub location_id: Option<i64>,
    pub location: Option<String>,
    /// Keys that work now; empty once revoked.
    pub keys: Vec<KeyView>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyView {
    /// The key's public start, e.g. `bk_3f9c`.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// The expiry of a key issued `now` to a credential whose keys live at most `lifetime`: the
/// one asked for if it is within the lifetime, the longest allowed when none is asked for.
fn inherited_expiry(asked: Option<DateTime<Utc>>, lifetime: Option<Duration>, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, StoreError> {
    let Some(lifetime) = lifetime else { return Ok(asked) };
    let latest = now + lifetime;
    match asked {
        None => Ok(Some(latest)),
        Some(at) if at <= latest => Ok(Some(at)),
        Some(_) => Err(StoreError::Rule(DomainError::invalid(
            "expiresAt",
            format!("this credential's keys live at most {} days; ask for {} or earlier, or leave it out", lifetime.num_days(), latest.date_naive()),
        ))),
    }
}

fn check_expiry(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Result<(), StoreError> {
    match expires_at {
        Some(at) if at < now + MIN_KEY_LIFETIME => {
            Err(StoreError::Rule(DomainError::invalid("expiresAt", "must be at least 90 days ahead, or absent for a key that does not expire")))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_carry_the_prefix_and_128_random_bits() {
        let (a, b) = (new_key(), new_key());
        assert!(a.starts_with(KEY_PREFIX));
        assert_eq!(a.len(), KEY_PREFIX.len() + 32);
        assert_ne!(a, b);
    }

    #[test]
    fn constant_time_comparison_still_compares() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }

    #[test]
    fn a_rotated_key_lives_no_longer_than_the_credentials_first_key() {
        let now = DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let days = |n| Some(now + Duration::days(n));
        assert_eq!(inherited_expiry(None, None, now).unwrap(), None, "no policy: no expiry");
        assert_eq!(inherited_expiry(days(400), None, now).unwrap(), days(400));
        assert_eq!(inherited_expiry(None, Some(Duration::days(120)), now).unwrap(), days(120), "the policy applies");
        assert_eq!(inherited_expiry(days(100), Some(Duration::days(120)), now).unwrap(), days(100), "shorter is fine");
        assert!(inherited_expiry(days(121), Some(Duration::days(120)), now).is_err(), "longer is not");
    }

    #[test]
    fn kinds_are_read_as_they_are_named_and_anything_else_is_refused() {
        assert_eq!(CredentialKind::parse(" Voice ").unwrap(), CredentialKind::Voice);
        for kind in [CredentialKind::Bot, CredentialKind::Staff, CredentialKind::Voice, CredentialKind::Admin] {
            assert_eq!(CredentialKind::parse(kind.name()).unwrap(), kind);
        }
        assert!(CredentialKind::parse("owner").is_err());
    }

    #[test]
    fn usernames_are_short_and_plain() {
        assert!(check_username("clinic-berlin.bot_1").is_ok());
        for bad in ["ab", "Upper", "with space", "colon:user", &"x".repeat(65)] {
            assert!(check_username(bad).is_err(), "{bad}");
        }
    }
}
