//! Registre's use cases: what each role may do, and how a request becomes domain values,
//! store writes and audit entries. It knows neither HTTP nor SQL.

mod access;
mod breaches;
mod catalogue;
pub mod checkpoints;
mod consents;
pub mod console;
pub mod demo;
mod erasure;
mod error;
mod export;
mod export_html;
pub mod forms;
mod imports;
pub mod keys;
pub mod ledger;
pub mod mail;
mod mail_html;
pub mod mail_outbox;
pub mod metrics;
pub mod policy;
pub mod portal;
pub mod processors;
mod rate_limit;
mod receipts;
mod request_history;
mod request_mail;
pub mod requests;
pub mod restore;
mod retention;
mod retry;
mod ropa;
mod startup;
pub mod subjects;
pub mod tokens;
pub mod tree;
pub mod users;
pub mod webhooks;
pub mod witnesses;

pub use access::{CreatedApiKey, Principal};
pub use breaches::BreachView;
pub use catalogue::{DataCategory, NoticeView, TouchpointView};
pub use consents::{ConsentRequest, SubjectConsents, SubjectRef};
pub use console::{ConsoleSession, Dashboard, SignIn};
pub use erasure::{ErasureOutcome, Kept};
pub use error::AppError;
pub use export::Download;
pub use imports::{BulkItemResult, ImportReport, RejectedRow, parse_csv};
pub use metrics::{METRICS_CONTENT_TYPE, Metrics};
pub use processors::{
    AssessmentOutcome, ChainNode, DraftView, EvidenceView, ProcessorView, QuestionnaireLink,
};
pub use receipts::{ConsentReceipt, PersonReceipt};
pub use request_history::SentRequestMail;
pub use requests::{FulfilInput, NewRequest, RequestView};
pub use retention::RETENTION_INTERVAL;
pub use startup::{StartUp, StartupGuard, StartupTask};

use registre_crypto::{Keyring, SigningKey};
use registre_domain::Clock;
use registre_store::Store;
use std::collections::HashSet;
use std::sync::{Arc, Mutex, RwLock};

pub type AppResult<T> = Result<T, AppError>;

/// Settings the use cases need from the outside.
#[derive(Clone, Debug)]
pub struct AppConfig {
    /// Base URL of public links (forms, portal, mail).
    pub public_url: String,
    pub mail: mail::MailConfig,
    /// The file every signed checkpoint is appended to, outside the database.
    pub checkpoint_log: std::path::PathBuf,
    /// How often the head is signed while events arrive.
    pub checkpoint_interval: std::time::Duration,
    /// The witnesses asked to cosign each checkpoint (`REGISTRE_WITNESSES`).
    pub witnesses: Vec<witnesses::Witness>,
    /// The logs this server witnesses: origin and note key (`REGISTRE_WITNESS_LOGS`).
    pub witnessed_logs: Vec<(String, registre_crypto::VerifyingKey)>,
    /// Where, as a witness, the latest tree cosigned of each log is kept.
    pub witness_state: std::path::PathBuf,
}

impl AppConfig {
    /// Links to `public_url`, mail written to `<data_dir>/outbox/` unless SMTP is set.
    pub fn new(public_url: impl Into<String>, data_dir: &std::path::Path) -> Self {
        Self {
            public_url: public_url.into().trim_end_matches('/').to_string(),
            mail: mail::MailConfig {
                smtp_url: std::env::var("REGISTRE_SMTP_URL")
                    .ok()
                    .filter(|s| !s.is_empty()),
                outbox_dir: data_dir.join("outbox"),
                from: std::env::var("REGISTRE_MAIL_FROM")
                    .ok()
                    .filter(|s| !s.trim().is_empty()),
            },
            checkpoint_log: checkpoints::checkpoint_log_path(data_dir),
            checkpoint_interval: checkpoints::checkpoint_interval(),
            witnesses: Vec::new(),
            witnessed_logs: Vec::new(),
            witness_state: data_dir.join("witness-state.json"),
        }
    }
}

/// The signing key in use and the retired public keys.
struct LedgerKeys {
    signing: Arc<SigningKey>,
    retired: Vec<registre_crypto::VerifyingKey>,
}

