//! The request envelope, `WireMessage` (PROTOCOL.md §12.1).

use std::collections::BTreeMap;

use serde::Serialize;

use super::decode;
use super::error::TransportError;
use crate::jcs::Value;
use crate::primitives::{SigningKey, VerifyingKey};

/// Longest envelope [`WireMessage::from_json`] and
/// [`WireResponse::from_json`](super::WireResponse::from_json) accept: 1 MiB.
/// \[L\] names no bound; this is local policy, and
/// [`WireMessage::from_json_with_limit`] takes another.
pub const DEFAULT_MAX_ENVELOPE_LEN: usize = 1 << 20;
/// Longest `id`, `context_id`, `task_id` or `message_id`, in bytes.
pub const MAX_ID_LEN: usize = 256;
/// Longest `did`, in bytes.
pub const MAX_DID_LEN: usize = 256;
/// Longest `role`, in bytes.
pub const MAX_ROLE_LEN: usize = 64;
/// Longest decoded `signature`, in bytes (every §3.2 encoding fits).
pub const MAX_SIGNATURE_LEN: usize = 512;
/// Most `metadata` entries.
pub const MAX_METADATA_ENTRIES: usize = 64;
/// Longest `metadata` key, in bytes.
pub const MAX_METADATA_KEY_LEN: usize = 128;
/// Longest `metadata` value, in bytes.
pub const MAX_METADATA_VALUE_LEN: usize = 4096;

/// The §12.1 request envelope. On the wire, `payload` and `signature` are
/// standard base64 with padding, and `context_id`, `task_id`, `metadata`
/// and `role` are left out when empty (Go core).
///
/// `signature` is the sender's signature over the raw `payload` bytes, not
/// over the envelope ([`WireMessage::sign_payload`]). Nothing else in the
/// envelope is signed: the HTTP binding covers the headers with RFC 9421
/// (§5), and the handshake binds what matters inside the payload.
///
/// Serialise with [`WireMessage::to_json`] (or `serde`); decode received
/// bytes only with [`WireMessage::from_json`], which is strict and bounded.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct WireMessage {
    /// Message id (a UUID in practice).
    pub id: String,
    /// Handshake or session context; empty when absent.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub context_id: String,
    /// Task id (`hpke/complete@v1` for the handshake); empty when absent.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub task_id: String,
    /// The payload bytes.
    #[serde(serialize_with = "serialize_base64")]
    pub payload: Vec<u8>,
    /// Sender DID.
    pub did: String,
    /// Signature over `payload` with the sender's registered key (§3.2).
    #[serde(serialize_with = "serialize_base64")]
    pub signature: Vec<u8>,
    /// String metadata (`cookie` for the handshake, §6.5).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
    /// Sender role (`user` for the handshake init); empty when absent.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub role: String,
}

/// Standard padded base64, as Go's `encoding/json` writes `[]byte`.
pub(super) fn serialize_base64<S: serde::Serializer>(
    bytes: &[u8],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&crate::encoding::b64_encode(bytes))
}

impl WireMessage {
    /// The JSON text of the envelope.
    pub fn to_json(&self) -> Vec<u8> {
        // Serialising strings, a map of strings and byte strings as base64
        // cannot fail.
        serde_json::to_vec(self).expect("WireMessage serialises")
    }

    /// Decodes a received envelope of at most [`DEFAULT_MAX_ENVELOPE_LEN`] bytes.
    ///
    /// # Errors
    /// As [`WireMessage::from_json_with_limit`].
    pub fn from_json(bytes: &[u8]) -> Result<Self, TransportError> {
        Self::from_json_with_limit(bytes, DEFAULT_MAX_ENVELOPE_LEN)
    }

    /// Decodes a received envelope of at most `max_len` bytes. Strict JSON
    /// (duplicate members refused at every level); `id` and `did` must be
    /// present; every member is type- and size-checked before it is
    /// decoded; unknown members are ignored (as the Go core ignores them).
    ///
    /// # Errors
    /// [`TransportError::TooLarge`], [`TransportError::Json`],
    /// [`TransportError::NotAnObject`], [`TransportError::MissingMember`],
    /// [`TransportError::WrongType`], [`TransportError::MemberTooLong`],
    /// [`TransportError::Base64`] or
    /// [`TransportError::TooManyMetadataEntries`].
    pub fn from_json_with_limit(bytes: &[u8], max_len: usize) -> Result<Self, TransportError> {
        let object = decode::parse_object(bytes, max_len)?;
        Ok(Self {
            id: decode::required_string(&object, "id", MAX_ID_LEN)?,
            context_id: decode::string(&object, "context_id", MAX_ID_LEN)?,
            task_id: decode::string(&object, "task_id", MAX_ID_LEN)?,
            // The payload is bounded by the envelope limit itself.
            payload: decode::base64_bytes(&object, "payload", max_len)?,
            did: decode::required_string(&object, "did", MAX_DID_LEN)?,
            signature: decode::base64_bytes(&object, "signature", MAX_SIGNATURE_LEN)?,
            metadata: decode_metadata(object.get("metadata"))?,
            role: decode::string(&object, "role", MAX_ROLE_LEN)?,
        })
    }

    /// Signs the raw `payload` bytes with the sender's key and stores the
    /// signature in `signature`.
    pub fn sign_payload(&mut self, key: &SigningKey) {
        self.signature = key.sign(&self.payload);
    }

    /// Verifies `signature` over the raw `payload` bytes.
    ///
    /// # Errors
    /// [`TransportError::SignatureMissing`] when there is no signature;
    /// [`TransportError::SignatureInvalid`] when it does not verify (bad
    /// encoding included: no further detail).
    pub fn verify_payload(&self, key: &VerifyingKey) -> Result<(), TransportError> {
        if self.signature.is_empty() {
            return Err(TransportError::SignatureMissing);
        }
        key.verify(&self.payload, &self.signature)
            .map_err(|_| TransportError::SignatureInvalid)
    }
}

/// The `metadata` member: an object of strings, or absent / `null` (Go
/// marshals a nil map as `null`).
fn decode_metadata(value: Option<&Value>) -> Result<BTreeMap<String, String>, TransportError> {
    const MEMBER: &str = "metadata";
    let object = match value {
        None | Some(Value::Null) => return Ok(BTreeMap::new()),
        Some(Value::Object(object)) => object,
        Some(_) => return Err(TransportError::WrongType(MEMBER)),
    };
    if object.len() > MAX_METADATA_ENTRIES {
        return Err(TransportError::TooManyMetadataEntries {
            limit: MAX_METADATA_ENTRIES,
        });
    }
    let mut metadata = BTreeMap::new();
    for (key, value) in object.iter() {
        let Value::String(value) = value else {
            return Err(TransportError::WrongType(MEMBER));
        };
        decode::check_len(MEMBER, key, MAX_METADATA_KEY_LEN)?;
        decode::check_len(MEMBER, value, MAX_METADATA_VALUE_LEN)?;
        metadata.insert(key.to_owned(), value.clone());
    }
    Ok(metadata)
}
