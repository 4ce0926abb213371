//! The chain-neutral registry record (PROTOCOL.md §9.1, §9.3) and its
//! projection into the \[L\] AgentMetadataV4 shape (§8.2).
//!
//! Layer: registry model, no I/O. A [`RegistryRecord`] is what a registry
//! holds authoritatively: the identifier, the descriptive fields, the
//! lifecycle [`RecordState`] (created → active → deactivated, terminal),
//! the version, and every [`KeyEntry`] the record ever had — revoked ones
//! are kept forever with their revocation time.
//!
//! Key names: a key's name is `key-<n>` where `n` is its registry position
//! plus one (the prefix is the card's `#key-` label). Entries are only ever
//! appended, so a name never changes and is never reused, and it is the
//! same fragment the \[L\] agent card gives the key (§11.1).
//!
//! Controller: the record's **first accepted signing key** in registry
//! order (Ed25519 or secp256k1). It alone authorises changes to the record.
//! Revoking it hands control to the next accepted signing key, which is how
//! a controller key is rotated; the last signing key of an active record
//! cannot be revoked, so an active record always has a controller. The
//! [`RegistryRecord::owner`] label is fixed at registration from the first
//! controller (see [`owner_label`]) and only groups records for listing.
//!
//! Projection (§8.2, §8.4): [`RegistryRecord::to_agent_record`] lists every
//! key in registry order with `verified` = accepted, the proof (PoP or KEM
//! endorsement) as `signature`, `is_active` = state is active, and no
//! separate `public_kem_key` (the KEM key is the first accepted X25519 key
//! of `keys[]`, which §8.4 selects).

use core::fmt;

use sage_core::did::{AgentKey, AgentRecord, Did};
use sage_core::encoding::hex_encode;
use sage_core::primitives::{KeyType, VerifyingKey};
use sage_core::time::Timestamp;
use sage_core::version::Labels;
use serde_json::{Map, Value, json};

/// A record's lifecycle state (§9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RecordState {
    /// Registered; not usable until activated.
    Created,
    /// Usable.
    Active,
    /// Terminal. The record stays readable and its identifier is never
    /// reassigned.
    Deactivated,
}

impl RecordState {
    /// `created`, `active` or `deactivated`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Active => "active",
            Self::Deactivated => "deactivated",
        }
    }
}

impl fmt::Display for RecordState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A key entry's state (§9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyState {
    /// Its proof held when it was added; usable while the record is active.
    Accepted,
    /// Revoked; kept forever, never usable again.
    Revoked,
}

impl KeyState {
    /// `accepted` or `revoked`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Revoked => "revoked",
        }
    }
}

/// One key of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// `key-<position + 1>`; never changes, never reused.
    pub name: String,
    /// Key type: Ed25519 or secp256k1 (signing), X25519 (KEM).
    pub key_type: KeyType,
    /// Raw public key bytes (§3.1; uncompressed SEC1 for secp256k1).
    pub key_data: Vec<u8>,
    /// A signing key's SAGE-PoP (§8.5), or an X25519 key's endorsement by
    /// the signing key [`KeyEntry::endorsed_by`] names (see
    /// [`crate::endorse`]).
    pub proof: Vec<u8>,
    /// For an X25519 key: the name of the signing key that endorsed it.
    pub endorsed_by: Option<String>,
    /// When the key was added.
    pub added_at: Timestamp,
    /// When the key was revoked.
    pub revoked_at: Option<Timestamp>,
}

impl KeyEntry {
    /// Accepted or revoked.
    pub fn state(&self) -> KeyState {
        if self.revoked_at.is_some() {
            KeyState::Revoked
        } else {
            KeyState::Accepted
        }
    }

    /// Whether the key is accepted (not revoked).
    pub fn is_accepted(&self) -> bool {
        self.revoked_at.is_none()
    }

    /// Whether the key signs (Ed25519 or secp256k1).
    pub fn is_signing(&self) -> bool {
        matches!(self.key_type, KeyType::Ed25519 | KeyType::Secp256k1)
    }

    /// The verifying key of a signing entry; `None` for X25519 or bytes
    /// that are not a key (which the registry never admits).
    pub fn verifying_key(&self) -> Option<VerifyingKey> {
        self.is_signing()
            .then(|| VerifyingKey::from_bytes(self.key_type, &self.key_data).ok())
            .flatten()
    }
}

