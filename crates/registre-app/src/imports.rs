//! Consents recorded in bulk: the API's bulk variant and the CSV import of earlier records.
//! Each item is validated on its own; the valid ones are committed together (one group
//! commit), each in its own savepoint, and every item gets its own answer.
use crate::{App, AppError, AppResult, ConsentRequest, Principal};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use registre_domain::DomainError;
use registre_domain::ledger::{ConsentEvent, ConsentSource};
use registre_domain::role::Permission;
use registre_store::ChangeSet;
use serde::Serialize;
use uuid::Uuid;

/// Most items one bulk request takes.
pub const MAX_BULK_ITEMS: usize = 1000;
/// Rows of a CSV import committed together.
const IMPORT_CHUNK: usize = 500;

/// The answer for one item of a bulk request.
pub type BulkItemResult = AppResult<ConsentEvent>;

/// A CSV row that was not imported, and why. The reason never quotes the email.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RejectedRow {
    /// Line number in the file (the header is line 1).
    pub line: usize,
    pub reason: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct ImportReport {
    pub import_id: Uuid,
    pub file: String,
    pub imported: usize,
    pub rejected: Vec<RejectedRow>,
    /// Header columns that were not understood and so not read.
    pub ignored_columns: Vec<String>,
}

const COLUMNS: [&str; 7] = [
    "email",
    "purpose",
    "action",
    "occurred_at",
    "source",
    "touchpoint",
    "notice_version",
];
const REQUIRED_COLUMNS: [&str; 4] = ["email", "purpose", "action", "occurred_at"];

/// The text of an error for a report that may be read anywhere: without the email it is about.
fn reason(error: &AppError, email: &str) -> String {
    let text = error.to_string();
    let email = email.trim();
    if email.is_empty() {
        text
    } else {
        text.replace(email, "<email>")
            .replace(&email.to_lowercase(), "<email>")
    }
}

/// Reads an instant of an import: RFC 3339, or a UTC date and time without zone
/// (`2024-01-31 09:30:00`, `2024-01-31T09:30:00`), or a date (`2024-01-31`, midnight UTC).
pub fn parse_instant(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(raw) {
        return Some(instant.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"] {
        if let Ok(naive) = NaiveDateTime::parse_from_str(raw, format) {
            return Some(naive.and_utc());
        }
    }
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|n| n.and_utc())
}

/// Splits CSV text (RFC 4180: `,` separated, `"` quoted, `""` for a quote, CRLF or LF) into
/// records, each with the line number it starts on. Public as the entry of the `csv_import`
/// fuzz target (`fuzz/`), which checks it against the import built on it.
pub fn parse_csv(text: &str) -> Result<Vec<(usize, Vec<String>)>, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut record: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut line = 1;
    let mut start_line = 1;
    let mut chars = text.chars().peekable();
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                '\n' => {
                    line += 1;
                    field.push('\n');
                }
                other => field.push(other),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                at_field_start = false;
            }
            ',' => {
                record.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' | '\r' => {
                record.push(std::mem::take(&mut field));
                if !(record.len() == 1 && record[0].trim().is_empty()) {
                    records.push((start_line, std::mem::take(&mut record)));
                }
                record.clear();
                line += 1;
                start_line = line;
                at_field_start = true;
            }
            other => {
                field.push(other);
                at_field_start = false;
            }
        }
    }
    if in_quotes {
        return Err(format!("line {start_line}: a quoted field is not closed"));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        if !(record.len() == 1 && record[0].trim().is_empty()) {
            records.push((start_line, record));
        }
    }
    Ok(records)
}

