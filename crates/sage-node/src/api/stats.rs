//! `GET /v1/stats`: counts of live nonces and sessions, and the resolver
//! cache's counters.
//!
//! Layer: node, management API. The counts are the database's (every
//! node sharing it sees the same numbers); the resolver counters are this
//! process's since it started.

use axum::Json;
use axum::extract::State;
use sage_store::NonceStore as _;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::openapi::{AuthProblems, StoreProblems};
use super::{SharedState, TAG, store_problem};
use crate::problem::ApiProblem;

pub(crate) fn router() -> OpenApiRouter<SharedState> {
    OpenApiRouter::new().routes(routes!(get_stats))
}

/// The resolver cache's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct ResolverStatsView {
    /// Resolutions answered from the cache (tombstones included).
    pub hits: u64,
    /// Resolutions that asked the registry.
    pub misses: u64,
    /// Registry or cache failures.
    pub errors: u64,
    /// How long a positive answer is cached, in seconds.
    pub ttl_seconds: u64,
}

/// Counts of the node's state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StatsView {
    /// Replay nonces not yet expired.
    pub nonces: u64,
    /// Live sessions.
    pub sessions: u64,
    /// The configured registry backend: `local` or `ethereum`.
    pub registry_backend: String,
    /// The resolver cache's counters.
    pub resolver: ResolverStatsView,
    /// When the counts were taken, RFC 3339.
    pub observed_at: String,
}

/// Counts of live nonces and sessions, and the resolver's cache counters.
#[utoipa::path(
    get,
    path = "/v1/stats",
    tag = TAG,
    operation_id = "getStats",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The counts", body = StatsView,
            content_type = "application/json",
            example = json!({
                "nonces": 1834,
                "sessions": 12,
                "registry_backend": "local",
                "resolver": {"hits": 9120, "misses": 311, "errors": 0, "ttl_seconds": 300},
                "observed_at": "2026-01-01T00:05:00Z"
            })),
        AuthProblems,
        StoreProblems,
    )
)]
pub(crate) async fn get_stats(
    State(state): State<SharedState>,
) -> Result<Json<StatsView>, ApiProblem> {
    let now = state.clock.now();
    let nonces = state
        .store
        .count(now)
        .await
        .map_err(|e| store_problem(&e))?;
    let sessions = state
        .store
        .count_sessions(now)
        .await
        .map_err(|e| store_problem(&e))?;
    let counters = state.resolver.stats().snapshot();
    Ok(Json(StatsView {
        nonces,
        sessions,
        registry_backend: state.resolver.registry().backend_name().to_owned(),
        resolver: ResolverStatsView {
            hits: counters.hits,
            misses: counters.misses,
            errors: counters.errors,
            ttl_seconds: state.resolver.ttl().as_secs(),
        },
        observed_at: now.to_rfc3339(),
    }))
}