/// Everything a use case needs: the store, the keys, the clock. Cheap to clone.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    keyring: Keyring,
    /// The ledger signing key and the public keys of retired ones; replaced when the key
    /// files are rotated while the server runs.
    ledger_keys: RwLock<Arc<LedgerKeys>>,
    clock: Arc<dyn Clock>,
    config: AppConfig,
    /// Notice versions known to be saved, so that rendering a form does not write.
    saved_notices: Mutex<HashSet<String>>,
    /// Purposes, read on every consent check; refreshed after a local change and at most
    /// [`catalogue::CATALOGUE_TTL`] after a change made by another process.
    purposes_cache: RwLock<
        Option<(
            std::time::Instant,
            Arc<Vec<registre_domain::purpose::Purpose>>,
        )>,
    >,
    /// The organisation and the touchpoints, read on every public page; like the purposes.
    organisation_cache: RwLock<
        Option<(
            std::time::Instant,
            registre_domain::organisation::Organisation,
        )>,
    >,
    touchpoints_cache: RwLock<
        Option<(
            std::time::Instant,
            Arc<Vec<registre_domain::touchpoint::Touchpoint>>,
        )>,
    >,
    /// The current notice of each touchpoint, as [`App::current_notice`] last built it.
    current_notices: RwLock<Vec<catalogue::CurrentNotice>>,
    /// Bumped by every local change to what a notice is built from, so that a notice built
    /// from what was read before the change is never kept.
    catalogue_generation: std::sync::atomic::AtomicU64,
    /// Published notice versions (immutable) read back when a form is sent.
    notice_cache: RwLock<std::collections::HashMap<String, NoticeView>>,
    /// API key hash → principal, briefly cached: authentication is on every request.
    api_key_cache:
        RwLock<std::collections::HashMap<String, (Option<Principal>, std::time::Instant)>>,
    /// Wakes the webhook worker when a change set carried a message.
    outbox_signal: tokio::sync::Notify,
    /// Wakes the mail worker when a change set carried a mail.
    mail_signal: tokio::sync::Notify,
    /// The topics some active subscription listens to, as [`App::listened_topics`] last read
    /// them.
    listened_topics: RwLock<Option<webhooks::ListenedTopics>>,
    /// Bumped by every local change to the subscriptions.
    webhooks_generation: std::sync::atomic::AtomicU64,
    /// Counters of the privacy portal's sign-in requests, per address and per IP.
    rate_limits: rate_limit::RateLimiter,
    /// The tree of the last checkpoint this process signed; held while signing.
    signed_tree: tokio::sync::Mutex<Option<checkpoints::SignedTree>>,
    /// The tree size each witness last cosigned, as it answered.
    witness_sizes: Mutex<std::collections::HashMap<String, u64>>,
    /// Held while this server, as a witness, checks and records a checkpoint.
    witness_turn: tokio::sync::Mutex<()>,
    /// What `/metrics` shows; the store's writer reports its transactions to it.
    metrics: metrics::Metrics,
    /// The start-up tasks still running (readiness).
    startup: Arc<startup::Startup>,
}

impl App {
    pub fn new(
        store: Arc<dyn Store>,
        keyring: Keyring,
        signing_key: SigningKey,
        clock: Arc<dyn Clock>,
        config: AppConfig,
    ) -> Self {
        let metrics = metrics::Metrics::new();
        store.observe_commits(metrics.commit_observer());
        Self {
            inner: Arc::new(Inner {
                store,
                keyring,
                ledger_keys: RwLock::new(Arc::new(LedgerKeys {
                    signing: Arc::new(signing_key),
                    retired: Vec::new(),
                })),
                clock,
                config,
                saved_notices: Mutex::new(HashSet::new()),
                api_key_cache: RwLock::new(Default::default()),
                purposes_cache: RwLock::new(None),
                outbox_signal: tokio::sync::Notify::new(),
                mail_signal: tokio::sync::Notify::new(),
                listened_topics: RwLock::new(None),
                webhooks_generation: std::sync::atomic::AtomicU64::new(0),
                notice_cache: RwLock::new(Default::default()),
                current_notices: RwLock::new(Vec::new()),
                catalogue_generation: std::sync::atomic::AtomicU64::new(0),
                rate_limits: rate_limit::RateLimiter::default(),
                organisation_cache: RwLock::new(None),
                touchpoints_cache: RwLock::new(None),
                signed_tree: tokio::sync::Mutex::new(None),
                witness_sizes: Mutex::new(Default::default()),
                witness_turn: tokio::sync::Mutex::new(()),
                metrics,
                startup: Arc::default(),
            }),
        }
    }

    pub(crate) fn inner_signed_tree(&self) -> &tokio::sync::Mutex<Option<checkpoints::SignedTree>> {
        &self.inner.signed_tree
    }

    pub(crate) fn inner_witness_sizes(&self) -> &Mutex<std::collections::HashMap<String, u64>> {
        &self.inner.witness_sizes
    }

    pub(crate) fn inner_witness_turn(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.witness_turn
    }

    pub fn store(&self) -> &dyn Store {
        self.inner.store.as_ref()
    }

    pub fn keyring(&self) -> &Keyring {
        &self.inner.keyring
    }

    /// The key that signs checkpoints and receipts now.
    pub fn signing_key(&self) -> Arc<SigningKey> {
        self.current_ledger_keys().signing.clone()
    }

    fn current_ledger_keys(&self) -> Arc<LedgerKeys> {
        match self.inner.ledger_keys.read() {
            Ok(keys) => keys.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Takes a new signing key and the public keys of the retired ones (still trusted for
    /// what they signed), as after `registre keys rotate --signing`.
    pub fn set_ledger_keys(
        &self,
        signing: SigningKey,
        retired: Vec<registre_crypto::VerifyingKey>,
    ) {
        let keys = Arc::new(LedgerKeys {
            signing: Arc::new(signing),
            retired,
        });
        match self.inner.ledger_keys.write() {
            Ok(mut guard) => *guard = keys,
            Err(poisoned) => *poisoned.into_inner() = keys,
        }
    }

    /// The public keys of retired signing keys.
    pub fn retired_ledger_keys(&self) -> Vec<registre_crypto::VerifyingKey> {
        self.current_ledger_keys().retired.clone()
    }

    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        registre_domain::clock::truncate_to_micros(self.inner.clock.now())
    }

    pub fn config(&self) -> &AppConfig {
        &self.inner.config
    }

    /// `Ok` when the store answers.
    pub async fn health(&self) -> AppResult<()> {
        Ok(self.store().ping().await?)
    }

    pub(crate) fn audit_record(
        &self,
        actor: &Principal,
        action: &str,
        target: impl Into<String>,
        details: serde_json::Value,
    ) -> registre_domain::audit::AuditRecord {
        registre_domain::audit::AuditRecord {
            at: self.now(),
            actor: actor.actor.clone(),
            action: action.to_string(),
            target: target.into(),
            details,
        }
    }
}
