//! `POST /v1/registry/*`: the six registry operations of PROTOCOL.md §9.3,
//! forwarded to the configured registry through the node's resolver.
//!
//! Layer: node, management API. The node signs nothing here: every body is
//! a request its controller signed elsewhere (for example with the `sage`
//! CLI's key files), in this JSON form:
//!
//! ```text
//! {"request": {"domain":"sage-local-registry/v1","operation":"add-key",
//!              "did":…,"nonce":…,"timestamp":<Unix s>,"version":<n>, …body},
//!  "signature": "<hex of the controller's signature over the RFC 8785
//!                 form of `request`>"}
//! ```
//!
//! `request` is exactly the object the signature covers (see
//! `sage_registry::request`): it is parsed into the operation's typed
//! request and rebuilt, and a request whose rebuilt form differs — an
//! unknown member, upper-case hex, a float — is refused with
//! `request.invalid` before the registry sees it. The operation must be
//! the endpoint's. Authorisation (controller signature, freshness, nonce
//! replay, record version) is the registry's.
//!
//! Writes go through the resolver, so the node's cache (shared by every
//! node on the same database) drops the DID's entry at once. The answer
//! is the record after the write.
//!
//! Key rotation is an `add-key` of the new key followed by a `revoke-key`
//! of the old one, each signed by the controller.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use sage_core::did::Did;
use sage_core::encoding::hex_decode;
use sage_core::primitives::KeyType;
use sage_core::time::Timestamp;
use sage_registry::request::REQUEST_DOMAIN;
use sage_registry::{
    Activate, AddKey, Deactivate, NewKey, Register, Registry as _, RegistryError, Request,
    RequestBody, RequestHeader, RevokeKey, SignedRequest, Update,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::dids::{ResolvedRecordView, resolved_record_example};
use super::openapi::{AuthProblems, RegistryWriteProblems};
use super::{SharedState, TAG, bad_request, json_problem, registry_problem};
use crate::problem::ApiProblem;

pub(crate) fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new()
        .routes(routes!(register))
        .routes(routes!(activate))
        .routes(routes!(add_key))
        .routes(routes!(revoke_key))
        .routes(routes!(update))
        .routes(routes!(deactivate))
}

/// A controller-signed registry request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignedRegistryRequest {
    /// The request exactly as signed: `domain` (`sage-local-registry/v1`),
    /// `operation`, `did`, `nonce` (16–128 base64url characters),
    /// `timestamp` (Unix seconds), `version` (the record version the
    /// signer saw, 0 to register), and the operation's members. Byte
    /// strings are lower-case hex, key types their registry integers.
    #[schema(value_type = Object)]
    pub request: Map<String, Value>,
    /// The controller's signature over the RFC 8785 canonical form of
    /// `request`, lower-case hex.
    pub signature: String,
}

/// Parses the body of a registry endpoint into a signed request for `B`.
fn signed<B: RequestBody>(
    body: Result<Json<SignedRegistryRequest>, JsonRejection>,
    parse_body: impl FnOnce(&Members<'_>) -> Result<B, ApiProblem>,
) -> Result<SignedRequest<B>, ApiProblem> {
    let Json(body) = body.map_err(|e| json_problem(&e))?;
    let members = Members(&body.request);
    if members.str("domain")? != REQUEST_DOMAIN {
        return Err(bad_request(format!(
            "`domain` must be \"{REQUEST_DOMAIN}\""
        )));
    }
    let operation = B::OPERATION.as_str();
    if members.str("operation")? != operation {
        return Err(bad_request(format!(
            "this endpoint takes `operation` \"{operation}\""
        )));
    }
    let did =
        Did::parse(members.str("did")?).map_err(|e| registry_problem(&RegistryError::from(e)))?;
    let header = RequestHeader {
        did,
        nonce: members.str("nonce")?.to_owned(),
        timestamp: Timestamp::from_unix_seconds(members.i64("timestamp")?),
        version: members.u64("version")?,
    };
    let request = Request::new(header, parse_body(&members)?);
    if request.to_json_value().as_object() != Some(&body.request) {
        return Err(bad_request(format!(
            "`request` is not a {operation} request in its signed form: unknown members, \
             or values not written as signed (lower-case hex, integers)"
        )));
    }
    let signature =
        hex_decode(&body.signature).map_err(|_| bad_request("`signature` must be hex"))?;
    Ok(SignedRequest::from_parts(request, signature))
}

/// The members of a request object, read with 400s for the wrong shape.
struct Members<'a>(&'a Map<String, Value>);

