//! A clinic's setup as a file, on both backends: exported and applied to a fresh database it
//! offers the same times; applying it again, or a dry run, changes nothing; a changed file
//! changes what it says (keeping each entry's identity), archives what it leaves out, and
//! leaves no booked appointment outside the rules without saying so.

use chrono::{DateTime, Duration, DurationRound, NaiveDate, Utc};
use domain::catalogue::ProviderDef;
use domain::patient::Email;
use domain::schedule::{ExceptionDef, HoursDef, LocalTime};
use store::attention::Stranding;
use store::clinic_file::{HolidayItem, HoursItem, Text};
use store::schedule_admin::{NewRules, RuleKind};
use store::staff::Actor;
use store::testing::{appointment, fresh_db, scalar_i64, scalar_text, seeded_demo, test_clock, TestDb};
use store::{on_both_backends, AvailabilityRequest, ClinicFile, Store, StoreError};

fn demo_slug() -> domain::ClinicSlug {
    domain::ClinicSlug::parse("demo").unwrap()
}

/// Every bookable time of every product at every location over `days` from `from`, as
/// (location, product, provider, start), named so that two databases can be compared.
async fn offered(store: &Store, from: NaiveDate, days: i64, now: DateTime<Utc>) -> Vec<(String, String, String, DateTime<Utc>)> {
    let clinic = store.clinic_by_slug(&demo_slug()).await.unwrap().id;
    let catalogue = store.clinic_catalogue(clinic).await.unwrap();
    let mut out = Vec::new();
    for location in catalogue.locations.iter().filter(|l| !l.archived) {
        for product in catalogue.products.iter().filter(|p| !p.archived) {
            let request = AvailabilityRequest {
                clinic_id: clinic,
                location_id: location.id,
                product_id: product.id,
                provider_id: None,
                from,
                to: from + Duration::days(days),
                new_patient: false,
                now,
            };
            for p in store.availability(&request).await.unwrap().providers {
                let name = catalogue.provider(p.provider_id).unwrap().def.name.clone();
                out.extend(p.slots.iter().map(|s| (location.def.name.clone(), product.def.name.clone(), name.clone(), s.interval.start)));
            }
        }
    }
    out.sort();
    out
}

async fn audit_rows(store: &Store) -> i64 {
    scalar_i64(store, "SELECT COUNT(*) FROM audit_log").await
}

async fn exported(store: &Store, now: DateTime<Utc>) -> String {
    store.export_clinic(&demo_slug(), now).await.unwrap().to_toml()
}

async fn exporting_a_clinic_and_applying_it_to_a_fresh_database_offers_the_same_times(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (clinic, ctx) = seeded_demo(&store, now).await;
    let actor = Actor::cli();
    let today = now.with_timezone(&ctx.location.tz).date_naive();
    // Changes made in the console, past the demo's own appointments: a provider created
    // without a key, a closed day, a block and a holiday.
    let general = ctx.service.id;
    let (new_provider, _) = store
        .save_provider(clinic, &actor, None, &ProviderDef::new("Dr. Eva Roth", "Dr.", "female", "", vec![general]).unwrap(), Stranding::Refuse, now)
        .await
        .unwrap();
    let at = |t: &str| LocalTime::parse(t).unwrap();
    let hours = HoursDef::new(ctx.location.id, 2, at("10:00"), at("16:00"), None, None).unwrap();
    store.add_hours(clinic, &actor, new_provider, &hours, now).await.unwrap();
    let anna = ctx.providers[0].provider_id;
    store.add_exception(clinic, &actor, anna, &ExceptionDef::closed(today + Duration::days(15)), Stranding::Refuse, now).await.unwrap();
    let block_start = (now + Duration::days(16)).duration_trunc(Duration::minutes(1)).unwrap();
    store.add_block(clinic, &actor, anna, block_start, block_start + Duration::hours(2), "Training", Stranding::Refuse, now).await.unwrap();
    store.add_holiday(clinic, &actor, today + Duration::days(18), "Clinic outing", Stranding::Refuse, now).await.unwrap();

    let text = exported(&store, now).await;
    assert!(text.contains("[providers.dr-eva-roth]"), "an entry made in the console gets a key from its name:\n{text}");
    let file = ClinicFile::parse(&text).unwrap();

    let copy = fresh_db(store.backend()).await.store;
    let owner = Email::parse("owner@copy.example").unwrap();
    let applied = copy.apply_clinic_file(&file, Some(owner), &actor, Stranding::Refuse, now).await.unwrap();
    assert!(applied.invitation.is_some(), "a new clinic's owner gets a setup link");
    assert!(applied.changes.iter().any(|c| c == "provider dr-eva-roth: create"), "{:?}", applied.changes);

    let from = today + Duration::days(11);
    let before = offered(&store, from, 30, now).await;
    assert!(before.len() > 100, "the demo offers times: {}", before.len());
    assert_eq!(offered(&copy, from, 30, now).await, before, "the same times, provider by provider");
    assert_eq!(exported(&copy, now).await, text, "and the same file");
}

