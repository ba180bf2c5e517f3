//! Everything held on one person (Art. 15), machine-readable: their submissions decrypted,
//! their consents with the whole history and the notice versions they saw, their requests,
//! and how their data is processed — purposes, recipients, retention, source. The history is
//! streamed page by page, so a person with a hundred thousand events costs no more memory
//! than one with ten. Portability (Art. 20) is the subset the person provided, as JSON and CSV.
use crate::tokens::TokenKind;
use crate::{App, AppError, AppResult, Principal};
use registre_domain::Email;
use registre_domain::ledger::{self, SubjectFlags};
use registre_domain::request::{RequestStatus, RequestType};
use registre_domain::role::Permission;
use registre_store::{StoreError, SubjectRecord};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::io::Write;
use tokio::sync::mpsc;
use uuid::Uuid;

/// Events read from the ledger per page while exporting.
const EVENT_PAGE: i64 = 1000;

/// A file to download: name, media type and bytes.
#[derive(Clone)]
pub struct Download {
    pub filename: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("filename", &self.filename)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The person's submissions, decrypted.
    async fn submissions_json(&self, subject: &SubjectRecord) -> AppResult<Vec<Value>> {
        let key = self.subject_key(subject)?;
        let mut out = Vec::new();
        for submission in self.store().submissions_of(subject.id).await? {
            let bytes = key.open(
                crate::subjects::SUBMISSION_CONTEXT,
                &submission.fields_sealed,
            )?;
            let fields: Value = serde_json::from_slice(&bytes)
                .map_err(|_| AppError::Store(StoreError::Corrupt("submission fields".into())))?;
            out.push(json!({
                "id": submission.id, "touchpoint": submission.touchpoint, "notice_version": submission.notice_version,
                "received_at": submission.received_at, "fields": fields
            }));
        }
        Ok(out)
    }

