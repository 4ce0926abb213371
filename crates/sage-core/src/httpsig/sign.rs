//! Signing requests and responses (PROTOCOL.md §5.1–§5.4).
//!
//! Layer: RFC 9421, the signer side. [`sign_request`] and [`sign_response`]
//! build the `Signature-Input` member from [`SignatureParams`], the base
//! from the message, and sign the base bytes with the key's \[L\] convention
//! (§3.2: raw Ed25519; secp256k1 over Keccak-256, 65 bytes `r‖s‖v`;
//! P-256 over SHA-256, 64 bytes). They do not touch the message; the
//! `*_in_place` helpers add `Content-Digest` (when there is a body) and the
//! two signature fields.
//!
//! [`request_components`] and [`response_components`] give the covered
//! sets the reference implementation uses (§5.3, §5.4).
//!
//! Invariants: a request signature never covers `;req`; a declared `alg`
//! always names the signing key's algorithm.

use super::base::signature_base;
use super::component::{ComponentId, DerivedComponent};
use super::digest::content_digest;
use super::error::{BaseError, HttpSigError};
use super::message::{HttpRequest, HttpResponse, Message, field};
use super::params::SignatureParams;
use crate::encoding::b64_encode;
use crate::primitives::{KeyType, SigningKey};

/// The result of signing: the two field values and the base that was
/// signed (for diagnostics and the CLI).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureOutput {
    /// The whole `Signature-Input` value: `<label>=(…);keyid=…`.
    pub signature_input: String,
    /// The whole `Signature` value: `<label>=:<base64>:`.
    pub signature: String,
    /// The signature base.
    pub base: String,
}

/// Signs `request` without changing it.
///
/// # Errors
/// - [`HttpSigError::BaseMismatch`] if a covered component is absent from
///   the request, or a component carries `;req`;
/// - [`HttpSigError::AlgMismatch`] if `params.alg` does not name the key's
///   algorithm;
/// - [`HttpSigError::Malformed`] if a parameter cannot be serialised.
pub fn sign_request(
    request: &HttpRequest,
    params: &SignatureParams,
    key: &SigningKey,
) -> Result<SignatureOutput, HttpSigError> {
    if params.covered.iter().any(ComponentId::is_req) {
        return Err(BaseError::RequestBindingInRequest.into());
    }
    sign_message(Message::Request(request), None, params, key)
}

/// Signs `response` without changing it; `;req` components are taken from
/// `request`.
///
/// # Errors
/// As [`sign_request`]; [`BaseError::MissingRequest`] when `;req` is
/// covered and `request` is `None`.
pub fn sign_response(
    response: &HttpResponse,
    request: Option<&HttpRequest>,
    params: &SignatureParams,
    key: &SigningKey,
) -> Result<SignatureOutput, HttpSigError> {
    sign_message(Message::Response(response), request, params, key)
}

/// Sets `Content-Digest` when the request has a body, signs it, and sets
/// `Signature-Input` and `Signature` (replacing any earlier instances).
///
/// # Errors
/// As [`sign_request`]; on error the request is unchanged.
pub fn sign_request_in_place(
    request: &mut HttpRequest,
    params: &SignatureParams,
    key: &SigningKey,
) -> Result<SignatureOutput, HttpSigError> {
    let mut signed = request.clone();
    if !signed.body.is_empty() {
        signed.set_header(field::CONTENT_DIGEST, content_digest(&signed.body));
    }
    let output = sign_request(&signed, params, key)?;
    signed.set_header(field::SIGNATURE_INPUT, output.signature_input.clone());
    signed.set_header(field::SIGNATURE, output.signature.clone());
    *request = signed;
    Ok(output)
}

