use chrono::{DateTime, Utc};
use registre_domain::Role;
use registre_domain::audit::AuditRecord;
use registre_domain::ledger::{ConsentState, NewConsentEvent};
use uuid::Uuid;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    Organisation,
    DataCategory,
    Purpose,
    Touchpoint,
    Processor,
    Breach,
    Webhook,
    /// Each distinct version of the generated privacy policy.
    PrivacyPolicy,
}

impl DocumentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Organisation => "organisation",
            Self::DataCategory => "data_category",
            Self::Purpose => "purpose",
            Self::Touchpoint => "touchpoint",
            Self::Processor => "processor",
            Self::Breach => "breach",
            Self::Webhook => "webhook",
            Self::PrivacyPolicy => "privacy_policy",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    pub kind: DocumentKind,
    pub key: String,
    pub body: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct StoredNotice {
    pub version: String,
    pub touchpoint: String,
    /// The canonical JSON of the notice content.
    pub content: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NoticeSummary {
    pub version: String,
    pub published_at: DateTime<Utc>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ApiKeyRecord {
    pub id: Uuid,
    pub name: String,
    pub role: Role,
    /// SHA-256 hex of the key: keys are long random strings, so a fast hash is enough and
    /// keeps each request cheap.
    pub key_hash: String,
    /// The first characters of the key, to recognise it in a list.
    pub prefix: String,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

#[derive(Clone, PartialEq)]
pub struct UserRecord {
    pub id: Uuid,
    pub email: String,
    pub role: Role,
    /// Argon2id PHC string.
    pub password_hash: Option<String>,
    pub language: String,
    /// IANA time zone the console shows dates in (`Europe/Paris` by default).
    pub time_zone: String,
    pub created_at: DateTime<Utc>,
    /// When an administrator disabled the account; `None` while it is active.
    pub disabled_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// A data subject as stored: the email sealed under the subject's own key, found by its
/// keyed hash.
#[derive(Clone, PartialEq)]
pub struct SubjectRecord {
    pub id: Uuid,
    pub blind_index: Vec<u8>,
    pub wrapped_key: Vec<u8>,
    pub email_sealed: Vec<u8>,
    /// An identifier in the organisation's own systems, sealed, with its own blind index.
    pub external_id_index: Option<Vec<u8>>,
    pub external_id_sealed: Option<Vec<u8>>,
    pub restricted: bool,
    pub objected_to_marketing: bool,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for SubjectRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubjectRecord")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

/// What a person sent through a touchpoint, sealed under their key.
#[derive(Clone, PartialEq)]
pub struct SubmissionRecord {
    pub id: Uuid,
    pub subject_id: Uuid,
    pub touchpoint: String,
    pub notice_version: String,
    /// The field values as JSON, sealed.
    pub fields_sealed: Vec<u8>,
    pub received_at: DateTime<Utc>,
}

impl std::fmt::Debug for SubmissionRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubmissionRecord")
            .field("id", &self.id)
            .field("touchpoint", &self.touchpoint)
            .finish_non_exhaustive()
    }
}

/// What the consent check reads: the person's flags (when known), the purpose's state, and
/// (when the person is unknown) whether they were erased.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CheckView {
    pub subject: Option<CheckSubject>,
    pub state: Option<ConsentStateRecord>,
    pub erased_since: Option<DateTime<Utc>>,
}

/// The part of a subject the check needs: nothing sealed, nothing personal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckSubject {
    pub id: Uuid,
    pub restricted: bool,
    pub objected_to_marketing: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ConsentStateRecord {
    pub subject_id: Uuid,
    pub purpose: String,
    pub state: ConsentState,
    pub since: DateTime<Utc>,
    pub last_seq: i64,
}

/// How many messages of one outbox channel wait, and how many were given up on.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OutboxBacklog {
    /// Neither delivered nor given up: due now or waiting for a retry.
    pub pending: i64,
    /// When the oldest of them was written.
    pub oldest_pending_at: Option<DateTime<Utc>>,
}

/// Open rights requests by how close their deadline is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RequestsDue {
    /// Due at or before now: the deadline is missed.
    pub overdue: i64,
    /// Due after now, within the window asked for.
    pub due_soon: i64,
}

