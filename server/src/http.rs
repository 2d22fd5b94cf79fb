use crate::calendar::{calendar_file, CalendarState};
use app::{shell, App};
use axum::http::{header, HeaderValue};
use axum::routing::get;
use axum::Router;
use leptos::prelude::{provide_context, LeptosOptions};
use leptos_axum::{generate_route_list, LeptosRoutes};
use crate::api::ApiOptions;
use store::links::LinkKey;
use store::Store;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

/// The whole HTTP surface. The store, the link key and the clock reach pages and server
/// functions through the Leptos context, never through a global, so tests can run several
/// servers in one process, each as of its own date.
/// The page routes, listed once per process. Listing them renders the app with resource
/// loading switched off through a process-wide flag (`leptos_server::SuppressResourceLoad`):
/// a page rendered meanwhile by another server in the same process (the tests run many)
/// would wait forever for a resource that never loads. Listed once, before any router can
/// exist, the window never meets a request.
static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> = std::sync::OnceLock::new();

pub fn router(store: Store, key: LinkKey, options: LeptosOptions, api_options: &ApiOptions) -> Router {
    let live = crate::live::Live::new(store.clone(), api_options.clock);
    router_with_live(store, key, options, api_options, live)
}

/// The router with the instance's live-update hub, which the server closes at shutdown so
/// that open desks do not hold a graceful shutdown up.
pub fn router_with_live(store: Store, key: LinkKey, options: LeptosOptions, api_options: &ApiOptions, live: crate::live::Live) -> Router {
    // The chat-bot vendors' examples use both prefixes.
    let api_state = crate::api::Api::new(store.clone(), api_options);
    let voice = crate::api::voice_routes(api_state.clone());
    // Answers of the bot API are compressed at the fastest setting: a two-week answer for
    // twenty calendars is 220 KB of JSON, which the default level takes longer to compress
    // than to compute, for a few percent less on the wire.
    let api = crate::api::routes(api_state)
        .route_layer(crate::observe::NoteRoute)
        .layer(CompressionLayer::new().quality(tower_http::CompressionLevel::Fastest));
    let routes = ROUTES.get_or_init(|| generate_route_list(App)).clone();
    let clock = api_options.clock;
    let guard = crate::guard::Guard::new(api_options.client_ip_header.clone());
    let allow_hosts = api_options.webhook_allow_hosts.clone();
    let context = {
        let (store, key) = (store.clone(), key.clone());
        move || {
            provide_context(store.clone());
            provide_context(key.clone());
            provide_context(clock);
            // The console checks webhook URLs with the same outbound rules as the API.
            provide_context(allow_hosts.clone());
        }
    };
    let home = Router::new().route("/", get(home)).with_state(store.clone());
    let pages = crate::pages::Pages::new(store.clone(), api_options.page_cache);
    let pkg = std::path::PathBuf::from(&*options.site_root).join(&*options.site_pkg_dir);
    let assets = Router::new()
        .route(&format!("/{}/{{file}}", options.site_pkg_dir), get(crate::assets::serve))
        .with_state(crate::assets::Assets::new(pkg, app::files::Names::of(&options)));
    let readyz = Router::new().route("/readyz", get(crate::observe::readyz)).with_state((store.clone(), api_options.ops.clone()));
    let calendar = Router::new()
        .route("/manage/{token}/calendar.ics", get(calendar_file))
        .with_state(CalendarState { store, key, clock });
    Router::new()
        .route("/healthz", get(healthz))
        .merge(readyz)
        .merge(home)
        .merge(assets)
        .nest_service("/api/v1", api.clone())
        .nest_service("/v1", api)
        .merge(voice)
        .merge(calendar)
        .merge(crate::live::routes(live))
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
        .with_state(options)
        // Inside the guard, which gives each browser its own id cookie on a kept page too.
        .layer(axum::middleware::from_fn_with_state(pages, crate::pages::serve))
        .layer(axum::middleware::from_fn_with_state(guard, crate::guard::server_functions))
        // Pages of a clinic allow its embedding origins themselves; everything else may be
        // framed only by this server's own pages.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("frame-ancestors 'self'"),
        ))
        // Manage links carry their token in the URL: it must not leak to other sites.
        .layer(SetResponseHeaderLayer::overriding(header::REFERRER_POLICY, HeaderValue::from_static("same-origin")))
        .layer(SetResponseHeaderLayer::overriding(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
        .layer(CompressionLayer::new())
        // Outermost, so that it times and counts everything under it; axum applies it to each
        // route (and the fallback), where the matched pattern is known.
        .layer(crate::observe::Track::new(api_options.ops.clone()))
}

/// `/`: a deployment of one clinic opens its booking page; any other leads to the console's
/// sign-in (patients reach their clinic through its own link or embed).
async fn home(axum::extract::State(store): axum::extract::State<Store>) -> axum::response::Redirect {
    match store.only_clinic().await {
        Ok(Some(slug)) => axum::response::Redirect::to(&format!("/book/{slug}")),
        Ok(None) => axum::response::Redirect::to("/admin/login"),
        Err(e) => {
            tracing::error!(error = %e, "cannot count clinics for /");
            axum::response::Redirect::to("/admin/login")
        }
    }
}

/// Liveness for load balancers: a constant JSON answer that touches nothing (also the ceiling
/// the load figures compare the API against).
async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "status": "ok" }))
}
