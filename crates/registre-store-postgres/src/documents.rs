use crate::{PostgresStore, corrupt, map_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::audit::{AuditEntry, AuditRecord, ChainReport, ChainVerifier};
use registre_store::{
    AuditLogStore, Document, DocumentKind, DocumentStore, NoticeStore, NoticeSummary, StoreError,
    StoreResult, StoredNotice,
};
use sqlx::{PgConnection, Row};

/// Appends `record` to the audit chain inside the caller's transaction.
pub(crate) async fn append_audit(
    conn: &mut PgConnection,
    record: &AuditRecord,
) -> StoreResult<AuditEntry> {
    let head = sqlx::query("SELECT seq, hash FROM chain_heads WHERE chain = 'audit' FOR UPDATE")
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let entry = AuditEntry::chain(record, head.get::<i64, _>(0), &head.get::<String, _>(1));
    sqlx::query("INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(entry.seq)
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.details)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    sqlx::query("UPDATE chain_heads SET seq = $1, hash = $2 WHERE chain = 'audit'")
        .bind(entry.seq)
        .bind(&entry.hash)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(entry)
}

fn document_from_row(kind: DocumentKind, row: &sqlx::postgres::PgRow) -> StoreResult<Document> {
    let body: String = row.get("body");
    Ok(Document {
        kind,
        key: row.get("key"),
        body: serde_json::from_str(&body).map_err(|_| corrupt("document body"))?,
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
    })
}

#[async_trait]
impl DocumentStore for PostgresStore {
    async fn document(&self, kind: DocumentKind, key: &str) -> StoreResult<Option<Document>> {
        let row = sqlx::query("SELECT key, body::text AS body, created_at, updated_at FROM documents WHERE kind = $1 AND key = $2")
            .bind(kind.as_str())
            .bind(key)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        row.map(|row| document_from_row(kind, &row)).transpose()
    }

    async fn documents(&self, kind: DocumentKind) -> StoreResult<Vec<Document>> {
        let rows = sqlx::query("SELECT key, body::text AS body, created_at, updated_at FROM documents WHERE kind = $1 ORDER BY created_at, key")
            .bind(kind.as_str())
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|row| document_from_row(kind, row))
            .collect()
    }

    async fn insert_document(&self, document: &Document, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        sqlx::query("INSERT INTO documents (kind, key, body, created_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, $5)")
            .bind(document.kind.as_str())
            .bind(&document.key)
            .bind(document.body.to_string())
            .bind(document.created_at)
            .bind(document.updated_at)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn update_document(&self, document: &Document, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        let done = sqlx::query(
            "UPDATE documents SET body = $3::jsonb, updated_at = $4 WHERE kind = $1 AND key = $2",
        )
        .bind(document.kind.as_str())
        .bind(&document.key)
        .bind(document.body.to_string())
        .bind(document.updated_at)
        .execute(&mut *tx)
        .await
        .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)
    }
}

#[async_trait]
impl NoticeStore for PostgresStore {
    async fn save_notice(&self, notice: &StoredNotice) -> StoreResult<bool> {
        let done = sqlx::query("INSERT INTO notices (version, touchpoint, content, published_at) VALUES ($1, $2, $3, $4) ON CONFLICT (version) DO NOTHING")
            .bind(&notice.version)
            .bind(&notice.touchpoint)
            .bind(&notice.content)
            .bind(notice.published_at)
            .execute(&self.writer)
            .await
            .map_err(map_err)?;
        Ok(done.rows_affected() == 1)
    }

    async fn notice(&self, version: &str) -> StoreResult<Option<StoredNotice>> {
        let row = sqlx::query(
            "SELECT version, touchpoint, content, published_at FROM notices WHERE version = $1",
        )
        .bind(version)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(row.map(|row| StoredNotice {
            version: row.get(0),
            touchpoint: row.get(1),
            content: row.get(2),
            published_at: row.get(3),
        }))
    }

    async fn notice_history(&self, touchpoint: &str) -> StoreResult<Vec<NoticeSummary>> {
        let rows = sqlx::query("SELECT version, published_at FROM notices WHERE touchpoint = $1 ORDER BY published_at DESC")
            .bind(touchpoint)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(|row| NoticeSummary {
                version: row.get(0),
                published_at: row.get(1),
            })
            .collect())
    }
}

fn audit_entry(row: &sqlx::postgres::PgRow) -> AuditEntry {
    AuditEntry {
        seq: row.get(0),
        at: row.get::<DateTime<Utc>, _>(1),
        actor: row.get(2),
        action: row.get(3),
        target: row.get(4),
        details: row.get(5),
        prev_hash: row.get(6),
        hash: row.get(7),
    }
}

#[async_trait]
impl AuditLogStore for PostgresStore {
    async fn append_audit(&self, audit: &AuditRecord) -> StoreResult<AuditEntry> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        let entry = append_audit(&mut tx, audit).await?;
        tx.commit().await.map_err(map_err)?;
        Ok(entry)
    }

    async fn audit_entries(&self, after: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows = sqlx::query("SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(rows.iter().map(audit_entry).collect())
    }

    async fn verify_audit_log(&self) -> StoreResult<ChainReport> {
        let mut verifier = ChainVerifier::default();
        let mut after = 0;
        loop {
            let page = self.audit_entries(after, 5000).await?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for entry in &page {
                verifier.feed(
                    entry.seq,
                    &entry.prev_hash,
                    &entry.hash,
                    &entry.compute_hash(),
                );
            }
        }
        let mut report = verifier.finish();
        // Entries removed from the end leave a chain that verifies but falls short of the head
        // recorded with the last append.
        let head = sqlx::query("SELECT seq, hash FROM chain_heads WHERE chain = 'audit'")
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)?;
        if report.ok
            && (head.get::<i64, _>(0) != report.length || head.get::<String, _>(1) != report.head)
        {
            report.ok = false;
            report.first_broken_seq = Some(report.length + 1);
        }
        Ok(report)
    }
}
