//! Cryptographic primitives of SAGE (PROTOCOL.md §3).
//!
//! Layer: the bottom of the stack. Everything above signs and verifies
//! through [`SigningKey`] and [`VerifyingKey`], agrees keys through
//! [`X25519Secret`], and names keys with [`key_id`] / [`ethereum_address`].
//!
//! Invariants:
//! - one signing convention per key type on every \[L\] path (§3.2):
//!   Ed25519 pure; secp256k1 over Keccak-256 with RFC 6979, low-S and the
//!   65-byte `r‖s‖v` form; P-256 over SHA-256, low-S, raw `r‖s`;
//! - verifiers accept what §3.2 says they MUST (and SHOULD) accept, and
//!   normalise a high-S secp256k1 signature before verifying;
//! - private key material lives only in zeroizing types, and no `Debug`
//!   output shows it;
//! - an all-zero X25519 output is an error, never a key.
//!
//! The one exception to the convention, the \[L\] proof of possession over
//! SHA-256 (§8.5), lives in [`crate::did`] and uses the prehash entry
//! points [`SigningKey::sign_prehashed_sha256_pop`] and
//! [`VerifyingKey::verify_prehashed_sha256_pop`].

mod algorithm;
mod derive;
mod error;
mod hash;
mod keyid;
mod signing;
mod verifying;
mod x25519;

pub mod jwk;
pub mod pem;

pub use algorithm::KeyType;
pub use derive::{derive_seed_from_label, p256_scalar_from_seed};
pub use error::{KeyError, SignatureError};
pub use hash::{keccak256, sha256};
pub use keyid::{ethereum_address, key_id};
pub use signing::{PrivateKey, SigningKey};
pub use verifying::{PublicKey, SignatureEncoding, VerifyingKey};
pub use x25519::{X25519PublicKey, X25519Secret};

#[cfg(test)]
mod tests;