/// A message to deliver later (webhook, email), written with the change that caused it.
#[derive(Clone, PartialEq)]
pub struct OutboxRecord {
    pub id: Uuid,
    /// `webhook` or `email`.
    pub channel: String,
    /// The event type (`consent.withdrawn`...) or mail template.
    pub topic: String,
    /// The subject whose key seals the payload, when it carries personal data.
    pub subject_id: Option<Uuid>,
    /// Payload, sealed when `subject_id` is set.
    pub payload: Vec<u8>,
    pub created_at: DateTime<Utc>,
}

impl std::fmt::Debug for OutboxRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRecord")
            .field("id", &self.id)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// A subject to erase: its key, rows and submissions go; its blind index joins the
/// suppression list; an erasure marker joins the ledger.
#[derive(Clone, Debug, PartialEq)]
pub struct Erasure {
    pub subject_id: Uuid,
    pub blind_index: Vec<u8>,
    pub at: DateTime<Utc>,
}

/// A single-use token spent by a change set: the change lands only if the token was not
/// spent before, and the token stays unspent if the change does not land.
#[derive(Clone, Debug, PartialEq)]
pub struct SpentNonce {
    pub nonce: String,
    /// Kept until then; after it, the token is refused for its expiry anyway.
    pub expires_at: DateTime<Utc>,
}

/// The constraint a change set fails with when one of its `spent_nonces` was already spent.
pub const SPENT_NONCE_CONSTRAINT: &str = "spent_tokens_pkey";
/// The constraint a change set fails with when one of its `new_subjects` exists already
/// (created meanwhile by another request): the caller retries with the stored subject.
pub const SUBJECT_INDEX_CONSTRAINT: &str = "subjects_blind_index_key";

/// Writes that must land together: a form submission with its consents, a withdrawal with
/// its webhook, an erasure with its marker.
#[derive(Clone, Debug, Default)]
pub struct ChangeSet {
    /// Single-use tokens this change spends (a form's CSRF token).
    pub spent_nonces: Vec<SpentNonce>,
    /// People seen for the first time, created with the change so that a first submission
    /// costs one transaction.
    pub new_subjects: Vec<SubjectRecord>,
    pub submissions: Vec<SubmissionRecord>,
    pub events: Vec<NewConsentEvent>,
    pub outbox: Vec<OutboxRecord>,
    pub erasures: Vec<Erasure>,
    pub audit: Option<AuditRecord>,
    /// The instant recorded on the events.
    pub at: DateTime<Utc>,
}

/// An evidence file: its content sealed with the system key, described by name, type, size
/// and hash.
#[derive(Clone, PartialEq)]
pub struct EvidenceRecord {
    pub id: Uuid,
    pub processor_id: Uuid,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    /// SHA-256 of the content, lower-case hex.
    pub sha256: String,
    pub sealed: Vec<u8>,
    pub uploaded_at: DateTime<Utc>,
}

impl std::fmt::Debug for EvidenceRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EvidenceRecord")
            .field("id", &self.id)
            .field("size", &self.size)
            .finish_non_exhaustive()
    }
}

/// A rights request as stored. Everything a person wrote or that names them (email,
/// details, message, reasons, how identity was checked) is in `sealed`, under the subject's
/// key (`subject_id`) or the system key when the person was not known yet (`subject_id` is
/// `None`). An erasure deletes `sealed` and the blind index: the register keeps that a
/// request was made and answered, not by whom.
#[derive(Clone, PartialEq)]
pub struct RequestRecord {
    pub id: Uuid,
    /// `access`, `rectification`, `erasure`, `restriction`, `portability`, `objection`.
    pub request_type: String,
    /// `received`, `verified`, `in_progress`, `completed`, `refused`.
    pub status: String,
    /// `api` or `portal`.
    pub channel: String,
    pub subject_id: Option<Uuid>,
    pub blind_index: Option<Vec<u8>>,
    pub sealed: Option<Vec<u8>>,
    /// `fr` or `en`: the language of the mail the person receives.
    pub language: String,
    pub identity_verified: bool,
    pub received_at: DateTime<Utc>,
    pub due_at: DateTime<Utc>,
    pub extended_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub closed_at: Option<DateTime<Utc>>,
    /// When the `request.due_soon` event was sent, so that it is sent once.
    pub due_soon_notified_at: Option<DateTime<Utc>>,
    pub restriction_lifted_at: Option<DateTime<Utc>>,
    pub certificate_id: Option<Uuid>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for RequestRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestRecord")
            .field("id", &self.id)
            .field("type", &self.request_type)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// A subject with what retention needs to judge them.
#[derive(Clone, Debug, PartialEq)]
pub struct SubjectActivityRecord {
    pub subject: SubjectRecord,
    pub activity: registre_domain::retention::SubjectActivity,
}

/// A message claimed for delivery by one worker until its lease ends.
#[derive(Clone, Debug, PartialEq)]
pub struct ClaimedMessage {
    pub record: OutboxRecord,
    /// Rounds of attempts already made.
    pub attempts: i32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    /// Given up: no 2xx before the retry period ended.
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Dead => "dead",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [Self::Pending, Self::Delivered, Self::Dead]
            .into_iter()
            .find(|s| s.as_str() == raw)
    }
}

