//! Signed checkpoints of the ledger, and the outbox as webhook deliveries see it.
use super::engine::{Engine, Get};
use super::requests::insert_outbox;
use super::{SqlBackend, Stmt, append_audit};
use crate::{
    CheckpointStore, ClaimedMessage, DeliveryRound, DeliveryStatus, OutboxOutcome, OutboxRecord,
    OutboxStore, StoreError, StoreResult, WebhookDelivery,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::audit::AuditRecord;
use registre_domain::proof::Checkpoint;
use sqlx::{AssertSqlSafe, Row};
use std::fmt::Write;
use uuid::Uuid;

/// Rows per bulk update: two parameters each, under SQLite's 32,766 bound parameters.
const BULK_DONE_CHUNK: usize = 500;

const CHECKPOINT_COLUMNS: &str = "id, seq, head_hash, signed_at, key_id, public_key, signature";
const DELIVERY_COLUMNS: &str = "outbox_id, subscription_id, event_id, topic, status, attempts, created_at, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at";

fn checkpoint<R: Row>(row: &R) -> StoreResult<Checkpoint>
where
    R::Database: Engine,
{
    Ok(Checkpoint {
        id: row.col("id")?,
        seq: row.col("seq")?,
        head: row.col("head_hash")?,
        signed_at: row.col("signed_at")?,
        key_id: row.col("key_id")?,
        public_key: row.col("public_key")?,
        jws: row.col("signature")?,
    })
}

fn delivery<R: Row>(row: &R) -> StoreResult<WebhookDelivery>
where
    R::Database: Engine,
{
    let status: String = row.col("status")?;
    Ok(WebhookDelivery {
        outbox_id: row.col("outbox_id")?,
        subscription_id: row.col("subscription_id")?,
        event_id: row.col("event_id")?,
        topic: row.col("topic")?,
        status: DeliveryStatus::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("delivery status {status:?}")))?,
        attempts: row.col("attempts")?,
        created_at: row.col("created_at")?,
        next_attempt_at: row.col("next_attempt_at")?,
        last_attempt_at: row.col("last_attempt_at")?,
        last_status: row.col("last_status")?,
        last_error: row.col("last_error")?,
        delivered_at: row.col("delivered_at")?,
    })
}

