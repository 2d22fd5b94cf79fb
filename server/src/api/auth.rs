//! HTTP Basic authentication with a facility's user and key, then the facility's rate limit.
//! The facility found here scopes everything the handlers read or write.

use super::error::ApiError;
use super::Api;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;
use store::credentials::CredentialKind;

/// The user and key of an `Authorization: Basic` header.
fn basic_credentials(headers: &HeaderMap) -> Result<(String, String), ApiError> {
    let missing = || ApiError::unauthorized("send the facility's user id and API key with HTTP Basic authentication");
    let value = headers.get(header::AUTHORIZATION).ok_or_else(missing)?.to_str().map_err(|_| missing())?;
    let (scheme, encoded) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(missing());
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).map_err(|_| missing())?;
    let text = String::from_utf8(decoded).map_err(|_| missing())?;
    let (user, key) = text.split_once(':').ok_or_else(missing)?;
    Ok((user.to_owned(), key.to_owned()))
}

/// Lets a bot credential through, with its facility in the request's extensions.
pub async fn bot_only(State(api): State<Api>, req: Request, next: Next) -> Result<Response, ApiError> {
    admit(api, req, next, CredentialKind::Bot).await
}

/// Lets a voice credential through, with its facility in the request's extensions.
pub async fn voice_only(State(api): State<Api>, req: Request, next: Next) -> Result<Response, ApiError> {
    admit(api, req, next, CredentialKind::Voice).await
}

/// Lets a staff credential through, with its facility in the request's extensions.
pub async fn staff_only(State(api): State<Api>, req: Request, next: Next) -> Result<Response, ApiError> {
    admit(api, req, next, CredentialKind::Staff).await
}

/// Lets an admin credential through (the clinic's own systems configuring it).
pub async fn admin_only(State(api): State<Api>, req: Request, next: Next) -> Result<Response, ApiError> {
    admit(api, req, next, CredentialKind::Admin).await
}

async fn admit(api: Api, mut req: Request, next: Next, kind: CredentialKind) -> Result<Response, ApiError> {
    let address = api.failures.address(&req);
    let now = Instant::now();
    // An address that keeps failing is not even looked up: refusing it costs nothing.
    if let Some(wait) = api.failures.by_address.exhausted(&address, now) {
        return Err(ApiError::too_many_failures(wait));
    }
    let presented = basic_credentials(req.headers());
    let facility = match &presented {
        Ok((user, key)) => api.store.authenticate(user, key, api.clock.now()).await?,
        Err(_) => None,
    };
    let Some(facility) = facility else {
        // Both counted (the address's is the one that refuses before the lookup); the answer
        // is the same 401 whether the user exists or not, until one of them runs out.
        let by_address = api.failures.by_address.check(address.clone(), now);
        let by_user = match &presented {
            Ok((user, _)) => api.failures.by_user.check(user.clone(), now),
            Err(_) => Ok(()),
        };
        tracing::debug!(%address, "a failed authentication to the API");
        if let Err(wait) = by_address.and(by_user) {
            return Err(ApiError::too_many_failures(wait));
        }
        return Err(match presented {
            Err(missing) => missing,
            Ok(_) => ApiError::unauthorized("unknown user id or API key"),
        });
    };
    if facility.kind != kind {
        return Err(ApiError::unauthorized(match kind {
            CredentialKind::Bot => "the bot API needs a bot credential",
            CredentialKind::Staff => "staff actions need a staff credential",
            CredentialKind::Voice => "the voice-bot endpoint needs a voice credential",
            CredentialKind::Admin => "the admin API needs an admin credential",
        }));
    }
    api.limiter.check(facility.credential_id, Instant::now()).map_err(ApiError::rate_limited)?;
    req.extensions_mut().insert(facility);
    Ok(next.run(req).await)
}

/// Failed authentications, counted per client address and per user id named
/// (`domain::limits`), per server instance.
pub struct Failures {
    client_ip_header: Option<axum::http::HeaderName>,
    by_address: RateLimiter<String>,
    by_user: RateLimiter<String>,
}

impl Failures {
    pub fn new(client_ip_header: Option<axum::http::HeaderName>) -> Failures {
        use domain::limits::{FAILED_AUTH_PER_ADDRESS, FAILED_AUTH_PER_USER, FAILED_AUTH_REFILL_SECONDS};
        let per_minute = 60 / FAILED_AUTH_REFILL_SECONDS;
        Failures {
            client_ip_header,
            by_address: RateLimiter::with_burst(per_minute, FAILED_AUTH_PER_ADDRESS),
            by_user: RateLimiter::with_burst(per_minute, FAILED_AUTH_PER_USER),
        }
    }

