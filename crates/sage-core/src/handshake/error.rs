//! Errors of the handshake layer (PROTOCOL.md §6.5, R-35).
//!
//! A [`HandshakeError`] names the check that failed, for the local log.
//! None of that detail goes back to the peer: [`HandshakeError::peer_message`]
//! is the one place that maps a cause to wire text, and it returns only the
//! generic `authentication failed` (or `suite not allowed` for a suite this
//! side does not allow, the one distinct answer §6.5 permits). Crypto
//! failures (bad signature, bad tag, failed decapsulation) carry no detail
//! even locally.

use core::fmt;

use crate::jcs::JcsError;
use crate::transport::WireResponse;
use crate::version::ProtocolVersion;

/// Why an init payload or an ack envelope is malformed. Found before any
/// cryptographic work.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// Longer than the message limit.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
        /// The length received.
        found: usize,
    },
    /// Not strict JSON (duplicate member, invalid UTF-8, ...).
    Json(JcsError),
    /// Not a JSON object.
    NotAnObject,
    /// A required member is absent.
    Missing(&'static str),
    /// A member is not a JSON string.
    NotAString(&'static str),
    /// A required member is the empty string.
    Empty(&'static str),
    /// A member is longer than its limit.
    TooLong {
        /// The member.
        member: &'static str,
        /// The limit, in bytes.
        limit: usize,
    },
    /// A binary member is not base64url-raw of the required length.
    Encoding(&'static str),
    /// A time member is not RFC 3339.
    Timestamp(&'static str),
}

impl fmt::Display for MessageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit, found } => {
                write!(f, "{found} bytes exceed the limit of {limit}")
            }
            Self::Json(e) => write!(f, "not strict JSON: {e}"),
            Self::NotAnObject => f.write_str("not a JSON object"),
            Self::Missing(m) => write!(f, "member `{m}` is missing"),
            Self::NotAString(m) => write!(f, "member `{m}` is not a string"),
            Self::Empty(m) => write!(f, "member `{m}` is empty"),
            Self::TooLong { member, limit } => {
                write!(f, "member `{member}` exceeds {limit} bytes")
            }
            Self::Encoding(m) => {
                write!(
                    f,
                    "member `{m}` is not base64url-raw of the required length"
                )
            }
            Self::Timestamp(m) => write!(f, "member `{m}` is not an RFC 3339 time"),
        }
    }
}

impl std::error::Error for MessageError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Json(e) => Some(e),
            _ => None,
        }
    }
}

/// A handshake step failed. Each variant names the check, for local logs;
/// send the peer only [`HandshakeError::peer_message`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HandshakeError {
    // Local input (the caller's own configuration).
    /// A DID, context id or cookie given to this side is empty or longer
    /// than the peer would accept; the member is named.
    InvalidConfig(&'static str),

    // Responder: the init message.
    /// The transport `task_id` is not the handshake task.
    WrongTask,
    /// A cookie policy is set and the cookie is absent or refused.
    CookieRejected,
    /// The transport envelope or the init payload is malformed.
    MalformedInit(MessageError),
    /// `initDid` differs from the DID that signs the transport message.
    InitDidMismatch,
    /// `respDid` is not this responder's DID.
    RespDidMismatch,
    /// `ts` is further than the allowed skew from this side's clock.
    TimestampOutsideWindow,
    /// `info` or `exportCtx` names a suite this side does not allow.
    SuiteNotAllowed,
    /// `info` differs from the value recomputed from the context and DIDs.
    InfoMismatch,
    /// `exportCtx` differs from the value recomputed from the context.
    ExportContextMismatch,
    /// The transport signature over the payload does not verify.
    TransportSignature,
    /// `(ctxID, nonce)` was seen within the nonce lifetime.
    ReplayedNonce,
    /// The replay store could not answer; the handshake fails closed.
    ReplayStoreUnavailable,
    /// HPKE decapsulation failed.
    HpkeDecapsulation,

    // Initiator: building the init message.
    /// HPKE encapsulation to the responder's KEM key failed.
    HpkeEncapsulation,

    // Both sides.
    /// The ephemeral X25519 shared secret is all zeros (§6.2).
    AllZeroSharedSecret,

    // Initiator: the response.
    /// The responder answered `success: false`.
    PeerRejected,
    /// The response's `message_id` is not the init message's id.
    ResponseIdMismatch,
    /// The response data is not a well-formed ack envelope.
    MalformedAck(MessageError),
    /// The envelope's `v` is not the profile's version string.
    EnvelopeVersion,
    /// The envelope's `task` is not the handshake task.
    EnvelopeTask,
    /// The envelope's `ctx` is not this handshake's context id.
    EnvelopeContext,
    /// The envelope's `did` is not the expected responder.
    ResponderDidMismatch,
    /// The envelope's `enc` is not the one this side sent.
    EncEchoMismatch,
    /// The envelope's `ephC` is not the one this side sent.
    EphCEchoMismatch,
    /// `infoHash` is not SHA-256 of this handshake's `info`.
    InfoHashMismatch,
    /// `exportCtxHash` is not SHA-256 of this handshake's `exportCtx`.
    ExportContextHashMismatch,
    /// The acknowledgement tag does not match.
    AckTagMismatch,
    /// The envelope signature (`sigB64`) does not verify.
    EnvelopeSignature,
}

