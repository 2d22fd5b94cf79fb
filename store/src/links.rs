//! Manage links: what lets a patient without an account view, reschedule or cancel one
//! appointment. The token names the appointment, the patient it was issued to and an expiry,
//! and carries an HMAC-SHA256 over them with a server secret, so it can be neither guessed
//! nor altered. It stops working after the appointment (expiry), and as soon as the
//! appointment belongs to another patient (the booker no longer matches).

use crate::widget::AppointmentView;
use crate::{Store, StoreError};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// How long after the appointment's end its link keeps working (to see what happened).
pub const LINK_GRACE: Duration = Duration::days(1);
/// Links before key ids: the payload and its MAC, keyed with `KeyMaterial::legacy`.
const CONTEXT_V1: &[u8] = b"booking manage link v1";
const CONTEXT_V2: &[u8] = b"booking manage link v2";
const VERSION: u8 = 2;
const ID_LEN: usize = 4;
const PAYLOAD_LEN: usize = 24;
const MAC_LEN: usize = 32;
/// The least an operator's key may carry.
pub const MIN_SECRET_BYTES: usize = 32;

/// One key: its id (which a link names, so that keys can be rotated), its secret, and the
/// key links issued before ids existed were signed with.
#[derive(Clone)]
struct KeyMaterial {
    id: [u8; ID_LEN],
    secret: Vec<u8>,
    legacy: [u8; 32],
}

impl KeyMaterial {
    fn new(secret: Vec<u8>, legacy: [u8; 32]) -> Self {
        let digest = Sha256::new().chain_update(b"booking link key id").chain_update(&secret).finalize();
        let id = digest[..ID_LEN].try_into().expect("4 bytes");
        KeyMaterial { id, secret, legacy }
    }

    fn mac_v2(&self) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret).expect("HMAC takes keys of any length");
        mac.update(CONTEXT_V2);
        mac.update(&[VERSION]);
        mac.update(&self.id);
        mac
    }

    fn mac_v1(&self) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.legacy).expect("HMAC takes keys of any length");
        mac.update(CONTEXT_V1);
        mac
    }
}

/// The keys that sign manage links: the first signs, every one verifies, so a new key can be
/// put first while links signed with the old one keep working until they expire. Every
/// server instance must hold the same keys.
#[derive(Clone)]
pub struct LinkKey(Vec<KeyMaterial>);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let ids: Vec<String> = self.0.iter().map(|k| hex::encode(k.id)).collect();
        write!(f, "LinkKey(ids {})", ids.join(","))
    }
}

/// Why `BOOKING_LINK_SECRET` was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkKeyError {
    #[error("key {0} is not {MIN_SECRET_BYTES} or more random bytes in hex or base64 (make one with `openssl rand -base64 32`)")]
    Weak(usize),
}

/// The bytes of a key written in hex or base64 (standard or URL-safe, padded or not).
fn decode_secret(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
    if text.len() % 2 == 0 && text.bytes().all(|b| b.is_ascii_hexdigit()) {
        return hex::decode(text).ok();
    }
    [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD].iter().find_map(|engine| engine.decode(text).ok())
}

impl LinkKey {
    /// The database's generated key (`Store::server_secret`): links before key ids were
    /// signed with these same bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(vec![KeyMaterial::new(bytes.to_vec(), bytes)])
    }

    /// A key from a phrase, for tests: its SHA-256.
    pub fn from_passphrase(passphrase: &str) -> Self {
        let digest: [u8; 32] = Sha256::digest(passphrase.as_bytes()).into();
        Self(vec![KeyMaterial::new(digest.to_vec(), digest)])
    }

    /// `BOOKING_LINK_SECRET`: one or more comma-separated keys of at least 32 random bytes
    /// each, in hex or base64; the first signs. Links signed before key ids existed verify
    /// with the SHA-256 of a key's text, as they were signed then.
    pub fn from_config(raw: &str) -> Result<Self, LinkKeyError> {
        let mut keys = Vec::new();
        for (n, text) in raw.split(',').map(str::trim).enumerate() {
            let secret = decode_secret(text).filter(|b| b.len() >= MIN_SECRET_BYTES).ok_or(LinkKeyError::Weak(n + 1))?;
            keys.push(KeyMaterial::new(secret, Sha256::digest(text.as_bytes()).into()));
        }
        Ok(Self(keys))
    }

    /// The id of the key that signs, in hex (for the operator's log).
    pub fn signing_id(&self) -> String {
        hex::encode(self.0[0].id)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkClaims {
    pub appointment_id: i64,
    pub patient_id: i64,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// Not a token we issued, altered, or revoked (the appointment changed hands).
    #[error("this link is not valid")]
    Invalid,
    #[error("this link has expired")]
    Expired,
}

fn payload(claims: &LinkClaims) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(PAYLOAD_LEN);
    bytes.extend_from_slice(&claims.appointment_id.to_be_bytes());
    bytes.extend_from_slice(&claims.patient_id.to_be_bytes());
    bytes.extend_from_slice(&claims.expires_at.timestamp().to_be_bytes());
    bytes
}

