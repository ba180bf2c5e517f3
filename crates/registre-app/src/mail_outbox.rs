//! Mail that must not be lost goes through the outbox: it is written, whole, in the
//! transaction of the change that causes it (a double opt-in submission), and the mail
//! worker sends it afterwards. A crash between the commit and the send loses nothing: the
//! row waits, and any server's worker sends it once it runs again.
//!
//! The row's payload is the mail as written (recipient, subject, text, HTML), sealed with
//! the key of the person it goes to (`subject_id`): nothing in it is readable at rest, an
//! erasure (which destroys the key) leaves nothing to send, and the payload is wiped once
//! sent or given up. Delivery is at least once: a worker that stops between the send and
//! the save of its round sends the mail again when the lease runs out.
use crate::mail::Mail;
use crate::webhooks::{RETRY_PERIOD_HOURS, retry_delay};
use crate::{App, AppError, AppResult};
use registre_crypto::SubjectKey;
use registre_store::{ClaimedMessage, DeliveryRound, OutboxOutcome, OutboxRecord};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use uuid::Uuid;

/// The outbox channel of mail.
pub const MAIL_CHANNEL: &str = "email";
/// The topic of the double opt-in confirmation of a form.
pub const CONFIRMATION_TOPIC: &str = "form.confirmation";
/// Where a sealed mail lives, bound into its ciphertext.
const MAIL_CONTEXT: &str = "outbox.mail";
/// How long a worker holds the mail it claimed: more than an SMTP exchange may take
/// (lettre gives up after a minute), so that no other worker sends it meanwhile.
const LEASE_SECONDS: i64 = 300;
/// Mails claimed per round, sent at the same time.
const CLAIM_BATCH: i64 = 32;
/// The shortest time between two rounds that did not fill a batch (see the webhook worker).
const MIN_ROUND_INTERVAL: Duration = Duration::from_millis(100);

/// A mail as the outbox keeps it, inside the sealed payload.
#[derive(Serialize, Deserialize)]
struct QueuedMail {
    to: String,
    subject: String,
    text: String,
    language: registre_domain::Language,
    html: Option<String>,
    unsubscribe_url: Option<String>,
}

impl From<&Mail> for QueuedMail {
    fn from(mail: &Mail) -> Self {
        Self {
            to: mail.to.clone(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            language: mail.language,
            html: mail.html.clone(),
            unsubscribe_url: mail.unsubscribe_url.clone(),
        }
    }
}

impl From<QueuedMail> for Mail {
    fn from(queued: QueuedMail) -> Self {
        Self {
            to: queued.to,
            subject: queued.subject,
            text: queued.text,
            language: queued.language,
            html: queued.html,
            unsubscribe_url: queued.unsubscribe_url,
        }
    }
}

/// Why a mail will never be sent; written to the row, so never personal data.
enum Undeliverable {
    NoPerson,
    Unreadable,
}

impl App {
    /// The outbox row of `mail` to the person `subject_id`, sealed with their `key`: to be
    /// committed with the change that causes the mail.
    pub(crate) fn queued_mail(
        &self,
        subject_id: Uuid,
        key: &SubjectKey,
        topic: &str,
        mail: &Mail,
    ) -> AppResult<OutboxRecord> {
        let json = serde_json::to_vec(&QueuedMail::from(mail)).map_err(AppError::internal)?;
        Ok(OutboxRecord {
            id: Uuid::now_v7(),
            channel: MAIL_CHANNEL.into(),
            topic: topic.into(),
            subject_id: Some(subject_id),
            payload: key.seal(MAIL_CONTEXT, &json)?,
            created_at: self.now(),
        })
    }

    pub(crate) fn wake_mail_worker(&self) {
        self.inner.mail_signal.notify_one();
    }

