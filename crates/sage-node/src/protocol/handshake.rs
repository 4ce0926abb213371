//! The responder side of the handshake on `POST /messages`
//! (docs/PROTOCOL-PROFILE.md §2, PROTOCOL.md §6.5, §6.6).
//!
//! Layer: node, protocol endpoints, around sage-core's [`Responder`]. In
//! the §6.5 order: cookie and the checks that need no key
//! ([`Responder::accept`]); the sender's DID resolved (active, key not
//! revoked); the RFC 9421 request signature when there is one (optional
//! here: the Go transport signs only the payload); the payload signature
//! ([`Responder::authenticate`]); `(ctxID, nonce)` in the shared nonce
//! store; and only then HPKE and the session ([`Responder::finish`]),
//! which is stored sealed under its `kid`.
//!
//! The answer is always HTTP 200 with a `WireResponse` (the Go
//! transport's status semantics): the signed ack, or `success: false` with
//! only the generic error (or "suite not allowed").

use std::time::Instant;

use getrandom::rand_core::UnwrapErr;
use sage_core::handshake::{HandshakeError, Responder};
use sage_core::httpsig::{DEFAULT_LABEL, HttpRequest, ParsedSignature};
use sage_core::time::Timestamp;
use sage_core::transport::{WireMessage, WireResponse};
use sage_store::NonceStore as _;

use super::MessageService;
use super::peer::{Peer, nonce_store_rejection};
use super::reject::{self, Rejection};
use crate::metrics::{self, HandshakeRole, NonceStatus};

/// The algorithm label of the HPKE open, for the crypto metrics.
const HPKE_ALGORITHM: &str = "x25519-hkdf-sha256-export";

/// A handshake's answer and, when it failed, its diagnostic code.
#[derive(Debug)]
pub(crate) struct HandshakeAnswer {
    /// What to send (always with HTTP 200).
    pub(crate) response: WireResponse,
    /// The diagnostic code of a failure.
    pub(crate) failure: Option<&'static str>,
}

/// A failed step: its code, and the core error when there is one (it
/// decides between the two texts a peer may see).
struct Failure {
    code: &'static str,
    error: Option<HandshakeError>,
}

impl From<HandshakeError> for Failure {
    fn from(error: HandshakeError) -> Self {
        Self {
            code: handshake_code(&error),
            error: Some(error),
        }
    }
}

impl From<Rejection> for Failure {
    fn from(rejection: Rejection) -> Self {
        Self {
            code: rejection.code,
            error: None,
        }
    }
}

/// Runs the responder for `message`, received as `request`, at `now`.
pub(crate) async fn answer(
    service: &MessageService,
    request: &HttpRequest,
    message: &WireMessage,
    now: Timestamp,
) -> HandshakeAnswer {
    metrics::handshake_initiated(HandshakeRole::Server);
    match run(service, request, message, now).await {
        Ok(response) => {
            metrics::handshake_completed(None);
            HandshakeAnswer {
                response,
                failure: None,
            }
        }
        Err(failure) => {
            metrics::handshake_completed(Some(failure.code));
            let responder = &service.responder;
            let response = match &failure.error {
                Some(error) => responder.failure_response(error, &message.id),
                None => HandshakeError::TransportSignature
                    .failure_response(responder.version(), &message.id),
            };
            HandshakeAnswer {
                response,
                failure: Some(failure.code),
            }
        }
    }
}

async fn run(
    service: &MessageService,
    request: &HttpRequest,
    message: &WireMessage,
    now: Timestamp,
) -> Result<WireResponse, Failure> {
    let responder: &Responder = &service.responder;

    let started = Instant::now();
    let pending = responder.accept(message, now)?;
    metrics::handshake_stage("accept", started.elapsed());

    let started = Instant::now();
    let peer = Peer::resolve(&service.resolver, &service.selections, pending.sender_did()).await?;
    metrics::handshake_stage("resolve", started.elapsed());

    let started = Instant::now();
    if carries_http_signature(request) {
        let parsed = ParsedSignature::from_request(request, Some(DEFAULT_LABEL))
            .map_err(|e| Rejection::auth(e.code()))?;
        let options = service.verify_options(peer.did.as_str());
        peer.verify_http_signature(&parsed, &options, &service.store, now)
            .await?;
    }
    let authenticated = match responder.authenticate(pending.clone(), &peer.key, now) {
        Ok(authenticated) => {
            metrics::crypto_operation("verify", peer.algorithm(), true);
            authenticated
        }
        Err(HandshakeError::TransportSignature) => {
            metrics::crypto_operation("verify", peer.algorithm(), false);
            let revoked = peer.revoked_key_passes(|key| {
                responder.authenticate(pending.clone(), key, now).is_ok()
            });
            if revoked {
                return Err(Rejection::auth("key.revoked").into());
            }
            return Err(HandshakeError::TransportSignature.into());
        }
        Err(error) => return Err(error.into()),
    };
    metrics::handshake_stage("authenticate", started.elapsed());

    let claim = authenticated.replay_claim();
    let verdict = service
        .store
        .check_and_store(&claim.scope, &claim.nonce, now, claim.keep_until)
        .await
        .map_err(nonce_store_rejection)?;

    let started = Instant::now();
    let finished = responder.finish(
        authenticated,
        verdict,
        now,
        &mut UnwrapErr(getrandom::SysRng),
    );
    match &finished {
        Ok(_) => {
            metrics::nonce_validation(NonceStatus::Valid);
            metrics::crypto_operation("hpke_open", HPKE_ALGORITHM, true);
        }
        Err(HandshakeError::ReplayedNonce) => {
            metrics::nonce_validation(NonceStatus::Invalid);
            metrics::replay_detected();
        }
        Err(_) => {
            metrics::nonce_validation(NonceStatus::Valid);
            metrics::crypto_operation("hpke_open", HPKE_ALGORITHM, false);
        }
    }
    let outcome = finished?;
    metrics::handshake_stage("finish", started.elapsed());

    let started = Instant::now();
    if let Err(error) = service
        .sessions
        .create(&outcome.session, &outcome.kid, &peer.did)
        .await
    {
        metrics::session_create_failed();
        tracing::warn!(%error, "the new session could not be stored");
        return Err(Rejection::unavailable(reject::STORE_UNAVAILABLE).into());
    }
    metrics::handshake_stage("store", started.elapsed());
    tracing::info!(peer = %peer.did, "handshake completed");
    Ok(outcome.response)
}

/// Whether the request carries RFC 9421 fields at all.
fn carries_http_signature(request: &HttpRequest) -> bool {
    request.header("signature-input").is_some() || request.header("signature").is_some()
}

/// The diagnostic code of a responder failure (§13.6 where it has one).
fn handshake_code(error: &HandshakeError) -> &'static str {
    match error {
        HandshakeError::CookieRejected => reject::HANDSHAKE_COOKIE,
        HandshakeError::SuiteNotAllowed => reject::HANDSHAKE_SUITE,
        HandshakeError::InitDidMismatch | HandshakeError::RespDidMismatch => "sig.binding",
        HandshakeError::TimestampOutsideWindow => "sig.stale",
        HandshakeError::TransportSignature => "sig.bad",
        HandshakeError::ReplayedNonce | HandshakeError::ReplayStoreUnavailable => "sig.replay",
        HandshakeError::HpkeDecapsulation | HandshakeError::AllZeroSharedSecret => {
            reject::HANDSHAKE_HPKE
        }
        _ => "sig.malformed",
    }
}
