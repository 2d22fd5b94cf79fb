use crate::api::ApiOptions;
use domain::outbound::AllowHosts;
use leptos::prelude::LeptosOptions;
use store::Clock;
use thiserror::Error;

pub const DEFAULT_API_RATE_LIMIT: u32 = 600;
pub const DEFAULT_WEBHOOK_LEASE_SECONDS: u32 = 30;
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/booking.db?mode=rwc";

/// Everything the server reads from its environment, read once at start-up.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub leptos: LeptosOptions,
    /// `BOOKING_LINK_SECRET`: the keys that sign manage links (comma-separated, 32+ random
    /// bytes each in hex or base64; the first signs, all verify). Without it, a random key is
    /// generated once and kept in the database, shared by every instance.
    pub link_secret: Option<store::links::LinkKey>,
    /// `BOOKING_API_RATE_LIMIT`: bot API requests a minute per facility (and per server
    /// instance), also the burst allowed at once. Default 600.
    pub api_requests_per_minute: u32,
    /// `BOOKING_WEBHOOK_ALLOW_HOSTS`: comma-separated hosts (names or addresses) that webhook
    /// URLs may point at although they are internal, and over plain http. Empty by default.
    pub webhook_allow_hosts: AllowHosts,
    /// `BOOKING_WEBHOOK_LEASE_SECONDS`: how long a claimed delivery attempt stays with one
    /// worker before another may take it over (the worker died). Default 30; at least 11,
    /// so that it outlasts the 10-second attempt timeout.
    pub webhook_lease_seconds: u32,
    /// `BOOKING_PUBLIC_URL`: the origin people reach this server at (e.g.
    /// https://booking.example-clinic.de), for links printed by commands. Defaults to
    /// http://LEPTOS_SITE_ADDR.
    pub public_url: Option<String>,
    /// `BOOKING_CLIENT_IP_HEADER`: behind a reverse proxy, the header it reports the client's
    /// address in (e.g. `X-Forwarded-For`, whose last entry is then taken). Set it only when
    /// every request passes that proxy: anyone can send the header.
    pub client_ip_header: Option<axum::http::HeaderName>,
    /// `BOOKING_PAGE_CACHE_MS`: how long a rendered booking page may be served again to the
    /// next patient asking for the same address, unless something it shows changes first.
    /// Default 1000; 0 renders every request; at most 60000.
    pub page_cache: std::time::Duration,
    /// `BOOKING_SMTP_URL`: the SMTP server patient e-mails go through
    /// (`smtp://user:password@host:587?tls=required`, `smtps://...`). Without it, messages are
    /// written to `mail_dir` instead.
    pub smtp_url: Option<String>,
    /// `BOOKING_MAIL_FROM`: the From of clinics that set no sender of their own, e.g.
    /// `Praxis Nord <termine@praxis-nord.de>`. Required with `BOOKING_SMTP_URL`.
    pub mail_from: Option<String>,
    /// `BOOKING_MAIL_DIR`: where messages are written when no SMTP server is configured.
    /// Default `data/mail`.
    pub mail_dir: std::path::PathBuf,
    /// `BOOKING_METRICS_ADDR`: the address `/metrics` is served on (e.g. `127.0.0.1:9100`),
    /// apart from the public one so that only the monitoring network reaches it. Unset: no
    /// metrics are served.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// `BOOKING_RETENTION_DAYS`: how long delivered webhooks, finished outbox events, sent
    /// e-mails, idempotency keys and sign-in failures are kept. Default 30; 1 to 3650.
    pub retention_days: u32,
    /// `BOOKING_RETENTION_INTERVAL_MINUTES`: how often retention runs (also once at start).
    /// Default 60; 1 to 1440.
    pub retention_interval_minutes: u32,
}

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("invalid Leptos settings (LEPTOS_SITE_ADDR, LEPTOS_SITE_ROOT, ...): {0}")]
    Leptos(String),
    #[error("BOOKING_LINK_SECRET: {0}")]
    WeakLinkSecret(store::links::LinkKeyError),
    #[error("BOOKING_API_RATE_LIMIT must be a whole number of requests a minute, 1 or more")]
    BadRateLimit,
    #[error("BOOKING_WEBHOOK_LEASE_SECONDS must be a whole number of seconds, 11 or more")]
    BadLease,
    #[error("BOOKING_CLIENT_IP_HEADER must be a header name such as X-Forwarded-For")]
    BadClientIpHeader,
    #[error("BOOKING_PUBLIC_URL must be an origin such as https://booking.example.org: {0}")]
    BadPublicUrl(String),
    #[error("BOOKING_MAIL_FROM must name the sender of patient e-mails when BOOKING_SMTP_URL is set, e.g. Praxis Nord <termine@praxis-nord.de>")]
    NoMailFrom,
    #[error("BOOKING_MAIL_FROM: {0}")]
    BadMailFrom(String),
    #[error("{0} (e.g. smtp://user:password@mail.example.org:587?tls=required)")]
    BadSmtpUrl(String),
    #[error("BOOKING_PAGE_CACHE_MS must be a whole number of milliseconds from 0 to 60000")]
    BadPageCache,
    #[error("BOOKING_METRICS_ADDR must be an address and port such as 127.0.0.1:9100")]
    BadMetricsAddr,
    #[error("BOOKING_RETENTION_DAYS must be a whole number of days from 1 to 3650")]
    BadRetentionDays,
    #[error("BOOKING_RETENTION_INTERVAL_MINUTES must be a whole number of minutes from 1 to 1440")]
    BadRetentionInterval,
}

