//! Online snapshots (`VACUUM INTO`, a consistent copy taken in one read transaction while the
//! server writes) and the wrapped keys for master key rotation.
use crate::{SqliteStore, map_err, options};
use async_trait::async_trait;
use registre_store::{
    MaintenanceStore, Rewrap, SnapshotInfo, SnapshotSink, StoreError, StoreResult, WrappedKeyRow,
};
use sqlx::Row;
use sqlx::sqlite::SqlitePoolOptions;
use std::io::Read;
use std::path::Path;
use uuid::Uuid;

/// The archive part that holds the SQLite database file.
pub const SNAPSHOT_PART: &str = "database/registre.sqlite";

fn io(error: std::io::Error) -> StoreError {
    StoreError::Other(format!("snapshot: {error}"))
}

/// Reads what a database file holds: ledger head, subjects, migrations.
pub async fn describe(path: &Path) -> StoreResult<SnapshotInfo> {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(
            options(path)
                .create_if_missing(false)
                .read_only(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Delete),
        )
        .await
        .map_err(map_err)?;
    let head = sqlx::query("SELECT seq, hash FROM chain_heads WHERE chain = 'ledger'")
        .fetch_one(&pool)
        .await
        .map_err(map_err)?;
    let subjects: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subjects")
        .fetch_one(&pool)
        .await
        .map_err(map_err)?;
    let migrations: Vec<i64> =
        sqlx::query_scalar("SELECT version FROM _sqlx_migrations WHERE success ORDER BY version")
            .fetch_all(&pool)
            .await
            .map_err(map_err)?;
    pool.close().await;
    Ok(SnapshotInfo {
        backend: "sqlite".into(),
        ledger_length: head.get(0),
        ledger_head: head.get(1),
        subjects,
        migrations,
    })
}

#[async_trait]
impl MaintenanceStore for SqliteStore {
    async fn snapshot(
        &self,
        scratch: &Path,
        sink: &mut dyn SnapshotSink,
    ) -> StoreResult<SnapshotInfo> {
        let copy = scratch.join("registre-snapshot.db");
        let _ = std::fs::remove_file(&copy);
        sqlx::query("VACUUM INTO ?")
            .bind(copy.to_string_lossy().to_string())
            .execute(&self.reader)
            .await
            .map_err(map_err)?;
        let info = describe(&copy).await?;
        let mut file = std::fs::File::open(&copy).map_err(io)?;
        sink.begin(SNAPSHOT_PART).map_err(io)?;
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            let read = file.read(&mut buffer).map_err(io)?;
            if read == 0 {
                break;
            }
            sink.write(&buffer[..read]).map_err(io)?;
        }
        sink.end().map_err(io)?;
        drop(file);
        std::fs::remove_file(&copy).map_err(io)?;
        Ok(info)
    }

    async fn wrapped_keys(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<WrappedKeyRow>> {
        let rows = sqlx::query(
            "SELECT id, wrapped_key FROM subjects WHERE $1 IS NULL OR id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(|row| WrappedKeyRow {
                subject_id: row.get("id"),
                wrapped_key: row.get("wrapped_key"),
            })
            .collect())
    }

    async fn rewrap_keys(&self, rewraps: &[Rewrap]) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let mut changed = 0;
        for rewrap in rewraps {
            changed += sqlx::query(
                "UPDATE subjects SET wrapped_key = $1 WHERE id = $2 AND wrapped_key = $3",
            )
            .bind(&rewrap.new)
            .bind(rewrap.subject_id)
            .bind(&rewrap.old)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?
            .rows_affected();
        }
        tx.commit().await.map_err(map_err)?;
        self.cache.clear();
        Ok(changed)
    }
}
