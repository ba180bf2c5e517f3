//! The register of rights requests and the certificates of erasure.
use crate::documents::append_audit;
use crate::{SqliteStore, corrupt, map_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::audit::AuditRecord;
use registre_store::{
    ErasureCertificate, OutboxRecord, Rectification, RequestRecord, RequestStore,
    SUBJECT_INDEX_CONSTRAINT, StoreError, StoreResult,
};
use sqlx::{Row, SqliteConnection};
use uuid::Uuid;

const COLUMNS: &str = "id, request_type, status, channel, subject_id, blind_index, sealed, language, identity_verified, received_at, due_at, extended_at, verified_at, closed_at, due_soon_notified_at, restriction_lifted_at, certificate_id, updated_at";
const OPEN: &str = "status NOT IN ('completed', 'refused')";

fn request(row: &sqlx::sqlite::SqliteRow) -> RequestRecord {
    RequestRecord {
        id: row.get("id"),
        request_type: row.get("request_type"),
        status: row.get("status"),
        channel: row.get("channel"),
        subject_id: row.get("subject_id"),
        blind_index: row.get("blind_index"),
        sealed: row.get("sealed"),
        language: row.get("language"),
        identity_verified: row.get("identity_verified"),
        received_at: row.get("received_at"),
        due_at: row.get("due_at"),
        extended_at: row.get("extended_at"),
        verified_at: row.get("verified_at"),
        closed_at: row.get("closed_at"),
        due_soon_notified_at: row.get("due_soon_notified_at"),
        restriction_lifted_at: row.get("restriction_lifted_at"),
        certificate_id: row.get("certificate_id"),
        updated_at: row.get("updated_at"),
    }
}

pub(crate) async fn insert_outbox(
    conn: &mut SqliteConnection,
    message: &OutboxRecord,
) -> StoreResult<()> {
    sqlx::query("INSERT INTO outbox (id, channel, topic, subject_id, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)")
        .bind(message.id)
        .bind(&message.channel)
        .bind(&message.topic)
        .bind(message.subject_id)
        .bind(&message.payload)
        .bind(message.created_at)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(())
}

#[async_trait]
impl RequestStore for SqliteStore {
    async fn insert_request(
        &self,
        r: &RequestRecord,
        outbox: &[OutboxRecord],
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO requests ({COLUMNS}, due_micros) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)"
        )))
        .bind(r.id)
        .bind(&r.request_type)
        .bind(&r.status)
        .bind(&r.channel)
        .bind(r.subject_id)
        .bind(&r.blind_index)
        .bind(&r.sealed)
        .bind(&r.language)
        .bind(r.identity_verified)
        .bind(r.received_at)
        .bind(r.due_at)
        .bind(r.extended_at)
        .bind(r.verified_at)
        .bind(r.closed_at)
        .bind(r.due_soon_notified_at)
        .bind(r.restriction_lifted_at)
        .bind(r.certificate_id)
        .bind(r.updated_at)
        .bind(r.due_at.timestamp_micros())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        for message in outbox {
            insert_outbox(&mut tx, message).await?;
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn request(&self, id: Uuid) -> StoreResult<Option<RequestRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM requests WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(row.as_ref().map(request))
    }

    async fn update_request(&self, r: &RequestRecord, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE requests SET request_type = $2, status = $3, channel = $4, subject_id = $5, blind_index = $6, sealed = $7, language = $8,
             identity_verified = $9, received_at = $10, due_at = $11, extended_at = $12, verified_at = $13, closed_at = $14,
             due_soon_notified_at = $15, restriction_lifted_at = $16, certificate_id = $17, updated_at = $18, due_micros = $19 WHERE id = $1",
        )
        .bind(r.id)
        .bind(&r.request_type)
        .bind(&r.status)
        .bind(&r.channel)
        .bind(r.subject_id)
        .bind(&r.blind_index)
        .bind(&r.sealed)
        .bind(&r.language)
        .bind(r.identity_verified)
        .bind(r.received_at)
        .bind(r.due_at)
        .bind(r.extended_at)
        .bind(r.verified_at)
        .bind(r.closed_at)
        .bind(r.due_soon_notified_at)
        .bind(r.restriction_lifted_at)
        .bind(r.certificate_id)
        .bind(r.updated_at)
        .bind(r.due_at.timestamp_micros())
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn requests(
        &self,
        status: Option<&str>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> StoreResult<Vec<RequestRecord>> {
        let (after_micros, after_id) = match after {
            Some((due, id)) => (due.timestamp_micros(), Some(id)),
            None => (i64::MIN, None),
        };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM requests
             WHERE ($1 IS NULL OR status = $1)
               AND ($3 IS NULL OR due_micros > $2 OR (due_micros = $2 AND id > $3))
             ORDER BY due_micros, id LIMIT $4"
        )))
        .bind(status)
        .bind(after_micros)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(rows.iter().map(request).collect())
    }

    async fn requests_of(&self, blind_index: &[u8]) -> StoreResult<Vec<RequestRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM requests WHERE blind_index = $1 ORDER BY received_at, id"
        )))
        .bind(blind_index)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(rows.iter().map(request).collect())
    }

    async fn requests_to_remind(
        &self,
        by: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<RequestRecord>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM requests WHERE {OPEN} AND due_soon_notified_at IS NULL AND due_micros <= $1 ORDER BY due_micros, id LIMIT $2"
        )))
        .bind(by.timestamp_micros())
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(rows.iter().map(request).collect())
    }

    async fn mark_reminded(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        outbox: &[OutboxRecord],
    ) -> StoreResult<bool> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query("UPDATE requests SET due_soon_notified_at = $2 WHERE id = $1 AND due_soon_notified_at IS NULL")
            .bind(id)
            .bind(at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Ok(false);
        }
        for message in outbox {
            insert_outbox(&mut tx, message).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(true)
    }

    async fn forget_requests_of(
        &self,
        blind_index: &[u8],
        subject_id: Option<Uuid>,
        audit: &AuditRecord,
    ) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let done = sqlx::query(
            "UPDATE requests SET sealed = NULL, blind_index = NULL, subject_id = NULL WHERE blind_index = $1 OR ($2 IS NOT NULL AND subject_id = $2)",
        )
        .bind(blind_index)
        .bind(subject_id)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(done.rows_affected())
    }

    async fn insert_certificate(
        &self,
        certificate: &ErasureCertificate,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.write_tx().await?;
        sqlx::query("INSERT INTO erasure_certificates (id, erased_at, body) VALUES ($1, $2, $3)")
            .bind(certificate.id)
            .bind(certificate.erased_at)
            .bind(certificate.body.to_string())
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn certificate(&self, id: Uuid) -> StoreResult<Option<ErasureCertificate>> {
        let row = sqlx::query("SELECT id, erased_at, body FROM erasure_certificates WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.map(|row| {
            let body: String = row.get(2);
            Ok(ErasureCertificate {
                id: row.get(0),
                erased_at: row.get(1),
                body: serde_json::from_str(&body).map_err(|_| corrupt("erasure certificate"))?,
            })
        })
        .transpose()
    }

    async fn rectify(&self, rectification: &Rectification, audit: &AuditRecord) -> StoreResult<()> {
        let mut write = self.index.write().await;
        let mut tx = self.write_tx().await?;
        write.sync(&mut tx).await?;
        if let Some((blind_index, email_sealed)) = &rectification.new_email {
            let held: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT blind_index FROM subjects WHERE id = $1")
                    .bind(rectification.subject_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
            let Some(held) = held else {
                return Err(StoreError::NotFound);
            };
            if held != *blind_index {
                if write.resolve(&mut tx, blind_index).await?.is_some() {
                    return Err(StoreError::Conflict {
                        constraint: SUBJECT_INDEX_CONSTRAINT.into(),
                    });
                }
                write
                    .remove(&mut tx, &held, rectification.subject_id)
                    .await?;
                write
                    .insert_indexed(&mut tx, blind_index, rectification.subject_id)
                    .await?;
            }
            sqlx::query("UPDATE subjects SET blind_index = $2, email_sealed = $3 WHERE id = $1")
                .bind(rectification.subject_id)
                .bind(blind_index)
                .bind(email_sealed)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            sqlx::query("UPDATE requests SET blind_index = $2 WHERE subject_id = $1")
                .bind(rectification.subject_id)
                .bind(blind_index)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        for (id, sealed) in &rectification.submissions {
            sqlx::query(
                "UPDATE submissions SET fields_sealed = $3 WHERE id = $1 AND subject_id = $2",
            )
            .bind(id)
            .bind(rectification.subject_id)
            .bind(sealed)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        for message in &rectification.outbox {
            insert_outbox(&mut tx, message).await?;
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        write.committed();
        if rectification.new_email.is_some() {
            // The old blind index is not known here, and a lookup may have cached "no such
            // person" under the new one: forget every cached subject.
            self.cache.forget_all_subjects();
        }
        Ok(())
    }

    async fn delete_submissions(
        &self,
        subject_id: Uuid,
        ids: &[Uuid],
        audit: &AuditRecord,
    ) -> StoreResult<u64> {
        let mut tx = self.write_tx().await?;
        let mut count = 0;
        for id in ids {
            let done = sqlx::query("DELETE FROM submissions WHERE id = $1 AND subject_id = $2")
                .bind(id)
                .bind(subject_id)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            count += done.rows_affected();
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(count)
    }
}
