//! The \[L\] HPKE handshake (PROTOCOL.md §6.5): each side's steps, the full
//! round trip, and, as the reference for PERFORMANCE.md, the primitives a
//! handshake is made of.
//!
//! Group `handshake` (per responder key type; the initiator signs with
//! Ed25519):
//! - `initiator_start`: HPKE encapsulation + export, ephemeral key, two
//!   UUIDs, payload JSON, payload signature;
//! - `responder_accept_complete`: `accept` (shape, DIDs, clock, §6.1
//!   strings) and `complete` (transport signature, replay store, HPKE
//!   open, ephemeral key and DH, combiner, session keys, ack tag, envelope
//!   JCS and signature);
//! - `initiator_handle`: envelope parse, echoes, DH, combiner, ack tag,
//!   envelope signature verification, session keys;
//! - `round_trip`: all of the above, in memory.
//!
//! Group `handshake_primitives`: X25519 key generation and DH; HPKE setup
//! (sender and receiver) with the 32-byte export; sign and verify for the
//! three key types over a real envelope; SHA-256 of the transcript; the
//! HKDF combiner; the HMAC counter expansion of the ack key; the ack tag;
//! JCS of an envelope (build, and parse + canonicalise).
//!
//! Randomness comes from the operating system, as in production: a
//! handshake draws a few dozen bytes, so the RNG is part of its cost.
//! Each handshake iteration uses a fresh context id and a fresh replay
//! store (built outside the timed part), since a responder accepts each
//! `(ctx, nonce)` once.

use std::hint::black_box;

use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use sage_core::handshake::messages::{AckEnvelope, ReceivedAck};
use sage_core::handshake::schedule::{self, Transcript};
use sage_core::handshake::{
    ExpectAck, Initiator, InitiatorConfig, Responder, ResponderConfig, ResponderOutcome,
};
use sage_core::primitives::{
    KeyType, SigningKey, VerifyingKey, X25519PublicKey, X25519Secret, sha256,
};
use sage_core::replay::MemoryReplayStore;
use sage_core::session::SessionConfig;
use sage_core::time::Timestamp;
use sage_core::transport::WireMessage;
use sage_core::version::ProtocolVersion;

const V: ProtocolVersion = ProtocolVersion::V1Draft1;
const ALICE: &str = "did:sage:ethereum:0x1111111111111111111111111111111111111111";
const BOB: &str = "did:sage:ethereum:0x2222222222222222222222222222222222222222";
const RESPONDER_KEYS: [KeyType; 3] = [KeyType::Ed25519, KeyType::Secp256k1, KeyType::P256];

fn now() -> Timestamp {
    Timestamp::from_unix_seconds(1_767_225_600)
}

/// The initiator's long-term key and what it knows of the responder.
struct Alice {
    key: SigningKey,
    bob_kem_public: X25519PublicKey,
    attempts: u64,
    rng: UnwrapErr<SysRng>,
}

/// The responder and the initiator key it resolves.
struct Bob {
    responder: Responder,
    verifying: VerifyingKey,
    alice_verifying: VerifyingKey,
    rng: UnwrapErr<SysRng>,
}

fn agents(bob_type: KeyType) -> (Alice, Bob) {
    let mut rng = UnwrapErr(SysRng);
    let alice_key = SigningKey::generate(KeyType::Ed25519, &mut rng).expect("signing key");
    let bob_key = SigningKey::generate(bob_type, &mut rng).expect("signing key");
    let bob_kem = X25519Secret::generate(&mut rng);
    let bob = Bob {
        verifying: bob_key.verifying_key(),
        alice_verifying: alice_key.verifying_key(),
        rng: UnwrapErr(SysRng),
        responder: Responder::new(V, ResponderConfig::new(BOB.into(), bob_key, bob_kem))
            .expect("responder"),
    };
    let alice = Alice {
        key: alice_key,
        bob_kem_public: bob.responder.kem_public_key(),
        attempts: 0,
        rng,
    };
    (alice, bob)
}

