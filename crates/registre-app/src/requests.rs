//! The register of rights requests (Art. 12 to 22): received, verified, answered within the
//! deadline, every step told to the person, and each type carried out.
use crate::tokens::TokenKind;
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Duration, Utc};
use registre_crypto::SubjectKey;
use registre_domain::ledger::{ConsentAction, ConsentSource, ConsentState, NewConsentEvent};
use registre_domain::purpose::LegalBasis;
use registre_domain::request::{self, RequestStatus, RequestType};
use registre_domain::role::Permission;
use registre_domain::{DomainError, Email, Language};
use registre_store::{ChangeSet, Rectification, RequestRecord, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// Where a request's sealed content lives, bound into its ciphertext.
pub const REQUEST_CONTEXT: &str = "requests.sealed";

/// How long a download link stays valid.
pub const DOWNLOAD_VALIDITY_DAYS: i64 = 7;

/// Requests listed per page at most.
pub const MAX_PAGE: i64 = 500;

/// A request as an agent (or the portal) files it.
#[derive(Clone, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewRequest {
    /// access, rectification, erasure, restriction, portability, objection.
    #[serde(rename = "type")]
    pub request_type: String,
    pub email: String,
    /// What the person asks, in their words.
    #[serde(default, alias = "message")]
    pub details: Option<String>,
    /// The agent checked who the person is: the request starts `verified`.
    #[serde(default)]
    pub identity_verified: bool,
    /// How identity was checked (e.g. "replied from the address on file").
    #[serde(default)]
    pub identity_verification: Option<String>,
    /// `fr` or `en`: the language of the mail sent to the person (default: the organisation's).
    #[serde(default)]
    pub language: Option<String>,
    /// When the request reached the organisation, if earlier (a letter): the deadline runs
    /// from then.
    #[serde(default)]
    pub received_at: Option<DateTime<Utc>>,
    /// Objection: to direct marketing (default true), which takes effect as soon as a
    /// verified person asks; `false` for an objection to legitimate-interest purposes only,
    /// weighed by the DPO when fulfilling.
    #[serde(default)]
    pub marketing: Option<bool>,
}

impl std::fmt::Debug for NewRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRequest")
            .field("type", &self.request_type)
            .finish_non_exhaustive()
    }
}

/// What fulfilling needs beyond the request itself (all optional).
#[derive(Clone, Debug, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FulfilInput {
    /// Rectification: the corrected values.
    #[serde(default)]
    pub corrections: Option<Corrections>,
    /// Objection: legitimate-interest purposes objected to (default: every one).
    #[serde(default)]
    pub purposes: Option<Vec<String>>,
    /// Objection: to direct marketing, absolute (default true).
    #[serde(default)]
    pub marketing: Option<bool>,
}

#[derive(Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Corrections {
    /// The person's corrected email address.
    #[serde(default)]
    pub email: Option<String>,
    /// Corrected field values by field name (`first_name`, `name`...), applied to every
    /// submission that holds the field.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

