//! `sage did ... --registry ethereum` run as an operator would, against a
//! fresh anvil (npm `@foundry-rs/anvil`, from `scripts/ensure-chain-tools.sh`
//! or `$SAGE_ANVIL`) with the registry deployed by the test: the whole
//! lifecycle, an activation before its time, keys that can only come from
//! files, and nodes that cannot be used (unreachable, wrong chain, no
//! contract, https).
//!
//! The chain's clock is moved with `evm_increaseTime` rather than waited
//! for: the registration's commit-reveal wait is configured to a few
//! seconds, and the test moves the chain past the registry's 60 s delay
//! while `sage` waits. A missing anvil fails the test unless
//! `SAGE_SKIP_CHAIN=1` (then it says loudly that it skipped).
// The helpers below unwrap too (clippy allows it only inside #[test]
// functions): any failure there is a test failure.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use sage_core::primitives::jwk::private_to_jwk;
use sage_core::primitives::{KeyType, PrivateKey, SigningKey};
use sage_registry_eth::EthRegistryClient;
use sage_registry_eth::testing::TestChain;
use serde_json::{Value, json};

use common::{Run, command, sage};

/// The commit-reveal wait `sage` is configured with: long enough for the
/// test to see the commitment and move the chain's clock past 60 s.
const REVEAL_WAIT: &str = "3s";

/// The activation delay the test sets on its registry (then skips).
const ACTIVATION_DELAY: u64 = 600;

// ----------------------------------------------------------------- anvil

/// The shared test chain (sage-registry-eth's `testing`: one fresh anvil),
/// driven from these synchronous tests on a runtime of their own.
struct Anvil {
    chain: TestChain,
    runtime: tokio::runtime::Runtime,
}

impl Anvil {
    /// `None` (after a loud SKIPPED line) only when anvil is missing and
    /// `SAGE_SKIP_CHAIN=1`.
    fn start(test: &str) -> Option<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let chain = TestChain::start(test)?;
        Some(Self { chain, runtime })
    }

    fn url(&self) -> &str {
        &self.chain.rpc_url
    }

    /// Moves the chain's clock forward and mines a block.
    fn advance(&self, seconds: u64) {
        self.runtime.block_on(self.chain.advance(seconds));
    }

    /// The next nonce of `address` (`0x` and 40 hex digits).
    fn nonce(&self, address: &str) -> u64 {
        let account = hex::decode(address.trim_start_matches("0x"))
            .unwrap()
            .try_into()
            .unwrap();
        self.runtime.block_on(self.chain.nonce(account))
    }

    fn stop(&mut self) {
        self.chain.stop();
    }
}

/// Dev account `index` (funded): its key and its lower-case address.
fn account(anvil: &Anvil, index: usize) -> (SigningKey, String) {
    let key = SigningKey::from_bytes(KeyType::Secp256k1, &anvil.chain.key(index)).unwrap();
    let address = key.verifying_key().ethereum_address().unwrap();
    (key, address)
}

/// Deploys the registry from dev account 0 and sets its activation delay.
fn deploy(anvil: &Anvil) -> String {
    let chain = &anvil.chain;
    anvil.runtime.block_on(async {
        let contract = chain.deploy(0).await;
        let owner = EthRegistryClient::connect(
            &chain.rpc_url,
            contract,
            chain.chain_id,
            Some(chain.key(0)),
        )
        .await
        .unwrap();
        owner.set_activation_delay(ACTIVATION_DELAY).await.unwrap();
        format!("0x{}", hex::encode(contract))
    })
}

// ------------------------------------------------------------------ sage

/// An operator's directory: key files, the sender key file, and the
/// `--set` flags that point `sage` at the chain.
struct Operator {
    dir: tempfile::TempDir,
    address: String,
    did: String,
    settings: Vec<String>,
}

