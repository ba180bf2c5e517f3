//! `registre export ropa` and `registre purge` from the command line.
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

#[test]
fn the_record_of_processing_is_printed_as_json_csv_or_html() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(registre(&data, &["demo"]).status.success());

    let json = registre(&data, &["export", "ropa"]);
    assert!(
        json.status.success(),
        "{}",
        String::from_utf8_lossy(&json.stderr)
    );
    let ropa: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(ropa["controller"]["name"], "Exemple SAS");
    // One activity per purpose of the demo (eight).
    assert_eq!(ropa["activities"].as_array().unwrap().len(), 8);

    let csv = registre(
        &data,
        &["export", "ropa", "--format", "csv", "--lang", "en"],
    );
    assert!(csv.status.success());
    let mut reader = csv::Reader::from_reader(csv.stdout.as_slice());
    assert_eq!(&reader.headers().unwrap()[3], "Key");
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 8);
    assert!(
        rows.iter().any(
            |r| &r[3] == "support_handling" && r[11].contains("Zendesk (Customer support, US)")
        )
    );

    let html = registre(&data, &["export", "ropa", "--format", "html"]);
    assert!(html.status.success());
    let page = stdout(&html);
    assert!(
        page.starts_with("<!doctype html>")
            && page.contains("Registre des activités de traitement")
            && page.contains("@media print")
    );

    let bad = registre(&data, &["export", "ropa", "--format", "pdf"]);
    assert!(!bad.status.success());
}

#[test]
fn purge_reports_counts_and_a_dry_run_erases_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    assert!(registre(&data, &["demo"]).status.success());
    let dry = registre(&data, &["purge", "--dry-run"]);
    assert!(
        dry.status.success(),
        "{}",
        String::from_utf8_lossy(&dry.stderr)
    );
    let text = stdout(&dry);
    assert!(
        text.contains("dry run") && text.contains("would be erased") && text.contains("newsletter"),
        "{text}"
    );
    let applied = registre(&data, &["purge", "--format", "json"]);
    assert!(applied.status.success());
    let report: serde_json::Value = serde_json::from_slice(&applied.stdout).unwrap();
    assert_eq!(report["dry_run"], false);
    assert_eq!(report["subjects_erased"], 0);
    assert_eq!(report["purposes"].as_array().unwrap().len(), 8);
}
