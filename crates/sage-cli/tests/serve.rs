//! `sage serve` as a real process, in an empty directory, with no
//! configuration: the banner, `/health`, `/ready`, a card that verifies,
//! key files with mode 0600, the same DID after a restart, and a prompt,
//! clean exit on SIGTERM.

// The helpers unwrap too (clippy allows it only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use sage_core::card::verify_card;
use sage_core::version::ProtocolVersion;
use sage_node::testing::call_url;

use common::{ServedNode, serve};

/// `sage serve` in `dir` with no configuration on a free port.
fn serve_unconfigured(dir: &Path) -> ServedNode {
    serve(dir, "127.0.0.1:0", &[])
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn sage_serve_with_no_configuration_runs_a_working_node_and_keeps_its_did() {
    let dir = tempfile::tempdir().unwrap();
    let node = serve_unconfigured(dir.path());
    let did = node.banner("DID");
    assert!(did.starts_with("did:sage:"), "{did}");
    let listen = node.banner("listening");
    assert!(listen.starts_with("127.0.0.1:"), "{listen}");
    for name in ["docs", "metrics", "agent card", "health"] {
        assert!(node.banner(name).starts_with("http://127.0.0.1:"), "{name}");
    }

    let health = call_url(node.banner("health"));
    assert_eq!(health.status, 200);
    assert_eq!(health.body, r#"{"status":"ok"}"#);
    let ready = node.banner("health").replace("/health", "/ready");
    assert_eq!(call_url(&ready).status, 200);
    let card = call_url(node.banner("agent card"));
    assert_eq!(card.status, 200);
    let verified = verify_card(ProtocolVersion::V1Draft1.labels(), card.body.as_bytes()).unwrap();
    assert_eq!(verified.did().as_str(), did);
    assert_eq!(call_url(node.banner("metrics")).status, 200);
    assert_eq!(call_url(node.banner("docs")).status, 200);

    #[cfg(unix)]
    for file in [
        "identity/signing.jwk",
        "identity/kem.jwk",
        "key-encryption-key",
    ] {
        assert_eq!(mode(&dir.path().join("data").join(file)), 0o600, "{file}");
    }
    assert!(dir.path().join("data/sage.db").exists());

    let did = node.banner("DID").to_owned();
    let started = Instant::now();
    let status = node.terminate();
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let again = serve_unconfigured(dir.path());
    assert_eq!(again.banner("DID"), did);
    assert_eq!(call_url(again.banner("health")).status, 200);
    assert!(again.terminate().success());
}
