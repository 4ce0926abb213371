//! Strict RFC 8259 parser for JCS input (PROTOCOL.md §4).
//!
//! Layer: JCS parser. Bytes in, [`Value`] out. Canonicalisation is only as
//! good as the parse in front of it: a lax parser lets two parties read one
//! signed text differently. So this parser refuses, with the byte offset:
//!
//! - input over the size limit, a UTF-8 byte order mark, invalid UTF-8;
//! - duplicate member names, compared after unescaping;
//! - `\u` escapes of unpaired surrogates, unknown escapes, raw control
//!   characters in strings;
//! - numbers outside the RFC 8259 grammar (`01`, `1.`, `.5`, `+1`, `NaN`,
//!   `Infinity`) and numbers that overflow a double;
//! - anything but whitespace after the value, nesting beyond the limit.
//!
//! It accepts `-0` (read as −0.0, written back as `0`) and numbers that
//! underflow to zero, because \[L\] does: the `numbers` vector of `jcs.json`
//! canonicalises `-0`. Rejecting them is an \[N\] rule (JCS-01), not ours.
//!
//! Numbers become the correctly rounded nearest double (`str::parse::<f64>`
//! on the validated token). Strings without escapes are copied once; escaped
//! strings are built in one buffer; nothing allocates per character.
//!
//! Invariant: recursion depth is bounded by [`ParseLimits::max_depth`],
//! itself capped at [`ParseLimits::DEPTH_CEILING`].

use super::error::{ErrorCause, JcsError};
use super::value::{Object, Value};

/// Bounds on what [`parse_with_limits`] accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseLimits {
    /// Deepest nesting of arrays and objects; the outermost container has
    /// depth 1, so 0 allows only a scalar. Values above
    /// [`ParseLimits::DEPTH_CEILING`] act as the ceiling.
    pub max_depth: usize,
    /// Longest input accepted, in bytes.
    pub max_input_len: usize,
}

impl ParseLimits {
    /// Hard cap on [`ParseLimits::max_depth`]. Parsing, serialising and
    /// dropping a [`Value`] recurse once per level; this cap keeps that well
    /// inside a 2 MiB thread stack whatever limit a caller asks for.
    pub const DEPTH_CEILING: usize = 1024;
}

impl Default for ParseLimits {
    /// Depth 128, 16 MiB.
    fn default() -> Self {
        Self {
            max_depth: 128,
            max_input_len: 16 * 1024 * 1024,
        }
    }
}

/// Parses one JSON text strictly, with [`ParseLimits::default`].
///
/// # Errors
/// A [`JcsError`] naming the first problem found and its byte offset; see
/// [`ErrorCause`] for the list.
pub fn parse(input: &[u8]) -> Result<Value, JcsError> {
    parse_with_limits(input, ParseLimits::default())
}

/// Parses one JSON text strictly, within `limits`.
///
/// # Errors
/// A [`JcsError`] naming the first problem found and its byte offset; see
/// [`ErrorCause`] for the list.
pub fn parse_with_limits(input: &[u8], limits: ParseLimits) -> Result<Value, JcsError> {
    if input.len() > limits.max_input_len {
        return Err(JcsError::new(
            limits.max_input_len,
            ErrorCause::TooLarge {
                limit: limits.max_input_len,
            },
        ));
    }
    if input.starts_with(b"\xEF\xBB\xBF") {
        return Err(JcsError::new(0, ErrorCause::ByteOrderMark));
    }
    let text = core::str::from_utf8(input)
        .map_err(|e| JcsError::new(e.valid_up_to(), ErrorCause::InvalidUtf8))?;
    let mut parser = Parser {
        text,
        bytes: input,
        pos: 0,
        depth: 0,
        max_depth: limits.max_depth.min(ParseLimits::DEPTH_CEILING),
        key_offsets: Vec::new(),
    };
    parser.skip_whitespace();
    let value = parser.parse_value()?;
    parser.skip_whitespace();
    if parser.pos < parser.bytes.len() {
        return Err(parser.error(ErrorCause::TrailingData));
    }
    Ok(value)
}

