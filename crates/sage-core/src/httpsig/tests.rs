//! RFC 9421 / RFC 9530 against the `rfc9421.json` golden vectors, RFC 9421
//! Appendix B.2.6, and every §5 rejection rule.

use proptest::prelude::*;
use serde_json::Value;

use super::http1::{parse_request, parse_response, write_request, write_response};
use super::*;
use crate::encoding::{b64_decode, b64_encode, hex_decode};
use crate::primitives::{KeyType, SigningKey, VerifyingKey};
use crate::replay::MemoryReplayStore;
use crate::time::Timestamp;

// ---------------------------------------------------------------- fixtures

/// `created` of every request vector.
const CREATED: i64 = 1_788_609_600;

fn at(offset: i64) -> Timestamp {
    Timestamp::from_unix_seconds(CREATED + offset)
}

fn vector(name: &str) -> Value {
    crate::test_vectors::vector("rfc9421.json", name)
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap()
}

fn vector_headers(input: &Value) -> Vec<(String, String)> {
    input["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect()
}

fn vector_request(input: &Value) -> HttpRequest {
    HttpRequest {
        method: s(input, "method").to_owned(),
        target_uri: s(input, "url").to_owned(),
        headers: vector_headers(input),
        body: s(input, "body").as_bytes().to_vec(),
    }
}

fn vector_params(input: &Value) -> SignatureParams {
    let covered = input["covered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| ComponentId::parse(c.as_str().unwrap()).unwrap())
        .collect();
    let mut params = SignatureParams::new(
        covered,
        s(input, "keyid"),
        Timestamp::from_unix_seconds(input["created"].as_i64().unwrap()),
    );
    params.label = s(input, "signature_name").to_owned();
    params.alg = Some(s(input, "alg").to_owned());
    params.nonce = Some(s(input, "nonce").to_owned());
    params.tag = input["tag"].as_str().map(str::to_owned);
    params
}

fn vector_key(input: &Value) -> SigningKey {
    let key_type = KeyType::from_rfc9421_alg(s(input, "alg")).unwrap();
    SigningKey::from_label(key_type, s(input, "key_label")).unwrap()
}

/// The options §16.2 prescribes for the vectors: MaxAge disabled, nonce
/// required, ExpectedDID bound to the keyid.
fn vector_options(keyid: &str) -> VerifyOptions {
    VerifyOptions {
        max_age: None,
        expected_did: Some(keyid.split('#').next().unwrap().to_owned()),
        ..VerifyOptions::for_request()
    }
}

/// A moment long after the vectors' fixed `created`, so only a disabled
/// MaxAge lets them verify.
fn years_later() -> Timestamp {
    at(10 * 365 * 24 * 3600)
}

/// The `request-ed25519` request, signed in place, and its key.
fn signed_request() -> (HttpRequest, SigningKey) {
    signed_request_with(|_| {})
}

/// The `request-ed25519` request with adjusted parameters, signed in place.
fn signed_request_with(adjust: impl FnOnce(&mut SignatureParams)) -> (HttpRequest, SigningKey) {
    let input = vector("request-ed25519")["input"].clone();
    let mut request = vector_request(&input);
    let key = vector_key(&input);
    let mut params = vector_params(&input);
    adjust(&mut params);
    sign_request_in_place(&mut request, &params, &key).unwrap();
    (request, key)
}

fn verify_request(
    request: &HttpRequest,
    key: &VerifyingKey,
    options: &VerifyOptions,
    now: Timestamp,
) -> Result<VerifiedSignature, HttpSigError> {
    let mut store = MemoryReplayStore::new();
    ParsedSignature::from_request(request, None)?.verify(key, options, now, &mut store)
}

/// Sets `Signature-Input` to `input` and signs the base it implies, so a
/// test can state exactly which parameters a peer sent.
fn sign_raw_input(request: &mut HttpRequest, key: &SigningKey, input: &str) {
    request.set_header("Signature-Input", input);
    request.set_header("Signature", "sig1=:AAAA:");
    let base = ParsedSignature::from_request(request, Some("sig1"))
        .unwrap()
        .signature_base()
        .unwrap();
    set_signature(request, &key.sign(base.as_bytes()));
}

fn set_signature(request: &mut HttpRequest, signature: &[u8]) {
    request.set_header("Signature", format!("sig1=:{}:", b64_encode(signature)));
}

fn signature_bytes(request: &HttpRequest) -> Vec<u8> {
    let field = request.header("signature").unwrap();
    let b64 = field
        .strip_prefix("sig1=:")
        .unwrap()
        .strip_suffix(':')
        .unwrap();
    b64_decode(b64).unwrap()
}

fn vector_input_text() -> String {
    s(&vector("request-ed25519")["output"], "signature_input").to_owned()
}

// ------------------------------------------------------------- the vectors

#[test]
fn deterministic_request_vectors_reproduce_digest_input_base_and_signature() {
    for name in [
        "request-ed25519",
        "request-es256k",
        "request-target-ed25519",
        "request-tag-ed25519",
    ] {
        let v = vector(name);
        let (input, output) = (&v["input"], &v["output"]);
        let mut request = vector_request(input);
        let key = vector_key(input);
        let signed = sign_request_in_place(&mut request, &vector_params(input), &key).unwrap();
        assert_eq!(
            request.header("content-digest").unwrap(),
            s(output, "content_digest"),
            "{name}"
        );
        assert_eq!(
            signed.signature_input,
            s(output, "signature_input"),
            "{name}"
        );
        assert_eq!(signed.base, s(output, "signature_base"), "{name}");
        assert_eq!(signed.signature, s(output, "signature"), "{name}");
        assert_eq!(request.header("signature").unwrap(), s(output, "signature"));

        let parsed = ParsedSignature::from_request(&request, None).unwrap();
        assert_eq!(parsed.keyid(), s(input, "keyid"));
        let verified = parsed
            .verify(
                &key.verifying_key(),
                &vector_options(s(input, "keyid")),
                years_later(),
                &mut MemoryReplayStore::new(),
            )
            .unwrap();
        assert_eq!(
            verified.did(),
            "did:sage:ethereum:0x1111111111111111111111111111111111111111"
        );
        assert_eq!(verified.nonce(), Some(s(input, "nonce")));
        assert_eq!(verified.label(), "sig1");
    }
}

#[test]
fn p256_vector_base_rebuilds_and_its_stored_signature_verifies() {
    let v = vector("request-ecdsa-p256-sha256");
    let (input, output) = (&v["input"], &v["output"]);
    let request = vector_request(input)
        .with_header("Content-Digest", s(output, "content_digest"))
        .with_header("Signature-Input", s(output, "signature_input"))
        .with_header("Signature", s(output, "signature"));
    let parsed = ParsedSignature::from_request(&request, None).unwrap();
    assert_eq!(
        parsed.signature_base().unwrap(),
        s(output, "signature_base")
    );
    assert_eq!(parsed.alg(), Some("ecdsa-p256-sha256"));
    parsed
        .verify(
            &vector_key(input).verifying_key(),
            &vector_options(s(input, "keyid")),
            years_later(),
            &mut MemoryReplayStore::new(),
        )
        .unwrap();
}

#[test]
fn response_vector_is_reproduced_bound_to_its_signed_request() {
    let v = vector("response-ed25519");
    let (input, output) = (&v["input"], &v["output"]);
    let request_input = &input["request"];
    let mut request = vector_request(request_input);
    let request_signed = sign_request_in_place(
        &mut request,
        &vector_params(request_input),
        &vector_key(request_input),
    )
    .unwrap();
    assert_eq!(request_signed.signature, s(output, "request_signature"));
    assert_eq!(
        request_signed.signature_input,
        s(output, "request_signature_input")
    );

    let mut response = HttpResponse {
        status: u16::try_from(input["status"].as_u64().unwrap()).unwrap(),
        headers: vector_headers(input),
        body: s(input, "body").as_bytes().to_vec(),
    };
    let key = vector_key(input);
    let mut params = vector_params(input);
    params.label = s(input, "signature_name").to_owned();
    let signed = sign_response_in_place(&mut response, Some(&request), &params, &key).unwrap();
    assert_eq!(
        response.header("content-digest").unwrap(),
        s(output, "content_digest")
    );
    assert_eq!(signed.signature_input, s(output, "signature_input"));
    assert_eq!(signed.base, s(output, "signature_base"));
    assert_eq!(signed.signature, s(output, "signature"));

    let options = VerifyOptions {
        max_age: None,
        expected_did: Some("did:sage:ethereum:0x2222222222222222222222222222222222222222".into()),
        ..VerifyOptions::for_response()
    };
    let verified = ParsedSignature::from_response(&response, Some(&request), None)
        .unwrap()
        .verify(
            &key.verifying_key(),
            &options,
            years_later(),
            &mut MemoryReplayStore::new(),
        )
        .unwrap();
    assert_eq!(
        verified.nonce(),
        Some("8f0c5b1c-0d1a-4c8e-9a51-6d2e4b7f1a10-resp")
    );
}

#[test]
fn recommended_sets_match_the_vector_coverage() {
    let v = vector("response-ed25519");
    let covered_of = |input: &Value| -> Vec<String> {
        input["covered"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect()
    };
    let as_text = |ids: Vec<ComponentId>| -> Vec<String> {
        ids.iter().map(|c| c.as_str().to_owned()).collect()
    };
    let (request, _) = signed_request();
    assert_eq!(
        as_text(request_components(&request)),
        covered_of(&v["input"]["request"])
    );
    let response = HttpResponse::new(200)
        .with_header("Content-Type", "application/json")
        .with_body(&b"{}"[..]);
    assert_eq!(
        as_text(response_components(&response, Some(&request))),
        covered_of(&v["input"])
    );
    let bare = HttpRequest::new("GET", "https://agent-b.example/");
    assert_eq!(
        as_text(request_components(&bare)),
        ["\"@method\"", "\"@target-uri\"", "\"@authority\""]
    );
    assert_eq!(
        as_text(response_components(&HttpResponse::new(204), None)),
        ["\"@status\""]
    );
}

// ------------------------------------------------- RFC 9421 Appendix B.2.6

/// The RFC 9421 Appendix B.2 test request, signed as in B.2.6 with the
/// Appendix B.1.4 key `test-key-ed25519`.
const RFC9421_B26_MESSAGE: &str = concat!(
    "POST /foo?param=Value&Pet=dog HTTP/1.1\r\n",
    "Host: example.com\r\n",
    "Date: Tue, 20 Apr 2021 02:07:55 GMT\r\n",
    "Content-Type: application/json\r\n",
    "Content-Digest: sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:\r\n",
    "Content-Length: 18\r\n",
    "Signature-Input: sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"\r\n",
    "Signature: sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:\r\n",
    "\r\n",
    "{\"hello\": \"world\"}",
);

const RFC9421_B26_BASE: &str = concat!(
    "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n",
    "\"@method\": POST\n",
    "\"@path\": /foo\n",
    "\"@authority\": example.com\n",
    "\"content-type\": application/json\n",
    "\"content-length\": 18\n",
    "\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"",
);

/// PKCS#8 / SPKI DER of the B.1.4 key, base64; the raw key is the last 32 bytes.
const RFC9421_ED25519_PRIVATE: &str =
    "MC4CAQAwBQYDK2VwBCIEIJ+DYvh6SEqVTm50DFtMDoQikTmiCqirVv9mWG9qfSnF";
const RFC9421_ED25519_PUBLIC: &str = "MCowBQYDK2VwAyEAJrQLj5P/89iXES9+vFgrIy29clF9CC/oPPsw3c5D0bs=";

fn last_32(der_b64: &str) -> Vec<u8> {
    let der = b64_decode(der_b64).unwrap();
    der[der.len() - 32..].to_vec()
}

#[test]
fn rfc9421_b26_ed25519_signature_verifies_from_raw_http() {
    let request = parse_request(RFC9421_B26_MESSAGE.as_bytes(), Scheme::Https).unwrap();
    assert_eq!(
        request.target_uri,
        "https://example.com/foo?param=Value&Pet=dog"
    );
    let key = VerifyingKey::from_bytes(KeyType::Ed25519, &last_32(RFC9421_ED25519_PUBLIC)).unwrap();
    let parsed = ParsedSignature::from_request(&request, None).unwrap();
    assert_eq!(parsed.label(), "sig-b26");
    assert_eq!(parsed.signature_base().unwrap(), RFC9421_B26_BASE);
    // The RFC example has no nonce, no digest coverage and no @target-uri:
    // verify it under a non-strict policy with no required components.
    let options = VerifyOptions {
        max_age: None,
        require_nonce: false,
        strict: false,
        required_components: Some(Vec::new()),
        ..VerifyOptions::for_request()
    };
    let verified = parsed
        .verify(
            &key,
            &options,
            Timestamp::from_unix_seconds(1_618_884_473),
            &mut MemoryReplayStore::new(),
        )
        .unwrap();
    assert_eq!(verified.keyid(), "test-key-ed25519");
    assert_eq!(verified.did(), "test-key-ed25519");
    // The profile's default policy refuses it: no @target-uri.
    assert_eq!(
        parsed
            .verify(
                &key,
                &VerifyOptions {
                    max_age: None,
                    require_nonce: false,
                    ..VerifyOptions::for_request()
                },
                Timestamp::from_unix_seconds(1_618_884_473),
                &mut MemoryReplayStore::new()
            )
            .unwrap_err()
            .code(),
        "sig.coverage"
    );
}

#[test]
fn rfc9421_b26_private_key_reproduces_the_rfc_signature() {
    let key = SigningKey::from_bytes(KeyType::Ed25519, &last_32(RFC9421_ED25519_PRIVATE)).unwrap();
    assert_eq!(
        key.verifying_key().to_bytes(),
        last_32(RFC9421_ED25519_PUBLIC)
    );
    assert_eq!(
        b64_encode(&key.sign(RFC9421_B26_BASE.as_bytes())),
        "wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw=="
    );
}

#[test]
fn rfc9421_b26_sha512_only_digest_is_refused_as_unsupported() {
    let request = parse_request(RFC9421_B26_MESSAGE.as_bytes(), Scheme::Https).unwrap();
    let err = verify_content_digest(
        &request.header("content-digest").unwrap(),
        &request.body,
        MAX_BODY_LEN,
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::DigestAlgorithmUnsupported);
    assert_eq!(err.code(), "digest.missing");
}

#[test]
fn rfc9421_b26_signature_is_reproduced_by_the_signer_with_created_first() {
    let mut request = parse_request(RFC9421_B26_MESSAGE.as_bytes(), Scheme::Https).unwrap();
    request.remove_header("Signature-Input");
    request.remove_header("Signature");
    let covered = [
        "\"date\"",
        "\"@method\"",
        "\"@path\"",
        "\"@authority\"",
        "\"content-type\"",
        "\"content-length\"",
    ]
    .into_iter()
    .map(|c| ComponentId::parse(c).unwrap())
    .collect();
    let mut params = SignatureParams::new(
        covered,
        "test-key-ed25519",
        Timestamp::from_unix_seconds(1_618_884_473),
    );
    params.label = "sig-b26".into();
    params.order = Some(vec![SignatureParam::Created, SignatureParam::KeyId]);
    let key = SigningKey::from_bytes(KeyType::Ed25519, &last_32(RFC9421_ED25519_PRIVATE)).unwrap();

    let out = sign_request(&request, &params, &key).unwrap();
    assert_eq!(out.base, RFC9421_B26_BASE);
    assert_eq!(
        out.signature_input,
        "sig-b26=(\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\""
    );
    assert_eq!(
        out.signature,
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
    );
}

// ------------------------------------------------------- §5.5 rejections

#[test]
fn tampered_body_is_a_digest_mismatch() {
    let (mut request, key) = signed_request();
    request.body.push(b' ');
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::DigestMismatch);
    assert_eq!(err.code(), "digest.mismatch");
}

#[test]
fn tampered_body_with_a_matching_new_digest_fails_the_signature() {
    let (mut request, key) = signed_request();
    request.body = b"{\"other\":1}".to_vec();
    request.set_header("Content-Digest", content_digest(&request.body));
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::BadSignature);
    assert_eq!(err.code(), "sig.bad");
}

#[test]
fn tampered_covered_header_fails_the_signature() {
    let (mut request, key) = signed_request();
    request.set_header("Date", "Tue, 01 Sep 2026 12:00:01 GMT");
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::BadSignature);
}

