//! The checkpoint log: every checkpoint a server signs, appended as one JSON line to a file
//! outside the database (docs/ledger.md, "Checkpoints outside the database"). Someone who can
//! rewrite the database and its checkpoints table cannot take back what this file, its
//! copies and the witnesses that received the `ledger.checkpoint` webhook already hold.
use crate::merkle::{Frontier, Hash};
use crate::note;
use crate::proof::{Checkpoint, KnownCheckpoint, LedgerProblem};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use registre_crypto::VerifyingKey;
use serde::{Deserialize, Serialize};

/// One line of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// The checkpoint as the checkpoints table holds it (chain head, JWS).
    pub checkpoint: Checkpoint,
    /// The same head as a C2SP signed note: origin, size, Merkle root.
    pub note: String,
    /// The roots of the perfect subtrees of that tree (base64, largest first), so that a
    /// server resumes the tree here rather than rehashing the whole ledger at start. The
    /// note's signed root vouches for them. Absent on the line that adds a witness's
    /// cosignature to a checkpoint already logged.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub frontier: Vec<String>,
}

/// What a log, or a file given to `registre verify --checkpoint`, holds.
#[derive(Debug, Default)]
pub struct ReadLog {
    pub known: Vec<KnownCheckpoint>,
    /// Lines that are not a checkpoint signed by a trusted key.
    pub problems: Vec<LedgerProblem>,
    /// The last line that verified, with its tree when its frontier is whole.
    pub last: Option<(Checkpoint, Option<Frontier>)>,
}

/// Reads the lines of a checkpoint log. `source` names the file in the report. A last line
/// cut short (a crash in the middle of an append) is not a checkpoint and is passed over.
pub fn read(text: &str, source: &str, trusted: &[VerifyingKey]) -> ReadLog {
    let mut log = ReadLog::default();
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.split('\n').collect();
    for (index, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        let torn = !complete && index == lines.len() - 1;
        let parsed: LogLine = match serde_json::from_str(line) {
            Ok(parsed) => parsed,
            Err(_) if torn => continue,
            Err(error) => {
                log.problems.push(LedgerProblem {
                    seq: 1,
                    message: format!("{source}, line {number}: not a checkpoint ({error})"),
                });
                continue;
            }
        };
        match open_line(&parsed, trusted) {
            Ok((root, frontier)) => {
                log.known.push(KnownCheckpoint {
                    source: format!("{source}, line {number}"),
                    seq: parsed.checkpoint.seq,
                    signed_at: Some(parsed.checkpoint.signed_at),
                    head: Some(parsed.checkpoint.head.clone()),
                    root: Some(root),
                });
                // A cosigned copy of the last checkpoint keeps the tree its first line had.
                let same = log.last.as_ref().is_some_and(|(last, kept)| {
                    last.id == parsed.checkpoint.id && kept.is_some() && frontier.is_none()
                });
                if !same {
                    log.last = Some((parsed.checkpoint, frontier));
                }
            }
            Err(reason) => log.problems.push(LedgerProblem {
                seq: parsed.checkpoint.seq.max(1),
                message: format!(
                    "{source}, line {number}: the checkpoint of {} events {reason}",
                    parsed.checkpoint.seq
                ),
            }),
        }
    }
    log
}

/// Checks a line's two signatures and that they sign the same head; its root and, when
/// whole, its tree.
fn open_line(line: &LogLine, trusted: &[VerifyingKey]) -> Result<(Hash, Option<Frontier>), String> {
    line.checkpoint
        .verify(trusted)
        .map_err(|reason| format!("does not verify: {reason}"))?;
    let opened = note::open_checkpoint_by_any(&line.note, trusted)
        .map_err(|reason| format!("has a note that does not verify: {reason}"))?;
    if opened.size != line.checkpoint.seq as u64 {
        return Err(format!(
            "has a note of {} events, not {}",
            opened.size, line.checkpoint.seq
        ));
    }
    let hashes: Option<Vec<Hash>> = line
        .frontier
        .iter()
        .map(|h| STANDARD.decode(h).ok().and_then(|b| b.try_into().ok()))
        .collect();
    let frontier = hashes
        .and_then(|hashes| Frontier::from_parts(opened.size, &hashes))
        .filter(|frontier| frontier.root() == opened.root);
    Ok((opened.root, frontier))
}

