//! The log's Merkle tree in the shapes of RFC 9162 (Certificate Transparency v2): leaf hashes
//! carry a 0x00 prefix and interior nodes a 0x01 prefix, so a leaf can never pass for a node.
//! Pure: proofs are built from perfect-subtree hashes handed in by the caller, and checked with
//! nothing but hashes, so an auditor's program needs no database.
//!
//! A perfect subtree is named by (level, index): it covers leaves `index << level` up to
//! `(index + 1) << level`. Level 0 is the leaves themselves. Once complete, such a node never
//! changes, which is what lets the store keep them append-only.

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// Looks up a perfect subtree's hash by (level, index).
pub type Nodes<'a> = dyn FnMut(u32, u64) -> Hash + 'a;

/// The root of the empty tree (SHA-256 of nothing).
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// Largest power of two strictly below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The hash of leaves `[start, end)`, from perfect subtrees. `start` must be aligned as in every
/// range the RFC's recursion visits (a multiple of the power of two at or above its width).
fn range_hash(nodes: &mut Nodes<'_>, start: u64, end: u64) -> Hash {
    let width = end - start;
    if width.is_power_of_two() {
        let level = width.trailing_zeros();
        return nodes(level, start >> level);
    }
    let k = split(width);
    let left = range_hash(nodes, start, start + k);
    let right = range_hash(nodes, start + k, end);
    node_hash(&left, &right)
}

/// The root of the first `size` leaves.
pub fn root(nodes: &mut Nodes<'_>, size: u64) -> Hash {
    if size == 0 {
        return empty_root();
    }
    range_hash(nodes, 0, size)
}

/// RFC 9162 PATH(m, D[n]): the audit path of leaf `index` in the tree of `size` leaves,
/// innermost sibling first.
pub fn inclusion_path(nodes: &mut Nodes<'_>, index: u64, size: u64) -> Vec<Hash> {
    let mut path = Vec::new();
    path_of(nodes, index, 0, size, &mut path);
    path
}

fn path_of(nodes: &mut Nodes<'_>, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
    let n = end - start;
    if n <= 1 {
        return;
    }
    let k = split(n);
    if m < k {
        path_of(nodes, m, start, start + k, out);
        out.push(range_hash(nodes, start + k, end));
    } else {
        path_of(nodes, m - k, start + k, end, out);
        out.push(range_hash(nodes, start, start + k));
    }
}

/// RFC 9162 PROOF(m, D[n]): shows the tree of `old` leaves is a prefix of the tree of `new`.
pub fn consistency_path(nodes: &mut Nodes<'_>, old: u64, new: u64) -> Vec<Hash> {
    let mut out = Vec::new();
    if old == 0 || old >= new {
        return out;
    }
    subproof(nodes, old, 0, new, true, &mut out);
    out
}

fn subproof(nodes: &mut Nodes<'_>, m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<Hash>) {
    let n = end - start;
    if m == n {
        if !whole {
            out.push(range_hash(nodes, start, end));
        }
        return;
    }
    let k = split(n);
    if m <= k {
        subproof(nodes, m, start, start + k, whole, out);
        out.push(range_hash(nodes, start + k, end));
    } else {
        subproof(nodes, m - k, start + k, end, false, out);
        out.push(range_hash(nodes, start, start + k));
    }
}

/// RFC 9162 §2.1.3.2: recomputes the root from a leaf and its audit path.
pub fn root_from_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash]) -> Option<Hash> {
    if index >= size {
        return None;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in path {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, path: &[Hash], root: &Hash) -> bool {
    root_from_inclusion(leaf, index, size, path).is_some_and(|r| &r == root)
}

/// RFC 9162 §2.1.4.2: the tree (`old`, `old_root`) is a prefix of (`new`, `new_root`).
pub fn verify_consistency(
    old: u64,
    old_root: &Hash,
    new: u64,
    new_root: &Hash,
    proof: &[Hash],
) -> bool {
    if old > new {
        return false;
    }
    if old == new {
        return proof.is_empty() && old_root == new_root;
    }
    if old == 0 {
        // Everything extends the empty tree.
        return proof.is_empty() && old_root == &empty_root();
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if old.is_power_of_two() {
        path.push(*old_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else {
        return false;
    };
    let (mut f, mut s) = (old - 1, new - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    &fr == old_root && &sr == new_root && s == 0
}

/// The compact range of a growing tree: one perfect subtree per set bit of its size, largest
/// first. O(log n) hashes are all a builder needs to keep appending and to compute the root.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    /// (level, hash) of the perfect subtrees left to right.
    peaks: Vec<(u32, Hash)>,
}

/// A perfect subtree completed by an append, to be stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNode {
    pub level: u32,
    pub index: u64,
    pub hash: Hash,
}

impl Frontier {
    /// Rebuilds the frontier of a tree of `size` leaves from its stored perfect subtrees.
    pub fn at(nodes: &mut Nodes<'_>, size: u64) -> Frontier {
        let mut peaks = Vec::new();
        let mut start = 0u64;
        for level in (0..64u32).rev() {
            if size & (1u64 << level) != 0 {
                peaks.push((level, nodes(level, start >> level)));
                start += 1u64 << level;
            }
        }
        Frontier { size, peaks }
    }

    /// The perfect subtrees a frontier of `size` needs, as `at` will ask for them.
    pub fn peaks_needed(size: u64) -> Vec<(u32, u64)> {
        let mut needed = Vec::new();
        let _ = Frontier::at(
            &mut |level, index| {
                needed.push((level, index));
                [0; 32]
            },
            size,
        );
        needed
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    /// Adds a leaf; returns every node it completes, the leaf itself first.
    pub fn push(&mut self, leaf: Hash) -> Vec<NewNode> {
        let mut made = vec![NewNode {
            level: 0,
            index: self.size,
            hash: leaf,
        }];
        let mut carry = (0u32, leaf);
        while let Some(&(level, left)) = self.peaks.last() {
            if level != carry.0 {
                break;
            }
            self.peaks.pop();
            let parent = node_hash(&left, &carry.1);
            let level = level + 1;
            made.push(NewNode {
                level,
                index: self.size >> level,
                hash: parent,
            });
            carry = (level, parent);
        }
        self.peaks.push(carry);
        self.size += 1;
        made
    }

    pub fn root(&self) -> Hash {
        let mut iter = self.peaks.iter().rev();
        let Some(&(_, last)) = iter.next() else {
            return empty_root();
        };
        iter.fold(last, |acc, (_, left)| node_hash(left, &acc))
    }
}

/// Which perfect subtrees a computation over `nodes` asks for, so a store can fetch them all at
/// once and then run it again with the answers (the shapes never depend on the hash values).
pub fn nodes_needed<T>(run: impl FnOnce(&mut Nodes<'_>) -> T) -> Vec<(u32, u64)> {
    let mut needed = Vec::new();
    let mut record = |level: u32, index: u64| {
        needed.push((level, index));
        [0u8; 32]
    };
    let _ = run(&mut record);
    needed.sort_unstable();
    needed.dedup();
    needed
}
