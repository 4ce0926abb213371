//! Public keys and verification (PROTOCOL.md §3.1, §3.2).
//!
//! What each verifier accepts (\[L\]):
//! - Ed25519: 64 bytes; RFC 8032 verification as the Go core does it
//!   (`verify`, not the stricter 0.10.0 rules);
//! - secp256k1: 65 bytes `r‖s‖v` (v ignored for verification, but it must be
//!   0, 1, 27 or 28), 64 bytes `r‖s`, or ASN.1 DER; a high S is normalised
//!   before verifying (§3.2 MUST);
//! - P-256: 64 bytes `r‖s`, and DER unless the caller asks for
//!   [`SignatureEncoding::Raw`] (the RFC 9421 verifier accepts raw only).

use core::fmt;

use k256::ecdsa::signature::hazmat::PrehashVerifier as _;

use super::algorithm::KeyType;
use super::error::{KeyError, SignatureError};
use super::hash::{keccak256, sha256};
use super::keyid::{ethereum_address, key_id};
use super::x25519::X25519PublicKey;

/// Which signature encodings a verifier accepts beyond the canonical one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignatureEncoding {
    /// Every encoding §3.2 allows (the generic verifier).
    #[default]
    Any,
    /// Raw fixed-size forms only: 64 bytes for Ed25519 and P-256; 65 or 64
    /// bytes for secp256k1 (PROTOCOL.md §5.5 step 4 still lets RFC 9421
    /// take DER for secp256k1, so it uses [`SignatureEncoding::Any`] there).
    Raw,
}

/// A public key that verifies signatures.
#[derive(Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VerifyingKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::VerifyingKey),
    /// secp256k1.
    Secp256k1(k256::ecdsa::VerifyingKey),
    /// NIST P-256.
    P256(p256::ecdsa::VerifyingKey),
}

impl VerifyingKey {
    /// A key from its raw bytes (§3.1): 32 bytes for Ed25519, the 65-byte
    /// uncompressed SEC1 form for secp256k1 and P-256.
    ///
    /// # Errors
    /// [`KeyError::PublicKeyLength`], [`KeyError::InvalidPublicKey`], or
    /// [`KeyError::NotASigningKey`] for X25519.
    pub fn from_bytes(key_type: KeyType, bytes: &[u8]) -> Result<Self, KeyError> {
        let expected = key_type.public_key_len();
        if key_type == KeyType::X25519 {
            return Err(KeyError::NotASigningKey);
        }
        if bytes.len() != expected {
            return Err(KeyError::PublicKeyLength {
                expected,
                found: bytes.len(),
            });
        }
        if key_type != KeyType::Ed25519 && bytes.first() != Some(&0x04) {
            return Err(KeyError::InvalidPublicKey);
        }
        Self::from_sec1_or_raw(key_type, bytes)
    }

    /// Like [`VerifyingKey::from_bytes`], but also accepts the 33-byte
    /// compressed SEC1 form for secp256k1 and P-256, for the places where a
    /// chapter allows it.
    ///
    /// # Errors
    /// As [`VerifyingKey::from_bytes`].
    pub fn from_bytes_allow_compressed(key_type: KeyType, bytes: &[u8]) -> Result<Self, KeyError> {
        match (key_type, bytes.len()) {
            (KeyType::Secp256k1 | KeyType::P256, 33) => Self::from_sec1_or_raw(key_type, bytes),
            _ => Self::from_bytes(key_type, bytes),
        }
    }

    fn from_sec1_or_raw(key_type: KeyType, bytes: &[u8]) -> Result<Self, KeyError> {
        let bad = |_| KeyError::InvalidPublicKey;
        Ok(match key_type {
            KeyType::Ed25519 => {
                let raw: &[u8; 32] = bytes.try_into().map_err(|_| KeyError::InvalidPublicKey)?;
                Self::Ed25519(
                    ed25519_dalek::VerifyingKey::from_bytes(raw)
                        .map_err(|_| KeyError::InvalidPublicKey)?,
                )
            }
            KeyType::Secp256k1 => {
                Self::Secp256k1(k256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(bad)?)
            }
            KeyType::P256 => {
                Self::P256(p256::ecdsa::VerifyingKey::from_sec1_bytes(bytes).map_err(bad)?)
            }
            KeyType::X25519 => return Err(KeyError::NotASigningKey),
        })
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match self {
            Self::Ed25519(_) => KeyType::Ed25519,
            Self::Secp256k1(_) => KeyType::Secp256k1,
            Self::P256(_) => KeyType::P256,
        }
    }

