//! Tests of the session layer: the three `session.json` vectors, the
//! negative cases the vectors do not cover (PROTOCOL.md §16.3), persistence,
//! lifetime, and a property test of two peers talking.

use core::time::Duration;

use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use hmac::digest::KeyInit as _;
use hmac::{Hmac, Mac as _};
use proptest::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::derive::KeySchedule;
use super::record;
use super::*;
use crate::encoding::{b64url_encode, hex_decode, hex_encode};
use crate::time::Timestamp;
use crate::version::ProtocolVersion;

const V: ProtocolVersion = ProtocolVersion::V1Draft1;

fn rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

fn t0() -> Timestamp {
    Timestamp::from_unix_seconds(1_767_225_600)
}

fn vector(name: &str) -> Value {
    crate::test_vectors::vector("session.json", name)
}

fn hex(v: &Value) -> Vec<u8> {
    hex_decode(v.as_str().unwrap()).unwrap()
}

/// Seed and id of a vector's `input`.
fn vector_seed_and_id(input: &Value) -> (SessionSeed, SessionId) {
    assert_eq!(input["label"], "sage/hpke+e2e v1");
    let shared: [u8; 32] = hex(&input["shared_secret"]).try_into().unwrap();
    derive_seed_and_id(
        V,
        SessionLabel::HpkeE2e,
        &shared,
        input["context_id"].as_str().unwrap(),
        &hex(&input["eph_a"]),
        &hex(&input["eph_b"]),
    )
}

fn config(rekey_interval: u64) -> SessionConfig {
    SessionConfig {
        rekey_interval,
        policy: SessionPolicy::default(),
    }
}

/// A config with every lifetime limit disabled, for long exchanges.
fn unlimited(rekey_interval: u64) -> SessionConfig {
    SessionConfig {
        rekey_interval,
        policy: SessionPolicy {
            max_age: Duration::ZERO,
            idle_timeout: Duration::ZERO,
            max_messages: 0,
        },
    }
}

const SEED: [u8; 32] = [
    0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18, 0x29, 0x3a, 0x4b, 0x5c, 0x6d, 0x7e, 0x8f, 0x90,
    0x01, 0x12, 0x23, 0x34, 0x45, 0x56, 0x67, 0x78, 0x89, 0x9a, 0xab, 0xbc, 0xcd, 0xde, 0xef, 0xf0,
];

fn pair(cfg: SessionConfig) -> (Session, Session) {
    let a =
        Session::from_handshake_seed(V, Role::Initiator, SessionSeed::from_bytes(SEED), cfg, t0());
    let b =
        Session::from_handshake_seed(V, Role::Responder, SessionSeed::from_bytes(SEED), cfg, t0());
    (a, b)
}

// ---------------------------------------------------------------- vectors

#[test]
fn seed_and_id_vector_is_reproduced() {
    let v = vector("seed-and-id");
    let (seed, id) = vector_seed_and_id(&v["input"]);
    assert_eq!(
        hex_encode(seed.dangerous_as_bytes()),
        v["output"]["seed"].as_str().unwrap()
    );
    assert_eq!(id.as_str(), v["output"]["session_id"].as_str().unwrap());
    assert_eq!(id.as_str(), "GelgDHw0KS4rTteOoVwsNg");
}

#[test]
fn encrypt_decrypt_vector_opens_with_the_shared_key_across_a_rekey() {
    let v = vector("encrypt-decrypt");
    let (input, output) = (&v["input"], &v["output"]);
    let (seed, id) = vector_seed_and_id(input);
    let interval = input["rekey_interval"].as_u64().unwrap();
    assert_eq!(interval, 256);
    let seq0 = hex(&output["seq0"]);
    let seq256 = hex(&output["seq256"]);
    assert_eq!(seq0[..RECORD_HEADER_LEN], hex(&output["seq0_header"])[..]);
    assert_eq!(record::parse(&seq0).unwrap().seq, 0);
    assert_eq!(
        record::parse(&seq256).unwrap().seq,
        output["seq256_seq"].as_u64().unwrap()
    );

    let plaintext = input["plaintext"].as_str().unwrap().as_bytes();
    for role in [Role::Initiator, Role::Responder] {
        let mut receiver = Session::from_salted(
            V,
            role,
            seed.duplicate(),
            id.clone(),
            config(interval),
            t0(),
        );
        assert_eq!(receiver.decrypt_shared(t0(), &seq0).unwrap(), plaintext);
        assert_eq!(receiver.decrypt_shared(t0(), &seq256).unwrap(), plaintext);
    }
}

