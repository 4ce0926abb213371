//! The `sage` binary, run as a user would run it, in temporary directories.
// The helpers below unwrap too (clippy allows it only inside #[test]
// functions): any failure there is a test failure.
#![allow(clippy::unwrap_used)]

use std::io::Write as _;
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde_json::Value;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {}", self.stdout))
    }

    fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

fn sage_in(dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sage"))
        .args(args)
        .current_dir(dir)
        .env_remove("SAGE_VECTORS_DIR")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn sage(dir: &Path, args: &[&str]) -> Run {
    sage_in(dir, args, b"")
}

fn fixture(name: &str) -> String {
    format!("{FIXTURES}/{name}")
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Generates a key file and returns its path.
fn generate(dir: &Path, key_type: &str, format: &str) -> PathBuf {
    let path = dir.join(format!("{key_type}.{format}"));
    let run = sage(
        dir,
        &[
            "keys",
            "generate",
            "--type",
            key_type,
            "--format",
            format,
            "--out",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    path
}

/// Writes the public JWK of a key file to `<name>` and returns its path.
fn public_jwk_file(dir: &Path, key: &Path, name: &str) -> PathBuf {
    let shown = sage(dir, &["--json", "keys", "show", key.to_str().unwrap()]);
    assert_eq!(shown.code, 0, "{}", shown.stderr);
    let path = dir.join(name);
    std::fs::write(&path, shown.json()["public_jwk"].to_string()).unwrap();
    path
}

const KEY_TYPES: [&str; 4] = ["ed25519", "secp256k1", "p256", "x25519"];
const SIGNING_TYPES: [&str; 3] = ["ed25519", "secp256k1", "p256"];

#[test]
fn help_documents_the_exit_codes() {
    let dir = tempfile::tempdir().unwrap();
    let run = sage(dir.path(), &["--help"]);
    assert_eq!(run.code, 0);
    for line in [
        "0  success",
        "1  verification failed",
        "2  invalid input",
        "3  I/O error",
    ] {
        assert!(
            run.stdout.contains(line),
            "missing {line:?} in {}",
            run.stdout
        );
    }
    assert_eq!(sage(dir.path(), &["no-such-command"]).code, 2);
}

#[test]
fn generated_key_files_of_every_type_and_format_have_mode_0600_and_load_back() {
    let dir = tempfile::tempdir().unwrap();
    for key_type in KEY_TYPES {
        for format in ["jwk", "pem"] {
            let path = generate(dir.path(), key_type, format);
            assert_eq!(mode_of(&path), 0o600, "{key_type} {format}");
            let text = std::fs::read_to_string(&path).unwrap();
            match format {
                "jwk" => assert!(text.starts_with('{')),
                _ => assert!(text.starts_with("-----BEGIN PRIVATE KEY-----")),
            }
            let shown = sage(
                dir.path(),
                &["--json", "keys", "show", path.to_str().unwrap()],
            );
            assert_eq!(shown.code, 0, "{}", shown.stderr);
            let json = shown.json();
            assert_eq!(json["type"], key_type);
            assert_eq!(json["private"], true);
        }
    }
}

#[test]
fn existing_key_file_is_never_overwritten_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = generate(dir.path(), "ed25519", "jwk");
    let before = std::fs::read(&path).unwrap();
    let out = path.to_str().unwrap();

    let refused = sage(
        dir.path(),
        &["keys", "generate", "--type", "ed25519", "--out", out],
    );
    assert_eq!(refused.code, 3);
    assert!(
        refused.stderr.contains("refusing to overwrite"),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read(&path).unwrap(), before);

    // --force replaces the file, and a loose mode is not inherited.
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let forced = sage(
        dir.path(),
        &[
            "keys", "generate", "--type", "ed25519", "--out", out, "--force",
        ],
    );
    assert_eq!(forced.code, 0, "{}", forced.stderr);
    assert_ne!(std::fs::read(&path).unwrap(), before);
    assert_eq!(mode_of(&path), 0o600);
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
}

#[test]
fn key_file_in_a_missing_directory_is_an_io_error_and_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("absent/k.jwk");
    let run = sage(
        dir.path(),
        &[
            "keys",
            "generate",
            "--type",
            "p256",
            "--out",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 3);
    assert!(run.stderr.contains("absent/k.jwk"), "{}", run.stderr);
    assert!(!path.exists());
}

#[test]
fn generate_without_out_prints_the_private_key_to_a_pipe_and_the_summary_to_stderr() {
    let dir = tempfile::tempdir().unwrap();
    let run = sage(dir.path(), &["keys", "generate", "--type", "secp256k1"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let jwk: Value = serde_json::from_str(run.stdout.trim()).unwrap();
    assert!(jwk["d"].is_string());
    assert!(
        run.stderr.contains("ethereum address: 0x"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains(jwk["d"].as_str().unwrap()));

    let json = sage(
        dir.path(),
        &[
            "--json", "keys", "generate", "--type", "ed25519", "--format", "pem",
        ],
    );
    assert_eq!(json.code, 0);
    let object = json.json();
    assert!(
        object["private_key"]
            .as_str()
            .unwrap()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    assert_eq!(object["type"], "ed25519");
}

#[test]
fn keys_show_reports_public_facts_for_private_and_public_files() {
    let dir = tempfile::tempdir().unwrap();
    let key = generate(dir.path(), "secp256k1", "jwk");
    let private = sage(
        dir.path(),
        &["--json", "keys", "show", key.to_str().unwrap()],
    )
    .json();
    for member in [
        "public_key_hex",
        "public_key_base64url",
        "key_id",
        "ethereum_address",
        "public_jwk",
        "jwk_thumbprint",
    ] {
        assert!(!private[member].is_null(), "{member} missing");
    }
    assert_eq!(private["public_key_hex"].as_str().unwrap().len(), 130);
    assert_eq!(private["alg"], "es256k");

    let public = public_jwk_file(dir.path(), &key, "pub.jwk");
    let shown = sage(
        dir.path(),
        &["--json", "keys", "show", public.to_str().unwrap()],
    )
    .json();
    assert_eq!(shown["private"], false);
    for member in [
        "public_key_hex",
        "key_id",
        "ethereum_address",
        "jwk_thumbprint",
    ] {
        assert_eq!(shown[member], private[member], "{member}");
    }

    let rfc = sage(
        dir.path(),
        &["keys", "show", &fixture("rfc9421-test-key-ed25519.pub.pem")],
    );
    assert_eq!(rfc.code, 0, "{}", rfc.stderr);
    assert!(
        rfc.stdout
            .contains("26b40b8f93fff3d897112f7ebc582b232dbd72517d082fe83cfb30ddce43d1bb")
    );
    assert!(
        !rfc.stdout.contains("ethereum address"),
        "only secp256k1 keys have one"
    );
}

#[test]
fn keys_show_never_prints_private_key_bytes() {
    let dir = tempfile::tempdir().unwrap();
    for key_type in KEY_TYPES {
        // JWK: `d` is the secret.
        let jwk_path = generate(dir.path(), key_type, "jwk");
        let jwk: Value =
            serde_json::from_str(&std::fs::read_to_string(&jwk_path).unwrap()).unwrap();
        let d = jwk["d"].as_str().unwrap().to_owned();
        let secret = URL_SAFE_NO_PAD.decode(&d).unwrap();
        // PEM: the whole document body encodes the secret.
        let pem_path = generate(dir.path(), key_type, "pem");
        let pem = std::fs::read_to_string(&pem_path).unwrap();
        let pem_body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        let der = STANDARD.decode(&pem_body).unwrap();

        for (path, forbidden) in [
            (
                &jwk_path,
                vec![d.clone(), hex::encode(&secret), STANDARD.encode(&secret)],
            ),
            (&pem_path, vec![pem_body.clone(), hex::encode(&der)]),
        ] {
            for json in [false, true] {
                let mut args = vec!["keys", "show", path.to_str().unwrap()];
                if json {
                    args.insert(0, "--json");
                }
                let run = sage(dir.path(), &args);
                assert_eq!(run.code, 0, "{}", run.stderr);
                for secret_text in &forbidden {
                    assert!(
                        !run.all_output().contains(secret_text.as_str()),
                        "{key_type}: keys show printed private key material"
                    );
                }
            }
        }
    }
}

#[test]
fn sign_and_verify_round_trip_for_every_signing_type_and_encoding() {
    let dir = tempfile::tempdir().unwrap();
    let message = dir.path().join("message.txt");
    std::fs::write(&message, b"pay 10 to agent b").unwrap();
    let tampered = dir.path().join("tampered.txt");
    std::fs::write(&tampered, b"pay 99 to agent b").unwrap();
    for key_type in SIGNING_TYPES {
        for format in ["jwk", "pem"] {
            let key = generate(dir.path(), key_type, format);
            let public = public_jwk_file(dir.path(), &key, &format!("{key_type}-{format}.pub.jwk"));
            for encoding in ["base64", "hex"] {
                let signed = sage(
                    dir.path(),
                    &[
                        "sign",
                        "--key",
                        key.to_str().unwrap(),
                        "--in",
                        message.to_str().unwrap(),
                        "--encoding",
                        encoding,
                    ],
                );
                assert_eq!(signed.code, 0, "{}", signed.stderr);
                let signature = signed.stdout.trim().to_owned();
                let expected_len = if key_type == "secp256k1" { 65 } else { 64 };
                let decoded = match encoding {
                    "hex" => hex::decode(&signature).unwrap(),
                    _ => STANDARD.decode(&signature).unwrap(),
                };
                assert_eq!(decoded.len(), expected_len, "{key_type}");

                for verifier in [&key, &public] {
                    let ok = sage(
                        dir.path(),
                        &[
                            "verify",
                            "--key",
                            verifier.to_str().unwrap(),
                            "--signature",
                            &signature,
                            "--in",
                            message.to_str().unwrap(),
                        ],
                    );
                    assert_eq!(ok.code, 0, "{key_type}: {}", ok.stderr);
                    let bad = sage(
                        dir.path(),
                        &[
                            "--json",
                            "verify",
                            "--key",
                            verifier.to_str().unwrap(),
                            "--signature",
                            &signature,
                            "--in",
                            tampered.to_str().unwrap(),
                        ],
                    );
                    assert_eq!(
                        bad.code, 1,
                        "{key_type}: a tampered message must not verify"
                    );
                    assert_eq!(bad.json()["code"], "sig.bad");
                }
            }
        }
    }
}

#[test]
fn sign_reads_stdin_and_json_output_parses() {
    let dir = tempfile::tempdir().unwrap();
    let key = generate(dir.path(), "ed25519", "jwk");
    let run = sage_in(
        dir.path(),
        &["--json", "sign", "--key", key.to_str().unwrap()],
        b"hello",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    let signature = json["signature"].as_str().unwrap();
    let verified = sage_in(
        dir.path(),
        &[
            "--json",
            "verify",
            "--key",
            key.to_str().unwrap(),
            "--signature",
            signature,
            "--in",
            "-",
        ],
        b"hello",
    );
    assert_eq!(verified.code, 0);
    assert_eq!(verified.json()["valid"], true);
}

#[test]
fn malformed_key_files_are_invalid_input_and_missing_files_are_io_errors() {
    let dir = tempfile::tempdir().unwrap();
    let message = dir.path().join("m");
    std::fs::write(&message, b"m").unwrap();
    let m = message.to_str().unwrap();
    for (name, contents) in [
        ("garbage.key", "not a key at all"),
        ("broken.jwk", "{\"kty\":\"OKP\",\"crv\":\"Ed25519\""),
        (
            "wrong.jwk",
            "{\"kty\":\"OKP\",\"crv\":\"Ed448\",\"x\":\"AA\"}",
        ),
        (
            "broken.pem",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, contents).unwrap();
        let run = sage(
            dir.path(),
            &["sign", "--key", path.to_str().unwrap(), "--in", m],
        );
        assert_eq!(run.code, 2, "{name}: {}", run.stderr);
        assert!(
            run.stderr.contains(name),
            "the message names the file: {}",
            run.stderr
        );
    }

    let missing = sage(dir.path(), &["sign", "--key", "no-such.jwk", "--in", m]);
    assert_eq!(missing.code, 3);
    assert!(missing.stderr.contains("no-such.jwk"));
    // The key itself where its file belongs: refused, and not repeated.
    let pasted = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----";
    let literal = sage(dir.path(), &["sign", "--key", pasted, "--in", m]);
    assert_eq!(literal.code, 2, "{}", literal.stderr);
    assert!(literal.stderr.contains("looks like key material"));
    assert!(
        !literal.stderr.contains("MC4CAQAwBQYDK2VwBCIEI"),
        "{}",
        literal.stderr
    );
    let key = generate(dir.path(), "ed25519", "jwk");
    let no_input = sage(
        dir.path(),
        &[
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--in",
            "no-such-input",
        ],
    );
    assert_eq!(no_input.code, 3);

    // A public key cannot sign, and neither can an X25519 key.
    let public = public_jwk_file(dir.path(), &key, "pub.jwk");
    assert_eq!(
        sage(
            dir.path(),
            &["sign", "--key", public.to_str().unwrap(), "--in", m]
        )
        .code,
        2
    );
    let x25519 = generate(dir.path(), "x25519", "jwk");
    assert_eq!(
        sage(
            dir.path(),
            &["sign", "--key", x25519.to_str().unwrap(), "--in", m]
        )
        .code,
        2
    );
    let bad_signature = sage(
        dir.path(),
        &[
            "verify",
            "--key",
            key.to_str().unwrap(),
            "--signature",
            "!!",
            "--in",
            m,
        ],
    );
    assert_eq!(bad_signature.code, 2);
}

const DID_A: &str = "did:sage:ethereum:0x1111111111111111111111111111111111111111";
const DID_B: &str = "did:sage:ethereum:0x2222222222222222222222222222222222222222";

fn write_request(dir: &Path) -> PathBuf {
    let body = r#"{"jsonrpc":"2.0","id":7,"method":"tools/call"}"#;
    let request = format!(
        "POST /mcp/tools/call HTTP/1.1\r\nHost: agent-b.example\r\nContent-Type: application/json\r\nX-SAGE-DID: {DID_A}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let path = dir.join("request.http");
    std::fs::write(&path, request).unwrap();
    path
}

#[test]
fn http_sign_then_verify_round_trip_for_request_and_response() {
    let dir = tempfile::tempdir().unwrap();
    let request = write_request(dir.path());
    for key_type in SIGNING_TYPES {
        let key = generate(dir.path(), key_type, "jwk");
        let k = key.to_str().unwrap();
        let signed = sage(
            dir.path(),
            &[
                "http",
                "sign",
                "--key",
                k,
                "--keyid",
                &format!("{DID_A}#key-1"),
                "--in",
                request.to_str().unwrap(),
            ],
        );
        assert_eq!(signed.code, 0, "{}", signed.stderr);
        assert!(
            signed.stdout.contains("content-digest: sha-256=:"),
            "{}",
            signed.stdout
        );
        let signed_path = dir.path().join(format!("signed-{key_type}.http"));
        std::fs::write(&signed_path, &signed.stdout).unwrap();

        let verified = sage(
            dir.path(),
            &[
                "--json",
                "http",
                "verify",
                "--key",
                k,
                "--in",
                signed_path.to_str().unwrap(),
                "--expected-did",
                DID_A,
            ],
        );
        assert_eq!(verified.code, 0, "{key_type}: {}", verified.stderr);
        let json = verified.json();
        assert_eq!(json["did"], DID_A);
        assert_eq!(json["keyid"], format!("{DID_A}#key-1"));
        assert!(
            json["covered"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "\"content-digest\"")
        );

        let wrong_did = sage(
            dir.path(),
            &[
                "http",
                "verify",
                "--key",
                k,
                "--in",
                signed_path.to_str().unwrap(),
                "--expected-did",
                DID_B,
            ],
        );
        assert_eq!(wrong_did.code, 1);
        assert!(
            wrong_did.stderr.contains("sig.binding"),
            "{}",
            wrong_did.stderr
        );

        // The response, bound to the signed request.
        let response = dir.path().join("response.http");
        std::fs::write(
            &response,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}",
        )
        .unwrap();
        let signed_response = sage(
            dir.path(),
            &[
                "http",
                "sign",
                "--key",
                k,
                "--keyid",
                &format!("{DID_B}#key-1"),
                "--in",
                response.to_str().unwrap(),
                "--request",
                signed_path.to_str().unwrap(),
            ],
        );
        assert_eq!(signed_response.code, 0, "{}", signed_response.stderr);
        assert!(signed_response.stdout.contains("\"signature\";req"));
        let response_path = dir.path().join("signed-response.http");
        std::fs::write(&response_path, &signed_response.stdout).unwrap();
        let ok = sage(
            dir.path(),
            &[
                "http",
                "verify",
                "--key",
                k,
                "--in",
                response_path.to_str().unwrap(),
                "--request",
                signed_path.to_str().unwrap(),
            ],
        );
        assert_eq!(ok.code, 0, "{}", ok.stderr);
    }
}

#[test]
fn http_verify_of_a_tampered_body_fails_with_digest_mismatch() {
    let dir = tempfile::tempdir().unwrap();
    let request = write_request(dir.path());
    let key = generate(dir.path(), "ed25519", "jwk");
    let signed = sage(
        dir.path(),
        &[
            "http",
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--keyid",
            DID_A,
            "--in",
            request.to_str().unwrap(),
        ],
    );
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    // Same length, so the framing still holds and only the digest can tell.
    let tampered = signed.stdout.replace("tools/call\"}", "tools/kill\"}");
    assert_ne!(tampered, signed.stdout);
    let path = dir.path().join("tampered.http");
    std::fs::write(&path, tampered).unwrap();

    let run = sage(
        dir.path(),
        &[
            "http",
            "verify",
            "--key",
            key.to_str().unwrap(),
            "--in",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("digest.mismatch"), "{}", run.stderr);
    let json = sage(
        dir.path(),
        &[
            "--json",
            "http",
            "verify",
            "--key",
            key.to_str().unwrap(),
            "--in",
            path.to_str().unwrap(),
        ],
    );
    assert_eq!(json.code, 1);
    assert_eq!(json.json()["code"], "digest.mismatch");
}

#[test]
fn http_verify_rejects_stale_signatures_unless_max_age_is_disabled() {
    let dir = tempfile::tempdir().unwrap();
    let request = write_request(dir.path());
    let key = generate(dir.path(), "ed25519", "pem");
    let k = key.to_str().unwrap();
    let signed = sage(
        dir.path(),
        &[
            "http",
            "sign",
            "--key",
            k,
            "--keyid",
            DID_A,
            "--in",
            request.to_str().unwrap(),
            "--created",
            "1000",
            "--nonce",
            "n-1",
        ],
    );
    let path = dir.path().join("old.http");
    std::fs::write(&path, &signed.stdout).unwrap();
    let p = path.to_str().unwrap();
    let stale = sage(
        dir.path(),
        &["http", "verify", "--key", k, "--in", p, "--now", "5000"],
    );
    assert_eq!(stale.code, 1);
    assert!(stale.stderr.contains("sig.stale"), "{}", stale.stderr);
    assert_eq!(
        sage(
            dir.path(),
            &[
                "http",
                "verify",
                "--key",
                k,
                "--in",
                p,
                "--now",
                "5000",
                "--max-age",
                "0"
            ]
        )
        .code,
        0
    );
    let malformed = dir.path().join("junk.http");
    std::fs::write(&malformed, "not http at all").unwrap();
    assert_eq!(
        sage(
            dir.path(),
            &[
                "http",
                "verify",
                "--key",
                k,
                "--in",
                malformed.to_str().unwrap()
            ]
        )
        .code,
        2
    );
}

#[test]
fn rfc9421_appendix_b_2_6_signature_verifies_with_the_rfc_test_key() {
    let dir = tempfile::tempdir().unwrap();
    for key in [
        "rfc9421-test-key-ed25519.pub.pem",
        "rfc9421-test-key-ed25519.pem",
    ] {
        let run = sage(
            dir.path(),
            &[
                "--json",
                "http",
                "verify",
                "--key",
                &fixture(key),
                "--in",
                &fixture("rfc9421-b26-signed-request.http"),
                "--max-age",
                "0",
                "--no-nonce-required",
                "--not-strict",
            ],
        );
        assert_eq!(run.code, 0, "{}", run.stderr);
        let json = run.json();
        assert_eq!(json["label"], "sig-b26");
        assert_eq!(json["keyid"], "test-key-ed25519");
        assert_eq!(json["created"], 1_618_884_473);
    }
}

#[test]
fn rfc9421_appendix_b_2_6_request_re_signed_gives_the_rfc_signature() {
    let dir = tempfile::tempdir().unwrap();
    let run = sage(
        dir.path(),
        &[
            "--json",
            "http",
            "sign",
            "--key",
            &fixture("rfc9421-test-key-ed25519.pem"),
            "--keyid",
            "test-key-ed25519",
            "--in",
            &fixture("rfc9421-b2-test-request.http"),
            "--label",
            "sig-b26",
            "--components",
            r#""date" "@method" "@path" "@authority" "content-type" "content-length""#,
            "--created",
            "1618884473",
            "--no-nonce",
            "--no-alg",
            "--param-order",
            "created,keyid",
            "--show-base",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let json = run.json();
    assert_eq!(
        json["signature"],
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
    );
    assert_eq!(
        json["signature_input"],
        r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#
    );
    assert!(
        json["signature_base"]
            .as_str()
            .unwrap()
            .starts_with("\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n")
    );
}

/// `sage --json http sign` of the RFC 9421 B.2 request as in B.2.6, with
/// `--param-order order`.
fn sign_b26_with_param_order(dir: &Path, order: &str) -> Run {
    sage(
        dir,
        &[
            "--json",
            "http",
            "sign",
            "--key",
            &fixture("rfc9421-test-key-ed25519.pem"),
            "--keyid",
            "test-key-ed25519",
            "--in",
            &fixture("rfc9421-b2-test-request.http"),
            "--label",
            "sig-b26",
            "--components",
            r#""date" "@method" "@path" "@authority" "content-type" "content-length""#,
            "--created",
            "1618884473",
            "--no-nonce",
            "--no-alg",
            "--param-order",
            order,
        ],
    )
}

#[test]
fn param_order_naming_only_created_lets_keyid_follow_in_the_default_order() {
    let dir = tempfile::tempdir().unwrap();
    let run = sign_b26_with_param_order(dir.path(), "created");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.json()["signature"],
        "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:"
    );
}

#[test]
fn param_order_with_an_unknown_or_repeated_name_is_a_bad_argument() {
    let dir = tempfile::tempdir().unwrap();
    for (order, reason) in [
        ("created,key-id", "\"key-id\" is not one of"),
        ("created,keyid,created", "names created twice"),
    ] {
        let run = sign_b26_with_param_order(dir.path(), order);
        assert_eq!(run.code, 2, "{order}: {}", run.stderr);
        assert!(
            run.stderr.contains("--param-order") && run.stderr.contains(reason),
            "{order}: {}",
            run.stderr
        );
    }
}

#[test]
fn jcs_canonicalises_and_names_the_byte_offset_of_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let run = sage_in(
        dir.path(),
        &["jcs"],
        br#"{"b": [1E30, 4.50], "a": "\u20ac"}"#,
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stdout, "{\"a\":\"\u{20ac}\",\"b\":[1e+30,4.5]}");

    let json = sage_in(dir.path(), &["--json", "jcs"], br#"{"z":1,"a":2}"#).json();
    assert_eq!(json["canonical"], r#"{"a":2,"z":1}"#);
    assert_eq!(json["sha256"].as_str().unwrap().len(), 64);

    let duplicate = sage_in(dir.path(), &["jcs"], br#"{"a":1,"a":2}"#);
    assert_eq!(duplicate.code, 2);
    assert!(
        duplicate
            .stderr
            .contains("duplicate member name \"a\" at byte"),
        "{}",
        duplicate.stderr
    );

    let file = dir.path().join("in.json");
    std::fs::write(&file, "[1,]").unwrap();
    let trailing = sage(dir.path(), &["jcs", "--in", file.to_str().unwrap()]);
    assert_eq!(trailing.code, 2);
    assert!(
        trailing.stderr.contains("in.json") && trailing.stderr.contains("at byte 3"),
        "{}",
        trailing.stderr
    );
}

#[test]
fn did_parse_accepts_sage_dids_and_rejects_others_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let ok = sage(
        dir.path(),
        &["--json", "did", "parse", "did:sage:ETHEREUM:agent-one"],
    );
    assert_eq!(ok.code, 0);
    let json = ok.json();
    assert_eq!(json["chain"], "ethereum");
    assert_eq!(json["identifier"], "agent-one");
    assert_eq!(json["did"], "did:sage:ETHEREUM:agent-one");
    let text = sage(dir.path(), &["did", "parse", "did:sage:sol:abc:42"]);
    assert!(text.stdout.contains("chain: solana") && text.stdout.contains("identifier: abc:42"));

    for rejected in [
        "did:web:example.com",
        "did:sage:polkadot:abc",
        "did:sage::0xabc",
    ] {
        let run = sage(dir.path(), &["--json", "did", "parse", rejected]);
        assert_eq!(run.code, 2, "{rejected}");
        let json = run.json();
        assert_eq!(json["ok"], false);
        assert!(json["code"].as_str().unwrap().starts_with("id."));
        assert!(run.stderr.contains(rejected));
    }
}

#[test]
fn vectors_run_passes_all_28_vendored_vectors() {
    let dir = tempfile::tempdir().unwrap();
    // No vectors/ here and no git checkout: the built-in path is used.
    let run = sage(dir.path(), &["vectors", "run"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.last(), Some(&"28 passed, 0 failed"));
    assert_eq!(lines.iter().filter(|l| l.starts_with("PASS ")).count(), 28);
    assert!(lines.contains(&"PASS crypto/ed25519-sign"));

    let json = sage(dir.path(), &["--json", "vectors", "run"]).json();
    assert_eq!(json["passed"], 28);
    assert_eq!(json["failed"], 0);
    assert_eq!(json["vectors"].as_array().unwrap().len(), 28);
}

#[test]
fn vectors_run_takes_its_default_directory_from_sage_vectors_dir() {
    let dir = tempfile::tempdir().unwrap();
    let source = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../vectors/sage-spec/jcs.json"
    );
    std::fs::copy(source, dir.path().join("jcs.json")).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sage"))
        .args(["vectors", "run"])
        .env("SAGE_VECTORS_DIR", dir.path())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().last(),
        Some("4 passed, 0 failed"),
        "{stdout}"
    );
}

#[test]
fn vectors_run_reports_failures_with_exit_1_and_unusable_dirs_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let source = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../vectors/sage-spec/crypto.json"
    );
    let mut file: Value = serde_json::from_str(&std::fs::read_to_string(source).unwrap()).unwrap();
    file["vectors"][0]["output"]["key_id"] = "0000000000000000".into();
    let vectors = dir.path().join("v");
    std::fs::create_dir(&vectors).unwrap();
    std::fs::write(vectors.join("crypto.json"), file.to_string()).unwrap();
    let run = sage(dir.path(), &["vectors", "run", vectors.to_str().unwrap()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.contains("FAIL crypto/ed25519-sign: key_id mismatch: expected \"0000000000000000\" got \"0ea249d59a0394ed\""),
        "{}",
        run.stdout
    );
    assert_eq!(run.stdout.lines().last(), Some("3 passed, 1 failed"));

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    assert_eq!(
        sage(dir.path(), &["vectors", "run", empty.to_str().unwrap()]).code,
        2
    );
    std::fs::write(empty.join("bad.json"), "[]").unwrap();
    let unparsable = sage(
        dir.path(),
        &["--json", "vectors", "run", empty.to_str().unwrap()],
    );
    assert_eq!(unparsable.code, 2);
    assert!(unparsable.stderr.contains("bad.json"));
    assert_eq!(unparsable.json()["ok"], false);
}
