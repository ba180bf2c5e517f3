//! Applying change sets: the only code that appends to the ledger.
use crate::append_audit;
use crate::map_err;
use crate::subject_index::{IndexWrite, SubjectIndex};
use crate::subjects::{insert_subject, parse_state};
use registre_domain::ledger::{ConsentAction, ConsentEvent, ConsentState};
use registre_store::{
    ApplyFuture, BatchApplier, ChangeSet, SPENT_NONCE_CONSTRAINT, SUBJECT_INDEX_CONSTRAINT,
    StoreError, StoreResult,
};
use sqlx::{Row, SqliteConnection, SqlitePool};

pub(crate) struct Applier {
    pub(crate) writer: SqlitePool,
    pub(crate) cache: std::sync::Arc<crate::cache::CheckCache>,
    pub(crate) index: std::sync::Arc<SubjectIndex>,
}

impl BatchApplier for Applier {
    fn apply(&self, batch: Vec<ChangeSet>) -> ApplyFuture<'_> {
        Box::pin(async move {
            let count = batch.len();
            match self.apply_batch(&batch).await {
                Ok(results) => results,
                Err(error) => {
                    let message = error.to_string();
                    (0..count)
                        .map(|_| Err(StoreError::Other(message.clone())))
                        .collect()
                }
            }
        })
    }
}

impl Applier {
    /// One transaction for the whole batch: with a few multi-row statements when every
    /// change set is plain (see `batched.rs`), otherwise row by row.
    async fn apply_batch(
        &self,
        batch: &[ChangeSet],
    ) -> StoreResult<Vec<StoreResult<Vec<ConsentEvent>>>> {
        let mut write = self.index.write().await;
        if batch.iter().all(crate::batched::is_plain)
            && let crate::batched::Batched::Done(results) =
                crate::batched::apply(&self.writer, batch, &mut write).await?
        {
            write.committed();
            self.invalidate_all(batch, &results);
            return Ok(results);
        }
        self.apply_row_by_row(batch, write).await
    }

    fn invalidate_all(&self, batch: &[ChangeSet], results: &[StoreResult<Vec<ConsentEvent>>]) {
        for (change, result) in batch.iter().zip(results) {
            if let Ok(events) = result {
                self.invalidate(change, events);
            }
        }
    }

    /// One transaction for the whole batch; each change set in a savepoint so that one bad
    /// change set (a conflict) fails alone.
    async fn apply_row_by_row(
        &self,
        batch: &[ChangeSet],
        mut write: IndexWrite<'_>,
    ) -> StoreResult<Vec<StoreResult<Vec<ConsentEvent>>>> {
        let mut tx = crate::begin_write(&self.writer).await?;
        write.sync(&mut tx).await?;
        let head = sqlx::query("SELECT seq, hash FROM chain_heads WHERE chain = 'ledger'")
            .fetch_one(&mut *tx)
            .await
            .map_err(map_err)?;
        let mut head: (i64, String) = (head.get(0), head.get(1));
        let mut results = Vec::with_capacity(batch.len());
        for change in batch {
            sqlx::query("SAVEPOINT change_set")
                .execute(&mut *tx)
                .await
                .map_err(map_err)?;
            let mark = write.mark();
            match apply_one(&mut tx, change, &head, &mut write).await {
                Ok(events) => {
                    sqlx::query("RELEASE change_set")
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    if let Some(last) = events.last() {
                        head = (last.seq, last.hash.clone());
                    }
                    results.push(Ok(events));
                }
                Err(error) => {
                    write.rollback_to(mark);
                    sqlx::query("ROLLBACK TO change_set")
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    sqlx::query("RELEASE change_set")
                        .execute(&mut *tx)
                        .await
                        .map_err(map_err)?;
                    results.push(Err(error));
                }
            }
        }
        sqlx::query("UPDATE chain_heads SET seq = $1, hash = $2 WHERE chain = 'ledger'")
            .bind(head.0)
            .bind(&head.1)
            .execute(&mut *tx)
            .await
            .map_err(map_err)?;
        tx.commit().await.map_err(map_err)?;
        write.committed();
        self.invalidate_all(batch, &results);
        Ok(results)
    }
}

impl Applier {
    /// What the committed change set made stale in the check cache.
    fn invalidate(&self, change: &ChangeSet, events: &[ConsentEvent]) {
        for event in events {
            match (&event.purpose, event.action) {
                (Some(purpose), _) => self.cache.forget_state(event.subject_id, purpose),
                (
                    None,
                    ConsentAction::Restrict
                    | ConsentAction::LiftRestriction
                    | ConsentAction::Object,
                ) => self.cache.forget_subject_id(event.subject_id),
                (None, _) => {}
            }
        }
        for subject in &change.new_subjects {
            // As stored: a lookup just before may have cached "no such person".
            self.cache.insert_subject(subject);
        }
        for erasure in &change.erasures {
            self.cache.forget_subject(&erasure.blind_index);
            self.cache.forget_suppression(&erasure.blind_index);
        }
    }
}

