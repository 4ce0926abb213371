//! Errors of the agent-card layer (PROTOCOL.md §11, diagnostic codes §13.6).
//!
//! Layer: A2A agent card. A card arrives from a peer, so every refusal is
//! typed and none echoes card text; member names are the static names this
//! crate looks for, and positions are indices into `publicKey[]`. A bad
//! signature carries no detail.

use core::fmt;

use crate::did::DidError;
use crate::jcs::JcsError;
use crate::primitives::KeyError;

/// Why a card could not be built, signed, verified or matched to a record.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CardError {
    /// The card is not strict RFC 8259 JSON (duplicate member, invalid
    /// UTF-8, ...).
    Json(JcsError),
    /// The card (or a `publicKey` entry, or the proof) is not a JSON object.
    NotAnObject,
    /// A required member is absent.
    MissingMember(&'static str),
    /// A member has the wrong JSON type.
    MemberType(&'static str),
    /// The card has no `proof` member.
    MissingProof,
    /// The card `id` is not a `did:sage` identifier.
    InvalidId(DidError),
    /// `verificationMethod` is not a DID URL of the card's `id` with a
    /// fragment (`<id>#…`).
    ForeignVerificationMethod,
    /// `proof.type` is not a signature type this profile knows.
    UnknownProofType,
    /// `proof.proofPurpose` is not the profile's (`assertionMethod`).
    WrongProofPurpose,
    /// `proof.created` is not RFC 3339.
    InvalidProofCreated,
    /// `proof.proofValue` is not base58.
    InvalidProofValue,
    /// `publicKey[index].type` is not a key type this profile knows.
    UnknownKeyType {
        /// Index in `publicKey[]`.
        index: usize,
    },
    /// `publicKey[index]` is not a key of the card's DID: its `id` is not
    /// `<id>#<fragment>` or its `controller` is not the card `id`.
    ForeignKey {
        /// Index in `publicKey[]`.
        index: usize,
    },
    /// Two `publicKey` entries share an `id`.
    DuplicateKeyId {
        /// Index of the second entry.
        index: usize,
    },
    /// `publicKeyBase58` or `publicKeyHex` of `publicKey[index]` does not decode.
    InvalidKeyEncoding {
        /// Index in `publicKey[]`.
        index: usize,
    },
    /// `publicKeyBase58` and `publicKeyHex` of `publicKey[index]` decode to
    /// different bytes (§11.1 lets a verifier reject this; we do).
    KeyEncodingMismatch {
        /// Index in `publicKey[]`.
        index: usize,
    },
    /// `publicKey[index]` does not hold a valid key of its type.
    InvalidKey {
        /// Index in `publicKey[]`.
        index: usize,
        /// Why the bytes were refused.
        cause: KeyError,
    },
    /// No `publicKey` entry has the `id` that `verificationMethod` names.
    KeyNotListed,
    /// The named key's type does not match the proof type (§11.2 step 3).
    KeyTypeMismatch,
    /// The proof does not verify.
    BadSignature,
    /// The key type cannot sign a card or appear in one (X25519 signs
    /// nothing; P-256 has no \[L\] card vocabulary).
    UnsupportedKeyType,
    /// The signing key is not the key that `verificationMethod` names in
    /// the card.
    SigningKeyMismatch,
    /// The card's `id` is not the record's DID.
    DidMismatch,
    /// The record is not active (§8.2).
    RecordInactive,
    /// The proof key is not among the record's keys.
    KeyNotInRecord,
    /// The proof key is in the record but not verified, or its proof of
    /// possession fails.
    KeyNotVerified,
}

impl CardError {
    /// The diagnostic code of §13.6.
    pub const fn code(&self) -> &'static str {
        match self {
            Self::MissingProof => "sig.missing",
            Self::InvalidId(e) => e.code(),
            Self::ForeignVerificationMethod | Self::DidMismatch => "sig.binding",
            Self::KeyTypeMismatch => "sig.alg-mismatch",
            Self::BadSignature | Self::SigningKeyMismatch => "sig.bad",
            Self::KeyNotListed | Self::KeyNotInRecord => "key.not-in-record",
            Self::KeyNotVerified => "key.unproven",
            Self::RecordInactive => "record.inactive",
            Self::Json(_)
            | Self::NotAnObject
            | Self::MissingMember(_)
            | Self::MemberType(_)
            | Self::UnknownProofType
            | Self::WrongProofPurpose
            | Self::InvalidProofCreated
            | Self::InvalidProofValue
            | Self::UnknownKeyType { .. }
            | Self::ForeignKey { .. }
            | Self::DuplicateKeyId { .. }
            | Self::InvalidKeyEncoding { .. }
            | Self::KeyEncodingMismatch { .. }
            | Self::InvalidKey { .. }
            | Self::UnsupportedKeyType => "sig.malformed",
        }
    }
}

impl fmt::Display for CardError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Json(e) => write!(f, "card is not strict JSON: {e}"),
            Self::NotAnObject => f.write_str("card, key entry or proof is not a JSON object"),
            Self::MissingMember(name) => write!(f, "card member {name:?} is missing"),
            Self::MemberType(name) => write!(f, "card member {name:?} has the wrong type"),
            Self::MissingProof => f.write_str("card has no proof"),
            Self::InvalidId(e) => write!(f, "card id is not a did:sage identifier: {e}"),
            Self::ForeignVerificationMethod => {
                f.write_str("verificationMethod is not a key URL of the card id")
            }
            Self::UnknownProofType => f.write_str("unknown proof type"),
            Self::WrongProofPurpose => f.write_str("proof purpose is not assertionMethod"),
            Self::InvalidProofCreated => f.write_str("proof created is not RFC 3339"),
            Self::InvalidProofValue => f.write_str("proofValue is not base58"),
            Self::UnknownKeyType { index } => write!(f, "publicKey[{index}] has an unknown type"),
            Self::ForeignKey { index } => {
                write!(f, "publicKey[{index}] does not belong to the card id")
            }
            Self::DuplicateKeyId { index } => write!(f, "publicKey[{index}] repeats a key id"),
            Self::InvalidKeyEncoding { index } => {
                write!(f, "publicKey[{index}] has an undecodable key encoding")
            }
            Self::KeyEncodingMismatch { index } => {
                write!(f, "publicKey[{index}]: base58 and hex encodings differ")
            }
            Self::InvalidKey { index, cause } => write!(f, "publicKey[{index}]: {cause}"),
            Self::KeyNotListed => f.write_str("verificationMethod names no publicKey entry"),
            Self::KeyTypeMismatch => f.write_str("key type does not match the proof type"),
            Self::BadSignature => f.write_str("card proof does not verify"),
            Self::UnsupportedKeyType => f.write_str("key type cannot be used in an agent card"),
            Self::SigningKeyMismatch => {
                f.write_str("signing key is not the key verificationMethod names")
            }
            Self::DidMismatch => f.write_str("card id is not the record's DID"),
            Self::RecordInactive => f.write_str("agent record is not active"),
            Self::KeyNotInRecord => f.write_str("proof key is not in the agent record"),
            Self::KeyNotVerified => f.write_str("proof key is not verified in the agent record"),
        }
    }
}

impl std::error::Error for CardError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Json(e) => Some(e),
            Self::InvalidId(e) => Some(e),
            Self::InvalidKey { cause, .. } => Some(cause),
            _ => None,
        }
    }
}
