//! Primitives against the `crypto.json` golden vectors, plus the negative
//! cases of §3.2.

use super::*;
use crate::encoding::{hex_decode, hex_encode};

const MESSAGE: &[u8] = b"SAGE test vector message: The quick brown fox jumps over the lazy dog.";

fn vector(name: &str) -> serde_json::Value {
    crate::test_vectors::vector("crypto.json", name)
}

fn out(v: &serde_json::Value, k: &str) -> Vec<u8> {
    hex_decode(v["output"][k].as_str().unwrap()).unwrap()
}

#[test]
fn ed25519_vector_reproduces_seed_key_id_and_signature() {
    let v = vector("ed25519-sign");
    assert_eq!(
        hex_decode(v["input"]["message"].as_str().unwrap()).unwrap(),
        MESSAGE
    );
    let label = v["input"]["seed_label"].as_str().unwrap();
    assert_eq!(derive_seed_from_label(label).as_slice(), out(&v, "seed"));
    let key = SigningKey::from_label(KeyType::Ed25519, label).unwrap();
    let public = key.verifying_key();
    assert_eq!(public.to_bytes(), out(&v, "public_key"));
    assert_eq!(public.key_id(), v["output"]["key_id"]);
    let sig = key.sign(MESSAGE);
    assert_eq!(sig, out(&v, "signature"));
    public.verify(MESSAGE, &sig).unwrap();
}

#[test]
fn secp256k1_vector_reproduces_keys_address_and_recoverable_signature() {
    let v = vector("secp256k1-keccak-sign");
    let label = v["input"]["scalar_label"].as_str().unwrap();
    let key = SigningKey::from_label(KeyType::Secp256k1, label).unwrap();
    assert_eq!(key.to_bytes().as_slice(), out(&v, "private_scalar"));
    let public = key.verifying_key();
    assert_eq!(public.to_bytes(), out(&v, "public_key"));
    assert_eq!(
        public.to_compressed().unwrap(),
        out(&v, "public_key_compressed")
    );
    assert_eq!(
        public.ethereum_address().unwrap(),
        v["output"]["ethereum_address"]
    );
    assert_eq!(public.key_id(), v["output"]["key_id"]);
    let sig = key.sign(MESSAGE);
    assert_eq!(sig, out(&v, "signature"));
    assert_eq!(&sig[..64], out(&v, "signature_rs"));
    assert_eq!(
        u64::from(sig[64]),
        v["output"]["recovery_id"].as_u64().unwrap()
    );
    public.verify(MESSAGE, &sig).unwrap();
    public.verify(MESSAGE, &sig[..64]).unwrap();
    assert_eq!(
        VerifyingKey::recover_secp256k1(MESSAGE, &sig).unwrap(),
        public
    );
}

#[test]
fn p256_vector_key_matches_and_stored_signature_verifies() {
    let v = vector("p256-sha256-sign");
    let label = v["input"]["scalar_label"].as_str().unwrap();
    let key = SigningKey::from_label(KeyType::P256, label).unwrap();
    assert_eq!(key.to_bytes().as_slice(), out(&v, "private_scalar"));
    let public = key.verifying_key();
    assert_eq!(public.to_bytes(), out(&v, "public_key"));
    public.verify(MESSAGE, &out(&v, "signature")).unwrap();
    let own = key.sign(MESSAGE);
    public
        .verify_with(MESSAGE, &own, SignatureEncoding::Raw)
        .unwrap();
}

#[test]
fn key_id_vector() {
    let v = vector("key-id");
    let pk = hex_decode(v["input"]["public_key"].as_str().unwrap()).unwrap();
    assert_eq!(key_id(&pk), v["output"]["key_id"]);
}

/// Builds the high-S twin `(r, n − s)` of a low-S signature.
fn high_s_twin_secp256k1(sig: &[u8]) -> Vec<u8> {
    let s = k256::ecdsa::Signature::from_slice(&sig[..64]).unwrap();
    let (r, s) = (s.r(), s.s());
    let neg = k256::ecdsa::Signature::from_scalars(r.to_bytes(), (-*s).to_bytes()).unwrap();
    let mut out = neg.to_bytes().to_vec();
    out.push(sig[64] ^ 1);
    out
}

#[test]
fn secp256k1_high_s_is_accepted_after_normalisation() {
    let key = SigningKey::from_label(KeyType::Secp256k1, "high-s").unwrap();
    let sig = key.sign(MESSAGE);
    let high = high_s_twin_secp256k1(&sig);
    assert_ne!(high, sig);
    key.verifying_key().verify(MESSAGE, &high).unwrap();
    key.verifying_key().verify(MESSAGE, &high[..64]).unwrap();
}

