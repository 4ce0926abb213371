//! RFC 9421 Signature-Input / Signature parsing and verification on
//! arbitrary field values: never panics, and never accepts a forgery.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sage_core::httpsig::{HttpRequest, HttpResponse, ParsedSignature, VerifyOptions};
use sage_core::primitives::{KeyType, SigningKey};
use sage_core::replay::MemoryReplayStore;
use sage_core::time::Timestamp;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (input, signature) = text.split_once('\n').unwrap_or((&text, ""));
    let request = HttpRequest::new("POST", "https://agent-b.example/mcp")
        .with_header("content-type", "application/json")
        .with_header("signature-input", input)
        .with_header("signature", signature)
        .with_body(b"{}".to_vec());
    let key = SigningKey::from_label(KeyType::Ed25519, "fuzz")
        .unwrap()
        .verifying_key();
    let now = Timestamp::from_unix_seconds(1_788_609_600);
    if let Ok(parsed) = ParsedSignature::from_request(&request, None) {
        let _ = parsed.keyid();
        let _ = parsed.signature_base();
        let verdict = parsed.verify(
            &key,
            &VerifyOptions::default(),
            now,
            &mut MemoryReplayStore::new(),
        );
        assert!(verdict.is_err(), "random bytes must never verify");
    }
    let response = HttpResponse::new(200)
        .with_header("signature-input", input)
        .with_header("signature", signature);
    if let Ok(parsed) = ParsedSignature::from_response(&response, Some(&request), None) {
        let _ = parsed.verify(
            &key,
            &VerifyOptions::for_response(),
            now,
            &mut MemoryReplayStore::new(),
        );
    }
});
