//! [`EthRegistryClient`]: one registry contract on one chain, reached over
//! HTTP JSON-RPC.
//!
//! Layer: registry I/O. Construction ([`EthRegistryClient::new`]) does no I/O;
//! [`EthRegistryClient::connect`] also checks that the node serves the
//! configured chain and that the address holds code. Writes need a
//! [`Sender`]; reads never do. The lifecycle calls live in `lifecycle`, the
//! reads in `read`, the alloy-to-plain conversions in `convert`.
//!
//! Every HTTP request has a timeout ([`ClientOptions::request_timeout`]), so a
//! node that hangs gives `Unreachable` rather than a stuck resolver.

mod convert;
mod lifecycle;
mod read;

use core::fmt;
use std::time::Duration;

use alloy::contract::SolCallBuilder;
use alloy::network::{Ethereum, EthereumWallet, Network, ReceiptResponse as _};
use alloy::primitives::{Address, B256};
use alloy::providers::fillers::{
    ChainIdFiller, GasFiller, JoinFill, NonceFiller, SimpleNonceManager,
};
use alloy::providers::{DynProvider, Identity, Provider, ProviderBuilder};
use alloy::signers::Signer as _;
use alloy::signers::local::PrivateKeySigner;
use alloy::sol_types::SolCall;
use alloy::transports::http::reqwest;
use zeroize::Zeroizing;

use crate::bindings::AgentCardRegistry::{self, AgentCardRegistryInstance};
use crate::error::EthRegistryError;
use crate::revert;
use crate::types::{Deployment, TxReceipt};

type Receipt = <Ethereum as Network>::ReceiptResponse;

/// Who signs and pays for transactions.
#[non_exhaustive]
pub enum Sender {
    /// No sender: a read-only client (the resolver's case).
    ReadOnly,
    /// A secp256k1 private key held by this process; transactions are signed
    /// locally. The bytes are wiped when the `Sender` is dropped.
    LocalKey(Zeroizing<[u8; 32]>),
    /// An account the node signs for (`eth_sendTransaction`): a dev chain
    /// such as `anvil --auto-impersonate`, or a node holding unlocked keys.
    NodeAccount([u8; 20]),
}

impl Sender {
    /// [`Sender::LocalKey`] from the key's 32 bytes.
    pub fn local_key(key: [u8; 32]) -> Self {
        Self::LocalKey(Zeroizing::new(key))
    }
}

impl fmt::Debug for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ReadOnly => f.write_str("ReadOnly"),
            Self::LocalKey(_) => f.write_str("LocalKey(..)"),
            Self::NodeAccount(a) => write!(f, "NodeAccount(0x{})", alloy::hex::encode(a)),
        }
    }
}

/// Timeouts of a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ClientOptions {
    /// Per HTTP request to the node.
    pub request_timeout: Duration,
    /// How long a write waits for its receipt.
    pub receipt_timeout: Duration,
}

impl Default for ClientOptions {
    fn default() -> Self {
        Self {
            request_timeout: Duration::from_secs(30),
            receipt_timeout: Duration::from_secs(120),
        }
    }
}

impl ClientOptions {
    /// Options with the given timeouts.
    pub fn new(request_timeout: Duration, receipt_timeout: Duration) -> Self {
        Self {
            request_timeout,
            receipt_timeout,
        }
    }
}

/// A client of one `AgentCardRegistry` deployment.
pub struct EthRegistryClient {
    registry: AgentCardRegistryInstance<DynProvider>,
    chain_id: u64,
    sender: Option<Address>,
    options: ClientOptions,
}

impl fmt::Debug for EthRegistryClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EthRegistryClient")
            .field("contract", self.registry.address())
            .field("chain_id", &self.chain_id)
            .field("sender", &self.sender)
            .finish_non_exhaustive()
    }
}

impl EthRegistryClient {
    /// A client of the registry at `contract` on chain `chain_id`, without
    /// contacting the node.
    ///
    /// # Errors
    /// [`EthRegistryError::InvalidUrl`], [`EthRegistryError::UnsupportedUrlScheme`],
    /// [`EthRegistryError::InvalidSignerKey`].
    pub fn new(
        rpc_url: &str,
        contract: [u8; 20],
        chain_id: u64,
        sender: Sender,
        options: ClientOptions,
    ) -> Result<Self, EthRegistryError> {
        let (provider, sender) = build_provider(rpc_url, chain_id, sender, options)?;
        Ok(Self {
            registry: AgentCardRegistry::new(Address::from(contract), provider),
            chain_id,
            sender,
            options,
        })
    }

