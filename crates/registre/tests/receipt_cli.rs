//! `registre verify-receipt`, as a person or an auditor uses it, offline: a receipt
//! downloaded from the server proves itself with the published key alone, and, with a later
//! checkpoint and the consistency proof, that its event is still in the ledger; a changed
//! receipt, a foreign key or a later checkpoint without its proof do not pass (#18 item 2).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use serde_json::Value;
use support::{api_key, get_json, grant, run, start, text};

async fn get_text(client: &reqwest::Client, url: &str, key: Option<&str>) -> String {
    let mut request = client.get(url);
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.unwrap();
    assert!(
        response.status().is_success(),
        "{url}: {}",
        response.status()
    );
    response.text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receipt_proves_itself_offline_and_that_its_event_is_still_there_later() {
    let data = tempfile::tempdir().unwrap();
    let key = api_key(data.path(), None);
    let server = start(data.path(), None);
    let client = reqwest::Client::new();
    let event = grant(&client, &server.url, &key, "recu@example.org")
        .await
        .expect("a grant");
    let id = event["event_id"].as_str().unwrap();
    let receipt = get_json(
        &client,
        &format!("{}/api/v1/consents/{id}/receipt", server.url),
        &key,
    )
    .await;
    assert!(receipt["proof"]["hashes"].is_array(), "{receipt}");
    for i in 0..3 {
        grant(&client, &server.url, &key, &format!("later{i}@example.org"))
            .await
            .expect("a later grant");
    }
    let later = get_text(
        &client,
        &format!("{}/api/v1/ledger/checkpoint", server.url),
        Some(&key),
    )
    .await;
    let size: u64 = later.lines().nth(1).unwrap().parse().unwrap();
    let from = receipt["proof"]["tree_size"].as_u64().unwrap();
    let consistency = get_json(
        &client,
        &format!(
            "{}/api/v1/ledger/proofs/consistency?from={from}&to={size}",
            server.url
        ),
        &key,
    )
    .await;
    let jwks = get_text(
        &client,
        &format!("{}/.well-known/registre/ledger-key", server.url),
        None,
    )
    .await;
    drop(server);

    // Elsewhere: no data dir, only the files.
    let offline = tempfile::tempdir().unwrap();
    let write = |name: &str, content: &str| {
        let path = offline.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_string()
    };
    let receipt_file = write("receipt.json", &receipt.to_string());
    let later_file = write("later.note", &later);
    let consistency_file = write("consistency.json", &consistency.to_string());
    let key_file = write("ledger-key.json", &jwks);
    let nowhere = offline.path().join("no-data-dir");

    let checked = run(
        &nowhere,
        None,
        &["verify-receipt", &receipt_file, "--key", &key_file],
    );
    assert!(checked.status.success(), "{}", text(&checked));
    assert!(
        text(&checked).contains(": ok, event "),
        "{}",
        text(&checked)
    );

    let checked = run(
        &nowhere,
        None,
        &[
            "verify-receipt",
            &receipt_file,
            "--key",
            &key_file,
            "--checkpoint",
            &later_file,
            "--consistency",
            &consistency_file,
        ],
    );
    assert!(checked.status.success(), "{}", text(&checked));
    assert!(
        text(&checked).contains(&format!(
            "still there in the later checkpoint of {size} events"
        )),
        "{}",
        text(&checked)
    );

    // Without --key and without a data dir, the key the receipt names is used, and said.
    let checked = run(&nowhere, None, &["verify-receipt", &receipt_file]);
    assert!(checked.status.success(), "{}", text(&checked));
    assert!(
        text(&checked).contains("named by the receipt"),
        "{}",
        text(&checked)
    );

    // A later checkpoint of another size needs its consistency proof.
    let checked = run(
        &nowhere,
        None,
        &[
            "verify-receipt",
            &receipt_file,
            "--key",
            &key_file,
            "--checkpoint",
            &later_file,
        ],
    );
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
    assert!(text(&checked).contains("consistency"), "{}", text(&checked));

    // A receipt changed after it was signed.
    let mut changed: Value = receipt.clone();
    changed["receipt"]["purpose"] = "partner_offers".into();
    let changed_file = write("changed.json", &changed.to_string());
    let checked = run(
        &nowhere,
        None,
        &["verify-receipt", &changed_file, "--key", &key_file],
    );
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
    assert!(
        text(&checked).contains("DOES NOT PROVE ITSELF"),
        "{}",
        text(&checked)
    );

    // Someone else's key.
    // The Ed25519 base point: a valid public key that signed nothing of this ledger.
    let foreign = format!("58{}", "66".repeat(31));
    let checked = run(
        &nowhere,
        None,
        &["verify-receipt", &receipt_file, "--key", &foreign],
    );
    assert_eq!(checked.status.code(), Some(1), "{}", text(&checked));
}
