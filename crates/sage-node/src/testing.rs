//! Test support (feature `test-support`): the one harness every test that
//! runs a SAGE node uses, whether the node is started in process
//! ([`crate::server::start`]) or as the real `sage` binary.
//!
//! What is here: a configuration on a temporary directory
//! ([`config_in`]), a small HTTP client over hyper ([`get`], [`request`])
//! and one over a raw TCP stream ([`call`], [`send_raw`]), a free loopback
//! port, a wait for `/health`, a recording TCP proxy whose captured
//! requests can be replayed byte for byte ([`RecordingProxy`]), the
//! registration of a client agent in the node's local registry
//! ([`register_agent`]), and the reading of counters from a `/metrics`
//! exposition ([`counter_sum`]). What is not: anything a node needs in
//! production. Never enable this feature outside tests: the helpers
//! `expect` and panic on any failure, since a failed setup is a failed
//! test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sage_config::SageConfig;
use sage_core::did::{Chain, Did};
use sage_core::primitives::SigningKey;
use sage_core::time::Timestamp;
use sage_core::version::ProtocolVersion;
use sage_registry::{Activate, NewKey, Register, Registry, Request, RequestHeader};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::tcp::OwnedWriteHalf;

/// The system's secure RNG, for test keys and nonces.
#[must_use]
pub fn rng() -> getrandom::rand_core::UnwrapErr<getrandom::SysRng> {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

/// The embedded defaults, with the data (SQLite file, keys, KEK) in `dir`
/// and a free port on the loopback interface.
#[must_use]
pub fn config_in(dir: &Path) -> SageConfig {
    let mut config = SageConfig::default();
    config.storage.data_dir = dir.to_path_buf();
    config.database.url = format!("sqlite://{}/sage.db", dir.display())
        .parse()
        .expect("a SQLite URL of the temporary directory");
    config.server.listen = "127.0.0.1:0".parse().expect("a loopback address");
    config.server.shutdown_timeout = Duration::from_secs(5);
    config
}

/// A fresh `did:sage:ethereum:0x…` with a random 20-byte address.
#[must_use]
pub fn random_did() -> Did {
    let mut id = [0u8; 20];
    getrandom::fill(&mut id).expect("system randomness");
    Did::new(
        Chain::Ethereum,
        &format!("0x{}", sage_core::encoding::hex_encode(&id)),
    )
    .expect("a valid DID")
}

/// Registers `did` with `keys` (proofs made by `controller`, which must be
/// among them) in `registry` and activates it, both requests signed by
/// `controller` at `now`.
pub async fn register_agent<R: Registry>(
    registry: &R,
    did: &Did,
    controller: &SigningKey,
    keys: Vec<NewKey>,
    now: Timestamp,
) {
    let registration = Register {
        name: "test agent".to_owned(),
        description: String::new(),
        endpoint: "http://127.0.0.1:9".to_owned(),
        capabilities: serde_json::Map::new(),
        keys,
    };
    let header = RequestHeader::new(did.clone(), 0, now, &mut rng());
    registry
        .register(&Request::new(header, registration).sign(controller))
        .await
        .expect("the test agent is registered");
    let header = RequestHeader::new(did.clone(), 1, now, &mut rng());
    registry
        .activate(&Request::new(header, Activate).sign(controller))
        .await
        .expect("the test agent is activated");
}

/// Registers and activates `did` with its one key `key` (which signs and
/// controls) in `registry`, now.
pub async fn register_signing_agent<R: Registry>(registry: &R, did: &Did, key: &SigningKey) {
    let labels = ProtocolVersion::V1Draft1.labels();
    let keys = vec![NewKey::signing(labels, key, did).expect("a signing key entry")];
    register_agent(registry, did, key, keys, sage_store::instant::system_now()).await;
}

/// A response read whole through the hyper client.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The headers by lowercase name (the last of repeated ones).
    pub headers: HashMap<String, String>,
    /// The headers in the order received.
    pub header_lines: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as (lossy) UTF-8.
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; panics with the body when it is not.
    #[must_use]
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.text()))
    }
}

/// A plain-HTTP hyper client.
pub type HttpClient = Client<HttpConnector, Full<Bytes>>;

/// A new plain-HTTP hyper client (keep it to reuse its connections).
#[must_use]
pub fn http_client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>()
}

/// `GET url`.
pub async fn get(url: &str) -> Answer {
    request("GET", url, &[], Vec::new()).await
}

