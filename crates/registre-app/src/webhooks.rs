//! Webhooks: subscriptions (a configuration register) and the delivery worker that empties
//! the outbox. Each message is fanned out to every subscription of its topic; each delivery
//! is retried on its own, with exponential backoff and jitter, until a 2xx or until the
//! retry period ends (then it is dead, and shown so). Delivery is at least once: receivers
//! deduplicate on the body's `id`. Payloads are sealed at rest and wiped once no delivery
//! needs them.
use crate::{App, AppError, AppResult, Principal};
use chrono::{DateTime, Utc};
use registre_domain::DomainError;
use registre_domain::role::Permission;
use registre_store::{
    ClaimedMessage, DeliveryRound, DeliveryStatus, Document, DocumentKind, OutboxOutcome,
    WebhookDelivery,
};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use uuid::Uuid;

/// The topics active subscriptions listen to, as read at `read_at`.
pub(crate) struct ListenedTopics {
    generation: u64,
    read_at: std::time::Instant,
    topics: Arc<HashSet<String>>,
}

/// The event types a subscription may ask for.
pub const WEBHOOK_TOPICS: [&str; 9] = [
    "consent.granted",
    "consent.withdrawn",
    "subject.erased",
    "subject.rectified",
    "subject.restricted",
    "subject.objected",
    "request.created",
    "request.due_soon",
    // For witnesses: every signed checkpoint of the ledger (docs/ledger.md).
    crate::checkpoints::CHECKPOINT_TOPIC,
];

/// The outbox channel of webhook messages.
pub const WEBHOOK_CHANNEL: &str = "webhook";
/// How long one attempt may take.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);
/// The first retry comes after about this long (never more than 6 s with jitter).
const FIRST_RETRY_SECONDS: f64 = 5.0;
const MAX_RETRY_SECONDS: f64 = 3600.0;
/// After this long without a 2xx, a delivery is dead.
pub const RETRY_PERIOD_HOURS: i64 = 24;
/// How long a worker holds the messages it claimed before another may take them.
const LEASE_SECONDS: i64 = 60;
/// Messages claimed per round.
const CLAIM_BATCH: i64 = 256;
/// The shortest time between two rounds that did not fill a batch: under a stream of writes
/// every commit wakes the worker, and a round per commit would put two write transactions on
/// the single writer for each event. Deliveries still leave within a fraction of a second.
const MIN_ROUND_INTERVAL: Duration = Duration::from_millis(100);
const SECRET_CONTEXT: &str = "webhooks.secret";

/// A subscription as an administrator writes it.
#[derive(Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookInput {
    /// Where deliveries are POSTed: any http(s) URL.
    pub url: String,
    /// Event types: consent.granted, consent.withdrawn, subject.erased, subject.rectified,
    /// subject.restricted, subject.objected, request.created, request.due_soon.
    pub events: Vec<String>,
    /// The HMAC key of `X-Registre-Signature`; generated (and shown once) when absent.
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub active: Option<bool>,
}

impl std::fmt::Debug for WebhookInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookInput")
            .field("url", &self.url)
            .field("events", &self.events)
            .finish_non_exhaustive()
    }
}

/// A subscription as stored: the secret sealed with the system key.
#[derive(Clone, Serialize, Deserialize)]
struct StoredWebhook {
    id: Uuid,
    url: String,
    events: Vec<String>,
    /// Hex of the sealed secret.
    secret_sealed: String,
    #[serde(default)]
    description: Option<String>,
    active: bool,
    created_at: DateTime<Utc>,
    #[serde(default)]
    deleted_at: Option<DateTime<Utc>>,
}

