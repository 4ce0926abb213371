//! The `X-SAGE-*` HTTP headers that mirror a `WireMessage` (PROTOCOL.md
//! §12.1, §13.5).
//!
//! The headers are copies of body members for routing; the body is what
//! counts. The rule is therefore "a header that is present must agree":
//! a present header that differs from its member, names metadata the body
//! does not have, or appears twice is rejected (the Go HTTP server rejects a
//! request whose headers disagree with the body). An absent header is not a
//! disagreement. Header names compare case-insensitively (RFC 9110 §5.1);
//! values compare exactly.

use super::error::{MirrorHeader, TransportError};
use super::message::WireMessage;

/// Mirrors `did`.
pub const HEADER_DID: &str = "X-SAGE-DID";
/// Mirrors `id`.
pub const HEADER_MESSAGE_ID: &str = "X-SAGE-Message-ID";
/// Mirrors `context_id` when present.
pub const HEADER_CONTEXT_ID: &str = "X-SAGE-Context-ID";
/// Mirrors `task_id` when present.
pub const HEADER_TASK_ID: &str = "X-SAGE-Task-ID";
/// Prefix of the header that mirrors one `metadata` entry: `X-SAGE-Meta-<key>`.
pub const HEADER_META_PREFIX: &str = "X-SAGE-Meta-";

impl WireMessage {
    /// The mirror headers of this envelope, in a fixed order: DID, message
    /// id, context id and task id when present, then one
    /// `X-SAGE-Meta-<key>` per metadata entry (in key order).
    ///
    /// # Errors
    /// [`TransportError::InvalidHeaderValue`] when a value cannot travel in
    /// an HTTP header unchanged (control characters, non-ASCII, leading or
    /// trailing white space, which receivers strip) or a metadata key is not
    /// an HTTP token. Refusing here keeps a header from being split or
    /// silently altered on the way.
    pub fn mirror_headers(&self) -> Result<Vec<(String, String)>, TransportError> {
        let mut headers = Vec::with_capacity(4 + self.metadata.len());
        let mut push = |header: MirrorHeader, name: String, value: &str| {
            if !is_field_value(value) {
                return Err(TransportError::InvalidHeaderValue(header));
            }
            headers.push((name, value.to_owned()));
            Ok(())
        };
        push(MirrorHeader::Did, HEADER_DID.to_owned(), &self.did)?;
        push(
            MirrorHeader::MessageId,
            HEADER_MESSAGE_ID.to_owned(),
            &self.id,
        )?;
        if !self.context_id.is_empty() {
            push(
                MirrorHeader::ContextId,
                HEADER_CONTEXT_ID.to_owned(),
                &self.context_id,
            )?;
        }
        if !self.task_id.is_empty() {
            push(
                MirrorHeader::TaskId,
                HEADER_TASK_ID.to_owned(),
                &self.task_id,
            )?;
        }
        for (key, value) in &self.metadata {
            if !is_token(key) {
                return Err(TransportError::InvalidHeaderValue(MirrorHeader::Meta));
            }
            push(
                MirrorHeader::Meta,
                format!("{HEADER_META_PREFIX}{key}"),
                value,
            )?;
        }
        Ok(headers)
    }

    /// Checks received HTTP headers against this envelope; headers other
    /// than `X-SAGE-*` mirrors are ignored. A metadata header matches the
    /// entry whose key equals its suffix ignoring ASCII case (HTTP stacks
    /// re-case header names); two entries that differ only in case cannot
    /// be mirrored unambiguously, so such a header is a mismatch.
    ///
    /// # Errors
    /// [`TransportError::HeaderMismatch`] for a header that disagrees with
    /// the body, and [`TransportError::HeaderRepeated`] for a mirror header
    /// (or one metadata key) that appears twice.
    pub fn check_headers<I, N, V>(&self, headers: I) -> Result<(), TransportError>
    where
        I: IntoIterator<Item = (N, V)>,
        N: AsRef<str>,
        V: AsRef<str>,
    {
        let mut seen_fixed = [false; 4];
        let mut seen_meta: Vec<&str> = Vec::new();
        for (name, value) in headers {
            let (name, value) = (name.as_ref(), value.as_ref());
            let fixed = [
                (HEADER_DID, MirrorHeader::Did, self.did.as_str()),
                (HEADER_MESSAGE_ID, MirrorHeader::MessageId, self.id.as_str()),
                (
                    HEADER_CONTEXT_ID,
                    MirrorHeader::ContextId,
                    self.context_id.as_str(),
                ),
                (HEADER_TASK_ID, MirrorHeader::TaskId, self.task_id.as_str()),
            ];
            let matched = fixed
                .into_iter()
                .zip(seen_fixed.iter_mut())
                .find(|((header_name, _, _), _)| header_name.eq_ignore_ascii_case(name));
            if let Some(((_, header, body), seen)) = matched {
                if core::mem::replace(seen, true) {
                    return Err(TransportError::HeaderRepeated(header));
                }
                if value != body {
                    return Err(TransportError::HeaderMismatch(header));
                }
                continue;
            }
            let Some(key) = strip_prefix_ignore_case(name, HEADER_META_PREFIX) else {
                continue;
            };
            let mut matches = self
                .metadata
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(key));
            let (Some((body_key, body_value)), None) = (matches.next(), matches.next()) else {
                return Err(TransportError::HeaderMismatch(MirrorHeader::Meta));
            };
            if seen_meta.contains(&body_key.as_str()) {
                return Err(TransportError::HeaderRepeated(MirrorHeader::Meta));
            }
            seen_meta.push(body_key);
            if value != body_value {
                return Err(TransportError::HeaderMismatch(MirrorHeader::Meta));
            }
        }
        Ok(())
    }
}

/// `name` without `prefix`, comparing the prefix ignoring ASCII case.
fn strip_prefix_ignore_case<'a>(name: &'a str, prefix: &str) -> Option<&'a str> {
    let head = name.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        name.get(prefix.len()..)
    } else {
        None
    }
}

/// Visible ASCII and inner spaces/tabs only (RFC 9110 §5.5 without
/// obs-text), no leading or trailing white space.
fn is_field_value(value: &str) -> bool {
    let bytes = value.as_bytes();
    let visible = |b: &u8| (0x21..=0x7e).contains(b);
    bytes
        .iter()
        .all(|b| visible(b) || *b == b' ' || *b == b'\t')
        && bytes.first().is_none_or(visible)
        && bytes.last().is_none_or(visible)
}

/// An RFC 9110 §5.6.2 token: one or more `tchar`.
fn is_token(key: &str) -> bool {
    !key.is_empty()
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
