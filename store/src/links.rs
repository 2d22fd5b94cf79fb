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
const CONTEXT: &[u8] = b"booking manage link v1";
const PAYLOAD_LEN: usize = 24;
const MAC_LEN: usize = 32;

/// The key that signs manage links. Every server instance must use the same one.
#[derive(Clone)]
pub struct LinkKey([u8; 32]);

impl std::fmt::Debug for LinkKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LinkKey(..)")
    }
}

impl LinkKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A key from an operator's passphrase (`BOOKING_LINK_SECRET`): its SHA-256.
    pub fn from_passphrase(passphrase: &str) -> Self {
        Self(Sha256::digest(passphrase.as_bytes()).into())
    }

    fn mac(&self) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(CONTEXT);
        mac
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

pub fn sign(key: &LinkKey, claims: &LinkClaims) -> String {
    let mut bytes = Vec::with_capacity(PAYLOAD_LEN + MAC_LEN);
    bytes.extend_from_slice(&claims.appointment_id.to_be_bytes());
    bytes.extend_from_slice(&claims.patient_id.to_be_bytes());
    bytes.extend_from_slice(&claims.expires_at.timestamp().to_be_bytes());
    let mut mac = key.mac();
    mac.update(&bytes);
    bytes.extend_from_slice(&mac.finalize().into_bytes());
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Checks the signature (in constant time) before reading anything, then the expiry.
pub fn verify(key: &LinkKey, token: &str, now: DateTime<Utc>) -> Result<LinkClaims, LinkError> {
    if token.len() > 128 {
        return Err(LinkError::Invalid);
    }
    let bytes = URL_SAFE_NO_PAD.decode(token).map_err(|_| LinkError::Invalid)?;
    if bytes.len() != PAYLOAD_LEN + MAC_LEN {
        return Err(LinkError::Invalid);
    }
    let (payload, tag) = bytes.split_at(PAYLOAD_LEN);
    let mut mac = key.mac();
    mac.update(payload);
    mac.verify_slice(tag).map_err(|_| LinkError::Invalid)?;
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