impl<'a> Members<'a> {
    fn get(&self, name: &str) -> Result<&'a Value, ApiProblem> {
        self.0
            .get(name)
            .ok_or_else(|| bad_request(format!("`{name}` is missing")))
    }

    fn str(&self, name: &str) -> Result<&'a str, ApiProblem> {
        self.get(name)?
            .as_str()
            .ok_or_else(|| bad_request(format!("`{name}` must be a string")))
    }

    fn opt_str(&self, name: &str) -> Result<Option<String>, ApiProblem> {
        match self.0.get(name) {
            None => Ok(None),
            Some(_) => self.str(name).map(|s| Some(s.to_owned())),
        }
    }

    fn i64(&self, name: &str) -> Result<i64, ApiProblem> {
        self.get(name)?
            .as_i64()
            .ok_or_else(|| bad_request(format!("`{name}` must be an integer")))
    }

    fn u64(&self, name: &str) -> Result<u64, ApiProblem> {
        self.get(name)?
            .as_u64()
            .ok_or_else(|| bad_request(format!("`{name}` must be a non-negative integer")))
    }

    fn object(&self, name: &str) -> Result<&'a Map<String, Value>, ApiProblem> {
        self.get(name)?
            .as_object()
            .ok_or_else(|| bad_request(format!("`{name}` must be an object")))
    }

    fn opt_object(&self, name: &str) -> Result<Option<Map<String, Value>>, ApiProblem> {
        match self.0.get(name) {
            None => Ok(None),
            Some(_) => self.object(name).map(|o| Some(o.clone())),
        }
    }

    fn hex(&self, name: &str) -> Result<Vec<u8>, ApiProblem> {
        hex_decode(self.str(name)?).map_err(|_| bad_request(format!("`{name}` must be hex")))
    }

    fn new_key(&self, name: &str) -> Result<NewKey, ApiProblem> {
        parse_new_key(&Members(self.object(name)?))
    }
}

fn parse_new_key(key: &Members<'_>) -> Result<NewKey, ApiProblem> {
    let code = u8::try_from(key.u64("type")?)
        .ok()
        .and_then(KeyType::from_registry_code)
        .ok_or_else(|| {
            bad_request("key `type` must be 0 (secp256k1), 1 (Ed25519) or 2 (X25519)")
        })?;
    Ok(NewKey {
        key_type: code,
        key_data: key.hex("key_data")?,
        proof: key.hex("proof")?,
        endorsed_by: key.opt_str("endorsed_by")?,
    })
}

fn parse_register(m: &Members<'_>) -> Result<Register, ApiProblem> {
    let keys = m
        .get("keys")?
        .as_array()
        .ok_or_else(|| bad_request("`keys` must be an array"))?
        .iter()
        .map(|key| {
            key.as_object()
                .ok_or_else(|| bad_request("every key must be an object"))
                .and_then(|key| parse_new_key(&Members(key)))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Register {
        name: m.str("name")?.to_owned(),
        description: m.str("description")?.to_owned(),
        endpoint: m.str("endpoint")?.to_owned(),
        capabilities: m.object("capabilities")?.clone(),
        keys,
    })
}

fn parse_update(m: &Members<'_>) -> Result<Update, ApiProblem> {
    Ok(Update {
        name: m.opt_str("name")?,
        description: m.opt_str("description")?,
        endpoint: m.opt_str("endpoint")?,
        capabilities: m.opt_object("capabilities")?,
    })
}

fn record(resolved: &sage_registry::ResolvedRecord) -> Json<ResolvedRecordView> {
    Json(ResolvedRecordView::from(resolved))
}

/// Registers a new record (state `created`); its first signing key is the
/// controller and signs the request.
#[utoipa::path(
    post,
    path = "/v1/registry/register",
    tag = TAG,
    operation_id = "registryRegister",
    security(("bearer" = [])),
    request_body(content = SignedRegistryRequest, content_type = "application/json",
        description = "A `register` request signed by the record's first signing key",
        example = json!(register_example())),
    responses(
        (status = 201, description = "The registered record", body = ResolvedRecordView,
            content_type = "application/json", example = json!(created_example())),
        AuthProblems,
        RegistryWriteProblems,
    )
)]
pub(crate) async fn register(
    State(state): State<SharedState>,
    body: Result<Json<SignedRegistryRequest>, JsonRejection>,
) -> Result<(StatusCode, Json<ResolvedRecordView>), ApiProblem> {
    let request = signed(body, parse_register)?;
    let resolved = state
        .resolver
        .register(&request)
        .await
        .map_err(|e| registry_problem(&e))?;
    Ok((StatusCode::CREATED, record(&resolved)))
}

