//! `sage serve` as a real process, killed and restarted: a client session
//! carried through a recording proxy survives a `kill -9` of the node (no
//! new handshake, the same session id), a request captured before the
//! kill and replayed raw to the restarted node is refused as a replay,
//! and nothing along the way is answered with a 5xx. Also: with no
//! management token configured, the node generates one into a 0600 file
//! that its banner names, and `/v1` needs it.

// The helpers unwrap too (clippy allows it only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use sage_client::{ClientError, Peer, RegistryResolver, RetryPolicy, SageClient};
use sage_core::did::{Chain, Did};
use sage_core::primitives::{KeyType, SigningKey};
use sage_core::version::ProtocolVersion;
use sage_registry::{
    Activate, LocalRegistry, NewKey, Register, Registry as _, Request, RequestHeader,
};
use sage_store::{Store, StoreOptions, SystemClock};

const TOKEN_VAR: &str = "NODE_RESTART_TEST_TOKEN";
const TOKEN: &str = "node-restart-test-management-token-0123456789";

/// A running `sage serve` and what its banner said.
struct Node {
    child: Child,
    /// Kept open so that the node never writes to a closed pipe.
    _stdout: BufReader<ChildStdout>,
    banner: Vec<(String, String)>,
}

impl Node {
    fn banner(&self, name: &str) -> &str {
        self.banner
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} line in the banner: {:?}", self.banner))
    }

    /// SIGKILL: no graceful shutdown, no chance to flush anything.
    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `sage serve --listen <listen>` in `dir` with every `SAGE_*`
/// variable removed and `env` added, and reads its text banner.
fn serve(dir: &Path, listen: &str, env: &[(&str, &str)]) -> Node {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sage"));
    command
        .args(["serve", "--listen", listen])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SAGE_") {
            command.env_remove(name);
        }
    }
    command.envs(env.iter().copied());
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    assert_eq!(line.trim_end(), "SAGE node serving");
    let mut banner = Vec::new();
    loop {
        line.clear();
        assert!(stdout.read_line(&mut line).unwrap() > 0, "banner cut short");
        let (name, value) = line.trim().split_once("  ").unwrap();
        banner.push((name.to_owned(), value.trim().to_owned()));
        if name == "/v1 token" {
            break;
        }
    }
    Node {
        child,
        _stdout: stdout,
        banner,
    }
}

/// A loopback port nobody listens on (for the node's fixed address).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A response: status and body.
struct Answer {
    status: u16,
    body: String,
}

/// Reads one HTTP/1.1 response with a `content-length` body.
fn read_answer(stream: &mut TcpStream) -> Answer {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            if raw.len() >= head_end + 4 + length {
                return Answer {
                    status: head.split(' ').nth(1).unwrap().parse().unwrap(),
                    body: String::from_utf8_lossy(&raw[head_end + 4..][..length]).into_owned(),
                };
            }
        }
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "the node closed the connection without answering");
        raw.extend_from_slice(&buf[..n]);
    }
}

/// Sends `raw`, a whole request, on a fresh connection to `addr`.
fn send_raw(addr: SocketAddr, raw: &[u8]) -> Answer {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(raw).unwrap();
    read_answer(&mut stream)
}

