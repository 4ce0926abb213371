//! The management API: `/v1`, for the node's operators (docs/API.md).
//!
//! Layer: node, HTTP edge. Every route here is JSON, sits behind the
//! bearer token of [`auth`] and answers failures as RFC 9457
//! [`ApiProblem`]s with stable codes. The routes come with their OpenAPI
//! description ([`routes`] returns a `utoipa_axum` router), and
//! [`openapi`] holds the document's base, its sync with the committed
//! `api/openapi.yaml` and the Swagger UI.
//!
//! | module | routes |
//! |---|---|
//! | [`identity`] | `GET /v1/identity`, `GET /v1/identity/document` |
//! | [`dids`] | `GET /v1/dids/{did}` |
//! | [`registry_ops`] | `POST /v1/registry/{register,activate,keys,keys/revoke,update,deactivate}` |
//! | [`sessions`] | `GET /v1/sessions`, `GET`/`DELETE /v1/sessions/{sid}` |
//! | [`stats`] | `GET /v1/stats` |
//!
//! Invariants: no handler ever serves key material (session records are
//! their clear columns, identities their public keys); no error detail
//! carries a database or chain error's text (it is logged instead); a
//! request without the right token learns nothing but "401".
//!
//! Not here: `/messages` (`protocol`), `/health`, `/ready`, `/metrics`
//! (`ops`), the agent card (`card`), the server assembly (`server`).

pub mod auth;
pub mod dids;
pub mod identity;
pub mod openapi;
pub mod registry_ops;
pub mod sessions;
pub mod stats;

#[cfg(test)]
mod tests;

use core::fmt;
use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use sage_core::version::{Labels, ProtocolVersion};
use sage_registry::RegistryError;
use sage_store::{Clock, Sessions, Store, StoreError};
use utoipa_axum::router::OpenApiRouter;
use zeroize::Zeroizing;

use crate::identity::NodeIdentity;
use crate::problem::{ApiProblem, codes};
use crate::registry::NodeResolver;

pub use openapi::{docs_router, full_openapi, openapi_base};

/// The OpenAPI tag of every route of this module.
pub const TAG: &str = "management";

/// What the management API needs from the node.
pub struct ApiDeps {
    /// The node's identity (public halves are served, nothing else).
    pub identity: Arc<NodeIdentity>,
    /// The database: nonce counts.
    pub store: Store,
    /// The session store (clear records only are ever read).
    pub sessions: Sessions,
    /// The node's resolver: resolutions, and registry writes that also
    /// invalidate its cache.
    pub resolver: Arc<NodeResolver>,
    /// The bearer token, resolved from `management.token`
    /// (`Zeroizing::new(secret.resolve(&env)?.expose().to_vec())`). `None`
    /// answers 401 to every request: operators must configure a token.
    pub token: Option<Zeroizing<Vec<u8>>>,
    /// "Now" for session and nonce liveness.
    pub clock: Arc<dyn Clock>,
}

impl fmt::Debug for ApiDeps {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiDeps")
            .field("identity", &self.identity)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// The state the handlers share.
pub(crate) struct ApiState {
    identity: Arc<NodeIdentity>,
    store: Store,
    sessions: Sessions,
    resolver: Arc<NodeResolver>,
    clock: Arc<dyn Clock>,
}

pub(crate) type SharedState = Arc<ApiState>;

/// The `/v1` routes, bearer-authenticated, with their OpenAPI paths. The
/// server merges this router with the protocol, operations and card
/// routers.
pub fn routes(deps: ApiDeps) -> OpenApiRouter {
    let guard = auth::BearerGuard::new(deps.token.as_deref().map(|t| &t[..]));
    let state = Arc::new(ApiState {
        identity: deps.identity,
        store: deps.store,
        sessions: deps.sessions,
        resolver: deps.resolver,
        clock: deps.clock,
    });
    unauthenticated_router()
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::new(guard),
            auth::require_bearer,
        ))
        .with_state(state)
}

/// The management OpenAPI document alone (paths and schemas, no base).
pub fn management_openapi() -> utoipa::openapi::OpenApi {
    unauthenticated_router().into_openapi()
}

fn unauthenticated_router() -> OpenApiRouter<SharedState> {
    let mut router = OpenApiRouter::new()
        .merge(identity::router())
        .merge(dids::router())
        .merge(registry_ops::router())
        .merge(sessions::router())
        .merge(stats::router());
    openapi::add_problem_schema(router.get_openapi_mut());
    router
}

/// The protocol profile whose labels the API uses (key names, documents).
fn labels() -> &'static Labels {
    ProtocolVersion::V1Draft1.labels()
}

/// A registry or resolution error as a problem (see [`problem_of`]);
/// unreachable registries and malformed records are logged, with their
/// cause, since the problem never carries it.
pub(crate) fn registry_problem(error: &RegistryError) -> ApiProblem {
    if matches!(
        error,
        RegistryError::Unreachable(_) | RegistryError::InvalidRecord(_)
    ) {
        tracing::warn!(error = %error, "registry failure");
    }
    problem_of(error)
}

/// A registry or resolution error as a problem. `record.not-found` is
/// served as `did.unknown` (404): the management API's one code for "no
/// such DID", whether the caller resolved or wrote. Every other §10.5 code
/// is kept as the registry defines it.
pub(crate) fn problem_of(error: &RegistryError) -> ApiProblem {
    match error {
        RegistryError::NotFound => ApiProblem::new(
            StatusCode::NOT_FOUND,
            codes::DID_UNKNOWN,
            "no record for this DID in the registry",
        ),
        _ => ApiProblem::from(error),
    }
}

/// A store error as a problem: a value over a column's or a page's limit
/// (400), the database unavailable (503), or an internal failure (500);
/// the last two are logged with their cause.
pub(crate) fn store_problem(error: &StoreError) -> ApiProblem {
    match error {
        // The caller's values, refused by the store: a bad request.
        StoreError::TooLong { .. } | StoreError::BadPageLimit { .. } => {
            bad_request(error.to_string())
        }
        StoreError::Database(_) => {
            tracing::error!(error = %error, "database unavailable");
            ApiProblem::store_unavailable()
        }
        _ => {
            tracing::error!(error = %error, "store failure");
            ApiProblem::internal()
        }
    }
}

/// A 400 `request.invalid`.
pub(crate) fn bad_request(detail: impl Into<String>) -> ApiProblem {
    ApiProblem::new(StatusCode::BAD_REQUEST, codes::BAD_REQUEST, detail)
}

/// A JSON body that does not extract: 415 without a JSON content type, 413
/// past the body limit, 400 otherwise.
pub(crate) fn json_problem(rejection: &JsonRejection) -> ApiProblem {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiProblem::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            codes::UNSUPPORTED_MEDIA_TYPE,
            "the body must be application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiProblem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            codes::TOO_LARGE,
            "the body is larger than the node accepts",
        ),
        other => bad_request(other.body_text()),
    }
}

/// A query string that does not extract.
pub(crate) fn query_problem(rejection: &QueryRejection) -> ApiProblem {
    bad_request(rejection.body_text())
}

/// A path parameter that does not extract.
pub(crate) fn path_problem(rejection: &PathRejection) -> ApiProblem {
    bad_request(rejection.body_text())
}
