use clap::{Parser, Subcommand};
use rand::RngCore;
use server::Settings;
use std::process::ExitCode;
use store::links::LinkKey;
use store::{DemoSeed, SeedOutcome, Store, DEMO_API_USER, DEMO_SLUG};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "server", version, about = "Clinic booking server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Apply pending migrations and serve HTTP (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Create the demo clinic (slug `demo`) unless it exists.
    SeedDemo,
    /// Set the web origins allowed to embed a clinic's booking widget (replaces the list;
    /// none given clears it), e.g. `embed-origins demo https://www.example-clinic.de`.
    EmbedOrigins {
        /// The clinic's slug.
        clinic: String,
        /// Origins such as https://www.example-clinic.de or http://localhost:8080.
        origins: Vec<String>,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli.command.unwrap_or(Command::Serve)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(command: Command) -> Result<(), BoxError> {
    let settings = Settings::from_env()?;
    let store = Store::connect(&settings.database_url)
        .await
        .map_err(|e| format!("cannot open database {}: {e}", redact(&settings.database_url)))?;
    // Every command applies pending migrations first: the server never runs against a schema
    // older than its code, and PostgreSQL's advisory lock makes concurrent starts safe.
    store.migrate().await?;
    match command {
        Command::Migrate => {
            println!("database is up to date ({})", redact(&settings.database_url));
        }
        Command::SeedDemo => seed_demo(&store).await?,
        Command::EmbedOrigins { clinic, origins } => {
            let slug = domain::ClinicSlug::parse(&clinic)?;
            let saved = store.set_embed_origins(&slug, &origins).await?;
            if saved.is_empty() {
                println!("clinic '{clinic}' can no longer be embedded by other sites");
            } else {
                println!("clinic '{clinic}' may be embedded by: {}", saved.join(" "));
            }
        }
        Command::Serve => serve(store, settings).await?,
    }
    Ok(())
}

async fn seed_demo(store: &Store) -> Result<(), BoxError> {
    let from_env = std::env::var("BOOKING_DEMO_API_KEY").ok().filter(|k| !k.is_empty());
    let api_key = from_env.clone().unwrap_or_else(|| {
        let mut bytes = [0u8; 24];
        rand::rng().fill_bytes(&mut bytes);
        format!("bk_{}", hex::encode(bytes))
    });
    match store.seed_demo(&DemoSeed { now: chrono::Utc::now(), api_key: api_key.clone() }).await? {
        SeedOutcome::Created { .. } => {
            println!("created the demo clinic '{DEMO_SLUG}'");
            match from_env {
                Some(_) => println!("bot API user '{DEMO_API_USER}', key from BOOKING_DEMO_API_KEY"),
                // Only the key's digest is stored: this is the one time it can be shown.
                None => println!("bot API user '{DEMO_API_USER}', key {api_key} (shown once; store it now)"),
            }
        }
        SeedOutcome::AlreadyPresent => println!("the demo clinic '{DEMO_SLUG}' already exists; nothing changed"),
    }
    Ok(())
}

async fn serve(store: Store, settings: Settings) -> Result<(), BoxError> {
    let addr = settings.leptos.site_addr;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    let key = match &settings.link_secret {
        Some(passphrase) => LinkKey::from_passphrase(passphrase),
        None => LinkKey::from_bytes(store.server_secret("manage_links", chrono::Utc::now()).await?),
    };
    let app = server::router(store.clone(), key, settings.leptos);
    // Printed on stdout, one line, so scripts (and the browser tests) can find the port.
    println!("listening on http://{local}");
    axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await?;
    store.close().await;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}

/// A database URL for messages, without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let userinfo = &url[scheme + 3..at];
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_password_in_a_database_url_is_never_printed() {
        assert_eq!(
            redact("postgres://booking:s3cret@db.internal:5432/booking"),
            "postgres://booking:***@db.internal:5432/booking"
        );
    }

    #[test]
    fn urls_without_credentials_are_printed_as_they_are() {
        assert_eq!(redact("sqlite://data/booking.db?mode=rwc"), "sqlite://data/booking.db?mode=rwc");
        assert_eq!(redact("postgres://127.0.0.1/booking"), "postgres://127.0.0.1/booking");
    }
}
