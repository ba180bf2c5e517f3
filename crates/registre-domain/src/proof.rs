//! Proofs over the consent ledger: signed checkpoints of its head, the walk that checks a
//! chain against them, and the export format an outside auditor checks offline with nothing
//! but the published public key. `docs/ledger.md` describes the encodings.
use crate::clock::{canonical_time, truncate_to_micros};
use crate::ledger::{ChainVerifier, ConsentEvent, GENESIS_HASH};
use crate::merkle::{self, Frontier, Hash};
use chrono::{DateTime, Utc};
use registre_crypto::{CryptoError, SigningKey, VerifyingKey, sign_jws, verify_jws};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The `typ` inside a checkpoint's signed payload, so that no other signed document of the
/// same key (a receipt) can pass for a checkpoint.
pub const CHECKPOINT_TYPE: &str = "registre.ledger.checkpoint";

/// The chain head at `seq`, signed with the ledger key.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Checkpoint {
    pub id: Uuid,
    /// Sequence number of the last event covered (0 for an empty ledger).
    pub seq: i64,
    /// Hash of the event at `seq` (64 zeros for an empty ledger).
    pub head: String,
    pub signed_at: DateTime<Utc>,
    /// The JWK `kid` of the signing key.
    pub key_id: String,
    /// The signing key, hex. Informative only: trust comes from the published key.
    pub public_key: String,
    /// Compact JWS (EdDSA) of `{"typ", "seq", "head", "signed_at"}`.
    pub jws: String,
}

impl Checkpoint {
    /// The payload a checkpoint signs.
    pub fn payload(seq: i64, head: &str, signed_at: DateTime<Utc>) -> serde_json::Value {
        serde_json::json!({"typ": CHECKPOINT_TYPE, "seq": seq, "head": head, "signed_at": canonical_time(signed_at)})
    }

    pub fn sign(
        key: &SigningKey,
        seq: i64,
        head: &str,
        signed_at: DateTime<Utc>,
    ) -> Result<Self, CryptoError> {
        let signed_at = truncate_to_micros(signed_at);
        let verifying = key.verifying_key();
        Ok(Self {
            id: Uuid::now_v7(),
            seq,
            head: head.to_string(),
            signed_at,
            key_id: verifying.kid(),
            public_key: verifying.to_hex(),
            jws: sign_jws(key, &Self::payload(seq, head, signed_at))?,
        })
    }

    /// Checks the signature with the trusted key named by `key_id`, and that what was signed
    /// is what this checkpoint says.
    pub fn verify(&self, trusted: &[VerifyingKey]) -> Result<(), String> {
        let key = trusted
            .iter()
            .find(|k| k.kid() == self.key_id)
            .ok_or_else(|| {
                format!(
                    "signed by key {}, which is not a trusted ledger key",
                    self.key_id
                )
            })?;
        let payload =
            verify_jws(key, &self.jws).map_err(|_| "the signature does not verify".to_string())?;
        if payload != Self::payload(self.seq, &self.head, self.signed_at) {
            return Err("the signed payload differs from the checkpoint's fields".into());
        }
        Ok(())
    }
}

/// A checkpoint, briefly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CheckpointSummary {
    pub seq: i64,
    pub head: String,
    pub signed_at: DateTime<Utc>,
    pub key_id: String,
}

impl From<&Checkpoint> for CheckpointSummary {
    fn from(c: &Checkpoint) -> Self {
        Self {
            seq: c.seq,
            head: c.head.clone(),
            signed_at: c.signed_at,
            key_id: c.key_id.clone(),
        }
    }
}

/// Something that does not verify, at a sequence number.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerProblem {
    pub seq: i64,
    pub message: String,
}

/// The result of checking the ledger: the chain and its signed checkpoints.
/// `ok`, `length` and `head` are the public contract; the rest is added detail.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LedgerReport {
    pub ok: bool,
    pub length: i64,
    /// Hash of the last event (64 zeros for an empty ledger).
    pub head: String,
    /// The first sequence number at which the ledger or a checkpoint of it does not verify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_broken_seq: Option<i64>,
    /// Checkpoints whose signature verified and whose head matched the chain.
    pub checkpoints_verified: i64,
    /// Checkpoints known outside the checkpoints table (the checkpoint log, the audit log,
    /// notes given to `registre verify --checkpoint`) that matched the ledger.
    #[serde(default)]
    pub known_checkpoints_verified: i64,
    /// The latest checkpoint that verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_checkpoint: Option<CheckpointSummary>,
    /// What failed, first ones first (at most [`MAX_PROBLEMS`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<LedgerProblem>,
}

