//! In-process tests of the management API: the router over a SQLite test
//! database, the local registry with the node's record registered and
//! active, and `tower::ServiceExt::oneshot` requests. Plus the OpenAPI
//! document's own checks (sync with `api/openapi.yaml`, examples, 3.1).

use core::sync::atomic::{AtomicU64, Ordering};
use core::time::Duration;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use sage_core::did::{Chain, Did};
use sage_core::encoding::hex_encode;
use sage_core::primitives::{KeyType, SigningKey, X25519Secret};
use sage_core::session::{Role, Session, SessionConfig, SessionSeed};
use sage_core::time::Timestamp;
use sage_core::version::ProtocolVersion;
use sage_registry::{
    Activate, AddKey, CachingResolver, Deactivate, LocalRegistry, NewKey, Register, Registry as _,
    Request as RegistryRequest, RequestBody, RequestHeader, RevokeKey, SignedRequest, Update,
};
use sage_store::testing::{ManualClock, TestDb};
use sage_store::{Clock as _, KeyEncryptionKey, NonceStore as _, SessionStore as _, Sessions};
use serde_json::{Value, json};
use tower::ServiceExt as _;
use utoipa::openapi::OpenApi;
use zeroize::Zeroizing;

use super::openapi::{PROBLEM_JSON, full_openapi};
use super::{ApiDeps, labels, routes};
use crate::identity::NodeIdentity;
use crate::problem::ApiProblem;
use crate::registry::{AnyRegistry, NodeResolver};

/// 2026-01-01T00:00:00Z.
const T0: Timestamp = Timestamp::from_unix_seconds(1_767_225_600);
const TOKEN: &str = "test-management-token-0123456789abcdef";
const OPENAPI_YAML: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../api/openapi.yaml");
const UPDATE_VAR: &str = "SAGE_UPDATE_OPENAPI";

/// An agent: a DID and its controller key.
struct Agent {
    did: Did,
    controller: SigningKey,
}

impl Agent {
    fn new(name: &str) -> Self {
        Self {
            did: Did::new(Chain::Ethereum, name).unwrap(),
            controller: SigningKey::from_label(KeyType::Ed25519, &format!("api-tests/{name}"))
                .unwrap(),
        }
    }

    fn registration(&self) -> Register {
        let kem = X25519Secret::from_bytes([9; 32]).public_key();
        Register {
            name: "agent".into(),
            description: "a test agent".into(),
            endpoint: "https://agent.example/messages".into(),
            capabilities: serde_json::Map::new(),
            keys: vec![
                NewKey::signing(labels(), &self.controller, &self.did).unwrap(),
                NewKey::kem(labels(), &self.did, &kem, &self.controller, "key-1"),
            ],
        }
    }

    /// `body` at `version`, made at `now`, signed by `key`.
    fn signed_by<B: RequestBody>(
        &self,
        now: Timestamp,
        version: u64,
        body: B,
        key: &SigningKey,
    ) -> SignedRequest<B> {
        static NONCES: AtomicU64 = AtomicU64::new(0);
        let header = RequestHeader {
            did: self.did.clone(),
            nonce: format!("nonce-{:020}", NONCES.fetch_add(1, Ordering::Relaxed)),
            timestamp: now,
            version,
        };
        RegistryRequest::new(header, body).sign(key)
    }

    fn signed<B: RequestBody>(&self, now: Timestamp, version: u64, body: B) -> SignedRequest<B> {
        self.signed_by(now, version, body, &self.controller)
    }
}

/// The JSON body of a signed request, as the API takes it.
fn body_of<B: RequestBody>(request: &SignedRequest<B>) -> Value {
    json!({
        "request": request.request().to_json_value(),
        "signature": hex_encode(request.signature()),
    })
}

struct Harness {
    router: Router,
    clock: Arc<ManualClock>,
    node: Agent,
    kem: X25519Secret,
    sessions: Sessions,
    store: sage_store::Store,
    resolver: Arc<NodeResolver>,
    _db: TestDb,
}

