//! The agent card against the `a2a-card-proof-ed25519` vector, the §11.2
//! verification steps, and round trips of cards we build and sign.

use super::*;
use crate::did::{AgentKey, AgentRecord, Did, sign_pop};
use crate::encoding::{b58_encode, hex_encode};
use crate::jcs;
use crate::primitives::{KeyType, PublicKey, SigningKey, X25519Secret, derive_seed_from_label};
use crate::time::Timestamp;
use crate::version::{Labels, ProtocolVersion};

const ED25519_A: &str = "sage-spec/vectors/ed25519/agent-a";
const ED25519_B: &str = "sage-spec/vectors/ed25519/agent-b";
const SECP256K1_A: &str = "sage-spec/vectors/secp256k1/agent-a";
const P256_A: &str = "sage-spec/vectors/p256/agent-a";
const X25519_A: &str = "sage-spec/vectors/x25519/agent-a";
const DID_A: &str = "did:sage:ethereum:0x1111111111111111111111111111111111111111";
const DID_B: &str = "did:sage:ethereum:0x2222222222222222222222222222222222222222";

fn labels() -> &'static Labels {
    ProtocolVersion::V1Draft1.labels()
}

fn card_vector() -> serde_json::Value {
    crate::test_vectors::vector("did.json", "a2a-card-proof-ed25519")
}

