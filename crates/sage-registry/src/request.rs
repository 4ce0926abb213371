//! Controller-signed registry requests (PROTOCOL.md §9.3).
//!
//! Layer: registry model, no I/O. Every operation of §9.3 is a
//! [`Request`]: a [`RequestHeader`] (DID, nonce, timestamp, the version of
//! the record the signer saw) and a body ([`Register`], [`Activate`],
//! [`AddKey`], [`RevokeKey`], [`Update`], [`Deactivate`]). The controller
//! signs the request's canonical JSON (RFC 8785) with its key's \[L\]
//! signing convention (§3.2), giving a [`SignedRequest`].
//!
//! The signed JSON has these members, and the body's:
//!
//! ```text
//! {"domain":"sage-local-registry/v1","operation":"add-key","did":…,
//!  "nonce":…,"timestamp":<Unix seconds>,"version":<record version>, …}
//! ```
//!
//! `domain` keeps a request signature from ever verifying as any other
//! signed object of the same key. It is not a protocol wire label: \[L\]
//! has no registry chapter, so this format belongs to this implementation's
//! local registry (docs/REGISTRY.md). Byte strings are lower-case hex and
//! key types their registry integers, as in AgentMetadataV4 (§8.2).
//!
//! What it does not do: decide who the controller is, check freshness,
//! nonces or versions (that is the registry's job, see `local`).

use core::fmt;

use rand_core::CryptoRng;
use sage_core::did::{Did, PopError, sign_pop};
use sage_core::encoding::{b64url_encode, hex_encode};
use sage_core::jcs::canonicalize_serde;
use sage_core::primitives::{KeyType, SignatureError, SigningKey, VerifyingKey, X25519PublicKey};
use sage_core::time::Timestamp;
use sage_core::version::Labels;
use serde_json::{Map, Value};

use crate::endorse::endorse_kem_key;

/// The `domain` member of every signed request.
pub const REQUEST_DOMAIN: &str = "sage-local-registry/v1";
/// Shortest nonce accepted, in characters.
pub const MIN_NONCE_LEN: usize = 16;
/// Longest nonce accepted, in characters.
pub const MAX_NONCE_LEN: usize = 128;
/// Random bytes in a nonce made by [`RequestHeader::new`] (24 characters).
const NONCE_BYTES: usize = 18;

/// A registry operation (§9.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Create a record (state `created`).
    Register,
    /// `created` → `active`.
    Activate,
    /// Add a key to an active record.
    AddKey,
    /// Revoke a key of an active record.
    RevokeKey,
    /// Change the name, description, endpoint or capabilities of an
    /// active record.
    Update,
    /// → `deactivated`, terminal.
    Deactivate,
}

impl Operation {
    /// The operation's name in requests, history and errors.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Register => "register",
            Self::Activate => "activate",
            Self::AddKey => "add-key",
            Self::RevokeKey => "revoke-key",
            Self::Update => "update",
            Self::Deactivate => "deactivate",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What every request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHeader {
    /// The record's DID.
    pub did: Did,
    /// 16 to 128 base64url characters, never used twice for this DID
    /// within the freshness window.
    pub nonce: String,
    /// When the request was made (whole seconds count).
    pub timestamp: Timestamp,
    /// The record version the signer saw: 0 for a registration.
    pub version: u64,
}

impl RequestHeader {
    /// A header with a fresh random nonce.
    pub fn new<R: CryptoRng + ?Sized>(
        did: Did,
        version: u64,
        timestamp: Timestamp,
        rng: &mut R,
    ) -> Self {
        let mut bytes = [0u8; NONCE_BYTES];
        rng.fill_bytes(&mut bytes);
        Self {
            did,
            nonce: b64url_encode(&bytes),
            timestamp,
            version,
        }
    }
}

mod sealed {
    pub trait Sealed {}
}

/// The body of a request; implemented by the six operations only.
pub trait RequestBody: sealed::Sealed + fmt::Debug + Send + Sync {
    /// The operation.
    const OPERATION: Operation;

