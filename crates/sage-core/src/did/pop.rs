//! The \[L\] key proof of possession, "SAGE-PoP" (PROTOCOL.md §8.5, §18.9).
//!
//! Layer: identifier. A registered key carries a signature that binds it to
//! its DID:
//!
//! ```text
//! challenge = "SAGE-PoP:" ‖ DID ‖ ":" ‖ hex(key_data)
//! proof     = Sign(priv, SHA-256(challenge))
//! ```
//!
//! Ed25519 signs the 32 digest bytes as its message; secp256k1 signs the
//! digest itself with RFC 6979, as `r‖s‖v` — SHA-256, not Keccak, the one
//! exception to the §3.2 convention (open item O-1). Both go through the
//! dedicated prehash entry points of [`crate::primitives`], which exist for
//! this challenge only. X25519 keys never sign and have no proof; P-256 has
//! no registry integer, so it has none either.
//!
//! Verification rebuilds the challenge from the DID string as received and
//! the key bytes; a high-S secp256k1 proof is normalised before verifying
//! (§18.9), unlike the Go core, which does not normalise.

use crate::encoding::hex_encode;
use crate::primitives::{KeyType, SigningKey, VerifyingKey, sha256};
use crate::version::Labels;

use super::error::PopError;
use super::parse::Did;

/// The ASCII challenge `prefix ‖ DID ‖ ":" ‖ hex(key_data)` (lower-case hex,
/// the DID exactly as received).
pub fn pop_challenge(labels: &Labels, did: &Did, key_data: &[u8]) -> String {
    format!(
        "{}{}:{}",
        labels.pop_prefix,
        did.as_str(),
        hex_encode(key_data)
    )
}

/// Signs the proof of possession of `key` for `did`: the signature over
/// SHA-256 of the challenge built from `key`'s own public bytes (§3.1 form,
/// uncompressed for secp256k1).
///
/// # Errors
/// [`PopError::UnsupportedKeyType`] for P-256, which \[L\] cannot register.
pub fn sign_pop(labels: &Labels, key: &SigningKey, did: &Did) -> Result<Vec<u8>, PopError> {
    check_pop_key_type(key.key_type())?;
    let key_data = key.verifying_key().to_bytes();
    let digest = sha256(pop_challenge(labels, did, &key_data).as_bytes());
    Ok(key.sign_prehashed_sha256_pop(&digest))
}

/// Verifies the proof of possession `proof` of `key` for `did`.
///
/// Accepts the encodings §3.2 lets a secp256k1 verifier take (65-byte
/// `r‖s‖v`, 64-byte `r‖s`, DER) and normalises a high S first.
///
/// # Errors
/// [`PopError::Bad`] when the proof does not verify or is not a signature
/// encoding at all; [`PopError::UnsupportedKeyType`] for P-256.
pub fn verify_pop(
    labels: &Labels,
    key: &VerifyingKey,
    did: &Did,
    proof: &[u8],
) -> Result<(), PopError> {
    check_pop_key_type(key.key_type())?;
    let digest = sha256(pop_challenge(labels, did, &key.to_bytes()).as_bytes());
    key.verify_prehashed_sha256_pop(&digest, proof)
        .map_err(|_| PopError::Bad)
}

fn check_pop_key_type(key_type: KeyType) -> Result<(), PopError> {
    match key_type {
        KeyType::Ed25519 | KeyType::Secp256k1 => Ok(()),
        _ => Err(PopError::UnsupportedKeyType),
    }
}