impl HandshakeError {
    /// The only text a peer may see for this failure (R-35, §6.5): the
    /// profile's `suite not allowed` for [`HandshakeError::SuiteNotAllowed`],
    /// and its generic `authentication failed` for everything else.
    pub fn peer_message(&self, version: ProtocolVersion) -> &'static str {
        let labels = version.labels();
        match self {
            Self::SuiteNotAllowed => labels.hpke_suite_error,
            _ => labels.hpke_generic_error,
        }
    }

    /// The `WireResponse` a responder sends for this failure:
    /// `success: false`, the request's id, the handshake task and
    /// [`HandshakeError::peer_message`]; no data.
    pub fn failure_response(&self, version: ProtocolVersion, request_id: &str) -> WireResponse {
        WireResponse {
            success: false,
            message_id: request_id.to_owned(),
            task_id: version.labels().hpke_task.to_owned(),
            data: Vec::new(),
            error: self.peer_message(version).to_owned(),
        }
    }
}

impl fmt::Display for HandshakeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidConfig(field) => {
                write!(f, "handshake configuration: `{field}` is empty or too long")
            }
            Self::WrongTask => f.write_str("init message has the wrong task id"),
            Self::CookieRejected => f.write_str("cookie required or invalid"),
            Self::MalformedInit(e) => write!(f, "malformed init message: {e}"),
            Self::InitDidMismatch => f.write_str("initDid differs from the signer DID"),
            Self::RespDidMismatch => f.write_str("respDid is not this responder"),
            Self::TimestampOutsideWindow => f.write_str("init ts outside the allowed clock skew"),
            Self::SuiteNotAllowed => f.write_str("suite not allowed"),
            Self::InfoMismatch => f.write_str("info differs from the recomputed value"),
            Self::ExportContextMismatch => {
                f.write_str("exportCtx differs from the recomputed value")
            }
            Self::TransportSignature => f.write_str("transport signature verification failed"),
            Self::ReplayedNonce => f.write_str("init nonce replayed in this context"),
            Self::ReplayStoreUnavailable => f.write_str("replay store unavailable"),
            Self::HpkeDecapsulation => f.write_str("HPKE decapsulation failed"),
            Self::HpkeEncapsulation => f.write_str("HPKE encapsulation failed"),
            Self::AllZeroSharedSecret => f.write_str("ephemeral X25519 secret is all zeros"),
            Self::PeerRejected => f.write_str("responder rejected the handshake"),
            Self::ResponseIdMismatch => f.write_str("response answers another message"),
            Self::MalformedAck(e) => write!(f, "malformed ack envelope: {e}"),
            Self::EnvelopeVersion => f.write_str("ack envelope has the wrong version"),
            Self::EnvelopeTask => f.write_str("ack envelope has the wrong task"),
            Self::EnvelopeContext => f.write_str("ack envelope names another context"),
            Self::ResponderDidMismatch => f.write_str("ack envelope from an unexpected DID"),
            Self::EncEchoMismatch => f.write_str("ack envelope echoes another enc"),
            Self::EphCEchoMismatch => f.write_str("ack envelope echoes another ephC"),
            Self::InfoHashMismatch => f.write_str("ack envelope infoHash mismatch"),
            Self::ExportContextHashMismatch => f.write_str("ack envelope exportCtxHash mismatch"),
            Self::AckTagMismatch => f.write_str("ack tag mismatch"),
            Self::EnvelopeSignature => f.write_str("ack envelope signature verification failed"),
        }
    }
}

impl std::error::Error for HandshakeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::MalformedInit(e) | Self::MalformedAck(e) => Some(e),
            _ => None,
        }
    }
}
