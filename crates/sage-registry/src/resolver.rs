//! The caching resolver in front of any [`Registry`] (PROTOCOL.md §9.5,
//! §10.2).
//!
//! Layer: resolution. The cache is the store's `dids` table
//! ([`DidStore`]), so every node sharing one PostgreSQL shares it. The
//! rules:
//!
//! - a **positive** answer (created or active record) is cached for at
//!   most the configured TTL, counted from before the registry was asked;
//!   a TTL of zero caches none. The store never serves an entry past its
//!   TTL, so a stale positive answer cannot come back;
//! - a **deactivated** answer is cached forever (negative caching: a
//!   tombstone, which a later positive answer never clears — deactivation
//!   is terminal);
//! - when the registry cannot be reached the resolution fails with
//!   `record.unreachable`. There is no fallback to an older answer: the
//!   only entries ever read are fresh ones and tombstones;
//! - a failing *cache* never fails a resolution: the registry is asked,
//!   and the failure is counted as an error;
//! - [`CachingResolver::invalidate`] drops a positive entry at once.
//!
//! Writes through the resolver (it is itself a [`Registry`]) go to the
//! backend, then drop the DID's positive entry — or, for a deactivation,
//! write the tombstone — so this node and every node sharing the cache see
//! the change at their next resolution. Changes made past the resolver
//! (another node's own registry, a chain) are seen once the TTL has run
//! out, or at once after an explicit invalidation.
//!
//! Counters ([`ResolverStats`]): `hits` (answered from the cache,
//! tombstones included), `misses` (the registry was asked) and `errors`
//! (the registry was unreachable or returned a malformed record, or the
//! cache failed). "Not found" is an answer, not an error.

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::sync::Arc;

use sage_core::did::Did;
use sage_store::{CachedDid, Clock, DidStore};

use crate::error::RegistryError;
use crate::model::RecordState;
use crate::registry::{ListRequest, Listing, Registry, ResolvedRecord, Source};
use crate::request::{Activate, AddKey, Deactivate, Register, RevokeKey, SignedRequest, Update};

/// Cache hits, misses and errors of a [`CachingResolver`], shared with the
/// metrics exporter.
#[derive(Debug, Default)]
pub struct ResolverStats {
    hits: AtomicU64,
    misses: AtomicU64,
    errors: AtomicU64,
}

/// The counters at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ResolverSnapshot {
    /// Resolutions answered from the cache.
    pub hits: u64,
    /// Resolutions that asked the registry.
    pub misses: u64,
    /// Registry or cache failures.
    pub errors: u64,
}

impl ResolverStats {
    /// The current counts.
    pub fn snapshot(&self) -> ResolverSnapshot {
        ResolverSnapshot {
            hits: self.hits.load(Ordering::Relaxed),
            misses: self.misses.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }

    fn hit(&self) {
        self.hits.fetch_add(1, Ordering::Relaxed);
    }

    fn miss(&self) {
        self.misses.fetch_add(1, Ordering::Relaxed);
    }

    fn error(&self) {
        self.errors.fetch_add(1, Ordering::Relaxed);
    }
}

/// A resolver that caches a registry's answers in a [`DidStore`].
pub struct CachingResolver<R, C> {
    registry: R,
    cache: C,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    stats: Arc<ResolverStats>,
}

impl<R: core::fmt::Debug, C: core::fmt::Debug> core::fmt::Debug for CachingResolver<R, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("CachingResolver")
            .field("registry", &self.registry)
            .field("cache", &self.cache)
            .field("ttl", &self.ttl)
            .field("stats", &self.stats.snapshot())
            .finish_non_exhaustive()
    }
}

