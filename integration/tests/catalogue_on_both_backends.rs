//! Staff editing a clinic's catalogue, on both backends: what is saved and audited, what
//! archiving takes out of booking, and what can never be deleted.

use chrono::Duration;
use domain::catalogue::{LocationDef, ProductDef, ProductInput, ProviderDef, ServiceDef};
use domain::patient::PatientField;
use domain::DomainError;
use store::attention::Stranding;
use store::catalogue_admin::Kind;
use store::staff::Actor;
use store::testing::{another_clinic, appointment, execute, scalar_i64, seeded_demo, test_clock, TestDb};
use store::{on_both_backends, AvailabilityRequest, StoreError};

fn product(service_id: i64, name: &str, minutes: i64) -> ProductDef {
    ProductDef::new(ProductInput {
        service_id: Some(service_id),
        name: name.into(),
        duration_minutes: minutes,
        price_cents: 4500,
        currency: "USD".into(),
        booker_fields: vec![PatientField::FirstName, PatientField::LastName, PatientField::Phone],
        ..ProductInput::default()
    })
    .unwrap()
}

fn refused_field(r: Result<impl std::fmt::Debug, StoreError>) -> &'static str {
    match r {
        Err(StoreError::Rule(DomainError::Invalid { field, .. })) => field,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

async fn a_catalogue_built_from_nothing_reads_back_as_saved_and_every_change_is_audited(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let clinic = another_clinic(&store, "east").await;
    let actor = Actor::cli();
    let location = LocationDef::new("Midtown", "1 Main St, New York", "America/New_York").unwrap();
    let (location_id, created) = store.save_location(clinic, &actor, None, &location, now).await.unwrap();
    assert!(created);
    let (service_id, _) = store.save_service(clinic, &actor, None, &ServiceDef::new("Dental", 30).unwrap(), now).await.unwrap();
    let (short, _) = store.save_product(clinic, &actor, None, &product(service_id, "Check-up", 20), now).await.unwrap();
    let (long, _) = store.save_product(clinic, &actor, None, &product(service_id, "Cleaning", 50), now).await.unwrap();
    let provider = ProviderDef::new("Ana Ruiz", "Dr.", "female", "Dentistry", vec![service_id]).unwrap();
    let (provider_id, _) = store.save_provider(clinic, &actor, None, &provider, Stranding::Flag, now).await.unwrap();

    let c = store.clinic_catalogue(clinic).await.unwrap();
    assert_eq!(c.location(location_id).unwrap().def, location);
    assert_eq!(c.product(short).unwrap().def, product(service_id, "Check-up", 20));
    assert_eq!(c.product(long).unwrap().def.duration_minutes, 50);
    assert_eq!(c.provider(provider_id).unwrap().def, provider);
    assert!(c.locations.iter().all(|e| !e.archived) && c.products.iter().all(|e| !e.archived));
    let audited = scalar_i64(&store, &format!("SELECT COUNT(*) FROM audit_log WHERE clinic_id = {clinic}")).await;
    assert_eq!(audited, 5);

    // Saving the same again changes nothing and writes no audit row.
    assert_eq!(store.save_location(clinic, &actor, Some(location_id), &location, now).await.unwrap(), (location_id, false));
    assert!(!store.save_provider(clinic, &actor, Some(provider_id), &provider, Stranding::Flag, now).await.unwrap().1);
    assert!(!store.save_product(clinic, &actor, Some(short), &product(service_id, "Check-up", 20), now).await.unwrap().1);
    assert_eq!(scalar_i64(&store, &format!("SELECT COUNT(*) FROM audit_log WHERE clinic_id = {clinic}")).await, audited);

    // A change records what changed, and only that.
    let renamed = LocationDef { name: "Midtown East".into(), ..location.clone() };
    assert!(store.save_location(clinic, &actor, Some(location_id), &renamed, now).await.unwrap().1);
    let entry = store.audit_log(clinic, 1).await.unwrap().remove(0);
    assert_eq!(entry.action, "location.update");
    assert_eq!(entry.detail, serde_json::json!({ "id": location_id, "name": { "from": "Midtown", "to": "Midtown East" } }));
    let without = ProviderDef { service_ids: vec![], ..provider.clone() };
    assert!(store.save_provider(clinic, &actor, Some(provider_id), &without, Stranding::Flag, now).await.unwrap().1);
    assert_eq!(store.clinic_catalogue(clinic).await.unwrap().provider(provider_id).unwrap().def.service_ids, Vec::<i64>::new());
}

async fn nothing_of_another_clinic_can_be_changed_or_used(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (demo, _) = seeded_demo(&store, now).await;
    let other = another_clinic(&store, "west").await;
    let actor = Actor::cli();
    let demo_catalogue = store.clinic_catalogue(demo).await.unwrap();
    let demo_location = demo_catalogue.locations[0].id;
    let demo_service = demo_catalogue.services[0].id;
    let before = scalar_i64(&store, "SELECT COUNT(*) FROM audit_log").await;

    let location = LocationDef::new("Taken", "Elsewhere 1", "UTC").unwrap();
    let moved = store.save_location(other, &actor, Some(demo_location), &location, now).await;
    assert!(matches!(moved, Err(StoreError::NotFound("location"))), "{moved:?}");
    assert_eq!(refused_field(store.save_product(other, &actor, None, &product(demo_service, "Borrowed", 20), now).await), "service");
    let provider = ProviderDef::new("Borrower", "", "", "", vec![demo_service]).unwrap();
    assert_eq!(refused_field(store.save_provider(other, &actor, None, &provider, Stranding::Flag, now).await), "services");
    for kind in Kind::ALL {
        let id = match kind {
            Kind::Location => demo_location,
            Kind::Service => demo_service,
            Kind::Product => demo_catalogue.products[0].id,
            Kind::Provider => demo_catalogue.providers[0].id,
        };
        assert!(matches!(store.set_archived(other, &actor, kind, id, true, Stranding::Flag, now).await, Err(StoreError::NotFound(_))));
        assert!(matches!(store.delete_entry(other, &actor, kind, id, now).await, Err(StoreError::NotFound(_))));
    }
    assert_eq!(store.clinic_catalogue(demo).await.unwrap(), demo_catalogue);
    assert_eq!(scalar_i64(&store, "SELECT COUNT(*) FROM audit_log").await, before);
    assert_eq!(scalar_i64(&store, &format!("SELECT COUNT(*) FROM providers WHERE clinic_id = {other}")).await, 0);
}

async fn archiving_takes_an_entry_out_of_booking_and_keeps_its_appointments(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (clinic, ctx) = seeded_demo(&store, now).await;
    let actor = Actor::cli();
    let provider = ctx.providers[0].provider_id;
    let request = |provider_id| AvailabilityRequest {
        clinic_id: clinic,
        location_id: ctx.location.id,
        product_id: ctx.product.id,
        provider_id,
        from: (now + Duration::days(1)).date_naive(),
        to: (now + Duration::days(14)).date_naive(),
        new_patient: false,
        now,
    };
    let offered = store.availability(&request(Some(provider))).await.unwrap();
    let slot = offered.providers[0].slots.first().expect("the demo provider has free time").clone();
    let booked = store
        .create_appointment(&appointment(clinic, &ctx, provider, slot.interval.start, now))
        .await
        .unwrap();

    assert!(store.set_archived(clinic, &actor, Kind::Provider, provider, true, Stranding::Flag, now).await.unwrap());
    assert!(!store.set_archived(clinic, &actor, Kind::Provider, provider, true, Stranding::Flag, now).await.unwrap(), "archiving twice changes nothing");
    let catalogue = store.catalogue_of(store.clinic_by_id(clinic).await.unwrap()).await.unwrap();
    assert!(catalogue.offers.iter().all(|o| o.provider_id != provider), "an archived provider is not offered");
    assert!(matches!(store.availability(&request(Some(provider))).await, Err(StoreError::NotFound("provider"))));
    let everyone = store.availability(&request(None)).await.unwrap();
    assert!(everyone.providers.iter().all(|p| p.provider_id != provider));
    // The appointment stands, with its provider's name.
    let view = store.appointment_view(booked.appointment_id).await.unwrap();
    assert_eq!((view.status.as_str(), view.provider_name.as_str()), ("booked", ctx.providers[0].display_name.as_str()));
    assert!(store.clinic_catalogue(clinic).await.unwrap().provider(provider).unwrap().archived);

    // Archiving the product, then its service, takes them out; restoring brings them back.
    store.set_archived(clinic, &actor, Kind::Product, ctx.product.id, true, Stranding::Flag, now).await.unwrap();
    assert!(matches!(store.availability(&request(None)).await, Err(StoreError::NotFound("product"))));
    store.set_archived(clinic, &actor, Kind::Service, ctx.service.id, true, Stranding::Flag, now).await.unwrap();
    assert_eq!(refused_field(store.set_archived(clinic, &actor, Kind::Product, ctx.product.id, false, Stranding::Flag, now).await), "service");
    store.set_archived(clinic, &actor, Kind::Service, ctx.service.id, false, Stranding::Flag, now).await.unwrap();
    store.set_archived(clinic, &actor, Kind::Product, ctx.product.id, false, Stranding::Flag, now).await.unwrap();
    store.set_archived(clinic, &actor, Kind::Provider, provider, false, Stranding::Flag, now).await.unwrap();
    assert_eq!(store.availability(&request(Some(provider))).await.unwrap().providers[0].provider_id, provider);
    let actions = store.audit_log(clinic, 10).await.unwrap().into_iter().map(|e| e.action).collect::<Vec<_>>();
    assert_eq!(actions[..3], ["provider.restore", "product.restore", "service.restore"]);

    // An archived location is not offered either.
    store.set_archived(clinic, &actor, Kind::Location, ctx.location.id, true, Stranding::Flag, now).await.unwrap();
    assert!(matches!(store.availability(&request(None)).await, Err(StoreError::NotFound("location"))));
}

async fn what_appointments_refer_to_cannot_be_deleted_and_the_rest_goes_with_its_own_configuration(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (clinic, ctx) = seeded_demo(&store, now).await;
    let actor = Actor::cli();
    let provider = ctx.providers[0].provider_id;
    let offered = store
        .availability(&AvailabilityRequest {
            clinic_id: clinic,
            location_id: ctx.location.id,
            product_id: ctx.product.id,
            provider_id: Some(provider),
            from: (now + Duration::days(1)).date_naive(),
            to: (now + Duration::days(14)).date_naive(),
            new_patient: false,
            now,
        })
        .await
        .unwrap();
    let start = offered.providers[0].slots[0].interval.start;
    let booked = store.create_appointment(&appointment(clinic, &ctx, provider, start, now)).await.unwrap();
    // Cancelled appointments keep their history too.
    store.cancel_appointment(clinic, booked.appointment_id, "moved away", domain::appointment::BookingSource::Staff, now).await.unwrap();
    let before = scalar_i64(&store, "SELECT COUNT(*) FROM audit_log").await;
    for (kind, id) in [(Kind::Provider, provider), (Kind::Location, ctx.location.id), (Kind::Service, ctx.service.id)] {
        assert_eq!(refused_field(store.delete_entry(clinic, &actor, kind, id, now).await), kind.name());
    }
    assert_eq!(scalar_i64(&store, "SELECT COUNT(*) FROM audit_log").await, before);
    assert!(scalar_i64(&store, &format!("SELECT COUNT(*) FROM working_hours WHERE provider_id = {provider}")).await > 0);

    // A provider nobody booked goes, with their hours, exceptions and services.
    let def = ProviderDef::new("Locum", "", "", "", vec![ctx.service.id]).unwrap();
    let (idle, _) = store.save_provider(clinic, &actor, None, &def, Stranding::Flag, now).await.unwrap();
    let location = ctx.location.id;
    execute(&store, &format!("INSERT INTO working_hours (provider_id, location_id, weekday, starts_at, ends_at) VALUES ({idle}, {location}, 1, '08:00', '12:00')")).await;
    execute(&store, &format!("INSERT INTO schedule_exceptions (provider_id, on_date, kind) VALUES ({idle}, '2030-01-02', 'closed')")).await;
    store.delete_entry(clinic, &actor, Kind::Provider, idle, now).await.unwrap();
    for table in ["working_hours", "schedule_exceptions", "provider_services"] {
        assert_eq!(scalar_i64(&store, &format!("SELECT COUNT(*) FROM {table} WHERE provider_id = {idle}")).await, 0, "{table}");
    }
    assert!(store.clinic_catalogue(clinic).await.unwrap().provider(idle).is_none());
    assert_eq!(store.audit_log(clinic, 1).await.unwrap()[0].action, "provider.delete");

    // A service with products is refused until they are gone; a live hold protects a product.
    let (service, _) = store.save_service(clinic, &actor, None, &ServiceDef::new("Physio", 45).unwrap(), now).await.unwrap();
    let (product_id, _) = store.save_product(clinic, &actor, None, &product(service, "Session", 45), now).await.unwrap();
    assert_eq!(refused_field(store.delete_entry(clinic, &actor, Kind::Service, service, now).await), "service");
    store.delete_entry(clinic, &actor, Kind::Product, product_id, now).await.unwrap();
    store.delete_entry(clinic, &actor, Kind::Service, service, now).await.unwrap();
    let hold = store.place_hold(clinic, offered.providers[0].slots[1].id.clone(), false, None, now).await.unwrap();
    assert!(!hold.token.is_empty());
    assert_eq!(refused_field(store.delete_entry(clinic, &actor, Kind::Product, ctx.product.id, now).await), "product");
}

/// The local start times (HH:MM) offered on `day` in New York.
async fn offered_on(store: &store::Store, clinic: i64, location: i64, product: i64, day: chrono::NaiveDate, now: chrono::DateTime<chrono::Utc>) -> Vec<String> {
    let a = store
        .availability(&AvailabilityRequest { clinic_id: clinic, location_id: location, product_id: product, provider_id: None, from: day, to: day, new_patient: false, now })
        .await
        .unwrap();
    let mut times: Vec<String> = a
        .providers
        .iter()
        .flat_map(|p| &p.slots)
        .map(|s| s.interval.start.with_timezone(&chrono_tz::America::New_York).format("%H:%M").to_string())
        .collect();
    times.sort();
    times
}

async fn a_week_is_made_of_hours_closed_days_extra_hours_blocks_and_holidays(db: TestDb) {
    use domain::schedule::{ExceptionDef, HoursDef, LocalTime};
    use store::schedule_admin::RuleKind;
    let store = db.store;
    let now = test_clock().now();
    let clinic = another_clinic(&store, "east").await;
    let actor = Actor::cli();
    let (location, _) = store.save_location(clinic, &actor, None, &LocationDef::new("Midtown", "1 Main St", "America/New_York").unwrap(), now).await.unwrap();
    let (service, _) = store.save_service(clinic, &actor, None, &ServiceDef::new("Dental", 60).unwrap(), now).await.unwrap();
    let (product_id, _) = store.save_product(clinic, &actor, None, &product(service, "Check-up", 60), now).await.unwrap();
    let (provider, _) = store.save_provider(clinic, &actor, None, &ProviderDef::new("Ana Ruiz", "", "", "", vec![service]).unwrap(), Stranding::Flag, now).await.unwrap();
    let t = |s: &str| LocalTime::parse(s).unwrap();
    let hours = |weekday, start, end| HoursDef::new(location, weekday, t(start), t(end), None, None).unwrap();
    store.add_hours(clinic, &actor, provider, &hours(1, "09:00", "12:00"), now).await.unwrap();
    store.add_hours(clinic, &actor, provider, &hours(1, "13:00", "15:00"), now).await.unwrap();
    // Overlapping hours are refused, at this location or any other.
    assert_eq!(refused_field(store.add_hours(clinic, &actor, provider, &hours(1, "11:00", "14:00"), now).await), "start");
    let foreign = another_clinic(&store, "west").await;
    assert!(matches!(store.add_hours(foreign, &actor, provider, &hours(2, "09:00", "12:00"), now).await, Err(StoreError::NotFound("provider"))));
    let elsewhere = HoursDef { location_id: location + 1000, ..hours(2, "09:00", "12:00") };
    assert_eq!(refused_field(store.add_hours(clinic, &actor, provider, &elsewhere, now).await), "location");

    let today = now.with_timezone(&chrono_tz::America::New_York).date_naive();
    let monday = (today + Duration::days(7)).week(chrono::Weekday::Mon).first_day();
    let week = offered_on(&store, clinic, location, product_id, monday, now).await;
    assert_eq!(week, ["09:00", "10:00", "11:00", "13:00", "14:00"], "the lunch break is not bookable");

    store.add_holiday(clinic, &actor, monday, "Founders' Day", Stranding::Flag, now).await.unwrap();
    assert_eq!(refused_field(store.add_holiday(clinic, &actor, monday, "Again", Stranding::Flag, now).await), "date");
    assert!(offered_on(&store, clinic, location, product_id, monday, now).await.is_empty(), "nothing on a holiday");
    assert_eq!(store.clinic_holidays(clinic).await.unwrap()[0].name, "Founders' Day");
    store.remove_holiday(clinic, &actor, monday, now).await.unwrap();

    let closed = store.add_exception(clinic, &actor, provider, &ExceptionDef::closed(monday), Stranding::Flag, now).await.unwrap();
    assert_eq!(refused_field(store.add_exception(clinic, &actor, provider, &ExceptionDef::closed(monday), Stranding::Flag, now).await), "date");
    assert!(offered_on(&store, clinic, location, product_id, monday, now).await.is_empty(), "nothing on a closed day");
    store.remove_rule(clinic, &actor, provider, RuleKind::Exception, closed, Stranding::Flag, now).await.unwrap();

    let sunday = monday - Duration::days(1);
    let extra = ExceptionDef::extra(sunday, t("10:00"), t("12:00")).unwrap();
    store.add_exception(clinic, &actor, provider, &extra, Stranding::Flag, now).await.unwrap();
    assert_eq!(offered_on(&store, clinic, location, product_id, sunday, now).await, ["10:00", "11:00"]);

    let nine = domain::zone::instant_at(chrono_tz::America::New_York, monday.and_hms_opt(9, 0, 0).unwrap());
    let block = store.add_block(clinic, &actor, provider, nine, nine + Duration::hours(2), "Team meeting", Stranding::Flag, now).await.unwrap();
    assert_eq!(offered_on(&store, clinic, location, product_id, monday, now).await, ["11:00", "13:00", "14:00"]);
    assert_eq!(refused_field(store.add_block(clinic, &actor, provider, nine, nine, "Nothing", Stranding::Flag, now).await), "end");

    let schedule = store.provider_schedule(clinic, provider).await.unwrap();
    assert_eq!((schedule.hours.len(), schedule.exceptions.len(), schedule.blocks.len()), (2, 1, 1));
    assert_eq!(schedule.blocks[0].label, "Team meeting");
    store.remove_rule(clinic, &actor, provider, RuleKind::Block, block, Stranding::Flag, now).await.unwrap();
    assert!(matches!(store.remove_rule(clinic, &actor, provider, RuleKind::Block, block, Stranding::Flag, now).await, Err(StoreError::NotFound("block"))));
    let first = schedule.hours[0].id;
    store.remove_rule(clinic, &actor, provider, RuleKind::Hours, first, Stranding::Flag, now).await.unwrap();
    assert_eq!(offered_on(&store, clinic, location, product_id, monday, now).await, ["13:00", "14:00"]);
    let actions: Vec<String> = store.audit_log(clinic, 3).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["hours.remove", "block.remove", "block.add"]);
}

on_both_backends!(
    a_catalogue_built_from_nothing_reads_back_as_saved_and_every_change_is_audited,
    nothing_of_another_clinic_can_be_changed_or_used,
    archiving_takes_an_entry_out_of_booking_and_keeps_its_appointments,
    what_appointments_refer_to_cannot_be_deleted_and_the_rest_goes_with_its_own_configuration,
    a_week_is_made_of_hours_closed_days_extra_hours_blocks_and_holidays,
);
