//! Finding people by blind index without writing a random B-tree page for every new person.
//!
//! A blind index is a keyed hash: a B-tree ordered by it takes each new person on a random
//! leaf page, and a commit writes every page it dirtied to the log, then the checkpoint
//! writes it again. At a million people that page was most of what a grant wrote (about
//! 4 KiB for a row of a few hundred bytes; BENCHMARKS.md).
//!
//! So the lookup table, `subject_index`, is written in sorted batches instead. A new person
//! is only appended to `subjects`, numbered by `seq`; everyone numbered past
//! `subject_index_merged.through_seq` is *pending*, and this process keeps them in memory.
//! A merge cycle ([`SubjectIndex::merge`]) inserts the pending people in blind-index order,
//! one small key range per transaction so that ledger batches pass in between, then moves
//! the mark. Merging an eighth of the index at once touches each leaf page about once for
//! many people.
//!
//! The memory is exact where it must be: every transaction that creates, erases or
//! re-indexes people holds [`SubjectIndex::write`] from before its `BEGIN` until the memory
//! reflects its outcome, and first compares the writer connection's `PRAGMA data_version`
//! with the one the memory was loaded at: another process's commit (a CLI import) makes it
//! load the pending people again from the database. Uniqueness is decided there, inside
//! the write transaction, against the memory and the table. Readers of this process may see
//! another process's new person up to the external-write poll late, as the check cache does;
//! while the memory is known to be stale they read the pending rows from the table.
use crate::batched::{MAX_ROWS, any_of};
use crate::map_err;
use registre_store::StoreResult;
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool};
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::time::Duration;
use uuid::Uuid;

/// People merged per transaction of a cycle: a contiguous key range, a few dozen leaf
/// pages at a million people.
const MERGE_STEP: usize = 512;
/// A cycle starts once this many people are pending...
const MERGE_AT_LEAST: usize = 8_192;
/// ...and at least one person for this many already merged.
const MERGE_SHARE: usize = 8;
/// How often the merger looks at the pending count.
const MERGE_POLL: Duration = Duration::from_secs(1);

#[derive(Debug, Default)]
struct Pending {
    /// Blind index → subject, for everyone numbered past the merged mark (and, until their
    /// cycle ends, for those a running cycle merged).
    entries: HashMap<Vec<u8>, Uuid>,
    /// The writer connection's `PRAGMA data_version` when `entries` was last read from the
    /// database; `None` when it must be read again before it can be trusted.
    data_version: Option<i64>,
    /// `subject_index_merged.through_seq`: about how many people are merged (erased ones
    /// included, which is close enough for when to merge next).
    merged_through: i64,
}

#[derive(Debug, Default)]
pub(crate) struct SubjectIndex {
    /// Held by every transaction that changes who has which blind index.
    writing: tokio::sync::Mutex<()>,
    pending: RwLock<Pending>,
}

/// One transaction's hold on the index: what it changed is applied to the memory by
/// [`IndexWrite::committed`]; dropped without it, the memory is read again next time.
pub(crate) struct IndexWrite<'a> {
    index: &'a SubjectIndex,
    _writing: tokio::sync::MutexGuard<'a, ()>,
    /// What this transaction did, in order.
    changes: Vec<Change>,
    done: bool,
}

enum Change {
    /// Appended to `subjects`: pending until a cycle merges them.
    Added(Vec<u8>, Uuid),
    /// No longer holds the blind index (erased, or given another), or no longer pending
    /// (merged).
    Removed(Vec<u8>, Uuid),
}

/// Where an [`IndexWrite`]'s changes stood, to undo those of a rolled-back savepoint.
#[derive(Clone, Copy)]
pub(crate) struct Mark(usize);

