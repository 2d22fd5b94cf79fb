//! The pages patients see. Everything here compiles twice: with `ssr` for the server, which
//! renders the first HTML, and with `hydrate` for the browser, which takes that HTML over.
//!
//! The flow is made of plain links and forms whose server functions answer with redirects,
//! so it works the same without JavaScript; hydrated, the router turns them into in-page
//! navigation and `fetch` calls.

pub mod book;
pub mod error;
pub mod i18n;
pub mod manage;
pub mod nav;
pub mod picker;
#[cfg(feature = "ssr")]
pub mod server;
mod zone;

use i18n::{Locale, Msg};
use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Html, Meta, MetaTags, Stylesheet, Title};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{path, SsrMode};

pub use error::AppError;

/// The HTML document around the app; rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                // Talks to the embedding page when there is one; does nothing otherwise.
                <script src="/frame.js" defer></script>
                <HydrationScripts options/>
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
        <Stylesheet id="leptos" href="/pkg/booking.css"/>
        <Router>
            // Async: the response waits for the data, so the very first HTML is complete
            // and usable without JavaScript.
            <Routes fallback=|| view! { <NotFound/> }>
                <Route path=path!("/book/:clinic") view=book::BookPage ssr=SsrMode::Async/>
                <Route path=path!("/book/:clinic/details") view=book::DetailsPage ssr=SsrMode::Async/>
                <Route path=path!("/manage/:token") view=manage::ManagePage ssr=SsrMode::Async/>
                <Route path=path!("/manage/:token/reschedule") view=manage::ReschedulePage ssr=SsrMode::Async/>
                <Route path=path!("/manage/:token/reschedule/confirm") view=manage::RescheduleConfirmPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

/// The frame of every page. `data-hydrated` turns true once the WASM has taken over (effects
/// run only in the browser); the browser tests wait for it.
#[component]
pub fn Page(pending: ReadSignal<bool>, children: Children) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <main class="mx-auto max-w-2xl p-4 sm:p-6" data-hydrated=move || hydrated.get().to_string()
            aria-busy=move || pending.get().to_string()>
            {children()}
        </main>
    }
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