#[test]
fn encrypt_decrypt_vector_rotates_under_the_single_direction() {
    // Go core, vector-verified: generation 1 of the shared stream is keyed
    // with dir "single"; "c2s" would not open it.
    let v = vector("encrypt-decrypt");
    let (seed, id) = vector_seed_and_id(&v["input"]);
    let seq256 = hex(&v["output"]["seq256"]);
    let parsed = record::parse(&seq256).unwrap();
    let schedule = KeySchedule::new(&seed, &id);
    let labels = V.labels();
    assert!(
        record::open(
            &schedule.rekey_key(labels, labels.dir_single, 1),
            &parsed,
            &[]
        )
        .is_ok()
    );
    assert!(record::open(&schedule.rekey_key(labels, labels.dir_c2s, 1), &parsed, &[]).is_err());
}

#[test]
fn directional_with_aad_vector_opens_as_the_responder() {
    let v = vector("directional-with-aad");
    let (input, output) = (&v["input"], &v["output"]);
    let (seed, id) = vector_seed_and_id(input);
    let interval = input["rekey_interval"].as_u64().unwrap();
    assert_eq!(interval, 0);
    let plaintext = input["plaintext"].as_str().unwrap().as_bytes();
    let aad = output["aad"].as_str().unwrap().as_bytes();
    let c2s = hex(&output["c2s"]);
    let with_aad = hex(&output["with_aad"]);

    let mut responder = Session::from_salted(V, Role::Responder, seed, id, config(interval), t0());
    assert_eq!(responder.decrypt(t0(), &c2s).unwrap(), plaintext);
    assert_eq!(
        responder.decrypt_with_aad(t0(), &with_aad, aad).unwrap(),
        plaintext
    );
    assert_eq!(responder.decrypt(t0(), &c2s), Err(SessionError::Replayed));
}

#[test]
fn directional_vector_does_not_open_as_the_initiator_or_without_its_aad() {
    let v = vector("directional-with-aad");
    let (input, output) = (&v["input"], &v["output"]);
    let (seed, id) = vector_seed_and_id(input);
    let mut initiator = Session::from_salted(
        V,
        Role::Initiator,
        seed.duplicate(),
        id.clone(),
        config(0),
        t0(),
    );
    assert_eq!(
        initiator.decrypt(t0(), &hex(&output["c2s"])),
        Err(SessionError::Decrypt)
    );
    let mut responder = Session::from_salted(V, Role::Responder, seed, id, config(0), t0());
    assert_eq!(
        responder.decrypt(t0(), &hex(&output["with_aad"])),
        Err(SessionError::Decrypt)
    );
}

// ------------------------------------------------------- seed, id, labels

#[test]
fn seed_and_id_do_not_depend_on_the_order_of_the_ephemerals() {
    let secret = [9u8; 32];
    let one = derive_seed_and_id(
        V,
        SessionLabel::Hpke,
        &secret,
        "ctx",
        b"\x01eph",
        b"\x02eph",
    );
    let two = derive_seed_and_id(
        V,
        SessionLabel::Hpke,
        &secret,
        "ctx",
        b"\x02eph",
        b"\x01eph",
    );
    assert_eq!(one, two);
}

#[test]
fn session_label_is_found_from_its_exact_string() {
    assert_eq!(
        SessionLabel::from_label(V, "sage/hpke+e2e v1"),
        Some(SessionLabel::HpkeE2e)
    );
    assert_eq!(
        SessionLabel::from_label(V, "sage/hpke v1"),
        Some(SessionLabel::Hpke)
    );
    assert_eq!(
        SessionLabel::from_label(V, "a2a/handshake v1"),
        Some(SessionLabel::Legacy)
    );
    assert_eq!(SessionLabel::from_label(V, ""), Some(SessionLabel::Empty));
    for label in [
        SessionLabel::HpkeE2e,
        SessionLabel::Hpke,
        SessionLabel::Legacy,
        SessionLabel::Empty,
    ] {
        assert_eq!(SessionLabel::from_label(V, label.id_label(V)), Some(label));
    }
    for unknown in [
        "sage/hpke+e2e v2",
        "SAGE/HPKE V1",
        " sage/hpke v1",
        "sage/hpke v1 ",
        "sage/hpke",
    ] {
        assert_eq!(SessionLabel::from_label(V, unknown), None, "{unknown:?}");
    }
}

#[test]
fn empty_label_uses_the_legacy_label_in_the_salt_only() {
    let secret = [9u8; 32];
    let (empty_seed, empty_id) =
        derive_seed_and_id(V, SessionLabel::Empty, &secret, "ctx", b"a", b"b");
    let (legacy_seed, legacy_id) =
        derive_seed_and_id(V, SessionLabel::Legacy, &secret, "ctx", b"a", b"b");
    assert_eq!(empty_seed, legacy_seed);
    assert_ne!(empty_id, legacy_id);
    let digest = Sha256::digest(empty_seed.dangerous_as_bytes());
    assert_eq!(empty_id.as_str(), b64url_encode(&digest[..16]));
}

