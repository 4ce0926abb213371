//! Tests of the handshake: the six `hpke.json` vectors, full in-process
//! handshakes, every tampered member of both messages, the negative cases
//! §16.3 lists as unpinned, and a property test.

use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use proptest::prelude::*;
use serde_json::{Map, Value};
use sha2::{Digest as _, Sha256};

use super::schedule::{self, TRANSCRIPT_ORDER, TrafficKeys, Transcript, TranscriptElement};
use super::*;
use crate::encoding::{b64url_encode, hex_decode, hex_encode};
use crate::primitives::{
    KeyType, SigningKey, VerifyingKey, X25519PublicKey, X25519Secret, derive_seed_from_label,
};
use crate::replay::MemoryReplayStore;
use crate::session::SessionConfig;
use crate::time::Timestamp;
use crate::transport::{WireMessage, WireResponse};
use crate::version::{Labels, ProtocolVersion};

const V: ProtocolVersion = ProtocolVersion::V1Draft1;
const ALICE: &str = "did:sage:ethereum:0x1111111111111111111111111111111111111111";
const BOB: &str = "did:sage:ethereum:0x2222222222222222222222222222222222222222";
const MALLORY: &str = "did:sage:ethereum:0x3333333333333333333333333333333333333333";

fn labels() -> &'static Labels {
    V.labels()
}

fn rng() -> UnwrapErr<SysRng> {
    UnwrapErr(SysRng)
}

fn t0() -> Timestamp {
    Timestamp::from_unix_seconds(1_767_225_600)
}

// ---------------------------------------------------------------------------
// Vectors (PROTOCOL.md §16.2, hpke.json)
// ---------------------------------------------------------------------------

fn vector(name: &str) -> Value {
    crate::test_vectors::vector("hpke.json", name)
}

fn text<'a>(v: &'a Value, path: &str, key: &str) -> &'a str {
    v[path][key].as_str().unwrap()
}

fn bytes32(v: &Value, path: &str, key: &str) -> [u8; 32] {
    hex_decode(text(v, path, key)).unwrap().try_into().unwrap()
}

#[test]
fn vector_info_and_export_context() {
    let v = vector("info-and-export-context");
    let (ctx, init, resp) = (
        text(&v, "input", "context_id"),
        text(&v, "input", "init_did"),
        text(&v, "input", "resp_did"),
    );
    let info = schedule::info(labels(), ctx, init, resp);
    let export_ctx = schedule::export_context(labels(), ctx);
    assert_eq!(info, text(&v, "output", "info"));
    assert_eq!(hex_encode(info.as_bytes()), text(&v, "output", "info_hex"));
    assert_eq!(
        hex_encode(&Sha256::digest(info.as_bytes())),
        text(&v, "output", "info_sha256")
    );
    assert_eq!(export_ctx, text(&v, "output", "export_context"));
    assert_eq!(
        hex_encode(export_ctx.as_bytes()),
        text(&v, "output", "export_context_hex")
    );
    assert_eq!(
        hex_encode(&Sha256::digest(export_ctx.as_bytes())),
        text(&v, "output", "export_context_sha256")
    );
}

#[test]
fn vector_x25519_e2e_shared_secret() {
    let v = vector("x25519-e2e-shared-secret");
    let init_seed = derive_seed_from_label(text(&v, "input", "init_label"));
    let resp_seed = derive_seed_from_label(text(&v, "input", "resp_label"));
    assert_eq!(
        hex_encode(init_seed.as_slice()),
        text(&v, "output", "init_private")
    );
    assert_eq!(
        hex_encode(resp_seed.as_slice()),
        text(&v, "output", "resp_private")
    );
    let init = X25519Secret::from_bytes(*init_seed);
    let resp = X25519Secret::from_bytes(*resp_seed);
    assert_eq!(
        hex_encode(init.public_key().as_bytes()),
        text(&v, "output", "init_public")
    );
    assert_eq!(
        hex_encode(resp.public_key().as_bytes()),
        text(&v, "output", "resp_public")
    );
    let shared = init.diffie_hellman(&resp.public_key()).unwrap();
    assert_eq!(
        hex_encode(shared.as_slice()),
        text(&v, "output", "shared_secret")
    );
    let other_way = resp.diffie_hellman(&init.public_key()).unwrap();
    assert_eq!(shared, other_way);
}

#[test]
fn vector_combine_secrets() {
    let v = vector("combine-secrets");
    let export_ctx = schedule::export_context(labels(), text(&v, "input", "context_id"));
    assert_eq!(
        hex_encode(export_ctx.as_bytes()),
        text(&v, "output", "export_context_hex")
    );
    let seed = schedule::combine(
        labels(),
        export_ctx.as_bytes(),
        &bytes32(&v, "input", "exporter_hpke"),
        &bytes32(&v, "input", "ss_e2e"),
    );
    assert_eq!(hex_encode(seed.as_slice()), text(&v, "output", "seed"));
}

#[test]
fn vector_traffic_keys() {
    let v = vector("traffic-keys");
    let keys = TrafficKeys::derive(labels(), &bytes32(&v, "input", "seed"));
    assert_eq!(hex_encode(keys.c2s_key()), text(&v, "output", "c2s_key"));
    assert_eq!(hex_encode(keys.c2s_iv()), text(&v, "output", "c2s_iv"));
    assert_eq!(hex_encode(keys.s2c_key()), text(&v, "output", "s2c_key"));
    assert_eq!(hex_encode(keys.s2c_iv()), text(&v, "output", "s2c_iv"));
    assert_eq!(
        hex_encode(keys.channel_binding()),
        text(&v, "output", "channel_binding")
    );
}

#[test]
fn counter_expand_is_hmac_of_label_and_counter_not_hkdf_expand() {
    use hmac::{Hmac, KeyInit as _, Mac as _};
    let key = [7u8; 32];
    let out = schedule::counter_expand(&key, b"label", 40);
    let block = |i: u32| {
        let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        mac.update(b"label");
        mac.update(&i.to_be_bytes());
        mac.finalize().into_bytes()
    };
    assert_eq!(&out[..32], block(1).as_slice());
    assert_eq!(&out[32..], &block(2)[..8]);
    let mut hkdf_out = [0u8; 40];
    hkdf::Hkdf::<Sha256>::from_prk(&key)
        .unwrap()
        .expand(b"label", &mut hkdf_out)
        .unwrap();
    assert_ne!(out.as_slice(), hkdf_out.as_slice());
}

