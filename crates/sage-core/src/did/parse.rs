//! The \[L\] `did:sage` grammar and DID URLs (PROTOCOL.md §8.1, §18.3, §5.3).
//!
//! Layer: `did:sage` grammar, the bottom of the identifier layer.
//!
//! [`Did::parse`] runs the §8.1 procedure that reproduces the `parse`
//! vector (its `rejected` list is normative), tightened by §18.3:
//!
//! 1. at least 10 bytes, and no whitespace anywhere (never trimmed);
//! 2. the `did:sage:` prefix, in lower case;
//! 3. at least four `:`-separated parts; the identifier is everything after
//!    the third colon, verbatim (so it may hold further colons) and not
//!    empty;
//! 4. the method-specific part holds only RFC 3986 `unreserved` characters
//!    and `:`;
//! 5. the chain segment goes through [`Chain::parse`], so its case and the
//!    `eth`/`sol` aliases are free.
//!
//! Invariant: a [`Did`] keeps the string exactly as received
//! (`did:sage:ETHEREUM:agent-one` stays so), because the PoP challenge and
//! every comparison use that string; equality is string equality.
//!
//! [`DidUrl`] splits a key reference (`keyid`, `verificationMethod`) at the
//! first `#`. It does not resolve anything; in \[L\] the fragment does not
//! select a key (§8.4).
//!
//! The \[N\] registry-qualified grammar (§8.7) is a different identifier and
//! will be a different type.

use core::fmt;
use core::str::FromStr;

use super::chain::Chain;
use super::error::DidError;

/// The shortest string §8.1 step 1 lets through, in bytes.
const MIN_LEN: usize = 10;
const SCHEME: &str = "did:";
const METHOD: &str = "sage";

/// A parsed \[L\] `did:sage` identifier.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Did {
    /// The identifier as received.
    text: String,
    /// The normalised chain of the third segment.
    chain: Chain,
    /// Byte offset of the method-specific identifier in `text`: just past
    /// the third colon, so always a char boundary inside `text`.
    identifier_at: usize,
}

impl Did {
    /// Parses an identifier with the §8.1 procedure and the §18.3 rules.
    ///
    /// # Errors
    /// The [`DidError`] naming the first rule the input breaks.
    pub fn parse(input: &str) -> Result<Self, DidError> {
        if input.len() < MIN_LEN {
            return Err(DidError::TooShort);
        }
        if input.chars().any(char::is_whitespace) {
            return Err(DidError::Whitespace);
        }
        let Some(after_scheme) = input.strip_prefix(SCHEME) else {
            return Err(if starts_with_ignore_case(input, SCHEME) {
                DidError::PrefixNotLowerCase
            } else {
                DidError::NotADid
            });
        };
        let mut parts = after_scheme.splitn(3, ':');
        let method = parts.next().unwrap_or_default();
        if method != METHOD {
            return Err(if method.eq_ignore_ascii_case(METHOD) {
                DidError::PrefixNotLowerCase
            } else {
                DidError::NotSageMethod
            });
        }
        let (Some(chain), Some(identifier)) = (parts.next(), parts.next()) else {
            return Err(DidError::MissingParts);
        };
        if chain.is_empty() {
            return Err(DidError::EmptyChain);
        }
        if identifier.is_empty() {
            return Err(DidError::EmptyIdentifier);
        }
        let chain_at = SCHEME.len() + METHOD.len() + 1;
        let identifier_at = chain_at + chain.len() + 1;
        check_method_specific(chain, chain_at)?;
        check_method_specific(identifier, identifier_at)?;
        let chain = Chain::parse(chain)?;
        Ok(Self {
            text: input.to_owned(),
            chain,
            identifier_at,
        })
    }

    /// Builds `did:sage:<chain>:<identifier>` with the normalised chain name
    /// (vector `chain-aliases` → `generated`).
    ///
    /// # Errors
    /// As [`Did::parse`] on the result: an empty identifier, whitespace, or a
    /// character outside `unreserved` and `:`.
    pub fn new(chain: Chain, identifier: &str) -> Result<Self, DidError> {
        Self::parse(&format!("{SCHEME}{METHOD}:{chain}:{identifier}"))
    }

    /// The identifier exactly as received.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The chain, normalised.
    pub fn chain(&self) -> Chain {
        self.chain
    }