/// One outbox message to one webhook subscription: its own attempts and retries.
#[derive(Clone, Debug, PartialEq)]
pub struct WebhookDelivery {
    pub outbox_id: Uuid,
    pub subscription_id: Uuid,
    /// The `id` of the delivered body, for the receiver's deduplication.
    pub event_id: Uuid,
    pub topic: String,
    pub status: DeliveryStatus,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// HTTP status of the last answer, when there was one.
    pub last_status: Option<i32>,
    /// Why the last attempt failed; never personal data.
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

/// What becomes of an outbox message after a round of attempts.
#[derive(Clone, Debug, PartialEq)]
pub enum OutboxOutcome {
    /// Some deliveries are still pending: try again then.
    Retry {
        next_attempt_at: DateTime<Utc>,
        last_error: Option<String>,
    },
    /// Every delivery is delivered or dead: the payload is wiped.
    Done { at: DateTime<Utc>, dead: bool },
}

/// One message's round of attempts, as the worker saves it: its deliveries (new ones inserted,
/// known ones updated) and what becomes of the message.
#[derive(Clone, Debug, PartialEq)]
pub struct DeliveryRound {
    pub outbox_id: Uuid,
    pub deliveries: Vec<WebhookDelivery>,
    pub outcome: OutboxOutcome,
}

impl DeliveryRound {
    /// When a message no subscription asked for was done (at once, nothing sent). Such
    /// rounds are saved in bulk, as most messages are of this kind when no tool is subscribed.
    pub fn unsubscribed_done_at(&self) -> Option<DateTime<Utc>> {
        match self.outcome {
            OutboxOutcome::Done { at, dead: false } if self.deliveries.is_empty() => Some(at),
            _ => None,
        }
    }
}

/// A certificate of erasure: what was erased and when, never who.
#[derive(Clone, Debug, PartialEq)]
pub struct ErasureCertificate {
    pub id: Uuid,
    pub erased_at: DateTime<Utc>,
    /// JSON without personal data: counts, kept items with their legal ground, the ledger
    /// marker's event id.
    pub body: serde_json::Value,
}

/// A rectification: the subject's new email (new blind index, resealed) and/or resealed
/// submissions, with the webhook that tells recipients (Art. 19).
#[derive(Clone, PartialEq)]
pub struct Rectification {
    pub subject_id: Uuid,
    pub new_email: Option<(Vec<u8>, Vec<u8>)>,
    /// `(submission id, new sealed fields)`.
    pub submissions: Vec<(Uuid, Vec<u8>)>,
    pub outbox: Vec<OutboxRecord>,
}

impl std::fmt::Debug for Rectification {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rectification")
            .field("subject_id", &self.subject_id)
            .finish_non_exhaustive()
    }
}

/// A signed-in console session, known by the SHA-256 of its cookie.
#[derive(Clone, Debug, PartialEq)]
pub struct ConsoleSessionRecord {
    pub id_hash: String,
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// Failed sign-ins of one account since the last success.
#[derive(Clone, Debug, PartialEq)]
pub struct SignInFailures {
    pub failures: i64,
    pub last_failure_at: DateTime<Utc>,
    pub locked_until: Option<DateTime<Utc>>,
}

/// Consent events of one UTC day, purpose and action (`grant`, `withdraw`...).
#[derive(Clone, Debug, PartialEq)]
pub struct ConsentActivityRow {
    pub day: chrono::NaiveDate,
    pub purpose: String,
    pub action: String,
    pub count: i64,
}

/// What one touchpoint collected since a date: form submissions, and the consents granted
/// through it per purpose.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct TouchpointActivityRow {
    pub touchpoint: String,
    pub submissions: i64,
    /// `(purpose, grants)`.
    pub grants: Vec<(String, i64)>,
}