/// Sets `Content-Digest` when the response has a body, signs it, and sets
/// `Signature-Input` and `Signature` (replacing any earlier instances).
///
/// # Errors
/// As [`sign_response`]; on error the response is unchanged.
pub fn sign_response_in_place(
    response: &mut HttpResponse,
    request: Option<&HttpRequest>,
    params: &SignatureParams,
    key: &SigningKey,
) -> Result<SignatureOutput, HttpSigError> {
    let mut signed = response.clone();
    if !signed.body.is_empty() {
        signed.set_header(field::CONTENT_DIGEST, content_digest(&signed.body));
    }
    let output = sign_response(&signed, request, params, key)?;
    signed.set_header(field::SIGNATURE_INPUT, output.signature_input.clone());
    signed.set_header(field::SIGNATURE, output.signature.clone());
    *response = signed;
    Ok(output)
}

/// The §5.3 request set, in order: `"@method" "@target-uri" "@authority"`,
/// then `"content-type"` (if the request has a body and the field),
/// `"content-digest"` (if it has a body: [`sign_request_in_place`] adds the
/// field), `"x-sage-did"` and `"date"` (each if the field is present).
#[must_use]
pub fn request_components(request: &HttpRequest) -> Vec<ComponentId> {
    let has_body = !request.body.is_empty();
    let mut covered = vec![
        ComponentId::derived(DerivedComponent::Method),
        ComponentId::derived(DerivedComponent::TargetUri),
        ComponentId::derived(DerivedComponent::Authority),
    ];
    push_field_if(
        &mut covered,
        field::CONTENT_TYPE,
        has_body && request.header(field::CONTENT_TYPE).is_some(),
    );
    push_field_if(&mut covered, field::CONTENT_DIGEST, has_body);
    push_field_if(
        &mut covered,
        field::X_SAGE_DID,
        request.header(field::X_SAGE_DID).is_some(),
    );
    push_field_if(
        &mut covered,
        field::DATE,
        request.header(field::DATE).is_some(),
    );
    covered
}

/// The §5.4 response set, in order: `"@status"`; with a request,
/// `"@method";req "@target-uri";req "@authority";req`, then
/// `"content-digest";req` if the request carried `Content-Digest` and
/// `"signature";req` if it was signed; then `"content-type"` if the response
/// sets it and `"content-digest"` if it has a body
/// ([`sign_response_in_place`] adds the field).
#[must_use]
pub fn response_components(
    response: &HttpResponse,
    request: Option<&HttpRequest>,
) -> Vec<ComponentId> {
    let mut covered = vec![ComponentId::derived(DerivedComponent::Status)];
    if let Some(request) = request {
        for d in [
            DerivedComponent::Method,
            DerivedComponent::TargetUri,
            DerivedComponent::Authority,
        ] {
            covered.push(ComponentId::derived(d).with_req());
        }
        if request.header(field::CONTENT_DIGEST).is_some() {
            covered.push(ComponentId::known_field(field::CONTENT_DIGEST).with_req());
        }
        if request.header(field::SIGNATURE).is_some() {
            covered.push(ComponentId::known_field(field::SIGNATURE).with_req());
        }
    }
    push_field_if(
        &mut covered,
        field::CONTENT_TYPE,
        response.header(field::CONTENT_TYPE).is_some(),
    );
    push_field_if(
        &mut covered,
        field::CONTENT_DIGEST,
        !response.body.is_empty(),
    );
    covered
}

fn sign_message(
    message: Message<'_>,
    related_request: Option<&HttpRequest>,
    params: &SignatureParams,
    key: &SigningKey,
) -> Result<SignatureOutput, HttpSigError> {
    if let Some(alg) = params.alg.as_deref().filter(|a| !a.is_empty())
        && KeyType::from_rfc9421_alg(alg) != Some(key.key_type())
    {
        return Err(HttpSigError::AlgMismatch);
    }
    let member_value = params.member_value()?;
    let base = signature_base(&params.covered, message, related_request, &member_value)?;
    let signature = key.sign(base.as_bytes());
    Ok(SignatureOutput {
        signature_input: format!("{}={member_value}", params.label),
        signature: format!("{}=:{}:", params.label, b64_encode(&signature)),
        base,
    })
}

fn push_field_if(covered: &mut Vec<ComponentId>, name: &'static str, condition: bool) {
    if condition {
        covered.push(ComponentId::known_field(name));
    }
}
