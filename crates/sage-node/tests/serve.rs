//! A node started in process with `server::start` on a real port: the
//! operations endpoints, the agent card, the fallbacks, restarts, sealed
//! identities and shutdown.

// The helpers unwrap too (clippy allows it only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use sage_config::{SageConfig, Secret};
use sage_core::card::verify_card;
use sage_core::version::ProtocolVersion;
use sage_node::identity::keystore::KeystoreError;
use sage_node::server::{self, NodeError, NodeOptions};

use sage_node::testing::{config_in, get, request, slow_post};

#[tokio::test]
async fn a_node_on_defaults_serves_health_readiness_metrics_and_its_card() {
    let dir = tempfile::tempdir().unwrap();
    let node = server::start(NodeOptions::new(config_in(dir.path())))
        .await
        .unwrap();
    assert!(node.registered());
    let base = format!("http://{}", node.local_addr());
    assert_eq!(node.public_url(), base);

    let health = get(&format!("{base}/health")).await;
    assert_eq!(health.status, 200);
    assert_eq!(health.json()["status"], "ok");
    let id = health.headers.get("x-request-id").expect("a request id");
    assert!(!id.is_empty());

    let ready = get(&format!("{base}/ready")).await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert_eq!(ready.json()["status"], "ready");

    let card = get(&format!("{base}/.well-known/agent-card.json")).await;
    assert_eq!(card.status, 200);
    let labels = ProtocolVersion::V1Draft1.labels();
    let verified = verify_card(labels, &card.body).unwrap();
    assert_eq!(verified.did(), node.did());
    assert_eq!(verified.signing_key(), &node.identity().verifying_key());
    assert_eq!(card.json()["service"][0]["uri"], base.as_str());

    let metrics = get(&format!("{base}/metrics")).await;
    assert_eq!(metrics.status, 200);
    assert!(
        metrics.headers["content-type"].starts_with("text/plain"),
        "{:?}",
        metrics.headers
    );
    let text = metrics.text();
    assert!(
        text.contains("sage_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"}"),
        "{text}"
    );

    let openapi = get(&format!("{base}/openapi.json")).await;
    assert_eq!(openapi.status, 200);
    let paths = &openapi.json()["paths"];
    for path in [
        "/health",
        "/ready",
        "/metrics",
        "/.well-known/agent-card.json",
    ] {
        assert!(
            paths.get(path).is_some(),
            "{path} missing from /openapi.json"
        );
    }

    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_paths_and_methods_are_answered_as_problems_with_a_request_id() {
    let dir = tempfile::tempdir().unwrap();
    let node = server::start(NodeOptions::new(config_in(dir.path())))
        .await
        .unwrap();
    let base = format!("http://{}", node.local_addr());

    let missing = get(&format!("{base}/no/such/path")).await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.headers["content-type"], "application/problem+json");
    assert_eq!(missing.json()["code"], "route.not_found");
    assert!(missing.headers.contains_key("x-request-id"));

    let wrong_method = request("DELETE", &format!("{base}/health"), &[], Vec::new()).await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.json()["code"], "route.method_not_allowed");

    // A client's own request id is kept.
    let traced = request(
        "GET",
        &format!("{base}/health"),
        &[("x-request-id", "trace-me-42")],
        Vec::new(),
    )
    .await;
    assert_eq!(traced.headers["x-request-id"], "trace-me-42");

    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_body_over_the_limit_is_refused_as_request_too_large() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_in(dir.path());
    config.server.body_limit = sage_config::ByteSize(1024);
    let node = server::start(NodeOptions::new(config)).await.unwrap();
    let base = format!("http://{}", node.local_addr());
    let big = request(
        "POST",
        &format!("{base}/health"),
        &[("content-type", "application/json")],
        vec![b'x'; 4096],
    )
    .await;
    assert_eq!(big.status, 413, "{}", big.text());
    assert_eq!(big.json()["code"], "request.too_large");
    node.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_restart_keeps_the_did_and_registers_nothing_new() {
    let dir = tempfile::tempdir().unwrap();
    let first = server::start(NodeOptions::new(config_in(dir.path())))
        .await
        .unwrap();
    let did = first.did().clone();
    assert!(first.registered());
    first.shutdown().await.unwrap();

    let second = server::start(NodeOptions::new(config_in(dir.path())))
        .await
        .unwrap();
    assert_eq!(second.did(), &did);
    assert!(!second.registered());
    // Another port this time: the record's endpoint followed, so the card
    // and the record agree.
    let base = format!("http://{}", second.local_addr());
    let ready = get(&format!("{base}/ready")).await;
    assert_eq!(ready.status, 200);
    let card = get(&format!("{base}/.well-known/agent-card.json")).await;
    assert_eq!(card.json()["service"][0]["uri"], base.as_str());
    second.shutdown().await.unwrap();
}

