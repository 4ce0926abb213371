//! Decoders of the handshake payloads (init payload, ack envelope) and of the
//! transport envelopes (WireMessage, WireResponse): never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sage_core::handshake::messages::{InitPayload, ReceivedAck};
use sage_core::transport::{WireMessage, WireResponse};

fuzz_target!(|data: &[u8]| {
    if let Ok(init) = InitPayload::parse(data) {
        let again = InitPayload::parse(&init.to_json()).expect("encoded init payload re-parses");
        assert_eq!(again.to_json(), init.to_json());
    }
    if let Ok(ack) = ReceivedAck::parse(data) {
        let _ = ack.signed_bytes();
    }
    if let Ok(msg) = WireMessage::from_json(data) {
        let again = WireMessage::from_json(&msg.to_json()).expect("encoded message re-parses");
        assert_eq!(again.to_json(), msg.to_json());
        if let Ok(headers) = msg.mirror_headers() {
            msg.check_headers(headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
                .expect("a message agrees with its own mirror headers");
        }
    }
    if let Ok(resp) = WireResponse::from_json(data) {
        let again = WireResponse::from_json(&resp.to_json()).expect("encoded response re-parses");
        assert_eq!(again.to_json(), resp.to_json());
    }
});
