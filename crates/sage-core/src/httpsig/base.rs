//! The signature base (PROTOCOL.md §5.2; RFC 9421 §2.5).
//!
//! Layer: RFC 9421, the bytes that are signed. One line
//! `<identifier>: <value>` per covered component, in covered order, then
//! `"@signature-params": <member value>`, joined by single LFs, with no
//! trailing LF. The member value is passed in as text: the signer's own
//! serialisation when signing, the received bytes when verifying.
//!
//! Invariant: no component value holds a CR, LF or other control
//! character, so the base has exactly one line per component plus one.

use super::component::{ComponentId, SIGNATURE_PARAMS};
use super::error::HttpSigError;
use super::message::{HttpRequest, Message};

/// Builds the base of a signature over `message` covering `covered`, with
/// `;req` components taken from `related_request`.
pub(crate) fn signature_base(
    covered: &[ComponentId],
    message: Message<'_>,
    related_request: Option<&HttpRequest>,
    signature_params: &str,
) -> Result<String, HttpSigError> {
    let mut base = String::new();
    for component in covered {
        let value = component.value(message, related_request)?;
        base.push_str(component.as_str());
        base.push_str(": ");
        base.push_str(&value);
        base.push('\n');
    }
    base.push('"');
    base.push_str(SIGNATURE_PARAMS);
    base.push_str("\": ");
    base.push_str(signature_params);
    Ok(base)
}
