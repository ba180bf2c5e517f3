//! Witness cosignatures of checkpoints, as C2SP defines them: the `add-checkpoint` request
//! of the witness protocol (c2sp.org/tlog-witness) and Ed25519 `cosignature/v1` note
//! signatures (c2sp.org/tlog-cosignature). A witness vouches that the tree it cosigns extends
//! every tree of the same log it cosigned before, so a log cannot show two histories.
use crate::merkle::Hash;
use crate::note;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use registre_crypto::{SigningKey, VerifyingKey};

/// The signature type of Ed25519 cosignatures in key ids and verifier keys.
const COSIGNATURE_V1: u8 = 0x04;
/// Most consistency proof lines a request may hold.
pub const MAX_PROOF_LINES: usize = 63;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WitnessError {
    #[error("not a verifier key: expected {0}")]
    Key(&'static str),
    #[error("not an add-checkpoint request: {0}")]
    Request(&'static str),
}

/// A witness as a log knows it: its name and cosigning key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessKey {
    pub name: String,
    pub key: VerifyingKey,
}

impl WitnessKey {
    /// Reads a verifier key `name+hex id+base64(0x04 || key)`.
    pub fn parse(vkey: &str) -> Result<Self, WitnessError> {
        let (name, key) = note::parse_vkey(vkey, COSIGNATURE_V1).map_err(WitnessError::Key)?;
        Ok(Self { name, key })
    }

    /// The verifier key text that [`Self::parse`] reads.
    pub fn vkey(&self) -> String {
        note::vkey(&self.name, COSIGNATURE_V1, &self.key)
    }

    /// The time of this witness's valid cosignature on the checkpoint `note`, if it holds one.
    pub fn cosigned_at(&self, note: &str) -> Option<u64> {
        let (body, signatures) = split_note(note)?;
        let id = note::key_id(&self.name, COSIGNATURE_V1, &self.key);
        signatures.lines().find_map(|line| {
            let rest = line.strip_prefix("\u{2014} ")?;
            let (signer, encoded) = rest.split_once(' ')?;
            let bytes = STANDARD.decode(encoded).ok()?;
            if signer != self.name || bytes.len() != 4 + 8 + 64 || bytes[..4] != id {
                return None;
            }
            let time = u64::from_be_bytes(bytes[4..12].try_into().ok()?);
            self.key
                .verify(cosigned_message(time, &body).as_bytes(), &bytes[12..])
                .ok()
                .map(|()| time)
        })
    }
}

/// A note's body (with its final newline) and its signature lines.
fn split_note(note: &str) -> Option<(String, &str)> {
    let (body, signatures) = note.split_once("\n\n")?;
    Some((format!("{body}\n"), signatures))
}

/// What a `cosignature/v1` signs: the header, the time, the checkpoint's body.
fn cosigned_message(time: u64, body: &str) -> String {
    format!("cosignature/v1\ntime {time}\n{body}")
}

/// The cosignature line of `key`, named `name`, on the checkpoint `note`, at `time`.
pub fn cosign(name: &str, key: &SigningKey, time: u64, note: &str) -> Option<String> {
    let (body, _) = split_note(note)?;
    let mut bytes = note::key_id(name, COSIGNATURE_V1, &key.verifying_key()).to_vec();
    bytes.extend_from_slice(&time.to_be_bytes());
    bytes.extend_from_slice(&key.sign(cosigned_message(time, &body).as_bytes()));
    Some(format!("\u{2014} {name} {}\n", STANDARD.encode(bytes)))
}

/// The note with `lines` (signature lines a witness answered) added after its own.
pub fn with_signatures(note: &str, lines: &str) -> String {
    let mut note = note.trim_end_matches('\n').to_string();
    note.push('\n');
    for line in lines.lines().filter(|l| l.starts_with('\u{2014}')) {
        note.push_str(line);
        note.push('\n');
    }
    note
}

/// The `add-checkpoint` body: the old size, the consistency proof, a blank line, the note.
pub fn add_checkpoint_request(old: u64, proof: &[Hash], note: &str) -> String {
    let mut body = format!("old {old}\n");
    for hash in proof {
        body.push_str(&STANDARD.encode(hash));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(note);
    body
}

/// An `add-checkpoint` request as a witness reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AddCheckpoint {
    pub old: u64,
    pub proof: Vec<Hash>,
    pub note: String,
}

/// Reads an `add-checkpoint` body.
pub fn parse_add_checkpoint(body: &str) -> Result<AddCheckpoint, WitnessError> {
    let (head, note) = body
        .split_once("\n\n")
        .ok_or(WitnessError::Request("no blank line before the checkpoint"))?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .filter(|n| *n == "0" || !n.starts_with('0'))
        .and_then(|n| n.parse().ok())
        .ok_or(WitnessError::Request("no old size line"))?;
    let proof = lines
        .map(|l| {
            STANDARD
                .decode(l)
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or(WitnessError::Request("a proof line that is not a hash"))
        })
        .collect::<Result<Vec<Hash>, _>>()?;
    if proof.len() > MAX_PROOF_LINES {
        return Err(WitnessError::Request("more than 63 proof lines"));
    }
    Ok(AddCheckpoint {
        old,
        proof,
        note: note.to_string(),
    })
}

/// The key of a log as a witness is configured with it: its Ed25519 note verifier key
/// (`origin+keyhash+base64(0x01 || key)`, what `/.well-known/registre/ledger-note-key`
/// publishes).
pub fn parse_log_key(vkey: &str) -> Result<(String, VerifyingKey), WitnessError> {
    note::parse_vkey(vkey, note::ED25519).map_err(WitnessError::Key)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_cosignature_verifies_with_the_witness_key_alone() {
        let log = SigningKey::generate();
        let checkpoint = note::sign_checkpoint("example.org/ledger", 3, &[9u8; 32], &log);
        let witness = SigningKey::generate();
        let line = cosign("witness.example/w1", &witness, 1_700_000_000, &checkpoint).unwrap();
        let cosigned = with_signatures(&checkpoint, &line);
        let key = WitnessKey {
            name: "witness.example/w1".into(),
            key: witness.verifying_key(),
        };
        assert_eq!(key.cosigned_at(&cosigned), Some(1_700_000_000));
        assert_eq!(WitnessKey::parse(&key.vkey()).unwrap(), key);
        // The log's own signature still opens the note.
        note::open_checkpoint(&cosigned, "example.org/ledger", &log.verifying_key()).unwrap();
        // Another witness, or a changed checkpoint, does not pass.
        let other = WitnessKey {
            name: "witness.example/w1".into(),
            key: SigningKey::generate().verifying_key(),
        };
        assert_eq!(other.cosigned_at(&cosigned), None);
        let changed = cosigned.replacen("\n3\n", "\n4\n", 1);
        assert_eq!(key.cosigned_at(&changed), None);
    }

    #[test]
    fn an_add_checkpoint_request_reads_back() {
        let note =
            note::sign_checkpoint("example.org/ledger", 5, &[1u8; 32], &SigningKey::generate());
        let body = add_checkpoint_request(3, &[[2u8; 32], [3u8; 32]], &note);
        assert!(body.starts_with("old 3\n"));
        let parsed = parse_add_checkpoint(&body).unwrap();
        assert_eq!(parsed.old, 3);
        assert_eq!(parsed.proof, vec![[2u8; 32], [3u8; 32]]);
        assert_eq!(parsed.note, note);
        assert!(
            parse_add_checkpoint(&add_checkpoint_request(0, &[], &note))
                .unwrap()
                .proof
                .is_empty()
        );
        assert!(parse_add_checkpoint("old 03\n\nx").is_err());
        assert!(parse_add_checkpoint("nonsense").is_err());
    }

    #[test]
    fn a_log_key_is_the_published_note_key() {
        let key = SigningKey::generate();
        let vkey = note::verifier_key("example.org/ledger", &key.verifying_key());
        let (name, parsed) = parse_log_key(&vkey).unwrap();
        assert_eq!(name, "example.org/ledger");
        assert_eq!(parsed, key.verifying_key());
        assert!(parse_log_key(&vkey.replace("example.org", "example.net")).is_err());
    }
}
