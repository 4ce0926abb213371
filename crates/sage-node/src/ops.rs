//! Operations: `/health`, `/ready`, `/metrics`, per-request HTTP metrics,
//! and the process's logging.
//!
//! Layer: node, HTTP edge for operators and orchestrators. What each
//! endpoint promises:
//!
//! - `GET /health` (liveness): 200 `{"status":"ok"}` whenever the process
//!   serves HTTP. It checks nothing else, so a slow database never gets a
//!   healthy node restarted.
//! - `GET /ready` (readiness): 200 when the database answers a ping and
//!   the registry resolves the node's own DID *past the cache* (a cached
//!   answer would hide an unreachable registry); 503 problem+json
//!   (`node.not_ready`) naming which check failed, and 503 once shutdown
//!   has begun, so load balancers drain the node first.
//! - `GET /metrics`: the Prometheus text of [`crate::metrics`].
//!
//! [`track_http`] records `sage_http_requests_total` and the duration
//! histogram by method, *matched route template* (never the raw path, so
//! a peer cannot grow the label set) and status. [`init_logging`] installs
//! the `tracing` subscriber: text or JSON (`logging.format`), filtered by
//! `logging.filter` or `logging.level`.
//!
//! Invariants: no endpoint here serves key material or error text of the
//! database or registry (causes are logged, not served).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use sage_config::{LogFormat, LogLevel, LoggingConfig};
use sage_core::did::Did;
use sage_registry::Registry as _;
use sage_store::Store;
use serde::Serialize;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::problem::{ApiProblem, codes};
use crate::registry::NodeResolver;

/// The OpenAPI tag of the operations endpoints.
pub const TAG: &str = "operations";

/// The media type of the Prometheus text exposition format.
pub const PROMETHEUS_CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What `/ready` checks, and the flag that turns it to 503 on shutdown.
#[derive(Clone)]
pub struct Readiness {
    store: Store,
    resolver: Arc<NodeResolver>,
    did: Did,
    draining: Arc<AtomicBool>,
}

impl core::fmt::Debug for Readiness {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Readiness")
            .field("did", &self.did.as_str())
            .field("draining", &self.draining.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Readiness {
    /// Readiness of a node whose DID is `did`; `draining` is set when
    /// shutdown begins.
    pub fn new(
        store: Store,
        resolver: Arc<NodeResolver>,
        did: Did,
        draining: Arc<AtomicBool>,
    ) -> Self {
        Self {
            store,
            resolver,
            did,
            draining,
        }
    }
}

/// Liveness answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ok"}))]
pub struct Health {
    /// Always `ok`.
    pub status: &'static str,
}

/// Readiness answer.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"status": "ready", "database": "ok", "registry": "ok"}))]
pub struct Ready {
    /// Always `ready`.
    pub status: &'static str,
    /// The database ping: `ok`.
    pub database: &'static str,
    /// The registry's resolution of the node's own DID: `ok`.
    pub registry: &'static str,
}

/// The routes `/health`, `/ready` and, when `metrics` is given, the
/// metrics at `/metrics` (see [`metrics_router`] for another path or
/// listener).
pub fn routes(readiness: Readiness, metrics: Option<PrometheusHandle>) -> OpenApiRouter {
    let router = OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .with_state(readiness);
    match metrics {
        Some(handle) => router.merge(
            OpenApiRouter::new()
                .routes(routes!(metrics_text))
                .with_state(handle),
        ),
        None => router,
    }
}

/// The operations document alone (paths and schemas), for the node's
/// full OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    let mut document = OpenApiRouter::<Readiness>::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .into_openapi();
    document.merge(
        OpenApiRouter::<PrometheusHandle>::new()
            .routes(routes!(metrics_text))
            .into_openapi(),
    );
    document
}

/// The metrics alone at `path`: for `metrics.listen` (a listener of its
/// own) or a `metrics.path` other than `/metrics`.
pub fn metrics_router(path: &str, handle: PrometheusHandle) -> Router {
    Router::new()
        .route(path, axum::routing::get(metrics_text))
        .with_state(handle)
}

/// Liveness.
#[utoipa::path(
    get,
    path = "/health",
    tag = TAG,
    operation_id = "health",
    responses(
        (status = 200, description = "The process serves HTTP", body = Health,
            example = json!({"status": "ok"})),
    )
)]
pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Readiness: the database and the registry are reachable.
#[utoipa::path(
    get,
    path = "/ready",
    tag = TAG,
    operation_id = "ready",
    responses(
        (status = 200, description = "The database and the registry answer", body = Ready,
            example = json!({"status": "ready", "database": "ok", "registry": "ok"})),
        (status = 503, description = "A dependency is unreachable, or the node is shutting down",
            body = ApiProblem, content_type = "application/problem+json",
            example = json!({
                "type": "https://sage-x-project.github.io/sage-spec/errors/node.not_ready",
                "title": "Not ready",
                "status": 503,
                "code": "node.not_ready",
                "detail": "the database does not answer"
            })),
    )
)]
pub async fn ready(State(readiness): State<Readiness>) -> Result<Json<Ready>, ApiProblem> {
    let not_ready =
        |detail: &str| ApiProblem::new(StatusCode::SERVICE_UNAVAILABLE, codes::NOT_READY, detail);
    if readiness.draining.load(Ordering::Relaxed) {
        return Err(not_ready("the node is shutting down"));
    }
    if let Err(error) = readiness.store.ping().await {
        tracing::warn!(%error, "readiness: database ping failed");
        return Err(not_ready("the database does not answer"));
    }
    // The backend itself, not the resolver: the check is of the registry.
    if let Err(error) = readiness.resolver.registry().resolve(&readiness.did).await {
        tracing::warn!(%error, "readiness: the registry cannot resolve the node's DID");
        return Err(not_ready("the registry cannot resolve the node's DID"));
    }
    Ok(Json(Ready {
        status: "ready",
        database: "ok",
        registry: "ok",
    }))
}

