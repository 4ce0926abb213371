//! Errors of the session layer.
//!
//! One enum for the whole layer, named by cause. The two cryptographic
//! failures, [`SessionError::Decrypt`] and [`SessionError::BadMac`], carry no
//! detail: telling a peer *why* a record failed to authenticate helps an
//! attacker and never the honest sender. No error moves a counter, the
//! replay window or the idle clock (PROTOCOL.md §7.1.4).

use core::fmt;

/// Why a session stopped accepting calls (PROTOCOL.md §7.1.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExpiryReason {
    /// The session is older than [`SessionPolicy::max_age`](super::SessionPolicy::max_age).
    MaxAge,
    /// No record was sent or accepted for longer than
    /// [`SessionPolicy::idle_timeout`](super::SessionPolicy::idle_timeout).
    IdleTimeout,
    /// [`SessionPolicy::max_messages`](super::SessionPolicy::max_messages)
    /// records were sent and received.
    MaxMessages,
}

impl fmt::Display for ExpiryReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::MaxAge => "maximum age reached",
            Self::IdleTimeout => "idle timeout reached",
            Self::MaxMessages => "message limit reached",
        })
    }
}

/// A session call that failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionError {
    /// The record is shorter than the 36 bytes of header and tag, so it can
    /// never authenticate (Go core `ErrDataTooShort` below 20 bytes).
    RecordTooShort,
    /// The record's sequence number is 1024 or more below the highest one
    /// accepted (Go core `ErrStaleMessage`).
    Stale,
    /// A record with this sequence number was already accepted (Go core
    /// `ErrReplayedMessage`).
    Replayed,
    /// The record did not authenticate: wrong key, wrong AAD, or altered
    /// bytes. Deliberately opaque.
    Decrypt,
    /// The MAC of the MAC path (§7.1.6) did not verify. Deliberately opaque.
    BadMac,
    /// The session expired; its keys are wiped and every call fails.
    Expired(ExpiryReason),
    /// Every 64-bit sequence number was used; the session cannot send.
    SequenceExhausted,
    /// The plaintext exceeds what ChaCha20-Poly1305 can seal (256 GiB).
    PlaintextTooLong,
    /// Snapshot bytes are malformed, of an unknown format version, or of
    /// another protocol profile.
    InvalidSnapshot,
    /// Replay-window bytes or parts are malformed or inconsistent.
    InvalidWindowState,
    /// Text that is not a session id (22 characters of base64url without
    /// padding, encoding 16 bytes).
    InvalidSessionId,
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::RecordTooShort => f.write_str("session record too short"),
            Self::Stale => f.write_str("session record outside the replay window"),
            Self::Replayed => f.write_str("session record replayed"),
            Self::Decrypt => f.write_str("session record failed to authenticate"),
            Self::BadMac => f.write_str("session MAC failed to verify"),
            Self::Expired(reason) => write!(f, "session expired: {reason}"),
            Self::SequenceExhausted => f.write_str("session send sequence exhausted"),
            Self::PlaintextTooLong => f.write_str("plaintext too long for one record"),
            Self::InvalidSnapshot => f.write_str("invalid session snapshot"),
            Self::InvalidWindowState => f.write_str("invalid replay window state"),
            Self::InvalidSessionId => f.write_str("invalid session id"),
        }
    }
}

impl std::error::Error for SessionError {}
