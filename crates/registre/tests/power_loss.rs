//! Durability through a power loss, with the real binary: the data dir lives on a file
//! system that keeps every write made since the last `fsync` apart and drops it at a power
//! cut chosen by a seed (`powerfs`). After the cut the product restarts on what is left, and
//! every write it had acknowledged is there, its keys open its data, the chain verifies
//! (`registre verify`, `GET /api/v1/ledger/verify`), and it starts without help. Cuts early
//! in a run fall between the key files' creation and the first acknowledged write.
//!
//! Replay a failure with `REGISTRE_POWER_LOSS_SEED=<seed>` (printed for every crash point);
//! `REGISTRE_POWER_LOSS_POINTS` sets how many crash points each backend tries.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod powerfs;
mod support;

use powerfs::PowerFs;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{Server, registre, run, text};
use tokio::sync::Mutex;

/// Grants per crash point: 8 writers of 25 each at most.
const WRITERS: usize = 8;
const GRANTS_PER_WRITER: usize = 25;

/// SplitMix64: the seed's sequence of choices.
struct Choices(u64);

impl Choices {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, bound: u64) -> u64 {
        self.next() % bound.max(1)
    }
}

/// What the product acknowledged before the power went.
#[derive(Default)]
struct Acknowledged {
    demo: bool,
    api_key: Option<String>,
    grants: Vec<String>,
}

/// Starts `registre serve`; `None` when it exits before saying where it listens.
fn try_start(data_dir: &Path, database_url: Option<&str>) -> Result<Server, String> {
    let mut child = registre(data_dir, database_url)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start registre serve");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    let _ = BufReader::new(stdout).read_line(&mut line);
    match line.split_whitespace().find(|w| w.starts_with("http://")) {
        Some(url) => Ok(Server {
            url: url.to_string(),
            child,
        }),
        None => {
            let _ = child.kill();
            let output = child.wait_with_output().expect("wait");
            Err(String::from_utf8_lossy(&output.stderr).to_string())
        }
    }
}

async fn grant(client: &reqwest::Client, url: &str, key: &str, email: &str) -> bool {
    client
        .post(format!("{url}/api/v1/consents"))
        .bearer_auth(key)
        .json(&json!({"subject": {"email": email}, "purpose": "newsletter", "action": "grant", "source": "api"}))
        .send()
        .await
        .is_ok_and(|r| r.status() == reqwest::StatusCode::CREATED)
}

async fn post_json(client: &reqwest::Client, url: &str, key: &str, body: Value) -> (u16, Value) {
    match client.post(url).bearer_auth(key).json(&body).send().await {
        Ok(response) => {
            let status = response.status().as_u16();
            (status, response.json().await.unwrap_or(Value::Null))
        }
        Err(error) => (0, json!({ "error": error.to_string() })),
    }
}

/// Before the cut: the first start (demo organisation, an API key), then writers granting
/// consents until the power goes or they are done.
async fn before_the_cut(
    client: &reqwest::Client,
    data_dir: &Path,
    database_url: Option<&str>,
) -> Acknowledged {
    let mut acknowledged = Acknowledged {
        demo: run(data_dir, database_url, &["demo"]).status.success(),
        ..Default::default()
    };
    if !acknowledged.demo {
        return acknowledged;
    }
    let output = run(
        data_dir,
        database_url,
        &["api-key", "create", "--name", "ops", "--role", "admin"],
    );
    if !output.status.success() {
        return acknowledged;
    }
    let Some(key) = String::from_utf8_lossy(&output.stdout)
        .lines()
        .last()
        .map(|l| l.trim().to_string())
    else {
        return acknowledged;
    };
    acknowledged.api_key = Some(key.clone());
    let Ok(server) = try_start(data_dir, database_url) else {
        return acknowledged;
    };
    let grants: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut writers = Vec::new();
    for writer in 0..WRITERS {
        let (client, url, key, grants) = (
            client.clone(),
            server.url.clone(),
            key.clone(),
            grants.clone(),
        );
        writers.push(tokio::spawn(async move {
            for n in 0..GRANTS_PER_WRITER {
                let email = format!("w{writer}n{n}@example.org");
                if !grant(&client, &url, &key, &email).await {
                    break;
                }
                grants.lock().await.push(email);
            }
        }));
    }
    for writer in writers {
        let _ = writer.await;
    }
    drop(server);
    acknowledged.grants = grants.lock().await.clone();
    acknowledged
}

