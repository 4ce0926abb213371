//! The JSON value tree that JCS parses into and serialises from (PROTOCOL.md §4).
//!
//! Layer: JCS data model. [`Value`] is a plain JSON value whose numbers are
//! IEEE 754 doubles, exactly as ECMAScript and RFC 8785 see them. [`Object`]
//! keeps its members in the order they were received or inserted; the
//! canonical order is applied only when serialising, so a verifier can look
//! at what the peer actually sent.
//!
//! Invariant: an [`Object`] never holds two members with the same name. The
//! parser rejects duplicates and [`Object::insert`] replaces in place.
//!
//! This module does not parse or serialise; see `parser` and `serialize`.

use core::fmt;

/// A JSON value.
///
/// Equality is structural and order-sensitive for object members; compare
/// [`Value::to_canonical_bytes`] outputs to ask whether two values are the
/// same JSON. Numbers compare as `f64`, so `-0` equals `0`.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Value {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as the IEEE 754 double nearest to the decimal text.
    ///
    /// The parser only produces finite values. A non-finite value built by
    /// hand serialises as `null`, as ECMAScript's `JSON.stringify` does.
    Number(f64),
    /// A string (already unescaped).
    String(String),
    /// An array.
    Array(Vec<Value>),
    /// An object, members in received order.
    Object(Object),
}

/// Largest integer magnitude a double holds exactly together with all its
/// neighbours (2^53 - 1, ECMAScript's `Number.MAX_SAFE_INTEGER`).
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

impl Value {
    /// `true` for `null`.
    #[must_use]
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }

    /// The boolean, if this is `true` or `false`.
    #[must_use]
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Self::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// The number, if this is a number.
    #[must_use]
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The number as an integer, if it is a whole number within
    /// ±(2^53 - 1), where every integer is exact.
    #[must_use]
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            // The range check makes the cast exact.
            Self::Number(n) if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER => Some(*n as i64),
            _ => None,
        }
    }

    /// The number as an unsigned integer, if it is a whole number in
    /// `0..=2^53 - 1`.
    #[must_use]
    pub fn as_u64(&self) -> Option<u64> {
        self.as_i64().and_then(|n| u64::try_from(n).ok())
    }

    /// The string, if this is a string.
    #[must_use]
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    #[must_use]
    pub fn as_array(&self) -> Option<&[Value]> {
        match self {
            Self::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The elements, mutably, if this is an array.
    pub fn as_array_mut(&mut self) -> Option<&mut Vec<Value>> {
        match self {
            Self::Array(items) => Some(items),
            _ => None,
        }
    }

    /// The object, if this is an object.
    #[must_use]
    pub fn as_object(&self) -> Option<&Object> {
        match self {
            Self::Object(object) => Some(object),
            _ => None,
        }
    }

    /// The object, mutably, if this is an object (to remove a signature
    /// member before canonicalising, for example).
    pub fn as_object_mut(&mut self) -> Option<&mut Object> {
        match self {
            Self::Object(object) => Some(object),
            _ => None,
        }
    }

    /// The member called `name`, if this is an object that has one.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.as_object().and_then(|object| object.get(name))
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Self {
        Self::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Self {
        Self::Number(n)
    }
}

impl From<i32> for Value {
    fn from(n: i32) -> Self {
        Self::Number(f64::from(n))
    }
}

impl From<u32> for Value {
    fn from(n: u32) -> Self {
        Self::Number(f64::from(n))
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::String(s)
    }
}

impl From<Vec<Value>> for Value {
    fn from(items: Vec<Value>) -> Self {
        Self::Array(items)
    }
}

impl From<Object> for Value {
    fn from(object: Object) -> Self {
        Self::Object(object)
    }
}

/// A JSON object: named members in received (or insertion) order, no two
/// with the same name.
///
/// Lookups are linear scans, which is the fast choice for the small objects
/// of the protocol (cards, envelopes).
#[derive(Clone, PartialEq, Default)]
pub struct Object {
    members: Vec<(String, Value)>,
}

impl Object {
    /// An empty object.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty object with room for `capacity` members.
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            members: Vec::with_capacity(capacity),
        }
    }

    /// Builds an object from members that the caller has already checked
    /// for duplicate names (the parser does).
    pub(super) fn from_unique_members(members: Vec<(String, Value)>) -> Self {
        Self { members }
    }

    /// Number of members.
    #[must_use]
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// `true` when there are no members.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// The value of member `name`.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.members.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// The value of member `name`, mutably.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.members
            .iter_mut()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// `true` if there is a member called `name`.
    #[must_use]
    pub fn contains_key(&self, name: &str) -> bool {
        self.members.iter().any(|(k, _)| k == name)
    }

    /// Sets member `name`. An existing member keeps its position and its old
    /// value is returned; a new member goes at the end.
    pub fn insert(&mut self, name: impl Into<String>, value: Value) -> Option<Value> {
        let name = name.into();
        match self.get_mut(&name) {
            Some(slot) => Some(core::mem::replace(slot, value)),
            None => {
                self.members.push((name, value));
                None
            }
        }
    }

    /// Removes member `name` and returns its value; the other members keep
    /// their order.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        let index = self.members.iter().position(|(k, _)| k == name)?;
        Some(self.members.remove(index).1)
    }

    /// The members in received (or insertion) order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> + Clone {
        self.members.iter().map(member_ref)
    }

    /// The member names in received (or insertion) order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> + Clone {
        self.members.iter().map(|(k, _)| k.as_str())
    }
}

impl fmt::Debug for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl FromIterator<(String, Value)> for Object {
    /// Collects members; a later member with a name already seen replaces
    /// the earlier one's value.
    fn from_iter<I: IntoIterator<Item = (String, Value)>>(iter: I) -> Self {
        let mut object = Self::new();
        for (name, value) in iter {
            object.insert(name, value);
        }
        object
    }
}

impl IntoIterator for Object {
    type Item = (String, Value);
    type IntoIter = std::vec::IntoIter<(String, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.members.into_iter()
    }
}

impl<'a> IntoIterator for &'a Object {
    type Item = (&'a str, &'a Value);
    type IntoIter = core::iter::Map<
        core::slice::Iter<'a, (String, Value)>,
        fn(&'a (String, Value)) -> (&'a str, &'a Value),
    >;

    fn into_iter(self) -> Self::IntoIter {
        let member_ref: fn(&'a (String, Value)) -> (&'a str, &'a Value) = member_ref;
        self.members.iter().map(member_ref)
    }
}

fn member_ref((name, value): &(String, Value)) -> (&str, &Value) {
    (name, value)
}
