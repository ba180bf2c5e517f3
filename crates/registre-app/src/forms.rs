//! The public touchpoint forms: the proof a form carries that it was served by us, a
//! submission with its consents, double opt-in confirmation, one-click withdrawal, and the
//! expiry of grants nobody confirmed. What a person sees and reads is the web crate's part.
use crate::mail::Mail;
use crate::retry::is_conflict;
use crate::subjects::SUBMISSION_CONTEXT;
use crate::tokens::{TokenKind, TokenProblem, VerifiedToken};
use crate::{App, AppError, AppResult, NoticeView};
use chrono::Duration;
use registre_domain::ledger::{ConsentAction, ConsentSource, ConsentState, NewConsentEvent};
use registre_domain::submission::{FieldProblem, ForgedConsent, check_values, ticked_purposes};
use registre_domain::{Email, Language};
use registre_store::{
    ChangeSet, OutboxRecord, SPENT_NONCE_CONSTRAINT, SpentNonce, SubmissionRecord,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use uuid::Uuid;

/// How long a served form can be sent back.
pub fn form_token_validity() -> Duration {
    Duration::hours(12)
}

/// How long a double opt-in link stays valid; grants still unconfirmed after it expire.
pub fn confirmation_validity() -> Duration {
    Duration::days(7)
}

/// How long the withdrawal link of an email works.
pub fn unsubscribe_validity() -> Duration {
    Duration::days(400)
}

/// How long a confirmation page (and its download link) can be reopened.
pub fn receipt_validity() -> Duration {
    Duration::hours(24)
}

/// Most notice versions kept in memory; each is immutable, so the cache is never stale.
const NOTICE_CACHE_LIMIT: usize = 1024;

/// A form as the browser sent it: outside input, unchecked.
pub struct FormPost {
    pub touchpoint: String,
    /// The notice version the form says it was served with (bound into its token).
    pub notice_version: String,
    pub token: String,
    /// The random value of the browser's form cookie, which the token is bound to.
    pub browser_secret: String,
    pub values: BTreeMap<String, String>,
    /// Purpose keys of the ticked `consent.<key>` boxes.
    pub consents: Vec<String>,
    pub language: Language,
}

impl std::fmt::Debug for FormPost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormPost")
            .field("touchpoint", &self.touchpoint)
            .field("consents", &self.consents)
            .finish_non_exhaustive()
    }
}

/// Why a submission was not recorded. Nothing is written in any of these cases.
#[derive(Debug)]
pub enum FormRefusal {
    /// Values the person can correct, by field.
    Invalid(Vec<(String, FieldProblem)>),
    /// A consent box the form never showed.
    Forged(ForgedConsent),
    /// The notice version is unknown or belongs to another touchpoint.
    StaleForm,
    /// The form's token is missing, forged, expired, not this browser's, or already used.
    Token(TokenProblem),
    /// Every purpose of the form is a consent and no box was ticked: sending it would
    /// record an address for no purpose at all.
    NothingChosen,
    Failed(AppError),
}

impl From<AppError> for FormRefusal {
    fn from(error: AppError) -> Self {
        Self::Failed(error)
    }
}

/// What one attempt at committing a form recorded.
struct Committed {
    events: Vec<Uuid>,
    confirmation_queued: bool,
}

/// What a submission recorded.
#[derive(Debug)]
pub struct Submitted {
    pub touchpoint: String,
    pub notice_version: String,
    /// Consents in force now.
    pub granted: Vec<String>,
    /// Consents waiting for the person to confirm by email (double opt-in).
    pub pending: Vec<String>,
    /// Whether the double opt-in mail was committed with the submission, for the mail
    /// worker to send (false when `pending` is empty, or the mail could not be written).
    pub confirmation_queued: bool,
    /// The consent events recorded, one per ticked box: each has its receipt.
    pub events: Vec<Uuid>,
}

/// The links of a double opt-in email, and whom it goes to: what its writer needs.
pub struct ConfirmationMail {
    pub to: Email,
    pub confirm_token: String,
    pub unsubscribe_token: String,
    pub purposes: Vec<String>,
    pub language: Language,
    /// The consent events waiting for the confirmation, whose receipts the mail links.
    pub events: Vec<Uuid>,
}

