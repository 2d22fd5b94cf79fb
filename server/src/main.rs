use clap::{Parser, Subcommand};
use rand::RngCore;
use server::mail::MailOptions;
use server::webhooks::DeliveryOptions;
use server::Settings;
use std::time::Duration;
use std::process::ExitCode;
use domain::appointment::{AppointmentStatus, BookingSource};
use store::credentials::{CredentialKind, Facility};
use store::links::LinkKey;
use store::PatientRef;
use store::{Clock, DemoSeed, SeedOutcome, Store, DEMO_API_USER, DEMO_OWNER_EMAIL, DEMO_SLUG, DEMO_VOICE_USER};
use chrono::{DateTime, Utc};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "server", version, about = "Clinic booking server")]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// For tests only, never for a clinic: the clock reads this instant (ISO 8601 with
    /// offset, e.g. 2026-12-31T16:30:00+01:00) when the command starts and runs on from
    /// there, so that test suites can run as of any date.
    #[arg(long, global = true, value_name = "INSTANT", value_parser = parse_instant)]
    test_clock: Option<DateTime<Utc>>,
}

fn parse_instant(raw: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| format!("{raw:?} is not an ISO 8601 date-time with offset"))
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
    /// Writes a consistent copy of the SQLite database to FILE while servers keep running on
    /// it (PostgreSQL: use pg_dump). FILE must not exist.
    Backup {
        file: std::path::PathBuf,
    },
    /// Makes the SQLite database of DATABASE_URL a copy of the backup FILE, after checking it.
    /// Stop every server on the database first; the database replaced is kept beside it.
    Restore {
        file: std::path::PathBuf,
        /// Replace the existing database (kept as <name>.replaced-<time>).
        #[arg(long)]
        replace: bool,
    },
    /// Clinics: create one with its owner's one-time setup link.
    #[command(subcommand)]
    Clinic(ClinicCommand),
    /// API users: one per facility (a clinic or one of its locations), bot or staff.
    #[command(subcommand)]
    Credentials(CredentialCommand),
    /// Staff actions on an appointment: check-in (assigns the queue number), complete, no-show.
    Appointment {
        #[arg(value_enum)]
        action: StaffAction,
        /// The clinic's slug.
        clinic: String,
        /// The appointment id.
        id: i64,
    },
    /// Books at the desk for a known patient: a walk-in now, or a phone call at --start. Any
    /// time the provider is free, like the staff API.
    Book {
        /// The clinic's slug.
        clinic: String,
        /// The calendar (provider) id, as `GET /api/v1/calendars` lists it.
        calendar: i64,
        /// The appointment type id.
        appointment_type: i64,
        /// The patient's id or temporary id (tmp_...).
        patient: String,
        /// ISO 8601 with offset, e.g. 2026-11-23T09:00:00+01:00; now when absent.
        #[arg(long)]
        start: Option<String>,
    },
    /// Gives a clinic's phone line (the voice bot's sipId) to a voice credential, e.g.
    /// `voice-line demo sip-4930123 acme-voice`.
    VoiceLine {
        /// The clinic's slug.
        clinic: String,
        /// The sipId the voice bot sends for calls to this line.
        sip_id: String,
        /// The voice credential's user id (`credentials create ... --voice`).
        username: String,
    },
    /// Gives a patient with a temporary id (tmp_...) or a patient id their permanent id.
    RegisterPatient {
        /// The clinic's slug.
        clinic: String,
        /// The patient's temporary id or id.
        patient: String,
    },
}