fn vector_card_json() -> String {
    card_vector()["output"]["card_json"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn signing_key(key_type: KeyType, label: &str) -> SigningKey {
    SigningKey::from_label(key_type, label).unwrap()
}

fn x25519_public(label: &str) -> [u8; 32] {
    X25519Secret::from_bytes(*derive_seed_from_label(label))
        .public_key()
        .to_bytes()
}

fn t(s: &str) -> Timestamp {
    Timestamp::parse_rfc3339(s).unwrap()
}

fn signing_entry(key_type: KeyType, label: &str, did: &str, verified: bool) -> AgentKey {
    let key = signing_key(key_type, label);
    AgentKey {
        key_type,
        key_data: key.verifying_key().to_bytes(),
        signature: sign_pop(labels(), &key, &Did::parse(did).unwrap()).unwrap(),
        verified,
        created_at: t("2026-09-01T12:00:00Z"),
    }
}

fn x25519_entry(label: &str) -> AgentKey {
    AgentKey {
        key_type: KeyType::X25519,
        key_data: x25519_public(label).to_vec(),
        signature: Vec::new(),
        verified: true,
        created_at: t("2026-09-01T12:00:00Z"),
    }
}

/// The record the vector's card was generated from.
fn vector_record() -> AgentRecord {
    let v = card_vector();
    let input = &v["input"];
    let created = t(input["created"].as_str().unwrap());
    AgentRecord {
        did: Did::parse(input["did"].as_str().unwrap()).unwrap(),
        name: input["name"].as_str().unwrap().into(),
        description: "SAGE test vector agent".into(),
        endpoint: input["endpoint"].as_str().unwrap().into(),
        keys: vec![
            signing_entry(
                KeyType::Ed25519,
                input["seed_label"].as_str().unwrap(),
                DID_A,
                true,
            ),
            x25519_entry(input["kem_label"].as_str().unwrap()),
        ],
        capabilities: serde_json::Map::new(),
        owner: "0x1111111111111111111111111111111111111111".into(),
        is_active: true,
        public_kem_key: None,
        created_at: created,
        updated_at: created,
    }
}

fn record_with(keys: Vec<AgentKey>) -> AgentRecord {
    AgentRecord {
        keys,
        ..vector_record()
    }
}

/// Parses with serde_json (fine for inputs we build), edits, re-serialises.
fn edit(card_json: &str, change: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut value: serde_json::Value = serde_json::from_str(card_json).unwrap();
    change(&mut value);
    serde_json::to_string(&value).unwrap()
}

fn sign(card: &AgentCard, key: &SigningKey, method: &str) -> String {
    sign_card(
        labels(),
        card.to_json().as_bytes(),
        key,
        method,
        t("2026-09-02T00:00:00.25Z"),
    )
    .unwrap()
}

// ---------------------------------------------------------------- vector

#[test]
fn vector_card_verifies_with_its_ed25519_key_and_lists_the_kem_key() {
    let v = card_vector();
    let input = &v["input"];
    let verified = verify_card(labels(), vector_card_json().as_bytes()).unwrap();
    assert_eq!(verified.did().as_str(), input["did"]);
    assert_eq!(
        verified.verification_method().to_string(),
        format!("{DID_A}#key-1")
    );
    let ed = signing_key(KeyType::Ed25519, input["seed_label"].as_str().unwrap()).verifying_key();
    assert_eq!(*verified.signing_key(), ed);
    assert_eq!(
        verified.key(&format!("{DID_A}#key-1")).unwrap().key(),
        &PublicKey::Signing(ed)
    );
    let kem = verified.key(&format!("{DID_A}#key-2")).unwrap().key();
    assert_eq!(kem.key_type(), KeyType::X25519);
    assert_eq!(
        kem.to_bytes(),
        x25519_public(input["kem_label"].as_str().unwrap())
    );
    assert_eq!(verified.keys().len(), 2);
    assert_eq!(verified.proof_created(), t("2026-09-12T03:12:02.671951Z"));
    assert!(verified.card().get("proof").is_none());
    assert_eq!(
        verified.card().get("name").unwrap().as_str(),
        Some("vector-agent")
    );
}

#[test]
fn card_built_from_the_vector_record_and_signed_reproduces_the_vector() {
    let card = AgentCard::from_record(labels(), &vector_record()).unwrap();
    let stored = vector_card_json();
    let mut without_proof = jcs::parse(stored.as_bytes()).unwrap();
    let proof = without_proof
        .as_object_mut()
        .unwrap()
        .remove("proof")
        .unwrap();
    assert_eq!(
        card.to_json().as_bytes(),
        without_proof.to_canonical_bytes(),
        "built card differs from the vector's"
    );
    // Ed25519 is deterministic, so signing at the vector's proof time gives
    // the vector's card exactly.
    let key = signing_key(KeyType::Ed25519, ED25519_A);
    let signed = sign_card(
        labels(),
        card.to_json().as_bytes(),
        &key,
        &format!("{DID_A}#key-1"),
        t(proof.get("created").unwrap().as_str().unwrap()),
    )
    .unwrap();
    assert_eq!(
        signed.as_bytes(),
        jcs::canonicalize(stored.as_bytes()).unwrap()
    );
}

#[test]
fn vector_card_passes_the_record_check() {
    let verified = verify_card(labels(), vector_card_json().as_bytes()).unwrap();
    verified
        .check_against_record(labels(), &vector_record())
        .unwrap();
}

// ---------------------------------------------------------------- tampering

#[test]
fn tampered_member_fails() {
    let tampered = edit(&vector_card_json(), |c| c["name"] = "evil-agent".into());
    assert_eq!(
        verify_card(labels(), tampered.as_bytes()).unwrap_err(),
        CardError::BadSignature
    );
    let added = edit(&vector_card_json(), |c| c["extra"] = true.into());
    assert_eq!(
        verify_card(labels(), added.as_bytes()).unwrap_err(),
        CardError::BadSignature
    );
}

#[test]
fn whitespace_and_member_order_do_not_matter() {
    let reordered = edit(&vector_card_json(), |_| {});
    let pretty = serde_json::to_string_pretty(
        &serde_json::from_str::<serde_json::Value>(&reordered).unwrap(),
    )
    .unwrap();
    verify_card(labels(), pretty.as_bytes()).unwrap();
}

#[test]
fn proof_by_another_key_fails() {
    let stored = vector_card_json();
    let mut unsigned = jcs::parse(stored.as_bytes()).unwrap();
    unsigned.as_object_mut().unwrap().remove("proof");
    let forged = signing_key(KeyType::Ed25519, ED25519_B).sign(&unsigned.to_canonical_bytes());
    let card = edit(&stored, |c| {
        c["proof"]["proofValue"] = b58_encode(&forged).into()
    });
    assert_eq!(
        verify_card(labels(), card.as_bytes()).unwrap_err(),
        CardError::BadSignature
    );
}

#[test]
fn verification_method_of_another_did_fails() {
    for method in [
        format!("{DID_B}#key-1"),
        format!("{DID_A}1#key-1"),
        DID_A.to_owned(),
        format!("{DID_A}#"),
        "key-1".to_owned(),
    ] {
        let card = edit(&vector_card_json(), |c| {
            c["proof"]["verificationMethod"] = method.clone().into();
        });
        assert_eq!(
            verify_card(labels(), card.as_bytes()).unwrap_err(),
            CardError::ForeignVerificationMethod,
            "{method}"
        );
    }
}

#[test]
fn verification_method_naming_no_listed_key_fails() {
    let card = edit(&vector_card_json(), |c| {
        c["proof"]["verificationMethod"] = format!("{DID_A}#key-9").into();
    });
    assert_eq!(
        verify_card(labels(), card.as_bytes()).unwrap_err(),
        CardError::KeyNotListed
    );
}

#[test]
fn key_type_that_does_not_match_the_proof_type_fails() {
    // Ed25519 entry, secp256k1 proof type.
    let card = edit(&vector_card_json(), |c| {
        c["proof"]["type"] = "EcdsaSecp256k1Signature2019".into();
    });
    assert_eq!(
        verify_card(labels(), card.as_bytes()).unwrap_err(),
        CardError::KeyTypeMismatch
    );
    // The X25519 entry presented as the signer.
    let card = edit(&vector_card_json(), |c| {
        c["proof"]["verificationMethod"] = format!("{DID_A}#key-2").into();
    });
    assert_eq!(
        verify_card(labels(), card.as_bytes()).unwrap_err(),
        CardError::KeyTypeMismatch
    );
    assert_eq!(CardError::KeyTypeMismatch.code(), "sig.alg-mismatch");
}

#[test]
fn base58_and_hex_that_disagree_are_rejected() {
    let other = signing_key(KeyType::Ed25519, ED25519_B)
        .verifying_key()
        .to_bytes();
    let card = edit(&vector_card_json(), |c| {
        c["publicKey"][0]["publicKeyHex"] = hex_encode(&other).into();
    });
    assert_eq!(
        verify_card(labels(), card.as_bytes()).unwrap_err(),
        CardError::KeyEncodingMismatch { index: 0 }
    );
    // A disagreement in an entry the proof does not use is refused too.
    let card = edit(&vector_card_json(), |c| {
        c["publicKey"][1]["publicKeyBase58"] = b58_encode(&[9; 32]).into();
    });
    assert_eq!(
        verify_card(labels(), card.as_bytes()).unwrap_err(),
        CardError::KeyEncodingMismatch { index: 1 }
    );
}

#[test]
fn missing_hex_is_accepted_but_undecodable_encodings_are_not() {
    let stored = vector_card_json();
    let mut card = jcs::parse(stored.as_bytes()).unwrap();
    let proof = card.as_object_mut().unwrap().remove("proof").unwrap();
    let entry = match card.as_object_mut().unwrap().get_mut("publicKey").unwrap() {
        jcs::Value::Array(items) => items[1].as_object_mut().unwrap(),
        _ => unreachable!(),
    };
    entry.remove("publicKeyHex");
    let resigned = sign_card(
        labels(),
        &card.to_canonical_bytes(),
        &signing_key(KeyType::Ed25519, ED25519_A),
        &format!("{DID_A}#key-1"),
        t(proof.get("created").unwrap().as_str().unwrap()),
    )
    .unwrap();
    verify_card(labels(), resigned.as_bytes()).unwrap();

    let bad_b58 = edit(&stored, |c| {
        c["publicKey"][0]["publicKeyBase58"] = "0OIl".into()
    });
    assert_eq!(
        verify_card(labels(), bad_b58.as_bytes()).unwrap_err(),
        CardError::InvalidKeyEncoding { index: 0 }
    );
    let bad_hex = edit(&stored, |c| {
        c["publicKey"][0]["publicKeyHex"] = "xyz".into()
    });
    assert_eq!(
        verify_card(labels(), bad_hex.as_bytes()).unwrap_err(),
        CardError::InvalidKeyEncoding { index: 0 }
    );
}

#[test]
fn foreign_or_duplicate_key_entries_are_rejected() {
    let card = edit(&vector_card_json(), |c| {
        c["publicKey"][1]["controller"] = DID_B.into();
    });
    assert_eq!(
        verify_card(labels(), card.as_bytes()).unwrap_err(),
        CardError::ForeignKey { index: 1 }
    );
    let card = edit(&vector_card_json(), |c| {
        c["publicKey"][1]["id"] = format!("{DID_B}#key-2").into();
    });
    assert_eq!(
        verify_card(labels(), card.as_bytes()).unwrap_err(),
        CardError::ForeignKey { index: 1 }
    );
    let card = edit(&vector_card_json(), |c| {
        c["publicKey"][1]["id"] = format!("{DID_A}#key-1").into();
    });
    assert_eq!(
        verify_card(labels(), card.as_bytes()).unwrap_err(),
        CardError::DuplicateKeyId { index: 1 }
    );
    let card = edit(&vector_card_json(), |c| {
        c["publicKey"][1]["type"] = "JsonWebKey2020".into();
    });
    assert_eq!(
        verify_card(labels(), card.as_bytes()).unwrap_err(),
        CardError::UnknownKeyType { index: 1 }
    );
}

#[test]
fn missing_proof_is_rejected() {
    let card = edit(&vector_card_json(), |c| {
        c.as_object_mut().unwrap().remove("proof");
    });
    let err = verify_card(labels(), card.as_bytes()).unwrap_err();
    assert_eq!(err, CardError::MissingProof);
    assert_eq!(err.code(), "sig.missing");
}

#[test]
fn malformed_proof_members_are_rejected() {
    let cases: [(&str, serde_json::Value, CardError); 5] = [
        (
            "type",
            "Ed25519Signature2018".into(),
            CardError::UnknownProofType,
        ),
        (
            "proofPurpose",
            "authentication".into(),
            CardError::WrongProofPurpose,
        ),
        (
            "created",
            "yesterday".into(),
            CardError::InvalidProofCreated,
        ),
        ("proofValue", "0OIl".into(), CardError::InvalidProofValue),
        (
            "verificationMethod",
            7.into(),
            CardError::MemberType("verificationMethod"),
        ),
    ];
    for (member, value, expected) in cases {
        let card = edit(&vector_card_json(), |c| c["proof"][member] = value.clone());
        assert_eq!(
            verify_card(labels(), card.as_bytes()).unwrap_err(),
            expected,
            "{member}"
        );
    }
}

#[test]
fn duplicate_member_in_card_json_is_rejected_by_the_strict_parser() {
    let stored = vector_card_json();
    let duplicated = stored.replacen(
        "\"name\":\"vector-agent\"",
        "\"name\":\"vector-agent\",\"name\":\"evil-agent\"",
        1,
    );
    assert_ne!(duplicated, stored);
    assert!(matches!(
        verify_card(labels(), duplicated.as_bytes()),
        Err(CardError::Json(_))
    ));
}

#[test]
fn non_object_cards_and_bad_ids_are_rejected() {
    assert_eq!(
        verify_card(labels(), b"[1,2]").unwrap_err(),
        CardError::NotAnObject
    );
    let card = edit(&vector_card_json(), |c| {
        c["id"] = "did:sage:polkadot:x".into()
    });
    let err = verify_card(labels(), card.as_bytes()).unwrap_err();
    assert_eq!(
        err,
        CardError::InvalidId(crate::did::DidError::UnknownChain)
    );
    assert_eq!(err.code(), "id.unknown-kind");
}

// ---------------------------------------------------------------- build + sign

#[test]
fn built_ed25519_card_round_trips() {
    let card = AgentCard::from_record(labels(), &vector_record()).unwrap();
    let signed = sign(
        &card,
        &signing_key(KeyType::Ed25519, ED25519_A),
        &format!("{DID_A}#key-1"),
    );
    let verified = verify_card(labels(), signed.as_bytes()).unwrap();
    assert_eq!(verified.proof_created(), t("2026-09-02T00:00:00.25Z"));
    verified
        .check_against_record(labels(), &vector_record())
        .unwrap();
}

#[test]
fn built_secp256k1_card_round_trips_and_uses_the_keccak_convention() {
    let record = record_with(vec![
        signing_entry(KeyType::Ed25519, ED25519_A, DID_A, true),
        signing_entry(KeyType::Secp256k1, SECP256K1_A, DID_A, true),
    ]);
    let card = AgentCard::from_record(labels(), &record).unwrap();
    assert_eq!(
        card.public_keys[1].key_type,
        "EcdsaSecp256k1VerificationKey2019"
    );
    let key = signing_key(KeyType::Secp256k1, SECP256K1_A);
    let signed = sign(&card, &key, &format!("{DID_A}#key-2"));
    let verified = verify_card(labels(), signed.as_bytes()).unwrap();
    assert_eq!(*verified.signing_key(), key.verifying_key());
    verified.check_against_record(labels(), &record).unwrap();

    let value: serde_json::Value = serde_json::from_str(&signed).unwrap();
    assert_eq!(value["proof"]["type"], "EcdsaSecp256k1Signature2019");
    let signature =
        crate::encoding::b58_decode(value["proof"]["proofValue"].as_str().unwrap()).unwrap();
    assert_eq!(signature.len(), 65);
    let unsigned = jcs::canonicalize(card.to_json().as_bytes()).unwrap();
    assert_eq!(
        crate::primitives::VerifyingKey::recover_secp256k1(&unsigned, &signature).unwrap(),
        key.verifying_key()
    );
}

#[test]
fn proof_may_use_a_key_other_than_key_1() {
    let record = record_with(vec![
        signing_entry(KeyType::Ed25519, ED25519_A, DID_A, true),
        signing_entry(KeyType::Ed25519, ED25519_B, DID_A, true),
    ]);
    let card = AgentCard::from_record(labels(), &record).unwrap();
    let b = signing_key(KeyType::Ed25519, ED25519_B);
    let signed = sign(&card, &b, &format!("{DID_A}#key-2"));
    let verified = verify_card(labels(), signed.as_bytes()).unwrap();
    assert_eq!(*verified.signing_key(), b.verifying_key());
    assert_eq!(verified.verification_method().fragment(), Some("key-2"));
}

#[test]
fn card_keys_are_verified_keys_numbered_by_registry_index() {
    let record = record_with(vec![
        signing_entry(KeyType::Ed25519, ED25519_A, DID_A, true),
        signing_entry(KeyType::Ed25519, ED25519_B, DID_A, false),
        x25519_entry(X25519_A),
    ]);
    let card = AgentCard::from_record(labels(), &record).unwrap();
    let ids: Vec<_> = card.public_keys.iter().map(|k| k.id.as_str()).collect();
    assert_eq!(ids, [format!("{DID_A}#key-1"), format!("{DID_A}#key-3")]);
    assert_eq!(card.public_keys[1].key_type, "X25519KeyAgreementKey2019");
}

#[test]
fn capabilities_and_extra_services_follow_the_go_projection() {
    let mut record = vector_record();
    assert_eq!(
        AgentCard::from_record(labels(), &record)
            .unwrap()
            .capabilities,
        ["message-signing", "message-verification"]
    );
    record.capabilities.insert(
        "functions".into(),
        serde_json::json!(["translate", 3, "summarise"]),
    );
    record.capabilities.insert(
        "endpoints".into(),
        serde_json::json!([
            {"type": "grpc", "uri": "grpc://agent-a.example"},
            {"type": "", "uri": "https://skipped.example"},
            "not-an-object"
        ]),
    );
    let card = AgentCard::from_record(labels(), &record).unwrap();
    assert_eq!(card.capabilities, ["translate", "summarise"]);
    assert_eq!(card.services.len(), 2);
    assert_eq!(card.services[1].service_type, "grpc");

    record
        .capabilities
        .insert("capabilities".into(), serde_json::json!([]));
    let card = AgentCard::from_record(labels(), &record).unwrap();
    assert!(card.capabilities.is_empty());
    let value: serde_json::Value = serde_json::from_str(&card.to_json()).unwrap();
    assert!(value.get("capabilities").is_none());
}

#[test]
fn p256_keys_cannot_enter_or_sign_a_card() {
    let p256 = signing_key(KeyType::P256, P256_A);
    let mut entry = signing_entry(KeyType::Ed25519, ED25519_A, DID_A, true);
    entry.key_type = KeyType::P256;
    entry.key_data = p256.verifying_key().to_bytes();
    assert_eq!(
        AgentCard::from_record(labels(), &record_with(vec![entry])).unwrap_err(),
        CardError::UnsupportedKeyType
    );
    let card = AgentCard::from_record(labels(), &vector_record()).unwrap();
    assert_eq!(
        sign_card(
            labels(),
            card.to_json().as_bytes(),
            &p256,
            &format!("{DID_A}#key-1"),
            t("2026-09-02T00:00:00Z"),
        )
        .unwrap_err(),
        CardError::UnsupportedKeyType
    );
}

#[test]
fn signing_with_a_key_the_card_does_not_name_is_refused() {
    let card = AgentCard::from_record(labels(), &vector_record()).unwrap();
    let json = card.to_json();
    let at = t("2026-09-02T00:00:00Z");
    let b = signing_key(KeyType::Ed25519, ED25519_B);
    let a = signing_key(KeyType::Ed25519, ED25519_A);
    assert_eq!(
        sign_card(labels(), json.as_bytes(), &b, &format!("{DID_A}#key-1"), at).unwrap_err(),
        CardError::SigningKeyMismatch
    );
    assert_eq!(
        sign_card(labels(), json.as_bytes(), &a, &format!("{DID_A}#key-2"), at).unwrap_err(),
        CardError::SigningKeyMismatch
    );
    assert_eq!(
        sign_card(labels(), json.as_bytes(), &a, &format!("{DID_A}#key-7"), at).unwrap_err(),
        CardError::KeyNotListed
    );
    assert_eq!(
        sign_card(labels(), json.as_bytes(), &a, &format!("{DID_B}#key-1"), at).unwrap_err(),
        CardError::ForeignVerificationMethod
    );
}

#[test]
fn signing_replaces_an_existing_proof() {
    let card = AgentCard::from_record(labels(), &vector_record()).unwrap();
    let a = signing_key(KeyType::Ed25519, ED25519_A);
    let first = sign(&card, &a, &format!("{DID_A}#key-1"));
    let again = sign_card(
        labels(),
        first.as_bytes(),
        &a,
        &format!("{DID_A}#key-1"),
        t("2026-09-03T00:00:00Z"),
    )
    .unwrap();
    let verified = verify_card(labels(), again.as_bytes()).unwrap();
    assert_eq!(verified.proof_created(), t("2026-09-03T00:00:00Z"));
}

// ---------------------------------------------------------------- record check

#[test]
fn record_check_rejects_other_did_inactive_record_and_unknown_or_unverified_key() {
    let verified = verify_card(labels(), vector_card_json().as_bytes()).unwrap();

    let mut other = vector_record();
    other.did = Did::parse(DID_B).unwrap();
    assert_eq!(
        verified.check_against_record(labels(), &other),
        Err(CardError::DidMismatch)
    );

    let mut inactive = vector_record();
    inactive.is_active = false;
    assert_eq!(
        verified.check_against_record(labels(), &inactive),
        Err(CardError::RecordInactive)
    );

    let rotated = record_with(vec![signing_entry(
        KeyType::Ed25519,
        ED25519_B,
        DID_A,
        true,
    )]);
    assert_eq!(
        verified.check_against_record(labels(), &rotated),
        Err(CardError::KeyNotInRecord)
    );

    let revoked = record_with(vec![signing_entry(
        KeyType::Ed25519,
        ED25519_A,
        DID_A,
        false,
    )]);
    assert_eq!(
        verified.check_against_record(labels(), &revoked),
        Err(CardError::KeyNotVerified)
    );

    // Flagged verified, but its proof of possession is for another DID.
    let unproven = record_with(vec![signing_entry(
        KeyType::Ed25519,
        ED25519_A,
        DID_B,
        true,
    )]);
    assert_eq!(
        verified.check_against_record(labels(), &unproven),
        Err(CardError::KeyNotVerified)
    );
}
