//! Byte encodings used on the wire (PROTOCOL.md §1).
//!
//! `hex` is lower case without `0x`; `base64` is RFC 4648 §4 with padding;
//! `base64url-raw` is RFC 4648 §5 without padding; `base58` is the Bitcoin
//! alphabet. Decoders are strict: they reject the other alphabets and, for
//! the raw URL form, padding.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

/// Why a string could not be decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeError {
    /// Not valid hexadecimal (odd length or a non-hex character).
    Hex,
    /// Not valid standard base64 with padding.
    Base64,
    /// Not valid unpadded base64url.
    Base64Url,
    /// Not valid base58 (Bitcoin alphabet).
    Base58,
    /// Decoded, but the length is not the one required.
    Length {
        /// Required length in bytes.
        expected: usize,
        /// Length found.
        found: usize,
    },
}

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Hex => f.write_str("invalid hex"),
            Self::Base64 => f.write_str("invalid base64"),
            Self::Base64Url => f.write_str("invalid base64url (unpadded)"),
            Self::Base58 => f.write_str("invalid base58"),
            Self::Length { expected, found } => {
                write!(f, "wrong length: expected {expected} bytes, found {found}")
            }
        }
    }
}

impl std::error::Error for DecodeError {}

/// Lower-case hex.
pub fn hex_encode(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// Decodes hex (either case accepted, as Go's `hex.DecodeString` does).
///
/// # Errors
/// [`DecodeError::Hex`] on odd length or a non-hex character.
pub fn hex_decode(s: &str) -> Result<Vec<u8>, DecodeError> {
    hex::decode(s).map_err(|_| DecodeError::Hex)
}

/// Standard base64 with padding.
pub fn b64_encode(bytes: &[u8]) -> String {
    STANDARD.encode(bytes)
}

/// Decodes standard base64 with padding.
///
/// # Errors
/// [`DecodeError::Base64`] on anything else.
pub fn b64_decode(s: &str) -> Result<Vec<u8>, DecodeError> {
    STANDARD.decode(s).map_err(|_| DecodeError::Base64)
}

/// Unpadded base64url.
pub fn b64url_encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes unpadded base64url.
///
/// # Errors
/// [`DecodeError::Base64Url`] on padding, the standard alphabet or bad input.
pub fn b64url_decode(s: &str) -> Result<Vec<u8>, DecodeError> {
    URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| DecodeError::Base64Url)
}

/// Decodes unpadded base64url into exactly `N` bytes.
///
/// # Errors
/// [`DecodeError::Base64Url`] or [`DecodeError::Length`].
pub fn b64url_decode_array<const N: usize>(s: &str) -> Result<[u8; N], DecodeError> {
    let v = b64url_decode(s)?;
    <[u8; N]>::try_from(v.as_slice()).map_err(|_| DecodeError::Length {
        expected: N,
        found: v.len(),
    })
}

/// Base58 (Bitcoin alphabet).
pub fn b58_encode(bytes: &[u8]) -> String {
    bs58::encode(bytes).into_string()
}

/// Decodes base58 (Bitcoin alphabet).
///
/// # Errors
/// [`DecodeError::Base58`] on a character outside the alphabet.
pub fn b58_decode(s: &str) -> Result<Vec<u8>, DecodeError> {
    bs58::decode(s).into_vec().map_err(|_| DecodeError::Base58)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_rejects_padding_and_standard_alphabet() {
        assert_eq!(b64url_decode("AAE"), Ok(vec![0, 1]));
        assert_eq!(b64url_decode("AAE="), Err(DecodeError::Base64Url));
        assert_eq!(b64url_decode("+/8"), Err(DecodeError::Base64Url));
    }

    #[test]
    fn base64_requires_padding() {
        assert_eq!(b64_decode("AAE="), Ok(vec![0, 1]));
        assert_eq!(b64_decode("AAE"), Err(DecodeError::Base64));
    }

    #[test]
    fn base58_keeps_leading_zeros() {
        assert_eq!(b58_encode(&[0, 0, 1]), "112");
        assert_eq!(b58_decode("112"), Ok(vec![0, 0, 1]));
        assert_eq!(b58_decode("0OIl"), Err(DecodeError::Base58));
    }

    #[test]
    fn array_decode_checks_length() {
        assert_eq!(
            b64url_decode_array::<3>("AAE"),
            Err(DecodeError::Length {
                expected: 3,
                found: 2
            })
        );
    }
}
