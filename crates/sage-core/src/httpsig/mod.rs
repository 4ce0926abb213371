//! RFC 9421 HTTP Message Signatures and RFC 9530 Content-Digest, as the
//! SAGE \[L\] profile uses them (PROTOCOL.md §5.1–§5.5, §18.4, §18.7, §18.8).
//!
//! Layer: message authentication over HTTP, above the primitives (§3) and
//! below the transport envelope (§12). Sans-IO: messages come in as values
//! ([`HttpRequest`], [`HttpResponse`], or bytes through [`http1`]), time as a
//! [`crate::time::Timestamp`], replay memory as a
//! [`crate::replay::ReplayStore`].
//!
//! - Signing: [`sign_request`] / [`sign_response`] (or the `*_in_place`
//!   helpers, which also set `Content-Digest`, `Signature-Input` and
//!   `Signature`), with [`SignatureParams`] (parameter order:
//!   [`SignatureParam`]) and the recommended covered sets
//!   [`request_components`] / [`response_components`].
//! - Verifying, in two steps so the key can be resolved from the `keyid`
//!   in between: [`ParsedSignature::from_request`] /
//!   [`ParsedSignature::from_response`], then [`ParsedSignature::verify`]
//!   with [`VerifyOptions`], giving a [`VerifiedSignature`].
//! - Digests: [`content_digest`] and [`verify_content_digest`].
//!
//! What it does not do: resolve keys or DIDs, read clocks, talk to sockets,
//! decode `Transfer-Encoding`, or sign with the 0.10.0 rules (\[N\], §5.6).
//!
//! Invariants: the `"@signature-params"` line of a verified base is the
//! received `Signature-Input` member text byte for byte (draft.2); a nonce
//! is recorded only after everything else, the signature included, has
//! passed; every error maps to one §13.6 code ([`HttpSigError::code`]).

mod base;
mod component;
mod digest;
mod error;
pub mod http1;
mod message;
mod params;
mod sfdict;
mod sign;
mod uri;
mod verify;

#[cfg(test)]
mod tests;

pub use component::{ComponentId, ComponentName, DerivedComponent};
pub use digest::{MAX_BODY_LEN, content_digest, verify_content_digest};
pub use error::{BaseError, Http1Error, HttpSigError, Malformed, Staleness};
pub use message::{HttpRequest, HttpResponse, Scheme};
pub use params::{DEFAULT_LABEL, SignatureParam, SignatureParams};
pub use sign::{
    SignatureOutput, request_components, response_components, sign_request, sign_request_in_place,
    sign_response, sign_response_in_place,
};
pub use verify::{ParsedSignature, UnrecordedSignature, VerifiedSignature, VerifyOptions};
