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

mod support;

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use sage_client::{ClientError, Peer, RegistryResolver, RetryPolicy, SageClient};
use sage_config::Secret;
use sage_core::did::{Chain, Did};
use sage_core::primitives::{KeyType, SigningKey};
use sage_core::version::ProtocolVersion;
use sage_node::metrics::DOCUMENTED;
use sage_node::server::{self, NodeOptions};
use sage_registry::{
    Activate, LocalRegistry, NewKey, Register, Registry as _, Request, RequestHeader,
};
use sage_store::{Store, StoreOptions, SystemClock};

use support::{config_in, request};

const TOKEN: &str = "metrics-test-management-token-0123456789abcdef";

fn rng() -> impl sage_core::rand_core::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

/// What one proxied client connection sent.
type Recording = Arc<Mutex<Vec<u8>>>;

/// A TCP proxy that forwards every connection to the node and keeps what
/// each client connection sent, byte for byte.
struct RecordingProxy {
    addr: SocketAddr,
    node: Arc<OnceLock<SocketAddr>>,
    sent: Arc<Mutex<Vec<Recording>>>,
}

impl RecordingProxy {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let node: Arc<OnceLock<SocketAddr>> = Arc::new(OnceLock::new());
        let sent: Arc<Mutex<Vec<Recording>>> = Arc::default();
        let (target, streams) = (Arc::clone(&node), Arc::clone(&sent));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(upstream) = TcpStream::connect(target.get().unwrap()) else {
                    continue;
                };
                let recorded = Recording::default();
                streams.lock().unwrap().push(Arc::clone(&recorded));
                pump(
                    client.try_clone().unwrap(),
                    upstream.try_clone().unwrap(),
                    Some(recorded),
                );
                pump(upstream, client, None);
            }
        });
        Self { addr, node, sent }
    }

    /// Every complete HTTP request the clients sent, in order per
    /// connection.
    fn requests(&self) -> Vec<Vec<u8>> {
        let streams = self.sent.lock().unwrap();
        streams
            .iter()
            .flat_map(|stream| split_requests(&stream.lock().unwrap()))
            .collect()
    }
}

/// Copies `from` to `to` on a thread, keeping a copy in `record`.
fn pump(mut from: TcpStream, mut to: TcpStream, record: Option<Recording>) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if let Some(record) = &record {
                record.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
        }
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}

/// Splits a stream of HTTP/1.1 requests with `content-length` bodies.
fn split_requests(mut raw: &[u8]) -> Vec<Vec<u8>> {
    let mut requests = Vec::new();
    while let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
        let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map_or(0, |v| v.trim().parse().unwrap());
        let end = head_end + 4 + length;
        if raw.len() < end {
            break;
        }
        requests.push(raw[..end].to_vec());
        raw = &raw[end..];
    }
    requests
}

/// Sends `raw` on a fresh connection and returns the response status
/// and body.
fn replay(node: SocketAddr, raw: &[u8]) -> (u16, String) {
    let mut stream = TcpStream::connect(node).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(raw).unwrap();
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        if let Some(head_end) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&answer[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if answer.len() >= head_end + 4 + length {
                let status = head.split(' ').nth(1).unwrap().parse().unwrap();
                let body = String::from_utf8_lossy(&answer[head_end + 4..][..length]);
                return (status, body.into_owned());
            }
        }
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the node closed the connection without answering");
        answer.extend_from_slice(&buf[..n]);
    }
}

fn is_handshake(raw: &[u8]) -> bool {
    let task = ProtocolVersion::V1Draft1.labels().hpke_task;
    String::from_utf8_lossy(raw).contains(task)
}

/// Registers and activates `did` with `key` in the node's database.
async fn register_client(store: Store, did: &Did, key: &SigningKey) -> LocalRegistry<Store> {
    let registry = LocalRegistry::new(store, Arc::new(SystemClock));
    let labels = ProtocolVersion::V1Draft1.labels();
    let now = sage_store::instant::system_now();
    let register = Register {
        name: "metrics-test client".to_owned(),
        description: String::new(),
        endpoint: "http://127.0.0.1:9".to_owned(),
        capabilities: serde_json::Map::new(),
        keys: vec![NewKey::signing(labels, key, did).unwrap()],
    };
    let header = RequestHeader::new(did.clone(), 0, now, &mut rng());
    registry
        .register(&Request::new(header, register).sign(key))
        .await
        .unwrap();
    let header = RequestHeader::new(did.clone(), 1, now, &mut rng());
    registry
        .activate(&Request::new(header, Activate).sign(key))
        .await
        .unwrap();
    registry
}

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

/// The value of the first sample of `name` whose labels contain `label`.
fn sample(exposition: &str, name: &str, label: &str) -> Option<f64> {
    exposition
        .lines()
        .filter(|line| line.starts_with(name) && line[name.len()..].starts_with(['{', ' ']))
        .find(|line| line.contains(label))
        .and_then(|line| line.rsplit(' ').next())
        .and_then(|value| value.parse().ok())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_metric_family_is_emitted_by_real_work() {
    let dir = tempfile::tempdir().unwrap();
    let proxy = RecordingProxy::start();
    let mut config = config_in(dir.path());
    config.server.public_url = Some(format!("http://{}", proxy.addr));
    config.management.token = Some(Secret::env("METRICS_TEST_TOKEN").unwrap());
    // Short enough for the test to outlive a session.
    config.session.max_age = Duration::from_secs(3);
    config.session.idle_timeout = Duration::from_secs(3);
    let mut options = NodeOptions::new(config);
    options.env_vars = [("METRICS_TEST_TOKEN", TOKEN)].into_iter().collect();
    let node = server::start(options).await.unwrap();
    proxy.node.set(node.local_addr()).unwrap();
    let base = format!("http://{}", node.local_addr());
    let bearer = format!("Bearer {TOKEN}");
    let auth = [("authorization", bearer.as_str())];

    let database = format!("sqlite://{}/sage.db", dir.path().display());
    let store = Store::connect(&StoreOptions::new(&database)).await.unwrap();
    let mut id = [0u8; 20];
    getrandom::fill(&mut id).unwrap();
    let client_did = Did::new(
        Chain::Ethereum,
        &format!("0x{}", sage_core::encoding::hex_encode(&id)),
    )
    .unwrap();
    let client_key = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
    register_client(store.clone(), &client_did, &client_key).await;
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
    let (status, body) = replay(node.local_addr(), init);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"success\":false"), "{body}");
    assert_eq!(replay(node.local_addr(), record).0, 401);

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

    let scraped = support::get(&format!("{base}/metrics")).await;
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
    assert!(sample(&exposition, "sage_sessions_expired_total", "").unwrap() >= 1.0);
    assert!(sample(&exposition, "sage_sessions_closed_total", "").unwrap() >= 1.0);
    assert!(sample(&exposition, "sage_replay_attacks_detected_total", "").unwrap() >= 2.0);
    assert!(
        sample(
            &exposition,
            "sage_crypto_errors_total",
            "operation=\"verify\""
        )
        .unwrap()
            >= 1.0
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