    /// A client as [`EthRegistryClient::new`] with default options, after
    /// checking the node ([`EthRegistryClient::verify`]). `signer_key`, when
    /// given, signs transactions locally.
    ///
    /// # Errors
    /// As [`EthRegistryClient::new`] and [`EthRegistryClient::verify`].
    pub async fn connect(
        rpc_url: &str,
        contract: [u8; 20],
        chain_id: u64,
        signer_key: Option<[u8; 32]>,
    ) -> Result<Self, EthRegistryError> {
        let sender = match signer_key {
            Some(key) => Sender::local_key(key),
            None => Sender::ReadOnly,
        };
        let client = Self::new(
            rpc_url,
            contract,
            chain_id,
            sender,
            ClientOptions::default(),
        )?;
        client.verify().await?;
        Ok(client)
    }

    /// Checks that the node serves the configured chain and that the registry
    /// address holds code.
    ///
    /// # Errors
    /// [`EthRegistryError::ChainIdMismatch`], [`EthRegistryError::NoContract`],
    /// [`EthRegistryError::Unreachable`].
    pub async fn verify(&self) -> Result<(), EthRegistryError> {
        let provider = self.registry.provider();
        let actual = provider
            .get_chain_id()
            .await
            .map_err(revert::from_transport)?;
        if actual != self.chain_id {
            return Err(EthRegistryError::ChainIdMismatch {
                expected: self.chain_id,
                actual,
            });
        }
        let code = provider
            .get_code_at(*self.registry.address())
            .await
            .map_err(revert::from_transport)?;
        if code.is_empty() {
            return Err(EthRegistryError::NoContract);
        }
        Ok(())
    }

    /// Deploys a new registry from the compiled artifact, paid by
    /// `deployer_key`, who becomes the registry owner (activation delay and
    /// stake settings).
    ///
    /// # Errors
    /// [`EthRegistryError::Unreachable`], [`EthRegistryError::InvalidSignerKey`],
    /// [`EthRegistryError::Reverted`] or [`EthRegistryError::Malformed`] if no
    /// contract address comes back.
    pub async fn deploy(
        rpc_url: &str,
        deployer_key: [u8; 32],
    ) -> Result<Deployment, EthRegistryError> {
        let url = parse_url(rpc_url)?;
        let signer = local_signer(Zeroizing::new(deployer_key))?;
        let from = signer.address();
        let options = ClientOptions::default();
        let provider = fillers(None)
            .wallet(EthereumWallet::from(signer))
            .connect_reqwest(http_client(options)?, url)
            .erased();
        let deploy = AgentCardRegistry::deploy_builder(&provider).from(from);
        let gas_limit = with_headroom(deploy.estimate_gas().await.map_err(revert::from_contract)?);
        let pending = deploy
            .gas(gas_limit)
            .send()
            .await
            .map_err(revert::from_contract)?;
        let receipt = pending
            .with_timeout(Some(options.receipt_timeout))
            .get_receipt()
            .await
            .map_err(revert::from_pending)?;
        let receipt_summary = mined(&receipt, gas_limit)?;
        let address = receipt
            .contract_address()
            .ok_or(EthRegistryError::Malformed {
                what: "deployment receipt",
            })?;
        Ok(Deployment {
            address: address.into_array(),
            receipt: receipt_summary,
        })
    }

    /// The registry address.
    pub fn contract_address(&self) -> [u8; 20] {
        self.registry.address().into_array()
    }

    /// The configured chain id.
    pub fn chain_id(&self) -> u64 {
        self.chain_id
    }

    /// The account that sends this client's transactions, if any.
    pub fn sender_address(&self) -> Option<[u8; 20]> {
        self.sender.map(Address::into_array)
    }

    fn require_sender(&self) -> Result<Address, EthRegistryError> {
        self.sender.ok_or(EthRegistryError::NoSender)
    }

    /// Sends `call` from the sender and waits for its receipt.
    async fn transact<C: SolCall>(
        &self,
        call: SolCallBuilder<&DynProvider, C>,
    ) -> Result<(TxReceipt, Receipt), EthRegistryError> {
        let from = self.require_sender()?;
        let call = call.from(from);
        // Estimating here (instead of leaving it to the provider's gas
        // filler) surfaces a revert with its custom error before anything is
        // signed, and lets the limit carry headroom.
        let gas_limit = with_headroom(call.estimate_gas().await.map_err(revert::from_contract)?);
        let pending = call
            .gas(gas_limit)
            .send()
            .await
            .map_err(revert::from_contract)?;
        let receipt = pending
            .with_timeout(Some(self.options.receipt_timeout))
            .get_receipt()
            .await
            .map_err(revert::from_pending)?;
        Ok((mined(&receipt, gas_limit)?, receipt))
    }
}

/// The gas limit sent for a transaction whose estimate is `estimate`.
///
/// An estimate is exact only for the state and block it was computed
/// against. The contract stores `block.timestamp` (a record's `updatedAt`, a
/// commitment's time), and an `SSTORE` that writes the value already there
/// costs 100 gas where a changed value costs 2,900: an estimate made in the
/// same second as the record's last change, for a transaction mined in the
/// next second, falls short by 2,800 gas and the transaction runs out of gas
/// (seen on anvil, which gives blocks of the same second the same timestamp). A fifth on top covers that and any
/// other state drift between estimate and inclusion; unused gas is not paid.
fn with_headroom(estimate: u64) -> u64 {
    estimate.saturating_add(estimate / 5)
}

