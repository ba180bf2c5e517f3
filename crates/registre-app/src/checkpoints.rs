//! Signed checkpoints of the ledger, kept where the database cannot take them back: each
//! one is appended to the checkpoint log (a file outside the database) and sent as the
//! `ledger.checkpoint` webhook to subscribed witnesses; verification compares the ledger with
//! every checkpoint it finds (docs/ledger.md, "Checkpoints outside the database").
//!
//! A server never signs a head that does not extend the last checkpoint it knows of — the
//! checkpoints table's, the log's, its own — so a ledger cut or rewritten below one is
//! refused, loudly, rather than blessed.
use crate::ledger::walk_links;
use crate::{App, AppError, AppResult, Principal};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use registre_crypto::VerifyingKey;
use registre_domain::checkpoint_log::{self, ReadLog};
use registre_domain::ledger::GENESIS_HASH;
use registre_domain::merkle::{self, Frontier};
use registre_domain::proof::{Checkpoint, KnownCheckpoint, LedgerProblem};
use registre_domain::role::Permission;
use registre_store::Store;
use std::path::{Path, PathBuf};
use std::time::Duration;
use uuid::Uuid;

/// The webhook topic of a new checkpoint.
pub const CHECKPOINT_TOPIC: &str = "ledger.checkpoint";
/// What a person's `ledger checkpoint` writes in the audit log.
const SIGNED_ACTION: &str = "ledger.checkpoint_signed";
/// Signed at least this often while events arrive, unless configured otherwise.
pub const DEFAULT_CHECKPOINT_INTERVAL: Duration = Duration::from_secs(60);

/// The checkpoint log of a data dir: `REGISTRE_CHECKPOINT_LOG` when set (a path on another
/// disk, an append-only mount, a file shipped elsewhere), else
/// `<data-dir>/ledger-checkpoints.jsonl`.
pub fn checkpoint_log_path(data_dir: &Path) -> PathBuf {
    match std::env::var_os("REGISTRE_CHECKPOINT_LOG").filter(|v| !v.is_empty()) {
        Some(path) => PathBuf::from(path),
        None => data_dir.join("ledger-checkpoints.jsonl"),
    }
}

/// How often the head is signed while it moves: `REGISTRE_CHECKPOINT_INTERVAL` seconds, else
/// [`DEFAULT_CHECKPOINT_INTERVAL`].
pub fn checkpoint_interval() -> Duration {
    std::env::var("REGISTRE_CHECKPOINT_INTERVAL")
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|s| *s > 0)
        .map_or(DEFAULT_CHECKPOINT_INTERVAL, Duration::from_secs)
}

/// The tree of the last head this process signed: the next signature extends it instead of
/// rehashing the ledger.
#[derive(Clone, Debug)]
pub(crate) struct SignedTree {
    seq: i64,
    head: String,
    frontier: Frontier,
}

/// Checkpoints found outside the checkpoints table, for [`crate::ledger::verify_store`].
#[derive(Debug, Default)]
pub struct KnownCheckpoints {
    pub known: Vec<KnownCheckpoint>,
    /// What cannot be trusted as found (unsigned lines, unreadable files).
    pub problems: Vec<LedgerProblem>,
    /// Checkpoints the audit log says were signed: `(checkpoint id, seq, audit entry seq)`;
    /// each must still be in the checkpoints table.
    pub audited: Vec<(Uuid, i64, i64)>,
    /// Where they were looked for, and how many each held, for the report.
    pub sources: Vec<(String, usize)>,
}

impl KnownCheckpoints {
    fn add_log(&mut self, source: String, log: ReadLog) {
        self.sources.push((source, log.known.len()));
        self.known.extend(log.known);
        self.problems.extend(log.problems);
    }
}

/// Reads the checkpoints of the checkpoint log at `log` (when it exists) and of the `given`
/// files (checkpoint logs or C2SP notes an auditor kept).
pub fn known_from_files(
    trusted: &[VerifyingKey],
    log: Option<&Path>,
    given: &[PathBuf],
) -> KnownCheckpoints {
    let mut found = KnownCheckpoints::default();
    if let Some(path) = log {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let source = format!("the checkpoint log {}", path.display());
                found.add_log(
                    source.clone(),
                    checkpoint_log::read(&text, &source, trusted),
                );
            }
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => found.problems.push(LedgerProblem {
                seq: 1,
                message: format!("cannot read the checkpoint log {}: {error}", path.display()),
            }),
        }
    }
    for path in given {
        let source = path.display().to_string();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                found.add_log(
                    source.clone(),
                    checkpoint_log::read_given(&text, &source, trusted),
                );
            }
            Err(error) => found.problems.push(LedgerProblem {
                seq: 1,
                message: format!("cannot read {source}: {error}"),
            }),
        }
    }
    found
}

