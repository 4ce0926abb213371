//! `GET /.well-known/agent-card.json`: the node's A2A agent card with its
//! proof (PROTOCOL.md §11.1–§11.2, \[L\] profile).
//!
//! Layer: node, HTTP edge. The card is built and signed once, at start
//! ([`signed_card`]), from the node's active registry record (sage-core
//! `AgentCard::from_record`), with the service endpoint set to the node's
//! public URL, and signed with the node's signing key under the key URL
//! the record gives it (`<DID>#key-<n>`). Serving it is a copy of bytes.
//!
//! Invariants: the card verifies with sage-core `verify_card`, and its
//! proof key is an accepted key of the node's active record (so §11.2
//! step 5 holds for a verifier that checks the record). It carries public
//! keys only.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use sage_core::card::{AgentCard, CardError, sign_card};
use sage_core::did::AgentRecord;
use sage_core::time::Timestamp;
use sage_core::version::ProtocolVersion;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::identity::NodeIdentity;

/// Where the card is served (A2A well-known location).
pub const CARD_PATH: &str = "/.well-known/agent-card.json";

/// The OpenAPI tag of the card (agent-facing).
pub const TAG: &str = "protocol";

/// The node's card, signed: `record` projected into a card whose service
/// URI is `endpoint`, with a proof by the node's signing key made at
/// `now`.
///
/// # Errors
/// [`CardError::KeyNotListed`] when the record does not list the node's
/// signing key as verified; any other [`CardError`] of `sign_card`.
pub fn signed_card(
    identity: &NodeIdentity,
    record: &AgentRecord,
    endpoint: &str,
    now: Timestamp,
) -> Result<String, CardError> {
    let labels = ProtocolVersion::V1Draft1.labels();
    let mut record = record.clone();
    record.endpoint = endpoint.to_owned();
    let signing = identity.verifying_key();
    let signing_bytes = signing.to_bytes();
    let position = record
        .keys
        .iter()
        .position(|k| k.verified && k.key_type == signing.key_type() && k.key_data == signing_bytes)
        .ok_or(CardError::KeyNotListed)?;
    let card = AgentCard::from_record(labels, &record)?;
    // The card names key n of the record `#<prefix><n>` (one-based), as
    // `AgentCard::from_record` does.
    let method = format!(
        "{}#{}{}",
        record.did,
        labels.card_key_fragment_prefix,
        position + 1
    );
    sign_card(
        labels,
        card.to_json().as_bytes(),
        identity.signing_key(),
        &method,
        now,
    )
}

/// The card route, serving `card` (the text [`signed_card`] made).
pub fn routes(card: Arc<str>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(agent_card))
        .with_state(card)
}

/// The card document alone, for the node's full OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    OpenApiRouter::<Arc<str>>::new()
        .routes(routes!(agent_card))
        .into_openapi()
}

