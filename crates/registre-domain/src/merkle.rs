//! The ledger as a Merkle tree (RFC 9162, §2.1, SHA-256): the hash of each event is a leaf,
//! so that anyone holding a signed tree head can check that an event is in the ledger
//! (inclusion proof) and that a later ledger extends an earlier one without rewriting it
//! (consistency proof), without trusting the database that holds it.
//!
//! Leaf data is the 32 bytes of the event's chain hash (`ConsentEvent::hash`, hex-decoded),
//! which already commits to every field of the event and to the chain before it.
use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// `MTH({})`: the hash of the empty string.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(data);
    hasher.finalize().into()
}

/// `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The largest power of two smaller than `n` (`n > 1`).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// `MTH(D[n])` over leaf hashes already computed.
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// The right edge of a tree being built leaf by leaf: the roots of its perfect subtrees,
/// largest first. It gives the root of the tree so far in O(log n) memory, so a walk over
/// millions of events can check a checkpoint of any size without keeping the leaves.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// `(height, root)` of each perfect subtree, heights strictly decreasing.
    nodes: Vec<(u32, Hash)>,
}

impl Frontier {
    /// The number of leaves pushed.
    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push(&mut self, leaf: Hash) {
        let mut node = (0u32, leaf);
        while let Some(&(height, left)) = self.nodes.last() {
            if height != node.0 {
                break;
            }
            self.nodes.pop();
            node = (height + 1, node_hash(&left, &node.1));
        }
        self.nodes.push(node);
        self.size += 1;
    }

    /// The roots of the perfect subtrees, largest first: with the size, all a tree needs to
    /// grow on.
    pub fn hashes(&self) -> Vec<Hash> {
        self.nodes.iter().map(|(_, hash)| *hash).collect()
    }

    /// The frontier of a tree of `size` leaves from its [`Self::hashes`], or `None` when
    /// their number is not that of the perfect subtrees of such a tree (one per bit of
    /// `size`).
    pub fn from_parts(size: u64, hashes: &[Hash]) -> Option<Self> {
        let heights: Vec<u32> = (0..u64::BITS)
            .rev()
            .filter(|bit| size & (1 << bit) != 0)
            .collect();
        if heights.len() != hashes.len() {
            return None;
        }
        Some(Self {
            size,
            nodes: heights.into_iter().zip(hashes.iter().copied()).collect(),
        })
    }

    /// `MTH(D[size])`: the subtrees folded from the right, as RFC 9162 splits a tree.
    pub fn root(&self) -> Hash {
        let mut nodes = self.nodes.iter().rev();
        let Some(&(_, last)) = nodes.next() else {
            return empty_root();
        };
        nodes.fold(last, |right, (_, left)| node_hash(left, &right))
    }
}

/// `PATH(m, D[n])`: the audit path of leaf `m`, or `None` when `m` is not a leaf.
pub fn inclusion_proof(leaves: &[Hash], m: usize) -> Option<Vec<Hash>> {
    if m >= leaves.len() {
        return None;
    }
    let mut path = Vec::new();
    path_into(leaves, m, &mut path);
    Some(path)
}

fn path_into(leaves: &[Hash], m: usize, path: &mut Vec<Hash>) {
    let n = leaves.len();
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path_into(&leaves[..k], m, path);
        path.push(root(&leaves[k..]));
    } else {
        path_into(&leaves[k..], m - k, path);
        path.push(root(&leaves[..k]));
    }
}

/// `PROOF(m, D[n])`: that the tree of the first `m` leaves is a prefix of the tree of all
/// `n`; `None` unless `0 < m <= n`.
pub fn consistency_proof(leaves: &[Hash], m: usize) -> Option<Vec<Hash>> {
    if m == 0 || m > leaves.len() {
        return None;
    }
    let mut proof = Vec::new();
    subproof_into(m, leaves, true, &mut proof);
    Some(proof)
}

