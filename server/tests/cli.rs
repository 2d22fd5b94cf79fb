//! The staff CLI on a real database file: credentials, a desk booking, check-in, registration.

use domain::patient::{PersonDetails, PersonName, Phone};
use std::process::{Command, Output};
use store::testing::{test_clock, TempDir};
use store::{Clock, Store};

struct Cli {
    url: String,
    /// Every command runs as of the suite's date, as the tests' own store calls do.
    clock: Clock,
    dir: TempDir,
}

impl Cli {
    fn new() -> Self {
        let dir = TempDir::new("booking-cli-");
        Cli { url: format!("sqlite://{}/booking.db?mode=rwc", dir.0.display()), clock: test_clock(), dir }
    }

    /// The server binary on this database, as of the suite's date.
    fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).arg(format!("--test-clock={}", self.clock.now().to_rfc3339())).output().unwrap()
    }

    /// The server binary on this database, with only the arguments given.
    fn command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command
            .env("DATABASE_URL", &self.url)
            .env("BOOKING_DEMO_API_KEY", "bk_cli_test_key")
            .env("BOOKING_MAIL_DIR", self.dir.0.join("mail"))
            .env("RUST_LOG", "warn");
        command
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

#[tokio::test]
async fn the_desk_books_checks_in_and_registers_from_the_command_line() {
    let cli = Cli::new();
    cli.ok(&["seed-demo"]);
    let store = Store::connect(&cli.url).await.unwrap();
    let clinic = store.clinic_by_slug(&domain::ClinicSlug::parse("demo").unwrap()).await.unwrap();
    let details = PersonDetails {
        first_name: Some(PersonName::parse("Walter").unwrap()),
        last_name: Some(PersonName::parse("Walk").unwrap()),
        phone: Some(Phone::parse("+49 30 999999", None).unwrap()),
        ..Default::default()
    };
    let patient = store.create_patient(clinic.id, &details, false, cli.clock.now()).await.unwrap();
    let temporary = patient.temporary_id.clone().unwrap();

    // Sophie Wagner (calendar 4), physiotherapy 30 minutes (type 2): a walk-in, now.
    let booked = cli.ok(&["book", "demo", "4", "2", &temporary]);
    let id: i64 = booked.split_whitespace().nth(2).unwrap().parse().unwrap_or_else(|_| panic!("{booked}"));
    let busy = cli.run(&["book", "demo", "4", "2", &temporary]);
    assert!(!busy.status.success(), "the provider is busy now");
    assert!(String::from_utf8_lossy(&busy.stderr).contains("slot_taken"));

    assert!(cli.ok(&["appointment", "check-in", "demo", &id.to_string()]).contains("queue number 1"));
    let refused = cli.run(&["appointment", "no-show", "demo", &id.to_string()]);
    assert!(!refused.status.success(), "a checked-in patient is no no-show");
    cli.ok(&["appointment", "complete", "demo", &id.to_string()]);
    assert!(cli.ok(&["register-patient", "demo", &temporary]).contains("is registered"));
    assert!(!cli.run(&["register-patient", "demo", &temporary]).status.success(), "only once");

    let created = cli.ok(&["credentials", "create", "demo", "front-desk", "--staff"]);
    let key = created.lines().find_map(|l| l.strip_prefix("key  ")).unwrap().to_owned();
    let facility = store.authenticate("front-desk", &key, cli.clock.now()).await.unwrap().unwrap();
    assert_eq!(facility.kind, store::credentials::CredentialKind::Staff);
    assert!(!cli.run(&["credentials", "create", "demo", "front-desk"]).status.success(), "usernames are unique");
    assert!(!cli.run(&["credentials", "rotate", "front-desk", "--expires-in-days", "30"]).status.success(), "90 days at least");
    let rotated = cli.ok(&["credentials", "rotate", "front-desk", "--expires-in-days", "365"]);
    assert!(rotated.contains("expires "), "{rotated}");
    let rotated_key = rotated.lines().find_map(|l| l.strip_prefix("key  ")).unwrap().to_owned();
    assert!(!cli.run(&["credentials", "revoke", "east", "front-desk"]).status.success(), "no such clinic");
    assert!(!cli.run(&["credentials", "revoke", "demo", "nobody"]).status.success());
    assert!(store.authenticate("front-desk", &rotated_key, cli.clock.now()).await.unwrap().is_some(), "refusals revoke nothing");
    assert!(cli.ok(&["credentials", "revoke", "demo", "front-desk"]).contains("revoked 2 key(s)"));
    // This process accepted the key a moment ago and takes it on trust for at most
    // `ADMITTED_FOR`; after that, a revocation by another process holds here too.
    tokio::time::sleep(store::credentials::ADMITTED_FOR).await;
    for k in [&key, &rotated_key] {
        assert!(store.authenticate("front-desk", k, cli.clock.now()).await.unwrap().is_none(), "revoked");
    }

    // Keys made to expire stay expiring: a rotation takes the first key's lifetime.
    let created = cli.ok(&["credentials", "create", "demo", "partner-bot", "--expires-in-days", "120"]);
    assert!(created.contains("expires "), "{created}");
    let inherited = cli.ok(&["credentials", "rotate", "partner-bot"]);
    let expected = (cli.clock.now() + chrono::Duration::days(120)).date_naive().to_string();
    assert!(inherited.lines().any(|l| l.starts_with("expires ") && l.contains(&expected)), "{inherited}");
    assert!(!cli.run(&["credentials", "rotate", "partner-bot", "--expires-in-days", "365"]).status.success(), "no longer than 120 days");

    for event in ["appointmentCreated", "Queued", "appointmentCompleted", "patientCreated"] {
        let sql = format!("SELECT COUNT(*) FROM outbox WHERE event_type = '{event}'");
        assert_eq!(store::testing::scalar_i64(&store, &sql).await, 1, "{event}");
    }
}

