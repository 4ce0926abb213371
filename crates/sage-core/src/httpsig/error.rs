//! Why an HTTP message signature was refused, or a raw HTTP/1.1 message did
//! not parse (PROTOCOL.md §5, §13.6).
//!
//! Layer: RFC 9421 / RFC 9530 and the HTTP/1.1 framing under them. Every
//! [`HttpSigError`] maps to exactly one §13.6 diagnostic code through
//! [`HttpSigError::code`]. Those codes are for logs and conformance reports
//! only: a peer learns nothing but "authentication failed" (§5.5, R-35).
//!
//! A signature that does not verify is [`HttpSigError::BadSignature`] and
//! carries no detail: not the expected bytes, not whether the encoding or the
//! arithmetic failed.

use core::fmt;

use super::component::ComponentId;
use crate::replay::ReplayStoreUnavailable;

/// An HTTP message signature or Content-Digest that was refused, or
/// signing input that cannot be turned into a signature.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HttpSigError {
    /// The message has no `Signature-Input` or no `Signature` field (or an
    /// empty one). Code `sig.missing`.
    MissingSignature,
    /// A signature field, or a signing parameter, does not parse or has the
    /// wrong type. Code `sig.malformed`.
    Malformed(Malformed),
    /// The requested label is absent from `Signature-Input` or `Signature`.
    /// Code `sig.unknown-label`.
    UnknownLabel,
    /// The signature base cannot be rebuilt from the message. Code
    /// `sig.base-mismatch`.
    BaseMismatch(BaseError),
    /// The signature does not verify. Deliberately without detail. Code
    /// `sig.bad`.
    BadSignature,
    /// The `alg` parameter contradicts the key type (§3.3), or names an
    /// algorithm the key cannot use. Code `sig.alg-mismatch`.
    AlgMismatch,
    /// `created` or `expires` is outside the freshness window. Code `sig.stale`.
    Stale(Staleness),
    /// The nonce was already seen under this `keyid`. Code `sig.replay`.
    Replayed,
    /// The replay store could not answer; the check fails closed. Code
    /// `sig.replay`, the closest §13.6 code: the nonce could not be proven
    /// fresh.
    ReplayStoreUnavailable,
    /// The verifier requires a `nonce` parameter and there is none. Code
    /// `sig.coverage`.
    MissingNonce,
    /// A component the verifier requires is not covered. Code `sig.coverage`.
    NotCovered(ComponentId),
    /// A response signature does not cover a required `;req` component, so it
    /// is not bound to its request. Code `sig.binding`.
    Unbound(ComponentId),
    /// The `X-SAGE-DID` field differs from the DID of `keyid` (§5.3). Code
    /// `sig.binding`.
    SenderMismatch,
    /// The DID of `keyid` is not the expected sender. Code `sig.binding`.
    UnexpectedDid,
    /// `keyid` is not the expected key identifier. Code `sig.binding`.
    UnexpectedKeyId,
    /// The request authority is not one of the expected authorities. Code
    /// `sig.binding`.
    UnexpectedAuthority,
    /// `content-digest` is covered but the message has no `Content-Digest`
    /// field. Code `digest.missing`.
    DigestMissing,
    /// `Content-Digest` names only algorithms this profile does not check
    /// (it has no `sha-256` member). Code `digest.missing`.
    DigestAlgorithmUnsupported,
    /// `Content-Digest` does not parse, or its `sha-256` member is not a
    /// 32-byte byte sequence. Code `digest.mismatch`.
    DigestMalformed,
    /// The body does not hash to the `sha-256` member. Code `digest.mismatch`.
    DigestMismatch,
    /// The body is larger than the verifier buffers (§5.5 step 6). Code
    /// `size.exceeded`.
    BodyTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// What was malformed (the detail of [`HttpSigError::Malformed`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// `Signature-Input` is not an RFC 8941 dictionary, or the selected
    /// member is not an inner list.
    SignatureInput,
    /// `Signature` is not an RFC 8941 dictionary, or the selected member is
    /// not a byte sequence.
    Signature,
    /// A label appears twice in `Signature-Input` or `Signature`; which one
    /// counts would be a guess.
    DuplicateLabel,
    /// A covered component is not a valid component identifier (not a
    /// string, not a lower-case field name, `@query-param` without `name`,
    /// or `@signature-params`).
    ComponentIdentifier,
    /// The same component is covered twice (RFC 9421 §2.3).
    DuplicateComponent,
    /// A signature parameter has the wrong type or range (`created` not a
    /// non-negative integer, `keyid` not a string, ...).
    Parameter(&'static str),
    /// A parameter this profile needs (`keyid`, `created`) is absent.
    MissingParameter(&'static str),
    /// The signer was asked to write a parameter twice
    /// ([`SignatureParams::order`](super::SignatureParams::order) lists it
    /// twice).
    DuplicateParameter(&'static str),
    /// A value given to the signer cannot be written as an RFC 8941 key or
    /// string (a label with upper case, a `keyid` with a control character,
    /// ...).
    SignerInput(&'static str),
}

/// Why the signature base could not be rebuilt (the detail of
/// [`HttpSigError::BaseMismatch`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum BaseError {
    /// A covered field is absent from the message.
    MissingField(String),
    /// A field value holds a control character (CR, LF, NUL, ...), which
    /// would forge extra lines in the base.
    InvalidFieldValue(String),
    /// A derived component this implementation does not know.
    UnsupportedComponent(String),
    /// A component parameter this implementation does not support (`sf`,
    /// `key`, `bs`, `tr`, or an unknown one).
    UnsupportedParameter(String),
    /// A request signature covers a `;req` component (§5.4: only responses
    /// may).
    RequestBindingInRequest,
    /// A response signature covers `;req` components but no request was
    /// given.
    MissingRequest,
    /// A derived component that does not exist on this kind of message
    /// (`@status` on a request, `@method` on a response without `;req`).
    WrongMessageKind(String),
    /// The request method is not an HTTP token.
    InvalidMethod,
    /// The target URI is not an absolute `http`/`https` URI without user
    /// information or fragment.
    InvalidTargetUri,
    /// The response status is not a three-digit code.
    InvalidStatus,
    /// A covered `@query-param` is absent from the query.
    QueryParamAbsent(String),
    /// A covered `@query-param` occurs more than once (RFC 9421 §2.2.8 says
    /// such a parameter must not be signed).
    QueryParamRepeated(String),
}

/// Which freshness rule failed (the detail of [`HttpSigError::Stale`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Staleness {
    /// `now − created` exceeds the maximum age.
    TooOld,
    /// `created` lies further in the future than the allowed clock skew.
    InFuture,
    /// `expires` has passed.
    Expired,
}

impl HttpSigError {
    /// The §13.6 diagnostic code of this error.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingSignature => "sig.missing",
            Self::Malformed(_) => "sig.malformed",
            Self::UnknownLabel => "sig.unknown-label",
            Self::BaseMismatch(_) => "sig.base-mismatch",
            Self::BadSignature => "sig.bad",
            Self::AlgMismatch => "sig.alg-mismatch",
            Self::Stale(_) => "sig.stale",
            Self::Replayed | Self::ReplayStoreUnavailable => "sig.replay",
            Self::MissingNonce | Self::NotCovered(_) => "sig.coverage",
            Self::Unbound(_)
            | Self::SenderMismatch
            | Self::UnexpectedDid
            | Self::UnexpectedKeyId
            | Self::UnexpectedAuthority => "sig.binding",
            Self::DigestMissing | Self::DigestAlgorithmUnsupported => "digest.missing",
            Self::DigestMalformed | Self::DigestMismatch => "digest.mismatch",
            Self::BodyTooLarge { .. } => "size.exceeded",
        }
    }
}