/// Most problems a report lists: one is enough to act, a few help to see the extent.
pub const MAX_PROBLEMS: usize = 50;

/// What the walk needs of one event: where it sits, the hashes it claims, and whether its
/// content hashes to its stored hash. A store that hashes rows as it reads them hands these
/// over instead of whole events (see `LedgerStore::chain_links`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainLink {
    pub seq: i64,
    pub prev_hash: String,
    pub hash: String,
    pub content_matches: bool,
}

impl ChainLink {
    pub fn of(event: &ConsentEvent) -> Self {
        Self {
            seq: event.seq,
            prev_hash: event.prev_hash.clone(),
            hash: event.hash.clone(),
            content_matches: event.hash_matches(&event.hash, &mut Vec::with_capacity(512)),
        }
    }
}

/// A checkpoint known outside the checkpoints table — the checkpoint log, the audit log, a
/// note an auditor brings — whose signature (where it has one) was already checked. Deleting
/// rows of the database does not make these go away: each is compared with the ledger.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownCheckpoint {
    /// Where it was found, as the report names it ("the checkpoint log /var/log/...").
    pub source: String,
    /// The number of events it covers.
    pub seq: i64,
    pub signed_at: Option<DateTime<Utc>>,
    /// The chain hash of event `seq`, when the source holds it.
    pub head: Option<String>,
    /// The Merkle root (RFC 9162) of the first `seq` events, when the source holds it.
    pub root: Option<Hash>,
}

impl KnownCheckpoint {
    fn signed(&self) -> String {
        match self.signed_at {
            Some(at) => format!(" signed {}", canonical_time(at)),
            None => String::new(),
        }
    }
}

/// Walks the events in sequence order, page after page, checking each hash and link, and
/// each checkpoint against the event it covers.
#[derive(Debug)]
pub struct LedgerVerifier {
    chain: ChainVerifier,
    /// Checkpoints known elsewhere, by ascending seq; `next_known` is the first not yet met.
    known: Vec<KnownCheckpoint>,
    next_known: usize,
    known_verified: i64,
    /// The tree so far, kept only when a known checkpoint carries a root to compare.
    frontier: Option<Frontier>,
    /// Checkpoints whose signature verified, by ascending seq; `next` is the first not yet met.
    checkpoints: Vec<Checkpoint>,
    next: usize,
    verified: i64,
    last_verified: Option<CheckpointSummary>,
    problems: Vec<LedgerProblem>,
}

impl LedgerVerifier {
    pub fn new(trusted: &[VerifyingKey], checkpoints: Vec<Checkpoint>) -> Self {
        let mut verifier = Self {
            chain: ChainVerifier::default(),
            known: Vec::new(),
            next_known: 0,
            known_verified: 0,
            frontier: None,
            checkpoints: Vec::with_capacity(checkpoints.len()),
            next: 0,
            verified: 0,
            last_verified: None,
            problems: Vec::new(),
        };
        for checkpoint in checkpoints {
            match checkpoint.verify(trusted) {
                Ok(()) if checkpoint.seq == 0 => {
                    if checkpoint.head == GENESIS_HASH {
                        verifier.accept(&checkpoint);
                    } else {
                        verifier.problem(
                            1,
                            "a checkpoint of the empty ledger has a head other than 64 zeros"
                                .into(),
                        );
                    }
                }
                Ok(()) => verifier.checkpoints.push(checkpoint),
                Err(reason) => {
                    let seq = checkpoint.seq.max(1);
                    verifier.problem(
                        seq,
                        format!(
                            "checkpoint {} at seq {}: {reason}",
                            checkpoint.id, checkpoint.seq
                        ),
                    );
                }
            }
        }
        verifier.checkpoints.sort_by_key(|c| (c.seq, c.signed_at));
        verifier
    }

