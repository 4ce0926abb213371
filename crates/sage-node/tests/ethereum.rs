//! A node on the Ethereum registry (a fresh anvil with the registry
//! deployed by the test): it refuses to start as a DID the chain does not
//! hold, with what to run; once the DID is registered (with the key files
//! that refused start created) and activated, it starts, is ready and
//! serves a card that verifies.
//!
//! anvil is npm `@foundry-rs/anvil` (`scripts/ensure-chain-tools.sh`) or
//! `$SAGE_ANVIL`; a missing anvil fails the test unless `SAGE_SKIP_CHAIN=1`.

// The helpers unwrap too (clippy allows it only inside #[test] functions).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use sage_config::RegistryBackend;
use sage_core::card::verify_card;
use sage_core::did::Did;
use sage_core::primitives::{KeyType, SigningKey};
use sage_core::version::ProtocolVersion;
use sage_node::identity::bootstrap::BootstrapError;
use sage_node::identity::keystore::Keystore;
use sage_node::server::{self, NodeError, NodeOptions};
use sage_registry::model::key_name;
use sage_registry::{Activate, NewKey, Register, Registry as _, Request, RequestHeader};
use sage_registry_eth::{
    ClientOptions, EthRegistry, EthRegistryClient, EthRegistryOptions, Sender,
};
use serde_json::{Value, json};
use zeroize::Zeroizing;

use support::{config_in, get};

const CHAIN_ID: u64 = 31337;

/// `$SAGE_ANVIL`, else the binary `npm ci` put under `contracts/node_modules`.
fn anvil_path() -> PathBuf {
    if let Some(path) = std::env::var_os("SAGE_ANVIL") {
        return PathBuf::from(path);
    }
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../contracts/node_modules/@foundry-rs")
        .join(format!("anvil-{os}-{arch}"))
        .join("bin/anvil")
}

/// A running anvil, killed when dropped.
struct Anvil {
    child: Child,
    port: u16,
}

impl Anvil {
    fn start() -> Option<Self> {
        let path = anvil_path();
        if !path.is_file() {
            if std::env::var("SAGE_SKIP_CHAIN").as_deref() == Ok("1") {
                eprintln!(
                    "\n*** SKIPPED: anvil not found at {} and SAGE_SKIP_CHAIN=1 ***\n",
                    path.display()
                );
                return None;
            }
            panic!(
                "anvil not found at {}: run scripts/ensure-chain-tools.sh (or set SAGE_ANVIL; \
                 SAGE_SKIP_CHAIN=1 skips the chain tests)",
                path.display()
            );
        }
        let mut child = Command::new(&path)
            .args(["--port", "0", "--host", "127.0.0.1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = loop {
            let line = lines.next().expect("anvil exited").unwrap();
            if let Some(address) = line.strip_prefix("Listening on ") {
                break address.rsplit(':').next().unwrap().trim().parse().unwrap();
            }
        };
        std::thread::spawn(move || lines.for_each(drop));
        Some(Self { child, port })
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn rpc(&self, method: &str, params: Value) -> Value {
        let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
        let body = body.to_string();
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let (_, payload) = response.split_once("\r\n\r\n").unwrap();
        let answer: Value = serde_json::from_str(payload).unwrap();
        assert!(answer.get("error").is_none(), "{method}: {answer}");
        answer["result"].clone()
    }

    /// Moves the chain's clock forward and mines a block.
    fn advance(&self, seconds: u64) {
        self.rpc("evm_increaseTime", json!([seconds]));
        self.rpc("evm_mine", json!([]));
    }
}

impl Drop for Anvil {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rng() -> impl sage_core::rand_core::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_on_the_ethereum_registry_needs_its_did_registered_and_active() {
    let Some(anvil) = Anvil::start() else {
        return;
    };
    // The account that deploys the registry, owns the DID and pays.
    let owner = SigningKey::generate(KeyType::Secp256k1, &mut rng()).unwrap();
    let address = owner.verifying_key().ethereum_address().unwrap();
    anvil.rpc("anvil_setBalance", json!([address, "0x56BC75E2D63100000"]));
    let owner_key: [u8; 32] = *owner.to_bytes();
    let deployment = EthRegistryClient::deploy(&anvil.url(), owner_key)
        .await
        .unwrap();
    let contract = format!("0x{}", hex::encode(deployment.address));
    let did = Did::parse(&format!("did:sage:ethereum:{address}")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut config = config_in(dir.path());
    config.registry.backend = RegistryBackend::Ethereum;
    config.registry.ethereum.rpc_url = Some(anvil.url());
    config.registry.ethereum.contract_address = Some(contract.parse().unwrap());
    config.registry.ethereum.chain_id = Some(CHAIN_ID);
    config.identity.did = Some(did.as_str().to_owned());

    // Not registered: refused, with the commands to run.
    let error = server::start(NodeOptions::new(config.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(
            error,
            NodeError::Identity(BootstrapError::NotRegistered { .. })
        ),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("sage did register"), "{message}");
    assert!(message.contains(did.as_str()), "{message}");

    // The refused start created the key files: register the DID with them.
    let keys = Keystore::new(
        config.data_path(&config.identity.signing_key),
        config.data_path(&config.identity.kem_key),
        None,
    )
    .load_or_create(&mut rng())
    .unwrap();
    assert!(!keys.signing_created && !keys.kem_created);
    let labels = ProtocolVersion::V1Draft1.labels();
    let client = EthRegistryClient::new(
        &anvil.url(),
        deployment.address,
        CHAIN_ID,
        Sender::LocalKey(Zeroizing::new(owner_key)),
        ClientOptions::new(Duration::from_secs(30), Duration::from_secs(60)),
    )
    .unwrap();
    let registry = EthRegistry::new(client, EthRegistryOptions::default());
    let register = Register {
        name: "chain node".to_owned(),
        description: String::new(),
        endpoint: "http://127.0.0.1:1".to_owned(),
        capabilities: serde_json::Map::new(),
        keys: vec![
            NewKey::signing(labels, &keys.signing, &did).unwrap(),
            NewKey::kem(
                labels,
                &did,
                &keys.kem.public_key(),
                &keys.signing,
                &key_name(labels, 0),
            ),
        ],
    };
    let now = sage_store::instant::system_now();
    let header = RequestHeader::new(did.clone(), 0, now, &mut rng());
    let pending = registry
        .commit(&Request::new(header, register).sign(&keys.signing))
        .await
        .unwrap();
    anvil.advance(61);
    registry.reveal(&pending).await.unwrap();

    // Registered but not active yet: still refused.
    let error = server::start(NodeOptions::new(config.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, NodeError::Identity(BootstrapError::NotActive { .. })),
        "{error}"
    );

    anvil.advance(3601);
    let header = RequestHeader::new(did.clone(), 1, now, &mut rng());
    registry
        .activate(&Request::new(header, Activate).sign(&keys.signing))
        .await
        .unwrap();

    let node = server::start(NodeOptions::new(config)).await.unwrap();
    assert_eq!(node.did(), &did);
    assert!(!node.registered());
    let base = format!("http://{}", node.local_addr());
    let ready = get(&format!("{base}/ready")).await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    let card = get(&format!("{base}/.well-known/agent-card.json")).await;
    let verified = verify_card(labels, &card.body).unwrap();
    assert_eq!(verified.did(), &did);
    node.shutdown().await.unwrap();
}
