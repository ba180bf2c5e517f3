//! Checkpoints of the ledger's Merkle tree as C2SP signed notes
//! (<https://c2sp.org/tlog-checkpoint>, <https://c2sp.org/signed-note>): the text an outside
//! witness or a person holding a receipt keeps, and checks with the published key alone.
//!
//! ```text
//! registre.example.org/ledger
//! 42
//! 0x5j…base64 root…=
//!
//! — registre.example.org/ledger AbCd…base64(key hash ‖ signature)…
//! ```
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use registre_crypto::{SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;

/// The signature algorithm byte of Ed25519 in signed notes.
pub(crate) const ED25519: u8 = 0x01;

/// A checkpoint read back from a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteCheckpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("not a checkpoint note: {0}")]
    Malformed(&'static str),
    #[error("no signature by the key {0} verifies this note")]
    NotSigned(String),
}

/// The 4-byte key id of signed notes: SHA-256(name ‖ "\n" ‖ type ‖ public key)[..4], the
/// type being 0x01 for a log's Ed25519 signatures and 0x04 for a witness's cosignatures.
pub(crate) fn key_id(name: &str, kind: u8, key: &VerifyingKey) -> [u8; 4] {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([kind]);
    hasher.update(key.to_bytes());
    let digest = hasher.finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

fn key_hash(name: &str, key: &VerifyingKey) -> [u8; 4] {
    key_id(name, ED25519, key)
}

/// A verifier key `name+hex key id+base64(type ‖ key)` of `kind`.
pub(crate) fn vkey(name: &str, kind: u8, key: &VerifyingKey) -> String {
    let mut bytes = vec![kind];
    bytes.extend_from_slice(&key.to_bytes());
    format!(
        "{name}+{}+{}",
        hex::encode(key_id(name, kind, key)),
        STANDARD.encode(bytes)
    )
}

/// Reads a verifier key of `kind` back: its name and Ed25519 key, or what is wrong with it.
pub(crate) fn parse_vkey(text: &str, kind: u8) -> Result<(String, VerifyingKey), &'static str> {
    let mut parts = text.trim().splitn(3, '+');
    let (Some(name), Some(id), Some(encoded)) = (parts.next(), parts.next(), parts.next()) else {
        return Err("three parts joined by +");
    };
    let bytes = STANDARD.decode(encoded).map_err(|_| "base64 key")?;
    if bytes.len() != 33 || bytes[0] != kind {
        return Err("an Ed25519 key of the expected type");
    }
    let key =
        VerifyingKey::from_hex(&hex::encode(&bytes[1..])).map_err(|_| "an Ed25519 public key")?;
    if name.is_empty() || hex::encode(key_id(name, kind, &key)) != id {
        return Err("a key id that matches the name and key");
    }
    Ok((name.to_string(), key))
}

/// The verifier key in the note format (`name+hex key hash+base64(0x01 ‖ key)`), as Go's
/// `golang.org/x/mod/sumdb/note` and the C2SP tools read it.
pub fn verifier_key(name: &str, key: &VerifyingKey) -> String {
    vkey(name, ED25519, key)
}

/// The checkpoint body: origin, size, root, each on its line.
pub fn checkpoint_body(origin: &str, size: u64, root: &Hash) -> String {
    format!("{origin}\n{size}\n{}\n", STANDARD.encode(root))
}

/// The checkpoint signed by `key` under the key name `origin`.
pub fn sign_checkpoint(origin: &str, size: u64, root: &Hash, key: &SigningKey) -> String {
    let body = checkpoint_body(origin, size, root);
    let mut signature = key_hash(origin, &key.verifying_key()).to_vec();
    signature.extend_from_slice(&key.sign(body.as_bytes()));
    format!("{body}\n\u{2014} {origin} {}\n", STANDARD.encode(signature))
}

/// Reads a checkpoint note and checks that `key` (named `name`) signed it.
pub fn open_checkpoint(
    note: &str,
    name: &str,
    key: &VerifyingKey,
) -> Result<NoteCheckpoint, NoteError> {
    let (body, signatures) = note
        .split_once("\n\n")
        .ok_or(NoteError::Malformed("no blank line before the signatures"))?;
    let body = format!("{body}\n");
    let id = key_hash(name, key);
    let signed = signatures.lines().any(|line| {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            return false;
        };
        let Some((signer, encoded)) = rest.split_once(' ') else {
            return false;
        };
        let Ok(bytes) = STANDARD.decode(encoded) else {
            return false;
        };
        signer == name
            && bytes.len() == 68
            && bytes[..4] == id
            && key.verify(body.as_bytes(), &bytes[4..]).is_ok()
    });
    if !signed {
        return Err(NoteError::NotSigned(name.to_string()));
    }
    let mut lines = body.lines();
    let origin = lines
        .next()
        .filter(|l| !l.is_empty())
        .ok_or(NoteError::Malformed("no origin"))?;
    let size = lines
        .next()
        .and_then(|l| l.parse().ok())
        .ok_or(NoteError::Malformed("no tree size"))?;
    let root: Hash = lines
        .next()
        .and_then(|l| STANDARD.decode(l).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or(NoteError::Malformed("no root hash"))?;
    Ok(NoteCheckpoint {
        origin: origin.to_string(),
        size,
        root,
    })
}

/// Reads a checkpoint note signed, under the name on its origin line, by one of `keys`.
pub fn open_checkpoint_by_any(
    note: &str,
    keys: &[VerifyingKey],
) -> Result<NoteCheckpoint, NoteError> {
    let origin = note
        .lines()
        .next()
        .filter(|l| !l.is_empty())
        .ok_or(NoteError::Malformed("no origin"))?;
    let mut last = NoteError::NotSigned(origin.to_string());
    for key in keys {
        match open_checkpoint(note, origin, key) {
            Ok(opened) => return Ok(opened),
            Err(error) => last = error,
        }
    }
    Err(last)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_checkpoint_opens_with_its_key_and_with_no_other() {
        let key = SigningKey::generate();
        let root = crate::merkle::leaf_hash(b"event");
        let note = sign_checkpoint("registre.example/ledger", 7, &root, &key);
        assert!(note.starts_with("registre.example/ledger\n7\n"));
        assert!(note.contains("\n\n\u{2014} registre.example/ledger "));
        let opened =
            open_checkpoint(&note, "registre.example/ledger", &key.verifying_key()).unwrap();
        assert_eq!(opened.size, 7);
        assert_eq!(opened.root, root);
        let other = SigningKey::generate();
        assert!(open_checkpoint(&note, "registre.example/ledger", &other.verifying_key()).is_err());
        let tampered = note.replacen("\n7\n", "\n8\n", 1);
        assert!(
            open_checkpoint(&tampered, "registre.example/ledger", &key.verifying_key()).is_err()
        );
        let vkey = verifier_key("registre.example/ledger", &key.verifying_key());
        assert!(vkey.starts_with("registre.example/ledger+"));
        assert_eq!(vkey.split('+').nth(1).unwrap().len(), 8);
    }
}