/// [`known_from_files`], and the audit log's records of signed checkpoints.
pub async fn gather_known(
    store: &dyn Store,
    trusted: &[VerifyingKey],
    log: Option<&Path>,
    given: &[PathBuf],
) -> AppResult<KnownCheckpoints> {
    let mut found = known_from_files(trusted, log, given);
    let before = found.known.len();
    audited_checkpoints(store, &mut found).await?;
    found
        .sources
        .push(("the audit log".into(), found.known.len() - before));
    Ok(found)
}

/// The audit log's `ledger.checkpoint_signed` records: the audit log is a chain of its own,
/// so deleting checkpoint rows does not delete what it says was signed.
async fn audited_checkpoints(store: &dyn Store, found: &mut KnownCheckpoints) -> AppResult<()> {
    const PAGE: i64 = 1_000;
    let mut after = 0;
    loop {
        let entries = store.audit_entries(after, PAGE).await?;
        let Some(last) = entries.last() else {
            return Ok(());
        };
        after = last.seq;
        for entry in entries.iter().filter(|e| e.action == SIGNED_ACTION) {
            let details: serde_json::Value =
                serde_json::from_str(&entry.details).unwrap_or_default();
            let Some(seq) = details.get("seq").and_then(|s| s.as_i64()) else {
                continue;
            };
            let head = details
                .get("head")
                .and_then(|h| h.as_str())
                .map(str::to_string);
            found.known.push(KnownCheckpoint {
                source: format!("the audit log (entry {})", entry.seq),
                seq,
                signed_at: Some(entry.at),
                head,
                root: None,
            });
            if let Some(id) = entry
                .target
                .strip_prefix("ledger_checkpoint:")
                .and_then(|id| Uuid::parse_str(id).ok())
            {
                found.audited.push((id, seq, entry.seq));
            }
        }
    }
}

/// Why a head is not signed.
fn refuse(reason: String) -> AppError {
    tracing::error!(%reason, "REFUSED to sign a ledger checkpoint: the ledger does not extend the last checkpoint");
    AppError::Conflict(format!("{reason}: no checkpoint is signed"))
}

/// The last checkpoint a place holds, to be extended by the next one.
struct LastKnown {
    source: String,
    seq: i64,
    head: String,
}

impl App {
    /// The checkpoint log this server appends to.
    pub fn checkpoint_log(&self) -> &Path {
        &self.config().checkpoint_log
    }

    /// Signs the current head, after checking that the ledger still extends the last
    /// checkpoint of the checkpoints table, of the checkpoint log and of this process, event
    /// by event since then: a head is never signed blind. Appends it to the checkpoint log,
    /// then saves it with the `ledger.checkpoint` webhook. `by` is the person who asked, or
    /// `None` for the periodic signer.
    pub async fn sign_checkpoint(&self, by: Option<&Principal>) -> AppResult<Checkpoint> {
        if let Some(by) = by {
            by.require(Permission::ManageRegisters)?;
        }
        let signed = self.sign_extending(by).await;
        if let Err(AppError::Conflict(_)) = &signed {
            self.metrics().checkpoint_refused();
        }
        signed
    }

