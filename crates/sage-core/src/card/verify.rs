//! Verifying an agent card's proof (PROTOCOL.md §11.2, §18.5).
//!
//! Layer: agent card. [`verify_card`] runs §11.2 steps 1–4 on the bytes as
//! received:
//!
//! 1. strict parse (duplicate members, invalid UTF-8 and the like are
//!    refused, so signer and verifier cannot disagree about the content);
//! 2. `proof.verificationMethod` must be `<id>#<fragment>` for the card's
//!    own `id`;
//! 3. the `publicKey` entry with exactly that `id` is the key — whichever
//!    entry it is, not necessarily `#key-1` (§18.5) — and its type must
//!    match the proof type (Ed25519VerificationKey2020 ↔
//!    Ed25519Signature2020, EcdsaSecp256k1VerificationKey2019 ↔
//!    EcdsaSecp256k1Signature2019). The Go core does not check this; we do,
//!    so an X25519 entry can never be presented as a signer;
//! 4. remove `proof`, canonicalise, verify.
//!
//! The result is a [`VerifiedCard`], which only this module can build. Step
//! 5 — the key must be a verified key of the active on-chain record — needs
//! the record, so it is a separate call,
//! [`VerifiedCard::check_against_record`].

use crate::did::{AgentRecord, Did, DidUrl, verify_pop};
use crate::encoding::b58_decode;
use crate::jcs::{self, Value};
use crate::primitives::VerifyingKey;
use crate::time::Timestamp;
use crate::version::Labels;

use super::error::CardError;
use super::read::{CardKey, card_id, card_keys, key_url_of, string_member};
use super::vocab::key_type_from_proof_type;

/// A card whose proof verified (§11.2 steps 1–4). Only [`verify_card`]
/// builds one.
#[derive(Debug, Clone)]
pub struct VerifiedCard {
    did: Did,
    verification_method: DidUrl,
    signing_key: VerifyingKey,
    proof_created: Timestamp,
    keys: Vec<CardKey>,
    card: Value,
}

impl VerifiedCard {
    /// The card's `id`.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// The key URL the proof names.
    pub fn verification_method(&self) -> &DidUrl {
        &self.verification_method
    }

    /// The key that verified the proof.
    pub fn signing_key(&self) -> &VerifyingKey {
        &self.signing_key
    }

    /// `proof.created`: when the signer says it signed (not checked
    /// against any clock).
    pub fn proof_created(&self) -> Timestamp {
        self.proof_created
    }

    /// Every `publicKey` entry, checked, in card order.
    pub fn keys(&self) -> &[CardKey] {
        &self.keys
    }

    /// The key entry with `id` (a full key URL), if the card lists one.
    pub fn key(&self, id: &str) -> Option<&CardKey> {
        self.keys.iter().find(|k| k.id().to_string() == id)
    }

    /// The card as received, without its `proof` member: exactly what was
    /// signed. Its text members are discovery data, never instructions.
    pub fn card(&self) -> &Value {
        &self.card
    }

    /// §11.2 step 5: the record of the card's DID must be active, and the
    /// proof key must be one of its keys with the `verified` flag set *and*
    /// a proof of possession that holds (§8.5: a failed proof never counts
    /// as verified).
    ///
    /// # Errors
    /// [`CardError::DidMismatch`] when `record` is for another DID;
    /// [`CardError::RecordInactive`]; [`CardError::KeyNotInRecord`] when no
    /// record key has the proof key's type and bytes;
    /// [`CardError::KeyNotVerified`] when such keys exist but none is both
    /// flagged verified and proven.
    pub fn check_against_record(
        &self,
        labels: &Labels,
        record: &AgentRecord,
    ) -> Result<(), CardError> {
        if record.did != self.did {
            return Err(CardError::DidMismatch);
        }
        if !record.is_active {
            return Err(CardError::RecordInactive);
        }
        let key_data = self.signing_key.to_bytes();
        let mut matching = record
            .keys
            .iter()
            .filter(|k| k.key_type == self.signing_key.key_type() && k.key_data == key_data)
            .peekable();
        if matching.peek().is_none() {
            return Err(CardError::KeyNotInRecord);
        }
        let proven = matching.any(|k| {
            k.verified && verify_pop(labels, &self.signing_key, &record.did, &k.signature).is_ok()
        });
        if proven {
            Ok(())
        } else {
            Err(CardError::KeyNotVerified)
        }
    }
}

/// Verifies the proof of a received card (§11.2 steps 1–4; see the module
/// doc).
///
/// # Errors
/// [`CardError::Json`] / [`CardError::NotAnObject`] /
/// [`CardError::MissingMember`] / [`CardError::MemberType`] and the
/// `publicKey` entry errors for a malformed card; [`CardError::MissingProof`];
/// [`CardError::InvalidId`]; [`CardError::UnknownProofType`],
/// [`CardError::WrongProofPurpose`], [`CardError::InvalidProofCreated`],
/// [`CardError::InvalidProofValue`] for a malformed proof;
/// [`CardError::ForeignVerificationMethod`]; [`CardError::KeyNotListed`];
/// [`CardError::KeyTypeMismatch`]; [`CardError::BadSignature`].
pub fn verify_card(labels: &Labels, card_json: &[u8]) -> Result<VerifiedCard, CardError> {
    let Value::Object(mut card) = jcs::parse(card_json).map_err(CardError::Json)? else {
        return Err(CardError::NotAnObject);
    };
    let did = card_id(&card)?;
    let Some(proof) = card.remove("proof") else {
        return Err(CardError::MissingProof);
    };
    let proof = proof.as_object().ok_or(CardError::NotAnObject)?;
    let proof_key_type = key_type_from_proof_type(labels, string_member(proof, "type")?)
        .ok_or(CardError::UnknownProofType)?;
    if string_member(proof, "proofPurpose")? != labels.card_proof_purpose {
        return Err(CardError::WrongProofPurpose);
    }
    let proof_created = Timestamp::parse_rfc3339(string_member(proof, "created")?)
        .map_err(|_| CardError::InvalidProofCreated)?;
    let signature = b58_decode(string_member(proof, "proofValue")?)
        .map_err(|_| CardError::InvalidProofValue)?;
    let verification_method = key_url_of(&did, string_member(proof, "verificationMethod")?)
        .ok_or(CardError::ForeignVerificationMethod)?;

    let keys = card_keys(labels, &card, &did)?;
    let listed = keys
        .iter()
        .find(|k| *k.id() == verification_method)
        .ok_or(CardError::KeyNotListed)?;
    if listed.key().key_type() != proof_key_type {
        return Err(CardError::KeyTypeMismatch);
    }
    let signing_key = *listed
        .key()
        .as_verifying()
        .map_err(|_| CardError::KeyTypeMismatch)?;

    let card = Value::Object(card);
    signing_key
        .verify(&card.to_canonical_bytes(), &signature)
        .map_err(|_| CardError::BadSignature)?;
    Ok(VerifiedCard {
        did,
        verification_method,
        signing_key,
        proof_created,
        keys,
        card,
    })
}