async fn apply_one(
    conn: &mut SqliteConnection,
    change: &ChangeSet,
    head: &(i64, String),
    write: &mut IndexWrite<'_>,
) -> StoreResult<Vec<ConsentEvent>> {
    for spent in &change.spent_nonces {
        let done = sqlx::query("INSERT INTO spent_tokens (nonce, expires_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING")
            .bind(&spent.nonce)
            .bind(spent.expires_at)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict {
                constraint: SPENT_NONCE_CONSTRAINT.into(),
            });
        }
    }
    for subject in &change.new_subjects {
        if !write
            .taken(conn, &[subject.blind_index.as_slice()])
            .await?
            .is_empty()
        {
            return Err(StoreError::Conflict {
                constraint: SUBJECT_INDEX_CONSTRAINT.into(),
            });
        }
        insert_subject(conn, subject).await?;
        write.added(&subject.blind_index, subject.id);
    }
    for submission in &change.submissions {
        sqlx::query("INSERT INTO submissions (id, subject_id, touchpoint, notice_version, fields_sealed, received_at) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(submission.id)
            .bind(submission.subject_id)
            .bind(&submission.touchpoint)
            .bind(&submission.notice_version)
            .bind(&submission.fields_sealed)
            .bind(submission.received_at)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    let mut events = Vec::with_capacity(change.events.len());
    let (mut seq, mut hash) = head.clone();
    for new in &change.events {
        let event = ConsentEvent::chain(new, change.at, seq, &hash);
        sqlx::query(
            "INSERT INTO consent_events (seq, event_id, recorded_at, occurred_at, subject_id, purpose, action, source, touchpoint, notice_version, provenance, prev_hash, hash)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(event.seq)
        .bind(event.event_id)
        .bind(event.recorded_at)
        .bind(event.occurred_at)
        .bind(event.subject_id)
        .bind(&event.purpose)
        .bind(event.action.as_str())
        .bind(event.source.as_str())
        .bind(&event.touchpoint)
        .bind(&event.notice_version)
        .bind(&event.provenance)
        .bind(&event.prev_hash)
        .bind(&event.hash)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
        fold_into_state(conn, &event).await?;
        seq = event.seq;
        hash = event.hash.clone();
        events.push(event);
    }
    for erasure in &change.erasures {
        let held: Option<Vec<u8>> =
            sqlx::query_scalar("DELETE FROM subjects WHERE id = $1 RETURNING blind_index")
                .bind(erasure.subject_id)
                .fetch_optional(&mut *conn)
                .await
                .map_err(map_err)?;
        if let Some(blind_index) = held {
            write.remove(conn, &blind_index, erasure.subject_id).await?;
        }
        sqlx::query("INSERT INTO suppressions (blind_index, erased_at) VALUES ($1, $2) ON CONFLICT (blind_index) DO NOTHING")
            .bind(&erasure.blind_index)
            .bind(erasure.at)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    for message in &change.outbox {
        sqlx::query("INSERT INTO outbox (id, channel, topic, subject_id, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)")
            .bind(message.id)
            .bind(&message.channel)
            .bind(&message.topic)
            .bind(message.subject_id)
            .bind(&message.payload)
            .bind(message.created_at)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
    }
    if let Some(audit) = &change.audit {
        append_audit(conn, audit).await?;
    }
    Ok(events)
}

/// Keeps `consent_states` and the subject's flags equal to the fold of the ledger.
async fn fold_into_state(conn: &mut SqliteConnection, event: &ConsentEvent) -> StoreResult<()> {
    match (event.action, &event.purpose) {
        (ConsentAction::Restrict, _) => set_flag(conn, event, "restricted", true).await,
        (ConsentAction::LiftRestriction, _) => set_flag(conn, event, "restricted", false).await,
        (ConsentAction::Object, None) => set_flag(conn, event, "objected_to_marketing", true).await,
        (ConsentAction::Erase, _) => Ok(()),
        (action, Some(purpose)) => {
            let previous = sqlx::query(
                "SELECT state FROM consent_states WHERE subject_id = $1 AND purpose = $2",
            )
            .bind(event.subject_id)
            .bind(purpose)
            .fetch_optional(&mut *conn)
            .await
            .map_err(map_err)?;
            let previous = match previous {
                Some(row) => parse_state(row.get(0))?,
                None => ConsentState::None,
            };
            let next = previous.after(action);
            if next == previous && previous != ConsentState::None {
                return Ok(());
            }
            sqlx::query(
                "INSERT INTO consent_states (subject_id, purpose, state, since, last_seq) VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (subject_id, purpose) DO UPDATE SET state = excluded.state, since = excluded.since, last_seq = excluded.last_seq",
            )
            .bind(event.subject_id)
            .bind(purpose)
            .bind(next.as_str())
            .bind(event.occurred_at)
            .bind(event.seq)
            .execute(&mut *conn)
            .await
            .map_err(map_err)?;
            Ok(())
        }
        (_, None) => Err(StoreError::Other(format!(
            "a {} event needs a purpose",
            event.action.as_str()
        ))),
    }
}

async fn set_flag(
    conn: &mut SqliteConnection,
    event: &ConsentEvent,
    column: &str,
    value: bool,
) -> StoreResult<()> {
    // `column` is one of two constants above, never outside input.
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE subjects SET {column} = $2 WHERE id = $1"
    )))
    .bind(event.subject_id)
    .bind(value)
    .execute(&mut *conn)
    .await
    .map_err(map_err)?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}
