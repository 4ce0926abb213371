//! Raw HTTP/1.1 messages: bytes to [`HttpRequest`] / [`HttpResponse`] and
//! back (RFC 9112), for the CLI and for tests that start from wire text.
//!
//! Layer: framing, under RFC 9421. Parsing takes the start line, header
//! lines (CRLF or bare LF line ends) up to the empty line, and the rest as
//! the body. A request's target URI is built from the caller's scheme and
//! either an absolute-form target or an origin-form target plus `Host`.
//!
//! It refuses what would make two parsers see different messages:
//! obs-folded header lines, whitespace before a colon, control characters
//! in values, several `Host` fields, a `Content-Length` that disagrees with
//! the body or with itself, and any `Transfer-Encoding` (chunked bodies are
//! not supported). It never panics on input. Serialising writes origin
//! form, adds `Host` and `Content-Length` when missing, and uses CRLF.

use super::component::{is_tchar, is_token};
use super::error::Http1Error;
use super::message::{HttpRequest, HttpResponse, Scheme, count_instances, field, trim_ows};
use super::uri::TargetUri;

/// Parses a raw HTTP/1.1 (or 1.0) request; `scheme` completes an
/// origin-form target (use [`Scheme::default`], `https`, unless the request
/// came over plain HTTP).
///
/// # Errors
/// An [`Http1Error`] naming the first framing problem.
pub fn parse_request(bytes: &[u8], scheme: Scheme) -> Result<HttpRequest, Http1Error> {
    let head = parse_head(bytes)?;
    let mut parts = head.start_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Http1Error::InvalidRequestLine);
    };
    if !is_token(method) || target.is_empty() {
        return Err(Http1Error::InvalidRequestLine);
    }
    check_version(version)?;
    let target_uri = if target.starts_with('/') {
        let host = match count_instances(&head.headers, field::HOST) {
            0 => return Err(Http1Error::MissingHost),
            1 => head
                .headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(field::HOST))
                .map(|(_, v)| v.clone())
                .unwrap_or_default(),
            _ => return Err(Http1Error::DuplicateHost),
        };
        if host.is_empty() || host.contains(['/', '?', '#']) {
            return Err(Http1Error::InvalidTarget);
        }
        format!("{}://{host}{target}", scheme.as_str())
    } else if target.contains("://") {
        target.to_owned()
    } else {
        return Err(Http1Error::UnsupportedTargetForm);
    };
    let target_uri = TargetUri::parse(&target_uri)
        .ok_or(Http1Error::InvalidTarget)?
        .normalized();
    Ok(HttpRequest {
        method: method.to_owned(),
        target_uri,
        headers: head.headers,
        body: head.body.to_vec(),
    })
}

/// Parses a raw HTTP/1.1 (or 1.0) response.
///
/// # Errors
/// An [`Http1Error`] naming the first framing problem.
pub fn parse_response(bytes: &[u8]) -> Result<HttpResponse, Http1Error> {
    let head = parse_head(bytes)?;
    let (version, rest) = head
        .start_line
        .split_once(' ')
        .ok_or(Http1Error::InvalidStatusLine)?;
    check_version(version)?;
    let code = rest.split_once(' ').map_or(rest, |(c, _)| c);
    let status = if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
        code.parse::<u16>()
            .map_err(|_| Http1Error::InvalidStatusLine)?
    } else {
        return Err(Http1Error::InvalidStatusLine);
    };
    if !(100..=599).contains(&status) {
        return Err(Http1Error::InvalidStatusLine);
    }
    Ok(HttpResponse {
        status,
        headers: head.headers,
        body: head.body.to_vec(),
    })
}

/// Writes `request` as HTTP/1.1: origin-form request line, `Host` first if
/// the request has none, the fields in order, `Content-Length` if there is
/// a body and none, an empty line, the body.
///
/// # Errors
/// [`Http1Error::InvalidMessage`] for a method, field name or value that
/// cannot be written; [`Http1Error::InvalidTarget`] for an invalid target
/// URI; [`Http1Error::ContentLengthMismatch`] when a `Content-Length` field
/// contradicts the body.
pub fn write_request(request: &HttpRequest) -> Result<Vec<u8>, Http1Error> {
    if !is_token(&request.method) {
        return Err(Http1Error::InvalidMessage);
    }
    let uri = TargetUri::parse(&request.target_uri).ok_or(Http1Error::InvalidTarget)?;
    let mut out = format!("{} {} HTTP/1.1\r\n", request.method, uri.origin_form());
    if count_instances(&request.headers, field::HOST) == 0 {
        push_field(&mut out, "Host", &uri.authority())?;
    }
    finish(out, &request.headers, &request.body)
}

/// Writes `response` as HTTP/1.1: status line (with a reason phrase for
/// common codes), the fields in order, `Content-Length` if there is a body
/// and none, an empty line, the body.
///
/// # Errors
/// [`Http1Error::InvalidStatusLine`] for a status outside 100–599;
/// otherwise as [`write_request`].
pub fn write_response(response: &HttpResponse) -> Result<Vec<u8>, Http1Error> {
    if !(100..=599).contains(&response.status) {
        return Err(Http1Error::InvalidStatusLine);
    }
    let out = format!(
        "HTTP/1.1 {} {}\r\n",
        response.status,
        reason_phrase(response.status)
    );
    finish(out, &response.headers, &response.body)
}