/// A link token: the version, the signing key's id, the claims and their MAC.
pub fn sign(key: &LinkKey, claims: &LinkClaims) -> String {
    let signing = &key.0[0];
    let payload = payload(claims);
    let mut mac = signing.mac_v2();
    mac.update(&payload);
    let mut bytes = Vec::with_capacity(1 + ID_LEN + PAYLOAD_LEN + MAC_LEN);
    bytes.push(VERSION);
    bytes.extend_from_slice(&signing.id);
    bytes.extend_from_slice(&payload);
    bytes.extend_from_slice(&mac.finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks the signature (in constant time) before reading anything, then the expiry.
pub fn verify(key: &LinkKey, token: &str, now: DateTime<Utc>) -> Result<LinkClaims, LinkError> {
    if token.len() > 128 {
        return Err(LinkError::Invalid);
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| LinkError::Invalid)?;
    let payload = match bytes.len() {
        n if n == 1 + ID_LEN + PAYLOAD_LEN + MAC_LEN && bytes[0] == VERSION => {
            let (id, rest) = bytes[1..].split_at(ID_LEN);
            let (payload, tag) = rest.split_at(PAYLOAD_LEN);
            let signing = key.0.iter().find(|k| k.id == id).ok_or(LinkError::Invalid)?;
            let mut mac = signing.mac_v2();
            mac.update(payload);
            mac.verify_slice(tag).map_err(|_| LinkError::Invalid)?;
            payload
        }
        // Issued before key ids: any of the keys may have signed it.
        n if n == PAYLOAD_LEN + MAC_LEN => {
            let (payload, tag) = bytes.split_at(PAYLOAD_LEN);
            let genuine = key.0.iter().any(|k| {
                let mut mac = k.mac_v1();
                mac.update(payload);
                mac.verify_slice(tag).is_ok()
            });
            if !genuine {
                return Err(LinkError::Invalid);
            }
            payload
        }
        _ => return Err(LinkError::Invalid),
    };
    let word = |i: usize| i64::from_be_bytes(payload[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    let expires_at = DateTime::from_timestamp(word(2), 0).ok_or(LinkError::Invalid)?;
    if now >= expires_at {
        return Err(LinkError::Expired);
    }
    Ok(LinkClaims { appointment_id: word(0), patient_id: word(1), expires_at })
}

#[derive(Debug, thiserror::Error)]
pub enum OpenLinkError {
    #[error(transparent)]
    Link(#[from] LinkError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// A manage link for the appointment's booker, valid until a day after it ends.
    pub async fn issue_manage_link(&self, key: &LinkKey, appointment_id: i64) -> Result<String, StoreError> {
        let view = self.appointment_view(appointment_id).await?;
        let patient_id = view.booker_id.ok_or(StoreError::NotFound("booker"))?;
        Ok(sign(key, &LinkClaims { appointment_id, patient_id, expires_at: view.end + LINK_GRACE }))
    }

    /// The appointment a manage link opens, if the link is genuine, unexpired and its
    /// appointment still belongs to the patient it was issued to.
    pub async fn open_manage_link(
        &self,
        key: &LinkKey,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<AppointmentView, OpenLinkError> {
        let claims = verify(key, token, now)?;
        let view = match self.appointment_view(claims.appointment_id).await {
            Err(StoreError::NotFound(_)) => return Err(LinkError::Invalid.into()),
            other => other?,
        };
        if view.booker_id != Some(claims.patient_id) {
            return Err(LinkError::Invalid.into());
        }
        Ok(view)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn claims() -> LinkClaims {
        LinkClaims { appointment_id: 42, patient_id: 7, expires_at: Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap() }
    }

    fn before_expiry() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()
    }

    /// A link as issued before key ids, keyed with the SHA-256 of the operator's text.
    fn sign_v1(legacy: &str, claims: &LinkClaims) -> String {
        let key: [u8; 32] = Sha256::digest(legacy.as_bytes()).into();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).unwrap();
        mac.update(CONTEXT_V1);
        let mut bytes = payload(claims);
        mac.update(&bytes);
        bytes.extend_from_slice(&mac.finalize().into_bytes());
        URL_SAFE_NO_PAD.encode(bytes)
    }

    const OLD: &str = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs=";
    const NEW: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

    #[test]
    fn a_rotated_key_signs_new_links_while_the_old_ones_work_until_the_old_key_is_dropped() {
        let old = LinkKey::from_config(OLD).unwrap();
        let rotated = LinkKey::from_config(&format!("{NEW}, {OLD}")).unwrap();
        let before = sign(&old, &claims());
        let after = sign(&rotated, &claims());
        assert_eq!(verify(&rotated, &before, before_expiry()), Ok(claims()), "an old link keeps working");
        assert_eq!(verify(&rotated, &after, before_expiry()), Ok(claims()));
        assert_eq!(verify(&old, &after, before_expiry()), Err(LinkError::Invalid), "the old key alone does not know the new");
        let dropped = LinkKey::from_config(NEW).unwrap();
        assert_eq!(verify(&dropped, &before, before_expiry()), Err(LinkError::Invalid), "dropping a key ends its links");
        assert_ne!(old.signing_id(), rotated.signing_id());
        // Links from before key ids verify with the key whose text signed them.
        let legacy = sign_v1(OLD, &claims());
        assert_eq!(verify(&rotated, &legacy, before_expiry()), Ok(claims()));
        assert_eq!(verify(&dropped, &legacy, before_expiry()), Err(LinkError::Invalid));
        let generated = [7u8; 32];
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&generated).unwrap();
        mac.update(CONTEXT_V1);
        let mut bytes = payload(&claims());
        mac.update(&bytes);
        bytes.extend_from_slice(&mac.finalize().into_bytes());
        assert_eq!(verify(&LinkKey::from_bytes(generated), &URL_SAFE_NO_PAD.encode(bytes), before_expiry()), Ok(claims()), "the generated key's old links");
    }

    #[test]
    fn a_key_of_fewer_than_32_random_bytes_is_refused() {
        for weak in ["", "a passphrase of some length that is long", "correct horse battery staple", &"ab".repeat(31), "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZ"] {
            assert_eq!(LinkKey::from_config(weak).unwrap_err(), LinkKeyError::Weak(1), "{weak:?}");
        }
        assert_eq!(LinkKey::from_config(&format!("{NEW},short")).unwrap_err(), LinkKeyError::Weak(2));
        assert_eq!(LinkKey::from_config(&format!("{NEW},")).unwrap_err(), LinkKeyError::Weak(2));
        let url_safe = "3q2-7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs";
        assert!(LinkKey::from_config(url_safe).is_ok());
    }

    #[test]
    fn a_signed_link_verifies_to_its_claims() {
        let key = LinkKey::from_passphrase("k");
        let token = sign(&key, &claims());
        assert_eq!(verify(&key, &token, before_expiry()), Ok(claims()));
        assert!(!token.contains("42"), "the token is not the appointment id in clear: {token}");
    }

    #[test]
    fn a_link_is_expired_from_its_expiry_on() {
        let key = LinkKey::from_passphrase("k");
        let token = sign(&key, &claims());
        assert_eq!(verify(&key, &token, claims().expires_at), Err(LinkError::Expired));
    }

    #[test]
    fn any_changed_character_or_another_key_makes_a_link_invalid() {
        let key = LinkKey::from_passphrase("k");
        let token = sign(&key, &claims());
        for i in 0..token.len() {
            let mut chars: Vec<char> = token.chars().collect();
            chars[i] = if chars[i] == 'A' { 'B' } else { 'A' };
            let tampered: String = chars.into_iter().collect();
            assert_eq!(verify(&key, &tampered, before_expiry()), Err(LinkError::Invalid), "position {i}");
        }
        assert_eq!(verify(&LinkKey::from_passphrase("other"), &token, before_expiry()), Err(LinkError::Invalid));
        for junk in ["", "x", "not base64 at all!", &"A".repeat(500), &token[..token.len() - 1]] {
            assert_eq!(verify(&key, junk, before_expiry()), Err(LinkError::Invalid), "{junk:?}");
        }
    }
}
