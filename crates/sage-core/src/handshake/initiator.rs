//! The initiator's side of the \[L\] handshake (PROTOCOL.md §6.5, §6.6).
//!
//! States, each a type; every transition consumes the state:
//!
//! ```text
//! Initiator::start ──► (ExpectAck, WireMessage) ──handle(response)──► Established
//! ```
//!
//! [`ExpectAck`] holds the ephemeral X25519 secret and the HPKE exporter.
//! Both wipe themselves on drop, and `handle` consumes the state, so they
//! are gone after a success and after every failure alike. There is no
//! retry: a new attempt needs a new context id and new ephemerals (§6.5).
//! [`Established`] can only be built once the ack tag and the envelope
//! signature have been verified (it holds their proof tokens).

use core::fmt;

use rand_core::CryptoRng;
use zeroize::Zeroizing;

use super::error::HandshakeError;
use super::ids::uuid_v4;
use super::messages::{InitPayload, MAX_CTX_ID_LEN, MAX_DID_LEN, ReceivedAck};
use super::proof::{
    AckTagVerified, EnvelopeSignatureVerified, verify_ack_tag, verify_envelope_signature,
};
use super::schedule::{self, KEY_LEN, Transcript};
use crate::primitives::{SigningKey, VerifyingKey, X25519PublicKey, X25519Secret, sha256};
use crate::session::{Role, Session, SessionConfig, SessionSeed};
use crate::time::Timestamp;
use crate::transport::{MAX_METADATA_VALUE_LEN, WireMessage, WireResponse};
use crate::version::ProtocolVersion;

/// What the initiator needs to start a handshake.
pub struct InitiatorConfig<'a> {
    /// This agent's DID (`initDid`, and the transport `did`).
    pub own_did: String,
    /// This agent's signing key, registered under `own_did`; it signs the
    /// init payload.
    pub signing_key: &'a SigningKey,
    /// The responder's DID (`respDid`).
    pub peer_did: String,
    /// The responder's static X25519 KEM key, from its registry record or
    /// card (§6.2).
    pub peer_kem_public: X25519PublicKey,
    /// The context id. The caller supplies a fresh one per attempt (§6.5:
    /// a failed handshake is never retried under the same context).
    pub ctx_id: String,
    /// Configuration of the session the handshake creates.
    pub session_config: SessionConfig,
    /// The anti-DoS cookie to send in `metadata`, if the responder wants one.
    pub cookie: Option<String>,
}