impl SubjectIndex {
    /// Waits for the right to change the index; call [`IndexWrite::sync`] once the write
    /// transaction has begun.
    pub(crate) async fn write(&self) -> IndexWrite<'_> {
        IndexWrite {
            index: self,
            _writing: self.writing.lock().await,
            changes: Vec::new(),
            done: false,
        }
    }

    /// The pending person with this blind index, as far as this process knows; `None` also
    /// when the memory is stale (see [`Self::is_stale`]).
    pub(crate) fn pending(&self, blind_index: &[u8]) -> Option<Uuid> {
        let pending = self.pending.read().ok()?;
        pending.data_version?;
        pending.entries.get(blind_index).copied()
    }

    /// Whether the memory may lack another process's new people.
    pub(crate) fn is_stale(&self) -> bool {
        self.pending
            .read()
            .map(|p| p.data_version.is_none())
            .unwrap_or(true)
    }

    /// Another process wrote: read the pending people again before trusting the memory.
    pub(crate) fn mark_stale(&self) {
        if let Ok(mut pending) = self.pending.write() {
            pending.data_version = None;
        }
    }

    /// Whether enough people are pending for a merge to pay.
    fn merge_due(&self) -> bool {
        self.pending.read().is_ok_and(|p| {
            let merged = usize::try_from(p.merged_through).unwrap_or(0);
            p.entries.len() >= MERGE_AT_LEAST.max(merged / MERGE_SHARE)
        })
    }

    /// Merges everyone pending now into `subject_index`, one key range per transaction,
    /// then moves the mark. Returns how many people it merged.
    pub(crate) async fn merge(&self, writer: &SqlitePool) -> StoreResult<usize> {
        let (mut snapshot, through) = {
            let mut write = self.write().await;
            let mut tx = crate::begin_write(writer).await?;
            write.sync(&mut tx).await?;
            let through: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM subjects")
                .fetch_one(&mut *tx)
                .await
                .map_err(map_err)?;
            let snapshot: Vec<(Vec<u8>, Uuid)> = self
                .pending
                .read()
                .map(|p| p.entries.iter().map(|(b, id)| (b.clone(), *id)).collect())
                .unwrap_or_default();
            tx.commit().await.map_err(map_err)?;
            write.committed();
            (snapshot, through)
        };
        snapshot.sort_unstable();
        for range in snapshot.chunks(MERGE_STEP) {
            let write = self.write().await;
            let mut tx = crate::begin_write(writer).await?;
            // Rows as they are now: someone erased since the snapshot is not indexed again,
            // someone re-indexed meanwhile is already there.
            let sql = format!(
                "{} ORDER BY blind_index ON CONFLICT (blind_index) DO NOTHING",
                any_of(
                    "INSERT INTO subject_index (blind_index, subject_id) SELECT blind_index, id FROM subjects WHERE id",
                    range.len()
                )
            );
            let mut query = sqlx::query::<Sqlite>(sqlx::AssertSqlSafe(sql));
            for (_, id) in range {
                query = query.bind(*id);
            }
            query.execute(&mut *tx).await.map_err(map_err)?;
            tx.commit().await.map_err(map_err)?;
            write.committed();
            tokio::task::yield_now().await;
        }
        let mut write = self.write().await;
        let mut tx = crate::begin_write(writer).await?;
        sqlx::query("UPDATE subject_index_merged SET through_seq = MAX(through_seq, $1)")
            .bind(through)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        let count = snapshot.len();
        write.changes.extend(
            snapshot
                .into_iter()
                .map(|(blind_index, id)| Change::Removed(blind_index, id)),
        );
        write.committed();
        if let Ok(mut pending) = self.pending.write() {
            pending.merged_through = pending.merged_through.max(through);
        }
        Ok(count)
    }

    /// The writer connection's `PRAGMA data_version` now: if another connection committed
    /// since the memory was read, the memory is stale.
    pub(crate) fn observe(&self, data_version: i64) {
        if let Ok(mut pending) = self.pending.write()
            && pending
                .data_version
                .is_some_and(|known| known != data_version)
        {
            pending.data_version = None;
        }
    }

    /// Reads the pending people again if another process wrote (outside any transaction).
    pub(crate) async fn load(&self, writer: &SqlitePool) -> StoreResult<()> {
        let mut write = self.write().await;
        let mut tx = crate::begin_write(writer).await?;
        write.sync(&mut tx).await?;
        tx.commit().await.map_err(map_err)?;
        write.committed();
        Ok(())
    }
}

