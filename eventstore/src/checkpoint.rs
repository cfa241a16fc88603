//! Signed checkpoints: the tree's size and root at an instant, signed with the log's key. An
//! auditor saves them; any later checkpoint must be an append-only extension of every saved one.
//! A practice checkpoint also commits to that practice's own history (its event count and the
//! fold of its event hashes in leaf order), so a practice can be audited on its own.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    merkle::Hash,
    signing::{LogPublicKey, LogSigner},
};

const CHECKPOINT_TAG: &[u8] = b"hearth-checkpoint-v1\n";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PracticeHead {
    pub practice_id: Uuid,
    /// How many of the tree's leaves belong to the practice.
    pub events: u64,
    /// The practice's event hashes folded in leaf order (see [`crate::practice_fold`]).
    #[serde(with = "hex_hash")]
    pub fold: Hash,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub tree_size: u64,
    #[serde(with = "hex_hash")]
    pub root: Hash,
    pub signed_at: DateTime<Utc>,
    pub key_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub practice: Option<PracticeHead>,
    /// Ed25519 over [`Checkpoint::message`], hex.
    #[serde(with = "hex_bytes")]
    pub signature: Vec<u8>,
}

impl Checkpoint {
    pub fn sign(
        signer: &LogSigner,
        tree_size: u64,
        root: Hash,
        signed_at: DateTime<Utc>,
        practice: Option<PracticeHead>,
    ) -> Checkpoint {
        // Microseconds: what both databases keep exactly, so a stored checkpoint re-verifies.
        let signed_at =
            DateTime::from_timestamp_micros(signed_at.timestamp_micros()).unwrap_or(signed_at);
        let mut c = Checkpoint {
            tree_size,
            root,
            signed_at,
            key_id: signer.key_id(),
            practice,
            signature: vec![],
        };
        c.signature = signer.sign(&c.message());
        c
    }

    /// The signed bytes: every field but the signature, fixed-width or length-prefixed.
    pub fn message(&self) -> Vec<u8> {
        let mut m = Vec::with_capacity(160);
        m.extend_from_slice(CHECKPOINT_TAG);
        m.extend_from_slice(&self.tree_size.to_be_bytes());
        m.extend_from_slice(&self.root);
        m.extend_from_slice(&self.signed_at.timestamp_micros().to_be_bytes());
        m.extend_from_slice(&(self.key_id.len() as u64).to_be_bytes());
        m.extend_from_slice(self.key_id.as_bytes());
        match &self.practice {
            None => m.push(0),
            Some(p) => {
                m.push(1);
                m.extend_from_slice(p.practice_id.as_bytes());
                m.extend_from_slice(&p.events.to_be_bytes());
                m.extend_from_slice(&p.fold);
            }
        }
        m
    }

    pub fn verify(&self, key: &LogPublicKey) -> bool {
        self.key_id == key.key_id() && key.verify(&self.message(), &self.signature)
    }
}

pub(crate) mod hex_hash {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(h: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(h))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut out = [0u8; 32];
        hex::decode_to_slice(&text, &mut out).map_err(serde::de::Error::custom)?;
        Ok(out)
    }
}

pub(crate) mod hex_hashes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(hs: &[[u8; 32]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(hs.iter().map(hex::encode))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[u8; 32]>, D::Error> {
        let texts = Vec::<String>::deserialize(d)?;
        texts
            .iter()
            .map(|t| {
                let mut out = [0u8; 32];
                hex::decode_to_slice(t, &mut out).map(|_| out)
            })
            .collect::<Result<_, _>>()
            .map_err(serde::de::Error::custom)
    }
}

pub(crate) mod hex_bytes {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        hex::decode(String::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::signing::KeyError;

    #[test]
    fn a_saved_checkpoint_verifies_after_a_round_trip_and_not_after_any_edit() {
        let signer = LogSigner::from_secret([7; 32]);
        let head = PracticeHead {
            practice_id: Uuid::from_u128(1),
            events: 3,
            fold: [2; 32],
        };
        let c = Checkpoint::sign(&signer, 10, [1; 32], Utc::now(), Some(head));
        let text = serde_json::to_string(&c).unwrap();
        let back: Checkpoint = serde_json::from_str(&text).unwrap();
        assert_eq!(back, c);
        assert!(back.verify(signer.public_key()));
        let edits: [fn(&mut Checkpoint); 5] = [
            |c| c.tree_size += 1,
            |c| c.root[0] ^= 1,
            |c| c.signed_at += chrono::Duration::microseconds(1),
            |c| c.practice.as_mut().unwrap().events -= 1,
            |c| c.practice = None,
        ];
        for edit in edits {
            let mut edited = back.clone();
            edit(&mut edited);
            assert!(!edited.verify(signer.public_key()), "{edited:?}");
        }
        assert!(!back.verify(LogSigner::from_secret([8; 32]).public_key()));
    }

    #[test]
    fn public_keys_are_checked_when_read() {
        let key = LogSigner::from_secret([7; 32]).public_key().to_base64();
        assert!(LogPublicKey::from_base64(&format!(" {key}\n")).is_ok());
        assert_eq!(LogPublicKey::from_base64("AAEC"), Err(KeyError::Length(3)));
        assert!(matches!(
            LogPublicKey::from_base64("not base64!"),
            Err(KeyError::Encoding(_))
        ));
    }
}