#[test]
fn vector_ack_tag_in_binds_order() {
    let v = vector("ack-tag");
    let input = &v["input"];
    let (ctx, init_did, resp_did) = (
        text(&v, "input", "context_id"),
        text(&v, "input", "init_did"),
        text(&v, "input", "resp_did"),
    );
    let info = schedule::info(labels(), ctx, init_did, resp_did);
    let export_ctx = schedule::export_context(labels(), ctx);
    let (enc, eph_c, eph_s) = (
        bytes32(&v, "input", "enc"),
        bytes32(&v, "input", "eph_c"),
        bytes32(&v, "input", "eph_s"),
    );
    let transcript = Transcript {
        info: info.as_bytes(),
        export_ctx: export_ctx.as_bytes(),
        enc: &enc,
        eph_c: &eph_c,
        eph_s: &eph_s,
        init_did,
        resp_did,
    };

    // The order the implementation declares is the one the vector states.
    let declared: Vec<&str> = TRANSCRIPT_ORDER.iter().map(|e| e.name()).collect();
    let stated: Vec<&str> = v["output"]["binds_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|name| name.as_str().unwrap())
        .collect();
    assert_eq!(declared, stated);

    // The transcript hash built by hand in the vector's binds_order must be
    // the one Transcript::hash computes.
    let mut hasher = Sha256::new();
    for name in v["output"]["binds_order"].as_array().unwrap() {
        let element: Vec<u8> = match name.as_str().unwrap() {
            "info" => info.as_bytes().to_vec(),
            "export_context" => export_ctx.as_bytes().to_vec(),
            "enc" => enc.to_vec(),
            "eph_c" => eph_c.to_vec(),
            "eph_s" => eph_s.to_vec(),
            "init_did" => init_did.as_bytes().to_vec(),
            "resp_did" => resp_did.as_bytes().to_vec(),
            other => panic!("unknown transcript element {other}"),
        };
        hasher.update([0u8]);
        hasher.update(&element);
    }
    assert_eq!(transcript.hash(), <[u8; 32]>::from(hasher.finalize()));

    let tag = schedule::ack_tag(
        labels(),
        &bytes32(&v, "input", "seed"),
        ctx,
        input["nonce"].as_str().unwrap(),
        input["kid"].as_str().unwrap(),
        &transcript,
    );
    assert_eq!(hex_encode(&tag), text(&v, "output", "ack_tag"));
}

#[test]
fn transcript_elements_are_the_fields_they_name_and_each_is_bound_once() {
    let (enc, eph_c, eph_s) = ([1u8; 32], [2u8; 32], [3u8; 32]);
    let transcript = Transcript {
        info: b"i",
        export_ctx: b"x",
        enc: &enc,
        eph_c: &eph_c,
        eph_s: &eph_s,
        init_did: "did:a",
        resp_did: "did:b",
    };
    assert_eq!(transcript.element(TranscriptElement::Info), b"i");
    assert_eq!(transcript.element(TranscriptElement::ExportContext), b"x");
    assert_eq!(transcript.element(TranscriptElement::Enc), enc);
    assert_eq!(transcript.element(TranscriptElement::EphC), eph_c);
    assert_eq!(transcript.element(TranscriptElement::EphS), eph_s);
    assert_eq!(transcript.element(TranscriptElement::InitDid), b"did:a");
    assert_eq!(transcript.element(TranscriptElement::RespDid), b"did:b");
    for (i, element) in TRANSCRIPT_ORDER.iter().enumerate() {
        assert!(!TRANSCRIPT_ORDER[i + 1..].contains(element), "{element:?}");
    }
    // Swapping the two DIDs changes the hash: the order is bound.
    let swapped = Transcript {
        init_did: "did:b",
        resp_did: "did:a",
        ..transcript
    };
    assert_ne!(transcript.hash(), swapped.hash());
}

#[test]
fn vector_hpke_export_roundtrip() {
    let v = vector("hpke-export-roundtrip");
    let resp = X25519Secret::from_bytes(*derive_seed_from_label(text(&v, "input", "resp_label")));
    assert_eq!(
        hex_encode(resp.public_key().as_bytes()),
        text(&v, "output", "resp_public")
    );
    let ctx = text(&v, "input", "context_id");
    let info = schedule::info(
        labels(),
        ctx,
        text(&v, "input", "init_did"),
        text(&v, "input", "resp_did"),
    );
    let export_ctx = schedule::export_context(labels(), ctx);
    let exporter = schedule::hpke_open_export(
        &resp,
        &bytes32(&v, "output", "enc"),
        info.as_bytes(),
        export_ctx.as_bytes(),
    )
    .unwrap();
    assert_eq!(
        hex_encode(exporter.as_slice()),
        text(&v, "output", "exporter")
    );
}

#[test]
fn hpke_seal_and_open_agree_and_bind_info() {
    let mut rng = rng();
    let sk = X25519Secret::generate(&mut rng);
    let (enc, exporter) =
        schedule::hpke_seal_export(&mut rng, &sk.public_key(), b"info", b"ctx").unwrap();
    let opened = schedule::hpke_open_export(&sk, &enc, b"info", b"ctx").unwrap();
    assert_eq!(exporter, opened);
    let other_info = schedule::hpke_open_export(&sk, &enc, b"inf0", b"ctx").unwrap();
    assert_ne!(exporter, other_info);
}

#[test]
fn hpke_to_a_low_order_key_fails() {
    let zero = X25519PublicKey::from_bytes([0; 32]);
    assert_eq!(
        schedule::hpke_seal_export(&mut rng(), &zero, b"i", b"c").unwrap_err(),
        HandshakeError::HpkeEncapsulation
    );
    let sk = X25519Secret::generate(&mut rng());
    assert_eq!(
        schedule::hpke_open_export(&sk, &[0; 32], b"i", b"c").unwrap_err(),
        HandshakeError::HpkeDecapsulation
    );
}

// ---------------------------------------------------------------------------
// In-process handshakes
// ---------------------------------------------------------------------------

/// Alice (initiator) and Bob (responder) with their keys, a replay store
/// and a clock.
struct Peers {
    alice_key: SigningKey,
    alice_did: String,
    bob: Responder,
    bob_verifying: VerifyingKey,
    bob_did: String,
    bob_kem_public: X25519PublicKey,
    replay: MemoryReplayStore,
    rng: UnwrapErr<SysRng>,
    now: Timestamp,
    attempts: u32,
}

impl Peers {
    fn new(alice: KeyType, bob: KeyType) -> Self {
        Self::with_config(alice, bob, |_| {})
    }

    fn with_config(alice: KeyType, bob: KeyType, edit: impl FnOnce(&mut ResponderConfig)) -> Self {
        let mut rng = rng();
        let alice_key = SigningKey::generate(alice, &mut rng).unwrap();
        let bob_key = SigningKey::generate(bob, &mut rng).unwrap();
        Self::from_keys(
            alice_key,
            ALICE,
            bob_key,
            BOB,
            X25519Secret::generate(&mut rng),
            edit,
        )
    }

    fn from_keys(
        alice_key: SigningKey,
        alice_did: &str,
        bob_key: SigningKey,
        bob_did: &str,
        bob_kem: X25519Secret,
        edit: impl FnOnce(&mut ResponderConfig),
    ) -> Self {
        let bob_verifying = bob_key.verifying_key();
        let bob_kem_public = bob_kem.public_key();
        let mut config = ResponderConfig::new(bob_did.to_owned(), bob_key, bob_kem);
        edit(&mut config);
        Self {
            alice_key,
            alice_did: alice_did.to_owned(),
            bob: Responder::new(V, config).unwrap(),
            bob_verifying,
            bob_did: bob_did.to_owned(),
            bob_kem_public,
            replay: MemoryReplayStore::new(),
            rng: rng(),
            now: t0(),
            attempts: 0,
        }
    }

    /// A fresh context id per attempt, as §6.5 requires.
    fn next_ctx(&mut self) -> String {
        self.attempts += 1;
        format!("ctx-test-{}", self.attempts)
    }

    fn start_with(
        &mut self,
        edit: impl FnOnce(&mut InitiatorConfig<'_>),
    ) -> (ExpectAck, WireMessage) {
        let ctx_id = self.next_ctx();
        let mut config = InitiatorConfig {
            own_did: self.alice_did.clone(),
            signing_key: &self.alice_key,
            peer_did: self.bob_did.clone(),
            peer_kem_public: self.bob_kem_public,
            ctx_id,
            session_config: SessionConfig::DEFAULT,
            cookie: None,
        };
        edit(&mut config);
        Initiator::start(V, config, &mut self.rng, self.now).unwrap()
    }

    fn start(&mut self) -> (ExpectAck, WireMessage) {
        self.start_with(|_| {})
    }

    /// Bob's two steps, Alice's key standing in for the DID resolution.
    fn respond_at(
        &mut self,
        message: &WireMessage,
        now: Timestamp,
    ) -> Result<ResponderOutcome, HandshakeError> {
        let pending = self.bob.accept(message, now)?;
        assert_eq!(pending.sender_did(), message.did);
        let sender_key = self.alice_key.verifying_key();
        self.bob
            .complete(pending, &sender_key, now, &mut self.rng, &mut self.replay)
    }

    fn respond(&mut self, message: &WireMessage) -> Result<ResponderOutcome, HandshakeError> {
        self.respond_at(message, self.now)
    }

    /// Both sides, start to finish, for an already started attempt.
    fn finish(
        &mut self,
        expect: ExpectAck,
        message: &WireMessage,
    ) -> Result<(Established, ResponderOutcome), HandshakeError> {
        let outcome = self.respond(message)?;
        let established = expect.handle(&outcome.response, &self.bob_verifying, self.now)?;
        Ok((established, outcome))
    }

    fn resign_init(&self, message: &mut WireMessage) {
        message.sign_payload(&self.alice_key);
    }
}

fn records_flow_both_ways(
    established: &mut Established,
    outcome: &mut ResponderOutcome,
    rng: &mut UnwrapErr<SysRng>,
) {
    let now = t0();
    assert_eq!(established.session.id(), outcome.session.id());
    for i in 0..3u8 {
        let c2s = established.session.encrypt(rng, now, &[i; 5]).unwrap();
        assert_eq!(outcome.session.decrypt(now, &c2s).unwrap(), [i; 5]);
        let s2c = outcome.session.encrypt(rng, now, &[i + 100; 7]).unwrap();
        assert_eq!(
            established.session.decrypt(now, &s2c).unwrap(),
            [i + 100; 7]
        );
    }
    // The directions use different keys: a record does not open on the
    // stream it was sent on.
    let c2s = established.session.encrypt(rng, now, b"one way").unwrap();
    assert!(established.session.decrypt(now, &c2s).is_err());
}

fn full_handshake(alice: KeyType, bob: KeyType) {
    let mut peers = Peers::new(alice, bob);
    let (expect, message) = peers.start();
    let (mut established, mut outcome) = peers.finish(expect, &message).unwrap();
    assert_eq!(established.kid, outcome.kid);
    assert!(established.kid.starts_with(labels().hpke_kid_prefix));
    assert_eq!(established.peer_did, BOB);
    assert_eq!(outcome.peer_did, ALICE);
    assert_eq!(established.ctx_id, outcome.ctx_id);
    let mut rng = rng();
    records_flow_both_ways(&mut established, &mut outcome, &mut rng);
}

#[test]
fn ed25519_initiator_and_ed25519_responder_complete_and_exchange_records() {
    full_handshake(KeyType::Ed25519, KeyType::Ed25519);
}

#[test]
fn secp256k1_initiator_and_p256_responder_complete_and_exchange_records() {
    full_handshake(KeyType::Secp256k1, KeyType::P256);
}

#[test]
fn init_message_has_the_go_core_transport_shape() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, message) = peers.start_with(|c| c.cookie = Some("c00kie".into()));
    assert_eq!(message.task_id, labels().hpke_task);
    assert_eq!(message.context_id, expect.ctx_id());
    assert_eq!(message.id, expect.request_id());
    assert_eq!(message.did, ALICE);
    assert_eq!(message.role, "user");
    assert_eq!(
        message.metadata.get("cookie").map(String::as_str),
        Some("c00kie")
    );
    message
        .verify_payload(&peers.alice_key.verifying_key())
        .unwrap();

    let payload: Map<String, Value> = serde_json::from_slice(&message.payload).unwrap();
    let mut members: Vec<&str> = payload.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(
        members,
        [
            "enc",
            "ephC",
            "exportCtx",
            "info",
            "initDid",
            "nonce",
            "respDid",
            "ts"
        ]
    );
    assert!(payload.values().all(Value::is_string));
    // info and exportCtx are the plain §6.1 strings (Go core), not base64url.
    let ctx = expect.ctx_id();
    assert_eq!(payload["info"], schedule::info(labels(), ctx, ALICE, BOB));
    assert_eq!(
        payload["exportCtx"],
        schedule::export_context(labels(), ctx)
    );
    assert_eq!(payload["ts"], t0().to_rfc3339());
    let nonce = payload["nonce"].as_str().unwrap();
    assert_eq!(nonce.len(), 36);
    assert_eq!(nonce.as_bytes()[14], b'4', "UUID version 4: {nonce}");
    assert_eq!(payload["enc"].as_str().unwrap().len(), 43);
    assert_eq!(payload["ephC"].as_str().unwrap().len(), 43);
}

