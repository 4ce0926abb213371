//! SessionStore: round trip, restart, optimistic concurrency, expiry,
//! paging, and keys at rest.

use std::sync::Arc;
use std::time::Duration;

use sage_core::replay::ReplayVerdict;
use sage_core::session::{SessionConfig, SessionError, SessionPolicy};
use sage_store::{
    ClaimedWrite, Engine, KeyEncryptionKey, NonceClaim, NonceStore as _, PageRequest,
    SessionProgress, SessionStore, StoreError,
};
use tokio::sync::Barrier;

use crate::common::{T0, TestDb, did, kek, random_seed, rng, session_pair};

async fn created_session_reads_back_with_its_clear_columns(db: &TestDb) {
    let store = db.open().await;
    let sessions = store.sessions(&kek());
    let (_, bob) = session_pair(random_seed(), SessionConfig::default(), T0);
    let record = sessions
        .create(&bob, "kid-1", &did("peer-a"))
        .await
        .unwrap();
    assert_eq!(&record.sid, bob.id());
    assert_eq!(record.kid, "kid-1");
    assert_eq!(record.peer_did, did("peer-a"));
    assert_eq!(record.role, bob.role());
    assert_eq!(record.version, 1);
    assert_eq!(record.created_at, T0);
    assert_eq!(record.expires_at, Some(T0.add_seconds(3600)));
    assert_eq!(record.idle_expires_at, Some(T0.add_seconds(600)));
    assert_eq!(record.next_send_seq, Some(0));
    assert_eq!(record.window, bob.replay_window());

    assert_eq!(
        sessions.get(bob.id(), T0).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(
        sessions.get_by_kid("kid-1", T0).await.unwrap(),
        Some(record.clone())
    );
    assert_eq!(sessions.get_by_kid("kid-2", T0).await.unwrap(), None);
    assert_eq!(sessions.count(T0).await.unwrap(), 1);
    assert_eq!(store.count_sessions(T0).await.unwrap(), 1);
    let loaded = sessions.load(bob.id(), T0).await.unwrap().unwrap();
    assert_eq!(loaded.record, record);
    assert_eq!(loaded.session.id(), bob.id());
    let by_kid = sessions.load_by_kid("kid-1", T0).await.unwrap().unwrap();
    assert_eq!(by_kid.record, record);
    assert_eq!(by_kid.session.id(), bob.id());
    assert!(sessions.load_by_kid("kid-2", T0).await.unwrap().is_none());

    assert!(sessions.delete(bob.id()).await.unwrap());
    assert!(!sessions.delete(bob.id()).await.unwrap());
    assert_eq!(sessions.get(bob.id(), T0).await.unwrap(), None);
}

async fn duplicate_session_id_or_kid_is_refused(db: &TestDb) {
    let store = db.open().await;
    let sessions = store.sessions(&kek());
    let (alice, bob) = session_pair(random_seed(), SessionConfig::default(), T0);
    sessions
        .create(&bob, "kid-1", &did("peer-a"))
        .await
        .unwrap();
    assert!(matches!(
        sessions.create(&bob, "kid-2", &did("peer-a")).await,
        Err(StoreError::DuplicateSession { .. })
    ));
    let (_, other) = session_pair(random_seed(), SessionConfig::default(), T0);
    assert!(matches!(
        sessions.create(&other, "kid-1", &did("peer-a")).await,
        Err(StoreError::DuplicateSession { .. })
    ));
    // The initiator's end has the same sid: one store holds one end.
    assert!(
        sessions
            .create(&alice, "kid-3", &did("peer-b"))
            .await
            .is_err()
    );
    assert!(matches!(
        sessions
            .create(&other, &"k".repeat(256), &did("peer-a"))
            .await,
        Err(StoreError::TooLong { field: "kid", .. })
    ));
}

async fn record_replayed_after_restart_is_rejected(db: &TestDb) {
    let (mut alice, mut bob) = session_pair(random_seed(), SessionConfig::default(), T0);
    let mut rng = rng();
    let records: Vec<Vec<u8>> = (0..5)
        .map(|i| {
            alice
                .encrypt(&mut rng, T0, format!("record {i}").as_bytes())
                .unwrap()
        })
        .collect();
    {
        let store = db.open().await;
        let sessions = store.sessions(&kek());
        let mut version = sessions
            .create(&bob, "kid-r", &did("alice"))
            .await
            .unwrap()
            .version;
        for (i, record) in records.iter().take(4).enumerate() {
            let now = T0.add_seconds(i as i64 + 1);
            bob.decrypt(now, record).unwrap();
            assert!(
                sessions
                    .update_window(bob.id(), version, &SessionProgress::of(&bob))
                    .await
                    .unwrap()
            );
            version += 1;
        }
        let reply = bob.encrypt(&mut rng, T0.add_seconds(5), b"reply").unwrap();
        assert!(
            sessions
                .update_window(bob.id(), version, &SessionProgress::of(&bob))
                .await
                .unwrap()
        );
        assert_eq!(alice.decrypt(T0.add_seconds(5), &reply).unwrap(), b"reply");
        store.close().await;
    }
    // A new process: new pools, same database.
    let store = db.open().await;
    let sessions = store.sessions(&kek());
    let stored = sessions
        .load(bob.id(), T0.add_seconds(6))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.record.version, 6);
    // The data plane's lookup by kid restores the same counters and window.
    let stored = sessions
        .load_by_kid("kid-r", T0.add_seconds(6))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.record.version, 6);
    let mut restored = stored.session;
    assert_eq!(restored.next_send_seq(), Some(1));
    assert_eq!(restored.message_count(), 5);
    for old in &records[..4] {
        assert_eq!(
            restored.decrypt(T0.add_seconds(6), old),
            Err(SessionError::Replayed)
        );
    }
    assert_eq!(
        restored.decrypt(T0.add_seconds(6), &records[4]).unwrap(),
        b"record 4"
    );
    // Its send counter continued: the peer accepts its next record.
    let next = restored
        .encrypt(&mut rng, T0.add_seconds(6), b"after restart")
        .unwrap();
    assert_eq!(
        alice.decrypt(T0.add_seconds(6), &next).unwrap(),
        b"after restart"
    );
}