    /// The client's address as the server's guard found it, else the connection's peer (the
    /// API's routes can also be served without the guard in front).
    fn address(&self, req: &Request) -> String {
        if let Some(client) = req.extensions().get::<domain::limits::WidgetClient>() {
            return client.address.clone();
        }
        crate::guard::client_address(req, self.client_ip_header.as_ref())
    }
}

/// A token bucket per key (a credential, a client's address): `per_minute` requests a minute
/// on average, up to `burst` at once. Counted per server instance.
pub struct RateLimiter<K = i64> {
    per_minute: u32,
    burst: u32,
    buckets: Mutex<HashMap<K, (f64, Instant)>>,
}

/// Keys kept before idle ones (whose bucket has refilled) are forgotten: a flood from many
/// addresses must not grow the map without bound.
const PRUNE_ABOVE: usize = 10_000;

impl<K: std::hash::Hash + Eq + Clone> RateLimiter<K> {
    pub fn new(per_minute: u32) -> Self {
        Self::with_burst(per_minute, per_minute)
    }

    pub fn with_burst(per_minute: u32, burst: u32) -> Self {
        RateLimiter { per_minute: per_minute.max(1), burst: burst.max(1), buckets: Mutex::new(HashMap::new()) }
    }

    /// In how many seconds a token will be there, if there is none now; takes nothing.
    pub fn exhausted(&self, key: &K, now: Instant) -> Option<u64> {
        let capacity = f64::from(self.burst);
        let per_second = f64::from(self.per_minute) / 60.0;
        let buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (tokens, last) = buckets.get(key)?;
        let tokens = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * per_second).min(capacity);
        (tokens < 1.0).then(|| ((1.0 - tokens) / per_second).ceil() as u64)
    }

    /// Takes one token, or says in how many seconds one will be there.
    pub fn check(&self, key: K, now: Instant) -> Result<(), u64> {
        let capacity = f64::from(self.burst);
        let per_second = f64::from(self.per_minute) / 60.0;
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if buckets.len() > PRUNE_ABOVE {
            buckets.retain(|_, (tokens, last)| *tokens + now.saturating_duration_since(*last).as_secs_f64() * per_second < capacity);
        }
        let (tokens, last) = buckets.entry(key).or_insert((capacity, now));
        *tokens = (*tokens + now.saturating_duration_since(*last).as_secs_f64() * per_second).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            Err(((1.0 - *tokens) / per_second).ceil() as u64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_smaller_burst_than_the_rate_is_kept_and_idle_keys_are_forgotten_under_a_flood() {
        let limiter: RateLimiter<String> = RateLimiter::with_burst(60, 2);
        let t0 = Instant::now();
        assert!(limiter.check("a".into(), t0).is_ok() && limiter.check("a".into(), t0).is_ok());
        assert_eq!(limiter.check("a".into(), t0), Err(1), "one token a second at 60 a minute");
        for n in 0..=PRUNE_ABOVE {
            let _ = limiter.check(format!("flood-{n}"), t0);
        }
        let _ = limiter.check("late".into(), t0 + Duration::from_secs(5));
        assert!(limiter.buckets.lock().unwrap().len() < 10, "refilled buckets are dropped");
    }

    #[test]
    fn a_facility_gets_its_burst_then_waits_for_the_next_token() {
        let limiter = RateLimiter::new(3);
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(limiter.check(1, t0).is_ok());
        }
        assert_eq!(limiter.check(1, t0), Err(20), "one token every 20 s at 3 a minute");
        assert!(limiter.check(2, t0).is_ok(), "other facilities are not affected");
        assert!(limiter.check(1, t0 + Duration::from_secs(20)).is_ok());
    }

    #[test]
    fn basic_credentials_are_read_and_anything_else_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(header::AUTHORIZATION, "Basic ZGVtbzpia19rZXk6d2l0aDpjb2xvbnM=".parse().unwrap());
        assert_eq!(basic_credentials(&headers).unwrap(), ("demo".into(), "bk_key:with:colons".into()));
        for bad in ["Bearer abc", "Basic !!!", "Basic ZGVtbw==", "Basic"] {
            headers.insert(header::AUTHORIZATION, bad.parse().unwrap());
            assert!(basic_credentials(&headers).is_err(), "{bad}");
        }
    }
}
