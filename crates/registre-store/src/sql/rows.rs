//! Row mappings more than one register reads: people and ledger events.
use super::engine::{Engine, Get};
use crate::{StoreError, StoreResult, SubjectRecord};
use registre_domain::ledger::{ConsentAction, ConsentEvent, ConsentSource, ConsentState};
use sqlx::Row;

pub const SUBJECT_COLUMNS: &str = "id, blind_index, wrapped_key, email_sealed, external_id_index, external_id_sealed, restricted, objected_to_marketing, created_at";
pub const EVENT_COLUMNS: &str = "seq, event_id, recorded_at, occurred_at, subject_id, purpose, action, source, touchpoint, notice_version, provenance, prev_hash, hash";

fn corrupt(what: &str, raw: &str) -> StoreError {
    StoreError::Corrupt(format!("{what} {raw:?}"))
}

pub fn subject<R: Row>(row: &R) -> StoreResult<SubjectRecord>
where
    R::Database: Engine,
{
    Ok(SubjectRecord {
        id: row.col("id")?,
        blind_index: row.col("blind_index")?,
        wrapped_key: row.col("wrapped_key")?,
        email_sealed: row.col("email_sealed")?,
        external_id_index: row.col("external_id_index")?,
        external_id_sealed: row.col("external_id_sealed")?,
        restricted: row.col("restricted")?,
        objected_to_marketing: row.col("objected_to_marketing")?,
        created_at: row.col("created_at")?,
    })
}

pub fn parse_state(raw: &str) -> StoreResult<ConsentState> {
    Ok(match raw {
        "granted" => ConsentState::Granted,
        "withdrawn" => ConsentState::Withdrawn,
        "pending" => ConsentState::Pending,
        "expired" => ConsentState::Expired,
        "objected" => ConsentState::Objected,
        "none" => ConsentState::None,
        _ => return Err(corrupt("consent state", raw)),
    })
}

pub fn consent_event<R: Row>(row: &R) -> StoreResult<ConsentEvent>
where
    R::Database: Engine,
{
    let action: String = row.col("action")?;
    let source: String = row.col("source")?;
    Ok(ConsentEvent {
        seq: row.col("seq")?,
        event_id: row.col("event_id")?,
        recorded_at: row.col("recorded_at")?,
        occurred_at: row.col("occurred_at")?,
        subject_id: row.col("subject_id")?,
        purpose: row.col("purpose")?,
        action: ConsentAction::parse(&action).ok_or_else(|| corrupt("consent action", &action))?,
        source: ConsentSource::parse(&source).ok_or_else(|| corrupt("consent source", &source))?,
        touchpoint: row.col("touchpoint")?,
        notice_version: row.col("notice_version")?,
        provenance: row.col("provenance")?,
        prev_hash: row.col("prev_hash")?,
        hash: row.col("hash")?,
    })
}
