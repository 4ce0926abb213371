//! Application messages on an established session
//! (docs/PROTOCOL-PROFILE.md §3, PROTOCOL.md §5.5, §7.1, §12.1).
//!
//! Layer: node, protocol endpoints. The checks run in the profile's order,
//! cheap before costly, the first failure winning: `kid` and the RFC 9421
//! fields parse and name `did`; the session exists, is live and belongs to
//! `did`; `did` resolves to an active record with an unrevoked key; the
//! RFC 9421 signature and its nonce; the envelope signature over
//! `payload`; the record opens and its sequence is fresh, the window
//! persisted before the plaintext goes anywhere. Then delivery (receipt or
//! upstream) and the answer, sealed as one s→c record whose sequence
//! number was claimed in the store.

use sage_core::httpsig::{DEFAULT_LABEL, HttpRequest, ParsedSignature};
use sage_core::session::SessionError;
use sage_core::time::Timestamp;
use sage_core::transport::{HEADER_DID, WireMessage, WireResponse};

use super::MessageService;
use super::delivery::{Accepted, Delivery, receipt};
use super::peer::Peer;
use super::reject::{self, Answer, Rejection};
use super::sessions::{Lookup, SessionFailure};
use crate::metrics::{self, Direction};

/// The metadata key naming the session (`X-SAGE-Meta-kid`).
pub(crate) const META_KID: &str = "kid";
/// The longest task name an application message may carry.
const MAX_TASK_LEN: usize = 256;
/// The record AEAD, for the crypto metrics.
const RECORD_ALGORITHM: &str = "chacha20-poly1305";

/// Checks, opens, delivers and answers the application `message`,
/// received as `request`, at `now`.
pub(crate) async fn answer(
    service: &MessageService,
    request: &HttpRequest,
    message: &WireMessage,
    now: Timestamp,
) -> Result<WireResponse, Rejection> {
    // Step 2: what names the session and the signer.
    if message.task_id.len() > MAX_TASK_LEN {
        return Err(Rejection::auth("size.exceeded"));
    }
    let kid = message
        .metadata
        .get(META_KID)
        .filter(|kid| !kid.is_empty())
        .ok_or(Rejection::auth("sig.malformed"))?;
    let parsed = ParsedSignature::from_request(request, Some(DEFAULT_LABEL))
        .map_err(|e| Rejection::auth(e.code()))?;
    if parsed.did() != message.did
        || request.header(HEADER_DID).as_deref() != Some(message.did.as_str())
    {
        return Err(Rejection::auth("sig.binding"));
    }

    // Step 3: the session.
    let stored = match service.sessions.find(kid, now).await {
        Ok(Lookup::Live(stored)) => stored,
        Ok(Lookup::Unknown) => return Err(Rejection::auth("session.unknown")),
        Ok(Lookup::Expired) => return Err(Rejection::auth("session.expired")),
        Err(error) => {
            tracing::warn!(%error, "the session store cannot answer");
            return Err(Rejection::unavailable(reject::STORE_UNAVAILABLE));
        }
    };
    if stored.record.peer_did.as_str() != message.did {
        return Err(Rejection::auth("sig.binding"));
    }

    // Step 4: the sender.
    let peer = Peer::resolve(&service.resolver, &service.selections, &message.did).await?;

    // Step 5: the RFC 9421 signature, then its nonce.
    let options = service.verify_options(peer.did.as_str());
    peer.verify_http_signature(&parsed, &options, &service.store, now)
        .await?;

    // Step 6: the envelope signature over the payload.
    if message.verify_payload(&peer.key).is_err() {
        metrics::crypto_operation("verify", peer.algorithm(), false);
        let revoked = peer.revoked_key_passes(|key| message.verify_payload(key).is_ok());
        return Err(Rejection::auth(if revoked {
            "key.revoked"
        } else {
            "sig.bad"
        }));
    }
    metrics::crypto_operation("verify", peer.algorithm(), true);

    // Step 7: the record, persisted before the plaintext goes anywhere;
    // then delivery, and the answer sealed under a claimed sequence number.
    let accepted = Accepted {
        message_id: &message.id,
        sender: peer.did.as_str(),
        task_id: &message.task_id,
    };
    let (outbound_len, record) = match &service.delivery {
        // The receipt never leaves the node before the one write that
        // persists both the window and the claimed sequence number.
        Delivery::Receipt => {
            let (inbound_len, outbound_len, record) = service
                .sessions
                .exchange(kid, stored, &message.payload, now, |plaintext| {
                    receipt(accepted, plaintext)
                })
                .await
                .map_err(record_rejection)?;
            count_opened(inbound_len);
            (outbound_len, record)
        }
        Delivery::Upstream(gateway) => {
            let (plaintext, stored) = service
                .sessions
                .open(kid, stored, &message.payload, now)
                .await
                .map_err(record_rejection)?;
            // Counted before delivery: the record was opened even if the
            // upstream then fails.
            count_opened(plaintext.len());
            let reply = gateway
                .deliver(accepted, &plaintext)
                .await
                .map_err(|_| Rejection {
                    code: reject::UPSTREAM_UNAVAILABLE,
                    answer: Answer::UpstreamFailed,
                })?;
            drop(plaintext);
            let record = service
                .sessions
                .seal(kid, stored, &reply, now)
                .await
                .map_err(session_rejection)?;
            (reply.len(), record)
        }
    };
    metrics::crypto_operation("encrypt", RECORD_ALGORITHM, true);
    metrics::session_message_size(Direction::Outbound, outbound_len);

    Ok(WireResponse {
        success: true,
        message_id: message.id.clone(),
        task_id: message.task_id.clone(),
        data: record,
        error: String::new(),
    })
}

/// Counts a record that opened, with its plaintext's length.
fn count_opened(inbound_len: usize) {
    metrics::crypto_operation("decrypt", RECORD_ALGORITHM, true);
    metrics::session_message_size(Direction::Inbound, inbound_len);
}

/// The rejection of a record that did not open (step 7), counting a
/// failed decryption.
fn record_rejection(failure: SessionFailure) -> Rejection {
    if matches!(failure, SessionFailure::Session(SessionError::Decrypt)) {
        metrics::crypto_operation("decrypt", RECORD_ALGORITHM, false);
    }
    session_rejection(failure)
}

/// The rejection of a session failure (step 7, or sealing the answer).
fn session_rejection(failure: SessionFailure) -> Rejection {
    match failure {
        SessionFailure::Session(SessionError::Replayed) => {
            metrics::replay_detected();
            Rejection::auth("session.replay")
        }
        SessionFailure::Session(SessionError::Stale) => {
            metrics::replay_detected();
            Rejection::auth("session.window")
        }
        SessionFailure::Session(SessionError::Expired(_) | SessionError::SequenceExhausted) => {
            metrics::sessions_expired(1);
            Rejection::auth("session.expired")
        }
        SessionFailure::Session(_) => Rejection::auth("session.aead"),
        SessionFailure::Gone => Rejection::auth("session.unknown"),
        SessionFailure::Store(error) => {
            tracing::warn!(%error, "the session store cannot answer");
            Rejection::unavailable(reject::STORE_UNAVAILABLE)
        }
        SessionFailure::Contention => {
            tracing::warn!("the session row kept changing under this node");
            Rejection::unavailable(reject::STORE_UNAVAILABLE)
        }
    }
}