    /// [`Self::sign_checkpoint`] once allowed: a refusal is a conflict.
    async fn sign_extending(&self, by: Option<&Principal>) -> AppResult<Checkpoint> {
        // One signer at a time in a process: each extends the tree the one before left.
        let mut signed_tree = self.inner_signed_tree().lock().await;
        let trusted = self.ledger_keys();
        let (head_seq, head_hash) = self.store().ledger_head().await?;
        let log = checkpoint_log::read(
            &read_log_tail(self.checkpoint_log())?,
            "the checkpoint log",
            &trusted,
        );
        let mut last_known = Vec::new();
        if let Some(last) = self.store().latest_checkpoint().await?
            && last.verify(&trusted).is_ok()
        {
            last_known.push(LastKnown {
                source: "the checkpoints table".into(),
                seq: last.seq,
                head: last.head,
            });
        }
        if let Some((last, _)) = &log.last {
            last_known.push(LastKnown {
                source: format!("the checkpoint log {}", self.checkpoint_log().display()),
                seq: last.seq,
                head: last.head.clone(),
            });
        }
        if let Some(tree) = signed_tree.as_ref() {
            last_known.push(LastKnown {
                source: "this server's last checkpoint".into(),
                seq: tree.seq,
                head: tree.head.clone(),
            });
        }
        if let Some(beyond) = last_known.iter().find(|k| k.seq > head_seq) {
            return Err(refuse(format!(
                "the ledger ends at seq {head_seq} but {} holds a checkpoint at seq {}: events were cut",
                beyond.source, beyond.seq
            )));
        }
        // Resume from this process's tree, else from the log's, else from the start.
        let resume = signed_tree.clone().or_else(|| {
            log.last.as_ref().and_then(|(last, frontier)| {
                frontier.clone().map(|frontier| SignedTree {
                    seq: last.seq,
                    head: last.head.clone(),
                    frontier,
                })
            })
        });
        let SignedTree {
            mut seq,
            mut head,
            mut frontier,
        } = resume.unwrap_or(SignedTree {
            seq: 0,
            head: GENESIS_HASH.to_string(),
            frontier: Frontier::default(),
        });
        let previous = frontier.clone();
        // The leaves since, for the witnesses' consistency proofs (up to a bound).
        const TAIL_LIMIT: i64 = 1 << 20;
        let mut tail = (!self.witnesses().is_empty() && head_seq - seq <= TAIL_LIMIT)
            .then(|| Vec::with_capacity((head_seq - seq).max(0) as usize));
        // What lies at or below the resumed tree is checked at its own sequence number.
        for known in last_known.iter().filter(|k| k.seq > 0 && k.seq <= seq) {
            let at = self.store().chain_links(known.seq - 1, known.seq).await?;
            if at.first().is_none_or(|link| link.hash != known.head) {
                return Err(refuse(format!(
                    "event {} differs from the checkpoint {} holds: the ledger was rewritten at or before seq {}",
                    known.seq, known.source, known.seq
                )));
            }
        }
        walk_links(self.store(), seq, head_seq, |link| {
            if link.seq != seq + 1 || link.prev_hash != head || !link.content_matches {
                return Err(refuse(format!(
                    "the ledger does not verify at seq {}",
                    seq + 1
                )));
            }
            if let Some(known) = last_known
                .iter()
                .find(|k| k.seq == link.seq && k.head != link.hash)
            {
                return Err(refuse(format!(
                    "event {} differs from the checkpoint {} holds: the ledger was rewritten at or before seq {}",
                    link.seq, known.source, link.seq
                )));
            }
            let bytes = hex::decode(&link.hash)
                .map_err(|_| refuse(format!("event {} has a malformed hash", link.seq)))?;
            let leaf = merkle::leaf_hash(&bytes);
            frontier.push(leaf);
            if let Some(tail) = &mut tail {
                tail.push(leaf);
            }
            seq = link.seq;
            head.clone_from(&link.hash);
            Ok(())
        })
        .await?;
        if seq != head_seq || head != head_hash {
            return Err(refuse(format!(
                "the ledger ends at seq {seq} but its recorded head is seq {head_seq}"
            )));
        }
        let signing = self.signing_key();
        let checkpoint = Checkpoint::sign(&signing, seq, &head, self.now())?;
        let root = frontier.root();
        let note = self.note_of(seq as u64, &root);
        // The log first: a checkpoint the log holds and the table lacks still covers events
        // that exist; the reverse would be a checkpoint no one outside can vouch for.
        let line = checkpoint_log::line(&checkpoint, &note, &frontier)
            .map_err(|e| AppError::Internal(format!("cannot write a checkpoint line: {e}")))?;
        registre_crypto::durable::append(self.checkpoint_log(), line.as_bytes()).map_err(
            |error| {
                refuse(format!(
                    "cannot append to the checkpoint log {}: {error}",
                    self.checkpoint_log().display()
                ))
            },
        )?;
        let audit = by.map(|by| {
            self.audit_record(
                by,
                SIGNED_ACTION,
                format!("ledger_checkpoint:{}", checkpoint.id),
                serde_json::json!({"seq": seq, "head": head}),
            )
        });
        // The envelope of every webhook; `data.note` is what a C2SP witness cosigns.
        let payload = serde_json::json!({
            "id": checkpoint.id, "type": CHECKPOINT_TOPIC, "occurred_at": checkpoint.signed_at,
            "data": {
                "origin": self.ledger_origin(),
                "size": seq,
                "root": STANDARD.encode(root),
                "note": note,
                "head": head,
                "checkpoint_id": checkpoint.id,
                "key_id": checkpoint.key_id,
            }
        });
        let outbox = self
            .webhook_message(CHECKPOINT_TOPIC, None, &payload)
            .await?;
        self.store()
            .insert_checkpoint(&checkpoint, audit.as_ref(), &outbox)
            .await?;
        if !outbox.is_empty() {
            self.wake_outbox();
        }
        *signed_tree = Some(SignedTree {
            seq,
            head,
            frontier,
        });
        drop(signed_tree);
        self.ask_witnesses(crate::witnesses::ToWitness {
            checkpoint: checkpoint.clone(),
            note,
            previous,
            tail,
        });
        Ok(checkpoint)
    }

