//! The initiator's handling of the responder's answer, on a valid answer with
//! fuzz-chosen byte edits: never panics, and only an answer carrying the
//! genuine envelope (up to JSON whitespace, which JCS removes before the
//! signature) establishes a session.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sage_core::jcs;
use sage_core::transport::WireResponse;
use sage_fuzz::{NOW, handshake_fixture, mutate};

fuzz_target!(|edits: &[u8]| {
    let fx = handshake_fixture();
    let bytes = mutate(&fx.response.to_json(), edits);
    let Ok(response) = WireResponse::from_json(&bytes) else {
        return;
    };
    if fx.pending.handle(&response, &fx.responder_key, NOW).is_ok() {
        // The envelope is signed in its JCS form, so insignificant JSON
        // whitespace may change; its canonical form may not.
        assert_eq!(
            jcs::canonicalize(&response.data).expect("accepted envelope is JSON"),
            jcs::canonicalize(&fx.response.data).expect("genuine envelope is JSON"),
            "a forged envelope established a session"
        );
    }
});