#[test]
fn handshake_session_id_hashes_the_hpke_e2e_label_with_the_seed_as_is() {
    let session = Session::from_handshake_seed(
        V,
        Role::Initiator,
        SessionSeed::from_bytes(SEED),
        SessionConfig::default(),
        t0(),
    );
    let digest = Sha256::new()
        .chain_update(b"sage/hpke+e2e v1")
        .chain_update(SEED)
        .finalize();
    assert_eq!(session.id().as_str(), b64url_encode(&digest[..16]));
}

#[test]
fn session_id_parse_accepts_only_canonical_22_character_base64url() {
    let id = SessionId::from_seed(V, SessionLabel::HpkeE2e, &SessionSeed::from_bytes(SEED));
    assert_eq!(id.as_str().parse::<SessionId>(), Ok(id.clone()));
    assert_eq!(id.as_str().len(), SESSION_ID_LEN);
    for bad in [
        "GelgDHw0KS4rTteOoVwsN",   // 21 characters
        "GelgDHw0KS4rTteOoVwsNgA", // 23 characters
        "GelgDHw0KS4rTteOoVwsN+",  // standard alphabet
        "GelgDHw0KS4rTteOoVwsNh",  // non-zero pad bits
        "GelgDHw0KS4rTteOoVwsN=",  // padding
    ] {
        assert_eq!(
            bad.parse::<SessionId>(),
            Err(SessionError::InvalidSessionId),
            "{bad}"
        );
    }
}

// ---------------------------------------------------------------- records

#[test]
fn every_encrypt_call_shares_one_send_counter() {
    let (mut a, _) = pair(config(256));
    let mut rng = rng();
    let r0 = a.encrypt(&mut rng, t0(), b"x").unwrap();
    let r1 = a.encrypt_with_aad(&mut rng, t0(), b"x", b"aad").unwrap();
    let r2 = a.encrypt_shared(&mut rng, t0(), b"x").unwrap();
    let (r3, _) = a
        .encrypt_and_sign(&mut rng, t0(), b"x", b"covered")
        .unwrap();
    let seqs: Vec<u64> = [r0, r1, r2, r3]
        .iter()
        .map(|r| record::parse(r).unwrap().seq)
        .collect();
    assert_eq!(seqs, [0, 1, 2, 3]);
    assert_eq!(a.next_send_seq(), Some(4));
}

#[test]
fn record_layout_is_seq_nonce_ciphertext_tag() {
    let (mut a, _) = pair(config(256));
    let record = a.encrypt(&mut rng(), t0(), b"hello").unwrap();
    assert_eq!(record.len(), RECORD_MIN_LEN + 5);
    assert_eq!(record[..8], [0u8; 8]);
}

#[test]
fn replayed_record_is_rejected() {
    let (mut a, mut b) = pair(config(256));
    let record = a.encrypt(&mut rng(), t0(), b"once").unwrap();
    assert_eq!(b.decrypt(t0(), &record).unwrap(), b"once");
    assert_eq!(b.decrypt(t0(), &record), Err(SessionError::Replayed));
}

#[test]
fn record_1024_or_more_behind_the_highest_is_stale() {
    let (mut a, mut b) = pair(unlimited(256));
    let mut rng = rng();
    let records: Vec<Vec<u8>> = (0..1026)
        .map(|_| a.encrypt(&mut rng, t0(), b"m").unwrap())
        .collect();
    b.decrypt(t0(), &records[1025]).unwrap();
    assert_eq!(b.decrypt(t0(), &records[0]), Err(SessionError::Stale));
    assert_eq!(b.decrypt(t0(), &records[1]), Err(SessionError::Stale));
    assert_eq!(b.decrypt(t0(), &records[2]).unwrap(), b"m");
}

#[test]
fn truncated_records_are_rejected_before_touching_the_window() {
    let (mut a, mut b) = pair(config(256));
    let record = a.encrypt(&mut rng(), t0(), b"").unwrap();
    assert_eq!(record.len(), RECORD_MIN_LEN);
    for len in [0, 8, 19, 20, 21, 35] {
        assert_eq!(
            b.decrypt(t0(), &record[..len]),
            Err(SessionError::RecordTooShort),
            "{len}"
        );
    }
    assert_eq!(b.replay_window(), WindowState::default());
    assert_eq!(b.message_count(), 0);
    assert_eq!(b.decrypt(t0(), &record).unwrap(), b"");
}

#[test]
fn wrong_aad_fails_and_the_right_aad_still_opens() {
    let (mut a, mut b) = pair(config(256));
    let record = a
        .encrypt_with_aad(&mut rng(), t0(), b"body", b"aad:one")
        .unwrap();
    assert_eq!(
        b.decrypt_with_aad(t0(), &record, b"aad:two"),
        Err(SessionError::Decrypt)
    );
    assert_eq!(b.decrypt(t0(), &record), Err(SessionError::Decrypt));
    assert_eq!(
        b.decrypt_with_aad(t0(), &record, b"aad:one").unwrap(),
        b"body"
    );
}