impl std::fmt::Debug for Corrections {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Corrections")
            .field("fields", &self.fields.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

/// What a request says about the person, sealed at rest.
#[derive(Clone, Default, Deserialize, Serialize)]
pub(crate) struct RequestContent {
    pub email: String,
    #[serde(default)]
    pub details: Option<String>,
    #[serde(default)]
    pub verification: Option<String>,
    #[serde(default)]
    pub extension_reason: Option<String>,
    #[serde(default)]
    pub refusal_reason: Option<String>,
    /// What was done (purposes objected to, fields corrected, data kept...).
    #[serde(default)]
    pub outcome: Option<serde_json::Value>,
    /// What took effect as soon as the request was filed by a verified person (an objection
    /// to direct marketing, a restriction), before any step of the DPO.
    #[serde(default)]
    pub on_receipt: Option<serde_json::Value>,
    /// Objection: whether it is to direct marketing, as filed (`None`: yes).
    #[serde(default)]
    pub marketing: Option<bool>,
}

/// A request as the API and the portal show it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RequestView {
    pub id: Uuid,
    #[serde(rename = "type")]
    pub request_type: RequestType,
    pub status: RequestStatus,
    /// `api` or `portal`.
    pub channel: String,
    pub received_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    /// Open and due within 7 days.
    pub due_soon: bool,
    /// Open and past its deadline.
    pub overdue: bool,
    pub extended: bool,
    pub extended_at: Option<DateTime<Utc>>,
    pub extension_reason: Option<String>,
    pub identity_verified: bool,
    pub verified_at: Option<DateTime<Utc>>,
    pub identity_verification: Option<String>,
    /// `None` once the person was erased.
    pub email: Option<String>,
    pub details: Option<String>,
    pub language: Language,
    pub refusal_reason: Option<String>,
    /// When the request was completed or refused.
    pub closed_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// Access and portability, once completed: a signed link to the export, valid 7 days.
    pub export_url: Option<String>,
    pub export_expires_at: Option<DateTime<Utc>>,
    /// Erasure: the certificate of erasure (`GET /api/v1/erasure-certificates/{id}`).
    pub certificate_id: Option<Uuid>,
    pub restriction_lifted_at: Option<DateTime<Utc>>,
    /// What fulfilling did.
    pub outcome: Option<serde_json::Value>,
    /// What took effect when the request was filed by a verified person, or when their
    /// identity was verified: an objection to direct marketing (every marketing purpose
    /// `objected` at once, Art. 21(3)) or a restriction (`restricted`, Art. 18), with `at`.
    pub effect_on_receipt: Option<serde_json::Value>,
    /// The person was erased: what named them in this request is gone.
    pub personal_data_erased: bool,
}

/// A page of the register.
#[derive(Clone, Debug)]
pub struct RequestPage {
    pub items: Vec<RequestView>,
    pub next_cursor: Option<String>,
}

fn rule(message: impl Into<String>) -> AppError {
    DomainError::Rule(message.into()).into()
}

fn encode_cursor(due_at: DateTime<Utc>, id: Uuid) -> String {
    format!("{}_{}", due_at.timestamp_micros(), id.simple())
}

fn decode_cursor(raw: &str) -> AppResult<(DateTime<Utc>, Uuid)> {
    let bad = || DomainError::invalid("cursor", "not a cursor from a previous page");
    let (micros, id) = raw.split_once('_').ok_or_else(bad)?;
    let due = micros
        .parse::<i64>()
        .ok()
        .and_then(DateTime::from_timestamp_micros)
        .ok_or_else(bad)?;
    Ok((due, Uuid::parse_str(id).map_err(|_| bad())?))
}

impl App {
    /// The key that seals a request: the subject's when there is one, the system key otherwise.
    pub(crate) async fn request_key(
        &self,
        record: &RequestRecord,
    ) -> AppResult<Option<SubjectKey>> {
        match record.subject_id {
            None => Ok(Some(self.keyring().system_key())),
            Some(id) => match self.store().subject(id).await? {
                Some(subject) => Ok(Some(self.subject_key(&subject)?)),
                None => Ok(None),
            },
        }
    }

    pub(crate) async fn request_content(
        &self,
        record: &RequestRecord,
    ) -> AppResult<Option<RequestContent>> {
        let Some(sealed) = &record.sealed else {
            return Ok(None);
        };
        let Some(key) = self.request_key(record).await? else {
            return Ok(None);
        };
        let bytes = key.open(REQUEST_CONTEXT, sealed)?;
        Ok(Some(serde_json::from_slice(&bytes).map_err(|_| {
            AppError::Store(StoreError::Corrupt("request content".into()))
        })?))
    }

    async fn seal_content(
        &self,
        record: &RequestRecord,
        content: &RequestContent,
    ) -> AppResult<Option<Vec<u8>>> {
        let Some(key) = self.request_key(record).await? else {
            return Ok(None);
        };
        let json = serde_json::to_vec(content).map_err(AppError::internal)?;
        Ok(Some(key.seal(REQUEST_CONTEXT, &json)?))
    }

    pub(crate) async fn request_view(
        &self,
        record: &RequestRecord,
        content: Option<&RequestContent>,
    ) -> AppResult<RequestView> {
        let status = RequestStatus::parse(&record.status)
            .map_err(|_| AppError::Store(StoreError::Corrupt("request status".into())))?;
        let request_type = RequestType::parse(&record.request_type)
            .map_err(|_| AppError::Store(StoreError::Corrupt("request type".into())))?;
        let flags = request::deadline_flags(status, record.due_at, self.now());
        let (export_url, export_expires_at) = if status == RequestStatus::Completed
            && matches!(request_type, RequestType::Access | RequestType::Portability)
            && content.is_some()
        {
            let (url, expires) = self.download_link(record.id);
            (Some(url), Some(expires))
        } else {
            (None, None)
        };
        Ok(RequestView {
            id: record.id,
            request_type,
            status,
            channel: record.channel.clone(),
            received_at: record.received_at,
            due_at: record.due_at,
            due_soon: flags.due_soon,
            overdue: flags.overdue,
            extended: record.extended_at.is_some(),
            extended_at: record.extended_at,
            extension_reason: content.and_then(|c| c.extension_reason.clone()),
            identity_verified: record.identity_verified,
            verified_at: record.verified_at,
            identity_verification: content.and_then(|c| c.verification.clone()),
            email: content.map(|c| c.email.clone()),
            details: content.and_then(|c| c.details.clone()),
            language: Language::parse(&record.language).unwrap_or_default(),
            refusal_reason: content.and_then(|c| c.refusal_reason.clone()),
            closed_at: record.closed_at,
            completed_at: if status == RequestStatus::Completed {
                record.closed_at
            } else {
                None
            },
            export_url,
            export_expires_at,
            certificate_id: record.certificate_id,
            restriction_lifted_at: record.restriction_lifted_at,
            outcome: content.and_then(|c| c.outcome.clone()),
            effect_on_receipt: content.and_then(|c| c.on_receipt.clone()),
            personal_data_erased: record.sealed.is_none(),
        })
    }

