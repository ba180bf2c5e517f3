//! The ledger from the command line: import, checkpoint, export, and checks by an auditor who
//! has only the export and the published key.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::{Command, Output};

const BINARY: &str = env!("CARGO_BIN_EXE_registre");

fn registre(data_dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BINARY)
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env("REGISTRE_LOG", "warn")
        .env_remove("REGISTRE_DATABASE_URL")
        .env_remove("REGISTRE_MASTER_KEY")
        .output()
        .expect("run registre")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[tokio::test]
async fn an_auditor_checks_an_export_offline_and_a_changed_byte_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(registre(&data, &["demo"]).status.success());

    let csv = dir.path().join("legacy.csv");
    std::fs::write(
        &csv,
        "email,purpose,action,occurred_at\njeanne@example.org,newsletter,grant,2024-01-31\nsecret.person@example.org,astrology,grant,2024-01-31\njeanne@example.org,newsletter,withdraw,2024-03-01T08:00:00Z\n",
    )
    .unwrap();
    let import = registre(&data, &["import", "consents", csv.to_str().unwrap()]);
    assert_eq!(
        import.status.code(),
        Some(1),
        "a rejected row makes the import exit 1"
    );
    let report = stdout(&import);
    assert!(
        report.contains("2 consents imported, 1 rows rejected"),
        "{report}"
    );
    assert!(report.contains("line 3: "), "{report}");
    assert!(
        !report.contains("secret.person")
            && !String::from_utf8_lossy(&import.stderr).contains("secret.person"),
        "no email in the report"
    );

    let checkpoint = registre(&data, &["ledger", "checkpoint"]);
    assert!(
        checkpoint.status.success(),
        "{}",
        String::from_utf8_lossy(&checkpoint.stderr)
    );
    let export = dir.path().join("ledger.jsonl");
    let exported = registre(&data, &["ledger", "export", export.to_str().unwrap()]);
    assert!(
        exported.status.success(),
        "{}",
        String::from_utf8_lossy(&exported.stderr)
    );

    // Offline: no data dir, only the file, then the file and the published key.
    let elsewhere = dir.path().join("auditor");
    let checked = registre(&elsewhere, &["verify", "--file", export.to_str().unwrap()]);
    assert!(checked.status.success(), "{}", stdout(&checked));
    assert!(
        stdout(&checked).contains("ok, 2 events"),
        "{}",
        stdout(&checked)
    );
    assert!(
        stdout(&checked).contains("1 checkpoints verified"),
        "{}",
        stdout(&checked)
    );
    let text = std::fs::read_to_string(&export).unwrap();
    let header: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let published = dir.path().join("ledger-key.json");
    std::fs::write(&published, header["keys"].to_string()).unwrap();
    let checked = registre(
        &elsewhere,
        &[
            "verify",
            "--file",
            export.to_str().unwrap(),
            "--key",
            published.to_str().unwrap(),
        ],
    );
    assert!(checked.status.success(), "{}", stdout(&checked));
    let stranger = registre_crypto::SigningKey::generate()
        .verifying_key()
        .to_hex();
    let checked = registre(
        &elsewhere,
        &[
            "verify",
            "--file",
            export.to_str().unwrap(),
            "--key",
            &stranger,
        ],
    );
    assert_eq!(
        checked.status.code(),
        Some(1),
        "checkpoints signed by another key do not verify"
    );

    // One byte changed in the file is named by its sequence number.
    let tampered_text: Vec<String> = text
        .lines()
        .map(|l| {
            if l.contains("\"type\":\"event\"") && l.contains("\"seq\":2,") {
                l.replace("\"withdraw\"", "\"grant\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    let tampered = dir.path().join("tampered.jsonl");
    std::fs::write(&tampered, tampered_text.join("\n")).unwrap();
    let checked = registre(
        &elsewhere,
        &[
            "verify",
            "--file",
            tampered.to_str().unwrap(),
            "--key",
            published.to_str().unwrap(),
        ],
    );
    assert_eq!(checked.status.code(), Some(1));
    assert!(
        stdout(&checked).contains("BROKEN at sequence number 2"),
        "{}",
        stdout(&checked)
    );

    // The database itself: verify reads it, and names a changed row.
    let verified = registre(&data, &["verify"]);
    assert!(verified.status.success(), "{}", stdout(&verified));
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            data.join("registre.db").display()
        ))
        .await
        .unwrap();
        sqlx::query("UPDATE consent_events SET action = 'grant' WHERE seq = 2")
            .execute(&mut conn)
            .await
            .unwrap();
    }
    let verified = registre(&data, &["verify"]);
    assert_eq!(verified.status.code(), Some(1));
    assert!(
        stdout(&verified).contains("ledger: BROKEN at sequence number 2"),
        "{}",
        stdout(&verified)
    );
}