#[test]
fn tampered_target_uri_fails_the_signature() {
    let (mut request, key) = signed_request();
    request.target_uri = "https://agent-b.example/mcp/tools/other".into();
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::BadSignature);
}

#[test]
fn uncovered_header_may_change() {
    let (mut request, key) = signed_request();
    request.set_header("User-Agent", "anything");
    verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap();
}

#[test]
fn garbled_digest_field_is_a_digest_mismatch() {
    let (mut request, key) = signed_request();
    request.set_header("Content-Digest", "sha-256=:AAAA:");
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::DigestMalformed);
    assert_eq!(err.code(), "digest.mismatch");
}

#[test]
fn covered_digest_without_the_field_is_digest_missing() {
    let (mut request, key) = signed_request();
    request.remove_header("Content-Digest");
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err.code(), "digest.missing");
}

#[test]
fn created_older_than_max_age_is_stale() {
    let (request, key) = signed_request();
    let options = VerifyOptions::default();
    verify_request(&request, &key.verifying_key(), &options, at(300)).unwrap();
    let err = verify_request(&request, &key.verifying_key(), &options, at(301)).unwrap_err();
    assert_eq!(err, HttpSigError::Stale(Staleness::TooOld));
    assert_eq!(err.code(), "sig.stale");
    let zero = VerifyOptions {
        max_age: Some(core::time::Duration::ZERO),
        ..options
    };
    verify_request(&request, &key.verifying_key(), &zero, at(100_000)).unwrap();
}

