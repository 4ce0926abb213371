//! Application messages on an established session
//! (docs/PROTOCOL-PROFILE.md §3, PROTOCOL.md §5.5, §7.1, §12.1).
//!
//! Layer: node, protocol endpoints. The checks run in the profile's order,
//! cheap before costly, the first failure winning: `kid` and the RFC 9421
//! fields parse and name `did`; the session exists, is live and belongs to
//! `did`; `did` resolves to an active record with an unrevoked key; the
//! RFC 9421 signature; the envelope signature over `payload`; the record
//! opens and its sequence is fresh, the window persisted before the
//! plaintext goes anywhere, in one write with the signature's nonce (a
//! nonce seen before fails that write). Then delivery (receipt or
//! upstream) and the answer, sealed as one s→c record whose sequence
//! number was claimed in the store.

use sage_core::httpsig::{DEFAULT_LABEL, HttpRequest, ParsedSignature, UnrecordedSignature};
use sage_core::replay::ReplayVerdict;
use sage_core::session::SessionError;
use sage_core::time::Timestamp;
use sage_core::transport::{HEADER_DID, WireMessage, WireResponse};
use sage_store::{NonceClaim, NonceStore as _, StoreError};

use super::MessageService;
use super::delivery::{Accepted, Delivery, receipt};
use super::peer::{Peer, nonce_store_rejection, nonce_verdict};
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

    // Step 5: the RFC 9421 signature. Its nonce is decided at step 7, in
    // the write that accepts the record: one commit per record, and a
    // request refused after this point has claimed nothing.
    let options = service.verify_options(peer.did.as_str());
    let signature = peer.verify_http_signature_unrecorded(&parsed, &options, now)?;
    let nonce = signature
        .nonce_claim()
        .map(|(scope, nonce, expires_at)| NonceClaim {
            scope,
            nonce,
            now,
            expires_at,
        });

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
            let exchanged = service
                .sessions
                .exchange(kid, stored, &message.payload, nonce, now, |plaintext| {
                    receipt(accepted, plaintext)
                })
                .await;
            let (inbound_len, outbound_len, record) =
                settle_nonce(service, signature, exchanged, now).await?;
            count_opened(inbound_len);
            (outbound_len, record)
        }
        Delivery::Upstream(gateway) => {
            let opened = service
                .sessions
                .open(kid, stored, &message.payload, nonce, now)
                .await;
            let (plaintext, stored) = settle_nonce(service, signature, opened, now).await?;
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

/// Closes the RFC 9421 signature's proof with what the write that accepted
/// (or refused) the record decided about its nonce, so that the nonce is
/// counted, and a replay reported as `sig.replay`, as for a nonce checked
/// on its own (profile step 5). A record refused as a replay before any
/// write is a replayed request when its nonce is remembered (one read, on
/// this path only), and a replayed record under a new signature otherwise.
async fn settle_nonce<T>(
    service: &MessageService,
    signature: UnrecordedSignature,
    written: Result<T, SessionFailure>,
    now: Timestamp,
) -> Result<T, Rejection> {
    match written {
        Ok(value) => {
            nonce_verdict(signature, ReplayVerdict::Fresh)?;
            Ok(value)
        }
        Err(SessionFailure::NonceReplayed) => {
            nonce_verdict(signature, ReplayVerdict::Replayed)?;
            // Not reached: only a signature with a nonce makes a claim, and
            // a replayed verdict fails it.
            Err(Rejection::auth("sig.replay"))
        }
        Err(failure @ SessionFailure::Session(SessionError::Replayed | SessionError::Stale)) => {
            let remembered = match signature.nonce_claim() {
                Some((scope, nonce, _)) => service
                    .store
                    .is_remembered(scope, nonce, now)
                    .await
                    .unwrap_or_else(|error| {
                        tracing::debug!(%error, "the nonce store cannot answer; reporting the record replay");
                        false
                    }),
                None => false,
            };
            if remembered {
                nonce_verdict(signature, ReplayVerdict::Replayed)?;
            }
            Err(record_rejection(failure))
        }
        Err(failure) => Err(record_rejection(failure)),
    }
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
        SessionFailure::NonceReplayed => {
            metrics::replay_detected();
            Rejection::auth("sig.replay")
        }
        // A nonce too long for the store is the sender's fault.
        SessionFailure::Store(error @ StoreError::TooLong { .. }) => nonce_store_rejection(error),
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
