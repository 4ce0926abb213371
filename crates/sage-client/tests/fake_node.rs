//! The client against a minimal in-test node built from sage-core's
//! responder, session and RFC 9421 verifier: every request the client
//! sends is checked here as the profile asks (mirror headers, RFC 9421
//! over the profile's set, envelope signature, record), and every answer
//! is signed as a node signs it. The real node's end-to-end tests live in
//! `real_node.rs`; this file pins the client's own behaviour (retries,
//! re-handshakes, refusals) with knobs a real node does not have.

#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use sage_client::{ClientError, Peer, PeerKeys, RetryPolicy, SageClient, StaticPeers};
use sage_core::did::Did;
use sage_core::handshake::{Responder, ResponderConfig};
use sage_core::httpsig::{
    ComponentId, HttpRequest, HttpResponse, ParsedSignature, SignatureParams, VerifyOptions,
    response_components, sign_response_in_place,
};
use sage_core::primitives::{KeyType, SigningKey, VerifyingKey, X25519Secret};
use sage_core::replay::MemoryReplayStore;
use sage_core::session::{Session, SessionConfig, SessionPolicy};
use sage_core::time::Timestamp;
use sage_core::transport::{WireMessage, WireResponse};
use sage_core::version::ProtocolVersion;

const NODE_DID: &str = "did:sage:ethereum:0x00000000000000000000000000000000000000b0";
const CLIENT_DID: &str = "did:sage:ethereum:0x00000000000000000000000000000000000000a1";

fn now() -> Timestamp {
    let d = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap();
    Timestamp::new(i64::try_from(d.as_secs()).unwrap(), d.subsec_nanos())
}

/// Knobs and counters of the fake node.
#[derive(Default)]
struct Knobs {
    /// Answer this many requests with 503 before processing any.
    unavailable: AtomicUsize,
    /// Process this many records, then stall past the client's timeout.
    stall_after_accept: AtomicUsize,
    /// Records opened and delivered.
    delivered: AtomicUsize,
    /// Handshakes completed.
    handshakes: AtomicUsize,
    /// Requests received.
    requests: AtomicUsize,
}

struct FakeNode {
    key: SigningKey,
    responder: Responder,
    client_key: VerifyingKey,
    sessions: Mutex<HashMap<String, Session>>,
    replay: Mutex<MemoryReplayStore>,
    knobs: Knobs,
}

impl FakeNode {
    fn sign(&self, request: &HttpRequest, status: u16, body: Vec<u8>) -> Response {
        let mut response = HttpResponse::new(status)
            .with_header("content-type", "application/json")
            .with_header("x-sage-did", NODE_DID)
            .with_body(body);
        let mut covered = response_components(&response, Some(request));
        covered.push(ComponentId::field("x-sage-did").unwrap());
        let mut params = SignatureParams::new(covered, NODE_DID, now());
        params.alg = Some("ed25519".into());
        sign_response_in_place(&mut response, Some(request), &params, &self.key).unwrap();
        let mut builder = Response::builder().status(status);
        for (name, value) in &response.headers {
            builder = builder.header(name, value);
        }
        builder.body(Body::from(response.body)).unwrap()
    }

    fn reject(&self, request: &HttpRequest, message_id: &str) -> Response {
        let body = WireResponse {
            success: false,
            message_id: message_id.to_owned(),
            task_id: String::new(),
            data: Vec::new(),
            error: "authentication failed".into(),
        };
        self.sign(request, 401, body.to_json())
    }
}