/// Activates a registered record (`created` → `active`).
#[utoipa::path(
    post,
    path = "/v1/registry/activate",
    tag = TAG,
    operation_id = "registryActivate",
    security(("bearer" = [])),
    request_body(content = SignedRegistryRequest, content_type = "application/json",
        description = "An `activate` request signed by the controller",
        example = json!(signed_example("activate", 1, json!({})))),
    responses(
        (status = 200, description = "The active record", body = ResolvedRecordView,
            content_type = "application/json", example = json!(resolved_record_example())),
        AuthProblems,
        RegistryWriteProblems,
    )
)]
pub(crate) async fn activate(
    State(state): State<SharedState>,
    body: Result<Json<SignedRegistryRequest>, JsonRejection>,
) -> Result<Json<ResolvedRecordView>, ApiProblem> {
    let request = signed(body, |_| Ok(Activate))?;
    let resolved = state
        .resolver
        .activate(&request)
        .await
        .map_err(|e| registry_problem(&e))?;
    Ok(record(&resolved))
}

/// Adds a key to an active record (named `key-<n+1>`). The first half of
/// a key rotation.
#[utoipa::path(
    post,
    path = "/v1/registry/keys",
    tag = TAG,
    operation_id = "registryAddKey",
    security(("bearer" = [])),
    request_body(content = SignedRegistryRequest, content_type = "application/json",
        description = "An `add-key` request signed by the controller; the key carries its SAGE-PoP \
                       (signing key) or its endorsement (X25519 key, with `endorsed_by`)",
        example = json!(add_key_example())),
    responses(
        (status = 200, description = "The record with the new key", body = ResolvedRecordView,
            content_type = "application/json", example = json!(resolved_record_example())),
        AuthProblems,
        RegistryWriteProblems,
    )
)]
pub(crate) async fn add_key(
    State(state): State<SharedState>,
    body: Result<Json<SignedRegistryRequest>, JsonRejection>,
) -> Result<Json<ResolvedRecordView>, ApiProblem> {
    let request = signed(body, |m| {
        Ok(AddKey {
            key: m.new_key("key")?,
        })
    })?;
    let resolved = state
        .resolver
        .add_key(&request)
        .await
        .map_err(|e| registry_problem(&e))?;
    Ok(record(&resolved))
}

/// Revokes a key of an active record (the entry is kept, marked revoked).
/// The second half of a key rotation.
#[utoipa::path(
    post,
    path = "/v1/registry/keys/revoke",
    tag = TAG,
    operation_id = "registryRevokeKey",
    security(("bearer" = [])),
    request_body(content = SignedRegistryRequest, content_type = "application/json",
        description = "A `revoke-key` request signed by the controller, naming the key `key-<n>`",
        example = json!(signed_example("revoke-key", 3, json!({"key": "key-1"})))),
    responses(
        (status = 200, description = "The record with the key revoked", body = ResolvedRecordView,
            content_type = "application/json", example = json!(resolved_record_example())),
        AuthProblems,
        RegistryWriteProblems,
    )
)]
pub(crate) async fn revoke_key(
    State(state): State<SharedState>,
    body: Result<Json<SignedRegistryRequest>, JsonRejection>,
) -> Result<Json<ResolvedRecordView>, ApiProblem> {
    let request = signed(body, |m| {
        Ok(RevokeKey {
            key: m.str("key")?.to_owned(),
        })
    })?;
    let resolved = state
        .resolver
        .revoke_key(&request)
        .await
        .map_err(|e| registry_problem(&e))?;
    Ok(record(&resolved))
}