impl std::fmt::Debug for ConfirmationMail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmationMail")
            .field("purposes", &self.purposes)
            .finish_non_exhaustive()
    }
}

/// What the confirmation page of a submission shows; carried in a signed link, so it holds
/// no personal data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormReceipt {
    #[serde(rename = "t")]
    pub touchpoint: String,
    #[serde(rename = "g")]
    pub granted: Vec<String>,
    #[serde(rename = "q")]
    pub pending: Vec<String>,
    /// Whether the double opt-in email is on its way (committed to the outbox).
    #[serde(rename = "m")]
    pub confirmation_sent: bool,
    #[serde(rename = "l")]
    pub language: Language,
    /// The consent events of the submission, for their receipt links.
    #[serde(rename = "e", default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Uuid>,
}

/// A double opt-in or withdrawal link, opened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct SubjectLink {
    #[serde(rename = "s")]
    subject_id: Uuid,
    #[serde(rename = "p")]
    purposes: Vec<String>,
    #[serde(rename = "l")]
    language: Language,
    #[serde(rename = "t", default, skip_serializing_if = "Option::is_none")]
    touchpoint: Option<String>,
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    notice_version: Option<String>,
}

/// What a link lets a person do, for the page that asks them to press the button.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkView {
    pub purposes: Vec<String>,
    pub language: Language,
    pub touchpoint: Option<String>,
}

/// The result of pressing the button of a link.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkDone {
    /// Purposes whose state changed.
    pub changed: Vec<String>,
    pub view: LinkView,
    /// The consent events the link recorded.
    pub events: Vec<Uuid>,
}

fn browser_binding(browser_secret: &str) -> String {
    registre_crypto::sha256_hex(format!("registre-form-cookie:{browser_secret}").as_bytes())
}

fn nonce_of(kind: TokenKind, verified: &VerifiedToken) -> SpentNonce {
    SpentNonce {
        nonce: format!("{}:{}", kind.as_str(), verified.nonce),
        expires_at: verified.expires_at,
    }
}

/// Writes the double opt-in mail of a submission in the person's language (the web crate's
/// templates), from the notice the form was served with; `None` (logged by the writer) when
/// it cannot be written: the submission is recorded without it, and the page says so.
pub type ConfirmationWriter<'a> =
    &'a (dyn Fn(&NoticeView, &ConfirmationMail) -> Option<Mail> + Sync);

/// A form that passed every check, ready to be committed.
struct CheckedForm<'a> {
    post: &'a FormPost,
    notice: &'a NoticeView,
    write_confirmation: ConfirmationWriter<'a>,
    email: &'a Email,
    fields_json: &'a str,
    purposes: &'a [String],
    double_opt_in: bool,
    spent: &'a SpentNonce,
}

impl App {
    /// The token a form carries: bound to the touchpoint, the notice version served and the
    /// browser's cookie, so that it cannot be replayed elsewhere or forged by another site.
    pub fn form_token(
        &self,
        touchpoint: &str,
        notice_version: &str,
        browser_secret: &str,
    ) -> String {
        let payload = serde_json::json!({"t": touchpoint, "v": notice_version, "b": browser_binding(browser_secret)});
        self.sign_token(TokenKind::FormCsrf, payload, form_token_validity())
    }

    fn check_form_token(&self, post: &FormPost) -> Result<VerifiedToken, TokenProblem> {
        let verified = self.verify_token(TokenKind::FormCsrf, &post.token)?;
        let payload = &verified.payload;
        let binding = payload["b"].as_str().unwrap_or("");
        let bound = payload["t"].as_str() == Some(post.touchpoint.as_str())
            && payload["v"].as_str() == Some(post.notice_version.as_str())
            && !post.browser_secret.is_empty()
            && registre_crypto::constant_time_eq(
                binding.as_bytes(),
                browser_binding(&post.browser_secret).as_bytes(),
            );
        if bound {
            Ok(verified)
        } else {
            Err(TokenProblem::Invalid)
        }
    }

