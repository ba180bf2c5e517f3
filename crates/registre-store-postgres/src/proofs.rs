//! Signed checkpoints of the ledger, and the outbox as webhook deliveries see it.
use crate::documents::append_audit;
use crate::requests::insert_outbox;
use crate::{PostgresStore, corrupt, map_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::audit::AuditRecord;
use registre_domain::proof::Checkpoint;
use registre_store::{
    CheckpointStore, ClaimedMessage, DeliveryRound, DeliveryStatus, OutboxOutcome, OutboxRecord,
    OutboxStore, StoreResult, WebhookDelivery,
};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

const CHECKPOINT_COLUMNS: &str = "id, seq, head_hash, signed_at, key_id, public_key, signature";
const DELIVERY_COLUMNS: &str = "outbox_id, subscription_id, event_id, topic, status, attempts, created_at, next_attempt_at, last_attempt_at, last_status, last_error, delivered_at";

fn checkpoint(row: &PgRow) -> Checkpoint {
    Checkpoint {
        id: row.get("id"),
        seq: row.get("seq"),
        head: row.get("head_hash"),
        signed_at: row.get("signed_at"),
        key_id: row.get("key_id"),
        public_key: row.get("public_key"),
        jws: row.get("signature"),
    }
}

fn delivery(row: &PgRow) -> StoreResult<WebhookDelivery> {
    Ok(WebhookDelivery {
        outbox_id: row.get("outbox_id"),
        subscription_id: row.get("subscription_id"),
        event_id: row.get("event_id"),
        topic: row.get("topic"),
        status: DeliveryStatus::parse(row.get("status"))
            .ok_or_else(|| corrupt("delivery status"))?,
        attempts: row.get("attempts"),
        created_at: row.get("created_at"),
        next_attempt_at: row.get("next_attempt_at"),
        last_attempt_at: row.get("last_attempt_at"),
        last_status: row.get("last_status"),
        last_error: row.get("last_error"),
        delivered_at: row.get("delivered_at"),
    })
}

#[async_trait]
impl CheckpointStore for PostgresStore {
    async fn insert_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        audit: Option<&AuditRecord>,
        outbox: &[OutboxRecord],
    ) -> StoreResult<()> {
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        sqlx::query("INSERT INTO ledger_checkpoints (id, seq, head_hash, signed_at, key_id, public_key, signature) VALUES ($1, $2, $3, $4, $5, $6, $7)")
            .bind(checkpoint.id)
            .bind(checkpoint.seq)
            .bind(&checkpoint.head)
            .bind(checkpoint.signed_at)
            .bind(&checkpoint.key_id)
            .bind(&checkpoint.public_key)
            .bind(&checkpoint.jws)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        if let Some(audit) = audit {
            append_audit(&mut tx, audit).await?;
        }
        for message in outbox {
            insert_outbox(&mut tx, message).await?;
        }
        tx.commit().await.map_err(map_err)
    }

    async fn latest_checkpoint(&self) -> StoreResult<Option<Checkpoint>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints ORDER BY seq DESC, signed_at DESC LIMIT 1")))
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(row.as_ref().map(checkpoint))
    }

    async fn checkpoints_up_to(&self, up_to_seq: i64) -> StoreResult<Vec<Checkpoint>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints WHERE seq <= $1 ORDER BY seq, signed_at")))
            .bind(up_to_seq)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(rows.iter().map(checkpoint).collect())
    }

    async fn recent_checkpoints(
        &self,
        before: Option<Uuid>,
        limit: i64,
    ) -> StoreResult<Vec<Checkpoint>> {
        let rows = match before {
            Some(before) => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints WHERE id < $1 ORDER BY id DESC LIMIT $2")))
                .bind(before)
                .bind(limit)
                .fetch_all(&self.reader)
                .await,
            None => sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CHECKPOINT_COLUMNS} FROM ledger_checkpoints ORDER BY id DESC LIMIT $1")))
                .bind(limit)
                .fetch_all(&self.reader)
                .await,
        }
        .map_err(map_err)?;
        Ok(rows.iter().map(checkpoint).collect())
    }
}

#[async_trait]
impl OutboxStore for PostgresStore {
    async fn claim_outbox(
        &self,
        channel: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<ClaimedMessage>> {
        // Rows another server is claiming are skipped, not waited for.
        let rows = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1
             WHERE id IN (SELECT id FROM outbox WHERE channel = $2 AND delivered_at IS NULL AND dead_at IS NULL AND next_attempt_at <= $3
                          ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED)
             RETURNING id, channel, topic, subject_id, payload, created_at, attempts",
        )
        .bind(lease_until)
        .bind(channel)
        .bind(now)
        .bind(limit)
        .fetch_all(&self.writer)
        .await
        .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(|row| ClaimedMessage {
                record: OutboxRecord {
                    id: row.get("id"),
                    channel: row.get("channel"),
                    topic: row.get("topic"),
                    subject_id: row.get("subject_id"),
                    payload: row.get("payload"),
                    created_at: row.get("created_at"),
                },
                attempts: row.get("attempts"),
            })
            .collect())
    }

    async fn message_deliveries(&self, outbox_id: Uuid) -> StoreResult<Vec<WebhookDelivery>> {
        // One pool: reads see this worker's writes.
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE outbox_id = $1"
        )))
        .bind(outbox_id)
        .fetch_all(&self.writer)
        .await
        .map_err(map_err)?;
        rows.iter().map(delivery).collect()
    }

    async fn save_delivery_rounds(&self, rounds: &[DeliveryRound]) -> StoreResult<()> {
        if rounds.is_empty() {
            return Ok(());
        }
        let mut tx = self.writer.begin().await.map_err(map_err)?;
        // Messages no subscription asked for, in one statement.
        let (ids, ats): (Vec<Uuid>, Vec<DateTime<Utc>>) = rounds
            .iter()
            .filter_map(|r| Some((r.outbox_id, r.unsubscribed_done_at()?)))
            .unzip();
        if !ids.is_empty() {
            sqlx::query(
                "UPDATE outbox SET attempts = outbox.attempts + 1, payload = ''::bytea, delivered_at = done.at
                 FROM UNNEST($1::uuid[], $2::timestamptz[]) AS done(id, at) WHERE outbox.id = done.id",
            )
            .bind(&ids)
            .bind(&ats)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        }
        for round in rounds.iter().filter(|r| r.unsubscribed_done_at().is_none()) {
            for d in &round.deliveries {
                sqlx::query(
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
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            }
            match &round.outcome {
                OutboxOutcome::Retry {
                    next_attempt_at,
                    last_error,
                } => {
                    sqlx::query("UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $2, last_error = $3 WHERE id = $1")
                        .bind(round.outbox_id)
                        .bind(next_attempt_at)
                        .bind(last_error)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
                OutboxOutcome::Done { at, dead } => {
                    // The payload carries personal data: once no one needs it, it goes.
                    let column = if *dead { "dead_at" } else { "delivered_at" };
                    sqlx::query(sqlx::AssertSqlSafe(format!("UPDATE outbox SET attempts = attempts + 1, {column} = $2, payload = ''::bytea WHERE id = $1")))
                        .bind(round.outbox_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                }
            }
        }
        tx.commit().await.map_err(map_err)
    }

    async fn subscription_deliveries(
        &self,
        subscription_id: Uuid,
        limit: i64,
    ) -> StoreResult<Vec<WebhookDelivery>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE subscription_id = $1 ORDER BY created_at DESC, outbox_id DESC LIMIT $2"
        )))
        .bind(subscription_id)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter().map(delivery).collect()
    }
}
