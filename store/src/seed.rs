//! The demo clinic that `server seed-demo` creates, so that a newcomer sees real bookable
//! times right after `make run`.

use crate::time::db_time;
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use domain::zone::{instant_at, parse_zone};
use sha2::{Digest, Sha256};
use crate::attention::Stranding;
use crate::clinic_file::ClinicFile;
use crate::staff::Actor;

pub const DEMO_SLUG: &str = "demo";
pub const DEMO_API_USER: &str = "demo";
/// The demo's voice-bot user (a key of its own) and the phone line it answers.
pub const DEMO_VOICE_USER: &str = "demo-voice";
pub const DEMO_SIP_ID: &str = "demo-sip";
/// The demo clinic's owner, who signs in to the console at `/admin`.
pub const DEMO_OWNER_EMAIL: &str = "owner@demo.example";

pub struct DemoSeed {
    /// Existing appointments are placed on the days after this instant.
    pub now: DateTime<Utc>,
    /// The bot API key of user `demo`; only its SHA-256 is stored.
    pub api_key: String,
    /// The voice-bot key of user `demo-voice`: another integration, another key.
    pub voice_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    Created { clinic_id: i64 },
    AlreadyPresent,
}

/// The demo clinic's setup, as an ordinary clinic file.
pub const DEMO_FILE: &str = include_str!("../clinics/demo.toml");

/// The demo appointments' (provider, service, product), by key in `DEMO_FILE`.
const APPOINTMENT_KINDS: [(&str, &str, &str); 2] = [
    ("anna-weber", "general-consultation", "consultation"),
    ("jonas-keller", "physiotherapy", "physiotherapy-30"),
];

pub fn api_key_digest(api_key: &str) -> String {
    hex::encode(Sha256::digest(api_key.as_bytes()))
}

