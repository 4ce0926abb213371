//! The sweeper: deletes what expired, keeps what did not, counts it.

use std::sync::Arc;
use std::time::Duration;

use sage_core::session::{SessionConfig, SessionPolicy};
use sage_store::seed::seed_records;
use sage_store::{DidStore, Environment, NonceStore, SessionStore, SweepReport, Sweeper};

use crate::common::{ManualClock, T0, TestDb, did, kek, random_seed, rng, session_pair};

/// Two expired and one live row in each table (one DID is a tombstone,
/// which the sweep keeps however old).
async fn fill(store: &sage_store::Store) {
    let sessions = store.sessions(&kek());
    let config = |age, idle| SessionConfig {
        policy: SessionPolicy {
            max_age: Duration::from_secs(age),
            idle_timeout: Duration::from_secs(idle),
            max_messages: 0,
        },
        ..SessionConfig::default()
    };
    for (i, (age, idle)) in [(50, 0), (0, 20), (1000, 1000)].into_iter().enumerate() {
        let (_, s) = session_pair(random_seed(), config(age, idle), T0);
        sessions
            .create(&s, &format!("kid-{i}"), &did("peer"))
            .await
            .unwrap();
    }
    for (i, expiry) in [30, 90, 500].into_iter().enumerate() {
        store
            .check_and_store("s", &format!("n{i}"), T0, T0.add_seconds(expiry))
            .await
            .unwrap();
    }
    let records = seed_records(Environment::Development, &mut rng(), T0).unwrap();
    for ((record, _), ttl) in records.iter().zip([40, 60, 1000, 10]) {
        store
            .put(record, T0, Duration::from_secs(ttl))
            .await
            .unwrap();
    }
    // The fourth (ttl 10 s) becomes a tombstone.
    store.revoke(&records[3].0.did, T0).await.unwrap();
}

async fn sweeper_deletes_what_expired_and_counts_it(db: &TestDb) {
    let store = db.open().await;
    fill(&store).await;
    let clock = ManualClock::at(T0.add_seconds(100));
    let sweeper = Sweeper::new(store.clone(), clock.clone(), Duration::from_secs(60));
    let report = sweeper.run_once().await.unwrap();
    assert_eq!(
        report,
        SweepReport {
            sessions: 2,
            nonces: 2,
            dids: 2
        }
    );
    assert_eq!(sweeper.run_once().await.unwrap(), SweepReport::default());
    let stats = sweeper.stats().snapshot();
    assert_eq!(stats.runs, 2);
    assert_eq!(stats.failures, 0);
    assert_eq!(
        (
            stats.sessions_deleted,
            stats.nonces_deleted,
            stats.dids_deleted
        ),
        (2, 2, 2)
    );
    assert_eq!(stats.last_run, Some(T0.add_seconds(100)));
    // What is left is exactly what is live (and the tombstone).
    let later = T0.add_seconds(100);
    assert_eq!(store.count_sessions(later).await.unwrap(), 1);
    assert_eq!(store.sessions(&kek()).count(T0).await.unwrap(), 1);
    assert_eq!(store.count(T0).await.unwrap(), 1);
    clock.set(T0.add_seconds(10_000));
    let report = sweeper.run_once().await.unwrap();
    assert_eq!(
        report,
        SweepReport {
            sessions: 1,
            nonces: 1,
            dids: 1
        }
    );
}

async fn spawned_sweeper_runs_until_shut_down(db: &TestDb) {
    let store = db.open().await;
    fill(&store).await;
    let clock = ManualClock::at(T0.add_seconds(100));
    let handle = Sweeper::new(store.clone(), clock, Duration::from_secs(1)).spawn();
    let stats = handle.stats();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while stats.snapshot().runs < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the sweeper did not run twice in 20 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    handle.shutdown().await.unwrap();
    let after = stats.snapshot();
    assert_eq!(
        (
            after.sessions_deleted,
            after.nonces_deleted,
            after.dids_deleted
        ),
        (2, 2, 2)
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        stats.snapshot().runs,
        after.runs,
        "the sweeper ran after shutdown"
    );
}

both_engines!(
    sweeper_deletes_what_expired_and_counts_it,
    spawned_sweeper_runs_until_shut_down,
);

#[test]
fn sweeper_counters_start_empty() {
    let stats = sage_store::SweepStats::new().snapshot();
    assert_eq!(stats.runs, 0);
    assert_eq!(stats.last_run, None);
    let _ = Arc::new(stats);
}
