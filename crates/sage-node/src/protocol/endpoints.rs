//! The routes of the protocol endpoints and their OpenAPI description
//! (tag `protocol`, with request and response examples).
//!
//! Layer: node, HTTP. The handlers only hand the request to
//! [`MessageService`]; the `*Doc` types describe the wire JSON for the
//! documentation and are never parsed (sage-core's strict decoder is).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::MessageService;

/// The transport envelope (PROTOCOL.md §12.1), for the API documentation.
#[derive(Debug, Serialize, ToSchema)]
pub struct WireMessageDoc {
    /// A fresh UUIDv4 per message.
    pub id: String,
    /// The handshake's context id (handshakes only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
    /// `hpke/complete@v1` for a handshake, else the application's task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Standard base64: the init payload, or one c→s session record.
    pub payload: String,
    /// The sender's DID.
    pub did: String,
    /// Standard base64: the sender's signature over the raw payload bytes.
    pub signature: String,
    /// `{"kid": ...}` on a session; `{"cookie": ...}` for a handshake when
    /// the node requires one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<std::collections::BTreeMap<String, String>>,
    /// `"user"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

/// The answer envelope (PROTOCOL.md §12.1), for the API documentation.
#[derive(Debug, Serialize, ToSchema)]
pub struct WireResponseDoc {
    /// Whether the message was accepted.
    pub success: bool,
    /// The request's id.
    pub message_id: String,
    /// The request's task.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub task_id: Option<String>,
    /// Standard base64: the signed ack envelope (handshake) or one s→c
    /// record (application message).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<String>,
    /// The generic error of a refused message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// An anti-DoS cookie for the next handshake.
#[derive(Debug, Serialize, ToSchema)]
pub struct HandshakeCookie {
    /// Put it in the init message's `metadata.cookie`.
    pub cookie: String,
    /// When it stops being accepted (RFC 3339).
    pub expires_at: String,
}

/// Receives a handshake init or an application record.
#[utoipa::path(
    post,
    path = "/messages",
    tag = "protocol",
    summary = "Handshake or application message",
    description = "A `WireMessage` (PROTOCOL.md §12.1, docs/PROTOCOL-PROFILE.md). With \
        `task_id = hpke/complete@v1` it runs the responder side of the handshake and is \
        always answered with HTTP 200; otherwise `payload` is a session record on the \
        session named by `metadata.kid`, and the request must carry an RFC 9421 signature. \
        Every answer is signed by the node (`Signature`, `Signature-Input`, \
        `Content-Digest`, `X-SAGE-DID`).",
    params(
        ("X-SAGE-DID" = String, Header, description = "The sender's DID (mirrors `did`)"),
        ("X-SAGE-Message-ID" = Option<String>, Header, description = "Mirrors `id`"),
        ("X-SAGE-Meta-kid" = Option<String>, Header, description = "Mirrors `metadata.kid`"),
        ("Signature-Input" = Option<String>, Header, description = "RFC 9421, label `sig1`"),
        ("Signature" = Option<String>, Header, description = "RFC 9421, label `sig1`"),
        ("Content-Digest" = Option<String>, Header, description = "RFC 9530, `sha-256`"),
    ),
    request_body(
        content = WireMessageDoc,
        content_type = "application/json",
        description = "The transport envelope",
        example = json!({
            "id": "0b6c7b52-8a57-4d0e-9a3b-7f1c2d3e4f50",
            "task_id": "chat",
            "payload": "AAAAAAAAAAA6Yh0Ns3JkqP1fXbU5sQ5i0tq2l4Yw8jE=",
            "did": "did:sage:ethereum:0x1f2e3d4c5b6a79881726354453627180a9b8c7d6",
            "signature": "MEUCIQDf2n0E0yWmD5qUj1mE0xQ2m7bQ3bB1Yv3mD8Y0lG3hVQIgT1n8Jw==",
            "metadata": {"kid": "kid-5d1c7a4e-3b2f-4e6d-9c8b-1a2b3c4d5e6f"},
            "role": "user"
        })
    ),
    responses(
        (status = 200, description = "Accepted (or, for a handshake, answered)", body = WireResponseDoc,
            example = json!({
                "success": true,
                "message_id": "0b6c7b52-8a57-4d0e-9a3b-7f1c2d3e4f50",
                "task_id": "chat",
                "data": "AAAAAAAAAAE0c2VjcmV0LXJlY29yZC1ieXRlcw=="
            })),
        (status = 400, description = "Not a WireMessage, or mirror headers disagree", body = WireResponseDoc,
            example = json!({"success": false, "message_id": "", "error": "malformed message"})),
        (status = 401, description = "Refused; the reason is only logged", body = WireResponseDoc,
            example = json!({
                "success": false,
                "message_id": "0b6c7b52-8a57-4d0e-9a3b-7f1c2d3e4f50",
                "error": "authentication failed"
            })),
        (status = 413, description = "Body over server.body_limit", body = WireResponseDoc,
            example = json!({"success": false, "message_id": "", "error": "message too large"})),
        (status = 502, description = "Gateway mode: the upstream failed", body = WireResponseDoc,
            example = json!({
                "success": false,
                "message_id": "0b6c7b52-8a57-4d0e-9a3b-7f1c2d3e4f50",
                "error": "upstream unavailable"
            })),
        (status = 503, description = "Database or registry unreachable; retry the same bytes", body = WireResponseDoc,
            example = json!({
                "success": false,
                "message_id": "0b6c7b52-8a57-4d0e-9a3b-7f1c2d3e4f50",
                "error": "temporarily unavailable"
            })),
    )
)]
async fn post_messages(State(service): State<Arc<MessageService>>, request: Request) -> Response {
    service.handle_message(request).await
}

/// Issues an anti-DoS cookie for the next handshake.
#[utoipa::path(
    get,
    path = "/handshake/cookie",
    tag = "protocol",
    summary = "Anti-DoS cookie",
    description = "A cookie valid five minutes, for `metadata.cookie` of a handshake init \
        when the node sets `handshake.require_cookie`. The answer is signed by the node.",
    responses(
        (status = 200, description = "A fresh cookie", body = HandshakeCookie,
            example = json!({
                "cookie": "1767225900.Xq3l6f0cQ6t6v2mJc1yT3m9rN2b8Zp0sW4eK7uH1aGs",
                "expires_at": "2026-01-01T00:05:00Z"
            })),
    )
)]
async fn get_cookie(State(service): State<Arc<MessageService>>, request: Request) -> Response {
    let (parts, _) = request.into_parts();
    service.handle_cookie(&parts)
}

/// `POST /messages` and `GET /handshake/cookie`, documented for OpenAPI
/// (tag `protocol`). The caller may add a body-limit layer; the handler
/// enforces `server.body_limit` itself as well.
pub fn routes(service: Arc<MessageService>) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(post_messages))
        .routes(routes!(get_cookie))
        .with_state(service)
}

/// The protocol document alone (no service needed), for the node's full
/// OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    OpenApiRouter::<Arc<MessageService>>::new()
        .routes(routes!(post_messages))
        .routes(routes!(get_cookie))
        .into_openapi()
}
