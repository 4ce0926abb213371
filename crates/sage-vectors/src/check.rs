//! The pieces every suite check is built from: typed access to a vector's
//! `input`/`output` members, and the comparison of recomputed members
//! with the stored ones.
//!
//! Comparison rules (PROTOCOL.md §16.1): binary values are lower-case hex
//! and compared as written; text members are compared byte for byte; JSON
//! members (numbers, arrays, objects) are compared structurally and the
//! first differing path is reported. Every stored output member must be
//! either recomputed or consumed by a verification step: a member the
//! check does not know is a failure, never ignored.

use serde_json::{Map, Value};

use sage_core::encoding::hex_encode;
use sage_core::version::{Labels, ProtocolVersion};

use crate::failure::CoreFailure;
use crate::outcome::{MemberProblem, Mismatch, Mode};

/// One vector, ready to be checked.
#[derive(Debug)]
pub(crate) struct Vector<'a> {
    /// The file's `suite`.
    pub(crate) suite: &'a str,
    /// The vector's `name`.
    pub(crate) name: &'a str,
    /// The vector's mode.
    pub(crate) mode: Mode,
    /// The protocol profile named by the file's `spec_version`.
    pub(crate) version: ProtocolVersion,
    /// `input` members.
    pub(crate) input: Fields<'a>,
    /// `output` members.
    pub(crate) output: Fields<'a>,
}

impl Vector<'_> {
    /// `suite/name`.
    pub(crate) fn kind(&self) -> String {
        format!("{}/{}", self.suite, self.name)
    }

    /// The wire labels of the file's profile.
    pub(crate) fn labels(&self) -> &'static Labels {
        self.version.labels()
    }

    /// The failure for a mode this kind has no check for.
    pub(crate) fn unsupported_mode(&self) -> Mismatch {
        Mismatch::UnsupportedMode {
            kind: self.kind(),
            mode: self.mode,
        }
    }
}

/// The members of one JSON object of a vector, with the path used in
/// reports (`input`, `output`, `input.request`, ...).
#[derive(Debug, Clone)]
pub(crate) struct Fields<'a> {
    path: String,
    map: &'a Map<String, Value>,
}

impl<'a> Fields<'a> {
    pub(crate) fn new(path: impl Into<String>, map: &'a Map<String, Value>) -> Self {
        Self {
            path: path.into(),
            map,
        }
    }

    /// `<path>.<name>`, for reports.
    pub(crate) fn member_path(&self, name: &str) -> String {
        format!("{}.{name}", self.path)
    }

    fn malformed(&self, name: &str, problem: MemberProblem) -> Mismatch {
        Mismatch::Malformed {
            member: self.member_path(name),
            problem,
        }
    }

