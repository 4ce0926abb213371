//! Which check runs a vector: the kind table (PROTOCOL.md §16.2).
//!
//! Lookup order: kinds recognised by suite alone (`jcs`, `rfc9421`) or by a
//! name prefix (`did/pop-*`, `did/a2a-card-proof-*`), then the exact `suite/name`, then the name
//! without a numeric `-N` suffix. No match is a failure.

mod crypto;
mod did;
mod hpke;
mod jcs;
mod rfc9421;
mod session;

use crate::check::Vector;
use crate::outcome::Mismatch;

/// A check: recompute or verify one vector.
type Check = fn(&Vector<'_>) -> Result<(), Mismatch>;

/// Runs the check of `vector`'s kind.
pub(crate) fn run(vector: &Vector<'_>) -> Result<(), Mismatch> {
    let check = lookup(vector.suite, vector.name).ok_or_else(|| Mismatch::UnsupportedKind {
        kind: vector.kind(),
    })?;
    check(vector)
}

fn lookup(suite: &str, name: &str) -> Option<Check> {
    if let Some(check) = by_suite(suite, name) {
        return Some(check);
    }
    by_name(suite, name).or_else(|| by_name(suite, strip_numeric_suffix(name)?))
}

/// Kinds recognised by suite alone, or by suite and a name prefix.
fn by_suite(suite: &str, name: &str) -> Option<Check> {
    match suite {
        "jcs" => Some(jcs::canonical_form),
        "rfc9421" => Some(rfc9421::message_signature),
        "did" if name.starts_with("pop-") => Some(did::proof_of_possession),
        "did" if name.starts_with("a2a-card-proof-") => Some(did::card_proof),
        _ => None,
    }
}

fn by_name(suite: &str, name: &str) -> Option<Check> {
    Some(match (suite, name) {
        ("crypto", "ed25519-sign") => crypto::ed25519_sign,
        ("crypto", "secp256k1-keccak-sign") => crypto::secp256k1_keccak_sign,
        ("crypto", "p256-sha256-sign") => crypto::p256_sha256_sign,
        ("crypto", "key-id") => crypto::key_id,
        ("did", "parse") => did::parse,
        ("did", "chain-aliases") => did::chain_aliases,
        ("hpke", "info-and-export-context") => hpke::info_and_export_context,
        ("hpke", "x25519-e2e-shared-secret") => hpke::x25519_shared_secret,
        ("hpke", "combine-secrets") => hpke::combine_secrets,
        ("hpke", "traffic-keys") => hpke::traffic_keys,
        ("hpke", "ack-tag") => hpke::ack_tag,
        ("hpke", "hpke-export-roundtrip") => hpke::export_roundtrip,
        ("session", "seed-and-id") => session::seed_and_id,
        ("session", "encrypt-decrypt") => session::encrypt_decrypt,
        ("session", "directional-with-aad") => session::directional_with_aad,
        _ => return None,
    })
}

/// `ed25519-sign-2` → `ed25519-sign`; `None` when there is no `-<digits>`
/// suffix to remove.
fn strip_numeric_suffix(name: &str) -> Option<&str> {
    let (base, suffix) = name.rsplit_once('-')?;
    let numeric = !suffix.is_empty() && suffix.bytes().all(|b| b.is_ascii_digit());
    (numeric && !base.is_empty()).then_some(base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_suffix_is_removed_once() {
        assert_eq!(strip_numeric_suffix("ed25519-sign-2"), Some("ed25519-sign"));
        assert_eq!(strip_numeric_suffix("key-id-10"), Some("key-id"));
        assert_eq!(strip_numeric_suffix("request-ed25519"), None);
        assert_eq!(strip_numeric_suffix("ed25519-sign"), None);
        assert_eq!(strip_numeric_suffix("-2"), None);
        assert_eq!(strip_numeric_suffix("x-"), None);
    }

    #[test]
    fn unknown_kinds_have_no_check() {
        assert!(lookup("crypto", "ed448-sign").is_none());
        assert!(lookup("nonsense", "key-id").is_none());
        assert!(lookup("crypto", "key-id-3").is_some());
        assert!(lookup("jcs", "anything-at-all").is_some());
    }
}