/// The summary of a mined receipt; a receipt with status 0 is a revert, and
/// one that used its whole `gas_limit` says so.
fn mined(receipt: &Receipt, gas_limit: u64) -> Result<TxReceipt, EthRegistryError> {
    if !receipt.status() {
        let reason = if receipt.gas_used() >= gas_limit {
            format!("ran out of gas on chain (limit {gas_limit})")
        } else {
            "reverted on chain".to_owned()
        };
        return Err(EthRegistryError::Reverted {
            reason,
            data: Vec::new(),
        });
    }
    Ok(TxReceipt {
        tx_hash: B256::from(receipt.transaction_hash()).0,
        block_number: receipt.block_number().ok_or(EthRegistryError::Malformed {
            what: "receipt block number",
        })?,
        gas_used: receipt.gas_used(),
        gas_limit,
    })
}

/// alloy is built without a TLS backend (none of the workspace's crates
/// needs one, and rustls/aws-lc would double this crate's build): `https`
/// is refused here rather than failing as `Unreachable` on every request.
fn parse_url(rpc_url: &str) -> Result<reqwest::Url, EthRegistryError> {
    let url: reqwest::Url = rpc_url.parse().map_err(|_| EthRegistryError::InvalidUrl)?;
    if url.scheme() != "http" {
        return Err(EthRegistryError::UnsupportedUrlScheme);
    }
    Ok(url)
}

fn http_client(options: ClientOptions) -> Result<reqwest::Client, EthRegistryError> {
    reqwest::Client::builder()
        .timeout(options.request_timeout)
        .build()
        .map_err(|_| EthRegistryError::InvalidUrl)
}

fn local_signer(key: Zeroizing<[u8; 32]>) -> Result<PrivateKeySigner, EthRegistryError> {
    PrivateKeySigner::from_bytes(&B256::from(*key)).map_err(|_| EthRegistryError::InvalidSignerKey)
}

type Fillers = JoinFill<
    JoinFill<JoinFill<Identity, GasFiller>, NonceFiller<SimpleNonceManager>>,
    ChainIdFiller,
>;

/// Gas estimation, a nonce from the node's pending count for every
/// transaction, and the chain id (`None`: asked from the node). alloy's
/// default nonce cache is avoided on purpose: it reserves a nonce before gas
/// estimation, so a call that reverts there would leave a gap and stall every
/// later transaction of the account.
fn fillers(chain_id: Option<u64>) -> ProviderBuilder<Identity, Fillers, Ethereum> {
    let builder = ProviderBuilder::new()
        .disable_recommended_fillers()
        .with_gas_estimation()
        .with_simple_nonce_management();
    match chain_id {
        Some(id) => builder.with_chain_id(id),
        None => builder.fetch_chain_id(),
    }
}

fn build_provider(
    rpc_url: &str,
    chain_id: u64,
    sender: Sender,
    options: ClientOptions,
) -> Result<(DynProvider, Option<Address>), EthRegistryError> {
    let url = parse_url(rpc_url)?;
    let http = http_client(options)?;
    Ok(match sender {
        Sender::ReadOnly => (
            fillers(Some(chain_id)).connect_reqwest(http, url).erased(),
            None,
        ),
        Sender::NodeAccount(account) => (
            fillers(Some(chain_id)).connect_reqwest(http, url).erased(),
            Some(Address::from(account)),
        ),
        Sender::LocalKey(key) => {
            let signer = local_signer(key)?.with_chain_id(Some(chain_id));
            let address = signer.address();
            let provider = fillers(Some(chain_id))
                .wallet(EthereumWallet::from(signer))
                .connect_reqwest(http, url)
                .erased();
            (provider, Some(address))
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sender_debug_never_shows_key_bytes() {
        let shown = format!("{:?}", Sender::local_key([0xab; 32]));
        assert_eq!(shown, "LocalKey(..)");
        let client = EthRegistryClient::new(
            "http://127.0.0.1:9",
            [1; 20],
            1,
            Sender::local_key([0xab; 32]),
            ClientOptions::default(),
        )
        .unwrap();
        assert!(!format!("{client:?}").contains("abab"));
    }

    #[test]
    fn invalid_signer_key_is_rejected() {
        let zero = EthRegistryClient::new(
            "http://127.0.0.1:9",
            [1; 20],
            1,
            Sender::local_key([0; 32]),
            ClientOptions::default(),
        );
        assert!(matches!(zero, Err(EthRegistryError::InvalidSignerKey)));
    }
}
