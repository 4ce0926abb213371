//! The controller's endorsement of an X25519 KEM key, in the \[L\]
//! `SAGE-PoP:` form (PROTOCOL.md §9.4 adapted to §8.5).
//!
//! Layer: registry model, no I/O. An X25519 key cannot sign, so it cannot
//! prove possession. §9.4 has an accepted *signing* key of the same record
//! sign the KEM key's challenge instead, naming itself as the signer; that
//! is an endorsement by the controller, not a proof that the private key is
//! held (the handshake confirms possession later). \[L\] has no such
//! proof, so this implementation reuses the §8.5 challenge unchanged, built
//! over the X25519 key's bytes:
//!
//! ```text
//! challenge   = "SAGE-PoP:" ‖ DID ‖ ":" ‖ hex(x25519_key)
//! endorsement = Sign(signer_priv, SHA-256(challenge))   (the §8.5 PoP signing)
//! ```
//!
//! and the record stores which signing key endorsed it (`endorsed_by`).
//! The registry and the resolver recheck it with that key, even after the
//! key was revoked (§9.4: historical signer).
//!
//! Why this is unambiguous: a signing key's own PoP is the same signature
//! over the challenge of *its own* bytes, so an endorsement and a PoP
//! coincide only if the X25519 key's bytes equal the signing key's. The
//! registry never admits the same bytes twice in one record (keys are never
//! reused, §9.1), so that case cannot arise.

use sage_core::did::{Did, PopError, pop_challenge};
use sage_core::primitives::{SigningKey, VerifyingKey, X25519PublicKey, sha256};
use sage_core::version::Labels;

/// The endorsement of `kem` for `did` by `signer`.
pub fn endorse_kem_key(
    labels: &Labels,
    did: &Did,
    kem: &X25519PublicKey,
    signer: &SigningKey,
) -> Vec<u8> {
    signer.sign_prehashed_sha256_pop(&digest(labels, did, kem.as_bytes()))
}

/// Checks an endorsement of the X25519 key bytes `kem` for `did` by
/// `signer`.
///
/// # Errors
/// [`PopError::Bad`] when it does not verify.
pub fn verify_kem_endorsement(
    labels: &Labels,
    did: &Did,
    kem: &[u8],
    signer: &VerifyingKey,
    endorsement: &[u8],
) -> Result<(), PopError> {
    signer
        .verify_prehashed_sha256_pop(&digest(labels, did, kem), endorsement)
        .map_err(|_| PopError::Bad)
}

fn digest(labels: &Labels, did: &Did, kem: &[u8]) -> [u8; 32] {
    sha256(pop_challenge(labels, did, kem).as_bytes())
}
