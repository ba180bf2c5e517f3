use crate::{PostgresStore, map_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::audit::AuditRecord;
use registre_domain::ledger::ConsentEvent;
use registre_store::sql::rows::{
    EVENT_COLUMNS, SUBJECT_COLUMNS, consent_event, parse_state, subject,
};
use registre_store::{
    ChangeSet, ConsentStateRecord, LedgerStore, Rectification, StoreError, StoreResult,
    SubjectRecord, SubjectStore, SubmissionRecord,
};
use sqlx::Row;
use uuid::Uuid;

#[async_trait]
impl SubjectStore for PostgresStore {
    async fn rectify(&self, rectification: &Rectification, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        if let Some((blind_index, email_sealed)) = &rectification.new_email {
            let done = sqlx::query(
                "UPDATE subjects SET blind_index = $2, email_sealed = $3 WHERE id = $1",
            )
            .bind(rectification.subject_id)
            .bind(blind_index)
            .bind(email_sealed)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
            if done.rows_affected() == 0 {
                return Err(StoreError::NotFound);
            }
        }
        registre_store::sql::rectify_records::<PostgresStore>(&mut tx, rectification, audit)
            .await?;
        tx.commit().await.map_err(map_err)
    }
    async fn get_or_create_subject(&self, candidate: &SubjectRecord) -> StoreResult<SubjectRecord> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        sqlx::query(
            "INSERT INTO subjects (id, blind_index, wrapped_key, email_sealed, external_id_index, external_id_sealed, restricted, objected_to_marketing, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (blind_index) DO NOTHING",
        )
        .bind(candidate.id)
        .bind(&candidate.blind_index)
        .bind(&candidate.wrapped_key)
        .bind(&candidate.email_sealed)
        .bind(&candidate.external_id_index)
        .bind(&candidate.external_id_sealed)
        .bind(candidate.restricted)
        .bind(candidate.objected_to_marketing)
        .bind(candidate.created_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE blind_index = $1"
        )))
        .bind(&candidate.blind_index)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        subject(&row)
    }

    async fn create_subjects(&self, subjects: &[SubjectRecord]) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        for candidate in subjects {
            sqlx::query(
                "INSERT INTO subjects (id, blind_index, wrapped_key, email_sealed, external_id_index, external_id_sealed, restricted, objected_to_marketing, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (blind_index) DO NOTHING",
            )
            .bind(candidate.id)
            .bind(&candidate.blind_index)
            .bind(&candidate.wrapped_key)
            .bind(&candidate.email_sealed)
            .bind(&candidate.external_id_index)
            .bind(&candidate.external_id_sealed)
            .bind(candidate.restricted)
            .bind(candidate.objected_to_marketing)
            .bind(candidate.created_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(())
    }

    async fn subject_by_index(&self, blind_index: &[u8]) -> StoreResult<Option<SubjectRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE blind_index = $1"
        )))
        .bind(blind_index)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        row.as_ref().map(subject).transpose()
    }

    async fn subject(&self, id: Uuid) -> StoreResult<Option<SubjectRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        row.as_ref().map(subject).transpose()
    }

    async fn suppressed_since(&self, blind_index: &[u8]) -> StoreResult<Option<DateTime<Utc>>> {
        let row = sqlx::query("SELECT erased_at FROM suppressions WHERE blind_index = $1")
            .bind(blind_index)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(row.map(|row| row.get(0)))
    }

    async fn submissions_of(&self, subject_id: Uuid) -> StoreResult<Vec<SubmissionRecord>> {
        let rows = sqlx::query("SELECT id, subject_id, touchpoint, notice_version, fields_sealed, received_at FROM submissions WHERE subject_id = $1 ORDER BY received_at")
            .bind(subject_id)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(|row| SubmissionRecord {
                id: row.get(0),
                subject_id: row.get(1),
                touchpoint: row.get(2),
                notice_version: row.get(3),
                fields_sealed: row.get(4),
                received_at: row.get(5),
            })
            .collect())
    }

    async fn consent_states_of(&self, subject_id: Uuid) -> StoreResult<Vec<ConsentStateRecord>> {
        let rows = sqlx::query("SELECT subject_id, purpose, state, since, last_seq FROM consent_states WHERE subject_id = $1 ORDER BY purpose")
            .bind(subject_id)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(consent_state).collect()
    }

    async fn consent_state(
        &self,
        subject_id: Uuid,
        purpose: &str,
    ) -> StoreResult<Option<ConsentStateRecord>> {
        let row = sqlx::query("SELECT subject_id, purpose, state, since, last_seq FROM consent_states WHERE subject_id = $1 AND purpose = $2")
            .bind(subject_id)
            .bind(purpose)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.as_ref().map(consent_state).transpose()
    }

    async fn subject_count(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM subjects")
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(row.get(0))
    }

    async fn pending_consents(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<ConsentStateRecord>> {
        let rows = sqlx::query(
            "SELECT subject_id, purpose, state, since, last_seq FROM consent_states WHERE state = 'pending' AND since < $1 ORDER BY since LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter().map(consent_state).collect()
    }
}

fn consent_state(row: &sqlx::postgres::PgRow) -> StoreResult<ConsentStateRecord> {
    Ok(ConsentStateRecord {
        subject_id: row.get(0),
        purpose: row.get(1),
        state: parse_state(row.get(2))?,
        since: row.get(3),
        last_seq: row.get(4),
    })
}

#[async_trait]
impl LedgerStore for PostgresStore {
    async fn commit(&self, changes: Vec<ChangeSet>) -> Vec<StoreResult<Vec<ConsentEvent>>> {
        self.committer.commit(changes).await
    }

    fn observe_commits(&self, observer: std::sync::Arc<dyn registre_store::CommitObserver>) {
        self.committer.observe(observer);
    }

    async fn event(&self, event_id: Uuid) -> StoreResult<Option<ConsentEvent>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM consent_events WHERE event_id = $1"
        )))
        .bind(event_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        row.as_ref().map(consent_event).transpose()
    }

    async fn events_of(
        &self,
        subject_id: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<ConsentEvent>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {EVENT_COLUMNS} FROM consent_events WHERE subject_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")))
            .bind(subject_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(consent_event).collect()
    }

    async fn events(&self, after: i64, limit: i64) -> StoreResult<Vec<ConsentEvent>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM consent_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter().map(consent_event).collect()
    }

    async fn ledger_head(&self) -> StoreResult<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM chain_heads WHERE chain = 'ledger'")
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)?;
        Ok((row.get(0), row.get(1)))
    }
}
