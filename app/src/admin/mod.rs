//! The clinic console at `/admin`: staff sign in, set the clinic up and manage who may do
//! what. Like the widget, every page is rendered in full on the server and every form is a
//! plain HTML form posting to a server function, so the console works without JavaScript.
//!
//! Every server function here that changes something checks, in this order: the request comes
//! from this site (`Origin`, `Sec-Fetch-Site`), a live session, the session's CSRF token in
//! the form, and the staff member's role. Pages check the session and the role.

pub mod account;
pub mod catalogue;
pub mod schedule;
pub mod integrations;
pub mod settings;
pub mod sign_in;
pub mod staff;
pub mod text;
pub mod webhooks;

#[cfg(feature = "ssr")]
pub mod session;

use crate::i18n::Locale;
use crate::AppError;
use leptos::prelude::*;
use leptos_meta::{Html, Title};
use serde::{Deserialize, Serialize};
use text::{t, T};

/// What every console page shows around its content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Frame {
    pub locale: Locale,
    pub clinic_name: String,
    pub clinic_slug: String,
    pub user_email: String,
    pub user_name: String,
    pub role: String,
    pub csrf: String,
    pub can_configure: bool,
    pub can_manage_staff: bool,
}

/// The console's sections, for the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Desk,
    Settings,
    Catalogue,
    Schedule,
    Staff,
    Website,
    Integrations,
    Webhooks,
    Audit,
    Account,
}

#[component]
pub fn Console(
    frame: Frame,
    section: Section,
    /// The front desk's board uses the whole width of a wide screen.
    #[prop(optional)]
    wide: bool,
    children: Children,
) -> impl IntoView {
    let locale = frame.locale;
    let links = [
        (Section::Overview, "/admin", T::Overview, true),
        (Section::Desk, "/desk", T::FrontDesk, true),
        (Section::Settings, "/admin/settings", T::Settings, frame.can_configure),
        (Section::Catalogue, "/admin/catalogue", T::Catalogue, frame.can_configure),
        (Section::Schedule, "/admin/schedule", T::Schedule, frame.can_configure),
        (Section::Website, "/admin/website", T::Website, frame.can_configure),
        (Section::Integrations, "/admin/integrations", T::Integrations, frame.can_configure),
        (Section::Webhooks, "/admin/webhooks", T::Webhooks, frame.can_configure),
        (Section::Staff, "/admin/staff", T::Staff, frame.can_manage_staff),
        (Section::Audit, "/admin/audit", T::AuditLog, frame.can_configure),
        (Section::Account, "/admin/account", T::Account, true),
    ];
    let nav = links
        .into_iter()
        .filter(|(_, _, _, shown)| *shown)
        .map(|(s, href, label, _)| {
            let current = s == section;
            let class = if current {
                "block rounded-t-md border-b-2 border-teal-700 px-3 py-2 font-semibold text-teal-900"
            } else {
                "block rounded-t-md px-3 py-2 text-slate-700 hover:bg-slate-100 hover:text-slate-900"
            };
            view! { <li><a href=href class=class aria-current=current.then_some("page")>{t(locale, label)}</a></li> }
        })
        .collect_view();
    let who = if frame.user_name.is_empty() { frame.user_email.clone() } else { frame.user_name.clone() };
    view! {
        <Html attr:lang=locale.code()/>
        <Title text=format!("{} · {}", frame.clinic_name, t(locale, T::Console))/>
        <crate::Hydrated/>
        <header class="border-b border-slate-200 bg-white">
            <div class="mx-auto flex max-w-5xl flex-wrap items-center justify-between gap-3 px-4 pt-4">
                <div>
                    <p class="text-sm uppercase tracking-wide text-slate-600">{t(locale, T::Console)}</p>
                    <p class="text-xl font-semibold" data-testid="clinic-name">{frame.clinic_name.clone()}</p>
                </div>
                <form method="post" action="/api/admin_sign_out" class="flex items-center gap-2">
                    <input type="hidden" name="csrf" value=frame.csrf.clone()/>
                    <span class="text-sm text-slate-700">{t(locale, T::SignedInAs)} " " <span data-testid="signed-in-as">{who}</span></span>
                    <button type="submit" data-testid="sign-out"
                        class="rounded-md border border-slate-400 px-3 py-1 text-sm font-medium hover:bg-slate-100">
                        {t(locale, T::SignOut)}
                    </button>
                </form>
            </div>
            <nav aria-label=t(locale, T::Console) class="mx-auto mt-2 max-w-5xl px-4">
                <ul class="flex flex-wrap gap-1">{nav}</ul>
            </nav>
        </header>
        <main class=if wide { "mx-auto max-w-screen-2xl p-4 sm:p-6" } else { "mx-auto max-w-5xl p-4 sm:p-6" }>{children()}</main>
    }
}

