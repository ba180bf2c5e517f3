//! The register of rights requests and the certificates of erasure.
use super::engine::{Engine, Get};
use super::{SqlBackend, Stmt, append_audit};
use crate::{
    ErasureCertificate, OutboxRecord, Rectification, RequestRecord, RequestStore, StoreError,
    StoreResult,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::audit::AuditRecord;
use sqlx::{AssertSqlSafe, Database, Row};
use uuid::Uuid;

const COLUMNS: &str = "id, request_type, status, channel, subject_id, blind_index, sealed, language, identity_verified, received_at, due_at, extended_at, verified_at, closed_at, due_soon_notified_at, restriction_lifted_at, certificate_id, updated_at";
const OPEN: &str = "status NOT IN ('completed', 'refused')";

fn request<R: Row>(row: &R) -> StoreResult<RequestRecord>
where
    R::Database: Engine,
{
    Ok(RequestRecord {
        id: row.col("id")?,
        request_type: row.col("request_type")?,
        status: row.col("status")?,
        channel: row.col("channel")?,
        subject_id: row.col("subject_id")?,
        blind_index: row.col("blind_index")?,
        sealed: row.col("sealed")?,
        language: row.col("language")?,
        identity_verified: row.col("identity_verified")?,
        received_at: row.col("received_at")?,
        due_at: row.col("due_at")?,
        extended_at: row.col("extended_at")?,
        verified_at: row.col("verified_at")?,
        closed_at: row.col("closed_at")?,
        due_soon_notified_at: row.col("due_soon_notified_at")?,
        restriction_lifted_at: row.col("restriction_lifted_at")?,
        certificate_id: row.col("certificate_id")?,
        updated_at: row.col("updated_at")?,
    })
}

/// Where the engine keeps a copy of the deadline to compare on (see
/// [`SqlBackend::DUE_COLUMN`]): the column and its parameter, written beside `due_at`.
fn due_copy<B: SqlBackend>(param: usize) -> (String, String) {
    if B::DUE_COLUMN == "due_at" {
        (String::new(), String::new())
    } else {
        (format!(", {}", B::DUE_COLUMN), format!(", ${param}"))
    }
}

fn bind_due_copy<B: SqlBackend>(stmt: Stmt<B::Db>, due_at: DateTime<Utc>) -> Stmt<B::Db> {
    if B::DUE_COLUMN == "due_at" {
        stmt
    } else {
        B::bind_due(stmt, due_at)
    }
}

/// Queues a message in the caller's transaction: it is sent if, and only if, the change
/// that caused it commits.
pub async fn insert_outbox<B: SqlBackend>(
    conn: &mut <B::Db as Database>::Connection,
    message: &OutboxRecord,
) -> StoreResult<()> {
    Stmt::<B::Db>::new("INSERT INTO outbox (id, channel, topic, subject_id, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)")
        .bind(message.id)
        .bind(&message.channel)
        .bind(&message.topic)
        .bind(message.subject_id)
        .bind(&message.payload)
        .bind(message.created_at)
        .run(conn)
        .await
        .map_err(B::map_err)?;
    Ok(())
}

#[async_trait]
impl<B: SqlBackend> RequestStore for B {
    async fn insert_request(
        &self,
        r: &RequestRecord,
        outbox: &[OutboxRecord],
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let (due_column, due_param) = due_copy::<B>(19);
        let stmt = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "INSERT INTO requests ({COLUMNS}{due_column}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18{due_param})"
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
        .bind(r.updated_at);
        bind_due_copy::<B>(stmt, r.due_at)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        for message in outbox {
            insert_outbox::<B>(&mut tx, message).await?;
        }
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn request(&self, id: Uuid) -> StoreResult<Option<RequestRecord>> {
        let row = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM requests WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        row.as_ref().map(request).transpose()
    }

    async fn update_request(&self, r: &RequestRecord, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let due_copy = if B::DUE_COLUMN == "due_at" {
            String::new()
        } else {
            format!(", {} = $19", B::DUE_COLUMN)
        };
        let stmt = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "UPDATE requests SET request_type = $2, status = $3, channel = $4, subject_id = $5, blind_index = $6, sealed = $7, language = $8,
             identity_verified = $9, received_at = $10, due_at = $11, extended_at = $12, verified_at = $13, closed_at = $14,
             due_soon_notified_at = $15, restriction_lifted_at = $16, certificate_id = $17, updated_at = $18{due_copy} WHERE id = $1"
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
        .bind(r.updated_at);
        let done = bind_due_copy::<B>(stmt, r.due_at)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        if B::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn requests(
        &self,
        status: Option<&str>,
        after: Option<(DateTime<Utc>, Uuid)>,
        limit: i64,
    ) -> StoreResult<Vec<RequestRecord>> {
        // Without a cursor the deadline bound is not read (`$3 IS NULL`): any value does.
        let (after_due, after_id) = match after {
            Some((due, id)) => (due, Some(id)),
            None => (DateTime::UNIX_EPOCH, None),
        };
        let d = B::DIALECT;
        let due = B::DUE_COLUMN;
        let stmt = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM requests
             WHERE ($1{text} IS NULL OR status = $1)
               AND ($3{uuid} IS NULL OR ({due}, id) > ($2, $3))
             ORDER BY {due}, id LIMIT $4",
            text = d.cast("text"),
            uuid = d.cast("uuid"),
        )))
        .bind(status);
        let rows = B::bind_due(stmt, after_due)
            .bind(after_id)
            .bind(limit)
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        rows.iter().map(request).collect()
    }

    async fn requests_of(&self, blind_index: &[u8]) -> StoreResult<Vec<RequestRecord>> {
        let rows = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM requests WHERE blind_index = $1 ORDER BY received_at, id"
        )))
        .bind(blind_index)
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        rows.iter().map(request).collect()
    }

    async fn requests_to_remind(
        &self,
        by: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<RequestRecord>> {
        let due = B::DUE_COLUMN;
        let stmt = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM requests WHERE {OPEN} AND due_soon_notified_at IS NULL AND {due} <= $1 ORDER BY {due}, id LIMIT $2"
        )));
        let rows = B::bind_due(stmt, by)
            .bind(limit)
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        rows.iter().map(request).collect()
    }

    async fn mark_reminded(
        &self,
        id: Uuid,
        at: DateTime<Utc>,
        outbox: &[OutboxRecord],
    ) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = Stmt::<B::Db>::new("UPDATE requests SET due_soon_notified_at = $2 WHERE id = $1 AND due_soon_notified_at IS NULL")
            .bind(id)
            .bind(at)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        if B::rows_affected(&done) == 0 {
            return Ok(false);
        }
        for message in outbox {
            insert_outbox::<B>(&mut tx, message).await?;
        }
        tx.commit().await.map_err(B::map_err)?;
        Ok(true)
    }

    async fn forget_requests_of(
        &self,
        blind_index: &[u8],
        subject_id: Option<Uuid>,
        audit: &AuditRecord,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let done = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "UPDATE requests SET sealed = NULL, blind_index = NULL, subject_id = NULL WHERE blind_index = $1 OR ($2{} IS NOT NULL AND subject_id = $2)",
            B::DIALECT.cast("uuid")
        )))
        .bind(blind_index)
        .bind(subject_id)
        .run(&mut tx)
        .await
        .map_err(B::map_err)?;
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)?;
        Ok(B::rows_affected(&done))
    }

    async fn insert_certificate(
        &self,
        certificate: &ErasureCertificate,
        audit: &AuditRecord,
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "INSERT INTO erasure_certificates (id, erased_at, body) VALUES ($1, $2, $3{})",
            B::DIALECT.cast("jsonb")
        )))
        .bind(certificate.id)
        .bind(certificate.erased_at)
        .bind(certificate.body.to_string())
        .run(&mut tx)
        .await
        .map_err(B::map_err)?;
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn certificate(&self, id: Uuid) -> StoreResult<Option<ErasureCertificate>> {
        let row = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT id, erased_at, body{} AS body FROM erasure_certificates WHERE id = $1",
            B::DIALECT.cast("text")
        )))
        .bind(id)
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        row.map(|row| {
            let body: String = row.col("body")?;
            Ok(ErasureCertificate {
                id: row.col("id")?,
                erased_at: row.col("erased_at")?,
                body: serde_json::from_str(&body)
                    .map_err(|_| StoreError::Corrupt("erasure certificate".into()))?,
            })
        })
        .transpose()
    }

    async fn delete_submissions(
        &self,
        subject_id: Uuid,
        ids: &[Uuid],
        audit: &AuditRecord,
    ) -> StoreResult<u64> {
        let mut tx = self.begin_write().await?;
        let mut count = 0;
        for id in ids {
            let done =
                Stmt::<B::Db>::new("DELETE FROM submissions WHERE id = $1 AND subject_id = $2")
                    .bind(id)
                    .bind(subject_id)
                    .run(&mut tx)
                    .await
                    .map_err(B::map_err)?;
            count += B::rows_affected(&done);
        }
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)?;
        Ok(count)
    }
}

/// What a rectification changes besides the person's own row, which each engine writes with
/// its uniqueness rule: their requests' blind index, the submissions, the mails, the trace.
pub async fn rectify_records<B: SqlBackend>(
    conn: &mut <B::Db as Database>::Connection,
    rectification: &Rectification,
    audit: &AuditRecord,
) -> StoreResult<()> {
    if let Some((blind_index, _)) = &rectification.new_email {
        Stmt::<B::Db>::new("UPDATE requests SET blind_index = $2 WHERE subject_id = $1")
            .bind(rectification.subject_id)
            .bind(blind_index)
            .run(conn)
            .await
            .map_err(B::map_err)?;
    }
    for (id, sealed) in &rectification.submissions {
        Stmt::<B::Db>::new(
            "UPDATE submissions SET fields_sealed = $3 WHERE id = $1 AND subject_id = $2",
        )
        .bind(id)
        .bind(rectification.subject_id)
        .bind(sealed)
        .run(conn)
        .await
        .map_err(B::map_err)?;
    }
    for message in &rectification.outbox {
        insert_outbox::<B>(conn, message).await?;
    }
    append_audit::<B>(conn, audit).await?;
    Ok(())
}
