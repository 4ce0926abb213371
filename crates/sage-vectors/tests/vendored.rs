//! The runner against the vendored sage-spec vectors, and against edited
//! copies of them that prove every check reads its inputs and every stored
//! output member matters.
// The helpers below unwrap too (clippy allows it only inside #[test]
// functions): any failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use sage_core::encoding::hex_encode;
use sage_core::primitives::{KeyType, SigningKey, derive_seed_from_label};
use sage_vectors::{Mismatch, Mode, RunnerError, run_dir, run_file_contents};

const VENDORED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../vectors/sage-spec");

fn vendored_file(name: &str) -> Value {
    let path = Path::new(VENDORED).join(name);
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn vendored_files() -> Vec<(String, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(VENDORED)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap(),
            )
        })
        .collect()
}

/// A file of one suite holding the given vectors.
fn file_with(suite: &str, vectors: Vec<Value>) -> String {
    json!({"suite": suite, "spec_version": "1.0.0-draft.1", "vectors": vectors}).to_string()
}

fn vector_named(file: &Value, name: &str) -> Value {
    file["vectors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap()
        .clone()
}

fn run_one(suite: &str, vector: Value) -> Result<(), Mismatch> {
    let mut outcomes = run_file_contents("test.json", &file_with(suite, vec![vector])).unwrap();
    assert_eq!(outcomes.len(), 1);
    outcomes.remove(0).result
}

#[test]
fn vendored_directory_gives_28_passed_and_0_failed() {
    let report = run_dir(Path::new(VENDORED)).unwrap();
    for outcome in &report.outcomes {
        assert!(outcome.passed(), "{}: {:?}", outcome.id(), outcome.result);
    }
    assert_eq!((report.passed(), report.failed()), (28, 0));
    let verify = report
        .outcomes
        .iter()
        .filter(|o| o.mode == Mode::Verify)
        .count();
    assert_eq!(verify, 6, "22 deterministic and 6 verify vectors");
}

#[test]
fn flipped_signature_byte_fails_naming_the_member_with_both_values_in_hex() {
    let mut vector = vector_named(&vendored_file("crypto.json"), "ed25519-sign");
    let stored = vector["output"]["signature"].as_str().unwrap().to_owned();
    let mut flipped = stored.clone().into_bytes();
    flipped[0] = if flipped[0] == b'0' { b'1' } else { b'0' };
    let flipped = String::from_utf8(flipped).unwrap();
    vector["output"]["signature"] = flipped.clone().into();

    let failure = run_one("crypto", vector).unwrap_err();
    match &failure {
        Mismatch::Output {
            member,
            expected,
            actual,
        } => {
            assert_eq!(member, "signature");
            assert_eq!(expected, &flipped);
            assert_eq!(actual, &stored);
        }
        other => panic!("expected an output mismatch, got {other:?}"),
    }
    let message = failure.to_string();
    assert!(
        message.starts_with("signature mismatch: expected "),
        "{message}"
    );
    assert!(message.contains(&stored) && message.contains(&flipped));
}

/// Changes a stored output value so that it is still well-formed where it
/// can be (hex stays hex of the same length).
fn mutate(value: &mut Value) {
    match value {
        Value::String(s) => {
            let is_hex = !s.is_empty()
                && s.len() % 2 == 0
                && s.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if is_hex {
                let last = s.pop().unwrap();
                s.push(if last == '0' { '1' } else { '0' });
            } else if let Some(first) = s.chars().next() {
                let replacement = if first == 'X' { 'Y' } else { 'X' };
                s.replace_range(..first.len_utf8(), &replacement.to_string());
            } else {
                s.push('x');
            }
        }
        Value::Number(n) => *value = Value::from(n.as_u64().unwrap_or(0) + 1),
        Value::Array(items) => match items.first_mut() {
            Some(first) => mutate(first),
            None => items.push(Value::from("x")),
        },
        Value::Object(members) => match members.values_mut().next() {
            Some(first) => mutate(first),
            None => {
                members.insert("x".into(), Value::from("x"));
            }
        },
        Value::Bool(b) => *b = !*b,
        Value::Null => *value = Value::from(0),
    }
}

#[test]
fn changing_any_stored_output_member_of_any_vendored_vector_fails_it() {
    let mut checked = 0;
    for (file_name, file) in vendored_files() {
        let suite = file["suite"].as_str().unwrap().to_owned();
        for vector in file["vectors"].as_array().unwrap() {
            let members: Vec<String> = vector["output"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect();
            for member in members {
                let mut edited = vector.clone();
                mutate(&mut edited["output"][&member]);
                let result = run_one(&suite, edited);
                assert!(
                    result.is_err(),
                    "{file_name}: {}: changing output.{member} went unnoticed",
                    vector["name"]
                );
                checked += 1;
            }
        }
    }
    assert!(checked > 80, "only {checked} members checked");
}

#[test]
fn stored_output_member_the_check_does_not_know_fails_the_vector() {
    let mut vector = vector_named(&vendored_file("crypto.json"), "key-id");
    vector["output"]["extra"] = "00".into();
    assert!(matches!(
        run_one("crypto", vector),
        Err(Mismatch::UnexpectedOutput { member }) if member == "extra"
    ));
}

#[test]
fn renamed_copy_with_numeric_suffix_runs_as_its_base_kind() {
    let mut vector = vector_named(&vendored_file("crypto.json"), "ed25519-sign");
    vector["name"] = "ed25519-sign-2".into();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("mine.json"),
        file_with("crypto", vec![vector]),
    )
    .unwrap();
    let report = run_dir(dir.path()).unwrap();
    assert_eq!((report.passed(), report.failed()), (1, 0));
    assert_eq!(report.outcomes[0].id(), "crypto/ed25519-sign-2");
}

#[test]
fn ed25519_vector_with_another_label_and_message_passes_with_outputs_computed_here() {
    let label = "sage-vectors/tests/another-ed25519-key";
    let message = b"a message that is not in any vendored vector";
    let key = SigningKey::from_label(KeyType::Ed25519, label).unwrap();
    let public = key.verifying_key();
    let vector = json!({
        "name": "ed25519-sign",
        "mode": "deterministic",
        "input": {"message": hex_encode(message), "seed_label": label},
        "output": {
            "seed": hex_encode(derive_seed_from_label(label).as_slice()),
            "public_key": hex_encode(&public.to_bytes()),
            "key_id": public.key_id(),
            "signature": hex_encode(&key.sign(message)),
        },
    });
    run_one("crypto", vector.clone()).unwrap();

    // The vendored outputs do not fit these inputs.
    let mut stale = vector;
    stale["output"] = vector_named(&vendored_file("crypto.json"), "ed25519-sign")["output"].clone();
    assert!(run_one("crypto", stale).is_err());
}

#[test]
fn pop_vector_for_another_did_and_secp256k1_label_passes_with_outputs_computed_here() {
    let did = "did:sage:solana:7Zn3QwXk9vQ2yP1sJ4cR8tL6mN5bV3xA2dF9gH1kJ8Lm";
    let label = "sage-vectors/tests/another-secp256k1-key";
    let key = SigningKey::from_label(KeyType::Secp256k1, label).unwrap();
    let parsed = sage_core::did::Did::parse(did).unwrap();
    let labels = sage_core::version::ProtocolVersion::V1Draft1.labels();
    let key_data = key.verifying_key().to_bytes();
    let vector = json!({
        "name": "pop-secp256k1",
        "mode": "deterministic",
        "input": {"did": did, "scalar_label": label},
        "output": {
            "challenge": sage_core::did::pop_challenge(labels, &parsed, &key_data),
            "key_data": hex_encode(&key_data),
            "proof": hex_encode(&sage_core::did::sign_pop(labels, &key, &parsed).unwrap()),
        },
    });
    run_one("did", vector).unwrap();
}

#[test]
fn unknown_vector_kinds_fail_and_are_never_skipped() {
    let vector = json!({"name": "ed448-sign", "mode": "deterministic", "input": {}, "output": {}});
    let failure = run_one("crypto", vector.clone()).unwrap_err();
    assert!(matches!(&failure, Mismatch::UnsupportedKind { kind } if kind == "crypto/ed448-sign"));
    assert_eq!(
        failure.to_string(),
        "unsupported vector kind crypto/ed448-sign"
    );
    assert!(matches!(
        run_one("nonsense", vector),
        Err(Mismatch::UnsupportedKind { .. })
    ));
}

#[test]
fn unknown_spec_version_fails_every_vector_of_the_file() {
    let vector = vector_named(&vendored_file("crypto.json"), "key-id");
    let text = json!({"suite": "crypto", "spec_version": "9.9.9", "vectors": [vector]}).to_string();
    let outcomes = run_file_contents("v.json", &text).unwrap();
    assert!(matches!(
        &outcomes[0].result,
        Err(Mismatch::UnsupportedSpecVersion { version }) if version == "9.9.9"
    ));
}

#[test]
fn directory_without_vector_files_and_unparsable_files_are_runner_errors() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a vector file").unwrap();
    assert!(matches!(
        run_dir(dir.path()),
        Err(RunnerError::NoVectorFiles { .. })
    ));

    std::fs::write(dir.path().join("broken.json"), "{\"suite\": \"crypto\"").unwrap();
    let error = run_dir(dir.path()).unwrap_err();
    assert!(matches!(&error, RunnerError::Parse { file, .. } if file == "broken.json"));

    let missing = dir.path().join("absent");
    assert!(matches!(run_dir(&missing), Err(RunnerError::Io { .. })));
}