/// Objects with at most this many members are checked for duplicate names
/// pairwise; larger ones by sorting, so a hostile object with a million
/// members costs n log n, not n².
const PAIRWISE_DUPLICATE_CHECK_MAX: usize = 16;

struct Parser<'a> {
    /// The whole input, known to be valid UTF-8.
    text: &'a str,
    /// `text` as bytes.
    bytes: &'a [u8],
    pos: usize,
    depth: usize,
    max_depth: usize,
    /// Offsets of the member names of the objects being parsed, innermost
    /// last; shared by all levels so that it is allocated once.
    key_offsets: Vec<usize>,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.pos).copied()
    }

    fn error(&self, cause: ErrorCause) -> JcsError {
        JcsError::new(self.pos, cause)
    }

    /// The error for the byte at `pos`: end of input, or that character.
    fn unexpected(&self) -> JcsError {
        match self
            .text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
        {
            Some(c) => self.error(ErrorCause::UnexpectedCharacter(c)),
            None => self.error(ErrorCause::UnexpectedEnd),
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    /// Consumes `byte` or fails.
    fn expect(&mut self, byte: u8) -> Result<(), JcsError> {
        if self.peek() == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.unexpected())
        }
    }

    fn parse_value(&mut self) -> Result<Value, JcsError> {
        match self.peek() {
            None => Err(self.error(ErrorCause::UnexpectedEnd)),
            Some(b'{') => self.parse_object(),
            Some(b'[') => self.parse_array(),
            Some(b'"') => self.parse_string().map(Value::String),
            Some(b't') => self.parse_literal(b"true", Value::Bool(true)),
            Some(b'f') => self.parse_literal(b"false", Value::Bool(false)),
            Some(b'n') => self.parse_literal(b"null", Value::Null),
            Some(b'-' | b'0'..=b'9') => self.parse_number(),
            Some(b'+' | b'.') => Err(self.error(ErrorCause::InvalidNumber)),
            Some(_) => {
                let rest = self.bytes.get(self.pos..).unwrap_or_default();
                if rest.starts_with(b"NaN") || rest.starts_with(b"Infinity") {
                    Err(self.error(ErrorCause::InvalidNumber))
                } else {
                    Err(self.unexpected())
                }
            }
        }
    }

    fn parse_literal(&mut self, literal: &[u8], value: Value) -> Result<Value, JcsError> {
        for &expected in literal {
            if self.peek() != Some(expected) {
                return Err(self.unexpected());
            }
            self.pos += 1;
        }
        Ok(value)
    }

    /// Counts one more level of nesting for the container opening at `pos`.
    fn enter(&mut self) -> Result<(), JcsError> {
        if self.depth >= self.max_depth {
            return Err(self.error(ErrorCause::TooDeep {
                limit: self.max_depth,
            }));
        }
        self.depth += 1;
        Ok(())
    }

    fn parse_array(&mut self) -> Result<Value, JcsError> {
        self.enter()?;
        self.pos += 1; // '['
        let mut items = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b']') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                items.push(self.parse_value()?);
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b']') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.unexpected()),
                }
            }
        }
        self.depth -= 1;
        Ok(Value::Array(items))
    }

    fn parse_object(&mut self) -> Result<Value, JcsError> {
        self.enter()?;
        self.pos += 1; // '{'
        let offsets_start = self.key_offsets.len();
        let mut members = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(b'}') {
            self.pos += 1;
        } else {
            loop {
                self.skip_whitespace();
                if self.peek() != Some(b'"') {
                    return Err(self.unexpected());
                }
                let key_offset = self.pos;
                let name = self.parse_string()?;
                self.skip_whitespace();
                self.expect(b':')?;
                self.skip_whitespace();
                let value = self.parse_value()?;
                // Nested objects have already truncated their own offsets,
                // so this stays in step with `members`.
                self.key_offsets.push(key_offset);
                members.push((name, value));
                self.skip_whitespace();
                match self.peek() {
                    Some(b',') => self.pos += 1,
                    Some(b'}') => {
                        self.pos += 1;
                        break;
                    }
                    _ => return Err(self.unexpected()),
                }
            }
        }
        if let Some(index) = first_duplicate(&members) {
            let offset = self
                .key_offsets
                .get(offsets_start + index)
                .copied()
                .unwrap_or(self.pos);
            let name = members
                .into_iter()
                .nth(index)
                .map(|(name, _)| name)
                .unwrap_or_default();
            return Err(JcsError::new(offset, ErrorCause::DuplicateKey(name)));
        }
        self.key_offsets.truncate(offsets_start);
        self.depth -= 1;
        Ok(Value::Object(Object::from_unique_members(members)))
    }

    /// Parses a string literal; `pos` is at the opening quote.
    fn parse_string(&mut self) -> Result<String, JcsError> {
        self.pos += 1; // '"'
        let mut run_start = self.pos;
        // Allocated only when the string has an escape.
        let mut unescaped: Option<String> = None;
        loop {
            let rest = self.bytes.get(self.pos..).unwrap_or_default();
            let Some(skip) = rest
                .iter()
                .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            else {
                self.pos = self.bytes.len();
                return Err(self.error(ErrorCause::UnexpectedEnd));
            };
            self.pos += skip;
            let run = self.str_between(run_start, self.pos)?;
            match self.peek() {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(match unescaped {
                        Some(mut buffer) => {
                            buffer.push_str(run);
                            buffer
                        }
                        None => run.to_owned(),
                    });
                }
                Some(b'\\') => {
                    let buffer = unescaped.get_or_insert_with(String::new);
                    buffer.push_str(run);
                    let c = self.parse_escape()?;
                    buffer.push(c);
                    run_start = self.pos;
                }
                Some(control) => return Err(self.error(ErrorCause::ControlCharacter(control))),
                None => return Err(self.error(ErrorCause::UnexpectedEnd)),
            }
        }
    }

    /// The input text between two offsets that lie on ASCII bytes (quotes,
    /// backslashes), hence on character boundaries.
    fn str_between(&self, start: usize, end: usize) -> Result<&'a str, JcsError> {
        self.text
            .get(start..end)
            .ok_or_else(|| JcsError::new(start, ErrorCause::InvalidUtf8))
    }

    /// Parses one escape; `pos` is at the backslash.
    fn parse_escape(&mut self) -> Result<char, JcsError> {
        let escape_start = self.pos;
        self.pos += 1;
        let Some(kind) = self.peek() else {
            return Err(self.error(ErrorCause::UnexpectedEnd));
        };
        self.pos += 1;
        let c = match kind {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{08}',
            b'f' => '\u{0c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => return self.parse_unicode_escape(escape_start),
            _ => return Err(JcsError::new(escape_start, ErrorCause::InvalidEscape)),
        };
        Ok(c)
    }

    /// Finishes a `\uXXXX` escape (and its low-surrogate partner, if it
    /// opens a pair); `pos` is just after the `u`.
    fn parse_unicode_escape(&mut self, escape_start: usize) -> Result<char, JcsError> {
        let unit = self.parse_hex4(escape_start)?;
        let code_point = match unit {
            0xD800..=0xDBFF => {
                let pair_start = self.pos;
                let rest = self.bytes.get(self.pos..).unwrap_or_default();
                if !rest.starts_with(b"\\u") {
                    return Err(JcsError::new(escape_start, ErrorCause::LoneSurrogate(unit)));
                }
                self.pos += 2;
                let low = self.parse_hex4(pair_start)?;
                if !(0xDC00..=0xDFFF).contains(&low) {
                    return Err(JcsError::new(escape_start, ErrorCause::LoneSurrogate(unit)));
                }
                0x1_0000 + ((u32::from(unit) - 0xD800) << 10) + (u32::from(low) - 0xDC00)
            }
            0xDC00..=0xDFFF => {
                return Err(JcsError::new(escape_start, ErrorCause::LoneSurrogate(unit)));
            }
            _ => u32::from(unit),
        };
        char::from_u32(code_point)
            .ok_or_else(|| JcsError::new(escape_start, ErrorCause::LoneSurrogate(unit)))
    }

    /// Reads the four hex digits of a `\u` escape that starts at
    /// `escape_start`.
    fn parse_hex4(&mut self, escape_start: usize) -> Result<u16, JcsError> {
        let mut unit: u16 = 0;
        for _ in 0..4 {
            let digit = match self.peek() {
                None => return Err(self.error(ErrorCause::UnexpectedEnd)),
                Some(b) => char::from(b)
                    .to_digit(16)
                    .ok_or_else(|| JcsError::new(escape_start, ErrorCause::InvalidEscape))?,
            };
            // Four hex digits fit in 16 bits; `digit` is below 16.
            unit = (unit << 4) | digit as u16;
            self.pos += 1;
        }
        Ok(unit)
    }

    /// Parses a number; `pos` is at its `-` or first digit.
    ///
    /// Grammar (RFC 8259 §6): `-? (0 | [1-9][0-9]*) (\.[0-9]+)? ([eE][+-]?[0-9]+)?`.
    fn parse_number(&mut self) -> Result<Value, JcsError> {
        let start = self.pos;
        let invalid = JcsError::new(start, ErrorCause::InvalidNumber);
        if self.peek() == Some(b'-') {
            self.pos += 1;
        }
        match self.peek() {
            Some(b'0') => {
                self.pos += 1;
                if matches!(self.peek(), Some(b'0'..=b'9')) {
                    return Err(invalid);
                }
            }
            Some(b'1'..=b'9') => self.skip_digits(),
            _ => return Err(invalid),
        }
        if self.peek() == Some(b'.') {
            self.pos += 1;
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(invalid);
            }
            self.skip_digits();
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.peek() {
                self.pos += 1;
            }
            if !matches!(self.peek(), Some(b'0'..=b'9')) {
                return Err(invalid);
            }
            self.skip_digits();
        }
        let token = self.str_between(start, self.pos)?;
        // Rust's float parser is correctly rounded and accepts every token of
        // the grammar above; overflow comes back as infinity.
        let number: f64 = token.parse().map_err(|_| invalid.clone())?;
        if number.is_infinite() {
            return Err(JcsError::new(start, ErrorCause::NumberOutOfRange));
        }
        Ok(Value::Number(number))
    }

    fn skip_digits(&mut self) {
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos += 1;
        }
    }
}

/// Index of the first member (in input order) whose name an earlier member
/// already has.
fn first_duplicate(members: &[(String, Value)]) -> Option<usize> {
    if members.len() <= PAIRWISE_DUPLICATE_CHECK_MAX {
        return members
            .iter()
            .enumerate()
            .skip(1)
            .find_map(|(index, (name, _))| {
                members
                    .iter()
                    .take(index)
                    .any(|(earlier, _)| earlier == name)
                    .then_some(index)
            });
    }
    let mut names: Vec<(&str, usize)> = members
        .iter()
        .enumerate()
        .map(|(index, (name, _))| (name.as_str(), index))
        .collect();
    names.sort_unstable();
    // Within a run of equal names sorted by index, every entry after the
    // first is a repeat; the smallest such index is the first one met.
    names
        .windows(2)
        .filter_map(|pair| match pair {
            [(a, _), (b, later)] if a == b => Some(*later),
            _ => None,
        })
        .min()
}
