//! RegistryStore: creation once per DID, one writer per version,
//! append-only keys, owner pages with their keys, history.

use sage_core::did::Did;
use sage_core::primitives::KeyType;
use sage_store::registry::{
    RegistryChange, RegistryKeyRow, RegistryRow, RegistryState, RegistryStore,
};
use sage_store::{DidCursor, PageRequest, StoreError};

use crate::common::{T0, TestDb, did};

fn key(byte: u8, key_type: KeyType) -> RegistryKeyRow {
    RegistryKeyRow {
        key_type,
        key_data: vec![byte; 32],
        proof: vec![byte ^ 0xff; 64],
        endorsed_by: None,
        added_at: T0,
        revoked_at: None,
    }
}

fn row(did: &Did, owner: &str) -> RegistryRow {
    RegistryRow {
        did: did.clone(),
        owner: owner.into(),
        state: RegistryState::Created,
        version: 1,
        name: "agent".into(),
        description: String::new(),
        endpoint: "https://agent.example/".into(),
        capabilities: "{}".into(),
        keys: vec![
            key(1, KeyType::Ed25519),
            RegistryKeyRow {
                endorsed_by: Some(0),
                ..key(2, KeyType::X25519)
            },
        ],
        created_at: T0,
        updated_at: T0,
    }
}

fn change(operation: &str) -> RegistryChange<'_> {
    RegistryChange {
        operation,
        request: r#"{"operation":"x"}"#,
        signature: &[7; 64],
        snapshot: "{}",
    }
}

