//! Fuzzes the consent CSV import (`registre import consents FILE`): the CSV reader, then the
//! whole import with its row-by-row validation and report, on the demo organisation (fresh
//! SQLite data dir; imported rows are really recorded).
//!
//! Invariants: no panic; the reader's records written back as CSV (every field quoted) read
//! back to the same fields; an import is refused as a whole only for a file-level problem
//! (unreadable CSV, no header, a required column missing), with a validation error; otherwise
//! every data row is either imported or rejected, once, with its line number, rejections are
//! sorted by line, and no rejection reason quotes the row's email.
#![no_main]

#[path = "common/mod.rs"]
mod common;

use libfuzzer_sys::fuzz_target;
use registre_app::parse_csv;
use registre_app::{AppError, Principal};
use std::collections::BTreeSet;

fn write_csv(records: &[(usize, Vec<String>)]) -> String {
    let mut text = String::new();
    for (_, record) in records {
        let fields: Vec<String> = record
            .iter()
            .map(|f| format!("\"{}\"", f.replace('"', "\"\"")))
            .collect();
        text.push_str(&fields.join(","));
        text.push_str("\r\n");
    }
    text
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = parse_csv(&text);
    if let Ok(records) = &parsed {
        let again = parse_csv(&write_csv(records)).expect("written CSV reads back");
        let fields =
            |r: &[(usize, Vec<String>)]| r.iter().map(|(_, f)| f.clone()).collect::<Vec<_>>();
        assert_eq!(fields(records), fields(&again));
        for pair in records.windows(2) {
            assert!(pair[0].0 < pair[1].0, "line numbers go up");
        }
    }

    let world = common::world();
    let result = world.block_on(world.app.import_consents_csv(
        &Principal::cli(),
        "fuzz.csv",
        &text,
    ));
    match result {
        Err(error) => {
            assert!(
                matches!(error, AppError::Domain(_)),
                "the file as a whole is refused only as invalid: {error:?}"
            );
            let file_level = match &parsed {
                Err(_) => true,
                Ok(records) => match records.first() {
                    None => true,
                    Some((_, header)) => {
                        let header: Vec<String> =
                            header.iter().map(|h| h.trim().to_lowercase()).collect();
                        ["email", "purpose", "action", "occurred_at"]
                            .iter()
                            .any(|c| !header.iter().any(|h| h == c))
                    }
                },
            };
            assert!(file_level, "refused without a file-level problem: {error}");
        }
        Ok(report) => {
            let records = parsed.expect("an imported file was readable CSV");
            let rows = &records[1..];
            assert_eq!(report.imported + report.rejected.len(), rows.len());
            let lines: BTreeSet<usize> = rows.iter().map(|(line, _)| *line).collect();
            let mut previous = 0;
            for rejected in &report.rejected {
                assert!(
                    lines.contains(&rejected.line),
                    "line {} is a row",
                    rejected.line
                );
                assert!(rejected.line >= previous, "rejections sorted by line");
                previous = rejected.line;
            }
            let header: Vec<String> = records[0]
                .1
                .iter()
                .map(|h| h.trim().to_lowercase())
                .collect();
            let email_column = header.iter().position(|h| h == "email").unwrap();
            for rejected in &report.rejected {
                let (_, row) = rows
                    .iter()
                    .find(|(line, _)| *line == rejected.line)
                    .unwrap();
                let email = row.get(email_column).map(|e| e.trim()).unwrap_or("");
                if email.len() >= 6 && email.contains('@') {
                    assert!(
                        !rejected.reason.contains(email)
                            && !rejected.reason.contains(&email.to_lowercase()),
                        "line {}: the reason quotes the email: {:?}",
                        rejected.line,
                        rejected.reason
                    );
                }
            }
        }
    }
});
