//! The responder's side of the \[L\] handshake (PROTOCOL.md §6.5, §6.6).
//!
//! Two steps, so that nothing costly happens for a message that fails a
//! cheap check (R-36), and so that the caller can resolve the sender's DID
//! in between:
//!
//! ```text
//! accept(message) ──► PendingInit ──(caller resolves sender_did() to a key)──► complete ──► ResponderOutcome
//! ```
//!
//! [`Responder::accept`] does no cryptography: task id, cookie (§6.5
//! step 1, before any DID resolution as the spec orders; the Go core checks
//! it after verifying the sender, open item O-6), the shape and sizes of
//! envelope and payload, and the stateless step-3 checks (`initDid` is the
//! signer, `respDid` is us, `ts` in the window, `info`/`exportCtx`
//! recomputed, suite allowed). Doing these before the transport signature
//! is verified changes nothing for the peer, which gets the same generic
//! answer either way, and spares a registry lookup for junk.
//!
//! [`Responder::complete`] does the rest in spec order: the transport
//! signature under the resolved key (step 2); the replay check of
//! `(ctxID, nonce)`, which must only ever record authenticated nonces, and
//! a second look at `ts` since resolution takes time (step 3); HPKE,
//! ephemeral DH, seed, session, `kid`, ack tag and the signed envelope
//! (step 4). Every failure maps to one generic answer through
//! [`Responder::failure_response`].

use core::fmt;
use core::time::Duration;

use rand_core::CryptoRng;

use super::error::{HandshakeError, MessageError};
use super::ids::uuid_v4;
use super::messages::{AckEnvelope, InitPayload, MAX_CTX_ID_LEN, MAX_DID_LEN, MAX_SIGNATURE_LEN};
use super::proof::{TransportSignatureVerified, verify_transport_signature};
use super::schedule::{self, Transcript};
use crate::primitives::{SigningKey, VerifyingKey, X25519PublicKey, X25519Secret, sha256};
use crate::replay::{ReplayStore, ReplayVerdict};
use crate::session::{Role, Session, SessionConfig, SessionSeed};
use crate::time::Timestamp;
use crate::transport::{MAX_ID_LEN, WireMessage, WireResponse};
use crate::version::ProtocolVersion;

/// Prefix of the replay-store scope of handshake nonces: `hpke:<ctxID>`.
/// Local to this node's store, never on the wire.
const REPLAY_SCOPE_PREFIX: &str = "hpke:";

/// Decides whether an anti-DoS cookie is acceptable. Any
/// `Fn(&str) -> bool` is one.
pub trait CookiePolicy {
    /// `true` when `cookie` (the value of `metadata.cookie`) is acceptable.
    fn accept(&self, cookie: &str) -> bool;
}

impl<F: Fn(&str) -> bool> CookiePolicy for F {
    fn accept(&self, cookie: &str) -> bool {
        self(cookie)
    }
}

/// What a responder needs: its identity and keys, and its local policy.
pub struct ResponderConfig {
    /// This agent's DID (`respDid`, and the envelope's `did`).
    pub own_did: String,
    /// This agent's signing key, registered under `own_did`; it signs the
    /// ack envelope (algorithm of its type, §3.2).
    pub signing_key: SigningKey,
    /// The static X25519 KEM secret whose public key is published in the
    /// registry record (§6.2).
    pub kem_secret: X25519Secret,
    /// Configuration of the sessions the handshake creates.
    pub session_config: SessionConfig,
    /// Largest allowed `|ts − now|` (§6.5: 2 minutes).
    pub clock_skew: Duration,
    /// How long an init nonce is remembered per context (§6.5: 10 minutes).
    /// A nonce is in any case kept until its `ts` leaves the window, so a
    /// short value cannot open a replay gap.
    pub nonce_ttl: Duration,
    /// When set, init messages must carry `metadata.cookie` and the policy
    /// must accept it.
    pub cookie_policy: Option<Box<dyn CookiePolicy + Send + Sync>>,
}

impl ResponderConfig {
    /// The §6.5 clock skew: 120 s.
    pub const DEFAULT_CLOCK_SKEW: Duration = Duration::from_secs(120);
    /// The §6.5 nonce lifetime: 10 minutes.
    pub const DEFAULT_NONCE_TTL: Duration = Duration::from_secs(600);