/// `method url` with an optional bearer token.
fn call(method: &str, addr: SocketAddr, path: &str, token: Option<&str>) -> Answer {
    let auth = token.map_or_else(String::new, |t| format!("authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}content-length: 0\r\n\
         connection: close\r\n\r\n"
    );
    send_raw(addr, request.as_bytes())
}

/// Waits until `/health` answers 200 on `addr`.
fn wait_healthy(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() || call("GET", addr, "/health", None).status != 200 {
        assert!(Instant::now() < deadline, "the node did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The summed value of the samples of `name` whose labels contain one of
/// `labels` (0 when there is none).
fn counter(exposition: &str, name: &str, labels: &[&str]) -> f64 {
    exposition
        .lines()
        .filter(|line| line.starts_with(name) && line[name.len()..].starts_with('{'))
        .filter(|line| labels.iter().any(|label| line.contains(label)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .fold(0.0, |total, value| total + value)
}

/// What one direction of a proxied connection carried.
type Recording = Arc<Mutex<Vec<u8>>>;

/// A TCP proxy in front of the node's fixed address that keeps every
/// byte in both directions, per connection. While the node is down it
/// drops the client's connection.
struct RecordingProxy {
    addr: SocketAddr,
    connections: Arc<Mutex<Vec<(Recording, Recording)>>>,
}

impl RecordingProxy {
    fn start(node: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections: Arc<Mutex<Vec<(Recording, Recording)>>> = Arc::default();
        let recorded = Arc::clone(&connections);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(upstream) = TcpStream::connect(node) else {
                    continue;
                };
                let (sent, answered) = (Recording::default(), Recording::default());
                recorded
                    .lock()
                    .unwrap()
                    .push((Arc::clone(&sent), Arc::clone(&answered)));
                pump(
                    client.try_clone().unwrap(),
                    upstream.try_clone().unwrap(),
                    sent,
                );
                pump(upstream, client, answered);
            }
        });
        Self { addr, connections }
    }

    /// Every complete request the client sent, in order per connection.
    fn requests(&self) -> Vec<Vec<u8>> {
        let connections = self.connections.lock().unwrap();
        connections
            .iter()
            .flat_map(|(sent, _)| split_requests(&sent.lock().unwrap()))
            .collect()
    }

    /// The status of every response the node sent back.
    fn statuses(&self) -> Vec<u16> {
        let connections = self.connections.lock().unwrap();
        let mut statuses = Vec::new();
        for (_, answered) in connections.iter() {
            let answered = answered.lock().unwrap();
            for (at, _) in answered
                .windows(9)
                .enumerate()
                .filter(|(_, w)| *w == b"HTTP/1.1 ")
            {
                let code = String::from_utf8_lossy(&answered[at + 9..at + 12]).into_owned();
                statuses.push(code.parse().unwrap());
            }
        }
        statuses
    }
}

/// Copies `from` to `to` on a thread, keeping a copy in `record`.
fn pump(mut from: TcpStream, mut to: TcpStream, record: Recording) {
    std::thread::spawn(move || {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            record.lock().unwrap().extend_from_slice(&buf[..n]);
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

fn is_handshake(raw: &[u8]) -> bool {
    let task = ProtocolVersion::V1Draft1.labels().hpke_task;
    String::from_utf8_lossy(raw).contains(task)
}

fn rng() -> impl sage_core::rand_core::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

/// Registers and activates a fresh client agent in the node's local
/// registry (the node's SQLite database, shared with this process) and
/// returns a client that resolves through the same registry.
async fn registered_client(store: &Store) -> SageClient<RegistryResolver<LocalRegistry<Store>>> {
    let mut id = [0u8; 20];
    getrandom::fill(&mut id).unwrap();
    let did = Did::new(
        Chain::Ethereum,
        &format!("0x{}", sage_core::encoding::hex_encode(&id)),
    )
    .unwrap();
    let key = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
    let registry = LocalRegistry::new(store.clone(), Arc::new(SystemClock));
    let labels = ProtocolVersion::V1Draft1.labels();
    let now = sage_store::instant::system_now();
    let register = Register {
        name: "restart-test client".to_owned(),
        description: String::new(),
        endpoint: "http://127.0.0.1:9".to_owned(),
        capabilities: serde_json::Map::new(),
        keys: vec![NewKey::signing(labels, &key, &did).unwrap()],
    };
    let header = RequestHeader::new(did.clone(), 0, now, &mut rng());
    registry
        .register(&Request::new(header, register).sign(&key))
        .await
        .unwrap();
    let header = RequestHeader::new(did.clone(), 1, now, &mut rng());
    registry
        .activate(&Request::new(header, Activate).sign(&key))
        .await
        .unwrap();
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
    let node_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let proxy = RecordingProxy::start(node_addr);
    let listen = node_addr.to_string();
    let public_url = format!("http://{}", proxy.addr);
    let token_ref = format!("env:{TOKEN_VAR}");
    let env = [
        ("SAGE_MANAGEMENT__TOKEN", token_ref.as_str()),
        (TOKEN_VAR, TOKEN),
        ("SAGE_SERVER__PUBLIC_URL", public_url.as_str()),
    ];
    let node = serve(dir.path(), &listen, &env);
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
    let before = counter(&metrics.body, "sage_messages_rejected_total", &replay_codes);
    let replayed = send_raw(node_addr, &old_record);
    assert_eq!(replayed.status, 401, "{}", replayed.body);
    let metrics = call("GET", node_addr, "/metrics", None);
    let after_replay = counter(&metrics.body, "sage_messages_rejected_total", &replay_codes);
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
    let node_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let node = serve(dir.path(), &node_addr.to_string(), &[]);
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
    let mut command = Command::new(env!("CARGO_BIN_EXE_sage"));
    command
        .args(["--json", "serve", "--listen", &node_addr.to_string()])
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SAGE_") {
            command.env_remove(name);
        }
    }
    let mut child = command.spawn().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let banner: serde_json::Value = serde_json::from_str(&line).unwrap();
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