/// Changes the name, description, endpoint or capabilities of an active
/// record.
#[utoipa::path(
    post,
    path = "/v1/registry/update",
    tag = TAG,
    operation_id = "registryUpdate",
    security(("bearer" = [])),
    request_body(content = SignedRegistryRequest, content_type = "application/json",
        description = "An `update` request signed by the controller; absent members are kept",
        example = json!(signed_example("update", 2, json!({"endpoint": "https://agent-7.example/v2/messages"})))),
    responses(
        (status = 200, description = "The updated record", body = ResolvedRecordView,
            content_type = "application/json", example = json!(resolved_record_example())),
        AuthProblems,
        RegistryWriteProblems,
    )
)]
pub(crate) async fn update(
    State(state): State<SharedState>,
    body: Result<Json<SignedRegistryRequest>, JsonRejection>,
) -> Result<Json<ResolvedRecordView>, ApiProblem> {
    let request = signed(body, parse_update)?;
    let resolved = state
        .resolver
        .update(&request)
        .await
        .map_err(|e| registry_problem(&e))?;
    Ok(record(&resolved))
}

/// Deactivates a record, for good (its DID is never reassigned).
#[utoipa::path(
    post,
    path = "/v1/registry/deactivate",
    tag = TAG,
    operation_id = "registryDeactivate",
    security(("bearer" = [])),
    request_body(content = SignedRegistryRequest, content_type = "application/json",
        description = "A `deactivate` request signed by the controller",
        example = json!(signed_example("deactivate", 4, json!({})))),
    responses(
        (status = 200, description = "The deactivated record", body = ResolvedRecordView,
            content_type = "application/json", example = json!(deactivated_example())),
        AuthProblems,
        RegistryWriteProblems,
    )
)]
pub(crate) async fn deactivate(
    State(state): State<SharedState>,
    body: Result<Json<SignedRegistryRequest>, JsonRejection>,
) -> Result<Json<ResolvedRecordView>, ApiProblem> {
    let request = signed(body, |_| Ok(Deactivate))?;
    let resolved = state
        .resolver
        .deactivate(&request)
        .await
        .map_err(|e| registry_problem(&e))?;
    Ok(record(&resolved))
}

const EXAMPLE_SIGNATURE: &str = "3f0c9a4b1e7d2c58a6b0f1e2d3c4b5a69788a9bacbdcedfe0f1e2d3c4b5a6978\
                                 8f9e0d1c2b3a49586776859493a2b1c0d1e2f30415263748596a7b8c9dae0f10";

/// An example body: the request members of `operation` at `version` plus
/// `body`'s, and a signature.
fn signed_example(operation: &str, version: u64, body: Value) -> Value {
    let mut request = json!({
        "domain": REQUEST_DOMAIN,
        "operation": operation,
        "did": "did:sage:ethereum:agent-7",
        "nonce": "pV3nZ8qKc1sYbT0wRmL4xA9e",
        "timestamp": 1_767_225_600,
        "version": version,
    });
    if let (Some(request), Value::Object(body)) = (request.as_object_mut(), body) {
        request.extend(body);
    }
    json!({"request": request, "signature": EXAMPLE_SIGNATURE})
}

fn register_example() -> Value {
    signed_example(
        "register",
        0,
        json!({
            "name": "agent-7",
            "description": "Answers questions about invoices",
            "endpoint": "https://agent-7.example/messages",
            "capabilities": {"messages": true},
            "keys": [
                {
                    "type": 1,
                    "key_data": "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c",
                    "proof": EXAMPLE_SIGNATURE
                },
                {
                    "type": 2,
                    "key_data": "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f",
                    "proof": EXAMPLE_SIGNATURE,
                    "endorsed_by": "key-1"
                }
            ]
        }),
    )
}

fn add_key_example() -> Value {
    signed_example(
        "add-key",
        2,
        json!({
            "key": {
                "type": 1,
                "key_data": "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
                "proof": EXAMPLE_SIGNATURE
            }
        }),
    )
}

fn created_example() -> Value {
    let mut example = resolved_record_example();
    example["state"] = "created".into();
    example["version"] = 1.into();
    example["record"]["is_active"] = false.into();
    example
}

fn deactivated_example() -> Value {
    let mut example = resolved_record_example();
    example["state"] = "deactivated".into();
    example["version"] = 5.into();
    example["record"]["is_active"] = false.into();
    example
}