#[test]
fn created_beyond_the_clock_skew_is_stale() {
    let (request, key) = signed_request();
    let options = VerifyOptions::default();
    verify_request(&request, &key.verifying_key(), &options, at(-300)).unwrap();
    let err = verify_request(&request, &key.verifying_key(), &options, at(-301)).unwrap_err();
    assert_eq!(err, HttpSigError::Stale(Staleness::InFuture));
}

#[test]
fn passed_expires_is_stale() {
    let (request, key) = signed_request_with(|p| p.expires = Some(at(60)));
    assert!(
        request
            .header("signature-input")
            .unwrap()
            .contains(";expires=1788609660;")
    );
    let options = VerifyOptions::default();
    verify_request(&request, &key.verifying_key(), &options, at(60)).unwrap();
    let err = verify_request(&request, &key.verifying_key(), &options, at(61)).unwrap_err();
    assert_eq!(err, HttpSigError::Stale(Staleness::Expired));
}

#[test]
fn replayed_nonce_under_the_same_keyid_is_rejected_and_other_keyids_are_not() {
    let (request, key) = signed_request();
    let (other, _) = signed_request_with(|p| {
        p.keyid = "did:sage:ethereum:0x1111111111111111111111111111111111111111#key-2".into();
    });
    let options = VerifyOptions::default();
    let mut store = MemoryReplayStore::new();
    let verify = |r: &HttpRequest, store: &mut MemoryReplayStore| {
        ParsedSignature::from_request(r, None).unwrap().verify(
            &key.verifying_key(),
            &options,
            at(1),
            store,
        )
    };
    verify(&request, &mut store).unwrap();
    let err = verify(&request, &mut store).unwrap_err();
    assert_eq!(err, HttpSigError::Replayed);
    assert_eq!(err.code(), "sig.replay");
    verify(&other, &mut store).unwrap();
}

#[test]
fn nonce_is_not_burnt_by_a_message_that_fails() {
    let (request, key) = signed_request();
    let mut tampered = request.clone();
    tampered.set_header("Date", "Wed, 02 Sep 2026 12:00:00 GMT");
    let options = VerifyOptions::default();
    let mut store = MemoryReplayStore::new();
    let bad = ParsedSignature::from_request(&tampered, None)
        .unwrap()
        .verify(&key.verifying_key(), &options, at(1), &mut store);
    assert_eq!(bad.unwrap_err(), HttpSigError::BadSignature);
    assert!(store.is_empty());
    ParsedSignature::from_request(&request, None)
        .unwrap()
        .verify(&key.verifying_key(), &options, at(1), &mut store)
        .unwrap();
}

#[test]
fn nonce_is_remembered_while_the_message_could_still_pass() {
    let (request, key) = signed_request();
    let options = VerifyOptions::default();
    let mut store = MemoryReplayStore::new();
    let parsed = ParsedSignature::from_request(&request, None).unwrap();
    parsed
        .verify(&key.verifying_key(), &options, at(-200), &mut store)
        .unwrap();
    // Still inside created + max_age, long after now + max_age would be.
    assert_eq!(
        parsed
            .verify(&key.verifying_key(), &options, at(250), &mut store)
            .unwrap_err(),
        HttpSigError::Replayed
    );
}

#[test]
fn full_replay_store_fails_closed() {
    let (request, key) = signed_request();
    let mut store = MemoryReplayStore::with_capacity(0);
    let err = ParsedSignature::from_request(&request, None)
        .unwrap()
        .verify(
            &key.verifying_key(),
            &VerifyOptions::default(),
            at(1),
            &mut store,
        )
        .unwrap_err();
    assert_eq!(err, HttpSigError::ReplayStoreUnavailable);
}

#[test]
fn missing_nonce_is_a_coverage_failure_unless_not_required() {
    let (request, key) = signed_request_with(|p| p.nonce = None);
    assert!(!request.header("signature-input").unwrap().contains("nonce"));
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::MissingNonce);
    assert_eq!(err.code(), "sig.coverage");
    let lax = VerifyOptions {
        require_nonce: false,
        ..VerifyOptions::default()
    };
    verify_request(&request, &key.verifying_key(), &lax, at(1)).unwrap();
}

#[test]
fn alg_contradicting_the_key_is_refused_by_signer_and_verifier() {
    let input = vector("request-ed25519")["input"].clone();
    let key = vector_key(&input);
    let mut params = vector_params(&input);
    params.alg = Some("es256k".into());
    let err = sign_request(&vector_request(&input), &params, &key).unwrap_err();
    assert_eq!(err, HttpSigError::AlgMismatch);

    let (mut request, key) = signed_request();
    sign_raw_input(
        &mut request,
        &key,
        &vector_input_text().replace("alg=\"ed25519\"", "alg=\"es256k\""),
    );
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::AlgMismatch);
    assert_eq!(err.code(), "sig.alg-mismatch");
    // An unknown algorithm name contradicts every key.
    sign_raw_input(
        &mut request,
        &key,
        &vector_input_text().replace("alg=\"ed25519\"", "alg=\"hs2019\""),
    );
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::AlgMismatch);
}

#[test]
fn absent_alg_is_accepted_and_the_key_decides() {
    let (request, key) = signed_request_with(|p| p.alg = None);
    assert!(!request.header("signature-input").unwrap().contains("alg="));
    verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap();
    let other =
        SigningKey::from_label(KeyType::Secp256k1, "sage-spec/vectors/secp256k1/agent-a").unwrap();
    let err = verify_request(
        &request,
        &other.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::BadSignature);
}

#[test]
fn req_parameter_in_a_request_signature_is_rejected() {
    let (mut request, key) = signed_request();
    request.set_header(
        "Signature-Input",
        vector_input_text().replace("(\"@method\" ", "(\"@method\";req "),
    );
    let err = ParsedSignature::from_request(&request, None).unwrap_err();
    assert_eq!(
        err,
        HttpSigError::BaseMismatch(BaseError::RequestBindingInRequest)
    );
    assert_eq!(err.code(), "sig.base-mismatch");

    let input = vector("request-ed25519")["input"].clone();
    let mut params = vector_params(&input);
    params.covered[0] = params.covered[0].clone().with_req();
    assert_eq!(
        sign_request(&vector_request(&input), &params, &key).unwrap_err(),
        HttpSigError::BaseMismatch(BaseError::RequestBindingInRequest)
    );
}

#[test]
fn missing_required_component_is_a_coverage_failure() {
    let (request, key) = signed_request_with(|p| {
        p.covered.retain(|c| c.as_str() != "\"@authority\"");
    });
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(
        err,
        HttpSigError::NotCovered(ComponentId::derived(DerivedComponent::Authority))
    );
    assert_eq!(err.code(), "sig.coverage");

    let (request, key) = signed_request_with(|p| {
        p.covered.retain(|c| c.as_str() != "\"content-digest\"");
    });
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(
        err,
        HttpSigError::NotCovered(ComponentId::field("content-digest").unwrap())
    );
    // Strict mode demands the digest even under a custom required list.
    let custom = VerifyOptions {
        required_components: Some(Vec::new()),
        ..VerifyOptions::default()
    };
    assert_eq!(
        verify_request(&request, &key.verifying_key(), &custom, at(1))
            .unwrap_err()
            .code(),
        "sig.coverage"
    );
    let lax = VerifyOptions {
        strict: false,
        ..custom
    };
    verify_request(&request, &key.verifying_key(), &lax, at(1)).unwrap();
}