/// A subscription as the API shows it. The secret appears only in the answer that
/// generated it.
#[derive(Clone, Serialize, utoipa::ToSchema)]
pub struct WebhookView {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub description: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl std::fmt::Debug for WebhookView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebhookView")
            .field("id", &self.id)
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

impl From<&StoredWebhook> for WebhookView {
    fn from(w: &StoredWebhook) -> Self {
        Self {
            id: w.id,
            url: w.url.clone(),
            events: w.events.clone(),
            description: w.description.clone(),
            active: w.active,
            created_at: w.created_at,
            secret: None,
        }
    }
}

/// One delivery of one event to one subscription.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// The body's `id`: the same for every attempt, for deduplication.
    pub event_id: Uuid,
    #[serde(rename = "type")]
    pub topic: String,
    /// pending, delivered or dead.
    pub status: String,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    pub last_attempt_at: Option<DateTime<Utc>>,
    /// When the next attempt is due, while pending.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// HTTP status of the last answer.
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<WebhookDelivery> for DeliveryView {
    fn from(d: WebhookDelivery) -> Self {
        Self {
            event_id: d.event_id,
            topic: d.topic,
            status: d.status.as_str().into(),
            attempts: d.attempts,
            created_at: d.created_at,
            last_attempt_at: d.last_attempt_at,
            next_attempt_at: (d.status == DeliveryStatus::Pending).then_some(d.next_attempt_at),
            last_status: d.last_status,
            last_error: d.last_error,
            delivered_at: d.delivered_at,
        }
    }
}

fn decode(document: &Document) -> AppResult<StoredWebhook> {
    serde_json::from_value(document.body.clone()).map_err(|e| {
        AppError::Store(registre_store::StoreError::Corrupt(format!(
            "webhook {}: {e}",
            document.key
        )))
    })
}

fn validate_url(raw: &str) -> AppResult<String> {
    let url = raw.trim();
    let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
    let parsed = reqwest::Url::parse(url)
        .ok()
        .filter(|u| u.host_str().is_some_and(|h| !h.is_empty()));
    if !scheme_ok
        || parsed.is_none()
        || url.len() > 2048
        || url.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(DomainError::invalid("url", "expected an http(s) URL").into());
    }
    Ok(url.to_string())
}

fn validate_events(events: &[String]) -> AppResult<Vec<String>> {
    if events.is_empty() {
        return Err(DomainError::invalid("events", "subscribe to at least one event type").into());
    }
    let mut out: Vec<String> = Vec::new();
    for (i, event) in events.iter().enumerate() {
        let event = event.trim();
        if !WEBHOOK_TOPICS.contains(&event) {
            return Err(DomainError::invalid(
                format!("events/{i}"),
                format!(
                    "unknown event type {event:?}; expected one of {}",
                    WEBHOOK_TOPICS.join(", ")
                ),
            )
            .into());
        }
        if !out.iter().any(|e| e == event) {
            out.push(event.to_string());
        }
    }
    Ok(out)
}

/// The delay before retry number `failures` (1 for the first retry): 5 s doubling up to an
/// hour, each shortened by up to 20% at random so that retries of many messages spread out.
pub fn retry_delay(failures: i32) -> chrono::Duration {
    use rand::Rng;
    let exponent = failures.clamp(1, 30) - 1;
    let base = (FIRST_RETRY_SECONDS * 2f64.powi(exponent)).min(MAX_RETRY_SECONDS);
    let jittered = base * rand::thread_rng().gen_range(0.8..=1.0);
    chrono::Duration::milliseconds((jittered * 1000.0) as i64)
}

/// What one attempt gave.
struct Attempt {
    status: Option<u16>,
    error: Option<String>,
}

impl App {
    // ---- subscriptions ----

