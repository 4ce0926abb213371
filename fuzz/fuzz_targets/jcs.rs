//! JCS: the strict parser never panics, and whatever it accepts
//! canonicalises to a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sage_core::jcs;

fuzz_target!(|data: &[u8]| {
    if let Ok(canonical) = jcs::canonicalize(data) {
        let again = jcs::canonicalize(&canonical).expect("canonical output must parse");
        assert_eq!(canonical, again, "canonicalisation must be idempotent");
    }
});