impl Operator {
    /// `owner` is the agent's secp256k1 controller key and, as its
    /// Ethereum account, the sender of its transactions.
    fn new(anvil: &Anvil, contract: &str, owner: &SigningKey, address: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let private = PrivateKey::Signing(
            SigningKey::from_bytes(KeyType::Secp256k1, owner.to_bytes().as_slice()).unwrap(),
        );
        std::fs::write(
            dir.path().join("owner.jwk"),
            private_to_jwk(&private).as_str(),
        )
        .unwrap();
        let sender_key = dir.path().join("sender.key");
        std::fs::write(
            &sender_key,
            format!("0x{}\n", hex::encode(owner.to_bytes().as_slice())),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&sender_key, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        for (kind, file) in [("x25519", "kem.jwk"), ("ed25519", "second.jwk")] {
            sage(
                dir.path(),
                &["keys", "generate", "--type", kind, "--out", file],
            )
            .expect(0);
        }
        let settings = [
            format!("registry.ethereum.rpc_url={}", anvil.url()),
            format!("registry.ethereum.contract_address={contract}"),
            "registry.ethereum.chain_id=31337".to_owned(),
            format!("registry.ethereum.sender_key=file:{}", sender_key.display()),
            format!("registry.ethereum.reveal_wait={REVEAL_WAIT}"),
        ]
        .iter()
        .flat_map(|s| ["--set".to_owned(), s.clone()])
        .collect();
        Self {
            dir,
            address: address.to_owned(),
            did: format!("did:sage:ethereum:{address}"),
            settings,
        }
    }

    fn args<'a>(&'a self, args: &[&'a str]) -> Vec<&'a str> {
        let mut all: Vec<&str> = args.to_vec();
        all.extend(["--registry", "ethereum"]);
        all.extend(self.settings.iter().map(String::as_str));
        all
    }

    /// `sage ARGS --registry ethereum --set ...`.
    fn sage(&self, args: &[&str]) -> Run {
        sage(self.dir.path(), &self.args(args))
    }

    /// `sage did register`, moving the chain's clock past the registry's
    /// commit-reveal delay once the commitment is mined.
    fn register(&self, anvil: &Anvil, extra: &[&str]) -> Run {
        let mut args = vec![
            "did",
            "register",
            "--key",
            "owner.jwk",
            "--kem-key",
            "kem.jwk",
            "--name",
            "chain agent",
            "--endpoint",
            "https://chain.example/a2a",
            "--capability",
            "chat",
        ];
        args.extend(extra);
        let nonce = anvil.nonce(&self.address);
        let child = command(self.dir.path(), &self.args(&args))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while anvil.nonce(&self.address) == nonce && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        anvil.advance(60);
        Run::of(child.wait_with_output().unwrap())
    }
}

fn key_states(record: &Value) -> Vec<(String, String)> {
    record["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap().to_owned(),
                format!(
                    "{} {}",
                    k["type"].as_str().unwrap(),
                    k["state"].as_str().unwrap()
                ),
            )
        })
        .collect()
}

// ----------------------------------------------------------------- tests

