//! Random identifiers of the handshake: message ids, init nonces and
//! session key ids are RFC 9562 version-4 UUIDs (§6.5: "UUID", `kid-<uuid>`).

use rand_core::CryptoRng;

use crate::encoding::hex_encode;

/// A random UUID (version 4, RFC 9562 variant) in lower-case hyphenated
/// form, from `rng`: what the \[L\] profile uses for message ids, nonces
/// and `kid`s.
pub fn uuid_v4<R: CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut bytes = [0u8; 16];
    rng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex_encode(&bytes);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}
