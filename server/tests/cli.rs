//! The staff CLI on a real database file: credentials, a desk booking, check-in, registration.

use chrono::Utc;
use domain::patient::{PersonDetails, PersonName, Phone};
use std::process::{Command, Output};
use store::Store;

struct Cli {
    url: String,
    _dir: tempdir::Dir,
}

mod tempdir {
    /// A directory removed when the test ends.
    pub struct Dir(pub std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

impl Cli {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("booking-cli-{}-{}", std::process::id(), rand_suffix()));
        std::fs::create_dir_all(&dir).unwrap();
        Cli { url: format!("sqlite://{}/booking.db?mode=rwc", dir.display()), _dir: tempdir::Dir(dir) }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_server"))
            .args(args)
            .env("DATABASE_URL", &self.url)
            .env("BOOKING_DEMO_API_KEY", "bk_cli_test_key")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8(out.stdout).unwrap()
    }
}

fn rand_suffix() -> u64 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos() as u64
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
    let patient = store.create_patient(clinic.id, &details, false, Utc::now()).await.unwrap();
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
    let facility = store.authenticate("front-desk", &key, Utc::now()).await.unwrap().unwrap();
    assert_eq!(facility.kind, store::credentials::CredentialKind::Staff);
    assert!(!cli.run(&["credentials", "create", "demo", "front-desk"]).status.success(), "usernames are unique");
    assert!(!cli.run(&["credentials", "rotate", "front-desk", "--expires-in-days", "30"]).status.success(), "90 days at least");
    let rotated = cli.ok(&["credentials", "rotate", "front-desk", "--expires-in-days", "365"]);
    assert!(rotated.contains("expires "), "{rotated}");

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
    let facility = store.authenticate("acme-voice", &key, Utc::now()).await.unwrap().unwrap();
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
