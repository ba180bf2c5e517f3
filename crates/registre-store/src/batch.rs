//! Group commit: many concurrent writers share one transaction and one fsync. Callers hand
//! their change set to a single task that drains whatever is queued, applies it all in one
//! transaction, and answers each caller only once that transaction is durable.
use crate::{ChangeSet, StoreError, StoreResult};
use registre_domain::ledger::ConsentEvent;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use tokio::sync::{mpsc, oneshot};

type Reply = oneshot::Sender<StoreResult<Vec<ConsentEvent>>>;

/// Most change sets one transaction takes: large enough to amortise the fsync, small enough
/// to keep each transaction's latency low.
pub const MAX_BATCH: usize = 512;

pub type ApplyFuture<'a> =
    Pin<Box<dyn Future<Output = Vec<StoreResult<Vec<ConsentEvent>>>> + Send + 'a>>;

/// Applies a batch in one transaction; one result per change set, in order.
pub trait BatchApplier: Send + Sync + 'static {
    fn apply(&self, batch: Vec<ChangeSet>) -> ApplyFuture<'_>;
}

/// Told of every transaction the committer applied: what the operator's metrics count
/// (ledger appends, batch sizes). Called on the committer's task, once per transaction, so
/// it must be quick and never block.
pub trait CommitObserver: Send + Sync {
    /// A transaction of `change_sets` change sets was applied: `committed` of them were kept
    /// with `events` ledger events between them, the others refused.
    fn batch_applied(&self, change_sets: usize, committed: usize, events: usize);
}

type Observer = Arc<RwLock<Option<Arc<dyn CommitObserver>>>>;

#[derive(Clone)]
pub struct GroupCommitter {
    sender: mpsc::Sender<(ChangeSet, Reply)>,
    observer: Observer,
}

impl std::fmt::Debug for GroupCommitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupCommitter").finish_non_exhaustive()
    }
}

/// Takes whatever is queued, up to [`MAX_BATCH`], applies it, answers; until every sender is
/// gone.
async fn run(
    applier: impl BatchApplier,
    mut receiver: mpsc::Receiver<(ChangeSet, Reply)>,
    observer: Observer,
) {
    while let Some(first) = receiver.recv().await {
        let mut changes = vec![first.0];
        let mut replies = vec![first.1];
        while changes.len() < MAX_BATCH {
            match receiver.try_recv() {
                Ok((change, reply)) => {
                    changes.push(change);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        let change_sets = changes.len();
        let results = applier.apply(changes).await;
        let observing = match observer.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        if let Some(observing) = observing {
            let (committed, events) = results
                .iter()
                .filter_map(|result| result.as_ref().ok())
                .fold((0, 0), |(sets, events), kept| {
                    (sets + 1, events + kept.len())
                });
            observing.batch_applied(change_sets, committed, events);
        }
        for (reply, result) in replies.into_iter().zip(results) {
            // A caller that went away no longer needs its answer; the write stands.
            let _ = reply.send(result);
        }
    }
}

impl GroupCommitter {
    pub fn start(applier: impl BatchApplier) -> Self {
        let (sender, receiver) = mpsc::channel::<(ChangeSet, Reply)>(MAX_BATCH * 8);
        let observer = Observer::default();
        tokio::spawn(run(applier, receiver, observer.clone()));
        Self { sender, observer }
    }

    /// [`Self::start`], with the loop on a thread and runtime of its own: each statement of
    /// a batch then resumes at once instead of queueing behind the request handlers on the
    /// shared workers. For stores whose driver does not tie connections to one runtime.
    pub fn start_on_own_thread(applier: impl BatchApplier) -> std::io::Result<Self> {
        let (sender, receiver) = mpsc::channel::<(ChangeSet, Reply)>(MAX_BATCH * 8);
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let observer = Observer::default();
        let observed = observer.clone();
        std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || runtime.block_on(run(applier, receiver, observed)))?;
        Ok(Self { sender, observer })
    }

    /// Tells `observer` of every transaction from now on, instead of the one told before.
    pub fn observe(&self, observer: Arc<dyn CommitObserver>) {
        match self.observer.write() {
            Ok(mut guard) => *guard = Some(observer),
            Err(poisoned) => *poisoned.into_inner() = Some(observer),
        }
    }

    pub async fn commit(&self, changes: Vec<ChangeSet>) -> Vec<StoreResult<Vec<ConsentEvent>>> {
        let mut waiting = Vec::with_capacity(changes.len());
        for change in changes {
            let (reply, answer) = oneshot::channel();
            if self.sender.send((change, reply)).await.is_err() {
                waiting.push(None);
            } else {
                waiting.push(Some(answer));
            }
        }
        let mut results = Vec::with_capacity(waiting.len());
        for answer in waiting {
            results.push(match answer {
                Some(answer) => answer
                    .await
                    .unwrap_or_else(|_| Err(StoreError::Other("the ledger writer stopped".into()))),
                None => Err(StoreError::Other("the ledger writer stopped".into())),
            });
        }
        results
    }
}
