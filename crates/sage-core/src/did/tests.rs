//! `did:sage` against the `did.json` golden vectors, the §18.3 rules, key
//! selection (§8.4) and the proof of possession (§8.5).

use core::str::FromStr as _;

use proptest::prelude::*;

use super::*;
use crate::encoding::{hex_decode, hex_encode};
use crate::primitives::{KeyType, SigningKey, X25519Secret, derive_seed_from_label};
use crate::time::Timestamp;
use crate::version::{Labels, ProtocolVersion};

const ED25519_A: &str = "sage-spec/vectors/ed25519/agent-a";
const ED25519_B: &str = "sage-spec/vectors/ed25519/agent-b";
const SECP256K1_A: &str = "sage-spec/vectors/secp256k1/agent-a";
const X25519_A: &str = "sage-spec/vectors/x25519/agent-a";
const X25519_B: &str = "sage-spec/vectors/x25519/agent-b";
const DID_A: &str = "did:sage:ethereum:0x1111111111111111111111111111111111111111";
const DID_B: &str = "did:sage:ethereum:0x2222222222222222222222222222222222222222";

fn labels() -> &'static Labels {
    ProtocolVersion::V1Draft1.labels()
}

fn vector(name: &str) -> serde_json::Value {
    crate::test_vectors::vector("did.json", name)
}

fn did(s: &str) -> Did {
    Did::parse(s).unwrap()
}

// ---------------------------------------------------------------- grammar

#[test]
fn parse_vector_valid_inputs_give_chain_did_and_identifier() {
    let v = vector("parse");
    let valid = v["input"]["valid"].as_array().unwrap();
    let parsed = v["output"]["parsed"].as_array().unwrap();
    assert_eq!(valid.len(), parsed.len());
    for (input, expected) in valid.iter().zip(parsed) {
        let d = Did::parse(input.as_str().unwrap()).unwrap();
        assert_eq!(d.chain().as_str(), expected["chain"], "{input}");
        assert_eq!(d.as_str(), expected["did"], "{input}");
        assert_eq!(d.identifier(), expected["identifier"], "{input}");
        assert_eq!(d.to_string(), expected["did"]);
    }
}

#[test]
fn parse_vector_rejected_inputs_all_fail() {
    let v = vector("parse");
    let rejected = v["output"]["rejected"].as_array().unwrap();
    assert_eq!(rejected, v["input"]["invalid"].as_array().unwrap());
    for input in rejected {
        let input = input.as_str().unwrap();
        assert!(Did::parse(input).is_err(), "accepted {input:?}");
        assert!(input.parse::<Did>().is_err());
    }
}

#[test]
fn rejected_vector_inputs_fail_for_the_expected_reason() {
    assert_eq!(Did::parse(""), Err(DidError::TooShort));
    assert_eq!(Did::parse("did:sage"), Err(DidError::TooShort));
    assert_eq!(Did::parse("did:sage:ethereum"), Err(DidError::MissingParts));
    assert_eq!(
        Did::parse("did:web:example.com"),
        Err(DidError::NotSageMethod)
    );
    assert_eq!(
        Did::parse("did:sage:polkadot:abc"),
        Err(DidError::UnknownChain)
    );
    assert_eq!(Did::parse("sage:ethereum:0xabc"), Err(DidError::NotADid));
    assert_eq!(Did::parse("did:sage::0xabc"), Err(DidError::EmptyChain));
}

#[test]
fn chain_aliases_vector_normalises_case_whitespace_and_aliases() {
    let v = vector("chain-aliases");
    let chains = v["output"]["chains"].as_object().unwrap();
    for name in v["input"]["names"].as_array().unwrap() {
        let name = name.as_str().unwrap();
        assert_eq!(
            Chain::parse(name).unwrap().as_str(),
            chains[name],
            "{name:?}"
        );
        assert_eq!(name.parse::<Chain>().unwrap().as_str(), chains[name]);
    }
    let generated = Did::new(Chain::parse("ETH").unwrap(), "0xabc").unwrap();
    assert_eq!(generated.as_str(), v["output"]["generated"]);
    assert_eq!(generated.chain(), Chain::Ethereum);
    assert_eq!(generated.identifier(), "0xabc");
}

