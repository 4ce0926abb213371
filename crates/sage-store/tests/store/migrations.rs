//! Migrations: up, down, up again, on each engine.

use sage_store::{NonceStore, StoreError};

use crate::common::{T0, TestDb};

async fn migrations_go_up_down_and_up_again(db: &TestDb) {
    let store = db.open_unmigrated().await;
    let status = store.migration_status().await.unwrap();
    assert_eq!(status.current_version(), 0);
    assert_eq!(status.pending(), 2);
    assert_eq!(status.dirty, None);

    let up = store.migrate_up().await.unwrap();
    assert_eq!(
        up.migrations,
        vec![(1, "initial".to_owned()), (2, "registry".to_owned())]
    );
    assert!(
        store.migrate_up().await.unwrap().migrations.is_empty(),
        "second up applied again"
    );
    let status = store.migration_status().await.unwrap();
    assert_eq!(status.current_version(), 2);
    assert!(status.migrations.iter().all(|m| m.applied && m.checksum_ok));
    store
        .check_and_store("s", "n", T0, T0.add_seconds(1))
        .await
        .unwrap();

    let down = store.migrate_down(2).await.unwrap();
    assert_eq!(
        down.migrations,
        vec![(2, "registry".to_owned()), (1, "initial".to_owned())]
    );
    assert_eq!(store.migration_status().await.unwrap().current_version(), 0);
    assert!(
        store
            .check_and_store("s", "n", T0, T0.add_seconds(1))
            .await
            .is_err(),
        "the nonces table survived the down migration"
    );
    assert!(store.migrate_down(1).await.unwrap().migrations.is_empty());
    assert!(matches!(
        store.migrate_down(0).await,
        Err(StoreError::ZeroMigrations)
    ));

    store.migrate_up().await.unwrap();
    assert_eq!(store.migration_status().await.unwrap().current_version(), 2);
    // The tables are new and empty again.
    assert_eq!(store.count(T0).await.unwrap(), 0);
    store
        .check_and_store("s", "n", T0, T0.add_seconds(1))
        .await
        .unwrap();
}

both_engines!(migrations_go_up_down_and_up_again);

#[tokio::test]
async fn in_memory_sqlite_store_serves_every_interface() {
    use sage_core::session::SessionConfig;
    use sage_store::{SessionStore, Store, StoreOptions};

    let mut options = StoreOptions::new("sqlite::memory:");
    options.max_connections = 3;
    let store = Store::connect(&options).await.unwrap();
    store.migrate_up().await.unwrap();
    assert_eq!(
        store
            .check_and_store("s", "n", T0, T0.add_seconds(5))
            .await
            .unwrap(),
        sage_core::replay::ReplayVerdict::Fresh
    );
    let sessions = store.sessions(&crate::common::kek());
    let (_, bob) =
        crate::common::session_pair(crate::common::random_seed(), SessionConfig::default(), T0);
    sessions
        .create(&bob, "kid-m", &crate::common::did("p"))
        .await
        .unwrap();
    assert!(sessions.load(bob.id(), T0).await.unwrap().is_some());
    assert!(matches!(
        store
            .backup(std::path::Path::new("/nonexistent/x.db"))
            .await,
        Err(StoreError::InMemory)
    ));
}

#[tokio::test]
async fn pool_settings_come_from_the_options() {
    let db = TestDb::sqlite().await;
    let mut options = db.options.clone();
    options.max_connections = 3;
    let store = sage_store::Store::connect(&options).await.unwrap();
    assert_eq!(store.max_connections(), 3);
    assert!(format!("{options:?}").contains("max_connections: 3"));
}
