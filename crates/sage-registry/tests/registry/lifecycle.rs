//! The local backend's state machine: the full lifecycle, every forbidden
//! transition, revoked keys kept, history, one writer per version.

use sage_core::primitives::{KeyType, SigningKey};
use sage_registry::{
    Activate, AddKey, Deactivate, KeyState, ListRequest, LocalRegistry, NewKey, Operation,
    RecordState, Registry, RegistryError, RevokeKey, Update,
};
use sage_store::{PageRequest, RegistryStore as _};

use crate::common::{Agent, ManualClock, T0, TestDb, active, labels, local, rng};

fn update_endpoint(endpoint: &str) -> Update {
    Update {
        endpoint: Some(endpoint.to_owned()),
        ..Update::default()
    }
}

fn revoke(name: &str) -> RevokeKey {
    RevokeKey { key: name.into() }
}

async fn record_goes_through_its_whole_lifecycle(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("lifecycle");

    let created = registry
        .register(&agent.request(&clock, 0, agent.registration()))
        .await
        .unwrap();
    assert_eq!(created.state, RecordState::Created);
    assert_eq!(created.version, Some(1));
    assert!(!created.record.is_active);
    let resolved = registry.resolve(&agent.did).await.unwrap();
    assert_eq!(resolved.record, created.record);
    assert!(matches!(
        resolved.select_keys(labels()),
        Err(RegistryError::Inactive {
            state: RecordState::Created
        })
    ));

    clock.advance(10);
    let activated = registry
        .activate(&agent.request(&clock, 1, Activate))
        .await
        .unwrap();
    assert_eq!(activated.state, RecordState::Active);
    assert_eq!(activated.version, Some(2));
    let keys = activated.select_keys(labels()).unwrap();
    assert_eq!(*keys.signing(), agent.controller.verifying_key());
    assert_eq!(keys.kem(), Some(&agent.kem.public_key()));

    // A secp256k1 key: §8.4 prefers it as the signing key from now on.
    let added = registry
        .add_key(&agent.request(
            &clock,
            2,
            AddKey {
                key: NewKey::signing(labels(), &agent.second, &agent.did).unwrap(),
            },
        ))
        .await
        .unwrap();
    assert_eq!(added.version, Some(3));
    let keys = added.select_keys(labels()).unwrap();
    assert_eq!(*keys.signing(), agent.second.verifying_key());
    assert_eq!(keys.signing_index(), 2);

    let updated = registry
        .update(&agent.request(&clock, 3, update_endpoint("https://moved.example/a2a")))
        .await
        .unwrap();
    assert_eq!(updated.record.endpoint, "https://moved.example/a2a");
    assert_eq!(updated.version, Some(4));

    // Revoking the controller hands control to the next signing key.
    clock.advance(10);
    let rotated = registry
        .revoke_key(&agent.request(&clock, 4, revoke("key-1")))
        .await
        .unwrap();
    assert!(!rotated.record.keys[0].verified, "key-1 still verified");
    assert_eq!(
        rotated.record.keys.len(),
        3,
        "the revoked entry was dropped"
    );
    let full = registry.record(&agent.did).await.unwrap();
    assert_eq!(full.keys[0].state(), KeyState::Revoked);
    assert_eq!(full.keys[0].revoked_at, Some(T0.add_seconds(20)));
    assert_eq!(full.controller().unwrap().name, "key-3");
    assert!(matches!(
        registry
            .update(&agent.request(&clock, 5, update_endpoint("https://x.example/")))
            .await,
        Err(RegistryError::Unauthorized)
    ));
    // key-3 is now the only signing key: it cannot be revoked.
    assert!(matches!(
        registry
            .revoke_key(&agent.sign(&clock, 5, revoke("key-3"), &agent.second))
            .await,
        Err(RegistryError::LastSigningKey)
    ));

    let deactivated = registry
        .deactivate(&agent.sign(&clock, 5, Deactivate, &agent.second))
        .await
        .unwrap();
    assert_eq!(deactivated.state, RecordState::Deactivated);
    assert_eq!(deactivated.version, Some(6));
    assert!(deactivated.is_deactivated());
    assert!(!deactivated.record.is_active);

    let history = registry
        .history(&agent.did, &PageRequest::first(100))
        .await
        .unwrap();
    let operations: Vec<(u64, &str)> = history
        .items
        .iter()
        .map(|h| (h.version, h.operation.as_str()))
        .collect();
    assert_eq!(
        operations,
        vec![
            (1, "register"),
            (2, "activate"),
            (3, "add-key"),
            (4, "update"),
            (5, "revoke-key"),
            (6, "deactivate"),
        ]
    );
    for entry in &history.items {
        let snapshot: serde_json::Value = serde_json::from_str(&entry.snapshot).unwrap();
        assert_eq!(snapshot["version"], entry.version);
        let request: serde_json::Value = serde_json::from_str(&entry.request).unwrap();
        assert_eq!(request["version"], entry.version - 1);
        assert_eq!(request["did"], agent.did.as_str());
    }
    assert_eq!(history.items[5].recorded_at, T0.add_seconds(20));

    let listing = registry
        .list_by_owner(&created.record.owner, &ListRequest::first(10))
        .await
        .unwrap();
    assert_eq!(listing.items.len(), 1);
    assert_eq!(listing.items[0].state, RecordState::Deactivated);
    assert_eq!(
        created.record.owner,
        agent.controller.verifying_key().key_id()
    );
}