async fn two_nodes_cannot_both_accept_the_same_sequence(db: &TestDb) {
    let store = db.open().await;
    let sessions = store.sessions(&kek());
    let (mut alice, bob) = session_pair(random_seed(), SessionConfig::default(), T0);
    sessions.create(&bob, "kid-n", &did("alice")).await.unwrap();
    let record = alice.encrypt(&mut rng(), T0, b"once").unwrap();

    let node_a = sessions.load(bob.id(), T0).await.unwrap().unwrap();
    let node_b = sessions.load(bob.id(), T0).await.unwrap().unwrap();
    let (mut a, mut b) = (node_a.session, node_b.session);
    a.decrypt(T0, &record).unwrap();
    b.decrypt(T0, &record).unwrap();
    assert!(
        sessions
            .update_window(a.id(), node_a.record.version, &SessionProgress::of(&a))
            .await
            .unwrap()
    );
    assert!(
        !sessions
            .update_window(b.id(), node_b.record.version, &SessionProgress::of(&b))
            .await
            .unwrap()
    );
    // Node B lost: it reloads, and the record is now a replay there too.
    let mut reloaded = sessions.load(bob.id(), T0).await.unwrap().unwrap().session;
    assert_eq!(reloaded.decrypt(T0, &record), Err(SessionError::Replayed));
}