/// After the cut: the product starts on what is left without help, and keeps every promise
/// it made before. `Err` names the first broken promise.
async fn after_the_cut(
    client: &reqwest::Client,
    data_dir: &Path,
    database_url: Option<&str>,
    acknowledged: &Acknowledged,
) -> Result<(), String> {
    if !acknowledged.demo {
        let demo = run(data_dir, database_url, &["demo"]);
        if !demo.status.success() {
            return Err(format!(
                "`registre demo` fails on what a cut before its end left: {}",
                text(&demo)
            ));
        }
    }
    let key = match &acknowledged.api_key {
        Some(key) => key.clone(),
        None => {
            let output = run(
                data_dir,
                database_url,
                &["api-key", "create", "--name", "ops", "--role", "admin"],
            );
            if !output.status.success() {
                return Err(format!(
                    "`registre api-key create` fails after the cut: {}",
                    text(&output)
                ));
            }
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .last()
                .unwrap_or_default()
                .trim()
                .to_string()
        }
    };
    let server = try_start(data_dir, database_url)
        .map_err(|stderr| format!("the server does not start after the cut: {stderr}"))?;
    for email in &acknowledged.grants {
        let (status, decision) = post_json(
            client,
            &format!("{}/api/v1/consents/check", server.url),
            &key,
            json!({"email": email, "purpose": "newsletter"}),
        )
        .await;
        if decision["state"] != "granted" {
            return Err(format!(
                "the acknowledged grant for {email} was lost ({status}: {decision})"
            ));
        }
    }
    // The keys that survived open the data that survived: a person's export needs their
    // key unwrapped by the master key and their email opened.
    if let Some(email) = acknowledged.grants.first() {
        let (status, export) = post_json(
            client,
            &format!("{}/api/v1/subjects/export", server.url),
            &key,
            json!({"email": email}),
        )
        .await;
        if status != 200 {
            return Err(format!(
                "the export of {email} fails after the cut ({status}: {export})"
            ));
        }
    }
    if !grant(client, &server.url, &key, "after-the-cut@example.org").await {
        return Err("a new grant is refused after the cut".into());
    }
    let report: Value = match client
        .get(format!("{}/api/v1/ledger/verify", server.url))
        .bearer_auth(&key)
        .send()
        .await
    {
        Ok(response) => response.json().await.unwrap_or(Value::Null),
        Err(error) => json!({ "error": error.to_string() }),
    };
    if report["ok"] != true
        || report["length"].as_u64().unwrap_or(0) < acknowledged.grants.len() as u64 + 1
    {
        return Err(format!("GET /api/v1/ledger/verify after the cut: {report}"));
    }
    let verify = run(data_dir, database_url, &["verify"]);
    if !verify.status.success() {
        return Err(format!(
            "`registre verify` fails after the cut: {}",
            text(&verify)
        ));
    }
    Ok(())
}

