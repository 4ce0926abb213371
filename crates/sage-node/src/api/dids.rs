//! `GET /v1/dids/{did}`: resolve a DID through the node's resolver, and
//! the JSON views of a resolution that the other `/v1` routes share.
//!
//! Layer: node, management API. The answer is the resolved record in the
//! AgentMetadataV4 shape (PROTOCOL.md §8.2) with its lifecycle state,
//! version and source (registry or cache), or, with `?document=true`, the
//! W3C DID document of §10.1. Resolution goes through the shared caching
//! resolver (§9.5), so it fills and reads the same cache as the protocol.
//!
//! Errors keep the §10.5 codes, except that an unknown DID is
//! `did.unknown` (404) — see `registry_problem` in [`crate::api`].

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use sage_core::did::{AgentKey, AgentRecord, Did};
use sage_core::encoding::hex_encode;
use sage_registry::document::{DidDocument, Service, VerificationMethod};
use sage_registry::{Registry as _, RegistryError, ResolvedRecord};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{AuthProblems, ResolveProblems};
use super::{SharedState, TAG, labels, path_problem, query_problem, registry_problem};
use crate::problem::ApiProblem;

pub(crate) fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new().routes(routes!(resolve_did))
}

/// One key of an AgentMetadataV4 record (§8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AgentKeyView {
    /// The registry integer: 0 secp256k1, 1 Ed25519, 2 X25519 (`null` for
    /// a type without one).
    #[serde(rename = "type")]
    pub key_type: Option<u8>,
    /// The raw public key (§3.1), lower-case hex.
    pub key_data: String,
    /// The proof of possession (§8.5), hex; empty for X25519.
    pub signature: String,
    /// Accepted (`true`) or revoked (`false`).
    pub verified: bool,
    /// When the key was added, RFC 3339.
    pub created_at: String,
}

impl From<&AgentKey> for AgentKeyView {
    fn from(key: &AgentKey) -> Self {
        Self {
            key_type: key.key_type.registry_code(),
            key_data: hex_encode(&key.key_data),
            signature: hex_encode(&key.signature),
            verified: key.verified,
            created_at: key.created_at.to_rfc3339(),
        }
    }
}

/// A record in the AgentMetadataV4 shape (PROTOCOL.md §8.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AgentMetadataV4 {
    /// The DID.
    pub did: String,
    /// Display name.
    pub name: String,
    /// Display description.
    pub description: String,
    /// The agent's message endpoint.
    pub endpoint: String,
    /// The keys in registry order (`key-1` first), revoked ones included.
    pub keys: Vec<AgentKeyView>,
    /// Free-form capabilities.
    #[schema(value_type = Object)]
    pub capabilities: Map<String, Value>,
    /// The owner's address or label.
    pub owner: String,
    /// Whether the record may be trusted (state `active`).
    pub is_active: bool,
    /// A separate X25519 KEM key, hex, when the record names one apart
    /// from `keys`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_kem_key: Option<String>,
    /// Registration time, RFC 3339.
    pub created_at: String,
    /// Last change, RFC 3339.
    pub updated_at: String,
}

impl From<&AgentRecord> for AgentMetadataV4 {
    fn from(record: &AgentRecord) -> Self {
        Self {
            did: record.did.as_str().to_owned(),
            name: record.name.clone(),
            description: record.description.clone(),
            endpoint: record.endpoint.clone(),
            keys: record.keys.iter().map(AgentKeyView::from).collect(),
            capabilities: record.capabilities.clone(),
            owner: record.owner.clone(),
            is_active: record.is_active,
            public_kem_key: record.public_kem_key.as_deref().map(hex_encode),
            created_at: record.created_at.to_rfc3339(),
            updated_at: record.updated_at.to_rfc3339(),
        }
    }
}

