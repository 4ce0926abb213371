//! [`SageClient`]: handshake, session cache and messages over a node's
//! HTTP profile (docs/PROTOCOL-PROFILE.md §2–§4; PROTOCOL.md §6.5, §7.1,
//! §12.1).
//!
//! Layer: the SDK's top. It resolves a peer ([`ResolvePeer`]), runs the
//! initiator side of the handshake (sage-core [`Initiator`] →
//! [`ExpectAck::handle`](sage_core::handshake::ExpectAck::handle)), keeps
//! one session per peer and node URL, and sends each payload as one c→s
//! record, opening the s→c record of the answer.
//!
//! Invariants:
//! - one `tokio::sync::Mutex` per peer: two sends to the same peer never
//!   race the session's send counter, and a handshake for a peer runs once
//!   while the others wait for its session;
//! - a record is sealed once per attempt and its request signed once; a
//!   transport retry sends those same bytes ([`RetryPolicy`]);
//! - an HTTP 401 drops the session; the payload is then sealed again as a
//!   **new** record on a new session, once, and only when no earlier copy
//!   may have reached the node ([`ClientError::OutcomeUnknown`]);
//! - a session that expired locally (§7.1.7) is replaced before sealing;
//! - every response is checked: RFC 9421 under the peer's key with
//!   `X-SAGE-DID` = the peer, the answered message id, then the record.
//!
//! What it does not do: TLS, WebSocket, the responder side, or rekeying a
//! live session by a new handshake before it expires.

use core::fmt;
use core::time::Duration;
use std::collections::HashMap;
use std::sync::{Arc, Mutex as StdMutex, PoisonError};

use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use reqwest::Url;
use sage_core::did::Did;
use sage_core::handshake::{Initiator, InitiatorConfig};
use sage_core::httpsig::HttpResponse;
use sage_core::primitives::SigningKey;
use sage_core::session::{Session, SessionConfig, SessionError};
use sage_core::transport::{MAX_ID_LEN, WireMessage, WireResponse};
use sage_core::version::ProtocolVersion;
use tokio::sync::Mutex;

use crate::error::ClientError;
use crate::http::{
    Delivered, RetryPolicy, Transport, join, now, parse_http_url, sign_post, uuid_v4,
    verify_response,
};
use crate::resolve::{PeerKeys, ResolvePeer};

/// Largest task name the client sends (the profile's bound).
pub const MAX_TASK_LEN: usize = 256;

/// Default largest response body the client reads: the node's default
/// body limit (1 MiB) plus room for the envelope's base64.
pub const DEFAULT_MAX_RESPONSE_LEN: usize = 2 * 1024 * 1024;

/// Where a peer is: by DID (the endpoint comes from its record), or at a
/// URL (its DID given, or read from the node's agent card).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Peer {
    /// A DID; its record's endpoint is the node's base URL.
    Did(Did),
    /// A node's base URL, with the DID to expect there, if known; without
    /// one the DID is read from `{url}/.well-known/agent-card.json` (the
    /// keys still come from the registry, never from the card).
    Url {
        /// The node's base URL (`http://host:port[/prefix]`).
        url: String,
        /// The DID the node speaks for.
        did: Option<Did>,
    },
}

impl Peer {
    /// Parses `text` as a DID when it starts with `did:`, else as a URL.
    ///
    /// # Errors
    /// [`ClientError::InvalidDid`] or [`ClientError::InvalidUrl`].
    pub fn parse(text: &str) -> Result<Self, ClientError> {
        if text.starts_with("did:") {
            Did::parse(text)
                .map(Self::Did)
                .map_err(ClientError::InvalidDid)
        } else {
            parse_http_url(text)?;
            Ok(Self::Url {
                url: text.to_owned(),
                did: None,
            })
        }
    }
}

impl From<Did> for Peer {
    fn from(did: Did) -> Self {
        Self::Did(did)
    }
}