#[test]
fn tampered_header_nonce_ciphertext_or_tag_fails_and_leaves_the_window_unchanged() {
    let (mut a, mut b) = pair(config(256));
    let record = a.encrypt(&mut rng(), t0(), b"payload bytes").unwrap();
    let positions = [
        ("seq", 7),
        ("nonce", 8),
        ("nonce end", 19),
        ("ciphertext", 20),
        ("tag", record.len() - 1),
    ];
    for (what, i) in positions {
        let mut tampered = record.clone();
        tampered[i] ^= 0x01;
        assert_eq!(
            b.decrypt(t0(), &tampered),
            Err(SessionError::Decrypt),
            "{what}"
        );
        assert_eq!(b.replay_window(), WindowState::default(), "{what}");
    }
    assert_eq!(b.message_count(), 0);
    assert_eq!(b.decrypt(t0(), &record).unwrap(), b"payload bytes");
}

#[test]
fn record_from_another_session_does_not_open() {
    let (mut a, _) = pair(config(256));
    let mut other_seed = SEED;
    other_seed[0] ^= 1;
    let mut stranger = Session::from_handshake_seed(
        V,
        Role::Responder,
        SessionSeed::from_bytes(other_seed),
        config(256),
        t0(),
    );
    let record = a.encrypt(&mut rng(), t0(), b"for b").unwrap();
    assert_eq!(stranger.decrypt(t0(), &record), Err(SessionError::Decrypt));
}

#[test]
fn a_peer_cannot_open_its_own_directional_records() {
    let (mut a, _) = pair(config(256));
    let record = a.encrypt(&mut rng(), t0(), b"c2s").unwrap();
    assert_eq!(a.decrypt(t0(), &record), Err(SessionError::Decrypt));
}

#[test]
fn records_across_rekey_boundaries_open_out_of_order() {
    let (mut a, mut b) = pair(unlimited(4));
    let mut rng = rng();
    let records: Vec<Vec<u8>> = (0u8..14)
        .map(|i| a.encrypt(&mut rng, t0(), &[i]).unwrap())
        .collect();
    let order = [5, 3, 13, 4, 0, 9, 8, 12, 1, 2, 11, 6, 10, 7];
    for i in order {
        assert_eq!(
            b.decrypt(t0(), &records[i]).unwrap(),
            [i as u8],
            "record {i}"
        );
    }
    for (i, record) in records.iter().enumerate() {
        assert_eq!(
            b.decrypt(t0(), record),
            Err(SessionError::Replayed),
            "record {i}"
        );
    }
}

#[test]
fn directional_streams_rotate_under_their_own_direction() {
    // §18.6: after rotation the directional dir string is "c2s"/"s2c".
    let (mut a, _) = pair(config(1));
    let mut rng = rng();
    a.encrypt(&mut rng, t0(), b"g0").unwrap();
    let record = a.encrypt(&mut rng, t0(), b"g1").unwrap();
    let parsed = record::parse(&record).unwrap();
    let id = SessionId::from_seed(V, SessionLabel::HpkeE2e, &SessionSeed::from_bytes(SEED));
    let schedule = KeySchedule::new(&SessionSeed::from_bytes(SEED), &id);
    let labels = V.labels();
    let c2s = schedule.rekey_key(labels, labels.dir_c2s, 1);
    assert_eq!(record::open(&c2s, &parsed, &[]).unwrap(), b"g1");
    let single = schedule.rekey_key(labels, labels.dir_single, 1);
    assert_eq!(
        record::open(&single, &parsed, &[]),
        Err(SessionError::Decrypt)
    );
}

#[test]
fn rekey_interval_zero_keeps_the_base_key() {
    let (mut a, mut b) = pair(unlimited(0));
    let mut rng = rng();
    let records: Vec<Vec<u8>> = (0..600)
        .map(|_| a.encrypt(&mut rng, t0(), b"r").unwrap())
        .collect();
    let id = SessionId::from_seed(V, SessionLabel::HpkeE2e, &SessionSeed::from_bytes(SEED));
    let schedule = KeySchedule::new(&SessionSeed::from_bytes(SEED), &id);
    let base = schedule.directional_keys(V.labels()).c2s;
    let last = record::parse(&records[599]).unwrap();
    assert_eq!(record::open(&base, &last, &[]).unwrap(), b"r");
    assert_eq!(b.decrypt(t0(), &records[599]).unwrap(), b"r");
}

// --------------------------------------------------------------- MAC path

