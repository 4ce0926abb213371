//! RFC 9421 glue between axum and sage-core (docs/PROTOCOL-PROFILE.md §1,
//! PROTOCOL.md §5.3–§5.5, §12.1).
//!
//! Layer: node, protocol endpoints. Builds the sage-core [`HttpRequest`]
//! the client signed from what axum received (`@target-uri` is
//! `{scheme}://{authority}{path}` of `public_url`, else `http://{Host}`),
//! derives the [`VerifyOptions`] from `[rfc9421]`, and signs every answer
//! with the node's key (`Content-Digest`, `Signature-Input`, `Signature`,
//! `X-SAGE-DID`). It decides nothing about the protocol: sage-core
//! verifies and signs.

use axum::body::Body;
use axum::extract::OriginalUri;
use axum::response::Response;
use http::header::{CONTENT_TYPE, HOST};
use http::request::Parts;
use http::{HeaderName, HeaderValue, StatusCode, Uri};
use sage_config::SageConfig;
use sage_core::httpsig::{
    ComponentId, DerivedComponent, HttpRequest, HttpResponse, HttpSigError, SignatureParams,
    VerifyOptions, response_components, sign_response_in_place,
};
use sage_core::time::Timestamp;
use sage_core::transport::HEADER_DID;

use super::ProtocolSetupError;
use crate::identity::NodeIdentity;

/// The header whose presence the profile adds to every request signature.
const X_SAGE_DID: &str = "x-sage-did";
/// The media type of every `/messages` answer.
const APPLICATION_JSON: &str = "application/json";

/// The components a request signature must cover: `[rfc9421]
/// required_components` plus `x-sage-did` (§12.1; `content-digest` is
/// added by the verifier's strict mode whenever there is a body).
///
/// # Errors
/// [`ProtocolSetupError::RequiredComponent`] for a name that is not a
/// component identifier.
pub(crate) fn required_components(
    config: &SageConfig,
) -> Result<Vec<ComponentId>, ProtocolSetupError> {
    let mut components = Vec::new();
    for name in &config.rfc9421.required_components {
        let component = parse_component(name)
            .ok_or_else(|| ProtocolSetupError::RequiredComponent(name.clone()))?;
        if component.is_req() {
            return Err(ProtocolSetupError::RequiredComponent(name.clone()));
        }
        if !components
            .iter()
            .any(|c: &ComponentId| c.as_str() == component.as_str())
        {
            components.push(component);
        }
    }
    let did = ComponentId::field(X_SAGE_DID)
        .map_err(|_| ProtocolSetupError::RequiredComponent(X_SAGE_DID.to_owned()))?;
    if !components.iter().any(|c| c.as_str() == did.as_str()) {
        components.push(did);
    }
    Ok(components)
}

/// `@method`, `content-type` or `"@method"` (a serialised identifier).
fn parse_component(name: &str) -> Option<ComponentId> {
    if name.starts_with('"') {
        ComponentId::parse(name).ok()
    } else if name.starts_with('@') {
        DerivedComponent::from_name(name).map(ComponentId::derived)
    } else {
        ComponentId::field(name).ok()
    }
}

/// The options a request signature is verified with.
pub(crate) fn verify_options(
    config: &SageConfig,
    required: &[ComponentId],
    body_limit: usize,
    expected_did: &str,
) -> VerifyOptions {
    let max_age = (!config.rfc9421.max_age.is_zero()).then_some(config.rfc9421.max_age);
    VerifyOptions {
        max_age,
        max_clock_skew: config.rfc9421.clock_skew,
        require_nonce: config.rfc9421.require_nonce,
        strict: true,
        required_components: Some(required.to_vec()),
        expected_did: Some(expected_did.to_owned()),
        expected_key_id: None,
        expected_authorities: Vec::new(),
        max_body_len: body_limit,
        replay_lifetime: max_age.unwrap_or(VerifyOptions::DEFAULT_WINDOW),
    }
}

/// The request as the client signed it, without its body (set
/// [`HttpRequest::body`] once it is read). `None` when no target URI can
/// be rebuilt (no authority anywhere).
pub(crate) fn inbound_request(parts: &Parts, public_url: Option<&Uri>) -> Option<HttpRequest> {
    let target_uri = target_uri(parts, public_url)?;
    let mut request = HttpRequest::new(parts.method.as_str(), target_uri);
    for (name, value) in &parts.headers {
        // A value that is not visible ASCII cannot be part of a signature
        // base the client built; leaving it out makes a covered one fail as
        // absent rather than be guessed at.
        if let Ok(value) = value.to_str() {
            request
                .headers
                .push((name.as_str().to_owned(), value.to_owned()));
        }
    }
    Some(request)
}

fn target_uri(parts: &Parts, public_url: Option<&Uri>) -> Option<String> {
    // Under `Router::nest` the path the client addressed is the original
    // one, not the one the nested router sees.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let path = uri.path_and_query().map_or("/", |p| p.as_str());
    if let Some(base) = public_url {
        let scheme = base.scheme_str()?;
        let authority = base.authority()?;
        return Some(format!("{scheme}://{authority}{path}"));
    }
    let authority = match uri.authority() {
        Some(authority) => authority.as_str().to_owned(),
        None => parts.headers.get(HOST)?.to_str().ok()?.to_owned(),
    };
    if authority.is_empty() {
        return None;
    }
    Some(format!("http://{authority}{path}"))
}

/// The answer `body` with `status`, signed by the node: `Content-Type`,
/// `X-SAGE-DID`, `Content-Digest`, `Signature-Input`, `Signature`, bound
/// to `request` (§5.4) when there is one that can be bound to.
pub(crate) fn signed_response(
    identity: &NodeIdentity,
    request: Option<&HttpRequest>,
    status: StatusCode,
    body: Vec<u8>,
    now: Timestamp,
) -> Response {
    let unsigned = HttpResponse::new(status.as_u16())
        .with_header(CONTENT_TYPE.as_str(), APPLICATION_JSON)
        .with_header(HEADER_DID, identity.did().as_str())
        .with_body(body);
    let signed = sign(identity, &unsigned, request, now)
        // A request whose target URI or covered fields cannot enter a
        // signature base (it failed for that reason, most likely) still
        // gets a signed answer, unbound.
        .or_else(|_| sign(identity, &unsigned, None, now));
    let response = match signed {
        Ok(response) => response,
        Err(error) => {
            tracing::error!(code = error.code(), "the node could not sign its answer");
            unsigned
        }
    };
    into_axum(status, response)
}

fn sign(
    identity: &NodeIdentity,
    response: &HttpResponse,
    request: Option<&HttpRequest>,
    now: Timestamp,
) -> Result<HttpResponse, HttpSigError> {
    let mut response = response.clone();
    let mut covered = response_components(&response, request);
    covered.push(ComponentId::field(X_SAGE_DID)?);
    let key = identity.signing_key();
    let mut params = SignatureParams::new(covered, identity.did().as_str(), now);
    params.alg = key.key_type().rfc9421_alg().map(str::to_owned);
    sign_response_in_place(&mut response, request, &params, key)?;
    Ok(response)
}

fn into_axum(status: StatusCode, response: HttpResponse) -> Response {
    let mut out = Response::new(Body::from(response.body));
    *out.status_mut() = status;
    let headers = out.headers_mut();
    for (name, value) in response.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            headers.append(name, value);
        }
    }
    out
}
