//! How a delivery is signed, and the reference check a receiver runs (README: "Verifying a
//! webhook"). `Hearth-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>]`, each `v1` being
//! HMAC-SHA256 over `"{t}.{body}"` with one of the endpoint's valid secrets (two while a rotation
//! overlaps). The timestamp bounds replays; the delivery id (`Hearth-Delivery`) lets a receiver
//! drop a delivery it has already taken.

use hmac::{Hmac, Mac};
use sha2::Sha256;

pub const SIGNATURE_HEADER: &str = "hearth-signature";
/// The delivery's idempotency key: the change id (`{position}.{index}`).
pub const DELIVERY_HEADER: &str = "hearth-delivery";
/// How far a signature's timestamp may be from the receiver's clock.
pub const TOLERANCE_SECS: i64 = 300;

fn mac(secret: &[u8], timestamp: i64, body: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value for `body` sent at `timestamp`, signed with every secret given.
pub fn sign(secrets: &[&[u8]], timestamp: i64, body: &[u8]) -> String {
    let mut out = format!("t={timestamp}");
    for secret in secrets {
        out.push_str(",v1=");
        out.push_str(&hex::encode(
            mac(secret, timestamp, body).finalize().into_bytes(),
        ));
    }
    out
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("the signature header is malformed")]
    Malformed,
    #[error("the timestamp is outside the tolerance (a replay, or a clock far off)")]
    Stale,
    #[error("no signature matches")]
    Mismatch,
}

/// A receiver's check: the header parses, its timestamp is within [`TOLERANCE_SECS`] of `now`,
/// and one `v1` signature is the HMAC of `"{t}.{body}"` with `secret` (compared in constant time).
pub fn verify(secret: &[u8], header: &str, body: &[u8], now: i64) -> Result<(), VerifyError> {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(hex::decode(s).map_err(|_| VerifyError::Malformed)?),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(VerifyError::Malformed)?;
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(VerifyError::Stale);
    }
    signatures
        .iter()
        .any(|s| mac(secret, timestamp, body).verify_slice(s).is_ok())
        .then_some(())
        .ok_or(VerifyError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signed_body_verifies_with_either_secret_of_a_rotation() {
        let (old, new) = (b"old-secret".as_slice(), b"new-secret".as_slice());
        let header = sign(&[new, old], 1_700_000_000, b"{\"id\":\"1.0\"}");
        assert_eq!(
            verify(new, &header, b"{\"id\":\"1.0\"}", 1_700_000_010),
            Ok(())
        );
        assert_eq!(
            verify(old, &header, b"{\"id\":\"1.0\"}", 1_700_000_010),
            Ok(())
        );
    }

    #[test]
    fn forged_tampered_and_replayed_deliveries_are_refused() {
        let secret = b"secret".as_slice();
        let header = sign(&[secret], 1_700_000_000, b"body");
        assert_eq!(
            verify(b"other", &header, b"body", 1_700_000_000),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(secret, &header, b"b0dy", 1_700_000_000),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(secret, &header, b"body", 1_700_000_000 + TOLERANCE_SECS + 1),
            Err(VerifyError::Stale)
        );
        let moved = header.replace("t=1700000000", "t=1700000400");
        assert_eq!(
            verify(secret, &moved, b"body", 1_700_000_400),
            Err(VerifyError::Mismatch)
        );
        assert_eq!(
            verify(secret, "v1=zz", b"body", 0),
            Err(VerifyError::Malformed)
        );
    }
}