#[test]
fn mac_path_round_trips_under_the_shared_signing_key() {
    let (mut a, mut b) = pair(config(256));
    let (record, mac) = a
        .encrypt_and_sign(&mut rng(), t0(), b"signed", b"covered bytes")
        .unwrap();

    let id = SessionId::from_seed(V, SessionLabel::HpkeE2e, &SessionSeed::from_bytes(SEED));
    let schedule = KeySchedule::new(&SessionSeed::from_bytes(SEED), &id);
    let signing = schedule.shared_keys(V.labels()).signing;
    let expected = Hmac::<Sha256>::new_from_slice(signing.as_slice())
        .unwrap()
        .chain_update(b"covered bytes")
        .finalize()
        .into_bytes();
    assert_eq!(mac[..], expected[..]);

    assert_eq!(
        b.decrypt_and_verify(t0(), &record, b"covered bytes", &mac)
            .unwrap(),
        b"signed"
    );
    assert_eq!(
        b.decrypt_and_verify(t0(), &record, b"covered bytes", &mac),
        Err(SessionError::Replayed)
    );
}

#[test]
fn bad_mac_is_rejected_before_opening_and_changes_nothing() {
    let (mut a, mut b) = pair(config(256));
    let (record, mac) = a
        .encrypt_and_sign(&mut rng(), t0(), b"signed", b"covered")
        .unwrap();
    let mut flipped = mac;
    flipped[31] ^= 0x80;
    assert_eq!(
        b.decrypt_and_verify(t0(), &record, b"covered", &flipped),
        Err(SessionError::BadMac)
    );
    assert_eq!(
        b.decrypt_and_verify(t0(), &record, b"covereD", &mac),
        Err(SessionError::BadMac)
    );
    assert_eq!(
        b.decrypt_and_verify(t0(), &record, b"covered", &mac[..31]),
        Err(SessionError::BadMac)
    );
    // A bad MAC wins over a record that could never open.
    assert_eq!(
        b.decrypt_and_verify(t0(), b"short", b"covered", &flipped),
        Err(SessionError::BadMac)
    );
    assert_eq!(b.replay_window(), WindowState::default());
    assert_eq!(b.message_count(), 0);
    assert_eq!(
        b.decrypt_and_verify(t0(), &record, b"covered", &mac)
            .unwrap(),
        b"signed"
    );
}

// ------------------------------------------------------------ persistence

#[test]
fn window_state_survives_export_and_import_and_the_replay_is_rejected() {
    let (mut a, mut b) = pair(unlimited(256));
    let mut rng = rng();
    let records: Vec<Vec<u8>> = (0..5)
        .map(|_| a.encrypt(&mut rng, t0(), b"w").unwrap())
        .collect();
    for i in [0, 1, 3] {
        b.decrypt(t0(), &records[i]).unwrap();
    }
    let bytes = b.replay_window().to_bytes();
    let restored = WindowState::from_bytes(&bytes).unwrap();
    assert_eq!(restored, b.replay_window());

    // A restart without a snapshot: a fresh session that merges the window.
    let (_, mut b2) = pair(unlimited(256));
    b2.merge_replay_window(&restored);
    assert_eq!(b2.decrypt(t0(), &records[1]), Err(SessionError::Replayed));
    assert_eq!(b2.decrypt(t0(), &records[3]), Err(SessionError::Replayed));
    assert_eq!(b2.decrypt(t0(), &records[2]).unwrap(), b"w");
    assert_eq!(b2.decrypt(t0(), &records[4]).unwrap(), b"w");
}

#[test]
fn merging_an_older_window_keeps_every_rejection() {
    let (mut a, mut b) = pair(unlimited(256));
    let mut rng = rng();
    let records: Vec<Vec<u8>> = (0..1100)
        .map(|_| a.encrypt(&mut rng, t0(), b"m").unwrap())
        .collect();
    b.decrypt(t0(), &records[10]).unwrap();
    let old = b.replay_window();
    b.decrypt(t0(), &records[1099]).unwrap();
    b.decrypt(t0(), &records[500]).unwrap();
    let before = b.replay_window();
    b.merge_replay_window(&old);
    assert_eq!(b.replay_window(), before);
    assert_eq!(b.decrypt(t0(), &records[500]), Err(SessionError::Replayed));
    assert_eq!(b.decrypt(t0(), &records[10]), Err(SessionError::Stale));
}

