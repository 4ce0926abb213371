//! Transport envelopes of the \[L\] profile: `WireMessage`, `WireResponse`
//! and their HTTP header mirror (PROTOCOL.md §12.1).
//!
//! Layer: carriage, the top of the stack. A [`WireMessage`] carries a
//! payload (the handshake's init payload, an application record) with the
//! sender's DID and a signature over the raw payload bytes; a
//! [`WireResponse`] answers it. Over HTTP the request goes to
//! `POST {base}/messages` with `X-SAGE-*` headers that mirror the body
//! ([`WireMessage::mirror_headers`], [`WireMessage::check_headers`]); over
//! WebSocket the same JSON travels without the headers.
//!
//! What it does not do: no HTTP, no sockets, no RFC 9421 (that is
//! [`crate::httpsig`]), no DID resolution (the caller finds the key that
//! [`WireMessage::verify_payload`] needs), and no meaning for `payload`.
//!
//! Invariants:
//! - decoding is strict and bounded: input size first, then strict JSON
//!   (duplicate members refused), then every member's type and size, before
//!   any base64 is decoded; unknown members are ignored, as the Go
//!   core ignores them;
//! - encoding omits empty optional members, as the Go core does, and writes
//!   byte strings as standard padded base64;
//! - a mirror header that is present must agree with the body.

mod decode;
mod error;
mod headers;
mod message;
mod response;

#[cfg(test)]
mod tests;

pub use error::{MirrorHeader, TransportError};
pub use headers::{
    HEADER_CONTEXT_ID, HEADER_DID, HEADER_MESSAGE_ID, HEADER_META_PREFIX, HEADER_TASK_ID,
};
pub use message::{
    DEFAULT_MAX_ENVELOPE_LEN, MAX_DID_LEN, MAX_ID_LEN, MAX_METADATA_ENTRIES, MAX_METADATA_KEY_LEN,
    MAX_METADATA_VALUE_LEN, MAX_ROLE_LEN, MAX_SIGNATURE_LEN, WireMessage,
};
pub use response::{MAX_ERROR_LEN, WireResponse};