#[test]
fn ack_envelope_has_every_member_and_a_signature_over_its_jcs() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Secp256k1);
    let (_expect, message) = peers.start();
    let outcome = peers.respond(&message).unwrap();
    assert!(outcome.response.success);
    assert_eq!(outcome.response.message_id, message.id);
    assert_eq!(outcome.response.task_id, labels().hpke_task);
    assert!(outcome.response.error.is_empty());

    let mut envelope: Map<String, Value> = serde_json::from_slice(&outcome.response.data).unwrap();
    let mut members: Vec<&str> = envelope.keys().map(String::as_str).collect();
    members.sort_unstable();
    assert_eq!(
        members,
        [
            "ackTagB64",
            "ctx",
            "did",
            "enc",
            "ephC",
            "ephS",
            "exportCtxHash",
            "infoHash",
            "kid",
            "sigB64",
            "task",
            "ts",
            "v",
        ]
    );
    assert_eq!(envelope["v"], "v1");
    assert_eq!(envelope["did"], BOB);
    assert_eq!(envelope["kid"], outcome.kid.as_str());
    let signature = crate::encoding::b64url_decode(envelope["sigB64"].as_str().unwrap()).unwrap();
    assert_eq!(signature.len(), 65, "secp256k1 signs r‖s‖v (§3.2)");
    envelope.remove("sigB64");
    let signed = crate::jcs::canonicalize_serde(&Value::Object(envelope));
    peers.bob_verifying.verify(&signed, &signature).unwrap();
}

