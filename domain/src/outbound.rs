//! Where the server may send webhooks. A subscription URL is chosen by whoever holds an API
//! key, so without these rules it could make the server call its own admin ports, the
//! cloud's metadata service (169.254.169.254) or hosts on the clinic's private network.
//!
//! Two checks: the URL when a subscription is made (https only, no credentials, literal
//! addresses checked at once), and every resolved address right before connecting, so a
//! name that later resolves somewhere private is refused too. Operators may trust hosts by
//! name or address (`BOOKING_WEBHOOK_ALLOW_HOSTS`); those may also use plain http.

use crate::DomainError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use url::{Host, Url};

/// Longest subscription URL accepted.
pub const MAX_URL_LEN: usize = 2048;

/// Hosts the operator trusts, written as in a URL (`localhost`, `127.0.0.1`, `[::1]` or `::1`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowHosts(Vec<String>);

impl AllowHosts {
    /// From the comma-separated environment value; blanks are ignored.
    pub fn parse(list: &str) -> AllowHosts {
        AllowHosts(
            list.split(',')
                .map(|h| h.trim().trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect(),
        )
    }

    pub fn allows(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        self.0.iter().any(|h| *h == host)
    }
}

/// Checks a subscription URL and returns it normalised.
pub fn check_url(raw: &str, allow: &AllowHosts) -> Result<Url, DomainError> {
    let bad = |reason: &str| DomainError::invalid("url", reason.to_owned());
    if raw.len() > MAX_URL_LEN {
        return Err(bad("is longer than 2048 characters"));
    }
    let url = Url::parse(raw.trim()).map_err(|e| DomainError::invalid("url", format!("is not a URL ({e})")))?;
    let host = url.host_str().ok_or_else(|| bad("has no host"))?.to_owned();
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("must not carry credentials; receivers verify the signature instead"));
    }
    if url.fragment().is_some() {
        return Err(bad("must not have a #fragment"));
    }
    let trusted = allow.allows(&host);
    match url.scheme() {
        "https" => {}
        "http" if trusted => {}
        "http" => return Err(bad("must use https (plain http only for hosts in BOOKING_WEBHOOK_ALLOW_HOSTS)")),
        _ => return Err(bad("must be an https URL")),
    }
    if !trusted {
        let literal = match url.host() {
            Some(Host::Ipv4(v4)) => Some(IpAddr::V4(v4)),
            Some(Host::Ipv6(v6)) => Some(IpAddr::V6(v6)),
            _ => None,
        };
        if let Some(reason) = literal.and_then(refused_address) {
            return Err(DomainError::invalid("url", format!("points at a {reason} address")));
        }
        if host == "localhost" || host.ends_with(".localhost") {
            return Err(bad("points at a loopback address"));
        }
    }
    Ok(url)
}

/// Why the server must not connect to `ip`, or `None` when it may.
pub fn refused_address(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => "unspecified",
        (127, _, _) => "loopback",
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => "private",
        (169, 254, _) => "link-local",
        (100, 64..=127, _) => "shared (CGNAT)",
        (192, 0, 0) => "protocol-assignment",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (224..=239, _, _) => "multicast",
        (240..=255, _, _) => "reserved or broadcast",
        _ => return None,
    })
}

