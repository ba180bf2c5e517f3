//! Evidence files of the processor register, and what retention reads and deletes.
use super::engine::{Engine, Get};
use super::rows::{SUBJECT_COLUMNS, parse_state, subject};
use super::{SqlBackend, Stmt, append_audit};
use crate::{EvidenceRecord, EvidenceStore, RetentionStore, StoreResult, SubjectActivityRecord};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::audit::AuditRecord;
use registre_domain::retention::{SubjectActivity, SubmissionActivity};
use sqlx::{AssertSqlSafe, Row};
use std::collections::BTreeMap;
use uuid::Uuid;

fn evidence<R: Row>(row: &R, with_content: bool) -> StoreResult<EvidenceRecord>
where
    R::Database: Engine,
{
    Ok(EvidenceRecord {
        id: row.col("id")?,
        processor_id: row.col("processor_id")?,
        name: row.col("name")?,
        content_type: row.col("content_type")?,
        size: row.col("size")?,
        sha256: row.col("sha256")?,
        sealed: if with_content {
            row.col("sealed")?
        } else {
            Vec::new()
        },
        uploaded_at: row.col("uploaded_at")?,
    })
}

#[async_trait]
impl<B: SqlBackend> EvidenceStore for B {
    async fn insert_evidence(
        &self,
        record: &EvidenceRecord,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Stmt::<B::Db>::new(
            "INSERT INTO evidence_files (id, processor_id, name, content_type, size, sha256, sealed, uploaded_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(record.id)
        .bind(record.processor_id)
        .bind(&record.name)
        .bind(&record.content_type)
        .bind(record.size)
        .bind(&record.sha256)
        .bind(&record.sealed)
        .bind(record.uploaded_at)
        .run(&mut tx)
        .await
        .map_err(B::map_err)?;
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn evidence(&self, id: Uuid) -> StoreResult<Option<EvidenceRecord>> {
        let row = Stmt::<B::Db>::new(
            "SELECT id, processor_id, name, content_type, size, sha256, sealed, uploaded_at FROM evidence_files WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        row.map(|row| evidence(&row, true)).transpose()
    }

    async fn evidence_of(&self, processor_id: Uuid) -> StoreResult<Vec<EvidenceRecord>> {
        let rows = Stmt::<B::Db>::new(
            "SELECT id, processor_id, name, content_type, size, sha256, uploaded_at FROM evidence_files
             WHERE processor_id = $1 ORDER BY uploaded_at, id",
        )
        .bind(processor_id)
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        rows.iter().map(|row| evidence(row, false)).collect()
    }
}

#[async_trait]
impl<B: SqlBackend> RetentionStore for B {
    async fn subject_activity(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<SubjectActivityRecord>> {
        let after = after.unwrap_or(Uuid::nil());
        let rows = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        let mut page: BTreeMap<Uuid, SubjectActivityRecord> = BTreeMap::new();
        for row in &rows {
            let subject = subject(row)?;
            let activity = SubjectActivity {
                subject_id: subject.id,
                created_at: subject.created_at,
                restricted: subject.restricted,
                submissions: Vec::new(),
                last_events: BTreeMap::new(),
                states: BTreeMap::new(),
            };
            page.insert(subject.id, SubjectActivityRecord { subject, activity });
        }
        let Some(last) = page.keys().next_back().copied() else {
            return Ok(Vec::new());
        };
        let submissions = Stmt::<B::Db>::new(
            "SELECT id, subject_id, touchpoint, received_at FROM submissions WHERE subject_id > $1 AND subject_id <= $2",
        )
        .bind(after)
        .bind(last)
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        for row in &submissions {
            if let Some(entry) = page.get_mut(&row.col::<Uuid>("subject_id")?) {
                entry.activity.submissions.push(SubmissionActivity {
                    id: row.col("id")?,
                    touchpoint: row.col("touchpoint")?,
                    received_at: row.col("received_at")?,
                });
            }
        }
        let events = Stmt::<B::Db>::new(
            "SELECT subject_id, purpose, occurred_at FROM consent_events
             WHERE subject_id > $1 AND subject_id <= $2 AND purpose IS NOT NULL AND source <> 'system'",
        )
        .bind(after)
        .bind(last)
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        for row in &events {
            if let Some(entry) = page.get_mut(&row.col::<Uuid>("subject_id")?) {
                let at: DateTime<Utc> = row.col("occurred_at")?;
                let latest = entry
                    .activity
                    .last_events
                    .entry(row.col("purpose")?)
                    .or_insert(at);
                if at > *latest {
                    *latest = at;
                }
            }
        }
        let states = Stmt::<B::Db>::new("SELECT subject_id, purpose, state FROM consent_states WHERE subject_id > $1 AND subject_id <= $2")
            .bind(after)
            .bind(last)
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        for row in &states {
            if let Some(entry) = page.get_mut(&row.col::<Uuid>("subject_id")?) {
                entry.activity.states.insert(
                    row.col("purpose")?,
                    parse_state(&row.col::<String>("state")?)?,
                );
            }
        }
        Ok(page.into_values().collect())
    }

    async fn purge_submissions(&self, ids: &[Uuid], audit: &AuditRecord) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let mut deleted = 0;
        for id in ids {
            let done = Stmt::<B::Db>::new("DELETE FROM submissions WHERE id = $1")
                .bind(id)
                .run(&mut tx)
                .await
                .map_err(B::map_err)?;
            deleted += B::rows_affected(&done);
        }
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)?;
        Ok(deleted)
    }
}