    /// The export without the consent history: everything whose size does not grow with
    /// the number of events.
    async fn export_head(
        &self,
        email: &Email,
        subject: Option<&SubjectRecord>,
    ) -> AppResult<Value> {
        let organisation = self.organisation().await?;
        let purposes = self.purposes().await?;
        let touchpoints = self.touchpoints().await?;
        let requests = self.requests_of_email(email).await?;
        let erased = subject.is_none()
            && self
                .store()
                .suppressed_since(&self.blind_index(email))
                .await?
                .is_some();
        let (submissions, consents, external_id) = match subject {
            Some(subject) => {
                let submissions = self.submissions_json(subject).await?;
                let states = self.store().consent_states_of(subject.id).await?;
                let flags = SubjectFlags {
                    erased: false,
                    restricted: subject.restricted,
                    objected_to_marketing: subject.objected_to_marketing,
                };
                let consents: Vec<Value> = purposes
                    .iter()
                    .filter_map(|p| {
                        let state = states.iter().find(|s| s.purpose == p.key.as_str())?;
                        let decision = ledger::decide(p, flags, Some((state.state, state.since)), true);
                        Some(json!({"purpose": p.key.as_str(), "legal_basis": p.legal_basis, "state": decision.state,
                                    "allowed": decision.allowed, "since": state.since}))
                    })
                    .collect();
                let external_id = match &subject.external_id_sealed {
                    Some(sealed) => Some(
                        self.subject_key(subject)?
                            .open_string("subjects.external_id", sealed)
                            .unwrap_or_default(),
                    ),
                    None => None,
                };
                (submissions, consents, external_id)
            }
            None => (Vec::new(), Vec::new(), None),
        };
        // The purposes that concern the person: those of the touchpoints they used and those
        // with a consent of theirs.
        let used: BTreeSet<&str> = submissions
            .iter()
            .filter_map(|s| s["touchpoint"].as_str())
            .collect();
        let mut concerned: Vec<&registre_domain::purpose::Purpose> = purposes
            .iter()
            .filter(|p| {
                consents.iter().any(|c| c["purpose"] == p.key.as_str())
                    || touchpoints.iter().any(|t| {
                        used.contains(t.key.as_str())
                            && t.purposes.iter().any(|k| k == p.key.as_str())
                    })
            })
            .collect();
        concerned.sort_by(|a, b| a.key.cmp(&b.key));
        let recipients: BTreeSet<&str> = concerned
            .iter()
            .flat_map(|p| p.recipients.iter().map(String::as_str))
            .collect();
        let source_touchpoints: Vec<Value> = touchpoints
            .iter()
            .filter(|t| used.contains(t.key.as_str()))
            .map(|t| json!({"touchpoint": t.key.as_str(), "title": t.title}))
            .collect();
        Ok(json!({
            "format": "registre.subject_export.v1",
            "generated_at": self.now(),
            "controller": {
                "name": organisation.name, "address": organisation.address, "contact_email": organisation.contact_email,
                "dpo": organisation.dpo, "privacy_policy_url": organisation.privacy_policy_url
            },
            "subject": {
                "email": email.as_str(),
                "external_id": external_id,
                "known": subject.is_some(),
                "known_since": subject.map(|s| s.created_at),
                "restricted": subject.map(|s| s.restricted).unwrap_or(false),
                "objected_to_marketing": subject.map(|s| s.objected_to_marketing).unwrap_or(false),
                "erased": erased
            },
            "submissions": submissions,
            "consents": consents,
            "requests": requests,
            "purposes": concerned.iter().map(|p| json!({
                "key": p.key.as_str(), "title": p.title, "description": p.description, "legal_basis": p.legal_basis,
                "legitimate_interest": p.legitimate_interest, "data_categories": p.data_categories,
                "recipients": p.recipients, "transfers": p.transfers, "retention_days": p.retention_days
            })).collect::<Vec<_>>(),
            "recipients": recipients,
            "retention": concerned.iter().map(|p| json!({"purpose": p.key.as_str(), "retention_days": p.retention_days})).collect::<Vec<_>>(),
            "source": {
                "collected_from": "the data subject",
                "touchpoints": source_touchpoints,
                "text": {
                    "fr": "Ces données ont été recueillies directement auprès de vous, par les formulaires indiqués, ou enregistrées à votre demande ; l'historique indique la source de chaque consentement.",
                    "en": "This data was collected directly from you, through the forms listed, or recorded at your request; the history gives the source of each consent."
                }
            },
            "automated_decisions": false,
            "rights": {
                "authority": organisation.authority,
                "text": {
                    "fr": "Vous pouvez demander l'accès, la rectification, l'effacement, la limitation, la portabilité de vos données, vous opposer à leur traitement et retirer votre consentement à tout moment, et introduire une réclamation auprès de l'autorité de contrôle.",
                    "en": "You may ask for access, rectification, erasure, restriction and portability of your data, object to its processing and withdraw your consent at any time, and lodge a complaint with the supervisory authority."
                }
            }
        }))
    }

    /// Checks the caller and the email, then streams the export as JSON chunks. The channel
    /// is bounded: the producer waits for the consumer, so memory stays flat.
    pub async fn export_subject_stream(
        &self,
        by: &Principal,
        email: &str,
    ) -> AppResult<mpsc::Receiver<Vec<u8>>> {
        by.require(Permission::Read)?;
        let email = Email::parse(email)?;
        let subject = self.find_subject(&email).await?;
        let head = self.export_head(&email, subject.as_ref()).await?;
        let audit = self.audit_record(
            by,
            "subject.exported",
            subject
                .as_ref()
                .map(|s| format!("subject:{}", s.id))
                .unwrap_or_else(|| "subject:unknown".into()),
            json!({}),
        );
        self.store().append_audit(&audit).await?;
        let (sender, receiver) = mpsc::channel::<Vec<u8>>(4);
        let app = self.clone();
        tokio::spawn(async move {
            if let Err(error) = app.stream_export(head, subject, &sender).await {
                // The consumer sees a truncated document, which does not parse.
                tracing::warn!(%error, "an export stopped before its end");
            }
        });
        Ok(receiver)
    }