impl App {
    /// Records many grants and withdrawals: each validated on its own, the valid ones
    /// committed together. Items default to source `import`; each needs a provenance, its
    /// own or `provenance` for all.
    pub async fn record_consents_bulk(
        &self,
        by: &Principal,
        provenance: Option<&str>,
        items: Vec<serde_json::Value>,
    ) -> AppResult<Vec<BulkItemResult>> {
        by.require(Permission::OperateSubjects)?;
        if items.is_empty() {
            return Err(DomainError::invalid("items", "give at least one consent").into());
        }
        if items.len() > MAX_BULK_ITEMS {
            return Err(DomainError::invalid(
                "items",
                format!("at most {MAX_BULK_ITEMS} consents per request"),
            )
            .into());
        }
        let provenance = provenance.map(str::trim).filter(|p| !p.is_empty());
        let mut results: Vec<Option<BulkItemResult>> = Vec::with_capacity(items.len());
        let mut prepared: Vec<(usize, ChangeSet)> = Vec::new();
        for (index, item) in items.into_iter().enumerate() {
            let mut item: ConsentRequest = match serde_json::from_value(item) {
                Ok(item) => item,
                Err(error) => {
                    results.push(Some(Err(DomainError::invalid(
                        format!("items/{index}"),
                        error.to_string(),
                    )
                    .into())));
                    continue;
                }
            };
            if item.source.is_none() {
                item.source = Some(ConsentSource::Import.as_str().into());
            }
            let has_own = item
                .provenance
                .as_deref()
                .is_some_and(|p| !p.trim().is_empty());
            if !has_own {
                item.provenance = provenance.map(str::to_string);
            }
            if item.provenance.is_none() {
                results.push(Some(Err(DomainError::invalid(
                    "provenance",
                    "say where these consents come from (a file, a system)",
                )
                .into())));
                continue;
            }
            match self.prepare_consent(by, item).await {
                Ok(change) => {
                    prepared.push((index, change));
                    results.push(None);
                }
                Err(error) => results.push(Some(Err(error))),
            }
        }
        let (indexes, changes): (Vec<usize>, Vec<ChangeSet>) = prepared.into_iter().unzip();
        let committed = self.commit_changes(changes).await;
        for (index, outcome) in indexes.into_iter().zip(committed) {
            let event = outcome.map_err(AppError::from).and_then(|mut events| {
                events
                    .pop()
                    .ok_or_else(|| AppError::internal("the ledger returned no event"))
            });
            if let Some(slot) = results.get_mut(index) {
                *slot = Some(event);
            }
        }
        let results: Vec<BulkItemResult> = results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(AppError::internal("the ledger returned no result"))))
            .collect();
        let accepted = results.iter().filter(|r| r.is_ok()).count();
        let audit = self.audit_record(
            by,
            "consents.bulk_recorded",
            "consents",
            serde_json::json!({"accepted": accepted, "rejected": results.len() - accepted, "provenance": provenance}),
        );
        self.store().append_audit(&audit).await?;
        Ok(results)
    }

    /// Imports earlier consents from CSV text with the header `email, purpose, action,
    /// occurred_at[, source][, touchpoint][, notice_version]`. Every row is validated on its
    /// own; rejected rows are reported by line number and reason, never by email. Imported
    /// events have source `import` and a provenance naming the file, the import and the line.
    /// An erased person cannot be brought back.
    pub async fn import_consents_csv(
        &self,
        by: &Principal,
        file_name: &str,
        text: &str,
    ) -> AppResult<ImportReport> {
        by.require(Permission::OperateSubjects)?;
        let file: String = file_name
            .rsplit(['/', '\\'])
            .next()
            .unwrap_or(file_name)
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect();
        let records = parse_csv(text).map_err(|e| DomainError::invalid("file", e))?;
        let mut records = records.into_iter();
        let Some((_, header)) = records.next() else {
            return Err(
                DomainError::invalid("file", "the file is empty: it needs a header line").into(),
            );
        };
        let header: Vec<String> = header.iter().map(|h| h.trim().to_lowercase()).collect();
        for required in REQUIRED_COLUMNS {
            if !header.iter().any(|h| h == required) {
                return Err(DomainError::invalid(
                    "file",
                    format!(
                        "the header has no {required} column (expected: {})",
                        COLUMNS.join(", ")
                    ),
                )
                .into());
            }
        }
        let ignored_columns: Vec<String> = header
            .iter()
            .filter(|h| !COLUMNS.contains(&h.as_str()))
            .cloned()
            .collect();
        let column = |name: &str| header.iter().position(|h| h == name);
        let columns: Vec<Option<usize>> = COLUMNS.iter().map(|name| column(name)).collect();
        let import_id = Uuid::now_v7();
        let mut report = ImportReport {
            import_id,
            file: file.clone(),
            imported: 0,
            rejected: Vec::new(),
            ignored_columns,
        };
        let rows: Vec<(usize, Vec<String>)> = records.collect();
        for chunk in rows.chunks(IMPORT_CHUNK) {
            let mut prepared: Vec<(usize, String, ChangeSet)> = Vec::new();
            for (line, row) in chunk {
                let value = |i: usize| {
                    columns[i]
                        .and_then(|c| row.get(c))
                        .map(|v| v.trim())
                        .filter(|v| !v.is_empty())
                };
                let email = value(0).unwrap_or_default().to_string();
                let reject = |reason: String| RejectedRow {
                    line: *line,
                    reason,
                };
                let Some(occurred_at) = value(3) else {
                    report.rejected.push(reject("occurred_at: required".into()));
                    continue;
                };
                let Some(occurred_at) = parse_instant(occurred_at) else {
                    report.rejected.push(reject(
                        "occurred_at: expected an RFC 3339 instant or a date (YYYY-MM-DD)".into(),
                    ));
                    continue;
                };
                let original_source = match value(4) {
                    None => None,
                    Some(raw) => match ConsentSource::parse(&raw.to_lowercase())
                        .filter(|s| *s != ConsentSource::System)
                    {
                        Some(source) => Some(source),
                        None => {
                            report.rejected.push(reject(
                                "source: expected form, portal, api, import or email_link".into(),
                            ));
                            continue;
                        }
                    },
                };
                let mut provenance = format!("import {import_id} file {file} line {line}");
                if let Some(source) = original_source.filter(|s| *s != ConsentSource::Import) {
                    provenance.push_str(&format!(" collected by {}", source.as_str()));
                }
                let request = ConsentRequest {
                    subject: crate::SubjectRef {
                        email: Some(email.clone()),
                        external_id: None,
                    },
                    purpose: value(1).unwrap_or_default().to_string(),
                    action: value(2).unwrap_or_default().to_lowercase(),
                    source: Some(ConsentSource::Import.as_str().into()),
                    touchpoint: value(5).map(str::to_string),
                    notice_version: value(6).map(str::to_string),
                    occurred_at: Some(occurred_at),
                    provenance: Some(provenance),
                };
                match self.prepare_consent(by, request).await {
                    Ok(change) => prepared.push((*line, email, change)),
                    Err(error) => report.rejected.push(reject(reason(&error, &email))),
                }
            }
            let (meta, changes): (Vec<(usize, String)>, Vec<ChangeSet>) = prepared
                .into_iter()
                .map(|(line, email, change)| ((line, email), change))
                .unzip();
            for ((line, email), outcome) in meta.into_iter().zip(self.commit_changes(changes).await)
            {
                match outcome {
                    Ok(_) => report.imported += 1,
                    Err(error) => report.rejected.push(RejectedRow {
                        line,
                        reason: reason(&AppError::from(error), &email),
                    }),
                }
            }
        }
        report.rejected.sort_by_key(|r| r.line);
        let audit = self.audit_record(
            by,
            "consents.imported",
            format!("import:{import_id}"),
            serde_json::json!({"file": file, "imported": report.imported, "rejected": report.rejected.len()}),
        );
        self.store().append_audit(&audit).await?;
        Ok(report)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_may_be_quoted_and_lines_are_counted() {
        let text = "\u{feff}email,purpose\r\n\"a@example.org\",\"news, \"\"letter\"\"\"\n\nb@example.org,\"two\nlines\"\nc@example.org,x";
        let records = parse_csv(text).unwrap();
        assert_eq!(
            records[0],
            (1, vec!["email".to_string(), "purpose".to_string()])
        );
        assert_eq!(
            records[1],
            (
                2,
                vec!["a@example.org".to_string(), "news, \"letter\"".to_string()]
            )
        );
        assert_eq!(
            records[2],
            (
                4,
                vec!["b@example.org".to_string(), "two\nlines".to_string()]
            )
        );
        assert_eq!(records[3].0, 6);
        assert!(parse_csv("a,\"b").is_err());
    }

    #[test]
    fn import_instants_take_the_usual_shapes() {
        assert_eq!(
            parse_instant("2024-01-31T09:30:00Z").unwrap().to_rfc3339(),
            "2024-01-31T09:30:00+00:00"
        );
        assert_eq!(
            parse_instant("2024-01-31T10:30:00+01:00")
                .unwrap()
                .to_rfc3339(),
            "2024-01-31T09:30:00+00:00"
        );
        assert_eq!(
            parse_instant("2024-01-31 09:30:00").unwrap().to_rfc3339(),
            "2024-01-31T09:30:00+00:00"
        );
        assert_eq!(
            parse_instant("2024-01-31").unwrap().to_rfc3339(),
            "2024-01-31T00:00:00+00:00"
        );
        assert!(parse_instant("31/01/2024").is_none());
    }
}
