//! Staff accounts, their sign-in sessions, one-time invitation links and sign-in throttling.
//!
//! Passwords are hashed with Argon2id (the `argon2` crate's defaults: 19 MiB, 2 passes), on a
//! blocking thread so that a burst of sign-ins does not stall the booking requests beside it.
//! Session and invitation tokens are 256 random bits; the database keeps only their SHA-256,
//! so that a copy of it lets nobody in. Sessions live in the database: they survive restarts
//! and every instance of a PostgreSQL deployment sees them.

use crate::time::{db_time, row_time};
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Duration, Utc};
use domain::patient::Email;
use domain::staff::{check_locale, check_name, check_password, Role};
use domain::DomainError;
use rand::RngCore;
use sqlx::Row;

/// A session ends after this long without a request...
pub const SESSION_IDLE: Duration = Duration::hours(12);
/// ...and in any case this long after sign-in.
pub const SESSION_MAX: Duration = Duration::days(7);
/// The last-seen time is written at most this often, not on every request.
const SESSION_TOUCH: Duration = Duration::minutes(5);
/// How long an invitation (or a clinic's setup link) can be used.
pub const INVITATION_LIFETIME: Duration = Duration::days(7);
/// Failed sign-ins are counted over this window...
pub const LOGIN_WINDOW: Duration = Duration::minutes(15);
/// ...and an account takes this many before it is locked for the rest of the window...
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
/// ...and an address this many (a desk of several people may share one address).
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffUser {
    pub id: i64,
    pub clinic_id: i64,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub locale: String,
    /// Has accepted the invitation (has a password) and is not disabled.
    pub active: bool,
    /// An owner disabled the account: it cannot sign in, its sessions are gone.
    pub disabled: bool,
}

/// Who made a change, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub staff_user_id: Option<i64>,
    /// The staff member's e-mail, or `cli` for the command line.
    pub label: String,
}

impl Actor {
    pub fn cli() -> Self {
        Actor { staff_user_id: None, label: "cli".into() }
    }

    pub fn staff(user: &StaffUser) -> Self {
        Actor { staff_user_id: Some(user.id), label: user.email.clone() }
    }

    /// An integrator's API user (`api:<username>` in the audit log).
    pub fn api(username: &str) -> Self {
        Actor { staff_user_id: None, label: format!("api:{username}") }
    }
}

/// A signed-in staff member, as each request finds them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffSession {
    pub user: StaffUser,
    /// Sent with every state-changing form and compared with what the form carries.
    pub csrf_token: String,
}

/// A new session: `token` goes into the cookie and is never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedIn {
    pub token: String,
    pub session: StaffSession,
}

/// A one-time link's secret: shown once, never stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    pub token: String,
    pub staff_user_id: i64,
    pub email: String,
    pub expires_at: DateTime<Utc>,
}

/// What the invitation page shows before the link is used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvitationView {
    pub email: String,
    pub clinic_name: String,
    pub role: Role,
    pub locale: String,
}

#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    /// Wrong e-mail, wrong password, an account not yet set up or disabled: never told apart.
    #[error("the e-mail address or the password is wrong")]
    Refused,
    /// Too many failed attempts for this account or from this address.
    #[error("too many failed sign-ins; try again in {} minutes", retry_after.num_minutes().max(1))]
    Throttled { retry_after: Duration },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// 256 random bits in hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Tokens are stored as their SHA-256, like API keys.
use crate::credentials::key_digest as digest;

/// Stores an invitation as its token's digest (digest, staff user, created, expires).
pub(crate) const INSERT_INVITATION: &str =
    "INSERT INTO staff_invitations (token_sha256, staff_user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";

/// Hashes off the async threads: Argon2 is deliberately slow.
pub async fn hash_password(password: String) -> Result<String, StoreError> {
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{rand_core::OsRng, PasswordHasher, SaltString};
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| StoreError::Corrupt(format!("cannot hash a password: {e}")))
    })
    .await
    .map_err(|e| StoreError::Corrupt(format!("password hashing stopped: {e}")))?
}

/// Whether `password` matches `stored` (a PHC string). With no stored hash (unknown account)
/// a fixed hash is checked instead, so the answer takes as long either way.
pub async fn verify_password(password: String, stored: Option<String>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$Vdd0N6MWCg+Wn+2Oa2Sb7Sst+FSN2s0e5Y2QH6jEhqY";
    let known = stored.is_some();
    let stored = stored.unwrap_or_else(|| DUMMY.to_owned());
    tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        let ok = PasswordHash::new(&stored)
            .map(|parsed| argon2::Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
            .unwrap_or(false);
        ok && known
    })
    .await
    .unwrap_or(false)
}

