//! Errors of the registry layer and their diagnostic codes (PROTOCOL.md
//! §10.5, §13.6).
//!
//! Layer: registry. One enum, [`RegistryError`], named by cause; `code()`
//! gives the diagnostic code and `status()` the HTTP status the node serves
//! it with (`problem()` in [`crate::problem`] builds the RFC 9457 body).
//! Codes of resolution failures are those of §10.5; the write-side codes
//! (`request.*`, `registry.*`) are this implementation's, since \[L\] has no
//! registry chapter. Like every diagnostic code they are for logs, CLI
//! output and the registry's own clients, and are never sent to a message
//! sender to say which check failed.
//!
//! Invariants: no error carries key material or a whole request; a failed
//! signature or proof carries no detail beyond which key it was for.

use sage_core::did::DidError;
use sage_core::primitives::KeyError;
use sage_store::StoreError;

use crate::model::RecordState;
use crate::request::Operation;

/// Why a registry operation or a resolution failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The identifier does not parse (`id.malformed`) or names a chain this
    /// implementation does not know (`id.unknown-kind`).
    #[error("invalid identifier: {0}")]
    Identifier(#[from] DidError),
    /// No record for the identifier.
    #[error("no record for this identifier")]
    NotFound,
    /// A record with this identifier exists (in any state): identifiers are
    /// never reassigned.
    #[error("a record with this identifier already exists")]
    AlreadyRegistered,
    /// The record is not active, so its keys must not be used.
    #[error("the record is {state}, not active")]
    Inactive {
        /// The record's state.
        state: RecordState,
    },
    /// The registry (or its database) cannot be read or written. Never
    /// answered with older data (§9.5).
    #[error("the registry cannot be reached")]
    Unreachable(#[source] Unreachable),
    /// The authoritative record is malformed.
    #[error("the registry holds a malformed record: {0}")]
    InvalidRecord(&'static str),
    /// The key reference names no key of the record (or the record has no
    /// usable signing key).
    #[error("the key is not in the record")]
    KeyNotInRecord,
    /// The key is revoked.
    #[error("the key is revoked")]
    KeyRevoked,
    /// A proof of possession (or a KEM key endorsement) does not verify.
    #[error("the proof of possession of {key} does not verify")]
    BadPop {
        /// The key's name in the record (`key-<n>`).
        key: String,
    },
    /// The request's nonce was seen before within the freshness window.
    #[error("the request was already received (nonce replayed)")]
    Replayed,
    /// The request's timestamp is outside the freshness window.
    #[error("the request timestamp is outside the accepted window")]
    Stale,
    /// The operation is not allowed in the record's state (§9.3).
    #[error("{operation} is not allowed on a {state} record")]
    ForbiddenTransition {
        /// What was asked.
        operation: Operation,
        /// The state the record is in.
        state: RecordState,
    },
    /// Revoking this key would leave the active record without a signing
    /// key: deactivate the record instead (§9.3).
    #[error("the last signing key of an active record cannot be revoked; deactivate instead")]
    LastSigningKey,
    /// The request is not signed by the record's controller key.
    #[error("the request is not signed by the record's controller")]
    Unauthorized,
    /// The request was made against another version of the record than the
    /// current one (or another writer changed it first).
    #[error("the request is for version {requested}, the record is at version {current}")]
    VersionConflict {
        /// The version the request names.
        requested: u64,
        /// The version the record is at.
        current: u64,
    },
    /// The request is malformed or breaks a limit.
    #[error("invalid request: {0}")]
    InvalidRequest(#[from] RequestProblem),
    /// The backend cannot perform this operation.
    #[error("this registry backend does not support {operation}")]
    Unsupported {
        /// What was asked.
        operation: Operation,
    },
    /// A remote registry refused the operation for a reason this layer has
    /// no variant for (a contract revert, a node refusing a transaction).
    #[error("the {backend} registry refused the operation: {reason}")]
    Rejected {
        /// Which backend.
        backend: &'static str,
        /// Its reason, as it gave it.
        reason: String,
    },
}

/// What made a registry unreachable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Unreachable {
    /// The node's database failed (connection, query, nonce writer).
    #[error("database: {0}")]
    Store(#[from] StoreError),
    /// A remote registry failed; `detail` is its error as text (the types
    /// of a chain client do not cross into this crate).
    #[error("{backend}: {detail}")]
    Remote {
        /// Which backend (`ethereum`, ...).
        backend: &'static str,
        /// What it reported.
        detail: String,
    },
}

/// A request that is malformed or breaks a limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RequestProblem {
    /// A text field is empty where it may not be.
    #[error("{0} must not be empty")]
    Empty(&'static str),
    /// A field is longer than its limit.
    #[error("{field} is longer than {max} bytes")]
    TooLong {
        /// Which field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// The endpoint is not an absolute http(s) URL with a host and no
    /// user information or fragment.
    #[error("endpoint must be an absolute http or https URL with a host")]
    BadEndpoint,
    /// More keys than a record may ever hold.
    #[error("a record holds at most {max} keys over its life")]
    TooManyKeys {
        /// The limit.
        max: usize,
    },
    /// A registration without a signing (Ed25519 or secp256k1) key.
    #[error("a record needs at least one Ed25519 or secp256k1 signing key")]
    NoSigningKey,
    /// The same key bytes twice (keys are never reused, §9.1).
    #[error("key {0} is already registered in this record")]
    DuplicateKey(String),
    /// A key type the registry cannot hold (P-256 has no registry integer).
    #[error("key type {0} cannot be registered")]
    UnsupportedKeyType(&'static str),
    /// Key bytes that are not a valid key of their type.
    #[error("key {name} is invalid: {cause}")]
    InvalidKey {
        /// The key's name (`key-<n>`).
        name: String,
        /// Why.
        cause: KeyError,
    },
    /// An X25519 key without an endorsing signing key, or a signing key
    /// with one.
    #[error("key {0}: an X25519 key needs endorsed_by, a signing key must not have it")]
    Endorsement(String),
    /// `endorsed_by` names no accepted signing key of the record.
    #[error("key {0} is endorsed by a key that is not an accepted signing key of the record")]
    UnknownEndorser(String),
    /// The nonce is not 16 to 128 base64url characters.
    #[error("the nonce must be 16 to 128 base64url characters")]
    BadNonce,
    /// A registration must name version 0.
    #[error("a registration must be made against version 0")]
    RegistrationVersion,
    /// An owner label this backend cannot look up (the Ethereum registry
    /// lists by account address).
    #[error("the owner must be a 0x account address on this backend")]
    BadOwner,
    /// An update that changes nothing.
    #[error("the update changes nothing")]
    EmptyUpdate,
    /// The record is at the largest version; it can no longer change.
    #[error("the record is at its largest version")]
    VersionExhausted,
}

impl RegistryError {
    /// The diagnostic code (PROTOCOL.md §10.5, §13.6, and this
    /// implementation's `request.*` / `registry.*` codes for writes).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Identifier(e) => e.code(),
            Self::NotFound => "record.not-found",
            Self::AlreadyRegistered => "registry.exists",
            Self::Inactive { .. } => "record.inactive",
            Self::Unreachable(_) => "record.unreachable",
            Self::InvalidRecord(_) => "record.invalid",
            Self::KeyNotInRecord => "key.not-in-record",
            Self::KeyRevoked => "key.revoked",
            Self::BadPop { .. } => "pop.bad",
            Self::Replayed => "request.replayed",
            Self::Stale => "request.stale",
            Self::ForbiddenTransition { .. } | Self::LastSigningKey => {
                "registry.forbidden-transition"
            }
            Self::Unauthorized => "registry.unauthorized",
            Self::VersionConflict { .. } => "registry.version-conflict",
            Self::InvalidRequest(_) => "request.invalid",
            Self::Unsupported { .. } => "registry.unsupported",
            Self::Rejected { .. } => "registry.rejected",
        }
    }

    /// The HTTP status the error is served with: §10.5's for the codes it
    /// lists, otherwise 400 for a malformed request, 403 for a request the
    /// controller did not sign, 409 for a request that conflicts with the
    /// record's state (or that a remote registry refused), 501 for an
    /// operation the backend lacks.
    pub fn status(&self) -> u16 {
        match self {
            Self::Identifier(_) | Self::InvalidRequest(_) | Self::BadPop { .. } | Self::Stale => {
                400
            }
            Self::Unauthorized => 403,
            Self::NotFound | Self::KeyNotInRecord => 404,
            Self::AlreadyRegistered
            | Self::Inactive { .. }
            | Self::KeyRevoked
            | Self::Replayed
            | Self::ForbiddenTransition { .. }
            | Self::LastSigningKey
            | Self::VersionConflict { .. }
            | Self::Rejected { .. } => 409,
            Self::Unsupported { .. } => 501,
            Self::Unreachable(_) | Self::InvalidRecord(_) => 502,
        }
    }

    /// A store failure as a registry failure: a malformed stored row is a
    /// malformed record, a value over a column's limit is a bad request,
    /// and anything else means the database cannot be used.
    pub(crate) fn from_store(error: StoreError) -> Self {
        match error {
            StoreError::CorruptRow { problem, .. } => Self::InvalidRecord(problem),
            StoreError::TooLong { field, max } => {
                Self::InvalidRequest(RequestProblem::TooLong { field, max })
            }
            other => Self::Unreachable(Unreachable::Store(other)),
        }
    }
}
