//! Raw HTTP/1.1 message parsing (the CLI's input): never panics, and what
//! parses writes back to bytes that parse to the same message.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sage_core::httpsig::{Scheme, http1};

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = http1::parse_request(data, Scheme::Https) {
        if let Ok(bytes) = http1::write_request(&request) {
            // Origin form does not carry the scheme: re-parse with the one the
            // request had.
            let scheme = if request.target_uri.starts_with("http://") {
                Scheme::Http
            } else {
                Scheme::Https
            };
            let again = http1::parse_request(&bytes, scheme).expect("written request re-parses");
            assert_eq!(again.method, request.method);
            assert_eq!(again.target_uri, request.target_uri);
            assert_eq!(again.body, request.body);
        }
    }
    if let Ok(response) = http1::parse_response(data) {
        if let Ok(bytes) = http1::write_response(&response) {
            let again = http1::parse_response(&bytes).expect("written response re-parses");
            assert_eq!(again.status, response.status);
            assert_eq!(again.body, response.body);
        }
    }
});