    /// Sends the mail of the outbox until the process ends: spawn it from `serve`. Wakes at
    /// once when this server commits a mail, and every `poll` otherwise (for mail written
    /// by another server or before a restart, and for retries).
    pub async fn mail_worker(self, poll: Duration) {
        loop {
            match self.deliver_due_mails().await {
                Ok(0) => {}
                // A full batch: there may be more right now.
                Ok(n) if n as i64 >= CLAIM_BATCH => continue,
                Ok(_) => tokio::time::sleep(MIN_ROUND_INTERVAL).await,
                Err(error) => tracing::error!(%error, "mail delivery round failed"),
            }
            tokio::select! {
                () = self.inner.mail_signal.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One round: claims the mail due, sends it, and saves what became of each in one
    /// transaction. Returns how many were claimed.
    pub async fn deliver_due_mails(&self) -> AppResult<usize> {
        let now = self.now();
        let claimed = self
            .store()
            .claim_outbox(
                MAIL_CHANNEL,
                now,
                now + chrono::Duration::seconds(LEASE_SECONDS),
                CLAIM_BATCH,
            )
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let count = claimed.len();
        let mut tasks = tokio::task::JoinSet::new();
        for message in claimed {
            let app = self.clone();
            tasks.spawn(async move {
                let id = message.record.id;
                let round = app.send_queued(message).await;
                if let Err(error) = &round {
                    // Its lease runs out and another round takes it again.
                    tracing::error!(%error, outbox_id = %id, "cannot send a mail of the outbox");
                }
                round.ok()
            });
        }
        let mut rounds = Vec::with_capacity(count);
        while let Some(joined) = tasks.join_next().await {
            if let Ok(Some(round)) = joined {
                rounds.push(round);
            }
        }
        self.store().save_delivery_rounds(&rounds).await?;
        Ok(count)
    }

    /// Sends one claimed mail; an `Err` (the store did not answer) leaves it claimed.
    async fn send_queued(&self, message: ClaimedMessage) -> AppResult<DeliveryRound> {
        let record = &message.record;
        let mail = match self.open_queued(record).await? {
            Ok(mail) => mail,
            Err(reason) => {
                let why = match reason {
                    Undeliverable::NoPerson => "the person was erased",
                    Undeliverable::Unreadable => "the mail cannot be opened",
                };
                tracing::warn!(outbox_id = %record.id, why, "a mail of the outbox is given up");
                return Ok(DeliveryRound {
                    outbox_id: record.id,
                    deliveries: Vec::new(),
                    outcome: OutboxOutcome::Done {
                        at: self.now(),
                        dead: true,
                    },
                });
            }
        };
        let outcome = match self.deliver_mail(mail).await {
            Ok(_) => OutboxOutcome::Done {
                at: self.now(),
                dead: false,
            },
            Err(error) => {
                tracing::warn!(%error, outbox_id = %record.id, "a mail of the outbox could not be sent; will retry");
                let next_attempt_at = self.now() + retry_delay(message.attempts + 1);
                let give_up_at = record.created_at + chrono::Duration::hours(RETRY_PERIOD_HOURS);
                if next_attempt_at > give_up_at {
                    OutboxOutcome::Done {
                        at: self.now(),
                        dead: true,
                    }
                } else {
                    OutboxOutcome::Retry {
                        next_attempt_at,
                        // The transport's words may quote the address: the row says less.
                        last_error: Some("the mail could not be sent".into()),
                    }
                }
            }
        };
        Ok(DeliveryRound {
            outbox_id: record.id,
            deliveries: Vec::new(),
            outcome,
        })
    }

    /// The mail of a row, opened with its person's key.
    async fn open_queued(&self, record: &OutboxRecord) -> AppResult<Result<Mail, Undeliverable>> {
        let Some(subject_id) = record.subject_id else {
            return Ok(Err(Undeliverable::Unreadable));
        };
        let Some(subject) = self.store().subject(subject_id).await? else {
            return Ok(Err(Undeliverable::NoPerson));
        };
        let opened = self
            .subject_key(&subject)
            .and_then(|key| Ok(key.open(MAIL_CONTEXT, &record.payload)?))
            .ok()
            .and_then(|json| serde_json::from_slice::<QueuedMail>(&json).ok());
        Ok(opened.map(Mail::from).ok_or(Undeliverable::Unreadable))
    }
}
