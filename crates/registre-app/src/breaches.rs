//! The breach register: every breach recorded with its 72-hour clock, who must be told, a
//! pre-filled notification and the log of notifications made.
use crate::catalogue::{conflict_or, decode, encode};
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Utc};
use registre_domain::DomainError;
use registre_domain::breach::{
    AuthorityDeadline, Breach, BreachInput, NotificationContext, NotificationInput,
    NotificationRecipient, notification_text,
};
use registre_domain::localised::{Language, LocalisedText};
use registre_domain::role::Permission;
use registre_store::{Document, DocumentKind};
use serde::Serialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// A breach as the API shows it, with its deadline and who must be told.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct BreachView {
    #[serde(flatten)]
    pub breach: Breach,
    /// The processor's name, when the breach came from one.
    pub processor: Option<String>,
    /// `aware_at` + 72 hours (Art. 33(1)); always present.
    pub notify_authority_by: DateTime<Utc>,
    pub authority_notification_required: bool,
    pub subjects_notification_required: bool,
    pub authority_deadline: AuthorityDeadline,
    pub authority_notified_at: Option<DateTime<Utc>>,
    pub subjects_notified_at: Option<DateTime<Utc>>,
    /// The notification to the authority, pre-filled, in French and English.
    pub notification_text: LocalisedText,
}

fn parse_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw).map_err(|_| AppError::not_found("breach"))
}

impl App {
    async fn breach_record(&self, id: &str) -> AppResult<Breach> {
        let id = parse_id(id)?;
        match self
            .store()
            .document(DocumentKind::Breach, &id.to_string())
            .await?
        {
            Some(document) => decode(&document),
            None => Err(AppError::not_found("breach")),
        }
    }

    async fn category_labels(&self) -> AppResult<BTreeMap<String, LocalisedText>> {
        Ok(self
            .data_categories()
            .await?
            .into_iter()
            .map(|c| (c.key, c.label))
            .collect())
    }

    async fn breach_view(&self, breach: Breach) -> AppResult<BreachView> {
        let organisation = self.organisation().await?;
        let labels = self.category_labels().await?;
        let processor = match breach.processor_id {
            Some(id) => self
                .processor(&id.to_string())
                .await
                .ok()
                .map(|p| p.processor.name),
            None => None,
        };
        let context = NotificationContext {
            organisation: &organisation,
            category_labels: &labels,
            processor_name: processor.as_deref(),
        };
        let notification_text = LocalisedText::new(
            notification_text(&breach, &context, Language::Fr),
            notification_text(&breach, &context, Language::En),
        );
        Ok(BreachView {
            notify_authority_by: breach.notify_authority_by(),
            authority_notification_required: breach.authority_notification_required(),
            subjects_notification_required: breach.subjects_notification_required(),
            authority_deadline: breach.authority_deadline(self.now()),
            authority_notified_at: breach.first_notified(NotificationRecipient::Authority),
            subjects_notified_at: breach.first_notified(NotificationRecipient::Subjects),
            processor,
            notification_text,
            breach,
        })
    }

    /// Every breach, the most recent awareness first.
    pub async fn breaches(&self) -> AppResult<Vec<BreachView>> {
        let mut breaches: Vec<Breach> = self
            .store()
            .documents(DocumentKind::Breach)
            .await?
            .iter()
            .map(decode)
            .collect::<AppResult<_>>()?;
        breaches.sort_by(|a, b| b.aware_at.cmp(&a.aware_at).then(b.id.cmp(&a.id)));
        let mut views = Vec::with_capacity(breaches.len());
        for breach in breaches {
            views.push(self.breach_view(breach).await?);
        }
        Ok(views)
    }

    pub async fn breach(&self, id: &str) -> AppResult<BreachView> {
        let breach = self.breach_record(id).await?;
        self.breach_view(breach).await
    }

