//! The parts of an absolute target URI that derived components read
//! (PROTOCOL.md §5.2, §18.8; RFC 9421 §2.2).
//!
//! Layer: RFC 9421, below components. Parses `scheme "://" authority
//! path-abempty ["?" query]` for the `http` and `https` schemes only.
//!
//! It refuses, rather than interprets, whatever would make two parties
//! derive different components from one URI: user information (`user@`),
//! a fragment, whitespace, control or non-ASCII characters, an empty host
//! and a non-numeric port. It does not percent-decode or normalise paths:
//! components carry the path as sent.

use super::message::Scheme;

/// A parsed absolute `http`/`https` URI, borrowing from its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TargetUri<'a> {
    scheme: Scheme,
    host: &'a str,
    port: Option<u16>,
    path: &'a str,
    query: Option<&'a str>,
}

impl<'a> TargetUri<'a> {
    /// Parses `uri`; `None` if it is not an absolute `http`/`https` URI
    /// this module accepts.
    pub(crate) fn parse(uri: &'a str) -> Option<Self> {
        if uri.is_empty() || !uri.bytes().all(|b| b.is_ascii_graphic()) || uri.contains('#') {
            return None;
        }
        let (scheme_text, rest) = uri.split_once("://")?;
        let scheme = Scheme::from_name(scheme_text)?;
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let (authority, path_and_query) = rest.split_at(authority_end);
        let (host, port) = split_authority(authority)?;
        let (path, query) = match path_and_query.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (path_and_query, None),
        };
        Some(Self {
            scheme,
            host,
            port,
            path,
            query,
        })
    }

    /// The scheme.
    pub(crate) fn scheme(&self) -> Scheme {
        self.scheme
    }

    /// `@authority`: host in lower case, `:port` only when the port is not
    /// the scheme's default (§18.8).
    pub(crate) fn authority(&self) -> String {
        let host = self.host.to_ascii_lowercase();
        match self.port {
            Some(p) if p != self.scheme.default_port() => format!("{host}:{p}"),
            _ => host,
        }
    }

    /// `@path`: the absolute path; an empty path is `/`.
    pub(crate) fn path(&self) -> &'a str {
        if self.path.is_empty() { "/" } else { self.path }
    }

    /// The query without its `?`, if the URI has one (possibly empty).
    pub(crate) fn query(&self) -> Option<&'a str> {
        self.query
    }

    /// `@query`: `?` followed by the query; `?` alone without one.
    pub(crate) fn query_component(&self) -> String {
        format!("?{}", self.query.unwrap_or(""))
    }

    /// The URI in RFC 9110 §4.2.3 normal form: lower-case scheme and host,
    /// no default port, `/` for an empty path. The raw HTTP/1.1 parser
    /// stores targets this way, so a message written back and parsed again
    /// signs the same `@target-uri`.
    pub(crate) fn normalized(&self) -> String {
        format!(
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.origin_form()
        )
    }

    /// `@request-target` in origin form: the path, plus `?query` when the
    /// URI has a query. Never prefixed by the method (§5.2, draft.2).
    pub(crate) fn origin_form(&self) -> String {
        match self.query {
            Some(q) => format!("{}?{q}", self.path()),
            None => self.path().to_owned(),
        }
    }
}

/// Splits `host[:port]`; rejects user information and invalid hosts.
fn split_authority(authority: &str) -> Option<(&str, Option<u16>)> {
    if authority.contains('@') {
        return None;
    }
    let (host, port_text) = if let Some(inner_and_rest) = authority.strip_prefix('[') {
        let close = inner_and_rest.find(']')?;
        let (inner, after) = inner_and_rest.split_at(close);
        if inner.is_empty()
            || !inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return None;
        }
        let after = after.strip_prefix(']')?;
        let port_text = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        // `[` + inner + `]`, all ASCII.
        (authority.get(..close + 2)?, port_text)
    } else {
        let (h, p) = match authority.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        if h.is_empty() || !h.bytes().all(is_reg_name_byte) {
            return None;
        }
        (h, p)
    };
    let port = match port_text {
        None | Some("") => None,
        Some(p) if p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => Some(p.parse().ok()?),
        Some(_) => return None,
    };
    Some((host, port))
}

/// RFC 3986 reg-name: unreserved, pct-encoded and sub-delims.
fn is_reg_name_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b)
}
