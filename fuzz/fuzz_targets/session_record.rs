//! Session records: opening arbitrary bytes never panics, and a failed open
//! never moves the replay window (a genuine record still opens afterwards).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sage_core::rand_core::{Infallible, TryCryptoRng, TryRng};
use sage_core::session::{Role, Session, SessionConfig, SessionSeed};
use sage_core::time::Timestamp;
use sage_core::version::ProtocolVersion;

/// A deterministic counter RNG: fuzzing needs reproducible runs.
struct CounterRng(u64);

impl TryRng for CounterRng {
    type Error = Infallible;
    fn try_next_u32(&mut self) -> Result<u32, Infallible> {
        Ok(self.try_next_u64()? as u32)
    }
    fn try_next_u64(&mut self) -> Result<u64, Infallible> {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        Ok(self.0)
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
        for b in dst {
            *b = self.try_next_u64()? as u8;
        }
        Ok(())
    }
}
impl TryCryptoRng for CounterRng {}

fuzz_target!(|data: &[u8]| {
    let v = ProtocolVersion::V1Draft1;
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let seed = [7u8; 32];
    let mut sender = Session::from_handshake_seed(v, Role::Initiator, SessionSeed::from_bytes(seed), SessionConfig::default(), now);
    let mut receiver = Session::from_handshake_seed(v, Role::Responder, SessionSeed::from_bytes(seed), SessionConfig::default(), now);
    let mut rng = CounterRng(data.len() as u64);
    let genuine = sender.encrypt(&mut rng, now, b"genuine").expect("fresh session encrypts");

    let _ = receiver.decrypt(now, data);
    let _ = receiver.decrypt_with_aad(now, data, b"aad");
    if data != genuine.as_slice() {
        assert_eq!(receiver.decrypt(now, &genuine).expect("genuine record opens"), b"genuine");
    }
});