/// The node's A2A agent card, signed (PROTOCOL.md §11).
#[utoipa::path(
    get,
    path = "/.well-known/agent-card.json",
    tag = TAG,
    operation_id = "agentCard",
    responses(
        (status = 200, description = "The agent card with its proof", body = Object,
            content_type = "application/json",
            example = json!({
                "@context": [
                    "https://www.w3.org/ns/did/v1",
                    "https://w3id.org/security/suites/ed25519-2020/v1",
                    "https://w3id.org/security/suites/secp256k1-2019/v1"
                ],
                "capabilities": ["message-signing", "message-verification"],
                "created": "2026-11-26T04:30:50Z",
                "description": "A SAGE node",
                "id": "did:sage:solana:EYfW14mfUYEDxefiDmASqkqZfS2qNixEsTtsUV75PD7e",
                "name": "sage-node",
                "proof": {
                    "created": "2026-11-26T04:42:39.514798302Z",
                    "proofPurpose": "assertionMethod",
                    "proofValue": "3GBUcwbVUBe4Qg7765rhGND4NNSo3FxB9u7aQ9XmbY3su5WkhqVqNcLQ5R2u58iavKGX87yGANjsUrrTGs1uHjQi",
                    "type": "Ed25519Signature2020",
                    "verificationMethod": "did:sage:solana:EYfW14mfUYEDxefiDmASqkqZfS2qNixEsTtsUV75PD7e#key-1"
                },
                "publicKey": [
                    {
                        "controller": "did:sage:solana:EYfW14mfUYEDxefiDmASqkqZfS2qNixEsTtsUV75PD7e",
                        "id": "did:sage:solana:EYfW14mfUYEDxefiDmASqkqZfS2qNixEsTtsUV75PD7e#key-1",
                        "publicKeyBase58": "EYfW14mfUYEDxefiDmASqkqZfS2qNixEsTtsUV75PD7e",
                        "publicKeyHex": "c944779caec35846ab48ac00aef0fb9082480bcff5ce4c7e51b2a21b85e26721",
                        "type": "Ed25519VerificationKey2020"
                    },
                    {
                        "controller": "did:sage:solana:EYfW14mfUYEDxefiDmASqkqZfS2qNixEsTtsUV75PD7e",
                        "id": "did:sage:solana:EYfW14mfUYEDxefiDmASqkqZfS2qNixEsTtsUV75PD7e#key-2",
                        "publicKeyBase58": "BGcXucV79gy3g5zGLqddToSd1ixz1ZHThqUc5DM5WvtD",
                        "publicKeyHex": "9894c230bf4788a0b61b7b76f368611f1a9e7519e350951df59aeb8f56eef556",
                        "type": "X25519KeyAgreementKey2019"
                    }
                ],
                "service": [{"type": "MessageService", "uri": "http://127.0.0.1:46109"}],
                "type": ["Agent", "AIAgent"],
                "updated": "2026-11-26T04:42:39Z"
            })),
    )
)]
pub async fn agent_card(State(card): State<Arc<str>>) -> Response {
    let mut response = card.to_string().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use sage_core::card::verify_card;
    use sage_core::did::{AgentKey, Did};
    use sage_core::primitives::{KeyType, SigningKey, X25519Secret};

    use super::*;

    fn rng() -> impl sage_core::rand_core::CryptoRng {
        getrandom::rand_core::UnwrapErr(getrandom::SysRng)
    }

    fn identity() -> NodeIdentity {
        NodeIdentity::new(
            Did::parse("did:sage:ethereum:card-test").unwrap(),
            SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap(),
            X25519Secret::generate(&mut rng()),
        )
    }

    fn record_with(identity: &NodeIdentity, key: &[u8]) -> AgentRecord {
        let now = Timestamp::from_unix_seconds(1_700_000_000);
        AgentRecord {
            did: identity.did().clone(),
            name: "card test".to_owned(),
            description: String::new(),
            endpoint: "http://old.example".to_owned(),
            keys: vec![
                AgentKey {
                    key_type: KeyType::Ed25519,
                    key_data: key.to_vec(),
                    signature: Vec::new(),
                    verified: true,
                    created_at: now,
                },
                AgentKey {
                    key_type: KeyType::X25519,
                    key_data: identity.kem_public().as_bytes().to_vec(),
                    signature: Vec::new(),
                    verified: true,
                    created_at: now,
                },
            ],
            capabilities: serde_json::Map::new(),
            owner: String::new(),
            is_active: true,
            public_kem_key: None,
            created_at: now,
            updated_at: now,
        }
    }

    #[test]
    fn the_signed_card_verifies_names_the_public_url_and_the_nodes_key() {
        let identity = identity();
        let record = record_with(&identity, &identity.verifying_key().to_bytes());
        let now = Timestamp::from_unix_seconds(1_700_000_100);
        let card = signed_card(&identity, &record, "https://node.example", now).unwrap();
        let labels = ProtocolVersion::V1Draft1.labels();
        let verified = verify_card(labels, card.as_bytes()).unwrap();
        assert_eq!(verified.did(), identity.did());
        assert_eq!(verified.signing_key(), &identity.verifying_key());
        let json: serde_json::Value = serde_json::from_str(&card).unwrap();
        assert_eq!(json["service"][0]["uri"], "https://node.example");
    }

    #[test]
    fn a_record_without_the_nodes_signing_key_yields_no_card() {
        let identity = identity();
        let other = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
        let record = record_with(&identity, &other.verifying_key().to_bytes());
        let now = Timestamp::from_unix_seconds(1_700_000_100);
        assert!(matches!(
            signed_card(&identity, &record, "https://node.example", now),
            Err(CardError::KeyNotListed)
        ));
    }

    #[test]
    fn the_documented_example_is_a_card_that_verifies() {
        let document = serde_json::to_value(openapi()).unwrap();
        let example = &document["paths"][CARD_PATH]["get"]["responses"]["200"]["content"]["application/json"]
            ["example"];
        assert!(example.is_object(), "{document}");
        let bytes = serde_json::to_vec(example).unwrap();
        verify_card(ProtocolVersion::V1Draft1.labels(), &bytes).unwrap();
    }
}