/// Prometheus metrics.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = TAG,
    operation_id = "metrics",
    responses(
        (status = 200, description = "Prometheus text exposition format 0.0.4", body = String,
            content_type = "text/plain",
            example = "# TYPE sage_http_requests_total counter\nsage_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 1\n"),
    )
)]
pub async fn metrics_text(State(handle): State<PrometheusHandle>) -> Response {
    let mut response = handle.render().into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(PROMETHEUS_CONTENT_TYPE),
    );
    response
}

/// Middleware: records every request in the HTTP metrics under its
/// matched route (`unmatched` when no route matched).
pub async fn track_http(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    crate::metrics::http_request(
        &method,
        route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Why logging could not be set up.
#[derive(Debug)]
#[non_exhaustive]
pub enum LoggingError {
    /// `logging.filter` is not a valid `tracing` filter.
    BadFilter,
    /// A global subscriber is already installed in this process.
    AlreadyInstalled,
}

impl core::fmt::Display for LoggingError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Self::BadFilter => "logging.filter is not a valid tracing filter",
            Self::AlreadyInstalled => "a logging subscriber is already installed",
        })
    }
}

impl std::error::Error for LoggingError {}

/// Installs the process-wide `tracing` subscriber of `config`, writing to
/// standard error.
///
/// # Errors
/// [`LoggingError::BadFilter`], [`LoggingError::AlreadyInstalled`].
pub fn init_logging(config: &LoggingConfig) -> Result<(), LoggingError> {
    init_logging_with(config, std::io::stderr)
}

/// [`init_logging`] with another writer (tests capture the log with it).
///
/// # Errors
/// As [`init_logging`].
pub fn init_logging_with<W>(config: &LoggingConfig, writer: W) -> Result<(), LoggingError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = match &config.filter {
        Some(filter) => EnvFilter::try_new(filter).map_err(|_| LoggingError::BadFilter)?,
        None => EnvFilter::new(level_directive(config.level)),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let installed = match config.format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
    installed.map_err(|_| LoggingError::AlreadyInstalled)
}

fn level_directive(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
        LogLevel::Off => "off",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_operations_document_lists_the_three_endpoints_under_their_tag() {
        let document = openapi();
        for path in ["/health", "/ready", "/metrics"] {
            let item = document.paths.paths.get(path).expect(path);
            let get = item.get.as_ref().expect("a GET operation");
            assert_eq!(get.tags.as_deref(), Some(&[TAG.to_owned()][..]), "{path}");
        }
    }

    #[test]
    fn every_level_is_a_filter_directive() {
        for level in [
            LogLevel::Trace,
            LogLevel::Debug,
            LogLevel::Info,
            LogLevel::Warn,
            LogLevel::Error,
            LogLevel::Off,
        ] {
            assert!(EnvFilter::try_new(level_directive(level)).is_ok());
        }
    }
}
