//! The demo clinic that `server seed-demo` creates, so that a newcomer sees real bookable
//! times right after `make run`.

use crate::booking::WriteTx;
use crate::time::db_time;
use crate::{with_pool, Store, StoreError};
use chrono::{DateTime, Datelike, Duration, NaiveTime, Utc};
use domain::zone::{instant_at, parse_zone};
use sha2::{Digest, Sha256};

pub const DEMO_SLUG: &str = "demo";
pub const DEMO_API_USER: &str = "demo";
/// The demo's voice-bot user (same key as `DEMO_API_USER`) and the phone line it answers.
pub const DEMO_VOICE_USER: &str = "demo-voice";
pub const DEMO_SIP_ID: &str = "demo-sip";
/// The demo clinic's owner, who signs in to the console at `/admin`.
pub const DEMO_OWNER_EMAIL: &str = "owner@demo.example";

pub struct DemoSeed {
    /// Existing appointments are placed on the days after this instant.
    pub now: DateTime<Utc>,
    /// The bot API key of user `demo`; only its SHA-256 is stored.
    pub api_key: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SeedOutcome {
    Created { clinic_id: i64 },
    AlreadyPresent,
}

struct DemoLocation {
    name: &'static str,
    address: &'static str,
    zone: &'static str,
}

const LOCATIONS: [DemoLocation; 2] = [
    DemoLocation { name: "Berlin Mitte", address: "Torstraße 120, 10119 Berlin", zone: "Europe/Berlin" },
    DemoLocation { name: "Singapore Orchard", address: "391 Orchard Road, Singapore 238872", zone: "Asia/Singapore" },
];

/// (name, specialty, location index, service index, weekly hours as (ISO weekday, start, end)).
type DemoProvider = (&'static str, &'static str, usize, usize, &'static [(i32, &'static str, &'static str)]);

const WEEKDAYS_WITH_LUNCH: &[(i32, &str, &str)] = &[
    (1, "08:00", "12:00"), (1, "13:00", "17:00"),
    (2, "08:00", "12:00"), (2, "13:00", "17:00"),
    (3, "08:00", "12:00"), (3, "13:00", "17:00"),
    (4, "08:00", "12:00"), (4, "13:00", "17:00"),
    (5, "08:00", "12:00"), (5, "13:00", "15:00"),
];
const LATE_SHIFTS_AND_SATURDAY: &[(i32, &str, &str)] = &[
    (1, "09:00", "13:00"), (2, "14:00", "19:00"), (3, "09:00", "13:00"),
    (4, "14:00", "19:00"), (5, "09:00", "13:00"), (6, "09:00", "12:00"),
];
const SINGAPORE_DAYS: &[(i32, &str, &str)] = &[
    (1, "09:00", "12:30"), (1, "14:00", "18:00"),
    (2, "09:00", "12:30"), (2, "14:00", "18:00"),
    (3, "09:00", "12:30"), (4, "09:00", "12:30"), (4, "14:00", "18:00"),
    (5, "09:00", "12:30"), (6, "09:00", "12:00"),
];

/// Services: (name, [(product name, minutes, minutes for new patients, buffer after, price in cents)]).
type DemoService = (&'static str, &'static [(&'static str, i32, Option<i32>, i32, i64)]);

const SERVICES: [DemoService; 2] = [
    ("General consultation", &[("Consultation", 30, Some(45), 0, 0)]),
    ("Physiotherapy", &[("Physiotherapy 30 min", 30, None, 10, 4500), ("Physiotherapy 45 min", 45, None, 10, 6500)]),
];

/// (name, specialty, location index, service index, weekly hours).
const PROVIDERS: [DemoProvider; 6] = [
    ("Dr. Anna Weber", "General practice", 0, 0, WEEKDAYS_WITH_LUNCH),
    ("Jonas Keller", "Physiotherapy", 0, 1, LATE_SHIFTS_AND_SATURDAY),
    ("Dr. Lukas Braun", "General practice", 0, 0, LATE_SHIFTS_AND_SATURDAY),
    ("Sophie Wagner", "Physiotherapy", 0, 1, WEEKDAYS_WITH_LUNCH),
    ("Dr. Mei Lin Tan", "General practice", 1, 0, SINGAPORE_DAYS),
    ("Dr. Arjun Rao", "General practice", 1, 0, SINGAPORE_DAYS),
];

const PROVIDER_GENDERS: [&str; 6] = ["female", "male", "male", "female", "female", "male"];

pub fn api_key_digest(api_key: &str) -> String {
    hex::encode(Sha256::digest(api_key.as_bytes()))
}

impl Store {
    /// Creates the demo clinic unless a clinic with slug `demo` exists. All rows are written
    /// in one transaction, so an interrupted seed leaves nothing behind.
    pub async fn seed_demo(&self, seed: &DemoSeed) -> Result<SeedOutcome, StoreError> {
        let berlin = parse_zone(LOCATIONS[0].zone)?;
        with_pool!(self, pool => {
            let mut tx = WriteTx::begin_write(pool, &[]).await?;
            let existing: Option<(i64,)> = sqlx::query_as("SELECT id FROM clinics WHERE slug = $1")
                .bind(DEMO_SLUG)
                .fetch_optional(&mut *tx)
                .await?;
            if existing.is_some() {
                return Ok(SeedOutcome::AlreadyPresent);
            }
            let now = db_time(pool, seed.now);
            let (clinic_id,): (i64,) = sqlx::query_as(
                "INSERT INTO clinics (slug, name, default_locale, time_zone, created_at) VALUES ($1, $2, 'en', 'Europe/Berlin', $3) RETURNING id",
            )
            .bind(DEMO_SLUG)
            .bind("Stadtpark Health Clinic")
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;

            let mut location_ids = Vec::new();
            for l in &LOCATIONS {
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO locations (clinic_id, name, address, time_zone) VALUES ($1, $2, $3, $4) RETURNING id",
                )
                .bind(clinic_id).bind(l.name).bind(l.address).bind(l.zone)
                .fetch_one(&mut *tx)
                .await?;
                location_ids.push(id);
            }

            let mut service_ids = Vec::new();
            let mut first_products = Vec::new();
            for (name, products) in SERVICES.iter() {
                let (service_id,): (i64,) = sqlx::query_as(
                    "INSERT INTO services (clinic_id, name, duration_minutes) VALUES ($1, $2, $3) RETURNING id",
                )
                .bind(clinic_id).bind(*name).bind(products[0].1)
                .fetch_one(&mut *tx)
                .await?;
                for (i, (product, minutes, new_patient, buffer_after, price)) in products.iter().enumerate() {
                    let (product_id,): (i64,) = sqlx::query_as(
                        "INSERT INTO products (clinic_id, service_id, name, duration_minutes, new_patient_minutes,
                             buffer_after_minutes, price_cents, booker_fields, participant_fields, description)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, 'firstname,lastname,phone,email,dob', 'firstname,lastname,dob', $8)
                         RETURNING id",
                    )
                    .bind(clinic_id).bind(service_id).bind(*product).bind(*minutes).bind(*new_patient)
                    .bind(*buffer_after).bind(*price).bind(format!("{product}: {minutes} minutes"))
                    .fetch_one(&mut *tx)
                    .await?;
                    if i == 0 {
                        first_products.push(product_id);
                    }
                }
                service_ids.push(service_id);
            }

            let mut provider_ids = Vec::new();
            for (n, (name, specialty, location, service, hours)) in PROVIDERS.iter().enumerate() {
                // Voice bots say the title apart and choose pronouns by gender.
                let title = if name.starts_with("Dr. ") { "Dr." } else { "" };
                let (id,): (i64,) = sqlx::query_as(
                    "INSERT INTO providers (clinic_id, display_name, specialty, title, gender) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(clinic_id).bind(*name).bind(*specialty).bind(title).bind(PROVIDER_GENDERS[n])
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO provider_services (provider_id, service_id) VALUES ($1, $2)")
                    .bind(id).bind(service_ids[*service])
                    .execute(&mut *tx)
                    .await?;
                for (weekday, start, end) in hours.iter() {
                    sqlx::query(
                        "INSERT INTO working_hours (provider_id, location_id, weekday, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(id).bind(location_ids[*location]).bind(*weekday).bind(*start).bind(*end)
                    .execute(&mut *tx)
                    .await?;
                }
                provider_ids.push(id);
            }

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
                .bind(provider_ids[0]).bind(db_time(pool, block_start)).bind(db_time(pool, block_start + Duration::hours(3)))
                .execute(&mut *tx)
                .await?;
            sqlx::query("INSERT INTO schedule_exceptions (provider_id, on_date, kind) VALUES ($1, $2, 'closed')")
                .bind(provider_ids[1]).bind(today + Duration::days(5))
                .execute(&mut *tx)
                .await?;
            let sunday = today + Duration::days(i64::from(7 - today.weekday().num_days_from_sunday()));
            sqlx::query("INSERT INTO schedule_exceptions (provider_id, on_date, kind, starts_at, ends_at) VALUES ($1, $2, 'extra', '09:00', '12:00')")
                .bind(provider_ids[2]).bind(sunday)
                .execute(&mut *tx)
                .await?;

            // A few booked appointments at Berlin Mitte on each of the next days, at times that
            // differ from day to day, so that the booking page shows a realistic, uneven week.
            for day in 1..=10_i64 {
                let date = today + Duration::days(day);
                for (provider, local_start) in demo_appointment_times(day) {
                    let start = instant_at(berlin, date.and_time(local_start));
                    let end = start + Duration::minutes(30);
                    sqlx::query(
                        "INSERT INTO appointments (clinic_id, location_id, provider_id, service_id, product_id, starts_at, ends_at,
                             time_zone, local_date, status, source, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'booked', 'staff', $10)",
                    )
                    .bind(clinic_id).bind(location_ids[0]).bind(provider_ids[provider]).bind(service_ids[PROVIDERS[provider].3])
                    .bind(first_products[PROVIDERS[provider].3])
                    .bind(db_time(pool, start)).bind(db_time(pool, end)).bind(berlin.name()).bind(date).bind(now)
                    .execute(&mut *tx)
                    .await?;
                }
            }

            // The bot user, and the voice-bot integration that answers the demo clinic's line
            // `demo-sip`, share one key.
            let prefix: String = seed.api_key.chars().take(7).collect();
            let mut voice_id = 0;
            for (username, voice) in [(DEMO_API_USER, false), (DEMO_VOICE_USER, true)] {
                let (credential_id,): (i64,) = sqlx::query_as(
                    "INSERT INTO api_credentials (clinic_id, username, kind, voice, created_at) VALUES ($1, $2, 'bot', $3, $4) RETURNING id",
                )
                .bind(clinic_id).bind(username).bind(voice).bind(now)
                .fetch_one(&mut *tx)
                .await?;
                sqlx::query("INSERT INTO api_keys (credential_id, key_prefix, key_sha256, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(credential_id).bind(&prefix).bind(api_key_digest(&seed.api_key)).bind(now)
                    .execute(&mut *tx)
                    .await?;
                if voice {
                    voice_id = credential_id;
                }
            }
            sqlx::query("INSERT INTO voice_lines (sip_id, clinic_id, credential_id, created_at) VALUES ($1, $2, $3, $4)")
                .bind(DEMO_SIP_ID).bind(clinic_id).bind(voice_id).bind(now)
                .execute(&mut *tx)
                .await?;

            tx.commit().await?;
            Ok(SeedOutcome::Created { clinic_id })
        })
    }
}

/// (provider index, local start) of the demo appointments on the `n`th day ahead.
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
            let mut tx = WriteTx::begin_write(pool, &[]).await?;
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
