//! The [`Registry`] interface every backend implements, and what a
//! resolution returns (PROTOCOL.md §9.3, §10.2).
//!
//! Layer: registry API. A backend — the embedded [`crate::LocalRegistry`],
//! the Ethereum adapter of `sage-registry-eth`, a test double — performs
//! the §9.3 operations from controller-signed requests and resolves a DID
//! to a [`ResolvedRecord`]: the \[L\] AgentMetadataV4 record (§8.2) plus
//! the state, version and observation the \[D2\] metadata needs (§10.3).
//! [`crate::CachingResolver`] wraps any backend.
//!
//! Contract of `resolve` (§9.5, §10.2): one observation per call; a record
//! that cannot be read is [`RegistryError::Unreachable`], never an older
//! answer; a missing record is [`RegistryError::NotFound`]; a created or
//! deactivated record resolves (its document has no keys) but must never
//! authenticate anything — [`ResolvedRecord::select_keys`] refuses it.
//!
//! Futures are `Send` (Rust 2024 `impl Future` in traits, no macro), so a
//! multi-threaded server can hold them across `.await`.

use core::future::Future;
use std::sync::Arc;

use sage_core::did::{AgentRecord, Did, RecordError, SelectedKeys};
use sage_core::time::Timestamp;
use sage_core::version::Labels;

use crate::error::RegistryError;
use crate::model::{RecordState, RegistryRecord};
use crate::request::{Activate, AddKey, Deactivate, Register, RevokeKey, SignedRequest, Update};

/// Largest page [`Registry::list_by_owner`] returns.
pub const MAX_LIST_LIMIT: u32 = 1_000;

