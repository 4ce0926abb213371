//! The node's OpenAPI 3.1 document: its base, the problem responses the
//! management routes share, the full document kept in sync with the
//! committed `api/openapi.yaml`, and the Swagger UI.
//!
//! Layer: node, API description. Paths come from the `#[utoipa::path]`
//! attributes of the handlers (each router returns them with its routes);
//! this module adds what no handler owns: info, servers, tags, the
//! `bearer` security scheme, the `ApiProblem` schema, and the error
//! responses, whose examples are built from the same [`ApiProblem`] values
//! the handlers serve, so the document cannot drift from the answers.
//!
//! The Swagger UI is `utoipa-swagger-ui` with its assets vendored into the
//! binary: `/docs` loads with no network access.

use std::collections::BTreeMap;

use axum::http::StatusCode;
use sage_core::did::DidError;
use sage_registry::model::RecordState;
use sage_registry::request::Operation;
use sage_registry::{RegistryError, RequestProblem, Unreachable};
use utoipa::openapi::example::ExampleBuilder;
use utoipa::openapi::info::{InfoBuilder, LicenseBuilder};
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::server::ServerBuilder;
use utoipa::openapi::tag::TagBuilder;
use utoipa::openapi::{Components, ContentBuilder, OpenApi, OpenApiBuilder, Ref, RefOr};
use utoipa::{IntoResponses, PartialSchema as _};
use utoipa_swagger_ui::SwaggerUi;

use super::problem_of;
use crate::problem::{ApiProblem, codes};

/// Where the OpenAPI document is served.
pub const OPENAPI_JSON_PATH: &str = "/openapi.json";
/// Where the Swagger UI is served.
pub const DOCS_PATH: &str = "/docs";
/// The name of the bearer security scheme.
pub const BEARER_SCHEME: &str = "bearer";
/// The media type of every error body.
pub const PROBLEM_JSON: &str = "application/problem+json";
/// The name of the problem schema in `components.schemas`.
const PROBLEM_SCHEMA: &str = "ApiProblem";

/// The document every router's paths are merged into: info, servers,
/// tags and the `bearer` security scheme.
pub fn openapi_base() -> OpenApi {
    let info = InfoBuilder::new()
        .title("SAGE node API")
        .version(env!("CARGO_PKG_VERSION"))
        .description(Some(
            "A SAGE node: agents open end-to-end encrypted, signed, replay-proof sessions with \
             it on `POST /messages` (the protocol); operators manage its identity, registry \
             records and sessions under `/v1` (bearer token); `/health`, `/ready` and \
             `/metrics` serve operations. Every error is RFC 9457 `application/problem+json` \
             with a stable `code`. See docs/API.md.",
        ))
        .license(Some(
            LicenseBuilder::new()
                .name("Apache-2.0")
                .identifier(Some("Apache-2.0"))
                .build(),
        ))
        .build();
    let mut components = Components::new();
    components.add_security_scheme(
        BEARER_SCHEME,
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(
                    "The management token of the node's configuration (`management.token`).",
                ))
                .build(),
        ),
    );
    let tag = |name: &str, description: &str| {
        TagBuilder::new()
            .name(name)
            .description(Some(description))
            .build()
    };
    OpenApiBuilder::new()
        .info(info)
        .servers(Some([ServerBuilder::new()
            .url("/")
            .description(Some("The node serving this document"))
            .build()]))
        .components(Some(components))
        .tags(Some([
            tag(
                "protocol",
                "Agent-facing: handshakes and session records (`/messages`), the agent card",
            ),
            tag(
                super::TAG,
                "Operator-facing, bearer-authenticated: identity, DIDs, registry, sessions, stats",
            ),
            tag("operations", "Health, readiness and Prometheus metrics"),
        ]))
        .build()
}

/// The node's whole document: [`openapi_base`] with every router's paths
/// (management, operations, card).
///
/// This is what `api/openapi.yaml` holds (a test keeps it in sync); it
/// describes the same paths as the document the server assembles from the
/// routers themselves.
pub fn full_openapi() -> OpenApi {
    let mut document = openapi_base();
    document.merge(crate::protocol::openapi());
    document.merge(super::management_openapi());
    document.merge(crate::ops::openapi());
    document.merge(crate::card::openapi());
    document
}

/// `/openapi.json` (the document) and the Swagger UI at `/docs`.
pub fn docs_router(openapi: OpenApi) -> axum::Router {
    SwaggerUi::new(DOCS_PATH)
        .url(OPENAPI_JSON_PATH, openapi)
        .into()
}

/// Registers the `ApiProblem` schema the problem responses refer to.
pub(crate) fn add_problem_schema(document: &mut OpenApi) {
    document
        .components
        .get_or_insert_with(Components::new)
        .schemas
        .insert(PROBLEM_SCHEMA.to_owned(), ApiProblem::schema());
}

