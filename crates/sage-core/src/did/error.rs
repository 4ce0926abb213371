//! Errors of the identifier layer (PROTOCOL.md §8, diagnostic codes §13.6).
//!
//! Layer: `did:sage`. Three causes live here: an identifier that does not
//! parse ([`DidError`]), a registry record that cannot be used
//! ([`RecordError`]) and a proof of possession that fails ([`PopError`]).
//! Each names its diagnostic code (§13.6) through `code()`; the codes are for
//! logs and conformance reports and are never sent to a peer.
//!
//! No error echoes the input it refused: identifiers come from peers, and
//! an offset is enough to find the fault.

use core::fmt;

use crate::jcs::JcsError;
use crate::primitives::KeyError;

/// A `did:sage` identifier or DID URL that does not parse (§8.1, §18.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DidError {
    /// Shorter than the 10 bytes §8.1 step 1 requires.
    TooShort,
    /// Contains whitespace (§18.3: rejected, never trimmed).
    Whitespace,
    /// Does not start with `did:`.
    NotADid,
    /// Starts with `did:sage:` in some other case (§18.3: the prefix is lower case).
    PrefixNotLowerCase,
    /// A DID of another method (`did:web:…`).
    NotSageMethod,
    /// Fewer than the four `:`-separated parts `did:sage:<chain>:<identifier>`.
    MissingParts,
    /// The chain segment is empty (`did:sage::…`).
    EmptyChain,
    /// The chain is not `ethereum`/`eth` or `solana`/`sol` in any case.
    UnknownChain,
    /// Nothing after the third colon.
    EmptyIdentifier,
    /// A character outside RFC 3986 `unreserved` and `:` in the
    /// method-specific part (§8.1 grammar, §18.3).
    InvalidCharacter {
        /// Byte offset of the character in the input.
        offset: usize,
    },
    /// A DID URL whose fragment is empty or holds a character RFC 3986
    /// does not allow in a fragment.
    InvalidFragment,
}

impl DidError {
    /// The diagnostic code of §13.6: `id.unknown-kind` for an unknown
    /// chain (the \[L\] counterpart of a registry kind), `id.malformed` for
    /// everything else.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::UnknownChain => "id.unknown-kind",
            _ => "id.malformed",
        }
    }
}

impl fmt::Display for DidError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort => f.write_str("identifier is shorter than 10 bytes"),
            Self::Whitespace => f.write_str("identifier contains whitespace"),
            Self::NotADid => f.write_str("identifier does not start with \"did:\""),
            Self::PrefixNotLowerCase => f.write_str("the \"did:sage:\" prefix must be lower case"),
            Self::NotSageMethod => f.write_str("not a did:sage identifier"),
            Self::MissingParts => {
                f.write_str("identifier is not of the form did:sage:<chain>:<identifier>")
            }
            Self::EmptyChain => f.write_str("chain segment is empty"),
            Self::UnknownChain => f.write_str("unknown chain (expected ethereum or solana)"),
            Self::EmptyIdentifier => f.write_str("method-specific identifier is empty"),
            Self::InvalidCharacter { offset } => {
                write!(f, "character not allowed in did:sage at byte {offset}")
            }
            Self::InvalidFragment => f.write_str("DID URL fragment is empty or malformed"),
        }
    }
}

impl std::error::Error for DidError {}

/// A proof of possession that does not hold (§8.5).
///
/// Deliberately opaque about why a well-formed key's proof failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum PopError {
    /// The proof does not verify for this DID and key (or is not a
    /// signature encoding the key type takes).
    Bad,
    /// The key type has no \[L\] proof of possession: X25519 never signs, and
    /// P-256 is not a registry key type (§3.1, §8.5).
    UnsupportedKeyType,
    /// The registered key bytes are not a valid key of their type.
    InvalidKey(KeyError),
}

impl PopError {
    /// The diagnostic code of §13.6 (`pop.bad`).
    pub const fn code(&self) -> &'static str {
        "pop.bad"
    }
}

impl fmt::Display for PopError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bad => f.write_str("proof of possession does not verify"),
            Self::UnsupportedKeyType => f.write_str("key type has no proof of possession"),
            Self::InvalidKey(e) => write!(f, "registered key is invalid: {e}"),
        }
    }
}

impl std::error::Error for PopError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::InvalidKey(e) => Some(e),
            _ => None,
        }
    }
}

/// A registry record (AgentMetadataV4) that cannot be read or used (§8.2, §8.4).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// The record JSON is not strict RFC 8259 JSON (duplicate member,
    /// invalid UTF-8, ...).
    Json(JcsError),
    /// The JSON is well formed but is not an AgentMetadataV4 record (a
    /// missing or mistyped member, bad hex, a bad timestamp, an unknown
    /// key type integer).
    Schema {
        /// Line of the fault (1-based), as the decoder reports it.
        line: usize,
        /// Column of the fault (1-based).
        column: usize,
    },
    /// `is_active` is false: the agent MUST NOT be trusted (§8.2).
    Inactive,
    /// No verified secp256k1 or Ed25519 key (§8.4).
    NoSigningKey,
    /// The selected key's bytes are not a valid key of its type.
    InvalidKey {
        /// Index of the key in `keys[]`.
        index: usize,
        /// Why the bytes were refused.
        cause: KeyError,
    },
    /// `public_kem_key` is present but is not 32 bytes.
    InvalidKemKey,
    /// A key type without a registry integer (P-256) cannot be written
    /// into a record.
    NoRegistryCode,
}

impl RecordError {
    /// The diagnostic code of §13.6.
    ///
    /// A malformed record maps to `record.invalid`, which §13.6 lists for
    /// \[N\]; \[L\] has no code for it and this one says what happened.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::Inactive => "record.inactive",
            Self::NoSigningKey => "key.not-in-record",
            Self::Json(_)
            | Self::Schema { .. }
            | Self::InvalidKey { .. }
            | Self::InvalidKemKey
            | Self::NoRegistryCode => "record.invalid",
        }
    }
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(e) => write!(f, "record is not strict JSON: {e}"),
            Self::Schema { line, column } => {
                write!(
                    f,
                    "record is not an AgentMetadataV4 object (line {line}, column {column})"
                )
            }
            Self::Inactive => f.write_str("agent record is not active"),
            Self::NoSigningKey => f.write_str("agent record has no verified signing key"),
            Self::InvalidKey { index, cause } => {
                write!(f, "record key {index} is invalid: {cause}")
            }
            Self::InvalidKemKey => f.write_str("public_kem_key is not a 32-byte X25519 key"),
            Self::NoRegistryCode => f.write_str("key type has no registry integer"),
        }
    }
}

impl std::error::Error for RecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Json(e) => Some(e),
            Self::InvalidKey { cause, .. } => Some(cause),
            _ => None,
        }
    }
}
