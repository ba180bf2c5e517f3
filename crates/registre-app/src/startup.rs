//! Readiness: what a server that already answers still does once at start before it takes
//! its full load (`GET /readyz` answers 503 meanwhile). Before the app exists at all, while
//! the store opens and migrates, the HTTP layer answers 503 on its own.
use crate::App;
use std::sync::{Arc, Mutex};

/// A piece of start-up work a server is not ready before.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StartupTask {
    /// The ledger walked from the last checkpoint (from its first event when none was
    /// signed) and its head signed: a server never serves receipts on an unchecked chain for
    /// long, and this is the walk that takes time on a large ledger.
    LedgerWalk,
    /// The store's own start-up work (SQLite: the check cache's warm-up), after which checks
    /// answer at their usual pace.
    StoreWarmUp,
}

impl StartupTask {
    pub const ALL: [Self; 2] = [Self::LedgerWalk, Self::StoreWarmUp];

    /// The task's name in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LedgerWalk => "ledger_walk",
            Self::StoreWarmUp => "store_warm_up",
        }
    }

    /// What it does, for `/readyz`'s message and the logs.
    pub fn describe(self) -> &'static str {
        match self {
            Self::LedgerWalk => "walking the ledger to sign its head",
            Self::StoreWarmUp => "warming the store's cache",
        }
    }
}

/// The start-up tasks still running.
#[derive(Debug, Default)]
pub(crate) struct Startup {
    running: Mutex<Vec<StartupTask>>,
}

impl Startup {
    fn with<T>(&self, f: impl FnOnce(&mut Vec<StartupTask>) -> T) -> T {
        match self.running.lock() {
            Ok(mut running) => f(&mut running),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }
}

/// A start-up task running: the server is not ready until it is dropped (done, failed or
/// abandoned alike: readiness never waits for ever on a task that ended).
#[must_use = "the task counts as running until this is dropped"]
#[derive(Debug)]
pub struct StartupGuard {
    startup: Arc<Startup>,
    task: StartupTask,
}

impl Drop for StartupGuard {
    fn drop(&mut self) {
        let task = self.task;
        self.startup.with(|running| {
            if let Some(index) = running.iter().position(|t| *t == task) {
                running.remove(index);
            }
        });
    }
}

/// The start-up work of `registre serve`, counted as running from [`App::begin_start_up`]
/// on: give it to [`App::finish_start_up`].
#[must_use = "the server is not ready until the start-up is finished"]
#[derive(Debug)]
pub struct StartUp {
    ledger_walk: StartupGuard,
    store_warm_up: StartupGuard,
}

impl App {
    /// Counts `task` as running until the guard is dropped.
    pub fn starting(&self, task: StartupTask) -> StartupGuard {
        self.inner.startup.with(|running| running.push(task));
        StartupGuard {
            startup: self.inner.startup.clone(),
            task,
        }
    }

    /// The start-up tasks still running; none when the server is ready.
    pub fn starting_up(&self) -> Vec<StartupTask> {
        self.inner.startup.with(|running| running.clone())
    }

    /// Counts the start-up work as running from now on, so that a server that answers
    /// before doing it says it is not ready.
    pub fn begin_start_up(&self) -> StartUp {
        StartUp {
            ledger_walk: self.starting(StartupTask::LedgerWalk),
            store_warm_up: self.starting(StartupTask::StoreWarmUp),
        }
    }

    /// Does the start-up work, side by side: signs the ledger's head once the chain since the
    /// last checkpoint is walked (a ledger that does not verify is logged and signs nothing,
    /// as the periodic signer does), and waits for the store's warm-up. Each task counts as
    /// done when it ends.
    pub async fn finish_start_up(&self, start_up: StartUp) {
        let StartUp {
            ledger_walk,
            store_warm_up,
        } = start_up;
        let walk = async {
            let started = std::time::Instant::now();
            match self.checkpoint_if_moved().await {
                Ok(Some(checkpoint)) => tracing::info!(
                    seq = checkpoint.seq,
                    seconds = started.elapsed().as_secs_f64(),
                    "walked the ledger and signed its head"
                ),
                Ok(None) => {}
                Err(error) => {
                    tracing::error!(%error, "cannot sign a ledger checkpoint at start")
                }
            }
            drop(ledger_walk);
        };
        let warm_up = async {
            self.store().started().await;
            drop(store_warm_up);
        };
        tokio::join!(walk, warm_up);
    }
}
