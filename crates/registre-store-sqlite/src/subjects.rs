use crate::{SqliteStore, map_err};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use registre_domain::audit::AuditRecord;
use registre_domain::ledger::ConsentEvent;
use registre_domain::proof::ChainLink;
use registre_store::{
    ChangeSet, CheckSubject, CheckView, ConsentStateRecord, LedgerStore, Rectification,
    SUBJECT_INDEX_CONSTRAINT, StoreError, StoreResult, SubjectRecord, SubjectStore,
    SubmissionRecord,
};
use sqlx::Row;
use uuid::Uuid;

pub(crate) use registre_store::sql::rows::{
    EVENT_COLUMNS, SUBJECT_COLUMNS, consent_event, parse_state, subject,
};

/// Appends a new person to `subjects`; whether their blind index is free is for the caller
/// to know (see `subject_index.rs`).
pub(crate) async fn insert_subject(
    conn: &mut sqlx::SqliteConnection,
    subject: &SubjectRecord,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO subjects (id, blind_index, wrapped_key, email_sealed, external_id_index, external_id_sealed, restricted, objected_to_marketing, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(subject.id)
    .bind(&subject.blind_index)
    .bind(&subject.wrapped_key)
    .bind(&subject.email_sealed)
    .bind(&subject.external_id_index)
    .bind(&subject.external_id_sealed)
    .bind(subject.restricted)
    .bind(subject.objected_to_marketing)
    .bind(subject.created_at)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    Ok(())
}

impl SqliteStore {
    /// The row of `select` (naming `subjects` as `s`; `$3` is `extra`) for whoever holds
    /// `blind_index`, through the pending people and the merged index.
    pub(crate) async fn row_by_index(
        &self,
        select: &str,
        blind_index: &[u8],
        extra: Option<&str>,
    ) -> StoreResult<Option<sqlx::sqlite::SqliteRow>> {
        let pending = self.index.pending(blind_index);
        let row = sqlx::query(sqlx::AssertSqlSafe(crate::subject_index::by_index(select)))
            .bind(blind_index)
            .bind(pending)
            .bind(extra)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        if row.is_some() || !self.index.is_stale() {
            return Ok(row);
        }
        sqlx::query(sqlx::AssertSqlSafe(crate::subject_index::pending_by_index(
            select,
        )))
        .bind(blind_index)
        .bind(pending)
        .bind(extra)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)
    }
}

#[async_trait]
impl SubjectStore for SqliteStore {
    async fn rectify(&self, rectification: &Rectification, audit: &AuditRecord) -> StoreResult<()> {
        let mut write = self.index.write().await;
        let mut tx = self.write_tx().await?;
        write.sync(&mut tx).await?;
        if let Some((blind_index, email_sealed)) = &rectification.new_email {
            let held: Option<Vec<u8>> =
                sqlx::query_scalar("SELECT blind_index FROM subjects WHERE id = $1")
                    .bind(rectification.subject_id)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(map_err)?;
            let Some(held) = held else {
                return Err(StoreError::NotFound);
            };
            if held != *blind_index {
                if write.resolve(&mut tx, blind_index).await?.is_some() {
                    return Err(StoreError::Conflict {
                        constraint: SUBJECT_INDEX_CONSTRAINT.into(),
                    });
                }
                write
                    .remove(&mut tx, &held, rectification.subject_id)
                    .await?;
                write
                    .insert_indexed(&mut tx, blind_index, rectification.subject_id)
                    .await?;
            }
            sqlx::query("UPDATE subjects SET blind_index = $2, email_sealed = $3 WHERE id = $1")
                .bind(rectification.subject_id)
                .bind(blind_index)
                .bind(email_sealed)
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
        }
        registre_store::sql::rectify_records::<SqliteStore>(&mut tx, rectification, audit).await?;
        tx.commit().await.map_err(map_err)?;
        write.committed();
        if rectification.new_email.is_some() {
            // The old blind index is not known here, and a lookup may have cached "no such
            // person" under the new one: forget every cached subject.
            self.cache.forget_all_subjects();
        }
        Ok(())
    }