    /// A configuration with the §6.5 defaults, the default session
    /// configuration and no cookie policy.
    pub fn new(own_did: String, signing_key: SigningKey, kem_secret: X25519Secret) -> Self {
        Self {
            own_did,
            signing_key,
            kem_secret,
            session_config: SessionConfig::DEFAULT,
            clock_skew: Self::DEFAULT_CLOCK_SKEW,
            nonce_ttl: Self::DEFAULT_NONCE_TTL,
            cookie_policy: None,
        }
    }
}

impl fmt::Debug for ResponderConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponderConfig")
            .field("own_did", &self.own_did)
            .field("signing_key", &self.signing_key)
            .field("kem_secret", &self.kem_secret)
            .field("session_config", &self.session_config)
            .field("clock_skew", &self.clock_skew)
            .field("nonce_ttl", &self.nonce_ttl)
            .field(
                "cookie_policy",
                &self.cookie_policy.as_ref().map(|_| "<set>"),
            )
            .finish()
    }
}

/// A responder: long-lived, shared by every handshake it answers. It keeps
/// no per-handshake state; replay memory is the caller's [`ReplayStore`].
#[derive(Debug)]
pub struct Responder {
    version: ProtocolVersion,
    config: ResponderConfig,
}

/// An init message that passed every check that needs no key. Only
/// [`Responder::accept`] builds one; hand it to [`Responder::complete`]
/// with the key of [`PendingInit::sender_did`].
#[derive(Debug, Clone)]
pub struct PendingInit {
    message: WireMessage,
    init: InitPayload,
}

impl PendingInit {
    /// The DID to resolve: the transport `did`, equal to `initDid`.
    pub fn sender_did(&self) -> &str {
        &self.message.did
    }

    /// The id of the init message (answer failures with it).
    pub fn request_id(&self) -> &str {
        &self.message.id
    }

    /// The context id.
    pub fn ctx_id(&self) -> &str {
        &self.message.context_id
    }
}

/// A completed handshake on the responder's side. Only
/// [`Responder::complete`] builds one.
#[derive(Debug)]
pub struct ResponderOutcome {
    /// The session (§6.6), on the responder's side (sends `s2c`).
    pub session: Session,
    /// The session key id issued to the initiator (`kid-<uuid>`); bind it
    /// to the session (`kid → sid`) to find the session again.
    pub kid: String,
    /// The initiator's DID, authenticated by the transport signature.
    pub peer_did: String,
    /// The context id of the handshake.
    pub ctx_id: String,
    /// The answer to send: `success`, the signed ack envelope in `data`,
    /// the request's id and the handshake task.
    pub response: WireResponse,
    _proof: TransportSignatureVerified,
}

/// An init message whose transport signature verified and whose clock
/// and `respDid` still hold. Only [`Responder::authenticate`] builds one;
/// record its [`replay_claim`](Self::replay_claim), then hand it to
/// [`Responder::finish`].
#[derive(Debug)]
pub struct AuthenticatedInit {
    message: WireMessage,
    init: InitPayload,
    claim: ReplayClaim,
    proof: TransportSignatureVerified,
}

impl AuthenticatedInit {
    /// The nonce to check and record in the replay store.
    pub fn replay_claim(&self) -> &ReplayClaim {
        &self.claim
    }

    /// The authenticated initiator DID.
    pub fn sender_did(&self) -> &str {
        &self.message.did
    }

    /// The id of the init message (answer failures with it).
    pub fn request_id(&self) -> &str {
        &self.message.id
    }
}

/// What the responder's replay memory must check and record for one init
/// message (§6.5: the nonce, per context, for 10 minutes). Pass the fields
/// to [`ReplayStore::check_and_store`] or its asynchronous equivalent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplayClaim {
    /// `hpke:<ctxID>`: local to this node's store, never on the wire.
    pub scope: String,
    /// The init payload's nonce.
    pub nonce: String,
    /// When the store may forget the nonce.
    pub keep_until: Timestamp,
}

