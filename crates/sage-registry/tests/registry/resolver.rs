//! The caching resolver over the real local registry and the real `dids`
//! cache: TTL, revocation, invalidation, negative caching, and a registry
//! that cannot be reached (a switchable double around the real backend).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sage_core::did::Did;
use sage_registry::{
    Activate, AddKey, CachingResolver, Deactivate, ListRequest, Listing, LocalRegistry, NewKey,
    RecordState, Register, Registry, RegistryError, ResolvedRecord, ResolverSnapshot, RevokeKey,
    SignedRequest, Source, Unreachable, Update,
};
use sage_store::Store;

use crate::common::{Agent, ManualClock, TestDb, active, labels, local};

const TTL: Duration = Duration::from_secs(60);

/// A registry that forwards to a real one until it is switched off, and
/// then fails every call as unreachable (as a stopped chain node does).
struct Switchable<R> {
    inner: R,
    down: AtomicBool,
}

impl<R> Switchable<R> {
    fn new(inner: R) -> Self {
        Self {
            inner,
            down: AtomicBool::new(false),
        }
    }

    fn switch_off(&self) {
        self.down.store(true, Ordering::SeqCst);
    }

    fn check(&self) -> Result<(), RegistryError> {
        if self.down.load(Ordering::SeqCst) {
            Err(RegistryError::Unreachable(Unreachable::Remote {
                backend: "test",
                detail: "switched off".into(),
            }))
        } else {
            Ok(())
        }
    }
}

impl<R: Registry> Registry for Switchable<R> {
    async fn register(
        &self,
        request: &SignedRequest<Register>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.check()?;
        self.inner.register(request).await
    }

    async fn activate(
        &self,
        request: &SignedRequest<Activate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.check()?;
        self.inner.activate(request).await
    }

    async fn add_key(
        &self,
        request: &SignedRequest<AddKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.check()?;
        self.inner.add_key(request).await
    }

    async fn revoke_key(
        &self,
        request: &SignedRequest<RevokeKey>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.check()?;
        self.inner.revoke_key(request).await
    }

    async fn update(
        &self,
        request: &SignedRequest<Update>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.check()?;
        self.inner.update(request).await
    }

    async fn deactivate(
        &self,
        request: &SignedRequest<Deactivate>,
    ) -> Result<ResolvedRecord, RegistryError> {
        self.check()?;
        self.inner.deactivate(request).await
    }

    async fn resolve(&self, did: &Did) -> Result<ResolvedRecord, RegistryError> {
        self.check()?;
        self.inner.resolve(did).await
    }

    async fn list_by_owner(
        &self,
        owner: &str,
        page: &ListRequest,
    ) -> Result<Listing, RegistryError> {
        self.check()?;
        self.inner.list_by_owner(owner, page).await
    }
}

type Resolver = CachingResolver<Arc<Switchable<LocalRegistry<Store>>>, Store>;

/// A resolver (TTL 60 s) over a switchable local registry, both on `db`,
/// sharing one clock.
async fn caching_resolver(
    db: &TestDb,
) -> (
    Resolver,
    Arc<Switchable<LocalRegistry<Store>>>,
    Arc<ManualClock>,
) {
    let (registry, clock) = local(db).await;
    let backend = Arc::new(Switchable::new(registry));
    let resolver = CachingResolver::new(backend.clone(), db.open().await, TTL, clock.clone());
    (resolver, backend, clock)
}

fn counts(resolver: &Resolver) -> (u64, u64, u64) {
    let ResolverSnapshot {
        hits,
        misses,
        errors,
    } = resolver.stats().snapshot();
    (hits, misses, errors)
}

/// The registry behind the switch.
fn local_of(backend: &Switchable<LocalRegistry<Store>>) -> &LocalRegistry<Store> {
    &backend.inner
}