    async fn stream_export(
        &self,
        head: Value,
        subject: Option<SubjectRecord>,
        sender: &mpsc::Sender<Vec<u8>>,
    ) -> AppResult<()> {
        let closed = || AppError::internal("the export's reader went away");
        let mut text = head.to_string();
        // `head` is an object: reopen it to append the history.
        text.pop();
        text.push_str(",\"consent_history\":[");
        sender.send(text.into_bytes()).await.map_err(|_| closed())?;
        let mut notices = BTreeSet::new();
        if let Some(subject) = &subject {
            let mut after = 0;
            let mut first = true;
            loop {
                let page = self
                    .store()
                    .events_of(subject.id, after, EVENT_PAGE)
                    .await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                let mut chunk = Vec::with_capacity(page.len() * 400);
                for event in &page {
                    if let Some(version) = &event.notice_version {
                        notices.insert(version.clone());
                    }
                    if !first {
                        chunk.push(b',');
                    }
                    first = false;
                    serde_json::to_writer(&mut chunk, event)
                        .map_err(|e| AppError::internal(e.to_string()))?;
                }
                sender.send(chunk).await.map_err(|_| closed())?;
                if (page.len() as i64) < EVENT_PAGE {
                    break;
                }
            }
            if let Ok(submissions) = self.store().submissions_of(subject.id).await {
                notices.extend(submissions.into_iter().map(|s| s.notice_version));
            }
        }
        let mut tail = String::from("],\"notices\":[");
        let mut first = true;
        for version in notices {
            if let Ok(notice) = self.notice(&version).await {
                if !first {
                    tail.push(',');
                }
                first = false;
                let content = serde_json::to_value(&notice.content).unwrap_or(Value::Null);
                tail.push_str(&json!({"version": notice.version, "published_at": notice.published_at, "content": content}).to_string());
            }
        }
        tail.push_str("]}");
        sender.send(tail.into_bytes()).await.map_err(|_| closed())?;
        Ok(())
    }

    /// The whole export in memory (for the zip of an access request).
    pub async fn export_subject_json(&self, by: &Principal, email: &str) -> AppResult<Value> {
        let mut receiver = self.export_subject_stream(by, email).await?;
        let mut bytes = Vec::new();
        while let Some(chunk) = receiver.recv().await {
            bytes.extend(chunk);
        }
        serde_json::from_slice(&bytes)
            .map_err(|_| AppError::internal("the export did not complete"))
    }

    /// What the person provided (Art. 20): their email, what they typed in forms, the
    /// consents they gave.
    async fn portability_json(&self, email: &Email) -> AppResult<Value> {
        let subject = self.find_subject(email).await?;
        let (submissions, consents) = match &subject {
            Some(subject) => {
                let submissions = self.submissions_json(subject).await?;
                let consents: Vec<Value> = self
                    .store()
                    .consent_states_of(subject.id)
                    .await?
                    .into_iter()
                    .map(|s| json!({"purpose": s.purpose, "state": s.state.as_str(), "since": s.since}))
                    .collect();
                (submissions, consents)
            }
            None => (Vec::new(), Vec::new()),
        };
        Ok(
            json!({"format": "registre.portability.v1", "generated_at": self.now(), "email": email.as_str(),
                  "submissions": submissions, "consents": consents}),
        )
    }

