//! The SQL the SQLite and PostgreSQL stores share, written once: statements, row mappings
//! and the register traits' implementations for any [`SqlBackend`]. An engine brings only
//! its seam: how a write transaction begins (and what it locks), how its errors read, and
//! the few words of SQL the two spell differently ([`Dialect`]).
//!
//! Statements are written with `$1`-style parameters, which both drivers read, numbered in
//! the order they are bound.

mod access;
mod console;
mod documents;
pub mod engine;
mod operations;
mod proofs;
mod registers;
mod requests;
pub mod rows;
mod tokens;

pub use documents::append_audit;
pub use engine::{Bind, Column, Engine, Get, Stmt};
pub use requests::{insert_outbox, rectify_records};

use crate::{StoreError, StoreResult};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::pool::PoolConnection;

/// The few words of SQL the engines spell differently.
#[derive(Clone, Copy, Debug)]
pub struct Dialect {
    /// PostgreSQL needs a parameter's type where the statement does not give it (`$1::text IS
    /// NULL`) and a cast between text and `jsonb`; SQLite's columns take what they are given.
    pub casts: bool,
    /// What locks a row read inside a write transaction until it commits: PostgreSQL's `FOR
    /// UPDATE`; nothing on SQLite, whose write transaction holds the whole file.
    pub for_update: &'static str,
    /// What makes a claim skip rows another server is claiming rather than wait for them:
    /// PostgreSQL's `FOR UPDATE SKIP LOCKED`; nothing on SQLite, which has one writer.
    pub skip_locked: &'static str,
    /// The UTC calendar day (`YYYY-MM-DD`) of a timestamp column.
    pub utc_day: fn(&str) -> String,
}

impl Dialect {
    /// `::ty` where the engine wants the cast, nothing where it does not.
    pub fn cast(&self, ty: &'static str) -> String {
        if self.casts {
            format!("::{ty}")
        } else {
            String::new()
        }
    }
}

/// One engine's seam: everything the shared SQL cannot say the same way on both.
#[async_trait]
pub trait SqlBackend: Send + Sync + 'static {
    type Db: Engine;
    const DIALECT: Dialect;

    /// The pool reads run on.
    fn reader(&self) -> &sqlx::Pool<Self::Db>;
    /// The pool writes run on, for a read that must see this process's last write.
    fn writer(&self) -> &sqlx::Pool<Self::Db>;
    /// Begins a transaction that may write, holding whatever lock the engine needs first.
    async fn begin_write(&self) -> StoreResult<sqlx::Transaction<'static, Self::Db>>;
    /// The one place where this engine's errors become store errors (constraint names kept,
    /// so that the edge maps them to 409).
    fn map_err(error: sqlx::Error) -> StoreError;
    fn rows_affected(result: &<Self::Db as sqlx::Database>::QueryResult) -> u64;

    /// The column request deadlines are compared on: `due_at` itself, or a copy the engine
    /// orders better (SQLite keeps timestamps as text, and `due_micros` beside them).
    const DUE_COLUMN: &'static str;
    /// Binds a deadline as [`Self::DUE_COLUMN`] holds it.
    fn bind_due(stmt: Stmt<Self::Db>, at: DateTime<Utc>) -> Stmt<Self::Db>;

    /// A connection of the read pool.
    async fn read(&self) -> StoreResult<PoolConnection<Self::Db>> {
        self.reader().acquire().await.map_err(Self::map_err)
    }
}

/// Pending messages of a channel and the oldest of them (`outbox_pending` index).
pub const OUTBOX_BACKLOG: &str = "SELECT COUNT(*) AS pending, MIN(created_at) AS oldest FROM outbox
     WHERE delivered_at IS NULL AND dead_at IS NULL AND channel = $1";

/// Open requests overdue at `$1` and due by `$2`, counted on the `(status, <due column>)`
/// index: the statuses of a request still running (see `RequestStatus::is_closed`) are
/// spelled out so that the index answers. `due` is the deadline's column (`due_at` on
/// PostgreSQL, `due_micros` on SQLite).
pub fn open_requests_due(due: &str) -> String {
    format!(
        "SELECT COUNT(*) FILTER (WHERE {due} <= $1) AS overdue, COUNT(*) FILTER (WHERE {due} > $1) AS due_soon
         FROM requests WHERE status IN ('received', 'verified', 'in_progress') AND {due} <= $2"
    )
}
