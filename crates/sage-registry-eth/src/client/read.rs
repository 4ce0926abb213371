//! Reads: records, keys, commitments and settings.
//!
//! Layer: registry I/O. The record reads use only functions of the deployed
//! SAGE `AgentCardRegistry` interface (`didToAgentId`, `getAgentByDID`,
//! `getAgent`, `getKey`, `getKMEKey`, `isAgentActive`, `getAgentsByOwner`,
//! `agentActivationTime`, `registrationCommitments`), so they work on a
//! registry deployed by others. A record read pins all its calls to one
//! block hash (EIP-1898), so it never mixes two states of the chain. Methods
//! marked "extension" call functions only this implementation has.

use alloy::eips::{BlockId, BlockNumberOrTag};
use alloy::primitives::{Address, B256, Bytes};
use alloy::providers::Provider as _;

use super::EthRegistryClient;
use super::convert::{agent_state, key, record, to_u64, to_u128};
use crate::bindings::IAgentCardRegistry;
use crate::error::EthRegistryError;
use crate::revert;
use crate::types::{AgentState, BlockRef, CommitmentState, OnChainAgent, OnChainKey};

impl EthRegistryClient {
    /// The node's latest block.
    ///
    /// # Errors
    /// [`EthRegistryError::Unreachable`], [`EthRegistryError::Malformed`].
    pub async fn latest_block(&self) -> Result<BlockRef, EthRegistryError> {
        let block = self
            .registry
            .provider()
            .get_block_by_number(BlockNumberOrTag::Latest)
            .await
            .map_err(revert::from_transport)?
            .ok_or(EthRegistryError::Malformed {
                what: "latest block",
            })?;
        Ok(BlockRef {
            number: block.header.number,
            hash: block.header.hash.0,
        })
    }

    /// The record of `did` with all its key entries, read at the latest block.
    ///
    /// # Errors
    /// [`EthRegistryError::NotFound`] if the registry has no record for `did`;
    /// [`EthRegistryError::Unreachable`]; [`EthRegistryError::Malformed`] if
    /// the record cannot be represented (e.g. a KEM key that is not 32 bytes).
    pub async fn get_agent_by_did(&self, did: &str) -> Result<OnChainAgent, EthRegistryError> {
        let block = self.latest_block().await?;
        let at = BlockId::hash(B256::from(block.hash));
        let agent_id = self
            .registry
            .didToAgentId(did.to_owned())
            .block(at)
            .call()
            .await
            .map_err(revert::from_contract)?;
        if agent_id == B256::ZERO {
            return Err(EthRegistryError::NotFound);
        }
        let metadata = self
            .registry
            .getAgentByDID(did.to_owned())
            .block(at)
            .call()
            .await
            .map_err(revert::from_contract)?;
        let agent = self.assemble(agent_id, metadata, block, at).await?;
        if agent.did != did {
            return Err(EthRegistryError::Malformed {
                what: "record DID differs from the DID asked for",
            });
        }
        Ok(agent)
    }

    /// The record `agent_id` with all its key entries, read at the latest block.
    ///
    /// # Errors
    /// As [`Self::get_agent_by_did`].
    pub async fn get_agent(&self, agent_id: [u8; 32]) -> Result<OnChainAgent, EthRegistryError> {
        let block = self.latest_block().await?;
        let at = BlockId::hash(B256::from(block.hash));
        let id = B256::from(agent_id);
        let metadata = self
            .registry
            .getAgent(id)
            .block(at)
            .call()
            .await
            .map_err(revert::from_contract)?;
        self.assemble(id, metadata, block, at).await
    }

