//! NonceStore: one winner per nonce, expiry, concurrency.

use std::sync::Arc;

use sage_core::replay::ReplayVerdict::{Fresh, Replayed};
use sage_store::{NonceStore, Store, StoreError};
use tokio::sync::Barrier;

use crate::common::{T0, TestDb};

async fn nonce_is_fresh_once_then_replayed_until_it_expires(db: &TestDb) {
    let store = db.open().await;
    let exp = T0.add_seconds(300);
    assert_eq!(
        store.check_and_store("kid-a", "n1", T0, exp).await.unwrap(),
        Fresh
    );
    assert_eq!(
        store.check_and_store("kid-a", "n1", T0, exp).await.unwrap(),
        Replayed
    );
    assert_eq!(
        store
            .check_and_store("kid-a", "n1", T0.add_seconds(299), exp)
            .await
            .unwrap(),
        Replayed
    );
    // Scopes are independent.
    assert_eq!(
        store.check_and_store("kid-b", "n1", T0, exp).await.unwrap(),
        Fresh
    );
    assert_eq!(store.count(T0).await.unwrap(), 2);
    assert!(matches!(
        store
            .check_and_store("kid-a", &"n".repeat(513), T0, exp)
            .await,
        Err(StoreError::TooLong { field: "nonce", .. })
    ));
}

async fn remembered_is_a_read_of_live_nonces(db: &TestDb) {
    let store = db.open().await;
    let exp = T0.add_seconds(300);
    assert!(!store.is_remembered("kid-r", "n1", T0).await.unwrap());
    assert_eq!(
        store.check_and_store("kid-r", "n1", T0, exp).await.unwrap(),
        Fresh,
        "asking recorded nothing"
    );
    assert!(store.is_remembered("kid-r", "n1", T0).await.unwrap());
    assert!(
        store
            .is_remembered("kid-r", "n1", T0.add_seconds(299))
            .await
            .unwrap()
    );
    assert!(
        !store.is_remembered("kid-r", "n1", exp).await.unwrap(),
        "expired"
    );
    assert!(!store.is_remembered("kid-other", "n1", T0).await.unwrap());
    let long = "n".repeat(sage_store::MAX_NONCE_LEN + 1);
    assert!(matches!(
        store.is_remembered("kid-r", &long, T0).await,
        Err(StoreError::TooLong { .. })
    ));
}

async fn expired_nonce_can_be_used_again(db: &TestDb) {
    let store = db.open().await;
    assert_eq!(
        store
            .check_and_store("s", "n", T0, T0.add_seconds(10))
            .await
            .unwrap(),
        Fresh
    );
    // Expired at exactly its expiry instant, as the core's MemoryReplayStore.
    let later = T0.add_seconds(10);
    assert_eq!(
        store
            .check_and_store("s", "n", later, later.add_seconds(10))
            .await
            .unwrap(),
        Fresh
    );
    assert_eq!(
        store
            .check_and_store("s", "n", later, later.add_seconds(10))
            .await
            .unwrap(),
        Replayed
    );
    assert_eq!(store.count(later).await.unwrap(), 1);
    assert_eq!(store.count(later.add_seconds(10)).await.unwrap(), 0);
}

async fn expired_nonces_are_deleted_and_counted(db: &TestDb) {
    let store = db.open().await;
    for i in 0..30 {
        store
            .check_and_store("s", &format!("n{i}"), T0, T0.add_seconds(i))
            .await
            .unwrap();
    }
    assert_eq!(store.delete_expired(T0.add_seconds(9)).await.unwrap(), 10);
    assert_eq!(store.delete_expired(T0.add_seconds(9)).await.unwrap(), 0);
    assert_eq!(store.count(T0.add_seconds(9)).await.unwrap(), 20);
    assert_eq!(store.delete_expired(T0.add_seconds(100)).await.unwrap(), 20);
}

/// Runs `racers` concurrent checks of each nonce; returns the Fresh count
/// of each.
async fn race(store: &Arc<Store>, nonces: &[String], racers: usize, expire_in: i64) -> Vec<usize> {
    let mut winners = Vec::with_capacity(nonces.len());
    for nonce in nonces {
        let barrier = Arc::new(Barrier::new(racers));
        let tasks: Vec<_> = (0..racers)
            .map(|_| {
                let store = Arc::clone(store);
                let barrier = Arc::clone(&barrier);
                let nonce = nonce.clone();
                tokio::spawn(async move {
                    barrier.wait().await;
                    store
                        .check_and_store("race", &nonce, T0, T0.add_seconds(expire_in))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut fresh = 0;
        for task in tasks {
            fresh += usize::from(task.await.unwrap() == Fresh);
        }
        winners.push(fresh);
    }
    winners
}

async fn eight_racers_on_a_nonce_have_exactly_one_winner_a_thousand_times(db: &TestDb) {
    let store = Arc::new(db.open().await);
    let nonces: Vec<String> = (0..1000).map(|i| format!("nonce-{i}")).collect();
    let winners = race(&store, &nonces, 8, 300).await;
    let wrong: Vec<_> = winners
        .iter()
        .enumerate()
        .filter(|(_, w)| **w != 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "rounds without exactly one winner: {wrong:?}"
    );
    assert_eq!(store.count(T0).await.unwrap(), 1000);
}

async fn racers_on_an_expired_nonce_have_exactly_one_winner(db: &TestDb) {
    let store = Arc::new(db.open().await);
    let nonces: Vec<String> = (0..200).map(|i| format!("old-{i}")).collect();
    for nonce in &nonces {
        // Stored long ago, expired at T0: each is reusable by exactly one racer.
        store
            .check_and_store("race", nonce, T0.add_seconds(-600), T0)
            .await
            .unwrap();
    }
    let winners = race(&store, &nonces, 8, 300).await;
    assert!(winners.iter().all(|w| *w == 1), "{winners:?}");
}

both_engines!(
    remembered_is_a_read_of_live_nonces,
    nonce_is_fresh_once_then_replayed_until_it_expires,
    expired_nonce_can_be_used_again,
    expired_nonces_are_deleted_and_counted,
    eight_racers_on_a_nonce_have_exactly_one_winner_a_thousand_times,
    racers_on_an_expired_nonce_have_exactly_one_winner,
);