impl Responder {
    /// A responder for `version` with `config`.
    ///
    /// # Errors
    /// [`HandshakeError::InvalidConfig`] when `own_did` is empty or longer
    /// than an initiator accepts.
    pub fn new(version: ProtocolVersion, config: ResponderConfig) -> Result<Self, HandshakeError> {
        if config.own_did.is_empty() || config.own_did.len() > MAX_DID_LEN {
            return Err(HandshakeError::InvalidConfig("own_did"));
        }
        Ok(Self { version, config })
    }

    /// The protocol version this responder speaks.
    pub fn version(&self) -> ProtocolVersion {
        self.version
    }

    /// This responder's DID.
    pub fn own_did(&self) -> &str {
        &self.config.own_did
    }

    /// The public half of the KEM key, to publish.
    pub fn kem_public_key(&self) -> X25519PublicKey {
        self.config.kem_secret.public_key()
    }

    /// The answer to send for `error`: `success: false` and only the
    /// generic text (R-35). Log `error` itself locally.
    pub fn failure_response(&self, error: &HandshakeError, request_id: &str) -> WireResponse {
        error.failure_response(self.version, request_id)
    }

    /// The checks that need no key (§6.5 step 1 and the stateless part of
    /// step 3), in this order: `task_id`; cookie; the envelope's `id`,
    /// `context_id`, `did` and `signature` present and bounded; the payload
    /// parses (every member present, a string, bounded); `initDid` equals
    /// the transport `did`; `respDid` is this responder; `ts` within the
    /// skew; the suite in `info`/`exportCtx` is allowed; `info` and
    /// `exportCtx` equal the values recomputed from `context_id` and the
    /// two DIDs.
    ///
    /// # Errors
    /// [`HandshakeError::WrongTask`], [`HandshakeError::CookieRejected`],
    /// [`HandshakeError::MalformedInit`], [`HandshakeError::InitDidMismatch`],
    /// [`HandshakeError::RespDidMismatch`],
    /// [`HandshakeError::TimestampOutsideWindow`],
    /// [`HandshakeError::SuiteNotAllowed`], [`HandshakeError::InfoMismatch`]
    /// or [`HandshakeError::ExportContextMismatch`].
    pub fn accept(
        &self,
        message: &WireMessage,
        now: Timestamp,
    ) -> Result<PendingInit, HandshakeError> {
        let labels = self.version.labels();
        if message.task_id != labels.hpke_task {
            return Err(HandshakeError::WrongTask);
        }
        if let Some(policy) = &self.config.cookie_policy {
            let accepted = message
                .metadata
                .get(labels.hpke_cookie_key)
                .is_some_and(|cookie| policy.accept(cookie));
            if !accepted {
                return Err(HandshakeError::CookieRejected);
            }
        }
        check_envelope_shape(message).map_err(HandshakeError::MalformedInit)?;
        let init = InitPayload::parse(&message.payload).map_err(HandshakeError::MalformedInit)?;

        if init.init_did != message.did {
            return Err(HandshakeError::InitDidMismatch);
        }
        if init.resp_did != self.config.own_did {
            return Err(HandshakeError::RespDidMismatch);
        }
        self.check_timestamp(init.ts, now)?;
        self.check_schedule_strings(&message.context_id, &init)?;
        Ok(PendingInit {
            message: message.clone(),
            init,
        })
    }

    /// Finishes the handshake for an accepted init message, `sender_key`
    /// being the key the caller resolved for [`PendingInit::sender_did`]:
    /// [`Responder::authenticate`], then the `(ctxID, nonce)` pair checked
    /// and recorded in `replay`, then [`Responder::finish`]. Callers whose
    /// replay memory is asynchronous (a database) call the three steps
    /// themselves.
    ///
    /// # Errors
    /// Those of [`Responder::authenticate`] and [`Responder::finish`];
    /// [`HandshakeError::ReplayStoreUnavailable`] when `replay` cannot answer.
    pub fn complete<R, S>(
        &self,
        pending: PendingInit,
        sender_key: &VerifyingKey,
        now: Timestamp,
        rng: &mut R,
        replay: &mut S,
    ) -> Result<ResponderOutcome, HandshakeError>
    where
        R: CryptoRng + ?Sized,
        S: ReplayStore + ?Sized,
    {
        let authenticated = self.authenticate(pending, sender_key, now)?;
        let claim = authenticated.replay_claim();
        let verdict = replay
            .check_and_store(&claim.scope, &claim.nonce, now, claim.keep_until)
            .map_err(|_| HandshakeError::ReplayStoreUnavailable)?;
        self.finish(authenticated, verdict, now, rng)
    }