async fn applying_the_same_file_twice_or_a_dry_run_changes_nothing(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    seeded_demo(&store, now).await;
    let file = ClinicFile::parse(store::DEMO_FILE).unwrap();
    let audit = audit_rows(&store).await;
    let plan = store.plan_clinic_file(&file, now).await.unwrap();
    assert!(!plan.changes.is_empty() && plan.changes.iter().all(|c| c.ends_with(": remove") || c.contains(": remove ")), "{:?}", plan.changes);
    assert!(plan.changes.iter().any(|c| c.starts_with("provider anna-weber: remove block")), "{:?}", plan.changes);

    // The demo's dated extras are not in its file: applying it removes them; the second
    // apply finds nothing left to do.
    store.apply_clinic_file(&file, None, &Actor::cli(), Stranding::Flag, now).await.unwrap();
    let after_first = audit_rows(&store).await;
    let text = exported(&store, now).await;
    let plan = store.plan_clinic_file(&file, now).await.unwrap();
    assert_eq!(plan.changes, Vec::<String>::new());
    let again = store.apply_clinic_file(&file, None, &Actor::cli(), Stranding::Refuse, now).await.unwrap();
    assert!(again.changes.is_empty() && again.flagged.is_empty());
    assert_eq!(audit_rows(&store).await, after_first, "nothing written the second time");
    assert_eq!(exported(&store, now).await, text);
    assert!(after_first > audit, "the first apply was audited");

    // A dry run of a changed file lists the changes and writes nothing.
    let changed = store::DEMO_FILE.replace("name = \"Berlin Mitte\"", "name = \"Berlin Mitte (Torstraße)\"");
    let plan = store.plan_clinic_file(&ClinicFile::parse(&changed).unwrap(), now).await.unwrap();
    assert_eq!(plan.changes, ["location berlin-mitte: change name"]);
    assert_eq!(audit_rows(&store).await, after_first);
    assert_eq!(exported(&store, now).await, text);
}