/// What a handshake established, for display and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionInfo {
    /// The peer's DID.
    pub peer_did: String,
    /// The node's messages URL.
    pub url: String,
    /// The session key id the node issued (`metadata.kid`).
    pub kid: String,
    /// The session id (§6.6), base64url.
    pub session_id: String,
    /// The handshake's context id.
    pub ctx_id: String,
}

/// A peer's answer to one payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The opened s→c record: the node's receipt, or its upstream's
    /// answer in gateway mode.
    pub plaintext: Vec<u8>,
    /// The id of the message this answers (the request's id).
    pub message_id: String,
    /// The task the answer names, if any.
    pub task_id: Option<String>,
}

/// A live session with one peer at one URL.
struct CachedSession {
    session: Session,
    kid: String,
    ctx_id: String,
}

type Slot = Arc<Mutex<Option<CachedSession>>>;

/// Builds a [`SageClient`].
pub struct SageClientBuilder<R> {
    identity: Option<(Did, SigningKey)>,
    resolver: Option<R>,
    session_config: SessionConfig,
    retry: RetryPolicy,
    timeout: Duration,
    max_response_len: usize,
    fetch_cookie: bool,
}

impl<R> fmt::Debug for SageClientBuilder<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SageClientBuilder")
            .field("did", &self.identity.as_ref().map(|(did, _)| did.as_str()))
            .field("session_config", &self.session_config)
            .field("retry", &self.retry)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<R: ResolvePeer> SageClientBuilder<R> {
    /// This agent: its DID and the signing key registered under it.
    #[must_use]
    pub fn identity(mut self, did: Did, signing_key: SigningKey) -> Self {
        self.identity = Some((did, signing_key));
        self
    }

    /// How peers are resolved.
    #[must_use]
    pub fn resolver(mut self, resolver: R) -> Self {
        self.resolver = Some(resolver);
        self
    }

    /// The configuration of the sessions the client creates. Its
    /// `rekey_interval` must be the node's (`session.rekey_interval`,
    /// default 256); its lifetime policy only makes the client replace a
    /// session before the node refuses it.
    #[must_use]
    pub fn session_config(mut self, config: SessionConfig) -> Self {
        self.session_config = config;
        self
    }

    /// How transport failures and HTTP 503 are retried.
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The timeout of each HTTP attempt (connect and whole request).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The largest response body read.
    #[must_use]
    pub fn max_response_len(mut self, len: usize) -> Self {
        self.max_response_len = len;
        self
    }

    /// Fetch an anti-DoS cookie (`GET {base}/handshake/cookie`) before
    /// each handshake, for nodes with `handshake.require_cookie`.
    #[must_use]
    pub fn fetch_cookie(mut self, fetch: bool) -> Self {
        self.fetch_cookie = fetch;
        self
    }

    /// The client.
    ///
    /// # Errors
    /// [`ClientError::Incomplete`] without an identity or a resolver;
    /// [`ClientError::HttpClient`] when the HTTP client cannot be built.
    pub fn build(self) -> Result<SageClient<R>, ClientError> {
        let (did, signing_key) = self.identity.ok_or(ClientError::Incomplete("identity"))?;
        let resolver = self.resolver.ok_or(ClientError::Incomplete("resolver"))?;
        let transport = Transport::new(self.timeout, self.retry, self.max_response_len)?;
        Ok(SageClient {
            inner: Arc::new(Inner {
                did,
                signing_key,
                resolver,
                transport,
                session_config: self.session_config,
                version: ProtocolVersion::V1Draft1,
                fetch_cookie: self.fetch_cookie,
                sessions: StdMutex::new(HashMap::new()),
                card_dids: StdMutex::new(HashMap::new()),
            }),
        })
    }
}

/// An async SAGE client. Cheap to clone; clones share the session cache.
pub struct SageClient<R> {
    inner: Arc<Inner<R>>,
}

impl<R> Clone for SageClient<R> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<R> fmt::Debug for SageClient<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SageClient")
            .field("did", &self.inner.did.as_str())
            .field("signing_key", &self.inner.signing_key)
            .finish_non_exhaustive()
    }
}