    /// Adds checkpoints known outside the checkpoints table, to be compared as the walk
    /// meets them (before the first event is fed).
    pub fn with_known(mut self, known: Vec<KnownCheckpoint>) -> Self {
        for checkpoint in known {
            if checkpoint.seq == 0 {
                let empty = checkpoint.head.as_deref().is_none_or(|h| h == GENESIS_HASH)
                    && checkpoint.root.is_none_or(|r| r == merkle::empty_root());
                if empty {
                    self.known_verified += 1;
                } else {
                    self.problem(
                        1,
                        format!(
                            "{} holds a checkpoint of the empty ledger that is not empty",
                            checkpoint.source
                        ),
                    );
                }
            } else {
                self.known.push(checkpoint);
            }
        }
        self.known.sort_by_key(|c| c.seq);
        // A head at a seq vouches for everything up to it, the tree included: the tree is
        // hashed (two more hashes per event) only for checkpoints that hold a root alone.
        if self
            .known
            .iter()
            .any(|c| c.root.is_some() && c.head.is_none())
        {
            self.frontier = Some(Frontier::default());
        }
        self
    }

    /// Records an event found after the head the store recorded with the last append: written
    /// behind the server's back (a real append moves the head in the same transaction).
    pub fn event_beyond_head(&mut self, seq: i64, head_seq: i64) {
        self.problem(
            seq,
            format!(
                "event {seq} lies after the recorded head (seq {head_seq}): it was not appended by Registre"
            ),
        );
    }

    /// A problem found outside the walk (an unreadable or unsigned external checkpoint).
    pub fn add_problem(&mut self, problem: LedgerProblem) {
        self.problem(problem.seq, problem.message);
    }