#[tokio::test]
async fn a_voice_integration_is_created_and_given_phone_lines_from_the_command_line() {
    let cli = Cli::new();
    cli.ok(&["seed-demo"]);
    let created = cli.ok(&["credentials", "create", "demo", "acme-voice", "--voice"]);
    let key = created.lines().find_map(|l| l.strip_prefix("key  ")).unwrap().to_owned();
    assert!(cli.ok(&["voice-line", "demo", "sip-4930123", "acme-voice"]).contains("answered by acme-voice"));
    let store = Store::connect(&cli.url).await.unwrap();
    let facility = store.authenticate("acme-voice", &key, cli.clock.now()).await.unwrap().unwrap();
    assert_eq!(facility.kind, store::credentials::CredentialKind::Voice);
    let clinic = store.clinic_by_slug(&domain::ClinicSlug::parse("demo").unwrap()).await.unwrap();
    assert_eq!(store.voice_line(facility.credential_id, "sip-4930123").await.unwrap(), Some(clinic.id));
    assert_eq!(store.voice_line(facility.credential_id, "demo-sip").await.unwrap(), None, "another integration's line");

    let taken = cli.run(&["voice-line", "demo", "sip-4930123", "acme-voice"]);
    assert!(!taken.status.success() && String::from_utf8_lossy(&taken.stderr).contains("already in use"));
    assert!(!cli.run(&["voice-line", "demo", "sip-2", "demo"]).status.success(), "a bot credential answers no phone");
    assert!(!cli.run(&["voice-line", "demo", "sip-3", "nobody"]).status.success());
    assert!(!cli.run(&["voice-line", "demo", " ", "acme-voice"]).status.success(), "a sipId is required");
    assert!(!cli.run(&["credentials", "create", "demo", "both", "--voice", "--staff"]).status.success());
}