    /// Checkpoints, newest first.
    pub async fn checkpoints(
        &self,
        by: &Principal,
        before: Option<Uuid>,
        limit: i64,
    ) -> AppResult<Vec<Checkpoint>> {
        by.require(Permission::Read)?;
        Ok(self.store().recent_checkpoints(before, limit).await?)
    }

    /// Signs the head every `interval` when it moved since the last checkpoint. Runs until
    /// the process ends: spawn it from `serve`.
    pub async fn checkpoint_loop(self, interval: Duration) {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticker.tick().await;
            match self.checkpoint_if_moved().await {
                Ok(Some(checkpoint)) => {
                    tracing::info!(seq = checkpoint.seq, "signed a ledger checkpoint")
                }
                Ok(None) => {}
                // A refusal was logged at error level where it was decided.
                Err(AppError::Conflict(_)) => {}
                Err(error) => tracing::error!(%error, "cannot sign a ledger checkpoint"),
            }
        }
    }

    /// Signs a checkpoint unless the latest one already covers the head.
    pub async fn checkpoint_if_moved(&self) -> AppResult<Option<Checkpoint>> {
        let (head_seq, _) = self.store().ledger_head().await?;
        if let Some(last) = self.store().latest_checkpoint().await?
            && last.seq == head_seq
        {
            return Ok(None);
        }
        self.sign_checkpoint(None).await.map(Some)
    }

    /// The checkpoints this server knows outside its checkpoints table: its checkpoint log,
    /// the audit log, and `given` files.
    pub async fn known_checkpoints(&self, given: &[PathBuf]) -> AppResult<KnownCheckpoints> {
        gather_known(
            self.store(),
            &self.ledger_keys(),
            Some(self.checkpoint_log()),
            given,
        )
        .await
    }
}

/// How much of the checkpoint log's end signing reads: many lines (each under 2 KiB), so
/// the last whole one is in it, however long the log has grown.
const LOG_TAIL: u64 = 64 * 1024;

/// The last lines of the checkpoint log (none when there is no log yet): signing needs only
/// the latest checkpoint, and the log grows by a line a minute for as long as it is kept.
fn read_log_tail(path: &Path) -> AppResult<String> {
    use std::io::{Read, Seek, SeekFrom};
    let fail = |error: std::io::Error| {
        refuse(format!(
            "cannot read the checkpoint log {}: {error}",
            path.display()
        ))
    };
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(String::new()),
        Err(error) => return Err(fail(error)),
    };
    let length = file.metadata().map_err(fail)?.len();
    let start = length.saturating_sub(LOG_TAIL);
    file.seek(SeekFrom::Start(start)).map_err(fail)?;
    let mut bytes = Vec::with_capacity((length - start) as usize);
    file.read_to_end(&mut bytes).map_err(fail)?;
    // From the middle of the file, the first line is cut: it starts after its newline.
    if start > 0 {
        let first = bytes
            .iter()
            .position(|b| *b == b'\n')
            .map_or(bytes.len(), |i| i + 1);
        bytes.drain(..first);
    }
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_tail_of_a_long_log_holds_its_last_lines_whole() {
        let dir = std::env::temp_dir().join(format!("registre-log-tail-{}", Uuid::now_v7()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("ledger-checkpoints.jsonl");
        assert_eq!(read_log_tail(&path).unwrap(), "");
        let lines: Vec<String> = (0..2_000)
            .map(|n| format!("{{\"line\":{n:0>60}}}"))
            .collect();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
        let tail = read_log_tail(&path).unwrap();
        assert!(tail.len() as u64 <= LOG_TAIL);
        assert!(tail.ends_with(&format!("{}\n", lines[1_999])));
        let first = tail.lines().next().unwrap();
        assert!(lines.iter().any(|l| l == first), "a whole line: {first}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