/// A registry record: the authoritative state of one agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryRecord {
    /// The agent's DID.
    pub did: Did,
    /// Owner label, fixed at registration ([`owner_label`] of the first
    /// controller key).
    pub owner: String,
    /// Lifecycle state.
    pub state: RecordState,
    /// 1 at registration, plus one per change.
    pub version: u64,
    /// Display name.
    pub name: String,
    /// Display description.
    pub description: String,
    /// The agent's endpoint URL.
    pub endpoint: String,
    /// Free-form capabilities object (§8.2).
    pub capabilities: Map<String, Value>,
    /// Every key the record ever had, in registry order.
    pub keys: Vec<KeyEntry>,
    /// Registration time.
    pub created_at: Timestamp,
    /// Time of the last change.
    pub updated_at: Timestamp,
}

impl RegistryRecord {
    /// The key named `name` (`key-<n>`), revoked or not.
    pub fn key(&self, name: &str) -> Option<&KeyEntry> {
        self.keys.iter().find(|k| k.name == name)
    }

    /// The controller: the first accepted signing key, in registry order.
    pub fn controller(&self) -> Option<&KeyEntry> {
        self.keys.iter().find(|k| k.is_signing() && k.is_accepted())
    }

    /// The number of accepted signing keys.
    pub fn accepted_signing_keys(&self) -> usize {
        self.keys
            .iter()
            .filter(|k| k.is_signing() && k.is_accepted())
            .count()
    }

    /// The record in the \[L\] AgentMetadataV4 shape (§8.2; see the module
    /// documentation for the mapping).
    pub fn to_agent_record(&self) -> AgentRecord {
        AgentRecord {
            did: self.did.clone(),
            name: self.name.clone(),
            description: self.description.clone(),
            endpoint: self.endpoint.clone(),
            keys: self
                .keys
                .iter()
                .map(|k| AgentKey {
                    key_type: k.key_type,
                    key_data: k.key_data.clone(),
                    signature: k.proof.clone(),
                    verified: k.is_accepted(),
                    created_at: k.added_at,
                })
                .collect(),
            capabilities: self.capabilities.clone(),
            owner: self.owner.clone(),
            is_active: self.state == RecordState::Active,
            public_kem_key: None,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }

    /// The record as JSON: the history snapshot and the CLI's `--json`
    /// form. Bytes are lower-case hex, key types their registry integers
    /// (as in AgentMetadataV4), times RFC 3339.
    pub fn to_json_value(&self) -> Value {
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|k| {
                let mut key = Map::new();
                key.insert("name".into(), k.name.as_str().into());
                key.insert(
                    "type".into(),
                    k.key_type.registry_code().map_or(Value::Null, Value::from),
                );
                key.insert("alg".into(), k.key_type.name().into());
                key.insert("key_data".into(), hex_encode(&k.key_data).into());
                key.insert("proof".into(), hex_encode(&k.proof).into());
                if let Some(signer) = &k.endorsed_by {
                    key.insert("endorsed_by".into(), signer.as_str().into());
                }
                key.insert("state".into(), k.state().as_str().into());
                key.insert("added_at".into(), k.added_at.to_rfc3339().into());
                if let Some(at) = k.revoked_at {
                    key.insert("revoked_at".into(), at.to_rfc3339().into());
                }
                Value::Object(key)
            })
            .collect();
        json!({
            "did": self.did.as_str(),
            "owner": self.owner,
            "state": self.state.as_str(),
            "version": self.version,
            "name": self.name,
            "description": self.description,
            "endpoint": self.endpoint,
            "capabilities": Value::Object(self.capabilities.clone()),
            "keys": keys,
            "created_at": self.created_at.to_rfc3339(),
            "updated_at": self.updated_at.to_rfc3339(),
        })
    }
}

/// The name of the key at registry `position` (0-based): the card's key
/// fragment prefix and `position + 1`.
pub fn key_name(labels: &Labels, position: usize) -> String {
    format!(
        "{}{}",
        labels.card_key_fragment_prefix,
        position.saturating_add(1)
    )
}

/// The registry position a key name stands for: the inverse of
/// [`key_name`], `None` for anything else (a leading zero, zero, no
/// prefix).
pub fn key_position(labels: &Labels, name: &str) -> Option<usize> {
    let digits = name.strip_prefix(labels.card_key_fragment_prefix)?;
    if digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<usize>().ok()?.checked_sub(1)
}

/// The owner label of a controller key: its lower-case Ethereum address
/// for secp256k1 (as \[L\] owners are chain addresses), otherwise its
/// §3.4 key id. A label for grouping and listing only; authorisation
/// always uses the full key.
pub fn owner_label(key: &VerifyingKey) -> String {
    key.ethereum_address().unwrap_or_else(|| key.key_id())
}
