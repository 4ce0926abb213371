//! Why a client call failed: one enum, named by cause.
//!
//! Layer: the client's error vocabulary. Crypto failures (a response
//! signature, a record that does not open) carry no detail beyond their
//! cause, as in sage-core; a node's rejection carries only what the node
//! sent, which by design is the generic text.
//!
//! [`ClientError::is_retryable`] tells a caller whether the same call may
//! be made again; the client itself already retried transport failures.

use core::fmt;

use sage_core::did::DidError;
use sage_core::handshake::HandshakeError;
use sage_core::httpsig::HttpSigError;
use sage_core::session::SessionError;
use sage_core::transport::TransportError;
use sage_registry::RegistryError;

/// A failed client call.
#[derive(Debug)]
#[non_exhaustive]
pub enum ClientError {
    /// A DID given to the client does not parse.
    InvalidDid(DidError),
    /// A URL given to the client (or found in a peer's record) is not an
    /// absolute `http://` URL. The client is built without TLS: put a TLS
    /// terminator in front of the node.
    InvalidUrl {
        /// The URL as given.
        url: String,
    },
    /// The builder was not given an identity or a resolver.
    Incomplete(&'static str),
    /// The HTTP client could not be built (the system's TLS-free HTTP
    /// stack refused its configuration).
    HttpClient,
    /// The task name is empty, too long, or the handshake's task.
    InvalidTask,
    /// The peer's DID could not be resolved, or its record cannot be used
    /// (inactive, no proven signing key).
    Resolve(RegistryError),
    /// The peer's record has no X25519 KEM key, so no handshake can reach
    /// it (§6.2).
    NoKemKey,
    /// The peer's record has no endpoint and no URL was given.
    NoEndpoint,
    /// The agent card at the given URL could not be read or names no DID.
    Card(&'static str),
    /// The node could not be reached after every retry (connection refused,
    /// reset, timed out), or kept answering 503.
    Unavailable {
        /// How many attempts were made.
        attempts: u32,
    },
    /// A retried request was refused with HTTP 401: the node may have
    /// accepted an earlier copy, so the payload is not sent again (that
    /// could deliver it twice). The session is kept.
    OutcomeUnknown,
    /// The node refused the message (HTTP 401 on a fresh session, after a
    /// re-handshake): the peer learns nothing more, and neither do we.
    Rejected,
    /// The node refused the handshake (`success: false`): `"authentication
    /// failed"` or `"suite not allowed"`, the only texts §6.5 allows.
    HandshakeRefused {
        /// The node's error text.
        reason: String,
    },
    /// The handshake answer failed a check (§6.5, initiator side).
    Handshake(HandshakeError),
    /// HTTP 413: the payload is larger than the node accepts.
    PayloadTooLarge,
    /// HTTP 400: the node could not parse the request.
    BadRequest,
    /// HTTP 502: the node's upstream (gateway mode) is unavailable; the
    /// record was consumed.
    UpstreamUnavailable,
    /// Any other HTTP status.
    UnexpectedStatus(u16),
    /// The response body exceeds the client's limit.
    ResponseTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// The response's RFC 9421 signature is missing or does not verify
    /// under the peer's key, or does not name the peer (§5.5).
    ResponseSignature(HttpSigError),
    /// The response is signed but does not cover `x-sage-did`, or that
    /// header does not name the peer (§12.1).
    ResponseIdentity,
    /// The response body is not a `WireResponse`.
    MalformedResponse(TransportError),
    /// The response answers another message, or a failure on HTTP 200.
    ResponseMismatch,
    /// A session operation failed: the record in the response does not
    /// open, or the local session cannot seal.
    Session(SessionError),
    /// Signing the request failed (a key whose algorithm has no RFC 9421
    /// name, an unserialisable parameter).
    Signing(HttpSigError),
    /// The envelope could not be built (a mirror header out of bounds).
    Envelope(TransportError),
}

impl ClientError {
    /// Whether calling again may succeed without changing anything: the
    /// node or the registry was unavailable.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Unavailable { .. }
                | Self::UpstreamUnavailable
                | Self::Resolve(RegistryError::Unreachable(_))
        )
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidDid(e) => write!(f, "invalid DID: {e}"),
            Self::InvalidUrl { url } => {
                write!(
                    f,
                    "{url:?} is not an absolute http:// URL (TLS is not built in)"
                )
            }
            Self::Incomplete(what) => write!(f, "client builder: {what} is not set"),
            Self::HttpClient => f.write_str("cannot build the HTTP client"),
            Self::InvalidTask => f.write_str("task name is empty, too long or reserved"),
            Self::Resolve(e) => write!(f, "cannot resolve the peer: {e}"),
            Self::NoKemKey => f.write_str("the peer's record has no X25519 KEM key"),
            Self::NoEndpoint => f.write_str("the peer's record has no endpoint"),
            Self::Card(why) => write!(f, "agent card: {why}"),
            Self::Unavailable { attempts } => {
                write!(f, "node unavailable after {attempts} attempt(s)")
            }
            Self::OutcomeUnknown => f.write_str(
                "a retried request was refused; the node may have accepted an earlier copy",
            ),
            Self::Rejected => f.write_str("the node rejected the message (authentication failed)"),
            Self::HandshakeRefused { reason } => write!(f, "handshake refused: {reason}"),
            Self::Handshake(e) => write!(f, "handshake answer rejected: {e}"),
            Self::PayloadTooLarge => f.write_str("payload too large for the node"),
            Self::BadRequest => f.write_str("the node could not parse the request"),
            Self::UpstreamUnavailable => f.write_str("the node's upstream is unavailable"),
            Self::UnexpectedStatus(status) => write!(f, "unexpected HTTP status {status}"),
            Self::ResponseTooLarge { limit } => {
                write!(f, "response body larger than {limit} bytes")
            }
            Self::ResponseSignature(e) => write!(f, "response signature: {e}"),
            Self::ResponseIdentity => {
                f.write_str("response signature does not bind the peer's DID")
            }
            Self::MalformedResponse(e) => write!(f, "malformed response: {e}"),
            Self::ResponseMismatch => f.write_str("response does not answer the request"),
            Self::Session(e) => write!(f, "session: {e}"),
            Self::Signing(e) => write!(f, "cannot sign the request: {e}"),
            Self::Envelope(e) => write!(f, "cannot build the envelope: {e}"),
        }
    }
}

impl std::error::Error for ClientError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidDid(e) => Some(e),
            Self::Resolve(e) => Some(e),
            Self::Handshake(e) => Some(e),
            Self::ResponseSignature(e) | Self::Signing(e) => Some(e),
            Self::MalformedResponse(e) | Self::Envelope(e) => Some(e),
            Self::Session(e) => Some(e),
            _ => None,
        }
    }
}
