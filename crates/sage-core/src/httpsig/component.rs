//! Component identifiers and their values (PROTOCOL.md §5.2; RFC 9421 §2).
//!
//! Layer: RFC 9421, between the message model and the signature base. A
//! [`ComponentId`] names one line of a signature base: a header field
//! (`"content-type"`), a derived component (`"@method"`), a query parameter
//! (`"@query-param";name="id"`), optionally taken from the request a
//! response answers (`;req`).
//!
//! Supported parameters are `req` and, on `@query-param`, `name`. `sf`,
//! `key`, `bs`, `tr` and unknown parameters are refused with
//! [`BaseError::UnsupportedParameter`]: `sf` would need to know the
//! structured type of arbitrary fields, and no SAGE peer emits any of them.
//!
//! Invariants: a field name is lower case; a component identifier is
//! written into the base as the canonical RFC 8941 serialisation of the
//! received item (parameters in received order); two identifiers are equal
//! when they name the same component, whatever their parameter order.

use core::fmt;
use core::hash::{Hash, Hasher};

use sfv::{BareItem, FieldType as _, Item, Parser, StringRef, Version};

use super::error::{BaseError, HttpSigError, Malformed};
use super::message::{HttpRequest, Message};
use super::uri::TargetUri;

/// The name of the component that may not be covered, because it is the
/// last line of every base.
pub(crate) const SIGNATURE_PARAMS: &str = "@signature-params";
const QUERY_PARAM: &str = "@query-param";
const PARAM_REQ: &str = "req";
const PARAM_NAME: &str = "name";

/// A derived component of RFC 9421 §2.2 (other than `@query-param`, which
/// is [`ComponentName::QueryParam`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DerivedComponent {
    /// `@method`: the request method.
    Method,
    /// `@target-uri`: the absolute target URI.
    TargetUri,
    /// `@authority`: lower-case host, port only when not the default.
    Authority,
    /// `@scheme`: `http` or `https`.
    Scheme,
    /// `@request-target`: path and query in origin form.
    RequestTarget,
    /// `@path`: the absolute path.
    Path,
    /// `@query`: `?` and the query (`?` alone without one).
    Query,
    /// `@status`: the three-digit status (responses only).
    Status,
}

impl DerivedComponent {
    /// Every derived component.
    pub const ALL: [Self; 8] = [
        Self::Method,
        Self::TargetUri,
        Self::Authority,
        Self::Scheme,
        Self::RequestTarget,
        Self::Path,
        Self::Query,
        Self::Status,
    ];

    /// The component name, with its `@`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Method => "@method",
            Self::TargetUri => "@target-uri",
            Self::Authority => "@authority",
            Self::Scheme => "@scheme",
            Self::RequestTarget => "@request-target",
            Self::Path => "@path",
            Self::Query => "@query",
            Self::Status => "@status",
        }
    }

    /// The derived component of a name.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|d| d.name() == name)
    }
}

/// What a component identifier names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ComponentName {
    /// A derived component.
    Derived(DerivedComponent),
    /// `@query-param` with its (encoded) `name` parameter.
    QueryParam(String),
    /// A header field, by lower-case name.
    Field(String),
}

/// A component identifier: a name plus the `;req` flag, with its
/// serialisation for the signature base.
#[derive(Debug, Clone)]
pub struct ComponentId {
    name: ComponentName,
    req: bool,
    serialized: String,
}

impl ComponentId {
    /// A derived component.
    #[must_use]
    pub fn derived(component: DerivedComponent) -> Self {
        Self::from_parts(ComponentName::Derived(component), false)
    }

    /// A header field, by name (folded to lower case).
    ///
    /// # Errors
    /// [`HttpSigError::Malformed`] ([`Malformed::ComponentIdentifier`]) if
    /// `name` is not an HTTP field name.
    pub fn field(name: &str) -> Result<Self, HttpSigError> {
        let lower = name.to_ascii_lowercase();
        if !is_field_name(&lower) {
            return Err(Malformed::ComponentIdentifier.into());
        }
        Ok(Self::from_parts(ComponentName::Field(lower), false))
    }

    /// A field component for one of this crate's fixed field names, which
    /// are lower-case tokens by construction (see `message::field`).
    pub(crate) fn known_field(name: &'static str) -> Self {
        debug_assert!(is_field_name(name) && !name.bytes().any(|b| b.is_ascii_uppercase()));
        Self::from_parts(ComponentName::Field(name.to_owned()), false)
    }

