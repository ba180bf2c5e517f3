//! Evidence files of the processor register, and what retention reads and deletes.
use crate::documents::append_audit;
use crate::subjects::{SUBJECT_COLUMNS, parse_state, subject};
use crate::{PostgresStore, map_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::audit::AuditRecord;
use registre_domain::retention::{SubjectActivity, SubmissionActivity};
use registre_store::{
    EvidenceRecord, EvidenceStore, RetentionStore, StoreResult, SubjectActivityRecord,
};
use sqlx::Row;
use std::collections::BTreeMap;
use uuid::Uuid;

fn evidence(row: &sqlx::postgres::PgRow, with_content: bool) -> EvidenceRecord {
    EvidenceRecord {
        id: row.get("id"),
        processor_id: row.get("processor_id"),
        name: row.get("name"),
        content_type: row.get("content_type"),
        size: row.get("size"),
        sha256: row.get("sha256"),
        sealed: if with_content {
            row.get("sealed")
        } else {
            Vec::new()
        },
        uploaded_at: row.get("uploaded_at"),
    }
}

#[async_trait]
impl EvidenceStore for PostgresStore {
    async fn insert_evidence(
        &self,
        record: &EvidenceRecord,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        sqlx::query(
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
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn evidence(&self, id: Uuid) -> StoreResult<Option<EvidenceRecord>> {
        let row = sqlx::query(
            "SELECT id, processor_id, name, content_type, size, sha256, sealed, uploaded_at FROM evidence_files WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(row.map(|row| evidence(&row, true)))
    }

    async fn evidence_of(&self, processor_id: Uuid) -> StoreResult<Vec<EvidenceRecord>> {
        let rows = sqlx::query(
            "SELECT id, processor_id, name, content_type, size, sha256, uploaded_at FROM evidence_files
             WHERE processor_id = $1 ORDER BY uploaded_at, id",
        )
        .bind(processor_id)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(rows.iter().map(|row| evidence(row, false)).collect())
    }
}

#[async_trait]
impl RetentionStore for PostgresStore {
    async fn subject_activity(
        &self,
        after: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<SubjectActivityRecord>> {
        let after = after.unwrap_or(Uuid::nil());
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id > $1 ORDER BY id LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        let mut page: BTreeMap<Uuid, SubjectActivityRecord> = BTreeMap::new();
        for row in &rows {
            let subject = subject(row);
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
        let submissions = sqlx::query(
            "SELECT id, subject_id, touchpoint, received_at FROM submissions WHERE subject_id > $1 AND subject_id <= $2",
        )
        .bind(after)
        .bind(last)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        for row in &submissions {
            if let Some(entry) = page.get_mut(&row.get::<Uuid, _>("subject_id")) {
                entry.activity.submissions.push(SubmissionActivity {
                    id: row.get("id"),
                    touchpoint: row.get("touchpoint"),
                    received_at: row.get("received_at"),
                });
            }
        }
        let events = sqlx::query(
            "SELECT subject_id, purpose, occurred_at FROM consent_events
             WHERE subject_id > $1 AND subject_id <= $2 AND purpose IS NOT NULL AND source <> 'system'",
        )
        .bind(after)
        .bind(last)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        for row in &events {
            if let Some(entry) = page.get_mut(&row.get::<Uuid, _>("subject_id")) {
                let at: DateTime<Utc> = row.get("occurred_at");
                let latest = entry
                    .activity
                    .last_events
                    .entry(row.get("purpose"))
                    .or_insert(at);
                if at > *latest {
                    *latest = at;
                }
            }
        }
        let states = sqlx::query("SELECT subject_id, purpose, state FROM consent_states WHERE subject_id > $1 AND subject_id <= $2")
            .bind(after)
            .bind(last)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        for row in &states {
            if let Some(entry) = page.get_mut(&row.get::<Uuid, _>("subject_id")) {
                entry
                    .activity
                    .states
                    .insert(row.get("purpose"), parse_state(row.get("state"))?);
            }
        }
        Ok(page.into_values().collect())
    }

    async fn purge_submissions(&self, ids: &[Uuid], audit: &AuditRecord) -> StoreResult<u64> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        let mut deleted = 0;
        for id in ids {
            let done = sqlx::query("DELETE FROM submissions WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            deleted += done.rows_affected();
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(deleted)
    }
}