impl Alice {
    /// A new attempt, under a new context id.
    fn start(&mut self) -> (ExpectAck, WireMessage) {
        self.attempts += 1;
        let config = InitiatorConfig {
            own_did: ALICE.into(),
            signing_key: &self.key,
            peer_did: BOB.into(),
            peer_kem_public: self.bob_kem_public,
            ctx_id: format!("ctx-bench-{}", self.attempts),
            session_config: SessionConfig::DEFAULT,
            cookie: None,
        };
        Initiator::start(V, config, &mut self.rng, now()).expect("init message")
    }
}

impl Bob {
    fn respond(
        &mut self,
        message: &WireMessage,
        replay: &mut MemoryReplayStore,
    ) -> ResponderOutcome {
        let pending = self.responder.accept(message, now()).expect("accept");
        self.responder
            .complete(pending, &self.alice_verifying, now(), &mut self.rng, replay)
            .expect("complete")
    }
}

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake");
    for key_type in RESPONDER_KEYS {
        let name = key_type.name();
        let (mut alice, mut bob) = agents(key_type);
        let bob_verifying = bob.verifying;

        group.bench_function(BenchmarkId::new("initiator_start", name), |b| {
            b.iter(|| black_box(alice.start()));
        });

        group.bench_function(BenchmarkId::new("responder_accept_complete", name), |b| {
            b.iter_batched(
                || (alice.start().1, MemoryReplayStore::new()),
                |(message, mut replay)| black_box(bob.respond(&message, &mut replay)),
                BatchSize::SmallInput,
            );
        });

        group.bench_function(BenchmarkId::new("initiator_handle", name), |b| {
            b.iter_batched(
                || {
                    let (expect, message) = alice.start();
                    let outcome = bob.respond(&message, &mut MemoryReplayStore::new());
                    (expect, outcome.response)
                },
                |(expect, response)| {
                    black_box(
                        expect
                            .handle(&response, &bob_verifying, now())
                            .expect("handle"),
                    )
                },
                BatchSize::SmallInput,
            );
        });

        group.bench_function(BenchmarkId::new("round_trip", name), |b| {
            b.iter_batched(
                MemoryReplayStore::new,
                |mut replay| {
                    let (expect, message) = alice.start();
                    let outcome = bob.respond(&message, &mut replay);
                    let established = expect
                        .handle(&outcome.response, &bob_verifying, now())
                        .expect("handle");
                    black_box((established, outcome))
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

/// A real signed envelope and the inputs of its schedule.
struct Envelope {
    signed_json: Vec<u8>,
    signing_bytes: Vec<u8>,
}

fn envelope() -> Envelope {
    let (mut alice, mut bob) = agents(KeyType::Ed25519);
    let (_, message) = alice.start();
    let outcome = bob.respond(&message, &mut MemoryReplayStore::new());
    let ack = ReceivedAck::parse(&outcome.response.data).expect("ack envelope");
    Envelope {
        signing_bytes: ack.envelope.signing_bytes(),
        signed_json: outcome.response.data,
    }
}

fn primitives(c: &mut Criterion) {
    let mut group = c.benchmark_group("handshake_primitives");
    let mut rng = UnwrapErr(SysRng);
    let labels = V.labels();

    group.bench_function("x25519_keygen", |b| {
        b.iter(|| black_box(X25519Secret::generate(&mut rng).public_key()));
    });
    let ours = X25519Secret::generate(&mut rng);
    let theirs = X25519Secret::generate(&mut rng).public_key();
    group.bench_function("x25519_dh", |b| {
        b.iter(|| black_box(ours.diffie_hellman(black_box(&theirs)).expect("x25519")));
    });

    let info = schedule::info(labels, "ctx-bench", ALICE, BOB);
    let export_ctx = schedule::export_context(labels, "ctx-bench");
    let kem = X25519Secret::generate(&mut rng);
    let kem_public = kem.public_key();
    group.bench_function("hpke_setup_sender_export", |b| {
        b.iter(|| {
            black_box(
                schedule::hpke_seal_export(
                    &mut rng,
                    &kem_public,
                    info.as_bytes(),
                    export_ctx.as_bytes(),
                )
                .expect("hpke seal"),
            )
        });
    });
    let (enc, exporter) = schedule::hpke_seal_export(
        &mut rng,
        &kem_public,
        info.as_bytes(),
        export_ctx.as_bytes(),
    )
    .expect("hpke seal");
    group.bench_function("hpke_setup_receiver_export", |b| {
        b.iter(|| {
            black_box(
                schedule::hpke_open_export(&kem, &enc, info.as_bytes(), export_ctx.as_bytes())
                    .expect("hpke open"),
            )
        });
    });

    let envelope = envelope();
    for key_type in RESPONDER_KEYS {
        let key = SigningKey::generate(key_type, &mut rng).expect("signing key");
        let verifying = key.verifying_key();
        let signature = key.sign(&envelope.signing_bytes);
        group.bench_function(BenchmarkId::new("sign_envelope", key_type.name()), |b| {
            b.iter(|| black_box(key.sign(black_box(&envelope.signing_bytes))));
        });
        group.bench_function(BenchmarkId::new("verify_envelope", key_type.name()), |b| {
            b.iter(|| {
                verifying
                    .verify(black_box(&envelope.signing_bytes), &signature)
                    .expect("verify");
            });
        });
    }

    let (eph_c, eph_s) = ([1u8; 32], [2u8; 32]);
    let transcript = Transcript {
        info: info.as_bytes(),
        export_ctx: export_ctx.as_bytes(),
        enc: &enc,
        eph_c: &eph_c,
        eph_s: &eph_s,
        init_did: ALICE,
        resp_did: BOB,
    };
    group.bench_function("sha256_transcript", |b| {
        b.iter(|| black_box(black_box(&transcript).hash()));
    });
    group.bench_function("sha256_info_hash", |b| {
        b.iter(|| black_box(sha256(black_box(info.as_bytes()))));
    });
    let ss_e2e = [3u8; 32];
    group.bench_function("hkdf_combiner", |b| {
        b.iter(|| {
            black_box(schedule::combine(
                labels,
                export_ctx.as_bytes(),
                &exporter,
                &ss_e2e,
            ))
        });
    });
    let seed = schedule::combine(labels, export_ctx.as_bytes(), &exporter, &ss_e2e);
    group.bench_function("hmac_counter_expand_ack_key", |b| {
        b.iter(|| {
            black_box(schedule::counter_expand(
                seed.as_slice(),
                labels.ack_key.as_bytes(),
                32,
            ))
        });
    });
    let kid = "kid-3f6a9c12-8b7e-4d21-a5c4-0e1f2a3b4c5d";
    let nonce = "9c1d2e3f-4a5b-6c7d-8e9f-0a1b2c3d4e5f";
    group.bench_function("ack_tag", |b| {
        b.iter(|| {
            black_box(schedule::ack_tag(
                labels,
                &seed,
                "ctx-bench",
                nonce,
                kid,
                &transcript,
            ))
        });
    });

    let ack = ReceivedAck::parse(&envelope.signed_json).expect("ack envelope");
    let unsigned: AckEnvelope = ack.envelope.clone();
    group.bench_function("jcs_envelope_build", |b| {
        b.iter(|| black_box(black_box(&unsigned).signing_bytes()));
    });
    group.bench_function("jcs_envelope_parse_canonicalize", |b| {
        b.iter(|| {
            black_box(ReceivedAck::parse(black_box(&envelope.signed_json)).expect("ack envelope"))
        });
    });
    group.finish();
}

criterion_group!(benches, handshake, primitives);
criterion_main!(benches);
