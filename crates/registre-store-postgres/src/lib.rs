//! The PostgreSQL store, for organisations that outgrow one machine: several `registre
//! serve` processes may share one database. Commits wait for the WAL flush
//! (`synchronous_commit=on`); the chain heads are row-locked so appends from every server
//! form one chain.

mod apply;
pub mod maintenance;
mod subjects;

use registre_store::sql::{Dialect, SqlBackend, Stmt};
use registre_store::{GroupCommitter, Health, Store, StoreError, StoreResult};
use sqlx::ConnectOptions;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// Whether the store may run on a database whose settings let a crash lose acknowledged
/// commits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `fsync`, `synchronous_commit` and `full_page_writes` must be on; every commit waits
    /// for the WAL flush whatever the database's default.
    Required,
    /// The operator said durability is not wanted: the database's settings are used as
    /// they are.
    NotRequired,
}

/// The settings durability relies on that are off, as `name = value`, read on one session
/// opened with `options` (the role's and the database's defaults, before ours).
async fn durability_problems(options: &PgConnectOptions) -> StoreResult<Vec<String>> {
    use sqlx::Connection;
    let mut connection = options.connect().await.map_err(map_err)?;
    let settings: (String, String, String) = sqlx::query_as(
        "SELECT current_setting('fsync'), current_setting('synchronous_commit'), \
         current_setting('full_page_writes')",
    )
    .fetch_one(&mut connection)
    .await
    .map_err(map_err)?;
    let _ = connection.close().await;
    Ok(settings_problems(&settings.0, &settings.1, &settings.2))
}

/// `synchronous_commit` other than `off` (`on`, `local`, `remote_write`, `remote_apply`)
/// flushes the local WAL before a commit returns.
fn settings_problems(fsync: &str, synchronous_commit: &str, full_page_writes: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if fsync != "on" {
        problems.push(format!("fsync = {fsync}"));
    }
    if synchronous_commit == "off" {
        problems.push(format!("synchronous_commit = {synchronous_commit}"));
    }
    if full_page_writes != "on" {
        problems.push(format!("full_page_writes = {full_page_writes}"));
    }
    problems
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

#[derive(Clone, Debug)]
pub struct PostgresStore {
    pub(crate) reader: PgPool,
    pub(crate) writer: PgPool,
    pub(crate) committer: GroupCommitter,
}

impl PostgresStore {
    /// Connects to `url` (`postgres://...`) and applies pending migrations. Migrations take
    /// an advisory lock, so servers starting together apply them once.
    /// Refuses a database whose settings let a crash lose acknowledged commits
    /// ([`Durability::Required`]).
    pub async fn connect(url: &str) -> StoreResult<Self> {
        Self::connect_with(url, Durability::Required).await
    }

    /// Connects as [`PostgresStore::connect`] does, first reading the settings durability
    /// relies on (`fsync`, `synchronous_commit`, `full_page_writes`) as a session of this
    /// role on this database gets them: with one off, [`Durability::Required`] refuses, and
    /// [`Durability::NotRequired`] warns and runs on the database as it is configured.
    pub async fn connect_with(url: &str, durability: Durability) -> StoreResult<Self> {
        let base = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("bad database URL: {e}")))?
            .log_statements(tracing::log::LevelFilter::Trace)
            .application_name("registre");
        let problems = durability_problems(&base).await?;
        let options = match durability {
            Durability::Required if !problems.is_empty() => {
                return Err(StoreError::Other(format!(
                    "PostgreSQL is set up so that a crash or a power loss can lose writes it acknowledged: {list}. \
                     Turn them on (postgresql.conf or ALTER SYSTEM / ALTER DATABASE ... RESET), or start with \
                     --allow-non-durable-database (REGISTRE_ALLOW_NON_DURABLE=1) if durability is not wanted / \
                     PostgreSQL est configuré de sorte qu'un arrêt brutal ou une coupure de courant peut perdre \
                     des écritures confirmées : {list}. Activez ces réglages, ou démarrez avec \
                     --allow-non-durable-database (REGISTRE_ALLOW_NON_DURABLE=1) si la durabilité n'est pas voulue",
                    list = problems.join(", ")
                )));
            }
            Durability::Required => base.options([("synchronous_commit", "on")]),
            Durability::NotRequired => {
                if !problems.is_empty() {
                    tracing::warn!(
                        settings = %problems.join(", "),
                        "running on a PostgreSQL database that can lose acknowledged writes in a crash, as allowed by --allow-non-durable-database"
                    );
                }
                base
            }
        };
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("migrations: {e}")))?;
        let committer = GroupCommitter::start(apply::Applier {
            writer: pool.clone(),
        });
        Ok(Self {
            reader: pool.clone(),
            writer: pool,
            committer,
        })
    }

    /// Connects for reading only (every transaction read-only), without migrating: for
    /// `registre verify` and exports, which may run while servers write.
    pub async fn connect_read_only(url: &str) -> StoreResult<Self> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("bad database URL: {e}")))?
            .options([("default_transaction_read_only", "on")])
            .log_statements(tracing::log::LevelFilter::Trace)
            .application_name("registre-verify");
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        let applied: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&pool)
                .await
                .map_err(|_| StoreError::Other("this database has no Registre schema".into()))?;
        let latest = MIGRATOR.iter().map(|m| m.version).max();
        if applied < latest {
            return Err(StoreError::Other("this database's schema is older than this binary: start `registre serve` once to migrate it".into()));
        }
        let committer = GroupCommitter::start(apply::Applier {
            writer: pool.clone(),
        });
        Ok(Self {
            reader: pool.clone(),
            writer: pool,
            committer,
        })
    }
}