    /// `@query-param` for the parameter whose encoded name is
    /// `encoded_name` (RFC 9421 §2.2.8: percent-encoded as
    /// `application/x-www-form-urlencoded`, e.g. `fa%C3%A7ade`).
    ///
    /// # Errors
    /// [`HttpSigError::Malformed`] if `encoded_name` is not an RFC 8941
    /// string (printable ASCII).
    pub fn query_param(encoded_name: &str) -> Result<Self, HttpSigError> {
        if StringRef::from_str(encoded_name).is_err() {
            return Err(Malformed::ComponentIdentifier.into());
        }
        Ok(Self::from_parts(
            ComponentName::QueryParam(encoded_name.to_owned()),
            false,
        ))
    }

    /// This component, taken from the request a response answers (`;req`).
    #[must_use]
    pub fn with_req(self) -> Self {
        if self.req {
            self
        } else {
            Self::from_parts(self.name, true)
        }
    }

    /// Parses a serialised identifier, e.g. `"@method";req` or
    /// `"content-type"`.
    ///
    /// # Errors
    /// [`HttpSigError::Malformed`] if it is not a valid identifier;
    /// [`HttpSigError::BaseMismatch`] if it names an unsupported derived
    /// component or parameter.
    pub fn parse(text: &str) -> Result<Self, HttpSigError> {
        let item: Item = Parser::new(text)
            .with_version(Version::Rfc8941)
            .parse()
            .map_err(|_| Malformed::ComponentIdentifier)?;
        Self::from_item(&item)
    }

    /// What this identifier names.
    #[must_use]
    pub fn name(&self) -> &ComponentName {
        &self.name
    }

    /// Whether this is taken from the related request (`;req`).
    #[must_use]
    pub fn is_req(&self) -> bool {
        self.req
    }

    /// The identifier as written in a signature base and a covered list.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.serialized
    }

    pub(crate) fn is_field(&self, name: &str) -> bool {
        matches!(&self.name, ComponentName::Field(n) if n == name)
    }

    /// An identifier from an inner-list item of `Signature-Input`.
    pub(crate) fn from_item(item: &Item) -> Result<Self, HttpSigError> {
        let BareItem::String(text) = &item.bare_item else {
            return Err(Malformed::ComponentIdentifier.into());
        };
        let text = text.as_str();
        let mut req = false;
        let mut query_name = None;
        for (key, value) in &item.params {
            match (key.as_str(), value) {
                (PARAM_REQ, BareItem::Boolean(true)) => req = true,
                (PARAM_NAME, BareItem::String(n)) if text == QUERY_PARAM => {
                    query_name = Some(n.as_str().to_owned());
                }
                (other, _) => {
                    return Err(BaseError::UnsupportedParameter(other.to_owned()).into());
                }
            }
        }
        let name = if text == QUERY_PARAM {
            ComponentName::QueryParam(query_name.ok_or(Malformed::ComponentIdentifier)?)
        } else if text == SIGNATURE_PARAMS {
            return Err(Malformed::ComponentIdentifier.into());
        } else if text.starts_with('@') {
            let derived = DerivedComponent::from_name(text)
                .ok_or_else(|| BaseError::UnsupportedComponent(text.to_owned()))?;
            ComponentName::Derived(derived)
        } else if is_field_name(text) && !text.bytes().any(|b| b.is_ascii_uppercase()) {
            ComponentName::Field(text.to_owned())
        } else {
            return Err(Malformed::ComponentIdentifier.into());
        };
        Ok(Self {
            name,
            req,
            serialized: item.serialize(),
        })
    }

    fn from_parts(name: ComponentName, req: bool) -> Self {
        let text = match &name {
            ComponentName::Derived(d) => d.name(),
            ComponentName::QueryParam(_) => QUERY_PARAM,
            ComponentName::Field(f) => f.as_str(),
        };
        // Every constructor validated `text` and the query name as RFC 8941
        // strings; serialising them by hand cannot produce invalid output.
        let mut serialized = quote(text);
        if let ComponentName::QueryParam(q) = &name {
            serialized.push_str(";name=");
            serialized.push_str(&quote(q));
        }
        if req {
            serialized.push_str(";req");
        }
        Self {
            name,
            req,
            serialized,
        }
    }

    /// The value of this component (§5.2) in `message`, or in
    /// `related_request` when it carries `;req`.
    pub(crate) fn value(
        &self,
        message: Message<'_>,
        related_request: Option<&HttpRequest>,
    ) -> Result<String, BaseError> {
        let source = if self.req {
            match (message, related_request) {
                (Message::Request(_), _) => return Err(BaseError::RequestBindingInRequest),
                (Message::Response(_), None) => return Err(BaseError::MissingRequest),
                (Message::Response(_), Some(r)) => Message::Request(r),
            }
        } else {
            message
        };
        match &self.name {
            ComponentName::Field(name) => field_value(source, name),
            ComponentName::Derived(DerivedComponent::Status) => match source {
                Message::Response(r) if (100..=999).contains(&r.status) => Ok(r.status.to_string()),
                Message::Response(_) => Err(BaseError::InvalidStatus),
                Message::Request(_) => Err(BaseError::WrongMessageKind(self.serialized.clone())),
            },
            ComponentName::Derived(d) => {
                let Message::Request(request) = source else {
                    return Err(BaseError::WrongMessageKind(self.serialized.clone()));
                };
                derived_request_value(*d, request)
            }
            ComponentName::QueryParam(name) => {
                let Message::Request(request) = source else {
                    return Err(BaseError::WrongMessageKind(self.serialized.clone()));
                };
                let uri =
                    TargetUri::parse(&request.target_uri).ok_or(BaseError::InvalidTargetUri)?;
                query_param_value(uri.query().unwrap_or(""), name)
            }
        }
    }
}