/// A registry backend: the operations of §9.3 and resolution.
pub trait Registry: Send + Sync {
    /// Creates a record (state `created`); every key's proof is checked.
    ///
    /// # Errors
    /// [`RegistryError::AlreadyRegistered`], [`RegistryError::BadPop`],
    /// [`RegistryError::InvalidRequest`], the authorisation errors
    /// ([`RegistryError::Unauthorized`], [`RegistryError::Stale`],
    /// [`RegistryError::Replayed`]) and [`RegistryError::Unreachable`].
    fn register(
        &self,
        request: &SignedRequest<Register>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send;

    /// `created` → `active`.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`], [`RegistryError::ForbiddenTransition`],
    /// [`RegistryError::VersionConflict`], the authorisation errors and
    /// [`RegistryError::Unreachable`].
    fn activate(
        &self,
        request: &SignedRequest<Activate>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send;

    /// Adds a key to an active record; its proof is checked.
    ///
    /// # Errors
    /// As [`Registry::activate`], plus [`RegistryError::BadPop`] and
    /// [`RegistryError::InvalidRequest`].
    fn add_key(
        &self,
        request: &SignedRequest<AddKey>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send;

    /// Revokes a key of an active record (the entry is kept).
    ///
    /// # Errors
    /// As [`Registry::activate`], plus [`RegistryError::KeyNotInRecord`],
    /// [`RegistryError::KeyRevoked`] and [`RegistryError::LastSigningKey`].
    fn revoke_key(
        &self,
        request: &SignedRequest<RevokeKey>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send;

    /// Changes the name, description, endpoint or capabilities of an
    /// active record.
    ///
    /// # Errors
    /// As [`Registry::activate`], plus [`RegistryError::InvalidRequest`]
    /// and [`RegistryError::Unsupported`] where a backend cannot.
    fn update(
        &self,
        request: &SignedRequest<Update>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send;

    /// → `deactivated` (terminal).
    ///
    /// # Errors
    /// As [`Registry::activate`].
    fn deactivate(
        &self,
        request: &SignedRequest<Deactivate>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send;

    /// The record of `did` as the registry holds it now.
    ///
    /// # Errors
    /// [`RegistryError::NotFound`], [`RegistryError::Unreachable`],
    /// [`RegistryError::InvalidRecord`].
    fn resolve(
        &self,
        did: &Did,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send;

    /// The records whose owner is `owner`, by DID, in any state.
    ///
    /// # Errors
    /// [`RegistryError::InvalidRequest`] for a limit of 0 or above
    /// [`MAX_LIST_LIMIT`]; [`RegistryError::Unreachable`];
    /// [`RegistryError::Unsupported`] where a backend cannot list.
    fn list_by_owner(
        &self,
        owner: &str,
        page: &ListRequest,
    ) -> impl Future<Output = Result<Listing, RegistryError>> + Send;
}

/// A shared backend is a backend (a node hands one registry to several
/// services).
impl<R: Registry> Registry for Arc<R> {
    fn register(
        &self,
        request: &SignedRequest<Register>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send {
        (**self).register(request)
    }

    fn activate(
        &self,
        request: &SignedRequest<Activate>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send {
        (**self).activate(request)
    }

    fn add_key(
        &self,
        request: &SignedRequest<AddKey>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send {
        (**self).add_key(request)
    }

    fn revoke_key(
        &self,
        request: &SignedRequest<RevokeKey>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send {
        (**self).revoke_key(request)
    }

    fn update(
        &self,
        request: &SignedRequest<Update>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send {
        (**self).update(request)
    }

    fn deactivate(
        &self,
        request: &SignedRequest<Deactivate>,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send {
        (**self).deactivate(request)
    }

    fn resolve(
        &self,
        did: &Did,
    ) -> impl Future<Output = Result<ResolvedRecord, RegistryError>> + Send {
        (**self).resolve(did)
    }

    fn list_by_owner(
        &self,
        owner: &str,
        page: &ListRequest,
    ) -> impl Future<Output = Result<Listing, RegistryError>> + Send {
        (**self).list_by_owner(owner, page)
    }
}

/// Where a resolution's answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Source {
    /// The registry itself, at [`ResolvedRecord::observed_at`].
    Registry,
    /// The shared resolver cache (the `dids` table), filled from the
    /// registry at `fetched_at`.
    Cache {
        /// When the registry was observed.
        fetched_at: Timestamp,
    },
}

impl Source {
    /// `registry` or `cache`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Registry => "registry",
            Self::Cache { .. } => "cache",
        }
    }
}

/// A resolved record: the \[L\] AgentMetadataV4 shape and its metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedRecord {
    /// The record (§8.2): `verified` marks accepted keys, `is_active` the
    /// active state.
    pub record: AgentRecord,
    /// The lifecycle state.
    pub state: RecordState,
    /// The record's version, when the answer carries one (the registry
    /// does; the shared cache keeps only the AgentMetadataV4 shape, and a
    /// deployed contract has none).
    pub version: Option<u64>,
    /// When the registry was observed (local clock): for a cached answer,
    /// when the read that filled the cache happened.
    pub observed_at: Timestamp,
    /// Registry or cache.
    pub source: Source,
}

impl ResolvedRecord {
    /// The answer for `record` as the registry holds it, observed at `now`.
    pub fn from_registry_record(record: &RegistryRecord, now: Timestamp) -> Self {
        Self {
            record: record.to_agent_record(),
            state: record.state,
            version: Some(record.version),
            observed_at: now,
            source: Source::Registry,
        }
    }

    /// Whether the record is deactivated (a resolution, not an error:
    /// §10.5).
    pub fn is_deactivated(&self) -> bool {
        self.state == RecordState::Deactivated
    }

    /// The keys a verifier uses (§8.4), with every proof of possession
    /// rechecked (§8.5: a key whose proof fails never counts).
    ///
    /// # Errors
    /// [`RegistryError::Inactive`] unless the record is active;
    /// [`RegistryError::KeyNotInRecord`] without a proven signing key;
    /// [`RegistryError::InvalidRecord`] for a selected key that is not a
    /// valid key.
    pub fn select_keys(&self, labels: &Labels) -> Result<SelectedKeys, RegistryError> {
        if self.state != RecordState::Active {
            return Err(RegistryError::Inactive { state: self.state });
        }
        self.record.select_proven_keys(labels).map_err(|e| match e {
            RecordError::Inactive => RegistryError::Inactive { state: self.state },
            RecordError::NoSigningKey => RegistryError::KeyNotInRecord,
            _ => RegistryError::InvalidRecord("a selected key is not a valid key"),
        })
    }
}

/// Which page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    /// Most records returned, 1 to [`MAX_LIST_LIMIT`].
    pub limit: u32,
    /// Continue after this DID.
    pub after: Option<String>,
}

impl ListRequest {
    /// The first page of at most `limit` records.
    pub fn first(limit: u32) -> Self {
        Self { limit, after: None }
    }

    /// The limit, checked (for backends).
    ///
    /// # Errors
    /// [`RegistryError::InvalidRequest`] for 0 or more than
    /// [`MAX_LIST_LIMIT`].
    pub fn checked_limit(&self) -> Result<u32, RegistryError> {
        if (1..=MAX_LIST_LIMIT).contains(&self.limit) {
            Ok(self.limit)
        } else {
            Err(crate::error::RequestProblem::TooLong {
                field: "limit",
                max: usize::try_from(MAX_LIST_LIMIT).unwrap_or(usize::MAX),
            }
            .into())
        }
    }
}

/// One page of records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// The records, by DID.
    pub items: Vec<ResolvedRecord>,
    /// The next page, when this one was full.
    pub next: Option<ListRequest>,
}