#[test]
fn unknown_or_empty_chain_names_are_refused() {
    assert_eq!(Chain::parse("polkadot"), Err(DidError::UnknownChain));
    assert_eq!(Chain::parse("   "), Err(DidError::EmptyChain));
    assert_eq!(
        Chain::parse("ethereum-mainnet"),
        Err(DidError::UnknownChain)
    );
}

#[test]
fn upper_case_prefix_is_rejected() {
    for input in [
        "DID:sage:ethereum:0xabc",
        "Did:sage:ethereum:0xabc",
        "did:SAGE:ethereum:0xabc",
        "did:Sage:ethereum:0xabc",
    ] {
        assert_eq!(
            Did::parse(input),
            Err(DidError::PrefixNotLowerCase),
            "{input}"
        );
    }
}

#[test]
fn whitespace_anywhere_is_rejected_not_trimmed() {
    for input in [
        " did:sage:ethereum:0xabc",
        "did:sage:ethereum:0xabc ",
        "did:sage: ethereum:0xabc",
        "did:sage:ethereum :0xabc",
        "did:sage:ethereum:0x abc",
        "did:sage:ethereum:0xabc\n",
        "did:sage:ethereum:\t0xabc",
        "did:sage:ethereum:0x\u{a0}abc",
    ] {
        assert_eq!(Did::parse(input), Err(DidError::Whitespace), "{input:?}");
    }
}

#[test]
fn characters_outside_unreserved_and_colon_are_rejected() {
    for (input, offset) in [
        ("did:sage:ethereum:0x/abc", 20),
        ("did:sage:ethereum:0x%41bc", 20),
        ("did:sage:ethereum:0xabc?q", 23),
        ("did:sage:ethereum:0xabc#key-1", 23),
        ("did:sage:ethereum:0x@bc", 20),
        ("did:sage:ethereum:agent-é", 24),
        ("did:sage:eth+:0xabc", 12),
    ] {
        assert_eq!(
            Did::parse(input),
            Err(DidError::InvalidCharacter { offset }),
            "{input}"
        );
    }
}

#[test]
fn every_unreserved_character_and_extra_colons_are_accepted() {
    let d = did("did:sage:sol:AZaz09-._~::x:");
    assert_eq!(d.chain(), Chain::Solana);
    assert_eq!(d.identifier(), "AZaz09-._~::x:");
}

#[test]
fn empty_identifier_is_rejected() {
    assert_eq!(
        Did::parse("did:sage:ethereum:"),
        Err(DidError::EmptyIdentifier)
    );
    assert_eq!(
        Did::new(Chain::Ethereum, ""),
        Err(DidError::EmptyIdentifier)
    );
}

#[test]
fn generated_did_validates_its_identifier() {
    assert_eq!(Did::new(Chain::Solana, "a b"), Err(DidError::Whitespace));
    assert!(matches!(
        Did::new(Chain::Solana, "a/b"),
        Err(DidError::InvalidCharacter { .. })
    ));
    assert_eq!(
        Did::new(Chain::Solana, "abc").unwrap().as_str(),
        "did:sage:solana:abc"
    );
}

#[test]
fn dids_compare_as_received_strings() {
    let upper = did("did:sage:ETHEREUM:agent-one");
    let lower = did("did:sage:ethereum:agent-one");
    assert_eq!(upper.chain(), lower.chain());
    assert_eq!(upper.identifier(), lower.identifier());
    assert_ne!(upper, lower);
    assert_eq!(upper.as_str(), "did:sage:ETHEREUM:agent-one");
}