    fn problem(&mut self, seq: i64, message: String) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(LedgerProblem { seq, message });
        }
    }

    fn accept(&mut self, checkpoint: &Checkpoint) {
        self.verified += 1;
        let newer = self.last_verified.as_ref().is_none_or(|last| {
            (checkpoint.seq, checkpoint.signed_at) >= (last.seq, last.signed_at)
        });
        if newer {
            self.last_verified = Some(checkpoint.into());
        }
    }

    pub fn feed(&mut self, event: &ConsentEvent) {
        self.feed_link(&ChainLink::of(event));
    }

    /// [`Self::feed`] with the event already hashed (by the store, as it read it).
    pub fn feed_link(&mut self, event: &ChainLink) {
        let before = self.chain_broken();
        self.chain.feed_checked(
            event.seq,
            &event.prev_hash,
            &event.hash,
            event.content_matches,
        );
        if before.is_none()
            && let Some(seq) = self.chain_broken()
        {
            let message = if !event.content_matches && seq == event.seq {
                format!("event {seq}: its content does not hash to its stored hash")
            } else {
                format!("event {seq}: missing, out of order, or not linked to the event before it")
            };
            self.problem(seq, message);
        }
        if let Some(frontier) = &mut self.frontier {
            let mut leaf = [0u8; 32];
            // A malformed stored hash already broke the chain; the leaf then is of its text.
            match hex::decode_to_slice(&event.hash, &mut leaf) {
                Ok(()) => frontier.push(merkle::leaf_hash(&leaf)),
                Err(_) => frontier.push(merkle::leaf_hash(event.hash.as_bytes())),
            }
        }
        self.meet_known(event);
        while let Some(checkpoint) = self.checkpoints.get(self.next) {
            if checkpoint.seq > event.seq {
                break;
            }
            let checkpoint = checkpoint.clone();
            self.next += 1;
            if checkpoint.seq < event.seq {
                self.problem(
                    checkpoint.seq,
                    format!(
                        "checkpoint at seq {}: no such event in the ledger",
                        checkpoint.seq
                    ),
                );
            } else if checkpoint.head != event.hash {
                self.problem(
                    checkpoint.seq,
                    format!(
                        "event {}: its hash differs from the one signed at {}",
                        checkpoint.seq,
                        canonical_time(checkpoint.signed_at)
                    ),
                );
            } else {
                self.accept(&checkpoint);
            }
        }
    }

    /// Compares the known checkpoints at or below `event` with it.
    fn meet_known(&mut self, event: &ChainLink) {
        while let Some(known) = self.known.get(self.next_known) {
            if known.seq > event.seq {
                break;
            }
            let known = known.clone();
            self.next_known += 1;
            if known.seq < event.seq {
                // The walk skipped it: the chain has a gap there, reported by the chain.
                continue;
            }
            let head_differs = known.head.as_ref().is_some_and(|h| *h != event.hash);
            let root_differs = match (&known.root, &self.frontier) {
                (Some(root), Some(frontier)) => frontier.root() != *root,
                _ => false,
            };
            if head_differs || root_differs {
                self.problem(
                    known.seq,
                    format!(
                        "event {seq}: the ledger differs from the checkpoint of {seq} events{signed} in {source}: rewritten at or before seq {seq}",
                        seq = known.seq,
                        signed = known.signed(),
                        source = known.source
                    ),
                );
            } else {
                self.known_verified += 1;
            }
        }
    }

    fn chain_broken(&self) -> Option<i64> {
        self.chain.broken()
    }

    /// Ends the walk. `recorded_head` is the head the store recorded with the last append,
    /// when there is one: a chain cut short shows as a head that differs from it.
    pub fn finish(mut self, recorded_head: Option<(i64, &str)>) -> LedgerReport {
        let chain = std::mem::take(&mut self.chain).finish();
        let length = chain.length;
        let beyond: Vec<i64> = self.checkpoints[self.next..]
            .iter()
            .map(|c| c.seq)
            .collect();
        for seq in beyond {
            self.problem(
                length + 1,
                format!("the ledger ends at seq {length}, but a checkpoint was signed at seq {seq}: events are missing"),
            );
        }
        let beyond: Vec<KnownCheckpoint> = self.known[self.next_known..].to_vec();
        for known in beyond {
            self.problem(
                length + 1,
                format!(
                    "the ledger ends at seq {length}, but {} holds a checkpoint of {} events{}: events {}..{} were cut",
                    known.source,
                    known.seq,
                    known.signed(),
                    length + 1,
                    known.seq
                ),
            );
        }
        if let Some((seq, hash)) = recorded_head
            && chain.ok
            && (seq != length || hash != chain.head)
        {
            self.problem(
                length + 1,
                format!("the ledger ends at seq {length}, but its recorded head is seq {seq}"),
            );
        }
        let first_broken_seq = self.problems.iter().map(|p| p.seq).min();
        self.problems.sort_by_key(|p| p.seq);
        LedgerReport {
            ok: chain.ok && first_broken_seq.is_none(),
            length,
            head: chain.head,
            first_broken_seq: first_broken_seq.or(chain.first_broken_seq),
            checkpoints_verified: self.verified,
            known_checkpoints_verified: self.known_verified,
            last_checkpoint: self.last_verified,
            problems: self.problems,
        }
    }
}

/// The export format (`registre ledger export`): JSON Lines, one object per line, tagged by
/// `type`: one `header`, then every `checkpoint`, then every `event` in sequence order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ExportLine {
    Header(ExportHeader),
    Checkpoint(Checkpoint),
    Event(ConsentEvent),
}

pub const EXPORT_FORMAT: &str = "registre-ledger";
pub const EXPORT_VERSION: u32 = 1;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportHeader {
    /// Always `registre-ledger`.
    pub format: String,
    pub version: u32,
    pub exported_at: DateTime<Utc>,
    /// Sequence number and hash of the last event exported.
    pub length: i64,
    pub head: String,
    /// The ledger key as a JWK set, as published at `/.well-known/registre/ledger-key`.
    pub keys: serde_json::Value,
    /// How each hash is computed, for a reader without the documentation.
    pub hash_encoding: String,
}

pub const HASH_ENCODING: &str = "sha256(json([seq, event_id, recorded_at, occurred_at, subject_id, purpose, action, source, touchpoint, notice_version, provenance, prev_hash])) as lower-case hex; instants RFC 3339 UTC with 6 fractional digits and Z; absent values null; JSON without spaces";