#[test]
fn request_signature_vector_of_another_shape_passes_with_outputs_computed_here() {
    use sage_core::httpsig::{ComponentId, HttpRequest, SignatureParams, sign_request_in_place};
    let label = "sage-vectors/tests/another-p256-key";
    let key = SigningKey::from_label(KeyType::P256, label).unwrap();
    let covered = [
        "\"@method\"",
        "\"@target-uri\"",
        "\"@authority\"",
        "\"@query\"",
        "\"x-sage-did\"",
    ];
    let did = "did:sage:solana:7Zn3QwXk9vQ2yP1sJ4cR8tL6mN5bV3xA2dF9gH1kJ8Lm";
    let mut request = HttpRequest::new("GET", "https://agent-c.example:8443/tools?x=1")
        .with_header("x-sage-did", did);
    let mut params = SignatureParams::new(
        covered
            .iter()
            .map(|c| ComponentId::parse(c).unwrap())
            .collect(),
        format!("{did}#key-9"),
        sage_core::time::Timestamp::from_unix_seconds(1_800_000_000),
    );
    params.label = "mine".into();
    params.alg = Some("ecdsa-p256-sha256".into());
    params.nonce = Some("nonce-of-this-test".into());
    params.tag = Some("a-tag".into());
    let signed = sign_request_in_place(&mut request, &params, &key).unwrap();
    let input = json!({
        "alg": "ecdsa-p256-sha256", "body": "", "covered": covered,
        "created": 1_800_000_000, "headers": {"x-sage-did": did}, "key_label": label,
        "keyid": format!("{did}#key-9"), "method": "GET", "nonce": "nonce-of-this-test",
        "signature_name": "mine", "tag": "a-tag", "url": "https://agent-c.example:8443/tools?x=1",
    });
    // P-256 signing is randomised in the Go generator: a verify vector.
    let vector = json!({
        "name": "request-p256-get", "mode": "verify", "input": input,
        "output": {
            "signature_input": signed.signature_input,
            "signature": signed.signature,
            "signature_base": signed.base,
        },
    });
    run_one("rfc9421", vector.clone()).unwrap();
    let mut bad_base = vector;
    bad_base["output"]["signature_base"] = "\"@method\": GET".into();
    assert!(matches!(
        run_one("rfc9421", bad_base),
        Err(Mismatch::Output { member, .. }) if member == "signature_base"
    ));
}

