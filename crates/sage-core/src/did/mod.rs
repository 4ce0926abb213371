//! Identifiers: `did:sage` (PROTOCOL.md §8, \[L\] profile).
//!
//! Layer: identity, above the primitives. What it does:
//!
//! - [`Did`] / [`DidUrl`] / [`Chain`]: the \[L\] grammar
//!   `did:sage:<chain>:<identifier>` with the Go core's parsing procedure
//!   and the stricter rules of §18.3 (lower-case prefix, no whitespace,
//!   only `unreserved` and `:` after the method);
//! - [`AgentRecord`]: the AgentMetadataV4 registry record (§8.2) with its
//!   JSON form;
//! - key selection ([`AgentRecord::select_keys`],
//!   [`AgentRecord::select_proven_keys`]) by the Go core's rules (§8.4);
//! - the "SAGE-PoP" proof of possession ([`pop_challenge`], [`sign_pop`],
//!   [`verify_pop`], [`AgentRecord::verify_pops`]) of §8.5.
//!
//! What it does not do: talk to a chain or a resolver (the caller brings
//! the record), or speak the \[N\] registry-qualified grammar (§8.7).
//!
//! Invariants: a [`Did`] keeps the string as received, and every challenge
//! and comparison uses that string; a key whose proof of possession fails
//! never counts as verified in [`AgentRecord::select_proven_keys`].

mod chain;
mod error;
mod parse;
mod pop;
mod record;
mod select;
mod wire;

#[cfg(test)]
mod tests;

pub use chain::Chain;
pub use error::{DidError, PopError, RecordError};
pub use parse::{Did, DidUrl};
pub use pop::{pop_challenge, sign_pop, verify_pop};
pub use record::{AgentKey, AgentRecord};
pub use select::{PopOutcome, PopReport, SelectedKeys};