struct Inner<R> {
    did: Did,
    signing_key: SigningKey,
    resolver: R,
    transport: Transport,
    session_config: SessionConfig,
    version: ProtocolVersion,
    fetch_cookie: bool,
    sessions: StdMutex<HashMap<String, Slot>>,
    /// The DID each card URL named, read once per URL.
    card_dids: StdMutex<HashMap<String, Did>>,
}

/// A resolved peer and the URL its messages go to.
struct Target {
    keys: PeerKeys,
    messages_url: Url,
    base_url: Url,
}

impl Target {
    fn cache_key(&self) -> String {
        format!("{} {}", self.keys.did.as_str(), self.messages_url)
    }
}

impl SageClient<()> {
    /// A builder with the defaults: [`SessionConfig::DEFAULT`],
    /// [`RetryPolicy::DEFAULT`], a 30 s timeout, no cookie.
    pub fn builder<R: ResolvePeer>() -> SageClientBuilder<R> {
        SageClientBuilder {
            identity: None,
            resolver: None,
            session_config: SessionConfig::DEFAULT,
            retry: RetryPolicy::DEFAULT,
            timeout: Duration::from_secs(30),
            max_response_len: DEFAULT_MAX_RESPONSE_LEN,
            fetch_cookie: false,
        }
    }
}

impl<R: ResolvePeer> SageClient<R> {
    /// This client's DID.
    pub fn did(&self) -> &Did {
        &self.inner.did
    }

    /// The resolver the client was built with.
    pub fn resolver(&self) -> &R {
        &self.inner.resolver
    }

    /// Runs a new handshake with `peer` and caches its session, replacing
    /// any earlier one.
    ///
    /// # Errors
    /// Resolution errors, [`ClientError::Unavailable`],
    /// [`ClientError::HandshakeRefused`], [`ClientError::Handshake`], the
    /// response errors.
    pub async fn handshake(&self, peer: &Peer) -> Result<SessionInfo, ClientError> {
        let target = self.target(peer).await?;
        let slot = self.slot(&target);
        let mut guard = slot.lock().await;
        *guard = None;
        let cached = self.run_handshake(&target).await?;
        let info = session_info(&target, &cached);
        *guard = Some(cached);
        Ok(info)
    }

