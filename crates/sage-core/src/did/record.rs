//! The \[L\] registry record, AgentMetadataV4 (PROTOCOL.md §8.2).
//!
//! Layer: identifier. \[L\] resolution returns this record, not a DID
//! document (open item O-8). It binds a DID to its keys, endpoint and
//! activity state. This module holds the data and its JSON form; which keys
//! may be used is decided in `select` (§8.4), and whether their proofs of
//! possession hold in `pop` (§8.5).
//!
//! JSON form: the member names of the Go core's `AgentMetadataV4`, with
//! bytes as hex and key types as registry integers (see `wire`). Records are
//! read with [`AgentRecord::from_json`], which runs the strict JCS parser
//! first so that a duplicated member cannot pick which of two values counts.
//!
//! This module does not fetch records, and it does not trust the `verified`
//! flag on its own: see `AgentRecord::verify_pops`.

use serde::{Deserialize, Serialize};

use crate::primitives::KeyType;
use crate::time::Timestamp;

use super::error::RecordError;
use super::parse::Did;
use super::wire;

/// One registered key (`keys[]` of AgentMetadataV4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentKey {
    /// Key type; the registry integer `type` on the wire (0 secp256k1,
    /// 1 Ed25519, 2 X25519).
    #[serde(rename = "type", with = "wire::registry_key_type")]
    pub key_type: KeyType,
    /// Raw public key bytes (§3.1): 65-byte uncompressed SEC1 for
    /// secp256k1, 32 bytes for Ed25519 and X25519. Hex on the wire.
    #[serde(with = "wire::hex_bytes")]
    pub key_data: Vec<u8>,
    /// The proof of possession (§8.5); empty for X25519. Hex on the wire.
    #[serde(default, with = "wire::hex_bytes")]
    pub signature: Vec<u8>,
    /// Set by the registry contract once it accepted the proof; cleared on
    /// revocation (§8.3).
    pub verified: bool,
    /// When the key was added.
    #[serde(with = "wire::rfc3339")]
    pub created_at: Timestamp,
}

/// An agent's registry record (AgentMetadataV4, §8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRecord {
    /// The agent's DID.
    pub did: Did,
    /// Display name.
    pub name: String,
    /// Display description.
    pub description: String,
    /// The agent's message endpoint (URL).
    pub endpoint: String,
    /// Registered keys, in registry order (the card's `#key-<n>` is this
    /// index plus one).
    pub keys: Vec<AgentKey>,
    /// Free-form capabilities object (`null` reads as empty).
    #[serde(default, deserialize_with = "wire::object_or_null::deserialize")]
    pub capabilities: serde_json::Map<String, serde_json::Value>,
    /// Chain address of the owner.
    pub owner: String,
    /// Inactive agents MUST NOT be trusted (§8.2).
    pub is_active: bool,
    /// The 32-byte X25519 HPKE KEM key, when the record names one apart
    /// from `keys[]`. Hex on the wire; absent, `null` or `""` when none.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "wire::opt_hex_bytes"
    )]
    pub public_kem_key: Option<Vec<u8>>,
    /// Registration time.
    #[serde(with = "wire::rfc3339")]
    pub created_at: Timestamp,
    /// Last update time.
    #[serde(with = "wire::rfc3339")]
    pub updated_at: Timestamp,
}

impl AgentRecord {
    /// Reads a record from JSON: strict RFC 8259 first (no duplicate
    /// members, valid UTF-8), then the AgentMetadataV4 shape.
    ///
    /// # Errors
    /// [`RecordError::Json`] for JSON the strict parser refuses;
    /// [`RecordError::Schema`] for a missing or mistyped member, bad hex, a
    /// bad timestamp, a malformed DID or an unknown key type integer.
    pub fn from_json(json: &[u8]) -> Result<Self, RecordError> {
        crate::jcs::parse(json).map_err(RecordError::Json)?;
        serde_json::from_slice(json).map_err(|e| RecordError::Schema {
            line: e.line(),
            column: e.column(),
        })
    }

    /// Writes the record as JSON (members in declaration order).
    ///
    /// # Errors
    /// [`RecordError::NoRegistryCode`] if a key is of a type without a
    /// registry integer (P-256).
    pub fn to_json(&self) -> Result<String, RecordError> {
        if self
            .keys
            .iter()
            .any(|k| k.key_type.registry_code().is_none())
        {
            return Err(RecordError::NoRegistryCode);
        }
        // With every key type representable, nothing else in the record
        // can fail to serialise.
        serde_json::to_string(self).map_err(|_| RecordError::NoRegistryCode)
    }
}
