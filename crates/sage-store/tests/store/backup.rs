//! Backup and restore on each engine: a round trip, and refusals.

use std::time::Duration;

use sage_core::session::SessionConfig;
use sage_store::backup::restore;
use sage_store::seed::seed_records;
use sage_store::{DidStore, Environment, NonceStore, SessionStore, StoreError};

use crate::common::{T0, TestDb, did, kek, random_seed, rng, session_pair};

async fn backup_restores_the_rows_it_was_taken_with(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("store.backup");
    let store = db.open().await;
    let records = seed_records(Environment::Staging, &mut rng(), T0).unwrap();
    for (record, _) in &records {
        store
            .put(record, T0, Duration::from_secs(3600))
            .await
            .unwrap();
    }
    store
        .check_and_store("s", "before", T0, T0.add_seconds(300))
        .await
        .unwrap();
    let (_, bob) = session_pair(random_seed(), SessionConfig::default(), T0);
    store
        .sessions(&kek())
        .create(&bob, "kid-b", &did("p"))
        .await
        .unwrap();

    let size = store.backup(&file).await.unwrap();
    assert!(size > 0);
    assert!(matches!(
        store.backup(&file).await,
        Err(StoreError::BackupExists { .. })
    ));

    // Changes after the backup...
    store.delete(&records[0].0.did).await.unwrap();
    store
        .check_and_store("s", "after", T0, T0.add_seconds(300))
        .await
        .unwrap();
    store.sessions(&kek()).delete(bob.id()).await.unwrap();
    store.close().await;

    // ...are undone by the restore.
    let report = restore(&db.options, &file).await.unwrap();
    let rows = |t: &str| report.tables.iter().find(|(n, _)| n == t).map(|(_, r)| *r);
    assert_eq!(rows("dids"), Some(2));
    assert_eq!(rows("nonces"), Some(1));
    assert_eq!(rows("sessions"), Some(1));
    let store = db.open().await;
    assert!(store.get(&records[0].0.did, T0).await.unwrap().is_some());
    assert_eq!(
        store
            .check_and_store("s", "before", T0, T0.add_seconds(300))
            .await
            .unwrap(),
        sage_core::replay::ReplayVerdict::Replayed
    );
    assert_eq!(
        store
            .check_and_store("s", "after", T0, T0.add_seconds(300))
            .await
            .unwrap(),
        sage_core::replay::ReplayVerdict::Fresh
    );
    let restored = store
        .sessions(&kek())
        .load(bob.id(), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(restored.session.id(), bob.id());
}

async fn restore_refuses_a_file_that_is_no_backup(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("junk");
    std::fs::write(&file, b"this is not a backup\n").unwrap();
    let store = db.open().await;
    store
        .check_and_store("s", "kept", T0, T0.add_seconds(300))
        .await
        .unwrap();
    assert!(matches!(
        restore(&db.options, &file).await,
        Err(StoreError::NotABackup { .. })
    ));
    assert!(
        restore(&db.options, &dir.path().join("missing"))
            .await
            .is_err()
    );
    assert_eq!(store.count(T0).await.unwrap(), 1);
}

both_engines!(
    backup_restores_the_rows_it_was_taken_with,
    restore_refuses_a_file_that_is_no_backup,
);

#[tokio::test]
async fn sqlite_restore_migrates_an_empty_target_first() {
    let source = TestDb::sqlite().await;
    let store = source.open().await;
    store
        .check_and_store("s", "n", T0, T0.add_seconds(300))
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("b.db");
    store.backup(&file).await.unwrap();
    let target = TestDb::sqlite().await;
    let report = restore(&target.options, &file).await.unwrap();
    assert!(report.tables.contains(&("nonces".to_owned(), 1)));
    let restored = target.open().await;
    assert_eq!(
        restored.migration_status().await.unwrap().current_version(),
        2
    );
    assert_eq!(restored.count(T0).await.unwrap(), 1);
}
