//! The W3C DID document of a resolved record and its metadata
//! (PROTOCOL.md §10.1–§10.3, key selection §8.4).
//!
//! Layer: resolution output, no I/O. \[L\] resolution returns the
//! AgentMetadataV4 record and has no document (open item O-8), so the shape
//! is the \[N\] one of §10.1, applied to \[L\] records:
//!
//! - members exactly `id`, `verificationMethod`, `authentication`,
//!   `assertionMethod`, `keyAgreement`, `service`; no `@context`
//!   (`application/did+json`);
//! - every accepted key is a `JsonWebKey2020` method `<DID>#key-<n>` (the
//!   registry name, which is also the \[L\] card's fragment) with a JWK of
//!   exactly `kty`, `crv`, `x` (+ `y` for EC), in registry order; revoked
//!   keys are left out;
//! - relationships follow §8.4, because an \[L\] verifier uses one key of
//!   each kind and never the others: `authentication` and
//!   `assertionMethod` name the selected signing key (first secp256k1,
//!   else first Ed25519, with its proof of possession rechecked), and
//!   `keyAgreement` the selected KEM key (`public_kem_key`, else the first
//!   accepted X25519 key whose endorsement, if it carries one, holds);
//!   a KEM key given only as `public_kem_key` becomes the method `#kem-1`;
//! - a record that is not active has empty method and relationship arrays;
//! - the endpoint is the one service, `{"id": "<DID>#agent", "type":
//!   "SageAgent", "serviceEndpoint": …}` (the \[D2\] example of §10.1).
//!
//! Metadata (§10.3 \[D2\] with the \[N\] `sage` member): `deactivated`,
//! `created`, `updated`, `versionId` (when known) and `sage` = {`state`,
//! `owner`, `source`, `observedTime`}.
//!
//! The vocabulary below is not in `sage_core::version::Labels`: that table
//! holds \[L\] wire labels, and \[L\] has no document.

use sage_core::did::{AgentKey, AgentRecord};
use sage_core::primitives::jwk::public_to_document_jwk;
use sage_core::primitives::{KeyType, PublicKey, VerifyingKey};
use sage_core::version::Labels;
use serde::Serialize;
use serde_json::{Value, json};

use crate::endorse::verify_kem_endorsement;
use crate::error::RegistryError;
use crate::model::{RecordState, key_name};
use crate::registry::ResolvedRecord;

/// The verification method type (§10.1 \[N\]).
pub const VERIFICATION_METHOD_TYPE: &str = "JsonWebKey2020";
/// The type of the endpoint service (§10.1 \[D2\] example).
pub const SERVICE_TYPE: &str = "SageAgent";
/// The fragment of the endpoint service.
pub const SERVICE_FRAGMENT: &str = "agent";
/// The fragment of a KEM key given only as `public_kem_key`.
pub const SEPARATE_KEM_FRAGMENT: &str = "kem-1";
/// The media type of a document alone.
pub const DID_JSON_CONTENT_TYPE: &str = "application/did+json";

/// A DID document (§10.1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DidDocument {
    /// The DID.
    pub id: String,
    /// The accepted keys of an active record.
    pub verification_method: Vec<VerificationMethod>,
    /// The §8.4 signing key.
    pub authentication: Vec<String>,
    /// The §8.4 signing key.
    pub assertion_method: Vec<String>,
    /// The §8.4 KEM key.
    pub key_agreement: Vec<String>,
    /// The endpoint.
    pub service: Vec<Service>,
}

/// One verification method.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerificationMethod {
    /// `<DID>#<name>`.
    pub id: String,
    /// [`VERIFICATION_METHOD_TYPE`].
    #[serde(rename = "type")]
    pub method_type: String,
    /// The DID.
    pub controller: String,
    /// `kty`, `crv`, `x` (and `y`).
    pub public_key_jwk: Value,
}

/// One service.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Service {
    /// `<DID>#agent`.
    pub id: String,
    /// [`SERVICE_TYPE`].
    #[serde(rename = "type")]
    pub service_type: String,
    /// The endpoint URL.
    pub service_endpoint: String,
}

/// `didDocumentMetadata` (§10.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DocumentMetadata {
    /// True when the state is deactivated.
    pub deactivated: bool,
    /// Registration time, RFC 3339.
    pub created: String,
    /// Last change, RFC 3339.
    pub updated: String,
    /// The record's version, when the answer carries it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// SAGE specifics.
    pub sage: SageMetadata,
}

/// The `sage` member of the document metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SageMetadata {
    /// `created`, `active` or `deactivated` (always explicit).
    pub state: String,
    /// The record's owner label.
    pub owner: String,
    /// `registry` or `cache`.
    pub source: String,
    /// When the observation finished, Unix seconds.
    pub observed_time: i64,
}