async fn every_forbidden_transition_is_rejected_and_changes_nothing(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("forbidden");
    let forbidden = |result: Result<_, RegistryError>, operation, state| match result {
        Err(RegistryError::ForbiddenTransition {
            operation: op,
            state: st,
        }) => {
            assert_eq!((op, st), (operation, state));
        }
        other => panic!("{operation} on {state}: {other:?}"),
    };
    let add = |agent: &Agent| AddKey {
        key: NewKey::signing(labels(), &agent.second, &agent.did).unwrap(),
    };

    registry
        .register(&agent.request(&clock, 0, agent.registration()))
        .await
        .unwrap();
    // created: only activate and deactivate.
    forbidden(
        registry
            .add_key(&agent.request(&clock, 1, add(&agent)))
            .await,
        Operation::AddKey,
        RecordState::Created,
    );
    forbidden(
        registry
            .revoke_key(&agent.request(&clock, 1, revoke("key-2")))
            .await,
        Operation::RevokeKey,
        RecordState::Created,
    );
    forbidden(
        registry
            .update(&agent.request(&clock, 1, update_endpoint("https://b.example/")))
            .await,
        Operation::Update,
        RecordState::Created,
    );
    assert_eq!(registry.record(&agent.did).await.unwrap().version, 1);

    registry
        .activate(&agent.request(&clock, 1, Activate))
        .await
        .unwrap();
    // active: no second activation.
    forbidden(
        registry.activate(&agent.request(&clock, 2, Activate)).await,
        Operation::Activate,
        RecordState::Active,
    );
    registry
        .deactivate(&agent.request(&clock, 2, Deactivate))
        .await
        .unwrap();
    // deactivated: terminal.
    forbidden(
        registry.activate(&agent.request(&clock, 3, Activate)).await,
        Operation::Activate,
        RecordState::Deactivated,
    );
    forbidden(
        registry
            .add_key(&agent.request(&clock, 3, add(&agent)))
            .await,
        Operation::AddKey,
        RecordState::Deactivated,
    );
    forbidden(
        registry
            .revoke_key(&agent.request(&clock, 3, revoke("key-2")))
            .await,
        Operation::RevokeKey,
        RecordState::Deactivated,
    );
    forbidden(
        registry
            .update(&agent.request(&clock, 3, update_endpoint("https://c.example/")))
            .await,
        Operation::Update,
        RecordState::Deactivated,
    );
    forbidden(
        registry
            .deactivate(&agent.request(&clock, 3, Deactivate))
            .await,
        Operation::Deactivate,
        RecordState::Deactivated,
    );
    let record = registry.record(&agent.did).await.unwrap();
    assert_eq!(
        (record.state, record.version),
        (RecordState::Deactivated, 3)
    );

    // The identifier is never reassigned, even to its old controller.
    let again = registry
        .register(&agent.request(&clock, 0, agent.registration()))
        .await;
    assert!(matches!(again, Err(RegistryError::AlreadyRegistered)));
    assert_eq!(again.unwrap_err().code(), "registry.exists");
    // A created record can be deactivated directly.
    let other = Agent::new("forbidden-2");
    registry
        .register(&other.request(&clock, 0, other.registration()))
        .await
        .unwrap();
    let gone = registry
        .deactivate(&other.request(&clock, 1, Deactivate))
        .await
        .unwrap();
    assert_eq!(gone.state, RecordState::Deactivated);
}

