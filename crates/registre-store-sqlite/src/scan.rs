//! Reading the ledger for verification: a plain SQLite connection on a blocking thread that
//! hashes each row as it steps through it.
//!
//! Verification reads every event, ten million in a large ledger. Through sqlx each row is
//! copied into owned values, decoded and handed from its worker thread to the runtime, which
//! costs several times the hashing itself; here one event is decoded in place into buffers
//! reused from row to row. Each call opens its own read-only connection, so that several
//! pages are read on several cores at once.
use crate::corrupt;
use crate::subjects::EVENT_COLUMNS;
use chrono::{DateTime, Utc};
use registre_domain::ledger::{ConsentAction, ConsentEvent, ConsentSource, GENESIS_HASH};
use registre_domain::proof::ChainLink;
use registre_store::{StoreError, StoreResult};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, Row};
use std::path::Path;
use std::time::Duration;
use uuid::Uuid;

/// Most of the file a scan maps into memory (SQLite maps no more than the file).
const MMAP_BYTES: i64 = 1 << 40;

/// The links of the events with `after < seq <= upto`, in order (see
/// `LedgerStore::chain_links`).
pub(crate) fn chain_links(path: &Path, after: i64, upto: i64) -> StoreResult<Vec<ChainLink>> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(scan_error)?;
    connection
        .busy_timeout(Duration::from_secs(10))
        .map_err(scan_error)?;
    // Pages read through a memory map rather than copied in by read(2).
    connection
        .pragma_update(None, "mmap_size", MMAP_BYTES)
        .map_err(scan_error)?;
    // `read_into` reads the columns by position, in this order.
    let mut statement = connection
        .prepare(&format!(
            "SELECT {EVENT_COLUMNS} FROM consent_events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq"
        ))
        .map_err(scan_error)?;
    let mut rows = statement.query([after, upto]).map_err(scan_error)?;
    let expected = usize::try_from(upto.saturating_sub(after)).unwrap_or(0);
    let mut links = Vec::with_capacity(expected.min(1 << 20));
    let mut event = blank_event();
    let mut scratch = Vec::with_capacity(512);
    while let Some(row) = rows.next().map_err(scan_error)? {
        let decoded = read_into(row, &mut event)?;
        links.push(ChainLink {
            seq: event.seq,
            content_matches: decoded && event.hash_matches(&event.hash, &mut scratch),
            prev_hash: event.prev_hash.clone(),
            hash: event.hash.clone(),
        });
    }
    Ok(links)
}

fn blank_event() -> ConsentEvent {
    ConsentEvent {
        seq: 0,
        event_id: Uuid::nil(),
        recorded_at: DateTime::UNIX_EPOCH,
        occurred_at: DateTime::UNIX_EPOCH,
        subject_id: Uuid::nil(),
        purpose: None,
        action: ConsentAction::Grant,
        source: ConsentSource::System,
        touchpoint: None,
        notice_version: None,
        provenance: None,
        prev_hash: String::with_capacity(GENESIS_HASH.len()),
        hash: String::with_capacity(GENESIS_HASH.len()),
    }
}

/// Overwrites `event` with `row`. `Ok(false)` when a column holds something the writer never
/// writes (an instant that is not RFC 3339, an unknown action): the row was altered, and the
/// walk names it rather than stopping. Wrong column types mean a wrong schema: an error.
fn read_into(row: &Row<'_>, event: &mut ConsentEvent) -> StoreResult<bool> {
    event.seq = row.get(0).map_err(scan_error)?;
    let mut decoded = true;
    decoded &= uuid_into(blob(row, 1)?, &mut event.event_id);
    decoded &= instant_into(text(row, 2)?, &mut event.recorded_at);
    decoded &= instant_into(text(row, 3)?, &mut event.occurred_at);
    decoded &= uuid_into(blob(row, 4)?, &mut event.subject_id);
    optional_into(optional_text(row, 5)?, &mut event.purpose);
    match ConsentAction::parse(text(row, 6)?) {
        Some(action) => event.action = action,
        None => decoded = false,
    }
    match ConsentSource::parse(text(row, 7)?) {
        Some(source) => event.source = source,
        None => decoded = false,
    }
    optional_into(optional_text(row, 8)?, &mut event.touchpoint);
    optional_into(optional_text(row, 9)?, &mut event.notice_version);
    optional_into(optional_text(row, 10)?, &mut event.provenance);
    text_into(text(row, 11)?, &mut event.prev_hash);
    text_into(text(row, 12)?, &mut event.hash);
    Ok(decoded)
}

fn text<'r>(row: &'r Row<'_>, column: usize) -> StoreResult<&'r str> {
    optional_text(row, column)?.ok_or_else(|| corrupt("a NOT NULL ledger column is null"))
}

fn optional_text<'r>(row: &'r Row<'_>, column: usize) -> StoreResult<Option<&'r str>> {
    match row.get_ref(column).map_err(scan_error)? {
        ValueRef::Null => Ok(None),
        ValueRef::Text(bytes) => std::str::from_utf8(bytes)
            .map(Some)
            .map_err(|_| corrupt("a ledger text column is not UTF-8")),
        _ => Err(corrupt("a ledger text column holds another type")),
    }
}