#[test]
fn the_whole_lifecycle_runs_on_chain_from_the_command_line() {
    let Some(mut anvil) = Anvil::start("the_whole_lifecycle_runs_on_chain_from_the_command_line")
    else {
        return;
    };
    let contract = deploy(&anvil);
    let (owner, address) = account(&anvil, 1);
    let op = Operator::new(&anvil, &contract, &owner, &address);
    let did = op.did.as_str();

    // Register: commit, wait, reveal. The DID defaults to the sender's.
    let registered = op.register(&anvil, &[]).expect(0);
    assert!(
        registered.stdout.contains(&format!("did: {did}\n")),
        "{}",
        registered.stdout
    );
    assert!(registered.stdout.contains("state: created\n"));
    assert!(registered.stdout.contains("  key-1 secp256k1 accepted"));
    assert!(registered.stdout.contains("  key-2 x25519 accepted"));
    assert!(registered.stdout.contains("commit transaction: 0x"));
    assert!(
        registered
            .stderr
            .contains(&format!("sage did activate {did} --key owner.jwk")),
        "{}",
        registered.stderr
    );
    // The short wait is warned about; no progress escape codes in a pipe.
    assert!(
        registered.stderr.contains("registry.ethereum.reveal_wait"),
        "{}",
        registered.stderr
    );
    assert!(
        !registered.stderr.contains('\u{1b}'),
        "{}",
        registered.stderr
    );

    // Twice is refused before a second commitment is paid for.
    let nonce = anvil.nonce(&address);
    let again = op
        .sage(&[
            "--json",
            "did",
            "register",
            "--key",
            "owner.jwk",
            "--name",
            "n",
            "--endpoint",
            "https://e.example/",
        ])
        .expect(2)
        .json();
    assert_eq!(again["code"], "registry.exists");
    assert_eq!(anvil.nonce(&address), nonce);

    // Activation before the registry's delay: refused, saying from when.
    let early = op
        .sage(&["--json", "did", "activate", did, "--key", "owner.jwk"])
        .expect(2);
    assert!(
        early.stderr.contains("cannot be activated yet") && early.stderr.contains("from "),
        "{}",
        early.stderr
    );
    let early = early.json();
    assert_eq!(early["code"], "registry.rejected");
    assert!(
        early["activatable_at"].as_str().unwrap().ends_with('Z'),
        "{early}"
    );

    anvil.advance(ACTIVATION_DELAY);
    let active = op
        .sage(&["--json", "did", "activate", did, "--key", "owner.jwk"])
        .expect(0)
        .json();
    assert_eq!(active["operation"], "activate");
    assert_eq!(active["state"], "active");

    // Resolution reads the chain: the record, then the DID document.
    let resolved = op.sage(&["--json", "did", "resolve", did]).expect(0).json();
    assert_eq!(resolved["state"], "active");
    assert_eq!(resolved["source"], "registry");
    assert_eq!(resolved["record"]["name"], "chain agent");
    assert_eq!(resolved["record"]["owner"], address.as_str());
    assert_eq!(
        key_states(&resolved),
        [
            ("key-1".to_owned(), "secp256k1 accepted".to_owned()),
            ("key-2".to_owned(), "x25519 accepted".to_owned()),
        ]
    );
    let document = op
        .sage(&["--json", "did", "resolve", did, "--document"])
        .expect(0)
        .json();
    assert_eq!(document["didDocument"]["id"], did);
    assert_eq!(
        document["didDocument"]["keyAgreement"],
        json!([format!("{did}#key-2")])
    );

    // A second signing key, then its revocation (kept, unverified).
    let added = op
        .sage(&[
            "--json",
            "did",
            "add-key",
            did,
            "--key",
            "owner.jwk",
            "--new-key",
            "second.jwk",
        ])
        .expect(0)
        .json();
    assert_eq!(added["operation"], "add-key");
    assert_eq!(key_states(&added)[2].1, "ed25519 accepted");
    let revoked = op
        .sage(&[
            "--json",
            "did",
            "revoke-key",
            did,
            "key-3",
            "--key",
            "owner.jwk",
        ])
        .expect(0)
        .json();
    assert_eq!(key_states(&revoked)[2].1, "ed25519 revoked");

    // The endpoint can move; the name is the chain's for good.
    let moved = op
        .sage(&[
            "--json",
            "did",
            "update",
            did,
            "--key",
            "owner.jwk",
            "--endpoint",
            "https://moved.example/a2a",
        ])
        .expect(0)
        .json();
    assert_eq!(moved["endpoint"], "https://moved.example/a2a");
    let renamed = op
        .sage(&["did", "update", did, "--key", "owner.jwk", "--name", "x"])
        .expect(2);
    assert!(renamed.stderr.contains("--name"), "{}", renamed.stderr);

    let listed = op
        .sage(&["--json", "did", "list", "--owner", &address])
        .expect(0)
        .json();
    assert_eq!(
        listed["records"],
        json!([{"did": did, "state": "active", "version": null, "name": "chain agent"}])
    );

    // Only the controller key may change the record.
    let stranger = op
        .sage(&["--json", "did", "deactivate", did, "--key", "second.jwk"])
        .expect(1)
        .json();
    assert_eq!(stranger["code"], "registry.unauthorized");

    let deactivated = op
        .sage(&["--json", "did", "deactivate", did, "--key", "owner.jwk"])
        .expect(0)
        .json();
    assert_eq!(deactivated["state"], "deactivated");
    let resolved = op.sage(&["--json", "did", "resolve", did]).expect(0).json();
    assert_eq!(resolved["state"], "deactivated");
    let reactivated = op
        .sage(&["--json", "did", "activate", did, "--key", "owner.jwk"])
        .expect(2)
        .json();
    assert_eq!(reactivated["code"], "registry.forbidden-transition");

    // A node that stops answering mid-session: record.unreachable, exit 3.
    anvil.stop();
    let gone = op.sage(&["--json", "did", "resolve", did]).expect(3).json();
    assert_eq!(gone["code"], "record.unreachable");
}

