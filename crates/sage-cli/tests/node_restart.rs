//! `sage serve` as a real process, killed and restarted: a client session
//! carried through a recording proxy survives a `kill -9` of the node (no
//! new handshake, the same session id), a request captured before the
//! kill and replayed raw to the restarted node is refused as a replay,
//! and nothing along the way is answered with a 5xx. Also: with no
//! management token configured, the node generates one into a 0600 file
//! that its banner names, and `/v1` needs it.

// The helpers unwrap too (clippy allows it only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead as _, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sage_client::{ClientError, Peer, RegistryResolver, RetryPolicy, SageClient};
use sage_core::did::Did;
use sage_core::primitives::{KeyType, SigningKey};
use sage_node::testing::{
    RecordingProxy, call, counter_sum, is_handshake, random_did, register_signing_agent, rng,
    send_raw, wait_healthy,
};
use sage_registry::LocalRegistry;
use sage_store::{Store, StoreOptions, SystemClock};

use common::{serve, serve_command};

const TOKEN_VAR: &str = "NODE_RESTART_TEST_TOKEN";
const TOKEN: &str = "node-restart-test-management-token-0123456789";

/// Registers and activates a fresh client agent in the node's local
/// registry (the node's SQLite database, shared with this process) and
/// returns a client that resolves through the same registry.
async fn registered_client(store: &Store) -> SageClient<RegistryResolver<LocalRegistry<Store>>> {
    let did = random_did();
    let key = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
    let registry = LocalRegistry::new(store.clone(), Arc::new(SystemClock));
    register_signing_agent(&registry, &did, &key).await;
    SageClient::builder()
        .identity(did, key)
        .resolver(RegistryResolver::new(registry))
        .retry(RetryPolicy {
            max_attempts: 1,
            initial_backoff: Duration::from_millis(10),
            max_backoff: Duration::from_millis(10),
        })
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_survives_kill_9_and_a_request_captured_before_it_is_refused_after() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = RecordingProxy::start();
    let public_url = format!("http://{}", proxy.addr());
    let token_ref = format!("env:{TOKEN_VAR}");
    let env = [
        ("SAGE_MANAGEMENT__TOKEN", token_ref.as_str()),
        (TOKEN_VAR, TOKEN),
        ("SAGE_SERVER__PUBLIC_URL", public_url.as_str()),
    ];
    // The first start takes any free port (a port picked in advance could
    // be taken by another test's socket before the node binds it); the
    // restart then asks for the same one.
    let node = serve(dir.path(), "127.0.0.1:0", &env);
    let node_addr = node.address();
    let listen = node_addr.to_string();
    proxy.forward_to(node_addr);
    assert_eq!(node.banner("/v1 token"), "management.token (configured)");
    assert!(!dir.path().join("data/management-token").exists());
    let node_did = Did::parse(node.banner("DID")).unwrap();
    let peer = Peer::Did(node_did);

    let database = format!("sqlite://{}/data/sage.db", dir.path().display());
    let store = Store::connect(&StoreOptions::new(&database)).await.unwrap();
    let client = registered_client(&store).await;
    let session = client.handshake(&peer).await.unwrap();
    // Records stream from a task while the node is killed and restarted.
    let stop = Arc::new(AtomicBool::new(false));
    let accepted = Arc::new(AtomicUsize::new(0));
    let stream = {
        let (client, peer) = (client.clone(), peer.clone());
        let (stop, accepted) = (Arc::clone(&stop), Arc::clone(&accepted));
        tokio::spawn(async move {
            let mut failures = Vec::new();
            let mut i = 0u32;
            while !stop.load(Ordering::SeqCst) {
                i += 1;
                match client
                    .send(&peer, format!("record {i}").as_bytes(), None)
                    .await
                {
                    Ok(reply) => {
                        assert!(!reply.plaintext.is_empty());
                        accepted.fetch_add(1, Ordering::SeqCst);
                    }
                    // While the node is down, or for the record in flight
                    // when it died.
                    Err(error) => {
                        failures.push(error);
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                }
            }
            failures
        })
    };
    let wait_for = |count: usize| {
        let deadline = Instant::now() + Duration::from_secs(10);
        while accepted.load(Ordering::SeqCst) < count {
            assert!(Instant::now() < deadline, "the records stopped flowing");
            std::thread::sleep(Duration::from_millis(2));
        }
    };
    wait_for(5);
    let captured = proxy.requests();
    assert_eq!(captured.iter().filter(|r| is_handshake(r)).count(), 1);
    // The first record, accepted before the kill.
    let old_record = captured.iter().find(|r| !is_handshake(r)).unwrap().clone();
    node.kill();
    let accepted_before = accepted.load(Ordering::SeqCst);

    let started = Instant::now();
    let node = serve(dir.path(), &listen, &env);
    wait_healthy(node_addr);
    eprintln!("restarted in {:?}", started.elapsed());
    wait_for(accepted_before + 5);
    stop.store(true, Ordering::SeqCst);
    let failures = stream.await.unwrap();
    eprintln!(
        "{} records accepted, {} failed around the kill: {failures:?}",
        accepted.load(Ordering::SeqCst),
        failures.len()
    );
    assert!(
        failures.iter().all(|e| !matches!(e, ClientError::Rejected)),
        "{failures:?}"
    );

    // (a) The same session: no handshake after the first, and the node
    // still knows the session by its id.
    let after = proxy.requests();
    assert_eq!(
        after.iter().filter(|r| is_handshake(r)).count(),
        1,
        "the client handshook again after the restart"
    );
    let kid_field = format!("\"kid\":\"{}\"", session.kid);
    assert!(
        after
            .iter()
            .filter(|r| !is_handshake(r))
            .all(|r| String::from_utf8_lossy(r).contains(&kid_field))
    );
    let known = call(
        "GET",
        node_addr,
        &format!("/v1/sessions/{}", session.session_id),
        Some(TOKEN),
    );
    assert_eq!(known.status, 200, "{}", known.body);
    assert!(known.body.contains(&session.session_id), "{}", known.body);

    // (b) The captured record, replayed raw, is a replay.
    let replay_codes = ["code=\"sig.replay\"", "code=\"session.replay\""];
    let metrics = call("GET", node_addr, "/metrics", None);
    let before = counter_sum(&metrics.body, "sage_messages_rejected_total", &replay_codes);
    let replayed = send_raw(node_addr, &old_record);
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    let metrics = call("GET", node_addr, "/metrics", None);
    let after_replay = counter_sum(&metrics.body, "sage_messages_rejected_total", &replay_codes);
    assert!(
        after_replay > before,
        "no replay counted ({before} -> {after_replay}):\n{}",
        metrics.body
    );

    // (c) No 5xx anywhere.
    let statuses = proxy.statuses();
    assert!(statuses.len() >= 11, "{statuses:?}");
    eprintln!("replays counted: {before} -> {after_replay}");
    assert!(statuses.iter().all(|s| *s < 500), "{statuses:?}");

    store.close().await;
    node.kill();
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn without_a_configured_token_the_node_generates_one_into_a_private_file() {
    let dir = tempfile::tempdir().unwrap();
    let node = serve(dir.path(), "127.0.0.1:0", &[]);
    let node_addr = node.address();
    let token_file = dir.path().join("data/management-token");
    let named = node.banner("/v1 token");
    assert!(
        named.starts_with("in ") && named.ends_with("management-token"),
        "{named}"
    );
    #[cfg(unix)]
    assert_eq!(mode(&token_file), 0o600);
    let token = std::fs::read_to_string(&token_file).unwrap();
    let token = token.trim();
    assert!(token.len() >= 32);

    assert_eq!(call("GET", node_addr, "/v1/identity", None).status, 401);
    assert_eq!(
        call("GET", node_addr, "/v1/identity", Some("not-the-token")).status,
        401
    );
    let identity = call("GET", node_addr, "/v1/identity", Some(token));
    assert_eq!(identity.status, 200, "{}", identity.body);
    node.kill();

    // The JSON banner of the next start names the same file; the token is
    // kept.
    let mut child = serve_command(
        dir.path(),
        &["--json", "serve", "--listen", "127.0.0.1:0"],
        &[],
    )
    .spawn()
    .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let banner: serde_json::Value = serde_json::from_str(&line).unwrap();
    let node_addr: SocketAddr = banner["listen"].as_str().unwrap().parse().unwrap();
    let named = banner["management_token_file"].as_str().unwrap();
    // A relative path is relative to the node's working directory.
    assert_eq!(
        dir.path().join(named).canonicalize().unwrap(),
        token_file.canonicalize().unwrap(),
        "{named}"
    );
    assert_eq!(std::fs::read_to_string(&token_file).unwrap().trim(), token);
    assert_eq!(
        call("GET", node_addr, "/v1/identity", Some(token)).status,
        200
    );
    child.kill().unwrap();
    child.wait().unwrap();
}
