//! The mails a person was sent about their request, as the request page shows them: one
//! per step that tells the person (received, extended, completed, refused), in the
//! person's language, rebuilt from the request itself so nothing more is stored about them.
use crate::request_mail::{Context, Step, request_type, text};
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Utc};
use registre_domain::Language;
use registre_domain::role::Permission;
use uuid::Uuid;

/// A mail sent to the person about their request.
#[derive(Clone)]
pub struct SentRequestMail {
    pub at: DateTime<Utc>,
    /// `received`, `extended`, `completed` or `refused`.
    pub step: &'static str,
    pub subject: String,
    pub body: String,
}

impl std::fmt::Debug for SentRequestMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SentRequestMail")
            .field("at", &self.at)
            .field("step", &self.step)
            .finish_non_exhaustive()
    }
}

impl App {
    /// The mails the person was sent about request `id`, oldest first; none once the
    /// person was erased (what named them is gone).
    pub async fn request_mails(&self, by: &Principal, id: Uuid) -> AppResult<Vec<SentRequestMail>> {
        by.require(Permission::Read)?;
        let record = self
            .store()
            .request(id)
            .await?
            .ok_or_else(|| AppError::not_found("request"))?;
        let Some(content) = self.request_content(&record).await? else {
            return Ok(Vec::new());
        };
        let kind = request_type(&record)?;
        let organisation = self.organisation().await?;
        let portal_url = format!("{}/privacy", self.config().public_url);
        let cx = Context {
            zone: organisation.zone(),
            organisation: &organisation.name,
            authority_name: &organisation.authority.name,
            authority_url: &organisation.authority.url,
            // The export link is shown on the request page itself, not again here.
            download_url: None,
            portal_url: &portal_url,
        };
        let language = Language::parse(&record.language).unwrap_or_default();
        let mut steps = vec![(record.received_at, Step::Received, "received")];
        if let Some(at) = record.extended_at {
            steps.push((at, Step::Extended, "extended"));
        }
        if let Some(at) = record.closed_at {
            match record.status.as_str() {
                "completed" => steps.push((at, Step::Completed, "completed")),
                "refused" => steps.push((at, Step::Refused, "refused")),
                _ => {}
            }
        }
        Ok(steps
            .into_iter()
            .map(|(at, step, name)| {
                let mail = text(step, kind, &record, &content, language, &cx);
                SentRequestMail {
                    at,
                    step: name,
                    subject: mail.subject,
                    body: mail.body,
                }
            })
            .collect())
    }
}