    /// The raw bytes of §3.1 (uncompressed SEC1 for the EC keys).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Ed25519(k) => k.to_bytes().to_vec(),
            Self::Secp256k1(k) => k.to_sec1_point(false).as_bytes().to_vec(),
            Self::P256(k) => k.to_sec1_point(false).as_bytes().to_vec(),
        }
    }

    /// The 33-byte compressed SEC1 form of an EC key; `None` for Ed25519.
    pub fn to_compressed(&self) -> Option<Vec<u8>> {
        match self {
            Self::Ed25519(_) => None,
            Self::Secp256k1(k) => Some(k.to_sec1_point(true).as_bytes().to_vec()),
            Self::P256(k) => Some(k.to_sec1_point(true).as_bytes().to_vec()),
        }
    }

    /// [`key_id`] of [`VerifyingKey::to_bytes`].
    pub fn key_id(&self) -> String {
        key_id(&self.to_bytes())
    }

    /// The lower-case Ethereum address of a secp256k1 key; `None` otherwise.
    pub fn ethereum_address(&self) -> Option<String> {
        match self {
            Self::Secp256k1(_) => ethereum_address(&self.to_bytes()),
            _ => None,
        }
    }

    /// Verifies `signature` over `message` with the \[L\] convention of the key
    /// type, accepting every encoding §3.2 allows.
    ///
    /// # Errors
    /// [`SignatureError::Malformed`] for an encoding this key type never
    /// takes; [`SignatureError::Invalid`] when it does not verify.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<(), SignatureError> {
        self.verify_with(message, signature, SignatureEncoding::Any)
    }

    /// [`VerifyingKey::verify`] with an explicit encoding policy.
    ///
    /// # Errors
    /// As [`VerifyingKey::verify`].
    pub fn verify_with(
        &self,
        message: &[u8],
        signature: &[u8],
        encoding: SignatureEncoding,
    ) -> Result<(), SignatureError> {
        match self {
            Self::Ed25519(k) => verify_ed25519(k, message, signature),
            Self::Secp256k1(k) => verify_secp256k1_prehash(k, &keccak256(message), signature),
            Self::P256(k) => verify_p256_prehash(k, &sha256(message), signature, encoding),
        }
    }

    /// Verifies an \[L\] proof-of-possession signature over a SHA-256 digest
    /// (§8.5; the counterpart of
    /// [`super::SigningKey::sign_prehashed_sha256_pop`]). High-S is
    /// normalised as everywhere else in \[L\] (PROTOCOL.md §18.9).
    ///
    /// # Errors
    /// As [`VerifyingKey::verify`].
    pub fn verify_prehashed_sha256_pop(
        &self,
        digest: &[u8; 32],
        signature: &[u8],
    ) -> Result<(), SignatureError> {
        match self {
            Self::Ed25519(k) => verify_ed25519(k, digest, signature),
            Self::Secp256k1(k) => verify_secp256k1_prehash(k, digest, signature),
            Self::P256(k) => verify_p256_prehash(k, digest, signature, SignatureEncoding::Any),
        }
    }

    /// Recovers the secp256k1 key that made a 65-byte `r‖s‖v` signature over
    /// Keccak-256(message), as Ethereum's `ecrecover` does.
    ///
    /// # Errors
    /// [`SignatureError::Malformed`] unless the signature is 65 bytes with
    /// `v ∈ {0, 1, 27, 28}`; [`SignatureError::Invalid`] if no key recovers.
    pub fn recover_secp256k1(message: &[u8], signature: &[u8]) -> Result<Self, SignatureError> {
        let [rs @ .., v] = signature else {
            return Err(SignatureError::Malformed);
        };
        if rs.len() != 64 {
            return Err(SignatureError::Malformed);
        }
        let recid = match v {
            0 | 27 => 0,
            1 | 28 => 1,
            _ => return Err(SignatureError::Malformed),
        };
        let sig = k256::ecdsa::Signature::from_slice(rs).map_err(|_| SignatureError::Malformed)?;
        let recid = k256::ecdsa::RecoveryId::from_byte(recid).ok_or(SignatureError::Malformed)?;
        k256::ecdsa::VerifyingKey::recover_from_prehash(&keccak256(message), &sig, recid)
            .map(Self::Secp256k1)
            .map_err(|_| SignatureError::Invalid)
    }
}