/// The start line, the header fields and the body of a message.
struct Head<'a> {
    start_line: &'a str,
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

fn parse_head(bytes: &[u8]) -> Result<Head<'_>, Http1Error> {
    let mut lines = Lines { bytes, pos: 0 };
    // RFC 9112 §2.2: ignore empty lines before the start line.
    let start = loop {
        match lines.next() {
            None => return Err(Http1Error::Empty),
            Some([]) => {}
            Some(l) => break l,
        }
    };
    let start_line = std::str::from_utf8(start).map_err(|_| Http1Error::NotUtf8)?;
    if start_line.bytes().any(|b| b.is_ascii_control()) {
        return Err(Http1Error::InvalidHeaderLine);
    }
    let mut headers = Vec::new();
    for line in lines.by_ref() {
        if line.is_empty() {
            break;
        }
        headers.push(parse_field_line(line)?);
    }
    let body = bytes.get(lines.pos..).unwrap_or_default();
    check_framing(&headers, body)?;
    Ok(Head {
        start_line,
        headers,
        body,
    })
}

/// One `name: value` line.
fn parse_field_line(line: &[u8]) -> Result<(String, String), Http1Error> {
    if matches!(line.first(), Some(b' ' | b'\t')) {
        return Err(Http1Error::ObsoleteLineFolding);
    }
    let line = std::str::from_utf8(line).map_err(|_| Http1Error::NotUtf8)?;
    let (name, value) = line.split_once(':').ok_or(Http1Error::InvalidHeaderLine)?;
    // RFC 9112 §5.1: no whitespace between name and colon; name is a token.
    if !is_token(name) {
        return Err(Http1Error::InvalidHeaderLine);
    }
    let value = trim_ows(value);
    if !is_field_value(value) {
        return Err(Http1Error::InvalidHeaderLine);
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// Rejects `Transfer-Encoding` and a `Content-Length` that is invalid,
/// self-contradictory or not the body length.
fn check_framing(headers: &[(String, String)], body: &[u8]) -> Result<(), Http1Error> {
    if count_instances(headers, field::TRANSFER_ENCODING) > 0 {
        return Err(Http1Error::TransferEncodingUnsupported);
    }
    if let Some(declared) = declared_length(headers)?
        && u64::try_from(body.len()).ok() != Some(declared)
    {
        return Err(Http1Error::ContentLengthMismatch {
            declared,
            actual: body.len(),
        });
    }
    Ok(())
}

/// The `Content-Length` of the fields: every instance and list element must
/// be the same decimal number (RFC 9110 §8.6).
fn declared_length(headers: &[(String, String)]) -> Result<Option<u64>, Http1Error> {
    let mut declared: Option<u64> = None;
    for (_, value) in headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(field::CONTENT_LENGTH))
    {
        for element in value.split(',').map(trim_ows) {
            if element.is_empty() || !element.bytes().all(|b| b.is_ascii_digit()) {
                return Err(Http1Error::InvalidContentLength);
            }
            let n: u64 = element
                .parse()
                .map_err(|_| Http1Error::InvalidContentLength)?;
            if declared.is_some_and(|d| d != n) {
                return Err(Http1Error::InvalidContentLength);
            }
            declared = Some(n);
        }
    }
    Ok(declared)
}

fn check_version(version: &str) -> Result<(), Http1Error> {
    match version {
        "HTTP/1.1" | "HTTP/1.0" => Ok(()),
        v if v.starts_with("HTTP/") => Err(Http1Error::UnsupportedVersion),
        _ => Err(Http1Error::InvalidRequestLine),
    }
}

/// Field value characters: visible, SP, HTAB and non-ASCII (obs-text).
fn is_field_value(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b == b'\t' || b == b' ' || (b > 0x20 && b != 0x7f))
}

fn push_field(out: &mut String, name: &str, value: &str) -> Result<(), Http1Error> {
    if !name.bytes().all(is_tchar) || name.is_empty() || !is_field_value(trim_ows(value)) {
        return Err(Http1Error::InvalidMessage);
    }
    out.push_str(name);
    out.push_str(": ");
    out.push_str(trim_ows(value));
    out.push_str("\r\n");
    Ok(())
}

fn finish(
    mut out: String,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Vec<u8>, Http1Error> {
    for (name, value) in headers {
        push_field(&mut out, name, value)?;
    }
    match declared_length(headers)? {
        Some(declared) if u64::try_from(body.len()).ok() != Some(declared) => {
            return Err(Http1Error::ContentLengthMismatch {
                declared,
                actual: body.len(),
            });
        }
        Some(_) => {}
        None if body.is_empty() => {}
        None => push_field(&mut out, "Content-Length", &body.len().to_string())?,
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    Ok(bytes)
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        413 => "Content Too Large",
        500 => "Internal Server Error",
        _ => "",
    }
}

/// Lines ending in LF, without the LF and an optional CR before it. The last
/// line may end at the end of input.
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        let rest = self.bytes.get(self.pos..)?;
        if rest.is_empty() {
            return None;
        }
        let (line, advance) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (rest.get(..i)?, i + 1),
            None => (rest, rest.len()),
        };
        self.pos += advance;
        Some(line.strip_suffix(b"\r").unwrap_or(line))
    }
}
