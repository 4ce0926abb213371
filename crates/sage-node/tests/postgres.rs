//! A node on PostgreSQL (a fresh schema of `SAGE_TEST_DATABASE_URL`, see
//! sage-store's test support): a schema that is behind is refused unless
//! migration is asked for; once migrated the node starts, is ready, and
//! restarts as the same DID without migrating again.

// The helpers unwrap too (clippy allows it only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use sage_node::server::{self, NodeError, NodeOptions};
use sage_store::testing::TestDb;

use support::{config_in, get};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_on_postgres_migrates_only_when_asked_and_keeps_its_did() {
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_in(dir.path());
    config.database.url = db.options.url.parse().unwrap();

    let error = server::start(NodeOptions::new(config.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, NodeError::PendingMigrations { pending, .. } if pending > 0),
        "{error}"
    );
    assert!(error.to_string().contains("--migrate"), "{error}");
    // The password never shows in the error.
    assert!(!error.to_string().contains("sage:sage@"), "{error}");

    let mut options = NodeOptions::new(config.clone());
    options.migrate_postgres = true;
    let node = server::start(options).await.unwrap();
    assert!(node.registered());
    let did = node.did().clone();
    let ready = get(&format!("http://{}/ready", node.local_addr())).await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    node.shutdown().await.unwrap();

    let again = server::start(NodeOptions::new(config)).await.unwrap();
    assert_eq!(again.did(), &did);
    assert!(!again.registered());
    again.shutdown().await.unwrap();
}