// ---------------------------------------------------------------------------
// Tampering with the init payload
// ---------------------------------------------------------------------------

fn edit_init_payload(message: &mut WireMessage, member: &str, value: Value) {
    let mut payload: Map<String, Value> = serde_json::from_slice(&message.payload).unwrap();
    assert!(payload.contains_key(member), "{member} is an init member");
    payload.insert(member.to_owned(), value);
    message.payload = serde_json::to_vec(&payload).unwrap();
}

fn other_public_key_b64() -> Value {
    Value::String(b64url_encode(
        X25519Secret::generate(&mut rng()).public_key().as_bytes(),
    ))
}

/// Every init member, a different well-formed value for it, and the check
/// that rejects the handshake when the initiator itself signed that value.
fn init_tampering() -> Vec<(&'static str, Value, HandshakeError)> {
    let info = schedule::info(labels(), "ctx-test-1", ALICE, BOB);
    let export_ctx = schedule::export_context(labels(), "ctx-test-1");
    vec![
        ("initDid", MALLORY.into(), HandshakeError::InitDidMismatch),
        ("respDid", MALLORY.into(), HandshakeError::RespDidMismatch),
        (
            "info",
            format!("{info}x").into(),
            HandshakeError::InfoMismatch,
        ),
        (
            "exportCtx",
            format!("{export_ctx}x").into(),
            HandshakeError::ExportContextMismatch,
        ),
        (
            "nonce",
            "00000000-0000-4000-8000-000000000000".into(),
            HandshakeError::AckTagMismatch,
        ),
        (
            "ts",
            t0().add_seconds(-3600).to_rfc3339().into(),
            HandshakeError::TimestampOutsideWindow,
        ),
        (
            "enc",
            other_public_key_b64(),
            HandshakeError::EncEchoMismatch,
        ),
        (
            "ephC",
            other_public_key_b64(),
            HandshakeError::EphCEchoMismatch,
        ),
    ]
}

#[test]
fn every_init_member_changed_in_transit_is_rejected() {
    for (member, value, _) in init_tampering() {
        let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
        let (expect, mut message) = peers.start();
        edit_init_payload(&mut message, member, value);
        let result = peers.finish(expect, &message);
        assert!(result.is_err(), "{member} changed in transit was accepted");
        // Whatever the responder sees first, it never gets past the
        // signature: no session exists on either side.
        let err = result.unwrap_err();
        assert!(
            err == HandshakeError::TransportSignature
                || matches!(
                    err,
                    HandshakeError::InitDidMismatch
                        | HandshakeError::RespDidMismatch
                        | HandshakeError::InfoMismatch
                        | HandshakeError::ExportContextMismatch
                        | HandshakeError::TimestampOutsideWindow
                ),
            "{member}: {err:?}"
        );
    }
}

#[test]
fn every_init_member_signed_with_a_wrong_value_is_rejected_by_the_named_check() {
    for (member, value, expected) in init_tampering() {
        let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
        let (expect, mut message) = peers.start();
        edit_init_payload(&mut message, member, value);
        peers.resign_init(&mut message);
        let err = peers.finish(expect, &message).unwrap_err();
        assert_eq!(err, expected, "member {member}");
    }
}

#[test]
fn init_member_missing_or_not_a_string_is_malformed() {
    for member in [
        "initDid",
        "respDid",
        "info",
        "exportCtx",
        "nonce",
        "ts",
        "enc",
        "ephC",
    ] {
        let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
        let (_, mut message) = peers.start();
        let mut payload: Map<String, Value> = serde_json::from_slice(&message.payload).unwrap();
        payload.remove(member);
        message.payload = serde_json::to_vec(&payload).unwrap();
        peers.resign_init(&mut message);
        assert_eq!(
            peers.respond(&message).unwrap_err(),
            HandshakeError::MalformedInit(MessageError::Missing(member))
        );

        let (_, mut message) = peers.start();
        edit_init_payload(&mut message, member, Value::from(7));
        peers.resign_init(&mut message);
        assert_eq!(
            peers.respond(&message).unwrap_err(),
            HandshakeError::MalformedInit(MessageError::NotAString(member))
        );
    }
}

