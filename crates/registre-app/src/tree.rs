//! The ledger's Merkle tree (RFC 9162) as the API serves it: the signed checkpoint of the
//! current head as a C2SP note, and inclusion and consistency proofs that anyone checks
//! with the published key alone (docs/ledger.md, "The Merkle tree").
//!
//! The tree is rebuilt from the chain's hashes for each answer: linear in the ledger's
//! length, which keeps one source of truth (the events) and nothing new to keep in step.
use crate::{App, AppError, AppResult, Principal};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use registre_domain::role::Permission;
use registre_domain::{DomainError, merkle, note};
use serde::Serialize;
use uuid::Uuid;

/// An event's place in the tree of the current head, and the hashes that prove it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct InclusionProof {
    pub event_id: Uuid,
    pub seq: i64,
    /// `seq - 1`: leaves count from 0.
    pub leaf_index: u64,
    pub tree_size: u64,
    /// Base64 `SHA-256(0x00 ‖ event hash)`.
    pub leaf_hash: String,
    /// Base64 root of the tree of `tree_size` leaves, as in the checkpoint.
    pub root_hash: String,
    /// Base64 audit path, RFC 9162 §2.1.3.
    pub hashes: Vec<String>,
    /// The signed checkpoint of this tree (C2SP signed note).
    pub checkpoint: String,
}

/// That the tree of `from` leaves is a prefix of the tree of `to` leaves.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ConsistencyProof {
    pub from: u64,
    pub to: u64,
    pub from_root: String,
    pub to_root: String,
    /// Base64 consistency path, RFC 9162 §2.1.4.
    pub hashes: Vec<String>,
}

fn b64(hash: &merkle::Hash) -> String {
    STANDARD.encode(hash)
}

impl App {
    /// The checkpoints' origin and key name: the public URL's host and path, then `/ledger`.
    pub fn ledger_origin(&self) -> String {
        let url = &self.config().public_url;
        let bare = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .unwrap_or(url);
        format!("{}/ledger", bare.trim_end_matches('/'))
    }

    /// The verifier key of the checkpoints, in the signed-note format.
    pub fn ledger_note_key(&self) -> String {
        note::verifier_key(&self.ledger_origin(), &self.signing_key().verifying_key())
    }

    /// The leaf hashes of the first `size` events.
    pub(crate) async fn leaves(&self, size: i64) -> AppResult<Vec<merkle::Hash>> {
        let mut leaves = Vec::with_capacity(size.max(0) as usize);
        crate::ledger::walk_links(self.store(), 0, size, |link| {
            let bytes = hex::decode(&link.hash).map_err(|_| {
                AppError::Conflict(format!("event {} has a malformed hash", link.seq))
            })?;
            leaves.push(merkle::leaf_hash(&bytes));
            Ok(())
        })
        .await?;
        if leaves.len() as i64 != size {
            return Err(AppError::Conflict(format!(
                "the ledger holds {} events, not {size}",
                leaves.len()
            )));
        }
        Ok(leaves)
    }

    /// The signed checkpoint of the current head.
    pub async fn checkpoint_note(&self, by: &Principal) -> AppResult<String> {
        by.require(Permission::Read)?;
        let (size, _) = self.store().ledger_head().await?;
        let leaves = self.leaves(size).await?;
        Ok(self.note_of(size as u64, &merkle::root(&leaves)))
    }

    pub(crate) fn note_of(&self, size: u64, root: &merkle::Hash) -> String {
        note::sign_checkpoint(&self.ledger_origin(), size, root, &self.signing_key())
    }

    /// The inclusion proof of event `event_id` in the tree of the current head.
    pub async fn inclusion_proof(
        &self,
        by: &Principal,
        event_id: Uuid,
    ) -> AppResult<InclusionProof> {
        by.require(Permission::Read)?;
        let event = self
            .store()
            .event(event_id)
            .await?
            .ok_or_else(|| AppError::not_found("event"))?;
        self.inclusion_of(&event).await
    }

    /// The inclusion proof of `event` in the tree of the current head (what every receipt
    /// carries).
    pub(crate) async fn inclusion_of(
        &self,
        event: &registre_domain::ledger::ConsentEvent,
    ) -> AppResult<InclusionProof> {
        let event_id = event.event_id;
        let (size, _) = self.store().ledger_head().await?;
        let leaves = self.leaves(size).await?;
        let index = (event.seq - 1) as usize;
        let path = merkle::inclusion_proof(&leaves, index)
            .ok_or_else(|| AppError::not_found("event in the ledger"))?;
        let root = merkle::root(&leaves);
        Ok(InclusionProof {
            event_id,
            seq: event.seq,
            leaf_index: index as u64,
            tree_size: size as u64,
            leaf_hash: b64(&leaves[index]),
            root_hash: b64(&root),
            hashes: path.iter().map(b64).collect(),
            checkpoint: self.note_of(size as u64, &root),
        })
    }

    /// The consistency proof between the trees of `from` and `to` events
    /// (`0 < from <= to <= head`).
    pub async fn consistency_proof(
        &self,
        by: &Principal,
        from: i64,
        to: i64,
    ) -> AppResult<ConsistencyProof> {
        by.require(Permission::Read)?;
        let (head, _) = self.store().ledger_head().await?;
        if from < 1 || from > to || to > head {
            return Err(DomainError::invalid(
                "from",
                format!("expected 0 < from <= to <= {head} (the ledger's length)"),
            )
            .into());
        }
        let leaves = self.leaves(to).await?;
        let path = merkle::consistency_proof(&leaves, from as usize)
            .ok_or_else(|| AppError::not_found("tree size"))?;
        Ok(ConsistencyProof {
            from: from as u64,
            to: to as u64,
            from_root: b64(&merkle::root(&leaves[..from as usize])),
            to_root: b64(&merkle::root(&leaves)),
            hashes: path.iter().map(b64).collect(),
        })
    }
}
