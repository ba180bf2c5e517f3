//! What an operator's Prometheus reads (`GET /metrics`, on the metrics listener only): the
//! requests per route with their latencies, the ledger's appends and the sizes of its group
//! commits, webhook deliveries, and gauges read from the store when scraped (the age of the
//! latest signed checkpoint, the webhook queue, rights requests whose deadline is near or
//! missed, whether the server is ready).
//!
//! No personal data and no id in any label: a route is its template
//! (`/api/v1/consents/{event_id}/receipt`), a method and a status class come from short
//! fixed lists, so the number of series is bounded by the routes the server has.
//!
//! One registry per [`App`] (no process-wide recorder). What the hot paths record is a few
//! atomics; what needs the store is read only when scraped.
use crate::{App, StartupTask};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use registre_domain::request::DUE_SOON_DAYS;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

/// The `Content-Type` of what [`App::render_metrics`] writes: Prometheus' text format 0.0.4.
pub const METRICS_CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// The route label of a request no route matched (unknown paths: their text is never a label).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// Latency buckets, in seconds: from the in-memory consent check to the 30 s time limit.
const LATENCY_BUCKETS: [f64; 15] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

type FloatGauge = Gauge<f64, AtomicU64>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
    method: &'static str,
}

/// A route's labels and the status class: built once per request, the histogram's key is
/// its first part.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    #[prometheus(flatten)]
    route: RouteLabels,
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeadlineLabels {
    deadline: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TaskLabels {
    task: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(LATENCY_BUCKETS)
}

/// The process's metrics. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

struct Inner {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    request_duration: Family<RouteLabels, Histogram, fn() -> Histogram>,
    ledger_appends: Counter,
    ledger_refused: Counter,
    ledger_batch_size: Histogram,
    webhook_attempts: Family<OutcomeLabels, Counter>,
    webhook_given_up: Counter,
    checkpoint_refusals: Counter,
    witness_answers: Family<OutcomeLabels, Counter>,
    ready: Gauge,
    starting: Family<TaskLabels, Gauge>,
    store_up: Gauge,
    ledger_events: FloatGauge,
    unsigned_events: FloatGauge,
    checkpoint_age: FloatGauge,
    webhook_queue: FloatGauge,
    webhook_oldest: FloatGauge,
    requests_due: Family<DeadlineLabels, FloatGauge>,
    /// One scrape at a time: the gauges are set, then the registry written.
    scrape: tokio::sync::Mutex<()>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("registre");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route template, method and status class",
            requests.clone(),
        );
        let request_duration =
            Family::<RouteLabels, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_histogram,
            );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request (until its headers), by route template and method",
            request_duration.clone(),
        );
        let ledger_appends = Counter::default();
        registry.register(
            "ledger_appends",
            "Consent events appended to the ledger by this process",
            ledger_appends.clone(),
        );
        let ledger_refused = Counter::default();
        registry.register(
            "ledger_change_sets_refused",
            "Change sets the ledger's writer refused (conflicts, errors), each rolled back alone",
            ledger_refused.clone(),
        );
        let ledger_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "ledger_batch_size",
            "Change sets per ledger transaction (group commit: one fsync for all of them)",
            ledger_batch_size.clone(),
        );
        let webhook_attempts = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_delivery_attempts",
            "Webhook delivery attempts by this process, by outcome (delivered, failed)",
            webhook_attempts.clone(),
        );
        let webhook_given_up = Counter::default();
        registry.register(
            "webhook_deliveries_given_up",
            "Webhook deliveries given up on after their retry period (dead)",
            webhook_given_up.clone(),
        );
        let checkpoint_refusals = Counter::default();
        registry.register(
            "ledger_checkpoint_refusals",
            "Heads this process refused to sign: the ledger does not extend a known checkpoint (docs/ledger.md)",
            checkpoint_refusals.clone(),
        );
        let witness_answers = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "witness_requests",
            "Checkpoints sent to cosigning witnesses, by outcome (cosigned, failed)",
            witness_answers.clone(),
        );
        let ready = Gauge::default();
        registry.register(
            "ready",
            "1 when the server is ready (GET /readyz answers 200), 0 while it starts",
            ready.clone(),
        );
        let starting = Family::<TaskLabels, Gauge>::default();
        registry.register(
            "startup_task_running",
            "1 while a start-up task runs (ledger_walk, store_warm_up)",
            starting.clone(),
        );
        let store_up = Gauge::default();
        registry.register(
            "store_up",
            "1 when the store answered this scrape's queries; 0 and the store's gauges NaN otherwise",
            store_up.clone(),
        );
        let ledger_events = FloatGauge::default();
        registry.register(
            "ledger_events",
            "Events in the ledger (its head's sequence number)",
            ledger_events.clone(),
        );
        let unsigned_events = FloatGauge::default();
        registry.register(
            "ledger_unsigned_events",
            "Ledger events after the latest signed checkpoint",
            unsigned_events.clone(),
        );
        let checkpoint_age = FloatGauge::default();
        registry.register(
            "ledger_checkpoint_age_seconds",
            "Seconds since the latest signed checkpoint (+Inf when none was ever signed)",
            checkpoint_age.clone(),
        );
        let webhook_queue = FloatGauge::default();
        registry.register(
            "webhook_queue_depth",
            "Webhook messages neither delivered nor given up on",
            webhook_queue.clone(),
        );
        let webhook_oldest = FloatGauge::default();
        registry.register(
            "webhook_queue_oldest_age_seconds",
            "Age of the oldest webhook message not yet delivered (0 when none waits)",
            webhook_oldest.clone(),
        );
        let requests_due = Family::<DeadlineLabels, FloatGauge>::default();
        registry.register(
            "rights_requests_due",
            "Open rights requests by deadline: overdue, or due within 7 days",
            requests_due.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                requests,
                request_duration,
                ledger_appends,
                ledger_refused,
                ledger_batch_size,
                webhook_attempts,
                webhook_given_up,
                checkpoint_refusals,
                witness_answers,
                ready,
                starting,
                store_up,
                ledger_events,
                unsigned_events,
                checkpoint_age,
                webhook_queue,
                webhook_oldest,
                requests_due,
                scrape: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// Counts one answered HTTP request: `route` is the template of the route that matched
    /// (`None`: no route did), `elapsed` the time until the answer's headers.
    pub fn observe_request(
        &self,
        route: Option<&str>,
        method: &str,
        status: u16,
        elapsed: Duration,
    ) {
        let labels = RequestLabels {
            route: RouteLabels {
                route: route.unwrap_or(UNMATCHED_ROUTE).to_string(),
                method: method_label(method),
            },
            status: status_class(status),
        };
        self.inner.requests.get_or_create(&labels).inc();
        self.inner
            .request_duration
            .get_or_create(&labels.route)
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one webhook delivery attempt; `given_up` when it was the last one.
    pub(crate) fn webhook_attempt(&self, delivered: bool, given_up: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.inner
            .webhook_attempts
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
        if given_up {
            self.inner.webhook_given_up.inc();
        }
    }

    /// Counts a head this process refused to sign.
    pub(crate) fn checkpoint_refused(&self) {
        self.inner.checkpoint_refusals.inc();
    }

    /// Counts a checkpoint sent to a witness.
    pub(crate) fn witness_answer(&self, cosigned: bool) {
        let outcome = if cosigned { "cosigned" } else { "failed" };
        self.inner
            .witness_answers
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    pub(crate) fn commit_observer(&self) -> Arc<dyn registre_store::CommitObserver> {
        self.inner.clone()
    }
}

impl registre_store::CommitObserver for Inner {
    fn batch_applied(&self, change_sets: usize, committed: usize, events: usize) {
        self.ledger_batch_size.observe(change_sets as f64);
        self.ledger_appends.inc_by(events as u64);
        self.ledger_refused
            .inc_by(change_sets.saturating_sub(committed) as u64);
    }
}

/// The methods the API and the pages use; any other is `other`.
fn method_label(method: &str) -> &'static str {
    match method {
        "GET" => "GET",
        "HEAD" => "HEAD",
        "POST" => "POST",
        "PUT" => "PUT",
        "PATCH" => "PATCH",
        "DELETE" => "DELETE",
        "OPTIONS" => "OPTIONS",
        _ => "other",
    }
}

fn status_class(status: u16) -> &'static str {
    match status / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    }
}

