//! End-to-end tests of the protocol endpoints: an in-process node bound
//! to 127.0.0.1:0 on a fresh SQLite database with a local registry, and a
//! client built by hand from sage-core (initiator, RFC 9421 signer,
//! session). Diagnostic codes are read from the Prometheus recorder
//! (`sage_messages_rejected_total{code=…}` deltas): tests share the
//! process-wide recorder, so a test asserts that its own rejection raised
//! the counter, never an exact total.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod attacks;
mod flows;
mod postgres;
mod setup;

use core::time::Duration;
use std::sync::Arc;

// The sibling modules' upstream handlers take the body as `Bytes`.
use bytes::Bytes;
use metrics_exporter_prometheus::PrometheusHandle;
use sage_config::SageConfig;
use sage_core::did::{Chain, Did};
use sage_core::handshake::{Established, ExpectAck, Initiator, InitiatorConfig};
use sage_core::httpsig::{
    ComponentId, DerivedComponent, HttpRequest, HttpResponse, ParsedSignature, SignatureParams,
    VerifyOptions, request_components, sign_request_in_place,
};
use sage_core::primitives::{KeyType, SigningKey, VerifyingKey, X25519PublicKey, X25519Secret};
use sage_core::replay::MemoryReplayStore;
use sage_core::session::SessionConfig;
use sage_core::time::Timestamp;
use sage_core::transport::{WireMessage, WireResponse};
use sage_core::version::{Labels, ProtocolVersion};
use sage_registry::{
    CachingResolver, LocalRegistry, NewKey, Registry as _, Request, RequestBody, RequestHeader,
};
use sage_store::testing::{ManualClock, TestDb};
use sage_store::{Clock as _, KeyEncryptionKey, Sessions, Store};

use super::{MessageService, ProtocolDeps, routes};
use crate::identity::NodeIdentity;
use crate::registry::{AnyRegistry, NodeResolver};
use crate::testing::{HttpClient, counter_sum, http_client, register_agent, request_with, rng};

/// Start of every test's timeline (2026-01-01T00:00:00Z).
const T0: Timestamp = Timestamp::from_unix_seconds(1_767_225_600);
const VERSION: ProtocolVersion = ProtocolVersion::V1Draft1;
/// The client's session policy: the defaults, with room for long runs
/// (the node's own policy is what the tests exercise).
const CLIENT_SESSIONS: SessionConfig = SessionConfig {
    policy: sage_core::session::SessionPolicy {
        max_messages: 1_000_000,
        ..SessionConfig::DEFAULT.policy
    },
    ..SessionConfig::DEFAULT
};

/// A node whose sessions carry 1,000 records each way.
fn long_sessions() -> Setup {
    Setup {
        configure: Some(Box::new(|c| c.session.max_messages = 2_100)),
        ..Setup::default()
    }
}

fn labels() -> &'static Labels {
    VERSION.labels()
}

fn uuid() -> String {
    sage_core::handshake::uuid_v4(&mut getrandom::rand_core::UnwrapErr(getrandom::SysRng))
}

/// The process-wide metrics recorder (installed once; concurrent callers
/// wait for the installation).
fn recorder() -> PrometheusHandle {
    crate::metrics::install().unwrap()
}

/// The value of the counter line `name{labels}` (0 when absent).
fn counter(handle: &PrometheusHandle, name: &str, label: Option<(&str, &str)>) -> u64 {
    let label = label.map(|(label, value)| format!("{label}=\"{value}\""));
    let any_of: Vec<&str> = label.iter().map(String::as_str).collect();
    counter_sum(&handle.render(), name, &any_of) as u64
}

fn rejected(handle: &PrometheusHandle, code: &str) -> u64 {
    counter(
        handle,
        crate::metrics::MESSAGES_REJECTED,
        Some(("code", code)),
    )
}

fn replays(handle: &PrometheusHandle) -> u64 {
    counter(handle, crate::metrics::REPLAY_ATTACKS_DETECTED_SHORT, None)
}

