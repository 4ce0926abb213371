//! Canonical bytes for JSON built with `serde_json` (PROTOCOL.md §4.1).
//!
//! Layer: JCS serialiser, second entry point. Code that *builds* an object
//! to sign (the HPKE response envelope, an agent card) usually does so with
//! `serde_json::json!`; this writes its canonical form directly, with the
//! same string escaping, member ordering and ECMAScript number formatting
//! as [`Value::to_canonical_bytes`]. `serde_json` integers (`i64`, `u64`)
//! become doubles first, as they would in ECMAScript, so integers beyond
//! 2^53 round to the nearest double.
//!
//! Not for JSON that was *received*: `serde_json` accepts duplicate names
//! (keeping the last) and, without its `float_roundtrip` feature, may read a
//! number one unit in the last place off. Canonicalise received bytes with
//! [`canonicalize`](super::canonicalize).

use super::number::write_number;
use super::serialize::{write_array, write_members, write_string};
use super::value::{Object, Value};

/// The RFC 8785 canonical form of a `serde_json` value.
///
/// A number that `serde_json` cannot give as a double (only possible with
/// its `arbitrary_precision` feature and a literal beyond the double range)
/// is written as `null`, as `JSON.stringify` writes `Infinity`.
#[must_use]
pub fn canonicalize_serde(value: &serde_json::Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_serde_value(value, &mut out);
    out
}

fn write_serde_value(value: &serde_json::Value, out: &mut Vec<u8>) {
    match value {
        serde_json::Value::Null => out.extend_from_slice(b"null"),
        serde_json::Value::Bool(true) => out.extend_from_slice(b"true"),
        serde_json::Value::Bool(false) => out.extend_from_slice(b"false"),
        serde_json::Value::Number(n) => write_number(serde_number_to_f64(n), out),
        serde_json::Value::String(s) => write_string(s, out),
        serde_json::Value::Array(items) => write_array(items, out, write_serde_value),
        serde_json::Value::Object(map) => write_members(
            map.iter().map(|(name, value)| (name.as_str(), value)),
            out,
            write_serde_value,
        ),
    }
}

/// The double ECMAScript would hold for this number (`NaN`, written as
/// `null`, when there is none).
fn serde_number_to_f64(n: &serde_json::Number) -> f64 {
    n.as_f64().unwrap_or(f64::NAN)
}

impl From<&serde_json::Value> for Value {
    /// Converts a `serde_json` value, numbers becoming doubles as in
    /// [`canonicalize_serde`]. `serde_json` maps cannot hold duplicate names,
    /// so the result respects the [`Object`] invariant.
    fn from(value: &serde_json::Value) -> Self {
        match value {
            serde_json::Value::Null => Self::Null,
            serde_json::Value::Bool(b) => Self::Bool(*b),
            serde_json::Value::Number(n) => Self::Number(serde_number_to_f64(n)),
            serde_json::Value::String(s) => Self::String(s.clone()),
            serde_json::Value::Array(items) => Self::Array(items.iter().map(Self::from).collect()),
            serde_json::Value::Object(map) => Self::Object(Object::from_unique_members(
                map.iter()
                    .map(|(name, value)| (name.clone(), Self::from(value)))
                    .collect(),
            )),
        }
    }
}
