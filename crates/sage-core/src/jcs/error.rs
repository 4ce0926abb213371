//! Why a JSON text was refused (PROTOCOL.md §4).
//!
//! Layer: JCS, the bottom of everything that signs JSON. A [`JcsError`] is a
//! byte offset plus an [`ErrorCause`]; it says what was wrong and where, so a
//! peer's malformed card or handshake envelope can be diagnosed from a log
//! line. It holds no secrets: the only data it copies out of the input is a
//! duplicated member name, which the sender chose.
//!
//! Offsets count bytes from the start of the input, starting at 0.

use core::fmt;

/// A JSON text that the strict parser refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JcsError {
    offset: usize,
    cause: ErrorCause,
}

impl JcsError {
    pub(super) fn new(offset: usize, cause: ErrorCause) -> Self {
        Self { offset, cause }
    }

    /// Byte offset in the input where the problem was found.
    #[must_use]
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// What was wrong.
    #[must_use]
    pub fn cause(&self) -> &ErrorCause {
        &self.cause
    }
}

/// What was wrong with the JSON text.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorCause {
    /// The input is longer than [`ParseLimits::max_input_len`](super::ParseLimits::max_input_len).
    TooLarge {
        /// The limit that was exceeded, in bytes.
        limit: usize,
    },
    /// The input starts with a UTF-8 byte order mark.
    ByteOrderMark,
    /// The input is not well-formed UTF-8.
    InvalidUtf8,
    /// Arrays and objects are nested deeper than the limit allows.
    TooDeep {
        /// The maximum depth; the outermost container has depth 1.
        limit: usize,
    },
    /// The input ended inside a value.
    UnexpectedEnd,
    /// A character that the JSON grammar does not allow here.
    UnexpectedCharacter(char),
    /// Something other than whitespace follows the top-level value.
    TrailingData,
    /// A raw control character (below U+0020) inside a string.
    ControlCharacter(u8),
    /// A backslash escape that JSON does not define, or bad `\u` hex digits.
    InvalidEscape,
    /// A `\u` escape of a UTF-16 surrogate that is not part of a valid pair.
    LoneSurrogate(u16),
    /// A number that breaks the JSON grammar (`01`, `1.`, `.5`, `+1`, `NaN`,
    /// `Infinity`, ...).
    InvalidNumber,
    /// A number too large in magnitude for an IEEE 754 double.
    NumberOutOfRange,
    /// Two members of one object have the same name (after unescaping).
    DuplicateKey(String),
}

/// How many characters of a duplicated member name a message shows.
const NAME_SHOWN_CHARS: usize = 64;

impl fmt::Display for ErrorCause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { limit } => write!(f, "input longer than {limit} bytes"),
            Self::ByteOrderMark => f.write_str("byte order mark"),
            Self::InvalidUtf8 => f.write_str("invalid UTF-8"),
            Self::TooDeep { limit } => write!(f, "nesting deeper than {limit}"),
            Self::UnexpectedEnd => f.write_str("unexpected end of input"),
            Self::UnexpectedCharacter(c) => write!(f, "unexpected character {c:?}"),
            Self::TrailingData => f.write_str("data after the top-level value"),
            Self::ControlCharacter(b) => write!(f, "raw control character U+{b:04X} in string"),
            Self::InvalidEscape => f.write_str("invalid escape sequence"),
            Self::LoneSurrogate(unit) => write!(f, "unpaired surrogate \\u{unit:04X}"),
            Self::InvalidNumber => f.write_str("malformed number"),
            Self::NumberOutOfRange => f.write_str("number out of the range of a double"),
            Self::DuplicateKey(name) => {
                // Debug formatting quotes and escapes the name, so a hostile
                // name cannot forge log lines; long names are cut short.
                if name.chars().nth(NAME_SHOWN_CHARS).is_some() {
                    let shown: String = name.chars().take(NAME_SHOWN_CHARS).collect();
                    write!(f, "duplicate member name {shown:?}...")
                } else {
                    write!(f, "duplicate member name {name:?}")
                }
            }
        }
    }
}

impl fmt::Display for JcsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at byte {}", self.cause, self.offset)
    }
}

impl std::error::Error for JcsError {}
