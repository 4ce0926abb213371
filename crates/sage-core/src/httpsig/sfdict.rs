//! RFC 8941 dictionaries with the raw text of each member (PROTOCOL.md §5.1).
//!
//! Layer: RFC 9421, below parameters. The `"@signature-params"` line of a
//! signature base must be the received member value byte for byte (the
//! draft.2 correction), and `sfv` does not report where a member starts and
//! ends. So this module splits the field on top-level commas itself
//! (respecting quoted strings and parentheses) and then lets `sfv` judge:
//!
//! - the whole field must parse as an RFC 8941 dictionary;
//! - every piece must parse, on its own, as a one-member dictionary equal to
//!   the member `sfv` found under that name;
//! - no name may appear twice (RFC 8941 would silently keep the last one,
//!   which invites confusion between signer and verifier).
//!
//! If the split and `sfv` disagree in any way, the field is refused.

use sfv::{Dictionary, ListEntry, Parser, Version};

/// One dictionary member: its name, the raw text after `name=`, and what it
/// parsed to.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RawMember<'a> {
    /// The member name.
    pub(crate) name: &'a str,
    /// The member value exactly as received (the text after `name=`).
    pub(crate) value_text: &'a str,
    /// The parsed value.
    pub(crate) entry: ListEntry,
}

/// Why a field is not a dictionary this module accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DictError {
    /// Not an RFC 8941 dictionary, a member without `=value`, or a split
    /// that `sfv` does not confirm.
    Invalid,
    /// A member name appears twice.
    DuplicateName,
}

/// Parses `field` as an RFC 8941 dictionary whose members all have a value
/// (`name=value`), keeping each member's raw value text.
pub(crate) fn parse_members(field: &str) -> Result<Vec<RawMember<'_>>, DictError> {
    let whole: Dictionary = Parser::new(field)
        .with_version(Version::Rfc8941)
        .parse()
        .map_err(|_| DictError::Invalid)?;
    let pieces = split_top_level(field).ok_or(DictError::Invalid)?;
    let mut named = Vec::with_capacity(pieces.len());
    for piece in pieces {
        let (name, value_text) = piece.split_once('=').ok_or(DictError::Invalid)?;
        if named.iter().any(|(n, _, _)| *n == name) {
            return Err(DictError::DuplicateName);
        }
        named.push((name, value_text, piece));
    }
    if named.len() != whole.len() {
        return Err(DictError::Invalid);
    }
    // The usual field has one member (one signature). Its one piece is the
    // whole field less surrounding whitespace, which the whole parse already
    // judged: parsing the piece again could only repeat that verdict.
    if let ([(name, value_text, _)], Some((key, entry))) = (named.as_slice(), whole.iter().next()) {
        if key.as_str() != *name {
            return Err(DictError::Invalid);
        }
        return Ok(vec![RawMember {
            name,
            value_text,
            entry: entry.clone(),
        }]);
    }
    let mut members = Vec::with_capacity(named.len());
    for (name, value_text, piece) in named {
        let single: Dictionary = Parser::new(piece)
            .with_version(Version::Rfc8941)
            .parse()
            .map_err(|_| DictError::Invalid)?;
        let mut entries = single.into_iter();
        let (key, entry) = entries.next().ok_or(DictError::Invalid)?;
        if key.as_str() != name || entries.next().is_some() {
            return Err(DictError::Invalid);
        }
        let agreed = whole
            .iter()
            .find(|(k, _)| k.as_str() == name)
            .is_some_and(|(_, e)| *e == entry);
        if !agreed {
            return Err(DictError::Invalid);
        }
        members.push(RawMember {
            name,
            value_text,
            entry,
        });
    }
    Ok(members)
}

/// Splits on commas outside quoted strings and parentheses, trimming
/// optional whitespace around each piece. `None` on unbalanced quotes or
/// parentheses, or an empty piece.
fn split_top_level(field: &str) -> Option<Vec<&str>> {
    let mut pieces = Vec::new();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    let mut start = 0usize;
    for (i, b) in field.bytes().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'(' => depth += 1,
            b')' => depth = depth.checked_sub(1)?,
            b',' if depth == 0 => {
                pieces.push(trim_piece(field.get(start..i)?)?);
                start = i + 1;
            }
            _ => {}
        }
    }
    if in_string || depth != 0 {
        return None;
    }
    pieces.push(trim_piece(field.get(start..)?)?);
    Some(pieces)
}

fn trim_piece(piece: &str) -> Option<&str> {
    let t = piece.trim_matches([' ', '\t']);
    (!t.is_empty()).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_member_keeps_its_raw_text_and_parsed_value() {
        let field = r#"  sig1=("@method" "@authority");created=1;nonce="a,b"  "#;
        let members = parse_members(field).unwrap();
        assert_eq!(members.len(), 1);
        assert_eq!(members[0].name, "sig1");
        assert_eq!(
            members[0].value_text,
            r#"("@method" "@authority");created=1;nonce="a,b""#
        );
        assert!(matches!(members[0].entry, ListEntry::InnerList(_)));
    }

    #[test]
    fn several_members_are_split_outside_strings_and_lists() {
        let field = r#"sig1=:AAAA:, sig2=("a" "b,c");x="(,)""#;
        let members = parse_members(field).unwrap();
        let names: Vec<&str> = members.iter().map(|m| m.name).collect();
        assert_eq!(names, ["sig1", "sig2"]);
        assert_eq!(members[0].value_text, ":AAAA:");
        assert_eq!(members[1].value_text, r#"("a" "b,c");x="(,)""#);
    }

    #[test]
    fn refused_fields() {
        for field in [
            "",
            "sig1",                 // a member without a value
            "sig1=",                // an empty value
            "\tsig1=:AAAA:",        // a leading tab is not RFC 8941
            "sig1=:AAAA:,",         // a trailing comma
            "sig1=(\"a\"",          // an unbalanced list
            "sig1=\"open",          // an unterminated string
            "Sig1=:AAAA:",          // not a key
            "sig1=:AAAA: trailing", // garbage after the value
        ] {
            assert_eq!(parse_members(field), Err(DictError::Invalid), "{field:?}");
        }
        assert_eq!(
            parse_members("sig1=:AAAA:, sig1=:BBBB:"),
            Err(DictError::DuplicateName)
        );
    }
}