#[test]
fn custom_required_component_is_enforced() {
    let (request, key) = signed_request();
    let options = VerifyOptions {
        required_components: Some(vec![ComponentId::derived(DerivedComponent::Path)]),
        ..VerifyOptions::default()
    };
    assert_eq!(
        verify_request(&request, &key.verifying_key(), &options, at(1)).unwrap_err(),
        HttpSigError::NotCovered(ComponentId::derived(DerivedComponent::Path))
    );
}

#[test]
fn x_sage_did_differing_from_the_keyid_did_is_a_binding_failure() {
    let input = vector("request-ed25519")["input"].clone();
    let mut request = vector_request(&input);
    request.set_header(
        "X-SAGE-DID",
        "did:sage:ethereum:0x3333333333333333333333333333333333333333",
    );
    let key = vector_key(&input);
    sign_request_in_place(&mut request, &vector_params(&input), &key).unwrap();
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::SenderMismatch);
    assert_eq!(err.code(), "sig.binding");
}

#[test]
fn expected_did_key_id_and_authority_are_enforced() {
    let (request, key) = signed_request();
    let vk = key.verifying_key();
    let base = VerifyOptions::default();
    let check = |options: VerifyOptions| verify_request(&request, &vk, &options, at(1));

    check(VerifyOptions {
        expected_did: Some("did:sage:ethereum:0x1111111111111111111111111111111111111111".into()),
        ..base.clone()
    })
    .unwrap();
    let err = check(VerifyOptions {
        expected_did: Some("did:sage:ethereum:0x2222222222222222222222222222222222222222".into()),
        ..base.clone()
    })
    .unwrap_err();
    assert_eq!(err, HttpSigError::UnexpectedDid);
    assert_eq!(err.code(), "sig.binding");

    check(VerifyOptions {
        expected_key_id: Some(s(&vector("request-ed25519")["input"], "keyid").into()),
        ..base.clone()
    })
    .unwrap();
    assert_eq!(
        check(VerifyOptions {
            expected_key_id: Some(
                "did:sage:ethereum:0x1111111111111111111111111111111111111111#key-9".into()
            ),
            ..base.clone()
        })
        .unwrap_err(),
        HttpSigError::UnexpectedKeyId
    );

    check(VerifyOptions {
        expected_authorities: vec!["other.example".into(), "AGENT-B.example".into()],
        ..base.clone()
    })
    .unwrap();
    assert_eq!(
        check(VerifyOptions {
            expected_authorities: vec!["agent-b.example:8443".into()],
            ..base
        })
        .unwrap_err(),
        HttpSigError::UnexpectedAuthority
    );
}

#[test]
fn unknown_label_is_reported_and_the_first_label_is_the_default() {
    let (mut request, key) = signed_request();
    let err = ParsedSignature::from_request(&request, Some("sig2")).unwrap_err();
    assert_eq!(err, HttpSigError::UnknownLabel);
    assert_eq!(err.code(), "sig.unknown-label");

    // A second signature labelled `zz` listed first: `sig1` sorts first.
    let input = request.header("signature-input").unwrap();
    let signature = request.header("signature").unwrap();
    request.set_header(
        "Signature-Input",
        format!("zz=(\"@method\");keyid=\"k\";created=1, {input}"),
    );
    request.set_header("Signature", format!("zz=:AAAA:, {signature}"));
    let parsed = ParsedSignature::from_request(&request, None).unwrap();
    assert_eq!(parsed.label(), "sig1");
    parsed
        .verify(
            &key.verifying_key(),
            &VerifyOptions::default(),
            at(1),
            &mut MemoryReplayStore::new(),
        )
        .unwrap();
    assert_eq!(
        ParsedSignature::from_request(&request, Some("zz"))
            .unwrap()
            .keyid(),
        "k"
    );

    // Labelled in Signature-Input but absent from Signature.
    request.set_header("Signature", "zz=:AAAA:");
    assert_eq!(
        ParsedSignature::from_request(&request, Some("sig1")).unwrap_err(),
        HttpSigError::UnknownLabel
    );
}

#[test]
fn missing_signature_fields_are_sig_missing() {
    let (mut request, _) = signed_request();
    request.remove_header("Signature");
    let err = ParsedSignature::from_request(&request, None).unwrap_err();
    assert_eq!(err, HttpSigError::MissingSignature);
    assert_eq!(err.code(), "sig.missing");
    let unsigned = HttpRequest::new("GET", "https://agent-b.example/");
    assert_eq!(
        ParsedSignature::from_request(&unsigned, None).unwrap_err(),
        HttpSigError::MissingSignature
    );
}

#[test]
fn malformed_signature_input_is_refused_with_its_cause() {
    let (request, _) = signed_request();
    let vector_input = vector_input_text();
    let cases: &[(String, Malformed)] = &[
        ("sig1=(\"@method\"".into(), Malformed::SignatureInput),
        ("sig1=\"@method\"".into(), Malformed::SignatureInput),
        (
            "sig1=(\"@method\");keyid=\"k\";created=\"1\"".into(),
            Malformed::Parameter("created"),
        ),
        (
            "sig1=(\"@method\");keyid=\"k\";created=-1".into(),
            Malformed::Parameter("created"),
        ),
        (
            "sig1=(\"@method\");keyid=k;created=1".into(),
            Malformed::Parameter("keyid"),
        ),
        (
            "sig1=(\"@method\");created=1".into(),
            Malformed::MissingParameter("keyid"),
        ),
        (
            "sig1=(\"@method\");keyid=\"k\"".into(),
            Malformed::MissingParameter("created"),
        ),
        (
            "sig1=(\"Content-Type\");keyid=\"k\";created=1".into(),
            Malformed::ComponentIdentifier,
        ),
        (
            "sig1=(method);keyid=\"k\";created=1".into(),
            Malformed::ComponentIdentifier,
        ),
        (
            "sig1=(\"@signature-params\");keyid=\"k\";created=1".into(),
            Malformed::ComponentIdentifier,
        ),
        (
            "sig1=(\"@query-param\");keyid=\"k\";created=1".into(),
            Malformed::ComponentIdentifier,
        ),
        (
            "sig1=(\"@method\" \"@method\");keyid=\"k\";created=1".into(),
            Malformed::DuplicateComponent,
        ),
        (
            format!("{vector_input}, {vector_input}"),
            Malformed::DuplicateLabel,
        ),
    ];
    for (input, cause) in cases {
        let mut r = request.clone();
        r.set_header("Signature-Input", input.as_str());
        let err = ParsedSignature::from_request(&r, None).unwrap_err();
        assert_eq!(err, HttpSigError::Malformed(cause.clone()), "{input}");
        assert_eq!(err.code(), "sig.malformed");
    }
    let mut r = request.clone();
    r.set_header("Signature", "sig1=\"not bytes\"");
    assert_eq!(
        ParsedSignature::from_request(&r, None).unwrap_err(),
        HttpSigError::Malformed(Malformed::Signature)
    );
}

#[test]
fn unsupported_components_and_parameters_cannot_rebuild_the_base() {
    let (mut request, _) = signed_request();
    for (input, cause) in [
        (
            "sig1=(\"@fragment\");keyid=\"k\";created=1",
            BaseError::UnsupportedComponent("@fragment".into()),
        ),
        (
            "sig1=(\"content-type\";sf);keyid=\"k\";created=1",
            BaseError::UnsupportedParameter("sf".into()),
        ),
        (
            "sig1=(\"signature\";key=\"sig1\");keyid=\"k\";created=1",
            BaseError::UnsupportedParameter("key".into()),
        ),
        (
            "sig1=(\"@status\");keyid=\"k\";created=1",
            BaseError::WrongMessageKind("\"@status\"".into()),
        ),
        (
            "sig1=(\"x-missing\");keyid=\"k\";created=1",
            BaseError::MissingField("x-missing".into()),
        ),
    ] {
        request.set_header("Signature-Input", input);
        let err = ParsedSignature::from_request(&request, None)
            .and_then(|p| p.signature_base())
            .unwrap_err();
        assert_eq!(err, HttpSigError::BaseMismatch(cause), "{input}");
        assert_eq!(err.code(), "sig.base-mismatch");
    }
}