/// A console page: `show` renders its data once loaded; otherwise the page says why it
/// cannot be shown.
pub fn loaded<T, V>(data: Resource<Result<T, AppError>>, show: fn(T) -> V) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + for<'de> Deserialize<'de> + 'static,
    V: IntoView + 'static,
{
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(v) => show(v).into_any(),
                    Err(e) => view! { <Refused e/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// A page that could not be shown: why, and the way back.
#[component]
pub fn Refused(e: AppError) -> impl IntoView {
    let locale = crate::nav::query_locale();
    view! {
        <main class="mx-auto max-w-xl p-6">
            <crate::Problem e locale/>
            <p><a href="/admin" class="text-teal-800 underline">{t(locale, T::Console)}</a></p>
        </main>
    }
}

/// A labelled text input with its hint; the hint is tied to the input for screen readers.
#[component]
pub fn Field(
    label: &'static str,
    name: &'static str,
    value: String,
    /// The element id when it differs from the name (names like `product[price]`).
    #[prop(optional)] id: Option<&'static str>,
    #[prop(default = "text")] kind: &'static str,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
    #[prop(default = true)] required: bool,
) -> impl IntoView {
    let id = id.unwrap_or(name);
    let hint_id = format!("{id}-hint");
    view! {
        <div class="mb-4">
            <label for=id class="mb-1 block font-medium">{label}</label>
            <input id=id name=name type=kind value=value required=required autocomplete=autocomplete
                aria-describedby=hint.map(|_| hint_id.clone())
                class="w-full max-w-md rounded-md border border-slate-400 bg-white px-3 py-2"/>
            {hint.map(|h| view! { <p id=hint_id class="mt-1 text-sm text-slate-600">{h}</p> })}
        </div>
    }
}

/// A confirmation after a change, announced to screen readers.
#[component]
pub fn Notice(text: &'static str) -> impl IntoView {
    view! { <p role="status" class="mb-4 rounded-lg bg-teal-50 p-3 text-teal-900" data-testid="notice">{text}</p> }
}

/// Tables read as tables from a tablet up; on a phone each row becomes a card whose cells name
/// their column (the header row is hidden there).
pub const TABLE: &str = "w-full text-left";
pub const THEAD: &str = "hidden text-sm text-slate-600 sm:table-header-group";
pub const ROW: &str = "block border-t border-slate-200 py-2 align-top sm:table-row sm:py-0";
pub const CELL: &str = "block py-1 sm:table-cell sm:py-2 sm:pr-3";

/// A table with a header row of `headers` (the last may be empty: an actions column, named
/// for screen readers by `actions`) and the rows given as children.
#[component]
pub fn Table(headers: Vec<&'static str>, #[prop(optional)] actions: Option<&'static str>, #[prop(optional)] testid: Option<&'static str>, children: Children) -> impl IntoView {
    let last = headers.len().saturating_sub(1);
    let cells = headers
        .into_iter()
        .enumerate()
        .map(|(i, h)| {
            let class = if i == last { "pb-2" } else { "pb-2 pr-3" };
            match (h.is_empty(), actions) {
                (true, Some(a)) => view! { <th scope="col" class=class><span class="sr-only">{a}</span></th> }.into_any(),
                _ => view! { <th scope="col" class=class>{h}</th> }.into_any(),
            }
        })
        .collect_view();
    view! {
        <table class=TABLE data-testid=testid>
            <thead class=THEAD><tr>{cells}</tr></thead>
            <tbody>{children()}</tbody>
        </table>
    }
}

/// The column's name before a cell's value, on phones only.
#[component]
pub fn CellLabel(text: &'static str) -> impl IntoView {
    view! { <span class="font-sans font-medium text-slate-600 sm:hidden">{text} ": "</span> }
}

pub const BUTTON: &str = "rounded-lg bg-teal-700 px-4 py-2 font-semibold text-white hover:bg-teal-800";
pub const CARD: &str = "mb-6 rounded-xl bg-white p-4 shadow-sm ring-1 ring-slate-200 sm:p-6";

/// Role names as people read them.
pub fn role_label(locale: Locale, role: &str) -> &'static str {
    match role {
        "owner" => t(locale, T::RoleOwner),
        "admin" => t(locale, T::RoleAdmin),
        _ => t(locale, T::RoleDesk),
    }
}