    /// Sends `payload` to `peer` as one session record under `task`, and
    /// returns the peer's answer. Runs a handshake first when there is no
    /// live session; on HTTP 401 runs one more and sends the payload as a
    /// new record.
    ///
    /// # Errors
    /// [`ClientError::InvalidTask`]; resolution errors;
    /// [`ClientError::Unavailable`] after the retries;
    /// [`ClientError::OutcomeUnknown`]; [`ClientError::Rejected`]; the
    /// handshake errors; [`ClientError::PayloadTooLarge`],
    /// [`ClientError::BadRequest`], [`ClientError::UpstreamUnavailable`],
    /// [`ClientError::UnexpectedStatus`]; the response errors.
    pub async fn send(
        &self,
        peer: &Peer,
        payload: &[u8],
        task: Option<&str>,
    ) -> Result<Reply, ClientError> {
        let labels = self.inner.version.labels();
        if let Some(task) = task
            && (task.is_empty() || task.len() > MAX_TASK_LEN || task == labels.hpke_task)
        {
            return Err(ClientError::InvalidTask);
        }
        let target = self.target(peer).await?;
        let slot = self.slot(&target);
        let mut guard = slot.lock().await;
        let mut rejected_once = false;
        // At most: a local expiry, a rejection, and the final attempt.
        for _ in 0..3 {
            let mut fresh = false;
            if let Some(cached) = guard.as_mut()
                && let Err(e) = cached.session.check_lifetime(now())
            {
                tracing::debug!(peer = %target.keys.did.as_str(), error = %e, "session expired locally");
                *guard = None;
            }
            let cached = match guard.as_mut() {
                Some(cached) => cached,
                None => {
                    fresh = true;
                    guard.insert(self.run_handshake(&target).await?)
                }
            };
            let sent_at = now();
            let record = match cached
                .session
                .encrypt(&mut UnwrapErr(SysRng), sent_at, payload)
            {
                Ok(record) => record,
                Err(SessionError::Expired(_)) => {
                    *guard = None;
                    continue;
                }
                Err(e) => return Err(ClientError::Session(e)),
            };
            let mut message = WireMessage {
                id: uuid_v4(),
                context_id: String::new(),
                task_id: task.unwrap_or_default().to_owned(),
                payload: record,
                did: self.inner.did.as_str().to_owned(),
                signature: Vec::new(),
                metadata: [("kid".to_owned(), cached.kid.clone())].into(),
                role: labels.hpke_init_role.to_owned(),
            };
            message.sign_payload(&self.inner.signing_key);
            let request = sign_post(
                &target.messages_url,
                &message,
                self.inner.did.as_str(),
                &self.inner.signing_key,
                sent_at,
            )?;
            let Delivered {
                response,
                earlier_copy_may_have_arrived,
            } = self.inner.transport.post(&request).await?;
            match response.status {
                200 => {
                    let received_at = now();
                    verify_response(&response, &request, &target.keys, received_at)?;
                    let wire = parse_response(&response)?;
                    if !wire.success || wire.message_id != message.id {
                        return Err(ClientError::ResponseMismatch);
                    }
                    let plaintext = cached
                        .session
                        .decrypt(received_at, &wire.data)
                        .map_err(ClientError::Session)?;
                    return Ok(Reply {
                        plaintext,
                        message_id: wire.message_id,
                        task_id: Some(wire.task_id).filter(|t| !t.is_empty()),
                    });
                }
                401 => {
                    verify_response(&response, &request, &target.keys, now())?;
                    if earlier_copy_may_have_arrived {
                        return Err(ClientError::OutcomeUnknown);
                    }
                    tracing::debug!(peer = %target.keys.did.as_str(), "node rejected the session; re-handshaking");
                    *guard = None;
                    if fresh || rejected_once {
                        return Err(ClientError::Rejected);
                    }
                    rejected_once = true;
                }
                status => return Err(status_error(status)),
            }
        }
        Err(ClientError::Rejected)
    }

    /// Drops the cached session with `peer`, if any (the node keeps its
    /// copy until it expires).
    ///
    /// # Errors
    /// Resolution errors.
    pub async fn forget(&self, peer: &Peer) -> Result<(), ClientError> {
        let target = self.target(peer).await?;
        let slot = self.slot(&target);
        *slot.lock().await = None;
        Ok(())
    }

    async fn target(&self, peer: &Peer) -> Result<Target, ClientError> {
        match peer {
            Peer::Did(did) => {
                let keys = self.inner.resolver.resolve_peer(did).await?;
                if keys.endpoint.is_empty() {
                    return Err(ClientError::NoEndpoint);
                }
                let base_url = parse_http_url(&keys.endpoint)?;
                Ok(Target {
                    messages_url: join(&base_url, "messages"),
                    base_url,
                    keys,
                })
            }
            Peer::Url { url, did } => {
                let base_url = parse_http_url(url)?;
                let did = match did {
                    Some(did) => did.clone(),
                    None => self.card_did(&base_url).await?,
                };
                let keys = self.inner.resolver.resolve_peer(&did).await?;
                Ok(Target {
                    messages_url: join(&base_url, "messages"),
                    base_url,
                    keys,
                })
            }
        }
    }

