//! In-process benchmarks through the real store on both backends:
//! - a purpose and a touchpoint read (issue 2),
//! - the consent check of one person among many (issue 5).
//!
//! `cargo bench -p registre-testkit --bench store` (REGISTRE_BENCH_SUBJECTS sets the population,
//! REGISTRE_BENCH_BACKENDS=sqlite or postgres measures only one).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use registre_app::{App, AppConfig, Principal};
use registre_crypto::{Keyring, MasterKey, SigningKey};
use registre_domain::SystemClock;
use registre_testkit::{Backend, open_store, seed_grants};
use std::sync::Arc;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

async fn app(backend: Backend, dir: &std::path::Path) -> Option<App> {
    let (store, _) = open_store(backend, dir).await?;
    let app = App::new(
        store,
        Keyring::new(&MasterKey::generate()),
        SigningKey::generate(),
        Arc::new(SystemClock),
        AppConfig::new("http://localhost", dir),
    );
    app.load_demo().await.unwrap();
    Some(app)
}

fn subjects() -> usize {
    std::env::var("REGISTRE_BENCH_SUBJECTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000)
}

fn bench(c: &mut Criterion) {
    let rt = runtime();
    let only = std::env::var("REGISTRE_BENCH_BACKENDS").unwrap_or_default();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let name = format!("{backend:?}").to_lowercase();
        if !only.is_empty() && !only.split(',').any(|b| b.trim() == name) {
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let Some(app) = rt.block_on(app(backend, dir.path())) else {
            continue;
        };
        c.bench_function(&format!("{name}/read purpose"), |b| {
            b.to_async(&rt).iter(|| async {
                app.store()
                    .document(registre_store::DocumentKind::Purpose, "newsletter")
                    .await
                    .unwrap()
            })
        });
        c.bench_function(&format!("{name}/read touchpoint"), |b| {
            b.to_async(&rt)
                .iter(|| async { app.touchpoint("contact").await.unwrap() })
        });
        let population = subjects();
        rt.block_on(seed_grants(&app, "newsletter", population));
        let by = Principal::system();
        // A serving process has a warm cache; fill it as traffic would.
        rt.block_on(async {
            for n in 0..population {
                app.check(&by, &format!("bench{n}@example.org"), "newsletter")
                    .await
                    .unwrap();
            }
        });
        let mut n = 0usize;
        c.bench_function(
            &format!("{name}/consent check among {population} subjects"),
            |b| {
                b.to_async(&rt).iter(|| {
                    n = (n + 7919) % population;
                    let email = format!("bench{n}@example.org");
                    let (app, by) = (&app, &by);
                    async move { app.check(by, &email, "newsletter").await.unwrap() }
                })
            },
        );
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3)).warm_up_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