#[test]
fn registrations_that_cannot_succeed_are_refused_early_and_clearly() {
    let Some(anvil) =
        Anvil::start("registrations_that_cannot_succeed_are_refused_early_and_clearly")
    else {
        return;
    };
    let contract = deploy(&anvil);
    let (owner, address) = account(&anvil, 1);
    let op = Operator::new(&anvil, &contract, &owner, &address);
    // `extra` goes last, so that its `--set`s win over the operator's.
    let register = |extra: &[&str]| {
        let mut args = op.args(&[
            "did",
            "register",
            "--key",
            "owner.jwk",
            "--name",
            "n",
            "--endpoint",
            "https://e.example/",
        ]);
        args.extend(extra);
        sage(op.dir.path(), &args)
    };

    // A DID of another account: the contract would refuse the reveal.
    let foreign = format!("did:sage:ethereum:0x{}", "11".repeat(20));
    let refused = register(&["--did", &foreign]).expect(2);
    assert!(
        refused.stderr.contains("only DIDs of the sending account"),
        "{}",
        refused.stderr
    );
    assert!(refused.stderr.contains(&op.did), "{}", refused.stderr);

    // The configured chain must be the node's, and hold the contract.
    let wrong_chain = register(&["--set", "registry.ethereum.chain_id=1"]).expect(2);
    assert!(
        wrong_chain
            .stderr
            .contains("serves chain 31337, but registry.ethereum.chain_id is 1"),
        "{}",
        wrong_chain.stderr
    );
    let elsewhere = format!("registry.ethereum.contract_address=0x{}", "22".repeat(20));
    let no_contract = register(&["--set", &elsewhere]).expect(2);
    assert!(
        no_contract.stderr.contains("no contract at 0x2222"),
        "{}",
        no_contract.stderr
    );
    assert_eq!(anvil.nonce(&address), 0, "nothing was sent");

    // A wait shorter than the chain's delay (and a chain clock that does
    // not run ahead): the chain refuses the reveal, and the message says
    // which setting is at fault.
    let too_soon = register(&["--set", "registry.ethereum.reveal_wait=1s"]).expect(2);
    assert!(
        too_soon
            .stderr
            .contains("refused the reveal as too early: registry.ethereum.reveal_wait (1s)"),
        "{}",
        too_soon.stderr
    );
}