/// The address failed sign-ins are counted by; e-mail addresses compare in lower case.
fn login_key(email: &str) -> String {
    email.trim().to_lowercase()
}

const USER_COLUMNS: &str = "u.id, u.clinic_id, u.email, u.display_name, u.role, u.locale, u.password_hash, u.disabled_at";

fn user_from_row<R: Row>(row: &R) -> Result<StaffUser, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'r> sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let role: String = row.try_get("role")?;
    let hash: Option<String> = row.try_get("password_hash")?;
    let disabled = row.try_get_raw("disabled_at").map(|v| !sqlx::ValueRef::is_null(&v))?;
    Ok(StaffUser {
        id: row.try_get("id")?,
        clinic_id: row.try_get("clinic_id")?,
        email: row.try_get("email")?,
        display_name: row.try_get("display_name")?,
        role: Role::parse(&role)?,
        locale: row.try_get("locale")?,
        disabled,
        active: hash.is_some() && !disabled,
    })
}

impl Store {
    /// Creates a staff account without a password and its one-time link. The account can sign
    /// in once the link has been used to choose a password.
    pub async fn invite_staff(
        &self,
        clinic_id: i64,
        actor: &Actor,
        email: &Email,
        role: Role,
        now: DateTime<Utc>,
    ) -> Result<Invitation, StoreError> {
        let token = new_token();
        let email = login_key(email.as_str());
        let expires_at = now + INVITATION_LIFETIME;
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let taken: Option<(i64,)> = sqlx::query_as("SELECT id FROM staff_users WHERE email = $1")
                .bind(&email).fetch_optional(&mut *tx).await?;
            if taken.is_some() {
                return Err(StoreError::Rule(DomainError::invalid("email", "already has a staff account")));
            }
            let (locale,): (String,) = sqlx::query_as("SELECT default_locale FROM clinics WHERE id = $1")
                .bind(clinic_id).fetch_optional(&mut *tx).await?.ok_or(StoreError::NotFound("clinic"))?;
            let stamp = db_time(pool, now);
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO staff_users (clinic_id, email, role, locale, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(clinic_id).bind(&email).bind(role.as_str()).bind(&locale).bind(stamp)
            .fetch_one(&mut *tx).await?;
            sqlx::query(INSERT_INVITATION)
                .bind(digest(&token)).bind(id).bind(stamp).bind(db_time(pool, expires_at))
                .execute(&mut *tx).await?;
            sqlx::query(crate::audit::INSERT_AUDIT)
                .bind(clinic_id).bind(actor.staff_user_id).bind(&actor.label).bind("staff.invite")
                .bind(serde_json::json!({ "email": email, "role": role.as_str() }).to_string()).bind(stamp)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(Invitation { token, staff_user_id: id, email, expires_at })
        })
    }

    /// The invitation behind a link; `NotFound` for a wrong, used or expired link alike.
    pub async fn invitation(&self, token: &str, now: DateTime<Utc>) -> Result<InvitationView, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(
                "SELECT u.email, u.role, u.locale, c.name FROM staff_invitations i
                   JOIN staff_users u ON u.id = i.staff_user_id JOIN clinics c ON c.id = u.clinic_id
                  WHERE i.token_sha256 = $1 AND i.used_at IS NULL AND i.expires_at > $2 AND u.disabled_at IS NULL",
            )
            .bind(digest(token)).bind(db_time(pool, now))
            .fetch_optional(pool).await?.ok_or(StoreError::NotFound("invitation"))?;
            let role: String = row.try_get("role")?;
            Ok(InvitationView {
                email: row.try_get("email")?,
                clinic_name: row.try_get("name")?,
                role: Role::parse(&role)?,
                locale: row.try_get("locale")?,
            })
        })
    }

    /// Uses a one-time link: sets the name and password, and signs the new account in.
    pub async fn accept_invitation(
        &self,
        token: &str,
        display_name: &str,
        password: &str,
        now: DateTime<Utc>,
    ) -> Result<SignedIn, StoreError> {
        let display_name = check_name("displayName", display_name, 100).map_err(StoreError::Rule)?;
        let invited = self.invitation(token, now).await?;
        check_password(password, &invited.email).map_err(StoreError::Rule)?;
        let hash = hash_password(password.to_owned()).await?;
        let user_id = with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let stamp = db_time(pool, now);
            // Claims the link in the same statement that checks it: a link used twice at once
            // works for exactly one of the two.
            let claimed: Option<(i64,)> = sqlx::query_as(
                "UPDATE staff_invitations SET used_at = $1
                  WHERE token_sha256 = $2 AND used_at IS NULL AND expires_at > $1 RETURNING staff_user_id",
            )
            .bind(stamp).bind(digest(token)).fetch_optional(&mut *tx).await?;
            let (user_id,) = claimed.ok_or(StoreError::NotFound("invitation"))?;
            sqlx::query("UPDATE staff_users SET display_name = $1, password_hash = $2 WHERE id = $3")
                .bind(&display_name).bind(&hash).bind(user_id).execute(&mut *tx).await?;
            tx.commit().await?;
            user_id
        });
        self.start_session(user_id, now).await
    }

    async fn start_session(&self, user_id: i64, now: DateTime<Utc>) -> Result<SignedIn, StoreError> {
        let token = new_token();
        let csrf_token = new_token();
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO staff_sessions (id_sha256, staff_user_id, csrf_token, created_at, last_seen_at, expires_at)
                 VALUES ($1, $2, $3, $4, $4, $5)",
            )
            .bind(digest(&token)).bind(user_id).bind(&csrf_token).bind(db_time(pool, now))
            .bind(db_time(pool, now + SESSION_IDLE))
            .execute(pool).await?;
        });
        let user = self.staff_user(user_id).await?;
        Ok(SignedIn { token, session: StaffSession { user, csrf_token } })
    }

    pub async fn staff_user(&self, id: i64) -> Result<StaffUser, StoreError> {
        with_pool!(self, pool => {
            let row = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM staff_users u WHERE u.id = $1"))
                .bind(id).fetch_optional(pool).await?.ok_or(StoreError::NotFound("staff member"))?;
            user_from_row(&row)
        })
    }

    /// Staff of a clinic, owners first, then by e-mail.
    pub async fn staff_of_clinic(&self, clinic_id: i64) -> Result<Vec<StaffUser>, StoreError> {
        with_pool!(self, pool => {
            let rows = sqlx::query(&format!(
                "SELECT {USER_COLUMNS} FROM staff_users u WHERE u.clinic_id = $1
                  ORDER BY CASE u.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.email"
            ))
            .bind(clinic_id).fetch_all(pool).await?;
            rows.iter().map(user_from_row).collect()
        })
    }

    /// Checks an e-mail and password, counting failures per account and per address.
    pub async fn sign_in(&self, email: &str, password: &str, address: &str, now: DateTime<Utc>) -> Result<SignedIn, SignInError> {
        let email = login_key(email);
        let since = now - LOGIN_WINDOW;
        let (by_account, by_address, oldest, row) = with_pool!(self, pool => {
            let since = db_time(pool, since);
            let (by_account,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE email = $1 AND at > $2")
                .bind(&email).bind(since).fetch_one(pool).await.map_err(StoreError::from)?;
            let (by_address,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM login_failures WHERE address = $1 AND at > $2")
                .bind(address).bind(since).fetch_one(pool).await.map_err(StoreError::from)?;
            let oldest = sqlx::query("SELECT at FROM login_failures WHERE (email = $1 OR address = $2) AND at > $3 ORDER BY at LIMIT 1")
                .bind(&email).bind(address).bind(since).fetch_optional(pool).await.map_err(StoreError::from)?
                .map(|r| row_time(pool, &r, "at")).transpose()?;
            let row = sqlx::query("SELECT id, password_hash, disabled_at FROM staff_users WHERE email = $1")
                .bind(&email).fetch_optional(pool).await.map_err(StoreError::from)?;
            let row = match row {
                None => None,
                Some(r) => {
                    let disabled = r.try_get_raw("disabled_at").map(|v| !sqlx::ValueRef::is_null(&v)).map_err(StoreError::from)?;
                    let hash: Option<String> = r.try_get("password_hash").map_err(StoreError::from)?;
                    let id: i64 = r.try_get("id").map_err(StoreError::from)?;
                    Some((id, hash.filter(|_| !disabled)))
                }
            };
            (by_account, by_address, oldest, row)
        });
        if by_account >= MAX_FAILURES_PER_ACCOUNT || by_address >= MAX_FAILURES_PER_ADDRESS {
            let retry_after = oldest.map(|o| o + LOGIN_WINDOW - now).unwrap_or(LOGIN_WINDOW).max(Duration::minutes(1));
            return Err(SignInError::Throttled { retry_after });
        }
        let (user_id, stored) = match row {
            Some((id, hash)) => (Some(id), hash),
            None => (None, None),
        };
        let ok = verify_password(password.to_owned(), stored).await;
        match (ok, user_id) {
            (true, Some(id)) => {
                with_pool!(self, pool => {
                    sqlx::query("DELETE FROM login_failures WHERE email = $1").bind(&email).execute(pool).await.map_err(StoreError::from)?;
                });
                Ok(self.start_session(id, now).await?)
            }
            _ => {
                with_pool!(self, pool => {
                    sqlx::query("INSERT INTO login_failures (email, address, at) VALUES ($1, $2, $3)")
                        .bind(&email).bind(address).bind(db_time(pool, now))
                        .execute(pool).await.map_err(StoreError::from)?;
                });
                Err(SignInError::Refused)
            }
        }
    }

    /// The session behind a cookie's token, if it is live; extends it while it is used.
    pub async fn staff_session(&self, token: &str, now: DateTime<Utc>) -> Result<Option<StaffSession>, StoreError> {
        let id = digest(token);
        with_pool!(self, pool => {
            let row = sqlx::query(&format!(
                "SELECT {USER_COLUMNS}, s.csrf_token, s.created_at AS session_created, s.last_seen_at
                   FROM staff_sessions s JOIN staff_users u ON u.id = s.staff_user_id
                  WHERE s.id_sha256 = $1 AND s.expires_at > $2"
            ))
            .bind(&id).bind(db_time(pool, now)).fetch_optional(pool).await?;
            let Some(row) = row else { return Ok(None) };
            let user = user_from_row(&row)?;
            if !user.active {
                return Ok(None);
            }
            let created = row_time(pool, &row, "session_created")?;
            let seen = row_time(pool, &row, "last_seen_at")?;
            if now - seen >= SESSION_TOUCH {
                let expires = (now + SESSION_IDLE).min(created + SESSION_MAX);
                sqlx::query("UPDATE staff_sessions SET last_seen_at = $1, expires_at = $2 WHERE id_sha256 = $3")
                    .bind(db_time(pool, now)).bind(db_time(pool, expires)).bind(&id)
                    .execute(pool).await?;
            }
            Ok(Some(StaffSession { user, csrf_token: row.try_get("csrf_token")? }))
        })
    }

    /// Keeps `text` for the session's next page (a secret shown once, never put in a URL).
    pub async fn set_flash(&self, token: &str, text: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE staff_sessions SET flash = $1 WHERE id_sha256 = $2").bind(text).bind(digest(token)).execute(pool).await?;
        });
        Ok(())
    }

    /// The session's flash message, removed as it is read.
    pub async fn take_flash(&self, token: &str) -> Result<Option<String>, StoreError> {
        self.take_flash_starting(token, "").await
    }

    /// The session's flash message if it starts with `prefix` (removed as it is read); any
    /// other message stays for the page it is meant for.
    pub async fn take_flash_starting(&self, token: &str, prefix: &str) -> Result<Option<String>, StoreError> {
        let id = digest(token);
        with_pool!(self, pool => {
            // Most page views have nothing to take: they read without taking the write lock.
            let waiting: Option<(Option<String>,)> = sqlx::query_as("SELECT flash FROM staff_sessions WHERE id_sha256 = $1")
                .bind(&id).fetch_optional(pool).await?;
            if !waiting.and_then(|(f,)| f).is_some_and(|f| f.starts_with(prefix)) {
                return Ok(None);
            }
            // Taken under the write lock, so that a message is shown once.
            let mut tx = self.write_tx(pool, &[]).await?;
            let found: Option<(Option<String>,)> = sqlx::query_as("SELECT flash FROM staff_sessions WHERE id_sha256 = $1")
                .bind(&id).fetch_optional(&mut *tx).await?;
            let flash = found.and_then(|(f,)| f).filter(|f| f.starts_with(prefix));
            if flash.is_some() {
                sqlx::query("UPDATE staff_sessions SET flash = NULL WHERE id_sha256 = $1").bind(&id).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            Ok(flash)
        })
    }

    pub async fn sign_out(&self, token: &str) -> Result<(), StoreError> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM staff_sessions WHERE id_sha256 = $1").bind(digest(token)).execute(pool).await?;
        });
        Ok(())
    }

    /// Changes a password after checking the current one, and ends every other session of the
    /// account (a stolen session dies with the old password).
    pub async fn change_password(
        &self,
        user_id: i64,
        current: &str,
        new: &str,
        keep_session: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let user = self.staff_user(user_id).await?;
        let stored: Option<String> = with_pool!(self, pool => {
            sqlx::query_as::<_, (Option<String>,)>("SELECT password_hash FROM staff_users WHERE id = $1")
                .bind(user_id).fetch_one(pool).await?.0
        });
        if !verify_password(current.to_owned(), stored).await {
            return Err(StoreError::Rule(DomainError::invalid("currentPassword", "is not your current password")));
        }
        check_password(new, &user.email).map_err(StoreError::Rule)?;
        let hash = hash_password(new.to_owned()).await?;
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            sqlx::query("UPDATE staff_users SET password_hash = $1 WHERE id = $2").bind(&hash).bind(user_id).execute(&mut *tx).await?;
            sqlx::query("DELETE FROM staff_sessions WHERE staff_user_id = $1 AND id_sha256 <> $2")
                .bind(user_id).bind(digest(keep_session)).execute(&mut *tx).await?;
            sqlx::query(crate::audit::INSERT_AUDIT)
                .bind(user.clinic_id).bind(user_id).bind(&user.email).bind("staff.password")
                .bind("{}").bind(db_time(pool, now))
                .execute(&mut *tx).await?;
            tx.commit().await?;
        });
        Ok(())
    }

    /// The language the console speaks to this staff member.
    pub async fn set_staff_locale(&self, user_id: i64, locale: &str) -> Result<(), StoreError> {
        let locale = check_locale(locale).map_err(|_| StoreError::Rule(DomainError::invalid("locale", "is not en or de")))?;
        with_pool!(self, pool => {
            sqlx::query("UPDATE staff_users SET locale = $1 WHERE id = $2").bind(locale).bind(user_id).execute(pool).await?;
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery".into(), Some(hash.clone())).await);
        assert!(!verify_password("correct horse batterz".into(), Some(hash)).await);
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies_even_with_the_dummy_password() {
        assert!(!verify_password("somesaltsomesalt".into(), None).await);
        assert!(!verify_password(String::new(), Some("not a hash".into())).await);
    }

    #[test]
    fn tokens_are_256_random_bits() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}

impl Store {
    /// An owner changes a colleague's role, or disables or enables their account. Disabling
    /// ends the account's sessions and voids its unused invitation links at once; a new role
    /// applies from the next request, since every request reads it. Owners do not change
    /// their own account here, so a clinic always keeps the owner making the change.
    pub async fn update_staff(&self, owner: &StaffUser, user_id: i64, role: Role, disabled: bool, now: DateTime<Utc>) -> Result<bool, StoreError> {
        if !owner.role.can_manage_staff() {
            return Err(StoreError::Rule(DomainError::invalid("role", "only an owner manages staff")));
        }
        if owner.id == user_id {
            return Err(StoreError::Rule(DomainError::invalid("user", "you cannot change your own role or account: ask another owner")));
        }
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let sql = format!("SELECT {USER_COLUMNS} FROM staff_users u WHERE u.id = $1 AND u.clinic_id = $2{}", crate::booking::row_lock(pool));
            let row = sqlx::query(&sql).bind(user_id).bind(owner.clinic_id).fetch_optional(&mut *tx).await?;
            let user = user_from_row(&row.ok_or(StoreError::NotFound("staff member"))?)?;
            use serde_json::json;
            let mut diff = crate::audit::changes(&[
                ("role", json!(user.role.as_str()), json!(role.as_str())),
                ("disabled", json!(user.disabled), json!(disabled)),
            ]);
            if diff.is_empty() {
                return Ok(false);
            }
            let stamp = db_time(pool, now);
            sqlx::query("UPDATE staff_users SET role = $1, disabled_at = $2 WHERE id = $3")
                .bind(role.as_str()).bind(disabled.then_some(stamp)).bind(user_id).execute(&mut *tx).await?;
            if disabled {
                sqlx::query("DELETE FROM staff_sessions WHERE staff_user_id = $1").bind(user_id).execute(&mut *tx).await?;
                sqlx::query("UPDATE staff_invitations SET used_at = $1 WHERE staff_user_id = $2 AND used_at IS NULL")
                    .bind(stamp).bind(user_id).execute(&mut *tx).await?;
            }
            diff.insert("email".into(), json!(user.email));
            sqlx::query(crate::audit::INSERT_AUDIT)
                .bind(owner.clinic_id).bind(owner.id).bind(&owner.email).bind("staff.update")
                .bind(serde_json::Value::Object(diff).to_string()).bind(stamp)
                .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