/// Problem responses by status: one response per status, with the
/// problem itself as the example, or one named example per code when
/// several codes share a status.
fn problem_responses(problems: Vec<ApiProblem>) -> BTreeMap<String, RefOr<Response>> {
    let mut by_status: BTreeMap<u16, Vec<ApiProblem>> = BTreeMap::new();
    for problem in problems {
        by_status.entry(problem.status).or_default().push(problem);
    }
    by_status
        .into_iter()
        .map(|(status, problems)| {
            let titles: Vec<String> = problems
                .iter()
                .map(|p| format!("`{}` ({})", p.code, p.title))
                .collect();
            let mut content =
                ContentBuilder::new().schema(Some(Ref::from_schema_name(PROBLEM_SCHEMA)));
            if let [problem] = problems.as_slice() {
                content = content.example(serde_json::to_value(problem).ok());
            } else {
                content = content.examples_from_iter(problems.iter().map(|p| {
                    (
                        p.code.clone(),
                        ExampleBuilder::new()
                            .summary(p.title.clone())
                            .value(serde_json::to_value(p).ok()),
                    )
                }));
            }
            let response = ResponseBuilder::new()
                .description(titles.join(", "))
                .content(PROBLEM_JSON, content.build())
                .build();
            (status.to_string(), RefOr::T(response))
        })
        .collect()
}

fn registry(error: RegistryError) -> ApiProblem {
    problem_of(&error)
}

fn invalid_body() -> ApiProblem {
    super::bad_request(
        "Failed to deserialize the JSON body into the target type: missing field `signature` at line 1 column 42",
    )
}

/// 401: no or wrong bearer token (every `/v1` route).
#[derive(Debug)]
pub struct AuthProblems;

impl IntoResponses for AuthProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problem_responses(vec![ApiProblem::unauthorized()])
    }
}

/// The failures of a resolution.
#[derive(Debug)]
pub struct ResolveProblems;

impl IntoResponses for ResolveProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problem_responses(vec![
            registry(RegistryError::Identifier(DidError::UnknownChain)),
            registry(RegistryError::Identifier(DidError::TooShort)),
            super::bad_request(
                "Failed to deserialize query string: document: provided string was not `true` or `false`",
            ),
            registry(RegistryError::NotFound),
            registry(RegistryError::Unreachable(Unreachable::Remote {
                backend: "ethereum",
                detail: String::new(),
            })),
            registry(RegistryError::InvalidRecord(
                "an accepted key is not a valid key",
            )),
        ])
    }
}

/// The failures of resolving the node's own DID.
#[derive(Debug)]
pub struct OwnRecordProblems;

impl IntoResponses for OwnRecordProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problem_responses(vec![
            registry(RegistryError::NotFound),
            registry(RegistryError::Unreachable(Unreachable::Remote {
                backend: "ethereum",
                detail: String::new(),
            })),
            registry(RegistryError::InvalidRecord(
                "an accepted key is not a valid key",
            )),
        ])
    }
}

/// The failures of a registry write.
#[derive(Debug)]
pub struct RegistryWriteProblems;

impl IntoResponses for RegistryWriteProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problem_responses(vec![
            invalid_body(),
            registry(RegistryError::Identifier(DidError::TooShort)),
            registry(RegistryError::BadPop {
                key: "key-3".into(),
            }),
            registry(RegistryError::Stale),
            registry(RegistryError::Unauthorized),
            registry(RegistryError::NotFound),
            registry(RegistryError::KeyNotInRecord),
            registry(RegistryError::AlreadyRegistered),
            registry(RegistryError::VersionConflict {
                requested: 1,
                current: 2,
            }),
            registry(RegistryError::Replayed),
            registry(RegistryError::ForbiddenTransition {
                operation: Operation::AddKey,
                state: RecordState::Deactivated,
            }),
            registry(RegistryError::KeyRevoked),
            ApiProblem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                codes::TOO_LARGE,
                "the body is larger than the node accepts",
            ),
            ApiProblem::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                codes::UNSUPPORTED_MEDIA_TYPE,
                "the body must be application/json",
            ),
            registry(RegistryError::Unsupported {
                operation: Operation::Update,
            }),
            registry(RegistryError::Unreachable(Unreachable::Remote {
                backend: "ethereum",
                detail: String::new(),
            })),
            registry(RegistryError::InvalidRequest(RequestProblem::BadEndpoint)),
        ])
    }
}

/// The failures of the session routes.
#[derive(Debug)]
pub struct SessionProblems;

impl IntoResponses for SessionProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problem_responses(vec![
            super::bad_request("not a session id: 22 characters of base64url"),
            ApiProblem::new(
                StatusCode::NOT_FOUND,
                codes::SESSION_UNKNOWN,
                "no live session has id 3q2-7wAAAAAAAAAAAAAAAA",
            ),
            ApiProblem::internal(),
            ApiProblem::store_unavailable(),
        ])
    }
}

/// The failures of listing sessions.
#[derive(Debug)]
pub struct ListProblems;

impl IntoResponses for ListProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problem_responses(vec![
            super::bad_request("Failed to deserialize query string: missing field `peer`"),
            registry(RegistryError::Identifier(DidError::TooShort)),
            ApiProblem::internal(),
            ApiProblem::store_unavailable(),
        ])
    }
}

/// The failures of a database read.
#[derive(Debug)]
pub struct StoreProblems;

impl IntoResponses for StoreProblems {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        problem_responses(vec![
            ApiProblem::internal(),
            ApiProblem::store_unavailable(),
        ])
    }
}
