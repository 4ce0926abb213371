//! A local chain for the end-to-end tests: anvil from npm
//! `@foundry-rs/anvil` (installed by `scripts/ensure-chain-tools.sh`), one
//! fresh instance per test, with the registry deployed on it, and agent keys
//! made by sage-core.

use std::path::PathBuf;

use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::providers::{DynProvider, Provider, ProviderBuilder};
use sage_core::did::{Did, sign_pop};
use sage_core::primitives::{KeyType, SigningKey};
use sage_core::version::ProtocolVersion;
use sage_registry_eth::{
    ClientOptions, EthRegistryClient, NewKey, RegistrationRequest, RegistryKeyType, Sender,
};

/// The npm package directory of the anvil binary for this platform.
fn npm_platform_package() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    format!("anvil-{os}-{arch}")
}

/// `SAGE_ANVIL`, else the binary `npm ci` put under `contracts/node_modules`.
pub(crate) fn anvil_path() -> PathBuf {
    if let Some(path) = std::env::var_os("SAGE_ANVIL") {
        return PathBuf::from(path);
    }
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../contracts/node_modules/@foundry-rs")
        .join(npm_platform_package())
        .join("bin/anvil")
}

pub(crate) struct Chain {
    anvil: Option<AnvilInstance>,
    pub(crate) rpc_url: String,
    pub(crate) chain_id: u64,
    pub(crate) registry: [u8; 20],
    raw: DynProvider,
}

impl Chain {
    /// A fresh anvil with the registry deployed by account 0. `None` (after a
    /// loud SKIPPED line) only when `SAGE_SKIP_CHAIN=1`; a missing anvil
    /// otherwise fails the test.
    pub(crate) async fn start(test: &str) -> Option<Self> {
        let path = anvil_path();
        if !path.is_file() {
            if std::env::var("SAGE_SKIP_CHAIN").as_deref() == Ok("1") {
                eprintln!(
                    "\n*** SKIPPED {test}: anvil not found at {} and SAGE_SKIP_CHAIN=1 ***\n",
                    path.display()
                );
                return None;
            }
            panic!(
                "anvil not found at {}: run scripts/ensure-chain-tools.sh (or set SAGE_ANVIL to an anvil binary; \
                 SAGE_SKIP_CHAIN=1 skips the chain tests)",
                path.display()
            );
        }
        // --auto-impersonate lets a test send from an address whose key it does
        // not hold (the did.json vector's DID address).
        let anvil = Anvil::at(path).auto_impersonate().spawn();
        let rpc_url = anvil.endpoint();
        let chain_id = anvil.chain_id();
        let deployment = EthRegistryClient::deploy(&rpc_url, dev_key(&anvil, 0))
            .await
            .expect("deploy registry");
        let raw = ProviderBuilder::new()
            .connect_http(anvil.endpoint_url())
            .erased();
        Some(Self {
            anvil: Some(anvil),
            rpc_url,
            chain_id,
            registry: deployment.address,
            raw,
        })
    }

    fn anvil(&self) -> &AnvilInstance {
        self.anvil.as_ref().expect("anvil is running")
    }

    /// Dev account `index`'s private key.
    pub(crate) fn key(&self, index: usize) -> [u8; 32] {
        dev_key(self.anvil(), index)
    }

    /// Dev account `index`'s address.
    pub(crate) fn address(&self, index: usize) -> [u8; 20] {
        self.anvil().addresses()[index].into_array()
    }

    /// A client that signs with dev account `index`.
    pub(crate) async fn client(&self, index: usize) -> EthRegistryClient {
        EthRegistryClient::connect(
            &self.rpc_url,
            self.registry,
            self.chain_id,
            Some(self.key(index)),
        )
        .await
        .expect("connect")
    }

    /// A client sending as `account` through the node (auto-impersonation).
    pub(crate) fn impersonating(&self, account: [u8; 20]) -> EthRegistryClient {
        EthRegistryClient::new(
            &self.rpc_url,
            self.registry,
            self.chain_id,
            Sender::NodeAccount(account),
            ClientOptions::default(),
        )
        .expect("client")
    }

    pub(crate) async fn fund(&self, account: [u8; 20]) {
        let address = format!("0x{}", alloy::hex::encode(account));
        let _: serde_json::Value = self
            .raw
            .raw_request("anvil_setBalance".into(), (address, "0x56BC75E2D63100000"))
            .await
            .expect("anvil_setBalance");
    }

    /// Moves the chain clock forward and mines a block.
    pub(crate) async fn advance(&self, seconds: u64) {
        let _: serde_json::Value = self
            .raw
            .raw_request("evm_increaseTime".into(), (seconds,))
            .await
            .expect("evm_increaseTime");
        let _: serde_json::Value = self
            .raw
            .raw_request("evm_mine".into(), ())
            .await
            .expect("evm_mine");
    }

    /// Kills the node.
    pub(crate) fn stop(&mut self) {
        drop(self.anvil.take());
    }
}

fn dev_key(anvil: &AnvilInstance, index: usize) -> [u8; 32] {
    anvil.keys()[index].to_bytes().into()
}

/// `did:sage:ethereum:0x<lower-case address>`.
pub(crate) fn did_of(address: [u8; 20]) -> String {
    format!("did:sage:ethereum:0x{}", alloy::hex::encode(address))
}

/// A sage-core signing key and its SAGE-PoP for `did`, as a key to register.
pub(crate) fn signing_key(key_type: KeyType, label: &str, did: &str) -> (SigningKey, NewKey) {
    let key = SigningKey::from_label(key_type, label).expect("key from label");
    let did_parsed = Did::parse(did).expect("did");
    let proof = sign_pop(ProtocolVersion::V1Draft1.labels(), &key, &did_parsed).expect("sign_pop");
    let registry_type = match key_type {
        KeyType::Secp256k1 => RegistryKeyType::Secp256k1,
        KeyType::Ed25519 => RegistryKeyType::Ed25519,
        other => panic!("{other:?} has no registry integer"),
    };
    let new_key = NewKey {
        key_type: registry_type,
        key_data: key.verifying_key().to_bytes(),
        proof,
    };
    (key, new_key)
}

/// A request for `did` with `keys` and a fixed salt.
pub(crate) fn request(did: &str, keys: Vec<NewKey>) -> RegistrationRequest {
    RegistrationRequest {
        did: did.to_owned(),
        name: "e2e agent".to_owned(),
        description: "registered by the sage-registry-eth tests".to_owned(),
        endpoint: "https://agent.example/a2a".to_owned(),
        capabilities: r#"{"message-signing":true}"#.to_owned(),
        keys,
        salt: [0x5a; 32],
    }
}

/// Commit, wait out the minimum delay, reveal: the registered agent id.
pub(crate) async fn commit_and_register(
    chain: &Chain,
    client: &EthRegistryClient,
    request: &RegistrationRequest,
) -> [u8; 32] {
    client.commit(request).await.expect("commit");
    chain
        .advance(sage_registry_eth::COMMIT_MIN_DELAY_SECS)
        .await;
    client.register(request).await.expect("register").agent_id
}

/// The `reason` of a `Reverted` error; panics on anything else.
pub(crate) fn revert_reason<T: std::fmt::Debug>(
    result: Result<T, sage_registry_eth::EthRegistryError>,
) -> String {
    match result {
        Err(sage_registry_eth::EthRegistryError::Reverted { reason, .. }) => reason,
        other => panic!("expected a revert, got {other:?}"),
    }
}