async fn a_changed_file_renames_moves_archives_and_restores_keeping_each_entry(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (clinic, ctx) = seeded_demo(&store, now).await;
    let today = now.with_timezone(&ctx.location.tz).date_naive();
    let actor = Actor::cli();
    let base = store.export_clinic(&demo_slug(), now).await.unwrap().to_toml();
    let anna = ctx.providers[0].provider_id;
    let braun = scalar_i64(&store, "SELECT id FROM providers WHERE file_key = 'lukas-braun'").await;

    // Dr. Weber is renamed and her Friday afternoons end later; Dr. Braun and the 45-minute
    // physiotherapy leave the file; a holiday is added.
    let holiday = today + Duration::days(20);
    let mut file = ClinicFile::parse(&base).unwrap();
    file.providers.get_mut("anna-weber").unwrap().name = "Dr. Anna Weber-Roth".into();
    let fridays = file.providers["anna-weber"].hours.iter().position(|h| h.end.0 == "15:00").unwrap();
    file.providers.get_mut("anna-weber").unwrap().hours[fridays].end = Text("16:00".into());
    file.providers.shift_remove("lukas-braun");
    file.products.shift_remove("physiotherapy-45");
    file.holidays.push(HolidayItem { date: Text(holiday.to_string()), name: "Founders' Day".into() });

    let plan = store.plan_clinic_file(&file, now).await.unwrap();
    for line in [
        "provider anna-weber: change name".to_owned(),
        "provider anna-weber: remove hours fri 13:00-15:00 at berlin-mitte".to_owned(),
        "provider anna-weber: add hours fri 13:00-16:00 at berlin-mitte".to_owned(),
        format!("holiday {holiday}: add (Founders' Day)"),
        "provider lukas-braun: archive".to_owned(),
        "product physiotherapy-45: archive".to_owned(),
    ] {
        assert!(plan.changes.contains(&line), "{line:?} not in {:#?}", plan.changes);
    }
    store.apply_clinic_file(&file, None, &actor, Stranding::Refuse, now).await.unwrap();
    let catalogue = store.clinic_catalogue(clinic).await.unwrap();
    assert_eq!(catalogue.provider(anna).unwrap().def.name, "Dr. Anna Weber-Roth", "renamed, not replaced");
    assert!(catalogue.provider(braun).unwrap().archived, "left out: archived, not deleted");
    assert!(catalogue.products.iter().any(|p| p.def.name == "Physiotherapy 45 min" && p.archived));
    assert!(store.clinic_holidays(clinic).await.unwrap().iter().any(|h| h.date == holiday));
    let audit = store.audit_log(clinic, 20).await.unwrap();
    assert!(audit.iter().all(|a| a.actor == "cli"));
    assert!(audit.iter().any(|a| a.action == "schedule.replace" && a.detail["provider"] == anna));

    // The first file brings them back as they were, with their ids.
    store.apply_clinic_file(&ClinicFile::parse(&base).unwrap(), None, &actor, Stranding::Refuse, now).await.unwrap();
    assert_eq!(exported(&store, now).await, base);
    assert!(!store.clinic_catalogue(clinic).await.unwrap().provider(braun).unwrap().archived);
}

async fn a_file_that_strands_an_appointment_names_it_and_is_refused_until_kept(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (clinic, ctx) = seeded_demo(&store, now).await;
    let anna = ctx.providers[0].provider_id;
    // A booking three weeks ahead, in one of Dr. Weber's weekly periods.
    let from = (now + Duration::days(21)).with_timezone(&ctx.location.tz).date_naive();
    let request = AvailabilityRequest {
        clinic_id: clinic,
        location_id: ctx.location.id,
        product_id: ctx.product.id,
        provider_id: Some(anna),
        from,
        to: from + Duration::days(7),
        new_patient: false,
        now,
    };
    let slot = store.availability(&request).await.unwrap().providers[0].slots[0].interval;
    let booked = store.create_appointment(&appointment(clinic, &ctx, anna, slot.start, now)).await.unwrap().appointment_id;
    let base = ClinicFile::parse(&exported(&store, now).await).unwrap();
    let local = slot.start.with_timezone(&ctx.location.tz);
    let start_of = |h: &HoursItem| h.start.0.clone();

    // Moving the start of that period an hour earlier keeps the booking inside: both changes
    // are checked together, so removing the old period alone does not count.
    let hhmm = local.format("%H:%M").to_string();
    let covering = base.providers["anna-weber"].hours.iter().position(|h| start_of(h) <= hhmm && h.end.0 > hhmm).unwrap();
    let mut earlier = base.clone();
    let period = &mut earlier.providers.get_mut("anna-weber").unwrap().hours[covering];
    period.start = Text("07:00".into());
    assert!(store.plan_clinic_file(&earlier, now).await.unwrap().stranded.is_empty());

    // Ending that period the day before strands the booking (and none of the earlier ones).
    let mut without = base.clone();
    let date = local.date_naive();
    without.providers.get_mut("anna-weber").unwrap().hours[covering].valid_until = Some(Text((date - Duration::days(1)).to_string()));
    let plan = store.plan_clinic_file(&without, now).await.unwrap();
    assert_eq!(plan.stranded.iter().map(|a| a.appointment_id).collect::<Vec<_>>(), [booked]);
    let audit = audit_rows(&store).await;
    let refused = store.apply_clinic_file(&without, None, &Actor::cli(), Stranding::Refuse, now).await;
    assert!(matches!(refused, Err(StoreError::WouldStrand(1))), "{refused:?}");
    assert_eq!(audit_rows(&store).await, audit, "nothing written");
    assert_eq!(ClinicFile::parse(&exported(&store, now).await).unwrap(), base);

    let kept = store.apply_clinic_file(&without, None, &Actor::cli(), Stranding::Flag, now).await.unwrap();
    assert_eq!(kept.flagged, [booked]);
    assert_eq!(scalar_text(&store, &format!("SELECT status FROM appointments WHERE id = {booked}")).await, "booked");
    assert_eq!(store.needing_attention(clinic, now).await.unwrap().iter().map(|a| a.appointment_id).collect::<Vec<_>>(), [booked]);
}

