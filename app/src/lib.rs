//! The pages patients see. Everything here compiles twice: with `ssr` for the server, which
//! renders the first HTML, and with `hydrate` for the browser, which takes that HTML over.

pub mod booking;
pub mod error;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
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
        <Title text="Book an appointment"/>
        <Router>
            <Routes fallback=|| view! { <NotFound/> }>
                // Async: the response waits for the clinic's times, so the very first HTML
                // is complete and bookable without JavaScript.
                <Route path=path!("/book/:clinic") view=booking::BookPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
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