async fn racing_window_updates_have_exactly_one_winner(db: &TestDb) {
    let store = db.open().await;
    let sessions = Arc::new(store.sessions(&kek()));
    let (mut alice, bob) = session_pair(random_seed(), SessionConfig::default(), T0);
    let version = sessions
        .create(&bob, "kid-race", &did("alice"))
        .await
        .unwrap()
        .version;
    let mut rng = rng();
    for round in 0..20u64 {
        let record = alice.encrypt(&mut rng, T0, b"x").unwrap();
        let barrier = Arc::new(Barrier::new(8));
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let sessions = Arc::clone(&sessions);
            let barrier = Arc::clone(&barrier);
            let record = record.clone();
            let sid = bob.id().clone();
            tasks.push(tokio::spawn(async move {
                let mut node = sessions.load(&sid, T0).await.unwrap().unwrap().session;
                let accepted = node.decrypt(T0, &record).is_ok();
                barrier.wait().await;
                accepted
                    && sessions
                        .update_window(&sid, version + round, &SessionProgress::of(&node))
                        .await
                        .unwrap()
            }));
        }
        let mut winners = 0;
        for task in tasks {
            winners += usize::from(task.await.unwrap());
        }
        assert_eq!(winners, 1, "round {round}");
    }
}

fn claim(nonce: &str) -> NonceClaim<'_> {
    NonceClaim {
        scope: "did:sage:ethereum:alice#key-1",
        nonce,
        now: T0,
        expires_at: T0.add_seconds(300),
    }
}

async fn claimed_window_write_records_nonce_and_window_together(db: &TestDb) {
    let store = db.open().await;
    let sessions = store.sessions(&kek());
    let (mut alice, bob) = session_pair(random_seed(), SessionConfig::default(), T0);
    let version = sessions
        .create(&bob, "kid-claim", &did("alice"))
        .await
        .unwrap()
        .version;
    let mut rng = rng();

    // Fresh nonce, current version: both are written.
    let first = alice.encrypt(&mut rng, T0, b"one").unwrap();
    let mut node = sessions.load(bob.id(), T0).await.unwrap().unwrap().session;
    node.decrypt(T0, &first).unwrap();
    assert_eq!(
        sessions
            .update_window_claiming(
                bob.id(),
                version,
                &SessionProgress::of(&node),
                &claim("n-1")
            )
            .await
            .unwrap(),
        ClaimedWrite::Written
    );
    assert_eq!(
        store
            .check_and_store(claim("n-1").scope, "n-1", T0, T0.add_seconds(300))
            .await
            .unwrap(),
        ReplayVerdict::Replayed,
        "the nonce is recorded"
    );
    let mut reloaded = sessions.load(bob.id(), T0).await.unwrap().unwrap();
    assert_eq!(reloaded.record.version, version + 1);
    assert_eq!(
        reloaded.session.decrypt(T0, &first),
        Err(SessionError::Replayed)
    );

    // A replayed nonce on a fresh record: nothing is written.
    let second = alice.encrypt(&mut rng, T0, b"two").unwrap();
    let mut node = reloaded.session;
    node.decrypt(T0, &second).unwrap();
    assert_eq!(
        sessions
            .update_window_claiming(
                bob.id(),
                version + 1,
                &SessionProgress::of(&node),
                &claim("n-1")
            )
            .await
            .unwrap(),
        ClaimedWrite::NonceReplayed
    );
    let mut unchanged = sessions.load(bob.id(), T0).await.unwrap().unwrap();
    assert_eq!(
        unchanged.record.version,
        version + 1,
        "the window was not written"
    );
    assert_eq!(unchanged.session.decrypt(T0, &second).unwrap(), b"two");

    // A stale version: nothing is written, and the nonce is left unrecorded,
    // so the same claim succeeds after the reload.
    let mut stale = sessions.load(bob.id(), T0).await.unwrap().unwrap().session;
    stale.decrypt(T0, &second).unwrap();
    assert_eq!(
        sessions
            .update_window_claiming(
                bob.id(),
                version,
                &SessionProgress::of(&stale),
                &claim("n-2")
            )
            .await
            .unwrap(),
        ClaimedWrite::VersionChanged
    );
    assert_eq!(
        sessions
            .update_window_claiming(
                bob.id(),
                version + 1,
                &SessionProgress::of(&stale),
                &claim("n-2")
            )
            .await
            .unwrap(),
        ClaimedWrite::Written
    );
    // A session that is gone is a changed version too, and claims nothing.
    assert!(sessions.delete(bob.id()).await.unwrap());
    assert_eq!(
        sessions
            .update_window_claiming(
                bob.id(),
                version + 2,
                &SessionProgress::of(&stale),
                &claim("n-3")
            )
            .await
            .unwrap(),
        ClaimedWrite::VersionChanged
    );
    assert_eq!(
        store
            .check_and_store(claim("n-3").scope, "n-3", T0, T0.add_seconds(300))
            .await
            .unwrap(),
        ReplayVerdict::Fresh
    );

    // Oversized nonces are refused before anything is written.
    let long = "n".repeat(sage_store::MAX_NONCE_LEN + 1);
    assert!(matches!(
        sessions
            .update_window_claiming(bob.id(), 1, &SessionProgress::of(&stale), &claim(&long))
            .await,
        Err(StoreError::TooLong { .. })
    ));
}