/// Imports `rows` (email, purpose, action, occurred_at lines) as legacy consents.
fn import(dir: &std::path::Path, data: &std::path::Path, name: &str, rows: &str) {
    let csv = dir.join(name);
    std::fs::write(&csv, format!("email,purpose,action,occurred_at\n{rows}")).unwrap();
    let imported = registre(data, &["import", "consents", csv.to_str().unwrap()]);
    assert!(imported.status.success(), "{}", stdout(&imported));
}

#[tokio::test]
async fn checkpoints_outside_the_database_outlive_a_rewrite_of_it_and_resume_across_runs() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(registre(&data, &["demo"]).status.success());
    import(
        dir.path(),
        &data,
        "first.csv",
        "a@example.org,newsletter,grant,2024-01-31\nb@example.org,newsletter,grant,2024-02-01\n",
    );
    assert!(registre(&data, &["ledger", "checkpoint"]).status.success());
    // Another process: it resumes the tree from the log's last line instead of rehashing.
    import(
        dir.path(),
        &data,
        "second.csv",
        "c@example.org,newsletter,grant,2024-02-02\nd@example.org,newsletter,grant,2024-02-03\ne@example.org,newsletter,grant,2024-02-04\n",
    );
    let signed = registre(&data, &["ledger", "checkpoint"]);
    assert!(signed.status.success(), "{}", stdout(&signed));
    let log = data.join("ledger-checkpoints.jsonl");
    let lines = std::fs::read_to_string(&log).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    // An auditor's copy of the log, elsewhere.
    let copy = dir.path().join("auditor-copy.jsonl");
    std::fs::copy(&log, &copy).unwrap();

    // The note the second run signed, given alone: verify compares its root with the tree
    // (a wrongly resumed tree would not match).
    let second: serde_json::Value = serde_json::from_str(lines.lines().nth(1).unwrap()).unwrap();
    let note = dir.path().join("note.txt");
    std::fs::write(&note, second["note"].as_str().unwrap()).unwrap();
    let verified = registre(
        &data,
        &[
            "verify",
            "--checkpoint",
            copy.to_str().unwrap(),
            "--checkpoint",
            note.to_str().unwrap(),
        ],
    );
    let text = stdout(&verified);
    assert!(verified.status.success(), "{text}");
    assert!(
        text.contains("checkpoints outside the database: 7 matched"),
        "2 in the log, 2 in the copy, 1 note, 2 in the audit log: {text}"
    );

    // The checkpoints table emptied, the log deleted, and the chain cut back to 3 events with
    // its head: the audit log's records and the auditor's copy remember.
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&format!(
            "sqlite://{}",
            data.join("registre.db").display()
        ))
        .await
        .unwrap();
        for statement in [
            "DELETE FROM ledger_checkpoints",
            "DELETE FROM consent_events WHERE seq > 3",
            "UPDATE chain_heads SET seq = 3, hash = (SELECT hash FROM consent_events WHERE seq = 3) WHERE chain = 'ledger'",
        ] {
            sqlx::query(statement).execute(&mut conn).await.unwrap();
        }
    }
    std::fs::remove_file(&log).unwrap();
    let verified = registre(&data, &["verify", "--checkpoint", copy.to_str().unwrap()]);
    let text = stdout(&verified);
    assert_eq!(verified.status.code(), Some(1), "{text}");
    assert!(
        text.contains("ledger: BROKEN at sequence number 2"),
        "{text}"
    );
    assert!(
        text.contains("seq 2: the checkpoint")
            && text.contains("missing from the checkpoints table"),
        "the deleted checkpoint of 2 events is named: {text}"
    );
    assert!(
        text.contains("auditor-copy.jsonl, line 2") && text.contains("events 4..5 were cut"),
        "{text}"
    );
}