async fn a_bad_file_creates_nothing(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let bad = store::DEMO_FILE.replace("services = [\"physiotherapy\"]", "services = [\"massage\"]");
    let refused = store.apply_clinic_file(&ClinicFile::parse(&bad).unwrap(), None, &Actor::cli(), Stranding::Refuse, now).await;
    match refused {
        Err(StoreError::ClinicFile { at, reason }) => {
            assert_eq!(at, "providers.jonas-keller.services[0]");
            assert!(reason.contains("massage"), "{reason}");
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(scalar_i64(&store, "SELECT COUNT(*) FROM clinics").await, 0);
    assert!(matches!(store.export_clinic(&demo_slug(), now).await, Err(StoreError::NotFound("clinic"))));
}

async fn the_file_sets_what_patients_are_emailed_and_refuses_bad_values_naming_the_key(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    seeded_demo(&store, now).await;
    let clinic = store.clinic_by_slug(&demo_slug()).await.unwrap().id;
    let demo = store.notification_settings(clinic).await.unwrap();
    assert_eq!(demo.note, "Please bring your insurance card and arrive five minutes early.", "the demo file's note");
    let changed = store::DEMO_FILE
        .replace("rescheduled = true", "rescheduled = false")
        .replace("reminder_minutes = 1440", "reminder_minutes = 2880")
        .replace("Please bring your insurance card and arrive five minutes early.", "Lift to the 2nd floor.");
    let plan = store.plan_clinic_file(&ClinicFile::parse(&changed).unwrap(), now).await.unwrap();
    assert!(plan.changes.contains(&"notifications: change note, reminder_minutes, rescheduled".to_owned()), "{:?}", plan.changes);
    let audit = audit_rows(&store).await;
    store.apply_clinic_file(&ClinicFile::parse(&changed).unwrap(), None, &Actor::cli(), Stranding::Flag, now).await.unwrap();
    let applied = store.notification_settings(clinic).await.unwrap();
    assert!(!applied.rescheduled && applied.confirmation && applied.reminder);
    assert_eq!((applied.reminder_minutes, applied.note.as_str()), (2880, "Lift to the 2nd floor."));
    assert!(audit_rows(&store).await > audit);
    assert!(scalar_i64(&store, "SELECT COUNT(*) FROM audit_log WHERE action = 'clinic.notifications'").await >= 1);
    let text = exported(&store, now).await;
    assert!(text.contains("[notifications]") && text.contains("reminder_minutes = 2880") && text.contains("rescheduled = false"), "{text}");
    // A file without the section means the defaults: everything sent, a day ahead, no note.
    let plain: String = changed.lines().filter(|l| !l.starts_with("[notifications]") && ![
        "confirmation", "rescheduled", "cancelled", "reminder", "reminder_minutes", "sender", "note",
    ].iter().any(|k| l.starts_with(&format!("{k} =")))).collect::<Vec<_>>().join("\n");
    store.apply_clinic_file(&ClinicFile::parse(&plain).unwrap(), None, &Actor::cli(), Stranding::Flag, now).await.unwrap();
    assert_eq!(store.notification_settings(clinic).await.unwrap(), domain::notify::NotificationSettings::default());

    for (from, to, key) in [
        ("reminder_minutes = 1440", "reminder_minutes = 30", "notifications.reminder_minutes"),
        ("sender = \"Stadtpark Health Clinic <appointments@stadtpark-clinic.example>\"", "sender = \"Stadtpark <not an address>\"", "notifications.sender"),
        ("note = \"Please", "note = \"\\u0007Please", "notifications.note"),
    ] {
        let bad = store::DEMO_FILE.replace(from, to);
        assert_ne!(bad, store::DEMO_FILE, "{from}");
        match store.apply_clinic_file(&ClinicFile::parse(&bad).unwrap(), None, &Actor::cli(), Stranding::Flag, now).await {
            Err(StoreError::ClinicFile { at, .. }) => assert_eq!(at, key),
            other => panic!("{key}: expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(store.notification_settings(clinic).await.unwrap(), domain::notify::NotificationSettings::default(), "refused files change nothing");
    let misspelt = store::DEMO_FILE.replace("reminder_minutes = 1440", "reminder_minuts = 1440");
    assert!(ClinicFile::parse(&misspelt).is_err(), "an unknown key is refused");
}

async fn replacing_rules_refuses_overlaps_and_unknown_removals_and_changes_nothing(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (clinic, ctx) = seeded_demo(&store, now).await;
    let actor = Actor::cli();
    let anna = ctx.providers[0].provider_id;
    let before = store.provider_schedule(clinic, anna).await.unwrap();
    let audit = audit_rows(&store).await;
    let at = |t: &str| LocalTime::parse(t).unwrap();
    let monday_morning = before.hours.iter().find(|h| h.def.weekday == 1 && h.def.start == at("08:00")).unwrap();
    let overlapping = NewRules { hours: vec![HoursDef::new(ctx.location.id, 1, at("09:00"), at("12:30"), None, None).unwrap()], ..NewRules::default() };
    let twice_closed = NewRules { exceptions: vec![ExceptionDef::closed(NaiveDate::from_ymd_opt(2031, 1, 6).unwrap()); 2], ..NewRules::default() };
    let elsewhere = NewRules { hours: vec![HoursDef::new(999_999, 6, at("08:00"), at("09:00"), None, None).unwrap()], ..NewRules::default() };
    for (remove, add, field) in [
        (vec![], overlapping.clone(), "start"),
        (vec![], twice_closed, "date"),
        (vec![], elsewhere, "location"),
    ] {
        match store.replace_rules(clinic, &actor, anna, &remove, &add, Stranding::Flag, now).await {
            Err(StoreError::Rule(domain::DomainError::Invalid { field: f, .. })) => assert_eq!(f, field),
            other => panic!("expected a refusal of {field}, got {other:?}"),
        }
    }
    let unknown = store.replace_rules(clinic, &actor, anna, &[(RuleKind::Block, 999_999)], &NewRules::default(), Stranding::Flag, now).await;
    assert!(matches!(unknown, Err(StoreError::NotFound("block"))), "{unknown:?}");
    assert_eq!(store.provider_schedule(clinic, anna).await.unwrap(), before);
    assert_eq!(audit_rows(&store).await, audit, "nothing written");
    // Removing the Monday morning first makes room for the longer one, in one change.
    store.replace_rules(clinic, &actor, anna, &[(RuleKind::Hours, monday_morning.id)], &overlapping, Stranding::Flag, now).await.unwrap();
    let after = store.provider_schedule(clinic, anna).await.unwrap();
    assert!(after.hours.iter().any(|h| h.def.weekday == 1 && h.def.start == at("09:00")));
    assert!(after.hours.iter().all(|h| h.id != monday_morning.id));
}

on_both_backends!(
    exporting_a_clinic_and_applying_it_to_a_fresh_database_offers_the_same_times,
    applying_the_same_file_twice_or_a_dry_run_changes_nothing,
    a_changed_file_renames_moves_archives_and_restores_keeping_each_entry,
    a_file_that_strands_an_appointment_names_it_and_is_refused_until_kept,
    a_bad_file_creates_nothing,
    the_file_sets_what_patients_are_emailed_and_refuses_bad_values_naming_the_key,
    replacing_rules_refuses_overlaps_and_unknown_removals_and_changes_nothing,
);
