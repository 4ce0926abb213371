//! The keys a resolved sender's record selects (PROTOCOL.md §8.4),
//! remembered per DID so that the data plane does not re-prove them for
//! every message.
//!
//! Layer: node, protocol endpoints, between the caching resolver and
//! [`super::peer::Peer`]. Selecting keys re-verifies the proof of
//! possession of every key in the record (§8.5): one signature
//! verification per key, which profiling showed at ≈ 6 % of a loaded
//! node's CPU when repeated per record. The selection is a pure function
//! of the protocol labels (fixed per service), the record's DID, its
//! activity and its key list (type, bytes, proof, `verified` flag), so an
//! entry is reused only for an active record whose key list is exactly
//! the one it was computed from.
//!
//! Freshness is not this module's job and it adds no staleness: every
//! message still resolves the DID through the caching resolver (TTL,
//! revocation, invalidation are all decided there), and a revocation or an
//! added key changes the key list, which misses the memo. Only successful
//! selections are kept; at most [`MAX_ENTRIES`] DIDs, forgotten all at
//! once past that.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use sage_core::did::{AgentKey, SelectedKeys};
use sage_core::version::ProtocolVersion;
use sage_registry::{RecordState, RegistryError, ResolvedRecord};

/// At most this many DIDs are remembered.
const MAX_ENTRIES: usize = 16_384;

/// One remembered selection and the key list it was computed from.
#[derive(Debug)]
struct Entry {
    keys: Vec<AgentKey>,
    selected: SelectedKeys,
}

/// Key selections per DID, for one protocol version.
#[derive(Debug)]
pub(crate) struct KeySelections {
    version: ProtocolVersion,
    entries: Mutex<HashMap<String, Entry>>,
}

impl KeySelections {
    pub(crate) fn new(version: ProtocolVersion) -> Self {
        Self {
            version,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The keys `resolved` selects, as [`ResolvedRecord::select_keys`]
    /// would answer.
    ///
    /// # Errors
    /// Those of [`ResolvedRecord::select_keys`].
    pub(crate) fn select(&self, resolved: &ResolvedRecord) -> Result<SelectedKeys, RegistryError> {
        let record = &resolved.record;
        let reusable = resolved.state == RecordState::Active && record.is_active;
        if reusable {
            let entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(entry) = entries.get(record.did.as_str())
                && entry.keys == record.keys
            {
                return Ok(entry.selected.clone());
            }
        }
        let selected = resolved.select_keys(self.version.labels())?;
        if reusable {
            let mut entries = self.entries.lock().unwrap_or_else(PoisonError::into_inner);
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(record.did.as_str()) {
                entries.clear();
            }
            entries.insert(
                record.did.as_str().to_owned(),
                Entry {
                    keys: record.keys.clone(),
                    selected: selected.clone(),
                },
            );
        }
        Ok(selected)
    }
}

#[cfg(test)]
mod tests {
    use sage_core::did::{Did, sign_pop};
    use sage_core::primitives::{KeyType, SigningKey};
    use sage_core::time::Timestamp;
    use sage_registry::Source;

    use super::*;

    const DID: &str = "did:sage:ethereum:0x00000000000000000000000000000000000000aa";

    fn version() -> ProtocolVersion {
        ProtocolVersion::default()
    }

    fn key(label: &str, verified: bool) -> (SigningKey, AgentKey) {
        let signing = SigningKey::from_label(KeyType::Ed25519, label).unwrap();
        let did = Did::parse(DID).unwrap();
        let entry = AgentKey {
            key_type: KeyType::Ed25519,
            key_data: signing.verifying_key().to_bytes(),
            signature: sign_pop(version().labels(), &signing, &did).unwrap(),
            verified,
            created_at: Timestamp::new(1_780_000_000, 0),
        };
        (signing, entry)
    }

    fn resolved(keys: Vec<AgentKey>, state: RecordState) -> ResolvedRecord {
        let at = Timestamp::new(1_780_000_000, 0);
        ResolvedRecord {
            record: sage_core::did::AgentRecord {
                did: Did::parse(DID).unwrap(),
                name: "agent".into(),
                description: String::new(),
                endpoint: "http://127.0.0.1:1/".into(),
                keys,
                capabilities: serde_json::Map::new(),
                owner: "0x00000000000000000000000000000000000000aa".into(),
                is_active: state == RecordState::Active,
                public_kem_key: None,
                created_at: at,
                updated_at: at,
            },
            state,
            version: None,
            observed_at: at,
            source: Source::Registry,
        }
    }

    #[test]
    fn answers_as_select_keys_does() {
        let (first, a) = key("selection-a", true);
        let (_, b) = key("selection-b", true);
        let record = resolved(vec![a, b], RecordState::Active);
        let selections = KeySelections::new(version());
        let uncached = record.select_keys(version().labels()).unwrap();
        assert_eq!(selections.select(&record).unwrap(), uncached);
        assert_eq!(selections.select(&record).unwrap(), uncached);
        assert_eq!(*uncached.signing(), first.verifying_key());
    }

    #[test]
    fn a_revoked_key_is_not_served_from_memory() {
        let (_, a) = key("selection-a", true);
        let (second, b) = key("selection-b", true);
        let selections = KeySelections::new(version());
        selections
            .select(&resolved(vec![a.clone(), b.clone()], RecordState::Active))
            .unwrap();
        let revoked_a = AgentKey {
            verified: false,
            ..a.clone()
        };
        let after = selections
            .select(&resolved(vec![revoked_a.clone(), b], RecordState::Active))
            .unwrap();
        assert_eq!(*after.signing(), second.verifying_key());
        // With no proven key left, the answer is the uncached error.
        let (_, b_revoked) = key("selection-b", false);
        let none_left = resolved(vec![revoked_a, b_revoked], RecordState::Active);
        assert!(matches!(
            selections.select(&none_left),
            Err(RegistryError::KeyNotInRecord)
        ));
    }

    #[test]
    fn a_changed_proof_is_verified_again() {
        let (_, a) = key("selection-a", true);
        let selections = KeySelections::new(version());
        selections
            .select(&resolved(vec![a.clone()], RecordState::Active))
            .unwrap();
        let mut forged = a;
        forged.signature[0] ^= 1;
        assert!(
            selections
                .select(&resolved(vec![forged], RecordState::Active))
                .is_err()
        );
    }

    #[test]
    fn an_inactive_record_is_refused_though_remembered() {
        let (_, a) = key("selection-a", true);
        let selections = KeySelections::new(version());
        selections
            .select(&resolved(vec![a.clone()], RecordState::Active))
            .unwrap();
        assert!(matches!(
            selections.select(&resolved(vec![a], RecordState::Deactivated)),
            Err(RegistryError::Inactive { .. })
        ));
    }
}
