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

fn mac(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length")
}

/// The key bytes of a `whsec_...` secret.
pub fn parse_secret(secret: &str) -> Result<Vec<u8>, DomainError> {
    let encoded = secret
        .strip_prefix(SECRET_PREFIX)
        .ok_or_else(|| DomainError::invalid("secret", format!("must start with {SECRET_PREFIX}")))?;
    let key = STANDARD.decode(encoded).map_err(|_| DomainError::invalid("secret", "is not base64 after the prefix"))?;
    if key.len() < 24 {
        return Err(DomainError::invalid("secret", "must hold at least 24 random bytes"));
    }
    Ok(key)
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
        let key = parse_secret(SECRET).unwrap();
        assert_eq!(standard_signature(&key, ID, TIMESTAMP, BODY), SIGNATURE);
    }

    #[test]
    fn receivers_accept_the_vector_and_refuse_tampering_and_replay() {
        let key = parse_secret(SECRET).unwrap();
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
    fn malformed_secrets_are_refused() {
        for bad in ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_!!!", "whsec_c2hvcnQ="] {
            assert!(parse_secret(bad).is_err(), "{bad}");
        }
    }
}
