//! Writes: the §8.3 lifecycle (commit, reveal, activate), key addition and
//! revocation, record updates, deactivation, stake payout, registry settings.
//!
//! Layer: registry I/O. Each call sends one transaction from the client's
//! sender, waits for its receipt and returns the gas used. The contract
//! enforces every rule; a broken one comes back as
//! [`EthRegistryError::Reverted`] with the contract's error name.

use alloy::primitives::{B256, Bytes, U256};

use super::EthRegistryClient;
use super::convert::{to_u64, to_u128};
use crate::bindings::AgentCardRegistry;
use crate::bindings::IAgentCardRegistry;
use crate::commit::commit_hash;
use crate::error::EthRegistryError;
use crate::revert;
use crate::types::{Committed, NewKey, Registered, RegistrationRequest, TxReceipt};

impl EthRegistryClient {
    /// §8.3 step 1: commits to `request` with the stake the registry asks
    /// (`registrationStake()`), as the sender, who becomes the owner.
    ///
    /// # Errors
    /// [`EthRegistryError::NoSender`], [`EthRegistryError::Unreachable`],
    /// [`EthRegistryError::Reverted`] (e.g. `InsufficientStake`).
    pub async fn commit(
        &self,
        request: &RegistrationRequest,
    ) -> Result<Committed, EthRegistryError> {
        let owner = self.require_sender()?;
        let keys: Vec<&[u8]> = request.keys.iter().map(|k| k.key_data.as_slice()).collect();
        let hash = commit_hash(
            &request.did,
            &keys,
            owner.into_array(),
            request.salt,
            self.chain_id,
        );
        let stake = self.registration_stake().await?;
        let call = self
            .registry
            .commitRegistration(B256::from(hash))
            .value(U256::from(stake));
        let (receipt, _) = self.transact(call).await?;
        Ok(Committed {
            commit_hash: hash,
            stake_wei: stake,
            receipt,
        })
    }

    /// §8.3 step 2: reveals `request` (1–60 minutes after [`Self::commit`],
    /// from the same sender). The record is registered inactive.
    ///
    /// # Errors
    /// As [`Self::commit`]; reverts include `RevealTooEarly`,
    /// `CommitmentExpired`, `CommitmentMismatch`, `NoCommitment`, `InvalidDid`,
    /// `DidNotOwnedBySender`, `InvalidProof`, `InvalidKeyData`.
    pub async fn register(
        &self,
        request: &RegistrationRequest,
    ) -> Result<Registered, EthRegistryError> {
        let params = IAgentCardRegistry::RegistrationParams {
            did: request.did.clone(),
            name: request.name.clone(),
            description: request.description.clone(),
            endpoint: request.endpoint.clone(),
            capabilities: request.capabilities.clone(),
            keys: request
                .keys
                .iter()
                .map(|k| Bytes::copy_from_slice(&k.key_data))
                .collect(),
            keyTypes: request
                .keys
                .iter()
                .map(|k| k.key_type.registry_integer())
                .collect(),
            signatures: request
                .keys
                .iter()
                .map(|k| Bytes::copy_from_slice(&k.proof))
                .collect(),
            salt: B256::from(request.salt),
        };
        let (receipt, raw) = self
            .transact(self.registry.registerAgentWithParams(params))
            .await?;
        let event = raw
            .decoded_log::<AgentCardRegistry::AgentRegistered>()
            .ok_or(EthRegistryError::Malformed {
                what: "AgentRegistered event",
            })?;
        Ok(Registered {
            agent_id: event.data.agentId.0,
            receipt,
        })
    }

    /// §8.3 step 3: activates the record once its activation time has come.
    ///
    /// # Errors
    /// As [`Self::commit`]; reverts include `ActivationTooEarly`,
    /// `AgentIsDeactivated`, `AlreadyActive`, `NotAgentOwner`.
    pub async fn activate(&self, agent_id: [u8; 32]) -> Result<TxReceipt, EthRegistryError> {
        Ok(self
            .transact(self.registry.activateAgent(B256::from(agent_id)))
            .await?
            .0)
    }

    /// Adds `key` to the record.
    ///
    /// # Errors
    /// As [`Self::commit`]; reverts include `InvalidProof`, `InvalidKeyData`,
    /// `KeyAlreadyRegistered`, `KemKeyAlreadySet`, `AgentIsDeactivated`.
    pub async fn add_key(
        &self,
        agent_id: [u8; 32],
        key: &NewKey,
    ) -> Result<TxReceipt, EthRegistryError> {
        let call = self.registry.addKey(
            B256::from(agent_id),
            Bytes::copy_from_slice(&key.key_data),
            key.key_type.registry_integer(),
            Bytes::copy_from_slice(&key.proof),
        );
        Ok(self.transact(call).await?.0)
    }

