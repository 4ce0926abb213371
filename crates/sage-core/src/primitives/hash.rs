//! The two hash functions of the \[L\] profile.

use sha2::Digest as _;

/// SHA-256.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha2::Sha256::digest(data).into()
}

/// Keccak-256 with the original Keccak padding, as Ethereum uses it (not SHA3-256).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    sha3::Keccak256::digest(data).into()
}