impl IndexWrite<'_> {
    /// Makes the memory equal to the database if another connection committed since it was
    /// read. Call it inside the write transaction, before anything else of this module.
    pub(crate) async fn sync(&mut self, conn: &mut SqliteConnection) -> StoreResult<()> {
        let version: i64 = sqlx::query_scalar("PRAGMA data_version")
            .fetch_one(&mut *conn)
            .await
            .map_err(map_err)?;
        let known = self.index.pending.read().ok().and_then(|p| p.data_version);
        if known == Some(version) {
            return Ok(());
        }
        let merged_through: i64 =
            sqlx::query_scalar("SELECT through_seq FROM subject_index_merged")
                .fetch_one(&mut *conn)
                .await
                .map_err(map_err)?;
        let rows = sqlx::query("SELECT blind_index, id FROM subjects WHERE seq > $1")
            .bind(merged_through)
            .fetch_all(&mut *conn)
            .await
            .map_err(map_err)?;
        let entries = rows
            .iter()
            .map(|row| (row.get::<Vec<u8>, _>(0), row.get::<Uuid, _>(1)))
            .collect();
        if let Ok(mut pending) = self.index.pending.write() {
            *pending = Pending {
                entries,
                data_version: Some(version),
                merged_through,
            };
        }
        Ok(())
    }

    /// The subject holding `blind_index`, within this transaction.
    pub(crate) async fn resolve(
        &self,
        conn: &mut SqliteConnection,
        blind_index: &[u8],
    ) -> StoreResult<Option<Uuid>> {
        if let Some(id) = self.pending_here(blind_index) {
            return Ok(Some(id));
        }
        sqlx::query_scalar("SELECT subject_id FROM subject_index WHERE blind_index = $1")
            .bind(blind_index)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)
    }

    /// Those of `blind_indexes` someone already holds, within this transaction.
    pub(crate) async fn taken(
        &self,
        conn: &mut SqliteConnection,
        blind_indexes: &[&[u8]],
    ) -> StoreResult<HashSet<Vec<u8>>> {
        let mut taken = HashSet::new();
        let mut unknown = Vec::new();
        for blind_index in blind_indexes {
            if self.pending_here(blind_index).is_some() {
                taken.insert(blind_index.to_vec());
            } else {
                unknown.push(*blind_index);
            }
        }
        for chunk in unknown.chunks(MAX_ROWS * 4) {
            let sql = any_of(
                "SELECT blind_index FROM subject_index WHERE blind_index",
                chunk.len(),
            );
            let mut query = sqlx::query_scalar::<Sqlite, Vec<u8>>(sqlx::AssertSqlSafe(sql));
            for blind_index in chunk {
                query = query.bind(*blind_index);
            }
            taken.extend(query.fetch_all(&mut *conn).await.map_err(map_err)?);
        }
        Ok(taken)
    }

    /// The pending holder of `blind_index` as this transaction leaves it: its own last
    /// change to it, else the memory. (Merged holders are in the table, which already shows
    /// this transaction's own changes.)
    fn pending_here(&self, blind_index: &[u8]) -> Option<Uuid> {
        let last = self.changes.iter().rev().find_map(|change| match change {
            Change::Added(b, id) if b == blind_index => Some(Some(*id)),
            Change::Removed(b, _) if b == blind_index => Some(None),
            _ => None,
        });
        match last {
            Some(holder) => holder,
            None => self
                .index
                .pending
                .read()
                .ok()?
                .entries
                .get(blind_index)
                .copied(),
        }
    }

    /// A person this transaction appended to `subjects`: pending until a cycle merges them.
    pub(crate) fn added(&mut self, blind_index: &[u8], id: Uuid) {
        self.changes.push(Change::Added(blind_index.to_vec(), id));
    }

    /// `id` no longer holds `blind_index` (erased, or given another one).
    pub(crate) async fn remove(
        &mut self,
        conn: &mut SqliteConnection,
        blind_index: &[u8],
        id: Uuid,
    ) -> StoreResult<()> {
        sqlx::query("DELETE FROM subject_index WHERE blind_index = $1 AND subject_id = $2")
            .bind(blind_index)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        self.changes.push(Change::Removed(blind_index.to_vec(), id));
        Ok(())
    }

    /// `id` now holds `blind_index`, indexed at once (a rectified email: rare enough to
    /// write its page directly, and the person may be long merged).
    pub(crate) async fn insert_indexed(
        &mut self,
        conn: &mut SqliteConnection,
        blind_index: &[u8],
        id: Uuid,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO subject_index (blind_index, subject_id) VALUES ($1, $2)")
            .bind(blind_index)
            .bind(id)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    pub(crate) fn mark(&self) -> Mark {
        Mark(self.changes.len())
    }

    /// Forgets what was recorded since `mark` (its savepoint was rolled back).
    pub(crate) fn rollback_to(&mut self, mark: Mark) {
        self.changes.truncate(mark.0);
    }

    /// The transaction committed: the memory takes its changes.
    pub(crate) fn committed(mut self) {
        self.done = true;
        if let Ok(mut pending) = self.index.pending.write() {
            for change in self.changes.drain(..) {
                match change {
                    Change::Added(blind_index, id) => {
                        pending.entries.insert(blind_index, id);
                    }
                    Change::Removed(blind_index, id) => {
                        if pending.entries.get(&blind_index) == Some(&id) {
                            pending.entries.remove(&blind_index);
                        }
                    }
                }
            }
        }
    }
}

impl Drop for IndexWrite<'_> {
    fn drop(&mut self) {
        // Rolled back, or a commit whose outcome is unknown: read the database again.
        if !self.done && !self.changes.is_empty() {
            self.index.mark_stale();
        }
    }
}

/// Merges whenever enough people are pending, and reads the pending people again after
/// another process wrote, for as long as the store is open.
pub(crate) async fn run_merger(writer: SqlitePool, index: std::sync::Weak<SubjectIndex>) {
    // Said once per spell of failures, not every round.
    let mut failing = false;
    loop {
        tokio::time::sleep(MERGE_POLL).await;
        let Some(index) = index.upgrade() else { return };
        let result = async {
            if index.is_stale() {
                index.load(&writer).await?;
            }
            if index.merge_due() {
                index.merge(&writer).await?;
            }
            StoreResult::Ok(())
        }
        .await;
        match result {
            Ok(()) => failing = false,
            Err(error) if !failing => {
                failing = true;
                tracing::warn!(%error, "the subject index merge fails; new people stay pending until it works again");
            }
            Err(_) => {}
        }
    }
}

/// `select` (which names `subjects` as `s`) for the holder of blind index `$1`: the
/// pending person `$2` if this process knows one, else the merged index's.
pub(crate) fn by_index(select: &str) -> String {
    format!(
        "{select} WHERE s.id = COALESCE($2, (SELECT subject_id FROM subject_index WHERE blind_index = $1)) AND s.blind_index = $1"
    )
}

/// `select` among the pending rows themselves: for readers while the memory is stale.
pub(crate) fn pending_by_index(select: &str) -> String {
    format!(
        "{select} WHERE s.seq > (SELECT through_seq FROM subject_index_merged) AND s.blind_index = $1"
    )
}