    async fn assemble(
        &self,
        agent_id: B256,
        metadata: IAgentCardRegistry::AgentMetadata,
        block: BlockRef,
        at: BlockId,
    ) -> Result<OnChainAgent, EthRegistryError> {
        if metadata.owner == Address::ZERO || metadata.did.is_empty() {
            return Err(EthRegistryError::NotFound);
        }
        let mut keys = Vec::with_capacity(metadata.keyHashes.len());
        for key_hash in &metadata.keyHashes {
            let entry = self
                .registry
                .getKey(*key_hash)
                .block(at)
                .call()
                .await
                .map_err(revert::from_contract)?;
            keys.push(key(*key_hash, entry)?);
        }
        record(agent_id, metadata, keys, block)
    }

    /// The key entry `key_hash`.
    ///
    /// # Errors
    /// [`EthRegistryError::NotFound`], [`EthRegistryError::Unreachable`].
    pub async fn get_key(&self, key_hash: [u8; 32]) -> Result<OnChainKey, EthRegistryError> {
        let hash = B256::from(key_hash);
        let entry = self
            .registry
            .getKey(hash)
            .call()
            .await
            .map_err(revert::from_contract)?;
        if entry.keyData.is_empty() {
            return Err(EthRegistryError::NotFound);
        }
        key(hash, entry)
    }

    /// The registry's id for `did`.
    ///
    /// # Errors
    /// [`EthRegistryError::NotFound`], [`EthRegistryError::Unreachable`].
    pub async fn agent_id_of(&self, did: &str) -> Result<[u8; 32], EthRegistryError> {
        let id = self
            .registry
            .didToAgentId(did.to_owned())
            .call()
            .await
            .map_err(revert::from_contract)?;
        if id == B256::ZERO {
            return Err(EthRegistryError::NotFound);
        }
        Ok(id.0)
    }

    /// Whether the record of `did` is active.
    ///
    /// # Errors
    /// [`EthRegistryError::NotFound`], [`EthRegistryError::Unreachable`].
    pub async fn is_active(&self, did: &str) -> Result<bool, EthRegistryError> {
        self.registry
            .isAgentActive(did.to_owned())
            .call()
            .await
            .map_err(not_found_on_revert)
    }

    /// The record's X25519 KEM key, `None` when it has none.
    ///
    /// # Errors
    /// [`EthRegistryError::NotFound`], [`EthRegistryError::Unreachable`],
    /// [`EthRegistryError::Malformed`] for a key that is not 32 bytes.
    pub async fn kem_key(&self, agent_id: [u8; 32]) -> Result<Option<[u8; 32]>, EthRegistryError> {
        let raw = self
            .registry
            .getKMEKey(B256::from(agent_id))
            .call()
            .await
            .map_err(not_found_on_revert)?;
        super::convert::kem_key(&raw)
    }

    /// The records `owner` registered, oldest first.
    ///
    /// # Errors
    /// [`EthRegistryError::Unreachable`].
    pub async fn agents_by_owner(
        &self,
        owner: [u8; 20],
    ) -> Result<Vec<[u8; 32]>, EthRegistryError> {
        let ids = self
            .registry
            .getAgentsByOwner(Address::from(owner))
            .call()
            .await
            .map_err(revert::from_contract)?;
        Ok(ids.into_iter().map(|id| id.0).collect())
    }

    /// The earliest activation time of the record (Unix seconds; zero if
    /// there is no record).
    ///
    /// # Errors
    /// [`EthRegistryError::Unreachable`], [`EthRegistryError::Malformed`].
    pub async fn activation_time(&self, agent_id: [u8; 32]) -> Result<u64, EthRegistryError> {
        let t = self
            .registry
            .agentActivationTime(B256::from(agent_id))
            .call()
            .await
            .map_err(revert::from_contract)?;
        to_u64(t, "agentActivationTime")
    }

    /// The commitment `committer` holds.
    ///
    /// # Errors
    /// [`EthRegistryError::Unreachable`], [`EthRegistryError::Malformed`].
    pub async fn commitment(
        &self,
        committer: [u8; 20],
    ) -> Result<CommitmentState, EthRegistryError> {
        let c = self
            .registry
            .registrationCommitments(Address::from(committer))
            .call()
            .await
            .map_err(revert::from_contract)?;
        Ok(CommitmentState {
            commit_hash: c.commitHash.0,
            committed_at: to_u64(c.timestamp, "commitment timestamp")?,
            revealed: c.revealed,
        })
    }