#[test]
fn window_bytes_are_validated_on_import() {
    let mut state = WindowState::default();
    state.accept(3);
    state.accept(1);
    let good = state.to_bytes();
    assert_eq!(good.len(), WindowState::ENCODED_LEN);
    assert_eq!(WindowState::from_bytes(&good), Ok(state));

    let mut bad_version = good;
    bad_version[0] = 2;
    let mut bad_flag = good;
    bad_flag[1] = 2;
    let mut highest_not_set = good;
    highest_not_set[9] = 4; // highest 4, whose bit is clear
    let mut negative_slot = good;
    negative_slot[130] = 0x80; // slot 1023 (word 15, bit 63) with highest 3
    let mut none_with_bits = [0u8; WindowState::ENCODED_LEN];
    none_with_bits[0] = 1;
    none_with_bits[137] = 1;
    let mut none_with_highest = [0u8; WindowState::ENCODED_LEN];
    none_with_highest[0] = 1;
    none_with_highest[9] = 1;
    for (what, bytes) in [
        ("version", &bad_version[..]),
        ("flag", &bad_flag[..]),
        ("highest bit clear", &highest_not_set[..]),
        ("negative slot", &negative_slot[..]),
        ("bits without highest", &none_with_bits[..]),
        ("highest without flag", &none_with_highest[..]),
        ("short", &good[..137]),
    ] {
        assert_eq!(
            WindowState::from_bytes(bytes),
            Err(SessionError::InvalidWindowState),
            "{what}"
        );
    }
    assert_eq!(
        WindowState::from_parts(None, [1; 16]),
        Err(SessionError::InvalidWindowState)
    );
    assert!(WindowState::from_parts(Some(u64::MAX), [u64::MAX; 16]).is_ok());
}

#[test]
fn snapshot_round_trip_keeps_counters_and_rejects_a_replay_after_restart() {
    let (mut a, mut b) = pair(config(4));
    let mut rng = rng();
    let r0 = a.encrypt(&mut rng, t0(), b"before").unwrap();
    b.decrypt(t0(), &r0).unwrap();
    let later = t0().add_seconds(30);

    let a_bytes = a.export_snapshot().unwrap().to_bytes();
    let b_bytes = b.export_snapshot().unwrap().to_bytes();
    assert_eq!(b_bytes.len(), SessionSnapshot::ENCODED_LEN);
    drop((a, b));

    let mut a = Session::from_snapshot(V, SessionSnapshot::from_bytes(&a_bytes).unwrap()).unwrap();
    let b_snapshot = SessionSnapshot::from_bytes(&b_bytes).unwrap();
    assert_eq!(b_snapshot.role(), Role::Responder);
    let mut b = Session::from_snapshot(V, b_snapshot).unwrap();

    assert_eq!(b.decrypt(later, &r0), Err(SessionError::Replayed));
    assert_eq!(a.next_send_seq(), Some(1));
    assert_eq!(b.message_count(), 1);
    let r1 = a.encrypt(&mut rng, later, b"after").unwrap();
    assert_eq!(b.decrypt(later, &r1).unwrap(), b"after");
    let back = b.encrypt(&mut rng, later, b"reply").unwrap();
    assert_eq!(a.decrypt(later, &back).unwrap(), b"reply");
    assert_eq!(b.created_at(), t0());
    assert_eq!(b.last_activity(), later);
    assert_eq!(b.config(), &config(4));
}

#[test]
fn snapshot_bytes_are_validated_on_import() {
    let (_, b) = pair(config(256));
    let good = b.export_snapshot().unwrap().to_bytes();
    assert!(SessionSnapshot::from_bytes(&good).is_ok());

    let corrupt = |offset: usize, value: u8| {
        let mut bytes = good.to_vec();
        bytes[offset] = value;
        bytes
    };
    let mut exhausted_with_seq = good.to_vec();
    exhausted_with_seq[57] = 0;
    exhausted_with_seq[65] = 1;
    let mut last_before_created = good.to_vec();
    let later = t0().add_seconds(1).unix_seconds().to_be_bytes();
    last_before_created[204..212].copy_from_slice(&later);
    let cases = [
        ("format", corrupt(0, 2)),
        ("profile", corrupt(1, 9)),
        ("role", corrupt(2, 2)),
        ("session id", corrupt(3, b'+')),
        ("send state", corrupt(57, 2)),
        ("exhausted with a seq", exhausted_with_seq),
        ("window", corrupt(66, 9)),
        ("created nanos", corrupt(212, 0xff)),
        ("max age nanos", corrupt(252, 0xff)),
        ("last activity before created", last_before_created),
        ("short", good[..SessionSnapshot::ENCODED_LEN - 1].to_vec()),
        ("long", [&good[..], &[0]].concat()),
    ];
    for (what, bytes) in cases {
        assert_eq!(
            SessionSnapshot::from_bytes(&bytes).map(|_| ()),
            Err(SessionError::InvalidSnapshot),
            "{what}"
        );
    }
}