    /// A signed link to the export of a completed access or portability request.
    pub fn download_link(&self, request_id: Uuid) -> (String, DateTime<Utc>) {
        let validity = Duration::days(DOWNLOAD_VALIDITY_DAYS);
        let token = self.sign_token(
            TokenKind::Download,
            serde_json::json!({"r": request_id}),
            validity,
        );
        (
            format!("{}/privacy/export/{token}", self.config().public_url),
            self.now() + validity,
        )
    }

    async fn load_request(&self, id: Uuid) -> AppResult<(RequestRecord, Option<RequestContent>)> {
        let record = self
            .store()
            .request(id)
            .await?
            .ok_or_else(|| AppError::not_found("request"))?;
        let content = self.request_content(&record).await?;
        Ok((record, content))
    }

    /// Files a request. `channel` is `api` for agents, `portal` for the person signed in.
    pub async fn create_request(
        &self,
        by: &Principal,
        input: NewRequest,
        channel: &str,
    ) -> AppResult<RequestView> {
        by.require(Permission::OperateSubjects)?;
        let request_type = RequestType::parse(&input.request_type)?;
        let email = Email::parse(&input.email)?;
        let details =
            request::validate_text("details", input.details.as_deref().unwrap_or(""), false)?;
        let verification = request::validate_text(
            "identity_verification",
            input.identity_verification.as_deref().unwrap_or(""),
            false,
        )?;
        let language = match input.language.as_deref() {
            Some(raw) => Language::parse(raw)
                .ok_or_else(|| DomainError::invalid("language", "expected fr or en"))?,
            None => self.organisation().await?.default_language,
        };
        let now = self.now();
        let received_at = match input.received_at {
            Some(at) if at > now + Duration::minutes(5) => {
                return Err(DomainError::invalid("received_at", "cannot be in the future").into());
            }
            Some(at) if at < now - Duration::days(366) => {
                return Err(DomainError::invalid("received_at", "more than a year ago").into());
            }
            Some(at) => registre_domain::clock::truncate_to_micros(at),
            None => now,
        };
        let verified = input.identity_verified;
        let verification = match (verified, verification) {
            (true, None) => Some(if channel == "portal" {
                "signed in to the privacy portal through a link sent to the address".to_string()
            } else {
                "checked by the agent who entered the request".to_string()
            }),
            (_, given) => given,
        };
        // Rights that take effect when asked: an objection to direct marketing or a
        // restriction from a verified person holds from now on, before any DPO step. It goes
        // first, so that a person the objection creates owns the request too.
        let marketing = match request_type {
            RequestType::Objection => input.marketing,
            _ => None,
        };
        let on_receipt = if verified {
            self.take_effect(by, request_type, &email, marketing)
                .await?
        } else {
            None
        };
        let subject = self.find_subject(&email).await?;
        let blind_index = self.blind_index(&email);
        let content = RequestContent {
            email: email.as_str().to_string(),
            details,
            verification,
            on_receipt,
            marketing,
            ..Default::default()
        };
        let json = serde_json::to_vec(&content).map_err(AppError::internal)?;
        let key = match &subject {
            Some(subject) => self.subject_key(subject)?,
            None => self.keyring().system_key(),
        };
        let record = RequestRecord {
            id: Uuid::now_v7(),
            request_type: request_type.as_str().to_string(),
            status: if verified {
                RequestStatus::Verified
            } else {
                RequestStatus::Received
            }
            .as_str()
            .to_string(),
            channel: channel.to_string(),
            subject_id: subject.as_ref().map(|s| s.id),
            blind_index: Some(blind_index),
            sealed: Some(key.seal(REQUEST_CONTEXT, &json)?),
            language: language.code().to_string(),
            identity_verified: verified,
            received_at,
            due_at: request::due_at(received_at, false),
            extended_at: None,
            verified_at: if verified { Some(now) } else { None },
            closed_at: None,
            due_soon_notified_at: None,
            restriction_lifted_at: None,
            certificate_id: None,
            updated_at: now,
        };
        let payload = serde_json::json!({
            "id": Uuid::now_v7(), "type": "request.created", "occurred_at": now,
            "data": {"request_id": record.id, "request_type": request_type.as_str(), "due_at": record.due_at, "channel": channel}
        });
        let outbox = self
            .webhook_message("request.created", record.subject_id, &payload)
            .await?;
        let audit = self.audit_record(
            by,
            "request.created",
            format!("request:{}", record.id),
            serde_json::json!({"type": request_type.as_str(), "channel": channel, "identity_verified": verified}),
        );
        self.store()
            .insert_request(&record, &outbox, &audit)
            .await?;
        self.mail_request_step(&record, &content, crate::request_mail::Step::Received)
            .await;
        self.request_view(&record, Some(&content)).await
    }

    pub async fn get_request(&self, by: &Principal, id: Uuid) -> AppResult<RequestView> {
        by.require(Permission::Read)?;
        let (record, content) = self.load_request(id).await?;
        self.request_view(&record, content.as_ref()).await
    }

