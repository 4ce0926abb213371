//! Session layer of the \[L\] profile: seed and id, key schedule, records,
//! replay window, rotation, MAC path and lifetime (PROTOCOL.md §7.1, §6.6).
//!
//! A session turns a 32-byte seed that both peers share into encrypted,
//! authenticated, replay-protected records:
//!
//! ```text
//! seed, sid  ── §7.1.1 salted derivation (derive_seed_and_id)
//!               or §6.6 handshake seed as is (SessionId::from_seed)
//! keys       ── HKDF-SHA256(salt = sid, ikm = seed): shared, directional, rekey (§7.1.2)
//! record     ── be64(seq) ‖ nonce[12] ‖ ChaCha20-Poly1305(key_g, nonce, pt, be64(seq) ‖ aad) (§7.1.3)
//! window     ── 1024-slot bitmap, checked before opening, moved only after (§7.1.4)
//! generation ── g = ⌊seq / R⌋, R = 0 disables rotation (§7.1.5, §18.2)
//! ```
//!
//! What it does not do: no I/O, no clock, no RNG of its own (the caller
//! passes `now` and a [`CryptoRng`](rand_core::CryptoRng)), and no binding
//! of a record to its session on the wire (the Go core maps `kid → sid`
//! outside the session; so does the node).
//!
//! Invariants: a failed call moves no counter, window or clock; an expired
//! session has no keys; every secret is wiped on drop and never printed.
//! Where the Go core and the spec text differ (the `single` rekey direction
//! of the shared key, the shared MAC key), this module follows the Go core,
//! which the vectors pin, and says so at the place.
//!
//! ```
//! use sage_core::session::{Role, Session, SessionConfig, SessionSeed};
//! use sage_core::time::Timestamp;
//! use sage_core::version::ProtocolVersion;
//!
//! let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng); // any CryptoRng
//! let version = ProtocolVersion::V1Draft1;
//! let now = Timestamp::from_unix_seconds(1_767_225_600);
//! let seed = [7u8; 32]; // the handshake's combiner seed (§6.6)
//! let mut alice = Session::from_handshake_seed(
//!     version, Role::Initiator, SessionSeed::from_bytes(seed), SessionConfig::default(), now);
//! let mut bob = Session::from_handshake_seed(
//!     version, Role::Responder, SessionSeed::from_bytes(seed), SessionConfig::default(), now);
//! assert_eq!(alice.id(), bob.id());
//!
//! let record = alice.encrypt(&mut rng, now, b"hello").unwrap();
//! assert_eq!(bob.decrypt(now, &record).unwrap(), b"hello");
//! assert!(bob.decrypt(now, &record).is_err()); // replayed
//! ```

mod derive;
mod error;
mod policy;
mod record;
mod rekey;
mod snapshot;
mod state;
mod window;

#[cfg(test)]
mod tests;

pub use derive::{
    SEED_LEN, SESSION_ID_LEN, SessionId, SessionLabel, SessionSeed, derive_seed_and_id,
};
pub use error::{ExpiryReason, SessionError};
pub use policy::{SessionConfig, SessionPolicy};
pub use record::{RECORD_HEADER_LEN, RECORD_MIN_LEN, RECORD_NONCE_LEN, RECORD_TAG_LEN};
pub use snapshot::SessionSnapshot;
pub use state::{MAC_LEN, Role, Session};
pub use window::{REPLAY_WINDOW_SIZE, WindowState};