    async fn validated_breach(&self, input: BreachInput, id: Uuid) -> AppResult<Breach> {
        let processor_id = match input.processor.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(name) => match self.processor_by_name(name).await? {
                Some(processor) => Some(processor.id),
                None => {
                    return Err(DomainError::invalid(
                        "processor",
                        format!("no processor named {name:?} in the register; add it with POST /api/v1/processors"),
                    )
                    .into());
                }
            },
        };
        let breach = input.validate(id, processor_id, self.now())?;
        self.check_categories("data_categories", &breach.data_categories)
            .await?;
        Ok(breach)
    }

    fn breach_document(&self, breach: &Breach) -> AppResult<Document> {
        Ok(Document {
            kind: DocumentKind::Breach,
            key: breach.id.to_string(),
            body: encode(breach)?,
            created_at: breach.created_at,
            updated_at: breach.updated_at,
        })
    }

    /// Records a breach; every breach is recorded, notified or not (Art. 33(5)).
    pub async fn create_breach(&self, by: &Principal, input: BreachInput) -> AppResult<BreachView> {
        by.require(Permission::ManageRegisters)?;
        let breach = self.validated_breach(input, Uuid::now_v7()).await?;
        let audit = self.audit_record(
            by,
            "breach.recorded",
            format!("breach:{}", breach.id),
            serde_json::json!({"risk": breach.risk.as_str(), "notify_authority_by": breach.notify_authority_by()}),
        );
        self.store()
            .insert_document(&self.breach_document(&breach)?, &audit)
            .await
            .map_err(|e| conflict_or(e, "breach"))?;
        self.breach_view(breach).await
    }

    /// Replaces what is known of a breach as the investigation goes (Art. 33(4)); its
    /// notification log stays.
    pub async fn update_breach(
        &self,
        by: &Principal,
        id: &str,
        input: BreachInput,
    ) -> AppResult<BreachView> {
        by.require(Permission::ManageRegisters)?;
        let existing = self.breach_record(id).await?;
        let mut breach = self.validated_breach(input, existing.id).await?;
        breach.created_at = existing.created_at;
        breach.notifications = existing.notifications;
        let audit = self.audit_record(
            by,
            "breach.updated",
            format!("breach:{}", breach.id),
            serde_json::json!({"risk": breach.risk.as_str()}),
        );
        self.store()
            .update_document(&self.breach_document(&breach)?, &audit)
            .await
            .map_err(|e| conflict_or(e, "breach"))?;
        self.breach_view(breach).await
    }

    /// Logs a notification: to whom, when, how, what. Without a content, the pre-filled
    /// text in the organisation's language is what is recorded as said.
    pub async fn log_breach_notification(
        &self,
        by: &Principal,
        id: &str,
        input: NotificationInput,
    ) -> AppResult<BreachView> {
        by.require(Permission::ManageRegisters)?;
        let mut breach = self.breach_record(id).await?;
        let language = self.organisation().await?.default_language;
        let default_content = self
            .breach_view(breach.clone())
            .await?
            .notification_text
            .get(language)
            .to_string();
        let now = self.now();
        let notification = breach.notification(input, default_content, now)?;
        let audit = self.audit_record(
            by,
            "breach.notification_logged",
            format!("breach:{}", breach.id),
            serde_json::json!({"recipient": notification.recipient, "notified_at": notification.notified_at, "notification_id": notification.id}),
        );
        breach.notifications.push(notification);
        breach.notifications.sort_by_key(|n| n.notified_at);
        breach.updated_at = now;
        self.store()
            .update_document(&self.breach_document(&breach)?, &audit)
            .await
            .map_err(|e| conflict_or(e, "breach"))?;
        self.breach_view(breach).await
    }

    /// How many breaches are recorded (the demo loads its own only into an empty register).
    pub(crate) async fn breach_count(&self) -> AppResult<usize> {
        Ok(self.store().documents(DocumentKind::Breach).await?.len())
    }
}
