//! `EthRegistry`, the chain-neutral `Registry` on the contract, end to end
//! against anvil: the §9.3 lifecycle from controller-signed requests, key
//! selection and the DID document of what the chain holds, and the caching
//! resolver in front of it — a deactivation stays answered from its
//! tombstone, and once anvil is stopped a positive answer past its TTL is
//! `record.unreachable`, never stale data.
//!
//! Needs anvil from `scripts/ensure-chain-tools.sh` (SAGE_SKIP_CHAIN=1
//! skips, loudly).

#![allow(clippy::unwrap_used)]

// Each test file uses its own part of the shared chain helpers.
#[allow(dead_code)]
mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use common::{Chain, did_of};
use sage_core::did::Did;
use sage_core::primitives::{KeyType, SigningKey, X25519Secret};
use sage_core::time::Timestamp;
use sage_core::version::ProtocolVersion;
use sage_registry::{
    Activate, AddKey, CachingResolver, Deactivate, ListRequest, NewKey, RecordState, Register,
    Registry, RegistryError, Request, RequestBody, RequestHeader, RevokeKey, SignedRequest, Source,
    Update,
};
use sage_registry_eth::{COMMIT_MIN_DELAY_SECS, EthRegistry, EthRegistryOptions};
use sage_store::{Clock, Store, StoreOptions};

const TTL: Duration = Duration::from_secs(30);

/// A clock the test moves by hand.
#[derive(Debug)]
struct ManualClock(AtomicI64);

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_unix_seconds(self.0.load(Ordering::SeqCst))
    }
}

fn rng() -> impl sage_core::rand_core::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

fn now() -> Timestamp {
    let seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Timestamp::from_unix_seconds(i64::try_from(seconds).unwrap())
}

fn signed<B: RequestBody>(did: &Did, body: B, key: &SigningKey) -> SignedRequest<B> {
    // The chain keeps no versions: the adapter does not read this one.
    let header = RequestHeader::new(did.clone(), 0, now(), &mut rng());
    Request::new(header, body).sign(key)
}

/// An agent of account `index`: its DID, controller key and KEM key.
struct Agent {
    did: Did,
    controller: SigningKey,
    kem: X25519Secret,
}

impl Agent {
    fn of(chain: &Chain, index: usize) -> Self {
        Self {
            did: Did::parse(&did_of(chain.address(index))).unwrap(),
            controller: SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap(),
            kem: X25519Secret::generate(&mut rng()),
        }
    }

    fn registration(&self) -> Register {
        let labels = ProtocolVersion::V1Draft1.labels();
        Register {
            name: "adapter agent".into(),
            description: "registered through the Registry trait".into(),
            endpoint: "https://adapter.example/a2a".into(),
            capabilities: serde_json::Map::new(),
            keys: vec![
                NewKey::signing(labels, &self.controller, &self.did).unwrap(),
                NewKey::kem(
                    labels,
                    &self.did,
                    &self.kem.public_key(),
                    &self.controller,
                    "key-1",
                ),
            ],
        }
    }
}

/// Commit, let the chain's clock pass the reveal delay, reveal, wait out the
/// activation delay and activate.
async fn register_and_activate(chain: &Chain, registry: &EthRegistry, agent: &Agent) {
    let pending = registry
        .commit(&signed(&agent.did, agent.registration(), &agent.controller))
        .await
        .unwrap();
    chain.advance(COMMIT_MIN_DELAY_SECS).await;
    let created = registry.reveal(&pending).await.unwrap();
    assert_eq!(created.state, RecordState::Created);
    assert!(!created.record.is_active);
    assert_eq!(created.version, None);
    chain
        .advance(registry.client().activation_delay().await.unwrap())
        .await;
    let active = registry
        .activate(&signed(&agent.did, Activate, &agent.controller))
        .await
        .unwrap();
    assert_eq!(active.state, RecordState::Active);
}

