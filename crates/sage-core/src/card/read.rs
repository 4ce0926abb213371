//! Reading the members of a received card (PROTOCOL.md §11.1, §11.2 steps 2–3).
//!
//! Layer: agent card, shared by signing and verification. Works on the
//! strictly parsed [`Object`] and never re-serialises it, so what is checked
//! is what is signed.
//!
//! Every `publicKey` entry is checked, not only the one the proof names: a
//! card whose key list is malformed is refused as a whole. An entry must be
//! a key of the card's own DID (`id` is `<card id>#<fragment>`, `controller`
//! is the card id), have a known type, and its `publicKeyBase58` must decode
//! to a valid key of that type. `publicKeyHex` is optional (the Go struct
//! marks it `omitempty`), but when present it must decode to the same bytes;
//! the Go core does not compare the two, so a card could otherwise show one
//! key to a reader of the hex and verify with another.

use crate::did::{Did, DidUrl};
use crate::encoding::{b58_decode, hex_decode};
use crate::jcs::{Object, Value};
use crate::primitives::PublicKey;
use crate::version::Labels;

use super::error::CardError;
use super::vocab::key_type_from_name;

/// One `publicKey` entry of a card, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardKey {
    id: DidUrl,
    key: PublicKey,
}

impl CardKey {
    /// The entry's `id`, `<DID>#<fragment>`.
    pub fn id(&self) -> &DidUrl {
        &self.id
    }

    /// The key (its type from the entry's `type`).
    pub fn key(&self) -> &PublicKey {
        &self.key
    }
}

/// The member `name` of `object`.
pub(super) fn member<'a>(object: &'a Object, name: &'static str) -> Result<&'a Value, CardError> {
    object.get(name).ok_or(CardError::MissingMember(name))
}

/// The string member `name` of `object`.
pub(super) fn string_member<'a>(
    object: &'a Object,
    name: &'static str,
) -> Result<&'a str, CardError> {
    member(object, name)?
        .as_str()
        .ok_or(CardError::MemberType(name))
}

/// The card's `id`, parsed.
pub(super) fn card_id(card: &Object) -> Result<Did, CardError> {
    Did::parse(string_member(card, "id")?).map_err(CardError::InvalidId)
}

/// Parses `reference` as a key URL of `did`: `<did>#<fragment>`, compared
/// as strings before parsing (§11.2 step 2), with a valid fragment.
pub(super) fn key_url_of(did: &Did, reference: &str) -> Option<DidUrl> {
    let fragment = reference.strip_prefix(did.as_str())?.strip_prefix('#')?;
    DidUrl::with_fragment(did.clone(), fragment).ok()
}

/// Every `publicKey` entry of the card, checked (see the module doc).
pub(super) fn card_keys(
    labels: &Labels,
    card: &Object,
    did: &Did,
) -> Result<Vec<CardKey>, CardError> {
    let entries = member(card, "publicKey")?
        .as_array()
        .ok_or(CardError::MemberType("publicKey"))?;
    let mut keys: Vec<CardKey> = Vec::with_capacity(entries.len());
    for (index, entry) in entries.iter().enumerate() {
        let key = card_key(labels, entry, did, index)?;
        if keys.iter().any(|k| k.id == key.id) {
            return Err(CardError::DuplicateKeyId { index });
        }
        keys.push(key);
    }
    Ok(keys)
}

fn card_key(labels: &Labels, entry: &Value, did: &Did, index: usize) -> Result<CardKey, CardError> {
    let entry = entry.as_object().ok_or(CardError::NotAnObject)?;
    let id = key_url_of(did, string_member(entry, "id")?).ok_or(CardError::ForeignKey { index })?;
    if string_member(entry, "controller")? != did.as_str() {
        return Err(CardError::ForeignKey { index });
    }
    let key_type = key_type_from_name(labels, string_member(entry, "type")?)
        .ok_or(CardError::UnknownKeyType { index })?;
    let bytes = b58_decode(string_member(entry, "publicKeyBase58")?)
        .map_err(|_| CardError::InvalidKeyEncoding { index })?;
    if let Some(hex) = entry.get("publicKeyHex") {
        let hex = hex.as_str().ok_or(CardError::MemberType("publicKeyHex"))?;
        let hex_bytes = hex_decode(hex).map_err(|_| CardError::InvalidKeyEncoding { index })?;
        if hex_bytes != bytes {
            return Err(CardError::KeyEncodingMismatch { index });
        }
    }
    let key = PublicKey::from_bytes(key_type, &bytes)
        .map_err(|cause| CardError::InvalidKey { index, cause })?;
    Ok(CardKey { id, key })
}
