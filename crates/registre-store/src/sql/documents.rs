//! Configuration documents, published notices, and the hash-chained audit log that every
//! change writes in its own transaction.
use super::engine::{Engine, Get};
use super::{SqlBackend, Stmt};
use crate::{
    AuditLogStore, Document, DocumentKind, DocumentStore, NoticeStore, NoticeSummary, StoreError,
    StoreResult, StoredNotice,
};
use async_trait::async_trait;
use registre_domain::audit::{AuditEntry, AuditRecord, ChainReport, ChainVerifier};
use sqlx::{AssertSqlSafe, Database, Row};

/// Appends `record` to the audit chain inside the caller's transaction (the chain head row
/// locked until it commits).
pub async fn append_audit<B: SqlBackend>(
    conn: &mut <B::Db as Database>::Connection,
    record: &AuditRecord,
) -> StoreResult<AuditEntry> {
    let head = Stmt::<B::Db>::new(AssertSqlSafe(format!(
        "SELECT seq, hash FROM chain_heads WHERE chain = 'audit'{}",
        B::DIALECT.for_update
    )))
    .fetch_one(conn)
    .await
    .map_err(B::map_err)?;
    let entry = AuditEntry::chain(record, head.col("seq")?, &head.col::<String>("hash")?);
    Stmt::<B::Db>::new("INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)")
        .bind(entry.seq)
        .bind(entry.at)
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(&entry.target)
        .bind(&entry.details)
        .bind(&entry.prev_hash)
        .bind(&entry.hash)
        .run(conn)
        .await
        .map_err(B::map_err)?;
    Stmt::<B::Db>::new("UPDATE chain_heads SET seq = $1, hash = $2 WHERE chain = 'audit'")
        .bind(entry.seq)
        .bind(&entry.hash)
        .run(conn)
        .await
        .map_err(B::map_err)?;
    Ok(entry)
}

fn document<R: Row>(kind: DocumentKind, row: &R) -> StoreResult<Document>
where
    R::Database: Engine,
{
    let body: String = row.col("body")?;
    Ok(Document {
        kind,
        key: row.col("key")?,
        body: serde_json::from_str(&body)
            .map_err(|_| StoreError::Corrupt("document body".into()))?,
        created_at: row.col("created_at")?,
        updated_at: row.col("updated_at")?,
    })
}

#[async_trait]
impl<B: SqlBackend> DocumentStore for B {
    async fn document(&self, kind: DocumentKind, key: &str) -> StoreResult<Option<Document>> {
        let row = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT key, body{} AS body, created_at, updated_at FROM documents WHERE kind = $1 AND key = $2",
            B::DIALECT.cast("text")
        )))
        .bind(kind.as_str())
        .bind(key)
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        row.map(|row| document(kind, &row)).transpose()
    }

    async fn documents(&self, kind: DocumentKind) -> StoreResult<Vec<Document>> {
        let rows = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT key, body{} AS body, created_at, updated_at FROM documents WHERE kind = $1 ORDER BY created_at, key",
            B::DIALECT.cast("text")
        )))
        .bind(kind.as_str())
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        rows.iter().map(|row| document(kind, row)).collect()
    }

    async fn insert_document(&self, document: &Document, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "INSERT INTO documents (kind, key, body, created_at, updated_at) VALUES ($1, $2, $3{}, $4, $5)",
            B::DIALECT.cast("jsonb")
        )))
        .bind(document.kind.as_str())
        .bind(&document.key)
        .bind(document.body.to_string())
        .bind(document.created_at)
        .bind(document.updated_at)
        .run(&mut tx)
        .await
        .map_err(B::map_err)?;
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }

    async fn update_document(&self, document: &Document, audit: &AuditRecord) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        let done = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "UPDATE documents SET body = $3{}, updated_at = $4 WHERE kind = $1 AND key = $2",
            B::DIALECT.cast("jsonb")
        )))
        .bind(document.kind.as_str())
        .bind(&document.key)
        .bind(document.body.to_string())
        .bind(document.updated_at)
        .run(&mut tx)
        .await
        .map_err(B::map_err)?;
        if B::rows_affected(&done) == 0 {
            return Err(StoreError::NotFound);
        }
        append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)
    }
}

#[async_trait]
impl<B: SqlBackend> NoticeStore for B {
    async fn save_notice(&self, notice: &StoredNotice) -> StoreResult<bool> {
        let mut tx = self.begin_write().await?;
        let done = Stmt::<B::Db>::new("INSERT INTO notices (version, touchpoint, content, published_at) VALUES ($1, $2, $3, $4) ON CONFLICT (version) DO NOTHING")
            .bind(&notice.version)
            .bind(&notice.touchpoint)
            .bind(&notice.content)
            .bind(notice.published_at)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        tx.commit().await.map_err(B::map_err)?;
        Ok(B::rows_affected(&done) == 1)
    }

    async fn notice(&self, version: &str) -> StoreResult<Option<StoredNotice>> {
        let row = Stmt::<B::Db>::new(
            "SELECT version, touchpoint, content, published_at FROM notices WHERE version = $1",
        )
        .bind(version)
        .fetch_optional(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        row.map(|row| {
            Ok(StoredNotice {
                version: row.col("version")?,
                touchpoint: row.col("touchpoint")?,
                content: row.col("content")?,
                published_at: row.col("published_at")?,
            })
        })
        .transpose()
    }

    async fn notice_history(&self, touchpoint: &str) -> StoreResult<Vec<NoticeSummary>> {
        let rows = Stmt::<B::Db>::new("SELECT version, published_at FROM notices WHERE touchpoint = $1 ORDER BY published_at DESC")
            .bind(touchpoint)
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        rows.iter()
            .map(|row| {
                Ok(NoticeSummary {
                    version: row.col("version")?,
                    published_at: row.col("published_at")?,
                })
            })
            .collect()
    }
}

fn audit_entry<R: Row>(row: &R) -> StoreResult<AuditEntry>
where
    R::Database: Engine,
{
    Ok(AuditEntry {
        seq: row.col("seq")?,
        at: row.col("at")?,
        actor: row.col("actor")?,
        action: row.col("action")?,
        target: row.col("target")?,
        details: row.col("details")?,
        prev_hash: row.col("prev_hash")?,
        hash: row.col("hash")?,
    })
}

#[async_trait]
impl<B: SqlBackend> AuditLogStore for B {
    async fn append_audit(&self, audit: &AuditRecord) -> StoreResult<AuditEntry> {
        let mut tx = self.begin_write().await?;
        let entry = append_audit::<B>(&mut tx, audit).await?;
        tx.commit().await.map_err(B::map_err)?;
        Ok(entry)
    }

    async fn audit_entries(&self, after: i64, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let rows = Stmt::<B::Db>::new("SELECT seq, at, actor, action, target, details, prev_hash, hash FROM audit_log WHERE seq > $1 ORDER BY seq LIMIT $2")
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        rows.iter().map(audit_entry).collect()
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
        let head = Stmt::<B::Db>::new("SELECT seq, hash FROM chain_heads WHERE chain = 'audit'")
            .fetch_one(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        if report.ok
            && (head.col::<i64>("seq")? != report.length
                || head.col::<String>("hash")? != report.head)
        {
            report.ok = false;
            report.first_broken_seq = Some(report.length + 1);
        }
        Ok(report)
    }
}