async fn racing_claims_of_one_nonce_have_exactly_one_winner(db: &TestDb) {
    // Eight sessions of one signer, each with a fresh record, all carried
    // by requests with the same nonce: exactly one window is written.
    let store = db.open().await;
    let sessions = Arc::new(store.sessions(&kek()));
    let mut rng = rng();
    for round in 0..10u32 {
        let barrier = Arc::new(Barrier::new(8));
        let mut tasks = Vec::new();
        for index in 0..8u32 {
            let (mut alice, bob) = session_pair(random_seed(), SessionConfig::default(), T0);
            let version = sessions
                .create(&bob, &format!("kid-{round}-{index}"), &did("alice"))
                .await
                .unwrap()
                .version;
            let record = alice.encrypt(&mut rng, T0, b"x").unwrap();
            let sessions = Arc::clone(&sessions);
            let barrier = Arc::clone(&barrier);
            tasks.push(tokio::spawn(async move {
                let mut node = sessions.load(bob.id(), T0).await.unwrap().unwrap().session;
                node.decrypt(T0, &record).unwrap();
                barrier.wait().await;
                let nonce = format!("shared-{round}");
                let write = sessions
                    .update_window_claiming(
                        bob.id(),
                        version,
                        &SessionProgress::of(&node),
                        &claim(&nonce),
                    )
                    .await
                    .unwrap();
                let stored = sessions.get(bob.id(), T0).await.unwrap().unwrap();
                assert_eq!(
                    stored.version,
                    if write == ClaimedWrite::Written {
                        version + 1
                    } else {
                        version
                    },
                    "the window moved exactly when the claim won"
                );
                write
            }));
        }
        let mut written = 0;
        for task in tasks {
            match task.await.unwrap() {
                ClaimedWrite::Written => written += 1,
                ClaimedWrite::NonceReplayed => {}
                ClaimedWrite::VersionChanged => panic!("no other writer changed these rows"),
            }
        }
        assert_eq!(written, 1, "round {round}");
    }
}

async fn session_keys_are_not_readable_at_rest(db: &TestDb) {
    let seed = random_seed();
    let (_, bob) = session_pair(seed, SessionConfig::default(), T0);
    let plaintext = bob.export_snapshot().unwrap().to_bytes();
    let store = db.open().await;
    let sessions = store.sessions(&kek());
    sessions
        .create(&bob, "kid-secret", &did("alice"))
        .await
        .unwrap();

    let stored: Vec<u8> = match db.engine {
        Engine::Sqlite => {
            store.close().await;
            let file = db.file.as_ref().unwrap();
            let mut bytes = std::fs::read(file).unwrap();
            // Committed pages may still sit in the write-ahead log.
            let mut wal = file.clone().into_os_string();
            wal.push("-wal");
            bytes.extend(std::fs::read(wal).unwrap_or_default());
            bytes
        }
        _ => {
            let pool = sqlx::PgPool::connect(&db.options.url).await.unwrap();
            let sealed: Vec<u8> =
                sqlx::query_scalar("SELECT sealed_snapshot FROM sessions WHERE kid = 'kid-secret'")
                    .fetch_one(&pool)
                    .await
                    .unwrap();
            let whole_row: String = sqlx::query_scalar("SELECT s::text FROM sessions s")
                .fetch_one(&pool)
                .await
                .unwrap();
            assert!(!whole_row.contains(&crate::common::hex(&seed)));
            let mut bytes = sealed;
            bytes.extend_from_slice(whole_row.as_bytes());
            bytes
        }
    };
    assert!(
        stored
            .windows(8)
            .any(|w| w == &bob.id().as_str().as_bytes()[..8]),
        "row not found"
    );
    assert!(
        !stored.windows(32).any(|w| w == seed),
        "session seed stored in clear"
    );
    assert!(
        !stored.windows(16).any(|w| w == &seed[8..24]),
        "part of the seed stored in clear"
    );
    assert!(
        !stored
            .windows(plaintext.len())
            .any(|w| w == plaintext.as_slice()),
        "snapshot stored in clear"
    );
}

