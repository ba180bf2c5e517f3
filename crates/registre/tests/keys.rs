//! Key rotation with a real server running across it: the master key (every subject key
//! re-wrapped, reads and writes never failing, the blind index unchanged) and the ledger
//! signing key (old checkpoints still verify, every key still needed is published).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use support::*;
use tokio::sync::Mutex;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

fn master_ids(data: &std::path::Path, url: Option<&str>) -> Vec<(String, String)> {
    let output = run(data, url, &["keys", "list"]);
    assert!(output.status.success(), "{}", text(&output));
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            match (words.next(), words.next(), words.next()) {
                (Some("master"), Some(id), Some(role)) => Some((id.to_string(), role.to_string())),
                _ => None,
            }
        })
        .collect()
}

async fn master_key_rotation(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = database_url.as_deref();
    let key = api_key(&data, url);
    let client = client();
    let server = start(&data, url);
    let mut people: Vec<String> = (0..60).map(|n| format!("avant{n}@example.org")).collect();
    for email in &people {
        assert!(grant(&client, &server.url, &key, email).await.is_some());
    }
    let before = master_ids(&data, url);
    assert_eq!(before.len(), 1);

    // Writers create people and read old ones (their keys unwrapped) throughout.
    let stop = Arc::new(AtomicBool::new(false));
    let failures = Arc::new(AtomicUsize::new(0));
    let created: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (client, base, key, stop, failures, created, old) = (
            client.clone(),
            server.url.clone(),
            key.clone(),
            stop.clone(),
            failures.clone(),
            created.clone(),
            people.clone(),
        );
        writers.push(tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::Relaxed) {
                let email = format!("pendant-w{writer}n{n}@example.org");
                match grant(&client, &base, &key, &email).await {
                    Some(_) => created.lock().await.push(email),
                    None => {
                        failures.fetch_add(1, Ordering::Relaxed);
                    }
                }
                let reader = &old[n % old.len()];
                let (status, body) = export_subject(&client, &base, &key, reader).await;
                if status != reqwest::StatusCode::OK || !body.contains(reader.as_str()) {
                    failures.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (data2, url2) = (data.clone(), database_url.clone());
    let rotated = tokio::task::spawn_blocking(move || {
        run(
            &data2,
            url2.as_deref(),
            &["keys", "rotate", "--grace-seconds", "1"],
        )
    })
    .await
    .unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    stop.store(true, Ordering::Relaxed);
    for writer in writers {
        writer.await.unwrap();
    }
    assert!(rotated.status.success(), "{}", text(&rotated));
    assert!(text(&rotated).contains("Re-wrapped"), "{}", text(&rotated));
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "reads and writes failed during the rotation"
    );
    let during = created.lock().await.clone();
    assert!(
        !during.is_empty(),
        "people were created during the rotation"
    );
    people.extend(during);

    let after = master_ids(&data, url);
    assert_eq!(after.len(), 1, "the old master key is forgotten: {after:?}");
    assert_ne!(after[0].0, before[0].0);
    let keyring = std::fs::read_to_string(data.join("master.key")).unwrap();
    assert!(keyring.contains(&after[0].0));
    assert!(!keyring.contains(&before[0].0));

    // The running server reads everyone, old and new, with the new key.
    for email in &people {
        let (status, body) = export_subject(&client, &server.url, &key, email).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{email}: {body}");
    }
    drop(server);
    // After a restart only the new key exists: everyone opens, so every key was re-wrapped;
    // and the blind index did not change, so everyone is still found by email.
    let server = start(&data, url);
    for email in &people {
        assert_eq!(
            check(&client, &server.url, &key, email).await["state"],
            "granted",
            "{email}"
        );
        let (status, body) = export_subject(&client, &server.url, &key, email).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{email}: {body}");
        assert!(body.contains(email.as_str()));
    }
    let verify = run(&data, url, &["verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_a_running_server_keeps_reading_and_writing_across_a_master_key_rotation() {
    master_key_rotation(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_a_running_server_keeps_reading_and_writing_across_a_master_key_rotation() {
    let Some(url) = registre_testkit::fresh_postgres_database().await else {
        return;
    };
    master_key_rotation(Some(url)).await;
}

fn kids(jwks: &serde_json::Value) -> Vec<String> {
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_string())
        .collect()
}

async fn signing_key_rotation(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = database_url.as_deref();
    let key = api_key(&data, url);
    let client = client();
    let server = start(&data, url);
    for n in 0..5 {
        assert!(
            grant(&client, &server.url, &key, &format!("a{n}@example.org"))
                .await
                .is_some()
        );
    }
    let signed = run(&data, url, &["ledger", "checkpoint"]);
    assert!(signed.status.success(), "{}", text(&signed));
    let well_known = format!("{}/.well-known/registre/ledger-key", server.url);
    let old = kids(&get_json(&client, &well_known, &key).await);
    assert_eq!(old.len(), 1);

    let rotated = run(&data, url, &["keys", "rotate", "--signing"]);
    assert!(rotated.status.success(), "{}", text(&rotated));
    // The running server reads the new key within a second or two.
    let mut published = Vec::new();
    for _ in 0..50 {
        published = kids(&get_json(&client, &well_known, &key).await);
        if published.len() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(published.len(), 2, "both keys are published: {published:?}");
    assert!(published.contains(&old[0]));
    let new = published.iter().find(|k| **k != old[0]).unwrap().clone();
    assert_eq!(published[0], new, "the current key comes first");

    for n in 0..5 {
        assert!(
            grant(&client, &server.url, &key, &format!("b{n}@example.org"))
                .await
                .is_some()
        );
    }
    let signed = run(&data, url, &["ledger", "checkpoint"]);
    assert!(signed.status.success(), "{}", text(&signed));
    assert!(text(&signed).contains(&new), "{}", text(&signed));
    let report = get_json(
        &client,
        &format!("{}/api/v1/ledger/verify", server.url),
        &key,
    )
    .await;
    assert_eq!(report["ok"], true, "{report}");

    let verify = run(&data, url, &["verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    assert!(
        text(&verify).contains("checkpoints verified"),
        "{}",
        text(&verify)
    );
    assert!(
        text(&verify).contains(&new),
        "the latest checkpoint is by the new key: {}",
        text(&verify)
    );

    // Offline: the export carries both keys; the published set verifies it; the new key
    // alone does not (the old checkpoints need the old key).
    let export = dir.path().join("ledger.jsonl");
    assert!(
        run(&data, url, &["ledger", "export", export.to_str().unwrap()])
            .status
            .success()
    );
    let elsewhere = dir.path().join("auditor");
    let offline = run(
        &elsewhere,
        None,
        &["verify", "--file", export.to_str().unwrap()],
    );
    assert!(offline.status.success(), "{}", text(&offline));
    let jwks = dir.path().join("published.json");
    std::fs::write(
        &jwks,
        get_json(&client, &well_known, &key).await.to_string(),
    )
    .unwrap();
    let offline = run(
        &elsewhere,
        None,
        &[
            "verify",
            "--file",
            export.to_str().unwrap(),
            "--key",
            jwks.to_str().unwrap(),
        ],
    );
    assert!(offline.status.success(), "{}", text(&offline));
    let current_only = dir.path().join("current.json");
    let all = get_json(&client, &well_known, &key).await;
    std::fs::write(&current_only, all["keys"][0].to_string()).unwrap();
    let offline = run(
        &elsewhere,
        None,
        &[
            "verify",
            "--file",
            export.to_str().unwrap(),
            "--key",
            current_only.to_str().unwrap(),
        ],
    );
    assert_eq!(offline.status.code(), Some(1), "{}", text(&offline));

    // After a restart both keys are still published.
    drop(server);
    let server = start(&data, url);
    let well_known = format!("{}/.well-known/registre/ledger-key", server.url);
    assert_eq!(kids(&get_json(&client, &well_known, &key).await), published);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_old_checkpoints_still_verify_after_the_signing_key_rotates() {
    signing_key_rotation(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_old_checkpoints_still_verify_after_the_signing_key_rotates() {
    let Some(url) = registre_testkit::fresh_postgres_database().await else {
        return;
    };
    signing_key_rotation(Some(url)).await;
}