    /// The notice version a form was served with, if it is one of this touchpoint's.
    pub async fn served_notice(
        &self,
        touchpoint: &str,
        version: &str,
    ) -> AppResult<Option<NoticeView>> {
        if let Ok(cache) = self.inner.notice_cache.read()
            && let Some(notice) = cache.get(version)
        {
            return Ok(Some(notice.clone()).filter(|n| n.content.touchpoint.key == touchpoint));
        }
        let notice = match self.notice(version).await {
            Ok(notice) => notice,
            Err(AppError::NotFound(_)) => return Ok(None),
            Err(other) => return Err(other),
        };
        if let Ok(mut cache) = self.inner.notice_cache.write() {
            if cache.len() >= NOTICE_CACHE_LIMIT {
                cache.clear();
            }
            cache.insert(version.to_string(), notice.clone());
        }
        Ok(Some(notice).filter(|n| n.content.touchpoint.key == touchpoint))
    }

    /// Records a form: the values sealed under the person's key, a consent for each ticked
    /// box (pending when the touchpoint asks for double opt-in) with the notice version
    /// served, the webhooks, the double opt-in mail, and the form's token spent — all in
    /// one transaction.
    pub async fn submit_form(
        &self,
        post: FormPost,
        write_confirmation: ConfirmationWriter<'_>,
    ) -> Result<Submitted, FormRefusal> {
        let token = self.check_form_token(&post).map_err(FormRefusal::Token)?;
        let notice = self
            .served_notice(&post.touchpoint, &post.notice_version)
            .await?
            .ok_or(FormRefusal::StaleForm)?;
        let purposes = ticked_purposes(&notice.content.purposes, &post.consents)
            .map_err(FormRefusal::Forged)?;
        let checked = check_values(&notice.content.touchpoint.fields, &post.values)
            .map_err(FormRefusal::Invalid)?;
        if purposes.is_empty() && notice.content.purposes.iter().all(|p| p.asks_consent()) {
            return Err(FormRefusal::NothingChosen);
        }
        let double_opt_in = notice.content.touchpoint.double_opt_in && !purposes.is_empty();
        let fields_json = serde_json::to_string(&checked.values).map_err(AppError::internal)?;
        let spent = nonce_of(TokenKind::FormCsrf, &token);
        let form = CheckedForm {
            post: &post,
            notice: &notice,
            write_confirmation,
            email: &checked.email,
            fields_json: &fields_json,
            purposes: &purposes,
            double_opt_in,
            spent: &spent,
        };
        let committed = match crate::retry::retry_on_new_subject_conflict(|retried| {
            self.record_submission(&form, retried)
        })
        .await
        {
            Ok(committed) => committed,
            Err(error) if is_conflict(&error, SPENT_NONCE_CONSTRAINT) => {
                return Err(FormRefusal::Token(TokenProblem::AlreadyUsed));
            }
            Err(error) => return Err(error.into()),
        };
        let (granted, pending) = if double_opt_in {
            (vec![], purposes)
        } else {
            (purposes, vec![])
        };
        Ok(Submitted {
            touchpoint: post.touchpoint,
            notice_version: post.notice_version,
            granted,
            pending,
            confirmation_queued: committed.confirmation_queued,
            events: committed.events,
        })
    }

    /// The double opt-in mail of a submission about to be committed, written by
    /// `write_confirmation`: its links (to confirm, to withdraw) and the receipts of its events.
    fn confirmation_mail(
        &self,
        form: &CheckedForm<'_>,
        subject_id: Uuid,
        events: &[Uuid],
    ) -> Option<Mail> {
        let post = form.post;
        let link = |touchpoint: Option<String>, notice_version: Option<String>| SubjectLink {
            subject_id,
            purposes: form.purposes.to_vec(),
            language: post.language,
            touchpoint,
            notice_version,
        };
        let confirmation = ConfirmationMail {
            to: form.email.clone(),
            confirm_token: self.sign_link(
                TokenKind::ConfirmConsent,
                &link(
                    Some(post.touchpoint.clone()),
                    Some(post.notice_version.clone()),
                ),
                confirmation_validity(),
            ),
            unsubscribe_token: self.sign_link(
                TokenKind::Unsubscribe,
                &link(None, None),
                unsubscribe_validity(),
            ),
            purposes: form.purposes.to_vec(),
            language: post.language,
            events: events.to_vec(),
        };
        (form.write_confirmation)(form.notice, &confirmation)
    }

