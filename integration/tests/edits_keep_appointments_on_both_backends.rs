//! Nothing booked is lost by an edit, on both backends: a change that would leave a booked
//! appointment outside its provider's rules names it first, is refused unless the caller
//! keeps it, and then flags it; the week preview shows what a change adds and removes.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use domain::appointment::BookingSource;
use domain::availability::Misfit;
use domain::catalogue::ProviderDef;
use domain::schedule::{ExceptionDef, LocalTime};
use domain::Interval;
use store::attention::{ScheduleChange, SlotChange, Stranding};
use store::catalogue_admin::Kind;
use store::schedule_admin::RuleKind;
use store::staff::Actor;
use store::testing::{another_clinic, appointment, scalar_i64, scalar_text, seeded_demo, test_clock, TestDb};
use store::{on_both_backends, AvailabilityRequest, BookingContext, Reschedule, Store, StoreError};

/// Books the first free slot of `provider` two to four weeks ahead (past the demo clinic's
/// own appointments): the appointment's id, its interval and its local date.
async fn book_later(store: &Store, clinic: i64, ctx: &BookingContext, provider: i64, now: DateTime<Utc>) -> (i64, Interval, NaiveDate) {
    let from = (now + Duration::days(15)).with_timezone(&ctx.location.tz).date_naive();
    let offered = store
        .availability(&AvailabilityRequest {
            clinic_id: clinic,
            location_id: ctx.location.id,
            product_id: ctx.product.id,
            provider_id: Some(provider),
            from,
            to: from + Duration::days(14),
            new_patient: false,
            now,
        })
        .await
        .unwrap();
    let slot = offered.providers[0].slots.first().expect("free time two weeks ahead").interval;
    let booked = store.create_appointment(&appointment(clinic, ctx, provider, slot.start, now)).await.unwrap();
    (booked.appointment_id, Interval { start: slot.start, end: slot.start + Duration::minutes(30) }, slot.start.with_timezone(&ctx.location.tz).date_naive())
}

fn ids(list: &[store::attention::AffectedAppointment]) -> Vec<i64> {
    list.iter().map(|a| a.appointment_id).collect()
}

async fn a_closed_day_over_an_appointment_is_refused_until_kept_and_then_flags_it(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (clinic, ctx) = seeded_demo(&store, now).await;
    let actor = Actor::cli();
    let provider = ctx.providers[0].provider_id;
    let (appointment_id, _, date) = book_later(&store, clinic, &ctx, provider, now).await;
    let closed = ExceptionDef::closed(date);

    let named = store.stranded_by(clinic, Some(provider), &ScheduleChange::AddException(closed.clone()), now).await.unwrap();
    assert_eq!(ids(&named), [appointment_id]);
    assert_eq!(named[0].reason, Misfit::ClosedDay);
    assert_eq!(named[0].provider_name, ctx.providers[0].display_name);
    assert!(named[0].since.is_none(), "a preview flags nothing");

    let audit_before = scalar_i64(&store, "SELECT COUNT(*) FROM audit_log").await;
    let refused = store.add_exception(clinic, &actor, provider, &closed, Stranding::Refuse, now).await;
    assert!(matches!(refused, Err(StoreError::WouldStrand(1))), "{refused:?}");
    assert!(store.provider_schedule(clinic, provider).await.unwrap().exceptions.iter().all(|e| e.def.date != date), "nothing saved");
    assert_eq!(scalar_i64(&store, "SELECT COUNT(*) FROM audit_log").await, audit_before);
    assert!(store.needing_attention(clinic, now).await.unwrap().is_empty());

    store.add_exception(clinic, &actor, provider, &closed, Stranding::Flag, now).await.unwrap();
    let status = scalar_text(&store, &format!("SELECT status FROM appointments WHERE id = {appointment_id}")).await;
    assert_eq!(status, "booked", "the appointment keeps its time and status");
    let flagged = store.needing_attention(clinic, now).await.unwrap();
    assert_eq!(ids(&flagged), [appointment_id]);
    assert_eq!(flagged[0].reason, Misfit::ClosedDay);
    assert_eq!(flagged[0].since.map(|t| t.timestamp()), Some(now.timestamp()), "flagged when the change was saved");
    let audit = &store.audit_log(clinic, 1).await.unwrap()[0];
    assert_eq!(audit.detail["flagged"], serde_json::json!([appointment_id]));

    // A change that strands nothing is saved even when the caller refuses stranding.
    store.add_exception(clinic, &actor, provider, &ExceptionDef::closed(date + Duration::days(1)), Stranding::Refuse, now).await.unwrap();

    store.keep_flagged(clinic, &actor, appointment_id, now).await.unwrap();
    assert!(store.needing_attention(clinic, now).await.unwrap().is_empty());
    assert!(matches!(store.keep_flagged(clinic, &actor, appointment_id, now).await, Err(StoreError::NotFound(_))));
    let other = another_clinic(&store, "east").await;
    assert!(store.needing_attention(other, now).await.unwrap().is_empty());
    assert_eq!(store.audit_log(clinic, 1).await.unwrap()[0].action, "appointment.keep");
}

