//! Conversions from the generated contract types to this crate's plain types.
//!
//! Layer: registry I/O, private. Nothing here trusts the node: a value that
//! does not fit (a timestamp beyond `u64`, a KEM key that is not 32 bytes, an
//! unknown state) is [`EthRegistryError::Malformed`], never truncated.

use alloy::primitives::{B256, U256, keccak256};

use crate::bindings::IAgentCardRegistry;
use crate::error::EthRegistryError;
use crate::types::{AgentState, BlockRef, OnChainAgent, OnChainKey};

pub(super) fn to_u64(value: U256, what: &'static str) -> Result<u64, EthRegistryError> {
    u64::try_from(value).map_err(|_| EthRegistryError::Malformed { what })
}

pub(super) fn to_u128(value: U256, what: &'static str) -> Result<u128, EthRegistryError> {
    u128::try_from(value).map_err(|_| EthRegistryError::Malformed { what })
}

pub(super) fn kem_key(raw: &[u8]) -> Result<Option<[u8; 32]>, EthRegistryError> {
    if raw.is_empty() {
        return Ok(None);
    }
    <[u8; 32]>::try_from(raw)
        .map(Some)
        .map_err(|_| EthRegistryError::Malformed {
            what: "kmePublicKey",
        })
}

/// A key entry; its data must hash to the handle it was listed under.
pub(super) fn key(
    key_hash: B256,
    entry: IAgentCardRegistry::AgentKey,
) -> Result<OnChainKey, EthRegistryError> {
    if keccak256(&entry.keyData) != key_hash {
        return Err(EthRegistryError::Malformed {
            what: "key data does not match its key hash",
        });
    }
    Ok(OnChainKey {
        key_hash: key_hash.0,
        key_type: entry.keyType,
        key_data: entry.keyData.to_vec(),
        signature: entry.signature.to_vec(),
        verified: entry.verified,
        created_at: to_u64(entry.registeredAt, "key registeredAt")?,
    })
}

pub(super) fn record(
    agent_id: B256,
    metadata: IAgentCardRegistry::AgentMetadata,
    keys: Vec<OnChainKey>,
    observed_at: BlockRef,
) -> Result<OnChainAgent, EthRegistryError> {
    Ok(OnChainAgent {
        agent_id: agent_id.0,
        did: metadata.did,
        name: metadata.name,
        description: metadata.description,
        endpoint: metadata.endpoint,
        capabilities: metadata.capabilities,
        keys,
        owner: metadata.owner.into_array(),
        is_active: metadata.active,
        public_kem_key: kem_key(&metadata.kmePublicKey)?,
        chain_id: to_u64(metadata.chainId, "chainId")?,
        created_at: to_u64(metadata.registeredAt, "registeredAt")?,
        updated_at: to_u64(metadata.updatedAt, "updatedAt")?,
        observed_at,
    })
}

pub(super) fn agent_state(value: u8) -> Result<AgentState, EthRegistryError> {
    match value {
        0 => Ok(AgentState::None),
        1 => Ok(AgentState::Registered),
        2 => Ok(AgentState::Active),
        3 => Ok(AgentState::Deactivated),
        _ => Err(EthRegistryError::Malformed { what: "agentState" }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_beyond_the_target_type_are_malformed_not_truncated() {
        assert_eq!(to_u64(U256::from(u64::MAX), "t").ok(), Some(u64::MAX));
        assert!(matches!(
            to_u64(U256::from(u64::MAX) + U256::from(1), "t"),
            Err(EthRegistryError::Malformed { .. })
        ));
        assert!(matches!(
            to_u128(U256::MAX, "t"),
            Err(EthRegistryError::Malformed { .. })
        ));
    }

    #[test]
    fn kem_key_is_absent_when_empty_and_malformed_unless_32_bytes() {
        assert_eq!(kem_key(&[]).ok(), Some(None));
        assert_eq!(kem_key(&[9; 32]).ok(), Some(Some([9; 32])));
        assert!(matches!(
            kem_key(&[9; 33]),
            Err(EthRegistryError::Malformed { .. })
        ));
    }

    #[test]
    fn key_entry_whose_data_does_not_hash_to_its_handle_is_malformed() {
        let entry = |data: &[u8]| IAgentCardRegistry::AgentKey {
            keyType: 1,
            keyData: data.to_vec().into(),
            signature: vec![0; 64].into(),
            verified: true,
            registeredAt: U256::from(7),
        };
        let data = [3u8; 32];
        let listed = keccak256(data);
        assert_eq!(
            key(listed, entry(&data)).map(|k| k.created_at).ok(),
            Some(7)
        );
        assert!(matches!(
            key(listed, entry(&[4u8; 32])),
            Err(EthRegistryError::Malformed { .. })
        ));
    }

    #[test]
    fn unknown_agent_states_are_malformed() {
        assert_eq!(agent_state(3).ok(), Some(AgentState::Deactivated));
        assert!(matches!(
            agent_state(4),
            Err(EthRegistryError::Malformed { .. })
        ));
    }
}
