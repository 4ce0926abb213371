//! Signing an agent card (PROTOCOL.md §11.2).
//!
//! Layer: agent card. The proof covers `JCS(card without proof)`: Ed25519
//! signs those canonical bytes directly (no pre-hash, vector-verified);
//! secp256k1 signs them with the §3.2 Keccak convention as 65-byte
//! `r‖s‖v`. `proofValue` is the base58 of the signature.
//!
//! Before signing, [`sign_card`] checks the card the way a verifier will:
//! `verificationMethod` must name a `publicKey` entry of the card's own DID
//! whose type and bytes are those of the signing key. A card this function
//! signs therefore verifies with [`super::verify_card`].
//!
//! The proof's `created` is the signing time, so a signed card is not
//! reproducible byte for byte (the `a2a-card-proof-ed25519` vector is
//! verify-only for that reason).

use crate::encoding::b58_encode;
use crate::jcs::{self, Object, Value};
use crate::primitives::SigningKey;
use crate::time::Timestamp;
use crate::version::Labels;

use super::build::canonical_text;
use super::error::CardError;
use super::read::{card_id, card_keys, key_url_of};
use super::vocab::proof_type_name;

/// Adds a §11.2 proof to `card_json`, signed by `key`, and returns the
/// signed card as canonical JSON text. An existing `proof` member is
/// replaced.
///
/// `verification_method` is the full key URL (`<DID>#key-<n>`) of the
/// `publicKey` entry that holds `key`; `created` is the signing time.
///
/// # Errors
/// [`CardError::Json`] / [`CardError::NotAnObject`] /
/// [`CardError::MissingMember`] / [`CardError::MemberType`] and the
/// `publicKey` entry errors for a malformed card;
/// [`CardError::InvalidId`] for a bad card `id`;
/// [`CardError::UnsupportedKeyType`] for a P-256 key;
/// [`CardError::ForeignVerificationMethod`] when `verification_method` is not
/// a key URL of the card's DID; [`CardError::KeyNotListed`] when no entry
/// has that id; [`CardError::SigningKeyMismatch`] when the entry is not
/// `key`.
pub fn sign_card(
    labels: &Labels,
    card_json: &[u8],
    key: &SigningKey,
    verification_method: &str,
    created: Timestamp,
) -> Result<String, CardError> {
    let proof_type =
        proof_type_name(labels, key.key_type()).ok_or(CardError::UnsupportedKeyType)?;
    let Value::Object(mut card) = jcs::parse(card_json).map_err(CardError::Json)? else {
        return Err(CardError::NotAnObject);
    };
    card.remove("proof");

    let did = card_id(&card)?;
    let method =
        key_url_of(&did, verification_method).ok_or(CardError::ForeignVerificationMethod)?;
    let keys = card_keys(labels, &card, &did)?;
    let listed = keys
        .iter()
        .find(|k| *k.id() == method)
        .ok_or(CardError::KeyNotListed)?;
    if listed.key().as_verifying().ok() != Some(&key.verifying_key()) {
        return Err(CardError::SigningKeyMismatch);
    }

    // A copy, so the proof can go into the object that was signed.
    let signature = key.sign(&Value::Object(card.clone()).to_canonical_bytes());
    let mut proof = Object::with_capacity(5);
    proof.insert("type", proof_type.into());
    proof.insert("created", created.to_rfc3339().into());
    proof.insert("verificationMethod", verification_method.into());
    proof.insert("proofPurpose", labels.card_proof_purpose.into());
    proof.insert("proofValue", b58_encode(&signature).into());
    card.insert("proof", Value::Object(proof));
    Ok(canonical_text(&Value::Object(card)))
}
