//! `sage serve` as a real process, in an empty directory, with no
//! configuration: the banner, `/health`, `/ready`, a card that verifies,
//! key files with mode 0600, the same DID after a restart, and a prompt,
//! clean exit on SIGTERM.

// The helpers unwrap too (clippy allows it only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use sage_core::card::verify_card;
use sage_core::version::ProtocolVersion;

/// A running `sage serve` and what its banner said.
struct Node {
    child: Child,
    did: String,
    listen: String,
    urls: Vec<(String, String)>,
}

impl Node {
    fn url(&self, name: &str) -> &str {
        self.urls
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, u)| u.as_str())
            .unwrap_or_else(|| panic!("no {name} URL in the banner"))
    }

    /// SIGTERM, then the exit status, which must come within 10 s.
    fn terminate(mut self) -> std::process::ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "sage serve did not exit on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Starts `sage serve` in `dir` with no configuration (every `SAGE_*`
/// variable removed) on a free port, and reads its banner.
fn serve(dir: &Path) -> Node {
    let mut command = Command::new(env!("CARGO_BIN_EXE_sage"));
    command
        .args(["serve", "--listen", "127.0.0.1:0"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("SAGE_") {
            command.env_remove(name);
        }
    }
    let mut child = command.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a banner").unwrap();
    assert_eq!(first, "SAGE node serving");
    let mut did = String::new();
    let mut listen = String::new();
    let mut urls = Vec::new();
    for line in lines.by_ref().take(7) {
        let line = line.unwrap();
        let (name, value) = line.trim().split_once("  ").unwrap();
        let value = value.trim().to_owned();
        match name {
            "DID" => did = value,
            "listening" => listen = value,
            other => urls.push((other.to_owned(), value)),
        }
    }
    Node {
        child,
        did,
        listen,
        urls,
    }
}

/// `GET url` over a fresh connection: status and body.
fn get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut stream = TcpStream::connect(authority).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nhost: {authority}\r\nconnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, raw[split + 4..].to_vec())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn sage_serve_with_no_configuration_runs_a_working_node_and_keeps_its_did() {
    let dir = tempfile::tempdir().unwrap();
    let node = serve(dir.path());
    assert!(node.did.starts_with("did:sage:"), "{}", node.did);
    assert!(node.listen.starts_with("127.0.0.1:"), "{}", node.listen);
    for name in ["docs", "metrics", "agent card", "health"] {
        assert!(node.url(name).starts_with("http://127.0.0.1:"), "{name}");
    }

    let (status, body) = get(node.url("health"));
    assert_eq!(status, 200);
    assert_eq!(body, br#"{"status":"ok"}"#);
    let ready = node.url("health").replace("/health", "/ready");
    assert_eq!(get(&ready).0, 200);
    let (status, card) = get(node.url("agent card"));
    assert_eq!(status, 200);
    let verified = verify_card(ProtocolVersion::V1Draft1.labels(), &card).unwrap();
    assert_eq!(verified.did().as_str(), node.did);
    assert_eq!(get(node.url("metrics")).0, 200);
    assert_eq!(get(node.url("docs")).0, 200);

    #[cfg(unix)]
    for file in [
        "identity/signing.jwk",
        "identity/kem.jwk",
        "key-encryption-key",
    ] {
        assert_eq!(mode(&dir.path().join("data").join(file)), 0o600, "{file}");
    }
    assert!(dir.path().join("data/sage.db").exists());

    let did = node.did.clone();
    let started = Instant::now();
    let status = node.terminate();
    assert!(status.success(), "{status}");
    assert!(started.elapsed() < Duration::from_secs(5));

    let again = serve(dir.path());
    assert_eq!(again.did, did);
    assert_eq!(get(again.url("health")).0, 200);
    assert!(again.terminate().success());
}