#[test]
fn unknown_parameters_and_tag_are_kept_verbatim_in_the_base() {
    let (mut request, key) = signed_request();
    // Reordered parameters, an unknown one, a tag and extra spaces inside
    // the inner list: the base must carry exactly these bytes.
    let raw = "(\"@method\"  \"@target-uri\" \"@authority\" \"content-digest\");created=1788609600;foo=\"bar\";nonce=\"n-1\";keyid=\"did:sage:ethereum:0x1111111111111111111111111111111111111111#key-1\";tag=\"sage-mcp\";alg=\"ed25519\";x=?1";
    sign_raw_input(&mut request, &key, &format!("sig1={raw}"));
    let parsed = ParsedSignature::from_request(&request, None).unwrap();
    assert_eq!(parsed.signature_params(), raw);
    assert_eq!(parsed.tag(), Some("sage-mcp"));
    assert!(
        parsed
            .signature_base()
            .unwrap()
            .ends_with(&format!("\"@signature-params\": {raw}"))
    );
    parsed
        .verify(
            &key.verifying_key(),
            &VerifyOptions::default(),
            at(1),
            &mut MemoryReplayStore::new(),
        )
        .unwrap();
}

#[test]
fn body_over_the_limit_is_size_exceeded() {
    let (request, key) = signed_request();
    let options = VerifyOptions {
        max_body_len: request.body.len() - 1,
        ..VerifyOptions::default()
    };
    let err = verify_request(&request, &key.verifying_key(), &options, at(1)).unwrap_err();
    assert_eq!(
        err,
        HttpSigError::BodyTooLarge {
            limit: request.body.len() - 1
        }
    );
    assert_eq!(err.code(), "size.exceeded");
    let big = vec![b'a'; MAX_BODY_LEN + 1];
    assert_eq!(
        verify_content_digest(&content_digest(&big), &big, MAX_BODY_LEN)
            .unwrap_err()
            .code(),
        "size.exceeded"
    );
}

// ------------------------------------------------- signature encodings

/// secp256k1 group order n, big-endian.
const SECP256K1_N: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

fn n_minus(s: &[u8]) -> Vec<u8> {
    let n = hex_decode(SECP256K1_N).unwrap();
    let mut out = vec![0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = i16::from(n[i]) - i16::from(s[i]) - borrow;
        borrow = i16::from(d < 0);
        if d < 0 {
            d += 256;
        }
        out[i] = u8::try_from(d).unwrap();
    }
    out
}

fn signed_es256k_request() -> (HttpRequest, SigningKey) {
    let input = vector("request-es256k")["input"].clone();
    let mut request = vector_request(&input);
    let key = vector_key(&input);
    sign_request_in_place(&mut request, &vector_params(&input), &key).unwrap();
    (request, key)
}

fn es256k_options() -> VerifyOptions {
    VerifyOptions {
        max_age: None,
        ..VerifyOptions::default()
    }
}

#[test]
fn secp256k1_high_s_is_accepted_after_normalisation() {
    let (mut request, key) = signed_es256k_request();
    let sig = signature_bytes(&request);
    assert_eq!(sig.len(), 65);
    let (r, s_low, v) = (&sig[..32], &sig[32..64], sig[64]);
    let s_high = n_minus(s_low);
    assert!(s_high.as_slice() > s_low, "the signer emits low S");
    let mut high = [r, &s_high].concat();
    high.push(v ^ 1);
    set_signature(&mut request, &high);
    verify_request(&request, &key.verifying_key(), &es256k_options(), at(1)).unwrap();
}

#[test]
fn secp256k1_64_byte_and_der_forms_are_accepted() {
    let (mut request, key) = signed_es256k_request();
    let sig = signature_bytes(&request);
    set_signature(&mut request, &sig[..64]);
    verify_request(&request, &key.verifying_key(), &es256k_options(), at(1)).unwrap();
    let der = k256::ecdsa::Signature::from_slice(&sig[..64])
        .unwrap()
        .to_der();
    set_signature(&mut request, &der.to_bytes());
    verify_request(&request, &key.verifying_key(), &es256k_options(), at(1)).unwrap();
}

#[test]
fn p256_der_signature_is_rejected_in_rfc9421() {
    let key = SigningKey::from_label(KeyType::P256, "sage-spec/vectors/p256/agent-a").unwrap();
    let input = vector("request-ed25519")["input"].clone();
    let mut request = vector_request(&input);
    let mut params = vector_params(&input);
    params.alg = Some("ecdsa-p256-sha256".into());
    sign_request_in_place(&mut request, &params, &key).unwrap();
    let raw = signature_bytes(&request);
    assert_eq!(raw.len(), 64);
    verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap();
    let der = p256::ecdsa::Signature::from_slice(&raw).unwrap().to_der();
    set_signature(&mut request, &der.to_bytes());
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::BadSignature);
}

#[test]
fn ed25519_signature_of_the_wrong_length_is_a_bad_signature() {
    let (mut request, key) = signed_request();
    let mut sig = signature_bytes(&request);
    sig.push(0);
    set_signature(&mut request, &sig);
    let err = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap_err();
    assert_eq!(err, HttpSigError::BadSignature);
}

// ------------------------------------------------------------ responses

fn signed_exchange() -> (HttpRequest, HttpResponse, SigningKey) {
    let (request, _) = signed_request();
    let key =
        SigningKey::from_label(KeyType::Ed25519, "sage-spec/vectors/ed25519/agent-b").unwrap();
    let mut response = HttpResponse::new(200)
        .with_header("Content-Type", "application/json")
        .with_body(&b"{\"ok\":true}"[..]);
    let params = SignatureParams::new(
        response_components(&response, Some(&request)),
        "did:sage:ethereum:0x2222222222222222222222222222222222222222#key-1",
        at(1),
    );
    sign_response_in_place(&mut response, Some(&request), &params, &key).unwrap();
    (request, response, key)
}

#[test]
fn response_without_nonce_verifies_bound_to_its_request() {
    let (request, response, key) = signed_exchange();
    let parsed = ParsedSignature::from_response(&response, Some(&request), None).unwrap();
    assert_eq!(parsed.nonce(), None);
    parsed
        .verify(
            &key.verifying_key(),
            &VerifyOptions::for_response(),
            at(2),
            &mut MemoryReplayStore::new(),
        )
        .unwrap();
    // Bound to the request: a different request breaks it.
    let mut other = request.clone();
    other.target_uri = "https://agent-b.example/mcp/other".into();
    let err = ParsedSignature::from_response(&response, Some(&other), None)
        .unwrap()
        .verify(
            &key.verifying_key(),
            &VerifyOptions::for_response(),
            at(2),
            &mut MemoryReplayStore::new(),
        )
        .unwrap_err();
    assert_eq!(err, HttpSigError::BadSignature);
}

#[test]
fn response_without_request_binding_is_unbound_in_strict_mode() {
    let (request, mut response, key) = signed_exchange();
    let params = SignatureParams::new(
        response_components(&response, None),
        "did:sage:ethereum:0x2222222222222222222222222222222222222222#key-1",
        at(1),
    );
    sign_response_in_place(&mut response, None, &params, &key).unwrap();
    let parsed = ParsedSignature::from_response(&response, Some(&request), None).unwrap();
    let err = parsed
        .verify(
            &key.verifying_key(),
            &VerifyOptions::for_response(),
            at(2),
            &mut MemoryReplayStore::new(),
        )
        .unwrap_err();
    assert_eq!(
        err,
        HttpSigError::Unbound(ComponentId::derived(DerivedComponent::Method).with_req())
    );
    assert_eq!(err.code(), "sig.binding");
    let lax = VerifyOptions {
        strict: false,
        ..VerifyOptions::for_response()
    };
    parsed
        .verify(
            &key.verifying_key(),
            &lax,
            at(2),
            &mut MemoryReplayStore::new(),
        )
        .unwrap();
}

#[test]
fn response_req_components_without_the_request_cannot_rebuild_the_base() {
    let (_, response, key) = signed_exchange();
    let err = ParsedSignature::from_response(&response, None, None)
        .unwrap()
        .verify(
            &key.verifying_key(),
            &VerifyOptions {
                strict: false,
                ..VerifyOptions::for_response()
            },
            at(2),
            &mut MemoryReplayStore::new(),
        )
        .unwrap_err();
    assert_eq!(err, HttpSigError::BaseMismatch(BaseError::MissingRequest));
}

#[test]
fn request_components_on_a_response_need_req() {
    let response = HttpResponse::new(200);
    let params = SignatureParams::new(
        vec![ComponentId::derived(DerivedComponent::Method)],
        "k",
        at(0),
    );
    let key = SigningKey::from_label(KeyType::Ed25519, "x").unwrap();
    assert_eq!(
        sign_response(&response, None, &params, &key).unwrap_err(),
        HttpSigError::BaseMismatch(BaseError::WrongMessageKind("\"@method\"".into()))
    );
}

// ----------------------------------------------------------- components