impl Store {
    /// Creates the demo clinic unless it exists: applies `DEMO_FILE`, then adds in one
    /// transaction what depends on the day (holidays, a block, a closed day, an extra
    /// Sunday, appointments) and the demo's credentials. The credentials come last, so an
    /// interrupted seed is completed by the next one.
    pub async fn seed_demo(&self, seed: &DemoSeed) -> Result<SeedOutcome, StoreError> {
        let berlin = parse_zone("Europe/Berlin")?;
        let present: Option<(i64,)> = with_pool!(self, pool => {
            sqlx::query_as("SELECT c.id FROM clinics c JOIN api_credentials a ON a.clinic_id = c.id WHERE c.slug = $1 AND a.username = $2")
                .bind(DEMO_SLUG).bind(DEMO_API_USER).fetch_optional(pool).await?
        });
        if present.is_some() {
            return Ok(SeedOutcome::AlreadyPresent);
        }
        let file = ClinicFile::parse(DEMO_FILE)?;
        let applied = self.apply_clinic_file(&file, None, &Actor::cli(), Stranding::Refuse, seed.now).await?;
        let clinic_id = applied.clinic_id;
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let now = db_time(pool, seed.now);
            let mut ids = std::collections::HashMap::new();
            for table in ["locations", "services", "products", "providers"] {
                let rows: Vec<(String, i64)> = sqlx::query_as(&format!("SELECT file_key, id FROM {table} WHERE clinic_id = $1 AND file_key IS NOT NULL"))
                    .bind(clinic_id).fetch_all(&mut *tx).await?;
                ids.extend(rows.into_iter().map(|(key, id)| ((table, key), id)));
            }
            let id = |table: &'static str, key: &str| ids.get(&(table, key.to_owned())).copied().ok_or(StoreError::NotFound("demo entry"));

            let today = seed.now.with_timezone(&berlin).date_naive();
            // Christmas and New Year are clinic holidays.
            for (month, day, name) in [(12, 25, "Christmas Day"), (12, 26, "Second day of Christmas"), (1, 1, "New Year's Day")] {
                let year = if month == 1 { today.year() + 1 } else { today.year() };
                if let Some(date) = chrono::NaiveDate::from_ymd_opt(year, month, day) {
                    sqlx::query("INSERT INTO holidays (clinic_id, on_date, name) VALUES ($1, $2, $3)")
                        .bind(clinic_id).bind(date).bind(name)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            // Dr. Weber's admin block on the third day ahead, Keller's day off on the fifth,
            // and Dr. Braun's extra Sunday morning on the first Sunday ahead.
            let block_day = today + Duration::days(3);
            let block_start = instant_at(berlin, block_day.and_time(NaiveTime::from_hms_opt(9, 0, 0).expect("09:00")));
            sqlx::query("INSERT INTO schedule_blocks (provider_id, starts_at, ends_at, label) VALUES ($1, $2, $3, 'Admin block 9-12')")
                .bind(id("providers", "anna-weber")?).bind(db_time(pool, block_start)).bind(db_time(pool, block_start + Duration::hours(3)))
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO schedule_exceptions (provider_id, on_date, kind) VALUES ($1, $2, 'closed')")
                .bind(id("providers", "jonas-keller")?).bind(today + Duration::days(5))
                .execute(&mut *tx)
                .await?;
            let sunday = today + Duration::days(i64::from(7 - today.weekday().num_days_from_sunday()));
            sqlx::query("INSERT INTO schedule_exceptions (provider_id, on_date, kind, starts_at, ends_at) VALUES ($1, $2, 'extra', '09:00', '12:00')")
                .bind(id("providers", "lukas-braun")?).bind(sunday)
                .execute(&mut *tx)
                .await?;

            // A few booked appointments at Berlin Mitte on each of the next days, at times that
            // differ from day to day, so that the booking page shows a realistic, uneven week.
            let location = id("locations", "berlin-mitte")?;
            for day in 1..=10_i64 {
                let date = today + Duration::days(day);
                for (kind, local_start) in demo_appointment_times(day) {
                    let (provider, service, product) = APPOINTMENT_KINDS[kind];
                    let start = instant_at(berlin, date.and_time(local_start));
                    let end = start + Duration::minutes(30);
                    sqlx::query(
                        "INSERT INTO appointments (clinic_id, location_id, provider_id, service_id, product_id, starts_at, ends_at,
                             time_zone, local_date, status, source, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'booked', 'staff', $10)",
                    )
                    .bind(clinic_id).bind(location).bind(id("providers", provider)?).bind(id("services", service)?)
                    .bind(id("products", product)?)
                    .bind(db_time(pool, start)).bind(db_time(pool, end)).bind(berlin.name()).bind(date).bind(&now)
                    .execute(&mut *tx)
                    .await?;
                }
            }

            // The bot user, and the voice-bot integration that answers the demo clinic's line
            // `demo-sip`, each with its own key.
            let mut voice_id = 0;
            for (username, voice, key) in [(DEMO_API_USER, false, &seed.api_key), (DEMO_VOICE_USER, true, &seed.voice_key)] {
                let prefix: String = key.chars().take(7).collect();
                let (credential_id,): (i64,) = sqlx::query_as(
                    "INSERT INTO api_credentials (clinic_id, username, kind, voice, created_at) VALUES ($1, $2, 'bot', $3, $4) RETURNING id",
                )
                .bind(clinic_id).bind(username).bind(voice).bind(&now)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO api_keys (credential_id, key_prefix, key_sha256, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(credential_id).bind(&prefix).bind(api_key_digest(key)).bind(&now)
                    .execute(&mut *tx)
                    .await?;
                if voice {
                    voice_id = credential_id;
                }
            }
            sqlx::query("INSERT INTO voice_lines (sip_id, clinic_id, credential_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(DEMO_SIP_ID).bind(clinic_id).bind(voice_id).bind(&now)
                .execute(&mut *tx)
                .await?;

            tx.commit().await?;
            Ok(SeedOutcome::Created { clinic_id })
        })
    }
}

/// (index in `APPOINTMENT_KINDS`, local start) of the demo appointments on the `n`th day ahead.
fn demo_appointment_times(n: i64) -> Vec<(usize, NaiveTime)> {
    let at = |h: u32, m: u32| NaiveTime::from_hms_opt(h, m, 0).expect("valid demo time");
    let shift = (n % 4) as u32 * 30;
    vec![
        (0, at(8 + shift / 60, shift % 60)),
        (0, at(10, 30)),
        (1, at(9 + (n % 3) as u32, 0)),
        (0, at(14 + (n % 2) as u32, 0)),
        (1, at(15 + (n % 3) as u32, 30)),
    ]
}

impl Store {
    /// Gives the demo clinic an owner who signs in with `password`; does nothing when the
    /// account exists (the password is then whatever it was set to).
    pub async fn seed_demo_owner(&self, password: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
        domain::staff::check_password(password, DEMO_OWNER_EMAIL).map_err(StoreError::Rule)?;
        let hash = crate::staff::hash_password(password.to_owned()).await?;
        with_pool!(self, pool => {
            let mut tx = self.write_tx(pool, &[]).await?;
            let clinic: Option<(i64,)> = sqlx::query_as("SELECT id FROM clinics WHERE slug = $1")
                .bind(DEMO_SLUG).fetch_optional(&mut *tx).await?;
            let (clinic_id,) = clinic.ok_or(StoreError::NotFound("clinic"))?;
            let exists: Option<(i64,)> = sqlx::query_as("SELECT id FROM staff_users WHERE email = $1")
                .bind(DEMO_OWNER_EMAIL).fetch_optional(&mut *tx).await?;
            if exists.is_some() {
                return Ok(false);
            }
            sqlx::query(
                "INSERT INTO staff_users (clinic_id, email, display_name, role, locale, password_hash, created_at)
                 VALUES ($1, $2, 'Demo Owner', 'owner', 'en', $3, $4)",
            )
            .bind(clinic_id).bind(DEMO_OWNER_EMAIL).bind(&hash).bind(db_time(pool, now))
            .execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(true)
        })
    }
}