impl PartialEq for ComponentId {
    fn eq(&self, other: &Self) -> bool {
        self.name == other.name && self.req == other.req
    }
}

impl Eq for ComponentId {}

impl Hash for ComponentId {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.name.hash(state);
        self.req.hash(state);
    }
}

impl fmt::Display for ComponentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.serialized)
    }
}

fn field_value(message: Message<'_>, name: &str) -> Result<String, BaseError> {
    let value = message
        .header(name)
        .ok_or_else(|| BaseError::MissingField(name.to_owned()))?;
    // A CR or LF would add a forged line to the base.
    if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
        return Err(BaseError::InvalidFieldValue(name.to_owned()));
    }
    Ok(value)
}

fn derived_request_value(d: DerivedComponent, request: &HttpRequest) -> Result<String, BaseError> {
    if d == DerivedComponent::Method {
        return if is_token(&request.method) {
            Ok(request.method.clone())
        } else {
            Err(BaseError::InvalidMethod)
        };
    }
    let uri = TargetUri::parse(&request.target_uri).ok_or(BaseError::InvalidTargetUri)?;
    Ok(match d {
        DerivedComponent::TargetUri => request.target_uri.clone(),
        DerivedComponent::Authority => uri.authority(),
        DerivedComponent::Scheme => uri.scheme().as_str().to_owned(),
        DerivedComponent::RequestTarget => uri.origin_form(),
        DerivedComponent::Path => uri.path().to_owned(),
        DerivedComponent::Query => uri.query_component(),
        DerivedComponent::Method | DerivedComponent::Status => {
            return Err(BaseError::WrongMessageKind(d.name().to_owned()));
        }
    })
}

/// RFC 9421 §2.2.8: parse the query as `application/x-www-form-urlencoded`,
/// re-encode names and values, and return the single value of `name`.
fn query_param_value(query: &str, encoded_name: &str) -> Result<String, BaseError> {
    let mut found = None;
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (n, v) = pair.split_once('=').unwrap_or((pair, ""));
        if form_reencode(n) != encoded_name {
            continue;
        }
        if found.is_some() {
            return Err(BaseError::QueryParamRepeated(encoded_name.to_owned()));
        }
        found = Some(form_reencode(v));
    }
    found.ok_or_else(|| BaseError::QueryParamAbsent(encoded_name.to_owned()))
}

/// Form-decodes `s` (`+` is a space, `%XX` a byte, a stray `%` itself) and
/// percent-encodes the UTF-8 result with the
/// `application/x-www-form-urlencoded` set, spaces as `%20` (WHATWG URL
/// "percent-encode after encoding", as RFC 9421 §2.2.8 asks).
fn form_reencode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex_pair = bytes
            .get(i + 1..i + 3)
            .and_then(|h| Some(hex_value(*h.first()?)? * 16 + hex_value(*h.get(1)?)?));
        match (b, hex_pair) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                i += 3;
            }
            (b'+', _) => {
                decoded.push(b' ');
                i += 1;
            }
            _ => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    let text = String::from_utf8_lossy(&decoded);
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'*' | b'-' | b'.' | b'_') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    char::from(b)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// `"` + `s` + `"`, escaping `"` and `\` as RFC 8941 does.
fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// RFC 9110 `tchar`.
pub(crate) fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// RFC 9110 `token`.
pub(crate) fn is_token(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(is_tchar)
}

fn is_field_name(s: &str) -> bool {
    is_token(s)
}