impl Store for PostgresStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn sole_writer(&self) -> bool {
        false
    }
}

/// The PostgreSQL seam of the shared SQL (`registre_store::sql`).
#[async_trait::async_trait]
impl SqlBackend for PostgresStore {
    type Db = sqlx::Postgres;
    const DIALECT: Dialect = Dialect {
        casts: true,
        for_update: " FOR UPDATE",
        skip_locked: " FOR UPDATE SKIP LOCKED",
        utc_day: |column| format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"),
    };
    const DUE_COLUMN: &'static str = "due_at";

    fn reader(&self) -> &PgPool {
        &self.reader
    }

    fn writer(&self) -> &PgPool {
        &self.writer
    }

    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, sqlx::Postgres>> {
        self.writer.begin().await.map_err(map_err)
    }

    fn map_err(error: sqlx::Error) -> StoreError {
        map_err(error)
    }

    fn rows_affected(result: &sqlx::postgres::PgQueryResult) -> u64 {
        result.rows_affected()
    }

    fn bind_due(
        stmt: Stmt<sqlx::Postgres>,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Stmt<sqlx::Postgres> {
        stmt.bind(at)
    }
}

/// Appends to the audit chain in the caller's transaction.
pub(crate) async fn append_audit(
    conn: &mut sqlx::PgConnection,
    record: &registre_domain::audit::AuditRecord,
) -> StoreResult<registre_domain::audit::AuditEntry> {
    registre_store::sql::append_audit::<PostgresStore>(conn, record).await
}

#[async_trait::async_trait]
impl Health for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1")
            .execute(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(())
    }
}

/// The one place where database errors become store errors.
pub(crate) fn map_err(error: sqlx::Error) -> StoreError {
    match &error {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.to_string()).unwrap_or_default();
            if db.is_unique_violation() || db.is_foreign_key_violation() {
                StoreError::Conflict {
                    constraint: db.constraint().unwrap_or("unknown").to_string(),
                }
            } else if matches!(code.as_str(), "40001" | "40P01" | "55P03" | "57P03") {
                StoreError::Retryable(db.message().to_string())
            } else {
                StoreError::Other(db.message().to_string())
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) => StoreError::Retryable(error.to_string()),
        _ => StoreError::Other(error.to_string()),
    }
}