fn base_line(request: &HttpRequest, component: &str) -> Result<String, HttpSigError> {
    let key = SigningKey::from_label(KeyType::Ed25519, "x").unwrap();
    let params = SignatureParams::new(vec![ComponentId::parse(component)?], "k", at(0));
    let base = sign_request(request, &params, &key)?.base;
    Ok(base.lines().next().unwrap().to_owned())
}

#[test]
fn authority_is_lower_case_and_keeps_only_non_default_ports() {
    for (uri, authority) in [
        ("https://Agent-B.Example/x", "agent-b.example"),
        ("https://agent-b.example:443/x", "agent-b.example"),
        ("https://agent-b.example:8443/x", "agent-b.example:8443"),
        ("http://agent-b.example:80", "agent-b.example"),
        ("http://agent-b.example:443/", "agent-b.example:443"),
        ("https://[::1]:8443/", "[::1]:8443"),
    ] {
        let line = base_line(&HttpRequest::new("GET", uri), "\"@authority\"").unwrap();
        assert_eq!(line, format!("\"@authority\": {authority}"), "{uri}");
    }
}

#[test]
fn path_query_request_target_and_scheme_follow_the_table() {
    let with_query = HttpRequest::new("GET", "http://h.example/a/b?x=1&y=2");
    let without = HttpRequest::new("GET", "https://h.example");
    let cases = [
        (&with_query, "\"@path\"", "/a/b"),
        (&with_query, "\"@query\"", "?x=1&y=2"),
        (&with_query, "\"@request-target\"", "/a/b?x=1&y=2"),
        (&with_query, "\"@scheme\"", "http"),
        (&with_query, "\"@method\"", "GET"),
        (&without, "\"@path\"", "/"),
        (&without, "\"@query\"", "?"),
        (&without, "\"@request-target\"", "/"),
        (&without, "\"@target-uri\"", "https://h.example"),
    ];
    for (request, component, value) in cases {
        assert_eq!(
            base_line(request, component).unwrap(),
            format!("{component}: {value}")
        );
    }
}

#[test]
fn query_param_follows_rfc9421_section_2_2_8() {
    let request = HttpRequest::new(
        "GET",
        "https://example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something",
    );
    for (name, value) in [
        ("var", "this%20is%20a%20big%0Amultiline%20value"),
        ("bar", "with%20plus%20whitespace"),
        ("fa%C3%A7ade%22%3A%20", "something"),
    ] {
        let component = format!("\"@query-param\";name=\"{name}\"");
        assert_eq!(
            base_line(&request, &component).unwrap(),
            format!("{component}: {value}")
        );
    }
    assert_eq!(
        base_line(&request, "\"@query-param\";name=\"absent\"").unwrap_err(),
        HttpSigError::BaseMismatch(BaseError::QueryParamAbsent("absent".into()))
    );
    let repeated = HttpRequest::new("GET", "https://example.com/?a=1&a=2");
    assert_eq!(
        base_line(&repeated, "\"@query-param\";name=\"a\"").unwrap_err(),
        HttpSigError::BaseMismatch(BaseError::QueryParamRepeated("a".into()))
    );
}

#[test]
fn repeated_fields_are_trimmed_and_joined() {
    let request = HttpRequest::new("GET", "https://h.example/")
        .with_header("X-Multi", "  one ")
        .with_header("x-multi", "\ttwo")
        .with_header("X-Empty", "");
    assert_eq!(
        base_line(&request, "\"x-multi\"").unwrap(),
        "\"x-multi\": one, two"
    );
    assert_eq!(base_line(&request, "\"x-empty\"").unwrap(), "\"x-empty\": ");
}

#[test]
fn field_values_with_line_breaks_cannot_enter_a_base() {
    let request =
        HttpRequest::new("GET", "https://h.example/").with_header("X-Evil", "a\n\"@method\": GET");
    assert_eq!(
        base_line(&request, "\"x-evil\"").unwrap_err(),
        HttpSigError::BaseMismatch(BaseError::InvalidFieldValue("x-evil".into()))
    );
}

#[test]
fn invalid_target_uris_cannot_enter_a_base() {
    for uri in [
        "/relative",
        "ftp://h.example/",
        "https://user@h.example/",
        "https://h.example/#frag",
        "https://h.example/a b",
        "https://:443/",
        "https://h.example:99999/",
    ] {
        assert_eq!(
            base_line(&HttpRequest::new("GET", uri), "\"@authority\"").unwrap_err(),
            HttpSigError::BaseMismatch(BaseError::InvalidTargetUri),
            "{uri}"
        );
    }
}

#[test]
fn component_identifiers_compare_by_meaning_and_serialise_canonically() {
    let a = ComponentId::parse("\"@query-param\";name=\"x\";req").unwrap();
    let b = ComponentId::parse("\"@query-param\";req=?1;name=\"x\"").unwrap();
    assert_eq!(a, b);
    assert_eq!(b.as_str(), "\"@query-param\";req;name=\"x\"");
    assert_eq!(
        ComponentId::query_param("x").unwrap().with_req().as_str(),
        "\"@query-param\";name=\"x\";req"
    );
    assert_eq!(
        ComponentId::field("Content-Type").unwrap().as_str(),
        "\"content-type\""
    );
    assert!(ComponentId::field("bad name").is_err());
    assert_eq!(
        ComponentId::parse("\"content-type\";bs").unwrap_err(),
        HttpSigError::BaseMismatch(BaseError::UnsupportedParameter("bs".into()))
    );
    assert_eq!(
        ComponentId::parse("\"@method\";req").unwrap().to_string(),
        "\"@method\";req"
    );
}

#[test]
fn signer_refuses_parameters_it_cannot_serialise() {
    let request = HttpRequest::new("GET", "https://h.example/");
    let key = SigningKey::from_label(KeyType::Ed25519, "x").unwrap();
    let method = || vec![ComponentId::derived(DerivedComponent::Method)];
    let mut bad_label = SignatureParams::new(method(), "k", at(0));
    bad_label.label = "Sig1".into();
    assert_eq!(
        sign_request(&request, &bad_label, &key).unwrap_err(),
        HttpSigError::Malformed(Malformed::SignerInput("label"))
    );
    let bad_keyid = SignatureParams::new(method(), "k\n", at(0));
    assert_eq!(
        sign_request(&request, &bad_keyid, &key).unwrap_err(),
        HttpSigError::Malformed(Malformed::SignerInput("keyid"))
    );
    let negative = SignatureParams::new(method(), "k", Timestamp::from_unix_seconds(-1));
    assert_eq!(
        sign_request(&request, &negative, &key).unwrap_err(),
        HttpSigError::Malformed(Malformed::SignerInput("created"))
    );
    let twice = SignatureParams::new([method(), method()].concat(), "k", at(0));
    assert_eq!(
        sign_request(&request, &twice, &key).unwrap_err(),
        HttpSigError::Malformed(Malformed::DuplicateComponent)
    );
}

#[test]
fn signer_escapes_strings_and_skips_empty_parameters() {
    let request = HttpRequest::new("GET", "https://h.example/");
    let key = SigningKey::from_label(KeyType::Ed25519, "x").unwrap();
    let mut params = SignatureParams::new(
        vec![ComponentId::derived(DerivedComponent::Method)],
        "a\"b\\c",
        at(0),
    );
    params.nonce = Some(String::new());
    params.tag = Some("t".into());
    let out = sign_request(&request, &params, &key).unwrap();
    assert_eq!(
        out.signature_input,
        "sig1=(\"@method\");keyid=\"a\\\"b\\\\c\";created=1788609600;tag=\"t\""
    );
    let mut signed = request.clone();
    signed.set_header("Signature-Input", out.signature_input);
    signed.set_header("Signature", out.signature);
    assert_eq!(
        ParsedSignature::from_request(&signed, None)
            .unwrap()
            .keyid(),
        "a\"b\\c"
    );
}

/// A request with all six parameters present, signed under `order`.
fn sign_with_order(order: Option<Vec<SignatureParam>>) -> Result<SignatureOutput, HttpSigError> {
    let request = HttpRequest::new("GET", "https://h.example/");
    let key = SigningKey::from_label(KeyType::Ed25519, "x").unwrap();
    let mut params = SignatureParams::new(
        vec![ComponentId::derived(DerivedComponent::Method)],
        "k",
        at(0),
    );
    params.alg = Some("ed25519".into());
    params.expires = Some(at(60));
    params.nonce = Some("n".into());
    params.tag = Some("t".into());
    params.order = order;
    sign_request(&request, &params, &key)
}

fn parameter_text(out: &SignatureOutput) -> &str {
    out.signature_input
        .strip_prefix("sig1=(\"@method\")")
        .unwrap()
}