    /// Adds the body's members to the request's JSON object.
    fn write_members(&self, members: &mut Map<String, Value>);
}

/// A key to register or add.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    /// Key type.
    pub key_type: KeyType,
    /// Raw public key bytes (§3.1).
    pub key_data: Vec<u8>,
    /// A signing key's SAGE-PoP for the DID, or an X25519 key's
    /// endorsement.
    pub proof: Vec<u8>,
    /// For an X25519 key: the name (`key-<n>`) of the accepted signing key
    /// that endorsed it. `None` for a signing key.
    pub endorsed_by: Option<String>,
}

impl NewKey {
    /// A signing key with its SAGE-PoP for `did` (§8.5).
    ///
    /// # Errors
    /// [`PopError::UnsupportedKeyType`] for P-256, which \[L\] cannot
    /// register.
    pub fn signing(labels: &Labels, key: &SigningKey, did: &Did) -> Result<Self, PopError> {
        Ok(Self {
            key_type: key.key_type(),
            key_data: key.verifying_key().to_bytes(),
            proof: sign_pop(labels, key, did)?,
            endorsed_by: None,
        })
    }

    /// An X25519 KEM key endorsed by `endorser`, which is (or will be) the
    /// record's key named `endorser_name` (see [`crate::endorse`]).
    pub fn kem(
        labels: &Labels,
        did: &Did,
        kem: &X25519PublicKey,
        endorser: &SigningKey,
        endorser_name: &str,
    ) -> Self {
        Self {
            key_type: KeyType::X25519,
            key_data: kem.to_bytes().to_vec(),
            proof: endorse_kem_key(labels, did, kem, endorser),
            endorsed_by: Some(endorser_name.to_owned()),
        }
    }

    fn to_value(&self) -> Value {
        let mut key = Map::new();
        key.insert(
            "type".into(),
            self.key_type
                .registry_code()
                .map_or(Value::Null, Value::from),
        );
        key.insert("key_data".into(), hex_encode(&self.key_data).into());
        key.insert("proof".into(), hex_encode(&self.proof).into());
        if let Some(signer) = &self.endorsed_by {
            key.insert("endorsed_by".into(), signer.as_str().into());
        }
        Value::Object(key)
    }
}

/// Create a record. Its first signing key becomes the controller and must
/// sign the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    /// Display name (1 to 256 bytes).
    pub name: String,
    /// Display description.
    pub description: String,
    /// Endpoint URL (absolute http or https).
    pub endpoint: String,
    /// Free-form capabilities.
    pub capabilities: Map<String, Value>,
    /// The keys, at least one signing key; named `key-1`, `key-2`, ... in
    /// this order.
    pub keys: Vec<NewKey>,
}

/// `created` → `active`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Activate;

/// Add a key to an active record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddKey {
    /// The key; it is named `key-<number of keys + 1>`.
    pub key: NewKey,
}

/// Revoke a key of an active record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevokeKey {
    /// The key's name (`key-<n>`).
    pub key: String,
}

/// Change descriptive fields of an active record; `None` keeps a field.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Update {
    /// New display name.
    pub name: Option<String>,
    /// New description.
    pub description: Option<String>,
    /// New endpoint URL.
    pub endpoint: Option<String>,
    /// New capabilities (replaces the whole object).
    pub capabilities: Option<Map<String, Value>>,
}

/// → `deactivated`, terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Deactivate;

impl sealed::Sealed for Register {}
impl sealed::Sealed for Activate {}
impl sealed::Sealed for AddKey {}
impl sealed::Sealed for RevokeKey {}
impl sealed::Sealed for Update {}
impl sealed::Sealed for Deactivate {}

impl RequestBody for Register {
    const OPERATION: Operation = Operation::Register;

