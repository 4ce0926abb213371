//! RFC 9530 `Content-Digest` with `sha-256` (PROTOCOL.md §5.1, §5.5 step 6).
//!
//! Layer: RFC 9530, beside the signature. [`content_digest`] writes
//! `sha-256=:<base64>:` over the body as sent; [`verify_content_digest`]
//! parses the received dictionary and compares its `sha-256` member with
//! the body as received, in constant time.
//!
//! Other algorithms may sit beside `sha-256` and are ignored; a field with
//! only other algorithms is refused, since nothing in it can be checked.
//! Bodies above the limit (16 MiB by default) are refused before hashing.

use sfv::{BareItem, ListEntry};
use subtle::ConstantTimeEq as _;

use super::error::HttpSigError;
use super::sfdict::parse_members;
use crate::encoding::b64_encode;
use crate::primitives::sha256;

/// The largest body a verifier buffers and hashes: 16 MiB (§5.5 step 6).
pub const MAX_BODY_LEN: usize = 16 * 1024 * 1024;

/// The RFC 9530 algorithm key this profile emits and checks.
const SHA_256: &str = "sha-256";

/// The `Content-Digest` value of `body`: `sha-256=:<base64 of SHA-256>:`.
#[must_use]
pub fn content_digest(body: &[u8]) -> String {
    format!("{SHA_256}=:{}:", b64_encode(&sha256(body)))
}

/// Checks a received `Content-Digest` field value against `body`.
///
/// # Errors
/// - [`HttpSigError::BodyTooLarge`] if `body` is longer than `max_body_len`;
/// - [`HttpSigError::DigestMalformed`] if the field is not an RFC 8941
///   dictionary (or repeats a key), or its `sha-256` member is not a 32-byte
///   byte sequence;
/// - [`HttpSigError::DigestAlgorithmUnsupported`] if it has no `sha-256`
///   member;
/// - [`HttpSigError::DigestMismatch`] if the body hashes to another value.
pub fn verify_content_digest(
    field: &str,
    body: &[u8],
    max_body_len: usize,
) -> Result<(), HttpSigError> {
    if body.len() > max_body_len {
        return Err(HttpSigError::BodyTooLarge {
            limit: max_body_len,
        });
    }
    let members = parse_members(field).map_err(|_| HttpSigError::DigestMalformed)?;
    let member = members
        .iter()
        .find(|m| m.name == SHA_256)
        .ok_or(HttpSigError::DigestAlgorithmUnsupported)?;
    let ListEntry::Item(item) = &member.entry else {
        return Err(HttpSigError::DigestMalformed);
    };
    let BareItem::ByteSequence(claimed) = &item.bare_item else {
        return Err(HttpSigError::DigestMalformed);
    };
    if claimed.len() != 32 {
        return Err(HttpSigError::DigestMalformed);
    }
    if bool::from(sha256(body).as_slice().ct_eq(claimed.as_slice())) {
        Ok(())
    } else {
        Err(HttpSigError::DigestMismatch)
    }
}
