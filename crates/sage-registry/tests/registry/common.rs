//! Test databases, a hand-moved clock, agents and request builders.
//!
//! `TestDb`, `ManualClock` and `both_engines!` are sage-store's shared
//! harness (`sage_store::testing`): a fresh SQLite file, or a fresh
//! PostgreSQL schema of `SAGE_TEST_DATABASE_URL` dropped afterwards.

use std::sync::Arc;

use sage_core::did::{Chain, Did};
use sage_core::primitives::{KeyType, SigningKey, X25519Secret};
use sage_core::time::Timestamp;
use sage_core::version::{Labels, ProtocolVersion};
use sage_registry::{
    LocalRegistry, NewKey, Register, Request, RequestBody, RequestHeader, SignedRequest,
};
pub(crate) use sage_store::testing::{ManualClock, TestDb};
use sage_store::{Clock as _, Store};

/// Start of every test's timeline (2026-01-01T00:00:00Z).
pub(crate) const T0: Timestamp = Timestamp::from_unix_seconds(1_767_225_600);

pub(crate) fn labels() -> &'static Labels {
    ProtocolVersion::V1Draft1.labels()
}

pub(crate) fn rng() -> impl rand_core::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

/// The local registry on `db` with a clock at [`T0`].
pub(crate) async fn local(db: &TestDb) -> (LocalRegistry<Store>, Arc<ManualClock>) {
    let clock = ManualClock::at(T0);
    (LocalRegistry::new(db.open().await, clock.clone()), clock)
}

/// An agent: a DID, its controller key (key-1), a second signing key and a
/// KEM key.
pub(crate) struct Agent {
    pub(crate) did: Did,
    pub(crate) controller: SigningKey,
    pub(crate) second: SigningKey,
    pub(crate) kem: X25519Secret,
}

impl Agent {
    pub(crate) fn new(name: &str) -> Self {
        Self::with_types(name, KeyType::Ed25519, KeyType::Secp256k1)
    }

    pub(crate) fn with_types(name: &str, controller: KeyType, second: KeyType) -> Self {
        Self {
            did: Did::new(Chain::Ethereum, name).unwrap(),
            controller: SigningKey::generate(controller, &mut rng()).unwrap(),
            second: SigningKey::generate(second, &mut rng()).unwrap(),
            kem: X25519Secret::generate(&mut rng()),
        }
    }

    /// Registration with key-1 = controller, key-2 = the KEM key endorsed
    /// by key-1.
    pub(crate) fn registration(&self) -> Register {
        Register {
            name: "agent".into(),
            description: "a test agent".into(),
            endpoint: "https://agent.example/a2a".into(),
            capabilities: serde_json::Map::new(),
            keys: vec![
                NewKey::signing(labels(), &self.controller, &self.did).unwrap(),
                NewKey::kem(
                    labels(),
                    &self.did,
                    &self.kem.public_key(),
                    &self.controller,
                    "key-1",
                ),
            ],
        }
    }

    /// `body` at `version`, made now on `clock`, signed by `key`.
    pub(crate) fn sign<B: RequestBody>(
        &self,
        clock: &ManualClock,
        version: u64,
        body: B,
        key: &SigningKey,
    ) -> SignedRequest<B> {
        let header = RequestHeader::new(self.did.clone(), version, clock.now(), &mut rng());
        Request::new(header, body).sign(key)
    }

    /// `body` at `version`, signed by the controller.
    pub(crate) fn request<B: RequestBody>(
        &self,
        clock: &ManualClock,
        version: u64,
        body: B,
    ) -> SignedRequest<B> {
        self.sign(clock, version, body, &self.controller)
    }
}

/// Registers and activates `agent`; the record ends at version 2.
pub(crate) async fn active(registry: &LocalRegistry<Store>, clock: &ManualClock, agent: &Agent) {
    use sage_registry::{Activate, Registry as _};
    registry
        .register(&agent.request(clock, 0, agent.registration()))
        .await
        .unwrap();
    registry
        .activate(&agent.request(clock, 1, Activate))
        .await
        .unwrap();
}