    /// The topics some active subscription listens to. Kept, when this server makes every
    /// change to the subscriptions (SQLite), until one changes here or for the catalogue's
    /// second at most; read afresh for every message when several servers share the
    /// database, so that a subscription made on one counts on all from the answer that
    /// created it.
    pub(crate) async fn listened_topics(&self) -> AppResult<Arc<HashSet<String>>> {
        if !self.store().sole_writer() {
            return Ok(Arc::new(Self::topics_of(self.stored_webhooks().await?)));
        }
        // Read before the subscriptions: a change made while they are read bumps it and
        // what was read is not kept.
        let generation = self.inner.webhooks_generation.load(Ordering::Acquire);
        if let Ok(kept) = self.inner.listened_topics.read()
            && let Some(kept) = kept.as_ref()
            && kept.generation == generation
            && kept.read_at.elapsed() < crate::catalogue::CATALOGUE_TTL
        {
            return Ok(kept.topics.clone());
        }
        let topics = Arc::new(Self::topics_of(self.stored_webhooks().await?));
        if let Ok(mut kept) = self.inner.listened_topics.write() {
            *kept = Some(ListenedTopics {
                generation,
                read_at: std::time::Instant::now(),
                topics: topics.clone(),
            });
        }
        Ok(topics)
    }

    fn topics_of(webhooks: Vec<StoredWebhook>) -> HashSet<String> {
        webhooks
            .into_iter()
            .filter(|w| w.active)
            .flat_map(|w| w.events)
            .collect()
    }

    /// What [`Self::listened_topics`] read is stale: a subscription changed here.
    fn forget_listened_topics(&self) {
        self.inner
            .webhooks_generation
            .fetch_add(1, Ordering::AcqRel);
    }

    async fn stored_webhooks(&self) -> AppResult<Vec<StoredWebhook>> {
        let documents = self.store().documents(DocumentKind::Webhook).await?;
        Ok(documents
            .iter()
            .map(decode)
            .collect::<AppResult<Vec<_>>>()?
            .into_iter()
            .filter(|w| w.deleted_at.is_none())
            .collect())
    }

    async fn stored_webhook(&self, id: Uuid) -> AppResult<(Document, StoredWebhook)> {
        let document = self
            .store()
            .document(DocumentKind::Webhook, &id.to_string())
            .await?
            .ok_or_else(|| AppError::not_found("webhook"))?;
        let webhook = decode(&document)?;
        if webhook.deleted_at.is_some() {
            return Err(AppError::not_found("webhook"));
        }
        Ok((document, webhook))
    }

    pub async fn webhooks(&self, by: &Principal) -> AppResult<Vec<WebhookView>> {
        by.require(Permission::Read)?;
        Ok(self
            .stored_webhooks()
            .await?
            .iter()
            .map(WebhookView::from)
            .collect())
    }

    pub async fn webhook(&self, by: &Principal, id: Uuid) -> AppResult<WebhookView> {
        by.require(Permission::Read)?;
        Ok(WebhookView::from(&self.stored_webhook(id).await?.1))
    }

    /// Subscribes `url` to `events`. The secret is sealed at rest and never shown again;
    /// when none is given one is generated and returned in this answer only.
    pub async fn create_webhook(
        &self,
        by: &Principal,
        input: WebhookInput,
    ) -> AppResult<WebhookView> {
        by.require(Permission::ManageRegisters)?;
        let url = validate_url(&input.url)?;
        let events = validate_events(&input.events)?;
        let (secret, generated) = match input.secret.as_deref() {
            Some(secret)
                if secret.is_empty()
                    || secret.len() > 512
                    || secret.chars().any(char::is_control) =>
            {
                return Err(DomainError::invalid("secret", "1 to 512 printable characters").into());
            }
            Some(secret) => (secret.to_string(), false),
            None => (format!("whsec_{}", registre_crypto::random_token(32)), true),
        };
        let description = match input.description.as_deref().map(str::trim) {
            Some(d) if d.chars().count() > 500 || d.chars().any(char::is_control) => {
                return Err(DomainError::invalid(
                    "description",
                    "at most 500 printable characters",
                )
                .into());
            }
            Some("") | None => None,
            Some(d) => Some(d.to_string()),
        };
        let now = self.now();
        let sealed = self
            .keyring()
            .system_key()
            .seal(SECRET_CONTEXT, secret.as_bytes())?;
        let webhook = StoredWebhook {
            id: Uuid::now_v7(),
            url,
            events,
            secret_sealed: hex::encode(sealed),
            description,
            active: input.active.unwrap_or(true),
            created_at: now,
            deleted_at: None,
        };
        let body = serde_json::to_value(&webhook).map_err(AppError::internal)?;
        let document = Document {
            kind: DocumentKind::Webhook,
            key: webhook.id.to_string(),
            body,
            created_at: now,
            updated_at: now,
        };
        let audit = self.audit_record(
            by,
            "webhook.created",
            format!("webhook:{}", webhook.id),
            serde_json::json!({"events": webhook.events}),
        );
        let inserted = self.store().insert_document(&document, &audit).await;
        self.forget_listened_topics();
        inserted?;
        let mut view = WebhookView::from(&webhook);
        if generated {
            view.secret = Some(secret);
        }
        Ok(view)
    }

