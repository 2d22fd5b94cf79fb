//! Opaque slot ids. A client books "the slot it was shown" by id; the id carries what is needed
//! to find and re-check that slot (provider, location, product, start, length). It is not a
//! secret and not a capability: booking by id re-validates availability, so a forged id can at
//! most ask for a time that is free anyway. Malformed ids are refused with a clear error.

use crate::DomainError;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use std::fmt;

const VERSION: &str = "s1";
/// Instants a slot may start at: 2000-01-01 to 2199-12-31, far beyond any horizon.
const EARLIEST: i64 = 946_684_800;
const LATEST: i64 = 7_258_118_400;

/// The decimal digits of `n` (with its sign), written into the end of `buf`.
fn int_digits(n: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut rest = n.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if n < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SlotId {
    pub provider_id: i64,
    pub location_id: i64,
    pub product_id: i64,
    pub start: DateTime<Utc>,
    pub minutes: u16,
}

impl SlotId {
    pub fn end(&self) -> DateTime<Utc> {
        self.start + Duration::minutes(i64::from(self.minutes))
    }

    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(40);
        self.encode_into(&mut out);
        out
    }

    /// `encode`, appended to `out`. Written without the formatting machinery or a buffer on
    /// the heap: answers carry thousands of ids.
    pub fn encode_into(&self, out: &mut String) {
        let mut raw = [0u8; 112];
        let mut len = 0;
        let mut push = |bytes: &[u8]| {
            raw[len..len + bytes.len()].copy_from_slice(bytes);
            len += bytes.len();
        };
        push(VERSION.as_bytes());
        for n in [self.provider_id, self.location_id, self.product_id, self.start.timestamp(), i64::from(self.minutes)] {
            push(b":");
            let mut digits = [0u8; 20];
            push(int_digits(n, &mut digits));
        }
        URL_SAFE_NO_PAD.encode_string(&raw[..len], out);
    }

    pub fn parse(id: &str) -> Result<Self, DomainError> {
        let bad = |why: &str| DomainError::invalid("slotId", format!("not a slot id of this server ({why})"));
        if id.is_empty() || id.len() > 128 {
            return Err(bad("length"));
        }
        let bytes = URL_SAFE_NO_PAD.decode(id).map_err(|_| bad("encoding"))?;
        let text = std::str::from_utf8(&bytes).map_err(|_| bad("encoding"))?;
        let parts: Vec<&str> = text.split(':').collect();
        let [version, provider, location, product, start, minutes] = parts[..] else {
            return Err(bad("fields"));
        };
        if version != VERSION {
            return Err(bad("version"));
        }
        let id_field = |s: &str| s.parse::<i64>().ok().filter(|n| *n > 0).ok_or_else(|| bad("ids"));
        let start: i64 = start.parse().map_err(|_| bad("start"))?;
        if !(EARLIEST..=LATEST).contains(&start) {
            return Err(bad("start"));
        }
        let minutes: u16 = minutes.parse().ok().filter(|m| (1..=1440).contains(m)).ok_or_else(|| bad("length"))?;
        Ok(Self {
            provider_id: id_field(provider)?,
            location_id: id_field(location)?,
            product_id: id_field(product)?,
            start: DateTime::from_timestamp(start, 0).ok_or_else(|| bad("start"))?,
            minutes,
        })
    }
}

impl fmt::Display for SlotId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use proptest::prelude::*;

    fn sample() -> SlotId {
        SlotId {
            provider_id: 7,
            location_id: 2,
            product_id: 31,
            start: Utc.with_ymd_and_hms(2026, 11, 23, 8, 30, 0).unwrap(),
            minutes: 45,
        }
    }

    #[test]
    fn a_slot_id_is_url_safe_and_round_trips() {
        let id = sample().encode();
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id}");
        assert_eq!(SlotId::parse(&id), Ok(sample()));
        assert_eq!(sample().end(), Utc.with_ymd_and_hms(2026, 11, 23, 9, 15, 0).unwrap());
    }

    #[test]
    fn garbage_truncated_or_tampered_ids_are_refused_with_the_field_named() {
        let good = sample().encode();
        let forged_version = URL_SAFE_NO_PAD.encode("s9:7:2:31:1795422600:45");
        let zero_length = URL_SAFE_NO_PAD.encode("s1:7:2:31:1795422600:0");
        let negative_id = URL_SAFE_NO_PAD.encode("s1:-7:2:31:1795422600:45");
        let ancient = URL_SAFE_NO_PAD.encode("s1:7:2:31:0:45");
        let extra = URL_SAFE_NO_PAD.encode("s1:7:2:31:1795422600:45:9");
        for bad in ["", "not base64!", &good[..good.len() - 3], &forged_version, &zero_length, &negative_id, &ancient, &extra, &"A".repeat(200)] {
            match SlotId::parse(bad) {
                Err(DomainError::Invalid { field: "slotId", .. }) => {}
                other => panic!("{bad:?} gave {other:?}"),
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]

        #[test]
        fn any_string_parses_or_is_refused_without_panicking(s in ".{0,200}") {
            let _ = SlotId::parse(&s);
        }

        #[test]
        fn every_valid_slot_round_trips(p in 1i64..i64::MAX, l in 1i64..1_000_000, prod in 1i64..1_000_000,
                                        start in EARLIEST..LATEST, minutes in 1u16..=1440) {
            let id = SlotId { provider_id: p, location_id: l, product_id: prod,
                              start: DateTime::from_timestamp(start, 0).unwrap(), minutes };
            prop_assert_eq!(SlotId::parse(&id.encode()), Ok(id));
            // Ids handed out before stay the ids of the same slots.
            prop_assert_eq!(id.encode(), URL_SAFE_NO_PAD.encode(format!("s1:{p}:{l}:{prod}:{start}:{minutes}")));
        }
    }
}