fn sealed_config(dir: &std::path::Path) -> SageConfig {
    let mut config = config_in(dir);
    config.identity.passphrase = Some(Secret::env("SAGE_TEST_PASSPHRASE").unwrap());
    config
}

fn with_passphrase(config: SageConfig, passphrase: &str) -> NodeOptions {
    let mut options = NodeOptions::new(config);
    options.env_vars = [("SAGE_TEST_PASSPHRASE", passphrase)].into_iter().collect();
    options
}

#[tokio::test]
async fn a_sealed_identity_survives_a_restart_and_a_wrong_passphrase_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let first = server::start(with_passphrase(sealed_config(dir.path()), "open sesame"))
        .await
        .unwrap();
    let did = first.did().clone();
    first.shutdown().await.unwrap();
    let signing = std::fs::read_to_string(dir.path().join("identity/signing.jwk")).unwrap();
    assert!(signing.contains("sage_sealed_key"), "{signing}");

    let error = server::start(with_passphrase(sealed_config(dir.path()), "open sesame!"))
        .await
        .unwrap_err();
    assert!(
        matches!(error, NodeError::Keys(KeystoreError::Unseal { .. })),
        "{error}"
    );

    let again = server::start(with_passphrase(sealed_config(dir.path()), "open sesame"))
        .await
        .unwrap();
    assert_eq!(again.did(), &did);
    again.shutdown().await.unwrap();
}

#[tokio::test]
async fn shutdown_stops_accepting_and_closes_promptly() {
    let dir = tempfile::tempdir().unwrap();
    let node = server::start(NodeOptions::new(config_in(dir.path())))
        .await
        .unwrap();
    let address = node.local_addr();
    let started = std::time::Instant::now();
    node.shutdown().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(tokio::net::TcpStream::connect(address).await.is_err());
}

#[tokio::test]
async fn an_in_flight_request_finishes_during_shutdown() {
    let dir = tempfile::tempdir().unwrap();
    let node = server::start(NodeOptions::new(config_in(dir.path())))
        .await
        .unwrap();
    let base = format!("http://{}", node.local_addr());
    // A request whose body is still arriving when shutdown begins.
    // `/messages` reads its body before answering, so the request is in
    // flight until the last byte arrives.
    let (mut sender, pending) = slow_post(&format!("{base}/messages")).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    let shutdown = tokio::spawn(node.shutdown());
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !shutdown.is_finished(),
        "shutdown did not wait for the request"
    );
    sender.finish().await;
    let answer = pending.await.unwrap();
    // Answered (the empty message is refused), not cut off.
    assert!((400..500).contains(&answer.status), "{}", answer.status);
    shutdown.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_client_that_never_finishes_its_request_head_is_disconnected() {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let dir = tempfile::tempdir().unwrap();
    let mut config = config_in(dir.path());
    config.server.read_timeout = Duration::from_millis(300);
    let node = server::start(NodeOptions::new(config)).await.unwrap();
    let mut stream = tokio::net::TcpStream::connect(node.local_addr())
        .await
        .unwrap();
    stream.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut rest)).await;
    assert!(read.is_ok(), "the connection was kept open");
    assert!(started.elapsed() < Duration::from_secs(3));
    // Never answered as if the request had arrived.
    assert!(!String::from_utf8_lossy(&rest).contains("200 OK"));
    node.shutdown().await.unwrap();
}