#[derive(Subcommand)]
enum ClinicCommand {
    /// Creates an empty clinic and its owner's account, and prints the owner's one-time link
    /// to choose a password and sign in to the console (valid 7 days).
    Create {
        /// The clinic's short name in URLs: a-z, 0-9 and inner '-', e.g. praxis-nord.
        slug: String,
        /// The clinic's name as patients read it.
        #[arg(long)]
        name: String,
        /// The IANA time zone new locations start in, e.g. Europe/Berlin.
        #[arg(long)]
        time_zone: String,
        /// The owner's e-mail address (signs in to the console with it).
        #[arg(long)]
        owner_email: String,
        /// The language patients see first (en or de).
        #[arg(long, default_value = "en")]
        locale: String,
    },
    /// Writes a clinic's setup (profile, booking settings, embed origins, locations, services,
    /// products, providers with their hours, days off and blocks, holidays) as a TOML file
    /// for `clinic apply`. What is over is left out; API keys and staff are never in it.
    Export {
        /// The clinic's slug.
        slug: String,
        /// Write to this file instead of printing.
        #[arg(long, short)]
        output: Option<std::path::PathBuf>,
    },
    /// Makes a clinic match a file (as `clinic export` writes it): creates what is new,
    /// changes what differs and archives what the file leaves out. Applying the same file
    /// again changes nothing. A clinic that does not exist yet is created.
    Apply {
        /// The clinic file (TOML).
        file: std::path::PathBuf,
        /// Print the changes and the booked appointments they would strand; change nothing.
        #[arg(long)]
        dry_run: bool,
        /// Apply even when booked appointments would fall outside the new rules: they stay
        /// booked and are flagged for staff in the console.
        #[arg(long)]
        keep_booked: bool,
        /// When the file creates the clinic: its owner, who gets a one-time setup link.
        #[arg(long)]
        owner_email: Option<String>,
    },
}

