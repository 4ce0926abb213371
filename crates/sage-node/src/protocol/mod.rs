//! The agent-facing protocol endpoints: `POST /messages` (handshakes and
//! application records) and `GET /handshake/cookie`
//! (docs/PROTOCOL-PROFILE.md; PROTOCOL.md §5, §6.5, §7.1, §12.1).
//!
//! Layer: node, HTTP in front of sage-core. [`MessageService`] reads the
//! body (at most `server.body_limit`: 413 past it), parses the
//! `WireMessage` strictly and checks its mirror headers (400 otherwise),
//! then hands it to the handshake responder (`task_id =
//! hpke/complete@v1`) or to the data plane. Every answer is a
//! `WireResponse` signed by the node (RFC 9421 `sig1`, `Content-Digest`,
//! `X-SAGE-DID`). The protocol decisions are sage-core's; this module adds
//! the order of the checks, I/O (database, registry, upstream) and policy.
//!
//! What a peer learns: only "authentication failed" (or the other
//! fixed texts of `reject::Answer`); the diagnostic code goes to the log
//! and to `sage_messages_rejected_total{code}`.
//!
//! | module | job |
//! |---|---|
//! | `endpoints` | routes and their OpenAPI description |
//! | `handshake` | the responder, in §6.5 order |
//! | `data` | application messages, in the profile's §3 order |
//! | `peer` | DID resolution, key selection, RFC 9421 verification and nonces |
//! | `sessions` | sessions by `kid`, opened and sealed with optimistic concurrency |
//! | `delivery` | receipt, or the upstream in gateway mode |
//! | `httpsig` | the sage-core request from axum's, signed answers |
//! | `cookie` | the optional anti-DoS cookie |
//! | `reject` | diagnostic codes, logs, metrics, generic answers |

mod cookie;
mod data;
mod delivery;
mod endpoints;
mod handshake;
mod httpsig;
mod peer;
mod reject;
mod selection;
mod sessions;

#[cfg(test)]
mod tests;

pub use self::endpoints::{HandshakeCookie, WireMessageDoc, WireResponseDoc, openapi, routes};

use core::fmt;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::response::Response;
use bytes::Bytes;
use http::request::Parts;
use http::{StatusCode, Uri};
use http_body_util::{BodyExt as _, LengthLimitError, Limited};
use sage_config::SageConfig;
use sage_core::handshake::{HandshakeError, Responder, ResponderConfig};
use sage_core::httpsig::{ComponentId, HttpRequest, MAX_BODY_LEN, VerifyOptions};
use sage_core::primitives::KeyError;
use sage_core::time::Timestamp;
use sage_core::transport::{TransportError, WireMessage, WireResponse};
use sage_core::version::ProtocolVersion;
use sage_store::{Clock, Sessions, Store};

use self::cookie::CookieJar;
use self::delivery::Delivery;
use self::reject::{Answer, Rejection};
use self::selection::KeySelections;
use self::sessions::SessionManager;
use crate::identity::NodeIdentity;
use crate::metrics::{self, MessageKind};
use crate::registry::NodeResolver;

/// Everything the protocol endpoints need from the rest of the node.
pub struct ProtocolDeps {
    /// The protocol profile spoken.
    pub version: ProtocolVersion,
    /// The node's DID and keys.
    pub identity: Arc<NodeIdentity>,
    /// The store: its nonce table is the shared replay memory.
    pub store: Store,
    /// The sessions, sealed at rest.
    pub sessions: Sessions,
    /// The shared caching resolver.
    pub resolver: Arc<NodeResolver>,
    /// The configuration: `server.body_limit`, `server.request_timeout`,
    /// `session.*`, `handshake.*`, `rfc9421.*`.
    pub config: Arc<SageConfig>,
    /// Scheme and authority clients reach the node at (the node rebuilds
    /// `@target-uri` from it); `None`: `http://{Host}`.
    pub public_url: Option<Uri>,
    /// Gateway mode: where accepted payloads are POSTed.
    pub upstream: Option<Uri>,
    /// The node's clock.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for ProtocolDeps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProtocolDeps")
            .field("version", &self.version)
            .field("identity", &self.identity)
            .field("public_url", &self.public_url)
            .field("upstream", &self.upstream)
            .finish_non_exhaustive()
    }
}

/// Why the protocol endpoints cannot be built from their dependencies.
#[derive(Debug)]
#[non_exhaustive]
pub enum ProtocolSetupError {
    /// `server.body_limit` is zero or above the 16 MiB the RFC 9530 digest
    /// is computed for (PROTOCOL.md §5.5).
    BodyLimit(u64),
    /// An `rfc9421.required_components` entry is not a request component.
    RequiredComponent(String),
    /// `handshake.allowed_suites` leaves out the profile's only suite, so
    /// no handshake could ever succeed.
    NoAllowedSuite,
    /// The identity's signing key could not be copied for the responder.
    Identity(KeyError),
    /// The responder refused its configuration (the DID).
    Responder(HandshakeError),
    /// `public_url` has no scheme or no authority.
    PublicUrl,
    /// The upstream is not an absolute `http://` URL (the gateway client
    /// speaks plain HTTP/1.1).
    Upstream,
}

