//! The Registre form auditor: reads an HTML page and reports, for each `<form>` that collects
//! personal data, what the GDPR would find wrong with it.
//!
//! ```
//! let report = registre_audit::audit_html(
//!     r#"<html lang="en"><form action="https://example.com/s">
//!          <input type="email" name="email">
//!          <label><input type="checkbox" name="optin" checked> Send me offers</label>
//!        </form></html>"#,
//! ).unwrap();
//! assert!(report.has_errors());
//! assert!(report.forms[0].findings.iter().any(|f| f.rule == "prechecked-consent"));
//! ```
//!
//! The auditor reads the page with a real HTML parser (html5ever, through `scraper`); the
//! wording rules (French and English) apply to the text of the parsed document, never to the
//! markup. Text anywhere on the page outside other forms counts as information given to the
//! person: a notice next to the form, a footer, a `<details>` block, a notice layer.
//!
//! The auditor itself does no network access; [`fetch`] is a separate, guarded page fetcher
//! for the CLI and the server.
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic))]

mod analyze;
pub mod fetch;
mod guard;
mod i18n;
mod lexicon;
mod text;

use serde::{Deserialize, Serialize};

pub use guard::{MAX_INPUT_BYTES, MAX_NESTING};

/// How serious a finding is: an `error` makes `registre audit-form` exit with status 1.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Error,
    Warning,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warning => "warning",
        }
    }
}

/// One fault in one form.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The rule id, e.g. `prechecked-consent` (see PRODUCT.md "Form audit rules").
    pub rule: String,
    pub level: Level,
    /// What is wrong, in the language of the page.
    pub message: String,
    /// A CSS selector of the element concerned (the field, or the form itself).
    pub element: Option<String>,
    /// The GDPR article(s) concerned, e.g. `Art. 7(4)`.
    #[serde(default)]
    pub article: String,
    /// What to do, in the language of the page.
    #[serde(default)]
    pub fix: String,
}

/// The findings of one `<form>`.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct FormReport {
    /// Position of the form among the page's `<form>` elements, from 0.
    pub index: usize,
    /// Where the form sends its data: the `action` attribute, resolved against `<base href>`
    /// and the page URL when they are known; `null` when the form has no (or an empty)
    /// `action`, which means it posts back to the page itself.
    pub action: Option<String>,
    /// What the form seems to be for: `newsletter`, `contact`, `account`, `login`,
    /// `download`, `other`, or `no-personal-data` (such forms never have findings).
    #[serde(default)]
    pub kind: String,
    pub findings: Vec<Finding>,
}

/// Counts over the whole page.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
}

/// The audit of one page.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Every `<form>` of the page, in document order (also those with no finding).
    pub forms: Vec<FormReport>,
    pub summary: Summary,
    /// Language of the messages: `fr` or `en`, from `<html lang>` or the page's words.
    #[serde(default)]
    pub language: String,
    /// Forms beyond the first 1000 of a page, not audited.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped_forms: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// Why a page could not be audited.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuditError {
    #[error("the page is too large: {size} bytes, the limit is {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("this is not an HTML page: {0}")]
    NotHtml(String),
    #[error("the markup nests too deeply to be audited safely (more than {limit} levels)")]
    TooDeep { limit: usize },
    #[error("invalid page URL: {0}")]
    InvalidUrl(String),
}

impl AuditError {
    /// A stable snake_case code, for the API's error shape.
    pub fn code(&self) -> &'static str {
        match self {
            AuditError::TooLarge { .. } => "payload_too_large",
            AuditError::NotHtml(_) => "not_html",
            AuditError::TooDeep { .. } => "too_deeply_nested",
            AuditError::InvalidUrl(_) => "invalid_url",
        }
    }
}

/// Audits an HTML page. Relative form actions stay as written (see
/// [`audit_html_with_url`] to resolve them).
pub fn audit_html(html: &str) -> Result<AuditReport, AuditError> {
    audit(html, None)
}

/// Audits an HTML page fetched from `page_url`: relative form actions are resolved against
/// it, so a form on an `http://` page that posts to itself is reported as insecure.
pub fn audit_html_with_url(html: &str, page_url: &str) -> Result<AuditReport, AuditError> {
    let url = url::Url::parse(page_url).map_err(|e| AuditError::InvalidUrl(e.to_string()))?;
    audit(html, Some(url))
}