/// One crash point: a fresh file system and store, the power cut at mutating operation
/// `cut` (`None`: after the last acknowledgement), the restart checked.
async fn crash_point(
    database_url: Option<&str>,
    cut: Option<u64>,
    lying: bool,
) -> Result<String, String> {
    let mount = tempfile::tempdir().unwrap();
    let mut fs = PowerFs::mount(mount.path(), lying);
    // A data dir the product creates, so that the directory above it must be synced too.
    let data_dir = mount.path().join("registre-data");
    if let Some(cut) = cut {
        fs.cut_at(cut);
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap();
    let acknowledged = before_the_cut(&client, &data_dir, database_url).await;
    let (cut_before_the_end, operations) = fs.status();
    fs.restart_after_power_cut();
    let summary = format!(
        "power cut {} after {operations} operations; acknowledged: demo {}, api key {}, {} grants",
        if cut_before_the_end {
            "mid-run"
        } else {
            "at the end"
        },
        acknowledged.demo,
        acknowledged.api_key.is_some(),
        acknowledged.grants.len()
    );
    let result = after_the_cut(&client, &data_dir, database_url, &acknowledged).await;
    drop(fs);
    match result {
        Ok(()) => Ok(summary),
        Err(loss) => Err(format!("{summary}: {loss}")),
    }
}

/// The seeds to try: the one to replay, or `points` drawn from this run's clock.
fn seeds(points: u64) -> Vec<u64> {
    if let Ok(seed) = std::env::var("REGISTRE_POWER_LOSS_SEED") {
        return vec![
            seed.trim()
                .parse()
                .expect("REGISTRE_POWER_LOSS_SEED is a number"),
        ];
    }
    let points = std::env::var("REGISTRE_POWER_LOSS_POINTS")
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(points);
    let base = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut choices = Choices(base);
    (0..points).map(|_| choices.next()).collect()
}

/// Tries crash points on one backend: half of them in the first-start window (the first
/// `window` mutating operations: data dir, key files, database creation), half anywhere in
/// the run (`whole` operations or so; beyond the run's end the cut comes after the last
/// acknowledgement).
async fn power_loss_points(postgres: bool, points: u64, window: u64, whole: u64) {
    let started = Instant::now();
    let seeds = seeds(points);
    let mut failures = Vec::new();
    for seed in &seeds {
        let database_url = if postgres {
            match registre_testkit::fresh_postgres_database().await {
                Some(url) => Some(url),
                None => return,
            }
        } else {
            None
        };
        let mut choices = Choices(*seed);
        let range = if choices.below(2) == 0 { window } else { whole };
        let cut = 1 + choices.below(range);
        let result = crash_point(database_url.as_deref(), Some(cut), false).await;
        match &result {
            Ok(summary) => eprintln!("power-loss seed {seed}: cut at operation {cut}: {summary}"),
            Err(loss) => {
                eprintln!("power-loss seed {seed}: cut at operation {cut}: LOST: {loss}");
                failures.push(format!(
                    "seed {seed} (replay with REGISTRE_POWER_LOSS_SEED={seed}): {loss}"
                ));
            }
        }
    }
    eprintln!(
        "power-loss: {} crash points on {} in {:.1} s",
        seeds.len(),
        if postgres { "PostgreSQL" } else { "SQLite" },
        started.elapsed().as_secs_f64()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_keeps_every_acknowledged_write_through_a_power_cut() {
    power_loss_points(false, 40, 60, 3000).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_keeps_its_key_files_through_a_power_cut_on_first_start() {
    // Only the data dir (key files) is on the failing file system; the database is the
    // PostgreSQL server's, durable by its own settings, checked at start-up.
    power_loss_points(true, 12, 30, 30).await;
}

/// The harness itself: when fsync is acknowledged without making anything durable (as
/// `eatmydata` does), the same crash test must see acknowledged writes lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_harness_catches_a_lost_write_when_fsync_lies() {
    let result = crash_point(None, None, true).await;
    let loss = result.expect_err("with fsync lying, a power cut must lose acknowledged writes");
    eprintln!("with fsync lying the harness saw: {loss}");
}

async fn alter_database(url: &str, setting: &str) {
    use sqlx::Connection;
    let (base, name) = url.rsplit_once('/').unwrap();
    let mut connection = sqlx::PgConnection::connect(&format!("{base}/postgres"))
        .await
        .unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "ALTER DATABASE {name} SET {setting}"
    )))
    .execute(&mut connection)
    .await
    .unwrap();
}

/// An operator whose database commits asynchronously is told so at start-up, in both
/// languages, and the server runs there only when told durability is not wanted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_commits_asynchronously_is_refused_unless_durability_is_not_wanted() {
    let Some(url) = registre_testkit::fresh_postgres_database().await else {
        return;
    };
    let data_dir = tempfile::tempdir().unwrap();
    let durable = run(data_dir.path(), Some(&url), &["demo"]);
    assert!(durable.status.success(), "{}", text(&durable));
    alter_database(&url, "synchronous_commit = off").await;
    let refused = registre(data_dir.path(), Some(&url))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let message = text(&refused);
    assert!(
        message.contains("synchronous_commit = off")
            && message.contains("--allow-non-durable-database")
            && message.contains("durabilité"),
        "{message}"
    );
    let allowed = registre(data_dir.path(), Some(&url))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("REGISTRE_ALLOW_NON_DURABLE", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut server = Server {
        url: String::new(),
        child: allowed,
    };
    let mut line = String::new();
    BufReader::new(server.child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(line.contains("http://"), "{line}");
    drop(server);
    let flag = registre(data_dir.path(), Some(&url))
        .args(["--allow-non-durable-database", "api-key", "create"])
        .args(["--name", "ops", "--role", "admin"])
        .output()
        .unwrap();
    assert!(flag.status.success(), "{}", text(&flag));
    alter_database(&url, "synchronous_commit = on").await;
    let durable_again = run(data_dir.path(), Some(&url), &["verify"]);
    assert!(durable_again.status.success(), "{}", text(&durable_again));
}