#[async_trait]
impl<B: SqlBackend> CheckpointStore for B {
    async fn insert_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        audit: Option<&AuditRecord>,
        outbox: &[OutboxRecord],
    ) -> StoreResult<()> {
        let mut tx = self.begin_write().await?;
        Stmt::<B::Db>::new("INSERT INTO ledger_checkpoints (id, seq, head_hash, signed_at, key_id, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(checkpoint.id)
            .bind(checkpoint.seq)
            .bind(&checkpoint.head)
            .bind(checkpoint.signed_at)
            .bind(&checkpoint.key_id)
            .bind(&checkpoint.public_key)
            .bind(&checkpoint.jws)
            .run(&mut tx)
            .await
            .map_err(B::map_err)?;
        if let Some(audit) = audit {
            append_audit::<B>(&mut tx, audit).await?;
        }
        for message in outbox {
            insert_outbox::<B>(&mut tx, message).await?;
        }
        tx.commit().await.map_err(B::map_err)
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<Checkpoint>> {
        let row = Stmt::<B::Db>::new(AssertSqlSafe(format!("SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints ORDER BY seq DESC, signed_at DESC LIMIT 1")))
            .fetch_optional(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        row.as_ref().map(checkpoint).transpose()
    }

    async fn checkpoints_up_to(&self, up_to_seq: i64) -> StoreResult<Vec<Checkpoint>> {
        let rows = Stmt::<B::Db>::new(AssertSqlSafe(format!("SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints WHERE seq <= $1 ORDER BY seq, signed_at")))
            .bind(up_to_seq)
            .fetch_all(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        rows.iter().map(checkpoint).collect()
    }

    async fn recent_checkpoints(
        &self,
        before: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<Checkpoint>> {
        let rows = match before {
            Some(before) => Stmt::<B::Db>::new(AssertSqlSafe(format!("SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints WHERE id < $1 ORDER BY id DESC LIMIT $2")))
                .bind(before)
                .bind(limit)
                .fetch_all(&mut *self.read().await?)
                .await,
            None => Stmt::<B::Db>::new(AssertSqlSafe(format!("SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints ORDER BY id DESC LIMIT $1")))
                .bind(limit)
                .fetch_all(&mut *self.read().await?)
                .await,
        }
        .map_err(B::map_err)?;
        rows.iter().map(checkpoint).collect()
    }
}

#[async_trait]
impl<B: SqlBackend> OutboxStore for B {
    async fn claim_outbox(
        &self,
        channel: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedMessage>> {
        let mut tx = self.begin_write().await?;
        let rows = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "UPDATE outbox SET next_attempt_at = $1
             WHERE id IN (SELECT id FROM outbox WHERE channel = $2 AND delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $3
                          ORDER BY next_attempt_at LIMIT $4{})
             RETURNING id, channel, topic, subject_id, payload, created_at, attempts",
            B::DIALECT.skip_locked
        )))
        .bind(lease_until)
        .bind(channel)
        .bind(now)
        .bind(limit)
        .fetch_all(&mut tx)
        .await
        .map_err(B::map_err)?;
        tx.commit().await.map_err(B::map_err)?;
        rows.iter()
            .map(|row| {
                Ok(ClaimedMessage {
                    record: OutboxRecord {
                        id: row.col("id")?,
                        channel: row.col("channel")?,
                        topic: row.col("topic")?,
                        subject_id: row.col("subject_id")?,
                        payload: row.col("payload")?,
                        created_at: row.col("created_at")?,
                    },
                    attempts: row.col("attempts")?,
                })
            })
            .collect()
    }

    async fn message_deliveries(&self, outbox_id: Uuid) -> StoreResult<Vec<WebhookDelivery>> {
        // Read on the writer: the deliveries were just written by this worker.
        let rows = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE outbox_id = $1"
        )))
        .bind(outbox_id)
        .fetch_all(&mut *self.writer().acquire().await.map_err(B::map_err)?)
        .await
        .map_err(B::map_err)?;
        rows.iter().map(delivery).collect()
    }

    async fn save_delivery_rounds(&self, rounds: &[DeliveryRound]) -> StoreResult<()> {
        if rounds.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin_write().await?;
        // Messages no subscription asked for, in chunks of one statement each.
        let done: Vec<(Uuid, DateTime<Utc>)> = rounds
            .iter()
            .filter_map(|r| Some((r.outbox_id, r.unsubscribed_done_at()?)))
            .collect();
        for chunk in done.chunks(BULK_DONE_CHUNK) {
            let mut sql = String::from(
                "UPDATE outbox SET attempts = attempts + 1, payload = $1, delivered_at = CASE id",
            );
            let mut n = 1;
            for _ in chunk {
                let _ = write!(sql, " WHEN ${} THEN ${}", n + 1, n + 2);
                n += 2;
            }
            sql.push_str(" END WHERE id IN (");
            for (i, _) in chunk.iter().enumerate() {
                let _ = write!(sql, "{}${}", if i == 0 { "" } else { ", " }, i * 2 + 2);
            }
            sql.push(')');
            let mut stmt = Stmt::<B::Db>::new(AssertSqlSafe(sql)).bind(Vec::<u8>::new());
            for (id, at) in chunk {
                stmt = stmt.bind(*id).bind(*at);
            }
            stmt.run(&mut tx).await.map_err(B::map_err)?;
        }
        for round in rounds.iter().filter(|r| r.unsubscribed_done_at().is_none()) {
            for d in &round.deliveries {
                Stmt::<B::Db>::new(
                    "INSERT INTO webhook_deliveries (outbox_id, subscription_id, event_id, topic, status, attempts, created_at, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                     ON CONFLICT (outbox_id, subscription_id) DO UPDATE SET status = excluded.status, attempts = excluded.attempts,
                        next_attempt_at = excluded.next_attempt_at, last_attempt_at = excluded.last_attempt_at, last_status = excluded.last_status,
                        last_error = excluded.last_error, delivered_at = excluded.delivered_at",
                )
                .bind(d.outbox_id)
                .bind(d.subscription_id)
                .bind(d.event_id)
                .bind(&d.topic)
                .bind(d.status.as_str())
                .bind(d.attempts)
                .bind(d.created_at)
                .bind(d.next_attempt_at)
                .bind(d.last_attempt_at)
                .bind(d.last_status)
                .bind(&d.last_error)
                .bind(d.delivered_at)
                .run(&mut tx)
                .await
                .map_err(B::map_err)?;
            }
            match &round.outcome {
                OutboxOutcome::Retry {
                    next_attempt_at,
                    last_error,
                } => {
                    Stmt::<B::Db>::new("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1")
                        .bind(round.outbox_id)
                        .bind(*next_attempt_at)
                        .bind(last_error)
                        .run(&mut tx)
                        .await
                        .map_err(B::map_err)?;
                }
                OutboxOutcome::Done { at, dead } => {
                    // The payload carries personal data: once no one needs it, it goes.
                    let column = if *dead { "dead_at" } else { "delivered_at" };
                    Stmt::<B::Db>::new(AssertSqlSafe(format!("UPDATE outbox SET attempts = attempts + 1, {column} = $2, payload = $3 WHERE id = $1")))
                        .bind(round.outbox_id)
                        .bind(*at)
                        .bind(Vec::<u8>::new())
                        .run(&mut tx)
                        .await
                        .map_err(B::map_err)?;
                }
            }
        }
        tx.commit().await.map_err(B::map_err)
    }

    async fn subscription_deliveries(
        &self,
        subscription_id: Uuid,
        limit: i64,
    ) -> StoreResult<Vec<WebhookDelivery>> {
        let rows = Stmt::<B::Db>::new(AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY created_at DESC, outbox_id DESC LIMIT $2"
        )))
        .bind(subscription_id)
        .bind(limit)
        .fetch_all(&mut *self.read().await?)
        .await
        .map_err(B::map_err)?;
        rows.iter().map(delivery).collect()
    }
}