    /// Ends a subscription: nothing more is delivered to it; its delivery history stays.
    pub async fn delete_webhook(&self, by: &Principal, id: Uuid) -> AppResult<()> {
        by.require(Permission::ManageRegisters)?;
        let (mut document, mut webhook) = self.stored_webhook(id).await?;
        let now = self.now();
        webhook.deleted_at = Some(now);
        webhook.active = false;
        document.body = serde_json::to_value(&webhook).map_err(AppError::internal)?;
        document.updated_at = now;
        let audit = self.audit_record(
            by,
            "webhook.deleted",
            format!("webhook:{id}"),
            serde_json::json!({}),
        );
        let updated = self.store().update_document(&document, &audit).await;
        self.forget_listened_topics();
        updated?;
        Ok(())
    }

    /// A subscription's recent deliveries, newest first.
    pub async fn webhook_deliveries(
        &self,
        by: &Principal,
        id: Uuid,
        limit: i64,
    ) -> AppResult<Vec<DeliveryView>> {
        by.require(Permission::Read)?;
        let document = self
            .store()
            .document(DocumentKind::Webhook, &id.to_string())
            .await?;
        if document.is_none() {
            return Err(AppError::not_found("webhook"));
        }
        let deliveries = self
            .store()
            .subscription_deliveries(id, limit.clamp(1, 1000))
            .await?;
        Ok(deliveries.into_iter().map(DeliveryView::from).collect())
    }

    // ---- delivery ----

    pub(crate) fn wake_outbox(&self) {
        self.inner.outbox_signal.notify_one();
    }

