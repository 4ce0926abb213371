//! Errors of the primitives layer.

use core::fmt;

/// A key could not be built, imported or used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The name does not denote a supported key type.
    UnknownKeyType,
    /// Public key bytes of the wrong length for the key type.
    PublicKeyLength {
        /// Required length.
        expected: usize,
        /// Length found.
        found: usize,
    },
    /// Public key bytes that are not a valid point (or a compressed
    /// secp256k1/P-256 key where only the uncompressed form is accepted).
    InvalidPublicKey,
    /// Private key bytes of the wrong length or out of range (zero, ≥ n).
    InvalidPrivateKey,
    /// The operation needs a signing key, but this is an X25519 key.
    NotASigningKey,
    /// The operation needs an X25519 key.
    NotAnAgreementKey,
    /// The X25519 output is all zeros (a low-order peer key); §6.2 says reject.
    AllZeroSharedSecret,
    /// A JWK that is malformed, of an unsupported type, or self-contradictory.
    InvalidJwk,
    /// A PEM document that is malformed or of an unsupported type.
    InvalidPem,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownKeyType => {
                f.write_str("unknown key type (expected ed25519, secp256k1, p256 or x25519)")
            }
            Self::PublicKeyLength { expected, found } => {
                write!(f, "public key must be {expected} bytes, found {found}")
            }
            Self::InvalidPublicKey => f.write_str("public key is not a valid point"),
            Self::InvalidPrivateKey => f.write_str("private key is malformed or out of range"),
            Self::NotASigningKey => f.write_str("x25519 keys cannot sign"),
            Self::NotAnAgreementKey => f.write_str("not an x25519 key"),
            Self::AllZeroSharedSecret => f.write_str("x25519 shared secret is all zeros"),
            Self::InvalidJwk => f.write_str("invalid or unsupported JWK"),
            Self::InvalidPem => f.write_str("invalid or unsupported PEM"),
        }
    }
}

impl std::error::Error for KeyError {}

/// A signature did not verify.
///
/// Deliberately opaque about *why* a well-formed signature failed: the
/// only distinction made is whether the bytes could be decoded at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SignatureError {
    /// The signature bytes have a length or encoding this key type does not accept.
    Malformed,
    /// The signature does not verify under the key.
    Invalid,
}

impl fmt::Display for SignatureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("malformed signature encoding"),
            Self::Invalid => f.write_str("signature verification failed"),
        }
    }
}

impl std::error::Error for SignatureError {}