    /// One attempt at committing a checked form; `retried` once the person turned out to
    /// have been created meanwhile. Answers the subject and the consent events recorded.
    async fn record_submission(
        &self,
        form: &CheckedForm<'_>,
        retried: bool,
    ) -> AppResult<Committed> {
        let now = self.now();
        let email = form.email;
        let (subject, key, new_subject) = match (retried, self.find_subject(email).await?) {
            (false, Some(existing)) => {
                let key = self.subject_key(&existing)?;
                (existing, key, None)
            }
            // Created with the submission (see `retry_on_new_subject_conflict`).
            (false, None) => {
                let (record, key) = self.new_subject(email)?;
                (record.clone(), key, Some(record))
            }
            (true, _) => {
                let (existing, key) = self.subject_with_key(email).await?;
                (existing, key, None)
            }
        };
        let action = if form.double_opt_in {
            ConsentAction::GrantPending
        } else {
            ConsentAction::Grant
        };
        let post = form.post;
        let mut events = Vec::with_capacity(form.purposes.len());
        let mut outbox = Vec::new();
        for purpose in form.purposes {
            let event = NewConsentEvent {
                event_id: Uuid::now_v7(),
                subject_id: subject.id,
                purpose: Some(purpose.clone()),
                action,
                source: ConsentSource::Form,
                touchpoint: Some(post.touchpoint.clone()),
                notice_version: Some(post.notice_version.clone()),
                provenance: None,
                occurred_at: None,
            };
            if action == ConsentAction::Grant {
                outbox.extend(
                    self.consent_webhook("consent.granted", &event, email, now)
                        .await?,
                );
            }
            events.push(event);
        }
        let event_ids: Vec<Uuid> = events.iter().map(|e| e.event_id).collect();
        // The mail is committed with the pending consents it asks to confirm, so that a
        // crash after the commit cannot lose it (`mail_outbox`).
        let mut confirmation_queued = false;
        if form.double_opt_in
            && let Some(mail) = self.confirmation_mail(form, subject.id, &event_ids)
        {
            outbox.push(self.queued_mail(
                subject.id,
                &key,
                crate::mail_outbox::CONFIRMATION_TOPIC,
                &mail,
            )?);
            confirmation_queued = true;
        }
        let change = ChangeSet {
            spent_nonces: vec![form.spent.clone()],
            new_subjects: new_subject.into_iter().collect(),
            submissions: vec![SubmissionRecord {
                id: Uuid::now_v7(),
                subject_id: subject.id,
                touchpoint: post.touchpoint.clone(),
                notice_version: post.notice_version.clone(),
                fields_sealed: key.seal_str(SUBMISSION_CONTEXT, form.fields_json)?,
                received_at: now,
            }],
            events,
            outbox,
            at: now,
            ..Default::default()
        };
        self.commit_one(change).await?;
        Ok(Committed {
            events: event_ids,
            confirmation_queued,
        })
    }

    async fn consent_webhook(
        &self,
        topic: &str,
        event: &NewConsentEvent,
        email: &Email,
        now: chrono::DateTime<chrono::Utc>,
    ) -> AppResult<Vec<OutboxRecord>> {
        // The same payload as a consent recorded through the API.
        let payload = serde_json::json!({
            "id": event.event_id, "type": topic, "occurred_at": now,
            "data": {"email": email.as_str(), "purpose": event.purpose, "event_id": event.event_id, "source": event.source.as_str()}
        });
        self.webhook_message(topic, Some(event.subject_id), &payload)
            .await
    }

    fn sign_link(&self, kind: TokenKind, link: &SubjectLink, valid_for: Duration) -> String {
        self.sign_token(
            kind,
            serde_json::to_value(link).unwrap_or_default(),
            valid_for,
        )
    }

    fn open_link(
        &self,
        kind: TokenKind,
        token: &str,
    ) -> Result<(SubjectLink, VerifiedToken), TokenProblem> {
        let verified = self.verify_token(kind, token)?;
        let link: SubjectLink =
            serde_json::from_value(verified.payload.clone()).map_err(|_| TokenProblem::Invalid)?;
        Ok((link, verified))
    }