impl fmt::Display for HttpSigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingSignature => f.write_str("no Signature-Input or Signature field"),
            Self::Malformed(m) => write!(f, "malformed signature: {m}"),
            Self::UnknownLabel => f.write_str("signature label not present"),
            Self::BaseMismatch(b) => write!(f, "signature base cannot be rebuilt: {b}"),
            Self::BadSignature => f.write_str("signature verification failed"),
            Self::AlgMismatch => f.write_str("alg parameter does not match the key"),
            Self::Stale(s) => write!(f, "signature not fresh: {s}"),
            Self::Replayed => f.write_str("nonce already seen for this keyid"),
            Self::ReplayStoreUnavailable => f.write_str("replay store unavailable"),
            Self::MissingNonce => f.write_str("signature has no nonce parameter"),
            Self::NotCovered(c) => write!(f, "required component {c} is not covered"),
            Self::Unbound(c) => {
                write!(f, "response not bound to its request: {c} is not covered")
            }
            Self::SenderMismatch => f.write_str("X-SAGE-DID differs from the keyid DID"),
            Self::UnexpectedDid => f.write_str("keyid DID is not the expected sender"),
            Self::UnexpectedKeyId => f.write_str("keyid is not the expected key"),
            Self::UnexpectedAuthority => f.write_str("request authority is not expected"),
            Self::DigestMissing => f.write_str("content-digest covered but field absent"),
            Self::DigestAlgorithmUnsupported => f.write_str("Content-Digest has no sha-256 member"),
            Self::DigestMalformed => f.write_str("Content-Digest does not parse"),
            Self::DigestMismatch => f.write_str("body does not match Content-Digest"),
            Self::BodyTooLarge { limit } => write!(f, "body larger than {limit} bytes"),
        }
    }
}

impl std::error::Error for HttpSigError {}

impl From<ReplayStoreUnavailable> for HttpSigError {
    fn from(_: ReplayStoreUnavailable) -> Self {
        Self::ReplayStoreUnavailable
    }
}

impl From<Malformed> for HttpSigError {
    fn from(m: Malformed) -> Self {
        Self::Malformed(m)
    }
}