#[test]
fn did_errors_carry_their_diagnostic_codes() {
    assert_eq!(DidError::UnknownChain.code(), "id.unknown-kind");
    for e in [
        DidError::TooShort,
        DidError::Whitespace,
        DidError::PrefixNotLowerCase,
        DidError::EmptyIdentifier,
        DidError::InvalidCharacter { offset: 3 },
        DidError::InvalidFragment,
    ] {
        assert_eq!(e.code(), "id.malformed");
    }
    assert_eq!(PopError::Bad.code(), "pop.bad");
    assert_eq!(RecordError::Inactive.code(), "record.inactive");
}

#[test]
fn did_error_display_does_not_echo_the_input() {
    let err = Did::parse("did:sage:ethereum:secret/value").unwrap_err();
    assert!(!err.to_string().contains("secret"));
}

#[test]
fn did_serde_round_trips_and_refuses_malformed_strings() {
    let d = did(DID_A);
    let json = serde_json::to_string(&d).unwrap();
    assert_eq!(json, format!("\"{DID_A}\""));
    assert_eq!(serde_json::from_str::<Did>(&json).unwrap(), d);
    assert!(serde_json::from_str::<Did>("\"did:sage:polkadot:x\"").is_err());
}

#[test]
fn did_url_splits_at_the_first_hash() {
    let url = DidUrl::parse(&format!("{DID_A}#key-1")).unwrap();
    assert_eq!(url.did().as_str(), DID_A);
    assert_eq!(url.fragment(), Some("key-1"));
    assert_eq!(url.to_string(), format!("{DID_A}#key-1"));

    let bare = DidUrl::parse(DID_A).unwrap();
    assert_eq!(bare.fragment(), None);
    assert_eq!(bare.to_string(), DID_A);

    let built = DidUrl::with_fragment(did(DID_A), "key-2").unwrap();
    assert_eq!(built, DidUrl::parse(&format!("{DID_A}#key-2")).unwrap());
}

#[test]
fn did_url_rejects_empty_or_malformed_fragments_and_bad_dids() {
    for input in [
        format!("{DID_A}#"),
        format!("{DID_A}#a#b"),
        format!("{DID_A}#a b"),
        format!("{DID_A}#%4"),
        format!("{DID_A}#%zz"),
    ] {
        assert_eq!(
            DidUrl::parse(&input),
            Err(DidError::InvalidFragment),
            "{input}"
        );
    }
    assert!(DidUrl::parse(&format!("{DID_A}#a%41/b?c:@!")).is_ok());
    assert_eq!(
        DidUrl::parse("did:sage:polkadot:x#key-1"),
        Err(DidError::UnknownChain)
    );
    assert_eq!(
        DidUrl::with_fragment(did(DID_A), ""),
        Err(DidError::InvalidFragment)
    );
}

proptest! {
    #[test]
    fn did_parsing_never_panics(input in any::<String>()) {
        let _ = Did::from_str(&input);
        let _ = DidUrl::from_str(&input);
    }

    #[test]
    fn accepted_dids_reparse_to_the_same_parts(
        input in "did:sage:(ethereum|ETH|eth|Solana|sol|SOL|polkadot|):[A-Za-z0-9._~:%/ -]{0,24}"
    ) {
        if let Ok(d) = Did::from_str(&input) {
            let again = Did::from_str(d.as_str()).unwrap();
            prop_assert_eq!(&again, &d);
            prop_assert_eq!(again.chain(), d.chain());
            prop_assert_eq!(again.identifier(), d.identifier());
            let generated = Did::new(d.chain(), d.identifier()).unwrap();
            prop_assert_eq!(generated.chain(), d.chain());
            prop_assert_eq!(generated.identifier(), d.identifier());
            prop_assert!(input.ends_with(d.identifier()));
        }
    }
}

// ---------------------------------------------------------------- PoP

