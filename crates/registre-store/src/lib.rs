//! The storage interface of Registre: one narrow trait per register, implemented by
//! `registre-store-sqlite` and `registre-store-postgres`. Nothing above this crate knows
//! which database it talks to.
//!
//! Every mutating method takes the [`AuditRecord`] of the change and writes it in the same
//! transaction, so a change and its trace are kept or lost together.

mod batch;
pub mod conformance;
mod error;
mod records;
pub mod sql;

pub use batch::{ApplyFuture, BatchApplier, CommitObserver, GroupCommitter, MAX_BATCH};
pub use error::StoreError;
pub use records::*;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::audit::{AuditEntry, AuditRecord, ChainReport};
use registre_domain::ledger::ConsentEvent;
use registre_domain::proof::{ChainLink, Checkpoint};
use uuid::Uuid;

pub type StoreResult<T> = Result<T, StoreError>;

/// Configuration registers kept as JSON documents (organisation, data categories, purposes,
/// touchpoints, processors, breaches, webhook subscriptions): small, read often, written by
/// administrators, each validated by the domain before it gets here.
#[async_trait]
pub trait DocumentStore: Send + Sync {
    async fn document(&self, kind: DocumentKind, key: &str) -> StoreResult<Option<Document>>;
    async fn documents(&self, kind: DocumentKind) -> StoreResult<Vec<Document>>;
    /// Fails with `Conflict { constraint: "documents_pkey" }` when the key exists.
    async fn insert_document(&self, document: &Document, audit: &AuditRecord) -> StoreResult<()>;
    /// Fails with `NotFound` when the key does not exist.
    async fn update_document(&self, document: &Document, audit: &AuditRecord) -> StoreResult<()>;
}

/// Published notice versions: content-addressed, immutable, kept forever.
#[async_trait]
pub trait NoticeStore: Send + Sync {
    /// Saves a version if it is new; returns whether it was.
    async fn save_notice(&self, notice: &StoredNotice) -> StoreResult<bool>;
    async fn notice(&self, version: &str) -> StoreResult<Option<StoredNotice>>;
    /// Versions of one touchpoint, newest first, without their content.
    async fn notice_history(&self, touchpoint: &str) -> StoreResult<Vec<NoticeSummary>>;
}