    /// Delivers due webhook messages until the process ends: spawn it from `serve`. Wakes
    /// at once when this server commits a message, and every `poll` otherwise (for messages
    /// written by another server, and for retries).
    pub async fn webhook_worker(self, poll: Duration) {
        let client = match reqwest::Client::builder()
            .timeout(DELIVERY_TIMEOUT)
            .connect_timeout(DELIVERY_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("Registre-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "cannot build the webhook HTTP client; webhooks are not delivered");
                return;
            }
        };
        loop {
            match self.deliver_due_webhooks(&client).await {
                Ok(0) => {}
                // A full batch: there may be more right now.
                Ok(n) if n as i64 >= CLAIM_BATCH => continue,
                Ok(_) => tokio::time::sleep(MIN_ROUND_INTERVAL).await,
                Err(error) => tracing::error!(%error, "webhook delivery round failed"),
            }
            tokio::select! {
                () = self.inner.outbox_signal.notified() => {}
                () = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// One round: claims due messages, attempts each of their due deliveries, and saves what
    /// became of them all in one transaction. Returns how many messages were claimed.
    pub async fn deliver_due_webhooks(&self, client: &reqwest::Client) -> AppResult<usize> {
        let now = self.now();
        let claimed = self
            .store()
            .claim_outbox(
                WEBHOOK_CHANNEL,
                now,
                now + chrono::Duration::seconds(LEASE_SECONDS),
                CLAIM_BATCH,
            )
            .await?;
        if claimed.is_empty() {
            return Ok(0);
        }
        let count = claimed.len();
        let subscriptions = std::sync::Arc::new(self.stored_webhooks().await?);
        let mut tasks = tokio::task::JoinSet::new();
        for message in claimed {
            let app = self.clone();
            let client = client.clone();
            let subscriptions = subscriptions.clone();
            tasks.spawn(async move {
                let id = message.record.id;
                let round = app.deliver_message(&client, &subscriptions, message).await;
                if let Err(error) = &round {
                    // Its lease runs out and another round takes it again.
                    tracing::error!(%error, outbox_id = %id, "cannot deliver a webhook message");
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

    async fn deliver_message(
        &self,
        client: &reqwest::Client,
        subscriptions: &[StoredWebhook],
        message: ClaimedMessage,
    ) -> AppResult<DeliveryRound> {
        let now = self.now();
        let record = &message.record;
        // A payload that cannot be opened can never be delivered: its deliveries die at once
        // rather than being retried for a day.
        let payload = if record.payload.is_empty() {
            None
        } else {
            match self.open_outbox_payload(&record.payload) {
                Ok(payload) => Some(payload),
                Err(error) => {
                    tracing::error!(%error, outbox_id = %record.id, "a webhook payload cannot be opened");
                    None
                }
            }
        };
        let event_id = payload
            .as_ref()
            .and_then(|p| p.get("id"))
            .and_then(|id| id.as_str())
            .and_then(|id| Uuid::parse_str(id).ok())
            .unwrap_or(record.id);
        // Deliveries are saved with the round that made them, which counts as an attempt.
        let mut deliveries = if message.attempts == 0 {
            Vec::new()
        } else {
            self.store().message_deliveries(record.id).await?
        };
        if deliveries.is_empty() {
            // First round: one delivery per subscription to this topic.
            deliveries = subscriptions
                .iter()
                .filter(|s| s.active && s.events.iter().any(|e| e == &record.topic))
                .map(|s| WebhookDelivery {
                    outbox_id: record.id,
                    subscription_id: s.id,
                    event_id,
                    topic: record.topic.clone(),
                    status: DeliveryStatus::Pending,
                    attempts: 0,
                    created_at: record.created_at,
                    next_attempt_at: now,
                    last_attempt_at: None,
                    last_status: None,
                    last_error: None,
                    delivered_at: None,
                })
                .collect();
        }
        let body = match &payload {
            Some(payload) => serde_json::to_vec(payload).map_err(AppError::internal)?,
            None => Vec::new(),
        };
        let give_up_at = record.created_at + chrono::Duration::hours(RETRY_PERIOD_HOURS);
        let mut attempts = tokio::task::JoinSet::new();
        for (index, delivery) in deliveries.iter().enumerate() {
            if delivery.status != DeliveryStatus::Pending || delivery.next_attempt_at > now {
                continue;
            }
            let subscription = subscriptions
                .iter()
                .find(|s| s.id == delivery.subscription_id && s.active)
                .cloned();
            let secret = subscription.as_ref().map(|s| self.open_secret(s));
            let client = client.clone();
            let body = body.clone();
            let topic = record.topic.clone();
            attempts.spawn(async move {
                let attempt = match (subscription, secret) {
                    (None, _) => Attempt {
                        status: None,
                        error: Some("the subscription was deleted or deactivated".into()),
                    },
                    (_, Some(Err(_))) => Attempt {
                        status: None,
                        error: Some("the subscription's secret cannot be read".into()),
                    },
                    _ if body.is_empty() => Attempt {
                        status: None,
                        error: Some("the message has no payload".into()),
                    },
                    (Some(subscription), Some(Ok(secret))) => {
                        post(&client, &subscription.url, &secret, &topic, event_id, body).await
                    }
                    (Some(_), None) => Attempt {
                        status: None,
                        error: Some("the subscription's secret cannot be read".into()),
                    },
                };
                (index, attempt)
            });
        }
        while let Some(joined) = attempts.join_next().await {
            let Ok((index, attempt)) = joined else {
                continue;
            };
            let Some(delivery) = deliveries.get_mut(index) else {
                continue;
            };
            let at = self.now();
            delivery.attempts += 1;
            delivery.last_attempt_at = Some(at);
            delivery.last_status = attempt.status.map(i32::from);
            if attempt.error.is_none() && attempt.status.is_some_and(|s| (200..300).contains(&s)) {
                delivery.status = DeliveryStatus::Delivered;
                delivery.delivered_at = Some(at);
                delivery.last_error = None;
                self.metrics().webhook_attempt(true, false);
                continue;
            }
            delivery.last_error = Some(
                attempt
                    .error
                    .unwrap_or_else(|| format!("HTTP {}", attempt.status.unwrap_or(0))),
            );
            let gone = delivery
                .last_error
                .as_deref()
                .is_some_and(|e| e.starts_with("the subscription") || e.starts_with("the message"));
            let next = at + retry_delay(delivery.attempts);
            let given_up = gone || next > give_up_at;
            if given_up {
                delivery.status = DeliveryStatus::Dead;
            } else {
                delivery.next_attempt_at = next;
            }
            self.metrics().webhook_attempt(false, given_up);
        }
        let pending: Vec<&WebhookDelivery> = deliveries
            .iter()
            .filter(|d| d.status == DeliveryStatus::Pending)
            .collect();
        let outcome = match pending.iter().map(|d| d.next_attempt_at).min() {
            Some(next_attempt_at) => OutboxOutcome::Retry {
                next_attempt_at,
                last_error: pending.iter().find_map(|d| d.last_error.clone()),
            },
            None => OutboxOutcome::Done {
                at: self.now(),
                dead: deliveries.iter().any(|d| d.status == DeliveryStatus::Dead),
            },
        };
        Ok(DeliveryRound {
            outbox_id: record.id,
            deliveries,
            outcome,
        })
    }

    fn open_secret(&self, webhook: &StoredWebhook) -> AppResult<Vec<u8>> {
        let sealed =
            hex::decode(&webhook.secret_sealed).map_err(|_| registre_crypto::CryptoError::Open)?;
        Ok(self.keyring().system_key().open(SECRET_CONTEXT, &sealed)?)
    }
}

/// POSTs `body` signed with `secret`. Errors are described without the body or the answer:
/// neither may reach a log or the database.
async fn post(
    client: &reqwest::Client,
    url: &str,
    secret: &[u8],
    topic: &str,
    event_id: Uuid,
    body: Vec<u8>,
) -> Attempt {
    let signature = format!("sha256={}", registre_crypto::hmac_sha256_hex(secret, &body));
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("X-Registre-Signature", signature)
        .header("X-Registre-Event", topic)
        .header("X-Registre-Delivery", event_id.to_string())
        .body(body)
        .send()
        .await;
    match response {
        Ok(response) => {
            let status = response.status().as_u16();
            Attempt {
                status: Some(status),
                error: (!response.status().is_success()).then(|| format!("HTTP {status}")),
            }
        }
        Err(error) if error.is_timeout() => Attempt {
            status: None,
            error: Some("timed out".into()),
        },
        Err(error) if error.is_connect() => Attempt {
            status: None,
            error: Some("cannot connect".into()),
        },
        Err(_) => Attempt {
            status: None,
            error: Some("the request failed".into()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_retry_comes_within_ten_seconds_and_later_ones_back_off_to_an_hour() {
        for _ in 0..100 {
            let first = retry_delay(1).num_milliseconds();
            assert!((4000..=5000).contains(&first), "{first}");
        }
        assert!(retry_delay(2).num_seconds() >= 8);
        assert!(retry_delay(40).num_seconds() <= 3600);
        assert!(retry_delay(40).num_seconds() >= 2880);
    }
}