#[test]
fn secp256k1_der_signature_is_accepted() {
    let key = SigningKey::from_label(KeyType::Secp256k1, "der").unwrap();
    let sig = key.sign(MESSAGE);
    let der = k256::ecdsa::Signature::from_slice(&sig[..64])
        .unwrap()
        .to_der();
    key.verifying_key().verify(MESSAGE, der.as_bytes()).unwrap();
}

#[test]
fn p256_der_is_accepted_generically_but_not_in_raw_mode() {
    let key = SigningKey::from_label(KeyType::P256, "der").unwrap();
    let sig = key.sign(MESSAGE);
    let der = p256::ecdsa::Signature::from_slice(&sig).unwrap().to_der();
    let vk = key.verifying_key();
    vk.verify(MESSAGE, der.as_bytes()).unwrap();
    assert_eq!(
        vk.verify_with(MESSAGE, der.as_bytes(), SignatureEncoding::Raw),
        Err(SignatureError::Malformed)
    );
}

#[test]
fn tampered_messages_and_signatures_are_rejected_for_every_type() {
    for kt in [KeyType::Ed25519, KeyType::Secp256k1, KeyType::P256] {
        let key = SigningKey::from_label(kt, "tamper").unwrap();
        let vk = key.verifying_key();
        let sig = key.sign(MESSAGE);
        assert_eq!(
            vk.verify(b"other message", &sig),
            Err(SignatureError::Invalid),
            "{kt}"
        );
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(vk.verify(MESSAGE, &bad).is_err(), "{kt}");
        assert_eq!(
            vk.verify(MESSAGE, &sig[..sig.len() - 2]),
            Err(SignatureError::Malformed),
            "{kt}"
        );
        assert_eq!(
            vk.verify(MESSAGE, &[]),
            Err(SignatureError::Malformed),
            "{kt}"
        );
        let other = SigningKey::from_label(kt, "someone else")
            .unwrap()
            .verifying_key();
        assert_eq!(
            other.verify(MESSAGE, &sig),
            Err(SignatureError::Invalid),
            "{kt}"
        );
    }
}

#[test]
fn secp256k1_rejects_a_recovery_byte_out_of_range() {
    let key = SigningKey::from_label(KeyType::Secp256k1, "v").unwrap();
    let mut sig = key.sign(MESSAGE);
    sig[64] = 5;
    assert_eq!(
        key.verifying_key().verify(MESSAGE, &sig),
        Err(SignatureError::Malformed)
    );
}

#[test]
fn public_keys_of_wrong_length_or_form_are_rejected() {
    assert_eq!(
        VerifyingKey::from_bytes(KeyType::Ed25519, &[1; 31]),
        Err(KeyError::PublicKeyLength {
            expected: 32,
            found: 31
        })
    );
    let k = SigningKey::from_label(KeyType::Secp256k1, "x")
        .unwrap()
        .verifying_key();
    let compressed = k.to_compressed().unwrap();
    assert!(VerifyingKey::from_bytes(KeyType::Secp256k1, &compressed).is_err());
    assert_eq!(
        VerifyingKey::from_bytes_allow_compressed(KeyType::Secp256k1, &compressed),
        Ok(k)
    );
    let mut off_curve = k.to_bytes();
    off_curve[64] ^= 1;
    assert_eq!(
        VerifyingKey::from_bytes(KeyType::Secp256k1, &off_curve),
        Err(KeyError::InvalidPublicKey)
    );
    assert_eq!(
        VerifyingKey::from_bytes(KeyType::X25519, &[9; 32]),
        Err(KeyError::NotASigningKey)
    );
}

#[test]
fn x25519_rejects_an_all_zero_shared_secret() {
    let secret = X25519Secret::from_bytes(*derive_seed_from_label("z"));
    let low_order = X25519PublicKey::from_bytes([0; 32]);
    assert_eq!(
        secret.diffie_hellman(&low_order).map(|_| ()),
        Err(KeyError::AllZeroSharedSecret)
    );
}

#[test]
fn debug_output_never_contains_private_key_bytes() {
    for kt in KeyType::ALL {
        let key = PrivateKey::from_label(kt, "debug").unwrap();
        let secret_hex = hex_encode(key.to_bytes().as_slice());
        let dbg = format!("{key:?}");
        assert!(!dbg.contains(&secret_hex), "{kt}: {dbg}");
        assert!(
            !dbg.to_lowercase().contains(&secret_hex[..16]),
            "{kt}: {dbg}"
        );
    }
}

#[test]
fn key_type_names_round_trip() {
    for kt in KeyType::ALL {
        assert_eq!(kt.name().parse::<KeyType>().unwrap(), kt);
        if let Some(alg) = kt.rfc9421_alg() {
            assert_eq!(KeyType::from_rfc9421_alg(alg), Some(kt));
        }
        if let Some(code) = kt.registry_code() {
            assert_eq!(KeyType::from_registry_code(code), Some(kt));
        }
    }
    assert!("rsa".parse::<KeyType>().is_err());
}