impl fmt::Debug for InitiatorConfig<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InitiatorConfig")
            .field("own_did", &self.own_did)
            .field("signing_key", self.signing_key)
            .field("peer_did", &self.peer_did)
            .field("peer_kem_public", &self.peer_kem_public)
            .field("ctx_id", &self.ctx_id)
            .field("session_config", &self.session_config)
            .field("cookie", &self.cookie.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// The entry point of the initiator's state machine.
#[derive(Debug)]
pub struct Initiator;

impl Initiator {
    /// Builds and signs the init message (§6.5): encapsulates to the
    /// responder's KEM key, makes a fresh ephemeral X25519 pair, draws a
    /// UUIDv4 nonce and message id from `rng`, and signs the payload with
    /// the configured key. Returns the state that waits for the answer and
    /// the message to send (`task_id` = the handshake task, `context_id` =
    /// the context id, `role` = `user`, `metadata.cookie` when configured).
    ///
    /// # Errors
    /// [`HandshakeError::InvalidConfig`] when a DID, the context id or the
    /// cookie is empty or longer than a responder accepts;
    /// [`HandshakeError::HpkeEncapsulation`] when the responder's KEM key is
    /// of low order.
    pub fn start<R: CryptoRng + ?Sized>(
        version: ProtocolVersion,
        config: InitiatorConfig<'_>,
        rng: &mut R,
        now: Timestamp,
    ) -> Result<(ExpectAck, WireMessage), HandshakeError> {
        check_config(&config)?;
        let labels = version.labels();
        let InitiatorConfig {
            own_did,
            signing_key,
            peer_did,
            peer_kem_public,
            ctx_id,
            session_config,
            cookie,
        } = config;

        let info = schedule::info(labels, &ctx_id, &own_did, &peer_did);
        let export_ctx = schedule::export_context(labels, &ctx_id);
        let (enc, exporter) = schedule::hpke_seal_export(
            rng,
            &peer_kem_public,
            info.as_bytes(),
            export_ctx.as_bytes(),
        )?;
        let eph_c = X25519Secret::generate(rng);
        let eph_c_public = eph_c.public_key().to_bytes();
        let nonce = uuid_v4(rng);
        let request_id = uuid_v4(rng);

        let payload = InitPayload {
            init_did: own_did.clone(),
            resp_did: peer_did.clone(),
            info: info.clone(),
            export_ctx: export_ctx.clone(),
            nonce: nonce.clone(),
            ts: now,
            enc,
            eph_c: eph_c_public,
        };
        let mut message = WireMessage {
            id: request_id.clone(),
            context_id: ctx_id.clone(),
            task_id: labels.hpke_task.to_owned(),
            payload: payload.to_json(),
            did: own_did.clone(),
            signature: Vec::new(),
            metadata: cookie
                .into_iter()
                .map(|cookie| (labels.hpke_cookie_key.to_owned(), cookie))
                .collect(),
            role: labels.hpke_init_role.to_owned(),
        };
        message.sign_payload(signing_key);

        let state = ExpectAck {
            version,
            own_did,
            peer_did,
            ctx_id,
            request_id,
            nonce,
            info,
            export_ctx,
            enc,
            eph_c,
            eph_c_public,
            exporter,
            session_config,
        };
        Ok((state, message))
    }
}

/// Refuses a configuration whose strings a responder would reject, so the
/// failure is local and named rather than a generic one from the peer.
fn check_config(config: &InitiatorConfig<'_>) -> Result<(), HandshakeError> {
    let bounded = |s: &str, max: usize| !s.is_empty() && s.len() <= max;
    if !bounded(&config.own_did, MAX_DID_LEN) {
        return Err(HandshakeError::InvalidConfig("own_did"));
    }
    if !bounded(&config.peer_did, MAX_DID_LEN) {
        return Err(HandshakeError::InvalidConfig("peer_did"));
    }
    if !bounded(&config.ctx_id, MAX_CTX_ID_LEN) {
        return Err(HandshakeError::InvalidConfig("ctx_id"));
    }
    if config
        .cookie
        .as_ref()
        .is_some_and(|cookie| cookie.len() > MAX_METADATA_VALUE_LEN)
    {
        return Err(HandshakeError::InvalidConfig("cookie"));
    }
    Ok(())
}

/// The initiator after sending the init message: waits for the
/// responder's `WireResponse`. Holds the ephemeral secret and the HPKE
/// exporter, both wiped on drop; `Debug` shows neither.
pub struct ExpectAck {
    version: ProtocolVersion,
    own_did: String,
    peer_did: String,
    ctx_id: String,
    request_id: String,
    nonce: String,
    info: String,
    export_ctx: String,
    enc: [u8; KEY_LEN],
    eph_c: X25519Secret,
    eph_c_public: [u8; KEY_LEN],
    exporter: Zeroizing<[u8; KEY_LEN]>,
    session_config: SessionConfig,
}

impl ExpectAck {
    /// The context id of this attempt.
    pub fn ctx_id(&self) -> &str {
        &self.ctx_id
    }

    /// The id of the init message, which the response must answer.
    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    /// The responder's DID.
    pub fn peer_did(&self) -> &str {
        &self.peer_did
    }

    /// Checks the responder's answer (§6.5, initiator side) and, only if
    /// every check passes, creates the session (§6.6, [`Role::Initiator`]).
    /// The checks, in order: `success`; the response answers this message;
    /// the envelope parses (sizes first); `v`; `task`; `ctx`; `did` is the
    /// expected responder; the `enc` and `ephC` echoes; `infoHash` and
    /// `exportCtxHash`; the ephemeral DH is not all zeros; the ack tag
    /// (constant time) over the recomputed seed; `sigB64` over JCS of the
    /// envelope under `responder_key`, the key the caller resolved for the
    /// responder's DID.
    ///
    /// The state is consumed: on success and on failure alike the
    /// ephemeral secret and the exporter are wiped.
    ///
    /// # Errors
    /// [`HandshakeError::PeerRejected`], [`HandshakeError::ResponseIdMismatch`],
    /// [`HandshakeError::MalformedAck`], [`HandshakeError::EnvelopeVersion`],
    /// [`HandshakeError::EnvelopeTask`], [`HandshakeError::EnvelopeContext`],
    /// [`HandshakeError::ResponderDidMismatch`],
    /// [`HandshakeError::EncEchoMismatch`], [`HandshakeError::EphCEchoMismatch`],
    /// [`HandshakeError::InfoHashMismatch`],
    /// [`HandshakeError::ExportContextHashMismatch`],
    /// [`HandshakeError::AllZeroSharedSecret`], [`HandshakeError::AckTagMismatch`]
    /// or [`HandshakeError::EnvelopeSignature`].
    pub fn handle(
        self,
        response: &WireResponse,
        responder_key: &VerifyingKey,
        now: Timestamp,
    ) -> Result<Established, HandshakeError> {
        let labels = self.version.labels();
        if !response.success {
            return Err(HandshakeError::PeerRejected);
        }
        // The Go responder answers with the request's id (§12.1); a response
        // to another message is not this handshake's answer (R-18).
        if response.message_id != self.request_id {
            return Err(HandshakeError::ResponseIdMismatch);
        }
        let ack = ReceivedAck::parse(&response.data).map_err(HandshakeError::MalformedAck)?;
        let envelope = &ack.envelope;
        if envelope.v != labels.hpke_envelope_version {
            return Err(HandshakeError::EnvelopeVersion);
        }
        if envelope.task != labels.hpke_task {
            return Err(HandshakeError::EnvelopeTask);
        }
        if envelope.ctx != self.ctx_id {
            return Err(HandshakeError::EnvelopeContext);
        }
        if envelope.did != self.peer_did {
            return Err(HandshakeError::ResponderDidMismatch);
        }
        if envelope.enc != self.enc {
            return Err(HandshakeError::EncEchoMismatch);
        }
        if envelope.eph_c != self.eph_c_public {
            return Err(HandshakeError::EphCEchoMismatch);
        }
        if envelope.info_hash != sha256(self.info.as_bytes()) {
            return Err(HandshakeError::InfoHashMismatch);
        }
        if envelope.export_ctx_hash != sha256(self.export_ctx.as_bytes()) {
            return Err(HandshakeError::ExportContextHashMismatch);
        }

        let ss_e2e = self
            .eph_c
            .diffie_hellman(&X25519PublicKey::from_bytes(envelope.eph_s))
            .map_err(|_| HandshakeError::AllZeroSharedSecret)?;
        let seed = schedule::combine(labels, self.export_ctx.as_bytes(), &self.exporter, &ss_e2e);
        let transcript = Transcript {
            info: self.info.as_bytes(),
            export_ctx: self.export_ctx.as_bytes(),
            enc: &self.enc,
            eph_c: &self.eph_c_public,
            eph_s: &envelope.eph_s,
            init_did: &self.own_did,
            resp_did: &self.peer_did,
        };
        let expected_tag = schedule::ack_tag(
            labels,
            &seed,
            &self.ctx_id,
            &self.nonce,
            &envelope.kid,
            &transcript,
        );
        let ack_tag = verify_ack_tag(&expected_tag, &envelope.ack_tag)?;
        let envelope_signature = verify_envelope_signature(&ack, responder_key)?;

        let session = Session::from_handshake_seed(
            self.version,
            Role::Initiator,
            SessionSeed::from_bytes(*seed),
            self.session_config,
            now,
        );
        Ok(Established {
            session,
            kid: ack.envelope.kid,
            peer_did: self.peer_did,
            ctx_id: self.ctx_id,
            _proof: InitiatorProof {
                _ack_tag: ack_tag,
                _envelope_signature: envelope_signature,
            },
        })
    }
}

#[cfg(test)]
impl ExpectAck {
    /// The ephemeral secret, for tests that check it never shows.
    pub(crate) fn eph_c_for_tests(&self) -> &X25519Secret {
        &self.eph_c
    }
}

impl fmt::Debug for ExpectAck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExpectAck")
            .field("version", &self.version)
            .field("own_did", &self.own_did)
            .field("peer_did", &self.peer_did)
            .field("ctx_id", &self.ctx_id)
            .field("request_id", &self.request_id)
            .finish_non_exhaustive()
    }
}

/// The checks `Established` cannot exist without.
#[derive(Debug)]
struct InitiatorProof {
    _ack_tag: AckTagVerified,
    _envelope_signature: EnvelopeSignatureVerified,
}

/// The initiator after a successful handshake: the session and the names
/// it goes by. Only [`ExpectAck::handle`] builds one.
#[derive(Debug)]
pub struct Established {
    /// The session (§6.6), on the initiator's side (sends `c2s`).
    pub session: Session,
    /// The session key id the responder issued; the Go core finds the
    /// session through it (`kid → sid`).
    pub kid: String,
    /// The responder's DID.
    pub peer_did: String,
    /// The context id of the handshake.
    pub ctx_id: String,
    _proof: InitiatorProof,
}
