//! RFC 9457 problem details for the node's HTTP API, with stable codes.
//!
//! Layer: node, HTTP edge. [`ApiProblem`] is what every `/v1` endpoint and
//! every operations endpoint answers on failure: `application/problem+json`
//! with `type` = the sage-spec error base + `code`, a fixed `title` per
//! code, the HTTP `status`, the `code` extension member and a `detail`
//! written for the caller. Registry and resolution errors keep the codes
//! of PROTOCOL.md §10.5 (through [`sage_registry::RegistryError::problem`]).
//!
//! Invariants: `detail` never carries a source error's text (database and
//! chain errors can name hosts and credentials: they are logged, not
//! served); codes are `&'static str` from the closed list [`codes`], so
//! clients can match on them across releases.
//!
//! Not here: `/messages`. A message sender is only ever told that
//! authentication failed; see `protocol`.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sage_registry::RegistryError;
use sage_registry::problem::{PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE, Problem};
use serde::Serialize;
use utoipa::ToSchema;

/// The stable codes of the node's own problems (registry and resolution
/// problems add the §10.5 codes).
pub mod codes {
    /// No or wrong bearer token (401).
    pub const UNAUTHORIZED: &str = "auth.unauthorized";
    /// A path or query parameter, or a JSON body, does not parse (400).
    pub const BAD_REQUEST: &str = "request.invalid";
    /// The body is larger than `server.body_limit` (413).
    pub const TOO_LARGE: &str = "request.too_large";
    /// The body is not of the media type the endpoint takes (415).
    pub const UNSUPPORTED_MEDIA_TYPE: &str = "request.unsupported_media_type";
    /// No such route (404).
    pub const NOT_FOUND: &str = "route.not_found";
    /// The route exists but not for this method (405).
    pub const METHOD_NOT_ALLOWED: &str = "route.method_not_allowed";
    /// No session with this id or kid (404).
    pub const SESSION_UNKNOWN: &str = "session.unknown";
    /// The session is past its lifetime (410).
    pub const SESSION_EXPIRED: &str = "session.expired";
    /// The DID is not known to the registry (404).
    pub const DID_UNKNOWN: &str = "did.unknown";
    /// A signature did not verify (401 / 400 by context).
    pub const SIGNATURE_INVALID: &str = "signature.invalid";
    /// A nonce or sequence was seen before (409).
    pub const REPLAY_DETECTED: &str = "replay.detected";
    /// The database cannot be reached (503).
    pub const STORE_UNAVAILABLE: &str = "store.unavailable";
    /// The node is shutting down or not ready (503).
    pub const NOT_READY: &str = "node.not_ready";
    /// Anything else; details are in the node's log under the request id (500).
    pub const INTERNAL: &str = "internal";
}

/// An RFC 9457 problem: `application/problem+json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[schema(example = json!({
    "type": "https://sage-x-project.github.io/sage-spec/errors/session.unknown",
    "title": "Unknown session",
    "status": 404,
    "code": "session.unknown",
    "detail": "no live session has id 3q2-7wAAAAAAAAAAAAAAAA"
}))]
pub struct ApiProblem {
    /// The sage-spec error base followed by `code`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A fixed, short description of `code`.
    pub title: String,
    /// The HTTP status.
    pub status: u16,
    /// The stable code to match on.
    pub code: String,
    /// What happened, for a human.
    pub detail: String,
}

impl ApiProblem {
    /// A problem with `code`, its `status` and `detail`; the title is
    /// [`title_of`] the code.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            problem_type: format!("{PROBLEM_TYPE_BASE}{code}"),
            title: title_of(code).to_owned(),
            status: status.as_u16(),
            code: code.to_owned(),
            detail: detail.into(),
        }
    }

    /// 401 with a `WWW-Authenticate: Bearer` challenge (set by
    /// [`IntoResponse`]). The detail is the same whatever was wrong with
    /// the token, so the answer tells nothing about it.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            codes::UNAUTHORIZED,
            "a valid bearer token is required",
        )
    }

    /// 500; the caller logs the cause under the request id.
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            codes::INTERNAL,
            "the node could not complete the request; see its log",
        )
    }

    /// 503 for an unreachable database.
    pub fn store_unavailable() -> Self {
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::STORE_UNAVAILABLE,
            "the node's database cannot be reached",
        )
    }
}

impl From<Problem> for ApiProblem {
    fn from(p: Problem) -> Self {
        Self {
            problem_type: p.problem_type,
            title: p.title,
            status: p.status,
            code: p.code,
            detail: p.detail,
        }
    }
}

impl From<&RegistryError> for ApiProblem {
    fn from(error: &RegistryError) -> Self {
        error.problem().into()
    }
}

impl IntoResponse for ApiProblem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        if status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"sage\""),
            );
        }
        response
    }
}

/// The fixed title of a node code (registry codes carry their own).
pub fn title_of(code: &str) -> &'static str {
    match code {
        codes::UNAUTHORIZED => "Unauthorized",
        codes::BAD_REQUEST => "Invalid request",
        codes::TOO_LARGE => "Request too large",
        codes::UNSUPPORTED_MEDIA_TYPE => "Unsupported media type",
        codes::NOT_FOUND => "Not found",
        codes::METHOD_NOT_ALLOWED => "Method not allowed",
        codes::SESSION_UNKNOWN => "Unknown session",
        codes::SESSION_EXPIRED => "Session expired",
        codes::DID_UNKNOWN => "Unknown DID",
        codes::SIGNATURE_INVALID => "Invalid signature",
        codes::REPLAY_DETECTED => "Replay detected",
        codes::STORE_UNAVAILABLE => "Database unavailable",
        codes::NOT_READY => "Not ready",
        _ => "Internal error",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_problem_is_served_as_problem_json_with_its_status_and_code() {
        let response =
            ApiProblem::new(StatusCode::NOT_FOUND, codes::SESSION_UNKNOWN, "gone").into_response();
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
        let body = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "session.unknown");
        assert_eq!(json["status"], 404);
        assert_eq!(
            json["type"],
            "https://sage-x-project.github.io/sage-spec/errors/session.unknown"
        );
    }

    #[tokio::test]
    async fn unauthorized_carries_a_bearer_challenge() {
        let response = ApiProblem::unauthorized().into_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
    }
}
