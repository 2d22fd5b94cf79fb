//! Store benchmarks (issue 3 targets in brackets):
//! - booking throughput, 64 concurrent clients, SQLite and PostgreSQL [>= 1,000 bookings/s];
//! - availability for 20 providers x 14 days over 10,000 appointments, SQLite [< 5 ms].
//! PostgreSQL comes from BOOKING_TEST_POSTGRES_URL like the tests.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use domain::ClinicSlug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};
use store::testing::{appointment, fresh_db, seeded_demo, TestDb};
use store::{AvailabilityRequest, Backend, NewAppointment, Store};

const CLIENTS: usize = 64;
const BOOKINGS_PER_CLIENT: i64 = 10;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap()
}

/// Runs `sql` (which must not bind anything) on either backend.
async fn exec(store: &Store, sql: &str) {
    match store.db() {
        store::Db::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        store::Db::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The demo clinic plus general practitioners at Berlin Mitte up to `providers` in all.
async fn clinic_with_providers(backend: Backend, providers: usize) -> (TestDb, i64, store::BookingContext, Vec<i64>) {
    let db = fresh_db(backend).await;
    let (clinic_id, ctx) = seeded_demo(&db.store, Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap()).await;
    let template = ctx.providers[0].provider_id;
    let existing = ctx.providers.iter().filter(|p| p.display_name.starts_with("Dr.")).count();
    for i in existing..providers {
        exec(&db.store, &format!("INSERT INTO providers (clinic_id, display_name, specialty) VALUES ({clinic_id}, 'Dr. Bench {i}', 'General practice')")).await;
        exec(&db.store, &format!(
            "INSERT INTO provider_services (provider_id, service_id) SELECT MAX(id), {} FROM providers", ctx.service.id)).await;
        exec(&db.store, &format!(
            "INSERT INTO working_hours (provider_id, location_id, weekday, starts_at, ends_at)
             SELECT (SELECT MAX(id) FROM providers), location_id, weekday, starts_at, ends_at FROM working_hours WHERE provider_id = {template}")).await;
    }
    let ctx = db.store.booking_context(&ClinicSlug::parse("demo").unwrap()).await.unwrap();
    let ids = ctx.providers.iter().filter(|p| p.display_name.starts_with("Dr.")).map(|p| p.provider_id).collect();
    (db, clinic_id, ctx, ids)
}

fn booking_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("booking throughput, 64 clients");
    group.throughput(Throughput::Elements(CLIENTS as u64 * BOOKINGS_PER_CLIENT as u64));
    group.sample_size(10).measurement_time(StdDuration::from_secs(10));
    for (name, backend) in [("sqlite", Backend::Sqlite), ("postgres", Backend::Postgres)] {
        let rt = runtime();
        let (db, clinic_id, ctx, providers) = rt.block_on(clinic_with_providers(backend, CLIENTS));
        let store = Arc::new(db.store);
        let next = Arc::new(AtomicI64::new(0));
        let base = Utc.with_ymd_and_hms(2027, 2, 1, 0, 0, 0).unwrap();
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let started = Instant::now();
                    for _ in 0..iters {
                        let mut clients = tokio::task::JoinSet::new();
                        for client in 0..CLIENTS {
                            let (store, next, ctx, provider) = (store.clone(), next.clone(), ctx.clone(), providers[client]);
                            clients.spawn(async move {
                                for _ in 0..BOOKINGS_PER_CLIENT {
                                    // Every booking takes a distinct half hour of its client's provider.
                                    let n = next.fetch_add(1, Ordering::Relaxed);
                                    let start = base + Duration::minutes(30 * n);
                                    let booking = NewAppointment {
                                        product_id: Some(ctx.product.id),
                                        ..appointment(clinic_id, &ctx, provider, start, Utc::now())
                                    };
                                    store
                                        .create_appointment(&booking)
                                        .await
                                        .expect("distinct slots never conflict");
                                }
                            });
                        }
                        while let Some(r) = clients.join_next().await {
                            r.unwrap();
                        }
                    }
                    started.elapsed()
                })
            })
        });
    }
    group.finish();
}

fn store_availability(c: &mut Criterion) {
    let rt = runtime();
    let (db, clinic_id, ctx, providers) = rt.block_on(clinic_with_providers(Backend::Sqlite, 20));
    assert_eq!(providers.len(), 20);
    // 10,000 appointments over 100 days from 2026-12-01 (after the seeded ones), 30 minutes each, at distinct times
    // per provider (5 per provider and day, spread through the working day).
    let day0 = Utc.with_ymd_and_hms(2026, 12, 1, 7, 0, 0).unwrap().timestamp();
    let mut values = Vec::new();
    for n in 0..10_000i64 {
        let provider = providers[(n % 20) as usize];
        let (day, slot) = ((n / 20) / 5, (n / 20) % 5);
        let start = day0 + day * 86_400 + slot * 5_400;
        values.push(format!(
            "({clinic_id}, {}, {provider}, {}, {}, {start}, {}, 'booked', 'staff', 0)",
            ctx.location.id, ctx.service.id, ctx.product.id, start + 1_800
        ));
    }
    for chunk in values.chunks(500) {
        rt.block_on(exec(&db.store, &format!(
            "INSERT INTO appointments (clinic_id, location_id, provider_id, service_id, product_id, starts_at, ends_at, status, source, created_at) VALUES {}",
            chunk.join(",")
        )));
    }
    let from = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
    let request = AvailabilityRequest {
        clinic_id,
        location_id: ctx.location.id,
        product_id: ctx.product.id,
        provider_id: None,
        from,
        to: from + Duration::days(13),
        new_patient: false,
        now: Utc.with_ymd_and_hms(2026, 11, 20, 9, 0, 0).unwrap(),
    };
    let a = rt.block_on(db.store.availability(&request)).unwrap();
    assert_eq!(a.providers.len(), 20);
    assert!(a.providers.iter().all(|p| !p.slots.is_empty()));
    c.bench_function("availability, 20 providers x 14 days, 10,000 appointments, sqlite", |b| {
        b.iter(|| rt.block_on(db.store.availability(&request)).unwrap())
    });
}

criterion_group!(benches, booking_throughput, store_availability);
criterion_main!(benches);
