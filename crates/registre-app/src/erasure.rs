//! Erasure (Art. 17): the person's key destroyed and rows deleted, their requests emptied,
//! mail addressed to them removed from the file outbox, recipients told, a pseudonymous
//! marker in the ledger, and a certificate of erasure kept — what was erased and when, never
//! who. Data that a legal obligation requires keeping (Art. 17(3)(b)) is kept until its
//! retention ends, processing restricted meanwhile, and the answer says so.
use crate::requests::system_event;
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Duration, Utc};
use registre_domain::Email;
use registre_domain::ledger::{ConsentAction, ConsentEvent, ConsentSource, ConsentState};
use registre_domain::purpose::LegalBasis;
use registre_domain::role::Permission;
use registre_store::{ChangeSet, Erasure, ErasureCertificate};
use serde::Serialize;
use std::path::Path;
use uuid::Uuid;

/// Data kept despite the erasure, and why.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Kept {
    /// What is kept: `submission`.
    pub kind: String,
    pub touchpoint: String,
    pub purpose: String,
    pub legal_basis: LegalBasis,
    /// When the retention period ends; the data is erased then.
    pub until: DateTime<Utc>,
    pub reason: String,
}

/// What an erasure did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ErasureOutcome {
    /// The ledger event: `erase` when everything went, `restrict` when some data is kept.
    pub event: Option<ConsentEvent>,
    /// Everything erased (`false` when some data is kept for a legal obligation).
    pub complete: bool,
    pub kept: Vec<Kept>,
    pub certificate_id: Uuid,
    /// The certificate of erasure, as kept.
    pub certificate: serde_json::Value,
}

impl App {
    /// Erases the person known by `email`; `request_id` when a request asked for it.
    pub async fn erase_person(
        &self,
        by: &Principal,
        email: &Email,
        request_id: Option<Uuid>,
    ) -> AppResult<ErasureOutcome> {
        self.erase_person_told(by, email, request_id, None).await
    }

