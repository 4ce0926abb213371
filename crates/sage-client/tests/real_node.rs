//! The client against a real node started in process
//! (`sage_node::server::start`) in gateway mode, on SQLite and, when
//! `SAGE_TEST_DATABASE_URL` is set, on PostgreSQL: the client resolves the
//! node's DID in the node's local registry, handshakes, and exchanges
//! records; a counting upstream tells how many payloads the node
//! delivered.

#![allow(clippy::unwrap_used)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use sage_client::{ClientError, Peer, RegistryResolver, RetryPolicy, SageClient};
use sage_config::{EnvVars, SageConfig};
use sage_core::did::Did;
use sage_core::primitives::{KeyType, SigningKey, X25519Secret};
use sage_core::session::SessionId;
use sage_core::time::Timestamp;
use sage_core::version::{Labels, ProtocolVersion};
use sage_node::server::{self, NodeOptions, RunningNode, Uri};
use sage_node::testing::{config_in, random_did, register_agent};
use sage_registry::{CachingResolver, LocalRegistry, NewKey};
use sage_store::testing::TestDb;
use sage_store::{SessionStore as _, Store, SystemClock};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

type Resolver = RegistryResolver<CachingResolver<Arc<LocalRegistry<Store>>, Store>>;

fn labels() -> &'static Labels {
    ProtocolVersion::V1Draft1.labels()
}

fn now() -> Timestamp {
    sage_store::instant::system_now()
}

/// Counts the payloads the node delivers and answers `ack:<payload>`.
async fn upstream() -> (Uri, Arc<AtomicUsize>) {
    async fn deliver(State(count): State<Arc<AtomicUsize>>, body: Bytes) -> Vec<u8> {
        count.fetch_add(1, Ordering::SeqCst);
        [b"ack:".as_slice(), &body].concat()
    }
    let count = Arc::new(AtomicUsize::new(0));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/", post(deliver))
        .with_state(Arc::clone(&count));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/").parse().unwrap(), count)
}

/// A node, its database and the client's registered identity.
struct Setup {
    node: RunningNode,
    config: SageConfig,
    store: Store,
    delivered: Arc<AtomicUsize>,
    client_did: Did,
    client_key: SigningKey,
    _db: TestDb,
    _dir: tempfile::TempDir,
}

impl Setup {
    async fn start(db: TestDb, public_url: Option<String>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = config_in(dir.path());
        config.database.url = db.options.url.parse().unwrap();
        config.server.public_url = public_url;
        let (upstream, delivered) = upstream().await;
        let mut options = NodeOptions::new(config.clone());
        options.upstream = Some(upstream);
        options.migrate_postgres = true;
        let node = server::start(options).await.unwrap();
        let store = db.open().await;

        // The client agent: an Ed25519 controller that also signs, and a
        // KEM key, registered and activated in the node's local registry.
        let mut rng = UnwrapErr(SysRng);
        let client_did = random_did();
        let client_key = SigningKey::generate(KeyType::Ed25519, &mut rng).unwrap();
        let kem = X25519Secret::generate(&mut rng);
        let registry = LocalRegistry::new(store.clone(), Arc::new(SystemClock));
        let keys = vec![
            NewKey::signing(labels(), &client_key, &client_did).unwrap(),
            NewKey::kem(
                labels(),
                &client_did,
                &kem.public_key(),
                &client_key,
                "key-1",
            ),
        ];
        register_agent(&registry, &client_did, &client_key, keys, now()).await;
        Self {
            node,
            config,
            store,
            delivered,
            client_did,
            client_key,
            _db: db,
            _dir: dir,
        }
    }

    fn client(&self, retry: RetryPolicy, timeout: Duration) -> SageClient<Resolver> {
        let key = SigningKey::from_bytes(KeyType::Ed25519, &*self.client_key.to_bytes()).unwrap();
        let clock = Arc::new(SystemClock);
        let registry = Arc::new(LocalRegistry::new(self.store.clone(), clock.clone()));
        let resolver =
            CachingResolver::new(registry, self.store.clone(), Duration::from_secs(60), clock);
        SageClient::builder()
            .identity(self.client_did.clone(), key)
            .resolver(RegistryResolver::new(resolver))
            .retry(retry)
            .timeout(timeout)
            .build()
            .unwrap()
    }

    fn peer(&self) -> Peer {
        Peer::Did(self.node.did().clone())
    }

    async fn stop(self) {
        self.store.close().await;
        self.node.shutdown().await.unwrap();
    }
}