async fn harness() -> Harness {
    harness_with_token(Some(TOKEN)).await
}

async fn harness_with_token(token: Option<&str>) -> Harness {
    let db = TestDb::sqlite().await;
    let store = db.open().await;
    let clock = ManualClock::at(T0);
    let registry = AnyRegistry::Local(LocalRegistry::new(store.clone(), clock.clone()));
    let resolver = Arc::new(CachingResolver::new(
        registry,
        store.clone(),
        Duration::from_secs(300),
        clock.clone(),
    ));
    let node = Agent::new("node-1");
    resolver
        .register(&node.signed(T0, 0, node.registration()))
        .await
        .unwrap();
    resolver
        .activate(&node.signed(T0, 1, Activate))
        .await
        .unwrap();
    let kem = X25519Secret::from_bytes([9; 32]);
    let identity = NodeIdentity::new(
        node.did.clone(),
        SigningKey::from_label(KeyType::Ed25519, "api-tests/node-1").unwrap(),
        X25519Secret::from_bytes([9; 32]),
    );
    let sessions = store.sessions(&KeyEncryptionKey::from_bytes([0x5a; 32]));
    let deps = ApiDeps {
        identity: Arc::new(identity),
        store: store.clone(),
        sessions: sessions.clone(),
        resolver: resolver.clone(),
        token: token.map(|t| Zeroizing::new(t.as_bytes().to_vec())),
        clock: clock.clone(),
    };
    let (router, _) = routes(deps).split_for_parts();
    Harness {
        router,
        clock,
        node,
        kem,
        sessions,
        store,
        resolver,
        _db: db,
    }
}

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// Asserts a problem+json answer with `status` and `code`.
    #[track_caller]
    fn assert_problem(&self, status: StatusCode, code: &str) {
        assert_eq!(
            self.status,
            status,
            "{}",
            String::from_utf8_lossy(&self.body)
        );
        assert_eq!(self.headers[header::CONTENT_TYPE], PROBLEM_JSON);
        let json = self.json();
        assert_eq!(json["code"], code, "{json}");
        assert_eq!(json["status"], status.as_u16());
    }
}

