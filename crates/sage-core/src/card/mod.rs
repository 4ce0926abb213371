//! The A2A agent card and its proof (PROTOCOL.md §11.1–§11.2, §18.5; \[L\] profile).
//!
//! Layer: identity, on top of [`crate::did`] and [`crate::jcs`]. What it
//! does:
//!
//! - [`AgentCard::from_record`]: project a registry record into the \[L\]
//!   card (DID-core-like `@context`, `publicKey[]`, `service[]`, ...);
//! - [`sign_card`]: add a proof over `JCS(card without proof)`;
//! - [`verify_card`]: check a received card's proof with the key its
//!   `verificationMethod` names, giving a [`VerifiedCard`];
//! - [`VerifiedCard::check_against_record`]: tie that key to the active
//!   on-chain record (§11.2 step 5).
//!
//! What it does not do: fetch cards or records, check `proof.created`
//! against a clock (the \[L\] card has no expiry), or speak the \[N\] card
//! (§11.3), whose labels and signing input differ.
//!
//! Invariants: verification works on the bytes as received, parsed
//! strictly, and canonicalised once; every `publicKey` entry is checked;
//! the proof key's type must match the proof type; and a card key is only
//! trusted through a record where it is verified and its proof of
//! possession holds. The card vocabulary comes from [`crate::version::Labels`].

mod build;
mod error;
mod proof;
mod read;
mod verify;
mod vocab;

#[cfg(test)]
mod tests;

pub use build::{AgentCard, CardPublicKey, CardService};
pub use error::CardError;
pub use proof::sign_card;
pub use read::CardKey;
pub use verify::{VerifiedCard, verify_card};