async fn messages(State(node): State<Arc<FakeNode>>, request: Request) -> Response {
    node.knobs.requests.fetch_add(1, Ordering::SeqCst);
    let (parts, body) = request.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap().to_vec();
    if node
        .knobs
        .unavailable
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        return Response::builder()
            .status(StatusCode::SERVICE_UNAVAILABLE)
            .body(Body::empty())
            .unwrap();
    }
    let host = parts.headers["host"].to_str().unwrap();
    let mut http = HttpRequest::new("POST", format!("http://{host}{}", parts.uri.path()));
    for (name, value) in &parts.headers {
        http.headers
            .push((name.as_str().to_owned(), value.to_str().unwrap().to_owned()));
    }
    http.body = body;
    let message = WireMessage::from_json(&http.body).unwrap();
    message
        .check_headers(http.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
        .unwrap();

    // The profile's RFC 9421 request rules, the nonce remembered.
    let parsed = ParsedSignature::from_request(&http, Some("sig1")).unwrap();
    for required in [
        "\"@method\"",
        "\"@target-uri\"",
        "\"@authority\"",
        "\"content-type\"",
        "\"content-digest\"",
        "\"x-sage-did\"",
        "\"date\"",
    ] {
        assert!(
            parsed.covered().iter().any(|c| c.as_str() == required),
            "{required} not covered"
        );
    }
    let options = VerifyOptions {
        expected_did: Some(CLIENT_DID.into()),
        ..VerifyOptions::for_request()
    };
    let verified = {
        let mut replay = node.replay.lock().unwrap();
        parsed.verify(&node.client_key, &options, now(), &mut *replay)
    };
    if verified.is_err() {
        return node.reject(&http, &message.id);
    }

    if message.task_id == "hpke/complete@v1" {
        let pending = node.responder.accept(&message, now()).unwrap();
        let outcome = {
            let mut replay = node.replay.lock().unwrap();
            node.responder
                .complete(
                    pending,
                    &node.client_key,
                    now(),
                    &mut UnwrapErr(SysRng),
                    &mut *replay,
                )
                .unwrap()
        };
        node.sessions
            .lock()
            .unwrap()
            .insert(outcome.kid.clone(), outcome.session);
        node.knobs.handshakes.fetch_add(1, Ordering::SeqCst);
        return node.sign(&http, 200, outcome.response.to_json());
    }

    if message.verify_payload(&node.client_key).is_err() {
        return node.reject(&http, &message.id);
    }
    let Some(kid) = message.metadata.get("kid") else {
        return node.reject(&http, &message.id);
    };
    let answer = {
        let mut sessions = node.sessions.lock().unwrap();
        let Some(session) = sessions.get_mut(kid) else {
            return node.reject(&http, &message.id);
        };
        let Ok(plaintext) = session.decrypt(now(), &message.payload) else {
            return node.reject(&http, &message.id);
        };
        node.knobs.delivered.fetch_add(1, Ordering::SeqCst);
        let mut echo = b"echo:".to_vec();
        echo.extend_from_slice(&plaintext);
        session
            .encrypt(&mut UnwrapErr(SysRng), now(), &echo)
            .unwrap()
    };
    if node
        .knobs
        .stall_after_accept
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
    {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let body = WireResponse {
        success: true,
        message_id: message.id.clone(),
        task_id: message.task_id.clone(),
        data: answer,
        error: String::new(),
    };
    node.sign(&http, 200, body.to_json())
}

struct Harness {
    node: Arc<FakeNode>,
    client: SageClient<StaticPeers>,
    peer: Peer,
    addr: SocketAddr,
    client_secret: [u8; 32],
}

async fn harness(retry: RetryPolicy, timeout: Duration) -> Harness {
    harness_with(retry, timeout, SessionConfig::DEFAULT).await
}

async fn harness_with(retry: RetryPolicy, timeout: Duration, sessions: SessionConfig) -> Harness {
    let mut rng = UnwrapErr(SysRng);
    let node_key = SigningKey::generate(KeyType::Ed25519, &mut rng).unwrap();
    let node_verifying = node_key.verifying_key();
    let kem = X25519Secret::generate(&mut rng);
    let kem_public = kem.public_key();
    let responder_key = SigningKey::from_bytes(KeyType::Ed25519, &*node_key.to_bytes()).unwrap();
    let responder = Responder::new(
        ProtocolVersion::V1Draft1,
        ResponderConfig::new(NODE_DID.into(), responder_key, kem),
    )
    .unwrap();
    let client_key = SigningKey::generate(KeyType::Ed25519, &mut rng).unwrap();
    let client_secret = *client_key.to_bytes();
    let node = Arc::new(FakeNode {
        key: node_key,
        responder,
        client_key: client_key.verifying_key(),
        sessions: Mutex::new(HashMap::new()),
        replay: Mutex::new(MemoryReplayStore::new()),
        knobs: Knobs::default(),
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/messages", post(messages))
        .with_state(Arc::clone(&node));
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let peers = StaticPeers::new();
    peers.insert(PeerKeys {
        did: Did::parse(NODE_DID).unwrap(),
        signing: node_verifying,
        kem: kem_public,
        endpoint: format!("http://{addr}"),
    });
    let client = SageClient::builder()
        .identity(Did::parse(CLIENT_DID).unwrap(), client_key)
        .resolver(peers)
        .retry(retry)
        .timeout(timeout)
        .session_config(sessions)
        .build()
        .unwrap();
    Harness {
        node,
        client,
        peer: Peer::Did(Did::parse(NODE_DID).unwrap()),
        addr,
        client_secret,
    }
}

fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        initial_backoff: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
    }
}

#[tokio::test]
async fn handshake_then_send_returns_the_nodes_answer() {
    let h = harness(fast_retry(), Duration::from_secs(5)).await;
    let info = h.client.handshake(&h.peer).await.unwrap();
    assert!(!info.kid.is_empty());
    assert_eq!(info.peer_did, NODE_DID);
    let reply = h.client.send(&h.peer, b"hi", Some("chat")).await.unwrap();
    assert_eq!(reply.plaintext, b"echo:hi");
    assert_eq!(reply.task_id.as_deref(), Some("chat"));
    assert_eq!(h.node.knobs.handshakes.load(Ordering::SeqCst), 1);
    assert_eq!(h.node.knobs.delivered.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn send_without_session_handshakes_once_and_reuses_it() {
    let h = harness(fast_retry(), Duration::from_secs(5)).await;
    for i in 0..20u8 {
        let reply = h.client.send(&h.peer, &[i], None).await.unwrap();
        assert_eq!(reply.plaintext, [b"echo:".as_slice(), &[i]].concat());
    }
    assert_eq!(h.node.knobs.handshakes.load(Ordering::SeqCst), 1);
    assert_eq!(h.node.knobs.delivered.load(Ordering::SeqCst), 20);
}

#[tokio::test]
async fn concurrent_sends_to_one_peer_all_arrive_once() {
    let h = harness(fast_retry(), Duration::from_secs(5)).await;
    let mut tasks = Vec::new();
    for i in 0..32u32 {
        let client = h.client.clone();
        let peer = h.peer.clone();
        tasks.push(tokio::spawn(async move {
            client.send(&peer, &i.to_be_bytes(), None).await.unwrap()
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(h.node.knobs.handshakes.load(Ordering::SeqCst), 1);
    assert_eq!(h.node.knobs.delivered.load(Ordering::SeqCst), 32);
}

#[tokio::test]
async fn unavailable_node_is_retried_with_the_same_bytes_and_delivers_once() {
    let h = harness(fast_retry(), Duration::from_secs(5)).await;
    h.client.handshake(&h.peer).await.unwrap();
    h.node.knobs.unavailable.store(2, Ordering::SeqCst);
    let reply = h.client.send(&h.peer, b"once", None).await.unwrap();
    assert_eq!(reply.plaintext, b"echo:once");
    assert_eq!(h.node.knobs.delivered.load(Ordering::SeqCst), 1);
    // One handshake, two 503s, one accepted copy.
    assert_eq!(h.node.knobs.requests.load(Ordering::SeqCst), 4);
}

#[tokio::test]
async fn node_unavailable_after_every_attempt_is_a_typed_retryable_error() {
    let h = harness(fast_retry(), Duration::from_secs(5)).await;
    h.client.handshake(&h.peer).await.unwrap();
    h.node.knobs.unavailable.store(100, Ordering::SeqCst);
    let error = h.client.send(&h.peer, b"x", None).await.unwrap_err();
    assert!(
        matches!(error, ClientError::Unavailable { attempts: 4 }),
        "{error}"
    );
    assert!(error.is_retryable());
    assert_eq!(h.node.knobs.delivered.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn retry_after_a_lost_answer_never_delivers_the_record_twice() {
    let h = harness(fast_retry(), Duration::from_millis(500)).await;
    h.client.handshake(&h.peer).await.unwrap();
    h.node.knobs.stall_after_accept.store(1, Ordering::SeqCst);
    // The node accepts the record, the answer times out, the copy is
    // refused as a replay: the client cannot know whether the first
    // arrived, so it says so instead of sealing the payload again.
    let error = h.client.send(&h.peer, b"once", None).await.unwrap_err();
    assert!(matches!(error, ClientError::OutcomeUnknown), "{error}");
    assert_eq!(h.node.knobs.delivered.load(Ordering::SeqCst), 1);
    // The session survives: the next payload goes through on it.
    let reply = h.client.send(&h.peer, b"next", None).await.unwrap();
    assert_eq!(reply.plaintext, b"echo:next");
    assert_eq!(h.node.knobs.handshakes.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn session_dropped_by_the_node_is_replaced_and_the_payload_sent_as_a_new_record() {
    let h = harness(fast_retry(), Duration::from_secs(5)).await;
    h.client.send(&h.peer, b"first", None).await.unwrap();
    h.node.sessions.lock().unwrap().clear();
    let reply = h.client.send(&h.peer, b"second", None).await.unwrap();
    assert_eq!(reply.plaintext, b"echo:second");
    assert_eq!(h.node.knobs.handshakes.load(Ordering::SeqCst), 2);
    assert_eq!(h.node.knobs.delivered.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn response_signed_by_another_key_is_refused() {
    let h = harness(fast_retry(), Duration::from_secs(5)).await;
    let mut rng = UnwrapErr(SysRng);
    let impostor = SigningKey::generate(KeyType::Ed25519, &mut rng).unwrap();
    let peers = StaticPeers::new();
    peers.insert(PeerKeys {
        did: Did::parse(NODE_DID).unwrap(),
        signing: impostor.verifying_key(),
        kem: h.node.responder.kem_public_key(),
        endpoint: format!("http://{}", h.addr),
    });
    let client_key = SigningKey::from_bytes(KeyType::Ed25519, &h.client_secret).unwrap();
    let client = SageClient::builder()
        .identity(Did::parse(CLIENT_DID).unwrap(), client_key)
        .resolver(peers)
        .retry(RetryPolicy::NONE)
        .build()
        .unwrap();
    // The node is genuine, but the client expects another key for it: a
    // man in the middle with the KEM key but not the signing key.
    let error = client.send(&h.peer, b"x", None).await.unwrap_err();
    assert!(
        matches!(error, ClientError::ResponseSignature(_)),
        "{error}"
    );
}

#[tokio::test]
async fn reserved_or_oversized_task_is_refused_before_any_request() {
    let h = harness(fast_retry(), Duration::from_secs(5)).await;
    for task in ["", "hpke/complete@v1", &"t".repeat(257)] {
        let error = h.client.send(&h.peer, b"x", Some(task)).await.unwrap_err();
        assert!(matches!(error, ClientError::InvalidTask), "{error}");
    }
    assert_eq!(h.node.knobs.requests.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn unreachable_node_is_unavailable_after_the_retries() {
    // Bound but never listening, and held for the whole test: every
    // connection is refused, and no other socket can take the port.
    let closed = tokio::net::TcpSocket::new_v4().unwrap();
    closed.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let addr = closed.local_addr().unwrap();
    let h = harness(fast_retry(), Duration::from_secs(5)).await;
    let peer = Peer::Url {
        url: format!("http://{addr}"),
        did: Some(Did::parse(NODE_DID).unwrap()),
    };
    let error = h.client.handshake(&peer).await.unwrap_err();
    assert!(
        matches!(error, ClientError::Unavailable { attempts: 4 }),
        "{error}"
    );
}

#[test]
fn client_debug_never_shows_the_signing_key() {
    let key = SigningKey::from_bytes(KeyType::Ed25519, &[7u8; 32]).unwrap();
    let secret_hex = sage_core::encoding::hex_encode(&*key.to_bytes());
    let client = SageClient::builder()
        .identity(Did::parse(CLIENT_DID).unwrap(), key)
        .resolver(StaticPeers::new())
        .build()
        .unwrap();
    let shown = format!("{client:?}");
    assert!(shown.contains(CLIENT_DID));
    assert!(!shown.contains(&secret_hex));
}

#[tokio::test]
async fn session_expired_locally_is_replaced_before_sealing() {
    // Four messages (sent plus received): two round trips per session.
    let sessions = SessionConfig {
        policy: SessionPolicy {
            max_messages: 4,
            ..SessionPolicy::DEFAULT
        },
        ..SessionConfig::DEFAULT
    };
    let h = harness_with(fast_retry(), Duration::from_secs(5), sessions).await;
    for i in 0..5u8 {
        let reply = h.client.send(&h.peer, &[i], None).await.unwrap();
        assert_eq!(reply.plaintext, [b"echo:".as_slice(), &[i]].concat());
    }
    assert_eq!(h.node.knobs.handshakes.load(Ordering::SeqCst), 3);
    assert_eq!(h.node.knobs.delivered.load(Ordering::SeqCst), 5);
    // No record was refused: the client replaced each session itself.
    assert_eq!(h.node.knobs.requests.load(Ordering::SeqCst), 3 + 5);
}