    /// True when the member is present.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.map.contains_key(name)
    }

    /// The member names, in file order.
    pub(crate) fn names(&self) -> impl Iterator<Item = &'a str> {
        self.map.keys().map(String::as_str)
    }

    pub(crate) fn value(&self, name: &str) -> Result<&'a Value, Mismatch> {
        self.map
            .get(name)
            .ok_or_else(|| self.malformed(name, MemberProblem::Missing))
    }

    pub(crate) fn str(&self, name: &str) -> Result<&'a str, Mismatch> {
        self.value(name)?.as_str().ok_or_else(|| {
            self.malformed(
                name,
                MemberProblem::WrongType {
                    expected: "a string",
                },
            )
        })
    }

    /// A string member that may be absent.
    pub(crate) fn opt_str(&self, name: &str) -> Result<Option<&'a str>, Mismatch> {
        if self.has(name) {
            self.str(name).map(Some)
        } else {
            Ok(None)
        }
    }

    /// A binary member: lower-case hex (PROTOCOL.md §16.1).
    pub(crate) fn hex(&self, name: &str) -> Result<Vec<u8>, Mismatch> {
        let text = self.str(name)?;
        decode_lower_hex(text).ok_or_else(|| self.malformed(name, MemberProblem::NotHex))
    }

    /// A binary member of exactly `N` bytes.
    pub(crate) fn hex_array<const N: usize>(&self, name: &str) -> Result<[u8; N], Mismatch> {
        let bytes = self.hex(name)?;
        let found = bytes.len();
        bytes
            .try_into()
            .map_err(|_| self.malformed(name, MemberProblem::WrongLength { expected: N, found }))
    }

    pub(crate) fn u64(&self, name: &str) -> Result<u64, Mismatch> {
        self.value(name)?.as_u64().ok_or_else(|| {
            self.malformed(
                name,
                MemberProblem::WrongType {
                    expected: "a non-negative integer",
                },
            )
        })
    }

    pub(crate) fn i64(&self, name: &str) -> Result<i64, Mismatch> {
        self.value(name)?.as_i64().ok_or_else(|| {
            self.malformed(
                name,
                MemberProblem::WrongType {
                    expected: "an integer",
                },
            )
        })
    }

    /// An array of strings.
    pub(crate) fn str_list(&self, name: &str) -> Result<Vec<&'a str>, Mismatch> {
        let not_list = || {
            self.malformed(
                name,
                MemberProblem::WrongType {
                    expected: "an array of strings",
                },
            )
        };
        self.value(name)?
            .as_array()
            .ok_or_else(not_list)?
            .iter()
            .map(|item| item.as_str().ok_or_else(not_list))
            .collect()
    }

    /// An object member, as nested [`Fields`].
    pub(crate) fn object(&self, name: &str) -> Result<Fields<'a>, Mismatch> {
        let map = self.value(name)?.as_object().ok_or_else(|| {
            self.malformed(
                name,
                MemberProblem::WrongType {
                    expected: "an object",
                },
            )
        })?;
        Ok(Fields::new(self.member_path(name), map))
    }

    /// A failure about this member that the check itself detected.
    pub(crate) fn invalid(&self, name: &str, why: &'static str) -> Mismatch {
        self.malformed(name, MemberProblem::Invalid(why))
    }
}

/// Strict lower-case hex, as the vector format requires.
fn decode_lower_hex(text: &str) -> Option<Vec<u8>> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| match pair {
            [hi, lo] => Some(digit(*hi)? << 4 | digit(*lo)?),
            _ => None,
        })
        .collect()
}

/// A recomputed output member.
#[derive(Debug, Clone)]
pub(crate) enum Produced {
    /// Binary: the stored member is its lower-case hex.
    Bytes(Vec<u8>),
    /// Text: the stored member is this exact string.
    Text(String),
    /// Any other JSON value (numbers, arrays, objects).
    Json(Value),
}

impl Produced {
    pub(crate) fn bytes(bytes: impl AsRef<[u8]>) -> Self {
        Self::Bytes(bytes.as_ref().to_vec())
    }

    pub(crate) fn text(text: impl Into<String>) -> Self {
        Self::Text(text.into())
    }
}

/// What a check expects of the stored `output`: recomputed members and
/// the members that a verification step consumed.
#[derive(Debug, Default)]
pub(crate) struct Expected {
    computed: Vec<(String, Produced, Presence)>,
    verified: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    Required,
    IfStored,
}

impl Expected {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// A member that the vector must store, equal to `value`.
    pub(crate) fn must(&mut self, member: &str, value: Produced) -> &mut Self {
        self.computed
            .push((member.to_owned(), value, Presence::Required));
        self
    }

    /// A member compared with `value` when the vector stores it (a vector
    /// may leave out derived values, e.g. a key id next to the key).
    pub(crate) fn may(&mut self, member: &str, value: Produced) -> &mut Self {
        self.computed
            .push((member.to_owned(), value, Presence::IfStored));
        self
    }

    /// A stored member that a verification step has already consumed.
    pub(crate) fn verified(&mut self, member: &str) -> &mut Self {
        self.verified.push(member.to_owned());
        self
    }

    /// Compares with the stored output: every stored member must be known
    /// and equal; every required member must be stored.
    pub(crate) fn compare(&self, output: &Fields<'_>) -> Result<(), Mismatch> {
        for name in output.names() {
            if self.verified.iter().any(|v| v == name) {
                continue;
            }
            let Some((_, produced, _)) = self.computed.iter().find(|(m, _, _)| m == name) else {
                return Err(Mismatch::UnexpectedOutput {
                    member: name.to_owned(),
                });
            };
            compare_member(output, name, produced)?;
        }
        for (member, _, presence) in &self.computed {
            if *presence == Presence::Required && !output.has(member) {
                return Err(Mismatch::MissingOutput {
                    member: member.clone(),
                });
            }
        }
        Ok(())
    }
}

