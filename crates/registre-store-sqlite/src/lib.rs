//! The embedded store: one SQLite file in the data directory, WAL journal, foreign keys on,
//! `synchronous=FULL` so that an acknowledged write survives a power loss.
//!
//! Writes go through one connection (SQLite has one writer anyway), ledger writes through
//! the group committer; reads use a pool of their own.

mod apply;
mod batched;
mod cache;
mod checkpointer;
pub mod maintenance;
mod scan;
mod subject_index;
#[cfg(test)]
mod subject_index_tests;
mod subjects;

use registre_store::sql::{Dialect, SqlBackend, Stmt};
use registre_store::{GroupCommitter, Health, Store, StoreError, StoreResult};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::path::Path;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct SqliteStore {
    pub(crate) reader: SqlitePool,
    pub(crate) writer: SqlitePool,
    pub(crate) committer: GroupCommitter,
    pub(crate) cache: std::sync::Arc<cache::CheckCache>,
    /// The people not yet in the merged blind index (see `subject_index.rs`).
    pub(crate) index: std::sync::Arc<subject_index::SubjectIndex>,
    /// The database file, for the connections that bypass sqlx (see `scan.rs`).
    pub(crate) path: std::sync::Arc<Path>,
    /// True once the check cache's first warm-up, begun when the store was opened, ended.
    pub(crate) warmed_up: tokio::sync::watch::Receiver<bool>,
}

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(10))
        .pragma("temp_store", "memory")
        // Pages read through a memory map rather than copied in by read(2).
        .pragma("mmap_size", "1073741824")
        // The log is copied back into the file beside the writer (see `checkpointer.rs`);
        // the writer's own checkpoint is a backstop. The page cache stays at SQLite's
        // default: a 64 MiB one made every commit walk it, and cost a third of the durable
        // grants (BENCHMARKS.md).
        .pragma("wal_autocheckpoint", checkpointer::WRITER_BACKSTOP_PAGES)
        .statement_cache_capacity(256)
}

impl SqliteStore {
    pub(crate) async fn write_tx(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        begin_write(&self.writer).await
    }

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub async fn open(path: &Path) -> StoreResult<Self> {
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options(path))
            .await
            .map_err(map_err)?;
        MIGRATOR
            .run(&writer)
            .await
            .map_err(|e| StoreError::Other(format!("migrations: {e}")))?;
        let readers = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(2)
            * 2;
        let reader = SqlitePoolOptions::new()
            .max_connections(readers.max(4))
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options(path).read_only(true))
            .await
            .map_err(map_err)?;
        let cache = std::sync::Arc::new(cache::CheckCache::default());
        let index = std::sync::Arc::new(subject_index::SubjectIndex::default());
        let committer = GroupCommitter::start_on_own_thread(apply::Applier {
            writer: writer.clone(),
            cache: cache.clone(),
            index: index.clone(),
        })
        .map_err(|e| StoreError::Other(format!("cannot start the ledger writer: {e}")))?;
        index.load(&writer).await?;
        tokio::spawn(subject_index::run_merger(
            writer.clone(),
            std::sync::Arc::downgrade(&index),
        ));
        checkpointer::spawn(path, std::sync::Arc::downgrade(&cache))
            .map_err(|e| StoreError::Other(format!("cannot start the checkpointer: {e}")))?;
        tokio::spawn(watch_external_writes(
            writer.clone(),
            reader.clone(),
            std::sync::Arc::downgrade(&cache),
            std::sync::Arc::downgrade(&index),
        ));
        let (warm_up_done, warmed_up) = tokio::sync::watch::channel(false);
        let warm_up = subjects::warm_cache(reader.clone(), std::sync::Arc::downgrade(&cache));
        tokio::spawn(async move {
            warm_up.await;
            let _ = warm_up_done.send(true);
        });
        Ok(Self {
            reader,
            writer,
            committer,
            cache,
            index,
            path: path.into(),
            warmed_up,
        })
    }

    /// Opens an existing database for reading only, without migrating it: for `registre
    /// verify` and exports, which may run while a server writes. Writes through it fail.
    pub async fn open_read_only(path: &Path) -> StoreResult<Self> {
        let reader = SqlitePoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options(path).create_if_missing(false).read_only(true))
            .await
            .map_err(map_err)?;
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&reader)
                .await
                .map_err(|_| StoreError::Other("this database has no Registre schema".into()))?;
        let latest = MIGRATOR.iter().map(|m| m.version).max();
        if applied < latest {
            return Err(StoreError::Other("this database's schema is older than this binary: start `registre serve` once to migrate it".into()));
        }
        let cache = std::sync::Arc::new(cache::CheckCache::default());
        // Never loaded: look-ups read the pending rows (see `subject_index.rs`).
        let index = std::sync::Arc::new(subject_index::SubjectIndex::default());
        let committer = GroupCommitter::start(apply::Applier {
            writer: reader.clone(),
            cache: cache.clone(),
            index: index.clone(),
        });
        Ok(Self {
            reader: reader.clone(),
            writer: reader,
            committer,
            cache,
            index,
            path: path.into(),
            // Nothing to warm: it serves no checks.
            warmed_up: tokio::sync::watch::channel(true).1,
        })
    }

    /// Opens by URL-ish string as given on the command line (`sqlite://path` or a path).
    pub async fn open_url(url: &str) -> StoreResult<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        Self::open(Path::new(path)).await
    }

    /// [`Self::open_read_only`] by URL-ish string.
    pub async fn open_url_read_only(url: &str) -> StoreResult<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        Self::open_read_only(Path::new(path)).await
    }

    /// Copies a consistent snapshot of the database to `target` while it is in use.
    pub async fn snapshot_to(&self, target: &Path) -> StoreResult<()> {
        let target = target.to_string_lossy().to_string();
        sqlx::query("VACUUM INTO ?")
            .bind(target)
            .execute(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

/// Clears the check cache when another process commits to the file (see `cache.rs`).
async fn watch_external_writes(
    writer: SqlitePool,
    reader: SqlitePool,
    cache: std::sync::Weak<cache::CheckCache>,
    index: std::sync::Weak<subject_index::SubjectIndex>,
) {
    let mut last: Option<i64> = None;
    loop {
        tokio::time::sleep(cache::EXTERNAL_WRITE_POLL).await;
        let Some(cache) = cache.upgrade() else { return };
        let Ok(row) = sqlx::query_scalar::<_, i64>("PRAGMA data_version")
            .fetch_one(&writer)
            .await
        else {
            continue;
        };
        if last.is_some_and(|seen| seen != row) {
            cache.clear();
        }
        if let Some(index) = index.upgrade() {
            index.observe(row);
        }
        last = Some(row);
        if cache.take_rewarm() {
            // Fill it again in the background (after an outside write, a key rotation, a
            // rectification); what changes meanwhile is read afresh.
            tokio::spawn(subjects::warm_cache(
                reader.clone(),
                std::sync::Arc::downgrade(&cache),
            ));
        }
    }
}

impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    /// One serving process per file. An outside write (the CLI) reaches the store's cache
    /// through `PRAGMA data_version`, the application's memos within their second.
    fn sole_writer(&self) -> bool {
        true
    }
}

/// The SQLite seam of the shared SQL (`registre_store::sql`).
#[async_trait::async_trait]
impl SqlBackend for SqliteStore {
    type Db = sqlx::Sqlite;
    const DIALECT: Dialect = Dialect {
        casts: false,
        for_update: "",
        skip_locked: "",
        // Timestamps are kept as RFC 3339 text in UTC.
        utc_day: |column| format!("substr({column}, 1, 10)"),
    };
    const DUE_COLUMN: &'static str = "due_micros";

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
        begin_write(&self.writer).await
    }

    fn map_err(error: sqlx::Error) -> StoreError {
        map_err(error)
    }

    fn rows_affected(result: &sqlx::sqlite::SqliteQueryResult) -> u64 {
        result.rows_affected()
    }

    fn bind_due(stmt: Stmt<sqlx::Sqlite>, at: chrono::DateTime<chrono::Utc>) -> Stmt<sqlx::Sqlite> {
        stmt.bind(at.timestamp_micros())
    }
}