/// A registered agent: key-1 the Ed25519 controller, key-2 the
/// secp256k1 key it signs messages with (selected first, §8.4), key-3 its
/// KEM key.
struct Agent {
    did: Did,
    controller: SigningKey,
    signer: SigningKey,
    kem: X25519Secret,
}

impl Agent {
    fn new(name: &str) -> Self {
        Self {
            did: Did::new(Chain::Ethereum, name).unwrap(),
            controller: SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap(),
            signer: SigningKey::generate(KeyType::Secp256k1, &mut rng()).unwrap(),
            kem: X25519Secret::generate(&mut rng()),
        }
    }

    fn request<B: RequestBody>(
        &self,
        now: Timestamp,
        version: u64,
        body: B,
    ) -> sage_registry::SignedRequest<B> {
        let header = RequestHeader::new(self.did.clone(), version, now, &mut rng());
        Request::new(header, body).sign(&self.controller)
    }

    async fn register(&self, resolver: &NodeResolver, now: Timestamp) {
        let keys = vec![
            NewKey::signing(labels(), &self.controller, &self.did).unwrap(),
            NewKey::signing(labels(), &self.signer, &self.did).unwrap(),
            NewKey::kem(
                labels(),
                &self.did,
                &self.kem.public_key(),
                &self.controller,
                "key-1",
            ),
        ];
        register_agent(resolver, &self.did, &self.controller, keys, now).await;
    }
}

/// Changes a test makes to the default configuration.
type Configure = Box<dyn FnOnce(&mut SageConfig)>;

/// What a test changes in the node.
#[derive(Default)]
struct Setup {
    configure: Option<Configure>,
    upstream: Option<http::Uri>,
}

/// A node serving on a real port.
struct Node {
    base: String,
    did: Did,
    verifying_key: VerifyingKey,
    kem_public: X25519PublicKey,
    clock: Arc<ManualClock>,
    resolver: Arc<NodeResolver>,
    sessions: Sessions,
    deps: TwinDeps,
    _db: TestDb,
    server: tokio::task::JoinHandle<()>,
}

/// What a second node on the same database and identity is built from.
struct TwinDeps {
    store: Store,
    identity: Arc<NodeIdentity>,
    config: Arc<SageConfig>,
}