    async fn get_or_create_subject(&self, candidate: &SubjectRecord) -> StoreResult<SubjectRecord> {
        let mut write = self.index.write().await;
        let mut tx = self.write_tx().await?;
        write.sync(&mut tx).await?;
        let id = match write.resolve(&mut tx, &candidate.blind_index).await? {
            Some(id) => id,
            None => {
                insert_subject(&mut tx, candidate).await?;
                write.added(&candidate.blind_index, candidate.id);
                candidate.id
            }
        };
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id = $1"
        )))
        .bind(id)
        .fetch_one(&mut *tx)
        .await
        .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        write.committed();
        self.cache.forget_subject(&candidate.blind_index);
        subject(&row)
    }

    async fn create_subjects(&self, subjects: &[SubjectRecord]) -> StoreResult<()> {
        let mut write = self.index.write().await;
        let mut tx = self.write_tx().await?;
        write.sync(&mut tx).await?;
        for candidate in subjects {
            // Someone who already has a record keeps it.
            if write
                .taken(&mut tx, &[candidate.blind_index.as_slice()])
                .await?
                .is_empty()
            {
                insert_subject(&mut tx, candidate).await?;
                write.added(&candidate.blind_index, candidate.id);
            }
        }
        tx.commit().await.map_err(map_err)?;
        write.committed();
        for subject in subjects {
            self.cache.forget_subject(&subject.blind_index);
        }
        Ok(())
    }

    async fn subject_by_index(&self, blind_index: &[u8]) -> StoreResult<Option<SubjectRecord>> {
        if let Some(cached) = self.cache.subject(blind_index) {
            return Ok(cached);
        }
        let seen = self.cache.generation();
        let select = format!("SELECT {SUBJECT_COLUMNS} FROM subjects s");
        let row = self.row_by_index(&select, blind_index, None).await?;
        let found = row.as_ref().map(subject).transpose()?;
        self.cache.put_subject(seen, blind_index, found.clone());
        Ok(found)
    }

    async fn check_view(&self, blind_index: &[u8], purpose: &str) -> StoreResult<CheckView> {
        if let Some(view) = self.cache.check_view(blind_index, purpose) {
            return Ok(view);
        }
        // One read for the person and the purpose's state; both cached for the next check.
        let seen = self.cache.generation();
        let row = self
            .row_by_index(
                "SELECT s.id, s.blind_index, s.wrapped_key, s.email_sealed, s.external_id_index, s.external_id_sealed, s.restricted, s.objected_to_marketing, s.created_at,
                        c.state, c.since, c.last_seq
                 FROM subjects s LEFT JOIN consent_states c ON c.subject_id = s.id AND c.purpose = $3",
                blind_index,
                Some(purpose),
            )
            .await?;
        let Some(row) = row else {
            self.cache.put_subject(seen, blind_index, None);
            return Ok(CheckView {
                subject: None,
                state: None,
                erased_since: self.suppressed_since(blind_index).await?,
            });
        };
        let found = subject(&row)?;
        let state = match row.get::<Option<String>, _>("state") {
            Some(state) => Some(ConsentStateRecord {
                subject_id: found.id,
                purpose: purpose.to_string(),
                state: parse_state(&state)?,
                since: row.get("since"),
                last_seq: row.get("last_seq"),
            }),
            None => None,
        };
        let view = CheckView {
            subject: Some(CheckSubject {
                id: found.id,
                restricted: found.restricted,
                objected_to_marketing: found.objected_to_marketing,
            }),
            state: state.clone(),
            erased_since: None,
        };
        self.cache.put_state(seen, found.id, purpose, state);
        self.cache.put_subject(seen, blind_index, Some(found));
        Ok(view)
    }

    async fn subject(&self, id: Uuid) -> StoreResult<Option<SubjectRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUBJECT_COLUMNS} FROM subjects WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        row.as_ref().map(subject).transpose()
    }

    async fn suppressed_since(&self, blind_index: &[u8]) -> StoreResult<Option<DateTime<Utc>>> {
        if let Some(cached) = self.cache.suppression(blind_index) {
            return Ok(cached);
        }
        let seen = self.cache.generation();
        let row = sqlx::query("SELECT erased_at FROM suppressions WHERE blind_index = $1")
            .bind(blind_index)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        let since = row.map(|row| row.get(0));
        self.cache.put_suppression(seen, blind_index, since);
        Ok(since)
    }

    async fn submissions_of(&self, subject_id: Uuid) -> StoreResult<Vec<SubmissionRecord>> {
        let rows = sqlx::query("SELECT id, subject_id, touchpoint, notice_version, fields_sealed, received_at FROM submissions WHERE subject_id = $1 ORDER BY received_at")
            .bind(subject_id)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(rows
            .iter()
            .map(|row| SubmissionRecord {
                id: row.get(0),
                subject_id: row.get(1),
                touchpoint: row.get(2),
                notice_version: row.get(3),
                fields_sealed: row.get(4),
                received_at: row.get(5),
            })
            .collect())
    }

    async fn consent_states_of(&self, subject_id: Uuid) -> StoreResult<Vec<ConsentStateRecord>> {
        let rows = sqlx::query("SELECT subject_id, purpose, state, since, last_seq FROM consent_states WHERE subject_id = $1 ORDER BY purpose")
            .bind(subject_id)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(consent_state).collect()
    }

    async fn consent_state(
        &self,
        subject_id: Uuid,
        purpose: &str,
    ) -> StoreResult<Option<ConsentStateRecord>> {
        if let Some(cached) = self.cache.state(subject_id, purpose) {
            return Ok(cached);
        }
        let seen = self.cache.generation();
        let row = sqlx::query("SELECT subject_id, purpose, state, since, last_seq FROM consent_states WHERE subject_id = $1 AND purpose = $2")
            .bind(subject_id)
            .bind(purpose)
            .fetch_optional(&self.reader)
            .await
            .map_err(map_err)?;
        let state = row.as_ref().map(consent_state).transpose()?;
        self.cache
            .put_state(seen, subject_id, purpose, state.clone());
        Ok(state)
    }

    async fn subject_count(&self) -> StoreResult<i64> {
        let row = sqlx::query("SELECT COUNT(*) FROM subjects")
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)?;
        Ok(row.get(0))
    }

    async fn pending_consents(
        &self,
        before: DateTime<Utc>,
        limit: i64,
    ) -> StoreResult<Vec<ConsentStateRecord>> {
        let rows = sqlx::query(
            "SELECT subject_id, purpose, state, since, last_seq FROM consent_states WHERE state = 'pending' AND since < $1 ORDER BY since LIMIT $2",
        )
        .bind(before)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter().map(consent_state).collect()
    }
}

