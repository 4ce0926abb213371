//! # sage-core: the SAGE protocol, sans-IO
//!
//! This crate is the protocol layer of SAGE (Secure Agent Guarantee Engine),
//! wire-compatible with sage-spec `1.0.0-draft.1` (the "\[L\]" profile, which is
//! what the deployed Go core speaks). See `docs/PROTOCOL-NOTES.md` for every
//! place where this crate follows the Go core rather than the spec text.
//!
//! ## What it does not do
//!
//! No sockets, no files, no database, no tokio, no global clock, no global
//! RNG. Time enters as a [`time::Timestamp`] value, randomness through an
//! injected [`rand_core::CryptoRng`], and replay memory through the
//! [`replay::ReplayStore`] trait that the caller implements (an in-memory
//! implementation, [`replay::MemoryReplayStore`], ships here).
//!
//! ## Layers (bottom up)
//!
//! | module | spec | job |
//! |---|---|---|
//! | [`encoding`] | §1 | hex, base64 (std / url-raw), base58 |
//! | [`primitives`] | §3 | Ed25519, secp256k1 (Keccak), P-256, X25519, key ids, JWK/PEM |
//! | [`jcs`] | §4 | RFC 8785 with a strict parser |
//! | [`httpsig`] | §5 | RFC 9421 message signatures, RFC 9530 Content-Digest |
//! | [`handshake`] | §6 | HPKE + ephemeral X25519 one-round-trip handshake |
//! | [`session`] | §7 | session keys, records, replay window, rekeying |
//! | [`did`] | §8 | `did:sage` grammar, registry record, key selection, PoP |
//! | [`card`] | §11 | A2A agent card and its proof |
//! | [`transport`] | §12 | WireMessage / WireResponse envelopes |
//!
//! Every wire label lives in [`version::Labels`], selected by
//! [`version::ProtocolVersion`], so a 0.10.0 profile can sit beside \[L\].
#![warn(missing_docs)]

pub mod card;
pub mod did;
pub mod encoding;
pub mod handshake;
pub mod httpsig;
pub mod jcs;
pub mod primitives;
pub mod replay;
pub mod session;
pub mod time;
pub mod transport;
pub mod version;

#[cfg(test)]
mod test_vectors;

pub use rand_core;
