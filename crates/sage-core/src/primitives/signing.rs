//! Signing keys and the \[L\] signing convention (PROTOCOL.md §3.2).

use core::fmt;

use k256::ecdsa::signature::hazmat::PrehashSigner as _;
use k256::elliptic_curve::Generate as _;
use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::algorithm::KeyType;
use super::derive::{derive_seed_from_label, p256_scalar_from_seed};
use super::error::KeyError;
use super::hash::{keccak256, sha256};
use super::verifying::{PublicKey, VerifyingKey};
use super::x25519::X25519Secret;

/// A private key that signs. Its secret is zeroized on drop (the wrapped
/// dalek and RustCrypto types do so), and `Debug` shows only the key type
/// and key id.
#[non_exhaustive]
pub enum SigningKey {
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
    /// secp256k1 (Ethereum convention).
    Secp256k1(k256::ecdsa::SigningKey),
    /// NIST P-256.
    P256(p256::ecdsa::SigningKey),
}

impl SigningKey {
    /// A fresh random key of `key_type`.
    ///
    /// # Errors
    /// [`KeyError::NotASigningKey`] for X25519.
    pub fn generate<R: CryptoRng + ?Sized>(
        key_type: KeyType,
        rng: &mut R,
    ) -> Result<Self, KeyError> {
        Ok(match key_type {
            KeyType::Ed25519 => Self::Ed25519(ed25519_dalek::SigningKey::generate(rng)),
            KeyType::Secp256k1 => Self::Secp256k1(k256::ecdsa::SigningKey::generate_from_rng(rng)),
            KeyType::P256 => Self::P256(p256::ecdsa::SigningKey::generate_from_rng(rng)),
            KeyType::X25519 => return Err(KeyError::NotASigningKey),
        })
    }

    /// A key from its 32 secret bytes: the RFC 8032 seed for Ed25519, the
    /// big-endian scalar for secp256k1 and P-256.
    ///
    /// # Errors
    /// [`KeyError::InvalidPrivateKey`] for a wrong length or an out-of-range
    /// scalar; [`KeyError::NotASigningKey`] for X25519.
    pub fn from_bytes(key_type: KeyType, secret: &[u8]) -> Result<Self, KeyError> {
        let secret: &[u8; 32] = secret.try_into().map_err(|_| KeyError::InvalidPrivateKey)?;
        Ok(match key_type {
            KeyType::Ed25519 => Self::Ed25519(ed25519_dalek::SigningKey::from_bytes(secret)),
            KeyType::Secp256k1 => Self::Secp256k1(
                k256::ecdsa::SigningKey::from_slice(secret)
                    .map_err(|_| KeyError::InvalidPrivateKey)?,
            ),
            KeyType::P256 => Self::P256(
                p256::ecdsa::SigningKey::from_slice(secret)
                    .map_err(|_| KeyError::InvalidPrivateKey)?,
            ),
            KeyType::X25519 => return Err(KeyError::NotASigningKey),
        })
    }

    /// The key the vectors derive from `label` (§3.5): the seed is
    /// `SHA-256(label)`, reduced mod n for P-256.
    ///
    /// # Errors
    /// As [`SigningKey::from_bytes`] (a secp256k1 seed ≥ n is rejected, as the
    /// vectors' generator does not reduce it).
    pub fn from_label(key_type: KeyType, label: &str) -> Result<Self, KeyError> {
        let seed = derive_seed_from_label(label);
        match key_type {
            KeyType::P256 => Self::from_bytes(key_type, p256_scalar_from_seed(&seed).as_slice()),
            _ => Self::from_bytes(key_type, seed.as_slice()),
        }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match self {
            Self::Ed25519(_) => KeyType::Ed25519,
            Self::Secp256k1(_) => KeyType::Secp256k1,
            Self::P256(_) => KeyType::P256,
        }
    }

    /// The 32 secret bytes (seed or scalar), in a zeroizing buffer.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(match self {
            Self::Ed25519(k) => k.to_bytes(),
            Self::Secp256k1(k) => k.to_bytes().into(),
            Self::P256(k) => k.to_bytes().into(),
        })
    }

    /// The matching public key.
    pub fn verifying_key(&self) -> VerifyingKey {
        match self {
            Self::Ed25519(k) => VerifyingKey::Ed25519(k.verifying_key()),
            Self::Secp256k1(k) => VerifyingKey::Secp256k1(*k.verifying_key()),
            Self::P256(k) => VerifyingKey::P256(*k.verifying_key()),
        }
    }

    /// Signs `message` with the \[L\] convention of the key type (§3.2):
    /// - Ed25519: pure, over the message, 64 bytes;
    /// - secp256k1: ECDSA over Keccak-256(message), RFC 6979 nonce, low-S,
    ///   65 bytes `r‖s‖v` with `v ∈ {0, 1}` (verifies with `ecrecover`);
    /// - P-256: ECDSA over SHA-256(message), RFC 6979 nonce (O-2 recommends
    ///   it; the Go signer is randomised, which verifiers cannot tell
    ///   apart), low-S, 64 bytes `r‖s`.
    pub fn sign(&self, message: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(message).to_bytes().to_vec()
            }
            Self::Secp256k1(k) => sign_secp256k1_prehash(k, &keccak256(message)),
            Self::P256(k) => sign_p256_prehash(k, &sha256(message)),
        }
    }

    /// The \[L\] proof-of-possession signature over a SHA-256 digest (§8.5):
    /// Ed25519 signs the 32 digest bytes as its message; secp256k1 signs the
    /// digest itself with RFC 6979 (the O-1 exception: SHA-256, not Keccak)
    /// as `r‖s‖v`; P-256 (not defined by \[L\]) signs the digest as prehash.
    /// Use only for the PoP challenge digest: this is not a general oracle.
    pub fn sign_prehashed_sha256_pop(&self, digest: &[u8; 32]) -> Vec<u8> {
        match self {
            Self::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(digest).to_bytes().to_vec()
            }
            Self::Secp256k1(k) => sign_secp256k1_prehash(k, digest),
            Self::P256(k) => sign_p256_prehash(k, digest),
        }
    }
}

