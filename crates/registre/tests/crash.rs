//! Reliability with the real binary: SIGKILL under write load loses nothing acknowledged,
//! and two servers on one PostgreSQL database keep one valid chain.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::Mutex;

mod support;

use support::{api_key, check, grant, registre, start};

async fn verify(client: &reqwest::Client, url: &str, key: &str) -> Value {
    client
        .get(format!("{url}/api/v1/ledger/verify"))
        .bearer_auth(key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Writers append until `kill_after` writes are acknowledged, then the server is killed with
/// SIGKILL mid-stream; after a restart every acknowledged grant is there and the chain verifies.
async fn kill_under_load(database_url: Option<String>, rounds: usize) {
    let data_dir = tempfile::tempdir().unwrap();
    let key = api_key(data_dir.path(), database_url.as_deref());
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
    for round in 0..rounds {
        let mut server = start(data_dir.path(), database_url.as_deref());
        let url = server.url.clone();
        let before = acknowledged.lock().await.len();
        let mut writers = Vec::new();
        for writer in 0..16 {
            let (client, url, key, acknowledged) = (
                client.clone(),
                url.clone(),
                key.clone(),
                acknowledged.clone(),
            );
            writers.push(tokio::spawn(async move {
                for n in 0.. {
                    let email = format!("r{round}w{writer}n{n}@example.org");
                    match grant(&client, &url, &key, &email).await {
                        Some(_) => acknowledged.lock().await.push(email),
                        None => break,
                    }
                }
            }));
        }
        // Kill once a few hundred writes of this round are acknowledged: writes are in flight.
        let deadline = Instant::now() + Duration::from_secs(60);
        while acknowledged.lock().await.len() < before + 300 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        server.child.kill().expect("SIGKILL");
        server.child.wait().expect("wait");
        for writer in writers {
            let _ = writer.await;
        }
        drop(server);
        let server = start(data_dir.path(), database_url.as_deref());
        let acknowledged = acknowledged.lock().await.clone();
        assert!(
            acknowledged.len() > before,
            "round {round}: nothing was acknowledged"
        );
        for email in &acknowledged {
            let decision = check(&client, &server.url, &key, email).await;
            assert_eq!(
                decision["state"], "granted",
                "round {round}: acknowledged grant for {email} was lost"
            );
        }
        let report = verify(&client, &server.url, &key).await;
        assert_eq!(report["ok"], true, "round {round}: {report}");
        assert!(report["length"].as_u64().unwrap() >= acknowledged.len() as u64);
        let status = registre(data_dir.path(), database_url.as_deref())
            .arg("verify")
            .status()
            .unwrap();
        assert!(
            status.success(),
            "registre verify failed after round {round}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_loses_nothing_acknowledged_when_killed_under_load() {
    kill_under_load(None, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_loses_nothing_acknowledged_when_killed_under_load() {
    let Some(url) = registre_testkit::fresh_postgres_database().await else {
        return;
    };
    kill_under_load(Some(url), 3).await;
}

/// Two servers, one database: both accept writes at once, the chain stays one valid chain,
/// and a write on one is seen by a check on the other at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_servers_on_one_postgres_keep_one_chain() {
    let Some(url) = registre_testkit::fresh_postgres_database().await else {
        return;
    };
    let first_dir = tempfile::tempdir().unwrap();
    let key = api_key(first_dir.path(), Some(&url));
    // The second server shares the database and the keys (as a cluster shares its secrets).
    let second_dir = tempfile::tempdir().unwrap();
    for file in ["master.key", "ledger-signing.key"] {
        std::fs::copy(first_dir.path().join(file), second_dir.path().join(file)).unwrap();
    }
    let first = start(first_dir.path(), Some(&url));
    let second = start(second_dir.path(), Some(&url));
    let client = reqwest::Client::new();
    let mut writers = Vec::new();
    for writer in 0..16 {
        let (client, key) = (client.clone(), key.clone());
        let target = if writer % 2 == 0 {
            first.url.clone()
        } else {
            second.url.clone()
        };
        writers.push(tokio::spawn(async move {
            let mut written = 0;
            for n in 0..40 {
                if grant(
                    &client,
                    &target,
                    &key,
                    &format!("w{writer}n{n}@example.org"),
                )
                .await
                .is_some()
                {
                    written += 1;
                }
            }
            written
        }));
    }
    let mut total = 0;
    for writer in writers {
        total += writer.await.unwrap();
    }
    assert_eq!(total, 16 * 40, "every write is accepted");
    let report = verify(&client, &first.url, &key).await;
    assert_eq!(report["ok"], true, "{report}");
    assert_eq!(report["length"], total);
    // Read-your-writes across servers.
    for n in 0..20 {
        let email = format!("cross{n}@example.org");
        let (writer, reader) = if n % 2 == 0 {
            (&first, &second)
        } else {
            (&second, &first)
        };
        assert!(grant(&client, &writer.url, &key, &email).await.is_some());
        assert_eq!(
            check(&client, &reader.url, &key, &email).await["state"],
            "granted"
        );
    } // A subscription made on one server counts on the other from its answer on.
    let created: Value = client
        .post(format!("{}/api/v1/webhooks", first.url))
        .bearer_auth(&key)
        .json(&serde_json::json!({"url": "http://127.0.0.1:9/crm", "events": ["consent.granted"]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_string();
    assert!(
        grant(&client, &second.url, &key, "after-subscribing@example.org")
            .await
            .is_some()
    );
    registre_testkit::eventually(
        Duration::from_secs(20),
        "a delivery for the grant made on the other server",
        || {
            let (client, url, key, id) =
                (client.clone(), first.url.clone(), key.clone(), id.clone());
            async move {
                let list: Value = client
                    .get(format!("{url}/api/v1/webhooks/{id}/deliveries"))
                    .bearer_auth(&key)
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                (list["items"].as_array()?.len() == 1).then_some(())
            }
        },
    )
    .await;
}