    /// [`Self::erase_person`], after the person was told by `told` (the confirmation of their
    /// request, sent before their address goes): the certificate says so, and the outbox
    /// cleanup keeps that one mail.
    pub(crate) async fn erase_person_told(
        &self,
        by: &Principal,
        email: &Email,
        request_id: Option<Uuid>,
        told: Option<&crate::request_mail::Told>,
    ) -> AppResult<ErasureOutcome> {
        by.require(Permission::OperateSubjects)?;
        let now = self.now();
        let blind_index = self.blind_index(email);
        let subject = self.find_subject(email).await?;
        let mut erased = serde_json::Map::new();
        let mut kept = Vec::new();
        let mut event = None;
        let mut recipients: Vec<String> = Vec::new();
        if let Some(subject) = &subject {
            let submissions = self.store().submissions_of(subject.id).await?;
            let states = self.store().consent_states_of(subject.id).await?;
            let purposes = self.purposes().await?;
            let touchpoints = self.touchpoints().await?;
            for purpose in &purposes {
                let concerned = states.iter().any(|s| s.purpose == purpose.key.as_str())
                    || submissions.iter().any(|s| {
                        touchpoints.iter().any(|t| {
                            t.key.as_str() == s.touchpoint
                                && t.purposes.iter().any(|p| p == purpose.key.as_str())
                        })
                    });
                if concerned {
                    for recipient in &purpose.recipients {
                        if !recipients.contains(recipient) {
                            recipients.push(recipient.clone());
                        }
                    }
                }
            }
            let mut doomed = Vec::new();
            for submission in &submissions {
                let obligation = touchpoints
                    .iter()
                    .find(|t| t.key.as_str() == submission.touchpoint)
                    .into_iter()
                    .flat_map(|t| t.purposes.iter())
                    .filter_map(|key| purposes.iter().find(|p| p.key.as_str() == key))
                    .filter(|p| p.legal_basis == LegalBasis::LegalObligation)
                    .map(|p| (p, submission.received_at + Duration::days(p.retention_days)))
                    .filter(|(_, until)| *until > now)
                    .max_by_key(|(_, until)| *until);
                match obligation {
                    Some((purpose, until)) => kept.push(Kept {
                        kind: "submission".into(),
                        touchpoint: submission.touchpoint.clone(),
                        purpose: purpose.key.to_string(),
                        legal_basis: purpose.legal_basis,
                        until,
                        reason: format!(
                            "kept for a legal obligation (Art. 17(3)(b)) until its retention period of {} days ends; processing is restricted meanwhile",
                            purpose.retention_days
                        ),
                    }),
                    None => doomed.push(submission.id),
                }
            }
            let payload = |event_id: Uuid, complete: bool| {
                serde_json::json!({
                    "id": event_id, "type": "subject.erased", "occurred_at": now,
                    "data": {"email": email.as_str(), "event_id": event_id, "complete": complete}
                })
            };
            if kept.is_empty() {
                let marker = system_event(
                    subject.id,
                    None,
                    ConsentAction::Erase,
                    ConsentSource::System,
                );
                let change = ChangeSet {
                    outbox: self
                        .webhook_message("subject.erased", None, &payload(marker.event_id, true))
                        .await?,
                    events: vec![marker],
                    erasures: vec![Erasure {
                        subject_id: subject.id,
                        blind_index: subject.blind_index.clone(),
                        at: now,
                    }],
                    audit: Some(self.audit_record(
                        by,
                        "subject.erased",
                        format!("subject:{}", subject.id),
                        serde_json::json!({"request_id": request_id}),
                    )),
                    at: now,
                    ..Default::default()
                };
                event = self.commit_one(change).await?.pop();
                erased.insert("data_key".into(), true.into());
                erased.insert("email".into(), true.into());
                erased.insert("submissions".into(), submissions.len().into());
                erased.insert("consent_states".into(), states.len().into());
            } else {
                let audit = self.audit_record(by, "subject.partially_erased", format!("subject:{}", subject.id), serde_json::json!({"deleted_submissions": doomed.len(), "kept_submissions": kept.len()}));
                let deleted = self
                    .store()
                    .delete_submissions(subject.id, &doomed, &audit)
                    .await?;
                let mut events = Vec::new();
                for state in &states {
                    if matches!(state.state, ConsentState::Granted | ConsentState::Pending) {
                        events.push(system_event(
                            subject.id,
                            Some(state.purpose.clone()),
                            ConsentAction::Withdraw,
                            ConsentSource::System,
                        ));
                    }
                }
                let restrict = system_event(
                    subject.id,
                    None,
                    ConsentAction::Restrict,
                    ConsentSource::System,
                );
                let restrict_id = restrict.event_id;
                events.push(restrict);
                let change = ChangeSet {
                    outbox: self
                        .webhook_message("subject.erased", Some(subject.id), &payload(restrict_id, false))
                        .await?,
                    events,
                    audit: Some(self.audit_record(by, "subject.restricted", format!("subject:{}", subject.id), serde_json::json!({"reason": "erasure with data kept for a legal obligation"}))),
                    at: now,
                    ..Default::default()
                };
                event = self
                    .commit_one(change)
                    .await?
                    .into_iter()
                    .find(|e| e.event_id == restrict_id);
                erased.insert("data_key".into(), false.into());
                erased.insert("email".into(), false.into());
                erased.insert("submissions".into(), deleted.into());
                erased.insert(
                    "consents_withdrawn".into(),
                    states
                        .iter()
                        .filter(|s| {
                            matches!(s.state, ConsentState::Granted | ConsentState::Pending)
                        })
                        .count()
                        .into(),
                );
            }
        }
        let audit = self.audit_record(
            by,
            "requests.forgotten",
            "requests",
            serde_json::json!({"request_id": request_id}),
        );
        let requests = self
            .store()
            .forget_requests_of(&blind_index, subject.as_ref().map(|s| s.id), &audit)
            .await?;
        if subject.is_none() && requests == 0 {
            return Err(AppError::not_found("subject"));
        }
        erased.insert("requests".into(), requests.into());
        let mails = remove_mail_to(
            &self.config().mail.outbox_dir,
            email,
            told.and_then(|t| t.outbox_file.clone()),
        )
        .await;
        erased.insert("outbox_mails".into(), mails.into());
        let complete = kept.is_empty();
        let certificate_id = Uuid::now_v7();
        let person_told = told.map(|t| {
            serde_json::json!({"by": "mail", "sent": t.sent, "language": t.language.code(), "before_erasure": true})
        });
        let mut statement_fr = "Les données personnelles de la personne concernée ont été effacées : sa clé de chiffrement a été détruite, ses enregistrements supprimés, ses demandes vidées de leur contenu et les destinataires informés. Le registre des consentements ne garde qu'un marqueur pseudonyme ; seule une empreinte à clé de son adresse est conservée pour qu'elle ne soit pas réimportée.".to_string();
        let mut statement_en = "The data subject's personal data was erased: their encryption key destroyed, their records deleted, their requests emptied and recipients told. The consent ledger keeps only a pseudonymous marker; only a keyed hash of their address is kept so that it cannot be imported again.".to_string();
        match told {
            Some(t) if t.sent => {
                statement_fr.push_str(" La personne a été informée de l'effacement par un message envoyé à son adresse juste avant qu'elle ne soit effacée.");
                statement_en.push_str(" The person was told of the erasure by a message sent to their address just before it was erased.");
            }
            Some(_) => {
                statement_fr.push_str(" Le message qui devait informer la personne n'a pas pu être envoyé avant l'effacement de son adresse.");
                statement_en.push_str(" The message meant to tell the person could not be sent before their address was erased.");
            }
            None => {}
        }
        let body = serde_json::json!({
            "id": certificate_id,
            "erased_at": now,
            "complete": complete,
            "request_id": request_id,
            "ledger_event_id": event.as_ref().map(|e| e.event_id),
            "erased": erased,
            "kept": kept,
            "suppressed": complete && subject.is_some(),
            "recipients_told": recipients,
            "person_told": person_told,
            "statement": {"fr": statement_fr, "en": statement_en}
        });
        let certificate = ErasureCertificate {
            id: certificate_id,
            erased_at: now,
            body: body.clone(),
        };
        let audit = self.audit_record(
            by,
            "erasure_certificate.created",
            format!("erasure_certificate:{certificate_id}"),
            serde_json::json!({"complete": complete}),
        );
        self.store()
            .insert_certificate(&certificate, &audit)
            .await?;
        Ok(ErasureOutcome {
            event,
            complete,
            kept,
            certificate_id,
            certificate: body,
        })
    }

