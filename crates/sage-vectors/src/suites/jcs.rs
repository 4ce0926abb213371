//! `jcs` vectors, whatever their name: `input.json` → `canonical` (text),
//! `canonical_hex` (its UTF-8 bytes) and `sha256` (PROTOCOL.md §4.1).
//! Canonicalisation has no randomness, so both modes recompute.

use sage_core::jcs::canonicalize;
use sage_core::primitives::sha256;

use crate::check::{Expected, Produced, Vector, core};
use crate::outcome::Mismatch;

/// Strict parse of `input.json`, then RFC 8785 serialisation.
pub(super) fn canonical_form(v: &Vector<'_>) -> Result<(), Mismatch> {
    let json = v.input.str("json")?;
    let canonical = canonicalize(json.as_bytes()).map_err(core("input.json canonicalises"))?;
    let digest = sha256(&canonical);
    let text = String::from_utf8(canonical)
        .map_err(|_| v.input.invalid("json", "canonical form is not UTF-8"))?;
    Expected::new()
        .must("canonical", Produced::text(text.as_str()))
        .may("canonical_hex", Produced::bytes(text.as_bytes()))
        .may("sha256", Produced::bytes(digest))
        .compare(&v.output)
}