async fn snapshot_opens_only_under_the_same_key(db: &TestDb) {
    let store = db.open().await;
    let (_, bob) = session_pair(random_seed(), SessionConfig::default(), T0);
    store
        .sessions(&kek())
        .create(&bob, "kid-k", &did("alice"))
        .await
        .unwrap();
    let other = store.sessions(&KeyEncryptionKey::from_bytes([1; 32]));
    assert!(matches!(
        other.load(bob.id(), T0).await,
        Err(StoreError::Unseal)
    ));
    // The clear columns need no key.
    assert!(other.get(bob.id(), T0).await.unwrap().is_some());
}

async fn sessions_expire_by_age_and_by_idle_time(db: &TestDb) {
    let store = db.open().await;
    let sessions = store.sessions(&kek());
    let config = SessionConfig {
        policy: SessionPolicy {
            max_age: Duration::from_secs(100),
            idle_timeout: Duration::from_secs(10),
            max_messages: 0,
        },
        ..SessionConfig::default()
    };
    let (_, idle) = session_pair(random_seed(), config, T0);
    let (_, busy) = session_pair(random_seed(), config, T0);
    sessions.create(&idle, "kid-idle", &did("p")).await.unwrap();
    sessions.create(&busy, "kid-busy", &did("p")).await.unwrap();
    // Exactly at the limit is still live (expired only when strictly past).
    assert!(
        sessions
            .get(idle.id(), T0.add_seconds(10))
            .await
            .unwrap()
            .is_some()
    );
    for t in [8, 16, 24, 32, 40, 48, 56, 64, 72, 80, 88, 96] {
        assert!(sessions.touch(busy.id(), T0.add_seconds(t)).await.unwrap());
    }
    assert!(
        sessions
            .get(idle.id(), T0.add_seconds(11))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        sessions
            .load(idle.id(), T0.add_seconds(11))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        sessions
            .load_by_kid("kid-idle", T0.add_seconds(11))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        !sessions.touch(idle.id(), T0.add_seconds(11)).await.unwrap(),
        "touch revived an idle session"
    );
    assert_eq!(sessions.count(T0.add_seconds(11)).await.unwrap(), 1);
    assert_eq!(
        sessions.delete_expired(T0.add_seconds(11)).await.unwrap(),
        1
    );
    // The busy one was active all along, but its absolute age runs out.
    let busy_record = sessions
        .get(busy.id(), T0.add_seconds(100))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(busy_record.last_activity, T0.add_seconds(96));
    assert_eq!(busy_record.idle_expires_at, Some(T0.add_seconds(106)));
    assert!(
        sessions
            .get(busy.id(), T0.add_seconds(101))
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        sessions.delete_expired(T0.add_seconds(101)).await.unwrap(),
        1
    );
    assert_eq!(sessions.count(T0).await.unwrap(), 0);
}