impl<R: Registry, C: DidStore> CachingResolver<R, C> {
    /// A resolver over `registry` caching positive answers for `ttl` in
    /// `cache`.
    pub fn new(registry: R, cache: C, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            registry,
            cache,
            ttl,
            clock,
            stats: Arc::new(ResolverStats::default()),
        }
    }

    /// The backend.
    pub fn registry(&self) -> &R {
        &self.registry
    }

    /// The counters (clone the `Arc` to export them).
    pub fn stats(&self) -> &Arc<ResolverStats> {
        &self.stats
    }

    /// The positive-answer TTL.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// Drops the cached positive answer for `did` (tombstones stay), so the
    /// next resolution asks the registry. `Ok(false)` when none was cached.
    ///
    /// # Errors
    /// [`RegistryError::Unreachable`] when the cache cannot be written.
    pub async fn invalidate(&self, did: &Did) -> Result<bool, RegistryError> {
        self.cache.invalidate(did).await.map_err(|e| {
            self.stats.error();
            RegistryError::from_store(e)
        })
    }

    /// Resolves `did`: from the cache when it holds a fresh answer or a
    /// tombstone, else from the registry (caching the answer).
    ///
    /// # Errors
    /// As [`Registry::resolve`] of the backend; never an older answer.
    pub async fn resolve_cached(&self, did: &Did) -> Result<ResolvedRecord, RegistryError> {
        let now = self.clock.now();
        match self.cache.get(did, now).await {
            Ok(Some(entry)) => {
                self.stats.hit();
                return Ok(from_cache(entry));
            }
            Ok(None) => {}
            Err(_) => self.stats.error(),
        }
        self.stats.miss();
        let resolved = match self.registry.resolve(did).await {
            Ok(resolved) => resolved,
            Err(e) => {
                if matches!(
                    e,
                    RegistryError::Unreachable(_) | RegistryError::InvalidRecord(_)
                ) {
                    self.stats.error();
                }
                return Err(e);
            }
        };
        self.remember(&resolved, now).await;
        Ok(resolved)
    }

    /// Caches an answer observed no earlier than `fetched_at`; a failure
    /// only costs a later registry read.
    async fn remember(&self, resolved: &ResolvedRecord, fetched_at: sage_core::time::Timestamp) {
        let did = &resolved.record.did;
        let cached = if resolved.state == RecordState::Deactivated {
            match self.cache.put(&resolved.record, fetched_at, self.ttl).await {
                Ok(()) => self.cache.revoke(did, fetched_at).await.map(|_| ()),
                Err(e) => Err(e),
            }
        } else if self.ttl.is_zero() {
            Ok(())
        } else {
            self.cache.put(&resolved.record, fetched_at, self.ttl).await
        };
        if cached.is_err() {
            self.stats.error();
        }
    }

    /// After a successful write: drop the positive entry, or write the
    /// tombstone of a deactivation.
    async fn after_write(&self, resolved: &ResolvedRecord) {
        let outcome = if resolved.state == RecordState::Deactivated {
            self.remember(resolved, self.clock.now()).await;
            Ok(())
        } else {
            self.cache
                .invalidate(&resolved.record.did)
                .await
                .map(|_| ())
        };
        if outcome.is_err() {
            self.stats.error();
        }
    }

    async fn written(
        &self,
        result: Result<ResolvedRecord, RegistryError>,
    ) -> Result<ResolvedRecord, RegistryError> {
        if let Ok(resolved) = &result {
            self.after_write(resolved).await;
        }
        result
    }
}

/// A cache entry as a resolution: a tombstone is a deactivated record, and
/// the observation is the registry read that filled the entry.
fn from_cache(entry: CachedDid) -> ResolvedRecord {
    let state = if entry.revoked {
        RecordState::Deactivated
    } else if entry.record.is_active {
        RecordState::Active
    } else {
        RecordState::Created
    };
    let mut record = entry.record;
    if entry.revoked {
        record.is_active = false;
    }
    ResolvedRecord {
        record,
        state,
        version: None,
        observed_at: entry.fetched_at,
        source: Source::Cache {
            fetched_at: entry.fetched_at,
        },
    }
}

impl<R: Registry, C: DidStore> Registry for CachingResolver<R, C> {
    async fn register(
        &self,
        request: &SignedRequest<Register>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let result = self.registry.register(request).await;
        self.written(result).await
    }

    async fn activate(
        &self,
        request: &SignedRequest<Activate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let result = self.registry.activate(request).await;
        self.written(result).await
    }

    async fn add_key(
        &self,
        request: &SignedRequest<AddKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let result = self.registry.add_key(request).await;
        self.written(result).await
    }

    async fn revoke_key(
        &self,
        request: &SignedRequest<RevokeKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let result = self.registry.revoke_key(request).await;
        self.written(result).await
    }

    async fn update(
        &self,
        request: &SignedRequest<Update>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let result = self.registry.update(request).await;
        self.written(result).await
    }

    async fn deactivate(
        &self,
        request: &SignedRequest<Deactivate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        let result = self.registry.deactivate(request).await;
        self.written(result).await
    }

    async fn resolve(&self, did: &Did) -> Result<ResolvedRecord, RegistryError> {
        self.resolve_cached(did).await
    }

    /// Listings are not cached: they come from the registry.
    async fn list_by_owner(
        &self,
        owner: &str,
        page: &ListRequest,
    ) -> Result<Listing, RegistryError> {
        self.registry.list_by_owner(owner, page).await
    }
}