    /// §6.5 step 2 and the clock-dependent part of step 3: the transport
    /// signature over the payload under `sender_key`, then `respDid` and
    /// `ts` once more (time passed while the caller resolved the DID).
    /// The result names the nonce to record ([`AuthenticatedInit::replay_claim`]);
    /// record it only now that the message is authenticated, so that an
    /// unauthenticated sender cannot burn nonces.
    ///
    /// # Errors
    /// [`HandshakeError::TransportSignature`],
    /// [`HandshakeError::RespDidMismatch`] or
    /// [`HandshakeError::TimestampOutsideWindow`].
    pub fn authenticate(
        &self,
        pending: PendingInit,
        sender_key: &VerifyingKey,
        now: Timestamp,
    ) -> Result<AuthenticatedInit, HandshakeError> {
        let PendingInit { message, init } = pending;
        let proof = verify_transport_signature(&message, sender_key)?;
        // A PendingInit from another responder would name another `respDid`.
        if init.resp_did != self.config.own_did {
            return Err(HandshakeError::RespDidMismatch);
        }
        self.check_timestamp(init.ts, now)?;
        // Keep the nonce for nonce_ttl, and in any case until its `ts` can
        // no longer pass the window: after that the clock check rejects it.
        let keep_until = add(now, self.config.nonce_ttl).max(add(init.ts, self.config.clock_skew));
        Ok(AuthenticatedInit {
            claim: ReplayClaim {
                scope: format!("{REPLAY_SCOPE_PREFIX}{}", message.context_id),
                nonce: init.nonce.clone(),
                keep_until,
            },
            message,
            init,
            proof,
        })
    }

    /// §6.5 step 4, given the replay store's verdict on
    /// [`AuthenticatedInit::replay_claim`]: HPKE open → exporter; a fresh
    /// ephemeral pair from `rng`; the DH with `ephC` is not all zeros;
    /// seed; the session ([`Role::Responder`]); a `kid-<uuid>` from `rng`;
    /// the ack tag; the envelope signed with the responder's key.
    ///
    /// # Errors
    /// [`HandshakeError::ReplayedNonce`] when `verdict` is
    /// [`ReplayVerdict::Replayed`]; [`HandshakeError::HpkeDecapsulation`]
    /// or [`HandshakeError::AllZeroSharedSecret`].
    pub fn finish<R>(
        &self,
        authenticated: AuthenticatedInit,
        verdict: ReplayVerdict,
        now: Timestamp,
        rng: &mut R,
    ) -> Result<ResponderOutcome, HandshakeError>
    where
        R: CryptoRng + ?Sized,
    {
        let labels = self.version.labels();
        let AuthenticatedInit {
            message,
            init,
            proof: transport_signature,
            claim: _,
        } = authenticated;
        if verdict == ReplayVerdict::Replayed {
            return Err(HandshakeError::ReplayedNonce);
        }

        // §6.5 step 4.
        let exporter = schedule::hpke_open_export(
            &self.config.kem_secret,
            &init.enc,
            init.info.as_bytes(),
            init.export_ctx.as_bytes(),
        )?;
        let eph_s = X25519Secret::generate(rng);
        let eph_s_public = eph_s.public_key().to_bytes();
        let ss_e2e = eph_s
            .diffie_hellman(&X25519PublicKey::from_bytes(init.eph_c))
            .map_err(|_| HandshakeError::AllZeroSharedSecret)?;
        drop(eph_s);
        let seed = schedule::combine(labels, init.export_ctx.as_bytes(), &exporter, &ss_e2e);
        drop((exporter, ss_e2e));
        let session = Session::from_handshake_seed(
            self.version,
            Role::Responder,
            SessionSeed::from_bytes(*seed),
            self.config.session_config,
            now,
        );
        let kid = format!("{}{}", labels.hpke_kid_prefix, uuid_v4(rng));
        let transcript = Transcript {
            info: init.info.as_bytes(),
            export_ctx: init.export_ctx.as_bytes(),
            enc: &init.enc,
            eph_c: &init.eph_c,
            eph_s: &eph_s_public,
            init_did: &init.init_did,
            resp_did: &init.resp_did,
        };
        let ack_tag = schedule::ack_tag(
            labels,
            &seed,
            &message.context_id,
            &init.nonce,
            &kid,
            &transcript,
        );
        drop(seed);

        let envelope = AckEnvelope {
            v: labels.hpke_envelope_version.to_owned(),
            task: labels.hpke_task.to_owned(),
            ctx: message.context_id.clone(),
            kid: kid.clone(),
            eph_s: eph_s_public,
            ack_tag,
            ts: now,
            did: self.config.own_did.clone(),
            info_hash: sha256(init.info.as_bytes()),
            export_ctx_hash: sha256(init.export_ctx.as_bytes()),
            enc: init.enc,
            eph_c: init.eph_c,
        };
        let response = WireResponse {
            success: true,
            message_id: message.id,
            task_id: labels.hpke_task.to_owned(),
            data: envelope.sign(&self.config.signing_key),
            error: String::new(),
        };
        Ok(ResponderOutcome {
            session,
            kid,
            peer_did: init.init_did,
            ctx_id: message.context_id,
            response,
            _proof: transport_signature,
        })
    }