/// Users and API keys.
#[async_trait]
pub trait AccessStore: Send + Sync {
    async fn create_api_key(&self, key: &ApiKeyRecord, audit: &AuditRecord) -> StoreResult<()>;
    async fn api_key_by_hash(&self, hash: &str) -> StoreResult<Option<ApiKeyRecord>>;
    async fn api_keys(&self) -> StoreResult<Vec<ApiKeyRecord>>;
    async fn revoke_api_key(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    async fn create_user(&self, user: &UserRecord, audit: &AuditRecord) -> StoreResult<()>;
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRecord>>;
    async fn users(&self) -> StoreResult<Vec<UserRecord>>;
}

/// The hash-chained log of administrative changes.
#[async_trait]
pub trait AuditLogStore: Send + Sync {
    /// Appends an entry that is not tied to another write (a sign-in, an export).
    async fn append_audit(&self, audit: &AuditRecord) -> StoreResult<AuditEntry>;
    /// Entries with `seq > after`, in order, at most `limit`.
    async fn audit_entries(&self, after: i64, limit: i64) -> StoreResult<Vec<AuditEntry>>;
    /// Walks the whole chain.
    async fn verify_audit_log(&self) -> StoreResult<ChainReport>;
}

/// Data subjects: who they are is sealed under their own key; they are found by blind index.
#[async_trait]
pub trait SubjectStore: Send + Sync {
    /// Applies a rectification (a new email changes who the person is found as, so it lives
    /// with the other writes that keep a person's blind index unique); `NotFound` when the
    /// subject is gone, `Conflict` when the new email belongs to another subject.
    async fn rectify(&self, rectification: &Rectification, audit: &AuditRecord) -> StoreResult<()>;
    /// Creates the subject unless one with the same blind index exists; either way returns
    /// the stored one, so that concurrent first submissions agree on one subject and key.
    async fn get_or_create_subject(&self, candidate: &SubjectRecord) -> StoreResult<SubjectRecord>;
    /// Creates many subjects in one transaction (bulk imports); existing ones are left as
    /// they are.
    async fn create_subjects(&self, subjects: &[SubjectRecord]) -> StoreResult<()>;
    async fn subject_by_index(&self, blind_index: &[u8]) -> StoreResult<Option<SubjectRecord>>;
    async fn subject(&self, id: Uuid) -> StoreResult<Option<SubjectRecord>>;
    /// When the blind index is on the suppression list (the person was erased).
    async fn suppressed_since(&self, blind_index: &[u8]) -> StoreResult<Option<DateTime<Utc>>>;
    async fn submissions_of(&self, subject_id: Uuid) -> StoreResult<Vec<SubmissionRecord>>;
    async fn consent_states_of(&self, subject_id: Uuid) -> StoreResult<Vec<ConsentStateRecord>>;
    async fn consent_state(
        &self,
        subject_id: Uuid,
        purpose: &str,
    ) -> StoreResult<Option<ConsentStateRecord>>;
    /// What the consent check needs about one person and one purpose. Stores with a faster
    /// way (one read, a cache) override it; the answer is always that of the reads below.
    async fn check_view(&self, blind_index: &[u8], purpose: &str) -> StoreResult<CheckView> {
        match self.subject_by_index(blind_index).await? {
            Some(subject) => Ok(CheckView {
                subject: Some(CheckSubject {
                    id: subject.id,
                    restricted: subject.restricted,
                    objected_to_marketing: subject.objected_to_marketing,
                }),
                state: self.consent_state(subject.id, purpose).await?,
                erased_since: None,
            }),
            None => Ok(CheckView {
                subject: None,
                state: None,
                erased_since: self.suppressed_since(blind_index).await?,
            }),
        }
    }
    /// Counts, for statistics and benchmarks.
    async fn subject_count(&self) -> StoreResult<i64>;
    /// Consents still `pending` (double opt-in not confirmed) since before `before`, oldest
    /// first, at most `limit`.
    async fn pending_consents(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<ConsentStateRecord>>;
}

/// The consent ledger and everything written with it, in one durable transaction.
#[async_trait]
pub trait LedgerStore: Send + Sync {
    /// Applies change sets in order, each all-or-nothing, and returns the chained events of
    /// each. Implementations group many change sets in one transaction (one fsync).
    async fn commit(&self, changes: Vec<ChangeSet>) -> Vec<StoreResult<Vec<ConsentEvent>>>;
    /// Tells `observer` of every transaction [`Self::commit`] applies from now on (the
    /// operator's metrics); replaces the observer told before.
    fn observe_commits(&self, observer: std::sync::Arc<dyn CommitObserver>);
    async fn event(&self, event_id: Uuid) -> StoreResult<Option<ConsentEvent>>;
    async fn events_of(
        &self,
        subject_id: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<ConsentEvent>>;
    /// Events with `seq > after`, in order, at most `limit`.
    async fn events(&self, after: i64, limit: i64) -> StoreResult<Vec<ConsentEvent>>;
    async fn ledger_head(&self) -> StoreResult<(i64, String)>;
    /// The events with `after < seq <= upto`, in order, as links hashed from their stored
    /// content: what verification walks. This default reads whole events and hashes them on
    /// a blocking thread; a store that can hash rows as it steps through them does better.
    async fn chain_links(&self, after: i64, upto: i64) -> StoreResult<Vec<ChainLink>> {
        /// Events read per query.
        const PAGE: i64 = 10_000;
        let mut links = Vec::new();
        let mut last = after;
        while last < upto {
            let page = self.events(last, PAGE.min(upto - last)).await?;
            let Some(end) = page.last().map(|e| e.seq) else {
                break;
            };
            last = end;
            let hashed = tokio::task::spawn_blocking(move || {
                page.iter()
                    .take_while(|e| e.seq <= upto)
                    .map(ChainLink::of)
                    .collect::<Vec<_>>()
            });
            links.extend(
                hashed
                    .await
                    .map_err(|e| StoreError::Other(format!("hashing stopped: {e}")))?,
            );
        }
        Ok(links)
    }
}

/// Everything a running server needs from storage.
pub trait Store:
    DocumentStore
    + NoticeStore
    + AccessStore
    + AuditLogStore
    + SubjectStore
    + LedgerStore
    + CheckpointStore
    + OutboxStore
    + TokenStore
    + EvidenceStore
    + RetentionStore
    + RequestStore
    + MaintenanceStore
    + ConsoleStore
    + OperationsStore
    + Health
    + Send
    + Sync
{
    /// `sqlite` or `postgres`, for logs and `/healthz`.
    fn backend(&self) -> &'static str;

    /// Whether this process makes every change that matters to what the application keeps
    /// in memory, so that forgetting it on its own changes is enough. False when several
    /// servers share the database: what another one changed must be read again.
    fn sole_writer(&self) -> bool;
}

/// Where a snapshot goes, part by part (the backup archive): each part is begun, written in
/// pieces of any size, and ended.
pub trait SnapshotSink: Send {
    fn begin(&mut self, name: &str) -> std::io::Result<()>;
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()>;
    fn end(&mut self) -> std::io::Result<()>;
}

/// A snapshot read back, part by part, for a restore.
pub trait SnapshotSource: Send {
    /// The name of the next part, `None` after the last.
    fn next_part(&mut self) -> std::io::Result<Option<String>>;
    /// The next piece of the current part; empty at its end.
    fn read_piece(&mut self) -> std::io::Result<Vec<u8>>;
}

/// What a snapshot holds, read inside it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnapshotInfo {
    /// `sqlite` or `postgres`.
    pub backend: String,
    pub ledger_length: i64,
    pub ledger_head: String,
    pub subjects: i64,
    /// The schema migrations applied, by version.
    pub migrations: Vec<i64>,
}

/// A subject's wrapped data key, as key rotation walks them.
#[derive(Clone, PartialEq, Eq)]
pub struct WrappedKeyRow {
    pub subject_id: Uuid,
    pub wrapped_key: Vec<u8>,
}

impl std::fmt::Debug for WrappedKeyRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WrappedKeyRow")
            .field("subject_id", &self.subject_id)
            .finish_non_exhaustive()
    }
}

