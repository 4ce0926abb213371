//! did:sage parsing (DIDs and DID URLs): never panics, and an accepted DID
//! re-parses to the same parts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sage_core::did::{Did, DidUrl};

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(did) = Did::parse(s) {
        let again = Did::parse(did.as_str()).expect("an accepted DID must re-parse");
        assert_eq!(again.chain(), did.chain());
        assert_eq!(again.identifier(), did.identifier());
    }
    let _ = DidUrl::parse(s);
});
