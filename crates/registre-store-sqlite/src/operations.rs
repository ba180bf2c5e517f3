//! The counts an operator's monitoring reads (`/metrics`), each from an index: the outbox's
//! pending messages (`outbox_pending`) and the open requests by deadline
//! (`requests_status_due`).
use crate::{SqliteStore, map_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_store::{OperationsStore, OutboxBacklog, RequestsDue, StoreResult};

/// The statuses of a request still running (see `RequestStatus::is_closed`), spelled out
/// so that the `(status, due_micros)` index answers.
const OPEN_STATUSES: &str = "'received', 'verified', 'in_progress'";

#[async_trait]
impl OperationsStore for SqliteStore {
    async fn outbox_backlog(&self, channel: &str) -> StoreResult<OutboxBacklog> {
        let (pending, oldest_pending_at): (i64, Option<DateTime<Utc>>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(created_at) FROM outbox
             WHERE delivered_at IS NULL AND dead_at IS NULL AND channel = $1",
        )
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
        let (overdue, due_soon): (i64, i64) = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FILTER (WHERE due_micros <= $1), COUNT(*) FILTER (WHERE due_micros > $1)
             FROM requests WHERE status IN ({OPEN_STATUSES}) AND due_micros <= $2"
        )))
        .bind(now.timestamp_micros())
        .bind(soon.timestamp_micros())
        .fetch_one(&self.reader)
        .await
        .map_err(map_err)?;
        Ok(RequestsDue { overdue, due_soon })
    }
}
