//! Shared fixtures of the fuzz targets: a deterministic RNG (fuzz runs must
//! reproduce) and a complete, valid handshake that targets then mutate.

use sage_core::handshake::{ExpectAck, Initiator, InitiatorConfig, Responder, ResponderConfig};
use sage_core::primitives::{KeyType, SigningKey, VerifyingKey, X25519Secret};
use sage_core::rand_core::{Infallible, TryCryptoRng, TryRng};
use sage_core::replay::MemoryReplayStore;
use sage_core::session::SessionConfig;
use sage_core::time::Timestamp;
use sage_core::transport::{WireMessage, WireResponse};
use sage_core::version::ProtocolVersion;

/// A deterministic linear-congruential "RNG". Never use outside tests.
#[derive(Debug)]
pub struct CounterRng(pub u64);

impl TryRng for CounterRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok((self.try_next_u64()? >> 32) as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for b in dst {
            *b = (self.try_next_u64()? >> 56) as u8;
        }
        Ok(())
    }
}
impl TryCryptoRng for CounterRng {}

/// The fixed instant every fuzz target runs at.
pub const NOW: Timestamp = Timestamp::from_unix_seconds(1_800_000_000);
/// Initiator DID.
pub const INIT_DID: &str = "did:sage:ethereum:0x1111111111111111111111111111111111111111";
/// Responder DID.
pub const RESP_DID: &str = "did:sage:ethereum:0x2222222222222222222222222222222222222222";

/// Both parties and one valid init message / response pair.
#[derive(Debug)]
pub struct HandshakeFixture {
    /// The responder.
    pub responder: Responder,
    /// The initiator's public key, as the responder would resolve it.
    pub initiator_key: VerifyingKey,
    /// The responder's public key, as the initiator would resolve it.
    pub responder_key: VerifyingKey,
    /// A valid init message.
    pub init: WireMessage,
    /// The initiator state waiting for `response`.
    pub pending: ExpectAck,
    /// The responder's valid answer to `init`.
    pub response: WireResponse,
}

/// Builds a full valid exchange from fixed keys and a deterministic RNG.
pub fn handshake_fixture() -> HandshakeFixture {
    let v = ProtocolVersion::V1Draft1;
    let init_key = SigningKey::from_label(KeyType::Ed25519, "fuzz/initiator").expect("label key");
    let resp_key = SigningKey::from_label(KeyType::Ed25519, "fuzz/responder").expect("label key");
    let kem = X25519Secret::from_bytes([9u8; 32]);
    let kem_public = kem.public_key();
    let responder_key = resp_key.verifying_key();
    let responder = Responder::new(v, ResponderConfig::new(RESP_DID.to_owned(), resp_key, kem))
        .expect("responder config");
    let mut rng = CounterRng(1);
    let (pending, init) = Initiator::start(
        v,
        InitiatorConfig {
            own_did: INIT_DID.to_owned(),
            signing_key: &init_key,
            peer_did: RESP_DID.to_owned(),
            peer_kem_public: kem_public,
            ctx_id: "ctx-fuzz".to_owned(),
            session_config: SessionConfig::default(),
            cookie: None,
        },
        &mut rng,
        NOW,
    )
    .expect("initiator starts");
    let accepted = responder
        .accept(&init, NOW)
        .expect("valid init is accepted");
    let outcome = responder
        .complete(
            accepted,
            &init_key.verifying_key(),
            NOW,
            &mut rng,
            &mut MemoryReplayStore::new(),
        )
        .expect("valid init completes");
    HandshakeFixture {
        responder,
        initiator_key: init_key.verifying_key(),
        responder_key,
        init,
        pending,
        response: outcome.response,
    }
}

/// Applies fuzz-chosen byte edits to `bytes`: each 3-byte chunk of `edits`
/// is (position high, position low, xor value).
pub fn mutate(bytes: &[u8], edits: &[u8]) -> Vec<u8> {
    let mut out = bytes.to_vec();
    if out.is_empty() {
        return out;
    }
    for e in edits.chunks_exact(3) {
        let pos = usize::from(u16::from_be_bytes([e[0], e[1]])) % out.len();
        out[pos] ^= e[2];
    }
    out
}
