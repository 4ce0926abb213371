//! `sage did register|activate|resolve|...` run as an operator would: in a
//! temporary working directory with a controlled environment, on the local
//! registry in the default SQLite database (`./data/sage.db`), migrated
//! with `sage db migrate up`.
// The helpers below unwrap too (clippy allows it only inside #[test]
// functions): any failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;

use common::{Run, sage};

const DID: &str = "did:sage:ethereum:cli-agent";

/// A directory with a migrated local database and three key files.
fn node() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (kind, file) in [
        ("ed25519", "controller.jwk"),
        ("x25519", "kem.jwk"),
        ("secp256k1", "second.pem"),
    ] {
        let format = if file.ends_with(".pem") { "pem" } else { "jwk" };
        sage(
            dir.path(),
            &[
                "keys", "generate", "--type", kind, "--format", format, "--out", file,
            ],
        )
        .expect(0);
    }
    sage(dir.path(), &["db", "migrate", "up"]).expect(0);
    dir
}

fn register(dir: &Path) -> Run {
    sage(
        dir,
        &[
            "did",
            "register",
            "--registry",
            "local",
            "--key",
            "controller.jwk",
            "--kem-key",
            "kem.jwk",
            "--did",
            DID,
            "--name",
            "cli agent",
            "--endpoint",
            "https://cli.example/a2a",
            "--capability",
            "chat",
        ],
    )
}

