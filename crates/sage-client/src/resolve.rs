//! Finding a peer: its DID's verifying key, KEM key and endpoint
//! (PROTOCOL.md §8.4, §10.2).
//!
//! Layer: the client's view of the registry. [`ResolvePeer`] is what the
//! client asks; [`RegistryResolver`] answers from any
//! [`sage_registry::Registry`] (the local registry, the Ethereum adapter,
//! or either behind a [`sage_registry::CachingResolver`]), through
//! [`ResolvedRecord::select_keys`](sage_registry::ResolvedRecord::select_keys),
//! so an inactive record or a key without a valid proof of possession is
//! never used. [`StaticPeers`] answers from a fixed table (tests, pinned
//! peers).
//!
//! What it does not do: cache (wrap the registry in a `CachingResolver`),
//! or trust an agent card's keys (a card only names a DID; its keys are
//! taken from the registry).

use core::fmt;
use core::future::Future;
use std::collections::HashMap;
use std::sync::RwLock;

use sage_core::did::Did;
use sage_core::primitives::{VerifyingKey, X25519PublicKey};
use sage_core::version::ProtocolVersion;
use sage_registry::{Registry, RegistryError};

use crate::error::ClientError;

/// What the client needs to know about a peer.
#[derive(Clone, PartialEq, Eq)]
pub struct PeerKeys {
    /// The peer's DID.
    pub did: Did,
    /// The key that signs its responses and handshake acks (§8.4).
    pub signing: VerifyingKey,
    /// Its static X25519 KEM key (§6.2).
    pub kem: X25519PublicKey,
    /// Its record's endpoint: the base URL of its node (may be empty).
    pub endpoint: String,
}

impl fmt::Debug for PeerKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PeerKeys")
            .field("did", &self.did.as_str())
            .field("signing", &self.signing.key_type())
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// Resolves a peer's DID to the keys and endpoint the client uses.
///
/// Futures are `Send`, so a client can be shared across tasks.
pub trait ResolvePeer: Send + Sync {
    /// The peer's current keys and endpoint.
    ///
    /// # Errors
    /// [`ClientError::Resolve`] when the DID cannot be resolved or its
    /// record cannot authenticate; [`ClientError::NoKemKey`] when it has
    /// no KEM key.
    fn resolve_peer(&self, did: &Did)
    -> impl Future<Output = Result<PeerKeys, ClientError>> + Send;
}

/// A [`ResolvePeer`] over any registry backend.
#[derive(Debug)]
pub struct RegistryResolver<G> {
    registry: G,
    version: ProtocolVersion,
}

impl<G: Registry> RegistryResolver<G> {
    /// Resolves through `registry` with the \[L\] labels.
    pub fn new(registry: G) -> Self {
        Self {
            registry,
            version: ProtocolVersion::V1Draft1,
        }
    }

    /// The registry resolved through.
    pub fn registry(&self) -> &G {
        &self.registry
    }
}

impl<G: Registry> ResolvePeer for RegistryResolver<G> {
    async fn resolve_peer(&self, did: &Did) -> Result<PeerKeys, ClientError> {
        let resolved = self
            .registry
            .resolve(did)
            .await
            .map_err(ClientError::Resolve)?;
        let keys = resolved
            .select_keys(self.version.labels())
            .map_err(ClientError::Resolve)?;
        let kem = keys.kem().ok_or(ClientError::NoKemKey)?;
        Ok(PeerKeys {
            did: resolved.record.did.clone(),
            signing: *keys.signing(),
            kem: *kem,
            endpoint: resolved.record.endpoint.clone(),
        })
    }
}

/// A [`ResolvePeer`] over a fixed table of peers.
#[derive(Debug, Default)]
pub struct StaticPeers {
    peers: RwLock<HashMap<String, PeerKeys>>,
}

impl StaticPeers {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a peer, under its DID.
    pub fn insert(&self, peer: PeerKeys) {
        let mut peers = self
            .peers
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        peers.insert(peer.did.as_str().to_owned(), peer);
    }
}

impl ResolvePeer for StaticPeers {
    async fn resolve_peer(&self, did: &Did) -> Result<PeerKeys, ClientError> {
        let peers = self
            .peers
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        peers
            .get(did.as_str())
            .cloned()
            .ok_or(ClientError::Resolve(RegistryError::NotFound))
    }
}
