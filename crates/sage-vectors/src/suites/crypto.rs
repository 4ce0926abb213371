//! `crypto` vectors: the signature conventions and key identifiers of
//! PROTOCOL.md §3.2–§3.5.
//!
//! A signing vector names its key by a label (`seed_label` for Ed25519,
//! `scalar_label` for secp256k1 and P-256) and signs `input.message`. The
//! key material members (`seed`, `private_scalar`, public keys, key id,
//! Ethereum address) are always recomputed; the signature is recomputed in
//! `deterministic` mode and verified in `verify` mode (the Go P-256 signer
//! is randomised).

use serde_json::Value;

use sage_core::primitives::{
    KeyType, SignatureEncoding, SigningKey, VerifyingKey, derive_seed_from_label,
    key_id as key_id_of,
};

use crate::check::{Expected, Produced, Vector, core, ensure};
use crate::outcome::{Mismatch, Mode};

/// `crypto/ed25519-sign`: pure Ed25519 over the message (§3.2).
pub(super) fn ed25519_sign(v: &Vector<'_>) -> Result<(), Mismatch> {
    signature_vector(v, KeyType::Ed25519, "seed_label")
}

/// `crypto/secp256k1-keccak-sign`: Keccak-256, RFC 6979, 65-byte `r‖s‖v` (§3.2).
pub(super) fn secp256k1_keccak_sign(v: &Vector<'_>) -> Result<(), Mismatch> {
    signature_vector(v, KeyType::Secp256k1, "scalar_label")
}

/// `crypto/p256-sha256-sign`: SHA-256, raw low-S `r‖s` (§3.2).
pub(super) fn p256_sha256_sign(v: &Vector<'_>) -> Result<(), Mismatch> {
    signature_vector(v, KeyType::P256, "scalar_label")
}

/// `crypto/key-id`: `hex(SHA-256(public_key)[0..8])` (§3.4). Nothing in it
/// is random, so both modes recompute.
pub(super) fn key_id(v: &Vector<'_>) -> Result<(), Mismatch> {
    let public_key = v.input.hex("public_key")?;
    Expected::new()
        .must("key_id", Produced::text(key_id_of(&public_key)))
        .compare(&v.output)
}

fn signature_vector(v: &Vector<'_>, key_type: KeyType, label_member: &str) -> Result<(), Mismatch> {
    let label = v.input.str(label_member)?;
    let message = v.input.hex("message")?;
    let key = SigningKey::from_label(key_type, label)
        .map_err(core(format!("key from input.{label_member}")))?;
    let public = key.verifying_key();

    let mut expected = Expected::new();
    expected
        .may("public_key", Produced::bytes(public.to_bytes()))
        .may("key_id", Produced::text(public.key_id()));
    match key_type {
        KeyType::Ed25519 => {
            expected.may("seed", Produced::bytes(*derive_seed_from_label(label)));
        }
        _ => {
            expected.may("private_scalar", Produced::bytes(*key.to_bytes()));
        }
    }
    if let Some(compressed) = public.to_compressed() {
        expected.may("public_key_compressed", Produced::bytes(compressed));
    }
    if let Some(address) = public.ethereum_address() {
        expected.may("ethereum_address", Produced::text(address));
    }

    match v.mode {
        Mode::Deterministic => {
            let signature = key.sign(&message);
            if let (KeyType::Secp256k1, [rs @ .., recovery_id]) = (key_type, signature.as_slice()) {
                expected
                    .may("signature_rs", Produced::bytes(rs))
                    .may("recovery_id", Produced::Json(Value::from(*recovery_id)));
            }
            expected.must("signature", Produced::Bytes(signature));
        }
        Mode::Verify => {
            verify_stored_signature(v, &public, &message)?;
            expected.verified("signature");
            if key_type == KeyType::Secp256k1 {
                verify_secp256k1_extras(v, &public, &message)?;
                expected.verified("signature_rs").verified("recovery_id");
            }
        }
    }
    expected.compare(&v.output)
}

/// The stored `signature` verifies under the key. P-256 must also be the
/// raw 64-byte form with a low S (§3.2: "the signer normalises to low-S").
fn verify_stored_signature(
    v: &Vector<'_>,
    public: &VerifyingKey,
    message: &[u8],
) -> Result<(), Mismatch> {
    let signature = v.output.hex("signature")?;
    let encoding = match public.key_type() {
        KeyType::P256 => SignatureEncoding::Raw,
        _ => SignatureEncoding::Any,
    };
    public
        .verify_with(message, &signature, encoding)
        .map_err(core("output.signature verifies"))?;
    if public.key_type() == KeyType::P256 {
        let sig = p256::ecdsa::Signature::from_slice(&signature).map_err(|_| {
            v.output
                .invalid("signature", "not a raw P-256 r||s signature")
        })?;
        ensure(sig.normalize_s() == sig, "output.signature has a low S")?;
    }
    Ok(())
}

/// secp256k1 in verify mode: the 64-byte `signature_rs` verifies too, and
/// `ecrecover` with the stored recovery id gives back the key.
fn verify_secp256k1_extras(
    v: &Vector<'_>,
    public: &VerifyingKey,
    message: &[u8],
) -> Result<(), Mismatch> {
    let signature = v.output.hex("signature")?;
    let recovered = VerifyingKey::recover_secp256k1(message, &signature)
        .map_err(core("output.signature recovers a key"))?;
    ensure(
        &recovered == public,
        "output.signature recovers the input key",
    )?;
    if v.output.has("signature_rs") {
        let rs = v.output.hex("signature_rs")?;
        public
            .verify(message, &rs)
            .map_err(core("output.signature_rs verifies"))?;
    }
    if v.output.has("recovery_id") {
        let stored = v.output.u64("recovery_id")?;
        ensure(
            signature.last().map(|b| u64::from(*b)) == Some(stored),
            "output.recovery_id is the last byte of output.signature",
        )?;
    }
    Ok(())
}
