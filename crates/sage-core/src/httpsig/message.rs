//! The HTTP message model that signatures are made over (PROTOCOL.md §5.2).
//!
//! Layer: RFC 9421, below components and the signature base. A request is a
//! method, an absolute target URI, header fields in received order and a
//! body; a response is a status, header fields and a body. No I/O and no
//! framing here: [`super::http1`] turns bytes into these values and back.
//!
//! Invariants: field names compare case-insensitively; the value of a
//! field that occurs several times is its instances, each trimmed of
//! leading and trailing whitespace, joined with `", "` (§5.2). Values are
//! kept as given; whether they may enter a signature base is decided where
//! the base is built.

/// Field names this module reads or writes. They are fixed by RFC 9421,
/// RFC 9530 and PROTOCOL.md §13.5 and shared by every SAGE profile (\[L\]
/// and \[N\] alike), so they are not per-version [`crate::version::Labels`].
pub(crate) mod field {
    /// RFC 9421 `Signature-Input`.
    pub(crate) const SIGNATURE_INPUT: &str = "signature-input";
    /// RFC 9421 `Signature`.
    pub(crate) const SIGNATURE: &str = "signature";
    /// RFC 9530 `Content-Digest`.
    pub(crate) const CONTENT_DIGEST: &str = "content-digest";
    /// `Content-Type`.
    pub(crate) const CONTENT_TYPE: &str = "content-type";
    /// `Content-Length`.
    pub(crate) const CONTENT_LENGTH: &str = "content-length";
    /// `Transfer-Encoding`.
    pub(crate) const TRANSFER_ENCODING: &str = "transfer-encoding";
    /// `Host`.
    pub(crate) const HOST: &str = "host";
    /// `Date`.
    pub(crate) const DATE: &str = "date";
    /// `X-SAGE-DID`, the sender's DID (§12.1, §13.5).
    pub(crate) const X_SAGE_DID: &str = "x-sage-did";
}

/// The scheme of a target URI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// `http`, default port 80.
    Http,
    /// `https`, default port 443.
    #[default]
    Https,
}

impl Scheme {
    /// The scheme name in lower case.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }

    /// The port an authority leaves out for this scheme.
    #[must_use]
    pub const fn default_port(self) -> u16 {
        match self {
            Self::Http => 80,
            Self::Https => 443,
        }
    }

    /// The scheme of a name, case-insensitively.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        if name.eq_ignore_ascii_case("https") {
            Some(Self::Https)
        } else if name.eq_ignore_ascii_case("http") {
            Some(Self::Http)
        } else {
            None
        }
    }
}

/// An HTTP request as signed and verified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpRequest {
    /// The method, e.g. `POST`.
    pub method: String,
    /// The absolute target URI, e.g. `https://agent-b.example/mcp/tools/call`.
    pub target_uri: String,
    /// Header fields `(name, value)` in order; names in any case.
    pub headers: Vec<(String, String)>,
    /// The body; empty means "no body" (PROTOCOL.md §18.4).
    pub body: Vec<u8>,
}

/// An HTTP response as signed and verified.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HttpResponse {
    /// The status code, e.g. `200`.
    pub status: u16,
    /// Header fields `(name, value)` in order; names in any case.
    pub headers: Vec<(String, String)>,
    /// The body; empty means "no body".
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A request without fields or body.
    pub fn new(method: impl Into<String>, target_uri: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            target_uri: target_uri.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// This request with one more field instance.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// This request with `body`.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The combined value of field `name` (case-insensitive), or `None`
    /// when absent.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<String> {
        combined_value(&self.headers, name)
    }

    /// Replaces every instance of field `name` with one holding `value`.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        set_value(&mut self.headers, name, value.into());
    }

    /// Removes every instance of field `name`.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

impl HttpResponse {
    /// A response without fields or body.
    #[must_use]
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// This response with one more field instance.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// This response with `body`.
    #[must_use]
    pub fn with_body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = body.into();
        self
    }

    /// The combined value of field `name` (case-insensitive), or `None`
    /// when absent.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<String> {
        combined_value(&self.headers, name)
    }

    /// Replaces every instance of field `name` with one holding `value`.
    pub fn set_header(&mut self, name: &str, value: impl Into<String>) {
        set_value(&mut self.headers, name, value.into());
    }

    /// Removes every instance of field `name`.
    pub fn remove_header(&mut self, name: &str) {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    }
}

/// A borrowed request or response: the message a signature is over.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Message<'a> {
    /// A request.
    Request(&'a HttpRequest),
    /// A response.
    Response(&'a HttpResponse),
}

impl<'a> Message<'a> {
    pub(crate) fn headers(self) -> &'a [(String, String)] {
        match self {
            Self::Request(r) => &r.headers,
            Self::Response(r) => &r.headers,
        }
    }

    pub(crate) fn body(self) -> &'a [u8] {
        match self {
            Self::Request(r) => &r.body,
            Self::Response(r) => &r.body,
        }
    }

    pub(crate) fn header(self, name: &str) -> Option<String> {
        combined_value(self.headers(), name)
    }
}

/// The field value of §5.2: instances trimmed, joined with `", "`.
pub(crate) fn combined_value(headers: &[(String, String)], name: &str) -> Option<String> {
    let mut values = headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| trim_ows(v));
    let first = values.next()?;
    let mut combined = first.to_owned();
    for v in values {
        combined.push_str(", ");
        combined.push_str(v);
    }
    Some(combined)
}

/// Number of instances of field `name`.
pub(crate) fn count_instances(headers: &[(String, String)], name: &str) -> usize {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .count()
}

fn set_value(headers: &mut Vec<(String, String)>, name: &str, value: String) {
    headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
    headers.push((name.to_owned(), value));
}

/// Trims optional whitespace (SP, HTAB) from both ends.
pub(crate) fn trim_ows(s: &str) -> &str {
    s.trim_matches([' ', '\t'])
}
