//! The patient's own time zone, when it differs from the clinic's. Only the browser knows it,
//! so the server renders nothing and the hydrated page adds the note.

use crate::i18n::{Locale, Msg};
use leptos::prelude::*;

/// An island: only the browser knows its zone.
#[island]
pub fn YourZone(clinic_zone: String, locale: Locale) -> impl IntoView {
    let zone = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(mine) = browser_zone() {
            if mine != clinic_zone {
                zone.set(mine);
            }
        }
    });
    move || {
        let mine = zone.get();
        (!mine.is_empty()).then(|| view! { <span data-testid="your-zone">" · " {locale.t(Msg::YourZone)} " " {mine}</span> })
    }
}

#[cfg(feature = "hydrate")]
fn browser_zone() -> Option<String> {
    let format = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new());
    js_sys::Reflect::get(&format.resolved_options(), &"timeZone".into()).ok()?.as_string()
}

#[cfg(not(feature = "hydrate"))]
fn browser_zone() -> Option<String> {
    None
}
