//! Test support (feature `test-support`): a local chain for end-to-end
//! tests, shared by this crate's tests and by every crate whose tests need
//! the registry on a real node (the CLI's and the node's).
//!
//! [`TestChain::start`] spawns anvil (npm `@foundry-rs/anvil`, installed
//! under `contracts/node_modules` by `scripts/ensure-chain-tools.sh`, or
//! the binary `SAGE_ANVIL` names), one fresh instance per call, on a free
//! port, with auto-impersonation on. A missing anvil fails the test, unless
//! `SAGE_SKIP_CHAIN=1` is set: then `start` prints SKIPPED and gives `None`.
//! [`TestChain::deploy`] deploys the registry from a dev account; the dev
//! accounts' keys and addresses, balances and the chain's clock are at
//! hand as plain bytes, like the rest of this crate's API (alloy stays
//! inside).
//!
//! Never enable this feature outside tests: it panics on failure.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, missing_docs)]

use std::io::Write as _;
use std::path::PathBuf;

use alloy::node_bindings::{Anvil, AnvilInstance};
use alloy::primitives::Address;
use alloy::providers::{DynProvider, Provider as _, ProviderBuilder};

use crate::EthRegistryClient;

/// Names the anvil binary to run instead of the npm one.
pub const ANVIL_VAR: &str = "SAGE_ANVIL";
/// Set to `1` to let chain tests pass without anvil (loudly).
pub const SKIP_VAR: &str = "SAGE_SKIP_CHAIN";

/// `SAGE_ANVIL`, else the binary `npm ci` put under `contracts/node_modules`.
pub fn anvil_path() -> PathBuf {
    if let Some(path) = std::env::var_os(ANVIL_VAR) {
        return PathBuf::from(path);
    }
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        other => other,
    };
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../contracts/node_modules/@foundry-rs")
        .join(format!("anvil-{os}-{arch}"))
        .join("bin/anvil")
}

/// A running anvil, killed when dropped (or by [`TestChain::stop`]).
pub struct TestChain {
    anvil: Option<AnvilInstance>,
    /// Its JSON-RPC URL (`http://localhost:PORT`).
    pub rpc_url: String,
    /// The chain id it serves (31337).
    pub chain_id: u64,
    raw: DynProvider,
}

impl core::fmt::Debug for TestChain {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TestChain")
            .field("rpc_url", &self.rpc_url)
            .field("chain_id", &self.chain_id)
            .field("running", &self.anvil.is_some())
            .finish_non_exhaustive()
    }
}

impl TestChain {
    /// A fresh anvil, nothing deployed. `None` (after a loud SKIPPED line
    /// naming `test`) only when anvil is missing and `SAGE_SKIP_CHAIN=1`.
    pub fn start(test: &str) -> Option<Self> {
        let path = anvil_path();
        if !path.is_file() {
            if std::env::var(SKIP_VAR).as_deref() == Ok("1") {
                // Straight to the stderr handle, past the test harness's
                // output capture, so that the skip shows in every run.
                let _ = writeln!(
                    std::io::stderr(),
                    "\n*** SKIPPED {test}: anvil not found at {} and {SKIP_VAR}=1 ***\n",
                    path.display()
                );
                return None;
            }
            panic!(
                "anvil not found at {}: run scripts/ensure-chain-tools.sh (or set {ANVIL_VAR} \
                 to an anvil binary; {SKIP_VAR}=1 skips the chain tests)",
                path.display()
            );
        }
        // --auto-impersonate lets a test send from an address whose key it
        // does not hold (the did.json vector's DID address).
        let anvil = Anvil::at(path).auto_impersonate().spawn();
        let raw = ProviderBuilder::new()
            .connect_http(anvil.endpoint_url())
            .erased();
        Some(Self {
            rpc_url: anvil.endpoint(),
            chain_id: anvil.chain_id(),
            anvil: Some(anvil),
            raw,
        })
    }

    fn anvil(&self) -> &AnvilInstance {
        self.anvil.as_ref().expect("anvil is running")
    }

    /// Dev account `index`'s private key (funded with 10,000 ETH).
    pub fn key(&self, index: usize) -> [u8; 32] {
        self.anvil().keys()[index].to_bytes().into()
    }

    /// Dev account `index`'s address.
    pub fn address(&self, index: usize) -> [u8; 20] {
        self.anvil().addresses()[index].into_array()
    }

    /// Deploys the registry from dev account `deployer`: its address.
    pub async fn deploy(&self, deployer: usize) -> [u8; 20] {
        EthRegistryClient::deploy(&self.rpc_url, self.key(deployer))
            .await
            .expect("deploy registry")
            .address
    }

    /// Gives `account` 100 ETH.
    pub async fn fund(&self, account: [u8; 20]) {
        let address = Address::from(account).to_string();
        let _: serde_json::Value = self
            .raw
            .raw_request("anvil_setBalance".into(), (address, "0x56BC75E2D63100000"))
            .await
            .expect("anvil_setBalance");
    }

    /// How many transactions `account` has sent (its next nonce).
    pub async fn nonce(&self, account: [u8; 20]) -> u64 {
        self.raw
            .get_transaction_count(Address::from(account))
            .await
            .expect("eth_getTransactionCount")
    }

    /// Moves the chain's clock forward and mines a block.
    pub async fn advance(&self, seconds: u64) {
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

    /// Kills the node (its URL then refuses connections).
    pub fn stop(&mut self) {
        drop(self.anvil.take());
    }
}
