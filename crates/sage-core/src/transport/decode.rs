//! Strict member extraction shared by the two envelope decoders.
//!
//! Received envelopes go through the strict [`jcs::parse`](crate::jcs::parse)
//! (duplicate members, invalid UTF-8, lone surrogates and excess depth are
//! refused), then each member is read with its type and size checked here.
//! Unknown members are ignored, as the Go core's `encoding/json` ignores
//! them. A `null` for a byte-string member reads as empty, because Go
//! marshals a nil `[]byte` as `null`.

use crate::encoding::b64_decode;
use crate::jcs::{Object, ParseLimits, Value, parse_with_limits};

use super::error::TransportError;

/// Nesting allowed in an envelope: the object, `metadata`, and room for
/// unknown members a newer peer may add.
const MAX_DEPTH: usize = 16;

/// Parses `bytes` (at most `max_len`) into the top-level object.
pub(super) fn parse_object(bytes: &[u8], max_len: usize) -> Result<Object, TransportError> {
    if bytes.len() > max_len {
        return Err(TransportError::TooLarge {
            limit: max_len,
            found: bytes.len(),
        });
    }
    let limits = ParseLimits {
        max_depth: MAX_DEPTH,
        max_input_len: max_len,
    };
    match parse_with_limits(bytes, limits).map_err(TransportError::Json)? {
        Value::Object(object) => Ok(object),
        _ => Err(TransportError::NotAnObject),
    }
}

/// Checks that `text` is at most `max_len` bytes.
pub(super) fn check_len(
    member: &'static str,
    text: &str,
    max_len: usize,
) -> Result<(), TransportError> {
    if text.len() > max_len {
        return Err(TransportError::MemberTooLong {
            member,
            limit: max_len,
        });
    }
    Ok(())
}

/// A string member; absent reads as empty.
pub(super) fn string(
    object: &Object,
    member: &'static str,
    max_len: usize,
) -> Result<String, TransportError> {
    match object.get(member) {
        None => Ok(String::new()),
        Some(Value::String(s)) => {
            check_len(member, s, max_len)?;
            Ok(s.clone())
        }
        Some(_) => Err(TransportError::WrongType(member)),
    }
}

/// A string member that must be present.
pub(super) fn required_string(
    object: &Object,
    member: &'static str,
    max_len: usize,
) -> Result<String, TransportError> {
    if !object.contains_key(member) {
        return Err(TransportError::MissingMember(member));
    }
    string(object, member, max_len)
}

/// A boolean member that must be present.
pub(super) fn required_bool(object: &Object, member: &'static str) -> Result<bool, TransportError> {
    match object.get(member) {
        None => Err(TransportError::MissingMember(member)),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(TransportError::WrongType(member)),
    }
}

/// A standard-base64 member of at most `max_decoded` bytes; absent or
/// `null` reads as empty. The encoded length is checked before decoding.
pub(super) fn base64_bytes(
    object: &Object,
    member: &'static str,
    max_decoded: usize,
) -> Result<Vec<u8>, TransportError> {
    match object.get(member) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => {
            // ceil(n / 3) * 4 characters encode n bytes with padding.
            let max_encoded = max_decoded.div_ceil(3).saturating_mul(4);
            if s.len() > max_encoded {
                return Err(TransportError::MemberTooLong {
                    member,
                    limit: max_decoded,
                });
            }
            b64_decode(s).map_err(|_| TransportError::Base64(member))
        }
        Some(_) => Err(TransportError::WrongType(member)),
    }
}
