//! The card's key and proof type names (PROTOCOL.md §11.1–§11.2).
//!
//! Layer: agent card. Maps [`KeyType`] to the W3C-style names of the \[L\]
//! card, read from the profile's [`Labels`] so the vocabulary sits behind
//! the version switch. P-256 has no \[L\] card name.

use crate::primitives::KeyType;
use crate::version::Labels;

/// `publicKey[].type` of a key type.
pub(super) fn key_type_name(labels: &Labels, key_type: KeyType) -> Option<&'static str> {
    match key_type {
        KeyType::Ed25519 => Some(labels.card_key_ed25519),
        KeyType::Secp256k1 => Some(labels.card_key_secp256k1),
        KeyType::X25519 => Some(labels.card_key_x25519),
        _ => None,
    }
}

/// The key type a `publicKey[].type` names.
pub(super) fn key_type_from_name(labels: &Labels, name: &str) -> Option<KeyType> {
    [KeyType::Ed25519, KeyType::Secp256k1, KeyType::X25519]
        .into_iter()
        .find(|&t| key_type_name(labels, t) == Some(name))
}

/// `proof.type` of a signing key type.
pub(super) fn proof_type_name(labels: &Labels, key_type: KeyType) -> Option<&'static str> {
    match key_type {
        KeyType::Ed25519 => Some(labels.card_proof_ed25519),
        KeyType::Secp256k1 => Some(labels.card_proof_secp256k1),
        _ => None,
    }
}

/// The signing key type a `proof.type` names.
pub(super) fn key_type_from_proof_type(labels: &Labels, name: &str) -> Option<KeyType> {
    [KeyType::Ed25519, KeyType::Secp256k1]
        .into_iter()
        .find(|&t| proof_type_name(labels, t) == Some(name))
}