fn sign_secp256k1_prehash(key: &k256::ecdsa::SigningKey, prehash: &[u8; 32]) -> Vec<u8> {
    // k256 normalises to low-S during signing (NORMALIZE_S) and flips the
    // recovery id to match, which is what §3.2 step 3 asks.
    let (sig, recid) = key.sign_prehash_recoverable(prehash);
    let mut out = sig.to_bytes().to_vec();
    out.push(recid.to_byte() & 1);
    out
}

fn sign_p256_prehash(key: &p256::ecdsa::SigningKey, prehash: &[u8; 32]) -> Vec<u8> {
    // A 32-byte prehash is always accepted for P-256; signing cannot fail.
    let sig: p256::ecdsa::Signature = match key.sign_prehash(prehash) {
        Ok(sig) => sig,
        Err(_) => unreachable!("P-256 accepts every 32-byte prehash"),
    };
    sig.normalize_s().to_bytes().to_vec()
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("type", &self.key_type())
            .field("key_id", &self.verifying_key().key_id())
            .finish_non_exhaustive()
    }
}

/// Any private key SAGE handles: a signing key or an X25519 agreement key.
/// What key files hold.
#[derive(Debug)]
#[non_exhaustive]
pub enum PrivateKey {
    /// A key that signs.
    Signing(SigningKey),
    /// An X25519 key-agreement key.
    X25519(X25519Secret),
}

impl PrivateKey {
    /// A fresh random key of `key_type`.
    pub fn generate<R: CryptoRng + ?Sized>(key_type: KeyType, rng: &mut R) -> Self {
        match key_type {
            KeyType::X25519 => Self::X25519(X25519Secret::generate(rng)),
            // Every other key type signs, so this cannot fail.
            _ => match SigningKey::generate(key_type, rng) {
                Ok(k) => Self::Signing(k),
                Err(_) => unreachable!("non-X25519 key types sign"),
            },
        }
    }

    /// A key from its 32 secret bytes.
    ///
    /// # Errors
    /// [`KeyError::InvalidPrivateKey`] for bad bytes.
    pub fn from_bytes(key_type: KeyType, secret: &[u8]) -> Result<Self, KeyError> {
        match key_type {
            KeyType::X25519 => {
                let s: [u8; 32] = secret.try_into().map_err(|_| KeyError::InvalidPrivateKey)?;
                Ok(Self::X25519(X25519Secret::from_bytes(s)))
            }
            _ => SigningKey::from_bytes(key_type, secret).map(Self::Signing),
        }
    }

    /// The key the vectors derive from `label` (§3.5).
    ///
    /// # Errors
    /// As [`SigningKey::from_label`].
    pub fn from_label(key_type: KeyType, label: &str) -> Result<Self, KeyError> {
        match key_type {
            KeyType::X25519 => Ok(Self::X25519(X25519Secret::from_bytes(
                *derive_seed_from_label(label),
            ))),
            _ => SigningKey::from_label(key_type, label).map(Self::Signing),
        }
    }

    /// The key type.
    pub fn key_type(&self) -> KeyType {
        match self {
            Self::Signing(k) => k.key_type(),
            Self::X25519(_) => KeyType::X25519,
        }
    }

    /// The 32 secret bytes.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        match self {
            Self::Signing(k) => k.to_bytes(),
            Self::X25519(k) => k.to_bytes(),
        }
    }

    /// The matching public key.
    pub fn public_key(&self) -> PublicKey {
        match self {
            Self::Signing(k) => PublicKey::Signing(k.verifying_key()),
            Self::X25519(k) => PublicKey::X25519(k.public_key()),
        }
    }

    /// The signing key, if this is one.
    ///
    /// # Errors
    /// [`KeyError::NotASigningKey`] for X25519.
    pub fn as_signing(&self) -> Result<&SigningKey, KeyError> {
        match self {
            Self::Signing(k) => Ok(k),
            Self::X25519(_) => Err(KeyError::NotASigningKey),
        }
    }
}