    /// Everything after the third colon, verbatim (`0x…:42` for
    /// `did:sage:ethereum:0x…:42`).
    pub fn identifier(&self) -> &str {
        // In bounds and on a char boundary by construction (see the field).
        &self.text[self.identifier_at..]
    }

    /// The identifier as an owned string.
    pub fn into_string(self) -> String {
        self.text
    }
}

/// Checks the §8.1 grammar's character set: `unreserved` and `:`.
fn check_method_specific(part: &str, base: usize) -> Result<(), DidError> {
    match part
        .char_indices()
        .find(|&(_, c)| !(is_unreserved(c) || c == ':'))
    {
        Some((i, _)) => Err(DidError::InvalidCharacter { offset: base + i }),
        None => Ok(()),
    }
}

/// RFC 3986 `unreserved`: `ALPHA / DIGIT / "-" / "." / "_" / "~"`.
fn is_unreserved(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~')
}

fn starts_with_ignore_case(s: &str, prefix: &str) -> bool {
    s.get(..prefix.len())
        .is_some_and(|head| head.eq_ignore_ascii_case(prefix))
}

impl fmt::Debug for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Did").field(&self.text).finish()
    }
}

impl fmt::Display for Did {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl FromStr for Did {
    type Err = DidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl AsRef<str> for Did {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl serde::Serialize for Did {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> serde::Deserialize<'de> for Did {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// A DID URL as used for key references: `<did>[#<fragment>]`.
///
/// The DID is everything before the first `#` (§5.3) and must parse as a
/// [`Did`]; the fragment, when there is a `#`, must be non-empty and made of
/// RFC 3986 fragment characters.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DidUrl {
    did: Did,
    fragment: Option<String>,
}

impl DidUrl {
    /// Parses a DID URL.
    ///
    /// # Errors
    /// [`DidError::InvalidFragment`] for an empty or malformed fragment;
    /// otherwise as [`Did::parse`] on the part before `#`.
    pub fn parse(input: &str) -> Result<Self, DidError> {
        let (did, fragment) = match input.split_once('#') {
            Some((did, fragment)) => {
                if !is_fragment(fragment) {
                    return Err(DidError::InvalidFragment);
                }
                (did, Some(fragment.to_owned()))
            }
            None => (input, None),
        };
        Ok(Self {
            did: Did::parse(did)?,
            fragment,
        })
    }

    /// A DID URL naming `fragment` within `did`.
    ///
    /// # Errors
    /// [`DidError::InvalidFragment`] for an empty or malformed fragment.
    pub fn with_fragment(did: Did, fragment: &str) -> Result<Self, DidError> {
        if !is_fragment(fragment) {
            return Err(DidError::InvalidFragment);
        }
        Ok(Self {
            did,
            fragment: Some(fragment.to_owned()),
        })
    }

    /// The DID part.
    pub fn did(&self) -> &Did {
        &self.did
    }

    /// The fragment without its `#`, if there is one.
    pub fn fragment(&self) -> Option<&str> {
        self.fragment.as_deref()
    }
}

/// RFC 3986 `fragment = *( pchar / "/" / "?" )`, made non-empty here, with
/// `pchar = unreserved / pct-encoded / sub-delims / ":" / "@"`.
fn is_fragment(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |k: usize| bytes.get(i + k).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(1) && hex(2)) {
                return false;
            }
            i += 3;
            continue;
        }
        let allowed = b.is_ascii_alphanumeric()
            || matches!(
                b,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'!'
                    | b'$'
                    | b'&'
                    | b'\''
                    | b'('
                    | b')'
                    | b'*'
                    | b'+'
                    | b','
                    | b';'
                    | b'='
                    | b':'
                    | b'@'
                    | b'/'
                    | b'?'
            );
        if !allowed {
            return false;
        }
        i += 1;
    }
    !bytes.is_empty()
}

impl fmt::Debug for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("DidUrl").field(&self.to_string()).finish()
    }
}

impl fmt::Display for DidUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.did.as_str())?;
        if let Some(fragment) = &self.fragment {
            write!(f, "#{fragment}")?;
        }
        Ok(())
    }
}

impl FromStr for DidUrl {
    type Err = DidError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}