/// A resolution: the record, its state and where the answer came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!(resolved_record_example()))]
pub struct ResolvedRecordView {
    /// The AgentMetadataV4 record.
    pub record: AgentMetadataV4,
    /// `created`, `active` or `deactivated`. Only an active record may
    /// authenticate anything.
    #[schema(example = "active")]
    pub state: String,
    /// The record's version, when the answer carries one (the registry
    /// does; a cached answer and a deployed contract do not).
    pub version: Option<u64>,
    /// `registry` or `cache`.
    #[schema(example = "registry")]
    pub source: String,
    /// When the registry was observed, RFC 3339.
    pub observed_at: String,
}

impl From<&ResolvedRecord> for ResolvedRecordView {
    fn from(resolved: &ResolvedRecord) -> Self {
        Self {
            record: AgentMetadataV4::from(&resolved.record),
            state: resolved.state.as_str().to_owned(),
            version: resolved.version,
            source: resolved.source.as_str().to_owned(),
            observed_at: resolved.observed_at.to_rfc3339(),
        }
    }
}

/// One verification method of a DID document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMethodView {
    /// `<DID>#key-<n>`.
    pub id: String,
    /// `JsonWebKey2020`.
    #[serde(rename = "type")]
    pub method_type: String,
    /// The DID.
    pub controller: String,
    /// The public key: `kty`, `crv`, `x` (and `y`).
    #[schema(value_type = Object)]
    pub public_key_jwk: Value,
}

/// The endpoint service of a DID document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ServiceView {
    /// `<DID>#agent`.
    pub id: String,
    /// `SageAgent`.
    #[serde(rename = "type")]
    pub service_type: String,
    /// The endpoint URL.
    pub service_endpoint: String,
}

/// A W3C DID document (PROTOCOL.md §10.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!(did_document_example()))]
pub struct DidDocumentView {
    /// The DID.
    pub id: String,
    /// The accepted keys of an active record.
    pub verification_method: Vec<VerificationMethodView>,
    /// The §8.4 signing key.
    pub authentication: Vec<String>,
    /// The §8.4 signing key.
    pub assertion_method: Vec<String>,
    /// The §8.4 KEM key.
    pub key_agreement: Vec<String>,
    /// The endpoint.
    pub service: Vec<ServiceView>,
}

impl From<DidDocument> for DidDocumentView {
    fn from(document: DidDocument) -> Self {
        let method = |m: VerificationMethod| VerificationMethodView {
            id: m.id,
            method_type: m.method_type,
            controller: m.controller,
            public_key_jwk: m.public_key_jwk,
        };
        let service = |s: Service| ServiceView {
            id: s.id,
            service_type: s.service_type,
            service_endpoint: s.service_endpoint,
        };
        Self {
            id: document.id,
            verification_method: document
                .verification_method
                .into_iter()
                .map(method)
                .collect(),
            authentication: document.authentication,
            assertion_method: document.assertion_method,
            key_agreement: document.key_agreement,
            service: document.service.into_iter().map(service).collect(),
        }
    }
}

/// The DID document of a resolved record.
///
/// # Errors
/// `record.invalid` when an accepted key's bytes are not a valid key.
pub(crate) fn document_of(resolved: &ResolvedRecord) -> Result<DidDocumentView, ApiProblem> {
    resolved
        .document(labels())
        .map(DidDocumentView::from)
        .map_err(|e| registry_problem(&e))
}

/// What `GET /v1/dids/{did}` answers: the record, or the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(untagged)]
pub enum DidLookup {
    /// Without `?document=true`.
    Record(ResolvedRecordView),
    /// With `?document=true`.
    Document(DidDocumentView),
}

/// The query of `GET /v1/dids/{did}`.
#[derive(Debug, Clone, Copy, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResolveQuery {
    /// `true` for the W3C DID document instead of the record.
    #[serde(default)]
    pub document: bool,
}

