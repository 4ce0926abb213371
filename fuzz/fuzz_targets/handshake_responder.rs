//! The responder entry point (accept, then complete) on a valid init message
//! with fuzz-chosen byte edits: never panics, and any edit that still
//! completes must leave the signed payload intact.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sage_core::replay::MemoryReplayStore;
use sage_core::transport::WireMessage;
use sage_fuzz::{CounterRng, NOW, handshake_fixture, mutate};

fuzz_target!(|edits: &[u8]| {
    let fx = handshake_fixture();
    let original = fx.init.to_json();
    let bytes = mutate(&original, edits);
    let Ok(message) = WireMessage::from_json(&bytes) else {
        return;
    };
    let Ok(pending) = fx.responder.accept(&message, NOW) else {
        return;
    };
    let result = fx.responder.complete(
        pending,
        &fx.initiator_key,
        NOW,
        &mut CounterRng(7),
        &mut MemoryReplayStore::new(),
    );
    if result.is_ok() {
        assert_eq!(
            message.payload, fx.init.payload,
            "a forged payload completed a handshake"
        );
        assert_eq!(message.signature, fx.init.signature);
    }
});