impl Settings {
    pub fn from_env() -> Result<Self, ConfigError> {
        let database_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
        let mut leptos = leptos::prelude::get_configuration(None)
            .map_err(|e| ConfigError::Leptos(e.to_string()))?
            .leptos_options;
        // cargo-leptos compiles the output name into the binary; a plain `cargo build` (as
        // the tests do) does not, and the page must still reference /pkg/booking.*.
        if leptos.output_name.is_empty() {
            leptos.output_name = "booking".into();
        }
        // A release build names its files by content and lists the names in a hash file next
        // to the binary; the pages must then ask for those names (the plain names are gone).
        if app::files::hash_file(&leptos).is_file() {
            leptos.hash_files = true;
        }
        let link_secret = match std::env::var("BOOKING_LINK_SECRET").ok().filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(raw) => Some(store::links::LinkKey::from_config(&raw).map_err(ConfigError::WeakLinkSecret)?),
        };
        let api_requests_per_minute = match std::env::var("BOOKING_API_RATE_LIMIT").ok().filter(|s| !s.trim().is_empty()) {
            None => DEFAULT_API_RATE_LIMIT,
            Some(raw) => raw.trim().parse::<u32>().ok().filter(|n| *n >= 1).ok_or(ConfigError::BadRateLimit)?,
        };
        let webhook_allow_hosts = AllowHosts::parse(&std::env::var("BOOKING_WEBHOOK_ALLOW_HOSTS").unwrap_or_default());
        let webhook_lease_seconds = match std::env::var("BOOKING_WEBHOOK_LEASE_SECONDS").ok().filter(|s| !s.trim().is_empty()) {
            None => DEFAULT_WEBHOOK_LEASE_SECONDS,
            Some(raw) => raw.trim().parse::<u32>().ok().filter(|n| *n >= 11).ok_or(ConfigError::BadLease)?,
        };
        let public_url = match std::env::var("BOOKING_PUBLIC_URL").ok().filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(raw) => Some(domain::clinic::parse_origin(raw.trim().trim_end_matches('/')).map_err(|e| ConfigError::BadPublicUrl(e.to_string()))?),
        };
        let client_ip_header = match std::env::var("BOOKING_CLIENT_IP_HEADER").ok().filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(raw) => Some(axum::http::HeaderName::try_from(raw.trim()).map_err(|_| ConfigError::BadClientIpHeader)?),
        };
        let page_cache = match std::env::var("BOOKING_PAGE_CACHE_MS").ok().filter(|s| !s.trim().is_empty()) {
            None => crate::pages::DEFAULT_KEEP,
            Some(raw) => std::time::Duration::from_millis(raw.trim().parse::<u64>().ok().filter(|n| *n <= 60_000).ok_or(ConfigError::BadPageCache)?),
        };
        let smtp_url = std::env::var("BOOKING_SMTP_URL").ok().map(|s| s.trim().to_owned()).filter(|s| !s.is_empty());
        let mail_from = match std::env::var("BOOKING_MAIL_FROM").ok().filter(|s| !s.trim().is_empty()) {
            None if smtp_url.is_some() => return Err(ConfigError::NoMailFrom),
            None => None,
            Some(raw) => Some(domain::notify::check_sender(&raw).map_err(|e| ConfigError::BadMailFrom(e.to_string()))?),
        };
        if let Some(url) = &smtp_url {
            crate::mail::Transport::smtp(url).map_err(ConfigError::BadSmtpUrl)?;
        }
        let mail_dir = std::env::var("BOOKING_MAIL_DIR").ok().filter(|s| !s.trim().is_empty()).unwrap_or_else(|| "data/mail".to_owned()).into();
        let metrics_addr = match std::env::var("BOOKING_METRICS_ADDR").ok().filter(|s| !s.trim().is_empty()) {
            None => None,
            Some(raw) => Some(raw.trim().parse::<std::net::SocketAddr>().map_err(|_| ConfigError::BadMetricsAddr)?),
        };
        let number = |name: &str, default: u32, range: std::ops::RangeInclusive<u32>, bad: ConfigError| match std::env::var(name).ok().filter(|s| !s.trim().is_empty()) {
            None => Ok(default),
            Some(raw) => raw.trim().parse::<u32>().ok().filter(|n| range.contains(n)).ok_or(bad),
        };
        let retention_days = number("BOOKING_RETENTION_DAYS", 30, 1..=3650, ConfigError::BadRetentionDays)?;
        let retention_interval_minutes = number("BOOKING_RETENTION_INTERVAL_MINUTES", 60, 1..=1440, ConfigError::BadRetentionInterval)?;
        Ok(Self {
            metrics_addr,
            retention_days,
            retention_interval_minutes,
            smtp_url,
            mail_from,
            mail_dir,
            database_url,
            leptos,
            link_secret,
            api_requests_per_minute,
            webhook_allow_hosts,
            webhook_lease_seconds,
            public_url,
            client_ip_header,
            page_cache,
        })
    }

    /// Where people reach this server, for printed links.
    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.leptos.site_addr))
    }

    /// Where patient e-mails go: the SMTP server, else the folder.
    pub fn mail_transport(&self) -> Result<crate::mail::Transport, String> {
        match &self.smtp_url {
            Some(url) => crate::mail::Transport::smtp(url),
            None => Ok(crate::mail::Transport::Folder(self.mail_dir.clone())),
        }
    }

    /// The From of clinics without a sender of their own.
    pub fn default_sender(&self) -> String {
        self.mail_from.clone().unwrap_or_else(|| "bookings@localhost".to_owned())
    }

    pub fn api_options(&self, clock: Clock) -> ApiOptions {
        ApiOptions {
            requests_per_minute: self.api_requests_per_minute,
            webhook_allow_hosts: self.webhook_allow_hosts.clone(),
            clock,
            client_ip_header: self.client_ip_header.clone(),
            page_cache: self.page_cache,
            ops: Default::default(),
        }
    }
}
