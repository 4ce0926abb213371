//! Test databases and fixtures shared by every suite.
//!
//! The both-engines harness itself (`TestDb`, `ManualClock`,
//! `sage_store::both_engines!`) lives in `sage_store::testing`, shared with
//! the registry's tests.

use sage_core::did::{Chain, Did};
use sage_core::session::{Role, Session, SessionConfig, SessionSeed};
use sage_core::time::Timestamp;
use sage_core::version::ProtocolVersion;
use sage_store::KeyEncryptionKey;
pub(crate) use sage_store::testing::{ManualClock, TestDb};

/// Start of every test's timeline (2026-01-01T00:00:00Z).
pub(crate) const T0: Timestamp = Timestamp::from_unix_seconds(1_767_225_600);

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub(crate) fn kek() -> KeyEncryptionKey {
    KeyEncryptionKey::from_bytes([0x5a; 32])
}

pub(crate) fn rng() -> impl rand_core::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

pub(crate) fn did(name: &str) -> Did {
    Did::new(Chain::Ethereum, name).unwrap()
}

pub(crate) fn random_seed() -> [u8; 32] {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).unwrap();
    seed
}

/// Both ends of one session made at `now` from `seed`: (initiator, responder).
pub(crate) fn session_pair(
    seed: [u8; 32],
    config: SessionConfig,
    now: Timestamp,
) -> (Session, Session) {
    let v = ProtocolVersion::V1Draft1;
    (
        Session::from_handshake_seed(
            v,
            Role::Initiator,
            SessionSeed::from_bytes(seed),
            config,
            now,
        ),
        Session::from_handshake_seed(
            v,
            Role::Responder,
            SessionSeed::from_bytes(seed),
            config,
            now,
        ),
    )
}
