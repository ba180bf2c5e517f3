//! Online snapshots taken by Registre itself: every table copied (`COPY ... TO STDOUT`) inside
//! one `REPEATABLE READ READ ONLY` transaction, so the copy is one consistent instant of the
//! database while servers keep writing; and the restore of such a snapshot into an empty
//! database. Also the wrapped keys for master key rotation.
use crate::{MIGRATOR, PostgresStore, map_err};
use async_trait::async_trait;
use futures_util::StreamExt;
use registre_store::{
    MaintenanceStore, Rewrap, SnapshotInfo, SnapshotSink, SnapshotSource, StoreError, StoreResult,
    WrappedKeyRow,
};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, Row};
use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::str::FromStr;
use uuid::Uuid;

/// The part describing the tables, first in a PostgreSQL snapshot.
pub const SCHEMA_PART: &str = "database/postgres/schema.json";
const TABLE_PART_PREFIX: &str = "database/postgres/table/";

#[derive(Debug, Serialize, Deserialize)]
struct SnapshotSchema {
    info: SnapshotInfo,
    /// Parents before children (foreign keys), in the order their parts follow.
    tables: Vec<TableSchema>,
}

#[derive(Debug, Serialize, Deserialize)]
struct TableSchema {
    name: String,
    columns: Vec<String>,
}

fn io(error: std::io::Error) -> StoreError {
    StoreError::Other(format!("snapshot: {error}"))
}

fn quote(identifier: &str) -> String {
    format!("\"{}\"", identifier.replace('"', "\"\""))
}

/// Tables ordered so that every table comes after the tables it references.
fn parents_first(tables: Vec<String>, references: &[(String, String)]) -> StoreResult<Vec<String>> {
    let mut pending: BTreeMap<String, BTreeSet<String>> = tables
        .iter()
        .map(|t| (t.clone(), BTreeSet::new()))
        .collect();
    for (child, parent) in references {
        if child != parent
            && pending.contains_key(parent)
            && let Some(parents) = pending.get_mut(child)
        {
            parents.insert(parent.clone());
        }
    }
    let mut ordered = Vec::with_capacity(tables.len());
    while !pending.is_empty() {
        let ready: Vec<String> = pending
            .iter()
            .filter(|(_, parents)| parents.is_empty())
            .map(|(t, _)| t.clone())
            .collect();
        if ready.is_empty() {
            return Err(StoreError::Other(
                "snapshot: the tables' foreign keys form a cycle".into(),
            ));
        }
        for table in ready {
            pending.remove(&table);
            for parents in pending.values_mut() {
                parents.remove(&table);
            }
            ordered.push(table);
        }
    }
    Ok(ordered)
}

