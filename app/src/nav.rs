//! Links inside the widget. Every link and form carries the language and the embedding origin,
//! so a patient who started in German inside a clinic's page stays there to the end.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

/// What every page passes on to the next.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Carry {
    pub lang: Option<String>,
    pub embed: Option<String>,
}

impl Carry {
    /// Reads `lang` and `embed` from the current URL (tracked, inside a reactive scope).
    pub fn from_query() -> Self {
        let query = use_query_map();
        let q = query.read();
        let clean = |v: Option<String>| v.filter(|s| !s.is_empty());
        Carry { lang: clean(q.get("lang")), embed: clean(q.get("embed")) }
    }

    /// `base` with `pairs` and the carried values as its query string.
    pub fn href(&self, base: &str, pairs: &[(&str, String)]) -> String {
        // A month view makes one of these per day: no copies of the values on the way.
        let mut url = String::with_capacity(base.len() + 64);
        url.push_str(base);
        let mut sep = if base.contains('?') { '&' } else { '?' };
        let carried = [("lang", self.lang.as_deref()), ("embed", self.embed.as_deref())];
        let all = pairs.iter().map(|(k, v)| (*k, Some(v.as_str()))).chain(carried);
        for (key, value) in all {
            if let Some(value) = value.filter(|v| !v.is_empty()) {
                url.push(sep);
                url.push_str(key);
                url.push('=');
                encode_into(&mut url, value);
                sep = '&';
            }
        }
        url
    }

    /// Hidden inputs that carry the values through a form post.
    pub fn hidden_inputs(&self) -> impl IntoView {
        view! {
            <input type="hidden" name="lang" value=self.lang.clone().unwrap_or_default()/>
            <input type="hidden" name="embed" value=self.embed.clone().unwrap_or_default()/>
        }
    }
}

/// The language the URL asks for, for pages that failed before they knew the clinic's.
pub fn query_locale() -> crate::i18n::Locale {
    Carry::from_query().lang.as_deref().and_then(crate::i18n::Locale::parse).unwrap_or_default()
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    encode_into(&mut out, raw);
    out
}

/// `encode`, appended to `out`.
fn encode_into(out: &mut String, raw: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for b in raw.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 15)] as char);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_carry_language_and_embedding_origin_encoded() {
        let carry = Carry { lang: Some("de".into()), embed: Some("https://clinic.example".into()) };
        assert_eq!(
            carry.href("/book/demo", &[("date", "2026-11-23".into()), ("provider", String::new())]),
            "/book/demo?date=2026-11-23&lang=de&embed=https%3A%2F%2Fclinic.example"
        );
        assert_eq!(Carry::default().href("/book/demo", &[]), "/book/demo");
        assert_eq!(encode("Jürgen Ä~1"), "J%C3%BCrgen%20%C3%84~1", "UTF-8 bytes, upper-case hex");
    }
}
