//! Rejections of `/messages`: one diagnostic code, one generic answer.
//!
//! Layer: node, protocol endpoints. A [`Rejection`] carries the §13.6
//! diagnostic code of the first check that failed and the kind of answer
//! the peer gets ([`Answer`]). [`Rejection::report`] logs the code (never
//! key material, plaintext or record bytes) and counts it; the peer only
//! ever sees the generic text of its [`Answer`] (R-35, PROTOCOL.md §13.6).
//!
//! Besides the §13.6 codes, the node uses a few of its own, for failures
//! §13.6 has no name for: [`STORE_UNAVAILABLE`], [`UPSTREAM_UNAVAILABLE`],
//! [`HANDSHAKE_COOKIE`], [`HANDSHAKE_SUITE`], [`HANDSHAKE_HPKE`].

use core::time::Duration;

use crate::metrics::{self, MessageKind};

/// The database (sessions or nonces) could not answer.
pub(crate) const STORE_UNAVAILABLE: &str = "store.unavailable";
/// The upstream of gateway mode could not be reached or failed.
pub(crate) const UPSTREAM_UNAVAILABLE: &str = "upstream.unavailable";
/// A handshake without an acceptable anti-DoS cookie.
pub(crate) const HANDSHAKE_COOKIE: &str = "handshake.cookie";
/// A handshake naming a suite this node does not allow.
pub(crate) const HANDSHAKE_SUITE: &str = "handshake.suite";
/// HPKE decapsulation or the ephemeral key agreement failed.
pub(crate) const HANDSHAKE_HPKE: &str = "handshake.hpke";

/// What the peer is told, and with which HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// 400: the body is not a `WireMessage`, or its headers disagree.
    Malformed,
    /// 413: the body is over `server.body_limit`.
    TooLarge,
    /// 401 (application messages) or 200 with `success: false`
    /// (handshakes): "authentication failed".
    Unauthenticated,
    /// 503: the database or the registry cannot be reached; the client may
    /// retry the same bytes.
    Unavailable,
    /// 502: the upstream failed (gateway mode).
    UpstreamFailed,
}

impl Answer {
    /// The HTTP status of an application message refused this way.
    pub(crate) fn status(self) -> http::StatusCode {
        match self {
            Self::Malformed => http::StatusCode::BAD_REQUEST,
            Self::TooLarge => http::StatusCode::PAYLOAD_TOO_LARGE,
            Self::Unauthenticated => http::StatusCode::UNAUTHORIZED,
            Self::Unavailable => http::StatusCode::SERVICE_UNAVAILABLE,
            Self::UpstreamFailed => http::StatusCode::BAD_GATEWAY,
        }
    }

    /// The only text the peer sees.
    pub(crate) fn peer_text(self, generic: &'static str) -> &'static str {
        match self {
            Self::Malformed => "malformed message",
            Self::TooLarge => "message too large",
            Self::Unauthenticated => generic,
            Self::Unavailable => "temporarily unavailable",
            Self::UpstreamFailed => "upstream unavailable",
        }
    }
}

/// A refused message: its diagnostic code and the answer it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Rejection {
    /// The §13.6 (or node) diagnostic code.
    pub(crate) code: &'static str,
    /// What the peer gets.
    pub(crate) answer: Answer,
}

impl Rejection {
    /// An authentication failure with `code`.
    pub(crate) fn auth(code: &'static str) -> Self {
        Self {
            code,
            answer: Answer::Unauthenticated,
        }
    }

    /// A malformed message with `code`.
    pub(crate) fn malformed(code: &'static str) -> Self {
        Self {
            code,
            answer: Answer::Malformed,
        }
    }

    /// A dependency that cannot answer, with `code`.
    pub(crate) fn unavailable(code: &'static str) -> Self {
        Self {
            code,
            answer: Answer::Unavailable,
        }
    }

    /// Logs and counts this rejection of a `kind` message of `body_len`
    /// bytes, `elapsed` after it arrived.
    pub(crate) fn report(self, kind: MessageKind, body_len: usize, elapsed: Duration) {
        let kind_name = match kind {
            MessageKind::Handshake => "handshake",
            MessageKind::Data => "data",
        };
        match self.answer {
            Answer::Unavailable | Answer::UpstreamFailed => tracing::warn!(
                code = self.code,
                kind = kind_name,
                status = self.answer.status().as_u16(),
                "message refused"
            ),
            _ => tracing::info!(
                code = self.code,
                kind = kind_name,
                status = self.answer.status().as_u16(),
                "message refused"
            ),
        }
        metrics::message_processed(kind, body_len, elapsed, Some(self.code));
    }
}
