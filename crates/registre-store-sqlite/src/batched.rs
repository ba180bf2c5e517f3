//! The batched path of the ledger writer: a whole batch of plain change sets (spent
//! nonces, new subjects, submissions, consent events, webhook rows) applied with a few
//! multi-row statements instead of one statement per row under one savepoint per change set.
//!
//! The per-change-set savepoints of the row-by-row path exist so that a conflicting change
//! set (a CSRF token spent twice, a person created meanwhile) fails alone. Here those
//! conflicts are found before writing, with one read per kind, and the change sets that
//! carry them are left out; the consent-state fold is computed in memory over the batch, in
//! order, from the stored states read with one query. Anything unexpected (a constraint the
//! pre-checks do not know, a foreign key) rolls the whole transaction back and the caller
//! applies the batch again row by row, so that results stay exactly those of that path.
use crate::map_err;
use crate::subject_index::IndexWrite;
use crate::subjects::parse_state;
use registre_domain::ledger::{ConsentAction, ConsentEvent, ConsentState};
use registre_store::{
    ChangeSet, SPENT_NONCE_CONSTRAINT, SUBJECT_INDEX_CONSTRAINT, StoreError, StoreResult,
};
use sqlx::{Row, Sqlite, SqliteConnection, SqlitePool};
use std::collections::{HashMap, HashSet};
use uuid::Uuid;

/// Largest number of rows in one multi-row statement (13 columns × 256 stays far below
/// SQLite's 32,766 bound variables). Batches are cut into power-of-two chunks so that only a
/// handful of statement shapes exist per table and all stay in the prepared-statement cache.
pub(crate) const MAX_ROWS: usize = 256;

/// What the batched path did.
pub(crate) enum Batched {
    /// Committed: one result per change set, in order.
    Done(Vec<StoreResult<Vec<ConsentEvent>>>),
    /// Nothing written (rolled back before the commit): apply the batch row by row.
    Fallback,
}

/// Whether the batched path knows how to apply this change set: no erasure, no audit
/// record, and only events that fold into a purpose's state.
pub(crate) fn is_plain(change: &ChangeSet) -> bool {
    change.erasures.is_empty()
        && change.audit.is_none()
        && change.events.iter().all(|event| {
            event.purpose.is_some()
                && !matches!(
                    event.action,
                    ConsentAction::Restrict | ConsentAction::LiftRestriction | ConsentAction::Erase
                )
        })
}

/// Sizes of the chunks `total` rows are written in: powers of two, largest first.
fn chunk_sizes(mut total: usize) -> Vec<usize> {
    let mut sizes = Vec::new();
    while total > 0 {
        let mut size = MAX_ROWS;
        while size > total {
            size /= 2;
        }
        sizes.push(size);
        total -= size;
    }
    sizes
}

/// `INSERT INTO <head> VALUES (?, ..), (?, ..) <tail>` for `rows` rows of `columns` values.
fn multi_row(head: &str, columns: usize, rows: usize, tail: &str) -> String {
    let tuple = format!("({})", vec!["?"; columns].join(", "));
    format!("{head} VALUES {}{tail}", vec![tuple; rows].join(", "))
}

/// `SELECT <select> WHERE <column> IN (?, ..)` for `count` values.
pub(crate) fn any_of(select: &str, count: usize) -> String {
    format!("{select} IN ({})", vec!["?"; count].join(", "))
}

/// Applies `batch` (every change set [`is_plain`]) in one transaction on `writer`.
/// An error is returned only when the commit itself failed.
pub(crate) async fn apply(
    writer: &SqlitePool,
    batch: &[ChangeSet],
    write: &mut IndexWrite<'_>,
) -> StoreResult<Batched> {
    let mut tx = crate::begin_write(writer).await?;
    let mark = write.mark();
    let prepared = match prepare_and_write(&mut tx, batch, write).await {
        Ok(prepared) => prepared,
        Err(_) => {
            // Dropping the transaction rolls it back; the row-by-row path decides.
            drop(tx);
            write.rollback_to(mark);
            return Ok(Batched::Fallback);
        }
    };
    tx.commit().await.map_err(map_err)?;
    Ok(Batched::Done(prepared))
}