    /// Revokes the key `key_hash` (see [`crate::key_hash`]); the entry stays,
    /// unverified.
    ///
    /// # Errors
    /// As [`Self::commit`]; reverts include `LastSigningKey`, `KeyNotFound`,
    /// `KeyAlreadyRevoked`.
    pub async fn revoke_key(
        &self,
        agent_id: [u8; 32],
        key_hash: [u8; 32],
    ) -> Result<TxReceipt, EthRegistryError> {
        let call = self
            .registry
            .revokeKey(B256::from(agent_id), B256::from(key_hash));
        Ok(self.transact(call).await?.0)
    }

    /// Replaces the record's X25519 KEM key (the previous entry is revoked).
    ///
    /// # Errors
    /// As [`Self::add_key`].
    pub async fn update_kem_key(
        &self,
        agent_id: [u8; 32],
        kem_key: [u8; 32],
    ) -> Result<TxReceipt, EthRegistryError> {
        let call = self.registry.updateKMEKey(
            B256::from(agent_id),
            Bytes::copy_from_slice(&kem_key),
            Bytes::new(),
        );
        Ok(self.transact(call).await?.0)
    }

    /// Sets the record's endpoint and capabilities.
    ///
    /// # Errors
    /// As [`Self::commit`].
    pub async fn update_agent(
        &self,
        agent_id: [u8; 32],
        endpoint: &str,
        capabilities: &str,
    ) -> Result<TxReceipt, EthRegistryError> {
        let call = self.registry.updateAgent(
            B256::from(agent_id),
            endpoint.to_owned(),
            capabilities.to_owned(),
        );
        Ok(self.transact(call).await?.0)
    }

    /// Sets the endpoint of the record of `did` (the ERC-8004 call).
    ///
    /// # Errors
    /// As [`Self::commit`].
    pub async fn update_endpoint(
        &self,
        did: &str,
        endpoint: &str,
    ) -> Result<TxReceipt, EthRegistryError> {
        let call = self
            .registry
            .updateAgentEndpoint(did.to_owned(), endpoint.to_owned());
        Ok(self.transact(call).await?.0)
    }

    /// Deactivates the record, for good.
    ///
    /// # Errors
    /// As [`Self::commit`]; reverts include `AgentIsDeactivated`, `NotAgentOwner`.
    pub async fn deactivate(&self, agent_id: [u8; 32]) -> Result<TxReceipt, EthRegistryError> {
        Ok(self
            .transact(self.registry.deactivateAgentByHash(B256::from(agent_id)))
            .await?
            .0)
    }

    /// Pays the sender its released stakes (extension of this registry).
    ///
    /// # Errors
    /// As [`Self::commit`]; `NothingToWithdraw`.
    pub async fn withdraw_stake(&self) -> Result<TxReceipt, EthRegistryError> {
        Ok(self.transact(self.registry.withdrawStake()).await?.0)
    }

    /// Sets the activation delay for records registered from now on
    /// (registry owner only).
    ///
    /// # Errors
    /// As [`Self::commit`]; `NotRegistryOwner`.
    pub async fn set_activation_delay(&self, seconds: u64) -> Result<TxReceipt, EthRegistryError> {
        Ok(self
            .transact(self.registry.setActivationDelay(U256::from(seconds)))
            .await?
            .0)
    }

    /// The stake `commitRegistration` requires, in wei.
    ///
    /// # Errors
    /// [`EthRegistryError::Unreachable`], [`EthRegistryError::Malformed`].
    pub async fn registration_stake(&self) -> Result<u128, EthRegistryError> {
        let stake = self
            .registry
            .registrationStake()
            .call()
            .await
            .map_err(revert::from_contract)?;
        to_u128(stake, "registrationStake")
    }

    /// The activation delay, in seconds.
    ///
    /// # Errors
    /// [`EthRegistryError::Unreachable`], [`EthRegistryError::Malformed`].
    pub async fn activation_delay(&self) -> Result<u64, EthRegistryError> {
        let delay = self
            .registry
            .activationDelay()
            .call()
            .await
            .map_err(revert::from_contract)?;
        to_u64(delay, "activationDelay")
    }
}
