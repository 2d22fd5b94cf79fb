//! How webhook deliveries are signed, so receivers can tell them from forgeries and replays.
//! Two schemes at once, over the exact bytes sent:
//! - the chat-bot vendor's `X-Webhook-Signature: sha256=<hex HMAC-SHA256 of the body>`;
//! - Standard Webhooks: `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`,
//!   with `webhook-id` and `webhook-timestamp` inside the signed text against replay.

use crate::DomainError;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Standard Webhooks secrets are written `whsec_` + base64 of the key bytes.
pub const SECRET_PREFIX: &str = "whsec_";
/// A subscriber's own secret holds at least this many characters.
pub const MIN_SECRET_CHARS: usize = 16;
/// And at most this many bytes.
pub const MAX_SECRET_BYTES: usize = 512;

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The two HMAC keys one subscription secret yields. A bot vendor exchanges "a shared secret"
/// and verifies `X-Webhook-Signature` with that secret's bytes, as such receivers are written;
/// Standard Webhooks libraries decode a `whsec_` secret and key with the decoded bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKeys {
    /// The secret's UTF-8 bytes, exactly as given (a `whsec_` prefix included).
    pub vendor: Vec<u8>,
    /// The base64-decoded part of a `whsec_` secret; the UTF-8 bytes of any other secret.
    pub standard: Vec<u8>,
}

impl std::fmt::Debug for SigningKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SigningKeys(..)")
    }
}

impl SigningKeys {
    /// Checks a subscriber's secret and derives its keys. Any printable text of at least
    /// `MIN_SECRET_CHARS` characters is taken as given; one that claims the Standard Webhooks
    /// form by its prefix must be in it, so that their libraries can verify.
    pub fn from_secret(secret: &str) -> Result<SigningKeys, DomainError> {
        if secret.chars().count() < MIN_SECRET_CHARS {
            return Err(DomainError::invalid("secret", format!("must hold at least {MIN_SECRET_CHARS} characters")));
        }
        if secret.len() > MAX_SECRET_BYTES {
            return Err(DomainError::invalid("secret", format!("must hold at most {MAX_SECRET_BYTES} bytes")));
        }
        if secret.chars().any(char::is_control) {
            return Err(DomainError::invalid("secret", "must not hold control characters such as line breaks"));
        }
        let standard = match secret.strip_prefix(SECRET_PREFIX) {
            Some(encoded) => {
                let key = STANDARD
                    .decode(encoded)
                    .map_err(|_| DomainError::invalid("secret", format!("starts with {SECRET_PREFIX} but is not base64 after it")))?;
                if key.len() < 24 {
                    return Err(DomainError::invalid("secret", format!("a {SECRET_PREFIX} secret must hold at least 24 random bytes")));
                }
                key
            }
            None => secret.as_bytes().to_vec(),
        };
        Ok(SigningKeys { vendor: secret.as_bytes().to_vec(), standard })
    }
}

/// The `X-Webhook-Signature` value: `sha256=` and the hex HMAC-SHA256 of the body.
pub fn body_signature(key: &[u8], body: &[u8]) -> String {
    let mut m = mac(key);
    m.update(body);
    format!("sha256={}", hex::encode(m.finalize().into_bytes()))
}

/// The HMAC over `id.timestamp.body`, what Standard Webhooks signs.
fn standard_mac(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut m = mac(key);
    m.update(id.as_bytes());
    m.update(b".");
    m.update(timestamp.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m
}

/// The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of `id.timestamp.body`.
pub fn standard_signature(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    format!("v1,{}", STANDARD.encode(standard_mac(key, id, timestamp, body).finalize().into_bytes()))
}

/// What a receiver checks: one of the space-separated `v1,` signatures matches (in constant
/// time) and the timestamp is within `tolerance_secs` of `now`.
pub fn verify_standard(key: &[u8], id: &str, timestamp: i64, body: &[u8], header: &str, now: i64, tolerance_secs: i64) -> bool {
    if (now - timestamp).abs() > tolerance_secs {
        return false;
    }
    header.split(' ').filter_map(|s| s.strip_prefix("v1,")).any(|candidate| {
        let Ok(given) = STANDARD.decode(candidate) else { return false };
        standard_mac(key, id, timestamp, body).verify_slice(&given).is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // The test vector published with the Standard Webhooks specification.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TIMESTAMP: i64 = 1_614_265_330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIGNATURE: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";

    #[test]
    fn standard_signatures_reproduce_the_specifications_test_vector() {
        let key = SigningKeys::from_secret(SECRET).unwrap().standard;
        assert_eq!(standard_signature(&key, ID, TIMESTAMP, BODY), SIGNATURE);
    }

    #[test]
    fn receivers_accept_the_vector_and_refuse_tampering_and_replay() {
        let key = SigningKeys::from_secret(SECRET).unwrap().standard;
        assert!(verify_standard(&key, ID, TIMESTAMP, BODY, SIGNATURE, TIMESTAMP + 10, 300));
        assert!(verify_standard(&key, ID, TIMESTAMP, BODY, &format!("v1,bm90IGl0 {SIGNATURE}"), TIMESTAMP, 300), "any listed signature");
        assert!(!verify_standard(&key, ID, TIMESTAMP, br#"{"test": 2432232315}"#, SIGNATURE, TIMESTAMP, 300), "altered body");
        assert!(!verify_standard(&key, "msg_other", TIMESTAMP, BODY, SIGNATURE, TIMESTAMP, 300), "another id");
        assert!(!verify_standard(&key, ID, TIMESTAMP, BODY, SIGNATURE, TIMESTAMP + 301, 300), "too old: a replay");
        assert!(!verify_standard(&key, ID, TIMESTAMP, BODY, "v2,whatever", TIMESTAMP, 300));
    }

    #[test]
    fn the_vendor_signature_is_the_hex_hmac_of_the_body() {
        // Reference value from an independent HMAC-SHA256 implementation.
        assert_eq!(
            body_signature(b"clinic secret", br#"{"id":"evt_1"}"#),
            "sha256=ef41adfb3fb855cea76844047dfd16a0b656ed7d7bcb9e50c5dec582dcb6e592"
        );
    }

    #[test]
    fn a_vendors_own_secret_is_taken_as_given_and_keys_both_schemes_with_its_bytes() {
        let keys = SigningKeys::from_secret("my shared secret: 42!").unwrap();
        assert_eq!(keys.vendor, b"my shared secret: 42!");
        assert_eq!(keys.standard, b"my shared secret: 42!");
        assert!(SigningKeys::from_secret("Grüße-aus-Köln-1234").is_ok(), "any printable text");
    }

    #[test]
    fn a_whsec_secret_keys_the_vendor_scheme_with_its_text_and_standard_webhooks_with_its_decoded_bytes() {
        let keys = SigningKeys::from_secret(SECRET).unwrap();
        assert_eq!(keys.vendor, SECRET.as_bytes());
        assert_eq!(keys.standard, STANDARD.decode(&SECRET[SECRET_PREFIX.len()..]).unwrap());
    }

    #[test]
    fn short_malformed_or_control_character_secrets_are_refused() {
        let long = "x".repeat(MAX_SECRET_BYTES + 1);
        for bad in ["too short", "whsec_!!!not-base64!!!", "whsec_c2hvcnRfc2hvcnRfc2hvcnQ=", "a secret with\na line break", long.as_str()] {
            assert!(SigningKeys::from_secret(bad).is_err(), "{bad}");
        }
    }
}