impl Harness {
    async fn send(
        &self,
        method: Method,
        uri: &str,
        auth: Option<&str>,
        body: Option<Value>,
    ) -> Answer {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(auth) = auth {
            request = request.header(header::AUTHORIZATION, auth);
        }
        let request = match body {
            Some(body) => request
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        self.raw(request).await
    }

    async fn raw(&self, request: Request<Body>) -> Answer {
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap()
            .to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    async fn get(&self, uri: &str) -> Answer {
        self.send(Method::GET, uri, Some(&format!("Bearer {TOKEN}")), None)
            .await
    }

    async fn post(&self, uri: &str, body: Value) -> Answer {
        self.send(
            Method::POST,
            uri,
            Some(&format!("Bearer {TOKEN}")),
            Some(body),
        )
        .await
    }

    async fn delete(&self, uri: &str) -> Answer {
        self.send(Method::DELETE, uri, Some(&format!("Bearer {TOKEN}")), None)
            .await
    }

    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    /// A live session with `peer`, created at the clock's now.
    async fn session_with(&self, peer: &Did, seed: u8) -> String {
        let session = Session::from_handshake_seed(
            ProtocolVersion::V1Draft1,
            Role::Responder,
            SessionSeed::from_bytes([seed; 32]),
            SessionConfig::default(),
            self.now(),
        );
        let record = self
            .sessions
            .create(&session, &format!("kid-{seed}"), peer)
            .await
            .unwrap();
        record.sid.as_str().to_owned()
    }

    /// Registers and activates `agent` through the API.
    async fn register_active(&self, agent: &Agent) {
        let answer = self
            .post(
                "/v1/registry/register",
                body_of(&agent.signed(self.now(), 0, agent.registration())),
            )
            .await;
        assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json());
        let answer = self
            .post(
                "/v1/registry/activate",
                body_of(&agent.signed(self.now(), 1, Activate)),
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    }
}

/// One request per route and method, with a body where one is taken.
fn every_route() -> Vec<(Method, String)> {
    let document = full_openapi();
    let mut routes = Vec::new();
    for (path, item) in &document.paths.paths {
        if !path.starts_with("/v1/") {
            continue;
        }
        let concrete = path
            .replace("{did}", "did:sage:ethereum:node-1")
            .replace("{sid}", "3q2-7wAAAAAAAAAAAAAAAA");
        for (method, operation) in [
            (Method::GET, &item.get),
            (Method::POST, &item.post),
            (Method::DELETE, &item.delete),
        ] {
            if operation.is_some() {
                routes.push((method, concrete.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn requests_without_the_right_token_get_one_bare_401_on_every_route() {
    let h = harness().await;
    let expected = serde_json::to_value(ApiProblem::unauthorized()).unwrap();
    let routes = every_route();
    assert!(routes.len() >= 12, "{routes:?}");
    for (method, uri) in routes {
        for auth in [
            None,
            Some("Bearer wrong-token"),
            Some(&format!("Bearer {TOKEN}x")[..]),
            Some(&format!("Basic {TOKEN}")[..]),
            Some(TOKEN),
        ] {
            let answer = h
                .send(
                    method.clone(),
                    &uri,
                    auth,
                    Some(json!({"request": {}, "signature": ""})),
                )
                .await;
            answer.assert_problem(StatusCode::UNAUTHORIZED, "auth.unauthorized");
            assert!(answer.headers.contains_key(header::WWW_AUTHENTICATE));
            // The same body whatever was wrong, and whatever the route: it
            // says nothing about the token, the DID or the session.
            assert_eq!(answer.json(), expected, "{method} {uri} {auth:?}");
        }
    }
}

#[tokio::test]
async fn a_node_without_a_token_refuses_every_request() {
    let h = harness_with_token(None).await;
    for auth in [None, Some("Bearer "), Some("Bearer anything")] {
        let answer = h.send(Method::GET, "/v1/identity", auth, None).await;
        answer.assert_problem(StatusCode::UNAUTHORIZED, "auth.unauthorized");
    }
}

#[tokio::test]
async fn identity_serves_the_did_and_the_public_keys_only() {
    let h = harness().await;
    let answer = h.get("/v1/identity").await;
    assert_eq!(answer.status, StatusCode::OK);
    let json = answer.json();
    assert_eq!(json["did"], h.node.did.as_str());
    assert_eq!(json["key_types"], json!(["ed25519", "x25519"]));
    assert_eq!(
        json["signing_key"]["public_key_hex"],
        hex_encode(&h.node.controller.verifying_key().to_bytes())
    );
    assert_eq!(json["signing_key"]["jwk"]["crv"], "Ed25519");
    assert_eq!(
        json["kem_key"]["public_key_hex"],
        hex_encode(h.kem.public_key().as_bytes())
    );
    assert_eq!(json["kem_key"]["jwk"]["crv"], "X25519");
    let text = String::from_utf8(answer.body.clone()).unwrap();
    assert!(!text.contains(&hex_encode(&h.node.controller.to_bytes()[..])));
    assert!(!text.contains(&hex_encode(&h.kem.to_bytes()[..])));
    assert!(!text.contains("\"d\""));
}

#[tokio::test]
async fn identity_document_is_the_document_of_the_registered_record() {
    let h = harness().await;
    let answer = h.get("/v1/identity/document").await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    let json = answer.json();
    let did = h.node.did.as_str();
    assert_eq!(json["id"], did);
    assert_eq!(json["authentication"], json!([format!("{did}#key-1")]));
    assert_eq!(json["keyAgreement"], json!([format!("{did}#key-2")]));
    assert_eq!(
        json["service"][0]["serviceEndpoint"],
        "https://agent.example/messages"
    );
}

#[tokio::test]
async fn a_known_did_resolves_to_its_record_or_its_document() {
    let h = harness().await;
    let did = h.node.did.as_str();
    let answer = h.get(&format!("/v1/dids/{did}")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let json = answer.json();
    assert_eq!(json["state"], "active");
    assert_eq!(json["version"], 2);
    assert_eq!(json["source"], "registry");
    assert_eq!(json["record"]["did"], did);
    assert_eq!(json["record"]["is_active"], true);
    assert_eq!(json["record"]["keys"][0]["type"], 1);
    assert_eq!(
        json["record"]["keys"][0]["key_data"],
        hex_encode(&h.node.controller.verifying_key().to_bytes())
    );
    // The view is the AgentMetadataV4 serialisation of sage-core.
    let resolved = h.resolver.resolve(&h.node.did).await.unwrap();
    assert_eq!(
        json["record"],
        serde_json::to_value(&resolved.record).unwrap()
    );

    let answer = h.get(&format!("/v1/dids/{did}?document=true")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let json = answer.json();
    assert_eq!(json["id"], did);
    assert_eq!(json["verificationMethod"][0]["type"], "JsonWebKey2020");
}

#[tokio::test]
async fn unknown_and_malformed_dids_are_problems_with_stable_codes() {
    let h = harness().await;
    h.get("/v1/dids/did:sage:ethereum:nobody")
        .await
        .assert_problem(StatusCode::NOT_FOUND, "did.unknown");
    h.get("/v1/dids/did:web:example.com")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "id.malformed");
    h.get("/v1/dids/not-a-did")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "id.malformed");
    h.get(&format!("/v1/dids/{}?document=maybe", h.node.did))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "request.invalid");
}

#[tokio::test]
async fn an_agent_goes_through_its_whole_lifecycle_through_the_api() {
    let h = harness().await;
    let agent = Agent::new("agent-7");
    let answer = h
        .post(
            "/v1/registry/register",
            body_of(&agent.signed(h.now(), 0, agent.registration())),
        )
        .await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.json());
    assert_eq!(answer.json()["state"], "created");
    let answer = h
        .post(
            "/v1/registry/activate",
            body_of(&agent.signed(h.now(), 1, Activate)),
        )
        .await;
    assert_eq!(answer.json()["state"], "active");

    // Rotation: add the new key, then revoke the old one.
    let new_key = SigningKey::from_label(KeyType::Ed25519, "api-tests/agent-7/second").unwrap();
    let add = AddKey {
        key: NewKey::signing(labels(), &new_key, &agent.did).unwrap(),
    };
    let answer = h
        .post("/v1/registry/keys", body_of(&agent.signed(h.now(), 2, add)))
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    let keys = answer.json()["record"]["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 3);
    assert_eq!(
        keys[2]["key_data"],
        hex_encode(&new_key.verifying_key().to_bytes())
    );

    // Cache the record, then update it: the resolver must not serve the
    // old endpoint.
    assert_eq!(
        h.get(&format!("/v1/dids/{}", agent.did)).await.status,
        StatusCode::OK
    );
    let update = Update {
        endpoint: Some("https://agent.example/v2".into()),
        ..Update::default()
    };
    let answer = h
        .post(
            "/v1/registry/update",
            body_of(&agent.signed(h.now(), 3, update)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    let answer = h.get(&format!("/v1/dids/{}", agent.did)).await;
    assert_eq!(
        answer.json()["record"]["endpoint"],
        "https://agent.example/v2"
    );

    let revoke = RevokeKey {
        key: "key-3".into(),
    };
    let answer = h
        .post(
            "/v1/registry/keys/revoke",
            body_of(&agent.signed(h.now(), 4, revoke)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    assert_eq!(answer.json()["record"]["keys"][2]["verified"], false);

    let answer = h
        .post(
            "/v1/registry/deactivate",
            body_of(&agent.signed(h.now(), 5, Deactivate)),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    assert_eq!(answer.json()["state"], "deactivated");
    let answer = h.get(&format!("/v1/dids/{}", agent.did)).await;
    assert_eq!(answer.json()["state"], "deactivated");
    assert_eq!(answer.json()["record"]["is_active"], false);
}

#[tokio::test]
async fn registry_refusals_keep_their_codes() {
    let h = harness().await;
    let agent = Agent::new("agent-8");
    h.register_active(&agent).await;

    // Signed by a key that is not the controller.
    let stranger = SigningKey::from_label(KeyType::Ed25519, "api-tests/stranger").unwrap();
    let update = Update {
        name: Some("mallory".into()),
        ..Update::default()
    };
    h.post(
        "/v1/registry/update",
        body_of(&agent.signed_by(h.now(), 2, update.clone(), &stranger)),
    )
    .await
    .assert_problem(StatusCode::FORBIDDEN, "registry.unauthorized");

    // Against an older version of the record.
    h.post(
        "/v1/registry/update",
        body_of(&agent.signed(h.now(), 1, update.clone())),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "registry.version-conflict");

    // The same request twice.
    let request = body_of(&agent.signed(h.now(), 2, update));
    assert_eq!(
        h.post("/v1/registry/update", request.clone()).await.status,
        StatusCode::OK
    );
    h.post("/v1/registry/update", request)
        .await
        .assert_problem(StatusCode::CONFLICT, "request.replayed");

    // Outside the freshness window.
    let stale = agent.signed(h.now().add_seconds(-3_600), 3, Activate);
    h.post("/v1/registry/activate", body_of(&stale))
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "request.stale");

    // A DID the registry does not know.
    let nobody = Agent::new("nobody");
    h.post(
        "/v1/registry/activate",
        body_of(&nobody.signed(h.now(), 1, Activate)),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "did.unknown");

    // Registering a DID twice.
    h.post(
        "/v1/registry/register",
        body_of(&agent.signed(h.now(), 0, agent.registration())),
    )
    .await
    .assert_problem(StatusCode::CONFLICT, "registry.exists");

    // Revoking a key the record does not have.
    let revoke = RevokeKey {
        key: "key-9".into(),
    };
    h.post(
        "/v1/registry/keys/revoke",
        body_of(&agent.signed(h.now(), 3, revoke)),
    )
    .await
    .assert_problem(StatusCode::NOT_FOUND, "key.not-in-record");
}

#[tokio::test]
async fn malformed_registry_bodies_are_refused_before_the_registry() {
    let h = harness().await;
    let agent = Agent::new("agent-9");
    let activate = body_of(&agent.signed(h.now(), 1, Activate));

    // The operation of another endpoint.
    h.post("/v1/registry/deactivate", activate.clone())
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "request.invalid");

    // A member that is not part of the signed form.
    let mut extra = activate.clone();
    extra["request"]["admin"] = true.into();
    h.post("/v1/registry/activate", extra)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "request.invalid");

    // A wrong domain, a missing member, a signature that is not hex.
    let mut domain = activate.clone();
    domain["request"]["domain"] = "other/v1".into();
    h.post("/v1/registry/activate", domain)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "request.invalid");
    let mut missing = activate.clone();
    missing["request"].as_object_mut().unwrap().remove("nonce");
    h.post("/v1/registry/activate", missing)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "request.invalid");
    let mut signature = activate.clone();
    signature["signature"] = "zz".into();
    h.post("/v1/registry/activate", signature)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "request.invalid");

    // Upper-case hex is not what was signed.
    let mut add = body_of(&agent.signed(
        h.now(),
        2,
        AddKey {
            key: NewKey::signing(labels(), &agent.controller, &agent.did).unwrap(),
        },
    ));
    let upper = add["request"]["key"]["key_data"]
        .as_str()
        .unwrap()
        .to_uppercase();
    add["request"]["key"]["key_data"] = upper.into();
    h.post("/v1/registry/keys", add)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "request.invalid");

    // Not JSON; not declared as JSON; a malformed DID.
    let request = Request::post("/v1/registry/activate")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from("{not json"))
        .unwrap();
    h.raw(request)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "request.invalid");
    let request = Request::post("/v1/registry/activate")
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from(activate.to_string()))
        .unwrap();
    h.raw(request).await.assert_problem(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "request.unsupported_media_type",
    );
    let mut did = activate;
    did["request"]["did"] = "did:nope".into();
    h.post("/v1/registry/activate", did)
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "id.malformed");
}

#[tokio::test]
async fn sessions_are_listed_by_peer_page_by_page_and_show_no_key_material() {
    let h = harness().await;
    let peer = Did::new(Chain::Ethereum, "peer-1").unwrap();
    let first = h.session_with(&peer, 1).await;
    h.clock.advance(1);
    let second = h.session_with(&peer, 2).await;
    h.session_with(&Did::new(Chain::Ethereum, "peer-2").unwrap(), 3)
        .await;

    let answer = h.get(&format!("/v1/sessions?peer={peer}&limit=1")).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.json());
    let page = answer.json();
    assert_eq!(page["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(page["sessions"][0]["sid"], second.as_str());
    let after = page["next_after"].as_str().unwrap().to_owned();
    let page = h
        .get(&format!("/v1/sessions?peer={peer}&limit=1&after={after}"))
        .await
        .json();
    assert_eq!(page["sessions"][0]["sid"], first.as_str());
    let page = h
        .get(&format!(
            "/v1/sessions?peer={peer}&limit=1&after={}",
            page["next_after"].as_str().unwrap()
        ))
        .await
        .json();
    assert_eq!(page, json!({"sessions": [], "next_after": null}));

    let answer = h.get(&format!("/v1/sessions/{first}")).await;
    assert_eq!(answer.status, StatusCode::OK);
    let json = answer.json();
    assert_eq!(json["peer_did"], peer.as_str());
    assert_eq!(json["role"], "responder");
    assert_eq!(json["kid"], "kid-1");
    let mut members: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    members.sort_unstable();
    assert_eq!(
        members,
        [
            "created_at",
            "expires_at",
            "highest_received_seq",
            "idle_expires_at",
            "kid",
            "last_activity",
            "message_count",
            "next_send_seq",
            "peer_did",
            "role",
            "sid",
            "version"
        ]
    );
    let text = String::from_utf8(answer.body.clone()).unwrap();
    assert!(!text.contains(&hex_encode(&[1; 32])));
}

#[tokio::test]
async fn a_closed_session_is_gone() {
    let h = harness().await;
    let peer = Did::new(Chain::Ethereum, "peer-1").unwrap();
    let sid = h.session_with(&peer, 1).await;
    let answer = h.delete(&format!("/v1/sessions/{sid}")).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT);
    assert!(answer.body.is_empty());
    h.get(&format!("/v1/sessions/{sid}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "session.unknown");
    h.delete(&format!("/v1/sessions/{sid}"))
        .await
        .assert_problem(StatusCode::NOT_FOUND, "session.unknown");
    let sid = sid.parse().unwrap();
    assert!(h.sessions.get(&sid, h.now()).await.unwrap().is_none());
}

#[tokio::test]
async fn malformed_session_requests_are_bad_requests() {
    let h = harness().await;
    for uri in [
        "/v1/sessions/short".to_owned(),
        "/v1/sessions".to_owned(),
        "/v1/sessions?peer=not-a-did".to_owned(),
        format!("/v1/sessions?peer={}&limit=0", h.node.did),
        format!("/v1/sessions?peer={}&limit=1001", h.node.did),
        format!("/v1/sessions?peer={}&after=garbage", h.node.did),
        format!("/v1/sessions?peer={}&limit=ten", h.node.did),
    ] {
        let answer = h.get(&uri).await;
        assert_eq!(answer.status, StatusCode::BAD_REQUEST, "{uri}");
        assert_eq!(answer.headers[header::CONTENT_TYPE], PROBLEM_JSON, "{uri}");
    }
    h.delete("/v1/sessions/short")
        .await
        .assert_problem(StatusCode::BAD_REQUEST, "request.invalid");
}

#[tokio::test]
async fn stats_count_live_nonces_sessions_and_resolutions() {
    let h = harness().await;
    let peer = Did::new(Chain::Ethereum, "peer-1").unwrap();
    h.session_with(&peer, 1).await;
    h.session_with(&peer, 2).await;
    let now = h.now();
    // The registry's request nonces live in the same table.
    let registry_nonces = h.store.count(now).await.unwrap();
    for nonce in ["n-1", "n-2", "n-3"] {
        h.store
            .check_and_store("kid-1", nonce, now, now.add_seconds(60))
            .await
            .unwrap();
    }
    h.store
        .check_and_store(
            "kid-1",
            "n-old",
            now.add_seconds(-120),
            now.add_seconds(-60),
        )
        .await
        .unwrap();
    let before = h.resolver.stats().snapshot();
    h.get(&format!("/v1/dids/{}", h.node.did)).await;
    h.get(&format!("/v1/dids/{}", h.node.did)).await;

    let answer = h.get("/v1/stats").await;
    assert_eq!(answer.status, StatusCode::OK);
    let json = answer.json();
    assert_eq!(json["nonces"], registry_nonces + 3);
    assert_eq!(json["sessions"], 2);
    assert_eq!(json["registry_backend"], "local");
    assert_eq!(json["resolver"]["ttl_seconds"], 300);
    let resolutions =
        json["resolver"]["hits"].as_u64().unwrap() + json["resolver"]["misses"].as_u64().unwrap();
    assert_eq!(resolutions, before.hits + before.misses + 2);
    assert_eq!(json["observed_at"], h.now().to_rfc3339());
}

#[tokio::test]
async fn an_unreachable_database_is_503_store_unavailable() {
    let h = harness().await;
    let peer = Did::new(Chain::Ethereum, "peer-1").unwrap();
    let sid = h.session_with(&peer, 1).await;
    h.store.close().await;
    h.get("/v1/stats")
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store.unavailable");
    h.get(&format!("/v1/sessions?peer={peer}"))
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store.unavailable");
    h.get(&format!("/v1/sessions/{sid}"))
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store.unavailable");
    h.delete(&format!("/v1/sessions/{sid}"))
        .await
        .assert_problem(StatusCode::SERVICE_UNAVAILABLE, "store.unavailable");
    // The registry lives in the same database: unreachable, never stale.
    h.get(&format!("/v1/dids/{}", h.node.did))
        .await
        .assert_problem(StatusCode::BAD_GATEWAY, "record.unreachable");
    // The problem never carries the database's own error text.
    let body = h.get("/v1/stats").await.json();
    assert_eq!(body["detail"], "the node's database cannot be reached");
}

// --- the OpenAPI document ---------------------------------------------

fn document_json() -> Value {
    serde_json::from_str(&full_openapi().to_json().unwrap()).unwrap()
}

/// Follows a local `$ref` (`#/components/...`).
fn deref<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => {
            let pointer = reference.trim_start_matches('#');
            document.pointer(pointer).unwrap_or(value)
        }
        None => value,
    }
}

fn has_example(content: &Value) -> bool {
    content.get("example").is_some()
        || content
            .get("examples")
            .and_then(Value::as_object)
            .is_some_and(|e| !e.is_empty())
}

#[test]
fn the_document_is_openapi_3_1_with_the_bearer_scheme_and_three_tags() {
    let document = document_json();
    assert_eq!(document["openapi"], "3.1.0");
    assert_eq!(document["info"]["title"], "SAGE node API");
    assert_eq!(document["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(
        document["components"]["securitySchemes"]["bearer"],
        json!({"type": "http", "scheme": "bearer", "description": "The management token of the node's configuration (`management.token`)."})
    );
    let tags: Vec<&str> = document["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(tags, ["protocol", "management", "operations"]);
}

#[test]
fn every_operation_has_examples_and_documents_its_errors_as_problem_json() {
    let document = document_json();
    let paths = document["paths"].as_object().unwrap();
    let mut operations = 0;
    for (path, item) in paths {
        for (method, operation) in item.as_object().unwrap() {
            operations += 1;
            let name = format!("{method} {path}");
            if let Some(body) = operation.get("requestBody") {
                let body = deref(&document, body);
                for (media, content) in body["content"].as_object().unwrap() {
                    assert!(
                        has_example(content),
                        "{name}: request {media} has no example"
                    );
                }
            }
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{name}: no success"
            );
            for (status, response) in responses {
                let response = deref(&document, response);
                let Some(content) = response.get("content").and_then(Value::as_object) else {
                    assert_eq!(status, "204", "{name}: {status} has no content");
                    continue;
                };
                for (media, content) in content {
                    assert!(
                        has_example(content),
                        "{name}: {status} {media} has no example"
                    );
                    // `/messages` answers every outcome with a WireResponse
                    // (PROTOCOL.md §12.1, docs/PROTOCOL-PROFILE.md): a
                    // peer never gets a problem document.
                    if (status.starts_with('4') || status.starts_with('5')) && path != "/messages" {
                        assert_eq!(media, PROBLEM_JSON, "{name}: {status}");
                        assert_eq!(
                            content["schema"]["$ref"], "#/components/schemas/ApiProblem",
                            "{name}: {status}"
                        );
                    }
                }
            }
            if path.starts_with("/v1/") {
                assert_eq!(operation["security"], json!([{"bearer": []}]), "{name}");
                assert!(responses.contains_key("401"), "{name}: 401 undocumented");
                assert_eq!(operation["tags"], json!(["management"]), "{name}");
            }
        }
    }
    assert!(operations >= 13, "{operations} operations");
}

#[test]
fn openapi_yaml_is_in_sync() {
    let yaml = full_openapi().to_yaml().unwrap();
    if std::env::var(UPDATE_VAR).as_deref() == Ok("1") {
        std::fs::create_dir_all(concat!(env!("CARGO_MANIFEST_DIR"), "/../../api")).unwrap();
        std::fs::write(OPENAPI_YAML, &yaml).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(OPENAPI_YAML).unwrap_or_default();
    assert!(
        committed == yaml,
        "api/openapi.yaml is not the document the code generates; \
         run `SAGE_UPDATE_OPENAPI=1 cargo test -p sage-node openapi_yaml_is_in_sync` and commit it"
    );
}

#[tokio::test]
async fn docs_router_serves_the_document_and_an_offline_swagger_ui() {
    let document: OpenApi = full_openapi();
    let router = super::docs_router(document.clone());
    let get = |uri: &'static str| {
        let router = router.clone();
        async move {
            let response = router
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let status = response.status();
            let body = axum::body::to_bytes(response.into_body(), 16 << 20)
                .await
                .unwrap();
            (status, body)
        }
    };
    let (status, body) = get("/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    let served: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(served, document_json());
    let (status, body) = get("/docs/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("swagger-ui"));
    // The assets are in the binary: no CDN.
    assert!(!String::from_utf8_lossy(&body).contains("unpkg.com"));
    let (status, _) = get("/docs/swagger-ui-bundle.js").await;
    assert_eq!(status, StatusCode::OK);
}