    /// `|ts − now| ≤ clock_skew`.
    fn check_timestamp(&self, ts: Timestamp, now: Timestamp) -> Result<(), HandshakeError> {
        if ts.abs_diff_nanos(now) > self.config.clock_skew.as_nanos() {
            return Err(HandshakeError::TimestampOutsideWindow);
        }
        Ok(())
    }

    /// The suite named in `info`/`exportCtx` is ours, and both strings
    /// equal the §6.1 values for this context and these two DIDs.
    fn check_schedule_strings(
        &self,
        ctx_id: &str,
        init: &InitPayload,
    ) -> Result<(), HandshakeError> {
        let labels = self.version.labels();
        let named_suites = [
            schedule::named_suite(&init.info, labels.hpke_info_prefix),
            schedule::named_suite(&init.export_ctx, labels.hpke_export_prefix),
        ];
        if named_suites
            .into_iter()
            .flatten()
            .any(|suite| suite != labels.hpke_suite)
        {
            return Err(HandshakeError::SuiteNotAllowed);
        }
        if init.info != schedule::info(labels, ctx_id, &init.init_did, &self.config.own_did) {
            return Err(HandshakeError::InfoMismatch);
        }
        if init.export_ctx != schedule::export_context(labels, ctx_id) {
            return Err(HandshakeError::ExportContextMismatch);
        }
        Ok(())
    }
}

/// The transport members the handshake relies on: `id` (which the answer
/// names), `context_id` and `did` present and bounded, a signature present
/// and bounded.
fn check_envelope_shape(message: &WireMessage) -> Result<(), MessageError> {
    let bounded = |member: &'static str, value: &str, max: usize| {
        if value.is_empty() {
            Err(MessageError::Empty(member))
        } else if value.len() > max {
            Err(MessageError::TooLong { member, limit: max })
        } else {
            Ok(())
        }
    };
    bounded("id", &message.id, MAX_ID_LEN)?;
    bounded("context_id", &message.context_id, MAX_CTX_ID_LEN)?;
    bounded("did", &message.did, MAX_DID_LEN)?;
    if message.signature.is_empty() {
        return Err(MessageError::Missing("signature"));
    }
    if message.signature.len() > MAX_SIGNATURE_LEN {
        return Err(MessageError::TooLong {
            member: "signature",
            limit: MAX_SIGNATURE_LEN,
        });
    }
    Ok(())
}

/// `at + duration`, saturating.
fn add(at: Timestamp, duration: Duration) -> Timestamp {
    let secs = i64::try_from(duration.as_secs()).unwrap_or(i64::MAX);
    Timestamp::new(
        at.unix_seconds().saturating_add(secs),
        at.subsec_nanos() + duration.subsec_nanos(),
    )
}

#[cfg(test)]
impl Responder {
    /// The configuration, for tests that need the responder's keys.
    pub(crate) fn config_for_tests(&self) -> &ResponderConfig {
        &self.config
    }
}
