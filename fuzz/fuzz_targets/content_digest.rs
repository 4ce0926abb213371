//! RFC 9530 Content-Digest parsing: never panics, and the true digest of any
//! body is accepted.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sage_core::httpsig::{content_digest, verify_content_digest};

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|b| *b == 0).unwrap_or(data.len());
    let (field, body) = data.split_at(split);
    let field = String::from_utf8_lossy(field);
    let _ = verify_content_digest(&field, body, 1 << 20);
    verify_content_digest(&content_digest(body), body, 1 << 20).expect("own digest verifies");
});
