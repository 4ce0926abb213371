//! Key types, their registry integers and their RFC 9421 algorithm names
//! (PROTOCOL.md §3.1, §3.3).

use core::fmt;
use core::str::FromStr;

use super::error::KeyError;

/// A key type SAGE knows. RSA (legacy, discouraged, no vectors) is not
/// supported: §3.2 says it SHOULD NOT be used and 0.10.0 removes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyType {
    /// Ed25519 (RFC 8032), 32-byte keys, 64-byte signatures.
    Ed25519,
    /// secp256k1 with the Ethereum (Keccak-256) convention.
    Secp256k1,
    /// NIST P-256 with SHA-256.
    P256,
    /// X25519, key agreement only (HPKE KEM key, ephemeral DH).
    X25519,
}

impl KeyType {
    /// All key types, for help texts and tests.
    pub const ALL: [KeyType; 4] = [Self::Ed25519, Self::Secp256k1, Self::P256, Self::X25519];

    /// The short name used by the CLI and key files (`ed25519`, `secp256k1`, `p256`, `x25519`).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Ed25519 => "ed25519",
            Self::Secp256k1 => "secp256k1",
            Self::P256 => "p256",
            Self::X25519 => "x25519",
        }
    }

    /// True for the types that sign.
    pub const fn can_sign(self) -> bool {
        !matches!(self, Self::X25519)
    }

    /// Length of the raw public key (§3.1): 32, 65 (uncompressed SEC1), 65, 32.
    pub const fn public_key_len(self) -> usize {
        match self {
            Self::Ed25519 | Self::X25519 => 32,
            Self::Secp256k1 | Self::P256 => 65,
        }
    }

    /// The RFC 9421 `alg` name (§3.3); `None` for X25519, which never signs.
    pub const fn rfc9421_alg(self) -> Option<&'static str> {
        match self {
            Self::Ed25519 => Some("ed25519"),
            Self::Secp256k1 => Some("es256k"),
            Self::P256 => Some("ecdsa-p256-sha256"),
            Self::X25519 => None,
        }
    }

    /// The key type an RFC 9421 `alg` name implies.
    pub fn from_rfc9421_alg(alg: &str) -> Option<Self> {
        match alg {
            "ed25519" => Some(Self::Ed25519),
            "es256k" => Some(Self::Secp256k1),
            "ecdsa-p256-sha256" => Some(Self::P256),
            _ => None,
        }
    }

    /// The registry integer of §3.1 (0 = ECDSA/secp256k1, 1 = Ed25519,
    /// 2 = X25519); P-256 has none.
    pub const fn registry_code(self) -> Option<u8> {
        match self {
            Self::Secp256k1 => Some(0),
            Self::Ed25519 => Some(1),
            Self::X25519 => Some(2),
            Self::P256 => None,
        }
    }

    /// The key type of a registry integer.
    pub const fn from_registry_code(code: u8) -> Option<Self> {
        match code {
            0 => Some(Self::Secp256k1),
            1 => Some(Self::Ed25519),
            2 => Some(Self::X25519),
            _ => None,
        }
    }
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for KeyType {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "ed25519" => Ok(Self::Ed25519),
            "secp256k1" | "es256k" => Ok(Self::Secp256k1),
            "p256" | "p-256" | "ecdsa-p256-sha256" => Ok(Self::P256),
            "x25519" => Ok(Self::X25519),
            _ => Err(KeyError::UnknownKeyType),
        }
    }
}