fn subproof_into(m: usize, leaves: &[Hash], complete: bool, proof: &mut Vec<Hash>) {
    let n = leaves.len();
    if m == n {
        if !complete {
            proof.push(root(leaves));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof_into(m, &leaves[..k], complete, proof);
        proof.push(root(&leaves[k..]));
    } else {
        subproof_into(m - k, &leaves[k..], false, proof);
        proof.push(root(&leaves[..k]));
    }
}

/// `PROOF(m, D[n])` from the tree of the first `m` leaves (its frontier) and the leaves
/// after it, without the leaves before: what a server that keeps only the frontier of its
/// last checkpoint sends a witness; `None` when `m` is 0. Every hash the proof needs inside
/// the old tree is one of its frontier's.
pub fn consistency_proof_from(old: &Frontier, tail: &[Hash]) -> Option<Vec<Hash>> {
    let m = old.size() as usize;
    if m == 0 {
        return None;
    }
    // The ranges of the old tree's perfect subtrees, largest first.
    let mut start = 0usize;
    let nodes: Vec<(usize, usize, Hash)> = old
        .nodes
        .iter()
        .map(|(height, hash)| {
            let range = (start, start + (1usize << height), *hash);
            start = range.1;
            range
        })
        .collect();
    let mth = |lo: usize, hi: usize| -> Option<Hash> {
        if hi <= m {
            nodes
                .iter()
                .find(|(a, b, _)| *a == lo && *b == hi)
                .map(|(_, _, hash)| *hash)
        } else if lo >= m {
            Some(root(&tail[lo - m..hi - m]))
        } else {
            None
        }
    };
    let mut proof = Vec::new();
    subproof_by(m, 0, m + tail.len(), true, &mth, &mut proof)?;
    Some(proof)
}

/// `SUBPROOF` over the leaves `lo..hi` with the old tree's `m` leaves counted from 0.
fn subproof_by(
    m: usize,
    lo: usize,
    hi: usize,
    complete: bool,
    mth: &dyn Fn(usize, usize) -> Option<Hash>,
    proof: &mut Vec<Hash>,
) -> Option<()> {
    let n = hi - lo;
    if m - lo == n {
        if !complete {
            proof.push(mth(lo, hi)?);
        }
        return Some(());
    }
    let k = split(n);
    if m - lo <= k {
        subproof_by(m, lo, lo + k, complete, mth, proof)?;
        proof.push(mth(lo + k, hi)?);
    } else {
        subproof_by(m, lo + k, hi, false, mth, proof)?;
        proof.push(mth(lo, lo + k)?);
    }
    Some(())
}

/// RFC 9162 §2.1.3.2: whether `path` proves leaf `index` (hash `leaf`) in the tree of
/// `size` leaves whose root is `root`.
pub fn verify_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    s_n == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: whether `proof` shows that the tree of `first` leaves (root
/// `first_root`) is a prefix of the tree of `second` leaves (root `second_root`).
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> bool {
    if first == 0 || first > second {
        return false;
    }
    if first == second {
        return proof.is_empty() && first_root == second_root;
    }
    let mut path: Vec<Hash> = proof.to_vec();
    if first.is_power_of_two() {
        path.insert(0, *first_root);
    }
    let Some((first_hash, rest)) = path.split_first() else {
        return false;
    };
    let (mut f_n, mut s_n) = (first - 1, second - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut f_r, mut s_r) = (*first_hash, *first_hash);
    for c in rest {
        if s_n == 0 {
            return false;
        }
        if f_n & 1 == 1 || f_n == s_n {
            f_r = node_hash(c, &f_r);
            s_r = node_hash(c, &s_r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            s_r = node_hash(&s_r, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    f_r == *first_root && s_r == *second_root && s_n == 0
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_be_bytes()))
            .collect()
    }

    #[test]
    fn a_consistency_proof_from_a_frontier_is_the_one_from_the_leaves() {
        let all = leaves(40);
        for m in 1..=all.len() {
            let mut old = Frontier::default();
            for leaf in &all[..m] {
                old.push(*leaf);
            }
            for n in m..=all.len() {
                assert_eq!(
                    consistency_proof_from(&old, &all[m..n]),
                    consistency_proof(&all[..n], m),
                    "m {m}, n {n}"
                );
            }
        }
        assert!(consistency_proof_from(&Frontier::default(), &all).is_none());
    }

    #[test]
    fn the_frontier_has_the_root_of_every_prefix() {
        let all = leaves(70);
        let mut frontier = Frontier::default();
        assert_eq!(frontier.root(), empty_root());
        for n in 1..=all.len() {
            frontier.push(all[n - 1]);
            assert_eq!(frontier.size(), n as u64);
            assert_eq!(frontier.root(), root(&all[..n]), "size {n}");
            let resumed = Frontier::from_parts(n as u64, &frontier.hashes()).unwrap();
            assert_eq!(resumed, frontier);
        }
        assert!(Frontier::from_parts(6, &all[..1]).is_none());
    }

    #[test]
    fn the_hashes_are_those_of_rfc_9162() {
        // The empty tree and a one-leaf tree, as the RFC defines them (and as Go's
        // golang.org/x/mod/sumdb/tlog and Certificate Transparency logs compute them).
        assert_eq!(
            hex::encode(empty_root()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            hex::encode(leaf_hash(b"")),
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
        );
        let two = leaves(2);
        assert_eq!(root(&two), node_hash(&two[0], &two[1]));
        let three = leaves(3);
        assert_eq!(
            root(&three),
            node_hash(&node_hash(&three[0], &three[1]), &three[2])
        );
    }

    #[test]
    fn every_inclusion_proof_verifies_and_a_wrong_one_does_not() {
        for n in 1..=40 {
            let tree = leaves(n);
            let head = root(&tree);
            for m in 0..n {
                let path = inclusion_proof(&tree, m).unwrap();
                assert!(
                    verify_inclusion(m as u64, n as u64, &tree[m], &path, &head),
                    "{m} of {n}"
                );
                let other = leaf_hash(b"forged");
                assert!(!verify_inclusion(m as u64, n as u64, &other, &path, &head));
                // The right path at the wrong place proves nothing.
                if n > 1 {
                    let elsewhere = ((m + 1) % n) as u64;
                    assert!(!verify_inclusion(
                        elsewhere, n as u64, &tree[m], &path, &head
                    ));
                }
            }
            assert!(inclusion_proof(&tree, n).is_none());
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_a_rewritten_history_does_not() {
        for n in 1..=33 {
            let tree = leaves(n);
            let head = root(&tree);
            for m in 1..=n {
                let proof = consistency_proof(&tree, m).unwrap();
                let old = root(&tree[..m]);
                assert!(
                    verify_consistency(m as u64, n as u64, &old, &head, &proof),
                    "{m} to {n}"
                );
                // The same proof against a rewritten first tree fails.
                let mut rewritten = tree[..m].to_vec();
                rewritten[0] = leaf_hash(b"rewritten");
                let forged = root(&rewritten);
                assert!(!verify_consistency(
                    m as u64, n as u64, &forged, &head, &proof
                ));
            }
            assert!(consistency_proof(&tree, 0).is_none());
            assert!(consistency_proof(&tree, n + 1).is_none());
        }
    }
}