async fn revoked_keys_stay_in_the_record_and_are_never_reused(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("revoked-keys");
    active(&registry, &clock, &agent).await;

    let revoked = registry
        .revoke_key(&agent.request(&clock, 2, revoke("key-2")))
        .await
        .unwrap();
    assert_eq!(revoked.record.keys.len(), 2);
    assert!(!revoked.record.keys[1].verified);
    assert_eq!(revoked.select_keys(labels()).unwrap().kem(), None);

    let twice = registry
        .revoke_key(&agent.request(&clock, 3, revoke("key-2")))
        .await
        .unwrap_err();
    assert_eq!(twice.code(), "key.revoked");
    let missing = registry
        .revoke_key(&agent.request(&clock, 3, revoke("key-9")))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), "key.not-in-record");
    // The revoked KEM key cannot come back under a new name.
    let back = registry
        .add_key(&agent.request(
            &clock,
            3,
            AddKey {
                key: NewKey::kem(
                    labels(),
                    &agent.did,
                    &agent.kem.public_key(),
                    &agent.controller,
                    "key-1",
                ),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(back.code(), "request.invalid");
    assert!(back.to_string().contains("already registered"), "{back}");
    // A fresh KEM key is added as key-3, never reusing the name key-2.
    let fresh = sage_core::primitives::X25519Secret::generate(&mut rng());
    let added = registry
        .add_key(&agent.request(
            &clock,
            3,
            AddKey {
                key: NewKey::kem(
                    labels(),
                    &agent.did,
                    &fresh.public_key(),
                    &agent.controller,
                    "key-1",
                ),
            },
        ))
        .await
        .unwrap();
    assert_eq!(
        added.select_keys(labels()).unwrap().kem(),
        Some(&fresh.public_key())
    );
    assert_eq!(
        registry.record(&agent.did).await.unwrap().keys[2].name,
        "key-3"
    );
    let found = registry
        .store()
        .records_by_key(KeyType::X25519, &agent.kem.public_key().to_bytes())
        .await
        .unwrap();
    assert_eq!(found, vec![agent.did.clone()]);
}

async fn a_request_for_an_older_version_changes_nothing(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("versions");
    active(&registry, &clock, &agent).await;
    let stale = registry
        .update(&agent.request(&clock, 1, update_endpoint("https://old.example/")))
        .await
        .unwrap_err();
    assert!(matches!(
        stale,
        RegistryError::VersionConflict {
            requested: 1,
            current: 2
        }
    ));
    assert_eq!(stale.status(), 409);
    assert_eq!(registry.record(&agent.did).await.unwrap().version, 2);
}

async fn of_many_nodes_writing_one_version_exactly_one_wins(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("race");
    active(&registry, &clock, &agent).await;
    // Eight "nodes", each with its own connection pool on the one database,
    // each sending a different update made against version 2, all at once.
    let mut tasks = Vec::new();
    for n in 0..8 {
        let node = LocalRegistry::new(db.open().await, ManualClock::at(T0));
        let request = agent.request(
            &clock,
            2,
            update_endpoint(&format!("https://node-{n}.example/")),
        );
        tasks.push(tokio::spawn(async move { node.update(&request).await }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    let winners = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(winners, 1, "{results:?}");
    for result in &results {
        if let Err(e) = result {
            assert_eq!(e.code(), "registry.version-conflict", "{e}");
        }
    }
    let record = registry.record(&agent.did).await.unwrap();
    assert_eq!(record.version, 3);
    let history = registry
        .history(&agent.did, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(history.items.len(), 3);
}

async fn registration_of_a_p256_key_is_refused(db: &TestDb) {
    let (registry, clock) = local(db).await;
    let agent = Agent::new("p256");
    let p256 = SigningKey::generate(KeyType::P256, &mut rng()).unwrap();
    let mut body = agent.registration();
    body.keys.push(NewKey {
        key_type: KeyType::P256,
        key_data: p256.verifying_key().to_bytes(),
        proof: vec![0; 64],
        endorsed_by: None,
    });
    let refused = registry
        .register(&agent.request(&clock, 0, body))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), "request.invalid");
    assert!(matches!(
        registry.resolve(&agent.did).await,
        Err(RegistryError::NotFound)
    ));
}

both_engines!(
    record_goes_through_its_whole_lifecycle,
    every_forbidden_transition_is_rejected_and_changes_nothing,
    revoked_keys_stay_in_the_record_and_are_never_reused,
    a_request_for_an_older_version_changes_nothing,
    of_many_nodes_writing_one_version_exactly_one_wins,
    registration_of_a_p256_key_is_refused,
);