    /// The signed link to a submission's confirmation page.
    pub fn sign_receipt(&self, receipt: &FormReceipt) -> String {
        self.sign_token(
            TokenKind::FormReceipt,
            serde_json::to_value(receipt).unwrap_or_default(),
            receipt_validity(),
        )
    }

    pub fn open_receipt(&self, token: &str) -> Result<FormReceipt, TokenProblem> {
        let verified = self.verify_token(TokenKind::FormReceipt, token)?;
        serde_json::from_value(verified.payload).map_err(|_| TokenProblem::Invalid)
    }

    /// A link to download `document` (a key the web crate knows), valid for a day.
    pub fn sign_download(&self, document: &str, language: Language) -> String {
        self.sign_token(
            TokenKind::Download,
            serde_json::json!({"d": document, "l": language}),
            receipt_validity(),
        )
    }

    /// The document and language a download link is for.
    pub fn open_download(&self, token: &str) -> Result<(String, Language), TokenProblem> {
        let verified = self.verify_token(TokenKind::Download, token)?;
        let document = verified.payload["d"]
            .as_str()
            .ok_or(TokenProblem::Invalid)?
            .to_string();
        let language = serde_json::from_value(verified.payload["l"].clone())
            .map_err(|_| TokenProblem::Invalid)?;
        Ok((document, language))
    }

    /// What a double opt-in link would confirm, without confirming it (mail scanners open
    /// links; only the button confirms).
    pub fn confirmation_link(&self, token: &str) -> Result<LinkView, TokenProblem> {
        let (link, _) = self.open_link(TokenKind::ConfirmConsent, token)?;
        Ok(LinkView {
            purposes: link.purposes,
            language: link.language,
            touchpoint: link.touchpoint,
        })
    }

    /// Confirms the pending consents of a double opt-in link, once: each becomes a grant
    /// (source `email_link`) with the notice version of the form, and fires its webhook.
    pub async fn confirm_consents(&self, token: &str) -> AppResult<Result<LinkDone, TokenProblem>> {
        let (link, verified) = match self.open_link(TokenKind::ConfirmConsent, token) {
            Ok(opened) => opened,
            Err(problem) => return Ok(Err(problem)),
        };
        let view = LinkView {
            purposes: link.purposes.clone(),
            language: link.language,
            touchpoint: link.touchpoint.clone(),
        };
        let Some(subject) = self.store().subject(link.subject_id).await? else {
            // Erased since: there is nobody to confirm for.
            return Ok(Err(TokenProblem::Invalid));
        };
        let key = self.subject_key(&subject)?;
        let email = Email::parse(&self.subject_email(&subject, &key)?)?;
        let now = self.now();
        let mut events = Vec::new();
        let mut outbox = Vec::new();
        for purpose_key in &link.purposes {
            let Ok(purpose) = self.purpose(purpose_key).await else {
                continue;
            };
            let state = self
                .store()
                .consent_state(subject.id, purpose_key)
                .await?
                .map(|s| s.state);
            let objected = state == Some(ConsentState::Objected)
                || (purpose.marketing && subject.objected_to_marketing);
            if state == Some(ConsentState::Granted) || objected {
                continue;
            }
            let event = NewConsentEvent {
                event_id: Uuid::now_v7(),
                subject_id: subject.id,
                purpose: Some(purpose_key.clone()),
                action: ConsentAction::Grant,
                source: ConsentSource::EmailLink,
                touchpoint: link.touchpoint.clone(),
                notice_version: link.notice_version.clone(),
                provenance: None,
                occurred_at: None,
            };
            outbox.extend(
                self.consent_webhook("consent.granted", &event, &email, now)
                    .await?,
            );
            events.push(event);
        }
        let changed = events.iter().filter_map(|e| e.purpose.clone()).collect();
        let event_ids = events.iter().map(|e| e.event_id).collect();
        let change = ChangeSet {
            spent_nonces: vec![nonce_of(TokenKind::ConfirmConsent, &verified)],
            events,
            outbox,
            at: now,
            ..Default::default()
        };
        match self.commit_one(change).await {
            Ok(_) => Ok(Ok(LinkDone {
                changed,
                view,
                events: event_ids,
            })),
            Err(error) if is_conflict(&error, SPENT_NONCE_CONSTRAINT) => {
                Ok(Err(TokenProblem::AlreadyUsed))
            }
            Err(error) => Err(error),
        }
    }