fn check_pop_vector(name: &str, key_type: KeyType, label_member: &str) {
    let v = vector(name);
    let d = did(v["input"]["did"].as_str().unwrap());
    let key = SigningKey::from_label(key_type, v["input"][label_member].as_str().unwrap()).unwrap();
    let key_data = key.verifying_key().to_bytes();
    assert_eq!(hex_encode(&key_data), v["output"]["key_data"]);
    assert_eq!(
        pop_challenge(labels(), &d, &key_data),
        v["output"]["challenge"]
    );
    let proof = sign_pop(labels(), &key, &d).unwrap();
    assert_eq!(hex_encode(&proof), v["output"]["proof"]);
    let stored = hex_decode(v["output"]["proof"].as_str().unwrap()).unwrap();
    verify_pop(labels(), &key.verifying_key(), &d, &stored).unwrap();
}

#[test]
fn pop_ed25519_vector_reproduces_challenge_key_and_proof() {
    check_pop_vector("pop-ed25519", KeyType::Ed25519, "seed_label");
}

#[test]
fn pop_secp256k1_vector_reproduces_challenge_key_and_proof() {
    check_pop_vector("pop-secp256k1", KeyType::Secp256k1, "scalar_label");
}

#[test]
fn pop_over_another_did_fails() {
    for (key_type, label) in [
        (KeyType::Ed25519, ED25519_A),
        (KeyType::Secp256k1, SECP256K1_A),
    ] {
        let key = SigningKey::from_label(key_type, label).unwrap();
        let proof = sign_pop(labels(), &key, &did(DID_A)).unwrap();
        assert_eq!(
            verify_pop(labels(), &key.verifying_key(), &did(DID_B), &proof),
            Err(PopError::Bad)
        );
        // Same chain and identifier, different spelling: a different DID.
        let respelled = did("did:sage:eth:0x1111111111111111111111111111111111111111");
        assert_eq!(
            verify_pop(labels(), &key.verifying_key(), &respelled, &proof),
            Err(PopError::Bad)
        );
    }
}

#[test]
fn pop_by_another_key_fails() {
    let a = SigningKey::from_label(KeyType::Ed25519, ED25519_A).unwrap();
    let b = SigningKey::from_label(KeyType::Ed25519, ED25519_B).unwrap();
    let proof = sign_pop(labels(), &a, &did(DID_A)).unwrap();
    assert_eq!(
        verify_pop(labels(), &b.verifying_key(), &did(DID_A), &proof),
        Err(PopError::Bad)
    );
}

#[test]
fn tampered_pop_fails() {
    for (key_type, label) in [
        (KeyType::Ed25519, ED25519_A),
        (KeyType::Secp256k1, SECP256K1_A),
    ] {
        let key = SigningKey::from_label(key_type, label).unwrap();
        let mut proof = sign_pop(labels(), &key, &did(DID_A)).unwrap();
        proof[10] ^= 0x01;
        assert_eq!(
            verify_pop(labels(), &key.verifying_key(), &did(DID_A), &proof),
            Err(PopError::Bad)
        );
        assert_eq!(
            verify_pop(labels(), &key.verifying_key(), &did(DID_A), &proof[..20]),
            Err(PopError::Bad)
        );
    }
}

