//! The plain values that cross this crate's boundary: requests for the
//! lifecycle calls, records as read from the chain, receipts.
//!
//! Layer: registry I/O. No alloy type appears here: addresses are `[u8; 20]`,
//! hashes and agent ids `[u8; 32]`, times Unix seconds. PROTOCOL.md §8.2
//! describes the record; the key type integers are those of §3.1.

/// The registry integers of §3.1, as this crate writes them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RegistryKeyType {
    /// 0: secp256k1 ("ECDSA"), 65-byte uncompressed SEC1 key, PoP checked on chain.
    Secp256k1,
    /// 1: Ed25519, 32-byte key; the chain checks only lengths.
    Ed25519,
    /// 2: X25519, 32-byte key agreement key; no proof.
    X25519,
}

impl RegistryKeyType {
    /// The integer stored on chain.
    pub fn registry_integer(self) -> u8 {
        match self {
            Self::Secp256k1 => 0,
            Self::Ed25519 => 1,
            Self::X25519 => 2,
        }
    }

    /// The type for a stored integer, `None` for an integer §3.1 does not define.
    pub fn from_registry_integer(value: u8) -> Option<Self> {
        match value {
            0 => Some(Self::Secp256k1),
            1 => Some(Self::Ed25519),
            2 => Some(Self::X25519),
            _ => None,
        }
    }
}

/// A key to register or add: its raw bytes (§3.1) and its SAGE-PoP (§8.5;
/// empty for X25519).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewKey {
    /// The key type.
    pub key_type: RegistryKeyType,
    /// Raw public key bytes.
    pub key_data: Vec<u8>,
    /// The proof of possession for the record's DID.
    pub proof: Vec<u8>,
}

/// Everything the §8.3 commit and reveal need. The same value goes to
/// [`crate::EthRegistryClient::commit`] and then to
/// [`crate::EthRegistryClient::register`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationRequest {
    /// The DID; our registry requires `did:sage:ethereum:0x<sender address>[:n]`.
    pub did: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Endpoint URL.
    pub endpoint: String,
    /// Capabilities, as JSON text.
    pub capabilities: String,
    /// The keys, at least one signing key.
    pub keys: Vec<NewKey>,
    /// 32 random bytes that hide the commitment until the reveal.
    pub salt: [u8; 32],
}

/// A key entry as stored on chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChainKey {
    /// `keccak256(key_data)`, the key's handle on chain.
    pub key_hash: [u8; 32],
    /// The stored key type integer (§3.1); see [`OnChainKey::kind`].
    pub key_type: u8,
    /// Raw public key bytes.
    pub key_data: Vec<u8>,
    /// The stored proof of possession.
    pub signature: Vec<u8>,
    /// Set by the registry when it accepted the key; cleared by revocation.
    pub verified: bool,
    /// When the key was added (Unix seconds).
    pub created_at: u64,
}

impl OnChainKey {
    /// The key type, `None` if the stored integer is not one of §3.1.
    pub fn kind(&self) -> Option<RegistryKeyType> {
        RegistryKeyType::from_registry_integer(self.key_type)
    }
}

/// A block the client read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BlockRef {
    /// Block number.
    pub number: u64,
    /// Block hash.
    pub hash: [u8; 32],
}

/// A registry record (§8.2) as read at one block.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnChainAgent {
    /// The registry's id for the record.
    pub agent_id: [u8; 32],
    /// The DID.
    pub did: String,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Endpoint URL.
    pub endpoint: String,
    /// Capabilities as stored (JSON text by convention; not parsed here).
    pub capabilities: String,
    /// Every key entry the registry lists for the record, in its order. Our
    /// registry keeps revoked entries (`verified = false`); the deployed one
    /// drops them from the list.
    pub keys: Vec<OnChainKey>,
    /// The owning account.
    pub owner: [u8; 20],
    /// Whether the record is active; inactive records must not be trusted.
    pub is_active: bool,
    /// The 32-byte X25519 KEM key, if the record has one.
    pub public_kem_key: Option<[u8; 32]>,
    /// The chain id the registry reports for the record.
    pub chain_id: u64,
    /// Registration time (Unix seconds).
    pub created_at: u64,
    /// Last change (Unix seconds).
    pub updated_at: u64,
    /// The block every call of this read was pinned to.
    pub observed_at: BlockRef,
}

/// What a mined transaction cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TxReceipt {
    /// Transaction hash.
    pub tx_hash: [u8; 32],
    /// The block that includes it.
    pub block_number: u64,
    /// Gas used by the transaction.
    pub gas_used: u64,
    /// The gas limit it was sent with: the estimate plus headroom.
    pub gas_limit: u64,
}

/// A recorded commitment (§8.3 step 1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Committed {
    /// The commitment sent.
    pub commit_hash: [u8; 32],
    /// The stake sent with it, in wei.
    pub stake_wei: u128,
    /// The transaction.
    pub receipt: TxReceipt,
}

/// A registered (not yet active) record (§8.3 step 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Registered {
    /// The id the registry assigned, from its `AgentRegistered` event.
    pub agent_id: [u8; 32],
    /// The transaction.
    pub receipt: TxReceipt,
}

/// A freshly deployed registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Deployment {
    /// The contract address.
    pub address: [u8; 20],
    /// The deployment transaction.
    pub receipt: TxReceipt,
}

/// The commitment an account holds, as `registrationCommitments` reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommitmentState {
    /// The committed hash (zero if none).
    pub commit_hash: [u8; 32],
    /// When it was recorded (Unix seconds, zero if none).
    pub committed_at: u64,
    /// Whether it has been revealed.
    pub revealed: bool,
}

/// A record's lifecycle state (this implementation's `agentState` extension).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AgentState {
    /// No record.
    None,
    /// Registered, waiting for activation.
    Registered,
    /// Active.
    Active,
    /// Deactivated; terminal.
    Deactivated,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_integers_round_trip_and_unknown_ones_are_none() {
        for t in [
            RegistryKeyType::Secp256k1,
            RegistryKeyType::Ed25519,
            RegistryKeyType::X25519,
        ] {
            assert_eq!(
                RegistryKeyType::from_registry_integer(t.registry_integer()),
                Some(t)
            );
        }
        assert_eq!(RegistryKeyType::Secp256k1.registry_integer(), 0);
        assert_eq!(RegistryKeyType::Ed25519.registry_integer(), 1);
        assert_eq!(RegistryKeyType::X25519.registry_integer(), 2);
        assert_eq!(RegistryKeyType::from_registry_integer(3), None);
    }
}
