//! The sage-core errors a vector check can run into, kept typed so a
//! report says exactly which layer refused what.

use core::fmt;

use sage_core::card::CardError;
use sage_core::did::{DidError, PopError};
use sage_core::encoding::DecodeError;
use sage_core::handshake::HandshakeError;
use sage_core::httpsig::HttpSigError;
use sage_core::jcs::JcsError;
use sage_core::primitives::{KeyError, SignatureError};
use sage_core::session::SessionError;

/// A sage-core operation that failed while checking a vector.
#[derive(Debug)]
#[non_exhaustive]
pub enum CoreFailure {
    /// A key could not be built or used.
    Key(KeyError),
    /// A signature did not verify (or could not be decoded).
    Signature(SignatureError),
    /// A JSON text was refused by the strict JCS parser.
    Jcs(JcsError),
    /// A hex/base64/base58 value did not decode.
    Decode(DecodeError),
    /// A `did:sage` identifier was refused.
    Did(DidError),
    /// A proof of possession could not be made or did not verify.
    Pop(PopError),
    /// A session record was refused.
    Session(SessionError),
    /// A handshake step failed.
    Handshake(HandshakeError),
    /// An HTTP message signature could not be made or did not verify.
    HttpSig(HttpSigError),
    /// An agent card was refused.
    Card(CardError),
}

impl fmt::Display for CoreFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Key(e) => write!(f, "key: {e}"),
            Self::Signature(e) => write!(f, "{e}"),
            Self::Jcs(e) => write!(f, "JSON: {e}"),
            Self::Decode(e) => write!(f, "decoding: {e}"),
            Self::Did(e) => write!(f, "{e} ({})", e.code()),
            Self::Pop(e) => write!(f, "{e}"),
            Self::Session(e) => write!(f, "{e}"),
            Self::Handshake(e) => write!(f, "{e}"),
            Self::HttpSig(e) => write!(f, "{} ({e})", e.code()),
            Self::Card(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for CoreFailure {}

impl From<KeyError> for CoreFailure {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
}

impl From<SignatureError> for CoreFailure {
    fn from(e: SignatureError) -> Self {
        Self::Signature(e)
    }
}

impl From<JcsError> for CoreFailure {
    fn from(e: JcsError) -> Self {
        Self::Jcs(e)
    }
}

impl From<DecodeError> for CoreFailure {
    fn from(e: DecodeError) -> Self {
        Self::Decode(e)
    }
}

impl From<DidError> for CoreFailure {
    fn from(e: DidError) -> Self {
        Self::Did(e)
    }
}

impl From<PopError> for CoreFailure {
    fn from(e: PopError) -> Self {
        Self::Pop(e)
    }
}

impl From<SessionError> for CoreFailure {
    fn from(e: SessionError) -> Self {
        Self::Session(e)
    }
}

impl From<HandshakeError> for CoreFailure {
    fn from(e: HandshakeError) -> Self {
        Self::Handshake(e)
    }
}

impl From<HttpSigError> for CoreFailure {
    fn from(e: HttpSigError) -> Self {
        Self::HttpSig(e)
    }
}

impl From<CardError> for CoreFailure {
    fn from(e: CardError) -> Self {
        Self::Card(e)
    }
}