#[test]
fn init_payload_with_a_duplicate_member_is_malformed() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (_, mut message) = peers.start();
    let text = String::from_utf8(message.payload.clone()).unwrap();
    let duplicated = text.replacen('{', &format!("{{\"respDid\":\"{MALLORY}\","), 1);
    message.payload = duplicated.into_bytes();
    peers.resign_init(&mut message);
    let err = peers.respond(&message).unwrap_err();
    assert!(
        matches!(err, HandshakeError::MalformedInit(MessageError::Json(_))),
        "{err:?}"
    );
}

#[test]
fn oversized_init_fields_are_refused_before_any_crypto() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (_, mut message) = peers.start();
    edit_init_payload(
        &mut message,
        "nonce",
        "n".repeat(messages::MAX_NONCE_LEN + 1).into(),
    );
    // Not re-signed: size checks come before the signature is looked at.
    assert_eq!(
        peers.bob.accept(&message, t0()).unwrap_err(),
        HandshakeError::MalformedInit(MessageError::TooLong {
            member: "nonce",
            limit: messages::MAX_NONCE_LEN
        })
    );

    message.payload = vec![b' '; messages::MAX_MESSAGE_LEN + 1];
    assert!(matches!(
        peers.bob.accept(&message, t0()).unwrap_err(),
        HandshakeError::MalformedInit(MessageError::TooLarge { .. })
    ));

    let (_, mut message) = peers.start();
    edit_init_payload(&mut message, "enc", b64url_encode(&[1u8; 31]).into());
    assert_eq!(
        peers.bob.accept(&message, t0()).unwrap_err(),
        HandshakeError::MalformedInit(MessageError::Encoding("enc"))
    );
}

#[test]
fn init_envelope_without_id_context_or_signature_is_malformed() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    type Edit = fn(&mut WireMessage);
    let cases: [(Edit, MessageError); 4] = [
        (|m| m.id.clear(), MessageError::Empty("id")),
        (|m| m.context_id.clear(), MessageError::Empty("context_id")),
        (|m| m.did.clear(), MessageError::Empty("did")),
        (|m| m.signature.clear(), MessageError::Missing("signature")),
    ];
    for (edit, expected) in cases {
        let (_, mut message) = peers.start();
        edit(&mut message);
        assert_eq!(
            peers.bob.accept(&message, t0()).unwrap_err(),
            HandshakeError::MalformedInit(expected)
        );
    }
}

#[test]
fn init_payload_not_resigned_fails_the_transport_signature() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (_, mut message) = peers.start();
    edit_init_payload(&mut message, "nonce", "another-nonce".into());
    assert_eq!(
        peers.respond(&message).unwrap_err(),
        HandshakeError::TransportSignature
    );
}

#[test]
fn init_from_a_did_other_than_the_signer_is_rejected() {
    // Mallory signs with her own (resolvable) key but claims Alice's DID
    // inside the payload.
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let mallory_key = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
    let (_, mut message) = peers.start();
    message.did = MALLORY.to_owned();
    message.sign_payload(&mallory_key);
    assert_eq!(
        peers.bob.accept(&message, t0()).unwrap_err(),
        HandshakeError::InitDidMismatch
    );
}

#[test]
fn init_addressed_to_another_responder_is_rejected() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (_, message) = peers.start_with(|c| c.peer_did = MALLORY.to_owned());
    assert_eq!(
        peers.respond(&message).unwrap_err(),
        HandshakeError::RespDidMismatch
    );
}

#[test]
fn init_ts_is_accepted_up_to_120_seconds_either_way_and_no_further() {
    for (offset, ok) in [(-121, false), (-120, true), (120, true), (121, false)] {
        let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
        let (_, message) = peers.start();
        let result = peers.respond_at(&message, t0().add_seconds(offset));
        if ok {
            assert!(result.is_ok(), "offset {offset}: {result:?}");
        } else {
            assert_eq!(
                result.unwrap_err(),
                HandshakeError::TimestampOutsideWindow,
                "offset {offset}"
            );
        }
    }
}

#[test]
fn replayed_init_is_rejected_and_the_first_handshake_still_completes() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, message) = peers.start();
    let outcome = peers.respond(&message).unwrap();
    assert_eq!(
        peers.respond(&message).unwrap_err(),
        HandshakeError::ReplayedNonce
    );
    // A replay that arrives once the nonce lifetime has passed is stale.
    let later = t0().add_seconds(601);
    assert_eq!(
        peers.respond_at(&message, later).unwrap_err(),
        HandshakeError::TimestampOutsideWindow
    );
    expect
        .handle(&outcome.response, &peers.bob_verifying, t0())
        .unwrap();
}

#[test]
fn nonce_is_kept_while_its_ts_can_still_pass_even_with_a_short_ttl() {
    let mut peers = Peers::with_config(KeyType::Ed25519, KeyType::Ed25519, |c| {
        c.nonce_ttl = core::time::Duration::from_secs(1);
    });
    let (_, message) = peers.start();
    peers.respond(&message).unwrap();
    assert_eq!(
        peers
            .respond_at(&message, t0().add_seconds(100))
            .unwrap_err(),
        HandshakeError::ReplayedNonce
    );
}

#[test]
fn unavailable_replay_store_fails_closed() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    peers.replay = MemoryReplayStore::with_capacity(0);
    let (_, message) = peers.start();
    assert_eq!(
        peers.respond(&message).unwrap_err(),
        HandshakeError::ReplayStoreUnavailable
    );
}

#[test]
fn all_zero_ephemeral_key_from_the_initiator_is_rejected() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (_, mut message) = peers.start();
    edit_init_payload(&mut message, "ephC", b64url_encode(&[0u8; 32]).into());
    peers.resign_init(&mut message);
    assert_eq!(
        peers.respond(&message).unwrap_err(),
        HandshakeError::AllZeroSharedSecret
    );
}

#[test]
fn all_zero_ephemeral_key_from_the_responder_is_rejected() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, message) = peers.start();
    let mut outcome = peers.respond(&message).unwrap();
    edit_ack(
        &mut outcome.response,
        "ephS",
        b64url_encode(&[0u8; 32]).into(),
    );
    resign_ack(&mut outcome.response, &peers);
    assert_eq!(
        expect
            .handle(&outcome.response, &peers.bob_verifying, t0())
            .unwrap_err(),
        HandshakeError::AllZeroSharedSecret
    );
}