#[tokio::test]
async fn registry_trait_drives_the_contract_and_the_resolver_never_serves_stale_data() {
    let Some(mut chain) = Chain::start("registry_adapter").await else {
        return;
    };
    let labels = ProtocolVersion::V1Draft1.labels();
    let registry = Arc::new(EthRegistry::new(
        chain.client(2).await,
        EthRegistryOptions::with_reveal_wait(Duration::ZERO),
    ));
    let agent = Agent::of(&chain, 2);

    // A registration the controller did not sign never reaches the chain.
    let stranger = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
    let refused = registry
        .commit(&signed(&agent.did, agent.registration(), &stranger))
        .await
        .unwrap_err();
    assert!(matches!(refused, RegistryError::Unauthorized));

    register_and_activate(&chain, &registry, &agent).await;
    let resolved = registry.resolve(&agent.did).await.unwrap();
    let keys = resolved.select_keys(labels).unwrap();
    assert_eq!(*keys.signing(), agent.controller.verifying_key());
    assert_eq!(keys.kem(), Some(&agent.kem.public_key()));
    let document = resolved.document(labels).unwrap();
    assert_eq!(
        document.authentication,
        vec![format!("{}#key-1", agent.did)]
    );
    assert_eq!(document.key_agreement, vec![format!("{}#key-2", agent.did)]);
    assert!(matches!(
        registry
            .activate(&signed(&agent.did, Activate, &stranger))
            .await,
        Err(RegistryError::Unauthorized)
    ));

    // A secp256k1 key (the chain checks its PoP) takes the signing role;
    // revoked, it stays in the record, unverified.
    let secp = SigningKey::generate(KeyType::Secp256k1, &mut rng()).unwrap();
    let added = registry
        .add_key(&signed(
            &agent.did,
            AddKey {
                key: NewKey::signing(labels, &secp, &agent.did).unwrap(),
            },
            &agent.controller,
        ))
        .await
        .unwrap();
    assert_eq!(
        *added.select_keys(labels).unwrap().signing(),
        secp.verifying_key()
    );
    let revoked = registry
        .revoke_key(&signed(
            &agent.did,
            RevokeKey {
                key: "key-3".into(),
            },
            &agent.controller,
        ))
        .await
        .unwrap();
    assert!(!revoked.record.keys[2].verified);
    let moved = registry
        .update(&signed(
            &agent.did,
            Update {
                endpoint: Some("https://moved.example/a2a".into()),
                ..Update::default()
            },
            &agent.controller,
        ))
        .await
        .unwrap();
    assert_eq!(moved.record.endpoint, "https://moved.example/a2a");
    let renamed = registry
        .update(&signed(
            &agent.did,
            Update {
                name: Some("renamed".into()),
                ..Update::default()
            },
            &agent.controller,
        ))
        .await
        .unwrap_err();
    assert_eq!(renamed.code(), "registry.unsupported");
    let owner = format!("0x{}", sage_core::encoding::hex_encode(&chain.address(2)));
    let listing = registry
        .list_by_owner(&owner, &ListRequest::first(10))
        .await
        .unwrap();
    assert_eq!(listing.items.len(), 1);
    assert_eq!(listing.items[0].record.did, agent.did);

    // A second agent, for a positive answer to go stale.
    let registry_b = Arc::new(EthRegistry::new(
        chain.client(3).await,
        EthRegistryOptions::with_reveal_wait(Duration::ZERO),
    ));
    let agent_b = Agent::of(&chain, 3);
    register_and_activate(&chain, &registry_b, &agent_b).await;

    let dir = tempfile::tempdir().unwrap();
    let cache = Store::connect(&StoreOptions::new(format!(
        "sqlite://{}",
        dir.path().join("cache.db").display()
    )))
    .await
    .unwrap();
    cache.migrate_up().await.unwrap();
    let clock = Arc::new(ManualClock(AtomicI64::new(now().unix_seconds())));
    let resolver = CachingResolver::new(registry.clone(), cache, TTL, clock.clone());
    assert_eq!(
        resolver.resolve(&agent_b.did).await.unwrap().source,
        Source::Registry
    );
    assert!(matches!(
        resolver.resolve(&agent_b.did).await.unwrap().source,
        Source::Cache { .. }
    ));
    let gone = resolver
        .deactivate(&signed(&agent.did, Deactivate, &agent.controller))
        .await
        .unwrap();
    assert_eq!(gone.state, RecordState::Deactivated);

    chain.stop();
    clock.0.fetch_add(10 * 30, Ordering::SeqCst);
    // The tombstone answers for ever...
    let still = resolver.resolve(&agent.did).await.unwrap();
    assert_eq!(still.state, RecordState::Deactivated);
    // ...but the positive answer past its TTL is not served: unreachable.
    let error = resolver.resolve(&agent_b.did).await.unwrap_err();
    assert_eq!(error.code(), "record.unreachable");
    assert_eq!(error.problem().status, 502);
    assert!(resolver.stats().snapshot().errors >= 1);
}