#[derive(Subcommand)]
enum CredentialCommand {
    /// Creates a user with its first key (shown once).
    Create {
        /// The clinic's slug.
        clinic: String,
        /// The user id integrators send (3-64 of a-z, 0-9, '-', '_', '.').
        username: String,
        /// Restrict the user to one location of the clinic (its id).
        #[arg(long)]
        location: Option<i64>,
        /// A staff credential (staff actions) instead of a bot credential.
        #[arg(long, conflicts_with = "voice")]
        staff: bool,
        /// A voice-bot credential (`POST /api/voicebot`); give it phone lines with `voice-line`.
        #[arg(long)]
        voice: bool,
        /// An admin credential: configures the clinic through `/api/v1/admin` (whole clinic).
        #[arg(long, conflicts_with_all = ["staff", "voice", "location"])]
        admin: bool,
        /// Let the key expire after this many days (at least 90); by default keys do not expire.
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// Issues a new key; the user's two newest keys work, older ones stop. A user made with
    /// an expiring key gets one of the same lifetime (or shorter).
    Rotate {
        username: String,
        #[arg(long)]
        expires_in_days: Option<i64>,
    },
    /// Stops every key of a clinic's user at once (a leaked key, an integration that ended).
    Revoke {
        /// The clinic's slug.
        clinic: String,
        username: String,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum StaffAction {
    CheckIn,
    Complete,
    NoShow,
}

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let filter = || EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn"));
    // BOOKING_LOG_FORMAT=json: one JSON object a line, with the request's span (its id) on each
    // line logged while serving it, for log collectors; otherwise text for people.
    match std::env::var("BOOKING_LOG_FORMAT").unwrap_or_default().trim() {
        "json" => tracing_subscriber::fmt().json().with_current_span(true).with_span_list(false).with_env_filter(filter()).with_writer(std::io::stderr).init(),
        "" | "text" => tracing_subscriber::fmt().with_env_filter(filter()).with_writer(std::io::stderr).init(),
        other => {
            eprintln!("error: BOOKING_LOG_FORMAT must be json or text, not {other:?}");
            return ExitCode::FAILURE;
        }
    }
    let cli = Cli::parse();
    let clock = match cli.test_clock {
        None => Clock::system(),
        Some(start) => {
            tracing::warn!(now = %start.to_rfc3339(), "the clock is set for a test (--test-clock); times and dates are not real");
            Clock::starting_at(start)
        }
    };
    match run(cli.command.unwrap_or(Command::Serve), clock).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn run(command: Command, clock: Clock) -> Result<(), BoxError> {
    let settings = Settings::from_env()?;
    // Before the store opens the database: a restore needs it closed, a backup needs no pool.
    match &command {
        Command::Backup { file } => {
            let done = server::backup::backup(&settings.database_url, file).await?;
            println!(
                "backed up {} to {} ({} bytes, {} appointments, migration {}); integrity check ok",
                redact(&settings.database_url),
                file.display(),
                done.bytes,
                done.appointments,
                done.migration
            );
            return Ok(());
        }
        Command::Restore { file, replace } => {
            let stamp = clock.now().format("%Y%m%dT%H%M%SZ").to_string();
            let known = Store::known_migration(store::Backend::Sqlite);
            let done = server::backup::restore(&settings.database_url, file, *replace, known, &stamp).await?;
            println!(
                "restored {} from {} ({} appointments, migration {}); integrity check ok",
                done.database.display(),
                file.display(),
                done.checked.appointments,
                done.checked.migration
            );
            if let Some(kept) = done.replaced {
                println!("the database it replaced is kept as {}", kept.display());
            }
            if done.checked.migration < known {
                println!("the next start applies the migrations this build adds");
            }
            return Ok(());
        }
        _ => {}
    }
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
        Command::SeedDemo => seed_demo(&store, clock).await?,
        Command::EmbedOrigins { clinic, origins } => {
            let slug = domain::ClinicSlug::parse(&clinic)?;
            let saved = store.set_embed_origins(&slug, &origins, clock.now()).await?;
            if saved.is_empty() {
                println!("clinic '{clinic}' can no longer be embedded by other sites");
            } else {
                println!("clinic '{clinic}' may be embedded by: {}", saved.join(" "));
            }
        }
        Command::Clinic(ClinicCommand::Create { slug, name, time_zone, owner_email, locale }) => {
            let new = store::NewClinic {
                slug: domain::ClinicSlug::parse(slug.trim()).map_err(|e| format!("slug: {e}"))?,
                profile: domain::staff::ClinicProfile::new(&name, &locale, &time_zone)?,
                owner_email: domain::patient::Email::parse(&owner_email).map_err(|e| format!("owner e-mail: {e}"))?,
            };
            let (_, invitation) = store.create_clinic(&new, clock.now()).await?;
            println!("created clinic '{}' ({})", new.slug, new.profile.name);
            println!("owner {} sets a password and signs in at (once, within 7 days):", invitation.email);
            println!("{}/admin/setup/{}", settings.public_url(), invitation.token);
        }
        Command::Clinic(ClinicCommand::Export { slug, output }) => {
            let slug = domain::ClinicSlug::parse(slug.trim())?;
            let text = store.export_clinic(&slug, clock.now()).await?.to_toml();
            match output {
                Some(path) => {
                    std::fs::write(&path, &text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
                    eprintln!("wrote clinic '{slug}' to {}", path.display());
                }
                None => print!("{text}"),
            }
        }
        Command::Clinic(ClinicCommand::Apply { file, dry_run, keep_booked, owner_email }) => {
            apply_clinic_file(&store, &settings, clock, &file, dry_run, keep_booked, owner_email).await?
        }
        Command::Credentials(c) => credentials(&store, c, clock).await?,
        Command::VoiceLine { clinic, sip_id, username } => {
            let clinic = store.clinic_by_slug(&domain::ClinicSlug::parse(&clinic)?).await?;
            store.add_voice_line(&sip_id, clinic.id, &username, clock.now()).await?;
            println!("line {} of {} is answered by {username}", sip_id.trim(), clinic.slug);
        }
        Command::Appointment { action, clinic, id } => {
            let clinic = store.clinic_by_slug(&domain::ClinicSlug::parse(&clinic)?).await?;
            let to = match action {
                StaffAction::CheckIn => AppointmentStatus::CheckedIn,
                StaffAction::Complete => AppointmentStatus::Completed,
                StaffAction::NoShow => AppointmentStatus::NoShow,
            };
            store.change_status(clinic.id, id, to, BookingSource::Staff, clock.now()).await?;
            let view = store.appointment_view(id).await?;
            match view.queue_number.filter(|_| to == AppointmentStatus::CheckedIn) {
                Some(queue) => println!("appointment {id} is {to}; queue number {queue}"),
                None => println!("appointment {id} is {to}"),
            }
        }
        Command::Book { clinic, calendar, appointment_type, patient, start } => {
            let clinic = store.clinic_by_slug(&domain::ClinicSlug::parse(&clinic)?).await?;
            let now = clock.now();
            let start = match start {
                Some(raw) => chrono::DateTime::parse_from_rfc3339(raw.trim())
                    .map_err(|_| format!("--start {raw:?} is not an ISO 8601 date-time with offset"))?
                    .with_timezone(&chrono::Utc),
                None => now,
            };
            let desk = server::api::Api::new(store.clone(), &settings.api_options(clock));
            let staff = Facility { credential_id: 0, username: "cli".into(), clinic_id: clinic.id, location_id: None, kind: CredentialKind::Staff };
            let found = store.patient(clinic.id, PatientRef::parse(&patient)).await?;
            let time = server::api::staff::DeskTime::check(&desk, &staff, calendar, appointment_type, start).await?;
            let booked = time.book(&desk, &staff, found.id, String::new(), now).await?;
            println!("booked appointment {} at {} (token {})", booked.appointment_id, booked.start.to_rfc3339(), booked.token_number);
        }
        Command::RegisterPatient { clinic, patient } => {
            let clinic = store.clinic_by_slug(&domain::ClinicSlug::parse(&clinic)?).await?;
            let found = store.patient(clinic.id, PatientRef::parse(&patient)).await?;
            store.register_patient(clinic.id, found.id, clock.now()).await?;
            println!("patient {} is registered (was {})", found.id, found.temporary_id.unwrap_or_default());
        }
        Command::Serve => serve(store, settings, clock).await?,
        Command::Backup { .. } | Command::Restore { .. } => unreachable!("handled before the store opens"),
    }
    Ok(())
}

async fn apply_clinic_file(
    store: &Store,
    settings: &Settings,
    clock: Clock,
    path: &std::path::Path,
    dry_run: bool,
    keep_booked: bool,
    owner_email: Option<String>,
) -> Result<(), BoxError> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let file = store::ClinicFile::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let now = clock.now();
    let owner = owner_email.map(|e| domain::patient::Email::parse(&e).map_err(|e| format!("--owner-email: {e}"))).transpose()?;
    let slug = domain::ClinicSlug::parse(file.slug.trim()).map_err(|e| format!("{}: slug: {e}", path.display()))?;
    let exists = match store.clinic_by_slug(&slug).await {
        Ok(_) => true,
        Err(store::StoreError::NotFound(_)) => false,
        Err(e) => return Err(e.into()),
    };
    if !exists && owner.is_none() && !dry_run {
        return Err(format!("clinic '{slug}' does not exist yet: give --owner-email to create it with its owner").into());
    }
    let in_file = |e: store::StoreError| -> BoxError { format!("{}: {e}", path.display()).into() };
    let print_stranded = |plan: &store::ApplyPlan| {
        for a in &plan.stranded {
            let local = a.start.with_timezone(&a.time_zone).format("%Y-%m-%d %H:%M");
            println!("  appointment {} {local} ({}) {} · {} · {}: {}", a.appointment_id, a.time_zone, a.provider_name, a.what, a.patient, a.reason.code());
        }
    };
    if dry_run {
        let plan = store.plan_clinic_file(&file, now).await.map_err(in_file)?;
        for change in &plan.changes {
            println!("{change}");
        }
        if !plan.stranded.is_empty() {
            println!("{} booked appointment(s) would fall outside the new rules (apply with --keep-booked to keep them and flag them):", plan.stranded.len());
            print_stranded(&plan);
        }
        println!("dry run: {} change(s); nothing was changed", plan.changes.len());
        return Ok(());
    }
    let stranding = if keep_booked { store::attention::Stranding::Flag } else { store::attention::Stranding::Refuse };
    let applied = match store.apply_clinic_file(&file, owner, &store::staff::Actor::cli(), stranding, now).await {
        // Refused before anything was written: list whom the file would strand.
        Err(store::StoreError::WouldStrand(_)) => {
            let plan = store.plan_clinic_file(&file, now).await.map_err(in_file)?;
            print_stranded(&plan);
            return Err(format!(
                "{} booked appointment(s) would fall outside the new rules; nothing was changed. Change the file, or apply with --keep-booked to keep them booked and flag them for staff",
                plan.stranded.len()
            )
            .into());
        }
        other => other.map_err(in_file)?,
    };
    for change in &applied.changes {
        println!("{change}");
    }
    if !applied.flagged.is_empty() {
        println!("{} booked appointment(s) kept and flagged for staff: {:?}", applied.flagged.len(), applied.flagged);
    }
    match applied.changes.len() {
        0 => println!("clinic '{slug}' already matches {}; nothing changed", path.display()),
        n => println!("applied {n} change(s) to clinic '{slug}'"),
    }
    if let Some(invitation) = applied.invitation {
        println!("owner {} sets a password and signs in at (once, within 7 days):", invitation.email);
        println!("{}/admin/setup/{}", settings.public_url(), invitation.token);
    }
    Ok(())
}

async fn seed_demo(store: &Store, clock: Clock) -> Result<(), BoxError> {
    let key = |variable: &str| {
        let from_env = std::env::var(variable).ok().filter(|k| !k.is_empty());
        let key = from_env.clone().unwrap_or_else(|| {
            let mut bytes = [0u8; 24];
            rand::rng().fill_bytes(&mut bytes);
            format!("bk_{}", hex::encode(bytes))
        });
        (key, from_env.is_some())
    };
    let (api_key, api_key_given) = key("BOOKING_DEMO_API_KEY");
    let (voice_key, voice_key_given) = key("BOOKING_DEMO_VOICE_KEY");
    match store.seed_demo(&DemoSeed { now: clock.now(), api_key: api_key.clone(), voice_key: voice_key.clone() }).await? {
        SeedOutcome::Created { .. } => {
            println!("created the demo clinic '{DEMO_SLUG}'");
            for (what, user, key, given, variable) in [
                ("bot API", DEMO_API_USER, &api_key, api_key_given, "BOOKING_DEMO_API_KEY"),
                ("voice bot", DEMO_VOICE_USER, &voice_key, voice_key_given, "BOOKING_DEMO_VOICE_KEY"),
            ] {
                match given {
                    true => println!("{what} user '{user}', key from {variable}"),
                    // Only the key's digest is stored: this is the one time it can be shown.
                    false => println!("{what} user '{user}', key {key} (shown once; store it now)"),
                }
            }
        }
        SeedOutcome::AlreadyPresent => println!("the demo clinic '{DEMO_SLUG}' already exists; nothing changed"),
    }
    let owner_password = std::env::var("BOOKING_DEMO_OWNER_PASSWORD").ok().filter(|p| !p.is_empty());
    let password = owner_password.clone().unwrap_or_else(|| {
        let mut bytes = [0u8; 12];
        rand::rng().fill_bytes(&mut bytes);
        hex::encode(bytes)
    });
    if store.seed_demo_owner(&password, clock.now()).await? {
        match owner_password {
            Some(_) => println!("console owner '{DEMO_OWNER_EMAIL}', password from BOOKING_DEMO_OWNER_PASSWORD"),
            None => println!("console owner '{DEMO_OWNER_EMAIL}', password {password} (shown once; store it now)"),
        }
    }
    Ok(())
}

async fn credentials(store: &Store, command: CredentialCommand, clock: Clock) -> Result<(), BoxError> {
    let now = clock.now();
    let expiry = |days: Option<i64>| days.map(|d| now + chrono::Duration::days(d));
    let issued = match command {
        CredentialCommand::Create { clinic, username, location, staff, voice, admin, expires_in_days } => {
            let clinic = store.clinic_by_slug(&domain::ClinicSlug::parse(&clinic)?).await?;
            let kind = match (staff, voice, admin) {
                (true, _, _) => CredentialKind::Staff,
                (_, true, _) => CredentialKind::Voice,
                (_, _, true) => CredentialKind::Admin,
                _ => CredentialKind::Bot,
            };
            store.create_credential(clinic.id, location, &username, kind, expiry(expires_in_days), now).await?
        }
        CredentialCommand::Rotate { username, expires_in_days } => store.rotate_key(&username, expiry(expires_in_days), now).await?,
        CredentialCommand::Revoke { clinic, username } => {
            let clinic = store.clinic_by_slug(&domain::ClinicSlug::parse(&clinic)?).await?;
            let revoked = store.revoke_credential(&store::staff::Actor::cli(), clinic.id, &username, now).await?;
            println!("user {username}: revoked {revoked} key(s)");
            return Ok(());
        }
    };
    // Only the key's digest is stored: this is the one time it can be shown.
    println!("user {}", issued.username);
    println!("key  {}", issued.key);
    if let Some(at) = issued.expires_at {
        println!("expires {}", at.to_rfc3339());
    }
    if issued.revoked > 0 {
        println!("revoked {} older key(s)", issued.revoked);
    }
    Ok(())
}

async fn serve(store: Store, settings: Settings, clock: Clock) -> Result<(), BoxError> {
    let addr = settings.leptos.site_addr;
    let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let local = listener.local_addr()?;
    let key = match &settings.link_secret {
        Some(keys) => keys.clone(),
        None => LinkKey::from_bytes(store.server_secret("manage_links", clock.now()).await?),
    };
    tracing::info!(key_id = %key.signing_id(), "manage links are signed");
    let live = server::live::Live::new(store.clone(), clock);
    // Links in e-mails lead where people reach this server: the configured public URL, else
    // the address it listens on (the port is known only now when it was 0).
    let public_url = settings.public_url.clone().unwrap_or_else(|| format!("http://{local}"));
    let mail = MailOptions { clock, ..MailOptions::new(settings.mail_transport()?, settings.default_sender(), public_url, key.clone()) };
    let api_options = settings.api_options(clock);
    let ops = api_options.ops.clone();
    let app = server::router_with_live(store.clone(), key, settings.leptos.clone(), &api_options, live.clone());
    // Metrics on their own address, for the monitoring network only; none unless configured.
    let metrics = match settings.metrics_addr {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|e| format!("cannot listen on {addr} (BOOKING_METRICS_ADDR): {e}"))?;
            println!("metrics on http://{}/metrics", listener.local_addr()?);
            let router = server::observe::metrics_router(store.clone(), ops.clone());
            Some(tokio::spawn(async move {
                if let Err(e) = axum::serve(listener, router).await {
                    tracing::error!(error = %e, "the metrics listener failed");
                }
            }))
        }
        None => None,
    };
    let delivery = DeliveryOptions {
        clock,
        ..DeliveryOptions::new(settings.webhook_allow_hosts.clone(), Duration::from_secs(settings.webhook_lease_seconds.into()))
    };
    let (stop_worker, worker) = server::webhooks::spawn(store.clone(), delivery);
    let worker = ops.watch(server::observe::Worker::Delivery, worker);
    let (stop_mail, mailer) = server::mail::spawn(store.clone(), mail);
    let mailer = ops.watch(server::observe::Worker::Mail, mailer);
    let policy = store::retention::RetentionPolicy { keep: chrono::Duration::days(settings.retention_days.into()), ..Default::default() };
    let (stop_pruning, pruner) = server::retention::spawn(store.clone(), policy, Duration::from_secs(u64::from(settings.retention_interval_minutes) * 60), clock);
    // Printed on stdout, one line, so scripts (and the browser tests) can find the port.
    println!("listening on http://{local}");
    // The client's address reaches handlers (sign-in throttling counts failures per address).
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            shutdown_signal().await;
            ops.drain();
            // Open desks and displays end their streams (their browsers reconnect to the next
            // server); requests in flight finish.
            live.close();
        })
        .await?;
    // Attempts in flight finish (each within its timeout); nothing new is claimed.
    let _ = stop_worker.send(true);
    let _ = stop_mail.send(true);
    let _ = stop_pruning.send(true);
    let _ = worker.await;
    let _ = mailer.await;
    let _ = pruner.await;
    if let Some(metrics) = metrics {
        metrics.abort();
    }
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
