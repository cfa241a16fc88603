//! The appends this process signed lately, so that its own tree builder can accept them without
//! verifying their signatures again. The builder must check every append before it becomes a
//! leaf (a row written around the service must never reach a signed checkpoint), and an Ed25519
//! verification costs more than the rest of a leaf; but an append whose message this process
//! signed with its own key, and whose stored signature is the one it made, is authentic without
//! any arithmetic. The memory is the process's own, out of reach of whoever can only write the
//! database (the attacker of docs/ARCHITECTURE.md); anything not remembered is verified as usual.

use std::{
    collections::{HashMap, VecDeque},
    sync::Mutex,
};

use sha2::{Digest, Sha256};

/// Enough for the appends a builder that follows every half second has not read yet, at any
/// append rate this service reaches; ~160 bytes each with the map's buckets (~20 MB in all).
const REMEMBERED: usize = 1 << 17;

type Sig = [u8; 64];
type Digest32 = [u8; 32];

#[derive(Default)]
pub(crate) struct SignedHere {
    inner: Mutex<Remembered>,
}

#[derive(Default)]
struct Remembered {
    by_signature: HashMap<Sig, Digest32>,
    order: VecDeque<Sig>,
}

fn digest(message: &[u8]) -> Digest32 {
    Sha256::digest(message).into()
}

impl SignedHere {
    /// Notes that this process signed `message`, making `signature`.
    pub fn remember(&self, message: &[u8], signature: &[u8]) {
        let Ok(sig) = Sig::try_from(signature) else {
            return;
        };
        let digest = digest(message);
        let mut r = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if r.by_signature.contains_key(&sig) {
            return;
        }
        // Forget first, so neither collection ever grows past the bound (and doubles).
        while r.order.len() >= REMEMBERED {
            if let Some(old) = r.order.pop_front() {
                r.by_signature.remove(&old);
            }
        }
        r.by_signature.insert(sig, digest);
        r.order.push_back(sig);
    }

    /// Whether this process itself signed exactly `message` with exactly `signature`. A copy of
    /// one of its signatures next to other events fails (the message differs), and so does any
    /// signature it did not make.
    pub fn vouches(&self, message: &[u8], signature: &[u8]) -> bool {
        let Ok(sig) = Sig::try_from(signature) else {
            return false;
        };
        let known = {
            let r = self.inner.lock().unwrap_or_else(|e| e.into_inner());
            r.by_signature.get(&sig).copied()
        };
        known.is_some_and(|d| d == digest(message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vouches_only_for_the_message_it_signed_with_the_signature_it_made() {
        let here = SignedHere::default();
        let sig = [7u8; 64];
        here.remember(b"append one", &sig);
        assert!(here.vouches(b"append one", &sig));
        assert!(!here.vouches(b"append two", &sig), "a copied signature");
        assert!(
            !here.vouches(b"append one", &[8u8; 64]),
            "another signature"
        );
        assert!(!here.vouches(b"append one", &sig[..63]), "a cut signature");
    }

    #[test]
    fn forgets_the_oldest_beyond_its_bound() {
        let here = SignedHere::default();
        let sig = |n: usize| {
            let mut s = [0u8; 64];
            s[..8].copy_from_slice(&(n as u64).to_be_bytes());
            s
        };
        for n in 0..=REMEMBERED {
            here.remember(&n.to_be_bytes(), &sig(n));
        }
        assert!(!here.vouches(&0usize.to_be_bytes(), &sig(0)));
        assert!(here.vouches(&1usize.to_be_bytes(), &sig(1)));
        assert!(here.vouches(&REMEMBERED.to_be_bytes(), &sig(REMEMBERED)));
        let r = here.inner.lock().unwrap();
        assert_eq!(
            (r.order.len(), r.by_signature.len()),
            (REMEMBERED, REMEMBERED)
        );
    }
}
