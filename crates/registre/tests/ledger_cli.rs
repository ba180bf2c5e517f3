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
