//! `GET /v1/identity` and `GET /v1/identity/document`: the node's own DID,
//! its public keys, and its DID document as the registry publishes it.
//!
//! Layer: node, management API. Only public halves are served: the
//! signing key's and the X25519 KEM key's public keys, as raw hex (§3.1)
//! and as JWK with their SAGE key ids (§3.4). The document is the node's
//! record resolved through the shared resolver (PROTOCOL.md §10.1), so it
//! shows what peers see, not what the node believes.
//!
//! Rotation of the node's keys is not an endpoint of its own: it is an
//! `add-key` followed by a `revoke-key`, both signed by the controller
//! (`/v1/registry/keys`, `/v1/registry/keys/revoke`; docs/API.md).

use axum::Json;
use axum::extract::State;
use sage_core::encoding::hex_encode;
use sage_core::primitives::PublicKey;
use sage_core::primitives::jwk::public_to_jwk;
use sage_registry::Registry as _;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::dids::{DidDocumentView, did_document_example, document_of};
use super::openapi::{AuthProblems, OwnRecordProblems};
use super::{SharedState, TAG, registry_problem};
use crate::problem::ApiProblem;

pub(crate) fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(get_identity))
        .routes(routes!(get_identity_document))
}

/// A public key of the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct PublicKeyView {
    /// `ed25519`, `secp256k1` or `x25519`.
    #[serde(rename = "type")]
    pub key_type: String,
    /// The registry integer of the type (0 secp256k1, 1 Ed25519, 2 X25519).
    pub registry_type: Option<u8>,
    /// The SAGE key id (§3.4).
    pub key_id: String,
    /// The raw public key (§3.1), lower-case hex.
    pub public_key_hex: String,
    /// The public JWK, with `kid`.
    #[schema(value_type = Object)]
    pub jwk: Value,
}

impl From<PublicKey> for PublicKeyView {
    fn from(key: PublicKey) -> Self {
        Self {
            key_type: key.key_type().name().to_owned(),
            registry_type: key.key_type().registry_code(),
            key_id: key.key_id(),
            public_key_hex: hex_encode(&key.to_bytes()),
            jwk: public_to_jwk(&key),
        }
    }
}

/// The node's identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IdentityView {
    /// The node's DID.
    pub did: String,
    /// The types of its keys: the signing key's, then `x25519`.
    pub key_types: Vec<String>,
    /// The key the node signs with (HTTP messages, acks, the card).
    pub signing_key: PublicKeyView,
    /// The X25519 key the handshake encapsulates to.
    pub kem_key: PublicKeyView,
}

/// The node's DID and public keys.
#[utoipa::path(
    get,
    path = "/v1/identity",
    tag = TAG,
    operation_id = "getIdentity",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The node's DID and public keys", body = IdentityView,
            content_type = "application/json", example = json!(identity_example())),
        AuthProblems,
    )
)]
pub(crate) async fn get_identity(State(state): State<SharedState>) -> Json<IdentityView> {
    let identity = &state.identity;
    let signing_key = PublicKeyView::from(PublicKey::Signing(identity.verifying_key()));
    let kem_key = PublicKeyView::from(PublicKey::X25519(identity.kem_public()));
    Json(IdentityView {
        did: identity.did().as_str().to_owned(),
        key_types: vec![signing_key.key_type.clone(), kem_key.key_type.clone()],
        signing_key,
        kem_key,
    })
}

/// The node's DID document, as the registry publishes it.
#[utoipa::path(
    get,
    path = "/v1/identity/document",
    tag = TAG,
    operation_id = "getIdentityDocument",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The node's W3C DID document", body = DidDocumentView,
            content_type = "application/json", example = json!(did_document_example())),
        AuthProblems,
        OwnRecordProblems,
    )
)]
pub(crate) async fn get_identity_document(
    State(state): State<SharedState>,
) -> Result<Json<DidDocumentView>, ApiProblem> {
    let resolved = state
        .resolver
        .resolve(state.identity.did())
        .await
        .map_err(|e| registry_problem(&e))?;
    document_of(&resolved).map(Json)
}

fn identity_example() -> Value {
    serde_json::json!({
        "did": "did:sage:ethereum:agent-7",
        "key_types": ["ed25519", "x25519"],
        "signing_key": {
            "type": "ed25519",
            "registry_type": 1,
            "key_id": "Ns8ZxQ3kq0Yb3wH2Vb6c2g",
            "public_key_hex": "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
            "jwk": {"kty": "OKP", "crv": "Ed25519", "x": "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w", "kid": "Ns8ZxQ3kq0Yb3wH2Vb6c2g"}
        },
        "kem_key": {
            "type": "x25519",
            "registry_type": 2,
            "key_id": "q7Hk2m0cQyRr8dJp1nA4eA",
            "public_key_hex": "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
            "jwk": {"kty": "OKP", "crv": "X25519", "x": "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08", "kid": "q7Hk2m0cQyRr8dJp1nA4eA"}
        }
    })
}
