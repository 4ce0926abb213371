//! The W3C DID document and metadata of resolved records (§10.1–§10.3).

use sage_core::primitives::jwk::public_from_document_jwk;
use sage_core::primitives::{KeyType, PublicKey};
use sage_registry::{AddKey, Deactivate, NewKey, Registry, RevokeKey};
use serde_json::{Value, json};

use crate::common::{Agent, TestDb, active, labels, local};

async fn document_lists_accepted_keys_and_the_selected_ones(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::with_types("document", KeyType::Ed25519, KeyType::Secp256k1);
    active(&registry, &clock, &agent).await;
    registry
        .add_key(&agent.request(
            &clock,
            2,
            AddKey {
                key: NewKey::signing(labels(), &agent.second, &agent.did).unwrap(),
            },
        ))
        .await
        .unwrap();
    let resolved = registry.resolve(&agent.did).await.unwrap();
    let did = agent.did.as_str();
    let document = serde_json::to_value(resolved.document(labels()).unwrap()).unwrap();
    let mut members: Vec<&str> = document
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    members.sort_unstable();
    assert_eq!(
        members,
        vec![
            "assertionMethod",
            "authentication",
            "id",
            "keyAgreement",
            "service",
            "verificationMethod"
        ]
    );
    assert_eq!(document["id"], did);
    let ids: Vec<&str> = document["verificationMethod"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![
            format!("{did}#key-1"),
            format!("{did}#key-2"),
            format!("{did}#key-3")
        ]
    );
    for method in document["verificationMethod"].as_array().unwrap() {
        assert_eq!(method["type"], "JsonWebKey2020");
        assert_eq!(method["controller"], did);
        // Exactly kty, crv, x (and y): the strict document profile reads it.
        public_from_document_jwk(&method["publicKeyJwk"]).unwrap();
    }
    let secp = &document["verificationMethod"][2]["publicKeyJwk"];
    assert_eq!(
        public_from_document_jwk(secp).unwrap(),
        PublicKey::Signing(agent.second.verifying_key())
    );
    // §8.4: secp256k1 wins the signing role; the KEM key is key-2.
    assert_eq!(document["authentication"], json!([format!("{did}#key-3")]));
    assert_eq!(document["assertionMethod"], json!([format!("{did}#key-3")]));
    assert_eq!(document["keyAgreement"], json!([format!("{did}#key-2")]));
    assert_eq!(
        document["service"],
        json!([{
            "id": format!("{did}#agent"),
            "type": "SageAgent",
            "serviceEndpoint": "https://agent.example/a2a",
        }])
    );

    // Revoked keys leave the document.
    registry
        .revoke_key(&agent.request(
            &clock,
            3,
            RevokeKey {
                key: "key-3".into(),
            },
        ))
        .await
        .unwrap();
    registry
        .revoke_key(&agent.request(
            &clock,
            4,
            RevokeKey {
                key: "key-2".into(),
            },
        ))
        .await
        .unwrap();
    let resolved = registry.resolve(&agent.did).await.unwrap();
    let document = resolved.document(labels()).unwrap();
    let ids: Vec<&str> = document
        .verification_method
        .iter()
        .map(|m| m.id.as_str())
        .collect();
    assert_eq!(ids, vec![format!("{did}#key-1")]);
    assert_eq!(document.authentication, vec![format!("{did}#key-1")]);
    assert!(document.key_agreement.is_empty());

    let resolution = resolved.resolution(labels()).unwrap();
    assert_eq!(
        resolution["didResolutionMetadata"],
        json!({"contentType": "application/did+json"})
    );
    let metadata = &resolution["didDocumentMetadata"];
    assert_eq!(metadata["versionId"], "5");
    assert_eq!(metadata["deactivated"], false);
    assert_eq!(metadata["sage"]["state"], "active");
    assert_eq!(metadata["sage"]["source"], "registry");
    assert_eq!(metadata["created"], "2026-01-01T00:00:00Z");
}

async fn created_and_deactivated_records_have_documents_without_keys(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("keyless-document");
    registry
        .register(&agent.request(&clock, 0, agent.registration()))
        .await
        .unwrap();
    let created = registry.resolve(&agent.did).await.unwrap();
    let document = created.document(labels()).unwrap();
    assert!(document.verification_method.is_empty());
    assert!(document.authentication.is_empty());
    assert!(document.key_agreement.is_empty());
    assert_eq!(created.metadata().sage.state, "created");
    assert!(!created.metadata().deactivated);

    registry
        .deactivate(&agent.request(&clock, 1, Deactivate))
        .await
        .unwrap();
    let gone = registry.resolve(&agent.did).await.unwrap();
    let value = gone.resolution(labels()).unwrap();
    assert_eq!(
        value["didDocument"]["verificationMethod"],
        Value::Array(vec![])
    );
    assert_eq!(value["didDocumentMetadata"]["deactivated"], true);
    assert_eq!(value["didDocumentMetadata"]["versionId"], "2");
    assert_eq!(value["didDocumentMetadata"]["sage"]["state"], "deactivated");
}

both_engines!(
    document_lists_accepted_keys_and_the_selected_ones,
    created_and_deactivated_records_have_documents_without_keys,
);
