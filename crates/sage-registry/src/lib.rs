//! # sage-registry: agent records, their registry and their resolution
//!
//! The chain-neutral side of SAGE's registry (PROTOCOL.md §8–§10): the
//! record model, controller-signed operations, the embedded local backend,
//! the caching resolver, DID documents and RFC 9457 problem details.
//! `docs/REGISTRY.md` describes the model and the local backend's
//! authorisation in full.
//!
//! | module | job |
//! |---|---|
//! | [`model`] | [`RegistryRecord`]: state machine states, key entries (revoked ones kept), controller, \[L\] projection |
//! | [`request`] | the six §9.3 operations as [`SignedRequest`]s over canonical JSON |
//! | [`endorse`] | the controller's endorsement of an X25519 KEM key in the \[L\] `SAGE-PoP:` form |
//! | [`transition`] | the state machine and key admission, as pure functions |
//! | [`registry`] | the [`Registry`] trait and [`ResolvedRecord`] |
//! | [`local`] | [`LocalRegistry`]: authoritative records in the node's database |
//! | [`resolver`] | [`CachingResolver`]: TTL, tombstones, never stale, counters |
//! | [`document`] | the W3C DID document (§10.1) and its metadata |
//! | [`problem`] | [`Problem`]: RFC 9457 bodies with the §10.5 codes |
//!
//! What it does not do: talk to a chain (the Ethereum backend lives in
//! `sage-registry-eth` and implements [`Registry`] there), serve HTTP, or
//! read configuration.
#![warn(missing_docs)]

pub mod document;
pub mod endorse;
pub mod local;
pub mod model;
pub mod problem;
pub mod registry;
pub mod request;
pub mod resolver;
pub mod transition;

mod error;

#[cfg(test)]
mod tests;

pub use document::{DidDocument, DocumentMetadata};
pub use error::{RegistryError, RequestProblem, Unreachable};
pub use local::{LocalRegistry, LocalRegistryOptions};
pub use model::{KeyEntry, KeyState, RecordState, RegistryRecord};
pub use problem::Problem;
pub use registry::{ListRequest, Listing, Registry, ResolvedRecord, Source};
pub use request::{
    Activate, AddKey, Deactivate, NewKey, Operation, Register, Request, RequestBody, RequestHeader,
    RevokeKey, SignedRequest, Update,
};
pub use resolver::{CachingResolver, ResolverSnapshot, ResolverStats};
