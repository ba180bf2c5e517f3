//! The audit log of administrative changes: who did what to which record, when. It holds no
//! personal data, and each entry's hash covers the previous one, so that a removed or altered
//! entry breaks the chain.
use crate::clock::canonical_time;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry before it is chained.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuditRecord {
    pub at: DateTime<Utc>,
    /// `user:<id>`, `api_key:<id>`, `system` or `cli`.
    pub actor: String,
    /// What happened, as `register.verb`: `purpose.created`, `touchpoint.updated`...
    pub action: String,
    /// The record concerned, as `register:key`.
    pub target: String,
    /// A JSON object without personal data (keys, versions, changed field names).
    pub details: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AuditEntry {
    pub seq: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: String,
    /// The details exactly as stored and hashed (canonical JSON text).
    pub details: String,
    pub prev_hash: String,
    pub hash: String,
}

impl AuditEntry {
    /// Chains `record` after the entry `(prev_seq, prev_hash)`.
    pub fn chain(record: &AuditRecord, prev_seq: i64, prev_hash: &str) -> Self {
        let mut entry = Self {
            seq: prev_seq + 1,
            at: crate::clock::truncate_to_micros(record.at),
            actor: record.actor.clone(),
            action: record.action.clone(),
            target: record.target.clone(),
            details: crate::notice::canonical_json(&record.details),
            prev_hash: prev_hash.to_string(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        entry
    }

    /// SHA-256 over the JSON array `[seq, at, actor, action, target, details, prev_hash]`,
    /// with `at` in RFC 3339 UTC microseconds and `details` as its stored text.
    pub fn compute_hash(&self) -> String {
        let canonical = serde_json::json!([
            self.seq,
            canonical_time(self.at),
            self.actor,
            self.action,
            self.target,
            self.details,
            self.prev_hash
        ]);
        registre_crypto::sha256_hex(canonical.to_string().as_bytes())
    }
}

/// The result of walking a chain.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ChainReport {
    pub ok: bool,
    pub length: i64,
    /// Hash of the last entry (64 zeros for an empty chain).
    pub head: String,
    /// The first sequence number whose entry does not verify, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub first_broken_seq: Option<i64>,
}

/// Walks entries in sequence order, as a store yields them page by page.
#[derive(Debug)]
pub struct ChainVerifier {
    expected_seq: i64,
    head: String,
    broken: Option<i64>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            head: GENESIS_HASH.to_string(),
            broken: None,
        }
    }
}

impl ChainVerifier {
    /// Feeds the next entry: its seq, the prev_hash it claims, the hash it claims, and the
    /// hash recomputed from its content.
    pub fn feed(&mut self, seq: i64, prev_hash: &str, stored_hash: &str, recomputed_hash: &str) {
        self.feed_checked(seq, prev_hash, stored_hash, stored_hash == recomputed_hash);
    }

    /// [`Self::feed`] when the content was already hashed and compared with `stored_hash`.
    pub fn feed_checked(
        &mut self,
        seq: i64,
        prev_hash: &str,
        stored_hash: &str,
        content_matches: bool,
    ) {
        if self.broken.is_none()
            && (seq != self.expected_seq || prev_hash != self.head || !content_matches)
        {
            self.broken = Some(self.expected_seq.min(seq));
        }
        self.expected_seq = seq + 1;
        // Reuses the buffer: a walk feeds millions of entries.
        self.head.clear();
        self.head.push_str(stored_hash);
    }

    /// The first sequence number found broken so far.
    pub fn broken(&self) -> Option<i64> {
        self.broken
    }

    pub fn finish(self) -> ChainReport {
        ChainReport {
            ok: self.broken.is_none(),
            length: self.expected_seq - 1,
            head: self.head,
            first_broken_seq: self.broken,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(action: &str) -> AuditRecord {
        AuditRecord {
            at: Utc::now(),
            actor: "cli".into(),
            action: action.into(),
            target: "purpose:newsletter".into(),
            details: serde_json::json!({"b": 1, "a": 2}),
        }
    }

    #[test]
    fn a_chain_verifies_and_a_changed_entry_is_named() {
        let first = AuditEntry::chain(&record("purpose.created"), 0, GENESIS_HASH);
        let second = AuditEntry::chain(&record("purpose.updated"), first.seq, &first.hash);
        let mut verifier = ChainVerifier::default();
        for e in [&first, &second] {
            verifier.feed(e.seq, &e.prev_hash, &e.hash, &e.compute_hash());
        }
        let report = verifier.finish();
        assert!(report.ok);
        assert_eq!(
            (report.length, report.head.as_str()),
            (2, second.hash.as_str())
        );

        let mut tampered = first.clone();
        tampered.action = "purpose.deleted".into();
        let mut verifier = ChainVerifier::default();
        for e in [&tampered, &second] {
            verifier.feed(e.seq, &e.prev_hash, &e.hash, &e.compute_hash());
        }
        assert_eq!(verifier.finish().first_broken_seq, Some(1));
    }
}