async fn touch_never_moves_activity_backwards(db: &TestDb) {
    let store = db.open().await;
    let sessions = store.sessions(&kek());
    let (_, bob) = session_pair(random_seed(), SessionConfig::default(), T0);
    let record = sessions.create(&bob, "kid-t", &did("p")).await.unwrap();
    assert!(sessions.touch(bob.id(), T0.add_seconds(30)).await.unwrap());
    assert!(sessions.touch(bob.id(), T0.add_seconds(20)).await.unwrap());
    let now = sessions
        .get(bob.id(), T0.add_seconds(30))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(now.last_activity, T0.add_seconds(30));
    assert_eq!(now.idle_expires_at, Some(T0.add_seconds(630)));
    assert_eq!(now.version, record.version, "touch changed the version");
}

async fn full_update_reseals_under_a_version_check(db: &TestDb) {
    let store = db.open().await;
    let sessions = store.sessions(&kek());
    let (mut alice, mut bob) = session_pair(random_seed(), SessionConfig::default(), T0);
    sessions.create(&bob, "kid-u", &did("p")).await.unwrap();
    let record = alice.encrypt(&mut rng(), T0, b"r").unwrap();
    bob.decrypt(T0.add_seconds(1), &record).unwrap();
    assert!(!sessions.update(&bob, 7).await.unwrap());
    assert!(sessions.update(&bob, 1).await.unwrap());
    assert!(!sessions.update(&bob, 1).await.unwrap());
    let stored = sessions
        .load(bob.id(), T0.add_seconds(2))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.record.version, 2);
    assert_eq!(stored.record.message_count, 1);
    let mut restored = stored.session;
    assert_eq!(
        restored.decrypt(T0.add_seconds(2), &record),
        Err(SessionError::Replayed)
    );
}

async fn sessions_of_a_peer_list_newest_first_in_pages(db: &TestDb) {
    let store = db.open().await;
    let sessions = store.sessions(&kek());
    let mut expected = Vec::new();
    for i in 0..5 {
        let (_, bob) = session_pair(random_seed(), SessionConfig::default(), T0.add_seconds(i));
        sessions
            .create(&bob, &format!("kid-p{i}"), &did("peer-p"))
            .await
            .unwrap();
        expected.push(bob.id().clone());
    }
    // Two sessions created in the same instant are ordered by sid.
    let (_, twin) = session_pair(random_seed(), SessionConfig::default(), T0.add_seconds(4));
    sessions
        .create(&twin, "kid-twin", &did("peer-p"))
        .await
        .unwrap();
    let (_, other) = session_pair(random_seed(), SessionConfig::default(), T0);
    sessions
        .create(&other, "kid-q", &did("peer-q"))
        .await
        .unwrap();
    expected.push(twin.id().clone());
    expected.reverse();
    let newest_two = &mut expected[..2];
    newest_two.sort_by(|a, b| b.cmp(a));

    let mut seen = Vec::new();
    let mut page = PageRequest::first(2);
    let mut pages = 0;
    loop {
        let got = sessions
            .list_by_peer(&did("peer-p"), T0.add_seconds(10), &page)
            .await
            .unwrap();
        pages += 1;
        seen.extend(got.items.iter().map(|r| r.sid.clone()));
        match got.next {
            Some(next) => page = next,
            None => break,
        }
    }
    assert_eq!(seen, expected);
    // Three full pages; a full page cannot know it was the last, so a
    // fourth, empty one ends the list.
    assert_eq!(pages, 4);
    assert!(matches!(
        sessions
            .list_by_peer(&did("peer-p"), T0, &PageRequest::first(0))
            .await,
        Err(StoreError::BadPageLimit { .. })
    ));
}

both_engines!(
    created_session_reads_back_with_its_clear_columns,
    duplicate_session_id_or_kid_is_refused,
    record_replayed_after_restart_is_rejected,
    two_nodes_cannot_both_accept_the_same_sequence,
    racing_window_updates_have_exactly_one_winner,
    claimed_window_write_records_nonce_and_window_together,
    racing_claims_of_one_nonce_have_exactly_one_winner,
    session_keys_are_not_readable_at_rest,
    snapshot_opens_only_under_the_same_key,
    sessions_expire_by_age_and_by_idle_time,
    touch_never_moves_activity_backwards,
    full_update_reseals_under_a_version_check,
    sessions_of_a_peer_list_newest_first_in_pages,
);
