//! DidStore: TTL, tombstones, owner lists, key lookups, invalidation.

use std::time::Duration;

use sage_core::did::AgentRecord;
use sage_core::primitives::KeyType;
use sage_store::seed::seed_records;
use sage_store::{DidStore, Environment, PageRequest};

use crate::common::{T0, TestDb, rng};

const TTL: Duration = Duration::from_secs(60);

/// Four real development records: alice, bob (same owner), carol, mallory.
fn records() -> Vec<AgentRecord> {
    seed_records(Environment::Development, &mut rng(), T0)
        .unwrap()
        .into_iter()
        .map(|(record, _)| record)
        .collect()
}

async fn cached_record_is_served_until_its_ttl_runs_out(db: &TestDb) {
    let store = db.open().await;
    let alice = records().remove(0);
    store.put(&alice, T0, TTL).await.unwrap();
    let entry = store
        .get(&alice.did, T0.add_seconds(59))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.record, alice);
    assert_eq!(entry.fetched_at, T0);
    assert_eq!(entry.stale_at, T0.add_seconds(60));
    assert_eq!(entry.ttl(), TTL);
    assert!(!entry.revoked);
    assert!(entry.is_usable(T0.add_seconds(59)));
    assert!(
        store
            .get(&alice.did, T0.add_seconds(60))
            .await
            .unwrap()
            .is_none()
    );
    // A fresh fetch serves again.
    store.put(&alice, T0.add_seconds(61), TTL).await.unwrap();
    assert!(
        store
            .get(&alice.did, T0.add_seconds(62))
            .await
            .unwrap()
            .is_some()
    );
}

async fn older_fetch_never_overwrites_a_newer_one(db: &TestDb) {
    let store = db.open().await;
    let alice = records().remove(0);
    let mut renamed = alice.clone();
    renamed.name = "alice v2".into();
    renamed.keys.truncate(1);
    store.put(&renamed, T0.add_seconds(10), TTL).await.unwrap();
    store.put(&alice, T0, TTL).await.unwrap();
    let entry = store
        .get(&alice.did, T0.add_seconds(11))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(entry.record.name, "alice v2");
    // The keys table followed the record that won.
    let x25519 = &alice.keys[1];
    assert!(
        store
            .find_by_key(KeyType::X25519, &x25519.key_data, T0.add_seconds(11))
            .await
            .unwrap()
            .is_empty()
    );
}

async fn revoked_did_is_a_tombstone(db: &TestDb) {
    let store = db.open().await;
    let mallory = records().remove(3);
    assert!(
        !store.revoke(&mallory.did, T0).await.unwrap(),
        "revoked an uncached DID"
    );
    store.put(&mallory, T0, TTL).await.unwrap();
    assert!(store.revoke(&mallory.did, T0.add_seconds(1)).await.unwrap());
    let far = T0.add_seconds(10_000);
    let entry = store.get(&mallory.did, far).await.unwrap().unwrap();
    assert!(entry.revoked);
    assert_eq!(entry.revoked_at, Some(T0.add_seconds(1)));
    assert!(!entry.is_usable(T0));
    // A fresh record from the resolver does not clear it; nor does
    // invalidation or the sweep.
    store.put(&mallory, T0.add_seconds(20), TTL).await.unwrap();
    assert!(!store.invalidate(&mallory.did).await.unwrap());
    assert_eq!(store.delete_stale(far).await.unwrap(), 0);
    let entry = store.get(&mallory.did, far).await.unwrap().unwrap();
    assert!(entry.revoked);
    assert_eq!(entry.fetched_at, T0.add_seconds(20));
    assert!(store.delete(&mallory.did).await.unwrap());
    assert!(store.get(&mallory.did, far).await.unwrap().is_none());
}

async fn invalidation_forces_a_new_resolution(db: &TestDb) {
    let store = db.open().await;
    let bob = records().remove(1);
    store.put(&bob, T0, TTL).await.unwrap();
    assert!(store.invalidate(&bob.did).await.unwrap());
    assert!(!store.invalidate(&bob.did).await.unwrap());
    assert!(store.get(&bob.did, T0).await.unwrap().is_none());
}

async fn records_list_by_owner_case_insensitively_in_pages(db: &TestDb) {
    let store = db.open().await;
    let all = records();
    for record in &all {
        store.put(record, T0, TTL).await.unwrap();
    }
    let owner = all[0].owner.clone();
    assert_eq!(all[1].owner, owner, "alice and bob share an owner");
    assert!(owner.starts_with("0x") && owner.len() == 42, "{owner}");
    let mut dids = Vec::new();
    let mut page = PageRequest::first(1);
    loop {
        let got = store
            .list_by_owner(&owner.to_uppercase().replacen("0X", "0x", 1), T0, &page)
            .await
            .unwrap();
        dids.extend(got.items.into_iter().map(|e| e.record.did));
        match got.next {
            Some(next) => page = next,
            None => break,
        }
    }
    let mut expected = vec![all[0].did.clone(), all[1].did.clone()];
    expected.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    assert_eq!(dids, expected);
    // Stale entries are not listed.
    let stale = store
        .list_by_owner(&owner, T0.add_seconds(60), &PageRequest::first(10))
        .await
        .unwrap();
    assert!(stale.items.is_empty());
}

async fn records_are_found_by_public_key(db: &TestDb) {
    let store = db.open().await;
    let all = records();
    for record in &all {
        store.put(record, T0, TTL).await.unwrap();
    }
    let bob = &all[1];
    let secp = bob
        .keys
        .iter()
        .find(|k| k.key_type == KeyType::Secp256k1)
        .unwrap();
    assert_eq!(
        store
            .find_by_key(KeyType::Secp256k1, &secp.key_data, T0)
            .await
            .unwrap(),
        vec![bob.did.clone()]
    );
    assert!(
        store
            .find_by_key(KeyType::Ed25519, &secp.key_data, T0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .find_by_key(KeyType::P256, &secp.key_data, T0)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .find_by_key(KeyType::Secp256k1, &secp.key_data, T0.add_seconds(60))
            .await
            .unwrap()
            .is_empty()
    );
}

both_engines!(
    cached_record_is_served_until_its_ttl_runs_out,
    older_fetch_never_overwrites_a_newer_one,
    revoked_did_is_a_tombstone,
    invalidation_forces_a_new_resolution,
    records_list_by_owner_case_insensitively_in_pages,
    records_are_found_by_public_key,
);
