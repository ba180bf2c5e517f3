//! The counts an operator's monitoring reads (`/metrics`), each from an index: the outbox's
//! pending messages (`outbox_pending`) and the open requests by deadline
//! (`requests_status_due`).
use crate::{PostgresStore, map_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_store::{OperationsStore, OutboxBacklog, RequestsDue, StoreResult, sql};

#[async_trait]
impl OperationsStore for PostgresStore {
    async fn outbox_backlog(&self, channel: &str) -> StoreResult<OutboxBacklog> {
        let (pending, oldest_pending_at): (i64, Option<DateTime<Utc>>) =
            sqlx::query_as(sql::OUTBOX_BACKLOG)
                .bind(channel)
                .fetch_one(&self.reader)
                .await
                .map_err(map_err)?;
        Ok(OutboxBacklog {
            pending,
            oldest_pending_at,
        })
    }

    async fn open_requests_due(
        &self,
        now: DateTime<Utc>,
        soon: DateTime<Utc>,
    ) -> StoreResult<RequestsDue> {
        let (overdue, due_soon): (i64, i64) =
            sqlx::query_as(sqlx::AssertSqlSafe(sql::open_requests_due("due_at")))
                .bind(now)
                .bind(soon)
                .fetch_one(&self.reader)
                .await
                .map_err(map_err)?;
        Ok(RequestsDue { overdue, due_soon })
    }
}
