//! SQL text the SQLite and PostgreSQL stores run as written, each binding its own column
//! types: one statement, one place (issue #17 moves the rest of the shared SQL here).

/// Pending messages of a channel and the oldest of them (`outbox_pending` index).
pub const OUTBOX_BACKLOG: &str = "SELECT COUNT(*), MIN(created_at) FROM outbox
     WHERE delivered_at IS NULL AND dead_at IS NULL AND channel = $1";

/// Open requests overdue at `$1` and due by `$2`, counted on the `(status, <due column>)`
/// index: the statuses of a request still running (see `RequestStatus::is_closed`) are
/// spelled out so that the index answers. `due` is the deadline's column (`due_at` on
/// PostgreSQL, `due_micros` on SQLite).
pub fn open_requests_due(due: &str) -> String {
    format!(
        "SELECT COUNT(*) FILTER (WHERE {due} <= $1), COUNT(*) FILTER (WHERE {due} > $1)
         FROM requests WHERE status IN ('received', 'verified', 'in_progress') AND {due} <= $2"
    )
}
