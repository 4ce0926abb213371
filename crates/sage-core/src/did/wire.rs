//! JSON encodings of the registry record's members (PROTOCOL.md §8.2).
//!
//! Layer: identifier, serde glue for [`super::record`]. The \[L\] spec names
//! the members of AgentMetadataV4 but not a JSON form for its bytes; this
//! crate fixes one and documents it here:
//!
//! - byte strings (`key_data`, `signature`, `public_kem_key`) are lower-case
//!   hex without `0x` (§1 `hex`); either case is read;
//! - key types are the registry integers of §3.1 (0 secp256k1, 1 Ed25519,
//!   2 X25519), member name `type`;
//! - timestamps are RFC 3339 as Go's `time.RFC3339Nano` writes them.
//!
//! Nothing here validates keys; that happens at key selection.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

use crate::encoding::{hex_decode, hex_encode};
use crate::primitives::KeyType;
use crate::time::Timestamp;

/// `Vec<u8>` as a hex string.
pub(super) mod hex_bytes {
    use super::*;

    pub(in crate::did) fn serialize<S: Serializer>(
        bytes: &[u8],
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&hex_encode(bytes))
    }

    pub(in crate::did) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(deserializer)?;
        hex_decode(&text).map_err(D::Error::custom)
    }
}

/// `Option<Vec<u8>>` as a hex string or `null`; an empty string reads as
/// `None` (Go writes a nil byte slice that way once hex-encoded).
pub(super) mod opt_hex_bytes {
    use super::*;

    pub(in crate::did) fn serialize<S: Serializer>(
        bytes: &Option<Vec<u8>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match bytes {
            Some(bytes) => serializer.serialize_str(&hex_encode(bytes)),
            None => serializer.serialize_none(),
        }
    }

    pub(in crate::did) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Vec<u8>>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            Some(text) if !text.is_empty() => hex_decode(&text).map(Some).map_err(D::Error::custom),
            _ => Ok(None),
        }
    }
}

/// [`KeyType`] as its registry integer.
pub(super) mod registry_key_type {
    use super::*;

    pub(in crate::did) fn serialize<S: Serializer>(
        key_type: &KeyType,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        match key_type.registry_code() {
            Some(code) => serializer.serialize_u8(code),
            None => Err(serde::ser::Error::custom(
                "key type has no registry integer",
            )),
        }
    }

    pub(in crate::did) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<KeyType, D::Error> {
        let code = u8::deserialize(deserializer)?;
        KeyType::from_registry_code(code)
            .ok_or_else(|| D::Error::custom("unknown registry key type"))
    }
}

/// [`Timestamp`] as RFC 3339 text.
pub(super) mod rfc3339 {
    use super::*;

    pub(in crate::did) fn serialize<S: Serializer>(
        timestamp: &Timestamp,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&timestamp.to_rfc3339())
    }

    pub(in crate::did) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text).map_err(D::Error::custom)
    }
}

/// A JSON object, where `null` reads as the empty object (Go writes a nil
/// map as `null`).
pub(super) mod object_or_null {
    use super::*;

    pub(in crate::did) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<serde_json::Map<String, serde_json::Value>, D::Error> {
        Ok(Option::deserialize(deserializer)?.unwrap_or_default())
    }
}