/// Any request, on a new client.
pub async fn request(method: &str, url: &str, headers: &[(&str, &str)], body: Vec<u8>) -> Answer {
    request_with(&http_client(), method, url, headers, body).await
}

/// Any request, on `client`.
pub async fn request_with(
    client: &HttpClient,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Vec<u8>,
) -> Answer {
    let mut builder = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder
        .body(Full::new(Bytes::from(body)))
        .expect("a well-formed test request");
    let response = client
        .request(request)
        .await
        .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let header_lines: Vec<(String, String)> = response
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a whole response body")
        .to_bytes()
        .to_vec();
    Answer {
        status,
        headers: header_lines.iter().cloned().collect(),
        header_lines,
        body,
    }
}

/// The rest of a request body, sent on demand.
#[derive(Debug)]
pub struct SlowBody {
    writer: OwnedWriteHalf,
}

impl SlowBody {
    /// Sends the last byte of the body.
    pub async fn finish(&mut self) {
        self.writer
            .write_all(b"}")
            .await
            .expect("the last byte sent");
        self.writer.flush().await.expect("the last byte flushed");
    }
}

/// Starts a `POST url` whose 2-byte JSON body lacks its last byte until
/// [`SlowBody::finish`]; the handle resolves to the response.
pub async fn slow_post(url: &str) -> (SlowBody, tokio::task::JoinHandle<Answer>) {
    let uri: http::Uri = url.parse().expect("a valid URL");
    let authority = uri.authority().expect("a URL with a host").to_string();
    let stream = tokio::net::TcpStream::connect(&authority)
        .await
        .expect("a connection to the node");
    let (mut reader, mut writer) = stream.into_split();
    let head = format!(
        "POST {} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/json\r\n\
         content-length: 2\r\nconnection: close\r\n\r\n{{",
        uri.path()
    );
    writer
        .write_all(head.as_bytes())
        .await
        .expect("the head sent");
    writer.flush().await.expect("the head flushed");
    let pending = tokio::spawn(async move {
        let mut raw = Vec::new();
        reader.read_to_end(&mut raw).await.expect("the response");
        parse_closed_response(&raw)
    });
    (SlowBody { writer }, pending)
}

/// Parses a `connection: close` HTTP/1.1 response.
fn parse_closed_response(raw: &[u8]) -> Answer {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {:?}", String::from_utf8_lossy(raw)));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("a status line");
    let header_lines: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers: header_lines.iter().cloned().collect(),
        header_lines,
        body: raw[split + 4..].to_vec(),
    }
}

/// A response read off a raw TCP stream: status and body.
#[derive(Debug)]
pub struct RawAnswer {
    /// The status code.
    pub status: u16,
    /// The body as (lossy) UTF-8.
    pub body: String,
}

/// Where the head of an HTTP/1.1 message ends and how long its
/// `content-length` body is (0 without one).
fn head_and_length(raw: &[u8]) -> Option<(usize, usize, String)> {
    let head_end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..head_end]).to_ascii_lowercase();
    let length = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().expect("a numeric content-length"));
    Some((head_end, length, head))
}

/// Reads one HTTP/1.1 response with a `content-length` body.
pub fn read_answer(stream: &mut TcpStream) -> RawAnswer {
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        if let Some((head_end, length, head)) = head_and_length(&raw)
            && raw.len() >= head_end + 4 + length
        {
            return RawAnswer {
                status: head
                    .split(' ')
                    .nth(1)
                    .and_then(|s| s.parse().ok())
                    .expect("a status line"),
                body: String::from_utf8_lossy(&raw[head_end + 4..][..length]).into_owned(),
            };
        }
        let n = stream.read(&mut buf).expect("a readable response");
        assert!(n > 0, "the node closed the connection without answering");
        raw.extend_from_slice(&buf[..n]);
    }
}

/// Sends `raw`, a whole request, on a fresh connection to `addr`.
pub fn send_raw(addr: SocketAddr, raw: &[u8]) -> RawAnswer {
    let mut stream = TcpStream::connect(addr).expect("a connection to the node");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("a read timeout");
    stream.write_all(raw).expect("the request sent");
    read_answer(&mut stream)
}

/// `method path` on `addr`, with an optional bearer token.
pub fn call(method: &str, addr: SocketAddr, path: &str, token: Option<&str>) -> RawAnswer {
    let auth = token.map_or_else(String::new, |t| format!("authorization: Bearer {t}\r\n"));
    let request = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\n{auth}content-length: 0\r\n\
         connection: close\r\n\r\n"
    );
    send_raw(addr, request.as_bytes())
}