fn blob<'r>(row: &'r Row<'_>, column: usize) -> StoreResult<&'r [u8]> {
    match row.get_ref(column).map_err(scan_error)? {
        ValueRef::Blob(bytes) => Ok(bytes),
        _ => Err(corrupt("a ledger id column is not a blob")),
    }
}

fn text_into(value: &str, target: &mut String) {
    target.clear();
    target.push_str(value);
}

fn optional_into(value: Option<&str>, target: &mut Option<String>) {
    match value {
        Some(value) => text_into(value, target.get_or_insert_with(String::new)),
        None => *target = None,
    }
}

fn uuid_into(bytes: &[u8], target: &mut Uuid) -> bool {
    Uuid::from_slice(bytes).map(|id| *target = id).is_ok()
}

/// Instants as sqlx writes them (RFC 3339).
fn instant_into(value: &str, target: &mut DateTime<Utc>) -> bool {
    if let Some(at) = utc_instant(value) {
        *target = at;
        return true;
    }
    DateTime::parse_from_rfc3339(value)
        .map(|at| *target = at.with_timezone(&Utc))
        .is_ok()
}

/// The form sqlx gives every UTC instant, `YYYY-MM-DDTHH:MM:SS[.fraction]+00:00`, read
/// without the general parser; `None` for anything else (leap seconds included), which
/// then goes through it.
fn utc_instant(value: &str) -> Option<DateTime<Utc>> {
    let bytes = value.as_bytes();
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        bytes.get(range)?.iter().try_fold(0u32, |n, &b| {
            b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0'))
        })
    };
    let punctuation = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if punctuation.iter().any(|&(at, c)| bytes.get(at) != Some(&c)) {
        return None;
    }
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    let mut rest = bytes.get(19..)?;
    let mut nanos = 0u32;
    if let Some((b'.', fraction)) = rest.split_first() {
        let digits = fraction.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        nanos = number(20..20 + digits)? * 10u32.pow(9 - digits as u32);
        rest = &fraction[digits..];
    }
    if rest != b"+00:00" || second > 59 {
        return None;
    }
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some(
        date.and_hms_nano_opt(hour, minute, second, nanos)?
            .and_utc(),
    )
}

fn scan_error(error: rusqlite::Error) -> StoreError {
    match error {
        rusqlite::Error::SqliteFailure(code, _)
            if matches!(
                code.code,
                rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked
            ) =>
        {
            StoreError::Retryable(error.to_string())
        }
        _ => StoreError::Other(format!("reading the ledger: {error}")),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn instants_read_back_as_sqlx_writes_them() {
        let at = DateTime::parse_from_rfc3339("2026-12-04T02:10:11.123456+00:00")
            .unwrap()
            .with_timezone(&Utc);
        let mut read = DateTime::UNIX_EPOCH;
        assert!(instant_into(
            &at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, false),
            &mut read
        ));
        assert_eq!(read, at);
        assert!(!instant_into("2026-12-04 02:10:11", &mut read));
    }

    #[test]
    fn the_quick_reading_of_instants_agrees_with_the_general_one() {
        for raw in [
            "2026-12-04T02:10:11+00:00",
            "2026-12-04T02:10:11.5+00:00",
            "2026-12-04T02:10:11.123+00:00",
            "2026-12-04T02:10:11.123456+00:00",
            "2026-12-04T02:10:11.123456789+00:00",
            "0001-01-01T00:00:00+00:00",
            "2024-02-29T23:59:59.999999+00:00",
        ] {
            let general = DateTime::parse_from_rfc3339(raw)
                .unwrap()
                .with_timezone(&Utc);
            assert_eq!(utc_instant(raw), Some(general), "{raw}");
        }
        for odd in [
            "2026-12-04T02:10:11Z",
            "2026-12-04T02:10:11+01:00",
            "2026-12-04 02:10:11+00:00",
            "2026-02-30T02:10:11+00:00",
            "2016-12-31T23:59:60+00:00",
            "2026-12-04T02:10:11.+00:00",
            "2026-12-04T02:10:11.1234567890+00:00",
            "2026-12-04T02:10:11",
            "",
        ] {
            assert_eq!(utc_instant(odd), None, "{odd}");
        }
        // What the quick reading leaves, the general one still reads.
        let mut read = DateTime::UNIX_EPOCH;
        assert!(instant_into("2026-12-04T03:10:11+01:00", &mut read));
        assert_eq!(read, utc_instant("2026-12-04T02:10:11+00:00").unwrap());
    }

    #[test]
    fn optional_text_reuses_or_drops_its_buffer() {
        let mut target = None;
        optional_into(Some("newsletter"), &mut target);
        optional_into(Some("offers"), &mut target);
        assert_eq!(target.as_deref(), Some("offers"));
        optional_into(None, &mut target);
        assert_eq!(target, None);
    }
}