fn refused_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if ip.is_unspecified() {
        return Some("unspecified");
    }
    if ip.is_loopback() {
        return Some("loopback");
    }
    // Forms that carry an IPv4 address are judged by that address: ::ffff:10.0.0.1 reaches
    // 10.0.0.1, and the log names the real reason. Covers IPv4-mapped, IPv4-compatible, NAT64
    // (64:ff9b::/96) and 6to4 (2002::/16).
    let seg = ip.segments();
    let o = ip.octets();
    let embedded = match seg {
        [0, 0, 0, 0, 0, 0xffff, _, _] | [0, 0, 0, 0, 0, 0, _, _] => Some(Ipv4Addr::new(o[12], o[13], o[14], o[15])),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(Ipv4Addr::new(o[12], o[13], o[14], o[15])),
        [0x2002, _, _, _, _, _, _, _] => Some(Ipv4Addr::new(o[2], o[3], o[4], o[5])),
        _ => None,
    };
    if let Some(why) = embedded.and_then(refused_v4) {
        return Some(why);
    }
    // No public host publishes an IPv4-mapped or IPv4-compatible address: they only arise
    // from tricks, so they are refused even around a public IPv4 address.
    match seg {
        [0, 0, 0, 0, 0, 0xffff, _, _] => return Some("IPv4-mapped"),
        [0, 0, 0, 0, 0, 0, _, _] => return Some("IPv4-compatible (deprecated)"),
        _ => {}
    }
    Some(match seg[0] {
        // Local-use NAT64 (RFC 8215) translates to whatever the operator's network chose, and
        // IPv4-translated addresses (::ffff:0:a.b.c.d) are for stateless translators: neither
        // names a public receiver.
        0x64 if seg[1] == 0xff9b && seg[2] == 1 => "local-use NAT64",
        0 if seg[1..5] == [0, 0, 0, 0xffff] && seg[5] == 0 => "IPv4-translated",
        // Teredo hides an IPv4 address behind a relay.
        0x2001 if seg[1] == 0 => "Teredo",
        s if s & 0xfe00 == 0xfc00 => "private (unique local)",
        s if s & 0xffc0 == 0xfe80 => "link-local",
        s if s & 0xffc0 == 0xfec0 => "site-local",
        s if s & 0xff00 == 0xff00 => "multicast",
        0x2001 if seg[1] == 0x0db8 => "documentation",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn internal_addresses_of_every_kind_are_refused() {
        for (addr, why) in [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("172.31.255.255", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local"),
            ("100.64.0.1", "shared (CGNAT)"),
            ("100.127.255.254", "shared (CGNAT)"),
            ("224.0.0.1", "multicast"),
            ("239.255.255.250", "multicast"),
            ("255.255.255.255", "reserved or broadcast"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fc00::1", "private (unique local)"),
            ("fd12:3456::1", "private (unique local)"),
            ("fe80::1", "link-local"),
            ("ff02::1", "multicast"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local"),
            ("::ffff:10.0.0.1", "private"),
            ("::127.0.0.1", "loopback"),
            ("64:ff9b::a9fe:a9fe", "link-local"),
            ("64:ff9b:1::808:808", "local-use NAT64"),
            ("64:ff9b:1:ffff::1", "local-use NAT64"),
            ("::ffff:0:808:808", "IPv4-translated"),
            ("::ffff:8.8.8.8", "IPv4-mapped"),
            ("::8.8.8.8", "IPv4-compatible (deprecated)"),
            ("::ffff:0:a00:1", "IPv4-translated"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
            ("2002:c0a8:0101::1", "private"),
        ] {
            assert_eq!(refused_address(ip(addr)), Some(why), "{addr}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for addr in ["93.184.216.34", "1.1.1.1", "172.32.0.1", "100.128.0.1", "169.253.1.1", "2606:4700::1111", "64:ff9b::808:808", "2002:0808:0808::1"] {
            assert_eq!(refused_address(ip(addr)), None, "{addr}");
        }
    }

    #[test]
    fn subscription_urls_must_be_https_to_public_hosts_without_credentials() {
        let none = AllowHosts::default();
        assert_eq!(check_url("https://hooks.example.org/clinic?x=1", &none).unwrap().as_str(), "https://hooks.example.org/clinic?x=1");
        for (bad, says) in [
            ("http://hooks.example.org/", "https"),
            ("ftp://hooks.example.org/", "https"),
            ("not a url", "not a URL"),
            ("https://user:pw@hooks.example.org/", "credentials"),
            ("https://hooks.example.org/#x", "fragment"),
            ("https://127.0.0.1/", "loopback"),
            ("https://169.254.169.254/latest/meta-data", "link-local"),
            ("https://[::ffff:192.168.0.1]/", "private"),
            ("https://localhost:8443/", "loopback"),
            ("https://2130706433/", "loopback"),
        ] {
            let err = check_url(bad, &none).unwrap_err().to_string();
            assert!(err.contains(says), "{bad}: {err}");
        }
        assert!(check_url(&format!("https://example.org/{}", "a".repeat(MAX_URL_LEN)), &none).is_err());
    }

    #[test]
    fn trusted_hosts_may_use_http_and_internal_addresses() {
        let allow = AllowHosts::parse(" 127.0.0.1, localhost ,[::1],");
        assert!(check_url("http://127.0.0.1:9000/hook", &allow).is_ok());
        assert!(check_url("http://localhost:9000/hook", &allow).is_ok());
        assert!(check_url("http://[::1]:9000/hook", &allow).is_ok());
        assert!(check_url("http://10.0.0.5/hook", &allow).is_err(), "only the listed hosts");
        assert!(allow.allows("LOCALHOST"));
        assert!(!AllowHosts::parse("").allows(""));
    }
}
