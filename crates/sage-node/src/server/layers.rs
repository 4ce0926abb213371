//! The middleware every response goes through, and the fallbacks.
//!
//! Layer: node, HTTP edge. From the outside in:
//!
//! 1. `x-request-id`: a UUID v4 unless the client sent one; copied onto
//!    the response (tower-http `SetRequestId` / `PropagateRequestId`);
//! 2. a `tracing` span per request carrying that id, so every log line of
//!    the request names it; the response is logged with its status and
//!    latency;
//! 3. panics become a 500 problem (the cause is logged, not served);
//! 4. `server.request_timeout` for the whole request (408 problem);
//! 5. `server.body_limit` (413 problem);
//! 6. the HTTP metrics ([`crate::ops::track_http`]).
//!
//! Errors produced by the layers themselves (408, 413) carry no body of
//! their own; [`problem_for_bare_errors`] gives them the problem+json
//! answer every other error has. 404 and 405 come from [`not_found`] and
//! [`method_not_allowed`].

use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderName, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::LatencyUnit;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

use crate::problem::{ApiProblem, codes};

/// The request id header.
pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// `router` with the fallbacks and the middleware stack of the module doc.
pub fn wrap(router: Router, body_limit: usize, request_timeout: Duration) -> Router {
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn(crate::ops::track_http))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(
                    TraceLayer::new_for_http()
                        .make_span_with(request_span)
                        .on_response(
                            DefaultOnResponse::new()
                                .level(Level::INFO)
                                .latency_unit(LatencyUnit::Millis),
                        ),
                )
                .layer(CatchPanicLayer::custom(panic_response))
                .layer(middleware::from_fn(problem_for_bare_errors))
                .layer(TimeoutLayer::with_status_code(
                    StatusCode::REQUEST_TIMEOUT,
                    request_timeout,
                ))
                .layer(RequestBodyLimitLayer::new(body_limit)),
        )
}

/// The span of one request: its id, method and path.
fn request_span(request: &Request<Body>) -> tracing::Span {
    let id = request
        .headers()
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    tracing::info_span!(
        "request",
        request_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
    )
}

fn panic_response(_: Box<dyn core::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiProblem::internal().into_response()
}

/// Gives the layers' own 408 and 413 answers (which have no problem
/// body) the node's problem+json form; every other response passes.
pub async fn problem_for_bare_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let has_own_body = response.headers().contains_key(header::CONTENT_TYPE)
        && response.headers()[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|t| t.contains("json"));
    if has_own_body {
        return response;
    }
    match response.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiProblem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::TOO_LARGE,
            "the body is larger than server.body_limit",
        )
        .into_response(),
        StatusCode::REQUEST_TIMEOUT => ApiProblem::new(
            StatusCode::REQUEST_TIMEOUT,
            codes::BAD_REQUEST,
            "the request did not complete within server.request_timeout",
        )
        .into_response(),
        _ => response,
    }
}

/// 404 for every path no route serves.
pub async fn not_found() -> ApiProblem {
    ApiProblem::new(
        StatusCode::NOT_FOUND,
        codes::NOT_FOUND,
        "no endpoint at this path; see /docs",
    )
}

/// 405 for a known path and another method.
pub async fn method_not_allowed() -> ApiProblem {
    ApiProblem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        codes::METHOD_NOT_ALLOWED,
        "this endpoint does not take this method; see /docs",
    )
}