    /// The DID an agent card names (`id`). Only the DID is taken: its keys
    /// come from the registry.
    async fn card_did(&self, base_url: &Url) -> Result<Did, ClientError> {
        let url = join(base_url, ".well-known/agent-card.json");
        let cached = self
            .inner
            .card_dids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(url.as_str())
            .cloned();
        if let Some(did) = cached {
            return Ok(did);
        }
        let response = self.inner.transport.get(&url).await?;
        if response.status != 200 {
            return Err(ClientError::Card("not served (status other than 200)"));
        }
        let card: serde_json::Value =
            serde_json::from_slice(&response.body).map_err(|_| ClientError::Card("not JSON"))?;
        let id = card
            .get("id")
            .and_then(serde_json::Value::as_str)
            .ok_or(ClientError::Card("no \"id\" string"))?;
        let did = Did::parse(id).map_err(ClientError::InvalidDid)?;
        self.inner
            .card_dids
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(url.as_str().to_owned(), did.clone());
        Ok(did)
    }

    fn slot(&self, target: &Target) -> Slot {
        let mut sessions = self
            .inner
            .sessions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Arc::clone(sessions.entry(target.cache_key()).or_default())
    }

    async fn cookie(&self, target: &Target) -> Result<String, ClientError> {
        let response = self
            .inner
            .transport
            .get(&join(&target.base_url, "handshake/cookie"))
            .await?;
        if response.status != 200 {
            return Err(status_error(response.status));
        }
        let body: serde_json::Value =
            serde_json::from_slice(&response.body).map_err(|_| ClientError::ResponseMismatch)?;
        body.get("cookie")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or(ClientError::ResponseMismatch)
    }

    async fn run_handshake(&self, target: &Target) -> Result<CachedSession, ClientError> {
        let cookie = if self.inner.fetch_cookie {
            Some(self.cookie(target).await?)
        } else {
            None
        };
        let started_at = now();
        let (expect_ack, message) = Initiator::start(
            self.inner.version,
            InitiatorConfig {
                own_did: self.inner.did.as_str().to_owned(),
                signing_key: &self.inner.signing_key,
                peer_did: target.keys.did.as_str().to_owned(),
                peer_kem_public: target.keys.kem,
                ctx_id: format!("ctx-{}", uuid_v4()),
                session_config: self.inner.session_config,
                cookie,
            },
            &mut UnwrapErr(SysRng),
            started_at,
        )
        .map_err(ClientError::Handshake)?;
        let request = sign_post(
            &target.messages_url,
            &message,
            self.inner.did.as_str(),
            &self.inner.signing_key,
            started_at,
        )?;
        let Delivered { response, .. } = self.inner.transport.post(&request).await?;
        if response.status != 200 {
            return Err(status_error(response.status));
        }
        let received_at = now();
        verify_response(&response, &request, &target.keys, received_at)?;
        let wire = parse_response(&response)?;
        if !wire.success {
            return Err(ClientError::HandshakeRefused { reason: wire.error });
        }
        let established = expect_ack
            .handle(&wire, &target.keys.signing, received_at)
            .map_err(ClientError::Handshake)?;
        tracing::debug!(
            peer = %target.keys.did.as_str(),
            kid = %established.kid,
            "handshake complete"
        );
        Ok(CachedSession {
            session: established.session,
            kid: established.kid,
            ctx_id: established.ctx_id,
        })
    }
}

fn session_info(target: &Target, cached: &CachedSession) -> SessionInfo {
    SessionInfo {
        peer_did: target.keys.did.as_str().to_owned(),
        url: target.messages_url.to_string(),
        kid: cached.kid.clone(),
        session_id: cached.session.id().to_string(),
        ctx_id: cached.ctx_id.clone(),
    }
}

fn parse_response(response: &HttpResponse) -> Result<WireResponse, ClientError> {
    let wire = WireResponse::from_json(&response.body).map_err(ClientError::MalformedResponse)?;
    if wire.message_id.len() > MAX_ID_LEN {
        return Err(ClientError::ResponseMismatch);
    }
    Ok(wire)
}

fn status_error(status: u16) -> ClientError {
    match status {
        400 => ClientError::BadRequest,
        401 => ClientError::Rejected,
        413 => ClientError::PayloadTooLarge,
        502 => ClientError::UpstreamUnavailable,
        other => ClientError::UnexpectedStatus(other),
    }
}
