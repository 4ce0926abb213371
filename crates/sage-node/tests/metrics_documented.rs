//! Every metric family the node documents is emitted by real work: a node
//! started in process serves a real client (handshakes, records), a
//! recording proxy keeps the client's raw requests so that a handshake
//! init and a record can be replayed, an impostor fails a signature
//! check, an operator resolves a DID and closes a session, and a session
//! outlives a short `session.max_age`. The `/metrics` exposition must
//! then name every family of `sage_node::metrics::DOCUMENTED`, and the
//! table of docs/OPERATIONS.md must list exactly those families.

// The helpers unwrap too (clippy allows it only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use sage_client::{ClientError, Peer, RegistryResolver, RetryPolicy, SageClient};
use sage_config::Secret;
use sage_core::did::Did;
use sage_core::primitives::{KeyType, SigningKey};
use sage_node::metrics::DOCUMENTED;
use sage_node::server::{self, NodeOptions};
use sage_registry::LocalRegistry;
use sage_store::{Store, StoreOptions, SystemClock};

use sage_node::testing::{
    RecordingProxy, config_in, counter_sum, get, is_handshake, random_did, register_signing_agent,
    request, rng, send_raw,
};

const TOKEN: &str = "metrics-test-management-token-0123456789abcdef";

fn client_with(
    store: &Store,
    did: &Did,
    key: &SigningKey,
) -> SageClient<RegistryResolver<LocalRegistry<Store>>> {
    SageClient::builder()
        .identity(
            did.clone(),
            SigningKey::from_bytes(KeyType::Ed25519, key.to_bytes().as_slice()).unwrap(),
        )
        .resolver(RegistryResolver::new(LocalRegistry::new(
            store.clone(),
            Arc::new(SystemClock),
        )))
        .retry(RetryPolicy {
            max_attempts: 1,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
        })
        .build()
        .unwrap()
}

/// The family names of a Prometheus text exposition, with the histogram
/// series suffixes (`_bucket`, `_sum`, `_count`) kept as they appear.
fn exposed_series(exposition: &str) -> Vec<String> {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let end = line.find(['{', ' ']).unwrap_or(line.len());
            line[..end].to_owned()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_metric_family_is_emitted_by_real_work() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = RecordingProxy::start();
    let mut config = config_in(dir.path());
    config.server.public_url = Some(format!("http://{}", proxy.addr()));
    config.management.token = Some(Secret::env("METRICS_TEST_TOKEN").unwrap());
    // Short enough for the test to outlive a session.
    config.session.max_age = Duration::from_secs(3);
    config.session.idle_timeout = Duration::from_secs(3);
    let mut options = NodeOptions::new(config);
    options.env_vars = [("METRICS_TEST_TOKEN", TOKEN)].into_iter().collect();
    let node = server::start(options).await.unwrap();
    proxy.forward_to(node.local_addr());
    let base = format!("http://{}", node.local_addr());
    let bearer = format!("Bearer {TOKEN}");
    let auth = [("authorization", bearer.as_str())];

    let database = format!("sqlite://{}/sage.db", dir.path().display());
    let store = Store::connect(&StoreOptions::new(&database)).await.unwrap();
    let client_did = random_did();
    let client_key = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
    let registry = LocalRegistry::new(store.clone(), Arc::new(SystemClock));
    register_signing_agent(&registry, &client_did, &client_key).await;
    let client = client_with(&store, &client_did, &client_key);
    let peer = Peer::Did(node.did().clone());

    // A handshake and records.
    let session = client.handshake(&peer).await.unwrap();
    for i in 0..3 {
        let reply = client
            .send(&peer, format!("record {i}").as_bytes(), None)
            .await
            .unwrap();
        assert!(!reply.plaintext.is_empty());
    }

    // The captured init and a captured record, replayed raw.
    let captured = proxy.requests();
    let init = captured.iter().find(|r| is_handshake(r)).unwrap();
    let record = captured.iter().rfind(|r| !is_handshake(r)).unwrap();
    // A refused handshake is answered in band (HTTP 200, `success:
    // false`), as the Go node does; a refused record gets a 401.
    let replayed = send_raw(node.local_addr(), init);
    assert_eq!(replayed.status, 200, "{}", replayed.body);
    assert!(
        replayed.body.contains("\"success\":false"),
        "{}",
        replayed.body
    );
    assert_eq!(send_raw(node.local_addr(), record).status, 401);

    // An impostor: the client's DID, another key; its signature fails.
    let impostor_key = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
    let impostor = client_with(&store, &client_did, &impostor_key);
    let error = impostor.handshake(&peer).await.unwrap_err();
    assert!(!matches!(error, ClientError::Unavailable { .. }), "{error}");

    // An operator resolves a DID and closes the session.
    let resolved = request(
        "GET",
        &format!("{base}/v1/dids/{}", client_did.as_str()),
        &auth,
        Vec::new(),
    )
    .await;
    assert_eq!(resolved.status, 200, "{}", resolved.text());
    let closed = request(
        "DELETE",
        &format!("{base}/v1/sessions/{}", session.session_id),
        &auth,
        Vec::new(),
    )
    .await;
    assert!(closed.status < 300, "{} {}", closed.status, closed.text());

    // The closed session is replaced; the new one outlives max_age, the
    // node finds it expired and the client replaces it again.
    client.send(&peer, b"after close", None).await.unwrap();
    tokio::time::sleep(Duration::from_millis(3_500)).await;
    client.send(&peer, b"after expiry", None).await.unwrap();

    let scraped = get(&format!("{base}/metrics")).await;
    assert_eq!(scraped.status, 200);
    let exposition = scraped.text();
    let series = exposed_series(&exposition);
    let mut missing = Vec::new();
    for family in DOCUMENTED {
        // A histogram shows as `_bucket`, `_sum` and `_count` series.
        let found = series.iter().any(|s| s == family)
            || (series.iter().any(|s| *s == format!("{family}_bucket"))
                && series.iter().any(|s| *s == format!("{family}_count")));
        if !found {
            missing.push(*family);
        }
    }
    assert!(
        missing.is_empty(),
        "documented but never emitted: {missing:?}\n{exposition}"
    );
    assert!(counter_sum(&exposition, "sage_sessions_expired_total", &[]) >= 1.0);
    assert!(counter_sum(&exposition, "sage_sessions_closed_total", &[]) >= 1.0);
    assert!(counter_sum(&exposition, "sage_replay_attacks_detected_total", &[]) >= 2.0);
    assert!(
        counter_sum(
            &exposition,
            "sage_crypto_errors_total",
            &["operation=\"verify\""]
        ) >= 1.0
    );

    store.close().await;
    node.shutdown().await.unwrap();
}

#[test]
fn the_operations_guide_lists_exactly_the_documented_metric_families() {
    let guide = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/OPERATIONS.md"
    ))
    .unwrap();
    // The rows of the metrics table: `| `sage_...` | type | labels | meaning |`.
    let mut listed: Vec<String> = guide
        .lines()
        .filter_map(|line| line.strip_prefix("| `sage_"))
        .filter_map(|rest| rest.split('`').next())
        .map(|name| format!("sage_{name}"))
        .collect();
    listed.sort_unstable();
    let mut documented: Vec<String> = DOCUMENTED.iter().map(|&name| name.to_owned()).collect();
    documented.sort_unstable();
    assert_eq!(listed, documented);
}