    /// The registry's reveal window `(min, max)` in seconds after the commit
    /// (extension; the deployed registry hard-codes
    /// [`crate::COMMIT_MIN_DELAY_SECS`] / [`crate::COMMIT_MAX_DELAY_SECS`]).
    ///
    /// # Errors
    /// [`EthRegistryError::Unreachable`]; [`EthRegistryError::Reverted`] on a
    /// registry without the extension.
    pub async fn commit_window(&self) -> Result<(u64, u64), EthRegistryError> {
        let min = self
            .registry
            .COMMIT_MIN_DELAY()
            .call()
            .await
            .map_err(revert::from_contract)?;
        let max = self
            .registry
            .COMMIT_MAX_DELAY()
            .call()
            .await
            .map_err(revert::from_contract)?;
        Ok((
            to_u64(min, "COMMIT_MIN_DELAY")?,
            to_u64(max, "COMMIT_MAX_DELAY")?,
        ))
    }

    /// The commitment as the registry itself computes it (extension).
    ///
    /// # Errors
    /// As [`Self::commit_window`].
    pub async fn onchain_commit_hash<K: AsRef<[u8]>>(
        &self,
        did: &str,
        keys: &[K],
        owner: [u8; 20],
        salt: [u8; 32],
    ) -> Result<[u8; 32], EthRegistryError> {
        let keys = keys
            .iter()
            .map(|k| Bytes::copy_from_slice(k.as_ref()))
            .collect();
        let hash = self
            .registry
            .computeCommitHash(did.to_owned(), keys, Address::from(owner), B256::from(salt))
            .call()
            .await
            .map_err(revert::from_contract)?;
        Ok(hash.0)
    }

    /// The §8.5 challenge as the registry builds it (extension).
    ///
    /// # Errors
    /// As [`Self::commit_window`].
    pub async fn onchain_pop_challenge(
        &self,
        did: &str,
        key_data: &[u8],
    ) -> Result<Vec<u8>, EthRegistryError> {
        let challenge = self
            .registry
            .popChallenge(did.to_owned(), Bytes::copy_from_slice(key_data))
            .call()
            .await
            .map_err(revert::from_contract)?;
        Ok(challenge.to_vec())
    }

    /// The record's lifecycle state (extension).
    ///
    /// # Errors
    /// As [`Self::commit_window`]; [`EthRegistryError::Malformed`] for an
    /// unknown state value.
    pub async fn agent_state(&self, agent_id: [u8; 32]) -> Result<AgentState, EthRegistryError> {
        let state = self
            .registry
            .agentState(B256::from(agent_id))
            .call()
            .await
            .map_err(revert::from_contract)?;
        agent_state(state)
    }

    /// The stake `account` can withdraw now, in wei (extension).
    ///
    /// # Errors
    /// As [`Self::commit_window`].
    pub async fn withdrawable_stake(&self, account: [u8; 20]) -> Result<u128, EthRegistryError> {
        let amount = self
            .registry
            .withdrawableStake(Address::from(account))
            .call()
            .await
            .map_err(revert::from_contract)?;
        to_u128(amount, "withdrawableStake")
    }
}

/// Getters that revert for an unknown record (ours with `AgentNotFound`, the
/// deployed registry with "Agent not found") report [`EthRegistryError::NotFound`].
fn not_found_on_revert(error: alloy::contract::Error) -> EthRegistryError {
    match revert::from_contract(error) {
        EthRegistryError::Reverted { reason, .. }
            if reason == "AgentNotFound" || reason == "Agent not found" =>
        {
            EthRegistryError::NotFound
        }
        other => other,
    }
}