async fn holidays_blocks_and_removed_hours_each_name_the_appointments_they_strand(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (clinic, ctx) = seeded_demo(&store, now).await;
    let actor = Actor::cli();
    let provider = ctx.providers[0].provider_id;
    let (appointment_id, slot, date) = book_later(&store, clinic, &ctx, provider, now).await;

    let holiday = store.stranded_by(clinic, None, &ScheduleChange::AddHoliday(date), now).await.unwrap();
    assert!(holiday.iter().any(|a| a.appointment_id == appointment_id && a.reason == Misfit::Holiday));
    assert!(holiday.iter().all(|a| a.start.with_timezone(&a.time_zone).date_naive() == date));

    let over = Interval { start: slot.start + Duration::minutes(10), end: slot.end + Duration::hours(1) };
    let blocked = store.stranded_by(clinic, Some(provider), &ScheduleChange::AddBlock(over), now).await.unwrap();
    assert_eq!(ids(&blocked), [appointment_id]);
    assert_eq!(blocked[0].reason, Misfit::Blocked);
    let beside = Interval { start: slot.end, end: slot.end + Duration::hours(1) };
    assert!(store.stranded_by(clinic, Some(provider), &ScheduleChange::AddBlock(beside), now).await.unwrap().is_empty());

    // Exactly one of the provider's weekly hours holds the appointment.
    let schedule = store.provider_schedule(clinic, provider).await.unwrap();
    let mut holding = Vec::new();
    for h in &schedule.hours {
        let found = store.stranded_by(clinic, Some(provider), &ScheduleChange::RemoveRule(RuleKind::Hours, h.id), now).await.unwrap();
        if let Some(a) = found.iter().find(|a| a.appointment_id == appointment_id) {
            assert_eq!(a.reason, Misfit::OutsideHours);
            holding.push(h.id);
        }
    }
    assert_eq!(holding.len(), 1, "one rule holds the appointment");
    // Adding time strands nothing.
    let extra = ExceptionDef::extra(date, LocalTime::parse("18:00").unwrap(), LocalTime::parse("19:00").unwrap()).unwrap();
    assert!(store.stranded_by(clinic, Some(provider), &ScheduleChange::AddException(extra), now).await.unwrap().is_empty());

    let refused = store.remove_rule(clinic, &actor, provider, RuleKind::Hours, holding[0], Stranding::Refuse, now).await;
    assert!(matches!(refused, Err(StoreError::WouldStrand(n)) if n >= 1), "{refused:?}");
    assert_eq!(store.provider_schedule(clinic, provider).await.unwrap().hours.len(), schedule.hours.len(), "nothing removed");
    let refused = store.add_holiday(clinic, &actor, date, "Flood", Stranding::Refuse, now).await;
    assert!(matches!(refused, Err(StoreError::WouldStrand(_))), "{refused:?}");
    assert!(store.clinic_holidays(clinic).await.unwrap().iter().all(|h| h.date != date));
    let refused = store.add_block(clinic, &actor, provider, over.start, over.end, "Training", Stranding::Refuse, now).await;
    assert!(matches!(refused, Err(StoreError::WouldStrand(1))), "{refused:?}");

    // A cancelled appointment is not stranded by anything.
    store.cancel_appointment(clinic, appointment_id, "moved away", BookingSource::Staff, now).await.unwrap();
    assert!(store.stranded_by(clinic, Some(provider), &ScheduleChange::AddBlock(over), now).await.unwrap().is_empty());
    store.add_block(clinic, &actor, provider, over.start, over.end, "Training", Stranding::Refuse, now).await.unwrap();
}