#[tokio::test]
async fn the_test_clock_sets_the_date_of_every_command_and_a_bad_one_is_refused() {
    use std::io::{BufRead, BufReader};
    let cli = Cli::new();
    let at = "--test-clock=2031-06-02T09:00:00+02:00"; // a Monday
    let seeded = cli.command().args(["seed-demo", at]).output().unwrap();
    assert!(seeded.status.success(), "{}", String::from_utf8_lossy(&seeded.stderr));
    let store = Store::connect(&cli.url).await.unwrap();
    let count = |sql: &'static str| {
        let store = store.clone();
        async move { store::testing::scalar_i64(&store, sql).await }
    };
    assert_eq!(count("SELECT COUNT(*) FROM holidays WHERE on_date = '2031-12-25'").await, 1, "the next Christmas is closed");
    assert!(count("SELECT COUNT(*) FROM appointments WHERE local_date = '2031-06-03'").await > 0, "the demo's appointments start the next day");

    let mut server = cli
        .command()
        .args(["serve", at])
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LEPTOS_SITE_ROOT", "target/site")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let base = loop {
        let line = lines.next().expect("the server printed its address").unwrap();
        if let Some(addr) = line.strip_prefix("listening on ") {
            break addr.trim().to_owned();
        }
    };
    let page = reqwest::get(format!("{base}/book/demo")).await.unwrap().text().await.unwrap();
    let yesterday = reqwest::get(format!("{base}/book/demo?date=2031-06-01")).await.unwrap().status();
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(page.contains("June 2031"), "the booking page opens on the clock's month");
    assert_eq!(yesterday.as_u16(), 422, "the day before the clock's date lies in the past");

    for bad in ["--test-clock=tomorrow", "--test-clock=2031-06-02", "--test-clock="] {
        let refused = cli.command().args(["migrate", bad]).output().unwrap();
        assert!(!refused.status.success(), "{bad} was accepted");
        assert!(String::from_utf8_lossy(&refused.stderr).contains("ISO 8601"), "{bad}: {}", String::from_utf8_lossy(&refused.stderr));
    }
}

#[tokio::test]
async fn a_clinic_is_created_from_the_command_line_with_a_one_time_owner_link() {
    let cli = Cli::new();
    let created = cli
        .command()
        .args(["clinic", "create", "praxis-nord", "--name", "Praxis Nord", "--time-zone", "America/New_York"])
        .args(["--owner-email", "Chef@Praxis-Nord.example", "--locale", "de"])
        .env("BOOKING_PUBLIC_URL", "https://booking.praxis-nord.example/")
        .arg(format!("--test-clock={}", cli.clock.now().to_rfc3339()))
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let out = String::from_utf8(created.stdout).unwrap();
    let link = out.lines().find(|l| l.starts_with("https://")).unwrap_or_else(|| panic!("{out}"));
    let token = link.strip_prefix("https://booking.praxis-nord.example/admin/setup/").unwrap_or_else(|| panic!("{link}"));
    assert_eq!(token.len(), 64);
    assert!(out.contains("chef@praxis-nord.example"), "{out}");

    let store = Store::connect(&cli.url).await.unwrap();
    let invited = store.invitation(token, cli.clock.now()).await.unwrap();
    assert_eq!((invited.clinic_name.as_str(), invited.locale.as_str()), ("Praxis Nord", "de"));
    let count = |sql: &'static str| {
        let store = store.clone();
        async move { store::testing::scalar_i64(&store, sql).await }
    };
    assert_eq!(count("SELECT COUNT(*) FROM clinics WHERE slug = 'praxis-nord' AND time_zone = 'America/New_York'").await, 1);
    assert_eq!(count("SELECT COUNT(*) FROM audit_log WHERE action = 'clinic.create' AND actor = 'cli'").await, 1);

    for (bad, says) in [
        (vec!["praxis-nord", "--name", "Again", "--time-zone", "UTC", "--owner-email", "x@y.example"], "already in use"),
        (vec!["Praxis Süd", "--name", "Süd", "--time-zone", "UTC", "--owner-email", "x@y.example"], "slug"),
        (vec!["sued", "--name", "Süd", "--time-zone", "Europe/Atlantis", "--owner-email", "x@y.example"], "timeZone"),
        (vec!["sued", "--name", "Süd", "--time-zone", "UTC", "--owner-email", "not-an-address"], "e-mail"),
        (vec!["sued", "--name", "  ", "--time-zone", "UTC", "--owner-email", "x@y.example"], "name"),
    ] {
        let refused = cli.run(&[&["clinic", "create"], bad.as_slice()].concat());
        assert!(!refused.status.success(), "{bad:?} was accepted");
        let stderr = String::from_utf8_lossy(&refused.stderr);
        assert!(stderr.contains(says), "{bad:?}: {stderr}");
    }
    assert_eq!(count("SELECT COUNT(*) FROM clinics").await, 1, "a refused command created a clinic");
}

