//! Proofs of the consent ledger: signed checkpoints of its head, the verification of the
//! chain against them, and the export an outside auditor checks offline.
use crate::checkpoints::KnownCheckpoints;
use crate::{App, AppError, AppResult};
use registre_crypto::VerifyingKey;
use registre_domain::proof::{
    ChainLink, EXPORT_FORMAT, EXPORT_VERSION, ExportHeader, ExportLine, HASH_ENCODING,
    LedgerProblem, LedgerReport, LedgerVerifier, keys_from_jwks,
};
use registre_store::Store;
use std::io::{BufRead, Write};
use uuid::Uuid;

/// Events read per page while walking the ledger.
const PAGE: i64 = 10_000;

/// The public keys as a JWK set: what `/.well-known/registre/ledger-key` publishes.
pub fn jwks(keys: &[VerifyingKey]) -> serde_json::Value {
    serde_json::json!({"keys": keys.iter().map(VerifyingKey::to_jwk).collect::<Vec<_>>()})
}

/// Walks the whole ledger held by `store`: every hash, every link, every checkpoint (with
/// `trusted` keys) of its table and of `known` (found outside it), the head recorded with
/// the last append, and what lies beyond that head. Only reads, so it may run while servers
/// write.
pub async fn verify_store(
    store: &dyn Store,
    trusted: &[VerifyingKey],
    known: &KnownCheckpoints,
) -> AppResult<LedgerReport> {
    // Checkpoints first, then the head: heads only grow, so a checkpoint beyond the head
    // read afterwards means events were cut off.
    let checkpoints = store.checkpoints_up_to(i64::MAX).await?;
    let (head_seq, head_hash) = store.ledger_head().await?;
    let in_table: std::collections::HashSet<Uuid> = checkpoints.iter().map(|c| c.id).collect();
    let mut verifier = LedgerVerifier::new(trusted, checkpoints).with_known(known.known.clone());
    for problem in &known.problems {
        verifier.add_problem(problem.clone());
    }
    for (id, seq, entry) in &known.audited {
        if !in_table.contains(id) {
            verifier.add_problem(LedgerProblem {
                seq: (*seq).max(1),
                message: format!(
                    "the checkpoint {id} of {seq} events, recorded in the audit log (entry {entry}), is missing from the checkpoints table"
                ),
            });
        }
    }
    walk_links(store, 0, head_seq, |link| {
        verifier.feed_link(link);
        Ok(())
    })
    .await?;
    // A real append moves the head in its transaction: an event past it was written behind
    // Registre's back (it would also block every later append).
    if let Some(beyond) = store.events(head_seq, 1).await?.first() {
        verifier.event_beyond_head(beyond.seq, head_seq);
    }
    Ok(verifier.finish(Some((head_seq, &head_hash))))
}

/// Events per [`LedgerStore::chain_links`] call while walking the ledger.
///
/// [`LedgerStore::chain_links`]: registre_store::LedgerStore::chain_links
const LINKS_PAGE: i64 = 50_000;

/// Hands `visit` the link of every event with `after < seq <= upto`, in order, stopping at
/// its first error. Pages are independent (each link carries its own hashes), so one per
/// core is read and hashed at a time, and one more waits while the visit goes through the
/// page before it.
pub(crate) async fn walk_links(
    store: &dyn Store,
    after: i64,
    upto: i64,
    mut visit: impl FnMut(&ChainLink) -> AppResult<()>,
) -> AppResult<()> {
    use futures_util::StreamExt;
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    let starts = (after..upto).step_by(LINKS_PAGE as usize);
    let mut pages = futures_util::stream::iter(starts)
        .map(|start| store.chain_links(start, (start + LINKS_PAGE).min(upto)))
        .buffered(cores + 1);
    while let Some(page) = pages.next().await {
        for link in &page? {
            visit(link)?;
        }
    }
    Ok(())
}

/// How much an export holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportSummary {
    pub length: i64,
    pub head: String,
    pub checkpoints: usize,
}

/// Writes the ledger of `store` as JSON Lines (see [`ExportLine`]): a header with the public
/// keys, every checkpoint, then every event up to the head read at the start.
pub async fn export_store(
    store: &dyn Store,
    keys: &[VerifyingKey],
    exported_at: chrono::DateTime<chrono::Utc>,
    out: &mut (dyn Write + Send),
) -> AppResult<ExportSummary> {
    let checkpoints = store.checkpoints_up_to(i64::MAX).await?;
    let (length, head) = store.ledger_head().await?;
    let header = ExportHeader {
        format: EXPORT_FORMAT.into(),
        version: EXPORT_VERSION,
        exported_at,
        length,
        head: head.clone(),
        keys: jwks(keys),
        hash_encoding: HASH_ENCODING.into(),
    };
    write_line(out, &ExportLine::Header(header))?;
    let count = checkpoints.len();
    for checkpoint in checkpoints {
        write_line(out, &ExportLine::Checkpoint(checkpoint))?;
    }
    let mut after = 0;
    'pages: while after < length {
        let page = store.events(after, PAGE).await?;
        if page.is_empty() {
            break;
        }
        for event in page {
            if event.seq > length {
                break 'pages;
            }
            after = event.seq;
            write_line(out, &ExportLine::Event(event))?;
        }
    }
    out.flush().map_err(io_error)?;
    Ok(ExportSummary {
        length,
        head,
        checkpoints: count,
    })
}

