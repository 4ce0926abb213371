//! The \[L\] HPKE handshake: one round trip from two agents' registered keys
//! to a shared session (PROTOCOL.md §6.1–§6.6).
//!
//! ```text
//! initiator                                               responder
//! Initiator::start ── WireMessage{task hpke/complete@v1,
//!                       payload = init payload, signed} ──► accept (no crypto)
//!                                                           caller resolves the sender's DID
//!                  ◄── WireResponse{data = ack envelope,    complete → session
//!                       signed with sigB64}
//! ExpectAck::handle → session
//! ```
//!
//! The initiator encapsulates to the responder's static X25519 KEM key
//! (HPKE Base, exporter only) and adds an ephemeral X25519 key; the
//! responder adds its own ephemeral. Both combine the HPKE exporter and the
//! ephemeral DH into a seed (§6.2), the responder proves it holds the seed
//! with an ack tag over the transcript (§6.4) and signs the envelope, and
//! both turn the seed into a session as the Go core does (§6.6).
//!
//! Modules: [`schedule`] (pure functions of §6.1–§6.4, also used by the
//! vector runner), [`messages`] (the two JSON shapes), the two state
//! machines ([`Initiator`] → [`ExpectAck`] → [`Established`]; [`Responder`]
//! with [`PendingInit`] → [`ResponderOutcome`]), and [`HandshakeError`].
//!
//! What it does not do: no I/O, no DID resolution (the caller resolves the
//! peer's DID to a [`VerifyingKey`](crate::primitives::VerifyingKey) and,
//! for the initiator, to its KEM key), no clock, no RNG of its own, no
//! replay memory of its own ([`ReplayStore`](crate::replay::ReplayStore)).
//!
//! Invariants: every check runs before a session exists; the terminal
//! states hold proof tokens that only the verifying functions create;
//! ephemeral secrets, exporters and seeds wipe themselves on drop, and
//! every state transition consumes its state, so they are gone after
//! success and after failure; a peer learns only the generic failure text
//! ([`HandshakeError::peer_message`], R-35).
//!
//! Where the Go core and the spec text differ, this module follows the Go
//! core (the deployed peers): `info`/`exportCtx` travel as plain strings,
//! the session seed is the combiner seed as is (§6.6), and the cookie is
//! checked first as the spec says (the Go core checks it later, O-6; the
//! outcome for a peer is the same).
//!
//! ```
//! use getrandom::{SysRng, rand_core::UnwrapErr};
//! use sage_core::handshake::{Initiator, InitiatorConfig, Responder, ResponderConfig};
//! use sage_core::primitives::{KeyType, SigningKey, X25519Secret};
//! use sage_core::replay::MemoryReplayStore;
//! use sage_core::session::SessionConfig;
//! use sage_core::time::Timestamp;
//! use sage_core::version::ProtocolVersion;
//!
//! let mut rng = UnwrapErr(SysRng);
//! let version = ProtocolVersion::V1Draft1;
//! let now = Timestamp::from_unix_seconds(1_767_225_600);
//! let alice_key = SigningKey::generate(KeyType::Ed25519, &mut rng).unwrap();
//! let bob_key = SigningKey::generate(KeyType::Ed25519, &mut rng).unwrap();
//! let bob_verifying = bob_key.verifying_key();
//! let bob_kem = X25519Secret::generate(&mut rng);
//! let bob_kem_public = bob_kem.public_key();
//! let bob = Responder::new(
//!     version,
//!     ResponderConfig::new("did:sage:ethereum:0xb0b".into(), bob_key, bob_kem),
//! )
//! .unwrap();
//!
//! let (expect_ack, init) = Initiator::start(
//!     version,
//!     InitiatorConfig {
//!         own_did: "did:sage:ethereum:0xa11ce".into(),
//!         signing_key: &alice_key,
//!         peer_did: "did:sage:ethereum:0xb0b".into(),
//!         peer_kem_public: bob_kem_public,
//!         ctx_id: "ctx-1".into(),
//!         session_config: SessionConfig::DEFAULT,
//!         cookie: None,
//!     },
//!     &mut rng,
//!     now,
//! )
//! .unwrap();
//!
//! let pending = bob.accept(&init, now).unwrap();
//! // Resolve pending.sender_did() in the registry; here we know the key.
//! let alice_verifying = alice_key.verifying_key();
//! let mut replay = MemoryReplayStore::new();
//! let outcome = bob
//!     .complete(pending, &alice_verifying, now, &mut rng, &mut replay)
//!     .unwrap();
//!
//! let mut alice = expect_ack.handle(&outcome.response, &bob_verifying, now).unwrap();
//! assert_eq!(alice.kid, outcome.kid);
//! let mut bob_session = outcome.session;
//! let record = alice.session.encrypt(&mut rng, now, b"hello").unwrap();
//! assert_eq!(bob_session.decrypt(now, &record).unwrap(), b"hello");
//! ```

mod error;
mod ids;
mod initiator;
pub mod messages;
mod proof;
mod responder;
pub mod schedule;

#[cfg(test)]
mod tests;

pub use error::{HandshakeError, MessageError};
pub use ids::uuid_v4;
pub use initiator::{Established, ExpectAck, Initiator, InitiatorConfig};
pub use responder::{
    AuthenticatedInit, CookiePolicy, PendingInit, ReplayClaim, Responder, ResponderConfig,
    ResponderOutcome,
};