/// A second node serving the same identity from the same database.
struct Twin {
    base: String,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Twin {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// Serves `service` on a fresh port of 127.0.0.1.
async fn serve(service: MessageService) -> (String, tokio::task::JoinHandle<()>) {
    let (router, _openapi) = routes(Arc::new(service)).split_for_parts();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (format!("http://{address}"), server)
}

impl Drop for Node {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Node {
    async fn start() -> Self {
        Self::start_with(Setup::default()).await
    }

    async fn start_with(setup: Setup) -> Self {
        Self::start_on(TestDb::sqlite().await, setup).await
    }

    /// A node on a fresh PostgreSQL schema; `None` when the run skips
    /// PostgreSQL (`SAGE_SKIP_POSTGRES=1`, loudly).
    async fn start_postgres(setup: Setup) -> Option<Self> {
        Some(Self::start_on(TestDb::postgres().await?, setup).await)
    }

    async fn start_on(db: TestDb, setup: Setup) -> Self {
        let store: Store = db.open().await;
        let clock = ManualClock::at(T0);
        let sessions = store.sessions(&KeyEncryptionKey::generate(&mut rng()));
        let registry = LocalRegistry::new(store.clone(), clock.clone());
        let resolver = Arc::new(CachingResolver::new(
            AnyRegistry::Local(registry),
            store.clone(),
            Duration::from_secs(5),
            clock.clone(),
        ));
        let did = Did::new(Chain::Ethereum, &format!("node-{}", &uuid()[..8])).unwrap();
        let identity = Arc::new(NodeIdentity::new(
            did.clone(),
            SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap(),
            X25519Secret::generate(&mut rng()),
        ));
        let mut config = SageConfig::default();
        config.server.body_limit = sage_config::ByteSize(64 * 1024);
        if let Some(configure) = setup.configure {
            configure(&mut config);
        }
        let config = Arc::new(config);
        let service = MessageService::new(ProtocolDeps {
            version: VERSION,
            identity: Arc::clone(&identity),
            store: store.clone(),
            sessions: sessions.clone(),
            resolver: Arc::clone(&resolver),
            config: Arc::clone(&config),
            public_url: None,
            upstream: setup.upstream,
            clock: clock.clone(),
        })
        .unwrap();
        let (base, server) = serve(service).await;
        Self {
            base,
            deps: TwinDeps {
                store,
                identity: Arc::clone(&identity),
                config,
            },
            did,
            verifying_key: identity.verifying_key(),
            kem_public: identity.kem_public(),
            clock,
            resolver,
            sessions,
            _db: db,
            server,
        }
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn messages_url(&self) -> String {
        format!("{}/messages", self.base)
    }

    /// Another node with this identity on this database (and this
    /// registry, clock and key-encryption key), as behind a load balancer.
    async fn twin(&self) -> Twin {
        let service = MessageService::new(self.deps_with(|_| {})).unwrap();
        let (base, server) = serve(service).await;
        Twin { base, server }
    }

    /// This node's dependencies, changed by `change`.
    fn deps_with(&self, change: impl FnOnce(&mut ProtocolDeps)) -> ProtocolDeps {
        let mut deps = ProtocolDeps {
            version: VERSION,
            identity: Arc::clone(&self.deps.identity),
            store: self.deps.store.clone(),
            sessions: self.sessions.clone(),
            resolver: Arc::clone(&self.resolver),
            config: Arc::clone(&self.deps.config),
            public_url: None,
            upstream: None,
            clock: self.clock.clone(),
        };
        change(&mut deps);
        deps
    }
}

/// What came back.
struct Answer {
    status: u16,
    response: HttpResponse,
}

impl Answer {
    fn wire(&self) -> WireResponse {
        WireResponse::from_json(&self.response.body).unwrap()
    }
}

/// A hand-built client of one agent talking to one node.
struct Peer<'n> {
    node: &'n Node,
    agent: Agent,
    http: HttpClient,
}

impl<'n> Peer<'n> {
    async fn registered(node: &'n Node, name: &str) -> Self {
        let agent = Agent::new(name);
        agent.register(&node.resolver, node.now()).await;
        Self {
            node,
            agent,
            http: http_client(),
        }
    }

    /// An init message for the node (and the state that reads its ack).
    fn init(&self, cookie: Option<String>) -> (ExpectAck, WireMessage) {
        Initiator::start(
            VERSION,
            InitiatorConfig {
                own_did: self.agent.did.as_str().to_owned(),
                signing_key: &self.agent.signer,
                peer_did: self.node.did.as_str().to_owned(),
                peer_kem_public: self.node.kem_public,
                ctx_id: format!("ctx-{}", uuid()),
                session_config: CLIENT_SESSIONS,
                cookie,
            },
            &mut rng(),
            self.node.now(),
        )
        .unwrap()
    }

    /// `message` as an HTTP request: JSON body, mirror headers, and (when
    /// `sign`) the RFC 9421 signature of the profile.
    fn http_request(&self, message: &WireMessage, sign: bool) -> HttpRequest {
        self.http_request_to(&self.node.messages_url(), message, sign)
    }

    /// As [`Self::http_request`], to `url`.
    fn http_request_to(&self, url: &str, message: &WireMessage, sign: bool) -> HttpRequest {
        let mut request = HttpRequest::new("POST", url)
            .with_header("content-type", "application/json")
            .with_body(message.to_json());
        for (name, value) in message.mirror_headers().unwrap() {
            request = request.with_header(name, value);
        }
        if sign {
            self.sign(&mut request);
        }
        request
    }

    fn sign(&self, request: &mut HttpRequest) {
        request.remove_header("signature");
        request.remove_header("signature-input");
        let mut params = SignatureParams::new(
            request_components(request),
            self.agent.did.as_str(),
            self.node.now(),
        );
        params.alg = self
            .agent
            .signer
            .key_type()
            .rfc9421_alg()
            .map(str::to_owned);
        params.nonce = Some(uuid());
        sign_request_in_place(request, &params, &self.agent.signer).unwrap();
    }

    async fn send(&self, request: &HttpRequest) -> Answer {
        let headers: Vec<(&str, &str)> = request
            .headers
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        let answer = request_with(
            &self.http,
            request.method.as_str(),
            request.target_uri.as_str(),
            &headers,
            request.body.clone(),
        )
        .await;
        let status = answer.status;
        let mut http_response = HttpResponse::new(status).with_body(answer.body);
        http_response.headers = answer.header_lines;
        Answer {
            status,
            response: http_response,
        }
    }

    /// Checks the node's RFC 9421 signature on `answer` to `request`.
    fn verify_node_signature(&self, request: &HttpRequest, answer: &Answer) {
        assert_eq!(
            answer.response.header("x-sage-did").as_deref(),
            Some(self.node.did.as_str())
        );
        let parsed =
            ParsedSignature::from_response(&answer.response, Some(request), Some("sig1")).unwrap();
        let mut options = VerifyOptions::for_response();
        options.expected_did = Some(self.node.did.as_str().to_owned());
        if request.header("content-digest").is_none() {
            // Nothing to bind the body with (a Go-style request, or one
            // refused before it was read): the request line binds it.
            let mut required = vec![ComponentId::derived(DerivedComponent::Status)];
            for d in [
                DerivedComponent::Method,
                DerivedComponent::TargetUri,
                DerivedComponent::Authority,
            ] {
                required.push(ComponentId::derived(d).with_req());
            }
            options.required_components = Some(required);
        }
        parsed
            .verify(
                &self.node.verifying_key,
                &options,
                self.node.now(),
                &mut MemoryReplayStore::new(),
            )
            .unwrap();
        assert!(
            parsed
                .covered()
                .iter()
                .any(|c| c.as_str() == "\"x-sage-did\"")
        );
    }

    /// A full handshake with an RFC 9421-signed init.
    async fn handshake(&self) -> Established {
        let (expect, message) = self.init(None);
        let request = self.http_request(&message, true);
        let answer = self.send(&request).await;
        assert_eq!(answer.status, 200);
        self.verify_node_signature(&request, &answer);
        let wire = answer.wire();
        assert!(wire.success, "handshake refused: {}", wire.error);
        expect
            .handle(&wire, &self.node.verifying_key, self.node.now())
            .unwrap()
    }

    /// An application message carrying `record` on `kid`.
    fn data_message(&self, kid: &str, record: Vec<u8>) -> WireMessage {
        let mut message = WireMessage {
            id: uuid(),
            context_id: String::new(),
            task_id: "chat".into(),
            payload: record,
            did: self.agent.did.as_str().to_owned(),
            signature: Vec::new(),
            metadata: [("kid".to_owned(), kid.to_owned())].into_iter().collect(),
            role: "user".into(),
        };
        message.sign_payload(&self.agent.signer);
        message
    }

    /// Seals `plaintext` on `session` and sends it, signed.
    async fn send_record(
        &self,
        session: &mut Established,
        plaintext: &[u8],
    ) -> (HttpRequest, Answer) {
        let record = session
            .session
            .encrypt(&mut rng(), self.node.now(), plaintext)
            .unwrap();
        let message = self.data_message(&session.kid, record);
        let request = self.http_request(&message, true);
        let answer = self.send(&request).await;
        (request, answer)
    }

    /// Asserts `answer` is the generic 401 and that `code` was counted.
    fn assert_refused(
        &self,
        answer: &Answer,
        status: u16,
        code: &str,
        before: u64,
        handle: &PrometheusHandle,
    ) {
        assert_eq!(answer.status, status, "{code}");
        let wire = answer.wire();
        assert!(!wire.success);
        assert!(wire.data.is_empty());
        let expected_text = match status {
            401 | 200 => "authentication failed",
            400 => "malformed message",
            413 => "message too large",
            _ => wire.error.as_str(),
        };
        assert_eq!(wire.error, expected_text);
        assert!(
            rejected(handle, code) > before,
            "{code} was not counted:\n{}",
            handle.render()
        );
    }
}