impl ResolvedRecord {
    /// The DID document (see the module documentation).
    ///
    /// # Errors
    /// [`RegistryError::InvalidRecord`] if an accepted key's bytes are not
    /// a valid key of its type.
    pub fn document(&self, labels: &Labels) -> Result<DidDocument, RegistryError> {
        let record = &self.record;
        let did = record.did.as_str();
        let url = |fragment: &str| format!("{did}#{fragment}");
        let mut document = DidDocument {
            id: did.to_owned(),
            verification_method: Vec::new(),
            authentication: Vec::new(),
            assertion_method: Vec::new(),
            key_agreement: Vec::new(),
            service: Vec::new(),
        };
        if !record.endpoint.is_empty() {
            document.service.push(Service {
                id: url(SERVICE_FRAGMENT),
                service_type: SERVICE_TYPE.to_owned(),
                service_endpoint: record.endpoint.clone(),
            });
        }
        if self.state != RecordState::Active || !record.is_active {
            return Ok(document);
        }
        for (position, key) in record.keys.iter().enumerate() {
            if key.verified {
                document.verification_method.push(method(
                    &url(&key_name(labels, position)),
                    did,
                    key.key_type,
                    &key.key_data,
                )?);
            }
        }
        if let Ok(selected) = record.select_proven_keys(labels) {
            let signing = url(&key_name(labels, selected.signing_index()));
            document.authentication.push(signing.clone());
            document.assertion_method.push(signing);
        }
        match &record.public_kem_key {
            Some(kem) => {
                let id = url(SEPARATE_KEM_FRAGMENT);
                document
                    .verification_method
                    .push(method(&id, did, KeyType::X25519, kem)?);
                document.key_agreement.push(id);
            }
            None => {
                if let Some(position) = kem_position(labels, record) {
                    document
                        .key_agreement
                        .push(url(&key_name(labels, position)));
                }
            }
        }
        Ok(document)
    }

    /// `didDocumentMetadata` (§10.3).
    pub fn metadata(&self) -> DocumentMetadata {
        DocumentMetadata {
            deactivated: self.state == RecordState::Deactivated,
            created: self.record.created_at.to_rfc3339(),
            updated: self.record.updated_at.to_rfc3339(),
            version_id: self.version.map(|v| v.to_string()),
            sage: SageMetadata {
                state: self.state.as_str().to_owned(),
                owner: self.record.owner.clone(),
                source: self.source.as_str().to_owned(),
                observed_time: self.observed_at.unix_seconds(),
            },
        }
    }

    /// The resolution result: `didDocument`, `didDocumentMetadata` and
    /// `didResolutionMetadata` (§10.2).
    ///
    /// # Errors
    /// As [`ResolvedRecord::document`].
    pub fn resolution(&self, labels: &Labels) -> Result<Value, RegistryError> {
        Ok(json!({
            "didDocument": to_value(&self.document(labels)?),
            "didDocumentMetadata": to_value(&self.metadata()),
            "didResolutionMetadata": { "contentType": DID_JSON_CONTENT_TYPE },
        }))
    }
}

/// A document's JSON value (these types always serialise).
fn to_value<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

fn method(
    id: &str,
    did: &str,
    key_type: KeyType,
    key_data: &[u8],
) -> Result<VerificationMethod, RegistryError> {
    let public = PublicKey::from_bytes(key_type, key_data)
        .map_err(|_| RegistryError::InvalidRecord("an accepted key is not a valid key"))?;
    Ok(VerificationMethod {
        id: id.to_owned(),
        method_type: VERIFICATION_METHOD_TYPE.to_owned(),
        controller: did.to_owned(),
        public_key_jwk: public_to_document_jwk(&public),
    })
}

/// The first accepted X25519 key whose endorsement holds. A key without an
/// endorsement counts, as in \[L\] (where X25519 keys carry no proof); one
/// whose endorsement fails under every signing key of the record (revoked
/// ones included: §9.4 historical signer) does not.
fn kem_position(labels: &Labels, record: &AgentRecord) -> Option<usize> {
    record.keys.iter().position(|key| {
        key.verified
            && key.key_type == KeyType::X25519
            && key.key_data.len() == KeyType::X25519.public_key_len()
            && endorsement_holds(labels, record, key)
    })
}

fn endorsement_holds(labels: &Labels, record: &AgentRecord, kem: &AgentKey) -> bool {
    if kem.signature.is_empty() {
        return true;
    }
    record
        .keys
        .iter()
        .filter_map(|k| VerifyingKey::from_bytes(k.key_type, &k.key_data).ok())
        .any(|signer| {
            verify_kem_endorsement(labels, &record.did, &kem.key_data, &signer, &kem.signature)
                .is_ok()
        })
}