impl fmt::Display for ProtocolSetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BodyLimit(limit) => write!(
                f,
                "server.body_limit must be between 1 byte and {MAX_BODY_LEN} bytes, not {limit}"
            ),
            Self::RequiredComponent(name) => write!(
                f,
                "rfc9421.required_components: {name:?} is not a request component"
            ),
            Self::NoAllowedSuite => {
                f.write_str("handshake.allowed_suites does not contain the profile's HPKE suite")
            }
            Self::Identity(e) => write!(f, "the node's signing key cannot be used: {e}"),
            Self::Responder(e) => write!(f, "the handshake responder refused its setup: {e}"),
            Self::PublicUrl => f.write_str("the public URL needs a scheme and an authority"),
            Self::Upstream => f.write_str("the upstream must be an absolute http:// URL"),
        }
    }
}

impl std::error::Error for ProtocolSetupError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Identity(e) => Some(e),
            Self::Responder(e) => Some(e),
            _ => None,
        }
    }
}

/// The protocol endpoints of one node.
pub struct MessageService {
    version: ProtocolVersion,
    identity: Arc<NodeIdentity>,
    store: Store,
    sessions: SessionManager,
    resolver: Arc<NodeResolver>,
    selections: KeySelections,
    responder: Responder,
    cookies: Arc<CookieJar>,
    required_components: Vec<ComponentId>,
    config: Arc<SageConfig>,
    body_limit: usize,
    public_url: Option<Uri>,
    delivery: Delivery,
    clock: Arc<dyn Clock>,
}

impl fmt::Debug for MessageService {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageService")
            .field("version", &self.version)
            .field("did", &self.identity.did().as_str())
            .field("body_limit", &self.body_limit)
            .field("public_url", &self.public_url)
            .field("delivery", &self.delivery)
            .finish_non_exhaustive()
    }
}

impl MessageService {
    /// The endpoints for `deps`.
    ///
    /// # Errors
    /// [`ProtocolSetupError`] for a body limit out of range, an unknown
    /// required component, no allowed suite, an unusable identity, or a
    /// public or upstream URL without scheme and authority.
    pub fn new(deps: ProtocolDeps) -> Result<Self, ProtocolSetupError> {
        let ProtocolDeps {
            version,
            identity,
            store,
            sessions,
            resolver,
            config,
            public_url,
            upstream,
            clock,
        } = deps;
        let limit = config.server.body_limit.0;
        let body_limit = usize::try_from(limit)
            .ok()
            .filter(|l| (1..=MAX_BODY_LEN).contains(l))
            .ok_or(ProtocolSetupError::BodyLimit(limit))?;
        let required_components = httpsig::required_components(&config)?;
        let labels = version.labels();
        if !config
            .handshake
            .allowed_suites
            .iter()
            .any(|suite| suite == labels.hpke_suite)
        {
            return Err(ProtocolSetupError::NoAllowedSuite);
        }
        if public_url
            .as_ref()
            .is_some_and(|url| url.scheme().is_none() || url.authority().is_none())
        {
            return Err(ProtocolSetupError::PublicUrl);
        }
        if upstream
            .as_ref()
            .is_some_and(|url| url.scheme_str() != Some("http") || url.authority().is_none())
        {
            return Err(ProtocolSetupError::Upstream);
        }

        let cookies = Arc::new(CookieJar::for_identity(&identity));
        let mut responder_config = ResponderConfig::new(
            identity.did().as_str().to_owned(),
            identity
                .signing_key_copy()
                .map_err(ProtocolSetupError::Identity)?,
            identity.kem_secret_copy(),
        );
        responder_config.session_config = config.session.to_core();
        responder_config.clock_skew = config.handshake.clock_skew;
        responder_config.nonce_ttl = config.handshake.nonce_ttl;
        if config.handshake.require_cookie {
            let jar = Arc::clone(&cookies);
            let clock = Arc::clone(&clock);
            responder_config.cookie_policy = Some(Box::new(move |cookie: &str| {
                jar.accepts(cookie, clock.now())
            }));
        }
        let responder =
            Responder::new(version, responder_config).map_err(ProtocolSetupError::Responder)?;
        let delivery = Delivery::new(upstream, config.server.request_timeout, body_limit);

        Ok(Self {
            version,
            identity,
            store,
            sessions: SessionManager::new(sessions),
            resolver,
            selections: KeySelections::new(version),
            responder,
            cookies,
            required_components,
            config,
            body_limit,
            public_url,
            delivery,
            clock,
        })
    }

    /// The options request signatures from `did` are verified with.
    fn verify_options(&self, did: &str) -> VerifyOptions {
        httpsig::verify_options(
            &self.config,
            &self.required_components,
            self.body_limit,
            did,
        )
    }

