//! Backups as an operator takes them: while a real server takes writes, restored into an
//! empty data dir, with every event acknowledged before the backup began and a ledger that
//! verifies; erasures made after the backup re-applied from a later ledger export.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use support::*;
use tokio::sync::Mutex;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// `rounds` backups, each taken while 8 writers keep granting consents; each restored into
/// an empty data dir (and database) and checked.
async fn backup_under_write_load(database_url: Option<String>, rounds: usize) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = database_url.as_deref();
    let key = api_key(&data, url);
    let passphrase = dir.path().join("passphrase");
    std::fs::write(&passphrase, format!("{PASSPHRASE}\n")).unwrap();
    let server = start(&data, url);
    let client = client();
    for round in 0..rounds {
        let acknowledged: Arc<Mutex<Vec<String>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let mut writers = Vec::new();
        for writer in 0..8 {
            let (client, base, key, acknowledged, stop) = (
                client.clone(),
                server.url.clone(),
                key.clone(),
                acknowledged.clone(),
                stop.clone(),
            );
            writers.push(tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let email = format!("r{round}w{writer}n{n}@example.org");
                    if grant(&client, &base, &key, &email).await.is_some() {
                        acknowledged.lock().await.push(email);
                    }
                    n += 1;
                }
            }));
        }
        let deadline = Instant::now() + Duration::from_secs(60);
        while acknowledged.lock().await.len() < 200 && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Everything acknowledged up to here must be in the backup.
        let before: Vec<String> = acknowledged.lock().await.clone();
        let archive = dir.path().join(format!("backup-{round}.registre"));
        let (data2, url2, archive2, passphrase2) = (
            data.clone(),
            database_url.clone(),
            archive.clone(),
            passphrase.clone(),
        );
        let backup = tokio::task::spawn_blocking(move || {
            run(
                &data2,
                url2.as_deref(),
                &[
                    "backup",
                    archive2.to_str().unwrap(),
                    "--passphrase-file",
                    passphrase2.to_str().unwrap(),
                ],
            )
        })
        .await
        .unwrap();
        let during = acknowledged.lock().await.len() - before.len();
        stop.store(true, Ordering::Relaxed);
        for writer in writers {
            writer.await.unwrap();
        }
        assert!(backup.status.success(), "backup: {}", text(&backup));
        assert!(
            during > 0,
            "round {round}: no write was acknowledged while the backup ran"
        );
        let raw = std::fs::read(&archive).unwrap();
        assert!(
            !raw.windows(11).any(|w| w == b"example.org"),
            "the archive is encrypted"
        );

        let restored = dir.path().join(format!("restored-{round}"));
        let target = restore_target(url).await;
        let output = run(
            &restored,
            target.as_deref(),
            &[
                "restore",
                archive.to_str().unwrap(),
                "--passphrase-file",
                passphrase.to_str().unwrap(),
            ],
        );
        assert!(output.status.success(), "restore: {}", text(&output));
        let verify = run(&restored, target.as_deref(), &["verify"]);
        assert!(
            verify.status.success(),
            "round {round}: registre verify after the restore: {}",
            text(&verify)
        );
        let copy = start(&restored, target.as_deref());
        for email in &before {
            let decision = check(&client, &copy.url, &key, email).await;
            assert_eq!(
                decision["state"], "granted",
                "round {round}: {email} was acknowledged before the backup began but is not in it"
            );
        }
        // The restored keys open the restored people's data.
        let (status, body) = export_subject(&client, &copy.url, &key, &before[0]).await;
        assert_eq!(status, reqwest::StatusCode::OK, "{body}");
        assert!(body.contains(&before[0]), "{body}");
        eprintln!(
            "backup round {round}: {} acknowledged before, {during} during the backup",
            before.len()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_backup_under_write_load_restores_every_acknowledged_event() {
    backup_under_write_load(None, 3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_backup_under_write_load_restores_every_acknowledged_event() {
    let Some(url) = registre_testkit::fresh_postgres_database().await else {
        return;
    };
    backup_under_write_load(Some(url), 3).await;
}

/// A person erased after the backup was taken is erased again when the restore is given a
/// later ledger export; without it, they would be back.
async fn erased_people_stay_erased(database_url: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let url = database_url.as_deref();
    let key = api_key(&data, url);
    // A key file this time instead of a passphrase.
    let key_file = dir.path().join("backup.key");
    std::fs::write(&key_file, "5f".repeat(32)).unwrap();
    let client = client();
    let server = start(&data, url);
    for email in ["jeanne@example.org", "paul@example.org"] {
        assert!(grant(&client, &server.url, &key, email).await.is_some());
    }
    let archive = dir.path().join("older.registre");
    let backup = run(
        &data,
        url,
        &[
            "backup",
            archive.to_str().unwrap(),
            "--key-file",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(backup.status.success(), "{}", text(&backup));
    erase(&client, &server.url, &key, "jeanne@example.org").await;
    assert_eq!(
        check(&client, &server.url, &key, "jeanne@example.org").await["state"],
        "erased"
    );
    let later = dir.path().join("later.jsonl");
    let export = run(&data, url, &["ledger", "export", later.to_str().unwrap()]);
    assert!(export.status.success(), "{}", text(&export));
    drop(server);

    // Without the later export the old backup brings Jeanne back: this is what it is for.
    let plain = dir.path().join("plain");
    let target = restore_target(url).await;
    let restored = run(
        &plain,
        target.as_deref(),
        &[
            "restore",
            archive.to_str().unwrap(),
            "--key-file",
            key_file.to_str().unwrap(),
        ],
    );
    assert!(restored.status.success(), "{}", text(&restored));
    {
        let copy = start(&plain, target.as_deref());
        assert_eq!(
            check(&client, &copy.url, &key, "jeanne@example.org").await["state"],
            "granted"
        );
    }

    let again = dir.path().join("again");
    let target = restore_target(url).await;
    let restored = run(
        &again,
        target.as_deref(),
        &[
            "restore",
            archive.to_str().unwrap(),
            "--key-file",
            key_file.to_str().unwrap(),
            "--erasures-from",
            later.to_str().unwrap(),
        ],
    );
    assert!(restored.status.success(), "{}", text(&restored));
    assert!(
        text(&restored).contains("1 people erased again"),
        "{}",
        text(&restored)
    );
    assert!(
        !text(&restored).contains("jeanne"),
        "no email in the report"
    );
    let verify = run(&again, target.as_deref(), &["verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    let copy = start(&again, target.as_deref());
    assert_eq!(
        check(&client, &copy.url, &key, "jeanne@example.org").await["state"],
        "erased"
    );
    assert_eq!(
        check(&client, &copy.url, &key, "paul@example.org").await["state"],
        "granted"
    );
    let (status, body) = export_subject(&client, &copy.url, &key, "jeanne@example.org").await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let exported: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        exported["subject"]["known"], false,
        "nothing of Jeanne is left: {body}"
    );
    assert_eq!(exported["subject"]["erased"], true, "{body}");
    assert_eq!(exported["consent_history"], serde_json::json!([]), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_people_erased_after_a_backup_stay_erased_after_its_restore() {
    erased_people_stay_erased(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn postgres_people_erased_after_a_backup_stay_erased_after_its_restore() {
    let Some(url) = registre_testkit::fresh_postgres_database().await else {
        return;
    };
    erased_people_stay_erased(Some(url)).await;
}

/// Refusals: a data dir that holds anything, a wrong passphrase, a changed archive, a ledger
/// export of another installation; each with a clear message and a non-zero exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_refuses_a_non_empty_data_dir_a_wrong_passphrase_and_a_foreign_export() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let own_key = api_key(&data, None);
    {
        // The backup's ledger is not empty: a foreign export cannot continue it.
        let server = start(&data, None);
        assert!(
            grant(&client(), &server.url, &own_key, "y@example.org")
                .await
                .is_some()
        );
    }
    let passphrase = dir.path().join("passphrase");
    std::fs::write(&passphrase, PASSPHRASE).unwrap();
    let archive = dir.path().join("b.registre");
    let args = |target: &str| -> Vec<String> {
        vec![
            "restore".into(),
            archive.to_str().unwrap().into(),
            "--passphrase-file".into(),
            target.into(),
        ]
    };
    let no_secret = run(&data, None, &["backup", archive.to_str().unwrap()]);
    assert_eq!(no_secret.status.code(), Some(2));
    assert!(
        text(&no_secret).contains("--passphrase-file"),
        "{}",
        text(&no_secret)
    );
    let backup = run(
        &data,
        None,
        &[
            "backup",
            archive.to_str().unwrap(),
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ],
    );
    assert!(backup.status.success(), "{}", text(&backup));

    // The live data dir is not empty.
    let args_live = args(passphrase.to_str().unwrap());
    let refused = run(
        &data,
        None,
        &args_live.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        text(&refused).contains("is not empty"),
        "{}",
        text(&refused)
    );
    assert!(data.join("registre.db").exists());

    let wrong = dir.path().join("wrong");
    std::fs::write(&wrong, "pas la bonne phrase de passe").unwrap();
    let target = dir.path().join("target");
    let refused = run(
        &target,
        None,
        &args(wrong.to_str().unwrap())
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert_ne!(refused.status.code(), Some(0));
    assert!(text(&refused).contains("wrong"), "{}", text(&refused));
    assert!(!target.join("master.key").exists());

    let mut bytes = std::fs::read(&archive).unwrap();
    let last = bytes.len() - 40;
    bytes[last] ^= 1;
    let damaged = dir.path().join("damaged.registre");
    std::fs::write(&damaged, bytes).unwrap();
    let refused = run(
        &target,
        None,
        &[
            "restore",
            damaged.to_str().unwrap(),
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ],
    );
    assert_ne!(refused.status.code(), Some(0));
    assert!(text(&refused).contains("damaged"), "{}", text(&refused));
    assert!(
        !target.exists() || std::fs::read_dir(&target).unwrap().next().is_none(),
        "a failed restore leaves the data dir empty"
    );

    // A ledger export of another installation does not continue this ledger.
    let other = dir.path().join("other");
    let key = api_key(&other, None);
    let server = start(&other, None);
    assert!(
        grant(&client(), &server.url, &key, "x@example.org")
            .await
            .is_some()
    );
    drop(server);
    let foreign = dir.path().join("foreign.jsonl");
    assert!(
        run(
            &other,
            None,
            &["ledger", "export", foreign.to_str().unwrap()]
        )
        .status
        .success()
    );
    let mut with_foreign = args(passphrase.to_str().unwrap());
    with_foreign.extend([
        "--erasures-from".to_string(),
        foreign.to_str().unwrap().to_string(),
    ]);
    let refused = run(
        &target,
        None,
        &with_foreign.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert_ne!(refused.status.code(), Some(0));
    assert!(
        text(&refused).contains("does not continue")
            || text(&refused).contains("before the backup"),
        "{}",
        text(&refused)
    );
}

/// An operator's restore is killed (the machine stops, `kill -9`) while it reads the
/// archive: the data dir is left as it was, empty, and running the same restore again works.
#[test]
fn a_restore_killed_midway_leaves_the_data_dir_empty_and_a_retry_works() {
    use std::io::Write;
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let demo = run(&data, None, &["demo"]);
    assert!(demo.status.success(), "{}", text(&demo));
    let passphrase = dir.path().join("passphrase");
    std::fs::write(&passphrase, PASSPHRASE).unwrap();
    let archive = dir.path().join("b.registre");
    let backup = run(
        &data,
        None,
        &[
            "backup",
            archive.to_str().unwrap(),
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ],
    );
    assert!(backup.status.success(), "{}", text(&backup));
    let bytes = std::fs::read(&archive).unwrap();
    // Beyond a pipe's buffer (64 KiB), a sealed chunk (64 KiB) and a read buffer, and the
    // key files come first: once all but the last byte is written, the restore has read
    // (and written out) the key files and part of the database.
    assert!(bytes.len() > 240_000, "archive of {} bytes", bytes.len());

    let target = dir.path().join("restored");
    let mut killed = registre(&target, None)
        .args([
            "restore",
            "/dev/stdin",
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = killed.stdin.take().unwrap();
    stdin.write_all(&bytes[..bytes.len() - 1]).unwrap();
    killed.kill().unwrap();
    killed.wait().unwrap();
    drop(stdin);
    assert!(
        !target.exists() || std::fs::read_dir(&target).unwrap().next().is_none(),
        "a killed restore leaves the data dir empty: {:?}",
        std::fs::read_dir(&target)
            .map(|entries| entries.flatten().map(|e| e.file_name()).collect::<Vec<_>>())
    );

    let retry = run(
        &target,
        None,
        &[
            "restore",
            archive.to_str().unwrap(),
            "--passphrase-file",
            passphrase.to_str().unwrap(),
        ],
    );
    assert!(retry.status.success(), "the retry: {}", text(&retry));
    let verify = run(&target, None, &["verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    // Nothing of the staging is left beside it.
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .filter(|name| name.contains("restoring"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}
