//! The Merkle tree against the RFC 9162 definitions: roots, inclusion and consistency proofs at
//! the sizes where the shapes change (1, 2, 3, 2^k, 2^k+1) and at random sizes.

use hearth_eventstore::merkle::{
    consistency_path, empty_root, inclusion_path, leaf_hash, node_hash, root, verify_consistency,
    verify_inclusion, Frontier, Hash,
};
use proptest::prelude::*;

fn leaves(n: u64) -> Vec<Hash> {
    (0..n).map(|i| leaf_hash(&i.to_be_bytes())).collect()
}

/// MTH straight from the RFC's recursive definition.
fn reference_root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => empty_root(),
        1 => leaves[0],
        n => {
            let k = 1usize << (usize::BITS - 1 - (n - 1).leading_zeros());
            node_hash(&reference_root(&leaves[..k]), &reference_root(&leaves[k..]))
        }
    }
}

/// Perfect-subtree lookups over an in-memory list of leaf hashes.
fn lookup(leaves: &[Hash]) -> impl FnMut(u32, u64) -> Hash + '_ {
    move |level, index| {
        let start = (index << level) as usize;
        reference_root(&leaves[start..start + (1usize << level)])
    }
}

const SIZES: &[u64] = &[1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 31, 32, 33, 64, 65];

#[test]
fn roots_match_the_rfc_definition_and_the_frontier() {
    for &n in SIZES {
        let l = leaves(n);
        let mut frontier = Frontier::default();
        for leaf in &l {
            frontier.push(*leaf);
        }
        let expected = reference_root(&l);
        assert_eq!(root(&mut lookup(&l), n), expected, "size {n}");
        assert_eq!(frontier.root(), expected, "frontier at size {n}");
        assert_eq!(
            Frontier::at(&mut lookup(&l), n),
            frontier,
            "rebuilt frontier at {n}"
        );
    }
    assert_eq!(Frontier::default().root(), empty_root());
}

#[test]
fn the_frontier_reports_every_completed_subtree_once() {
    let l = leaves(9);
    let mut frontier = Frontier::default();
    let mut made = Vec::new();
    for leaf in &l {
        made.extend(frontier.push(*leaf));
    }
    // 9 leaves, 4 + 2 + 1 interior nodes.
    assert_eq!(made.len(), 16);
    for node in made {
        assert_eq!(node.hash, lookup(&l)(node.level, node.index), "{node:?}");
    }
}

#[test]
fn first_last_and_middle_events_are_proven_at_every_shape() {
    for &n in SIZES {
        let l = leaves(n);
        let r = reference_root(&l);
        for m in [0, n / 2, n - 1] {
            let path = inclusion_path(&mut lookup(&l), m, n);
            assert!(path.len() <= 64 - (n.leading_zeros() as usize) + 1);
            assert!(
                verify_inclusion(&l[m as usize], m, n, &path, &r),
                "leaf {m} of {n}"
            );
            // The same path does not prove another leaf, another index or another root.
            let other = leaf_hash(b"forged");
            assert!(!verify_inclusion(&other, m, n, &path, &r));
            if n > 1 {
                assert!(!verify_inclusion(&l[m as usize], (m + 1) % n, n, &path, &r));
            }
            assert!(!verify_inclusion(&l[m as usize], m, n, &path, &other));
        }
    }
}

#[test]
fn every_prefix_is_consistent_with_every_later_size() {
    for &n in SIZES {
        let l = leaves(n);
        for m in 0..=n {
            let proof = consistency_path(&mut lookup(&l), m, n);
            let old = reference_root(&l[..m as usize]);
            let new = reference_root(&l);
            assert!(verify_consistency(m, &old, n, &new, &proof), "{m} -> {n}");
            if m > 0 && m < n {
                let mut forged = l.clone();
                forged[m as usize - 1] = leaf_hash(b"rewritten");
                let rewritten = reference_root(&forged);
                assert!(
                    !verify_consistency(m, &old, n, &rewritten, &proof),
                    "a rewritten prefix {m} -> {n} must not verify"
                );
            }
        }
    }
}

#[test]
fn a_shrunken_tree_is_not_consistent() {
    let l = leaves(8);
    let r8 = reference_root(&l);
    let r5 = reference_root(&l[..5]);
    assert!(!verify_consistency(8, &r8, 5, &r5, &[]));
}

proptest! {
    #[test]
    fn random_sizes_prove_random_leaves(n in 1u64..300, pick in 0u64..u64::MAX, old in 0u64..300) {
        let l = leaves(n);
        let r = reference_root(&l);
        let m = pick % n;
        let path = inclusion_path(&mut lookup(&l), m, n);
        prop_assert!(verify_inclusion(&l[m as usize], m, n, &path, &r));
        let old = old % (n + 1);
        let proof = consistency_path(&mut lookup(&l), old, n);
        prop_assert!(verify_consistency(old, &reference_root(&l[..old as usize]), n, &r, &proof));
    }
}
