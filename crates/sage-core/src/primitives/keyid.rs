//! Key identifiers and Ethereum addresses (PROTOCOL.md §3.4).

use super::hash::{keccak256, sha256};
use crate::encoding::hex_encode;

/// `hex(SHA-256(pub)[0..8])`: 16 lower-case hex characters over the raw
/// public key bytes of §3.1 (for secp256k1 the 65-byte uncompressed form).
/// For selecting keys and for logs; never a security binding.
pub fn key_id(public_key: &[u8]) -> String {
    hex_encode(&sha256(public_key)[..8])
}

/// Lower-case `0x` address of an uncompressed secp256k1 key:
/// `Keccak-256(X ‖ Y)[12..32]`. Returns `None` unless the input is 65 bytes
/// starting with `0x04`. Lower case is what `did:sage:ethereum` and the
/// vectors use (§3.4); EIP-55 case is for display only.
pub fn ethereum_address(uncompressed: &[u8]) -> Option<String> {
    match uncompressed {
        [0x04, xy @ ..] if xy.len() == 64 => {
            Some(format!("0x{}", hex_encode(&keccak256(xy)[12..])))
        }
        _ => None,
    }
}