    fn write_members(&self, members: &mut Map<String, Value>) {
        members.insert("name".into(), self.name.as_str().into());
        members.insert("description".into(), self.description.as_str().into());
        members.insert("endpoint".into(), self.endpoint.as_str().into());
        members.insert(
            "capabilities".into(),
            Value::Object(self.capabilities.clone()),
        );
        members.insert(
            "keys".into(),
            Value::Array(self.keys.iter().map(NewKey::to_value).collect()),
        );
    }
}

impl RequestBody for Activate {
    const OPERATION: Operation = Operation::Activate;

    fn write_members(&self, _: &mut Map<String, Value>) {}
}

impl RequestBody for AddKey {
    const OPERATION: Operation = Operation::AddKey;

    fn write_members(&self, members: &mut Map<String, Value>) {
        members.insert("key".into(), self.key.to_value());
    }
}

impl RequestBody for RevokeKey {
    const OPERATION: Operation = Operation::RevokeKey;

    fn write_members(&self, members: &mut Map<String, Value>) {
        members.insert("key".into(), self.key.as_str().into());
    }
}

impl RequestBody for Update {
    const OPERATION: Operation = Operation::Update;

    fn write_members(&self, members: &mut Map<String, Value>) {
        if let Some(name) = &self.name {
            members.insert("name".into(), name.as_str().into());
        }
        if let Some(description) = &self.description {
            members.insert("description".into(), description.as_str().into());
        }
        if let Some(endpoint) = &self.endpoint {
            members.insert("endpoint".into(), endpoint.as_str().into());
        }
        if let Some(capabilities) = &self.capabilities {
            members.insert("capabilities".into(), Value::Object(capabilities.clone()));
        }
    }
}

impl RequestBody for Deactivate {
    const OPERATION: Operation = Operation::Deactivate;

    fn write_members(&self, _: &mut Map<String, Value>) {}
}

/// An unsigned request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request<B> {
    /// DID, nonce, timestamp, version.
    pub header: RequestHeader,
    /// The operation's fields.
    pub body: B,
}

impl<B: RequestBody> Request<B> {
    /// A request.
    pub fn new(header: RequestHeader, body: B) -> Self {
        Self { header, body }
    }

    /// The request as a JSON object (the members the signature covers).
    pub fn to_json_value(&self) -> Value {
        let mut members = Map::new();
        members.insert("domain".into(), REQUEST_DOMAIN.into());
        members.insert("operation".into(), B::OPERATION.as_str().into());
        members.insert("did".into(), self.header.did.as_str().into());
        members.insert("nonce".into(), self.header.nonce.as_str().into());
        members.insert(
            "timestamp".into(),
            self.header.timestamp.unix_seconds().into(),
        );
        members.insert("version".into(), self.header.version.into());
        self.body.write_members(&mut members);
        Value::Object(members)
    }

    /// The RFC 8785 canonical bytes the controller signs.
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonicalize_serde(&self.to_json_value())
    }

    /// Signs the request with `key` (the \[L\] convention of its type).
    pub fn sign(self, key: &SigningKey) -> SignedRequest<B> {
        let signature = key.sign(&self.canonical_bytes());
        SignedRequest {
            request: self,
            signature,
        }
    }
}

/// A request and its controller signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest<B> {
    request: Request<B>,
    signature: Vec<u8>,
}

impl<B: RequestBody> SignedRequest<B> {
    /// A request with a signature made elsewhere (checked by the registry).
    pub fn from_parts(request: Request<B>, signature: Vec<u8>) -> Self {
        Self { request, signature }
    }

    /// The request.
    pub fn request(&self) -> &Request<B> {
        &self.request
    }

    /// The header.
    pub fn header(&self) -> &RequestHeader {
        &self.request.header
    }

    /// The body.
    pub fn body(&self) -> &B {
        &self.request.body
    }

    /// The signature.
    pub fn signature(&self) -> &[u8] {
        &self.signature
    }

    /// Checks the signature with `key`.
    ///
    /// # Errors
    /// The [`SignatureError`] of the key's verifier.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), SignatureError> {
        key.verify(&self.request.canonical_bytes(), &self.signature)
    }
}