async fn a_did_is_created_once_and_read_back_whole(db: &TestDb) {
    let store = db.open().await;
    let alice = did("registry-alice");
    let written = row(&alice, "0xABCDEF");
    assert!(
        store
            .insert_record(&written, &change("register"))
            .await
            .unwrap()
    );
    let mut taken = row(&alice, "0xother");
    taken.name = "squatter".into();
    assert!(
        !store
            .insert_record(&taken, &change("register"))
            .await
            .unwrap()
    );

    let read = store.record(&alice).await.unwrap().unwrap();
    assert_eq!(read.owner, "0xabcdef", "owners are stored lower-cased");
    assert_eq!(
        RegistryRow {
            owner: "0xABCDEF".into(),
            ..read.clone()
        },
        written
    );
    assert!(
        store
            .record(&did("registry-nobody"))
            .await
            .unwrap()
            .is_none()
    );
    let history = store
        .history(&alice, &PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(history.items.len(), 1);
    assert_eq!(history.items[0].version, 1);
    assert_eq!(history.items[0].operation, "register");
    assert_eq!(history.items[0].signature, vec![7; 64]);
}

async fn only_one_writer_per_version_and_keys_only_grow(db: &TestDb) {
    let store = db.open().await;
    let bob = did("registry-bob");
    let mut current = row(&bob, "owner");
    store
        .insert_record(&current, &change("register"))
        .await
        .unwrap();

    // Version 2: activate, revoke the KEM key, add a key.
    let mut next = current.clone();
    next.version = 2;
    next.state = RegistryState::Active;
    next.updated_at = T0.add_seconds(5);
    next.keys[1].revoked_at = Some(T0.add_seconds(5));
    next.keys.push(key(3, KeyType::Secp256k1));
    assert!(
        store
            .update_record(&next, &change("revoke-key"))
            .await
            .unwrap()
    );
    // A second writer of version 2 (read at version 1) loses and writes nothing.
    let mut loser = current.clone();
    loser.version = 2;
    loser.name = "loser".into();
    assert!(
        !store
            .update_record(&loser, &change("update"))
            .await
            .unwrap()
    );
    // Neither versions 0/1 nor a gap are writable.
    current.version = 1;
    assert!(
        !store
            .update_record(&current, &change("update"))
            .await
            .unwrap()
    );
    let mut gap = next.clone();
    gap.version = 4;
    assert!(!store.update_record(&gap, &change("update")).await.unwrap());

    // Version 3 tries to un-revoke and to rewrite a key: neither sticks.
    let mut sneaky = next.clone();
    sneaky.version = 3;
    sneaky.keys[1].revoked_at = None;
    sneaky.keys[0].key_data = vec![9; 32];
    assert!(
        store
            .update_record(&sneaky, &change("update"))
            .await
            .unwrap()
    );
    let read = store.record(&bob).await.unwrap().unwrap();
    assert_eq!(read.version, 3);
    assert_eq!(read.name, "agent");
    assert_eq!(read.state, RegistryState::Active);
    assert_eq!(read.keys.len(), 3);
    assert_eq!(read.keys[0].key_data, vec![1; 32]);
    assert_eq!(read.keys[1].revoked_at, Some(T0.add_seconds(5)));
    assert_eq!(read.keys[1].endorsed_by, Some(0));
    let versions: Vec<u64> = store
        .history(&bob, &PageRequest::first(10))
        .await
        .unwrap()
        .items
        .iter()
        .map(|h| h.version)
        .collect();
    assert_eq!(versions, vec![1, 2, 3]);
    assert_eq!(
        store
            .records_by_key(KeyType::Secp256k1, &[3; 32])
            .await
            .unwrap(),
        vec![bob.clone()]
    );
    assert!(
        store
            .records_by_key(KeyType::Ed25519, &[3; 32])
            .await
            .unwrap()
            .is_empty()
    );
}

async fn owner_pages_carry_each_records_keys(db: &TestDb) {
    let store = db.open().await;
    for name in ["registry-p1", "registry-p2", "registry-p3"] {
        let mut r = row(&did(name), "0xOwner");
        r.keys[0].key_data = name.as_bytes().to_vec();
        store.insert_record(&r, &change("register")).await.unwrap();
    }
    store
        .insert_record(&row(&did("registry-q"), "0xsomeone"), &change("register"))
        .await
        .unwrap();
    let first = store
        .records_by_owner("0xowner", &PageRequest::first(2))
        .await
        .unwrap();
    assert_eq!(first.items.len(), 2);
    assert_eq!(first.items[0].keys[0].key_data, b"registry-p1".to_vec());
    assert_eq!(first.items[1].keys[0].key_data, b"registry-p2".to_vec());
    assert!(first.items.iter().all(|r| r.keys.len() == 2));
    let next = first.next.unwrap();
    assert_eq!(
        next.after,
        Some(DidCursor {
            did: did("registry-p2").as_str().to_owned()
        })
    );
    let second = store.records_by_owner("0xOWNER", &next).await.unwrap();
    assert_eq!(second.items.len(), 1);
    assert_eq!(second.items[0].keys[0].key_data, b"registry-p3".to_vec());
    assert!(second.next.is_none());
    assert!(matches!(
        store.records_by_owner("x", &PageRequest::first(0)).await,
        Err(StoreError::BadPageLimit { .. })
    ));
}

async fn history_pages_in_version_order(db: &TestDb) {
    let store = db.open().await;
    let carol = did("registry-carol");
    let mut r = row(&carol, "o");
    store.insert_record(&r, &change("register")).await.unwrap();
    for version in 2..=5 {
        r.version = version;
        store.update_record(&r, &change("update")).await.unwrap();
    }
    let page = store.history(&carol, &PageRequest::first(3)).await.unwrap();
    assert_eq!(
        page.items.iter().map(|h| h.version).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let rest = store.history(&carol, &page.next.unwrap()).await.unwrap();
    assert_eq!(
        rest.items.iter().map(|h| h.version).collect::<Vec<_>>(),
        vec![4, 5]
    );
}

both_engines!(
    a_did_is_created_once_and_read_back_whole,
    only_one_writer_per_version_and_keys_only_grow,
    owner_pages_carry_each_records_keys,
    history_pages_in_version_order,
);