#[tokio::test]
async fn a_clinic_file_is_exported_checked_by_a_dry_run_and_applied_from_the_command_line() {
    let cli = Cli::new();
    cli.ok(&["seed-demo"]);
    let path = cli.dir.0.join("demo.toml");
    let path_arg = path.to_str().unwrap();
    cli.ok(&["clinic", "export", "demo", "--output", path_arg]);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("[providers.anna-weber]") && text.contains("slug = \"demo\""), "{text}");
    assert_eq!(cli.ok(&["clinic", "export", "demo"]), text, "printed or written, the same file");

    // A renamed clinic: the dry run says so and changes nothing; the apply changes it once.
    std::fs::write(&path, text.replace("name = \"Stadtpark Health Clinic\"", "name = \"Stadtpark Health\"")).unwrap();
    let dry = cli.ok(&["clinic", "apply", path_arg, "--dry-run"]);
    assert!(dry.contains("clinic demo: change name") && dry.contains("nothing was changed"), "{dry}");
    assert!(cli.ok(&["clinic", "export", "demo"]).contains("Stadtpark Health Clinic"));
    assert!(cli.ok(&["clinic", "apply", path_arg]).contains("applied 1 change(s)"));
    assert!(cli.ok(&["clinic", "apply", path_arg]).contains("nothing changed"));

    // Leaving Dr. Weber out would strand her booked appointments: refused, listed, unless kept.
    let start = text.find("[providers.anna-weber]").unwrap();
    let end = start + text[start..].find("\n[providers.jonas-keller]").unwrap();
    std::fs::write(&path, format!("{}{}", &text[..start], &text[end + 1..])).unwrap();
    let refused = cli.run(&["clinic", "apply", path_arg]);
    assert!(!refused.status.success());
    let (out, err) = (String::from_utf8_lossy(&refused.stdout), String::from_utf8_lossy(&refused.stderr));
    assert!(out.contains("Dr. Anna Weber") && out.contains("providerArchived") && err.contains("--keep-booked"), "{out}\n{err}");
    assert!(cli.ok(&["clinic", "export", "demo"]).contains("[providers.anna-weber]\n"), "nothing was changed");
    let kept = cli.ok(&["clinic", "apply", path_arg, "--keep-booked"]);
    assert!(kept.contains("provider anna-weber: archive") && kept.contains("kept and flagged"), "{kept}");

    // A new clinic from a file needs its owner; a broken file names its line.
    std::fs::write(&path, text.replacen("slug = \"demo\"", "slug = \"nord\"", 1)).unwrap();
    let ownerless = cli.run(&["clinic", "apply", path_arg]);
    assert!(!ownerless.status.success() && String::from_utf8_lossy(&ownerless.stderr).contains("--owner-email"));
    let created = cli.ok(&["clinic", "apply", path_arg, "--owner-email", "chef@nord.example"]);
    assert!(created.contains("clinic nord: create") && created.contains("/admin/setup/"), "{created}");
    std::fs::write(&path, text.replace("duration_minutes = 45", "duration_minutes = \"long\"")).unwrap();
    let broken = cli.run(&["clinic", "apply", path_arg, "--dry-run"]);
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(!broken.status.success() && err.contains("line") && err.contains("demo.toml"), "{err}");
}

#[tokio::test]
async fn a_link_secret_of_fewer_than_32_random_bytes_is_refused_at_start() {
    let cli = Cli::new();
    for weak in ["a long enough passphrase, once", "c2hvcnQ=", "00112233445566778899aabbccddeeff"] {
        let out = cli.command().env("BOOKING_LINK_SECRET", weak).arg("migrate").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{weak:?} was accepted");
        assert!(stderr.contains("BOOKING_LINK_SECRET") && stderr.contains("openssl rand -base64 32"), "{weak:?}: {stderr}");
    }
    let strong = "3q2+7wABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhs=, 00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
    let out = cli.command().env("BOOKING_LINK_SECRET", strong).arg("migrate").output().unwrap();
    assert!(out.status.success(), "two strong keys: {}", String::from_utf8_lossy(&out.stderr));
}

