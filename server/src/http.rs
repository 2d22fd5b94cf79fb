use app::{shell, App};
use axum::routing::get;
use axum::Router;
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use store::Store;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// The whole HTTP surface. The store reaches pages and server functions through the Leptos
/// context, never through a global, so tests can run several servers in one process.
pub fn router(store: Store, options: LeptosOptions) -> Router {
    let routes = generate_route_list(App);
    let context = {
        let store = store.clone();
        move || provide_context(store.clone())
    };
    Router::new()
        .route("/healthz", get(healthz))
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
        .with_state(options)
        .layer(CompressionLayer::new())
        .layer(TraceLayer::new_for_http())
}

async fn healthz() -> &'static str {
    "ok"
}
