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
use sage_registry_eth::testing::TestChain;
use sage_registry_eth::{
    ClientOptions, EthRegistry, EthRegistryClient, EthRegistryOptions, Sender,
};
use zeroize::Zeroizing;

use support::{config_in, get};

fn rng() -> impl sage_core::rand_core::CryptoRng {
    getrandom::rand_core::UnwrapErr(getrandom::SysRng)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_on_the_ethereum_registry_needs_its_did_registered_and_active() {
    let Some(chain) =
        TestChain::start("a_node_on_the_ethereum_registry_needs_its_did_registered_and_active")
    else {
        return;
    };
    // Dev account 0 deploys the registry, owns the DID and pays.
    let owner_key = chain.key(0);
    let owner = SigningKey::from_bytes(KeyType::Secp256k1, &owner_key).unwrap();
    let address = owner.verifying_key().ethereum_address().unwrap();
    let registry_address = chain.deploy(0).await;
    let contract = format!("0x{}", hex::encode(registry_address));
    let did = Did::parse(&format!("did:sage:ethereum:{address}")).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut config = config_in(dir.path());
    config.registry.backend = RegistryBackend::Ethereum;
    config.registry.ethereum.rpc_url = Some(chain.rpc_url.clone());
    config.registry.ethereum.contract_address = Some(contract.parse().unwrap());
    config.registry.ethereum.chain_id = Some(chain.chain_id);
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
        &chain.rpc_url,
        registry_address,
        chain.chain_id,
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
    chain.advance(61).await;
    registry.reveal(&pending).await.unwrap();

    // Registered but not active yet: still refused.
    let error = server::start(NodeOptions::new(config.clone()))
        .await
        .unwrap_err();
    assert!(
        matches!(error, NodeError::Identity(BootstrapError::NotActive { .. })),
        "{error}"
    );

    chain.advance(3601).await;
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