#[test]
fn private_keys_come_from_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let literal = format!("0x{}", "5a".repeat(32));
    let base = [
        "did",
        "activate",
        "did:sage:ethereum:0x1111111111111111111111111111111111111111",
        "--registry",
        "ethereum",
        "--set",
        "registry.ethereum.rpc_url=http://127.0.0.1:9",
        "--set",
        "registry.ethereum.contract_address=0x5FbDB2315678afecb367f032d93F642f64180aa3",
        "--set",
        "registry.ethereum.chain_id=31337",
    ];

    // A sender key in the configuration is a reference, never the key.
    let set = format!("registry.ethereum.sender_key={literal}");
    let mut args = base.to_vec();
    args.extend(["--key", "owner.jwk", "--set", &set]);
    let refused = sage(dir.path(), &args).expect(2);
    assert!(
        refused.stderr.contains(
            "registry.ethereum.sender_key: a literal secret is not allowed: give a reference"
        ),
        "{}",
        refused.stderr
    );
    assert!(
        !refused.stderr.contains(&literal[2..]),
        "{}",
        refused.stderr
    );

    // --key names a file: key material there is refused without being
    // repeated.
    let mut args = base.to_vec();
    args.extend(["--key", &literal]);
    let not_a_file = sage(dir.path(), &args).expect(2);
    assert!(
        not_a_file.stderr.contains("looks like key material"),
        "{}",
        not_a_file.stderr
    );
    assert!(
        !not_a_file.stderr.contains(&literal[2..]),
        "{}",
        not_a_file.stderr
    );

    // No flag takes a key.
    for flag in ["--sender-key", "--private-key"] {
        let mut args = base.to_vec();
        args.extend(["--key", "owner.jwk", flag, &literal]);
        let unknown = sage(dir.path(), &args).expect(2);
        assert!(
            unknown.stderr.contains("unexpected argument"),
            "{}",
            unknown.stderr
        );
        assert!(
            !unknown.stderr.contains(&literal[4..]),
            "{}",
            unknown.stderr
        );
    }

    // Without a sender key a write is a configuration error.
    let mut args = base.to_vec();
    std::fs::write(
        dir.path().join("owner.jwk"),
        private_to_jwk(&PrivateKey::Signing(
            SigningKey::from_label(KeyType::Secp256k1, "owner").unwrap(),
        ))
        .as_str(),
    )
    .unwrap();
    args.extend(["--key", "owner.jwk"]);
    let no_sender = sage(dir.path(), &args).expect(2);
    assert!(
        no_sender
            .stderr
            .contains("registry.ethereum.sender_key: required to send registry transactions"),
        "{}",
        no_sender.stderr
    );
}

#[test]
fn an_unreachable_or_unusable_node_is_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let resolve = |rpc_url: &str| {
        sage(
            dir.path(),
            &[
                "--json",
                "did",
                "resolve",
                "did:sage:ethereum:0x1111111111111111111111111111111111111111",
                "--registry",
                "ethereum",
                "--set",
                &format!("registry.ethereum.rpc_url={rpc_url}"),
                "--set",
                "registry.ethereum.contract_address=0x5FbDB2315678afecb367f032d93F642f64180aa3",
                "--set",
                "registry.ethereum.chain_id=31337",
            ],
        )
    };
    let url = format!("http://127.0.0.1:{port}");
    let unreachable = resolve(&url).expect(3);
    assert!(
        unreachable
            .stderr
            .contains(&format!("cannot reach the Ethereum node at {url}")),
        "{}",
        unreachable.stderr
    );
    assert!(
        !unreachable.stderr.contains("panicked"),
        "{}",
        unreachable.stderr
    );
    let unreachable = unreachable.json();
    assert_eq!(unreachable["code"], "record.unreachable");
    assert_eq!(unreachable["rpc_url"], url);

    // https needs TLS, which the client does not have: a configuration error.
    let https = resolve("https://rpc.example").expect(2);
    assert!(
        https
            .stderr
            .contains("registry.ethereum.rpc_url: https:// is not supported")
            && https.stderr.contains("without TLS"),
        "{}",
        https.stderr
    );
}