fn audit(html: &str, page_url: Option<url::Url>) -> Result<AuditReport, AuditError> {
    guard::check(html)?;
    let document = scraper::Html::parse_document(html);
    let page = analyze::Page::read(&document, page_url);
    let analysis = page.analyse();
    let lang = i18n::Lang::from_code(analysis.language);
    let mut summary = Summary::default();
    let forms = analysis
        .forms
        .into_iter()
        .map(|form| {
            let findings: Vec<Finding> = form
                .findings
                .iter()
                .map(|raw| i18n::finding(&raw.issue, raw.element.clone(), lang))
                .collect();
            for f in &findings {
                match f.level {
                    Level::Error => summary.errors += 1,
                    Level::Warning => summary.warnings += 1,
                }
            }
            FormReport {
                index: form.index,
                action: form.action,
                kind: form.kind.key().to_string(),
                findings,
            }
        })
        .collect();
    Ok(AuditReport {
        forms,
        summary,
        language: analysis.language.to_string(),
        skipped_forms: analysis.skipped_forms,
    })
}

impl AuditReport {
    /// Is there at least one error-level finding (exit status 1 for the CLI)?
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }

    /// A plain-text report for a terminal, in the language of the page.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let w = i18n::report_words(i18n::Lang::from_code(&self.language));
        let mut out = String::new();
        if self.forms.is_empty() {
            out.push_str(w.no_form);
            out.push('\n');
        }
        for form in &self.forms {
            let action = match &form.action {
                Some(a) => format!("{} {a}", w.action),
                None => w.no_action.to_string(),
            };
            let _ = writeln!(out, "{} #{} ({action})", w.form, form.index);
            if form.kind == "no-personal-data" {
                let _ = writeln!(out, "  {}", w.no_personal_data);
            } else if form.findings.is_empty() {
                let _ = writeln!(out, "  {}", w.no_finding);
            }
            for f in &form.findings {
                let _ = writeln!(
                    out,
                    "  {:<7} {:<20} {}",
                    f.level.as_str(),
                    f.rule,
                    f.element.as_deref().unwrap_or("")
                );
                let _ = writeln!(out, "          {}", f.message);
                let _ = writeln!(out, "          {} ({}) {}", w.fix, f.article, f.fix);
            }
            out.push('\n');
        }
        if self.skipped_forms > 0 {
            let _ = writeln!(out, "{} {}", self.skipped_forms, w.skipped);
        }
        let _ = writeln!(
            out,
            "{}: {} {}, {} {}",
            w.summary, self.summary.errors, w.errors, self.summary.warnings, w.warnings
        );
        out
    }

    /// A SARIF 2.1.0 log, for code-scanning tools. `artifact_uri` names the page audited.
    pub fn to_sarif(&self, artifact_uri: &str) -> serde_json::Value {
        let rules: Vec<serde_json::Value> = i18n::RULES
            .iter()
            .map(|(id, level, article, description)| {
                serde_json::json!({
                    "id": id,
                    "name": id,
                    "shortDescription": {"text": description},
                    "defaultConfiguration": {"level": level.as_str()},
                    "properties": {"gdpr-article": article, "tags": ["gdpr", "privacy"]},
                })
            })
            .collect();
        let mut results = Vec::new();
        for form in &self.forms {
            for f in &form.findings {
                let rule_index = i18n::RULES.iter().position(|r| r.0 == f.rule);
                let mut location = serde_json::json!({
                    "physicalLocation": {"artifactLocation": {"uri": artifact_uri}},
                });
                if let Some(selector) = &f.element {
                    location["logicalLocations"] = serde_json::json!([{
                        "fullyQualifiedName": selector,
                        "kind": "element",
                    }]);
                }
                results.push(serde_json::json!({
                    "ruleId": f.rule,
                    "ruleIndex": rule_index,
                    "level": f.level.as_str(),
                    "message": {"text": format!("{} {}", f.message, f.fix)},
                    "locations": [location],
                    "properties": {"form": form.index, "article": f.article, "fix": f.fix},
                }));
            }
        }
        serde_json::json!({
            "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
            "version": "2.1.0",
            "runs": [{
                "tool": {"driver": {
                    "name": "registre-audit",
                    "version": env!("CARGO_PKG_VERSION"),
                    "rules": rules,
                }},
                "language": self.language,
                "results": results,
            }],
        })
    }
}
