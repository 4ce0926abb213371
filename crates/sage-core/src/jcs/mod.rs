//! RFC 8785 JSON Canonicalization Scheme with a strict parser (PROTOCOL.md §4).
//!
//! Layer: the bottom of everything in \[L\] that signs JSON: the HPKE response
//! envelope (signed without `sigB64`) and the A2A agent card (signed without
//! `proof`). Signer and verifier must produce the same bytes from the same
//! JSON, so this module does two things and nothing else:
//!
//! - [`parse`]: a strict RFC 8259 parser into a [`Value`] whose objects keep
//!   their received member order. It refuses the inputs on which parsers
//!   disagree (duplicate names, lone surrogates, invalid UTF-8, malformed or
//!   overflowing numbers, ...), with a typed [`JcsError`] and byte offset.
//! - canonical serialisation ([`Value::to_canonical_bytes`],
//!   [`canonicalize`], [`canonicalize_serde`]): members sorted by UTF-16
//!   code units, strings and numbers written as ECMAScript writes them.
//!
//! It does not remove signature members, sign or verify: callers take the
//! member out of the [`Object`] (with [`Object::remove`]) and sign the bytes.
//!
//! \[L\] vs \[N\]: `-0` is accepted and written as `0`, and integers beyond 2^53
//! are accepted (rounded to a double), because the \[L\] `numbers` vector has
//! both. The default limits are depth 128 and 16 MiB; \[N\]'s depth 64 can be
//! asked for with [`parse_with_limits`].

mod error;
mod number;
mod parser;
mod serde_bridge;
mod serialize;
mod value;

#[cfg(test)]
mod tests;

pub use error::{ErrorCause, JcsError};
pub use parser::{ParseLimits, parse, parse_with_limits};
pub use serde_bridge::canonicalize_serde;
pub use value::{Object, Value};

/// Parses `input` strictly and returns its RFC 8785 canonical form.
///
/// # Errors
/// Whatever [`parse`] refuses, as a [`JcsError`] with the byte offset.
pub fn canonicalize(input: &[u8]) -> Result<Vec<u8>, JcsError> {
    canonicalize_with_limits(input, ParseLimits::default())
}

/// [`canonicalize`] with caller-chosen [`ParseLimits`].
///
/// # Errors
/// Whatever [`parse_with_limits`] refuses, as a [`JcsError`] with the byte
/// offset.
pub fn canonicalize_with_limits(input: &[u8], limits: ParseLimits) -> Result<Vec<u8>, JcsError> {
    let value = parse_with_limits(input, limits)?;
    let mut out = Vec::with_capacity(input.len());
    value.write_canonical(&mut out);
    Ok(out)
}