    /// What a withdrawal link would withdraw, without withdrawing.
    pub fn unsubscribe_link(&self, token: &str) -> Result<LinkView, TokenProblem> {
        let (link, _) = self.open_link(TokenKind::Unsubscribe, token)?;
        Ok(LinkView {
            purposes: link.purposes,
            language: link.language,
            touchpoint: None,
        })
    }

    /// One-click withdrawal (RFC 8058): every consent of the link that is granted or
    /// pending is withdrawn (source `email_link`), with its webhook. Using the link again
    /// changes nothing and is not an error.
    pub async fn unsubscribe(&self, token: &str) -> AppResult<Result<LinkDone, TokenProblem>> {
        let (link, _) = match self.open_link(TokenKind::Unsubscribe, token) {
            Ok(opened) => opened,
            Err(problem) => return Ok(Err(problem)),
        };
        let view = LinkView {
            purposes: link.purposes.clone(),
            language: link.language,
            touchpoint: None,
        };
        let Some(subject) = self.store().subject(link.subject_id).await? else {
            // Erased: nothing is held any more, so nothing is left to withdraw.
            return Ok(Ok(LinkDone {
                changed: vec![],
                view,
                events: vec![],
            }));
        };
        let key = self.subject_key(&subject)?;
        let email = Email::parse(&self.subject_email(&subject, &key)?)?;
        let now = self.now();
        let mut events = Vec::new();
        let mut outbox = Vec::new();
        for purpose in &link.purposes {
            let state = self
                .store()
                .consent_state(subject.id, purpose)
                .await?
                .map(|s| s.state);
            if !matches!(state, Some(ConsentState::Granted | ConsentState::Pending)) {
                continue;
            }
            let event = NewConsentEvent {
                event_id: Uuid::now_v7(),
                subject_id: subject.id,
                purpose: Some(purpose.clone()),
                action: ConsentAction::Withdraw,
                source: ConsentSource::EmailLink,
                touchpoint: None,
                notice_version: None,
                provenance: None,
                occurred_at: None,
            };
            outbox.extend(
                self.consent_webhook("consent.withdrawn", &event, &email, now)
                    .await?,
            );
            events.push(event);
        }
        let changed: Vec<String> = events.iter().filter_map(|e| e.purpose.clone()).collect();
        let event_ids = events.iter().map(|e| e.event_id).collect();
        if !events.is_empty() {
            self.commit_one(ChangeSet {
                events,
                outbox,
                at: now,
                ..Default::default()
            })
            .await?;
        }
        Ok(Ok(LinkDone {
            changed,
            view,
            events: event_ids,
        }))
    }

    /// Appends an `expire` event for every double opt-in grant still unconfirmed after
    /// [`confirmation_validity`]; returns how many expired. Run periodically.
    pub async fn expire_unconfirmed_grants(&self) -> AppResult<usize> {
        const PAGE: i64 = 500;
        let mut expired = 0;
        // Bounded, so that a store that kept answering the same rows could not spin forever.
        for _ in 0..1000 {
            let now = self.now();
            let pending = self
                .store()
                .pending_consents(now - confirmation_validity(), PAGE)
                .await?;
            let count = pending.len();
            if count == 0 {
                break;
            }
            let events = pending
                .into_iter()
                .map(|state| NewConsentEvent {
                    event_id: Uuid::now_v7(),
                    subject_id: state.subject_id,
                    purpose: Some(state.purpose),
                    action: ConsentAction::Expire,
                    source: ConsentSource::System,
                    touchpoint: None,
                    notice_version: None,
                    provenance: None,
                    occurred_at: None,
                })
                .collect();
            self.commit_one(ChangeSet {
                events,
                at: now,
                ..Default::default()
            })
            .await?;
            expired += count;
            if count < PAGE as usize {
                break;
            }
        }
        if expired > 0 {
            tracing::info!(expired, "unconfirmed double opt-in grants expired");
        }
        Ok(expired)
    }
}

/// A fresh random value for a browser's form cookie.
pub fn new_browser_secret() -> String {
    registre_crypto::random_token(32)
}