#[test]
fn wrong_task_id_is_rejected() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (_, mut message) = peers.start();
    message.task_id = "hpke/complete@v2".to_owned();
    assert_eq!(
        peers.bob.accept(&message, t0()).unwrap_err(),
        HandshakeError::WrongTask
    );
}

#[test]
fn suite_other_than_ours_gets_the_suite_error() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, mut message) = peers.start();
    let info = schedule::info(labels(), expect.ctx_id(), ALICE, BOB)
        .replace(labels().hpke_suite, "hpke-base+p256+hkdf-sha256");
    edit_init_payload(&mut message, "info", info.into());
    peers.resign_init(&mut message);
    let err = peers.respond(&message).unwrap_err();
    assert_eq!(err, HandshakeError::SuiteNotAllowed);
    assert_eq!(err.peer_message(V), "suite not allowed");
}

#[test]
fn bad_cookie_is_rejected_before_the_sender_key_is_needed() {
    let mut peers = Peers::with_config(KeyType::Ed25519, KeyType::Ed25519, |c| {
        c.cookie_policy = Some(Box::new(|cookie: &str| cookie == "good"));
    });
    // No cookie, a wrong cookie, and a wrong cookie on a message that is
    // otherwise garbage: accept() answers without a key and before parsing.
    let (_, no_cookie) = peers.start();
    assert_eq!(
        peers.bob.accept(&no_cookie, t0()).unwrap_err(),
        HandshakeError::CookieRejected
    );
    let (_, mut wrong) = peers.start_with(|c| c.cookie = Some("bad".into()));
    assert_eq!(
        peers.bob.accept(&wrong, t0()).unwrap_err(),
        HandshakeError::CookieRejected
    );
    wrong.payload = b"not json".to_vec();
    wrong.signature.clear();
    assert_eq!(
        peers.bob.accept(&wrong, t0()).unwrap_err(),
        HandshakeError::CookieRejected
    );
    let (expect, good) = peers.start_with(|c| c.cookie = Some("good".into()));
    peers.finish(expect, &good).unwrap();
}

#[test]
fn pending_init_is_completed_only_with_the_signers_key() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (_, message) = peers.start();
    let pending = peers.bob.accept(&message, t0()).unwrap();
    let someone_else = SigningKey::generate(KeyType::Ed25519, &mut rng())
        .unwrap()
        .verifying_key();
    let err = peers
        .bob
        .complete(pending, &someone_else, t0(), &mut rng(), &mut peers.replay)
        .unwrap_err();
    assert_eq!(err, HandshakeError::TransportSignature);
    // The unauthenticated attempt did not burn the nonce.
    peers.respond(&message).unwrap();
}

// ---------------------------------------------------------------------------
// Tampering with the ack envelope
// ---------------------------------------------------------------------------

fn edit_ack(response: &mut WireResponse, member: &str, value: Value) {
    let mut envelope: Map<String, Value> = serde_json::from_slice(&response.data).unwrap();
    assert!(
        envelope.contains_key(member),
        "{member} is an envelope member"
    );
    envelope.insert(member.to_owned(), value);
    response.data = serde_json::to_vec(&envelope).unwrap();
}

/// Re-signs the envelope with Bob's key, as a responder that means it.
fn resign_ack(response: &mut WireResponse, peers: &Peers) {
    let mut envelope: Map<String, Value> = serde_json::from_slice(&response.data).unwrap();
    envelope.remove("sigB64");
    let signed = crate::jcs::canonicalize_serde(&Value::Object(envelope.clone()));
    let signature = peers_bob_key(peers).sign(&signed);
    envelope.insert("sigB64".into(), b64url_encode(&signature).into());
    response.data = serde_json::to_vec(&envelope).unwrap();
}

/// Bob's signing key, recovered from the responder's config for tests.
fn peers_bob_key(peers: &Peers) -> &SigningKey {
    &peers.bob.config_for_tests().signing_key
}

/// Every envelope member, a different well-formed value, and the check that
/// catches it when the envelope is not re-signed.
fn ack_tampering() -> Vec<(&'static str, Value, HandshakeError)> {
    let other_sig = b64url_encode(
        &SigningKey::generate(KeyType::Ed25519, &mut rng())
            .unwrap()
            .sign(b"x"),
    );
    vec![
        ("v", "v2".into(), HandshakeError::EnvelopeVersion),
        (
            "task",
            "hpke/complete@v2".into(),
            HandshakeError::EnvelopeTask,
        ),
        ("ctx", "ctx-other".into(), HandshakeError::EnvelopeContext),
        ("kid", "kid-other".into(), HandshakeError::AckTagMismatch),
        (
            "ephS",
            other_public_key_b64(),
            HandshakeError::AckTagMismatch,
        ),
        (
            "ackTagB64",
            b64url_encode(&[0x42; 32]).into(),
            HandshakeError::AckTagMismatch,
        ),
        (
            "ts",
            t0().add_seconds(5).to_rfc3339().into(),
            HandshakeError::EnvelopeSignature,
        ),
        ("did", MALLORY.into(), HandshakeError::ResponderDidMismatch),
        (
            "infoHash",
            b64url_encode(&Sha256::digest(b"x")).into(),
            HandshakeError::InfoHashMismatch,
        ),
        (
            "exportCtxHash",
            b64url_encode(&Sha256::digest(b"x")).into(),
            HandshakeError::ExportContextHashMismatch,
        ),
        (
            "enc",
            other_public_key_b64(),
            HandshakeError::EncEchoMismatch,
        ),
        (
            "ephC",
            other_public_key_b64(),
            HandshakeError::EphCEchoMismatch,
        ),
        (
            "sigB64",
            other_sig.into(),
            HandshakeError::EnvelopeSignature,
        ),
    ]
}

#[test]
fn every_ack_member_changed_in_transit_is_rejected_by_the_named_check() {
    for (member, value, expected) in ack_tampering() {
        let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
        let (expect, message) = peers.start();
        let mut outcome = peers.respond(&message).unwrap();
        edit_ack(&mut outcome.response, member, value);
        let err = expect
            .handle(&outcome.response, &peers.bob_verifying, t0())
            .unwrap_err();
        assert_eq!(err, expected, "member {member}");
    }
}

