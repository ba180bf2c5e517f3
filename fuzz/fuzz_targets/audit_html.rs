//! Fuzzes the whole auditor path: input guard, html5ever parse, analysis, and every output.
//!
//! `cargo +nightly fuzz run audit_html fuzz/corpus/audit_html`
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Pages arrive as bytes (files, HTTP bodies); the CLI and the server decode them lossily.
    let html = String::from_utf8_lossy(data);
    if let Ok(report) = registre_audit::audit_html(&html) {
        let errors = report
            .forms
            .iter()
            .flat_map(|f| &f.findings)
            .filter(|f| f.level == registre_audit::Level::Error)
            .count();
        assert_eq!(errors, report.summary.errors);
        assert_eq!(report.has_errors(), errors > 0);
        let _ = report.to_text();
        assert_eq!(report.to_sarif("fuzz.html")["version"], "2.1.0");
    }
    let _ = registre_audit::audit_html_with_url(&html, "http://fuzz.example/dir/page");
});
