//! # sage-node: the SAGE node
//!
//! What `sage serve` runs: an HTTP service (axum) in front of an agent.
//! Other agents resolve its DID, open a session in one round trip and send
//! it encrypted, signed, replay-proof records on `POST /messages`; its
//! operators get a management API under `/v1`, OpenAPI and Swagger UI,
//! Prometheus metrics, health checks and structured logs.
//!
//! | module | job |
//! |---|---|
//! | [`identity`] | the node's keys: created on first start, kept (0600, optionally passphrase-sealed), registered |
//! | [`registry`] | the configured registry backend and the shared caching resolver |
//! | [`protocol`] | `POST /messages`: the handshake responder and the data plane (docs/PROTOCOL-PROFILE.md) |
//! | [`card`] | `GET /.well-known/agent-card.json` |
//! | [`api`] | the `/v1` management API (bearer token), OpenAPI and Swagger UI |
//! | [`ops`] | `/health`, `/ready`, `/metrics`, request ids, HTTP metrics, logging |
//! | [`server`] | assembling the node from configuration, serving, graceful shutdown |
//! | [`metrics`] | every metric name and the functions that record them |
//! | [`problem`] | RFC 9457 problem details with stable codes |
//!
//! Layering: this crate sits on sage-core (protocol, sans-IO), sage-store,
//! sage-registry (and its Ethereum backend) and sage-config. The protocol
//! decisions are all sage-core's; this crate adds I/O, persistence and
//! policy around them.
#![warn(missing_docs)]

pub mod api;
pub mod card;
pub mod identity;
pub mod metrics;
pub mod ops;
pub mod problem;
pub mod protocol;
pub mod registry;
pub mod server;
#[cfg(any(test, feature = "test-support"))]
pub mod testing;
