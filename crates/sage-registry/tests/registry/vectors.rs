//! The `did.json` golden vectors through the registry path: the vector
//! key is registered with the vector's own proof of possession for the
//! vector's DID on the local backend, resolved, and the vector's agent card
//! is checked against the resolved record; a card built from the resolved
//! record carries the vector's keys and verifies.

use sage_core::card::{AgentCard, sign_card, verify_card};
use sage_core::did::Did;
use sage_core::encoding::hex_decode;
use sage_core::primitives::{KeyType, SigningKey, X25519Secret, derive_seed_from_label};
use sage_core::time::Timestamp;
use sage_registry::{Activate, AddKey, NewKey, Register, Registry, Request, RequestHeader};
use serde_json::Value;

use crate::common::{TestDb, labels, local, rng};

fn did_vectors() -> Vec<Value> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../vectors/sage-spec/did.json"
    );
    let file: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    file["vectors"].as_array().unwrap().clone()
}

fn vector(name: &str) -> Value {
    did_vectors()
        .into_iter()
        .find(|v| v["name"] == name)
        .unwrap()
}

fn hex(value: &Value) -> Vec<u8> {
    hex_decode(value.as_str().unwrap()).unwrap()
}

async fn did_json_vectors_pass_through_the_local_registry(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let pop_ed25519 = vector("pop-ed25519");
    let pop_secp256k1 = vector("pop-secp256k1");
    let card = vector("a2a-card-proof-ed25519");
    let card_input = &card["input"];
    let did = Did::parse(card_input["did"].as_str().unwrap()).unwrap();
    assert_eq!(pop_ed25519["input"]["did"], did.as_str());
    assert_eq!(pop_secp256k1["input"]["did"], did.as_str());

    // The vector's Ed25519 key, with the vector's proof (not one we made).
    let ed25519 = SigningKey::from_label(
        KeyType::Ed25519,
        pop_ed25519["input"]["seed_label"].as_str().unwrap(),
    )
    .unwrap();
    let vector_key = hex(&pop_ed25519["output"]["key_data"]);
    assert_eq!(ed25519.verifying_key().to_bytes(), vector_key);
    let kem = X25519Secret::from_bytes(*derive_seed_from_label(
        card_input["kem_label"].as_str().unwrap(),
    ));
    let register = Register {
        name: card_input["name"].as_str().unwrap().into(),
        description: "SAGE test vector agent".into(),
        endpoint: card_input["endpoint"].as_str().unwrap().into(),
        capabilities: serde_json::Map::new(),
        keys: vec![
            NewKey {
                key_type: KeyType::Ed25519,
                key_data: vector_key.clone(),
                proof: hex(&pop_ed25519["output"]["proof"]),
                endorsed_by: None,
            },
            NewKey::kem(labels(), &did, &kem.public_key(), &ed25519, "key-1"),
        ],
    };
    let header = |version| {
        RequestHeader::new(
            did.clone(),
            version,
            sage_store::Clock::now(&*clock),
            &mut rng(),
        )
    };
    registry
        .register(&Request::new(header(0), register).sign(&ed25519))
        .await
        .unwrap();
    registry
        .activate(&Request::new(header(1), Activate).sign(&ed25519))
        .await
        .unwrap();

    let resolved = registry.resolve(&did).await.unwrap();
    let record = &resolved.record;
    assert_eq!(
        record.keys[0].signature,
        hex(&pop_ed25519["output"]["proof"])
    );
    assert!(record.verify_pops(labels()).all_hold());
    assert_eq!(
        resolved.select_keys(labels()).unwrap().kem(),
        Some(&kem.public_key())
    );

    // The vector's card verifies, and its key is a proven key of the
    // record the registry resolved (§11.2 step 5).
    let card_json = card["output"]["card_json"].as_str().unwrap();
    let verified = verify_card(labels(), card_json.as_bytes()).unwrap();
    verified.check_against_record(labels(), record).unwrap();

    // A card built from the resolved record lists exactly the vector's keys,
    // and a proof over it by the vector key verifies against the record.
    let built = AgentCard::from_record(labels(), record).unwrap();
    let built_value: Value = serde_json::from_str(&built.to_json()).unwrap();
    let vector_value: Value = serde_json::from_str(card_json).unwrap();
    assert_eq!(built_value["publicKey"], vector_value["publicKey"]);
    assert_eq!(built_value["service"], vector_value["service"]);
    assert_eq!(built_value["id"], vector_value["id"]);
    let signed = sign_card(
        labels(),
        built.to_json().as_bytes(),
        &ed25519,
        &format!("{did}#key-1"),
        Timestamp::parse_rfc3339(card_input["created"].as_str().unwrap()).unwrap(),
    )
    .unwrap();
    verify_card(labels(), signed.as_bytes())
        .unwrap()
        .check_against_record(labels(), record)
        .unwrap();

    // The secp256k1 vector key joins the record with the vector's proof
    // (SHA-256, not Keccak: §8.5) and becomes the §8.4 signing key.
    let added = registry
        .add_key(
            &Request::new(
                header(2),
                AddKey {
                    key: NewKey {
                        key_type: KeyType::Secp256k1,
                        key_data: hex(&pop_secp256k1["output"]["key_data"]),
                        proof: hex(&pop_secp256k1["output"]["proof"]),
                        endorsed_by: None,
                    },
                },
            )
            .sign(&ed25519),
        )
        .await
        .unwrap();
    assert!(added.record.verify_pops(labels()).all_hold());
    let secp256k1 = SigningKey::from_label(
        KeyType::Secp256k1,
        pop_secp256k1["input"]["scalar_label"].as_str().unwrap(),
    )
    .unwrap();
    assert_eq!(
        *added.select_keys(labels()).unwrap().signing(),
        secp256k1.verifying_key()
    );
    let document = added.document(labels()).unwrap();
    assert_eq!(document.authentication, vec![format!("{did}#key-3")]);
    assert_eq!(document.key_agreement, vec![format!("{did}#key-2")]);

    // A vector proof for the wrong key is refused by the registry path too.
    let mut body = AddKey {
        key: NewKey::signing(
            labels(),
            &SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap(),
            &did,
        )
        .unwrap(),
    };
    body.key.proof = hex(&pop_ed25519["output"]["proof"]);
    let refused = registry
        .add_key(&Request::new(header(3), body).sign(&ed25519))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "pop.bad");
}

both_engines!(did_json_vectors_pass_through_the_local_registry);