#[test]
fn session_record_vector_with_other_inputs_passes_with_records_sealed_here() {
    use sage_core::session::{Role, Session, SessionConfig, SessionLabel, derive_seed_and_id};
    use sage_core::time::Timestamp;
    use sage_core::version::ProtocolVersion;

    let version = ProtocolVersion::V1Draft1;
    let shared = [0x42u8; 32];
    let (eph_a, eph_b) = ([0x11u8; 32], [0x07u8; 32]);
    let context = "ctx-of-this-test";
    let config = SessionConfig {
        rekey_interval: 2,
        ..SessionConfig::default()
    };
    let now = Timestamp::from_unix_seconds(1_800_000_000);
    let (seed, id) = derive_seed_and_id(
        version,
        SessionLabel::Hpke,
        &shared,
        context,
        &eph_a,
        &eph_b,
    );
    let mut sender = Session::from_salted(version, Role::Initiator, seed, id, config, now);
    let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
    let mut records = Vec::new();
    for _ in 0..4 {
        records.push(
            sender
                .encrypt_shared(&mut rng, now, b"another plaintext")
                .unwrap(),
        );
    }
    let label = version.labels().session_label_hpke;
    let input = json!({
        "context_id": context, "eph_a": hex_encode(&eph_a), "eph_b": hex_encode(&eph_b),
        "label": label, "plaintext": "another plaintext", "rekey_interval": 2,
        "shared_secret": hex_encode(&shared),
    });
    // Records at seq 0 and 3: generations 0 and 1 with R = 2.
    let vector = json!({
        "name": "encrypt-decrypt-2", "mode": "verify", "input": input,
        "output": {
            "first": hex_encode(&records[0]),
            "first_seq": 0,
            "last": hex_encode(&records[3]),
            "last_seq": 3,
            "last_header": hex_encode(&records[3][..20]),
        },
    });
    run_one("session", vector.clone()).unwrap();
    let mut other_interval = vector;
    other_interval["input"]["rekey_interval"] = 256.into();
    assert!(matches!(
        run_one("session", other_interval),
        Err(Mismatch::Failed { check, .. }) if check == "output.last opens"
    ));
}
