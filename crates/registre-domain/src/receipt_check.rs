//! What `registre verify-receipt` checks, offline: a consent receipt proves itself with the
//! ledger's public key alone — its signature, its event's place in the ledger's Merkle tree
//! (the inclusion proof it carries, against the signed checkpoint it carries) and, given a
//! later checkpoint and the consistency proof between the two, that the event is still
//! there in the later ledger.
use crate::{merkle, note};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use registre_crypto::VerifyingKey;
use serde_json::Value;

/// A later checkpoint to check the receipt against, with the consistency proof from the
/// receipt's tree to it (`GET /api/v1/ledger/proofs/consistency`) when their sizes differ.
pub struct Later<'a> {
    pub checkpoint: &'a str,
    pub consistency: Option<&'a Value>,
}

/// What held.
#[derive(Debug, PartialEq, Eq)]
pub struct Verdict {
    pub event_id: String,
    pub seq: u64,
    pub tree_size: u64,
    pub origin: String,
    /// The size of the later checkpoint the event was shown to be in.
    pub still_in: Option<u64>,
}

fn hash_of(value: &Value, what: &str) -> Result<merkle::Hash, String> {
    value
        .as_str()
        .and_then(|text| STANDARD.decode(text).ok())
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or_else(|| format!("{what} is not a base64 SHA-256 hash"))
}

fn hashes_of(value: &Value, what: &str) -> Result<Vec<merkle::Hash>, String> {
    value
        .as_array()
        .ok_or_else(|| format!("{what} is not a list of hashes"))?
        .iter()
        .map(|h| hash_of(h, what))
        .collect()
}

/// Opens `text` with the first of `keys` that signed it, under the note's own origin.
fn open_note(text: &str, keys: &[VerifyingKey]) -> Result<note::NoteCheckpoint, String> {
    let origin = text.lines().next().unwrap_or_default();
    keys.iter()
        .find_map(|key| note::open_checkpoint(text, origin, key).ok())
        .ok_or_else(|| "the checkpoint is not signed by the ledger key".to_string())
}

/// Checks `file` (a receipt as downloaded: `receipt`, `jws`, `proof`) with `keys`.
pub fn verify(
    file: &Value,
    keys: &[VerifyingKey],
    later: Option<Later<'_>>,
) -> Result<Verdict, String> {
    let receipt = file.get("receipt").ok_or("no receipt in the file")?;
    let jws = file
        .get("jws")
        .and_then(Value::as_str)
        .ok_or("no jws in the file")?;
    let signed = keys
        .iter()
        .find_map(|key| registre_crypto::verify_jws(key, jws).ok())
        .ok_or("the receipt's signature does not verify with the ledger key")?;
    if &signed != receipt {
        return Err("the receipt differs from what was signed".into());
    }
    let proof = file.get("proof").ok_or("no inclusion proof in the file")?;
    let event_hash = receipt
        .get("hash")
        .and_then(Value::as_str)
        .and_then(|h| hex::decode(h).ok())
        .ok_or("the receipt has no event hash")?;
    let leaf = merkle::leaf_hash(&event_hash);
    if hash_of(&proof["leaf_hash"], "leaf_hash")? != leaf {
        return Err("the proof is not about this receipt's event".into());
    }
    let seq = receipt
        .get("seq")
        .and_then(Value::as_u64)
        .ok_or("the receipt has no seq")?;
    let index = proof["leaf_index"]
        .as_u64()
        .ok_or("the proof has no leaf_index")?;
    if seq == 0 || index != seq - 1 {
        return Err("the proof's leaf is not the receipt's event".into());
    }
    let checkpoint = proof["checkpoint"]
        .as_str()
        .ok_or("the proof has no checkpoint")?;
    let tree = open_note(checkpoint, keys)?;
    let size = proof["tree_size"]
        .as_u64()
        .ok_or("the proof has no tree_size")?;
    if tree.size != size {
        return Err("the proof and its checkpoint are of different trees".into());
    }
    let path = hashes_of(&proof["hashes"], "the inclusion path")?;
    if !merkle::verify_inclusion(index, size, &leaf, &path, &tree.root) {
        return Err("the inclusion proof does not lead to the checkpoint's root".into());
    }
    let mut still_in = None;
    if let Some(later) = later {
        let newer = open_note(later.checkpoint, keys)?;
        if newer.origin != tree.origin {
            return Err(format!(
                "the later checkpoint is of another ledger ({})",
                newer.origin
            ));
        }
        if newer.size < tree.size {
            return Err("the later checkpoint is older than the receipt's".into());
        }
        if newer.size == tree.size {
            if newer.root != tree.root {
                return Err("the ledger was rewritten: same size, another root".into());
            }
        } else {
            let consistency = later.consistency.ok_or(
                "a later checkpoint of another size needs the consistency proof between the two (--consistency)",
            )?;
            let from = consistency["from"].as_u64();
            let to = consistency["to"].as_u64();
            if from != Some(tree.size) || to != Some(newer.size) {
                return Err("the consistency proof is not between these two checkpoints".into());
            }
            let path = hashes_of(&consistency["hashes"], "the consistency path")?;
            if !merkle::verify_consistency(tree.size, newer.size, &tree.root, &newer.root, &path) {
                return Err(
                    "the later ledger does not extend the receipt's: it was rewritten".into(),
                );
            }
        }
        still_in = Some(newer.size);
    }
    Ok(Verdict {
        event_id: receipt["consentReceiptID"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        seq,
        tree_size: size,
        origin: tree.origin,
        still_in,
    })
}