#[tokio::test]
async fn mail_settings_that_cannot_work_are_refused_at_start() {
    let cli = Cli::new();
    let start = |vars: &[(&str, &str)]| {
        let mut command = cli.command();
        for (k, v) in vars {
            command.env(k, v);
        }
        command.arg("migrate").output().unwrap()
    };
    for (vars, says) in [
        (&[("BOOKING_SMTP_URL", "smtp://127.0.0.1:2525")][..], "BOOKING_MAIL_FROM"),
        (&[("BOOKING_SMTP_URL", "smtp://127.0.0.1:2525"), ("BOOKING_MAIL_FROM", "Praxis Nord")][..], "BOOKING_MAIL_FROM"),
        (&[("BOOKING_SMTP_URL", "http://mail.example.org"), ("BOOKING_MAIL_FROM", "a@b.de")][..], "BOOKING_SMTP_URL"),
    ] {
        let out = start(vars);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{vars:?} was accepted");
        assert!(stderr.contains(says), "{vars:?}: {stderr}");
    }
    let fine = start(&[("BOOKING_SMTP_URL", "smtp://127.0.0.1:2525?tls=required"), ("BOOKING_MAIL_FROM", "Praxis Nord <termine@praxis-nord.example>")]);
    assert!(fine.status.success(), "{}", String::from_utf8_lossy(&fine.stderr));
}

#[tokio::test]
async fn a_page_cache_moment_that_is_not_a_number_of_milliseconds_up_to_a_minute_is_refused_at_start() {
    let cli = Cli::new();
    for bad in ["one second", "-1", "1.5", "60001"] {
        let out = cli.command().env("BOOKING_PAGE_CACHE_MS", bad).arg("migrate").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{bad:?} was accepted");
        assert!(stderr.contains("BOOKING_PAGE_CACHE_MS"), "{bad:?}: {stderr}");
    }
    for good in ["0", "250", "60000"] {
        let out = cli.command().env("BOOKING_PAGE_CACHE_MS", good).arg("migrate").output().unwrap();
        assert!(out.status.success(), "{good:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::test]
async fn operations_settings_that_cannot_work_are_refused_at_start() {
    let cli = Cli::new();
    for (name, bad) in [
        ("BOOKING_METRICS_ADDR", "localhost"),
        ("BOOKING_METRICS_ADDR", "127.0.0.1"),
        ("BOOKING_METRICS_ADDR", "127.0.0.1:99999"),
        ("BOOKING_RETENTION_DAYS", "0"),
        ("BOOKING_RETENTION_DAYS", "3651"),
        ("BOOKING_RETENTION_DAYS", "a month"),
        ("BOOKING_RETENTION_INTERVAL_MINUTES", "0"),
        ("BOOKING_RETENTION_INTERVAL_MINUTES", "1441"),
        ("BOOKING_LOG_FORMAT", "xml"),
    ] {
        let out = cli.command().env(name, bad).arg("migrate").output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{name}={bad:?} was accepted");
        assert!(stderr.contains(name), "{name}={bad:?}: {stderr}");
    }
    for (name, good) in [
        ("BOOKING_METRICS_ADDR", "127.0.0.1:9100"),
        ("BOOKING_METRICS_ADDR", "[::1]:9100"),
        ("BOOKING_RETENTION_DAYS", "1"),
        ("BOOKING_RETENTION_DAYS", "3650"),
        ("BOOKING_RETENTION_INTERVAL_MINUTES", "1440"),
        ("BOOKING_LOG_FORMAT", "json"),
        ("BOOKING_LOG_FORMAT", "text"),
    ] {
        let out = cli.command().env(name, good).arg("migrate").output().unwrap();
        assert!(out.status.success(), "{name}={good:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

#[tokio::test]
async fn backup_and_restore_refuse_postgresql_and_point_to_its_tools() {
    for args in [&["backup", "/tmp/never-written.db"][..], &["restore", "/tmp/never-read.db"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_server"))
            .args(args)
            .env("DATABASE_URL", "postgres://booking@127.0.0.1:1/none")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(stderr.contains("pg_dump"), "{args:?}: {stderr}");
    }
}