fn verify_ed25519(
    key: &ed25519_dalek::VerifyingKey,
    message: &[u8],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let sig =
        ed25519_dalek::Signature::from_slice(signature).map_err(|_| SignatureError::Malformed)?;
    use ed25519_dalek::Verifier as _;
    key.verify(message, &sig)
        .map_err(|_| SignatureError::Invalid)
}

fn verify_secp256k1_prehash(
    key: &k256::ecdsa::VerifyingKey,
    prehash: &[u8; 32],
    signature: &[u8],
) -> Result<(), SignatureError> {
    let sig = match signature.len() {
        65 => {
            if !matches!(signature[64], 0 | 1 | 27 | 28) {
                return Err(SignatureError::Malformed);
            }
            k256::ecdsa::Signature::from_slice(&signature[..64])
        }
        64 => k256::ecdsa::Signature::from_slice(signature),
        _ => k256::ecdsa::Signature::from_der(signature),
    }
    .map_err(|_| SignatureError::Malformed)?;
    // k256 rejects high-S on verify; §3.2 says normalise first.
    key.verify_prehash(prehash, &sig.normalize_s())
        .map_err(|_| SignatureError::Invalid)
}

fn verify_p256_prehash(
    key: &p256::ecdsa::VerifyingKey,
    prehash: &[u8; 32],
    signature: &[u8],
    encoding: SignatureEncoding,
) -> Result<(), SignatureError> {
    let sig = match (signature.len(), encoding) {
        (64, _) => p256::ecdsa::Signature::from_slice(signature),
        (_, SignatureEncoding::Any) => p256::ecdsa::Signature::from_der(signature),
        (_, SignatureEncoding::Raw) => return Err(SignatureError::Malformed),
    }
    .map_err(|_| SignatureError::Malformed)?;
    key.verify_prehash(prehash, &sig)
        .map_err(|_| SignatureError::Invalid)
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "VerifyingKey({}, {})",
            self.key_type(),
            crate::encoding::hex_encode(&self.to_bytes())
        )
    }
}

/// Any public key: a verifying key or an X25519 agreement key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PublicKey {
    /// A key that verifies signatures.
    Signing(VerifyingKey),
    /// An X25519 agreement key.
    X25519(X25519PublicKey),
}

impl PublicKey {
    /// A public key of `key_type` from its raw bytes (§3.1).
    ///
    /// # Errors
    /// As [`VerifyingKey::from_bytes`] / [`X25519PublicKey::from_slice`].
    pub fn from_bytes(key_type: KeyType, bytes: &[u8]) -> Result<Self, KeyError> {
        match key_type {
            KeyType::X25519 => X25519PublicKey::from_slice(bytes).map(Self::X25519),
            _ => VerifyingKey::from_bytes(key_type, bytes).map(Self::Signing),
        }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match self {
            Self::Signing(k) => k.key_type(),
            Self::X25519(_) => KeyType::X25519,
        }
    }

    /// The raw bytes of §3.1.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Self::Signing(k) => k.to_bytes(),
            Self::X25519(k) => k.to_bytes().to_vec(),
        }
    }

    /// [`key_id`] of the raw bytes.
    pub fn key_id(&self) -> String {
        key_id(&self.to_bytes())
    }

    /// The verifying key, if this is one.
    ///
    /// # Errors
    /// [`KeyError::NotASigningKey`] for X25519.
    pub fn as_verifying(&self) -> Result<&VerifyingKey, KeyError> {
        match self {
            Self::Signing(k) => Ok(k),
            Self::X25519(_) => Err(KeyError::NotASigningKey),
        }
    }
}
