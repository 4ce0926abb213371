//! Session records: opening arbitrary bytes never panics, and a failed open
//! never moves the replay window (a genuine record still opens afterwards).
#![no_main]

use libfuzzer_sys::fuzz_target;
use sage_core::session::{Role, Session, SessionConfig, SessionSeed};
use sage_core::time::Timestamp;
use sage_core::version::ProtocolVersion;
use sage_fuzz::CounterRng;

fuzz_target!(|data: &[u8]| {
    let v = ProtocolVersion::V1Draft1;
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let seed = [7u8; 32];
    let mut sender = Session::from_handshake_seed(
        v,
        Role::Initiator,
        SessionSeed::from_bytes(seed),
        SessionConfig::default(),
        now,
    );
    let mut receiver = Session::from_handshake_seed(
        v,
        Role::Responder,
        SessionSeed::from_bytes(seed),
        SessionConfig::default(),
        now,
    );
    let mut rng = CounterRng(data.len() as u64);
    let genuine = sender
        .encrypt(&mut rng, now, b"genuine")
        .expect("fresh session encrypts");

    let opened = receiver.decrypt(now, data).is_ok();
    let opened_with_aad = receiver.decrypt_with_aad(now, data, b"aad").is_ok();
    if !opened && !opened_with_aad {
        // Neither attempt succeeded, so the window must not have moved.
        assert_eq!(
            receiver
                .decrypt(now, &genuine)
                .expect("genuine record opens"),
            b"genuine"
        );
    }
});