impl From<BaseError> for HttpSigError {
    fn from(b: BaseError) -> Self {
        Self::BaseMismatch(b)
    }
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SignatureInput => f.write_str("Signature-Input is not a valid dictionary"),
            Self::Signature => f.write_str("Signature is not a valid dictionary"),
            Self::DuplicateLabel => f.write_str("a label appears twice"),
            Self::ComponentIdentifier => f.write_str("invalid component identifier"),
            Self::DuplicateComponent => f.write_str("a component is covered twice"),
            Self::Parameter(p) => write!(f, "parameter {p} has the wrong type"),
            Self::MissingParameter(p) => write!(f, "parameter {p} is missing"),
            Self::DuplicateParameter(p) => write!(f, "the signing order lists parameter {p} twice"),
            Self::SignerInput(p) => write!(f, "{p} cannot be serialised as a structured field"),
        }
    }
}

impl fmt::Display for BaseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingField(n) => write!(f, "covered field {n} is absent"),
            Self::InvalidFieldValue(n) => write!(f, "field {n} holds a control character"),
            Self::UnsupportedComponent(c) => write!(f, "unsupported component {c}"),
            Self::UnsupportedParameter(p) => write!(f, "unsupported component parameter {p}"),
            Self::RequestBindingInRequest => f.write_str(";req in a request signature"),
            Self::MissingRequest => f.write_str(";req components but no request given"),
            Self::WrongMessageKind(c) => write!(f, "{c} does not exist on this message"),
            Self::InvalidMethod => f.write_str("method is not a token"),
            Self::InvalidTargetUri => f.write_str("target URI is not an absolute http(s) URI"),
            Self::InvalidStatus => f.write_str("status is not a three-digit code"),
            Self::QueryParamAbsent(n) => write!(f, "query parameter {n} is absent"),
            Self::QueryParamRepeated(n) => write!(f, "query parameter {n} occurs twice"),
        }
    }
}

impl fmt::Display for Staleness {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooOld => "created is older than the maximum age",
            Self::InFuture => "created is in the future beyond the clock skew",
            Self::Expired => "expires has passed",
        })
    }
}

/// A raw HTTP/1.1 message that does not parse, or a message that cannot be
/// written as HTTP/1.1.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Http1Error {
    /// No start line at all.
    Empty,
    /// The request line is not `method SP target SP version`.
    InvalidRequestLine,
    /// The status line is not `version SP 3DIGIT [SP reason]`, or the code
    /// is outside 100–599.
    InvalidStatusLine,
    /// A version other than `HTTP/1.1` or `HTTP/1.0`.
    UnsupportedVersion,
    /// An asterisk-form or authority-form request target.
    UnsupportedTargetForm,
    /// The target (or the target URI built from it and `Host`) is not a
    /// valid absolute `http`/`https` URI.
    InvalidTarget,
    /// A header line without a colon, with an invalid name, whitespace
    /// before the colon, or a control character in the value.
    InvalidHeaderLine,
    /// A header line continued with leading whitespace (obs-fold, RFC 9112
    /// §5.2), which is rejected rather than guessed at.
    ObsoleteLineFolding,
    /// A start line or header that is not UTF-8.
    NotUtf8,
    /// An origin-form request without a `Host` field.
    MissingHost,
    /// More than one `Host` field.
    DuplicateHost,
    /// `Content-Length` is not a decimal number, or its instances disagree.
    InvalidContentLength,
    /// The body is not `Content-Length` bytes long.
    ContentLengthMismatch {
        /// The declared length.
        declared: u64,
        /// The length present.
        actual: usize,
    },
    /// `Transfer-Encoding` (chunked bodies) is not supported.
    TransferEncodingUnsupported,
    /// A method, header name or header value that cannot be written.
    InvalidMessage,
}

impl fmt::Display for Http1Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty HTTP message"),
            Self::InvalidRequestLine => f.write_str("invalid request line"),
            Self::InvalidStatusLine => f.write_str("invalid status line"),
            Self::UnsupportedVersion => f.write_str("unsupported HTTP version"),
            Self::UnsupportedTargetForm => f.write_str("unsupported request-target form"),
            Self::InvalidTarget => f.write_str("invalid request target"),
            Self::InvalidHeaderLine => f.write_str("invalid header line"),
            Self::ObsoleteLineFolding => f.write_str("obsolete header line folding"),
            Self::NotUtf8 => f.write_str("start line or header is not UTF-8"),
            Self::MissingHost => f.write_str("origin-form request without Host"),
            Self::DuplicateHost => f.write_str("more than one Host field"),
            Self::InvalidContentLength => f.write_str("invalid Content-Length"),
            Self::ContentLengthMismatch { declared, actual } => {
                write!(
                    f,
                    "Content-Length is {declared} but the body has {actual} bytes"
                )
            }
            Self::TransferEncodingUnsupported => f.write_str("Transfer-Encoding not supported"),
            Self::InvalidMessage => f.write_str("message cannot be written as HTTP/1.1"),
        }
    }
}

impl std::error::Error for Http1Error {}