/// Appends to the audit chain in the caller's transaction.
pub(crate) async fn append_audit(
    conn: &mut sqlx::SqliteConnection,
    record: &registre_domain::audit::AuditRecord,
) -> StoreResult<registre_domain::audit::AuditEntry> {
    registre_store::sql::append_audit::<SqliteStore>(conn, record).await
}

#[async_trait::async_trait]
impl Health for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn started(&self) {
        let mut warmed_up = self.warmed_up.clone();
        // An error means the warm-up task is gone (the runtime ends): nothing to wait for.
        let _ = warmed_up.wait_for(|done| *done).await;
    }
}

/// The one place where database errors become store errors; constraint names pass through
/// so that the edge can map them to 409.
/// Begins a write transaction that takes the write lock at once (`BEGIN IMMEDIATE`).
///
/// A deferred transaction that reads first and writes later fails at once with "database is
/// locked" when another process (a `registre keys rotate`, a second CLI command) committed in
/// between: its read snapshot is stale and SQLite cannot wait that out. Taking the lock first
/// lets the busy timeout do its work instead.
pub(crate) async fn begin_write(
    pool: &SqlitePool,
) -> StoreResult<sqlx::Transaction<'static, sqlx::Sqlite>> {
    pool.begin_with("BEGIN IMMEDIATE").await.map_err(map_err)
}

pub(crate) fn map_err(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => {
            let message = db.message().to_string();
            if db.is_unique_violation() || db.is_foreign_key_violation() {
                // SQLite names columns, not constraints: "UNIQUE constraint failed: documents.kind, documents.key".
                let constraint = match message.split(": ").nth(1) {
                    Some(columns) if columns.starts_with("documents.") => {
                        "documents_pkey".to_string()
                    }
                    Some(columns) => columns.replace('.', "_").replace(", ", "_"),
                    None => message.clone(),
                };
                StoreError::Conflict { constraint }
            } else if message.contains("database is locked") || message.contains("busy") {
                StoreError::Retryable(message)
            } else {
                StoreError::Other(message)
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => StoreError::Retryable(error.to_string()),
        _ => StoreError::Other(error.to_string()),
    }
}

pub(crate) fn corrupt(what: &str) -> StoreError {
    StoreError::Corrupt(what.to_string())
}
