//! RFC 9421 / RFC 9530 cost per message (PROTOCOL.md §5).
//!
//! `httpsig/sign-request-ed25519` and `httpsig/verify-request-ed25519` use the
//! `request-ed25519` vector request (a ~100-byte JSON-RPC body, seven covered
//! components); verification includes parsing both fields, the digest, the
//! base, the signature and a replay-store call; `httpsig/parse-request-signature`
//! is the parsing of the `Signature-Input` and `Signature` fields alone.
//! `content-digest/1KiB` is
//! SHA-256 plus base64 of a 1 KiB body.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use sage_core::httpsig::{
    ComponentId, HttpRequest, ParsedSignature, SignatureParams, VerifyOptions, content_digest,
    sign_request, sign_request_in_place,
};
use sage_core::primitives::{KeyType, SigningKey};
use sage_core::replay::{ReplayStore, ReplayStoreUnavailable, ReplayVerdict};
use sage_core::time::Timestamp;

const CREATED: i64 = 1_788_609_600;

/// The `request-ed25519` vector message, unsigned, and its parameters.
fn vector_request() -> (HttpRequest, SignatureParams) {
    let request = HttpRequest::new("POST", "https://agent-b.example/mcp/tools/call")
        .with_header("content-type", "application/json")
        .with_header("date", "Tue, 01 Sep 2026 12:00:00 GMT")
        .with_header(
            "x-sage-did",
            "did:sage:ethereum:0x1111111111111111111111111111111111111111",
        )
        .with_body(
            &br#"{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"text":"hello"}}}"#[..],
        );
    let covered = [
        "\"@method\"",
        "\"@target-uri\"",
        "\"@authority\"",
        "\"content-type\"",
        "\"content-digest\"",
        "\"x-sage-did\"",
        "\"date\"",
    ]
    .iter()
    .map(|c| ComponentId::parse(c).expect("vector component parses"))
    .collect();
    let mut params = SignatureParams::new(
        covered,
        "did:sage:ethereum:0x1111111111111111111111111111111111111111#key-1",
        Timestamp::from_unix_seconds(CREATED),
    );
    params.alg = Some("ed25519".into());
    params.nonce = Some("8f0c5b1c-0d1a-4c8e-9a51-6d2e4b7f1a10".into());
    (request, params)
}

/// A replay store that never remembers, so one message can be verified
/// repeatedly; the call itself is still made.
struct Forgetful;

impl ReplayStore for Forgetful {
    fn check_and_store(
        &mut self,
        _scope: &str,
        _value: &str,
        _now: Timestamp,
        _expires_at: Timestamp,
    ) -> Result<ReplayVerdict, ReplayStoreUnavailable> {
        Ok(ReplayVerdict::Fresh)
    }
}

fn bench_httpsig(c: &mut Criterion) {
    let key = SigningKey::from_label(KeyType::Ed25519, "sage-spec/vectors/ed25519/agent-a")
        .expect("vector key derives");
    let (mut request, params) = vector_request();
    sign_request_in_place(&mut request, &params, &key).expect("vector request signs");
    let verifying_key = key.verifying_key();
    let options = VerifyOptions::default();
    let now = Timestamp::from_unix_seconds(CREATED + 1);

    let mut group = c.benchmark_group("httpsig");
    group.bench_function("sign-request-ed25519", |b| {
        b.iter(|| sign_request(black_box(&request), black_box(&params), &key))
    });
    group.bench_function("parse-request-signature", |b| {
        b.iter(|| {
            ParsedSignature::from_request(black_box(&request), None)
                .expect("vector request signature parses")
        })
    });
    group.bench_function("verify-request-ed25519", |b| {
        b.iter(|| {
            ParsedSignature::from_request(black_box(&request), None)
                .and_then(|p| p.verify(&verifying_key, &options, now, &mut Forgetful))
                .expect("vector request verifies")
        })
    });
    group.finish();

    let body = vec![0x5a_u8; 1024];
    let mut group = c.benchmark_group("content-digest");
    group.throughput(Throughput::Bytes(1024));
    group.bench_function("1KiB", |b| b.iter(|| content_digest(black_box(&body))));
    group.finish();
}

criterion_group!(benches, bench_httpsig);
criterion_main!(benches);