async fn thousand_records_both_ways(db: TestDb) {
    let setup = Setup::start(db, None).await;
    let client = setup.client(RetryPolicy::DEFAULT, Duration::from_secs(10));
    let peer = setup.peer();
    let info = client.handshake(&peer).await.unwrap();
    assert!(!info.kid.is_empty());
    assert_eq!(info.peer_did, setup.node.did().as_str());

    let started = Instant::now();
    for i in 0..1_000u32 {
        let payload = format!("record {i}");
        let reply = client
            .send(&peer, payload.as_bytes(), Some("test"))
            .await
            .unwrap();
        assert_eq!(reply.plaintext, format!("ack:{payload}").as_bytes());
    }
    let elapsed = started.elapsed();
    eprintln!(
        "1000 records both ways in {elapsed:?} ({:.0} records/s round trips)",
        1_000.0 / elapsed.as_secs_f64()
    );
    assert_eq!(setup.delivered.load(Ordering::SeqCst), 1_000);
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_records_go_both_ways_on_sqlite() {
    thousand_records_both_ways(TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_records_go_both_ways_on_postgres() {
    if std::env::var(sage_store::testing::URL_VAR).is_err() {
        eprintln!("SKIPPED: {} unset", sage_store::testing::URL_VAR);
        return;
    }
    let Some(db) = TestDb::postgres().await else {
        return;
    };
    thousand_records_both_ways(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn session_closed_by_the_node_is_replaced_and_the_payload_delivered_once() {
    let setup = Setup::start(TestDb::sqlite().await, None).await;
    let client = setup.client(RetryPolicy::DEFAULT, Duration::from_secs(10));
    let peer = setup.peer();
    let first = client.handshake(&peer).await.unwrap();
    client.send(&peer, b"before", None).await.unwrap();

    let kek = server::storage::key_encryption_key(&setup.config, &EnvVars::from_process()).unwrap();
    let sid: SessionId = first.session_id.parse().unwrap();
    assert!(setup.store.sessions(&kek).delete(&sid).await.unwrap());

    let reply = client.send(&peer, b"after", None).await.unwrap();
    assert_eq!(reply.plaintext, b"ack:after");
    assert_eq!(setup.delivered.load(Ordering::SeqCst), 2);
    let second = client.handshake(&peer).await.unwrap();
    assert_ne!(second.kid, first.kid);
    setup.stop().await;
}

/// A proxy in front of the node that forwards each request and, for the
/// first `drop_answers` of them, throws the node's answer away and
/// closes the connection: the node got the record, the client did not
/// get the answer.
async fn lossy_proxy(
    listener: TcpListener,
    node: Arc<tokio::sync::OnceCell<SocketAddr>>,
    drop_answers: Arc<AtomicUsize>,
    skip: usize,
) {
    let seen = Arc::new(AtomicUsize::new(0));
    loop {
        let (mut client, _) = listener.accept().await.unwrap();
        let node = Arc::clone(&node);
        let drop_answers = Arc::clone(&drop_answers);
        let seen = Arc::clone(&seen);
        tokio::spawn(async move {
            while let Some(request) = read_message(&mut client).await {
                let mut upstream = TcpStream::connect(node.get().unwrap()).await.unwrap();
                upstream.write_all(&request).await.unwrap();
                let Some(answer) = read_message(&mut upstream).await else {
                    return;
                };
                let index = seen.fetch_add(1, Ordering::SeqCst);
                if index >= skip
                    && drop_answers
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok()
                {
                    return; // drops the client connection, answer unsent
                }
                if client.write_all(&answer).await.is_err() {
                    return;
                }
            }
        });
    }
}

/// One HTTP/1.1 message with a `content-length` body (or none).
async fn read_message(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap());
    while raw.len() < head_end + length {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            return None;
        }
        raw.extend_from_slice(&buf[..n]);
    }
    Some(raw)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_a_lost_answer_does_not_deliver_the_record_twice() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let proxy = format!("http://{}", listener.local_addr().unwrap());
    let node_addr = Arc::new(tokio::sync::OnceCell::new());
    let drop_answers = Arc::new(AtomicUsize::new(1));
    // The handshake's answer (request 0) goes through; the first record's
    // answer is lost.
    tokio::spawn(lossy_proxy(
        listener,
        Arc::clone(&node_addr),
        Arc::clone(&drop_answers),
        1,
    ));
    // The node's public URL (its record's endpoint, and the URI it
    // rebuilds for RFC 9421) is the proxy's.
    let setup = Setup::start(TestDb::sqlite().await, Some(proxy)).await;
    node_addr.set(setup.node.local_addr()).unwrap();
    let retry = RetryPolicy {
        max_attempts: 3,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    };
    let client = setup.client(retry, Duration::from_secs(10));
    let peer = setup.peer();
    client.handshake(&peer).await.unwrap();

    let error = client.send(&peer, b"once", None).await.unwrap_err();
    assert!(matches!(error, ClientError::OutcomeUnknown), "{error}");
    assert_eq!(drop_answers.load(Ordering::SeqCst), 0);
    assert_eq!(setup.delivered.load(Ordering::SeqCst), 1);

    // The session is intact: the next payload goes through once.
    let reply = client.send(&peer, b"next", None).await.unwrap();
    assert_eq!(reply.plaintext, b"ack:next");
    assert_eq!(setup.delivered.load(Ordering::SeqCst), 2);
    setup.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_addressed_by_url_is_identified_by_its_agent_card() {
    let setup = Setup::start(TestDb::sqlite().await, None).await;
    let client = setup.client(RetryPolicy::DEFAULT, Duration::from_secs(10));
    let peer = Peer::parse(setup.node.public_url()).unwrap();
    let info = client.handshake(&peer).await.unwrap();
    assert_eq!(info.peer_did, setup.node.did().as_str());
    let reply = client.send(&peer, b"by url", Some("t")).await.unwrap();
    assert_eq!(reply.plaintext, b"ack:by url");
    assert_eq!(reply.task_id.as_deref(), Some("t"));
    setup.stop().await;
}
