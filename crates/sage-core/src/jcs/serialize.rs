//! Canonical serialisation, RFC 8785 (PROTOCOL.md §4.1).
//!
//! Layer: JCS serialiser. Turns a [`Value`] (or a `serde_json::Value`, see
//! `serde_bridge`) into the exact bytes that get signed:
//!
//! - object members sorted by the UTF-16 code units of their names, at every
//!   level; arrays in order;
//! - strings escaped as ECMAScript `JSON.stringify` escapes them: `\"`,
//!   `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other code points below U+0020 as
//!   `\u00xx` in lower-case hex, everything else as raw UTF-8 (`/` too);
//! - numbers as ECMAScript `Number::toString` (see `number`);
//! - no whitespace.
//!
//! Serialisation cannot fail: a [`Value`] is always representable. It does
//! not check for duplicate names; [`Object`](super::Object) cannot hold any.
//! Output is appended to a caller's buffer; the only allocation besides that
//! buffer is one list of member references per object whose members are
//! not already in canonical order.

use core::cmp::Ordering;

use super::number::write_number;
use super::value::Value;

impl Value {
    /// The RFC 8785 canonical form of this value, as UTF-8 bytes.
    #[must_use]
    pub fn to_canonical_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write_canonical(&mut out);
        out
    }

    /// Appends the RFC 8785 canonical form of this value to `out`.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        write_value(self, out);
    }
}

fn write_value(value: &Value, out: &mut Vec<u8>) {
    match value {
        Value::Null => out.extend_from_slice(b"null"),
        Value::Bool(true) => out.extend_from_slice(b"true"),
        Value::Bool(false) => out.extend_from_slice(b"false"),
        Value::Number(n) => write_number(*n, out),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => write_array(items, out, write_value),
        Value::Object(object) => write_members(object.iter(), out, write_value),
    }
}

/// Writes `[a,b,…]`, each element with `write_element`.
pub(super) fn write_array<V>(items: &[V], out: &mut Vec<u8>, write_element: fn(&V, &mut Vec<u8>)) {
    out.push(b'[');
    for (index, item) in items.iter().enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_element(item, out);
    }
    out.push(b']');
}

/// Writes `{"name":value,…}` with the members in canonical order.
///
/// Members that already arrive in canonical order (the common case when
/// re-canonicalising, or for a `serde_json` map, which is sorted by UTF-8
/// bytes) are written straight through without sorting.
pub(super) fn write_members<'a, V: 'a>(
    members: impl Iterator<Item = (&'a str, &'a V)> + Clone,
    out: &mut Vec<u8>,
    write_member_value: fn(&V, &mut Vec<u8>),
) {
    out.push(b'{');
    if members
        .clone()
        .is_sorted_by(|a, b| cmp_utf16(a.0, b.0) != Ordering::Greater)
    {
        write_member_list(members, out, write_member_value);
    } else {
        let mut sorted: Vec<(&str, &V)> = members.collect();
        sorted.sort_unstable_by(|a, b| cmp_utf16(a.0, b.0));
        write_member_list(sorted.into_iter(), out, write_member_value);
    }
    out.push(b'}');
}

fn write_member_list<'a, V: 'a>(
    members: impl Iterator<Item = (&'a str, &'a V)>,
    out: &mut Vec<u8>,
    write_member_value: fn(&V, &mut Vec<u8>),
) {
    for (index, (name, value)) in members.enumerate() {
        if index > 0 {
            out.push(b',');
        }
        write_string(name, out);
        out.push(b':');
        write_member_value(value, out);
    }
}

/// Compares two strings by their UTF-16 code units (RFC 8785 §3.2.3).
///
/// UTF-8 byte order equals code point order, which differs from UTF-16
/// order only when a supplementary character (a surrogate pair, D800–DBFF
/// first) meets one in U+E000–U+FFFF. So: skip the common byte prefix, then
/// compare the first differing characters by their UTF-16 encodings. No
/// allocation.
pub(super) fn cmp_utf16(a: &str, b: &str) -> Ordering {
    let common = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    // The first difference may sit inside a multi-byte character; back up to
    // the start of that character, which is the same in both strings.
    let mut start = common;
    while !a.is_char_boundary(start) {
        start -= 1;
    }
    let next_a = a.get(start..).and_then(|rest| rest.chars().next());
    let next_b = b.get(start..).and_then(|rest| rest.chars().next());
    match (next_a, next_b) {
        (Some(x), Some(y)) => {
            let (mut buffer_x, mut buffer_y) = ([0u16; 2], [0u16; 2]);
            let units_x: &[u16] = x.encode_utf16(&mut buffer_x);
            let units_y: &[u16] = y.encode_utf16(&mut buffer_y);
            units_x.cmp(units_y)
        }
        // One string is a prefix of the other (or they are equal).
        _ => a.len().cmp(&b.len()),
    }
}

/// Writes `s` as a JSON string literal, escaped as `JSON.stringify` does.
pub(super) fn write_string(s: &str, out: &mut Vec<u8>) {
    out.reserve(s.len() + 2);
    out.push(b'"');
    let mut rest = s.as_bytes();
    while let Some(position) = rest
        .iter()
        .position(|&b| b < 0x20 || b == b'"' || b == b'\\')
    {
        let (raw, escaped) = rest.split_at(position);
        out.extend_from_slice(raw);
        let Some((&byte, after)) = escaped.split_first() else {
            break;
        };
        write_escape(byte, out);
        rest = after;
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

fn write_escape(byte: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let short: &[u8] = match byte {
        b'"' => b"\\\"",
        b'\\' => b"\\\\",
        0x08 => b"\\b",
        0x0c => b"\\f",
        b'\n' => b"\\n",
        b'\r' => b"\\r",
        b'\t' => b"\\t",
        _ => {
            // Other control characters: \u00xx with lower-case hex.
            out.extend_from_slice(b"\\u00");
            for nibble in [byte >> 4, byte & 0x0f] {
                out.push(HEX.get(usize::from(nibble)).copied().unwrap_or(b'0'));
            }
            return;
        }
    };
    out.extend_from_slice(short);
}
