//! Benchmark helper: fills a data dir prepared by `registre demo` with a population of
//! subjects who granted the newsletter, and measures the disk's plain batched durable insert
//! rate for comparison.
//!
//! `registre-bench-seed --data-dir DIR --subjects N [--events-per-subject K]`, `... --events N` and
//! `registre-bench-seed --baseline-inserts DIR --batch 64 --seconds 10`, and
//! `registre-bench-seed --data-dir DIR --grants N --clients 64`: N durable grants for new
//! people through the application from that many concurrent tasks, without HTTP, to tell the
//! store's share of the HTTP figure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use registre_app::{App, AppConfig};
use registre_crypto::{Keyring, MasterKey, SigningKey};
use registre_domain::SystemClock;
use std::sync::Arc;
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

#[tokio::main]
async fn main() {
    if let Some(dir) = arg("--baseline-inserts") {
        let batch: usize = arg("--batch").and_then(|b| b.parse().ok()).unwrap_or(64);
        let seconds: u64 = arg("--seconds").and_then(|s| s.parse().ok()).unwrap_or(10);
        baseline(
            std::path::Path::new(&dir),
            batch,
            Duration::from_secs(seconds),
        )
        .await;
        return;
    }
    let dir = std::path::PathBuf::from(arg("--data-dir").expect("--data-dir DIR"));
    let subjects: Option<usize> = arg("--subjects").and_then(|n| n.parse().ok());
    let events: Option<usize> = arg("--events").and_then(|n| n.parse().ok());
    let per_subject: usize = arg("--events-per-subject")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    let master = MasterKey::from_hex(
        &std::fs::read_to_string(dir.join("master.key")).expect("run `registre demo` first"),
    )
    .unwrap();
    let store = registre_store_sqlite::SqliteStore::open(&dir.join("registre.db"))
        .await
        .unwrap();
    let app = App::new(
        Arc::new(store),
        Keyring::new(&master),
        SigningKey::generate(),
        Arc::new(SystemClock),
        AppConfig::new("http://localhost", &dir),
    );
    if let Some(grants) = arg("--grants").and_then(|n| n.parse::<usize>().ok()) {
        let clients: usize = arg("--clients").and_then(|n| n.parse().ok()).unwrap_or(64);
        // As a serving process would be: its check cache warmed before the traffic comes.
        let settle: u64 = arg("--settle").and_then(|n| n.parse().ok()).unwrap_or(5);
        tokio::time::sleep(Duration::from_secs(settle)).await;
        grant_in_process(app, grants, clients).await;
        return;
    }
    let started = Instant::now();
    match (subjects, events) {
        (Some(count), _) => {
            let ids = registre_testkit::seed_grants(&app, "newsletter", count).await;
            println!(
                "seeded {count} subjects in {:.1} s",
                started.elapsed().as_secs_f64()
            );
            if per_subject > 1 {
                let started = Instant::now();
                registre_testkit::seed_history(&app, "newsletter", &ids, per_subject - 1).await;
                println!(
                    "seeded {} more ledger events in {:.1} s",
                    ids.len() * (per_subject - 1),
                    started.elapsed().as_secs_f64()
                );
            }
        }
        (None, Some(count)) => {
            registre_testkit::seed_events(&app, "newsletter", count).await;
            println!(
                "seeded {count} ledger events in {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        (None, None) => panic!("--subjects N or --events N"),
    }
}

/// `grants` grants for new people from `clients` concurrent tasks, each waiting for its
/// grant to be durable before the next, as HTTP clients do.
async fn grant_in_process(app: App, grants: usize, clients: usize) {
    assert!(
        grants > 0 && clients > 0,
        "--grants and --clients take a positive count"
    );
    let by = registre_app::Principal::system();
    let run = std::process::id();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for client in 0..clients {
        let (app, by) = (app.clone(), by.clone());
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            for n in (client..grants).step_by(clients) {
                let request = registre_app::ConsentRequest {
                    subject: registre_app::SubjectRef {
                        email: Some(format!("inproc{run}-{n}@example.org")),
                        external_id: None,
                    },
                    purpose: "newsletter".into(),
                    action: "grant".into(),
                    source: Some("api".into()),
                    touchpoint: None,
                    notice_version: None,
                    occurred_at: None,
                    provenance: None,
                };
                let at = Instant::now();
                app.record_consent(&by, request).await.unwrap();
                latencies.push(at.elapsed());
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(grants);
    while let Some(done) = tasks.join_next().await {
        latencies.extend(done.unwrap());
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let p = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "in-process grants: {grants} from {clients} tasks in {elapsed:.2} s: {:.0}/s, p50 {:?}, p99 {:?}",
        grants as f64 / elapsed,
        p(0.5),
        p(0.99)
    );
}

/// Rows shaped like ledger events, inserted `batch` per durable transaction (WAL,
/// synchronous=FULL) for `duration`: what the disk allows for batched durable inserts.
async fn baseline(dir: &std::path::Path, batch: usize, duration: Duration) {
    use sqlx::sqlite::{
        SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous,
    };
    std::fs::create_dir_all(dir).unwrap();
    let path = dir.join("baseline.db");
    let _ = std::fs::remove_file(&path);
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE events (seq INTEGER PRIMARY KEY, event_id BLOB NOT NULL, subject_id BLOB NOT NULL, purpose TEXT, payload TEXT NOT NULL, hash TEXT NOT NULL)").execute(&pool).await.unwrap();
    let started = Instant::now();
    let mut rows = 0u64;
    while started.elapsed() < duration {
        let mut tx = pool.begin().await.unwrap();
        for _ in 0..batch {
            sqlx::query("INSERT INTO events (event_id, subject_id, purpose, payload, hash) VALUES ($1, $2, 'newsletter', $3, $4)")
                .bind(uuid::Uuid::now_v7())
                .bind(uuid::Uuid::now_v7())
                .bind("grant|api|sha256:0000000000000000000000000000000000000000000000000000000000000000")
                .bind("0000000000000000000000000000000000000000000000000000000000000000")
                .execute(&mut *tx)
                .await
                .unwrap();
            rows += 1;
        }
        tx.commit().await.unwrap();
    }
    let rate = rows as f64 / started.elapsed().as_secs_f64();
    println!("baseline: {rate:.0} rows/s durable, {batch} rows per transaction");
}
