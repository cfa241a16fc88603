//! Webhook deliveries (issue 16): the signature scheme, the sealed signing secrets and the guarded
//! HTTP sender. What to deliver and when is the delivery relay's (`hearth_api::webhook_relay`),
//! which follows the change feed the way the file-note relay follows the log.

pub mod secrets;
pub mod sender;
pub mod signature;

pub use secrets::{SecretVault, SigningSecret};
pub use sender::{DeliveryError, Sender};
pub use signature::{sign, verify, VerifyError, SIGNATURE_HEADER, TOLERANCE_SECS};