#[test]
fn the_last_sequence_number_is_used_once_then_sending_stops() {
    let (a, mut b) = pair(unlimited(256));
    let mut bytes = a.export_snapshot().unwrap().to_bytes().to_vec();
    bytes[58..66].copy_from_slice(&u64::MAX.to_be_bytes());
    let mut a = Session::from_snapshot(V, SessionSnapshot::from_bytes(&bytes).unwrap()).unwrap();
    let mut rng = rng();
    let last = a.encrypt(&mut rng, t0(), b"last").unwrap();
    assert_eq!(a.next_send_seq(), None);
    assert_eq!(
        a.encrypt(&mut rng, t0(), b"one more"),
        Err(SessionError::SequenceExhausted)
    );
    assert_eq!(b.decrypt(t0(), &last).unwrap(), b"last");

    let exhausted = a.export_snapshot().unwrap().to_bytes();
    let a = Session::from_snapshot(V, SessionSnapshot::from_bytes(&exhausted).unwrap()).unwrap();
    assert_eq!(a.next_send_seq(), None);
}

// --------------------------------------------------------------- lifetime

#[test]
fn idle_session_expires_and_wipes_its_keys() {
    let (mut a, mut b) = pair(config(256));
    let record = a.encrypt(&mut rng(), t0(), b"late").unwrap();
    let idle = SessionPolicy::default().idle_timeout;
    let at_limit = Timestamp::new(t0().unix_seconds() + idle.as_secs() as i64, 0);
    b.check_lifetime(at_limit).unwrap();
    let past = Timestamp::new(at_limit.unix_seconds(), 1);
    let expired = SessionError::Expired(ExpiryReason::IdleTimeout);
    assert_eq!(b.decrypt(past, &record), Err(expired));
    assert_eq!(b.expiry(), Some(ExpiryReason::IdleTimeout));
    // Expiry sticks even with an earlier clock, and the seed is gone.
    assert_eq!(b.decrypt(t0(), &record), Err(expired));
    assert_eq!(b.export_snapshot().map(|_| ()), Err(expired));
    assert!(format!("{b:?}").contains("IdleTimeout"));
}

#[test]
fn only_successful_records_restart_the_idle_clock() {
    let (mut a, mut b) = pair(config(256));
    let mut rng = rng();
    let record = a.encrypt(&mut rng, t0(), b"r").unwrap();
    let nine_min = t0().add_seconds(9 * 60);
    assert_eq!(
        b.decrypt(nine_min, &record[..30]),
        Err(SessionError::RecordTooShort)
    );
    let mut forged = record.clone();
    forged[25] ^= 1;
    assert_eq!(b.decrypt(nine_min, &forged), Err(SessionError::Decrypt));
    assert_eq!(b.last_activity(), t0());
    let eleven_min = t0().add_seconds(11 * 60);
    assert_eq!(
        b.check_lifetime(eleven_min),
        Err(SessionError::Expired(ExpiryReason::IdleTimeout))
    );

    let (mut a, mut b) = pair(config(256));
    let record = a.encrypt(&mut rng, t0(), b"r").unwrap();
    b.decrypt(nine_min, &record).unwrap();
    assert_eq!(b.last_activity(), nine_min);
    b.check_lifetime(t0().add_seconds(18 * 60)).unwrap();
}

#[test]
fn session_expires_at_max_age_even_when_busy() {
    let (mut a, mut b) = pair(config(256));
    let mut rng = rng();
    let max_age = SessionPolicy::default().max_age.as_secs() as i64;
    let mut now = t0();
    while now.unix_seconds() + 300 <= t0().unix_seconds() + max_age {
        now = now.add_seconds(300);
        let record = a.encrypt(&mut rng, now, b"keepalive").unwrap();
        b.decrypt(now, &record).unwrap();
    }
    let past = t0().add_seconds(max_age + 1);
    assert_eq!(
        a.encrypt(&mut rng, past, b"too late"),
        Err(SessionError::Expired(ExpiryReason::MaxAge))
    );
}

#[test]
fn message_budget_counts_sent_and_received_records() {
    let mut cfg = config(256);
    cfg.policy.max_messages = 3;
    let (mut a, mut b) = pair(cfg);
    let mut rng = rng();
    let r0 = a.encrypt(&mut rng, t0(), b"1").unwrap();
    b.decrypt(t0(), &r0).unwrap();
    let r1 = b.encrypt(&mut rng, t0(), b"2").unwrap();
    a.decrypt(t0(), &r1).unwrap();
    let r2 = a.encrypt(&mut rng, t0(), b"3").unwrap();
    assert_eq!(a.message_count(), 3);
    let expired = SessionError::Expired(ExpiryReason::MaxMessages);
    assert_eq!(a.encrypt(&mut rng, t0(), b"4"), Err(expired));
    assert_eq!(a.decrypt(t0(), &r1), Err(expired));
    b.decrypt(t0(), &r2).unwrap();
    assert_eq!(b.message_count(), 3);
    assert_eq!(b.check_lifetime(t0()), Err(expired));
}

// ------------------------------------------------------------- redaction