    /// The register by due date, open and closed, optionally of one status.
    pub async fn list_requests(
        &self,
        by: &Principal,
        status: Option<&str>,
        cursor: Option<&str>,
        limit: Option<i64>,
    ) -> AppResult<RequestPage> {
        by.require(Permission::Read)?;
        let status = status.map(RequestStatus::parse).transpose()?;
        let after = cursor.map(decode_cursor).transpose()?;
        let limit = limit.unwrap_or(100).clamp(1, MAX_PAGE);
        // A list is when deadlines are looked at: reminders that are due go out now too.
        if let Err(error) = self.send_due_soon_reminders().await {
            tracing::warn!(%error, "due-soon reminders failed");
        }
        let records = self
            .store()
            .requests(status.map(RequestStatus::as_str), after, limit)
            .await?;
        let next_cursor = if records.len() as i64 == limit {
            records.last().map(|r| encode_cursor(r.due_at, r.id))
        } else {
            None
        };
        let mut items = Vec::with_capacity(records.len());
        for record in &records {
            let content = self.request_content(record).await?;
            items.push(self.request_view(record, content.as_ref()).await?);
        }
        Ok(RequestPage { items, next_cursor })
    }

    /// Every request of one person (the portal, the export).
    pub(crate) async fn requests_of_email(&self, email: &Email) -> AppResult<Vec<RequestView>> {
        let mut views = Vec::new();
        for record in self.store().requests_of(&self.blind_index(email)).await? {
            let content = self.request_content(&record).await?;
            views.push(self.request_view(&record, content.as_ref()).await?);
        }
        Ok(views)
    }