async fn taking_a_service_away_or_archiving_the_provider_flags_their_future_appointments(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (clinic, ctx) = seeded_demo(&store, now).await;
    let actor = Actor::cli();
    let provider = ctx.providers[0].provider_id;
    let (appointment_id, slot, _) = book_later(&store, clinic, &ctx, provider, now).await;
    let entry = store.clinic_catalogue(clinic).await.unwrap().provider(provider).unwrap().clone();
    let mut without = entry.def.clone();
    without.service_ids.retain(|s| *s != ctx.service.id);
    if without.service_ids.is_empty() {
        let (other, _) = store.save_service(clinic, &actor, None, &domain::catalogue::ServiceDef::new("Other", 30).unwrap(), now).await.unwrap();
        without.service_ids.push(other);
    }
    let without = ProviderDef::new(&without.name, &without.title, &without.gender, &without.specialty, without.service_ids).unwrap();

    let refused = store.save_provider(clinic, &actor, Some(provider), &without, Stranding::Refuse, now).await;
    assert!(matches!(refused, Err(StoreError::WouldStrand(n)) if n >= 1), "{refused:?}");
    let still = store.clinic_catalogue(clinic).await.unwrap().provider(provider).unwrap().def.service_ids.clone();
    assert!(still.contains(&ctx.service.id), "the service stays until the change is kept");

    store.save_provider(clinic, &actor, Some(provider), &without, Stranding::Flag, now).await.unwrap();
    let flagged = store.needing_attention(clinic, now).await.unwrap();
    let mine = flagged.iter().find(|a| a.appointment_id == appointment_id).expect("the appointment is flagged");
    assert_eq!(mine.reason, Misfit::ServiceNotOffered);
    assert!(flagged.iter().all(|a| a.provider_id == provider && a.service_id == ctx.service.id));

    // Rescheduling resolves the flag: someone chose the new time.
    let later = slot.start + Duration::days(7);
    store
        .reschedule_appointment(&Reschedule {
            clinic_id: clinic,
            appointment_id,
            provider_id: None,
            start: later,
            end: later + Duration::minutes(30),
            source: BookingSource::Staff,
            now,
        })
        .await
        .unwrap();
    assert!(store.needing_attention(clinic, now).await.unwrap().iter().all(|a| a.appointment_id != appointment_id));

    let colleague = ctx.providers.iter().find(|p| p.display_name == "Dr. Lukas Braun").expect("a colleague in general practice").provider_id;
    let (theirs, _, _) = book_later(&store, clinic, &ctx, colleague, now).await;
    let refused = store.set_archived(clinic, &actor, Kind::Provider, colleague, true, Stranding::Refuse, now).await;
    assert!(matches!(refused, Err(StoreError::WouldStrand(_))), "{refused:?}");
    assert!(store.clinic_catalogue(clinic).await.unwrap().provider(colleague).is_some_and(|p| !p.archived));
    store.set_archived(clinic, &actor, Kind::Provider, colleague, true, Stranding::Flag, now).await.unwrap();
    let flagged = store.needing_attention(clinic, now).await.unwrap();
    assert_eq!(flagged.iter().find(|a| a.appointment_id == theirs).map(|a| a.reason), Some(Misfit::ProviderArchived));
}

async fn the_week_preview_shows_what_a_change_adds_and_removes(db: TestDb) {
    let store = db.store;
    let now = test_clock().now();
    let (clinic, ctx) = seeded_demo(&store, now).await;
    let provider = ctx.providers[0].provider_id;
    let today = now.with_timezone(&ctx.location.tz).date_naive();
    let monday = (today + Duration::days(14)).week(chrono::Weekday::Mon).first_day();

    let week = store.week_preview(clinic, provider, ctx.product.id, monday, None, now).await.unwrap();
    assert_eq!(week.locations.len(), 1);
    let days = &week.locations[0].days;
    assert_eq!(days.iter().map(|d| d.date).collect::<Vec<_>>(), (0..7).map(|i| monday + Duration::days(i)).collect::<Vec<_>>());
    assert!(days.iter().flat_map(|d| &d.slots).all(|s| s.1 == SlotChange::Kept));
    let tuesday = &days[1];
    assert!(!tuesday.slots.is_empty(), "the demo provider works on Tuesdays");
    let offered = store
        .availability(&AvailabilityRequest {
            clinic_id: clinic,
            location_id: ctx.location.id,
            product_id: ctx.product.id,
            provider_id: Some(provider),
            from: tuesday.date,
            to: tuesday.date,
            new_patient: false,
            now,
        })
        .await
        .unwrap();
    let starts: Vec<_> = offered.providers[0].slots.iter().map(|s| s.interval.start).collect();
    assert_eq!(tuesday.slots.iter().map(|s| s.0).collect::<Vec<_>>(), starts, "the preview is what patients are offered");

    let closed = ScheduleChange::AddException(ExceptionDef::closed(tuesday.date));
    let week = store.week_preview(clinic, provider, ctx.product.id, monday, Some(&closed), now).await.unwrap();
    let days = &week.locations[0].days;
    assert!(days[1].slots.iter().all(|s| s.1 == SlotChange::Removed) && !days[1].slots.is_empty());
    assert!(days.iter().enumerate().filter(|(i, _)| *i != 1).flat_map(|(_, d)| &d.slots).all(|s| s.1 == SlotChange::Kept));

    let sunday = monday + Duration::days(6);
    let extra = ScheduleChange::AddException(ExceptionDef::extra(sunday, LocalTime::parse("10:00").unwrap(), LocalTime::parse("11:00").unwrap()).unwrap());
    let week = store.week_preview(clinic, provider, ctx.product.id, monday, Some(&extra), now).await.unwrap();
    let added: Vec<_> = week.locations[0].days[6].slots.iter().filter(|s| s.1 == SlotChange::Added).collect();
    assert_eq!(added.len(), 2, "two half-hour slots from 10:00 to 11:00");

    let other = another_clinic(&store, "east").await;
    assert!(matches!(store.week_preview(other, provider, ctx.product.id, monday, None, now).await, Err(StoreError::NotFound("provider"))));
    assert!(matches!(store.week_preview(clinic, provider, ctx.product.id + 1000, monday, None, now).await, Err(StoreError::NotFound("product"))));
}

on_both_backends!(
    a_closed_day_over_an_appointment_is_refused_until_kept_and_then_flags_it,
    holidays_blocks_and_removed_hours_each_name_the_appointments_they_strand,
    taking_a_service_away_or_archiving_the_provider_flags_their_future_appointments,
    the_week_preview_shows_what_a_change_adds_and_removes,
);