/// `n − s` for the secp256k1 group order `n`, big-endian.
fn negate_secp256k1_scalar(s: &[u8]) -> [u8; 32] {
    const N: [u8; 32] = [
        0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        0xFE, 0xBA, 0xAE, 0xDC, 0xE6, 0xAF, 0x48, 0xA0, 0x3B, 0xBF, 0xD2, 0x5E, 0x8C, 0xD0, 0x36,
        0x41, 0x41,
    ];
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(N[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = u8::try_from(d).unwrap();
    }
    out
}

#[test]
fn high_s_secp256k1_pop_is_accepted_after_normalisation() {
    let key = SigningKey::from_label(KeyType::Secp256k1, SECP256K1_A).unwrap();
    let proof = sign_pop(labels(), &key, &did(DID_A)).unwrap();
    let mut high = proof.clone();
    high[32..64].copy_from_slice(&negate_secp256k1_scalar(&proof[32..64]));
    high[64] ^= 1;
    assert_ne!(high, proof);
    assert!(high[32] >= 0x80, "n - low S must be high");
    verify_pop(labels(), &key.verifying_key(), &did(DID_A), &high).unwrap();
    // The 64-byte r‖s form is accepted too (§3.2).
    verify_pop(labels(), &key.verifying_key(), &did(DID_A), &high[..64]).unwrap();
}

#[test]
fn p256_keys_have_no_pop() {
    let key = SigningKey::from_label(KeyType::P256, "sage-spec/vectors/p256/agent-a").unwrap();
    assert_eq!(
        sign_pop(labels(), &key, &did(DID_A)),
        Err(PopError::UnsupportedKeyType)
    );
    assert_eq!(
        verify_pop(labels(), &key.verifying_key(), &did(DID_A), &[0; 64]),
        Err(PopError::UnsupportedKeyType)
    );
}

// ---------------------------------------------------------------- record

fn t0() -> Timestamp {
    Timestamp::parse_rfc3339("2026-09-01T12:00:00Z").unwrap()
}

fn signing_key_entry(key_type: KeyType, label: &str, d: &Did, verified: bool) -> AgentKey {
    let key = SigningKey::from_label(key_type, label).unwrap();
    AgentKey {
        key_type,
        key_data: key.verifying_key().to_bytes(),
        signature: sign_pop(labels(), &key, d).unwrap(),
        verified,
        created_at: t0(),
    }
}

fn x25519_entry(label: &str, verified: bool) -> AgentKey {
    let secret = X25519Secret::from_bytes(*derive_seed_from_label(label));
    AgentKey {
        key_type: KeyType::X25519,
        key_data: secret.public_key().to_bytes().to_vec(),
        signature: Vec::new(),
        verified,
        created_at: t0(),
    }
}

fn record(keys: Vec<AgentKey>) -> AgentRecord {
    AgentRecord {
        did: did(DID_A),
        name: "vector-agent".into(),
        description: "SAGE test vector agent".into(),
        endpoint: "https://agent-a.example/a2a".into(),
        keys,
        capabilities: serde_json::Map::new(),
        owner: "0x1111111111111111111111111111111111111111".into(),
        is_active: true,
        public_kem_key: None,
        created_at: t0(),
        updated_at: t0(),
    }
}

fn ed_a() -> AgentKey {
    signing_key_entry(KeyType::Ed25519, ED25519_A, &did(DID_A), true)
}

fn secp_a() -> AgentKey {
    signing_key_entry(KeyType::Secp256k1, SECP256K1_A, &did(DID_A), true)
}

#[test]
fn secp256k1_key_is_preferred_even_after_an_ed25519_key() {
    let r = record(vec![ed_a(), x25519_entry(X25519_A, true), secp_a()]);
    let selected = r.select_keys().unwrap();
    assert_eq!(selected.signing_index(), 2);
    assert_eq!(selected.signing().key_type(), KeyType::Secp256k1);
    assert_eq!(selected.signing().to_bytes(), r.keys[2].key_data);
}

#[test]
fn ed25519_key_is_used_when_no_secp256k1_key_is_verified() {
    let mut unverified_secp = secp_a();
    unverified_secp.verified = false;
    let r = record(vec![unverified_secp, x25519_entry(X25519_A, true), ed_a()]);
    let selected = r.select_keys().unwrap();
    assert_eq!(selected.signing_index(), 2);
    assert_eq!(selected.signing().key_type(), KeyType::Ed25519);
}

#[test]
fn first_verified_key_of_the_preferred_type_wins() {
    let b = signing_key_entry(KeyType::Ed25519, ED25519_B, &did(DID_A), true);
    let mut a = ed_a();
    a.verified = false;
    let r = record(vec![a, b.clone(), ed_a()]);
    assert_eq!(r.select_keys().unwrap().signing_index(), 1);
    assert_eq!(r.select_keys().unwrap().signing().to_bytes(), b.key_data);
}

#[test]
fn record_without_verified_signing_key_is_rejected() {
    let mut a = ed_a();
    a.verified = false;
    let r = record(vec![a, x25519_entry(X25519_A, true)]);
    assert_eq!(r.select_keys(), Err(RecordError::NoSigningKey));
    assert_eq!(record(vec![]).select_keys(), Err(RecordError::NoSigningKey));
    assert_eq!(RecordError::NoSigningKey.code(), "key.not-in-record");
}

#[test]
fn inactive_record_is_rejected() {
    let mut r = record(vec![ed_a()]);
    r.is_active = false;
    assert_eq!(r.select_keys(), Err(RecordError::Inactive));
    assert_eq!(r.select_proven_keys(labels()), Err(RecordError::Inactive));
}

#[test]
fn kem_key_is_public_kem_key_when_present() {
    let x_a = x25519_entry(X25519_A, true);
    let x_b = x25519_entry(X25519_B, true);
    let mut r = record(vec![ed_a(), x_a]);
    r.public_kem_key = Some(x_b.key_data.clone());
    assert_eq!(
        r.select_keys().unwrap().kem().unwrap().as_bytes()[..],
        x_b.key_data[..]
    );
    r.public_kem_key = Some(vec![0; 31]);
    assert_eq!(r.select_keys(), Err(RecordError::InvalidKemKey));
}

#[test]
fn kem_key_is_first_verified_32_byte_x25519_key() {
    let unverified = x25519_entry(X25519_A, false);
    let mut short = x25519_entry(X25519_A, true);
    short.key_data.pop();
    let good = x25519_entry(X25519_B, true);
    let r = record(vec![unverified, short, ed_a(), good.clone()]);
    assert_eq!(
        r.select_keys().unwrap().kem().unwrap().as_bytes()[..],
        good.key_data[..]
    );
    assert_eq!(record(vec![ed_a()]).select_keys().unwrap().kem(), None);
}

#[test]
fn invalid_bytes_in_the_chosen_signing_key_are_an_error_not_a_fallback() {
    let mut broken = secp_a();
    broken.key_data[0] = 0x05;
    let r = record(vec![broken, ed_a()]);
    assert!(matches!(
        r.select_keys(),
        Err(RecordError::InvalidKey { index: 0, .. })
    ));
}

#[test]
fn verify_pops_reports_each_failing_key() {
    let foreign = signing_key_entry(KeyType::Ed25519, ED25519_B, &did(DID_B), true);
    let mut tampered = secp_a();
    tampered.signature[5] ^= 0xff;
    let r = record(vec![
        ed_a(),
        foreign,
        x25519_entry(X25519_A, true),
        tampered,
    ]);
    let report = r.verify_pops(labels());
    assert_eq!(
        report.outcomes(),
        &[
            PopOutcome::Proven,
            PopOutcome::Failed(PopError::Bad),
            PopOutcome::NotApplicable,
            PopOutcome::Failed(PopError::Bad),
        ]
    );
    assert_eq!(
        report.failures().collect::<Vec<_>>(),
        vec![(1, PopError::Bad), (3, PopError::Bad)]
    );
    assert!(!report.all_hold());
    assert!(report.holds(0) && !report.holds(1) && report.holds(2) && !report.holds(3));
    assert!(!report.holds(4));
    assert!(
        record(vec![ed_a(), secp_a()])
            .verify_pops(labels())
            .all_hold()
    );
}

#[test]
fn verify_pops_reports_unparsable_key_bytes() {
    let mut broken = ed_a();
    broken.key_data.truncate(31);
    let report = record(vec![broken]).verify_pops(labels());
    assert!(matches!(
        report.outcomes(),
        [PopOutcome::Failed(PopError::InvalidKey(_))]
    ));
}

#[test]
fn key_with_failed_pop_never_counts_as_verified() {
    // The registry flag says verified, but the proof is over another DID.
    let forged = signing_key_entry(KeyType::Secp256k1, SECP256K1_A, &did(DID_B), true);
    let r = record(vec![forged, ed_a()]);
    assert_eq!(r.select_keys().unwrap().signing_index(), 0);
    let proven = r.select_proven_keys(labels()).unwrap();
    assert_eq!(proven.signing_index(), 1);
    assert_eq!(proven.signing().key_type(), KeyType::Ed25519);

    let only_forged = record(vec![signing_key_entry(
        KeyType::Ed25519,
        ED25519_A,
        &did(DID_B),
        true,
    )]);
    assert_eq!(
        only_forged.select_proven_keys(labels()),
        Err(RecordError::NoSigningKey)
    );
}

#[test]
fn record_json_round_trips_with_hex_bytes_and_registry_integers() {
    let mut r = record(vec![ed_a(), secp_a(), x25519_entry(X25519_A, true)]);
    r.capabilities
        .insert("capabilities".into(), serde_json::json!(["chat"]));
    r.public_kem_key = Some(vec![7; 32]);
    let json = r.to_json().unwrap();
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(value["keys"][0]["type"], 1);
    assert_eq!(value["keys"][1]["type"], 0);
    assert_eq!(value["keys"][2]["type"], 2);
    assert_eq!(
        value["keys"][0]["key_data"],
        hex_encode(&r.keys[0].key_data)
    );
    assert_eq!(value["created_at"], "2026-09-01T12:00:00Z");
    assert_eq!(value["public_kem_key"], hex_encode(&[7; 32]));
    assert_eq!(AgentRecord::from_json(json.as_bytes()).unwrap(), r);
}

#[test]
fn record_json_accepts_go_null_capabilities_and_missing_kem_key() {
    let json = format!(
        r#"{{"did":"{DID_A}","name":"n","description":"d","endpoint":"e","keys":[],
            "capabilities":null,"owner":"o","is_active":false,
            "created_at":"2026-09-01T12:00:00Z","updated_at":"2026-09-01T12:00:00.5Z"}}"#
    );
    let r = AgentRecord::from_json(json.as_bytes()).unwrap();
    assert!(r.capabilities.is_empty());
    assert_eq!(r.public_kem_key, None);
    assert_eq!(
        r.updated_at,
        Timestamp::new(t0().unix_seconds(), 500_000_000)
    );
}