/// A JWK set (`{"keys": [...]}`) or a single JWK, as trusted keys.
pub fn keys_from_jwks(value: &serde_json::Value) -> Result<Vec<VerifyingKey>, CryptoError> {
    match value.get("keys").and_then(|k| k.as_array()) {
        Some(keys) => keys.iter().map(VerifyingKey::from_jwk).collect(),
        None => Ok(vec![VerifyingKey::from_jwk(value)?]),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::ledger::{ConsentAction, ConsentSource, NewConsentEvent};

    fn chain(n: usize) -> Vec<ConsentEvent> {
        let mut events: Vec<ConsentEvent> = Vec::new();
        for _ in 0..n {
            let new = NewConsentEvent {
                event_id: Uuid::now_v7(),
                subject_id: Uuid::now_v7(),
                purpose: Some("newsletter".into()),
                action: ConsentAction::Grant,
                source: ConsentSource::Api,
                touchpoint: None,
                notice_version: None,
                provenance: None,
                occurred_at: None,
            };
            let (seq, hash) = events
                .last()
                .map(|e| (e.seq, e.hash.clone()))
                .unwrap_or((0, GENESIS_HASH.into()));
            events.push(ConsentEvent::chain(&new, Utc::now(), seq, &hash));
        }
        events
    }

    fn walk(
        key: &SigningKey,
        events: &[ConsentEvent],
        checkpoints: Vec<Checkpoint>,
    ) -> LedgerReport {
        let mut verifier = LedgerVerifier::new(&[key.verifying_key()], checkpoints);
        for e in events {
            verifier.feed(e);
        }
        verifier.finish(None)
    }

    #[test]
    fn a_signed_checkpoint_verifies_and_a_rewritten_chain_is_caught_at_it() {
        let key = SigningKey::generate();
        let events = chain(5);
        let at3 = Checkpoint::sign(&key, 3, &events[2].hash, Utc::now()).unwrap();
        let report = walk(&key, &events, vec![at3.clone()]);
        assert!(report.ok, "{report:?}");
        assert_eq!(report.checkpoints_verified, 1);
        assert_eq!(report.last_checkpoint.unwrap().seq, 3);

        // Rewrite from event 2 with recomputed hashes: the chain alone verifies, the checkpoint does not.
        let mut rewritten = events[..1].to_vec();
        for e in &events[1..] {
            let mut e = e.clone();
            e.purpose = Some("partner_offers".into());
            e.prev_hash = rewritten.last().unwrap().hash.clone();
            e.hash = e.compute_hash();
            rewritten.push(e);
        }
        let report = walk(&key, &rewritten, vec![at3.clone()]);
        assert!(!report.ok);
        assert_eq!(report.first_broken_seq, Some(3));

        // A checkpoint signed by another key is not trusted.
        let report = walk(&SigningKey::generate(), &events, vec![at3.clone()]);
        assert!(!report.ok);

        // A truncated chain is caught by a checkpoint beyond its end.
        let report = walk(&key, &events[..2], vec![at3]);
        assert_eq!((report.ok, report.first_broken_seq), (false, Some(3)));
    }

    #[test]
    fn a_changed_byte_is_named_by_its_seq_and_a_forged_checkpoint_is_refused() {
        let key = SigningKey::generate();
        let mut events = chain(4);
        events[1].action = ConsentAction::Withdraw;
        let report = walk(&key, &events, vec![]);
        assert_eq!((report.ok, report.first_broken_seq), (false, Some(2)));

        let events = chain(2);
        let mut forged = Checkpoint::sign(&key, 2, &events[1].hash, Utc::now()).unwrap();
        forged.seq = 1;
        forged.head = events[0].hash.clone();
        assert!(forged.verify(&[key.verifying_key()]).is_err());
        assert!(!walk(&key, &events, vec![forged]).ok);
    }

    #[test]
    fn export_lines_read_back() {
        let key = SigningKey::generate();
        let events = chain(1);
        let checkpoint = Checkpoint::sign(&key, 1, &events[0].hash, Utc::now()).unwrap();
        for line in [
            ExportLine::Checkpoint(checkpoint),
            ExportLine::Event(events[0].clone()),
        ] {
            let text = serde_json::to_string(&line).unwrap();
            assert_eq!(serde_json::from_str::<ExportLine>(&text).unwrap(), line);
        }
        let jwks = serde_json::json!({"keys": [key.verifying_key().to_jwk()]});
        assert_eq!(keys_from_jwks(&jwks).unwrap(), vec![key.verifying_key()]);
    }
}