#[test]
fn debug_output_never_contains_key_material() {
    let (mut a, _) = pair(config(1));
    let mut rng = rng();
    for _ in 0..3 {
        a.encrypt(&mut rng, t0(), b"rotate").unwrap();
    }
    let id = a.id().clone();
    let seed = SessionSeed::from_bytes(SEED);
    let schedule = KeySchedule::new(&seed, &id);
    let labels = V.labels();
    let shared = schedule.shared_keys(labels);
    let directional = schedule.directional_keys(labels);
    let mut secrets: Vec<[u8; 32]> = vec![
        SEED,
        *shared.encrypt,
        *shared.signing,
        *directional.c2s,
        *directional.s2c,
    ];
    for g in 1..3 {
        secrets.push(*schedule.rekey_key(labels, labels.dir_c2s, g));
    }
    let snapshot = a.export_snapshot().unwrap();
    let outputs = [
        format!("{a:?}"),
        format!("{a:#?}"),
        format!("{seed:?}"),
        format!("{snapshot:?}"),
        format!("{schedule:?}"),
    ];
    for out in &outputs {
        for secret in &secrets {
            assert!(!out.contains(&hex_encode(secret)), "{out}");
            assert!(!out.contains(&hex_encode(&secret[..4])), "{out}");
            assert!(!out.contains(&format!("{:?}", &secret[..4])), "{out}");
        }
    }
    assert!(outputs[0].contains(id.as_str()));
}

// ---------------------------------------------------------- property test

#[derive(Debug, Clone)]
enum Step {
    Send {
        from_initiator: bool,
        len: usize,
        aad: Option<Vec<u8>>,
    },
    Deliver(prop::sample::Index),
    Replay(prop::sample::Index),
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<bool>(), 0usize..1500, prop::option::of(prop::collection::vec(any::<u8>(), 0..40)))
            .prop_map(|(from_initiator, len, aad)| Step::Send { from_initiator, len, aad }),
        4 => any::<prop::sample::Index>().prop_map(Step::Deliver),
        1 => any::<prop::sample::Index>().prop_map(Step::Replay),
    ]
}

struct InFlight {
    to_initiator: bool,
    record: Vec<u8>,
    plaintext: Vec<u8>,
    aad: Option<Vec<u8>>,
}

fn open(receiver: &mut Session, m: &InFlight) -> Result<Vec<u8>, SessionError> {
    match &m.aad {
        Some(aad) => receiver.decrypt_with_aad(t0(), &m.record, aad),
        None => receiver.decrypt(t0(), &m.record),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn two_peers_exchange_records_that_each_open_exactly_once(
        rekey_interval in prop_oneof![Just(0u64), Just(1), Just(3), Just(256)],
        steps in prop::collection::vec(step(), 1..160),
    ) {
        let (mut a, mut b) = pair(unlimited(rekey_interval));
        let mut rng = rng();
        let mut pending: Vec<InFlight> = Vec::new();
        let mut delivered: Vec<InFlight> = Vec::new();
        for (n, s) in steps.into_iter().enumerate() {
            match s {
                Step::Send { from_initiator, len, aad } => {
                    let plaintext: Vec<u8> = (0..len).map(|i| (i + n) as u8).collect();
                    let sender = if from_initiator { &mut a } else { &mut b };
                    let record = match &aad {
                        Some(aad) => sender.encrypt_with_aad(&mut rng, t0(), &plaintext, aad),
                        None => sender.encrypt(&mut rng, t0(), &plaintext),
                    }.unwrap();
                    pending.push(InFlight { to_initiator: !from_initiator, record, plaintext, aad });
                }
                Step::Deliver(pick) if !pending.is_empty() => {
                    let m = pending.swap_remove(pick.index(pending.len()));
                    let receiver = if m.to_initiator { &mut a } else { &mut b };
                    prop_assert_eq!(open(receiver, &m)?, m.plaintext.clone());
                    delivered.push(m);
                }
                Step::Replay(pick) if !delivered.is_empty() => {
                    let m = &delivered[pick.index(delivered.len())];
                    let receiver = if m.to_initiator { &mut a } else { &mut b };
                    prop_assert_eq!(open(receiver, m), Err(SessionError::Replayed));
                }
                Step::Deliver(_) | Step::Replay(_) => {}
            }
        }
        for m in pending.drain(..) {
            let receiver = if m.to_initiator { &mut a } else { &mut b };
            prop_assert_eq!(open(receiver, &m)?, m.plaintext.clone());
            delivered.push(m);
        }
        for m in &delivered {
            let receiver = if m.to_initiator { &mut a } else { &mut b };
            prop_assert_eq!(open(receiver, m), Err(SessionError::Replayed));
        }
        let sent = delivered.len() as u64;
        prop_assert_eq!(a.message_count() + b.message_count(), 2 * sent);
    }
}