async fn positive_answer_is_served_from_the_cache_for_the_ttl_only(db: &TestDb) {
    let (resolver, backend, clock) = caching_resolver(db).await;
    let agent = Agent::new("ttl");
    active(local_of(&backend), &clock, &agent).await;

    let first = resolver.resolve(&agent.did).await.unwrap();
    assert_eq!(first.source, Source::Registry);
    assert_eq!(first.version, Some(2));
    assert_eq!(counts(&resolver), (0, 1, 0));

    clock.advance(59);
    let cached = resolver.resolve(&agent.did).await.unwrap();
    assert!(matches!(cached.source, Source::Cache { .. }));
    assert_eq!(cached.record, first.record);
    assert_eq!(cached.state, RecordState::Active);
    assert_eq!(cached.version, None);
    assert_eq!(counts(&resolver), (1, 1, 0));

    clock.advance(1);
    let refreshed = resolver.resolve(&agent.did).await.unwrap();
    assert_eq!(refreshed.source, Source::Registry);
    assert_eq!(counts(&resolver), (1, 2, 0));
}

async fn revocation_is_seen_after_the_ttl_and_at_once_after_invalidation(db: &TestDb) {
    let (resolver, backend, clock) = caching_resolver(db).await;
    let registry = local_of(&backend);
    let agent = Agent::new("revocation");
    active(registry, &clock, &agent).await;
    registry
        .add_key(&agent.request(
            &clock,
            2,
            AddKey {
                key: NewKey::signing(labels(), &agent.second, &agent.did).unwrap(),
            },
        ))
        .await
        .unwrap();
    let before = resolver.resolve(&agent.did).await.unwrap();
    assert!(before.record.keys[2].verified);

    // Revoked at the registry, past the resolver: the cached answer stands
    // until its TTL runs out, and not one second longer.
    registry
        .revoke_key(&agent.request(
            &clock,
            3,
            RevokeKey {
                key: "key-3".into(),
            },
        ))
        .await
        .unwrap();
    clock.advance(30);
    assert!(resolver.resolve(&agent.did).await.unwrap().record.keys[2].verified);
    clock.advance(30);
    let after_ttl = resolver.resolve(&agent.did).await.unwrap();
    assert!(
        !after_ttl.record.keys[2].verified,
        "revocation not seen after the TTL"
    );
    assert_eq!(after_ttl.version, Some(4));
    let selected = after_ttl.select_keys(labels()).unwrap();
    assert_eq!(*selected.signing(), agent.controller.verifying_key());

    // Revoked again past the resolver, then invalidated: seen at once.
    registry
        .revoke_key(&agent.request(
            &clock,
            4,
            RevokeKey {
                key: "key-2".into(),
            },
        ))
        .await
        .unwrap();
    assert!(resolver.resolve(&agent.did).await.unwrap().record.keys[1].verified);
    assert!(resolver.invalidate(&agent.did).await.unwrap());
    let invalidated = resolver.resolve(&agent.did).await.unwrap();
    assert!(!invalidated.record.keys[1].verified);
    assert_eq!(invalidated.select_keys(labels()).unwrap().kem(), None);

    // A write through the resolver invalidates by itself.
    resolver
        .update(&agent.request(
            &clock,
            5,
            Update {
                name: Some("renamed".into()),
                ..Update::default()
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        resolver.resolve(&agent.did).await.unwrap().record.name,
        "renamed"
    );
}

async fn deactivated_answer_is_cached_forever(db: &TestDb) {
    let (resolver, backend, clock) = caching_resolver(db).await;
    let agent = Agent::new("tombstone");
    active(local_of(&backend), &clock, &agent).await;
    resolver
        .deactivate(&agent.request(&clock, 2, Deactivate))
        .await
        .unwrap();
    let gone = resolver.resolve(&agent.did).await.unwrap();
    assert_eq!(gone.state, RecordState::Deactivated);
    assert!(
        matches!(gone.source, Source::Cache { .. }),
        "no tombstone written"
    );

    // A year later, with the registry unreachable, the tombstone answers.
    backend.switch_off();
    clock.advance(365 * 24 * 3600);
    let still = resolver.resolve(&agent.did).await.unwrap();
    assert_eq!(still.state, RecordState::Deactivated);
    assert!(!still.record.is_active);
    assert!(still.metadata().deactivated);
    assert!(matches!(
        still.select_keys(labels()),
        Err(RegistryError::Inactive { .. })
    ));
    // Negative caching also holds for an answer the resolver only read.
    let (other_resolver, other_backend, other_clock) = caching_resolver(db).await;
    let other = Agent::new("tombstone-read");
    active(local_of(&other_backend), &other_clock, &other).await;
    local_of(&other_backend)
        .deactivate(&other.request(&other_clock, 2, Deactivate))
        .await
        .unwrap();
    assert_eq!(
        other_resolver.resolve(&other.did).await.unwrap().state,
        RecordState::Deactivated
    );
    other_backend.switch_off();
    other_clock.advance(10 * TTL.as_secs().cast_signed());
    assert_eq!(
        other_resolver.resolve(&other.did).await.unwrap().state,
        RecordState::Deactivated
    );
}

async fn unreachable_registry_gives_record_unreachable_never_stale_data(db: &TestDb) {
    let (resolver, backend, clock) = caching_resolver(db).await;
    let agent = Agent::new("unreachable");
    active(local_of(&backend), &clock, &agent).await;
    resolver.resolve(&agent.did).await.unwrap();

    backend.switch_off();
    // Within the TTL the cached answer is still the answer...
    clock.advance(30);
    assert!(resolver.resolve(&agent.did).await.is_ok());
    // ...past it, the stale entry is never served: the resolution fails.
    clock.advance(30);
    let error = resolver.resolve(&agent.did).await.unwrap_err();
    assert!(matches!(error, RegistryError::Unreachable(_)));
    assert_eq!(error.code(), "record.unreachable");
    let problem = error.problem();
    assert_eq!(problem.status, 502);
    assert_eq!(
        problem.problem_type,
        "https://sage-x-project.github.io/sage-spec/errors/record.unreachable"
    );
    assert!(
        !problem.detail.contains("switched off"),
        "{}",
        problem.detail
    );
    assert_eq!(counts(&resolver), (1, 2, 1));
    // And it keeps failing, however often it is asked.
    assert!(resolver.resolve(&agent.did).await.is_err());
    assert_eq!(counts(&resolver), (1, 3, 2));
}

async fn zero_ttl_caches_no_positive_answer(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("no-ttl");
    active(&registry, &clock, &agent).await;
    let resolver = CachingResolver::new(registry, db.open().await, Duration::ZERO, clock.clone());
    resolver.resolve(&agent.did).await.unwrap();
    let again = resolver.resolve(&agent.did).await.unwrap();
    assert_eq!(again.source, Source::Registry);
    assert_eq!(resolver.stats().snapshot().hits, 0);
}

async fn unknown_identifier_is_not_found_and_not_cached(db: &TestDb) {
    let (resolver, backend, clock) = caching_resolver(db).await;
    let agent = Agent::new("later");
    let error = resolver.resolve(&agent.did).await.unwrap_err();
    assert_eq!(error.code(), "record.not-found");
    assert_eq!(error.problem().status, 404);
    assert_eq!(
        counts(&resolver),
        (0, 1, 0),
        "not-found counted as an error"
    );
    // Registered afterwards: found at once.
    active(local_of(&backend), &clock, &agent).await;
    assert!(resolver.resolve(&agent.did).await.is_ok());
}

async fn nodes_sharing_a_database_share_the_cache(db: &TestDb) {
    let (resolver_a, backend, clock) = caching_resolver(db).await;
    let agent = Agent::new("shared");
    active(local_of(&backend), &clock, &agent).await;
    resolver_a.resolve(&agent.did).await.unwrap();
    // Node B's registry is down, but node A filled the shared cache.
    let backend_b = Switchable::new(LocalRegistry::new(db.open().await, clock.clone()));
    backend_b.switch_off();
    let resolver_b = CachingResolver::new(backend_b, db.open().await, TTL, clock.clone());
    let answer = resolver_b.resolve(&agent.did).await.unwrap();
    assert!(matches!(answer.source, Source::Cache { .. }));
    // Node A invalidates: node B no longer has an answer.
    resolver_a.invalidate(&agent.did).await.unwrap();
    assert!(resolver_b.resolve(&agent.did).await.is_err());
}

both_engines!(
    positive_answer_is_served_from_the_cache_for_the_ttl_only,
    revocation_is_seen_after_the_ttl_and_at_once_after_invalidation,
    deactivated_answer_is_cached_forever,
    unreachable_registry_gives_record_unreachable_never_stale_data,
    zero_ttl_caches_no_positive_answer,
    unknown_identifier_is_not_found_and_not_cached,
    nodes_sharing_a_database_share_the_cache,
);