#[test]
fn record_json_with_duplicate_member_is_rejected() {
    let json = format!(
        r#"{{"did":"{DID_A}","is_active":false,"is_active":true,"name":"n","description":"d",
            "endpoint":"e","keys":[],"owner":"o",
            "created_at":"2026-09-01T12:00:00Z","updated_at":"2026-09-01T12:00:00Z"}}"#
    );
    assert!(matches!(
        AgentRecord::from_json(json.as_bytes()),
        Err(RecordError::Json(_))
    ));
}

#[test]
fn record_json_with_unknown_key_type_or_bad_did_is_rejected() {
    let good = record(vec![ed_a()]).to_json().unwrap();
    let unknown_type = good.replace(r#""type":1"#, r#""type":3"#);
    assert!(matches!(
        AgentRecord::from_json(unknown_type.as_bytes()),
        Err(RecordError::Schema { .. })
    ));
    let bad_did = good.replace(DID_A, "did:sage:polkadot:abc");
    assert!(matches!(
        AgentRecord::from_json(bad_did.as_bytes()),
        Err(RecordError::Schema { .. })
    ));
    let bad_hex = good.replace(&hex_encode(&ed_a().key_data), "zz");
    assert!(matches!(
        AgentRecord::from_json(bad_hex.as_bytes()),
        Err(RecordError::Schema { .. })
    ));
}

#[test]
fn record_with_p256_key_cannot_be_written() {
    let key = SigningKey::from_label(KeyType::P256, "sage-spec/vectors/p256/agent-a").unwrap();
    let mut entry = ed_a();
    entry.key_type = KeyType::P256;
    entry.key_data = key.verifying_key().to_bytes();
    assert_eq!(
        record(vec![entry]).to_json(),
        Err(RecordError::NoRegistryCode)
    );
}