    /// The file behind a download link: the zip of a completed access or portability request.
    pub async fn download(&self, token: &str) -> AppResult<Download> {
        let verified = self.verify_token(TokenKind::Download, token)?;
        let id = verified
            .payload
            .get("r")
            .and_then(Value::as_str)
            .and_then(|s| Uuid::parse_str(s).ok())
            .ok_or(crate::tokens::TokenProblem::Invalid)?;
        let record = self
            .store()
            .request(id)
            .await?
            .ok_or_else(|| AppError::not_found("export"))?;
        let content = self
            .request_content(&record)
            .await?
            .ok_or_else(|| AppError::not_found("export"))?;
        let status = RequestStatus::parse(&record.status)?;
        let request_type = RequestType::parse(&record.request_type)?;
        if status != RequestStatus::Completed {
            return Err(AppError::not_found("export"));
        }
        let email = Email::parse(&content.email)?;
        let by = Principal {
            actor: format!("download:{id}"),
            role: registre_domain::Role::Auditor,
        };
        let date = self.now().format("%Y-%m-%d");
        match request_type {
            RequestType::Access => {
                let export = self.export_subject_json(&by, email.as_str()).await?;
                let json_text = serde_json::to_vec_pretty(&export)
                    .map_err(|e| AppError::internal(e.to_string()))?;
                let html = crate::export_html::render(
                    &export,
                    registre_domain::Language::parse(&record.language).unwrap_or_default(),
                );
                let bytes = zip_files(&[
                    ("registre-export.json", &json_text),
                    ("registre-export.html", html.as_bytes()),
                ])?;
                Ok(Download {
                    filename: format!("registre-access-{date}.zip"),
                    content_type: "application/zip",
                    bytes,
                })
            }
            RequestType::Portability => {
                let data = self.portability_json(&email).await?;
                let json_text = serde_json::to_vec_pretty(&data)
                    .map_err(|e| AppError::internal(e.to_string()))?;
                let csv = portability_csv(&data);
                let bytes = zip_files(&[
                    ("registre-portability.json", &json_text),
                    ("registre-portability.csv", csv.as_bytes()),
                ])?;
                Ok(Download {
                    filename: format!("registre-portability-{date}.zip"),
                    content_type: "application/zip",
                    bytes,
                })
            }
            _ => Err(AppError::not_found("export")),
        }
    }
}

fn zip_files(files: &[(&str, &[u8])]) -> AppResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (name, bytes) in files {
        writer
            .start_file(*name, options)
            .map_err(|e| AppError::internal(format!("zip: {e}")))?;
        writer
            .write_all(bytes)
            .map_err(|e| AppError::internal(format!("zip: {e}")))?;
    }
    Ok(writer
        .finish()
        .map_err(|e| AppError::internal(format!("zip: {e}")))?
        .into_inner())
}

/// One row per value the person provided: `source,received_at,field,value`.
pub(crate) fn portability_csv(data: &Value) -> String {
    fn cell(text: &str) -> String {
        // Formula characters are neutralised so that a spreadsheet does not run them.
        let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
            format!("'{text}")
        } else {
            text.to_string()
        };
        format!("\"{}\"", text.replace('"', "\"\""))
    }
    let mut out = String::from("source,received_at,field,value\r\n");
    out.push_str(&format!(
        "{},{},{},{}\r\n",
        cell("subject"),
        cell(""),
        cell("email"),
        cell(data["email"].as_str().unwrap_or(""))
    ));
    for submission in data["submissions"].as_array().into_iter().flatten() {
        let source = format!("form:{}", submission["touchpoint"].as_str().unwrap_or(""));
        let at = submission["received_at"].as_str().unwrap_or("");
        for (name, value) in submission["fields"].as_object().into_iter().flatten() {
            let value = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push_str(&format!(
                "{},{},{},{}\r\n",
                cell(&source),
                cell(at),
                cell(name),
                cell(&value)
            ));
        }
    }
    for consent in data["consents"].as_array().into_iter().flatten() {
        let field = format!("consent.{}", consent["purpose"].as_str().unwrap_or(""));
        out.push_str(&format!(
            "{},{},{},{}\r\n",
            cell("consent"),
            cell(consent["since"].as_str().unwrap_or("")),
            cell(&field),
            cell(consent["state"].as_str().unwrap_or(""))
        ));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_portability_csv_quotes_values_and_defuses_formulas() {
        let data = json!({"email": "a@b.fr", "submissions": [{"touchpoint": "contact", "received_at": "2026-01-01T00:00:00Z",
            "fields": {"message": "say \"hi\"", "name": "=HYPERLINK()"}}], "consents": [{"purpose": "newsletter", "state": "granted", "since": "x"}]});
        let csv = portability_csv(&data);
        assert!(csv.starts_with("source,received_at,field,value\r\n"));
        assert!(csv.contains("\"say \"\"hi\"\"\""));
        assert!(csv.contains("\"'=HYPERLINK()\""));
        assert!(csv.contains("\"consent.newsletter\",\"granted\""));
    }

    #[test]
    fn a_zip_holds_the_files_given() {
        let bytes = zip_files(&[("a.json", &b"{}"[..]), ("b.html", &b"<p>"[..])]).unwrap();
        let archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(archive.len(), 2);
    }
}