#[test]
fn register_activate_resolve_on_the_local_registry() {
    let dir = node();
    let registered = register(dir.path()).expect(0);
    assert!(
        registered.stdout.contains("state: created\n"),
        "{}",
        registered.stdout
    );
    assert!(registered.stdout.contains("  key-1 ed25519 accepted"));
    assert!(registered.stdout.contains("  key-2 x25519 accepted"));
    assert!(
        registered
            .stderr
            .contains(&format!("next: sage did activate {DID}")),
        "{}",
        registered.stderr
    );

    let resolved = sage(dir.path(), &["--json", "did", "resolve", DID])
        .expect(0)
        .json();
    assert_eq!(resolved["state"], "created");
    assert_eq!(resolved["record"]["is_active"], false);

    let activated = sage(
        dir.path(),
        &["--json", "did", "activate", DID, "--key", "controller.jwk"],
    )
    .expect(0)
    .json();
    assert_eq!(activated["record"]["state"], "active");
    assert_eq!(activated["record"]["version"], 2);

    let resolved = sage(dir.path(), &["--json", "did", "resolve", DID])
        .expect(0)
        .json();
    assert_eq!(resolved["state"], "active");
    assert_eq!(resolved["record"]["is_active"], true);
    assert_eq!(resolved["record"]["name"], "cli agent");
    assert_eq!(
        resolved["record"]["capabilities"],
        serde_json::json!({"capabilities": ["chat"]})
    );
    let states: Vec<&str> = resolved["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, vec!["accepted", "accepted"]);

    let document = sage(dir.path(), &["--json", "did", "resolve", DID, "--document"])
        .expect(0)
        .json();
    assert_eq!(document["didDocument"]["id"], DID);
    assert_eq!(
        document["didDocument"]["authentication"],
        serde_json::json!([format!("{DID}#key-1")])
    );
    assert_eq!(
        document["didDocument"]["keyAgreement"],
        serde_json::json!([format!("{DID}#key-2")])
    );
    assert_eq!(
        document["didResolutionMetadata"]["contentType"],
        "application/did+json"
    );
}

#[test]
fn keys_rotate_and_a_deactivated_agent_stays_deactivated() {
    let dir = node();
    register(dir.path()).expect(0);
    sage(
        dir.path(),
        &["did", "activate", DID, "--key", "controller.jwk"],
    )
    .expect(0);
    let added = sage(
        dir.path(),
        &[
            "did",
            "add-key",
            DID,
            "--key",
            "controller.jwk",
            "--new-key",
            "second.pem",
        ],
    )
    .expect(0);
    assert!(
        added.stdout.contains("  key-3 secp256k1 accepted"),
        "{}",
        added.stdout
    );

    // The controller revokes itself; key-3 is the controller from then on.
    sage(
        dir.path(),
        &[
            "did",
            "revoke-key",
            DID,
            &format!("{DID}#key-1"),
            "--key",
            "controller.jwk",
        ],
    )
    .expect(0);
    let refused = sage(
        dir.path(),
        &[
            "--json",
            "did",
            "deactivate",
            DID,
            "--key",
            "controller.jwk",
        ],
    )
    .expect(1);
    assert_eq!(refused.json()["code"], "registry.unauthorized");
    let last = sage(
        dir.path(),
        &[
            "--json",
            "did",
            "revoke-key",
            DID,
            "key-3",
            "--key",
            "second.pem",
        ],
    )
    .expect(2);
    let last = last.json();
    assert_eq!(last["code"], "registry.forbidden-transition");
    assert_eq!(last["problem"]["status"], 409);

    let owner = sage(dir.path(), &["--json", "did", "resolve", DID])
        .expect(0)
        .json()["owner"]
        .as_str()
        .unwrap()
        .to_owned();
    sage(
        dir.path(),
        &["did", "deactivate", DID, "--key", "second.pem"],
    )
    .expect(0);
    let again = sage(
        dir.path(),
        &["--json", "did", "activate", DID, "--key", "second.pem"],
    )
    .expect(2)
    .json();
    assert_eq!(again["code"], "registry.forbidden-transition");
    let listed = sage(dir.path(), &["--json", "did", "list", "--owner", &owner])
        .expect(0)
        .json();
    assert_eq!(listed["records"][0]["did"], DID);
    assert_eq!(listed["records"][0]["state"], "deactivated");
    // Re-registering the identifier is refused for good.
    assert_eq!(
        register(dir.path()).expect(2).stderr.trim(),
        "sage: registry.exists: a record with this identifier already exists"
    );
}

#[test]
fn registry_commands_refuse_bad_input_with_the_usual_exit_codes() {
    let dir = node();
    // Unknown DID: resolution says so, with its code.
    let missing = sage(dir.path(), &["--json", "did", "resolve", DID])
        .expect(2)
        .json();
    assert_eq!(missing["code"], "record.not-found");
    assert_eq!(missing["problem"]["status"], 404);
    // A malformed DID.
    assert_eq!(
        sage(
            dir.path(),
            &["--json", "did", "resolve", "did:web:x.example"]
        )
        .expect(2)
        .json()["code"],
        "id.malformed"
    );
    // An Ed25519 controller needs --did; a public key file cannot sign.
    sage(
        dir.path(),
        &[
            "did",
            "register",
            "--key",
            "controller.jwk",
            "--name",
            "n",
            "--endpoint",
            "https://e.example/",
        ],
    )
    .expect(2);
    sage(
        dir.path(),
        &[
            "did",
            "register",
            "--key",
            "kem.jwk",
            "--did",
            DID,
            "--name",
            "n",
            "--endpoint",
            "https://e.example/",
        ],
    )
    .expect(2);
    // A secp256k1 controller gets its address DID.
    let derived = sage(
        dir.path(),
        &[
            "--json",
            "did",
            "register",
            "--key",
            "second.pem",
            "--name",
            "n",
            "--endpoint",
            "https://e.example/",
        ],
    )
    .expect(0)
    .json();
    assert!(
        derived["did"]
            .as_str()
            .unwrap()
            .starts_with("did:sage:ethereum:0x"),
        "{derived}"
    );
    // The Ethereum backend without its configuration: every missing key
    // is named (tests/registry_eth.rs drives a configured one).
    let ethereum = sage(
        dir.path(),
        &["did", "resolve", DID, "--registry", "ethereum"],
    )
    .expect(2);
    assert!(
        ethereum
            .stderr
            .contains("registry.ethereum.rpc_url: required"),
        "{}",
        ethereum.stderr
    );
}

#[test]
fn an_unmigrated_database_is_refused_with_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    let refused = sage(dir.path(), &["did", "resolve", DID]).expect(2);
    assert!(
        refused.stderr.contains("sage db migrate up"),
        "{}",
        refused.stderr
    );
}