/// Fills the check cache from the database after start-up (and after the cache was cleared),
/// a page at a time, so that the first checks of a large population do not each wait for a
/// read. Commits go on meanwhile (see `cache.rs` for how pages and commits are merged). It
/// stops when the cache holds [`crate::cache::WARM_ENTRIES`] of a kind; when it has read all
/// the subjects, or all the suppressions, the cache is complete for them.
pub(crate) async fn warm_cache(
    reader: sqlx::SqlitePool,
    cache: std::sync::Weak<crate::cache::CheckCache>,
) {
    match cache.upgrade() {
        Some(strong) if strong.start_warming() => {}
        // The running one may have been made useless by a clear: try again later.
        Some(strong) => return strong.request_rewarm(),
        None => return,
    }
    fill_cache(&reader, &cache).await;
    if let Some(cache) = cache.upgrade() {
        cache.stop_warming();
    }
}

async fn fill_cache(reader: &sqlx::SqlitePool, cache: &std::sync::Weak<crate::cache::CheckCache>) {
    const PAGE: i64 = 2_000;
    let Some(epoch) = cache.upgrade().map(|c| c.epoch()) else {
        return;
    };
    let mut after = i64::MIN;
    let mut complete = true;
    loop {
        let Some(cache) = cache.upgrade() else { return };
        let Ok(rows) = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT rowid, {SUBJECT_COLUMNS} FROM subjects WHERE rowid > $1 ORDER BY rowid LIMIT $2"
        )))
        .bind(after)
        .bind(PAGE)
        .fetch_all(reader)
        .await
        else {
            return;
        };
        let Some(last) = rows.last().map(|r| r.get::<i64, _>(0)) else {
            break;
        };
        after = last;
        let full = rows.len() as i64 == PAGE;
        let Ok(page) = rows.iter().map(subject).collect::<StoreResult<Vec<_>>>() else {
            // A row that does not decode: the reads that meet it will say so.
            complete = false;
            break;
        };
        if !cache.merge_subjects(epoch, page) {
            // Cleared since, or as full as it may be.
            complete = false;
            break;
        }
        if !full {
            break;
        }
        drop(cache);
        tokio::task::yield_now().await;
    }
    if complete && let Some(cache) = cache.upgrade() {
        cache.mark_subjects_complete(epoch);
    }
    let limit = crate::cache::WARM_ENTRIES as i64;
    if let Ok(rows) = sqlx::query("SELECT blind_index, erased_at FROM suppressions LIMIT $1")
        .bind(limit + 1)
        .fetch_all(reader)
        .await
        && let Some(cache) = cache.upgrade()
    {
        let all = rows.len() as i64 <= limit;
        let rows = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        if cache.merge_suppressions(epoch, rows) && all {
            cache.mark_suppressions_complete(epoch);
        }
    }
    let mut after: (Vec<u8>, String) = (Vec::new(), String::new());
    loop {
        let Some(cache) = cache.upgrade() else { return };
        let Ok(rows) = sqlx::query(
            "SELECT subject_id, purpose, state, since, last_seq FROM consent_states
             WHERE (subject_id, purpose) > ($1, $2) ORDER BY subject_id, purpose LIMIT $3",
        )
        .bind(&after.0)
        .bind(&after.1)
        .bind(PAGE)
        .fetch_all(reader)
        .await
        else {
            return;
        };
        let Some(last) = rows.last() else { break };
        after = (last.get(0), last.get(1));
        let full = rows.len() as i64 == PAGE;
        let Ok(states) = rows
            .iter()
            .map(consent_state)
            .collect::<StoreResult<Vec<_>>>()
        else {
            return;
        };
        if !cache.merge_states(epoch, states) || !full {
            break;
        }
        drop(cache);
        tokio::task::yield_now().await;
    }
}