/// Seconds from `earlier` to `now`, never negative (clocks of several servers differ).
fn seconds_since(
    now: chrono::DateTime<chrono::Utc>,
    earlier: chrono::DateTime<chrono::Utc>,
) -> f64 {
    ((now - earlier).num_milliseconds() as f64 / 1000.0).max(0.0)
}

impl App {
    /// The process's metrics, for the HTTP layer to count requests.
    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    /// Reads the gauges that need the store (a few indexed counts) and writes every metric
    /// in Prometheus' text format. A store that does not answer gives `store_up 0` and NaN
    /// for its gauges, not a failed scrape: the counters are worth having then most of all.
    pub async fn render_metrics(&self) -> String {
        let metrics = &self.inner.metrics.inner;
        let _one_at_a_time = metrics.scrape.lock().await;
        let now = self.now();
        let pending = self.starting_up();
        metrics.ready.set(i64::from(pending.is_empty()));
        for task in StartupTask::ALL {
            let running = pending.iter().filter(|t| **t == task).count();
            metrics
                .starting
                .get_or_create(&TaskLabels {
                    task: task.as_str(),
                })
                .set(running as i64);
        }
        let store = self.store();
        let mut store_up = true;
        let head = match store.ledger_head().await {
            Ok((seq, _)) => Some(seq),
            Err(error) => {
                tracing::warn!(%error, "metrics: cannot read the ledger head");
                store_up = false;
                None
            }
        };
        metrics
            .ledger_events
            .set(head.map_or(f64::NAN, |seq| seq as f64));
        let (age, unsigned) = match store.latest_checkpoint().await {
            Ok(Some(checkpoint)) => (
                seconds_since(now, checkpoint.signed_at),
                head.map_or(f64::NAN, |seq| (seq - checkpoint.seq).max(0) as f64),
            ),
            Ok(None) => (f64::INFINITY, head.map_or(f64::NAN, |seq| seq as f64)),
            Err(error) => {
                tracing::warn!(%error, "metrics: cannot read the latest checkpoint");
                store_up = false;
                (f64::NAN, f64::NAN)
            }
        };
        metrics.checkpoint_age.set(age);
        metrics.unsigned_events.set(unsigned);
        let (depth, oldest) = match store.outbox_backlog(crate::webhooks::WEBHOOK_CHANNEL).await {
            Ok(backlog) => (
                backlog.pending as f64,
                backlog
                    .oldest_pending_at
                    .map_or(0.0, |at| seconds_since(now, at)),
            ),
            Err(error) => {
                tracing::warn!(%error, "metrics: cannot read the webhook queue");
                store_up = false;
                (f64::NAN, f64::NAN)
            }
        };
        metrics.webhook_queue.set(depth);
        metrics.webhook_oldest.set(oldest);
        let soon = now + chrono::Duration::days(DUE_SOON_DAYS);
        let (overdue, due_soon) = match store.open_requests_due(now, soon).await {
            Ok(due) => (due.overdue as f64, due.due_soon as f64),
            Err(error) => {
                tracing::warn!(%error, "metrics: cannot count the requests due");
                store_up = false;
                (f64::NAN, f64::NAN)
            }
        };
        metrics
            .requests_due
            .get_or_create(&DeadlineLabels {
                deadline: "overdue",
            })
            .set(overdue);
        metrics
            .requests_due
            .get_or_create(&DeadlineLabels {
                deadline: "within_7_days",
            })
            .set(due_soon);
        metrics.store_up.set(i64::from(store_up));
        let mut text = String::with_capacity(16 * 1024);
        if let Err(error) =
            prometheus_client::encoding::prometheus_text::encode(&mut text, &metrics.registry)
        {
            // Writing into a String does not fail; should it, say so rather than half a page.
            tracing::error!(%error, "metrics: cannot write the registry");
            text.clear();
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_come_from_short_fixed_lists() {
        assert_eq!(method_label("GET"), "GET");
        assert_eq!(method_label("BREW"), "other");
        assert_eq!(status_class(204), "2xx");
        assert_eq!(status_class(429), "4xx");
        assert_eq!(status_class(503), "5xx");
        assert_eq!(status_class(999), "5xx");
    }
}
