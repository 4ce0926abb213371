//! The node's identity: its DID and its two long-lived secrets.
//!
//! Layer: node. [`NodeIdentity`] is what the protocol endpoints sign and
//! decapsulate with. How it is created, stored (mode 0600, optionally
//! sealed under a passphrase) and registered lives in the submodules.
//!
//! Invariants: the secrets never leave this type except as fresh copies
//! for a sage-core state machine that takes them by value; `Debug` prints
//! the DID and the public keys only.

pub mod bootstrap;
pub mod keystore;

use core::fmt;

use sage_core::did::Did;
use sage_core::primitives::{KeyError, SigningKey, VerifyingKey, X25519PublicKey, X25519Secret};

/// The node's DID, signing key and X25519 KEM key.
pub struct NodeIdentity {
    did: Did,
    signing_key: SigningKey,
    kem_secret: X25519Secret,
}

impl NodeIdentity {
    /// An identity from its parts.
    pub fn new(did: Did, signing_key: SigningKey, kem_secret: X25519Secret) -> Self {
        Self {
            did,
            signing_key,
            kem_secret,
        }
    }

    /// The node's DID.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// The signing key (RFC 9421 responses, ack envelopes, the card).
    pub fn signing_key(&self) -> &SigningKey {
        &self.signing_key
    }

    /// The public half of the signing key.
    pub fn verifying_key(&self) -> VerifyingKey {
        self.signing_key.verifying_key()
    }

    /// The X25519 KEM secret the handshake decapsulates with.
    pub fn kem_secret(&self) -> &X25519Secret {
        &self.kem_secret
    }

    /// The published KEM key.
    pub fn kem_public(&self) -> X25519PublicKey {
        self.kem_secret.public_key()
    }

    /// A fresh copy of the signing key, for a state machine that owns one
    /// (the copy wipes itself on drop, as the original does).
    ///
    /// # Errors
    /// None in practice: the bytes come from a valid key of the same type.
    pub fn signing_key_copy(&self) -> Result<SigningKey, KeyError> {
        SigningKey::from_bytes(
            self.signing_key.key_type(),
            &self.signing_key.to_bytes()[..],
        )
    }

    /// A fresh copy of the KEM secret, for a state machine that owns one.
    pub fn kem_secret_copy(&self) -> X25519Secret {
        X25519Secret::from_bytes(*self.kem_secret.to_bytes())
    }
}

impl fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeIdentity")
            .field("did", &self.did.to_string())
            .field("verifying_key", &self.verifying_key())
            .field("kem_public", &self.kem_public())
            .finish_non_exhaustive()
    }
}
