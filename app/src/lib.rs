//! The pages patients see. Everything here compiles for the server (`ssr`), which renders
//! every page in full. Only the few parts that react to the patient in the browser are
//! islands (`#[island]`): they alone are compiled into the WebAssembly bundle (`hydrate`)
//! and take over their piece of the server's HTML. Everything else stays server-rendered
//! HTML, so the bundle stays small however many pages the flow grows.
//!
//! The flow is made of plain links and forms whose server functions answer with redirects,
//! so it works the same without JavaScript. The islands add what only a browser can: the
//! details form checks each field as it is typed and submits without losing what was typed
//! when the server refuses; the picker names the patient's own time zone.

pub mod admin;
pub mod book;
pub mod desk;
pub mod error;
#[cfg(feature = "ssr")]
pub mod files;
pub mod i18n;
#[cfg(feature = "ssr")]
pub mod mail;
pub mod manage;
pub mod nav;
pub mod picker;
#[cfg(feature = "ssr")]
pub mod server;
mod zone;

use i18n::{Locale, Msg};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Html, Meta, Title};
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub use error::AppError;

/// The HTML document around the app; rendered only on the server.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let sheet = use_context::<http::request::Parts>().map_or(files::Sheet::Patient, |parts| files::Sheet::for_path(parts.uri.path()));
    let stylesheet = format!("/{}/{}", options.site_pkg_dir, files::Names::of(&options).stylesheet(sheet));
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // Talks to the embedding page when there is one; does nothing otherwise.
                <script src="/frame.js" defer></script>
                <link rel="stylesheet" id="leptos" href=stylesheet/>
                <files::IslandScripts options/>
                <MetaTags/>
            </head>
            <body class="bg-slate-50 text-slate-900 antialiased">
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Router>
            // Async: the response waits for the data, so the very first HTML is complete
            // and usable without JavaScript.
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/book/:clinic") view=book::BookPage ssr=SsrMode::Async/>
                <Route path=path!("/book/:clinic/details") view=book::DetailsPage ssr=SsrMode::Async/>
                <Route path=path!("/manage/:token") view=manage::ManagePage ssr=SsrMode::Async/>
                <Route path=path!("/manage/:token/reschedule") view=manage::ReschedulePage ssr=SsrMode::Async/>
                <Route path=path!("/manage/:token/reschedule/confirm") view=manage::RescheduleConfirmPage ssr=SsrMode::Async/>
                <Route path=path!("/admin") view=admin::settings::OverviewPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/login") view=admin::sign_in::SignInPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/setup/:token") view=admin::sign_in::SetupPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/settings") view=admin::settings::SettingsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/staff") view=admin::staff::StaffPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/catalogue") view=admin::catalogue::CataloguePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/catalogue/:kind/:id") view=admin::catalogue::EntryPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/schedule") view=admin::schedule::ScheduleIndexPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/schedule/:provider") view=admin::schedule::ProviderSchedulePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/website") view=admin::integrations::WebsitePage ssr=SsrMode::Async/>
                <Route path=path!("/admin/integrations") view=admin::integrations::IntegrationsPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/webhooks") view=admin::webhooks::WebhooksPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/webhooks/:id") view=admin::webhooks::WebhookPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/audit") view=admin::staff::AuditPage ssr=SsrMode::Async/>
                <Route path=path!("/admin/account") view=admin::account::AccountPage ssr=SsrMode::Async/>
                <Route path=path!("/desk") view=desk::DeskPage ssr=SsrMode::Async/>
                <Route path=path!("/desk/book") view=desk::book::DeskBookPage ssr=SsrMode::Async/>
                <Route path=path!("/desk/book/patient") view=desk::book::DeskPatientPage ssr=SsrMode::Async/>
                <Route path=path!("/desk/reschedule/:id") view=desk::book::DeskReschedulePage ssr=SsrMode::Async/>
                <Route path=path!("/desk/reschedule/:id/confirm") view=desk::book::DeskMovePage ssr=SsrMode::Async/>
                <Route path=path!("/desk/displays") view=desk::display::DisplaysPage ssr=SsrMode::Async/>
                <Route path=path!("/desk/display/:location") view=desk::display::DisplayPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// The frame of every page.
#[component]
pub fn Page(children: Children) -> impl IntoView {
    view! {
        <main class="mx-auto max-w-2xl p-4 sm:p-6">
            <Hydrated/>
            {children()}
        </main>
    }
}

/// An empty island on every page: `data-hydrated` turns true once the bundle has loaded and
/// taken over the page's islands (effects run only in the browser). The browser tests wait for
/// it, and its absence shows a page that works without any WebAssembly.
#[island]
pub(crate) fn Hydrated() -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! { <span hidden data-hydrated=move || hydrated.get().to_string()></span> }
}

/// Page language, title, clinic name, and the embedding origin for `frame.js`.
#[component]
pub fn Header(locale: Locale, title: String, parent: Option<String>) -> impl IntoView {
    view! {
        <Html attr:lang=locale.code()/>
        <Title text=format!("{} · {title}", locale.t(Msg::PageTitle))/>
        {parent.map(|origin| view! { <Meta name="booking-parent" content=origin/> })}
        <header class="mb-4">
            <p class="text-sm uppercase tracking-wide text-slate-600">{locale.t(Msg::PageTitle)}</p>
            <h1 class="text-2xl font-semibold">{title}</h1>
        </header>
    }
}

/// Why the server refused a form posted without JavaScript: the server function sends the
/// browser back to the form's page with the error in the address, and the action reads it
/// from there while the page is rendered.
pub fn refusal<S>(action: ServerAction<S>) -> Option<AppError>
where
    S: leptos::server_fn::ServerFn<Output = (), Error = AppError> + Clone + Send + Sync + 'static,
{
    action.value().get_untracked().and_then(Result::err)
}

#[component]
pub fn Problem(e: AppError, locale: Locale) -> impl IntoView {
    view! {
        <div role="alert" class="my-3 rounded-lg border border-red-300 bg-red-50 p-4 text-red-900" data-testid="problem">
            {e.message(locale)}
        </div>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="mx-auto max-w-xl p-6">
            <h1 class="text-xl font-semibold">"Page not found"</h1>
        </main>
    }
}