    /// A certificate of erasure.
    pub async fn erasure_certificate(
        &self,
        by: &Principal,
        id: Uuid,
    ) -> AppResult<serde_json::Value> {
        by.require(Permission::Read)?;
        let certificate = self
            .store()
            .certificate(id)
            .await?
            .ok_or_else(|| AppError::not_found("erasure certificate"))?;
        Ok(certificate.body)
    }
}

/// Deletes every `.eml` in the file outbox addressed to `email` (a `To`, `Cc` or `Bcc`
/// recipient equal to it once parsed, never a mere substring: `ba@x.example` is not
/// `a@x.example`), except `keep` (the erasure's own confirmation); returns how many.
async fn remove_mail_to(outbox: &Path, email: &Email, keep: Option<std::path::PathBuf>) -> usize {
    let outbox = outbox.to_path_buf();
    let email = email.clone();
    tokio::task::spawn_blocking(move || {
        let mut removed = 0;
        let Ok(entries) = std::fs::read_dir(&outbox) else {
            return 0;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().and_then(|e| e.to_str()) != Some("eml")
                || keep.as_deref() == Some(path.as_path())
            {
                continue;
            }
            let Ok(bytes) = std::fs::read(&path) else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            if recipients(&text).iter().any(|r| r == &email) && std::fs::remove_file(&path).is_ok()
            {
                removed += 1;
            }
        }
        removed
    })
    .await
    .unwrap_or(0)
}

/// The addresses of a message's `To`, `Cc` and `Bcc` headers, parsed (folded lines joined,
/// display names and comments set aside); those that are not addresses are skipped.
pub(crate) fn recipients(message: &str) -> Vec<Email> {
    let head = message
        .replace("\r\n", "\n")
        .split("\n\n")
        .next()
        .unwrap_or_default()
        .to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some(last) = headers.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    headers
        .iter()
        .filter(|(name, _)| matches!(name.as_str(), "to" | "cc" | "bcc"))
        .flat_map(|(_, value)| split_addresses(value))
        .filter_map(|mailbox| {
            let address = match (mailbox.rfind('<'), mailbox.rfind('>')) {
                (Some(open), Some(close)) if open < close => &mailbox[open + 1..close],
                _ => mailbox.as_str(),
            };
            Email::parse(address).ok()
        })
        .collect()
}

/// Splits an address list on the commas outside quoted display names and angle brackets.
fn split_addresses(value: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let (mut quoted, mut angled, mut escaped) = (false, false, false);
    for c in value.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '<' if !quoted => angled = true,
            '>' if !quoted => angled = false,
            ',' if !quoted && !angled => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    parts.push(current);
    parts
        .into_iter()
        .map(|p| p.trim().to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_the_parsed_addresses_not_substrings() {
        let message = "From: Exemple <noreply@exemple.fr>\r\nTo: ba@subst.example\r\nCc: \"Dupont, A\" <A@Subst.Example>,\r\n c@subst.example\r\nSubject: a@subst.example\r\n\r\nHello a@subst.example\r\n";
        let found: Vec<String> = recipients(message)
            .iter()
            .map(|e| e.as_str().to_string())
            .collect();
        assert_eq!(
            found,
            ["ba@subst.example", "a@subst.example", "c@subst.example"]
        );
        let only_ba =
            "To: ba@subst.example\r\nSubject: about a@subst.example\r\n\r\na@subst.example";
        let a = Email::parse("a@subst.example").unwrap();
        assert!(!recipients(only_ba).contains(&a));
    }
}
