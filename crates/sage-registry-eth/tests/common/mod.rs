//! A local chain for the end-to-end tests (the crate's `testing` module:
//! one fresh anvil per test), with the registry deployed on it, and agent
//! keys made by sage-core.

use std::ops::{Deref, DerefMut};

use sage_core::did::{Did, sign_pop};
use sage_core::primitives::{KeyType, SigningKey};
use sage_core::version::ProtocolVersion;
use sage_registry_eth::testing::TestChain;
use sage_registry_eth::{
    ClientOptions, EthRegistryClient, NewKey, RegistrationRequest, RegistryKeyType, Sender,
};

/// A fresh chain with the registry deployed on it by account 0.
pub(crate) struct Chain {
    node: TestChain,
    pub(crate) registry: [u8; 20],
}

impl Deref for Chain {
    type Target = TestChain;

    fn deref(&self) -> &TestChain {
        &self.node
    }
}

impl DerefMut for Chain {
    fn deref_mut(&mut self) -> &mut TestChain {
        &mut self.node
    }
}

impl Chain {
    /// A fresh anvil with the registry deployed by account 0. `None` (after a
    /// loud SKIPPED line) only when `SAGE_SKIP_CHAIN=1`; a missing anvil
    /// otherwise fails the test.
    pub(crate) async fn start(test: &str) -> Option<Self> {
        let node = TestChain::start(test)?;
        let registry = node.deploy(0).await;
        Some(Self { node, registry })
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