fn write_line(out: &mut (dyn Write + Send), line: &ExportLine) -> AppResult<()> {
    let text = serde_json::to_string(line).map_err(AppError::internal)?;
    out.write_all(text.as_bytes()).map_err(io_error)?;
    out.write_all(b"\n").map_err(io_error)
}

fn io_error(error: std::io::Error) -> AppError {
    AppError::internal(format_args!("cannot write the export: {error}"))
}

/// The result of checking an export offline.
#[derive(Clone, Debug)]
pub struct ExportVerification {
    pub report: LedgerReport,
    /// The `kid`s of the keys trusted for the check.
    pub key_ids: Vec<String>,
    /// Whether the keys came from the file itself rather than from the caller.
    pub keys_from_file: bool,
    pub exported_at: chrono::DateTime<chrono::Utc>,
}

/// Checks an export line by line, with `trusted` keys (the published key) or, when none are
/// given, with the keys the file carries. A line that does not parse is an error naming it.
pub fn verify_export(
    input: impl BufRead,
    trusted: Option<Vec<VerifyingKey>>,
    known: &KnownCheckpoints,
) -> Result<ExportVerification, String> {
    let mut lines = input.lines().enumerate();
    let header = match lines.next() {
        Some((_, Ok(text))) => match serde_json::from_str::<ExportLine>(&text) {
            Ok(ExportLine::Header(header)) if header.format == EXPORT_FORMAT => header,
            _ => return Err("line 1: not the header of a Registre ledger export".into()),
        },
        Some((_, Err(e))) => return Err(format!("line 1: {e}")),
        None => return Err("the file is empty".into()),
    };
    if header.version > EXPORT_VERSION {
        return Err(format!(
            "export version {} is newer than this binary understands",
            header.version
        ));
    }
    let keys_from_file = trusted.is_none();
    let keys = match trusted {
        Some(keys) => keys,
        None => keys_from_jwks(&header.keys).map_err(|e| format!("line 1: keys: {e}"))?,
    };
    let key_ids = keys.iter().map(VerifyingKey::kid).collect();
    let mut checkpoints = Vec::new();
    let mut verifier: Option<LedgerVerifier> = None;
    for (index, line) in lines {
        let number = index + 1;
        let text = line.map_err(|e| format!("line {number}: {e}"))?;
        if text.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<ExportLine>(&text)
            .map_err(|e| format!("line {number}: {e}"))?
        {
            ExportLine::Header(_) => return Err(format!("line {number}: a second header")),
            ExportLine::Checkpoint(checkpoint) if verifier.is_none() => {
                checkpoints.push(checkpoint)
            }
            ExportLine::Checkpoint(_) => {
                return Err(format!("line {number}: checkpoints come before events"));
            }
            ExportLine::Event(event) => {
                verifier
                    .get_or_insert_with(|| {
                        LedgerVerifier::new(&keys, std::mem::take(&mut checkpoints))
                            .with_known(known.known.clone())
                    })
                    .feed(&event);
            }
        }
    }
    let mut verifier = verifier
        .unwrap_or_else(|| LedgerVerifier::new(&keys, checkpoints).with_known(known.known.clone()));
    for problem in &known.problems {
        verifier.add_problem(problem.clone());
    }
    let report = verifier.finish(Some((header.length, &header.head)));
    Ok(ExportVerification {
        report,
        key_ids,
        keys_from_file,
        exported_at: header.exported_at,
    })
}

impl App {
    /// The keys whose checkpoints and receipts this server trusts: its own, then the
    /// retired ones (rotated away, still valid for what they signed).
    pub fn ledger_keys(&self) -> Vec<VerifyingKey> {
        let current = self.signing_key().verifying_key();
        let mut keys = vec![current.clone()];
        keys.extend(
            self.retired_ledger_keys()
                .into_iter()
                .filter(|k| *k != current),
        );
        keys
    }

    /// The published JWK set.
    pub fn ledger_jwks(&self) -> serde_json::Value {
        jwks(&self.ledger_keys())
    }

    /// Walks the whole ledger chain and its checkpoints, those of its table and those
    /// known outside it (the checkpoint log, the audit log).
    pub async fn verify_ledger(&self) -> AppResult<LedgerReport> {
        let known = self.known_checkpoints(&[]).await?;
        verify_store(self.store(), &self.ledger_keys(), &known).await
    }
}
