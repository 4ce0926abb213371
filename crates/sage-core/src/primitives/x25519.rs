//! X25519 key agreement (PROTOCOL.md §3.1, §6.2).
//!
//! Invariant: [`X25519Secret::diffie_hellman`] never returns an all-zero
//! output (a low-order peer key); the caller gets an error instead.

use core::fmt;

use rand_core::CryptoRng;
use subtle::ConstantTimeEq as _;
use zeroize::Zeroizing;

use super::error::KeyError;
use super::keyid::key_id;

/// An X25519 private key (static or ephemeral). Zeroized on drop.
pub struct X25519Secret(x25519_dalek::StaticSecret);

/// An X25519 public key: 32 bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct X25519PublicKey([u8; 32]);

impl X25519Secret {
    /// A fresh random key.
    pub fn generate<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        Self(x25519_dalek::StaticSecret::random_from_rng(rng))
    }

    /// A key from its 32 bytes, as given: X25519 clamps them itself (§3.5).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        let bytes = Zeroizing::new(bytes);
        Self(x25519_dalek::StaticSecret::from(*bytes))
    }

    /// The 32 secret bytes, unclamped, in a zeroizing buffer.
    pub fn to_bytes(&self) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(self.0.to_bytes())
    }

    /// The public key.
    pub fn public_key(&self) -> X25519PublicKey {
        X25519PublicKey(x25519_dalek::PublicKey::from(&self.0).to_bytes())
    }

    /// `X25519(self, peer)`.
    ///
    /// # Errors
    /// [`KeyError::AllZeroSharedSecret`] when the output is all zeros
    /// (checked in constant time), which §6.2 requires rejecting.
    pub fn diffie_hellman(&self, peer: &X25519PublicKey) -> Result<Zeroizing<[u8; 32]>, KeyError> {
        let shared = self
            .0
            .diffie_hellman(&x25519_dalek::PublicKey::from(peer.0));
        let out = Zeroizing::new(shared.to_bytes());
        if bool::from(out.ct_eq(&[0u8; 32])) {
            return Err(KeyError::AllZeroSharedSecret);
        }
        Ok(out)
    }
}

impl fmt::Debug for X25519Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("X25519Secret")
            .field("public_key_id", &key_id(self.public_key().as_bytes()))
            .finish_non_exhaustive()
    }
}

impl X25519PublicKey {
    /// A public key from exactly 32 bytes.
    ///
    /// # Errors
    /// [`KeyError::PublicKeyLength`] for any other length.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, KeyError> {
        bytes
            .try_into()
            .map(Self)
            .map_err(|_| KeyError::PublicKeyLength {
                expected: 32,
                found: bytes.len(),
            })
    }

    /// A public key from its 32 bytes.
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub const fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// The 32 bytes, borrowed.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for X25519PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "X25519PublicKey({})",
            crate::encoding::hex_encode(&self.0)
        )
    }
}