#[test]
fn signer_writes_the_l_order_by_default_and_for_the_explicit_default_order() {
    let default = sign_with_order(None).unwrap();
    assert_eq!(
        parameter_text(&default),
        ";keyid=\"k\";alg=\"ed25519\";created=1788609600;expires=1788609660;nonce=\"n\";tag=\"t\""
    );
    let explicit = sign_with_order(Some(SignatureParam::DEFAULT_ORDER.to_vec())).unwrap();
    assert_eq!(explicit, default);
    assert_eq!(sign_with_order(Some(Vec::new())).unwrap(), default);
}

#[test]
fn listed_parameters_come_first_and_the_rest_follow_in_the_default_order() {
    let out = sign_with_order(Some(vec![SignatureParam::Tag, SignatureParam::Created])).unwrap();
    assert_eq!(
        parameter_text(&out),
        ";tag=\"t\";created=1788609600;keyid=\"k\";alg=\"ed25519\";expires=1788609660;nonce=\"n\""
    );
    assert!(out.base.ends_with(&format!(
        "\"@signature-params\": {}",
        out.signature_input.strip_prefix("sig1=").unwrap()
    )));
}

#[test]
fn listed_parameters_that_are_absent_are_skipped() {
    let request = HttpRequest::new("GET", "https://h.example/");
    let key = SigningKey::from_label(KeyType::Ed25519, "x").unwrap();
    let mut params = SignatureParams::new(
        vec![ComponentId::derived(DerivedComponent::Method)],
        "k",
        at(0),
    );
    params.nonce = Some(String::new());
    params.order = Some(vec![
        SignatureParam::Expires,
        SignatureParam::Nonce,
        SignatureParam::Created,
        SignatureParam::Alg,
    ]);
    let out = sign_request(&request, &params, &key).unwrap();
    assert_eq!(
        out.signature_input,
        "sig1=(\"@method\");created=1788609600;keyid=\"k\""
    );
}

#[test]
fn parameter_listed_twice_in_the_order_is_refused() {
    let err = sign_with_order(Some(vec![
        SignatureParam::Created,
        SignatureParam::KeyId,
        SignatureParam::Created,
    ]))
    .unwrap_err();
    assert_eq!(
        err,
        HttpSigError::Malformed(Malformed::DuplicateParameter("created"))
    );
    assert_eq!(err.code(), "sig.malformed");
    assert!(err.to_string().contains("created"), "{err}");
}

