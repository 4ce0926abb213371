//! The node's registry: whichever backend the configuration names, behind
//! one type, and the caching resolver in front of it.
//!
//! Layer: node, wiring. [`Registry`] uses `impl Future` methods (no
//! boxing on the hot path), so it is not object-safe; [`AnyRegistry`]
//! dispatches to the configured backend with a `match` instead of a
//! `dyn`. [`NodeResolver`] is the one resolver a node shares between the
//! protocol endpoints and the management API: its cache is the store's
//! `dids` table, so nodes on one PostgreSQL share it (PROTOCOL.md §9.5).

use sage_core::did::Did;
use sage_registry::request::{
    Activate, AddKey, Deactivate, Register, RevokeKey, SignedRequest, Update,
};
use sage_registry::{
    CachingResolver, ListRequest, Listing, LocalRegistry, Registry, RegistryError, ResolvedRecord,
};
use sage_registry_eth::EthRegistry;
use sage_store::Store;

/// The resolver every part of a node uses.
pub type NodeResolver = CachingResolver<AnyRegistry, Store>;

/// The configured registry backend.
#[derive(Debug)]
#[non_exhaustive]
pub enum AnyRegistry {
    /// Records in the node's own database (`registry.backend = local`).
    Local(LocalRegistry<Store>),
    /// The `AgentCardRegistry` contract (`registry.backend = ethereum`).
    Ethereum(EthRegistry),
}

impl AnyRegistry {
    /// `local` or `ethereum`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Local(_) => "local",
            Self::Ethereum(_) => "ethereum",
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $method:ident, $($arg:expr),*) => {
        match $self {
            AnyRegistry::Local(r) => r.$method($($arg),*).await,
            AnyRegistry::Ethereum(r) => r.$method($($arg),*).await,
        }
    };
}

impl Registry for AnyRegistry {
    async fn register(
        &self,
        request: &SignedRequest<Register>,
    ) -> Result<ResolvedRecord, RegistryError> {
        dispatch!(self, register, request)
    }

    async fn activate(
        &self,
        request: &SignedRequest<Activate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        dispatch!(self, activate, request)
    }

    async fn add_key(
        &self,
        request: &SignedRequest<AddKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        dispatch!(self, add_key, request)
    }

    async fn revoke_key(
        &self,
        request: &SignedRequest<RevokeKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        dispatch!(self, revoke_key, request)
    }

    async fn update(
        &self,
        request: &SignedRequest<Update>,
    ) -> Result<ResolvedRecord, RegistryError> {
        dispatch!(self, update, request)
    }

    async fn deactivate(
        &self,
        request: &SignedRequest<Deactivate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        dispatch!(self, deactivate, request)
    }

    async fn resolve(&self, did: &Did) -> Result<ResolvedRecord, RegistryError> {
        dispatch!(self, resolve, did)
    }

    async fn list_by_owner(
        &self,
        owner: &str,
        page: &ListRequest,
    ) -> Result<Listing, RegistryError> {
        dispatch!(self, list_by_owner, owner, page)
    }
}