/// A wrapped key to replace, only if it is still `old` (an erasure or another rotation in
/// between wins).
#[derive(Clone, Debug)]
pub struct Rewrap {
    pub subject_id: Uuid,
    pub old: Vec<u8>,
    pub new: Vec<u8>,
}

/// What operations need: online snapshots for backups, and the wrapped keys for rotation.
#[async_trait]
pub trait MaintenanceStore: Send + Sync {
    /// Writes a consistent snapshot of the whole database to `sink` while servers keep
    /// writing: everything committed before it began, nothing half-done. `scratch` is a
    /// private directory for temporary files (deleted by the caller).
    async fn snapshot(
        &self,
        scratch: &std::path::Path,
        sink: &mut dyn SnapshotSink,
    ) -> StoreResult<SnapshotInfo>;
    /// Up to `limit` wrapped keys of subjects with an id above `after`, by id.
    async fn wrapped_keys(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<WrappedKeyRow>>;
    /// Replaces wrapped keys that are still as read, in one transaction; returns how many.
    async fn rewrap_keys(&self, rewraps: &[Rewrap]) -> StoreResult<u64>;
}

/// Liveness is asked separately so that `Store` stays object-safe and simple.
#[async_trait]
pub trait Health: Send + Sync {
    async fn ping(&self) -> StoreResult<()>;
    /// Resolves once the work the store began in the background when it was opened (a
    /// cache warm-up) is done, so that it answers at its usual pace: a server is not ready
    /// before. At once for a store that begins none.
    async fn started(&self) {}
}

/// What an operator's monitoring reads (`/metrics`): counts, never rows, each answered from
/// an index.
#[async_trait]
pub trait OperationsStore: Send + Sync {
    /// The messages of `channel` neither delivered nor given up on.
    async fn outbox_backlog(&self, channel: &str) -> StoreResult<OutboxBacklog>;
    /// Open rights requests due at or before `now`, and due after `now` but by `soon`.
    async fn open_requests_due(
        &self,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> StoreResult<RequestsDue>;
}

/// Single-use tokens: a spent nonce is kept until its token would have expired anyway.
#[async_trait]
pub trait TokenStore: Send + Sync {
    /// Records the nonce; `false` when it was already spent.
    async fn consume_nonce(&self, nonce: &str, expires_at: DateTime<Utc>) -> StoreResult<bool>;
}

/// Files that back processors' due-diligence answers, sealed with the system key.
#[async_trait]
pub trait EvidenceStore: Send + Sync {
    async fn insert_evidence(
        &self,
        evidence: &EvidenceRecord,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    /// One file, with its sealed content.
    async fn evidence(&self, id: Uuid) -> StoreResult<Option<EvidenceRecord>>;
    /// A processor's files, oldest first, without their content (`sealed` is empty).
    async fn evidence_of(&self, processor_id: Uuid) -> StoreResult<Vec<EvidenceRecord>>;
}

/// What retention needs: people's activity page by page, and the deletion of submissions
/// that outlived their purposes (people themselves are erased through the ledger).
#[async_trait]
pub trait RetentionStore: Send + Sync {
    /// Up to `limit` subjects with an id above `after` (all when `None`), by id, each with
    /// when and where they sent forms, their latest own consent event per purpose and their
    /// consent states.
    async fn subject_activity(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<SubjectActivityRecord>>;
    /// Deletes these submissions and writes `audit`, in one transaction; returns how many went.
    async fn purge_submissions(&self, ids: &[Uuid], audit: &AuditRecord) -> StoreResult<u64>;
}

/// Signed checkpoints of the ledger head.
#[async_trait]
pub trait CheckpointStore: Send + Sync {
    /// Saves a checkpoint with the audit record (when a person asked for it) and the
    /// webhook messages that tell witnesses, in one transaction.
    async fn insert_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        audit: Option<&AuditRecord>,
        outbox: &[OutboxRecord],
    ) -> StoreResult<()>;
    /// The most recently signed checkpoint.
    async fn latest_checkpoint(&self) -> StoreResult<Option<Checkpoint>>;
    /// Every checkpoint with `seq <= up_to_seq`, by ascending seq.
    async fn checkpoints_up_to(&self, up_to_seq: i64) -> StoreResult<Vec<Checkpoint>>;
    /// Newest first, at most `limit`, signed before the checkpoint `before` when given.
    async fn recent_checkpoints(
        &self,
        before: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<Checkpoint>>;
}

/// The outbox as webhook deliveries see it: messages are claimed with a lease, so that
/// several servers share the work and a crashed worker's messages come back.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Claims up to `limit` undelivered, live messages of `channel` due at `now`, moving their
    /// next attempt to `lease_until`. On PostgreSQL rows another server holds are skipped.
    async fn claim_outbox(
        &self,
        channel: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedMessage>>;
    /// The deliveries of one message, one per subscription it was fanned out to.
    async fn message_deliveries(&self, outbox_id: Uuid) -> StoreResult<Vec<WebhookDelivery>>;
    /// Saves the rounds of attempts of one worker pass, all in one transaction: one write
    /// per pass rather than per message keeps the worker off the ledger's writer.
    async fn save_delivery_rounds(&self, rounds: &[DeliveryRound]) -> StoreResult<()>;
    /// One subscription's deliveries, newest first.
    async fn subscription_deliveries(
        &self,
        subscription_id: Uuid,
        limit: i64,
    ) -> StoreResult<Vec<WebhookDelivery>>;
}

/// The register of rights requests, the certificates of erasure, and the writes that
/// fulfilling a request needs beyond the ledger.
#[async_trait]
pub trait RequestStore: Send + Sync {
    /// Inserts a request with its webhook messages, in one transaction.
    async fn insert_request(
        &self,
        request: &RequestRecord,
        outbox: &[OutboxRecord],
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    async fn request(&self, id: Uuid) -> StoreResult<Option<RequestRecord>>;
    /// Replaces the stored row; `NotFound` when there is none.
    async fn update_request(&self, request: &RequestRecord, audit: &AuditRecord)
    -> StoreResult<()>;
    /// Requests by due date then id, after the `(due_at, id)` cursor, at most `limit`.
    async fn requests(
        &self,
        status: Option<&str>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> StoreResult<Vec<RequestRecord>>;
    /// Every request made by the person with this blind index, oldest first.
    async fn requests_of(&self, blind_index: &[u8]) -> StoreResult<Vec<RequestRecord>>;
    /// Open requests due by `by` whose `request.due_soon` event has not been sent.
    async fn requests_to_remind(
        &self,
        by: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<RequestRecord>>;
    /// Marks a reminder as sent with its webhook, in one transaction; `false` when another
    /// server sent it first.
    async fn mark_reminded(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        outbox: &[OutboxRecord],
    ) -> StoreResult<bool>;
    /// Deletes what the requests of this person say about them (sealed content, blind index,
    /// subject); returns how many requests were concerned.
    async fn forget_requests_of(
        &self,
        blind_index: &[u8],
        subject_id: Option<Uuid>,
        audit: &AuditRecord,
    ) -> StoreResult<u64>;
    async fn insert_certificate(
        &self,
        certificate: &ErasureCertificate,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    async fn certificate(&self, id: Uuid) -> StoreResult<Option<ErasureCertificate>>;
    /// Deletes some of a subject's submissions (an erasure that keeps what the law requires).
    async fn delete_submissions(
        &self,
        subject_id: Uuid,
        ids: &[Uuid],
        audit: &AuditRecord,
    ) -> StoreResult<u64>;
}

/// What the admin console needs of its own: sessions, the sign-in lockout, users'
/// preferences and the dashboard's figures.
#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Saves a new session with the audit record of the sign-in.
    async fn insert_console_session(
        &self,
        session: &ConsoleSessionRecord,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    /// The session and its user, if the session exists (expired or not).
    async fn console_session(
        &self,
        id_hash: &str,
    ) -> StoreResult<Option<(ConsoleSessionRecord, UserRecord)>>;
    /// Deletes a session (sign-out, expiry); with the audit record when a person signed out.
    /// Returns whether there was one.
    async fn delete_console_session(
        &self,
        id_hash: &str,
        audit: Option<&AuditRecord>,
    ) -> StoreResult<bool>;
    async fn sign_in_failures(&self, account: &str) -> StoreResult<Option<SignInFailures>>;
    /// Counts one failure, atomically: the count restarts at 1 when the last failure is older
    /// than `window_start`; at `max_failures` the account is locked until `lock_until` and the
    /// count restarts. Returns the state after the failure.
    async fn record_sign_in_failure(
        &self,
        account: &str,
        at: DateTime<Utc>,
        window_start: DateTime<Utc>,
        max_failures: i64,
        lock_until: DateTime<Utc>,
    ) -> StoreResult<SignInFailures>;
    async fn clear_sign_in_failures(&self, account: &str) -> StoreResult<()>;
    async fn user(&self, id: Uuid) -> StoreResult<Option<UserRecord>>;
    /// Sets a user's language and time zone; `NotFound` when there is no such user.
    async fn update_user_preferences(
        &self,
        id: Uuid,
        language: &str,
        time_zone: &str,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    /// Saves a user's role, password hash and `disabled_at`. With `end_sessions`, their
    /// console sessions are deleted in the same transaction. Refused with
    /// `Conflict { constraint: "users_last_admin" }` when no active administrator would
    /// remain.
    async fn update_user(
        &self,
        user: &UserRecord,
        end_sessions: bool,
        audit: &AuditRecord,
    ) -> StoreResult<()>;
    /// The audit log's last sequence number (0 when empty).
    async fn audit_length(&self) -> StoreResult<i64>;
    /// Consent events recorded at or after `since`, counted per UTC day, purpose and action.
    async fn consent_activity(&self, since: DateTime<Utc>) -> StoreResult<Vec<ConsentActivityRow>>;
    /// Submissions and consents granted through each touchpoint at or after `since`.
    async fn touchpoint_activity(
        &self,
        since: DateTime<Utc>,
    ) -> StoreResult<Vec<TouchpointActivityRow>>;
}