/// `GET url` (an `http://host:port/path` URL) over a raw connection.
pub fn call_url(url: &str) -> RawAnswer {
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let addr = authority.parse().expect("a numeric host:port");
    call("GET", addr, if path.is_empty() { "/" } else { path }, None)
}

/// Waits (up to 10 s) until `/health` answers 200 on `addr`.
pub fn wait_healthy(addr: SocketAddr) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() || call("GET", addr, "/health", None).status != 200 {
        assert!(Instant::now() < deadline, "the node did not come up");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The summed value of the samples of `name` in a Prometheus text
/// exposition whose label set contains one of `any_of` (every sample of
/// `name` when `any_of` is empty; 0 when there is none).
#[must_use]
pub fn counter_sum(exposition: &str, name: &str, any_of: &[&str]) -> f64 {
    exposition
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.rsplit_once(' '))
        .filter(|(key, _)| {
            key.strip_prefix(name)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('{'))
        })
        .filter(|(key, _)| any_of.is_empty() || any_of.iter().any(|label| key.contains(label)))
        .filter_map(|(_, value)| value.parse::<f64>().ok())
        .sum()
}

/// Whether `raw`, a captured request, is a handshake message.
#[must_use]
pub fn is_handshake(raw: &[u8]) -> bool {
    let task = ProtocolVersion::V1Draft1.labels().hpke_task;
    String::from_utf8_lossy(raw).contains(task)
}

/// What one direction of a proxied connection carried.
type Recording = Arc<Mutex<Vec<u8>>>;

/// A TCP proxy that forwards every connection to the node and keeps every
/// byte in both directions, per connection. Until [`forward_to`] names the
/// node, and while the node is down, it drops the client's connection.
///
/// [`forward_to`]: RecordingProxy::forward_to
#[derive(Debug)]
pub struct RecordingProxy {
    addr: SocketAddr,
    node: Arc<OnceLock<SocketAddr>>,
    connections: Arc<Mutex<Vec<(Recording, Recording)>>>,
}

impl RecordingProxy {
    /// Binds a loopback port and starts accepting on a thread.
    #[must_use]
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port");
        let addr = listener.local_addr().expect("the proxy's address");
        let node: Arc<OnceLock<SocketAddr>> = Arc::default();
        let connections: Arc<Mutex<Vec<(Recording, Recording)>>> = Arc::default();
        let (target, recorded) = (Arc::clone(&node), Arc::clone(&connections));
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Some(upstream) = target.get().and_then(|t| TcpStream::connect(t).ok()) else {
                    continue;
                };
                let (Ok(client_copy), Ok(upstream_copy)) =
                    (client.try_clone(), upstream.try_clone())
                else {
                    continue;
                };
                let (sent, answered) = (Recording::default(), Recording::default());
                recorded
                    .lock()
                    .expect("the proxy's recordings")
                    .push((Arc::clone(&sent), Arc::clone(&answered)));
                pump(client_copy, upstream_copy, sent);
                pump(upstream, client, answered);
            }
        });
        Self {
            addr,
            node,
            connections,
        }
    }

    /// The address clients connect to.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Names the node to forward to (once).
    pub fn forward_to(&self, node: SocketAddr) {
        self.node
            .set(node)
            .expect("the proxy's node is named only once");
    }

    /// Every complete request the clients sent, in order per connection.
    #[must_use]
    pub fn requests(&self) -> Vec<Vec<u8>> {
        let connections = self.connections.lock().expect("the proxy's recordings");
        connections
            .iter()
            .flat_map(|(sent, _)| split_requests(&sent.lock().expect("a recording")))
            .collect()
    }

    /// The status of every response the node sent back.
    #[must_use]
    pub fn statuses(&self) -> Vec<u16> {
        let connections = self.connections.lock().expect("the proxy's recordings");
        let mut statuses = Vec::new();
        for (_, answered) in connections.iter() {
            let answered = answered.lock().expect("a recording");
            for (at, _) in answered
                .windows(9)
                .enumerate()
                .filter(|(_, w)| *w == b"HTTP/1.1 ")
            {
                let code = String::from_utf8_lossy(&answered[at + 9..at + 12]).into_owned();
                statuses.push(code.parse().expect("a numeric status"));
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
            record
                .lock()
                .expect("a recording")
                .extend_from_slice(&buf[..n]);
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
    while let Some((head_end, length, _)) = head_and_length(raw) {
        let end = head_end + 4 + length;
        if raw.len() < end {
            break;
        }
        requests.push(raw[..end].to_vec());
        raw = &raw[end..];
    }
    requests
}