    async fn save_request(
        &self,
        by: &Principal,
        record: &RequestRecord,
        action: &str,
        details: serde_json::Value,
    ) -> AppResult<()> {
        let audit = self.audit_record(by, action, format!("request:{}", record.id), details);
        self.store()
            .update_request(record, &audit)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::not_found("request"),
                other => other.into(),
            })
    }

    async fn open_request(
        &self,
        id: Uuid,
    ) -> AppResult<(RequestRecord, RequestContent, RequestStatus, RequestType)> {
        let (record, content) = self.load_request(id).await?;
        let content = content.ok_or_else(|| {
            rule("the person who made this request was erased; nothing more can be done with it")
        })?;
        let status = RequestStatus::parse(&record.status)?;
        let request_type = RequestType::parse(&record.request_type)?;
        Ok((record, content, status, request_type))
    }

    /// Records how the person's identity was checked: received → verified.
    pub async fn verify_request(
        &self,
        by: &Principal,
        id: Uuid,
        method: Option<&str>,
    ) -> AppResult<RequestView> {
        by.require(Permission::OperateSubjects)?;
        let (mut record, mut content, status, request_type) = self.open_request(id).await?;
        let method = request::validate_text("method", method.unwrap_or(""), false)?
            .unwrap_or_else(|| "checked by the agent".to_string());
        record.status = status
            .transition(RequestStatus::Verified)?
            .as_str()
            .to_string();
        if content.on_receipt.is_none() {
            let email = Email::parse(&content.email)?;
            content.on_receipt = self
                .take_effect(by, request_type, &email, content.marketing)
                .await?;
        }
        record.identity_verified = true;
        record.verified_at = Some(self.now());
        record.updated_at = self.now();
        content.verification = Some(method);
        record.sealed = self.seal_content(&record, &content).await?;
        self.save_request(by, &record, "request.verified", serde_json::json!({}))
            .await?;
        self.request_view(&record, Some(&content)).await
    }

    /// Work has started: → in_progress.
    pub async fn start_request(&self, by: &Principal, id: Uuid) -> AppResult<RequestView> {
        by.require(Permission::OperateSubjects)?;
        let (mut record, content, status, _) = self.open_request(id).await?;
        record.status = status
            .transition(RequestStatus::InProgress)?
            .as_str()
            .to_string();
        record.updated_at = self.now();
        self.save_request(by, &record, "request.started", serde_json::json!({}))
            .await?;
        self.request_view(&record, Some(&content)).await
    }

    /// Extends the deadline to three months from receipt, once, and tells the person why.
    pub async fn extend_request(
        &self,
        by: &Principal,
        id: Uuid,
        reason: &str,
    ) -> AppResult<RequestView> {
        by.require(Permission::OperateSubjects)?;
        let reason = request::validate_text("reason", reason, true)?.unwrap_or_default();
        let (mut record, mut content, status, _) = self.open_request(id).await?;
        let now = self.now();
        record.due_at = request::check_extension(
            status,
            record.extended_at.is_some(),
            record.received_at,
            now,
        )?;
        record.extended_at = Some(now);
        // The new deadline may be far: the due-soon reminder is due again.
        record.due_soon_notified_at = None;
        record.updated_at = now;
        content.extension_reason = Some(reason);
        record.sealed = self.seal_content(&record, &content).await?;
        self.save_request(
            by,
            &record,
            "request.extended",
            serde_json::json!({"due_at": record.due_at}),
        )
        .await?;
        self.mail_request_step(&record, &content, crate::request_mail::Step::Extended)
            .await;
        self.request_view(&record, Some(&content)).await
    }

    /// Refuses a request with a reason, told to the person with their right to complain to
    /// the supervisory authority (Art. 12(4)).
    pub async fn refuse_request(
        &self,
        by: &Principal,
        id: Uuid,
        reason: &str,
    ) -> AppResult<RequestView> {
        by.require(Permission::OperateSubjects)?;
        let reason = request::validate_text("reason", reason, true)?.unwrap_or_default();
        let (mut record, mut content, status, request_type) = self.open_request(id).await?;
        let now = self.now();
        record.status = status
            .transition(RequestStatus::Refused)?
            .as_str()
            .to_string();
        match (request_type, &content.on_receipt) {
            (RequestType::Objection, Some(_)) => {
                return Err(rule(
                    "an objection to direct marketing cannot be refused (Art. 21(3)): it took effect when the person asked; fulfil it, with `purposes` naming only the legitimate-interest purposes it is upheld for",
                ));
            }
            (RequestType::Restriction, Some(effect)) if effect["restricted"] == true => {
                // Refused: the restriction that held meanwhile is lifted (Art. 18(3)), and the
                // refusal mail tells the person.
                let email = Email::parse(&content.email)?;
                let lifted = self.restrict(by, &email, false).await?;
                content.outcome =
                    Some(serde_json::json!({"restriction_lifted": lifted["restricted"] == false}));
            }
            _ => {}
        }
        record.closed_at = Some(now);
        record.updated_at = now;
        content.refusal_reason = Some(reason);
        record.sealed = self.seal_content(&record, &content).await?;
        self.save_request(by, &record, "request.refused", serde_json::json!({}))
            .await?;
        self.mail_request_step(&record, &content, crate::request_mail::Step::Refused)
            .await;
        self.request_view(&record, Some(&content)).await
    }

    /// Carries the request out and completes it.
    pub async fn fulfil_request(
        &self,
        by: &Principal,
        id: Uuid,
        input: FulfilInput,
    ) -> AppResult<RequestView> {
        by.require(Permission::OperateSubjects)?;
        let (mut record, mut content, status, request_type) = self.open_request(id).await?;
        status.transition(RequestStatus::Completed)?;
        let email = Email::parse(&content.email)?;
        let now = self.now();
        let outcome = match request_type {
            RequestType::Access | RequestType::Portability => {
                serde_json::json!({"export": "a signed link to the export is in export_url and was sent to the person"})
            }
            RequestType::Rectification => {
                self.rectify(by, &email, input.corrections.unwrap_or_default())
                    .await?
            }
            RequestType::Restriction => {
                let mut outcome = self.restrict(by, &email, true).await?;
                if let Some(early) = &content.on_receipt {
                    outcome["took_effect_at"] = early["at"].clone();
                }
                outcome
            }
            RequestType::Objection => {
                let mut outcome = self
                    .object(
                        by,
                        &email,
                        input.marketing.or(content.marketing).unwrap_or(true),
                        input.purposes,
                    )
                    .await?;
                if let Some(early) = &content.on_receipt {
                    // What the objection withdrew when asked, and what it withdraws now.
                    let mut withdrawn: Vec<serde_json::Value> =
                        early["withdrawn"].as_array().cloned().unwrap_or_default();
                    for key in outcome["withdrawn"].as_array().cloned().unwrap_or_default() {
                        if !withdrawn.contains(&key) {
                            withdrawn.push(key);
                        }
                    }
                    outcome["withdrawn"] = serde_json::Value::Array(withdrawn);
                    outcome["marketing"] = serde_json::Value::Bool(true);
                    outcome["took_effect_at"] = early["at"].clone();
                }
                outcome
            }
            RequestType::Erasure => {
                // The person is told before the erasure: afterwards, nothing is left to
                // address them with.
                record.status = RequestStatus::Completed.as_str().to_string();
                record.closed_at = Some(now);
                let told = self
                    .mail_request_step(&record, &content, crate::request_mail::Step::Completed)
                    .await;
                let erased = self
                    .erase_person_told(by, &email, Some(record.id), Some(&told))
                    .await?;
                let Some(mut record) = self.store().request(id).await? else {
                    return Err(AppError::not_found("request"));
                };
                record.status = RequestStatus::Completed.as_str().to_string();
                record.closed_at = Some(now);
                record.updated_at = now;
                record.certificate_id = Some(erased.certificate_id);
                if record.sealed.is_some() {
                    // Data kept for a legal obligation: the request stays readable with it.
                    content.outcome = Some(
                        serde_json::json!({"certificate_id": erased.certificate_id, "complete": erased.complete, "kept": erased.kept}),
                    );
                    record.sealed = self.seal_content(&record, &content).await?;
                }
                self.save_request(
                    by,
                    &record,
                    "request.completed",
                    serde_json::json!({"type": "erasure", "certificate_id": erased.certificate_id}),
                )
                .await?;
                let content = self.request_content(&record).await?;
                return self.request_view(&record, content.as_ref()).await;
            }
        };
        record.status = RequestStatus::Completed.as_str().to_string();
        record.closed_at = Some(now);
        record.updated_at = now;
        content.outcome = Some(outcome);
        // A rectified email moved the person: seal under whichever key now applies.
        if let Some(updated) = self.store().request(id).await? {
            record.blind_index = updated.blind_index;
            record.subject_id = updated.subject_id;
        }
        if request_type == RequestType::Objection && record.subject_id.is_none() {
            // The objection created the subject so that it holds for good.
            if let Some(subject) = self.find_subject(&email).await? {
                record.subject_id = Some(subject.id);
            }
        }
        record.sealed = self.seal_content(&record, &content).await?;
        self.save_request(
            by,
            &record,
            "request.completed",
            serde_json::json!({"type": request_type.as_str()}),
        )
        .await?;
        self.mail_request_step(&record, &content, crate::request_mail::Step::Completed)
            .await;
        self.request_view(&record, Some(&content)).await
    }

    /// Lifts the restriction a restriction request put in place.
    pub async fn lift_restriction(&self, by: &Principal, id: Uuid) -> AppResult<RequestView> {
        by.require(Permission::OperateSubjects)?;
        let (mut record, content, status, request_type) = self.open_request(id).await?;
        if request_type != RequestType::Restriction || status != RequestStatus::Completed {
            return Err(rule("only a completed restriction request can be lifted"));
        }
        if record.restriction_lifted_at.is_some() {
            return Err(rule("this restriction was already lifted"));
        }
        let email = Email::parse(&content.email)?;
        self.restrict(by, &email, false).await?;
        record.restriction_lifted_at = Some(self.now());
        record.updated_at = self.now();
        self.save_request(
            by,
            &record,
            "request.restriction_lifted",
            serde_json::json!({}),
        )
        .await?;
        self.request_view(&record, Some(&content)).await
    }

    /// Sends `request.due_soon` for open requests due within 7 days, once each.
    pub async fn send_due_soon_reminders(&self) -> AppResult<usize> {
        let now = self.now();
        let mut sent = 0;
        for record in self
            .store()
            .requests_to_remind(now + Duration::days(request::DUE_SOON_DAYS), 1000)
            .await?
        {
            let overdue = record.due_at <= now;
            let payload = serde_json::json!({
                "id": Uuid::now_v7(), "type": "request.due_soon", "occurred_at": now,
                "data": {"request_id": record.id, "request_type": record.request_type, "status": record.status,
                         "due_at": record.due_at, "overdue": overdue}
            });
            let message = self
                .webhook_message("request.due_soon", None, &payload)
                .await?;
            if self.store().mark_reminded(record.id, now, &message).await? {
                sent += 1;
            }
        }
        Ok(sent)
    }

    /// Runs the reminders every few minutes until the process stops.
    pub fn spawn_request_reminders(&self) {
        let app = self.clone();
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(std::time::Duration::from_secs(300));
            loop {
                interval.tick().await;
                if let Err(error) = app.send_due_soon_reminders().await {
                    tracing::warn!(%error, "due-soon reminders failed");
                }
            }
        });
    }

    // ---- fulfilment of each type ----

    /// What a request from a verified person does at once (PRODUCT.md, "Rights take effect
    /// when asked"): an objection to direct marketing (unless filed with `marketing: false`)
    /// is absolute (Art. 21(3)), so every purpose flagged `marketing` answers `objected` from
    /// now on; a restriction
    /// makes every purpose answer `restricted` (Art. 18). The objections to
    /// legitimate-interest purposes wait for the DPO, who may show compelling grounds
    /// (Art. 21(1)). Other types change nothing before they are fulfilled.
    async fn take_effect(
        &self,
        by: &Principal,
        request_type: RequestType,
        email: &Email,
        marketing: Option<bool>,
    ) -> AppResult<Option<serde_json::Value>> {
        let mut effect = match request_type {
            RequestType::Objection if marketing != Some(false) => {
                self.object(by, email, true, Some(Vec::new())).await?
            }
            RequestType::Restriction => self.restrict(by, email, true).await?,
            _ => return Ok(None),
        };
        effect["at"] = serde_json::json!(self.now());
        Ok(Some(effect))
    }

    /// Art. 18: processing stops (the check says `restricted`) until lifted; recipients told.
    async fn restrict(
        &self,
        by: &Principal,
        email: &Email,
        restrict: bool,
    ) -> AppResult<serde_json::Value> {
        let Some(subject) = self.find_subject(email).await? else {
            return Ok(
                serde_json::json!({"restricted": false, "note": "no data is held on this person"}),
            );
        };
        let action = if restrict {
            ConsentAction::Restrict
        } else {
            ConsentAction::LiftRestriction
        };
        if subject.restricted == restrict {
            return Ok(serde_json::json!({"restricted": restrict}));
        }
        let now = self.now();
        let event = system_event(subject.id, None, action, ConsentSource::System);
        let topic = "subject.restricted";
        let payload = serde_json::json!({
            "id": event.event_id, "type": topic, "occurred_at": now,
            "data": {"email": email.as_str(), "restricted": restrict, "event_id": event.event_id}
        });
        let change = ChangeSet {
            outbox: self
                .webhook_message(topic, Some(subject.id), &payload)
                .await?,
            events: vec![event],
            audit: Some(self.audit_record(
                by,
                if restrict {
                    "subject.restricted"
                } else {
                    "subject.restriction_lifted"
                },
                format!("subject:{}", subject.id),
                serde_json::json!({}),
            )),
            at: now,
            ..Default::default()
        };
        self.commit_one(change).await?;
        Ok(serde_json::json!({"restricted": restrict}))
    }

    /// Art. 21: to direct marketing, every marketing consent withdrawn and the person
    /// suppressed for good; to legitimate-interest purposes, an objection per purpose.
    async fn object(
        &self,
        by: &Principal,
        email: &Email,
        marketing: bool,
        purposes: Option<Vec<String>>,
    ) -> AppResult<serde_json::Value> {
        let all = self.purposes().await?;
        let legitimate: Vec<String> = match purposes {
            Some(keys) => {
                for (i, key) in keys.iter().enumerate() {
                    let purpose = all.iter().find(|p| p.key.as_str() == key).ok_or_else(|| {
                        DomainError::invalid(
                            format!("purposes/{i}"),
                            format!("unknown purpose {key:?}"),
                        )
                    })?;
                    if purpose.legal_basis != LegalBasis::LegitimateInterest && !purpose.marketing {
                        return Err(DomainError::invalid(
                            format!("purposes/{i}"),
                            format!("purpose {key} rests on {}: objection applies to legitimate interest and direct marketing (withdraw consent instead)", purpose.legal_basis.as_str()),
                        )
                        .into());
                    }
                }
                keys
            }
            None => all
                .iter()
                .filter(|p| p.legal_basis == LegalBasis::LegitimateInterest)
                .map(|p| p.key.to_string())
                .collect(),
        };
        if self.find_subject(email).await?.is_none()
            && self
                .store()
                .suppressed_since(&self.blind_index(email))
                .await?
                .is_some()
            && !registre_domain::ledger::opens_subject(
                ConsentAction::Object,
                ConsentSource::System,
                true,
            )
        {
            // Erased: nothing is processed any more, and an objection must not bring them back.
            return Ok(
                serde_json::json!({"marketing": marketing, "withdrawn": [], "objected_purposes": [],
                "note": "this person was erased: nothing is held or processed"}),
            );
        }
        let (subject, _) = self.subject_with_key(email).await?;
        let states = self.store().consent_states_of(subject.id).await?;
        let now = self.now();
        let mut events = Vec::new();
        let mut outbox = Vec::new();
        let mut withdrawn = Vec::new();
        if marketing {
            for purpose in all.iter().filter(|p| p.marketing) {
                let state = states
                    .iter()
                    .find(|s| s.purpose == purpose.key.as_str())
                    .map(|s| s.state);
                if matches!(state, Some(ConsentState::Granted | ConsentState::Pending)) {
                    let event = system_event(
                        subject.id,
                        Some(purpose.key.to_string()),
                        ConsentAction::Withdraw,
                        ConsentSource::System,
                    );
                    let payload = serde_json::json!({
                        "id": event.event_id, "type": "consent.withdrawn", "occurred_at": now,
                        "data": {"email": email.as_str(), "purpose": purpose.key.as_str(), "event_id": event.event_id, "source": "system", "reason": "objection"}
                    });
                    outbox.extend(
                        self.webhook_message("consent.withdrawn", Some(subject.id), &payload)
                            .await?,
                    );
                    withdrawn.push(purpose.key.to_string());
                    events.push(event);
                }
            }
            if !subject.objected_to_marketing {
                let event = system_event(
                    subject.id,
                    None,
                    ConsentAction::Object,
                    ConsentSource::System,
                );
                let marketing_purposes: Vec<&str> = all
                    .iter()
                    .filter(|p| p.marketing)
                    .map(|p| p.key.as_str())
                    .collect();
                let payload = serde_json::json!({
                    "id": event.event_id, "type": "subject.objected", "occurred_at": now,
                    "data": {"email": email.as_str(), "marketing": true, "purposes": marketing_purposes, "event_id": event.event_id}
                });
                outbox.extend(
                    self.webhook_message("subject.objected", Some(subject.id), &payload)
                        .await?,
                );
                events.push(event);
            }
        }
        let mut objected = Vec::new();
        for key in &legitimate {
            let state = states.iter().find(|s| &s.purpose == key).map(|s| s.state);
            if state != Some(ConsentState::Objected) {
                let event = system_event(
                    subject.id,
                    Some(key.clone()),
                    ConsentAction::Object,
                    ConsentSource::System,
                );
                events.push(event);
            }
            objected.push(key.clone());
        }
        if !events.is_empty() {
            let change = ChangeSet {
                events,
                outbox,
                audit: Some(self.audit_record(
                    by,
                    "subject.objected",
                    format!("subject:{}", subject.id),
                    serde_json::json!({"marketing": marketing, "purposes": objected}),
                )),
                at: now,
                ..Default::default()
            };
            self.commit_one(change).await?;
        }
        Ok(
            serde_json::json!({"marketing": marketing, "withdrawn": withdrawn, "objected_purposes": objected}),
        )
    }

    /// Art. 16: corrected values re-sealed under the person's key; recipients told (Art. 19).
    async fn rectify(
        &self,
        by: &Principal,
        email: &Email,
        corrections: Corrections,
    ) -> AppResult<serde_json::Value> {
        let Some(subject) = self.find_subject(email).await? else {
            return Err(rule(
                "no data is held on this person: there is nothing to rectify",
            ));
        };
        let key = self.subject_key(&subject)?;
        let mut corrected: Vec<String> = Vec::new();
        let new_email = match corrections.email.as_deref() {
            Some(raw) => {
                let new = Email::parse(raw).map_err(|_| {
                    DomainError::invalid("corrections.email", "not a valid email address")
                })?;
                if &new == email {
                    None
                } else {
                    if self.find_subject(&new).await?.is_some() {
                        return Err(AppError::Conflict(
                            "another person is known by the corrected email".into(),
                        ));
                    }
                    corrected.push("email".into());
                    Some(new)
                }
            }
            None => None,
        };
        for (name, value) in &corrections.fields {
            registre_domain::Key::parse(&format!("corrections.fields.{name}"), name)?;
            request::validate_text(&format!("corrections.fields.{name}"), value, false)?;
        }
        let mut submissions = Vec::new();
        for submission in self.store().submissions_of(subject.id).await? {
            let bytes = key.open(
                crate::subjects::SUBMISSION_CONTEXT,
                &submission.fields_sealed,
            )?;
            let mut fields: serde_json::Map<String, serde_json::Value> =
                serde_json::from_slice(&bytes).map_err(|_| {
                    AppError::Store(StoreError::Corrupt("submission fields".into()))
                })?;
            let mut changed = false;
            for (name, value) in &corrections.fields {
                if fields.contains_key(name) {
                    fields.insert(
                        name.clone(),
                        serde_json::Value::String(value.trim().to_string()),
                    );
                    changed = true;
                    if !corrected.contains(name) {
                        corrected.push(name.clone());
                    }
                }
            }
            if let Some(new) = &new_email
                && fields.contains_key("email")
            {
                fields.insert(
                    "email".into(),
                    serde_json::Value::String(new.as_str().to_string()),
                );
                changed = true;
            }
            if changed {
                let json = serde_json::to_vec(&fields).map_err(AppError::internal)?;
                submissions.push((
                    submission.id,
                    key.seal(crate::subjects::SUBMISSION_CONTEXT, &json)?,
                ));
            }
        }
        let unknown: Vec<&String> = corrections
            .fields
            .keys()
            .filter(|k| !corrected.contains(k))
            .collect();
        if !unknown.is_empty() {
            return Err(DomainError::invalid(
                "corrections.fields",
                format!("no data held on this person has the field(s) {unknown:?}"),
            )
            .into());
        }
        let now = self.now();
        let current = new_email.as_ref().unwrap_or(email);
        let payload = serde_json::json!({
            "id": Uuid::now_v7(), "type": "subject.rectified", "occurred_at": now,
            "data": {"email": current.as_str(), "previous_email": new_email.as_ref().map(|_| email.as_str()), "fields": corrected,
                     "corrections": corrections.fields}
        });
        let rectification = Rectification {
            subject_id: subject.id,
            new_email: match &new_email {
                Some(new) => Some((
                    self.blind_index(new),
                    key.seal_str(crate::subjects::EMAIL_CONTEXT, new.as_str())?,
                )),
                None => None,
            },
            submissions,
            outbox: self
                .webhook_message("subject.rectified", Some(subject.id), &payload)
                .await?,
        };
        let audit = self.audit_record(
            by,
            "subject.rectified",
            format!("subject:{}", subject.id),
            serde_json::json!({"fields": corrected}),
        );
        self.store()
            .rectify(&rectification, &audit)
            .await
            .map_err(|e| match e {
                StoreError::Conflict { .. } => {
                    AppError::Conflict("another person is known by the corrected email".into())
                }
                other => other.into(),
            })?;
        Ok(serde_json::json!({"corrected": corrected}))
    }
}

pub(crate) fn system_event(
    subject_id: Uuid,
    purpose: Option<String>,
    action: ConsentAction,
    source: ConsentSource,
) -> NewConsentEvent {
    NewConsentEvent {
        event_id: Uuid::now_v7(),
        subject_id,
        purpose,
        action,
        source,
        touchpoint: None,
        notice_version: None,
        provenance: None,
        occurred_at: None,
    }
}
