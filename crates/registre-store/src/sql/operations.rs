//! The counts an operator's monitoring reads (`/metrics`), each from an index: the outbox's
//! pending messages (`outbox_pending`) and the open requests by deadline
//! (`requests_status_due`).
use super::engine::Get;
use super::{SqlBackend, Stmt};
use crate::{OperationsStore, OutboxBacklog, RequestsDue, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

#[async_trait]
impl<B: SqlBackend> OperationsStore for B {
    async fn outbox_backlog(&self, channel: &str) -> StoreResult<OutboxBacklog> {
        let row = Stmt::<B::Db>::new(super::OUTBOX_BACKLOG)
            .bind(channel)
            .fetch_one(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        Ok(OutboxBacklog {
            pending: row.col("pending")?,
            oldest_pending_at: row.col("oldest")?,
        })
    }

    async fn open_requests_due(
        &self,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> StoreResult<RequestsDue> {
        let row = Stmt::<B::Db>::new(AssertSqlSafe(super::open_requests_due(B::DUE_COLUMN)));
        let row = B::bind_due(B::bind_due(row, now), soon)
            .fetch_one(&mut *self.read().await?)
            .await
            .map_err(B::map_err)?;
        Ok(RequestsDue {
            overdue: row.col("overdue")?,
            due_soon: row.col("due_soon")?,
        })
    }
}