/// Resolves a DID through the node's registry and cache.
#[utoipa::path(
    get,
    path = "/v1/dids/{did}",
    tag = TAG,
    operation_id = "resolveDid",
    security(("bearer" = [])),
    params(
        ("did" = String, Path, description = "The DID to resolve (`did:sage:<chain>:<identifier>`, §8.1)", example = "did:sage:ethereum:agent-7", pattern = "^did:sage:[A-Za-z0-9._~-]+:[A-Za-z0-9._~:-]+$"),
        ResolveQuery,
    ),
    responses(
        (status = 200, description = "The resolved record (or, with `?document=true`, its DID document)",
            body = DidLookup, content_type = "application/json",
            examples(
                ("record" = (summary = "The record (default)", value = json!(resolved_record_example()))),
                ("document" = (summary = "With ?document=true", value = json!(did_document_example()))),
            )),
        AuthProblems,
        ResolveProblems,
    )
)]
pub(crate) async fn resolve_did(
    State(state): State<SharedState>,
    path: Result<Path<String>, PathRejection>,
    query: Result<Query<ResolveQuery>, QueryRejection>,
) -> Result<Json<DidLookup>, ApiProblem> {
    let Path(did) = path.map_err(|e| path_problem(&e))?;
    let Query(query) = query.map_err(|e| query_problem(&e))?;
    let did = Did::parse(&did).map_err(|e| registry_problem(&RegistryError::from(e)))?;
    let resolved = state
        .resolver
        .resolve(&did)
        .await
        .map_err(|e| registry_problem(&e))?;
    Ok(Json(if query.document {
        DidLookup::Document(document_of(&resolved)?)
    } else {
        DidLookup::Record(ResolvedRecordView::from(&resolved))
    }))
}

/// The example record of the OpenAPI document.
pub(crate) fn resolved_record_example() -> Value {
    serde_json::json!({
        "record": {
            "did": "did:sage:ethereum:agent-7",
            "name": "agent-7",
            "description": "Answers questions about invoices",
            "endpoint": "https://agent-7.example/messages",
            "keys": [
                {
                    "type": 1,
                    "key_data": "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
                    "signature": "aa2f09d1c0b0d4e6b8ad0a7d1d8a6e2f30e5b3c9d9b0c1f4e77f0ad8e2b4a9c1d0e39b1f3a3b9f0c2d1e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f80",
                    "verified": true,
                    "created_at": "2026-01-01T00:00:00Z"
                },
                {
                    "type": 2,
                    "key_data": "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
                    "signature": "c3b1e0f2a4d6c8b0e2f4a6c8d0e2f4a6c8b0d2e4f6a8c0e2d4f6a8b0c2e4f6a8d0e2f4a6c8b0d2e4f6a8c0e2d4f6a8b0c2e4f6a8d0e2f4a6c8b0d2e4f6a8c0e2",
                    "verified": true,
                    "created_at": "2026-01-01T00:00:00Z"
                }
            ],
            "capabilities": {"messages": true},
            "owner": "ed25519:0x9b6f3a1c2d4e5f60718293a4b5c6d7e8f9a0b1c2",
            "is_active": true,
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:05Z"
        },
        "state": "active",
        "version": 2,
        "source": "registry",
        "observed_at": "2026-01-01T00:01:00Z"
    })
}

/// The example DID document of the OpenAPI document.
pub(crate) fn did_document_example() -> Value {
    serde_json::json!({
        "id": "did:sage:ethereum:agent-7",
        "verificationMethod": [
            {
                "id": "did:sage:ethereum:agent-7#key-1",
                "type": "JsonWebKey2020",
                "controller": "did:sage:ethereum:agent-7",
                "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w"}
            },
            {
                "id": "did:sage:ethereum:agent-7#key-2",
                "type": "JsonWebKey2020",
                "controller": "did:sage:ethereum:agent-7",
                "publicKeyJwk": {"kty": "OKP", "crv": "X25519", "x": "3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08"}
            }
        ],
        "authentication": ["did:sage:ethereum:agent-7#key-1"],
        "assertionMethod": ["did:sage:ethereum:agent-7#key-1"],
        "keyAgreement": ["did:sage:ethereum:agent-7#key-2"],
        "service": [
            {"id": "did:sage:ethereum:agent-7#agent", "type": "SageAgent", "serviceEndpoint": "https://agent-7.example/messages"}
        ]
    })
}
