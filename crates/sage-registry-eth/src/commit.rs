//! Offline computations the registry also performs: the §8.3 commitment,
//! key hashes and our registry's agent ids.
//!
//! Layer: registry I/O, pure (no network). PROTOCOL.md §8.3:
//! `commitHash = keccak256(abi.encode(did, keys[], owner, salt, chainId))`
//! with `did: string`, `keys: bytes[]`, `owner: address`, `salt: bytes32`,
//! `chainId: uint256` — Solidity's `abi.encode` of those five values, i.e.
//! the ABI encoding of their parameter list.

use alloy::primitives::{Address, B256, Bytes, U256, keccak256};
use alloy::sol_types::SolValue;

/// The earliest reveal, in seconds after the commit (§8.3; the deployed
/// registry uses the same constant).
pub const COMMIT_MIN_DELAY_SECS: u64 = 60;

/// The latest reveal, in seconds after the commit (§8.3).
pub const COMMIT_MAX_DELAY_SECS: u64 = 3600;

/// The §8.3 commitment of `owner` to register `did` with `keys` (raw key
/// bytes, in registration order) on chain `chain_id`.
pub fn commit_hash<K: AsRef<[u8]>>(
    did: &str,
    keys: &[K],
    owner: [u8; 20],
    salt: [u8; 32],
    chain_id: u64,
) -> [u8; 32] {
    let keys: Vec<Bytes> = keys
        .iter()
        .map(|k| Bytes::copy_from_slice(k.as_ref()))
        .collect();
    let encoded = (
        did.to_owned(),
        keys,
        Address::from(owner),
        B256::from(salt),
        U256::from(chain_id),
    )
        .abi_encode_params();
    keccak256(encoded).0
}

/// `keccak256(key_data)`: the handle of a key on chain (`getKey`, `revokeKey`).
pub fn key_hash(key_data: &[u8]) -> [u8; 32] {
    keccak256(key_data).0
}

/// The id **our** registry assigns to `did`: `keccak256(bytes(did))`. A
/// registry deployed by others derives ids differently; read them with
/// [`crate::EthRegistryClient::agent_id_of`] there.
pub fn agent_id_for_did(did: &str) -> [u8; 32] {
    keccak256(did.as_bytes()).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha3::{Digest, Keccak256};

    /// Solidity's `abi.encode(string, bytes[], address, bytes32, uint256)`
    /// written out word by word, independently of alloy's encoder.
    fn reference_encoding(
        did: &str,
        keys: &[&[u8]],
        owner: [u8; 20],
        salt: [u8; 32],
        chain_id: u64,
    ) -> Vec<u8> {
        fn word_u64(v: u64) -> [u8; 32] {
            let mut w = [0u8; 32];
            w[24..].copy_from_slice(&v.to_be_bytes());
            w
        }
        fn padded(data: &[u8]) -> Vec<u8> {
            let mut out = word_u64(data.len() as u64).to_vec();
            out.extend_from_slice(data);
            out.resize(32 + data.len().div_ceil(32) * 32, 0);
            out
        }
        let did_tail = padded(did.as_bytes());
        let mut keys_tail = word_u64(keys.len() as u64).to_vec();
        let mut element_offset = 32 * keys.len() as u64;
        let mut elements = Vec::new();
        for key in keys {
            keys_tail.extend_from_slice(&word_u64(element_offset));
            let e = padded(key);
            element_offset += e.len() as u64;
            elements.extend(e);
        }
        keys_tail.extend(elements);

        let head_len = 5 * 32;
        let mut out = Vec::new();
        out.extend_from_slice(&word_u64(head_len));
        out.extend_from_slice(&word_u64(head_len + did_tail.len() as u64));
        let mut owner_word = [0u8; 32];
        owner_word[12..].copy_from_slice(&owner);
        out.extend_from_slice(&owner_word);
        out.extend_from_slice(&salt);
        out.extend_from_slice(&word_u64(chain_id));
        out.extend(did_tail);
        out.extend(keys_tail);
        out
    }

    #[test]
    fn commit_hash_is_keccak_of_the_solidity_abi_encoding() {
        let did = "did:sage:ethereum:0x1111111111111111111111111111111111111111";
        let keys: [&[u8]; 2] = [&[0x04; 65], &[0x12; 32]];
        let owner = [0x11; 20];
        let salt = [0x5a; 32];
        let expected: [u8; 32] =
            Keccak256::digest(reference_encoding(did, &keys, owner, salt, 31337)).into();
        assert_eq!(commit_hash(did, &keys, owner, salt, 31337), expected);
    }

    #[test]
    fn commit_hash_binds_every_input() {
        let keys: [&[u8]; 1] = [&[0x04; 65]];
        let base = commit_hash("did:sage:ethereum:0xab", &keys, [1; 20], [2; 32], 1);
        assert_ne!(
            base,
            commit_hash("did:sage:ethereum:0xac", &keys, [1; 20], [2; 32], 1)
        );
        assert_ne!(
            base,
            commit_hash("did:sage:ethereum:0xab", &[[0x04; 64]], [1; 20], [2; 32], 1)
        );
        assert_ne!(
            base,
            commit_hash("did:sage:ethereum:0xab", &keys, [3; 20], [2; 32], 1)
        );
        assert_ne!(
            base,
            commit_hash("did:sage:ethereum:0xab", &keys, [1; 20], [4; 32], 1)
        );
        assert_ne!(
            base,
            commit_hash("did:sage:ethereum:0xab", &keys, [1; 20], [2; 32], 5)
        );
    }

    #[test]
    fn key_hash_and_agent_id_are_keccak256() {
        let expected: [u8; 32] = Keccak256::digest(b"did:sage:ethereum:0xab").into();
        assert_eq!(agent_id_for_did("did:sage:ethereum:0xab"), expected);
        let expected: [u8; 32] = Keccak256::digest([7u8; 32]).into();
        assert_eq!(key_hash(&[7u8; 32]), expected);
    }
}
