//! Deterministic keys from labels, as the golden vectors make them
//! (PROTOCOL.md §3.5). For tests, vectors and reproducible fixtures only:
//! a key derived from a public label is public.

use zeroize::Zeroizing;

use super::hash::sha256;

/// `SHA-256(UTF8(label))`: the seed of every vector key. Ed25519 uses it as
/// the RFC 8032 seed, secp256k1 as the big-endian scalar, X25519 as the
/// (unclamped) scalar; P-256 reduces it mod n ([`p256_scalar_from_seed`]).
pub fn derive_seed_from_label(label: &str) -> Zeroizing<[u8; 32]> {
    Zeroizing::new(sha256(label.as_bytes()))
}

/// The order n of NIST P-256, big-endian.
const P256_ORDER: [u8; 32] = [
    0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
];

/// Reduces a 32-byte big-endian integer mod the P-256 order. Since
/// 2^256 < 2n, one conditional subtraction is enough.
pub fn p256_scalar_from_seed(seed: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    let mut out = Zeroizing::new(*seed);
    if seed.as_slice() >= P256_ORDER.as_slice() {
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(seed[i]) - i16::from(P256_ORDER[i]) - borrow;
            borrow = i16::from(d < 0);
            out[i] = d.rem_euclid(256) as u8;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p256_reduction_subtracts_the_order_once() {
        let mut above = P256_ORDER;
        above[31] += 5;
        let r = p256_scalar_from_seed(&above);
        let mut five = [0u8; 32];
        five[31] = 5;
        assert_eq!(*r, five);
        let below = [0x11u8; 32];
        assert_eq!(*p256_scalar_from_seed(&below), below);
    }
}
