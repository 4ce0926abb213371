//! SAGE's Ethereum registry backend: the `AgentCardRegistry` contract in
//! `contracts/` (our clean-room Solidity), deployed and driven with alloy
//! (PROTOCOL.md §8.2–§8.5).
//!
//! Layer: registry I/O. This crate sends transactions and `eth_call`s to an
//! Ethereum JSON-RPC node over plain HTTP (no TLS backend is built in, so
//! `https://` URLs are refused) and turns the answers into plain structs:
//!
//! - [`EthRegistryClient`] runs the §8.3 lifecycle (commit, reveal, activate),
//!   key addition and revocation, record updates and deactivation, and reads
//!   records ([`OnChainAgent`]) from our contract **or from a registry deployed
//!   by others**: reads use only functions of the deployed interface
//!   (`getAgentByDID`, `getAgent`, `getKey`, `didToAgentId`, …); methods that
//!   need this implementation's extensions say so.
//! - [`commit_hash`] computes the §8.3 commitment offline.
//!
//! What it does not do: it does not verify proofs of possession, select
//! keys (§8.4) or cache anything — sage-core and the resolver do. Every read
//! goes to the node; a node that cannot be reached gives
//! [`EthRegistryError::Unreachable`], never an older answer.
//!
//! Invariants:
//! - alloy types never cross the public API: keys are `[u8; 32]`, addresses
//!   `[u8; 20]`, hashes `[u8; 32]`.
//! - One record read observes one block: every call of [`EthRegistryClient::get_agent_by_did`]
//!   is pinned to the hash of the block it started from ([`BlockRef`]).
//! - The contract artifact (`contracts/out/AgentCardRegistry.json`, ABI and
//!   bytecode) is compiled into this crate; a test checks that it matches a
//!   fresh solc-js compile of the Solidity sources.
#![warn(missing_docs)]

mod bindings;
mod client;
mod commit;
mod error;
mod registry_impl;
mod revert;
#[cfg(feature = "test-support")]
pub mod testing;
mod types;

pub use client::{ClientOptions, EthRegistryClient, Sender};
pub use commit::{
    COMMIT_MAX_DELAY_SECS, COMMIT_MIN_DELAY_SECS, agent_id_for_did, commit_hash, key_hash,
};
pub use error::{EthRegistryError, TransportFailure};
pub use registry_impl::{BACKEND, EthRegistry, EthRegistryOptions, PendingRegistration};
pub use types::{
    AgentState, BlockRef, CommitmentState, Committed, Deployment, NewKey, OnChainAgent, OnChainKey,
    Registered, RegistrationRequest, RegistryKeyType, TxReceipt,
};

/// The compiled contract as committed: `{ abi, bytecode, deployedBytecode, … }`
/// (JSON written by `contracts/build.js`).
pub const CONTRACT_ARTIFACT_JSON: &str =
    include_str!("../../../contracts/out/AgentCardRegistry.json");