#[test]
fn request_signed_in_a_caller_chosen_order_verifies() {
    let (request, key) = signed_request_with(|p| {
        p.order = Some(vec![
            SignatureParam::Created,
            SignatureParam::Nonce,
            SignatureParam::KeyId,
        ]);
    });
    let input = request.header("signature-input").unwrap();
    assert!(input.contains(");created=1788609600;nonce="), "{input}");
    let verified = verify_request(
        &request,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap();
    assert_eq!(verified.created(), at(0));
}

#[test]
fn signature_param_names_are_the_rfc_9421_names_and_parse_back() {
    let names: Vec<&str> = SignatureParam::DEFAULT_ORDER
        .iter()
        .map(|p| p.name())
        .collect();
    assert_eq!(
        names,
        ["keyid", "alg", "created", "expires", "nonce", "tag"]
    );
    for param in SignatureParam::DEFAULT_ORDER {
        assert_eq!(SignatureParam::from_name(param.name()), Some(param));
    }
    for unknown in ["", "Created", "created ", "key_id", "sig1"] {
        assert_eq!(SignatureParam::from_name(unknown), None, "{unknown:?}");
    }
}

// --------------------------------------------------------------- digest

#[test]
fn content_digest_matches_the_vector_and_checks_in_constant_time() {
    let v = vector("request-ed25519");
    let body = s(&v["input"], "body").as_bytes();
    let digest = content_digest(body);
    assert_eq!(digest, s(&v["output"], "content_digest"));
    verify_content_digest(&digest, body, MAX_BODY_LEN).unwrap();
    let with_others = format!("sha-512=:AAAA:, {digest}, unixsum=:AAAA:");
    verify_content_digest(&with_others, body, MAX_BODY_LEN).unwrap();
    assert_eq!(
        verify_content_digest(&digest, b"other", MAX_BODY_LEN).unwrap_err(),
        HttpSigError::DigestMismatch
    );
    for malformed in [
        "sha-256",
        "sha-256=\"x\"",
        "sha-256=:AAAA:",
        "sha-256=:",
        &format!("{digest}, {digest}"),
    ] {
        assert_eq!(
            verify_content_digest(malformed, body, MAX_BODY_LEN).unwrap_err(),
            HttpSigError::DigestMalformed,
            "{malformed}"
        );
    }
}

// ---------------------------------------------------------------- http1

#[test]
fn raw_request_parses_with_crlf_or_lf_and_round_trips() {
    let (request, key) = signed_request();
    let bytes = write_request(&request).unwrap();
    let text = String::from_utf8(bytes.clone()).unwrap();
    assert!(text.starts_with("POST /mcp/tools/call HTTP/1.1\r\nHost: agent-b.example\r\n"));
    let length_line = format!("\r\nContent-Length: {}\r\n\r\n{{", request.body.len());
    assert!(text.contains(&length_line));
    let parsed = parse_request(&bytes, Scheme::Https).unwrap();
    assert_eq!(parsed.target_uri, request.target_uri);
    assert_eq!(parsed.body, request.body);
    verify_request(
        &parsed,
        &key.verifying_key(),
        &VerifyOptions::default(),
        at(1),
    )
    .unwrap();
    let lf = parse_request(text.replace("\r\n", "\n").as_bytes(), Scheme::Https).unwrap();
    assert_eq!(lf, parsed);
}

#[test]
fn raw_request_accepts_absolute_form_and_the_callers_scheme() {
    let r = parse_request(
        b"GET https://h.example:8443/p?q HTTP/1.1\r\nHost: ignored\r\n\r\n",
        Scheme::Http,
    )
    .unwrap();
    assert_eq!(r.target_uri, "https://h.example:8443/p?q");
    let r = parse_request(b"GET /p HTTP/1.1\nHost: h.example\n", Scheme::Http).unwrap();
    assert_eq!(r.target_uri, "http://h.example/p");
    assert!(r.body.is_empty());
}

/// Regression (found by the `http1` fuzz target): an absolute-form target
/// with an upper-case scheme and no path was stored as received, so writing
/// the request out and parsing it again changed `@target-uri`.
#[test]
fn raw_request_targets_are_stored_in_normal_form() {
    let r = parse_request(b"GET HTTP://H.Example:443 HTTP/1.0\r\n\r\n", Scheme::Https).unwrap();
    assert_eq!(r.target_uri, "http://h.example:443/");
    let r = parse_request(
        b"GET HTTPS://H.Example:443?x=1 HTTP/1.1\r\n\r\n",
        Scheme::Https,
    )
    .unwrap();
    assert_eq!(r.target_uri, "https://h.example/?x=1");
    let r = parse_request(
        b"GET /p HTTP/1.1\r\nHost: Agent.Example:80\r\n\r\n",
        Scheme::Http,
    )
    .unwrap();
    assert_eq!(r.target_uri, "http://agent.example/p");
    let again = parse_request(&write_request(&r).unwrap(), Scheme::Http).unwrap();
    assert_eq!(again.target_uri, r.target_uri);
}

#[test]
fn raw_messages_with_framing_problems_are_refused() {
    let cases: &[(&[u8], Http1Error)] = &[
        (b"", Http1Error::Empty),
        (b"GET /p\r\n\r\n", Http1Error::InvalidRequestLine),
        (b"GET /p HTTP/2.0\r\nHost: h\r\n\r\n", Http1Error::UnsupportedVersion),
        (b"GET * HTTP/1.1\r\nHost: h\r\n\r\n", Http1Error::UnsupportedTargetForm),
        (b"GET /p HTTP/1.1\r\n\r\n", Http1Error::MissingHost),
        (b"GET /p HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", Http1Error::DuplicateHost),
        (b"GET /p HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n continued\r\n\r\n", Http1Error::ObsoleteLineFolding),
        (b"GET /p HTTP/1.1\r\nHost : a\r\n\r\n", Http1Error::InvalidHeaderLine),
        (b"GET /p HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", Http1Error::InvalidHeaderLine),
        (b"GET /p HTTP/1.1\r\nHost: a\r\nX: \xff\r\n\r\n", Http1Error::NotUtf8),
        (b"GET /p HTTP/1.1\r\nHost: u@a\r\n\r\n", Http1Error::InvalidTarget),
        (b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nabc", Http1Error::ContentLengthMismatch { declared: 5, actual: 3 }),
        (b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabc", Http1Error::InvalidContentLength),
        (b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\nabc", Http1Error::InvalidContentLength),
        (b"POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n", Http1Error::TransferEncodingUnsupported),
    ];
    for (bytes, expected) in cases {
        assert_eq!(
            parse_request(bytes, Scheme::Https).unwrap_err(),
            *expected,
            "{}",
            String::from_utf8_lossy(bytes)
        );
    }
    let ok = parse_request(
        b"POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
        Scheme::Https,
    )
    .unwrap();
    assert_eq!(ok.body, b"abc");
}

#[test]
fn raw_response_parses_and_round_trips() {
    let (_, response, _) = signed_exchange();
    let bytes = write_response(&response).unwrap();
    assert!(bytes.starts_with(b"HTTP/1.1 200 OK\r\n"));
    assert_eq!(
        parse_response(&bytes).unwrap(),
        HttpResponse {
            headers: [
                response.headers.clone(),
                vec![("Content-Length".into(), "11".into())]
            ]
            .concat(),
            ..response
        }
    );
    assert_eq!(parse_response(b"HTTP/1.1 204\r\n\r\n").unwrap().status, 204);
    assert_eq!(
        parse_response(b"HTTP/1.1 20 OK\r\n\r\n").unwrap_err(),
        Http1Error::InvalidStatusLine
    );
    assert_eq!(
        parse_response(b"HTTP/1.1 600 X\r\n\r\n").unwrap_err(),
        Http1Error::InvalidStatusLine
    );
    assert_eq!(
        write_response(&HttpResponse::new(42)).unwrap_err(),
        Http1Error::InvalidStatusLine
    );
    let bad = HttpRequest::new("GET", "https://h.example/").with_header("X", "a\r\nInjected: 1");
    assert_eq!(write_request(&bad).unwrap_err(), Http1Error::InvalidMessage);
}

// ----------------------------------------------------------------- codes

#[test]
fn every_error_maps_to_its_diagnostic_code() {
    let method = || ComponentId::derived(DerivedComponent::Method);
    let cases = [
        (HttpSigError::MissingSignature, "sig.missing"),
        (
            HttpSigError::Malformed(Malformed::SignatureInput),
            "sig.malformed",
        ),
        (HttpSigError::UnknownLabel, "sig.unknown-label"),
        (
            HttpSigError::BaseMismatch(BaseError::MissingRequest),
            "sig.base-mismatch",
        ),
        (HttpSigError::BadSignature, "sig.bad"),
        (HttpSigError::AlgMismatch, "sig.alg-mismatch"),
        (HttpSigError::Stale(Staleness::Expired), "sig.stale"),
        (HttpSigError::Replayed, "sig.replay"),
        (HttpSigError::ReplayStoreUnavailable, "sig.replay"),
        (HttpSigError::MissingNonce, "sig.coverage"),
        (HttpSigError::NotCovered(method()), "sig.coverage"),
        (HttpSigError::Unbound(method().with_req()), "sig.binding"),
        (HttpSigError::SenderMismatch, "sig.binding"),
        (HttpSigError::UnexpectedDid, "sig.binding"),
        (HttpSigError::UnexpectedKeyId, "sig.binding"),
        (HttpSigError::UnexpectedAuthority, "sig.binding"),
        (HttpSigError::DigestMissing, "digest.missing"),
        (HttpSigError::DigestAlgorithmUnsupported, "digest.missing"),
        (HttpSigError::DigestMalformed, "digest.mismatch"),
        (HttpSigError::DigestMismatch, "digest.mismatch"),
        (HttpSigError::BodyTooLarge { limit: 1 }, "size.exceeded"),
    ];
    for (err, code) in cases {
        assert_eq!(err.code(), code, "{err}");
    }
    assert_eq!(
        HttpSigError::BadSignature.to_string(),
        "signature verification failed"
    );
}

// ------------------------------------------------------------ properties

fn fuzz_request(input: String, signature: String, digest: String) -> HttpRequest {
    HttpRequest::new("POST", "https://agent-b.example/mcp/tools/call")
        .with_header("Signature-Input", input)
        .with_header("Signature", signature)
        .with_header("Content-Digest", digest)
        .with_header("X-SAGE-DID", "did:sage:x")
        .with_body(&b"{}"[..])
}

fn try_verify(request: &HttpRequest) {
    let key = SigningKey::from_label(KeyType::Ed25519, "x")
        .unwrap()
        .verifying_key();
    if let Ok(parsed) = ParsedSignature::from_request(request, None) {
        let _ = parsed.signature_base();
        let options = VerifyOptions {
            max_age: None,
            strict: false,
            require_nonce: false,
            required_components: Some(Vec::new()),
            ..VerifyOptions::default()
        };
        let _ = parsed.verify(&key, &options, at(0), &mut MemoryReplayStore::new());
    }
}

proptest! {
    #[test]
    fn parse_and_verify_never_panic_on_arbitrary_fields(
        input in "\\PC{0,160}",
        signature in "\\PC{0,100}",
        digest in "\\PC{0,80}",
    ) {
        try_verify(&fuzz_request(input, signature, digest));
    }

    #[test]
    fn parse_and_verify_never_panic_on_dictionary_shaped_fields(
        input in "[a-z0-9]{1,4}=\\((\"[@a-z-]{0,12}\"(;[a-z]{1,4}(=[\"a-z0-9?]{0,6})?)? ?){0,4}\\)(;[a-z]{1,7}=[\"a-z0-9:#@?-]{0,12}){0,6}(, [a-z0-9]{1,4}=\\([^)]{0,10}\\))?",
        signature in "[a-z0-9]{1,4}=:[A-Za-z0-9+/=]{0,90}:",
        digest in "sha-256=:[A-Za-z0-9+/=]{0,50}:",
    ) {
        try_verify(&fuzz_request(input, signature, digest));
    }

    #[test]
    fn any_single_byte_change_to_signature_input_fails_verification(
        index in 0usize..1000,
        flip in 1u8..128,
    ) {
        let (mut request, key) = signed_request();
        let mut input = request.header("signature-input").unwrap().into_bytes();
        let i = index % input.len();
        input[i] = (input[i] ^ flip) & 0x7f;
        prop_assume!(input[i] >= 0x20 && input[i] != 0x7f);
        request.set_header("Signature-Input", String::from_utf8(input).unwrap());
        let result = ParsedSignature::from_request(&request, None).and_then(|p| {
            p.verify(&key.verifying_key(), &VerifyOptions { max_age: None, ..VerifyOptions::default() }, at(0), &mut MemoryReplayStore::new())
        });
        prop_assert!(result.is_err());
    }

    #[test]
    fn http1_parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = parse_request(&bytes, Scheme::Https);
        let _ = parse_response(&bytes);
    }
}

#[test]
fn method_that_is_not_a_token_cannot_enter_a_base() {
    let request = HttpRequest::new("GE T", "https://h.example/");
    assert_eq!(
        base_line(&request, "\"@method\"").unwrap_err(),
        HttpSigError::BaseMismatch(BaseError::InvalidMethod)
    );
}

#[test]
fn unrecorded_verification_names_the_nonce_and_honours_the_callers_verdict() {
    use crate::replay::ReplayVerdict;
    let (request, key) = signed_request();
    let options = VerifyOptions::default();
    let parsed = ParsedSignature::from_request(&request, None).unwrap();
    let unrecorded = parsed
        .verify_unrecorded(&key.verifying_key(), &options, at(1))
        .unwrap();
    let (scope, nonce, keep_until) = unrecorded.nonce_claim().unwrap();
    assert_eq!(scope, parsed.keyid());
    assert_eq!(Some(nonce), parsed.nonce());
    assert!(keep_until > at(1));
    assert_eq!(
        unrecorded
            .clone()
            .record(ReplayVerdict::Replayed)
            .unwrap_err(),
        HttpSigError::Replayed
    );
    let verified = unrecorded.record(ReplayVerdict::Fresh).unwrap();
    assert_eq!(verified.keyid(), parsed.keyid());

    // A bad signature fails before any nonce is named.
    let mut tampered = request.clone();
    tampered.set_header("Date", "Wed, 02 Sep 2026 12:00:00 GMT");
    let err = ParsedSignature::from_request(&tampered, None)
        .unwrap()
        .verify_unrecorded(&key.verifying_key(), &options, at(1))
        .unwrap_err();
    assert_eq!(err, HttpSigError::BadSignature);
}
