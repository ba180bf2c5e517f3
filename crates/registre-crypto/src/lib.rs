//! Keys and primitives for Registre: the master key, per-subject data keys wrapped by it,
//! field encryption, the blind index used to find a person by email, hashing and signatures.
//!
//! Every piece of personal data is sealed with the key of the person it describes. Destroying
//! that key (erasure) makes every ciphertext of that person unreadable, while hashes kept in
//! the ledger and the audit log, which never contain personal data, stay verifiable.

pub mod backup;
pub mod durable;
mod keyring;
mod signing;

pub use keyring::{
    BlindIndex, KeyFile, Keyring, MasterKey, Rewrapped, StableSecrets, SubjectKey, WrappedKey,
};
pub use signing::{SigningKey, VerifyingKey, sign_jws, verify_jws};

use sha2::{Digest, Sha256};

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the master key is malformed: {0}")]
    BadMasterKey(String),
    #[error("a wrapped key is malformed or was wrapped by another master key")]
    Unwrap,
    #[error(
        "a wrapped key names master key {0}, which this keyring does not hold (rotated away, or the key file is not this installation's)"
    )]
    UnknownMasterKey(String),
    #[error("ciphertext cannot be opened with this key")]
    Open,
    #[error("encryption failed")]
    Seal,
    #[error("signature is invalid")]
    BadSignature,
    #[error("malformed input: {0}")]
    Malformed(String),
}

/// SHA-256 as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 as raw bytes.
pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// Random bytes from the OS generator, as URL-safe base64 without padding: tokens, API keys.
pub fn random_token(bytes: usize) -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut buf = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut buf);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(buf)
}

/// Compares two secrets in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// HMAC-SHA256 as lower-case hex, as used for webhook signatures.
pub fn hmac_sha256_hex(secret: &[u8], body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = match <Hmac<Sha256> as Mac>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}