#[async_trait]
impl MaintenanceStore for PostgresStore {
    async fn snapshot(
        &self,
        _scratch: &Path,
        sink: &mut dyn SnapshotSink,
    ) -> StoreResult<SnapshotInfo> {
        let mut conn = self.reader.acquire().await.map_err(map_err)?;
        sqlx::raw_sql("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        // The first statement fixes the snapshot: everything committed before it is in.
        let head = sqlx::query("SELECT seq, hash FROM chain_heads WHERE chain = 'ledger'")
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
        let subjects: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM subjects")
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
        let migrations: Vec<i64> = sqlx::query_scalar(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
               AND table_name <> '_sqlx_migrations' ORDER BY table_name",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?;
        let references: Vec<(String, String)> = sqlx::query(
            "SELECT c.relname::text AS child, p.relname::text AS parent
             FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
             JOIN pg_class p ON p.oid = k.confrelid
             WHERE k.contype = 'f' AND k.connamespace = current_schema()::regnamespace",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(map_err)?
        .iter()
        .map(|row| (row.get("child"), row.get("parent")))
        .collect();
        let mut tables = Vec::new();
        for name in parents_first(names, &references)? {
            let columns: Vec<String> = sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = current_schema() AND table_name = $1
                 ORDER BY ordinal_position",
            )
            .bind(&name)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
            tables.push(TableSchema { name, columns });
        }
        let info = SnapshotInfo {
            backend: "postgres".into(),
            ledger_length: head.get(0),
            ledger_head: head.get(1),
            subjects,
            migrations,
        };
        let schema = SnapshotSchema {
            info: info.clone(),
            tables,
        };
        let text = serde_json::to_vec(&schema).map_err(|e| StoreError::Other(e.to_string()))?;
        sink.begin(SCHEMA_PART).map_err(io)?;
        sink.write(&text).map_err(io)?;
        sink.end().map_err(io)?;
        for table in &schema.tables {
            let columns: Vec<String> = table.columns.iter().map(|c| quote(c)).collect();
            let statement = format!(
                "COPY (SELECT {} FROM {}) TO STDOUT",
                columns.join(", "),
                quote(&table.name)
            );
            sink.begin(&format!("{TABLE_PART_PREFIX}{}", table.name))
                .map_err(io)?;
            let mut stream = conn.copy_out_raw(&statement).await.map_err(map_err)?;
            while let Some(bytes) = stream.next().await {
                sink.write(&bytes.map_err(map_err)?).map_err(io)?;
            }
            drop(stream);
            sink.end().map_err(io)?;
        }
        sqlx::raw_sql("COMMIT")
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        Ok(info)
    }

    async fn wrapped_keys(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<WrappedKeyRow>> {
        let rows = sqlx::query(
            "SELECT id, wrapped_key FROM subjects WHERE $1::uuid IS NULL OR id > $1 ORDER BY id LIMIT $2",
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
        let mut tx = self.writer.begin().await.map_err(map_err)?;
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
        Ok(changed)
    }
}

impl PostgresStore {
    /// Restores a snapshot made by [`MaintenanceStore::snapshot`] into the database at `url`,
    /// which must hold no table: the schema is created at the snapshot's migrations, every
    /// table filled in one transaction, then the migrations this binary adds are applied.
    pub async fn restore(url: &str, source: &mut dyn SnapshotSource) -> StoreResult<SnapshotInfo> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| StoreError::Other(format!("bad database URL: {e}")))?
            .options([("synchronous_commit", "on")])
            .application_name("registre-restore");
        let pool = PgPoolOptions::new()
            .max_connections(2)
            .connect_with(options)
            .await
            .map_err(map_err)?;
        let existing: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()",
        )
        .fetch_one(&pool)
        .await
        .map_err(map_err)?;
        if existing > 0 {
            return Err(StoreError::Other(format!(
                "the database is not empty ({existing} tables): restore only into an empty database (DROP DATABASE and CREATE DATABASE first)"
            )));
        }
        if source.next_part().map_err(io)?.as_deref() != Some(SCHEMA_PART) {
            return Err(StoreError::Other(
                "this backup holds no PostgreSQL snapshot".into(),
            ));
        }
        let mut text = Vec::new();
        loop {
            let piece = source.read_piece().map_err(io)?;
            if piece.is_empty() {
                break;
            }
            text.extend_from_slice(&piece);
        }
        let schema: SnapshotSchema = serde_json::from_slice(&text)
            .map_err(|e| StoreError::Other(format!("snapshot schema: {e}")))?;
        let known: BTreeSet<i64> = MIGRATOR.iter().map(|m| m.version).collect();
        if let Some(unknown) = schema.info.migrations.iter().find(|v| !known.contains(v)) {
            return Err(StoreError::Other(format!(
                "this backup was made by a newer Registre (migration {unknown}): restore it with that version"
            )));
        }
        let at_backup = sqlx::migrate::Migrator {
            migrations: Cow::Owned(
                MIGRATOR
                    .iter()
                    .filter(|m| schema.info.migrations.contains(&m.version))
                    .cloned()
                    .collect(),
            ),
            ignore_missing: false,
            locking: true,
            no_tx: false,
            table_name: MIGRATOR.table_name.clone(),
            create_schemas: MIGRATOR.create_schemas.clone(),
        };
        at_backup
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("migrations: {e}")))?;
        let mut tx = pool.begin().await.map_err(map_err)?;
        // Migrations seed some rows (the chain heads); the snapshot's rows replace them.
        for table in schema.tables.iter().rev() {
            sqlx::query(AssertSqlSafe(format!("DELETE FROM {}", quote(&table.name))))
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        for table in &schema.tables {
            let part = source.next_part().map_err(io)?;
            if part.as_deref() != Some(format!("{TABLE_PART_PREFIX}{}", table.name).as_str()) {
                return Err(StoreError::Other(format!(
                    "the backup lacks the table {} (found {:?})",
                    table.name, part
                )));
            }
            let columns: Vec<String> = table.columns.iter().map(|c| quote(c)).collect();
            let statement = format!(
                "COPY {} ({}) FROM STDIN",
                quote(&table.name),
                columns.join(", ")
            );
            let mut copy = tx.copy_in_raw(&statement).await.map_err(map_err)?;
            loop {
                let piece = match source.read_piece() {
                    Ok(piece) => piece,
                    Err(error) => {
                        let _ = copy.abort("the backup could not be read").await;
                        return Err(io(error));
                    }
                };
                if piece.is_empty() {
                    break;
                }
                copy.send(piece).await.map_err(map_err)?;
            }
            copy.finish().await.map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        MIGRATOR
            .run(&pool)
            .await
            .map_err(|e| StoreError::Other(format!("migrations: {e}")))?;
        pool.close().await;
        Ok(schema.info)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::parents_first;

    #[test]
    fn referenced_tables_are_copied_before_the_tables_that_reference_them() {
        let order = parents_first(
            vec!["consent_states".into(), "outbox".into(), "subjects".into()],
            &[("consent_states".into(), "subjects".into())],
        )
        .unwrap();
        let position = |t: &str| order.iter().position(|o| o == t).unwrap();
        assert!(position("subjects") < position("consent_states"));
        assert_eq!(order.len(), 3);
    }
}