fn consent_state(row: &sqlx::sqlite::SqliteRow) -> StoreResult<ConsentStateRecord> {
    Ok(ConsentStateRecord {
        subject_id: row.get(0),
        purpose: row.get(1),
        state: parse_state(row.get(2))?,
        since: row.get(3),
        last_seq: row.get(4),
    })
}

#[async_trait]
impl LedgerStore for SqliteStore {
    async fn commit(&self, changes: Vec<ChangeSet>) -> Vec<StoreResult<Vec<ConsentEvent>>> {
        self.committer.commit(changes).await
    }

    fn observe_commits(&self, observer: std::sync::Arc<dyn registre_store::CommitObserver>) {
        self.committer.observe(observer);
    }

    async fn event(&self, event_id: Uuid) -> StoreResult<Option<ConsentEvent>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM consent_events WHERE event_id = $1"
        )))
        .bind(event_id)
        .fetch_optional(&self.reader)
        .await
        .map_err(map_err)?;
        row.as_ref().map(consent_event).transpose()
    }

    async fn events_of(
        &self,
        subject_id: Uuid,
        after_seq: i64,
        limit: i64,
    ) -> StoreResult<Vec<ConsentEvent>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {EVENT_COLUMNS} FROM consent_events WHERE subject_id = $1 AND seq > $2 ORDER BY seq LIMIT $3")))
            .bind(subject_id)
            .bind(after_seq)
            .bind(limit)
            .fetch_all(&self.reader)
            .await
            .map_err(map_err)?;
        rows.iter().map(consent_event).collect()
    }

    async fn events(&self, after: i64, limit: i64) -> StoreResult<Vec<ConsentEvent>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {EVENT_COLUMNS} FROM consent_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        )))
        .bind(after)
        .bind(limit)
        .fetch_all(&self.reader)
        .await
        .map_err(map_err)?;
        rows.iter().map(consent_event).collect()
    }

    async fn chain_links(&self, after: i64, upto: i64) -> StoreResult<Vec<ChainLink>> {
        let path = self.path.clone();
        tokio::task::spawn_blocking(move || crate::scan::chain_links(&path, after, upto))
            .await
            .map_err(|e| StoreError::Other(format!("reading the ledger stopped: {e}")))?
    }

    async fn ledger_head(&self) -> StoreResult<(i64, String)> {
        let row = sqlx::query("SELECT seq, hash FROM chain_heads WHERE chain = 'ledger'")
            .fetch_one(&self.reader)
            .await
            .map_err(map_err)?;
        Ok((row.get(0), row.get(1)))
    }
}