#[test]
fn ack_member_changed_and_resigned_by_the_responder_is_still_rejected() {
    // A responder that signs a wrong value is caught by the value check,
    // not only by the signature. `ts` and `sigB64` are the two members a
    // signature alone protects.
    for (member, value, expected) in ack_tampering() {
        if matches!(member, "ts" | "sigB64") {
            continue;
        }
        let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
        let (expect, message) = peers.start();
        let mut outcome = peers.respond(&message).unwrap();
        edit_ack(&mut outcome.response, member, value);
        resign_ack(&mut outcome.response, &peers);
        let err = expect
            .handle(&outcome.response, &peers.bob_verifying, t0())
            .unwrap_err();
        assert_eq!(err, expected, "member {member}");
    }
}

#[test]
fn ack_with_an_extra_member_not_signed_is_rejected() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, message) = peers.start();
    let mut outcome = peers.respond(&message).unwrap();
    let mut envelope: Map<String, Value> = serde_json::from_slice(&outcome.response.data).unwrap();
    envelope.insert("note".into(), "injected".into());
    outcome.response.data = serde_json::to_vec(&envelope).unwrap();
    assert_eq!(
        expect
            .handle(&outcome.response, &peers.bob_verifying, t0())
            .unwrap_err(),
        HandshakeError::EnvelopeSignature
    );
}

#[test]
fn ack_member_missing_is_malformed() {
    for member in [
        "v",
        "task",
        "ctx",
        "kid",
        "ephS",
        "ackTagB64",
        "ts",
        "did",
        "infoHash",
        "exportCtxHash",
        "enc",
        "ephC",
        "sigB64",
    ] {
        let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
        let (expect, message) = peers.start();
        let mut outcome = peers.respond(&message).unwrap();
        let mut envelope: Map<String, Value> =
            serde_json::from_slice(&outcome.response.data).unwrap();
        envelope.remove(member);
        outcome.response.data = serde_json::to_vec(&envelope).unwrap();
        assert_eq!(
            expect
                .handle(&outcome.response, &peers.bob_verifying, t0())
                .unwrap_err(),
            HandshakeError::MalformedAck(MessageError::Missing(member))
        );
    }
}

#[test]
fn envelope_version_other_than_v1_is_rejected_even_when_signed() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, message) = peers.start();
    let mut outcome = peers.respond(&message).unwrap();
    edit_ack(&mut outcome.response, "v", "v1.1".into());
    resign_ack(&mut outcome.response, &peers);
    assert_eq!(
        expect
            .handle(&outcome.response, &peers.bob_verifying, t0())
            .unwrap_err(),
        HandshakeError::EnvelopeVersion
    );
}

#[test]
fn response_signed_by_another_key_than_the_responders_is_rejected() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, message) = peers.start();
    let outcome = peers.respond(&message).unwrap();
    let impostor = SigningKey::generate(KeyType::Ed25519, &mut rng())
        .unwrap()
        .verifying_key();
    assert_eq!(
        expect
            .handle(&outcome.response, &impostor, t0())
            .unwrap_err(),
        HandshakeError::EnvelopeSignature
    );
}

#[test]
fn response_from_a_responder_without_the_kem_key_fails_the_ack_tag() {
    // Mallory answers in Bob's name with Bob's signing key (say, stolen)
    // but without Bob's KEM secret: she cannot compute the seed.
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, message) = peers.start();
    let mut rng = rng();
    let bob_key = SigningKey::from_bytes(
        KeyType::Ed25519,
        peers_bob_key(&peers).to_bytes().as_slice(),
    )
    .unwrap();
    let mallory = Responder::new(
        V,
        ResponderConfig::new(BOB.into(), bob_key, X25519Secret::generate(&mut rng)),
    )
    .unwrap();
    let pending = mallory.accept(&message, t0()).unwrap();
    let outcome = mallory
        .complete(
            pending,
            &peers.alice_key.verifying_key(),
            t0(),
            &mut rng,
            &mut MemoryReplayStore::new(),
        )
        .unwrap();
    assert_eq!(
        expect
            .handle(&outcome.response, &peers.bob_verifying, t0())
            .unwrap_err(),
        HandshakeError::AckTagMismatch
    );
}

#[test]
fn failed_or_foreign_responses_are_rejected() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, message) = peers.start();
    let err = HandshakeError::ReplayedNonce.failure_response(V, &message.id);
    assert_eq!(
        expect.handle(&err, &peers.bob_verifying, t0()).unwrap_err(),
        HandshakeError::PeerRejected
    );

    let (expect, message) = peers.start();
    let mut outcome = peers.respond(&message).unwrap();
    outcome.response.message_id = "another-message".into();
    assert_eq!(
        expect
            .handle(&outcome.response, &peers.bob_verifying, t0())
            .unwrap_err(),
        HandshakeError::ResponseIdMismatch
    );
}

// ---------------------------------------------------------------------------
// What the peer learns, and what Debug shows
// ---------------------------------------------------------------------------

#[test]
fn failure_responses_carry_only_the_generic_text() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (_, mut message) = peers.start();
    message.signature = vec![1; 64];
    let err = peers.respond(&message).unwrap_err();
    let response = peers.bob.failure_response(&err, &message.id);
    assert!(!response.success);
    assert_eq!(response.error, "authentication failed");
    assert_eq!(response.message_id, message.id);
    assert!(response.data.is_empty());

    for err in [
        HandshakeError::WrongTask,
        HandshakeError::CookieRejected,
        HandshakeError::MalformedInit(MessageError::Missing("nonce")),
        HandshakeError::InitDidMismatch,
        HandshakeError::RespDidMismatch,
        HandshakeError::TimestampOutsideWindow,
        HandshakeError::InfoMismatch,
        HandshakeError::ExportContextMismatch,
        HandshakeError::TransportSignature,
        HandshakeError::ReplayedNonce,
        HandshakeError::ReplayStoreUnavailable,
        HandshakeError::HpkeDecapsulation,
        HandshakeError::AllZeroSharedSecret,
    ] {
        let response = err.failure_response(V, "id-1");
        assert_eq!(response.error, labels().hpke_generic_error, "{err:?}");
        assert!(!response.success);
        assert!(response.data.is_empty());
        let json = String::from_utf8(response.to_json()).unwrap();
        assert_eq!(
            json,
            r#"{"success":false,"message_id":"id-1","task_id":"hpke/complete@v1","error":"authentication failed"}"#
        );
    }
}

