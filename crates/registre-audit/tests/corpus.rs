//! The test corpus: realistic pages with the findings a privacy expert expects, per form.
//! Computes precision and recall per rule and fails when an error-level rule falls below 0.95.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use registre_audit::{Level, audit_html};
use serde::Deserialize;

#[derive(Deserialize)]
struct Expected {
    language: Option<String>,
    forms: Vec<ExpectedForm>,
}

#[derive(Deserialize)]
struct ExpectedForm {
    index: usize,
    rules: Vec<String>,
}

const RULES: &[(&str, Level)] = &[
    ("prechecked-consent", Level::Error),
    ("bundled-consent", Level::Error),
    ("forced-consent", Level::Error),
    ("missing-purpose", Level::Error),
    ("missing-rights", Level::Error),
    ("insecure-action", Level::Error),
    ("missing-controller", Level::Warning),
    ("missing-policy-link", Level::Warning),
    ("missing-retention", Level::Warning),
    ("missing-dpo", Level::Warning),
    ("excessive-field", Level::Warning),
];

fn corpus() -> Vec<(String, String, Expected)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut pages = Vec::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "html") {
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let html = std::fs::read_to_string(&path).unwrap();
            let expected_path = dir.join(format!("{name}.expected.json"));
            let expected: Expected = serde_json::from_str(
                &std::fs::read_to_string(&expected_path)
                    .unwrap_or_else(|_| panic!("{name}: no expected file")),
            )
            .unwrap_or_else(|e| panic!("{name}: bad expected file: {e}"));
            pages.push((name, html, expected));
        }
    }
    pages.sort_by(|a, b| a.0.cmp(&b.0));
    pages
}

#[derive(Default, Clone, Copy)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
    expected_present: usize,
    pages_absent: usize,
}

#[test]
fn corpus_precision_and_recall() {
    let pages = corpus();
    let mut counts: BTreeMap<&str, Counts> =
        RULES.iter().map(|(r, _)| (*r, Counts::default())).collect();
    let mut mismatches = Vec::new();
    let mut languages = BTreeSet::new();
    for (name, html, expected) in &pages {
        let report = audit_html(html).unwrap_or_else(|e| panic!("{name}: {e}"));
        languages.insert(report.language.clone());
        if let Some(lang) = &expected.language
            && &report.language != lang
        {
            mismatches.push(format!(
                "{name}: language {} instead of {lang}",
                report.language
            ));
        }
        if report.forms.len() != expected.forms.len() {
            mismatches.push(format!(
                "{name}: {} forms found, {} expected",
                report.forms.len(),
                expected.forms.len()
            ));
        }
        let mut page_rules = BTreeSet::new();
        for exp in &expected.forms {
            let found: Vec<&str> = report
                .forms
                .iter()
                .find(|f| f.index == exp.index)
                .map(|f| f.findings.iter().map(|x| x.rule.as_str()).collect())
                .unwrap_or_default();
            for (rule, _) in RULES {
                let e = exp.rules.iter().filter(|r| r == rule).count();
                let f = found.iter().filter(|r| *r == rule).count();
                let c = counts.get_mut(rule).unwrap();
                c.tp += e.min(f);
                c.fp += f.saturating_sub(e);
                c.fn_ += e.saturating_sub(f);
                c.expected_present += e;
                if e > 0 {
                    page_rules.insert(*rule);
                }
                if e != f {
                    mismatches.push(format!(
                        "{name} form {}: {rule} expected {e}, found {f}",
                        exp.index
                    ));
                }
            }
            for r in &exp.rules {
                assert!(
                    RULES.iter().any(|(k, _)| k == r),
                    "{name}: unknown rule {r}"
                );
            }
        }
        for (rule, _) in RULES {
            if !page_rules.contains(rule) {
                counts.get_mut(rule).unwrap().pages_absent += 1;
            }
        }
    }

    println!(
        "\n{:<22} {:>7} {:>4} {:>4} {:>4} {:>9} {:>7}",
        "rule", "level", "tp", "fp", "fn", "precision", "recall"
    );
    let mut failures = Vec::new();
    for (rule, level) in RULES {
        let c = counts[rule];
        let precision = if c.tp + c.fp == 0 {
            1.0
        } else {
            c.tp as f64 / (c.tp + c.fp) as f64
        };
        let recall = if c.tp + c.fn_ == 0 {
            1.0
        } else {
            c.tp as f64 / (c.tp + c.fn_) as f64
        };
        println!(
            "{:<22} {:>7} {:>4} {:>4} {:>4} {:>9.3} {:>7.3}",
            rule,
            level.as_str(),
            c.tp,
            c.fp,
            c.fn_,
            precision,
            recall
        );
        if c.expected_present == 0 {
            failures.push(format!("{rule}: no page of the corpus expects it"));
        }
        if c.pages_absent == 0 {
            failures.push(format!(
                "{rule}: no page of the corpus shows it rightly absent"
            ));
        }
        if *level == Level::Error && (precision < 0.95 || recall < 0.95) {
            failures.push(format!(
                "{rule}: precision {precision:.3}, recall {recall:.3} below 0.95"
            ));
        }
    }
    println!("\npages: {}, languages: {:?}", pages.len(), languages);
    if !mismatches.is_empty() {
        println!("\nmismatches:");
        for m in &mismatches {
            println!("  {m}");
        }
    }
    assert!(
        pages.len() >= 30,
        "the corpus needs at least 30 pages, has {}",
        pages.len()
    );
    assert!(
        languages.contains("fr") && languages.contains("en"),
        "the corpus needs French and English pages"
    );
    assert!(
        failures.is_empty(),
        "corpus failures:\n{}",
        failures.join("\n")
    );
}

/// Every element a finding names can be found again with its CSS selector.
#[test]
fn corpus_selectors_point_at_elements() {
    for (name, html, _) in corpus() {
        let report = audit_html(&html).unwrap();
        let document = scraper::Html::parse_document(&html);
        for form in &report.forms {
            for f in &form.findings {
                let Some(sel) = &f.element else { continue };
                let selector = scraper::Selector::parse(sel)
                    .unwrap_or_else(|e| panic!("{name}: bad selector {sel}: {e}"));
                let matches = document.select(&selector).count();
                assert!(matches >= 1, "{name}: selector {sel} matches nothing");
                assert!(
                    !f.message.is_empty() && !f.fix.is_empty() && f.article.starts_with("Art."),
                    "{name}: incomplete finding {f:?}"
                );
            }
        }
    }
}

#[test]
fn a_retention_stated_in_a_definition_list_of_a_details_block_counts() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let html = std::fs::read_to_string(dir.join("fr-conservation-dans-une-liste.html")).unwrap();
    let report = audit_html(&html).unwrap();
    let rules: Vec<&str> = report.forms[0]
        .findings
        .iter()
        .map(|f| f.rule.as_str())
        .collect();
    assert!(rules.is_empty(), "{rules:?}");
}