async fn prepare_and_write(
    conn: &mut SqliteConnection,
    batch: &[ChangeSet],
    write: &mut IndexWrite<'_>,
) -> StoreResult<Vec<StoreResult<Vec<ConsentEvent>>>> {
    write.sync(conn).await?;
    let head = sqlx::query("SELECT seq, hash FROM chain_heads WHERE chain = 'ledger'")
        .fetch_one(&mut *conn)
        .await
        .map_err(map_err)?;
    let (mut seq, mut hash): (i64, String) = (head.get(0), head.get(1));

    // Conflicts the row-by-row path would meet, in the same order: spent nonces first
    // (stored, or spent by an earlier change set of the batch), then new subjects.
    let nonces: Vec<&str> = batch
        .iter()
        .flat_map(|c| c.spent_nonces.iter().map(|s| s.nonce.as_str()))
        .collect();
    let mut spent: HashSet<String> = HashSet::new();
    for chunk in nonces.chunks(MAX_ROWS * 4) {
        let sql = any_of("SELECT nonce FROM spent_tokens WHERE nonce", chunk.len());
        let mut query = sqlx::query_scalar::<Sqlite, String>(sqlx::AssertSqlSafe(sql));
        for nonce in chunk {
            query = query.bind(*nonce);
        }
        spent.extend(query.fetch_all(&mut *conn).await.map_err(map_err)?);
    }
    let indexes: Vec<&[u8]> = batch
        .iter()
        .flat_map(|c| c.new_subjects.iter().map(|s| s.blind_index.as_slice()))
        .collect();
    let mut known = write.taken(conn, &indexes).await?;
    let mut refused: Vec<Option<&'static str>> = Vec::with_capacity(batch.len());
    for change in batch {
        let mut own_nonces = HashSet::new();
        let nonce_taken = change
            .spent_nonces
            .iter()
            .any(|s| spent.contains(&s.nonce) || !own_nonces.insert(s.nonce.as_str()));
        let mut own_indexes = HashSet::new();
        let index_taken = change.new_subjects.iter().any(|s| {
            known.contains(&s.blind_index) || !own_indexes.insert(s.blind_index.as_slice())
        });
        if nonce_taken {
            refused.push(Some(SPENT_NONCE_CONSTRAINT));
        } else if index_taken {
            refused.push(Some(SUBJECT_INDEX_CONSTRAINT));
        } else {
            spent.extend(own_nonces.into_iter().map(str::to_string));
            known.extend(own_indexes.into_iter().map(<[u8]>::to_vec));
            refused.push(None);
        }
    }
    let accepted = || {
        batch
            .iter()
            .zip(&refused)
            .filter(|(_, r)| r.is_none())
            .map(|(c, _)| c)
    };

    // The stored states the batch's events fold onto (people created by the batch have
    // none).
    let created: HashSet<Uuid> = accepted()
        .flat_map(|c| c.new_subjects.iter().map(|s| s.id))
        .collect();
    let mut existing: Vec<Uuid> = accepted()
        .flat_map(|c| c.events.iter().map(|e| e.subject_id))
        .filter(|id| !created.contains(id))
        .collect();
    existing.sort_unstable();
    existing.dedup();
    let mut states: HashMap<(Uuid, String), ConsentState> = HashMap::new();
    for chunk in existing.chunks(MAX_ROWS * 4) {
        let sql = any_of(
            "SELECT subject_id, purpose, state FROM consent_states WHERE subject_id",
            chunk.len(),
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for id in chunk {
            query = query.bind(*id);
        }
        for row in query.fetch_all(&mut *conn).await.map_err(map_err)? {
            states.insert((row.get(0), row.get(1)), parse_state(row.get(2))?);
        }
    }

    // Chain the events and fold them, exactly as the row-by-row path does one by one.
    let mut results = Vec::with_capacity(batch.len());
    let mut events_all: Vec<ConsentEvent> = Vec::new();
    let mut writes: HashMap<(Uuid, String), (ConsentState, usize)> = HashMap::new();
    for (change, refusal) in batch.iter().zip(&refused) {
        if let Some(constraint) = refusal {
            results.push(Err(StoreError::Conflict {
                constraint: (*constraint).into(),
            }));
            continue;
        }
        let mut events = Vec::with_capacity(change.events.len());
        for new in &change.events {
            let event = ConsentEvent::chain(new, change.at, seq, &hash);
            seq = event.seq;
            hash = event.hash.clone();
            if let Some(purpose) = &event.purpose {
                let key = (event.subject_id, purpose.clone());
                let previous = states.get(&key).copied().unwrap_or(ConsentState::None);
                let next = previous.after(event.action);
                if !(next == previous && previous != ConsentState::None) {
                    states.insert(key.clone(), next);
                    writes.insert(key, (next, events_all.len()));
                }
            }
            events_all.push(event.clone());
            events.push(event);
        }
        results.push(Ok(events));
    }

    let spent_rows: Vec<_> = accepted().flat_map(|c| &c.spent_nonces).collect();
    let mut offset = 0;
    for size in chunk_sizes(spent_rows.len()) {
        let sql = multi_row("INSERT INTO spent_tokens (nonce, expires_at)", 2, size, "");
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in &spent_rows[offset..offset + size] {
            query = query.bind(&row.nonce).bind(row.expires_at);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
        offset += size;
    }

    let subject_rows: Vec<_> = accepted().flat_map(|c| &c.new_subjects).collect();
    let mut offset = 0;
    for size in chunk_sizes(subject_rows.len()) {
        let sql = multi_row(
            "INSERT INTO subjects (id, blind_index, wrapped_key, email_sealed, external_id_index, external_id_sealed, restricted, objected_to_marketing, created_at)",
            9,
            size,
            "",
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in &subject_rows[offset..offset + size] {
            query = query
                .bind(s.id)
                .bind(&s.blind_index)
                .bind(&s.wrapped_key)
                .bind(&s.email_sealed)
                .bind(&s.external_id_index)
                .bind(&s.external_id_sealed)
                .bind(s.restricted)
                .bind(s.objected_to_marketing)
                .bind(s.created_at);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
        offset += size;
    }
    for subject in &subject_rows {
        write.added(&subject.blind_index, subject.id);
    }

    let submission_rows: Vec<_> = accepted().flat_map(|c| &c.submissions).collect();
    let mut offset = 0;
    for size in chunk_sizes(submission_rows.len()) {
        let sql = multi_row(
            "INSERT INTO submissions (id, subject_id, touchpoint, notice_version, fields_sealed, received_at)",
            6,
            size,
            "",
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for s in &submission_rows[offset..offset + size] {
            query = query
                .bind(s.id)
                .bind(s.subject_id)
                .bind(&s.touchpoint)
                .bind(&s.notice_version)
                .bind(&s.fields_sealed)
                .bind(s.received_at);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
        offset += size;
    }

    let mut offset = 0;
    for size in chunk_sizes(events_all.len()) {
        let sql = multi_row(
            "INSERT INTO consent_events (seq, event_id, recorded_at, occurred_at, subject_id, purpose, action, source, touchpoint, notice_version, provenance, prev_hash, hash)",
            13,
            size,
            "",
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for e in &events_all[offset..offset + size] {
            query = query
                .bind(e.seq)
                .bind(e.event_id)
                .bind(e.recorded_at)
                .bind(e.occurred_at)
                .bind(e.subject_id)
                .bind(&e.purpose)
                .bind(e.action.as_str())
                .bind(e.source.as_str())
                .bind(&e.touchpoint)
                .bind(&e.notice_version)
                .bind(&e.provenance)
                .bind(&e.prev_hash)
                .bind(&e.hash);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
        offset += size;
    }

    let state_rows: Vec<_> = writes.into_iter().collect();
    let mut offset = 0;
    for size in chunk_sizes(state_rows.len()) {
        let sql = multi_row(
            "INSERT INTO consent_states (subject_id, purpose, state, since, last_seq)",
            5,
            size,
            " ON CONFLICT (subject_id, purpose) DO UPDATE SET state = excluded.state, since = excluded.since, last_seq = excluded.last_seq",
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for ((subject_id, purpose), (state, at)) in &state_rows[offset..offset + size] {
            let event = events_all
                .get(*at)
                .ok_or_else(|| StoreError::Other("fold out of range".into()))?;
            query = query
                .bind(*subject_id)
                .bind(purpose)
                .bind(state.as_str())
                .bind(event.occurred_at)
                .bind(event.seq);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
        offset += size;
    }

    let outbox_rows: Vec<_> = accepted().flat_map(|c| &c.outbox).collect();
    let mut offset = 0;
    for size in chunk_sizes(outbox_rows.len()) {
        let sql = multi_row(
            "INSERT INTO outbox (id, channel, topic, subject_id, payload, created_at, next_attempt_at)",
            7,
            size,
            "",
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for m in &outbox_rows[offset..offset + size] {
            query = query
                .bind(m.id)
                .bind(&m.channel)
                .bind(&m.topic)
                .bind(m.subject_id)
                .bind(&m.payload)
                .bind(m.created_at)
                .bind(m.created_at);
        }
        query.execute(&mut *conn).await.map_err(map_err)?;
        offset += size;
    }

    sqlx::query("UPDATE chain_heads SET seq = $1, hash = $2 WHERE chain = 'ledger'")
        .bind(seq)
        .bind(&hash)
        .execute(&mut *conn)
        .await
        .map_err(map_err)?;
    Ok(results)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_are_powers_of_two_that_add_up() {
        for total in [0, 1, 2, 3, 63, 64, 65, 255, 256, 257, 512, 1000, 5000] {
            let sizes = chunk_sizes(total);
            assert_eq!(sizes.iter().sum::<usize>(), total);
            assert!(sizes.iter().all(|s| s.is_power_of_two() && *s <= MAX_ROWS));
        }
    }

    #[test]
    fn a_multi_row_insert_has_one_tuple_per_row() {
        assert_eq!(
            multi_row("INSERT INTO t (a, b)", 2, 3, " ON CONFLICT DO NOTHING"),
            "INSERT INTO t (a, b) VALUES (?, ?), (?, ?), (?, ?) ON CONFLICT DO NOTHING"
        );
    }
}