#[test]
fn debug_output_shows_no_secret() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, message) = peers.start();
    let shown = format!("{expect:?}");
    assert!(!shown.contains(&hex_encode(&expect.eph_c_for_tests().to_bytes()[..])));
    assert!(!shown.contains("exporter"));
    let outcome = peers.respond(&message).unwrap();
    let established = expect
        .handle(&outcome.response, &peers.bob_verifying, t0())
        .unwrap();
    let _ = format!("{established:?}{outcome:?}");

    let config = peers.bob.config_for_tests();
    let shown = format!("{config:?}");
    assert!(!shown.contains(&hex_encode(config.kem_secret.to_bytes().as_slice())));
    assert!(!shown.contains(&hex_encode(config.signing_key.to_bytes().as_slice())));

    let seed = [9u8; 32];
    let keys = TrafficKeys::derive(labels(), &seed);
    let shown = format!("{keys:?}");
    assert!(!shown.contains(&hex_encode(keys.c2s_key())));
    assert_eq!(shown, "TrafficKeys(<redacted>)");
}

#[test]
fn initiator_refuses_empty_or_oversized_configuration() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let key = SigningKey::generate(KeyType::Ed25519, &mut rng()).unwrap();
    let base = |ctx: &str, own: &str, cookie: Option<String>| InitiatorConfig {
        own_did: own.into(),
        signing_key: &key,
        peer_did: BOB.into(),
        peer_kem_public: peers.bob_kem_public,
        ctx_id: ctx.into(),
        session_config: SessionConfig::DEFAULT,
        cookie,
    };
    let cases = [
        (base("", ALICE, None), "ctx_id"),
        (base(&"c".repeat(257), ALICE, None), "ctx_id"),
        (base("ctx", "", None), "own_did"),
        (base("ctx", ALICE, Some("x".repeat(5000))), "cookie"),
    ];
    for (config, field) in cases {
        assert_eq!(
            Initiator::start(V, config, &mut peers.rng, t0()).unwrap_err(),
            HandshakeError::InvalidConfig(field)
        );
    }
}

// ---------------------------------------------------------------------------
// Property: any identities, context ids and keys complete and talk
// ---------------------------------------------------------------------------

fn did() -> impl Strategy<Value = String> {
    "[0-9a-f]{40}".prop_map(|hex| format!("did:sage:ethereum:0x{hex}"))
}

fn key_type() -> impl Strategy<Value = KeyType> {
    prop_oneof![
        Just(KeyType::Ed25519),
        Just(KeyType::Secp256k1),
        Just(KeyType::P256)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(16))]

    #[test]
    fn handshake_always_completes_and_records_flow_both_ways(
        alice_did in did(),
        bob_did in did(),
        ctx_id in "[A-Za-z0-9._:-]{1,64}",
        alice_type in key_type(),
        bob_type in key_type(),
        alice_seed in any::<[u8; 32]>(),
        bob_seed in any::<[u8; 32]>(),
        kem_seed in any::<[u8; 32]>(),
        records in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 1..6),
    ) {
        // A random scalar is out of range for the ECDSA curves with
        // negligible probability; fall back to a generated key then.
        let key = |t: KeyType, seed: &[u8; 32]| SigningKey::from_bytes(t, seed)
            .unwrap_or_else(|_| SigningKey::generate(t, &mut rng()).unwrap());
        let mut peers = Peers::from_keys(
            key(alice_type, &alice_seed),
            &alice_did,
            key(bob_type, &bob_seed),
            &bob_did,
            X25519Secret::from_bytes(kem_seed),
            |_| {},
        );
        let (expect, message) = peers.start_with(|c| c.ctx_id = ctx_id.clone());
        let (mut established, mut outcome) = peers.finish(expect, &message).unwrap();
        prop_assert_eq!(&established.ctx_id, &ctx_id);
        prop_assert_eq!(established.session.id(), outcome.session.id());
        let mut rng = rng();
        for record in &records {
            let c2s = established.session.encrypt(&mut rng, t0(), record).unwrap();
            prop_assert_eq!(&outcome.session.decrypt(t0(), &c2s).unwrap(), record);
            let s2c = outcome.session.encrypt(&mut rng, t0(), record).unwrap();
            prop_assert_eq!(&established.session.decrypt(t0(), &s2c).unwrap(), record);
        }
    }
}

#[test]
fn split_responder_steps_name_the_nonce_and_honour_the_callers_verdict() {
    use crate::replay::ReplayVerdict;
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (expect, init) = peers.start();
    let now = peers.now;
    let sender_key = peers.alice_key.verifying_key();

    // An asynchronous store answers "replayed": no session, the generic error.
    let pending = peers.bob.accept(&init, now).unwrap();
    let authenticated = peers.bob.authenticate(pending, &sender_key, now).unwrap();
    let claim = authenticated.replay_claim().clone();
    assert_eq!(claim.scope, format!("hpke:{}", init.context_id));
    assert!(claim.keep_until > now);
    assert_eq!(authenticated.sender_did(), peers.alice_did);
    let replayed = peers
        .bob
        .finish(authenticated, ReplayVerdict::Replayed, now, &mut peers.rng)
        .unwrap_err();
    assert_eq!(replayed, HandshakeError::ReplayedNonce);

    // A fresh verdict completes a handshake the initiator accepts.
    let pending = peers.bob.accept(&init, now).unwrap();
    let authenticated = peers.bob.authenticate(pending, &sender_key, now).unwrap();
    let outcome = peers
        .bob
        .finish(authenticated, ReplayVerdict::Fresh, now, &mut peers.rng)
        .unwrap();
    let established = expect
        .handle(&outcome.response, &peers.bob_verifying, now)
        .unwrap();
    assert_eq!(established.kid, outcome.kid);
}

#[test]
fn authenticate_rejects_a_signature_by_another_key_before_any_nonce_is_named() {
    let mut peers = Peers::new(KeyType::Ed25519, KeyType::Ed25519);
    let (_expect, init) = peers.start();
    let now = peers.now;
    let pending = peers.bob.accept(&init, now).unwrap();
    let wrong_key = SigningKey::generate(KeyType::Ed25519, &mut peers.rng)
        .unwrap()
        .verifying_key();
    let err = peers
        .bob
        .authenticate(pending, &wrong_key, now)
        .unwrap_err();
    assert!(matches!(err, HandshakeError::TransportSignature));
}