    /// `POST /messages`.
    async fn handle_message(&self, request: Request) -> Response {
        let started = Instant::now();
        let now = self.clock.now();
        let (parts, body) = request.into_parts();
        let inbound = httpsig::inbound_request(&parts, self.public_url.as_ref());

        let body = match self.read_body(&parts, body).await {
            Ok(body) => body,
            Err(rejection) => {
                return self.refuse(
                    rejection,
                    MessageKind::Data,
                    inbound.as_ref(),
                    "",
                    0,
                    started,
                    now,
                );
            }
        };
        let body_len = body.len();
        let Some(mut inbound) = inbound else {
            let rejection = Rejection::malformed("sig.malformed");
            return self.refuse(
                rejection,
                MessageKind::Data,
                None,
                "",
                body_len,
                started,
                now,
            );
        };
        inbound.body = body.to_vec();
        let message = match parse_message(&parts, &inbound.body, self.body_limit) {
            Ok(message) => message,
            Err(rejection) => {
                return self.refuse(
                    rejection,
                    MessageKind::Data,
                    Some(&inbound),
                    "",
                    body_len,
                    started,
                    now,
                );
            }
        };

        if message.task_id == self.version.labels().hpke_task {
            let answer = handshake::answer(self, &inbound, &message, now).await;
            if let Some(code) = answer.failure {
                tracing::info!(code, kind = "handshake", status = 200, "message refused");
            }
            metrics::message_processed(
                MessageKind::Handshake,
                body_len,
                started.elapsed(),
                answer.failure,
            );
            return httpsig::signed_response(
                &self.identity,
                Some(&inbound),
                StatusCode::OK,
                answer.response.to_json(),
                now,
            );
        }
        match data::answer(self, &inbound, &message, now).await {
            Ok(response) => {
                metrics::message_processed(MessageKind::Data, body_len, started.elapsed(), None);
                httpsig::signed_response(
                    &self.identity,
                    Some(&inbound),
                    StatusCode::OK,
                    response.to_json(),
                    now,
                )
            }
            Err(rejection) => self.refuse(
                rejection,
                MessageKind::Data,
                Some(&inbound),
                &message.id,
                body_len,
                started,
                now,
            ),
        }
    }

    /// The body, or 413 past the limit (announced or actual).
    async fn read_body(&self, parts: &Parts, body: Body) -> Result<Bytes, Rejection> {
        let too_large = Rejection {
            code: "size.exceeded",
            answer: Answer::TooLarge,
        };
        let announced = parts
            .headers
            .get(http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if announced.is_some_and(|len| len > self.body_limit as u64) {
            return Err(too_large);
        }
        match Limited::new(body, self.body_limit).collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => Err(too_large),
            Err(_) => Err(Rejection::malformed("sig.malformed")),
        }
    }

    /// Logs and counts `rejection`, and answers it.
    #[allow(clippy::too_many_arguments)] // one call shape, private
    fn refuse(
        &self,
        rejection: Rejection,
        kind: MessageKind,
        request: Option<&HttpRequest>,
        message_id: &str,
        body_len: usize,
        started: Instant,
        now: Timestamp,
    ) -> Response {
        rejection.report(kind, body_len, started.elapsed());
        let answer = WireResponse {
            success: false,
            message_id: message_id.to_owned(),
            task_id: String::new(),
            data: Vec::new(),
            error: rejection
                .answer
                .peer_text(self.version.labels().hpke_generic_error)
                .to_owned(),
        };
        httpsig::signed_response(
            &self.identity,
            request,
            rejection.answer.status(),
            answer.to_json(),
            now,
        )
    }

    /// `GET /handshake/cookie`.
    fn handle_cookie(&self, parts: &Parts) -> Response {
        let now = self.clock.now();
        let (cookie, expires_at) = self.cookies.issue(now);
        let body = serde_json::json!({
            "cookie": cookie,
            "expires_at": expires_at.to_rfc3339(),
        });
        let request = httpsig::inbound_request(parts, self.public_url.as_ref());
        httpsig::signed_response(
            &self.identity,
            request.as_ref(),
            StatusCode::OK,
            body.to_string().into_bytes(),
            now,
        )
    }
}

/// The strict `WireMessage` of `body`, its mirror headers checked.
fn parse_message(parts: &Parts, body: &[u8], limit: usize) -> Result<WireMessage, Rejection> {
    let message = WireMessage::from_json_with_limit(body, limit).map_err(|error| match error {
        TransportError::TooLarge { .. } => Rejection {
            code: "size.exceeded",
            answer: Answer::TooLarge,
        },
        _ => Rejection::malformed("sig.malformed"),
    })?;
    // Non-ASCII bytes in a mirror header make it disagree with the body
    // rather than vanish.
    let headers = parts
        .headers
        .iter()
        .map(|(name, value)| (name.as_str(), String::from_utf8_lossy(value.as_bytes())));
    message
        .check_headers(headers)
        .map_err(|_| Rejection::malformed("sig.malformed"))?;
    Ok(message)
}