fn compare_member(output: &Fields<'_>, name: &str, produced: &Produced) -> Result<(), Mismatch> {
    let stored = output.value(name)?;
    match produced {
        Produced::Bytes(bytes) => {
            let expected = output.str(name)?;
            let actual = hex_encode(bytes);
            if expected != actual {
                return Err(Mismatch::Output {
                    member: name.to_owned(),
                    expected: expected.to_owned(),
                    actual,
                });
            }
        }
        Produced::Text(text) => {
            let expected = output.str(name)?;
            if expected != text {
                return Err(Mismatch::Output {
                    member: name.to_owned(),
                    expected: json_literal(&Value::from(expected)),
                    actual: json_literal(&Value::from(text.as_str())),
                });
            }
        }
        Produced::Json(value) => {
            if let Some((path, expected, actual)) = first_difference(name.to_owned(), stored, value)
            {
                return Err(Mismatch::Output {
                    member: path,
                    expected: json_literal(expected),
                    actual: json_literal(actual),
                });
            }
        }
    }
    Ok(())
}

fn json_literal(value: &Value) -> String {
    // Serialising a `Value` cannot fail (its map keys are strings).
    serde_json::to_string(value).unwrap_or_default()
}

/// The first path at which two JSON values differ, with both values there.
/// Containers of different sizes or key sets are reported whole.
fn first_difference<'v>(
    path: String,
    expected: &'v Value,
    actual: &'v Value,
) -> Option<(String, &'v Value, &'v Value)> {
    match (expected, actual) {
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => e
            .iter()
            .zip(a)
            .enumerate()
            .find_map(|(i, (e, a))| first_difference(format!("{path}[{i}]"), e, a)),
        (Value::Object(e), Value::Object(a))
            if e.len() == a.len() && e.keys().all(|k| a.contains_key(k)) =>
        {
            e.iter().find_map(|(k, ev)| {
                a.get(k)
                    .and_then(|av| first_difference(format!("{path}.{k}"), ev, av))
            })
        }
        _ if expected == actual => None,
        _ => Some((path, expected, actual)),
    }
}

/// Turns a sage-core error into a [`Mismatch::Failed`] for `check`
/// (for `map_err`).
pub(crate) fn core<E: Into<CoreFailure>>(check: impl Into<String>) -> impl FnOnce(E) -> Mismatch {
    let check = check.into();
    move |e| Mismatch::Failed {
        check,
        cause: e.into(),
    }
}

/// A verification condition that must hold.
pub(crate) fn ensure(holds: bool, check: &str) -> Result<(), Mismatch> {
    if holds {
        Ok(())
    } else {
        Err(Mismatch::CheckFailed {
            check: check.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_members_must_be_lower_case() {
        assert_eq!(decode_lower_hex("00ff"), Some(vec![0, 255]));
        assert_eq!(decode_lower_hex("00FF"), None);
        assert_eq!(decode_lower_hex("0"), None);
        assert_eq!(decode_lower_hex(""), Some(vec![]));
    }

    #[test]
    fn json_difference_names_the_first_differing_path() {
        let e = serde_json::json!({"parsed": [{"chain": "ethereum"}, {"chain": "solana"}]});
        let a = serde_json::json!({"parsed": [{"chain": "ethereum"}, {"chain": "ethereum"}]});
        let (path, ev, av) = first_difference("output".into(), &e, &a).unwrap();
        assert_eq!(path, "output.parsed[1].chain");
        assert_eq!(ev, "solana");
        assert_eq!(av, "ethereum");
        assert!(first_difference("x".into(), &e, &e).is_none());
    }

    #[test]
    fn stored_member_unknown_to_the_check_is_a_failure() {
        let map = serde_json::json!({"a": "00", "b": "01"});
        let output = Fields::new("output", map.as_object().unwrap());
        let mut expected = Expected::new();
        expected.must("a", Produced::bytes([0]));
        assert!(matches!(
            expected.compare(&output),
            Err(Mismatch::UnexpectedOutput { member }) if member == "b"
        ));
        expected.verified("b");
        assert!(expected.compare(&output).is_ok());
        expected.must("c", Produced::text("x"));
        assert!(matches!(
            expected.compare(&output),
            Err(Mismatch::MissingOutput { member }) if member == "c"
        ));
    }
}
