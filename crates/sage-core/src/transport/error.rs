//! Errors of the transport envelope layer (PROTOCOL.md §12.1).

use core::fmt;

use crate::jcs::JcsError;

/// Which `X-SAGE-*` header a header check is about. Carries no header text:
/// `X-SAGE-Meta-<key>` names are chosen by the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MirrorHeader {
    /// `X-SAGE-DID`.
    Did,
    /// `X-SAGE-Message-ID`.
    MessageId,
    /// `X-SAGE-Context-ID`.
    ContextId,
    /// `X-SAGE-Task-ID`.
    TaskId,
    /// One `X-SAGE-Meta-<key>` header.
    Meta,
}

impl fmt::Display for MirrorHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Did => "X-SAGE-DID",
            Self::MessageId => "X-SAGE-Message-ID",
            Self::ContextId => "X-SAGE-Context-ID",
            Self::TaskId => "X-SAGE-Task-ID",
            Self::Meta => "X-SAGE-Meta-*",
        })
    }
}

/// A transport envelope that could not be decoded, mirrored or verified.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportError {
    /// The JSON text is longer than the decoder's limit.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
        /// The length received.
        found: usize,
    },
    /// The text is not strict JSON (duplicate member, invalid UTF-8, ...).
    Json(JcsError),
    /// The JSON value is not an object.
    NotAnObject,
    /// A required member is absent.
    MissingMember(&'static str),
    /// A member has the wrong JSON type.
    WrongType(&'static str),
    /// A member (or one metadata key or value) is longer than its limit.
    MemberTooLong {
        /// The member.
        member: &'static str,
        /// The limit, in bytes (decoded bytes for base64 members).
        limit: usize,
    },
    /// A base64 member is not standard padded base64.
    Base64(&'static str),
    /// `metadata` has more entries than the limit.
    TooManyMetadataEntries {
        /// The limit.
        limit: usize,
    },
    /// A mirror header disagrees with the body (§12.1: the server rejects).
    HeaderMismatch(MirrorHeader),
    /// A mirror header appears more than once.
    HeaderRepeated(MirrorHeader),
    /// A value cannot be carried in an HTTP header (control character,
    /// non-ASCII, leading or trailing white space), or a metadata key is not
    /// an HTTP token.
    InvalidHeaderValue(MirrorHeader),
    /// The message carries no signature.
    SignatureMissing,
    /// The payload signature does not verify (no further detail, on purpose).
    SignatureInvalid,
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit, found } => {
                write!(f, "envelope of {found} bytes exceeds the limit of {limit}")
            }
            Self::Json(e) => write!(f, "envelope is not strict JSON: {e}"),
            Self::NotAnObject => f.write_str("envelope is not a JSON object"),
            Self::MissingMember(m) => write!(f, "envelope member `{m}` is missing"),
            Self::WrongType(m) => write!(f, "envelope member `{m}` has the wrong type"),
            Self::MemberTooLong { member, limit } => {
                write!(f, "envelope member `{member}` exceeds {limit} bytes")
            }
            Self::Base64(m) => write!(f, "envelope member `{m}` is not standard base64"),
            Self::TooManyMetadataEntries { limit } => {
                write!(f, "envelope metadata exceeds {limit} entries")
            }
            Self::HeaderMismatch(h) => write!(f, "header {h} disagrees with the envelope"),
            Self::HeaderRepeated(h) => write!(f, "header {h} appears more than once"),
            Self::InvalidHeaderValue(h) => write!(f, "value not allowed in header {h}"),
            Self::SignatureMissing => f.write_str("envelope carries no signature"),
            Self::SignatureInvalid => f.write_str("payload signature verification failed"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Json(e) => Some(e),
            _ => None,
        }
    }
}