/// The line a server appends for `checkpoint`, signed as `note`, with its tree.
pub fn line(
    checkpoint: &Checkpoint,
    note: &str,
    frontier: &Frontier,
) -> Result<String, serde_json::Error> {
    let line = LogLine {
        checkpoint: checkpoint.clone(),
        note: note.to_string(),
        frontier: frontier
            .hashes()
            .iter()
            .map(|h| STANDARD.encode(h))
            .collect(),
    };
    let mut text = serde_json::to_string(&line)?;
    text.push('\n');
    Ok(text)
}

/// What an auditor gives `registre verify --checkpoint`: a checkpoint log (JSON lines), or
/// one C2SP signed note (`GET /api/v1/ledger/checkpoint`, a receipt's `proof.checkpoint`).
pub fn read_given(text: &str, source: &str, trusted: &[VerifyingKey]) -> ReadLog {
    if text.trim_start().starts_with('{') {
        return read(text, source, trusted);
    }
    let mut log = ReadLog::default();
    match note::open_checkpoint_by_any(text.trim_start(), trusted) {
        Ok(opened) => log.known.push(KnownCheckpoint {
            source: source.to_string(),
            seq: opened.size as i64,
            signed_at: None,
            head: None,
            root: Some(opened.root),
        }),
        Err(reason) => log.problems.push(LedgerProblem {
            seq: 1,
            message: format!("{source}: {reason}"),
        }),
    }
    log
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::merkle::leaf_hash;
    use chrono::Utc;
    use registre_crypto::SigningKey;

    fn logged(key: &SigningKey, size: u64) -> String {
        let mut frontier = Frontier::default();
        for i in 0..size {
            frontier.push(leaf_hash(&i.to_be_bytes()));
        }
        let head = format!("{size:064x}");
        let checkpoint = Checkpoint::sign(key, size as i64, &head, Utc::now()).unwrap();
        let note = note::sign_checkpoint("example.org/ledger", size, &frontier.root(), key);
        line(&checkpoint, &note, &frontier).unwrap()
    }

    #[test]
    fn a_log_reads_back_with_its_roots_and_the_last_tree() {
        let key = SigningKey::generate();
        let text = format!("{}{}", logged(&key, 3), logged(&key, 6));
        let log = read(&text, "the log", &[key.verifying_key()]);
        assert!(log.problems.is_empty(), "{:?}", log.problems);
        assert_eq!(
            log.known.iter().map(|k| k.seq).collect::<Vec<_>>(),
            vec![3, 6]
        );
        assert_eq!(log.known[1].source, "the log, line 2");
        let (last, frontier) = log.last.unwrap();
        assert_eq!(last.seq, 6);
        assert_eq!(frontier.unwrap().size(), 6);
    }

    #[test]
    fn a_torn_last_line_is_passed_over_and_a_forged_one_is_a_problem() {
        let key = SigningKey::generate();
        let whole = logged(&key, 3);
        let torn = format!("{whole}{}", &logged(&key, 4)[..40]);
        let log = read(&torn, "the log", &[key.verifying_key()]);
        assert_eq!((log.known.len(), log.problems.len()), (1, 0));

        let stranger = SigningKey::generate();
        let forged = format!("{whole}{}", logged(&stranger, 4));
        let log = read(&forged, "the log", &[key.verifying_key()]);
        assert_eq!(log.known.len(), 1);
        assert_eq!(log.problems.len(), 1);
        assert_eq!(log.problems[0].seq, 4);
        assert!(log.problems[0].message.contains("line 2"));
        assert_eq!(
            log.last.unwrap().0.seq,
            3,
            "a forged line is never the last"
        );
    }

    #[test]
    fn a_frontier_that_is_not_the_notes_tree_is_not_resumed() {
        let key = SigningKey::generate();
        let mut line: LogLine = serde_json::from_str(&logged(&key, 5)).unwrap();
        line.frontier[0] = STANDARD.encode([7u8; 32]);
        let text = format!("{}\n", serde_json::to_string(&line).unwrap());
        let log = read(&text, "the log", &[key.verifying_key()]);
        let (_, frontier) = log.last.unwrap();
        assert!(frontier.is_none());
    }

    #[test]
    fn a_given_note_is_a_root_to_compare() {
        let key = SigningKey::generate();
        let root = leaf_hash(b"x");
        let note = note::sign_checkpoint("example.org/ledger", 1, &root, &key);
        let given = read_given(&note, "note.txt", &[key.verifying_key()]);
        assert_eq!(given.known.len(), 1);
        assert_eq!(given.known[0].root, Some(root));
        assert_eq!(given.known[0].head, None);
        let other = read_given(&note, "note.txt", &[SigningKey::generate().verifying_key()]);
        assert!(other.known.is_empty() && other.problems.len() == 1);
    }
}
